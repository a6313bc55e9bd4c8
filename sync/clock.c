/*
 * clock — wall, monotonic and boot identity for check-ins; local-time parsing
 * and formatting for the command line and the screens; random record ids.
 */
#include "sync/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *clock_boot_id(void)
{
	static char id[40];
	if (id[0])
		return id;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (fgets(id, sizeof id, f))
			id[strcspn(id, "\r\n")] = '\0';
		fclose(f);
	}
	if (!id[0])
		snprintf(id, sizeof id, "unknown");
	return id;
}

static void local_tm(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);
	localtime_r(&t, tm);
}

void clock_local_date(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	local_tm(ms, &tm);
	snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void clock_local_hhmm(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	local_tm(ms, &tm);
	snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

void clock_local_iso(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	local_tm(ms, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min);
}

/* Read exactly n decimal digits from *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int parse_ymd(const char **p, int *y, int *m, int *d)
{
	if (digits(p, 4, y) || *(*p)++ != '-' || digits(p, 2, m) || *(*p)++ != '-' || digits(p, 2, d))
		return -1;
	if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int clock_parse_date(const char *s)
{
	int y, m, d;
	if (!s || parse_ymd(&s, &y, &m, &d) || *s)
		return -1;
	return 0;
}

int clock_parse_local(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0;
	if (!s || parse_ymd(&s, &y, &mo, &d))
		return -1;
	if (*s != 'T' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
		return -1;
	if (*s == ':' && (s++, digits(&s, 2, &sec)))
		return -1;
	if (*s || h > 23 || mi > 59 || sec > 59)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec,
			.tm_isdst = -1};
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	/* mktime() moves a time that does not exist (the hour skipped when
	 * summer time starts) to one that does: refuse it rather than shift it */
	struct tm back;
	if (!localtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
	    back.tm_mday != d || back.tm_hour != h || back.tm_min != mi)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

static pthread_once_t prefix_once = PTHREAD_ONCE_INIT;
static char run_prefix[33];
static int prefix_ok;

static void make_prefix(void)
{
	prefix_ok = clock_new_id(run_prefix) == 0;
}

int clock_seq_id(int64_t seq, char *out)
{
	pthread_once(&prefix_once, make_prefix);
	if (!prefix_ok)
		return -1;
	snprintf(out, 33, "%.20s%012llx", run_prefix, (unsigned long long)seq & 0xffffffffffffULL);
	return 0;
}

int clock_new_id(char *out)
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof b; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

int64_t clock_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void clock_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void clock_day_text(int64_t days, char out[11])
{
	int64_t y;
	unsigned m, d;
	clock_civil_from_days(days, &y, &m, &d);
	char buf[48];
	snprintf(buf, sizeof buf, "%04lld-%02u-%02u", (long long)(y % 10000), m % 100, d % 100);
	snprintf(out, 11, "%.10s", buf);
}
