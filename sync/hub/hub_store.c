/*
 * hub_store — which backend a store's address names (see hub_store.h).
 */
#include "sync/hub/hub_store.h"

#include <string.h>

int hub_store_is_pg(const char *where)
{
	if (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0)
		return 1;
	/* libpq's key=value form ("host=/run/postgresql dbname=tingzi") */
	return strncmp(where, "dbname=", 7) == 0 || strstr(where, " dbname=") != NULL;
}

hub_store *hub_store_open(const char *where, char *why, size_t len)
{
	if (hub_store_is_pg(where))
		return hub_store_pg_open(where, why, len);
	return hub_store_sqlite_open(strncmp(where, "sqlite:", 7) == 0 ? where + 7 : where, why, len);
}
