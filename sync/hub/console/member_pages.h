/*
 * member_pages — the hub's pages for members (not organizers), on phones:
 *   GET  /m/SLUG[?ref=CODE][&lang=...]  a venue's sign-up form
 *   POST /m/SLUG                         sign up: a new member, a pass, a private address
 *   GET  /p/TOKEN                        the pass page at a private address (printable as a card)
 *   GET  /p/TOKEN.png                    the pass's QR code as a PNG
 *   GET  /m/member.css                   their stylesheet
 * in zh-Hans, zh-Hant and English (the console's catalogs), working with
 * JavaScript off. Rate limits live here, per hub process (in memory): per
 * client address and per venue; a limited request is answered 429 with
 * Retry-After before it touches the store.
 *
 * hub_http.c hands over every request whose path starts /m/ or /p/, body
 * read (at most MEMBER_MAX_BODY), with the server's pool: a page takes a
 * store only around each call to it, so a sign-up holds the one store of a
 * SQLite hub for one short transaction, never for the page's rendering.
 */
#ifndef TINGZI_HUB_MEMBER_PAGES_H
#define TINGZI_HUB_MEMBER_PAGES_H

#include "sync/hub/console/console.h"
#include "sync/hub/hub_pool.h"

#define MEMBER_MAX_BODY 16384 /* bytes of a sign-up form */

/* Sign-ups from one client address, and to one venue, in a minute (a burst of that many, then one at a time). */
#define MEMBER_SIGNUPS_PER_ADDRESS 5
#define MEMBER_SIGNUPS_PER_VENUE   60
/* Pages (forms, passes, PNGs) from one client address in a minute. */
#define MEMBER_PAGES_PER_ADDRESS 120

typedef struct member_pages member_pages;

typedef struct member_config {
	const unsigned char *kek; /* the key file's key (32 bytes), or NULL: no passes are signed */
	const char *public_url;	  /* how phones reach the hub, or NULL (the request's Host) */
	int tls;
	const char *assets_dir; /* where member.css is; NULL: as the console finds its assets */
	/* 0: the defaults above (tests may lower them) */
	unsigned signups_per_address, signups_per_venue, pages_per_address;
} member_config;

/* NULL with why. */
member_pages *member_pages_new(const member_config *cfg, char *why, size_t len);
void member_pages_free(member_pages *mp);

/* 1 when path is a member page's. */
int member_pages_owns(const char *path);

/* Answer rq (its st is ignored: stores are taken from pool). out as the console's; out->retry_after for 429. */
void member_pages_handle(member_pages *mp, hub_pool *pool, const console_request *rq, console_response *out);

#endif
