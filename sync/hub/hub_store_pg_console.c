/*
 * hub_store_pg_console — the venue data the organizer console reads and
 * changes in the PostgreSQL store: members, events, links and what kiosks
 * said of their queues (see hub_store.h, "the console", and
 * hub_store_pg_impl.h); the twin of hub_store_sqlite_console.c, with its
 * answers, errors and order of rows.
 *
 * Changes follow push's rules: each changed row takes the next value of its
 * venue's sequence for its set, so kiosks pull it, and nothing is deleted,
 * only marked (a cancelled event or a removed link has deleted = 1). Counts
 * of attendance count the check-ins that are neither reversed nor
 * duplicates.
 *
 * Several hub processes write these tables at once (READ COMMITTED), where
 * SQLite had one writer at a time. A change that reads a row and then
 * writes on what it read (is the member current, is the code free, is the
 * event cancelled already) first locks the venue's sequence row of the set
 * it will write (set_seqs, FOR UPDATE), then the rows it reads: every writer
 * of a venue's members, events or links takes that sequence row before it
 * writes, so from then on nothing of the set changes under the change, and
 * what it reads is the last committed state. The sequence row first and the
 * rows after, always in that order, so that two changes do not wait for
 * each other's locks in a circle (a deadlock PostgreSQL still finds, with
 * the pushes' locks, is HUB_BUSY: the change is run again, whole, a few
 * times). A change that finds nothing to do rolls back (its sequence number
 * is not taken). The unique indexes on a venue's current codes and phones
 * refuse whatever slips past (a writer that did not take the lock):
 * HUB_EXISTS, with the same sentence.
 *
 * A merge changes whom check-ins count for, which a push reads: it locks
 * keep, gone and the members merged into gone FOR UPDATE before it moves a
 * check-in. A push that reads the members its check-ins name FOR KEY SHARE
 * (as it must, for this) and got there first has committed, so its
 * check-ins are moved too; a push after it waits, then reads the merge. An
 * edit locks its member FOR NO KEY UPDATE: pushes of the member's
 * check-ins go on meanwhile.
 */
#include "sync/check.h"
#include "sync/hub/hub_store_pg_impl.h"

#include <stdlib.h>
#include <string.h>

/* The latest time a record may carry (as hub_push.c checks): the year 3000, in Unix ms. */
#define TIME_MAX 32503680000000LL

/* How many times a change that met a deadlock or a serialization failure is run again. */
#define TRIES 3

/* members_each reads a venue's members this many at a time (a hub's memory stays flat at 100 000). */
#define MEMBERS_PAGE 5000

#define MEMBER_COLS                                                                                          \
	"m.rid, m.uid, m.venue_id, m.merged_into, m.name, m.phone, m.code, m.tier, m.expires, m.provisional," \
	" m.deleted, m.created_ms, m.updated_ms"
#define COUNTED "duplicate_of IS NULL AND reversed = 0"
/* a member's visits and last visit, from the check-ins by member index alone */
#define MEMBER_VISITS                                                                                        \
	"SELECT " MEMBER_COLS ", v.n, v.last FROM members m CROSS JOIN LATERAL (SELECT count(*) AS n,"          \
	" coalesce(max(c.corrected_ms), 0) AS last FROM checkins c WHERE c.member_rid = m.rid AND c." COUNTED \
	") v"
#define EVENT_COLS                                                                                           \
	"uid, venue_id, title, start_ms, end_ms, created_ms, deleted, (SELECT count(*) FROM checkins c"      \
	" WHERE c.event_uid = events.uid AND c." COUNTED ")"
#define LINK_COLS                                                                                            \
	"uid, venue_id, event_uid, platform, label, url, slug, coalesce(expires_ms, 0), coalesce(cap, 0),"   \
	" redirects, created_ms, is_default, deleted"
/* A check-in's attendance key as push makes it: the event's rid, or the drop-in day YYYY-MM-DD as
 * -YYYYMMDD (hpg_day_key). */
#define AKEY                                                                                                 \
	"CASE WHEN c.event_uid IS NOT NULL THEN coalesce(e.rid, 0)"                                          \
	" ELSE -(replace(c.day, '-', '')::bigint) END"
#define GONE_CHECKINS " FROM checkins c LEFT JOIN events e ON e.uid = c.event_uid WHERE c.member_rid = $1"

enum {
	Q_SET_SEQ,
	Q_SET_LOCK,
	Q_MEMBERS,
	Q_MEMBER_GET,
	Q_MEMBER_RID,
	Q_MEMBER_VENUE,
	Q_MEMBER_LOCK,
	Q_MEMBER_LOCK_ALL,
	Q_MEMBER_BY_CODE,
	Q_MEMBER_UPDATE,
	Q_MEMBER_GONE,
	Q_MEMBER_TAKE,
	Q_MERGED_INTO,
	Q_MEMBER_REPOINT,
	Q_ATTEND_TAKE,
	Q_ATTEND_DROP,
	Q_CHECKINS_DUP,
	Q_CHECKINS_MOVE,
	Q_MEMBER_CHECKINS,
	Q_EVENTS,
	Q_EVENT_GET,
	Q_EVENT_VENUE,
	Q_EVENT_LOCK,
	Q_EVENT_UPDATE,
	Q_EVENT_CANCEL,
	Q_EVENT_CHECKINS,
	Q_EVENT_COUNT,
	Q_LINKS,
	Q_LINK_GET,
	Q_LINK_VENUE,
	Q_LINK_LOCK,
	Q_LINK_EXPIRE,
	Q_LINK_REMOVE,
	Q_QUEUE_SET,
	Q_QUEUE_GET,
	Q_REJECTED,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_SET_SEQ] = "SELECT last FROM set_seqs WHERE venue_id = $1 AND data_set = $2",
    [Q_SET_LOCK] = "SELECT last FROM set_seqs WHERE venue_id = $1 AND data_set = $2 FOR UPDATE",
    [Q_MEMBERS] = "SELECT " MEMBER_COLS " FROM members m WHERE m.venue_id = $1 AND m.deleted = 0"
		  " AND m.merged_into IS NULL AND m.rid > $2 ORDER BY m.rid LIMIT $3",
    [Q_MEMBER_GET] = MEMBER_VISITS " WHERE m.uid = $1",
    [Q_MEMBER_RID] = MEMBER_VISITS " WHERE m.rid = $1",
    [Q_MEMBER_VENUE] = "SELECT venue_id FROM members WHERE uid = $1",
    [Q_MEMBER_LOCK] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rid"
		      " FROM members WHERE uid = $1 FOR NO KEY UPDATE",
    [Q_MEMBER_LOCK_ALL] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rid"
			  " FROM members WHERE uid = $1 FOR UPDATE",
    [Q_MEMBER_BY_CODE] = "SELECT uid, name FROM members WHERE venue_id = $1 AND code = $2 AND deleted = 0"
			 " AND merged_into IS NULL",
    [Q_MEMBER_UPDATE] = "UPDATE members SET seq = $2, updated_ms = $3, tier = $4, expires = $5, code = $6"
			" WHERE uid = $1",
    [Q_MEMBER_GONE] = "UPDATE members SET seq = $2, updated_ms = $3, merged_into = $4, phone = NULL, code = NULL"
		      " WHERE uid = $1",
    [Q_MEMBER_TAKE] = "UPDATE members SET seq = $2, updated_ms = $3, phone = $4, code = $5 WHERE uid = $1",
    [Q_MERGED_INTO] = "SELECT uid FROM members WHERE merged_into = $1 ORDER BY rid FOR UPDATE",
    [Q_MEMBER_REPOINT] = "UPDATE members SET seq = $2, updated_ms = $3, merged_into = $4 WHERE uid = $1",
    /*
     * The merge's check-ins, in three statements each seeing what the one before did (see
     * move_checkins): gone's holders take keep's attendances keep does not hold, in the order made;
     */
    [Q_ATTEND_TAKE] = "INSERT INTO attendances(akey, member_rid, checkin_rid) SELECT " AKEY ", $2::bigint, c.rid"
		      GONE_CHECKINS " AND c.duplicate_of IS NULL ORDER BY c.rid"
		      " ON CONFLICT (akey, member_rid) DO NOTHING",
    /* gone holds none of them any more; */
    [Q_ATTEND_DROP] = "DELETE FROM attendances WHERE member_rid = $1 AND akey IN (SELECT " AKEY GONE_CHECKINS
		      " AND c.duplicate_of IS NULL)",
    /* and each of gone's check-ins that did not take its attendance is a duplicate of keep's holder */
    [Q_CHECKINS_DUP] = "UPDATE checkins d SET duplicate_of = h.id FROM checkins c LEFT JOIN events e"
		       " ON e.uid = c.event_uid, attendances a, checkins h WHERE c.member_rid = $1 AND d.rid = c.rid"
		       " AND a.member_rid = $2 AND a.akey = " AKEY " AND h.rid = a.checkin_rid AND h.rid <> c.rid",
    [Q_CHECKINS_MOVE] = "UPDATE checkins SET member_rid = $2, member_uid = $3 WHERE member_rid = $1",
    /* newest first; among check-ins of one moment, in the order SQLite's index walks them backwards */
    [Q_MEMBER_CHECKINS] = HPG_CHECKIN_SELECT " WHERE c.member_rid = (SELECT rid FROM members WHERE uid = $1)"
					     " ORDER BY c.corrected_ms DESC, c.reversed DESC,"
					     " c.duplicate_of DESC NULLS LAST, c.rid DESC",
    [Q_EVENTS] = "SELECT " EVENT_COLS " FROM events WHERE venue_id = $1 ORDER BY start_ms DESC, rid DESC",
    [Q_EVENT_GET] = "SELECT " EVENT_COLS " FROM events WHERE uid = $1",
    [Q_EVENT_VENUE] = "SELECT venue_id FROM events WHERE uid = $1",
    [Q_EVENT_LOCK] = "SELECT deleted FROM events WHERE uid = $1 FOR UPDATE",
    [Q_EVENT_UPDATE] = "UPDATE events SET seq = $2, title = $3, start_ms = $4, end_ms = $5 WHERE uid = $1",
    [Q_EVENT_CANCEL] = "UPDATE events SET seq = $2, deleted = 1 WHERE uid = $1",
    /* in the order made; among check-ins of one moment, in the order SQLite's index walks them */
    [Q_EVENT_CHECKINS] = HPG_CHECKIN_SELECT " WHERE c.event_uid = $1 ORDER BY c.corrected_ms, c.reversed,"
					    " c.duplicate_of NULLS FIRST, c.rid",
    [Q_EVENT_COUNT] = "SELECT count(c.rid), coalesce(sum((c.duplicate_of IS NULL AND c.reversed = 0)::integer), 0),"
		      " coalesce(sum(c.reversed), 0), coalesce(sum((c.duplicate_of IS NOT NULL)::integer), 0)"
		      " FROM events e LEFT JOIN checkins c ON c.event_uid = e.uid WHERE e.uid = $1 GROUP BY e.uid",
    [Q_LINKS] = "SELECT " LINK_COLS " FROM links WHERE venue_id = $1 ORDER BY created_ms DESC, rid DESC",
    [Q_LINK_GET] = "SELECT " LINK_COLS " FROM links WHERE uid = $1",
    [Q_LINK_VENUE] = "SELECT venue_id FROM links WHERE uid = $1",
    [Q_LINK_LOCK] = "SELECT deleted FROM links WHERE uid = $1 FOR UPDATE",
    [Q_LINK_EXPIRE] = "UPDATE links SET seq = $2, expires_ms = $3 WHERE uid = $1",
    [Q_LINK_REMOVE] = "UPDATE links SET seq = $2, deleted = 1 WHERE uid = $1",
    [Q_QUEUE_SET] = "UPDATE devices SET queue_pending = $2, queue_dead = $3, queue_ms = $4 WHERE id = $1",
    [Q_QUEUE_GET] = "SELECT queue_pending, queue_dead, queue_ms FROM devices WHERE id = $1",
    [Q_REJECTED] = "SELECT (SELECT count(*) FROM rejections WHERE device_id = $1) FROM devices WHERE id = $1",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *run(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_CONSOLE, which, sql[which], a, e);
}

static hub_err run_do(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_CONSOLE, which, sql[which], a, changed);
}

/* The text of which's first row and column for text $1 = id, into out: HUB_OK, HUB_NOT_FOUND or an error. */
static hub_err one_text(pg *s, int which, const char *id, char *out, size_t len)
{
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e = HUB_OK;
	PGresult *r = run(s, which, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0)
		hpg_cpy(out, len, hpg_txt(r, 0, 0));
	else
		e = HUB_NOT_FOUND;
	PQclear(r);
	return e;
}

/*
 * Lock the venue's sequence row of set, the first lock of a change (see the
 * top of the file). A venue whose set has no row yet has no rows of the set
 * either, so there is nothing to lock.
 */
static hub_err lock_set(pg *s, const char *venue, hub_set set)
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, hub_set_name(set));
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_SET_LOCK, &a, &e);
	if (r)
		PQclear(r);
	return e;
}

/*
 * Begin a change of the row uid of a set: its venue (read by venue_q, which
 * refuses "no WHAT uid"), then the venue's sequence row locked. A row's
 * venue never changes, so it may be read before the lock.
 */
static hub_err change_begin(pg *s, int venue_q, const char *what, const char *uid, hub_set set,
			    char venue[HUB_ID_MAX])
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = one_text(s, venue_q, uid, venue, HUB_ID_MAX)) == HUB_NOT_FOUND)
		e = hpg_refuse(s, e, "no %s %s", what, uid ? uid : "");
	if (e == HUB_OK)
		e = lock_set(s, venue, set);
	return e == HUB_OK ? HUB_OK : hpg_rollback(s, e);
}

/* Start args for a change of the row id: $1 = id, $2 = the venue's next sequence number for set. */
static hub_err seq_args(pg *s, hpg_args *a, const char *id, const char *venue, hub_set set)
{
	hub_err e = HUB_OK;
	int64_t seq = hpg_next_seq(s, venue, set, &e);
	if (e != HUB_OK)
		return e;
	memset(a, 0, sizeof *a);
	hpg_t(a, id);
	hpg_i(a, seq);
	return HUB_OK;
}

hub_err hpg_set_seq(hub_store *b, const char *venue, hub_set set, int64_t *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, hub_set_name(set));
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_SET_SEQ, &a, &e);
	if (!r)
		return e;
	*out = PQntuples(r) > 0 ? hpg_int(r, 0, 0) : 0; /* no row: nothing in the set yet */
	PQclear(r);
	return HUB_OK;
}

/* ---- members ---- */

static void member_row(const PGresult *r, int i, hub_member *m)
{
	memset(m, 0, sizeof *m);
	m->rid = hpg_int(r, i, 0);
	hpg_cpy(m->uid, sizeof m->uid, hpg_txt(r, i, 1));
	hpg_cpy(m->venue_id, sizeof m->venue_id, hpg_txt(r, i, 2));
	hpg_cpy(m->merged_into, sizeof m->merged_into, hpg_txt(r, i, 3));
	hpg_cpy(m->name, sizeof m->name, hpg_txt(r, i, 4));
	hpg_cpy(m->phone, sizeof m->phone, hpg_txt(r, i, 5));
	hpg_cpy(m->code, sizeof m->code, hpg_txt(r, i, 6));
	hpg_cpy(m->tier, sizeof m->tier, hpg_txt(r, i, 7));
	hpg_cpy(m->expires, sizeof m->expires, hpg_txt(r, i, 8));
	m->provisional = (int)hpg_int(r, i, 9);
	m->deleted = (int)hpg_int(r, i, 10);
	m->created_ms = hpg_int(r, i, 11);
	m->updated_ms = hpg_int(r, i, 12);
}

hub_err hpg_members_each(hub_store *b, const char *venue, int (*fn)(const hub_member *m, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	/*
	 * Page by page in rid order: each member once. A member changed between
	 * two pages is read as it is at its page; the console's index, which reads
	 * set_seq before this, is made again at its next use then.
	 */
	int64_t after = 0;
	for (;;) {
		hpg_args a = {0};
		hpg_t(&a, venue);
		hpg_i(&a, after);
		hpg_i(&a, MEMBERS_PAGE);
		hub_err e = HUB_OK;
		PGresult *r = run(s, Q_MEMBERS, &a, &e);
		if (!r)
			return e;
		int n = PQntuples(r), stop = 0;
		for (int i = 0; i < n && !stop; i++) {
			hub_member m;
			member_row(r, i, &m);
			after = m.rid;
			stop = fn(&m, ctx);
		}
		PQclear(r);
		if (stop || n < MEMBERS_PAGE)
			return HUB_OK;
	}
}

/* The member which selects with $1 = key (text or number), with visits counted. */
static hub_err member_one(pg *s, int which, const hpg_args *a, hub_member *out)
{
	hub_err e = HUB_OK;
	PGresult *r = run(s, which, a, &e);
	if (!r)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return hpg_refuse(s, HUB_NOT_FOUND, "no such member");
	}
	member_row(r, 0, out);
	out->visits = hpg_int(r, 0, 13);
	out->last_visit_ms = hpg_int(r, 0, 14);
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_member_get(hub_store *b, const char *uid, hub_member *out)
{
	hpg_args a = {0};
	hpg_t(&a, uid);
	return member_one((pg *)b, Q_MEMBER_GET, &a, out);
}

hub_err hpg_member_by_rid(hub_store *b, int64_t rid, hub_member *out)
{
	hpg_args a = {0};
	hpg_i(&a, rid);
	return member_one((pg *)b, Q_MEMBER_RID, &a, out);
}

/*
 * The member uid, locked for the rest of the transaction (which: Q_MEMBER_LOCK for an edit,
 * Q_MEMBER_LOCK_ALL for a merge), into *m: 1 found, 0 not, or a negative hub_err.
 */
static int member_lock(pg *s, int which, const char *uid, pmrow *m)
{
	hpg_args a = {0};
	hpg_t(&a, uid);
	hub_err e = HUB_OK;
	PGresult *r = run(s, which, &a, &e);
	if (!r)
		return e;
	int found = PQntuples(r) > 0;
	memset(m, 0, sizeof *m);
	if (found) {
		hpg_cpy(m->uid, sizeof m->uid, hpg_txt(r, 0, 0));
		hpg_cpy(m->venue, sizeof m->venue, hpg_txt(r, 0, 1));
		hpg_cpy(m->merged, sizeof m->merged, hpg_txt(r, 0, 2));
		m->deleted = (int)hpg_int(r, 0, 3);
		hpg_cpy(m->name, sizeof m->name, hpg_txt(r, 0, 4));
		hpg_cpy(m->phone, sizeof m->phone, hpg_txt(r, 0, 5));
		hpg_cpy(m->code, sizeof m->code, hpg_txt(r, 0, 6));
		hpg_cpy(m->tier, sizeof m->tier, hpg_txt(r, 0, 7));
		hpg_cpy(m->expires, sizeof m->expires, hpg_txt(r, 0, 8));
		m->rid = hpg_int(r, 0, 9);
	}
	PQclear(r);
	return found;
}

/* What member_lock found (f) of uid, as a venue's current member: HUB_OK, or HUB_NOT_FOUND / HUB_INVALID
 * with errmsg. */
static hub_err judge(pg *s, const char *uid, int f, const pmrow *m)
{
	if (f < 0)
		return (hub_err)f;
	if (!f)
		return hpg_refuse(s, HUB_NOT_FOUND, "no member %s", uid);
	if (m->deleted || m->merged[0])
		return hpg_refuse(s, HUB_INVALID, "member %s was %s", uid, m->deleted ? "deleted" : "merged");
	return HUB_OK;
}

/* A venue's current member by uid, locked for an edit, into *m. */
static hub_err current(pg *s, const char *uid, pmrow *m)
{
	return judge(s, uid, member_lock(s, Q_MEMBER_LOCK, uid, m), m);
}

/* The name of the venue's current member holding code, other than uid, into name ("" for none). */
static hub_err code_holder(pg *s, const char *venue, const char *code, const char *uid, char name[STORE_NAME_MAX])
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, code);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_MEMBER_BY_CODE, &a, &e);
	if (!r)
		return e;
	name[0] = '\0';
	if (PQntuples(r) > 0 && strcmp(hpg_txt(r, 0, 0), uid) != 0)
		hpg_cpy(name, STORE_NAME_MAX, hpg_txt(r, 0, 1));
	PQclear(r);
	return HUB_OK;
}

/* One try of member_update (see there); *venue is the member's, for a sentence after a rollback. */
static hub_err member_update_once(pg *s, const char *uid, const char *tier, const char *expires, const char *code,
				  int64_t now, char venue[HUB_ID_MAX])
{
	pmrow m = {0};
	hub_err e = change_begin(s, Q_MEMBER_VENUE, "member", uid, HUB_SET_MEMBERS, venue);
	if (e != HUB_OK)
		return e;
	if ((e = current(s, uid, &m)) != HUB_OK)
		return hpg_rollback(s, e);
	if (strcmp(m.tier, tier) == 0 && strcmp(m.expires, expires) == 0 && strcmp(m.code, code) == 0)
		return hpg_rollback(s, HUB_OK); /* nothing for the kiosks to pull */
	/* every writer of the venue's members waits for the lock this holds: the look is up to date */
	char other[STORE_NAME_MAX] = "";
	if (code[0] && (e = code_holder(s, m.venue, code, m.uid, other)) != HUB_OK)
		return hpg_rollback(s, e);
	if (other[0])
		return hpg_rollback(s, hpg_refuse(s, HUB_EXISTS, "code %s belongs to %s", code, other));
	hpg_args a;
	if ((e = seq_args(s, &a, uid, m.venue, HUB_SET_MEMBERS)) == HUB_OK) {
		hpg_i(&a, now);
		hpg_t(&a, tier);
		hpg_t(&a, expires);
		hpg_t(&a, code[0] ? code : NULL);
		e = run_do(s, Q_MEMBER_UPDATE, &a, NULL);
	}
	if (e == HUB_OK && strcmp(m.expires, expires) != 0)
		e = hpg_dash_member_changed(s, uid);
	return hpg_end(s, e);
}

hub_err hpg_member_update(hub_store *b, const char *uid, const char *tier, const char *expires, const char *code,
			  int64_t now)
{
	pg *s = (pg *)b;
	tier = tier ? tier : "";
	expires = expires ? expires : "";
	code = code ? code : "";
	/* the values a CSV import and a kiosk's record may carry (members_csv.h, hub_push.c) */
	if (!check_text(tier, STORE_TIER_MAX - 1, 1))
		return hpg_refuse(s, HUB_INVALID, "a tier is at most %d bytes of text", STORE_TIER_MAX - 1);
	if (!check_day(expires))
		return hpg_refuse(s, HUB_INVALID, "not a day (YYYY-MM-DD): %s", expires);
	if (!check_text(code, STORE_CODE_MAX - 1, 1) || strchr(code, ' '))
		return hpg_refuse(s, HUB_INVALID, "a code is at most %d bytes, without spaces", STORE_CODE_MAX - 1);
	char venue[HUB_ID_MAX] = "";
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = member_update_once(s, uid, tier, expires, code, now, venue);
	if (e == HUB_EXISTS && code[0] && venue[0]) {
		/* the unique index refused the code: a writer that did not wait for the venue's lock took it
		 * meanwhile (the transaction is over; whoever holds it now is named) */
		char other[STORE_NAME_MAX] = "";
		if (code_holder(s, venue, code, uid, other) == HUB_OK && other[0])
			hpg_refuse(s, e, "code %s belongs to %s", code, other);
	}
	return e;
}

/*
 * gone's check-ins count for keep. An attendance (an event, or a drop-in
 * day) stays held by one check-in: one gone holds and keep does not passes
 * to keep; where keep holds it already, gone's check-in becomes a duplicate
 * of keep's. Then each of gone's duplicates points at whichever check-in
 * holds its attendance for keep. The SQLite store does it one check-in at a
 * time, holders first in the order made; here it is three statements, each
 * seeing what the one before did, with the same outcome: the attendances
 * keep takes (in the order made, so that of two holders of one attendance
 * the first takes it, as there), gone's dropped, and every check-in of gone
 * that does not hold its attendance for keep marked a duplicate of the one
 * that does. Then the check-ins are keep's.
 */
static hub_err move_checkins(pg *s, const pmrow *keep, const pmrow *gone)
{
	hpg_args a = {0}, g = {0};
	hpg_i(&a, gone->rid);
	hpg_i(&a, keep->rid);
	hpg_i(&g, gone->rid);
	hub_err e;
	if ((e = run_do(s, Q_ATTEND_TAKE, &a, NULL)) != HUB_OK || (e = run_do(s, Q_ATTEND_DROP, &g, NULL)) != HUB_OK ||
	    (e = run_do(s, Q_CHECKINS_DUP, &a, NULL)) != HUB_OK)
		return e;
	hpg_t(&a, keep->uid);
	return run_do(s, Q_CHECKINS_MOVE, &a, NULL);
}

/* The members merged into gone before, locked: *r (PQclear it). */
static hub_err merged_into(pg *s, const pmrow *gone, PGresult **r)
{
	hpg_args q = {0};
	hpg_t(&q, gone->uid);
	hub_err e = HUB_OK;
	*r = run(s, Q_MERGED_INTO, &q, &e);
	return e;
}

/* Members merged into gone before (r, from merged_into) are merged into keep now (push follows one step of
 * merged_into). */
static hub_err repoint(pg *s, const pmrow *keep, const PGresult *r, int64_t now)
{
	hub_err e = HUB_OK;
	for (int i = 0, n = PQntuples(r); i < n && e == HUB_OK; i++) {
		hpg_args a;
		if ((e = seq_args(s, &a, hpg_txt(r, i, 0), keep->venue, HUB_SET_MEMBERS)) != HUB_OK)
			break;
		hpg_i(&a, now);
		hpg_t(&a, keep->uid);
		e = run_do(s, Q_MEMBER_REPOINT, &a, NULL);
	}
	return e;
}

static hub_err member_merge_once(pg *s, const char *keep_uid, const char *gone_uid, int64_t now)
{
	pmrow keep, gone;
	char venue[HUB_ID_MAX];
	hub_err e = change_begin(s, Q_MEMBER_VENUE, "member", keep_uid, HUB_SET_MEMBERS, venue);
	if (e != HUB_OK)
		return e;
	/* both rows locked in one order whichever is kept, so that two merges of one pair do not wait for each
	 * other in a circle; then judged keep first, as the SQLite store says it */
	int fk, fg;
	if (strcmp(keep_uid, gone_uid) <= 0)
		fk = member_lock(s, Q_MEMBER_LOCK_ALL, keep_uid, &keep),
		fg = fk < 0 ? fk : member_lock(s, Q_MEMBER_LOCK_ALL, gone_uid, &gone);
	else
		fg = member_lock(s, Q_MEMBER_LOCK_ALL, gone_uid, &gone),
		fk = fg < 0 ? fg : member_lock(s, Q_MEMBER_LOCK_ALL, keep_uid, &keep);
	if ((e = judge(s, keep_uid, fk, &keep)) != HUB_OK || (e = judge(s, gone_uid, fg, &gone)) != HUB_OK)
		return hpg_rollback(s, e);
	if (strcmp(keep.uid, gone.uid) == 0 || strcmp(keep.venue, gone.venue) != 0)
		return hpg_rollback(s, hpg_refuse(s, HUB_INVALID, "%s cannot be merged into %s: %s", gone.uid, keep.uid,
						  strcmp(keep.uid, gone.uid) == 0 ? "the same member"
										  : "another venue's"));
	PGresult *via = NULL;
	if ((e = merged_into(s, &gone, &via)) != HUB_OK || (e = hpg_dash_merging(s, keep.rid, gone.rid)) != HUB_OK ||
	    (e = move_checkins(s, &keep, &gone)) != HUB_OK || (e = repoint(s, &keep, via, now)) != HUB_OK) {
		PQclear(via);
		return hpg_rollback(s, e);
	}
	PQclear(via);
	/* gone first: its phone and code leave the venue's unique indexes before keep takes them */
	hpg_args a;
	if ((e = seq_args(s, &a, gone.uid, gone.venue, HUB_SET_MEMBERS)) == HUB_OK) {
		hpg_i(&a, now);
		hpg_t(&a, keep.uid);
		e = run_do(s, Q_MEMBER_GONE, &a, NULL);
	}
	const char *phone = keep.phone[0] ? keep.phone : gone.phone, *code = keep.code[0] ? keep.code : gone.code;
	if (e == HUB_OK && (strcmp(phone, keep.phone) != 0 || strcmp(code, keep.code) != 0) &&
	    (e = seq_args(s, &a, keep.uid, keep.venue, HUB_SET_MEMBERS)) == HUB_OK) {
		hpg_i(&a, now);
		hpg_t(&a, phone[0] ? phone : NULL);
		hpg_t(&a, code[0] ? code : NULL);
		e = run_do(s, Q_MEMBER_TAKE, &a, NULL);
	}
	return hpg_end(s, e);
}

hub_err hpg_member_merge(hub_store *b, const char *keep_uid, const char *gone_uid, int64_t now)
{
	pg *s = (pg *)b;
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = member_merge_once(s, keep_uid, gone_uid, now);
	return e;
}

hub_err hpg_member_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				 void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_MEMBER_CHECKINS, &a, &e);
	if (!r)
		return e;
	hpg_checkins_of(r, fn, ctx);
	PQclear(r);
	return HUB_OK;
}

/* ---- events ---- */

static void event_row(const PGresult *r, int i, hub_event *ev)
{
	memset(ev, 0, sizeof *ev);
	hpg_cpy(ev->uid, sizeof ev->uid, hpg_txt(r, i, 0));
	hpg_cpy(ev->venue_id, sizeof ev->venue_id, hpg_txt(r, i, 1));
	hpg_cpy(ev->title, sizeof ev->title, hpg_txt(r, i, 2));
	ev->start_ms = hpg_int(r, i, 3);
	ev->end_ms = hpg_int(r, i, 4);
	ev->created_ms = hpg_int(r, i, 5);
	ev->cancelled = (int)hpg_int(r, i, 6);
	ev->attendance = hpg_int(r, i, 7);
}

hub_err hpg_events_each(hub_store *b, const char *venue, int (*fn)(const hub_event *e, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_EVENTS, &a, &e);
	if (!r)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		hub_event ev;
		event_row(r, i, &ev);
		if (fn(&ev, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_event_get(hub_store *b, const char *uid, hub_event *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_EVENT_GET, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0)
		event_row(r, 0, out);
	else
		e = hpg_refuse(s, HUB_NOT_FOUND, "no event %s", uid);
	PQclear(r);
	return e;
}

/* Lock the row uid of a set whose venue's sequence row is locked (lock_q selects its deleted): *deleted. */
static hub_err row_lock(pg *s, int lock_q, const char *what, const char *uid, int *deleted)
{
	char v[8];
	hub_err e = one_text(s, lock_q, uid, v, sizeof v);
	if (e == HUB_OK)
		*deleted = atoi(v);
	return e == HUB_NOT_FOUND ? hpg_refuse(s, e, "no %s %s", what, uid) : e;
}

static hub_err event_change_once(pg *s, const char *uid, const char *title, int64_t start, int64_t end)
{
	char venue[HUB_ID_MAX];
	int deleted = 0;
	hub_err e = change_begin(s, Q_EVENT_VENUE, "event", uid, HUB_SET_EVENTS, venue);
	if (e != HUB_OK)
		return e;
	if ((e = row_lock(s, Q_EVENT_LOCK, "event", uid, &deleted)) != HUB_OK)
		return hpg_rollback(s, e);
	if (!title && deleted) /* cancelled already: nothing new to pull */
		return hpg_rollback(s, HUB_OK);
	hpg_args a;
	if ((e = seq_args(s, &a, uid, venue, HUB_SET_EVENTS)) == HUB_OK) {
		if (title) {
			hpg_t(&a, title);
			hpg_i(&a, start);
			hpg_i(&a, end);
		}
		e = run_do(s, title ? Q_EVENT_UPDATE : Q_EVENT_CANCEL, &a, NULL);
	}
	return hpg_end(s, e);
}

hub_err hpg_event_update(hub_store *b, const char *uid, const char *title, int64_t start, int64_t end, int64_t now)
{
	pg *s = (pg *)b;
	(void)now;
	if (!title || !check_text(title, STORE_TITLE_MAX - 1, 0))
		return hpg_refuse(s, HUB_INVALID, "a title is 1 to %d bytes of text", STORE_TITLE_MAX - 1);
	if (start < 0 || end <= start || end > TIME_MAX)
		return hpg_refuse(s, HUB_INVALID, "an event ends after it starts, between 1970 and 3000");
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = event_change_once(s, uid, title, start, end);
	return e;
}

hub_err hpg_event_cancel(hub_store *b, const char *uid, int64_t now)
{
	pg *s = (pg *)b;
	(void)now;
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = event_change_once(s, uid, NULL, 0, 0);
	return e;
}

hub_err hpg_event_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_EVENT_CHECKINS, &a, &e);
	if (!r)
		return e;
	hpg_checkins_of(r, fn, ctx);
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_event_count(hub_store *b, const char *uid, hub_event_tally *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, uid);
	memset(out, 0, sizeof *out);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_EVENT_COUNT, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0) {
		out->rows = hpg_int(r, 0, 0);
		out->counted = hpg_int(r, 0, 1);
		out->reversed = hpg_int(r, 0, 2);
		out->duplicates = hpg_int(r, 0, 3);
	} else {
		e = hpg_refuse(s, HUB_NOT_FOUND, "no event %s", uid);
	}
	PQclear(r);
	return e;
}

/* ---- links ---- */

static void link_row(const PGresult *r, int i, hub_link *l)
{
	memset(l, 0, sizeof *l);
	hpg_cpy(l->uid, sizeof l->uid, hpg_txt(r, i, 0));
	hpg_cpy(l->venue_id, sizeof l->venue_id, hpg_txt(r, i, 1));
	hpg_cpy(l->event_uid, sizeof l->event_uid, hpg_txt(r, i, 2));
	hpg_cpy(l->platform, sizeof l->platform, hpg_txt(r, i, 3));
	hpg_cpy(l->label, sizeof l->label, hpg_txt(r, i, 4));
	hpg_cpy(l->url, sizeof l->url, hpg_txt(r, i, 5));
	hpg_cpy(l->slug, sizeof l->slug, hpg_txt(r, i, 6));
	l->expires_ms = hpg_int(r, i, 7);
	l->cap = hpg_int(r, i, 8);
	l->redirects = hpg_int(r, i, 9);
	l->created_ms = hpg_int(r, i, 10);
	l->is_default = (int)hpg_int(r, i, 11);
	l->removed = (int)hpg_int(r, i, 12);
}

hub_err hpg_links_each(hub_store *b, const char *venue, int (*fn)(const hub_link *l, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_LINKS, &a, &e);
	if (!r)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		hub_link l;
		link_row(r, i, &l);
		if (fn(&l, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_link_get(hub_store *b, const char *uid, hub_link *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_LINK_GET, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0)
		link_row(r, 0, out);
	else
		e = hpg_refuse(s, HUB_NOT_FOUND, "no link %s", uid);
	PQclear(r);
	return e;
}

/* Expire the link at expire_at, or remove it (expire_at negative), with a new sequence number: one try. */
static hub_err link_change_once(pg *s, const char *uid, int64_t expire_at)
{
	char venue[HUB_ID_MAX];
	int removed = 0;
	hub_err e = change_begin(s, Q_LINK_VENUE, "link", uid, HUB_SET_LINKS, venue);
	if (e != HUB_OK)
		return e;
	if ((e = row_lock(s, Q_LINK_LOCK, "link", uid, &removed)) != HUB_OK)
		return hpg_rollback(s, e);
	if (expire_at < 0 && removed) /* removed already: nothing new to pull */
		return hpg_rollback(s, HUB_OK);
	hpg_args a;
	if ((e = seq_args(s, &a, uid, venue, HUB_SET_LINKS)) == HUB_OK) {
		if (expire_at >= 0)
			hpg_i(&a, expire_at);
		e = run_do(s, expire_at >= 0 ? Q_LINK_EXPIRE : Q_LINK_REMOVE, &a, NULL);
	}
	return hpg_end(s, e);
}

static hub_err link_change(pg *s, const char *uid, int64_t expire_at)
{
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = link_change_once(s, uid, expire_at);
	return e;
}

hub_err hpg_link_expire(hub_store *b, const char *uid, int64_t now)
{
	return link_change((pg *)b, uid, now < 0 ? 0 : now);
}

hub_err hpg_link_remove(hub_store *b, const char *uid, int64_t now)
{
	(void)now;
	return link_change((pg *)b, uid, -1);
}

/* ---- kiosks ---- */

hub_err hpg_device_queue_set(hub_store *b, const char *device, const hub_queue_state *qs)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, device);
	hpg_i(&a, qs->pending);
	hpg_i(&a, qs->dead);
	hpg_i(&a, qs->at_ms);
	int64_t changed = 0;
	hub_err e = run_do(s, Q_QUEUE_SET, &a, &changed);
	if (e == HUB_OK && changed == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no device %s", device ? device : "");
	return e;
}

hub_err hpg_device_queue_get(hub_store *b, const char *device, hub_queue_state *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, device);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_QUEUE_GET, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0)
		*out = (hub_queue_state){hpg_int(r, 0, 0), hpg_int(r, 0, 1), hpg_int(r, 0, 2)};
	else
		e = hpg_refuse(s, HUB_NOT_FOUND, "no device %s", device);
	PQclear(r);
	return e;
}

hub_err hpg_device_rejected(hub_store *b, const char *device, int64_t *count)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, device);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_REJECTED, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0)
		*count = hpg_int(r, 0, 0);
	else
		e = hpg_refuse(s, HUB_NOT_FOUND, "no device %s", device);
	PQclear(r);
	return e;
}
