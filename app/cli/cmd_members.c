/*
 * cmd_members — `tingzi members import FILE.csv` and `tingzi members list`.
 * The CSV rules are in sync/members_csv.c and the rows in the store; this
 * file reads arguments and reports.
 */
#include "app/cli/cli.h"
#include "sync/csv_out.h"
#include "sync/members_csv.h"

#include <stdio.h>
#include <string.h>

const char usage_members[] = "Usage: tingzi members import FILE.csv\n"
			     "       tingzi members list [--format text|csv|json]\n"
			     "\n"
			     "import: a UTF-8 CSV file with a header row naming the columns\n"
			     "  name,phone,code,tier,expires   (any order; other columns are ignored)\n"
			     "  name is required, and a phone or a code; expires is YYYY-MM-DD or empty.\n"
			     "  A member with the same code (or, without a code, the same phone) is\n"
			     "  updated. The whole file imports or nothing does: every rejected row is\n"
			     "  reported with its line number and reason.\n";

static int members_import(const char *db, int argc, char **argv)
{
	args a;
	int rc = cli_parse(argc, argv, 2, NULL, 1, usage_members, &a);
	if (rc != ARGS_GO)
		return rc;
	if (a.nwords != 1)
		return cli_usage_error(usage_members, "%s", "members import takes one FILE.csv");
	store *s = cli_open_db(db, 1);
	if (!s)
		return 1;
	members_csv_report rep;
	rc = store_import_csv(s, a.word[0], &rep);
	members_csv_report_print(&rep, a.word[0], rc == 0 ? stdout : stderr);
	members_csv_report_free(&rep);
	store_close(s);
	return rc == 0 ? 0 : 1;
}

static int list_member(const store_member *m, void *ctx)
{
	int fmt = *(int *)ctx;
	if (fmt == CLI_CSV) {
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

static int members_list(const char *db, int argc, char **argv)
{
	static const args_opt opts[] = {{"format", 1, 0}, {0}};
	args a;
	int fmt, rc = cli_parse(argc, argv, 2, opts, 0, usage_members, &a);
	if (rc != ARGS_GO)
		return rc;
	if (cli_format(a.value[0], usage_members, 1, &fmt))
		return EXIT_USAGE;
	store *s = cli_open_db(db, 0);
	if (!s)
		return 1;
	store_err err;
	if (fmt == CLI_JSON) {
		json_t *j = json_array();
		err = store_members_foreach(s, list_member_json, j);
		if (err == STORE_OK)
			cli_print_json(j);
		else
			json_decref(j);
	} else {
		if (fmt == CLI_CSV) {
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

int cmd_members(const char *db, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_members, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "import") == 0)
		return members_import(db, argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return members_list(db, argc, argv);
	return cli_usage_error(usage_members, "unknown members command \"%s\"", argv[1]);
}
