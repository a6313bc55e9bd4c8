/*
 * hub_guard: the failure limit per address and its window, the shared body
 * budget, log lines of one kind, and escaping of what is logged.
 */
#include "sync/hub/hub_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static struct sockaddr_in addr(const char *ip)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static void test_failure_limit(void **state)
{
	hub_guard_config cfg = {.failures_per_minute = 3, .body_budget = 100, .request_seconds = 60};
	hub_guard *g = hub_guard_new(&cfg);
	assert_non_null(g);
	struct sockaddr_in a = addr("127.0.0.7"), b = addr("127.0.0.8");
	int64_t t = 1700000000000;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&a, t + i), 0);
		hub_guard_failed(g, (struct sockaddr *)&a, t + i);
	}
	/* past the limit: the rest of the minute, rounded up */
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&a, t + 10), 60);
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&a, t + 30500), 30);
	/* another address is not touched */
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&b, t + 10), 0);
	/* a new minute, a new count */
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&a, t + 60000), 0);
	hub_guard_free(g);
}

static void test_many_addresses(void **state)
{
	hub_guard_config cfg = {.failures_per_minute = 1, .body_budget = 100, .request_seconds = 60};
	hub_guard *g = hub_guard_new(&cfg);
	int64_t t = 1700000000000;
	struct sockaddr_in first = addr("10.0.0.1");
	hub_guard_failed(g, (struct sockaddr *)&first, t);
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&first, t + 1), 60);
	/* a flood of new addresses costs no memory: old entries make room */
	for (unsigned i = 0; i < 100000; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0b000000u + i)};
		hub_guard_failed(g, (struct sockaddr *)&a, t + 2);
	}
	struct sockaddr_in last = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0b000000u + 99999)};
	assert_true(hub_guard_wait(g, (struct sockaddr *)&last, t + 3) > 0);
	hub_guard_free(g);
}

static void test_body_budget(void **state)
{
	hub_guard_config cfg = {.failures_per_minute = 0, .body_budget = 1000, .request_seconds = 60};
	hub_guard *g = hub_guard_new(&cfg);
	assert_int_equal(hub_guard_take(g, 600), 0);
	assert_int_equal(hub_guard_take(g, 500), -1); /* would pass 1000 */
	assert_int_equal(hub_guard_take(g, 400), 0);
	assert_int_equal(hub_guard_held(g), 1000);
	hub_guard_give(g, 600);
	assert_int_equal(hub_guard_take(g, 500), 0);
	hub_guard_give(g, 5000); /* more than held: back to 0, never below */
	assert_int_equal(hub_guard_held(g), 0);
	/* no failure limit configured: never a wait */
	struct sockaddr_in a = addr("127.0.0.9");
	for (int i = 0; i < 100; i++)
		hub_guard_failed(g, (struct sockaddr *)&a, 1);
	assert_int_equal(hub_guard_wait(g, (struct sockaddr *)&a, 2), 0);
	hub_guard_free(g);
}

static void test_log_kinds(void **state)
{
	hub_guard_config cfg = {.failures_per_minute = 0, .body_budget = 1, .request_seconds = 60};
	hub_guard *g = hub_guard_new(&cfg);
	static const char kind_a[] = "a", kind_b[] = "b";
	int written = 0;
	for (int i = 0; i < 50; i++)
		written += hub_guard_log_ok(g, kind_a, "connection limit");
	assert_int_equal(written, 10);
	assert_true(hub_guard_log_ok(g, kind_b, "another kind"));
	hub_guard_free(g);
}

static void test_escape(void **state)
{
	char out[64];
	hub_log_escape("GET /v1/\nhub: forged\x1b[31m \\ ok", out, sizeof out);
	assert_string_equal(out, "GET /v1/\\x0ahub: forged\\x1b[31m \\x5c ok");
	hub_log_escape("\x7f", out, sizeof out);
	assert_string_equal(out, "\\x7f");
	/* never cut inside an escape, always terminated */
	hub_log_escape("abc\n", out, 6);
	assert_string_equal(out, "abc");
	hub_log_escape("中文", out, sizeof out);
	assert_string_equal(out, "中文");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure_limit), cmocka_unit_test(test_many_addresses),
	    cmocka_unit_test(test_body_budget),	  cmocka_unit_test(test_log_kinds),
	    cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
