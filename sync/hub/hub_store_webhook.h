/*
 * hub_store_webhook — what the store keeps of webhooks (part of hub_store.h's
 * interface; hub_store_sqlite_webhook.c and hub_store_pg_webhook.c fill it).
 *
 * The queue is the store's table of events, written by triggers in the
 * transaction of each change (schema 6 / PostgreSQL 3), so a change and its
 * event are kept together or not at all. A subscription reads the events of
 * its venue in order from its cursor; one node at a time holds it (a lease),
 * so its events leave in order; what a receiver answered is kept per attempt.
 * Delivery itself (HTTP, signatures, back-off) is hub_webhook_worker.c's.
 */
#ifndef TINGZI_HUB_STORE_WEBHOOK_H
#define TINGZI_HUB_STORE_WEBHOOK_H

#include <stdint.h>

/* hub_store.h includes this after its hub_err; hub_store itself: */
typedef struct hub_store hub_store;

#define HUB_WEBHOOK_TYPES_MAX 256
#define HUB_WEBHOOK_WHY_MAX   256

typedef struct hub_webhook {
	char id[33];
	char venue_id[33];
	char url[1025];
	char types[HUB_WEBHOOK_TYPES_MAX]; /* comma list of event types */
	char secret[64];		   /* "whsec_..." */
	char created_by[33];		   /* a console user's id, or "" (the command line) */
	int64_t created_ms;
	int64_t disabled_ms; /* 0: on */
	char disabled_why[HUB_WEBHOOK_WHY_MAX];
	int64_t cursor;	 /* the last event delivered or given up */
	int attempts;	 /* failed attempts at the event after cursor */
	int64_t next_ms; /* not before this */
	int64_t waiting; /* (list only) events of the venue after cursor */
} hub_webhook;

typedef struct hub_webhook_event {
	int64_t seq;
	const char *type, *body; /* body: the data object, JSON */
	int64_t created_ms;
} hub_webhook_event;

typedef struct hub_webhook_delivery {
	int64_t id, event_seq, at_ms, ms;
	int attempt, status; /* status 0: no answer */
	char type[32];
	char outcome[16]; /* delivered, failed, gave_up, disabled */
	char why[HUB_WEBHOOK_WHY_MAX];
} hub_webhook_delivery;

/* After a batch of attempts: where the subscription stands. */
typedef struct hub_webhook_progress {
	int64_t cursor;
	int attempts;
	int64_t next_ms;
	int64_t disabled_ms; /* non-zero: the subscription is turned off now, for disabled_why */
	const char *disabled_why;
	const hub_webhook_delivery *d; /* the attempts to keep, n of them */
	int n;
} hub_webhook_progress;

typedef struct hub_webhook_ops {
	/* w->id, venue_id, url, types, secret, created_by, created_ms: a new subscription. Its cursor
	 * starts at the venue's newest event: it hears of what happens from now on. */
	hub_err (*add)(hub_store *st, hub_webhook *w);
	hub_err (*get)(hub_store *st, const char *id, hub_webhook *out);
	/* A venue's (NULL: every venue's), newest first, with out->waiting counted. */
	hub_err (*each)(hub_store *st, const char *venue_id, int (*fn)(const hub_webhook *w, void *ctx), void *ctx);
	/* Off (disabled_ms > 0, with why) or on again (0: from where it stood, attempts reset). */
	hub_err (*set_disabled)(hub_store *st, const char *id, int64_t disabled_ms, const char *why);
	/* Gone, with its deliveries. */
	hub_err (*remove)(hub_store *st, const char *id);
	/*
	 * A subscription whose turn it is, for node: on, due (next_ms <= now), with an event after its
	 * cursor, and not held by another node (or its lease ran out). It is held by node for lease_ms.
	 * HUB_NOT_FOUND: none is due.
	 */
	hub_err (*lease)(hub_store *st, const char *node, int64_t now_ms, int64_t lease_ms, hub_webhook *out);
	/* Let go of a subscription (node's lease ends now). */
	hub_err (*release)(hub_store *st, const char *id, const char *node);
	/* The venue's events after seq, in order, at most limit. */
	hub_err (*events)(hub_store *st, const char *venue_id, int64_t after, int limit,
			  int (*fn)(const hub_webhook_event *e, void *ctx), void *ctx);
	/* Keep a batch's attempts and move the subscription on, if node still holds it (else HUB_NOT_FOUND:
	 * another node took it over, and this batch's outcome is left to it). */
	hub_err (*progress)(hub_store *st, const char *id, const char *node, const hub_webhook_progress *p);
	/* A subscription's attempts, newest first, at most limit. */
	hub_err (*deliveries)(hub_store *st, const char *id, int limit,
			      int (*fn)(const hub_webhook_delivery *d, void *ctx), void *ctx);
	/*
	 * The events the clock makes, each once: event.started (an event began in the last hour),
	 * link.expiring (a link ends within 48 hours), device.offline (a kiosk not seen for 30 minutes,
	 * once for each time it was last seen); only for venues with a subscription on. *made: how many.
	 */
	hub_err (*clock)(hub_store *st, int64_t now_ms, int *made);
} hub_webhook_ops;

#endif
