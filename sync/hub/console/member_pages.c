/*
 * member_pages — sign-up and pass pages for members (see member_pages.h).
 *
 * The form token: a sign-up form carries base64url(SHA-256("signup:" + a
 * random cookie)), the cookie HttpOnly, SameSite=Strict and only for /m/: a
 * page on another site can neither read it nor have it sent with a post, so
 * a cross-site post is refused. Nothing is kept on the server, so several
 * hub nodes agree on it.
 *
 * What a sign-up never tells: whether a phone is a member's. A phone that
 * is gets a page saying to use their private address or ask staff; no pass,
 * no name, nothing else of the member.
 *
 * Rate limits: token buckets in a fixed table (per process), keyed by the
 * client's address and by venue. A full table forgets its oldest bucket.
 */
#include "sync/hub/console/member_pages.h"
#include "sync/check.h"
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/qr_out.h"
#include "sync/hub/hub_pass.h"
#include "sync/hub/hub_util.h"
#include "sync/utf8.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COOKIE_FORM "tzm"
#define COOKIE_LANG "tzlang"
#define TOKEN_LEN   43 /* base64url of 32 bytes */
#define BUCKETS	    4096
#define PROBES	    16

typedef struct bucket {
	char key[64];
	double tokens;
	int64_t at_ms;
} bucket;

struct member_pages {
	unsigned char kek[HUB_KEK_BYTES];
	int has_kek;
	char public_url[512];
	int tls;
	char *css;
	size_t css_len;
	unsigned per_address, per_venue, pages;
	pthread_mutex_t lock;
	bucket buckets[BUCKETS];
};

/* ---- rate limits ---- */

/*
 * Take one from key's bucket (per_minute a minute, a burst of as many):
 * 0, or the seconds until one is there.
 */
static unsigned take(member_pages *mp, const char *key, unsigned per_minute, int64_t now)
{
	unsigned h = 5381;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	double rate = per_minute / 60000.0; /* tokens a millisecond */
	pthread_mutex_lock(&mp->lock);
	bucket *b = NULL, *oldest = NULL;
	for (unsigned i = 0; i < PROBES && !b; i++) {
		bucket *c = &mp->buckets[(h + i) % BUCKETS];
		if (strcmp(c->key, key) == 0)
			b = c;
		else if (!oldest || c->at_ms < oldest->at_ms)
			oldest = c;
	}
	if (!b) { /* a new bucket, in place of the longest unused one near its place */
		b = oldest;
		snprintf(b->key, sizeof b->key, "%s", key);
		b->tokens = per_minute;
		b->at_ms = now;
	}
	b->tokens += (double)(now - b->at_ms) * rate;
	if (b->tokens > per_minute)
		b->tokens = per_minute;
	b->at_ms = now;
	unsigned wait = 0;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (unsigned)((1 - b->tokens) / rate / 1000) + 1;
	pthread_mutex_unlock(&mp->lock);
	return wait;
}

/* ---- set-up ---- */

member_pages *member_pages_new(const member_config *cfg, char *why, size_t len)
{
	member_pages *mp = calloc(1, sizeof *mp);
	if (!mp) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&mp->lock, NULL);
	if (cfg->kek) {
		memcpy(mp->kek, cfg->kek, HUB_KEK_BYTES);
		mp->has_kek = 1;
	}
	if (cfg->public_url) {
		snprintf(mp->public_url, sizeof mp->public_url, "%s", cfg->public_url);
		size_t n = strlen(mp->public_url);
		while (n && mp->public_url[n - 1] == '/')
			mp->public_url[--n] = 0;
	}
	mp->tls = cfg->tls || strncmp(mp->public_url, "https://", 8) == 0;
	mp->per_address = cfg->signups_per_address ? cfg->signups_per_address : MEMBER_SIGNUPS_PER_ADDRESS;
	mp->per_venue = cfg->signups_per_venue ? cfg->signups_per_venue : MEMBER_SIGNUPS_PER_VENUE;
	mp->pages = cfg->pages_per_address ? cfg->pages_per_address : MEMBER_PAGES_PER_ADDRESS;
	const char *dirs[3] = {cfg->assets_dir ? cfg->assets_dir : getenv("TINGZI_CONSOLE_ASSETS"),
			       TINGZI_CONSOLE_ASSETS_BUILD, TINGZI_CONSOLE_ASSETS};
	for (size_t d = 0; d < 3 && !mp->css; d++) {
		if (!dirs[d])
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/member.css", dirs[d]);
		FILE *f = fopen(path, "rb");
		struct stat sb;
		if (f && fstat(fileno(f), &sb) == 0 && sb.st_size < (1 << 20) && (mp->css = malloc((size_t)sb.st_size + 1))) {
			mp->css_len = fread(mp->css, 1, (size_t)sb.st_size, f);
			mp->css[mp->css_len] = 0;
		}
		if (f)
			fclose(f);
	}
	if (!mp->css) {
		snprintf(why, len, "the member pages' member.css is not installed (looked in %s and %s)",
			 TINGZI_CONSOLE_ASSETS, TINGZI_CONSOLE_ASSETS_BUILD);
		member_pages_free(mp);
		return NULL;
	}
	return mp;
}

void member_pages_free(member_pages *mp)
{
	if (!mp)
		return;
	sodium_memzero(mp->kek, sizeof mp->kek);
	pthread_mutex_destroy(&mp->lock);
	free(mp->css);
	free(mp);
}

int member_pages_owns(const char *path)
{
	return strncmp(path, "/m/", 3) == 0 || strncmp(path, "/p/", 3) == 0;
}

/* ---- a page ---- */

typedef struct mx {
	member_pages *mp;
	hub_pool *pool;
	const console_request *rq;
	console_response *out;
	console_lang lang;
	html h;
	form form;
} mx;

static const char *L(const mx *x, const char *msgid)
{
	return console_tr(x->lang, msgid);
}

static const char *header(const mx *x, const char *name)
{
	return x->rq->get ? x->rq->get(x->rq->ctx, CONSOLE_HEADER, name) : NULL;
}

static const char *query(const mx *x, const char *name)
{
	return x->rq->get ? x->rq->get(x->rq->ctx, CONSOLE_QUERY, name) : NULL;
}

static void cookie(mx *x, const char *name, const char *value, const char *path, long max_age)
{
	console_response *o = x->out;
	if (o->ncookies == CONSOLE_MAX_COOKIES)
		return;
	snprintf(o->cookies[o->ncookies++], sizeof o->cookies[0], "%s=%s; Path=%s; HttpOnly; SameSite=Strict; Max-Age=%ld%s",
		 name, value, path, max_age, x->mp->tls || x->rq->tls ? "; Secure" : "");
}

static void choose_lang(mx *x)
{
	const char *q = query(x, "lang");
	const char *f = form_get(&x->form, "lang");
	const char *ck = header(x, "Cookie");
	char saved[32];
	console_lang l;
	if ((f && console_lang_parse(f, &l) == 0) || (q && console_lang_parse(q, &l) == 0)) {
		x->lang = l;
		cookie(x, COOKIE_LANG, console_lang_tag(l), "/", 365L * 86400);
	} else if (ck && form_cookie(ck, COOKIE_LANG, saved, sizeof saved) == 0 && console_lang_parse(saved, &l) == 0) {
		x->lang = l;
	} else {
		x->lang = console_lang_accept(header(x, "Accept-Language"));
	}
}

static void begin_page(mx *x, const char *title)
{
	html_f(&x->h,
	       "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	       "<title>%s</title><link rel=\"stylesheet\" href=\"/m/member.css\"><link rel=\"icon\" href=\"data:,\">"
	       "</head><body><main class=\"card\">",
	       console_lang_tag(x->lang), title);
}

/* The language switch: links to this page in each language (ref kept). */
static void langs(mx *x, const char *path, const char *ref)
{
	static const char *const names[CL_COUNT] = {"简体", "繁體", "EN"};
	html_f(&x->h, "<nav class=\"langs\">");
	for (int l = 0; l < CL_COUNT; l++) {
		if ((int)x->lang == l) {
			html_f(&x->h, "<b lang=\"%s\">%s</b>", console_lang_tag((console_lang)l), names[l]);
			continue;
		}
		/* path is a slug or token already checked: letters, digits and - only */
		html_f(&x->h, "<a lang=\"%s\" href=\"%s?lang=%s", console_lang_tag((console_lang)l), path,
		       console_lang_tag((console_lang)l));
		if (ref && ref[0]) {
			html_f(&x->h, "&amp;ref=");
			html_urlpart(&x->h, ref);
		}
		html_f(&x->h, "\">%s</a>", names[l]);
	}
	html_f(&x->h, "</nav>");
}

static void end_page(mx *x, unsigned status)
{
	html_f(&x->h, "</main></body></html>\n");
	console_response *o = x->out;
	o->status = status;
	o->content_type = "text/html; charset=utf-8";
	o->body = html_take(&x->h, &o->len);
	if (!o->body) {
		o->status = 500;
		o->body = strdup("out of memory");
		o->len = o->body ? strlen(o->body) : 0;
		o->content_type = "text/plain; charset=utf-8";
	}
}

/* A page of one sentence (already in the page's language). */
static void say_page(mx *x, unsigned status, const char *title, const char *sentence)
{
	html_free(&x->h);
	html_init(&x->h);
	begin_page(x, title);
	html_f(&x->h, "<h1>%s</h1><p class=\"lead\">%s</p>", title, sentence);
	end_page(x, status);
}

static void limited(mx *x, unsigned wait)
{
	x->out->retry_after = wait;
	snprintf(x->out->note, sizeof x->out->note, "rate limited: retry after %u s", wait);
	say_page(x, 429, L(x, "Please wait"), L(x, "Too many requests came from here just now. Please try again in a minute."));
}

static void store_failed(mx *x, hub_err e, hub_store *st)
{
	fprintf(stderr, "hub: member page: %s: %s\n", hub_strerror(e), st ? hub_store_errmsg(st) : "");
	if (e == HUB_BUSY || e == HUB_DOWN)
		x->out->retry_after = 5;
	say_page(x, e == HUB_BUSY || e == HUB_DOWN ? 503 : 500, L(x, "Something is wrong"),
		 L(x, "The hub could not do that just now. Nothing was kept. Please try again later."));
}

/* ---- the sign-up form ---- */

static void b64(const unsigned char *bin, size_t n, char *out, size_t len)
{
	sodium_bin2base64(out, len, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void form_token(const char *secret, char out[TOKEN_LEN + 1])
{
	crypto_hash_sha256_state s;
	unsigned char h[32];
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)"signup:", 7);
	crypto_hash_sha256_update(&s, (const unsigned char *)secret, strlen(secret));
	crypto_hash_sha256_final(&s, h);
	b64(h, sizeof h, out, TOKEN_LEN + 1);
}

/* The token this browser's forms carry (a cookie made now when it has none). */
static void this_token(mx *x, char out[TOKEN_LEN + 1])
{
	char secret[64];
	const char *ck = header(x, "Cookie");
	if (!ck || form_cookie(ck, COOKIE_FORM, secret, sizeof secret) != 0 || strlen(secret) != TOKEN_LEN) {
		unsigned char raw[32];
		randombytes_buf(raw, sizeof raw);
		b64(raw, sizeof raw, secret, sizeof secret);
		cookie(x, COOKIE_FORM, secret, "/m/", 86400);
	}
	form_token(secret, out);
}

/* A phone as people write it, to its digits: the rule of the members CSV (separators " -.()", a leading +). */
static int phone_digits(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = in; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s;
		} else if (!strchr(" -.()", *s) && !(*s == '+' && s == in)) {
			return -1;
		}
	}
	out[n] = '\0';
	return check_phone(out) ? 0 : -1;
}

static void signup_form(mx *x, const hub_venue *v, const hub_signup *su, const char *ref, const char *problem,
			const char *name, const char *phone, unsigned status)
{
	char token[TOKEN_LEN + 1], path[48];
	this_token(x, token);
	snprintf(path, sizeof path, "/m/%s", su->slug);
	char title[HUB_NAME_MAX + 64];
	snprintf(title, sizeof title, "%s · %s", v->name, L(x, "Become a member"));
	begin_page(x, title);
	langs(x, path, ref);
	html_f(&x->h, "<p class=\"venue\">");
	html_user(&x->h, v->name);
	html_f(&x->h, "</p><h1>%s</h1><p class=\"lead\">%s</p>", L(x, "Become a member"),
	       L(x, "Sign up here and get your member pass: show it at the venue to check in."));
	if (problem)
		html_f(&x->h, "<p class=\"alert\" role=\"alert\">%s</p>", problem);
	html_f(&x->h, "<form method=\"post\" action=\"%s\">", path);
	html_f(&x->h, "<input type=\"hidden\" name=\"t\" value=\"%s\"><input type=\"hidden\" name=\"lang\" value=\"%s\">",
	       token, console_lang_tag(x->lang));
	if (ref && ref[0])
		html_f(&x->h, "<input type=\"hidden\" name=\"ref\" value=\"%s\">", ref);
	html_f(&x->h,
	       "<label for=\"name\">%s</label><input id=\"name\" name=\"name\" required maxlength=\"127\""
	       " autocomplete=\"name\" value=\"%s\">",
	       L(x, "Your name"), name ? name : "");
	html_f(&x->h,
	       "<label for=\"phone\">%s</label><input id=\"phone\" name=\"phone\" type=\"tel\" inputmode=\"tel\" required"
	       " maxlength=\"24\" autocomplete=\"tel\" value=\"%s\">",
	       L(x, "Phone number"), phone ? phone : "");
	html_f(&x->h, "<p class=\"hint\">%s</p>",
	       L(x, "Staff use your phone number to find you at the venue. No other member ever sees it."));
	if (su->terms[0]) {
		html_f(&x->h, "<section class=\"terms\"><h2>%s</h2><p>", L(x, "The venue's terms"));
		html_user(&x->h, su->terms);
		html_f(&x->h, "</p></section>");
	}
	html_f(&x->h,
	       "<label class=\"consent\"><input type=\"checkbox\" name=\"consent\" value=\"1\" required> <span>%s</span>"
	       "</label><button type=\"submit\">%s</button></form>",
	       su->terms[0] ? L(x, "I agree to the venue's terms.") : L(x, "I agree that the venue keeps my name and phone number."),
	       L(x, "Sign up"));
	end_page(x, status);
}

/* The venue and sign-up page a slug names: 1, or 0 with the page answered. */
static int venue_of_slug(mx *x, const char *slug, hub_venue *v, hub_signup *su)
{
	hub_store *st = hub_pool_take(x->pool);
	hub_err e = st->ops->pass->signup_get(st, NULL, slug, su);
	if (e == HUB_OK)
		e = st->ops->venue_get(st, su->venue_id, v);
	hub_pool_give(x->pool, st);
	if (e == HUB_NOT_FOUND) {
		say_page(x, 404, L(x, "Not found"), L(x, "There is no sign-up page at this address. Please check it with the venue's staff."));
		return 0;
	}
	if (e != HUB_OK) {
		store_failed(x, e, st);
		return 0;
	}
	if (!su->enabled) {
		say_page(x, 403, v->name, L(x, "Sign-up is closed for now. Please ask the venue's staff."));
		return 0;
	}
	return 1;
}

/* A ref= code as it may be kept: a member code's characters, else nothing. */
static const char *ref_of(const char *ref)
{
	return ref && check_text(ref, STORE_CODE_MAX - 1, 0) ? ref : NULL;
}

static void signup_get(mx *x, const char *slug)
{
	hub_venue v;
	hub_signup su;
	if (!venue_of_slug(x, slug, &v, &su))
		return;
	signup_form(x, &v, &su, ref_of(query(x, "ref")), NULL, NULL, NULL, 200);
}

static void signup_post(mx *x, const char *slug)
{
	const char *code = NULL;
	char why[160];
	if (x->rq->body_too_large ||
	    form_parse(&x->form, header(x, "Content-Type"), x->rq->body ? x->rq->body : "", x->rq->len, &code, why,
		       sizeof why) != 0) {
		choose_lang(x);
		say_page(x, 400, L(x, "Something is wrong"), L(x, "The form could not be read. Please open the page again."));
		return;
	}
	choose_lang(x);
	hub_venue v;
	hub_signup su;
	if (!venue_of_slug(x, slug, &v, &su))
		return;
	char vkey[64];
	snprintf(vkey, sizeof vkey, "v:%s", v.id);
	unsigned wait = take(x->mp, vkey, x->mp->per_venue, x->rq->now_ms);
	if (wait) {
		limited(x, wait);
		return;
	}
	/* the form token: a post from another site has none that matches */
	char secret[64], want[TOKEN_LEN + 1];
	const char *ck = header(x, "Cookie"), *sent = form_get(&x->form, "t");
	if (!ck || form_cookie(ck, COOKIE_FORM, secret, sizeof secret) != 0 || strlen(secret) != TOKEN_LEN || !sent ||
	    strlen(sent) != TOKEN_LEN || (form_token(secret, want), sodium_memcmp(sent, want, TOKEN_LEN) != 0)) {
		snprintf(x->out->note, sizeof x->out->note, "sign-up refused: no or stale form token");
		say_page(x, 403, L(x, "Something is wrong"),
			 L(x, "This form is out of date or came from another site, so nothing was kept. Please open the sign-up page again."));
		return;
	}
	const char *ref = ref_of(form_get(&x->form, "ref"));
	/* read whole, then checked: a name past the kiosk's limit is refused, never cut */
	char name[FORM_MAX_VALUE + 1], phone[STORE_PHONE_MAX], raw_phone[64];
	form_trimmed(&x->form, "name", name, sizeof name);
	form_trimmed(&x->form, "phone", raw_phone, sizeof raw_phone);
	const char *problem = NULL;
	if (!check_text(name, STORE_NAME_MAX - 1, 0))
		problem = L(x, "Please write your name (at most 127 bytes: about 40 Chinese characters).");
	else if (phone_digits(raw_phone, phone, sizeof phone) != 0)
		problem = L(x, "Please write a phone number of 5 to 20 digits.");
	else if (!form_get(&x->form, "consent"))
		problem = su.terms[0] ? L(x, "Please agree to the venue's terms to sign up.")
				      : L(x, "Please agree that the venue keeps your name and phone number.");
	if (problem) {
		snprintf(x->out->note, sizeof x->out->note, "sign-up refused: a field");
		signup_form(x, &v, &su, ref, problem, name, raw_phone, 400);
		return;
	}
	if (!x->mp->has_kek) {
		say_page(x, 503, L(x, "Something is wrong"),
			 L(x, "Member passes are not available on this hub yet. Please ask the venue's staff."));
		return;
	}
	char token[HUB_PASS_TOKEN_LEN + 1];
	unsigned char hash[HUB_HASH_LEN];
	hub_pass_token_new(token, hash);
	hub_pass_request prq = {.venue_id = v.id, .name = name, .phone = phone, .address_hash = hash,
				.now_ms = x->rq->now_ms, .sign = hub_pass_sign, .ctx = x->mp->kek};
	hub_pass p;
	hub_store *st = hub_pool_take(x->pool);
	hub_err e = st->ops->pass->issue(st, &prq, &p);
	char referrer[HUB_ID_MAX] = "";
	/* who brought them: credited once, at the sign-up; an unknown code (or their own) counts for nothing */
	if (e == HUB_OK && ref && st->ops->pass->member_by_code(st, v.id, ref, referrer) == HUB_OK &&
	    strcmp(referrer, p.member_uid) != 0)
		st->ops->referral_add(st, p.member_uid, referrer, "signup", x->rq->now_ms);
	if (e != HUB_OK && e != HUB_EXISTS && e != HUB_INVALID) {
		store_failed(x, e, st);
		hub_pool_give(x->pool, st);
		return;
	}
	if (e == HUB_INVALID)
		fprintf(stderr, "hub: sign-up at %s: %s\n", v.id, hub_store_errmsg(st));
	hub_pool_give(x->pool, st);
	if (e == HUB_EXISTS) {
		snprintf(x->out->note, sizeof x->out->note, "sign-up: a member's phone");
		say_page(x, 200, v.name,
			 L(x, "This phone number is a member's already. To see your pass, open the private address you "
			      "were given when you signed up, or ask the venue's staff."));
		return;
	}
	if (e == HUB_INVALID) {
		say_page(x, 500, L(x, "Something is wrong"),
			 L(x, "Your pass could not be made. Please ask the venue's staff."));
		return;
	}
	snprintf(x->out->note, sizeof x->out->note, "sign-up at %.32s: pass %u%s", v.id, (unsigned)p.f.number,
		 referrer[0] ? ", referred" : "");
	/* to the pass at its private address, which the address bar now shows to keep */
	snprintf(x->out->location, sizeof x->out->location, "/p/%s?new=1", token);
	x->out->status = 303;
	x->out->content_type = "text/plain; charset=utf-8";
	sodium_memzero(token, sizeof token);
}

/* ---- the pass ---- */

typedef struct join_ctx {
	char slug[HUB_SLUG_MAX];
} join_ctx;

static int default_link(const hub_link *l, void *ctx)
{
	join_ctx *j = ctx;
	if (l->is_default && !l->removed && !j->slug[0]) {
		snprintf(j->slug, sizeof j->slug, "%s", l->slug);
		return 1;
	}
	return 0;
}

static void base_url(mx *x, char *out, size_t len)
{
	if (x->mp->public_url[0]) {
		snprintf(out, len, "%s", x->mp->public_url);
		return;
	}
	const char *host = header(x, "Host");
	if (!host || !host[0] || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
		host = "127.0.0.1";
	snprintf(out, len, "%s://%s", x->mp->tls || x->rq->tls ? "https" : "http", host);
}

static void pass_page(mx *x, const char *token, int png)
{
	unsigned char hash[HUB_HASH_LEN];
	hub_pass p;
	hub_venue v;
	join_ctx j = {""};
	hub_err e = hub_pass_token_hash(token, strlen(token), hash) == 0 ? HUB_OK : HUB_NOT_FOUND;
	if (e == HUB_OK) {
		hub_store *st = hub_pool_take(x->pool);
		e = st->ops->pass->address_get(st, hash, &p);
		if (e == HUB_OK)
			e = st->ops->venue_get(st, p.venue_id, &v);
		if (e == HUB_OK && !png)
			st->ops->links_each(st, v.id, default_link, &j);
		hub_pool_give(x->pool, st);
		if (e != HUB_OK && e != HUB_NOT_FOUND) {
			store_failed(x, e, NULL);
			return;
		}
	}
	if (e == HUB_NOT_FOUND) {
		say_page(x, 404, L(x, "Not found"),
			 L(x, "There is no pass at this address: it was never given, or the pass was revoked. Please ask "
			      "the venue's staff."));
		return;
	}
	if (png) {
		unsigned char *img = NULL;
		size_t len = 0;
		if (hub_pass_png(p.text, HUB_PASS_PNG_MODULE, &img, &len) != 0) {
			say_page(x, 500, L(x, "Something is wrong"), L(x, "The pass could not be drawn."));
			return;
		}
		x->out->status = 200;
		x->out->content_type = "image/png";
		x->out->body = (char *)img;
		x->out->len = len;
		return;
	}
	char title[HUB_NAME_MAX + 64], path[64];
	snprintf(title, sizeof title, "%s · %s", v.name, L(x, "Member pass"));
	snprintf(path, sizeof path, "/p/%s", token);
	begin_page(x, title);
	langs(x, path, NULL);
	if (query(x, "new"))
		html_f(&x->h, "<p class=\"alert ok\" role=\"status\">%s</p>", L(x, "Welcome! You are a member now."));
	html_f(&x->h, "<section class=\"pass\"><p class=\"venue\">");
	html_user(&x->h, v.name);
	html_f(&x->h, "</p>");
	if (p.f.greeting[0]) {
		html_f(&x->h, "<h1>");
		html_fill(&x->h, L(x, "Hello, %1$s"), CX_ARGS(p.f.greeting), 1);
		html_f(&x->h, "</h1>");
	} else {
		html_f(&x->h, "<h1>%s</h1>", L(x, "Member pass"));
	}
	html_f(&x->h, "<figure class=\"qr\" id=\"pass-qr\">");
	qr_svg_an(&x->h, p.text, 4);
	html_f(&x->h, "<figcaption>%s</figcaption></figure><dl>", L(x, "Show this code at the venue to check in."));
	char until[11];
	pass_date_from_day(p.f.expires_day, until);
	html_f(&x->h, "<dt>%s</dt><dd class=\"code\">%s</dd>", L(x, "Member code"), p.f.code);
	if (p.tier[0])
		html_f(&x->h, "<dt>%s</dt><dd>%s</dd>", L(x, "Membership"), p.tier);
	html_f(&x->h, "<dt>%s</dt><dd>%s</dd></dl></section>", L(x, "Member until"),
	       until[0] ? until : L(x, "no end date"));
	html_f(&x->h, "<p class=\"keep\">%s</p>",
	       L(x, "Keep this page's address to yourself: it is how you see your pass again, and anyone who has it "
		    "can show your pass. Bookmark it or save the image."));
	html_f(&x->h, "<p class=\"actions\"><a href=\"%s.png\" download=\"pass.png\">%s</a></p>", path,
	       L(x, "Save the pass as an image"));
	if (j.slug[0]) {
		char base[600], url[700];
		base_url(x, base, sizeof base);
		snprintf(url, sizeof url, "%s/j/%s", base, j.slug);
		html_f(&x->h, "<section class=\"join\"><h2>%s</h2><p>%s</p><figure class=\"qr small\">",
		       L(x, "Join the group"), L(x, "Scan this code, or open the link, to join the venue's online group."));
		qr_svg(&x->h, url, 3);
		html_f(&x->h, "</figure><p><a href=\"%s\">%s</a></p></section>", url, url);
	}
	end_page(x, 200);
}

/* ---- dispatch ---- */

static int slug_ok(const char *s, size_t n)
{
	return n >= 3 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") >= n;
}

void member_pages_handle(member_pages *mp, hub_pool *pool, const console_request *rq, console_response *out)
{
	memset(out, 0, sizeof *out);
	mx x = {.mp = mp, .pool = pool, .rq = rq, .out = out};
	html_init(&x.h);
	form_init(&x.form);
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	int post = strcmp(rq->method, "POST") == 0;
	const char *path = rq->path;
	if (strcmp(path, "/m/member.css") == 0 && get) {
		out->status = 200;
		out->content_type = "text/css; charset=utf-8";
		out->body = mp->css;
		out->len = mp->css_len;
		out->body_static = 1;
		out->cache = 1;
		goto done;
	}
	if (!post)
		choose_lang(&x);
	/* every member page counts against its address, before anything else is done */
	char akey[64];
	snprintf(akey, sizeof akey, "%s:%s", post ? "s" : "p", rq->client ? rq->client : "");
	unsigned wait = take(mp, akey, post ? mp->per_address : mp->pages, rq->now_ms);
	if (wait) {
		if (post)
			choose_lang(&x);
		limited(&x, wait);
		goto done;
	}
	const char *rest = path + 3;
	size_t n = strlen(rest);
	if (strncmp(path, "/m/", 3) == 0 && slug_ok(rest, n)) {
		if (get)
			signup_get(&x, rest);
		else if (post)
			signup_post(&x, rest);
		else
			say_page(&x, 405, L(&x, "Something is wrong"), L(&x, "This page cannot be used that way."));
		goto done;
	}
	if (strncmp(path, "/p/", 3) == 0 && get) {
		char token[HUB_PASS_TOKEN_LEN + 1];
		int png = n == HUB_PASS_TOKEN_LEN + 4 && strcmp(rest + HUB_PASS_TOKEN_LEN, ".png") == 0;
		if (n == HUB_PASS_TOKEN_LEN || png) {
			memcpy(token, rest, HUB_PASS_TOKEN_LEN);
			token[HUB_PASS_TOKEN_LEN] = 0;
			pass_page(&x, token, png);
			goto done;
		}
	}
	if (post)
		choose_lang(&x);
	say_page(&x, 404, L(&x, "Not found"), L(&x, "There is no such page."));
done:
	html_free(&x.h);
	form_free(&x.form);
}
