/*
 * tingzi-hub — the online server kiosks sync with, and its admin commands.
 * See `tingzi-hub --help` and sync/PROTOCOL.md.
 */
#include "sync/members_csv.h"
#include "sync/csv_out.h"
#include "sync/hub/hub_http.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"
#include "sync/links.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef TINGZI_VERSION
#define TINGZI_VERSION "0"
#endif

#define TZB_MAX (16u << 20)

static const char usage_text[] =
    "usage: tingzi-hub [--db PATH] COMMAND [ARGS]\n"
    "\n"
    "The server tingzi kiosks sync with: attendance comes up, rosters, events and\n"
    "group links go down (protocol: sync/PROTOCOL.md).\n"
    "\n"
    "  serve [--listen ADDR:PORT] [--public-url URL] [--tls-cert PEM --tls-key PEM]\n"
    "        [--max-connections N] [--per-address N] [--request-timeout SECONDS]\n"
    "        serve HTTP on ADDR:PORT (default 127.0.0.1:8420) until SIGINT/SIGTERM;\n"
    "        with a certificate and key, HTTPS. --public-url is how phones reach\n"
    "        the hub, for live codes /j/SLUG (default: the Host the kiosk used).\n"
    "        At most N connections in all (default 2000) and from one client\n"
    "        address (default 32; 0: no limit, for a hub behind a proxy); a\n"
    "        request (headers, body and answer) must be done in SECONDS (default 60)\n"
    "  venues add NAME [--tz ZONE]   add a venue; prints its id. Days are counted\n"
    "                                in ZONE (default: this machine's zone)\n"
    "  venues list\n"
    "  devices enroll-code VENUE [--hours N]\n"
    "        a single-use code a kiosk enrolls with (tingzi enroll URL CODE);\n"
    "        valid for N hours (default 24); printed alone on stdout\n"
    "  devices list [--venue VENUE]\n"
    "  devices revoke DEVICE         the device's token stops working at once\n"
    "  members import FILE.csv --venue VENUE\n"
    "        the kiosk's CSV format (name,phone,code,tier,expires); all or nothing\n"
    "  events add --venue VENUE --title TITLE --start 'YYYY-MM-DD HH:MM' --end '...'\n"
    "        times in the venue's zone\n"
    "  links add --venue VENUE URL [--label L] [--platform P] [--expires WHEN]\n"
    "            [--cap N] [--event UID] [--default] [--slug SLUG]\n"
    "        a group link; links of one slug (default: the venue's) form its live\n"
    "        code /j/SLUG, which leads to the first one not expired or full.\n"
    "        WHEN is 'YYYY-MM-DD HH:MM' or +Nd, +Nh, +Nm\n"
    "  checkins export --venue VENUE [--format csv|json]\n"
    "        every check-in with raw, offset and corrected times; duplicate_of\n"
    "        marks a second check-in of one attendance, reversed an undone one\n"
    "  audit export --venue VENUE [--format csv|json]\n"
    "        the kiosks' staff actions and undone check-ins, whole: session,\n"
    "        action and detail, the check-in and reason of each undo, times and\n"
    "        the device's sequence number\n"
    "  import FILE.tzb\n"
    "        a kiosk's signed batch file (tingzi export); the same exactly-once\n"
    "        rules as a push; a file that does not verify is refused whole\n"
    "\n"
    "  --db PATH   the hub's database (default: $TINGZI_HUB_DB, else ./tingzi-hub.db)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tingzi-hub: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see tingzi-hub --help)\n", stderr);
	return 2;
}

static hub_store *open_store(const char *db)
{
	char why[512];
	hub_store *st = hub_store_open(db, why, sizeof why);
	if (!st)
		fprintf(stderr, "tingzi-hub: %s\n", why);
	return st;
}

static int venue_known(hub_store *st, const char *id, hub_venue *v)
{
	hub_err e = hub_is_hex(id, 32) ? st->ops->venue_get(st, id, v) : HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND)
		fprintf(stderr, "tingzi-hub: no venue %s (tingzi-hub venues list)\n", id);
	else if (e != HUB_OK)
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
	return e == HUB_OK;
}

/* Options after the command words: --name value pairs and flags, plus positional words. */
typedef struct opts {
	const char *venue, *tz, *title, *start, *end, *label, *platform, *expires, *cap, *event, *slug, *format,
	    *hours, *listen, *public_url, *tls_cert, *tls_key, *max_connections, *per_address,
	    *request_timeout;
	int is_default;
	const char *pos[4];
	int npos;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
	static const struct option longopts[] = {
	    {"venue", required_argument, 0, 'v'},  {"tz", required_argument, 0, 'z'},
	    {"title", required_argument, 0, 't'},  {"start", required_argument, 0, 's'},
	    {"end", required_argument, 0, 'e'},    {"label", required_argument, 0, 'l'},
	    {"platform", required_argument, 0, 'p'}, {"expires", required_argument, 0, 'x'},
	    {"cap", required_argument, 0, 'c'},    {"event", required_argument, 0, 'E'},
	    {"slug", required_argument, 0, 'S'},   {"format", required_argument, 0, 'f'},
	    {"hours", required_argument, 0, 'H'},  {"listen", required_argument, 0, 'L'},
	    {"public-url", required_argument, 0, 'P'}, {"default", no_argument, 0, 'D'},
	    {"tls-cert", required_argument, 0, 'C'}, {"tls-key", required_argument, 0, 'K'},
	    {"max-connections", required_argument, 0, 'M'}, {"per-address", required_argument, 0, 'A'},
	    {"request-timeout", required_argument, 0, 'R'},
	    {0, 0, 0, 0}};
	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1 || optind < argc) {
		if (ch == -1) { /* a positional word; go on after it */
			if (o->npos == 4)
				return usage_error("too many arguments: %s", argv[optind]);
			o->pos[o->npos++] = argv[optind++];
			continue;
		}
		switch (ch) {
		case 'v': o->venue = optarg; break;
		case 'z': o->tz = optarg; break;
		case 't': o->title = optarg; break;
		case 's': o->start = optarg; break;
		case 'e': o->end = optarg; break;
		case 'l': o->label = optarg; break;
		case 'p': o->platform = optarg; break;
		case 'x': o->expires = optarg; break;
		case 'c': o->cap = optarg; break;
		case 'E': o->event = optarg; break;
		case 'S': o->slug = optarg; break;
		case 'f': o->format = optarg; break;
		case 'H': o->hours = optarg; break;
		case 'L': o->listen = optarg; break;
		case 'P': o->public_url = optarg; break;
		case 'D': o->is_default = 1; break;
		case 'C': o->tls_cert = optarg; break;
		case 'K': o->tls_key = optarg; break;
		case 'M': o->max_connections = optarg; break;
		case 'A': o->per_address = optarg; break;
		case 'R': o->request_timeout = optarg; break;
		default:
			return usage_error("unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	return 0;
}

/* ---- serve ---- */

/* A whole number lo..hi from a flag's text: 0, or -1. */
static int count_arg(const char *text, long lo, long hi, unsigned *out)
{
	char *end;
	long n;
	if (!text)
		return 0;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || end == text || *end || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int cmd_serve(hub_store *st, const opts *o)
{
	hub_serve_config cfg = {.listen = o->listen,
				.public_url = o->public_url,
				.tls_cert = o->tls_cert,
				.tls_key = o->tls_key,
				.per_address = HUB_PER_ADDRESS};
	if (o->npos)
		return usage_error("serve takes no argument %s", o->pos[0]);
	if (count_arg(o->max_connections, 16, 60000, &cfg.max_connections) != 0)
		return usage_error("--max-connections takes a number from 16 to 60000");
	if (count_arg(o->per_address, 0, 60000, &cfg.per_address) != 0)
		return usage_error("--per-address takes a number from 0 (no limit) to 60000");
	if (count_arg(o->request_timeout, 1, 3600, &cfg.request_seconds) != 0)
		return usage_error("--request-timeout takes a number of seconds from 1 to 3600");
	return hub_serve(st, &cfg);
}

/* ---- venues ---- */

static int print_venue(const hub_venue *v, void *ctx)
{
	printf("%s  %-24s  %-20s  /j/%s\n", v->id, v->name, v->tz, v->slug);
	return 0;
}

static int cmd_venues(hub_store *st, const char *verb, opts *o)
{
	if (verb && strcmp(verb, "add") == 0) {
		if (o->npos != 1 || !o->pos[0][0] || strlen(o->pos[0]) >= HUB_NAME_MAX)
			return usage_error("venues add needs one NAME of 1 to 159 bytes");
		for (const unsigned char *p = (const unsigned char *)o->pos[0]; *p; p++)
			if (*p < 0x20)
				return usage_error("the venue name has a control character");
		char tz[HUB_TZ_MAX];
		if (o->tz && !hub_tz_valid(o->tz))
			return usage_error("--tz %s is not a time zone this machine knows (e.g. Asia/Shanghai)", o->tz);
		if (o->tz)
			snprintf(tz, sizeof tz, "%s", o->tz);
		else
			hub_default_tz(tz, sizeof tz);
		hub_venue v;
		if (st->ops->venue_add(st, o->pos[0], tz, hub_now_ms(), &v) != HUB_OK) {
			fprintf(stderr, "tingzi-hub: cannot add the venue: %s\n", hub_store_errmsg(st));
			return 1;
		}
		printf("%s\n", v.id);
		fprintf(stderr, "venue \"%s\" added (days in %s; live code /j/%s)\n", v.name, v.tz, v.slug);
		return 0;
	}
	if (verb && strcmp(verb, "list") == 0)
		return st->ops->venues_each(st, print_venue, NULL) == HUB_OK ? 0 : 1;
	return usage_error("venues: expected add or list");
}

/* ---- devices ---- */

static void when(int64_t ms, char *out, size_t len)
{
	if (!ms) {
		snprintf(out, len, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

static int print_device(const hub_device *d, void *ctx)
{
	char en[32], seen[32];
	when(d->enrolled_ms, en, sizeof en);
	when(d->last_seen_ms, seen, sizeof seen);
	printf("%s  venue %.8s  %-16s  enrolled %s  last seen %s  clock %+lld s%s\n", d->id, d->venue_id,
	       d->name[0] ? d->name : "-", en, seen, (long long)(-d->offset_ms / 1000),
	       d->revoked_ms ? "  REVOKED" : "");
	return 0;
}

static int cmd_devices(hub_store *st, const char *verb, opts *o)
{
	if (verb && strcmp(verb, "enroll-code") == 0) {
		hub_venue v;
		if (o->npos != 1)
			return usage_error("devices enroll-code needs the VENUE id");
		long hours = 24;
		if (o->hours) {
			char *end;
			hours = strtol(o->hours, &end, 10);
			if (*end || hours < 1 || hours > 24 * 30)
				return usage_error("--hours %s: expected 1 to 720", o->hours);
		}
		if (!venue_known(st, o->pos[0], &v))
			return 1;
		static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* no 0/O, 1/I */
		char code[16];
		for (int i = 0, j = 0; i < 14; i++)
			code[i] = (i == 4 || i == 9) ? '-' : alphabet[randombytes_uniform(32)], j++;
		code[14] = '\0';
		unsigned char hash[HUB_HASH_LEN];
		hub_sha256(code, strlen(code), hash);
		int64_t now = hub_now_ms(), until = now + hours * 3600 * 1000LL;
		if (st->ops->code_add(st, v.id, hash, until, now) != HUB_OK) {
			fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
			return 1;
		}
		char w[32];
		when(until, w, sizeof w);
		fprintf(stderr, "enrolment code for \"%s\", single use, valid until %s:\n", v.name, w);
		printf("%s\n", code);
		return 0;
	}
	if (verb && strcmp(verb, "list") == 0) {
		hub_venue v;
		if (o->venue && !venue_known(st, o->venue, &v))
			return 1;
		return st->ops->devices_each(st, o->venue, print_device, NULL) == HUB_OK ? 0 : 1;
	}
	if (verb && strcmp(verb, "revoke") == 0) {
		if (o->npos != 1 || !hub_is_hex(o->pos[0], 32))
			return usage_error("devices revoke needs a DEVICE id (32 hex digits)");
		hub_err e = st->ops->device_revoke(st, o->pos[0], hub_now_ms());
		if (e == HUB_NOT_FOUND) {
			fprintf(stderr, "tingzi-hub: no device %s\n", o->pos[0]);
			return 1;
		}
		if (e == HUB_EXISTS) {
			fprintf(stderr, "device %s was revoked already\n", o->pos[0]);
			return 0;
		}
		if (e != HUB_OK) {
			fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
			return 1;
		}
		fprintf(stderr, "device %s revoked: its token no longer works\n", o->pos[0]);
		return 0;
	}
	return usage_error("devices: expected enroll-code, list or revoke");
}

/* ---- members, events, links ---- */

static int sink_row(void *ctx, const store_member *m, int *how, char *why, size_t len)
{
	hub_store *st = ctx;
	return st->ops->members_row(st, m, how, why, len, hub_now_ms());
}

static int sink_commit(void *ctx, char *why, size_t len)
{
	hub_store *st = ctx;
	if (st->ops->members_commit(st) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(st));
		return -1;
	}
	return 0;
}

static void sink_rollback(void *ctx)
{
	hub_store *st = ctx;
	st->ops->members_rollback(st);
}

static const char *import_venue;

static int begin_venue(void *ctx, char *why, size_t len)
{
	hub_store *st = ctx;
	if (st->ops->members_begin(st, import_venue) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(st));
		return -1;
	}
	return 0;
}

static int cmd_members(hub_store *st, const char *verb, opts *o)
{
	if (!verb || strcmp(verb, "import") != 0 || o->npos != 1 || !o->venue)
		return usage_error("expected: members import FILE.csv --venue VENUE");
	hub_venue v;
	if (!venue_known(st, o->venue, &v))
		return 1;
	import_venue = v.id;
	members_csv_sink sink = {st, begin_venue, sink_row, sink_commit, sink_rollback};
	members_csv_report rep;
	int rc = members_csv_import_into(&sink, o->pos[0], &rep);
	members_csv_report_print(&rep, o->pos[0], rc == MEMBERS_CSV_OK ? stdout : stderr);
	members_csv_report_free(&rep);
	return rc == MEMBERS_CSV_OK ? 0 : 1;
}

static int text_ok(const char *s, size_t max)
{
	if (!s || !s[0] || strlen(s) > max)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int cmd_events(hub_store *st, const char *verb, opts *o)
{
	if (!verb || strcmp(verb, "add") != 0 || !o->venue || !o->title || !o->start || !o->end || o->npos)
		return usage_error("expected: events add --venue VENUE --title TITLE --start WHEN --end WHEN");
	if (!text_ok(o->title, 159))
		return usage_error("--title: 1 to 159 bytes without control characters");
	hub_venue v;
	if (!venue_known(st, o->venue, &v))
		return 1;
	int64_t a = hub_parse_local(v.tz, o->start), b = hub_parse_local(v.tz, o->end);
	if (a < 0)
		return usage_error("--start %s: expected YYYY-MM-DD HH:MM", o->start);
	if (b < 0)
		return usage_error("--end %s: expected YYYY-MM-DD HH:MM", o->end);
	if (b <= a)
		return usage_error("--end %s is not after --start", o->end);
	char uid[HUB_ID_MAX];
	if (st->ops->event_add(st, v.id, o->title, a, b, hub_now_ms(), uid) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	printf("%s\n", uid);
	return 0;
}

static int64_t venue_local(const char *text, void *tz)
{
	return hub_parse_local(tz, text);
}

static int cmd_links(hub_store *st, const char *verb, opts *o)
{
	if (!verb || strcmp(verb, "add") != 0 || !o->venue || o->npos != 1)
		return usage_error("expected: links add --venue VENUE URL [options]");
	char why[256];
	const char *url = o->pos[0];
	if (links_check_url(url, why, sizeof why) != 0)
		return usage_error("%s", why);
	const char *platform = o->platform ? o->platform : links_guess_platform(url);
	if (!links_platform_valid(platform))
		return usage_error("--platform %s: expected wechat, line, telegram, discord or url", platform);
	hub_venue v;
	if (!venue_known(st, o->venue, &v))
		return 1;
	/* an expiry like 2026-12-01 18:00 is the venue's time, whatever the server's zone */
	int64_t now = hub_now_ms(), expires = 0, cap = 0;
	if (links_parse_expiry_with(o->expires, platform, now, venue_local, v.tz, &expires, why, sizeof why) != 0)
		return usage_error("%s", why);
	if (o->cap) {
		char *end;
		cap = strtoll(o->cap, &end, 10);
		if (*end || cap < 1 || cap > 100000)
			return usage_error("--cap %s: expected 1 to 100000", o->cap);
	}
	if (o->event && !hub_is_hex(o->event, 32))
		return usage_error("--event %s: expected an event uid (32 hex digits)", o->event);
	if (o->slug && (!o->slug[0] || strlen(o->slug) > 32 ||
			strspn(o->slug, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
			    strlen(o->slug)))
		return usage_error("--slug %s: 1 to 32 letters, digits, - or _", o->slug);
	if (o->label && !text_ok(o->label, 159))
		return usage_error("--label: 1 to 159 bytes without control characters");
	hub_link_new l = {.venue_id = v.id,
			  .platform = platform,
			  .label = o->label ? o->label : links_platform_name(platform),
			  .url = url,
			  .event_uid = o->event,
			  .slug = o->slug ? o->slug : v.slug,
			  .expires_ms = expires,
			  .cap = cap,
			  .is_default = o->is_default};
	char uid[HUB_ID_MAX];
	if (st->ops->link_add(st, &l, now, uid) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	printf("%s\n", uid);
	fprintf(stderr, "link added to live code /j/%s\n", l.slug);
	return 0;
}

/* ---- export ---- */

typedef struct export_ctx {
	int json;
	size_t n;
} export_ctx;

/* One row of a JSON export: the array's opening or a comma, then the object (consumed). */
static void export_json_row(const export_ctx *x, json_t *o)
{
	char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (t)
		printf("%s%s", x->n ? ",\n" : "[\n", t);
	free(t);
	json_decref(o);
}

static int export_row(const hub_checkin_row *r, void *ctx)
{
	export_ctx *x = ctx;
	if (x->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:I,s:I,s:I,s:s,s:o,s:b,s:I}", "id", r->id,
				      "device", r->device_id, "member", r->member_uid, "name", r->member_name,
				      "event", r->event_uid ? json_string(r->event_uid) : json_null(), "event_title",
				      r->event_title ? json_string(r->event_title) : json_null(), "method", r->method,
				      "wall_ms", (json_int_t)r->wall_ms, "offset_ms", (json_int_t)r->offset_ms,
				      "corrected_ms", (json_int_t)r->corrected_ms, "day", r->day, "duplicate_of",
				      r->duplicate_of ? json_string(r->duplicate_of) : json_null(), "reversed",
				      r->reversed, "received_ms", (json_int_t)r->received_ms);
		export_json_row(x, o);
	} else {
		char n[4][24];
		snprintf(n[0], sizeof n[0], "%lld", (long long)r->wall_ms);
		snprintf(n[1], sizeof n[1], "%lld", (long long)r->offset_ms);
		snprintf(n[2], sizeof n[2], "%lld", (long long)r->corrected_ms);
		snprintf(n[3], sizeof n[3], "%d", r->reversed);
		const char *cols[] = {r->id,	   r->device_id, r->member_uid, r->member_name, r->event_uid,
				      r->event_title, r->method,  n[0],	 n[1],	   n[2],
				      r->day,	   r->duplicate_of, n[3]};
		for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
			csv_out_cell(stdout, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
	}
	x->n++;
	return 0;
}

/*
 * An export's frame, shared by checkins and audit: the usage check, the format,
 * the venue, the CSV header, the rows through each(), the closing bracket and
 * the count on stderr. 0, 1 failed, 2 bad usage.
 */
static int export_run(hub_store *st, const char *verb, opts *o, const char *usage, const char *header,
		      const char *what, hub_err (*each)(hub_store *st, const char *venue, export_ctx *x))
{
	if (!verb || strcmp(verb, "export") != 0 || !o->venue || o->npos)
		return usage_error("expected: %s", usage);
	export_ctx x = {0};
	if (o->format && strcmp(o->format, "json") == 0)
		x.json = 1;
	else if (o->format && strcmp(o->format, "csv") != 0)
		return usage_error("--format %s: expected csv or json", o->format);
	hub_venue v;
	if (!venue_known(st, o->venue, &v))
		return 1;
	if (!x.json)
		puts(header);
	hub_err e = each(st, v.id, &x);
	if (x.json)
		puts(x.n ? "\n]" : "[]");
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tingzi-hub: cannot write the export: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "%zu %s exported\n", x.n, what);
	return 0;
}

static hub_err each_checkin(hub_store *st, const char *venue, export_ctx *x)
{
	return st->ops->checkins_each(st, venue, export_row, x);
}

static int cmd_checkins(hub_store *st, const char *verb, opts *o)
{
	return export_run(st, verb, o, "checkins export --venue VENUE [--format csv|json]",
			  "id,device,member,name,event,event_title,method,wall_ms,offset_ms,corrected_ms,day,"
			  "duplicate_of,reversed",
			  "check-ins", each_checkin);
}

/* ---- audit ---- */

static int audit_row(const hub_record_row *r, void *ctx)
{
	export_ctx *x = ctx;
	if (x->json) {
		json_t *detail = r->detail ? json_loads(r->detail, 0, NULL) : NULL;
		json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:I}", "id", r->id, "kind", r->kind,
				      "device", r->device_id, "session",
				      r->session ? json_string(r->session) : json_null(), "action",
				      r->action ? json_string(r->action) : json_null(), "detail",
				      detail ? detail : json_null(), "checkin",
				      r->checkin ? json_string(r->checkin) : json_null(), "reason",
				      r->reason ? json_string(r->reason) : json_null(), "wall_ms", (json_int_t)r->wall_ms,
				      "seq", r->seq >= 0 ? json_integer(r->seq) : json_null(), "received_ms",
				      (json_int_t)r->received_ms);
		export_json_row(x, o);
	} else {
		char n[3][24];
		snprintf(n[0], sizeof n[0], "%lld", (long long)r->wall_ms);
		snprintf(n[1], sizeof n[1], "%lld", (long long)r->seq);
		snprintf(n[2], sizeof n[2], "%lld", (long long)r->received_ms);
		const char *cols[] = {r->id,	  r->kind,   r->device_id, r->session, r->action, r->detail,
				      r->checkin, r->reason, n[0],	   r->seq >= 0 ? n[1] : NULL, n[2]};
		csv_out_row(stdout, cols, (int)(sizeof cols / sizeof cols[0]));
	}
	x->n++;
	return 0;
}

static hub_err each_record(hub_store *st, const char *venue, export_ctx *x)
{
	return st->ops->records_each(st, venue, audit_row, x);
}

static int cmd_audit(hub_store *st, const char *verb, opts *o)
{
	return export_run(st, verb, o, "audit export --venue VENUE [--format csv|json]",
			  "id,kind,device,session,action,detail,checkin,reason,wall_ms,seq,received_ms", "records",
			  each_record);
}

/* ---- sneakernet ---- */

static int cmd_import(hub_store *st, opts *o)
{
	if (o->npos != 1)
		return usage_error("expected: import FILE.tzb");
	const char *path = o->pos[0];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tingzi-hub: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *data = malloc(TZB_MAX + 1);
	size_t len = data ? fread(data, 1, TZB_MAX + 1, f) : 0;
	fclose(f);
	int rc = 1;
	json_t *j = NULL;
	hub_batch b = {0};
	if (!data)
		goto out;
	if (len > TZB_MAX) {
		fprintf(stderr, "tingzi-hub: %s is larger than %u MiB\n", path, TZB_MAX >> 20);
		goto out;
	}
	data[len] = '\0';
	char *nl1 = memchr(data, '\n', len);
	char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - data)) : NULL;
	if (len < 5 || memcmp(data, "tzb1\n", 5) != 0 || !nl2 || (size_t)(nl2 + 1 - data) + 128 > len) {
		fprintf(stderr, "tingzi-hub: %s is not a tingzi batch file (tzb1)\n", path);
		goto out;
	}
	size_t signed_len = (size_t)(nl2 + 1 - data);
	char sig_hex[129];
	memcpy(sig_hex, nl2 + 1, 128);
	sig_hex[128] = '\0';
	json_error_t je;
	j = json_loadb(nl1 + 1, (size_t)(nl2 - nl1 - 1), JSON_REJECT_DUPLICATES, &je);
	const char *dev_id = json_string_value(json_object_get(j, "device_id"));
	const char *venue = json_string_value(json_object_get(j, "venue"));
	json_t *push = json_object_get(j, "push");
	if (!json_is_object(j) || !hub_is_hex(dev_id, 32) || !hub_is_hex(venue, 32) || !json_is_object(push)) {
		fprintf(stderr, "tingzi-hub: %s: the header line is malformed\n", path);
		goto out;
	}
	hub_device dev;
	hub_err e = st->ops->device_get(st, dev_id, &dev);
	if (e != HUB_OK || dev.revoked_ms) {
		fprintf(stderr, "tingzi-hub: %s comes from device %s, which is %s; nothing imported\n", path, dev_id,
			e == HUB_OK ? "revoked" : "not enrolled here");
		goto out;
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	size_t n1 = 0, n2 = 0;
	if (sodium_hex2bin(pk, sizeof pk, dev.public_key, strlen(dev.public_key), NULL, &n1, NULL) != 0 ||
	    n1 != sizeof pk || sodium_hex2bin(sig, sizeof sig, sig_hex, 128, NULL, &n2, NULL) != 0 ||
	    n2 != sizeof sig ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)data, signed_len, pk) != 0) {
		fprintf(stderr, "tingzi-hub: %s: the signature does not verify (the file was changed, or is not "
				"from device %s); nothing imported\n",
			path, dev_id);
		goto out;
	}
	hub_venue v;
	if (strcmp(venue, dev.venue_id) != 0 || !venue_known(st, venue, &v)) {
		fprintf(stderr, "tingzi-hub: %s names venue %s, not the device's; nothing imported\n", path, venue);
		goto out;
	}
	char *body = json_dumps(push, JSON_COMPACT);
	int status;
	char code[32], msg[300];
	int bad = !body || hub_push_parse(body, strlen(body), &b, &status, code, sizeof code, msg, sizeof msg) != 0;
	free(body);
	if (bad || strcmp(hub_push_device(&b), dev.id) != 0) {
		fprintf(stderr, "tingzi-hub: %s: %s; nothing imported\n", path, bad ? msg : "the batch is of another device");
		goto out;
	}
	/* the file was written days ago, maybe: the device's clock is as it was at its last push */
	hub_push_stats stats;
	e = st->ops->push(st, &v, dev.id, dev.offset_ms, hub_now_ms(), &b, &stats);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s: %s; nothing imported\n", path, hub_store_errmsg(st));
		goto out;
	}
	printf("%s: %zu check-ins and %zu records: %zu new, %zu already here, %zu rejected\n", path, b.ncheckins,
	       b.nrecords, stats.ok, stats.duplicate, stats.rejected);
	for (size_t i = 0; i < b.ncheckins + b.nrecords; i++)
		if (b.results[i].status == HUB_RES_REJECTED)
			fprintf(stderr, "  rejected %s: %s\n", b.results[i].id, b.results[i].reason);
	rc = 0;
out:
	hub_batch_free(&b);
	json_decref(j);
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	const char *db = getenv("TINGZI_HUB_DB");
	if (!db || !db[0])
		db = "tingzi-hub.db";
	/* --db may come anywhere */
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			db = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--db=", 5) == 0) {
			db = argv[i] + 5;
			continue;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	argv[argc] = NULL;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tingzi-hub %s (protocol 1)\n", TINGZI_VERSION);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "tingzi-hub: libsodium cannot start\n");
		return 1;
	}
	const char *cmd = argv[1];
	static const char *const with_verb[] = {"venues", "devices", "members", "events", "links", "checkins",
						"audit"};
	int has_verb = 0;
	for (size_t i = 0; i < sizeof with_verb / sizeof with_verb[0]; i++)
		has_verb |= strcmp(cmd, with_verb[i]) == 0;
	if (!has_verb && strcmp(cmd, "serve") != 0 && strcmp(cmd, "import") != 0)
		return usage_error("unknown command %s", cmd);
	const char *verb = has_verb && argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
	int skip = verb ? 2 : 1;
	opts o;
	if (parse_opts(argc - skip, argv + skip, &o) != 0)
		return 2;
	hub_store *st = open_store(db);
	if (!st)
		return 1;
	int rc;
	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(st, &o);
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(st, &o);
	else if (strcmp(cmd, "venues") == 0)
		rc = cmd_venues(st, verb, &o);
	else if (strcmp(cmd, "devices") == 0)
		rc = cmd_devices(st, verb, &o);
	else if (strcmp(cmd, "members") == 0)
		rc = cmd_members(st, verb, &o);
	else if (strcmp(cmd, "events") == 0)
		rc = cmd_events(st, verb, &o);
	else if (strcmp(cmd, "links") == 0)
		rc = cmd_links(st, verb, &o);
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(st, verb, &o);
	else
		rc = cmd_checkins(st, verb, &o);
	st->ops->close(st);
	return rc;
}
