/*
 * hub_store — which backend a store's address names (see hub_store.h), and
 * the rules both backends apply (hub_store_backend.h).
 */
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_store_backend.h"

#include <stdio.h>
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

hub_import_step hub_import_decide(const store_member *m, const hub_mrow *by_code, const hub_mrow *by_phone,
				  const hub_mrow **found, const char **phone, const char **code, char *why, size_t len)
{
	*found = by_code ? by_code : by_phone;
	if (by_code && by_phone && strcmp(by_code->uid, by_phone->uid) != 0) {
		snprintf(why, len, "phone \"%s\" belongs to another member (%s) already in the database", m->phone,
			 by_phone->name);
		return HUB_IMPORT_REFUSED;
	}
	const hub_mrow *f = *found;
	if (f && !by_code && m->code[0] && f->code[0] && strcmp(f->code, m->code) != 0) {
		/* matched by phone, but that member has another code: a different person */
		snprintf(why, len, "phone \"%s\" belongs to another member (%s, code %s) already in the database",
			 m->phone, f->name, f->code);
		return HUB_IMPORT_REFUSED;
	}
	if (!f)
		return HUB_IMPORT_ADD;
	*phone = m->phone[0] ? m->phone : f->phone;
	*code = m->code[0] ? m->code : f->code;
	if (strcmp(f->name, m->name) == 0 && strcmp(f->phone, *phone) == 0 && strcmp(f->code, *code) == 0 &&
	    strcmp(f->tier, m->tier) == 0 && strcmp(f->expires, m->expires) == 0)
		return HUB_IMPORT_UNCHANGED;
	return HUB_IMPORT_UPDATE;
}
