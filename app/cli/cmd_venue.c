/*
 * cmd_venue — `tingzi venue set-name | set-referral` (settings the kiosk's
 * screens read) and `tingzi demo`, which fills a database with a demo
 * venue: members, an event happening now, a group link and a name.
 */
#include "app/cli/cli.h"
#include "sync/clock.h"
#include "sync/links.h"
#include "sync/members_csv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char usage_venue[] = "Usage: tingzi venue set-name NAME\n"
			   "       tingzi venue set-referral on|off\n"
			   "\n"
			   "set-referral on: a returning member's welcome screen shows their personal\n"
			   "invite QR: the venue link's live address on the hub (/j/SLUG, when the link\n"
			   "came from a hub; else the link itself) with ?ref=THEIR-CODE added.\n";
const char usage_demo[] = "Usage: tingzi demo\n"
			  "\n"
			  "Fill the database with a demo venue: members with Chinese names, an\n"
			  "event happening now and a group link for the join QR. Running it again\n"
			  "adds nothing twice.\n";

static int set_referral(const char *db, const char *value)
{
	int on = strcmp(value, "on") == 0;
	if (!on && strcmp(value, "off") != 0) {
		fprintf(stderr, "tingzi: venue set-referral takes on or off, not \"%s\"\n", value);
		return EXIT_USAGE;
	}
	store *s = cli_open_db(db, 1);
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

int cmd_venue(const char *db, int argc, char **argv)
{
	static const char takes[] = "venue takes: set-name NAME, or set-referral on|off";
	args o;
	if (argc < 2 || (strcmp(argv[1], "set-name") != 0 && strcmp(argv[1], "set-referral") != 0))
		return cli_usage_error(usage_venue, "%s", takes);
	int rc = cli_parse(argc, argv, 2, NULL, 1, usage_venue, &o);
	if (rc != ARGS_GO)
		return rc;
	if (o.nwords != 1)
		return cli_usage_error(usage_venue, "%s", takes);
	const char *name = o.word[0];
	if (strcmp(argv[1], "set-referral") == 0)
		return set_referral(db, name);
	if (!name[0] || strlen(name) >= STORE_TITLE_MAX)
		return cli_usage_error(usage_venue, "the venue name must be 1 to 159 bytes: \"%s\"", name);
	store *s = cli_open_db(db, 1);
	if (!s)
		return 1;
	store_err err = store_setting_set(s, "venue_name", name);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot save the venue name: %s\n", store_strerror(err));
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

int cmd_demo(const char *db, int argc, char **argv)
{
	args o;
	int rc = cli_parse(argc, argv, 1, NULL, 0, usage_demo, &o);
	if (rc != ARGS_GO)
		return rc;
	char csv[PATH_MAX];
	const char *dir = getenv("TINGZI_DEMO_DIR");
	snprintf(csv, sizeof csv, "%s/members.csv", dir && dir[0] ? dir : TINGZI_DEMO_DIR);
	struct stat st;
	if (stat(csv, &st) != 0) {
		snprintf(csv, sizeof csv, "%s/assets/demo/members.csv", TINGZI_SOURCE_DIR);
		if (stat(csv, &st) != 0) {
			fprintf(stderr, "tingzi: the demo members file is missing (%s)\n", csv);
			return 1;
		}
	}
	store *s = cli_open_db(db, 1);
	if (!s)
		return 1;
	members_csv_report rep;
	rc = store_import_csv(s, csv, &rep);
	members_csv_report_print(&rep, csv, rc == 0 ? stdout : stderr);
	members_csv_report_free(&rep);
	store_event e;
	int64_t now = clock_wall_ms();
	if (rc == 0 && store_event_current(s, now, &e) != STORE_OK) {
		int64_t start = now - now % 3600000 - 3600000, id;
		store_err err =
		    store_event_add(s, "周末茶话会 · Weekend Tea Social", start, start + 6 * 3600000, &id);
		if (err != STORE_OK) {
			fprintf(stderr, "tingzi: cannot add the demo event: %s\n", store_strerror(err));
			rc = 1;
		} else {
			printf("added event %lld, happening now\n", (long long)id);
		}
	}
	link_set links;
	if (rc == 0 && store_links_load(s, &links) == STORE_OK && links.n == 0) {
		/* a join QR for the demo venue, so the join screen has something to show */
		store_link l = {.is_default = 1};
		snprintf(l.platform, sizeof l.platform, "url");
		snprintf(l.label, sizeof l.label, "听雨茶馆社群 · Tingyu Teahouse community");
		snprintf(l.url, sizeof l.url, "https://example.org/tingyu/join");
		int64_t id;
		if (store_link_add(s, &l, now, &id) != STORE_OK) {
			fprintf(stderr, "tingzi: cannot add the demo link: %s\n", store_errmsg(s));
			rc = 1;
		} else {
			printf("added link %lld, the venue's join QR\n", (long long)id);
		}
	}
	char name[STORE_TITLE_MAX];
	if (rc == 0 && store_setting_get(s, "venue_name", name, sizeof name) != STORE_OK)
		rc = store_setting_set(s, "venue_name", "听雨茶馆 Tingyu Teahouse") == STORE_OK ? 0 : 1;
	store_close(s);
	if (rc == 0)
		printf("demo venue ready in %s\n", db);
	return rc;
}
