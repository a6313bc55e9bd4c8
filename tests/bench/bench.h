/* bench — what the benchmarks share: a monotonic clock and percentiles. */
#ifndef TINGZI_BENCH_H
#define TINGZI_BENCH_H

#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds, with fractions. */
static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile of v[0..n) (sorts v; nearest rank). */
static inline double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, cmp_double);
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

#endif
