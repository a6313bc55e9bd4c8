/*
 * cmd_links — `tingzi links ...`: the group links join QR codes carry, and
 * `tingzi venue set-referral`. The rules (valid URLs, expiry, which link
 * shows) are in links.c; this file reads arguments and reports.
 */
#include "app/cli/cli.h"
#include "sync/links.h"
#include "sync/clock.h"
#include "sync/utf8.h"

#include <getopt.h>
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

static int label_ok(const char *s)
{
	size_t n = strnlen(s, STORE_TITLE_MAX);
	if (n == 0 || n >= STORE_TITLE_MAX || !utf8_valid(s, n))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int links_add(const char *db, int argc, char **argv)
{
	const char *label = NULL, *url = NULL, *platform = NULL, *expires = NULL;
	int64_t event_id = 0, cap = 0;
	int is_default = 0;
	static const struct option opts[] = {{"label", required_argument, 0, 'l'},
					     {"url", required_argument, 0, 'u'},
					     {"platform", required_argument, 0, 'p'},
					     {"expires", required_argument, 0, 'x'},
					     {"event", required_argument, 0, 'e'},
					     {"cap", required_argument, 0, 'c'},
					     {"default", no_argument, 0, 'd'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			label = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'p':
			platform = optarg;
			break;
		case 'x':
			expires = optarg;
			break;
		case 'e':
			if (parse_id(optarg, &event_id))
				return usage_error(usage_links, "--event \"%s\" is not an event id", optarg);
			break;
		case 'c':
			if (parse_id(optarg, &cap) || cap > 1000000)
				return usage_error(usage_links, "--cap \"%s\" is not 1 to 1000000", optarg);
			break;
		case 'd':
			is_default = 1;
			break;
		case 'h':
			fputs(usage_links, stdout);
			return 0;
		default:
			fputs(usage_links, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_links, "unexpected argument \"%s\"", argv[optind]);
	if (!label || !url)
		return usage_error(usage_links, "%s", "links add needs --label and --url");
	if (!label_ok(label))
		return usage_error(usage_links, "the label must be 1 to 159 bytes of text: \"%s\"", label);
	char why[256];
	if (links_check_url(url, why, sizeof why))
		return usage_error(usage_links, "--url: %s", why);
	if (platform && !links_platform_valid(platform))
		return usage_error(
		    usage_links, "--platform \"%s\" is not wechat, line, telegram, discord or url", platform);
	if (!platform)
		platform = links_guess_platform(url);
	int64_t now = clock_wall_ms();
	store_link l = {.member_cap = cap, .event_id = event_id, .is_default = is_default};
	if (links_parse_expiry(expires, platform, now, &l.expires_ms, why, sizeof why))
		return usage_error(usage_links, "--expires: %s", why);
	snprintf(l.platform, sizeof l.platform, "%s", platform);
	snprintf(l.label, sizeof l.label, "%s", label);
	snprintf(l.url, sizeof l.url, "%s", url);

	store *s = open_db(db, 1);
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
		    json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:b}", "id", (json_int_t)l->id, "platform",
			      l->platform, "label", l->label, "url", l->url, "live_url",
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
	int fmt = 0;
	if (argc == 3 && strcmp(argv[2], "--help") == 0) {
		fputs(usage_links, stdout);
		return 0;
	}
	if (argc == 4 && strcmp(argv[2], "--format") == 0) {
		if (parse_format(argv[3], usage_links, 0, &fmt))
			return EXIT_USAGE;
	} else if (argc != 2) {
		return usage_error(usage_links, "unexpected argument \"%s\"", argv[2]);
	}
	store *s = open_db(db, 0);
	if (!s)
		return 1;
	list_ctx ctx = {.json = fmt == 1 ? json_array() : NULL, .now = clock_wall_ms()};
	store_err err = store_links_foreach(s, list_link, &ctx);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot list the links: %s\n", store_strerror(err));
	if (ctx.json && err == STORE_OK)
		print_json(ctx.json);
	else
		json_decref(ctx.json);
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

static int links_by_id(const char *db, int argc, char **argv, int remove)
{
	int64_t id;
	if (argc == 3 && strcmp(argv[2], "--help") == 0) {
		fputs(usage_links, stdout);
		return 0;
	}
	if (argc != 3 || parse_id(argv[2], &id))
		return usage_error(usage_links, "links %s takes one link ID (see 'tingzi links list')",
				   argv[1]);
	store *s = open_db(db, 0);
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
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_links, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "add") == 0)
		return links_add(db, argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return links_list(db, argc, argv);
	if (strcmp(argv[1], "remove") == 0)
		return links_by_id(db, argc, argv, 1);
	if (strcmp(argv[1], "set-default") == 0)
		return links_by_id(db, argc, argv, 0);
	return usage_error(usage_links, "unknown links command \"%s\"", argv[1]);
}

int cmd_referral(const char *db, const char *value)
{
	int on = strcmp(value, "on") == 0;
	if (!on && strcmp(value, "off") != 0) {
		fprintf(stderr, "tingzi: venue set-referral takes on or off, not \"%s\"\n", value);
		return EXIT_USAGE;
	}
	store *s = open_db(db, 1);
	if (!s)
		return 1;
	store_err err = store_setting_set(s, "referral_qr", on ? "1" : "0");
	if (err == STORE_OK)
		printf("referral QR on the welcome screen: %s\n", on ? "on" : "off");
	else
		fprintf(stderr, "tingzi: cannot save the setting: %s\n", store_strerror(err));
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}
