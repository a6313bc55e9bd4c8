/*
 * console_passes — member passes in the console: a venue's sign-up page
 * settings and signing keys (rotate), and on a member's page their pass
 * (issue, which shows the pass and a new private address once; revoke).
 * Organizers and owners only; every change is in the venue's audit log.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/qr_out.h"
#include "sync/hub/hub_pass.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a member's pass ---- */

int console_pass_card(cx *c, const hub_member *m)
{
	hub_pass_state ps;
	hub_err e = c->st->ops->pass->state(c->st, m->uid, &ps);
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return -1;
	}
	char action[200], n1[24], when[17];
	html_f(&c->h, "<section class=\"card\" id=\"pass\"><h2>%s</h2>\n", T(c, "Member pass"));
	if (e == HUB_NOT_FOUND) {
		html_f(&c->h, "<p>%s</p>", T(c, "No pass issued yet."));
	} else {
		html_f(&c->h, "<p>");
		SAY(c, "Pass number %1$s, last issued %2$s.", cx_num(ps.number, n1),
		    cx_time(c, pass_minutes_unix(ps.last_issued_min) * 1000, when));
		html_f(&c->h, "</p>");
		if (ps.revoked_before_min >= ps.last_issued_min && ps.revoked_before_min)
			html_f(&c->h, "<p class=\"alert bad\">%s</p>", T(c, "Revoked: kiosks refuse this member's passes."));
	}
	snprintf(action, sizeof action, "/venues/%s/members/%s/pass", c->venue.id, m->uid);
	form_open(c, action, 0);
	html_f(&c->h, "<p class=\"muted\">%s</p><button class=\"primary\">%s</button>",
	       T(c, "A new pass, and a private address where the member sees it again (shown once)."),
	       T(c, "Issue pass"));
	form_close(c);
	if (e == HUB_OK) {
		snprintf(action, sizeof action, "/venues/%s/members/%s/pass/revoke", c->venue.id, m->uid);
		form_open(c, action, 0);
		html_f(&c->h, "<p class=\"muted\">%s</p><button class=\"danger\">%s</button>",
		       T(c, "Every pass of this member issued until now stops working at the kiosks' next sync, and so do "
			    "their private addresses."),
		       T(c, "Revoke pass"));
		form_close(c);
	}
	html_f(&c->h, "</section>\n");
	return 0;
}

static int load(cx *c, hub_member *m)
{
	hub_err e = c->st->ops->member_get(c->st, c->id, m);
	if (e == HUB_OK && strcmp(m->venue_id, c->venue.id) != 0)
		e = HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "There is no such member in this venue."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static void pass_issue(cx *c)
{
	hub_member m;
	if (load(c, &m) != 0)
		return;
	const unsigned char *kek = console_kek(c);
	if (!kek) {
		page_fail(c, 409, T(c, "This hub was started without its key file (--key-file), so it cannot sign passes."));
		return;
	}
	hub_pass p;
	char token[HUB_PASS_TOKEN_LEN + 1];
	hub_err e = hub_pass_issue(c->st, kek, c->venue.id, m.uid, c->rq->now_ms, &p, token);
	if (e == HUB_NOT_FOUND || e == HUB_INVALID) {
		/* no key yet, or a code a pass cannot carry: the store's sentence says which */
		char msg[400];
		snprintf(msg, sizeof msg, "%s: %s", T(c, "No pass was issued"), hub_store_errmsg(c->st));
		page_fail(c, 409, msg);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "pass.issue", json_pack("{s:s,s:s,s:I,s:i}", "member", m.uid, "name", m.name, "number",
						     (json_int_t)p.f.number, "kid", (int)p.f.key_id)) != 0)
		return;
	char base[600], n1[24];
	cx_public_url(c, base, sizeof base);
	page_begin(c, T(c, "Member pass"), "members");
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2>", T(c, "Pass issued"));
	html_f(&c->h, "<p>");
	SAY(c, "Pass number %1$s of %2$s.", cx_num(p.f.number, n1), m.name);
	html_f(&c->h, "</p><figure class=\"qr\" id=\"pass-qr\">");
	qr_svg_an(&c->h, p.text, 4);
	/* the text in pieces a narrow screen may break between */
	html_f(&c->h, "</figure><p><code class=\"pass-text\">");
	for (size_t i = 0, n = strlen(p.text); i < n; i += 24)
		html_f(&c->h, "%.*s<wbr>", (int)(n - i < 24 ? n - i : 24), p.text + i);
	html_f(&c->h, "</code></p>");
	html_f(&c->h, "<p class=\"alert ok\">%s</p><p><a id=\"private-address\" href=\"%s/p/%s\">%s/p/%s</a></p>",
	       T(c, "The member's private address, shown only now: give it to them (it shows their pass again; the hub "
		    "keeps only its hash)."),
	       base, token, base, token);
	html_f(&c->h, "<p><a href=\"/p/%s.png\" download=\"pass.png\">%s</a> · <a href=\"/venues/%s/members/%s\">%s</a></p>",
	       token, T(c, "The pass as a PNG, to print"), c->venue.id, m.uid, T(c, "Back to the member"));
	html_f(&c->h, "</section>");
	sodium_memzero(token, sizeof token);
	page_end(c);
}

static void pass_revoke(cx *c)
{
	hub_member m;
	if (load(c, &m) != 0)
		return;
	hub_pass_state ps;
	hub_err e = c->st->ops->pass->revoke(c->st, m.uid, c->rq->now_ms, &ps);
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "This member has no pass."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "pass.revoke", json_pack("{s:s,s:s,s:I}", "member", m.uid, "name", m.name, "number",
						      (json_int_t)ps.number)) != 0)
		return;
	page_flash(c, T(c, "Pass revoked. Kiosks refuse it after their next sync."));
	page_redirect(c, "/venues/%s/members/%s", c->venue.id, m.uid);
}

/* ---- a venue's sign-up page and keys ---- */

static int key_row(const hub_pass_key *k, void *ctx)
{
	cx *c = ctx;
	char a[17], b[17];
	html_f(&c->h, "<tr><td>%u</td><td>%s</td><td>%s</td></tr>", k->kid, cx_time(c, k->created_ms, a),
	       k->retired_ms ? cx_time(c, k->retired_ms, b) : T(c, "signs new passes"));
	return 0;
}

static void passes_page(cx *c)
{
	hub_signup su;
	hub_err e = c->st->ops->pass->signup_get(c->st, c->venue.id, NULL, &su);
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return;
	}
	if (e == HUB_NOT_FOUND)
		memset(&su, 0, sizeof su);
	char base[600], action[200];
	cx_public_url(c, base, sizeof base);
	page_begin(c, T(c, "Passes and sign-up"), "passes");
	html_f(&c->h, "<div class=\"grid\"><section class=\"card\"><h2>%s</h2>", T(c, "Sign-up page"));
	if (su.slug[0])
		html_f(&c->h, "<p><a id=\"signup-address\" href=\"%s/m/%s\">%s/m/%s</a> · %s</p>", base, su.slug, base, su.slug,
		       su.enabled ? T(c, "open") : T(c, "closed"));
	snprintf(action, sizeof action, "/venues/%s/passes/signup", c->venue.id);
	form_open(c, action, 0);
	html_f(&c->h,
	       "<div class=\"field\"><label for=\"slug\">%s</label><input id=\"slug\" name=\"slug\" value=\"%s\""
	       " pattern=\"[a-z0-9\\-]{3,32}\" required></div>"
	       "<div class=\"field\"><label for=\"terms\">%s</label><textarea id=\"terms\" name=\"terms\" rows=\"6\""
	       " maxlength=\"4000\">%s</textarea></div>"
	       "<label><input type=\"checkbox\" name=\"enabled\" value=\"1\"%s> %s</label>"
	       "<p class=\"muted\">%s</p><button class=\"primary\">%s</button>",
	       T(c, "Address (3 to 32 of a-z, 0-9 and -)"), su.slug, T(c, "The venue's terms, which members agree to"),
	       su.terms, su.enabled || !su.slug[0] ? " checked" : "", T(c, "Open for sign-ups"),
	       T(c, "Members who sign up get a pass and a private address to see it again."), T(c, "Save"));
	form_close(c);
	html_f(&c->h, "</section><section class=\"card\"><h2>%s</h2>", T(c, "Signing keys"));
	html_f(&c->h, "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	       T(c, "Key"), T(c, "Made"), T(c, "Retired"));
	if ((e = c->st->ops->pass->keys_each(c->st, c->venue.id, key_row, c)) != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	html_f(&c->h, "</tbody></table>");
	snprintf(action, sizeof action, "/venues/%s/passes/rotate", c->venue.id);
	form_open(c, action, 0);
	html_f(&c->h, "<p class=\"muted\">%s</p><button>%s</button>",
	       T(c, "A new key signs passes from now on; passes of older keys stay valid until they expire or are "
		    "revoked."),
	       T(c, "Rotate key"));
	form_close(c);
	html_f(&c->h, "</section></div>");
	page_end(c);
}

static void passes_signup(cx *c)
{
	char slug[FORM_MAX_VALUE], terms[FORM_MAX_VALUE + 1];
	form_trimmed(&c->form, "slug", slug, sizeof slug);
	form_trimmed(&c->form, "terms", terms, sizeof terms);
	size_t n = strlen(slug);
	if (n < 3 || n > 32 || strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
		page_fail(c, 400, T(c, "The address must be 3 to 32 of a-z, 0-9 and -."));
		return;
	}
	if (strlen(terms) > 4000) {
		page_fail(c, 400, T(c, "The terms are longer than 4000 bytes."));
		return;
	}
	hub_signup su = {.enabled = form_get(&c->form, "enabled") != NULL, .updated_ms = c->rq->now_ms};
	snprintf(su.venue_id, sizeof su.venue_id, "%s", c->venue.id);
	/* both checked for length above */
	snprintf(su.slug, sizeof su.slug, "%.*s", (int)sizeof su.slug - 1, slug);
	snprintf(su.terms, sizeof su.terms, "%.*s", (int)sizeof su.terms - 1, terms);
	hub_err e = c->st->ops->pass->signup_set(c->st, &su);
	if (e == HUB_EXISTS) {
		page_fail(c, 409, T(c, "Another venue uses this address. Choose another."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "pass.signup", json_pack("{s:s,s:b}", "slug", slug, "enabled", su.enabled)) != 0)
		return;
	page_flash(c, T(c, "Saved."));
	page_redirect(c, "/venues/%s/passes", c->venue.id);
}

static void passes_rotate(cx *c)
{
	const unsigned char *kek = console_kek(c);
	if (!kek) {
		page_fail(c, 409, T(c, "This hub was started without its key file (--key-file), so it cannot sign passes."));
		return;
	}
	unsigned kid = 0;
	hub_err e = hub_pass_rotate(c->st, kek, c->venue.id, c->rq->now_ms, &kid);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "pass.rotate_key", json_pack("{s:i}", "kid", (int)kid)) != 0)
		return;
	char msg[200], n1[24];
	page_flash(c, SAYF(c, msg, "Key %s signs passes now.", cx_num(kid, n1)));
	page_redirect(c, "/venues/%s/passes", c->venue.id);
}

const console_route console_routes_passes[] = {
    {"GET", "/venues/{v}/passes", HUB_ROLE_ORGANIZER, passes_page},
    {"POST", "/venues/{v}/passes/signup", HUB_ROLE_ORGANIZER, passes_signup},
    {"POST", "/venues/{v}/passes/rotate", HUB_ROLE_ORGANIZER, passes_rotate},
    {"POST", "/venues/{v}/members/{id}/pass", HUB_ROLE_ORGANIZER, pass_issue},
    {"POST", "/venues/{v}/members/{id}/pass/revoke", HUB_ROLE_ORGANIZER, pass_revoke},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
