/*
 * hub_store_sqlite_pass — member passes in the SQLite store (hub_store.h's
 * hub_pass_ops; the tables are in hub_store_sqlite_schema.c, version 5).
 *
 * The passes data set has its own sequence (set_seqs row "passes"): a new
 * key, a retired key, a tier added to the list and a revocation each take
 * its next value, on the row that changed (pass_keys.seq,
 * pass_venues.tiers_seq, pass_members.revoked_seq), so a pull reads the
 * three tables' rows past its cursor in one ordered union, exactly as the
 * members set is read.
 *
 * Statements here are prepared for each call and finalized after it: passes
 * are issued one at a time, by people, and a statement kept across calls
 * would have to be finalized by the store's close.
 */
#include "sync/clock.h"
#include "sync/hub/hub_pass.h"
#include "sync/hub/hub_store_sqlite_calls.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The next value of the venue's passes sequence. */
static int64_t next_seq(calls *c, const char *venue, hub_err *e)
{
	sqlite3_stmt *st = prep(c, "INSERT INTO set_seqs(venue_id, data_set, last) VALUES(?1, 'passes', 1)"
				   " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = last + 1 RETURNING last");
	int64_t v = 0;
	*e = st ? HUB_OK : HUB_ERR;
	if (st) {
		bt(st, 1, venue);
		*e = int_of(c->s, st, &v);
	}
	return v;
}

static void key_of(sqlite3_stmt *st, hub_pass_key *k)
{
	memset(k, 0, sizeof *k);
	k->kid = (unsigned)sqlite3_column_int(st, 0);
	if (sqlite3_column_bytes(st, 1) == PASS_PUBLIC_BYTES)
		memcpy(k->public_key, sqlite3_column_blob(st, 1), PASS_PUBLIC_BYTES);
	int n = sqlite3_column_bytes(st, 2);
	if (n > 0 && n <= HUB_SEALED_MAX) {
		memcpy(k->sealed, sqlite3_column_blob(st, 2), (size_t)n);
		k->sealed_len = (size_t)n;
	}
	k->created_ms = sqlite3_column_int64(st, 3);
	k->retired_ms = sqlite3_column_int64(st, 4);
}

#define KEY_COLS "kid, public_key, sealed, created_ms, retired_ms"

static hub_err sq_keys_each(hub_store *b, const char *venue, int (*fn)(const hub_pass_key *k, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " KEY_COLS " FROM pass_keys WHERE venue_id = ?1 ORDER BY kid DESC");
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_pass_key k;
		key_of(st, &k);
		if (fn(&k, ctx))
			break;
	}
	hub_err e = ended(c.s, st, rc);
	calls_done(&c);
	return e;
}

static hub_err sq_key_add(hub_store *b, const char *venue, const hub_pass_key *k, int64_t now)
{
	sq *s = (sq *)b;
	if (k->kid < 1 || k->kid > PASS_KEY_MAX)
		return refuse(s, HUB_INVALID, "a key id is 1 to %d", PASS_KEY_MAX);
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, "SELECT 1 FROM venues WHERE id = ?1");
	if (!st)
		e = HUB_ERR;
	else {
		bt(st, 1, venue);
		if ((e = row(s, st)) == HUB_OK)
			sqlite3_reset(st);
		else if (e == HUB_NOT_FOUND)
			refuse(s, e, "no venue %s", venue);
	}
	/* the keys signing now are retired, each with a new place in the set */
	sqlite3_stmt *old = e == HUB_OK ? prep(&c, "SELECT kid FROM pass_keys WHERE venue_id = ?1 AND retired_ms = 0")
					: NULL;
	int64_t retire[PASS_KEY_MAX];
	int nretire = 0;
	if (e == HUB_OK && !old)
		e = HUB_ERR;
	if (e == HUB_OK) {
		bt(old, 1, venue);
		int rc;
		while ((rc = sqlite3_step(old)) == SQLITE_ROW && nretire < PASS_KEY_MAX)
			retire[nretire++] = sqlite3_column_int64(old, 0);
		e = ended(s, old, rc);
	}
	sqlite3_stmt *up = e == HUB_OK ? prep(&c, "UPDATE pass_keys SET retired_ms = ?3, seq = ?4"
						   " WHERE venue_id = ?1 AND kid = ?2")
				       : NULL;
	if (e == HUB_OK && !up)
		e = HUB_ERR;
	for (int i = 0; i < nretire && e == HUB_OK; i++) {
		int64_t seq = next_seq(&c, venue, &e);
		if (e != HUB_OK)
			break;
		bt(up, 1, venue);
		bi(up, 2, retire[i]);
		bi(up, 3, now);
		bi(up, 4, seq);
		e = done(s, up);
	}
	int64_t seq = e == HUB_OK ? next_seq(&c, venue, &e) : 0;
	sqlite3_stmt *ins = e == HUB_OK ? prep(&c, "INSERT INTO pass_keys(venue_id, kid, public_key, sealed, created_ms,"
						   " seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
					: NULL;
	if (e == HUB_OK && !ins)
		e = HUB_ERR;
	if (e == HUB_OK) {
		bt(ins, 1, venue);
		bi(ins, 2, k->kid);
		sqlite3_bind_blob(ins, 3, k->public_key, PASS_PUBLIC_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 4, k->sealed, (int)k->sealed_len, SQLITE_STATIC);
		bi(ins, 5, k->created_ms ? k->created_ms : now);
		bi(ins, 6, seq);
		e = done(s, ins);
		if (e == HUB_EXISTS)
			refuse(s, e, "venue %s has a key %u already", venue, k->kid);
	}
	calls_done(&c);
	return end_tx(s, e);
}

/* ---- issuing ---- */

/* The venue's tier index for name (added to the list when new and there is room), or 0. */
static int tier_index(calls *c, const char *venue, const char *name, int64_t now, hub_err *e)
{
	*e = HUB_OK;
	if (!name[0])
		return 0;
	sqlite3_stmt *st = prep(c, "SELECT idx FROM pass_tiers WHERE venue_id = ?1 AND name = ?2");
	if (!st) {
		*e = HUB_ERR;
		return 0;
	}
	bt(st, 1, venue);
	bt(st, 2, name);
	int64_t idx = 0;
	*e = int_of(c->s, st, &idx);
	if (*e == HUB_OK || *e != HUB_NOT_FOUND)
		return (int)idx;
	if (!(st = prep(c, "SELECT count(*) FROM pass_tiers WHERE venue_id = ?1"))) {
		*e = HUB_ERR;
		return 0;
	}
	bt(st, 1, venue);
	int64_t n = 0;
	if ((*e = int_of(c->s, st, &n)) != HUB_OK)
		return 0;
	if (n >= PASS_TIER_MAX) /* the list is full: this tier goes unsaid */
		return 0;
	int64_t seq = next_seq(c, venue, e);
	if (*e != HUB_OK)
		return 0;
	if (!(st = prep(c, "INSERT INTO pass_tiers(venue_id, idx, name) VALUES(?1, ?2, ?3)"))) {
		*e = HUB_ERR;
		return 0;
	}
	bt(st, 1, venue);
	bi(st, 2, n + 1);
	bt(st, 3, name);
	if ((*e = done(c->s, st)) != HUB_OK)
		return 0;
	if (!(st = prep(c, "INSERT INTO pass_venues(venue_id, tiers_seq, updated_ms) VALUES(?1, ?2, ?3)"
			   " ON CONFLICT(venue_id) DO UPDATE SET tiers_seq = excluded.tiers_seq"))) {
		*e = HUB_ERR;
		return 0;
	}
	bt(st, 1, venue);
	bi(st, 2, seq);
	bi(st, 3, now);
	*e = done(c->s, st);
	return (int)n + 1;
}

/* The member's pass number (made if none), last issued and revoked-before minutes. */
static hub_err number_of(calls *c, const char *venue, const char *uid, uint32_t issued, hub_pass_state *ps)
{
	sq *s = c->s;
	memset(ps, 0, sizeof *ps);
	sqlite3_stmt *st = prep(c, "SELECT number, last_issued_min, revoked_before FROM pass_members"
				   " WHERE member_uid = ?1");
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		ps->number = (uint32_t)sqlite3_column_int64(st, 0);
		ps->last_issued_min = (uint32_t)sqlite3_column_int64(st, 1);
		ps->revoked_before_min = (uint32_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		return HUB_OK;
	}
	if (e != HUB_NOT_FOUND)
		return e;
	if (!(st = prep(c, "SELECT ifnull(max(number), 0) + 1 FROM pass_members WHERE venue_id = ?1")))
		return HUB_ERR;
	bt(st, 1, venue);
	int64_t n = 0;
	if ((e = int_of(s, st, &n)) != HUB_OK)
		return e;
	if (n >= (1LL << 31))
		return refuse(s, HUB_INVALID, "venue %s has given every pass number", venue);
	if (!(st = prep(c, "INSERT INTO pass_members(venue_id, number, member_uid, last_issued_min)"
			   " VALUES(?1, ?2, ?3, ?4)")))
		return HUB_ERR;
	bt(st, 1, venue);
	bi(st, 2, n);
	bt(st, 3, uid);
	bi(st, 4, issued);
	ps->number = (uint32_t)n;
	return done(s, st);
}

static hub_err sq_issue(hub_store *b, const hub_pass_request *rq, hub_pass *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	if (!rq->venue_id || !rq->sign || (!rq->member_uid && (!rq->name || !rq->phone)))
		return refuse(s, HUB_INVALID, "a pass is issued for a member, or a name and a phone");
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	const char *venue = rq->venue_id;
	hub_pass_key key;
	mrow m = {0};
	char uid[HUB_ID_MAX] = "";
	sqlite3_stmt *st = prep(&c, "SELECT " KEY_COLS " FROM pass_keys WHERE venue_id = ?1 AND retired_ms = 0"
				    " ORDER BY kid DESC LIMIT 1");
	if (!st) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, venue);
	if ((e = row(s, st)) == HUB_NOT_FOUND) {
		refuse(s, e, "venue %s has no signing key: run tingzi-hub venues rotate-key %s first", venue, venue);
		goto out;
	}
	if (e != HUB_OK)
		goto out;
	key_of(st, &key);
	sqlite3_reset(st);
	if (rq->member_uid) {
		int f = hsq_member_find(s, HSQ_BY_UID, rq->member_uid, NULL, &m);
		if (f < 0) {
			e = (hub_err)f;
			goto out;
		}
		if (!f || strcmp(m.venue, venue) != 0) {
			e = refuse(s, HUB_NOT_FOUND, "no member %s at venue %s", rq->member_uid, venue);
			goto out;
		}
		if (m.deleted || m.merged[0]) {
			e = refuse(s, HUB_INVALID, "member %s was %s%s", m.uid, m.deleted ? "deleted" : "merged into ",
				   m.deleted ? "" : m.merged);
			goto out;
		}
		cpy(uid, sizeof uid, m.uid);
	} else {
		/* a sign-up: a phone that is a member's already gets nothing here */
		int f = hsq_member_find(s, HSQ_BY_PHONE, venue, rq->phone, &m);
		if (f < 0) {
			e = (hub_err)f;
			goto out;
		}
		if (f) {
			e = refuse(s, HUB_EXISTS, "this phone is a member's already");
			goto out;
		}
		if (clock_new_id(uid) != 0) {
			e = refuse(s, HUB_ERR, "no randomness for a member id");
			goto out;
		}
		if ((e = hsq_member_insert(s, uid, venue, rq->name, rq->phone, NULL, "", "", 0, NULL, "signup",
					   rq->now_ms)) != HUB_OK)
			goto out;
		if ((f = hsq_member_find(s, HSQ_BY_UID, uid, NULL, &m)) != 1) {
			e = f < 0 ? (hub_err)f : refuse(s, HUB_ERR, "the new member is not there");
			goto out;
		}
	}
	uint32_t now_min = pass_minutes(rq->now_ms / 1000);
	hub_pass_state ps;
	if ((e = number_of(&c, venue, uid, now_min, &ps)) != HUB_OK)
		goto out;
	int canonical = 0;
	char why[200];
	if (hub_pass_code(m.code, ps.number, out->f.code, &canonical, why, sizeof why) != 0) {
		e = refuse(s, HUB_INVALID, "%s", why);
		goto out;
	}
	if (canonical && !m.code[0]) {
		/* the member's code becomes the pass's: a kiosk that meets the pass pushes the member
		 * with it, and the push merges that record into this member */
		mrow other;
		int f = hsq_member_find(s, HSQ_BY_CODE, venue, out->f.code, &other);
		if (f < 0) {
			e = (hub_err)f;
			goto out;
		}
		if (f) {
			e = refuse(s, HUB_INVALID, "code %s, this member's pass code, is another member's", out->f.code);
			goto out;
		}
		int64_t mseq = hsq_next_seq(s, venue, HUB_SET_MEMBERS, &e);
		if (e != HUB_OK)
			goto out;
		if (!(st = prep(&c, "UPDATE members SET code = ?2, seq = ?3, updated_ms = ?4 WHERE uid = ?1"))) {
			e = HUB_ERR;
			goto out;
		}
		bt(st, 1, uid);
		bt(st, 2, out->f.code);
		bi(st, 3, mseq);
		bi(st, 4, rq->now_ms);
		if ((e = done(s, st)) != HUB_OK)
			goto out;
	}
	out->f.tier = (unsigned)tier_index(&c, venue, m.tier, rq->now_ms, &e);
	if (e != HUB_OK)
		goto out;
	/* after a revocation, a new pass's minute is past it: the revocation says "at or before" */
	uint32_t issued = now_min > ps.revoked_before_min ? now_min : ps.revoked_before_min + 1;
	if (!(st = prep(&c, "UPDATE pass_members SET last_issued_min = max(last_issued_min, ?2) WHERE member_uid = ?1"))) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, uid);
	bi(st, 2, issued);
	if ((e = done(s, st)) != HUB_OK)
		goto out;
	uint8_t vuid[PASS_VENUE_BYTES];
	if (pass_uid_bytes(venue, vuid) != 0) {
		e = refuse(s, HUB_INVALID, "venue %s has no uid a pass can carry", venue);
		goto out;
	}
	int64_t day = pass_day_from_date(m.expires);
	out->f.key_id = key.kid;
	out->f.venue_tag = pass_venue_tag(vuid);
	out->f.issued_min = issued;
	out->f.expires_day = day > 0 ? (uint32_t)day : 0;
	out->f.number = ps.number;
	pass_greeting(m.name, out->f.greeting, sizeof out->f.greeting);
	if (rq->sign(rq->ctx, venue, &key, &out->f, out->text, why, sizeof why) != 0) {
		e = refuse(s, HUB_ERR, "%s", why);
		goto out;
	}
	/* what the pass says, as written (the greeting may have been cut to fit) */
	pass_read rd;
	if (pass_decode(out->text, strlen(out->text), &rd) == PASS_OK)
		out->f = rd.f;
	cpy(out->venue_id, sizeof out->venue_id, venue);
	cpy(out->member_uid, sizeof out->member_uid, uid);
	cpy(out->tier, sizeof out->tier, m.tier);
	cpy(out->expires, sizeof out->expires, m.expires);
	out->issued_ms = pass_minutes_unix(issued) * 1000;
	if (rq->address_hash) {
		if (!(st = prep(&c, "INSERT INTO pass_addresses(hash, venue_id, number, member_uid, pass, tier, expires,"
				    " issued_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"))) {
			e = HUB_ERR;
			goto out;
		}
		sqlite3_bind_blob(st, 1, rq->address_hash, HUB_HASH_LEN, SQLITE_STATIC);
		bt(st, 2, venue);
		bi(st, 3, ps.number);
		bt(st, 4, uid);
		bt(st, 5, out->text);
		bt(st, 6, m.tier);
		bt(st, 7, m.expires);
		bi(st, 8, rq->now_ms);
		e = done(s, st);
	}
out:
	calls_done(&c);
	e = end_tx(s, e);
	if (e != HUB_OK) {
		char keep[sizeof s->base.errmsg];
		memcpy(keep, s->base.errmsg, sizeof keep);
		memset(out, 0, sizeof *out);
		memcpy(s->base.errmsg, keep, sizeof keep);
	}
	return e;
}

static hub_err state_of(calls *c, const char *uid, hub_pass_state *out, char venue[HUB_ID_MAX])
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = prep(c, "SELECT p.number, p.last_issued_min, p.revoked_before, p.venue_id,"
				   " (SELECT count(*) FROM pass_addresses a WHERE a.venue_id = p.venue_id"
				   " AND a.number = p.number AND a.revoked_ms = 0)"
				   " FROM pass_members p WHERE p.member_uid = ?1");
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	hub_err e = row(c->s, st);
	if (e == HUB_NOT_FOUND)
		return refuse(c->s, e, "member %s has no pass", uid);
	if (e != HUB_OK)
		return e;
	out->number = (uint32_t)sqlite3_column_int64(st, 0);
	out->last_issued_min = (uint32_t)sqlite3_column_int64(st, 1);
	out->revoked_before_min = (uint32_t)sqlite3_column_int64(st, 2);
	cpy(venue, HUB_ID_MAX, ct(st, 3));
	out->addresses = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return HUB_OK;
}

static hub_err sq_state(hub_store *b, const char *uid, hub_pass_state *out)
{
	calls c = {.s = (sq *)b};
	char venue[HUB_ID_MAX];
	hub_err e = state_of(&c, uid, out, venue);
	calls_done(&c);
	return e;
}

static hub_err sq_revoke(hub_store *b, const char *uid, int64_t now, hub_pass_state *out)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	char venue[HUB_ID_MAX];
	if ((e = state_of(&c, uid, out, venue)) != HUB_OK)
		goto out;
	uint32_t now_min = pass_minutes(now / 1000);
	uint32_t before = out->last_issued_min > now_min ? out->last_issued_min : now_min;
	int64_t seq = next_seq(&c, venue, &e);
	if (e != HUB_OK)
		goto out;
	sqlite3_stmt *st = prep(&c, "UPDATE pass_members SET revoked_before = ?2, revoked_seq = ?3"
				    " WHERE member_uid = ?1");
	if (!st) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, uid);
	bi(st, 2, before);
	bi(st, 3, seq);
	if ((e = done(s, st)) != HUB_OK)
		goto out;
	if (!(st = prep(&c, "UPDATE pass_addresses SET revoked_ms = ?3 WHERE venue_id = ?1 AND number = ?2"
			    " AND revoked_ms = 0"))) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, venue);
	bi(st, 2, out->number);
	bi(st, 3, now);
	e = done(s, st);
	out->revoked_before_min = before;
	out->addresses = 0;
out:
	calls_done(&c);
	return end_tx(s, e);
}

static hub_err sq_address_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], hub_pass *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, "SELECT a.venue_id, a.member_uid, a.pass, a.tier, a.expires, a.issued_ms"
				    " FROM pass_addresses a JOIN pass_members p ON p.venue_id = a.venue_id"
				    " AND p.number = a.number WHERE a.hash = ?1 AND a.revoked_ms = 0");
	if (!st)
		return HUB_ERR;
	sqlite3_bind_blob(st, 1, hash, HUB_HASH_LEN, SQLITE_STATIC);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		cpy(out->venue_id, sizeof out->venue_id, ct(st, 0));
		cpy(out->member_uid, sizeof out->member_uid, ct(st, 1));
		cpy(out->text, sizeof out->text, ct(st, 2));
		cpy(out->tier, sizeof out->tier, ct(st, 3));
		cpy(out->expires, sizeof out->expires, ct(st, 4));
		out->issued_ms = sqlite3_column_int64(st, 5);
		sqlite3_reset(st);
		pass_read rd;
		if (pass_decode(out->text, strlen(out->text), &rd) == PASS_OK)
			out->f = rd.f;
	} else if (e == HUB_NOT_FOUND) {
		refuse(s, e, "no such private address");
	}
	calls_done(&c);
	return e;
}

static hub_err sq_member_by_code(hub_store *b, const char *venue, const char *code, char uid[HUB_ID_MAX])
{
	sq *s = (sq *)b;
	mrow m;
	int f = hsq_member_find(s, HSQ_BY_CODE, venue, code, &m);
	if (f < 0)
		return (hub_err)f;
	if (!f)
		return refuse(s, HUB_NOT_FOUND, "no member with code %s", code);
	cpy(uid, HUB_ID_MAX, m.uid);
	return HUB_OK;
}

/* ---- sign-up pages ---- */

static hub_err sq_signup_set(hub_store *b, const hub_signup *su)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, "SELECT 1 FROM venues WHERE id = ?1");
	if (!st)
		e = HUB_ERR;
	else {
		bt(st, 1, su->venue_id);
		if ((e = row(s, st)) == HUB_OK)
			sqlite3_reset(st);
		else if (e == HUB_NOT_FOUND)
			refuse(s, e, "no venue %s", su->venue_id);
	}
	if (e == HUB_OK && !(st = prep(&c, "INSERT INTO pass_venues(venue_id, slug, enabled, terms, updated_ms)"
					   " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(venue_id) DO UPDATE SET"
					   " slug = excluded.slug, enabled = excluded.enabled, terms = excluded.terms,"
					   " updated_ms = excluded.updated_ms")))
		e = HUB_ERR;
	if (e == HUB_OK) {
		bt(st, 1, su->venue_id);
		bt(st, 2, su->slug);
		bi(st, 3, su->enabled ? 1 : 0);
		bt(st, 4, su->terms);
		bi(st, 5, su->updated_ms);
		if ((e = done(s, st)) == HUB_EXISTS)
			refuse(s, e, "the sign-up address /m/%s is another venue's", su->slug);
	}
	calls_done(&c);
	return end_tx(s, e);
}

static hub_err sq_signup_get(hub_store *b, const char *venue, const char *slug, hub_signup *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, venue ? "SELECT venue_id, slug, enabled, terms, updated_ms FROM pass_venues"
					    " WHERE venue_id = ?1 AND slug IS NOT NULL"
					  : "SELECT venue_id, slug, enabled, terms, updated_ms FROM pass_venues"
					    " WHERE slug = ?1");
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue ? venue : slug);
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		cpy(out->venue_id, sizeof out->venue_id, ct(st, 0));
		cpy(out->slug, sizeof out->slug, ct(st, 1));
		out->enabled = sqlite3_column_int(st, 2);
		cpy(out->terms, sizeof out->terms, ct(st, 3));
		out->updated_ms = sqlite3_column_int64(st, 4);
		sqlite3_reset(st);
	} else if (e == HUB_NOT_FOUND) {
		refuse(s, e, "no sign-up page");
	}
	calls_done(&c);
	return e;
}

/* ---- the passes data set ---- */

static hub_err sq_pull(hub_store *b, const char *venue, int64_t since, int limit, hub_page *out)
{
	sq *s = (sq *)b;
	memset(out, 0, sizeof *out);
	hub_err e = exec(s, "BEGIN");
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	int64_t last = 0;
	sqlite3_stmt *st = prep(&c, "SELECT last FROM set_seqs WHERE venue_id = ?1 AND data_set = 'passes'");
	if (!st) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, venue);
	if ((e = int_of(s, st, &last)) == HUB_NOT_FOUND)
		e = HUB_OK;
	if (e != HUB_OK)
		goto out;
	/* a cursor from before the sequence began, or past it (an older copy restored): a full snapshot */
	out->reset = since <= 0 || since > last;
	if (out->reset)
		since = 0;
	sqlite3_stmt *tiers = prep(&c, "SELECT name FROM pass_tiers WHERE venue_id = ?1 ORDER BY idx");
	if (!(st = prep(&c, "SELECT seq, 0, kid, public_key, retired_ms FROM pass_keys WHERE venue_id = ?1 AND seq > ?2"
			    " UNION ALL SELECT tiers_seq, 1, 0, NULL, 0 FROM pass_venues"
			    " WHERE venue_id = ?1 AND tiers_seq > ?2"
			    " UNION ALL SELECT revoked_seq, 2, number, NULL, revoked_before FROM pass_members"
			    " WHERE venue_id = ?1 AND revoked_seq > ?2 ORDER BY 1 LIMIT ?3")) ||
	    !tiers) {
		e = HUB_ERR;
		goto out;
	}
	bt(st, 1, venue);
	bi(st, 2, since);
	bi(st, 3, (int64_t)limit + 1);
	out->items = json_array();
	out->next = since;
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			out->more = 1;
			break;
		}
		json_t *it = NULL;
		int kind = sqlite3_column_int(st, 1);
		if (kind == 0) {
			char hex[2 * PASS_PUBLIC_BYTES + 1] = "";
			if (sqlite3_column_bytes(st, 3) == PASS_PUBLIC_BYTES)
				sodium_bin2hex(hex, sizeof hex, sqlite3_column_blob(st, 3), PASS_PUBLIC_BYTES);
			it = json_pack("{s:s,s:i,s:s,s:b}", "kind", "key", "kid", sqlite3_column_int(st, 2), "public", hex,
				       "retired", sqlite3_column_int64(st, 4) != 0);
		} else if (kind == 1) {
			json_t *names = json_array();
			bt(tiers, 1, venue);
			int trc;
			while ((trc = sqlite3_step(tiers)) == SQLITE_ROW)
				json_array_append_new(names, json_string(ct(tiers, 0)));
			if ((e = ended(s, tiers, trc)) != HUB_OK) {
				json_decref(names);
				break;
			}
			it = json_pack("{s:s,s:o}", "kind", "tiers", "tiers", names);
		} else {
			it = json_pack("{s:s,s:I,s:I}", "kind", "revoked", "number",
				       (json_int_t)sqlite3_column_int64(st, 2), "before",
				       (json_int_t)sqlite3_column_int64(st, 4));
		}
		out->next = sqlite3_column_int64(st, 0);
		json_array_append_new(out->items, it);
		n++;
	}
	if (e == HUB_OK)
		e = ended(s, st, rc);
	else
		sqlite3_reset(st);
	if (n == 0 && out->reset)
		out->next = 0;
out:
	calls_done(&c);
	if (e != HUB_OK) {
		json_decref(out->items);
		out->items = NULL;
		return rollback(s, e);
	}
	exec(s, "COMMIT");
	return HUB_OK;
}

const hub_pass_ops hsq_pass_ops = {
    .keys_each = sq_keys_each,
    .key_add = sq_key_add,
    .issue = sq_issue,
    .revoke = sq_revoke,
    .state = sq_state,
    .address_get = sq_address_get,
    .member_by_code = sq_member_by_code,
    .signup_set = sq_signup_set,
    .signup_get = sq_signup_get,
    .pull = sq_pull,
};
