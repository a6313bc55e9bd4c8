/*
 * hub_webhook_worker — the threads of `tingzi-hub serve` that deliver
 * webhooks from the store's queue (hub_store_webhook.h), at least once and in
 * order per subscription.
 *
 * Each sender takes a subscription whose turn it is (a lease in the store, so
 * that of several nodes one sends at a time), reads the events after its
 * cursor, and posts them one by one (hub_webhook.c): a 2xx moves the cursor
 * on; a 410 turns the subscription off; an address the hub may not send to
 * turns it off with the reason; anything else waits, 5 s after the first
 * failure, doubling up to an hour (with a fifth either way of jitter), and an
 * event still undelivered 3 days after it happened is given up (kept in the
 * list of deliveries as such) so that the ones after it can go. A store is
 * held only between posts, never during one: a slow receiver holds one sender,
 * not the check-ins' pushes. One sender also runs the clock's events every
 * 30 seconds (events started, links expiring, kiosks gone quiet).
 */
#ifndef TINGZI_HUB_WEBHOOK_WORKER_H
#define TINGZI_HUB_WEBHOOK_WORKER_H

#include "sync/hub/hub_pool.h"

#define HUB_WEBHOOK_SENDERS    2
#define HUB_WEBHOOK_TIMEOUT_MS 5000
#define HUB_WEBHOOK_GIVE_UP_MS (3LL * 24 * 3600 * 1000)

typedef struct hub_webhook_worker hub_webhook_worker;

typedef struct hub_webhook_worker_conf {
	hub_pool *pool;
	int allow_private; /* send to loopback and private addresses too (serve --webhooks-private) */
	int senders;	   /* 0: HUB_WEBHOOK_SENDERS */
	int timeout_ms;	   /* one attempt; 0: HUB_WEBHOOK_TIMEOUT_MS */
	int poll_ms;	   /* how often an idle sender looks; 0: 200 */
} hub_webhook_worker_conf;

/* Start the senders; NULL with why. */
hub_webhook_worker *hub_webhook_worker_start(const hub_webhook_worker_conf *c, char *why, size_t len);
/* Something was queued: an idle sender looks now rather than at its next poll. */
void hub_webhook_worker_kick(hub_webhook_worker *w);
/* Stop after the attempts under way (each at most timeout_ms); frees w. */
void hub_webhook_worker_stop(hub_webhook_worker *w);

/* The body a receiver gets: {"type", "timestamp" (ISO 8601, UTC), "data"}; malloc'd. */
char *hub_webhook_payload(const char *type, int64_t created_ms, const char *data);
/* 1 when type is in the comma list types. */
int hub_webhook_wants(const char *types, const char *type);
/* The known event types, NULL-terminated. */
extern const char *const hub_webhook_types[];
/* A comma list of event types checked: 0, or -1 with the first unknown one named in why. */
int hub_webhook_types_check(const char *types, char *why, size_t len);

#endif
