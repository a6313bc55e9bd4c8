/*
 * hub_store_sqlite_calls — statements prepared for one call and finalized
 * together at its end, for the SQLite store's parts that run seldom, by
 * people or by one sender at a time (passes, the open API, webhooks): a
 * statement kept across calls would have to be finalized by the store's
 * close. Included by those parts' files only.
 */
#ifndef TINGZI_HUB_STORE_SQLITE_CALLS_H
#define TINGZI_HUB_STORE_SQLITE_CALLS_H

#include "sync/hub/hub_store_sqlite_impl.h"

typedef struct calls {
	sq *s;
	sqlite3_stmt *st[16];
	int n;
} calls;

/* A statement of this call; NULL with the store's errmsg set. */
static inline sqlite3_stmt *prep(calls *c, const char *text)
{
	sqlite3_stmt *st = NULL;
	if (c->n == (int)(sizeof c->st / sizeof c->st[0])) {
		snprintf(c->s->base.errmsg, sizeof c->s->base.errmsg, "too many statements in one call");
		return NULL;
	}
	if (sqlite3_prepare_v2(c->s->db, text, -1, &st, NULL) != SQLITE_OK) {
		snprintf(c->s->base.errmsg, sizeof c->s->base.errmsg, "%s", sqlite3_errmsg(c->s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	return c->st[c->n++] = st;
}

static inline void calls_done(calls *c)
{
	for (int i = 0; i < c->n; i++)
		sqlite3_finalize(c->st[i]);
	c->n = 0;
}

/* calls_done, then e: the end of a call that returns e. */
static inline hub_err calls_end(calls *c, hub_err e)
{
	calls_done(c);
	return e;
}

#endif
