/*
 * cmd_links — `tingzi links ...`: the group links join QR codes carry. The
 * rules (valid URLs, expiry, which link shows) are in sync/links.c; this file
 * reads arguments and reports.
 */
#include "app/cli/cli.h"
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/links.h"
#include "sync/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_links[] = "Usage: tingzi links add --label LABEL --url URL [--platform P] [--expires TIME]\n"
			   "                        [--event ID] [--cap N] [--default]\n"
			   "       tingzi links list [--format text|json]\n"
			   "       tingzi links remove ID\n"
			   "       tingzi links set-default ID\n"
			   "\n"
			   "Group links are shown as join QR codes on the kiosk and by 'tingzi show-qr'.\n"
			   "  --label LABEL    what members read beside the code (1 to 159 bytes)\n"
			   "  --url URL        http:// or https://, at most 1024 bytes, no spaces\n"
			   "  --platform P     wechat, line, telegram, discord or url (default: from the\n"
			   "                   URL's host: weixin.qq.com, line.me, t.me, discord.gg, ...)\n"
			   "  --expires TIME   local time 2026-12-01T18:00, or +7d, +36h, +90m from now,\n"
			   "                   or never. WeChat group codes and Discord invites live at\n"
			   "                   most 7 days and default to 7 days from now.\n"
			   "  --event ID       show the link only during that event (default: the venue)\n"
			   "  --cap N          the group's member limit, for the record\n"
			   "  --default        make it the venue's default link\n"
			   "\n"
			   "An expired link is never shown. 'links list' flags links that expire within\n"
			   "48 hours, and the kiosk logs them (event link.expiring) when it starts.\n"
			   "Exit status: 0 done, 1 error, 2 bad usage (nothing is stored).\n";

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

static int links_add(const char *db, int argc, char **argv)
{
	enum { LABEL, URL, PLATFORM, EXPIRES, EVENT, CAP, DEFAULT };
	static const args_opt opts[] = {{"label", 1, 0}, {"url", 1, 0}, {"platform", 1, 0}, {"expires", 1, 0},
					{"event", 1, 0}, {"cap", 1, 0}, {"default", 0, 0},  {0}};
	args o;
	int rc = cli_parse(argc, argv, 2, opts, 0, usage_links, &o);
	if (rc != ARGS_GO)
		return rc;
	const char *label = o.value[LABEL], *url = o.value[URL], *platform = o.value[PLATFORM],
		   *expires = o.value[EXPIRES];
	int64_t event_id = 0, cap = 0;
	int is_default = o.value[DEFAULT] != NULL;
	if (o.value[EVENT] && parse_id(o.value[EVENT], &event_id))
		return cli_usage_error(usage_links, "--event \"%s\" is not an event id", o.value[EVENT]);
	if (o.value[CAP] && (parse_id(o.value[CAP], &cap) || cap > 1000000))
		return cli_usage_error(usage_links, "--cap \"%s\" is not 1 to 1000000", o.value[CAP]);
	if (!label || !url)
		return cli_usage_error(usage_links, "%s", "links add needs --label and --url");
	if (!check_text(label, STORE_TITLE_MAX - 1, 0))
		return cli_usage_error(usage_links, "the label must be 1 to 159 bytes of text: \"%s\"",
				       label);
	char why[256];
	if (links_check_url(url, why, sizeof why))
		return cli_usage_error(usage_links, "--url: %s", why);
	if (platform && !links_platform_valid(platform))
		return cli_usage_error(
		    usage_links, "--platform \"%s\" is not wechat, line, telegram, discord or url", platform);
	if (!platform)
		platform = links_guess_platform(url);
	int64_t now = clock_wall_ms();
	store_link l = {.member_cap = cap, .event_id = event_id, .is_default = is_default};
	if (links_parse_expiry(expires, platform, now, &l.expires_ms, why, sizeof why))
		return cli_usage_error(usage_links, "--expires: %s", why);
	snprintf(l.platform, sizeof l.platform, "%s", platform);
	snprintf(l.label, sizeof l.label, "%s", label);
	snprintf(l.url, sizeof l.url, "%s", url);

	store *s = cli_open_db(db, 1);
	if (!s)
		return 1;
	store_event e;
	int64_t id = 0;
	store_err err = STORE_OK;
	if (event_id && store_event_get(s, event_id, &e) != STORE_OK) {
		fprintf(stderr, "tingzi: there is no event %lld ('tingzi events list' shows them)\n",
			(long long)event_id);
		store_close(s);
		return 1;
	}
	err = store_link_add(s, &l, now, &id);
	if (err == STORE_OK) {
		char when[24] = "never";
		if (l.expires_ms)
			clock_local_iso(l.expires_ms, when, sizeof when);
		printf("added link %lld: %s (%s, expires %s)%s\n", (long long)id, label,
		       links_platform_name(platform), when, is_default ? ", the venue default" : "");
	} else {
		fprintf(stderr, "tingzi: cannot add the link: %s (%s)\n", store_strerror(err),
			store_errmsg(s));
	}
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

typedef struct list_ctx {
	json_t *json; /* NULL: text */
	int64_t now;
	int expiring;
} list_ctx;

static const char *state_name(link_state st)
{
	return st == LINK_EXPIRED ? "expired" : st == LINK_EXPIRING ? "expiring" : "live";
}

static int list_link(const store_link *l, void *arg)
{
	list_ctx *ctx = arg;
	link_state st = links_state(l, ctx->now);
	char when[24] = "never";
	if (l->expires_ms)
		clock_local_iso(l->expires_ms, when, sizeof when);
	if (st == LINK_EXPIRING) {
		ctx->expiring++;
		fprintf(stderr, "tingzi: link %lld (%s) expires in %lld hours, at %s: add a new one\n",
			(long long)l->id, l->label, (long long)((l->expires_ms - ctx->now) / 3600000), when);
	}
	if (ctx->json) {
		json_array_append_new(
		    ctx->json,
		    json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:b}", "id", (json_int_t)l->id,
			      "platform", l->platform, "label", l->label, "url", l->url, "live_url",
			      l->live_url[0] ? json_string(l->live_url) : json_null(), "expires",
			      l->expires_ms ? json_string(when) : json_null(), "state", state_name(st),
			      "event", l->event_id ? json_integer(l->event_id) : json_null(), "cap",
			      l->member_cap ? json_integer(l->member_cap) : json_null(), "default",
			      l->is_default));
		return 0;
	}
	char scope[32];
	if (l->event_id)
		snprintf(scope, sizeof scope, "event %lld", (long long)l->event_id);
	else
		snprintf(scope, sizeof scope, "%s", l->is_default ? "venue default" : "venue");
	printf("%lld\t%s\t%s\t%s\texpires %s%s\t%s\n", (long long)l->id, l->platform, l->label, scope, when,
	       st == LINK_EXPIRED    ? " EXPIRED"
	       : st == LINK_EXPIRING ? " EXPIRES SOON"
				     : "",
	       l->url);
	return 0;
}

static int links_list(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"format", 1, 0}, {0}};
	args o;
	int fmt, rc = cli_parse(argc, argv, 2, opts, 0, usage_links, &o);
	if (rc != ARGS_GO)
		return rc;
	if (cli_format(o.value[0], usage_links, 0, &fmt))
		return EXIT_USAGE;
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	list_ctx ctx = {.json = fmt == CLI_JSON ? json_array() : NULL, .now = clock_wall_ms()};
	store_err err = store_links_foreach(s, list_link, &ctx);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot list the links: %s\n", store_strerror(err));
	if (ctx.json && err == STORE_OK)
		cli_print_json(ctx.json);
	else
		json_decref(ctx.json);
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

static int links_by_id(const char *db, int argc, char **argv, int remove)
{
	int64_t id;
	args o;
	int rc = cli_parse(argc, argv, 2, NULL, 1, usage_links, &o);
	if (rc != ARGS_GO)
		return rc;
	if (o.nwords != 1 || parse_id(o.word[0], &id))
		return cli_usage_error(usage_links, "links %s takes one link ID (see 'tingzi links list')",
				       argv[1]);
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	store_err err = remove ? store_link_remove(s, id) : store_link_set_default(s, id, clock_wall_ms());
	if (err == STORE_OK)
		printf(remove ? "removed link %lld\n" : "link %lld is now the venue default\n",
		       (long long)id);
	else if (err == STORE_ERR_NOT_FOUND)
		fprintf(stderr, "tingzi: there is no link %lld ('tingzi links list' shows them)\n",
			(long long)id);
	else
		fprintf(stderr, "tingzi: cannot change the link: %s\n", store_strerror(err));
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

int cmd_links(const char *db, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_links, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "add") == 0)
		return links_add(db, argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return links_list(db, argc, argv);
	if (strcmp(argv[1], "remove") == 0)
		return links_by_id(db, argc, argv, 1);
	if (strcmp(argv[1], "set-default") == 0)
		return links_by_id(db, argc, argv, 0);
	return cli_usage_error(usage_links, "unknown links command \"%s\"", argv[1]);
}
