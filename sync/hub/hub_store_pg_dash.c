/*
 * hub_store_pg_dash — the community dashboard on the PostgreSQL store: the
 * summaries it reads, brought up to date lazily, and the questions it asks
 * of them (hub_store_dash.h; see hub_store_pg_impl.h for the parts). The
 * answers are the SQLite store's (hub_store_sqlite_dash.c) to the number,
 * summaries included: a push is seen by the dashboard after its next
 * dash_refresh, as there.
 *
 * A visit is a counted check-in (duplicate_of IS NULL AND reversed = 0).
 * Days are kept as day numbers (dn: days since 1970-01-01) of the check-ins'
 * venue-local days (checkins.day, written at push), so a period's days and
 * "n days before" are arithmetic; dash_dn() reads a day's text as one.
 *
 * What changed, with several hub processes writing at once. Check-in rows
 * are numbered when inserted, not when committed, so "every row past the
 * last one summed up" (the SQLite store's mark) would miss a push that
 * commits after a later-numbered one. Instead every insert into checkins
 * queues, by a statement trigger in the same transaction, the range of row
 * numbers it inserted per venue (dash_new); a reversal marks its check-in,
 * a merge gone's check-ins and both members, a new name or expiry the member
 * (dash_dirty, with the venue). A refresh takes what its snapshot sees of
 * both (DELETE ... RETURNING) and leaves anything committed later for the
 * next one.
 *
 * A refresh, per venue, in one transaction under that venue's advisory lock
 * (two nodes refreshing one venue: the second waits, then finds the queue
 * empty), brings up to date:
 *   member_stats  each current member's visits in time order (by
 *                 corrected_ms, then row number): 1st, 2nd, 3rd, 10th and
 *                 last day, the last's time and row, the first visit's QR
 *                 flag and event, the days with a visit (an int4multirange:
 *                 "came between lo and hi" is one && of a range) and the
 *                 months (y * 12 + m - 1, as SQLite's bitmap), their name and
 *                 membership's last day (for the lists). New visits
 *                 after a member's last one are added to their row without
 *                 reading their older check-ins; a marked member, a first
 *                 visit, or a check-in not after the last is counted again
 *                 from the member's check-ins. A check-in read twice (two
 *                 pushes' ranges overlap when their inserts interleaved; one
 *                 committed while a refresh ran is read by it and queued for
 *                 the next) is never added twice: once counted it is not
 *                 after the last any more, and is counted again instead.
 *   day_stats     of each day of a taken check-in, and of the days a first
 *                 visit left or moved to (visits, first-timers, first-timers
 *                 shown the join QR), counted again;
 *   week_stats    of those days' weeks (distinct members: not a sum of days);
 *   event_stats   of each event of a taken check-in, and of those a first
 *                 visit left or moved to.
 * A refresh after 1000 new check-ins of one evening updates ~1000 members'
 * rows and counts one day, one week and one event again; with nothing
 * queued for the venue it is one query. meta 'dash_summed' says the
 * summaries were ever made: without it (a new database, or deleted to have
 * everything counted anew) the first refresh empties them and marks every
 * venue whole ('v'), under a lock every venue's refresh shares; a venue
 * marked whole has every member, day and event counted again.
 *
 * Which table and index serves which section (measured on
 * tests/bench/bench_dash.c's community copied into PostgreSQL: 100 000
 * members, 2 000 000 check-ins over two years):
 *   attendance   day_stats (venue, dn) for totals and week bars, week_stats
 *                for whole weeks' members, checkins_day for the members of
 *                a period's cut first and last week; member_stats_last for
 *                who came (below) and member_stats_first for first-timers.
 *                One statement: one snapshot.
 *   events       events_start and event_stats.
 *   funnel,      member_stats_first (venue, first_dn, and the 2nd, 3rd and
 *   groups,      10th day, QR flag, visits, name, row, months): counts and
 *   cohorts      the medians (percentile_cont) from the index alone, 24 929
 *                first-timers of 90 days in ~320 pages where the table is
 *                ~4 000; a cohort's return n months on is months @> that
 *                month.
 *   regulars,    member_stats_last (venue, last_dn, and first_dn, visits,
 *   drifting,    name, row, expires_dn): who came in a period is who came
 *   who came     last in it, from the index alone, and those who came again
 *                after it, whose days are read (none for a period ending
 *                today); or the table when most of it matches.
 *   lists        each one statement: its total and its page (ordered by the
 *                name kept in member_stats, joined to members for the page
 *                alone).
 *   referrals    referrals (member_rid, the one who brought them),
 *                referrals_referrer and referrals_venue; invites followed
 *                from ref_days joined to members_code.
 *   live codes   live_days and ref_days by venue and day; links by
 *                links_seq's venue.
 *   tiers        members_tier, members_expires, member_stats_last.
 * A venue-less period (an owner's view) names every venue in the same
 * "venue_id = ANY(...)" the one-venue form uses.
 *
 * Statements name their parameters (@lo, @v ...); run() numbers them in the
 * order they first appear and passes only those, as PostgreSQL prepares a
 * statement from the parameters it uses.
 *
 * Locks (pg_advisory_xact_lock, the two-key form): DASH_KEY with 0, shared
 * by every venue's refresh and taken alone to make the summaries anew;
 * DASH_VENUE_KEY with hashtext(venue) per venue's refresh; REF_KEY with
 * hashtext(venue) around a venue's referral changes, so that two concurrent
 * referrals cannot close a loop.
 */
#include "sync/hub/hub_store_pg_impl.h"

#include <stdlib.h>
#include <string.h>

#define DAY_MS	       86400000LL
#define DASH_KEY       1952805736 /* "tdsh" */
#define DASH_VENUE_KEY 1952805750 /* "tdsv" */
#define REF_KEY	       1953654118 /* "tref" */
#define STR_(x)	       #x
#define STR(x)	       STR_(x)
#define COUNTED	       "duplicate_of IS NULL AND reversed = 0"
#define CURRENT	       "m.deleted = 0 AND m.merged_into IS NULL"
/* the month (y * 12 + m - 1) of a day's text t whose number dn is known to be one (NULL otherwise) */
#define MONTH(dn, t) "CASE WHEN " dn " IS NOT NULL THEN left(" t ", 4)::int * 12 + substr(" t ", 6, 2)::int - 1 END"
/* day number x as a day's text */
#define DAY(x) "to_char(date '1970-01-01' + (" x "), 'YYYY-MM-DD')"
/* the period's venue (@v: an array of one), or every venue (@v NULL) */
#define VEN(col) col " = ANY(coalesce(@v::text[], ARRAY(SELECT id::text FROM venues)))"
/*
 * Came in the period @lo..@hi, in two parts: those whose last visit is in it
 * (member_stats_last alone), and those who came again after it, whose days
 * are read (few, for a period that ends today). Each list of members who came
 * is the union of its two selects.
 */
#define CAME_IN	   "ms.last_dn BETWEEN @lo::int AND @hi::int"
#define CAME_AFTER "ms.last_dn > @hi::int AND ms.first_dn <= @hi::int"
#define DAYS_IN	   "ms.days && int4range(@lo::int, @hi::int, '[]')"
/* a membership that ended (its last day is expires_dn) before the period's end, and a visit in the period
 * after that: the last one, or (for those who came again after the period) one of their days */
#define EXPIRED_IN    CAME_IN " AND ms.expires_dn < @hi::int AND ms.last_dn > ms.expires_dn"
#define EXPIRED_AFTER                                                                                          \
	"ms.last_dn > @hi::int AND ms.expires_dn < @hi::int"                                                   \
	" AND ms.days && int4range(greatest(@lo::int, ms.expires_dn + 1), @hi::int, '[]')"

/* ---- the tables ---- */

const char hpg_dash_schema[] =
    "CREATE TABLE member_stats(member_rid bigint PRIMARY KEY, venue_id ctext NOT NULL, name ctext NOT NULL,"
    " expires_dn integer, visits integer NOT NULL, first_dn integer NOT NULL, second_dn integer,"
    " third_dn integer, tenth_dn integer, last_dn integer NOT NULL, last_ms bigint NOT NULL,"
    " last_rid bigint NOT NULL, first_qr integer NOT NULL, first_event ctext, days int4multirange NOT NULL,"
    " months int4multirange NOT NULL)"
    /* vacuumed sooner than by default: a refresh rewrites ~1000 rows, and the first-timers' questions read
     * member_stats_first alone only where pages are marked all-visible */
    " WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,"
    " autovacuum_analyze_scale_factor = 0.05);"
    "CREATE INDEX member_stats_first ON member_stats(venue_id, first_dn)"
    " INCLUDE (second_dn, third_dn, tenth_dn, first_qr, visits, name, member_rid, months);"
    "CREATE INDEX member_stats_last ON member_stats(venue_id, last_dn)"
    " INCLUDE (first_dn, visits, name, member_rid, expires_dn);"
    "CREATE INDEX member_stats_event ON member_stats(first_event) WHERE first_event IS NOT NULL;"
    "CREATE TABLE day_stats(venue_id ctext NOT NULL, dn integer NOT NULL, visits bigint NOT NULL,"
    " first_timers bigint NOT NULL, first_qr bigint NOT NULL, PRIMARY KEY(venue_id, dn));"
    "CREATE TABLE week_stats(venue_id ctext NOT NULL, monday integer NOT NULL, members bigint NOT NULL,"
    " PRIMARY KEY(venue_id, monday));"
    "CREATE TABLE event_stats(event_uid ctext PRIMARY KEY, visits bigint NOT NULL, first_timers bigint NOT NULL);"
    /* what changed since the last refresh */
    "CREATE TABLE dash_new(venue_id ctext NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL);"
    "CREATE INDEX dash_new_venue ON dash_new(venue_id);"
    "CREATE TABLE dash_dirty(venue_id ctext NOT NULL, kind ctext NOT NULL, key bigint NOT NULL,"
    " PRIMARY KEY(venue_id, kind, key));"
    "CREATE FUNCTION dash_queue() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS"
    " $$BEGIN INSERT INTO dash_new(venue_id, lo, hi) SELECT venue_id, min(rid), max(rid) FROM new_rows"
    " GROUP BY venue_id; RETURN NULL; END$$;"
    "CREATE TRIGGER checkins_dash AFTER INSERT ON checkins REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION dash_queue();"
    /* "YYYY-MM-DD" as a day number; NULL when it is not a day */
    "CREATE FUNCTION dash_dn(t text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN CASE"
    " WHEN t !~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' OR left(t, 4) = '0000' THEN NULL"
    " WHEN substr(t, 9, 2)::int > extract(day FROM make_date(left(t, 4)::int, substr(t, 6, 2)::int, 1)"
    " + interval '1 month - 1 day') THEN NULL"
    " ELSE make_date(left(t, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int) - date '1970-01-01' END;"
    /* referrals and live codes: kept, not summed up */
    "CREATE TABLE referrals(member_rid bigint PRIMARY KEY, referrer_rid bigint NOT NULL, via ctext NOT NULL,"
    " at_ms bigint NOT NULL, day ctext NOT NULL, venue_id ctext NOT NULL);"
    "CREATE INDEX referrals_referrer ON referrals(referrer_rid, day);"
    "CREATE INDEX referrals_venue ON referrals(venue_id);"
    "CREATE TABLE live_days(day ctext NOT NULL, slug ctext NOT NULL, venue_id ctext NOT NULL,"
    " redirects bigint NOT NULL DEFAULT 0, missed bigint NOT NULL DEFAULT 0, with_ref bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY(day, slug));"
    "CREATE TABLE ref_days(day ctext NOT NULL, slug ctext NOT NULL, ref ctext NOT NULL, venue_id ctext NOT NULL,"
    " n bigint NOT NULL, PRIMARY KEY(day, slug, ref));"
    "CREATE INDEX live_days_venue ON live_days(venue_id, day);"
    "CREATE INDEX ref_days_venue ON ref_days(venue_id, day);";

/* ---- statements ---- */

enum {
	/* refresh */
	R_PENDING_ONE,
	R_SUMMED,
	R_PENDING_ALL,
	R_LOCK_ALL,
	R_RESET,
	R_MARK_WHOLE,
	R_LOCK_VENUE,
	R_TAKE,
	R_ANALYZE,
	R_RECOUNT,
	R_APPEND,
	R_MS_OLD,
	R_MS_DEL,
	R_MS_PUT,
	R_MS_MANY,
	R_MS_ANALYZE,
	R_MARK_MOVED,
	R_DAYS_PUT,
	R_WEEKS_PUT,
	R_EVENTS_PUT,
	/* marks */
	R_DIRTY_CHECKIN,
	R_DIRTY_UID,
	R_DIRTY_MERGE,
	R_REF_LOCK_RID,
	R_REF_MOVE,
	R_REF_DROP,
	R_REF_REPOINT,
	R_REF_SELF,
	/* live codes */
	R_LIVE_VENUE,
	R_LIVE_COUNT,
	/* referrals */
	R_REF_LOCK,
	R_REF_HAS,
	R_REF_LOOP,
	R_VENUE_TZ,
	R_REF_INSERT,
	R_BROUGHT_BY,
	R_ROOT,
	R_TREE,
	/* periods */
	V_VENUE,
	V_ATTENDANCE,
	V_EVENTS,
	V_FUNNEL,
	V_COHORTS,
	V_FIRSTS,
	V_TIERS,
	V_REDIRECTS,
	V_LINKS,
	V_REFERRERS,
	L_BASE /* then one per list */
};

#define NLISTS (HUB_DL_EXPIRED_COMING + 1)
_Static_assert(L_BASE + NLISTS <= HPG_PART_STMTS, "more statements than slots");

static const char *const sql[L_BASE] = {
    /* what is waiting for one venue, and whether the summaries were ever made */
    [R_PENDING_ONE] = "SELECT NOT EXISTS(SELECT 1 FROM meta WHERE key = 'dash_summed'),"
		      " EXISTS(SELECT 1 FROM dash_new WHERE venue_id = @id::text)"
		      " OR EXISTS(SELECT 1 FROM dash_dirty WHERE venue_id = @id::text)",
    [R_SUMMED] = "SELECT NOT EXISTS(SELECT 1 FROM meta WHERE key = 'dash_summed')",
    [R_PENDING_ALL] = "SELECT venue_id FROM dash_new UNION SELECT venue_id FROM dash_dirty",
    /* alone: a statement's snapshot is taken before it waits, so what the lock guards is read by the next */
    [R_LOCK_ALL] = "SELECT pg_advisory_xact_lock(" STR(DASH_KEY) ", 0)",
    /* every summary anew: emptied, then every venue marked whole */
    [R_RESET] = "WITH a AS (DELETE FROM member_stats), b AS (DELETE FROM day_stats), c AS (DELETE FROM week_stats),"
		" d AS (DELETE FROM event_stats), e AS (DELETE FROM dash_new), f AS (DELETE FROM dash_dirty)"
		" INSERT INTO meta(key, value) VALUES('dash_summed', '1')"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [R_MARK_WHOLE] = "INSERT INTO dash_dirty(venue_id, kind, key) SELECT id, 'v', 0 FROM venues",
    /* and for this transaction, a row read by its key costs about what a row read in turn does (the
     * default prices a disk's seek): the refresh looks up ~1000 summaries and members by key, which the
     * default would have read all 100 000 of to hash (R_RECOUNT 102 -> 23 ms, R_APPEND 75 -> 25 ms) */
    [R_LOCK_VENUE] = "SELECT pg_advisory_xact_lock_shared(" STR(DASH_KEY) ", 0),"
		     " pg_advisory_xact_lock(" STR(DASH_VENUE_KEY) ", hashtext(@id::text)),"
		     " set_config('random_page_cost', '1.1', true), set_config('jit', 'off', true),"
		     " set_config('plan_cache_mode', 'force_custom_plan', true)",
    /*
     * What this snapshot sees queued for the venue, taken: the new check-ins that count (dash_n), the
     * members to count again (dash_m: marked, of a marked check-in, every one of a venue marked
     * whole), the days and events of every taken check-in (dash_d, dash_e). The queued ranges are
     * merged first (two pushes' ranges overlap when their inserts interleaved), and each is read by
     * checkins_venue, never the venue's every check-in. A venue's days are found one index probe a
     * day (a loose scan of checkins_day), not by reading its check-ins.
     */
    [R_TAKE] = "WITH RECURSIVE q AS (DELETE FROM dash_new WHERE venue_id = @id::text RETURNING lo, hi),"
	       " d AS (DELETE FROM dash_dirty WHERE venue_id = @id::text RETURNING kind, key),"
	       " r AS (SELECT unnest(range_agg(int8range(lo, hi, '[]'))) AS r FROM q),"
	       " c AS (SELECT c.* FROM r CROSS JOIN LATERAL (SELECT c.rid, c.member_rid, c.day, c.event_uid,"
	       " c.corrected_ms, c.flags, c.duplicate_of IS NULL AND c.reversed = 0 AS counted FROM checkins c"
	       " WHERE c.venue_id = @id::text AND c.rid >= lower(r.r) AND c.rid < upper(r.r) OFFSET 0) c),"
	       " days(day) AS (SELECT min(day) FROM checkins WHERE venue_id = @id::text AND " COUNTED
	       " AND EXISTS(SELECT 1 FROM d WHERE kind = 'v')"
	       " UNION ALL SELECT (SELECT min(k.day) FROM checkins k WHERE k.venue_id = @id::text AND k.day > days.day"
	       " AND k.duplicate_of IS NULL AND k.reversed = 0) FROM days WHERE days.day IS NOT NULL),"
	       " x AS (SELECT c.member_rid, c.day, c.event_uid FROM d JOIN checkins c ON c.rid = d.key"
	       " WHERE d.kind = 'c'),"
	       " whole AS (SELECT 1 FROM d WHERE kind = 'v'),"
	       " n AS (INSERT INTO dash_n(rid, member_rid, dn, mi, ms, qr, ev) SELECT rid, member_rid, dn,"
	       " " MONTH("dn", "day") ", corrected_ms, CASE WHEN flags & 2 <> 0 THEN 1 ELSE 0 END, event_uid"
	       " FROM (SELECT c.*, dash_dn(c.day) AS dn FROM c WHERE counted AND member_rid IS NOT NULL OFFSET 0) c),"
	       " m AS (INSERT INTO dash_m(rid) SELECT member_rid FROM x WHERE member_rid IS NOT NULL"
	       " UNION SELECT key FROM d WHERE kind = 'm'"
	       " UNION SELECT rid FROM members WHERE venue_id = @id::text AND EXISTS(SELECT 1 FROM whole)),"
	       " e AS (INSERT INTO dash_e(uid) SELECT event_uid FROM c WHERE event_uid IS NOT NULL"
	       " UNION SELECT event_uid FROM x WHERE event_uid IS NOT NULL"
	       " UNION SELECT uid FROM events WHERE venue_id = @id::text AND EXISTS(SELECT 1 FROM whole))"
	       " INSERT INTO dash_d(dn) SELECT v FROM (SELECT dash_dn(day) FROM c UNION SELECT dash_dn(day) FROM x"
	       " UNION SELECT dash_dn(day) FROM days WHERE day IS NOT NULL) u(v) WHERE v IS NOT NULL",
    /* the planner's row counts for what was taken (a temporary table has none of its own) */
    [R_ANALYZE] = "ANALYZE dash_n, dash_m, dash_d, dash_e",
    /* a new visit that is not after its member's last one (or of a member with no summary, or not
     * current, or on no day): the member is counted again */
    [R_RECOUNT] = "INSERT INTO dash_m(rid) SELECT n.member_rid FROM dash_n n"
		  " JOIN members m ON m.rid = n.member_rid LEFT JOIN member_stats ms ON ms.member_rid = n.member_rid"
		  " GROUP BY n.member_rid, m.deleted, m.merged_into, ms.member_rid, ms.last_ms, ms.last_rid, ms.last_dn"
		  " HAVING ms.member_rid IS NULL OR m.deleted <> 0 OR m.merged_into IS NOT NULL"
		  " OR bool_or(n.dn IS NULL)"
		  " OR bool_or((n.ms, n.rid) <= (ms.last_ms, ms.last_rid) OR n.dn < ms.last_dn)"
		  " ON CONFLICT DO NOTHING",
    /* the others' new visits, in time order, added to their summary */
    [R_APPEND] = "UPDATE member_stats ms SET visits = ms.visits + a.n,"
		 " second_dn = coalesce(ms.second_dn, a.d[2 - ms.visits]),"
		 " third_dn = coalesce(ms.third_dn, a.d[3 - ms.visits]),"
		 " tenth_dn = coalesce(ms.tenth_dn, a.d[10 - ms.visits]), last_dn = greatest(ms.last_dn, a.hi),"
		 " last_ms = a.l[1], last_rid = a.l[2], days = ms.days + a.days, months = ms.months + a.months"
		 " FROM (SELECT n.member_rid, count(*) AS n, array_agg(n.dn ORDER BY n.ms, n.rid) AS d,"
		 " max(n.dn) AS hi, max(ARRAY[n.ms, n.rid]) AS l, range_agg(int4range(n.dn, n.dn + 1)) AS days,"
		 " range_agg(int4range(n.mi, n.mi + 1)) AS months"
		 " FROM dash_n n WHERE NOT EXISTS(SELECT 1 FROM dash_m m WHERE m.rid = n.member_rid)"
		 " GROUP BY n.member_rid) a WHERE ms.member_rid = a.member_rid",
    /* what the members counted again had as their first visit */
    [R_MS_OLD] = "UPDATE dash_m d SET had = 1, old_first = ms.first_dn, old_qr = ms.first_qr,"
		 " old_event = ms.first_event FROM member_stats ms WHERE ms.member_rid = d.rid",
    [R_MS_DEL] = "DELETE FROM member_stats ms USING dash_m d WHERE ms.member_rid = d.rid",
    /* each such current member's counted check-ins, in time order (k), summed up (OFFSET 0: a day's
     * number is worked out once a check-in, not again in a filter pushed below it) */
    [R_MS_PUT] = "INSERT INTO member_stats(member_rid, venue_id, name, expires_dn, visits, first_dn, second_dn,"
		 " third_dn, tenth_dn, last_dn, last_ms, last_rid, first_qr, first_event, days, months)"
		 " SELECT w.rid, m.venue_id, m.name, dash_dn(m.expires), count(*), min(w.dn) FILTER (WHERE w.k = 1),"
		 " min(w.dn) FILTER (WHERE w.k = 2), min(w.dn) FILTER (WHERE w.k = 3),"
		 " min(w.dn) FILTER (WHERE w.k = 10), max(w.dn), (max(ARRAY[w.ms, w.crid]))[1],"
		 " (max(ARRAY[w.ms, w.crid]))[2], max(w.qr) FILTER (WHERE w.k = 1),"
		 " min(w.ev) FILTER (WHERE w.k = 1), range_agg(int4range(w.dn, w.dn + 1)),"
		 " range_agg(int4range(w.mi, w.mi + 1))"
		 " FROM (SELECT v.*, " MONTH("v.dn", "v.day") " AS mi,"
		 " row_number() OVER (PARTITION BY v.rid ORDER BY v.ms, v.crid) AS k FROM"
		 " (SELECT c.member_rid AS rid, c.rid AS crid, c.day, dash_dn(c.day) AS dn, c.corrected_ms AS ms,"
		 " CASE WHEN c.flags & 2 <> 0 THEN 1 ELSE 0 END AS qr, c.event_uid AS ev FROM dash_m d"
		 " JOIN members m ON m.rid = d.rid AND " CURRENT
		 " JOIN checkins c ON c.member_rid = d.rid AND c.duplicate_of IS NULL AND c.reversed = 0 OFFSET 0) v"
		 " WHERE v.dn IS NOT NULL) w JOIN members m ON m.rid = w.rid"
		 " GROUP BY w.rid, m.venue_id, m.name, m.expires",
    /* after many members were counted again (a venue's first refresh), the planner's picture of
     * member_stats is redone at once: planned as the nearly empty table it was, the day counts that
     * follow read all of it once a day (51 s instead of 0.7 for 730 days of 100 000 members), and so
     * would the lists until autovacuum came by */
    [R_MS_MANY] = "SELECT count(*) >= 10000 FROM dash_m",
    [R_MS_ANALYZE] = "ANALYZE member_stats",
    /* a first visit that moved (or came, or went) changes the first-timers of its days and events */
    [R_MARK_MOVED] = "WITH f AS (SELECT d.had, d.old_first, d.old_qr, d.old_event, ms.member_rid AS now,"
		     " ms.first_dn, ms.first_qr, ms.first_event FROM dash_m d"
		     " LEFT JOIN member_stats ms ON ms.member_rid = d.rid),"
		     " e AS (INSERT INTO dash_e(uid) SELECT u FROM f,"
		     " LATERAL (VALUES (f.old_event), (f.first_event)) v(u)"
		     " WHERE u IS NOT NULL AND f.old_event IS DISTINCT FROM f.first_event ON CONFLICT DO NOTHING)"
		     " INSERT INTO dash_d(dn) SELECT x FROM f, LATERAL (VALUES"
		     " (CASE WHEN f.now IS NOT NULL"
		     " AND (f.had = 0 OR f.old_first <> f.first_dn OR f.old_qr <> f.first_qr)"
		     " THEN f.first_dn END),"
		     " (CASE WHEN f.had = 1 AND (f.now IS NULL OR f.old_first <> f.first_dn OR f.old_qr <> f.first_qr)"
		     " THEN f.old_first END)) v(x) WHERE x IS NOT NULL ON CONFLICT DO NOTHING",
    [R_DAYS_PUT] = "INSERT INTO day_stats(venue_id, dn, visits, first_timers, first_qr)"
		   " SELECT @id::text, d.dn, (SELECT count(*) FROM checkins c WHERE c.venue_id = @id::text"
		   " AND c.day = " DAY("d.dn") " AND c.duplicate_of IS NULL AND c.reversed = 0), f.n, f.q"
		   " FROM dash_d d CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(ms.first_qr), 0) AS q"
		   " FROM member_stats ms WHERE ms.venue_id = @id::text AND ms.first_dn = d.dn) f"
		   " ON CONFLICT (venue_id, dn) DO UPDATE SET visits = excluded.visits,"
		   " first_timers = excluded.first_timers, first_qr = excluded.first_qr",
    [R_WEEKS_PUT] = "INSERT INTO week_stats(venue_id, monday, members)"
		    " SELECT @id::text, w.monday, (SELECT count(DISTINCT c.member_rid) FROM checkins c"
		    " WHERE c.venue_id = @id::text AND c.day BETWEEN " DAY("w.monday") " AND " DAY("w.monday + 6")
		    " AND c.duplicate_of IS NULL AND c.reversed = 0)"
		    " FROM (SELECT DISTINCT dn - ((dn + 3) % 7 + 7) % 7 AS monday FROM dash_d) w"
		    " ON CONFLICT (venue_id, monday) DO UPDATE SET members = excluded.members",
    [R_EVENTS_PUT] = "INSERT INTO event_stats(event_uid, visits, first_timers)"
		     " SELECT e.uid, (SELECT count(*) FROM checkins c WHERE c.event_uid = e.uid"
		     " AND c.duplicate_of IS NULL AND c.reversed = 0),"
		     " (SELECT count(*) FROM member_stats ms WHERE ms.first_event = e.uid) FROM dash_e e"
		     " ON CONFLICT (event_uid) DO UPDATE SET visits = excluded.visits,"
		     " first_timers = excluded.first_timers",
    /* marks */
    [R_DIRTY_CHECKIN] = "INSERT INTO dash_dirty(venue_id, kind, key) SELECT venue_id, 'c', rid FROM checkins"
			" WHERE id = @id::text ON CONFLICT DO NOTHING",
    [R_DIRTY_UID] = "INSERT INTO dash_dirty(venue_id, kind, key) SELECT venue_id, 'm', rid FROM members"
		    " WHERE uid = @id::text ON CONFLICT DO NOTHING",
    [R_DIRTY_MERGE] = "WITH c AS (INSERT INTO dash_dirty(venue_id, kind, key) SELECT venue_id, 'c', rid FROM checkins"
		      " WHERE member_rid = @gone::bigint ON CONFLICT DO NOTHING)"
		      " INSERT INTO dash_dirty(venue_id, kind, key) SELECT venue_id, 'm', rid FROM members"
		      " WHERE rid IN (@gone::bigint, @keep::bigint) ON CONFLICT DO NOTHING",
    [R_REF_LOCK_RID] = "SELECT pg_advisory_xact_lock(" STR(REF_KEY) ", hashtext(venue_id)) FROM members"
		       " WHERE rid = @keep::bigint",
    [R_REF_MOVE] = "UPDATE referrals SET member_rid = @keep::bigint WHERE member_rid = @gone::bigint"
		   " AND NOT EXISTS(SELECT 1 FROM referrals WHERE member_rid = @keep::bigint)",
    [R_REF_DROP] = "DELETE FROM referrals WHERE member_rid = @gone::bigint",
    [R_REF_REPOINT] = "UPDATE referrals SET referrer_rid = @keep::bigint WHERE referrer_rid = @gone::bigint",
    [R_REF_SELF] = "DELETE FROM referrals WHERE member_rid = @keep::bigint AND referrer_rid = @keep::bigint",
    /* live codes */
    [R_LIVE_VENUE] = "SELECT id, tz FROM venues WHERE slug = @slug::text UNION ALL"
		     " SELECT v.id, v.tz FROM links l JOIN venues v ON v.id = l.venue_id WHERE l.slug = @slug::text"
		     " LIMIT 1",
    /* counted in the row, under its lock: exact whatever the number of nodes counting at once */
    [R_LIVE_COUNT] = "WITH a AS (INSERT INTO live_days(day, slug, venue_id, redirects, missed, with_ref)"
		     " VALUES(@day::text, @slug::text, @venue::text, @hit::bigint, @miss::bigint, @ref_n::bigint)"
		     " ON CONFLICT (day, slug) DO UPDATE SET redirects = live_days.redirects + excluded.redirects,"
		     " missed = live_days.missed + excluded.missed, with_ref = live_days.with_ref + excluded.with_ref)"
		     " INSERT INTO ref_days(day, slug, ref, venue_id, n)"
		     " SELECT @day::text, @slug::text, @ref::text, @venue::text, 1 WHERE @ref_n::bigint = 1"
		     " ON CONFLICT (day, slug, ref) DO UPDATE SET n = ref_days.n + 1",
    /* referrals */
    [R_REF_LOCK] = "SELECT pg_advisory_xact_lock(" STR(REF_KEY) ", hashtext(@venue::text))",
    [R_REF_HAS] = "SELECT 1 FROM referrals WHERE member_rid = @m::bigint",
    /* the member is among those who (through others) brought the referrer */
    [R_REF_LOOP] = "WITH RECURSIVE up(rid, n) AS (SELECT @r::bigint, 0 UNION ALL SELECT f.referrer_rid, up.n + 1"
		   " FROM up JOIN referrals f ON f.member_rid = up.rid WHERE up.n < 100000)"
		   " SELECT EXISTS(SELECT 1 FROM up WHERE up.n > 0 AND up.rid = @m::bigint)",
    [R_VENUE_TZ] = "SELECT tz FROM venues WHERE id = @venue::text",
    [R_REF_INSERT] = "INSERT INTO referrals(member_rid, referrer_rid, via, at_ms, day, venue_id)"
		     " VALUES(@m::bigint, @r::bigint, @via::text, @at::bigint, @day::text, @venue::text)",
    [R_BROUGHT_BY] = "SELECT m.uid, m.name, p.uid, r.day, r.via FROM members m JOIN referrals r ON r.member_rid = m.rid"
		     " JOIN members p ON p.rid = r.referrer_rid WHERE m.uid = @id::text",
    /* a member, or the one a merged member counts as */
    [R_ROOT] = "SELECT coalesce((SELECT k.rid FROM members k WHERE k.uid = m.merged_into), m.rid)"
	       " FROM members m WHERE m.uid = @id::text",
    /* depth first: a path of fixed-width steps (day, row number) sorts each member before the members
     * they brought, and those before their next sibling; seen keeps a loop from going round */
    [R_TREE] = "WITH RECURSIVE t(rid, depth, path, seen) AS (SELECT @root::bigint, 0, ''::text COLLATE \"C\","
	       " ARRAY[@root::bigint] UNION ALL SELECT r.member_rid, t.depth + 1,"
	       " (t.path || r.day || lpad(r.member_rid::text, 15, '0') || '/') COLLATE \"C\", t.seen || r.member_rid"
	       " FROM t JOIN referrals r ON r.referrer_rid = t.rid"
	       " WHERE t.depth < @depth::int AND r.member_rid <> ALL(t.seen))"
	       " SELECT m.uid, m.name, p.uid, t.depth, r.day, r.via FROM t JOIN referrals r ON r.member_rid = t.rid"
	       " JOIN members m ON m.rid = t.rid JOIN members p ON p.rid = r.referrer_rid"
	       " WHERE t.depth > 0 ORDER BY t.path",
    /*
     * Over a period: @v the venue (an array of one; NULL: every venue), @lo @hi the period's first and
     * last day numbers, @los @his the same as text; more as each says.
     */
    [V_VENUE] = "SELECT 1 FROM venues WHERE id = @id::text",
    /* k 0: a day's visits and first-timers; 1: first-timers; 2: members who came; 3: a whole week's
     * members (@w0..@w1 the first and last whole week's Monday); 4, 5: the members of the first and the
     * last cut week (@a0..@a1, @b0..@b1 as text; empty ranges when the period cuts none): a member's row
     * number is one venue's */
    [V_ATTENDANCE] = "SELECT 0 AS k, dn::bigint AS a, sum(visits)::bigint AS b, sum(first_timers)::bigint AS c"
		     " FROM day_stats WHERE " VEN("venue_id") " AND dn BETWEEN @lo::int AND @hi::int GROUP BY dn"
		     " UNION ALL SELECT 1, 0, count(*), 0 FROM member_stats WHERE " VEN("venue_id")
		     " AND first_dn BETWEEN @lo::int AND @hi::int"
		     " UNION ALL SELECT 2, 0, (SELECT count(*) FROM member_stats ms WHERE " VEN("ms.venue_id")
		     " AND " CAME_IN ")"
		     " + (SELECT count(*) FROM member_stats ms WHERE " VEN("ms.venue_id") " AND " CAME_AFTER
		     " AND (ms.first_dn >= @lo::int OR " DAYS_IN ")), 0"
		     " UNION ALL SELECT 3, monday, sum(members)::bigint, 0 FROM week_stats WHERE " VEN("venue_id")
		     " AND monday BETWEEN @w0::int AND @w1::int GROUP BY monday"
		     " UNION ALL SELECT 4, 0, count(*), 0 FROM (SELECT DISTINCT member_rid FROM checkins"
		     " WHERE " VEN("venue_id") " AND day BETWEEN @a0::text AND @a1::text AND " COUNTED ") x"
		     " UNION ALL SELECT 5, 0, count(*), 0 FROM (SELECT DISTINCT member_rid FROM checkins"
		     " WHERE " VEN("venue_id") " AND day BETWEEN @b0::text AND @b1::text AND " COUNTED ") x",
    /* @e0 @e1: a range of start_ms a day wider than the period each side (any zone's midnight) */
    [V_EVENTS] = "SELECT e.uid, e.title, e.venue_id, e.start_ms, e.deleted, coalesce(es.visits, 0),"
		 " coalesce(es.first_timers, 0), v.tz FROM events e JOIN venues v ON v.id = e.venue_id"
		 " LEFT JOIN event_stats es ON es.event_uid = e.uid WHERE " VEN("e.venue_id")
		 " AND e.start_ms BETWEEN @e0::bigint AND @e1::bigint ORDER BY e.start_ms DESC, e.rid DESC",
    [V_FUNNEL] = "SELECT count(*), count(second_dn), count(third_dn), count(tenth_dn),"
		 " percentile_cont(0.5) WITHIN GROUP (ORDER BY second_dn - first_dn),"
		 " percentile_cont(0.5) WITHIN GROUP (ORDER BY third_dn - second_dn)"
		 " FROM member_stats WHERE " VEN("venue_id") " AND first_dn BETWEEN @lo::int AND @hi::int",
    /* @b: the first day of each month the period touches and of the month after (@nc + 1), @m0 the
     * first one's month. How many members of each cohort c came in which of the period's months: one
     * row per pattern (most members share one: came once, came every month), spread over its months in
     * C (12 months of 77 000 first-timers: 2 226 rows in 71 ms, where a row per member and month took
     * 257) */
    [V_COHORTS] = "SELECT width_bucket(first_dn, @b::int[]) - 1,"
		  " months * int4multirange(int4range(@m0::int, @m0::int + @nc::int)), count(*)"
		  " FROM member_stats WHERE " VEN("venue_id") " AND first_dn >= (@b::int[])[1]"
		  " AND first_dn < (@b::int[])[@nc::int + 1] GROUP BY 1, 2",
    [V_FIRSTS] = "SELECT count(*), coalesce(sum(first_qr), 0) FROM member_stats WHERE " VEN("venue_id")
		 " AND first_dn BETWEEN @lo::int AND @hi::int",
    /* k 0: each tier; 1: memberships ending by @after (text); 2: ended and still coming */
    [V_TIERS] = "SELECT 0 AS k, tier, count(*) AS n FROM members m WHERE " VEN("m.venue_id") " AND " CURRENT
		" GROUP BY tier"
		" UNION ALL SELECT 1, '', count(*) FROM members m WHERE " VEN("m.venue_id") " AND " CURRENT
		" AND expires <> '' AND expires >= @his::text AND expires < @after::text"
		" UNION ALL SELECT 2, '', (SELECT count(*) FROM member_stats ms WHERE " VEN("ms.venue_id")
		" AND " EXPIRED_IN ")"
		" + (SELECT count(*) FROM member_stats ms WHERE " VEN("ms.venue_id") " AND " EXPIRED_AFTER ")"
		" ORDER BY k, n DESC, tier",
    [V_REDIRECTS] = "SELECT slug, day, redirects, missed, with_ref FROM live_days"
		    " WHERE day BETWEEN @los::text AND @his::text AND " VEN("venue_id") " ORDER BY day, slug",
    [V_LINKS] = "SELECT l.uid, l.slug, l.label, l.platform, coalesce(l.cap, 0), l.redirects,"
		" coalesce(l.expires_ms, 0), l.created_ms, v.tz FROM links l JOIN venues v ON v.id = l.venue_id"
		" WHERE " VEN("l.venue_id") " AND l.deleted = 0 ORDER BY l.slug, l.created_ms, l.rid",
    /* the venue's referrals and invites followed, summed per member before any is joined to members
     * (a referral and both its members are of one venue); @lim: at most this many (NULL: all) */
    [V_REFERRERS] = "SELECT m.uid, m.name, x.b, x.a, x.f FROM (SELECT y.rid, sum(y.b) AS b, sum(y.a) AS a,"
		    " sum(y.f) AS f FROM (SELECT referrer_rid AS rid,"
		    " CASE WHEN day BETWEEN @los::text AND @his::text THEN 1 ELSE 0 END AS b, 1 AS a, 0::bigint AS f"
		    " FROM referrals WHERE " VEN("venue_id")
		    " UNION ALL SELECT k.rid, 0, 0, rd.n FROM ref_days rd JOIN members k ON k.venue_id = rd.venue_id"
		    " AND k.code = rd.ref AND k.deleted = 0 AND k.merged_into IS NULL"
		    " WHERE " VEN("rd.venue_id") " AND rd.day BETWEEN @los::text AND @his::text) y GROUP BY y.rid) x"
		    " JOIN members m ON m.rid = x.rid WHERE " CURRENT
		    " ORDER BY 3 DESC, m.name, m.uid LIMIT @lim::bigint",
};

/*
 * The members behind a number. Each list is who (rid, name, last: the row
 * number, the name kept in member_stats or the member's own, the last
 * visit's day) comes out of its FROM and WHERE; the total is count(*) of it
 * (or count, when given), the page its first @lim in order, and only those
 * are joined to members for the rest of their row. Parameters as above, and
 * @arg, @n, @w0 @w1 a week's days cut by the period (text), @c0 @c1 a
 * month's first and last day, @mn the month n months after it, @after n
 * days after the period's end (text).
 */
#define MS	" FROM member_stats ms WHERE " VEN("ms.venue_id")
#define MS_COLS "ms.member_rid AS rid, ms.name AS name, 0 AS last"
#define MM	" FROM members m WHERE " VEN("m.venue_id") " AND " CURRENT
#define MM_COLS "m.rid AS rid, m.name AS name, 0 AS last"

static const struct {
	const char *cols, *from;
	int by_last;	   /* newest last visit first (else by name) */
	const char *count; /* how many, when not count(*) of from */
} lsql[NLISTS] = {
    [HUB_DL_VISITED] = {.cols = MS_COLS,
			.from = MS " AND " CAME_IN " UNION ALL SELECT " MS_COLS MS " AND " CAME_AFTER
				   " AND (ms.first_dn >= @lo::int OR " DAYS_IN ")"},
    [HUB_DL_FIRST_TIMERS] = {.cols = MS_COLS, .from = MS " AND ms.first_dn BETWEEN @lo::int AND @hi::int"},
    [HUB_DL_RETURNING] = {.cols = MS_COLS,
			  .from = MS " AND ms.first_dn < @lo::int AND " CAME_IN " UNION ALL SELECT " MS_COLS MS
				     " AND ms.first_dn < @lo::int AND " CAME_AFTER " AND " DAYS_IN},
    [HUB_DL_REACHED] = {.cols = MS_COLS,
			.from = MS " AND ms.first_dn BETWEEN @lo::int AND @hi::int AND ms.visits >= @n::int"},
    [HUB_DL_COHORT] = {.cols = MS_COLS,
		       .from = MS " AND ms.first_dn BETWEEN @c0::int AND @c1::int"
				  " AND (@n::int = 0 OR ms.months @> @mn::int)"},
    [HUB_DL_REGULARS] = {.cols = MS_COLS,
			 .from = MS " AND ms.visits >= 3 AND " CAME_IN " UNION ALL SELECT " MS_COLS MS
				    " AND ms.visits >= 3 AND " CAME_AFTER
				    " AND (ms.first_dn >= @lo::int OR " DAYS_IN ")"},
    [HUB_DL_DRIFTING] = {.cols = "ms.member_rid AS rid, ms.name AS name, ms.last_dn AS last",
			 .from = MS " AND ms.visits >= 3 AND ms.last_dn < @hi::int - @n::int",
			 .by_last = 1},
    [HUB_DL_EVENT] = {.cols = MS_COLS,
		      .from = " FROM member_stats ms WHERE ms.member_rid IN (SELECT member_rid FROM checkins"
			      " WHERE event_uid = @arg::text AND " VEN("venue_id") " AND " COUNTED ")"},
    [HUB_DL_WEEK] = {.cols = MS_COLS,
		     .from = " FROM member_stats ms WHERE ms.member_rid IN (SELECT member_rid FROM checkins"
			     " WHERE " VEN("venue_id") " AND day BETWEEN @w0::text AND @w1::text AND " COUNTED ")",
		     /* the members a week's check-ins name, each once */
		     .count = "SELECT count(DISTINCT member_rid) FROM checkins WHERE " VEN("venue_id")
			      " AND day BETWEEN @w0::text AND @w1::text AND " COUNTED},
    [HUB_DL_REFERRED_BY] = {.cols = MM_COLS,
			    .from = MM " AND m.rid IN (SELECT r.member_rid FROM referrals r"
				       " JOIN members p ON p.rid = r.referrer_rid WHERE p.uid = @arg::text)"},
    [HUB_DL_TIER] = {.cols = MM_COLS, .from = MM " AND m.tier = @arg::text"},
    [HUB_DL_EXPIRING] = {.cols = MM_COLS,
			 .from = MM " AND m.expires <> '' AND m.expires >= @his::text AND m.expires < @after::text"},
    [HUB_DL_EXPIRED_COMING] = {.cols = MS_COLS, .from = MS " AND " EXPIRED_IN " UNION ALL SELECT " MS_COLS MS
					       " AND " EXPIRED_AFTER},
};

/* ---- named parameters ---- */

#define NPRM 20

typedef struct pv {
	const char *name, *t; /* t: a text value (NULL with is_int 0: SQL NULL) */
	int64_t i;
	int is_int;
} pv;

typedef struct prm {
	int n;
	pv v[NPRM];
} prm;

static void p_int(prm *p, const char *name, int64_t v)
{
	if (p->n < NPRM)
		p->v[p->n++] = (pv){.name = name, .i = v, .is_int = 1};
}

static void p_txt(prm *p, const char *name, const char *t)
{
	if (p->n < NPRM)
		p->v[p->n++] = (pv){.name = name, .t = t};
}

/*
 * tmpl with each @name made $k, k numbered by first appearance, into a
 * malloc'd text; the values in that order into a. NULL with errmsg set
 * when a name has no value.
 */
static char *bind(pg *s, const char *tmpl, const prm *p, hpg_args *a)
{
	size_t len = strlen(tmpl);
	char *out = malloc(len * 2 + 16), *o = out;
	if (!out) {
		hpg_refuse(s, HUB_ERR, "out of memory");
		return NULL;
	}
	const char *used[HPG_MAX_ARGS];
	size_t used_len[HPG_MAX_ARGS];
	int nused = 0;
	memset(a, 0, sizeof *a);
	for (const char *c = tmpl; *c;) {
		if (*c == '\'') { /* a literal, whole */
			const char *end = strchr(c + 1, '\'');
			size_t n = end ? (size_t)(end - c) + 1 : strlen(c);
			memcpy(o, c, n);
			o += n;
			c += n;
			continue;
		}
		if (*c != '@' || !(c[1] >= 'a' && c[1] <= 'z')) {
			*o++ = *c++;
			continue;
		}
		const char *name = ++c;
		while ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')
			c++;
		size_t nl = (size_t)(c - name);
		int k = 0;
		while (k < nused && !(used_len[k] == nl && memcmp(used[k], name, nl) == 0))
			k++;
		if (k == nused) {
			int j = 0;
			while (j < p->n && !(strlen(p->v[j].name) == nl && memcmp(p->v[j].name, name, nl) == 0))
				j++;
			if (j == p->n || nused == HPG_MAX_ARGS) {
				free(out);
				hpg_refuse(s, HUB_ERR, "the dashboard's query has no value for @%.*s", (int)nl, name);
				return NULL;
			}
			used[nused] = name;
			used_len[nused++] = nl;
			if (p->v[j].is_int)
				hpg_i(a, p->v[j].i);
			else
				hpg_t(a, p->v[j].t);
		}
		o += sprintf(o, "$%d", k + 1);
	}
	*o = '\0';
	return out;
}

/* Run statement which (text tmpl) with the values p names: its result, or NULL with *e set. */
static PGresult *run(pg *s, int which, const char *tmpl, const prm *p, hub_err *e)
{
	hpg_args a;
	static const prm none = {0};
	char *text = bind(s, tmpl, p ? p : &none, &a);
	if (!text) {
		*e = HUB_ERR;
		return NULL;
	}
	PGresult *r = hpg_run(s, HPG_DASH, which, text, &a, e);
	free(text);
	return r;
}

static PGresult *rq(pg *s, int which, const prm *p, hub_err *e)
{
	return run(s, which, sql[which], p, e);
}

/* As rq, for a statement whose rows are not read. */
static hub_err rdo(pg *s, int which, const prm *p)
{
	hub_err e;
	PGresult *r = rq(s, which, p, &e);
	PQclear(r);
	return r ? HUB_OK : e;
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

/* ---- the part's state on a connection ---- */

typedef struct dstate {
	int ready; /* the refresh's temporary tables exist on this connection */
} dstate;

/* The refresh's temporary tables, at its first use of a connection (outside a transaction, so that they stay). */
static hub_err ready(pg *s)
{
	if (!s->dash && !(s->dash = calloc(1, sizeof(dstate))))
		return hpg_refuse(s, HUB_ERR, "out of memory");
	dstate *d = s->dash;
	if (d->ready)
		return HUB_OK;
	hub_err e = hpg_exec(s, "SET client_min_messages = warning;"
				"CREATE TEMP TABLE IF NOT EXISTS dash_n(rid bigint NOT NULL,"
				" member_rid bigint NOT NULL, dn integer, mi integer, ms bigint NOT NULL,"
				" qr integer NOT NULL, ev ctext) ON COMMIT DELETE ROWS;"
				"CREATE TEMP TABLE IF NOT EXISTS dash_m(rid bigint PRIMARY KEY,"
				" had integer NOT NULL DEFAULT 0, old_first integer, old_qr integer, old_event ctext)"
				" ON COMMIT DELETE ROWS;"
				"CREATE TEMP TABLE IF NOT EXISTS dash_d(dn integer PRIMARY KEY) ON COMMIT DELETE ROWS;"
				"CREATE TEMP TABLE IF NOT EXISTS dash_e(uid ctext PRIMARY KEY) ON COMMIT DELETE ROWS;"
				"RESET client_min_messages");
	if (e == HUB_OK)
		d->ready = 1;
	return e;
}

void hpg_dash_reset(pg *s)
{
	dstate *d = s->dash;
	if (d)
		d->ready = 0;
}

void hpg_dash_close(pg *s)
{
	free(s->dash);
	s->dash = NULL;
}

/* ---- marks (inside the change's transaction) ---- */

hub_err hpg_dash_reversed(pg *s, const char *checkin_id)
{
	prm p = {0};
	p_txt(&p, "id", checkin_id);
	return rdo(s, R_DIRTY_CHECKIN, &p);
}

hub_err hpg_dash_member_changed(pg *s, const char *uid)
{
	prm p = {0};
	p_txt(&p, "id", uid);
	return rdo(s, R_DIRTY_UID, &p);
}

hub_err hpg_dash_merging(pg *s, int64_t keep, int64_t gone)
{
	prm p = {0};
	p_int(&p, "keep", keep);
	p_int(&p, "gone", gone);
	/* gone's check-ins are about to count for keep: both members' summaries change; then, under the
	 * venue's referral lock: who brought gone brought keep, unless keep was brought by someone
	 * already; whom gone brought, keep brought; keep brought by gone is no referral */
	static const int steps[] = {R_DIRTY_MERGE, R_REF_LOCK_RID, R_REF_MOVE, R_REF_DROP, R_REF_REPOINT, R_REF_SELF};
	hub_err e = HUB_OK;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && e == HUB_OK; i++)
		e = rdo(s, steps[i], &p);
	return e;
}

hub_err hpg_dash_live(pg *s, const char *slug, const char *ref, int hit, int64_t now)
{
	prm p = {0};
	p_txt(&p, "slug", slug);
	hub_err e;
	PGresult *r = rq(s, R_LIVE_VENUE, &p, &e);
	if (!r)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return HUB_OK;
	}
	char venue[HUB_ID_MAX], day[11];
	hpg_cpy(venue, sizeof venue, hpg_txt(r, 0, 0));
	hub_day(hpg_txt(r, 0, 1), now, &s->live_day, day);
	PQclear(r);
	int with_ref = hit && ref && ref[0];
	p_txt(&p, "day", day);
	p_txt(&p, "venue", venue);
	p_int(&p, "hit", hit ? 1 : 0);
	p_int(&p, "miss", hit ? 0 : 1);
	p_int(&p, "ref_n", with_ref);
	p_txt(&p, "ref", with_ref ? ref : NULL);
	return rdo(s, R_LIVE_COUNT, &p);
}

/* ---- refresh ---- */

/* Column col of a one-row answer as a truth value. */
static int truth(const PGresult *r, int col)
{
	return PQntuples(r) > 0 && !hpg_null(r, 0, col) && hpg_txt(r, 0, col)[0] == 't';
}

/* Every summary anew (meta 'dash_summed' missing): emptied and every check-in queued, alone. */
static hub_err summed_anew(pg *s)
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	PGresult *r = NULL;
	if ((e = rdo(s, R_LOCK_ALL, NULL)) == HUB_OK)
		r = rq(s, R_SUMMED, NULL, &e);
	if (!r)
		return hpg_rollback(s, e);
	int anew = truth(r, 0); /* still: not done by another node while this one waited */
	PQclear(r);
	if (anew && (e = rdo(s, R_RESET, NULL)) == HUB_OK)
		e = rdo(s, R_MARK_WHOLE, NULL);
	return hpg_end(s, e);
}

/* The steps of a venue's refresh, in its transaction. */
static hub_err refresh_steps(pg *s, const prm *p)
{
	/* members after what was taken, days and events after members (first-timers read member_stats),
	 * weeks from days */
	static const int members[] = {R_LOCK_VENUE, R_TAKE,   R_ANALYZE, R_RECOUNT,
				      R_APPEND,	    R_MS_OLD, R_MS_DEL,	 R_MS_PUT};
	static const int days[] = {R_MARK_MOVED, R_DAYS_PUT, R_WEEKS_PUT, R_EVENTS_PUT};
	hub_err e = HUB_OK;
	for (size_t i = 0; i < sizeof members / sizeof members[0] && e == HUB_OK; i++)
		e = rdo(s, members[i], p);
	PGresult *r = e == HUB_OK ? rq(s, R_MS_MANY, NULL, &e) : NULL;
	if (!r)
		return e;
	int many = truth(r, 0);
	PQclear(r);
	if (many)
		e = rdo(s, R_MS_ANALYZE, NULL);
	for (size_t i = 0; i < sizeof days / sizeof days[0] && e == HUB_OK; i++)
		e = rdo(s, days[i], p);
	return e;
}

/* The venue's queued changes, counted again. */
static hub_err refresh_venue(pg *s, const char *venue)
{
	prm p = {0};
	p_txt(&p, "id", venue);
	hub_err e;
	for (int attempt = 0;; attempt++) {
		if ((e = hpg_begin(s)) != HUB_OK)
			return e;
		e = hpg_end(s, refresh_steps(s, &p));
		if (e != HUB_BUSY || attempt == 2)
			return e;
	}
}

hub_err hpg_dash_refresh(hub_store *b, const char *venue)
{
	pg *s = (pg *)b;
	hub_err e = ready(s);
	if (e != HUB_OK)
		return e;
	prm p = {0};
	p_txt(&p, "id", venue);
	PGresult *r = rq(s, venue ? R_PENDING_ONE : R_SUMMED, &p, &e);
	if (!r)
		return e;
	int anew = truth(r, 0), pending = venue && truth(r, 1);
	PQclear(r);
	if (anew) {
		if ((e = summed_anew(s)) != HUB_OK)
			return e;
		pending = 1;
	}
	if (venue)
		return pending ? refresh_venue(s, venue) : HUB_OK;
	/* every venue with something queued, each in its own transaction */
	if (!(r = rq(s, R_PENDING_ALL, NULL, &e)))
		return e;
	int n = PQntuples(r);
	char(*ids)[HUB_ID_MAX] = calloc(n ? (size_t)n : 1, sizeof *ids);
	if (!ids) {
		PQclear(r);
		return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	for (int i = 0; i < n; i++)
		hpg_cpy(ids[i], HUB_ID_MAX, hpg_txt(r, i, 0));
	PQclear(r);
	for (int i = 0; i < n && e == HUB_OK; i++)
		e = refresh_venue(s, ids[i]);
	free(ids);
	return e;
}

/* ---- reads ---- */

/*
 * How every question is asked: in a read-only transaction of its own whose
 * statements are planned for their values each time (a prepared statement
 * is otherwise planned once for any values after its fifth run: the funnel
 * of 90 days took 21 ms that way instead of 6) and without JIT compilation,
 * which takes longer than any of these queries (cohorts over 77 000 members:
 * 150 ms, and 750 ms with JIT). The refresh sets the same for its own.
 */
#define READ_BEGIN "BEGIN READ ONLY; SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan"

static hub_err read_begin(pg *s)
{
	hub_err e = hpg_exec(s, READ_BEGIN);
	s->in_tx = 1; /* a failed SET leaves the transaction open, aborted: rolled back */
	return e == HUB_OK ? HUB_OK : hpg_rollback(s, e);
}

/* ---- periods ---- */

typedef struct per {
	int64_t from, to; /* day numbers */
	char from_s[11], to_s[11];
	char *venues;	   /* "{id}", or NULL: every venue */
	prm p;		   /* v, lo, hi, los, his */
} per;

static void period_free(per *p)
{
	free(p->venues);
	p->venues = NULL;
}

/* Check hp (its venue known) and set out's values; period_free() it after. */
static hub_err period(pg *s, const hub_period *hp, per *out)
{
	memset(out, 0, sizeof *out);
	hub_err e;
	if (!hp || dn_parse(hp->from, &out->from) != 0 || dn_parse(hp->to, &out->to) != 0 || out->from > out->to)
		return hpg_refuse(s, HUB_INVALID, "a period runs from a day to a later one (YYYY-MM-DD)");
	if (out->to - out->from > 366 * 50)
		return hpg_refuse(s, HUB_INVALID, "a period of at most 50 years");
	dn_text(out->from, out->from_s);
	dn_text(out->to, out->to_s);
	if (hp->venue_id) {
		prm q = {0};
		p_txt(&q, "id", hp->venue_id);
		PGresult *r = rq(s, V_VENUE, &q, &e);
		if (!r)
			return e;
		int known = PQntuples(r) > 0;
		PQclear(r);
		if (!known)
			return hpg_refuse(s, HUB_NOT_FOUND, "no venue %s", hp->venue_id);
		hpg_arr a = {0};
		hpg_arr_t(&a, hp->venue_id);
		const char *lit = hpg_arr_done(&a);
		out->venues = lit ? strdup(lit) : NULL;
		hpg_arr_free(&a);
		if (!out->venues)
			return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	p_txt(&out->p, "v", out->venues);
	p_int(&out->p, "lo", out->from);
	p_int(&out->p, "hi", out->to);
	p_txt(&out->p, "los", out->from_s);
	p_txt(&out->p, "his", out->to_s);
	return HUB_OK;
}

/* ---- attendance ---- */

static hub_err hpg_dash_attendance_in(pg *s, const hub_period *hp, hub_dash_attendance *out)
{
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	int64_t m0 = monday_of(p.from), m1 = monday_of(p.to);
	size_t nw = (size_t)((m1 - m0) / 7 + 1);
	hub_dash_week *w = calloc(nw, sizeof *w);
	if (!w) {
		period_free(&p);
		return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	for (size_t i = 0; i < nw; i++)
		dn_text(m0 + 7 * (int64_t)i, w[i].monday);
	/* whole weeks from week_stats; the period's cut first and last from the check-ins */
	int64_t lo = m0 < p.from ? m0 + 7 : m0, hi = m1 + 6 > p.to ? m1 - 7 : m1;
	int cut_first = m0 < p.from, cut_last = m1 + 6 > p.to && !(m1 == m0 && m0 < p.from);
	char a0[11] = "1", a1[11] = "0", b0[11] = "1", b1[11] = "0"; /* empty unless cut */
	if (cut_first) {
		dn_text(p.from, a0);
		dn_text(m0 + 6 < p.to ? m0 + 6 : p.to, a1);
	}
	if (cut_last) {
		dn_text(m1 > p.from ? m1 : p.from, b0);
		dn_text(p.to, b1);
	}
	prm q = p.p;
	p_int(&q, "w0", lo);
	p_int(&q, "w1", hi);
	p_txt(&q, "a0", a0);
	p_txt(&q, "a1", a1);
	p_txt(&q, "b0", b0);
	p_txt(&q, "b1", b1);
	PGresult *r = rq(s, V_ATTENDANCE, &q, &e);
	period_free(&p);
	if (!r) {
		free(w);
		return e;
	}
	int64_t members = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t k = hpg_int(r, i, 0), x = hpg_int(r, i, 1), v = hpg_int(r, i, 2), f = hpg_int(r, i, 3);
		if (k == 0) {
			size_t wi = (size_t)((x - m0) / 7);
			w[wi].visits += v;
			w[wi].first_timers += f;
			out->visits += v;
		} else if (k == 1) {
			out->first_timers = v;
		} else if (k == 2) {
			members = v;
		} else if (k == 3) {
			w[(x - m0) / 7].members = v;
		} else if (k == 4 && cut_first) {
			w[0].members = v;
		} else if (k == 5 && cut_last) {
			w[nw - 1].members = v;
		}
	}
	PQclear(r);
	out->members = members;
	out->returning = out->members - out->first_timers;
	out->weeks = w;
	out->nweeks = nw;
	return HUB_OK;
}

hub_err hpg_dash_attendance(hub_store *b, const hub_period *hp, hub_dash_attendance *out)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_attendance_in(s, hp, out)) : e;
}

/* ---- events ---- */

static hub_err hpg_dash_events_in(pg *s, const hub_period *hp, int (*fn)(const hub_dash_event *e, void *ctx),
				  void *ctx)
{
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	prm q = p.p;
	p_int(&q, "e0", (p.from - 1) * DAY_MS);
	p_int(&q, "e1", (p.to + 2) * DAY_MS);
	PGresult *r = rq(s, V_EVENTS, &q, &e);
	if (r) {
		hub_day_cache days = {0};
		for (int i = 0; i < PQntuples(r); i++) {
			char day[11];
			int64_t start = hpg_int(r, i, 3);
			hub_day(hpg_txt(r, i, 7), start, &days, day);
			if (strcmp(day, p.from_s) < 0 || strcmp(day, p.to_s) > 0)
				continue;
			hub_dash_event ev = {
			    .uid = hpg_txt(r, i, 0),
			    .title = hpg_txt(r, i, 1),
			    .venue_id = hpg_txt(r, i, 2),
			    .start_ms = start,
			    .cancelled = (int)hpg_int(r, i, 4),
			    .visits = hpg_int(r, i, 5),
			    .first_timers = hpg_int(r, i, 6),
			};
			if (fn(&ev, ctx))
				break;
		}
		PQclear(r);
	}
	period_free(&p);
	return r ? HUB_OK : e;
}

hub_err hpg_dash_events(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_event *e, void *ctx),
			void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_events_in(s, hp, fn, ctx)) : e;
}

/* ---- funnel, cohorts, groups ---- */

static hub_err hpg_dash_funnel_in(pg *s, const hub_period *hp, hub_dash_funnel *out)
{
	memset(out, 0, sizeof *out);
	out->median_days_1_2 = out->median_days_2_3 = -1;
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	PGresult *r = rq(s, V_FUNNEL, &p.p, &e);
	period_free(&p);
	if (!r)
		return e;
	if (PQntuples(r) == 1) {
		out->first = hpg_int(r, 0, 0);
		out->second = hpg_int(r, 0, 1);
		out->third = hpg_int(r, 0, 2);
		out->tenth = hpg_int(r, 0, 3);
		if (!hpg_null(r, 0, 4))
			out->median_days_1_2 = strtod(hpg_txt(r, 0, 4), NULL);
		if (!hpg_null(r, 0, 5))
			out->median_days_2_3 = strtod(hpg_txt(r, 0, 5), NULL);
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_funnel(hub_store *b, const hub_period *hp, hub_dash_funnel *out)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_funnel_in(s, hp, out)) : e;
}

static hub_err hpg_dash_cohorts_in(pg *s, const hub_period *hp, hub_dash_cohorts *out)
{
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
	hpg_arr bounds = {0};
	for (size_t c = 0; c <= nc; c++)
		hpg_arr_i(&bounds, month_first(mi0 + (int64_t)c));
	const char *lit = hpg_arr_done(&bounds);
	if (!out->month || !out->size || !out->seen || !lit) {
		hpg_arr_free(&bounds);
		period_free(&p);
		hub_dash_cohorts_free(out);
		return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	for (size_t c = 0; c < nc; c++) {
		int64_t mi = mi0 + (int64_t)c;
		snprintf(out->month[c], sizeof out->month[c], "%04u-%02u", (unsigned)(mi / 12) % 10000u,
			 ((unsigned)(mi % 12) + 1u) % 100u);
		for (size_t k = 1; k <= mo; k++)
			out->seen[c * mo + k - 1] = c + k < nc ? 0 : -1; /* -1: past the period's end */
	}
	prm q = p.p;
	p_txt(&q, "b", lit);
	p_int(&q, "nc", (int64_t)nc);
	p_int(&q, "m0", mi0);
	PGresult *r = rq(s, V_COHORTS, &q, &e);
	hpg_arr_free(&bounds);
	period_free(&p);
	if (!r) {
		hub_dash_cohorts_free(out);
		return e;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t c = hpg_int(r, i, 0), n = hpg_int(r, i, 2);
		if (c < 0 || (size_t)c >= nc)
			continue;
		out->size[c] += n;
		/* the months as text: "{[a,b),[c,d)}" (integer ranges are written [lower,upper)) */
		for (const char *t = hpg_txt(r, i, 1); (t = strchr(t, '[')) != NULL;) {
			char *end;
			int64_t a = strtoll(t + 1, &end, 10), z = *end == ',' ? strtoll(end + 1, &end, 10) : a;
			t = end;
			for (int64_t m = a; m < z; m++) {
				int64_t k = m - (mi0 + c);
				if (k >= 1 && (size_t)(c + k) < nc)
					out->seen[(size_t)c * mo + (size_t)k - 1] += n;
			}
		}
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_cohorts(hub_store *b, const hub_period *hp, hub_dash_cohorts *out)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_cohorts_in(s, hp, out)) : e;
}

static hub_err hpg_dash_groups_in(pg *s, const hub_period *hp, hub_dash_groups *out)
{
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	PGresult *r = rq(s, V_FIRSTS, &p.p, &e);
	period_free(&p);
	if (!r)
		return e;
	if (PQntuples(r) == 1) {
		out->first_timers = hpg_int(r, 0, 0);
		out->first_timers_shown_qr = hpg_int(r, 0, 1);
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_groups(hub_store *b, const hub_period *hp, hub_dash_groups *out)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_groups_in(s, hp, out)) : e;
}

/* ---- the members behind a number ---- */

static hub_err hpg_dash_members_in(pg *s, const hub_period *hp, hub_dash_list list, const char *arg, int64_t n,
				   int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx)
{
	if (total)
		*total = 0;
	if ((int)list < 0 || (int)list >= NLISTS)
		return hpg_refuse(s, HUB_INVALID, "no such list");
	int needs_arg = list == HUB_DL_COHORT || list == HUB_DL_EVENT || list == HUB_DL_WEEK ||
			list == HUB_DL_REFERRED_BY || list == HUB_DL_TIER;
	if (needs_arg && !arg)
		return hpg_refuse(s, HUB_INVALID, "this list is of a month, an event, a week, a member or a tier");
	if ((list == HUB_DL_REACHED && n < 1) || n < 0 || (list == HUB_DL_EXPIRING && n < 1) || n > 100000)
		return hpg_refuse(s, HUB_INVALID, "not a number this list takes: %lld", (long long)n);
	int64_t lo = 0, hi = 0, wk = 0, mn = 0;
	if (list == HUB_DL_COHORT) {
		int y = 0, mo = 0;
		char rest = 0;
		if (strlen(arg) != 7 || sscanf(arg, "%4d-%2d%c", &y, &mo, &rest) != 2 || mo < 1 || mo > 12)
			return hpg_refuse(s, HUB_INVALID, "not a month (YYYY-MM): %s", arg);
		int64_t mi = (int64_t)y * 12 + mo - 1;
		lo = month_first(mi);
		hi = month_first(mi + 1) - 1;
		mn = mi + n;
	}
	if (list == HUB_DL_WEEK && (dn_parse(arg, &wk) != 0 || monday_of(wk) != wk))
		return hpg_refuse(s, HUB_INVALID, "not a Monday (YYYY-MM-DD): %s", arg);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	char w0[11], w1[11], after[11];
	dn_text(wk > p.from ? wk : p.from, w0);
	dn_text(wk + 6 < p.to ? wk + 6 : p.to, w1);
	dn_text(p.to + n, after);
	prm q = p.p;
	p_txt(&q, "arg", arg);
	p_int(&q, "n", n);
	p_txt(&q, "w0", w0);
	p_txt(&q, "w1", w1);
	p_int(&q, "c0", lo);
	p_int(&q, "c1", hi);
	p_int(&q, "mn", mn);
	p_txt(&q, "after", after);
	char lim[24];
	snprintf(lim, sizeof lim, "%d", limit);
	p_txt(&q, "lim", limit > 0 ? lim : NULL);
	/* the total, and the page joined to the rest of its rows (an empty page: one row, the total alone) */
	const char *by = lsql[list].by_last ? "last DESC, name, rid" : "name, rid",
		   *pby = lsql[list].by_last ? "p.last DESC, p.name, p.rid" : "p.name, p.rid";
	char count[512];
	snprintf(count, sizeof count, "%s", lsql[list].count ? lsql[list].count : "SELECT count(*) FROM x");
	size_t len = strlen(lsql[list].cols) + strlen(lsql[list].from) + strlen(count) + 1024;
	char *text = malloc(len);
	if (!text) {
		period_free(&p);
		return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	snprintf(text, len,
		 "WITH x AS (SELECT %s%s) SELECT t.total, m.uid, m.name, m.phone, m.code, m.tier, m.expires,"
		 " m.venue_id, coalesce(ms.visits, 0), ms.first_dn, ms.last_dn,"
		 " (SELECT count(*) FROM referrals r WHERE r.referrer_rid = m.rid)"
		 " FROM (SELECT (%s) AS total) t LEFT JOIN LATERAL (SELECT * FROM x ORDER BY %s LIMIT @lim::bigint) p"
		 " ON true LEFT JOIN members m ON m.rid = p.rid LEFT JOIN member_stats ms ON ms.member_rid = p.rid"
		 " ORDER BY %s",
		 lsql[list].cols, lsql[list].from, count, by, pby);
	PGresult *r = run(s, L_BASE + (int)list, text, &q, &e);
	free(text);
	period_free(&p);
	if (!r)
		return e;
	if (total && PQntuples(r) > 0)
		*total = hpg_int(r, 0, 0);
	for (int i = 0; i < PQntuples(r); i++) {
		if (hpg_null(r, i, 1))
			continue;
		hub_dash_member m = {
		    .uid = hpg_txt(r, i, 1),
		    .name = hpg_txt(r, i, 2),
		    .phone = hpg_txt(r, i, 3),
		    .code = hpg_txt(r, i, 4),
		    .tier = hpg_txt(r, i, 5),
		    .expires = hpg_txt(r, i, 6),
		    .venue_id = hpg_txt(r, i, 7),
		    .visits = hpg_int(r, i, 8),
		    .referrals = hpg_int(r, i, 11),
		};
		if (!hpg_null(r, i, 9)) {
			dn_text(hpg_int(r, i, 9), m.first_day);
			dn_text(hpg_int(r, i, 10), m.last_day);
		}
		if (fn && fn(&m, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_members(hub_store *b, const hub_period *hp, hub_dash_list list, const char *arg, int64_t n,
			 int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_members_in(s, hp, list, arg, n, limit, total, fn, ctx)) : e;
}

/* ---- referrals ---- */

static hub_err hpg_dash_referrers_in(pg *s, const hub_period *hp, int limit,
				     int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx)
{
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	prm q = p.p;
	char lim[24];
	snprintf(lim, sizeof lim, "%d", limit);
	p_txt(&q, "lim", limit > 0 ? lim : NULL);
	PGresult *r = rq(s, V_REFERRERS, &q, &e);
	period_free(&p);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_dash_referrer x = {
		    .uid = hpg_txt(r, i, 0),
		    .name = hpg_txt(r, i, 1),
		    .brought = hpg_int(r, i, 2),
		    .brought_all = hpg_int(r, i, 3),
		    .invites_followed = hpg_int(r, i, 4),
		};
		if (fn(&x, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_referrers(hub_store *b, const hub_period *hp, int limit,
			   int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_referrers_in(s, hp, limit, fn, ctx)) : e;
}

static hub_err hpg_dash_referral_tree_in(pg *s, const char *member_uid, int max_depth,
					 int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx)
{
	prm p = {0};
	p_txt(&p, "id", member_uid);
	hub_err e;
	PGresult *r = rq(s, R_ROOT, &p, &e);
	if (!r)
		return e;
	int found = PQntuples(r) > 0;
	int64_t root = found ? hpg_int(r, 0, 0) : 0;
	PQclear(r);
	if (!found)
		return hpg_refuse(s, HUB_NOT_FOUND, "no member %s", member_uid ? member_uid : "");
	prm t = {0};
	p_int(&t, "root", root);
	p_int(&t, "depth", max_depth > 0 && max_depth < 1000 ? max_depth : 1000);
	if (!(r = rq(s, R_TREE, &t, &e)))
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_dash_referral x = {
		    .member_uid = hpg_txt(r, i, 0),
		    .member_name = hpg_txt(r, i, 1),
		    .referrer_uid = hpg_txt(r, i, 2),
		    .depth = (int)hpg_int(r, i, 3),
		    .via = hpg_txt(r, i, 5),
		};
		hpg_cpy(x.day, sizeof x.day, hpg_txt(r, i, 4));
		if (fn(&x, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_referral_tree(hub_store *b, const char *member_uid, int max_depth,
			       int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_referral_tree_in(s, member_uid, max_depth, fn, ctx)) : e;
}

static hub_err hpg_referral_of_in(pg *s, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
				  void *ctx)
{
	prm p = {0};
	p_txt(&p, "id", member_uid);
	hub_err e;
	PGresult *r = rq(s, R_BROUGHT_BY, &p, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0) {
		hub_dash_referral x = {.member_uid = hpg_txt(r, 0, 0),
				       .member_name = hpg_txt(r, 0, 1),
				       .referrer_uid = hpg_txt(r, 0, 2),
				       .depth = 1,
				       .via = hpg_txt(r, 0, 4)};
		hpg_cpy(x.day, sizeof x.day, hpg_txt(r, 0, 3));
		fn(&x, ctx);
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_referral_of(hub_store *b, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
			void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_referral_of_in(s, member_uid, fn, ctx)) : e;
}

/* The referral's checks and row, inside its transaction. */
static hub_err referral_in_tx(pg *s, const char *member_uid, const char *referrer_uid, const char *via,
			      int64_t at_ms)
{
	pmrow m = {0}, r = {0};
	pmrow *both[] = {&m, &r};
	const char *uids[] = {member_uid, referrer_uid};
	for (int i = 0; i < 2; i++) {
		int f = hpg_member_find(s, HPG_BY_UID, uids[i], NULL, both[i]);
		if (f < 0)
			return (hub_err)f;
		if (!f)
			return hpg_refuse(s, HUB_NOT_FOUND, "no member %s", uids[i]);
		if (both[i]->deleted || both[i]->merged[0])
			return hpg_refuse(s, HUB_INVALID, "member %s was %s", uids[i],
					  both[i]->deleted ? "deleted" : "merged");
	}
	if (m.rid == r.rid)
		return hpg_refuse(s, HUB_INVALID, "a member does not bring themselves");
	if (strcmp(m.venue, r.venue) != 0)
		return hpg_refuse(s, HUB_INVALID, "%s and %s are members of different venues", m.uid, r.uid);
	prm p = {0};
	p_txt(&p, "venue", m.venue);
	p_int(&p, "m", m.rid);
	p_int(&p, "r", r.rid);
	p_txt(&p, "via", via);
	p_int(&p, "at", at_ms);
	/* one referral of the venue at a time: two at once could each see no loop and close one */
	hub_err e = rdo(s, R_REF_LOCK, &p);
	PGresult *x = e == HUB_OK ? rq(s, R_REF_HAS, &p, &e) : NULL;
	if (!x)
		return e;
	int has = PQntuples(x) > 0;
	PQclear(x);
	if (has)
		return hpg_refuse(s, HUB_EXISTS, "%s was brought by someone already", m.uid);
	if (!(x = rq(s, R_REF_LOOP, &p, &e)))
		return e;
	int loop = truth(x, 0);
	PQclear(x);
	if (loop)
		return hpg_refuse(s, HUB_INVALID, "%s brought %s (or someone who did)", m.uid, r.uid);
	if (!(x = rq(s, R_VENUE_TZ, &p, &e)))
		return e;
	char tz[HUB_TZ_MAX] = "", day[11];
	if (PQntuples(x) > 0)
		hpg_cpy(tz, sizeof tz, hpg_txt(x, 0, 0));
	PQclear(x);
	hub_day_cache dc = {0};
	hub_day(tz, at_ms, &dc, day);
	p_txt(&p, "day", day);
	return rdo(s, R_REF_INSERT, &p);
}

hub_err hpg_referral_add(hub_store *b, const char *member_uid, const char *referrer_uid, const char *via,
			 int64_t at_ms)
{
	pg *s = (pg *)b;
	if (!via || (strcmp(via, "visit") != 0 && strcmp(via, "signup") != 0 && strcmp(via, "console") != 0))
		return hpg_refuse(s, HUB_INVALID, "a referral is by \"visit\", \"signup\" or \"console\"");
	if (!member_uid || !referrer_uid)
		return hpg_refuse(s, HUB_INVALID, "a referral names a member and who brought them");
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, referral_in_tx(s, member_uid, referrer_uid, via, at_ms));
}

/* ---- live codes ---- */

static hub_err hpg_dash_redirects_in(pg *s, const hub_period *hp, int (*fn)(const hub_dash_redirects *r, void *ctx),
				     void *ctx)
{
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	PGresult *r = rq(s, V_REDIRECTS, &p.p, &e);
	period_free(&p);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_dash_redirects x = {
		    .slug = hpg_txt(r, i, 0),
		    .redirects = hpg_int(r, i, 2),
		    .missed = hpg_int(r, i, 3),
		    .with_ref = hpg_int(r, i, 4),
		};
		hpg_cpy(x.day, sizeof x.day, hpg_txt(r, i, 1));
		if (fn(&x, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_redirects(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_redirects *r, void *ctx),
			   void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_redirects_in(s, hp, fn, ctx)) : e;
}

/* A link as dash_links weighs it. */
typedef struct lk {
	const char *uid, *slug, *label, *platform, *tz;
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

static hub_err hpg_dash_links_in(pg *s, const hub_period *hp, int (*fn)(const hub_dash_link *l, void *ctx),
				 void *ctx)
{
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	PGresult *r = rq(s, V_LINKS, &p.p, &e);
	if (!r) {
		period_free(&p);
		return e;
	}
	int rows = PQntuples(r);
	lk *v = calloc(rows ? (size_t)rows : 1, sizeof *v);
	if (!v) {
		PQclear(r);
		period_free(&p);
		return hpg_refuse(s, HUB_ERR, "out of memory");
	}
	/* the rows stay while their slug's links are weighed: the strings are the result's */
	for (int i = 0; i < rows; i++)
		v[i] = (lk){.uid = hpg_txt(r, i, 0),
			    .slug = hpg_txt(r, i, 1),
			    .label = hpg_txt(r, i, 2),
			    .platform = hpg_txt(r, i, 3),
			    .cap = hpg_int(r, i, 4),
			    .redirects = hpg_int(r, i, 5),
			    .expires = hpg_int(r, i, 6),
			    .created = hpg_int(r, i, 7),
			    .tz = hpg_txt(r, i, 8)};
	hub_day_cache dc = {0};
	for (int i = 0, j; i < rows; i = j) {
		for (j = i + 1; j < rows && strcmp(v[j].slug, v[i].slug) == 0; j++)
			;
		if (links_of_slug(v + i, (size_t)(j - i), &p, &dc, fn, ctx))
			break;
	}
	free(v);
	PQclear(r);
	period_free(&p);
	return HUB_OK;
}

hub_err hpg_dash_links(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_link *l, void *ctx),
		       void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_links_in(s, hp, fn, ctx)) : e;
}

/* ---- tiers ---- */

static hub_err hpg_dash_tiers_in(pg *s, const hub_period *hp, int (*fn)(const hub_dash_tier *t, void *ctx), void *ctx,
				 hub_dash_tiers *out)
{
	memset(out, 0, sizeof *out);
	per p;
	hub_err e = period(s, hp, &p);
	if (e != HUB_OK)
		return e;
	char after[11];
	dn_text(p.to + 30, after);
	prm q = p.p;
	p_txt(&q, "after", after);
	PGresult *r = rq(s, V_TIERS, &q, &e);
	period_free(&p);
	if (!r)
		return e;
	int stop = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t k = hpg_int(r, i, 0), n = hpg_int(r, i, 2);
		if (k == 1) {
			out->expiring = n;
		} else if (k == 2) {
			out->expired_coming = n;
		} else if (!stop && fn) {
			hub_dash_tier t = {.tier = hpg_txt(r, i, 1), .members = n};
			stop = fn(&t, ctx);
		}
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_dash_tiers(hub_store *b, const hub_period *hp, int (*fn)(const hub_dash_tier *t, void *ctx), void *ctx,
		       hub_dash_tiers *out)
{
	pg *s = (pg *)b;
	hub_err e = read_begin(s);
	return e == HUB_OK ? hpg_end(s, hpg_dash_tiers_in(s, hp, fn, ctx, out)) : e;
}
