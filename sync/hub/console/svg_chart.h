/*
 * svg_chart — the dashboard's charts, drawn by the hub as SVG into a page:
 * no script, no chart library in the browser.
 *
 * A chart is as wide as its card (width 100%) and as tall as its class says
 * in console.css (the height attribute is the same, for a page without the
 * stylesheet). Positions across are percentages and text is never stretched,
 * so a chart reads the same on a 390 px phone and a 1440 px laptop: labels
 * under the bars thin out on a phone (the ones marked "wide" are hidden
 * there), and the values printed on bars are kept when there are few bars.
 * Lines are drawn in an inner viewBox stretched to the plot, with strokes
 * that keep their width.
 *
 * Every chart carries a <title> and a <desc> for screen readers, and meaning
 * never rests on colour alone: the second series of stacked bars is hatched,
 * lines differ by their dashes, and the page puts the same numbers in a table
 * under the chart. Every label and title goes through html escaping: they are
 * the caller's (event titles, member names, tiers).
 */
#ifndef TINGZI_HUB_SVG_CHART_H
#define TINGZI_HUB_SVG_CHART_H

#include "sync/hub/console/html.h"

#include <stddef.h>
#include <stdint.h>

#define SVG_SERIES_MAX 6 /* lines in one chart (each its own dash); more are left out by the caller */

typedef struct svg_chart {
	const char *id;		 /* unique on the page, [a-z0-9-] only: the ids of its title, desc and hatching */
	const char *title, *desc; /* what a screen reader says of the chart */
	const char *empty;	 /* said in place of the chart when there is nothing to draw */
	const char *series[SVG_SERIES_MAX]; /* the legend's names (bars: [0] below, [1] stacked on it, or NULL) */
	int height;			    /* px; 0: the default of the chart's kind */
	int cjk; /* the axis' values of 10 000 and more in 万 and 亿 (Chinese); 0: of 1 000 and more in k and M */
} svg_chart;

/* One bar: a, with b stacked on it (0 in a chart of one series). Negative values count as 0. */
typedef struct svg_bar {
	const char *label; /* under the bar (NULL: none) */
	const char *tip;   /* the bar's title, shown on hover (NULL: the label and the values) */
	const char *href;  /* where a click on the bar leads (NULL: nowhere); markup-safe, it is escaped */
	int64_t a, b;
} svg_bar;

/* Vertical bars, stacked when ch->series[1] is set; the legend under it when there are two series. */
void svg_bars(html *h, const svg_chart *ch, const svg_bar *bars, size_t n);

/* One horizontal bar: the label above it, the value's text beside it. */
typedef struct svg_hbar {
	const char *label;
	const char *value; /* the text beside the bar ("123 · 45%"); NULL: the number v */
	const char *href;
	int64_t v;
} svg_hbar;

/* Horizontal bars, longest = max(v) (a funnel, members by tier). */
void svg_hbars(html *h, const svg_chart *ch, const svg_hbar *rows, size_t n);

/*
 * Lines: ns series (at most SVG_SERIES_MAX, named in ch->series) over nx
 * points; the value of series s at point i is values[s * nx + i]. xlabels[i]
 * names point i (NULL entries: no label).
 */
void svg_lines(html *h, const svg_chart *ch, const char *const *xlabels, size_t nx, const int64_t *values,
	       size_t ns);

/*
 * The heat map's shade of num out of den: 0 for none, 10 for all, and in
 * between one step per 10% (rounded down), at least 1 for any share above
 * none so that a single member seen again is visible. -1 when there is no
 * share (den <= 0 or num < 0: a month not yet come).
 */
int svg_heat_step(int64_t num, int64_t den);

/* A "nice" top of a value axis for max, and the step between its ticks (1, 2 or 5 times a power of ten). */
int64_t svg_axis_top(int64_t max, int64_t *step);

/* An axis' value, short: "150k", "2.5M" (cjk 0), or "15万", "1.2亿" (cjk 1); small values as they are. */
const char *svg_short(int64_t v, int cjk, char out[24]);

#endif
