/*
 * hub_store_sqlite_api — the open API's part of the SQLite store
 * (hub_store_api.h; the api_tokens table is schema version 6's).
 *
 * Statements here are prepared for each call and finalized after it, as
 * the passes' are: sq has no slots of this part's, and a statement kept
 * across calls would have to be finalized by the store's close.
 *
 * The check-in cursor is the row number: one writer at a time holds the
 * file, and a row takes the number after the last one when it is inserted,
 * inside that writer's transaction, so rows commit in the order of their
 * numbers and a reader never sees row n+1 without row n. Check-ins are
 * never deleted, so a number is never given twice.
 */
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_store_sqlite_calls.h"

#include <stdlib.h>
#include <string.h>

/* ---- tokens ---- */

#define TOKEN_COLS "id, venue_id, name, scope, hash, device_id, created_ms, ifnull(created_by, ''), revoked_ms, last_used_ms"

static void token_of(sqlite3_stmt *st, hub_api_token *t)
{
	memset(t, 0, sizeof *t);
	cpy(t->id, sizeof t->id, ct(st, 0));
	cpy(t->venue_id, sizeof t->venue_id, ct(st, 1));
	cpy(t->name, sizeof t->name, ct(st, 2));
	t->write = strcmp(ct(st, 3), "write") == 0;
	if (sqlite3_column_bytes(st, 4) == (int)sizeof t->hash)
		memcpy(t->hash, sqlite3_column_blob(st, 4), sizeof t->hash);
	cpy(t->device_id, sizeof t->device_id, ct(st, 5));
	t->created_ms = sqlite3_column_int64(st, 6);
	cpy(t->created_by, sizeof t->created_by, ct(st, 7));
	t->revoked_ms = sqlite3_column_int64(st, 8);
	t->last_used_ms = sqlite3_column_int64(st, 9);
}

static hub_err token_add(hub_store *b, const hub_api_token *t)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "INSERT INTO api_tokens(id, venue_id, name, scope, hash, device_id, created_ms,"
				    " created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, t->id);
	bt(st, 2, t->venue_id);
	bt(st, 3, t->name);
	bt(st, 4, t->write ? "write" : "read");
	sqlite3_bind_blob(st, 5, t->hash, sizeof t->hash, SQLITE_STATIC);
	bt(st, 6, t->device_id);
	bi(st, 7, t->created_ms);
	bt(st, 8, t->created_by[0] ? t->created_by : NULL);
	hub_err e = done(c.s, st);
	if (e == HUB_EXISTS)
		refuse(c.s, e, "the venue has a token named \"%s\" already", t->name);
	return calls_end(&c, e);
}

static hub_err token_one(calls *c, sqlite3_stmt *st, hub_api_token *out)
{
	hub_err e = row(c->s, st);
	if (e == HUB_OK)
		token_of(st, out);
	else if (e == HUB_NOT_FOUND)
		refuse(c->s, e, "no such token");
	return calls_end(c, e);
}

static hub_err token_by_hash(hub_store *b, const unsigned char hash[32], hub_api_token *out)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ?1");
	if (!st)
		return calls_end(&c, HUB_ERR);
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	return token_one(&c, st, out);
}

static hub_err token_get(hub_store *b, const char *venue, const char *id_or_name, hub_api_token *out)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " TOKEN_COLS " FROM api_tokens WHERE venue_id = ?1 AND (id = ?2 OR name = ?2)"
				    " ORDER BY id = ?2 DESC LIMIT 1");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, venue);
	bt(st, 2, id_or_name);
	return token_one(&c, st, out);
}

static hub_err tokens_each(hub_store *b, const char *venue, int (*fn)(const hub_api_token *t, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " TOKEN_COLS " FROM api_tokens WHERE ?1 IS NULL OR venue_id = ?1"
				    " ORDER BY created_ms DESC, rowid DESC");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, venue);
	int rc;
	hub_api_token t;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		token_of(st, &t);
		if (fn(&t, ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

static hub_err token_revoke(hub_store *b, const char *id, int64_t now)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "UPDATE api_tokens SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	bi(st, 2, now);
	return calls_end(&c, change(c.s, st, "unrevoked token", id));
}

static hub_err token_used(hub_store *b, const char *id, int64_t now)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "UPDATE api_tokens SET last_used_ms = ?2 WHERE id = ?1 AND last_used_ms < ?2");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	bi(st, 2, now);
	return calls_end(&c, done(c.s, st));
}

/* ---- members ---- */

static hub_err members_page(hub_store *b, const char *venue, const char *query, int64_t after, int limit,
			    int (*fn)(const hub_member *m, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	/* a phone by its end: substr, not LIKE, so a query's % and _ mean themselves */
	sqlite3_stmt *st = prep(
	    &c, "SELECT rowid, uid, venue_id, name, ifnull(phone, ''), ifnull(code, ''), tier, expires, provisional,"
		" created_ms, updated_ms FROM members WHERE venue_id = ?1 AND deleted = 0 AND merged_into IS NULL"
		" AND rowid > ?2 AND (?3 IS NULL OR instr(name, ?3) > 0 OR code = ?3"
		" OR (length(?3) >= 3 AND substr(phone, -length(?3)) = ?3)) ORDER BY rowid LIMIT ?4");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, venue);
	bi(st, 2, after);
	bt(st, 3, query && query[0] ? query : NULL);
	bi(st, 4, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_member m = {.rid = sqlite3_column_int64(st, 0)};
		cpy(m.uid, sizeof m.uid, ct(st, 1));
		cpy(m.venue_id, sizeof m.venue_id, ct(st, 2));
		cpy(m.name, sizeof m.name, ct(st, 3));
		cpy(m.phone, sizeof m.phone, ct(st, 4));
		cpy(m.code, sizeof m.code, ct(st, 5));
		cpy(m.tier, sizeof m.tier, ct(st, 6));
		cpy(m.expires, sizeof m.expires, ct(st, 7));
		m.provisional = sqlite3_column_int(st, 8);
		m.created_ms = sqlite3_column_int64(st, 9);
		m.updated_ms = sqlite3_column_int64(st, 10);
		if (fn(&m, ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

/* Whether another current member of the venue than uid holds phone or code: *taken names it. */
static hub_err held_by_other(sq *s, const hub_api_member *m, const char **taken)
{
	mrow other;
	int f = m->phone[0] ? hsq_member_find(s, HSQ_BY_PHONE, m->venue_id, m->phone, &other) : 0;
	if (f < 0)
		return (hub_err)f;
	if (f && (!m->uid || strcmp(other.uid, m->uid) != 0)) {
		*taken = "phone";
		return refuse(s, HUB_EXISTS, "another member has this phone");
	}
	f = m->code[0] ? hsq_member_find(s, HSQ_BY_CODE, m->venue_id, m->code, &other) : 0;
	if (f < 0)
		return (hub_err)f;
	if (f && (!m->uid || strcmp(other.uid, m->uid) != 0)) {
		*taken = "code";
		return refuse(s, HUB_EXISTS, "another member has this code");
	}
	return HUB_OK;
}

static hub_err member_add(hub_store *b, const hub_api_member *m, int64_t now, char uid[33], const char **taken)
{
	sq *s = (sq *)b;
	*taken = NULL;
	if (m->uid)
		cpy(uid, 33, m->uid);
	else
		clock_new_id(uid);
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	mrow found;
	int f = hsq_member_find(s, HSQ_BY_UID, uid, NULL, &found);
	if (f < 0)
		return rollback(s, (hub_err)f);
	if (f) {
		*taken = "uid";
		return rollback(s, refuse(s, HUB_EXISTS, "a member has this uid"));
	}
	hub_api_member fresh = *m;
	fresh.uid = NULL;
	if ((e = held_by_other(s, &fresh, taken)) != HUB_OK)
		return rollback(s, e);
	e = hsq_member_insert(s, uid, m->venue_id, m->name, m->phone, m->code, m->tier, m->expires, 0, NULL, "api",
			      now);
	return end_tx(s, e);
}

static hub_err member_edit(hub_store *b, const hub_api_member *m, int64_t now, const char **taken)
{
	sq *s = (sq *)b;
	calls c = {.s = s};
	*taken = NULL;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	mrow old;
	int f = hsq_member_find(s, HSQ_BY_UID, m->uid, NULL, &old);
	if (f < 0)
		return rollback(s, (hub_err)f);
	if (!f || strcmp(old.venue, m->venue_id) != 0)
		return rollback(s, refuse(s, HUB_NOT_FOUND, "no such member"));
	if (old.deleted || old.merged[0])
		return rollback(s, refuse(s, HUB_INVALID, "this member was merged or deleted"));
	if ((e = held_by_other(s, m, taken)) != HUB_OK)
		return rollback(s, e);
	int64_t seq = hsq_next_seq(s, m->venue_id, HUB_SET_MEMBERS, &e);
	sqlite3_stmt *st = e == HUB_OK ? prep(&c, "UPDATE members SET seq = ?2, updated_ms = ?3, name = ?4, phone = ?5,"
						     " code = ?6, tier = ?7, expires = ?8 WHERE uid = ?1")
				       : NULL;
	if (!st)
		return rollback(s, calls_end(&c, e == HUB_OK ? HUB_ERR : e));
	bt(st, 1, m->uid);
	bi(st, 2, seq);
	bi(st, 3, now);
	bt(st, 4, m->name);
	bt(st, 5, m->phone[0] ? m->phone : NULL);
	bt(st, 6, m->code[0] ? m->code : NULL);
	bt(st, 7, m->tier);
	bt(st, 8, m->expires);
	e = calls_end(&c, done(s, st));
	/* the dashboard keeps each member's name and expiry */
	if (e == HUB_OK && (strcmp(old.name, m->name) != 0 || strcmp(old.expires, m->expires) != 0))
		e = hsq_dash_member_changed(s, m->uid);
	return end_tx(s, e);
}

/* ---- check-ins ---- */

static hub_err checkin_get(hub_store *b, const char *id, hub_api_checkin *out)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT id, venue_id, device_id, member_sent, member_uid, ifnull(event_uid, ''),"
				    " method, day, ifnull(duplicate_of, ''), wall_ms, corrected_ms, reversed"
				    " FROM checkins WHERE id = ?1");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	hub_err e = row(c.s, st);
	if (e == HUB_OK) {
		memset(out, 0, sizeof *out);
		cpy(out->id, sizeof out->id, ct(st, 0));
		cpy(out->venue_id, sizeof out->venue_id, ct(st, 1));
		cpy(out->device_id, sizeof out->device_id, ct(st, 2));
		cpy(out->member_sent, sizeof out->member_sent, ct(st, 3));
		cpy(out->member_uid, sizeof out->member_uid, ct(st, 4));
		cpy(out->event_uid, sizeof out->event_uid, ct(st, 5));
		cpy(out->method, sizeof out->method, ct(st, 6));
		cpy(out->day, sizeof out->day, ct(st, 7));
		cpy(out->duplicate_of, sizeof out->duplicate_of, ct(st, 8));
		out->wall_ms = sqlite3_column_int64(st, 9);
		out->corrected_ms = sqlite3_column_int64(st, 10);
		out->reversed = sqlite3_column_int(st, 11);
	} else if (e == HUB_NOT_FOUND) {
		refuse(c.s, e, "no such check-in");
	}
	return calls_end(&c, e);
}

static hub_err checkins_page(hub_store *b, const hub_api_checkins_query *q,
			     int (*fn)(const hub_checkin_row *r, int64_t rn, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(
	    &c, "SELECT c.id, c.device_id, c.member_uid, m.name, c.event_uid, e.title, c.method, c.day,"
		" c.duplicate_of, c.wall_ms, c.offset_ms, c.corrected_ms, c.received_ms, c.reversed, c.rowid"
		" FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid LEFT JOIN events e ON e.uid = c.event_uid"
		" WHERE c.venue_id = ?1 AND c.rowid > ?2 AND (?3 IS NULL OR c.event_uid = ?3)"
		" AND (?4 = 0 OR c.corrected_ms >= ?4) AND (?5 = 0 OR c.corrected_ms < ?5) ORDER BY c.rowid LIMIT ?6");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, q->venue_id);
	bi(st, 2, q->after);
	bt(st, 3, q->event_uid);
	bi(st, 4, q->from_ms);
	bi(st, 5, q->to_ms);
	bi(st, 6, q->limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_checkin_row r = {
		    .id = ct(st, 0),
		    .device_id = ct(st, 1),
		    .member_uid = ct(st, 2),
		    .member_name = ct(st, 3),
		    .event_uid = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : ct(st, 4),
		    .event_title = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : ct(st, 5),
		    .method = ct(st, 6),
		    .day = ct(st, 7),
		    .duplicate_of = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : ct(st, 8),
		    .wall_ms = sqlite3_column_int64(st, 9),
		    .offset_ms = sqlite3_column_int64(st, 10),
		    .corrected_ms = sqlite3_column_int64(st, 11),
		    .received_ms = sqlite3_column_int64(st, 12),
		    .reversed = sqlite3_column_int(st, 13),
		};
		if (fn(&r, sqlite3_column_int64(st, 14), ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

const hub_api_ops hsq_api_ops = {
    .token_add = token_add,
    .token_by_hash = token_by_hash,
    .token_get = token_get,
    .tokens_each = tokens_each,
    .token_revoke = token_revoke,
    .token_used = token_used,
    .members_page = members_page,
    .member_add = member_add,
    .member_edit = member_edit,
    .checkin_get = checkin_get,
    .checkins_page = checkins_page,
};
