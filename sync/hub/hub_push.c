/*
 * hub_push — see hub_push.h.
 */
#include "sync/hub/hub_push.h"
#include "sync/check.h"
#include "sync/hub/hub_util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/*
 * One pass over JSON text, outside its strings: 0 as soon as it nests deeper
 * than max_depth, else 1 with *values the number of values it would hold.
 */
int hub_json_shape(const char *text, size_t len, int max_depth, size_t *values)
{
	int depth = 0, in_string = 0;
	*values = 1;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			++*values;
			if (++depth > max_depth)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		} else if (c == ',') {
			++*values;
		}
	}
	return 1;
}

int hub_json_depth_ok(const char *text, size_t len, int max)
{
	size_t values;
	return hub_json_shape(text, len, max, &values);
}

size_t hub_json_values(const char *text, size_t len)
{
	size_t values;
	hub_json_shape(text, len, INT_MAX, &values);
	return values;
}

typedef struct err {
	int *status;
	char *code, *msg;
	size_t codelen, msglen;
} err;

static int PRINTF_LIKE(4, 5) refuse(const err *e, int status, const char *code, const char *fmt, ...)
{
	*e->status = status;
	snprintf(e->code, e->codelen, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, e->msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A time a record may carry: 1970 to the year 3000, in Unix ms. */
#define TIME_MAX 32503680000000LL

static int time_ok(int64_t ms)
{
	return ms >= 0 && ms <= TIME_MAX;
}

static int method_ok(const char *m)
{
	static const char *const ok[] = {"scan", "phone", "name", "walkin", "staff", "cli"};
	for (size_t i = 0; m && i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(m, ok[i]) == 0)
			return 1;
	return 0;
}

static const char *const columns[] = {"id",   "member", "event", "method", "wall_ms", "mono_ms",
				      "boot", "seq",    "visit", "flags",  "day"};
enum { C_ID, C_MEMBER, C_EVENT, C_METHOD, C_WALL, C_MONO, C_BOOT, C_SEQ, C_VISIT, C_FLAGS, C_DAY, C_COUNT };

/* A value no kiosk should send: this check-in is refused, the others go on. */
static void judge_checkin(const hub_checkin *k, hub_result *r)
{
	const char *why = !method_ok(k->method)                   ? "bad_method"
			  : !check_day(k->kiosk_day)              ? "bad_day"
			  : !time_ok(k->wall_ms)                  ? "bad_time"
			  : k->visit < 1 || k->visit > 1000000000 ? "bad_visit"
			  : k->flags < 0 || k->flags > 0xffff     ? "bad_flags"
			  : k->seq < 0                            ? "bad_seq"
								  : NULL;
	r->id = k->id;
	if (why)
		r->status = HUB_RES_REJECTED, r->reason = why;
}

static int read_checkins(json_t *c, hub_batch *b, const err *e)
{
	if (!json_is_object(c))
		return refuse(e, 400, "bad_field", "\"checkins\" is not an object");
	json_t *col[C_COUNT];
	size_t n = 0;
	for (int k = 0; k < C_COUNT; k++) {
		col[k] = json_object_get(c, columns[k]);
		if (!json_is_array(col[k]))
			return refuse(e, 400, "bad_field", "checkins.%s is missing or not an array", columns[k]);
		if (k == 0)
			n = json_array_size(col[k]);
		else if (json_array_size(col[k]) != n)
			return refuse(e, 400, "bad_field", "checkins.%s has %zu entries, checkins.id %zu", columns[k],
				      json_array_size(col[k]), n);
	}
	if (n > HUB_MAX_CHECKINS)
		return refuse(e, 413, "too_many_records", "%zu check-ins in one push; at most %d", n,
			      HUB_MAX_CHECKINS);
	json_t *events = json_object_get(c, "events"), *boots = json_object_get(c, "boots");
	if (!json_is_array(events) || !json_is_array(boots))
		return refuse(e, 400, "bad_field", "checkins.events or checkins.boots is missing");
	size_t i;
	json_t *v;
	json_array_foreach(events, i, v) if (!check_hex(json_string_value(v), 32)) return refuse(
	    e, 400, "bad_field", "checkins.events[%zu] is not an event id", i);
	json_array_foreach(boots, i, v) if (!check_text(json_string_value(v), 39, 0)) return refuse(
	    e, 400, "bad_field", "checkins.boots[%zu] is not a boot id of at most 39 bytes", i);
	b->checkins = calloc(n ? n : 1, sizeof *b->checkins);
	if (!b->checkins)
		return refuse(e, 500, "internal", "out of memory");
	b->ncheckins = n;
	int64_t wall = 0, mono = 0, seq = 0;
	for (i = 0; i < n; i++) {
		hub_checkin *k = &b->checkins[i];
		json_t *ev = json_array_get(col[C_EVENT], i), *bt = json_array_get(col[C_BOOT], i);
		json_t *w = json_array_get(col[C_WALL], i), *m = json_array_get(col[C_MONO], i);
		json_t *q = json_array_get(col[C_SEQ], i), *vis = json_array_get(col[C_VISIT], i);
		json_t *fl = json_array_get(col[C_FLAGS], i);
		k->id = json_string_value(json_array_get(col[C_ID], i));
		k->member = json_string_value(json_array_get(col[C_MEMBER], i));
		if (!check_hex(k->id, 32))
			return refuse(e, 400, "bad_field", "checkins.id[%zu] is not a 32-hex id", i);
		if (!check_hex(k->member, 32))
			return refuse(e, 400, "bad_field", "checkins.member[%zu] is not a 32-hex id", i);
		if (!json_is_integer(ev) || json_integer_value(ev) < -1 ||
		    json_integer_value(ev) >= (json_int_t)json_array_size(events))
			return refuse(e, 400, "bad_field", "checkins.event[%zu] is not -1 or an index into events", i);
		if (!json_is_integer(bt) || json_integer_value(bt) < 0 ||
		    json_integer_value(bt) >= (json_int_t)json_array_size(boots))
			return refuse(e, 400, "bad_field", "checkins.boot[%zu] is not an index into boots", i);
		if (!json_is_integer(w) || !json_is_integer(m) || !json_is_integer(q) || !json_is_integer(vis) ||
		    !json_is_integer(fl))
			return refuse(e, 400, "bad_field",
				      "checkins.wall_ms, mono_ms, seq, visit or flags [%zu] is not an integer", i);
		/* differences, so overflow is checked */
		if (__builtin_add_overflow(i ? wall : 0, json_integer_value(w), &wall) ||
		    __builtin_add_overflow(i ? mono : 0, json_integer_value(m), &mono) ||
		    __builtin_add_overflow(i ? seq : 0, json_integer_value(q), &seq))
			return refuse(e, 400, "bad_field", "checkins times or seq [%zu] overflow", i);
		k->event = json_integer_value(ev) < 0 ? NULL
						      : json_string_value(json_array_get(events, (size_t)json_integer_value(ev)));
		k->boot = json_string_value(json_array_get(boots, (size_t)json_integer_value(bt)));
		k->method = json_string_value(json_array_get(col[C_METHOD], i));
		k->kiosk_day = json_string_value(json_array_get(col[C_DAY], i));
		k->wall_ms = wall;
		k->mono_ms = mono;
		k->seq = seq;
		k->visit = json_integer_value(vis);
		k->flags = json_integer_value(fl);
		judge_checkin(k, &b->results[i]);
	}
	return 0;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int is_int(json_t *o, const char *k)
{
	return json_is_integer(json_object_get(o, k));
}

static int64_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* NULL for a null or absent field, else the string (or "\x01" when not a string). */
static const char *opt(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v))
		return NULL;
	return json_is_string(v) ? json_string_value(v) : "\x01";
}

/* The record's time field, checked: "bad_time" or NULL. */
static const char *time_field(json_t *o, const char *k, int64_t *out)
{
	*out = num(o, k);
	return is_int(o, k) && time_ok(*out) ? NULL : "bad_time";
}

/*
 * The reason a record is rejected, or NULL when it is good. Every field the
 * hub keeps is read here: an audit's session, action and detail, a
 * reversal's reason, and each record's device sequence number ("seq",
 * optional for records written before it was sent, never negative).
 */
static const char *read_record(json_t *o, hub_record *r)
{
	const char *kind = str(o, "kind");
	json_t *seq = json_object_get(o, "seq");
	if (seq && !json_is_null(seq) && (!json_is_integer(seq) || json_integer_value(seq) < 0))
		return "bad_seq";
	r->seq = json_is_integer(seq) ? json_integer_value(seq) : 0;
	if (strcmp(kind, "member") == 0) {
		r->kind = HUB_REC_MEMBER;
		r->name = str(o, "name");
		r->phone = opt(o, "phone");
		r->code = opt(o, "code");
		r->provisional = json_is_true(json_object_get(o, "provisional"));
		r->created_ms = num(o, "created_ms");
		if (!check_text(r->name, 127, 0))
			return "bad_name";
		if (r->phone && !check_phone(r->phone))
			return "bad_phone";
		if (r->code && (!check_text(r->code, 63, 0) || strchr(r->code, ' ')))
			return "bad_code";
		if (!r->phone && !r->code)
			return "no_phone_or_code";
		return NULL;
	}
	if (strcmp(kind, "event") == 0) {
		r->kind = HUB_REC_EVENT;
		r->title = str(o, "title");
		r->start_ms = num(o, "start_ms");
		r->end_ms = num(o, "end_ms");
		if (!check_text(r->title, 159, 0))
			return "bad_title";
		if (time_field(o, "start_ms", &r->start_ms) || time_field(o, "end_ms", &r->end_ms) ||
		    r->end_ms <= r->start_ms)
			return "bad_time";
		return NULL;
	}
	if (strcmp(kind, "reversal") == 0) {
		r->kind = HUB_REC_REVERSAL;
		r->checkin = str(o, "checkin");
		r->reason = opt(o, "reason");
		r->wall_ms = num(o, "wall_ms");
		if (!check_hex(r->checkin, 32))
			return "bad_checkin";
		if (r->reason && !check_text(r->reason, 127, 1))
			return "bad_reason";
		return time_field(o, "wall_ms", &r->wall_ms);
	}
	if (strcmp(kind, "audit") == 0) {
		r->kind = HUB_REC_AUDIT;
		r->session = str(o, "session");
		r->action = str(o, "action");
		r->wall_ms = num(o, "wall_ms");
		json_t *detail = json_object_get(o, "detail");
		if (!check_hex(r->session, 32))
			return "bad_session";
		if (!check_text(r->action, 31, 0))
			return "bad_action";
		if (detail && !json_is_object(detail))
			return "bad_detail";
		const char *why = time_field(o, "wall_ms", &r->wall_ms);
		if (why)
			return why;
		/* kept as sent (compact JSON), owned by the batch */
		char *text = detail ? json_dumps(detail, JSON_COMPACT) : strdup("{}");
		if (!text || strlen(text) > 2048) {
			free(text);
			return "bad_detail";
		}
		r->detail = text;
		return NULL;
	}
	return "unknown_kind";
}

static int read_records(json_t *a, hub_batch *b, const err *e)
{
	if (!json_is_array(a))
		return refuse(e, 400, "bad_field", "\"records\" is not an array");
	size_t n = json_array_size(a);
	if (n > HUB_MAX_RECORDS)
		return refuse(e, 413, "too_many_records", "%zu records in one push; at most %d", n, HUB_MAX_RECORDS);
	b->records = calloc(n ? n : 1, sizeof *b->records);
	if (!b->records)
		return refuse(e, 500, "internal", "out of memory");
	b->nrecords = n;
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o)
	{
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind")) ||
		    !check_hex(str(o, "id"), 32))
			return refuse(e, 400, "bad_field", "records[%zu] has no \"kind\" or no 32-hex \"id\"", i);
		hub_record *r = &b->records[i];
		r->id = str(o, "id");
		hub_result *res = &b->results[b->ncheckins + i];
		res->id = r->id;
		const char *why = read_record(o, r);
		if (why) {
			res->status = HUB_RES_REJECTED;
			res->reason = why;
		}
	}
	return 0;
}

/*
 * ---- the fast path: a push as kiosks make it ----
 *
 * jansson makes a node for each of a push's ~12 000 values and frees them
 * again: two thirds of the hub's work on a push that was not storing. A
 * kiosk's push is one flat shape (sync/PROTOCOL.md): an object of
 * device_id, device_time_ms, the check-ins as columns of plain strings and
 * integers, and records. This reads exactly that shape in one pass, with the
 * strings copied out once, and checks it as read_checkins() does. Anything
 * else, and anything it would refuse (an escape in a string, a real number,
 * another key, a duplicate key, a column of another length, a bad id, an
 * index past a list), is left to the general path below, which reads the
 * body with jansson and says what is wrong: so the fast path only ever
 * accepts what the general path accepts, and makes the same batch of it.
 * Records, rare and of many shapes, are read by jansson from their span.
 */

typedef struct span {
	const char *p;
	size_t n;
} span;

typedef struct fcol {
	span *s;    /* a column of strings */
	int64_t *v; /* a column of integers */
	size_t n, cap;
	int seen;
} fcol;

enum { F_EVENTS = C_COUNT, F_BOOTS, F_COLS };

typedef struct fast {
	const char *p, *end;
	fcol col[F_COLS];
} fast;

static int fcol_string(int k)
{
	return k == C_ID || k == C_MEMBER || k == C_METHOD || k == C_DAY || k == F_EVENTS || k == F_BOOTS;
}

static void fast_ws(fast *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
		f->p++;
}

/* A string of printable ASCII, no escapes: its bytes (quotes excluded), or 0. */
static int fast_string(fast *f, span *out)
{
	if (f->p >= f->end || *f->p != '"')
		return 0;
	const char *q = ++f->p;
	while (q < f->end && *q != '"') {
		unsigned char ch = (unsigned char)*q;
		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			return 0;
		q++;
	}
	if (q >= f->end)
		return 0;
	out->p = f->p;
	out->n = (size_t)(q - f->p);
	f->p = q + 1;
	return 1;
}

/* An integer as JSON writes it (no fraction, no exponent), of at most 18 digits: 1, or 0. */
static int fast_int(fast *f, int64_t *out)
{
	int neg = f->p < f->end && *f->p == '-';
	const char *q = f->p + neg;
	int64_t v = 0;
	int digits = 0;
	while (q < f->end && *q >= '0' && *q <= '9' && digits < 18)
		v = v * 10 + (*q++ - '0'), digits++;
	if (digits == 0 || (digits > 1 && f->p[neg] == '0') ||
	    (q < f->end && (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9'))))
		return 0;
	*out = neg ? -v : v;
	f->p = q;
	return 1;
}

static int fast_literal(fast *f, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
		return 0;
	f->p += n;
	return 1;
}

/* Past one JSON value of any kind (strings honoured, nothing checked): 1, or 0 at the end of the text. */
static int fast_skip(fast *f)
{
	int depth = 0, in_string = 0;
	for (; f->p < f->end; f->p++) {
		char c = *f->p;
		if (in_string) {
			if (c == '\\')
				f->p++;
			else if (c == '"')
				in_string = 0;
			else
				continue;
			if (depth == 0 && !in_string) {
				f->p++;
				return 1;
			}
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth <= 0) {
				f->p++;
				return depth == 0;
			}
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			return 1;
		}
	}
	return depth == 0 && !in_string;
}

/* An object key: the key's bytes compared with names[0..n): its index, or -1. */
static int fast_key(fast *f, const char *const *names, int n)
{
	span k;
	fast_ws(f);
	if (!fast_string(f, &k))
		return -1;
	fast_ws(f);
	if (f->p >= f->end || *f->p != ':')
		return -1;
	f->p++;
	fast_ws(f);
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == k.n && memcmp(names[i], k.p, k.n) == 0)
			return i;
	return -1;
}

/* After a member of an object or array: 1 for ',' (another follows), 2 for the closing char, 0 otherwise. */
static int fast_next(fast *f, char close)
{
	fast_ws(f);
	if (f->p < f->end && *f->p == ',') {
		f->p++;
		return 1;
	}
	if (f->p < f->end && *f->p == close) {
		f->p++;
		return 2;
	}
	return 0;
}

static int fcol_add(fcol *c, int string, const span *s, int64_t v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		if (string) {
			span *p = realloc(c->s, cap * sizeof *p);
			if (!p)
				return 0;
			c->s = p;
		} else {
			int64_t *p = realloc(c->v, cap * sizeof *p);
			if (!p)
				return 0;
			c->v = p;
		}
		c->cap = cap;
	}
	if (string)
		c->s[c->n++] = *s;
	else
		c->v[c->n++] = v;
	return 1;
}

/* The "checkins" object: every column an array of strings or of integers, as its kind is. */
static int fast_columns(fast *f)
{
	static const char *const names[F_COLS] = {"id",      "member", "event", "method", "wall_ms",
						  "mono_ms", "boot",   "seq",   "visit",  "flags",
						  "day",     "events", "boots"};
	if (f->p >= f->end || *f->p != '{')
		return 0;
	f->p++;
	fast_ws(f);
	if (f->p < f->end && *f->p == '}')
		return f->p++, 1;
	for (;;) {
		int k = fast_key(f, names, F_COLS);
		if (k < 0 || f->col[k].seen || f->p >= f->end || *f->p != '[')
			return 0;
		fcol *c = &f->col[k];
		c->seen = 1;
		int string = fcol_string(k);
		f->p++;
		fast_ws(f);
		if (f->p < f->end && *f->p == ']') {
			f->p++;
		} else {
			for (;;) {
				span sp = {0};
				int64_t v = 0;
				fast_ws(f);
				if (!(string ? fast_string(f, &sp) : fast_int(f, &v)) ||
				    !fcol_add(c, string, &sp, v))
					return 0;
				int more = fast_next(f, ']');
				if (!more)
					return 0;
				if (more == 2)
					break;
			}
		}
		int more = fast_next(f, '}');
		if (more != 1)
			return more == 2;
	}
}

/* A copy of sp, NUL-terminated, at *arena (which moves on). */
static const char *fast_copy(char **arena, const span *sp)
{
	char *at = *arena;
	memcpy(at, sp->p, sp->n);
	at[sp->n] = '\0';
	*arena += sp->n + 1;
	return at;
}

/*
 * The check-ins of f, checked as read_checkins() checks them, into b: 1,
 * or 0 when any check fails (then the general path says which). The
 * check-ins and their strings are one allocation (b->checkins).
 */
static int fast_checkins(fast *f, hub_batch *b)
{
	fcol *col = f->col;
	for (int k = 0; k < F_COLS; k++)
		if (!col[k].seen || (k < C_COUNT && col[k].n != col[C_ID].n))
			return 0;
	size_t n = col[C_ID].n, ne = col[F_EVENTS].n, nb = col[F_BOOTS].n, bytes = 0;
	if (n > HUB_MAX_CHECKINS)
		return 0;
	static const int strings[] = {C_ID, C_MEMBER, C_METHOD, C_DAY, F_EVENTS, F_BOOTS};
	for (size_t j = 0; j < sizeof strings / sizeof strings[0]; j++)
		for (size_t i = 0; i < col[strings[j]].n; i++)
			bytes += col[strings[j]].s[i].n + 1;
	char *block = malloc((n ? n : 1) * sizeof(hub_checkin) + bytes + (ne + nb) * sizeof(char *));
	if (!block)
		return 0;
	hub_checkin *out = (hub_checkin *)block;
	const char **events = (const char **)(block + (n ? n : 1) * sizeof(hub_checkin)),
		   **boots = events + ne;
	char *arena = (char *)(boots + nb);
	for (size_t i = 0; i < ne; i++)
		if (!check_hex(events[i] = fast_copy(&arena, &col[F_EVENTS].s[i]), 32))
			goto no;
	for (size_t i = 0; i < nb; i++)
		if (!check_text(boots[i] = fast_copy(&arena, &col[F_BOOTS].s[i]), 39, 0))
			goto no;
	int64_t wall = 0, mono = 0, seq = 0;
	for (size_t i = 0; i < n; i++) {
		hub_checkin *k = &out[i];
		int64_t ev = col[C_EVENT].v[i], bt = col[C_BOOT].v[i];
		k->id = fast_copy(&arena, &col[C_ID].s[i]);
		k->member = fast_copy(&arena, &col[C_MEMBER].s[i]);
		k->method = fast_copy(&arena, &col[C_METHOD].s[i]);
		k->kiosk_day = fast_copy(&arena, &col[C_DAY].s[i]);
		if (!check_hex(k->id, 32) || !check_hex(k->member, 32) || ev < -1 || ev >= (int64_t)ne ||
		    bt < 0 || bt >= (int64_t)nb ||
		    __builtin_add_overflow(i ? wall : 0, col[C_WALL].v[i], &wall) ||
		    __builtin_add_overflow(i ? mono : 0, col[C_MONO].v[i], &mono) ||
		    __builtin_add_overflow(i ? seq : 0, col[C_SEQ].v[i], &seq))
			goto no;
		k->event = ev < 0 ? NULL : events[ev];
		k->boot = boots[bt];
		k->wall_ms = wall;
		k->mono_ms = mono;
		k->seq = seq;
		k->visit = col[C_VISIT].v[i];
		k->flags = col[C_FLAGS].v[i];
	}
	b->checkins = out;
	b->ncheckins = n;
	for (size_t i = 0; i < n; i++)
		judge_checkin(&out[i], &b->results[i]);
	return 1;
no:
	free(block);
	return 0;
}

static void fast_free(fast *f)
{
	for (int k = 0; k < F_COLS; k++) {
		free(f->col[k].s);
		free(f->col[k].v);
	}
}

/*
 * The fast path: 1 with b filled (its records read, or refused, as the
 * general path reads them: *rc says which), or 0 when the body is not of
 * the shape this reads (b is then as memset left it).
 */
static int fast_parse(const char *text, size_t len, hub_batch *b, const err *e, int *rc)
{
	static const char *const names[] = {"device_id", "device_time_ms", "checkins", "records"};
	fast f = {.p = text, .end = text + len};
	span device = {0}, records = {0};
	int64_t stamp = 0;
	int seen[4] = {0}, has_checkins = 0, ok = 0;
	json_t *recs = NULL;
	fast_ws(&f);
	if (f.p >= f.end || *f.p != '{')
		return 0;
	f.p++;
	for (;;) {
		int k = fast_key(&f, names, 4);
		if (k < 0 || seen[k])
			goto out;
		seen[k] = 1;
		if (k == 0 && !fast_string(&f, &device))
			goto out;
		if (k == 1 && !fast_int(&f, &stamp))
			goto out;
		if (k == 2) {
			has_checkins = !fast_literal(&f, "null");
			if (has_checkins && !fast_columns(&f))
				goto out;
		}
		if (k == 3 && !fast_literal(&f, "null")) {
			if (f.p >= f.end || *f.p != '[')
				goto out;
			records.p = f.p;
			if (!fast_skip(&f))
				goto out;
			records.n = (size_t)(f.p - records.p);
		}
		int more = fast_next(&f, '}');
		if (!more)
			goto out;
		if (more == 2)
			break;
	}
	fast_ws(&f);
	if (f.p != f.end || !seen[0] || !seen[1] || device.n != 32 || stamp < 0 || stamp > TIME_MAX)
		goto out;
	if (records.p && !(recs = json_loadb(records.p, records.n, JSON_REJECT_DUPLICATES, NULL)))
		goto out;
	size_t nc = has_checkins ? f.col[C_ID].n : 0, nr = recs ? json_array_size(recs) : 0;
	if (nc > HUB_MAX_CHECKINS || nr > HUB_MAX_RECORDS)
		goto out;
	b->json = json_object();
	json_t *dev = json_stringn(device.p, device.n);
	if (!b->json || !dev || json_object_set_new(b->json, "device_id", dev) != 0 ||
	    !check_hex(hub_push_device(b), 32) || (recs && json_object_set(b->json, "records", recs) != 0) ||
	    !(b->results = calloc(nc + nr + 1, sizeof *b->results)))
		goto out;
	b->device_time_ms = stamp;
	if (has_checkins && !fast_checkins(&f, b))
		goto out;
	ok = 1;
	*rc = recs ? read_records(recs, b, e) : 0;
out:
	json_decref(recs);
	fast_free(&f);
	if (!ok) {
		json_decref(b->json);
		free(b->results);
		memset(b, 0, sizeof *b);
	}
	return ok;
}

/* ---- the general path ---- */

int hub_push_parse(const char *text, size_t len, hub_batch *b, int *status, char *code, size_t codelen, char *msg,
		   size_t msglen)
{
	err e = {status, code, msg, codelen, msglen};
	memset(b, 0, sizeof *b);
	size_t values;
	if (!hub_json_shape(text, len, HUB_MAX_DEPTH, &values))
		return refuse(&e, 400, "bad_json", "the body nests deeper than %d levels", HUB_MAX_DEPTH);
	if (values > HUB_MAX_VALUES)
		return refuse(&e, 413, "too_many_records", "the body holds more than %d JSON values", HUB_MAX_VALUES);
	int rc;
	if (fast_parse(text, len, b, &e, &rc))
		return rc;
	json_error_t je;
	b->json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!b->json)
		return refuse(&e, 400, "bad_json", "the body is not JSON: %s (line %d, column %d)", je.text, je.line,
			      je.column);
	if (!json_is_object(b->json))
		return refuse(&e, 400, "bad_json", "the body is not a JSON object");
	if (!check_hex(str(b->json, "device_id"), 32))
		return refuse(&e, 400, "bad_field", "\"device_id\" is missing or not 32 hex digits");
	if (!is_int(b->json, "device_time_ms"))
		return refuse(&e, 400, "bad_field", "\"device_time_ms\" is missing or not an integer");
	b->device_time_ms = num(b->json, "device_time_ms");
	if (b->device_time_ms < 0 || b->device_time_ms > 32503680000000LL)
		return refuse(&e, 400, "bad_field", "\"device_time_ms\" is not a time between 1970 and 3000");
	json_t *c = json_object_get(b->json, "checkins"), *r = json_object_get(b->json, "records");
	size_t nc = json_is_object(c) && json_is_array(json_object_get(c, "id"))
			? json_array_size(json_object_get(c, "id"))
			: 0;
	size_t nr = json_is_array(r) ? json_array_size(r) : 0;
	if (nc > HUB_MAX_CHECKINS || nr > HUB_MAX_RECORDS)
		return refuse(&e, 413, "too_many_records", "%zu check-ins and %zu records in one push; at most %d of each",
			      nc, nr, HUB_MAX_CHECKINS);
	b->results = calloc(nc + nr + 1, sizeof *b->results);
	if (!b->results)
		return refuse(&e, 500, "internal", "out of memory");
	if (c && !json_is_null(c) && read_checkins(c, b, &e) != 0)
		return -1;
	b->ncheckins = c && !json_is_null(c) ? b->ncheckins : 0;
	if (r && !json_is_null(r) && read_records(r, b, &e) != 0)
		return -1;
	return 0;
}

const char *hub_push_device(const hub_batch *b)
{
	return str(b->json, "device_id");
}

char *hub_push_reply(const hub_batch *b, int64_t server_time_ms, int64_t offset_ms)
{
	json_t *results = json_array();
	for (size_t i = 0; i < b->ncheckins + b->nrecords; i++) {
		const hub_result *r = &b->results[i];
		if (r->status == HUB_RES_NONE) { /* the store answers every record it was given */
			json_decref(results);
			return NULL;
		}
		if (r->status == HUB_RES_OK && !r->merged_into[0] && !r->attendance_duplicate)
			continue; /* plainly stored: "others": "ok" says so */
		json_t *o = json_pack("{s:s,s:s}", "id", r->id, "status",
				      r->status == HUB_RES_OK	       ? "ok"
				      : r->status == HUB_RES_DUPLICATE ? "duplicate"
								       : "rejected");
		if (r->status == HUB_RES_REJECTED)
			json_object_set_new(o, "reason", json_string(r->reason ? r->reason : "rejected"));
		if (r->merged_into[0])
			json_object_set_new(o, "merged_into", json_string(r->merged_into));
		if (r->attendance_duplicate)
			json_object_set_new(o, "attendance", json_string("duplicate"));
		json_array_append_new(results, o);
	}
	json_t *reply = json_pack("{s:I,s:I,s:o,s:s}", "server_time_ms", (json_int_t)server_time_ms, "offset_ms",
				  (json_int_t)offset_ms, "results", results, "others", "ok");
	char *text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	return text;
}

void hub_batch_free(hub_batch *b)
{
	for (size_t i = 0; b->records && i < b->nrecords; i++)
		free((char *)b->records[i].detail);
	free(b->checkins);
	free(b->records);
	free(b->results);
	json_decref(b->json);
	memset(b, 0, sizeof *b);
}
