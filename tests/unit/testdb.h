/*
 * testdb — a fresh kiosk database file per test (cmocka setup and teardown),
 * and single values read from it with SQLite directly, the way a person
 * would look with sqlite3. Included by unit tests after cmocka.h.
 */
#ifndef TINGZI_TESTDB_H
#define TINGZI_TESTDB_H

#include "app/store/store.h"

#include <sqlite3.h>
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

static int64_t sql_int(const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#endif
