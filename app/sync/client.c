/*
 * client — sync with tingzi-hub. See client.h and sync/PROTOCOL.md.
 *
 * Every request has a connect timeout (5 s) and a total timeout (60 s);
 * replies are read into memory up to WIRE_MAX_REPLY and refused beyond it.
 * Push bodies go gzip-compressed; replies may come back compressed (libcurl
 * decodes them). A round's requests share one connection.
 *
 * A long queue goes as a pipeline: while the hub stores one push (on a
 * thread of its own here, waiting for the answer), the kiosk writes down
 * the answers to the push before and reads, encodes and compresses the push
 * after. The requests themselves still go one at a time, in outbox order,
 * and a record leaves the outbox only once the hub answered for it.
 */
#include "app/sync/client.h"

#include "sync/clock.h"
#include "app/sync/net.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CONNECT_TIMEOUT_S 5
#define TOTAL_TIMEOUT_S   60
#define MAX_PAGES         100000 /* per set per round: a hub that never says "no more" */

int sync_conf_load(store *s, sync_conf *c)
{
	memset(c, 0, sizeof *c);
	if (store_setting_get(s, "hub_url", c->hub_url, sizeof c->hub_url) != STORE_OK ||
	    store_setting_get(s, "hub_token", c->token, sizeof c->token) != STORE_OK ||
	    store_setting_get(s, "hub_venue", c->venue_id, sizeof c->venue_id) != STORE_OK ||
	    !c->hub_url[0] || !c->token[0])
		return -1;
	return 0;
}

int64_t sync_backoff_ms(int failures, double unit_random)
{
	if (failures <= 0)
		return 0;
	int64_t base = failures >= 20 ? SYNC_BACKOFF_MS : (int64_t)1000 << (failures - 1);
	if (base > SYNC_BACKOFF_MS)
		base = SYNC_BACKOFF_MS;
	return (int64_t)((double)base * (0.5 + unit_random));
}

int64_t sync_next_wait_ms(sync_result res, int failures, int retry_after_s, int64_t interval_ms,
			  double unit_random)
{
	int64_t wait = res == SYNC_OK || res == SYNC_BUSY ? interval_ms
		       : res == SYNC_AUTH                 ? 15 * 60 * 1000
							  : sync_backoff_ms(failures, unit_random);
	if (retry_after_s > SYNC_RETRY_AFTER_MAX_S)
		retry_after_s = SYNC_RETRY_AFTER_MAX_S;
	if (retry_after_s > 0 && wait < (int64_t)retry_after_s * 1000)
		wait = (int64_t)retry_after_s * 1000;
	return wait;
}

/* ---- HTTP ---- */

typedef struct buf {
	char *p;
	size_t n, cap;
	int too_big;
} buf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	buf *b = ctx;
	size_t len = size * nmemb;
	if (b->n + len > WIRE_MAX_REPLY) {
		b->too_big = 1;
		return 0; /* abort the transfer */
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

typedef struct reply {
	long status;
	buf body;
	int retry_after;
	int64_t up, down; /* bytes on the wire: headers and bodies as sent */
} reply;

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	reply *r = ctx;
	size_t len = size * nmemb;
	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		/* delay-seconds; an HTTP date is not followed (the back-off applies) */
		char v[24];
		size_t n = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
		memcpy(v, data + 12, n);
		v[n] = '\0';
		char *end;
		errno = 0;
		long s = strtol(v, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end != v && *end == '\0' && errno != ERANGE && s > 0)
			r->retry_after = s > SYNC_RETRY_AFTER_MAX_S ? SYNC_RETRY_AFTER_MAX_S : (int)s;
	}
	return len;
}

/*
 * A body gzip-compressed, ready to send. Level 1: a push of 1000 check-ins
 * (93 KB of JSON) packs to 25.4 KB in about 1 ms, where level 6 takes three
 * times as long for 24.2 KB; most of what is left is the random member
 * uids, which no level packs further.
 *
 * A push is packed while the one before is on its way, but its
 * device_time_ms must say when it is sent (the hub takes the clock offset
 * from it). So the body's head, up to the end of that number, goes first in
 * a stored (uncompressed) deflate block and the rest compressed after it:
 * stamping the time rewrites the head in place and makes the trailer's
 * CRC-32 from the head's and the rest's (crc32_combine()), with nothing
 * compressed again. RFC 1951 lets any block follow a stored one.
 */
typedef struct packed {
	unsigned char *p;
	size_t n;
	size_t head;    /* body bytes in the stored block (0: none) */
	size_t rest;    /* body bytes compressed after it */
	uLong rest_crc; /* their CRC-32 */
} packed;

#define GZIP_HEAD 10 /* the gzip header; a stored block's header is 5 bytes more */

static void put_le32(unsigned char *p, uLong v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Pack body[0..n), its first head bytes stored: 0, or -1 (pk empty) on failure. */
static int pack(const char *body, size_t n, size_t head, packed *pk)
{
	memset(pk, 0, sizeof *pk);
	if (head > n || head > 65535)
		head = 0;
	z_stream z = {0};
	if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t at = GZIP_HEAD + (head ? 5 + head : 0), cap = at + deflateBound(&z, (uLong)(n - head)) + 8;
	unsigned char *p = malloc(cap);
	if (!p) {
		deflateEnd(&z);
		return -1;
	}
	static const unsigned char gz[GZIP_HEAD] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	memcpy(p, gz, GZIP_HEAD);
	if (head) {
		unsigned char *b = p + GZIP_HEAD;
		b[0] = 0; /* BFINAL 0, BTYPE 00 (stored), then to the byte's end */
		b[1] = (unsigned char)(head & 0xff), b[2] = (unsigned char)(head >> 8);
		b[3] = (unsigned char)(~head & 0xff), b[4] = (unsigned char)((~head >> 8) & 0xff);
		memcpy(b + 5, body, head);
	}
	z.next_in = (Bytef *)(body + head);
	z.avail_in = (uInt)(n - head);
	z.next_out = p + at;
	z.avail_out = (uInt)(cap - at - 8);
	int rc = deflate(&z, Z_FINISH);
	size_t len = at + z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(p);
		return -1;
	}
	pk->p = p;
	pk->head = head;
	pk->rest = n - head;
	pk->rest_crc = crc32(0, (const Bytef *)body + head, (uInt)(n - head));
	put_le32(p + len,
		 crc32_combine(crc32(0, (const Bytef *)body, (uInt)head), pk->rest_crc, (z_off_t)pk->rest));
	put_le32(p + len + 4, (uLong)n);
	pk->n = len + 8;
	return 0;
}

/* Put body's head (changed in place, same length) in pk again, and its CRC. */
static void repack_head(packed *pk, const char *body)
{
	memcpy(pk->p + GZIP_HEAD + 5, body, pk->head);
	put_le32(pk->p + pk->n - 8, crc32_combine(crc32(0, (const Bytef *)body, (uInt)pk->head), pk->rest_crc,
						  (z_off_t)pk->rest));
}

const char *sync_strerror(sync_result res)
{
	static const char *const names[] = {"ok", "network", "auth", "protocol", "store", "busy"};
	return (unsigned)res < sizeof names / sizeof names[0] ? names[res] : "unknown";
}

/*
 * The environment the client reads (TINGZI_HUB_CA, TINGZI_SYNC_INTERVAL_S),
 * read once: the kiosk changes LANGUAGE with setenv() when a member switches
 * language, and getenv() on the worker's thread at that moment could read a
 * freed environment. sync_worker_start() reads it on the kiosk's thread
 * before the worker exists; command-line syncs have one thread.
 */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static char env_ca[4096];
static int64_t env_interval_ms = 30000;

static void env_read(void)
{
	const char *ca = getenv("TINGZI_HUB_CA");
	if (ca && strlen(ca) < sizeof env_ca)
		snprintf(env_ca, sizeof env_ca, "%s", ca);
	const char *e = getenv("TINGZI_SYNC_INTERVAL_S"); /* for tests: rounds this often */
	long v = e ? strtol(e, NULL, 10) : 0;
	if (v > 0 && v <= 86400)
		env_interval_ms = v * 1000;
}

/* libcurl's progress callback: non-zero stops the transfer. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const atomic_int *cancel = ctx;
	return cancel && *cancel;
}

/*
 * A connection kept for the requests of a round (and, as a sync_conn, from
 * one round to the next): libcurl keeps it open (HTTP keep-alive) between
 * them, so the 100 pushes of a long queue and the pulls after them connect
 * once, not once each.
 */
struct sync_conn {
	CURL *c;
};
typedef struct sync_conn conn;

static void conn_close(conn *k)
{
	const net_api *curl = net_curl(NULL, 0);
	if (k->c && curl)
		curl->easy_cleanup(k->c);
	k->c = NULL;
}

sync_conn *sync_conn_new(void)
{
	return calloc(1, sizeof(sync_conn));
}

void sync_conn_free(sync_conn *c)
{
	if (c)
		conn_close(c);
	free(c);
}

/*
 * One request, on k's connection (NULL: a connection of its own). Returns 0
 * when an HTTP answer came (any status, in r), or -1 for no answer (a
 * sentence in why).
 */
static int request(conn *k, const char *method, const char *url, const char *token, const char *extra_header,
		   const char *body, const packed *gz, const atomic_int *cancel, reply *r, char *why,
		   size_t len)
{
	memset(r, 0, sizeof *r);
	const net_api *curl = net_curl(why, len);
	if (!curl)
		return -1;
	CURL *c = k && k->c ? k->c : curl->easy_init();
	if (!c) {
		snprintf(why, len, "cannot start an HTTP request");
		return -1;
	}
	if (k && k->c)
		curl->easy_reset(c); /* the options go; the open connection stays */
	else if (k)
		k->c = c;
	struct curl_slist *h = NULL;
	char auth[WIRE_TOKEN_MAX + 32];
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h = curl->slist_append(h, auth);
	}
	if (extra_header)
		h = curl->slist_append(h, extra_header);
	curl->easy_setopt(c, CURLOPT_URL, url);
	curl->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl->easy_setopt(c, CURLOPT_TIMEOUT, (long)TOTAL_TIMEOUT_S);
	curl->easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a hub with its own certificate authority (a private CA or a self-signed hub) */
	pthread_once(&env_once, env_read);
	if (env_ca[0])
		curl->easy_setopt(c, CURLOPT_CAINFO, env_ca);
	curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl->easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl->easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (cancel) {
		curl->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl->easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cancel);
	}
	if (body) {
		size_t n = strlen(body);
		h = curl->slist_append(h, "Content-Type: application/json");
		if (gz && gz->p) {
			h = curl->slist_append(h, "Content-Encoding: gzip");
			curl->easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)gz->p);
			n = gz->n;
		} else {
			curl->easy_setopt(c, CURLOPT_POSTFIELDS, body);
		}
		curl->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	}
	curl->easy_setopt(c, CURLOPT_HTTPHEADER, h);
	CURLcode rc = curl->easy_perform(c);
	if (rc == CURLE_OK) {
		long head_up = 0, head_down = 0;
		curl_off_t body_up = 0, body_down = 0;
		curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl->easy_getinfo(c, CURLINFO_REQUEST_SIZE, &head_up);
		curl->easy_getinfo(c, CURLINFO_HEADER_SIZE, &head_down);
		curl->easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &body_up);
		curl->easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &body_down);
		/* the request size counts a body sent with the headers; the upload size, any body */
		r->up = head_up > (long)body_up ? head_up : (int64_t)body_up;
		r->down = head_down + (int64_t)body_down;
	} else {
		snprintf(why, len, "%s",
			 r->body.too_big ? "the hub's reply is too large" : curl->easy_strerror(rc));
		free(r->body.p);
		memset(&r->body, 0, sizeof r->body);
	}
	curl->slist_free_all(h);
	if (!k)
		curl->easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

/* Decide what a non-200 answer means, and say it. */
static sync_result judge(const reply *rp, const char *what, sync_report *r)
{
	char code[48], msg[160];
	wire_error_reply(rp->body.p ? rp->body.p : "", rp->body.n, code, sizeof code, msg, sizeof msg);
	r->http_status = rp->status;
	r->retry_after_s = rp->retry_after;
	snprintf(r->error, sizeof r->error, "%s: the hub answered %ld%s%s%s%s", what, rp->status,
		 code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	if (rp->status == 401 || rp->status == 403)
		return SYNC_AUTH;
	if (rp->status == 429 || rp->status >= 500)
		return SYNC_NETWORK;
	return SYNC_PROTOCOL;
}

/* ---- push ---- */

typedef struct batch {
	wire_rec *r;
	int64_t *seq; /* each record's outbox seq */
	size_t n, cap;
	int failed;
} batch;

/* Members and events: the hub must have them before the check-ins that name them. */
static int goes_first(const char *kind)
{
	return strcmp(kind, "member") == 0 || strcmp(kind, "event") == 0;
}

static int collect(const store_outbox_rec *rec, void *ctx)
{
	batch *b = ctx;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		wire_rec *p = realloc(b->r, cap * sizeof *p);
		if (!p) {
			b->failed = 1;
			return 1;
		}
		b->r = p;
		int64_t *q = realloc(b->seq, cap * sizeof *q);
		if (!q) {
			b->failed = 1;
			return 1;
		}
		b->seq = q, b->cap = cap;
	}
	if (wire_rec_from(&b->r[b->n], rec) != 0) {
		b->failed = 1;
		return 1;
	}
	b->seq[b->n++] = rec->seq;
	return 0;
}

static void batch_clear(batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		wire_rec_clear(&b->r[i]);
	b->n = 0;
	b->failed = 0;
}

static int peek_first(const store_outbox_rec *rec, void *ctx)
{
	*(int *)ctx = goes_first(rec->kind);
	return 1;
}

/* 1 when a member or event waits in the outbox (or the outbox cannot be read), else 0. */
static int firsts_waiting(store *s)
{
	int first = 0;
	return store_outbox_batch(s, 1, peek_first, &first) != STORE_OK || first;
}

/*
 * One push: its records, its body, and the hub's answer once it came. The
 * request runs on a thread of its own, so that while the hub stores one
 * batch the kiosk writes down the answers to the one before and reads and
 * encodes the one after (sync/PROTOCOL.md: still one request at a time, in
 * outbox order).
 */
typedef struct flight {
	batch b;
	size_t sent;       /* records of b the body carries: b's first ones */
	int64_t last_rest; /* outbox seq of the last of them that is not a member or event, 0 for none */
	char *body;
	packed gz; /* body, compressed while the push before is on its way */
	char queue[96];
	conn *k;
	const char *url;
	const sync_conf *conf;
	reply rp;
	int rc;
	char why[192];
	pthread_t thread;
	int threaded;
	pthread_t packer; /* compressing body, off the thread that reads and writes the outbox */
	int packing;
} flight;

static void *pack_body(void *arg)
{
	flight *f = arg;
	pack(f->body, strlen(f->body), wire_push_time_end(f->body), &f->gz); /* else it goes uncompressed */
	return NULL;
}

/* f's body compressed, once its packer is done. */
static void packed_wait(flight *f)
{
	if (f->packing)
		pthread_join(f->packer, NULL);
	f->packing = 0;
}

/*
 * Read a batch into f and make its body: after < 0 from the start of the
 * outbox (members and events first, store_outbox_batch()); else the records
 * other than members and events after outbox seq `after`. 1 when f holds a
 * batch, 0 when there is nothing to send, -1 with why on failure.
 */
static int prepare(store *s, flight *f, int size, int64_t after, char *why, size_t len)
{
	packed_wait(f);
	batch_clear(&f->b);
	free(f->body);
	free(f->gz.p);
	f->body = NULL;
	memset(&f->gz, 0, sizeof f->gz);
	f->sent = 0;
	f->last_rest = 0;
	store_err e = after < 0 ? store_outbox_batch(s, size, collect, &f->b)
				: store_outbox_export(s, 0, after, size, collect, &f->b);
	if (e != STORE_OK || f->b.failed) {
		snprintf(why, len, "cannot read the outbox: %s", store_errmsg(s));
		return -1;
	}
	if (f->b.n == 0)
		return 0;
	/* a batch closes early at the encoder's limits; the rest goes next */
	f->body = wire_push_body_fit(store_device_id(s), clock_wall_ms(), f->b.r, f->b.n, &f->sent, why, len);
	if (!f->body)
		return -1;
	for (size_t i = 0; i < f->sent; i++)
		if (!goes_first(f->b.r[i].kind))
			f->last_rest = f->b.seq[i];
	f->packing = pthread_create(&f->packer, NULL, pack_body, f) == 0;
	if (!f->packing)
		pack_body(f);
	return 1;
}

static void *fly(void *arg)
{
	flight *f = arg;
	f->rc = request(f->k, "POST", f->url, f->conf->token, f->queue[0] ? f->queue : NULL, f->body, &f->gz,
			f->conf->cancel, &f->rp, f->why, sizeof f->why);
	return NULL;
}

/*
 * How the kiosk's queue goes, for the console's Kiosks page (X-Tingzi-Queue):
 * the hub writes it down in a transaction of its own, so a round says it
 * with its first push, its last, and at most once a second between them,
 * not with each of a long queue's pushes.
 */
#define QUEUE_SAY_MS 1000

typedef struct queue_say {
	int64_t at_ms; /* monotonic, when last said; 0 for not yet this round */
} queue_say;

/*
 * Send f's body. left and dead are what the kiosk holds besides this batch.
 * The device's time is stamped now, not when the body was made: the hub
 * takes the clock offset from it.
 */
static void launch(store *s, flight *f, int64_t left, int64_t dead, queue_say *qs)
{
	packed_wait(f);
	if (wire_push_restamp(f->body, clock_wall_ms()) == 0) {
		if (f->gz.p && f->gz.head)
			repack_head(&f->gz, f->body);
		else if (f->gz.p) /* the time is in what was compressed: make it again */
			free(f->gz.p), pack(f->body, strlen(f->body), wire_push_time_end(f->body), &f->gz);
	} else {
		size_t sent = 0;
		char *body =
		    wire_push_body_fit(store_device_id(s), clock_wall_ms(), f->b.r, f->sent, &sent, NULL, 0);
		if (body && sent == f->sent) { /* the time's digits grew: made again, not patched */
			free(f->body);
			free(f->gz.p);
			f->body = body;
			pack(f->body, strlen(f->body), wire_push_time_end(f->body), &f->gz);
		} else {
			free(body); /* the body as made, a little older */
		}
	}
	int64_t now = clock_mono_ms();
	f->queue[0] = '\0';
	if (!qs->at_ms || left <= 0 || now - qs->at_ms >= QUEUE_SAY_MS) {
		snprintf(f->queue, sizeof f->queue, "X-Tingzi-Queue: pending=%lld dead=%lld",
			 (long long)(left > 0 ? left : 0), (long long)dead);
		qs->at_ms = now ? now : 1;
	}
	f->threaded = pthread_create(&f->thread, NULL, fly, f) == 0;
	if (!f->threaded)
		fly(f);
}

/* Wait for f's answer. */
static void land(flight *f)
{
	if (f->threaded)
		pthread_join(f->thread, NULL);
	f->threaded = 0;
}

static void flight_free(flight *f)
{
	packed_wait(f);
	batch_clear(&f->b);
	free(f->b.r);
	free(f->b.seq);
	free(f->body);
	free(f->gz.p);
	memset(f, 0, sizeof *f);
}

static sync_result push(store *s, const sync_conf *conf, conn *k, sync_report *r)
{
	char url[SYNC_URL_MAX + 128];
	snprintf(url, sizeof url, "%s/v1/venues/%s/push", conf->hub_url, conf->venue_id);
	if (store_outbox_enqueue_local(s, clock_wall_ms(), NULL) != STORE_OK) {
		snprintf(r->error, sizeof r->error, "cannot queue local members: %s", store_errmsg(s));
		return SYNC_STORE;
	}
	/* counted once: a count of a long outbox for every batch cost more than the batch's answers */
	int64_t queued = store_outbox_count(s), dead = store_dead_letter_count(s), launched = 0;
	queue_say qs = {0};
	flight fl[2] = {{.k = k, .url = url, .conf = conf}, {.k = k, .url = url, .conf = conf}};
	flight *cur = &fl[0], *next = &fl[1];
	int size = SYNC_BATCH;
	sync_result res = SYNC_OK;
	char why[192];
	int got = 0;
	if (!(conf->cancel && *conf->cancel))
		got = prepare(s, cur, size, -1, why, sizeof why);
	if (got < 0) {
		snprintf(r->error, sizeof r->error, "%s", why);
		res = SYNC_STORE;
	}
	if (got <= 0)
		goto out;
	launched = (int64_t)cur->sent;
	launch(s, cur, queued - launched, dead, &qs);
	for (;;) {
		/*
		 * While cur is on its way: the batch after it. Only check-ins and
		 * the like are read ahead; members and events go from the start of
		 * the outbox once cur is answered. The batch is read before the look
		 * for members: a check-in is queued after its member, so a member
		 * that one of these check-ins names is either seen waiting (and
		 * this batch is dropped) or answered already.
		 */
		int ahead = 0;
		char ahead_why[192] = "";
		if (!(conf->cancel && *conf->cancel)) {
			ahead = prepare(s, next, size, cur->last_rest, ahead_why, sizeof ahead_why);
			if (ahead > 0 && firsts_waiting(s))
				ahead = 0;
		}
		land(cur);
		if (cur->rc == 0)
			r->bytes_up += cur->rp.up, r->bytes_down += cur->rp.down;
		if (cur->rc != 0) {
			snprintf(r->error, sizeof r->error, "push: %s", cur->why);
			res = SYNC_NETWORK;
			break;
		}
		if (cur->rp.status == 413 && size > 1) {
			/* the hub wants smaller batches: the same records again, fewer at a time */
			size /= 2;
			free(cur->rp.body.p);
			memset(&cur->rp, 0, sizeof cur->rp);
			launched -= (int64_t)cur->sent;
			got = conf->cancel && *conf->cancel ? 0 : prepare(s, cur, size, -1, why, sizeof why);
			if (got < 0) {
				snprintf(r->error, sizeof r->error, "%s", why);
				res = SYNC_STORE;
			}
			if (got <= 0)
				break;
			launched += (int64_t)cur->sent;
			launch(s, cur, queued - launched, dead, &qs);
			continue;
		}
		if (cur->rp.status != 200) {
			res = judge(&cur->rp, "push", r);
			break;
		}
		store_ack *acks;
		size_t n;
		int64_t removed = 0;
		int rc = wire_push_reply(cur->rp.body.p ? cur->rp.body.p : "", cur->rp.body.n, cur->b.r,
					 cur->sent, &acks, &n, &r->offset_ms, why, sizeof why);
		free(cur->rp.body.p);
		memset(&cur->rp, 0, sizeof cur->rp);
		if (rc != 0) {
			snprintf(r->error, sizeof r->error, "push: %s", why);
			res = SYNC_PROTOCOL;
			break;
		}
		/*
		 * The next push goes out before this one's answers are written
		 * down, so the hub stores it meanwhile; not when the hub answered
		 * for fewer records than were sent (those stay queued, and what was
		 * read ahead may have passed them).
		 */
		int go = ahead > 0 && n >= cur->sent && !(conf->cancel && *conf->cancel);
		if (go) {
			launched += (int64_t)next->sent;
			launch(s, next, queued - launched, dead + r->rejected, &qs);
		}
		store_err acked = store_outbox_ack(s, acks, n, clock_wall_ms(), &removed);
		for (size_t i = 0; acked == STORE_OK && i < n; i++) {
			r->ok += acks[i].status == STORE_ACK_OK;
			r->duplicate += acks[i].status == STORE_ACK_DUPLICATE;
			r->rejected += acks[i].status == STORE_ACK_REJECTED;
		}
		free(acks);
		if (acked != STORE_OK)
			snprintf(r->error, sizeof r->error, "cannot record the hub's answers: %s",
				 store_errmsg(s));
		else if (removed == 0) /* an answer about none of what was sent: do not loop */
			snprintf(r->error, sizeof r->error, "push: the hub answered for none of %zu records",
				 cur->sent);
		else
			r->sent += (int64_t)cur->sent;
		if (acked != STORE_OK || removed == 0) {
			res = acked != STORE_OK ? SYNC_STORE : SYNC_PROTOCOL;
			if (go) {
				/* its records stay queued: they go again, "duplicate" for what the hub has */
				land(next);
				if (next->rc == 0)
					r->bytes_up += next->rp.up, r->bytes_down += next->rp.down;
				free(next->rp.body.p);
			}
			break;
		}
		flight *t = cur;
		cur = next, next = t;
		if (go)
			continue;
		if (ahead < 0 && ahead_why[0] && !(conf->cancel && *conf->cancel)) {
			snprintf(r->error, sizeof r->error, "%s", ahead_why);
			res = SYNC_STORE;
			break;
		}
		/* nothing read ahead: from the start of the outbox, as the first batch */
		got = conf->cancel && *conf->cancel ? 0 : prepare(s, cur, size, -1, why, sizeof why);
		if (got < 0) {
			snprintf(r->error, sizeof r->error, "%s", why);
			res = SYNC_STORE;
		}
		if (got <= 0)
			break;
		launched += (int64_t)cur->sent;
		launch(s, cur, queued - launched, dead + r->rejected, &qs);
	}
out:
	free(cur->rp.body.p);
	flight_free(&fl[0]);
	flight_free(&fl[1]);
	return res;
}

/* ---- pull ---- */

/*
 * A pull request, on a thread of its own: while the hub makes one page,
 * the kiosk checks and writes down the page before. The next page is asked
 * for from the page's "next" as wire_pull_peek() reads it before the page
 * is parsed; when the parsed page says otherwise, that answer is thrown
 * away and the right page asked for. A first pull of 100 000 members
 * spent 0.55 s waiting for pages and 0.6 s checking and staging them, one
 * after the other.
 */
typedef struct fetch {
	conn *k;
	const sync_conf *conf;
	char url[SYNC_URL_MAX + 160];
	int64_t since;
	int limit;
	reply rp;
	int rc;
	char why[192];
	pthread_t thread;
	int threaded;
} fetch;

static void *fetch_main(void *arg)
{
	fetch *f = arg;
	f->rc = request(f->k, "GET", f->url, f->conf->token, NULL, NULL, NULL, f->conf->cancel, &f->rp, f->why,
			sizeof f->why);
	return NULL;
}

/* Ask for the page of set after since; on a thread when wait is 0 (fetch_land() then). */
static void fetch_launch(fetch *f, store_set set, int64_t since, int limit, int wait)
{
	snprintf(f->url, sizeof f->url, "%s/v1/venues/%s/pull/%s?since=%lld&limit=%d", f->conf->hub_url,
		 f->conf->venue_id, store_set_name(set), (long long)since, limit);
	f->since = since;
	f->limit = limit;
	f->threaded = !wait && pthread_create(&f->thread, NULL, fetch_main, f) == 0;
	if (!f->threaded)
		fetch_main(f);
}

static void fetch_land(fetch *f)
{
	if (f->threaded)
		pthread_join(f->thread, NULL);
	f->threaded = 0;
}

/* An answer not used: waited for and dropped. */
static void fetch_drop(fetch *f)
{
	fetch_land(f);
	free(f->rp.body.p);
	memset(&f->rp, 0, sizeof f->rp);
}

static sync_result pull_set(store *s, const sync_conf *conf, conn *k, store_set set, sync_report *r)
{
	int64_t cursor;
	int resetting;
	if (store_pull_cursor(s, set, &cursor, &resetting, NULL) != STORE_OK) {
		snprintf(r->error, sizeof r->error, "cannot read the pull cursor: %s", store_errmsg(s));
		return SYNC_STORE;
	}
	int64_t since = resetting ? 0 : cursor; /* a snapshot cut short starts again */
	int snapshot = 0, page_no = 0;
	char why[192];
	fetch fl[2] = {{.k = k, .conf = conf}, {.k = k, .conf = conf}};
	fetch *cur = &fl[0], *ahead = &fl[1];
	int early = 0; /* ahead is on its way */
	sync_result res = SYNC_PROTOCOL;
	fetch_launch(cur, set, since, since == 0 ? SYNC_SNAPSHOT_PAGE : SYNC_BATCH, 1);
	for (int pages = 0; pages < MAX_PAGES && !(conf->cancel && *conf->cancel); pages++) {
		fetch_land(cur);
		reply *rp = &cur->rp;
		if (cur->rc != 0) {
			snprintf(r->error, sizeof r->error, "pull %s: %s", store_set_name(set), cur->why);
			res = SYNC_NETWORK;
			goto out;
		}
		r->bytes_up += rp->up, r->bytes_down += rp->down;
		if (rp->status == 404 && set == STORE_SET_PASSES) {
			res = SYNC_OK; /* a hub from before signed passes: nothing to check them with */
			goto out;
		}
		if (rp->status != 200) {
			res = judge(rp, "pull", r);
			goto out;
		}
		const char *body = rp->body.p ? rp->body.p : "";
		int64_t guess;
		int guess_more;
		if (pages + 1 < MAX_PAGES && wire_pull_peek(body, rp->body.n, &guess, &guess_more) == 0 && guess_more &&
		    guess > since && !(conf->cancel && *conf->cancel)) {
			fetch_launch(ahead, set, guess, cur->limit, 0);
			early = 1;
		}
		wire_page pg;
		int rc = wire_pull_reply(body, rp->body.n, set, since, &pg, why, sizeof why);
		free(rp->body.p);
		memset(rp, 0, sizeof *rp);
		if (rc != 0) {
			snprintf(r->error, sizeof r->error, "pull %s: %s", store_set_name(set), why);
			res = SYNC_PROTOCOL;
			goto out;
		}
		if (pg.reset) { /* this page begins a full snapshot */
			snapshot = 1;
			page_no = 0;
		}
		store_err err = snapshot ? store_pull_stage(s, set, page_no++, pg.items, clock_wall_ms())
					 : store_pull_apply(s, set, pg.items, pg.next, clock_wall_ms());
		if (err == STORE_OK && snapshot && !pg.more)
			err = store_pull_swap(s, set, pg.next, clock_wall_ms());
		r->pulled[set] += (int64_t)pg.count;
		wire_page_free(&pg);
		if (err != STORE_OK) {
			snprintf(r->error, sizeof r->error, "cannot apply the %s page: %s", store_set_name(set),
				 store_errmsg(s));
			res = SYNC_STORE;
			goto out;
		}
		if (!pg.more) {
			res = SYNC_OK;
			goto out;
		}
		if (pg.next <= since && !(pg.reset && since > 0)) {
			snprintf(r->error, sizeof r->error, "pull %s: the hub says more but does not move on",
				 store_set_name(set));
			res = SYNC_PROTOCOL;
			goto out;
		}
		since = pg.next;
		int limit = snapshot ? SYNC_SNAPSHOT_PAGE : SYNC_BATCH;
		if (early && ahead->since != since) {
			fetch_drop(ahead); /* asked for the wrong page: the right one now */
			early = 0;
		}
		if (!early)
			fetch_launch(ahead, set, since, limit, 1);
		early = 0;
		fetch *t = cur;
		cur = ahead, ahead = t;
	}
	if (conf->cancel && *conf->cancel) {
		snprintf(r->error, sizeof r->error, "pull %s: stopped", store_set_name(set));
		res = SYNC_NETWORK;
	} else {
		snprintf(r->error, sizeof r->error, "pull %s: more than %d pages", store_set_name(set), MAX_PAGES);
		res = SYNC_PROTOCOL;
	}
out:
	if (early)
		fetch_drop(ahead);
	fetch_drop(cur);
	return res;
}

sync_result sync_round(store *s, const sync_conf *conf, sync_report *r)
{
	memset(r, 0, sizeof *r);
	store_err locked = store_sync_lock(s, SYNC_LOCK_WAIT_MS, conf->cancel);
	if (locked != STORE_OK) {
		snprintf(r->error, sizeof r->error, "%s", store_errmsg(s));
		r->result = locked == STORE_ERR_BUSY ? SYNC_BUSY : SYNC_STORE;
		r->waiting = store_outbox_count(s);
		return r->result;
	}
	conn own = {0}, *k = conf->conn ? conf->conn : &own;
	sync_result res = push(s, conf, k, r);
	if (res != SYNC_AUTH) {
		/* pulling goes on while an upload is failing */
		char first[sizeof r->error];
		long status = r->http_status;
		snprintf(first, sizeof first, "%s", r->error);
		for (int set = 0; set < STORE_SET_COUNT; set++) {
			sync_result p = pull_set(s, conf, k, (store_set)set, r);
			if (p != SYNC_OK) {
				if (res == SYNC_OK)
					res = p;
				else
					snprintf(r->error, sizeof r->error, "%s", first),
					    r->http_status = status;
				break;
			}
		}
	}
	conn_close(&own);
	store_sync_unlock(s);
	r->result = res;
	r->waiting = store_outbox_count(s);
	return res;
}

/* ---- enrolment ---- */

sync_result sync_enroll(store *s, const char *hub_url, const char *code, const char *name, wire_enrolled *out,
			char *why, size_t len)
{
	size_t n = strlen(hub_url);
	while (n > 0 && hub_url[n - 1] == '/')
		n--;
	if (n == 0 || n >= SYNC_URL_MAX ||
	    !(strncmp(hub_url, "http://", 7) == 0 || strncmp(hub_url, "https://", 8) == 0)) {
		snprintf(why, len, "the hub address must be http:// or https:// and under %d bytes",
			 SYNC_URL_MAX);
		return SYNC_PROTOCOL;
	}
	if (sodium_init() < 0) {
		snprintf(why, len, "cannot start libsodium");
		return SYNC_STORE;
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char pk_hex[2 * sizeof pk + 1], sk_hex[2 * sizeof sk + 1], base[SYNC_URL_MAX], url[SYNC_URL_MAX + 32];
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(pk_hex, sizeof pk_hex, pk, sizeof pk);
	sodium_bin2hex(sk_hex, sizeof sk_hex, sk, sizeof sk);
	sodium_memzero(sk, sizeof sk);
	snprintf(base, sizeof base, "%.*s", (int)n, hub_url);
	snprintf(url, sizeof url, "%s/v1/enroll", base);
	char *body = wire_enroll_body(code, store_device_id(s), name, pk_hex);
	reply rp;
	int rc = body ? request(NULL, "POST", url, NULL, NULL, body, NULL, NULL, &rp, why, len) : -1;
	free(body);
	sync_result res = SYNC_OK;
	if (rc != 0) {
		res = SYNC_NETWORK;
	} else if (rp.status != 201 && rp.status != 200) {
		sync_report r = {0};
		res = judge(&rp, "enrol", &r);
		snprintf(why, len, "%s", r.error);
	} else if (wire_enroll_reply(rp.body.p ? rp.body.p : "", rp.body.n, out, why, len) != 0) {
		res = SYNC_PROTOCOL;
	} else if (store_setting_set(s, "hub_url", base) != STORE_OK ||
		   store_setting_set(s, "hub_token", out->token) != STORE_OK ||
		   store_setting_set(s, "hub_venue", out->venue_id) != STORE_OK ||
		   store_setting_set(s, "sign_public", pk_hex) != STORE_OK ||
		   store_setting_set(s, "sign_secret", sk_hex) != STORE_OK) {
		snprintf(why, len, "cannot save the enrolment: %s", store_errmsg(s));
		res = SYNC_STORE;
	}
	sodium_memzero(sk_hex, sizeof sk_hex);
	free(rp.body.p);
	return res;
}

/* ---- the worker ---- */

struct sync_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_int stop; /* read by libcurl's progress callback, set by sync_worker_stop() */
	int kicked;
	char *db_path;
	sync_status status;
	void (*changed)(void *ctx);
	void *ctx;
};

static int64_t interval_ms(void)
{
	pthread_once(&env_once, env_read);
	return env_interval_ms;
}

/* Wait on the worker's condition until ms pass, a kick or stop; lock held. */
static void wait_locked(sync_worker *w, int64_t ms)
{
	struct timespec until; /* on the monotonic clock (the condition's, see sync_worker_start) */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	while (!w->stop && !w->kicked && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
		;
	w->kicked = 0;
}

/*
 * The worker: a round, then a wait (the interval, or a back-off after a
 * failure), until stopped. A kiosk that is not enrolled keeps no database
 * connection open between its looks at the settings.
 */
static void *worker_main(void *arg)
{
	sync_worker *w = arg;
	store *s = NULL;
	char err[256];
	int failures = 0;
	sync_conn *keep = sync_conn_new(); /* NULL: a connection a round */
	for (;;) {
		sync_conf conf;
		sync_report r = {0};
		int enrolled = 0;
		sync_result res = SYNC_OK;
		if (!s && store_open(w->db_path, 0, &s, err, sizeof err) != STORE_OK) {
			res = SYNC_STORE;
			snprintf(r.error, sizeof r.error, "%s", err);
		} else {
			enrolled = sync_conf_load(s, &conf) == 0;
			conf.cancel = &w->stop;
			conf.conn = keep;
			if (enrolled)
				res = sync_round(s, &conf, &r);
		}
		int64_t wait = interval_ms();
		if (enrolled) {
			/* SYNC_BUSY: another round ran meanwhile, neither a success nor a failure */
			if (res != SYNC_BUSY)
				failures = res == SYNC_OK ? 0 : failures + 1;
			wait = sync_next_wait_ms(res, failures, r.retry_after_s, wait,
						 (double)randombytes_uniform(1000) / 1000.0);
		}
		pthread_mutex_lock(&w->lock);
		w->status.enrolled = enrolled;
		w->status.rounds++;
		w->status.wait_ms = wait;
		w->status.online = enrolled && res != SYNC_NETWORK;
		w->status.auth_failed = res == SYNC_AUTH;
		if (s) {
			w->status.waiting = store_outbox_count(s);
			w->status.dead = store_dead_letter_count(s);
		}
		if (enrolled && res == SYNC_OK)
			w->status.last_ok_ms = clock_wall_ms();
		for (int set = 0; set < STORE_SET_COUNT; set++)
			w->status.pulled += r.pulled[set];
		snprintf(w->status.error, sizeof w->status.error, "%s",
			 res == SYNC_OK || res == SYNC_BUSY ? "" : r.error);
		pthread_mutex_unlock(&w->lock);
		if (!enrolled) {
			store_close(s);
			s = NULL;
		}
		if (w->changed)
			w->changed(w->ctx);
		pthread_mutex_lock(&w->lock);
		wait_locked(w, wait);
		int stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
	}
	sync_conn_free(keep);
	store_close(s);
	return NULL;
}

sync_worker *sync_worker_start(const char *db_path, void (*changed)(void *ctx), void *ctx)
{
	pthread_once(&env_once, env_read); /* here, before the worker's thread exists */
	sync_worker *w = calloc(1, sizeof *w);
	if (!w || !(w->db_path = strdup(db_path)) || sodium_init() < 0) {
		if (w)
			free(w->db_path);
		free(w);
		return NULL;
	}
	w->changed = changed;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	/* waits are measured on the monotonic clock: a wall clock stepped back
	 * by NTP must not stretch the worker's sleep */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		free(w->db_path);
		free(w);
		return NULL;
	}
	return w;
}

void sync_worker_status(sync_worker *w, sync_status *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->status;
	pthread_mutex_unlock(&w->lock);
}

void sync_worker_kick(sync_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void sync_worker_stop(sync_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->db_path);
	free(w);
}
