/*
 * hub_store_sqlite_console — the venue data the organizer console reads and
 * changes in the SQLite store: members, events, links and what kiosks said
 * of their queues (see hub_store.h, "the console", and
 * hub_store_sqlite_impl.h).
 *
 * Changes follow push's rules: each changed row takes the next value of its
 * venue's sequence for its set, so kiosks pull it, and nothing is deleted,
 * only marked (a cancelled event or a removed link has deleted = 1). Counts
 * of attendance count the check-ins that are neither reversed nor
 * duplicates; the check-in indexes by event and by member carry both
 * columns, so a count reads the index alone.
 */
#include "sync/check.h"
#include "sync/hub/hub_store_sqlite_impl.h"

#include <stdlib.h>
#include <string.h>

/* The latest time a record may carry (as hub_push.c checks): the year 3000, in Unix ms. */
#define TIME_MAX 32503680000000LL

#define MEMBER_COLS                                                                                          \
	"rowid, uid, venue_id, merged_into, name, phone, code, tier, expires, provisional, deleted, "        \
	"created_ms,"                                                                                        \
	" updated_ms"
#define COUNTED "duplicate_of IS NULL AND reversed = 0"
#define EVENT_COLS                                                                                           \
	"uid, venue_id, title, start_ms, end_ms, created_ms, deleted, (SELECT count(*) FROM checkins c"      \
	" WHERE c.event_uid = events.uid AND c." COUNTED ")"
#define LINK_COLS                                                                                            \
	"uid, venue_id, event_uid, platform, label, url, slug, coalesce(expires_ms, 0), coalesce(cap, 0),"   \
	" redirects, created_ms, is_default, deleted"

enum {
	Q_SET_SEQ,
	Q_MEMBERS,
	Q_MEMBER_GET,
	Q_MEMBER_RID,
	Q_MEMBER_VISITS,
	Q_MEMBER_UPDATE,
	Q_MEMBER_GONE,
	Q_MEMBER_TAKE,
	Q_MERGED_INTO,
	Q_MEMBER_REPOINT,
	Q_GONE_CHECKINS,
	Q_ATTEND_MOVE,
	Q_ATTEND_HOLDER,
	Q_ATTEND_DROP,
	Q_CHECKIN_DUP_OF,
	Q_CHECKINS_MOVE,
	Q_MEMBER_CHECKINS,
	Q_EVENTS,
	Q_EVENT_GET,
	Q_EVENT_UPDATE,
	Q_EVENT_CANCEL,
	Q_EVENT_CHECKINS,
	Q_EVENT_COUNT,
	Q_LINKS,
	Q_LINK_GET,
	Q_LINK_EXPIRE,
	Q_LINK_REMOVE,
	Q_QUEUE_SET,
	Q_QUEUE_GET,
	Q_REJECTED,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_SET_SEQ] = "SELECT last FROM set_seqs WHERE venue_id = ?1 AND data_set = ?2",
    [Q_MEMBERS] =
	"SELECT " MEMBER_COLS " FROM members WHERE venue_id = ?1 AND deleted = 0 AND merged_into IS NULL",
    [Q_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE uid = ?1",
    [Q_MEMBER_RID] = "SELECT " MEMBER_COLS " FROM members WHERE rowid = ?1",
    [Q_MEMBER_VISITS] = "SELECT count(*), coalesce(max(corrected_ms), 0) FROM checkins"
			" WHERE member_rid = ?1 AND " COUNTED,
    [Q_MEMBER_UPDATE] = "UPDATE members SET seq = ?2, updated_ms = ?3, tier = ?4, expires = ?5, code = ?6"
			" WHERE uid = ?1",
    [Q_MEMBER_GONE] =
	"UPDATE members SET seq = ?2, updated_ms = ?3, merged_into = ?4, phone = NULL, code = NULL"
	" WHERE uid = ?1",
    [Q_MEMBER_TAKE] = "UPDATE members SET seq = ?2, updated_ms = ?3, phone = ?4, code = ?5 WHERE uid = ?1",
    [Q_MERGED_INTO] = "SELECT uid FROM members WHERE merged_into = ?1",
    [Q_MEMBER_REPOINT] = "UPDATE members SET seq = ?2, updated_ms = ?3, merged_into = ?4 WHERE uid = ?1",
    [Q_GONE_CHECKINS] = "SELECT c.rowid, c.duplicate_of IS NULL, c.event_uid IS NOT NULL, e.rowid, c.day"
			" FROM checkins c LEFT JOIN events e ON e.uid = c.event_uid WHERE c.member_rid = ?1",
    [Q_ATTEND_MOVE] = "INSERT INTO attendances(akey, member_rid, checkin_rid) VALUES(?1, ?2, ?3)"
		      " ON CONFLICT(akey, member_rid) DO NOTHING",
    [Q_ATTEND_HOLDER] = "SELECT c.id FROM attendances a JOIN checkins c ON c.rowid = a.checkin_rid"
			" WHERE a.akey = ?1 AND a.member_rid = ?2",
    [Q_ATTEND_DROP] = "DELETE FROM attendances WHERE akey = ?1 AND member_rid = ?2",
    [Q_CHECKIN_DUP_OF] = "UPDATE checkins SET duplicate_of = ?2 WHERE rowid = ?1",
    [Q_CHECKINS_MOVE] = "UPDATE checkins SET member_rid = ?2, member_uid = ?3 WHERE member_rid = ?1",
    [Q_MEMBER_CHECKINS] =
	HSQ_CHECKIN_SELECT " WHERE c.member_rid = (SELECT rowid FROM members WHERE uid = ?1)"
			   " ORDER BY c.corrected_ms DESC",
    [Q_EVENTS] = "SELECT " EVENT_COLS " FROM events WHERE venue_id = ?1 ORDER BY start_ms DESC, rowid DESC",
    [Q_EVENT_GET] = "SELECT " EVENT_COLS " FROM events WHERE uid = ?1",
    [Q_EVENT_UPDATE] = "UPDATE events SET seq = ?2, title = ?3, start_ms = ?4, end_ms = ?5 WHERE uid = ?1",
    [Q_EVENT_CANCEL] = "UPDATE events SET seq = ?2, deleted = 1 WHERE uid = ?1",
    [Q_EVENT_CHECKINS] = HSQ_CHECKIN_SELECT " WHERE c.event_uid = ?1 ORDER BY c.corrected_ms",
    [Q_EVENT_COUNT] = "SELECT count(c.rowid), coalesce(sum(c.duplicate_of IS NULL AND c.reversed = 0), 0), coalesce(sum(c.reversed), 0),"
		      " coalesce(sum(c.duplicate_of IS NOT NULL), 0)"
		      " FROM events e LEFT JOIN checkins c ON c.event_uid = e.uid WHERE e.uid = ?1 GROUP BY e.uid",
    [Q_LINKS] = "SELECT " LINK_COLS " FROM links WHERE venue_id = ?1 ORDER BY created_ms DESC, rowid DESC",
    [Q_LINK_GET] = "SELECT " LINK_COLS " FROM links WHERE uid = ?1",
    [Q_LINK_EXPIRE] = "UPDATE links SET seq = ?2, expires_ms = ?3 WHERE uid = ?1",
    [Q_LINK_REMOVE] = "UPDATE links SET seq = ?2, deleted = 1 WHERE uid = ?1",
    [Q_QUEUE_SET] = "UPDATE devices SET queue_pending = ?2, queue_dead = ?3, queue_ms = ?4 WHERE id = ?1",
    [Q_QUEUE_GET] = "SELECT queue_pending, queue_dead, queue_ms FROM devices WHERE id = ?1",
    [Q_REJECTED] = "SELECT (SELECT count(*) FROM rejections WHERE device_id = ?1) FROM devices WHERE id = ?1",
};
_Static_assert(Q_COUNT <= SQ_CONSOLE_STMTS, "more statements than slots");

static sqlite3_stmt *q(sq *s, int which)
{
	return stmt(s, &s->console[which], sql[which]);
}

/* q(which) with ?1 = id, ?2 = the venue's next sequence number for set, ?3 = third (when not negative). */
static sqlite3_stmt *q_seq(sq *s, int which, const char *id, const char *venue, hub_set set, int64_t third,
			   hub_err *e)
{
	int64_t seq = hsq_next_seq(s, venue, set, e);
	sqlite3_stmt *st = *e == HUB_OK ? q(s, which) : NULL;
	if (!st) {
		if (*e == HUB_OK)
			*e = HUB_ERR;
		return NULL;
	}
	bt(st, 1, id);
	bi(st, 2, seq);
	if (third >= 0)
		bi(st, 3, third);
	return st;
}

hub_err hsq_set_seq(hub_store *b, const char *venue, hub_set set, int64_t *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_SET_SEQ);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	bt(st, 2, hub_set_name(set));
	hub_err e = int_of(s, st, out);
	if (e == HUB_NOT_FOUND) { /* nothing in the set yet */
		*out = 0;
		e = HUB_OK;
	}
	return e;
}

/* ---- members ---- */

static void member_row(sqlite3_stmt *st, hub_member *m)
{
	memset(m, 0, sizeof *m);
	m->rid = sqlite3_column_int64(st, 0);
	cpy(m->uid, sizeof m->uid, ct(st, 1));
	cpy(m->venue_id, sizeof m->venue_id, ct(st, 2));
	cpy(m->merged_into, sizeof m->merged_into, ct(st, 3));
	cpy(m->name, sizeof m->name, ct(st, 4));
	cpy(m->phone, sizeof m->phone, ct(st, 5));
	cpy(m->code, sizeof m->code, ct(st, 6));
	cpy(m->tier, sizeof m->tier, ct(st, 7));
	cpy(m->expires, sizeof m->expires, ct(st, 8));
	m->provisional = sqlite3_column_int(st, 9);
	m->deleted = sqlite3_column_int(st, 10);
	m->created_ms = sqlite3_column_int64(st, 11);
	m->updated_ms = sqlite3_column_int64(st, 12);
}

hub_err hsq_members_each(hub_store *b, const char *venue, int (*fn)(const hub_member *m, void *ctx),
			 void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_MEMBERS);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_member m;
		member_row(st, &m);
		if (fn(&m, ctx))
			break;
	}
	return ended(s, st, rc);
}

/* The member st selects (bound), with visits counted. */
static hub_err member_one(sq *s, sqlite3_stmt *st, hub_member *out)
{
	hub_err e = row(s, st);
	if (e != HUB_OK)
		return e == HUB_NOT_FOUND ? refuse(s, e, "no such member") : e;
	member_row(st, out);
	sqlite3_reset(st);
	if (!(st = q(s, Q_MEMBER_VISITS)))
		return HUB_ERR;
	bi(st, 1, out->rid);
	if ((e = row(s, st)) == HUB_OK) {
		out->visits = sqlite3_column_int64(st, 0);
		out->last_visit_ms = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
	}
	return e;
}

hub_err hsq_member_get(hub_store *b, const char *uid, hub_member *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_MEMBER_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	return member_one(s, st, out);
}

hub_err hsq_member_by_rid(hub_store *b, int64_t rid, hub_member *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_MEMBER_RID);
	if (!st)
		return HUB_ERR;
	bi(st, 1, rid);
	return member_one(s, st, out);
}

/* A venue's current member by uid into *m: HUB_OK, or HUB_NOT_FOUND / HUB_INVALID with errmsg. */
static hub_err current(sq *s, const char *uid, mrow *m)
{
	int f = hsq_member_find(s, HSQ_BY_UID, uid, NULL, m);
	if (f < 0)
		return (hub_err)f;
	if (!f)
		return refuse(s, HUB_NOT_FOUND, "no member %s", uid);
	if (m->deleted || m->merged[0])
		return refuse(s, HUB_INVALID, "member %s was %s", uid, m->deleted ? "deleted" : "merged");
	return HUB_OK;
}

hub_err hsq_member_update(hub_store *b, const char *uid, const char *tier, const char *expires,
			  const char *code, int64_t now)
{
	sq *s = (sq *)b;
	tier = tier ? tier : "";
	expires = expires ? expires : "";
	code = code ? code : "";
	/* the values a CSV import and a kiosk's record may carry (members_csv.h, hub_push.c) */
	if (!check_text(tier, STORE_TIER_MAX - 1, 1))
		return refuse(s, HUB_INVALID, "a tier is at most %d bytes of text", STORE_TIER_MAX - 1);
	if (!check_day(expires))
		return refuse(s, HUB_INVALID, "not a day (YYYY-MM-DD): %s", expires);
	if (!check_text(code, STORE_CODE_MAX - 1, 1) || strchr(code, ' '))
		return refuse(s, HUB_INVALID, "a code is at most %d bytes, without spaces",
			      STORE_CODE_MAX - 1);
	mrow m = {0}, other = {0};
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = current(s, uid, &m)) != HUB_OK)
		return rollback(s, e);
	if (strcmp(m.tier, tier) == 0 && strcmp(m.expires, expires) == 0 && strcmp(m.code, code) == 0)
		return end_tx(s, HUB_OK); /* nothing for the kiosks to pull */
	int f = code[0] ? hsq_member_find(s, HSQ_BY_CODE, m.venue, code, &other) : 0;
	if (f < 0)
		return rollback(s, (hub_err)f);
	if (f && strcmp(other.uid, m.uid) != 0)
		return rollback(s, refuse(s, HUB_EXISTS, "code %s belongs to %s", code, other.name));
	sqlite3_stmt *st = q_seq(s, Q_MEMBER_UPDATE, uid, m.venue, HUB_SET_MEMBERS, now, &e);
	if (st) {
		bt(st, 4, tier);
		bt(st, 5, expires);
		bt(st, 6, code[0] ? code : NULL);
		e = done(s, st);
	}
	if (e == HUB_OK && strcmp(m.expires, expires) != 0)
		e = hsq_dash_member_changed(s, uid);
	return end_tx(s, e);
}

/* A check-in of the member going away, as the merge moves it. */
typedef struct moved {
	int64_t rid, akey;
	int holder; /* it holds its attendance (duplicate_of IS NULL) */
} moved;

/* gone's check-ins with their attendance keys as push_checkin makes them: *n of them, in a malloc'd *out. */
static hub_err gone_checkins(sq *s, const mrow *gone, moved **out, size_t *n)
{
	sqlite3_stmt *st = q(s, Q_GONE_CHECKINS);
	if (!st)
		return HUB_ERR;
	bi(st, 1, gone->rid);
	size_t cap = 0;
	*out = NULL, *n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			moved *m = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof *m);
			if (!m) {
				sqlite3_reset(st);
				return refuse(s, HUB_ERR, "out of memory");
			}
			*out = m;
		}
		moved *c = &(*out)[(*n)++];
		c->rid = sqlite3_column_int64(st, 0);
		c->holder = sqlite3_column_int(st, 1);
		c->akey = sqlite3_column_int(st, 2) ? sqlite3_column_int64(st, 3) : hsq_day_key(ct(st, 4));
	}
	return ended(s, st, rc);
}

/* The check-in that holds keep's attendance akey ("" for none). */
static hub_err holder_of(sq *s, int64_t akey, int64_t keep_rid, char id[HUB_ID_MAX])
{
	sqlite3_stmt *st = q(s, Q_ATTEND_HOLDER);
	if (!st)
		return HUB_ERR;
	bi(st, 1, akey);
	bi(st, 2, keep_rid);
	id[0] = '\0';
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		cpy(id, HUB_ID_MAX, ct(st, 0));
		sqlite3_reset(st);
	}
	return e == HUB_NOT_FOUND ? HUB_OK : e;
}

/* Run which with the integers v as ?1, ?2, ... */
static hub_err run_ints(sq *s, int which, int n, const int64_t *v)
{
	sqlite3_stmt *st = q(s, which);
	if (!st)
		return HUB_ERR;
	for (int i = 0; i < n; i++)
		bi(st, i + 1, v[i]);
	return done(s, st);
}

/* One of gone's check-ins, for keep (see move_checkins). */
static hub_err move_one(sq *s, const moved *c, const mrow *keep, const mrow *gone)
{
	hub_err e;
	if (c->holder) {
		if ((e = run_ints(s, Q_ATTEND_MOVE, 3, (const int64_t[]){c->akey, keep->rid, c->rid})) !=
		    HUB_OK)
			return e;
		int taken = sqlite3_changes(s->db) > 0;
		if ((e = run_ints(s, Q_ATTEND_DROP, 2, (const int64_t[]){c->akey, gone->rid})) != HUB_OK ||
		    taken)
			return e;
	}
	char first[HUB_ID_MAX];
	if ((e = holder_of(s, c->akey, keep->rid, first)) != HUB_OK || !first[0])
		return e;
	sqlite3_stmt *st = q(s, Q_CHECKIN_DUP_OF);
	if (!st)
		return HUB_ERR;
	bi(st, 1, c->rid);
	bt(st, 2, first);
	return done(s, st);
}

/*
 * gone's check-ins count for keep. An attendance (an event, or a drop-in
 * day) stays held by one check-in: one gone holds and keep does not passes
 * to keep; where keep holds it already, gone's check-in becomes a duplicate
 * of keep's. Holders go first, so that each of gone's duplicates then points
 * at whichever check-in holds its attendance for keep.
 */
static hub_err move_checkins(sq *s, const mrow *keep, const mrow *gone)
{
	moved *c = NULL;
	size_t n = 0;
	hub_err e = gone_checkins(s, gone, &c, &n);
	for (int pass = 0; pass < 2 && e == HUB_OK; pass++)
		for (size_t i = 0; i < n && e == HUB_OK; i++)
			if (c[i].holder == (pass == 0))
				e = move_one(s, &c[i], keep, gone);
	free(c);
	sqlite3_stmt *st = e == HUB_OK ? q(s, Q_CHECKINS_MOVE) : NULL;
	if (!st)
		return e == HUB_OK ? HUB_ERR : e;
	bi(st, 1, gone->rid);
	bi(st, 2, keep->rid);
	bt(st, 3, keep->uid);
	return done(s, st);
}

/* Members merged into gone before are merged into keep now (push follows one step of merged_into). */
static hub_err repoint(sq *s, const mrow *keep, const mrow *gone, int64_t now)
{
	sqlite3_stmt *st = q(s, Q_MERGED_INTO);
	if (!st)
		return HUB_ERR;
	bt(st, 1, gone->uid);
	char(*uids)[HUB_ID_MAX] = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			void *m = realloc(uids, (cap = cap ? cap * 2 : 8) * sizeof *uids);
			if (!m)
				break;
			uids = m;
		}
		cpy(uids[n++], HUB_ID_MAX, ct(st, 0));
	}
	hub_err e = rc == SQLITE_ROW ? refuse(s, HUB_ERR, "out of memory") : HUB_OK;
	if (e == HUB_OK)
		e = ended(s, st, rc);
	else
		sqlite3_reset(st);
	for (size_t i = 0; i < n && e == HUB_OK; i++)
		if ((st = q_seq(s, Q_MEMBER_REPOINT, uids[i], keep->venue, HUB_SET_MEMBERS, now, &e)) !=
		    NULL) {
			bt(st, 4, keep->uid);
			e = done(s, st);
		}
	free(uids);
	return e;
}

hub_err hsq_member_merge(hub_store *b, const char *keep_uid, const char *gone_uid, int64_t now)
{
	sq *s = (sq *)b;
	mrow keep = {0}, gone = {0};
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = current(s, keep_uid, &keep)) != HUB_OK || (e = current(s, gone_uid, &gone)) != HUB_OK)
		return rollback(s, e);
	if (strcmp(keep.uid, gone.uid) == 0 || strcmp(keep.venue, gone.venue) != 0)
		return rollback(
		    s, refuse(s, HUB_INVALID, "%s cannot be merged into %s: %s", gone.uid, keep.uid,
			      strcmp(keep.uid, gone.uid) == 0 ? "the same member" : "another venue's"));
	if ((e = hsq_dash_merging(s, keep.rid, gone.rid)) != HUB_OK ||
	    (e = move_checkins(s, &keep, &gone)) != HUB_OK || (e = repoint(s, &keep, &gone, now)) != HUB_OK)
		return rollback(s, e);
	/* gone first: its phone and code leave the venue's unique indexes before keep takes them */
	sqlite3_stmt *st = q_seq(s, Q_MEMBER_GONE, gone.uid, gone.venue, HUB_SET_MEMBERS, now, &e);
	if (st) {
		bt(st, 4, keep.uid);
		e = done(s, st);
	}
	const char *phone = keep.phone[0] ? keep.phone : gone.phone,
		   *code = keep.code[0] ? keep.code : gone.code;
	if (e == HUB_OK && (strcmp(phone, keep.phone) != 0 || strcmp(code, keep.code) != 0) &&
	    (st = q_seq(s, Q_MEMBER_TAKE, keep.uid, keep.venue, HUB_SET_MEMBERS, now, &e)) != NULL) {
		bt(st, 4, phone[0] ? phone : NULL);
		bt(st, 5, code[0] ? code : NULL);
		e = done(s, st);
	}
	return end_tx(s, e);
}

hub_err hsq_member_checkins_each(hub_store *b, const char *uid,
				 int (*fn)(const hub_checkin_row *r, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_MEMBER_CHECKINS);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	return hsq_checkins_of(s, st, fn, ctx);
}

/* ---- events ---- */

static void event_row(sqlite3_stmt *st, hub_event *ev)
{
	memset(ev, 0, sizeof *ev);
	cpy(ev->uid, sizeof ev->uid, ct(st, 0));
	cpy(ev->venue_id, sizeof ev->venue_id, ct(st, 1));
	cpy(ev->title, sizeof ev->title, ct(st, 2));
	ev->start_ms = sqlite3_column_int64(st, 3);
	ev->end_ms = sqlite3_column_int64(st, 4);
	ev->created_ms = sqlite3_column_int64(st, 5);
	ev->cancelled = sqlite3_column_int(st, 6);
	ev->attendance = sqlite3_column_int64(st, 7);
}

hub_err hsq_events_each(hub_store *b, const char *venue, int (*fn)(const hub_event *e, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_EVENTS);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_event ev;
		event_row(st, &ev);
		if (fn(&ev, ctx))
			break;
	}
	return ended(s, st, rc);
}

hub_err hsq_event_get(hub_store *b, const char *uid, hub_event *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_EVENT_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		event_row(st, out);
		sqlite3_reset(st);
	}
	return e == HUB_NOT_FOUND ? refuse(s, e, "no event %s", uid) : e;
}

hub_err hsq_event_update(hub_store *b, const char *uid, const char *title, int64_t start, int64_t end,
			 int64_t now)
{
	sq *s = (sq *)b;
	if (!title || !check_text(title, STORE_TITLE_MAX - 1, 0))
		return refuse(s, HUB_INVALID, "a title is 1 to %d bytes of text", STORE_TITLE_MAX - 1);
	if (start < 0 || end <= start || end > TIME_MAX)
		return refuse(s, HUB_INVALID, "an event ends after it starts, between 1970 and 3000");
	hub_event ev;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = hsq_event_get(b, uid, &ev)) != HUB_OK)
		return rollback(s, e);
	sqlite3_stmt *st = q_seq(s, Q_EVENT_UPDATE, uid, ev.venue_id, HUB_SET_EVENTS, -1, &e);
	if (st) {
		bt(st, 3, title);
		bi(st, 4, start);
		bi(st, 5, end);
		e = done(s, st);
	}
	return end_tx(s, e);
}

hub_err hsq_event_cancel(hub_store *b, const char *uid, int64_t now)
{
	sq *s = (sq *)b;
	hub_event ev;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = hsq_event_get(b, uid, &ev)) != HUB_OK ||
	    ev.cancelled) /* cancelled already: nothing new to pull */
		return end_tx(s, e);
	sqlite3_stmt *st = q_seq(s, Q_EVENT_CANCEL, uid, ev.venue_id, HUB_SET_EVENTS, -1, &e);
	return end_tx(s, st ? done(s, st) : e);
}

hub_err hsq_event_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_EVENT_CHECKINS);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	return hsq_checkins_of(s, st, fn, ctx);
}

hub_err hsq_event_count(hub_store *b, const char *uid, hub_event_tally *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_EVENT_COUNT);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->rows = sqlite3_column_int64(st, 0);
		out->counted = sqlite3_column_int64(st, 1);
		out->reversed = sqlite3_column_int64(st, 2);
		out->duplicates = sqlite3_column_int64(st, 3);
	}
	hub_err e = rc == SQLITE_ROW ? HUB_OK : rc == SQLITE_DONE ? HUB_NOT_FOUND : fail(s, rc);
	sqlite3_reset(st);
	return e == HUB_NOT_FOUND ? refuse(s, e, "no event %s", uid) : e;
}

/* ---- links ---- */

static void link_row(sqlite3_stmt *st, hub_link *l)
{
	memset(l, 0, sizeof *l);
	cpy(l->uid, sizeof l->uid, ct(st, 0));
	cpy(l->venue_id, sizeof l->venue_id, ct(st, 1));
	cpy(l->event_uid, sizeof l->event_uid, ct(st, 2));
	cpy(l->platform, sizeof l->platform, ct(st, 3));
	cpy(l->label, sizeof l->label, ct(st, 4));
	cpy(l->url, sizeof l->url, ct(st, 5));
	cpy(l->slug, sizeof l->slug, ct(st, 6));
	l->expires_ms = sqlite3_column_int64(st, 7);
	l->cap = sqlite3_column_int64(st, 8);
	l->redirects = sqlite3_column_int64(st, 9);
	l->created_ms = sqlite3_column_int64(st, 10);
	l->is_default = sqlite3_column_int(st, 11);
	l->removed = sqlite3_column_int(st, 12);
}

hub_err hsq_links_each(hub_store *b, const char *venue, int (*fn)(const hub_link *l, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_LINKS);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_link l;
		link_row(st, &l);
		if (fn(&l, ctx))
			break;
	}
	return ended(s, st, rc);
}

hub_err hsq_link_get(hub_store *b, const char *uid, hub_link *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_LINK_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		link_row(st, out);
		sqlite3_reset(st);
	}
	return e == HUB_NOT_FOUND ? refuse(s, e, "no link %s", uid) : e;
}

/* Expire the link at expire_at, or remove it (expire_at negative), with a new sequence number. */
static hub_err link_change(sq *s, const char *uid, int64_t expire_at)
{
	hub_link l;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = hsq_link_get(&s->base, uid, &l)) != HUB_OK || (expire_at < 0 && l.removed))
		return end_tx(s, e); /* removed already: nothing new to pull */
	sqlite3_stmt *st = q_seq(s, expire_at >= 0 ? Q_LINK_EXPIRE : Q_LINK_REMOVE, uid, l.venue_id,
				 HUB_SET_LINKS, expire_at, &e);
	return end_tx(s, st ? done(s, st) : e);
}

hub_err hsq_link_expire(hub_store *b, const char *uid, int64_t now)
{
	return link_change((sq *)b, uid, now < 0 ? 0 : now);
}

hub_err hsq_link_remove(hub_store *b, const char *uid, int64_t now)
{
	return link_change((sq *)b, uid, -1);
}

/* ---- kiosks ---- */

hub_err hsq_device_queue_set(hub_store *b, const char *device, const hub_queue_state *qs)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_QUEUE_SET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, device);
	bi(st, 2, qs->pending);
	bi(st, 3, qs->dead);
	bi(st, 4, qs->at_ms);
	return change(s, st, "device", device);
}

hub_err hsq_device_queue_get(hub_store *b, const char *device, hub_queue_state *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_QUEUE_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, device);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		*out = (hub_queue_state){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
					 sqlite3_column_int64(st, 2)};
		sqlite3_reset(st);
	}
	return e == HUB_NOT_FOUND ? refuse(s, e, "no device %s", device) : e;
}

hub_err hsq_device_rejected(hub_store *b, const char *device, int64_t *count)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_REJECTED);
	if (!st)
		return HUB_ERR;
	bt(st, 1, device);
	hub_err e = int_of(s, st, count);
	return e == HUB_NOT_FOUND ? refuse(s, e, "no device %s", device) : e;
}
