/*
 * wire — the protocol's JSON on the kiosk's side. See wire.h and
 * sync/PROTOCOL.md.
 *
 * Replies come from the network, so they are treated like any outside
 * input: size-bounded before parsing (WIRE_MAX_REPLY), parsed by jansson
 * with a depth limit, and every field checked for type, length and form.
 * Pulled items are rebuilt from the checked fields only, so nothing the hub
 * adds or gets wrong reaches SQL.
 */
#include "app/sync/wire.h"
#include "sync/check.h"

#include "sync/clock.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 4000
#define MAX_ITEMS   5000

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why && len)
		vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

int wire_is_id(const char *s)
{
	return check_hex(s, 32);
}

static json_t *load(const char *text, size_t len, char *why, size_t whylen)
{
	if (len > WIRE_MAX_REPLY) {
		say(why, whylen, "the reply is larger than %u bytes", WIRE_MAX_REPLY);
		return NULL;
	}
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		say(why, whylen, "the reply is not JSON (%s, at byte %d)", e.text, e.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		say(why, whylen, "the reply is not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- push ---- */

/* A check-in's flags (sync/PROTOCOL.md): bit 0 membership expired, bit 1
 * the welcome carried the group's join QR. */
enum { FLAG_EXPIRED = 1, FLAG_JOIN_QR = 2 };

static int checkin_flags(int expired, int join_qr)
{
	return (expired ? FLAG_EXPIRED : 0) | (join_qr ? FLAG_JOIN_QR : 0);
}

typedef struct columns {
	json_t *id, *member, *events, *event, *method, *wall, *mono, *boots, *boot, *seq, *visit, *flags,
	    *day;
	int64_t last_wall, last_mono, last_seq;
	size_t n;
} columns;

static int index_of(json_t *list, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return (int)i;
	json_array_append_new(list, json_string(s));
	return (int)json_array_size(list) - 1;
}

static int add_checkin(columns *c, json_t *b)
{
	const char *id = json_string_value(json_object_get(b, "id"));
	const char *member = json_string_value(json_object_get(b, "member_uid"));
	json_t *ev = json_object_get(b, "event_uid");
	const char *key = json_string_value(json_object_get(b, "attendance_key"));
	const char *method = json_string_value(json_object_get(b, "method"));
	const char *boot = json_string_value(json_object_get(b, "boot_id"));
	json_t *wall = json_object_get(b, "wall_ms"), *mono = json_object_get(b, "mono_ms");
	json_t *seq = json_object_get(b, "device_seq"), *visit = json_object_get(b, "visit_no");
	if (!wire_is_id(id) || !wire_is_id(member) || !key || !method || !boot || !json_is_integer(wall) ||
	    !json_is_integer(mono) || !json_is_integer(seq) || !json_is_integer(visit) ||
	    !(json_is_null(ev) || wire_is_id(json_string_value(ev))))
		return -1;
	int64_t w = json_integer_value(wall), m = json_integer_value(mono), q = json_integer_value(seq);
	json_array_append_new(c->id, json_string(id));
	json_array_append_new(c->member, json_string(member));
	json_array_append_new(
	    c->event, json_integer(json_is_null(ev) ? -1 : index_of(c->events, json_string_value(ev))));
	json_array_append_new(c->method, json_string(method));
	json_array_append_new(c->wall, json_integer(c->n ? w - c->last_wall : w));
	json_array_append_new(c->mono, json_integer(c->n ? m - c->last_mono : m));
	json_array_append_new(c->boot, json_integer(index_of(c->boots, boot)));
	json_array_append_new(c->seq, json_integer(c->n ? q - c->last_seq : q));
	json_array_append_new(c->visit, json_integer(json_integer_value(visit)));
	json_array_append_new(c->flags, json_integer(checkin_flags(json_is_true(json_object_get(b, "expired")),
								   json_is_true(json_object_get(b, "join_qr")))));
	json_array_append_new(c->day, json_string(strncmp(key, "d:", 2) == 0 ? key + 2 : ""));
	c->last_wall = w, c->last_mono = m, c->last_seq = q;
	c->n++;
	return 0;
}

/* snprintf(dst, size, "%s", src) without the formatting: 100 000 records make 700 000 of these */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int wire_rec_from(wire_rec *w, const store_outbox_rec *rec)
{
	w->body = NULL;
	w->cols = 0;
	copy(w->kind, sizeof w->kind, rec->kind);
	copy(w->id, sizeof w->id, rec->id);
	if (strcmp(rec->kind, "checkin") == 0 && rec->member_uid && rec->attendance_key && rec->method &&
	    rec->boot_id) {
		w->cols = 1;
		copy(w->member, sizeof w->member, rec->member_uid);
		copy(w->event, sizeof w->event, rec->event_uid ? rec->event_uid : "");
		copy(w->key, sizeof w->key, rec->attendance_key);
		copy(w->method, sizeof w->method, rec->method);
		copy(w->boot, sizeof w->boot, rec->boot_id);
		w->wall_ms = rec->wall_ms;
		w->mono_ms = rec->mono_ms;
		w->seq = rec->device_seq;
		w->visit = rec->visit_no;
		w->expired = rec->expired;
		w->join_qr = rec->join_qr;
		return 0;
	}
	w->member[0] = w->event[0] = w->key[0] = w->method[0] = w->boot[0] = '\0';
	w->wall_ms = w->mono_ms = w->seq = w->visit = 0;
	w->expired = w->join_qr = 0;
	return (w->body = strdup(rec->body ? rec->body : "{}")) ? 0 : -1;
}

void wire_rec_clear(wire_rec *w)
{
	free(w->body);
	w->body = NULL;
}

/* ---- check-in columns as text: a batch of 1000 costs no JSON tree ---- */

typedef struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* A JSON string; the text was checked by check_text() (no control characters). */
static void sb_json(sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (const char *p = s; *p;) {
		size_t run = strcspn(p, "\"\\"); /* the plain stretch goes in one piece */
		sb_add(b, p, run);
		p += run;
		if (*p) {
			sb_add(b, "\\", 1);
			sb_add(b, p++, 1);
		}
	}
	sb_add(b, "\"", 1);
}

/* An integer in decimal (seven of these a check-in: no snprintf) */
static void sb_int(sbuf *b, int64_t v)
{
	char t[24];
	size_t i = sizeof t;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		t[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		t[--i] = '-';
	sb_add(b, t + i, sizeof t - i);
}

enum { K_ID, K_MEMBER, K_EVENT, K_METHOD, K_WALL, K_MONO, K_BOOT, K_SEQ, K_VISIT, K_FLAGS, K_DAY, K_N };
static const char *const k_names[K_N] = {"id",   "member", "event", "method", "wall_ms", "mono_ms",
					 "boot", "seq",    "visit", "flags",  "day"};

/*
 * A batch's check-ins name their events and boots by index into two short
 * lists. When a record would need one entry more than a list holds, the
 * batch closes before it (fast_add answers FAST_FULL) and that record opens
 * the next batch: no limit here can stop a queue from draining.
 */
#define FAST_EVENTS 64
#define FAST_BOOTS  16
enum { FAST_ADDED = 0, FAST_FULL = 1, FAST_BAD = -1 };

typedef struct fastcols {
	sbuf col[K_N];
	char events[FAST_EVENTS][STORE_ID_MAX], boots[FAST_BOOTS][48];
	int nevents, nboots;
	int64_t last_wall, last_mono, last_seq;
	size_t n;
	/* the method and key of the record before, checked already: a batch has a few of each */
	char method[16], key[48];
} fastcols;

static int find_event(const fastcols *c, const char *s)
{
	for (int i = 0; i < c->nevents; i++)
		if (strcmp(c->events[i], s) == 0)
			return i;
	return -1;
}

static int find_boot(const fastcols *c, const char *s)
{
	for (int i = 0; i < c->nboots; i++)
		if (strcmp(c->boots[i], s) == 0)
			return i;
	return -1;
}

static int fast_add(fastcols *c, const wire_rec *w)
{
	if (!wire_is_id(w->id) || !wire_is_id(w->member) || !(w->event[0] == '\0' || wire_is_id(w->event)))
		return FAST_BAD;
	int ev = w->event[0] ? find_event(c, w->event) : -1;
	int boot = find_boot(c, w->boot);
	/* a boot on the list was checked when it went on it */
	if ((boot < 0 && !check_text(w->boot, 39, 0)) ||
	    ((!c->n || strcmp(w->method, c->method) != 0) &&
	     !check_text(w->method, sizeof w->method - 1, 0)) ||
	    ((!c->n || strcmp(w->key, c->key) != 0) && !check_text(w->key, sizeof w->key - 1, 0)))
		return FAST_BAD;
	if ((w->event[0] && ev < 0 && c->nevents == FAST_EVENTS) || (boot < 0 && c->nboots == FAST_BOOTS))
		return FAST_FULL; /* nothing of this record was added */
	if (w->event[0] && ev < 0) {
		ev = c->nevents++;
		snprintf(c->events[ev], STORE_ID_MAX, "%s", w->event);
	}
	if (boot < 0) {
		boot = c->nboots++;
		snprintf(c->boots[boot], 48, "%s", w->boot);
	}
	const char *sep = c->n ? "," : "";
	for (int k = 0; k < K_N; k++)
		sb_str(&c->col[k], sep);
	sb_json(&c->col[K_ID], w->id);
	sb_json(&c->col[K_MEMBER], w->member);
	sb_int(&c->col[K_EVENT], ev);
	sb_json(&c->col[K_METHOD], w->method);
	sb_int(&c->col[K_WALL], c->n ? w->wall_ms - c->last_wall : w->wall_ms);
	sb_int(&c->col[K_MONO], c->n ? w->mono_ms - c->last_mono : w->mono_ms);
	sb_int(&c->col[K_BOOT], boot);
	sb_int(&c->col[K_SEQ], c->n ? w->seq - c->last_seq : w->seq);
	sb_int(&c->col[K_VISIT], w->visit);
	sb_int(&c->col[K_FLAGS], checkin_flags(w->expired, w->join_qr));
	sb_json(&c->col[K_DAY], strncmp(w->key, "d:", 2) == 0 ? w->key + 2 : "");
	c->last_wall = w->wall_ms, c->last_mono = w->mono_ms, c->last_seq = w->seq;
	c->n++;
	copy(c->method, sizeof c->method, w->method);
	copy(c->key, sizeof c->key, w->key);
	return FAST_ADDED;
}

/* The "checkins" object's text, appended to out. */
static void fast_emit(const fastcols *c, sbuf *out)
{
	sb_str(out, "{\"events\":[");
	for (int i = 0; i < c->nevents; i++) {
		sb_str(out, i ? "," : "");
		sb_json(out, c->events[i]);
	}
	sb_str(out, "],\"boots\":[");
	for (int i = 0; i < c->nboots; i++) {
		sb_str(out, i ? "," : "");
		sb_json(out, c->boots[i]);
	}
	sb_str(out, "]");
	for (int k = 0; k < K_N; k++) {
		sb_str(out, ",\"");
		sb_str(out, k_names[k]);
		sb_str(out, "\":[");
		if (c->col[k].p)
			sb_add(out, c->col[k].p, c->col[k].n);
		sb_str(out, "]");
	}
	sb_str(out, "}");
}

/* A member, event or other record as the protocol's "records" entry. */
static json_t *record(const wire_rec *r, json_t *b)
{
	json_t *out = json_object();
	json_object_set_new(out, "kind", json_string(r->kind));
	json_object_set_new(out, "id", json_string(r->id));
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v)
	{
		if (strcmp(k, "uid") == 0 || strcmp(k, "id") == 0 || strcmp(k, "device_id") == 0)
			continue;
		json_object_set(out, strcmp(k, "device_seq") == 0 ? "seq" : k, v);
	}
	return out;
}

char *wire_push_body(const char *device_id, int64_t device_time_ms, const wire_rec *recs, size_t n, char *why,
		     size_t len)
{
	size_t used = 0;
	char *body = wire_push_body_fit(device_id, device_time_ms, recs, n, &used, why, len);
	if (body && used < n) {
		say(why, len, "%zu records need more than %d events or %d boots", n, FAST_EVENTS, FAST_BOOTS);
		free(body);
		return NULL;
	}
	return body;
}

char *wire_push_body_fit(const char *device_id, int64_t device_time_ms, const wire_rec *recs, size_t n,
			 size_t *used, char *why, size_t len)
{
	columns c = {.id = json_array(),
		     .member = json_array(),
		     .events = json_array(),
		     .event = json_array(),
		     .method = json_array(),
		     .wall = json_array(),
		     .mono = json_array(),
		     .boots = json_array(),
		     .boot = json_array(),
		     .seq = json_array(),
		     .visit = json_array(),
		     .flags = json_array(),
		     .day = json_array()};
	fastcols *fc = calloc(1, sizeof *fc);
	json_t *records = json_array();
	char *out = NULL;
	sbuf body = {0};
	int slow = 0;
	if (!fc)
		goto done;
	/* check-ins given by their fields go the fast way; a batch is one or the other */
	for (size_t i = 0; i < n; i++)
		slow |= strcmp(recs[i].kind, "checkin") == 0 && !recs[i].cols;
	size_t fit = 0;
	for (size_t i = 0; i < n; i++) {
		int bad;
		if (strcmp(recs[i].kind, "checkin") == 0 && recs[i].cols && !slow) {
			int added = fast_add(fc, &recs[i]);
			if (added == FAST_FULL)
				break; /* this record and the rest go in the next batch */
			bad = added != FAST_ADDED;
		} else {
			json_t *b = recs[i].body ? json_loads(recs[i].body, 0, NULL) : NULL;
			bad = !json_is_object(b);
			if (!bad && strcmp(recs[i].kind, "checkin") == 0)
				bad = add_checkin(&c, b) != 0;
			else if (!bad)
				json_array_append_new(records, record(&recs[i], b));
			json_decref(b);
		}
		if (bad) {
			say(why, len, "the outbox record %s is damaged", recs[i].id);
			goto done;
		}
		fit = i + 1;
	}
	json_t *head =
	    json_pack("{s:s,s:I}", "device_id", device_id, "device_time_ms", (json_int_t)device_time_ms);
	if (c.n)
		json_object_set_new(head, "checkins",
				    json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id",
					      c.id, "member", c.member, "events", c.events, "event", c.event,
					      "method", c.method, "wall_ms", c.wall, "mono_ms", c.mono,
					      "boots", c.boots, "boot", c.boot, "seq", c.seq, "visit",
					      c.visit, "flags", c.flags, "day", c.day));
	if (json_array_size(records))
		json_object_set(head, "records", records);
	char *text = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	if (!text)
		goto done;
	if (used)
		*used = fit;
	if (!fc->n) {
		out = text;
		goto done;
	}
	/* the head object, its closing brace replaced by the check-in columns */
	size_t tl = strlen(text);
	sb_add(&body, text, tl - 1);
	free(text);
	sb_str(&body, ",\"checkins\":");
	fast_emit(fc, &body);
	sb_str(&body, "}");
	if (!body.oom) {
		out = body.p;
		body.p = NULL;
	}
done:
	free(body.p);
	if (fc)
		for (int k = 0; k < K_N; k++)
			free(fc->col[k].p);
	free(fc);
	json_decref(c.id), json_decref(c.member), json_decref(c.events), json_decref(c.event);
	json_decref(c.method), json_decref(c.wall), json_decref(c.mono), json_decref(c.boots);
	json_decref(c.boot), json_decref(c.seq), json_decref(c.visit), json_decref(c.flags),
	    json_decref(c.day);
	json_decref(records);
	return out;
}

/* The first digit of a push body's device_time_ms, or NULL. */
static const char *time_at(const char *body)
{
	/* the head is {"device_id":"<32 hex>","device_time_ms":N,...: the first such key is the head's */
	static const char key[] = "\"device_time_ms\":";
	const char *at = body ? strstr(body, key) : NULL;
	return at ? at + sizeof key - 1 : NULL;
}

size_t wire_push_time_end(const char *body)
{
	const char *at = time_at(body);
	size_t digits = at ? strspn(at, "0123456789") : 0;
	return digits ? (size_t)(at - body) + digits : 0;
}

int wire_push_restamp(char *body, int64_t device_time_ms)
{
	const char *at = time_at(body);
	size_t digits = at ? strspn(at, "0123456789") : 0;
	char t[24];
	int len = snprintf(t, sizeof t, "%lld", (long long)device_time_ms);
	if (digits == 0 || len < 0 || (size_t)len != digits)
		return -1;
	memcpy(body + (at - body), t, digits);
	return 0;
}

static int cmp_id(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int wire_push_reply(const char *text, size_t len, const wire_rec *sent, size_t nsent, store_ack **acks,
		    size_t *n, int64_t *offset_ms, char *why, size_t whylen)
{
	*acks = NULL;
	*n = 0;
	json_t *j = load(text, len, why, whylen);
	if (!j)
		return -1;
	json_t *results = json_object_get(j, "results"), *off = json_object_get(j, "offset_ms");
	if (!json_is_array(results) || json_array_size(results) > MAX_RESULTS) {
		say(why, whylen, "the reply has no \"results\" list of at most %d entries", MAX_RESULTS);
		json_decref(j);
		return -1;
	}
	*offset_ms = json_is_integer(off) ? json_integer_value(off) : 0;
	const char *others = json_string_value(json_object_get(j, "others"));
	int rest_ok = others && strcmp(others, "ok") == 0;
	size_t count = json_array_size(results);
	store_ack *a = calloc(count + (rest_ok ? nsent : 0) + 1, sizeof *a);
	if (!a) {
		json_decref(j);
		return -1;
	}
	size_t i;
	json_t *r;
	json_array_foreach(results, i, r)
	{
		const char *id = json_string_value(json_object_get(r, "id"));
		const char *status = json_string_value(json_object_get(r, "status"));
		const char *reason = json_string_value(json_object_get(r, "reason"));
		json_t *merged = json_object_get(r, "merged_into");
		if (!wire_is_id(id) || !status ||
		    (merged && !json_is_null(merged) && !wire_is_id(json_string_value(merged)))) {
			say(why, whylen, "result %zu of the reply is malformed", i);
			free(a);
			json_decref(j);
			return -1;
		}
		snprintf(a[i].id, sizeof a[i].id, "%s", id);
		if (strcmp(status, "ok") == 0) {
			a[i].status = STORE_ACK_OK;
		} else if (strcmp(status, "duplicate") == 0) {
			a[i].status = STORE_ACK_DUPLICATE;
		} else if (strcmp(status, "rejected") == 0) {
			a[i].status = STORE_ACK_REJECTED;
			snprintf(a[i].reason, sizeof a[i].reason, "%s",
				 reason && check_text(reason, 63, 0) ? reason : "rejected");
		} else {
			say(why, whylen, "result %zu has an unknown status", i);
			free(a);
			json_decref(j);
			return -1;
		}
		if (merged && wire_is_id(json_string_value(merged)))
			snprintf(a[i].merged_into, sizeof a[i].merged_into, "%s", json_string_value(merged));
	}
	/*
	 * "others": "ok": every record sent and not listed was stored. The
	 * listed ids are sorted and each sent one looked up, so a reply that
	 * lists a whole batch (a batch sent again after a crash) costs
	 * n log n, not n * n.
	 */
	size_t listed = count;
	const char **sorted = rest_ok && listed ? malloc(listed * sizeof *sorted) : NULL;
	if (rest_ok && listed && !sorted) {
		free(a);
		json_decref(j);
		return -1;
	}
	if (sorted) {
		for (size_t m = 0; m < listed; m++)
			sorted[m] = a[m].id;
		qsort(sorted, listed, sizeof *sorted, cmp_id);
	}
	for (size_t k = 0; rest_ok && k < nsent; k++) {
		const char *id = sent[k].id;
		if (sorted && bsearch(&id, sorted, listed, sizeof *sorted, cmp_id))
			continue;
		size_t idlen = strnlen(id, sizeof a[count].id - 1);
		memcpy(a[count].id, id, idlen);
		a[count].id[idlen] = '\0';
		a[count++].status = STORE_ACK_OK;
	}
	free(sorted);
	json_decref(j);
	*acks = a;
	*n = count;
	return 0;
}

/* ---- pull ---- */

static int url_ok(const char *s)
{
	if (!s || strlen(s) > 1024 || !(strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	return strlen(s) > 8;
}

/* NULL-or-string field: 1 when absent/null, or a string passing ok(). */
#define OPT_STR(v, ok) (!(v) || json_is_null(v) || (json_is_string(v) && (ok)))

static json_t *str_or_null(json_t *v)
{
	return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

static json_t *member_item(json_t *it)
{
	json_t *uid = json_object_get(it, "uid"), *name = json_object_get(it, "name");
	json_t *phone = json_object_get(it, "phone"), *code = json_object_get(it, "code");
	json_t *tier = json_object_get(it, "tier"), *exp = json_object_get(it, "expires");
	json_t *merged = json_object_get(it, "merged_into");
	int deleted = json_is_true(json_object_get(it, "deleted"));
	if (!wire_is_id(json_string_value(uid)) || !OPT_STR(merged, wire_is_id(json_string_value(merged))))
		return NULL;
	int gone = deleted || (merged && !json_is_null(merged));
	if (!gone && (!check_text(json_string_value(name), STORE_NAME_MAX - 1, 0) ||
		      !OPT_STR(phone, check_phone(json_string_value(phone))) ||
		      !OPT_STR(code, check_text(json_string_value(code), STORE_CODE_MAX - 1, 0)) ||
		      !OPT_STR(tier, check_text(json_string_value(tier), STORE_TIER_MAX - 1, 1)) ||
		      !OPT_STR(exp, check_day(json_string_value(exp)))))
		return NULL;
	if (!gone && json_is_null(phone) && json_is_null(code) && !phone && !code)
		return NULL;
	return json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:i,s:o}", "uid", json_string_value(uid), "name",
			 json_is_string(name) ? json_string_value(name) : "", "phone", str_or_null(phone),
			 "code", str_or_null(code), "tier",
			 json_is_string(tier) ? json_string_value(tier) : "", "expires",
			 json_is_string(exp) ? json_string_value(exp) : "", "deleted", deleted ? 1 : 0,
			 "merged_into", str_or_null(merged));
}

static json_t *event_item(json_t *it)
{
	json_t *uid = json_object_get(it, "uid"), *title = json_object_get(it, "title");
	json_t *a = json_object_get(it, "start_ms"), *b = json_object_get(it, "end_ms");
	int deleted = json_is_true(json_object_get(it, "deleted"));
	if (!wire_is_id(json_string_value(uid)))
		return NULL;
	if (!deleted && (!check_text(json_string_value(title), STORE_TITLE_MAX - 1, 0) || !json_is_integer(a) ||
			 !json_is_integer(b) || json_integer_value(b) <= json_integer_value(a)))
		return NULL;
	return json_pack("{s:s,s:s,s:I,s:I,s:i}", "uid", json_string_value(uid), "title",
			 deleted ? "-" : json_string_value(title), "start_ms",
			 deleted ? 0 : json_integer_value(a), "end_ms", deleted ? 1 : json_integer_value(b),
			 "deleted", deleted ? 1 : 0);
}

static int platform_ok(const char *p)
{
	static const char *const ok[] = {"wechat", "line", "telegram", "discord", "url"};
	for (size_t i = 0; p && i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(p, ok[i]) == 0)
			return 1;
	return 0;
}

static json_t *link_item(json_t *it)
{
	json_t *uid = json_object_get(it, "uid"), *label = json_object_get(it, "label");
	json_t *url = json_object_get(it, "url"), *live = json_object_get(it, "live_url");
	json_t *exp = json_object_get(it, "expires_ms"), *cap = json_object_get(it, "cap");
	json_t *ev = json_object_get(it, "event");
	const char *platform = json_string_value(json_object_get(it, "platform"));
	int deleted = json_is_true(json_object_get(it, "deleted"));
	if (!wire_is_id(json_string_value(uid)))
		return NULL;
	if (!deleted &&
	    (!platform_ok(platform) || !check_text(json_string_value(label), STORE_TITLE_MAX - 1, 0) ||
	     !url_ok(json_string_value(url)) || !OPT_STR(live, url_ok(json_string_value(live))) ||
	     !OPT_STR(ev, wire_is_id(json_string_value(ev))) ||
	     !(!exp || json_is_null(exp) || (json_is_integer(exp) && json_integer_value(exp) > 0)) ||
	     !(!cap || json_is_null(cap) || (json_is_integer(cap) && json_integer_value(cap) > 0))))
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:i,s:o,s:i}", "uid", json_string_value(uid),
			 "platform", deleted ? "url" : platform, "label",
			 deleted ? "-" : json_string_value(label), "url",
			 deleted ? "https://-" : json_string_value(url), "expires_ms",
			 json_is_integer(exp) ? json_integer(json_integer_value(exp)) : json_null(), "cap",
			 json_is_integer(cap) ? json_integer(json_integer_value(cap)) : json_null(), "event",
			 str_or_null(ev), "default", json_is_true(json_object_get(it, "default")) ? 1 : 0,
			 "live_url", str_or_null(live), "deleted", deleted ? 1 : 0);
}

/* An item of the passes set (PROTOCOL.md): a key, the tier names, or a revocation. */
static json_t *pass_item(json_t *it)
{
	const char *kind = json_string_value(json_object_get(it, "kind"));
	if (kind && strcmp(kind, "key") == 0) {
		json_t *kid = json_object_get(it, "kid");
		const char *pk = json_string_value(json_object_get(it, "public"));
		if (!json_is_integer(kid) || json_integer_value(kid) < 1 || json_integer_value(kid) > 63 || !pk ||
		    strlen(pk) != 64 || strspn(pk, "0123456789abcdef") != 64)
			return NULL;
		return json_pack("{s:s,s:I,s:s,s:i}", "kind", "key", "kid", json_integer_value(kid), "public", pk,
				 "retired", json_is_true(json_object_get(it, "retired")) ? 1 : 0);
	}
	if (kind && strcmp(kind, "tiers") == 0) {
		json_t *tiers = json_object_get(it, "tiers"), *t;
		size_t i;
		if (!json_is_array(tiers) || json_array_size(tiers) > 15)
			return NULL;
		json_array_foreach(tiers, i, t)
		{
			if (!check_text(json_string_value(t), STORE_TIER_MAX - 1, 1))
				return NULL;
		}
		return json_pack("{s:s,s:O}", "kind", "tiers", "tiers", tiers);
	}
	if (kind && strcmp(kind, "revoked") == 0) {
		json_t *n = json_object_get(it, "number"), *b = json_object_get(it, "before");
		if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) >= (1LL << 31) ||
		    !json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) >= (1LL << 25))
			return NULL;
		return json_pack("{s:s,s:I,s:I}", "kind", "revoked", "number", json_integer_value(n), "before",
				 json_integer_value(b));
	}
	return NULL;
}

/* Where the value of the last "key" (quotes included) in text[0..len) begins, or NULL. */
static const char *last_value(const char *text, size_t len, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = len >= k ? len - k + 1 : 0; i-- > 0;) {
		if (memcmp(text + i, key, k) != 0)
			continue;
		size_t j = i + k;
		while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
			j++;
		if (j >= len || text[j] != ':')
			continue;
		for (j++; j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'); j++)
			;
		return text + j;
	}
	return NULL;
}

int wire_pull_peek(const char *text, size_t len, int64_t *next, int *more)
{
	const char *n = last_value(text, len, "\"next\""), *m = last_value(text, len, "\"more\"");
	const char *end = text + len;
	if (!n || !m || n >= end || *n < '0' || *n > '9')
		return -1;
	int64_t v = 0;
	for (; n < end && *n >= '0' && *n <= '9'; n++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*n - '0');
	}
	if (end - m >= 4 && memcmp(m, "true", 4) == 0)
		*more = 1;
	else if (end - m >= 5 && memcmp(m, "false", 5) == 0)
		*more = 0;
	else
		return -1;
	*next = v;
	return 0;
}

int wire_pull_reply(const char *text, size_t len, store_set set, int64_t since, wire_page *page, char *why,
		    size_t whylen)
{
	memset(page, 0, sizeof *page);
	json_t *j = load(text, len, why, whylen);
	if (!j)
		return -1;
	json_t *items = json_object_get(j, "items"), *next = json_object_get(j, "next");
	const char *name = json_string_value(json_object_get(j, "set"));
	int rc = -1;
	json_t *out = NULL;
	if (!name || strcmp(name, store_set_name(set)) != 0) {
		say(why, whylen, "the reply is not for the data set %s", store_set_name(set));
		goto done;
	}
	if (!json_is_array(items) || json_array_size(items) > MAX_ITEMS || !json_is_integer(next) ||
	    json_integer_value(next) < 0) {
		say(why, whylen, "the reply has no \"items\" list of at most %d, or no \"next\"", MAX_ITEMS);
		goto done;
	}
	page->reset = json_is_true(json_object_get(j, "reset"));
	page->more = json_is_true(json_object_get(j, "more"));
	page->next = json_integer_value(next);
	if (!page->reset && page->next < since) {
		say(why, whylen, "the reply's \"next\" goes back before the cursor");
		goto done;
	}
	out = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *c = !json_is_object(it)        ? NULL
			    : set == STORE_SET_MEMBERS ? member_item(it)
			    : set == STORE_SET_EVENTS  ? event_item(it)
			    : set == STORE_SET_LINKS   ? link_item(it)
						       : pass_item(it);
		if (!c) {
			say(why, whylen, "item %zu of the %s page is malformed", i, store_set_name(set));
			goto done;
		}
		json_array_append_new(out, c);
	}
	page->items = json_dumps(out, JSON_COMPACT);
	page->count = json_array_size(out);
	rc = page->items ? 0 : -1;
done:
	json_decref(out);
	json_decref(j);
	return rc;
}

void wire_page_free(wire_page *page)
{
	free(page->items);
	page->items = NULL;
}

/* ---- enrolment and errors ---- */

char *wire_enroll_body(const char *code, const char *device_id, const char *name, const char *public_key_hex)
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "code", code, "device_id", device_id, "name",
			      name ? name : "", "public_key", public_key_hex);
	char *out = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	return out;
}

int wire_enroll_reply(const char *text, size_t len, wire_enrolled *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	json_t *j = load(text, len, why, whylen);
	if (!j)
		return -1;
	const char *dev = json_string_value(json_object_get(j, "device_id"));
	const char *token = json_string_value(json_object_get(j, "token"));
	json_t *venue = json_object_get(j, "venue");
	const char *vid = json_string_value(json_object_get(venue, "id"));
	const char *vname = json_string_value(json_object_get(venue, "name"));
	json_t *t = json_object_get(j, "server_time_ms");
	int ok = wire_is_id(dev) && token && strncmp(token, "tzd1.", 5) == 0 &&
		 check_text(token, WIRE_TOKEN_MAX - 1, 0) && strchr(token, ' ') == NULL && wire_is_id(vid) &&
		 (!vname || check_text(vname, STORE_TITLE_MAX - 1, 1));
	if (ok) {
		snprintf(out->device_id, sizeof out->device_id, "%s", dev);
		snprintf(out->token, sizeof out->token, "%s", token);
		snprintf(out->venue_id, sizeof out->venue_id, "%s", vid);
		snprintf(out->venue_name, sizeof out->venue_name, "%s", vname ? vname : "");
		out->server_time_ms = json_is_integer(t) ? json_integer_value(t) : 0;
	} else {
		say(why, whylen, "the enrolment reply is malformed");
	}
	json_decref(j);
	return ok ? 0 : -1;
}

void wire_error_reply(const char *text, size_t len, char *code, size_t codelen, char *msg, size_t msglen)
{
	code[0] = msg[0] = '\0';
	json_t *j = len <= 65536 ? json_loadb(text, len, 0, NULL) : NULL;
	const char *c = json_string_value(json_object_get(j, "error"));
	const char *m = json_string_value(json_object_get(j, "message"));
	if (c && check_text(c, codelen - 1, 0))
		snprintf(code, codelen, "%s", c);
	if (m && check_text(m, msglen - 1, 0))
		snprintf(msg, msglen, "%s", m);
	json_decref(j);
}
