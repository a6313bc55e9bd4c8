#define _GNU_SOURCE
/*
 * console — routing, sessions, CSRF, roles and venues, and the page frame
 * (see README.md in this folder and console_impl.h).
 *
 * Sessions: the cookie holds a random 256-bit id (base64url); the store
 * keeps only its SHA-256, so a copy of the database signs nobody in. A
 * session ends at logout, after 12 hours without a request, when its account
 * is disabled or its password changes, and a login always makes a new one.
 *
 * CSRF: a form carries SHA-256("csrf:" + the session id), which a page on
 * another site cannot know (it cannot read the cookie), and the cookie is
 * SameSite=Strict besides. The login form, before there is a session,
 * carries the same of a random pre-login cookie. Neither needs anything kept
 * on the server, so several hub processes agree on them.
 */
#include "sync/hub/console/console.h"
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/member_index.h"
#include "sync/roster/roster.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SESSION_IDLE_MS (12LL * 3600 * 1000)
#define COOKIE_SESSION	"tzs"
#define COOKIE_LOGIN	"tzl"
#define COOKIE_LANG	"tzlang"
#define COOKIE_FLASH	"tzflash"

typedef struct asset {
	const char *path, *file, *type;
	char *body;
	size_t len;
} asset;

struct console {
	hub_store *st;
	char public_url[512];
	int tls;
	asset assets[2];
	unsigned char kek[32];
	int has_kek;
	int webhooks_private;
};

static const console_route *const tables[] = {
    console_routes_account, console_routes_venues, console_routes_members, console_routes_events,
    console_routes_links, console_routes_dash, console_routes_passes, console_routes_webhooks,
    console_routes_tokens,
};

/* ---- set-up ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	char *b = NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size < (1 << 20) && (b = malloc((size_t)st.st_size + 1))) {
		if (fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			free(b);
			b = NULL;
		} else {
			b[st.st_size] = 0;
			*len = (size_t)st.st_size;
		}
	}
	fclose(f);
	return b;
}

console *console_new(hub_store *st, const console_config *cfg, char *why, size_t len)
{
	if (sodium_init() < 0) {
		snprintf(why, len, "libsodium cannot start");
		return NULL;
	}
	console *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	c->st = st;
	c->tls = cfg && cfg->tls;
	if (cfg)
		c->webhooks_private = cfg->webhooks_private;
	if (cfg && cfg->kek) {
		memcpy(c->kek, cfg->kek, sizeof c->kek);
		c->has_kek = 1;
	}
	if (cfg && cfg->public_url) {
		snprintf(c->public_url, sizeof c->public_url, "%s", cfg->public_url);
		size_t n = strlen(c->public_url);
		while (n && c->public_url[n - 1] == '/')
			c->public_url[--n] = 0;
		if (strncmp(c->public_url, "https://", 8) == 0)
			c->tls = 1;
	}
	c->assets[0] = (asset){"/static/console.css", "console.css", "text/css; charset=utf-8", NULL, 0};
	c->assets[1] = (asset){"/static/console.js", "console.js", "text/javascript; charset=utf-8", NULL, 0};
	const char *dirs[3] = {cfg && cfg->assets_dir ? cfg->assets_dir : getenv("TINGZI_CONSOLE_ASSETS"),
			       TINGZI_CONSOLE_ASSETS_BUILD, TINGZI_CONSOLE_ASSETS};
	for (size_t i = 0; i < 2; i++) {
		for (size_t d = 0; d < 3 && !c->assets[i].body; d++) {
			if (!dirs[d])
				continue;
			char path[1024];
			snprintf(path, sizeof path, "%s/%s", dirs[d], c->assets[i].file);
			c->assets[i].body = read_file(path, &c->assets[i].len);
		}
		if (!c->assets[i].body) {
			snprintf(why, len, "the console's %s is not installed (looked in %s and %s)", c->assets[i].file,
				 TINGZI_CONSOLE_ASSETS, TINGZI_CONSOLE_ASSETS_BUILD);
			console_free(c);
			return NULL;
		}
	}
	console_i18n_init();
	return c;
}

void console_free(console *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < 2; i++)
		free(c->assets[i].body);
	member_index_free_all();
	console_i18n_free();
	sodium_memzero(c->kek, sizeof c->kek);
	free(c);
}

/* ---- small things ---- */

static void b64(const unsigned char *bin, size_t n, char *out, size_t len)
{
	sodium_bin2base64(out, len, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* base64url(SHA-256(purpose + ":" + secret)) */
static void derive(const char *purpose, const char *secret, char out[CONSOLE_CSRF_LEN + 1])
{
	crypto_hash_sha256_state s;
	unsigned char h[32];
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)purpose, strlen(purpose));
	crypto_hash_sha256_update(&s, (const unsigned char *)":", 1);
	crypto_hash_sha256_update(&s, (const unsigned char *)secret, strlen(secret));
	crypto_hash_sha256_final(&s, h);
	b64(h, sizeof h, out, CONSOLE_CSRF_LEN + 1);
}

static const char *header(const cx *c, const char *name)
{
	return c->rq->get ? c->rq->get(c->rq->ctx, CONSOLE_HEADER, name) : NULL;
}

static void add_cookie(cx *c, const char *name, const char *value, long max_age)
{
	console_response *o = c->out;
	if (o->ncookies == CONSOLE_MAX_COOKIES)
		return;
	char age[48] = "";
	if (max_age >= 0)
		snprintf(age, sizeof age, "; Max-Age=%ld", max_age);
	snprintf(o->cookies[o->ncookies++], sizeof o->cookies[0], "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
		 name, value, age, c->con->tls || c->rq->tls ? "; Secure" : "");
}

void console_set_session(cx *c, const char *value)
{
	add_cookie(c, COOKIE_SESSION, value ? value : "", value ? -1 : 0);
}

const char *cx_time(cx *c, int64_t ms, char out[17])
{
	if (ms <= 0) {
		snprintf(out, 17, "—");
		return out;
	}
	hub_local_time(c->has_venue ? c->venue.tz : NULL, ms, &c->tc, out);
	return out;
}

int cx_append(void **items, size_t *n, size_t *cap, const void *item, size_t size)
{
	if (*n == *cap) {
		size_t more = *cap ? *cap * 2 : 16;
		void *grown = realloc(*items, more * size);
		if (!grown)
			return -1;
		*items = grown;
		*cap = more;
	}
	memcpy((char *)*items + *n * size, item, size);
	(*n)++;
	return 0;
}

void cx_mask_phone(const char *phone, char *out, size_t len)
{
	roster_mask_phone(phone ? phone : "", out, len);
}

const char *cx_public_url(cx *c, char *out, size_t len)
{
	if (c->con->public_url[0]) {
		snprintf(out, len, "%s", c->con->public_url);
		return out;
	}
	const char *host = header(c, "Host");
	/* only a plain host[:port] is used to build addresses people are shown */
	if (!host || !host[0] || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
		host = "127.0.0.1";
	snprintf(out, len, "%s://%s", c->con->tls || c->rq->tls ? "https" : "http", host);
	return out;
}

/* ---- answers ---- */

static void set_html(cx *c, unsigned status)
{
	console_response *o = c->out;
	if (!o->status)
		o->status = status;
	o->content_type = "text/html; charset=utf-8";
	free(o->body);
	o->body = html_take(&c->h, &o->len);
	if (!o->body) {
		o->status = 500;
		o->body = strdup("out of memory");
		o->len = o->body ? strlen(o->body) : 0;
		o->content_type = "text/plain; charset=utf-8";
	}
}

static void flash_show(cx *c)
{
	char raw[600], text[600];
	const char *ck = header(c, "Cookie");
	if (!ck || form_cookie(ck, COOKIE_FLASH, raw, sizeof raw) != 0 || !raw[0])
		return;
	/* percent-decoded; shown as text */
	size_t o = 0;
	for (size_t i = 0; raw[i] && o + 1 < sizeof text; i++) {
		unsigned hi, lo;
		if (raw[i] == '%' && raw[i + 1] && raw[i + 2] && sscanf(raw + i + 1, "%1x%1x", &hi, &lo) == 2) {
			text[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			text[o++] = raw[i];
		}
	}
	text[o] = 0;
	add_cookie(c, COOKIE_FLASH, "", 0);
	html_f(&c->h, "<div class=\"alert ok\" role=\"status\">%s</div>", text);
}

void page_flash(cx *c, const char *message)
{
	char enc[512];
	html_urlencode(message, enc, sizeof enc);
	add_cookie(c, COOKIE_FLASH, enc, 60);
}

typedef struct tab {
	const char *section, *label, *path;
	hub_role role;
} tab;

static const tab tabs[] = {
    {"venue", N_("Overview"), "", HUB_ROLE_STAFF},
    {"events", N_("Events"), "/events", HUB_ROLE_STAFF},
    {"dashboard", N_("Dashboard"), "/dashboard", HUB_ROLE_ORGANIZER},
    {"members", N_("Members"), "/members", HUB_ROLE_ORGANIZER},
    {"links", N_("Group links"), "/links", HUB_ROLE_ORGANIZER},
    {"devices", N_("Kiosks"), "/devices", HUB_ROLE_ORGANIZER},
    {"audit", N_("Changes"), "/audit", HUB_ROLE_ORGANIZER},
    {"passes", N_("Passes"), "/passes", HUB_ROLE_ORGANIZER},
    {"webhooks", N_("Webhooks"), "/webhooks", HUB_ROLE_ORGANIZER},
    {"tokens", N_("API tokens"), "/tokens", HUB_ROLE_ORGANIZER},
};

/* A query argument written again into a link (all but the language, which the link sets). */
static void keep_arg(const char *name, const char *value, void *ctx)
{
	html *h = ctx;
	if (strcmp(name, "lang") == 0 || strcmp(name, "csv") == 0)
		return;
	html_urlpart(h, name);
	html_f(h, "=");
	html_urlpart(h, value);
	html_f(h, "&amp;");
}

/* Marks the link of the section the page belongs to. */
static void current(html *h, const char *section, const char *this)
{
	if (section && strcmp(section, this) == 0)
		html_f(h, " aria-current=\"page\"");
}

void page_begin(cx *c, const char *title, const char *section)
{
	html *h = &c->h;
	html_f(h,
	       "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	       "<title>%s · tingzi</title><link rel=\"stylesheet\" href=\"/static/console.css\">"
	       "<link rel=\"icon\" href=\"data:,\">"
	       "<script src=\"/static/console.js\" defer></script></head><body>",
	       console_lang_tag(c->lang), title);
	html_f(h, "<header class=\"top\"><a class=\"brand\" href=\"/venues\">tingzi</a>");
	if (c->has_venue) {
		html_f(h, "<a class=\"venue-name\" href=\"/venues/%s\">", c->venue.id);
		html_user(h, c->venue.name);
		html_f(h, "</a>");
	}
	html_f(h, "<nav class=\"me\">");
	if (c->signed_in) {
		if (c->user.role == HUB_ROLE_OWNER) {
			/* every venue's numbers together: the owner's own dashboard */
			html_f(h, "<a href=\"/dashboard\"");
			current(h, c->has_venue ? NULL : section, "dashboard");
			html_f(h, ">%s</a>", T(c, "All venues' dashboard"));
			html_f(h, "<a href=\"/users\"");
			current(h, section, "users");
			html_f(h, ">%s</a>", T(c, "Users"));
		}
		html_f(h, "<a href=\"/account\" title=\"%s\"", c->user.email);
		current(h, section, "account");
		html_f(h, ">%s</a>", T(c, "Account"));
		form_open(c, "/logout", 0);
		html_f(h, "<button class=\"link\">%s</button>", T(c, "Sign out"));
		form_close(c);
	}
	html_f(h, "<span class=\"langs\">");
	static const char *const names[CL_COUNT] = {"简体", "繁體", "EN"};
	for (int l = 0; l < CL_COUNT; l++) {
		if ((int)c->lang == l)
			html_f(h, "<b lang=\"%s\">%s</b>", console_lang_tag((console_lang)l), names[l]);
		else {
			/* the path matched a route: fixed words and hex ids, nothing to encode; the query
			 * (a period, a search) is kept */
			html_f(h, "<a lang=\"%s\" href=\"%s?", console_lang_tag((console_lang)l), c->rq->path);
			if (c->rq->each_query)
				c->rq->each_query(c->rq->ctx, keep_arg, h);
			html_f(h, "lang=%s\">%s</a>", console_lang_tag((console_lang)l), names[l]);
		}
	}
	html_f(h, "</span></nav></header>");
	if (c->has_venue) {
		html_f(h, "<nav class=\"tabs\">");
		for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++) {
			if (c->user.role < tabs[i].role)
				continue;
			html_f(h, "<a href=\"/venues/%s%s\"", c->venue.id, tabs[i].path);
			current(h, section, tabs[i].section);
			html_f(h, ">%s</a>", T(c, tabs[i].label));
		}
		html_f(h, "</nav>");
	}
	html_f(h, "<main>");
	flash_show(c);
}

void page_end(cx *c)
{
	html_f(&c->h, "</main><footer class=\"muted\">tingzi-hub %s</footer></body></html>\n", TINGZI_VERSION);
	set_html(c, 200);
}

void page_fail(cx *c, unsigned status, const char *message)
{
	html_free(&c->h);
	c->out->status = status;
	page_begin(c, T(c, "Something is wrong"), NULL);
	html_f(&c->h, "<div class=\"alert bad\" role=\"alert\">%s</div>", message);
	if (c->signed_in)
		html_f(&c->h, "<p><a href=\"/venues\">%s</a></p>", T(c, "Back to your venues"));
	else
		html_f(&c->h, "<p><a href=\"/login\">%s</a></p>", T(c, "Sign in"));
	page_end(c);
}

void page_redirect(cx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->out->location, sizeof c->out->location, fmt, ap);
	va_end(ap);
	html_free(&c->h);
	c->out->status = 303;
	c->out->content_type = "text/plain; charset=utf-8";
}

void page_table_end(cx *c, int64_t total, int64_t shown, const char *empty, const char *showing_msgid)
{
	char n1[24], n2[24];
	html_f(&c->h, "</tbody></table>\n");
	if (total == 0) {
		html_f(&c->h, "<p class=\"empty\">%s</p>\n", empty);
	} else if (total > shown) {
		html_f(&c->h, "<p class=\"muted\">");
		SAY(c, showing_msgid, cx_num(shown, n1), cx_num(total, n2));
		html_f(&c->h, "</p>\n");
	}
	html_f(&c->h, "</section>\n");
}

void form_open(cx *c, const char *action, int upload)
{
	/* markup only in formats: a %s would escape the attribute into text */
	html_f(&c->h, upload ? "<form method=\"post\" action=\"%s\" enctype=\"multipart/form-data\">"
			     : "<form method=\"post\" action=\"%s\">",
	       action);
	html_f(&c->h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", c->csrf);
}

void form_close(cx *c)
{
	html_f(&c->h, "</form>");
}

void page_download(cx *c, const char *type, const char *filename, char *body, size_t len)
{
	html_free(&c->h);
	console_response *o = c->out;
	o->status = 200;
	o->content_type = type;
	free(o->body);
	o->body = body;
	o->len = len;
	/* filenames are ours (ids, slugs, dates): ASCII without quotes */
	snprintf(o->disposition, sizeof o->disposition, "attachment; filename=\"%s\"", filename);
}

void page_json(cx *c, json_t *j)
{
	html_free(&c->h);
	console_response *o = c->out;
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	o->status = text ? 200 : 500;
	o->content_type = "application/json";
	free(o->body);
	o->body = text ? text : strdup("{}");
	o->len = o->body ? strlen(o->body) : 0;
}

void page_store_failed(cx *c, hub_err e)
{
	fprintf(stderr, "hub: console: %s: %s\n", hub_strerror(e), hub_store_errmsg(c->st));
	if (e == HUB_BUSY)
		page_fail(c, 503, T(c, "The hub is busy. Please try again in a moment."));
	else if (e == HUB_NOT_FOUND)
		page_fail(c, 404, T(c, "There is no such page."));
	else
		page_fail(c, 500, T(c, "The hub could not do that because its storage failed. Nothing was changed."));
}

int console_audit(cx *c, const char *action, json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(detail);
	hub_err e = c->st->ops->audit_add(c->st, c->user.id, c->has_venue ? c->venue.id : NULL, action,
					  text ? text : "{}", c->rq->now_ms);
	free(text);
	snprintf(c->out->note, sizeof c->out->note, "console %.60s by %.120s", action, c->user.email);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static const char *const methods[][2] = {
    {"scan", N_("code scanned")}, {"phone", N_("phone")},       {"name", N_("name search")},
    {"walkin", N_("walk-in")},    {"cli", N_("command line")}, {"staff", N_("by staff")},
    {"api", N_("API")},
};

const char *cx_method_name(cx *c, const char *method)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(method, methods[i][0]) == 0)
			return T(c, methods[i][1]);
	return method;
}

const unsigned char *console_kek(const cx *c)
{
	return c->con->has_kek ? c->con->kek : NULL;
}

int console_webhooks_private(const cx *c)
{
	return c->con->webhooks_private;
}

void console_unlocked(cx *c, void (*fn)(void *arg), void *arg)
{
	if (c->rq->unlock)
		c->rq->unlock(c->rq->ctx);
	fn(arg);
	if (c->rq->relock) {
		hub_store *st = c->rq->relock(c->rq->ctx);
		if (st)
			c->st = st;
	}
}

int console_sign_in(cx *c, const hub_user *u)
{
	/* the session this browser had, if any, ends: a login always makes a new id */
	char old[64];
	const char *ck = header(c, "Cookie");
	if (ck && form_cookie(ck, COOKIE_SESSION, old, sizeof old) == 0 && old[0]) {
		unsigned char oh[HUB_HASH_LEN];
		hub_sha256(old, strlen(old), oh);
		c->st->ops->session_end(c->st, oh);
	}
	unsigned char raw[32];
	char id[64];
	randombytes_buf(raw, sizeof raw);
	b64(raw, sizeof raw, id, sizeof id);
	hub_session s = {.created_ms = c->rq->now_ms, .seen_ms = c->rq->now_ms};
	hub_sha256(id, strlen(id), s.hash);
	snprintf(s.user_id, sizeof s.user_id, "%s", u->id);
	hub_err e = c->st->ops->session_add(c->st, &s);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	console_set_session(c, id);
	add_cookie(c, COOKIE_LOGIN, "", 0);
	c->user = *u;
	c->signed_in = 1;
	derive("csrf", id, c->csrf);
	return 0;
}

/* ---- routing ---- */

static int hex32(const char *s, size_t n)
{
	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* 1 when path fits pattern; the {v} and {id} it holds are copied out. */
static int match(const char *pattern, const char *path, char v[HUB_ID_MAX], char id[HUB_ID_MAX])
{
	const char *p = pattern, *s = path;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return 0;
			int is_v = strncmp(p, "{v}", 3) == 0;
			/* a parameter ends where the path's segment ends, or where the pattern's literal suffix starts */
			const char *suffix = close + 1;
			size_t suffix_len = strcspn(suffix, "/{");
			size_t seg = strcspn(s, "/");
			if (seg < suffix_len || strncmp(s + seg - suffix_len, suffix, suffix_len) != 0)
				return 0;
			size_t n = seg - suffix_len;
			if (!hex32(s, n))
				return 0;
			char *dst = is_v ? v : id;
			memcpy(dst, s, n);
			dst[n] = 0;
			s += seg;
			p = suffix + suffix_len;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == 0;
}

void console_routes_each(void (*fn)(const char *method, const char *pattern, const char *role, void *ctx), void *ctx)
{
	fn("GET", "/static/console.css", "none", ctx);
	fn("GET", "/static/console.js", "none", ctx);
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const console_route *r = tables[t]; r->fn; r++)
			fn(r->method, r->pattern, r->role == HUB_ROLE_NONE ? "none" : hub_role_name(r->role), ctx);
}

int console_owns(const char *path)
{
	return strncmp(path, "/v1/", 4) != 0 && strcmp(path, "/v1") != 0 && strncmp(path, "/j/", 3) != 0;
}

static void add_query(const char *name, const char *value, void *ctx)
{
	form *f = ctx;
	if (f->n < FORM_MAX_FIELDS && strlen(name) <= 256 && strlen(value) <= FORM_MAX_VALUE) {
		char *n = strdup(name), *v = strdup(value);
		if (n && v)
			f->f[f->n++] = (form_field){.name = n, .value = v, .len = strlen(v)};
		else {
			free(n);
			free(v);
		}
	}
}

static void choose_lang(cx *c)
{
	const char *q = c->rq->get ? c->rq->get(c->rq->ctx, CONSOLE_QUERY, "lang") : NULL;
	char ck[32];
	const char *cookie = header(c, "Cookie");
	console_lang l;
	if (q && console_lang_parse(q, &l) == 0) {
		c->lang = l;
		add_cookie(c, COOKIE_LANG, console_lang_tag(l), 365L * 86400);
	} else if (cookie && form_cookie(cookie, COOKIE_LANG, ck, sizeof ck) == 0 && console_lang_parse(ck, &l) == 0) {
		c->lang = l;
	} else {
		c->lang = console_lang_accept(header(c, "Accept-Language"));
	}
}

static void find_session(cx *c)
{
	char id[64];
	const char *cookie = header(c, "Cookie");
	if (!cookie || form_cookie(cookie, COOKIE_SESSION, id, sizeof id) != 0 || strlen(id) != CONSOLE_CSRF_LEN)
		return;
	unsigned char h[HUB_HASH_LEN];
	hub_sha256(id, strlen(id), h);
	hub_session s;
	if (c->st->ops->session_get(c->st, h, c->rq->now_ms - SESSION_IDLE_MS, c->rq->now_ms, &s, &c->user) != HUB_OK)
		return;
	c->signed_in = 1;
	derive("csrf", id, c->csrf);
}

/* The login form's token, from a pre-login cookie made here when missing. */
static void login_token(cx *c)
{
	char pre[64];
	const char *cookie = header(c, "Cookie");
	if (!cookie || form_cookie(cookie, COOKIE_LOGIN, pre, sizeof pre) != 0 || strlen(pre) != CONSOLE_CSRF_LEN) {
		unsigned char raw[32];
		randombytes_buf(raw, sizeof raw);
		b64(raw, sizeof raw, pre, sizeof pre);
		add_cookie(c, COOKIE_LOGIN, pre, 3600);
	}
	derive("login", pre, c->csrf);
}

static void serve_asset(console *con, const char *path, console_response *out)
{
	for (size_t i = 0; i < 2; i++)
		if (strcmp(path, con->assets[i].path) == 0) {
			out->status = 200;
			out->content_type = con->assets[i].type;
			out->body = con->assets[i].body;
			out->len = con->assets[i].len;
			out->body_static = 1;
			out->cache = 1;
			return;
		}
	out->status = 0;
}

void console_handle(console *con, const console_request *rq, console_response *out)
{
	memset(out, 0, sizeof *out);
	if (strncmp(rq->path, "/static/", 8) == 0) {
		serve_asset(con, rq->path, out);
		if (out->status)
			return;
	}
	cx c = {.con = con, .st = rq->st ? rq->st : con->st, .rq = rq, .out = out};
	c.tc.quarter = -1;
	html_init(&c.h);
	form_init(&c.form);
	choose_lang(&c);
	find_session(&c);
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;

	if (strcmp(rq->path, "/") == 0 && get) {
		page_redirect(&c, "%s", c.signed_in ? "/venues" : "/login");
		goto done;
	}
	const console_route *route = NULL;
	int path_known = 0;
	char v[HUB_ID_MAX] = "";
	for (size_t t = 0; t < sizeof tables / sizeof tables[0] && !route; t++)
		for (const console_route *r = tables[t]; r->fn && !route; r++)
			if (match(r->pattern, rq->path, v, c.id)) {
				path_known = 1;
				if ((get && strcmp(r->method, "GET") == 0) || (post && strcmp(r->method, "POST") == 0))
					route = r;
			}
	if (!route) {
		page_fail(&c, path_known ? 405 : 404,
			  path_known ? T(&c, "This page cannot be used that way.") : T(&c, "There is no such page."));
		goto done;
	}
	if (route->role == HUB_ROLE_NONE && !c.signed_in)
		login_token(&c);
	if (route->role != HUB_ROLE_NONE && !c.signed_in) {
		if (post) {
			/* what the form held cannot be kept through a sign-in: say so, store nothing */
			page_fail(&c, 403,
				  T(&c, "You were signed out (after 12 hours without use, or from another place), so "
					"this form was not saved. Sign in and try again."));
		} else {
			char next[600];
			html_urlencode(rq->path, next, sizeof next);
			page_redirect(&c, "/login?next=%s", next);
			out->status = 302;
		}
		goto done;
	}
	if (c.signed_in && c.user.role < route->role) {
		page_fail(&c, 403, T(&c, "Your account may not open this page."));
		goto done;
	}
	if (v[0]) {
		hub_err e = c.st->ops->venue_get(c.st, v, &c.venue);
		if (e == HUB_NOT_FOUND) {
			page_fail(&c, 404, T(&c, "There is no such venue."));
			goto done;
		}
		if (e != HUB_OK) {
			page_store_failed(&c, e);
			goto done;
		}
		int may = c.user.role == HUB_ROLE_OWNER ? 1 : c.st->ops->user_may(c.st, &c.user, v);
		if (may < 0) {
			page_store_failed(&c, (hub_err)may);
			goto done;
		}
		if (!may) {
			page_fail(&c, 403, T(&c, "Your account may not open this venue."));
			goto done;
		}
		c.has_venue = 1;
	}
	if (rq->each_query)
		rq->each_query(rq->ctx, add_query, &c.form);
	if (post) {
		const char *code = NULL;
		char why[160];
		if (rq->body_too_large) {
			page_fail(&c, 413, T(&c, "That is more than the hub takes at once (4 MB). Nothing was saved."));
			goto done;
		}
		form body;
		form_init(&body);
		if (form_parse(&body, header(&c, "Content-Type"), rq->body ? rq->body : "", rq->len, &code, why,
			       sizeof why) != 0) {
			form_free(&body);
			snprintf(out->note, sizeof out->note, "form refused: %s", why);
			if (strcmp(code, "too_long") == 0)
				page_fail(&c, 413, T(&c, "A field or file is larger than the hub takes (a file at most 4 MB). "
							 "Nothing was saved."));
			else if (strcmp(code, "bad_text") == 0)
				page_fail(&c, 400, T(&c, "The form held text that is not UTF-8. Nothing was saved."));
			else
				page_fail(&c, 400, T(&c, "The form could not be read. Nothing was saved."));
			goto done;
		}
		/* the body's fields first, so form_get finds them before a query argument of the same name */
		form merged;
		form_init(&merged);
		for (size_t i = 0; i < body.n; i++)
			merged.f[merged.n++] = body.f[i];
		for (size_t i = 0; i < c.form.n; i++) {
			if (merged.n < FORM_MAX_FIELDS) {
				merged.f[merged.n++] = c.form.f[i];
			} else {
				free(c.form.f[i].name);
				free(c.form.f[i].value);
				free(c.form.f[i].filename);
			}
		}
		c.form = merged;
		const char *sent = form_get(&c.form, "csrf");
		if (!sent || strlen(sent) != CONSOLE_CSRF_LEN || sodium_memcmp(sent, c.csrf, CONSOLE_CSRF_LEN) != 0) {
			snprintf(out->note, sizeof out->note, "form refused: no or stale csrf token");
			page_fail(&c, 403,
				  T(&c, "This form is out of date (it was opened before you last signed in, or on another "
					"site), so it was not saved. Open the page again and resend it."));
			goto done;
		}
	}
	route->fn(&c);
	if (!out->status)
		set_html(&c, 200);
done:
	if (!out->body && out->status != 303 && out->status != 302)
		set_html(&c, out->status ? out->status : 200);
	html_free(&c.h);
	form_free(&c.form);
}

void console_response_free(console_response *r)
{
	if (!r->body_static)
		free(r->body);
	r->body = NULL;
}
