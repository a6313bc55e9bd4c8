/*
 * hub_guard — what keeps one client from starving the hub for everyone else.
 *
 * The HTTP server (hub_http.c) asks it four things:
 * - may this address try again? Refused requests that take a token or a code
 *   (bad tokens and codes, malformed or oversized bodies) are counted
 *   per client address in a window of a minute; past the limit every request
 *   that needs a token or a code is answered 429 with Retry-After until the
 *   window ends. Refused requests are not logged one by one: one summary line
 *   per address and window says how many there were.
 * - may this request hold n more bytes of body? All requests together hold at
 *   most a fixed budget of body bytes (as sent and as inflated); a request
 *   past it is answered 503 with Retry-After.
 * - when must a connection go? Every connection is watched from the moment it
 *   is accepted: one request (headers and body, and the answer) must be done
 *   within a deadline, counted again after each request. A thread looks once
 *   a second and shuts down the socket of a connection past its deadline;
 *   libmicrohttpd then closes it as it would any connection the client ended.
 *   (The socket is shut down, not closed, so its descriptor cannot be reused
 *   under libmicrohttpd's feet; a connection leaves the watch list under the
 *   same lock before libmicrohttpd closes it.)
 * - the summary lines above, written by the same thread.
 *
 * Everything here is per hub process: several hubs behind one proxy each keep
 * their own counts (a client is limited by whichever node it reaches).
 */
#ifndef TINGZI_HUB_GUARD_H
#define TINGZI_HUB_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct hub_guard hub_guard;

typedef struct hub_guard_config {
	unsigned failures_per_minute; /* failed tokens and codes per address; 0: no limit */
	size_t body_budget;	      /* bytes of bodies all requests may hold together */
	unsigned request_seconds;     /* deadline of one request on a connection */
} hub_guard_config;

/* The guard and its watch thread; NULL when out of memory or threads. Call hub_guard_free(). */
hub_guard *hub_guard_new(const hub_guard_config *cfg);
/* Stops the thread, writes the last summaries. NULL does nothing. */
void hub_guard_free(hub_guard *g);

/* Seconds the address must wait (it is past its failure limit), or 0. Counts the refusal. */
unsigned hub_guard_wait(hub_guard *g, const struct sockaddr *addr, int64_t now_ms);
/* One failed token or enrolment code from the address. */
void hub_guard_failed(hub_guard *g, const struct sockaddr *addr, int64_t now_ms);

/* Takes n bytes of the body budget: 0, or -1 when the budget has not that much left. */
int hub_guard_take(hub_guard *g, size_t n);
/* Gives back n bytes taken with hub_guard_take(). */
void hub_guard_give(hub_guard *g, size_t n);
/* Bytes of the budget held now (for the health answer and tests). */
size_t hub_guard_held(hub_guard *g);

/* A connection on socket fd was accepted; *slot is what hub_guard_watch_* take after. */
void hub_guard_watch_start(hub_guard *g, int fd, void **slot);
/* A request on the connection ended: its next request gets a new deadline. */
void hub_guard_watch_renew(hub_guard *g, void *slot);
/* The connection closes: it leaves the watch list before its socket is closed. */
void hub_guard_watch_end(hub_guard *g, void **slot);

/*
 * 1 when a line of kind key (the same key for the same kind of message, e.g.
 * its format string) may be written now: at most 10 a minute for each kind;
 * the rest are counted, and one line says how many were left out.
 */
int hub_guard_log_ok(hub_guard *g, const void *key, const char *text);

/* Writes s into out (size n) with control characters, DEL and backslash as \xHH. */
void hub_log_escape(const char *s, char *out, size_t n);

#endif
