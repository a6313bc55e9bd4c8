/*
 * members_csv — import members from a CSV file (libcsv), all or nothing.
 *
 * The file is UTF-8 (a leading byte-order mark is skipped) with a header row
 * naming the columns name, phone, code, tier, expires in any order, matched
 * without regard to case; other columns are ignored. name is required, and a
 * phone or a code. A phone may carry spaces, dashes, dots, brackets and a
 * leading +; its digits (5 to 20) are kept. expires is empty or YYYY-MM-DD.
 *
 * Every row is checked before anything is written; if any row is refused,
 * nothing is imported and each refusal is reported with its line number.
 */
#ifndef TINGZI_MEMBERS_CSV_H
#define TINGZI_MEMBERS_CSV_H

#include "sync/store.h"

#include <stddef.h>
#include <stdio.h>

#define MEMBERS_CSV_MAX_BYTES (64u << 20) /* a file larger than this is refused */
#define MEMBERS_CSV_MAX_LINE 65536        /* longest physical line */
#define MEMBERS_CSV_MAX_ERRORS 100        /* refusals kept for the report */

typedef struct members_csv_report {
	size_t rows;          /* data rows read */
	size_t added, updated, unchanged;
	size_t errors_total;  /* rows refused (all of them) */
	size_t nerrors;       /* refusals kept in errors[] */
	char *errors[MEMBERS_CSV_MAX_ERRORS]; /* "line 7: expires \"2026-13-01\" is not a date" */
	char fatal[512];      /* a reason the file could not be read at all, or "" */
} members_csv_report;

/*
 * Import path into s. Returns 0 when every row was imported; -1 when the file
 * was refused (rep->fatal or rep->errors say why) and nothing was written.
 * Call members_csv_report_free() afterwards either way.
 */
int members_csv_import(store *s, const char *path, members_csv_report *rep);
/* Print counts (success) or the refusals and "nothing imported" to f. */
void members_csv_report_print(const members_csv_report *rep, const char *path, FILE *f);
void members_csv_report_free(members_csv_report *rep);

#endif
