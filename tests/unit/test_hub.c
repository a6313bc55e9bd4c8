/*
 * The hub's parts without HTTP: a push body read and checked, venue-local
 * days across time zones and daylight saving, and the store's exactly-once,
 * attendance, merge, reversal, pull paging, enrolment and live-code rules,
 * each on a real SQLite file or, run as unit.test_hub.pg, a real PostgreSQL
 * database (tests/unit/hubdb.h).
 */
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEV_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID(n) "00000000000000000000000000000" n /* 29 zeros and 3 digits */

/* ---- push bodies ---- */

typedef struct parsed {
	int rc, status;
	char code[32], msg[300];
	hub_batch b;
} parsed;

static parsed parse(const char *text)
{
	parsed p;
	memset(&p, 0, sizeof p);
	p.rc = hub_push_parse(text, strlen(text), &p.b, &p.status, p.code, sizeof p.code, p.msg, sizeof p.msg);
	return p;
}

/* A body with n check-ins of member ID(100+i), the given method for all. */
static char *checkins_body(int n, const char *method, int event_index)
{
	size_t cap = 4096 + (size_t)n * 200;
	char *t = malloc(cap);
	size_t k = (size_t)snprintf(t, cap, "{\"device_id\":\"%s\",\"device_time_ms\":1795000000000,\"checkins\":{",
				    DEV_A);
	const char *cols[] = {"id", "member", "event", "method", "wall_ms", "mono_ms", "boot", "seq", "visit", "flags", "day"};
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
		k += (size_t)snprintf(t + k, cap - k, "%s\"%s\":[", c ? "," : "", cols[c]);
		for (int i = 0; i < n; i++) {
			const char *sep = i ? "," : "";
			switch (c) {
			case 0: k += (size_t)snprintf(t + k, cap - k, "%s\"%032x\"", sep, 0x1000 + i); break;
			case 1: k += (size_t)snprintf(t + k, cap - k, "%s\"%032x\"", sep, 100 + i); break;
			case 2: k += (size_t)snprintf(t + k, cap - k, "%s%d", sep, event_index); break;
			case 3: k += (size_t)snprintf(t + k, cap - k, "%s\"%s\"", sep, method); break;
			case 4: k += (size_t)snprintf(t + k, cap - k, "%s%s", sep, i ? "1000" : "1795000000000"); break;
			case 5: k += (size_t)snprintf(t + k, cap - k, "%s%s", sep, i ? "1000" : "5000"); break;
			case 6: case 9: k += (size_t)snprintf(t + k, cap - k, "%s0", sep); break;
			case 7: case 8: k += (size_t)snprintf(t + k, cap - k, "%s1", sep); break;
			case 10: k += (size_t)snprintf(t + k, cap - k, "%s\"%s\"", sep, event_index < 0 ? "2026-11-22" : ""); break;
			}
		}
		k += (size_t)snprintf(t + k, cap - k, "]");
	}
	snprintf(t + k, cap - k, ",\"events\":[\"%032x\"],\"boots\":[\"boot-1\"]}}", 0xe1);
	return t;
}

static void test_push_parse(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int status;
		const char *code, *says;
	} bad[] = {
	    {"{\"device_id\":", 400, "bad_json", "not JSON"},
	    {"[1,2]", 400, "bad_json", "not a JSON object"},
	    {"{\"device_time_ms\":1}", 400, "bad_field", "device_id"},
	    {"{\"device_id\":\"" DEV_A "\"}", 400, "bad_field", "device_time_ms"},
	    {"{\"device_id\":\"" DEV_A "\",\"device_time_ms\":-5}", 400, "bad_field", "device_time_ms"},
	    {"{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"checkins\":{\"id\":[\"" ID("001") "\"],\"member\":[]}}",
	     400, "bad_field", "checkins.member"},
	    {"{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"records\":[{\"kind\":\"member\",\"id\":\"x\"}]}", 400,
	     "bad_field", "records[0]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		parsed p = parse(bad[i].body);
		if (p.rc == 0 || p.status != bad[i].status || strcmp(p.code, bad[i].code) != 0 ||
		    !strstr(p.msg, bad[i].says))
			fail_msg("%s: got %d %s \"%s\"", bad[i].body, p.status, p.code, p.msg);
		hub_batch_free(&p.b);
	}
	/* nesting deeper than 16 */
	char deep[200] = "{\"device_id\":";
	for (int i = 0; i < 20; i++)
		strcat(deep, "[");
	parsed p = parse(deep);
	assert_int_equal(p.rc, -1);
	assert_string_equal(p.code, "bad_json");
	assert_non_null(strstr(p.msg, "deeper than 16"));
	hub_batch_free(&p.b);

	/* 1000 check-ins are fine; 1001 are 413 */
	char *t = checkins_body(1000, "scan", 0);
	p = parse(t);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.b.ncheckins, 1000);
	assert_int_equal(p.b.checkins[999].wall_ms, 1795000000000LL + 999 * 1000);
	assert_int_equal(p.b.checkins[2].seq, 3);
	char ev[40];
	snprintf(ev, sizeof ev, "%032x", 0xe1);
	assert_string_equal(p.b.checkins[0].event, ev);
	hub_batch_free(&p.b);
	free(t);
	t = checkins_body(1001, "scan", 0);
	p = parse(t);
	assert_int_equal(p.status, 413);
	assert_string_equal(p.code, "too_many_records");
	hub_batch_free(&p.b);
	free(t);
	/* an event index past the list: the whole request is unusable */
	t = checkins_body(3, "scan", 4);
	p = parse(t);
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.msg, "checkins.event[0]"));
	hub_batch_free(&p.b);
	free(t);
	/* a method no kiosk sends: those check-ins are rejected, the request goes on */
	t = checkins_body(3, "teleport", -1);
	p = parse(t);
	assert_int_equal(p.rc, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p.b.results[i].status, HUB_RES_REJECTED);
		assert_string_equal(p.b.results[i].reason, "bad_method");
	}
	assert_null(p.b.checkins[0].event);
	hub_batch_free(&p.b);
	free(t);
	/* records: each judged alone */
	p = parse("{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"records\":["
		  "{\"kind\":\"member\",\"id\":\"" ID("001") "\",\"name\":\"A\",\"phone\":null,\"code\":null},"
		  "{\"kind\":\"member\",\"id\":\"" ID("002") "\",\"name\":\"B\",\"phone\":\"139x\",\"code\":null},"
		  "{\"kind\":\"spaceship\",\"id\":\"" ID("003") "\"},"
		  "{\"kind\":\"event\",\"id\":\"" ID("004") "\",\"title\":\"T\",\"start_ms\":5,\"end_ms\":5},"
		  "{\"kind\":\"member\",\"id\":\"" ID("005") "\",\"name\":\"C\",\"phone\":\"13900000001\",\"code\":null}]}");
	assert_int_equal(p.rc, 0);
	const char *want[] = {"no_phone_or_code", "bad_phone", "unknown_kind", "bad_time", NULL};
	for (int i = 0; i < 5; i++) {
		if (want[i]) {
			assert_int_equal(p.b.results[i].status, HUB_RES_REJECTED);
			assert_string_equal(p.b.results[i].reason, want[i]);
		} else {
			assert_int_equal(p.b.results[i].status, HUB_RES_NONE);
		}
	}
	hub_batch_free(&p.b);
}

/* ---- days ---- */

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	/* days from civil (Howard Hinnant's algorithm) */
	y -= mo <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return ((days * 24 + h) * 60 + mi) * 60000;
}

/* Values no kiosk sends are refused one by one: times past the year 3000 or before 1970,
 * impossible days, negative visit numbers and sequence numbers. */
static void test_push_values(void **state)
{
	(void)state;
	static const struct {
		const char *col, *value, *reason;
	} cases[] = {
	    {"day", "\"2026-02-31\"", "bad_day"},  {"day", "\"2025-02-29\"", "bad_day"},
	    {"day", "\"2026-13-01\"", "bad_day"},  {"day", "\"2026-1-1x\"", "bad_day"},
	    {"visit", "-3", "bad_visit"},          {"visit", "0", "bad_visit"},
	    {"flags", "-1", "bad_flags"},          {"seq", "-1", "bad_seq"},
	    {"wall_ms", "9223372036854775807", "bad_time"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[1024];
		const char *cols[] = {"day", "visit", "flags", "seq", "wall_ms"};
		const char *vals[] = {"\"2024-02-29\"", "1", "0", "1", "1795000000000"};
		char part[5][64];
		for (int k = 0; k < 5; k++)
			snprintf(part[k], sizeof part[k], "\"%s\":[%s]", cols[k],
				 strcmp(cols[k], cases[i].col) == 0 ? cases[i].value : vals[k]);
		snprintf(body, sizeof body,
			 "{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"checkins\":{\"id\":[\"" ID("001") "\"],"
			 "\"member\":[\"" ID("002") "\"],\"events\":[],\"event\":[-1],\"method\":[\"scan\"],"
			 "\"mono_ms\":[1],\"boots\":[\"b\"],\"boot\":[0],%s,%s,%s,%s,%s}}",
			 part[0], part[1], part[2], part[3], part[4]);
		parsed p = parse(body);
		if (p.rc != 0 || p.b.results[0].status != HUB_RES_REJECTED ||
		    strcmp(p.b.results[0].reason, cases[i].reason) != 0)
			fail_msg("%s=%s: rc %d %s, status %d reason %s", cases[i].col, cases[i].value, p.rc, p.msg,
				 p.b.results ? (int)p.b.results[0].status : -1,
				 p.b.results && p.b.results[0].reason ? p.b.results[0].reason : "-");
		hub_batch_free(&p.b);
	}
	/* a leap day is a day */
	parsed ok = parse("{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"checkins\":{\"id\":[\"" ID("001") "\"],"
			  "\"member\":[\"" ID("002") "\"],\"events\":[],\"event\":[-1],\"method\":[\"scan\"],"
			  "\"mono_ms\":[1],\"boots\":[\"b\"],\"boot\":[0],\"day\":[\"2024-02-29\"],\"visit\":[1],"
			  "\"flags\":[0],\"seq\":[1],\"wall_ms\":[1795000000000]}}");
	assert_int_equal(ok.rc, 0);
	assert_int_equal(ok.b.results[0].status, HUB_RES_NONE);
	hub_batch_free(&ok.b);
	/* records: events, reversals and audits with times out of range, a negative seq */
	parsed r = parse("{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1,\"records\":["
			 "{\"kind\":\"event\",\"id\":\"" ID("001") "\",\"title\":\"T\",\"start_ms\":-5,\"end_ms\":5},"
			 "{\"kind\":\"event\",\"id\":\"" ID("002") "\",\"title\":\"T\",\"start_ms\":5,"
			 "\"end_ms\":9223372036854775807},"
			 "{\"kind\":\"audit\",\"id\":\"" ID("003") "\",\"session\":\"" ID("009") "\",\"action\":\"a\","
			 "\"wall_ms\":-9223372036854775807},"
			 "{\"kind\":\"reversal\",\"id\":\"" ID("004") "\",\"checkin\":\"" ID("009") "\","
			 "\"wall_ms\":99999999999999999},"
			 "{\"kind\":\"audit\",\"id\":\"" ID("005") "\",\"session\":\"" ID("009") "\",\"action\":\"a\","
			 "\"wall_ms\":5,\"seq\":-2},"
			 "{\"kind\":\"audit\",\"id\":\"" ID("006") "\",\"session\":\"" ID("009") "\",\"action\":\"a\","
			 "\"wall_ms\":5,\"seq\":3,\"detail\":{\"k\":\"v\"}}]}");
	assert_int_equal(r.rc, 0);
	const char *want[] = {"bad_time", "bad_time", "bad_time", "bad_time", "bad_seq", NULL};
	for (int i = 0; i < 6; i++) {
		if (want[i]) {
			assert_int_equal(r.b.results[i].status, HUB_RES_REJECTED);
			assert_string_equal(r.b.results[i].reason, want[i]);
		} else {
			assert_int_equal(r.b.results[i].status, HUB_RES_NONE);
		}
	}
	assert_string_equal(r.b.records[5].detail, "{\"k\":\"v\"}");
	assert_int_equal(r.b.records[5].seq, 3);
	hub_batch_free(&r.b);
}

static void test_days(void **state)
{
	(void)state;
	char day[11];
	hub_day_cache cache = {0};
	/* 16:30 UTC is past midnight in Shanghai */
	hub_day("Asia/Shanghai", utc(2026, 11, 22, 16, 30), &cache, day);
	assert_string_equal(day, "2026-11-23");
	hub_day("UTC", utc(2026, 11, 22, 16, 30), &cache, day);
	assert_string_equal(day, "2026-11-22");
	/* New York's 23-hour day (clocks go forward on 8 March 2026), through the cache */
	memset(&cache, 0, sizeof cache);
	const struct {
		int64_t ms;
		const char *day;
	} ny[] = {
	    {utc(2026, 3, 8, 4, 59), "2026-03-07"}, /* 23:59 EST */
	    {utc(2026, 3, 8, 5, 0), "2026-03-08"},  /* 00:00 EST */
	    {utc(2026, 3, 8, 12, 0), "2026-03-08"}, {utc(2026, 3, 9, 3, 59), "2026-03-08"}, /* 23:59 EDT */
	    {utc(2026, 3, 9, 4, 0), "2026-03-09"},                                          /* 00:00 EDT */
	    {utc(2026, 3, 8, 4, 0), "2026-03-07"},
	};
	for (size_t i = 0; i < sizeof ny / sizeof ny[0]; i++) {
		hub_day("America/New_York", ny[i].ms, &cache, day);
		if (strcmp(day, ny[i].day) != 0)
			fail_msg("case %zu: %s, not %s", i, day, ny[i].day);
	}
	/* five years back is still a day */
	hub_day("Asia/Shanghai", utc(2021, 11, 22, 1, 0), NULL, day);
	assert_string_equal(day, "2021-11-22");
	hub_day("UTC", 400000000000000LL, NULL, day); /* past year 9999 */
	assert_string_equal(day, "0000-00-00");
	/* local times in the venue's zone */
	assert_true(hub_parse_local("Asia/Shanghai", "2026-11-22 19:30") == utc(2026, 11, 22, 11, 30));
	assert_true(hub_parse_local("UTC", "2026-11-22T19:30") == utc(2026, 11, 22, 19, 30));
	assert_true(hub_parse_local("UTC", "2026-02-31 10:00") < 0);
	assert_true(hub_parse_local("UTC", "22/11/2026 10:00") < 0);
	assert_true(hub_tz_valid("Asia/Shanghai"));
	assert_false(hub_tz_valid("Mars/Olympus"));
	assert_false(hub_tz_valid("../../etc/passwd"));
}

/* ---- the store ---- */

typedef struct fx {
	char path[HUBDB_WHERE_MAX]; /* the store's file or database URL */
	hub_store *st;
	hub_venue v;
	char event[HUB_ID_MAX];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/tingzi-hubtest.XXXXXX");
	int fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	assert_int_equal(f->st->ops->venue_add(f->st, "听雨茶馆", "Asia/Shanghai", 1000, &f->v), HUB_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	if (f->st)
		f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
	return 0;
}

/* Members M1..Mn with phones 1390000000i, through the CSV sink's calls. */
static void add_members(fx *f, int n)
{
	hub_store *st = f->st;
	assert_int_equal(st->ops->members_begin(st, f->v.id), HUB_OK);
	for (int i = 1; i <= n; i++) {
		store_member m;
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "会员%d", i);
		snprintf(m.phone, sizeof m.phone, "139%08d", i);
		snprintf(m.code, sizeof m.code, "M%d", i);
		int how;
		char why[128];
		assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, 2000), 0);
		assert_int_equal(how, STORE_IMPORT_ADDED);
	}
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
}

typedef struct uids {
	char uid[64][HUB_ID_MAX];
	int n;
} uids;

static void member_uids(fx *f, uids *u)
{
	hub_page pg;
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, 0, 64, "", &pg), HUB_OK);
	u->n = 0;
	size_t i;
	json_t *it;
	json_array_foreach(pg.items, i, it) snprintf(u->uid[u->n++], HUB_ID_MAX, "%s",
						     json_string_value(json_object_get(it, "uid")));
	json_decref(pg.items);
}

/* Push check-ins (id, member, event or NULL) from a device at hub time now. */
typedef struct ck {
	const char *id, *member, *event;
} ck;

static hub_push_stats push(fx *f, const char *dev, const ck *cks, size_t n, hub_record *recs, size_t nrec,
			   hub_result *res, int64_t wall, int64_t offset)
{
	hub_checkin c[16];
	memset(c, 0, sizeof c);
	for (size_t i = 0; i < n; i++) {
		c[i] = (hub_checkin){.id = cks[i].id, .member = cks[i].member, .event = cks[i].event,
				     .method = "scan", .boot = "b", .kiosk_day = "", .wall_ms = wall + (int64_t)i,
				     .seq = (int64_t)i + 1, .visit = 1};
		res[i].id = cks[i].id;
	}
	for (size_t i = 0; i < nrec; i++)
		res[n + i].id = recs[i].id;
	hub_batch b = {.checkins = c, .ncheckins = n, .records = recs, .nrecords = nrec, .results = res};
	hub_push_stats stats;
	assert_int_equal(f->st->ops->push(f->st, &f->v, dev, offset, wall + offset, &b, &stats), HUB_OK);
	return stats;
}

typedef struct row {
	char id[HUB_ID_MAX], member[HUB_ID_MAX], dup[HUB_ID_MAX], day[11];
	int reversed;
	int64_t corrected;
} row;

typedef struct rows {
	row r[32];
	int n;
} rows;

static int take_row(const hub_checkin_row *r, void *ctx)
{
	rows *x = ctx;
	row *o = &x->r[x->n++];
	snprintf(o->id, sizeof o->id, "%s", r->id);
	snprintf(o->member, sizeof o->member, "%s", r->member_uid);
	snprintf(o->dup, sizeof o->dup, "%s", r->duplicate_of ? r->duplicate_of : "");
	snprintf(o->day, sizeof o->day, "%s", r->day);
	o->reversed = r->reversed;
	o->corrected = r->corrected_ms;
	return x->n == 32;
}

static rows exported(fx *f)
{
	rows x;
	memset(&x, 0, sizeof x);
	assert_int_equal(f->st->ops->checkins_each(f->st, f->v.id, take_row, &x), HUB_OK);
	return x;
}

static void test_exactly_once_and_attendance(void **state)
{
	fx *f = *state;
	add_members(f, 3);
	uids u;
	member_uids(f, &u);
	assert_int_equal(u.n, 3);
	assert_int_equal(f->st->ops->event_add(f->st, f->v.id, "茶会", utc(2026, 11, 22, 11, 0), utc(2026, 11, 22, 14, 0),
					     3000, f->event),
			 HUB_OK);
	int64_t t = utc(2026, 11, 22, 12, 0);
	hub_result res[16];
	memset(res, 0, sizeof res);
	ck a[] = {{ID("001"), u.uid[0], f->event}, {ID("002"), u.uid[1], NULL}, {ID("003"), ID("999"), NULL},
		  {ID("004"), u.uid[2], ID("998")}};
	hub_push_stats s = push(f, DEV_A, a, 4, NULL, 0, res, t, 0);
	assert_int_equal(s.ok, 2);
	assert_int_equal(s.rejected, 2);
	assert_string_equal(res[2].reason, "unknown_member");
	assert_string_equal(res[3].reason, "unknown_event");
	/* the same request again: nothing new */
	memset(res, 0, sizeof res);
	s = push(f, DEV_A, a, 2, NULL, 0, res, t, 0);
	assert_int_equal(s.duplicate, 2);
	assert_int_equal(s.ok, 0);
	/* member 1 at the other door, same event; member 2's drop-in the same day */
	memset(res, 0, sizeof res);
	ck b[] = {{ID("011"), u.uid[0], f->event}, {ID("012"), u.uid[1], NULL}};
	s = push(f, DEV_B, b, 2, NULL, 0, res, t + 60000, 0);
	assert_int_equal(s.ok, 2);
	assert_int_equal(s.attendance_duplicate, 2);
	rows x = exported(f);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.r[2].id, ID("011"));
	assert_string_equal(x.r[2].dup, ID("001"));
	assert_string_equal(x.r[3].dup, ID("002"));
	assert_string_equal(x.r[0].dup, "");
	/* the day is Shanghai's: 12:00 UTC is 20:00 there, 22 November */
	assert_string_equal(x.r[1].day, "2026-11-22");
}

static void test_clock_offset(void **state)
{
	fx *f = *state;
	add_members(f, 1);
	uids u;
	member_uids(f, &u);
	/* a device five years slow: raw time kept, corrected onto the right day */
	int64_t now = utc(2026, 11, 22, 15, 0), offset = now - utc(2021, 11, 22, 15, 0);
	hub_result res[4];
	memset(res, 0, sizeof res);
	ck a[] = {{ID("021"), u.uid[0], NULL}};
	push(f, DEV_A, a, 1, NULL, 0, res, utc(2021, 11, 22, 15, 0), offset);
	rows x = exported(f);
	assert_int_equal(x.n, 1);
	assert_true(x.r[0].corrected == now);
	assert_string_equal(x.r[0].day, "2026-11-22"); /* 23:00 in Shanghai */
}

static void test_merge_and_reversal(void **state)
{
	fx *f = *state;
	add_members(f, 2);
	uids u;
	member_uids(f, &u);
	hub_result res[8];
	memset(res, 0, sizeof res);
	/* a walk-in with member 2's phone, and a new one */
	hub_record recs[] = {
	    {.kind = HUB_REC_MEMBER, .id = ID("101"), .name = "Walker", .phone = "13900000002"},
	    {.kind = HUB_REC_MEMBER, .id = ID("102"), .name = "New", .code = "W2"},
	};
	ck a[] = {{ID("031"), ID("101"), NULL}, {ID("032"), ID("102"), NULL}};
	hub_push_stats s = push(f, DEV_A, a, 2, recs, 2, res, utc(2026, 11, 22, 3, 0), 0);
	assert_int_equal(s.ok, 4);
	assert_string_equal(res[2].merged_into, u.uid[1]);
	assert_string_equal(res[3].merged_into, "");
	rows x = exported(f);
	assert_string_equal(x.r[0].member, u.uid[1]); /* counts for the survivor */
	assert_string_equal(x.r[1].member, ID("102"));
	/* the merged uid reaches the kiosks with merged_into */
	hub_page pg;
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, 2, 10, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pg.items, 0), "merged_into")), u.uid[1]);
	json_decref(pg.items);
	/* the same walk-in again from its device: duplicate, still naming the survivor */
	memset(res, 0, sizeof res);
	s = push(f, DEV_A, NULL, 0, recs, 1, res, utc(2026, 11, 22, 3, 0), 0);
	assert_int_equal(s.duplicate, 1);
	assert_string_equal(res[0].merged_into, u.uid[1]);
	/* from another device it is not that record: refused, so that device keeps it */
	memset(res, 0, sizeof res);
	s = push(f, DEV_B, NULL, 0, recs, 1, res, utc(2026, 11, 22, 3, 0), 0);
	assert_int_equal(res[0].status, HUB_RES_REJECTED);
	assert_string_equal(res[0].reason, "id_conflict");
	/* reversals: of a check-in the hub has, and of one it never saw */
	hub_record rev[] = {{.kind = HUB_REC_REVERSAL, .id = ID("201"), .checkin = ID("031"), .wall_ms = 5},
			    {.kind = HUB_REC_REVERSAL, .id = ID("202"), .checkin = ID("777"), .wall_ms = 5}};
	memset(res, 0, sizeof res);
	s = push(f, DEV_A, NULL, 0, rev, 2, res, utc(2026, 11, 22, 3, 0), 0);
	assert_int_equal(res[0].status, HUB_RES_OK);
	assert_int_equal(res[1].status, HUB_RES_REJECTED);
	assert_string_equal(res[1].reason, "unknown_checkin");
	x = exported(f);
	assert_int_equal(x.r[0].reversed, 1);
	assert_int_equal(x.r[1].reversed, 0);
}

/*
 * Ids are guessable, so one device must not be able to take another's: a
 * check-in, event, reversal or audit id the hub holds from another device
 * (or with other content) is refused "id_conflict", never "duplicate",
 * whichever venue the other device is in.
 */
static void test_id_conflicts(void **state)
{
	fx *f = *state;
	add_members(f, 2);
	uids u;
	member_uids(f, &u);
	hub_venue other;
	assert_int_equal(f->st->ops->venue_add(f->st, "别家", "Asia/Shanghai", 1000, &other), HUB_OK);
	int64_t t = utc(2026, 11, 22, 12, 0);
	hub_result res[8];
	/* device A takes the id first */
	memset(res, 0, sizeof res);
	ck a[] = {{ID("041"), u.uid[0], NULL}};
	push(f, DEV_A, a, 1, NULL, 0, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_OK);
	/* the same record again from A: duplicate */
	memset(res, 0, sizeof res);
	push(f, DEV_A, a, 1, NULL, 0, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_DUPLICATE);
	/* the same id from A with another member: not that record */
	memset(res, 0, sizeof res);
	ck a2[] = {{ID("041"), u.uid[1], NULL}};
	push(f, DEV_A, a2, 1, NULL, 0, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_REJECTED);
	assert_string_equal(res[0].reason, "id_conflict");
	/* the same id from device B of this venue */
	memset(res, 0, sizeof res);
	push(f, DEV_B, a, 1, NULL, 0, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_REJECTED);
	assert_string_equal(res[0].reason, "id_conflict");
	/* B's check-in, event, reversal and audit record, then A replays their ids */
	hub_record recs[] = {
	    {.kind = HUB_REC_EVENT, .id = ID("301"), .title = "茶会", .start_ms = t, .end_ms = t + 3600000},
	    {.kind = HUB_REC_AUDIT, .id = ID("302"), .session = ID("900"), .action = "staff.enter", .detail = "{}",
	     .wall_ms = t},
	};
	memset(res, 0, sizeof res);
	ck b[] = {{ID("042"), u.uid[1], NULL}};
	push(f, DEV_B, b, 1, recs, 2, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_OK);
	assert_int_equal(res[1].status, HUB_RES_OK);
	assert_int_equal(res[2].status, HUB_RES_OK);
	hub_record rev[] = {{.kind = HUB_REC_REVERSAL, .id = ID("303"), .checkin = ID("042"), .wall_ms = t}};
	memset(res, 0, sizeof res);
	push(f, DEV_B, NULL, 0, rev, 1, res, t, 0);
	assert_int_equal(res[0].status, HUB_RES_OK);
	memset(res, 0, sizeof res);
	hub_record all[] = {recs[0], recs[1], rev[0]};
	push(f, DEV_A, NULL, 0, all, 3, res, t, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(res[i].status, HUB_RES_REJECTED);
		assert_string_equal(res[i].reason, "id_conflict");
	}
	/* B sending them again: duplicates */
	memset(res, 0, sizeof res);
	push(f, DEV_B, b, 1, all, 3, res, t, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(res[i].status, HUB_RES_DUPLICATE);
	/* a device of another venue replaying B's check-in id */
	hub_result r2[2];
	memset(r2, 0, sizeof r2);
	hub_checkin c = {.id = ID("042"), .member = u.uid[1], .method = "scan", .boot = "b", .kiosk_day = "",
			 .wall_ms = t, .seq = 1, .visit = 1};
	r2[0].id = c.id;
	hub_batch batch = {.checkins = &c, .ncheckins = 1, .results = r2};
	hub_push_stats st;
	assert_int_equal(f->st->ops->push(f->st, &other, "cccccccccccccccccccccccccccccccc", 0, t, &batch, &st), HUB_OK);
	assert_int_equal(r2[0].status, HUB_RES_REJECTED);
	/* what the hub holds is unchanged: A's and B's check-ins, B's reversed */
	rows x = exported(f);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.r[0].member, u.uid[0]);
	assert_int_equal(x.r[0].reversed, 0);
	assert_string_equal(x.r[1].member, u.uid[1]);
	assert_int_equal(x.r[1].reversed, 1);
}

typedef struct kept {
	char kind[16], session[HUB_ID_MAX], action[32], detail[256], checkin[HUB_ID_MAX], reason[128];
	int64_t wall_ms, seq;
} kept;

typedef struct kepts {
	kept k[8];
	int n;
} kepts;

static int take_record(const hub_record_row *r, void *ctx)
{
	kepts *x = ctx;
	kept *k = &x->k[x->n++];
	snprintf(k->kind, sizeof k->kind, "%s", r->kind);
	snprintf(k->session, sizeof k->session, "%s", r->session ? r->session : "(null)");
	snprintf(k->action, sizeof k->action, "%s", r->action ? r->action : "(null)");
	snprintf(k->detail, sizeof k->detail, "%s", r->detail ? r->detail : "(null)");
	snprintf(k->checkin, sizeof k->checkin, "%s", r->checkin ? r->checkin : "(null)");
	snprintf(k->reason, sizeof k->reason, "%s", r->reason ? r->reason : "(null)");
	k->wall_ms = r->wall_ms;
	k->seq = r->seq;
	return x->n == 8;
}

/* A staff audit record and a reversal, from the push body to the export, whole. */
static void test_records_whole(void **state)
{
	fx *f = *state;
	add_members(f, 1);
	uids u;
	member_uids(f, &u);
	char body[2048];
	snprintf(body, sizeof body,
		 "{\"device_id\":\"" DEV_A "\",\"device_time_ms\":1795000000000,"
		 "\"checkins\":{\"id\":[\"" ID("051") "\"],\"member\":[\"%s\"],\"events\":[],\"event\":[-1],"
		 "\"method\":[\"scan\"],\"wall_ms\":[1795000000000],\"mono_ms\":[5],\"boots\":[\"b\"],\"boot\":[0],"
		 "\"seq\":[7],\"visit\":[1],\"flags\":[0],\"day\":[\"2026-11-22\"]},\"records\":["
		 "{\"kind\":\"reversal\",\"id\":\"" ID("052") "\",\"checkin\":\"" ID("051") "\","
		 "\"reason\":\"点错了\",\"wall_ms\":1795000001000,\"seq\":8},"
		 "{\"kind\":\"audit\",\"id\":\"" ID("053") "\",\"session\":\"" ID("909") "\","
		 "\"action\":\"checkin.undo\",\"detail\":{\"checkin\":\"" ID("051") "\",\"n\":2},"
		 "\"wall_ms\":1795000001000,\"seq\":9}]}",
		 u.uid[0]);
	parsed p = parse(body);
	assert_int_equal(p.rc, 0);
	hub_push_stats stats;
	assert_int_equal(f->st->ops->push(f->st, &f->v, DEV_A, 0, 1795000002000, &p.b, &stats), HUB_OK);
	assert_int_equal(stats.ok, 3);
	hub_batch_free(&p.b);
	kepts x;
	memset(&x, 0, sizeof x);
	assert_int_equal(f->st->ops->records_each(f->st, f->v.id, take_record, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.k[0].kind, "reversal");
	assert_string_equal(x.k[0].checkin, ID("051"));
	assert_string_equal(x.k[0].reason, "点错了");
	assert_int_equal(x.k[0].seq, 8);
	assert_string_equal(x.k[1].kind, "audit");
	assert_string_equal(x.k[1].session, ID("909"));
	assert_string_equal(x.k[1].action, "checkin.undo");
	assert_string_equal(x.k[1].detail, "{\"checkin\":\"" ID("051") "\",\"n\":2}");
	assert_int_equal(x.k[1].seq, 9);
	assert_true(x.k[1].wall_ms == 1795000001000);
}

/* A version 1 file is upgraded in place, keeping its records; a newer one is refused. */
static void test_schema_upgrade(void **state)
{
	fx *f = *state;
	/* SQLite files made by older hubs, rewritten with the sqlite3 shell: no PostgreSQL store was ever
	 * of version 1 */
	if (hubdb_pg())
		skip();
	hub_record rev[] = {{.kind = HUB_REC_AUDIT, .id = ID("061"), .session = ID("900"), .action = "staff.enter",
			     .detail = "{}", .wall_ms = 5}};
	hub_result res[2];
	memset(res, 0, sizeof res);
	push(f, DEV_A, NULL, 0, rev, 1, res, utc(2026, 11, 22, 3, 0), 0);
	f->st->ops->close(f->st);
	/* back to version 1: the columns version 2 added are dropped */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "sqlite3 %s 'DROP INDEX records_venue; ALTER TABLE records DROP COLUMN session;"
		 " ALTER TABLE records DROP COLUMN action; ALTER TABLE records DROP COLUMN detail;"
		 " ALTER TABLE records DROP COLUMN checkin; ALTER TABLE records DROP COLUMN reason;"
		 " ALTER TABLE records DROP COLUMN seq; PRAGMA user_version = 1;'",
		 f->path);
	assert_int_equal(system(cmd), 0);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	kepts x;
	memset(&x, 0, sizeof x);
	assert_int_equal(f->st->ops->records_each(f->st, f->v.id, take_record, &x), HUB_OK);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.k[0].kind, "audit");
	assert_string_equal(x.k[0].action, "(null)"); /* not kept before version 2 */
	f->st->ops->close(f->st);
	snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version = 9;'", f->path);
	assert_int_equal(system(cmd), 0);
	hub_store *newer = hub_store_open(f->path, why, sizeof why);
	assert_null(newer);
	assert_non_null(strstr(why, "newer tingzi-hub"));
	snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version = 2;'", f->path);
	assert_int_equal(system(cmd), 0);
	f->st = hub_store_open(f->path, why, sizeof why);
	assert_non_null(f->st);
}

static void set_version(fx *f, char *sql, size_t len, long long v)
{
	if (hubdb_pg())
		snprintf(sql, len, "UPDATE meta SET value = '%lld' WHERE key = 'schema_version'", v);
	else
		snprintf(sql, len, "PRAGMA user_version = %lld", v);
	hubdb_exec(f->path, sql);
}

/* A store written by a newer hub is refused with a sentence and left as it is, on either backend. */
static void test_schema_newer(void **state)
{
	fx *f = *state;
	f->st->ops->close(f->st);
	f->st = NULL;
	/* the schema's number: SQLite's user_version, a row of meta on PostgreSQL */
	const char *get = hubdb_pg() ? "SELECT value FROM meta WHERE key = 'schema_version'" : "PRAGMA user_version";
	long long now = (long long)hubdb_int(f->path, get, NULL);
	assert_true(now > 0);
	char sql[128];
	set_version(f, sql, sizeof sql, now + 1);
	char why[256] = "";
	hub_store *newer = hub_store_open(f->path, why, sizeof why);
	if (newer)
		newer->ops->close(newer);
	assert_null(newer);
	assert_non_null(strstr(why, "newer tingzi-hub"));
	assert_int_equal(hubdb_int(f->path, get, NULL), now + 1);
	/* its number back, it opens with its venue */
	set_version(f, sql, sizeof sql, now);
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	hub_venue v;
	assert_int_equal(f->st->ops->venue_get(f->st, f->v.id, &v), HUB_OK);
	assert_string_equal(v.name, "听雨茶馆");
}

static void test_pull_pages(void **state)
{
	fx *f = *state;
	add_members(f, 25);
	hub_page pg;
	int64_t since = 0;
	int pages = 0, items = 0, more = 1;
	while (more) {
		assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, since, 10, "", &pg), HUB_OK);
		assert_int_equal(pg.reset, since == 0);
		items += (int)json_array_size(pg.items);
		more = pg.more;
		assert_true(pg.next > since);
		since = pg.next;
		json_decref(pg.items);
		pages++;
	}
	assert_int_equal(pages, 3);
	assert_int_equal(items, 25);
	/* nothing new: an empty page at the same cursor */
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, since, 10, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 0);
	assert_int_equal(pg.next, since);
	assert_false(pg.reset);
	json_decref(pg.items);
	/* a changed member comes again, alone */
	hub_store *st = f->st;
	assert_int_equal(st->ops->members_begin(st, f->v.id), HUB_OK);
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "改名");
	snprintf(m.code, sizeof m.code, "M7");
	int how;
	char why[128];
	assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, 5000), 0);
	assert_int_equal(how, STORE_IMPORT_UPDATED);
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, since, 10, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pg.items, 0), "name")), "改名");
	json_decref(pg.items);
	/* a cursor from the future (a hub restored from an older copy): a snapshot */
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, HUB_SET_MEMBERS, since + 1000, 100, "", &pg), HUB_OK);
	assert_true(pg.reset);
	assert_int_equal(json_array_size(pg.items), 25);
	json_decref(pg.items);
	/* another venue sees none of them */
	hub_venue other;
	assert_int_equal(f->st->ops->venue_add(f->st, "B", "UTC", 1, &other), HUB_OK);
	assert_int_equal(f->st->ops->pull(f->st, other.id, HUB_SET_MEMBERS, 0, 100, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 0);
	json_decref(pg.items);
}

static void test_enrolment(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	unsigned char code[32], expired[32];
	hub_sha256("ABCD-EFGH-JKLM", 14, code);
	hub_sha256("OLD0-OLD0-OLD0", 14, expired);
	assert_int_equal(st->ops->code_add(st, f->v.id, code, 10000, 1000), HUB_OK);
	assert_int_equal(st->ops->code_add(st, f->v.id, expired, 5000, 1000), HUB_OK);
	hub_device d = {.id = DEV_A, .name = "door", .public_key = "00"};
	hub_sha256("secret", 6, d.token_hash);
	hub_venue v;
	assert_int_equal(st->ops->enroll(st, expired, &d, 6000, &v), HUB_CODE_INVALID);
	assert_int_equal(st->ops->enroll(st, code, &d, 6000, &v), HUB_OK);
	assert_string_equal(v.id, f->v.id);
	hub_device e = d;
	snprintf(e.id, sizeof e.id, "%s", DEV_B);
	assert_int_equal(st->ops->enroll(st, code, &e, 6001, &v), HUB_CODE_INVALID); /* used */
	hub_device got;
	assert_int_equal(st->ops->device_get(st, DEV_A, &got), HUB_OK);
	assert_memory_equal(got.token_hash, d.token_hash, 32);
	assert_int_equal(got.revoked_ms, 0);
	assert_int_equal(st->ops->device_revoke(st, DEV_A, 7000), HUB_OK);
	assert_int_equal(st->ops->device_get(st, DEV_A, &got), HUB_OK);
	assert_int_equal(got.revoked_ms, 7000);
	assert_int_equal(st->ops->device_revoke(st, DEV_B, 7000), HUB_NOT_FOUND);
}

static void test_live_codes(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char uid[HUB_ID_MAX], url[HUB_URL_MAX];
	hub_link_new a = {.venue_id = f->v.id, .platform = "wechat", .label = "A", .url = "https://a.example/",
			  .slug = "grp", .cap = 2, .expires_ms = 0};
	hub_link_new b = a, c = a;
	b.url = "https://b.example/", b.cap = 0, b.expires_ms = 9000;
	c.url = "https://c.example/", c.cap = 0;
	assert_int_equal(st->ops->link_add(st, &a, 1000, uid), HUB_OK);
	assert_int_equal(st->ops->link_add(st, &b, 1001, uid), HUB_OK);
	assert_int_equal(st->ops->link_add(st, &c, 1002, uid), HUB_OK);
	const char *want[] = {"https://a.example/", "https://a.example/", "https://b.example/"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(st->ops->live(st, "grp", NULL, 5000, url), HUB_OK);
		assert_string_equal(url, want[i]);
	}
	/* b has expired by 10 000: on to c */
	assert_int_equal(st->ops->live(st, "grp", NULL, 10000, url), HUB_OK);
	assert_string_equal(url, "https://c.example/");
	assert_int_equal(st->ops->live(st, "nope", NULL, 10000, url), HUB_NOT_FOUND);
	/* the venue's own slug with no link yet: known, none valid */
	assert_int_equal(st->ops->live(st, f->v.slug, NULL, 10000, url), HUB_INVALID);
	/* pulled links carry the live address */
	hub_page pg;
	assert_int_equal(st->ops->pull(st, f->v.id, HUB_SET_LINKS, 0, 10, "https://hub.example", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pg.items, 0), "live_url")),
			    "https://hub.example/j/grp");
	json_decref(pg.items);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_push_parse),
	    cmocka_unit_test(test_push_values),
	    cmocka_unit_test(test_days),
	    cmocka_unit_test_setup_teardown(test_exactly_once_and_attendance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge_and_reversal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_id_conflicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_records_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_newer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pull_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enrolment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_codes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
