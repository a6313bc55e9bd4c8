/*
 * tingzi-hub — the online server kiosks sync with, and its admin commands.
 * See `tingzi-hub --help` and sync/PROTOCOL.md.
 *
 * main() finds the command in a table: each row names the command and its
 * verb, the usage text, the options it accepts and how many other words,
 * and the function that runs it. sync/args.c reads the command line against
 * that row, so a command refuses an option it would ignore, `--help` after
 * any command prints that command's usage, and a usage error reads as the
 * kiosk's do ("tingzi-hub: what is wrong", then the usage; exit 2).
 */
#include "sync/clock.h"
#include "sync/args.h"
#include "sync/check.h"
#include "sync/csv_out.h"
#include "sync/hub/console/console.h"
#include "sync/hub/hub_api_cli.h"
#include "sync/hub/hub_http.h"
#include "sync/hub/hub_import.h"
#include "sync/hub/hub_pass_cli.h"
#include "sync/hub/hub_webhook_cli.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"
#include "sync/links.h"
#include "sync/members_csv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


static const char usage_text[] =
    "Usage: tingzi-hub [--db PATH|URL] COMMAND [ARGS]\n"
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
    "  users add EMAIL --role owner|organizer|staff [--venue VENUE] [--public-url URL]\n"
    "        an account of the organizer console; prints its one-time set-up\n"
    "        link (valid 24 hours)\n"
    "  users list | users disable EMAIL | users enable EMAIL\n"
    "  users reset EMAIL [--public-url URL]   a new set-up link; sessions end\n"
    "  users grant EMAIL --venue VENUE        one more venue for an organizer or staff\n"
    "  console routes   the console's pages and the least role of each\n"
    "  key-file new PATH   a new key file, which seals the venues' pass-signing keys\n"
    "  venues rotate-key VENUE   a new key signs the venue's passes (the first: key 1)\n"
    "  venues signup VENUE --slug SLUG [--terms TEXT] [--off]\n"
    "        the venue's sign-up page for members, /m/SLUG\n"
    "  passes issue --venue VENUE --member CODE|UID [--png FILE]\n"
    "        a signed member pass and a private address to see it again\n"
    "  passes revoke --venue VENUE --member CODE|UID\n"
    "  webhooks add --venue VENUE --url URL [--events LIST]   prints its id and secret\n"
    "  webhooks list [--venue VENUE] | remove ID | enable ID | deliveries ID [--limit N]\n"
    "  tokens add --venue VENUE --name NAME --scope read|write   an API token, shown once\n"
    "  tokens list [--venue VENUE] | tokens revoke ID|NAME --venue VENUE\n"
    "  api routes   the open API's routes (/api/v1/, sync/hub/openapi.json)\n"
    "  migrate --from PATH.db --to postgresql://...   move a hub into PostgreSQL\n"
    "\n"
    "  --db PATH   the hub's database: a SQLite file, or PostgreSQL as a libpq\n"
    "              address (postgresql://USER@HOST/DBNAME) (default: $TINGZI_HUB_DB,\n"
    "              else ./tingzi-hub.db)\n"    "  --key-file PATH   the key file that seals pass-signing keys (default:\n"
    "              $TINGZI_HUB_KEY_FILE); serve, rotate-key and passes issue need it\n"
    "  --help, --version; COMMAND --help shows a command's help\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

static const char usage_serve[] =
    "Usage: tingzi-hub serve [--listen ADDR:PORT] [--public-url URL]\n"
    "                        [--tls-cert PEM --tls-key PEM] [--max-connections N]\n"
    "                        [--per-address N] [--request-timeout SECONDS]\n"
    "                        [--db-pool N] [--trusted-proxy ADDRESS]\n"
    "                        [--webhooks-private] [--webhook-senders N]\n"
    "\n"
    "Serve HTTP on ADDR:PORT (default 127.0.0.1:8420) until SIGINT/SIGTERM; with a\n"
    "certificate and key, HTTPS. --public-url is how phones reach the hub, for\n"
    "live codes /j/SLUG (default: the Host the kiosk used). At most N connections\n"
    "in all (16 to 60000, default 2000) and from one client address (default 32;\n"
    "0: no limit, for a hub behind a proxy); a request (headers, body and answer)\n"
    "must be done in SECONDS (1 to 3600, default 60).\n"
    "--db-pool: connections to a PostgreSQL --db (1 to 64, default 8); a SQLite\n"
    "file has one. --trusted-proxy: the IPv4 address of a reverse proxy in front\n"
    "(haproxy): from it alone, the client's address is the last one in\n"
    "X-Forwarded-For (rate limits and sign-in lockouts count by it).\n"
    "With --key-file (or $TINGZI_HUB_KEY_FILE) members who sign up at /m/SLUG get\n"
    "a signed pass; without it the sign-up pages say passes are not available.\n"
    "Webhooks (tingzi-hub webhooks --help) are sent by N threads (1 to 16, default\n"
    "2), never to loopback, private or link-local addresses unless --webhooks-private\n"
    "says the receivers are on this network.\n";

static const char usage_venues[] = "Usage: tingzi-hub venues add NAME [--tz ZONE]\n"
				   "       tingzi-hub venues list\n"
				   "       tingzi-hub --key-file PATH venues rotate-key VENUE\n"
				   "       tingzi-hub venues signup VENUE --slug SLUG [--terms TEXT] [--off]\n"
				   "\n"
				   "add: a venue (NAME 1 to 159 bytes); prints its id. Days are counted in\n"
				   "ZONE (default: this machine's zone).\n"
				   "rotate-key, signup: see tingzi-hub venues rotate-key --help, venues signup --help.\n";

static const char usage_devices[] =
    "Usage: tingzi-hub devices enroll-code VENUE [--hours N]\n"
    "       tingzi-hub devices list [--venue VENUE]\n"
    "       tingzi-hub devices revoke DEVICE\n"
    "\n"
    "enroll-code: a single-use code a kiosk enrolls with (tingzi enroll URL\n"
    "CODE); valid for N hours (1 to 720, default 24); printed alone on stdout.\n"
    "revoke: the device's token stops working at once.\n";

static const char usage_members[] =
    "Usage: tingzi-hub members import FILE.csv --venue VENUE\n"
    "\n"
    "The kiosk's CSV format (name,phone,code,tier,expires); all or nothing.\n";

static const char usage_events[] =
    "Usage: tingzi-hub events add --venue VENUE --title TITLE --start 'YYYY-MM-DD HH:MM' --end '...'\n"
    "\n"
    "Times are in the venue's zone; prints the event's uid.\n";

static const char usage_links[] =
    "Usage: tingzi-hub links add --venue VENUE URL [--label L] [--platform P] [--expires WHEN]\n"
    "                            [--cap N] [--event UID] [--default] [--slug SLUG]\n"
    "\n"
    "A group link; links of one slug (default: the venue's) form its live code\n"
    "/j/SLUG, which leads to the first one not expired or full. WHEN is\n"
    "'YYYY-MM-DD HH:MM' in the venue's zone, or +Nd, +Nh, +Nm.\n";

static const char usage_checkins[] =
    "Usage: tingzi-hub checkins export --venue VENUE [--format csv|json]\n"
    "\n"
    "Every check-in with raw, offset and corrected times; duplicate_of marks\n"
    "a second check-in of one attendance, reversed an undone one.\n";

static const char usage_audit[] = "Usage: tingzi-hub audit export --venue VENUE [--format csv|json]\n"
				  "\n"
				  "The kiosks' staff actions and undone check-ins, whole: session, action\n"
				  "and detail, the check-in and reason of each undo, times and the device's\n"
				  "sequence number.\n";

static const char usage_import[] =
    "Usage: tingzi-hub import FILE.tzb\n"
    "\n"
    "A kiosk's signed batch file (tingzi export); the same exactly-once rules\n"
    "as a push; a file that does not verify is refused whole.\n";

static const char usage_users[] =
    "Usage: tingzi-hub users add EMAIL --role owner|organizer|staff [--venue VENUE] [--public-url URL]\n"
    "       tingzi-hub users list\n"
    "       tingzi-hub users disable EMAIL\n"
    "       tingzi-hub users enable EMAIL\n"
    "       tingzi-hub users reset EMAIL [--public-url URL]\n"
    "       tingzi-hub users grant EMAIL --venue VENUE\n"
    "\n"
    "Accounts of the organizer console (served by `tingzi-hub serve` on its own\n"
    "port: open the hub's address in a browser). Owners run everything and the\n"
    "users; organizers run their venues (members, events, links, kiosks); staff\n"
    "see their venue's attendance. Organizers and staff need --venue.\n"
    "add and reset print a one-time set-up link on stdout, valid 24 hours, with\n"
    "which the person chooses a password; URL is how browsers reach the hub\n"
    "(default: $TINGZI_HUB_PUBLIC_URL, else http://127.0.0.1:8420). disable ends\n"
    "every session of the account at once.\n";

static const char usage_migrate[] =
    "Usage: tingzi-hub migrate --from PATH.db --to postgresql://...\n"
    "\n"
    "Move a hub from its SQLite file into an empty PostgreSQL database: every\n"
    "venue, device, member, event, link, check-in, record, account and count,\n"
    "in one transaction (all or nothing), each table counted on both sides\n"
    "before it commits. The file is only read. Stop the hub first, so nothing\n"
    "it stores afterwards is left behind; then start it with --db set to the\n"
    "PostgreSQL address. The role needs to be able to create tables there\n"
    "(see the README).\n";

static const char usage_console[] = "Usage: tingzi-hub console routes\n"
				    "\n"
				    "The console's pages: method, path and the least role that may use it.\n";

/* Print "tingzi-hub: MESSAGE" and the usage to stderr; returns ARGS_USAGE. */
#define usage_error(usage, ...) args_usage_error("tingzi-hub", usage, __VA_ARGS__)

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
	hub_err e = check_hex(id, 32) ? st->ops->venue_get(st, id, v) : HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND)
		fprintf(stderr, "tingzi-hub: no venue %s (tingzi-hub venues list)\n", id);
	else if (e != HUB_OK)
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
	return e == HUB_OK;
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

enum {
	SERVE_LISTEN,
	SERVE_PUBLIC_URL,
	SERVE_TLS_CERT,
	SERVE_TLS_KEY,
	SERVE_MAX_CONNECTIONS,
	SERVE_PER_ADDRESS,
	SERVE_REQUEST_TIMEOUT,
	SERVE_DB_POOL,
	SERVE_TRUSTED_PROXY,
	SERVE_WEBHOOKS_PRIVATE,
	SERVE_WEBHOOK_SENDERS
};
static const args_opt serve_opts[] = {
    {"listen", 1, 0},          {"public-url", 1, 0},  {"tls-cert", 1, 0},        {"tls-key", 1, 0},
    {"max-connections", 1, 0}, {"per-address", 1, 0}, {"request-timeout", 1, 0}, {"db-pool", 1, 0},
    {"trusted-proxy", 1, 0},   {"webhooks-private", 0, 0}, {"webhook-senders", 1, 0}, {0}};

/* The --db the command was given (serve opens more connections on it). */
static const char *store_where;

static int cmd_serve(hub_store *st, const args *o, const char *usage)
{
	unsigned pool_size = 8;
	hub_serve_config cfg = {.listen = o->value[SERVE_LISTEN],
				.public_url = o->value[SERVE_PUBLIC_URL],
				.tls_cert = o->value[SERVE_TLS_CERT],
				.tls_key = o->value[SERVE_TLS_KEY],
				.per_address = HUB_PER_ADDRESS};
	if (count_arg(o->value[SERVE_MAX_CONNECTIONS], 16, 60000, &cfg.max_connections) != 0)
		return usage_error(usage, "--max-connections takes a number from 16 to 60000");
	if (count_arg(o->value[SERVE_PER_ADDRESS], 0, 60000, &cfg.per_address) != 0)
		return usage_error(usage, "--per-address takes a number from 0 (no limit) to 60000");
	if (count_arg(o->value[SERVE_REQUEST_TIMEOUT], 1, 3600, &cfg.request_seconds) != 0)
		return usage_error(usage, "--request-timeout takes a number of seconds from 1 to 3600");
	if (count_arg(o->value[SERVE_DB_POOL], 1, HUB_POOL_MAX, &pool_size) != 0)
		return usage_error(usage, "--db-pool takes a number of connections from 1 to %d", HUB_POOL_MAX);
	if (count_arg(o->value[SERVE_WEBHOOK_SENDERS], 1, 16, &cfg.webhook_senders) != 0)
		return usage_error(usage, "--webhook-senders takes a number from 1 to 16");
	cfg.webhooks_private = o->value[SERVE_WEBHOOKS_PRIVATE] != NULL;
	struct in_addr proxy;
	cfg.trusted_proxy = o->value[SERVE_TRUSTED_PROXY];
	if (cfg.trusted_proxy && inet_pton(AF_INET, cfg.trusted_proxy, &proxy) != 1)
		return usage_error(usage, "--trusted-proxy takes the proxy's IPv4 address, like 127.0.0.1");
	unsigned char kek[32];
	int have_kek = 0;
	if (hub_cli_kek(kek, &have_kek) != 0)
		return 1;
	cfg.kek = have_kek ? kek : NULL;
	char why[512];
	hub_pool *pool = hub_pool_new(st, store_where, pool_size, why, sizeof why);
	if (!pool) {
		fprintf(stderr, "tingzi-hub: %s\n", why);
		sodium_memzero(kek, sizeof kek);
		return 1;
	}
	int rc = hub_serve(pool, &cfg);
	hub_pool_free(pool);
	sodium_memzero(kek, sizeof kek);
	return rc;
}

/* ---- migrate ---- */

enum { MIGRATE_FROM, MIGRATE_TO };
static const args_opt migrate_opts[] = {{"from", 1, 0}, {"to", 1, 0}, {0}};

/* Opens its own stores: st is NULL. */
static int cmd_migrate(hub_store *st, const args *o, const char *usage)
{
	const char *from = o->value[MIGRATE_FROM], *to = o->value[MIGRATE_TO];
	if (!from || !to)
		return usage_error(usage, "migrate needs --from PATH.db and --to postgresql://...");
	if (!hub_store_is_pg(to))
		return usage_error(usage, "--to must be a PostgreSQL address (postgresql://USER@HOST/DBNAME)");
	struct stat sb;
	if (stat(from, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "tingzi-hub: %s: no such file\n", from);
		return 1;
	}
	(void)st;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hub_store *dst = open_store(to);
	if (!dst)
		return 1;
	fprintf(stderr, "tingzi-hub: moving %s into PostgreSQL...\n", from);
	char why[512];
	int rc = hub_store_pg_migrate(from, dst, stderr, why, sizeof why);
	if (rc != 0) {
		fprintf(stderr, "tingzi-hub: migrate: %s\n", why);
		fprintf(stderr, "tingzi-hub: nothing was kept in PostgreSQL; %s is as it was\n", from);
		dst->ops->close(dst);
		return 1;
	}
	fprintf(stderr, "tingzi-hub: building the dashboard's summaries...\n");
	if (dst->ops->dash_refresh(dst, NULL) != HUB_OK)
		fprintf(stderr, "tingzi-hub: the dashboard's summaries will be built at its first use: %s\n",
			hub_store_errmsg(dst));
	dst->ops->close(dst);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("moved into PostgreSQL in %.1f s; start the hub with --db set to it\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

/* ---- venues ---- */

static int print_venue(const hub_venue *v, void *ctx)
{
	printf("%s  %-24s  %-20s  /j/%s\n", v->id, v->name, v->tz, v->slug);
	return 0;
}

static const args_opt venues_add_opts[] = {{"tz", 1, 0}, {0}};

static int cmd_venues_add(hub_store *st, const args *o, const char *usage)
{
	const char *name = o->word[0], *zone = o->value[0];
	if (o->nwords != 1 || !name[0] || strlen(name) >= HUB_NAME_MAX)
		return usage_error(usage, "venues add needs one NAME of 1 to 159 bytes");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20)
			return usage_error(usage, "the venue name has a control character");
	char tz[HUB_TZ_MAX];
	if (zone && !hub_tz_valid(zone))
		return usage_error(
		    usage, "--tz %s is not a time zone this machine knows (e.g. Asia/Shanghai)", zone);
	if (zone)
		snprintf(tz, sizeof tz, "%s", zone);
	else
		hub_default_tz(tz, sizeof tz);
	hub_venue v;
	if (st->ops->venue_add(st, name, tz, clock_wall_ms(), &v) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: cannot add the venue: %s\n", hub_store_errmsg(st));
		return 1;
	}
	printf("%s\n", v.id);
	fprintf(stderr, "venue \"%s\" added (days in %s; live code /j/%s)\n", v.name, v.tz, v.slug);
	return 0;
}

static int cmd_venues_list(hub_store *st, const args *o, const char *usage)
{
	(void)o, (void)usage;
	return st->ops->venues_each(st, print_venue, NULL) == HUB_OK ? 0 : 1;
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

static const args_opt enroll_code_opts[] = {{"hours", 1, 0}, {0}};

static int cmd_devices_enroll_code(hub_store *st, const args *o, const char *usage)
{
	hub_venue v;
	if (o->nwords != 1)
		return usage_error(usage, "devices enroll-code needs the VENUE id");
	long hours = 24;
	if (o->value[0]) {
		char *end;
		errno = 0;
		hours = strtol(o->value[0], &end, 10);
		if (errno || end == o->value[0] || *end || hours < 1 || hours > 24 * 30)
			return usage_error(usage, "--hours %s: expected 1 to 720", o->value[0]);
	}
	if (!venue_known(st, o->word[0], &v))
		return 1;
	char code[15];
	unsigned char hash[HUB_HASH_LEN];
	hub_enroll_code(code, hash);
	int64_t now = clock_wall_ms(), until = now + hours * 3600 * 1000LL;
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

static const args_opt devices_list_opts[] = {{"venue", 1, 0}, {0}};

static int cmd_devices_list(hub_store *st, const args *o, const char *usage)
{
	hub_venue v;
	const char *venue = o->value[0];
	(void)usage;
	if (venue && !venue_known(st, venue, &v))
		return 1;
	return st->ops->devices_each(st, venue, print_device, NULL) == HUB_OK ? 0 : 1;
}

static int cmd_devices_revoke(hub_store *st, const args *o, const char *usage)
{
	const char *id = o->word[0];
	if (o->nwords != 1 || !check_hex(id, 32))
		return usage_error(usage, "devices revoke needs a DEVICE id (32 hex digits)");
	hub_err e = st->ops->device_revoke(st, id, clock_wall_ms());
	if (e == HUB_NOT_FOUND) {
		fprintf(stderr, "tingzi-hub: no device %s\n", id);
		return 1;
	}
	if (e == HUB_EXISTS) {
		fprintf(stderr, "device %s was revoked already\n", id);
		return 0;
	}
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	fprintf(stderr, "device %s revoked: its token no longer works\n", id);
	return 0;
}

/* ---- members, events, links ---- */

/* Where a members CSV goes: the hub's store, for one venue. */
typedef struct import_ctx {
	hub_store *st;
	const char *venue;
} import_ctx;

static int sink_row(void *ctx, const store_member *m, int *how, char *why, size_t len)
{
	hub_store *st = ((import_ctx *)ctx)->st;
	return st->ops->members_row(st, m, how, why, len, clock_wall_ms());
}

static int sink_commit(void *ctx, char *why, size_t len)
{
	hub_store *st = ((import_ctx *)ctx)->st;
	if (st->ops->members_commit(st) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(st));
		return -1;
	}
	return 0;
}

static void sink_rollback(void *ctx)
{
	hub_store *st = ((import_ctx *)ctx)->st;
	st->ops->members_rollback(st);
}

static int begin_venue(void *ctx, char *why, size_t len)
{
	import_ctx *x = ctx;
	hub_store *st = x->st;
	if (st->ops->members_begin(st, x->venue) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(st));
		return -1;
	}
	return 0;
}

static const args_opt venue_opts[] = {{"venue", 1, 0}, {0}};

static int cmd_members_import(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[0], *file = o->word[0];
	if (o->nwords != 1 || !venue)
		return usage_error(usage, "members import needs FILE.csv and --venue VENUE");
	hub_venue v;
	if (!venue_known(st, venue, &v))
		return 1;
	import_ctx x = {st, v.id};
	members_csv_sink sink = {&x, begin_venue, sink_row, sink_commit, sink_rollback};
	members_csv_report rep;
	int rc = members_csv_import_into(&sink, file, &rep);
	members_csv_report_print(&rep, file, rc == MEMBERS_CSV_OK ? stdout : stderr);
	members_csv_report_free(&rep);
	return rc == MEMBERS_CSV_OK ? 0 : 1;
}

enum { EVENT_VENUE, EVENT_TITLE, EVENT_START, EVENT_END };
static const args_opt events_add_opts[] = {
    {"venue", 1, 0}, {"title", 1, 0}, {"start", 1, 0}, {"end", 1, 0}, {0}};

static int cmd_events_add(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[EVENT_VENUE], *title = o->value[EVENT_TITLE],
		   *start = o->value[EVENT_START], *end = o->value[EVENT_END];
	if (!venue || !title || !start || !end)
		return usage_error(usage, "events add needs --venue, --title, --start and --end");
	if (!check_text(title, 159, 0))
		return usage_error(usage, "--title: 1 to 159 bytes without control characters");
	hub_venue v;
	if (!venue_known(st, venue, &v))
		return 1;
	int64_t a = hub_parse_local(v.tz, start), b = hub_parse_local(v.tz, end);
	if (a < 0)
		return usage_error(usage, "--start %s: expected YYYY-MM-DD HH:MM", start);
	if (b < 0)
		return usage_error(usage, "--end %s: expected YYYY-MM-DD HH:MM", end);
	if (b <= a)
		return usage_error(usage, "--end %s is not after --start", end);
	char uid[HUB_ID_MAX];
	if (st->ops->event_add(st, v.id, title, a, b, clock_wall_ms(), uid) != HUB_OK) {
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

enum { LINK_VENUE, LINK_LABEL, LINK_PLATFORM, LINK_EXPIRES, LINK_CAP, LINK_EVENT, LINK_DEFAULT, LINK_SLUG };
static const args_opt links_add_opts[] = {{"venue", 1, 0},   {"label", 1, 0}, {"platform", 1, 0},
					  {"expires", 1, 0}, {"cap", 1, 0},   {"event", 1, 0},
					  {"default", 0, 0}, {"slug", 1, 0},  {0}};

static int cmd_links_add(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[LINK_VENUE], *label = o->value[LINK_LABEL],
		   *event = o->value[LINK_EVENT], *slug = o->value[LINK_SLUG], *cap_text = o->value[LINK_CAP];
	if (!venue || o->nwords != 1)
		return usage_error(usage, "links add needs --venue VENUE and one URL");
	char why[256];
	const char *url = o->word[0];
	if (links_check_url(url, why, sizeof why) != 0)
		return usage_error(usage, "%s", why);
	const char *platform = o->value[LINK_PLATFORM] ? o->value[LINK_PLATFORM] : links_guess_platform(url);
	if (!links_platform_valid(platform))
		return usage_error(usage, "--platform %s: expected wechat, line, telegram, discord or url",
				   platform);
	hub_venue v;
	if (!venue_known(st, venue, &v))
		return 1;
	/* an expiry like 2026-12-01 18:00 is the venue's time, whatever the server's zone */
	int64_t now = clock_wall_ms(), expires = 0, cap = 0;
	if (links_parse_expiry_with(o->value[LINK_EXPIRES], platform, now, venue_local, v.tz, &expires, why,
				    sizeof why) != 0)
		return usage_error(usage, "%s", why);
	if (cap_text) {
		char *end;
		errno = 0;
		cap = strtoll(cap_text, &end, 10);
		if (errno || end == cap_text || *end || cap < 1 || cap > 100000)
			return usage_error(usage, "--cap %s: expected 1 to 100000", cap_text);
	}
	if (event && !check_hex(event, 32))
		return usage_error(usage, "--event %s: expected an event uid (32 hex digits)", event);
	if (slug && (!slug[0] || strlen(slug) > 32 ||
		     strspn(slug, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
			 strlen(slug)))
		return usage_error(usage, "--slug %s: 1 to 32 letters, digits, - or _", slug);
	if (label && !check_text(label, 159, 0))
		return usage_error(usage, "--label: 1 to 159 bytes without control characters");
	hub_link_new l = {.venue_id = v.id,
			  .platform = platform,
			  .label = label ? label : links_platform_name(platform),
			  .url = url,
			  .event_uid = event,
			  .slug = slug ? slug : v.slug,
			  .expires_ms = expires,
			  .cap = cap,
			  .is_default = o->value[LINK_DEFAULT] != NULL};
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
		json_t *o =
		    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:I,s:I,s:I,s:s,s:o,s:b,s:I}", "id", r->id,
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
		const char *cols[] = {r->id,        r->device_id,   r->member_uid, r->member_name,
				      r->event_uid, r->event_title, r->method,     n[0],
				      n[1],         n[2],           r->day,        r->duplicate_of,
				      n[3]};
		for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
			csv_out_cell(stdout, cols[i], i + 1 == sizeof cols / sizeof cols[0]);
	}
	x->n++;
	return 0;
}

/*
 * An export's frame, shared by checkins and audit: --venue and --format, the
 * venue, the CSV header, the rows through each(), the closing bracket and the
 * count on stderr. 0, 1 failed, 2 bad usage.
 */
enum { EXPORT_VENUE, EXPORT_FORMAT };
static const args_opt export_opts[] = {{"venue", 1, 0}, {"format", 1, 0}, {0}};

static int export_run(hub_store *st, const args *o, const char *usage, const char *header, const char *what,
		      hub_err (*each)(hub_store *st, const char *venue, export_ctx *x))
{
	static const char *const formats[] = {"csv", "json", NULL};
	const char *venue = o->value[EXPORT_VENUE];
	export_ctx x = {0};
	int fmt;
	if (!venue)
		return usage_error(usage, "%s", "an export needs --venue VENUE");
	if (args_format("tingzi-hub", usage, o->value[EXPORT_FORMAT], formats, &fmt) != 0)
		return ARGS_USAGE;
	x.json = fmt == 1;
	hub_venue v;
	if (!venue_known(st, venue, &v))
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

static int cmd_checkins_export(hub_store *st, const args *o, const char *usage)
{
	return export_run(st, o, usage,
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
		json_t *o = json_pack(
		    "{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:I}", "id", r->id, "kind", r->kind, "device",
		    r->device_id, "session", r->session ? json_string(r->session) : json_null(), "action",
		    r->action ? json_string(r->action) : json_null(), "detail", detail ? detail : json_null(),
		    "checkin", r->checkin ? json_string(r->checkin) : json_null(), "reason",
		    r->reason ? json_string(r->reason) : json_null(), "wall_ms", (json_int_t)r->wall_ms,
		    "seq", r->seq >= 0 ? json_integer(r->seq) : json_null(), "received_ms",
		    (json_int_t)r->received_ms);
		export_json_row(x, o);
	} else {
		char n[3][24];
		snprintf(n[0], sizeof n[0], "%lld", (long long)r->wall_ms);
		snprintf(n[1], sizeof n[1], "%lld", (long long)r->seq);
		snprintf(n[2], sizeof n[2], "%lld", (long long)r->received_ms);
		const char *cols[] = {
		    r->id,     r->kind,    r->device_id, r->session, r->action,
		    r->detail, r->checkin, r->reason,    n[0],       r->seq >= 0 ? n[1] : NULL,
		    n[2]};
		csv_out_row(stdout, cols, (int)(sizeof cols / sizeof cols[0]));
	}
	x->n++;
	return 0;
}

static hub_err each_record(hub_store *st, const char *venue, export_ctx *x)
{
	return st->ops->records_each(st, venue, audit_row, x);
}

static int cmd_audit_export(hub_store *st, const args *o, const char *usage)
{
	return export_run(st, o, usage,
			  "id,kind,device,session,action,detail,checkin,reason,wall_ms,seq,received_ms",
			  "records", each_record);
}

/* ---- sneakernet ---- */

static int cmd_import(hub_store *st, const args *o, const char *usage)
{
	if (o->nwords != 1)
		return usage_error(usage, "%s", "import takes one FILE.tzb");
	return hub_import_tzb(st, o->word[0]);
}

/* ---- the commands ---- */

/* ---- users of the console ---- */

static const char *public_url(const char *flag)
{
	const char *env = getenv("TINGZI_HUB_PUBLIC_URL");
	return flag ? flag : env && env[0] ? env : "http://127.0.0.1:8420";
}

static int user_known(hub_store *st, const char *email, hub_user *u)
{
	hub_err e = st->ops->user_get(st, email, u);
	if (e == HUB_NOT_FOUND)
		fprintf(stderr, "tingzi-hub: no user %s (tingzi-hub users list)\n", email);
	else if (e != HUB_OK)
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
	return e == HUB_OK;
}

static void print_setup_link(const char *url, const char *token)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	printf("%.*s/setup?t=%s\n", (int)n, url, token);
}

enum { USERS_ROLE, USERS_VENUE, USERS_PUBLIC_URL };
static const args_opt users_add_opts[] = {{"role", 1, 0}, {"venue", 1, 0}, {"public-url", 1, 0}, {0}};
static const args_opt users_reset_opts[] = {{"public-url", 1, 0}, {0}};
static const args_opt users_grant_opts[] = {{"venue", 1, 0}, {0}};

static int cmd_users_add(hub_store *st, const args *o, const char *usage)
{
	hub_role role;
	hub_venue v;
	const char *email = o->nwords == 1 ? o->word[0] : NULL, *venue = o->value[USERS_VENUE];
	const char *at = email ? strchr(email, '@') : NULL;
	if (!email || !at || at == email || !strchr(at, '.') || strlen(email) > HUB_EMAIL_MAX ||
	    strpbrk(email, " <>\"'\t\r\n"))
		return usage_error(usage, "users add needs the person's EMAIL address");
	if (!o->value[USERS_ROLE] || hub_role_parse(o->value[USERS_ROLE], &role) != 0)
		return usage_error(usage, "--role: expected owner, organizer or staff");
	if (role != HUB_ROLE_OWNER && !venue)
		return usage_error(usage, "an %s needs --venue VENUE", hub_role_name(role));
	if (venue && !venue_known(st, venue, &v))
		return 1;
	char lowered[HUB_EMAIL_MAX + 1], token[44];
	size_t i = 0;
	for (; email[i]; i++)
		lowered[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32 : email[i]);
	lowered[i] = 0;
	unsigned char hash[HUB_HASH_LEN];
	console_setup_token(token, hash);
	int64_t now = clock_wall_ms();
	hub_user u;
	hub_err e = st->ops->user_add(st, lowered, role, venue, hash, now + CONSOLE_SETUP_HOURS * 3600000LL, now, &u);
	if (e == HUB_EXISTS) {
		fprintf(stderr, "tingzi-hub: there is already a user %s (users reset %s makes a new set-up link)\n",
			lowered, lowered);
		return 1;
	}
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: cannot add the user: %s\n", hub_store_errmsg(st));
		return 1;
	}
	if (st->ops->audit_add(st, u.id, venue, "user.add.cli", "{}", now) != HUB_OK)
		fprintf(stderr, "tingzi-hub: the audit log could not keep this: %s\n", hub_store_errmsg(st));
	fprintf(stderr, "%s %s added; send them this link (one use, valid 24 hours) to choose a password:\n",
		hub_role_name(role), lowered);
	print_setup_link(public_url(o->value[USERS_PUBLIC_URL]), token);
	return 0;
}

typedef struct user_list {
	hub_store *st;
} user_list;

static int print_user_venue(const char *venue_id, void *ctx)
{
	hub_venue v;
	hub_store *st = ctx;
	printf(" %s", st->ops->venue_get(st, venue_id, &v) == HUB_OK ? v.name : venue_id);
	return 0;
}

static int print_user(const hub_user *u, void *ctx)
{
	hub_store *st = ctx;
	printf("%s  %-9s  %s", u->email, hub_role_name(u->role),
	       u->disabled_ms ? "disabled" : u->pwhash[0] ? "active" : "not set up");
	if (u->role != HUB_ROLE_OWNER) {
		printf("  venues:");
		st->ops->user_venues_each(st, u->id, print_user_venue, st);
	}
	printf("\n");
	return 0;
}

static int cmd_users_list(hub_store *st, const args *o, const char *usage)
{
	(void)o, (void)usage;
	if (st->ops->users_each(st, print_user, st) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	return 0;
}

static int users_disable_to(hub_store *st, const args *o, const char *usage, int disabled)
{
	hub_user u;
	if (o->nwords != 1)
		return usage_error(usage, "users %s needs the user's EMAIL", disabled ? "disable" : "enable");
	if (!user_known(st, o->word[0], &u))
		return 1;
	int64_t now = clock_wall_ms();
	if (st->ops->user_disable(st, u.id, disabled, now) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	st->ops->audit_add(st, u.id, NULL, disabled ? "user.disable.cli" : "user.enable.cli", "{}", now);
	fprintf(stderr, "%s %s%s\n", u.email, disabled ? "disabled" : "enabled",
		disabled ? "; every session of the account ended" : "");
	return 0;
}

static int cmd_users_disable(hub_store *st, const args *o, const char *usage)
{
	return users_disable_to(st, o, usage, 1);
}

static int cmd_users_enable(hub_store *st, const args *o, const char *usage)
{
	return users_disable_to(st, o, usage, 0);
}

static int cmd_users_reset(hub_store *st, const args *o, const char *usage)
{
	hub_user u;
	if (o->nwords != 1)
		return usage_error(usage, "users reset needs the user's EMAIL");
	if (!user_known(st, o->word[0], &u))
		return 1;
	char token[44];
	unsigned char hash[HUB_HASH_LEN];
	console_setup_token(token, hash);
	int64_t now = clock_wall_ms();
	if (st->ops->user_set_setup(st, u.id, hash, now + CONSOLE_SETUP_HOURS * 3600000LL, now) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	st->ops->audit_add(st, u.id, NULL, "user.reset.cli", "{}", now);
	fprintf(stderr, "a new set-up link for %s (one use, valid 24 hours); their sessions ended:\n", u.email);
	print_setup_link(public_url(o->value[0]), token);
	return 0;
}

static int cmd_users_grant(hub_store *st, const args *o, const char *usage)
{
	hub_user u;
	hub_venue v;
	if (o->nwords != 1 || !o->value[0])
		return usage_error(usage, "users grant needs the user's EMAIL and --venue VENUE");
	if (!user_known(st, o->word[0], &u) || !venue_known(st, o->value[0], &v))
		return 1;
	if (st->ops->user_venue_add(st, u.id, v.id) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	st->ops->audit_add(st, u.id, v.id, "user.grant.cli", "{}", clock_wall_ms());
	fprintf(stderr, "%s may now use venue \"%s\"\n", u.email, v.name);
	return 0;
}

static void print_route(const char *method, const char *pattern, const char *role, void *ctx)
{
	(void)ctx;
	printf("%-4s %-40s %s\n", method, pattern, role);
}

static int cmd_console_routes(hub_store *st, const args *o, const char *usage)
{
	(void)st, (void)o, (void)usage;
	console_routes_each(print_route, NULL);
	return 0;
}

typedef struct command {
	const char *name;
	const char *verb; /* NULL: the command takes none */
	const char *usage;
	const args_opt *opts; /* the options it accepts; NULL: none */
	int max_words;        /* the other words it accepts */
	int (*fn)(hub_store *st, const args *o, const char *usage);
} command;

static const command commands[] = {
    {"serve", NULL, usage_serve, serve_opts, 0, cmd_serve},
    {"venues", "add", usage_venues, venues_add_opts, 1, cmd_venues_add},
    {"venues", "list", usage_venues, NULL, 0, cmd_venues_list},
    {"venues", "rotate-key", hub_usage_rotate, NULL, 1, hub_cmd_venues_rotate_key},
    {"venues", "signup", hub_usage_signup, hub_signup_opts, 1, hub_cmd_venues_signup},
    {"devices", "enroll-code", usage_devices, enroll_code_opts, 1, cmd_devices_enroll_code},
    {"devices", "list", usage_devices, devices_list_opts, 0, cmd_devices_list},
    {"devices", "revoke", usage_devices, NULL, 1, cmd_devices_revoke},
    {"members", "import", usage_members, venue_opts, 1, cmd_members_import},
    {"events", "add", usage_events, events_add_opts, 0, cmd_events_add},
    {"links", "add", usage_links, links_add_opts, 1, cmd_links_add},
    {"checkins", "export", usage_checkins, export_opts, 0, cmd_checkins_export},
    {"audit", "export", usage_audit, export_opts, 0, cmd_audit_export},
    {"import", NULL, usage_import, NULL, 1, cmd_import},
    {"users", "add", usage_users, users_add_opts, 1, cmd_users_add},
    {"users", "list", usage_users, NULL, 0, cmd_users_list},
    {"users", "disable", usage_users, NULL, 1, cmd_users_disable},
    {"users", "enable", usage_users, NULL, 1, cmd_users_enable},
    {"users", "reset", usage_users, users_reset_opts, 1, cmd_users_reset},
    {"users", "grant", usage_users, users_grant_opts, 1, cmd_users_grant},
    {"console", "routes", usage_console, NULL, 0, cmd_console_routes},
    {"migrate", NULL, usage_migrate, migrate_opts, 0, cmd_migrate},
    {"key-file", "new", hub_usage_key_file, NULL, 1, hub_cmd_key_file_new},
    {"passes", "issue", hub_usage_passes, hub_passes_issue_opts, 0, hub_cmd_passes_issue},
    {"passes", "revoke", hub_usage_passes, hub_passes_revoke_opts, 0, hub_cmd_passes_revoke},
    {"tokens", "add", hub_usage_tokens, hub_tokens_add_opts, 0, hub_cmd_tokens_add},
    {"tokens", "list", hub_usage_tokens, hub_tokens_list_opts, 0, hub_cmd_tokens_list},
    {"tokens", "revoke", hub_usage_tokens, hub_tokens_revoke_opts, 1, hub_cmd_tokens_revoke},
    {"api", "routes", hub_usage_api, NULL, 0, hub_cmd_api_routes},
    {"webhooks", "add", hub_usage_webhooks, hub_webhooks_add_opts, 0, hub_cmd_webhooks_add},
    {"webhooks", "list", hub_usage_webhooks, hub_webhooks_list_opts, 0, hub_cmd_webhooks_list},
    {"webhooks", "remove", hub_usage_webhooks, NULL, 1, hub_cmd_webhooks_remove},
    {"webhooks", "enable", hub_usage_webhooks, NULL, 1, hub_cmd_webhooks_enable},
    {"webhooks", "deliveries", hub_usage_webhooks, hub_webhooks_deliveries_opts, 1, hub_cmd_webhooks_deliveries},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static int is_help(const char *w)
{
	return strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0;
}

/*
 * The table's row for argv[1] (and its verb, argv[2]), in *out; or the exit
 * status to return at once: 0 after a help, ARGS_USAGE after a usage error.
 */
static int find_command(int argc, char **argv, const command **out)
{
	const command *c = NULL;
	for (int i = 0; i < NCOMMANDS && !c; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			c = &commands[i];
	if (!c)
		return usage_error(usage_text, "unknown command \"%s\"", argv[1]);
	if (!c->verb) {
		*out = c;
		return ARGS_GO;
	}
	if (argc < 3) {
		fputs(c->usage, stderr);
		return ARGS_USAGE;
	}
	if (is_help(argv[2])) {
		fputs(c->usage, stdout);
		return 0;
	}
	for (; c < commands + NCOMMANDS && strcmp(c->name, argv[1]) == 0; c++)
		if (strcmp(c->verb, argv[2]) == 0) {
			*out = c;
			return ARGS_GO;
		}
	return usage_error(c[-1].usage, "unknown %s command \"%s\"", argv[1], argv[2]);
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
		if (strcmp(argv[i], "--key-file") == 0 && i + 1 < argc) {
			hub_cli_key_file = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--key-file=", 11) == 0) {
			hub_cli_key_file = argv[i] + 11;
			continue;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	argv[argc] = NULL;
	if (argc < 2 || is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? ARGS_USAGE : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tingzi-hub %s (protocol 1)\n", TINGZI_VERSION);
		return 0;
	}
	const command *c = NULL;
	args o;
	int rc = find_command(argc, argv, &c);
	if (rc != ARGS_GO)
		return rc;
	rc = args_parse("tingzi-hub", c->usage, c->opts, c->max_words, argc, argv, c->verb ? 3 : 2, &o);
	if (rc != ARGS_GO)
		return rc;
	if (sodium_init() < 0) {
		fprintf(stderr, "tingzi-hub: libsodium cannot start\n");
		return 1;
	}
	if (c->fn == cmd_migrate) /* its own --from and --to, never --db */
		return cmd_migrate(NULL, &o, c->usage);
	if (c->fn == hub_cmd_key_file_new) /* no store */
		return hub_cmd_key_file_new(NULL, &o, c->usage);
	if (c->fn == hub_cmd_api_routes) /* the server's own table: no store */
		return hub_cmd_api_routes(NULL, &o, c->usage);
	hub_store *st = open_store(db);
	if (!st)
		return 1;
	store_where = db;
	rc = c->fn(st, &o, c->usage);
	if (c->fn != cmd_serve) /* serve's pool closes it */
		st->ops->close(st);
	return rc;
}
