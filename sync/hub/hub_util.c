/*
 * hub_util — see hub_util.h.
 *
 * Time zones: the C library knows one zone at a time (TZ), so a venue's
 * zone is switched in under a lock, used, and switched back. Days are
 * cached as [midnight, next midnight) so a batch of 1000 check-ins of one
 * evening looks the zone up once.
 */
#include "sync/hub/hub_util.h"
#include "sync/hub/hub_store.h"
#include "sync/check.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

void hub_sha256(const void *data, size_t len, unsigned char out[32])
{
	crypto_hash_sha256(out, data, len);
}

void hub_enroll_code(char code[15], unsigned char hash[32])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (int i = 0; i < 14; i++)
		code[i] = (i == 4 || i == 9) ? '-' : alphabet[randombytes_uniform(32)];
	code[14] = '\0';
	hub_sha256(code, 14, hash);
}

/* Run with the zone switched to tz; the caller holds tz_lock. */
static char *zone_in(const char *tz)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	setenv("TZ", tz && tz[0] ? tz : "UTC", 1);
	tzset();
	return saved;
}

static void zone_out(char *saved)
{
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void hub_day(const char *tz, int64_t ms, hub_day_cache *cache, char out[11])
{
	const char *zone = tz ? tz : "";
	if (ms < -62135596800000LL || ms > 253402300799999LL) { /* outside years 1 to 9999 */
		memcpy(out, "0000-00-00", 11);
		return;
	}
	if (cache && strcmp(cache->tz, zone) == 0 && ms >= cache->lo && ms < cache->hi) {
		memcpy(out, cache->day, 11);
		return;
	}
	pthread_mutex_lock(&tz_lock);
	char *saved = zone_in(zone);
	time_t t = (time_t)floor_div(ms, 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	struct tm a = tm, b = tm;
	a.tm_hour = a.tm_min = a.tm_sec = 0;
	a.tm_isdst = -1;
	b.tm_hour = b.tm_min = b.tm_sec = 0;
	b.tm_mday++;
	b.tm_isdst = -1;
	int64_t lo = (int64_t)mktime(&a) * 1000, hi = (int64_t)mktime(&b) * 1000;
	zone_out(saved);
	pthread_mutex_unlock(&tz_lock);
	if (cache && lo <= ms && ms < hi) {
		snprintf(cache->tz, sizeof cache->tz, "%s", zone);
		cache->lo = lo;
		cache->hi = hi;
		memcpy(cache->day, out, 11);
	}
}

int64_t hub_parse_local(const char *tz, const char *text)
{
	int y, mo, d, h, mi;
	char sep, extra;
	if (!text || sscanf(text, "%4d-%2d-%2d%c%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &extra) != 6 ||
	    (sep != 'T' && sep != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || y < 1970)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
			.tm_isdst = -1};
	pthread_mutex_lock(&tz_lock);
	char *saved = zone_in(tz);
	time_t t = mktime(&tm);
	zone_out(saved);
	pthread_mutex_unlock(&tz_lock);
	if (t == (time_t)-1 || tm.tm_mday != d) /* 31 February */
		return -1;
	return (int64_t)t * 1000;
}

void hub_local_time(const char *tz, int64_t ms, hub_time_cache *cache, char out[17])
{
	const char *zone = tz ? tz : "";
	if (ms < 0 || ms > 253402300799999LL) {
		memcpy(out, "----------------", 17);
		return;
	}
	/* A zone's offset changes only on an hour boundary (or a half or quarter
	 * hour): one look-up serves every time of the same quarter hour. */
	hub_time_cache local = {.quarter = -1};
	if (!cache)
		cache = &local;
	int64_t quarter = ms / 900000;
	if (strcmp(cache->tz, zone) != 0 || cache->quarter != quarter) {
		time_t t = (time_t)(quarter * 900);
		struct tm tm;
		pthread_mutex_lock(&tz_lock);
		char *saved = zone_in(zone);
		localtime_r(&t, &tm);
		zone_out(saved);
		pthread_mutex_unlock(&tz_lock);
		snprintf(cache->tz, sizeof cache->tz, "%s", zone);
		cache->quarter = quarter;
		cache->offset_s = tm.tm_gmtoff;
	}
	time_t lt = (time_t)(ms / 1000) + cache->offset_s;
	struct tm tm;
	gmtime_r(&lt, &tm);
	char text[64];
	snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min);
	snprintf(out, 17, "%.16s", text);
}

int hub_tz_valid(const char *tz)
{
	if (!tz || !tz[0] || strlen(tz) >= 64 || strstr(tz, "..") || tz[0] == '/')
		return 0;
	if (strcmp(tz, "UTC") == 0)
		return 1;
	char path[128];
	struct stat st;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void hub_default_tz(char *out, size_t len)
{
	const char *env = getenv("TZ");
	if (env && hub_tz_valid(env[0] == ':' ? env + 1 : env)) {
		snprintf(out, len, "%s", env[0] == ':' ? env + 1 : env);
		return;
	}
	char buf[64] = "";
	FILE *f = fopen("/etc/timezone", "r");
	if (f) {
		if (fgets(buf, sizeof buf, f))
			buf[strcspn(buf, "\r\n ")] = '\0';
		fclose(f);
	}
	snprintf(out, len, "%s", hub_tz_valid(buf) ? buf : "UTC");
}

const char *hub_strerror(hub_err e)
{
	switch (e) {
	case HUB_OK: return "ok";
	case HUB_ERR: return "the storage failed";
	case HUB_BUSY: return "the storage is busy";
	case HUB_NOT_FOUND: return "not found";
	case HUB_EXISTS: return "already there";
	case HUB_INVALID: return "a value the storage refuses";
	case HUB_CODE_INVALID: return "the enrolment code is unknown, used or expired";
	case HUB_DOWN: return "the database cannot be reached";
	}
	return "unknown error";
}

static const char *const role_names[] = {
    [HUB_ROLE_STAFF] = "staff",
    [HUB_ROLE_ORGANIZER] = "organizer",
    [HUB_ROLE_OWNER] = "owner",
};

const char *hub_role_name(hub_role r)
{
	return r > HUB_ROLE_NONE && r <= HUB_ROLE_OWNER ? role_names[r] : "none";
}

int hub_role_parse(const char *name, hub_role *out)
{
	for (int r = HUB_ROLE_STAFF; r <= HUB_ROLE_OWNER; r++)
		if (name && strcmp(name, role_names[r]) == 0) {
			*out = (hub_role)r;
			return 0;
		}
	return -1;
}
