/*
 * test_csv_import — `tingzi members import FILE.csv` as an organizer meets it.
 *
 * Every case is a file under tests/fixtures/csv/ imported with
 * store_import_csv() into a fresh database /tmp/tingzi-test-csv-import-
 * <pid>-<n>.db; the members are then read from the file with a second SQLite
 * connection, and the report is printed with members_csv_report_print() the
 * way the command prints it.
 *
 * Good files: the counts (added, updated, unchanged) in the printed report,
 * a re-import that updates by code and keeps each member's row, a byte-order
 * mark with CRLF lines, quoted fields with commas, doubled quotes and line
 * breaks, extra columns, columns in another order and case.
 *
 * Refused files: each is imported into a database that already holds the
 * five members of good.csv. Nothing may change (same members, same names, no
 * new code), and the report must name the physical line (the header is line
 * 1; a row that spans lines is named by its first line, and the rows after it
 * by their own) and the field at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/members_csv.h"
#include "app/store/store.h"

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
	char db[160];
	store *s;
	members_csv_report rep;
	int have_rep;
} fixture;

static int serial;

static void remove_db(const char *path)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char side[192];
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		snprintf(side, sizeof side, "%s%s", path, ext[i]);
		unlink(side);
	}
}

static int setup(void **state)
{
	char err[512];
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->refusal = *state; /* NULL, or the prestate of a refused-file test */
	snprintf(f->db, sizeof f->db, "/tmp/tingzi-test-csv-import-%ld-%d.db", (long)getpid(), ++serial);
	remove_db(f->db);
	if (store_open(f->db, STORE_OPEN_CREATE, &f->s, err, sizeof err) != STORE_OK)
		fail_msg("store_open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	if (f->have_rep)
		members_csv_report_free(&f->rep);
	store_close(f->s);
	remove_db(f->db);
	free(f);
	return 0;
}

static const char *fixture_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/csv/%s", TINGZI_FIXTURES, name);
	return buf;
}

static int import(fixture *f, const char *name)
{
	char path[512];
	if (f->have_rep)
		members_csv_report_free(&f->rep);
	f->have_rep = 1;
	return store_import_csv(f->s, fixture_path(name, path, sizeof path), &f->rep);
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

static int64_t sql_int(fixture *f, const char *q, const char *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = peer_query(f->db, &db, q, arg);
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int64_t members_in_file(fixture *f)
{
	return sql_int(f, "SELECT count(*) FROM members", NULL);
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
	return sql_int(f, "SELECT id FROM members WHERE code = ?1", code);
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
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox", NULL), 0); /* a roster is not sent back */
}

static void test_reimport_updates_by_code(void **state)
{
	fixture *f = *state;
	expect_ok(f, "good.csv", import(f, "good.csv"));
	int64_t id1 = id_of(f, "TZ1001"), id3 = id_of(f, "TZ1003");
	int64_t ana = sql_int(f, "SELECT id FROM members WHERE phone = '03515550199'", NULL);

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
	assert_int_equal(sql_int(f, "SELECT id FROM members WHERE phone = '03515550199'", NULL), ana);
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
	assert_int_equal(sql_int(f, "SELECT count(*) FROM members WHERE code = 'TZ6021'", NULL), 0);
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
	    T(test_missing_file),
	};
#undef T
	_Static_assert(sizeof refusals / sizeof refusals[0] == 11, "one R(i) above per refused file");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
