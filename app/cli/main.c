/*
 * main — the tingzi command line: with no command it runs the kiosk; the
 * commands administer the same database (members, events, check-ins).
 *
 * --db PATH (or TINGZI_DB) names the database for every command; otherwise it
 * is $XDG_DATA_HOME/tingzi/tingzi.db (~/.local/share/tingzi/tingzi.db).
 * Exit status: 0 success, 1 error, 2 bad usage; `checkin` adds 3 already
 * checked in, 4 unknown member, 5 ambiguous phone.
 */
#include "app/checkin.h"
#include "app/cli/cli.h"
#include "app/i18n.h"
#include "app/kiosk.h"
#include "sync/links.h"
#include "sync/log.h"
#include "sync/members_csv.h"
#include "app/roster/roster.h"
#include "sync/clock.h"
#include "sync/csv_out.h"
#include "app/store/store.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_ALREADY = 3, EXIT_UNKNOWN = 4, EXIT_AMBIGUOUS = 5 };

static const char usage_main[] =
    "Usage: tingzi [--db PATH] [--windowed] [--size WxH] [--lang zh-Hans|zh-Hant|en]\n"
    "       tingzi [--db PATH] COMMAND [ARGS]\n"
    "\n"
    "With no command, run the check-in kiosk (fullscreen unless --windowed).\n"
    "\n"
    "Commands:\n"
    "  members import FILE.csv     add or update members from a CSV file\n"
    "  members list                list members\n"
    "  events add --title T --start TIME --end TIME\n"
    "                              add an event (TIME: 2026-11-22T19:30, local time)\n"
    "  events list                 list events\n"
    "  checkin --code CODE | --phone DIGITS [--format text|json]\n"
    "                              check a member in, as the kiosk screen does\n"
    "  checkins list [--event ID] [--format text|csv|json]\n"
    "                              list check-ins\n"
    "  links add|list|remove|set-default\n"
    "                              group links shown as join QR codes\n"
    "  show-qr [--link ID] [--windowed] [--size WxH] [--lang L]\n"
    "                              a display for a second screen: the join QR\n"
    "                              codes, taking turns, and nothing else\n"
    "  staff set-pin | audit       the PIN that opens staff mode (never echoed);\n"
    "                              the audit of staff actions\n"
    "  enroll HUB_URL CODE         join this kiosk to a venue on tingzi-hub\n"
    "  sync [--once] | status | dead-letters\n"
    "                              upload check-ins, download members, events, links\n"
    "  export --to DIR | --confirm FILE\n"
    "                              signed batch files for a venue with no network\n"
    "  venue set-name NAME         the venue name shown on the home screen\n"
    "  venue set-referral on|off   a returning member's welcome screen shows\n"
    "                              their personal invite QR (off by default)\n"
    "  demo                        fill the database with a demo venue\n"
    "\n"
    "Options:\n"
    "  --db PATH        the database file (default: $TINGZI_DB, else\n"
    "                   $XDG_DATA_HOME/tingzi/tingzi.db)\n"
    "  --windowed       run in a window instead of fullscreen\n"
    "  --size WxH       window size (default 1280x800)\n"
    "  --lang L         start in zh-Hans, zh-Hant or en\n"
    "  --result-timeout SECONDS  result screens return home after this (default 8)\n"
    "  -h, --help       show this help; COMMAND --help shows a command's help\n"
    "  -V, --version    show the version\n"
    "\n"
    "The kiosk writes one JSON line per outcome to standard error.\n"
    "Run 'tingzi COMMAND --help' for a command's options and exit codes.\n";

static const char usage_checkin[] =
    "Usage: tingzi checkin (--code CODE | --phone DIGITS) [--format text|json]\n"
    "       tingzi checkin --code-file FILE\n"
    "\n"
    "Check a member in to the event happening now (a drop-in visit when none),\n"
    "through the same code path as the kiosk screen.\n"
    "  --code CODE      the member code (as a scanner reads it)\n"
    "  --phone DIGITS   the last 4 or more digits of the member's phone\n"
    "  --code-file FILE one code per line (a scanner's stored scans, a typed-up\n"
    "                   sign-in sheet; - for standard input): each is checked in\n"
    "                   on its own; a summary follows, and each refusal by line\n"
    "  --format F       text (default) or json\n"
    "\n"
    "Exit status: 0 recorded, 1 error (not saved), 2 bad usage, 3 already checked\n"
    "in to this event, 4 unknown member, 5 several members match the digits.\n"
    "With --code-file: 0 every line recorded or already in, 4 some line unknown\n"
    "or refused, 1 some check-in not saved.\n";

static const char usage_members[] =
    "Usage: tingzi members import FILE.csv\n"
    "       tingzi members list [--format text|csv|json]\n"
    "\n"
    "import: a UTF-8 CSV file with a header row naming the columns\n"
    "  name,phone,code,tier,expires   (any order; other columns are ignored)\n"
    "  name is required, and a phone or a code; expires is YYYY-MM-DD or empty.\n"
    "  A member with the same code (or, without a code, the same phone) is\n"
    "  updated. The whole file imports or nothing does: every rejected row is\n"
    "  reported with its line number and reason.\n";

static const char usage_events[] =
    "Usage: tingzi events add --title TITLE --start TIME --end TIME\n"
    "       tingzi events list [--format text|json]\n"
    "\n"
    "TIME is ISO 8601 local time: 2026-11-22T19:30 (a space may replace the T).\n";

static const char usage_checkins[] = "Usage: tingzi checkins list [--event ID] [--format text|csv|json]\n"
				     "\n"
				     "List check-ins in time order, all or those of one event.\n";

static const char usage_venue[] =
    "Usage: tingzi venue set-name NAME\n"
    "       tingzi venue set-referral on|off\n"
    "\n"
    "set-referral on: a returning member's welcome screen shows their personal\n"
    "invite QR, the venue's group link with ?ref=THEIR-CODE added.\n";

static const char usage_show_qr[] =
    "Usage: tingzi show-qr [--link ID] [--windowed] [--size WxH] [--lang L]\n"
    "\n"
    "A display for a TV or a second screen by the door: the join QR codes of the\n"
    "links that apply now (the current event's, then the venue's), taking turns\n"
    "every 10 seconds. Taps and keys do nothing. Links are read again every 30\n"
    "seconds, so new ones appear and expired ones go.\n"
    "  --link ID        show only this link (see 'tingzi links list')\n"
    "  --windowed, --size WxH, --lang L   as for the kiosk\n";
static const char usage_demo[] = "Usage: tingzi demo\n"
				 "\n"
				 "Fill the database with a demo venue: members with Chinese names, an\n"
				 "event happening now and a group link for the join QR. Running it again\n"
				 "adds nothing twice.\n";

int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tingzi: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", usage);
	va_end(ap);
	return EXIT_USAGE;
}

/* ---- the database path ---- */

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0700);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static const char *default_db(char *buf, size_t len)
{
	const char *env = getenv("TINGZI_DB");
	if (env && env[0])
		return env;
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		snprintf(buf, len, "%s/tingzi/tingzi.db", xdg);
	else
		snprintf(buf, len, "%s/.local/share/tingzi/tingzi.db", home && home[0] ? home : ".");
	mkdirs(buf);
	return buf;
}

store *open_db(const char *path, int create)
{
	store *s = NULL;
	char err[512];
	if (store_open(path, create ? STORE_OPEN_CREATE : 0, &s, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "tingzi: %s\n", err);
		return NULL;
	}
	return s;
}

int parse_format(const char *s, const char *usage, int allow_csv, int *out)
{
	if (strcmp(s, "text") == 0)
		*out = 0;
	else if (strcmp(s, "json") == 0)
		*out = 1;
	else if (allow_csv && strcmp(s, "csv") == 0)
		*out = 2;
	else
		return usage_error(usage, "unknown format \"%s\"", s);
	return 0;
}

int print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

/* ---- members ---- */

static int list_member(const store_member *m, void *ctx)
{
	int fmt = *(int *)ctx;
	if (fmt == 2) {
		const char *f[] = {m->name, m->phone, m->code, m->tier, m->expires};
		csv_out_row(stdout, f, 5);
	} else {
		printf("%6lld  %-16s  %-12s  %-12s  %-8s  %s%s\n", (long long)m->id, m->name, m->phone,
		       m->code, m->tier, m->expires, m->provisional ? "  (walk-in)" : "");
	}
	return 0;
}

static int list_member_json(const store_member *m, void *ctx)
{
	json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)m->id, "name",
					     m->name, "phone", m->phone, "code", m->code, "tier", m->tier,
					     "expires", m->expires, "provisional", m->provisional));
	return 0;
}

static int cmd_members(const char *db, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_members, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "import") == 0) {
		if (argc == 3 && strcmp(argv[2], "--help") == 0) {
			fputs(usage_members, stdout);
			return 0;
		}
		if (argc != 3)
			return usage_error(usage_members, "%s", "members import takes one FILE.csv");
		store *s = open_db(db, 1);
		if (!s)
			return 1;
		members_csv_report rep;
		int rc = store_import_csv(s, argv[2], &rep);
		members_csv_report_print(&rep, argv[2], rc == 0 ? stdout : stderr);
		members_csv_report_free(&rep);
		store_close(s);
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "list") == 0) {
		int fmt = 0;
		if (argc == 3 && strcmp(argv[2], "--help") == 0) {
			fputs(usage_members, stdout);
			return 0;
		}
		if (argc == 4 && strcmp(argv[2], "--format") == 0) {
			if (parse_format(argv[3], usage_members, 1, &fmt))
				return EXIT_USAGE;
		} else if (argc != 2) {
			return usage_error(usage_members, "unexpected argument \"%s\"", argv[2]);
		}
		store *s = open_db(db, 0);
		if (!s)
			return 1;
		store_err err;
		if (fmt == 1) {
			json_t *a = json_array();
			err = store_members_foreach(s, list_member_json, a);
			if (err == STORE_OK)
				print_json(a);
			else
				json_decref(a);
		} else {
			if (fmt == 2) {
				const char *h[] = {"name", "phone", "code", "tier", "expires"};
				csv_out_row(stdout, h, 5);
			}
			err = store_members_foreach(s, list_member, &fmt);
		}
		if (err != STORE_OK)
			fprintf(stderr, "tingzi: cannot list members: %s\n", store_strerror(err));
		store_close(s);
		return err == STORE_OK ? 0 : 1;
	}
	return usage_error(usage_members, "unknown members command \"%s\"", argv[1]);
}

/* ---- events ---- */

static int list_event(const store_event *e, void *ctx)
{
	char a[20], b[20];
	clock_local_iso(e->start_ms, a, sizeof a);
	clock_local_iso(e->end_ms, b, sizeof b);
	if (ctx)
		json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)e->id, "title",
						     e->title, "start", a, "end", b));
	else
		printf("%6lld  %s  %s  %s\n", (long long)e->id, a, b, e->title);
	return 0;
}

static int cmd_events(const char *db, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_events, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *title = NULL, *start = NULL, *end = NULL, *format = "text";
	static const struct option opts[] = {
	    {"title", required_argument, 0, 't'}, {"start", required_argument, 0, 's'},
	    {"end", required_argument, 0, 'e'},   {"format", required_argument, 0, 'f'},
	    {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			title = optarg;
			break;
		case 's':
			start = optarg;
			break;
		case 'e':
			end = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			fputs(usage_events, stdout);
			return 0;
		default:
			fputs(usage_events, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_events, "unexpected argument \"%s\"", argv[optind]);
	if (strcmp(argv[1], "add") == 0) {
		int64_t a, b, id;
		if (!title || !start || !end)
			return usage_error(usage_events, "%s", "events add needs --title, --start and --end");
		if (!title[0] || strlen(title) >= STORE_TITLE_MAX)
			return usage_error(usage_events, "the title must be 1 to 159 bytes: \"%s\"", title);
		if (clock_parse_local(start, &a))
			return usage_error(usage_events,
					   "--start \"%s\" is not a local time like 2026-11-22T19:30", start);
		if (clock_parse_local(end, &b))
			return usage_error(usage_events,
					   "--end \"%s\" is not a local time like 2026-11-22T21:30", end);
		if (b <= a)
			return usage_error(usage_events, "--end \"%s\" is not after --start", end);
		store *s = open_db(db, 1);
		if (!s)
			return 1;
		store_err err = store_event_add(s, title, a, b, &id);
		if (err == STORE_OK)
			printf("added event %lld: %s\n", (long long)id, title);
		else
			fprintf(stderr, "tingzi: cannot add the event: %s\n", store_strerror(err));
		store_close(s);
		return err == STORE_OK ? 0 : 1;
	}
	if (strcmp(argv[1], "list") == 0) {
		int fmt;
		if (parse_format(format, usage_events, 0, &fmt))
			return EXIT_USAGE;
		store *s = open_db(db, 0);
		if (!s)
			return 1;
		json_t *a = fmt == 1 ? json_array() : NULL;
		store_err err = store_events_foreach(s, list_event, a);
		if (a && err == STORE_OK)
			print_json(a);
		else
			json_decref(a);
		store_close(s);
		return err == STORE_OK ? 0 : 1;
	}
	return usage_error(usage_events, "unknown events command \"%s\"", argv[1]);
}

/* ---- checkin ---- */

static int load_member(const store_member *m, void *ctx)
{
	return roster_add(ctx, m->id, m->name, m->phone, m->code) != 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int print_checkin(const checkin_result *r, int json, const char *query)
{
	char at[20];
	clock_local_iso(r->checkin.wall_ms, at, sizeof at);
	if (json) {
		json_t *o = json_pack("{s:s}", "outcome", checkin_outcome_name(r->outcome));
		if (r->outcome == CHECKIN_RECORDED || r->outcome == CHECKIN_ALREADY) {
			json_object_set_new(o, "id", json_string(r->checkin.id));
			json_object_set_new(o, "member", json_integer(r->member.id));
			json_object_set_new(o, "name", json_string(r->member.name));
			json_object_set_new(o, "event", json_integer(r->event.id));
			json_object_set_new(o, "at", json_string(at));
			json_object_set_new(o, "visit", json_integer(r->checkin.visit_no));
			json_object_set_new(o, "expired", json_boolean(r->checkin.expired));
		}
		if (r->outcome == CHECKIN_FAILED)
			json_object_set_new(o, "error", json_string(store_strerror(r->err)));
		return print_json(o);
	}
	switch (r->outcome) {
	case CHECKIN_RECORDED:
		printf("checked in: %s (visit %d)%s\n", r->member.name, r->checkin.visit_no,
		       r->checkin.expired ? ", membership expired" : "");
		break;
	case CHECKIN_ALREADY:
		printf("already checked in: %s at %s\n", r->member.name, at);
		break;
	case CHECKIN_UNKNOWN:
		fprintf(stderr, "tingzi: no member matches \"%s\"\n", query);
		break;
	case CHECKIN_AMBIGUOUS:
		fprintf(stderr, "tingzi: several members' phones end in %s; give more digits\n", query);
		break;
	case CHECKIN_FAILED:
		fprintf(stderr, "tingzi: not saved: %s\n", store_strerror(r->err));
		break;
	}
	return 0;
}

/*
 * Check in every code of a file, one per line: a scanner's stored scans
 * (batch mode) or a paper sign-in sheet typed up. Each line goes the same
 * way as a scan at the kiosk, in its own transaction.
 */
static int checkin_file(const char *db, const char *file)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!f) {
		fprintf(stderr, "tingzi: cannot open %s: %s\n", file, strerror(errno));
		return 1;
	}
	store *s = open_db(db, 0);
	roster *r = s ? roster_new() : NULL;
	if (!r || store_members_foreach(s, load_member, r) != STORE_OK || roster_finish(r) != 0) {
		if (s)
			fprintf(stderr, "tingzi: cannot read the members: %s\n", store_errmsg(s));
		roster_free(r);
		store_close(s);
		if (f != stdin)
			fclose(f);
		return 1;
	}
	char line[256];
	long no = 0, n[CHECKIN_FAILED + 1] = {0}, bad = 0;
	while (fgets(line, sizeof line, f)) {
		no++;
		size_t len = strcspn(line, "\r\n");
		int whole = line[len] != '\0' || feof(f);
		line[len] = '\0';
		if (!whole) { /* longer than any code: skip the rest of the line */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		if (len == 0)
			continue;
		if (!whole || len >= STORE_CODE_MAX) {
			fprintf(stderr, "%s:%ld: longer than a member code (63 bytes)\n", file, no);
			bad++;
			continue;
		}
		const roster_entry *e = roster_find_code(r, line);
		checkin_result res = {0};
		if (!e) {
			res.outcome = CHECKIN_UNKNOWN;
			fprintf(stderr, "%s:%ld: no member has the code \"%s\"\n", file, no, line);
		} else {
			checkin_member(s, e->id, "cli", &res);
			if (res.outcome == CHECKIN_FAILED)
				fprintf(stderr, "%s:%ld: not saved: %s\n", file, no, store_strerror(res.err));
		}
		n[res.outcome]++;
	}
	printf("%s: %ld recorded, %ld already checked in, %ld unknown, %ld not saved, %ld refused lines\n", file,
	       n[CHECKIN_RECORDED], n[CHECKIN_ALREADY], n[CHECKIN_UNKNOWN], n[CHECKIN_FAILED], bad);
	roster_free(r);
	store_close(s);
	if (f != stdin)
		fclose(f);
	return n[CHECKIN_FAILED] ? 1 : n[CHECKIN_UNKNOWN] || bad ? EXIT_UNKNOWN : 0;
}

static int cmd_checkin(const char *db, int argc, char **argv)
{
	const char *code = NULL, *phone = NULL, *format = "text", *file = NULL;
	static const struct option opts[] = {{"code", required_argument, 0, 'c'},
					     {"phone", required_argument, 0, 'p'},
					     {"code-file", required_argument, 0, 'F'},
					     {"format", required_argument, 0, 'f'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	int c, fmt;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			code = optarg;
			break;
		case 'p':
			phone = optarg;
			break;
		case 'F':
			file = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			fputs(usage_checkin, stdout);
			return 0;
		default:
			fputs(usage_checkin, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_checkin, "unexpected argument \"%s\"", argv[optind]);
	if (!!code + !!phone + !!file != 1)
		return usage_error(usage_checkin, "%s", "give exactly one of --code, --phone and --code-file");
	if (file)
		return checkin_file(db, file);
	if (parse_format(format, usage_checkin, 0, &fmt))
		return EXIT_USAGE;
	if (code && (!code[0] || strlen(code) >= STORE_CODE_MAX))
		return usage_error(usage_checkin, "--code \"%s\" must be 1 to 63 bytes", code);
	if (phone && (!all_digits(phone) || strlen(phone) < 4 || strlen(phone) >= STORE_PHONE_MAX))
		return usage_error(usage_checkin, "--phone \"%s\" must be 4 to 23 digits", phone);
	store *s = open_db(db, 0);
	if (!s)
		return 1;
	roster *r = roster_new();
	int rc = 1;
	checkin_result res = {0};
	if (!r || store_members_foreach(s, load_member, r) != STORE_OK || roster_finish(r) != 0) {
		fprintf(stderr, "tingzi: cannot read the members: %s\n", store_errmsg(s));
		goto out;
	}
	const roster_entry *found[2];
	size_t n;
	if (code) {
		found[0] = roster_find_code(r, code);
		n = found[0] ? 1 : 0;
	} else {
		n = roster_find_phone(r, phone, found, 2);
	}
	if (n == 1) {
		checkin_member(s, found[0]->id, "cli", &res);
	} else {
		res.outcome = n == 0 ? CHECKIN_UNKNOWN : CHECKIN_AMBIGUOUS;
		log_event(n == 0 ? "checkin.unknown" : "checkin.ambiguous",
			  json_pack("{s:s,s:s}", "method", "cli", "by", code ? "code" : "phone"));
	}
	print_checkin(&res, fmt == 1, code ? code : phone);
	static const int codes[] = {[CHECKIN_RECORDED] = 0,
				    [CHECKIN_ALREADY] = EXIT_ALREADY,
				    [CHECKIN_UNKNOWN] = EXIT_UNKNOWN,
				    [CHECKIN_AMBIGUOUS] = EXIT_AMBIGUOUS,
				    [CHECKIN_FAILED] = 1};
	rc = codes[res.outcome];
out:
	roster_free(r);
	store_close(s);
	return rc;
}

/* ---- checkins list ---- */

static int list_csv; /* checkins list --format csv */

static int list_checkin(const store_checkin_row *r, void *ctx)
{
	char at[20], ev[24], visit[16];
	clock_local_iso(r->c.wall_ms, at, sizeof at);
	snprintf(ev, sizeof ev, "%lld", (long long)r->c.event_id);
	snprintf(visit, sizeof visit, "%d", r->c.visit_no);
	const char *title = r->c.event_id ? r->event_title : "(drop-in)";
	if (ctx) {
		json_array_append_new(
		    ctx, json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:s,s:i,s:b,s:b}", "id", r->c.id, "at", at,
				   "event", (json_int_t)r->c.event_id, "event_title", title, "member",
				   (json_int_t)r->c.member_id, "name", r->member_name, "code", r->member_code,
				   "method", r->c.method, "visit", r->c.visit_no, "expired", r->c.expired,
				   "reversed", r->c.reversed));
	} else if (list_csv) {
		const char *f[] = {r->c.id,
				   at,
				   ev,
				   title,
				   r->member_name,
				   r->member_code,
				   r->c.method,
				   visit,
				   r->c.expired ? "1" : "0",
				   r->c.reversed ? "1" : "0"};
		csv_out_row(stdout, f, 10);
	} else {
		printf("%s  %-16s  %-6s  %-4s  %s%s\n", at, r->member_name, r->c.method, visit, title,
		       r->c.reversed ? "  (undone)" : "");
	}
	return 0;
}

static int cmd_checkins(const char *db, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_checkins, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "list") != 0)
		return usage_error(usage_checkins, "unknown checkins command \"%s\"", argv[1]);
	const char *format = "text";
	long long event = 0;
	static const struct option opts[] = {{"event", required_argument, 0, 'e'},
					     {"format", required_argument, 0, 'f'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	int c, fmt;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'e':
			errno = 0;
			event = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || event <= 0)
				return usage_error(usage_checkins, "--event \"%s\" is not an event id",
						   optarg);
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			fputs(usage_checkins, stdout);
			return 0;
		default:
			fputs(usage_checkins, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage_checkins, "unexpected argument \"%s\"", argv[optind]);
	if (parse_format(format, usage_checkins, 1, &fmt))
		return EXIT_USAGE;
	store *s = open_db(db, 0);
	if (!s)
		return 1;
	store_event e;
	store_err err = STORE_OK;
	if (event && store_event_get(s, event, &e) != STORE_OK) {
		fprintf(stderr, "tingzi: no event with id %lld\n", event);
		store_close(s);
		return 1;
	}
	json_t *a = fmt == 1 ? json_array() : NULL;
	list_csv = fmt == 2;
	if (list_csv) {
		const char *h[] = {"id",   "at",     "event", "event_title", "name",
				   "code", "method", "visit", "expired", "reversed"};
		csv_out_row(stdout, h, 10);
	}
	err = store_checkins_foreach(s, event, list_checkin, a);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot list check-ins: %s\n", store_strerror(err));
	else if (a)
		print_json(a), a = NULL;
	json_decref(a);
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

/* ---- venue and demo ---- */

static int cmd_venue(const char *db, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_venue, stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "set-referral") == 0)
		return cmd_referral(db, argv[2]);
	if (argc != 3 || strcmp(argv[1], "set-name") != 0)
		return usage_error(usage_venue, "%s", "venue takes: set-name NAME, or set-referral on|off");
	if (!argv[2][0] || strlen(argv[2]) >= STORE_TITLE_MAX)
		return usage_error(usage_venue, "the venue name must be 1 to 159 bytes: \"%s\"", argv[2]);
	store *s = open_db(db, 1);
	if (!s)
		return 1;
	store_err err = store_setting_set(s, "venue_name", argv[2]);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot save the venue name: %s\n", store_strerror(err));
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

static int cmd_demo(const char *db, int argc, char **argv)
{
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0;
		fputs(usage_demo, help ? stdout : stderr);
		return help ? 0 : EXIT_USAGE;
	}
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
	store *s = open_db(db, 1);
	if (!s)
		return 1;
	members_csv_report rep;
	int rc = store_import_csv(s, csv, &rep);
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

/* ---- the kiosk ---- */

static int parse_size(const char *s, int *w, int *h)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		return -1;
	const char *p = end + 1;
	long b = strtol(p, &end, 10);
	if (end == p || *end || a < 320 || b < 240 || a > 8192 || b > 8192)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

static int run_kiosk(const char *db, int argc, char **argv, int show_qr)
{
	kiosk_config cfg = {.db_path = db, .show_qr = show_qr};
	const char *usage = show_qr ? usage_show_qr : usage_main;
	static const struct option opts[] = {{"windowed", no_argument, 0, 'w'},
					     {"link", required_argument, 0, 'k'},
					     {"size", required_argument, 0, 's'},
					     {"lang", required_argument, 0, 'l'},
					     {"result-timeout", required_argument, 0, 'r'},
					     {"help", no_argument, 0, 'h'},
					     {"version", no_argument, 0, 'V'},
					     {0, 0, 0, 0}};
	int c;
	optind = show_qr ? 2 : 1;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		i18n_lang lang;
		char *end;
		long v;
		switch (c) {
		case 'w':
			cfg.windowed = 1;
			break;
		case 'k':
			v = strtol(optarg, &end, 10);
			if (!show_qr || end == optarg || *end || v < 1)
				return usage_error(usage, "--link \"%s\" is not a link id", optarg);
			cfg.show_qr_link = v;
			break;
		case 's':
			if (parse_size(optarg, &cfg.width, &cfg.height))
				return usage_error(usage, "--size \"%s\" is not WIDTHxHEIGHT (e.g. 1024x600)",
						   optarg);
			break;
		case 'l':
			if (i18n_parse(optarg, &lang))
				return usage_error(usage, "--lang \"%s\" is not zh-Hans, zh-Hant or en",
						   optarg);
			cfg.lang = optarg;
			break;
		case 'r':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 600)
				return usage_error(usage, "--result-timeout \"%s\" is not 1 to 600 seconds",
						   optarg);
			cfg.result_timeout_ms = (int)v * 1000;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("tingzi %s\n", TINGZI_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage, "unknown command \"%s\"", argv[optind]);
	return kiosk_run(&cfg);
}

/* Take --db PATH / --db=PATH out of argv wherever it stands. */
static int take_db(int *argc, char **argv, const char **db)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--db") == 0) {
			if (i + 1 >= *argc)
				return usage_error(usage_main, "%s", "--db needs a PATH");
			*db = argv[++i];
		} else if (strncmp(argv[i], "--db=", 5) == 0) {
			*db = argv[i] + 5;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	if (*db && !(*db)[0])
		return usage_error(usage_main, "%s", "--db needs a PATH");
	return 0;
}

int main(int argc, char **argv)
{
	const char *db = NULL;
	char dbbuf[PATH_MAX];
	if (take_db(&argc, argv, &db))
		return EXIT_USAGE;
	if (!db)
		db = default_db(dbbuf, sizeof dbbuf);
	if (argc < 2 || argv[1][0] == '-')
		return run_kiosk(db, argc, argv, 0);
	const char *cmd = argv[1];
	if (strcmp(cmd, "members") == 0)
		return cmd_members(db, argc - 1, argv + 1);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(db, argc - 1, argv + 1);
	if (strcmp(cmd, "checkin") == 0)
		return cmd_checkin(db, argc - 1, argv + 1);
	if (strcmp(cmd, "checkins") == 0)
		return cmd_checkins(db, argc - 1, argv + 1);
	if (strcmp(cmd, "links") == 0)
		return cmd_links(db, argc - 1, argv + 1);
	if (strcmp(cmd, "enroll") == 0)
		return cmd_enroll(db, argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(db, argc - 1, argv + 1);
	if (strcmp(cmd, "sync") == 0)
		return cmd_sync(db, argc - 1, argv + 1);
	if (strcmp(cmd, "staff") == 0)
		return cmd_staff(db, argc - 1, argv + 1);
	if (strcmp(cmd, "show-qr") == 0)
		return run_kiosk(db, argc, argv, 1);
	if (strcmp(cmd, "venue") == 0)
		return cmd_venue(db, argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(db, argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	return usage_error(usage_main, "unknown command \"%s\"", cmd);
}
