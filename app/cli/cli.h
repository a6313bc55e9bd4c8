/*
 * cli — what the commands of `tingzi` share: the usage error, the option
 * parser (sync/args.h with the program's name), opening the database, the
 * --format values and JSON output. main.c holds the table of commands; each
 * family of commands lives in its own cmd_*.c and calls only down, into
 * this file and the layers below.
 */
#ifndef TINGZI_CLI_H
#define TINGZI_CLI_H

#include "app/store/store.h"
#include "sync/args.h"

#include <jansson.h>

#define EXIT_USAGE ARGS_USAGE

enum { CLI_TEXT = 0, CLI_JSON = 1, CLI_CSV = 2 }; /* the values of --format */

/* Print "tingzi: MESSAGE" and the usage text to stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *usage, const char *fmt, ...);
/*
 * args_parse() for tingzi: read argv[first..] against opts, with up to
 * max_words words. ARGS_GO: run the command with *out; otherwise return
 * this exit status at once (0 after --help, EXIT_USAGE, both printed).
 */
int cli_parse(int argc, char **argv, int first, const args_opt *opts, int max_words, const char *usage,
	      args *out);
/* --format: NULL or "text" -> CLI_TEXT, "json" -> CLI_JSON, "csv" -> CLI_CSV
   (when allow_csv); 0, or EXIT_USAGE after saying what is expected. */
int cli_format(const char *s, const char *usage, int allow_csv, int *out);
/* Open the database (creating it when create), or print why not and return NULL. */
store *cli_open_db(const char *path, int create);
/* Print j indented and take it; returns 0, or 1 when out of memory. */
int cli_print_json(json_t *j);

/* The commands, one family a file; argv[0] is the command's name. */
int cmd_members(const char *db, int argc, char **argv);
int cmd_events(const char *db, int argc, char **argv);
int cmd_checkin(const char *db, int argc, char **argv);
int cmd_checkins(const char *db, int argc, char **argv);
int cmd_links(const char *db, int argc, char **argv);
int cmd_venue(const char *db, int argc, char **argv);
int cmd_demo(const char *db, int argc, char **argv);
int cmd_staff(const char *db, int argc, char **argv);
int cmd_enroll(const char *db, int argc, char **argv);
int cmd_sync(const char *db, int argc, char **argv);
int cmd_export(const char *db, int argc, char **argv);
extern const char usage_members[], usage_events[], usage_checkin[], usage_checkins[], usage_links[],
    usage_venue[], usage_demo[], usage_staff[], usage_enroll[], usage_sync[], usage_export[];

#endif
