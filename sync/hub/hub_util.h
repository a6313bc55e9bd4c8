/*
 * hub_util — small things the hub's parts share: SHA-256, a venue's local
 * day and local time in its own time zone, the storage's error sentences.
 * (Ids, hex checks and the clock are sync/clock.h's and sync/check.h's.)
 */
#ifndef TINGZI_HUB_UTIL_H
#define TINGZI_HUB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A new single-use enrolment code, XXXX-XXXX-XXXX of 32 characters that
 * cannot be mistaken for one another (no 0/O, 1/I), and its SHA-256, which
 * is all the store keeps.
 */
void hub_enroll_code(char code[15], unsigned char hash[32]);

/* SHA-256 of len bytes. */
void hub_sha256(const void *data, size_t len, unsigned char out[32]);

/*
 * The venue-local date (YYYY-MM-DD) of ms in zone tz ("" or NULL: UTC).
 * The answer's day is cached in *cache, so a batch of one day costs one
 * zone look-up.
 */
typedef struct hub_day_cache {
	char tz[64];
	int64_t lo, hi; /* [lo, hi): the cached day, in ms */
	char day[11];
} hub_day_cache;
void hub_day(const char *tz, int64_t ms, hub_day_cache *cache, char out[11]);

/* "YYYY-MM-DDTHH:MM" (or a space for T) in zone tz, as Unix ms; -1 if malformed. */
int64_t hub_parse_local(const char *tz, const char *text);

/*
 * ms as "YYYY-MM-DD HH:MM" in zone tz ("" or NULL: UTC). The zone's offset is
 * cached per quarter hour in *cache (may be NULL; zero it, or set quarter -1, before the first call), so a page of 5000 times of
 * one evening looks the zone up a dozen times, not 5000.
 */
typedef struct hub_time_cache {
	char tz[64];
	int64_t quarter; /* ms / 900000 of the cached offset */
	long offset_s;
} hub_time_cache;
void hub_local_time(const char *tz, int64_t ms, hub_time_cache *cache, char out[17]);

/* The zone new venues get: $TZ, else /etc/timezone, else "UTC". */
void hub_default_tz(char *out, size_t len);
/* 1 when tz names a zone this machine knows. */
int hub_tz_valid(const char *tz);

#endif
