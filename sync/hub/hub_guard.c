/*
 * hub_guard — see hub_guard.h.
 *
 * The failure counts live in a fixed table (ADDR_SETS sets of ADDR_WAYS
 * entries, an address hashed to one set), so a flood of new addresses costs
 * no memory: it pushes out the entry whose window began longest ago.
 */
#include "sync/hub/hub_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define WINDOW_MS 60000
#define ADDR_SETS 512
#define ADDR_WAYS 8
#define LOG_KINDS 32
#define LOG_PER_MINUTE 10

typedef struct addr_entry {
	unsigned char key[17]; /* family, then up to 16 bytes of address */
	int used;
	int64_t window_ms; /* when its window began */
	unsigned failures, refused;
} addr_entry;

typedef struct log_kind {
	const void *key;
	char text[120];
	int64_t window_ms;
	unsigned written, left_out;
} log_kind;

typedef struct watch {
	int fd, shut;
	int64_t deadline_ms; /* monotonic */
	struct watch *prev, *next;
} watch;

struct hub_guard {
	hub_guard_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int stopping;
	size_t held;
	addr_entry addrs[ADDR_SETS * ADDR_WAYS];
	watch *watching;
	log_kind logs[LOG_KINDS];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hub_log_escape(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (!n)
		return;
	for (; s && *s && o + 1 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= n)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
}

/* ---- failures per address ---- */

static size_t addr_key(const struct sockaddr *sa, unsigned char key[17])
{
	memset(key, 0, 17);
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 5;
	}
	if (sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 17;
	}
	return 0;
}

static void addr_text(const unsigned char key[17], char *out, size_t n)
{
	if (!inet_ntop(key[0] == 4 ? AF_INET : AF_INET6, key + 1, out, (socklen_t)n))
		snprintf(out, n, "?");
}

/* Summary of an entry's refusals; the lock is held. */
static void summarise(addr_entry *a)
{
	char who[INET6_ADDRSTRLEN];
	if (!a->refused)
		return;
	addr_text(a->key, who, sizeof who);
	fprintf(stderr, "hub: %s: %u requests refused (429) in a minute after %u refusals (bad tokens or codes, malformed requests)\n",
		who, a->refused, a->failures);
	a->refused = 0;
}

/* The address's entry, made (in place of the stalest of its set) when make. Lock held. */
static addr_entry *addr_find(hub_guard *g, const struct sockaddr *sa, int64_t now, int make)
{
	unsigned char key[17];
	size_t len = addr_key(sa, key);
	if (!len)
		return NULL;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	addr_entry *set = &g->addrs[(h % ADDR_SETS) * ADDR_WAYS], *victim = &set[0];
	for (int i = 0; i < ADDR_WAYS; i++) {
		if (set[i].used && memcmp(set[i].key, key, sizeof key) == 0) {
			if (now - set[i].window_ms >= WINDOW_MS) {
				summarise(&set[i]);
				set[i].window_ms = now;
				set[i].failures = 0;
			}
			return &set[i];
		}
		if (!set[i].used || (victim->used && set[i].window_ms < victim->window_ms))
			victim = &set[i];
	}
	if (!make)
		return NULL;
	if (victim->used)
		summarise(victim);
	memset(victim, 0, sizeof *victim);
	memcpy(victim->key, key, sizeof key);
	victim->used = 1;
	victim->window_ms = now;
	return victim;
}

unsigned hub_guard_wait(hub_guard *g, const struct sockaddr *addr, int64_t now_ms)
{
	if (!g || !g->cfg.failures_per_minute)
		return 0;
	unsigned wait = 0;
	pthread_mutex_lock(&g->lock);
	addr_entry *a = addr_find(g, addr, now_ms, 0);
	if (a && a->failures >= g->cfg.failures_per_minute) {
		a->refused++;
		wait = (unsigned)((a->window_ms + WINDOW_MS - now_ms + 999) / 1000);
		if (!wait)
			wait = 1;
	}
	pthread_mutex_unlock(&g->lock);
	return wait;
}

void hub_guard_failed(hub_guard *g, const struct sockaddr *addr, int64_t now_ms)
{
	if (!g || !g->cfg.failures_per_minute)
		return;
	pthread_mutex_lock(&g->lock);
	addr_entry *a = addr_find(g, addr, now_ms, 1);
	if (a)
		a->failures++;
	pthread_mutex_unlock(&g->lock);
}

/* ---- log lines of one kind ---- */

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The count of lines left out of a kind's window; the lock is held. */
static void log_summarise(log_kind *k)
{
	if (k->left_out)
		fprintf(stderr, "hub: %u more lines like \"%s\" in a minute, left out\n", k->left_out, k->text);
	k->left_out = 0;
}

int hub_guard_log_ok(hub_guard *g, const void *key, const char *text)
{
	if (!g)
		return 1;
	int64_t now = wall_ms();
	int ok = 1;
	pthread_mutex_lock(&g->lock);
	log_kind *k = NULL, *oldest = &g->logs[0];
	for (int i = 0; i < LOG_KINDS && !k; i++) {
		if (g->logs[i].key == key)
			k = &g->logs[i];
		else if (g->logs[i].window_ms < oldest->window_ms)
			oldest = &g->logs[i];
	}
	if (!k) {
		log_summarise(oldest);
		k = oldest;
		memset(k, 0, sizeof *k);
		k->key = key;
		k->window_ms = now;
	}
	if (now - k->window_ms >= WINDOW_MS) {
		log_summarise(k);
		k->window_ms = now;
		k->written = 0;
	}
	snprintf(k->text, sizeof k->text, "%s", text);
	if (k->written < LOG_PER_MINUTE)
		k->written++;
	else {
		k->left_out++;
		ok = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}

/* ---- the body budget ---- */

int hub_guard_take(hub_guard *g, size_t n)
{
	int ok;
	pthread_mutex_lock(&g->lock);
	ok = n <= g->cfg.body_budget - g->held;
	if (ok)
		g->held += n;
	pthread_mutex_unlock(&g->lock);
	return ok ? 0 : -1;
}

void hub_guard_give(hub_guard *g, size_t n)
{
	pthread_mutex_lock(&g->lock);
	g->held -= n < g->held ? n : g->held;
	pthread_mutex_unlock(&g->lock);
}

size_t hub_guard_held(hub_guard *g)
{
	pthread_mutex_lock(&g->lock);
	size_t n = g->held;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- connection deadlines ---- */

void hub_guard_watch_start(hub_guard *g, int fd, void **slot)
{
	watch *w = calloc(1, sizeof *w);
	*slot = w;
	if (!w)
		return; /* this connection is not watched; the idle timeout still ends it */
	w->fd = fd;
	pthread_mutex_lock(&g->lock);
	w->deadline_ms = mono_ms() + (int64_t)g->cfg.request_seconds * 1000;
	w->next = g->watching;
	if (g->watching)
		g->watching->prev = w;
	g->watching = w;
	pthread_mutex_unlock(&g->lock);
}

void hub_guard_watch_renew(hub_guard *g, void *slot)
{
	watch *w = slot;
	if (!w)
		return;
	pthread_mutex_lock(&g->lock);
	w->deadline_ms = mono_ms() + (int64_t)g->cfg.request_seconds * 1000;
	pthread_mutex_unlock(&g->lock);
}

void hub_guard_watch_end(hub_guard *g, void **slot)
{
	watch *w = *slot;
	if (!w)
		return;
	pthread_mutex_lock(&g->lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		g->watching = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&g->lock);
	free(w);
	*slot = NULL;
}

static void *watcher(void *arg)
{
	hub_guard *g = arg;
	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
		int64_t now = mono_ms();
		unsigned shut = 0;
		for (watch *w = g->watching; w; w = w->next)
			if (!w->shut && now > w->deadline_ms) {
				shutdown(w->fd, SHUT_RDWR);
				w->shut = 1;
				shut++;
			}
		if (shut)
			fprintf(stderr, "hub: %u connection%s closed: a request took longer than %u s\n", shut,
				shut == 1 ? "" : "s", g->cfg.request_seconds);
		int64_t wall = wall_ms();
		for (size_t i = 0; i < ADDR_SETS * ADDR_WAYS; i++)
			if (g->addrs[i].used && g->addrs[i].refused && wall - g->addrs[i].window_ms >= WINDOW_MS) {
				summarise(&g->addrs[i]);
				g->addrs[i].used = 0;
			}
		for (int i = 0; i < LOG_KINDS; i++)
			if (g->logs[i].left_out && wall - g->logs[i].window_ms >= WINDOW_MS) {
				log_summarise(&g->logs[i]);
				g->logs[i].window_ms = wall;
				g->logs[i].written = 0;
			}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

hub_guard *hub_guard_new(const hub_guard_config *cfg)
{
	hub_guard *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->cfg = *cfg;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (pthread_create(&g->thread, NULL, watcher, g) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

void hub_guard_free(hub_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	for (size_t i = 0; i < ADDR_SETS * ADDR_WAYS; i++)
		if (g->addrs[i].used)
			summarise(&g->addrs[i]);
	for (int i = 0; i < LOG_KINDS; i++)
		log_summarise(&g->logs[i]);
	while (g->watching) {
		watch *w = g->watching;
		g->watching = w->next;
		free(w);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
