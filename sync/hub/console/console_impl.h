/*
 * console_impl — what the console's pages are written with.
 *
 * A page is a function of a cx: the request, the signed-in user, the venue
 * the path names (already checked: the user may see it), the form, and an
 * html buffer to write into. Each page file exports a table of its routes,
 * ending with a row whose fn is NULL; console.c gathers the tables. Before a
 * page runs, console.c has checked the session, the role and the venue, and,
 * for every POST, the CSRF token: a page never checks those itself.
 *
 * Text: T(c, "English text") is the text in the page's language (the
 * tingzi-hub gettext catalogs, assets/po/hub/); N_() marks text in static
 * tables for xgettext. Values go into markup only through html_f's %s,
 * html_text() or html_user() (see html.h).
 */
#ifndef TINGZI_HUB_CONSOLE_IMPL_H
#define TINGZI_HUB_CONSOLE_IMPL_H

#include "sync/hub/console/console.h"
#include "sync/hub/console/form.h"
#include "sync/hub/console/html.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

#include <jansson.h>

#ifndef N_
#define N_(s) (s)

#endif

typedef enum console_lang { CL_ZH_HANS = 0, CL_ZH_HANT = 1, CL_EN = 2, CL_COUNT } console_lang;

#define CONSOLE_CSRF_LEN 43 /* base64url of 32 bytes */

typedef struct cx {
	console *con;
	hub_store *st;
	const console_request *rq;
	console_response *out;
	form form; /* the query's arguments and, for a POST, the body's fields */
	hub_user user;
	int signed_in;
	char csrf[CONSOLE_CSRF_LEN + 1]; /* what this session's forms carry */
	console_lang lang;
	hub_venue venue; /* the {v} of the path, when it has one */
	int has_venue;
	char id[HUB_ID_MAX]; /* the {id} of the path, when it has one (32 hex digits, not yet looked up) */
	hub_time_cache tc;
	html h;
} cx;

typedef struct console_route {
	const char *method;  /* "GET" or "POST" */
	const char *pattern; /* "/venues/{v}/members/{id}": {v} a venue id, {id} any 32-hex-digit id */
	hub_role role;	     /* the least role that may; HUB_ROLE_NONE: anyone, signed in or not */
	void (*fn)(cx *c);
} console_route;

/* The tables console.c gathers, one per page file. */
extern const console_route console_routes_account[]; /* console_account.c: login, set-up, account, users */
extern const console_route console_routes_venues[];  /* console_venues.c: venues, devices */
extern const console_route console_routes_members[]; /* console_members.c: members, import, export, merge */
extern const console_route console_routes_events[];  /* console_events.c: events, attendance, live count */
extern const console_route console_routes_links[];   /* console_links.c: links, live codes, posters */
extern const console_route console_routes_dash[];    /* console_dash.c: the community dashboard */
extern const console_route console_routes_passes[];  /* console_passes.c: sign-up page, signing keys, passes */
extern const console_route console_routes_webhooks[]; /* console_webhooks.c: subscriptions, deliveries */
extern const console_route console_routes_tokens[];   /* console_tokens.c: the open API's tokens */

/* ---- text ---- */
const char *T(const cx *c, const char *msgid);
const char *console_lang_tag(console_lang l); /* "zh-Hans", "zh-Hant", "en" */

/*
 * A sentence with values: SAY(c, "Showing %1$s of %2$s members.", a, b)
 * writes T(msgid) into the page with each %s (or %N$s, so a translation may
 * reorder them) replaced by a value, the sentence escaped as text and each
 * value as typed text (html_user). SAYF(c, buf, msgid, ...) writes the same
 * as plain text into buf (a char array), for a flash message or a field's
 * error. Values are strings: cx_num() makes one of a number.
 */
void cx_say_v(cx *c, const char *msgid, const char *const *args, size_t n);
/* The same with a sentence already translated, into any html buffer or into out. */
void html_fill(html *h, const char *translated, const char *const *args, size_t n);
const char *text_fill(char *out, size_t len, const char *translated, const char *const *args, size_t n);
const char *cx_sayf_v(cx *c, char *out, size_t len, const char *msgid, const char *const *args, size_t n);
const char *cx_num(int64_t v, char out[24]);
#define CX_ARGS(...)  ((const char *const[]){__VA_ARGS__, NULL})
#define CX_NARGS(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define SAY(c, msgid, ...) cx_say_v((c), (msgid), CX_ARGS(__VA_ARGS__), CX_NARGS(__VA_ARGS__))
#define SAYF(c, buf, msgid, ...) cx_sayf_v((c), (buf), sizeof(buf), (msgid), CX_ARGS(__VA_ARGS__), CX_NARGS(__VA_ARGS__))

/* ---- the page ---- */
/*
 * Start a page: the document head, the top bar (the venue's name and its
 * sections when the path names a venue; the account menu and the language
 * switch), and the flash message left by the last redirect. section names
 * the tab to mark ("members", "events", "links", "devices", "venue", "users",
 * "account", "dashboard", or NULL).
 */
void page_begin(cx *c, const char *title, const char *section);
void page_end(cx *c); /* closes the page; the response is 200 text/html unless already set */
/* A whole page that says message (already in the page's language), with status. */
void page_fail(cx *c, unsigned status, const char *message);
/* 303 See Other to the path built from fmt (hex ids and fixed words only; use html_urlencode for text). */
void page_redirect(cx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A message shown once at the top of the next page (after a redirect). */
void page_flash(cx *c, const char *message);
/* <form method=post action=...> with the CSRF token; enctype multipart when upload. */
void form_open(cx *c, const char *action, int upload);
void form_close(cx *c);

/*
 * End a card's table: </table>, then `empty` (text) when it had no rows, or
 * the sentence showing_msgid ("Showing %1$s of %2$s ...") when it showed fewer
 * than total, and the card's </section>.
 */
void page_table_end(cx *c, int64_t total, int64_t shown, const char *empty, const char *showing_msgid);

/* A download: body (malloc'd, now the response's) as type, saved as filename. */
void page_download(cx *c, const char *type, const char *filename, char *body, size_t len);
/* A JSON answer (for the live count), stealing j. */
void page_json(cx *c, json_t *j);

/* ---- the store ---- */
/* A store error as a page (500, or 503 when busy). */
void page_store_failed(cx *c, hub_err e);
/* Record a change made in the console (who, what, when); detail stolen (may be NULL). 0, or -1 (page failed). */
int console_audit(cx *c, const char *action, json_t *detail);

/* ---- small things ---- */
/* Append a copy of item (size bytes) to a growing array *items of *n (room for *cap): 0, or -1 out of memory. */
int cx_append(void **items, size_t *n, size_t *cap, const void *item, size_t size);
/* A time in the venue's zone ("2026-12-06 19:30"); into a buffer of 17. */
const char *cx_time(cx *c, int64_t ms, char out[17]);
/* How a check-in was made, in words: "code scanned", "walk-in", "API", ... (the method itself when unknown). */
const char *cx_method_name(cx *c, const char *method);
/* A phone masked for the screen ("138****5678"). */
void cx_mask_phone(const char *phone, char *out, size_t len);
/* The address the hub is reached at ("https://hub.example"), without a trailing slash. */
const char *cx_public_url(cx *c, char *out, size_t len);

/* ---- the framework's own (console.c, console_i18n.c) ---- */
void console_i18n_init(void);
void console_i18n_free(void);
const char *console_tr(console_lang lang, const char *msgid);
console_lang console_lang_accept(const char *accept_language);
int console_lang_parse(const char *tag, console_lang *out);

/* Set or end the session cookie (value NULL: ended). */
void console_set_session(cx *c, const char *value);
/* A new session for user: its id in the cookie, its hash in the store; the old one ended. 0, or -1 (page failed). */
int console_sign_in(cx *c, const hub_user *u);
/* The store's lock let go while fn runs (password hashing takes a tenth of a second and 32 MiB). */
void console_unlocked(cx *c, void (*fn)(void *arg), void *arg);
/* The key file's key the hub signs passes with, or NULL (started without one). */
const unsigned char *console_kek(const cx *c);
/* Whether webhooks may go to private addresses (serve --webhooks-private). */
int console_webhooks_private(const cx *c);
/* A member's pass card on their page (console_passes.c): 0, or -1 (page failed). */
int console_pass_card(cx *c, const hub_member *m);


#endif
