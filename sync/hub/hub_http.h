/*
 * hub_http — tingzi-hub's HTTP server (see sync/PROTOCOL.md).
 */
#ifndef TINGZI_HUB_HTTP_H
#define TINGZI_HUB_HTTP_H

#include "sync/hub/hub_pool.h"
#include "sync/hub/hub_webhook_worker.h"
#include "sync/hub/hub_store.h"

#define HUB_MAX_BODY	     (8u << 20)	 /* bytes of a push, as sent and after inflating */
#define HUB_ENROLL_MAX_BODY  4096u	 /* bytes of an enrolment, as sent and after inflating */
#define HUB_BODY_BUDGET	     (48u << 20) /* bytes of bodies all requests hold together */
#define HUB_MAX_CONNECTIONS  2000u
#define HUB_PER_ADDRESS	     32u /* connections from one client address */
#define HUB_IDLE_SECONDS     15u /* a connection that sends nothing for this long is closed */
#define HUB_REQUEST_SECONDS  60u /* one request, headers to answer */
#define HUB_FAILURES_PER_MINUTE 30u /* failed tokens and codes per address before 429 */
#define HUB_CONNECTION_MEMORY 16384u /* bytes of headers and buffers per connection */

/*
 * A /v1/enroll body read into dev (id, name, public_key; the rest zero) and
 * its enrolment code hashed into code_hash. 0, or -1 with an error code
 * (bad_json, bad_field) and a sentence in msg.
 */
int hub_enroll_parse(const char *body, size_t len, hub_device *dev, unsigned char code_hash[HUB_HASH_LEN],
		     const char **code, char *msg, size_t msglen);
/*
 * A pull's query arguments as given (NULL when absent): since (default 0)
 * and limit (default 1000, at most 5000). 0, or -1 with an error code
 * (bad_field, bad_limit) and a sentence.
 */
int hub_pull_query(const char *since_s, const char *limit_s, int64_t *since, int *limit, const char **code,
		   const char **msg);

typedef struct hub_serve_config {
	const char *listen;	  /* "ADDRESS:PORT" or "PORT"; NULL: 127.0.0.1:8420 */
	const char *public_url;	  /* how kiosks and phones reach the hub, for live codes;
				     NULL: http:// and the request's Host */
	const char *tls_cert, *tls_key; /* PEM files to serve HTTPS with (GnuTLS), or NULL */
	size_t max_body;	  /* 0: HUB_MAX_BODY */
	size_t body_budget;	  /* 0: HUB_BODY_BUDGET */
	unsigned max_connections; /* 0: HUB_MAX_CONNECTIONS */
	unsigned per_address;	  /* connections per client address; 0: no limit (behind a proxy) */
	unsigned request_seconds; /* 0: HUB_REQUEST_SECONDS */
	const char *trusted_proxy; /* the reverse proxy's IPv4 address whose X-Forwarded-For is believed, or NULL */
	const unsigned char *kek;  /* the key file's key (32 bytes), which passes are signed under, or NULL */
	unsigned signups_per_address, signups_per_venue; /* sign-ups a minute; 0: member_pages.h's defaults */
	int webhooks_private;	  /* webhooks may go to loopback and private addresses (a receiver on this network) */
	unsigned webhook_senders; /* 0: HUB_WEBHOOK_SENDERS */
} hub_serve_config;

/* Serve from the pool's stores until SIGINT or SIGTERM. Returns the exit status. */
int hub_serve(hub_pool *pool, const hub_serve_config *cfg);

#endif
