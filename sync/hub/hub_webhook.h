/*
 * hub_webhook — one delivery of a webhook: the checks that keep the hub from
 * being turned against the network it runs in (server-side request forgery),
 * the signature a receiver checks, and the POST itself.
 *
 * Signature: the "webhook-id / webhook-timestamp / webhook-signature" headers
 * of the Standard Webhooks scheme. The secret is shown to the organizer as
 * "whsec_" and the base64 of its bytes; the signature is "v1," and the base64
 * of HMAC-SHA256(secret bytes, id "." timestamp "." body). A receiver that
 * keeps the ids it has seen and refuses timestamps more than a few minutes
 * old refuses replays.
 *
 * Where a webhook may go: http or https, a host, no user name or password;
 * the host is resolved once and the request goes to that very address (no
 * second lookup a DNS answer could change in between); loopback, private,
 * link-local, shared (100.64/10), multicast and unspecified addresses are
 * refused unless the operator allows them (allow_private); redirects are not
 * followed; no proxy from the environment is used; short timeouts; at most
 * HUB_WEBHOOK_REPLY_MAX bytes of the answer are read.
 */
#ifndef TINGZI_HUB_WEBHOOK_H
#define TINGZI_HUB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HUB_WEBHOOK_SECRET_BYTES 24
#define HUB_WEBHOOK_SECRET_TEXT  48 /* "whsec_" + base64 of 24 bytes + NUL, rounded up */
#define HUB_WEBHOOK_SIG_TEXT     52 /* "v1," + base64 of 32 bytes + NUL */
#define HUB_WEBHOOK_REPLY_MAX    1024
#define HUB_WEBHOOK_URL_MAX      1024

/* A new secret, as the organizer copies it: "whsec_..." */
void hub_webhook_secret_new(char out[HUB_WEBHOOK_SECRET_TEXT]);
/* The bytes of a "whsec_..." secret: their count, or -1 when it is not one. */
int hub_webhook_secret_bytes(const char *text, uint8_t out[64]);

/* A subscription's URL as given: 0, or -1 with a sentence in why. */
int hub_webhook_url_check(const char *url, char *why, size_t len);

/* A subscription's URL checked as the hub will send to it: url_check, then its host resolved now and
 * refused when it leads to an address the hub may not send to (allow_private 0). 0, or -1 with why. */
int hub_webhook_url_allowed(const char *url, int allow_private, char *why, size_t len);

/* 1 when a webhook may reach addr only with the operator's leave. */
int hub_webhook_addr_private(const struct sockaddr *addr);

/* The webhook-signature header's value for one message. */
void hub_webhook_sign(const uint8_t *secret, size_t secret_len, const char *msg_id, int64_t ts_s,
		      const char *body, size_t body_len, char out[HUB_WEBHOOK_SIG_TEXT]);

typedef struct hub_webhook_reply {
	long status;  /* the receiver's HTTP status; 0 when none came */
	int refused;  /* 1 when the hub would not send it (the address); not a receiver's fault */
	double ms;    /* how long the attempt took */
	char why[256]; /* what went wrong, for the console's list of deliveries */
} hub_webhook_reply;

/*
 * POST body to url, signed as msg_id at ts_s. Returns 0 when the receiver
 * answered 2xx, else -1 (out says why; a 410 is out->status 410).
 */
int hub_webhook_post(const char *url, int allow_private, const char *msg_id, int64_t ts_s, const char *body,
		     size_t body_len, const uint8_t *secret, size_t secret_len, int timeout_ms,
		     hub_webhook_reply *out);

#endif
