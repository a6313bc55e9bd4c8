/*
 * One webhook delivery (sync/hub/hub_webhook.c) to a real receiver on
 * 127.0.0.1 (libmicrohttpd in this process), as a receiver sees it: the
 * Standard Webhooks signature checks (and matches the scheme's published
 * example), a 410 and a 500 are told apart, a redirect is not followed, a slow
 * receiver is given up on in time, a huge answer is cut short; and without the
 * operator's leave nothing is sent to a loopback, private or link-local
 * address, whatever name leads there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sync/hub/hub_webhook.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char secret_text[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static uint8_t secret[64];
static int secret_len;

/* ---- the receiver ---- */

typedef struct seen {
	int requests, verified;
	char last_id[128], last_body[256];
} seen;
static seen got;

typedef struct upload {
	char body[4096];
	size_t n;
} upload;

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text, const char *location)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (location)
		MHD_add_response_header(r, "Location", location);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **state)
{
	(void)cls, (void)method, (void)version;
	upload *u = *state;
	if (!u) {
		*state = calloc(1, sizeof *u);
		return MHD_YES;
	}
	if (*size) {
		size_t room = sizeof u->body - 1 - u->n, k = *size < room ? *size : room;
		memcpy(u->body + u->n, data, k);
		u->n += k;
		*size = 0;
		return MHD_YES;
	}
	got.requests++;
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
	const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
	if (id && ts && sig) {
		/* what a receiver does: its own HMAC over id.timestamp.body, compared */
		char want[HUB_WEBHOOK_SIG_TEXT];
		hub_webhook_sign(secret, (size_t)secret_len, id, strtoll(ts, NULL, 10), u->body, u->n, want);
		if (strcmp(want, sig) == 0 && llabs(strtoll(ts, NULL, 10) - (long long)time(NULL)) < 300)
			got.verified++;
		snprintf(got.last_id, sizeof got.last_id, "%s", id);
		snprintf(got.last_body, sizeof got.last_body, "%.255s", u->body);
	}
	if (strcmp(url, "/gone") == 0)
		return answer(c, 410, "subscription removed", NULL);
	if (strcmp(url, "/broken") == 0)
		return answer(c, 500, "database down", NULL);
	if (strcmp(url, "/moved") == 0)
		return answer(c, 302, "", "/hook");
	if (strcmp(url, "/slow") == 0) {
		sleep(2);
		return answer(c, 200, "late", NULL);
	}
	if (strcmp(url, "/big") == 0) {
		static char big[1 << 20];
		memset(big, 'x', sizeof big);
		struct MHD_Response *r = MHD_create_response_from_buffer(sizeof big, big, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	return answer(c, 204, "", NULL);
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	(void)cls, (void)c, (void)t;
	free(*state);
	*state = NULL;
}

static struct MHD_Daemon *d;
static unsigned port;
static char base[64];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	secret_len = hub_webhook_secret_bytes(secret_text, secret);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
			     on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_SOCK_ADDR,
			     (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
								      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
			     MHD_OPTION_END);
	if (!d)
		return -1;
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(d);
	return 0;
}

static int post(const char *path, int allow, hub_webhook_reply *r, int timeout_ms)
{
	char url[160];
	snprintf(url, sizeof url, "%s%s", base, path);
	const char *body = "{\"type\":\"checkin.created\",\"data\":{\"id\":\"ab\"}}";
	return hub_webhook_post(url, allow, "msg_1", (int64_t)time(NULL), body, strlen(body), secret,
				(size_t)secret_len, timeout_ms, r);
}

/* ---- tests ---- */

static void test_signature_matches_the_scheme(void **state)
{
	(void)state;
	/* the example published with the Standard Webhooks scheme */
	const char *body = "{\"test\": 2432232314}";
	char sig[HUB_WEBHOOK_SIG_TEXT];
	assert_int_equal(secret_len, 24);
	hub_webhook_sign(secret, (size_t)secret_len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
			 sig);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* a new secret reads back as 24 bytes, and differs each time */
	char a[HUB_WEBHOOK_SECRET_TEXT], b[HUB_WEBHOOK_SECRET_TEXT];
	uint8_t bytes[64];
	hub_webhook_secret_new(a);
	hub_webhook_secret_new(b);
	assert_int_equal(hub_webhook_secret_bytes(a, bytes), HUB_WEBHOOK_SECRET_BYTES);
	assert_string_not_equal(a, b);
	assert_int_equal(hub_webhook_secret_bytes("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", bytes), -1);
	assert_int_equal(hub_webhook_secret_bytes("whsec_!!!", bytes), -1);
}

static void test_delivered_and_verified(void **state)
{
	(void)state;
	hub_webhook_reply r;
	int before = got.verified;
	assert_int_equal(post("/hook", 1, &r, 2000), 0);
	assert_int_equal(r.status, 204);
	assert_int_equal(got.verified, before + 1);
	assert_string_equal(got.last_id, "msg_1");
	assert_string_equal(got.last_body, "{\"type\":\"checkin.created\",\"data\":{\"id\":\"ab\"}}");
}

static void test_answers_told_apart(void **state)
{
	(void)state;
	hub_webhook_reply r;
	assert_int_equal(post("/gone", 1, &r, 2000), -1);
	assert_int_equal(r.status, 410);
	assert_false(r.refused);
	assert_int_equal(post("/broken", 1, &r, 2000), -1);
	assert_int_equal(r.status, 500);
	assert_non_null(strstr(r.why, "database down"));
	/* a redirect is the receiver's answer, never followed */
	int before = got.requests;
	assert_int_equal(post("/moved", 1, &r, 2000), -1);
	assert_int_equal(r.status, 302);
	assert_int_equal(got.requests, before + 1);
	/* a slow receiver is given up on at the timeout */
	assert_int_equal(post("/slow", 1, &r, 500), -1);
	assert_int_equal(r.status, 0);
	assert_true(r.ms < 1500);
	/* a megabyte of answer: read no further than the first KiB, still a 200 */
	assert_int_equal(post("/big", 1, &r, 2000), 0);
	assert_int_equal(r.status, 200);
}

static void test_private_addresses_refused(void **state)
{
	(void)state;
	hub_webhook_reply r;
	int before = got.requests;
	assert_int_equal(post("/hook", 0, &r, 2000), -1);
	assert_true(r.refused);
	assert_non_null(strstr(r.why, "private"));
	char url[160];
	const char *body = "{}";
	snprintf(url, sizeof url, "http://localhost:%u/hook", port);
	assert_int_equal(hub_webhook_post(url, 0, "m", 1, body, 2, secret, (size_t)secret_len, 2000, &r), -1);
	assert_true(r.refused);
	snprintf(url, sizeof url, "http://[::1]:%u/hook", port);
	assert_int_equal(hub_webhook_post(url, 0, "m", 1, body, 2, secret, (size_t)secret_len, 2000, &r), -1);
	assert_true(r.refused);
	assert_int_equal(hub_webhook_post("http://10.1.2.3/hook", 0, "m", 1, body, 2, secret, (size_t)secret_len,
					  2000, &r),
			 -1);
	assert_true(r.refused);
	assert_int_equal(hub_webhook_post("http://169.254.169.254/latest/meta-data", 0, "m", 1, body, 2, secret,
					  (size_t)secret_len, 2000, &r),
			 -1);
	assert_true(r.refused);
	assert_int_equal(got.requests, before); /* nothing reached the receiver */
}

static int is_private(const char *ip)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1)
		return hub_webhook_addr_private((struct sockaddr *)&a4);
	assert_int_equal(inet_pton(AF_INET6, ip, &a6.sin6_addr), 1);
	return hub_webhook_addr_private((struct sockaddr *)&a6);
}

static void test_address_table(void **state)
{
	(void)state;
	static const char *const private_[] = {"127.0.0.1", "127.9.9.9",   "10.0.0.1",      "172.16.0.1",
						"172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
						"0.0.0.0",   "224.0.0.1",   "255.255.255.255", "198.18.0.1",
						"::1",       "::",          "fe80::1",       "fd00::1",
						"::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a00:1"};
	static const char *const public_[] = {"8.8.8.8", "1.1.1.1", "172.15.0.1", "172.32.0.1", "100.128.0.1",
					       "2001:4860:4860::8888", "::ffff:8.8.8.8"};
	for (size_t i = 0; i < sizeof private_ / sizeof *private_; i++)
		if (!is_private(private_[i]))
			fail_msg("%s taken for a public address", private_[i]);
	for (size_t i = 0; i < sizeof public_ / sizeof *public_; i++)
		if (is_private(public_[i]))
			fail_msg("%s taken for a private address", public_[i]);
}

static void test_urls(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(hub_webhook_url_check("https://hooks.example.org/tingzi?x=1", why, sizeof why), 0);
	assert_int_equal(hub_webhook_url_check("http://example.org:8080/in", why, sizeof why), 0);
	assert_int_equal(hub_webhook_url_check("ftp://example.org/", why, sizeof why), -1);
	assert_non_null(strstr(why, "https://"));
	assert_int_equal(hub_webhook_url_check("https://user:pw@example.org/", why, sizeof why), -1);
	assert_non_null(strstr(why, "password"));
	assert_int_equal(hub_webhook_url_check("https://exa mple.org/", why, sizeof why), -1);
	assert_int_equal(hub_webhook_url_check("", why, sizeof why), -1);
	assert_int_equal(hub_webhook_url_check("file:///etc/passwd", why, sizeof why), -1);
	assert_int_equal(hub_webhook_url_check("gopher://127.0.0.1:6379/_INFO", why, sizeof why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signature_matches_the_scheme),
	    cmocka_unit_test(test_delivered_and_verified),
	    cmocka_unit_test(test_answers_told_apart),
	    cmocka_unit_test(test_private_addresses_refused),
	    cmocka_unit_test(test_address_table),
	    cmocka_unit_test(test_urls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
