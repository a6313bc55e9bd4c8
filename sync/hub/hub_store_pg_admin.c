/*
 * hub_store_pg_admin — the PostgreSQL store's venues, devices and
 * enrolment, the members CSV, the events and links of the admin commands,
 * live codes and the export; and the member and event rows a push writes
 * too (see hub_store_pg_impl.h; the SQLite twin is hub_store_sqlite_admin.c,
 * whose rules these keep).
 */
#include "sync/clock.h"
#include "sync/hub/hub_store_pg_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	Q_SEQ_NEXT,
	Q_MEMBER_BY_UID,
	Q_MEMBER_BY_PHONE,
	Q_MEMBER_BY_CODE,
	Q_MEMBER_INSERT,
	Q_EVENT_INSERT,
	Q_VENUE_ADD,
	Q_VENUE_GET,
	Q_VENUES,
	Q_CODE_ADD,
	Q_CODE_USE,
	Q_DEVICE_GET,
	Q_DEVICE_PUT,
	Q_DEVICES,
	Q_DEVICE_REVOKE,
	Q_MEMBER_UPDATE,
	Q_LINK_INSERT,
	Q_LINK_CLEAR_DEFAULT,
	Q_LIVE_LINKS,
	Q_LIVE_COUNT,
	Q_SLUG_KNOWN,
	Q_SLUG_ELSEWHERE,
	Q_EXPORT,
	Q_RECORDS_EXPORT,
	Q_VENUE_LOCK,
	Q_MEMBERS_LOCK,
	Q_MEMBERS_SEQ_SET,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_SEQ_NEXT] = "INSERT INTO set_seqs(venue_id, data_set, last) VALUES($1, $2, 1)"
		   " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = set_seqs.last + 1 RETURNING last",
    [Q_MEMBER_BY_UID] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rid,"
			" origin_device FROM members WHERE uid = $1",
    [Q_MEMBER_BY_PHONE] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rid"
			  " FROM members WHERE venue_id = $1 AND phone = $2 AND deleted = 0 AND merged_into IS NULL",
    [Q_MEMBER_BY_CODE] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rid"
			 " FROM members WHERE venue_id = $1 AND code = $2 AND deleted = 0 AND merged_into IS NULL",
    [Q_MEMBER_INSERT] = "INSERT INTO members(uid, venue_id, name, phone, code, tier, expires, provisional,"
			" merged_into, seq, origin_device, created_ms, updated_ms)"
			" VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    [Q_EVENT_INSERT] = "INSERT INTO events(uid, venue_id, title, start_ms, end_ms, seq, origin_device, created_ms)"
		       " VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
    [Q_VENUE_ADD] = "INSERT INTO venues(id, name, tz, slug, created_ms) VALUES($1, $2, $3, $4, $5)",
    [Q_VENUE_GET] = "SELECT id, name, tz, slug, created_ms FROM venues WHERE id = $1",
    [Q_VENUES] = "SELECT id, name, tz, slug, created_ms FROM venues ORDER BY created_ms, id",
    [Q_CODE_ADD] = "INSERT INTO enroll_codes(code_hash, venue_id, created_ms, expires_ms) VALUES($1, $2, $3, $4)",
    /* one statement: of two nodes using the same code at once, the second finds it used */
    [Q_CODE_USE] = "UPDATE enroll_codes SET used_ms = $2, device_id = $3 WHERE code_hash = $1"
		   " AND used_ms IS NULL AND expires_ms > $2 RETURNING venue_id",
    [Q_DEVICE_GET] = "SELECT id, venue_id, name, public_key, token_hash, enrolled_ms, coalesce(revoked_ms, 0),"
		     " coalesce(last_seen_ms, 0), offset_ms FROM devices WHERE id = $1",
    [Q_DEVICE_PUT] = "INSERT INTO devices(id, venue_id, name, public_key, token_hash, enrolled_ms)"
		     " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(id) DO UPDATE SET venue_id = excluded.venue_id,"
		     " name = excluded.name, public_key = excluded.public_key, token_hash = excluded.token_hash,"
		     " enrolled_ms = excluded.enrolled_ms, revoked_ms = NULL, last_seen_ms = NULL, offset_ms = 0"
		     " WHERE devices.revoked_ms IS NOT NULL",
    [Q_DEVICES] = "SELECT id, venue_id, name, public_key, token_hash, enrolled_ms, coalesce(revoked_ms, 0),"
		  " coalesce(last_seen_ms, 0), offset_ms FROM devices WHERE $1::text IS NULL OR venue_id = $1"
		  " ORDER BY enrolled_ms, id",
    [Q_DEVICE_REVOKE] = "UPDATE devices SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
    [Q_MEMBER_UPDATE] = "UPDATE members SET name = $2, phone = $3, code = $4, tier = $5, expires = $6,"
			" seq = $7, updated_ms = $8 WHERE uid = $1",
    [Q_LINK_INSERT] = "INSERT INTO links(uid, venue_id, platform, label, url, expires_ms, cap, event_uid,"
		      " is_default, slug, seq, created_ms)"
		      " VALUES($1, $2, $3, $4, $5, nullif($6::bigint, 0), nullif($7::bigint, 0), $8, $9, $10, $11, $12)",
    [Q_LINK_CLEAR_DEFAULT] = "UPDATE links SET is_default = 0, seq = $2 WHERE venue_id = $1 AND is_default = 1",
    [Q_LIVE_LINKS] = "SELECT uid, url, coalesce(expires_ms, 0), coalesce(cap, 0), redirects FROM links"
		     " WHERE slug = $1 AND deleted = 0 ORDER BY created_ms, rid",
    /* counted only while still under its cap and unexpired, as PostgreSQL sees the row after any wait:
     * redirects on several nodes at once never pass the cap */
    [Q_LIVE_COUNT] = "UPDATE links SET redirects = redirects + 1 WHERE uid = $1 AND deleted = 0"
		     " AND (expires_ms IS NULL OR expires_ms > $2) AND (cap IS NULL OR redirects < cap) RETURNING url",
    [Q_SLUG_KNOWN] = "SELECT 1 FROM venues WHERE slug = $1 UNION ALL SELECT 1 FROM links WHERE slug = $1 LIMIT 1",
    [Q_SLUG_ELSEWHERE] = "SELECT 1 FROM venues WHERE slug = $1 AND id <> $2 UNION ALL"
			 " SELECT 1 FROM links WHERE slug = $1 AND venue_id <> $2 LIMIT 1",
    [Q_EXPORT] = HPG_CHECKIN_SELECT " WHERE c.venue_id = $1 ORDER BY c.rid",
    [Q_RECORDS_EXPORT] = "SELECT id, kind, device_id, session, action, detail, checkin, reason, wall_ms, seq,"
			 " received_ms FROM records WHERE venue_id = $1 ORDER BY rid",
    /* a venue's links change one writer at a time (the slug check and the insert) */
    [Q_VENUE_LOCK] = "SELECT 1 FROM venues WHERE id = $1 FOR UPDATE",
    [Q_MEMBERS_LOCK] = "INSERT INTO set_seqs(venue_id, data_set, last) VALUES($1, 'members', 0)"
		       " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = set_seqs.last RETURNING last",
    [Q_MEMBERS_SEQ_SET] = "UPDATE set_seqs SET last = $2 WHERE venue_id = $1 AND data_set = 'members'",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *q(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_ADMIN, which, sql[which], a, e);
}

static hub_err qdo(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_ADMIN, which, sql[which], a, changed);
}

/* ---- rows push writes too ---- */

int64_t hpg_next_seq(pg *s, const char *venue, hub_set set, hub_err *err)
{
	/* an import holds its venue's members row from its start: it counts on its own and writes the last
	 * value once, at its commit (one row updated 100 000 times in a transaction is slow to find again) */
	if (s->importing && set == HUB_SET_MEMBERS && strcmp(venue, s->import_venue) == 0) {
		*err = HUB_OK;
		return ++s->import_seq;
	}
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, hub_set_name(set));
	PGresult *r = q(s, Q_SEQ_NEXT, &a, err);
	if (!r)
		return 0;
	int64_t v = hpg_int(r, 0, 0);
	PQclear(r);
	return v;
}

int hpg_member_find(pg *s, hpg_by by, const char *a, const char *b2, pmrow *m)
{
	static const int which[] = {[HPG_BY_UID] = Q_MEMBER_BY_UID, [HPG_BY_PHONE] = Q_MEMBER_BY_PHONE,
				   [HPG_BY_CODE] = Q_MEMBER_BY_CODE};
	hpg_args p = {0};
	hpg_t(&p, a);
	if (by != HPG_BY_UID)
		hpg_t(&p, b2);
	hub_err e;
	PGresult *r = q(s, which[by], &p, &e);
	if (!r)
		return e;
	int found = PQntuples(r) > 0;
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
		hpg_cpy(m->origin, sizeof m->origin, PQnfields(r) > 10 ? hpg_txt(r, 0, 10) : "");
	}
	PQclear(r);
	return found;
}

hub_err hpg_member_insert(pg *s, const char *uid, const char *venue, const char *name, const char *phone,
			  const char *code, const char *tier, const char *expires, int provisional,
			  const char *merged_into, const char *device, int64_t now)
{
	hub_err e = HUB_OK;
	int64_t seq = hpg_next_seq(s, venue, HUB_SET_MEMBERS, &e);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hpg_t(&a, venue);
	hpg_t(&a, name);
	hpg_t(&a, phone && phone[0] ? phone : NULL);
	hpg_t(&a, code && code[0] ? code : NULL);
	hpg_t(&a, tier ? tier : "");
	hpg_t(&a, expires ? expires : "");
	hpg_i(&a, provisional);
	hpg_t(&a, merged_into);
	hpg_i(&a, seq);
	hpg_t(&a, device);
	hpg_i(&a, now);
	return qdo(s, Q_MEMBER_INSERT, &a, NULL);
}

hub_err hpg_event_insert(pg *s, const char *uid, const char *venue, const char *title, int64_t start,
			 int64_t end, const char *device, int64_t now)
{
	hub_err e = HUB_OK;
	int64_t seq = hpg_next_seq(s, venue, HUB_SET_EVENTS, &e);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, uid);
	hpg_t(&a, venue);
	hpg_t(&a, title);
	hpg_i(&a, start);
	hpg_i(&a, end);
	hpg_i(&a, seq);
	hpg_t(&a, device);
	hpg_i(&a, now);
	return qdo(s, Q_EVENT_INSERT, &a, NULL);
}

/* ---- venues ---- */

static void venue_row(const PGresult *r, int i, hub_venue *v)
{
	hpg_cpy(v->id, sizeof v->id, hpg_txt(r, i, 0));
	hpg_cpy(v->name, sizeof v->name, hpg_txt(r, i, 1));
	hpg_cpy(v->tz, sizeof v->tz, hpg_txt(r, i, 2));
	hpg_cpy(v->slug, sizeof v->slug, hpg_txt(r, i, 3));
	v->created_ms = hpg_int(r, i, 4);
}

hub_err hpg_venue_add(hub_store *b, const char *name, const char *tz, int64_t now, hub_venue *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	char rnd[HUB_ID_MAX];
	if (clock_new_id(out->id) != 0 || clock_new_id(rnd) != 0)
		return HUB_ERR;
	hpg_cpy(out->name, sizeof out->name, name);
	hpg_cpy(out->tz, sizeof out->tz, tz);
	snprintf(out->slug, sizeof out->slug, "%.10s", rnd);
	out->created_ms = now;
	hpg_args a = {0};
	hpg_t(&a, out->id);
	hpg_t(&a, out->name);
	hpg_t(&a, out->tz);
	hpg_t(&a, out->slug);
	hpg_i(&a, now);
	return qdo(s, Q_VENUE_ADD, &a, NULL);
}

hub_err hpg_venue_get(hub_store *b, const char *id, hub_venue *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e;
	PGresult *r = q(s, Q_VENUE_GET, &a, &e);
	if (!r)
		return e;
	e = PQntuples(r) ? HUB_OK : HUB_NOT_FOUND;
	if (e == HUB_OK)
		venue_row(r, 0, out);
	PQclear(r);
	return e;
}

hub_err hpg_venues_each(hub_store *b, int (*fn)(const hub_venue *v, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hub_err e;
	PGresult *r = q(s, Q_VENUES, NULL, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_venue v;
		venue_row(r, i, &v);
		if (fn(&v, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

/* ---- devices ---- */

hub_err hpg_code_add(hub_store *b, const char *venue, const unsigned char hash[HUB_HASH_LEN], int64_t expires_ms,
		     int64_t now)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_b(&a, hash, HUB_HASH_LEN);
	hpg_t(&a, venue);
	hpg_i(&a, now);
	hpg_i(&a, expires_ms);
	return qdo(s, Q_CODE_ADD, &a, NULL);
}

static void device_row(const PGresult *r, int i, hub_device *d)
{
	memset(d, 0, sizeof *d);
	hpg_cpy(d->id, sizeof d->id, hpg_txt(r, i, 0));
	hpg_cpy(d->venue_id, sizeof d->venue_id, hpg_txt(r, i, 1));
	hpg_cpy(d->name, sizeof d->name, hpg_txt(r, i, 2));
	hpg_cpy(d->public_key, sizeof d->public_key, hpg_txt(r, i, 3));
	unsigned char h[HUB_HASH_LEN];
	if (hpg_bytes(r, i, 4, h, sizeof h) == HUB_HASH_LEN)
		memcpy(d->token_hash, h, HUB_HASH_LEN);
	d->enrolled_ms = hpg_int(r, i, 5);
	d->revoked_ms = hpg_int(r, i, 6);
	d->last_seen_ms = hpg_int(r, i, 7);
	d->offset_ms = hpg_int(r, i, 8);
}

hub_err hpg_enroll(hub_store *b, const unsigned char code_hash[HUB_HASH_LEN], const hub_device *dev, int64_t now,
		   hub_venue *venue)
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_b(&a, code_hash, HUB_HASH_LEN);
	hpg_i(&a, now);
	hpg_t(&a, dev->id);
	PGresult *r = q(s, Q_CODE_USE, &a, &e);
	if (!r)
		return hpg_rollback(s, e);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return hpg_rollback(s, HUB_CODE_INVALID);
	}
	char vid[HUB_ID_MAX];
	hpg_cpy(vid, sizeof vid, hpg_txt(r, 0, 0));
	PQclear(r);
	hpg_args d = {0};
	hpg_t(&d, dev->id);
	hpg_t(&d, vid);
	hpg_t(&d, dev->name);
	hpg_t(&d, dev->public_key);
	hpg_b(&d, dev->token_hash, HUB_HASH_LEN);
	hpg_i(&d, now);
	int64_t changed = 0;
	if ((e = qdo(s, Q_DEVICE_PUT, &d, &changed)) != HUB_OK)
		return hpg_rollback(s, e);
	if (changed == 0)
		return hpg_rollback(s, hpg_refuse(s, HUB_EXISTS, "device %s is already enrolled", dev->id));
	if ((e = hpg_venue_get(b, vid, venue)) != HUB_OK)
		return hpg_rollback(s, e);
	return hpg_commit(s);
}

hub_err hpg_device_get(hub_store *b, const char *id, hub_device *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e;
	PGresult *r = q(s, Q_DEVICE_GET, &a, &e);
	if (!r)
		return e;
	e = PQntuples(r) ? HUB_OK : HUB_NOT_FOUND;
	if (e == HUB_OK)
		device_row(r, 0, out);
	PQclear(r);
	return e;
}

hub_err hpg_devices_each(hub_store *b, const char *venue, int (*fn)(const hub_device *d, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e;
	PGresult *r = q(s, Q_DEVICES, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_device d;
		device_row(r, i, &d);
		if (fn(&d, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_device_revoke(hub_store *b, const char *id, int64_t now)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_i(&a, now);
	int64_t changed = 0;
	hub_err e = qdo(s, Q_DEVICE_REVOKE, &a, &changed);
	if (e == HUB_OK && changed == 0) {
		hub_device d;
		e = hpg_device_get(b, id, &d) == HUB_OK ? HUB_EXISTS : HUB_NOT_FOUND;
	}
	return e;
}

/* ---- the members CSV ---- */

hub_err hpg_members_begin(hub_store *b, const char *venue)
{
	pg *s = (pg *)b;
	hpg_cpy(s->import_venue, sizeof s->import_venue, venue);
	s->import_rows = 0;
	s->importing = 0;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	/* the venue's members sequence row, first: a merge cannot move a member the import then finds by
	 * phone or code and changes (see push_once() in hub_store_pg.c) */
	hpg_args a = {0};
	hpg_t(&a, venue);
	PGresult *r = q(s, Q_MEMBERS_LOCK, &a, &e);
	if (!r)
		return hpg_rollback(s, e);
	/* counted on from here (hpg_next_seq), written back at the commit */
	s->import_seq = s->import_seq0 = hpg_int(r, 0, 0);
	s->importing = 1;
	PQclear(r);
	return HUB_OK;
}

int hpg_members_row(hub_store *b, const store_member *m, int *how, char *why, size_t len, int64_t now)
{
	pg *s = (pg *)b;
	const char *v = s->import_venue;
	/*
	 * A members table PostgreSQL has not measured yet (a new hub's first
	 * import) would have the lookups below read the venue's every member
	 * (another partial index looks as good to the planner): measured after a
	 * few hundred rows, and again when it has grown, each lookup is one index
	 * probe. ANALYZE sees this transaction's own rows.
	 */
	if (++s->import_rows == 300 || s->import_rows == 5000 || s->import_rows == 50000) {
		hub_err ae = hpg_exec(s, "ANALYZE members");
		if (ae != HUB_OK) {
			snprintf(why, len, "%s", s->base.errmsg);
			return -1;
		}
	}
	pmrow by_code = {0}, by_phone = {0};
	int fc = m->code[0] ? hpg_member_find(s, HPG_BY_CODE, v, m->code, &by_code) : 0;
	int fp = m->phone[0] ? hpg_member_find(s, HPG_BY_PHONE, v, m->phone, &by_phone) : 0;
	if (fc < 0 || fp < 0) {
		snprintf(why, len, "%s", s->base.errmsg);
		return -1;
	}
	const pmrow *found;
	const char *phone = NULL, *code = NULL;
	hub_import_step step = hub_import_decide(m, fc ? &by_code : NULL, fp ? &by_phone : NULL, &found, &phone, &code,
						 why, len);
	if (step == HUB_IMPORT_REFUSED)
		return 1;
	if (step == HUB_IMPORT_UNCHANGED) {
		*how = STORE_IMPORT_UNCHANGED;
		return 0;
	}
	hub_err e;
	if (step == HUB_IMPORT_ADD) {
		char uid[HUB_ID_MAX];
		if (clock_new_id(uid) != 0)
			return HUB_ERR;
		e = hpg_member_insert(s, uid, v, m->name, m->phone, m->code, m->tier, m->expires, 0, NULL, NULL, now);
		*how = STORE_IMPORT_ADDED;
	} else {
		e = HUB_OK;
		int64_t seq = hpg_next_seq(s, v, HUB_SET_MEMBERS, &e);
		if (e == HUB_OK) {
			hpg_args a = {0};
			hpg_t(&a, found->uid);
			hpg_t(&a, m->name);
			hpg_t(&a, phone[0] ? phone : NULL);
			hpg_t(&a, code[0] ? code : NULL);
			hpg_t(&a, m->tier);
			hpg_t(&a, m->expires);
			hpg_i(&a, seq);
			hpg_i(&a, now);
			e = qdo(s, Q_MEMBER_UPDATE, &a, NULL);
		}
		if (e == HUB_OK)
			e = hpg_dash_member_changed(s, found->uid);
		*how = STORE_IMPORT_UPDATED;
	}
	if (e != HUB_OK) {
		snprintf(why, len, "%s", s->base.errmsg);
		/* a row a constraint refuses leaves PostgreSQL's transaction aborted: the import cannot go on */
		return -1;
	}
	return 0;
}

hub_err hpg_members_commit(hub_store *b)
{
	pg *s = (pg *)b;
	hub_err e = HUB_OK;
	if (s->import_seq != s->import_seq0) {
		hpg_args a = {0};
		hpg_t(&a, s->import_venue);
		hpg_i(&a, s->import_seq);
		e = qdo(s, Q_MEMBERS_SEQ_SET, &a, NULL);
	}
	s->importing = 0;
	return hpg_end(s, e);
}

void hpg_members_rollback(hub_store *b)
{
	pg *s = (pg *)b;
	s->importing = 0;
	hpg_rollback(s, HUB_OK);
}

/* ---- events and links ---- */

hub_err hpg_event_add(hub_store *b, const char *venue, const char *title, int64_t start, int64_t end, int64_t now,
		      char uid[HUB_ID_MAX])
{
	pg *s = (pg *)b;
	if (clock_new_id(uid) != 0)
		return HUB_ERR;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, hpg_event_insert(s, uid, venue, title, start, end, NULL, now));
}

hub_err hpg_link_add(hub_store *b, const hub_link_new *l, int64_t now, char uid[HUB_ID_MAX])
{
	pg *s = (pg *)b;
	if (clock_new_id(uid) != 0)
		return HUB_ERR;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	hpg_args v = {0};
	hpg_t(&v, l->venue_id);
	if ((e = qdo(s, Q_VENUE_LOCK, &v, NULL)) != HUB_OK)
		return hpg_rollback(s, e);
	/* a slug is one venue's: another's link under it would take over that venue's printed codes */
	hpg_args a = {0};
	hpg_t(&a, l->slug);
	hpg_t(&a, l->venue_id);
	PGresult *r = q(s, Q_SLUG_ELSEWHERE, &a, &e);
	if (!r)
		return hpg_rollback(s, e);
	int taken = PQntuples(r) > 0;
	PQclear(r);
	if (taken)
		return hpg_rollback(s, hpg_refuse(s, HUB_EXISTS, "another venue uses the live code %s", l->slug));
	int64_t seq;
	if (l->is_default) {
		seq = hpg_next_seq(s, l->venue_id, HUB_SET_LINKS, &e);
		hpg_args c = {0};
		hpg_t(&c, l->venue_id);
		hpg_i(&c, seq);
		if (e != HUB_OK || (e = qdo(s, Q_LINK_CLEAR_DEFAULT, &c, NULL)) != HUB_OK)
			return hpg_rollback(s, e);
	}
	seq = hpg_next_seq(s, l->venue_id, HUB_SET_LINKS, &e);
	if (e != HUB_OK)
		return hpg_rollback(s, e);
	hpg_args i = {0};
	hpg_t(&i, uid);
	hpg_t(&i, l->venue_id);
	hpg_t(&i, l->platform);
	hpg_t(&i, l->label);
	hpg_t(&i, l->url);
	hpg_i(&i, l->expires_ms);
	hpg_i(&i, l->cap);
	hpg_t(&i, l->event_uid);
	hpg_i(&i, l->is_default);
	hpg_t(&i, l->slug);
	hpg_i(&i, seq);
	hpg_i(&i, now);
	return hpg_end(s, qdo(s, Q_LINK_INSERT, &i, NULL));
}

/*
 * The first of the slug's links that is unexpired and under its cap is
 * counted and followed. Its count is taken by one UPDATE that checks the cap
 * again on the newest row: when another node took the last place meanwhile,
 * the next link is tried.
 */
static hub_err live_once(pg *s, const char *slug, const char *ref, int64_t now, char url[HUB_URL_MAX])
{
	hpg_args a = {0};
	hpg_t(&a, slug);
	hub_err e;
	PGresult *r = q(s, Q_LIVE_LINKS, &a, &e);
	if (!r)
		return e;
	int counted = 0;
	for (int i = 0; i < PQntuples(r) && !counted; i++) {
		int64_t exp = hpg_int(r, i, 2), cap = hpg_int(r, i, 3), used = hpg_int(r, i, 4);
		if (!((exp == 0 || exp > now) && (cap == 0 || used < cap)))
			continue;
		hpg_args c = {0};
		hpg_t(&c, hpg_txt(r, i, 0));
		hpg_i(&c, now);
		PGresult *u = q(s, Q_LIVE_COUNT, &c, &e);
		if (!u) {
			PQclear(r);
			return e;
		}
		if (PQntuples(u) == 1) {
			hpg_cpy(url, HUB_URL_MAX, hpg_txt(u, 0, 0));
			counted = 1;
		}
		PQclear(u);
	}
	PQclear(r);
	if (counted)
		return hpg_dash_live(s, slug, ref, 1, now);
	if (!(r = q(s, Q_SLUG_KNOWN, &a, &e)))
		return e;
	int known = PQntuples(r) > 0;
	PQclear(r);
	if (!known)
		return HUB_NOT_FOUND;
	/* a miss is kept for the dashboard: someone scanned and found no group */
	e = hpg_dash_live(s, slug, ref, 0, now);
	return e == HUB_OK ? HUB_INVALID : e;
}

hub_err hpg_live(hub_store *b, const char *slug, const char *ref, int64_t now, char url[HUB_URL_MAX])
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	e = live_once(s, slug, ref, now, url);
	if (e == HUB_INVALID) /* a miss, counted: kept */
		return (e = hpg_commit(s)) == HUB_OK ? HUB_INVALID : e;
	return hpg_end(s, e);
}

/* ---- export ---- */

void hpg_checkins_of(const PGresult *r, int (*fn)(const hub_checkin_row *row, void *ctx), void *ctx)
{
	for (int i = 0; i < PQntuples(r); i++) {
		hub_checkin_row c = {
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
		if (fn(&c, ctx))
			break;
	}
}

/* What an export hands each page of rows to, and whether it asked to stop. */
typedef struct export_to {
	int (*checkin)(const hub_checkin_row *r, void *ctx);
	int (*record)(const hub_record_row *r, void *ctx);
	void *ctx;
	int stop;
} export_to;

static int checkin_stop(const hub_checkin_row *r, void *ctx)
{
	export_to *w = ctx;
	return w->stop = w->checkin(r, w->ctx);
}

static void export_page(const PGresult *r, export_to *w)
{
	if (w->checkin) {
		hpg_checkins_of(r, checkin_stop, w);
		return;
	}
	for (int i = 0; i < PQntuples(r) && !w->stop; i++) {
		hub_record_row x = {
		    .id = hpg_txt(r, i, 0),
		    .kind = hpg_txt(r, i, 1),
		    .device_id = hpg_txt(r, i, 2),
		    .session = hpg_opt(r, i, 3),
		    .action = hpg_opt(r, i, 4),
		    .detail = hpg_opt(r, i, 5),
		    .checkin = hpg_opt(r, i, 6),
		    .reason = hpg_opt(r, i, 7),
		    .wall_ms = hpg_int(r, i, 8),
		    .seq = hpg_null(r, i, 9) ? -1 : hpg_int(r, i, 9),
		    .received_ms = hpg_int(r, i, 10),
		};
		w->stop = w->record(&x, w->ctx);
	}
}

/*
 * The export reads a cursor, a few thousand rows at a time, so a venue's
 * millions of check-ins never sit in memory at once.
 */
static hub_err export_cursor(pg *s, const char *select, const char *venue, export_to *w)
{
	hub_err e = hpg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (e != HUB_OK)
		return e;
	s->in_tx = 1;
	const char *vals[1] = {venue};
	char *text = malloc(strlen(select) + 64);
	if (!text)
		return hpg_rollback(s, hpg_refuse(s, HUB_ERR, "out of memory"));
	sprintf(text, "DECLARE export NO SCROLL CURSOR FOR %s", select);
	PGresult *r = PQexecParams(s->conn, text, 1, NULL, vals, NULL, NULL, 0);
	free(text);
	while (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK) {
		int rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
		if (rows > 0)
			export_page(r, w);
		PQclear(r);
		if (rows == 0 || w->stop)
			return hpg_commit(s);
		r = PQexec(s->conn, "FETCH 5000 FROM export");
	}
	hpg_refuse(s, HUB_ERR, "%s", PQresultErrorMessage(r));
	s->base.errmsg[strcspn(s->base.errmsg, "\n")] = '\0';
	PQclear(r);
	return hpg_rollback(s, PQstatus(s->conn) == CONNECTION_OK ? HUB_ERR : HUB_DOWN);
}

hub_err hpg_checkins_each(hub_store *b, const char *venue, int (*fn)(const hub_checkin_row *r, void *ctx),
			  void *ctx)
{
	export_to w = {.checkin = fn, .ctx = ctx};
	return export_cursor((pg *)b, sql[Q_EXPORT], venue, &w);
}

hub_err hpg_records_each(hub_store *b, const char *venue, int (*fn)(const hub_record_row *r, void *ctx), void *ctx)
{
	export_to w = {.record = fn, .ctx = ctx};
	return export_cursor((pg *)b, sql[Q_RECORDS_EXPORT], venue, &w);
}
