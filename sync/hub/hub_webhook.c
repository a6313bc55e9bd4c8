/* hub_webhook — one webhook delivery, checked and signed (see hub_webhook.h). */
#include "sync/hub/hub_webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECRET_PREFIX "whsec_"

static void say(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
}

void hub_webhook_secret_new(char out[HUB_WEBHOOK_SECRET_TEXT])
{
	uint8_t b[HUB_WEBHOOK_SECRET_BYTES];
	randombytes_buf(b, sizeof b);
	memcpy(out, SECRET_PREFIX, sizeof SECRET_PREFIX - 1);
	sodium_bin2base64(out + sizeof SECRET_PREFIX - 1, HUB_WEBHOOK_SECRET_TEXT - (sizeof SECRET_PREFIX - 1), b,
			  sizeof b, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(b, sizeof b);
}

int hub_webhook_secret_bytes(const char *text, uint8_t out[64])
{
	size_t n = 0;
	if (!text || strncmp(text, SECRET_PREFIX, sizeof SECRET_PREFIX - 1) != 0)
		return -1;
	const char *b64 = text + sizeof SECRET_PREFIX - 1;
	if (sodium_base642bin(out, 64, b64, strlen(b64), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n < 16)
		return -1;
	return (int)n;
}

int hub_webhook_url_check(const char *url, char *why, size_t len)
{
	if (!url || !url[0]) {
		say(why, len, "the webhook URL is empty");
		return -1;
	}
	if (strlen(url) > HUB_WEBHOOK_URL_MAX) {
		say(why, len, "the webhook URL is longer than 1024 bytes");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			say(why, len, "the webhook URL has a space, a control character or a non-ASCII byte");
			return -1;
		}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
	int rc = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		say(why, len, "the webhook URL cannot be read");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		say(why, len, "a webhook URL starts with https:// (or http://)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
		say(why, len, "the webhook URL has no host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		say(why, len, "a webhook URL carries no user name or password (use the signing secret)");
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return rc;
}

static int v4_private(uint32_t a)
{
	uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);
	return b0 == 0 || b0 == 10 || b0 == 127 || (b0 == 169 && b1 == 254) || (b0 == 172 && (b1 & 0xf0) == 16) ||
	       (b0 == 192 && b1 == 168) || (b0 == 100 && (b1 & 0xc0) == 64) || (b0 == 192 && b1 == 0 && ((a >> 8) & 0xff) == 0) ||
	       (b0 == 198 && (b1 & 0xfe) == 18) || b0 >= 224;
}

int hub_webhook_addr_private(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return v4_private(ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr));
	if (addr->sa_family != AF_INET6)
		return 1;
	const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16] = {0};
	if (memcmp(b, v4mapped, 12) == 0)
		return v4_private((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) /* :: and ::1 */
		return 1;
	return (b[0] & 0xfe) == 0xfc      /* fc00::/7 unique local */
	       || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
	       || b[0] == 0xff               /* multicast */
	       || (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 can wrap any IPv4 address */
	       || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b); /* 64:ff9b::/96 NAT64 */
}

void hub_webhook_sign(const uint8_t *secret, size_t secret_len, const char *msg_id, int64_t ts_s,
		      const char *body, size_t body_len, char out[HUB_WEBHOOK_SIG_TEXT])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char ts[24];
	int n = snprintf(ts, sizeof ts, "%lld", (long long)ts_s);
	crypto_auth_hmacsha256_init(&st, secret, secret_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, HUB_WEBHOOK_SIG_TEXT - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
}

/* The answer's first bytes are kept for the console; the rest is dropped. */
typedef struct sink {
	char buf[HUB_WEBHOOK_REPLY_MAX + 1];
	size_t n;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	sink *s = ctx;
	size_t n = size * nmemb, room = HUB_WEBHOOK_REPLY_MAX - s->n;
	if (room) {
		size_t c = n < room ? n : room;
		memcpy(s->buf + s->n, p, c);
		s->n += c;
		s->buf[s->n] = '\0';
	}
	if (s->n >= HUB_WEBHOOK_REPLY_MAX)
		return 0; /* enough: a receiver's answer is not the hub's business */
	return n;
}

/*
 * Resolve host:port once; the first address the webhook may reach goes into
 * pin ("host:port:address", for CURLOPT_RESOLVE). -1 with why when none may.
 */
static int resolve(const char *host, const char *port, int allow_private, char *pin, size_t pinlen, char *why,
		   size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	/* a literal address in brackets comes from the URL with them */
	char h[256];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		snprintf(h, sizeof h, "%.*s", (int)(hl - 2), host + 1);
	} else {
		snprintf(h, sizeof h, "%s", host);
	}
	int e = getaddrinfo(h, port, &hints, &res);
	if (e != 0) {
		snprintf(why, len, "cannot resolve %.120s: %s", h, gai_strerror(e));
		return -1;
	}
	int rc = -1, blocked = 0;
	for (struct addrinfo *a = res; a && rc != 0; a = a->ai_next) {
		if (!allow_private && hub_webhook_addr_private(a->ai_addr)) {
			blocked = 1;
			continue;
		}
		char ip[INET6_ADDRSTRLEN];
		const void *src = a->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
							  : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		if (!inet_ntop(a->ai_family, src, ip, sizeof ip))
			continue;
		snprintf(pin, pinlen, a->ai_family == AF_INET6 ? "%s:%s:[%s]" : "%s:%s:%s", h, port, ip);
		rc = 0;
	}
	freeaddrinfo(res);
	if (rc != 0)
		snprintf(why, len, "%s",
			 blocked ? "the webhook's host is a private, loopback or link-local address, which the hub does "
				   "not send to (tingzi-hub serve --webhooks-private allows it)"
				 : "the webhook's host has no address");
	return rc;
}

int hub_webhook_url_allowed(const char *url, int allow_private, char *why, size_t len)
{
	if (hub_webhook_url_check(url, why, len) != 0)
		return -1;
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, pin[512];
	int rc = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		rc = resolve(host, port, allow_private, pin, sizeof pin, why, len);
	else
		say(why, len, "the webhook URL cannot be read");
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static double mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int hub_webhook_post(const char *url, int allow_private, const char *msg_id, int64_t ts_s, const char *body,
		     size_t body_len, const uint8_t *secret, size_t secret_len, int timeout_ms,
		     hub_webhook_reply *out)
{
	memset(out, 0, sizeof *out);
	double t0 = mono_ms();
	if (hub_webhook_url_check(url, out->why, sizeof out->why) != 0) {
		out->refused = 1;
		return -1;
	}
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, pin[512];
	int rc = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		say(out->why, sizeof out->why, "the webhook URL cannot be read");
		out->refused = 1;
		goto done;
	}
	if (resolve(host, port, allow_private, pin, sizeof pin, out->why, sizeof out->why) != 0) {
		out->refused = 1;
		goto done;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		say(out->why, sizeof out->why, "out of memory");
		goto done;
	}
	char h_id[160], h_ts[48], h_sig[32 + HUB_WEBHOOK_SIG_TEXT], sig[HUB_WEBHOOK_SIG_TEXT];
	hub_webhook_sign(secret, secret_len, msg_id, ts_s, body, body_len, sig);
	snprintf(h_id, sizeof h_id, "webhook-id: %s", msg_id);
	snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts_s);
	snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
	struct curl_slist *hdr = NULL, *resolve_list = curl_slist_append(NULL, pin);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, h_id);
	hdr = curl_slist_append(hdr, h_ts);
	hdr = curl_slist_append(hdr, h_sig);
	hdr = curl_slist_append(hdr, "Expect:");
	sink s = {.n = 0};
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_list);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 3000 ? timeout_ms : 3000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tingzi-hub webhooks");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	CURLcode e = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (e != CURLE_OK && !(e == CURLE_WRITE_ERROR && out->status))
		snprintf(out->why, sizeof out->why, "%s", curl_easy_strerror(e));
	else if (out->status < 200 || out->status > 299)
		snprintf(out->why, sizeof out->why, "answered %ld%s%.200s", out->status, s.n ? ": " : "", s.buf);
	else
		rc = 0;
	curl_slist_free_all(hdr);
	curl_slist_free_all(resolve_list);
	curl_easy_cleanup(c);
done:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	out->ms = mono_ms() - t0;
	return rc;
}
