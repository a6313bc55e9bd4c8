/*
 * testdb — what the unit tests that touch a kiosk database share: values read
 * from the file with SQLite directly, on a connection of their own, the way
 * another program (or a person with sqlite3) sees it; and a fresh database
 * file per test (cmocka setup and teardown). Included after cmocka.h; the
 * helpers are in testdb.c, linked into every unit test.
 *
 * A test that keeps its own fixture (test_store, test_members_csv) defines
 * TESTDB_NO_FIXTURE before including this header and gets the helpers alone.
 */
#ifndef TINGZI_TESTDB_H
#define TINGZI_TESTDB_H

#include "app/store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Set in a forked child: a failed query then prints and _exit(99)s instead of
 * failing the test through cmocka, which the child cannot do. */
extern int testdb_in_child;

/* One integer from q on db (?1 bound to arg when arg is not NULL); -1 when there
 * is no row. A query that fails to prepare or step fails the test. */
int64_t testdb_int(const char *db, const char *q, const char *arg);

/* One text from q (?1 = arg) into buf; "" when there is no row or it is NULL. */
const char *testdb_text(const char *db, const char *q, const char *arg, char *buf, size_t len);

/* Statements on a read-write connection (the file is made if missing). */
void testdb_exec(const char *db, const char *q);

/* count(*) of a table. */
int64_t testdb_count(const char *db, const char *table);
/* A member imported into s (as `tingzi members import` would); its row id. */
int64_t testdb_add_member(store *s, const char *name, const char *phone, const char *code);

#ifndef TESTDB_NO_FIXTURE

#include <stdio.h>
#include <unistd.h>

static char path[128];

/* The store on /tmp/tingzi-TAG-PID.db, made anew; *state is the store. */
static int testdb_setup(void **state, const char *tag)
{
	snprintf(path, sizeof path, "/tmp/tingzi-%s-%d.db", tag, (int)getpid());
	unlink(path);
	store *s;
	char err[256];
	assert_int_equal(store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_OK);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	char p[160];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	return 0;
}

/* One integer from the test's database. */
static int64_t sql_int(const char *q)
{
	return testdb_int(path, q, NULL);
}

#endif
#endif
