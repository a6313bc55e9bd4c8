/* hub_webhook_cli — the webhooks commands of tingzi-hub (see hub_webhook_cli.h). */
#include "sync/hub/hub_webhook_cli.h"

#include "sync/clock.h"
#include "sync/hub/hub_webhook.h"
#include "sync/hub/hub_webhook_worker.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char hub_usage_webhooks[] =
    "Usage: tingzi-hub webhooks add --venue VENUE --url URL [--events LIST] [--webhooks-private]\n"
    "       tingzi-hub webhooks list [--venue VENUE]\n"
    "       tingzi-hub webhooks remove ID\n"
    "       tingzi-hub webhooks enable ID\n"
    "       tingzi-hub webhooks deliveries ID [--limit N]\n"
    "\n"
    "add: a subscription: the hub posts the venue's events to URL (https://, or\n"
    "http://), signed with a secret printed once here (\"whsec_...\": the receiver\n"
    "checks the webhook-signature header with it). LIST: a comma list of\n"
    "checkin.created, checkin.reversed, member.created, member.signed_up,\n"
    "event.started, link.expiring, device.offline (default: all). It hears of what\n"
    "happens from now on. A URL whose host is a loopback, private or link-local\n"
    "address is refused unless --webhooks-private is given (and serve needs it too).\n"
    "list: every subscription, on or off (and why), with the events it has yet to\n"
    "deliver. remove: the subscription and its deliveries are gone. enable: a\n"
    "subscription turned off (a 410 from the receiver) goes on from where it stood.\n"
    "deliveries: its last N attempts (default 20), newest first: when, the event,\n"
    "the answer.\n";

enum { ADD_VENUE, ADD_URL, ADD_EVENTS, ADD_PRIVATE };
const args_opt hub_webhooks_add_opts[] = {
    {"venue", 1, 0}, {"url", 1, 0}, {"events", 1, 0}, {"webhooks-private", 0, 0}, {0}};
enum { LIST_VENUE };
const args_opt hub_webhooks_list_opts[] = {{"venue", 1, 0}, {0}};
enum { DELIVERIES_LIMIT };
const args_opt hub_webhooks_deliveries_opts[] = {{"limit", 1, 0}, {0}};

#define usage_error(usage, ...) args_usage_error("tingzi-hub", usage, __VA_ARGS__)

static void when(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !localtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, len, "-");
}

int hub_cmd_webhooks_add(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[ADD_VENUE], *url = o->value[ADD_URL];
	if (!venue || !url || o->nwords)
		return usage_error(usage, "webhooks add needs --venue VENUE and --url URL");
	hub_webhook w = {0};
	char why[512], all[HUB_WEBHOOK_TYPES_MAX] = "";
	for (int i = 0; hub_webhook_types[i]; i++)
		snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? "," : "", hub_webhook_types[i]);
	const char *types = o->value[ADD_EVENTS] ? o->value[ADD_EVENTS] : all;
	if (strlen(types) >= sizeof w.types || hub_webhook_types_check(types, why, sizeof why) != 0)
		return usage_error(usage, "--events: %s", strlen(types) >= sizeof w.types ? "too long" : why);
	if (hub_webhook_url_allowed(url, o->value[ADD_PRIVATE] != NULL, why, sizeof why) != 0) {
		fprintf(stderr, "tingzi-hub: %s\n", why);
		return 1;
	}
	hub_venue v;
	if (st->ops->venue_get(st, venue, &v) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: no venue %s (tingzi-hub venues list)\n", venue);
		return 1;
	}
	if (clock_new_id(w.id) != 0) {
		fprintf(stderr, "tingzi-hub: cannot make an id\n");
		return 1;
	}
	snprintf(w.venue_id, sizeof w.venue_id, "%s", v.id);
	snprintf(w.url, sizeof w.url, "%s", url);
	snprintf(w.types, sizeof w.types, "%s", types);
	hub_webhook_secret_new(w.secret);
	w.created_ms = clock_wall_ms();
	if (st->ops->webhook->add(st, &w) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	json_t *d = json_pack("{s:s,s:s,s:s}", "webhook", w.id, "url", w.url, "events", w.types);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	st->ops->audit_add(st, NULL, v.id, "webhook.add.cli", text ? text : "{}", w.created_ms);
	free(text);
	printf("%s\n%s\n", w.id, w.secret);
	fprintf(stderr, "webhook %s added for %s: %s\nits signing secret (shown this once) is the second line\n", w.id,
		v.name, w.url);
	return 0;
}

static int print_sub(const hub_webhook *w, void *ctx)
{
	(void)ctx;
	char at[32];
	when(w->created_ms, at, sizeof at);
	printf("%s  %s  %s  %s  waiting %lld%s%s\n", w->id, w->venue_id, w->url, w->types, (long long)w->waiting,
	       w->disabled_ms ? "  OFF: " : "", w->disabled_ms ? w->disabled_why : "");
	return 0;
}

int hub_cmd_webhooks_list(hub_store *st, const args *o, const char *usage)
{
	(void)usage;
	if (st->ops->webhook->each(st, o->value[LIST_VENUE], print_sub, NULL) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	return 0;
}

static int one_id(hub_store *st, const args *o, const char *usage, const char *what, hub_webhook *w)
{
	if (o->nwords != 1)
		return usage_error(usage, "webhooks %s needs the webhook's ID (tingzi-hub webhooks list)", what);
	if (st->ops->webhook->get(st, o->word[0], w) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	return 0;
}

/* remove or enable (the store's change), audited; 0, or 1 after saying why. */
static int change(hub_store *st, const args *o, const char *usage, int removing)
{
	hub_webhook w;
	int rc = one_id(st, o, usage, removing ? "remove" : "enable", &w);
	if (rc)
		return rc;
	hub_err e = removing ? st->ops->webhook->remove(st, w.id) : st->ops->webhook->set_disabled(st, w.id, 0, NULL);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	char detail[160];
	snprintf(detail, sizeof detail, "{\"webhook\":\"%s\"}", w.id);
	st->ops->audit_add(st, NULL, w.venue_id, removing ? "webhook.remove.cli" : "webhook.enable.cli", detail,
			   clock_wall_ms());
	if (removing)
		fprintf(stderr, "webhook %s removed\n", w.id);
	else
		fprintf(stderr, "webhook %s on again%s\n", w.id, w.disabled_ms ? "" : " (it was on)");
	return 0;
}

int hub_cmd_webhooks_remove(hub_store *st, const args *o, const char *usage)
{
	return change(st, o, usage, 1);
}

int hub_cmd_webhooks_enable(hub_store *st, const args *o, const char *usage)
{
	return change(st, o, usage, 0);
}

static int print_delivery(const hub_webhook_delivery *d, void *ctx)
{
	(void)ctx;
	char at[32];
	when(d->at_ms, at, sizeof at);
	printf("%s  event %lld  %-16s  attempt %d  %-9s  %d  %lld ms  %s\n", at, (long long)d->event_seq, d->type,
	       d->attempt, d->outcome, d->status, (long long)d->ms, d->why);
	return 0;
}

int hub_cmd_webhooks_deliveries(hub_store *st, const args *o, const char *usage)
{
	hub_webhook w;
	int rc = one_id(st, o, usage, "deliveries", &w);
	if (rc)
		return rc;
	long limit = 20;
	if (o->value[DELIVERIES_LIMIT]) {
		char *end;
		limit = strtol(o->value[DELIVERIES_LIMIT], &end, 10);
		if (*end || limit < 1 || limit > 10000)
			return usage_error(usage, "--limit takes a number from 1 to 10000");
	}
	if (st->ops->webhook->deliveries(st, w.id, (int)limit, print_delivery, NULL) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	return 0;
}
