/*
 * client — the kiosk's sync with tingzi-hub over HTTP (libcurl): enrolment,
 * one round of push and pull, and the background worker the kiosk runs.
 * The protocol is sync/PROTOCOL.md; the JSON is wire.c; the database side is
 * store_sync.c.
 *
 * A round pushes the outbox in batches until it is empty or a batch fails,
 * then pulls members, events and links, also when the push failed (a stuck
 * upload never stops the roster from coming down). Nothing here touches SDL.
 */
#ifndef TINGZI_CLIENT_H
#define TINGZI_CLIENT_H

#include "app/store/store.h"
#include "app/sync/wire.h"

#include <stdint.h>

#define SYNC_BATCH             1000
/*
 * Each data set is pulled SYNC_BATCH items a page, and a snapshot (a
 * new kiosk's first pull, or a reset) SYNC_SNAPSHOT_PAGE a page: the most the
 * hub gives (sync/PROTOCOL.md), so a first pull of 100 000 members takes 20
 * round trips rather than 100.
 */
#define SYNC_SNAPSHOT_PAGE     5000
#define SYNC_URL_MAX           256
#define SYNC_BACKOFF_MS        300000 /* the longest wait between failed rounds */
#define SYNC_RETRY_AFTER_MAX_S 300    /* a hub's Retry-After is obeyed up to this */

/*
 * A connection to the hub kept from one round to the next (HTTP keep-alive,
 * and the TLS session with it): a kiosk that syncs every few seconds makes
 * one TCP and TLS handshake, not one a round. One that the hub or a proxy
 * closed meanwhile is opened again by itself. Used by one round at a time.
 */
typedef struct sync_conn sync_conn;
sync_conn *sync_conn_new(void);
void sync_conn_free(sync_conn *c);

/* What enrolment saved in the kiosk's settings. */
typedef struct sync_conf {
	char hub_url[SYNC_URL_MAX]; /* http(s)://host[:port], no trailing slash */
	char token[WIRE_TOKEN_MAX];
	char venue_id[WIRE_VENUE_ID_MAX];
	const atomic_int *cancel; /* when set and non-zero, requests stop at once */
	sync_conn *conn;          /* kept between rounds; NULL: the round's own, closed at its end */
} sync_conf;

/* 0 when this kiosk is enrolled (conf filled, cancel NULL), -1 when not. */
int sync_conf_load(store *s, sync_conf *conf);

typedef enum sync_result {
	SYNC_OK = 0,
	SYNC_NETWORK,  /* no answer, 5xx or 429: try again after a back-off */
	SYNC_AUTH,     /* 401 or 403: the device is not (or no longer) let in */
	SYNC_PROTOCOL, /* 400, or a reply that is not what the protocol says */
	SYNC_STORE,    /* the local database failed */
	SYNC_BUSY,     /* another sync of this database ran all along: nothing wrong, nothing done */
} sync_result;

/* A short name for a result ("ok", "network", "auth", "protocol", "store", "busy"). */
const char *sync_strerror(sync_result res);

typedef struct sync_report {
	sync_result result; /* the first failure, or SYNC_OK */
	int64_t sent, ok, duplicate, rejected;
	int64_t pulled[STORE_SET_COUNT];
	int64_t waiting; /* outbox rows left */
	int64_t offset_ms;
	int64_t bytes_up, bytes_down; /* on the wire, headers included (not TLS framing) */
	long http_status;             /* of the failing request, 0 for none or a network error */
	int retry_after_s;            /* from a 429/503, at most SYNC_RETRY_AFTER_MAX_S */
	char error[320];              /* a sentence for the log and staff */
} sync_report;

/*
 * One round: push everything, then pull every set. One round at a time per
 * database (store_sync_lock): a round that finds another running waits for
 * it, up to SYNC_LOCK_WAIT_MS, and then answers SYNC_BUSY, not a failure.
 */
#define SYNC_LOCK_WAIT_MS 120000
sync_result sync_round(store *s, const sync_conf *conf, sync_report *r);

/*
 * Enrol with a hub: makes this device's signing key, sends the code, and
 * saves the hub address, token and venue in the settings. Returns SYNC_OK,
 * or another result with a sentence in why.
 */
sync_result sync_enroll(store *s, const char *hub_url, const char *code, const char *name, wire_enrolled *out,
			char *why, size_t len);

/* How long to wait after `failures` failed rounds in a row (0 for none): ms. */
int64_t sync_backoff_ms(int failures, double unit_random);
/*
 * How long to wait after a round that ended with res, the failures-th
 * failure in a row: interval_ms after a success, 15 minutes after the hub
 * refused the device, else the back-off; and at least the hub's Retry-After,
 * which is taken up to SYNC_RETRY_AFTER_MAX_S (a day's Retry-After waits
 * 300 s). In ms. A check-in still starts a round sooner (sync_worker_kick).
 */
int64_t sync_next_wait_ms(sync_result res, int failures, int retry_after_s, int64_t interval_ms,
			  double unit_random);

/* ---- the background worker ---- */

typedef struct sync_status {
	int enrolled;
	int online;      /* the last round reached the hub */
	int auth_failed; /* the hub refused this device */
	int64_t waiting; /* outbox rows after the last round */
	int64_t dead;    /* dead letters */
	int64_t last_ok_ms;
	int rounds;
	int64_t pulled;  /* items pulled since the worker started: when it moves, reload */
	int64_t wait_ms; /* the wait after the last round, unless kicked (sync_next_wait_ms) */
	char error[320];
} sync_status;

typedef struct sync_worker sync_worker;

/*
 * Start a worker with its own connection to db_path; NULL when it cannot.
 * changed(ctx), when not NULL, is called from the worker's thread after
 * every round, so a UI can look at the status (it must only post a wake-up).
 */
sync_worker *sync_worker_start(const char *db_path, void (*changed)(void *ctx), void *ctx);
void sync_worker_status(sync_worker *w, sync_status *out);
/* Start a round now (after check-ins, or "sync now" by staff), also during a
 * back-off or a Retry-After wait. */
void sync_worker_kick(sync_worker *w);
/* Finish the round under way, stop and free (NULL does nothing). */
void sync_worker_stop(sync_worker *w);

#endif
