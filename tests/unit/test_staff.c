/*
 * Staff mode's rules on a real database file: the PIN kept only as an
 * Argon2id hash, five wrong PINs locking for five minutes on an injected
 * clock, and undoing a check-in: a reversal row and its outbox record, the
 * check-in no longer counted, the member able to check in again, and every
 * staff action audited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/staff.h"
#include "sync/clock.h"
#include "app/store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SESSION "5e5510115e5510115e5510115e551011"

#include "tests/unit/testdb.h"

static int setup(void **state)
{
	return testdb_setup(state, "staff");
}

/* 1 when the bytes occur anywhere in the database file or its WAL. */
static int file_has(const char *needle)
{
	char p[160];
	int found = 0;
	for (int i = 0; i < 2 && !found; i++) {
		snprintf(p, sizeof p, "%s%s", path, i ? "-wal" : "");
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		rewind(f);
		char *buf = malloc((size_t)n + 1);
		size_t got = fread(buf, 1, (size_t)n, f);
		fclose(f);
		size_t m = strlen(needle);
		for (size_t k = 0; k + m <= got && !found; k++)
			found = memcmp(buf + k, needle, m) == 0;
		free(buf);
	}
	return found;
}

static void test_pin_hashed(void **state)
{
	store *s = *state;
	const char *bad[] = {"", "123", "1234567890123", "12a4", " 1234", "１２３４"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(staff_pin_set(s, bad[i]), STORE_ERR_INVALID);
	assert_false(staff_pin_is_set(s));
	staff_guard g = {0};
	int left;
	assert_int_equal(staff_try(&g, s, "246810", 0, &left), STAFF_NO_PIN);
	assert_int_equal(staff_pin_set(s, "246810"), STORE_OK);
	assert_true(staff_pin_is_set(s));
	assert_int_equal(staff_try(&g, s, "246810", 0, &left), STAFF_OK);
	assert_int_equal(staff_try(&g, s, "246811", 0, &left), STAFF_WRONG);
	/* the database holds an Argon2id string, not the PIN */
	assert_int_equal(sql_int("SELECT count(*) FROM settings WHERE key = 'staff_pin' AND value LIKE '$argon2id$%'"),
			 1);
	assert_false(file_has("246810"));
	/* a new PIN replaces the old */
	assert_int_equal(staff_pin_set(s, "1357"), STORE_OK);
	assert_int_equal(staff_try(&g, s, "246810", 0, &left), STAFF_WRONG);
	assert_int_equal(staff_try(&g, s, "1357", 0, &left), STAFF_OK);
}

static void test_lockout(void **state)
{
	store *s = *state;
	assert_int_equal(staff_pin_set(s, "2468"), STORE_OK);
	staff_guard g = {0};
	int left;
	int64_t t = 1000000;
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(staff_try(&g, s, "0000", t + i, &left), STAFF_WRONG);
		assert_int_equal(left, 5 - i);
	}
	/* the fifth wrong PIN locks for five minutes */
	assert_int_equal(staff_try(&g, s, "0000", t + 5, &left), STAFF_LOCKED);
	assert_int_equal(left, 300);
	/* even the right PIN is refused while locked */
	assert_int_equal(staff_try(&g, s, "2468", t + 5 + 60000, &left), STAFF_LOCKED);
	assert_int_equal(left, 240);
	assert_int_equal(staff_try(&g, s, "2468", t + 5 + 299999, &left), STAFF_LOCKED);
	assert_int_equal(left, 1);
	/* after five minutes the right PIN opens, and the count starts again */
	assert_int_equal(staff_try(&g, s, "2468", t + 5 + 300000, &left), STAFF_OK);
	assert_int_equal(staff_try(&g, s, "0000", t + 400000, &left), STAFF_WRONG);
	assert_int_equal(left, 4);
	/* a right PIN clears the count */
	assert_int_equal(staff_try(&g, s, "2468", t + 400001, &left), STAFF_OK);
	assert_int_equal(g.failures, 0);
}

static int64_t member(store *s, const char *name, const char *code)
{
	store_member m = {0};
	int updated;
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.code, sizeof m.code, "%s", code);
	assert_int_equal(store_import_begin(s), STORE_OK);
	assert_int_equal(store_import_member(s, &m, &updated), STORE_OK);
	assert_int_equal(store_import_commit(s), STORE_OK);
	char q[160];
	snprintf(q, sizeof q, "SELECT id FROM members WHERE code = '%s'", code);
	return sql_int(q);
}

static void test_reversal(void **state)
{
	store *s = *state;
	int64_t now = clock_wall_ms(), ev;
	int64_t a = member(s, "张三", "TZ1");
	assert_int_equal(store_event_add(s, "茶会", now - 1000, now + 3600000, &ev), STORE_OK);
	store_event e;
	assert_int_equal(store_event_get(s, ev, &e), STORE_OK);
	store_checkin_status st;
	store_checkin c1, c2;
	assert_int_equal(store_checkin_record(s, a, &e, "scan", now, "2026-11-22", &st, &c1), STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_RECORDED);
	assert_int_equal(store_member_visits(s, a), 1);
	/* the mistaken tap is undone */
	char rev[STORE_ID_MAX];
	assert_int_equal(store_checkin_reverse(s, c1.id, "wrong person", SESSION, now + 10, rev), STORE_OK);
	assert_int_equal(store_member_visits(s, a), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM checkins"), 1); /* kept, not deleted */
	assert_int_equal(sql_int("SELECT reversed FROM checkins"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM reversals WHERE reason = 'wrong person'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE kind = 'reversal' AND json_extract(body, "
				 "'$.checkin') = (SELECT id FROM checkins)"),
			 1);
	/* undone twice: refused, nothing more written */
	assert_int_equal(store_checkin_reverse(s, c1.id, "", SESSION, now + 20, rev), STORE_ERR_NOT_FOUND);
	assert_int_equal(sql_int("SELECT count(*) FROM reversals"), 1);
	assert_int_equal(store_checkin_reverse(s, "00000000000000000000000000000000", "", SESSION, now, rev),
			 STORE_ERR_NOT_FOUND);
	/* the member can check in again, and it counts */
	assert_int_equal(store_checkin_record(s, a, &e, "staff", now + 30, "2026-11-22", &st, &c2), STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_RECORDED);
	assert_int_equal(c2.visit_no, 1);
	assert_int_equal(store_member_visits(s, a), 1);
	assert_int_equal(store_checkin_record(s, a, &e, "scan", now + 40, "2026-11-22", &st, &c2), STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_ALREADY);
	/* the undo is audited, and queued for the hub */
	assert_int_equal(sql_int("SELECT count(*) FROM audit WHERE action = 'checkin.undo' AND session = '" SESSION
				 "' AND json_extract(detail, '$.reversal') IS NOT NULL"),
			 1);
	assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE kind = 'audit'"), 1);
}

typedef struct seen {
	int n;
	char action[4][32];
} seen;

static int take(const store_audit_row *a, void *ctx)
{
	seen *x = ctx;
	snprintf(x->action[x->n++], 32, "%s", a->action);
	return x->n == 4;
}

static void test_audit(void **state)
{
	store *s = *state;
	assert_int_equal(store_audit(s, SESSION, "staff.enter", "{}", 10), STORE_OK);
	assert_int_equal(store_audit(s, SESSION, "settings.referral", "{\"on\":true}", 20), STORE_OK);
	assert_int_equal(store_audit(s, "short", "x", "{}", 30), STORE_ERR_INVALID);
	assert_int_equal(store_audit(s, SESSION, "x", "not json", 30), STORE_ERR_INVALID);
	seen x = {0};
	assert_int_equal(store_audit_foreach(s, take, &x), STORE_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.action[0], "staff.enter");
	assert_string_equal(x.action[1], "settings.referral");
	assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE kind = 'audit' AND "
				 "json_extract(body, '$.detail.on') = 1"),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pin_hashed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reversal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
