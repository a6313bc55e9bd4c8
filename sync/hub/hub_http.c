/*
 * hub_http — the hub's HTTP server on libmicrohttpd (sync/PROTOCOL.md).
 *
 * A pool of threads (epoll) takes requests. Everything that can be decided
 * from the headers is decided when they arrive, before any body is read: the
 * route, the method, the client's failure limit (429, hub_guard.c), the
 * device's token and venue (401/403), the declared length (413) and room in
 * the body budget all requests share (503). A request refused there has its
 * connection closed with its body unread, so memory is only ever spent on
 * an authenticated device's push or a small enrolment (HUB_ENROLL_MAX_BODY).
 * Bodies are gathered up to their cap, inflated when gzip (the same cap on
 * what comes out, so a small bomb cannot fill memory), shape-checked (depth
 * and number of JSON values) and parsed before the store sees anything.
 *
 * Each call to the store takes one from the server's pool (hub_pool.h) and
 * gives it back: the one store of a SQLite file, so calls happen one at a
 * time, or one of several PostgreSQL connections; parsing, checking and
 * compressing happen outside it. Behind a reverse proxy named by
 * --trusted-proxy, the client's address is the last one the proxy added to
 * X-Forwarded-For (a client's own X-Forwarded-For counts for nothing). Connections are
 * limited in number, per client address, and by a deadline per request
 * (hub_guard.c). Every request is logged on one line on stderr, control
 * characters escaped, except the 429s of a limited client, which hub_guard
 * sums up in one line per address and minute.
 */
#include "sync/clock.h"
#include "sync/hub/hub_http.h"
#include "sync/check.h"
#include "sync/hub/console/console.h"
#include "sync/hub/console/member_pages.h"
#include "sync/hub/hub_api.h"
#include "sync/hub/hub_guard.h"
#include "sync/hub/hub_pool.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

typedef struct server {
	hub_pool *pool;
	hub_guard *guard;
	struct sockaddr_in proxy; /* the trusted reverse proxy (sin_family 0: none) */
	const char *public_url;
	size_t max_body;
	int tls;
	console *con;
	member_pages *mp;
	hub_api *api;
	hub_webhook_worker *webhooks;
} server;

/* Routes from R_ENROLL on take a token or a code: their refusals count against the client's address. */
enum route { R_NONE, R_HEALTH, R_LIVE, R_CONSOLE, R_MEMBER, R_API, R_ENROLL, R_PUSH, R_PULL };

typedef struct req {
	enum route route;
	char venue[40], set[20];
	hub_device dev; /* a push's device, known from its headers */
	hub_venue v;
	char *body;
	size_t len, cap, limit;
	size_t taken;	     /* bytes of the shared body budget this request holds */
	int too_large, busy; /* the body outgrew its limit, or the budget */
	int answered;	     /* a reply is queued; what is left of the body is dropped */
	int quiet;	     /* counted in a summary line instead of a line of its own */
	int64_t arrived_ms;  /* wall clock when the headers arrived */
	struct sockaddr_storage client; /* the client's address (behind a trusted proxy: the one it names) */
	struct timespec t0;
	char url[512];	/* a console POST's path, kept for when its body is in */
	char method[8]; /* an API request's method, kept likewise */
	char what[160]; /* method and path, escaped */
	char note[200]; /* what the log line adds */
} req;

static const struct sockaddr *peer_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci ? ci->client_addr : NULL;
}

/*
 * The request's client into out: the connection's peer, or, when the peer
 * is the trusted proxy, the last address of X-Forwarded-For (the one the
 * proxy added; whatever the client sent comes before it). A proxy's request
 * without a readable address stays the proxy's.
 */
static void client_find(struct MHD_Connection *c, const server *sv, struct sockaddr_storage *out)
{
	const struct sockaddr *peer = peer_of(c);
	memset(out, 0, sizeof *out);
	if (!peer)
		return;
	memcpy(out, peer, peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (!sv->proxy.sin_family || peer->sa_family != AF_INET ||
	    ((const struct sockaddr_in *)peer)->sin_addr.s_addr != sv->proxy.sin_addr.s_addr)
		return;
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
	if (!xff)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	char text[INET6_ADDRSTRLEN];
	size_t n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof text)
		return;
	memcpy(text, last, n);
	text[n] = '\0';
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
		memcpy(out, &v4, sizeof v4);
	else if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1)
		memcpy(out, &v6, sizeof v6);
}

static const struct sockaddr *client_of(const req *rq)
{
	return rq->client.ss_family ? (const struct sockaddr *)&rq->client : NULL;
}

/* ---- replies ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type, char *body,
				 size_t len, int may_gzip, unsigned retry_after)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	char *gz = NULL;
	size_t gzlen = 0;
	if (may_gzip && len > 1024 && ae && strstr(ae, "gzip")) {
		z_stream z = {0};
		uLong bound = compressBound((uLong)len) + 64;
		gz = malloc(bound);
		if (gz && deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK) {
			z.next_in = (Bytef *)body;
			z.avail_in = (uInt)len;
			z.next_out = (Bytef *)gz;
			z.avail_out = (uInt)bound;
			if (deflate(&z, Z_FINISH) == Z_STREAM_END)
				gzlen = z.total_out;
			deflateEnd(&z);
		}
		if (!gzlen) {
			free(gz);
			gz = NULL;
		}
	}
	struct MHD_Response *r;
	if (gz) {
		free(body);
		r = MHD_create_response_from_buffer(gzlen, gz, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	} else {
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (retry_after) {
		char secs[16];
		snprintf(secs, sizeof secs, "%u", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json_after(struct MHD_Connection *c, unsigned status, json_t *j, unsigned retry_after)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return MHD_NO;
	return send_text(c, status, "application/json", text, strlen(text), 1, retry_after);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	return send_json_after(c, status, j, 0);
}

static enum MHD_Result __attribute__((format(printf, 6, 0)))
vsend_error(struct MHD_Connection *c, req *rq, unsigned status, unsigned retry_after, const char *code,
	    const char *fmt, va_list ap)
{
	char msg[400];
	vsnprintf(msg, sizeof msg, fmt, ap);
	snprintf(rq->note, sizeof rq->note, "%s: %.120s", code, msg);
	rq->answered = 1;
	return send_json_after(c, status, json_pack("{s:s,s:s}", "error", code, "message", msg), retry_after);
}

static enum MHD_Result __attribute__((format(printf, 5, 6)))
send_error(struct MHD_Connection *c, req *rq, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r = vsend_error(c, rq, status, 0, code, fmt, ap);
	va_end(ap);
	return r;
}

/* An error the client may retry after some seconds (429, 503). */
static enum MHD_Result __attribute__((format(printf, 6, 7)))
send_later(struct MHD_Connection *c, req *rq, unsigned status, unsigned retry_after, const char *code,
	   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r = vsend_error(c, rq, status, retry_after, code, fmt, ap);
	va_end(ap);
	return r;
}

/* What the store said of this thread's last failed call (the store itself is back in the pool). */
static _Thread_local char store_why[256];

/* A store for one call: st = take(sv); e = give(sv, st, st->ops->CALL(st, ...)). */
static hub_store *take(server *sv)
{
	return hub_pool_take(sv->pool);
}

static hub_err give(server *sv, hub_store *st, hub_err e)
{
	if (e != HUB_OK)
		snprintf(store_why, sizeof store_why, "%s", hub_store_errmsg(st));
	hub_pool_give(sv->pool, st);
	return e;
}

static enum MHD_Result store_failed(struct MHD_Connection *c, req *rq, server *sv, hub_err e)
{
	if (e == HUB_BUSY)
		return send_later(c, rq, 503, 2, "unavailable", "the hub's storage is busy; try again");
	char why[300];
	hub_log_escape(store_why, why, sizeof why);
	fprintf(stderr, "hub: storage: %s\n", why);
	if (e == HUB_DOWN) /* the kiosk keeps everything and comes back after Retry-After */
		return send_later(c, rq, 503, 5, "unavailable", "the hub's database cannot be reached; try again");
	return send_error(c, rq, 500, "internal", "the hub could not store this; nothing was kept");
}

/* ---- request bodies ---- */

/*
 * The body, inflated when gzip. 0 with *out (malloc'd or the body itself)
 * and *held (bytes of the body budget the inflated copy holds; give them
 * back after), or an HTTP status (503: the budget is spent).
 */
static unsigned body_of(struct MHD_Connection *c, server *sv, req *rq, char **out, size_t *outlen, size_t *held)
{
	*held = 0;
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (!enc || strcmp(enc, "identity") == 0) {
		*out = rq->body;
		*outlen = rq->len;
		return 0;
	}
	if (strcmp(enc, "gzip") != 0)
		return 415;
	/* the output grows by doubling, each step taken from the budget first */
	size_t limit = rq->limit, cap = 0, n = 0;
	char *buf = NULL;
	z_stream z = {0};
	if (inflateInit2(&z, 31) != Z_OK)
		return 500;
	z.next_in = (Bytef *)rq->body;
	z.avail_in = (uInt)rq->len;
	unsigned status = 0;
	int rc = Z_OK;
	while (rc == Z_OK) {
		if (n == cap) {
			if (cap > limit) {
				status = 413;
				break;
			}
			size_t grow = cap ? cap : 16384;
			if (cap + grow > limit + 1)
				grow = limit + 1 - cap;
			char *b;
			if (hub_guard_take(sv->guard, grow) != 0) {
				status = 503;
				break;
			}
			*held += grow;
			if (!(b = realloc(buf, cap + grow))) {
				status = 500;
				break;
			}
			buf = b;
			cap += grow;
		}
		z.next_out = (Bytef *)buf + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = z.total_out;
		if (rc == Z_BUF_ERROR && z.avail_out)
			break; /* the input ended before the stream did */
		if (rc == Z_BUF_ERROR)
			rc = Z_OK;
	}
	inflateEnd(&z);
	if (!status && n > limit)
		status = 413;
	if (!status && rc != Z_STREAM_END)
		status = 400;
	if (status) {
		free(buf);
		hub_guard_give(sv->guard, *held);
		*held = 0;
		return status;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* ---- authentication ---- */

/* The device of the request's token, or a reply already queued (returns 0). */
static int authenticate(struct MHD_Connection *c, server *sv, req *rq, hub_device *dev, enum MHD_Result *ret)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char id[HUB_ID_MAX], secret_hex[65];
	unsigned char secret[32], hash[HUB_HASH_LEN];
	size_t n = 0;
	if (!auth || strlen(auth) != 7 + 5 + 32 + 1 + 64 || strncmp(auth, "Bearer tzd1.", 12) != 0 ||
	    auth[12 + 32] != '.') {
		*ret = send_error(c, rq, 401, "unauthorized", "a device token is needed (Authorization: Bearer ...)");
		return 0;
	}
	memcpy(id, auth + 12, 32);
	id[32] = '\0';
	memcpy(secret_hex, auth + 12 + 33, 64);
	secret_hex[64] = '\0';
	if (!check_hex(id, 32) ||
	    sodium_hex2bin(secret, sizeof secret, secret_hex, 64, NULL, &n, NULL) != 0 || n != sizeof secret) {
		*ret = send_error(c, rq, 401, "unauthorized", "the device token is malformed");
		return 0;
	}
	hub_sha256(secret, sizeof secret, hash);
	hub_store *st = take(sv);
	hub_err e = give(sv, st, st->ops->device_get(st, id, dev));
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		*ret = store_failed(c, rq, sv, e);
		return 0;
	}
	/* compare even for an unknown device, so timing tells nothing */
	int same = sodium_memcmp(hash, e == HUB_OK ? dev->token_hash : hash, sizeof hash) == 0;
	if (e != HUB_OK || !same || dev->revoked_ms) {
		*ret = send_error(c, rq, 401, "unauthorized", "%s",
				  e == HUB_OK && same ? "this device was revoked" : "the device token is not valid");
		return 0;
	}
	return 1;
}

/* ---- endpoints ---- */

/*
 * Up when the store answers: a load balancer's health check (and a person)
 * learns from the answer whether this node can store anything, and why not.
 * When every store is at work the node is busy, not down: it answers up
 * without waiting in line behind the pushes (a check that waited would time
 * out, and the balancer would send this node's share to the others).
 */
static enum MHD_Result health(struct MHD_Connection *c, server *sv, req *rq)
{
	hub_venue v;
	hub_store *st = hub_pool_try_take(sv->pool);
	hub_err e = st ? give(sv, st, st->ops->venue_get(st, "-", &v)) : HUB_OK;
	if (!st)
		snprintf(rq->note, sizeof rq->note, "every store at work");
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		char why[300], said[340];
		hub_log_escape(store_why, why, sizeof why);
		snprintf(said, sizeof said, "%s: %s", hub_strerror(e), why);
		snprintf(rq->note, sizeof rq->note, "%.190s", said);
		return send_json_after(c, 503,
				       json_pack("{s:b,s:i,s:s,s:s,s:I}", "ok", 0, "protocol", 1, "version", TINGZI_VERSION,
						 "why", said, "server_time_ms", (json_int_t)clock_wall_ms()),
				       5);
	}
	return send_json(c, 200,
			 json_pack("{s:b,s:i,s:s,s:I}", "ok", 1, "protocol", 1, "version", TINGZI_VERSION,
				   "server_time_ms", (json_int_t)clock_wall_ms()));
}

int hub_enroll_parse(const char *body, size_t len, hub_device *dev, unsigned char code_hash[HUB_HASH_LEN],
		     const char **code, char *msg, size_t msglen)
{
	json_error_t je;
	*code = "bad_json";
	if (!hub_json_depth_ok(body, len, HUB_MAX_DEPTH)) {
		snprintf(msg, msglen, "the body nests too deep");
		return -1;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(msg, msglen, "the body is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
		return -1;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(msg, msglen, "the body is not a JSON object");
		return -1;
	}
	const char *enrol_code = json_string_value(json_object_get(j, "code"));
	const char *dev_id = json_string_value(json_object_get(j, "device_id"));
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *pk = json_string_value(json_object_get(j, "public_key"));
	const char *bad = !enrol_code || strlen(enrol_code) < 8 || strlen(enrol_code) > 64 ? "code"
			  : !check_hex(dev_id, 32)					      ? "device_id"
			  : name && strlen(name) > 64					      ? "name"
			  : !check_hex(pk, 64)						      ? "public_key"
											      : NULL;
	if (bad) {
		json_decref(j);
		*code = "bad_field";
		snprintf(msg, msglen, "\"%s\" is missing or malformed", bad);
		return -1;
	}
	memset(dev, 0, sizeof *dev);
	snprintf(dev->id, sizeof dev->id, "%s", dev_id);
	snprintf(dev->name, sizeof dev->name, "%s", name ? name : "");
	for (char *p = dev->name; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	snprintf(dev->public_key, sizeof dev->public_key, "%s", pk);
	hub_sha256(enrol_code, strlen(enrol_code), code_hash);
	json_decref(j);
	return 0;
}

static enum MHD_Result enroll(struct MHD_Connection *c, server *sv, req *rq, const char *body, size_t len)
{
	hub_device dev;
	unsigned char secret[32], code_hash[HUB_HASH_LEN];
	const char *code;
	char msg[300];
	if (hub_enroll_parse(body, len, &dev, code_hash, &code, msg, sizeof msg) != 0)
		return send_error(c, rq, 400, code, "%s", msg);
	char secret_hex[65], token[160];
	randombytes_buf(secret, sizeof secret);
	sodium_bin2hex(secret_hex, sizeof secret_hex, secret, sizeof secret);
	hub_sha256(secret, sizeof secret, dev.token_hash);
	hub_venue v;
	hub_store *st = take(sv);
	hub_err e = give(sv, st, st->ops->enroll(st, code_hash, &dev, clock_wall_ms(), &v));
	sodium_memzero(secret, sizeof secret);
	if (e == HUB_CODE_INVALID)
		return send_error(c, rq, 403, "code_invalid", "this enrolment code is unknown, used or expired");
	if (e == HUB_EXISTS)
		return send_error(c, rq, 409, "bad_request",
				  "this device is enrolled already; revoke it first (tingzi-hub devices revoke)");
	if (e != HUB_OK)
		return store_failed(c, rq, sv, e);
	snprintf(token, sizeof token, "tzd1.%s.%s", dev.id, secret_hex);
	sodium_memzero(secret_hex, sizeof secret_hex);
	snprintf(rq->note, sizeof rq->note, "device %s enrolled at venue %s", dev.id, v.id);
	enum MHD_Result ret = send_json(c, 201,
					json_pack("{s:s,s:s,s:{s:s,s:s},s:I}", "device_id", dev.id, "token", token,
						  "venue", "id", v.id, "name", v.name, "server_time_ms",
						  (json_int_t)clock_wall_ms()));
	sodium_memzero(token, sizeof token);
	return ret;
}

/* The venue a device may use: 1, or 0 with a reply queued. */
static int own_venue(struct MHD_Connection *c, server *sv, req *rq, const hub_device *dev, const char *venue,
		     hub_venue *v, enum MHD_Result *ret)
{
	if (strcmp(dev->venue_id, venue) != 0) {
		*ret = send_error(c, rq, 403, "forbidden", "this device belongs to another venue");
		return 0;
	}
	hub_store *st = take(sv);
	hub_err e = give(sv, st, st->ops->venue_get(st, venue, v));
	if (e != HUB_OK) {
		*ret = store_failed(c, rq, sv, e);
		return 0;
	}
	return 1;
}

/* A push whose device and venue were checked from its headers (begin()). */
static enum MHD_Result push(struct MHD_Connection *c, server *sv, req *rq, const char *body, size_t len)
{
	const hub_device *dev = &rq->dev;
	int64_t now = clock_wall_ms();
	hub_batch b;
	int status;
	char code[32], msg[300];
	if (hub_push_parse(body, len, &b, &status, code, sizeof code, msg, sizeof msg) != 0) {
		hub_batch_free(&b);
		return send_error(c, rq, (unsigned)status, code, "%s", msg);
	}
	if (strcmp(hub_push_device(&b), dev->id) != 0) {
		hub_batch_free(&b);
		return send_error(c, rq, 403, "forbidden", "\"device_id\" is not the token's device");
	}
	/*
	 * The device stamped its time when it sent the request: the offset is
	 * measured against when the headers arrived, so a slow upload does not
	 * shift every time in it by the upload's length.
	 */
	int64_t offset = rq->arrived_ms - b.device_time_ms;
	hub_push_stats stats;
	struct timespec t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	hub_store *st = take(sv);
	hub_err e = give(sv, st, st->ops->push(st, &rq->v, dev->id, offset, now, &b, &stats));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (e != HUB_OK) {
		hub_batch_free(&b);
		return store_failed(c, rq, sv, e);
	}
	if (stats.ok)
		hub_webhook_worker_kick(sv->webhooks); /* its check-ins' webhooks, if any, go now */
	/* "X-Tingzi-Queue: pending=N dead=M": the kiosk's own count, shown in the console, never trusted for more */
	const char *qh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tingzi-Queue");
	long long pending, dead;
	char rest;
	if (qh && sscanf(qh, "pending=%lld dead=%lld%c", &pending, &dead, &rest) == 2 && pending >= 0 &&
	    dead >= 0 && pending < (1LL << 40) && dead < (1LL << 40)) {
		hub_queue_state qs = {.pending = pending, .dead = dead, .at_ms = now};
		st = take(sv);
		if (give(sv, st, st->ops->device_queue_set(st, dev->id, &qs)) != HUB_OK)
			fprintf(stderr, "hub: device %.8s: its queue state was not kept: %s\n", dev->id, store_why);
	}
	char *reply = hub_push_reply(&b, clock_wall_ms(), offset);
	snprintf(rq->note, sizeof rq->note,
		 "device %.8s: %zu check-ins %zu records in %zu bytes (%zu inflated), stored in %.1f ms: %zu ok, %zu "
		 "duplicate, %zu rejected, %zu second attendances",
		 dev->id, b.ncheckins, b.nrecords, rq->len, len,
		 (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6, stats.ok,
		 stats.duplicate, stats.rejected, stats.attendance_duplicate);
	hub_batch_free(&b);
	if (!reply)
		return send_error(c, rq, 500, "internal", "out of memory");
	return send_text(c, 200, "application/json", reply, strlen(reply), 1, 0);
}

static int host_ok(const char *h)
{
	return h && h[0] && strlen(h) < 256 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
				 strlen(h);
}

int hub_pull_query(const char *since_s, const char *limit_s, int64_t *since, int *limit, const char **code,
		   const char **msg)
{
	char *end;
	long long s = since_s ? strtoll(since_s, &end, 10) : 0;
	if (since_s && (!since_s[0] || *end || s < 0)) {
		*code = "bad_field";
		*msg = "\"since\" is not a sequence number";
		return -1;
	}
	long l = limit_s ? strtol(limit_s, &end, 10) : 1000;
	if (limit_s && (!limit_s[0] || *end || l < 1 || l > 5000)) {
		*code = "bad_limit";
		*msg = "\"limit\" must be 1 to 5000";
		return -1;
	}
	*since = s;
	*limit = (int)l;
	return 0;
}

static enum MHD_Result pull(struct MHD_Connection *c, server *sv, req *rq, const char *venue, const char *set_name)
{
	hub_device dev;
	hub_venue v;
	enum MHD_Result ret;
	if (!authenticate(c, sv, rq, &dev, &ret) || !own_venue(c, sv, rq, &dev, venue, &v, &ret))
		return ret;
	hub_set set = HUB_SET_MEMBERS;
	/* passes: keys, tiers and revocations, a set of its own beside the store's three (hub_pass_ops) */
	int passes = strcmp(set_name, "passes") == 0;
	if (!passes && hub_set_parse(set_name, &set) != 0)
		return send_error(c, rq, 404, "not_found", "no data set \"%s\" (members, events, links, passes)",
				  set_name);
	const char *since_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *limit_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	int64_t since;
	int limit;
	const char *code, *msg;
	if (hub_pull_query(since_s, limit_s, &since, &limit, &code, &msg) != 0)
		return send_error(c, rq, 400, code, "%s", msg);
	char base[HUB_URL_MAX] = "";
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (sv->public_url)
		snprintf(base, sizeof base, "%s", sv->public_url);
	else if (host_ok(host))
		snprintf(base, sizeof base, "%s://%s", sv->tls ? "https" : "http", host);
	hub_page pg;
	hub_store *st = take(sv);
	hub_err e = give(sv, st, passes ? st->ops->pass->pull(st, venue, since, limit, &pg)
					 : st->ops->pull(st, venue, set, since, limit, base, &pg));
	if (e != HUB_OK)
		return store_failed(c, rq, sv, e);
	snprintf(rq->note, sizeof rq->note, "device %.8s: %s since %lld: %zu items%s", dev.id, set_name, (long long)since,
		 json_array_size(pg.items), pg.reset ? " (snapshot)" : "");
	return send_json(c, 200,
			 json_pack("{s:s,s:b,s:o,s:I,s:b}", "set", set_name, "reset", pg.reset, "items", pg.items,
				   "next", (json_int_t)pg.next, "more", pg.more));
}

static enum MHD_Result live(struct MHD_Connection *c, server *sv, req *rq, const char *slug)
{
	static const char gone[] =
	    "<!doctype html><meta charset=utf-8><title>tingzi</title>"
	    "<p>这个群码暂时不可用，请向工作人员索取新的二维码。</p>"
	    "<p>這個群碼暫時不可用，請向工作人員索取新的二維碼。</p>"
	    "<p>This group code is not available right now. Please ask the staff for a new one.</p>\n";
	if (!slug[0] || strlen(slug) > 32 ||
	    strspn(slug, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(slug))
		return send_error(c, rq, 404, "not_found", "no such live code");
	char url[HUB_URL_MAX];
	/* a member's personal invite adds ?ref=THEIR-CODE: counted for the dashboard, never trusted further */
	const char *ref = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ref");
	if (ref && !check_text(ref, STORE_CODE_MAX - 1, 0))
		ref = NULL;
	hub_store *st = take(sv);
	hub_err e = give(sv, st, st->ops->live(st, slug, ref, clock_wall_ms(), url));
	if (e == HUB_NOT_FOUND)
		return send_error(c, rq, 404, "not_found", "no such live code");
	if (e == HUB_INVALID) {
		snprintf(rq->note, sizeof rq->note, "live code %s: no valid link", slug);
		return send_text(c, 410, "text/html; charset=utf-8", strdup(gone), strlen(gone), 0, 0);
	}
	if (e != HUB_OK)
		return store_failed(c, rq, sv, e);
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, url);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, 302, r);
	MHD_destroy_response(r);
	snprintf(rq->note, sizeof rq->note, "live code %s", slug);
	return ret;
}

/* ---- dispatch ---- */

/* The endpoint the path names; venue (and set) filled for push and pull. */
static enum route classify(const char *url, req *rq)
{
	char rest[4];
	if (strcmp(url, "/v1/health") == 0)
		return R_HEALTH;
	if (strncmp(url, "/j/", 3) == 0)
		return R_LIVE;
	if (strcmp(url, "/v1/enroll") == 0)
		return R_ENROLL;
	if (sscanf(url, "/v1/venues/%36[0-9a-f]/push%1s", rq->venue, rest) == 1 &&
	    strlen(url) == strlen("/v1/venues//push") + strlen(rq->venue))
		return R_PUSH;
	if (sscanf(url, "/v1/venues/%36[0-9a-f]/pull/%16[a-z]%1s", rq->venue, rq->set, rest) == 2)
		return R_PULL;
	if (hub_api_owns(url))
		return R_API;
	if (member_pages_owns(url))
		return R_MEMBER;
	return console_owns(url) ? R_CONSOLE : R_NONE;
}

/* Makes room for need bytes of body, taken from the shared budget first: 0, or -1. */
static int body_grow(server *sv, req *rq, size_t need)
{
	if (need <= rq->cap)
		return 0;
	if (hub_guard_take(sv->guard, need - rq->cap) != 0)
		return -1;
	rq->taken += need - rq->cap;
	char *b = realloc(rq->body, need + 1);
	if (!b)
		return -1;
	rq->body = b;
	rq->cap = need;
	return 0;
}

/* Drops the body gathered so far and gives its bytes back. */
static void body_drop(server *sv, req *rq)
{
	free(rq->body);
	rq->body = NULL;
	rq->len = rq->cap = 0;
	hub_guard_give(sv->guard, rq->taken);
	rq->taken = 0;
}

static void body_chunk(server *sv, req *rq, const char *data, size_t n)
{
	if (rq->answered || rq->too_large || rq->busy)
		return; /* dropped: the answer is already decided */
	if (n > rq->limit - rq->len) {
		rq->too_large = 1;
		body_drop(sv, rq);
		return;
	}
	if (rq->len + n > rq->cap) {
		size_t want = rq->cap ? rq->cap * 2 : 16384;
		if (want < rq->len + n)
			want = rq->len + n;
		if (want > rq->limit)
			want = rq->limit;
		if (body_grow(sv, rq, want) != 0) {
			rq->busy = 1;
			body_drop(sv, rq);
			return;
		}
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
}

/* ---- the console ---- */

static enum MHD_Result send_page(struct MHD_Connection *c, req *rq, console_response *outp);

typedef struct console_conn {
	struct MHD_Connection *c;
	server *sv;
	hub_store *st; /* taken from the pool for the page (NULL while the console let it go) */
} console_conn;

static const char *console_get(void *ctx, int kind, const char *name)
{
	console_conn *cc = ctx;
	return MHD_lookup_connection_value(cc->c, kind == CONSOLE_HEADER ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND,
					   name);
}

typedef struct query_walk {
	void (*fn)(const char *name, const char *value, void *fctx);
	void *fctx;
} query_walk;

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	query_walk *w = cls;
	w->fn(key, value ? value : "", w->fctx);
	return MHD_YES;
}

static void console_each_query(void *ctx, void (*fn)(const char *name, const char *value, void *fctx), void *fctx)
{
	console_conn *cc = ctx;
	query_walk w = {fn, fctx};
	MHD_get_connection_values(cc->c, MHD_GET_ARGUMENT_KIND, query_one, &w);
}

static void console_unlock(void *ctx)
{
	console_conn *cc = ctx;
	hub_pool_give(cc->sv->pool, cc->st);
	cc->st = NULL;
}

static hub_store *console_relock(void *ctx)
{
	console_conn *cc = ctx;
	return cc->st = hub_pool_take(cc->sv->pool);
}

/*
 * A console page: handed over whole, with a store of the pool, and sent
 * back with the headers every page of the console carries (no framing, no
 * scripts or styles but the hub's own, no referrer: a set-up link's token
 * never leaves in a Referer).
 */
static enum MHD_Result console_page(struct MHD_Connection *c, server *sv, req *rq, const char *url, const char *method,
				    const char *body, size_t len)
{
	char client[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa = client_of(rq);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof client);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client, sizeof client);
	console_conn cc = {c, sv, hub_pool_take(sv->pool)};
	console_request crq = {.method = method, .path = url, .get = console_get, .ctx = &cc,
			       .each_query = console_each_query, .body = body, .len = len,
			       .body_too_large = rq->too_large, .client = client, .tls = sv->tls,
			       .unlock = console_unlock, .relock = console_relock, .now_ms = clock_wall_ms(),
			       .st = cc.st};
	console_response out;
	rq->answered = 1;
	console_handle(sv->con, &crq, &out);
	hub_pool_give(sv->pool, cc.st);
	return send_page(c, rq, &out);
}

/* A console's or a member page's answer, with the headers every such page carries. */
static enum MHD_Result send_page(struct MHD_Connection *c, req *rq, console_response *outp)
{
	console_response out = *outp;
	snprintf(rq->note, sizeof rq->note, "%s", out.note);
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    out.len, out.body, out.body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
	if (!r) {
		console_response_free(&out);
		return MHD_NO;
	}
	if (out.content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type);
	MHD_add_response_header(r, "Cache-Control", out.cache ? "public, max-age=86400" : "no-store");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
				"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (out.location[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, out.location);
	if (out.disposition[0])
		MHD_add_response_header(r, "Content-Disposition", out.disposition);
	for (int i = 0; i < out.ncookies; i++)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, out.cookies[i]);
	if (out.retry_after) {
		char secs[16];
		snprintf(secs, sizeof secs, "%u", out.retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	enum MHD_Result ret = MHD_queue_response(c, out.status ? out.status : 500, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * A member page (member_pages.h): handed over whole, with the pool (it takes
 * a store only around each call), and sent back as a console page is.
 */
static enum MHD_Result member_page(struct MHD_Connection *c, server *sv, req *rq, const char *url,
				   const char *method, const char *body, size_t len)
{
	char client[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa = client_of(rq);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof client);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client, sizeof client);
	console_conn cc = {c, sv, NULL};
	console_request crq = {.method = method, .path = url, .get = console_get, .ctx = &cc,
			       .each_query = console_each_query, .body = body, .len = len,
			       .body_too_large = rq->too_large, .client = client, .tls = sv->tls,
			       .now_ms = clock_wall_ms()};
	console_response out;
	rq->answered = 1;
	member_pages_handle(sv->mp, sv->pool, &crq, &out);
	return send_page(c, rq, &out);
}

/* A member page as its headers arrive: a GET is answered now; a sign-up's body (small) is gathered. */
/* A body of at most limit bytes to gather: refused now when its Content-Length says more (413), or when the
 * shared budget cannot take it (503); what names it in the refusal ("form", "body"). */
static enum MHD_Result body_expected(struct MHD_Connection *c, server *sv, req *rq, size_t limit, const char *what)
{
	rq->limit = limit;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		unsigned long long n = strtoull(cl, NULL, 10);
		if (n > rq->limit)
			return send_error(c, rq, 413, "too_large", "the %s is larger than %zu bytes", what, rq->limit);
		if (n && body_grow(sv, rq, (size_t)n) != 0)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
	}
	return MHD_YES;
}

static enum MHD_Result member_begin(struct MHD_Connection *c, server *sv, req *rq, const char *url,
				    const char *method)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return member_page(c, sv, rq, url, method, NULL, 0);
	if (strcmp(method, "POST") != 0)
		return send_error(c, rq, 405, "method_not_allowed", "use GET or POST");
	snprintf(rq->url, sizeof rq->url, "%s", url);
	if (strlen(url) >= sizeof rq->url)
		return send_error(c, rq, 404, "not_found", "no such page");
	return body_expected(c, sv, rq, MEMBER_MAX_BODY, "form");
}

/*
 * An API request (hub_api.h): handed over whole, with the pool, and sent back
 * as a console page is. API routes are not counted against the client's
 * address but a bad token (401) is: tokens cannot be guessed from one address.
 */
static enum MHD_Result api_page(struct MHD_Connection *c, server *sv, req *rq, const char *url, const char *method,
				const char *body, size_t len)
{
	console_conn cc = {c, sv, NULL};
	console_request crq = {.method = method, .path = url, .get = console_get, .ctx = &cc,
			       .each_query = console_each_query, .body = body, .len = len,
			       .body_too_large = rq->too_large, .tls = sv->tls, .now_ms = clock_wall_ms()};
	console_response out;
	rq->answered = 1;
	hub_api_handle(sv->api, sv->pool, &crq, &out);
	if (out.status == 401)
		hub_guard_failed(sv->guard, client_of(rq), rq->arrived_ms);
	return send_page(c, rq, &out);
}

/* An API request as its headers arrive: one without a body is answered now; a write's body is gathered. */
static enum MHD_Result api_begin(struct MHD_Connection *c, server *sv, req *rq, const char *url, const char *method)
{
	unsigned wait = hub_guard_wait(sv->guard, client_of(rq), rq->arrived_ms);
	if (wait) {
		rq->quiet = 1;
		return send_later(c, rq, 429, wait, "rate_limited",
				  "too many failed tokens from this address; try again in %u s", wait);
	}
	if (strcmp(method, "POST") != 0 && strcmp(method, "PATCH") != 0)
		return api_page(c, sv, rq, url, method, NULL, 0);
	snprintf(rq->url, sizeof rq->url, "%s", url);
	snprintf(rq->method, sizeof rq->method, "%s", method);
	if (strlen(url) >= sizeof rq->url)
		return send_error(c, rq, 404, "not_found", "no such endpoint");
	return body_expected(c, sv, rq, HUB_API_MAX_BODY, "body");
}

/* A console request as its headers arrive: a GET is answered now; a POST's body is gathered. */
static enum MHD_Result console_begin(struct MHD_Connection *c, server *sv, req *rq, const char *url,
				     const char *method)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return console_page(c, sv, rq, url, method, NULL, 0);
	if (strcmp(method, "POST") != 0)
		return send_error(c, rq, 405, "method_not_allowed", "use GET or POST");
	snprintf(rq->url, sizeof rq->url, "%s", url);
	if (strlen(url) >= sizeof rq->url)
		return console_page(c, sv, rq, "/", "GET", NULL, 0);
	rq->limit = CONSOLE_MAX_BODY;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		/*
		 * A browser shows an answer only once it has sent its whole form, so a
		 * body over the limit is read and dropped (up to CONSOLE_DRAIN_BODY),
		 * then answered with a page that says why; a larger one is refused at once.
		 */
		if (n > CONSOLE_DRAIN_BODY)
			return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", rq->limit);
		if (n > rq->limit)
			rq->too_large = 1;
		else if (n && body_grow(sv, rq, (size_t)n) != 0)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
	}
	return MHD_YES;
}

/*
 * What the headers alone decide, before any body is read. Answers every
 * request that has no body to wait for; a push or enrolment that may go on
 * returns MHD_YES with no answer queued.
 */
static enum MHD_Result begin(struct MHD_Connection *c, server *sv, req *rq, const char *url, const char *method)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
	switch (rq->route) {
	case R_NONE:
		return send_error(c, rq, 404, "not_found", "no such endpoint");
	case R_HEALTH:
		return get ? health(c, sv, rq) : send_error(c, rq, 405, "method_not_allowed", "use GET");
	case R_LIVE:
		return get ? live(c, sv, rq, url + 3) : send_error(c, rq, 405, "method_not_allowed", "use GET");
	case R_CONSOLE:
		return console_begin(c, sv, rq, url, method);
	case R_MEMBER:
		return member_begin(c, sv, rq, url, method);
	case R_API:
		return api_begin(c, sv, rq, url, method);
	default:
		break;
	}
	if (rq->route != R_ENROLL && !check_hex(rq->venue, 32))
		return send_error(c, rq, 404, "not_found", "no such venue");
	unsigned wait = hub_guard_wait(sv->guard, client_of(rq), rq->arrived_ms);
	if (wait) {
		rq->quiet = 1;
		return send_later(c, rq, 429, wait, "rate_limited",
				  "too many failed tokens or enrolment codes from this address; try again in %u s",
				  wait);
	}
	if (rq->route == R_PULL)
		return get ? pull(c, sv, rq, rq->venue, rq->set)
			   : send_error(c, rq, 405, "method_not_allowed", "use GET");
	if (!post)
		return send_error(c, rq, 405, "method_not_allowed", "use POST");
	enum MHD_Result ret;
	if (rq->route == R_PUSH && (!authenticate(c, sv, rq, &rq->dev, &ret) ||
				    !own_venue(c, sv, rq, &rq->dev, rq->venue, &rq->v, &ret)))
		return ret;
	rq->limit = rq->route == R_ENROLL ? HUB_ENROLL_MAX_BODY : sv->max_body;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);
		if (n > rq->limit)
			return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", rq->limit);
		if (n && body_grow(sv, rq, (size_t)n) != 0)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
	}
	return MHD_YES;
}

/* The whole body is here: check, inflate and hand it to its endpoint. */
static enum MHD_Result finish(struct MHD_Connection *c, server *sv, req *rq)
{
	if (rq->route == R_CONSOLE) {
		if (rq->busy)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
		return console_page(c, sv, rq, rq->url, "POST", rq->body, rq->len);
	}
	if (rq->route == R_API) {
		if (rq->busy)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
		if (rq->too_large)
			return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", rq->limit);
		enum MHD_Result r = api_page(c, sv, rq, rq->url, rq->method, rq->body, rq->len);
		hub_webhook_worker_kick(sv->webhooks); /* a write's webhooks, if any, go now rather than at the next look */
		return r;
	}
	if (rq->route == R_MEMBER) {
		if (rq->busy)
			return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
		if (rq->too_large)
			return send_error(c, rq, 413, "too_large", "the form is larger than %zu bytes", rq->limit);
		return member_page(c, sv, rq, rq->url, "POST", rq->body, rq->len);
	}
	if (rq->too_large)
		return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", rq->limit);
	if (rq->busy)
		return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
	char *body;
	size_t len, held;
	unsigned st = body_of(c, sv, rq, &body, &len, &held);
	if (st == 413)
		return send_error(c, rq, 413, "too_large", "the body inflates to more than %zu bytes", rq->limit);
	if (st == 503)
		return send_later(c, rq, 503, 5, "unavailable", "the hub is receiving too much at once; try again");
	if (st == 415)
		return send_error(c, rq, 415, "unsupported_encoding", "only gzip or identity bodies");
	if (st)
		return send_error(c, rq, st, st == 400 ? "bad_request" : "internal", "the gzip body is damaged");
	enum MHD_Result ret = rq->route == R_ENROLL ? enroll(c, sv, rq, body, len) : push(c, sv, rq, body, len);
	if (body != rq->body) {
		free(body);
		hub_guard_give(sv->guard, held);
	}
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	server *sv = cls;
	req *rq = *con_cls;
	if (!rq) {
		if (!(rq = calloc(1, sizeof *rq)))
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		rq->arrived_ms = clock_wall_ms();
		client_find(c, sv, &rq->client);
		char what[sizeof rq->what];
		/* a private address's token stays out of the log: whoever reads it could show the pass */
		if (strncmp(url, "/p/", 3) == 0)
			snprintf(what, sizeof what, "%s /p/(token)%s", method, strstr(url, ".png") ? ".png" : "");
		else
			snprintf(what, sizeof what, "%s %s", method, url);
		hub_log_escape(what, rq->what, sizeof rq->what);
		rq->route = classify(url, rq);
		*con_cls = rq;
		return begin(c, sv, rq, url, method);
	}
	if (*upload_size) {
		body_chunk(sv, rq, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return rq->answered ? MHD_YES : finish(c, sv, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	server *sv = cls;
	req *rq = *con_cls;
	const union MHD_ConnectionInfo *sc = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (sc)
		hub_guard_watch_renew(sv->guard, sc->socket_context);
	if (!rq)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned status = ci ? ci->http_status : 0;
	/*
	 * Every refusal of a request that takes a token or a code counts against
	 * its address: a bad token or code, and also a malformed, oversized,
	 * misdirected or unfinished request, which no real kiosk sends over and
	 * over.
	 */
	if (!rq->quiet && rq->route >= R_ENROLL && (status == 0 || (status >= 400 && status < 500)))
		hub_guard_failed(sv->guard, client_of(rq), rq->arrived_ms);
	if (!rq->quiet) {
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - rq->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e6;
		char note[sizeof rq->note * 2];
		hub_log_escape(rq->note, note, sizeof note);
		fprintf(stderr, "hub: %s %u %.1f ms%s%s%s\n", rq->what, status, ms,
			note[0] ? " " : "", note,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
	}
	body_drop(sv, rq);
	free(rq);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	server *sv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			hub_guard_watch_start(sv->guard, ci->connect_fd, socket_context);
	} else {
		hub_guard_watch_end(sv->guard, socket_context);
	}
}

/* libmicrohttpd's own messages (its format, its arguments): escaped, and at most ten of a kind a minute. */
static void __attribute__((format(printf, 2, 0))) on_log(void *cls, const char *fmt, va_list ap)
{
	server *sv = cls;
	char line[512], safe[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	hub_log_escape(line, safe, sizeof safe);
	if (hub_guard_log_ok(sv->guard, fmt, safe))
		fprintf(stderr, "hub: http: %s\n", safe);
}

static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (!buf || n == 0 || n >= (1 << 20) - 1) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Room for max connections: the open-file limit is raised as far as the
 * system allows; the connection limit comes down to what then fits.
 */
static unsigned room_for(unsigned max)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return max;
	rlim_t want = (rlim_t)max + 64;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		unsigned fit = rl.rlim_cur > 128 ? (unsigned)(rl.rlim_cur - 64) : 64;
		fprintf(stderr, "hub: %u connections at most (the open-file limit is %llu)\n", fit,
			(unsigned long long)rl.rlim_cur);
		return fit;
	}
	return max;
}

int hub_serve(hub_pool *pool, const hub_serve_config *cfg)
{
	const char *listen = cfg->listen ? cfg->listen : "127.0.0.1:8420", *tls_cert = cfg->tls_cert,
		   *tls_key = cfg->tls_key;
	char *cert = NULL, *key = NULL;
	if (tls_cert || tls_key) {
		if (!tls_cert || !tls_key) {
			fprintf(stderr, "tingzi-hub: --tls-cert and --tls-key go together\n");
			return 2;
		}
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			fprintf(stderr, "tingzi-hub: this libmicrohttpd has no TLS; use a reverse proxy\n");
			return 1;
		}
		if (!(cert = read_pem(tls_cert)) || !(key = read_pem(tls_key))) {
			fprintf(stderr, "tingzi-hub: cannot read %s (PEM, under 1 MiB)\n", cert ? tls_key : tls_cert);
			free(cert);
			return 1;
		}
	}
	char host[64] = "127.0.0.1";
	unsigned port = 8420;
	const char *colon = strrchr(listen, ':');
	if (colon) {
		size_t hl = (size_t)(colon - listen);
		if (hl >= sizeof host) {
			fprintf(stderr, "tingzi-hub: --listen %s: the address is too long\n", listen);
			return 2;
		}
		if (hl) {
			memcpy(host, listen, hl);
			host[hl] = '\0';
		}
	}
	char *end;
	unsigned long p = strtoul(colon ? colon + 1 : listen, &end, 10);
	if (*end || p == 0 || p > 65535) {
		fprintf(stderr, "tingzi-hub: --listen %s: expected ADDRESS:PORT (for example 127.0.0.1:8420)\n",
			listen);
		return 2;
	}
	port = (unsigned)p;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, strcmp(host, "*") == 0 ? "0.0.0.0" : host, &sa.sin_addr) != 1) {
		fprintf(stderr, "tingzi-hub: --listen %s: %s is not an IPv4 address\n", listen, host);
		return 2;
	}
	hub_guard_config gc = {.failures_per_minute = HUB_FAILURES_PER_MINUTE,
			       .body_budget = cfg->body_budget ? cfg->body_budget : HUB_BODY_BUDGET,
			       .request_seconds = cfg->request_seconds ? cfg->request_seconds : HUB_REQUEST_SECONDS};
	server sv = {.pool = pool,
		     .public_url = cfg->public_url,
		     .max_body = cfg->max_body ? cfg->max_body : HUB_MAX_BODY,
		     .tls = cert != NULL,
		     .guard = hub_guard_new(&gc)};
	if (!sv.guard) {
		fprintf(stderr, "tingzi-hub: cannot start (out of memory or threads)\n");
		free(cert);
		free(key);
		return 1;
	}
	char why[300];
	console_config cc = {.public_url = cfg->public_url, .tls = cert != NULL, .kek = cfg->kek,
			     .webhooks_private = cfg->webhooks_private};
	if (cfg->trusted_proxy) {
		sv.proxy.sin_family = AF_INET;
		if (inet_pton(AF_INET, cfg->trusted_proxy, &sv.proxy.sin_addr) != 1) {
			fprintf(stderr, "tingzi-hub: --trusted-proxy %s is not an IPv4 address\n", cfg->trusted_proxy);
			hub_guard_free(sv.guard);
			free(cert);
			free(key);
			return 2;
		}
	}
	hub_store *first = hub_pool_take(pool);
	sv.con = console_new(first, &cc, why, sizeof why);
	hub_pool_give(pool, first);
	member_config mc = {.kek = cfg->kek, .public_url = cfg->public_url, .tls = cert != NULL,
			    .signups_per_address = cfg->signups_per_address, .signups_per_venue = cfg->signups_per_venue};
	if (sv.con && !(sv.mp = member_pages_new(&mc, why, sizeof why))) {
		console_free(sv.con);
		sv.con = NULL;
	}
	if (!sv.con) {
		fprintf(stderr, "tingzi-hub: %s\n", why);
		hub_guard_free(sv.guard);
		free(cert);
		free(key);
		return 1;
	}
	if (!cfg->kek)
		fprintf(stderr, "hub: no key file (--key-file): sign-up pages give no passes\n");
	hub_api_config ac = {.public_url = cfg->public_url, .tls = cert != NULL};
	if (!(sv.api = hub_api_new(&ac))) {
		fprintf(stderr, "tingzi-hub: cannot start (out of memory)\n");
		hub_guard_free(sv.guard);
		console_free(sv.con);
		member_pages_free(sv.mp);
		free(cert);
		free(key);
		return 1;
	}
	/* a thread for each store of the pool, and no fewer than four (parsing, TLS and compressing need no store) */
	unsigned threads = hub_pool_size(pool) > 4 ? hub_pool_size(pool) : 4;
	unsigned max_conn = room_for(cfg->max_connections ? cfg->max_connections : HUB_MAX_CONNECTIONS);
	/* INT and TERM are waited for below, in this thread only */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the webhook senders before the server: a push's worker threads read sv.webhooks from the first request */
	hub_webhook_worker_conf wc = {.pool = pool, .allow_private = cfg->webhooks_private,
				      .senders = (int)cfg->webhook_senders};
	if (!(sv.webhooks = hub_webhook_worker_start(&wc, why, sizeof why))) {
		fprintf(stderr, "tingzi-hub: webhooks: %s\n", why);
		hub_guard_free(sv.guard);
		console_free(sv.con);
		member_pages_free(sv.mp);
		free(cert);
		free(key);
		return 1;
	}
	/*
	 * epoll, not select: select stops at 1024 descriptors. Each connection's
	 * headers and buffers live in a pool of HUB_CONNECTION_MEMORY bytes.
	 */
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (cert ? MHD_USE_TLS : 0), (uint16_t)port, NULL, NULL,
	    on_request, &sv, MHD_OPTION_EXTERNAL_LOGGER, on_log, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, max_conn,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_address, MHD_OPTION_CONNECTION_TIMEOUT, HUB_IDLE_SECONDS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HUB_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_done,
	    &sv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, &sv, cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "tingzi-hub: cannot listen on %s:%u (in use, not this machine's address%s)\n", host,
			port, cert ? ", or the certificate and key do not match" : "");
		hub_webhook_worker_stop(sv.webhooks);
		hub_guard_free(sv.guard);
		console_free(sv.con);
		member_pages_free(sv.mp);
		free(cert);
		free(key);
		return 1;
	}
	fprintf(stderr,
		"hub: listening on %s://%s:%u (protocol 1, version %s; %u connections, %u per address; %u threads,"
		" %u store%s%s%s)\n",
		cert ? "https" : "http", host, port, TINGZI_VERSION, max_conn, cfg->per_address, threads,
		hub_pool_size(pool), hub_pool_size(pool) == 1 ? "" : "s",
		cfg->trusted_proxy ? "; X-Forwarded-For believed from " : "", cfg->trusted_proxy ? cfg->trusted_proxy : "");
	int sig = 0;
	sigwait(&stop, &sig);
	fprintf(stderr, "hub: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	MHD_stop_daemon(d);
	hub_api_free(sv.api, pool);
	hub_webhook_worker_stop(sv.webhooks);
	hub_guard_free(sv.guard);
	console_free(sv.con);
	member_pages_free(sv.mp);
	free(cert);
	if (key)
		sodium_memzero(key, strlen(key));
	free(key);
	return 0;
}
