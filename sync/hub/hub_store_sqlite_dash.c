/*
 * hub_store_sqlite_dash — the community dashboard on the SQLite store: the
 * summaries it reads, brought up to date lazily, and the questions it asks
 * of them (hub_store_dash.h; see hub_store_sqlite_impl.h for the parts).
 *
 * A visit is a counted check-in (duplicate_of IS NULL AND reversed = 0).
 * Days are kept as day numbers (dn: days since 1970-01-01) of the check-ins'
 * venue-local days, so a period's days and "n days before" are arithmetic.
 *
 * What stays up to date, and how. Changes only mark what they touch, in
 * their own transaction: a push marks nothing (its check-ins are the rows
 * past meta 'dash_checkin_mark', the last check-in row a refresh took: rows
 * are only ever appended), a reversal marks its check-in, a merge marks gone
 * and gone's check-ins (dash_dirty), a new name or expiry (the import, the
 * console) marks the member. Tiers, codes and events' titles, times and
 * cancellations are read from their rows: nothing summed up depends on them.
 * dash_refresh then brings up to date:
 *   member_stats  each current member's visits in time order: 1st, 2nd, 3rd,
 *                 10th and last day (and the last's time), the first visit's
 *                 QR flag and event, a bitmap of days and one of months with
 *                 a visit; their name and membership's last day (for the
 *                 lists). A new check-in after the member's last visit is
 *                 added to it; a marked member, a first visit or a check-in
 *                 older than the last visit has the member recounted from
 *                 their check-ins.
 *   day_stats     of each day with a new or marked check-in, and of the days a
 *                 first visit left or moved to (visits, first-timers,
 *                 first-timers shown the join QR);
 *   week_stats    of those days' weeks (distinct members: not a sum of days);
 *   event_stats   of each event with a new or marked check-in, and of those a
 *                 first visit left or moved to (visits, first-timers).
 * A refresh after 1000 new check-ins of one evening updates ~1000 members'
 * rows without reading their older check-ins, and recounts one day, one week
 * and one event; with nothing changed it reads three rows.
 *
 * Which table and index serves which section (so that each stays within
 * 100 ms on 100 000 members and 2 000 000 check-ins over two years, for a
 * period of 90 days or of a year; tests/bench/bench_dash.c):
 *   attendance   totals and week bars from day_stats (a row a day); distinct
 *                members of whole weeks from week_stats; of the period's cut
 *                first and last weeks from checkins_day (counted check-ins by
 *                venue, day, member: at most 6 days read); members who came
 *                in the period from member_stats_last (venue, last_dn, visits,
 *                first_dn, expires_dn, name, days): those whose last visit is
 *                on or after the start, the days bitmap read only for members
 *                whose visits straddle the whole period; first-timers from
 *                member_stats_first.
 *   events       events_start (venue, start_ms) and event_stats.
 *   funnel,      member_stats_first (venue, first_dn, second_dn, third_dn,
 *   cohorts,     tenth_dn, visits, first_qr, name, months): the members whose
 *   groups       first visit fell in the period (or its months), from the
 *                index alone.
 *   regulars,    member_stats_last: drifting is a range of last_dn, regulars
 *   drifting     the members who came (as above) with visits >= 3.
 *   members      the covering index of the number they stand behind, which
 *   behind a     carries the name they are ordered by: only the page asked
 *   number       for is joined to members. An event's members by
 *                checkins_event, a week's by checkins_day, then member_stats
 *                by row number; a tier's and expiring memberships by
 *                members_tier and members_expires; expired members still
 *                coming by member_stats_last (expires_dn, days).
 *   referrals    referrals (member_rid, the one who brought them) and
 *                referrals_referrer; invites followed from ref_days joined to
 *                members_code (a member's current code).
 *   live codes   live_days and ref_days, keyed by day first (a period is a
 *                range of their primary key); links by links_seq's venue.
 *   tiers        members_tier, members_expires, member_stats_last.
 * A venue-less period (an owner's view) reads the same indexes with
 * "venue_id IN (every venue)": each venue's range in turn.
 *
 * Cohorts are calendar months, whole: the cohorts are the months the period
 * touches, each with every member whose first visit fell in that month.
 */
#include "sync/hub/hub_store_sqlite_impl.h"

#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define COUNTED "duplicate_of IS NULL AND reversed = 0"
#define CURRENT "m.deleted = 0 AND m.merged_into IS NULL"
/* a day's number from its text, in SQL */
#define DN(x) "CAST(julianday(" x ") - 2440587.5 AS INTEGER)"
/* came in the period ?2..?3 (day numbers): a visit that day or later, and the days bitmap
 * read only when the member's visits straddle the whole period */
#define CAME                                                                                                 \
	"ms.last_dn >= ?2 AND ms.first_dn <= ?3 AND (ms.last_dn <= ?3 OR ms.first_dn >= ?2"                  \
	" OR dash_came(ms.first_dn, ms.days, ?2, ?3))"

/* ---- statements ---- */

/* Statements that name no venue. */
enum {
	R_MARK_GET,
	R_MARK_SET,
	R_MAX_ROWID,
	R_DIRTY_ANY,
	R_M_MARKED,
	R_NEW_EACH,
	R_M_FULL,
	R_M_ADD,
	R_MS_TAIL,
	R_MS_APPEND,
	R_D_NEW,
	R_E_NEW,
	R_M_EACH,
	R_MS_OLD,
	R_MS_VISITS,
	R_MS_PUT,
	R_MS_DEL,
	R_D_ADD,
	R_E_ADD,
	R_DAYS_PUT,
	R_WEEKS_PUT,
	R_EVENTS_PUT,
	R_CLEAR,
	R_DIRTY_CHECKIN,
	R_DIRTY_GONE,
	R_DIRTY_MEMBER,
	R_DIRTY_UID,
	R_REF_MOVE,
	R_REF_DROP,
	R_REF_REPOINT,
	R_REF_SELF,
	R_LIVE_VENUE,
	R_LIVE_DAY,
	R_LIVE_REF,
	R_VENUE_TZ,
	R_REF_HAS,
	R_REF_UP,
	R_REF_INSERT,
	R_TREE,
	R_ROOT,
	R_BROUGHT_BY,
	R_COUNT
};

static const char *const rsql[R_COUNT] = {
    [R_MARK_GET] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'dash_checkin_mark'",
    [R_MARK_SET] = "INSERT INTO meta(key, value) VALUES('dash_checkin_mark', ?1)"
		   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [R_MAX_ROWID] = "SELECT coalesce(max(rowid), 0) FROM checkins",
    [R_DIRTY_ANY] = "SELECT EXISTS(SELECT 1 FROM dash_dirty)",
    /* what changed: the members marked, and those of the check-ins marked, are recounted whole */
    [R_M_MARKED] = "INSERT OR IGNORE INTO temp.dash_m(rid)"
		   " SELECT c.member_rid FROM dash_dirty d JOIN checkins c ON c.rowid = d.key"
		   " WHERE d.kind = 'c' AND c.member_rid IS NOT NULL"
		   " UNION ALL SELECT key FROM dash_dirty WHERE kind = 'm'",
    /* the counted check-ins past the mark: each a visit after a member's last one, mostly */
    [R_NEW_EACH] = "SELECT member_rid, day, corrected_ms FROM checkins WHERE rowid > ?1 AND rowid <= ?2"
		   " AND duplicate_of IS NULL AND reversed = 0 AND member_rid IS NOT NULL ORDER BY rowid",
    [R_M_FULL] = "SELECT 1 FROM temp.dash_m WHERE rid = ?1",
    [R_M_ADD] = "INSERT OR IGNORE INTO temp.dash_m(rid) VALUES(?1)",
    [R_MS_TAIL] = "SELECT visits, first_dn, last_dn, last_ms, days, months FROM member_stats WHERE member_rid = ?1",
    [R_MS_APPEND] = "UPDATE member_stats SET visits = ?2, second_dn = coalesce(second_dn, ?3),"
		    " third_dn = coalesce(third_dn, ?4), tenth_dn = coalesce(tenth_dn, ?5), last_dn = ?6,"
		    " last_ms = ?7, days = ?8, months = ?9 WHERE member_rid = ?1",
    [R_D_NEW] = "INSERT OR IGNORE INTO temp.dash_d(venue_id, dn) SELECT venue_id, " DN("day") " FROM"
		" (SELECT DISTINCT venue_id, day FROM checkins WHERE rowid > ?1 AND rowid <= ?2"
		" UNION SELECT c.venue_id, c.day FROM dash_dirty d JOIN checkins c ON c.rowid = d.key"
		" WHERE d.kind = 'c')",
    [R_E_NEW] = "INSERT OR IGNORE INTO temp.dash_e(uid)"
		" SELECT event_uid FROM checkins WHERE rowid > ?1 AND rowid <= ?2 AND event_uid IS NOT NULL"
		" UNION ALL SELECT c.event_uid FROM dash_dirty d JOIN checkins c ON c.rowid = d.key"
		" WHERE d.kind = 'c' AND c.event_uid IS NOT NULL",
    [R_M_EACH] = "SELECT d.rid, m.venue_id, m.name, m.expires, " CURRENT
		 " FROM temp.dash_m d JOIN members m ON m.rowid = d.rid",
    [R_MS_OLD] = "SELECT first_dn, first_qr, first_event FROM member_stats WHERE member_rid = ?1",
    [R_MS_VISITS] = "SELECT day, flags, event_uid, corrected_ms FROM checkins WHERE member_rid = ?1 AND " COUNTED
		    " ORDER BY corrected_ms, rowid",
    [R_MS_PUT] = "INSERT OR REPLACE INTO member_stats(member_rid, venue_id, visits, first_dn, second_dn,"
		 " third_dn, tenth_dn, last_dn, first_qr, first_event, days, months, name, expires_dn, last_ms)"
		 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [R_MS_DEL] = "DELETE FROM member_stats WHERE member_rid = ?1",
    [R_D_ADD] = "INSERT OR IGNORE INTO temp.dash_d(venue_id, dn) VALUES(?1, ?2)",
    [R_E_ADD] = "INSERT OR IGNORE INTO temp.dash_e(uid) VALUES(?1)",
    [R_DAYS_PUT] = "INSERT OR REPLACE INTO day_stats(venue_id, dn, visits, first_timers, first_qr)"
		   " SELECT d.venue_id, d.dn,"
		   " (SELECT count(*) FROM checkins c WHERE c.venue_id = d.venue_id"
		   " AND c.day = date(d.dn * 86400, 'unixepoch') AND c.duplicate_of IS NULL AND c.reversed = 0),"
		   " (SELECT count(*) FROM member_stats ms WHERE ms.venue_id = d.venue_id AND ms.first_dn = d.dn),"
		   " (SELECT coalesce(sum(ms.first_qr), 0) FROM member_stats ms WHERE ms.venue_id = d.venue_id"
		   " AND ms.first_dn = d.dn) FROM temp.dash_d d",
    [R_WEEKS_PUT] = "INSERT OR REPLACE INTO week_stats(venue_id, monday, members)"
		    " SELECT w.venue_id, w.monday, (SELECT count(DISTINCT c.member_rid) FROM checkins c"
		    " WHERE c.venue_id = w.venue_id AND c.day BETWEEN date(w.monday * 86400, 'unixepoch')"
		    " AND date((w.monday + 6) * 86400, 'unixepoch') AND c.duplicate_of IS NULL AND c.reversed = 0)"
		    " FROM (SELECT DISTINCT venue_id, dn - (((dn + 3) % 7) + 7) % 7 AS monday FROM temp.dash_d) w",
    [R_EVENTS_PUT] = "INSERT OR REPLACE INTO event_stats(event_uid, visits, first_timers)"
		     " SELECT e.uid, (SELECT count(*) FROM checkins c WHERE c.event_uid = e.uid"
		     " AND c.duplicate_of IS NULL AND c.reversed = 0),"
		     " (SELECT count(*) FROM member_stats ms WHERE ms.first_event = e.uid) FROM temp.dash_e e",
    [R_CLEAR] = "DELETE FROM temp.dash_m; DELETE FROM temp.dash_d; DELETE FROM temp.dash_e;"
		" DELETE FROM dash_dirty;",
    /* marks */
    [R_DIRTY_CHECKIN] = "INSERT OR IGNORE INTO dash_dirty(kind, key) SELECT 'c', rowid FROM checkins WHERE id = ?1",
    [R_DIRTY_GONE] = "INSERT OR IGNORE INTO dash_dirty(kind, key) SELECT 'c', rowid FROM checkins WHERE member_rid = ?1",
    [R_DIRTY_MEMBER] = "INSERT OR IGNORE INTO dash_dirty(kind, key) VALUES('m', ?1)",
    [R_DIRTY_UID] = "INSERT OR IGNORE INTO dash_dirty(kind, key) SELECT 'm', rowid FROM members WHERE uid = ?1",
    [R_REF_MOVE] = "UPDATE OR IGNORE referrals SET member_rid = ?1 WHERE member_rid = ?2",
    [R_REF_DROP] = "DELETE FROM referrals WHERE member_rid = ?1",
    [R_REF_REPOINT] = "UPDATE referrals SET referrer_rid = ?1 WHERE referrer_rid = ?2",
    [R_REF_SELF] = "DELETE FROM referrals WHERE member_rid = ?1 AND referrer_rid = ?1",
    /* live codes */
    [R_LIVE_VENUE] = "SELECT id, tz FROM venues WHERE slug = ?1 UNION ALL"
		     " SELECT v.id, v.tz FROM links l JOIN venues v ON v.id = l.venue_id WHERE l.slug = ?1 LIMIT 1",
    [R_LIVE_DAY] = "INSERT INTO live_days(day, slug, venue_id, redirects, missed, with_ref)"
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(day, slug) DO UPDATE SET"
		   " redirects = redirects + excluded.redirects, missed = missed + excluded.missed,"
		   " with_ref = with_ref + excluded.with_ref",
    [R_LIVE_REF] = "INSERT INTO ref_days(day, slug, ref, venue_id, n) VALUES(?1, ?2, ?3, ?4, 1)"
		   " ON CONFLICT(day, slug, ref) DO UPDATE SET n = n + 1",
    /* referrals */
    [R_VENUE_TZ] = "SELECT tz FROM venues WHERE id = ?1",
    [R_REF_HAS] = "SELECT 1 FROM referrals WHERE member_rid = ?1",
    [R_REF_UP] = "SELECT referrer_rid FROM referrals WHERE member_rid = ?1",
    [R_REF_INSERT] = "INSERT INTO referrals(member_rid, referrer_rid, via, at_ms, day) VALUES(?1, ?2, ?3, ?4, ?5)",
    [R_BROUGHT_BY] = "SELECT m.uid, m.name, p.uid, r.day, r.via FROM members m JOIN referrals r ON r.member_rid = m.rowid"
		     " JOIN members p ON p.rowid = r.referrer_rid WHERE m.uid = ?1",
    /* depth first: a path of fixed-width steps (day, row number) sorts each member before the members
     * they brought, and those before their next sibling; seen keeps a loop from going round */
    [R_TREE] = "WITH RECURSIVE t(rid, depth, path, seen) AS (SELECT ?1, 0, '', ',' || ?1 || ','"
	       " UNION ALL SELECT r.member_rid, t.depth + 1, t.path || r.day || printf('%015d/', r.member_rid),"
	       " t.seen || r.member_rid || ',' FROM t JOIN referrals r ON r.referrer_rid = t.rid"
	       " WHERE t.depth < ?2 AND instr(t.seen, ',' || r.member_rid || ',') = 0)"
	       " SELECT m.uid, m.name, p.uid, t.depth, r.day, r.via FROM t JOIN referrals r ON r.member_rid = t.rid"
	       " JOIN members m ON m.rowid = t.rid JOIN members p ON p.rowid = r.referrer_rid"
	       " WHERE t.depth > 0 ORDER BY t.path",
    /* a member, or the one a merged member counts as */
    [R_ROOT] = "SELECT coalesce((SELECT k.rowid FROM members k WHERE k.uid = m.merged_into), m.rowid)"
	       " FROM members m WHERE m.uid = ?1",
};

/*
 * Statements over a period, each in two forms: for one venue (@V is "= ?1")
 * and for every venue (@V is "IN (SELECT id FROM venues)", which still reads
 * the venue-led indexes, a venue at a time). Their parameters: ?1 the venue,
 * ?2 ?3 the period's first and last day numbers, ?4 ?5 the same as text;
 * more from ?6 as each says.
 */
enum {
	V_DAYS,
	V_WEEKS,
	V_CUT,
	V_CAME,
	V_FIRSTS,
	V_EVENTS,
	V_FUNNEL,
	V_COHORTS,
	V_TIERS,
	V_EXPIRING,
	V_EXPIRED_COMING,
	V_REDIRECTS,
	V_LINKS,
	V_REFERRERS,
	V_VENUE,
	V_COUNT
};

/* a membership that ended (its last day is expires_dn) before the period's end, and a visit after that */
#define EXPIRED_COMING                                                                                       \
	" FROM member_stats ms WHERE ms.venue_id @V AND ms.last_dn >= ?2 AND ms.expires_dn < ?3"             \
	" AND ms.last_dn > ms.expires_dn AND dash_came(ms.first_dn, ms.days, max(?2, ms.expires_dn + 1), ?3)"

static const char *const vsql[V_COUNT] = {
    [V_DAYS] = "SELECT dn, sum(visits), sum(first_timers) FROM day_stats WHERE venue_id @V"
	       " AND dn BETWEEN ?2 AND ?3 GROUP BY dn",
    /* ?6 ?7: the first and last whole week's Monday */
    [V_WEEKS] = "SELECT monday, sum(members) FROM week_stats WHERE venue_id @V AND monday BETWEEN ?6 AND ?7"
		" GROUP BY monday",
    /* ?6 ?7: a cut week's days, as text */
    [V_CUT] = "SELECT count(*) FROM (SELECT DISTINCT venue_id, member_rid FROM checkins WHERE venue_id @V"
	      " AND day BETWEEN ?6 AND ?7 AND duplicate_of IS NULL AND reversed = 0)",
    [V_CAME] = "SELECT count(*) FROM member_stats ms WHERE ms.venue_id @V AND " CAME,
    [V_FIRSTS] = "SELECT count(*), coalesce(sum(first_qr), 0) FROM member_stats WHERE venue_id @V"
		 " AND first_dn BETWEEN ?2 AND ?3",
    /* ?6 ?7: a range of start_ms a day wider than the period each side (any zone's midnight) */
    [V_EVENTS] = "SELECT e.uid, e.title, e.venue_id, e.start_ms, e.deleted, coalesce(es.visits, 0),"
		 " coalesce(es.first_timers, 0), v.tz FROM events e JOIN venues v ON v.id = e.venue_id"
		 " LEFT JOIN event_stats es ON es.event_uid = e.uid WHERE e.venue_id @V"
		 " AND e.start_ms BETWEEN ?6 AND ?7 ORDER BY e.start_ms DESC, e.rowid DESC",
    [V_FUNNEL] = "SELECT first_dn, second_dn, third_dn, tenth_dn FROM member_stats WHERE venue_id @V"
		 " AND first_dn BETWEEN ?2 AND ?3",
    /* ?6 ?7: the first day of the period's first month, the last of its last */
    [V_COHORTS] = "SELECT first_dn, months FROM member_stats WHERE venue_id @V AND first_dn BETWEEN ?6 AND ?7",
    [V_TIERS] = "SELECT tier, count(*) FROM members m WHERE venue_id @V AND " CURRENT
		" GROUP BY tier ORDER BY 2 DESC, tier",
    /* ?6: 30 days after the period's end, as text */
    [V_EXPIRING] = "SELECT count(*) FROM members m WHERE venue_id @V AND " CURRENT
		   " AND expires <> '' AND expires >= ?5 AND expires < ?6",
    [V_EXPIRED_COMING] = "SELECT count(*)" EXPIRED_COMING,
    [V_REDIRECTS] = "SELECT slug, day, redirects, missed, with_ref FROM live_days WHERE day BETWEEN ?4 AND ?5"
		    " AND venue_id @V ORDER BY day, slug",
    [V_LINKS] = "SELECT l.uid, l.slug, l.label, l.platform, coalesce(l.cap, 0), l.redirects,"
		" coalesce(l.expires_ms, 0), l.created_ms, v.tz FROM links l JOIN venues v ON v.id = l.venue_id"
		" WHERE l.venue_id @V AND l.deleted = 0 ORDER BY l.slug, l.created_ms, l.rowid",
    /* ?6: at most this many (-1: all) */
    [V_REFERRERS] = "SELECT m.uid, m.name, sum(x.b), sum(x.a), sum(x.f) FROM"
		    " (SELECT referrer_rid AS rid, day BETWEEN ?4 AND ?5 AS b, 1 AS a, 0 AS f FROM referrals"
		    " UNION ALL SELECT k.rowid, 0, 0, rd.n FROM ref_days rd JOIN members k ON k.venue_id = rd.venue_id"
		    " AND k.code = rd.ref AND k.deleted = 0 AND k.merged_into IS NULL WHERE rd.day BETWEEN ?4 AND ?5) x"
		    " JOIN members m ON m.rowid = x.rid WHERE m.venue_id @V AND " CURRENT
		    " GROUP BY x.rid ORDER BY 3 DESC, m.name, m.uid LIMIT ?6",
    [V_VENUE] = "SELECT 1 FROM venues WHERE id @V",
};

/*
 * The members behind a number. Each list is who (rid, name, last: the row
 * number, the name, the last visit's day) comes out of its FROM and WHERE,
 * over member_stats (whose indexes carry the name: a list reads them alone)
 * or, for lists of members who may never have come, over members. The total
 * is "SELECT count(*)" of it; the page is its first ?8 in order, and only
 * those are joined to members for the rest of their row. Parameters as
 * above, and ?6 arg, ?7 n, ?9 ?10 a week's days cut by the period (text),
 * ?11 ?12 a month's first and last day number, ?13 n days after the
 * period's end (text).
 */
#define MS	" FROM member_stats ms WHERE ms.venue_id @V"
#define MS_COLS "ms.member_rid AS rid, ms.name AS name, 0 AS last"
#define MM	" FROM members m WHERE m.venue_id @V AND " CURRENT
#define MM_COLS "m.rowid AS rid, m.name AS name, 0 AS last"
#define LIST_COLS                                                                                            \
	"m.uid, m.name, m.phone, m.code, m.tier, m.expires, m.venue_id, coalesce(ms.visits, 0), ms.first_dn," \
	" ms.last_dn, (SELECT count(*) FROM referrals r WHERE r.referrer_rid = m.rowid)"
#define NLISTS (HUB_DL_EXPIRED_COMING + 1)

static const struct {
	const char *cols, *from;
	int by_last;	   /* newest last visit first (else by name) */
	const char *count; /* how many, when not "SELECT count(*)" of from */
} lsql[NLISTS] = {
    [HUB_DL_VISITED] = {.cols = MS_COLS, .from = MS " AND " CAME},
    [HUB_DL_FIRST_TIMERS] = {.cols = MS_COLS, .from = MS " AND ms.first_dn BETWEEN ?2 AND ?3"},
    [HUB_DL_RETURNING] = {.cols = MS_COLS, .from = MS " AND ms.first_dn < ?2 AND ms.last_dn >= ?2"
				      " AND (ms.last_dn <= ?3 OR dash_came(ms.first_dn, ms.days, ?2, ?3))"},
    [HUB_DL_REACHED] = {.cols = MS_COLS, .from = MS " AND ms.first_dn BETWEEN ?2 AND ?3 AND ms.visits >= ?7"},
    [HUB_DL_COHORT] = {.cols = MS_COLS, .from = MS " AND ms.first_dn BETWEEN ?11 AND ?12 AND (?7 = 0 OR dash_bit(ms.months, ?7))"},
    [HUB_DL_REGULARS] = {.cols = MS_COLS, .from = MS " AND ms.visits >= 3 AND " CAME},
    [HUB_DL_DRIFTING] = {.cols = "ms.member_rid AS rid, ms.name AS name, ms.last_dn AS last",
			 .from = MS " AND ms.visits >= 3 AND ms.last_dn < ?3 - ?7",
			 .by_last = 1},
    /* the event's check-ins lead (by checkins_event: "+" keeps the venue's test off the index, or
     * checkins_day would be read for a venue's every check-in) */
    [HUB_DL_EVENT] = {.cols = MS_COLS, .from = " FROM member_stats ms WHERE ms.member_rid IN (SELECT member_rid FROM checkins"
			       " WHERE event_uid = ?6 AND +venue_id @V AND duplicate_of IS NULL AND reversed = 0)"},
    [HUB_DL_WEEK] = {.cols = MS_COLS, .from =
		     " FROM member_stats ms WHERE ms.member_rid IN (SELECT member_rid FROM checkins"
		     " WHERE venue_id @V AND day BETWEEN ?9 AND ?10 AND duplicate_of IS NULL AND reversed = 0)",
		     /* from checkins_day alone: the members a week's check-ins name, each once */
		     .count = "SELECT count(DISTINCT member_rid) FROM checkins WHERE venue_id @V AND day BETWEEN ?9 AND ?10"
		     " AND duplicate_of IS NULL AND reversed = 0"},
    /* the referrals lead, not the venue's members */
    [HUB_DL_REFERRED_BY] = {.cols = MM_COLS, .from = " FROM members m WHERE +m.venue_id @V AND " CURRENT
					" AND m.rowid IN (SELECT r.member_rid FROM referrals r"
					" JOIN members p ON p.rowid = r.referrer_rid WHERE p.uid = ?6)"},
    [HUB_DL_TIER] = {.cols = MM_COLS, .from = MM " AND m.tier = ?6"},
    [HUB_DL_EXPIRING] = {.cols = MM_COLS, .from = MM " AND m.expires <> '' AND m.expires >= ?5 AND m.expires < ?13"},
    [HUB_DL_EXPIRED_COMING] = {.cols = MS_COLS, .from = EXPIRED_COMING},
};

#define V_BASE (R_COUNT)
#define L_BASE (V_BASE + 2 * V_COUNT)
_Static_assert(L_BASE + NLISTS * 4 <= SQ_DASH_STMTS, "more statements than slots");

static sqlite3_stmt *qr(sq *s, int which)
{
	return stmt(s, &s->dash[which], rsql[which]);
}

/* text with each @V made the venue's test: one venue (?1) or every venue */
static sqlite3_stmt *prepare_v(sq *s, sqlite3_stmt **slot, const char *text, int all)
{
	if (*slot)
		return stmt(s, slot, "");
	const char *with = all ? "IN (SELECT id FROM venues)" : "= ?1";
	size_t len = strlen(text) + 1, n = 0;
	for (const char *p = text; (p = strstr(p, "@V")) != NULL; p += 2)
		n++;
	char *out = malloc(len + n * strlen(with)), *o = out;
	if (!out) {
		refuse(s, HUB_ERR, "out of memory");
		return NULL;
	}
	for (const char *p = text; *p;) {
		if (p[0] == '@' && p[1] == 'V') {
			o += sprintf(o, "%s", with);
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	sqlite3_stmt *st = stmt(s, slot, out);
	free(out);
	return st;
}

/* ---- days ---- */

static int64_t dn_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_dn(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DD" as a day number: 0, or -1 when it is not a day. */
static int dn_parse(const char *t, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!t || strlen(t) != 10 || t[4] != '-' || t[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
			return -1;
	int y = atoi(t), m = atoi(t + 5), d = atoi(t + 8);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return -1;
	*out = dn_civil(y, m, d);
	return 0;
}

static void dn_text(int64_t dn, char out[11])
{
	int y, m, d;
	civil_dn(dn, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
}

/* Months counted from year 0: y * 12 + (m - 1). */
static int64_t dn_month(int64_t dn)
{
	int y, m, d;
	civil_dn(dn, &y, &m, &d);
	return (int64_t)y * 12 + m - 1;
}

static int64_t month_first(int64_t mi)
{
	return dn_civil(mi / 12, (int)(mi % 12) + 1, 1);
}

static int64_t monday_of(int64_t dn)
{
	return dn - (((dn + 3) % 7) + 7) % 7; /* 1970-01-05, day 4, was a Monday */
}

/* ---- SQL functions: a member's bitmaps ---- */

/* dash_came(first_dn, days, lo, hi): 1 when the days bitmap (bit i: a visit on first_dn + i) has a day in lo..hi. */
static void fn_came(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	(void)argc;
	int64_t first = sqlite3_value_int64(v[0]);
	const unsigned char *b = sqlite3_value_blob(v[1]);
	int64_t bits = (int64_t)sqlite3_value_bytes(v[1]) * 8;
	int64_t lo = sqlite3_value_int64(v[2]) - first, hi = sqlite3_value_int64(v[3]) - first;
	if (lo < 0)
		lo = 0;
	if (hi > bits - 1)
		hi = bits - 1;
	int any = 0;
	for (int64_t i = lo; b && i <= hi && !any;) {
		if (i % 8 == 0 && i + 7 <= hi) { /* a whole byte */
			any = b[i / 8] != 0;
			i += 8;
		} else {
			any = (b[i / 8] >> (i % 8)) & 1;
			i++;
		}
	}
	sqlite3_result_int(cx, any);
}

/* dash_bit(bitmap, k): bit k. */
static void fn_bit(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	(void)argc;
	const unsigned char *b = sqlite3_value_blob(v[0]);
	int64_t k = sqlite3_value_int64(v[1]), n = sqlite3_value_bytes(v[0]);
	sqlite3_result_int(cx, b && k >= 0 && k / 8 < n ? (b[k / 8] >> (k % 8)) & 1 : 0);
}

/* The functions and the refresh's temporary tables, on the first use of the connection. */
static hub_err ready(sq *s)
{
	if (s->dash_ready)
		return HUB_OK;
	int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	if (sqlite3_create_function(s->db, "dash_came", 4, f, NULL, fn_came, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "dash_bit", 2, f, NULL, fn_bit, NULL, NULL) != SQLITE_OK)
		return fail(s, sqlite3_errcode(s->db));
	hub_err e = exec(s, "CREATE TEMP TABLE IF NOT EXISTS dash_m(rid INTEGER PRIMARY KEY);"
			    "CREATE TEMP TABLE IF NOT EXISTS dash_d(venue_id TEXT NOT NULL, dn INTEGER NOT NULL,"
			    " PRIMARY KEY(venue_id, dn)) WITHOUT ROWID;"
			    "CREATE TEMP TABLE IF NOT EXISTS dash_e(uid TEXT PRIMARY KEY) WITHOUT ROWID;");
	if (e == HUB_OK)
		s->dash_ready = 1;
	return e;
}

void hsq_dash_close(sq *s)
{
	for (int i = 0; i < SQ_DASH_STMTS; i++)
		sqlite3_finalize(s->dash[i]);
}

/* ---- marks (inside the change's transaction) ---- */

hub_err hsq_dash_reversed(sq *s, const char *checkin_id)
{
	sqlite3_stmt *st = qr(s, R_DIRTY_CHECKIN);
	if (!st)
		return HUB_ERR;
	bt(st, 1, checkin_id);
	return done(s, st);
}

hub_err hsq_dash_member_changed(sq *s, const char *uid)
{
	sqlite3_stmt *st = qr(s, R_DIRTY_UID);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	return done(s, st);
}

/* Run which with the integers a (and b) as ?1 (and ?2). */
static hub_err run2(sq *s, int which, int64_t a, int64_t b)
{
	sqlite3_stmt *st = qr(s, which);
	if (!st)
		return HUB_ERR;
	bi(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		bi(st, 2, b);
	return done(s, st);
}

hub_err hsq_dash_merging(sq *s, int64_t keep, int64_t gone)
{
	hub_err e;
	/* gone's check-ins are about to count for keep: both members' summaries change */
	if ((e = run2(s, R_DIRTY_GONE, gone, 0)) != HUB_OK || (e = run2(s, R_DIRTY_MEMBER, gone, 0)) != HUB_OK ||
	    (e = run2(s, R_DIRTY_MEMBER, keep, 0)) != HUB_OK)
		return e;
	/* who brought gone brought keep, unless keep was brought by someone already; whom gone brought,
	 * keep brought; keep brought by gone is no referral */
	if ((e = run2(s, R_REF_MOVE, keep, gone)) != HUB_OK || (e = run2(s, R_REF_DROP, gone, 0)) != HUB_OK ||
	    (e = run2(s, R_REF_REPOINT, keep, gone)) != HUB_OK)
		return e;
	return run2(s, R_REF_SELF, keep, 0);
}

hub_err hsq_dash_live(sq *s, const char *slug, const char *ref, int hit, int64_t now)
{
	sqlite3_stmt *st = qr(s, R_LIVE_VENUE);
	if (!st)
		return HUB_ERR;
	bt(st, 1, slug);
	hub_err e = row(s, st);
	if (e != HUB_OK)
		return e == HUB_NOT_FOUND ? HUB_OK : e;
	char venue[HUB_ID_MAX], tz[HUB_TZ_MAX], day[11];
	cpy(venue, sizeof venue, ct(st, 0));
	cpy(tz, sizeof tz, ct(st, 1));
	sqlite3_reset(st);
	hub_day(tz, now, &s->live_day, day);
	int with_ref = hit && ref && ref[0];
	if (!(st = qr(s, R_LIVE_DAY)))
		return HUB_ERR;
	bt(st, 1, day);
	bt(st, 2, slug);
	bt(st, 3, venue);
	bi(st, 4, hit ? 1 : 0);
	bi(st, 5, hit ? 0 : 1);
	bi(st, 6, with_ref);
	if ((e = done(s, st)) != HUB_OK || !with_ref)
		return e;
	if (!(st = qr(s, R_LIVE_REF)))
		return HUB_ERR;
	bt(st, 1, day);
	bt(st, 2, slug);
	bt(st, 3, ref);
	bt(st, 4, venue);
	return done(s, st);
}

/* ---- refresh ---- */

/* What one member's summary is built in (kept across members). */
typedef struct mbuf {
	int64_t *dn;
	size_t n, cap;
	unsigned char *days, *months;
	size_t days_cap, months_cap;
} mbuf;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* A day (and an event) whose first-timer counts change. */
static hub_err mark_day(sq *s, const char *venue, int64_t dn)
{
	sqlite3_stmt *st = qr(s, R_D_ADD);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	bi(st, 2, dn);
	return done(s, st);
}

static hub_err mark_event(sq *s, const char *uid)
{
	if (!uid[0])
		return HUB_OK;
	sqlite3_stmt *st = qr(s, R_E_ADD);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	return done(s, st);
}

/* The member a refresh recomputes: their row number and what member_stats keeps of their row. */
typedef struct who {
	int64_t rid;
	char venue[HUB_ID_MAX], name[STORE_NAME_MAX], expires[16];
	int current; /* not merged, not deleted: only current members are summed up */
} who;

/* Recompute a member's summary from their counted check-ins. */
static hub_err member_redo(sq *s, const who *w, mbuf *mb)
{
	int64_t rid = w->rid;
	const char *venue = w->venue;
	sqlite3_stmt *st = qr(s, R_MS_OLD);
	if (!st)
		return HUB_ERR;
	bi(st, 1, rid);
	int rc = sqlite3_step(st);
	int had = rc == SQLITE_ROW;
	int64_t old_first = had ? sqlite3_column_int64(st, 0) : 0;
	int old_qr = had ? sqlite3_column_int(st, 1) : 0;
	char old_ev[HUB_ID_MAX], first_ev[HUB_ID_MAX] = "";
	cpy(old_ev, sizeof old_ev, had ? ct(st, 2) : "");
	hub_err e = ended(s, st, rc);
	if (e != HUB_OK)
		return e;

	if (!(st = qr(s, R_MS_VISITS)))
		return HUB_ERR;
	bi(st, 1, rid);
	mb->n = 0;
	int first_qr = 0;
	int64_t last_ms = 0;
	while (w->current && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t dn;
		if (dn_parse(ct(st, 0), &dn) != 0)
			continue;
		if (grow((void **)&mb->dn, &mb->cap, mb->n + 1, sizeof *mb->dn) != 0) {
			sqlite3_reset(st);
			return refuse(s, HUB_ERR, "out of memory");
		}
		if (mb->n == 0) {
			first_qr = (sqlite3_column_int64(st, 1) & 2) != 0;
			cpy(first_ev, sizeof first_ev, ct(st, 2));
		}
		mb->dn[mb->n++] = dn;
		last_ms = sqlite3_column_int64(st, 3);
	}
	if ((e = ended(s, st, w->current ? rc : SQLITE_DONE)) != HUB_OK)
		return e;

	size_t n = mb->n;
	int64_t first = n ? mb->dn[0] : 0, last = first;
	for (size_t i = 0; i < n; i++)
		last = mb->dn[i] > last ? mb->dn[i] : last;
	if (n) {
		/* the days bitmap from the first visit's day, the months one from its month */
		int64_t m0 = dn_month(first);
		size_t dbytes = (size_t)((last - first) / 8 + 1), mbytes = (size_t)((dn_month(last) - m0) / 8 + 1);
		if (grow((void **)&mb->days, &mb->days_cap, dbytes, 1) != 0 ||
		    grow((void **)&mb->months, &mb->months_cap, mbytes, 1) != 0)
			return refuse(s, HUB_ERR, "out of memory");
		memset(mb->days, 0, dbytes);
		memset(mb->months, 0, mbytes);
		for (size_t i = 0; i < n; i++) {
			int64_t d = mb->dn[i] - first, k = dn_month(mb->dn[i]) - m0;
			if (d >= 0)
				mb->days[d / 8] |= (unsigned char)(1u << (d % 8));
			if (k >= 0)
				mb->months[k / 8] |= (unsigned char)(1u << (k % 8));
		}
		if (!(st = qr(s, R_MS_PUT)))
			return HUB_ERR;
		bi(st, 1, rid);
		bt(st, 2, venue);
		bi(st, 3, (int64_t)n);
		bi(st, 4, first);
		static const size_t nth[] = {1, 2, 9}; /* the 2nd, 3rd and 10th */
		for (int i = 0; i < 3; i++)
			if (n > nth[i])
				bi(st, 5 + i, mb->dn[nth[i]]);
		bi(st, 8, last);
		bi(st, 9, first_qr);
		bt(st, 10, first_ev[0] ? first_ev : NULL);
		sqlite3_bind_blob(st, 11, mb->days, (int)dbytes, SQLITE_STATIC);
		sqlite3_bind_blob(st, 12, mb->months, (int)mbytes, SQLITE_STATIC);
		bt(st, 13, w->name);
		int64_t exp;
		if (dn_parse(w->expires, &exp) == 0)
			bi(st, 14, exp);
		bi(st, 15, last_ms);
	} else {
		if (!had)
			return HUB_OK;
		if (!(st = qr(s, R_MS_DEL)))
			return HUB_ERR;
		bi(st, 1, rid);
	}
	if ((e = done(s, st)) != HUB_OK)
		return e;
	/* a first visit that moved (or came, or went) changes the first-timers of its days and events */
	if (n && (!had || old_first != first || old_qr != first_qr) && (e = mark_day(s, venue, first)) != HUB_OK)
		return e;
	if (had && (!n || old_first != first || old_qr != first_qr) && (e = mark_day(s, venue, old_first)) != HUB_OK)
		return e;
	if (strcmp(old_ev, first_ev) != 0 &&
	    ((e = mark_event(s, old_ev)) != HUB_OK || (e = mark_event(s, first_ev)) != HUB_OK))
		return e;
	return HUB_OK;
}

/* Whether rid is to be recounted whole (1), after adding it there when add is set; or a hub_err. */
static int full(sq *s, int64_t rid, int add)
{
	sqlite3_stmt *st = qr(s, add ? R_M_ADD : R_M_FULL);
	if (!st)
		return HUB_ERR;
	bi(st, 1, rid);
	if (add) {
		hub_err e = done(s, st);
		return e == HUB_OK ? 1 : (int)e;
	}
	int rc = sqlite3_step(st);
	hub_err e = ended(s, st, rc);
	return e != HUB_OK ? (int)e : rc == SQLITE_ROW;
}

/* Set bit k of the bitmap b (of *len bytes, grown to hold it, new bytes 0). */
static int set_bit(unsigned char **b, size_t *cap, size_t *len, int64_t k)
{
	size_t need = (size_t)(k / 8 + 1);
	if (need > *len) {
		if (grow((void **)b, cap, need, 1) != 0)
			return -1;
		memset(*b + *len, 0, need - *len);
		*len = need;
	}
	(*b)[k / 8] |= (unsigned char)(1u << (k % 8));
	return 0;
}

/*
 * A new visit of member rid on day dn at ms: added to their summary when it
 * is after their last visit (what a push of this evening's check-ins is),
 * without reading their other check-ins. A member with no summary yet, or a
 * visit that goes before their last one (a kiosk that was offline), is
 * recounted whole instead.
 */
static hub_err append_one(sq *s, int64_t rid, int64_t dn, int64_t ms, mbuf *mb)
{
	int f = full(s, rid, 0);
	if (f != 0)
		return f < 0 ? (hub_err)f : HUB_OK;
	sqlite3_stmt *st = qr(s, R_MS_TAIL);
	if (!st)
		return HUB_ERR;
	bi(st, 1, rid);
	hub_err e = row(s, st);
	if (e == HUB_NOT_FOUND)
		return (f = full(s, rid, 1)) < 0 ? (hub_err)f : HUB_OK;
	if (e != HUB_OK)
		return e;
	int64_t visits = sqlite3_column_int64(st, 0), first = sqlite3_column_int64(st, 1);
	int64_t last = sqlite3_column_int64(st, 2), last_ms = sqlite3_column_int64(st, 3);
	size_t dlen = (size_t)sqlite3_column_bytes(st, 4), mlen = (size_t)sqlite3_column_bytes(st, 5);
	int oom = grow((void **)&mb->days, &mb->days_cap, dlen + 1, 1) != 0 ||
		  grow((void **)&mb->months, &mb->months_cap, mlen + 1, 1) != 0;
	if (!oom) {
		memcpy(mb->days, sqlite3_column_blob(st, 4), dlen);
		memcpy(mb->months, sqlite3_column_blob(st, 5), mlen);
	}
	sqlite3_reset(st);
	if (oom)
		return refuse(s, HUB_ERR, "out of memory");
	if (ms < last_ms || dn < last)
		return (f = full(s, rid, 1)) < 0 ? (hub_err)f : HUB_OK;
	if (set_bit(&mb->days, &mb->days_cap, &dlen, dn - first) != 0 ||
	    set_bit(&mb->months, &mb->months_cap, &mlen, dn_month(dn) - dn_month(first)) != 0)
		return refuse(s, HUB_ERR, "out of memory");
	visits++;
	if (!(st = qr(s, R_MS_APPEND)))
		return HUB_ERR;
	bi(st, 1, rid);
	bi(st, 2, visits);
	if (visits == 2 || visits == 3 || visits == 10)
		bi(st, visits == 2 ? 3 : visits == 3 ? 4 : 5, dn);
	bi(st, 6, dn);
	bi(st, 7, ms);
	sqlite3_bind_blob(st, 8, mb->days, (int)dlen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, mb->months, (int)mlen, SQLITE_STATIC);
	return done(s, st);
}

static hub_err append_new(sq *s, int64_t mark, int64_t top, mbuf *mb)
{
	sqlite3_stmt *st = qr(s, R_NEW_EACH);
	if (!st)
		return HUB_ERR;
	bi(st, 1, mark);
	bi(st, 2, top);
	hub_err e = HUB_OK;
	int rc;
	while (e == HUB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(st, 0), dn;
		if (dn_parse(ct(st, 1), &dn) != 0) {
			int f = full(s, rid, 1);
			e = f < 0 ? (hub_err)f : HUB_OK;
		} else {
			e = append_one(s, rid, dn, sqlite3_column_int64(st, 2), mb);
		}
	}
	if (e != HUB_OK) {
		sqlite3_reset(st);
		return e;
	}
	return ended(s, st, rc);
}

static hub_err int_q(sq *s, int which, int64_t *out)
{
	sqlite3_stmt *st = qr(s, which);
	if (!st)
		return HUB_ERR;
	hub_err e = int_of(s, st, out);
	if (e == HUB_NOT_FOUND) {
		*out = 0;
		e = HUB_OK;
	}
	return e;
}

/* The mark, the last check-in row and whether anything is marked. */
static hub_err changes(sq *s, int64_t *mark, int64_t *top, int64_t *dirty)
{
	hub_err e = int_q(s, R_MARK_GET, mark);
	if (e == HUB_OK)
		e = int_q(s, R_MAX_ROWID, top);
	if (e == HUB_OK)
		e = int_q(s, R_DIRTY_ANY, dirty);
	return e;
}

static hub_err refresh(sq *s, int64_t mark, int64_t top)
{
	/* from the first check-in: every summary is made anew (visits are added to what is there) */
	hub_err e = mark ? HUB_OK
			 : exec(s, "DELETE FROM member_stats; DELETE FROM day_stats; DELETE FROM week_stats;"
				   " DELETE FROM event_stats;");
	if (e == HUB_OK)
		e = run2(s, R_M_MARKED, 0, 0);
	if (e == HUB_OK)
		e = run2(s, R_D_NEW, mark, top);
	if (e == HUB_OK)
		e = run2(s, R_E_NEW, mark, top);
	if (e != HUB_OK)
		return e;
	mbuf mb = {0};
	if ((e = append_new(s, mark, top, &mb)) != HUB_OK) {
		free(mb.dn);
		free(mb.days);
		free(mb.months);
		return e;
	}
	sqlite3_stmt *st = qr(s, R_M_EACH);
	int rc = SQLITE_DONE;
	if (!st)
		e = HUB_ERR;
	while (e == HUB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		who w = {.rid = sqlite3_column_int64(st, 0), .current = sqlite3_column_int(st, 4)};
		cpy(w.venue, sizeof w.venue, ct(st, 1));
		cpy(w.name, sizeof w.name, ct(st, 2));
		cpy(w.expires, sizeof w.expires, ct(st, 3));
		if ((e = member_redo(s, &w, &mb)) != HUB_OK)
			break;
	}
	free(mb.dn);
	free(mb.days);
	free(mb.months);
	if (e != HUB_OK) {
		sqlite3_reset(st);
		return e;
	}
	if ((e = ended(s, st, rc)) != HUB_OK)
		return e;
	/* days after members (first-timers read member_stats), weeks from days */
	static const int then[] = {R_DAYS_PUT, R_WEEKS_PUT, R_EVENTS_PUT};
	for (size_t i = 0; i < sizeof then / sizeof then[0] && e == HUB_OK; i++)
		e = (st = qr(s, then[i])) ? done(s, st) : HUB_ERR;
	if (e == HUB_OK)
		e = exec(s, rsql[R_CLEAR]);
	if (e == HUB_OK)
		e = run2(s, R_MARK_SET, top, 0);
	return e;
}

hub_err hsq_dash_refresh(hub_store *b, const char *venue)
{
	sq *s = (sq *)b;
	/* Every venue's changes at once, whatever venue asks: what a refresh costs follows what
	 * changed, and check-ins are marked by row number, which is not a venue's. */
	(void)venue;
	hub_err e = ready(s);
	int64_t mark = 0, top = 0, dirty = 0;
	if (e == HUB_OK)
		e = changes(s, &mark, &top, &dirty);
	if (e != HUB_OK || (top == mark && !dirty))
		return e;
	if ((e = begin(s)) != HUB_OK)
		return e;
	/* again under the lock: another connection may have refreshed in between */
	if ((e = changes(s, &mark, &top, &dirty)) == HUB_OK && (top != mark || dirty))
		e = refresh(s, mark, top);
	return end_tx(s, e);
}

/* ---- periods ---- */

typedef struct per {
	const char *venue;
	int64_t from, to;     /* day numbers */
	char from_s[11], to_s[11];
} per;

/* Check p and open a read transaction over it. */
static hub_err period(sq *s, const hub_period *p, per *out)
{
	hub_err e = ready(s);
	if (e != HUB_OK)
		return e;
	if (!p || dn_parse(p->from, &out->from) != 0 || dn_parse(p->to, &out->to) != 0 || out->from > out->to)
		return refuse(s, HUB_INVALID, "a period runs from a day to a later one (YYYY-MM-DD)");
	if (out->to - out->from > 366 * 50)
		return refuse(s, HUB_INVALID, "a period of at most 50 years");
	out->venue = p->venue_id;
	dn_text(out->from, out->from_s);
	dn_text(out->to, out->to_s);
	if ((e = exec(s, "BEGIN")) != HUB_OK)
		return e;
	if (out->venue) {
		sqlite3_stmt *st = prepare_v(s, &s->dash[V_BASE + 2 * V_VENUE], vsql[V_VENUE], 0);
		if (!st)
			return rollback(s, HUB_ERR);
		bt(st, 1, out->venue);
		if ((e = row(s, st)) != HUB_OK)
			return rollback(s, e == HUB_NOT_FOUND ? refuse(s, e, "no venue %s", out->venue) : e);
		sqlite3_reset(st);
	}
	return HUB_OK;
}

/* The end of a read: its transaction closed; e. */
static hub_err over(sq *s, hub_err e)
{
	if (e == HUB_OK)
		exec(s, "COMMIT");
	else
		rollback(s, e);
	return e;
}

/* Statement which of the period's form, with the period bound. */
static sqlite3_stmt *qv(sq *s, int which, const per *p)
{
	int all = p->venue == NULL;
	sqlite3_stmt *st = prepare_v(s, &s->dash[V_BASE + 2 * which + all], vsql[which], all);
	if (!st)
		return NULL;
	int n = sqlite3_bind_parameter_count(st);
	if (!all)
		bt(st, 1, p->venue);
	if (n >= 2)
		bi(st, 2, p->from);
	if (n >= 3)
		bi(st, 3, p->to);
	if (n >= 4)
		bt(st, 4, p->from_s);
	if (n >= 5)
		bt(st, 5, p->to_s);
	return st;
}

/* One integer (and a second) from st's one row. */
static hub_err ints(sq *s, sqlite3_stmt *st, int64_t *a, int64_t *b2)
{
	if (!st)
		return HUB_ERR;
	hub_err e = row(s, st);
	if (e == HUB_NOT_FOUND) {
		*a = 0;
		if (b2)
			*b2 = 0;
		return HUB_OK;
	}
	if (e == HUB_OK) {
		*a = sqlite3_column_int64(st, 0);
		if (b2)
			*b2 = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
	}
	return e;
}

/* ---- attendance ---- */

/* Distinct members who came between days lo and hi (a cut week). */
static hub_err cut_week(sq *s, const per *p, int64_t lo, int64_t hi, int64_t *out)
{
	sqlite3_stmt *st = qv(s, V_CUT, p);
	if (!st)
		return HUB_ERR;
	char a[11], z[11];
	dn_text(lo, a);
	dn_text(hi, z);
	bt(st, 6, a);
	bt(st, 7, z);
	return ints(s, st, out, NULL);
}

hub_err hsq_dash_attendance(hub_store *b, const hub_period *hp, hub_dash_attendance *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	int64_t m0 = monday_of(p.from), m1 = monday_of(p.to);
	size_t nw = (size_t)((m1 - m0) / 7 + 1);
	hub_dash_week *w = calloc(nw, sizeof *w);
	if (!w)
		return over(s, refuse(s, HUB_ERR, "out of memory"));
	for (size_t i = 0; i < nw; i++)
		dn_text(m0 + 7 * (int64_t)i, w[i].monday);
	sqlite3_stmt *st = qv(s, V_DAYS, &p);
	int rc = SQLITE_DONE;
	if (!st)
		e = HUB_ERR;
	else {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			size_t i = (size_t)((sqlite3_column_int64(st, 0) - m0) / 7);
			w[i].visits += sqlite3_column_int64(st, 1);
			w[i].first_timers += sqlite3_column_int64(st, 2);
			out->visits += sqlite3_column_int64(st, 1);
		}
		e = ended(s, st, rc);
	}
	if (e == HUB_OK)
		e = ints(s, qv(s, V_FIRSTS, &p), &out->first_timers, NULL);
	if (e == HUB_OK)
		e = ints(s, qv(s, V_CAME, &p), &out->members, NULL);
	out->returning = out->members - out->first_timers;
	/* whole weeks from week_stats; the period's cut first and last from the check-ins */
	int64_t lo = m0 < p.from ? m0 + 7 : m0, hi = m1 + 6 > p.to ? m1 - 7 : m1;
	if (e == HUB_OK && lo <= hi) {
		if (!(st = qv(s, V_WEEKS, &p)))
			e = HUB_ERR;
		else {
			bi(st, 6, lo);
			bi(st, 7, hi);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				w[(sqlite3_column_int64(st, 0) - m0) / 7].members = sqlite3_column_int64(st, 1);
			e = ended(s, st, rc);
		}
	}
	if (e == HUB_OK && m0 < p.from)
		e = cut_week(s, &p, p.from, m0 + 6 < p.to ? m0 + 6 : p.to, &w[0].members);
	if (e == HUB_OK && m1 + 6 > p.to && !(m1 == m0 && m0 < p.from))
		e = cut_week(s, &p, m1 > p.from ? m1 : p.from, p.to, &w[nw - 1].members);
	if (e != HUB_OK) {
		free(w);
		memset(out, 0, sizeof *out);
		return over(s, e);
	}
	out->weeks = w;
	out->nweeks = nw;
	return over(s, HUB_OK);
}

/* ---- events ---- */

hub_err hsq_dash_events(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_event *e, void *ctx),
			void *ctx)
{
	sq *s = (sq *)b;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_EVENTS, &p);
	if (!st)
		return over(s, HUB_ERR);
	bi(st, 6, (p.from - 1) * DAY_MS);
	bi(st, 7, (p.to + 2) * DAY_MS);
	hub_day_cache days = {0};
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char day[11];
		int64_t start = sqlite3_column_int64(st, 3);
		hub_day(ct(st, 7), start, &days, day);
		if (strcmp(day, p.from_s) < 0 || strcmp(day, p.to_s) > 0)
			continue;
		hub_dash_event ev = {
		    .uid = ct(st, 0),
		    .title = ct(st, 1),
		    .venue_id = ct(st, 2),
		    .start_ms = start,
		    .cancelled = sqlite3_column_int(st, 4),
		    .visits = sqlite3_column_int64(st, 5),
		    .first_timers = sqlite3_column_int64(st, 6),
		};
		if (fn(&ev, ctx))
			break;
	}
	return over(s, ended(s, st, rc));
}

/* ---- funnel, cohorts, groups ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double median(int64_t *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof *v, cmp_i64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

hub_err hsq_dash_funnel(hub_store *b, const hub_period *hp, hub_dash_funnel *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	out->median_days_1_2 = out->median_days_2_3 = -1;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_FUNNEL, &p);
	if (!st)
		return over(s, HUB_ERR);
	int64_t *d12 = NULL, *d23 = NULL;
	size_t cap12 = 0, cap23 = 0, n12 = 0, n23 = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t first = sqlite3_column_int64(st, 0), second = sqlite3_column_int64(st, 1);
		out->first++;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue;
		out->second++;
		if (grow((void **)&d12, &cap12, n12 + 1, sizeof *d12) != 0)
			break;
		d12[n12++] = second - first;
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			continue;
		out->third++;
		if (grow((void **)&d23, &cap23, n23 + 1, sizeof *d23) != 0)
			break;
		d23[n23++] = sqlite3_column_int64(st, 2) - second;
		out->tenth += sqlite3_column_type(st, 3) != SQLITE_NULL;
	}
	e = rc == SQLITE_ROW ? refuse(s, HUB_ERR, "out of memory") : HUB_OK;
	sqlite3_reset(st);
	if (e == HUB_OK && rc != SQLITE_DONE)
		e = fail(s, rc);
	out->median_days_1_2 = median(d12, n12);
	out->median_days_2_3 = median(d23, n23);
	free(d12);
	free(d23);
	return over(s, e);
}

void hub_dash_cohorts_free(hub_dash_cohorts *c)
{
	if (!c)
		return;
	free(c->month);
	free(c->size);
	free(c->seen);
	memset(c, 0, sizeof *c);
}

hub_err hsq_dash_cohorts(hub_store *b, const hub_period *hp, hub_dash_cohorts *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	int64_t mi0 = dn_month(p.from), mi1 = dn_month(p.to);
	size_t nc = (size_t)(mi1 - mi0 + 1), mo = nc - 1;
	out->ncohorts = nc;
	out->max_offset = mo;
	out->month = calloc(nc, sizeof *out->month);
	out->size = calloc(nc, sizeof *out->size);
	out->seen = calloc(nc * mo + 1, sizeof *out->seen);
	if (!out->month || !out->size || !out->seen) {
		hub_dash_cohorts_free(out);
		return over(s, refuse(s, HUB_ERR, "out of memory"));
	}
	for (size_t c = 0; c < nc; c++) {
		int64_t mi = mi0 + (int64_t)c;
		snprintf(out->month[c], sizeof out->month[c], "%04u-%02u", (unsigned)(mi / 12) % 10000u,
			 ((unsigned)(mi % 12) + 1u) % 100u);
		for (size_t k = 1; k <= mo; k++)
			out->seen[c * mo + k - 1] = c + k < nc ? 0 : -1; /* -1: past the period's end */
	}
	sqlite3_stmt *st = qv(s, V_COHORTS, &p);
	if (!st) {
		hub_dash_cohorts_free(out);
		return over(s, HUB_ERR);
	}
	bi(st, 6, month_first(mi0));
	bi(st, 7, month_first(mi1 + 1) - 1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t c = (size_t)(dn_month(sqlite3_column_int64(st, 0)) - mi0);
		const unsigned char *bits = sqlite3_column_blob(st, 1);
		size_t nbits = (size_t)sqlite3_column_bytes(st, 1) * 8;
		out->size[c]++;
		for (size_t k = 1; c + k < nc && k < nbits; k++)
			if ((bits[k / 8] >> (k % 8)) & 1)
				out->seen[c * mo + k - 1]++;
	}
	if ((e = ended(s, st, rc)) != HUB_OK)
		hub_dash_cohorts_free(out);
	return over(s, e);
}

hub_err hsq_dash_groups(hub_store *b, const hub_period *hp, hub_dash_groups *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	return over(s, ints(s, qv(s, V_FIRSTS, &p), &out->first_timers, &out->first_timers_shown_qr));
}

/* ---- the members behind a number ---- */

hub_err hsq_dash_members(hub_store *b, const hub_period *hp, hub_dash_list list, const char *arg, int64_t n,
			 int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	if (total)
		*total = 0;
	if ((int)list < 0 || (int)list >= NLISTS)
		return refuse(s, HUB_INVALID, "no such list");
	int needs_arg = list == HUB_DL_COHORT || list == HUB_DL_EVENT || list == HUB_DL_WEEK ||
			list == HUB_DL_REFERRED_BY || list == HUB_DL_TIER;
	if (needs_arg && !arg)
		return refuse(s, HUB_INVALID, "this list is of a month, an event, a week, a member or a tier");
	if ((list == HUB_DL_REACHED && n < 1) || n < 0 || (list == HUB_DL_EXPIRING && n < 1) || n > 100000)
		return refuse(s, HUB_INVALID, "not a number this list takes: %lld", (long long)n);
	int64_t lo = 0, hi = 0, wk = 0;
	if (list == HUB_DL_COHORT) {
		int y = 0, mo = 0;
		char rest = 0;
		if (strlen(arg) != 7 || sscanf(arg, "%4d-%2d%c", &y, &mo, &rest) != 2 || mo < 1 || mo > 12)
			return refuse(s, HUB_INVALID, "not a month (YYYY-MM): %s", arg);
		lo = dn_civil(y, mo, 1);
		hi = month_first((int64_t)y * 12 + mo) - 1;
	}
	if (list == HUB_DL_WEEK && (dn_parse(arg, &wk) != 0 || monday_of(wk) != wk))
		return refuse(s, HUB_INVALID, "not a Monday (YYYY-MM-DD): %s", arg);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	int all = p.venue == NULL;
	sqlite3_stmt *st[2];
	/* bound as they are (SQLITE_STATIC): they live until both statements are done */
	char a[11], z[11], after[11];
	dn_text(wk > p.from ? wk : p.from, a);
	dn_text(wk + 6 < p.to ? wk + 6 : p.to, z);
	dn_text(p.to + n, after);
	for (int rows = 0; rows < 2; rows++) {
		sqlite3_stmt **slot = &s->dash[L_BASE + ((int)list * 2 + all) * 2 + rows];
		char text[2048];
		const char *by = lsql[list].by_last ? "last DESC, name, rid" : "name, rid",
			   *xby = lsql[list].by_last ? "x.last DESC, x.name, x.rid" : "x.name, x.rid";
		if (rows)
			snprintf(text, sizeof text,
				 "SELECT " LIST_COLS " FROM (SELECT %s%s ORDER BY %s LIMIT ?8) x"
				 " JOIN members m ON m.rowid = x.rid LEFT JOIN member_stats ms ON ms.member_rid = x.rid"
				 " ORDER BY %s",
				 lsql[list].cols, lsql[list].from, by, xby);
		else if (lsql[list].count)
			snprintf(text, sizeof text, "%s", lsql[list].count);
		else
			snprintf(text, sizeof text, "SELECT count(*)%s", lsql[list].from);
		if (!(st[rows] = prepare_v(s, slot, text, all)))
			return over(s, HUB_ERR);
		sqlite3_stmt *q = st[rows];
		int np = sqlite3_bind_parameter_count(q);
		if (!all)
			bt(q, 1, p.venue);
		const int64_t iv[14] = {[2] = p.from, [3] = p.to, [7] = n, [8] = limit > 0 ? limit : -1,
					[11] = lo, [12] = hi};
		const char *tv[14] = {[4] = p.from_s, [5] = p.to_s, [6] = arg, [9] = a, [10] = z, [13] = after};
		for (int i = 2; i <= np && i <= 13; i++) {
			if (tv[i])
				bt(q, i, tv[i]);
			else
				bi(q, i, iv[i]);
		}
	}
	int64_t count = 0;
	if ((e = ints(s, st[0], &count, NULL)) != HUB_OK)
		return over(s, e);
	if (total)
		*total = count;
	int rc;
	while ((rc = sqlite3_step(st[1])) == SQLITE_ROW) {
		sqlite3_stmt *q = st[1];
		hub_dash_member m = {
		    .uid = ct(q, 0),
		    .name = ct(q, 1),
		    .phone = ct(q, 2),
		    .code = ct(q, 3),
		    .tier = ct(q, 4),
		    .expires = ct(q, 5),
		    .venue_id = ct(q, 6),
		    .visits = sqlite3_column_int64(q, 7),
		    .referrals = sqlite3_column_int64(q, 10),
		};
		if (sqlite3_column_type(q, 8) != SQLITE_NULL) {
			dn_text(sqlite3_column_int64(q, 8), m.first_day);
			dn_text(sqlite3_column_int64(q, 9), m.last_day);
		}
		if (fn && fn(&m, ctx))
			break;
	}
	return over(s, ended(s, st[1], rc));
}

/* ---- referrals ---- */

hub_err hsq_dash_referrers(hub_store *b, const hub_period *hp, int limit,
			   int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_REFERRERS, &p);
	if (!st)
		return over(s, HUB_ERR);
	bi(st, 6, limit > 0 ? limit : -1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_dash_referrer r = {
		    .uid = ct(st, 0),
		    .name = ct(st, 1),
		    .brought = sqlite3_column_int64(st, 2),
		    .brought_all = sqlite3_column_int64(st, 3),
		    .invites_followed = sqlite3_column_int64(st, 4),
		};
		if (fn(&r, ctx))
			break;
	}
	return over(s, ended(s, st, rc));
}

hub_err hsq_dash_referral_tree(hub_store *b, const char *member_uid, int max_depth,
			       int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	hub_err e = ready(s);
	if (e != HUB_OK || (e = exec(s, "BEGIN")) != HUB_OK)
		return e;
	sqlite3_stmt *st = qr(s, R_ROOT);
	int64_t root = 0;
	if (!st)
		return over(s, HUB_ERR);
	bt(st, 1, member_uid);
	if ((e = int_of(s, st, &root)) != HUB_OK)
		return over(s, e == HUB_NOT_FOUND ? refuse(s, e, "no member %s", member_uid ? member_uid : "") : e);
	if (!(st = qr(s, R_TREE)))
		return over(s, HUB_ERR);
	bi(st, 1, root);
	bi(st, 2, max_depth > 0 && max_depth < 1000 ? max_depth : 1000);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_dash_referral r = {
		    .member_uid = ct(st, 0),
		    .member_name = ct(st, 1),
		    .referrer_uid = ct(st, 2),
		    .depth = sqlite3_column_int(st, 3),
		    .via = ct(st, 5),
		};
		cpy(r.day, sizeof r.day, ct(st, 4));
		if (fn(&r, ctx))
			break;
	}
	return over(s, ended(s, st, rc));
}

hub_err hsq_referral_of(hub_store *b, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
			void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = qr(s, R_BROUGHT_BY);
	if (!st)
		return HUB_ERR;
	bt(st, 1, member_uid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		hub_dash_referral r = {.member_uid = ct(st, 0),
				       .member_name = ct(st, 1),
				       .referrer_uid = ct(st, 2),
				       .depth = 1,
				       .via = ct(st, 4)};
		cpy(r.day, sizeof r.day, ct(st, 3));
		fn(&r, ctx);
	}
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

hub_err hsq_referral_add(hub_store *b, const char *member_uid, const char *referrer_uid, const char *via,
			 int64_t at_ms)
{
	sq *s = (sq *)b;
	if (!via || (strcmp(via, "visit") != 0 && strcmp(via, "signup") != 0 && strcmp(via, "console") != 0))
		return refuse(s, HUB_INVALID, "a referral is by \"visit\", \"signup\" or \"console\"");
	if (!member_uid || !referrer_uid)
		return refuse(s, HUB_INVALID, "a referral names a member and who brought them");
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	mrow m = {0}, r = {0};
	mrow *both[] = {&m, &r};
	const char *uids[] = {member_uid, referrer_uid};
	for (int i = 0; i < 2; i++) {
		int f = hsq_member_find(s, HSQ_BY_UID, uids[i], NULL, both[i]);
		if (f < 0)
			return rollback(s, (hub_err)f);
		if (!f)
			return rollback(s, refuse(s, HUB_NOT_FOUND, "no member %s", uids[i]));
		if (both[i]->deleted || both[i]->merged[0])
			return rollback(s, refuse(s, HUB_INVALID, "member %s was %s", uids[i],
						  both[i]->deleted ? "deleted" : "merged"));
	}
	if (m.rid == r.rid)
		return rollback(s, refuse(s, HUB_INVALID, "a member does not bring themselves"));
	if (strcmp(m.venue, r.venue) != 0)
		return rollback(s, refuse(s, HUB_INVALID, "%s and %s are members of different venues", m.uid, r.uid));
	sqlite3_stmt *st = qr(s, R_REF_HAS);
	if (!st)
		return rollback(s, HUB_ERR);
	bi(st, 1, m.rid);
	if ((e = row(s, st)) == HUB_OK) {
		sqlite3_reset(st);
		return rollback(s, refuse(s, HUB_EXISTS, "%s was brought by someone already", m.uid));
	}
	if (e != HUB_NOT_FOUND)
		return rollback(s, e);
	/* no loop: the member is not among those who (through others) brought the referrer */
	int64_t up = r.rid;
	for (int i = 0; i < 100000; i++) {
		if (!(st = qr(s, R_REF_UP)))
			return rollback(s, HUB_ERR);
		bi(st, 1, up);
		if ((e = int_of(s, st, &up)) == HUB_NOT_FOUND)
			break;
		if (e != HUB_OK)
			return rollback(s, e);
		if (up == m.rid)
			return rollback(s, refuse(s, HUB_INVALID, "%s brought %s (or someone who did)", m.uid, r.uid));
	}
	char tz[HUB_TZ_MAX] = "", day[11];
	if (!(st = qr(s, R_VENUE_TZ)))
		return rollback(s, HUB_ERR);
	bt(st, 1, m.venue);
	if ((e = row(s, st)) == HUB_OK) {
		cpy(tz, sizeof tz, ct(st, 0));
		sqlite3_reset(st);
	} else if (e != HUB_NOT_FOUND) {
		return rollback(s, e);
	}
	hub_day_cache dc = {0};
	hub_day(tz, at_ms, &dc, day);
	if (!(st = qr(s, R_REF_INSERT)))
		return rollback(s, HUB_ERR);
	bi(st, 1, m.rid);
	bi(st, 2, r.rid);
	bt(st, 3, via);
	bi(st, 4, at_ms);
	bt(st, 5, day);
	return end_tx(s, done(s, st));
}

/* ---- live codes ---- */

hub_err hsq_dash_redirects(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_redirects *r, void *ctx),
			   void *ctx)
{
	sq *s = (sq *)b;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_REDIRECTS, &p);
	if (!st)
		return over(s, HUB_ERR);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_dash_redirects r = {
		    .slug = ct(st, 0),
		    .redirects = sqlite3_column_int64(st, 2),
		    .missed = sqlite3_column_int64(st, 3),
		    .with_ref = sqlite3_column_int64(st, 4),
		};
		cpy(r.day, sizeof r.day, ct(st, 1));
		if (fn(&r, ctx))
			break;
	}
	return over(s, ended(s, st, rc));
}

/* A link as dash_links weighs it (its strings copied: a slug's links are read before any is given). */
typedef struct lk {
	char uid[HUB_ID_MAX], slug[HUB_SLUG_MAX], label[STORE_TITLE_MAX], platform[16], tz[HUB_TZ_MAX];
	int64_t cap, redirects, expires, created;
} lk;

static int lk_full(const lk *l)
{
	return l->cap > 0 && l->redirects >= l->cap;
}

/*
 * Give fn the links of one slug (v[0..n), in the order a live code walks
 * them) that are full, or expired in the period while the code still led to
 * them: just before it expired the link itself was valid (it was created
 * before, and it was not full: a link gains no redirect once full or
 * expired, so its count now is its count then), and every link before it
 * was expired or full. "Full by then" for those is read as full now: a link
 * that filled only after this one expired counts as full too early.
 */
static int links_of_slug(const lk *v, size_t n, const per *p, hub_day_cache *dc,
			 int (*fn)(const hub_dash_link *l, void *ctx), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const lk *l = &v[i];
		int live = 0;
		if (l->expires > 0 && l->created < l->expires && !lk_full(l)) {
			char day[11];
			hub_day(l->tz, l->expires, dc, day);
			live = strcmp(day, p->from_s) >= 0 && strcmp(day, p->to_s) <= 0;
			for (size_t j = 0; j < i && live; j++)
				live = (v[j].expires > 0 && v[j].expires < l->expires) || lk_full(&v[j]);
		}
		if (!live) {
			/* a full link belongs to a period it existed in: made by the period's end */
			char made[11];
			hub_day(l->tz, l->created, dc, made);
			if (!lk_full(l) || strcmp(made, p->to_s) > 0)
				continue;
		}
		hub_dash_link out = {
		    .uid = l->uid,
		    .slug = l->slug,
		    .label = l->label,
		    .platform = l->platform,
		    .cap = l->cap,
		    .redirects = l->redirects,
		    .expires_ms = l->expires,
		    .full = lk_full(l),
		    .expired_while_live = live,
		};
		if (fn(&out, ctx))
			return 1;
	}
	return 0;
}

hub_err hsq_dash_links(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_link *l, void *ctx),
		       void *ctx)
{
	sq *s = (sq *)b;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_LINKS, &p);
	if (!st)
		return over(s, HUB_ERR);
	lk *v = NULL;
	size_t n = 0, cap = 0;
	int rc, stop = 0;
	hub_day_cache dc = {0};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n && strcmp(v[n - 1].slug, ct(st, 1)) != 0) {
			if ((stop = links_of_slug(v, n, &p, &dc, fn, ctx)) != 0)
				break;
			n = 0;
		}
		if (grow((void **)&v, &cap, n + 1, sizeof *v) != 0) {
			e = refuse(s, HUB_ERR, "out of memory");
			break;
		}
		lk *l = &v[n++];
		cpy(l->uid, sizeof l->uid, ct(st, 0));
		cpy(l->slug, sizeof l->slug, ct(st, 1));
		cpy(l->label, sizeof l->label, ct(st, 2));
		cpy(l->platform, sizeof l->platform, ct(st, 3));
		l->cap = sqlite3_column_int64(st, 4);
		l->redirects = sqlite3_column_int64(st, 5);
		l->expires = sqlite3_column_int64(st, 6);
		l->created = sqlite3_column_int64(st, 7);
		cpy(l->tz, sizeof l->tz, ct(st, 8));
	}
	if (e == HUB_OK && rc == SQLITE_DONE && n)
		links_of_slug(v, n, &p, &dc, fn, ctx);
	free(v);
	if (e != HUB_OK) {
		sqlite3_reset(st);
		return over(s, e);
	}
	return over(s, ended(s, st, rc));
}

/* ---- tiers ---- */

hub_err hsq_dash_tiers(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_tier *t, void *ctx), void *ctx,
		       hub_dash_tiers *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = qv(s, V_TIERS, &p);
	if (!st)
		return over(s, HUB_ERR);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_dash_tier t = {.tier = ct(st, 0), .members = sqlite3_column_int64(st, 1)};
		if (fn && fn(&t, ctx))
			break;
	}
	if ((e = ended(s, st, rc)) != HUB_OK)
		return over(s, e);
	char after[11];
	dn_text(p.to + 30, after);
	if (!(st = qv(s, V_EXPIRING, &p)))
		return over(s, HUB_ERR);
	bt(st, 6, after);
	if ((e = ints(s, st, &out->expiring, NULL)) == HUB_OK)
		e = ints(s, qv(s, V_EXPIRED_COMING, &p), &out->expired_coming, NULL);
	return over(s, e);
}
