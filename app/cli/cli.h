/*
 * cli — what the command-line commands share (main.c), so that a command can
 * live in its own file (cmd_*.c).
 */
#ifndef TINGZI_CLI_H
#define TINGZI_CLI_H

#include "app/store/store.h"

#include <jansson.h>

#define EXIT_USAGE 2

/* Print "tingzi: MESSAGE" and the usage text to stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int usage_error(const char *usage, const char *fmt, ...);
/* Open the database (creating it when create), or print why not and return NULL. */
store *open_db(const char *path, int create);
/* "text" -> 0, "json" -> 1, "csv" -> 2 (when allow_csv); else a usage error. */
int parse_format(const char *s, const char *usage, int allow_csv, int *out);
/* Print j indented and take it; returns 0, or 1 when out of memory. */
int print_json(json_t *j);

/* The commands in their own files. */
int cmd_links(const char *db, int argc, char **argv);
int cmd_referral(const char *db, const char *value);
extern const char usage_links[];
int cmd_enroll(const char *db, int argc, char **argv);
int cmd_sync(const char *db, int argc, char **argv);
int cmd_export(const char *db, int argc, char **argv);
extern const char usage_enroll[], usage_sync[], usage_export[];
int cmd_staff(const char *db, int argc, char **argv);
extern const char usage_staff[];

#endif
