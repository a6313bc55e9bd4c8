/*
 * The open API's store operations (hub_store_api.h), on a real SQLite file
 * (and, run as unit.test_hub_api.pg, a real PostgreSQL database): tokens
 * kept as hashes and found by them, names unique per venue, revocation;
 * members found by name, code and phone suffix and paged by row number;
 * members added and changed with a phone or code another holds refused and
 * named; a check-in read back by id; check-in pages by cursor, event and
 * period, the cursor passing nothing; a check-in pushed with method "api"
 * under a token's device counted as an attendance and kept once.
 */
#include "sync/hub/hub_api.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

/* cmocka.h after what it needs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1795046400000LL /* 2026-11-19 00:00 UTC */

typedef struct fx {
	char path[HUBDB_WHERE_MAX];
	hub_store *st;
	hub_venue v, w;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/tingzi-api.XXXXXX");
	int fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	assert_int_equal(f->st->ops->venue_add(f->st, "听雨茶馆", "Asia/Shanghai", T0, &f->v), HUB_OK);
	assert_int_equal(f->st->ops->venue_add(f->st, "Other", "UTC", T0, &f->w), HUB_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
	return 0;
}

static int count_token(const hub_api_token *t, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_tokens(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_api_token t = {.write = 1}, got, other = {0};
	char text[HUB_API_TOKEN_LEN + 1], text2[HUB_API_TOKEN_LEN + 1];
	snprintf(t.venue_id, sizeof t.venue_id, "%s", f->v.id);
	snprintf(t.name, sizeof t.name, "website");
	assert_int_equal(hub_api_token_make(st, &t, T0, text), HUB_OK);
	assert_int_equal((int)strlen(text), HUB_API_TOKEN_LEN);
	assert_memory_equal(text, "tzk_", 4);
	/* only the hash is kept: the text is nowhere in the store */
	char buf[128];
	hubdb_text(f->path, "SELECT name FROM api_tokens WHERE name = ?1", "website", buf, sizeof buf);
	assert_string_equal(buf, "website");
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM api_tokens WHERE name LIKE ?1 OR id LIKE ?1", text), 0);
	unsigned char hash[32];
	hub_sha256(text, HUB_API_TOKEN_LEN, hash);
	assert_int_equal(st->ops->api->token_by_hash(st, hash, &got), HUB_OK);
	assert_string_equal(got.id, t.id);
	assert_string_equal(got.device_id, t.device_id);
	assert_string_equal(got.venue_id, f->v.id);
	assert_int_equal(got.write, 1);
	/* the device id is no kiosk */
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM devices WHERE id = ?1", t.device_id), 0);
	/* a name once per venue; another venue may have it */
	hub_api_token dup = t;
	assert_int_equal(hub_api_token_make(st, &dup, T0, text2), HUB_EXISTS);
	snprintf(other.venue_id, sizeof other.venue_id, "%s", f->w.id);
	snprintf(other.name, sizeof other.name, "website");
	assert_int_equal(hub_api_token_make(st, &other, T0 + 1, text2), HUB_OK);
	assert_int_equal(st->ops->api->token_get(st, f->v.id, "website", &got), HUB_OK);
	assert_string_equal(got.id, t.id);
	assert_int_equal(st->ops->api->token_get(st, f->w.id, t.id, &got), HUB_NOT_FOUND);
	int n = 0;
	assert_int_equal(st->ops->api->tokens_each(st, f->v.id, count_token, &n), HUB_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(st->ops->api->tokens_each(st, NULL, count_token, &n), HUB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(st->ops->api->token_used(st, t.id, T0 + 5000), HUB_OK);
	assert_int_equal(st->ops->api->token_revoke(st, t.id, T0 + 6000), HUB_OK);
	assert_int_equal(st->ops->api->token_revoke(st, t.id, T0 + 7000), HUB_NOT_FOUND);
	assert_int_equal(st->ops->api->token_by_hash(st, hash, &got), HUB_OK);
	assert_true(got.revoked_ms == T0 + 6000);
	assert_true(got.last_used_ms == T0 + 5000);
}

typedef struct names {
	char uid[8][33];
	int64_t rid[8];
	int n;
} names;

static int take_member(const hub_member *m, void *ctx)
{
	names *c = ctx;
	if (c->n < 8) {
		snprintf(c->uid[c->n], 33, "%s", m->uid);
		c->rid[c->n] = m->rid;
	}
	c->n++;
	return 0;
}

static void add(fx *f, const char *venue, const char *name, const char *phone, const char *code, char uid[33],
		hub_err want, const char *taken_want)
{
	hub_api_member m = {.venue_id = venue, .name = name, .phone = phone, .code = code, .tier = "", .expires = ""};
	const char *taken = NULL;
	assert_int_equal(f->st->ops->api->member_add(f->st, &m, T0, uid, &taken), want);
	if (taken_want)
		assert_string_equal(taken, taken_want);
}

static void test_members(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char a[33], b[33], c[33], d[33], x[33];
	add(f, f->v.id, "王小明", "13800001234", "M001", a, HUB_OK, NULL);
	add(f, f->v.id, "李小红", "13900005678", "", b, HUB_OK, NULL);
	add(f, f->v.id, "Wang Ming", "", "M003", c, HUB_OK, NULL);
	add(f, f->w.id, "王小明", "13800001234", "M001", d, HUB_OK, NULL); /* another venue: its own */
	add(f, f->v.id, "Dup", "13800001234", "", x, HUB_EXISTS, "phone");
	add(f, f->v.id, "Dup", "", "M003", x, HUB_EXISTS, "code");
	/* a chosen uid, and it again */
	hub_api_member m = {.venue_id = f->v.id, .uid = a, .name = "again", .phone = "", .code = "", .tier = "",
			    .expires = ""};
	const char *taken = NULL;
	assert_int_equal(st->ops->api->member_add(st, &m, T0, x, &taken), HUB_EXISTS);
	assert_string_equal(taken, "uid");
	/* kiosks pull what was added */
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM members WHERE venue_id = ?1 AND origin_device = 'api'",
				   f->v.id),
			 3);

	names n = {0};
	assert_int_equal(st->ops->api->members_page(st, f->v.id, NULL, 0, 10, take_member, &n), HUB_OK);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.uid[0], a);
	assert_string_equal(n.uid[2], c);
	/* paged: after the first's row number */
	names p = {0};
	assert_int_equal(st->ops->api->members_page(st, f->v.id, NULL, n.rid[0], 1, take_member, &p), HUB_OK);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.uid[0], b);
	/* search: a part of a name, a whole code, a phone's end */
	names s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
	assert_int_equal(st->ops->api->members_page(st, f->v.id, "小", 0, 10, take_member, &s1), HUB_OK);
	assert_int_equal(s1.n, 2);
	assert_int_equal(st->ops->api->members_page(st, f->v.id, "M003", 0, 10, take_member, &s2), HUB_OK);
	assert_int_equal(s2.n, 1);
	assert_string_equal(s2.uid[0], c);
	assert_int_equal(st->ops->api->members_page(st, f->v.id, "5678", 0, 10, take_member, &s3), HUB_OK);
	assert_int_equal(s3.n, 1);
	assert_string_equal(s3.uid[0], b);
	assert_int_equal(st->ops->api->members_page(st, f->v.id, "%", 0, 10, take_member, &s4), HUB_OK);
	assert_int_equal(s4.n, 0);

	/* changed: name and phone; a code another holds is refused and named */
	int64_t seq0 = hubdb_int(f->path, "SELECT seq FROM members WHERE uid = ?1", b);
	hub_api_member e = {.venue_id = f->v.id, .uid = b, .name = "李红", .phone = "13900009999", .code = "",
			    .tier = "gold", .expires = "2027-01-31"};
	assert_int_equal(st->ops->api->member_edit(st, &e, T0 + 1000, &taken), HUB_OK);
	hub_member got;
	assert_int_equal(st->ops->member_get(st, b, &got), HUB_OK);
	assert_string_equal(got.name, "李红");
	assert_string_equal(got.phone, "13900009999");
	assert_string_equal(got.tier, "gold");
	assert_string_equal(got.expires, "2027-01-31");
	assert_true(hubdb_int(f->path, "SELECT seq FROM members WHERE uid = ?1", b) > seq0);
	e.code = "M001";
	assert_int_equal(st->ops->api->member_edit(st, &e, T0 + 2000, &taken), HUB_EXISTS);
	assert_string_equal(taken, "code");
	e.uid = d; /* another venue's */
	assert_int_equal(st->ops->api->member_edit(st, &e, T0 + 2000, &taken), HUB_NOT_FOUND);
}

typedef struct rows {
	char id[8][33];
	int64_t rn[8];
	int n;
} rows;

static int take_checkin(const hub_checkin_row *r, int64_t rn, void *ctx)
{
	rows *c = ctx;
	if (c->n < 8) {
		snprintf(c->id[c->n], 33, "%s", r->id);
		c->rn[c->n] = rn;
		assert_string_equal(r->method, "api");
	}
	c->n++;
	return 0;
}

static hub_status push_one(fx *f, const char *device, const char *id, const char *member, const char *event,
			   int64_t at, int *attendance_dup)
{
	hub_checkin k = {.id = id, .member = member, .event = event, .method = "api", .boot = "api", .kiosk_day = "",
			 .wall_ms = at, .visit = 1};
	hub_result r = {0};
	hub_batch b = {.checkins = &k, .ncheckins = 1, .results = &r, .device_time_ms = at};
	hub_push_stats stats;
	assert_int_equal(f->st->ops->push(f->st, &f->v, device, 0, at, &b, &stats), HUB_OK);
	if (attendance_dup)
		*attendance_dup = r.attendance_duplicate;
	return r.status;
}

static void test_checkins(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char m1[33], m2[33], ev[33];
	add(f, f->v.id, "一", "", "C1", m1, HUB_OK, NULL);
	add(f, f->v.id, "二", "", "C2", m2, HUB_OK, NULL);
	assert_int_equal(st->ops->event_add(st, f->v.id, "读书会", T0, T0 + 7200000, T0, ev), HUB_OK);
	const char *dev = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *id1 = "00000000000000000000000000000001", *id2 = "00000000000000000000000000000002",
		   *id3 = "00000000000000000000000000000003", *id4 = "00000000000000000000000000000004";
	int dup = 0;
	assert_int_equal(push_one(f, dev, id1, m1, ev, T0 + 60000, &dup), HUB_RES_OK);
	assert_int_equal(dup, 0);
	/* the same again: kept once */
	assert_int_equal(push_one(f, dev, id1, m1, ev, T0 + 60000, NULL), HUB_RES_DUPLICATE);
	/* another of the same attendance: kept, marked */
	assert_int_equal(push_one(f, dev, id2, m1, ev, T0 + 120000, &dup), HUB_RES_OK);
	assert_int_equal(dup, 1);
	assert_int_equal(push_one(f, dev, id3, m2, NULL, T0 + 86400000LL, NULL), HUB_RES_OK);
	assert_int_equal(push_one(f, dev, id4, m2, ev, T0 + 180000, NULL), HUB_RES_OK);
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM checkins WHERE method = 'api' AND device_id = ?1", dev),
			 4);
	hub_member got;
	assert_int_equal(st->ops->member_get(st, m1, &got), HUB_OK);
	assert_int_equal((int)got.visits, 1);

	hub_api_checkin c;
	assert_int_equal(st->ops->api->checkin_get(st, id2, &c), HUB_OK);
	assert_string_equal(c.member_sent, m1);
	assert_string_equal(c.event_uid, ev);
	assert_string_equal(c.duplicate_of, id1);
	assert_string_equal(c.device_id, dev);
	assert_string_equal(c.method, "api");
	assert_true(c.wall_ms == T0 + 120000);
	assert_int_equal(st->ops->api->checkin_get(st, "ffffffffffffffffffffffffffffffff", &c), HUB_NOT_FOUND);

	/* every one, in the order kept, then by cursor */
	hub_api_checkins_query q = {.venue_id = f->v.id, .limit = 10};
	rows all = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &q, take_checkin, &all), HUB_OK);
	assert_int_equal(all.n, 4);
	assert_string_equal(all.id[0], id1);
	assert_string_equal(all.id[3], id4);
	q.after = all.rn[1];
	rows rest = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &q, take_checkin, &rest), HUB_OK);
	assert_int_equal(rest.n, 2);
	assert_string_equal(rest.id[0], id3);
	q.after = all.rn[3];
	rows none = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &q, take_checkin, &none), HUB_OK);
	assert_int_equal(none.n, 0);
	/* by event, by period; another venue sees none */
	hub_api_checkins_query qe = {.venue_id = f->v.id, .event_uid = ev, .limit = 10};
	rows byev = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &qe, take_checkin, &byev), HUB_OK);
	assert_int_equal(byev.n, 3);
	hub_api_checkins_query qp = {.venue_id = f->v.id, .from_ms = T0 + 100000, .to_ms = T0 + 200000, .limit = 10};
	rows byp = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &qp, take_checkin, &byp), HUB_OK);
	assert_int_equal(byp.n, 2);
	assert_string_equal(byp.id[0], id2);
	assert_string_equal(byp.id[1], id4);
	hub_api_checkins_query qw = {.venue_id = f->w.id, .limit = 10};
	rows other = {0};
	assert_int_equal(st->ops->api->checkins_page(st, &qw, take_checkin, &other), HUB_OK);
	assert_int_equal(other.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_members, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
