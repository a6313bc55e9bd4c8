/*
 * "Shown a join QR" on the check-in record, in a real database file: the
 * welcome screen carries the group's join QR for a first visit or a walk-in
 * while a group link applies, and the check-in says so (checkins.join_qr,
 * the outbox body's "join_qr", bit 1 of the pushed flags) exactly when the
 * welcome draws it. The command line, which shows no QR, never sets it. A
 * database of schema 6 upgrades with its check-ins at 0 and its queued ones
 * still pushable. A returning member's invite QR goes through the link's
 * live address when it has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/checkin.h"
#include "app/kiosk.h"
#include "app/store/store.h"
#include "app/sync/wire.h"
#include "sync/clock.h"
#include "sync/links.h"

#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testdb.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS  (24 * HOUR_MS)

static int setup(void **state)
{
	return testdb_setup(state, "flags");
}

/* A venue-wide link (event 0) or an event's, expiring at expires_ms (0: never). */
static int64_t add_link(store *s, const char *url, int64_t event_id, int is_default, int64_t expires_ms)
{
	store_link l = {0};
	int64_t id = 0;
	snprintf(l.platform, sizeof l.platform, "%s", links_guess_platform(url));
	snprintf(l.label, sizeof l.label, "group %s", url + 8);
	snprintf(l.url, sizeof l.url, "%s", url);
	l.event_id = event_id;
	l.is_default = is_default;
	l.expires_ms = expires_ms;
	assert_int_equal(store_link_add(s, &l, clock_wall_ms(), &id), STORE_OK);
	return id;
}

/* An event running now; its row id. */
static int64_t event_now(store *s, const char *title)
{
	int64_t now = clock_wall_ms(), id = 0;
	assert_int_equal(store_event_add(s, title, now - HOUR_MS, now + 3 * HOUR_MS, &id), STORE_OK);
	return id;
}

/* A drop-in visit on an earlier day, so the member's next visit is their second. */
static void earlier_visit(store *s, int64_t member)
{
	store_checkin_status st;
	store_checkin c;
	assert_int_equal(store_checkin_record(s, member, NULL, "scan", clock_wall_ms() - 9 * DAY_MS, "2020-03-01",
					      &st, &c),
			 STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_RECORDED);
}

/* The check-in's join_qr as the file holds it: the row and its outbox body. */
static void expect_recorded(const char *id, int join_qr)
{
	char buf[16];
	assert_int_equal(testdb_int(path, "SELECT join_qr FROM checkins WHERE id = ?1", id), join_qr);
	testdb_text(path, "SELECT json_type(body, '$.join_qr') FROM outbox WHERE record_id = ?1", id, buf,
		    sizeof buf);
	assert_string_equal(buf, join_qr ? "true" : "false");
}

/* ---- the rule ---- */

static void test_the_rule(void **state)
{
	(void)state;
	static const struct {
		int visit;
		const char *method;
		size_t links;
		int join;
	} cases[] = {
	    {1, "scan", 1, 1},   {1, "phone", 3, 1}, {2, "scan", 1, 0},   {7, "name", 2, 0},
	    {2, "walkin", 1, 1}, {1, "scan", 0, 0},  {1, "walkin", 0, 0}, {3, "cli", 4, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (links_welcome_join(cases[i].visit, cases[i].method, cases[i].links) != cases[i].join)
			fail_msg("visit %d by %s with %zu links: expected %d", cases[i].visit, cases[i].method,
				 cases[i].links, cases[i].join);
}

/* ---- the record: row, outbox body, push flags ---- */

typedef struct batch {
	wire_rec r[32];
	size_t n;
} batch;

static int take(const store_outbox_rec *rec, void *ctx)
{
	batch *b = ctx;
	assert_int_equal(wire_rec_from(&b->r[b->n++], rec), 0);
	return b->n == 32;
}

/* The push body's check-in flags by check-in id, the way the hub reads them. */
static int pushed_flags(json_t *body, const char *id)
{
	json_t *c = json_object_get(body, "checkins");
	json_t *ids = json_object_get(c, "id"), *flags = json_object_get(c, "flags");
	assert_int_equal(json_array_size(ids), json_array_size(flags));
	for (size_t i = 0; i < json_array_size(ids); i++)
		if (strcmp(json_string_value(json_array_get(ids, i)), id) == 0)
			return (int)json_integer_value(json_array_get(flags, i));
	fail_msg("check-in %s is not in the push", id);
	return -1;
}

/* The queued check-ins' push body, made both ways the kiosk makes it: from the
 * outbox columns (the batch path) and from the outbox bodies (the JSON path);
 * both must say the same flags. Returns the first; *slow gets the second. */
static json_t *push_both_ways(store *s, json_t **slow)
{
	batch b = {0};
	char why[160];
	assert_int_equal(store_outbox_batch(s, 32, take, &b), STORE_OK);
	char *fast = wire_push_body(store_device_id(s), clock_wall_ms(), b.r, b.n, why, sizeof why);
	assert_non_null(fast);
	/* the same records given by their bodies alone */
	wire_rec byjson[32];
	memset(byjson, 0, sizeof byjson);
	for (size_t i = 0; i < b.n; i++) {
		snprintf(byjson[i].kind, sizeof byjson[i].kind, "%s", b.r[i].kind);
		snprintf(byjson[i].id, sizeof byjson[i].id, "%s", b.r[i].id);
		char body[2048];
		testdb_text(path, "SELECT body FROM outbox WHERE record_id = ?1", b.r[i].id, body, sizeof body);
		byjson[i].body = strdup(body);
	}
	char *other = wire_push_body(store_device_id(s), clock_wall_ms(), byjson, b.n, why, sizeof why);
	assert_non_null(other);
	json_t *j = json_loads(fast, 0, NULL);
	*slow = json_loads(other, 0, NULL);
	assert_non_null(j);
	assert_non_null(*slow);
	for (size_t i = 0; i < b.n; i++) {
		wire_rec_clear(&b.r[i]);
		wire_rec_clear(&byjson[i]);
	}
	free(fast);
	free(other);
	return j;
}

static void test_first_timer_with_a_link_and_returning_member(void **state)
{
	store *s = *state;
	int64_t ev = event_now(s, "周末茶话会");
	add_link(s, "https://line.me/R/ti/g/tingyu", 0, 1, 0);
	int64_t first = testdb_add_member(s, "张三", "13800005678", "TZ1001");
	int64_t back = testdb_add_member(s, "李四", "13900001234", "TZ1002");
	int64_t walkin = testdb_add_member(s, "王五", "13700009999", "TZ1003");
	int64_t lapsed = testdb_add_member(s, "赵六", "13600001111", "TZ1004");
	testdb_exec(path, "UPDATE members SET expires = '2020-01-31' WHERE code = 'TZ1004'");
	earlier_visit(s, back);
	earlier_visit(s, walkin);
	/* the earlier visits are not what this test pushes */
	testdb_exec(path, "DELETE FROM outbox");

	link_set links;
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_result a, b, w, x;
	checkin_member_welcome(s, first, "scan", &links, &a);
	checkin_member_welcome(s, back, "scan", &links, &b);
	checkin_member_welcome(s, walkin, "walkin", &links, &w);
	checkin_member_welcome(s, lapsed, "phone", &links, &x);
	const checkin_result *all[] = {&a, &b, &w, &x};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(all[i]->outcome, CHECKIN_RECORDED);
		assert_int_equal(all[i]->event.id, ev);
	}
	assert_int_equal(a.checkin.visit_no, 1);
	assert_int_equal(b.checkin.visit_no, 2);
	assert_int_equal(w.checkin.visit_no, 2);
	/* first visit: shown; returning: not; a returning walk-in: shown; first visit, expired: shown */
	assert_int_equal(a.checkin.join_qr, 1);
	assert_int_equal(b.checkin.join_qr, 0);
	assert_int_equal(w.checkin.join_qr, 1);
	assert_int_equal(x.checkin.join_qr, 1);
	assert_int_equal(x.checkin.expired, 1);
	expect_recorded(a.checkin.id, 1);
	expect_recorded(b.checkin.id, 0);
	expect_recorded(w.checkin.id, 1);
	expect_recorded(x.checkin.id, 1);

	/* the push: bit 1 for shown, bit 0 still for expired */
	json_t *slow, *fast = push_both_ways(s, &slow);
	json_t *both[] = {fast, slow};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pushed_flags(both[k], a.checkin.id), 2);
		assert_int_equal(pushed_flags(both[k], b.checkin.id), 0);
		assert_int_equal(pushed_flags(both[k], w.checkin.id), 2);
		assert_int_equal(pushed_flags(both[k], x.checkin.id), 3);
		json_decref(both[k]);
	}
}

/* Only links that apply to the event checked into, at that moment, count. */
static void test_links_that_do_not_apply(void **state)
{
	store *s = *state;
	int64_t now = clock_wall_ms();
	int64_t other_ev = 0;
	assert_int_equal(store_event_add(s, "下周读书会", now + 5 * DAY_MS, now + 5 * DAY_MS + HOUR_MS, &other_ev),
			 STORE_OK);
	int64_t m[6];
	char name[16], phone[16], code[16];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "会员%d", i);
		snprintf(phone, sizeof phone, "1380000%04d", i);
		snprintf(code, sizeof code, "TZ20%02d", i);
		m[i] = testdb_add_member(s, name, phone, code);
	}
	link_set links;
	checkin_result r;

	/* no link at all: a drop-in visit */
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_member_welcome(s, m[0], "scan", &links, &r);
	assert_int_equal(r.outcome, CHECKIN_RECORDED);
	assert_int_equal(r.event.id, 0);
	expect_recorded(r.checkin.id, 0);

	/* a venue link that ran out a minute ago, and another event's link */
	add_link(s, "https://t.me/+ExpiredInvite", 0, 1, now - 60000);
	add_link(s, "https://weixin.qq.com/g/NextWeek", other_ev, 0, now + 2 * DAY_MS);
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_member_welcome(s, m[1], "scan", &links, &r);
	expect_recorded(r.checkin.id, 0);

	/* the same links, an event of its own running now: still none applies */
	int64_t ev = event_now(s, "周末茶话会");
	checkin_member_welcome(s, m[2], "scan", &links, &r);
	assert_int_equal(r.event.id, ev);
	expect_recorded(r.checkin.id, 0);

	/* the running event's own link applies (the set the screen holds) */
	add_link(s, "https://weixin.qq.com/g/ThisWeek", ev, 0, now + 2 * DAY_MS);
	checkin_member_welcome(s, m[3], "scan", &links, &r);
	expect_recorded(r.checkin.id, 0); /* not yet in the set the screen draws from */
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_member_welcome(s, m[4], "scan", &links, &r);
	expect_recorded(r.checkin.id, 1);

	/* the command line shows no QR: never set, links or not */
	checkin_member(s, m[5], "cli", &r);
	assert_int_equal(r.outcome, CHECKIN_RECORDED);
	assert_int_equal(r.checkin.visit_no, 1);
	expect_recorded(r.checkin.id, 0);
}

/* ---- a schema 6 database upgrades ---- */

static void test_schema_6_upgrades(void **state)
{
	store *s = *state;
	char err[256];
	int64_t a = testdb_add_member(s, "张三", "13800005678", "TZ1001");
	int64_t b = testdb_add_member(s, "李四", "13900001234", "TZ1002");
	testdb_exec(path, "UPDATE members SET expires = '2020-01-31' WHERE code = 'TZ1002'");
	add_link(s, "https://line.me/R/ti/g/tingyu", 0, 1, 0);
	link_set links;
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_result old_a, old_b;
	checkin_member_welcome(s, a, "scan", &links, &old_a);
	checkin_member_welcome(s, b, "scan", &links, &old_b);
	store_close(s);
	*state = NULL;
	/* the file as schema 6 left it: no join_qr column, outbox bodies without it */
	testdb_exec(path, "ALTER TABLE checkins DROP COLUMN join_qr;"
			  " UPDATE outbox SET body = json_remove(body, '$.join_qr');"
			  " PRAGMA user_version = 6");
	assert_int_equal(testdb_int(path, "SELECT count(*) FROM pragma_table_info('checkins') WHERE name = 'join_qr'",
				    NULL),
			 0);

	assert_int_equal(store_open(path, 0, &s, err, sizeof err), STORE_OK);
	*state = s;
	assert_int_equal(sql_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_true(STORE_SCHEMA_VERSION >= 7);
	/* the earlier check-ins: kept, not known to have been shown one */
	assert_int_equal(testdb_int(path, "SELECT count(*) FROM checkins WHERE join_qr = 0", NULL), 2);
	char buf[16];
	testdb_text(path, "SELECT ifnull(json_type(body, '$.join_qr'), 'none') FROM outbox WHERE record_id = ?1",
		    old_a.checkin.id, buf, sizeof buf);
	assert_string_equal(buf, "none");
	/* the schema refuses anything but 0 and 1 */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE checkins SET join_qr = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* a new first visit after the upgrade is recorded; the queued old ones push as before */
	int64_t c = testdb_add_member(s, "王五", "13700009999", "TZ1003");
	assert_int_equal(store_links_load(s, &links), STORE_OK);
	checkin_result now_c;
	checkin_member_welcome(s, c, "scan", &links, &now_c);
	expect_recorded(now_c.checkin.id, 1);
	json_t *slow, *fast = push_both_ways(s, &slow);
	json_t *both[] = {fast, slow};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pushed_flags(both[k], old_a.checkin.id), 0);
		assert_int_equal(pushed_flags(both[k], old_b.checkin.id), 1);
		assert_int_equal(pushed_flags(both[k], now_c.checkin.id), 2);
		json_decref(both[k]);
	}
}

/* ---- the welcome screen and the record agree ---- */

/* The kiosk's log lines while fn runs (stderr to a file, then back). */
static char *logged(void (*fn)(kiosk *k, int64_t member, const char *method), kiosk *k, int64_t member,
		    const char *method)
{
	char file[160];
	snprintf(file, sizeof file, "%s.log", path);
	fflush(stderr);
	int saved = dup(2), fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	fn(k, member, method);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(file, "rb");
	assert_non_null(f);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(file);
	return text;
}

/* A member checks in at the kiosk and the welcome is drawn. */
static void check_in_and_draw(kiosk *k, int64_t member, const char *method)
{
	k->shown_link = 0; /* each welcome logs its QR afresh */
	kiosk_checkin(k, member, method);
	kiosk_frame(k);
}

/* What the welcome drew: "join", "referral" or "none", for link *link. */
static const char *drawn(const char *log, int64_t *link)
{
	const char *p = strstr(log, "\"event\":\"qr.shown\"");
	*link = 0;
	if (!p)
		return "none";
	const char *l = strstr(p, "\"link\":"), *kd = strstr(p, "\"kind\":\"");
	assert_non_null(l);
	assert_non_null(kd);
	*link = strtoll(l + 7, NULL, 10);
	return strncmp(kd + 8, "join\"", 5) == 0 ? "join" : strncmp(kd + 8, "referral\"", 9) == 0 ? "referral" : "?";
}

static void test_welcome_and_record_agree(void **state)
{
	store *s = *state;
	setenv("TINGZI_NO_SYNC", "1", 1);
	int64_t now = clock_wall_ms();
	int64_t ev = event_now(s, "周末茶话会");
	int64_t venue = add_link(s, "https://line.me/R/ti/g/tingyu", 0, 1, 0);
	testdb_exec(path, "UPDATE links SET live_url = 'http://127.0.0.1:9/j/tingyu' WHERE is_default = 1");
	assert_int_equal(store_setting_set(s, "referral_qr", "1"), STORE_OK);
	int64_t m[6];
	char name[16], phone[16], code[16];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "会员%d", i);
		snprintf(phone, sizeof phone, "1390000%04d", i);
		snprintf(code, sizeof code, "TZ30%02d", i);
		m[i] = testdb_add_member(s, name, phone, code);
	}
	earlier_visit(s, m[1]);
	earlier_visit(s, m[4]);

	static kiosk k;
	kiosk_config cfg = {.db_path = path, .windowed = 1, .width = 1280, .height = 800};
	assert_int_equal(kiosk_open(&k, &cfg), 0);
	assert_non_null(kiosk_roster(&k));
	kiosk_frame(&k);

	static const struct {
		int member;
		const char *method;
		const char *kind; /* what the welcome draws */
		int join_qr;
	} steps[] = {
	    {0, "scan", "join", 1},       /* a first visit, the venue's link */
	    {1, "scan", "referral", 0},   /* a returning member: their invite, not a join QR */
	    {2, "scan", "none", 0},       /* a first visit after the link ran out */
	    {3, "phone", "join", 1},      /* a first visit with the event's own link */
	    {4, "walkin", "join", 1},     /* a returning walk-in */
	    {5, "name", "join", 1},       /* a first visit found by name */
	};
	int64_t event_link = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (i == 2) { /* the venue's link runs out */
			char q[160];
			snprintf(q, sizeof q, "UPDATE links SET expires_ms = %lld WHERE id = %lld",
				 (long long)(now - 1000), (long long)venue);
			testdb_exec(path, q);
			kiosk_links_refresh(&k, 1);
		}
		if (i == 3) {
			event_link = add_link(s, "https://weixin.qq.com/g/ThisWeek", ev, 0, now + DAY_MS);
			kiosk_links_refresh(&k, 1);
		}
		char *log = logged(check_in_and_draw, &k, m[steps[i].member], steps[i].method);
		assert_int_equal(k.screen, SCREEN_WELCOME);
		int64_t link;
		const char *kind = drawn(log, &link);
		if (strcmp(kind, steps[i].kind) != 0)
			fail_msg("step %zu: the welcome drew %s, expected %s", i, kind, steps[i].kind);
		if (k.result.checkin.join_qr != steps[i].join_qr)
			fail_msg("step %zu: the check-in says join_qr %d, expected %d", i, k.result.checkin.join_qr,
				 steps[i].join_qr);
		expect_recorded(k.result.checkin.id, steps[i].join_qr);
		/* the record and the drawing: one rule */
		assert_int_equal(strcmp(kind, "join") == 0, k.result.checkin.join_qr);
		if (i >= 3 && strcmp(kind, "join") == 0)
			assert_int_equal(link, event_link);
		else if (strcmp(kind, "none") != 0)
			assert_int_equal(link, venue);
		kiosk_show(&k, SCREEN_HOME);
		kiosk_frame(&k);
	}
	kiosk_close(&k);
	unsetenv("TINGZI_NO_SYNC");
}

/* ---- the invite address ---- */

static void test_invite_address(void **state)
{
	(void)state;
	static const struct {
		const char *base, *ref, *want;
	} cases[] = {
	    /* a live address from the hub: the friend goes through /j/SLUG */
	    {"http://127.0.0.1:8080/j/tingyu", "TZ1007", "http://127.0.0.1:8080/j/tingyu?ref=TZ1007"},
	    {"https://hub.example/j/tingyu/", "TZ1007", "https://hub.example/j/tingyu/?ref=TZ1007"},
	    /* a raw link that has a query already, an empty one, a fragment */
	    {"https://line.me/R/ti/g/x?utm_source=kiosk", "TZ1007", "https://line.me/R/ti/g/x?utm_source=kiosk&ref=TZ1007"},
	    {"https://line.me/R/ti/g/x?", "TZ1007", "https://line.me/R/ti/g/x?ref=TZ1007"},
	    {"https://line.me/R/ti/g/x?a=1&", "TZ1007", "https://line.me/R/ti/g/x?a=1&ref=TZ1007"},
	    {"https://example.org/join#top", "TZ 7/8", "https://example.org/join?ref=TZ%207%2F8#top"},
	};
	char out[LINKS_URL_MAX + 1];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(links_referral_url(cases[i].base, cases[i].ref, out, sizeof out), 0);
		assert_string_equal(out, cases[i].want);
	}
}

static int teardown_maybe(void **state)
{
	if (!*state) { /* a test that closed its store and failed to reopen it */
		unlink(path);
		return 0;
	}
	return teardown(state);
}

int main(void)
{
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	setenv("SDL_AUDIODRIVER", "dummy", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_rule),
	    cmocka_unit_test_setup_teardown(test_first_timer_with_a_link_and_returning_member, setup,
					    teardown_maybe),
	    cmocka_unit_test_setup_teardown(test_links_that_do_not_apply, setup, teardown_maybe),
	    cmocka_unit_test_setup_teardown(test_schema_6_upgrades, setup, teardown_maybe),
	    cmocka_unit_test_setup_teardown(test_welcome_and_record_agree, setup, teardown_maybe),
	    cmocka_unit_test(test_invite_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
