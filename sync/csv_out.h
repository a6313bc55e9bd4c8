/*
 * csv_out — CSV cells as the kiosk's and the hub's exports write them.
 *
 * RFC 4180 quoting by libcsv (a cell holding a comma, a quote, CR or LF is quoted and
 * its quotes doubled), and spreadsheet formula neutralisation: a cell that
 * begins with '=', '+', '-', '@', a tab or CR and is not a plain number is
 * written with a leading apostrophe, so a member named "=HYPERLINK(...)" is
 * shown as text by Excel, LibreOffice and Google Sheets instead of being run.
 * Plain numbers (a negative clock offset) are left as they are.
 */
#ifndef TINGZI_CSV_OUT_H
#define TINGZI_CSV_OUT_H

#include <stdio.h>

/* 1 when a spreadsheet would read s as a formula. */
int csv_out_is_formula(const char *s);
/* One cell (NULL: empty), then ',' or, when last, '\n'. */
void csv_out_cell(FILE *f, const char *s, int last);
/* A whole row of n cells. */
void csv_out_row(FILE *f, const char *const *cells, int n);

#endif
