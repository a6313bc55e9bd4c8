/*
 * test_members_csv — `tingzi members import FILE.csv` as an organizer meets it.
 *
 * Each test imports with store_import_csv() into a fresh database in its own
 * folder /tmp/tingzi-test-csv-XXXXXX, from a file under tests/fixtures/csv/
 * or from bytes written for the case; the members are then read from the
 * database file with a second SQLite connection (tests/unit/testdb.c), and
 * the report is printed with members_csv_report_print() the way the command
 * prints it.
 *
 * Good files: the counts (added, updated, unchanged) in the printed report,
 * a re-import that updates by code and keeps each member's row, a byte-order
 * mark with CRLF lines, lone-CR (Macintosh) lines, blank rows, quoted fields
 * with commas, doubled quotes and line breaks, extra columns, columns in any
 * order and case, a walk-in adopted by the roster's row for its phone, a
 * roster of 20 000 members. An import never reaches the outbox.
 *
 * Refused files: a file with bad rows is refused whole, and nothing changes
 * (the same members, names, codes and dates, compared before and after).
 * The report names the physical line (the header is line 1; a row that spans
 * lines is named by its first line, and the rows after it by their own), the
 * field and the value; a row refused twice counts once, the list of
 * refusals is capped. A file that is not a roster (no header, empty, broken
 * quoting, not UTF-8, a NUL byte, too long, too large, missing) is refused
 * with a reason; a full disk imports nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/store/store.h"
#include "sync/members_csv.h"
#define TESTDB_NO_FIXTURE
#include "tests/unit/testdb.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TINGZI_FIXTURES
#error "TINGZI_FIXTURES must name tests/fixtures"
#endif

#define GOOD_MEMBERS 5 /* rows of good.csv */

struct refusal;

typedef struct fixture {
	const struct refusal *refusal; /* the case of a refused-file test */
	char dir[64];
	char db[128];
	char csv[128]; /* bytes written by a test */
	store *s;
	members_csv_report rep;
	int have_rep;
} fixture;

static int setup(void **state)
{
	char err[512];
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->refusal = *state; /* NULL, or the prestate of a refused-file test */
	snprintf(f->dir, sizeof f->dir, "/tmp/tingzi-test-csv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/tingzi.db", f->dir);
	snprintf(f->csv, sizeof f->csv, "%s/members.csv", f->dir);
	if (store_open(f->db, STORE_OPEN_CREATE, &f->s, err, sizeof err) != STORE_OK)
		fail_msg("store_open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char side[160];
	if (f->have_rep)
		members_csv_report_free(&f->rep);
	store_close(f->s);
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		snprintf(side, sizeof side, "%s%s", f->db, ext[i]);
		unlink(side);
	}
	unlink(f->csv);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const char *fixture_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/csv/%s", TINGZI_FIXTURES, name);
	return buf;
}

/* Import path into the fixture's database; the report is in f->rep. */
static int import_path(fixture *f, const char *path)
{
	if (f->have_rep)
		members_csv_report_free(&f->rep);
	f->have_rep = 1;
	return store_import_csv(f->s, path, &f->rep);
}

/* Import tests/fixtures/csv/NAME. */
static int import(fixture *f, const char *name)
{
	char path[512];
	return import_path(f, fixture_path(name, path, sizeof path));
}

/* Import these bytes, written to the fixture's members.csv. */
static int import_bytes(fixture *f, const char *data, size_t len)
{
	FILE *fp = fopen(f->csv, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return import_path(f, f->csv);
}

static int import_text(fixture *f, const char *text)
{
	return import_bytes(f, text, strlen(text));
}

/* The report as the command prints it (free() it). */
static char *printed(fixture *f, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	members_csv_report_print(&f->rep, name, mem);
	assert_int_equal(fclose(mem), 0);
	assert_non_null(buf);
	return buf;
}

static void expect_printed(fixture *f, const char *name, const char *want)
{
	char *out = printed(f, name);
	if (!strstr(out, want))
		fail_msg("the report lacks \"%s\":\n%s", want, out);
	free(out);
}

static void expect_ok(fixture *f, const char *name, int rc)
{
	if (rc != MEMBERS_CSV_OK) {
		char *out = printed(f, name);
		fail_msg("%s refused (%d):\n%s", name, rc, out);
	}
}

static void dump(const members_csv_report *rep)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		fprintf(stderr, "  %s\n", rep->errors[i]);
	if (rep->fatal[0])
		fprintf(stderr, "  fatal: %s\n", rep->fatal);
}

static int has_error(const members_csv_report *rep, const char *want)
{
	for (size_t i = 0; i < rep->nerrors; i++)
		if (strstr(rep->errors[i], want))
			return 1;
	return 0;
}

/* ---- the database file, read by another connection ---- */

static sqlite3_stmt *peer_query(const char *db_path, sqlite3 **db, const char *q, const char *arg)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(db_path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("open %s: %s", db_path, sqlite3_errmsg(*db));
	if (sqlite3_prepare_v2(*db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(*db));
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	return st;
}

static int64_t members_in_file(fixture *f)
{
	return testdb_int(f->db, "SELECT count(*) FROM members", NULL);
}

/* A member's columns as one line "name|phone|code|tier|expires|provisional"
 * (NULL as ""), found by code, or by phone when code is NULL; "" when absent. */
static const char *row_of(fixture *f, const char *code, const char *phone, char *buf, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st =
	    peer_query(f->db, &db,
		       code ? "SELECT name, phone, code, tier, expires, provisional FROM members"
			      " WHERE code = ?1"
			    : "SELECT name, phone, code, tier, expires, provisional FROM members"
			      " WHERE phone = ?1",
		       code ? code : phone);
	buf[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t o = 0;
		for (int c = 0; c < 6 && o < len; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			o += (size_t)snprintf(buf + o, len - o, "%s%s", c ? "|" : "",
					      t ? (const char *)t : "");
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

static void expect_row(fixture *f, const char *code, const char *phone, const char *want)
{
	char got[512];
	row_of(f, code, phone, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("member %s: \"%s\", want \"%s\"", code ? code : phone, got, want);
}

static int64_t id_of(fixture *f, const char *code)
{
	return testdb_int(f->db, "SELECT id FROM members WHERE code = ?1", code);
}

/* ======================================================================== */
/* good files                                                               */
/* ======================================================================== */

static void test_good_file(void **state)
{
	fixture *f = *state;
	expect_ok(f, "good.csv", import(f, "good.csv"));
	assert_int_equal(f->rep.rows, 5);
	assert_int_equal(f->rep.added, 5);
	assert_int_equal(f->rep.updated, 0);
	assert_int_equal(f->rep.unchanged, 0);
	assert_int_equal(f->rep.errors_total, 0);
	expect_printed(f, "good.csv", "imported 5 members from good.csv: 5 added, 0 updated, 0 unchanged\n");
	char *out = printed(f, "good.csv");
	assert_null(strstr(out, "refused"));
	assert_null(strstr(out, "nothing imported"));
	free(out);

	assert_int_equal(members_in_file(f), 5);
	expect_row(f, "TZ1001", NULL, "张三|13812345678|TZ1001|gold|2027-06-30|0");
	expect_row(f, "TZ1002", NULL, "李四|13910015678|TZ1002|silver||0");
	expect_row(f, "TZ1003", NULL, "王小明|8613910025678|TZ1003|||0");
	expect_row(f, NULL, "03515550199", "Ana Lima|03515550199||standard|2026-12-31|0");
	expect_row(f, "TZ1005", NULL, "陳美玲||TZ1005|gold|2025-01-31|0");
	assert_int_equal(testdb_int(f->db, "SELECT count(*) FROM outbox", NULL),
			 0); /* a roster is not sent back */
}

static void test_reimport_updates_by_code(void **state)
{
	fixture *f = *state;
	expect_ok(f, "good.csv", import(f, "good.csv"));
	int64_t id1 = id_of(f, "TZ1001"), id3 = id_of(f, "TZ1003");
	int64_t ana = testdb_int(f->db, "SELECT id FROM members WHERE phone = '03515550199'", NULL);

	expect_ok(f, "update.csv", import(f, "update.csv"));
	assert_int_equal(f->rep.rows, 5);
	assert_int_equal(f->rep.added, 1);
	assert_int_equal(f->rep.updated, 2);
	assert_int_equal(f->rep.unchanged, 2);
	expect_printed(f, "update.csv",
		       "imported 5 members from update.csv: 1 added, 2 updated, 2 unchanged\n");

	assert_int_equal(members_in_file(f), 6); /* 陳美玲 is not in the file and stays */
	assert_int_equal(id_of(f, "TZ1001"), id1);
	assert_int_equal(id_of(f, "TZ1003"), id3);
	assert_int_equal(testdb_int(f->db, "SELECT id FROM members WHERE phone = '03515550199'", NULL), ana);
	expect_row(f, "TZ1001", NULL, "张三|13812345678|TZ1001|gold|2028-06-30|0");
	expect_row(f, "TZ1003", NULL, "Wang Xiaoming|8613910025678|TZ1003|||0");
	expect_row(f, "TZ1005", NULL, "陳美玲||TZ1005|gold|2025-01-31|0");
	expect_row(f, "TZ1006", NULL, "New Member|13700000001|TZ1006|||0");

	/* the same file once more changes nothing */
	expect_ok(f, "update.csv", import(f, "update.csv"));
	expect_printed(f, "update.csv",
		       "imported 5 members from update.csv: 0 added, 0 updated, 5 unchanged\n");
	assert_int_equal(members_in_file(f), 6);
}

static void test_bom_and_crlf(void **state)
{
	fixture *f = *state;
	expect_ok(f, "bom.csv", import(f, "bom.csv"));
	expect_printed(f, "bom.csv", "imported 2 members from bom.csv: 2 added, 0 updated, 0 unchanged\n");
	/* "name" was found behind the mark, and no '\r' is left on the last column */
	expect_row(f, "TZ2001", NULL, "趙六|13600000001|TZ2001|||0");
	expect_row(f, "TZ2002", NULL, "錢七|13600000002|TZ2002|||0");
}

static void test_quoted_fields(void **state)
{
	fixture *f = *state;
	expect_ok(f, "quoted.csv", import(f, "quoted.csv"));
	assert_int_equal(f->rep.rows, 3);
	assert_int_equal(f->rep.added, 3);
	expect_row(f, "TZ3001", NULL, "Wang, Fang|13500000001|TZ3001|||0");
	expect_row(f, "TZ3002", NULL, "Li \"Junior\" Wei|13500000002|TZ3002|||0");
	expect_row(f, "TZ3003", NULL, "Chen Jie|13500000003|TZ3003|||0");
}

static void test_extra_columns_ignored(void **state)
{
	fixture *f = *state;
	expect_ok(f, "extra_columns.csv", import(f, "extra_columns.csv"));
	assert_int_equal(f->rep.added, 2);
	expect_row(f, "TZ4001", NULL, "孙八|13400000001|TZ4001|gold|2027-01-01|0");
	expect_row(f, "TZ4002", NULL, "周九|13400000002|TZ4002|||0");
}

static void test_columns_in_another_order(void **state)
{
	fixture *f = *state;
	expect_ok(f, "reordered.csv", import(f, "reordered.csv"));
	assert_int_equal(f->rep.added, 2);
	expect_row(f, "TZ5001", NULL, "吴十|13500000021|TZ5001|gold|2027-03-31|0");
	expect_row(f, "TZ5002", NULL, "郑十一||TZ5002|||0");
}

static void test_name_of_127_bytes_fits(void **state)
{
	fixture *f = *state;
	char want[256];
	size_t o = 0;
	for (int i = 0; i < 42; i++)
		o += (size_t)snprintf(want + o, sizeof want - o, "张");
	snprintf(want + o, sizeof want - o, "a");
	assert_int_equal(strlen(want), 127);
	expect_ok(f, "name_127.csv", import(f, "name_127.csv"));
	snprintf(want + 127, sizeof want - 127, "|13300000181|TZ6081|||0");
	expect_row(f, "TZ6081", NULL, want);
}

static void test_blank_rows_skipped(void **state)
{
	fixture *f = *state;
	expect_ok(f, "members.csv",
		  import_text(f, "name,code,phone\n\nA,TZ1,\n,,\n   \n\"\",\"\",\"\"\nB,TZ2,\n"));
	assert_int_equal(f->rep.rows, 2);
	assert_int_equal(f->rep.added, 2);
	assert_int_equal(members_in_file(f), 2);
	/* a blank line still counts as a line */
	assert_int_equal(import_text(f, "name,code\n\n\n,TZ3\n"), MEMBERS_CSV_REFUSED);
	assert_true(has_error(&f->rep, "line 4: name is empty"));
	assert_int_equal(members_in_file(f), 2);
}

static void test_mac_line_endings(void **state)
{
	fixture *f = *state;
	/* "CSV (Macintosh)" from a spreadsheet ends lines with a lone CR */
	expect_ok(f, "members.csv",
		  import_text(f, "name,code,phone\rA,TZ1,13800000001\rB,TZ2,13800000002\r"));
	assert_int_equal(f->rep.added, 2);
	expect_row(f, "TZ1", NULL, "A|13800000001|TZ1|||0");
	expect_row(f, "TZ2", NULL, "B|13800000002|TZ2|||0");
	assert_int_equal(import_text(f, "name,code\rC,TZ3\r,TZ4\r"), MEMBERS_CSV_REFUSED);
	assert_true(has_error(&f->rep, "line 3: name is empty"));
	assert_int_equal(members_in_file(f), 2);
}

static void test_walkin_adopted_by_roster(void **state)
{
	fixture *f = *state;
	store_member w;
	assert_int_equal(store_member_register(f->s, "Walk In", "13900000009", 0, &w), STORE_OK);
	expect_ok(f, "members.csv", import_text(f, "name,phone,code\nWalker Inn,139 0000 0009,TZ7001\n"));
	assert_int_equal(f->rep.updated, 1);
	assert_int_equal(id_of(f, "TZ7001"), w.id);
	expect_row(f, "TZ7001", NULL, "Walker Inn|13900000009|TZ7001|||0");
	assert_int_equal(members_in_file(f), 1);
	/* the walk-in's own outbox row, and nothing for the import */
	assert_int_equal(testdb_int(f->db, "SELECT count(*) FROM outbox", NULL), 1);
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
	expect_ok(f, "members.csv", import_text(f, csv));
	assert_int_equal(f->rep.added, N);
	assert_int_equal(members_in_file(f), N);
	assert_int_equal(store_member_count(f->s), N);
	expect_row(f, "TZ019999", NULL, "会员 19999|13900019999|TZ019999|gold|2027-01-01|0");
	free(csv);
}

/* ======================================================================== */
/* refused files                                                            */
/* ======================================================================== */

#define MAX_WANT 4

static const struct refusal {
	const char *file;
	int fatal;                  /* the whole file is refused (rep.fatal), not rows */
	size_t errors;              /* rep.errors_total when not fatal */
	const char *want[MAX_WANT]; /* each in the report: the line, the field, the value */
} refusals[] = {
    {"no_name.csv", 1, 0, {"line 1: the header row must name the columns name"}},
    {"empty.csv", 1, 0, {"empty.csv is empty: it needs a header row"}},
    {"empty_name.csv", 0, 2, {"line 3: name is empty", "line 4: name is empty"}},
    {"bad_date.csv", 0, 1, {"line 4: expires \"2026-02-30\" is not a date"}},
    {"bad_phone.csv",
     0,
     2,
     {"line 3: phone \"13x00000022\" is not a phone number", "line 4: phone \"1234\" is not a phone number"}},
    {"dup_code.csv", 0, 1, {"line 4: code \"TZ6031\" is also on line 2"}},
    {"bad_utf8.csv", 0, 1, {"line 3: name is not valid UTF-8"}},
    {"long_name.csv", 0, 1, {"line 3: name \"", "is 128 bytes, longer than the 127 allowed"}},
    {"unclosed_quote.csv", 1, 0, {"line 3: a quote opened on this row is never closed"}},
    {"quoted_lines.csv",
     0,
     3,
     {"line 6: expires \"2026-02-30\" is not a date", "line 7: name contains a line break",
      "line 9: phone \"12ab\" is not a phone number"}},
    /* every row is good on its own; the database refuses one, and the other is rolled back */
    {"db_conflict.csv", 0, 1, {"line 3: phone 13812345678 belongs to the member with code TZ1001"}},
};

/* Every name, phone, code, tier and date in the file, in id order: must not change. */
static char *snapshot(fixture *f)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st =
	    peer_query(f->db, &db,
		       "SELECT group_concat(id || '|' || name || '|' || ifnull(phone, '') || '|' ||"
		       " ifnull(code, '') || '|' || tier || '|' || expires || '|' || provisional ||"
		       " '|' || updated_ms, char(10)) FROM (SELECT * FROM members ORDER BY id)",
		       NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(st, 0);
	char *copy = strdup(t ? (const char *)t : "");
	assert_non_null(copy);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return copy;
}

static int in_report(const members_csv_report *rep, const char *want)
{
	if (strstr(rep->fatal, want))
		return 1;
	for (size_t i = 0; i < rep->nerrors; i++)
		if (strstr(rep->errors[i], want))
			return 1;
	return 0;
}

static void test_refused_file_stores_nothing(void **state)
{
	fixture *f = *state;
	const struct refusal *r = f->refusal;
	assert_non_null(r);
	expect_ok(f, "good.csv", import(f, "good.csv"));
	char *before = snapshot(f);
	int rc = import(f, r->file);
	char *out = printed(f, r->file);
	if (rc != MEMBERS_CSV_REFUSED)
		fail_msg("%s: %d, want refused:\n%s", r->file, rc, out);

	/* nothing stored */
	assert_int_equal(members_in_file(f), GOOD_MEMBERS);
	assert_int_equal(store_member_count(f->s), GOOD_MEMBERS);
	char *after = snapshot(f);
	if (strcmp(before, after) != 0)
		fail_msg("%s changed the members:\n%s\nwas:\n%s", r->file, after, before);
	assert_int_equal(f->rep.added + f->rep.updated + f->rep.unchanged, 0);

	/* the report says where and what */
	if (r->fatal) {
		assert_true(f->rep.fatal[0] != '\0');
		assert_int_equal(f->rep.errors_total, 0);
	} else if (f->rep.errors_total != r->errors || f->rep.nerrors != r->errors) {
		fail_msg("%s: %zu refusals, want %zu:\n%s", r->file, f->rep.errors_total, r->errors, out);
	}
	for (size_t j = 0; j < MAX_WANT && r->want[j]; j++)
		if (!in_report(&f->rep, r->want[j]))
			fail_msg("%s: the report lacks \"%s\":\n%s", r->file, r->want[j], out);
	/* printed: each refusal on a line of its own after the file name, then the verdict */
	for (size_t j = 0; j < f->rep.nerrors; j++) {
		char line[600];
		snprintf(line, sizeof line, "%s: %s\n", r->file, f->rep.errors[j]);
		if (!strstr(out, line))
			fail_msg("%s: the printed report lacks \"%s\":\n%s", r->file, line, out);
	}
	if (!strstr(out, "nothing imported"))
		fail_msg("%s: the printed report does not say that nothing was imported:\n%s", r->file, out);
	assert_null(strstr(out, "imported 0 members"));
	free(after);
	free(before);
	free(out);
}

static void test_refused_rows_after_good_rows_report_all(void **state)
{
	/* bad_phone.csv: a good row, then two bad ones; the verdict counts them */
	fixture *f = *state;
	assert_int_equal(import(f, "bad_phone.csv"), MEMBERS_CSV_REFUSED);
	assert_int_equal(f->rep.rows, 3);
	expect_printed(f, "bad_phone.csv", "nothing imported: 2 of 3 rows refused\n");
	assert_int_equal(members_in_file(f), 0);
	assert_int_equal(testdb_int(f->db, "SELECT count(*) FROM members WHERE code = 'TZ6021'", NULL), 0);
}

static void test_unclosed_quote_names_its_row(void **state)
{
	fixture *f = *state;
	assert_int_equal(import_text(f, "name,code\nA,TZ1\n\"B,TZ2\nC,TZ3\nD\"x,TZ4\n"), MEMBERS_CSV_REFUSED);
	expect_printed(f, "members.csv", "line 3: a quote opened on this row is not closed");
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
	expect_printed(f, "members.csv", "nothing imported: 1 of 2 rows refused");
}

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
	expect_ok(f, "good.csv", import(f, "good.csv"));
	char *before = snapshot(f);
	assert_int_equal(import(f, "bad_rows.csv"), MEMBERS_CSV_REFUSED);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!has_error(&f->rep, want[i])) {
			dump(&f->rep);
			fail_msg("missing: %s", want[i]);
		}
	assert_int_equal(f->rep.errors_total, sizeof want / sizeof want[0]);
	assert_int_equal(f->rep.rows, 11);
	assert_int_equal(f->rep.added, 0);
	expect_printed(f, "bad_rows.csv",
		       "bad_rows.csv: line 7: expires \"2026-13-01\" is not a date (YYYY-MM-DD)\n");
	expect_printed(f, "bad_rows.csv", "nothing imported: 9 of 11 rows refused");
	/* the good rows of the bad file were not stored either, and the others are as they were */
	assert_int_equal(store_member_count(f->s), GOOD_MEMBERS);
	assert_int_equal(id_of(f, "TZ5011"), -1);
	char *after = snapshot(f);
	assert_string_equal(after, before);
	free(after);
	free(before);
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
		assert_int_equal(members_in_file(f), 1);
	}
}

static void test_phone_of_another_member_in_database(void **state)
{
	fixture *f = *state;
	expect_ok(f, "members.csv", import_text(f, "name,phone,code\n张三,13812345678,TZ1\n"));
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
	expect_printed(f, "members.csv", "... and 50 more refusals");
	assert_int_equal(f->rep.rows_refused, 150);
	free(csv);
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
	assert_int_equal(import_path(f, f->csv), MEMBERS_CSV_REFUSED);
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
	assert_int_equal(members_in_file(f), 0);
	free(csv);
}

static void test_missing_file(void **state)
{
	fixture *f = *state;
	char path[512];
	if (f->have_rep)
		members_csv_report_free(&f->rep);
	f->have_rep = 1;
	fixture_path("no-such-file.csv", path, sizeof path);
	assert_int_equal(store_import_csv(f->s, path, &f->rep), MEMBERS_CSV_REFUSED);
	assert_non_null(strstr(f->rep.fatal, "no-such-file.csv"));
	expect_printed(f, "no-such-file.csv", "nothing imported\n");
	assert_int_equal(members_in_file(f), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_good_file),
	    T(test_reimport_updates_by_code),
	    T(test_bom_and_crlf),
	    T(test_quoted_fields),
	    T(test_extra_columns_ignored),
	    T(test_columns_in_another_order),
	    T(test_name_of_127_bytes_fits),
	    T(test_blank_rows_skipped),
	    T(test_mac_line_endings),
	    T(test_walkin_adopted_by_roster),
	    T(test_many_members),
#define R(i)                                                                                                 \
	{.name = refusals[i].file,                                                                           \
	 .test_func = test_refused_file_stores_nothing,                                                      \
	 .setup_func = setup,                                                                                \
	 .teardown_func = teardown,                                                                          \
	 .initial_state = (void *)&refusals[i]}
	    R(0),
	    R(1),
	    R(2),
	    R(3),
	    R(4),
	    R(5),
	    R(6),
	    R(7),
	    R(8),
	    R(9),
	    R(10),
#undef R
	    T(test_refused_rows_after_good_rows_report_all),
	    T(test_unclosed_quote_names_its_row),
	    T(test_row_refused_twice_counts_once),
	    T(test_bad_rows_reported_nothing_stored),
	    T(test_each_refusal),
	    T(test_phone_of_another_member_in_database),
	    T(test_error_list_is_capped),
	    T(test_missing_file),
	    T(test_file_too_large),
	    T(test_full_disk_imports_nothing),
	};
#undef T
	_Static_assert(sizeof refusals / sizeof refusals[0] == 11, "one R(i) above per refused file");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
