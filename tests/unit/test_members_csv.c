/*
 * test_members_csv — what an organizer sees when importing a roster.
 *
 * A good file imports with its counts; importing it again updates by code;
 * a byte-order mark, CRLF, columns in any order and case, extra columns and
 * quoted fields with commas, quotes and line breaks all read as a person
 * meant them. A file with bad rows is refused whole: each bad row is named
 * by its line in the file and the reason names the field and the value, and
 * the database is as it was. A file that is not a roster (no header, broken
 * quoting, not UTF-8, too long) is refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/members_csv.h"
#include "app/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TINGZI_FIXTURES
#error "TINGZI_FIXTURES must name tests/fixtures"
#endif

typedef struct fixture {
	char dir[64];
	char db[128];
	char csv[128];
	store *s;
	members_csv_report rep;
} fixture;

static int setup(void **state)
{
	char err[512];
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tingzi-csv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/tingzi.db", f->dir);
	snprintf(f->csv, sizeof f->csv, "%s/members.csv", f->dir);
	if (store_open(f->db, STORE_OPEN_CREATE, &f->s, err, sizeof err) != STORE_OK)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	members_csv_report_free(&f->rep);
	store_close(f->s);
	char side[160];
	static const char *const ext[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(side, sizeof side, "%s%s", f->db, ext[i]);
		unlink(side);
	}
	unlink(f->csv);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int import_fixture(fixture *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", TINGZI_FIXTURES, name);
	members_csv_report_free(&f->rep);
	return store_import_csv(f->s, path, &f->rep);
}

static int import_bytes(fixture *f, const char *data, size_t len)
{
	FILE *fp = fopen(f->csv, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	members_csv_report_free(&f->rep);
	return store_import_csv(f->s, f->csv, &f->rep);
}

static int import_text(fixture *f, const char *text)
{
	return import_bytes(f, text, strlen(text));
}

/* The report as the command prints it. */
static char *printed(fixture *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	members_csv_report_print(&f->rep, "members.csv", mem);
	fclose(mem);
	return buf;
}

static void expect_printed(fixture *f, const char *want)
{
	char *out = printed(f);
	if (!strstr(out, want))
		fail_msg("report lacks \"%s\":\n%s", want, out);
	free(out);
}

static void dump(const members_csv_report *rep)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		fprintf(stderr, "  %s\n", rep->errors[i]);
	if (rep->fatal[0])
		fprintf(stderr, "  fatal: %s\n", rep->fatal);
}

static void expect_ok(fixture *f, int rc)
{
	if (rc != MEMBERS_CSV_OK) {
		dump(&f->rep);
		fail_msg("import refused (%d)", rc);
	}
}

static int has_error(const members_csv_report *rep, const char *want)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		if (strstr(rep->errors[i], want))
			return 1;
	return 0;
}

struct by_code {
	const char *code, *phone;
	store_member m;
	int found;
};

static int find(const store_member *m, void *ctx)
{
	struct by_code *q = ctx;
	if ((q->code && strcmp(m->code, q->code) == 0) || (q->phone && strcmp(m->phone, q->phone) == 0)) {
		q->m = *m;
		q->found = 1;
		return 1;
	}
	return 0;
}

static store_member member(fixture *f, const char *code, const char *phone)
{
	struct by_code q = {code, phone, {0}, 0};
	assert_int_equal(store_members_foreach(f->s, find, &q), STORE_OK);
	if (!q.found)
		fail_msg("no member with code %s / phone %s", code ? code : "-", phone ? phone : "-");
	return q.m;
}

/* ---- good files ---- */

static void test_good_file(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_good.csv"));
	assert_int_equal(f->rep.rows, 5);
	assert_int_equal(f->rep.added, 5);
	assert_int_equal(f->rep.updated + f->rep.unchanged, 0);
	assert_int_equal(store_member_count(f->s), 5);
	expect_printed(f, "imported 5 members from members.csv: 5 added, 0 updated, 0 unchanged");

	store_member m = member(f, "TZ1001", NULL);
	assert_string_equal(m.name, "张三");
	assert_string_equal(m.tier, "gold");
	assert_string_equal(m.expires, "2027-06-30");
	assert_int_equal(m.provisional, 0);
	/* phones keep their digits, whatever separators they were written with */
	assert_string_equal(member(f, "TZ1002", NULL).phone, "13910015678");
	assert_string_equal(member(f, "TZ1003", NULL).phone, "8613910025678");
	m = member(f, NULL, "03515550199");
	assert_string_equal(m.name, "Ana Lima");
	assert_string_equal(m.code, "");
	assert_string_equal(member(f, "TZ1005", NULL).phone, "");
	/* an import is the organizers' roster, not this device's news: no outbox rows */
	assert_int_equal(store_outbox_count(f->s), 0);
}

static void test_reimport_updates_by_code(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_good.csv"));
	store_member before = member(f, "TZ1001", NULL);
	expect_ok(f, import_fixture(f, "members_update.csv"));
	assert_int_equal(f->rep.rows, 6);
	assert_int_equal(f->rep.added, 1);
	assert_int_equal(f->rep.updated, 1);
	assert_int_equal(f->rep.unchanged, 4);
	expect_printed(f, "1 added, 1 updated, 4 unchanged");
	store_member after = member(f, "TZ1001", NULL);
	assert_int_equal(after.id, before.id);
	assert_string_equal(after.expires, "2028-06-30");
	assert_int_equal(store_member_count(f->s), 6);

	expect_ok(f, import_fixture(f, "members_update.csv"));
	assert_int_equal(f->rep.unchanged, 6);
}

static void test_bom_crlf_and_column_order(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_bom.csv"));
	assert_int_equal(f->rep.added, 2);
	store_member m = member(f, "TZ2001", NULL);
	assert_string_equal(m.name, "赵六");
	assert_string_equal(m.phone, "13600000001");
	assert_string_equal(member(f, "TZ2002", NULL).phone, "13600000002");
}

static void test_quoted_fields(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_quoted.csv"));
	assert_int_equal(f->rep.rows, 3);
	assert_string_equal(member(f, "TZ3001", NULL).name, "Wang, Fang");
	assert_string_equal(member(f, "TZ3001", NULL).phone, "13500000001");
	assert_string_equal(member(f, "TZ3002", NULL).name, "Li \"Junior\" Wei");
	assert_string_equal(member(f, "TZ3003", NULL).name, "Chen Jie");
}

static void test_extra_columns_ignored(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_extra_columns.csv"));
	assert_int_equal(f->rep.added, 2);
	store_member m = member(f, "TZ4001", NULL);
	assert_string_equal(m.name, "周八");
	assert_string_equal(m.phone, "13400000001");
	assert_string_equal(m.tier, "gold");
	assert_string_equal(m.expires, "2027-01-01");
	assert_string_equal(member(f, "TZ4002", NULL).name, "吴九");
}

static void test_blank_rows_skipped(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_text(f, "name,code,phone\n\nA,TZ1,\n,,\n   \n\"\",\"\",\"\"\nB,TZ2,\n"));
	assert_int_equal(f->rep.rows, 2);
	assert_int_equal(f->rep.added, 2);
	/* a blank line still counts as a line */
	assert_int_equal(import_text(f, "name,code\n\n\n,TZ3\n"), MEMBERS_CSV_REFUSED);
	assert_true(has_error(&f->rep, "line 4: name is empty"));
}

static void test_mac_line_endings(void **state)
{
	fixture *f = *state;
	/* "CSV (Macintosh)" from a spreadsheet ends lines with a lone CR */
	expect_ok(f, import_text(f, "name,code,phone\rA,TZ1,13800000001\rB,TZ2,13800000002\r"));
	assert_int_equal(f->rep.added, 2);
	assert_string_equal(member(f, "TZ2", NULL).phone, "13800000002");
	assert_int_equal(import_text(f, "name,code\rC,TZ3\r,TZ4\r"), MEMBERS_CSV_REFUSED);
	assert_true(has_error(&f->rep, "line 3: name is empty"));
}

static void test_unclosed_quote_names_its_row(void **state)
{
	fixture *f = *state;
	assert_int_equal(import_text(f, "name,code\nA,TZ1\n\"B,TZ2\nC,TZ3\nD\"x,TZ4\n"), MEMBERS_CSV_REFUSED);
	expect_printed(f, "line 3: a quote opened on this row is not closed");
	assert_int_equal(store_member_count(f->s), 0);
}

static void test_row_refused_twice_counts_once(void **state)
{
	fixture *f = *state;
	/* line 3 repeats both the code and the phone of line 2: two refusals, one row */
	assert_int_equal(import_text(f, "name,code,phone\nA,TZ1,13800000001\nB,TZ1,13800000001\n"),
	                 MEMBERS_CSV_REFUSED);
	assert_int_equal(f->rep.errors_total, 2);
	assert_int_equal(f->rep.rows_refused, 1);
	expect_printed(f, "nothing imported: 1 of 2 rows refused");
}

static void test_walkin_adopted_by_roster(void **state)
{
	fixture *f = *state;
	store_member w;
	assert_int_equal(store_member_register(f->s, "Walk In", "13900000009", 0, &w), STORE_OK);
	expect_ok(f, import_text(f, "name,phone,code\nWalker Inn,139 0000 0009,TZ7001\n"));
	assert_int_equal(f->rep.updated, 1);
	store_member m = member(f, "TZ7001", NULL);
	assert_int_equal(m.id, w.id);
	assert_int_equal(m.provisional, 0);
	assert_int_equal(store_member_count(f->s), 1);
}

/* ---- bad rows ---- */

static void test_bad_rows_reported_nothing_stored(void **state)
{
	static const char *const want[] = {
	    "line 3: name is empty",
	    "line 4: phone \"13x00000003\" is not a phone number (5 to 20 digits)",
	    "line 5: name contains a line break",
	    "line 7: expires \"2026-13-01\" is not a date (YYYY-MM-DD)",
	    "line 8: has neither a phone nor a code",
	    "line 9: code \"TZ5001\" is also on line 2",
	    "line 10: phone \"13300000001\" is also on line 2",
	    "line 11: code \"TZ 5009\" contains a space",
	    "line 12: phone \"1234\" is not a phone number",
	};
	fixture *f = *state;
	expect_ok(f, import_fixture(f, "members_good.csv"));
	assert_int_equal(import_fixture(f, "members_bad.csv"), MEMBERS_CSV_REFUSED);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!has_error(&f->rep, want[i])) {
			dump(&f->rep);
			fail_msg("missing: %s", want[i]);
		}
	assert_int_equal(f->rep.errors_total, sizeof want / sizeof want[0]);
	assert_int_equal(f->rep.rows, 11);
	assert_int_equal(f->rep.added, 0);
	expect_printed(f, "members.csv: line 7: expires \"2026-13-01\" is not a date (YYYY-MM-DD)\n");
	expect_printed(f, "nothing imported: 9 of 11 rows refused");
	/* the good rows of the bad file were not stored either */
	assert_int_equal(store_member_count(f->s), 5);
	struct by_code q = {"TZ5011", NULL, {0}, 0};
	assert_int_equal(store_members_foreach(f->s, find, &q), STORE_OK);
	assert_false(q.found);
}

static void test_each_refusal(void **state)
{
	static char long_line[70000], long_record[70000];
	static const struct {
		const char *what, *csv;
		size_t len; /* 0: strlen */
		const char *want;
		int fatal;
	} cases[] = {
	    {"no name column", "full name,phone,code\n张三,13812345678,TZ1\n", 0,
	     "line 1: the header row must name the columns name, and phone or code", 1},
	    {"neither phone nor code column", "name,tier\n张三,gold\n", 0, "line 1: the header row must name",
	     1},
	    {"a column twice", "name,phone,NAME\na,12345,b\n", 0,
	     "the header names the column \"name\" twice", 1},
	    {"an empty file", "", 0, "is empty: it needs a header row", 1},
	    {"only a byte-order mark", "\xef\xbb\xbf", 0, "is empty", 1},
	    {"a quote never closed", "name,code\nA,TZ1\n\"Open,TZ2\nB,TZ3\n", 0,
	     "line 3: a quote opened on this row is never closed", 1},
	    {"a quote inside a field", "name,code\nA\"b,TZ1\n", 0, "line 2: a quote (\") inside a field", 1},
	    {"not UTF-8 (Latin-1)", "name,code\nJos\xe9,TZ1\n", 0, "line 2: name is not valid UTF-8 text", 0},
	    {"not UTF-8 (GBK)", "name,code\n\xd5\xc5\xc8\xfd,TZ1\n", 0,
	     "line 2: name is not valid UTF-8 text", 0},
	    {"an overlong UTF-8 form", "name,code\nA,TZ\xc0\xaf\n", 0, "line 2: code is not valid UTF-8 text",
	     0},
	    {"not UTF-8 in an ignored column", "name,code,notes\nA,TZ1,\xff\n", 0,
	     "line 2: column 3 is not valid UTF-8 text", 0},
	    {"a NUL byte", "name,code\nA\0B,TZ1\n", 18, "line 2: a field contains a NUL byte", 0},
	    {"a name too long",
	     "name,code\n"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxxxx"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "xxxxxxx,TZ1\n",
	     0, "line 2: name \"xxxxxxxxxxxxxxxxxxxxxxxx...\" is 206 bytes, longer than the 127 allowed", 0},
	    {"a Chinese name too long",
	     "name,code\n"
	     "张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三张三,"
	     "TZ1\n",
	     0, "line 2: name \"张三张三张三张三...\" is 138 bytes, longer than the 127 allowed", 0},
	    {"a code too long",
	     "name,code\nA,TZ0123456789012345678901234567890123456789012345678901234567890ABCD\n", 0,
	     "line 2: code \"TZ0123456789012345678901...\" is 67 bytes, longer than the 63 allowed", 0},
	    {"a tier too long", "name,code,tier\nA,TZ1,platinum-plus-plus-lifetime-founder\n", 0,
	     "line 2: tier \"platinum-plus-plus-lifet...\" is 35 bytes, longer than the 31 allowed", 0},
	    {"a phone too long", "name,phone\nA,+86 138 1234 5678 9012 3456\n", 0,
	     "line 2: phone \"+86 138 1234 5678 9012 3456\" is not a phone number", 0},
	    {"a day that does not exist", "name,code,expires\nA,TZ1,2026-02-29\n", 0,
	     "line 2: expires \"2026-02-29\" is not a date (YYYY-MM-DD)", 0},
	    {"a date written another way", "name,code,expires\nA,TZ1,30/06/2027\n", 0,
	     "line 2: expires \"30/06/2027\" is not a date (YYYY-MM-DD)", 0},
	    {"a tab in a name", "name,code\n\"A\tB\",TZ1\n", 0,
	     "line 2: name contains a line break or another", 0},
	    {"a line too long", long_line, 0, "line 2 is longer than 65536 bytes", 1},
	    {"a row too long", long_record, 0,
	     "line 2: a row longer than 65536 bytes (is a quote not closed?)", 1},
	};
	fixture *f = *state;

	memcpy(long_line, "name,code\nA,", 12);
	memset(long_line + 12, 'x', sizeof long_line - 14);
	long_line[sizeof long_line - 2] = '\n';
	/* a quoted field of many short lines */
	size_t n = (size_t)snprintf(long_record, sizeof long_record, "name,code,notes\nA,TZ1,\"");
	while (n + 40 < sizeof long_record) {
		memcpy(long_record + n, "a line of notes inside one quoted field\n", 40);
		n += 40;
	}
	memcpy(long_record + n, "\"\n", 3);

	assert_int_equal(store_member_register(f->s, "Already Here", "13000000000", 0, &(store_member){0}),
			 STORE_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].csv);
		int rc = import_bytes(f, cases[i].csv, len);
		const char *got = cases[i].fatal ? f->rep.fatal : NULL;
		int ok = rc == MEMBERS_CSV_REFUSED && (cases[i].fatal ? strstr(got, cases[i].want) != NULL
								      : has_error(&f->rep, cases[i].want));
		if (!ok) {
			dump(&f->rep);
			fail_msg("%s: rc %d, want \"%s\"", cases[i].what, rc, cases[i].want);
		}
		assert_int_equal(store_member_count(f->s), 1);
	}
}

static void test_phone_of_another_member_in_database(void **state)
{
	fixture *f = *state;
	expect_ok(f, import_text(f, "name,phone,code\n张三,13812345678,TZ1\n"));
	assert_int_equal(import_text(f, "name,phone,code\n李四,13900000000,TZ2\n王五,138-1234-5678,TZ3\n"),
			 MEMBERS_CSV_REFUSED);
	if (!has_error(
		&f->rep,
		"line 3: phone 13812345678 belongs to the member with code TZ1 already in the database")) {
		dump(&f->rep);
		fail();
	}
	assert_int_equal(store_member_count(f->s), 1);
}

static void test_error_list_is_capped(void **state)
{
	fixture *f = *state;
	size_t cap = 200 * 16 + 32, n;
	char *csv = malloc(cap);
	assert_non_null(csv);
	n = (size_t)snprintf(csv, cap, "name,code\n");
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(csv + n, cap - n, ",TZ%d\n", i);
	assert_int_equal(import_text(f, csv), MEMBERS_CSV_REFUSED);
	assert_int_equal(f->rep.errors_total, 150);
	assert_int_equal(f->rep.nerrors, MEMBERS_CSV_MAX_ERRORS);
	expect_printed(f, "... and 50 more refusals");
	assert_int_equal(f->rep.rows_refused, 150);
	free(csv);
}

static void test_missing_file(void **state)
{
	fixture *f = *state;
	members_csv_report_free(&f->rep);
	assert_int_equal(store_import_csv(f->s, "/nonexistent/nope.csv", &f->rep), MEMBERS_CSV_REFUSED);
	assert_non_null(strstr(f->rep.fatal, "nope.csv"));
	expect_printed(f, "nothing imported");
}

static void test_file_too_large(void **state)
{
	fixture *f = *state;
	FILE *fp = fopen(f->csv, "wb");
	assert_non_null(fp);
	fputs("name,code\nA,TZ1\n", fp);
	assert_int_equal(ftruncate(fileno(fp), (off_t)MEMBERS_CSV_MAX_BYTES + 1),
			 0); /* sparse: no disk used */
	fclose(fp);
	members_csv_report_free(&f->rep);
	assert_int_equal(store_import_csv(f->s, f->csv, &f->rep), MEMBERS_CSV_REFUSED);
	assert_non_null(strstr(f->rep.fatal, "is larger than 64 MiB"));
	assert_int_equal(store_member_count(f->s), 0);
}

static void test_full_disk_imports_nothing(void **state)
{
	fixture *f = *state;
	size_t cap = 3000 * 48, n;
	char *csv = malloc(cap);
	assert_non_null(csv);
	n = (size_t)snprintf(csv, cap, "name,phone,code\n");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(csv + n, cap - n, "Member %d,1380000%04d,TZ%05d\n", i, i, i);
	assert_int_equal(store_limit_growth(f->s, 2), STORE_OK);
	assert_int_equal(import_text(f, csv), MEMBERS_CSV_STORE_ERR);
	assert_int_equal(f->rep.sink_error, STORE_ERR_FULL);
	assert_non_null(strstr(f->rep.fatal, "the disk is full"));
	assert_int_equal(f->rep.added, 0);
	assert_int_equal(store_member_count(f->s), 0);
	free(csv);
}

static void test_many_members(void **state)
{
	fixture *f = *state;
	enum { N = 20000 };
	size_t cap = (size_t)N * 64, n;
	char *csv = malloc(cap);
	assert_non_null(csv);
	n = (size_t)snprintf(csv, cap, "code,name,phone,tier,expires\n");
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(csv + n, cap - n, "TZ%06d,会员 %d,139%08d,gold,2027-01-01\n", i, i, i);
	expect_ok(f, import_text(f, csv));
	assert_int_equal(f->rep.added, N);
	assert_int_equal(store_member_count(f->s), N);
	free(csv);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_good_file),
	    T(test_reimport_updates_by_code),
	    T(test_bom_crlf_and_column_order),
	    T(test_quoted_fields),
	    T(test_extra_columns_ignored),
	    T(test_blank_rows_skipped),
	    T(test_mac_line_endings),
	    T(test_unclosed_quote_names_its_row),
	    T(test_row_refused_twice_counts_once),
	    T(test_walkin_adopted_by_roster),
	    T(test_bad_rows_reported_nothing_stored),
	    T(test_each_refusal),
	    T(test_phone_of_another_member_in_database),
	    T(test_error_list_is_capped),
	    T(test_missing_file),
	    T(test_file_too_large),
	    T(test_full_disk_imports_nothing),
	    T(test_many_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
