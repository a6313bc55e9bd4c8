/*
 * store — the kiosk's local SQLite database: opening, schema, migrations,
 * errors and settings. Members live in store_member.c, events, check-ins and
 * the outbox in store_checkin.c; every SQL statement of the kiosk is in the
 * table sql[] below, next to the schema it runs against.
 *
 * FILE IDENTITY
 *
 * A tingzi database is an SQLite file with PRAGMA application_id = 0x54475a49
 * ("TGZI") and PRAGMA user_version = the schema version. store_open() reads
 * both before it writes anything, and refuses, leaving the file as it found
 * it byte for byte:
 *
 *   - a file SQLite cannot read as a database (STORE_ERR_NOTADB);
 *   - an SQLite database with tables but another application_id: some other
 *     program's file, given to us by mistake (STORE_ERR_NOTADB);
 *   - a user_version above STORE_SCHEMA_VERSION: written by a newer tingzi,
 *     whose changes this program cannot know how to keep (STORE_ERR_TOO_NEW).
 *
 * An empty file, or one that does not exist yet (with STORE_OPEN_CREATE),
 * is a new database: migrations take it to the current version.
 *
 * SCHEMA, VERSION 7 (the version that added a table or column is named beside it)
 *
 *   settings(key TEXT PRIMARY KEY, value TEXT)
 *       device_id   32 hex digits, random, written with the database; names
 *                   this kiosk to the hub for as long as the file lives
 *       device_seq  the last per-device sequence number handed out
 *       venue_name, language, ...  whatever the kiosk keeps
 *
 *   members(id INTEGER PRIMARY KEY, uid UNIQUE, name, phone UNIQUE, code UNIQUE,
 *           tier, expires, provisional, created_ms, updated_ms)
 *       uid is a random 128-bit id (32 hex digits): the member's name on the
 *       wire; id is only this file's row number. phone (digits only) and code
 *       are NULL when absent, so UNIQUE holds only among the present ones.
 *       expires is '' or YYYY-MM-DD. provisional = 1 for a walk-in registered
 *       at the kiosk and not yet in an imported roster.
 *
 *   events(id INTEGER PRIMARY KEY, uid UNIQUE, title, start_ms, end_ms)
 *       CHECK(end_ms > start_ms); index on start_ms for "the event now".
 *
 *   checkins(id TEXT PRIMARY KEY, member_id REFERENCES members, event_id
 *            REFERENCES events (NULL for a drop-in), attendance_key, method,
 *            wall_ms, mono_ms, boot_id, device_id, device_seq, visit_no, expired)
 *       id is random, 128 bits, 32 hex digits, made on the device, so the hub
 *       can take the same row twice and keep it once. attendance_key is
 *       'e:<event uid>' for an event and 'd:YYYY-MM-DD' for a drop-in visit,
 *       and UNIQUE(member_id, attendance_key) makes "once per event, once per
 *       day" a rule of the file rather than of the C code. That unique index
 *       begins with member_id, so it is also the index that counts a member's
 *       visits: "SELECT count(*) ... WHERE member_id=?" reads only that
 *       member's entries of it (a covering index scan), however many other
 *       rows the table holds. Indexes on (event_id, wall_ms) and wall_ms serve
 *       the lists.
 *
 *   checkins.join_qr                                              (version 7)
 *       1 when the welcome screen that greeted this check-in carried the
 *       group's join QR (links_welcome_join(): a first visit or a walk-in,
 *       with a group link applying), decided in the check-in's own
 *       transaction; pushed as flag bit 1. Check-ins from before version 7
 *       keep 0: whether they were shown one is not known.
 *
 *   member_generation(id = 1, gen)                              (version 6)
 *       One row whose gen triggers on members move with every insert,
 *       update and delete, whoever makes it: a running kiosk compares it
 *       with the gen its member index was built from and rebuilds the index
 *       when another process (members import, a pull) changed the members.
 *
 *   outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind, record_id UNIQUE,
 *          body, created_ms)
 *       What the sync worker must still send, in order. kind is 'checkin',
 *       'member', 'event', 'reversal' or 'audit'; body is a JSON object made
 *       by SQLite's json_object() from the committed row, so it says exactly
 *       what the row says. seq never goes back, even after sent rows are
 *       deleted. exported_ms (version 3): written to a .tzb file at that time.
 *
 *   members, events and links gain origin ('local' or 'hub'), uploaded and
 *   active (version 3): where a row came from, whether the hub has it, and
 *   whether the hub still lists it.
 *
 *   dead_letters(seq, kind, record_id, ...)                     (version 3)
 *       Records the hub refused for good, with the reason: kept, shown to
 *       staff and by `tingzi sync dead-letters`, never sent again.
 *
 *   pull_cursors(data_set, ...), pull_stage(data_set, page, items)  (version 3)
 *       Where each pulled data set stands, and the pages of a snapshot
 *       gathered until its last page has come, so a roster is never half
 *       replaced.
 *
 *   checkins.reversed, reversals(id, checkin_id UNIQUE, reason, session,
 *   wall_ms), audit(id, session, action, detail, wall_ms)     (version 5)
 *       Check-ins undone by staff, and every action of staff mode, each
 *       under the staff session's id; both go to the hub through the outbox.
 *
 *   links(id INTEGER PRIMARY KEY, uid UNIQUE, platform, label, url, expires_ms,
 *         member_cap, event_id REFERENCES events, is_default, created_ms,
 *         updated_ms)                                          (version 2)
 *       The group links that join QR codes carry. platform is one of wechat,
 *       line, telegram, discord, url; url is http(s), at most 1024 bytes;
 *       expires_ms NULL means it does not expire; event_id NULL means the
 *       whole venue. At most one link is the venue default (a partial unique
 *       index). sync/links.c decides which links apply at a given time.
 *       live_url (version 3), for a link pulled from the hub, is its stable
 *       /j/SLUG address: every read of a link carries it, and the join and
 *       welcome screens encode it instead of url when it is set.
 *
 *   pass_keys(kid, public_key, retired), pass_tiers(idx, name),
 *   pass_revoked(number, before_min)                          (version 8)
 *       What the kiosk checks signed member passes with (sync/pass.h), from
 *       the hub's `passes` data set: the venue's Ed25519 public keys by key
 *       id, the tier names a pass names by index, and per member pass number
 *       the minute at or before which their passes are void. Version 8 also
 *       lets pull_cursors hold 'passes'.
 *
 * DURABILITY
 *
 * journal_mode=WAL and synchronous=FULL: when COMMIT returns, the WAL has
 * been fsync()ed, and the transaction survives a crash or a power cut. Every
 * write that belongs together is one BEGIN IMMEDIATE transaction: a check-in,
 * its outbox row and the device sequence; a walk-in member, its outbox row
 * and the device sequence; a whole CSV import. On any error the transaction
 * is rolled back before the function returns its error, so a caller never
 * sees a write half done, and never sees STORE_OK before the COMMIT did.
 * BEGIN IMMEDIATE takes the write lock first, so two connections (the UI and
 * the sync worker) never deadlock upgrading read locks; a busy handler waits
 * up to STORE_BUSY_MS for the other one.
 *
 * MIGRATIONS
 *
 * migrations[v] takes the schema from version v to v + 1 in one transaction
 * that also sets user_version, so a crash leaves either version. The version
 * is read again after BEGIN IMMEDIATE, so two programs opening a new file at
 * once do not both create it. A migration is never edited once released;
 * the next change is a new entry.
 *
 * CHECKPOINTS
 *
 * A commit that finds the WAL longer than wal_autocheckpoint pages copies it
 * back into the database before it returns, and that copy (two fsync()s and
 * scattered page writes) is the slowest thing a check-in can meet. SQLite's
 * default of 1000 pages made every ~95th check-in take 8-10 ms in a database
 * of a million check-ins; at 100 pages every ~10th takes about 2 ms, and the
 * rest about 0.5 ms. A kiosk that calls store_checkpoint() when it is idle
 * keeps the WAL short, and then check-ins meet no checkpoint at all.
 * journal_size_limit gives back the space of a WAL that a big import grew.
 *
 * READ-ONLY
 *
 * A file or folder that cannot be written (file mode, a read-only mount, an
 * immutable file) is refused with STORE_ERR_READONLY, or with
 * STORE_OPEN_READONLY_OK opened for reading: every write then answers
 * STORE_ERR_READONLY, and PRAGMA query_only backs that up inside SQLite. A
 * WAL database in a folder where SQLite cannot create its -shm file can only
 * be read as "immutable"; that is done only when no -wal file holds data.
 */
#include "app/store/store_impl.h"
#include "sync/check.h"

#include "sync/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define STORE_APP_ID    0x54475a49 /* "TGZI" */
#define STORE_BUSY_MS   5000
#define STORE_WAL_PAGES "100" /* see CHECKPOINTS above */

static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE members(id INTEGER PRIMARY KEY,"
    " uid TEXT NOT NULL UNIQUE CHECK(length(uid) = 32),"
    " name TEXT NOT NULL CHECK(name <> ''),"
    " phone TEXT UNIQUE CHECK(phone <> '' AND phone NOT GLOB '*[^0-9]*'),"
    " code TEXT UNIQUE CHECK(code <> ''),"
    " tier TEXT NOT NULL DEFAULT '',"
    " expires TEXT NOT NULL DEFAULT ''"
    "  CHECK(expires = '' OR expires GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " provisional INTEGER NOT NULL DEFAULT 0 CHECK(provisional IN (0, 1)),"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
    " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, CHECK(end_ms > start_ms));"
    "CREATE INDEX events_start ON events(start_ms);"
    "CREATE TABLE checkins(id TEXT NOT NULL PRIMARY KEY CHECK(length(id) = 32),"
    " member_id INTEGER NOT NULL REFERENCES members(id),"
    " event_id INTEGER REFERENCES events(id),"
    " attendance_key TEXT NOT NULL, method TEXT NOT NULL,"
    " wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL, boot_id TEXT NOT NULL,"
    " device_id TEXT NOT NULL, device_seq INTEGER NOT NULL,"
    " visit_no INTEGER NOT NULL, expired INTEGER NOT NULL CHECK(expired IN (0, 1)),"
    " UNIQUE(member_id, attendance_key));"
    "CREATE INDEX checkins_event ON checkins(event_id, wall_ms);"
    "CREATE INDEX checkins_time ON checkins(wall_ms);"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    " record_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL CHECK(json_valid(body)),"
    " created_ms INTEGER NOT NULL);",
    /* 1 -> 2: group links */
    "CREATE TABLE links(id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE CHECK(length(uid) = 32),"
    " platform TEXT NOT NULL CHECK(platform IN ('wechat', 'line', 'telegram', 'discord', 'url')),"
    " label TEXT NOT NULL CHECK(label <> '' AND length(CAST(label AS BLOB)) < 160),"
    " url TEXT NOT NULL CHECK(url GLOB 'http*://?*' AND length(CAST(url AS BLOB)) <= 1024),"
    " expires_ms INTEGER, member_cap INTEGER CHECK(member_cap > 0),"
    " event_id INTEGER REFERENCES events(id) ON DELETE CASCADE,"
    " is_default INTEGER NOT NULL DEFAULT 0 CHECK(is_default IN (0, 1)),"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX links_one_default ON links(is_default) WHERE is_default = 1;"
    "CREATE INDEX links_event ON links(event_id);",
    /* 2 -> 3: sync with tingzi-hub */
    "ALTER TABLE members ADD COLUMN origin TEXT NOT NULL DEFAULT 'local' CHECK(origin IN ('local', 'hub'));"
    "ALTER TABLE members ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0 CHECK(uploaded IN (0, 1));"
    "ALTER TABLE members ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK(active IN (0, 1));"
    "ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'local' CHECK(origin IN ('local', 'hub'));"
    "ALTER TABLE events ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0 CHECK(uploaded IN (0, 1));"
    "ALTER TABLE events ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK(active IN (0, 1));"
    "ALTER TABLE links ADD COLUMN origin TEXT NOT NULL DEFAULT 'local' CHECK(origin IN ('local', 'hub'));"
    "ALTER TABLE links ADD COLUMN live_url TEXT CHECK(live_url GLOB 'http*://?*');"
    "ALTER TABLE outbox ADD COLUMN exported_ms INTEGER;"
    "CREATE TABLE dead_letters(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL,"
    " body TEXT NOT NULL, reason TEXT NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE pull_cursors(data_set TEXT PRIMARY KEY CHECK(data_set IN ('members', 'events', 'links')),"
    " cursor INTEGER NOT NULL DEFAULT 0, resetting INTEGER NOT NULL DEFAULT 0, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE pull_stage(data_set TEXT NOT NULL, page INTEGER NOT NULL,"
    " items TEXT NOT NULL CHECK(json_valid(items)), PRIMARY KEY(data_set, page));",
    /* 3 -> 4: a push reads members and events first without scanning the queue */
    "CREATE INDEX outbox_first ON outbox(seq) WHERE kind IN ('member', 'event');",
    /* 4 -> 5: staff mode: undone check-ins and the audit of staff actions */
    "ALTER TABLE checkins ADD COLUMN reversed INTEGER NOT NULL DEFAULT 0 CHECK(reversed IN (0, 1));"
    "CREATE TABLE reversals(id TEXT PRIMARY KEY CHECK(length(id) = 32),"
    " checkin_id TEXT NOT NULL UNIQUE REFERENCES checkins(id), reason TEXT NOT NULL,"
    " session TEXT NOT NULL, wall_ms INTEGER NOT NULL);"
    "CREATE TABLE audit(id TEXT PRIMARY KEY CHECK(length(id) = 32), session TEXT NOT NULL,"
    " action TEXT NOT NULL, detail TEXT NOT NULL CHECK(json_valid(detail)), wall_ms INTEGER NOT NULL);",
    /* 5 -> 6: the members' generation, so a running kiosk sees another process's import */
    "CREATE TABLE member_generation(id INTEGER PRIMARY KEY CHECK(id = 1), gen INTEGER NOT NULL);"
    "INSERT INTO member_generation VALUES(1, 0);"
    "CREATE TRIGGER members_added AFTER INSERT ON members"
    " BEGIN UPDATE member_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER members_changed AFTER UPDATE ON members"
    " BEGIN UPDATE member_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER members_removed AFTER DELETE ON members"
    " BEGIN UPDATE member_generation SET gen = gen + 1; END;",
    /* 6 -> 7: whether the welcome carried the group's join QR (earlier check-ins: 0, not known) */
    "ALTER TABLE checkins ADD COLUMN join_qr INTEGER NOT NULL DEFAULT 0 CHECK(join_qr IN (0, 1));",
    /* 7 -> 8: signed passes: the venue's keys, tier names and revocations, and their pull cursor
     * (written so that it can run again over its own work: a file whose number was set back) */
    "CREATE TABLE IF NOT EXISTS pass_keys(kid INTEGER PRIMARY KEY CHECK(kid BETWEEN 1 AND 63),"
    " public_key TEXT NOT NULL CHECK(length(public_key) = 64 AND public_key NOT GLOB '*[^0-9a-f]*'),"
    " retired INTEGER NOT NULL DEFAULT 0 CHECK(retired IN (0, 1)));"
    "CREATE TABLE IF NOT EXISTS pass_tiers(idx INTEGER PRIMARY KEY CHECK(idx BETWEEN 1 AND 15), name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pass_revoked(number INTEGER PRIMARY KEY CHECK(number >= 1),"
    " before_min INTEGER NOT NULL CHECK(before_min >= 0));"
    "CREATE TABLE pull_cursors_8(data_set TEXT PRIMARY KEY"
    " CHECK(data_set IN ('members', 'events', 'links', 'passes')),"
    " cursor INTEGER NOT NULL DEFAULT 0, resetting INTEGER NOT NULL DEFAULT 0, updated_ms INTEGER NOT NULL);"
    "INSERT INTO pull_cursors_8 SELECT data_set, cursor, resetting, updated_ms FROM pull_cursors;"
    "DROP TABLE pull_cursors;"
    "ALTER TABLE pull_cursors_8 RENAME TO pull_cursors;",
};

/* a check-in's fields are read from its body by store_sync.c's each_rec() */
#define OUTBOX_COLS "seq, kind, record_id, body"
#define MEMBER_COLS "id, name, ifnull(phone, ''), ifnull(code, ''), tier, expires, provisional, uid"
#define LINK_COLS                                                                                            \
	"id, platform, label, url, ifnull(expires_ms, 0), ifnull(member_cap, 0), ifnull(event_id, 0), "      \
	"is_default, ifnull(live_url, '')"
#define CHECKIN_COLS                                                                                         \
	"c.id, c.member_id, ifnull(c.event_id, 0), c.method, c.wall_ms, c.mono_ms, c.boot_id, c.device_seq," \
	" c.visit_no, c.expired, c.reversed, c.join_qr"
#define ROW_COLS CHECKIN_COLS ", m.name, ifnull(m.code, ''), ifnull(e.title, '')"
#define ROW_FROM                                                                                             \
	" FROM checkins c JOIN members m ON m.id = c.member_id LEFT JOIN events e ON e.id = c.event_id"

static const char *const sql[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [Q_SETTING_SET] = "INSERT INTO settings(key, value) VALUES(?1, ?2)"
		      " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE id = ?1",
    [Q_MEMBERS_ALL] = "SELECT " MEMBER_COLS " FROM members WHERE active = 1 ORDER BY id",
    [Q_MEMBER_COUNT] = "SELECT count(*) FROM members WHERE active = 1",
    [Q_MEMBER_GENERATION] = "SELECT gen FROM member_generation",
    [Q_MEMBER_BY_CODE] = "SELECT " MEMBER_COLS " FROM members WHERE code = ?1",
    [Q_MEMBER_BY_PHONE] = "SELECT " MEMBER_COLS " FROM members WHERE phone = ?1",
    [Q_MEMBER_INSERT] = "INSERT INTO members(uid, name, phone, code, tier, expires, provisional, created_ms,"
			" updated_ms) VALUES(?1, ?2, nullif(?3, ''), nullif(?4, ''), ?5, ?6, ?7, ?8, ?8)",
    [Q_MEMBER_UPDATE] = "UPDATE members SET name = ?2, phone = nullif(?3, ''), code = nullif(?4, ''),"
			" tier = ?5, expires = ?6, provisional = 0, updated_ms = ?7 WHERE id = ?1",
    [Q_EVENT_INSERT] = "INSERT INTO events(uid, title, start_ms, end_ms) VALUES(?1, ?2, ?3, ?4)",
    /* the event staff chose (setting current_event) while it has not ended, else the one running now */
    [Q_EVENT_CURRENT] = "SELECT id, title, start_ms, end_ms FROM events WHERE active = 1 AND end_ms > ?1 AND"
			" (id = (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'current_event')"
			" OR start_ms <= ?1)"
			" ORDER BY id = (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'current_event') DESC,"
			" start_ms DESC, id DESC LIMIT 1",
    [Q_EVENT_GET] = "SELECT id, title, start_ms, end_ms FROM events WHERE id = ?1",
    [Q_EVENT_UID] = "SELECT uid FROM events WHERE id = ?1",
    [Q_EVENTS_ALL] = "SELECT id, title, start_ms, end_ms FROM events WHERE active = 1 ORDER BY start_ms, id",
    [Q_ATTENDANCE] =
	"SELECT " CHECKIN_COLS " FROM checkins c WHERE c.member_id = ?1 AND c.attendance_key = ?2",
    [Q_VISITS] = "SELECT count(*) FROM checkins WHERE member_id = ?1 AND reversed = 0",
    [Q_CHECKIN_INSERT] =
	"INSERT INTO checkins(id, member_id, event_id, attendance_key, method, wall_ms, mono_ms,"
	" boot_id, device_id, device_seq, visit_no, expired, join_qr)"
	" VALUES(?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [Q_OUTBOX_CHECKIN] = "INSERT INTO outbox(kind, record_id, body, created_ms)"
			 " SELECT 'checkin', c.id, json_object('id', c.id, 'member_uid', m.uid,"
			 " 'event_uid', e.uid, 'attendance_key', c.attendance_key, 'method', c.method,"
			 " 'wall_ms', c.wall_ms, 'mono_ms', c.mono_ms, 'boot_id', c.boot_id,"
			 " 'device_id', c.device_id, 'device_seq', c.device_seq, 'visit_no', c.visit_no,"
			 " 'expired', json(CASE c.expired WHEN 0 THEN 'false' ELSE 'true' END),"
			 " 'join_qr', json(CASE c.join_qr WHEN 0 THEN 'false' ELSE 'true' END)), c.wall_ms"
			 " FROM checkins c JOIN members m ON m.id = c.member_id"
			 " LEFT JOIN events e ON e.id = c.event_id WHERE c.id = ?1",
    [Q_OUTBOX_MEMBER] = "INSERT INTO outbox(kind, record_id, body, created_ms)"
			" SELECT 'member', uid, json_object('uid', uid, 'name', name, 'phone', phone, 'code', code,"
			" 'provisional', json(CASE provisional WHEN 0 THEN 'false' ELSE 'true' END),"
			" 'created_ms', created_ms, 'device_id', ?2, 'device_seq', ?3), created_ms"
			" FROM members WHERE id = ?1",
    [Q_OUTBOX_COUNT] = "SELECT count(*) FROM outbox",
    [Q_CHECKINS_ALL] = "SELECT " ROW_COLS ROW_FROM " ORDER BY c.wall_ms, c.device_seq",
    [Q_CHECKINS_EVENT] =
	"SELECT " ROW_COLS ROW_FROM " WHERE c.event_id = ?1 ORDER BY c.wall_ms, c.device_seq",
    [Q_LINK_INSERT] = "INSERT INTO links(uid, platform, label, url, expires_ms, member_cap, event_id,"
		      " is_default, created_ms, updated_ms)"
		      " VALUES(?1, ?2, ?3, ?4, nullif(?5, 0), nullif(?6, 0), nullif(?7, 0), ?8, ?9, ?9)",
    [Q_LINK_CLEAR_DEFAULT] = "UPDATE links SET is_default = 0, updated_ms = ?1 WHERE is_default = 1",
    [Q_LINK_SET_DEFAULT] = "UPDATE links SET is_default = 1, updated_ms = ?2 WHERE id = ?1",
    [Q_LINK_DELETE] = "DELETE FROM links WHERE id = ?1",
    [Q_LINK_GET] = "SELECT " LINK_COLS " FROM links WHERE id = ?1",
    [Q_LINKS_ALL] = "SELECT " LINK_COLS " FROM links ORDER BY is_default DESC, id",
    /* ---- sync (store_sync.c); pulled items are canonical JSON made by app/sync/wire.c ---- */
    [Q_ENQUEUE_MEMBERS] = "INSERT INTO outbox(kind, record_id, body, created_ms)"
			  " SELECT 'member', uid, json_object('uid', uid, 'name', name, 'phone', phone,"
			  " 'code', code, 'provisional', json(CASE provisional WHEN 0 THEN 'false' ELSE 'true' END),"
			  " 'created_ms', created_ms, 'device_id', ?2, 'device_seq', 0), ?1"
			  " FROM members WHERE origin = 'local' AND uploaded = 0 AND active = 1"
			  " ORDER BY id ON CONFLICT(record_id) DO NOTHING",
    [Q_ENQUEUE_EVENTS] = "INSERT INTO outbox(kind, record_id, body, created_ms)"
			 " SELECT 'event', uid, json_object('uid', uid, 'title', title, 'start_ms', start_ms,"
			 " 'end_ms', end_ms, 'device_id', ?2, 'device_seq', 0), ?1"
			 " FROM events WHERE origin = 'local' AND uploaded = 0 AND active = 1"
			 " ORDER BY id ON CONFLICT(record_id) DO NOTHING",
    [Q_OUTBOX_FIRST] = "SELECT " OUTBOX_COLS " FROM outbox WHERE kind IN ('member', 'event')"
		       " ORDER BY seq LIMIT ?1",
    [Q_OUTBOX_REST] = "SELECT " OUTBOX_COLS " FROM outbox WHERE kind NOT IN ('member', 'event')"
		      " ORDER BY seq LIMIT ?1",
    [Q_OUTBOX_EXPORT] = "SELECT " OUTBOX_COLS " FROM outbox WHERE (kind IN ('member', 'event')) = ?1"
			" AND seq > ?2 ORDER BY seq LIMIT ?3",
    [Q_OUTBOX_EXPORTED] = "UPDATE outbox SET exported_ms = ?3 WHERE seq BETWEEN ?1 AND ?2 AND exported_ms IS NULL",
    [Q_OUTBOX_DEAD] = "INSERT INTO dead_letters(kind, record_id, body, reason, created_ms)"
		      " SELECT kind, record_id, body, ?2, ?3 FROM outbox WHERE record_id = ?1",
    [Q_OUTBOX_DELETE] = "DELETE FROM outbox WHERE record_id = ?1 RETURNING kind",
    [Q_MEMBER_UPLOADED] = "UPDATE members SET uploaded = 1 WHERE uid = ?1",
    [Q_MEMBER_MERGED] = "UPDATE members SET uid = ?2, origin = 'hub', uploaded = 1 WHERE uid = ?1"
			" AND NOT EXISTS (SELECT 1 FROM members WHERE uid = ?2)",
    [Q_EVENT_UPLOADED] = "UPDATE events SET uploaded = 1 WHERE uid = ?1",
    [Q_DEAD_COUNT] = "SELECT count(*) FROM dead_letters",
    [Q_DEAD_ALL] = "SELECT seq, kind, record_id, reason, created_ms FROM dead_letters ORDER BY seq",
    [Q_CURSOR_GET] = "SELECT cursor, resetting, updated_ms FROM pull_cursors WHERE data_set = ?1",
    [Q_CURSOR_SET] = "INSERT INTO pull_cursors(data_set, cursor, resetting, updated_ms) VALUES(?1, ?2, ?3, ?4)"
		     " ON CONFLICT(data_set) DO UPDATE SET cursor = excluded.cursor,"
		     " resetting = excluded.resetting, updated_ms = excluded.updated_ms",
    [Q_STAGE_CLEAR] = "DELETE FROM pull_stage WHERE data_set = ?1",
    [Q_STAGE_ADD] = "INSERT INTO pull_stage(data_set, page, items) VALUES(?1, ?2, ?3)"
		    " ON CONFLICT(data_set, page) DO UPDATE SET items = excluded.items",
    [Q_STAGE_PAGES] = "SELECT items FROM pull_stage WHERE data_set = ?1 ORDER BY page",
    /* members: a page is applied by store_sync.c's statements over a temporary table; a snapshot retires
     * the hub's members it does not name */
    [Q_PULL_M_SNAPSHOT] =
	"UPDATE members SET active = 0 WHERE origin = 'hub' AND uid NOT IN (SELECT json_extract(i.value, '$.uid')"
	" FROM pull_stage p, json_each(p.items) i WHERE p.data_set = 'members'"
	" AND json_extract(i.value, '$.deleted') = 0)",
    [Q_PULL_E_UPSERT] =
	"INSERT INTO events(uid, title, start_ms, end_ms, origin, uploaded, active)"
	" SELECT json_extract(value, '$.uid'), json_extract(value, '$.title'), json_extract(value, '$.start_ms'),"
	" json_extract(value, '$.end_ms'), 'hub', 1, 1 FROM json_each(?1) WHERE json_extract(value, '$.deleted') = 0"
	" ON CONFLICT(uid) DO UPDATE SET title = excluded.title, start_ms = excluded.start_ms,"
	" end_ms = excluded.end_ms, origin = 'hub', uploaded = 1, active = 1",
    [Q_PULL_E_GONE] = "UPDATE events SET active = 0 WHERE uid IN (SELECT json_extract(value, '$.uid')"
		      " FROM json_each(?1) WHERE json_extract(value, '$.deleted') = 1)",
    [Q_PULL_E_SNAPSHOT] =
	"UPDATE events SET active = 0 WHERE origin = 'hub' AND uid NOT IN (SELECT json_extract(i.value, '$.uid')"
	" FROM pull_stage p, json_each(p.items) i WHERE p.data_set = 'events'"
	" AND json_extract(i.value, '$.deleted') = 0)",
    [Q_PULL_L_DEFAULT] =
	"UPDATE links SET is_default = 0 WHERE is_default = 1 AND EXISTS (SELECT 1 FROM json_each(?1)"
	" WHERE json_extract(value, '$.default') = 1 AND json_extract(value, '$.deleted') = 0)",
    [Q_PULL_L_UPSERT] =
	"INSERT INTO links(uid, platform, label, url, expires_ms, member_cap, event_id, is_default, origin,"
	" live_url, created_ms, updated_ms) SELECT json_extract(value, '$.uid'),"
	" json_extract(value, '$.platform'), json_extract(value, '$.label'), json_extract(value, '$.url'),"
	" json_extract(value, '$.expires_ms'), json_extract(value, '$.cap'),"
	" (SELECT id FROM events WHERE uid = json_extract(value, '$.event')), json_extract(value, '$.default'),"
	" 'hub', json_extract(value, '$.live_url'), ?2, ?2 FROM json_each(?1)"
	" WHERE json_extract(value, '$.deleted') = 0 AND (json_extract(value, '$.event') IS NULL"
	" OR EXISTS (SELECT 1 FROM events WHERE uid = json_extract(value, '$.event')))"
	" ON CONFLICT(uid) DO UPDATE SET platform = excluded.platform, label = excluded.label,"
	" url = excluded.url, expires_ms = excluded.expires_ms, member_cap = excluded.member_cap,"
	" event_id = excluded.event_id, is_default = excluded.is_default, origin = 'hub',"
	" live_url = excluded.live_url, updated_ms = excluded.updated_ms",
    [Q_PULL_L_GONE] = "DELETE FROM links WHERE origin = 'hub' AND uid IN (SELECT json_extract(value, '$.uid')"
		      " FROM json_each(?1) WHERE json_extract(value, '$.deleted') = 1)",
    [Q_PULL_L_SNAPSHOT] =
	"DELETE FROM links WHERE origin = 'hub' AND uid NOT IN (SELECT json_extract(i.value, '$.uid')"
	" FROM pull_stage p, json_each(p.items) i WHERE p.data_set = 'links'"
	" AND json_extract(i.value, '$.deleted') = 0)",
    /* ---- staff (store_staff.c) ---- */
    /* the attendance key is freed, so the member can check in again */
    /* passes: keys and tier names are kept as the hub last said (it never takes one back);
     * revocations only move forward; a snapshot starts the revocations afresh */
    [Q_PULL_P_KEYS] = "INSERT INTO pass_keys(kid, public_key, retired) SELECT json_extract(value, '$.kid'),"
		      " json_extract(value, '$.public'), json_extract(value, '$.retired') FROM json_each(?1)"
		      " WHERE json_extract(value, '$.kind') = 'key'"
		      " ON CONFLICT(kid) DO UPDATE SET public_key = excluded.public_key, retired = excluded.retired",
    [Q_PULL_P_TIERS] = "INSERT INTO pass_tiers(idx, name) SELECT t.key + 1, t.value FROM json_each(?1) i,"
		       " json_each(i.value, '$.tiers') t WHERE json_extract(i.value, '$.kind') = 'tiers'"
		       " ON CONFLICT(idx) DO UPDATE SET name = excluded.name",
    [Q_PULL_P_REVOKED] = "INSERT INTO pass_revoked(number, before_min) SELECT json_extract(value, '$.number'),"
			 " json_extract(value, '$.before') FROM json_each(?1)"
			 " WHERE json_extract(value, '$.kind') = 'revoked'"
			 " ON CONFLICT(number) DO UPDATE SET before_min = max(before_min, excluded.before_min)",
    [Q_PULL_P_SNAPSHOT] = "DELETE FROM pass_revoked",
    [Q_CHECKIN_REVERSE] = "UPDATE checkins SET reversed = 1, attendance_key = 'r:' || id"
			  " WHERE id = ?1 AND reversed = 0",
    [Q_REVERSAL_INSERT] = "INSERT INTO reversals(id, checkin_id, reason, session, wall_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_OUTBOX_REVERSAL] = "INSERT INTO outbox(kind, record_id, body, created_ms) VALUES('reversal', ?1,"
			  " json_object('id', ?1, 'checkin', ?2, 'reason', ?3, 'wall_ms', ?4, 'device_seq', ?5), ?4)",
    [Q_AUDIT_INSERT] = "INSERT INTO audit(id, session, action, detail, wall_ms) VALUES(?1, ?2, ?3, json(?4), ?5)",
    [Q_OUTBOX_AUDIT] = "INSERT INTO outbox(kind, record_id, body, created_ms) VALUES('audit', ?1,"
		       " json_object('id', ?1, 'session', ?2, 'action', ?3, 'detail', json(?4), 'wall_ms', ?5,"
		       " 'device_seq', ?6), ?5)",
    [Q_AUDIT_ALL] = "SELECT id, session, action, detail, wall_ms FROM audit ORDER BY wall_ms, rowid",
    [Q_CHECKINS_SINCE] = "SELECT " ROW_COLS ROW_FROM " WHERE c.wall_ms >= ?1 AND c.reversed = 0"
			 " ORDER BY c.wall_ms DESC, c.device_seq DESC",
    /* ---- signed passes (store_pass.c) ---- */
    [Q_PASS_KEY] = "SELECT public_key FROM pass_keys WHERE kid = ?1",
    [Q_PASS_KEY_SET] = "INSERT INTO pass_keys(kid, public_key, retired) VALUES(?1, ?2, ?3)"
		       " ON CONFLICT(kid) DO UPDATE SET public_key = excluded.public_key, retired = excluded.retired",
    [Q_PASS_REVOKED] = "SELECT 1 FROM pass_revoked WHERE number = ?1 AND before_min >= ?2",
    [Q_PASS_REVOKE_SET] = "INSERT INTO pass_revoked(number, before_min) VALUES(?1, ?2)"
			  " ON CONFLICT(number) DO UPDATE SET before_min = max(before_min, excluded.before_min)",
    [Q_PASS_TIER] = "SELECT name FROM pass_tiers WHERE idx = ?1",
    [Q_PASS_TIER_SET] = "INSERT INTO pass_tiers(idx, name) VALUES(?1, ?2)"
			" ON CONFLICT(idx) DO UPDATE SET name = excluded.name",
};

/* ---- errors ---- */

const char *store_strerror(store_err err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_ERR_OPEN:
		return "cannot open the database";
	case STORE_ERR_NOTADB:
		return "not a tingzi database, or damaged";
	case STORE_ERR_TOO_NEW:
		return "the database was written by a newer tingzi";
	case STORE_ERR_READONLY:
		return "the database is read-only";
	case STORE_ERR_FULL:
		return "the disk is full";
	case STORE_ERR_IO:
		return "disk input/output error";
	case STORE_ERR_BUSY:
		return "the database is locked by another program";
	case STORE_ERR_NOT_FOUND:
		return "not found";
	case STORE_ERR_EXISTS:
		return "already exists";
	case STORE_ERR_INVALID:
		return "invalid value";
	case STORE_ERR_INTERNAL:
		break;
	}
	return "internal database error";
}

static store_err map_constraint(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return STORE_ERR_EXISTS; /* a code or phone taken */
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return STORE_ERR_NOT_FOUND; /* no such member or event */
	default:
		return STORE_ERR_INVALID; /* CHECK, NOT NULL */
	}
}

static store_err map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return STORE_OK;
	case SQLITE_FULL:
		return STORE_ERR_FULL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN: /* on a write: the journal cannot be created */
		return STORE_ERR_READONLY;
	case SQLITE_IOERR:
		return STORE_ERR_IO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_ERR_BUSY;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return STORE_ERR_NOTADB;
	case SQLITE_CONSTRAINT:
		return map_constraint(rc);
	default:
		return STORE_ERR_INTERNAL;
	}
}

store_err store_fail(store *s, int rc)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return map_rc(rc);
}

store_err store_row_err(store *s, int rc)
{
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : store_fail(s, rc);
}

store_err store_refuse_readonly(store *s)
{
	snprintf(s->errmsg, sizeof s->errmsg, "the database is open read-only");
	return STORE_ERR_READONLY;
}

const char *store_errmsg(const store *s)
{
	return s ? s->errmsg : "no database";
}

int store_is_readonly(const store *s)
{
	return s->readonly;
}

const char *store_device_id(const store *s)
{
	return s->device_id;
}

/* ---- statements and transactions ---- */

sqlite3_stmt *store_stmt(store *s, enum store_stmt i)
{
	sqlite3_reset(s->stmt[i]);
	sqlite3_clear_bindings(s->stmt[i]);
	return s->stmt[i];
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

void store_copy_col(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

store_err store_step_done(store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	store_err err = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

store_err store_tx_begin(store *s)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	return store_step_done(s, store_stmt(s, Q_BEGIN));
}

store_err store_tx_commit(store *s)
{
	store_err err = store_step_done(s, store_stmt(s, Q_COMMIT));
	if (err != STORE_OK)
		store_tx_rollback(s);
	return err;
}

store_err store_tx_end(store *s, store_err err)
{
	if (err == STORE_OK)
		return store_tx_commit(s);
	store_tx_rollback(s);
	return err;
}

void store_tx_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(store_stmt(s, Q_ROLLBACK));
		sqlite3_reset(s->stmt[Q_ROLLBACK]);
	}
}

int store_fits(const char *s, size_t max)
{
	return s && memchr(s, '\0', max) != NULL;
}

int store_phone_valid(const char *s)
{
	return store_fits(s, STORE_PHONE_MAX) && check_phone(s);
}

/* ---- open ---- */

static void say(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* 0 when the folder that holds path can be written (new files made in it). */
static int folder_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return access(".", W_OK);
	if (slash == path)
		return access("/", W_OK);
	char *dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	int rc = access(dir, W_OK);
	free(dir);
	return rc;
}

/* 1 when path's write-ahead log exists and holds data. */
static int wal_has_data(const char *path)
{
	struct stat st;
	size_t n = strlen(path) + 5;
	char *wal = malloc(n);
	if (!wal)
		return 1;
	snprintf(wal, n, "%s-wal", path);
	int rc = stat(wal, &st) == 0 && st.st_size > 0;
	free(wal);
	return rc;
}

/* "file:" URI for path with immutable=1 (escaping what URIs reserve). */
static char *immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *uri = malloc(3 * n + 32);
	if (!uri)
		return NULL;
	size_t o = (size_t)snprintf(uri, 32, path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '?' || *p == '#' || *p == '%' || *p < 0x21 || *p >= 0x7f) {
			uri[o++] = '%';
			uri[o++] = hex[*p >> 4];
			uri[o++] = hex[*p & 15];
		} else {
			uri[o++] = (char)*p;
		}
	}
	memcpy(uri + o, "?immutable=1", sizeof "?immutable=1");
	return uri;
}

static int open_handle(store *s, const char *name, int oflags)
{
	sqlite3_close(s->db);
	s->db = NULL;
	int rc = sqlite3_open_v2(name, &s->db, oflags, NULL);
	if (s->db) {
		sqlite3_extended_result_codes(s->db, 1);
		sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	}
	return rc;
}

/* The first read: count the tables. A file that is not a database fails here. */
static int probe(store *s, int64_t *tables)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*tables = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Read a one-integer pragma; -1 on failure. */
static int64_t pragma_int(store *s, const char *text)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(s->db, text, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static store_err exec(store *s, const char *text)
{
	int rc = sqlite3_exec(s->db, text, NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, rc);
}

/* Open path, deciding whether it is writable. Nothing is read yet. */
static store_err open_file(store *s, const char *path, int flags, char *errbuf, size_t errlen)
{
	int exists = access(path, F_OK) == 0;
	if (!exists && !(flags & STORE_OPEN_CREATE)) {
		say(errbuf, errlen,
		    "%s: no such database (create one with 'tingzi members import' or 'demo')", path);
		return STORE_ERR_OPEN;
	}
	int rc = open_handle(s, path, SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE));
	if (rc != SQLITE_OK) {
		int e = s->db ? sqlite3_system_errno(s->db) : 0;
		store_fail(s, rc);
		if (!exists && folder_writable(path) != 0 && errno != ENOENT) {
			say(errbuf, errlen, "%s: cannot create the database: its folder is not writable",
			    path);
			return STORE_ERR_READONLY;
		}
		say(errbuf, errlen, "%s: cannot open: %s%s%s", path, s->errmsg, e ? ": " : "",
		    e ? strerror(e) : "");
		return STORE_ERR_OPEN;
	}
	s->readonly =
	    sqlite3_db_readonly(s->db, "main") == 1 || access(path, W_OK) != 0 || folder_writable(path) != 0;
	return STORE_OK;
}

/* Read the table count, falling back to an immutable read-only open when a
 * read-only folder keeps SQLite from making its -shm file. */
static store_err read_header(store *s, const char *path, int flags, int64_t *tables, char *errbuf,
			     size_t errlen)
{
	int rc = probe(s, tables);
	int prc = rc & 0xff;
	if (rc != SQLITE_OK && s->readonly && (flags & STORE_OPEN_READONLY_OK) &&
	    (prc == SQLITE_READONLY || prc == SQLITE_CANTOPEN) && !wal_has_data(path)) {
		char *uri = immutable_uri(path);
		if (!uri) {
			say(errbuf, errlen, "%s: out of memory", path);
			return STORE_ERR_INTERNAL;
		}
		rc = open_handle(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
		free(uri);
		if (rc == SQLITE_OK)
			rc = probe(s, tables);
		prc = rc & 0xff;
	}
	if (rc == SQLITE_OK)
		return STORE_OK;
	store_err err = store_fail(s, rc);
	if (err == STORE_ERR_NOTADB)
		say(errbuf, errlen, "%s: not a tingzi database, or damaged (%s); left untouched", path,
		    s->errmsg);
	else if (err == STORE_ERR_READONLY)
		say(errbuf, errlen, "%s: cannot be used here: the file or its folder is read-only (%s)", path,
		    s->errmsg);
	else
		say(errbuf, errlen, "%s: cannot read: %s (%s)", path, store_strerror(err), s->errmsg);
	return err == STORE_ERR_INTERNAL ? STORE_ERR_OPEN : err;
}

/* Refuse another program's database or a newer schema. */
static store_err check_identity(store *s, const char *path, int64_t tables, int64_t *version, char *errbuf,
				size_t errlen)
{
	int64_t app = pragma_int(s, "PRAGMA application_id");
	*version = pragma_int(s, "PRAGMA user_version");
	if (app < 0 || *version < 0) {
		say(errbuf, errlen, "%s: cannot read the database header (%s)", path, sqlite3_errmsg(s->db));
		return STORE_ERR_NOTADB;
	}
	if (tables > 0 && app != STORE_APP_ID) {
		say(errbuf, errlen, "%s: an SQLite database of another program, not tingzi's; left untouched",
		    path);
		return STORE_ERR_NOTADB;
	}
	if (*version > STORE_SCHEMA_VERSION) {
		say(errbuf, errlen,
		    "%s: written by a newer tingzi (schema %lld; this program knows up to %d); left "
		    "untouched",
		    path, (long long)*version, STORE_SCHEMA_VERSION);
		return STORE_ERR_TOO_NEW;
	}
	return STORE_OK;
}

store_err store_new_id(store *s, char *out)
{
	if (clock_new_id(out) == 0)
		return STORE_OK;
	snprintf(s->errmsg, sizeof s->errmsg, "the system has no randomness for an id");
	return STORE_ERR_INTERNAL;
}

/* Version 1 creates this device's identity with the database. */
static store_err add_device(store *s)
{
	char id[STORE_ID_MAX];
	sqlite3_stmt *st = NULL;
	if (clock_new_id(id) != 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "the system has no randomness for a device id");
		return STORE_ERR_INTERNAL;
	}
	int rc = sqlite3_prepare_v2(
	    s->db, "INSERT INTO settings(key, value) VALUES('device_id', ?1), ('device_seq', '0')", -1, &st,
	    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	store_err err = rc == SQLITE_OK ? STORE_OK : store_fail(s, rc);
	sqlite3_finalize(st);
	return err;
}

/* One migration step, if the version is still below target once we hold the lock. */
static store_err migrate_step(store *s, int64_t target)
{
	store_err err = exec(s, "BEGIN IMMEDIATE");
	if (err != STORE_OK)
		return err;
	int64_t v = pragma_int(s, "PRAGMA user_version");
	if (v < 0 || v >= target) {
		err = v < 0 ? store_fail(s, sqlite3_errcode(s->db)) : STORE_OK;
		goto out;
	}
	if ((err = exec(s, migrations[v])) != STORE_OK)
		goto out;
	if (v == 0 && (err = add_device(s)) != STORE_OK)
		goto out;
	char set[96];
	snprintf(set, sizeof set, "PRAGMA user_version = %lld; PRAGMA application_id = %d", (long long)v + 1,
		 STORE_APP_ID);
	if ((err = exec(s, set)) != STORE_OK)
		goto out;
	return exec(s, "COMMIT");
out:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static store_err migrate(store *s, const char *path, int64_t version, char *errbuf, size_t errlen)
{
	for (int64_t v = version; v < STORE_SCHEMA_VERSION; v++) {
		store_err err = migrate_step(s, v + 1);
		if (err != STORE_OK) {
			if (!sqlite3_get_autocommit(s->db))
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			say(errbuf, errlen, "%s: cannot bring the schema to version %lld: %s (%s)", path,
			    (long long)v + 1, store_strerror(err), s->errmsg);
			return err;
		}
	}
	return STORE_OK;
}

/* WAL and synchronous=FULL on a writable handle; query_only on a read-only one. */
static store_err set_durability(store *s, const char *path, char *errbuf, size_t errlen)
{
	store_err err = exec(
	    s, s->readonly ? "PRAGMA query_only = 1; PRAGMA foreign_keys = ON"
			   : "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			     " PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = " STORE_WAL_PAGES ";"
			     " PRAGMA journal_size_limit = 4194304");
	if (err == STORE_OK && !s->readonly && pragma_int(s, "PRAGMA synchronous") != 2) {
		snprintf(s->errmsg, sizeof s->errmsg, "synchronous=FULL did not take");
		err = STORE_ERR_INTERNAL;
	}
	if (err != STORE_OK)
		say(errbuf, errlen, "%s: cannot set up the journal: %s (%s)", path, store_strerror(err),
		    s->errmsg);
	return err;
}

static store_err prepare_all(store *s, const char *path, char *errbuf, size_t errlen)
{
	for (int i = 0; i < Q_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			store_err err = store_fail(s, rc);
			say(errbuf, errlen, "%s: the tables are not as tingzi made them (%s)", path,
			    s->errmsg);
			return err == STORE_ERR_INTERNAL ? STORE_ERR_NOTADB : err;
		}
	}
	if (store_setting_get(s, "device_id", s->device_id, sizeof s->device_id) != STORE_OK ||
	    strlen(s->device_id) != STORE_ID_MAX - 1) {
		say(errbuf, errlen, "%s: the database has no device id", path);
		return STORE_ERR_NOTADB;
	}
	return STORE_OK;
}

store_err store_open(const char *path, int flags, store **out, char *errbuf, size_t errlen)
{
	char scratch[8];
	int64_t tables = 0, version = 0;
	store_err err;
	if (!errbuf || !errlen) {
		errbuf = scratch;
		errlen = sizeof scratch;
	}
	errbuf[0] = '\0';
	*out = NULL;
	store *s = calloc(1, sizeof *s);
	if (!s) {
		say(errbuf, errlen, "%s: out of memory", path);
		return STORE_ERR_INTERNAL;
	}
	if ((err = open_file(s, path, flags, errbuf, errlen)) != STORE_OK ||
	    (err = read_header(s, path, flags, &tables, errbuf, errlen)) != STORE_OK ||
	    (err = check_identity(s, path, tables, &version, errbuf, errlen)) != STORE_OK)
		goto fail;
	/* Everything up to here only read; from here on the file is ours. */
	if (s->readonly && !(flags & STORE_OPEN_READONLY_OK)) {
		say(errbuf, errlen,
		    "%s: the database is read-only (the file or its folder cannot be written)", path);
		err = STORE_ERR_READONLY;
		goto fail;
	}
	if (s->readonly && version < STORE_SCHEMA_VERSION) {
		say(errbuf, errlen, "%s: read-only, and its schema needs to be brought to version %d", path,
		    STORE_SCHEMA_VERSION);
		err = STORE_ERR_READONLY;
		goto fail;
	}
	if ((err = set_durability(s, path, errbuf, errlen)) != STORE_OK ||
	    (err = migrate(s, path, version, errbuf, errlen)) != STORE_OK ||
	    (err = prepare_all(s, path, errbuf, errlen)) != STORE_OK)
		goto fail;
	s->errmsg[0] = '\0';
	*out = s;
	return STORE_OK;
fail:
	store_close(s);
	return err;
}

void store_close(store *s)
{
	if (!s)
		return;
	/*
	 * The one call from the store's ground floor up to its sync rooms:
	 * closing the handle must let go of the sync lock (store_sync.c) it may
	 * hold, or another process's sync would wait for a file nobody holds.
	 */
	store_sync_unlock(s);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

store_err store_journal_info(store *s, char *mode, size_t len, int *synchronous)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_copy_col(st, 0, mode, len);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return store_fail(s, rc);
	*synchronous = (int)pragma_int(s, "PRAGMA synchronous");
	return STORE_OK;
}

store_err store_checkpoint(store *s)
{
	if (s->readonly)
		return STORE_OK;
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, rc);
}

store_err store_limit_growth(store *s, int64_t extra_pages)
{
	char text[64];
	int64_t pages = pragma_int(s, "PRAGMA page_count");
	if (pages < 0 || extra_pages < 0)
		return STORE_ERR_INVALID;
	snprintf(text, sizeof text, "PRAGMA max_page_count = %lld", (long long)(pages + extra_pages));
	return exec(s, text);
}

/* ---- settings ---- */

store_err store_setting_get(store *s, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st = store_stmt(s, Q_SETTING_GET);
	store_bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	store_err err = store_row_err(s, rc);
	if (err == STORE_OK)
		store_copy_col(st, 0, buf, len);
	sqlite3_reset(st);
	return err;
}

store_err store_setting_set(store *s, const char *key, const char *value)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_SETTING_SET);
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, value);
	return store_step_done(s, st);
}

store_err store_next_seq(store *s, int64_t *seq)
{
	char buf[32], *end;
	store_err err = store_setting_get(s, "device_seq", buf, sizeof buf);
	if (err != STORE_OK)
		return err == STORE_ERR_NOT_FOUND ? STORE_ERR_NOTADB : err;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || end == buf || *end || v < 0 || v == INT64_MAX) {
		snprintf(s->errmsg, sizeof s->errmsg, "the device sequence \"%s\" is damaged", buf);
		return STORE_ERR_NOTADB;
	}
	*seq = v + 1;
	snprintf(buf, sizeof buf, "%lld", (long long)*seq);
	return store_setting_set(s, "device_seq", buf);
}
