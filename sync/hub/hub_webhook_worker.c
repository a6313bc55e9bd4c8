/* hub_webhook_worker — the senders of webhooks (see hub_webhook_worker.h). */
#include "sync/hub/hub_webhook_worker.h"

#include "sync/clock.h"
#include "sync/hub/hub_webhook.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH       100    /* events read at a time */
#define LEASE_MS    15000  /* a sender's hold on a subscription: a batch (and its last attempt) ends before it;
			    * after a crash another node takes the subscription over when it runs out */
#define BATCH_MS    5000   /* a batch stops taking new events after this */
#define CLOCK_MS    30000  /* the clock's events */
#define BACKOFF_MS  5000   /* after the first failure */
#define BACKOFF_MAX 3600000

const char *const hub_webhook_types[] = {"checkin.created", "checkin.reversed", "member.created",
					 "member.signed_up", "event.started", "link.expiring",
					 "device.offline", NULL};

int hub_webhook_wants(const char *types, const char *type)
{
	size_t n = strlen(type);
	for (const char *p = types; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, type, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int hub_webhook_types_check(const char *types, char *why, size_t len)
{
	if (!types || !types[0]) {
		snprintf(why, len, "no event types");
		return -1;
	}
	for (const char *p = types; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int known = 0;
		for (int i = 0; hub_webhook_types[i] && !known; i++)
			known = strlen(hub_webhook_types[i]) == n && strncmp(p, hub_webhook_types[i], n) == 0;
		if (!known) {
			snprintf(why, len, "unknown event type \"%.*s\" (known: checkin.created, checkin.reversed,"
				 " member.created, member.signed_up, event.started, link.expiring, device.offline)",
				 (int)(n < 40 ? n : 40), p);
			return -1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

char *hub_webhook_payload(const char *type, int64_t created_ms, const char *data)
{
	time_t t = (time_t)(created_ms / 1000);
	struct tm tm;
	char when[40];
	gmtime_r(&t, &tm);
	size_t k = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + k, sizeof when - k, ".%03dZ", (int)(created_ms % 1000));
	size_t len = strlen(type) + strlen(when) + strlen(data) + 48;
	char *out = malloc(len);
	if (out)
		snprintf(out, len, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}", type, when, data);
	return out;
}

struct hub_webhook_worker {
	hub_webhook_worker_conf c;
	pthread_t *threads;
	int started;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned kicks;
	char node[17];
	struct sender *senders;
};

typedef struct sender sender;
struct sender {
	hub_webhook_worker *w;
	int index;
	char node[32];
};

/* An event read from the store, kept while the store is given back. */
typedef struct held {
	int64_t seq, created_ms;
	char type[32];
	char *body;
} held;

typedef struct batch {
	held ev[BATCH];
	int n;
} batch;

static int take_event(const hub_webhook_event *e, void *ctx)
{
	batch *b = ctx;
	held *h = &b->ev[b->n];
	h->seq = e->seq;
	h->created_ms = e->created_ms;
	snprintf(h->type, sizeof h->type, "%s", e->type);
	h->body = strdup(e->body);
	if (!h->body)
		return 1;
	b->n++;
	return b->n == BATCH;
}

static void batch_free(batch *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->ev[i].body);
	b->n = 0;
}

static int64_t backoff(int attempts)
{
	int64_t ms = BACKOFF_MS;
	for (int i = 1; i < attempts && ms < BACKOFF_MAX; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX)
		ms = BACKOFF_MAX;
	/* a fifth either way, so that receivers coming back are not met by every hub at once */
	int64_t spread = ms / 5;
	return ms - spread + (int64_t)randombytes_uniform((uint32_t)(2 * spread + 1));
}

static void wait_kick(hub_webhook_worker *w, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	unsigned seen = w->kicks;
	while (!atomic_load(&w->stop) && w->kicks == seen)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			break;
	pthread_mutex_unlock(&w->mu);
}

/*
 * Send what is due of one subscription; how the batch ended goes into p
 * (its attempts in d). Returns the number of events it took care of.
 */
static int send_batch(sender *sd, const hub_webhook *sub, batch *b, hub_webhook_delivery *d,
		      hub_webhook_progress *p, char *disabled_why, size_t why_len)
{
	hub_webhook_worker *w = sd->w;
	uint8_t secret[64];
	int secret_len = hub_webhook_secret_bytes(sub->secret, secret);
	p->cursor = sub->cursor;
	p->attempts = sub->attempts;
	p->next_ms = 0;
	p->disabled_ms = 0;
	p->disabled_why = NULL;
	p->d = d;
	p->n = 0;
	int64_t started = clock_wall_ms();
	int done = 0;
	for (int i = 0; i < b->n && !atomic_load(&w->stop); i++) {
		const held *h = &b->ev[i];
		int64_t now = clock_wall_ms();
		if (!hub_webhook_wants(sub->types, h->type)) {
			p->cursor = h->seq; /* not asked for: passed over */
			done++;
			continue;
		}
		if (i > 0 && now - started > BATCH_MS)
			break;
		hub_webhook_delivery *dl = &d[p->n++];
		memset(dl, 0, sizeof *dl);
		dl->event_seq = h->seq;
		dl->at_ms = now;
		dl->attempt = p->attempts + 1;
		snprintf(dl->type, sizeof dl->type, "%s", h->type);
		if (now - h->created_ms > HUB_WEBHOOK_GIVE_UP_MS) {
			snprintf(dl->outcome, sizeof dl->outcome, "gave_up");
			snprintf(dl->why, sizeof dl->why, "not delivered within 3 days of the event");
			p->cursor = h->seq;
			p->attempts = 0;
			done++;
			continue;
		}
		if (secret_len < 0) {
			snprintf(dl->outcome, sizeof dl->outcome, "disabled");
			snprintf(disabled_why, why_len, "the subscription's secret cannot be read");
			snprintf(dl->why, sizeof dl->why, "%s", disabled_why);
			p->disabled_ms = now;
			p->disabled_why = disabled_why;
			break;
		}
		char *body = hub_webhook_payload(h->type, h->created_ms, h->body);
		char id[96];
		snprintf(id, sizeof id, "msg_%s_%lld", sub->venue_id, (long long)h->seq);
		hub_webhook_reply r;
		int rc = body ? hub_webhook_post(sub->url, w->c.allow_private, id, now / 1000, body, strlen(body), secret,
						 (size_t)secret_len, w->c.timeout_ms, &r)
			      : -1;
		if (!body) {
			memset(&r, 0, sizeof r);
			snprintf(r.why, sizeof r.why, "out of memory");
		}
		free(body);
		dl->status = (int)r.status;
		dl->ms = (int64_t)r.ms;
		snprintf(dl->why, sizeof dl->why, "%s", r.why);
		if (rc == 0) {
			snprintf(dl->outcome, sizeof dl->outcome, "delivered");
			p->cursor = h->seq;
			p->attempts = 0;
			done++;
			continue;
		}
		if (r.status == 410 || r.refused) {
			snprintf(dl->outcome, sizeof dl->outcome, "disabled");
			snprintf(disabled_why, why_len, "%s",
				 r.status == 410 ? "the receiver answered 410 Gone" : r.why);
			p->disabled_ms = now;
			p->disabled_why = disabled_why;
			break;
		}
		snprintf(dl->outcome, sizeof dl->outcome, "failed");
		p->attempts++;
		p->next_ms = now + backoff(p->attempts);
		break;
	}
	sodium_memzero(secret, sizeof secret);
	return done;
}

static void *run(void *arg)
{
	sender *sd = arg;
	hub_webhook_worker *w = sd->w;
	int64_t last_clock = 0;
	batch *b = calloc(1, sizeof *b);
	hub_webhook_delivery *d = calloc(BATCH, sizeof *d);
	if (!b || !d) {
		fprintf(stderr, "tingzi-hub: webhooks: out of memory\n");
		free(b);
		free(d);
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		hub_store *st = hub_pool_take(w->c.pool);
		int64_t now = clock_wall_ms();
		if (sd->index == 0 && now - last_clock >= CLOCK_MS) {
			int made = 0;
			if (st->ops->webhook->clock(st, now, &made) == HUB_OK)
				last_clock = now;
			if (made)
				fprintf(stderr, "tingzi-hub: webhooks: %d events from the clock\n", made);
		}
		hub_webhook sub;
		hub_err e = st->ops->webhook->lease(st, sd->node, now, LEASE_MS, &sub);
		if (e == HUB_OK)
			e = st->ops->webhook->events(st, sub.venue_id, sub.cursor, BATCH, take_event, b);
		hub_pool_give(w->c.pool, st);
		if (e != HUB_OK) {
			batch_free(b);
			wait_kick(w, e == HUB_NOT_FOUND ? w->c.poll_ms : 1000);
			continue;
		}
		hub_webhook_progress p;
		char why[HUB_WEBHOOK_WHY_MAX];
		send_batch(sd, &sub, b, d, &p, why, sizeof why);
		batch_free(b);
		st = hub_pool_take(w->c.pool);
		e = st->ops->webhook->progress(st, sub.id, sd->node, &p);
		if (e != HUB_OK)
			fprintf(stderr, "tingzi-hub: webhooks: %s: %s (its events go out again)\n", sub.id,
				hub_store_errmsg(st));
		st->ops->webhook->release(st, sub.id, sd->node);
		hub_pool_give(w->c.pool, st);
		if (p.disabled_ms)
			fprintf(stderr, "tingzi-hub: webhooks: %s turned off: %s\n", sub.id, p.disabled_why);
	}
	free(b);
	free(d);
	return NULL;
}

hub_webhook_worker *hub_webhook_worker_start(const hub_webhook_worker_conf *c, char *why, size_t len)
{
	hub_webhook_worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	w->c = *c;
	if (w->c.senders <= 0)
		w->c.senders = HUB_WEBHOOK_SENDERS;
	if (w->c.timeout_ms <= 0)
		w->c.timeout_ms = HUB_WEBHOOK_TIMEOUT_MS;
	if (w->c.poll_ms <= 0)
		w->c.poll_ms = 200;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	uint8_t r[8];
	randombytes_buf(r, sizeof r);
	sodium_bin2hex(w->node, sizeof w->node, r, sizeof r);
	w->threads = calloc((size_t)w->c.senders, sizeof *w->threads);
	sender *sd = calloc((size_t)w->c.senders, sizeof *sd);
	if (!w->threads || !sd) {
		snprintf(why, len, "out of memory");
		free(sd);
		hub_webhook_worker_stop(w);
		return NULL;
	}
	w->senders = sd;
	for (int i = 0; i < w->c.senders; i++) {
		sd[i].w = w;
		sd[i].index = i;
		/* each sender is a node of its own: two senders never hold one subscription */
		snprintf(sd[i].node, sizeof sd[i].node, "%s-%d", w->node, i);
		if (pthread_create(&w->threads[i], NULL, run, &sd[i]) != 0) {
			snprintf(why, len, "cannot start a webhook sender");
			hub_webhook_worker_stop(w);
			return NULL;
		}
		w->started++;
	}
	return w;
}

void hub_webhook_worker_kick(hub_webhook_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->kicks++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void hub_webhook_worker_stop(hub_webhook_worker *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, 1);
	hub_webhook_worker_kick(w);
	for (int i = 0; i < w->started; i++)
		pthread_join(w->threads[i], NULL);
	free(w->threads);
	free(w->senders);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
