/*
 * `tingzi staff set-pin` and `tingzi staff audit`.
 *
 * The PIN is read from the terminal with echo off (twice, to catch a slip),
 * or from standard input when that is not a terminal (one line, for
 * provisioning scripts). It is never an argument, so it never shows in `ps`
 * or in a shell's history, and it is wiped from memory after hashing.
 */
#include "app/cli/cli.h"
#include "app/staff.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

const char usage_staff[] = "Usage: tingzi staff set-pin\n"
			   "       tingzi staff audit [--format text|json]\n"
			   "\n"
			   "set-pin: set the PIN that opens staff mode on the kiosk (hold the top-left\n"
			   "corner of the home screen for 3 seconds). 4 to 12 digits; 6 or more are\n"
			   "better. Typed twice with echo off at a terminal, or one line on standard\n"
			   "input. Stored only as an Argon2id hash.\n"
			   "audit: every staff action (what, when, which staff session).\n"
			   "Exit status: 0 done, 1 error, 2 bad usage.\n";

/* One line from fd 0, without its newline; echo off at a terminal. 0 or -1. */
static int read_secret(const char *prompt, char *buf, size_t len)
{
	int tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) != 0)
			return -1;
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	int rc = fgets(buf, (int)len, stdin) ? 0 : -1;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (rc == 0)
		buf[strcspn(buf, "\r\n")] = '\0';
	return rc;
}

static int set_pin(const char *db)
{
	char pin[64] = "", again[64] = "";
	int rc = 1;
	if (read_secret("New staff PIN (4-12 digits): ", pin, sizeof pin) != 0) {
		fprintf(stderr, "tingzi: no PIN given\n");
		goto out;
	}
	if (!staff_pin_valid(pin)) {
		fprintf(stderr, "tingzi: a staff PIN is 4 to 12 digits (0-9), nothing else\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_secret("The same PIN again: ", again, sizeof again) != 0 ||
		    strcmp(pin, again) != 0) {
			fprintf(stderr, "tingzi: the two PINs differ; nothing changed\n");
			goto out;
		}
	}
	store *s = cli_open_db(db, 1);
	if (!s)
		goto out;
	store_err err = staff_pin_set(s, pin);
	if (err == STORE_OK)
		fprintf(stderr, "staff PIN set\n");
	else
		fprintf(stderr, "tingzi: cannot save the PIN: %s\n", store_errmsg(s));
	store_close(s);
	rc = err == STORE_OK ? 0 : 1;
out:
	sodium_memzero(pin, sizeof pin);
	sodium_memzero(again, sizeof again);
	return rc;
}

typedef struct audit_out {
	int json;
	json_t *all;
} audit_out;

static int print_audit(const store_audit_row *a, void *ctx)
{
	audit_out *o = ctx;
	if (o->json) {
		json_error_t e;
		json_t *d = json_loads(a->detail, 0, &e);
		json_array_append_new(o->all,
				      json_pack("{s:s,s:s,s:s,s:o,s:I}", "id", a->id, "session", a->session,
						"action", a->action, "detail", d ? d : json_object(),
						"wall_ms", (json_int_t)a->wall_ms));
		return 0;
	}
	time_t t = (time_t)(a->wall_ms / 1000);
	struct tm tm;
	char when[32];
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s  session %.8s  %-20s %s\n", when, a->session, a->action, a->detail);
	return 0;
}

static int audit(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"format", 1, 0}, {0}};
	audit_out o = {0};
	args a;
	int fmt, rc = cli_parse(argc, argv, 2, opts, 0, usage_staff, &a);
	if (rc != ARGS_GO)
		return rc;
	if (cli_format(a.value[0], usage_staff, 0, &fmt) != 0)
		return EXIT_USAGE;
	o.json = fmt == CLI_JSON;
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	o.all = json_array();
	store_err err = store_audit_foreach(s, print_audit, &o);
	store_close(s);
	if (err != STORE_OK) {
		json_decref(o.all);
		fprintf(stderr, "tingzi: cannot read the audit\n");
		return 1;
	}
	if (o.json)
		return cli_print_json(o.all);
	json_decref(o.all);
	return 0;
}

int cmd_staff(const char *db, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set-pin") == 0) {
		args a;
		int rc = cli_parse(argc, argv, 2, NULL, 0, usage_staff, &a);
		return rc != ARGS_GO ? rc : set_pin(db);
	}
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return audit(db, argc, argv);
	return cli_usage_error(usage_staff, "expected set-pin or audit");
}
