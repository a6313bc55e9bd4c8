/*
 * hub_store_sqlite — the hub's storage in one SQLite file (see hub_store.h).
 *
 * The tables and their versions are in hub_store_sqlite_schema.c.
 *
 * Exactly once: a check-in's id is its primary key, so a record sent again
 * (a retry, a replayed request, an imported file) inserts nothing and is
 * answered "duplicate". A duplicate is only ever the same device's same
 * record: an id the hub holds from another device (of this venue or another)
 * or with other content is answered "rejected" with reason "id_conflict", so
 * the sender keeps it in its dead letters and nothing is acknowledged that
 * the hub does not hold. Ids are guessable (a per-run prefix and a
 * sequence), so this is what stops one venue's device from making another
 * venue's check-ins vanish. Every change to a member, event or link takes the
 * next value of its venue's sequence for that set, which is what a pull
 * pages by. Rows are never deleted, only marked, so a sequence can always be
 * served incrementally.
 *
 * Durability: WAL with synchronous=FULL, so a push the hub answered survives
 * a crash of the hub or the machine.
 */
#include "sync/clock.h"
#include "sync/hub/hub_store_sqlite_impl.h"
#include "sync/hub/hub_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	Q_SEQ_GET,
	Q_DEVICE_SEEN,
	Q_EVENT_BY_UID,
	Q_CHECKIN_INSERT,
	Q_ATTEND_INSERT,
	Q_ATTEND_GET,
	Q_CHECKIN_DUP,
	Q_CHECKIN_BY_ID,
	Q_RECORD_BY_ID,
	Q_RECORD_INSERT,
	Q_CHECKIN_REVERSE,
	Q_PULL_MEMBERS,
	Q_PULL_EVENTS,
	Q_PULL_LINKS,
	Q_REJECTION,
	Q_PUSH_MEMBER,
	Q_CHECKIN_ROWS,
	Q_CHECKIN_LAST,
	Q_CHECKIN_ROWID,
	Q_ATTEND_ROWS,
	Q_ATTEND_HOLDER,
	Q_COUNT
};

/*
 * Check-ins a multi-row INSERT carries (20 parameters each). OR IGNORE, not
 * ON CONFLICT DO NOTHING: a statement of many rows that could stop half way
 * (an ABORT of a NOT NULL constraint) keeps a statement journal, and that
 * one spilled 2 MB to a temporary file for each push. With IGNORE nothing
 * can stop it; the only unique key of checkins is its id, of attendances
 * their key, so a row left out is one whose key is held, as before.
 */
#define PUSH_ROWS 50
#define ROW1      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
#define ROW5      ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1
#define ROW25     ROW5 "," ROW5 "," ROW5 "," ROW5 "," ROW5
#define AROW5     "(?,?,?),(?,?,?),(?,?,?),(?,?,?),(?,?,?)"
#define AROW25    AROW5 "," AROW5 "," AROW5 "," AROW5 "," AROW5
#define CHECKIN_COLS                                                                                         \
	"checkins(id, venue_id, device_id, member_uid, member_sent, event_uid, method, wall_ms, mono_ms,"    \
	" boot, device_seq, visit, flags, kiosk_day, offset_ms, corrected_ms, day, akey, received_ms,"       \
	" member_rid)"

static const char *const sql[Q_COUNT] = {
    [Q_SEQ_GET] = "SELECT last FROM set_seqs WHERE venue_id = ?1 AND data_set = ?2",
    [Q_DEVICE_SEEN] = "UPDATE devices SET last_seen_ms = ?2, offset_ms = ?3 WHERE id = ?1",
    [Q_EVENT_BY_UID] = "SELECT venue_id, rowid, origin_device FROM events WHERE uid = ?1",
    [Q_CHECKIN_INSERT] = "INSERT INTO checkins(id, venue_id, device_id, member_uid, member_sent, event_uid,"
			 " method, wall_ms, mono_ms, boot, device_seq, visit, flags, kiosk_day, offset_ms,"
			 " corrected_ms, day, akey, received_ms, member_rid)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
			 " ON CONFLICT(id) DO NOTHING",
    [Q_ATTEND_INSERT] = "INSERT INTO attendances(akey, member_rid, checkin_rid) VALUES(?1, ?2, ?3)"
			" ON CONFLICT(akey, member_rid) DO NOTHING",
    [Q_ATTEND_GET] = "SELECT c.id FROM attendances a JOIN checkins c ON c.rowid = a.checkin_rid"
		     " WHERE a.akey = ?1 AND a.member_rid = ?2",
    [Q_CHECKIN_DUP] = "UPDATE checkins SET duplicate_of = ?2 WHERE id = ?1",
    [Q_CHECKIN_BY_ID] = "SELECT device_id, member_sent, wall_ms, device_seq FROM checkins WHERE id = ?1",
    [Q_RECORD_BY_ID] = "SELECT device_id, kind FROM records WHERE id = ?1",
    [Q_RECORD_INSERT] = "INSERT INTO records(id, kind, venue_id, device_id, body, wall_ms, received_ms, session,"
			" action, detail, checkin, reason, seq)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [Q_CHECKIN_REVERSE] = "UPDATE checkins SET reversed = 1 WHERE id = ?1 AND venue_id = ?2",
    [Q_PULL_MEMBERS] = "SELECT uid, name, phone, code, tier, expires, deleted, merged_into, seq FROM members"
		       " WHERE venue_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [Q_PULL_EVENTS] = "SELECT uid, title, start_ms, end_ms, deleted, seq FROM events"
		      " WHERE venue_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [Q_PULL_LINKS] = "SELECT uid, platform, label, url, expires_ms, cap, event_uid, is_default, slug, deleted, seq"
		     " FROM links WHERE venue_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [Q_REJECTION] = "INSERT INTO rejections(device_id, id, reason, at_ms) VALUES(?1, ?2, ?3, ?4)"
		    " ON CONFLICT(device_id, id) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
    [Q_PUSH_MEMBER] = "SELECT rowid, venue_id, merged_into FROM members WHERE uid = ?1",
    [Q_CHECKIN_ROWS] = "INSERT OR IGNORE INTO " CHECKIN_COLS " VALUES " ROW25 "," ROW25,
    [Q_CHECKIN_LAST] = "SELECT ifnull(max(rowid), 0) FROM checkins",
    [Q_CHECKIN_ROWID] = "SELECT rowid FROM checkins WHERE id = ?1",
    [Q_ATTEND_ROWS] = "INSERT OR IGNORE INTO attendances(akey, member_rid, checkin_rid) VALUES " AROW25
		      "," AROW25,
    [Q_ATTEND_HOLDER] = "SELECT checkin_rid FROM attendances WHERE akey = ?1 AND member_rid = ?2",
};
_Static_assert(sizeof ROW1 == 2 * 20 + 1 + 1, "20 parameters a row");
_Static_assert(Q_COUNT <= SQ_CORE_STMTS, "more statements than slots");

static sqlite3_stmt *q(sq *s, int which)
{
	return stmt(s, &s->core[which], sql[which]);
}

/* ---- push ---- */

static void result(hub_result *r, hub_status status, const char *reason, hub_push_stats *stats)
{
	r->status = status;
	r->reason = reason;
	if (status == HUB_RES_OK)
		stats->ok++;
	else if (status == HUB_RES_DUPLICATE)
		stats->duplicate++;
	else
		stats->rejected++;
}

static hub_err push_member(sq *s, const hub_venue *v, const char *device, const hub_record *r,
			   hub_result *res, int64_t now, hub_push_stats *stats)
{
	mrow m = {0};
	int f = hsq_member_find(s, HSQ_BY_UID, r->id, NULL, &m);
	if (f < 0)
		return (hub_err)f;
	if (f) {
		/* the same device's member again; a uid the hub holds otherwise is not this record */
		if (strcmp(m.venue, v->id) != 0 || strcmp(m.origin, device) != 0) {
			result(res, HUB_RES_REJECTED, "id_conflict", stats);
		} else {
			if (m.merged[0])
				cpy(res->merged_into, sizeof res->merged_into, m.merged);
			result(res, HUB_RES_DUPLICATE, NULL, stats);
		}
		return HUB_OK;
	}
	/* a member of the venue with this phone or code already: merge into it */
	int fc = r->code ? hsq_member_find(s, HSQ_BY_CODE, v->id, r->code, &m) : 0;
	int fp = !fc && r->phone ? hsq_member_find(s, HSQ_BY_PHONE, v->id, r->phone, &m) : 0;
	if (fc < 0 || fp < 0)
		return HUB_ERR;
	hub_err e;
	if (fc || fp) {
		e = hsq_member_insert(s, r->id, v->id, r->name, NULL, NULL, "", "", r->provisional, m.uid, device, now);
		cpy(res->merged_into, sizeof res->merged_into, m.uid);
	} else {
		e = hsq_member_insert(s, r->id, v->id, r->name, r->phone, r->code, "", "", r->provisional, NULL, device,
				  now);
	}
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

static hub_err push_event(sq *s, const hub_venue *v, const char *device, const hub_record *r, hub_result *res,
			  int64_t now, hub_push_stats *stats)
{
	sqlite3_stmt *st = q(s, Q_EVENT_BY_UID);
	if (!st)
		return HUB_ERR;
	bt(st, 1, r->id);
	int rc = sqlite3_step(st);
	int same = rc == SQLITE_ROW && strcmp(ct(st, 0), v->id) == 0 && strcmp(ct(st, 2), device) == 0;
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		result(res, same ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, same ? NULL : "id_conflict", stats);
		return HUB_OK;
	}
	if (rc != SQLITE_DONE)
		return fail(s, rc);
	hub_err e = hsq_event_insert(s, r->id, v->id, r->title, r->start_ms, r->end_ms, device, now);
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

/*
 * A record the hub holds under this id already: 0 when there is none, 1 when
 * it is this device's record of this kind (a duplicate), 2 when the id is
 * another's (a conflict), or a negative hub_err.
 */
static int record_held(sq *s, const char *id, const char *device, const char *kind)
{
	sqlite3_stmt *st = q(s, Q_RECORD_BY_ID);
	if (!st)
		return HUB_ERR;
	bt(st, 1, id);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? (strcmp(ct(st, 0), device) == 0 && strcmp(ct(st, 1), kind) == 0 ? 1 : 2)
	      : rc == SQLITE_DONE ? 0
				  : (int)fail(s, rc);
	sqlite3_reset(st);
	return r;
}

/* A reversal or an audit record, kept whole; a reversal also marks its check-in. */
static hub_err push_other(sq *s, const hub_venue *v, const char *device, const hub_record *r, hub_result *res,
			  int64_t now, hub_push_stats *stats)
{
	const char *kind = r->kind == HUB_REC_REVERSAL ? "reversal" : "audit";
	int held = record_held(s, r->id, device, kind);
	if (held < 0)
		return (hub_err)held;
	if (held) {
		result(res, held == 1 ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, held == 1 ? NULL : "id_conflict", stats);
		return HUB_OK;
	}
	sqlite3_stmt *st;
	hub_err e;
	char *body = NULL;
	if (r->kind == HUB_REC_REVERSAL) {
		if (!(st = q(s, Q_CHECKIN_REVERSE)))
			return HUB_ERR;
		bt(st, 1, r->checkin);
		bt(st, 2, v->id);
		if ((e = done(s, st)) != HUB_OK)
			return e;
		if (sqlite3_changes(s->db) == 0) {
			result(res, HUB_RES_REJECTED, "unknown_checkin", stats);
			return HUB_OK;
		}
		if ((e = hsq_dash_reversed(s, r->checkin)) != HUB_OK)
			return e;
		json_t *j = json_pack("{s:s,s:s}", "checkin", r->checkin, "reason", r->reason ? r->reason : "");
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!body)
			return HUB_ERR;
	}
	if (!(st = q(s, Q_RECORD_INSERT))) {
		free(body);
		return HUB_ERR;
	}
	bt(st, 1, r->id);
	bt(st, 2, kind);
	bt(st, 3, v->id);
	bt(st, 4, device);
	bt(st, 5, body ? body : r->detail ? r->detail : "{}");
	bi(st, 6, r->wall_ms);
	bi(st, 7, now);
	bt(st, 8, r->session);
	bt(st, 9, r->action);
	bt(st, 10, r->detail);
	bt(st, 11, r->checkin);
	bt(st, 12, r->reason);
	bi(st, 13, r->seq);
	e = done(s, st);
	free(body);
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

/* The venue's events a push has named already. */
typedef struct event_cache {
	char uid[16][HUB_ID_MAX];
	int64_t rid[16];
	size_t n;
} event_cache;

/* The event's row id, or 0 when this push has not named it yet. */
static int64_t event_known(const event_cache *e, const char *uid)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->uid[i], uid) == 0)
			return e->rid[i];
	return 0;
}

/* 1 when the check-in the hub holds under c's id is this device's same record, 0 if not, or a hub_err. */
static int checkin_same(sq *s, const hub_checkin *c, const char *device)
{
	sqlite3_stmt *st = q(s, Q_CHECKIN_BY_ID);
	if (!st)
		return HUB_ERR;
	bt(st, 1, c->id);
	int rc = sqlite3_step(st);
	int same = rc == SQLITE_ROW && strcmp(ct(st, 0), device) == 0 && strcmp(ct(st, 1), c->member) == 0 &&
		   sqlite3_column_int64(st, 2) == c->wall_ms && sqlite3_column_int64(st, 3) == c->seq;
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? same : (int)fail(s, rc);
	sqlite3_reset(st);
	return r;
}

/*
 * The member a check-in names, as the push needs it: its row number and the
 * uid it was merged into ("" for none), when it is a member of venue; 1,
 * 0 when it is not, or a negative hub_err. Three columns and no copies of
 * the rest: this runs once for every check-in pushed.
 */
static int push_member_of(sq *s, const char *uid, const char *venue, int64_t *rid, char merged[HUB_ID_MAX])
{
	sqlite3_stmt *st = q(s, Q_PUSH_MEMBER);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	int rc = sqlite3_step(st);
	int found = rc == SQLITE_ROW && (!venue || strcmp(ct(st, 1), venue) == 0);
	if (found) {
		*rid = sqlite3_column_int64(st, 0);
		const char *m = ct(st, 2);
		size_t n = strlen(m);
		if (n >= HUB_ID_MAX)
			n = HUB_ID_MAX - 1;
		memcpy(merged, m, n);
		merged[n] = '\0';
	}
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? found : (int)fail(s, rc);
	sqlite3_reset(st);
	return r;
}

/*
 * A check-in checked and ready to go in: its member (or the one it was merged
 * into), event, venue-local day and attendance key.
 */
typedef struct ready {
	const hub_checkin *c;
	hub_result *res;
	char merged[HUB_ID_MAX]; /* the survivor, when the member was merged ("" if not) */
	int64_t who_rid, akey_n, corrected;
	char day[11], akey[48];
} ready;

static const char *ready_who(const ready *r)
{
	return r->merged[0] ? r->merged : r->c->member;
}

/* c's member, event, day and attendance: 1 with *r filled, 0 when c was answered (rejected), or a hub_err. */
static int checkin_ready(sq *s, const hub_venue *v, int64_t offset, const hub_checkin *c, hub_result *res,
			 hub_day_cache *days, event_cache *events, hub_push_stats *stats, ready *r)
{
	r->c = c;
	r->res = res;
	int f = push_member_of(s, c->member, v->id, &r->who_rid, r->merged);
	if (f < 0)
		return f;
	if (!f) {
		result(res, HUB_RES_REJECTED, "unknown_member", stats);
		return 0;
	}
	int64_t ev_rid = c->event ? event_known(events, c->event) : 0;
	if (r->merged[0]) { /* a merged member counts for the survivor */
		char again[HUB_ID_MAX];
		int g = push_member_of(s, r->merged, NULL, &r->who_rid, again);
		if (g < 0)
			return g;
		if (!g) {
			result(res, HUB_RES_REJECTED, "unknown_member", stats);
			return 0;
		}
	}
	if (c->event && !ev_rid) {
		sqlite3_stmt *st = q(s, Q_EVENT_BY_UID);
		if (!st)
			return HUB_ERR;
		bt(st, 1, c->event);
		int rc = sqlite3_step(st);
		int ok = rc == SQLITE_ROW && strcmp(ct(st, 0), v->id) == 0;
		ev_rid = ok ? sqlite3_column_int64(st, 1) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail(s, rc);
		if (!ok) {
			result(res, HUB_RES_REJECTED, "unknown_event", stats);
			return 0;
		}
		if (events->n < sizeof events->uid / sizeof events->uid[0]) {
			snprintf(events->uid[events->n], HUB_ID_MAX, "%s", c->event);
			events->rid[events->n++] = ev_rid;
		}
	}
	r->corrected = c->wall_ms + offset;
	hub_day(v->tz, r->corrected, days, r->day);
	/* the attendance: (member, event), or (member, venue-local day) as a negative number */
	r->akey_n = ev_rid;
	if (c->event) {
		snprintf(r->akey, sizeof r->akey, "e:%s", c->event);
	} else {
		r->akey_n = hsq_day_key(r->day);
		snprintf(r->akey, sizeof r->akey, "d:%s", r->day);
	}
	return 1;
}

/* r's columns as parameters base + 1 to base + 20 of an insert into checkins. */
static void bind_checkin(sqlite3_stmt *st, int base, const hub_venue *v, const char *device, int64_t offset,
			 int64_t now, const ready *r)
{
	const hub_checkin *c = r->c;
	bt(st, base + 1, c->id);
	bt(st, base + 2, v->id);
	bt(st, base + 3, device);
	bt(st, base + 4, ready_who(r));
	bt(st, base + 5, c->member);
	bt(st, base + 6, c->event);
	bt(st, base + 7, c->method);
	bi(st, base + 8, c->wall_ms);
	bi(st, base + 9, c->mono_ms);
	bt(st, base + 10, c->boot);
	bi(st, base + 11, c->seq);
	bi(st, base + 12, c->visit);
	bi(st, base + 13, c->flags);
	bt(st, base + 14, c->kiosk_day);
	bi(st, base + 15, offset);
	bi(st, base + 16, r->corrected);
	bt(st, base + 17, r->day);
	bt(st, base + 18, r->akey);
	bi(st, base + 19, now);
	bi(st, base + 20, r->who_rid);
}

/* r's check-in was not inserted, its id being held already: a duplicate of this device's, or a conflict. */
static hub_err checkin_held(sq *s, const ready *r, const char *device, hub_push_stats *stats)
{
	int same = checkin_same(s, r->c, device);
	if (same < 0)
		return (hub_err)same;
	result(r->res, same ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, same ? NULL : "id_conflict", stats);
	return HUB_OK;
}

/*
 * r's check-in went in as row rid: its attendance, or its mark as a second
 * check-in of one. inserted: OFFER to insert the attendance here; else
 * insert_rows() did, and it is 1 when it went in, or HOLDER when some of
 * its statement's did not (then the attendance says which check-in holds it).
 */
#define OFFER  (-2)
#define HOLDER (-1)
static hub_err checkin_attend(sq *s, const ready *r, int64_t rid, int inserted, hub_push_stats *stats)
{
	sqlite3_stmt *st;
	hub_err e;
	if (inserted == HOLDER) {
		int64_t holder = 0;
		if (!(st = q(s, Q_ATTEND_HOLDER)))
			return HUB_ERR;
		bi(st, 1, r->akey_n);
		bi(st, 2, r->who_rid);
		if ((e = int_of(s, st, &holder)) != HUB_OK)
			return e;
		inserted = holder == rid;
	} else if (inserted == OFFER) {
		if (!(st = q(s, Q_ATTEND_INSERT)))
			return HUB_ERR;
		bi(st, 1, r->akey_n);
		bi(st, 2, r->who_rid);
		bi(st, 3, rid);
		if ((e = done(s, st)) != HUB_OK)
			return e;
		inserted = sqlite3_changes(s->db) != 0;
	}
	if (!inserted) {
		/* another kiosk's check-in holds this attendance: keep this one, marked */
		if (!(st = q(s, Q_ATTEND_GET)))
			return HUB_ERR;
		bi(st, 1, r->akey_n);
		bi(st, 2, r->who_rid);
		int rc = sqlite3_step(st);
		char first[HUB_ID_MAX];
		cpy(first, sizeof first, rc == SQLITE_ROW ? ct(st, 0) : "");
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return fail(s, rc);
		if (!(st = q(s, Q_CHECKIN_DUP)))
			return HUB_ERR;
		bt(st, 1, r->c->id);
		bt(st, 2, first);
		if ((e = done(s, st)) != HUB_OK)
			return e;
		r->res->attendance_duplicate = 1;
		stats->attendance_duplicate++;
	}
	result(r->res, HUB_RES_OK, NULL, stats);
	return HUB_OK;
}

/* One check-in in a statement of its own. */
static hub_err insert_one(sq *s, const hub_venue *v, const char *device, int64_t offset, int64_t now,
			  const ready *r, hub_push_stats *stats)
{
	sqlite3_stmt *st = q(s, Q_CHECKIN_INSERT);
	if (!st)
		return HUB_ERR;
	bind_checkin(st, 0, v, device, offset, now, r);
	hub_err e = done(s, st);
	if (e != HUB_OK)
		return e;
	if (sqlite3_changes(s->db) == 0)
		return checkin_held(s, r, device, stats);
	return checkin_attend(s, r, sqlite3_last_insert_rowid(s->db), OFFER, stats);
}

/*
 * PUSH_ROWS check-ins in one INSERT: a statement for each check-in opened
 * and closed the table's and its five indexes' cursors every time (storing
 * 100 pushes of 1000 took 6.1 G instructions that way, 3.5 G so). New rows take the row
 * numbers after the table's last, in order (nothing else writes while the
 * push holds the write lock); when fewer went in than were sent (ids held
 * already, or an id twice in the push), each one's row is looked up: a row
 * numbered after the last before the statement, that no earlier one of the
 * chunk took, is the one it inserted. Their attendances go in the same way
 * (a row first in the statement takes an attendance before a later one, as
 * one statement after another would); when one was held already, each
 * check-in's is looked at in turn.
 */
static hub_err insert_rows(sq *s, const hub_venue *v, const char *device, int64_t offset, int64_t now,
			   const ready *r, hub_push_stats *stats)
{
	int64_t before = 0, rid[PUSH_ROWS];
	sqlite3_stmt *st = q(s, Q_CHECKIN_LAST);
	hub_err e = st ? int_of(s, st, &before) : HUB_ERR;
	if (e != HUB_OK)
		return e;
	if (!(st = q(s, Q_CHECKIN_ROWS)))
		return HUB_ERR;
	for (int j = 0; j < PUSH_ROWS; j++)
		bind_checkin(st, 20 * j, v, device, offset, now, &r[j]);
	if ((e = done(s, st)) != HUB_OK)
		return e;
	int all = sqlite3_changes(s->db) == PUSH_ROWS;
	all = all && sqlite3_last_insert_rowid(s->db) == before + PUSH_ROWS;
	if (all) {
		for (int j = 0; j < PUSH_ROWS; j++)
			rid[j] = before + 1 + j;
	} else {
		for (int j = 0; j < PUSH_ROWS; j++) {
			if (!(st = q(s, Q_CHECKIN_ROWID)))
				return HUB_ERR;
			bt(st, 1, r[j].c->id);
			int rc = sqlite3_step(st);
			rid[j] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
			sqlite3_reset(st);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return fail(s, rc);
			for (int k = 0; k < j && rid[j] > before; k++)
				if (rid[k] == rid[j])
					rid[j] = 0;
			if (rid[j] <= before)
				rid[j] = 0;
		}
	}
	/* their attendances: the same way, when all went in (else one at a time) */
	int attended = OFFER;
	if (all) {
		if (!(st = q(s, Q_ATTEND_ROWS)))
			return HUB_ERR;
		for (int j = 0; j < PUSH_ROWS; j++) {
			bi(st, 3 * j + 1, r[j].akey_n);
			bi(st, 3 * j + 2, r[j].who_rid);
			bi(st, 3 * j + 3, rid[j]);
		}
		if ((e = done(s, st)) != HUB_OK)
			return e;
		/* each went in, or some attendances were held: each one's holder says */
		attended = sqlite3_changes(s->db) == PUSH_ROWS ? 1 : HOLDER;
	}
	for (int j = 0; j < PUSH_ROWS && e == HUB_OK; j++)
		e = rid[j] ? checkin_attend(s, &r[j], rid[j], attended, stats)
			   : checkin_held(s, &r[j], device, stats);
	return e;
}

/* What the push refused, by id: the dead letters the kiosk keeps, counted for the console. */
static hub_err note_rejections(sq *s, const char *device, int64_t now, const hub_batch *batch)
{
	for (size_t i = 0; i < batch->ncheckins + batch->nrecords; i++) {
		const hub_result *r = &batch->results[i];
		const char *id = i < batch->ncheckins ? batch->checkins[i].id : batch->records[i - batch->ncheckins].id;
		if (r->status != HUB_RES_REJECTED || !id)
			continue;
		sqlite3_stmt *st = q(s, Q_REJECTION);
		if (!st)
			return HUB_ERR;
		bt(st, 1, device);
		bt(st, 2, id);
		bt(st, 3, r->reason ? r->reason : "rejected");
		bi(st, 4, now);
		hub_err e = done(s, st);
		if (e != HUB_OK)
			return e;
	}
	return HUB_OK;
}

static hub_err sq_push(hub_store *b, const hub_venue *v, const char *device, int64_t offset, int64_t now,
		       hub_batch *batch, hub_push_stats *stats)
{
	sq *s = (sq *)b;
	memset(stats, 0, sizeof *stats);
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	hub_day_cache days = {0};
	event_cache events = {0};
	hub_result *rr = batch->results + batch->ncheckins;
	/* what the checks refused already is answered as it is */
	for (size_t i = 0; i < batch->ncheckins + batch->nrecords; i++)
		if (batch->results[i].status == HUB_RES_REJECTED)
			stats->rejected++;
	/* members and events first, so check-ins of the same request can name them */
	for (size_t i = 0; i < batch->nrecords && e == HUB_OK; i++) {
		const hub_record *r = &batch->records[i];
		if (rr[i].status != HUB_RES_NONE)
			continue;
		if (r->kind == HUB_REC_MEMBER)
			e = push_member(s, v, device, r, &rr[i], now, stats);
		else if (r->kind == HUB_REC_EVENT)
			e = push_event(s, v, device, r, &rr[i], now, stats);
	}
	/* the check-ins: each one's member, event and day, then in, PUSH_ROWS to a statement */
	ready *rows = batch->ncheckins ? malloc(batch->ncheckins * sizeof *rows) : NULL;
	size_t nready = 0;
	if (batch->ncheckins && !rows)
		e = refuse(s, HUB_ERR, "out of memory");
	for (size_t i = 0; i < batch->ncheckins && e == HUB_OK; i++) {
		if (batch->results[i].status != HUB_RES_NONE)
			continue;
		int k = checkin_ready(s, v, offset, &batch->checkins[i], &batch->results[i], &days, &events,
				      stats, &rows[nready]);
		if (k < 0)
			e = (hub_err)k;
		else
			nready += (size_t)k;
	}
	for (size_t i = 0; i < nready && e == HUB_OK;) {
		if (nready - i >= PUSH_ROWS) {
			e = insert_rows(s, v, device, offset, now, &rows[i], stats);
			i += PUSH_ROWS;
		} else {
			e = insert_one(s, v, device, offset, now, &rows[i++], stats);
		}
	}
	free(rows);
	/* reversals after the check-ins they undo */
	for (size_t i = 0; i < batch->nrecords && e == HUB_OK; i++) {
		const hub_record *r = &batch->records[i];
		if (rr[i].status == HUB_RES_NONE && (r->kind == HUB_REC_REVERSAL || r->kind == HUB_REC_AUDIT))
			e = push_other(s, v, device, r, &rr[i], now, stats);
	}
	if (e == HUB_OK)
		e = note_rejections(s, device, now, batch);
	if (e == HUB_OK) {
		sqlite3_stmt *st = q(s, Q_DEVICE_SEEN);
		if (!st)
			e = HUB_ERR;
		else {
			bt(st, 1, device);
			bi(st, 2, now);
			bi(st, 3, offset);
			e = done(s, st);
		}
	}
	if (e != HUB_OK)
		return rollback(s, e);
	return commit(s);
}

/* ---- pull ---- */

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() : json_string(ct(st, i));
}

static json_t *int_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(st, i));
}

static hub_err sq_pull(hub_store *b, const char *venue, hub_set set, int64_t since, int limit,
		       const char *live_base, hub_page *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	hub_err e = exec(s, "BEGIN");
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_SEQ_GET);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, venue);
	bt(st, 2, hub_set_name(set));
	int rc = sqlite3_step(st);
	int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rollback(s, fail(s, rc));
	/* a cursor from before the sequence began, or beyond it (the hub's data was
	 * restored from an older copy): start again with a full snapshot */
	out->reset = since <= 0 || since > last;
	if (out->reset)
		since = 0;
	static const int which[HUB_SET_COUNT] = {Q_PULL_MEMBERS, Q_PULL_EVENTS, Q_PULL_LINKS};
	if (!(st = q(s, which[set])))
		return rollback(s, HUB_ERR);
	bt(st, 1, venue);
	bi(st, 2, since);
	bi(st, 3, (int64_t)limit + 1);
	out->items = json_array();
	out->next = since;
	int n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			out->more = 1;
			break;
		}
		json_t *it;
		if (set == HUB_SET_MEMBERS) {
			it = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:b,s:o}", "uid", ct(st, 0), "name", ct(st, 1),
				       "phone", text_or_null(st, 2), "code", text_or_null(st, 3), "tier",
				       ct(st, 4), "expires", ct(st, 5), "deleted", sqlite3_column_int(st, 6),
				       "merged_into", text_or_null(st, 7));
			out->next = sqlite3_column_int64(st, 8);
		} else if (set == HUB_SET_EVENTS) {
			it = json_pack("{s:s,s:s,s:I,s:I,s:b}", "uid", ct(st, 0), "title", ct(st, 1), "start_ms",
				       (json_int_t)sqlite3_column_int64(st, 2), "end_ms",
				       (json_int_t)sqlite3_column_int64(st, 3), "deleted", sqlite3_column_int(st, 4));
			out->next = sqlite3_column_int64(st, 5);
		} else {
			char live[HUB_URL_MAX + 64];
			snprintf(live, sizeof live, "%s/j/%s", live_base ? live_base : "", ct(st, 8));
			it = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:o,s:b}", "uid", ct(st, 0), "platform",
				       ct(st, 1), "label", ct(st, 2), "url", ct(st, 3), "expires_ms",
				       int_or_null(st, 4), "cap", int_or_null(st, 5), "event", text_or_null(st, 6),
				       "default", sqlite3_column_int(st, 7), "live_url",
				       live_base && live_base[0] ? json_string(live) : json_null(), "deleted",
				       sqlite3_column_int(st, 9));
			out->next = sqlite3_column_int64(st, 10);
		}
		json_array_append_new(out->items, it);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(out->items);
		out->items = NULL;
		return rollback(s, fail(s, rc));
	}
	if (n == 0 && out->reset)
		out->next = 0;
	exec(s, "COMMIT");
	return HUB_OK;
}

/* ---- open and close ---- */

static void sq_close(hub_store *b)
{
	sq *s = (sq *)b;
	for (int i = 0; i < SQ_CORE_STMTS; i++)
		sqlite3_finalize(s->core[i]);
	for (int i = 0; i < SQ_ADMIN_STMTS; i++)
		sqlite3_finalize(s->admin[i]);
	for (int i = 0; i < SQ_CONSOLE_STMTS; i++)
		sqlite3_finalize(s->console[i]);
	for (int i = 0; i < SQ_ACCOUNT_STMTS; i++)
		sqlite3_finalize(s->account[i]);
	hsq_dash_close(s);
	sqlite3_close(s->db);
	free(s);
}

static const hub_store_ops sqlite_ops = {
    .close = sq_close,
    .venue_add = hsq_venue_add,
    .venue_get = hsq_venue_get,
    .venues_each = hsq_venues_each,
    .code_add = hsq_code_add,
    .enroll = hsq_enroll,
    .device_get = hsq_device_get,
    .devices_each = hsq_devices_each,
    .device_revoke = hsq_device_revoke,
    .push = sq_push,
    .pull = sq_pull,
    .members_begin = hsq_members_begin,
    .members_row = hsq_members_row,
    .members_commit = hsq_members_commit,
    .members_rollback = hsq_members_rollback,
    .event_add = hsq_event_add,
    .link_add = hsq_link_add,
    .live = hsq_live,
    .checkins_each = hsq_checkins_each,
    .records_each = hsq_records_each,
    .user_add = hsq_user_add,
    .user_get = hsq_user_get,
    .users_each = hsq_users_each,
    .user_venues_each = hsq_user_venues_each,
    .user_venue_add = hsq_user_venue_add,
    .user_may = hsq_user_may,
    .user_set_setup = hsq_user_set_setup,
    .user_by_setup = hsq_user_by_setup,
    .user_set_password = hsq_user_set_password,
    .user_disable = hsq_user_disable,
    .login_failed = hsq_login_failed,
    .login_failures = hsq_login_failures,
    .login_clear = hsq_login_clear,
    .session_add = hsq_session_add,
    .session_get = hsq_session_get,
    .session_end = hsq_session_end,
    .sessions_end_user = hsq_sessions_end_user,
    .audit_add = hsq_audit_add,
    .audit_each = hsq_audit_each,
    .set_seq = hsq_set_seq,
    .members_each = hsq_members_each,
    .member_get = hsq_member_get,
    .member_by_rid = hsq_member_by_rid,
    .member_update = hsq_member_update,
    .member_merge = hsq_member_merge,
    .member_checkins_each = hsq_member_checkins_each,
    .events_each = hsq_events_each,
    .event_get = hsq_event_get,
    .event_update = hsq_event_update,
    .event_cancel = hsq_event_cancel,
    .event_checkins_each = hsq_event_checkins_each,
    .event_count = hsq_event_count,
    .links_each = hsq_links_each,
    .link_get = hsq_link_get,
    .link_expire = hsq_link_expire,
    .link_remove = hsq_link_remove,
    .device_queue_set = hsq_device_queue_set,
    .device_queue_get = hsq_device_queue_get,
    .device_rejected = hsq_device_rejected,
    .dash_refresh = hsq_dash_refresh,
    .dash_attendance = hsq_dash_attendance,
    .dash_events = hsq_dash_events,
    .dash_funnel = hsq_dash_funnel,
    .dash_cohorts = hsq_dash_cohorts,
    .dash_members = hsq_dash_members,
    .dash_referrers = hsq_dash_referrers,
    .dash_referral_tree = hsq_dash_referral_tree,
    .referral_of = hsq_referral_of,
    .dash_redirects = hsq_dash_redirects,
    .dash_links = hsq_dash_links,
    .dash_groups = hsq_dash_groups,
    .dash_tiers = hsq_dash_tiers,
    .referral_add = hsq_referral_add,
    .pass = &hsq_pass_ops,
    .webhook = &hsq_webhook_ops,
    .api = &hsq_api_ops,
};

/* Bring an older file up to HSQ_SCHEMA_VERSION, one step per transaction: 0, or -1 with why. */
static int migrate(sq *s, const char *path, char *why, size_t len)
{
	for (;;) {
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, len, "cannot upgrade %s: %s", path, sqlite3_errmsg(s->db));
			return -1;
		}
		sqlite3_stmt *st = NULL;
		int version = -1;
		if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (version == HSQ_SCHEMA_VERSION) /* done, here or by another process */
			return sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
		char number[64], *err = NULL;
		if (version < 1 || version > HSQ_SCHEMA_VERSION)
			goto fail;
		int ran = 0;
		if (sqlite3_prepare_v2(s->db, hsq_migrations[version - 1].done_if, -1, &st, NULL) == SQLITE_OK)
			ran = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		snprintf(number, sizeof number, "PRAGMA user_version = %d;", version + 1);
		if ((!ran && sqlite3_exec(s->db, hsq_migrations[version - 1].sql, NULL, NULL, &err) != SQLITE_OK) ||
		    sqlite3_exec(s->db, number, NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, len, "cannot upgrade %s from schema version %d: %s", path, version,
				 err ? err : sqlite3_errmsg(s->db));
			sqlite3_free(err);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		fprintf(stderr, "tingzi-hub: %s upgraded to schema version %d\n", path, version + 1);
		continue;
	fail:
		snprintf(why, len, "%s has schema version %d; this tingzi-hub knows %d", path, version,
			 HSQ_SCHEMA_VERSION);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
}

hub_store *hub_store_sqlite_open(const char *path, char *why, size_t len)
{
	sq *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	s->base.ops = &sqlite_ops;
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, len, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	int version = -1;
	sqlite3_stmt *st = NULL;
	/*
	 * A new file gets pages of 8 KB (an existing one keeps its own: the
	 * size only takes before the first table). A push of 1000 check-ins
	 * writes about 600 KB of rows and index entries: in half as many pages,
	 * half as many WAL frames and write()s, and shallower indexes (and the
	 * WAL is copied back at 16384 pages: 128 MB now). 100 000 check-ins
	 * pushed by `tingzi sync --once`: the hub's CPU 0.72-0.77 -> 0.59-0.67
	 * s, the round 0.98-1.01 -> 0.76-0.95 s.
	 */
	if (sqlite3_exec(s->db, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 " PRAGMA foreign_keys=ON; PRAGMA cache_size=-131072; PRAGMA wal_autocheckpoint=16384;", NULL,
			 NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(why, len, "%s is not a tingzi-hub database: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version == 0) {
		/* a new file; another process may be setting it up too, so look again under the lock */
		char *err = NULL;
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, len, "cannot set up %s: %s", path, sqlite3_errmsg(s->db));
			goto fail;
		}
		sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
		version = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
		sqlite3_finalize(st);
		st = NULL;
		if (version == 0) {
			char number[64];
			snprintf(number, sizeof number, "PRAGMA user_version = %d;", HSQ_SCHEMA_VERSION);
			if (sqlite3_exec(s->db, hsq_schema, NULL, NULL, &err) != SQLITE_OK ||
			    sqlite3_exec(s->db, number, NULL, NULL, &err) != SQLITE_OK) {
				snprintf(why, len, "cannot set up %s: %s", path, err ? err : sqlite3_errmsg(s->db));
				sqlite3_free(err);
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
				goto fail;
			}
			version = HSQ_SCHEMA_VERSION;
		}
		if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(why, len, "cannot set up %s: %s", path, sqlite3_errmsg(s->db));
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	if (version > HSQ_SCHEMA_VERSION || version < 1) {
		snprintf(why, len,
			 "%s has schema version %d, written by a newer tingzi-hub (this one knows %d); it is left as it is",
			 path, version, HSQ_SCHEMA_VERSION);
		goto fail;
	}
	if (version < HSQ_SCHEMA_VERSION && migrate(s, path, why, len) != 0)
		goto fail;
	return &s->base;
fail:
	sqlite3_finalize(st);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}
