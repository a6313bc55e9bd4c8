/*
 * csv_out — see csv_out.h.
 */
#include "sync/csv_out.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* [+-]digits[.digits] */
static int plain_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	size_t n = strspn(s, "0123456789");
	if (!n)
		return 0;
	s += n;
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		if (!n)
			return 0;
		s += n;
	}
	return *s == '\0';
}

int csv_out_is_formula(const char *s)
{
	return s && s[0] && strchr("=+-@\t\r", s[0]) && !plain_number(s);
}

void csv_out_cell(FILE *f, const char *s, int last)
{
	if (s && csv_out_is_formula(s)) {
		/* quoted by libcsv, the apostrophe inside the quotes */
		size_t n = strlen(s);
		char *guarded = malloc(n + 2);
		if (guarded) {
			guarded[0] = '\'';
			memcpy(guarded + 1, s, n + 1);
			csv_fwrite(f, guarded, n + 1);
			free(guarded);
		} else {
			csv_fwrite(f, s, n); /* out of memory: the text whole, unguarded */
		}
	} else if (s && strpbrk(s, ",\"\r\n")) {
		csv_fwrite(f, s, strlen(s));
	} else if (s) {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

void csv_out_row(FILE *f, const char *const *cells, int n)
{
	for (int i = 0; i < n; i++)
		csv_out_cell(f, cells[i], i + 1 == n);
}
