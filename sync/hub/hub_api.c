/*
 * hub_api — the open API (see hub_api.h and sync/hub/openapi.json).
 *
 * A request goes: the route (404 / 405), the token (401), the token's
 * bucket (429), the route's scope (403), the body's JSON (400), then the
 * route's function, which checks every field before the store sees
 * anything and takes a store from the pool only around each call.
 *
 * Cursors are opaque to clients: base64url of "m.N" (members) or "c.N"
 * (check-ins), N the store's row number of the last row given. The
 * check-ins' one is the store's own guarantee (hub_store_api.h): a row
 * that commits late is never passed, so an export that keeps its cursor
 * sees every check-in once.
 *
 * Check-ins with one id from one node are taken in turn (a lock per id's
 * hash, of a few): the second finds the first's row and is answered
 * "duplicate" without a push. Two nodes at once both push; the store keeps
 * one and answers the other id_conflict (its time differs), which is then
 * compared field by field as the first way does.
 */
#include "sync/hub/hub_api.h"
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_util.h"
#include "sync/links.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS	     1024
#define PROBES	     16
#define ID_LOCKS     64
#define USED_EVERY   60000 /* ms between writes of a token's last use */
#define PAGE_DEFAULT 100
#define PAGE_MAX     1000
#define EVENTS_MAX   1000
#define TIME_MAX     32503680000000LL /* the year 3000, as the push takes times */

typedef struct bucket {
	char id[33];			  /* the token's ("" free) */
	char name[HUB_API_NAME_MAX], venue[33]; /* for its read counts' audit row */
	double tokens;
	int64_t at_ms;
	int64_t minute, reads; /* reads counted in that minute (minutes since 1970) */
	int64_t used_ms;       /* last use written to the store */
} bucket;

/* A read count to write down: taken out of a bucket under the lock, written after. */
typedef struct reads_row {
	char id[33], name[HUB_API_NAME_MAX], venue[33];
	int64_t minute, n;
} reads_row;

struct hub_api {
	unsigned rate;
	char public_url[512];
	int tls;
	pthread_mutex_t lock;
	bucket buckets[BUCKETS];
	pthread_mutex_t ids[ID_LOCKS];
};

/* A request under way. */
typedef struct ax {
	hub_api *a;
	hub_pool *pool;
	const console_request *rq;
	console_response *out;
	hub_api_token tok;
	hub_venue venue;
	json_t *body;
	char uid[33]; /* the {uid} of the path */
	int failed;   /* an answer is set */
	char why[256];
} ax;

/* ---- answers ---- */

static void answer(ax *x, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	x->out->status = text ? status : 500;
	x->out->content_type = "application/json";
	x->out->body = text ? text : (char *)"{\"error\":\"internal\",\"message\":\"out of memory\"}";
	x->out->body_static = text == NULL;
	x->out->len = strlen(x->out->body);
}

/* An error in the hub's shape; field (or NULL) is named in "field" too. Returns 0. */
__attribute__((format(printf, 5, 6))) static int fail(ax *x, unsigned status, const char *code, const char *field,
						      const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->failed)
		return 0;
	x->failed = 1;
	json_t *j = json_pack("{s:s,s:s}", "error", code, "message", msg);
	if (field)
		json_object_set_new(j, "field", json_string(field));
	snprintf(x->out->note, sizeof x->out->note, "%s%s%s%.120s", x->tok.name[0] ? "token " : "", x->tok.name,
		 x->tok.name[0] ? ": " : "", msg);
	answer(x, status, j);
	return 0;
}

static int bad_field(ax *x, const char *field, const char *what)
{
	return fail(x, 400, "bad_field", field, "\"%s\" %s", field, what);
}

/* ---- the store ---- */

static hub_store *take(ax *x)
{
	return hub_pool_take(x->pool);
}

static hub_err give(ax *x, hub_store *st, hub_err e)
{
	if (e != HUB_OK)
		snprintf(x->why, sizeof x->why, "%s", hub_store_errmsg(st));
	hub_pool_give(x->pool, st);
	return e;
}

static int store_failed(ax *x, hub_err e)
{
	if (e == HUB_BUSY || e == HUB_DOWN) {
		x->out->retry_after = e == HUB_BUSY ? 2 : 5;
		return fail(x, 503, "unavailable", NULL, "the hub's storage is %s; try again",
			    e == HUB_BUSY ? "busy" : "not reachable");
	}
	fprintf(stderr, "hub: api: storage: %.200s\n", x->why);
	return fail(x, 500, "internal", NULL, "the hub could not do this; nothing was changed");
}

/* A write's row in the console's audit log: who is the token (by name); detail stolen. */
static void audit(ax *x, const char *action, json_t *detail)
{
	if (!detail)
		detail = json_object();
	json_object_set_new(detail, "token", json_string(x->tok.name));
	json_object_set_new(detail, "token_id", json_string(x->tok.id));
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->audit_add(st, NULL, x->venue.id, action, text ? text : "{}", x->rq->now_ms));
	if (e != HUB_OK)
		fprintf(stderr, "hub: api: %s by token %s was not audited: %.200s\n", action, x->tok.name, x->why);
	free(text);
}

/* ---- cursors ---- */

static json_t *cursor_json(char kind, int64_t n)
{
	char raw[32], out[64];
	int len = snprintf(raw, sizeof raw, "%c.%" PRId64, kind, n);
	sodium_bin2base64(out, sizeof out, (const unsigned char *)raw, (size_t)len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return json_string(out);
}

/* The query's cursor of kind into *n (0 when none given): 1, or 0 after a 400. */
static int cursor_read(ax *x, char kind, int64_t *n)
{
	const char *c = x->rq->get(x->rq->ctx, CONSOLE_QUERY, "cursor");
	*n = 0;
	if (!c || !c[0])
		return 1;
	unsigned char raw[32];
	size_t len = 0;
	char *end;
	if (strlen(c) > 40 ||
	    sodium_base642bin(raw, sizeof raw - 1, c, strlen(c), NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len < 3 || raw[0] != (unsigned char)kind || raw[1] != '.')
		return bad_field(x, "cursor", "is not a cursor this list gave");
	raw[len] = 0;
	long long v = strtoll((const char *)raw + 2, &end, 10);
	if (*end || v < 0 || !check_digits((const char *)raw + 2, 19))
		return bad_field(x, "cursor", "is not a cursor this list gave");
	*n = v;
	return 1;
}

/* ---- query arguments and body fields ---- */

static const char *query(ax *x, const char *name)
{
	const char *v = x->rq->get(x->rq->ctx, CONSOLE_QUERY, name);
	return v && v[0] ? v : NULL;
}

/* An integer query argument in [lo, hi] into *out (dflt when absent): 1, or 0 after a 400. */
static int query_int(ax *x, const char *name, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
	const char *v = query(x, name);
	*out = dflt;
	if (!v)
		return 1;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end || !check_digits(v[0] == '-' ? v + 1 : v, 19) || n < lo || n > hi) {
		char what[96];
		snprintf(what, sizeof what, "must be a whole number from %" PRId64 " to %" PRId64, lo, hi);
		return bad_field(x, name, what);
	}
	*out = n;
	return 1;
}

/* 1 when the body names no field but those of allowed (NULL-ended); else 0 after a 400. */
static int fields_only(ax *x, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach(x->body, k, v)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, k) == 0;
		if (!ok) {
			char name[64];
			snprintf(name, sizeof name, "%.60s", k);
			return bad_field(x, name, "is not a field of this request");
		}
	}
	return 1;
}

enum { OPTIONAL = 0, REQUIRED = 1 };

/*
 * A text field: NULL when absent or null (then 0 after a 400 if required);
 * present, 1 to max bytes of text (0 when may_be_empty), else a 400.
 */
static const char *text_field(ax *x, const char *name, size_t max, int required, int may_be_empty)
{
	json_t *v = json_object_get(x->body, name);
	if (!v || json_is_null(v)) {
		if (required)
			bad_field(x, name, "is missing");
		return NULL;
	}
	char what[96];
	snprintf(what, sizeof what, "must be text of %s%zu bytes, without control characters",
		 may_be_empty ? "at most " : "1 to ", max);
	if (!json_is_string(v) || !check_text(json_string_value(v), max, may_be_empty)) {
		bad_field(x, name, what);
		return NULL;
	}
	return json_string_value(v);
}

/* An integer field in [lo, hi]: 1 when present, 0 when absent (a 400 if required or malformed). */
static int int_field(ax *x, const char *name, int64_t lo, int64_t hi, int required, int64_t *out)
{
	json_t *v = json_object_get(x->body, name);
	if (!v || json_is_null(v)) {
		if (required)
			bad_field(x, name, "is missing");
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char what[96];
		snprintf(what, sizeof what, "must be a whole number from %" PRId64 " to %" PRId64, lo, hi);
		bad_field(x, name, what);
		return 0;
	}
	*out = json_integer_value(v);
	return 1;
}

static const char *id_field(ax *x, const char *name, int required)
{
	json_t *v = json_object_get(x->body, name);
	if (!v || json_is_null(v)) {
		if (required)
			bad_field(x, name, "is missing");
		return NULL;
	}
	if (!check_hex(json_string_value(v), 32)) {
		bad_field(x, name, "must be an id: 32 lowercase hex digits");
		return NULL;
	}
	return json_string_value(v);
}

/* A member's fields as a kiosk and a members CSV take them (sync/record.h, sync/check.h). */
static const char *phone_field(ax *x)
{
	json_t *v = json_object_get(x->body, "phone");
	if (!v || json_is_null(v))
		return NULL;
	if (!check_phone(json_string_value(v))) {
		bad_field(x, "phone", "must be 5 to 20 digits");
		return NULL;
	}
	return json_string_value(v);
}

static const char *code_field(ax *x)
{
	const char *c = text_field(x, "code", STORE_CODE_MAX - 1, OPTIONAL, 0);
	if (c && strchr(c, ' ')) {
		bad_field(x, "code", "must have no spaces");
		return NULL;
	}
	return c;
}

static const char *expires_field(ax *x)
{
	const char *d = text_field(x, "expires", 10, OPTIONAL, 1);
	if (d && !check_day(d)) {
		bad_field(x, "expires", "must be \"\" or a calendar day YYYY-MM-DD");
		return NULL;
	}
	return d;
}

/* ---- rows as JSON ---- */

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *member_json(const hub_member *m, int full)
{
	json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:b,s:I,s:I}", "uid", m->uid, "name", m->name, "phone",
			      str_or_null(m->phone), "code", str_or_null(m->code), "tier", m->tier, "expires",
			      m->expires, "provisional", m->provisional, "created_ms", (json_int_t)m->created_ms,
			      "updated_ms", (json_int_t)m->updated_ms);
	if (full) {
		json_object_set_new(j, "visits", json_integer(m->visits));
		json_object_set_new(j, "last_visit_ms", m->last_visit_ms ? json_integer(m->last_visit_ms) : json_null());
		json_object_set_new(j, "merged_into", str_or_null(m->merged_into));
		json_object_set_new(j, "deleted", json_boolean(m->deleted));
	}
	return j;
}

static json_t *event_json(const hub_event *e)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:b,s:I,s:I}", "uid", e->uid, "title", e->title, "start_ms",
			 (json_int_t)e->start_ms, "end_ms", (json_int_t)e->end_ms, "cancelled", e->cancelled,
			 "attendance", (json_int_t)e->attendance, "created_ms", (json_int_t)e->created_ms);
}

static void live_base(ax *x, char *out, size_t len)
{
	const char *host = x->rq->get(x->rq->ctx, CONSOLE_HEADER, "Host");
	if (x->a->public_url[0])
		snprintf(out, len, "%s", x->a->public_url);
	else if (host && strlen(host) < 256 && !strpbrk(host, "/\\ \"<>"))
		snprintf(out, len, "%s://%s", x->a->tls || x->rq->tls ? "https" : "http", host);
	else
		snprintf(out, len, "%s", "");
}

static json_t *link_json(ax *x, const hub_link *l)
{
	char base[600], live[700];
	live_base(x, base, sizeof base);
	snprintf(live, sizeof live, "%s/j/%s", base, l->slug);
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:s,s:s,s:I,s:b,s:I}", "uid", l->uid, "platform",
			 l->platform, "label", l->label, "url", l->url, "event", str_or_null(l->event_uid),
			 "expires_ms", l->expires_ms ? json_integer(l->expires_ms) : json_null(), "cap",
			 l->cap ? json_integer(l->cap) : json_null(), "default", l->is_default, "slug", l->slug,
			 "live_url", live, "redirects", (json_int_t)l->redirects, "removed", l->removed, "created_ms",
			 (json_int_t)l->created_ms);
}

static json_t *checkin_json(const hub_checkin_row *r)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:o,s:b}", "id", r->id, "member",
			 r->member_uid, "member_name", r->member_name ? r->member_name : "", "event",
			 str_or_null(r->event_uid), "event_title", str_or_null(r->event_title), "method", r->method,
			 "day", r->day, "at_ms", (json_int_t)r->corrected_ms, "wall_ms", (json_int_t)r->wall_ms,
			 "received_ms", (json_int_t)r->received_ms, "device", r->device_id, "attendance",
			 r->duplicate_of ? "duplicate" : "new", "duplicate_of", str_or_null(r->duplicate_of), "reversed",
			 r->reversed);
}

/* ---- read routes ---- */

static void r_venue(ax *x)
{
	answer(x, 200,
	       json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", x->venue.id, "name", x->venue.name, "tz", x->venue.tz, "slug",
			 x->venue.slug, "created_ms", (json_int_t)x->venue.created_ms));
}

typedef struct page {
	json_t *items;
	int limit, n;
	int64_t last;
	ax *x;
} page;

static int member_item(const hub_member *m, void *ctx)
{
	page *p = ctx;
	if (p->n++ == p->limit)
		return 1; /* one more than asked: there is more */
	json_array_append_new(p->items, member_json(m, 0));
	p->last = m->rid;
	return 0;
}

static json_t *page_json(page *p, char kind, int64_t from)
{
	return json_pack("{s:o,s:o,s:b}", "items", p->items, "next_cursor", cursor_json(kind, p->n ? p->last : from),
			 "more", p->n > p->limit);
}

static void r_members(ax *x)
{
	int64_t after, limit;
	const char *q = query(x, "q");
	if (q && !check_text(q, STORE_NAME_MAX - 1, 0)) {
		bad_field(x, "q", "must be 1 to 127 bytes of text");
		return;
	}
	if (!cursor_read(x, 'm', &after) || !query_int(x, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit))
		return;
	page p = {.items = json_array(), .limit = (int)limit, .x = x};
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->members_page(st, x->venue.id, q, after, (int)limit + 1, member_item, &p));
	if (e != HUB_OK) {
		json_decref(p.items);
		store_failed(x, e);
		return;
	}
	answer(x, 200, page_json(&p, 'm', after));
}

/* The venue's member uid (merged and deleted ones too) into m: 1, or 0 after a 404 (another venue's too). */
static int member_of_venue(ax *x, const char *uid, hub_member *m, const char *field)
{
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->member_get(st, uid, m));
	if (e == HUB_OK && strcmp(m->venue_id, x->venue.id) == 0)
		return 1;
	if (e != HUB_OK && e != HUB_NOT_FOUND)
		return store_failed(x, e);
	return fail(x, field ? 400 : 404, field ? "bad_field" : "not_found", field, "%s%sno such member",
		    field ? field : "", field ? ": " : "");
}

static void r_member(ax *x)
{
	hub_member m;
	if (member_of_venue(x, x->uid, &m, NULL))
		answer(x, 200, member_json(&m, 1));
}

typedef struct events_ctx {
	json_t *items;
	int64_t from, to;
	size_t n;
} events_ctx;

static int event_item(const hub_event *e, void *ctx)
{
	events_ctx *c = ctx;
	if ((c->from && e->start_ms < c->from) || (c->to && e->start_ms >= c->to))
		return 0;
	if (++c->n > EVENTS_MAX)
		return 1;
	json_array_append_new(c->items, event_json(e));
	return 0;
}

static void r_events(ax *x)
{
	events_ctx c = {.items = json_array()};
	if (!query_int(x, "from", 0, TIME_MAX, 0, &c.from) || !query_int(x, "to", 0, TIME_MAX, 0, &c.to)) {
		json_decref(c.items);
		return;
	}
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->events_each(st, x->venue.id, event_item, &c));
	if (e != HUB_OK) {
		json_decref(c.items);
		store_failed(x, e);
		return;
	}
	answer(x, 200, json_pack("{s:o,s:b}", "items", c.items, "more", c.n > EVENTS_MAX));
}

/* The venue's event uid into ev: 1, or 0 after a 404 (or a 400 naming field). */
static int event_of_venue(ax *x, const char *uid, hub_event *ev, const char *field)
{
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->event_get(st, uid, ev));
	if (e == HUB_OK && strcmp(ev->venue_id, x->venue.id) == 0)
		return 1;
	if (e != HUB_OK && e != HUB_NOT_FOUND)
		return store_failed(x, e);
	return fail(x, field ? 400 : 404, field ? "bad_field" : "not_found", field, "%s%sno such event",
		    field ? field : "", field ? ": " : "");
}

static void r_event(ax *x)
{
	hub_event ev;
	if (event_of_venue(x, x->uid, &ev, NULL))
		answer(x, 200, event_json(&ev));
}

static int checkin_item(const hub_checkin_row *r, int64_t rn, void *ctx)
{
	page *p = ctx;
	if (p->n++ == p->limit)
		return 1;
	json_array_append_new(p->items, checkin_json(r));
	p->last = rn;
	return 0;
}

static void r_checkins(ax *x)
{
	int64_t after, limit, from, to;
	const char *event = query(x, "event");
	hub_event ev;
	if (event && !check_hex(event, 32)) {
		bad_field(x, "event", "must be an id: 32 lowercase hex digits");
		return;
	}
	if (!cursor_read(x, 'c', &after) || !query_int(x, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
	    !query_int(x, "from", 0, TIME_MAX, 0, &from) || !query_int(x, "to", 0, TIME_MAX, 0, &to))
		return;
	if (event && !event_of_venue(x, event, &ev, NULL))
		return;
	hub_api_checkins_query q = {.venue_id = x->venue.id, .event_uid = event, .from_ms = from, .to_ms = to,
				    .after = after, .limit = (int)limit + 1};
	page p = {.items = json_array(), .limit = (int)limit, .x = x};
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->checkins_page(st, &q, checkin_item, &p));
	if (e != HUB_OK) {
		json_decref(p.items);
		store_failed(x, e);
		return;
	}
	answer(x, 200, page_json(&p, 'c', after));
}

typedef struct links_ctx {
	ax *x;
	json_t *items; /* links, or live codes by slug */
	int64_t now;
	int by_slug;
} links_ctx;

static int link_item(const hub_link *l, void *ctx)
{
	links_ctx *c = ctx;
	if (!c->by_slug) {
		json_array_append_new(c->items, link_json(c->x, l));
		return 0;
	}
	json_t *code = json_object_get(c->items, l->slug);
	if (!code) {
		char base[600], live[700];
		live_base(c->x, base, sizeof base);
		snprintf(live, sizeof live, "%s/j/%s", base, l->slug);
		code = json_pack("{s:s,s:s,s:I,s:I,s:I}", "slug", l->slug, "live_url", live, "redirects", (json_int_t)0,
				 "links", (json_int_t)0, "valid_links", (json_int_t)0);
		json_object_set_new(c->items, l->slug, code);
	}
	int valid = !l->removed && (!l->expires_ms || l->expires_ms > c->now) && (!l->cap || l->redirects < l->cap);
	json_object_set_new(code, "redirects",
			    json_integer(json_integer_value(json_object_get(code, "redirects")) + l->redirects));
	json_object_set_new(code, "links", json_integer(json_integer_value(json_object_get(code, "links")) + 1));
	json_object_set_new(code, "valid_links",
			    json_integer(json_integer_value(json_object_get(code, "valid_links")) + valid));
	return 0;
}

static void links_read(ax *x, int by_slug)
{
	links_ctx c = {x, by_slug ? json_object() : json_array(), x->rq->now_ms, by_slug};
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->links_each(st, x->venue.id, link_item, &c));
	if (e != HUB_OK) {
		json_decref(c.items);
		store_failed(x, e);
		return;
	}
	if (by_slug) {
		json_t *arr = json_array(), *v;
		const char *k;
		json_object_foreach(c.items, k, v) json_array_append(arr, v);
		json_decref(c.items);
		c.items = arr;
	}
	answer(x, 200, json_pack("{s:o}", "items", c.items));
}

static void r_links(ax *x)
{
	links_read(x, 0);
}

static void r_live_codes(ax *x)
{
	links_read(x, 1);
}

/* ---- write routes ---- */

static void member_answer(ax *x, unsigned status, const char *uid, const char *said)
{
	hub_member m;
	if (!member_of_venue(x, uid, &m, NULL))
		return;
	json_t *j = member_json(&m, 1);
	if (said)
		json_object_set_new(j, "status", json_string(said));
	answer(x, status, j);
}

static void r_member_create(ax *x)
{
	static const char *const allowed[] = {"uid", "name", "phone", "code", "tier", "expires", NULL};
	if (!fields_only(x, allowed))
		return;
	const char *uid = id_field(x, "uid", OPTIONAL), *name = text_field(x, "name", STORE_NAME_MAX - 1, REQUIRED, 0),
		   *phone = phone_field(x), *code = code_field(x),
		   *tier = text_field(x, "tier", STORE_TIER_MAX - 1, OPTIONAL, 1), *expires = expires_field(x);
	if (x->failed)
		return;
	hub_api_member m = {.venue_id = x->venue.id, .uid = uid, .name = name, .phone = phone ? phone : "",
			    .code = code ? code : "", .tier = tier ? tier : "", .expires = expires ? expires : ""};
	char made[33];
	const char *taken = NULL;
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->member_add(st, &m, x->rq->now_ms, made, &taken));
	if (e == HUB_EXISTS && taken && strcmp(taken, "uid") == 0) {
		/* the same create sent again is answered as it was; anything else holding the uid is a conflict */
		hub_member held;
		st = take(x);
		hub_err g = give(x, st, st->ops->member_get(st, uid, &held));
		if (g == HUB_OK && strcmp(held.venue_id, x->venue.id) == 0 && strcmp(held.name, m.name) == 0 &&
		    strcmp(held.phone, m.phone) == 0 && strcmp(held.code, m.code) == 0) {
			member_answer(x, 200, uid, "duplicate");
			return;
		}
		fail(x, 409, "conflict", "uid", "\"uid\": another member has this uid");
		return;
	}
	if (e == HUB_EXISTS) {
		fail(x, 409, "conflict", taken, "\"%s\": another member of the venue has it", taken ? taken : "member");
		return;
	}
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	audit(x, "api.member.create", json_pack("{s:s,s:s}", "member", made, "name", m.name));
	member_answer(x, 201, made, "created");
}

/* A PATCH field: the member's value stays when absent; null or "" clears it where that may be. */
static const char *patched(ax *x, const char *name, const char *now_value, const char *given)
{
	json_t *v = json_object_get(x->body, name);
	if (!v)
		return now_value;
	return given ? given : "";
}

static void r_member_update(ax *x)
{
	static const char *const allowed[] = {"name", "phone", "code", "tier", "expires", NULL};
	if (!fields_only(x, allowed))
		return;
	json_t *nm = json_object_get(x->body, "name");
	const char *name = text_field(x, "name", STORE_NAME_MAX - 1, OPTIONAL, 0), *phone = phone_field(x),
		   *code = code_field(x), *tier = text_field(x, "tier", STORE_TIER_MAX - 1, OPTIONAL, 1),
		   *expires = expires_field(x);
	if (nm && json_is_null(nm))
		bad_field(x, "name", "cannot be taken away");
	if (x->failed)
		return;
	hub_member m;
	if (!member_of_venue(x, x->uid, &m, NULL))
		return;
	if (m.merged_into[0] || m.deleted) {
		fail(x, 409, "conflict", NULL, "this member was %s; change %s", m.deleted ? "deleted" : "merged",
		     m.deleted ? "nothing" : "the member they were merged into");
		return;
	}
	hub_api_member in = {.venue_id = x->venue.id, .uid = m.uid, .name = patched(x, "name", m.name, name),
			     .phone = patched(x, "phone", m.phone, phone), .code = patched(x, "code", m.code, code),
			     .tier = patched(x, "tier", m.tier, tier), .expires = patched(x, "expires", m.expires, expires)};
	const char *taken = NULL;
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->member_edit(st, &in, x->rq->now_ms, &taken));
	if (e == HUB_EXISTS) {
		fail(x, 409, "conflict", taken, "\"%s\": another member of the venue has it", taken ? taken : "member");
		return;
	}
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	json_t *changed = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(x->body, k, v) json_object_set(changed, k, v);
	audit(x, "api.member.update", json_pack("{s:s,s:o}", "member", m.uid, "changed", changed));
	member_answer(x, 200, m.uid, NULL);
}

static void r_member_merge(ax *x)
{
	static const char *const allowed[] = {"member", NULL};
	if (!fields_only(x, allowed))
		return;
	const char *gone_uid = id_field(x, "member", REQUIRED);
	if (x->failed)
		return;
	hub_member keep, gone;
	if (!member_of_venue(x, x->uid, &keep, NULL) || !member_of_venue(x, gone_uid, &gone, "member"))
		return;
	if (strcmp(keep.uid, gone.uid) == 0) {
		bad_field(x, "member", "is the member merged into");
		return;
	}
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->member_merge(st, keep.uid, gone.uid, x->rq->now_ms));
	if (e == HUB_INVALID) {
		fail(x, 409, "conflict", "member", "both must be current members (not merged or deleted): %.200s", x->why);
		return;
	}
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	audit(x, "api.member.merge", json_pack("{s:s,s:s}", "keep", keep.uid, "gone", gone.uid));
	member_answer(x, 200, keep.uid, NULL);
}

static void r_event_create(ax *x)
{
	static const char *const allowed[] = {"title", "start_ms", "end_ms", NULL};
	if (!fields_only(x, allowed))
		return;
	int64_t start = 0, end = 0;
	const char *title = text_field(x, "title", STORE_TITLE_MAX - 1, REQUIRED, 0);
	int_field(x, "start_ms", 0, TIME_MAX, REQUIRED, &start);
	int_field(x, "end_ms", 0, TIME_MAX, REQUIRED, &end);
	if (!x->failed && end <= start)
		bad_field(x, "end_ms", "must be after start_ms");
	if (x->failed)
		return;
	char uid[HUB_ID_MAX];
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->event_add(st, x->venue.id, title, start, end, x->rq->now_ms, uid));
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	audit(x, "api.event.create", json_pack("{s:s,s:s}", "event", uid, "title", title));
	hub_event ev;
	if (event_of_venue(x, uid, &ev, NULL))
		answer(x, 201, event_json(&ev));
}

static void r_link_create(ax *x)
{
	static const char *const allowed[] = {"url", "platform", "label", "event", "expires_ms", "cap", "default",
					      "slug", NULL};
	if (!fields_only(x, allowed))
		return;
	char why[256];
	int64_t expires = 0, cap = 0, now = x->rq->now_ms;
	const char *url = text_field(x, "url", STORE_URL_MAX - 1, REQUIRED, 0);
	if (url && links_check_url(url, why, sizeof why) != 0)
		bad_field(x, "url", why);
	const char *platform = text_field(x, "platform", STORE_PLATFORM_MAX - 1, OPTIONAL, 0);
	if (platform && !links_platform_valid(platform))
		bad_field(x, "platform", "must be wechat, line, telegram, discord or url");
	const char *label = text_field(x, "label", STORE_TITLE_MAX - 1, OPTIONAL, 0),
		   *event = id_field(x, "event", OPTIONAL), *slug = text_field(x, "slug", 32, OPTIONAL, 0);
	if (slug && strspn(slug, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(slug))
		bad_field(x, "slug", "must be 1 to 32 letters, digits, - or _");
	int_field(x, "expires_ms", 1, TIME_MAX, OPTIONAL, &expires);
	int_field(x, "cap", 1, 100000, OPTIONAL, &cap);
	json_t *dflt = json_object_get(x->body, "default");
	if (dflt && !json_is_boolean(dflt))
		bad_field(x, "default", "must be true or false");
	if (x->failed)
		return;
	if (!platform)
		platform = links_guess_platform(url);
	int64_t life = links_max_life_ms(platform);
	if (expires && expires <= now)
		bad_field(x, "expires_ms", "is in the past");
	else if (life && expires && expires - now > life)
		bad_field(x, "expires_ms", "is further away than this platform's codes live (7 days)");
	hub_event ev;
	if (x->failed || (event && !event_of_venue(x, event, &ev, "event")))
		return;
	if (life && !expires)
		expires = now + life;
	hub_link_new l = {.venue_id = x->venue.id, .platform = platform,
			  .label = label ? label : links_platform_name(platform), .url = url, .event_uid = event,
			  .slug = slug ? slug : x->venue.slug, .expires_ms = expires, .cap = cap,
			  .is_default = json_is_true(dflt)};
	char uid[HUB_ID_MAX];
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->link_add(st, &l, now, uid));
	if (e == HUB_EXISTS) {
		fail(x, 409, "conflict", "slug", "\"slug\": another venue uses this live code");
		return;
	}
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	audit(x, "api.link.create", json_pack("{s:s,s:s}", "link", uid, "slug", l.slug));
	hub_link got;
	st = take(x);
	if ((e = give(x, st, st->ops->link_get(st, uid, &got))) != HUB_OK) {
		store_failed(x, e);
		return;
	}
	answer(x, 201, link_json(x, &got));
}

/* A check-in as kept, answered with said ("created", "duplicate"). */
static void checkin_answer(ax *x, unsigned status, const hub_api_checkin *c, const char *said)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:s,s:s,s:o,s:b,s:s}", "status", said, "id", c->id,
			      "member", c->member_uid, "event", str_or_null(c->event_uid), "method", c->method, "day",
			      c->day, "at_ms", (json_int_t)c->corrected_ms, "wall_ms", (json_int_t)c->wall_ms,
			      "device", c->device_id, "attendance", c->duplicate_of[0] ? "duplicate" : "new",
			      "duplicate_of", str_or_null(c->duplicate_of), "reversed", c->reversed, "token", x->tok.name);
	answer(x, status, j);
}

/*
 * The check-in held under the id against the one asked for: 1 when it is
 * the same (answered "duplicate"), 0 when answered 409 naming the field.
 */
static int same_checkin(ax *x, const hub_api_checkin *held, const char *member, const char *event, int has_at,
			int64_t at)
{
	const char *field = strcmp(held->venue_id, x->venue.id) != 0 || strcmp(held->device_id, x->tok.device_id) != 0
				? "id"
			    : strcmp(held->member_sent, member) != 0 ? "member"
			    : strcmp(held->event_uid, event ? event : "") != 0 ? "event"
			    : has_at && held->wall_ms != at ? "at_ms"
							    : NULL;
	if (!field) {
		checkin_answer(x, 200, held, "duplicate");
		return 1;
	}
	if (strcmp(field, "id") == 0)
		return fail(x, 409, "conflict", "id", "\"id\": a check-in of another source has this id");
	return fail(x, 409, "conflict", field, "\"%s\" differs from the check-in already kept under this id", field);
}

/* 1 with *held filled, 0 not there, -1 after an answer. */
static int checkin_held(ax *x, const char *id, hub_api_checkin *held)
{
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->checkin_get(st, id, held));
	if (e == HUB_NOT_FOUND)
		return 0;
	if (e != HUB_OK) {
		store_failed(x, e);
		return -1;
	}
	return 1;
}

static void checkin_push(ax *x, const char *id, const char *member, const char *event, int has_at, int64_t at)
{
	hub_api_checkin held;
	int h = checkin_held(x, id, &held);
	if (h < 0 || (h > 0 && same_checkin(x, &held, member, event, has_at, at)) || x->failed)
		return;
	/* the same push as a kiosk's, one check-in from the token's device */
	hub_checkin k = {.id = id, .member = member, .event = event, .method = "api", .boot = "api",
			 .kiosk_day = "", .wall_ms = has_at ? at : x->rq->now_ms, .visit = 1};
	hub_result res = {0};
	hub_batch b = {.checkins = &k, .ncheckins = 1, .results = &res, .device_time_ms = x->rq->now_ms};
	hub_push_stats stats;
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->push(st, &x->venue, x->tok.device_id, 0, x->rq->now_ms, &b, &stats));
	if (e != HUB_OK) {
		store_failed(x, e);
		return;
	}
	if (res.status == HUB_RES_REJECTED && res.reason && strcmp(res.reason, "unknown_member") == 0) {
		bad_field(x, "member", "is no member of this venue");
		return;
	}
	if (res.status == HUB_RES_REJECTED && res.reason && strcmp(res.reason, "unknown_event") == 0) {
		bad_field(x, "event", "is no event of this venue");
		return;
	}
	if (res.status == HUB_RES_REJECTED && (!res.reason || strcmp(res.reason, "id_conflict") != 0)) {
		fail(x, 400, "bad_request", NULL, "the check-in was refused: %s", res.reason ? res.reason : "?");
		return;
	}
	if ((h = checkin_held(x, id, &held)) <= 0) {
		if (h == 0)
			fail(x, 500, "internal", NULL, "the check-in was not kept");
		return;
	}
	if (res.status != HUB_RES_OK) { /* another node's same request came first */
		same_checkin(x, &held, member, event, has_at, at);
		return;
	}
	audit(x, "api.checkin.create",
	      json_pack("{s:s,s:s,s:o}", "checkin", id, "member", member, "event", str_or_null(event)));
	checkin_answer(x, 201, &held, "created");
}

static void r_checkin_create(ax *x)
{
	static const char *const allowed[] = {"id", "member", "event", "at_ms", NULL};
	if (!fields_only(x, allowed))
		return;
	int64_t at = 0;
	const char *id = id_field(x, "id", REQUIRED), *member = id_field(x, "member", REQUIRED),
		   *event = id_field(x, "event", OPTIONAL);
	int has_at = int_field(x, "at_ms", 0, TIME_MAX, OPTIONAL, &at);
	if (x->failed)
		return;
	/* one id at a time on this node: a retry finds the first's row (see the top of this file) */
	unsigned char h[32];
	hub_sha256(id, 32, h);
	pthread_mutex_t *lock = &x->a->ids[h[0] % ID_LOCKS];
	pthread_mutex_lock(lock);
	checkin_push(x, id, member, event, has_at, at);
	pthread_mutex_unlock(lock);
}

/* ---- routes ---- */

typedef struct route {
	const char *method, *pattern;
	int write;
	void (*fn)(ax *x);
} route;

static const route routes[] = {
    {"GET", "/api/v1/venue", 0, r_venue},
    {"GET", "/api/v1/members", 0, r_members},
    {"POST", "/api/v1/members", 1, r_member_create},
    {"GET", "/api/v1/members/{uid}", 0, r_member},
    {"PATCH", "/api/v1/members/{uid}", 1, r_member_update},
    {"POST", "/api/v1/members/{uid}/merge", 1, r_member_merge},
    {"GET", "/api/v1/events", 0, r_events},
    {"POST", "/api/v1/events", 1, r_event_create},
    {"GET", "/api/v1/events/{uid}", 0, r_event},
    {"GET", "/api/v1/checkins", 0, r_checkins},
    {"POST", "/api/v1/checkins", 1, r_checkin_create},
    {"GET", "/api/v1/links", 0, r_links},
    {"POST", "/api/v1/links", 1, r_link_create},
    {"GET", "/api/v1/live-codes", 0, r_live_codes},
};
enum { NROUTES = sizeof routes / sizeof routes[0] };

void hub_api_routes_each(void (*fn)(const char *method, const char *pattern, const char *scope, void *ctx), void *ctx)
{
	for (int i = 0; i < NROUTES; i++)
		fn(routes[i].method, routes[i].pattern, routes[i].write ? "write" : "read", ctx);
}

/* path against pattern; {uid} takes 32 hex digits into uid. */
static int path_match(const char *pattern, const char *path, char uid[33])
{
	const char *p = pattern, *s = path;
	while (*p) {
		if (strncmp(p, "{uid}", 5) == 0) {
			size_t n = strcspn(s, "/");
			if (n != 32 || strspn(s, "0123456789abcdef") < 32)
				return 0;
			memcpy(uid, s, 32);
			uid[32] = 0;
			s += 32;
			p += 5;
			continue;
		}
		if (*p++ != *s++)
			return 0;
	}
	return *s == 0;
}

int hub_api_owns(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

/* ---- tokens ---- */

void hub_api_token_new(char text[HUB_API_TOKEN_LEN + 1], unsigned char hash[32])
{
	unsigned char secret[32];
	randombytes_buf(secret, sizeof secret);
	memcpy(text, "tzk_", 4);
	sodium_bin2base64(text + 4, HUB_API_TOKEN_LEN + 1 - 4, secret, sizeof secret,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(secret, sizeof secret);
	hub_sha256(text, HUB_API_TOKEN_LEN, hash);
}

int hub_api_token_name_ok(const char *name)
{
	return check_text(name, HUB_API_NAME_MAX - 1, 0);
}

hub_err hub_api_token_make(hub_store *st, hub_api_token *t, int64_t now_ms, char text[HUB_API_TOKEN_LEN + 1])
{
	clock_new_id(t->id);
	clock_new_id(t->device_id);
	t->created_ms = now_ms;
	t->revoked_ms = t->last_used_ms = 0;
	hub_api_token_new(text, t->hash);
	hub_err e = st->ops->api->token_add(st, t);
	if (e != HUB_OK)
		sodium_memzero(text, HUB_API_TOKEN_LEN + 1);
	return e;
}

/* The token of the request: 1 with x->tok and x->venue, or 0 after a 401. */
static int authenticate(ax *x)
{
	const char *auth = x->rq->get(x->rq->ctx, CONSOLE_HEADER, "Authorization");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return fail(x, 401, "unauthorized", NULL, "an API token is needed (Authorization: Bearer tzk_...)");
	const char *text = auth + 7;
	if (strlen(text) != HUB_API_TOKEN_LEN || strncmp(text, "tzk_", 4) != 0)
		return fail(x, 401, "unauthorized", NULL, "the API token is malformed");
	unsigned char hash[32];
	hub_sha256(text, HUB_API_TOKEN_LEN, hash);
	hub_store *st = take(x);
	hub_err e = give(x, st, st->ops->api->token_by_hash(st, hash, &x->tok));
	if (e == HUB_NOT_FOUND)
		return fail(x, 401, "unauthorized", NULL, "the API token is not valid");
	if (e != HUB_OK)
		return store_failed(x, e);
	if (x->tok.revoked_ms) {
		int r = fail(x, 401, "unauthorized", NULL, "this API token was revoked");
		memset(&x->tok, 0, sizeof x->tok);
		return r;
	}
	st = take(x);
	e = give(x, st, st->ops->venue_get(st, x->tok.venue_id, &x->venue));
	return e == HUB_OK ? 1 : store_failed(x, e);
}

/*
 * The token's bucket: one request taken (0), or the seconds until one is
 * there. A read is counted in the token's minute; a minute that ended with
 * reads counted is handed out in *flush (n 0: none). *used: the last use is
 * due to be written.
 */
static unsigned bucket_take(hub_api *a, const hub_api_token *t, int64_t now, int is_read, reads_row *flush, int *used)
{
	unsigned h = 5381;
	for (const char *p = t->id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	double rate = a->rate / 60000.0;
	memset(flush, 0, sizeof *flush);
	pthread_mutex_lock(&a->lock);
	bucket *b = NULL, *oldest = NULL;
	for (unsigned i = 0; i < PROBES && !b; i++) {
		bucket *c = &a->buckets[(h + i) % BUCKETS];
		if (strcmp(c->id, t->id) == 0)
			b = c;
		else if (!oldest || c->at_ms < oldest->at_ms)
			oldest = c;
	}
	if (!b) { /* in place of the longest unused one near its place, whose reads are written first */
		b = oldest;
		if (b->reads) {
			snprintf(flush->id, sizeof flush->id, "%s", b->id);
			snprintf(flush->name, sizeof flush->name, "%s", b->name);
			snprintf(flush->venue, sizeof flush->venue, "%s", b->venue);
			flush->minute = b->minute;
			flush->n = b->reads;
		}
		memset(b, 0, sizeof *b);
		snprintf(b->id, sizeof b->id, "%s", t->id);
		b->tokens = a->rate;
		b->at_ms = now;
		b->used_ms = t->last_used_ms;
	}
	snprintf(b->name, sizeof b->name, "%s", t->name);
	snprintf(b->venue, sizeof b->venue, "%s", t->venue_id);
	b->tokens += (double)(now - b->at_ms) * rate;
	if (b->tokens > a->rate)
		b->tokens = a->rate;
	b->at_ms = now;
	unsigned wait = 0;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (unsigned)((1 - b->tokens) / rate / 1000) + 1;
	int64_t minute = now / 60000;
	if (!wait && is_read) {
		if (b->minute != minute && b->reads && !flush->n) {
			snprintf(flush->id, sizeof flush->id, "%s", b->id);
			snprintf(flush->name, sizeof flush->name, "%s", b->name);
			snprintf(flush->venue, sizeof flush->venue, "%s", b->venue);
			flush->minute = b->minute;
			flush->n = b->reads;
			b->reads = 0;
		}
		if (b->minute != minute && !b->reads)
			b->minute = minute;
		if (b->minute == minute)
			b->reads++;
	}
	*used = !wait && now - b->used_ms >= USED_EVERY;
	if (*used)
		b->used_ms = now;
	pthread_mutex_unlock(&a->lock);
	return wait;
}

static void reads_write(hub_store *st, const reads_row *r, int64_t now)
{
	char detail[300];
	json_t *j = json_pack("{s:s,s:s,s:I,s:I}", "token", r->name, "token_id", r->id, "requests", (json_int_t)r->n,
			      "minute_ms", (json_int_t)(r->minute * 60000));
	char *t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	snprintf(detail, sizeof detail, "%s", t ? t : "{}");
	free(t);
	if (st->ops->audit_add(st, NULL, r->venue, "api.reads", detail, now) != HUB_OK)
		fprintf(stderr, "hub: api: reads of token %s not audited: %.200s\n", r->name, hub_store_errmsg(st));
}

/* ---- the request ---- */

void hub_api_handle(hub_api *a, hub_pool *pool, const console_request *rq, console_response *out)
{
	memset(out, 0, sizeof *out);
	ax x = {.a = a, .pool = pool, .rq = rq, .out = out};
	const route *r = NULL;
	int path_known = 0;
	char uid[33] = "";
	for (int i = 0; i < NROUTES && !r; i++) {
		if (!path_match(routes[i].pattern, rq->path, uid))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, rq->method) == 0 ||
		    (strcmp(rq->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			r = &routes[i];
			memcpy(x.uid, uid, sizeof uid);
		}
	}
	if (!authenticate(&x))
		return;
	if (!r) {
		fail(&x, path_known ? 405 : 404, path_known ? "method_not_allowed" : "not_found", NULL, "%s",
		     path_known ? "this path takes another method" : "no such endpoint (see sync/hub/openapi.json)");
		return;
	}
	reads_row flush;
	int used;
	unsigned wait = bucket_take(a, &x.tok, rq->now_ms, !r->write, &flush, &used);
	if (flush.n || used) {
		hub_store *st = take(&x);
		if (flush.n)
			reads_write(st, &flush, rq->now_ms);
		if (used && st->ops->api->token_used(st, x.tok.id, rq->now_ms) != HUB_OK)
			fprintf(stderr, "hub: api: token %s: its last use was not kept: %.200s\n", x.tok.name,
				hub_store_errmsg(st));
		hub_pool_give(pool, st);
	}
	if (wait) {
		out->retry_after = wait;
		fail(&x, 429, "rate_limited", NULL, "this token made more than %u requests a minute; try again in %u s",
		     a->rate, wait);
		return;
	}
	if (r->write && !x.tok.write) {
		fail(&x, 403, "forbidden", NULL, "this token may only read (its scope is read)");
		return;
	}
	if (rq->body_too_large) {
		fail(&x, 413, "too_large", NULL, "the body is larger than %d bytes", HUB_API_MAX_BODY);
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		json_error_t je;
		if (!hub_json_depth_ok(rq->body ? rq->body : "", rq->len, HUB_MAX_DEPTH)) {
			fail(&x, 400, "bad_json", NULL, "the body nests too deep");
			return;
		}
		x.body = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &je);
		if (!x.body) {
			fail(&x, 400, "bad_json", NULL, "the body is not JSON: %s (line %d, column %d)", je.text, je.line,
			     je.column);
			return;
		}
		if (!json_is_object(x.body)) {
			json_decref(x.body);
			fail(&x, 400, "bad_json", NULL, "the body is not a JSON object");
			return;
		}
	}
	r->fn(&x);
	json_decref(x.body);
	if (!x.failed)
		snprintf(out->note, sizeof out->note, "token %s (venue %.8s)", x.tok.name, x.venue.id);
}

/* ---- set-up ---- */

hub_api *hub_api_new(const hub_api_config *cfg)
{
	hub_api *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->rate = cfg && cfg->rate ? cfg->rate : HUB_API_RATE;
	const char *env = getenv("TINGZI_HUB_API_RATE");
	char *end;
	long r = env && env[0] ? strtol(env, &end, 10) : 0;
	if (!(cfg && cfg->rate) && env && env[0] && !*end && r >= 1 && r <= 1000000)
		a->rate = (unsigned)r;
	if (cfg && cfg->public_url) {
		snprintf(a->public_url, sizeof a->public_url, "%s", cfg->public_url);
		size_t n = strlen(a->public_url);
		while (n && a->public_url[n - 1] == '/')
			a->public_url[--n] = 0;
	}
	a->tls = cfg && cfg->tls;
	pthread_mutex_init(&a->lock, NULL);
	for (int i = 0; i < ID_LOCKS; i++)
		pthread_mutex_init(&a->ids[i], NULL);
	return a;
}

void hub_api_free(hub_api *a, hub_pool *pool)
{
	if (!a)
		return;
	hub_store *st = pool ? hub_pool_take(pool) : NULL;
	for (int i = 0; st && i < BUCKETS; i++) {
		bucket *b = &a->buckets[i];
		if (!b->id[0] || !b->reads)
			continue;
		reads_row r = {.minute = b->minute, .n = b->reads};
		snprintf(r.id, sizeof r.id, "%s", b->id);
		snprintf(r.name, sizeof r.name, "%s", b->name);
		snprintf(r.venue, sizeof r.venue, "%s", b->venue);
		reads_write(st, &r, clock_wall_ms());
	}
	if (st)
		hub_pool_give(pool, st);
	pthread_mutex_destroy(&a->lock);
	for (int i = 0; i < ID_LOCKS; i++)
		pthread_mutex_destroy(&a->ids[i]);
	free(a);
}
