#define _GNU_SOURCE
/*
 * console_account — signing in and out, setting up an account from its
 * one-time link, the account page, and (for owners) the users.
 *
 * Passwords: at least 10 characters, not one of the common ones below, kept
 * as Argon2id strings (libsodium, 3 passes over 32 MiB). Hashing takes about
 * a tenth of a second, so it runs with the store's lock let go, one hash at
 * a time (a burst of logins costs time, never 32 MiB each).
 *
 * Failed logins are counted in the store (so several hub processes count
 * together): five for one account from one address in 15 minutes lock that
 * account from that address for 15 minutes; twenty from one address over any
 * accounts lock the address. An account is not locked for everyone, which
 * would let anyone lock its owner out by guessing wrong on purpose.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/utf8.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PW_OPS	    3
#define PW_MEM	    (32u << 20)
#define PW_MIN	    10	/* characters */
#define PW_MAX	    256 /* bytes */
#define LOCK_MS	    (15LL * 60 * 1000)
#define LOCK_PAIR   5  /* failures of one account from one address */
#define LOCK_ADDR   20 /* failures from one address */

static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;

/* Common passwords of 10 or more characters (shorter ones are refused anyway). */
static const char *const common[] = {
    "0000000000", "0123456789", "1111111111", "1234567890", "12345678910", "1234567890a", "123456789a",
    "1q2w3e4r5t", "1qaz2wsx3edc", "5201314520", "a123456789", "aa123456789", "abc1234567", "abcd123456",
    "abcdefghij", "administrator", "asdfghjkl1", "changeme123", "iloveyou12", "iloveyou123", "letmein123",
    "passw0rd123", "password1", "password12", "password123", "password1234", "qazwsxedc123", "qwerty1234",
    "qwerty12345", "qwertyuiop", "qwertyuiop123", "sunshine123", "tingzi1234", "tingzi12345", "welcome123",
    "woaini1314", "woaini5201314", "zxcvbnm123", "zxcvbnm1234", "1qaz2wsx", "football123", "dragon12345",
    "baseball123", "superman123", "trustno1234", "monkey12345", "princess123", "iloveyou1234", "9876543210",
    "147258369a", "a1234567890", "q1w2e3r4t5", "qwer123456", "asdf123456", "zxcv123456", "1234qwerasdf",
};

/* NULL when pw may be used, else why not (a msgid). */
static const char *password_refused(const char *pw, const char *email)
{
	if (!pw || !utf8_valid(pw, strlen(pw)) || strlen(pw) > PW_MAX)
		return N_("The password must be at most 256 bytes of text.");
	if (utf8_count(pw) < PW_MIN)
		return N_("The password must have at least 10 characters.");
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		if (strcasecmp(pw, common[i]) == 0)
			return N_("That password is one of the most common ones. Choose another.");
	size_t n = strlen(pw), same = 1, run = 1;
	for (size_t i = 1; i < n; i++) {
		same += pw[i] == pw[0];
		run += pw[i] == pw[i - 1] + 1;
	}
	if (same == n || run == n)
		return N_("That password is too easy to guess. Choose another.");
	if (email && strcasecmp(pw, email) == 0)
		return N_("The password must not be your email address.");
	return NULL;
}

void console_setup_token(char token[44], unsigned char hash[HUB_HASH_LEN])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, 44, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	hub_sha256(token, strlen(token), hash);
}

typedef struct pw_job {
	const char *pw, *hash;
	char out[HUB_PWHASH_MAX];
	int ok;
} pw_job;

static void do_hash(void *arg)
{
	pw_job *j = arg;
	pthread_mutex_lock(&hash_lock);
	j->ok = crypto_pwhash_str_alg(j->out, j->pw, strlen(j->pw), PW_OPS, PW_MEM, crypto_pwhash_ALG_ARGON2ID13) == 0;
	pthread_mutex_unlock(&hash_lock);
}

static void do_verify(void *arg)
{
	pw_job *j = arg;
	pthread_mutex_lock(&hash_lock);
	j->ok = j->hash[0] && crypto_pwhash_str_verify(j->hash, j->pw, strlen(j->pw)) == 0;
	pthread_mutex_unlock(&hash_lock);
}

/* A hash no password matches, checked when the email is unknown, so both answers take as long. */
static char dummy[HUB_PWHASH_MAX];

static void make_dummy(void)
{
	unsigned char pw[24];
	char text[64];
	randombytes_buf(pw, sizeof pw);
	sodium_bin2hex(text, sizeof text, pw, sizeof pw);
	if (crypto_pwhash_str_alg(dummy, text, strlen(text), PW_OPS, PW_MEM, crypto_pwhash_ALG_ARGON2ID13) != 0)
		dummy[0] = 0;
}

static const char *dummy_hash(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, make_dummy);
	return dummy;
}

static int verify(cx *c, const char *pw, const char *hash)
{
	pw_job j = {.pw = pw, .hash = hash};
	console_unlocked(c, do_verify, &j);
	return j.ok;
}

static int hash_password(cx *c, const char *pw, char out[HUB_PWHASH_MAX])
{
	pw_job j = {.pw = pw};
	console_unlocked(c, do_hash, &j);
	if (j.ok)
		memcpy(out, j.out, HUB_PWHASH_MAX);
	return j.ok ? 0 : -1;
}

/* A local path to go to after signing in: "/" and a path of ours, never another site ("//host"). */
static const char *next_path(const char *next)
{
	/*
	 * Only the characters a path of ours has: browsers drop tabs and line
	 * breaks from a Location and read a backslash as a slash, so "/\t/x" or
	 * "/\\x" would lead to another site.
	 */
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.?=&%";
	if (!next || next[0] != '/' || next[1] == '/' || strlen(next) > 512 || strspn(next, ok) != strlen(next))
		return "/venues";
	return next;
}

static void login_form(cx *c, const char *email, const char *error, unsigned status)
{
	page_begin(c, T(c, "Sign in"), NULL);
	html *h = &c->h;
	html_f(h, "<section class=\"card narrow\"><h1>%s</h1>", T(c, "Sign in to tingzi"));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	form_open(c, "/login", 0);
	html_f(h,
	       "<input type=\"hidden\" name=\"next\" value=\"%s\">"
	       "<div class=\"field\"><label for=\"email\">%s</label>"
	       "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"%s\"></div>"
	       "<div class=\"field\"><label for=\"password\">%s</label>"
	       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
	       "</div><button class=\"primary\">%s</button>",
	       next_path(form_get(&c->form, "next")), T(c, "Email"), email ? email : "", T(c, "Password"),
	       T(c, "Sign in"));
	form_close(c);
	html_f(h, "<p class=\"muted\">%s</p></section>",
	       T(c, "No account yet, or forgot the password? Ask the owner of your hub for a set-up link."));
	page_end(c);
	c->out->status = status;
}

static void login_page(cx *c)
{
	if (c->signed_in) {
		page_redirect(c, "%s", next_path(form_get(&c->form, "next")));
		return;
	}
	login_form(c, NULL, NULL, 200);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static void login_post(cx *c)
{
	char email[HUB_EMAIL_MAX + 1], pair[HUB_EMAIL_MAX + 80], addr[80];
	const char *pw = form_get(&c->form, "password");
	const char *raw_email = form_get(&c->form, "email");
	if (!raw_email || strlen(raw_email) > HUB_EMAIL_MAX || !pw) {
		login_form(c, NULL, T(c, "Enter your email and password."), 400);
		return;
	}
	form_trimmed(&c->form, "email", email, sizeof email);
	lower(email);
	snprintf(pair, sizeof pair, "a:%s|%s", email, c->rq->client ? c->rq->client : "");
	snprintf(addr, sizeof addr, "ip:%s", c->rq->client ? c->rq->client : "");
	int64_t since = c->rq->now_ms - LOCK_MS, n_pair = 0, n_addr = 0;
	hub_err e = c->st->ops->login_failures(c->st, pair, since, &n_pair);
	if (e == HUB_OK)
		e = c->st->ops->login_failures(c->st, addr, since, &n_addr);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (n_pair >= LOCK_PAIR || n_addr >= LOCK_ADDR) {
		snprintf(c->out->note, sizeof c->out->note, "login locked for %.120s", email);
		login_form(c, email, T(c, "Too many failed sign-ins. Wait 15 minutes and try again."), 429);
		return;
	}
	hub_user u;
	e = c->st->ops->user_get(c->st, email, &u);
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return;
	}
	int ok = verify(c, pw, e == HUB_OK && u.pwhash[0] ? u.pwhash : dummy_hash()) && e == HUB_OK &&
		 u.pwhash[0] && !u.disabled_ms;
	if (!ok) {
		if ((e = c->st->ops->login_failed(c->st, pair, c->rq->now_ms)) != HUB_OK ||
		    (e = c->st->ops->login_failed(c->st, addr, c->rq->now_ms)) != HUB_OK) {
			page_store_failed(c, e);
			return;
		}
		snprintf(c->out->note, sizeof c->out->note, "login failed for %.120s", email);
		login_form(c, email, T(c, "Wrong email or password."), 401);
		return;
	}
	c->st->ops->login_clear(c->st, pair);
	if (console_sign_in(c, &u) != 0)
		return;
	snprintf(c->out->note, sizeof c->out->note, "login %.120s", u.email);
	page_redirect(c, "%s", next_path(form_get(&c->form, "next")));
}

static void logout_post(cx *c)
{
	char id[64];
	const char *ck = c->rq->get ? c->rq->get(c->rq->ctx, CONSOLE_HEADER, "Cookie") : NULL;
	if (ck && form_cookie(ck, "tzs", id, sizeof id) == 0) {
		unsigned char h[HUB_HASH_LEN];
		hub_sha256(id, strlen(id), h);
		hub_err e = c->st->ops->session_end(c->st, h);
		if (e != HUB_OK) {
			page_store_failed(c, e);
			return;
		}
	}
	console_set_session(c, NULL);
	page_flash(c, T(c, "You are signed out."));
	page_redirect(c, "/login");
}

/* ---- set-up from the one-time link ---- */

static int setup_user(cx *c, hub_user *u)
{
	const char *t = form_get(&c->form, "t");
	if (!t || strlen(t) != 43) {
		page_fail(c, 404, T(c, "This set-up link is not complete. Copy the whole link you were given."));
		return -1;
	}
	unsigned char h[HUB_HASH_LEN];
	hub_sha256(t, strlen(t), h);
	hub_err e = c->st->ops->user_by_setup(c->st, h, c->rq->now_ms, u);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && u->disabled_ms)) {
		page_fail(c, 410,
			  T(c, "This set-up link has expired or was used already. Ask the owner of your hub for a new one."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static void setup_form(cx *c, const hub_user *u, const char *error, unsigned status)
{
	page_begin(c, T(c, "Set up your account"), NULL);
	html *h = &c->h;
	html_f(h, "<section class=\"card narrow\"><h1>%s</h1><p class=\"sub\">", T(c, "Set up your account"));
	html_user(h, u->email);
	html_f(h, " · %s</p>", T(c, hub_role_name(u->role)));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	form_open(c, "/setup", 0);
	html_f(h,
	       "<input type=\"hidden\" name=\"t\" value=\"%s\">"
	       "<div class=\"field\"><label for=\"password\">%s</label>"
	       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" "
	       "required></div><div class=\"field\"><label for=\"password2\">%s</label>"
	       "<input id=\"password2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\" required></div>"
	       "<p class=\"muted\">%s</p><button class=\"primary\">%s</button>",
	       form_get(&c->form, "t"), T(c, "New password"), T(c, "The same again"),
	       T(c, "At least 10 characters. A few words you will remember make a good password."),
	       T(c, "Save and sign in"));
	form_close(c);
	html_f(h, "</section>");
	page_end(c);
	c->out->status = status;
}

static void setup_page(cx *c)
{
	hub_user u;
	if (setup_user(c, &u) == 0)
		setup_form(c, &u, NULL, 200);
}

/* Checks a new password and its repetition; 0 with the hash in out, or -1 with why (a msgid). */
static int new_password(cx *c, const char *email, char out[HUB_PWHASH_MAX], const char **why)
{
	const char *pw = form_get(&c->form, "password"), *pw2 = form_get(&c->form, "password2");
	if ((*why = password_refused(pw, email)))
		return -1;
	if (!pw2 || strcmp(pw, pw2) != 0) {
		*why = N_("The two passwords are not the same.");
		return -1;
	}
	if (hash_password(c, pw, out) != 0) {
		*why = N_("The hub could not keep the password (out of memory). Try again.");
		return -1;
	}
	return 0;
}

static void setup_post(cx *c)
{
	hub_user u;
	if (setup_user(c, &u) != 0)
		return;
	char hash[HUB_PWHASH_MAX];
	const char *why;
	if (new_password(c, u.email, hash, &why) != 0) {
		setup_form(c, &u, T(c, why), 400);
		return;
	}
	hub_err e = c->st->ops->user_set_password(c->st, u.id, hash, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_sign_in(c, &u) != 0 || console_audit(c, "account.setup", NULL) != 0)
		return;
	page_flash(c, T(c, "Your account is ready."));
	page_redirect(c, "/venues");
}

/* ---- the account ---- */

static void account_page_with(cx *c, const char *error, unsigned status)
{
	page_begin(c, T(c, "Account"), "account");
	html *h = &c->h;
	html_f(h, "<h1>%s</h1><p class=\"sub\">", T(c, "Account"));
	html_user(h, c->user.email);
	html_f(h, " · %s</p><div class=\"grid\"><section class=\"card\"><h2>%s</h2>", T(c, hub_role_name(c->user.role)),
	       T(c, "Change password"));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	form_open(c, "/account/password", 0);
	html_f(h,
	       "<div class=\"field\"><label for=\"current\">%s</label><input id=\"current\" name=\"current\" "
	       "type=\"password\" autocomplete=\"current-password\" required></div>"
	       "<div class=\"field\"><label for=\"password\">%s</label><input id=\"password\" name=\"password\" "
	       "type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></div>"
	       "<div class=\"field\"><label for=\"password2\">%s</label><input id=\"password2\" name=\"password2\" "
	       "type=\"password\" autocomplete=\"new-password\" required></div><button class=\"primary\">%s</button>",
	       T(c, "Current password"), T(c, "New password"), T(c, "The same again"), T(c, "Change password"));
	form_close(c);
	html_f(h, "</section><section class=\"card\"><h2>%s</h2><p>%s</p>", T(c, "Sign out everywhere"),
	       T(c, "Ends every session of this account, on every phone and computer, this one included."));
	form_open(c, "/account/signout-all", 0);
	html_f(h, "<button class=\"danger\">%s</button>", T(c, "Sign out everywhere"));
	form_close(c);
	html_f(h, "</section></div>");
	page_end(c);
	c->out->status = status;
}

static void account_page(cx *c)
{
	account_page_with(c, NULL, 200);
}

static void account_password(cx *c)
{
	const char *cur = form_get(&c->form, "current");
	if (!cur || !verify(c, cur, c->user.pwhash)) {
		account_page_with(c, T(c, "The current password is not right."), 400);
		return;
	}
	char hash[HUB_PWHASH_MAX];
	const char *why;
	if (new_password(c, c->user.email, hash, &why) != 0) {
		account_page_with(c, T(c, why), 400);
		return;
	}
	hub_user u = c->user;
	hub_err e = c->st->ops->user_set_password(c->st, u.id, hash, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	memcpy(u.pwhash, hash, sizeof u.pwhash);
	/* every other session ended with the change; this one goes on under a new id */
	if (console_audit(c, "account.password", NULL) != 0 || console_sign_in(c, &u) != 0)
		return;
	page_flash(c, T(c, "Your password is changed. Every other session is signed out."));
	page_redirect(c, "/account");
}

static void account_signout_all(cx *c)
{
	if (console_audit(c, "account.signout_all", NULL) != 0)
		return;
	hub_err e = c->st->ops->sessions_end_user(c->st, c->user.id);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	console_set_session(c, NULL);
	page_flash(c, T(c, "Every session of your account is signed out."));
	page_redirect(c, "/login");
}

/* ---- users (owner) ---- */

typedef struct users_ctx {
	cx *c;
	int n;
} users_ctx;

static int venue_name_of(const char *venue_id, void *ctx)
{
	users_ctx *u = ctx;
	hub_venue v;
	if (u->n++)
		html_f(&u->c->h, ", ");
	if (u->c->st->ops->venue_get(u->c->st, venue_id, &v) == HUB_OK)
		html_user(&u->c->h, v.name);
	else
		html_text(&u->c->h, venue_id);
	return 0;
}

static int user_row(const hub_user *u, void *ctx)
{
	users_ctx *uc = ctx;
	cx *c = uc->c;
	html *h = &c->h;
	html_f(h, "<tr><td data-label=\"%s\">", T(c, "Email"));
	html_user(h, u->email);
	html_f(h, "</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">", T(c, "Role"), T(c, hub_role_name(u->role)),
	       T(c, "Venues"));
	users_ctx vc = {c, 0};
	if (u->role == HUB_ROLE_OWNER)
		html_f(h, "%s", T(c, "All venues"));
	else
		c->st->ops->user_venues_each(c->st, u->id, venue_name_of, &vc);
	html_f(h, "</td><td data-label=\"%s\">", T(c, "State"));
	if (u->disabled_ms)
		html_f(h, "<span class=\"badge bad\">%s</span>", T(c, "disabled"));
	else if (!u->pwhash[0])
		html_f(h, "<span class=\"badge warn\">%s</span>", T(c, "not set up yet"));
	else
		html_f(h, "<span class=\"badge ok\">%s</span>", T(c, "active"));
	html_f(h, "</td><td class=\"actions\">");
	if (strcmp(u->id, c->user.id) != 0) {
		char action[80];
		snprintf(action, sizeof action, "/users/%s/%s", u->id, u->disabled_ms ? "enable" : "disable");
		html_f(h, "<form class=\"inline\" method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"csrf\" "
			  "value=\"%s\"><button class=\"%s\">%s</button></form>",
		       action, c->csrf, u->disabled_ms ? "link" : "danger", u->disabled_ms ? T(c, "Enable") : T(c, "Disable"));
		snprintf(action, sizeof action, "/users/%s/reset", u->id);
		html_f(h, "<form class=\"inline\" method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"csrf\" "
			  "value=\"%s\"><button class=\"link\">%s</button></form>",
		       action, c->csrf, T(c, "New set-up link"));
	}
	html_f(h, "</td></tr>");
	return 0;
}

static int venue_option(const hub_venue *v, void *ctx)
{
	cx *c = ctx;
	html_f(&c->h, "<option value=\"%s\">", v->id);
	html_text(&c->h, v->name);
	html_f(&c->h, "</option>");
	return 0;
}

static void users_page_with(cx *c, const char *error, unsigned status)
{
	page_begin(c, T(c, "Users"), "users");
	html *h = &c->h;
	html_f(h, "<h1>%s</h1>", T(c, "Users"));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	html_f(h, "<section class=\"card\"><table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
		  "<th></th></tr></thead><tbody>",
	       T(c, "Email"), T(c, "Role"), T(c, "Venues"), T(c, "State"));
	users_ctx uc = {c, 0};
	hub_err e = c->st->ops->users_each(c->st, user_row, &uc);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	html_f(h, "</tbody></table></section><section class=\"card\"><h2>%s</h2>", T(c, "Add a user"));
	form_open(c, "/users", 0);
	html_f(h,
	       "<div class=\"row\"><div class=\"field\"><label for=\"email\">%s</label><input id=\"email\" name=\"email\" "
	       "type=\"email\" required maxlength=\"255\"></div><div class=\"field\"><label for=\"role\">%s</label>"
	       "<select id=\"role\" name=\"role\"><option value=\"organizer\">%s</option><option value=\"staff\">%s"
	       "</option><option value=\"owner\">%s</option></select></div><div class=\"field\"><label for=\"venue\">%s"
	       "</label><select id=\"venue\" name=\"venue\"><option value=\"\">—</option>",
	       T(c, "Email"), T(c, "Role"), T(c, "organizer"), T(c, "staff"), T(c, "owner"), T(c, "Venue"));
	c->st->ops->venues_each(c->st, venue_option, c);
	html_f(h, "</select></div></div><p class=\"muted\">%s</p><button class=\"primary\">%s</button>",
	       T(c, "Organizers run the venues they are given; staff see the attendance of their venue; owners "
		    "run everything. The new user gets a one-time link, valid 24 hours, to choose a password."),
	       T(c, "Add user"));
	form_close(c);
	html_f(h, "</section>");
	page_end(c);
	c->out->status = status;
}

static void users_page(cx *c)
{
	users_page_with(c, NULL, 200);
}

static void show_setup_link(cx *c, const hub_user *u, const char *token, const char *title)
{
	char base[600], link[800];
	snprintf(link, sizeof link, "%s/setup?t=%s", cx_public_url(c, base, sizeof base), token);
	page_begin(c, title, "users");
	html *h = &c->h;
	html_f(h, "<h1>%s</h1><section class=\"card\"><p>", title);
	html_user(h, u->email);
	html_f(h, "</p><p>%s</p><p class=\"big mono\"><a href=\"%s\">%s</a></p><p class=\"muted\">%s</p>"
		  "<p><a href=\"/users\">%s</a></p></section>",
	       T(c, "Send this link to the person. It works once, for 24 hours, and is shown only now:"), link, link,
	       T(c, "If it is lost or expires, make a new one from the list of users."), T(c, "Back to users"));
	page_end(c);
}

static void users_add(cx *c)
{
	char email[HUB_EMAIL_MAX + 1], venue[HUB_ID_MAX + 8];
	const char *raw = form_get(&c->form, "email");
	hub_role role;
	form_trimmed(&c->form, "email", email, sizeof email);
	lower(email);
	form_trimmed(&c->form, "venue", venue, sizeof venue);
	const char *at = strchr(email, '@');
	if (!raw || strlen(raw) > HUB_EMAIL_MAX || !at || at == email || !strchr(at, '.') || strpbrk(email, " <>\"'")) {
		users_page_with(c, T(c, "Enter the user's email address."), 400);
		return;
	}
	if (hub_role_parse(form_get(&c->form, "role") ? form_get(&c->form, "role") : "", &role) != 0) {
		users_page_with(c, T(c, "Choose a role."), 400);
		return;
	}
	hub_venue v;
	if (role != HUB_ROLE_OWNER && (!venue[0] || c->st->ops->venue_get(c->st, venue, &v) != HUB_OK)) {
		users_page_with(c, T(c, "Organizers and staff need a venue."), 400);
		return;
	}
	char token[44];
	unsigned char hash[HUB_HASH_LEN];
	console_setup_token(token, hash);
	hub_user u;
	hub_err e = c->st->ops->user_add(c->st, email, role, role == HUB_ROLE_OWNER ? NULL : venue, hash,
					 c->rq->now_ms + CONSOLE_SETUP_HOURS * 3600000LL, c->rq->now_ms, &u);
	if (e == HUB_EXISTS) {
		users_page_with(c, T(c, "There is already a user with that email."), 409);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "user.add", json_pack("{s:s,s:s,s:s}", "email", email, "role", hub_role_name(role),
						      "venue", role == HUB_ROLE_OWNER ? "" : venue)) != 0)
		return;
	show_setup_link(c, &u, token, T(c, "User added"));
}

static int target_user(cx *c, hub_user *u)
{
	hub_err e = c->st->ops->user_get(c->st, c->id, u);
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "There is no such user."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	if (strcmp(u->id, c->user.id) == 0) {
		page_fail(c, 400, T(c, "You cannot do that to your own account."));
		return -1;
	}
	return 0;
}

static void users_disable_to(cx *c, int disabled)
{
	hub_user u;
	if (target_user(c, &u) != 0)
		return;
	hub_err e = c->st->ops->user_disable(c->st, u.id, disabled, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, disabled ? "user.disable" : "user.enable", json_pack("{s:s}", "email", u.email)) != 0)
		return;
	page_flash(c, disabled ? T(c, "The user is disabled and signed out everywhere.") : T(c, "The user is enabled."));
	page_redirect(c, "/users");
}

static void users_disable(cx *c)
{
	users_disable_to(c, 1);
}

static void users_enable(cx *c)
{
	users_disable_to(c, 0);
}

static void users_reset(cx *c)
{
	hub_user u;
	if (target_user(c, &u) != 0)
		return;
	char token[44];
	unsigned char hash[HUB_HASH_LEN];
	console_setup_token(token, hash);
	hub_err e = c->st->ops->user_set_setup(c->st, u.id, hash, c->rq->now_ms + CONSOLE_SETUP_HOURS * 3600000LL,
					       c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "user.reset", json_pack("{s:s}", "email", u.email)) != 0)
		return;
	show_setup_link(c, &u, token, T(c, "New set-up link"));
}

const console_route console_routes_account[] = {
    {"GET", "/login", HUB_ROLE_NONE, login_page},
    {"POST", "/login", HUB_ROLE_NONE, login_post},
    {"POST", "/logout", HUB_ROLE_STAFF, logout_post},
    {"GET", "/setup", HUB_ROLE_NONE, setup_page},
    {"POST", "/setup", HUB_ROLE_NONE, setup_post},
    {"GET", "/account", HUB_ROLE_STAFF, account_page},
    {"POST", "/account/password", HUB_ROLE_STAFF, account_password},
    {"POST", "/account/signout-all", HUB_ROLE_STAFF, account_signout_all},
    {"GET", "/users", HUB_ROLE_OWNER, users_page},
    {"POST", "/users", HUB_ROLE_OWNER, users_add},
    {"POST", "/users/{id}/disable", HUB_ROLE_OWNER, users_disable},
    {"POST", "/users/{id}/enable", HUB_ROLE_OWNER, users_enable},
    {"POST", "/users/{id}/reset", HUB_ROLE_OWNER, users_reset},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
