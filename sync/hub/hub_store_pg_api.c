/*
 * hub_store_pg_api — the open API's part of the PostgreSQL store
 * (hub_store_api.h, as hub_store_sqlite_api.c; the api_tokens table is
 * schema version 3's).
 *
 * Its statements use the passes part's slots from API_SLOT on (that part
 * uses fewer than 32), so the parts' list in hub_store_pg_impl.h stays as
 * it is.
 *
 * The check-in cursor. Rows are numbered (rid) when inserted, not when
 * committed: a push that took rid 10 may commit after one that took rid 11,
 * and a reader that had passed 11 would never see 10. So a page reads only
 * rows up to a horizon: the highest rid once every insert into checkins
 * under way has ended. LOCK TABLE ... IN SHARE MODE waits for every
 * transaction that writes the table and holds new ones off while the
 * highest rid is read (a moment); every rid below it is then committed or
 * never will be (rolled back), and any later row takes a higher one. Pushes
 * wait that moment; only the check-in reads of the API take the lock.
 *
 * Writers of a venue's members wait for each other on the venue's members
 * sequence row (hpg_next_seq), so the look for a phone or code another
 * member holds, taken after it, is up to date.
 */
#include "sync/clock.h"
#include "sync/hub/hub_store_pg_impl.h"

#include <stdlib.h>
#include <string.h>

#define API_SLOT 96
#define TRIES	 3

enum {
	Q_TOKEN_ADD,
	Q_TOKEN_BY_HASH,
	Q_TOKEN_GET,
	Q_TOKENS,
	Q_TOKEN_REVOKE,
	Q_TOKEN_USED,
	Q_MEMBERS_PAGE,
	Q_MEMBER_EDIT,
	Q_CHECKIN_GET,
	Q_HORIZON,
	Q_CHECKINS_PAGE,
	Q_COUNT
};

#define TOKEN_COLS "id, venue_id, name, scope, hash, device_id, created_ms, coalesce(created_by, ''), revoked_ms, last_used_ms"

static const char *const sql[Q_COUNT] = {
    [Q_TOKEN_ADD] = "INSERT INTO api_tokens(id, venue_id, name, scope, hash, device_id, created_ms, created_by)"
		    " VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
    [Q_TOKEN_BY_HASH] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = $1",
    [Q_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE venue_id = $1 AND (id = $2 OR name = $2)"
		    " ORDER BY id = $2 DESC LIMIT 1",
    [Q_TOKENS] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE $1::text IS NULL OR venue_id = $1"
		 " ORDER BY created_ms DESC, id DESC",
    [Q_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_ms = $2 WHERE id = $1 AND revoked_ms = 0",
    [Q_TOKEN_USED] = "UPDATE api_tokens SET last_used_ms = $2 WHERE id = $1 AND last_used_ms < $2",
    [Q_MEMBERS_PAGE] = "SELECT rid, uid, venue_id, name, coalesce(phone, ''), coalesce(code, ''), tier, expires,"
		       " provisional, created_ms, updated_ms FROM members WHERE venue_id = $1 AND deleted = 0"
		       " AND merged_into IS NULL AND rid > $2 AND ($3::text IS NULL OR strpos(name, $3) > 0"
		       " OR code = $3 OR (length($3) >= 3 AND right(phone, length($3)) = $3)) ORDER BY rid LIMIT $4",
    [Q_MEMBER_EDIT] = "UPDATE members SET seq = $2, updated_ms = $3, name = $4, phone = $5, code = $6, tier = $7,"
		      " expires = $8 WHERE uid = $1",
    [Q_CHECKIN_GET] = "SELECT id, venue_id, device_id, member_sent, member_uid, coalesce(event_uid, ''), method,"
		      " day, coalesce(duplicate_of, ''), wall_ms, corrected_ms, reversed FROM checkins WHERE id = $1",
    [Q_HORIZON] = "SELECT coalesce(max(rid), 0) FROM checkins",
    [Q_CHECKINS_PAGE] =
	"SELECT c.id, c.device_id, c.member_uid, m.name, c.event_uid, e.title, c.method, c.day,"
	" c.duplicate_of, c.wall_ms, c.offset_ms, c.corrected_ms, c.received_ms, c.reversed, c.rid"
	" FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid LEFT JOIN events e ON e.uid = c.event_uid"
	" WHERE c.venue_id = $1 AND c.rid > $2 AND c.rid <= $7 AND ($3::text IS NULL OR c.event_uid = $3)"
	" AND ($4::bigint = 0 OR c.corrected_ms >= $4) AND ($5::bigint = 0 OR c.corrected_ms < $5) ORDER BY c.rid LIMIT $6",
};
_Static_assert(API_SLOT + Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *q(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_PASS, API_SLOT + which, sql[which], a, e);
}

static hub_err qdo(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_PASS, API_SLOT + which, sql[which], a, changed);
}

/* ---- tokens ---- */

static void token_of(const PGresult *r, int i, hub_api_token *t)
{
	memset(t, 0, sizeof *t);
	hpg_cpy(t->id, sizeof t->id, hpg_txt(r, i, 0));
	hpg_cpy(t->venue_id, sizeof t->venue_id, hpg_txt(r, i, 1));
	hpg_cpy(t->name, sizeof t->name, hpg_txt(r, i, 2));
	t->write = strcmp(hpg_txt(r, i, 3), "write") == 0;
	hpg_bytes(r, i, 4, t->hash, sizeof t->hash);
	hpg_cpy(t->device_id, sizeof t->device_id, hpg_txt(r, i, 5));
	t->created_ms = hpg_int(r, i, 6);
	hpg_cpy(t->created_by, sizeof t->created_by, hpg_txt(r, i, 7));
	t->revoked_ms = hpg_int(r, i, 8);
	t->last_used_ms = hpg_int(r, i, 9);
}

static hub_err token_add(hub_store *b, const hub_api_token *t)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, t->id);
	hpg_t(&a, t->venue_id);
	hpg_t(&a, t->name);
	hpg_t(&a, t->write ? "write" : "read");
	hpg_b(&a, t->hash, sizeof t->hash);
	hpg_t(&a, t->device_id);
	hpg_i(&a, t->created_ms);
	hpg_t(&a, t->created_by[0] ? t->created_by : NULL);
	hub_err e = qdo(s, Q_TOKEN_ADD, &a, NULL);
	if (e == HUB_EXISTS)
		hpg_refuse(s, e, "the venue has a token named \"%s\" already", t->name);
	return e;
}

static hub_err token_one(pg *s, int which, const hpg_args *a, hub_api_token *out)
{
	hub_err e;
	PGresult *r = q(s, which, a, &e);
	if (!r)
		return e;
	e = PQntuples(r) ? HUB_OK : hpg_refuse(s, HUB_NOT_FOUND, "no such token");
	if (e == HUB_OK)
		token_of(r, 0, out);
	PQclear(r);
	return e;
}

static hub_err token_by_hash(hub_store *b, const unsigned char hash[32], hub_api_token *out)
{
	hpg_args a = {0};
	hpg_b(&a, hash, 32);
	return token_one((pg *)b, Q_TOKEN_BY_HASH, &a, out);
}

static hub_err token_get(hub_store *b, const char *venue, const char *id_or_name, hub_api_token *out)
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, id_or_name);
	return token_one((pg *)b, Q_TOKEN_GET, &a, out);
}

static hub_err tokens_each(hub_store *b, const char *venue, int (*fn)(const hub_api_token *t, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e;
	PGresult *r = q(s, Q_TOKENS, &a, &e);
	if (!r)
		return e;
	hub_api_token t;
	for (int i = 0; i < PQntuples(r); i++) {
		token_of(r, i, &t);
		if (fn(&t, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

static hub_err token_set(hub_store *b, int which, const char *id, int64_t now, int must_change)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_i(&a, now);
	int64_t n = 0;
	hub_err e = qdo(s, which, &a, &n);
	if (e == HUB_OK && must_change && n == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no unrevoked token %s", id);
	return e;
}

static hub_err token_revoke(hub_store *b, const char *id, int64_t now)
{
	return token_set(b, Q_TOKEN_REVOKE, id, now, 1);
}

static hub_err token_used(hub_store *b, const char *id, int64_t now)
{
	return token_set(b, Q_TOKEN_USED, id, now, 0);
}

/* ---- members ---- */

static hub_err members_page(hub_store *b, const char *venue, const char *query, int64_t after, int limit,
			    int (*fn)(const hub_member *m, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_i(&a, after);
	hpg_t(&a, query && query[0] ? query : NULL);
	hpg_i(&a, limit);
	hub_err e;
	PGresult *r = q(s, Q_MEMBERS_PAGE, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_member m = {.rid = hpg_int(r, i, 0)};
		hpg_cpy(m.uid, sizeof m.uid, hpg_txt(r, i, 1));
		hpg_cpy(m.venue_id, sizeof m.venue_id, hpg_txt(r, i, 2));
		hpg_cpy(m.name, sizeof m.name, hpg_txt(r, i, 3));
		hpg_cpy(m.phone, sizeof m.phone, hpg_txt(r, i, 4));
		hpg_cpy(m.code, sizeof m.code, hpg_txt(r, i, 5));
		hpg_cpy(m.tier, sizeof m.tier, hpg_txt(r, i, 6));
		hpg_cpy(m.expires, sizeof m.expires, hpg_txt(r, i, 7));
		m.provisional = (int)hpg_int(r, i, 8);
		m.created_ms = hpg_int(r, i, 9);
		m.updated_ms = hpg_int(r, i, 10);
		if (fn(&m, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

/* Whether another current member of the venue than m->uid holds m's phone or code: *taken names it. */
static hub_err held_by_other(pg *s, const hub_api_member *m, const char **taken)
{
	pmrow other;
	int f = m->phone[0] ? hpg_member_find(s, HPG_BY_PHONE, m->venue_id, m->phone, &other) : 0;
	if (f < 0)
		return (hub_err)f;
	if (f && (!m->uid || strcmp(other.uid, m->uid) != 0)) {
		*taken = "phone";
		return hpg_refuse(s, HUB_EXISTS, "another member has this phone");
	}
	f = m->code[0] ? hpg_member_find(s, HPG_BY_CODE, m->venue_id, m->code, &other) : 0;
	if (f < 0)
		return (hub_err)f;
	if (f && (!m->uid || strcmp(other.uid, m->uid) != 0)) {
		*taken = "code";
		return hpg_refuse(s, HUB_EXISTS, "another member has this code");
	}
	return HUB_OK;
}

static hub_err member_add_once(pg *s, const hub_api_member *m, int64_t now, const char *uid, const char **taken)
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	/* the venue's members lock, taken first: the looks below are then up to date */
	hpg_next_seq(s, m->venue_id, HUB_SET_MEMBERS, &e);
	if (e != HUB_OK)
		return hpg_rollback(s, e);
	pmrow found;
	int f = hpg_member_find(s, HPG_BY_UID, uid, NULL, &found);
	if (f < 0)
		return hpg_rollback(s, (hub_err)f);
	if (f) {
		*taken = "uid";
		return hpg_rollback(s, hpg_refuse(s, HUB_EXISTS, "a member has this uid"));
	}
	hub_api_member fresh = *m;
	fresh.uid = NULL;
	if ((e = held_by_other(s, &fresh, taken)) != HUB_OK)
		return hpg_rollback(s, e);
	e = hpg_member_insert(s, uid, m->venue_id, m->name, m->phone, m->code, m->tier, m->expires, 0, NULL, "api",
			      now);
	return hpg_end(s, e);
}

static hub_err member_add(hub_store *b, const hub_api_member *m, int64_t now, char uid[33], const char **taken)
{
	pg *s = (pg *)b;
	*taken = NULL;
	if (m->uid)
		hpg_cpy(uid, 33, m->uid);
	else
		clock_new_id(uid);
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = member_add_once(s, m, now, uid, taken);
	return e;
}

static hub_err member_edit_once(pg *s, const hub_api_member *m, int64_t now, const char **taken)
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	int64_t seq = hpg_next_seq(s, m->venue_id, HUB_SET_MEMBERS, &e);
	if (e != HUB_OK)
		return hpg_rollback(s, e);
	pmrow old;
	int f = hpg_member_find(s, HPG_BY_UID, m->uid, NULL, &old);
	if (f < 0)
		return hpg_rollback(s, (hub_err)f);
	if (!f || strcmp(old.venue, m->venue_id) != 0)
		return hpg_rollback(s, hpg_refuse(s, HUB_NOT_FOUND, "no such member"));
	if (old.deleted || old.merged[0])
		return hpg_rollback(s, hpg_refuse(s, HUB_INVALID, "this member was merged or deleted"));
	if ((e = held_by_other(s, m, taken)) != HUB_OK)
		return hpg_rollback(s, e);
	hpg_args a = {0};
	hpg_t(&a, m->uid);
	hpg_i(&a, seq);
	hpg_i(&a, now);
	hpg_t(&a, m->name);
	hpg_t(&a, m->phone[0] ? m->phone : NULL);
	hpg_t(&a, m->code[0] ? m->code : NULL);
	hpg_t(&a, m->tier);
	hpg_t(&a, m->expires);
	e = qdo(s, Q_MEMBER_EDIT, &a, NULL);
	if (e == HUB_OK && (strcmp(old.name, m->name) != 0 || strcmp(old.expires, m->expires) != 0))
		e = hpg_dash_member_changed(s, m->uid);
	return hpg_end(s, e);
}

static hub_err member_edit(hub_store *b, const hub_api_member *m, int64_t now, const char **taken)
{
	pg *s = (pg *)b;
	*taken = NULL;
	hub_err e = HUB_BUSY;
	for (int i = 0; i < TRIES && e == HUB_BUSY; i++)
		e = member_edit_once(s, m, now, taken);
	return e;
}

/* ---- check-ins ---- */

static hub_err checkin_get(hub_store *b, const char *id, hub_api_checkin *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e;
	PGresult *r = q(s, Q_CHECKIN_GET, &a, &e);
	if (!r)
		return e;
	if (!PQntuples(r)) {
		PQclear(r);
		return hpg_refuse(s, HUB_NOT_FOUND, "no such check-in");
	}
	memset(out, 0, sizeof *out);
	hpg_cpy(out->id, sizeof out->id, hpg_txt(r, 0, 0));
	hpg_cpy(out->venue_id, sizeof out->venue_id, hpg_txt(r, 0, 1));
	hpg_cpy(out->device_id, sizeof out->device_id, hpg_txt(r, 0, 2));
	hpg_cpy(out->member_sent, sizeof out->member_sent, hpg_txt(r, 0, 3));
	hpg_cpy(out->member_uid, sizeof out->member_uid, hpg_txt(r, 0, 4));
	hpg_cpy(out->event_uid, sizeof out->event_uid, hpg_txt(r, 0, 5));
	hpg_cpy(out->method, sizeof out->method, hpg_txt(r, 0, 6));
	hpg_cpy(out->day, sizeof out->day, hpg_txt(r, 0, 7));
	hpg_cpy(out->duplicate_of, sizeof out->duplicate_of, hpg_txt(r, 0, 8));
	out->wall_ms = hpg_int(r, 0, 9);
	out->corrected_ms = hpg_int(r, 0, 10);
	out->reversed = (int)hpg_int(r, 0, 11);
	PQclear(r);
	return HUB_OK;
}

/* The highest rid below which every check-in is committed or never will be (see the top of this file). */
static hub_err horizon(pg *s, int64_t *out)
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = hpg_exec(s, "LOCK TABLE checkins IN SHARE MODE")) != HUB_OK)
		return hpg_rollback(s, e);
	PGresult *r = q(s, Q_HORIZON, NULL, &e);
	if (!r)
		return hpg_rollback(s, e);
	*out = hpg_int(r, 0, 0);
	PQclear(r);
	return hpg_commit(s);
}

static hub_err checkins_page(hub_store *b, const hub_api_checkins_query *qr,
			     int (*fn)(const hub_checkin_row *r, int64_t rn, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	int64_t top = 0;
	hub_err e = horizon(s, &top);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, qr->venue_id);
	hpg_i(&a, qr->after);
	hpg_t(&a, qr->event_uid);
	hpg_i(&a, qr->from_ms);
	hpg_i(&a, qr->to_ms);
	hpg_i(&a, qr->limit);
	hpg_i(&a, top);
	PGresult *r = q(s, Q_CHECKINS_PAGE, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_checkin_row row = {
		    .id = hpg_txt(r, i, 0),
		    .device_id = hpg_txt(r, i, 1),
		    .member_uid = hpg_txt(r, i, 2),
		    .member_name = hpg_txt(r, i, 3),
		    .event_uid = hpg_opt(r, i, 4),
		    .event_title = hpg_opt(r, i, 5),
		    .method = hpg_txt(r, i, 6),
		    .day = hpg_txt(r, i, 7),
		    .duplicate_of = hpg_opt(r, i, 8),
		    .wall_ms = hpg_int(r, i, 9),
		    .offset_ms = hpg_int(r, i, 10),
		    .corrected_ms = hpg_int(r, i, 11),
		    .received_ms = hpg_int(r, i, 12),
		    .reversed = (int)hpg_int(r, i, 13),
		};
		if (fn(&row, hpg_int(r, i, 14), ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

const hub_api_ops hpg_api_ops = {
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
