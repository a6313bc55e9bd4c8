/*
 * testdb — reading a kiosk database file from a second SQLite connection, for
 * the unit tests (see testdb.h). A failure fails the running cmocka test, or,
 * in a forked child (testdb_in_child), exits the child with status 99.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TESTDB_NO_FIXTURE
#include "tests/unit/testdb.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int testdb_in_child;

static void testdb_failed(const char *what, const char *msg)
{
	if (testdb_in_child) {
		fprintf(stderr, "%s: %s\n", what, msg);
		_exit(99);
	}
	fail_msg("%s: %s", what, msg);
}

static sqlite3 *testdb_open(const char *db, int flags)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(db, &h, flags, NULL) != SQLITE_OK)
		testdb_failed(db, h ? sqlite3_errmsg(h) : "out of memory");
	return h;
}

/* The first row of q (?1 = arg): SQLITE_ROW or SQLITE_DONE, with *st to finalize. */
static int testdb_step(sqlite3 *h, const char *q, const char *arg, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(h, q, -1, st, NULL) != SQLITE_OK)
		testdb_failed(q, sqlite3_errmsg(h));
	if (arg)
		sqlite3_bind_text(*st, 1, arg, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(*st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		testdb_failed(q, sqlite3_errmsg(h));
	return rc;
}

int64_t testdb_int(const char *db, const char *q, const char *arg)
{
	sqlite3 *h = testdb_open(db, SQLITE_OPEN_READONLY);
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (testdb_step(h, q, arg, &st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

const char *testdb_text(const char *db, const char *q, const char *arg, char *buf, size_t len)
{
	sqlite3 *h = testdb_open(db, SQLITE_OPEN_READONLY);
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	if (testdb_step(h, q, arg, &st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return buf;
}

void testdb_exec(const char *db, const char *q)
{
	sqlite3 *h = testdb_open(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char *msg = NULL;
	if (sqlite3_exec(h, q, NULL, NULL, &msg) != SQLITE_OK)
		testdb_failed(q, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(h);
}

int64_t testdb_count(const char *db, const char *table)
{
	char q[96];
	snprintf(q, sizeof q, "SELECT count(*) FROM %s", table);
	return testdb_int(db, q, NULL);
}

typedef struct by_code {
	const char *code;
	int64_t id;
} by_code;

static int find_code(const store_member *m, void *ctx)
{
	by_code *b = ctx;
	if (strcmp(m->code, b->code) == 0)
		b->id = m->id;
	return b->id != 0;
}

int64_t testdb_add_member(store *s, const char *name, const char *phone, const char *code)
{
	store_member m = {0};
	int updated;
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	assert_int_equal(store_import_begin(s), STORE_OK);
	assert_int_equal(store_import_member(s, &m, &updated), STORE_OK);
	assert_int_equal(store_import_commit(s), STORE_OK);
	by_code b = {code, 0};
	assert_int_equal(store_members_foreach(s, find_code, &b), STORE_OK);
	assert_true(b.id > 0);
	return b.id;
}
