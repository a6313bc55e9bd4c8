/*
 * members_csv — see members_csv.h for the file format and the promises.
 *
 * Three passes:
 *  1. read: the file is read one physical line at a time (bounded, NUL bytes
 *     and all) and fed to libcsv, which calls back per field and per record.
 *     A record's line number is the line on which it began, so a refusal
 *     points at the line a person sees in an editor even when a quoted field
 *     spans several lines. Each good row is kept as five NUL-terminated
 *     strings in one arena; memory stays within the file and row caps.
 *  2. duplicates: codes and phones are sorted to find any given twice.
 *  3. write: only a file with no refusal reaches the store, in one
 *     transaction, rolled back if the database refuses a row (a phone that
 *     belongs to another member) or fails.
 */
#include "sync/members_csv.h"

#include "sync/check.h"
#include "sync/clock.h"
#include "sync/utf8.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

enum { COL_NAME, COL_PHONE, COL_CODE, COL_TIER, COL_EXPIRES, COL_COUNT };
static const char *const col_names[COL_COUNT] = {"name", "phone", "code", "tier", "expires"};
/* The longest value each column may hold, as written in the file: the store's
 * sizes, except that a phone may carry separators and a date that is too long
 * is better reported as "not a date". */
static const size_t col_cap[COL_COUNT] = {STORE_NAME_MAX - 1, 63, STORE_CODE_MAX - 1, STORE_TIER_MAX - 1, 63};
#define VAL_MAX  128 /* > every col_cap */
#define MAX_COLS 256 /* columns looked at; further ones are ignored */

typedef struct row {
	size_t line;
	size_t off; /* in the arena: name\0phone\0code\0tier\0expires\0 */
} row;

typedef struct parser {
	members_csv_report *rep;
	int col_of[MAX_COLS]; /* file column -> COL_*, or -1 */
	size_t ncols;         /* columns in the header */
	int have_header;
	size_t line;      /* physical line being fed */
	size_t rec_line;  /* line the current record began on */
	size_t rec_bytes; /* bytes of the current record so far */
	int rec_open;
	size_t field; /* index of the next field in this record */
	char val[COL_COUNT][VAL_MAX];
	int nonempty; /* some field of this record has text */
	int bad;      /* this record was refused already */
	char *arena;
	size_t alen, acap;
	row *rows;
	size_t nrows, rcap;
	size_t again; /* refusals of rows already refused (a duplicate phone and code) */
	int oom;
} parser;

static void refuse(members_csv_report *rep, size_t line, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void refuse(members_csv_report *rep, size_t line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	rep->errors_total++;
	if (rep->nerrors == MEMBERS_CSV_MAX_ERRORS)
		return;
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

static void fatal(members_csv_report *rep, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void fatal(members_csv_report *rep, const char *fmt, ...)
{
	va_list ap;
	if (rep->fatal[0])
		return; /* the first reason is the one to tell */
	va_start(ap, fmt);
	vsnprintf(rep->fatal, sizeof rep->fatal, fmt, ap);
	va_end(ap);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s))
		(*s)++, (*len)--;
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static int has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* The first few characters of a long valid UTF-8 value, for a message. */
static void excerpt(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	while (n < len) {
		uint32_t cp;
		size_t k = utf8_next(s + n, len - n, &cp);
		if (n + k > 24)
			break;
		n += k;
	}
	snprintf(out, cap, "%.*s%s", (int)n, s, n < len ? "..." : "");
}

static void on_header_field(parser *p, size_t i, const char *s, size_t len)
{
	if (i >= MAX_COLS)
		return;
	p->col_of[i] = -1;
	trim(&s, &len);
	for (int c = 0; c < COL_COUNT; c++) {
		if (strlen(col_names[c]) != len || strncasecmp(s, col_names[c], len) != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (p->col_of[j] == c)
				fatal(p->rep, "line %zu: the header names the column \"%s\" twice",
				      p->rec_line, col_names[c]);
		p->col_of[i] = c;
	}
}

static void on_field(void *data, size_t len, void *ctx)
{
	parser *p = ctx;
	const char *s = data ? data : "";
	size_t i = p->field++;
	char ex[64];
	if (!p->have_header) {
		on_header_field(p, i, s, len);
		return;
	}
	trim(&s, &len);
	if (len)
		p->nonempty = 1;
	if (p->bad)
		return;
	int c = i < p->ncols && i < MAX_COLS ? p->col_of[i] : -1;
	if (memchr(s, '\0', len)) {
		refuse(p->rep, p->rec_line, "a field contains a NUL byte (is this a text file?)");
		p->bad = 1;
		return;
	}
	if (!utf8_valid(s, len)) {
		if (c >= 0)
			refuse(p->rep, p->rec_line,
			       "%s is not valid UTF-8 text (save the file as \"CSV UTF-8\")", col_names[c]);
		else
			refuse(p->rep, p->rec_line,
			       "column %zu is not valid UTF-8 text (save the file as \"CSV UTF-8\")", i + 1);
		p->bad = 1;
		return;
	}
	if (c < 0)
		return;
	if (len > col_cap[c]) {
		excerpt(s, len, ex, sizeof ex);
		refuse(p->rep, p->rec_line, "%s \"%s\" is %zu bytes, longer than the %zu allowed",
		       col_names[c], ex, len, col_cap[c]);
		p->bad = 1;
	} else if (has_control(s, len)) {
		refuse(p->rep, p->rec_line, "%s contains a line break or another control character",
		       col_names[c]);
		p->bad = 1;
	} else {
		memcpy(p->val[c], s, len);
		p->val[c][len] = '\0';
	}
}

/* Keep the digits of a phone written with separators. 0, or -1 if it has
 * anything else or is not a phone (check_phone: 5 to 20 digits). */
static int phone_digits(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = in; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s;
		} else if (!strchr(" -.()", *s) && !(*s == '+' && s == in)) {
			return -1;
		}
	}
	out[n] = '\0';
	return check_phone(out) ? 0 : -1;
}

/* Append the five values of a checked row to the arena. */
static int keep_row(parser *p, size_t line, const char *const v[COL_COUNT])
{
	size_t need = 0;
	for (int c = 0; c < COL_COUNT; c++)
		need += strlen(v[c]) + 1;
	if (p->alen + need > p->acap) {
		size_t cap = p->acap ? p->acap : 1 << 16;
		while (cap < p->alen + need)
			cap *= 2;
		char *a = realloc(p->arena, cap);
		if (!a)
			return -1;
		p->arena = a;
		p->acap = cap;
	}
	if (p->nrows == p->rcap) {
		size_t cap = p->rcap ? p->rcap * 2 : 256;
		row *r = realloc(p->rows, cap * sizeof *r);
		if (!r)
			return -1;
		p->rows = r;
		p->rcap = cap;
	}
	p->rows[p->nrows++] = (row){line, p->alen};
	for (int c = 0; c < COL_COUNT; c++) {
		size_t n = strlen(v[c]) + 1;
		memcpy(p->arena + p->alen, v[c], n);
		p->alen += n;
	}
	return 0;
}

static void check_row(parser *p)
{
	char(*v)[VAL_MAX] = p->val;
	char phone[STORE_PHONE_MAX] = "";
	size_t line = p->rec_line;
	if (!v[COL_NAME][0]) {
		refuse(p->rep, line, "name is empty");
		return;
	}
	if (v[COL_PHONE][0] && phone_digits(v[COL_PHONE], phone, sizeof phone) != 0) {
		refuse(p->rep, line, "phone \"%s\" is not a phone number (5 to 20 digits)", v[COL_PHONE]);
		return;
	}
	if (strpbrk(v[COL_CODE], " \t")) {
		refuse(p->rep, line, "code \"%s\" contains a space", v[COL_CODE]);
		return;
	}
	if (!phone[0] && !v[COL_CODE][0]) {
		refuse(p->rep, line, "has neither a phone nor a code");
		return;
	}
	if (v[COL_EXPIRES][0] && clock_parse_date(v[COL_EXPIRES]) != 0) {
		refuse(p->rep, line, "expires \"%s\" is not a date (YYYY-MM-DD)", v[COL_EXPIRES]);
		return;
	}
	const char *const keep[COL_COUNT] = {v[COL_NAME], phone, v[COL_CODE], v[COL_TIER], v[COL_EXPIRES]};
	if (keep_row(p, line, keep) != 0)
		p->oom = 1;
}

static void finish_header(parser *p)
{
	int seen[COL_COUNT] = {0};
	p->have_header = 1;
	p->ncols = p->field;
	for (size_t i = 0; i < p->ncols && i < MAX_COLS; i++)
		if (p->col_of[i] >= 0)
			seen[p->col_of[i]] = 1;
	if (!seen[COL_NAME] || (!seen[COL_PHONE] && !seen[COL_CODE]))
		fatal(p->rep,
		      "line %zu: the header row must name the columns name, and phone or code "
		      "(name,phone,code,tier,expires)",
		      p->rec_line);
}

static void on_record(int term, void *ctx)
{
	parser *p = ctx;
	(void)term;
	if (!p->have_header) {
		finish_header(p);
	} else if (p->nonempty) {
		if (++p->rep->rows > MEMBERS_CSV_MAX_ROWS)
			fatal(p->rep, "line %zu: more than %d members in one file", p->rec_line,
			      MEMBERS_CSV_MAX_ROWS);
		else if (!p->bad)
			check_row(p);
	}
	p->field = 0;
	p->bad = 0;
	p->nonempty = 0;
	p->rec_open = 0;
	memset(p->val, 0, sizeof p->val);
}

typedef struct ref {
	const char *value;
	size_t line;
	size_t row;
} ref;

static int cmp_ref(const void *a, const void *b)
{
	const ref *x = a, *y = b;
	int c = strcmp(x->value, y->value);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Pass 2: refuse any code or phone given on more than one row. */
static void find_duplicates(parser *p)
{
	ref *r = malloc((p->nrows + 1) * sizeof *r);
	char *refused = calloc(p->nrows + 1, 1);
	if (!r || !refused) {
		free(r);
		free(refused);
		p->oom = 1;
		return;
	}
	for (int col = COL_PHONE; col <= COL_CODE; col++) {
		size_t n = 0;
		for (size_t i = 0; i < p->nrows; i++) {
			const char *v = p->arena + p->rows[i].off;
			for (int c = 0; c < col; c++)
				v += strlen(v) + 1;
			if (v[0])
				r[n++] = (ref){v, p->rows[i].line, i};
		}
		qsort(r, n, sizeof *r, cmp_ref);
		for (size_t i = 1; i < n; i++)
			if (strcmp(r[i].value, r[i - 1].value) == 0) {
				refuse(p->rep, r[i].line, "%s \"%s\" is also on line %zu", col_names[col],
				       r[i].value, r[i - 1].line);
				p->again += refused[r[i].row];
				refused[r[i].row] = 1;
			}
	}
	free(refused);
	free(r);
}

/* One physical line, '\n' included, NUL bytes and all. Returns its length
 * (0 at the end of the file); *toolong when cap bytes came without a '\n'. */
static size_t read_line(FILE *f, char *buf, size_t cap, int *toolong)
{
	size_t n = 0;
	int ch;
	*toolong = 0;
	while (n < cap && (ch = getc(f)) != EOF) {
		buf[n++] = (char)ch;
		if (ch == '\n')
			return n;
		if (ch == '\r') { /* CRLF, or a lone CR: "CSV (Macintosh)" ends lines so */
			int next = getc(f);
			if (next == '\n' && n < cap)
				buf[n++] = (char)next;
			else if (next != EOF)
				ungetc(next, f);
			return n;
		}
	}
	*toolong = n == cap;
	return n;
}

static int only_newlines(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* Feed one physical line to libcsv. 0, or -1 with rep->fatal set. */
static int feed_line(parser *p, struct csv_parser *csv, const char *s, size_t len)
{
	if (p->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, len -= 3; /* byte-order mark */
	if (!p->rec_open && !only_newlines(s, len)) {
		p->rec_open = 1;
		p->rec_line = p->line;
		p->rec_bytes = 0;
	}
	p->rec_bytes += len;
	if (p->rec_open && p->rec_bytes > MEMBERS_CSV_MAX_RECORD) {
		fatal(p->rep, "line %zu: a row longer than %d bytes (is a quote not closed?)", p->rec_line,
		      MEMBERS_CSV_MAX_RECORD);
		return -1;
	}
	if (csv_parse(csv, s, len, on_field, on_record, p) != len) {
		if (csv_error(csv) == CSV_EPARSE && p->rec_line < p->line)
			fatal(p->rep,
			      "line %zu: a quote opened on this row is not closed where it should be (the row "
			      "runs on to line %zu); check the quotes on line %zu",
			      p->rec_line, p->line, p->rec_line);
		else if (csv_error(csv) == CSV_EPARSE)
			fatal(
			    p->rep,
			    "line %zu: a quote (\") inside a field that does not begin with one, or text "
			    "after "
			    "a closing quote; put the whole field in quotes and double the quotes inside it",
			    p->line);
		else
			fatal(p->rep, "line %zu: %s", p->line, csv_strerror(csv_error(csv)));
		return -1;
	}
	return p->rep->fatal[0] || p->oom ? -1 : 0;
}

/* Pass 1: read and check every row. 0, or -1 with rep->fatal set. */
static int read_rows(parser *p, const char *path)
{
	members_csv_report *rep = p->rep;
	struct csv_parser csv;
	struct stat st;
	char *buf = NULL;
	size_t total = 0, len;
	int rc = -1, toolong;
	FILE *f = fopen(path, "rb");
	if (!f) {
		fatal(rep, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > MEMBERS_CSV_MAX_BYTES) {
		fatal(rep, "%s is larger than %u MiB", path, MEMBERS_CSV_MAX_BYTES >> 20);
		goto out_file;
	}
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fatal(rep, "out of memory");
		goto out_file;
	}
	if (!(buf = malloc(MEMBERS_CSV_MAX_RECORD + 1))) {
		fatal(rep, "out of memory");
		goto out_csv;
	}
	while ((len = read_line(f, buf, MEMBERS_CSV_MAX_RECORD + 1, &toolong)) > 0) {
		p->line++;
		total += len;
		if (toolong) {
			fatal(rep, "line %zu is longer than %d bytes", p->line, MEMBERS_CSV_MAX_RECORD);
			goto out_csv;
		}
		if (total > MEMBERS_CSV_MAX_BYTES) {
			fatal(rep, "%s is larger than %u MiB", path, MEMBERS_CSV_MAX_BYTES >> 20);
			goto out_csv;
		}
		if (feed_line(p, &csv, buf, len) != 0)
			goto out_csv;
	}
	if (ferror(f)) {
		fatal(rep, "cannot read %s: %s", path, strerror(errno));
		goto out_csv;
	}
	if (csv_fini(&csv, on_field, on_record, p) != 0) {
		fatal(rep, "line %zu: a quote opened on this row is never closed", p->rec_line);
		goto out_csv;
	}
	if (!p->have_header) {
		fatal(rep, "%s is empty: it needs a header row (name,phone,code,tier,expires)", path);
		goto out_csv;
	}
	rc = rep->fatal[0] || p->oom ? -1 : 0;
out_csv:
	free(buf);
	csv_free(&csv);
out_file:
	fclose(f);
	if (p->oom)
		fatal(rep, "out of memory");
	return rc;
}

static void row_member(const parser *p, const row *r, store_member *m)
{
	const char *v = p->arena + r->off;
	char *dst[COL_COUNT] = {m->name, m->phone, m->code, m->tier, m->expires};
	const size_t cap[COL_COUNT] = {sizeof m->name, sizeof m->phone, sizeof m->code, sizeof m->tier,
				       sizeof m->expires};
	memset(m, 0, sizeof *m);
	for (int c = 0; c < COL_COUNT; c++) {
		snprintf(dst[c], cap[c], "%s", v);
		v += strlen(v) + 1;
	}
}

/* Pass 3: all rows in one transaction, through the sink. */
static int write_rows(const members_csv_sink *sink, parser *p)
{
	members_csv_report *rep = p->rep;
	char why[256] = "";
	if (sink->begin(sink->ctx, why, sizeof why) != 0)
		goto store_failed;
	for (size_t i = 0; i < p->nrows; i++) {
		store_member m;
		int how = STORE_IMPORT_ADDED;
		row_member(p, &p->rows[i], &m);
		int rc = sink->row(sink->ctx, &m, &how, why, sizeof why);
		if (rc > 0) {
			refuse(rep, p->rows[i].line, "%s", why);
			continue;
		}
		if (rc < 0)
			goto store_failed;
		if (how == STORE_IMPORT_UPDATED)
			rep->updated++;
		else if (how == STORE_IMPORT_UNCHANGED)
			rep->unchanged++;
		else
			rep->added++;
	}
	if (rep->errors_total) {
		sink->rollback(sink->ctx);
		rep->added = rep->updated = rep->unchanged = 0;
		return MEMBERS_CSV_REFUSED;
	}
	if (sink->commit(sink->ctx, why, sizeof why) != 0)
		goto store_failed;
	return MEMBERS_CSV_OK;
store_failed:
	fatal(rep, "cannot write the database: %s", why);
	sink->rollback(sink->ctx);
	rep->added = rep->updated = rep->unchanged = 0;
	return MEMBERS_CSV_STORE_ERR;
}

int members_csv_import_into(const members_csv_sink *sink, const char *path, members_csv_report *rep)
{
	int rc = MEMBERS_CSV_REFUSED;
	memset(rep, 0, sizeof *rep);
	parser *p = calloc(1, sizeof *p);
	if (!p) {
		fatal(rep, "out of memory");
		return MEMBERS_CSV_REFUSED;
	}
	p->rep = rep;
	if (read_rows(p, path) != 0)
		goto out;
	find_duplicates(p);
	if (p->oom)
		fatal(rep, "out of memory");
	if (rep->errors_total || rep->fatal[0])
		goto out;
	rc = write_rows(sink, p);
out:
	rep->rows_refused = rep->errors_total - p->again;
	free(p->arena);
	free(p->rows);
	free(p);
	return rc;
}

const char *members_csv_strerror(int rc)
{
	return rc == MEMBERS_CSV_OK	    ? "imported"
	       : rc == MEMBERS_CSV_REFUSED  ? "refused; nothing imported"
	       : rc == MEMBERS_CSV_STORE_ERR ? "the database could not be written; nothing imported"
					     : "unknown result";
}

void members_csv_report_print(const members_csv_report *rep, const char *path, FILE *f)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		fprintf(f, "%s: %s\n", path, rep->errors[i]);
	if (rep->errors_total > rep->nerrors)
		fprintf(f, "%s: ... and %zu more refusals\n", path, rep->errors_total - rep->nerrors);
	if (rep->fatal[0])
		fprintf(f, "%s: %s\n", path, rep->fatal);
	if (rep->errors_total)
		fprintf(f, "nothing imported: %zu of %zu rows refused\n", rep->rows_refused, rep->rows);
	else if (rep->fatal[0])
		fprintf(f, "nothing imported\n");
	else
		fprintf(f, "imported %zu members from %s: %zu added, %zu updated, %zu unchanged\n", rep->rows,
			path, rep->added, rep->updated, rep->unchanged);
}

void members_csv_report_free(members_csv_report *rep)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		free(rep->errors[i]);
	rep->nerrors = 0;
}
