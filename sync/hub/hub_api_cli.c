/*
 * hub_api_cli — the open API's commands of tingzi-hub (see hub_api_cli.h).
 */
#include "sync/hub/hub_api_cli.h"
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char hub_usage_tokens[] =
    "Usage: tingzi-hub tokens add --venue VENUE --name NAME --scope read|write\n"
    "       tingzi-hub tokens list [--venue VENUE]\n"
    "       tingzi-hub tokens revoke ID|NAME --venue VENUE\n"
    "\n"
    "Tokens of the open API (/api/v1/, sync/hub/openapi.json), one venue each.\n"
    "add: prints the token (tzk_...) once on stdout; the hub keeps only its\n"
    "SHA-256. NAME (1 to 64 bytes, unique in the venue) is who the audit log\n"
    "says made each change. A read token reads; a write token also writes\n"
    "members, events, group links and check-ins.\n"
    "list: the tokens, no secrets: id, venue, name, scope, made, last used,\n"
    "revoked.\n"
    "revoke: the token opens nothing from its next request on.\n";

const char hub_usage_api[] = "Usage: tingzi-hub api routes\n"
			     "\n"
			     "The open API's routes as the server has them: method, path and the\n"
			     "scope a token needs.\n";

const args_opt hub_tokens_add_opts[] = {{"venue", 1, 0}, {"name", 1, 0}, {"scope", 1, 0}, {0}};
enum { ADD_VENUE, ADD_NAME, ADD_SCOPE };
const args_opt hub_tokens_list_opts[] = {{"venue", 1, 0}, {0}};
const args_opt hub_tokens_revoke_opts[] = {{"venue", 1, 0}, {0}};

#define usage_error(usage, ...) args_usage_error("tingzi-hub", usage, __VA_ARGS__)

static int venue_known(hub_store *st, const char *id, hub_venue *v)
{
	hub_err e = check_hex(id, 32) ? st->ops->venue_get(st, id, v) : HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND)
		fprintf(stderr, "tingzi-hub: no venue %s (tingzi-hub venues list)\n", id);
	else if (e != HUB_OK)
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
	return e == HUB_OK;
}

int hub_cmd_tokens_add(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[ADD_VENUE], *name = o->value[ADD_NAME], *scope = o->value[ADD_SCOPE];
	if (!venue || !name || !scope)
		return usage_error(usage, "tokens add needs --venue VENUE, --name NAME and --scope read|write");
	if (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0)
		return usage_error(usage, "--scope %s: expected read or write", scope);
	if (!hub_api_token_name_ok(name))
		return usage_error(usage, "--name: 1 to 64 bytes of text without control characters");
	hub_venue v;
	if (!venue_known(st, venue, &v))
		return 1;
	hub_api_token t = {.write = strcmp(scope, "write") == 0};
	snprintf(t.venue_id, sizeof t.venue_id, "%s", v.id);
	snprintf(t.name, sizeof t.name, "%s", name);
	char text[HUB_API_TOKEN_LEN + 1];
	hub_err e = hub_api_token_make(st, &t, clock_wall_ms(), text);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	char detail[200];
	snprintf(detail, sizeof detail, "{\"token_id\":\"%s\",\"scope\":\"%s\"}", t.id, scope);
	st->ops->audit_add(st, NULL, v.id, "token.add.cli", detail, clock_wall_ms());
	printf("%s\n", text);
	sodium_memzero(text, sizeof text);
	fprintf(stderr, "token \"%s\" (%s, id %s) for venue \"%s\": shown this once; the hub keeps only its hash\n", t.name,
		scope, t.id, v.name);
	return 0;
}

static void when(int64_t ms, char out[24])
{
	if (!ms) {
		snprintf(out, 24, "-");
		return;
	}
	char iso[40];
	clock_local_iso(ms, iso, sizeof iso);
	snprintf(out, 24, "%.16s", iso);
}

static int print_token(const hub_api_token *t, void *ctx)
{
	(void)ctx;
	char made[24], used[24], revoked[24];
	when(t->created_ms, made);
	when(t->last_used_ms, used);
	when(t->revoked_ms, revoked);
	printf("%s  %s  %-5s  made %s  used %s  revoked %s  %s\n", t->id, t->venue_id, t->write ? "write" : "read", made,
	       used, revoked, t->name);
	return 0;
}

int hub_cmd_tokens_list(hub_store *st, const args *o, const char *usage)
{
	(void)usage;
	const char *venue = o->value[0];
	hub_venue v;
	if (venue && !venue_known(st, venue, &v))
		return 1;
	if (st->ops->api->tokens_each(st, venue, print_token, NULL) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	return 0;
}

int hub_cmd_tokens_revoke(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[0];
	if (!venue || o->nwords != 1)
		return usage_error(usage, "tokens revoke needs a token's ID or NAME and --venue VENUE");
	hub_venue v;
	if (!venue_known(st, venue, &v))
		return 1;
	hub_api_token t;
	hub_err e = st->ops->api->token_get(st, v.id, o->word[0], &t);
	if (e == HUB_OK && t.revoked_ms)
		e = HUB_NOT_FOUND;
	if (e == HUB_OK)
		e = st->ops->api->token_revoke(st, t.id, clock_wall_ms());
	if (e == HUB_NOT_FOUND) {
		fprintf(stderr, "tingzi-hub: venue \"%s\" has no unrevoked token %s (tingzi-hub tokens list)\n", v.name,
			o->word[0]);
		return 1;
	}
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	char detail[120];
	snprintf(detail, sizeof detail, "{\"token_id\":\"%s\"}", t.id);
	st->ops->audit_add(st, NULL, v.id, "token.revoke.cli", detail, clock_wall_ms());
	fprintf(stderr, "token \"%s\" revoked: it opens nothing from now on\n", t.name);
	return 0;
}

static void print_route(const char *method, const char *pattern, const char *scope, void *ctx)
{
	(void)ctx;
	printf("%-5s %-32s %s\n", method, pattern, scope);
}

int hub_cmd_api_routes(hub_store *st, const args *o, const char *usage)
{
	(void)st, (void)o, (void)usage;
	hub_api_routes_each(print_route, NULL);
	return 0;
}
