/*
 * hub_pool — see hub_pool.h.
 */
#include "sync/hub/hub_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct hub_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned size, nfree;
	hub_store *all[HUB_POOL_MAX];
	hub_store *free[HUB_POOL_MAX];
};

hub_pool *hub_pool_new(hub_store *first, const char *where, unsigned size, char *why, size_t len)
{
	hub_pool *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	if (size < 1 || !hub_store_is_pg(where))
		size = 1;
	if (size > HUB_POOL_MAX)
		size = HUB_POOL_MAX;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->all[p->size++] = first;
	while (p->size < size) {
		hub_store *st = hub_store_open(where, why, len);
		if (!st) {
			p->all[0] = NULL; /* the caller's still */
			hub_pool_free(p);
			return NULL;
		}
		p->all[p->size++] = st;
	}
	for (unsigned i = 0; i < p->size; i++)
		p->free[p->nfree++] = p->all[i];
	return p;
}

void hub_pool_free(hub_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->size; i++)
		if (p->all[i])
			p->all[i]->ops->close(p->all[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p);
}

unsigned hub_pool_size(const hub_pool *p)
{
	return p->size;
}

hub_store *hub_pool_take(hub_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->nfree == 0)
		pthread_cond_wait(&p->freed, &p->lock);
	hub_store *st = p->free[--p->nfree];
	pthread_mutex_unlock(&p->lock);
	return st;
}

hub_store *hub_pool_try_take(hub_pool *p)
{
	pthread_mutex_lock(&p->lock);
	hub_store *st = p->nfree ? p->free[--p->nfree] : NULL;
	pthread_mutex_unlock(&p->lock);
	return st;
}

void hub_pool_give(hub_pool *p, hub_store *st)
{
	pthread_mutex_lock(&p->lock);
	p->free[p->nfree++] = st;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}
