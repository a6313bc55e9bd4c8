/*
 * hub_store_pg_pass — member passes in the PostgreSQL store: the same
 * operations and rules as hub_store_sqlite_pass.c (which says how the
 * passes data set is sequenced), on the tables of hpg_pass_schema (schema
 * version 2).
 *
 * Several hub nodes may issue at once: an issue, a rotation and a sign-up
 * page change each lock their venue's row first (SELECT ... FOR UPDATE), so
 * pass numbers, key ids and tier indexes are handed out one at a time per
 * venue, and the passes sequence's row lock keeps its values in commit order.
 */
#include "sync/clock.h"
#include "sync/hub/hub_pass.h"
#include "sync/hub/hub_store_pg_impl.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const char hpg_pass_schema[] =
    "CREATE TABLE pass_keys(venue_id ctext NOT NULL, kid bigint NOT NULL, public_key bytea NOT NULL,"
    " sealed bytea NOT NULL, created_ms bigint NOT NULL, retired_ms bigint NOT NULL DEFAULT 0,"
    " seq bigint NOT NULL, PRIMARY KEY(venue_id, kid));"
    "CREATE TABLE pass_venues(venue_id ctext PRIMARY KEY, tiers_seq bigint NOT NULL DEFAULT 0, slug ctext UNIQUE,"
    " enabled integer NOT NULL DEFAULT 0, terms ctext NOT NULL DEFAULT '', updated_ms bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE pass_tiers(venue_id ctext NOT NULL, idx bigint NOT NULL, name ctext NOT NULL,"
    " PRIMARY KEY(venue_id, idx), UNIQUE(venue_id, name));"
    "CREATE TABLE pass_members(venue_id ctext NOT NULL, number bigint NOT NULL, member_uid ctext NOT NULL UNIQUE,"
    " last_issued_min bigint NOT NULL, revoked_before bigint NOT NULL DEFAULT 0,"
    " revoked_seq bigint NOT NULL DEFAULT 0, PRIMARY KEY(venue_id, number));"
    "CREATE INDEX pass_members_revoked ON pass_members(venue_id, revoked_seq) WHERE revoked_seq > 0;"
    "CREATE TABLE pass_addresses(hash bytea PRIMARY KEY, venue_id ctext NOT NULL, number bigint NOT NULL,"
    " member_uid ctext NOT NULL, pass ctext NOT NULL, tier ctext NOT NULL, expires ctext NOT NULL,"
    " issued_ms bigint NOT NULL, revoked_ms bigint NOT NULL DEFAULT 0);"
    "CREATE INDEX pass_addresses_member ON pass_addresses(venue_id, number);";

enum {
	Q_SEQ_NEXT,
	Q_VENUE_LOCK,
	Q_KEYS,
	Q_KEY_SIGNING,
	Q_KEYS_LIVE,
	Q_KEY_RETIRE,
	Q_KEY_INSERT,
	Q_TIER_GET,
	Q_TIER_COUNT,
	Q_TIER_INSERT,
	Q_TIERS_SEQ,
	Q_NUMBER_GET,
	Q_NUMBER_NEXT,
	Q_NUMBER_INSERT,
	Q_MEMBER_CODE,
	Q_ISSUED,
	Q_ADDRESS_INSERT,
	Q_STATE,
	Q_REVOKE,
	Q_REVOKE_ADDRESSES,
	Q_ADDRESS_GET,
	Q_SIGNUP_PUT,
	Q_SIGNUP_BY_VENUE,
	Q_SIGNUP_BY_SLUG,
	Q_SEQ_LAST,
	Q_PULL,
	Q_TIERS,
	Q_COUNT
};

#define KEY_COLS "kid, public_key, sealed, created_ms, retired_ms"

static const char *const sql[Q_COUNT] = {
    [Q_SEQ_NEXT] = "INSERT INTO set_seqs(venue_id, data_set, last) VALUES($1, 'passes', 1)"
		   " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = set_seqs.last + 1 RETURNING last",
    [Q_VENUE_LOCK] = "SELECT 1 FROM venues WHERE id = $1 FOR UPDATE",
    [Q_KEYS] = "SELECT " KEY_COLS " FROM pass_keys WHERE venue_id = $1 ORDER BY kid DESC",
    [Q_KEY_SIGNING] = "SELECT " KEY_COLS " FROM pass_keys WHERE venue_id = $1 AND retired_ms = 0"
		      " ORDER BY kid DESC LIMIT 1",
    [Q_KEYS_LIVE] = "SELECT kid FROM pass_keys WHERE venue_id = $1 AND retired_ms = 0",
    [Q_KEY_RETIRE] = "UPDATE pass_keys SET retired_ms = $3, seq = $4 WHERE venue_id = $1 AND kid = $2",
    [Q_KEY_INSERT] = "INSERT INTO pass_keys(venue_id, kid, public_key, sealed, created_ms, seq)"
		     " VALUES($1, $2, $3, $4, $5, $6)",
    [Q_TIER_GET] = "SELECT idx FROM pass_tiers WHERE venue_id = $1 AND name = $2",
    [Q_TIER_COUNT] = "SELECT count(*) FROM pass_tiers WHERE venue_id = $1",
    [Q_TIER_INSERT] = "INSERT INTO pass_tiers(venue_id, idx, name) VALUES($1, $2, $3)",
    [Q_TIERS_SEQ] = "INSERT INTO pass_venues(venue_id, tiers_seq, updated_ms) VALUES($1, $2, $3)"
		    " ON CONFLICT(venue_id) DO UPDATE SET tiers_seq = excluded.tiers_seq",
    [Q_NUMBER_GET] = "SELECT number, last_issued_min, revoked_before FROM pass_members WHERE member_uid = $1",
    [Q_NUMBER_NEXT] = "SELECT coalesce(max(number), 0) + 1 FROM pass_members WHERE venue_id = $1",
    [Q_NUMBER_INSERT] = "INSERT INTO pass_members(venue_id, number, member_uid, last_issued_min)"
			" VALUES($1, $2, $3, $4)",
    [Q_MEMBER_CODE] = "UPDATE members SET code = $2, seq = $3, updated_ms = $4 WHERE uid = $1",
    [Q_ISSUED] = "UPDATE pass_members SET last_issued_min = greatest(last_issued_min, $2) WHERE member_uid = $1",
    [Q_ADDRESS_INSERT] = "INSERT INTO pass_addresses(hash, venue_id, number, member_uid, pass, tier, expires,"
			 " issued_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
    [Q_STATE] = "SELECT p.number, p.last_issued_min, p.revoked_before, p.venue_id,"
		" (SELECT count(*) FROM pass_addresses a WHERE a.venue_id = p.venue_id AND a.number = p.number"
		" AND a.revoked_ms = 0) FROM pass_members p WHERE p.member_uid = $1",
    [Q_REVOKE] = "UPDATE pass_members SET revoked_before = $2, revoked_seq = $3 WHERE member_uid = $1",
    [Q_REVOKE_ADDRESSES] = "UPDATE pass_addresses SET revoked_ms = $3 WHERE venue_id = $1 AND number = $2"
			   " AND revoked_ms = 0",
    [Q_ADDRESS_GET] = "SELECT a.venue_id, a.member_uid, a.pass, a.tier, a.expires, a.issued_ms"
		      " FROM pass_addresses a JOIN pass_members p ON p.venue_id = a.venue_id AND p.number = a.number"
		      " WHERE a.hash = $1 AND a.revoked_ms = 0",
    [Q_SIGNUP_PUT] = "INSERT INTO pass_venues(venue_id, slug, enabled, terms, updated_ms) VALUES($1, $2, $3, $4, $5)"
		     " ON CONFLICT(venue_id) DO UPDATE SET slug = excluded.slug, enabled = excluded.enabled,"
		     " terms = excluded.terms, updated_ms = excluded.updated_ms",
    [Q_SIGNUP_BY_VENUE] = "SELECT venue_id, slug, enabled, terms, updated_ms FROM pass_venues"
			  " WHERE venue_id = $1 AND slug IS NOT NULL",
    [Q_SIGNUP_BY_SLUG] = "SELECT venue_id, slug, enabled, terms, updated_ms FROM pass_venues WHERE slug = $1",
    [Q_SEQ_LAST] = "SELECT last FROM set_seqs WHERE venue_id = $1 AND data_set = 'passes'",
    [Q_PULL] = "SELECT seq, 0, kid, encode(public_key, 'hex'), retired_ms FROM pass_keys"
	       " WHERE venue_id = $1 AND seq > $2"
	       " UNION ALL SELECT tiers_seq, 1, 0, NULL, 0 FROM pass_venues WHERE venue_id = $1 AND tiers_seq > $2"
	       " UNION ALL SELECT revoked_seq, 2, number, NULL, revoked_before FROM pass_members"
	       " WHERE venue_id = $1 AND revoked_seq > $2 ORDER BY 1 LIMIT $3",
    [Q_TIERS] = "SELECT name FROM pass_tiers WHERE venue_id = $1 ORDER BY idx",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *q(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_PASS, which, sql[which], a, e);
}

static hub_err qdo(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_PASS, which, sql[which], a, changed);
}

/* One row of statement which: HUB_OK with *r (PQclear it), HUB_NOT_FOUND, or an error. */
static hub_err one(pg *s, int which, const hpg_args *a, PGresult **r)
{
	hub_err e;
	*r = q(s, which, a, &e);
	if (!*r)
		return e;
	if (PQntuples(*r) == 0) {
		PQclear(*r);
		*r = NULL;
		return HUB_NOT_FOUND;
	}
	return HUB_OK;
}

static int64_t next_seq(pg *s, const char *venue, hub_err *e)
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *r;
	*e = one(s, Q_SEQ_NEXT, &a, &r);
	if (*e != HUB_OK)
		return 0;
	int64_t v = hpg_int(r, 0, 0);
	PQclear(r);
	return v;
}

static hub_err venue_lock(pg *s, const char *venue)
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *r;
	hub_err e = one(s, Q_VENUE_LOCK, &a, &r);
	if (e == HUB_NOT_FOUND)
		return hpg_refuse(s, e, "no venue %s", venue);
	PQclear(r);
	return e;
}

static void key_of(const PGresult *r, int i, hub_pass_key *k)
{
	memset(k, 0, sizeof *k);
	k->kid = (unsigned)hpg_int(r, i, 0);
	hpg_bytes(r, i, 1, k->public_key, sizeof k->public_key);
	int n = hpg_bytes(r, i, 2, k->sealed, sizeof k->sealed);
	k->sealed_len = n > 0 ? (size_t)n : 0;
	k->created_ms = hpg_int(r, i, 3);
	k->retired_ms = hpg_int(r, i, 4);
}

static hub_err pg_keys_each(hub_store *b, const char *venue, int (*fn)(const hub_pass_key *k, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e;
	PGresult *r = q(s, Q_KEYS, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_pass_key k;
		key_of(r, i, &k);
		if (fn(&k, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

static hub_err pg_key_add(hub_store *b, const char *venue, const hub_pass_key *k, int64_t now)
{
	pg *s = (pg *)b;
	if (k->kid < 1 || k->kid > PASS_KEY_MAX)
		return hpg_refuse(s, HUB_INVALID, "a key id is 1 to %d", PASS_KEY_MAX);
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = venue_lock(s, venue)) != HUB_OK)
		return hpg_rollback(s, e);
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *live = q(s, Q_KEYS_LIVE, &a, &e);
	if (!live)
		return hpg_rollback(s, e);
	for (int i = 0; i < PQntuples(live) && e == HUB_OK; i++) {
		int64_t seq = next_seq(s, venue, &e);
		if (e != HUB_OK)
			break;
		hpg_args u = {0};
		hpg_t(&u, venue);
		hpg_i(&u, hpg_int(live, i, 0));
		hpg_i(&u, now);
		hpg_i(&u, seq);
		e = qdo(s, Q_KEY_RETIRE, &u, NULL);
	}
	PQclear(live);
	int64_t seq = e == HUB_OK ? next_seq(s, venue, &e) : 0;
	if (e == HUB_OK) {
		hpg_args n = {0};
		hpg_t(&n, venue);
		hpg_i(&n, k->kid);
		hpg_b(&n, k->public_key, PASS_PUBLIC_BYTES);
		hpg_b(&n, k->sealed, (int)k->sealed_len);
		hpg_i(&n, k->created_ms ? k->created_ms : now);
		hpg_i(&n, seq);
		if ((e = qdo(s, Q_KEY_INSERT, &n, NULL)) == HUB_EXISTS)
			hpg_refuse(s, e, "venue %s has a key %u already", venue, k->kid);
	}
	return hpg_end(s, e);
}

/* ---- issuing ---- */

static int tier_index(pg *s, const char *venue, const char *name, int64_t now, hub_err *e)
{
	*e = HUB_OK;
	if (!name[0])
		return 0;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, name);
	PGresult *r;
	if ((*e = one(s, Q_TIER_GET, &a, &r)) == HUB_OK) {
		int idx = (int)hpg_int(r, 0, 0);
		PQclear(r);
		return idx;
	}
	if (*e != HUB_NOT_FOUND)
		return 0;
	hpg_args v = {0};
	hpg_t(&v, venue);
	if ((*e = one(s, Q_TIER_COUNT, &v, &r)) != HUB_OK)
		return 0;
	int64_t n = hpg_int(r, 0, 0);
	PQclear(r);
	if (n >= PASS_TIER_MAX)
		return 0;
	int64_t seq = next_seq(s, venue, e);
	if (*e != HUB_OK)
		return 0;
	hpg_args t = {0};
	hpg_t(&t, venue);
	hpg_i(&t, n + 1);
	hpg_t(&t, name);
	if ((*e = qdo(s, Q_TIER_INSERT, &t, NULL)) != HUB_OK)
		return 0;
	hpg_args p = {0};
	hpg_t(&p, venue);
	hpg_i(&p, seq);
	hpg_i(&p, now);
	*e = qdo(s, Q_TIERS_SEQ, &p, NULL);
	return (int)n + 1;
}

static hub_err number_of(pg *s, const char *venue, const char *uid, uint32_t issued, hub_pass_state *ps)
{
	memset(ps, 0, sizeof *ps);
	hpg_args a = {0};
	hpg_t(&a, uid);
	PGresult *r;
	hub_err e = one(s, Q_NUMBER_GET, &a, &r);
	if (e == HUB_OK) {
		ps->number = (uint32_t)hpg_int(r, 0, 0);
		ps->last_issued_min = (uint32_t)hpg_int(r, 0, 1);
		ps->revoked_before_min = (uint32_t)hpg_int(r, 0, 2);
		PQclear(r);
		return HUB_OK;
	}
	if (e != HUB_NOT_FOUND)
		return e;
	hpg_args v = {0};
	hpg_t(&v, venue);
	if ((e = one(s, Q_NUMBER_NEXT, &v, &r)) != HUB_OK)
		return e;
	int64_t n = hpg_int(r, 0, 0);
	PQclear(r);
	if (n >= (1LL << 31))
		return hpg_refuse(s, HUB_INVALID, "venue %s has given every pass number", venue);
	hpg_args ins = {0};
	hpg_t(&ins, venue);
	hpg_i(&ins, n);
	hpg_t(&ins, uid);
	hpg_i(&ins, issued);
	ps->number = (uint32_t)n;
	return qdo(s, Q_NUMBER_INSERT, &ins, NULL);
}

static hub_err issue_in(pg *s, const hub_pass_request *rq, hub_pass *out)
{
	const char *venue = rq->venue_id;
	hub_err e = venue_lock(s, venue);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *r;
	if ((e = one(s, Q_KEY_SIGNING, &a, &r)) == HUB_NOT_FOUND)
		return hpg_refuse(s, e, "venue %s has no signing key: run tingzi-hub venues rotate-key %s first", venue,
				  venue);
	if (e != HUB_OK)
		return e;
	hub_pass_key key;
	key_of(r, 0, &key);
	PQclear(r);
	pmrow m = {0};
	char uid[HUB_ID_MAX] = "";
	if (rq->member_uid) {
		int f = hpg_member_find(s, HPG_BY_UID, rq->member_uid, NULL, &m);
		if (f < 0)
			return (hub_err)f;
		if (!f || strcmp(m.venue, venue) != 0)
			return hpg_refuse(s, HUB_NOT_FOUND, "no member %s at venue %s", rq->member_uid, venue);
		if (m.deleted || m.merged[0])
			return hpg_refuse(s, HUB_INVALID, "member %s was %s%s", m.uid, m.deleted ? "deleted" : "merged into ",
					  m.deleted ? "" : m.merged);
		hpg_cpy(uid, sizeof uid, m.uid);
	} else {
		int f = hpg_member_find(s, HPG_BY_PHONE, venue, rq->phone, &m);
		if (f < 0)
			return (hub_err)f;
		if (f)
			return hpg_refuse(s, HUB_EXISTS, "this phone is a member's already");
		if (clock_new_id(uid) != 0)
			return hpg_refuse(s, HUB_ERR, "no randomness for a member id");
		if ((e = hpg_member_insert(s, uid, venue, rq->name, rq->phone, NULL, "", "", 0, NULL, "signup",
					   rq->now_ms)) != HUB_OK)
			return e == HUB_EXISTS ? hpg_refuse(s, e, "this phone is a member's already") : e;
		if ((f = hpg_member_find(s, HPG_BY_UID, uid, NULL, &m)) != 1)
			return f < 0 ? (hub_err)f : hpg_refuse(s, HUB_ERR, "the new member is not there");
	}
	uint32_t now_min = pass_minutes(rq->now_ms / 1000);
	hub_pass_state ps;
	if ((e = number_of(s, venue, uid, now_min, &ps)) != HUB_OK)
		return e;
	int canonical = 0;
	char why[200];
	if (hub_pass_code(m.code, ps.number, out->f.code, &canonical, why, sizeof why) != 0)
		return hpg_refuse(s, HUB_INVALID, "%s", why);
	if (canonical && !m.code[0]) {
		pmrow other;
		int f = hpg_member_find(s, HPG_BY_CODE, venue, out->f.code, &other);
		if (f < 0)
			return (hub_err)f;
		if (f)
			return hpg_refuse(s, HUB_INVALID, "code %s, this member's pass code, is another member's",
					  out->f.code);
		int64_t mseq = hpg_next_seq(s, venue, HUB_SET_MEMBERS, &e);
		if (e != HUB_OK)
			return e;
		hpg_args c = {0};
		hpg_t(&c, uid);
		hpg_t(&c, out->f.code);
		hpg_i(&c, mseq);
		hpg_i(&c, rq->now_ms);
		if ((e = qdo(s, Q_MEMBER_CODE, &c, NULL)) != HUB_OK)
			return e;
	}
	out->f.tier = (unsigned)tier_index(s, venue, m.tier, rq->now_ms, &e);
	if (e != HUB_OK)
		return e;
	uint32_t issued = now_min > ps.revoked_before_min ? now_min : ps.revoked_before_min + 1;
	hpg_args is = {0};
	hpg_t(&is, uid);
	hpg_i(&is, issued);
	if ((e = qdo(s, Q_ISSUED, &is, NULL)) != HUB_OK)
		return e;
	uint8_t vuid[PASS_VENUE_BYTES];
	if (pass_uid_bytes(venue, vuid) != 0)
		return hpg_refuse(s, HUB_INVALID, "venue %s has no uid a pass can carry", venue);
	int64_t day = pass_day_from_date(m.expires);
	out->f.key_id = key.kid;
	out->f.venue_tag = pass_venue_tag(vuid);
	out->f.issued_min = issued;
	out->f.expires_day = day > 0 ? (uint32_t)day : 0;
	out->f.number = ps.number;
	pass_greeting(m.name, out->f.greeting, sizeof out->f.greeting);
	if (rq->sign(rq->ctx, venue, &key, &out->f, out->text, why, sizeof why) != 0)
		return hpg_refuse(s, HUB_ERR, "%s", why);
	pass_read rd;
	if (pass_decode(out->text, strlen(out->text), &rd) == PASS_OK)
		out->f = rd.f;
	hpg_cpy(out->venue_id, sizeof out->venue_id, venue);
	hpg_cpy(out->member_uid, sizeof out->member_uid, uid);
	hpg_cpy(out->tier, sizeof out->tier, m.tier);
	hpg_cpy(out->expires, sizeof out->expires, m.expires);
	out->issued_ms = pass_minutes_unix(issued) * 1000;
	if (rq->address_hash) {
		hpg_args ad = {0};
		hpg_b(&ad, rq->address_hash, HUB_HASH_LEN);
		hpg_t(&ad, venue);
		hpg_i(&ad, ps.number);
		hpg_t(&ad, uid);
		hpg_t(&ad, out->text);
		hpg_t(&ad, m.tier);
		hpg_t(&ad, m.expires);
		hpg_i(&ad, rq->now_ms);
		e = qdo(s, Q_ADDRESS_INSERT, &ad, NULL);
	}
	return e;
}

static hub_err pg_issue(hub_store *b, const hub_pass_request *rq, hub_pass *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	if (!rq->venue_id || !rq->sign || (!rq->member_uid && (!rq->name || !rq->phone)))
		return hpg_refuse(s, HUB_INVALID, "a pass is issued for a member, or a name and a phone");
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	e = hpg_end(s, issue_in(s, rq, out));
	if (e != HUB_OK) {
		char keep[sizeof s->base.errmsg];
		memcpy(keep, s->base.errmsg, sizeof keep);
		memset(out, 0, sizeof *out);
		memcpy(s->base.errmsg, keep, sizeof keep);
	}
	return e;
}

static hub_err state_of(pg *s, const char *uid, hub_pass_state *out, char venue[HUB_ID_MAX])
{
	memset(out, 0, sizeof *out);
	hpg_args a = {0};
	hpg_t(&a, uid);
	PGresult *r;
	hub_err e = one(s, Q_STATE, &a, &r);
	if (e == HUB_NOT_FOUND)
		return hpg_refuse(s, e, "member %s has no pass", uid);
	if (e != HUB_OK)
		return e;
	out->number = (uint32_t)hpg_int(r, 0, 0);
	out->last_issued_min = (uint32_t)hpg_int(r, 0, 1);
	out->revoked_before_min = (uint32_t)hpg_int(r, 0, 2);
	hpg_cpy(venue, HUB_ID_MAX, hpg_txt(r, 0, 3));
	out->addresses = hpg_int(r, 0, 4);
	PQclear(r);
	return HUB_OK;
}

static hub_err pg_state(hub_store *b, const char *uid, hub_pass_state *out)
{
	char venue[HUB_ID_MAX];
	return state_of((pg *)b, uid, out, venue);
}

static hub_err revoke_in(pg *s, const char *uid, int64_t now, hub_pass_state *out)
{
	char venue[HUB_ID_MAX];
	hub_err e = state_of(s, uid, out, venue);
	if (e != HUB_OK || (e = venue_lock(s, venue)) != HUB_OK || (e = state_of(s, uid, out, venue)) != HUB_OK)
		return e;
	uint32_t now_min = pass_minutes(now / 1000);
	uint32_t before = out->last_issued_min > now_min ? out->last_issued_min : now_min;
	int64_t seq = next_seq(s, venue, &e);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hpg_i(&a, before);
	hpg_i(&a, seq);
	if ((e = qdo(s, Q_REVOKE, &a, NULL)) != HUB_OK)
		return e;
	hpg_args r = {0};
	hpg_t(&r, venue);
	hpg_i(&r, out->number);
	hpg_i(&r, now);
	e = qdo(s, Q_REVOKE_ADDRESSES, &r, NULL);
	out->revoked_before_min = before;
	out->addresses = 0;
	return e;
}

static hub_err pg_revoke(hub_store *b, const char *uid, int64_t now, hub_pass_state *out)
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, revoke_in(s, uid, now, out));
}

static hub_err pg_address_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], hub_pass *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	hpg_args a = {0};
	hpg_b(&a, hash, HUB_HASH_LEN);
	PGresult *r;
	hub_err e = one(s, Q_ADDRESS_GET, &a, &r);
	if (e == HUB_NOT_FOUND)
		return hpg_refuse(s, e, "no such private address");
	if (e != HUB_OK)
		return e;
	hpg_cpy(out->venue_id, sizeof out->venue_id, hpg_txt(r, 0, 0));
	hpg_cpy(out->member_uid, sizeof out->member_uid, hpg_txt(r, 0, 1));
	hpg_cpy(out->text, sizeof out->text, hpg_txt(r, 0, 2));
	hpg_cpy(out->tier, sizeof out->tier, hpg_txt(r, 0, 3));
	hpg_cpy(out->expires, sizeof out->expires, hpg_txt(r, 0, 4));
	out->issued_ms = hpg_int(r, 0, 5);
	PQclear(r);
	pass_read rd;
	if (pass_decode(out->text, strlen(out->text), &rd) == PASS_OK)
		out->f = rd.f;
	return HUB_OK;
}

static hub_err pg_member_by_code(hub_store *b, const char *venue, const char *code, char uid[HUB_ID_MAX])
{
	pg *s = (pg *)b;
	pmrow m;
	int f = hpg_member_find(s, HPG_BY_CODE, venue, code, &m);
	if (f < 0)
		return (hub_err)f;
	if (!f)
		return hpg_refuse(s, HUB_NOT_FOUND, "no member with code %s", code);
	hpg_cpy(uid, HUB_ID_MAX, m.uid);
	return HUB_OK;
}

static hub_err pg_signup_set(hub_store *b, const hub_signup *su)
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = venue_lock(s, su->venue_id)) == HUB_OK) {
		hpg_args a = {0};
		hpg_t(&a, su->venue_id);
		hpg_t(&a, su->slug);
		hpg_i(&a, su->enabled ? 1 : 0);
		hpg_t(&a, su->terms);
		hpg_i(&a, su->updated_ms);
		if ((e = qdo(s, Q_SIGNUP_PUT, &a, NULL)) == HUB_EXISTS)
			hpg_refuse(s, e, "the sign-up address /m/%s is another venue's", su->slug);
	}
	return hpg_end(s, e);
}

static hub_err pg_signup_get(hub_store *b, const char *venue, const char *slug, hub_signup *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	hpg_args a = {0};
	hpg_t(&a, venue ? venue : slug);
	PGresult *r;
	hub_err e = one(s, venue ? Q_SIGNUP_BY_VENUE : Q_SIGNUP_BY_SLUG, &a, &r);
	if (e == HUB_NOT_FOUND)
		return hpg_refuse(s, e, "no sign-up page");
	if (e != HUB_OK)
		return e;
	hpg_cpy(out->venue_id, sizeof out->venue_id, hpg_txt(r, 0, 0));
	hpg_cpy(out->slug, sizeof out->slug, hpg_txt(r, 0, 1));
	out->enabled = (int)hpg_int(r, 0, 2);
	hpg_cpy(out->terms, sizeof out->terms, hpg_txt(r, 0, 3));
	out->updated_ms = hpg_int(r, 0, 4);
	PQclear(r);
	return HUB_OK;
}

static hub_err pull_in(pg *s, const char *venue, int64_t since, int limit, hub_page *out)
{
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *r;
	hub_err e = one(s, Q_SEQ_LAST, &a, &r);
	int64_t last = 0;
	if (e == HUB_OK) {
		last = hpg_int(r, 0, 0);
		PQclear(r);
	} else if (e != HUB_NOT_FOUND) {
		return e;
	}
	out->reset = since <= 0 || since > last;
	if (out->reset)
		since = 0;
	hpg_args p = {0};
	hpg_t(&p, venue);
	hpg_i(&p, since);
	hpg_i(&p, (int64_t)limit + 1);
	if (!(r = q(s, Q_PULL, &p, &e)))
		return e;
	out->items = json_array();
	out->next = since;
	int n = PQntuples(r);
	if (n > limit) {
		out->more = 1;
		n = limit;
	}
	for (int i = 0; i < n && e == HUB_OK; i++) {
		json_t *it;
		int kind = (int)hpg_int(r, i, 1);
		if (kind == 0) {
			it = json_pack("{s:s,s:i,s:s,s:b}", "kind", "key", "kid", (int)hpg_int(r, i, 2), "public",
				       hpg_txt(r, i, 3), "retired", hpg_int(r, i, 4) != 0);
		} else if (kind == 1) {
			hpg_args t = {0};
			hpg_t(&t, venue);
			PGresult *tr = q(s, Q_TIERS, &t, &e);
			if (!tr)
				break;
			json_t *names = json_array();
			for (int k = 0; k < PQntuples(tr); k++)
				json_array_append_new(names, json_string(hpg_txt(tr, k, 0)));
			PQclear(tr);
			it = json_pack("{s:s,s:o}", "kind", "tiers", "tiers", names);
		} else {
			it = json_pack("{s:s,s:I,s:I}", "kind", "revoked", "number", (json_int_t)hpg_int(r, i, 2),
				       "before", (json_int_t)hpg_int(r, i, 4));
		}
		out->next = hpg_int(r, i, 0);
		json_array_append_new(out->items, it);
	}
	PQclear(r);
	if (n == 0 && out->reset)
		out->next = 0;
	return e;
}

static hub_err pg_pull(hub_store *b, const char *venue, int64_t since, int limit, hub_page *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	/* one snapshot for the sequence's last value and the rows */
	hub_err e = hpg_begin(s);
	if (e == HUB_OK)
		e = hpg_exec(s, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (e == HUB_OK)
		e = pull_in(s, venue, since, limit, out);
	e = hpg_end(s, e);
	if (e != HUB_OK) {
		json_decref(out->items);
		out->items = NULL;
	}
	return e;
}

const hub_pass_ops hpg_pass_ops = {
    .keys_each = pg_keys_each,
    .key_add = pg_key_add,
    .issue = pg_issue,
    .revoke = pg_revoke,
    .state = pg_state,
    .address_get = pg_address_get,
    .member_by_code = pg_member_by_code,
    .signup_set = pg_signup_set,
    .signup_get = pg_signup_get,
    .pull = pg_pull,
};
