/*
 * cli — the helpers every `tingzi` command uses (see cli.h): usage errors
 * and options through sync/args.c under the name "tingzi", the database
 * opened with its reason printed, --format, indented JSON.
 */
#include "app/cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return args_usage_error("tingzi", usage, "%s", msg);
}

int cli_parse(int argc, char **argv, int first, const args_opt *opts, int max_words, const char *usage,
	      args *out)
{
	return args_parse("tingzi", usage, opts, max_words, argc, argv, first, out);
}

int cli_format(const char *s, const char *usage, int allow_csv, int *out)
{
	static const char *const with_csv[] = {"text", "json", "csv", NULL}, *const plain[] = {"text", "json",
											       NULL};
	return args_format("tingzi", usage, s, allow_csv ? with_csv : plain, out);
}

store *cli_open_db(const char *path, int create)
{
	store *s = NULL;
	char err[512];
	if (store_open(path, create ? STORE_OPEN_CREATE : 0, &s, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "tingzi: %s\n", err);
		return NULL;
	}
	return s;
}

int cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}
