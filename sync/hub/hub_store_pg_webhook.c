/*
 * hub_store_pg_webhook — webhooks in the PostgreSQL store
 * (hub_store_webhook.h; the tables and triggers are hpg_api_schema in
 * hub_store_pg_schema.c, version 3).
 *
 * Several nodes deliver at once. A venue's events are numbered under its
 * set_seqs row 'webhooks' (webhook_seq()), whose lock orders the commits: a
 * subscription that has sent event n never meets a lower one later. A
 * subscription is taken by one sender at a time with FOR UPDATE SKIP LOCKED
 * and a lease (lease_until, lease_node), so its events leave in order.
 */
#include "sync/hub/hub_store_pg_impl.h"

#include <stdlib.h>
#include <string.h>

enum {
	Q_ADD,
	Q_GET,
	Q_EACH,
	Q_SET_DISABLED,
	Q_DEL_DELIVERIES,
	Q_DEL_SUB,
	Q_PRUNE,
	Q_LEASE,
	Q_RELEASE,
	Q_EVENTS,
	Q_PROGRESS,
	Q_DELIVERY_ADD,
	Q_DELIVERIES,
	Q_CLOCK_STARTED,
	Q_MARK_STARTED,
	Q_CLOCK_EXPIRING,
	Q_MARK_EXPIRING,
	Q_CLOCK_OFFLINE,
	Q_MARK_OFFLINE,
	Q_MARKS_OLD,
	Q_COUNT
};

#define SUB_COLS                                                                                             \
	"id, venue_id, url, types, secret, coalesce(created_by, ''), created_ms, disabled_ms, disabled_why, cursor," \
	" attempts, next_ms"
#define ON_SUBS(v) "EXISTS(SELECT 1 FROM webhook_subs w WHERE w.venue_id = " v " AND w.disabled_ms = 0)"

static const char *const sql[Q_COUNT] = {
    [Q_ADD] = "INSERT INTO webhook_subs(id, venue_id, url, types, secret, created_ms, created_by, cursor)"
	      " SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, nullif($7::text, ''), coalesce((SELECT last FROM set_seqs"
	      " WHERE venue_id = $2::text AND data_set = 'webhooks'), 0) WHERE EXISTS(SELECT 1 FROM venues WHERE id = $2::text)",
    [Q_GET] = "SELECT " SUB_COLS " FROM webhook_subs WHERE id = $1::text",
    [Q_EACH] = "SELECT " SUB_COLS ", (SELECT count(*) FROM webhook_events e WHERE e.venue_id = s.venue_id"
	       " AND e.seq > s.cursor) FROM webhook_subs s WHERE $1::text IS NULL OR venue_id = $1::text"
	       " ORDER BY created_ms DESC, id",
    [Q_SET_DISABLED] = "UPDATE webhook_subs SET disabled_ms = $2::bigint, disabled_why = $3::text,"
		       " attempts = CASE WHEN $2::bigint = 0 THEN 0 ELSE attempts END,"
		       " next_ms = CASE WHEN $2::bigint = 0 THEN 0 ELSE next_ms END WHERE id = $1::text",
    [Q_DEL_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE sub_id = $1::text",
    [Q_DEL_SUB] = "DELETE FROM webhook_subs WHERE id = $1::text",
    [Q_PRUNE] = "DELETE FROM webhook_events ev WHERE ev.seq <= coalesce((SELECT min(w.cursor) FROM webhook_subs w"
		" WHERE w.venue_id = ev.venue_id), ev.seq)",
    [Q_LEASE] = "UPDATE webhook_subs SET lease_until = $2::bigint + $3::bigint, lease_node = $1::text WHERE id = ("
		"SELECT s.id FROM webhook_subs s WHERE s.disabled_ms = 0 AND s.next_ms <= $2::bigint"
		" AND (s.lease_until < $2::bigint OR s.lease_node = $1::text)"
		" AND EXISTS(SELECT 1 FROM webhook_events e WHERE e.venue_id = s.venue_id AND e.seq > s.cursor)"
		" ORDER BY s.next_ms, s.id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " SUB_COLS,
    [Q_RELEASE] = "UPDATE webhook_subs SET lease_until = 0 WHERE id = $1::text AND lease_node = $2::text",
    [Q_EVENTS] = "SELECT seq, type, body, created_ms FROM webhook_events WHERE venue_id = $1::text AND seq > $2::bigint"
		 " ORDER BY seq LIMIT $3::bigint",
    [Q_PROGRESS] = "UPDATE webhook_subs SET cursor = greatest(cursor, $3::bigint), attempts = $4::integer, next_ms = $5::bigint,"
		   " disabled_ms = CASE WHEN $6::bigint > 0 THEN $6::bigint ELSE disabled_ms END,"
		   " disabled_why = CASE WHEN $6::bigint > 0 THEN $7::text ELSE disabled_why END WHERE id = $1::text AND lease_node = $2::text",
    [Q_DELIVERY_ADD] = "INSERT INTO webhook_deliveries(sub_id, event_seq, type, attempt, at_ms, status, ms, outcome,"
		       " why) VALUES($1::text, $2::bigint, $3::text, $4::integer, $5::bigint, $6::integer, $7::bigint, $8::text, $9::text)",
    [Q_DELIVERIES] = "SELECT id, event_seq, at_ms, ms, attempt, status, type, outcome, why FROM webhook_deliveries"
		     " WHERE sub_id = $1::text ORDER BY id DESC LIMIT $2::bigint",
    [Q_CLOCK_STARTED] =
	"INSERT INTO webhook_events(venue_id, seq, type, body, created_ms) SELECT e.venue_id,"
	" webhook_seq(e.venue_id, 1), 'event.started', jsonb_build_object('uid', e.uid, 'venue', e.venue_id,"
	" 'title', e.title, 'start_ms', e.start_ms, 'end_ms', e.end_ms)::text, $1::bigint FROM (SELECT * FROM events e"
	" WHERE e.deleted = 0 AND e.start_ms <= $1::bigint AND e.start_ms > $1::bigint - 3600000 AND e.end_ms > $1::bigint"
	" AND " ON_SUBS("e.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m WHERE m.kind = 'event.started'"
	" AND m.key = e.uid) ORDER BY e.start_ms, e.uid) e",
    [Q_MARK_STARTED] = "INSERT INTO webhook_marks(kind, key, at_ms) SELECT 'event.started', e.uid, $1::bigint FROM events e"
		       " WHERE e.deleted = 0 AND e.start_ms <= $1::bigint AND e.start_ms > $1::bigint - 3600000 AND e.end_ms > $1::bigint"
		       " AND " ON_SUBS("e.venue_id") " ON CONFLICT DO NOTHING",
    [Q_CLOCK_EXPIRING] =
	"INSERT INTO webhook_events(venue_id, seq, type, body, created_ms) SELECT l.venue_id,"
	" webhook_seq(l.venue_id, 1), 'link.expiring', jsonb_build_object('uid', l.uid, 'venue', l.venue_id,"
	" 'platform', l.platform, 'label', l.label, 'expires_ms', l.expires_ms, 'slug', l.slug)::text, $1::bigint FROM"
	" (SELECT * FROM links l WHERE l.deleted = 0 AND l.expires_ms > $1::bigint AND l.expires_ms <= $1::bigint + 172800000"
	" AND " ON_SUBS("l.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m WHERE m.kind = 'link.expiring'"
	" AND m.key = l.uid || ':' || l.expires_ms) ORDER BY l.expires_ms, l.uid) l",
    [Q_MARK_EXPIRING] = "INSERT INTO webhook_marks(kind, key, at_ms) SELECT 'link.expiring', l.uid || ':' ||"
			" l.expires_ms, $1::bigint FROM links l WHERE l.deleted = 0 AND l.expires_ms > $1::bigint"
			" AND l.expires_ms <= $1::bigint + 172800000 AND " ON_SUBS("l.venue_id") " ON CONFLICT DO NOTHING",
    [Q_CLOCK_OFFLINE] =
	"INSERT INTO webhook_events(venue_id, seq, type, body, created_ms) SELECT d.venue_id,"
	" webhook_seq(d.venue_id, 1), 'device.offline', jsonb_build_object('id', d.id, 'venue', d.venue_id,"
	" 'name', d.name, 'last_seen_ms', d.last_seen_ms, 'waiting', d.queue_pending)::text, $1::bigint FROM"
	" (SELECT * FROM devices d WHERE d.revoked_ms IS NULL AND d.last_seen_ms > 0"
	" AND d.last_seen_ms < $1::bigint - 1800000 AND " ON_SUBS("d.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m"
	" WHERE m.kind = 'device.offline' AND m.key = d.id || ':' || d.last_seen_ms) ORDER BY d.last_seen_ms, d.id) d",
    [Q_MARK_OFFLINE] = "INSERT INTO webhook_marks(kind, key, at_ms) SELECT 'device.offline', d.id || ':' ||"
		       " d.last_seen_ms, $1::bigint FROM devices d WHERE d.revoked_ms IS NULL AND d.last_seen_ms > 0"
		       " AND d.last_seen_ms < $1::bigint - 1800000 AND " ON_SUBS("d.venue_id") " ON CONFLICT DO NOTHING",
    [Q_MARKS_OLD] = "DELETE FROM webhook_marks WHERE at_ms < $1::bigint - 30 * 86400000::bigint",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *q(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_WEBHOOK, which, sql[which], a, e);
}

static hub_err qdo(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_WEBHOOK, which, sql[which], a, changed);
}

static void sub_of(const PGresult *r, int i, hub_webhook *w)
{
	memset(w, 0, sizeof *w);
	hpg_cpy(w->id, sizeof w->id, hpg_txt(r, i, 0));
	hpg_cpy(w->venue_id, sizeof w->venue_id, hpg_txt(r, i, 1));
	hpg_cpy(w->url, sizeof w->url, hpg_txt(r, i, 2));
	hpg_cpy(w->types, sizeof w->types, hpg_txt(r, i, 3));
	hpg_cpy(w->secret, sizeof w->secret, hpg_txt(r, i, 4));
	hpg_cpy(w->created_by, sizeof w->created_by, hpg_txt(r, i, 5));
	w->created_ms = hpg_int(r, i, 6);
	w->disabled_ms = hpg_int(r, i, 7);
	hpg_cpy(w->disabled_why, sizeof w->disabled_why, hpg_txt(r, i, 8));
	w->cursor = hpg_int(r, i, 9);
	w->attempts = (int)hpg_int(r, i, 10);
	w->next_ms = hpg_int(r, i, 11);
}

static hub_err pw_add(hub_store *b, hub_webhook *w)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, w->id);
	hpg_t(&a, w->venue_id);
	hpg_t(&a, w->url);
	hpg_t(&a, w->types);
	hpg_t(&a, w->secret);
	hpg_i(&a, w->created_ms);
	hpg_t(&a, w->created_by);
	int64_t n = 0;
	hub_err e = qdo(s, Q_ADD, &a, &n);
	if (e == HUB_OK && n == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no venue %s", w->venue_id);
	return e;
}

/* The one subscription statement which answers: HUB_OK, HUB_NOT_FOUND or an error. */
static hub_err one_sub(pg *s, int which, const hpg_args *a, hub_webhook *out)
{
	hub_err e;
	PGresult *r = q(s, which, a, &e);
	if (!r)
		return e;
	e = PQntuples(r) == 1 ? HUB_OK : HUB_NOT_FOUND;
	if (e == HUB_OK)
		sub_of(r, 0, out);
	PQclear(r);
	return e;
}

static hub_err pw_get(hub_store *b, const char *id, hub_webhook *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e = one_sub(s, Q_GET, &a, out);
	if (e == HUB_NOT_FOUND)
		hpg_refuse(s, e, "no webhook %s", id);
	return e;
}

static hub_err pw_each(hub_store *b, const char *venue, int (*fn)(const hub_webhook *w, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hub_err e;
	PGresult *r = q(s, Q_EACH, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_webhook w;
		sub_of(r, i, &w);
		w.waiting = hpg_int(r, i, 12);
		if (fn(&w, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

static hub_err pw_set_disabled(hub_store *b, const char *id, int64_t disabled_ms, const char *why)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_i(&a, disabled_ms);
	hpg_t(&a, disabled_ms ? (why ? why : "") : "");
	int64_t n = 0;
	hub_err e = qdo(s, Q_SET_DISABLED, &a, &n);
	if (e == HUB_OK && n == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no webhook %s", id);
	return e;
}

static hub_err pw_remove(hub_store *b, const char *id)
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, id);
	int64_t n = 0;
	e = qdo(s, Q_DEL_DELIVERIES, &a, NULL);
	if (e == HUB_OK)
		e = qdo(s, Q_DEL_SUB, &a, &n);
	if (e == HUB_OK && n == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no webhook %s", id);
	if (e == HUB_OK)
		e = qdo(s, Q_PRUNE, NULL, NULL);
	return hpg_end(s, e);
}

static hub_err pw_lease(hub_store *b, const char *node, int64_t now, int64_t lease_ms, hub_webhook *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, node);
	hpg_i(&a, now);
	hpg_i(&a, lease_ms);
	return one_sub(s, Q_LEASE, &a, out);
}

static hub_err pw_release(hub_store *b, const char *id, const char *node)
{
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_t(&a, node);
	return qdo((pg *)b, Q_RELEASE, &a, NULL);
}

static hub_err pw_events(hub_store *b, const char *venue, int64_t after, int limit,
			 int (*fn)(const hub_webhook_event *e, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_i(&a, after);
	hpg_i(&a, limit);
	hub_err e;
	PGresult *r = q(s, Q_EVENTS, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_webhook_event ev = {hpg_int(r, i, 0), hpg_txt(r, i, 1), hpg_txt(r, i, 2), hpg_int(r, i, 3)};
		if (fn(&ev, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

static hub_err pw_progress(hub_store *b, const char *id, const char *node, const hub_webhook_progress *p)
{
	pg *s = (pg *)b;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_t(&a, node);
	hpg_i(&a, p->cursor);
	hpg_i(&a, p->attempts);
	hpg_i(&a, p->next_ms);
	hpg_i(&a, p->disabled_ms);
	hpg_t(&a, p->disabled_why ? p->disabled_why : "");
	int64_t n = 0;
	e = qdo(s, Q_PROGRESS, &a, &n);
	if (e == HUB_OK && n == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "webhook %s is not held by this node", id);
	for (int i = 0; i < p->n && e == HUB_OK; i++) {
		const hub_webhook_delivery *d = &p->d[i];
		hpg_args da = {0};
		hpg_t(&da, id);
		hpg_i(&da, d->event_seq);
		hpg_t(&da, d->type);
		hpg_i(&da, d->attempt);
		hpg_i(&da, d->at_ms);
		hpg_i(&da, d->status);
		hpg_i(&da, d->ms);
		hpg_t(&da, d->outcome);
		hpg_t(&da, d->why);
		e = qdo(s, Q_DELIVERY_ADD, &da, NULL);
	}
	return hpg_end(s, e);
}

static hub_err pw_deliveries(hub_store *b, const char *id, int limit,
			     int (*fn)(const hub_webhook_delivery *d, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_i(&a, limit);
	hub_err e;
	PGresult *r = q(s, Q_DELIVERIES, &a, &e);
	if (!r)
		return e;
	for (int i = 0; i < PQntuples(r); i++) {
		hub_webhook_delivery d = {0};
		d.id = hpg_int(r, i, 0);
		d.event_seq = hpg_int(r, i, 1);
		d.at_ms = hpg_int(r, i, 2);
		d.ms = hpg_int(r, i, 3);
		d.attempt = (int)hpg_int(r, i, 4);
		d.status = (int)hpg_int(r, i, 5);
		hpg_cpy(d.type, sizeof d.type, hpg_txt(r, i, 6));
		hpg_cpy(d.outcome, sizeof d.outcome, hpg_txt(r, i, 7));
		hpg_cpy(d.why, sizeof d.why, hpg_txt(r, i, 8));
		if (fn(&d, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

static hub_err pw_clock(hub_store *b, int64_t now, int *made)
{
	pg *s = (pg *)b;
	*made = 0;
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	static const int steps[][2] = {
	    {Q_CLOCK_STARTED, Q_MARK_STARTED}, {Q_CLOCK_EXPIRING, Q_MARK_EXPIRING}, {Q_CLOCK_OFFLINE, Q_MARK_OFFLINE}};
	hpg_args a = {0};
	hpg_i(&a, now);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && e == HUB_OK; i++) {
		int64_t n = 0;
		e = qdo(s, steps[i][0], &a, &n);
		*made += (int)n;
		if (e == HUB_OK)
			e = qdo(s, steps[i][1], &a, NULL);
	}
	if (e == HUB_OK)
		e = qdo(s, Q_PRUNE, NULL, NULL);
	if (e == HUB_OK)
		e = qdo(s, Q_MARKS_OLD, &a, NULL);
	return hpg_end(s, e);
}

const hub_webhook_ops hpg_webhook_ops = {
    .add = pw_add,
    .get = pw_get,
    .each = pw_each,
    .set_disabled = pw_set_disabled,
    .remove = pw_remove,
    .lease = pw_lease,
    .release = pw_release,
    .events = pw_events,
    .progress = pw_progress,
    .deliveries = pw_deliveries,
    .clock = pw_clock,
};
