/*
 * hub_api — the hub's open API: JSON under /api/v1/ for a community's own
 * tools (a website, a form, a bot), described in sync/hub/openapi.json.
 *
 * Every request carries `Authorization: Bearer tzk_...`, a token made by
 * `tingzi-hub tokens add` or in the console, kept by the store as its
 * SHA-256 only. A token belongs to one venue and sees nothing of another
 * (another venue's member, event or check-in is 404, as if there were
 * none); a read token may only read (403 on a write). Revoked: 401 at its
 * next request.
 *
 * Limits: a token bucket per token in this process's memory (rate a
 * minute, a burst of as many, $TINGZI_HUB_API_RATE or HUB_API_RATE; 429
 * with Retry-After), HUB_API_MAX_BODY
 * bytes of body (413, decided by hub_http.c before the body is read), every
 * field checked (400 naming it in "field" and in the message). Errors have
 * the hub's shape, {"error": CODE, "message": ...}.
 *
 * A check-in carries its id, chosen by the client: it goes through the
 * store's push under the token's device id with method "api", exactly as
 * a kiosk's check-in (one row by id, attendance, visits, the dashboard).
 * Sent again it is answered "duplicate"; the same id with another member,
 * event or time is 409 naming the field.
 *
 * Audit: every write is a row of the console's audit log (who: the token's
 * name, action api.*); reads are counted per token and minute and written
 * as one api.reads row when the token's next minute starts (and when the
 * server stops).
 */
#ifndef TINGZI_HUB_API_H
#define TINGZI_HUB_API_H

#include "sync/hub/console/console.h"
#include "sync/hub/hub_pool.h"

#define HUB_API_MAX_BODY  65536 /* bytes of a request's body */
#define HUB_API_RATE	  600	/* requests a minute per token (a burst of as many) */
#define HUB_API_TOKEN_LEN 47	/* "tzk_" and 43 base64url characters of 32 random bytes */

typedef struct hub_api hub_api;

typedef struct hub_api_config {
	unsigned rate;		/* requests a minute per token; 0: $TINGZI_HUB_API_RATE, else HUB_API_RATE */
	const char *public_url; /* for live codes' addresses, or NULL (the request's Host) */
	int tls;
} hub_api_config;

hub_api *hub_api_new(const hub_api_config *cfg);
/* Writes the read counts not yet written (a store from pool), then frees a. */
void hub_api_free(hub_api *a, hub_pool *pool);

/* 1 when path is the API's (/api/...). */
int hub_api_owns(const char *path);
/* Answer rq (its body read whole; rq->st is ignored: stores are taken from pool around each call). */
void hub_api_handle(hub_api *a, hub_pool *pool, const console_request *rq, console_response *out);

/* The route table: method, path pattern ({uid}: an id) and the scope it needs ("read" or "write"). */
void hub_api_routes_each(void (*fn)(const char *method, const char *pattern, const char *scope, void *ctx),
			 void *ctx);

/* A new token's text (shown once) and the SHA-256 the store keeps. */
void hub_api_token_new(char text[HUB_API_TOKEN_LEN + 1], unsigned char hash[32]);

/* A new token of a venue, made and kept: t's venue_id, name, write and created_by given; id, device_id,
 * hash and created_ms filled in; the text into text (shown once). HUB_EXISTS: the name is taken. */
hub_err hub_api_token_make(hub_store *st, hub_api_token *t, int64_t now_ms, char text[HUB_API_TOKEN_LEN + 1]);

/* 1 when name is a token's name: 1 to 64 bytes of text. */
int hub_api_token_name_ok(const char *name);

#endif
