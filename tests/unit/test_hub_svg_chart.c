/*
 * svg_chart: the dashboard's SVG charts. The bars' drawn heights and widths
 * are read back from the markup and must be in proportion to the values;
 * labels, tips and titles from outside come out escaped and never as markup;
 * a chart with nothing to draw says so instead; the heat map's shades step
 * every 10%.
 */
#include "sync/hub/console/svg_chart.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The values of attribute attr of every element starting with tag_start (e.g. "<rect class=\"sa\""). */
static size_t attrs(const char *doc, const char *tag_start, const char *attr, char out[][32], size_t max)
{
	size_t n = 0;
	char key[40];
	snprintf(key, sizeof key, " %s=\"", attr);
	for (const char *p = strstr(doc, tag_start); p && n < max; p = strstr(p + 1, tag_start)) {
		const char *end = strchr(p, '>');
		const char *a = strstr(p, key);
		assert_non_null(end);
		if (!a || a > end)
			continue;
		a += strlen(key);
		size_t len = strcspn(a, "\"");
		assert_true(len < 32);
		memcpy(out[n], a, len);
		out[n][len] = 0;
		n++;
	}
	return n;
}

static size_t count(const char *doc, const char *s)
{
	size_t n = 0;
	for (const char *p = strstr(doc, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

static char *take(html *h)
{
	assert_false(h->oom);
	char *s = html_take(h, NULL);
	assert_non_null(s);
	return s;
}

static void bars_in_proportion(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "t1", .title = "Visits per week", .desc = "d", .empty = "Nothing", .height = 220};
	svg_bar b[4] = {{"a", NULL, NULL, 10, 0}, {"b", NULL, NULL, 5, 0}, {"c", NULL, NULL, 0, 0},
			{"d", NULL, NULL, 4, 0}};
	svg_bars(&h, &ch, b, 4);
	char *doc = take(&h);
	char hv[8][32], yv[8][32];
	/* the empty bar draws nothing: three bars */
	assert_int_equal(attrs(doc, "<rect class=\"sa\"", "height", hv, 8), 3);
	assert_int_equal(attrs(doc, "<rect class=\"sa\"", "y", yv, 8), 3);
	int h10 = atoi(hv[0]), h5 = atoi(hv[1]), h4 = atoi(hv[2]);
	assert_true(h10 > 100); /* most of the 220 px */
	assert_int_equal(h10, 2 * h5);
	assert_true(abs(h4 * 10 - h10 * 4) <= 10); /* rounded to a px */
	/* bars stand on one baseline */
	assert_int_equal(atoi(yv[0]) + h10, atoi(yv[1]) + h5);
	assert_int_equal(atoi(yv[0]) + h10, atoi(yv[2]) + h4);
	/* four slots across the whole width, each a quarter */
	char xv[8][32];
	assert_int_equal(attrs(doc, "<rect class=\"hit\"", "width", xv, 8), 4);
	assert_string_equal(xv[0], "25.00%");
	assert_int_equal(attrs(doc, "<rect class=\"hit\"", "x", xv, 8), 4);
	assert_string_equal(xv[3], "75.00%");
	/* few bars: each value printed on its bar, so it reads in print and without colour */
	assert_non_null(strstr(doc, ">10</text>"));
	assert_non_null(strstr(doc, ">5</text>"));
	/* title and desc for screen readers, named by the svg */
	assert_non_null(strstr(doc, "aria-labelledby=\"t1-t t1-d\""));
	assert_non_null(strstr(doc, "<title id=\"t1-t\">Visits per week</title>"));
	assert_non_null(strstr(doc, "width=\"100%\""));
	assert_null(strstr(doc, "Nothing"));
	free(doc);
}

static void stacked_bars(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "st", .title = "t", .empty = "e", .series = {"First-timers", "Returning"}};
	svg_bar b[2] = {{"w1", NULL, "/x?list=week&monday=2026-11-02", 3, 1}, {"w2", NULL, NULL, 0, 8}};
	svg_bars(&h, &ch, b, 2);
	char *doc = take(&h);
	char ha[4][32], hb[4][32], yb[4][32];
	assert_int_equal(attrs(doc, "<rect class=\"sa\"", "height", ha, 4), 1);
	assert_int_equal(attrs(doc, "<rect class=\"sb\"", "height", hb, 4), 2);
	attrs(doc, "<rect class=\"sb\"", "y", yb, 4);
	/* top 8: the second bar is the plot's full height, the first half of it, split 3:1 */
	int full = atoi(hb[1]);
	assert_int_equal(atoi(ha[0]) + atoi(hb[0]), full / 2);
	assert_true(abs(atoi(ha[0]) - 3 * atoi(hb[0])) <= 3);
	/* the second series is hatched (meaning not by colour alone), and the legend names both */
	assert_non_null(strstr(doc, "<pattern id=\"st-hatch\""));
	assert_int_equal(count(doc, "fill=\"url(#st-hatch)\""), 3); /* two bars and the legend's key */
	assert_non_null(strstr(doc, "First-timers</span>"));
	assert_non_null(strstr(doc, "Returning</span>"));
	/* a bar leads to its members; the & of the address is escaped in the markup */
	assert_non_null(strstr(doc, "<a href=\"/x?list=week&amp;monday=2026-11-02\""));
	assert_non_null(strstr(doc, ">4</text>"));
	free(doc);
}

static void labels_escaped(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "x", .title = "<script>alert(1)</script>", .desc = "a \"quoted\" <b>",
			.empty = "<script>", .series = {"<script>", "<i>b</i>"}};
	svg_bar b[2] = {{"<script>", "<script>tip", "\"><script>", 2, 1}, {"O'Brien & <b>", NULL, NULL, 1, 0}};
	svg_bars(&h, &ch, b, 2);
	svg_hbar r[1] = {{"<script>", "<script>", "/a?b=<script>", 3}};
	svg_hbars(&h, &ch, r, 1);
	const char *xl[2] = {"<script>", NULL};
	int64_t v[2] = {1, 2};
	svg_lines(&h, &ch, xl, 2, v, 1);
	svg_bars(&h, &ch, b, 0); /* the empty state's text too */
	char *doc = take(&h);
	assert_null(strstr(doc, "<script"));
	assert_null(strstr(doc, "<b>"));
	assert_null(strstr(doc, "<i>"));
	assert_true(count(doc, "&lt;script&gt;") >= 8);
	assert_non_null(strstr(doc, "O&#39;Brien &amp; &lt;b&gt;"));
	assert_non_null(strstr(doc, "a &quot;quoted&quot;"));
	free(doc);
}

static void empty_and_negative(void **state)
{
	(void)state;
	svg_chart ch = {.id = "e", .title = "t", .empty = "No visits in this period.", .series = {"a", "b"}};
	svg_bar zero[3] = {{"a", NULL, NULL, 0, 0}, {"b", NULL, NULL, -5, 0}, {"c", NULL, NULL, 0, -2}};
	int64_t lz[3] = {0, -1, 0};
	svg_hbar hz[2] = {{"a", NULL, NULL, 0}, {"b", NULL, NULL, -3}};
	for (int k = 0; k < 5; k++) {
		html h;
		html_init(&h);
		if (k == 0)
			svg_bars(&h, &ch, zero, 0);
		else if (k == 1)
			svg_bars(&h, &ch, zero, 3); /* zero and negative: max 0 */
		else if (k == 2)
			svg_lines(&h, &ch, (const char *const[]){"a", "b", "c"}, 3, lz, 1);
		else if (k == 3)
			svg_hbars(&h, &ch, hz, 2);
		else
			svg_lines(&h, &ch, NULL, 0, NULL, 0);
		char *doc = take(&h);
		assert_non_null(strstr(doc, ">No visits in this period.</text>"));
		assert_null(strstr(doc, "class=\"sa\""));
		assert_null(strstr(doc, "<polyline"));
		assert_non_null(strstr(doc, "<title id=\"e-t\">t</title>"));
		assert_non_null(strstr(doc, "</svg>"));
		free(doc);
	}
	/* a negative value among positive ones counts as nothing, not as a bar below the axis */
	html h;
	html_init(&h);
	svg_bar mix[2] = {{"a", NULL, NULL, -4, 0}, {"b", NULL, NULL, 4, 0}};
	svg_bars(&h, &ch, mix, 2);
	char *doc = take(&h);
	char hv[4][32];
	assert_int_equal(attrs(doc, "<rect class=\"sa\"", "height", hv, 4), 1);
	assert_null(strstr(doc, "height=\"-"));
	free(doc);
}

static void hbars_in_proportion(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "f", .title = "Funnel", .empty = "e"};
	svg_hbar r[4] = {{"1st visit", "200 · 100%", "/l?n=1", 200},
			 {"2nd visit", "100 · 50%", NULL, 100},
			 {"3rd visit", "50 · 25%", NULL, 50},
			 {"10th visit", "0 · 0%", NULL, 0}};
	svg_hbars(&h, &ch, r, 4);
	char *doc = take(&h);
	char w[8][32];
	assert_int_equal(attrs(doc, "<rect class=\"sa\"", "width", w, 8), 3);
	assert_string_equal(w[0], "75.00%");
	assert_string_equal(w[1], "37.50%");
	assert_string_equal(w[2], "18.75%");
	/* every row's value is written beside its bar, the empty one too */
	assert_non_null(strstr(doc, ">200 · 100%</text>"));
	assert_non_null(strstr(doc, ">0 · 0%</text>"));
	assert_non_null(strstr(doc, ">10th visit</text>"));
	free(doc);
}

static void lines_in_proportion(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "r", .title = "Redirects", .empty = "e", .series = {"tea", "<club>"}, .height = 226};
	const char *xl[4] = {"11-01", "11-02", "11-03", "11-04"};
	int64_t v[8] = {0, 4, 8, 2, /* tea */ 1, 1, 0, 0 /* club */};
	svg_lines(&h, &ch, xl, 4, v, 2);
	char *doc = take(&h);
	/* plot 226 - 14 - 26 = 186 px, top 8: y = 186 - v * 186 / 8 */
	assert_non_null(strstr(doc, "points=\"1,186 3,93 5,0 7,140\""));
	assert_non_null(strstr(doc, "viewBox=\"0 0 8 186\" preserveAspectRatio=\"none\""));
	assert_int_equal(count(doc, "<polyline"), 2);
	/* the second series is dashed, and named in the legend, escaped */
	assert_non_null(strstr(doc, "stroke-dasharray=\"7 4\" points=\"1,163 3,163 5,186 7,186\""));
	assert_non_null(strstr(doc, "&lt;club&gt;</span>"));
	assert_non_null(strstr(doc, ">11-03</text>"));
	free(doc);
}

static void crowded_labels_thin_out(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	svg_chart ch = {.id = "w", .title = "t", .empty = "e"};
	svg_bar b[53];
	char lab[53][8];
	for (int i = 0; i < 53; i++) {
		snprintf(lab[i], sizeof lab[i], "L%02d", i);
		b[i] = (svg_bar){lab[i], NULL, NULL, i + 1, 0};
	}
	svg_bars(&h, &ch, b, 53);
	char *doc = take(&h);
	size_t all = count(doc, "<text class=\"xl"), wide = count(doc, "<text class=\"xl wide\"");
	/* at most 14 labels on a laptop, at most 6 on a phone */
	assert_true(all <= 14 && all >= 10);
	assert_true(all - wide <= 6 && all - wide >= 4);
	/* 53 values would crowd: none printed */
	assert_null(strstr(doc, "class=\"v"));
	free(doc);
}

static void heat_steps(void **state)
{
	(void)state;
	assert_int_equal(svg_heat_step(0, 10), 0);
	assert_int_equal(svg_heat_step(1, 100), 1); /* one member seen again shows */
	assert_int_equal(svg_heat_step(1, 10), 1);
	assert_int_equal(svg_heat_step(19, 100), 1);
	assert_int_equal(svg_heat_step(20, 100), 2);
	assert_int_equal(svg_heat_step(55, 100), 5);
	assert_int_equal(svg_heat_step(99, 100), 9);
	assert_int_equal(svg_heat_step(100, 100), 10);
	assert_int_equal(svg_heat_step(7, 7), 10);
	assert_int_equal(svg_heat_step(3, 0), -1);
	assert_int_equal(svg_heat_step(-1, 40), -1); /* a month not yet come */
}

static void axis_tops(void **state)
{
	(void)state;
	int64_t step;
	assert_int_equal(svg_axis_top(1, &step), 1);
	assert_int_equal(step, 1);
	assert_int_equal(svg_axis_top(3, &step), 3);
	assert_int_equal(svg_axis_top(7, &step), 8);
	assert_int_equal(step, 2);
	assert_int_equal(svg_axis_top(10, &step), 10);
	assert_int_equal(step, 5);
	assert_int_equal(svg_axis_top(100, &step), 100);
	assert_int_equal(step, 50);
	assert_int_equal(svg_axis_top(101, &step), 150);
	assert_int_equal(svg_axis_top(2000000, &step), 2000000);
	assert_int_equal(step, 500000);
	assert_int_equal(svg_axis_top(0, &step), 1);
	assert_int_equal(svg_axis_top(-5, &step), 1);
}

static void short_values(void **state)
{
	(void)state;
	char b[24];
	assert_string_equal(svg_short(0, 0, b), "0");
	assert_string_equal(svg_short(950, 0, b), "950");
	assert_string_equal(svg_short(1000, 0, b), "1k");
	assert_string_equal(svg_short(2500, 0, b), "2.5k");
	assert_string_equal(svg_short(150000, 0, b), "150k");
	assert_string_equal(svg_short(2000000, 0, b), "2M");
	assert_string_equal(svg_short(2500000, 0, b), "2.5M");
	/* Chinese counts in 万 (10 000) and 亿 (100 000 000) */
	assert_string_equal(svg_short(5000, 1, b), "5000");
	assert_string_equal(svg_short(10000, 1, b), "1万");
	assert_string_equal(svg_short(150000, 1, b), "15万");
	assert_string_equal(svg_short(25000, 1, b), "2.5万");
	assert_string_equal(svg_short(200000000, 1, b), "2亿");
	/* the axis of a chart says them so */
	html h;
	html_init(&h);
	svg_chart ch = {.id = "k", .title = "t", .empty = "e", .cjk = 1};
	svg_bar bars[2] = {{"a", NULL, NULL, 150000, 0}, {"b", NULL, NULL, 90000, 0}};
	svg_bars(&h, &ch, bars, 2);
	char *doc = take(&h);
	assert_non_null(strstr(doc, "paint-order=\"stroke\" font-size=\"11\">15万</text>"));
	assert_null(strstr(doc, "paint-order=\"stroke\" font-size=\"11\">150000</text>"));
	/* the bars' own values stay exact */
	assert_non_null(strstr(doc, ">150000</text>"));
	assert_non_null(strstr(doc, ">90000</text>"));
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bars_in_proportion), cmocka_unit_test(stacked_bars),
	    cmocka_unit_test(labels_escaped),	  cmocka_unit_test(empty_and_negative),
	    cmocka_unit_test(hbars_in_proportion), cmocka_unit_test(lines_in_proportion),
	    cmocka_unit_test(crowded_labels_thin_out), cmocka_unit_test(heat_steps),
	    cmocka_unit_test(axis_tops), cmocka_unit_test(short_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
