/*
 * members_csv — see members_csv.h.
 *
 * The file is read one physical line at a time (each line bounded) and fed to
 * libcsv, which calls back per field and per record. A record's line number
 * is the line on which it began, so a refusal points at the line a person
 * sees in an editor even when a quoted field spans several lines.
 *
 * Pass 1 parses and checks every row into memory (bounded by the file-size
 * cap), pass 2 looks for a code or phone given twice, and only a clean file
 * reaches pass 3: one store transaction for all rows.
 */
#include "members_csv.h"

#include "sync/clock.h"
#include "utf8.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { COL_NAME, COL_PHONE, COL_CODE, COL_TIER, COL_EXPIRES, COL_COUNT };
static const char *const col_names[COL_COUNT] = {"name", "phone", "code", "tier", "expires"};

typedef struct row {
	store_member m;
	size_t line;
} row;

typedef struct parser {
	members_csv_report *rep;
	int col_of[64];        /* file column -> COL_*, or -1 */
	size_t ncols_seen;     /* columns in the header */
	int have_header;
	size_t line;           /* physical line being fed */
	size_t rec_line;       /* line the current record began on */
	int rec_open;
	size_t field;          /* index of the next field in this record */
	char val[COL_COUNT][STORE_NAME_MAX * 2];
	int bad;               /* this record already refused */
	row *rows;
	size_t nrows, cap;
	int oom;
} parser;

static void refuse(members_csv_report *rep, size_t line, const char *fmt, ...)
{
	rep->errors_total++;
	if (rep->nerrors == MEMBERS_CSV_MAX_ERRORS)
		return;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(msg) + 32;
	char *e = malloc(n);
	if (!e)
		return;
	snprintf(e, n, "line %zu: %s", line, msg);
	rep->errors[rep->nerrors++] = e;
}

/* Copy a field trimmed of surrounding spaces; 0, or -1 when too long. */
static int trim_copy(const char *s, size_t len, char *out, size_t cap)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= cap)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* Copy src into dst of cap bytes (the caller checked it fits). */
static void set(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void on_header_field(parser *p, const char *s, size_t len)
{
	char name[32];
	size_t i = p->field;
	if (i >= sizeof p->col_of / sizeof p->col_of[0])
		return;
	p->col_of[i] = -1;
	if (trim_copy(s, len, name, sizeof name) != 0)
		return;
	for (int c = 0; c < COL_COUNT; c++)
		if (strcasecmp(name, col_names[c]) == 0) {
			for (size_t j = 0; j < i; j++)
				if (p->col_of[j] == c) {
					refuse(p->rep, p->rec_line, "the column \"%s\" appears twice in the header",
					       col_names[c]);
					return;
				}
			p->col_of[i] = c;
		}
}

static void on_field(void *data, size_t len, void *ctx)
{
	parser *p = ctx;
	const char *s = data ? data : "";
	if (!p->have_header) {
		on_header_field(p, s, len);
		p->field++;
		return;
	}
	size_t i = p->field++;
	if (p->bad || i >= sizeof p->col_of / sizeof p->col_of[0] || i >= p->ncols_seen || p->col_of[i] < 0)
		return;
	int c = p->col_of[i];
	static const size_t caps[COL_COUNT] = {STORE_NAME_MAX, STORE_NAME_MAX, STORE_CODE_MAX, STORE_TIER_MAX,
					       STORE_DATE_MAX + 1};
	if (!utf8_valid(s, len)) {
		refuse(p->rep, p->rec_line, "%s is not valid UTF-8 text", col_names[c]);
		p->bad = 1;
	} else if (trim_copy(s, len, p->val[c], caps[c]) != 0) {
		refuse(p->rep, p->rec_line, "%s is longer than %zu bytes", col_names[c], caps[c] - 1);
		p->bad = 1;
	} else if (has_control(p->val[c])) {
		refuse(p->rep, p->rec_line, "%s contains a control character", col_names[c]);
		p->bad = 1;
	}
}

/* Keep the digits of a phone written with separators. 0, or -1 if it has
 * anything else or the wrong number of digits. */
static int phone_digits(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = in; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s;
		} else if (!strchr(" -.()", *s) && !(*s == '+' && s == in)) {
			return -1;
		}
	}
	out[n] = '\0';
	return n >= 5 && n <= 20 ? 0 : -1;
}

static void check_row(parser *p)
{
	row r = {.line = p->rec_line};
	store_member *m = &r.m;
	char (*v)[STORE_NAME_MAX * 2] = p->val;
	if (!v[COL_NAME][0]) {
		refuse(p->rep, r.line, "name is empty");
		return;
	}
	set(m->name, sizeof m->name, v[COL_NAME]);
	if (v[COL_PHONE][0] && phone_digits(v[COL_PHONE], m->phone, sizeof m->phone) != 0) {
		refuse(p->rep, r.line, "phone \"%s\" is not a phone number (5 to 20 digits)", v[COL_PHONE]);
		return;
	}
	for (const char *c = v[COL_CODE]; *c; c++)
		if (*c == ' ') {
			refuse(p->rep, r.line, "code \"%s\" contains a space", v[COL_CODE]);
			return;
		}
	set(m->code, sizeof m->code, v[COL_CODE]);
	if (!m->phone[0] && !m->code[0]) {
		refuse(p->rep, r.line, "has neither a phone nor a code");
		return;
	}
	set(m->tier, sizeof m->tier, v[COL_TIER]);
	if (v[COL_EXPIRES][0] && clock_parse_date(v[COL_EXPIRES]) != 0) {
		refuse(p->rep, r.line, "expires \"%s\" is not a date (YYYY-MM-DD)", v[COL_EXPIRES]);
		return;
	}
	set(m->expires, sizeof m->expires, v[COL_EXPIRES]);
	if (p->nrows == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		row *n = realloc(p->rows, cap * sizeof *n);
		if (!n) {
			p->oom = 1;
			return;
		}
		p->rows = n;
		p->cap = cap;
	}
	p->rows[p->nrows++] = r;
}

static void on_record(int term, void *ctx)
{
	parser *p = ctx;
	(void)term;
	if (!p->have_header) {
		p->have_header = 1;
		p->ncols_seen = p->field;
		int seen[COL_COUNT] = {0};
		for (size_t i = 0; i < p->field && i < sizeof p->col_of / sizeof p->col_of[0]; i++)
			if (p->col_of[i] >= 0)
				seen[p->col_of[i]] = 1;
		if (!seen[COL_NAME] || (!seen[COL_PHONE] && !seen[COL_CODE]))
			snprintf(p->rep->fatal, sizeof p->rep->fatal,
				 "line %zu: the header must name the columns name and phone or code "
				 "(name,phone,code,tier,expires)",
				 p->rec_line);
	} else {
		p->rep->rows++;
		if (!p->bad)
			check_row(p);
	}
	p->field = 0;
	p->bad = 0;
	p->rec_open = 0;
	memset(p->val, 0, sizeof p->val);
}

typedef struct dup {
	const char *value;
	size_t line;
} dup;

static int cmp_dup(const void *a, const void *b)
{
	const dup *x = a, *y = b;
	int c = strcmp(x->value, y->value);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Refuse any code or phone given on more than one row. */
static void find_duplicates(parser *p)
{
	dup *d = malloc((p->nrows + 1) * sizeof *d);
	if (!d) {
		p->oom = 1;
		return;
	}
	for (int what = 0; what < 2; what++) {
		size_t n = 0;
		for (size_t i = 0; i < p->nrows; i++) {
			const char *v = what ? p->rows[i].m.phone : p->rows[i].m.code;
			if (v[0])
				d[n++] = (dup){v, p->rows[i].line};
		}
		qsort(d, n, sizeof *d, cmp_dup);
		for (size_t i = 1; i < n; i++)
			if (strcmp(d[i].value, d[i - 1].value) == 0)
				refuse(p->rep, d[i].line, "%s \"%s\" is also on line %zu", what ? "phone" : "code",
				       d[i].value, d[i - 1].line);
	}
	free(d);
}

/* Pass 1: read and check every row. Returns 0, or -1 with rep->fatal set. */
static int read_rows(parser *p, const char *path)
{
	struct stat st;
	members_csv_report *rep = p->rep;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(rep->fatal, sizeof rep->fatal, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (uint64_t)st.st_size > MEMBERS_CSV_MAX_BYTES) {
		snprintf(rep->fatal, sizeof rep->fatal, "%s is larger than %u MiB", path, MEMBERS_CSV_MAX_BYTES >> 20);
		fclose(f);
		return -1;
	}
	struct csv_parser csv;
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		snprintf(rep->fatal, sizeof rep->fatal, "out of memory");
		fclose(f);
		return -1;
	}
	char *line = malloc(MEMBERS_CSV_MAX_LINE + 2);
	size_t total = 0;
	int rc = line ? 0 : -1;
	while (rc == 0 && fgets(line, MEMBERS_CSV_MAX_LINE + 2, f)) {
		size_t len = strlen(line);
		p->line++;
		total += len;
		if (len > MEMBERS_CSV_MAX_LINE || total > MEMBERS_CSV_MAX_BYTES) {
			snprintf(rep->fatal, sizeof rep->fatal, "line %zu is longer than %d bytes", p->line,
				 MEMBERS_CSV_MAX_LINE);
			rc = -1;
			break;
		}
		const char *s = line;
		if (p->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3, len -= 3; /* byte-order mark */
		if (!p->rec_open && strspn(s, "\r\n") < len) {
			p->rec_open = 1;
			p->rec_line = p->line;
		}
		if (csv_parse(&csv, s, len, on_field, on_record, p) != len) {
			snprintf(rep->fatal, sizeof rep->fatal, "line %zu: %s", p->rec_line,
				 csv_strerror(csv_error(&csv)));
			rc = -1;
		}
		if (rep->fatal[0] || p->oom)
			rc = -1;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(rep->fatal, sizeof rep->fatal, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && csv_fini(&csv, on_field, on_record, p) != 0) {
		snprintf(rep->fatal, sizeof rep->fatal, "line %zu: %s (a quote is not closed)", p->rec_line,
			 csv_strerror(csv_error(&csv)));
		rc = -1;
	}
	if (rc == 0 && !p->have_header) {
		snprintf(rep->fatal, sizeof rep->fatal, "%s is empty: it needs a header row", path);
		rc = -1;
	}
	if (p->oom && !rep->fatal[0])
		snprintf(rep->fatal, sizeof rep->fatal, "out of memory");
	csv_free(&csv);
	free(line);
	fclose(f);
	return rc;
}

/* Pass 3: one transaction for all rows. */
static int write_rows(store *s, parser *p)
{
	members_csv_report *rep = p->rep;
	store_err err = store_import_begin(s);
	if (err != STORE_OK) {
		snprintf(rep->fatal, sizeof rep->fatal, "cannot write the database: %s", store_strerror(err));
		return -1;
	}
	for (size_t i = 0; i < p->nrows; i++) {
		int updated;
		err = store_import_member(s, &p->rows[i].m, &updated);
		if (err == STORE_ERR_EXISTS) {
			refuse(rep, p->rows[i].line, "phone \"%s\" belongs to another member already in the database",
			       p->rows[i].m.phone);
			continue;
		}
		if (err != STORE_OK) {
			snprintf(rep->fatal, sizeof rep->fatal, "line %zu: cannot write the database: %s (%s)",
				 p->rows[i].line, store_strerror(err), store_errmsg(s));
			break;
		}
		if (updated == 1)
			rep->updated++;
		else if (updated == 2)
			rep->unchanged++;
		else
			rep->added++;
	}
	if (rep->fatal[0] || rep->errors_total) {
		store_import_rollback(s);
		rep->added = rep->updated = rep->unchanged = 0;
		return -1;
	}
	err = store_import_commit(s);
	if (err != STORE_OK) {
		snprintf(rep->fatal, sizeof rep->fatal, "cannot commit the import: %s", store_strerror(err));
		rep->added = rep->updated = rep->unchanged = 0;
		return -1;
	}
	return 0;
}

int members_csv_import(store *s, const char *path, members_csv_report *rep)
{
	memset(rep, 0, sizeof *rep);
	parser *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(rep->fatal, sizeof rep->fatal, "out of memory");
		return -1;
	}
	p->rep = rep;
	int rc = read_rows(p, path);
	if (rc == 0)
		find_duplicates(p);
	if (rc == 0 && (rep->errors_total || p->oom))
		rc = -1;
	if (rc == 0)
		rc = write_rows(s, p);
	free(p->rows);
	free(p);
	return rc;
}

void members_csv_report_print(const members_csv_report *rep, const char *path, FILE *f)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		fprintf(f, "%s: %s\n", path, rep->errors[i]);
	if (rep->errors_total > rep->nerrors)
		fprintf(f, "%s: ... and %zu more rows refused\n", path, rep->errors_total - rep->nerrors);
	if (rep->fatal[0])
		fprintf(f, "%s: %s\n", path, rep->fatal);
	if (rep->fatal[0] || rep->errors_total)
		fprintf(f, "nothing imported: %zu of %zu rows refused\n", rep->errors_total, rep->rows);
	else
		fprintf(f, "imported %zu members from %s: %zu added, %zu updated, %zu unchanged\n", rep->rows, path,
			rep->added, rep->updated, rep->unchanged);
}

void members_csv_report_free(members_csv_report *rep)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		free(rep->errors[i]);
	rep->nerrors = 0;
}
