/*
 * members_csv — import members from a CSV file, all or nothing
 * (`tingzi members import FILE.csv`).
 *
 * The file:
 *  - UTF-8 (a leading byte-order mark is skipped); any other encoding, a NUL
 *    byte or a control character in a field refuses the row.
 *  - A header row naming the columns name, phone, code, tier, expires in any
 *    order, matched without regard to case or surrounding spaces; other
 *    columns are ignored. The header must have name, and phone or code.
 *  - Fields as RFC 4180 says (parsed by libcsv, strictly): a field with a
 *    comma, a quote or a line break is quoted, and a quote in it doubled.
 *  - name is required; each row needs a phone or a code (or both).
 *  - phone: the digits are kept, and spaces, dashes, dots, brackets and one
 *    leading + are allowed around them; 5 to 20 digits. A country code is
 *    kept as written ("+86 138 1234 5678" is 8613812345678).
 *  - code: no spaces. tier: free text. expires: empty or a real YYYY-MM-DD.
 *  - Each value at most the store's size for it (STORE_*_MAX - 1 bytes).
 *  - A row with every field empty (",,,," from a spreadsheet) is skipped.
 *  - No code and no phone on two rows.
 *
 * Each row is matched to a member by code, else by phone, and added or
 * updated (store_import_member()); members not in the file are left alone.
 * Every row is checked before anything is written, then all of them go in
 * one transaction: if any row is refused, nothing is imported, and every
 * refusal is reported with its line number (the physical line, 1-based, the
 * header being line 1, where the row begins) and a reason naming the field
 * and its value:  line 7: expires "2026-13-01" is not a date (YYYY-MM-DD)
 */
#ifndef TINGZI_MEMBERS_CSV_H
#define TINGZI_MEMBERS_CSV_H

#include "sync/record.h"

#include <stddef.h>
#include <stdio.h>

#define MEMBERS_CSV_MAX_BYTES  (64u << 20) /* a larger file is refused */
#define MEMBERS_CSV_MAX_RECORD 65536       /* one row, over all its lines, in bytes */
#define MEMBERS_CSV_MAX_ROWS   1000000     /* data rows in one file */
#define MEMBERS_CSV_MAX_ERRORS 100         /* refusals kept for the report */

/* What members_csv_import_into() returns. */
enum {
	MEMBERS_CSV_OK = 0,        /* every row imported and committed */
	MEMBERS_CSV_REFUSED = -1,  /* the file or some rows were refused; nothing written */
	MEMBERS_CSV_STORE_ERR = -2 /* the database could not be written; nothing written */
};

/* A sentence for members_csv_import_into()'s result. */
const char *members_csv_strerror(int rc);

typedef struct members_csv_report {
	size_t rows;                      /* data rows read (not the header, not empty rows) */
	size_t added, updated, unchanged; /* on success */
	size_t errors_total;              /* refusals, all of them (a row may have two) */
	size_t rows_refused;              /* rows with at least one refusal */
	size_t nerrors;                   /* refusals kept in errors[] */
	char
	    *errors[MEMBERS_CSV_MAX_ERRORS]; /* "line 7: expires \"2026-13-01\" is not a date (YYYY-MM-DD)" */
	char fatal[512];                     /* why the file as a whole was refused, or "" */
	int sink_error;                      /* the sink's own error code, with MEMBERS_CSV_STORE_ERR */
} members_csv_report;


/*
 * Where checked rows go: the kiosk's store (store_import_csv()) or the
 * hub's. begin/commit return 0, or -1 with a
 * sentence in why. row returns 0 (with *how one of STORE_IMPORT_*), 1 when
 * the row is refused (why names the field and value, and the import goes
 * on to report every refusal, then rolls back), or -1 on a failure.
 */
typedef struct members_csv_sink {
	void *ctx;
	int (*begin)(void *ctx, char *why, size_t len);
	int (*row)(void *ctx, const store_member *m, int *how, char *why, size_t len);
	int (*commit)(void *ctx, char *why, size_t len);
	void (*rollback)(void *ctx);
} members_csv_sink;

/*
 * Check the file at path and write its rows to sink, all or nothing. Returns
 * MEMBERS_CSV_OK, MEMBERS_CSV_REFUSED (rep->fatal and rep->errors say why) or
 * MEMBERS_CSV_STORE_ERR (rep->fatal says why). Either way the caller must
 * call members_csv_report_free(rep) afterwards.
 */
int members_csv_import_into(const members_csv_sink *sink, const char *path, members_csv_report *rep);
/* Print the counts, or the refusals and "nothing imported", to f. */
void members_csv_report_print(const members_csv_report *rep, const char *path, FILE *f);
/* Free the refusal texts; the counts stay. */
void members_csv_report_free(members_csv_report *rep);

#endif
