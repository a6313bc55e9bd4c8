/*
 * console — the organizer console: HTML pages served by tingzi-hub on its
 * own port, over its own store (see sync/hub/console/README.md).
 *
 * hub_http.c hands every request whose path is not the sync protocol's
 * (/v1/..., /j/...) to console_handle(), with its body already read, and
 * sends back what it answers. The console knows nothing of libmicrohttpd.
 * console_handle() is given a store of the server's pool for the request
 * (console_request.st); the console keeps nothing of one request for the
 * next but its caches, which check the store before they are used.
 */
#ifndef TINGZI_HUB_CONSOLE_H
#define TINGZI_HUB_CONSOLE_H

#include "sync/hub/hub_store.h"

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_MAX_BODY   (4u << 20) + 65536 /* a CSV upload of 4 MiB and its form */
#define CONSOLE_DRAIN_BODY (64u << 20)	      /* a larger body is read and dropped, to answer with a page */

typedef struct console console;

typedef struct console_config {
	const char *public_url; /* how browsers reach the hub, or NULL (http:// and the Host) */
	int tls;		/* served over HTTPS: cookies are Secure */
	const char *assets_dir; /* where console.css etc. are; NULL: found like the catalogs */
	const unsigned char *kek; /* the key file's key (32 bytes) passes are signed under, or NULL */
	int webhooks_private;	  /* webhooks may go to loopback and private addresses (serve --webhooks-private) */
} console_config;

console *console_new(hub_store *st, const console_config *cfg, char *why, size_t len);
void console_free(console *c);

enum { CONSOLE_HEADER, CONSOLE_QUERY };

typedef struct console_request {
	const char *method, *path; /* path without the query */
	/* A header (CONSOLE_HEADER) or query argument (CONSOLE_QUERY) by name, or NULL. */
	const char *(*get)(void *ctx, int kind, const char *name);
	void *ctx;
	/* Every query argument in turn (name, value); for the form reader. */
	void (*each_query)(void *ctx, void (*fn)(const char *name, const char *value, void *fctx), void *fctx);
	const char *body;
	size_t len;
	int body_too_large; /* the body was larger than CONSOLE_MAX_BODY and dropped */
	const char *client; /* the client's address, as text */
	int tls;	    /* came over HTTPS */
	/* Let go of the store and take one again (for slow work that needs no store); may be NULL. */
	void (*unlock)(void *ctx);
	hub_store *(*relock)(void *ctx);
	hub_store *st; /* the store to use (NULL: the console's own, from console_new) */
	int64_t now_ms;
} console_request;

#define CONSOLE_MAX_COOKIES 4

typedef struct console_response {
	unsigned status;
	const char *content_type; /* static text */
	char *body;		  /* malloc'd, or static when body_static */
	size_t len;
	int body_static;
	int cache;		/* 0: no-store; 1: a static asset, cacheable for a day */
	char location[1024];	/* for 30x */
	char cookies[CONSOLE_MAX_COOKIES][512];
	int ncookies;
	char disposition[256]; /* Content-Disposition, for downloads */
	char note[200];	       /* what the hub's log line adds */
	unsigned retry_after;  /* seconds, for a 429 or 503 (0: no Retry-After) */
} console_response;

/* 1 when path is the console's. */
int console_owns(const char *path);
void console_handle(console *c, const console_request *rq, console_response *out);
void console_response_free(console_response *r);

/* A one-time set-up token (base64url, 43 characters) and its SHA-256, which the store keeps. */
void console_setup_token(char token[44], unsigned char hash[HUB_HASH_LEN]);
#define CONSOLE_SETUP_HOURS 24

/* The route table, for `tingzi-hub console routes` and the tests. */
void console_routes_each(void (*fn)(const char *method, const char *pattern, const char *role, void *ctx), void *ctx);

#endif
