/*
 * Group links: what a valid URL is (and the sentence a person gets for a bad
 * one), the platform a URL belongs to, expiry rules (WeChat and Discord live
 * at most 7 days; 48 hours' warning), which links a screen shows, referral
 * addresses, and the links kept in a real database file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sync/links.h"
#include "sync/clock.h"
#include "app/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOUR (3600LL * 1000)
#define DAY  (24 * HOUR)

static const int64_t NOW = 1795000000000LL; /* a fixed clock: 2026-11-18 */

static void expect_bad_url(const char *url, const char *says)
{
	char why[256] = "";
	if (links_check_url(url, why, sizeof why) == 0)
		fail_msg("accepted a bad URL: \"%s\"", url);
	if (!strstr(why, says))
		fail_msg("for \"%s\" the message \"%s\" does not say \"%s\"", url, why, says);
}

static void test_url_validation(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(links_check_url("https://weixin.qq.com/g/AbC123", why, sizeof why), 0);
	assert_int_equal(links_check_url("http://example.org", why, sizeof why), 0);
	assert_int_equal(links_check_url("HTTPS://T.ME/+abc", why, sizeof why), 0);
	assert_int_equal(links_check_url("https://例子.中国/加入?群=1", why, sizeof why), 0);

	expect_bad_url("", "empty");
	expect_bad_url("ftp://example.org/file", "https://");
	expect_bad_url("weixin://dl/chat", "https://");
	expect_bad_url("example.org/join", "https://");
	expect_bad_url("javascript:alert(1)", "https://");
	expect_bad_url("https://", "host");
	expect_bad_url("https:///path", "host");
	expect_bad_url("https://example.org/a b", "space");
	expect_bad_url("https://example.org/\tx", "control");
	expect_bad_url("https://example.org/\nx", "control");
	expect_bad_url("https://example.org/\x7f", "control");
	expect_bad_url("https://example.org/\xff\xfe", "UTF-8");

	/* 1024 bytes is the limit */
	char url[1100];
	memset(url, 'a', sizeof url);
	memcpy(url, "https://example.org/", 20);
	url[1024] = '\0';
	assert_int_equal(links_check_url(url, why, sizeof why), 0);
	url[1024] = 'a';
	url[1025] = '\0';
	expect_bad_url(url, "1024");
}

static void test_platform_from_host(void **state)
{
	(void)state;
	assert_string_equal(links_guess_platform("https://weixin.qq.com/g/AbC"), "wechat");
	assert_string_equal(links_guess_platform("https://line.me/R/ti/g/xyz"), "line");
	assert_string_equal(links_guess_platform("https://t.me/+AbCdEf"), "telegram");
	assert_string_equal(links_guess_platform("https://discord.gg/abc"), "discord");
	assert_string_equal(links_guess_platform("https://discord.com/invite/abc"), "discord");
	assert_string_equal(links_guess_platform("https://example.org/t.me"), "url");
	/* a host that only ends in the same letters is not the platform */
	assert_string_equal(links_guess_platform("https://notdiscord.gg/abc"), "url");
	assert_string_equal(links_guess_platform("https://t.me.example.org/x"), "url");
	assert_string_equal(links_guess_platform("https://evil.example@t.me/x"), "telegram");
	assert_true(links_platform_valid("wechat"));
	assert_false(links_platform_valid("WeChat"));
	assert_false(links_platform_valid("qq"));
	assert_string_equal(links_platform_name("wechat"), "WeChat");
}

static void test_expiry_rules(void **state)
{
	(void)state;
	int64_t t;
	char why[256];
	/* WeChat and Discord: 7 days from now unless told, never more */
	assert_int_equal(links_parse_expiry(NULL, "wechat", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, NOW + 7 * DAY);
	assert_int_equal(links_parse_expiry("", "discord", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, NOW + 7 * DAY);
	assert_int_equal(links_parse_expiry("+7d", "wechat", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, NOW + 7 * DAY);
	assert_int_equal(links_parse_expiry("+8d", "wechat", NOW, &t, why, sizeof why), -1);
	assert_non_null(strstr(why, "7 days"));
	assert_int_equal(links_parse_expiry("never", "discord", NOW, &t, why, sizeof why), -1);
	assert_int_equal(links_parse_expiry("+169h", "discord", NOW, &t, why, sizeof why), -1);
	/* other platforms: no expiry unless told */
	assert_int_equal(links_parse_expiry(NULL, "telegram", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, 0);
	assert_int_equal(links_parse_expiry("never", "url", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, 0);
	assert_int_equal(links_parse_expiry("+36h", "line", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, NOW + 36 * HOUR);
	assert_int_equal(links_parse_expiry("+90m", "url", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, NOW + 90 * 60 * 1000);
	assert_int_equal(links_parse_expiry("+400d", "url", NOW, &t, why, sizeof why), 0);
	/* a local time */
	int64_t want;
	assert_int_equal(clock_parse_local("2026-11-20T18:00", &want), 0);
	assert_int_equal(links_parse_expiry("2026-11-20 18:00", "wechat", NOW, &t, why, sizeof why), 0);
	assert_int_equal(t, want);
	/* refused, with a reason */
	const char *bad[] = {"tomorrow",        "+", "+0d", "-1d", "+3x", "+3dd", "+99999999999999d",
			     "2026-13-01T00:00"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		if (links_parse_expiry(bad[i], "url", NOW, &t, why, sizeof why) == 0)
			fail_msg("accepted --expires \"%s\"", bad[i]);
		assert_non_null(strstr(why, "+7d"));
	}
	assert_int_equal(links_parse_expiry("2020-01-01T00:00", "url", NOW, &t, why, sizeof why), -1);
	assert_non_null(strstr(why, "past"));
}

static void test_link_states(void **state)
{
	(void)state;
	store_link l = {0};
	assert_int_equal(links_state(&l, NOW), LINK_LIVE); /* never expires */
	l.expires_ms = NOW + 49 * HOUR;
	assert_int_equal(links_state(&l, NOW), LINK_LIVE);
	l.expires_ms = NOW + 48 * HOUR;
	assert_int_equal(links_state(&l, NOW), LINK_EXPIRING);
	l.expires_ms = NOW + 1;
	assert_int_equal(links_state(&l, NOW), LINK_EXPIRING);
	l.expires_ms = NOW;
	assert_int_equal(links_state(&l, NOW), LINK_EXPIRED);
	l.expires_ms = NOW - DAY;
	assert_int_equal(links_state(&l, NOW), LINK_EXPIRED);
}

static store_link mk(int64_t id, int64_t event, int is_default, int64_t expires)
{
	store_link l = {.id = id, .event_id = event, .is_default = is_default, .expires_ms = expires};
	snprintf(l.url, sizeof l.url, "https://example.org/%lld", (long long)id);
	return l;
}

static void test_applicable_order(void **state)
{
	(void)state;
	link_set set = {.n = 7};
	set.l[0] = mk(1, 0, 0, 0);             /* venue */
	set.l[1] = mk(2, 0, 1, NOW + DAY);     /* venue default, expiring */
	set.l[2] = mk(3, 5, 0, 0);             /* event 5 */
	set.l[3] = mk(4, 6, 0, 0);             /* another event */
	set.l[4] = mk(5, 5, 0, NOW - 1);       /* event 5, expired */
	set.l[5] = mk(6, 0, 0, NOW);           /* venue, expired this very ms */
	set.l[6] = mk(7, 0, 0, NOW + 7 * DAY); /* venue */
	const store_link *out[LINKS_MAX];
	size_t n = links_applicable(&set, 5, NOW, out, LINKS_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(out[0]->id, 3); /* the event's first */
	assert_int_equal(out[1]->id, 2); /* then the default */
	assert_int_equal(out[2]->id, 1);
	assert_int_equal(out[3]->id, 7);
	/* no event running: the venue's only */
	n = links_applicable(&set, 0, NOW, out, LINKS_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(out[0]->id, 2);
	/* a day later the default has expired too */
	n = links_applicable(&set, 0, NOW + DAY, out, LINKS_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(out[0]->id, 1);
	/* max is respected */
	assert_int_equal(links_applicable(&set, 5, NOW, out, 2), 2);
	link_set none = {0};
	assert_int_equal(links_applicable(&none, 5, NOW, out, LINKS_MAX), 0);
}

static void test_referral_urls(void **state)
{
	(void)state;
	char out[LINKS_URL_MAX + 1];
	assert_int_equal(links_referral_url("https://example.org/join", "TZ1001", out, sizeof out), 0);
	assert_string_equal(out, "https://example.org/join?ref=TZ1001");
	assert_int_equal(links_referral_url("https://example.org/join?g=7", "TZ1001", out, sizeof out), 0);
	assert_string_equal(out, "https://example.org/join?g=7&ref=TZ1001");
	assert_int_equal(links_referral_url("https://example.org/j?g=7#top", "A B/&=", out, sizeof out), 0);
	assert_string_equal(out, "https://example.org/j?g=7&ref=A%20B%2F%26%3D#top");
	assert_int_equal(links_referral_url("https://example.org/j?", "会员1", out, sizeof out), 0);
	assert_string_equal(out, "https://example.org/j?ref=%E4%BC%9A%E5%91%981");
	assert_int_equal(links_referral_url("https://example.org/", "", out, sizeof out), -1);
	/* the result must stay within 1024 bytes */
	char base[1030];
	memset(base, 'a', sizeof base);
	memcpy(base, "https://example.org/", 20);
	base[1015] = '\0';
	assert_int_equal(links_referral_url(base, "TZ1001", out, sizeof out), -1);
	assert_int_equal(links_referral_url("https://example.org/", "TZ1001", out, 20), -1);
}

/* ---- links in a database file ---- */

static char path[128];

static store *fresh(void)
{
	snprintf(path, sizeof path, "/tmp/tingzi-links-%d.db", (int)getpid());
	unlink(path);
	store *s;
	char err[256];
	assert_int_equal(store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_OK);
	return s;
}

static int collect(const store_link *l, void *ctx)
{
	link_set *set = ctx;
	set->l[set->n++] = *l;
	return 0;
}

static void test_store_keeps_links(void **state)
{
	(void)state;
	store *s = fresh();
	int64_t ev, a, b, c;
	assert_int_equal(store_event_add(s, "茶会", NOW, NOW + HOUR, &ev), STORE_OK);
	store_link l = {.expires_ms = NOW + 7 * DAY, .member_cap = 500, .event_id = ev};
	snprintf(l.platform, sizeof l.platform, "wechat");
	snprintf(l.label, sizeof l.label, "周末茶话会群");
	snprintf(l.url, sizeof l.url, "https://weixin.qq.com/g/AbC");
	assert_int_equal(store_link_add(s, &l, NOW, &a), STORE_OK);
	store_link d = {.is_default = 1};
	snprintf(d.platform, sizeof d.platform, "url");
	snprintf(d.label, sizeof d.label, "Community");
	snprintf(d.url, sizeof d.url, "https://example.org/");
	assert_int_equal(store_link_add(s, &d, NOW, &b), STORE_OK);
	/* a second default takes the place of the first, in one transaction */
	assert_int_equal(store_link_add(s, &d, NOW, &c), STORE_OK);
	store_link got;
	assert_int_equal(store_link_get(s, b, &got), STORE_OK);
	assert_int_equal(got.is_default, 0);
	assert_int_equal(store_link_get(s, a, &got), STORE_OK);
	assert_string_equal(got.label, "周末茶话会群");
	assert_string_equal(got.platform, "wechat");
	assert_int_equal(got.expires_ms, NOW + 7 * DAY);
	assert_int_equal(got.member_cap, 500);
	assert_int_equal(got.event_id, ev);
	assert_int_equal(store_link_set_default(s, b, NOW), STORE_OK);
	link_set set = {0};
	assert_int_equal(store_links_foreach(s, collect, &set), STORE_OK);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.l[0].id, b); /* the default first */
	assert_int_equal(set.l[0].is_default, 1);
	assert_int_equal(set.l[1].is_default + set.l[2].is_default, 0);
	assert_int_equal(store_link_set_default(s, 999, NOW), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_link_get(s, b, &got), STORE_OK);
	assert_int_equal(got.is_default, 1); /* a failed change leaves the default */
	assert_int_equal(store_link_remove(s, a), STORE_OK);
	assert_int_equal(store_link_remove(s, a), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_link_get(s, a, &got), STORE_ERR_NOT_FOUND);
	store_close(s);
	unlink(path);
}

static void test_store_refuses_bad_links(void **state)
{
	(void)state;
	store *s = fresh();
	store_link l = {0};
	snprintf(l.platform, sizeof l.platform, "wechat");
	snprintf(l.label, sizeof l.label, "x");
	/* what slips past the command line is refused by the schema */
	snprintf(l.url, sizeof l.url, "ftp://example.org/");
	assert_int_equal(store_link_add(s, &l, NOW, NULL), STORE_ERR_INVALID);
	snprintf(l.url, sizeof l.url, "https://example.org/");
	snprintf(l.platform, sizeof l.platform, "qq");
	assert_int_equal(store_link_add(s, &l, NOW, NULL), STORE_ERR_INVALID);
	snprintf(l.platform, sizeof l.platform, "url");
	l.label[0] = '\0';
	assert_int_equal(store_link_add(s, &l, NOW, NULL), STORE_ERR_INVALID);
	snprintf(l.label, sizeof l.label, "x");
	l.event_id = 42; /* no such event */
	assert_int_equal(store_link_add(s, &l, NOW, NULL), STORE_ERR_NOT_FOUND);
	link_set set = {0};
	assert_int_equal(store_links_foreach(s, collect, &set), STORE_OK);
	assert_int_equal(set.n, 0); /* nothing was stored */
	store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_validation),    cmocka_unit_test(test_platform_from_host),
	    cmocka_unit_test(test_expiry_rules),      cmocka_unit_test(test_link_states),
	    cmocka_unit_test(test_applicable_order),  cmocka_unit_test(test_referral_urls),
	    cmocka_unit_test(test_store_keeps_links), cmocka_unit_test(test_store_refuses_bad_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
