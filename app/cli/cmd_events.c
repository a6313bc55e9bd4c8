/*
 * cmd_events — `tingzi events add` and `tingzi events list`: the venue's
 * events, in local time (sync/clock.c reads and writes it).
 */
#include "app/cli/cli.h"
#include "sync/clock.h"

#include <stdio.h>
#include <string.h>

const char usage_events[] = "Usage: tingzi events add --title TITLE --start TIME --end TIME\n"
			    "       tingzi events list [--format text|json]\n"
			    "\n"
			    "TIME is ISO 8601 local time: 2026-11-22T19:30 (a space may replace the T).\n";

static int events_add(const char *db, int argc, char **argv)
{
	enum { TITLE, START, END };
	static const args_opt opts[] = {{"title", 1, 0}, {"start", 1, 0}, {"end", 1, 0}, {0}};
	args o;
	int rc = cli_parse(argc, argv, 2, opts, 0, usage_events, &o);
	if (rc != ARGS_GO)
		return rc;
	const char *title = o.value[TITLE], *start = o.value[START], *end = o.value[END];
	int64_t a, b, id;
	if (!title || !start || !end)
		return cli_usage_error(usage_events, "%s", "events add needs --title, --start and --end");
	if (!title[0] || strlen(title) >= STORE_TITLE_MAX)
		return cli_usage_error(usage_events, "the title must be 1 to 159 bytes: \"%s\"", title);
	if (clock_parse_local(start, &a))
		return cli_usage_error(usage_events,
				       "--start \"%s\" is not a local time like 2026-11-22T19:30", start);
	if (clock_parse_local(end, &b))
		return cli_usage_error(usage_events, "--end \"%s\" is not a local time like 2026-11-22T21:30",
				       end);
	if (b <= a)
		return cli_usage_error(usage_events, "--end \"%s\" is not after --start", end);
	store *s = cli_open_db(db, 1);
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

static int events_list(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"format", 1, 0}, {0}};
	args o;
	int fmt, rc = cli_parse(argc, argv, 2, opts, 0, usage_events, &o);
	if (rc != ARGS_GO)
		return rc;
	if (cli_format(o.value[0], usage_events, 0, &fmt))
		return EXIT_USAGE;
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	json_t *a = fmt == CLI_JSON ? json_array() : NULL;
	store_err err = store_events_foreach(s, list_event, a);
	if (a && err == STORE_OK)
		cli_print_json(a);
	else
		json_decref(a);
	store_close(s);
	return err == STORE_OK ? 0 : 1;
}

int cmd_events(const char *db, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_events, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "add") == 0)
		return events_add(db, argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return events_list(db, argc, argv);
	return cli_usage_error(usage_events, "unknown events command \"%s\"", argv[1]);
}
