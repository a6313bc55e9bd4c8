/*
 * bench — what the benchmarks share: a monotonic clock, percentiles, and the
 * budgets. Every figure is printed as a BENCH line; bench_budget() then holds
 * it against its budget (DESIGN.md's table). Run with --check
 * (bench_args()), a benchmark exits 1 when any figure is past its budget, and
 * says which on a "BUDGET ... over" line; without it the figures are only
 * reported.
 */
#ifndef TINGZI_BENCH_H
#define TINGZI_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int bench_checking; /* --check was given */
static int bench_over;     /* figures past their budget so far */

/* --check, or nothing; anything else is a usage error (exit 2). */
static inline void bench_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0) {
			bench_checking = 1;
		} else {
			fprintf(stderr, "usage: %s [--check]\n", argv[0]);
			exit(2);
		}
	}
}

/* Hold figure NAME's value against its budget: at most (at_most != 0) or at
 * least budget. Prints a BUDGET line either way; counts a miss. */
static inline void bench_budget(const char *name, double value, int at_most, double budget)
{
	int ok = at_most ? value <= budget : value >= budget;
	printf("BUDGET %s %g %s %g %s\n", name, value, at_most ? "<=" : ">=", budget, ok ? "ok" : "over");
	if (!ok)
		bench_over++;
}

/* main's exit status: 1 under --check when a figure was past its budget. */
static inline int bench_exit(void)
{
	fflush(stdout);
	if (bench_over)
		fprintf(stderr, "%d figure(s) past their budget%s\n", bench_over,
			bench_checking ? "" : " (reported only: run with --check to fail)");
	return bench_checking && bench_over ? 1 : 0;
}

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
