/*
 * hub_store_sqlite_admin — the SQLite store's venues, devices and enrolment,
 * the members CSV, the events and links of the admin commands, live codes
 * and the export; and the member and event rows a push writes too (see
 * hub_store_sqlite_impl.h).
 */
#include "sync/clock.h"
#include "sync/hub/hub_store_sqlite_impl.h"

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
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_SEQ_NEXT] = "INSERT INTO set_seqs(venue_id, data_set, last) VALUES(?1, ?2, 1)"
		   " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = last + 1 RETURNING last",
    [Q_MEMBER_BY_UID] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires, rowid,"
			" origin_device FROM members WHERE uid = ?1",
    [Q_MEMBER_BY_PHONE] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires"
			  " FROM members WHERE venue_id = ?1 AND phone = ?2 AND deleted = 0 AND merged_into IS NULL",
    [Q_MEMBER_BY_CODE] = "SELECT uid, venue_id, merged_into, deleted, name, phone, code, tier, expires"
			 " FROM members WHERE venue_id = ?1 AND code = ?2 AND deleted = 0 AND merged_into IS NULL",
    [Q_MEMBER_INSERT] = "INSERT INTO members(uid, venue_id, name, phone, code, tier, expires, provisional,"
			" merged_into, seq, origin_device, created_ms, updated_ms)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    [Q_EVENT_INSERT] = "INSERT INTO events(uid, venue_id, title, start_ms, end_ms, seq, origin_device, created_ms)"
		       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_VENUE_ADD] = "INSERT INTO venues(id, name, tz, slug, created_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_VENUE_GET] = "SELECT id, name, tz, slug, created_ms FROM venues WHERE id = ?1",
    [Q_VENUES] = "SELECT id, name, tz, slug, created_ms FROM venues ORDER BY created_ms, id",
    [Q_CODE_ADD] = "INSERT INTO enroll_codes(code_hash, venue_id, created_ms, expires_ms) VALUES(?1, ?2, ?3, ?4)",
    [Q_CODE_USE] = "UPDATE enroll_codes SET used_ms = ?2, device_id = ?3 WHERE code_hash = ?1"
		   " AND used_ms IS NULL AND expires_ms > ?2 RETURNING venue_id",
    [Q_DEVICE_GET] = "SELECT id, venue_id, name, public_key, token_hash, enrolled_ms, coalesce(revoked_ms, 0),"
		     " coalesce(last_seen_ms, 0), offset_ms FROM devices WHERE id = ?1",
    [Q_DEVICE_PUT] = "INSERT INTO devices(id, venue_id, name, public_key, token_hash, enrolled_ms)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET venue_id = excluded.venue_id,"
		     " name = excluded.name, public_key = excluded.public_key, token_hash = excluded.token_hash,"
		     " enrolled_ms = excluded.enrolled_ms, revoked_ms = NULL, last_seen_ms = NULL, offset_ms = 0"
		     " WHERE devices.revoked_ms IS NOT NULL",
    [Q_DEVICES] = "SELECT id, venue_id, name, public_key, token_hash, enrolled_ms, coalesce(revoked_ms, 0),"
		  " coalesce(last_seen_ms, 0), offset_ms FROM devices WHERE ?1 IS NULL OR venue_id = ?1"
		  " ORDER BY enrolled_ms, id",
    [Q_DEVICE_REVOKE] = "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
    [Q_MEMBER_UPDATE] = "UPDATE members SET name = ?2, phone = ?3, code = ?4, tier = ?5, expires = ?6,"
			" seq = ?7, updated_ms = ?8 WHERE uid = ?1",
    [Q_LINK_INSERT] = "INSERT INTO links(uid, venue_id, platform, label, url, expires_ms, cap, event_uid,"
		      " is_default, slug, seq, created_ms)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, nullif(?6, 0), nullif(?7, 0), ?8, ?9, ?10, ?11, ?12)",
    [Q_LINK_CLEAR_DEFAULT] = "UPDATE links SET is_default = 0, seq = ?2 WHERE venue_id = ?1 AND is_default = 1",
    [Q_LIVE_LINKS] = "SELECT uid, url, expires_ms, cap, redirects FROM links WHERE slug = ?1 AND deleted = 0"
		     " ORDER BY created_ms, rowid",
    [Q_LIVE_COUNT] = "UPDATE links SET redirects = redirects + 1 WHERE uid = ?1",
    [Q_SLUG_ELSEWHERE] = "SELECT 1 FROM venues WHERE slug = ?1 AND id <> ?2 UNION ALL"
			 " SELECT 1 FROM links WHERE slug = ?1 AND venue_id <> ?2 LIMIT 1",
    [Q_SLUG_KNOWN] = "SELECT 1 FROM venues WHERE slug = ?1 UNION ALL SELECT 1 FROM links WHERE slug = ?1 LIMIT 1",
    [Q_EXPORT] = HSQ_CHECKIN_SELECT " WHERE c.venue_id = ?1 ORDER BY c.rowid",
    [Q_RECORDS_EXPORT] = "SELECT id, kind, device_id, session, action, detail, checkin, reason, wall_ms, seq,"
			 " received_ms FROM records WHERE venue_id = ?1 ORDER BY rowid",
};
_Static_assert(Q_COUNT <= SQ_ADMIN_STMTS, "more statements than slots");

static sqlite3_stmt *q(sq *s, int which)
{
	return stmt(s, &s->admin[which], sql[which]);
}

static const char *const set_names[HUB_SET_COUNT] = {"members", "events", "links"};

const char *hub_set_name(hub_set set)
{
	return set_names[set];
}

int hub_set_parse(const char *name, hub_set *out)
{
	for (int i = 0; i < HUB_SET_COUNT; i++)
		if (strcmp(name, set_names[i]) == 0) {
			*out = (hub_set)i;
			return 0;
		}
	return -1;
}

/* ---- rows push writes too ---- */

int64_t hsq_next_seq(sq *s, const char *venue, hub_set set, hub_err *err)
{
	sqlite3_stmt *st = q(s, Q_SEQ_NEXT);
	if (!st) {
		*err = HUB_ERR;
		return 0;
	}
	bt(st, 1, venue);
	bt(st, 2, set_names[set]);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		*err = fail(s, rc);
		return 0;
	}
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int hsq_member_find(sq *s, hsq_by by, const char *a, const char *b2, mrow *m)
{
	static const int which[] = {[HSQ_BY_UID] = Q_MEMBER_BY_UID, [HSQ_BY_PHONE] = Q_MEMBER_BY_PHONE,
				   [HSQ_BY_CODE] = Q_MEMBER_BY_CODE};
	sqlite3_stmt *st = q(s, which[by]);
	if (!st)
		return HUB_ERR;
	bt(st, 1, a);
	if (b2)
		bt(st, 2, b2);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cpy(m->uid, sizeof m->uid, ct(st, 0));
		cpy(m->venue, sizeof m->venue, ct(st, 1));
		cpy(m->merged, sizeof m->merged, ct(st, 2));
		m->deleted = sqlite3_column_int(st, 3);
		cpy(m->name, sizeof m->name, ct(st, 4));
		cpy(m->phone, sizeof m->phone, ct(st, 5));
		cpy(m->code, sizeof m->code, ct(st, 6));
		cpy(m->tier, sizeof m->tier, ct(st, 7));
		cpy(m->expires, sizeof m->expires, ct(st, 8));
		m->rid = sqlite3_column_count(st) > 9 ? sqlite3_column_int64(st, 9) : 0;
		cpy(m->origin, sizeof m->origin, sqlite3_column_count(st) > 10 ? ct(st, 10) : "");
	}
	int r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : (int)fail(s, rc);
	sqlite3_reset(st);
	return r;
}

hub_err hsq_member_insert(sq *s, const char *uid, const char *venue, const char *name, const char *phone,
			  const char *code, const char *tier, const char *expires, int provisional,
			  const char *merged_into, const char *device, int64_t now)
{
	hub_err e = HUB_OK;
	int64_t seq = hsq_next_seq(s, venue, HUB_SET_MEMBERS, &e);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_MEMBER_INSERT);
	if (!st)
		return HUB_ERR;
	bt(st, 1, uid);
	bt(st, 2, venue);
	bt(st, 3, name);
	bt(st, 4, phone && phone[0] ? phone : NULL);
	bt(st, 5, code && code[0] ? code : NULL);
	bt(st, 6, tier ? tier : "");
	bt(st, 7, expires ? expires : "");
	bi(st, 8, provisional);
	bt(st, 9, merged_into);
	bi(st, 10, seq);
	bt(st, 11, device);
	bi(st, 12, now);
	return done(s, st);
}

hub_err hsq_event_insert(sq *s, const char *uid, const char *venue, const char *title, int64_t start,
			 int64_t end, const char *device, int64_t now)
{
	hub_err e = HUB_OK;
	int64_t seq = hsq_next_seq(s, venue, HUB_SET_EVENTS, &e);
	sqlite3_stmt *st = e == HUB_OK ? q(s, Q_EVENT_INSERT) : NULL;
	if (!st)
		return e == HUB_OK ? HUB_ERR : e;
	bt(st, 1, uid);
	bt(st, 2, venue);
	bt(st, 3, title);
	bi(st, 4, start);
	bi(st, 5, end);
	bi(st, 6, seq);
	bt(st, 7, device);
	bi(st, 8, now);
	return done(s, st);
}

/* ---- venues ---- */

static void venue_row(sqlite3_stmt *st, hub_venue *v)
{
	cpy(v->id, sizeof v->id, ct(st, 0));
	cpy(v->name, sizeof v->name, ct(st, 1));
	cpy(v->tz, sizeof v->tz, ct(st, 2));
	cpy(v->slug, sizeof v->slug, ct(st, 3));
	v->created_ms = sqlite3_column_int64(st, 4);
}

hub_err hsq_venue_add(hub_store *b, const char *name, const char *tz, int64_t now, hub_venue *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_VENUE_ADD);
	if (!st)
		return HUB_ERR;
	memset(out, 0, sizeof *out);
	char rnd[HUB_ID_MAX];
	if (clock_new_id(out->id) != 0 || clock_new_id(rnd) != 0)
		return HUB_ERR;
	cpy(out->name, sizeof out->name, name);
	cpy(out->tz, sizeof out->tz, tz);
	/* a short slug for the venue's live code: 10 hex digits of a fresh id */
	snprintf(out->slug, sizeof out->slug, "%.10s", rnd);
	out->created_ms = now;
	bt(st, 1, out->id);
	bt(st, 2, out->name);
	bt(st, 3, out->tz);
	bt(st, 4, out->slug);
	bi(st, 5, now);
	return done(s, st);
}

hub_err hsq_venue_get(hub_store *b, const char *id, hub_venue *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_VENUE_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		venue_row(st, out);
	hub_err e = rc == SQLITE_ROW ? HUB_OK : rc == SQLITE_DONE ? HUB_NOT_FOUND : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

hub_err hsq_venues_each(hub_store *b, int (*fn)(const hub_venue *v, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_VENUES);
	if (!st)
		return HUB_ERR;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_venue v;
		venue_row(st, &v);
		if (fn(&v, ctx))
			break;
	}
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

/* ---- devices ---- */

hub_err hsq_code_add(hub_store *b, const char *venue, const unsigned char hash[HUB_HASH_LEN],
		     int64_t expires_ms, int64_t now)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_CODE_ADD);
	if (!st)
		return HUB_ERR;
	sqlite3_bind_blob(st, 1, hash, HUB_HASH_LEN, SQLITE_STATIC);
	bt(st, 2, venue);
	bi(st, 3, now);
	bi(st, 4, expires_ms);
	return done(s, st);
}

static void device_row(sqlite3_stmt *st, hub_device *d)
{
	memset(d, 0, sizeof *d);
	cpy(d->id, sizeof d->id, ct(st, 0));
	cpy(d->venue_id, sizeof d->venue_id, ct(st, 1));
	cpy(d->name, sizeof d->name, ct(st, 2));
	cpy(d->public_key, sizeof d->public_key, ct(st, 3));
	if (sqlite3_column_bytes(st, 4) == HUB_HASH_LEN)
		memcpy(d->token_hash, sqlite3_column_blob(st, 4), HUB_HASH_LEN);
	d->enrolled_ms = sqlite3_column_int64(st, 5);
	d->revoked_ms = sqlite3_column_int64(st, 6);
	d->last_seen_ms = sqlite3_column_int64(st, 7);
	d->offset_ms = sqlite3_column_int64(st, 8);
}

hub_err hsq_enroll(hub_store *b, const unsigned char code_hash[HUB_HASH_LEN], const hub_device *dev,
		   int64_t now, hub_venue *venue)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_CODE_USE);
	if (!st)
		return rollback(s, HUB_ERR);
	sqlite3_bind_blob(st, 1, code_hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 2, now);
	bt(st, 3, dev->id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		e = rc == SQLITE_DONE ? HUB_CODE_INVALID : fail(s, rc);
		sqlite3_reset(st);
		return rollback(s, e);
	}
	char vid[HUB_ID_MAX];
	cpy(vid, sizeof vid, ct(st, 0));
	sqlite3_reset(st);
	if ((st = q(s, Q_DEVICE_PUT)) == NULL)
		return rollback(s, HUB_ERR);
	bt(st, 1, dev->id);
	bt(st, 2, vid);
	bt(st, 3, dev->name);
	bt(st, 4, dev->public_key);
	sqlite3_bind_blob(st, 5, dev->token_hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 6, now);
	if ((e = done(s, st)) != HUB_OK)
		return rollback(s, e);
	if (sqlite3_changes(s->db) == 0) {
		snprintf(s->base.errmsg, sizeof s->base.errmsg, "device %s is already enrolled", dev->id);
		return rollback(s, HUB_EXISTS);
	}
	if ((e = hsq_venue_get(b, vid, venue)) != HUB_OK)
		return rollback(s, e);
	return commit(s);
}

hub_err hsq_device_get(hub_store *b, const char *id, hub_device *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_DEVICE_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		device_row(st, out);
	hub_err e = rc == SQLITE_ROW ? HUB_OK : rc == SQLITE_DONE ? HUB_NOT_FOUND : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

hub_err hsq_devices_each(hub_store *b, const char *venue, int (*fn)(const hub_device *d, void *ctx),
			 void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_DEVICES);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_device d;
		device_row(st, &d);
		if (fn(&d, ctx))
			break;
	}
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

hub_err hsq_device_revoke(hub_store *b, const char *id, int64_t now)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_DEVICE_REVOKE);
	if (!st)
		return HUB_ERR;
	bt(st, 1, id);
	bi(st, 2, now);
	hub_err e = done(s, st);
	if (e == HUB_OK && sqlite3_changes(s->db) == 0) {
		hub_device d;
		e = hsq_device_get(b, id, &d) == HUB_OK ? HUB_EXISTS : HUB_NOT_FOUND;
	}
	return e;
}


hub_err hsq_members_begin(hub_store *b, const char *venue)
{
	sq *s = (sq *)b;
	cpy(s->import_venue, sizeof s->import_venue, venue);
	return begin(s);
}

int hsq_members_row(hub_store *b, const store_member *m, int *how, char *why, size_t len, int64_t now)
{
	sq *s = (sq *)b;
	const char *v = s->import_venue;
	mrow by_code = {0}, by_phone = {0};
	int fc = m->code[0] ? hsq_member_find(s, HSQ_BY_CODE, v, m->code, &by_code) : 0;
	int fp = m->phone[0] ? hsq_member_find(s, HSQ_BY_PHONE, v, m->phone, &by_phone) : 0;
	if (fc < 0 || fp < 0) {
		snprintf(why, len, "%s", s->base.errmsg);
		return -1;
	}
	const mrow *found;
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
		e = hsq_member_insert(s, uid, v, m->name, m->phone, m->code, m->tier, m->expires, 0, NULL, NULL, now);
		*how = STORE_IMPORT_ADDED;
	} else {
		e = HUB_OK;
		int64_t seq = hsq_next_seq(s, v, HUB_SET_MEMBERS, &e);
		sqlite3_stmt *st = e == HUB_OK ? q(s, Q_MEMBER_UPDATE) : NULL;
		if (!st) {
			snprintf(why, len, "%s", s->base.errmsg);
			return -1;
		}
		bt(st, 1, found->uid);
		bt(st, 2, m->name);
		bt(st, 3, phone[0] ? phone : NULL);
		bt(st, 4, code[0] ? code : NULL);
		bt(st, 5, m->tier);
		bt(st, 6, m->expires);
		bi(st, 7, seq);
		bi(st, 8, now);
		e = done(s, st);
		if (e == HUB_OK)
			e = hsq_dash_member_changed(s, found->uid);
		*how = STORE_IMPORT_UPDATED;
	}
	if (e != HUB_OK) {
		snprintf(why, len, "%s", s->base.errmsg);
		return e == HUB_EXISTS ? 1 : -1;
	}
	return 0;
}

hub_err hsq_members_commit(hub_store *b)
{
	return commit((sq *)b);
}

void hsq_members_rollback(hub_store *b)
{
	rollback((sq *)b, HUB_OK);
}

/* ---- events and links ---- */

hub_err hsq_event_add(hub_store *b, const char *venue, const char *title, int64_t start, int64_t end,
		      int64_t now, char uid[HUB_ID_MAX])
{
	sq *s = (sq *)b;
	if (clock_new_id(uid) != 0)
		return HUB_ERR;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	if ((e = hsq_event_insert(s, uid, venue, title, start, end, NULL, now)) != HUB_OK)
		return rollback(s, e);
	return commit(s);
}

hub_err hsq_link_add(hub_store *b, const hub_link_new *l, int64_t now, char uid[HUB_ID_MAX])
{
	sq *s = (sq *)b;
	if (clock_new_id(uid) != 0)
		return HUB_ERR;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	int64_t seq = 0;
	sqlite3_stmt *st;
	/* a slug is one venue's: another's link under it would take over that venue's printed codes */
	if (!(st = q(s, Q_SLUG_ELSEWHERE)))
		return rollback(s, HUB_ERR);
	bt(st, 1, l->slug);
	bt(st, 2, l->venue_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return rollback(s, refuse(s, HUB_EXISTS, "another venue uses the live code %s", l->slug));
	if (rc != SQLITE_DONE)
		return rollback(s, fail(s, rc));
	if (l->is_default) {
		seq = hsq_next_seq(s, l->venue_id, HUB_SET_LINKS, &e);
		if (e != HUB_OK || !(st = q(s, Q_LINK_CLEAR_DEFAULT)))
			return rollback(s, e != HUB_OK ? e : HUB_ERR);
		bt(st, 1, l->venue_id);
		bi(st, 2, seq);
		if ((e = done(s, st)) != HUB_OK)
			return rollback(s, e);
	}
	seq = hsq_next_seq(s, l->venue_id, HUB_SET_LINKS, &e);
	if (e != HUB_OK || !(st = q(s, Q_LINK_INSERT)))
		return rollback(s, e != HUB_OK ? e : HUB_ERR);
	bt(st, 1, uid);
	bt(st, 2, l->venue_id);
	bt(st, 3, l->platform);
	bt(st, 4, l->label);
	bt(st, 5, l->url);
	bi(st, 6, l->expires_ms);
	bi(st, 7, l->cap);
	bt(st, 8, l->event_uid);
	bi(st, 9, l->is_default);
	bt(st, 10, l->slug);
	bi(st, 11, seq);
	bi(st, 12, now);
	if ((e = done(s, st)) != HUB_OK)
		return rollback(s, e);
	return commit(s);
}

hub_err hsq_live(hub_store *b, const char *slug, const char *ref, int64_t now, char url[HUB_URL_MAX])
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_LIVE_LINKS);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, slug);
	char uid[HUB_ID_MAX] = "";
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t exp = sqlite3_column_int64(st, 2), cap = sqlite3_column_int64(st, 3);
		int64_t used = sqlite3_column_int64(st, 4);
		if ((exp == 0 || exp > now) && (cap == 0 || used < cap)) {
			cpy(uid, sizeof uid, ct(st, 0));
			cpy(url, HUB_URL_MAX, ct(st, 1));
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		e = fail(s, rc);
		sqlite3_reset(st);
		return rollback(s, e);
	}
	sqlite3_reset(st);
	if (!uid[0]) {
		if (!(st = q(s, Q_SLUG_KNOWN)))
			return rollback(s, HUB_ERR);
		bt(st, 1, slug);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return rollback(s, rc == SQLITE_DONE ? HUB_NOT_FOUND : fail(s, rc));
		/* a miss is kept for the dashboard: someone scanned and found no group */
		if ((e = hsq_dash_live(s, slug, ref, 0, now)) != HUB_OK)
			return rollback(s, e);
		e = commit(s);
		return e == HUB_OK ? HUB_INVALID : e;
	}
	if (!(st = q(s, Q_LIVE_COUNT)))
		return rollback(s, HUB_ERR);
	bt(st, 1, uid);
	if ((e = done(s, st)) != HUB_OK || (e = hsq_dash_live(s, slug, ref, 1, now)) != HUB_OK)
		return rollback(s, e);
	return commit(s);
}

/* ---- export ---- */

hub_err hsq_checkins_each(hub_store *b, const char *venue, int (*fn)(const hub_checkin_row *r, void *ctx),
			  void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_EXPORT);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	return hsq_checkins_of(s, st, fn, ctx);
}

hub_err hsq_checkins_of(sq *s, sqlite3_stmt *st, int (*fn)(const hub_checkin_row *r, void *ctx), void *ctx)
{
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
		if (fn(&r, ctx))
			break;
	}
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

hub_err hsq_records_each(hub_store *b, const char *venue, int (*fn)(const hub_record_row *r, void *ctx),
			 void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_RECORDS_EXPORT);
	if (!st)
		return HUB_ERR;
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define OPT(i) (sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : ct(st, i))
		hub_record_row r = {
		    .id = ct(st, 0),
		    .kind = ct(st, 1),
		    .device_id = ct(st, 2),
		    .session = OPT(3),
		    .action = OPT(4),
		    .detail = OPT(5),
		    .checkin = OPT(6),
		    .reason = OPT(7),
		    .wall_ms = sqlite3_column_int64(st, 8),
		    .seq = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 9),
		    .received_ms = sqlite3_column_int64(st, 10),
		};
#undef OPT
		if (fn(&r, ctx))
			break;
	}
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}
