/*
 * cmd_checkin — `tingzi checkin` and `tingzi checkins list`. A check-in goes
 * through app/checkin.c, the same path as a scan at the kiosk; the member is
 * found with the kiosk's roster (by code or by the last digits of a phone).
 * Exit status: 0 recorded, 1 error, 2 bad usage, 3 already checked in,
 * 4 unknown member, 5 ambiguous phone.
 */
#include "app/checkin.h"
#include "app/cli/cli.h"
#include "sync/roster/roster.h"
#include "sync/clock.h"
#include "sync/csv_out.h"
#include "sync/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_ALREADY = 3, EXIT_UNKNOWN = 4, EXIT_AMBIGUOUS = 5 };

const char usage_checkin[] = "Usage: tingzi checkin (--code CODE | --phone DIGITS) [--format text|json]\n"
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

const char usage_checkins[] = "Usage: tingzi checkins list [--event ID] [--format text|csv|json]\n"
			      "\n"
			      "List check-ins in time order, all or those of one event.\n";

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
		return cli_print_json(o);
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
	store *s = cli_open_db(db, 0);
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
	printf("%s: %ld recorded, %ld already checked in, %ld unknown, %ld not saved, %ld refused lines\n",
	       file, n[CHECKIN_RECORDED], n[CHECKIN_ALREADY], n[CHECKIN_UNKNOWN], n[CHECKIN_FAILED], bad);
	roster_free(r);
	store_close(s);
	if (f != stdin)
		fclose(f);
	return n[CHECKIN_FAILED] ? 1 : n[CHECKIN_UNKNOWN] || bad ? EXIT_UNKNOWN : 0;
}

int cmd_checkin(const char *db, int argc, char **argv)
{
	enum { CODE, PHONE, CODE_FILE, FORMAT };
	static const args_opt opts[] = {
	    {"code", 1, 0}, {"phone", 1, 0}, {"code-file", 1, 0}, {"format", 1, 0}, {0}};
	args o;
	int fmt, rc = cli_parse(argc, argv, 1, opts, 0, usage_checkin, &o);
	if (rc != ARGS_GO)
		return rc;
	const char *code = o.value[CODE], *phone = o.value[PHONE], *file = o.value[CODE_FILE];
	if (!!code + !!phone + !!file != 1)
		return cli_usage_error(usage_checkin, "%s",
				       "give exactly one of --code, --phone and --code-file");
	if (file)
		return checkin_file(db, file);
	if (cli_format(o.value[FORMAT], usage_checkin, 0, &fmt))
		return EXIT_USAGE;
	if (code && (!code[0] || strlen(code) >= STORE_CODE_MAX))
		return cli_usage_error(usage_checkin, "--code \"%s\" must be 1 to 63 bytes", code);
	if (phone && (!all_digits(phone) || strlen(phone) < 4 || strlen(phone) >= STORE_PHONE_MAX))
		return cli_usage_error(usage_checkin, "--phone \"%s\" must be 4 to 23 digits", phone);
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	roster *r = roster_new();
	checkin_result res = {0};
	rc = 1;
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
	print_checkin(&res, fmt == CLI_JSON, code ? code : phone);
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

typedef struct list_out {
	int fmt;     /* CLI_TEXT, CLI_JSON or CLI_CSV */
	json_t *all; /* CLI_JSON: the rows so far */
} list_out;

static int list_checkin(const store_checkin_row *r, void *ctx)
{
	list_out *out = ctx;
	char at[20], ev[24], visit[16];
	clock_local_iso(r->c.wall_ms, at, sizeof at);
	snprintf(ev, sizeof ev, "%lld", (long long)r->c.event_id);
	snprintf(visit, sizeof visit, "%d", r->c.visit_no);
	const char *title = r->c.event_id ? r->event_title : "(drop-in)";
	if (out->fmt == CLI_JSON) {
		json_array_append_new(
		    out->all, json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:s,s:i,s:b,s:b}", "id", r->c.id, "at",
					at, "event", (json_int_t)r->c.event_id, "event_title", title,
					"member", (json_int_t)r->c.member_id, "name", r->member_name, "code",
					r->member_code, "method", r->c.method, "visit", r->c.visit_no,
					"expired", r->c.expired, "reversed", r->c.reversed));
	} else if (out->fmt == CLI_CSV) {
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

int cmd_checkins(const char *db, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_checkins, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "list") != 0)
		return cli_usage_error(usage_checkins, "unknown checkins command \"%s\"", argv[1]);
	enum { EVENT, FORMAT };
	static const args_opt opts[] = {{"event", 1, 0}, {"format", 1, 0}, {0}};
	args o;
	long long event = 0;
	int fmt, rc = cli_parse(argc, argv, 2, opts, 0, usage_checkins, &o);
	if (rc != ARGS_GO)
		return rc;
	if (o.value[EVENT]) {
		char *end;
		errno = 0;
		event = strtoll(o.value[EVENT], &end, 10);
		if (errno || *end || end == o.value[EVENT] || event <= 0)
			return cli_usage_error(usage_checkins, "--event \"%s\" is not an event id",
					       o.value[EVENT]);
	}
	if (cli_format(o.value[FORMAT], usage_checkins, 1, &fmt))
		return EXIT_USAGE;
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	store_event e;
	store_err err = STORE_OK;
	if (event && store_event_get(s, event, &e) != STORE_OK) {
		fprintf(stderr, "tingzi: no event with id %lld\n", event);
		store_close(s);
		return 1;
	}
	list_out out = {.fmt = fmt, .all = fmt == CLI_JSON ? json_array() : NULL};
	if (fmt == CLI_CSV) {
		const char *h[] = {"id",   "at",     "event", "event_title", "name",
				   "code", "method", "visit", "expired",     "reversed"};
		csv_out_row(stdout, h, 10);
	}
	err = store_checkins_foreach(s, event, list_checkin, &out);
	if (err != STORE_OK)
		fprintf(stderr, "tingzi: cannot list check-ins: %s\n", store_strerror(err));
	else if (out.all)
		cli_print_json(out.all), out.all = NULL;
	json_decref(out.all);
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}
