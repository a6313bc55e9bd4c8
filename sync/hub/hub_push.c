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
		hub_result *r = &b->results[i];
		r->id = k->id;
		/* a value no kiosk should send: this record is refused, the others go on */
		if (!method_ok(k->method))
			r->status = HUB_RES_REJECTED, r->reason = "bad_method";
		else if (!check_day(k->kiosk_day))
			r->status = HUB_RES_REJECTED, r->reason = "bad_day";
		else if (!time_ok(wall))
			r->status = HUB_RES_REJECTED, r->reason = "bad_time";
		else if (k->visit < 1 || k->visit > 1000000000)
			r->status = HUB_RES_REJECTED, r->reason = "bad_visit";
		else if (k->flags < 0 || k->flags > 0xffff)
			r->status = HUB_RES_REJECTED, r->reason = "bad_flags";
		else if (seq < 0)
			r->status = HUB_RES_REJECTED, r->reason = "bad_seq";
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
