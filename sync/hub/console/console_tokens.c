/*
 * console_tokens — a venue's tokens of the open API (sync/hub/hub_api.h):
 * the list (name, scope, made, last used, revoked; never a secret), a form
 * to make one, and revoking. A new token's text is shown once, on the page
 * that answers the form (not after a redirect, so it is in no URL and no
 * cookie), and the store keeps only its SHA-256. Owners and organizers of
 * the venue; each change is in the venue's audit log.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/hub/hub_api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

typedef struct tokens_ctx {
	cx *c;
	int n;
} tokens_ctx;

static void when(cx *c, int64_t ms, char out[17])
{
	if (ms)
		cx_time(c, ms, out);
	else
		snprintf(out, 17, "%s", "—");
}

static int token_row(const hub_api_token *t, void *ctx)
{
	tokens_ctx *x = ctx;
	cx *c = x->c;
	html *h = &c->h;
	char made[17], used[17];
	if (!x->n++)
		html_f(h,
		       "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>"
		       "</thead><tbody>",
		       T(c, "Name"), T(c, "Scope"), T(c, "Made"), T(c, "Last used"), T(c, "Status"));
	when(c, t->created_ms, made);
	when(c, t->last_used_ms, used);
	html_f(h, "<tr><td data-label=\"%s\">", T(c, "Name"));
	html_user(h, t->name);
	html_f(h, "</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">%s</td>"
		  "<td data-label=\"%s\">",
	       T(c, "Scope"), t->write ? T(c, "read and write") : T(c, "read only"), T(c, "Made"), made,
	       T(c, "Last used"), used, T(c, "Status"));
	if (t->revoked_ms) {
		char r[17];
		html_f(h, "<span class=\"badge bad\">%s</span> %s", T(c, "revoked"), cx_time(c, t->revoked_ms, r));
	} else {
		html_f(h,
		       "<form class=\"inline\" method=\"post\" action=\"/venues/%s/tokens/%s/revoke\">"
		       "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"danger\">%s</button></form>",
		       c->venue.id, t->id, c->csrf, T(c, "Revoke"));
	}
	html_f(h, "</td></tr>");
	return 0;
}

/* The page: the list and the form (name and scope as typed, and what is wrong with them, after a refusal). */
static void tokens_page(cx *c, const char *name, const char *scope, const char *error)
{
	html *h = &c->h;
	page_begin(c, T(c, "API tokens"), "tokens");
	html_f(h, "<h1>%s</h1><p class=\"sub\">%s</p>", T(c, "API tokens"),
	       T(c, "A token lets another program (a website, a form, a bot) read this venue's members, events and "
		    "check-ins through the hub's API, and, with write, add them. It sees no other venue."));
	html_f(h, "<section class=\"card\">");
	tokens_ctx x = {c, 0};
	hub_err e = c->st->ops->api->tokens_each(c->st, c->venue.id, token_row, &x);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (x.n)
		html_f(h, "</tbody></table>");
	else
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "No tokens yet."));
	html_f(h, "</section><section class=\"card\"><h2>%s</h2>", T(c, "New token"));
	if (error) {
		html_f(h, "<p class=\"alert bad\" role=\"alert\">");
		html_text(h, error);
		html_f(h, "</p>");
	}
	char action[80];
	snprintf(action, sizeof action, "/venues/%s/tokens", c->venue.id);
	form_open(c, action, 0);
	html_f(h, "<label>%s <input name=\"name\" required maxlength=\"64\" value=\"", T(c, "Name"));
	html_user(h, name ? name : "");
	html_f(h, "\"></label><fieldset><legend>%s</legend>", T(c, "Scope"));
	int write = scope && strcmp(scope, "write") == 0;
	html_f(h, "<label><input type=\"radio\" name=\"scope\" value=\"read\"%s> %s</label>", write ? "" : " checked",
	       T(c, "read only"));
	html_f(h, "<label><input type=\"radio\" name=\"scope\" value=\"write\"%s> %s</label></fieldset>",
	       write ? " checked" : "", T(c, "read and write"));
	html_f(h, "<button>%s</button>", T(c, "Make a token"));
	form_close(c);
	html_f(h, "</section>");
	page_end(c);
}

static void page_tokens(cx *c)
{
	tokens_page(c, NULL, NULL, NULL);
}

static void page_token_add(cx *c)
{
	const char *name = form_get(&c->form, "name"), *scope = form_get(&c->form, "scope");
	if (!name || !hub_api_token_name_ok(name)) {
		c->out->status = 400;
		tokens_page(c, name, scope, T(c, "Give the token a name: 1 to 64 characters."));
		return;
	}
	if (!scope || (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0)) {
		c->out->status = 400;
		tokens_page(c, name, scope, T(c, "Choose read only, or read and write."));
		return;
	}
	hub_api_token t = {.write = strcmp(scope, "write") == 0};
	snprintf(t.venue_id, sizeof t.venue_id, "%s", c->venue.id);
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.created_by, sizeof t.created_by, "%s", c->user.id);
	char text[HUB_API_TOKEN_LEN + 1];
	hub_err e = hub_api_token_make(c->st, &t, c->rq->now_ms, text);
	if (e == HUB_EXISTS) {
		c->out->status = 409;
		tokens_page(c, name, scope, T(c, "This venue has a token of that name already."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "token.add", json_pack("{s:s,s:s,s:s}", "token_id", t.id, "name", t.name, "scope", scope)) !=
	    0) {
		sodium_memzero(text, sizeof text);
		return;
	}
	html *h = &c->h;
	page_begin(c, T(c, "New API token"), "tokens");
	html_f(h, "<h1>%s</h1>", T(c, "New API token"));
	html_f(h, "<div class=\"alert warn\" role=\"status\">%s</div>",
	       T(c, "This token is shown only this once. Copy it now into the program that uses it; the hub keeps only "
		    "a fingerprint of it."));
	html_f(h, "<section class=\"card\"><p><strong>");
	html_user(h, t.name);
	html_f(h, "</strong> (%s)</p><p class=\"mono\"><code>%s</code></p>",
	       t.write ? T(c, "read and write") : T(c, "read only"), text);
	html_f(h, "<p class=\"muted\">%s</p><p class=\"mono\">curl -H \"Authorization: Bearer %s\" ", 
	       T(c, "Try it:"), text);
	char base[600];
	cx_public_url(c, base, sizeof base);
	html_user(h, base);
	html_f(h, "/api/v1/venue</p></section><p><a href=\"/venues/%s/tokens\">%s</a></p>", c->venue.id,
	       T(c, "Back to the tokens"));
	page_end(c);
	sodium_memzero(text, sizeof text);
}

static void page_token_revoke(cx *c)
{
	hub_api_token t;
	hub_err e = c->st->ops->api->token_get(c->st, c->venue.id, c->id, &t);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(t.id, c->id) != 0)) {
		page_fail(c, 404, T(c, "There is no such token in this venue."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (!t.revoked_ms) {
		e = c->st->ops->api->token_revoke(c->st, t.id, c->rq->now_ms);
		if (e != HUB_OK && e != HUB_NOT_FOUND) {
			page_store_failed(c, e);
			return;
		}
		if (console_audit(c, "token.revoke", json_pack("{s:s,s:s}", "token_id", t.id, "name", t.name)) != 0)
			return;
	}
	char buf[200];
	page_flash(c, text_fill(buf, sizeof buf, T(c, "Token \"%s\" is revoked: it opens nothing from now on."),
				(const char *const[]){t.name}, 1));
	page_redirect(c, "/venues/%s/tokens", c->venue.id);
}

const console_route console_routes_tokens[] = {
    {"GET", "/venues/{v}/tokens", HUB_ROLE_ORGANIZER, page_tokens},
    {"POST", "/venues/{v}/tokens", HUB_ROLE_ORGANIZER, page_token_add},
    {"POST", "/venues/{v}/tokens/{id}/revoke", HUB_ROLE_ORGANIZER, page_token_revoke},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
