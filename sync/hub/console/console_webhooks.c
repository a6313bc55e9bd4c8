/*
 * console_webhooks — a venue's webhooks in the console: its subscriptions
 * (on or off and why, events waiting), a form to add one (its signing secret
 * shown once), and each one's deliveries with the receiver's answers; turn
 * one on again, remove one. Organizers and owners only; every change is in
 * the venue's audit log.
 */
#include "sync/clock.h"
#include "sync/hub/console/console_impl.h"
#include "sync/hub/hub_webhook.h"
#include "sync/hub/hub_webhook_worker.h"

#include <stdio.h>
#include <string.h>

#define DELIVERIES_SHOWN 100

static const char *type_label(const cx *c, const char *type)
{
	static const char *const labels[][2] = {
	    {"checkin.created", N_("A member checked in")},   {"checkin.reversed", N_("Staff undid a check-in")},
	    {"member.created", N_("A member was added")},      {"member.signed_up", N_("A member signed up")},
	    {"event.started", N_("An event began")},           {"link.expiring", N_("A group link expires within 48 hours")},
	    {"device.offline", N_("A kiosk is offline (30 minutes)")},
	};
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strcmp(type, labels[i][0]) == 0)
			return T(c, labels[i][1]);
	return type;
}

/* Why a subscription was turned off, in the page's language when it is one of the hub's own reasons. */
static const char *why_text(cx *c, const char *why)
{
	if (strstr(why, "410 Gone"))
		return T(c, "the receiver answered 410 Gone");
	if (strstr(why, "private, loopback or link-local"))
		return T(c, "its address is a private, loopback or link-local one, where the hub does not send unless "
			    "started with --webhooks-private");
	return why;
}

static int sub_row(const hub_webhook *w, void *ctx)
{
	cx *c = ctx;
	char n1[24], when[17];
	html_f(&c->h, "<tr><td><a href=\"/venues/%s/webhooks/%s\">%s</a></td><td>", c->venue.id, w->id, w->url);
	for (int i = 0; hub_webhook_types[i]; i++)
		if (hub_webhook_wants(w->types, hub_webhook_types[i]))
			html_f(&c->h, "<code>%s</code> ", hub_webhook_types[i]);
	html_f(&c->h, "</td><td>");
	SAY(c, "%1$s waiting", cx_num(w->waiting, n1));
	html_f(&c->h, "</td><td>");
	if (w->disabled_ms) {
		html_f(&c->h, "<span class=\"bad\">%s</span> %s: %s", T(c, "off"), cx_time(c, w->disabled_ms, when),
		       why_text(c, w->disabled_why));
	} else if (w->attempts) {
		html_f(&c->h, "<span class=\"warn\">");
		SAY(c, "retrying (%1$s failed attempts)", cx_num(w->attempts, n1));
		html_f(&c->h, "</span>");
	} else {
		html_f(&c->h, "%s", T(c, "on"));
	}
	html_f(&c->h, "</td></tr>\n");
	return 0;
}

static void webhooks_page(cx *c)
{
	char action[200];
	page_begin(c, T(c, "Webhooks"), "webhooks");
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2><p class=\"muted\">%s</p>", T(c, "Webhooks"),
	       T(c, "The hub tells another system (a chat bot, a CRM, a door) the moment something happens here: a "
		    "signed HTTP POST to its address, at least once, in order, retried for up to 3 days."));
	html_f(&c->h,
	       "<table class=\"data\" id=\"webhooks\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>"
	       "</thead><tbody>",
	       T(c, "Address"), T(c, "Event types"), T(c, "Waiting"), T(c, "State"));
	hub_err e = c->st->ops->webhook->each(c->st, c->venue.id, sub_row, c);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	html_f(&c->h, "</tbody></table></section>\n<section class=\"card\"><h2>%s</h2>", T(c, "Add a webhook"));
	snprintf(action, sizeof action, "/venues/%s/webhooks", c->venue.id);
	form_open(c, action, 0);
	html_f(&c->h,
	       "<div class=\"field\"><label for=\"url\">%s</label><input id=\"url\" name=\"url\" type=\"url\""
	       " maxlength=\"1024\" placeholder=\"https://\" required></div><fieldset><legend>%s</legend>",
	       T(c, "The receiver's address (https://)"), T(c, "Event types"));
	for (int i = 0; hub_webhook_types[i]; i++)
		html_f(&c->h,
		       "<label class=\"check\"><input type=\"checkbox\" name=\"event.%s\" value=\"1\" checked> %s"
		       " <code>%s</code></label>",
		       hub_webhook_types[i], type_label(c, hub_webhook_types[i]), hub_webhook_types[i]);
	html_f(&c->h, "</fieldset><button class=\"primary\">%s</button>", T(c, "Add"));
	form_close(c);
	html_f(&c->h, "</section>");
	page_end(c);
}

static void webhooks_add(cx *c)
{
	const char *url = form_get(&c->form, "url");
	char types[HUB_WEBHOOK_TYPES_MAX] = "", why[400], name[64];
	for (int i = 0; hub_webhook_types[i]; i++) {
		snprintf(name, sizeof name, "event.%s", hub_webhook_types[i]);
		if (form_get(&c->form, name))
			snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", types[0] ? "," : "",
				 hub_webhook_types[i]);
	}
	if (!types[0]) {
		page_fail(c, 400, T(c, "Choose at least one event."));
		return;
	}
	if (!url || hub_webhook_url_allowed(url, console_webhooks_private(c), why, sizeof why) != 0) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s: %s", T(c, "This address cannot receive webhooks"), url ? why : "-");
		page_fail(c, 400, msg);
		return;
	}
	hub_webhook w = {0};
	if (clock_new_id(w.id) != 0) {
		page_store_failed(c, HUB_ERR);
		return;
	}
	snprintf(w.venue_id, sizeof w.venue_id, "%s", c->venue.id);
	snprintf(w.url, sizeof w.url, "%s", url);
	snprintf(w.types, sizeof w.types, "%s", types);
	snprintf(w.created_by, sizeof w.created_by, "%s", c->user.id);
	hub_webhook_secret_new(w.secret);
	w.created_ms = c->rq->now_ms;
	hub_err e = c->st->ops->webhook->add(c->st, &w);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "webhook.add", json_pack("{s:s,s:s,s:s}", "webhook", w.id, "url", w.url, "events", types)) !=
	    0)
		return;
	page_begin(c, T(c, "Webhooks"), "webhooks");
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2><p>%s</p>", T(c, "Webhook added"), w.url);
	html_f(&c->h,
	       "<p class=\"alert ok\">%s</p><p><code id=\"webhook-secret\">%s</code></p><p class=\"muted\">%s</p>",
	       T(c, "Its signing secret, shown only now: give it to the receiver, which checks each request's "
		    "webhook-signature with it."),
	       w.secret,
	       T(c, "Each request carries the headers webhook-id, webhook-timestamp and webhook-signature (v1, "
		    "HMAC-SHA256 over id.timestamp.body): the receiver keeps the ids it has seen and refuses old "
		    "timestamps, so that nothing is taken twice."));
	html_f(&c->h, "<p><a href=\"/venues/%s/webhooks\">%s</a></p></section>", c->venue.id, T(c, "Back to webhooks"));
	page_end(c);
}

static int load(cx *c, hub_webhook *w)
{
	hub_err e = c->st->ops->webhook->get(c->st, c->id, w);
	if (e == HUB_OK && strcmp(w->venue_id, c->venue.id) != 0)
		e = HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "There is no such webhook in this venue."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static int delivery_row(const hub_webhook_delivery *d, void *ctx)
{
	cx *c = ctx;
	char when[17], n1[24], n2[24], n3[24];
	html_f(&c->h, "<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td class=\"%s\">%s</td><td>%s</td>"
		      "<td>%s ms</td><td>%s</td></tr>\n",
	       cx_time(c, d->at_ms, when), cx_num(d->event_seq, n1), d->type, cx_num(d->attempt, n2),
	       strcmp(d->outcome, "delivered") == 0 ? "ok" : "bad", d->outcome, d->status ? cx_num(d->status, n3) : "-",
	       cx_num(d->ms, n1), d->why);
	return 0;
}

static void webhook_page(cx *c)
{
	hub_webhook w;
	if (load(c, &w) != 0)
		return;
	char action[200], n1[24];
	page_begin(c, T(c, "Webhooks"), "webhooks");
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2><p><code>%s</code></p><p>", T(c, "Webhook"), w.url);
	SAY(c, "%1$s events waiting.", cx_num(w.waiting, n1));
	html_f(&c->h, "</p>");
	if (w.disabled_ms) {
		html_f(&c->h, "<p class=\"alert bad\">%s: %s</p>", T(c, "Off"), why_text(c, w.disabled_why));
		snprintf(action, sizeof action, "/venues/%s/webhooks/%s/enable", c->venue.id, w.id);
		form_open(c, action, 0);
		html_f(&c->h, "<button class=\"primary\">%s</button>", T(c, "Turn on again"));
		form_close(c);
	}
	snprintf(action, sizeof action, "/venues/%s/webhooks/%s/remove", c->venue.id, w.id);
	form_open(c, action, 0);
	html_f(&c->h, "<button class=\"danger\">%s</button>", T(c, "Remove"));
	form_close(c);
	html_f(&c->h, "</section><section class=\"card\"><h2>%s</h2>", T(c, "Deliveries"));
	html_f(&c->h,
	       "<table class=\"data\" id=\"deliveries\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	       "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	       T(c, "When"), T(c, "Event"), T(c, "Type"), T(c, "Attempt"), T(c, "Outcome"), T(c, "Answer"), T(c, "Time"),
	       T(c, "Detail"));
	hub_err e = c->st->ops->webhook->deliveries(c->st, w.id, DELIVERIES_SHOWN, delivery_row, c);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	html_f(&c->h, "</tbody></table></section>");
	page_end(c);
}

static void webhook_enable(cx *c)
{
	hub_webhook w;
	if (load(c, &w) != 0)
		return;
	hub_err e = c->st->ops->webhook->set_disabled(c->st, w.id, 0, NULL);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "webhook.enable", json_pack("{s:s,s:s}", "webhook", w.id, "url", w.url)) != 0)
		return;
	page_flash(c, T(c, "The webhook is on again."));
	page_redirect(c, "/venues/%s/webhooks/%s", c->venue.id, w.id);
}

static void webhook_remove(cx *c)
{
	hub_webhook w;
	if (load(c, &w) != 0)
		return;
	hub_err e = c->st->ops->webhook->remove(c->st, w.id);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "webhook.remove", json_pack("{s:s,s:s}", "webhook", w.id, "url", w.url)) != 0)
		return;
	page_flash(c, T(c, "The webhook was removed."));
	page_redirect(c, "/venues/%s/webhooks", c->venue.id);
}

const console_route console_routes_webhooks[] = {
    {"GET", "/venues/{v}/webhooks", HUB_ROLE_ORGANIZER, webhooks_page},
    {"POST", "/venues/{v}/webhooks", HUB_ROLE_ORGANIZER, webhooks_add},
    {"GET", "/venues/{v}/webhooks/{id}", HUB_ROLE_ORGANIZER, webhook_page},
    {"POST", "/venues/{v}/webhooks/{id}/enable", HUB_ROLE_ORGANIZER, webhook_enable},
    {"POST", "/venues/{v}/webhooks/{id}/remove", HUB_ROLE_ORGANIZER, webhook_remove},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
