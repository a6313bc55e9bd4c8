/*
 * main — the tingzi command line: with no command it runs the kiosk; the
 * commands administer the same database (members, events, check-ins).
 *
 * This file is the table of commands and the kiosk's own flags. Each family
 * of commands lives in a cmd_*.c file, and what they share (the option
 * parser, usage errors, opening the database, --format) in cli.c.
 *
 * --db PATH (or TINGZI_DB) names the database for every command; otherwise it
 * is $XDG_DATA_HOME/tingzi/tingzi.db (~/.local/share/tingzi/tingzi.db).
 * Exit status: 0 success, 1 error, 2 bad usage; `checkin` adds 3 already
 * checked in, 4 unknown member, 5 ambiguous phone.
 */
#include "app/cli/cli.h"
#include "app/i18n.h"
#include "app/kiosk.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static const char usage_show_qr[] =
    "Usage: tingzi show-qr [--link ID] [--windowed] [--size WxH] [--lang L]\n"
    "\n"
    "A display for a TV or a second screen by the door: the join QR codes of the\n"
    "links that apply now (the current event's, then the venue's), taking turns\n"
    "every 10 seconds. Taps and keys do nothing. Links are read again every 30\n"
    "seconds, so new ones appear and expired ones go.\n"
    "  --link ID        show only this link (see 'tingzi links list')\n"
    "  --windowed, --size WxH, --lang L   as for the kiosk\n";

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

/* The kiosk (show_qr 0, flags from argv[1]) or the QR display (show_qr 1, argv[0] "show-qr"). */
static int run_kiosk(const char *db, int argc, char **argv, int show_qr)
{
	enum { WINDOWED, SIZE, LANG, RESULT_TIMEOUT, VERSION, LINK };
	static const args_opt kiosk_opts[] = {{"windowed", 0, 0},       {"size", 1, 0},      {"lang", 1, 0},
					      {"result-timeout", 1, 0}, {"version", 0, 'V'}, {0}},
			      show_qr_opts[] = {{"windowed", 0, 0},
						{"size", 1, 0},
						{"lang", 1, 0},
						{"result-timeout", 1, 0},
						{"version", 0, 'V'},
						{"link", 1, 0},
						{0}};
	const char *usage = show_qr ? usage_show_qr : usage_main;
	kiosk_config cfg = {.db_path = db, .show_qr = show_qr};
	args o;
	int rc = cli_parse(argc, argv, 1, show_qr ? show_qr_opts : kiosk_opts, show_qr ? 0 : 1, usage, &o);
	if (rc != ARGS_GO)
		return rc;
	if (o.value[VERSION]) {
		printf("tingzi %s\n", TINGZI_VERSION);
		return 0;
	}
	if (o.nwords)
		return cli_usage_error(usage, "unknown command \"%s\"", o.word[0]);
	const char *v;
	char *end;
	long n;
	i18n_lang lang;
	cfg.windowed = o.value[WINDOWED] != NULL;
	if ((v = o.value[LINK])) {
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 1)
			return cli_usage_error(usage, "--link \"%s\" is not a link id", v);
		cfg.show_qr_link = n;
	}
	if ((v = o.value[SIZE]) && parse_size(v, &cfg.width, &cfg.height))
		return cli_usage_error(usage, "--size \"%s\" is not WIDTHxHEIGHT (e.g. 1024x600)", v);
	if ((v = o.value[LANG])) {
		if (i18n_parse(v, &lang))
			return cli_usage_error(usage, "--lang \"%s\" is not zh-Hans, zh-Hant or en", v);
		cfg.lang = v;
	}
	if ((v = o.value[RESULT_TIMEOUT])) {
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > 600)
			return cli_usage_error(usage, "--result-timeout \"%s\" is not 1 to 600 seconds", v);
		cfg.result_timeout_ms = (int)n * 1000;
	}
	return kiosk_run(&cfg);
}

static int cmd_show_qr(const char *db, int argc, char **argv)
{
	return run_kiosk(db, argc, argv, 1);
}

static int cmd_help(const char *db, int argc, char **argv)
{
	(void)db, (void)argc, (void)argv;
	fputs(usage_main, stdout);
	return 0;
}

/* ---- the commands ---- */

typedef struct command {
	const char *name;
	const char *usage;                                /* printed by `tingzi NAME --help` */
	int (*fn)(const char *db, int argc, char **argv); /* argv[0] is the name */
} command;

static const command commands[] = {
    {"members", usage_members, cmd_members}, {"events", usage_events, cmd_events},
    {"checkin", usage_checkin, cmd_checkin}, {"checkins", usage_checkins, cmd_checkins},
    {"links", usage_links, cmd_links},       {"show-qr", usage_show_qr, cmd_show_qr},
    {"staff", usage_staff, cmd_staff},       {"enroll", usage_enroll, cmd_enroll},
    {"sync", usage_sync, cmd_sync},          {"export", usage_export, cmd_export},
    {"venue", usage_venue, cmd_venue},       {"demo", usage_demo, cmd_demo},
    {"help", usage_main, cmd_help},
};

/* Take --db PATH / --db=PATH out of argv wherever it stands. */
static int take_db(int *argc, char **argv, const char **db)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--db") == 0) {
			if (i + 1 >= *argc)
				return cli_usage_error(usage_main, "%s", "--db needs a PATH");
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
		return cli_usage_error(usage_main, "%s", "--db needs a PATH");
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
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const command *c = &commands[i];
		if (strcmp(argv[1], c->name) != 0)
			continue;
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			fputs(c->usage, stdout);
			return 0;
		}
		return c->fn(db, argc - 1, argv + 1);
	}
	return cli_usage_error(usage_main, "unknown command \"%s\"", argv[1]);
}
