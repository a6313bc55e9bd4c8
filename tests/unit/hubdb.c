/*
 * hubdb — a hub unit test's store on SQLite or on a throwaway PostgreSQL
 * cluster (see hubdb.h). PostgreSQL is reached through libpq directly: the
 * cluster's superuser makes and drops the databases, the hub's own role reads
 * them, as the hub would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"
#define TESTDB_NO_FIXTURE
#include "tests/unit/testdb.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What tests/tools/pg_cluster.sh names its superuser and the hub's role. */
#define HUBDB_ADMIN "tingzi_admin"
#define HUBDB_ROLE  "tingzi_hub"

int hubdb_pg(void)
{
	const char *dir = getenv("TINGZI_TEST_PG");
	return dir && *dir;
}

static int is_url(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

/* The cluster's socket folder and port, from DIR/env (PGHOST=..., PGPORT=...). */
static void cluster(char *host, size_t hlen, char *port, size_t plen)
{
	const char *dir = getenv("TINGZI_TEST_PG");
	char p[1024], line[1024];
	snprintf(p, sizeof p, "%s/env", dir);
	FILE *f = fopen(p, "r");
	if (!f)
		fail_msg("%s: no test cluster there (tests/tools/pg_cluster.sh start %s)", p, dir);
	host[0] = port[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "PGHOST=", 7) == 0)
			snprintf(host, hlen, "%s", line + 7);
		else if (strncmp(line, "PGPORT=", 7) == 0)
			snprintf(port, plen, "%s", line + 7);
	}
	fclose(f);
	if (!host[0] || !port[0])
		fail_msg("%s: no PGHOST or PGPORT", p);
}

/* One statement as the cluster's superuser, on its maintenance database. */
static void admin(const char *sql)
{
	char host[1024], port[1024];
	cluster(host, sizeof host, port, sizeof port);
	const char *keys[] = {"host", "port", "user", "dbname", NULL};
	const char *vals[] = {host, port, HUBDB_ADMIN, "postgres", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
		PQfinish(c);
		fail_msg("the test cluster in %s: %s", getenv("TINGZI_TEST_PG"), msg);
	}
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		fail_msg("%s: %s", sql, msg);
	}
	PQclear(r);
	PQfinish(c);
}

const char *hubdb_where(char *buf, size_t len, const char *tmp_path)
{
	if (!hubdb_pg()) {
		if (buf != tmp_path)
			snprintf(buf, len, "%s", tmp_path);
		return buf;
	}
	static unsigned n;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char name[64], sql[160], host[1024], port[1024];
	snprintf(name, sizeof name, "u_%d_%u_%lld", (int)getpid(), n++,
		 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER " HUBDB_ROLE, name);
	admin(sql);
	cluster(host, sizeof host, port, sizeof port);
	int k = snprintf(buf, len, "postgresql:///%s?host=%s&port=%s&user=" HUBDB_ROLE, name, host, port);
	if (k < 0 || (size_t)k >= len)
		fail_msg("a database URL longer than %zu bytes", len);
	return buf;
}

void hubdb_remove(const char *where)
{
	if (!is_url(where)) {
		char p[1100];
		unlink(where);
		snprintf(p, sizeof p, "%s-wal", where);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", where);
		unlink(p);
		return;
	}
	const char *name = strstr(where, ":///");
	if (!name)
		fail_msg("%s: not a test database", where);
	name += 4;
	char sql[160];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)strcspn(name, "?"), name);
	admin(sql);
}

/* q with each ?N outside quotes written $N, PostgreSQL's way. */
static void pg_params(const char *q, char *out, size_t len)
{
	size_t k = 0;
	int quoted = 0;
	for (const char *s = q; *s && k + 1 < len; s++) {
		if (*s == '\'')
			quoted = !quoted;
		out[k++] = (*s == '?' && !quoted && s[1] >= '0' && s[1] <= '9') ? '$' : *s;
	}
	out[k] = '\0';
	if (strlen(q) >= len)
		fail_msg("a query longer than %zu bytes", len);
}

/* The rows of q (?1 = arg) on the database where; *c to PQfinish. */
static PGresult *pg_query(const char *where, const char *q, const char *arg, PGconn **c)
{
	*c = PQconnectdb(where);
	if (PQstatus(*c) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(*c));
		PQfinish(*c);
		fail_msg("%s: %s", where, msg);
	}
	char sql[8192];
	pg_params(q, sql, sizeof sql);
	const char *params[] = {arg};
	PGresult *r = PQexecParams(*c, sql, arg ? 1 : 0, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(*c));
		PQclear(r);
		PQfinish(*c);
		fail_msg("%s: %s", q, msg);
	}
	return r;
}

int64_t hubdb_int(const char *where, const char *q, const char *arg)
{
	if (!is_url(where))
		return testdb_int(where, q, arg);
	PGconn *c;
	PGresult *r = pg_query(where, q, arg, &c);
	int64_t v = -1;
	if (PQntuples(r) > 0) {
		const char *s = PQgetvalue(r, 0, 0);
		if (PQgetisnull(r, 0, 0))
			v = 0;
		else if (strcmp(s, "t") == 0 || strcmp(s, "f") == 0)
			v = s[0] == 't';
		else
			v = strtoll(s, NULL, 10);
	}
	PQclear(r);
	PQfinish(c);
	return v;
}

const char *hubdb_text(const char *where, const char *q, const char *arg, char *buf, size_t len)
{
	if (!is_url(where))
		return testdb_text(where, q, arg, buf, len);
	PGconn *c;
	PGresult *r = pg_query(where, q, arg, &c);
	buf[0] = '\0';
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		snprintf(buf, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return buf;
}

void hubdb_exec(const char *where, const char *q)
{
	if (!is_url(where)) {
		testdb_exec(where, q);
		return;
	}
	PGconn *c = PQconnectdb(where);
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
		PQfinish(c);
		fail_msg("%s: %s", where, msg);
	}
	/* several statements: the simple protocol, all in one transaction */
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		fail_msg("%s: %s", q, msg);
	}
	PQclear(r);
	PQfinish(c);
}
