/*
 * hubdb — where a hub unit test keeps its store, on either backend, and the
 * store's tables read back the way another program sees them.
 *
 * Without TINGZI_TEST_PG a store is the SQLite file the test names. With
 * TINGZI_TEST_PG=DIR (a cluster made by tests/tools/pg_cluster.sh start DIR;
 * CTest's *.pg tests set it) each store is a fresh PostgreSQL database of its
 * own in that cluster, owned by the unprivileged role the hub uses there.
 *
 * The readers take SQL both backends understand: ?1 stands for arg (it is
 * $1 on PostgreSQL), a truth value reads as 1 or 0. SQL only SQLite knows
 * (PRAGMA, group_concat, hex, rowid) belongs in a part the test skips on
 * PostgreSQL (hubdb_pg()). Included after cmocka.h; a failure fails the
 * running test.
 */
#ifndef TINGZI_HUBDB_H
#define TINGZI_HUBDB_H

#include <stddef.h>
#include <stdint.h>

/* The store's address is as long as this at most (a URL naming its socket folder). */
#define HUBDB_WHERE_MAX 512

/* Whether this run's stores are PostgreSQL databases (TINGZI_TEST_PG is set). */
int hubdb_pg(void);

/* Where a test's store lives, into buf: tmp_path itself (a SQLite file; buf
 * may be tmp_path), or the URL of a new empty database. Returns buf. */
const char *hubdb_where(char *buf, size_t len, const char *tmp_path);

/* The store gone: the file with its -wal and -shm, or the database (the
 * connections left to it ended). */
void hubdb_remove(const char *where);

/* One integer from q (?1 = arg when arg is not NULL); -1 when there is no row,
 * 0 for NULL, 1 and 0 for true and false. */
int64_t hubdb_int(const char *where, const char *q, const char *arg);

/* One text from q (?1 = arg) into buf; "" when there is no row or it is NULL. */
const char *hubdb_text(const char *where, const char *q, const char *arg, char *buf, size_t len);

/* Statements, for a test that changes the store behind the hub's back. */
void hubdb_exec(const char *where, const char *q);

#endif
