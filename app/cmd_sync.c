/*
 * cmd_sync — `tingzi enroll` and `tingzi sync`: this kiosk and tingzi-hub.
 * The work is in sync/client.c; this file reads arguments and reports.
 */
#include "cli.h"
#include "sync/client.h"
#include "sync/clock.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char usage_enroll[] = "Usage: tingzi enroll HUB_URL CODE [--name NAME]\n"
			    "\n"
			    "Join this kiosk to a venue on tingzi-hub with a single-use code made by\n"
			    "'tingzi-hub devices enroll-code VENUE'. The hub address, this device's\n"
			    "token and its signing key are kept in the database; the token is never\n"
			    "printed. After enrolling, the kiosk syncs by itself whenever the hub can\n"
			    "be reached.\n"
			    "Exit status: 0 enrolled, 1 refused or unreachable, 2 bad usage.\n";

const char usage_sync[] = "Usage: tingzi sync [--once]\n"
			  "       tingzi sync status\n"
			  "       tingzi sync dead-letters\n"
			  "\n"
			  "Upload what this kiosk recorded and download members, events and links.\n"
			  "  --once         one round, then report what moved\n"
			  "  (no option)    keep syncing every 30 seconds, backing off when the hub\n"
			  "                 cannot be reached, until stopped (SIGTERM, Ctrl-C)\n"
			  "  status         the hub, records waiting, dead letters, cursors\n"
			  "  dead-letters   records the hub refused for good, with the reason\n"
			  "The kiosk runs the same sync in the background by itself.\n"
			  "Exit status: 0 done, 1 failed (the reason on standard error), 2 bad usage,\n"
			  "3 the hub refused this device (401/403).\n";

static const char *const result_names[] = {"ok", "network", "auth", "protocol", "store"};

int cmd_enroll(const char *db, int argc, char **argv)
{
	const char *name = NULL;
	static const struct option opts[] = {
	    {"name", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 'h') {
			fputs(usage_enroll, stdout);
			return 0;
		} else {
			fputs(usage_enroll, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error(usage_enroll, "%s", "enroll takes HUB_URL and CODE");
	if (name && strlen(name) > 64)
		return usage_error(usage_enroll, "%s", "--name is at most 64 bytes");
	store *s = open_db(db, 1);
	if (!s)
		return 1;
	wire_enrolled e;
	char why[320];
	sync_result r = sync_enroll(s, argv[optind], argv[optind + 1], name, &e, why, sizeof why);
	if (r == SYNC_OK)
		printf("enrolled at %s: venue %s (%s), device %s\n", argv[optind], e.venue_name, e.venue_id,
		       e.device_id);
	else
		fprintf(stderr, "tingzi: cannot enroll: %s\n", why);
	store_close(s);
	return r == SYNC_OK ? 0 : 1;
}

static void print_report(const sync_report *r)
{
	printf("pushed %lld (ok %lld, duplicate %lld, rejected %lld); pulled members %lld, events %lld, "
	       "links %lld; %lld waiting\n",
	       (long long)r->sent, (long long)r->ok, (long long)r->duplicate, (long long)r->rejected,
	       (long long)r->pulled[STORE_SET_MEMBERS], (long long)r->pulled[STORE_SET_EVENTS],
	       (long long)r->pulled[STORE_SET_LINKS], (long long)r->waiting);
	if (r->result != SYNC_OK)
		fprintf(stderr, "tingzi: sync failed (%s): %s\n", result_names[r->result], r->error);
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int sync_forever(store *s, const sync_conf *conf)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int failures = 0;
	while (!stopping) {
		sync_report r;
		sync_result res = sync_round(s, conf, &r);
		print_report(&r);
		fflush(stdout);
		failures = res == SYNC_OK ? 0 : failures + 1;
		int64_t wait = res == SYNC_OK ? 30000
			       : res == SYNC_AUTH
				   ? 15 * 60 * 1000
				   : sync_backoff_ms(failures, (double)(rand() % 1000) / 1000.0);
		if (r.retry_after_s > 0 && wait < r.retry_after_s * 1000LL)
			wait = r.retry_after_s * 1000LL;
		for (int64_t t = 0; t < wait && !stopping; t += 100)
			nanosleep(&(struct timespec){0, 100000000L}, NULL);
	}
	return 0;
}

static int print_dead(const store_dead_letter *d, void *ctx)
{
	(void)ctx;
	char when[24];
	clock_local_iso(d->created_ms, when, sizeof when);
	printf("%lld\t%s\t%s\t%s\t%s\n", (long long)d->seq, when, d->kind, d->id, d->reason);
	return 0;
}

static int status(store *s)
{
	sync_conf conf;
	if (sync_conf_load(s, &conf) == 0)
		printf("hub: %s, venue %s\n", conf.hub_url, conf.venue_id);
	else
		printf("hub: not enrolled\n");
	printf("waiting to upload: %lld\ndead letters: %lld\n", (long long)store_outbox_count(s),
	       (long long)store_dead_letter_count(s));
	for (int set = 0; set < STORE_SET_COUNT; set++) {
		int64_t cursor, when;
		int resetting;
		if (store_pull_cursor(s, (store_set)set, &cursor, &resetting, &when) != STORE_OK)
			return 1;
		char at[24] = "never";
		if (when)
			clock_local_iso(when, at, sizeof at);
		printf("%s: cursor %lld, last pulled %s%s\n", store_set_name((store_set)set),
		       (long long)cursor, at, resetting ? " (a snapshot is being gathered)" : "");
	}
	return 0;
}

int cmd_sync(const char *db, int argc, char **argv)
{
	int once = 0;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_sync, stdout);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "dead-letters") == 0)) {
		store *s = open_db(db, 0);
		if (!s)
			return 1;
		int rc = strcmp(argv[1], "status") == 0                                ? status(s)
			 : store_dead_letters_foreach(s, print_dead, NULL) == STORE_OK ? 0
										       : 1;
		store_close(s);
		return rc;
	}
	if (argc == 2 && strcmp(argv[1], "--once") == 0)
		once = 1;
	else if (argc != 1)
		return usage_error(usage_sync, "unexpected argument \"%s\"", argv[1]);
	store *s = open_db(db, 0);
	if (!s)
		return 1;
	sync_conf conf;
	if (sync_conf_load(s, &conf) != 0) {
		fprintf(stderr,
			"tingzi: this kiosk is not enrolled; run 'tingzi enroll HUB_URL CODE' first\n");
		store_close(s);
		return 1;
	}
	int rc;
	if (once) {
		sync_report r;
		sync_result res = sync_round(s, &conf, &r);
		print_report(&r);
		rc = res == SYNC_OK ? 0 : res == SYNC_AUTH ? 3 : 1;
	} else {
		rc = sync_forever(s, &conf);
	}
	store_close(s);
	return rc;
}
