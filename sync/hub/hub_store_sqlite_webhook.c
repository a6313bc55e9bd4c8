/*
 * hub_store_sqlite_webhook — webhooks in the SQLite store (hub_store_webhook.h;
 * the tables and the triggers that fill the queue are in
 * hub_store_sqlite_schema.c, version 6).
 *
 * One writer at a time: an event's seq (AUTOINCREMENT) is in commit order,
 * so a cursor never passes an event that commits later. The queue's
 * triggers exist only while a subscription does (see triggers_match()).
 */
#include "sync/hub/hub_store_sqlite_calls.h"

#include <stdlib.h>
#include <string.h>

#define SUB_COLS                                                                                             \
	"id, venue_id, url, types, secret, ifnull(created_by, ''), created_ms, disabled_ms, disabled_why, cursor," \
	" attempts, next_ms"

static void sub_of(sqlite3_stmt *st, hub_webhook *w)
{
	memset(w, 0, sizeof *w);
	cpy(w->id, sizeof w->id, ct(st, 0));
	cpy(w->venue_id, sizeof w->venue_id, ct(st, 1));
	cpy(w->url, sizeof w->url, ct(st, 2));
	cpy(w->types, sizeof w->types, ct(st, 3));
	cpy(w->secret, sizeof w->secret, ct(st, 4));
	cpy(w->created_by, sizeof w->created_by, ct(st, 5));
	w->created_ms = sqlite3_column_int64(st, 6);
	w->disabled_ms = sqlite3_column_int64(st, 7);
	cpy(w->disabled_why, sizeof w->disabled_why, ct(st, 8));
	w->cursor = sqlite3_column_int64(st, 9);
	w->attempts = sqlite3_column_int(st, 10);
	w->next_ms = sqlite3_column_int64(st, 11);
}

/* The queue's triggers there when the hub has a subscription, else not (a trigger costs every push). */
static hub_err triggers_match(sq *s)
{
	int64_t n = 0;
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, "SELECT EXISTS(SELECT 1 FROM webhook_subs)");
	hub_err e = st ? int_of(s, st, &n) : HUB_ERR;
	calls_done(&c);
	if (e == HUB_OK)
		e = exec(s, n ? hsq_webhook_triggers : hsq_webhook_untriggers);
	return e;
}

static hub_err sw_add(hub_store *b, hub_webhook *w)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	sqlite3_stmt *st = prep(&c, "INSERT INTO webhook_subs(id, venue_id, url, types, secret, created_ms, created_by,"
				    " cursor) SELECT ?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''),"
				    " (SELECT ifnull(max(seq), 0) FROM webhook_events WHERE venue_id = ?2)"
				    " WHERE EXISTS(SELECT 1 FROM venues WHERE id = ?2)");
	if (!st)
		return calls_end(&c, rollback(s, HUB_ERR));
	bt(st, 1, w->id);
	bt(st, 2, w->venue_id);
	bt(st, 3, w->url);
	bt(st, 4, w->types);
	bt(st, 5, w->secret);
	bi(st, 6, w->created_ms);
	bt(st, 7, w->created_by);
	e = change(c.s, st, "venue", w->venue_id);
	calls_done(&c);
	if (e == HUB_OK)
		e = triggers_match(s);
	return end_tx(s, e);
}

static hub_err sw_get(hub_store *b, const char *id, hub_webhook *out)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " SUB_COLS " FROM webhook_subs WHERE id = ?1");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	hub_err e = row(c.s, st);
	if (e == HUB_OK)
		sub_of(st, out);
	else if (e == HUB_NOT_FOUND)
		refuse(c.s, e, "no webhook %s", id);
	return calls_end(&c, e);
}

static hub_err sw_each(hub_store *b, const char *venue, int (*fn)(const hub_webhook *w, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT " SUB_COLS ", (SELECT count(*) FROM webhook_events e"
				    " WHERE e.venue_id = s.venue_id AND e.seq > s.cursor) FROM webhook_subs s"
				    " WHERE ?1 IS NULL OR venue_id = ?1 ORDER BY created_ms DESC, id");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_webhook w;
		sub_of(st, &w);
		w.waiting = sqlite3_column_int64(st, 12);
		if (fn(&w, ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

static hub_err sw_set_disabled(hub_store *b, const char *id, int64_t disabled_ms, const char *why)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "UPDATE webhook_subs SET disabled_ms = ?2, disabled_why = ?3,"
				    " attempts = CASE WHEN ?2 = 0 THEN 0 ELSE attempts END,"
				    " next_ms = CASE WHEN ?2 = 0 THEN 0 ELSE next_ms END WHERE id = ?1");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	bi(st, 2, disabled_ms);
	bt(st, 3, disabled_ms ? (why ? why : "") : "");
	return calls_end(&c, change(c.s, st, "webhook", id));
}

static hub_err sw_remove(hub_store *b, const char *id)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	sqlite3_stmt *del = prep(&c, "DELETE FROM webhook_deliveries WHERE sub_id = ?1");
	sqlite3_stmt *sub = prep(&c, "DELETE FROM webhook_subs WHERE id = ?1");
	if (!del || !sub)
		return calls_end(&c, rollback(s, HUB_ERR));
	bt(del, 1, id);
	bt(sub, 1, id);
	e = done(s, del);
	if (e == HUB_OK)
		e = change(s, sub, "webhook", id);
	/* a venue's events no subscription waits for any more are not kept */
	if (e == HUB_OK)
		e = exec(s, "DELETE FROM webhook_events WHERE seq <= ifnull((SELECT min(s.cursor) FROM webhook_subs s"
			    " WHERE s.venue_id = webhook_events.venue_id), seq)");
	calls_done(&c);
	if (e == HUB_OK)
		e = triggers_match(s);
	return end_tx(s, e);
}

static hub_err sw_lease(hub_store *b, const char *node, int64_t now, int64_t lease_ms, hub_webhook *out)
{
	calls c = {.s = (sq *)b};
	/* one statement: no other connection comes between the look and the taking */
	sqlite3_stmt *st = prep(&c, "UPDATE webhook_subs SET lease_until = ?2 + ?3, lease_node = ?1 WHERE id = ("
				    "SELECT s.id FROM webhook_subs s WHERE s.disabled_ms = 0 AND s.next_ms <= ?2"
				    " AND (s.lease_until < ?2 OR s.lease_node = ?1)"
				    " AND EXISTS(SELECT 1 FROM webhook_events e WHERE e.venue_id = s.venue_id AND e.seq > s.cursor)"
				    " ORDER BY s.next_ms, s.id LIMIT 1)"
				    " RETURNING " SUB_COLS);
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, node);
	bi(st, 2, now);
	bi(st, 3, lease_ms);
	hub_err e = row(c.s, st);
	if (e == HUB_OK) {
		sub_of(st, out);
		e = done(c.s, st); /* to its end: RETURNING's changes are made when the statement finishes */
	}
	return calls_end(&c, e);
}

static hub_err sw_release(hub_store *b, const char *id, const char *node)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "UPDATE webhook_subs SET lease_until = 0 WHERE id = ?1 AND lease_node = ?2");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	bt(st, 2, node);
	return calls_end(&c, done(c.s, st));
}

static hub_err sw_events(hub_store *b, const char *venue, int64_t after, int limit,
			 int (*fn)(const hub_webhook_event *e, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT seq, type, body, created_ms FROM webhook_events"
				    " WHERE venue_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, venue);
	bi(st, 2, after);
	bi(st, 3, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_webhook_event ev = {sqlite3_column_int64(st, 0), ct(st, 1), ct(st, 2), sqlite3_column_int64(st, 3)};
		if (fn(&ev, ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

static hub_err sw_progress(hub_store *b, const char *id, const char *node, const hub_webhook_progress *p)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	sqlite3_stmt *up = prep(&c, "UPDATE webhook_subs SET cursor = max(cursor, ?3), attempts = ?4, next_ms = ?5,"
				    " disabled_ms = CASE WHEN ?6 > 0 THEN ?6 ELSE disabled_ms END,"
				    " disabled_why = CASE WHEN ?6 > 0 THEN ?7 ELSE disabled_why END"
				    " WHERE id = ?1 AND lease_node = ?2");
	sqlite3_stmt *ins = prep(&c, "INSERT INTO webhook_deliveries(sub_id, event_seq, type, attempt, at_ms, status,"
				     " ms, outcome, why) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!up || !ins)
		return calls_end(&c, rollback(s, HUB_ERR));
	bt(up, 1, id);
	bt(up, 2, node);
	bi(up, 3, p->cursor);
	bi(up, 4, p->attempts);
	bi(up, 5, p->next_ms);
	bi(up, 6, p->disabled_ms);
	bt(up, 7, p->disabled_why ? p->disabled_why : "");
	e = change(s, up, "webhook held by this node", id);
	for (int i = 0; i < p->n && e == HUB_OK; i++) {
		const hub_webhook_delivery *d = &p->d[i];
		bt(ins, 1, id);
		bi(ins, 2, d->event_seq);
		bt(ins, 3, d->type);
		bi(ins, 4, d->attempt);
		bi(ins, 5, d->at_ms);
		bi(ins, 6, d->status);
		bi(ins, 7, d->ms);
		bt(ins, 8, d->outcome);
		bt(ins, 9, d->why);
		e = done(s, ins);
	}
	return calls_end(&c, end_tx(s, e));
}

static hub_err sw_deliveries(hub_store *b, const char *id, int limit,
			     int (*fn)(const hub_webhook_delivery *d, void *ctx), void *ctx)
{
	calls c = {.s = (sq *)b};
	sqlite3_stmt *st = prep(&c, "SELECT id, event_seq, at_ms, ms, attempt, status, type, outcome, why"
				    " FROM webhook_deliveries WHERE sub_id = ?1 ORDER BY id DESC LIMIT ?2");
	if (!st)
		return calls_end(&c, HUB_ERR);
	bt(st, 1, id);
	bi(st, 2, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_webhook_delivery d = {0};
		d.id = sqlite3_column_int64(st, 0);
		d.event_seq = sqlite3_column_int64(st, 1);
		d.at_ms = sqlite3_column_int64(st, 2);
		d.ms = sqlite3_column_int64(st, 3);
		d.attempt = sqlite3_column_int(st, 4);
		d.status = sqlite3_column_int(st, 5);
		cpy(d.type, sizeof d.type, ct(st, 6));
		cpy(d.outcome, sizeof d.outcome, ct(st, 7));
		cpy(d.why, sizeof d.why, ct(st, 8));
		if (fn(&d, ctx))
			break;
	}
	return calls_end(&c, ended(c.s, st, rc));
}

/*
 * The clock's events: each statement writes the events not marked yet, then
 * the marks, in one transaction.
 */
#define ON_SUBS(v) "EXISTS(SELECT 1 FROM webhook_subs w WHERE w.venue_id = " v " AND w.disabled_ms = 0)"
static const char *const clock_sql[][2] = {
    {"INSERT INTO webhook_events(venue_id, type, body, created_ms) SELECT e.venue_id, 'event.started',"
     " json_object('uid', e.uid, 'venue', e.venue_id, 'title', e.title, 'start_ms', e.start_ms, 'end_ms', e.end_ms),"
     " ?1 FROM events e WHERE e.deleted = 0 AND e.start_ms <= ?1 AND e.start_ms > ?1 - 3600000 AND e.end_ms > ?1"
     " AND " ON_SUBS("e.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m WHERE m.kind = 'event.started'"
     " AND m.key = e.uid) ORDER BY e.start_ms, e.uid",
     "INSERT OR IGNORE INTO webhook_marks(kind, key, at_ms) SELECT 'event.started', e.uid, ?1 FROM events e"
     " WHERE e.deleted = 0 AND e.start_ms <= ?1 AND e.start_ms > ?1 - 3600000 AND e.end_ms > ?1"
     " AND " ON_SUBS("e.venue_id")},
    {"INSERT INTO webhook_events(venue_id, type, body, created_ms) SELECT l.venue_id, 'link.expiring',"
     " json_object('uid', l.uid, 'venue', l.venue_id, 'platform', l.platform, 'label', l.label, 'expires_ms',"
     " l.expires_ms, 'slug', l.slug), ?1 FROM links l WHERE l.deleted = 0 AND l.expires_ms > ?1"
     " AND l.expires_ms <= ?1 + 172800000 AND " ON_SUBS("l.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m"
     " WHERE m.kind = 'link.expiring' AND m.key = l.uid || ':' || l.expires_ms) ORDER BY l.expires_ms, l.uid",
     "INSERT OR IGNORE INTO webhook_marks(kind, key, at_ms) SELECT 'link.expiring', l.uid || ':' || l.expires_ms, ?1"
     " FROM links l WHERE l.deleted = 0 AND l.expires_ms > ?1 AND l.expires_ms <= ?1 + 172800000"
     " AND " ON_SUBS("l.venue_id")},
    {"INSERT INTO webhook_events(venue_id, type, body, created_ms) SELECT d.venue_id, 'device.offline',"
     " json_object('id', d.id, 'venue', d.venue_id, 'name', d.name, 'last_seen_ms', d.last_seen_ms,"
     " 'waiting', d.queue_pending), ?1 FROM devices d WHERE d.revoked_ms IS NULL AND d.last_seen_ms > 0"
     " AND d.last_seen_ms < ?1 - 1800000 AND " ON_SUBS("d.venue_id") " AND NOT EXISTS(SELECT 1 FROM webhook_marks m"
     " WHERE m.kind = 'device.offline' AND m.key = d.id || ':' || d.last_seen_ms) ORDER BY d.last_seen_ms, d.id",
     "INSERT OR IGNORE INTO webhook_marks(kind, key, at_ms) SELECT 'device.offline', d.id || ':' || d.last_seen_ms,"
     " ?1 FROM devices d WHERE d.revoked_ms IS NULL AND d.last_seen_ms > 0 AND d.last_seen_ms < ?1 - 1800000"
     " AND " ON_SUBS("d.venue_id")},
};

static hub_err sw_clock(hub_store *b, int64_t now, int *made)
{
	sq *s = (sq *)b;
	*made = 0;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	calls c = {.s = s};
	for (size_t i = 0; i < sizeof clock_sql / sizeof clock_sql[0] && e == HUB_OK; i++) {
		for (int k = 0; k < 2 && e == HUB_OK; k++) {
			sqlite3_stmt *st = prep(&c, clock_sql[i][k]);
			if (!st) {
				e = HUB_ERR;
				break;
			}
			bi(st, 1, now);
			e = done(s, st);
			if (k == 0 && e == HUB_OK)
				*made += sqlite3_changes(s->db);
		}
		calls_end(&c, HUB_OK);
	}
	/* triggers as the subscriptions say (a file from before they came and went with them) */
	if (e == HUB_OK)
		e = triggers_match(s);
	/* events every subscription of their venue is past, and marks older than what they mark */
	if (e == HUB_OK)
		e = exec(s, "DELETE FROM webhook_events WHERE seq <= ifnull((SELECT min(w.cursor) FROM webhook_subs w"
			    " WHERE w.venue_id = webhook_events.venue_id), seq)");
	if (e == HUB_OK) {
		sqlite3_stmt *st = prep(&c, "DELETE FROM webhook_marks WHERE at_ms < ?1 - 30 * 86400000");
		if (!st)
			e = HUB_ERR;
		else {
			bi(st, 1, now);
			e = done(s, st);
		}
	}
	return calls_end(&c, end_tx(s, e));
}

const hub_webhook_ops hsq_webhook_ops = {
    .add = sw_add,
    .get = sw_get,
    .each = sw_each,
    .set_disabled = sw_set_disabled,
    .remove = sw_remove,
    .lease = sw_lease,
    .release = sw_release,
    .events = sw_events,
    .progress = sw_progress,
    .deliveries = sw_deliveries,
    .clock = sw_clock,
};
