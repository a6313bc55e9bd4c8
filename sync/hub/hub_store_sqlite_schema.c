/*
 * hub_store_sqlite_schema — the SQLite store's tables, for a new file and as
 * upgrades of an older one (see hub_store_sqlite_impl.h).
 *
 * Tables:
 *   venues(id, name, tz, slug, created_ms)
 *   set_seqs(venue_id, data_set, last)         each venue's change sequence per data set
 *   enroll_codes(code_hash, venue_id, expires_ms, used_ms, device_id)   only hashes of codes
 *   devices(id, venue_id, name, public_key, token_hash, ..., offset_ms) only hashes of tokens
 *   members(uid, venue_id, name, phone, code, tier, expires, deleted, merged_into, seq, ...)
 *   events(uid, venue_id, title, start_ms, end_ms, deleted, seq, ...)
 *   links(uid, venue_id, ..., slug, redirects, deleted, seq)
 *   checkins(id UNIQUE, venue_id, device_id, member_uid, ..., wall_ms, offset_ms, corrected_ms,
 *            day, akey, duplicate_of, reversed, received_ms, member_rid)
 *   attendances(akey, member_rid, checkin_rid)  the first check-in of each attendance
 *   records(id, kind, ..., session, action, detail, checkin, reason, seq)
 *                                               reversals and staff audit, whole
 *   rejections(device_id, id, reason, at_ms)    what a push answered "rejected": the
 *                                               kiosk's dead letters, as the hub knows them
 * The organizer console's (hub_store_sqlite_account.c):
 *   users(id, email UNIQUE, role, pwhash, setup_hash, setup_expires_ms, ...)
 *   user_venues(user_id, venue_id)              the venues an organizer or staff may see
 *   sessions(hash, user_id, created_ms, seen_ms) only hashes of session ids
 *   login_failures(key, at_ms)                  failed sign-ins of the last day
 *   console_audit(at_ms, user_id, venue_id, action, detail)
 *
 * The dashboard's (hub_store_sqlite_dash.c, which says which serves what):
 *   member_stats(member_rid, venue_id, name, expires_dn, visits, first_dn ... last_dn, last_ms, first_qr,
 *                first_event, days, months)     each current member's visits summed up
 *   day_stats(venue_id, dn, visits, first_timers, first_qr)   per venue-local day
 *   week_stats(venue_id, monday, members)       distinct members per week
 *   event_stats(event_uid, visits, first_timers)
 *   dash_dirty(kind, key)                       what changed since the last refresh
 *                                               (meta 'dash_checkin_mark': the check-ins it took)
 *   referrals(member_rid, referrer_rid, via, at_ms, day)      who brought whom
 *   live_days(day, slug, venue_id, redirects, missed, with_ref)   a live code's day
 *   ref_days(day, slug, ref, venue_id, n)       invites followed, per member code
 *
 * Member passes' (hub_store_sqlite_pass.c):
 *   pass_keys(venue_id, kid, public_key, sealed, created_ms, retired_ms, seq)
 *                                               signing keys, the secret sealed (hub_pass.h)
 *   pass_venues(venue_id, tiers_seq, slug UNIQUE, enabled, terms, updated_ms)
 *                                               the tier list's place in the passes set,
 *                                               the sign-up page's settings
 *   pass_tiers(venue_id, idx, name)             the tiers passes name, 1..15, append-only
 *   pass_members(venue_id, number, member_uid, last_issued_min, revoked_before, revoked_seq)
 *                                               each member's pass number, never reused
 *   pass_addresses(hash, venue_id, number, member_uid, pass, tier, expires, issued_ms, revoked_ms)
 *                                               private addresses: only hashes of tokens
 *
 * Schema versions (PRAGMA user_version): 1 the first; 2 keeps records whole
 * (session, action, detail, checkin, reason, seq); 3 adds the console's
 * tables, the kiosks' queue state and rejections, and the indexes a member's
 * or an event's page reads by; 4 adds the dashboard's; 5 member passes'. A
 * newer file is refused.
 */
#include "sync/hub/hub_store_sqlite_impl.h"

/*
 * What version 3 adds besides its new columns, in a new file and in an
 * upgrade alike. The check-in indexes carry reversed and duplicate_of, so an
 * event's or a member's count is read from the index alone. A member's
 * check-ins are found by the member's row number (checkins.member_rid, as
 * attendances key them), not by uid: a push of 1000 check-ins of 1000
 * members then adds small integer keys in the order the members were added,
 * where random uids would land on a different index page each (twice the
 * time a push takes to store).
 */
#define SCHEMA_V3 \
    "CREATE TABLE users(id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE," \
    " role TEXT NOT NULL CHECK(role IN ('staff', 'organizer', 'owner')), pwhash TEXT NOT NULL DEFAULT ''," \
    " setup_hash BLOB, setup_expires_ms INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL," \
    " disabled_ms INTEGER NOT NULL DEFAULT 0, password_ms INTEGER NOT NULL DEFAULT 0);" \
    "CREATE TABLE user_venues(user_id TEXT NOT NULL REFERENCES users(id)," \
    " venue_id TEXT NOT NULL REFERENCES venues(id), PRIMARY KEY(user_id, venue_id)) WITHOUT ROWID;" \
    "CREATE TABLE sessions(hash BLOB PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id)," \
    " created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL);" \
    "CREATE INDEX sessions_user ON sessions(user_id);" \
    "CREATE TABLE login_failures(key TEXT NOT NULL, at_ms INTEGER NOT NULL);" \
    "CREATE INDEX login_failures_key ON login_failures(key, at_ms);" \
    "CREATE INDEX login_failures_at ON login_failures(at_ms);" \
    "CREATE TABLE console_audit(at_ms INTEGER NOT NULL, user_id TEXT, venue_id TEXT, action TEXT NOT NULL," \
    " detail TEXT NOT NULL);" \
    "CREATE INDEX console_audit_venue ON console_audit(venue_id);" \
    "CREATE TABLE rejections(device_id TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL," \
    " at_ms INTEGER NOT NULL, PRIMARY KEY(device_id, id)) WITHOUT ROWID;" \
    "CREATE INDEX checkins_event ON checkins(event_uid, corrected_ms, reversed, duplicate_of)" \
    " WHERE event_uid IS NOT NULL;" \
    "CREATE INDEX checkins_member ON checkins(member_rid, corrected_ms, reversed, duplicate_of);" \
    "CREATE INDEX events_start ON events(venue_id, start_ms);" \
    "CREATE INDEX members_merged ON members(merged_into) WHERE merged_into IS NOT NULL;"

/*
 * What version 4 adds, in a new file and in an upgrade alike: the
 * dashboard's summaries (empty: the first dash_refresh fills them from every
 * check-in), referrals and live codes' days; counted check-ins by venue and
 * day; a venue's current members by tier and by expiry.
 */
#define SCHEMA_V4 \
    "CREATE TABLE member_stats(member_rid INTEGER PRIMARY KEY, venue_id TEXT NOT NULL, name TEXT NOT NULL," \
    " expires_dn INTEGER, visits INTEGER NOT NULL, first_dn INTEGER NOT NULL, second_dn INTEGER," \
    " third_dn INTEGER, tenth_dn INTEGER, last_dn INTEGER NOT NULL, last_ms INTEGER NOT NULL," \
    " first_qr INTEGER NOT NULL," \
    " first_event TEXT, days BLOB NOT NULL, months BLOB NOT NULL);" \
    "CREATE INDEX member_stats_first ON member_stats(venue_id, first_dn, second_dn, third_dn, tenth_dn," \
    " visits, first_qr, name, months);" \
    "CREATE INDEX member_stats_last ON member_stats(venue_id, last_dn, visits, first_dn, expires_dn, name," \
    " days);" \
    "CREATE INDEX member_stats_event ON member_stats(first_event) WHERE first_event IS NOT NULL;" \
    "CREATE TABLE day_stats(venue_id TEXT NOT NULL, dn INTEGER NOT NULL, visits INTEGER NOT NULL," \
    " first_timers INTEGER NOT NULL, first_qr INTEGER NOT NULL, PRIMARY KEY(venue_id, dn)) WITHOUT ROWID;" \
    "CREATE TABLE week_stats(venue_id TEXT NOT NULL, monday INTEGER NOT NULL, members INTEGER NOT NULL," \
    " PRIMARY KEY(venue_id, monday)) WITHOUT ROWID;" \
    "CREATE TABLE event_stats(event_uid TEXT PRIMARY KEY, visits INTEGER NOT NULL," \
    " first_timers INTEGER NOT NULL) WITHOUT ROWID;" \
    "CREATE TABLE dash_dirty(kind TEXT NOT NULL, key INTEGER NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID;" \
    "CREATE TABLE referrals(member_rid INTEGER PRIMARY KEY, referrer_rid INTEGER NOT NULL," \
    " via TEXT NOT NULL, at_ms INTEGER NOT NULL, day TEXT NOT NULL);" \
    "CREATE INDEX referrals_referrer ON referrals(referrer_rid, day);" \
    "CREATE TABLE live_days(day TEXT NOT NULL, slug TEXT NOT NULL, venue_id TEXT NOT NULL," \
    " redirects INTEGER NOT NULL DEFAULT 0, missed INTEGER NOT NULL DEFAULT 0," \
    " with_ref INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(day, slug)) WITHOUT ROWID;" \
    "CREATE TABLE ref_days(day TEXT NOT NULL, slug TEXT NOT NULL, ref TEXT NOT NULL, venue_id TEXT NOT NULL," \
    " n INTEGER NOT NULL, PRIMARY KEY(day, slug, ref)) WITHOUT ROWID;" \
    "CREATE INDEX checkins_day ON checkins(venue_id, day, member_rid)" \
    " WHERE duplicate_of IS NULL AND reversed = 0;" \
    "CREATE INDEX members_tier ON members(venue_id, tier) WHERE deleted = 0 AND merged_into IS NULL;" \
    "CREATE INDEX members_expires ON members(venue_id, expires)" \
    " WHERE expires <> '' AND deleted = 0 AND merged_into IS NULL;"

/* What version 5 adds, in a new file and in an upgrade alike: member passes. */
#define SCHEMA_V5 \
    "CREATE TABLE pass_keys(venue_id TEXT NOT NULL, kid INTEGER NOT NULL, public_key BLOB NOT NULL," \
    " sealed BLOB NOT NULL, created_ms INTEGER NOT NULL, retired_ms INTEGER NOT NULL DEFAULT 0," \
    " seq INTEGER NOT NULL, PRIMARY KEY(venue_id, kid)) WITHOUT ROWID;" \
    "CREATE TABLE pass_venues(venue_id TEXT PRIMARY KEY, tiers_seq INTEGER NOT NULL DEFAULT 0, slug TEXT UNIQUE," \
    " enabled INTEGER NOT NULL DEFAULT 0, terms TEXT NOT NULL DEFAULT '', updated_ms INTEGER NOT NULL DEFAULT 0);" \
    "CREATE TABLE pass_tiers(venue_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL," \
    " PRIMARY KEY(venue_id, idx), UNIQUE(venue_id, name)) WITHOUT ROWID;" \
    "CREATE TABLE pass_members(venue_id TEXT NOT NULL, number INTEGER NOT NULL, member_uid TEXT NOT NULL UNIQUE," \
    " last_issued_min INTEGER NOT NULL, revoked_before INTEGER NOT NULL DEFAULT 0," \
    " revoked_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(venue_id, number)) WITHOUT ROWID;" \
    "CREATE INDEX pass_members_revoked ON pass_members(venue_id, revoked_seq) WHERE revoked_seq > 0;" \
    "CREATE TABLE pass_addresses(hash BLOB PRIMARY KEY, venue_id TEXT NOT NULL, number INTEGER NOT NULL," \
    " member_uid TEXT NOT NULL, pass TEXT NOT NULL, tier TEXT NOT NULL, expires TEXT NOT NULL," \
    " issued_ms INTEGER NOT NULL, revoked_ms INTEGER NOT NULL DEFAULT 0);" \
    "CREATE INDEX pass_addresses_member ON pass_addresses(venue_id, number);"

/*
 * What version 6 adds, in a new file and in an upgrade alike: the open API's
 * tokens, and webhooks.
 *  - api_tokens: a token is shown once; the hub keeps the SHA-256 of it. Its
 *    check-ins are a device of its own (device_id), so they are stored,
 *    deduplicated and counted exactly as a kiosk's.
 *  - webhook_subs: a venue's subscriptions: the URL, the event types (a
 *    comma list), the signing secret (the receiver holds it too), and where
 *    delivery stands: cursor (the last event delivered or given up),
 *    attempts and next_ms for the event after it, the node holding the
 *    subscription (lease_until, lease_node) so that its events go out in
 *    order from one node at a time.
 *  - webhook_events: the durable queue: one row a change, written by the
 *    triggers (hsq_webhook_triggers) in the very transaction that makes the change (a crash
 *    loses both or neither); only while the venue has a subscription on.
 *    seq orders a venue's events (one writer at a time in SQLite).
 *  - webhook_deliveries: every attempt and its answer, for the console.
 *  - webhook_marks: events made from the clock (an event started, a link
 *    about to expire, a kiosk gone quiet), each made once.
 */
#define WEBHOOK_ON(venue) "EXISTS(SELECT 1 FROM webhook_subs WHERE venue_id = " venue " AND disabled_ms = 0)"
#define WEBHOOK_MEMBER(uid) \
    "(SELECT json_object('uid', m.uid, 'name', m.name, 'code', m.code) FROM members m WHERE m.uid = " uid ")"
#define SCHEMA_V6 \
    "CREATE TABLE api_tokens(id TEXT PRIMARY KEY, venue_id TEXT NOT NULL, name TEXT NOT NULL," \
    " scope TEXT NOT NULL CHECK(scope IN ('read', 'write')), hash BLOB NOT NULL UNIQUE, device_id TEXT NOT NULL," \
    " created_ms INTEGER NOT NULL, created_by TEXT, revoked_ms INTEGER NOT NULL DEFAULT 0," \
    " last_used_ms INTEGER NOT NULL DEFAULT 0, UNIQUE(venue_id, name));" \
    "CREATE TABLE webhook_subs(id TEXT PRIMARY KEY, venue_id TEXT NOT NULL, url TEXT NOT NULL, types TEXT NOT NULL," \
    " secret TEXT NOT NULL, created_ms INTEGER NOT NULL, created_by TEXT, disabled_ms INTEGER NOT NULL DEFAULT 0," \
    " disabled_why TEXT NOT NULL DEFAULT '', cursor INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0," \
    " next_ms INTEGER NOT NULL DEFAULT 0, lease_until INTEGER NOT NULL DEFAULT 0, lease_node TEXT NOT NULL DEFAULT '');" \
    "CREATE INDEX webhook_subs_venue ON webhook_subs(venue_id, disabled_ms);" \
    "CREATE TABLE webhook_events(seq INTEGER PRIMARY KEY AUTOINCREMENT, venue_id TEXT NOT NULL, type TEXT NOT NULL," \
    " body TEXT NOT NULL, created_ms INTEGER NOT NULL);" \
    "CREATE INDEX webhook_events_venue ON webhook_events(venue_id, seq);" \
    "CREATE TABLE webhook_deliveries(id INTEGER PRIMARY KEY, sub_id TEXT NOT NULL, event_seq INTEGER NOT NULL," \
    " type TEXT NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL, status INTEGER NOT NULL," \
    " ms INTEGER NOT NULL, outcome TEXT NOT NULL, why TEXT NOT NULL);" \
    "CREATE INDEX webhook_deliveries_sub ON webhook_deliveries(sub_id, id);" \
    "CREATE TABLE webhook_marks(kind TEXT NOT NULL, key TEXT NOT NULL, at_ms INTEGER NOT NULL," \
    " PRIMARY KEY(kind, key)) WITHOUT ROWID;"

/*
 * The triggers that fill the queue. A trigger runs for every row, and even
 * its WHEN cost a push of 100 000 check-ins some 0.3 s of the hub's time:
 * they exist only while the hub has a subscription (hub_store_sqlite_webhook.c
 * makes them with the first and drops them with the last).
 */
const char hsq_webhook_triggers[] =
    "CREATE TRIGGER IF NOT EXISTS webhook_checkin_created AFTER INSERT ON checkins WHEN " WEBHOOK_ON("NEW.venue_id")
    " BEGIN INSERT INTO webhook_events(venue_id, type, body, created_ms) VALUES(NEW.venue_id, 'checkin.created',"
    " json_object('id', NEW.id, 'venue', NEW.venue_id, 'member', json(" WEBHOOK_MEMBER("NEW.member_uid") "), 'event',"
    " NEW.event_uid, 'method', NEW.method, 'at_ms', NEW.corrected_ms, 'day', NEW.day, 'device', NEW.device_id,"
    " 'attendance', CASE WHEN NEW.duplicate_of IS NULL THEN 'new' ELSE 'duplicate' END), NEW.received_ms); END;"
    "CREATE TRIGGER IF NOT EXISTS webhook_checkin_reversed AFTER UPDATE OF reversed ON checkins"
    " WHEN NEW.reversed = 1 AND OLD.reversed = 0 AND " WEBHOOK_ON("NEW.venue_id")
    " BEGIN INSERT INTO webhook_events(venue_id, type, body, created_ms) VALUES(NEW.venue_id, 'checkin.reversed',"
    " json_object('id', NEW.id, 'venue', NEW.venue_id, 'member', json(" WEBHOOK_MEMBER("NEW.member_uid") "),"
    " 'event', NEW.event_uid), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;"
    "CREATE TRIGGER IF NOT EXISTS webhook_member_created AFTER INSERT ON members"
    " WHEN NEW.merged_into IS NULL AND NEW.deleted = 0 AND " WEBHOOK_ON("NEW.venue_id")
    " BEGIN INSERT INTO webhook_events(venue_id, type, body, created_ms) SELECT NEW.venue_id, t.value,"
    " json_object('uid', NEW.uid, 'venue', NEW.venue_id, 'name', NEW.name, 'code', NEW.code, 'tier', NEW.tier,"
    " 'expires', NEW.expires, 'provisional', json(CASE NEW.provisional WHEN 0 THEN 'false' ELSE 'true' END)),"
    " NEW.created_ms FROM json_each(CASE WHEN NEW.origin_device = 'signup'"
    " THEN '[\"member.created\",\"member.signed_up\"]' ELSE '[\"member.created\"]' END) t; END;";
const char hsq_webhook_untriggers[] = "DROP TRIGGER IF EXISTS webhook_checkin_created;"
				      "DROP TRIGGER IF EXISTS webhook_checkin_reversed;"
				      "DROP TRIGGER IF EXISTS webhook_member_created;";

const char hsq_schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE venues(id TEXT PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL, slug TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE set_seqs(venue_id TEXT NOT NULL, data_set TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(venue_id, data_set));"
    "CREATE TABLE enroll_codes(code_hash BLOB PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id),"
    " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER, device_id TEXT);"
    "CREATE TABLE devices(id TEXT PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id), name TEXT NOT NULL,"
    " public_key TEXT NOT NULL, token_hash BLOB NOT NULL, enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER,"
    " last_seen_ms INTEGER, offset_ms INTEGER NOT NULL DEFAULT 0, queue_pending INTEGER NOT NULL DEFAULT 0,"
    " queue_dead INTEGER NOT NULL DEFAULT 0, queue_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE members(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, name TEXT NOT NULL, phone TEXT,"
    " code TEXT, tier TEXT NOT NULL DEFAULT '', expires TEXT NOT NULL DEFAULT '',"
    " provisional INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, merged_into TEXT,"
    " seq INTEGER NOT NULL, origin_device TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX members_seq ON members(venue_id, seq);"
    "CREATE UNIQUE INDEX members_phone ON members(venue_id, phone)"
    " WHERE phone IS NOT NULL AND deleted = 0 AND merged_into IS NULL;"
    "CREATE UNIQUE INDEX members_code ON members(venue_id, code)"
    " WHERE code IS NOT NULL AND deleted = 0 AND merged_into IS NULL;"
    "CREATE TABLE events(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, title TEXT NOT NULL,"
    " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " seq INTEGER NOT NULL, origin_device TEXT, created_ms INTEGER NOT NULL);"
    "CREATE INDEX events_seq ON events(venue_id, seq);"
    "CREATE TABLE links(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, platform TEXT NOT NULL, label TEXT NOT NULL,"
    " url TEXT NOT NULL, expires_ms INTEGER, cap INTEGER, event_uid TEXT, is_default INTEGER NOT NULL DEFAULT 0,"
    " slug TEXT NOT NULL, redirects INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,"
    " seq INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX links_seq ON links(venue_id, seq);"
    "CREATE INDEX links_slug ON links(slug);"
    "CREATE TABLE checkins(id TEXT NOT NULL UNIQUE, venue_id TEXT NOT NULL, device_id TEXT NOT NULL,"
    " member_uid TEXT NOT NULL, member_sent TEXT NOT NULL, event_uid TEXT, method TEXT NOT NULL,"
    " wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL, boot TEXT NOT NULL, device_seq INTEGER NOT NULL,"
    " visit INTEGER NOT NULL, flags INTEGER NOT NULL, kiosk_day TEXT NOT NULL, offset_ms INTEGER NOT NULL,"
    " corrected_ms INTEGER NOT NULL, day TEXT NOT NULL, akey TEXT NOT NULL, duplicate_of TEXT,"
    " reversed INTEGER NOT NULL DEFAULT 0, received_ms INTEGER NOT NULL, member_rid INTEGER);"
    "CREATE INDEX checkins_venue ON checkins(venue_id);"
    /* small integer keys: a push's 1000 inserts land on few pages */
    "CREATE TABLE attendances(akey INTEGER NOT NULL, member_rid INTEGER NOT NULL, checkin_rid INTEGER NOT NULL,"
    " PRIMARY KEY(akey, member_rid)) WITHOUT ROWID;"
    "CREATE TABLE records(id TEXT PRIMARY KEY, kind TEXT NOT NULL, venue_id TEXT NOT NULL,"
    " device_id TEXT NOT NULL, body TEXT NOT NULL, wall_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
    " session TEXT, action TEXT, detail TEXT, checkin TEXT, reason TEXT, seq INTEGER);"
    "CREATE INDEX records_venue ON records(venue_id);" SCHEMA_V3 SCHEMA_V4 SCHEMA_V5 SCHEMA_V6;

/*
 * From each version to the next; hsq_migrations[v - 1] takes version v to
 * v + 1 (unsized here, so that a step too many or too few against
 * HSQ_SCHEMA_VERSION conflicts with the declaration). A file whose version
 * number was set back after a step had run (by hand, or by a tool that
 * copies the number and not the tables) has that step's changes already: a
 * row from its done_if query says so, and only the number moves on.
 */
const hsq_migration hsq_migrations[] = {
    /* 1 -> 2: records kept whole. Rows stored before kept only a reversal's check-in (in body). */
    {"ALTER TABLE records ADD COLUMN session TEXT; ALTER TABLE records ADD COLUMN action TEXT;"
     " ALTER TABLE records ADD COLUMN detail TEXT; ALTER TABLE records ADD COLUMN checkin TEXT;"
     " ALTER TABLE records ADD COLUMN reason TEXT; ALTER TABLE records ADD COLUMN seq INTEGER;"
     " UPDATE records SET checkin = json_extract(body, '$.checkin') WHERE kind = 'reversal';"
     " CREATE INDEX records_venue ON records(venue_id);",
     "SELECT 1 FROM pragma_table_info('records') WHERE name = 'seq'"},
    /* 2 -> 3: the console. Rejections before it were not kept: a kiosk's older dead letters go uncounted. */
    {"ALTER TABLE devices ADD COLUMN queue_pending INTEGER NOT NULL DEFAULT 0;"
     " ALTER TABLE devices ADD COLUMN queue_dead INTEGER NOT NULL DEFAULT 0;"
     " ALTER TABLE devices ADD COLUMN queue_ms INTEGER NOT NULL DEFAULT 0;"
     " ALTER TABLE checkins ADD COLUMN member_rid INTEGER;"
     " UPDATE checkins SET member_rid = (SELECT m.rowid FROM members m WHERE m.uid = checkins.member_uid);"
     SCHEMA_V3,
     "SELECT 1 FROM pragma_table_info('devices') WHERE name = 'queue_pending'"},
    /* 3 -> 4: the dashboard. Its summaries start empty; the first dash_refresh reads every check-in. */
    {SCHEMA_V4, "SELECT 1 FROM sqlite_master WHERE name = 'member_stats'"},
    /* 4 -> 5: member passes. */
    {SCHEMA_V5, "SELECT 1 FROM sqlite_master WHERE name = 'pass_keys'"},
    /* 5 -> 6: the open API's tokens, and webhooks. */
    {SCHEMA_V6, "SELECT 1 FROM sqlite_master WHERE name = 'api_tokens'"},
};
