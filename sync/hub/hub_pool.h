/*
 * hub_pool — the stores a server's threads share: one for a SQLite file
 * (one writer, as SQLite allows), or several PostgreSQL connections.
 *
 * A thread takes a store for one call (or one console page) and gives it
 * back; when all are taken it waits. Nothing else is kept between calls,
 * so any store of the pool is as good as any other.
 */
#ifndef TINGZI_HUB_POOL_H
#define TINGZI_HUB_POOL_H

#include "sync/hub/hub_store.h"

#define HUB_POOL_MAX 64

typedef struct hub_pool hub_pool;

/*
 * A pool around first (the store already open on where, kept and closed by
 * the pool), with size - 1 more stores opened on where when it names a
 * PostgreSQL database (a SQLite file: size is 1 whatever is asked).
 * NULL with why.
 */
hub_pool *hub_pool_new(hub_store *first, const char *where, unsigned size, char *why, size_t len);
/* Close every store (each must have been given back). */
void hub_pool_free(hub_pool *p);
unsigned hub_pool_size(const hub_pool *p);

hub_store *hub_pool_take(hub_pool *p);
/* A store when one is free at once, else NULL. */
hub_store *hub_pool_try_take(hub_pool *p);
void hub_pool_give(hub_pool *p, hub_store *st);

#endif
