/*
 * cmd_sync — `tingzi enroll` and `tingzi sync`: this kiosk and tingzi-hub.
 * The work is in app/sync/client.c; this file reads arguments and reports.
 */
#include "app/cli/cli.h"
#include "app/sync/client.h"
#include "sync/clock.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
			  "The kiosk runs the same sync in the background by itself. One sync runs\n"
			  "at a time on a database: another waits for the one under way (up to 2\n"
			  "minutes, then says so and exits 0).\n"
			  "Exit status: 0 done, 1 failed (the reason on standard error), 2 bad usage,\n"
			  "3 the hub refused this device (401/403).\n";


int cmd_enroll(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"name", 1, 0}, {0}};
	args o;
	int rc = cli_parse(argc, argv, 1, opts, 2, usage_enroll, &o);
	if (rc != ARGS_GO)
		return rc;
	const char *name = o.value[0];
	if (o.nwords != 2)
		return cli_usage_error(usage_enroll, "%s", "enroll takes HUB_URL and CODE");
	if (name && strlen(name) > 64)
		return cli_usage_error(usage_enroll, "%s", "--name is at most 64 bytes");
	store *s = cli_open_db(db, 1);
	if (!s)
		return 1;
	wire_enrolled e;
	char why[320];
	sync_result r = sync_enroll(s, o.word[0], o.word[1], name, &e, why, sizeof why);
	if (r == SYNC_OK)
		printf("enrolled at %s: venue %s (%s), device %s\n", o.word[0], e.venue_name, e.venue_id,
		       e.device_id);
	else
		fprintf(stderr, "tingzi: cannot enroll: %s\n", why);
	store_close(s);
	return r == SYNC_OK ? 0 : 1;
}

static void print_report(const sync_report *r)
{
	printf("pushed %lld (ok %lld, duplicate %lld, rejected %lld); pulled members %lld, events %lld, "
	       "links %lld, passes %lld; %.1f KiB up, %.1f KiB down; %lld waiting\n",
	       (long long)r->sent, (long long)r->ok, (long long)r->duplicate, (long long)r->rejected,
	       (long long)r->pulled[STORE_SET_MEMBERS], (long long)r->pulled[STORE_SET_EVENTS],
	       (long long)r->pulled[STORE_SET_LINKS], (long long)r->pulled[STORE_SET_PASSES],
	       (double)r->bytes_up / 1024,
	       (double)r->bytes_down / 1024, (long long)r->waiting);
	if (r->result == SYNC_BUSY)
		fprintf(stderr,
			"tingzi: another sync of this database is running; what waits goes with it\n");
	else if (r->result != SYNC_OK)
		fprintf(stderr, "tingzi: sync failed (%s): %s\n", sync_strerror(r->result), r->error);
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
	sync_conf c = *conf;
	c.conn = sync_conn_new(); /* one connection from round to round (NULL: one a round) */
	while (!stopping) {
		sync_report r;
		sync_result res = sync_round(s, &c, &r);
		print_report(&r);
		fflush(stdout);
		if (res != SYNC_BUSY)
			failures = res == SYNC_OK ? 0 : failures + 1;
		int64_t wait = sync_next_wait_ms(res, failures, r.retry_after_s, 30000,
						 (double)(rand() % 1000) / 1000.0);
		for (int64_t t = 0; t < wait && !stopping; t += 100)
			nanosleep(&(struct timespec){0, 100000000L}, NULL);
	}
	sync_conn_free(c.conn);
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

/* The database at db, enrolled, with its sync settings in *conf; NULL (and why on stderr) otherwise. */
static store *open_enrolled(const char *db, sync_conf *conf)
{
	store *s = cli_open_db(db, 0);
	if (s && sync_conf_load(s, conf) != 0) {
		fprintf(stderr, "tingzi: this kiosk is not enrolled; run 'tingzi enroll HUB_URL CODE' first\n");
		store_close(s);
		s = NULL;
	}
	return s;
}

int cmd_sync(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"once", 0, 0}, {0}};
	args o;
	int rc;
	if (argc >= 2 && (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "dead-letters") == 0)) {
		rc = cli_parse(argc, argv, 2, NULL, 0, usage_sync, &o);
		if (rc != ARGS_GO)
			return rc;
		store *s = cli_open_db(db, 0);
		if (!s)
			return 1;
		rc = strcmp(argv[1], "status") == 0                                ? status(s)
		     : store_dead_letters_foreach(s, print_dead, NULL) == STORE_OK ? 0
										   : 1;
		store_close(s);
		return rc;
	}
	rc = cli_parse(argc, argv, 1, opts, 0, usage_sync, &o);
	if (rc != ARGS_GO)
		return rc;
	int once = o.value[0] != NULL;
	sync_conf conf;
	store *s = open_enrolled(db, &conf);
	if (!s)
		return 1;
	if (once) {
		sync_report r;
		sync_result res = sync_round(s, &conf, &r);
		print_report(&r);
		rc = res == SYNC_OK || res == SYNC_BUSY ? 0 : res == SYNC_AUTH ? 3 : 1;
	} else {
		rc = sync_forever(s, &conf);
	}
	store_close(s);
	return rc;
}

/* ---- sneakernet ---- */

const char usage_export[] = "Usage: tingzi export --to DIR\n"
			    "       tingzi export --confirm FILE\n"
			    "\n"
			    "For a venue with no network: write what waits to be uploaded into files\n"
			    "DIR/tingzi-DEVICE-FIRST-LAST.tzb of at most 1000 records each, signed with\n"
			    "this device's key, for 'tingzi-hub import FILE' on the organizer's side.\n"
			    "The records stay queued until the hub has them: a later sync, or --confirm\n"
			    "with a file the hub imported, takes them off the queue. Members and events\n"
			    "come in the first files, so the hub knows them before their check-ins.\n"
			    "Exit status: 0 done, 1 error, 2 bad usage.\n";

typedef struct exp_batch {
	wire_rec r[SYNC_BATCH];
	int64_t seq[SYNC_BATCH];
	size_t n;
	int64_t first, last;
	int failed;
} exp_batch;

static int exp_take(const store_outbox_rec *rec, void *ctx)
{
	exp_batch *b = ctx;
	if (wire_rec_from(&b->r[b->n], rec) != 0) {
		b->failed = 1;
		return 1;
	}
	if (!b->n)
		b->first = rec->seq;
	b->last = rec->seq;
	b->seq[b->n++] = rec->seq;
	return 0;
}

static void exp_clear(exp_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		wire_rec_clear(&b->r[i]);
	b->n = 0;
}

/* The device's Ed25519 secret key from the settings. */
static int secret_key(store *s, unsigned char *sk)
{
	char hex[2 * crypto_sign_SECRETKEYBYTES + 1];
	size_t n = 0;
	int rc =
	    store_setting_get(s, "sign_secret", hex, sizeof hex) == STORE_OK &&
		    sodium_hex2bin(sk, crypto_sign_SECRETKEYBYTES, hex, strlen(hex), NULL, &n, NULL) == 0 &&
		    n == crypto_sign_SECRETKEYBYTES
		? 0
		: -1;
	sodium_memzero(hex, sizeof hex);
	return rc;
}

/*
 * Write one signed file of as many of b's records as one batch holds (the
 * encoder closes a batch at its limits); b->n and b->last then say which
 * went in. 0 or -1 (said on stderr).
 */
static int write_tzb(const char *dir, store *s, const sync_conf *conf, exp_batch *b, const unsigned char *sk)
{
	char why[256], path[4096], tmp[4200];
	size_t used = 0;
	char *push =
	    wire_push_body_fit(store_device_id(s), clock_wall_ms(), b->r, b->n, &used, why, sizeof why);
	if (!push) {
		fprintf(stderr, "tingzi: %s\n", why);
		return -1;
	}
	if (used > 0 && used < b->n) {
		for (size_t i = used; i < b->n; i++)
			wire_rec_clear(&b->r[i]);
		b->n = used;
		b->last = b->seq[used - 1];
	}
	/* the file: "tzb1", the header and its push as one JSON line, the signature line */
	json_t *body = json_loads(push, 0, NULL);
	free(push);
	json_t *head = body ? json_pack("{s:s,s:s,s:I,s:o}", "device_id", store_device_id(s), "venue",
					conf->venue_id, "created_ms", (json_int_t)clock_wall_ms(), "push", body)
			    : NULL;
	char *line = head ? json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(head);
	size_t plen = line ? strlen(line) + 7 : 0;
	char *doc = line ? malloc(plen) : NULL;
	if (!doc) {
		free(line);
		return -1;
	}
	int n = snprintf(doc, plen, "tzb1\n%s\n", line);
	free(line);
	unsigned char sig[crypto_sign_BYTES];
	char sig_hex[2 * crypto_sign_BYTES + 1];
	crypto_sign_detached(sig, NULL, (const unsigned char *)doc, (unsigned long long)n, sk);
	sodium_bin2hex(sig_hex, sizeof sig_hex, sig, sizeof sig);
	snprintf(path, sizeof path, "%s/tingzi-%s-%lld-%lld.tzb", dir, store_device_id(s),
		 (long long)b->first, (long long)b->last);
	snprintf(tmp, sizeof tmp, "%s.part", path);
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(doc, 1, (size_t)n, f) == (size_t)n && fprintf(f, "%s\n", sig_hex) > 0 &&
		 fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f && fclose(f) != 0)
		ok = 0;
	free(doc);
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "tingzi: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	printf("%s: %zu records\n", path, b->n);
	return 0;
}

static int export_to(store *s, const sync_conf *conf, const char *dir)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	if (secret_key(s, sk) != 0) {
		fprintf(stderr, "tingzi: this kiosk has no signing key; enroll it first\n");
		return 1;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tingzi: %s is not a folder\n", dir);
		sodium_memzero(sk, sizeof sk);
		return 1;
	}
	static exp_batch b;
	int rc = 0, files = 0;
	if (store_outbox_enqueue_local(s, clock_wall_ms(), NULL) != STORE_OK)
		rc = 1;
	for (int first = 1; first >= 0 && rc == 0; first--) {
		int64_t after = 0;
		for (;;) {
			exp_clear(&b);
			b.failed = 0;
			if (store_outbox_export(s, first, after, SYNC_BATCH, exp_take, &b) != STORE_OK ||
			    b.failed) {
				fprintf(stderr, "tingzi: cannot read the outbox: %s\n", store_errmsg(s));
				rc = 1;
				break;
			}
			if (b.n == 0)
				break;
			if (write_tzb(dir, s, conf, &b, sk) != 0 ||
			    store_outbox_mark_exported(s, b.first, b.last, clock_wall_ms()) != STORE_OK) {
				rc = 1;
				break;
			}
			files++;
			after = b.last;
		}
	}
	exp_clear(&b);
	sodium_memzero(sk, sizeof sk);
	if (rc == 0)
		printf("%d files; the records stay queued until the hub has them\n", files);
	return rc;
}

/* Take a file the hub imported off the queue: its signature must be ours. */
static int confirm(store *s, const char *file)
{
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	size_t n = 0;
	if (store_setting_get(s, "sign_public", hex, sizeof hex) != STORE_OK ||
	    sodium_hex2bin(pk, sizeof pk, hex, strlen(hex), NULL, &n, NULL) != 0 || n != sizeof pk) {
		fprintf(stderr, "tingzi: this kiosk has no signing key; enroll it first\n");
		return 1;
	}
	FILE *f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "tingzi: cannot open %s: %s\n", file, strerror(errno));
		return 1;
	}
	static char data[WIRE_MAX_REPLY + 1];
	size_t len = fread(data, 1, sizeof data - 1, f);
	fclose(f);
	data[len] = '\0';
	char *second = strchr(data, '\n'), *third = second ? strchr(second + 1, '\n') : NULL;
	size_t signed_len = third ? (size_t)(third + 1 - data) : 0;
	if (len >= sizeof data - 1 || strncmp(data, "tzb1\n", 5) != 0 || !third ||
	    sodium_hex2bin(sig, sizeof sig, third + 1, strcspn(third + 1, "\n"), NULL, &n, NULL) != 0 ||
	    n != sizeof sig ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)data, signed_len, pk) != 0) {
		fprintf(stderr, "tingzi: %s is not a batch file signed by this kiosk\n", file);
		return 1;
	}
	json_t *doc = json_loadb(second + 1, (size_t)(third - second - 1), 0, NULL);
	json_t *push = json_object_get(doc, "push");
	json_t *ids = json_object_get(json_object_get(push, "checkins"), "id");
	json_t *recs = json_object_get(push, "records");
	size_t count = json_array_size(ids) + json_array_size(recs), i, k = 0;
	store_ack *acks = calloc(count ? count : 1, sizeof *acks);
	if (!acks) {
		json_decref(doc);
		fprintf(stderr, "tingzi: out of memory\n");
		return 1;
	}
	json_t *v;
	const char *id;
	/* an id that is not a string names nothing in the queue: it is skipped */
	json_array_foreach(ids, i, v) if ((id = json_string_value(v)))
	    snprintf(acks[k++].id, sizeof acks[0].id, "%s", id);
	json_array_foreach(recs, i, v) if ((id = json_string_value(json_object_get(v, "id"))))
	    snprintf(acks[k++].id, sizeof acks[0].id, "%s", id);
	int64_t removed = 0;
	store_err err = store_outbox_ack(s, acks, k, clock_wall_ms(), &removed);
	free(acks);
	json_decref(doc);
	if (err != STORE_OK) {
		fprintf(stderr, "tingzi: cannot update the queue: %s\n", store_errmsg(s));
		return 1;
	}
	printf("%lld records of %s taken off the queue\n", (long long)removed, file);
	return 0;
}

int cmd_export(const char *db, int argc, char **argv)
{
	enum { TO, CONFIRM };
	static const args_opt opts[] = {{"to", 1, 0}, {"confirm", 1, 0}, {0}};
	args o;
	int rc = cli_parse(argc, argv, 1, opts, 0, usage_export, &o);
	if (rc != ARGS_GO)
		return rc;
	if (!o.value[TO] == !o.value[CONFIRM])
		return cli_usage_error(usage_export, "%s", "export takes --to DIR or --confirm FILE");
	if (sodium_init() < 0) {
		fprintf(stderr, "tingzi: cannot start libsodium\n");
		return 1;
	}
	sync_conf conf;
	store *s = open_enrolled(db, &conf);
	if (!s)
		return 1;
	rc = o.value[TO] ? export_to(s, &conf, o.value[TO]) : confirm(s, o.value[CONFIRM]);
	store_close(s);
	return rc;
}
