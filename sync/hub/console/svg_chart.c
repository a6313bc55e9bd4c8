/*
 * svg_chart — see svg_chart.h.
 *
 * Across, everything is placed in percentages of the chart's width, written
 * in hundredths of a percent (10000 is the whole width) so that no floating
 * point reaches the markup; down, in px of the chart's fixed height. Fills
 * and sizes are attributes as well as CSS classes, so a chart saved on its
 * own still draws.
 */
#include "sync/hub/console/svg_chart.h"

#include <stdio.h>
#include <string.h>

#define FULL 10000 /* the chart's width in hundredths of a percent */

#define INK    "#1f242b"
#define MUTED  "#6d6a64"
#define ACCENT "#c24e2f"
#define LIGHT  "#f7e6df"

/* The lines' colours and dashes, one per series: told apart by the dash in print. */
static const char *const line_colour[SVG_SERIES_MAX] = {ACCENT, INK, "#2e7d4f", "#b07a12", "#3d62b3", MUTED};
static const char *const line_dash[SVG_SERIES_MAX] = {"", "7 4", "2 3", "9 3 2 3", "4 2", "1 4"};

int svg_heat_step(int64_t num, int64_t den)
{
	if (den <= 0 || num < 0)
		return -1;
	if (num == 0)
		return 0;
	if (num >= den)
		return 10;
	int64_t s = num * 10 / den;
	return s < 1 ? 1 : (int)s;
}

int64_t svg_axis_top(int64_t max, int64_t *step)
{
	if (max <= 0) {
		*step = 1;
		return 1;
	}
	/* at most 4 steps up to the top, each 1, 2 or 5 times a power of ten */
	for (int64_t mag = 1;; mag *= 10) {
		static const int f[3] = {1, 2, 5};
		for (int i = 0; i < 3; i++) {
			int64_t s = f[i] * mag;
			if (s * 4 >= max || mag > INT64_MAX / 100) {
				*step = s;
				return (max + s - 1) / s * s;
			}
		}
	}
}

/* v / unit with at most one decimal ("2.5"), then suffix. */
static const char *scaled(int64_t v, int64_t unit, const char *suffix, char out[24])
{
	int64_t tenths = (v * 10 + unit / 2) / unit;
	if (tenths % 10)
		snprintf(out, 24, "%lld.%lld%s", (long long)(tenths / 10), (long long)(tenths % 10), suffix);
	else
		snprintf(out, 24, "%lld%s", (long long)(tenths / 10), suffix);
	return out;
}

const char *svg_short(int64_t v, int cjk, char out[24])
{
	int64_t a = v < 0 ? -v : v;
	if (cjk && a >= 100000000)
		return scaled(v, 100000000, "亿", out);
	if (cjk && a >= 10000)
		return scaled(v, 10000, "万", out);
	if (!cjk && a >= 1000000)
		return scaled(v, 1000000, "M", out);
	if (!cjk && a >= 1000)
		return scaled(v, 1000, "k", out);
	snprintf(out, 24, "%lld", (long long)v);
	return out;
}

/* ' name="12.34%"' for p hundredths of a percent. */
static void at_pct(html *h, const char *name, int64_t p)
{
	if (p < 0)
		p = 0;
	html_f(h, " %s=\"%lld.%02lld%%\"", name, (long long)(p / 100), (long long)(p % 100));
}

static int64_t clamp0(int64_t v)
{
	return v < 0 ? 0 : v;
}

static void open_svg(html *h, const svg_chart *ch, const char *kind, int height)
{
	html_f(h,
	       "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" height=\"%d\" "
	       "role=\"img\" aria-labelledby=\"%s-t %s-d\" font-family=\"sans-serif\" font-size=\"12\">"
	       "<title id=\"%s-t\">%s</title><desc id=\"%s-d\">%s</desc>",
	       kind, height, ch->id, ch->id, ch->id, ch->title ? ch->title : "", ch->id, ch->desc ? ch->desc : "");
}

static void empty_svg(html *h, const svg_chart *ch, const char *kind, int height)
{
	open_svg(h, ch, kind, height);
	html_f(h,
	       "<rect class=\"frame\" x=\"0\" y=\"0\" width=\"100%%\" height=\"%d\" fill=\"#faf8f4\" rx=\"6\"/>"
	       "<text class=\"empty\" x=\"50%%\" y=\"%d\" text-anchor=\"middle\" fill=\"" MUTED "\">%s</text></svg>\n",
	       height, height / 2 + 4, ch->empty ? ch->empty : "");
}

/* Gridlines and their values for a value axis of top over a plot of p px starting at y0. */
static void grid(html *h, int64_t top, int64_t step, int y0, int p)
{
	for (int64_t t = 0; t <= top; t += step) {
		int y = y0 + p - (int)(t * p / top);
		html_f(h, "<line class=\"grid\" x1=\"0\" x2=\"100%%\" y1=\"%d\" y2=\"%d\" stroke=\"%s\"/>", y, y,
		       t ? "#ece7df" : "#b9b2a6");
	}
}

/* The axis' values, drawn last so that a bar never hides them (a halo keeps them readable over one). */
static void ticks(html *h, int64_t top, int64_t step, int y0, int p, int cjk)
{
	char v[24];
	for (int64_t t = step; t <= top; t += step) {
		int y = y0 + p - (int)(t * p / top);
		html_f(h,
		       "<text class=\"tick\" x=\"2\" y=\"%d\" fill=\"" MUTED "\" stroke=\"#fff\" stroke-width=\"3\" "
		       "paint-order=\"stroke\" font-size=\"11\">%s</text>",
		       y - 3, svg_short(t, cjk, v));
	}
}

/*
 * The labels under n slots: every one when they fit, else every k-th; the
 * ones a phone has no room for are marked "wide" (console.css hides them
 * under 640 px).
 */
static void xlabels(html *h, const void *base, size_t stride, size_t n, int y)
{
	size_t wide = (n + 13) / 14, narrow = (n + 5) / 6;
	if (wide < 1)
		wide = 1;
	narrow = (narrow + wide - 1) / wide * wide;
	if (narrow < 1)
		narrow = 1;
	int64_t slot = FULL / (int64_t)n;
	for (size_t i = 0; i < n; i++) {
		const char *label = *(const char *const *)((const char *)base + i * stride);
		if (!label || i % wide)
			continue;
		int64_t x = (int64_t)i * FULL / (int64_t)n + slot / 2;
		const char *anchor = "middle";
		/* a label at an edge of a crowded chart would be cut in half: it starts (or ends) there instead */
		if (x < 500 && i == 0) {
			x = (int64_t)i * FULL / (int64_t)n;
			anchor = "start";
		} else if (x > FULL - 500 && i == n - 1) {
			x = FULL;
			anchor = "end";
		}
		html_f(h, "<text class=\"%s\"", i % narrow ? "xl wide" : "xl");
		at_pct(h, "x", x);
		html_f(h, " y=\"%d\" text-anchor=\"%s\" fill=\"#4a525d\">%s</text>", y, anchor, label);
	}
}

static void legend_open(html *h)
{
	html_f(h, "<p class=\"legend\" aria-hidden=\"true\">");
}

/* ---- vertical bars ---- */

void svg_bars(html *h, const svg_chart *ch, const svg_bar *bars, size_t n)
{
	int height = ch->height > 0 ? ch->height : 220;
	const int y0 = 22, below = 26, p = height - y0 - below;
	int stacked = ch->series[1] != NULL;
	int64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t t = clamp0(bars[i].a) + (stacked ? clamp0(bars[i].b) : 0);
		if (t > max)
			max = t;
	}
	if (n == 0 || max <= 0 || p <= 0) {
		empty_svg(h, ch, "bars", height);
		return;
	}
	int64_t step, top = svg_axis_top(max, &step);
	open_svg(h, ch, "bars", height);
	if (stacked)
		html_f(h,
		       "<defs><pattern id=\"%s-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
		       "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"" LIGHT "\"/>"
		       "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#d9846a\" stroke-width=\"1.6\"/>"
		       "</pattern></defs>",
		       ch->id);
	grid(h, top, step, y0, p);
	int64_t slot = FULL / (int64_t)n, w = slot * 72 / 100;
	/* values on the bars when they are few; on a phone only when very few */
	int values = n <= 16;
	for (size_t i = 0; i < n; i++) {
		const svg_bar *b = &bars[i];
		int64_t a = clamp0(b->a), bb = stacked ? clamp0(b->b) : 0;
		int ht = (int)((a + bb) * p / top), ha = (int)(a * p / top), hb = ht - ha;
		int64_t x = (int64_t)i * FULL / (int64_t)n + (slot - w) / 2;
		if (b->href)
			html_f(h, "<a href=\"%s\" tabindex=\"-1\">", b->href);
		html_f(h, "<g class=\"bar\"><title>");
		if (b->tip)
			html_f(h, "%s", b->tip);
		else if (stacked)
			html_f(h, "%s: %s %lld, %s %lld", b->label ? b->label : "", ch->series[0] ? ch->series[0] : "",
			       (long long)a, ch->series[1], (long long)bb);
		else
			html_f(h, "%s: %lld", b->label ? b->label : "", (long long)a);
		html_f(h, "</title>");
		/* a slot as tall as the plot catches the pointer over a short bar */
		html_f(h, "<rect class=\"hit\"");
		at_pct(h, "x", (int64_t)i * FULL / (int64_t)n);
		at_pct(h, "width", slot);
		html_f(h, " y=\"%d\" height=\"%d\" fill=\"transparent\"/>", y0, p);
		if (ha > 0) {
			html_f(h, "<rect class=\"sa\"");
			at_pct(h, "x", x);
			at_pct(h, "width", w);
			html_f(h, " y=\"%d\" height=\"%d\" fill=\"" ACCENT "\"/>", y0 + p - ha, ha);
		}
		if (hb > 0) {
			html_f(h, "<rect class=\"sb\"");
			at_pct(h, "x", x);
			at_pct(h, "width", w);
			html_f(h, " y=\"%d\" height=\"%d\" fill=\"url(#%s-hatch)\" stroke=\"" ACCENT "\" "
				  "stroke-width=\"1\"/>",
			       y0 + p - ht, hb, ch->id);
		}
		if (values) {
			html_f(h, "<text class=\"%s\"", n > 8 ? "v dense" : "v");
			at_pct(h, "x", x + w / 2);
			html_f(h, " y=\"%d\" text-anchor=\"middle\" fill=\"" INK "\" font-size=\"11\">%lld</text>",
			       y0 + p - ht - 4, (long long)(a + bb));
		}
		html_f(h, "</g>");
		if (b->href)
			html_f(h, "</a>");
	}
	ticks(h, top, step, y0, p, ch->cjk);
	xlabels(h, &bars[0].label, sizeof bars[0], n, height - 8);
	html_f(h, "</svg>\n");
	if (stacked) {
		legend_open(h);
		html_f(h,
		       "<span><svg class=\"key\" width=\"14\" height=\"14\"><rect width=\"14\" height=\"14\" "
		       "fill=\"" ACCENT "\"/></svg>%s</span>"
		       "<span><svg class=\"key\" width=\"14\" height=\"14\"><rect width=\"14\" height=\"14\" "
		       "fill=\"url(#%s-hatch)\" stroke=\"" ACCENT "\"/></svg>%s</span></p>\n",
		       ch->series[0] ? ch->series[0] : "", ch->id, ch->series[1]);
	}
}

/* ---- horizontal bars ---- */

void svg_hbars(html *h, const svg_chart *ch, const svg_hbar *rows, size_t n)
{
	const int row = 46;
	int height = ch->height > 0 ? ch->height : (int)n * row + 4;
	int64_t max = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].v > max)
			max = rows[i].v;
	if (n == 0 || max <= 0) {
		empty_svg(h, ch, "hbars", ch->height > 0 ? ch->height : 120);
		return;
	}
	open_svg(h, ch, "hbars", height);
	for (size_t i = 0; i < n; i++) {
		const svg_hbar *r = &rows[i];
		int64_t v = clamp0(r->v);
		/* the longest bar takes three quarters of the width: its value fits beside it on a phone */
		int64_t w = v * 7500 / max;
		int y = (int)i * row;
		if (r->href)
			html_f(h, "<a href=\"%s\" tabindex=\"-1\">", r->href);
		html_f(h, "<g class=\"bar\"><title>%s: ", r->label ? r->label : "");
		if (r->value)
			html_f(h, "%s", r->value);
		else
			html_f(h, "%lld", (long long)v);
		html_f(h, "</title><text class=\"hl\" x=\"0\" y=\"%d\" fill=\"" INK "\" font-size=\"14\">%s</text>",
		       y + 15, r->label ? r->label : "");
		html_f(h, "<rect class=\"track\" x=\"0\" y=\"%d\" width=\"75%%\" height=\"16\" fill=\"#f4f0e9\"/>",
		       y + 21);
		if (w > 0) {
			html_f(h, "<rect class=\"sa\" x=\"0\" y=\"%d\"", y + 21);
			at_pct(h, "width", w < 40 ? 40 : w);
			html_f(h, " height=\"16\" fill=\"" ACCENT "\"/>");
		}
		html_f(h, "<text class=\"hv\"");
		at_pct(h, "x", 7500 + 150);
		html_f(h, " y=\"%d\" fill=\"" INK "\" font-weight=\"600\" font-size=\"13\">", y + 34);
		if (r->value)
			html_f(h, "%s", r->value);
		else
			html_f(h, "%lld", (long long)v);
		html_f(h, "</text></g>");
		if (r->href)
			html_f(h, "</a>");
	}
	html_f(h, "</svg>\n");
}

/* ---- lines ---- */

void svg_lines(html *h, const svg_chart *ch, const char *const *xlabels_in, size_t nx, const int64_t *values,
	       size_t ns)
{
	int height = ch->height > 0 ? ch->height : 220;
	const int y0 = 14, below = 26, p = height - y0 - below;
	if (ns > SVG_SERIES_MAX)
		ns = SVG_SERIES_MAX;
	int64_t max = 0;
	for (size_t s = 0; s < ns; s++)
		for (size_t i = 0; i < nx; i++)
			if (values[s * nx + i] > max)
				max = values[s * nx + i];
	if (nx == 0 || ns == 0 || max <= 0 || p <= 0) {
		empty_svg(h, ch, "lines", height);
		return;
	}
	int64_t step, top = svg_axis_top(max, &step);
	open_svg(h, ch, "lines", height);
	grid(h, top, step, y0, p);
	/* point i sits in the middle of its slot, as a bar would: x = 2i + 1 of 2 nx */
	html_f(h,
	       "<svg x=\"0\" y=\"%d\" width=\"100%%\" height=\"%d\" viewBox=\"0 0 %zu %d\" "
	       "preserveAspectRatio=\"none\" overflow=\"visible\">",
	       y0, p, 2 * nx, p);
	for (size_t s = 0; s < ns; s++) {
		html_f(h,
		       "<polyline class=\"ln s%zu\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.25\" "
		       "stroke-linejoin=\"round\" vector-effect=\"non-scaling-stroke\"",
		       s, line_colour[s]);
		if (line_dash[s][0])
			html_f(h, " stroke-dasharray=\"%s\"", line_dash[s]);
		html_f(h, " points=\"");
		/* one point is no line: a level stroke across its own slot (not on to the edge) shows it */
		if (nx == 1)
			html_f(h, "0.5,%d 1.5,%d", p - (int)(clamp0(values[s]) * p / top),
			       p - (int)(clamp0(values[s]) * p / top));
		for (size_t i = 0; i < nx && nx > 1; i++) {
			int64_t v = clamp0(values[s * nx + i]);
			html_f(h, "%s%zu,%d", i ? " " : "", 2 * i + 1, p - (int)(v * p / top));
		}
		html_f(h, "\"><title>%s</title></polyline>", ch->series[s] ? ch->series[s] : "");
	}
	html_f(h, "</svg>");
	/* dots on the points while they are few enough to tell apart */
	if (nx <= 31) {
		int64_t slot = FULL / (int64_t)nx;
		for (size_t s = 0; s < ns; s++)
			for (size_t i = 0; i < nx; i++) {
				int64_t v = clamp0(values[s * nx + i]);
				html_f(h, "<circle");
				at_pct(h, "cx", (int64_t)i * FULL / (int64_t)nx + slot / 2);
				html_f(h, " cy=\"%d\" r=\"3\" fill=\"%s\"><title>", y0 + p - (int)(v * p / top),
				       line_colour[s]);
				html_f(h, "%s %s: %lld</title></circle>", ch->series[s] ? ch->series[s] : "",
				       xlabels_in[i] ? xlabels_in[i] : "", (long long)v);
			}
	}
	ticks(h, top, step, y0, p, ch->cjk);
	xlabels(h, xlabels_in, sizeof xlabels_in[0], nx, height - 8);
	html_f(h, "</svg>\n");
	legend_open(h);
	for (size_t s = 0; s < ns; s++) {
		html_f(h,
		       "<span><svg class=\"key line\" width=\"26\" height=\"14\"><line x1=\"0\" y1=\"7\" x2=\"26\" "
		       "y2=\"7\" stroke=\"%s\" stroke-width=\"2.5\"",
		       line_colour[s]);
		if (line_dash[s][0])
			html_f(h, " stroke-dasharray=\"%s\"", line_dash[s]);
		html_f(h, "/></svg>%s</span>", ch->series[s] ? ch->series[s] : "");
	}
	html_f(h, "</p>\n");
}
