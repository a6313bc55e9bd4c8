/*
 * hub_http — the hub's HTTP server on libmicrohttpd (sync/PROTOCOL.md).
 *
 * A pool of threads takes requests; bodies are gathered up to a cap (more
 * is answered 413 without being kept), inflated when gzip (with the same
 * cap on what comes out, so a small bomb cannot fill memory), parsed and
 * checked before the store sees anything. The store is used by one thread
 * at a time (a lock around each call); parsing, checking and compressing
 * happen outside it. Every request is logged on one line on stderr.
 */
#include "sync/hub/hub_http.h"
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
#include <time.h>
#include <zlib.h>

#ifndef TINGZI_VERSION
#define TINGZI_VERSION "0"
#endif

typedef struct server {
	hub_store *st;
	pthread_mutex_t lock;
	const char *public_url;
	size_t max_body;
	int tls;
} server;

typedef struct req {
	char *body;
	size_t len, cap;
	int too_large;
	struct timespec t0;
	char what[100]; /* method and path */
	char note[200]; /* what the log line adds */
} req;

/* ---- replies ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type, char *body,
				 size_t len, int may_gzip)
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
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return MHD_NO;
	return send_text(c, status, "application/json", text, strlen(text), 1);
}

static enum MHD_Result __attribute__((format(printf, 5, 6)))
send_error(struct MHD_Connection *c, req *rq, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(rq->note, sizeof rq->note, "%s: %.120s", code, msg);
	return send_json(c, status, json_pack("{s:s,s:s}", "error", code, "message", msg));
}

static hub_err locked(server *sv, hub_err e)
{
	pthread_mutex_unlock(&sv->lock);
	return e;
}

#define STORE(sv, call) (pthread_mutex_lock(&(sv)->lock), locked((sv), (sv)->st->ops->call))

static enum MHD_Result store_failed(struct MHD_Connection *c, req *rq, server *sv, hub_err e)
{
	if (e == HUB_BUSY)
		return send_error(c, rq, 503, "unavailable", "the hub's storage is busy; try again");
	fprintf(stderr, "hub: storage: %s\n", hub_store_errmsg(sv->st));
	return send_error(c, rq, 500, "internal", "the hub could not store this; nothing was kept");
}

/* ---- request bodies ---- */

/* The body, inflated when gzip. 0 with *out (malloc'd or the body itself), or an HTTP status. */
static unsigned body_of(struct MHD_Connection *c, server *sv, req *rq, char **out, size_t *outlen)
{
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (!enc || strcmp(enc, "identity") == 0) {
		*out = rq->body;
		*outlen = rq->len;
		return 0;
	}
	if (strcmp(enc, "gzip") != 0)
		return 415;
	size_t cap = sv->max_body, n = 0;
	char *buf = malloc(cap + 1);
	z_stream z = {0};
	if (!buf || inflateInit2(&z, 31) != Z_OK) {
		free(buf);
		return 500;
	}
	z.next_in = (Bytef *)rq->body;
	z.avail_in = (uInt)rq->len;
	int rc;
	do {
		z.next_out = (Bytef *)buf + n;
		z.avail_out = (uInt)(cap + 1 - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = z.total_out;
	} while (rc == Z_OK && n <= cap && z.avail_out == 0);
	inflateEnd(&z);
	if (n > cap) {
		free(buf);
		return 413;
	}
	if (rc != Z_STREAM_END) {
		free(buf);
		return 400;
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
	if (!hub_is_hex(id, 32) ||
	    sodium_hex2bin(secret, sizeof secret, secret_hex, 64, NULL, &n, NULL) != 0 || n != sizeof secret) {
		*ret = send_error(c, rq, 401, "unauthorized", "the device token is malformed");
		return 0;
	}
	hub_sha256(secret, sizeof secret, hash);
	hub_err e = STORE(sv, device_get(sv->st, id, dev));
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

static enum MHD_Result health(struct MHD_Connection *c)
{
	return send_json(c, 200,
			 json_pack("{s:b,s:i,s:s,s:I}", "ok", 1, "protocol", 1, "version", TINGZI_VERSION,
				   "server_time_ms", (json_int_t)hub_now_ms()));
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
			  : !hub_is_hex(dev_id, 32)					      ? "device_id"
			  : name && strlen(name) > 64					      ? "name"
			  : !hub_is_hex(pk, 64)						      ? "public_key"
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
	hub_err e = STORE(sv, enroll(sv->st, code_hash, &dev, hub_now_ms(), &v));
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
						  (json_int_t)hub_now_ms()));
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
	hub_err e = STORE(sv, venue_get(sv->st, venue, v));
	if (e != HUB_OK) {
		*ret = store_failed(c, rq, sv, e);
		return 0;
	}
	return 1;
}

static enum MHD_Result push(struct MHD_Connection *c, server *sv, req *rq, const char *venue, const char *body,
			    size_t len)
{
	hub_device dev;
	hub_venue v;
	enum MHD_Result ret;
	if (!authenticate(c, sv, rq, &dev, &ret) || !own_venue(c, sv, rq, &dev, venue, &v, &ret))
		return ret;
	int64_t now = hub_now_ms();
	hub_batch b;
	int status;
	char code[32], msg[300];
	if (hub_push_parse(body, len, &b, &status, code, sizeof code, msg, sizeof msg) != 0) {
		hub_batch_free(&b);
		return send_error(c, rq, (unsigned)status, code, "%s", msg);
	}
	if (strcmp(hub_push_device(&b), dev.id) != 0) {
		hub_batch_free(&b);
		return send_error(c, rq, 403, "forbidden", "\"device_id\" is not the token's device");
	}
	int64_t offset = now - b.device_time_ms;
	hub_push_stats stats;
	struct timespec t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	hub_err e = STORE(sv, push(sv->st, &v, dev.id, offset, now, &b, &stats));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (e != HUB_OK) {
		hub_batch_free(&b);
		return store_failed(c, rq, sv, e);
	}
	char *reply = hub_push_reply(&b, hub_now_ms(), offset);
	snprintf(rq->note, sizeof rq->note,
		 "device %.8s: %zu check-ins %zu records in %zu bytes (%zu inflated), stored in %.1f ms: %zu ok, %zu "
		 "duplicate, %zu rejected, %zu second attendances",
		 dev.id, b.ncheckins, b.nrecords, rq->len, len,
		 (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6, stats.ok,
		 stats.duplicate, stats.rejected, stats.attendance_duplicate);
	hub_batch_free(&b);
	if (!reply)
		return send_error(c, rq, 500, "internal", "out of memory");
	return send_text(c, 200, "application/json", reply, strlen(reply), 1);
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
	hub_set set;
	if (hub_set_parse(set_name, &set) != 0)
		return send_error(c, rq, 404, "not_found", "no data set \"%s\" (members, events, links)", set_name);
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
	hub_err e = STORE(sv, pull(sv->st, venue, set, since, limit, base, &pg));
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
	hub_err e = STORE(sv, live(sv->st, slug, hub_now_ms(), url));
	if (e == HUB_NOT_FOUND)
		return send_error(c, rq, 404, "not_found", "no such live code");
	if (e == HUB_INVALID) {
		snprintf(rq->note, sizeof rq->note, "live code %s: no valid link", slug);
		return send_text(c, 410, "text/html; charset=utf-8", strdup(gone), strlen(gone), 0);
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

static enum MHD_Result route(struct MHD_Connection *c, server *sv, req *rq, const char *url, const char *method)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
	char venue[40], rest[40];
	if (strcmp(url, "/v1/health") == 0)
		return get ? health(c) : send_error(c, rq, 405, "method_not_allowed", "use GET");
	if (strncmp(url, "/j/", 3) == 0)
		return get ? live(c, sv, rq, url + 3) : send_error(c, rq, 405, "method_not_allowed", "use GET");
	int enroll_url = strcmp(url, "/v1/enroll") == 0;
	int push_url = sscanf(url, "/v1/venues/%36[0-9a-f]/push%1s", venue, rest) == 1 &&
		       strlen(url) == strlen("/v1/venues//push") + strlen(venue);
	int pull_url = !push_url && sscanf(url, "/v1/venues/%36[0-9a-f]/pull/%16[a-z]%1s", venue, rest, rest) == 2;
	if (!enroll_url && !push_url && !pull_url)
		return send_error(c, rq, 404, "not_found", "no such endpoint");
	if ((push_url || pull_url) && !hub_is_hex(venue, 32))
		return send_error(c, rq, 404, "not_found", "no such venue");
	if (pull_url) {
		sscanf(url, "/v1/venues/%36[0-9a-f]/pull/%16[a-z]", venue, rest);
		return get ? pull(c, sv, rq, venue, rest) : send_error(c, rq, 405, "method_not_allowed", "use GET");
	}
	if (!post)
		return send_error(c, rq, 405, "method_not_allowed", "use POST");
	if (rq->too_large)
		return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", sv->max_body);
	char *body;
	size_t len;
	unsigned st = body_of(c, sv, rq, &body, &len);
	if (st == 413)
		return send_error(c, rq, 413, "too_large", "the body inflates to more than %zu bytes", sv->max_body);
	if (st == 415)
		return send_error(c, rq, 415, "unsupported_encoding", "only gzip or identity bodies");
	if (st)
		return send_error(c, rq, st, st == 400 ? "bad_request" : "internal", "the gzip body is damaged");
	enum MHD_Result ret = enroll_url ? enroll(c, sv, rq, body, len) : push(c, sv, rq, venue, body, len);
	if (body != rq->body)
		free(body);
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
		snprintf(rq->what, sizeof rq->what, "%s %s", method, url);
		*con_cls = rq;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > sv->max_body) {
			/* answered before the body is read; the connection is then closed */
			rq->too_large = 1;
			return send_error(c, rq, 413, "too_large", "the body is larger than %zu bytes", sv->max_body);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_large) {
			if (rq->len + *upload_size > sv->max_body) {
				rq->too_large = 1;
				free(rq->body);
				rq->body = NULL;
				rq->len = rq->cap = 0;
			} else {
				if (rq->len + *upload_size > rq->cap) {
					size_t cap = rq->cap ? rq->cap : 65536;
					while (cap < rq->len + *upload_size)
						cap *= 2;
					char *b = realloc(rq->body, cap + 1);
					if (!b)
						return MHD_NO;
					rq->body = b;
					rq->cap = cap;
				}
				memcpy(rq->body + rq->len, upload, *upload_size);
				rq->len += *upload_size;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->note[0] == '\0' || !rq->too_large)
		return route(c, sv, rq, url, method);
	return MHD_YES;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	req *rq = *con_cls;
	if (!rq)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - rq->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e6;
	fprintf(stderr, "hub: %s %u %.1f ms%s%s%s\n", rq->what, ci ? ci->http_status : 0, ms, rq->note[0] ? " " : "",
		rq->note,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	fputs("hub: http: ", stderr);
	vfprintf(stderr, fmt, ap);
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

int hub_serve(hub_store *st, const char *listen, const char *public_url, size_t max_body, const char *tls_cert,
	      const char *tls_key)
{
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
	server sv = {.st = st, .public_url = public_url, .max_body = max_body, .tls = cert != NULL};
	pthread_mutex_init(&sv.lock, NULL);
	/* INT and TERM are waited for below, in this thread only */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (cert ? MHD_USE_TLS : 0), (uint16_t)port, NULL, NULL, on_request, &sv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, 4u,
	    MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "tingzi-hub: cannot listen on %s:%u (in use, not this machine's address%s)\n", host,
			port, cert ? ", or the certificate and key do not match" : "");
		free(cert);
		free(key);
		return 1;
	}
	fprintf(stderr, "hub: listening on %s://%s:%u (protocol 1, version %s)\n", cert ? "https" : "http", host, port,
		TINGZI_VERSION);
	int sig = 0;
	sigwait(&stop, &sig);
	fprintf(stderr, "hub: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	MHD_stop_daemon(d);
	pthread_mutex_destroy(&sv.lock);
	free(cert);
	if (key)
		sodium_memzero(key, strlen(key));
	free(key);
	return 0;
}
