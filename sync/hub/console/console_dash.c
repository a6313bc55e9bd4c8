/*
 * console_dash — the community dashboard: what the check-ins say about a
 * venue's community (or, for an owner, every venue's) over a period.
 *
 * One page of seven sections (attendance, the tie funnel, cohorts, regulars
 * and drifting members, referrals, online groups, tiers and renewals), each a
 * card with a sentence on what its number means, a chart (svg_chart.c), the
 * numbers in a table and a CSV of them (?csv=SECTION on the page's own
 * address). Every number links to the members behind it (/dashboard/members
 * with the list's name and the period), and a member's referral tree has its
 * own page.
 *
 * The numbers are the store's (hub_store_dash.h): this file asks each
 * section's question once, after one dash_refresh, and never asks the store
 * per row; lists are capped on the page and whole in the CSV.
 */
#include "sync/clock.h"
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/member_index.h"
#include "sync/hub/console/svg_chart.h"

#include "sync/check.h"
#include "sync/csv_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DAYS   90
#define SPAN_MAX_DAYS  (5 * 366) /* the longest period asked for */
#define DRIFT_DEFAULT  30
#define DRIFT_MAX      3650
#define DRIFT_SHOWN    10	 /* drifting members on the dashboard; the list and the CSV have them all */
#define LIST_SHOWN     500	 /* members on a list's page; the CSV has them all */
#define EVENTS_KEPT    100	 /* events in the table (newest); the CSV has them all */
#define EVENTS_CHARTED 24	 /* the latest events drawn as bars */
#define REFERRERS_TOP  10
#define TREE_MAX       2000	 /* members in a referral tree's page */
#define TREE_DEPTH     12
#define TABLE_OPEN_MAX 16	 /* a table under a chart shown open up to this many rows, else behind a toggle */
#define DAILY_MAX_DAYS 35	 /* redirects drawn per day up to about a month, per week beyond (daily lines over
				    months are a tangle; the CSV keeps the days) */
#define VENUES_MAX     256

/* ---- days ---- */

/* A checked YYYY-MM-DD as days since 1970. */
static int64_t day_num(const char *day)
{
	unsigned y = 0, m = 0, d = 0;
	if (sscanf(day, "%4u-%2u-%2u", &y, &m, &d) != 3)
		return 0;
	return clock_days_from_civil(y, m, d);
}

static int check_month(const char *s)
{
	char day[16];
	if (strlen(s) != 7)
		return 0;
	snprintf(day, sizeof day, "%s-01", s);
	return check_day(day) && day[0];
}

/* ---- the period and the page's addresses ---- */

typedef struct venue_tz {
	char id[HUB_ID_MAX], name[HUB_NAME_MAX], tz[HUB_TZ_MAX];
} venue_tz;

typedef struct dash {
	cx *c;
	hub_period p;
	char today[11];
	int64_t days;	  /* in the period */
	int refused;	  /* the period asked for was not one: the default is shown, and says so */
	int64_t drift;	  /* days without a visit that make a regular drifting */
	char base[96];	  /* "/venues/V/dashboard" or "/dashboard" */
	char period_q[40]; /* "from=...&to=..." */
	venue_tz *venues; /* an owner's view: every venue's name and zone */
	size_t nvenues, vcap;
} dash;

static int venue_take(const hub_venue *v, void *ctx)
{
	dash *d = ctx;
	venue_tz t;
	snprintf(t.id, sizeof t.id, "%s", v->id);
	snprintf(t.name, sizeof t.name, "%s", v->name);
	snprintf(t.tz, sizeof t.tz, "%s", v->tz);
	if (d->nvenues < VENUES_MAX && cx_append((void **)&d->venues, &d->nvenues, &d->vcap, &t, sizeof t) != 0)
		return 1;
	return 0;
}

static const venue_tz *venue_of(const dash *d, const char *id)
{
	for (size_t i = 0; id && i < d->nvenues; i++)
		if (strcmp(d->venues[i].id, id) == 0)
			return &d->venues[i];
	return NULL;
}

/* The zone a time of venue_id is shown in. */
static const char *tz_of(const dash *d, const char *venue_id)
{
	if (d->c->has_venue)
		return d->c->venue.tz;
	const venue_tz *v = venue_of(d, venue_id);
	return v ? v->tz : "UTC";
}

/* The presets: from a day before today, to today. */
static void preset(const dash *d, int which, char from[11])
{
	int64_t t = day_num(d->today);
	if (which == 0)
		clock_day_text(t - 29, from);
	else if (which == 1)
		clock_day_text(t - (DEFAULT_DAYS - 1), from);
	else if (which == 2) { /* 12 whole months: from the first of the month 11 months back */
		int y = atoi(d->today), m = atoi(d->today + 5) - 11;
		if (m <= 0) {
			m += 12;
			y--;
		}
		char buf[48];
		snprintf(buf, sizeof buf, "%04d-%02d-01", y % 10000, m % 100);
		snprintf(from, 11, "%.10s", buf);
	} else
		snprintf(from, 11, "%.4s-01-01", d->today);
}

static const char *const preset_names[4] = {N_("30 days"), N_("90 days"), N_("12 months"), N_("This year")};

/* Set up d for the page: the period from ?from=&to= (or the default), the drift, the addresses. 0, or -1 (failed). */
static int dash_init(cx *c, dash *d)
{
	memset(d, 0, sizeof *d);
	d->c = c;
	hub_day_cache dc;
	memset(&dc, 0, sizeof dc);
	if (c->has_venue) {
		hub_day(c->venue.tz, c->rq->now_ms, &dc, d->today);
		d->p.venue_id = c->venue.id;
		snprintf(d->base, sizeof d->base, "/venues/%s/dashboard", c->venue.id);
	} else {
		char tz[HUB_TZ_MAX];
		hub_default_tz(tz, sizeof tz);
		hub_day(tz, c->rq->now_ms, &dc, d->today);
		d->p.venue_id = NULL;
		snprintf(d->base, sizeof d->base, "/dashboard");
		hub_err e = c->st->ops->venues_each(c->st, venue_take, d);
		if (e != HUB_OK) {
			page_store_failed(c, e);
			return -1;
		}
	}
	const char *from = form_get(&c->form, "from"), *to = form_get(&c->form, "to");
	int asked = (from && from[0]) || (to && to[0]);
	if (asked && from && to && from[0] && to[0] && check_day(from) && check_day(to) && strcmp(from, to) <= 0 &&
	    day_num(to) - day_num(from) < SPAN_MAX_DAYS) {
		snprintf(d->p.from, sizeof d->p.from, "%s", from);
		snprintf(d->p.to, sizeof d->p.to, "%s", to);
	} else {
		d->refused = asked;
		preset(d, 1, d->p.from);
		snprintf(d->p.to, sizeof d->p.to, "%s", d->today);
	}
	d->days = day_num(d->p.to) - day_num(d->p.from) + 1;
	snprintf(d->period_q, sizeof d->period_q, "from=%s&to=%s", d->p.from, d->p.to);
	const char *dr = form_get(&c->form, "drift");
	d->drift = DRIFT_DEFAULT;
	if (dr && check_digits(dr, 4) && atoi(dr) >= 1 && atoi(dr) <= DRIFT_MAX)
		d->drift = atoi(dr);
	return 0;
}

static void dash_free(dash *d)
{
	free(d->venues);
	d->venues = NULL;
}

/* The address of a list of members, from the dashboard's page: dashboard/members?list=NAME&from=&to= and the
 * list's own arguments. */
static const char *mlink(const dash *d, char *out, size_t len, const char *list, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static const char *mlink(const dash *d, char *out, size_t len, const char *list, const char *fmt, ...)
{
	/* relative to the dashboard's own address (/venues/V/dashboard or /dashboard): the page carries hundreds */
	int n = snprintf(out, len, "dashboard/members?list=%s&%s", list, d->period_q);
	if (fmt && n > 0 && (size_t)n < len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(out + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return out;
}

/* A member's page: in the venue of the page, or in the member's own (an owner's view). */
static const char *member_href(const dash *d, const char *venue_id, const char *uid, char *out, size_t len)
{
	snprintf(out, len, "/venues/%s/members/%s", d->c->has_venue ? d->c->venue.id : (venue_id ? venue_id : ""),
		 uid);
	return out;
}

static const char *tree_href(const dash *d, const char *uid, char *out, size_t len)
{
	snprintf(out, len, "%s/referrals/%s", d->base, uid);
	return out;
}

/* ---- numbers ---- */

/* "45%" of num out of den ("<1%" for a share too small to round to 1, "—" with no den). */
static const char *share(int64_t num, int64_t den, char out[24])
{
	if (den <= 0 || num < 0) {
		snprintf(out, 24, "—");
		return out;
	}
	int64_t p = (num * 1000 / den + 5) / 10;
	if (p == 0 && num > 0)
		snprintf(out, 24, "<1%%");
	else if (p >= 100 && num < den) /* 77 559 of 77 560 is not all of them */
		snprintf(out, 24, ">99%%");
	else
		snprintf(out, 24, "%lld%%", (long long)p);
	return out;
}

/* A number of days: "4", "4.5", "—" for none. */
static const char *days_text(double v, char out[24])
{
	if (v < 0) {
		snprintf(out, 24, "—");
		return out;
	}
	snprintf(out, 24, "%.1f", v);
	size_t n = strlen(out);
	if (n > 2 && strcmp(out + n - 2, ".0") == 0)
		out[n - 2] = 0;
	return out;
}

/* A large number with its thousands apart: "1,664,374". */
static const char *grouped(int64_t v, char out[32])
{
	char digits[24];
	snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
	size_t n = strlen(digits), o = 0;
	if (v < 0)
		out[o++] = '-';
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	return out;
}

/* A figure: the number large, linked to the members behind it, and what it counts. key names it for the
 * page's tests and scripts (data-n), whatever the language. */
static void figure(cx *c, const char *key, const char *href, int64_t v, const char *label)
{
	char n[32];
	if (href)
		html_f(&c->h, "<a class=\"figure\" data-n=\"%s\" href=\"%s\"><span class=\"fig\">%s</span>"
			      "<span class=\"fig-label\">%s</span></a>",
		       key, href, grouped(v, n), label);
	else
		html_f(&c->h, "<div class=\"figure\" data-n=\"%s\"><span class=\"fig\">%s</span><span "
			      "class=\"fig-label\">%s</span></div>",
		       key, grouped(v, n), label);
}

/* A number in a table cell, linked to its members; key names its column (data-n), as a row's data-row
 * names the row. */
static void num_cell(cx *c, const char *key, const char *label, const char *href, int64_t v)
{
	char n[24];
	html_f(&c->h, "<td data-label=\"%s\" data-n=\"%s\" class=\"num\">", label, key);
	if (href && v > 0)
		html_f(&c->h, "<a href=\"%s\">%s</a></td>", href, cx_num(v, n));
	else
		html_f(&c->h, "%s</td>", cx_num(v, n));
}

static void section_open(cx *c, const char *id, const char *title, const char *why)
{
	html_f(&c->h, "<section class=\"card dash-section\" id=\"%s\" aria-labelledby=\"%s-h\"><h2 id=\"%s-h\">%s</h2>"
		      "<p class=\"why\">%s</p>\n",
	       id, id, id, title, why);
}

static void csv_link(cx *c, const dash *d, const char *section, const char *extra)
{
	html_f(&c->h, "<p class=\"csv\"><a href=\"%s?%s&amp;csv=%s%s\" download>%s</a></p>\n", d->base, d->period_q,
	       section, extra ? extra : "", T(c, "Download as CSV"));
}

/* A table under a chart: open when short, behind a toggle when long (the CSV has it either way). */
static void table_open(cx *c, size_t rows, const char *summary)
{
	html_f(&c->h, "<details class=\"table\"%s><summary>%s</summary>", rows <= TABLE_OPEN_MAX ? " open" : "",
	       summary);
}

/* ---- CSV ---- */

typedef struct csv {
	char *buf;
	size_t len;
	FILE *f;
} csv;

static int csv_open(cx *c, csv *o)
{
	memset(o, 0, sizeof *o);
	o->f = open_memstream(&o->buf, &o->len);
	if (!o->f) {
		page_fail(c, 500, T(c, "Out of memory."));
		return -1;
	}
	fputs("\xef\xbb\xbf", o->f); /* a byte-order mark: a spreadsheet then reads UTF-8 */
	return 0;
}

static void csv_cells(csv *o, int n, ...)
{
	const char *cells[16];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n && i < 16; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	csv_out_row(o->f, cells, n < 16 ? n : 16);
}

/* Hand the file over (or fail the page with e). */
static void csv_done(cx *c, const dash *d, csv *o, const char *what, hub_err e)
{
	int bad = ferror(o->f);
	fclose(o->f);
	if (e != HUB_OK || bad) {
		free(o->buf);
		if (e != HUB_OK)
			page_store_failed(c, e);
		else
			page_fail(c, 500, T(c, "Out of memory."));
		return;
	}
	char fname[160];
	snprintf(fname, sizeof fname, "%s-%s-%.4s%.2s%.2s-%.4s%.2s%.2s.csv", what,
		 c->has_venue ? (c->venue.slug[0] ? c->venue.slug : "venue") : "all", d->p.from, d->p.from + 5,
		 d->p.from + 8, d->p.to, d->p.to + 5, d->p.to + 8);
	page_download(c, "text/csv; charset=utf-8", fname, o->buf, o->len);
}

/* ---- 1. attendance ---- */

typedef struct ev_row {
	char uid[HUB_ID_MAX], venue[HUB_ID_MAX], title[STORE_TITLE_MAX];
	int64_t start_ms, visits, first;
	int cancelled;
} ev_row;

typedef struct events {
	ev_row *r;
	size_t n, cap, total;
	int oom;
	csv *out; /* the CSV: every event, written as they come */
	dash *d;
} events;

static int event_take(const hub_dash_event *e, void *ctx)
{
	events *x = ctx;
	x->total++;
	if (x->out) {
		char when[17], v[24], f[24];
		hub_time_cache tc = {.quarter = -1};
		hub_local_time(tz_of(x->d, e->venue_id), e->start_ms, &tc, when);
		const venue_tz *vt = venue_of(x->d, e->venue_id);
		csv_cells(x->out, 6, e->title, when, cx_num(e->visits, v), cx_num(e->first_timers, f),
			  e->cancelled ? "cancelled" : "", vt ? vt->name : "");
		return 0;
	}
	if (x->n == EVENTS_KEPT)
		return 0;
	ev_row r;
	memset(&r, 0, sizeof r);
	snprintf(r.uid, sizeof r.uid, "%s", e->uid ? e->uid : "");
	snprintf(r.venue, sizeof r.venue, "%s", e->venue_id ? e->venue_id : "");
	snprintf(r.title, sizeof r.title, "%s", e->title ? e->title : "");
	r.start_ms = e->start_ms;
	r.visits = e->visits;
	r.first = e->first_timers;
	r.cancelled = e->cancelled;
	x->oom |= cx_append((void **)&x->r, &x->n, &x->cap, &r, sizeof r) != 0;
	return x->oom;
}

static void attendance_section(dash *d, const hub_dash_attendance *at, const events *ev)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], n1[24], n2[24];
	section_open(c, "attendance", T(c, "Attendance"),
		     T(c, "Who came, week by week. First-timers are the people the community is reaching; returning "
			  "members are the ones it is keeping."));
	html_f(h, "<div class=\"figures\">");
	figure(c, "visits", mlink(d, href, sizeof href, "visited", NULL), at->visits, T(c, "visits"));
	figure(c, "members", mlink(d, href, sizeof href, "visited", NULL), at->members, T(c, "members came"));
	figure(c, "first_timers", mlink(d, href, sizeof href, "first_timers", NULL), at->first_timers, T(c, "first-timers"));
	figure(c, "returning", mlink(d, href, sizeof href, "returning", NULL), at->returning, T(c, "returning"));
	html_f(h, "</div>\n");

	/* visits per week, and the members of each week split into first-timers and returning */
	size_t nw = at->nweeks;
	svg_bar *bars = calloc(nw ? nw : 1, sizeof *bars), *split = calloc(nw ? nw : 1, sizeof *split);
	char(*hrefs)[200] = calloc(nw ? nw : 1, sizeof *hrefs);
	char(*tips)[160] = calloc(nw ? nw : 1, sizeof *tips);
	char(*tips2)[200] = calloc(nw ? nw : 1, sizeof *tips2);
	if (!bars || !split || !hrefs || !tips || !tips2) {
		h->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < nw; i++) {
		const hub_dash_week *w = &at->weeks[i];
		mlink(d, hrefs[i], sizeof hrefs[i], "week", "&monday=%s", w->monday);
		SAYF(c, tips[i], "Week of %1$s. Visits: %2$s", w->monday, cx_num(w->visits, n1));
		SAYF(c, tips2[i], "Week of %1$s. First-timers: %2$s, returning: %3$s", w->monday,
		     cx_num(w->first_timers, n1), cx_num(w->members - w->first_timers, n2));
		bars[i] = (svg_bar){w->monday + 5, tips[i], hrefs[i], w->visits, 0};
		split[i] = (svg_bar){w->monday + 5, tips2[i], hrefs[i], w->first_timers, w->members - w->first_timers};
	}
	html_f(h, "<h3>%s</h3>", T(c, "Visits per week"));
	svg_chart ch = {.id = "c-visits",
			.cjk = c->lang != CL_EN,
			.title = T(c, "Visits per week"),
			.desc = T(c, "Bars, one per week (weeks start on Monday): the visits counted that week."),
			.empty = T(c, "No visits in this period.")};
	svg_bars(h, &ch, bars, nw);
	html_f(h, "<h3>%s</h3>", T(c, "First-timers and returning members per week"));
	svg_chart ch2 = {.id = "c-split",
			.cjk = c->lang != CL_EN,
			 .title = T(c, "First-timers and returning members per week"),
			 .desc = T(c, "Stacked bars, one per week: the members who came for the first time ever "
				      "(solid), and the members who had come before (hatched)."),
			 .empty = T(c, "No visits in this period."),
			 .series = {T(c, "First-timers"), T(c, "Returning")}};
	svg_bars(h, &ch2, split, nw);
	if (nw) {
		table_open(c, nw, T(c, "The weeks as a table"));
		const char *lw = T(c, "Week of"), *lv = T(c, "Visits"), *lm = T(c, "Members"), *lf = T(c, "First-timers"),
			   *lr = T(c, "Returning");
		html_f(h,
		       "<table class=\"data compact\"><thead><tr><th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th>"
		       "<th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead><tbody>\n",
		       lw, lv, lm, lf, lr);
		for (size_t i = 0; i < nw; i++) {
			const hub_dash_week *w = &at->weeks[i];
			/* the week's first-timers and returning members are those lists over the week (cut by the period) */
			char a[11], z[11], fh[200], rh[200];
			int64_t mon = day_num(w->monday);
			clock_day_text(mon, a);
			clock_day_text(mon + 6, z);
			const char *from = strcmp(a, d->p.from) < 0 ? d->p.from : a, *to = strcmp(z, d->p.to) > 0 ? d->p.to : z;
			snprintf(fh, sizeof fh, "dashboard/members?list=first_timers&from=%s&to=%s", from, to);
			snprintf(rh, sizeof rh, "dashboard/members?list=returning&from=%s&to=%s", from, to);
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\" class=\"nowrap\">%s</td>", w->monday, lw,
			       w->monday);
			num_cell(c, "visits", lv, NULL, w->visits); /* the members cell beside it leads to the same list */
			num_cell(c, "members", lm, hrefs[i], w->members);
			num_cell(c, "first_timers", lf, fh, w->first_timers);
			num_cell(c, "returning", lr, rh, w->members - w->first_timers);
			html_f(h, "</tr>\n");
		}
		html_f(h, "</tbody></table></details>\n");
	}
	csv_link(c, d, "weeks", NULL);

	/* events: the latest drawn, oldest on the left; the table newest first */
	html_f(h, "<h3>%s</h3>", T(c, "Events"));
	size_t ne = ev->n < EVENTS_CHARTED ? ev->n : EVENTS_CHARTED;
	svg_bar eb[EVENTS_CHARTED];
	char elabel[EVENTS_CHARTED][8], etip[EVENTS_CHARTED][STORE_TITLE_MAX + 120], ehref[EVENTS_CHARTED][200];
	for (size_t i = 0; i < ne; i++) {
		const ev_row *r = &ev->r[ne - 1 - i];
		char when[17];
		hub_time_cache tc = {.quarter = -1};
		hub_local_time(tz_of(d, r->venue), r->start_ms, &tc, when);
		snprintf(elabel[i], sizeof elabel[i], "%.5s", when + 5);
		SAYF(c, etip[i], "%1$s (%2$s). First-timers: %3$s, returning: %4$s", r->title, when,
		     cx_num(r->first, n1), cx_num(r->visits - r->first, n2));
		mlink(d, ehref[i], sizeof ehref[i], "event", "&id=%s", r->uid);
		eb[i] = (svg_bar){elabel[i], etip[i], ehref[i], r->first, r->visits - r->first};
	}
	svg_chart ch3 = {.id = "c-events",
			.cjk = c->lang != CL_EN,
			 .title = T(c, "Attendance of the latest events"),
			 .desc = T(c, "Stacked bars, one per event in time order: the first-timers at the event "
				      "(solid) and the members who had come before (hatched)."),
			 .empty = T(c, "No events in this period."),
			 .series = {T(c, "First-timers"), T(c, "Returning")}};
	if (ne > 1 || ev->n == 0)
		svg_bars(h, &ch3, eb, ne);
	if (ev->n) {
		table_open(c, ev->n, T(c, "The events as a table"));
		const char *le = T(c, "Event"), *lwh = T(c, "When"), *lv = T(c, "Visits"), *lf = T(c, "First-timers"),
			   *lvn = T(c, "Venue");
		html_f(h, "<table class=\"data\"><thead><tr><th>%s</th>", le);
		if (!c->has_venue)
			html_f(h, "<th>%s</th>", lvn);
		html_f(h, "<th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead><tbody>\n", lwh,
		       lv, lf);
		for (size_t i = 0; i < ev->n; i++) {
			const ev_row *r = &ev->r[i];
			char when[17];
			hub_time_cache tc = {.quarter = -1};
			hub_local_time(tz_of(d, r->venue), r->start_ms, &tc, when);
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\"><a href=\"/venues/%s/events/%s\">", r->uid, le,
			       c->has_venue ? c->venue.id : r->venue, r->uid);
			html_user(h, r->title);
			html_f(h, "</a>");
			if (r->cancelled)
				html_f(h, " <span class=\"badge bad\">%s</span>", T(c, "cancelled"));
			html_f(h, "</td>");
			if (!c->has_venue) {
				const venue_tz *vt = venue_of(d, r->venue);
				html_f(h, "<td data-label=\"%s\">", lvn);
				html_user(h, vt ? vt->name : "");
				html_f(h, "</td>");
			}
			html_f(h, "<td data-label=\"%s\" class=\"nowrap\">%s</td>", lwh, when);
			num_cell(c, "visits", lv, mlink(d, href, sizeof href, "event", "&id=%s", r->uid), r->visits);
			num_cell(c, "first_timers", lf, NULL, r->first);
			html_f(h, "</tr>\n");
		}
		html_f(h, "</tbody></table>");
		if (ev->total > ev->n) {
			html_f(h, "<p class=\"muted\">");
			SAY(c, "Showing the latest %1$s of %2$s events; the CSV has all of them.",
			    cx_num((int64_t)ev->n, n1), cx_num((int64_t)ev->total, n2));
			html_f(h, "</p>");
		}
		html_f(h, "</details>\n");
	}
	csv_link(c, d, "events", NULL);
out:
	free(bars);
	free(split);
	free(hrefs);
	free(tips);
	free(tips2);
	html_f(h, "</section>\n");
}

/* ---- 2. the tie funnel ---- */

static void funnel_section(dash *d, const hub_dash_funnel *f)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[4][256], val[4][64], pc[24], m1[24], m2[24];
	section_open(c, "funnel", T(c, "The tie funnel"),
		     T(c, "Of the members whose first visit fell in this period, how many have come a second, a third "
			  "and a tenth time since. A tie forms at about the third meeting: the third bar is the one "
			  "to grow."));
	const char *names[4] = {T(c, "1st visit"), T(c, "2nd visit"), T(c, "3rd visit"), T(c, "10th visit")};
	int64_t v[4] = {f->first, f->second, f->third, f->tenth};
	static const int reached[4] = {1, 2, 3, 10};
	svg_hbar rows[4];
	for (int i = 0; i < 4; i++) {
		if (i == 0)
			mlink(d, href[i], sizeof href[i], "first_timers", NULL);
		else
			mlink(d, href[i], sizeof href[i], "reached", "&n=%d", reached[i]);
		char g[32];
		snprintf(val[i], sizeof val[i], "%s · %s", grouped(v[i], g), share(v[i], f->first, pc));
		rows[i] = (svg_hbar){names[i], val[i], href[i], v[i]};
	}
	svg_chart ch = {.id = "c-funnel",
			.cjk = c->lang != CL_EN,
			.title = T(c, "The tie funnel"),
			.desc = T(c, "Horizontal bars: the first-timers of the period, and of them those who came a "
				     "2nd, 3rd and 10th time, with each count's share of the first."),
			.empty = T(c, "Nobody came for the first time in this period.")};
	svg_hbars(h, &ch, rows, 4);
	html_f(h, "<div class=\"figures\">");
	html_f(h, "<div class=\"figure\" data-n=\"median_1_2\"><span class=\"fig\">%s</span><span class=\"fig-label\">%s"
		  "</span></div>",
	       days_text(f->median_days_1_2, m1), T(c, "median days from the 1st to the 2nd visit"));
	html_f(h, "<div class=\"figure\" data-n=\"median_2_3\"><span class=\"fig\">%s</span><span class=\"fig-label\">%s"
		  "</span></div>",
	       days_text(f->median_days_2_3, m2), T(c, "median days from the 2nd to the 3rd visit"));
	html_f(h, "</div>\n");
	const char *lv = T(c, "Visit"), *lm = T(c, "Members"), *ls = T(c, "Of the first-timers");
	table_open(c, 4, T(c, "The funnel as a table"));
	html_f(h,
	       "<table class=\"data compact\"><thead><tr><th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th>"
	       "</tr></thead><tbody>\n",
	       lv, lm, ls);
	for (int i = 0; i < 4; i++) {
		html_f(h, "<tr data-row=\"%d\"><td data-label=\"%s\">%s</td>", reached[i], lv, names[i]);
		num_cell(c, "members", lm, href[i], v[i]);
		html_f(h, "<td data-label=\"%s\" class=\"num\">%s</td></tr>\n", ls, share(v[i], f->first, pc));
	}
	html_f(h, "</tbody></table></details>\n");
	csv_link(c, d, "funnel", NULL);
	html_f(h, "</section>\n");
}

/* ---- 3. cohorts ---- */

static void cohorts_section(dash *d, const hub_dash_cohorts *co)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], pc[24], n1[24], n2[24], tip[200];
	section_open(c, "cohorts", T(c, "Cohorts"),
		     T(c, "Members grouped by the month of their first visit, and the share of each group seen again "
			  "in each month after it. Darker cells: more of the month's newcomers kept coming."));
	if (co->ncohorts == 0) {
		html_f(h, "<p class=\"empty\">%s</p>\n", T(c, "Nobody came for the first time in this period."));
		html_f(h, "</section>\n");
		return;
	}
	html_f(h, "<p class=\"muted small\" id=\"cohorts-d\">%s</p><div class=\"scroll\"><table class=\"heat\" "
		  "aria-describedby=\"cohorts-d\"><thead><tr><th scope=\"col\">%s</th><th scope=\"col\" "
		  "class=\"num\">%s</th>",
	       T(c, "Share of each month's first-timers seen again 1, 2, 3... months later"), T(c, "First visit"),
	       T(c, "Members"));
	for (size_t k = 1; k <= co->max_offset; k++) {
		html_f(h, "<th scope=\"col\" class=\"num\">");
		SAY(c, "+%s mo.", cx_num((int64_t)k, n1));
		html_f(h, "</th>");
	}
	html_f(h, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < co->ncohorts; i++) {
		const char *month = co->month[i];
		html_f(h, "<tr data-row=\"%s\"><th scope=\"row\">%s</th><td class=\"num\" data-n=\"size\"><a href=\"%s\">%s</a>"
			  "</td>",
		       month, month,
		       mlink(d, href, sizeof href, "cohort", "&month=%s&n=0", month), cx_num(co->size[i], n1));
		for (size_t k = 1; k <= co->max_offset; k++) {
			int64_t seen = co->seen[i * co->max_offset + (k - 1)];
			int step = svg_heat_step(seen, co->size[i]);
			if (step < 0) {
				html_f(h, "<td class=\"none\"></td>");
				continue;
			}
			SAYF(c, tip, "%1$s of %2$s members", cx_num(seen, n1), cx_num(co->size[i], n2));
			html_f(h, "<td class=\"num h%d\" data-n=\"%zu\" title=\"%s\">", step, k, tip);
			if (seen > 0)
				html_f(h, "<a href=\"%s\">%s</a>",
				       mlink(d, href, sizeof href, "cohort", "&month=%s&n=%zu", month, k),
				       share(seen, co->size[i], pc));
			else
				html_f(h, "%s", share(seen, co->size[i], pc));
			html_f(h, "</td>");
		}
		html_f(h, "</tr>\n");
	}
	html_f(h, "</tbody></table></div>\n<p class=\"heat-key\" aria-hidden=\"true\"><span class=\"muted\">%s</span>",
	       T(c, "Shade:"));
	for (int s = 0; s <= 10; s += 2)
		html_f(h, "<span class=\"h%d\">%d%%</span>", s, s * 10);
	html_f(h, "</p>\n");
	csv_link(c, d, "cohorts", NULL);
	html_f(h, "</section>\n");
}

/* ---- 4. regulars and drifting ---- */

typedef struct mrows {
	dash *d;
	html rows;
	size_t shown;
	int cols; /* which optional columns: 1 tier and valid until */
} mrows;

static void member_row(dash *d, html *h, const hub_dash_member *m, int cols)
{
	cx *c = d->c;
	char phone[STORE_PHONE_MAX + 8], href[128], n[24];
	cx_mask_phone(m->phone, phone, sizeof phone);
	html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\"><a href=\"%s\">", m->uid, T(c, "Name"),
	       member_href(d, m->venue_id, m->uid, href, sizeof href));
	html_user(h, m->name);
	html_f(h, "</a></td><td data-label=\"%s\" class=\"nowrap\">%s</td>", T(c, "Phone"), phone[0] ? phone : "—");
	if (!c->has_venue) {
		const venue_tz *vt = venue_of(d, m->venue_id);
		html_f(h, "<td data-label=\"%s\">", T(c, "Venue"));
		html_user(h, vt ? vt->name : "");
		html_f(h, "</td>");
	}
	if (cols & 1) {
		html_f(h, "<td data-label=\"%s\">", T(c, "Tier"));
		html_user(h, m->tier ? m->tier : "");
		html_f(h, "</td><td data-label=\"%s\" class=\"nowrap\">%s</td>", T(c, "Valid until"),
		       m->expires ? m->expires : "");
	}
	html_f(h,
	       "<td data-label=\"%s\" class=\"num\">%s</td><td data-label=\"%s\" class=\"nowrap\">%s</td>"
	       "<td data-label=\"%s\" class=\"nowrap\">%s</td></tr>\n",
	       T(c, "Visits"), cx_num(m->visits, n), T(c, "First visit"), m->first_day[0] ? m->first_day : "—",
	       T(c, "Last visit"), m->last_day[0] ? m->last_day : "—");
}

static void members_head(dash *d, html *h, int cols)
{
	cx *c = d->c;
	html_f(h, "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th>", T(c, "Name"), T(c, "Phone"));
	if (!c->has_venue)
		html_f(h, "<th>%s</th>", T(c, "Venue"));
	if (cols & 1)
		html_f(h, "<th>%s</th><th>%s</th>", T(c, "Tier"), T(c, "Valid until"));
	html_f(h, "<th class=\"num\">%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n", T(c, "Visits"),
	       T(c, "First visit"), T(c, "Last visit"));
}

static int mrow_take(const hub_dash_member *m, void *ctx)
{
	mrows *x = ctx;
	member_row(x->d, &x->rows, m, x->cols);
	x->shown++;
	return 0;
}

static int count_only(const hub_dash_member *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return 0;
}

static void regulars_section(dash *d, int64_t regulars, int64_t drifting, mrows *dr)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], n1[24], n2[24], dn[24];
	section_open(c, "regulars", T(c, "Regulars and drifting members"),
		     T(c, "Regulars have come 3 times or more: the core of the community. Drifting regulars have not "
			  "been seen for a while: a message from you now is what brings most of them back."));
	html_f(h, "<div class=\"figures\">");
	figure(c, "regulars", mlink(d, href, sizeof href, "regulars", NULL), regulars, T(c, "regulars came in this period"));
	char label[160];
	SAYF(c, label, "drifting: not seen for %s days", cx_num(d->drift, dn));
	figure(c, "drifting", mlink(d, href, sizeof href, "drifting", "&n=%lld", (long long)d->drift), drifting, label);
	html_f(h, "</div>\n");
	html_f(h,
	       "<form class=\"toolbar drift\" method=\"get\" action=\"%s#regulars\">"
	       "<input type=\"hidden\" name=\"from\" value=\"%s\"><input type=\"hidden\" name=\"to\" value=\"%s\">"
	       "<label for=\"drift\">%s</label><input id=\"drift\" name=\"drift\" type=\"number\" min=\"1\" max=\"%d\" "
	       "value=\"%lld\" inputmode=\"numeric\"><button>%s</button></form>\n",
	       d->base, d->p.from, d->p.to, T(c, "Drifting after how many days without a visit"), DRIFT_MAX,
	       (long long)d->drift, T(c, "Show"));
	if (dr->shown == 0) {
		html_f(h, "<p class=\"empty\">%s</p>\n", T(c, "No regular is drifting away. Good."));
	} else {
		html_f(h, "<h3>%s</h3>", T(c, "Drifting, the most recently seen first"));
		members_head(d, h, 0);
		if (dr->rows.oom)
			h->oom = 1;
		else
			html_markup(h, dr->rows.buf, dr->rows.len);
		html_f(h, "</tbody></table>\n");
		if (drifting > (int64_t)dr->shown) {
			html_f(h, "<p class=\"muted\">");
			SAY(c, "Showing %1$s of %2$s.", cx_num((int64_t)dr->shown, n1), cx_num(drifting, n2));
			html_f(h, " <a href=\"%s\">%s</a></p>\n",
			       mlink(d, href, sizeof href, "drifting", "&n=%lld", (long long)d->drift),
			       T(c, "See them all"));
		}
	}
	char extra[32];
	snprintf(extra, sizeof extra, "&drift=%lld", (long long)d->drift);
	html_f(h, "<p class=\"csv\"><a href=\"%s?%s&amp;csv=drifting%s\" download>%s</a> <span class=\"muted\">%s</span></p>\n",
	       d->base, d->period_q, extra, T(c, "Download the drifting members as CSV"),
	       T(c, "The CSV has their full phone numbers, for reaching out: keep it among the organizers, and "
		    "delete it when you are done."));
	html_f(h, "</section>\n");
}

/* ---- 5. referrals ---- */

typedef struct ref_row {
	char uid[HUB_ID_MAX], name[STORE_NAME_MAX];
	int64_t brought, all, invites;
} ref_row;

typedef struct refs {
	ref_row r[REFERRERS_TOP];
	size_t n;
	csv *out;
} refs;

static int referrer_take(const hub_dash_referrer *r, void *ctx)
{
	refs *x = ctx;
	if (x->out) {
		char a[24], b[24], i[24];
		csv_cells(x->out, 4, r->name, cx_num(r->brought, a), cx_num(r->brought_all, b),
			  cx_num(r->invites_followed, i));
		return 0;
	}
	if (x->n == REFERRERS_TOP)
		return 1;
	ref_row *w = &x->r[x->n++];
	snprintf(w->uid, sizeof w->uid, "%s", r->uid ? r->uid : "");
	snprintf(w->name, sizeof w->name, "%s", r->name ? r->name : "");
	w->brought = r->brought;
	w->all = r->brought_all;
	w->invites = r->invites_followed;
	return 0;
}

static void referrals_section(dash *d, const refs *rf, int64_t invites)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], n1[24];
	section_open(c, "referrals", T(c, "Referrals"),
		     T(c, "Who brought whom: a member counts as brought when their first visit or sign-up came "
			  "through another member's invite. The people who bring others are the community's "
			  "connectors; thank them."));
	html_f(h, "<div class=\"figures\"><div class=\"figure\" data-n=\"invites\"><span class=\"fig\">%s</span><span "
		  "class=\"fig-label\">%s</span></div></div>\n",
	       cx_num(invites, n1), T(c, "invites followed (redirects carrying a member's invite)"));
	svg_hbar rows[REFERRERS_TOP];
	char hrefs[REFERRERS_TOP][256];
	size_t nr = 0;
	for (size_t i = 0; i < rf->n; i++)
		if (rf->r[i].brought > 0) {
			mlink(d, hrefs[nr], sizeof hrefs[nr], "referred_by", "&id=%s", rf->r[i].uid);
			rows[nr] = (svg_hbar){rf->r[i].name, NULL, hrefs[nr], rf->r[i].brought};
			nr++;
		}
	if (nr) {
		html_f(h, "<h3>%s</h3>", T(c, "Top referrers in this period"));
		svg_chart ch = {.id = "c-referrers",
			.cjk = c->lang != CL_EN,
				.title = T(c, "Top referrers in this period"),
				.desc = T(c, "Horizontal bars: the members who brought the most others in this period."),
				.empty = ""};
		svg_hbars(h, &ch, rows, nr);
	}
	if (rf->n == 0) {
		html_f(h, "<p class=\"empty\">%s</p>\n", T(c, "No referrals yet."));
	} else {
		const char *lm = T(c, "Member"), *lb = T(c, "Brought in this period"), *la = T(c, "Brought ever"),
			   *li = T(c, "Invites followed");
		html_f(h,
		       "<table class=\"data compact\"><thead><tr><th>%s</th><th class=\"num\">%s</th>"
		       "<th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead><tbody>\n",
		       lm, lb, la, li);
		for (size_t i = 0; i < rf->n; i++) {
			const ref_row *r = &rf->r[i];
			char tree[160];
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\"><a href=\"%s\" title=\"%s\">", r->uid, lm,
			       tree_href(d, r->uid, tree, sizeof tree), T(c, "Their referral tree"));
			html_user(h, r->name);
			html_f(h, "</a></td>");
			num_cell(c, "brought", lb, NULL, r->brought);
			num_cell(c, "brought_all", la, mlink(d, href, sizeof href, "referred_by", "&id=%s", r->uid), r->all);
			num_cell(c, "invites", li, NULL, r->invites);
			html_f(h, "</tr>\n");
		}
		html_f(h, "</tbody></table>\n");
	}
	if (c->has_venue)
		html_f(h,
		       "<form class=\"toolbar\" method=\"get\" action=\"%s/referrals\"><label for=\"who\" "
		       "class=\"sr-only\">%s</label><input id=\"who\" name=\"who\" placeholder=\"%s\" "
		       "autocomplete=\"off\" required><button>%s</button></form>\n",
		       d->base, T(c, "A member's code or id"), T(c, "A member's code or id"),
		       T(c, "Show whom they brought"));
	csv_link(c, d, "referrers", NULL);
	html_f(h, "</section>\n");
}

/* ---- 6. online groups ---- */

typedef struct redir_row {
	char slug[HUB_SLUG_MAX], day[11];
	int64_t redirects, missed, with_ref;
} redir_row;

typedef struct redirs {
	redir_row *r;
	size_t n, cap;
	int oom;
	csv *out;
} redirs;

static int redirect_take(const hub_dash_redirects *r, void *ctx)
{
	redirs *x = ctx;
	if (x->out) {
		char a[24], b[24], e[24];
		csv_cells(x->out, 5, r->slug, r->day, cx_num(r->redirects, a), cx_num(r->missed, b),
			  cx_num(r->with_ref, e));
		return 0;
	}
	redir_row w;
	snprintf(w.slug, sizeof w.slug, "%s", r->slug ? r->slug : "");
	snprintf(w.day, sizeof w.day, "%s", r->day);
	w.redirects = r->redirects;
	w.missed = r->missed;
	w.with_ref = r->with_ref;
	x->oom |= cx_append((void **)&x->r, &x->n, &x->cap, &w, sizeof w) != 0;
	return x->oom;
}

typedef struct link_row {
	char uid[HUB_ID_MAX], slug[HUB_SLUG_MAX], label[STORE_TITLE_MAX], platform[16];
	int64_t cap, redirects, expires_ms;
	int full, expired_live;
} link_row;

typedef struct links {
	link_row *r;
	size_t n, cap;
	int oom;
	csv *out;
	dash *d;
} links;

static int link_take(const hub_dash_link *l, void *ctx)
{
	links *x = ctx;
	if (x->out) {
		char a[24], b[24], when[17] = "";
		if (l->expires_ms > 0) {
			hub_time_cache tc = {.quarter = -1};
			hub_local_time(x->d->c->has_venue ? x->d->c->venue.tz : "UTC", l->expires_ms, &tc, when);
		}
		csv_cells(x->out, 7, l->label, l->slug, l->platform, l->cap ? cx_num(l->cap, a) : "",
			  cx_num(l->redirects, b), when, l->full ? "full" : l->expired_while_live ? "expired while live" : "");
		return 0;
	}
	if (x->n >= 200)
		return 1;
	link_row w;
	memset(&w, 0, sizeof w);
	snprintf(w.uid, sizeof w.uid, "%s", l->uid ? l->uid : "");
	snprintf(w.slug, sizeof w.slug, "%s", l->slug ? l->slug : "");
	snprintf(w.label, sizeof w.label, "%s", l->label ? l->label : "");
	snprintf(w.platform, sizeof w.platform, "%s", l->platform ? l->platform : "");
	w.cap = l->cap;
	w.redirects = l->redirects;
	w.expires_ms = l->expires_ms;
	w.full = l->full;
	w.expired_live = l->expired_while_live;
	x->oom |= cx_append((void **)&x->r, &x->n, &x->cap, &w, sizeof w) != 0;
	return x->oom;
}

typedef struct slug_sum {
	char slug[HUB_SLUG_MAX];
	int64_t redirects, missed, with_ref;
} slug_sum;

static int by_redirects(const void *a, const void *b)
{
	const slug_sum *x = a, *y = b;
	if (x->redirects != y->redirects)
		return x->redirects < y->redirects ? 1 : -1;
	return strcmp(x->slug, y->slug);
}

/* Every live code's totals over the period, most redirects first; *n of them (malloc'd). */
static slug_sum *slug_sums(const redirs *rd, size_t *n)
{
	slug_sum *s = NULL;
	size_t ns = 0, cap = 0;
	for (size_t i = 0; i < rd->n; i++) {
		size_t k = 0;
		while (k < ns && strcmp(s[k].slug, rd->r[i].slug) != 0)
			k++;
		if (k == ns) {
			slug_sum z;
			memset(&z, 0, sizeof z);
			snprintf(z.slug, sizeof z.slug, "%s", rd->r[i].slug);
			if (cx_append((void **)&s, &ns, &cap, &z, sizeof z) != 0)
				break;
		}
		s[k].redirects += rd->r[i].redirects;
		s[k].missed += rd->r[i].missed;
		s[k].with_ref += rd->r[i].with_ref;
	}
	if (ns)
		qsort(s, ns, sizeof *s, by_redirects);
	*n = ns;
	return s;
}

static void groups_section(dash *d, const redirs *rd, const slug_sum *sums, size_t nsums, const links *lk,
			   const hub_dash_groups *g)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], n1[24], n2[24], pc[24];
	section_open(c, "groups", T(c, "Online groups"),
		     T(c, "How people reach the online groups through the venue's live codes, and what got in their "
			  "way: a group link that was full or had expired leaves newcomers outside the group."));

	/* the share of first-timers shown the group's join QR at the kiosk */
	html_f(h, "<div class=\"figures\"><div class=\"figure\" data-n=\"shown_qr\"><span class=\"fig\">%s</span><span "
		  "class=\"fig-label\">",
	       share(g->first_timers_shown_qr, g->first_timers, pc));
	SAY(c, "of the %1$s first-timers were shown the group's join QR at the kiosk (%2$s of them)",
	    cx_num(g->first_timers, n1), cx_num(g->first_timers_shown_qr, n2));
	html_f(h, "</span></div>");
	int64_t all = 0, missed = 0;
	for (size_t i = 0; i < nsums; i++) {
		all += sums[i].redirects;
		missed += sums[i].missed;
	}
	figure(c, "redirects", NULL, all, T(c, "sent to a group by a live code"));
	figure(c, "missed", NULL, missed, T(c, "found no valid group link"));
	html_f(h, "</div>\n");

	/* redirects per live code: per day over a short period, per week over a long one */
	int weekly = d->days > DAILY_MAX_DAYS;
	int64_t d0 = day_num(d->p.from);
	int64_t first_monday = d0 - ((d0 + 3) % 7);
	size_t nx = weekly ? (size_t)((day_num(d->p.to) - first_monday) / 7 + 1) : (size_t)d->days;
	size_t ns = nsums < SVG_SERIES_MAX ? nsums : SVG_SERIES_MAX;
	int64_t *vals = calloc(nx * (ns ? ns : 1), sizeof *vals);
	char(*labels)[11] = calloc(nx, sizeof *labels);
	const char **lp = calloc(nx, sizeof *lp);
	if (!vals || !labels || !lp) {
		h->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < nx; i++) {
		char day[11];
		clock_day_text(weekly ? first_monday + (int64_t)i * 7 : d0 + (int64_t)i, day);
		snprintf(labels[i], sizeof labels[i], "%.5s", day + 5);
		lp[i] = labels[i];
	}
	for (size_t i = 0; i < rd->n; i++) {
		size_t s = 0;
		while (s < ns && strcmp(sums[s].slug, rd->r[i].slug) != 0)
			s++;
		if (s == ns)
			continue; /* a code beyond the ones drawn: in the table */
		int64_t dn = day_num(rd->r[i].day);
		int64_t x = weekly ? (dn - first_monday) / 7 : dn - d0;
		if (x >= 0 && (size_t)x < nx)
			vals[s * nx + (size_t)x] += rd->r[i].redirects;
	}
	svg_chart ch = {.id = "c-redirects",
			.cjk = c->lang != CL_EN,
			.title = weekly ? T(c, "Redirects to the groups per week, per live code")
					: T(c, "Redirects to the groups per day, per live code"),
			.desc = T(c, "Lines, one per live code (told apart by their dashes): how many people each "
				     "code sent to a group."),
			.empty = T(c, "No live code was used in this period.")};
	for (size_t s = 0; s < ns; s++)
		ch.series[s] = sums[s].slug;
	html_f(h, "<h3>%s</h3>", ch.title);
	svg_lines(h, &ch, lp, nx, vals, ns);
	if (nsums) {
		const char *lc = T(c, "Live code"), *lr = T(c, "Redirects"), *lm = T(c, "Found no link"),
			   *lw = T(c, "With an invite");
		table_open(c, nsums, T(c, "The live codes as a table"));
		html_f(h,
		       "<table class=\"data compact\"><thead><tr><th>%s</th><th class=\"num\">%s</th>"
		       "<th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead><tbody>\n",
		       lc, lr, lm, lw);
		for (size_t i = 0; i < nsums; i++) {
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\" class=\"mono\">%s</td>", sums[i].slug, lc,
			       sums[i].slug);
			num_cell(c, "redirects", lr, NULL, sums[i].redirects);
			num_cell(c, "missed", lm, NULL, sums[i].missed);
			num_cell(c, "with_ref", lw, NULL, sums[i].with_ref);
			html_f(h, "</tr>\n");
		}
		html_f(h, "</tbody></table></details>\n");
	}
	csv_link(c, d, "redirects", NULL);

	/* links that were full or expired in use */
	html_f(h, "<h3>%s</h3>", T(c, "Group links that left people outside"));
	if (lk->n == 0) {
		html_f(h, "<p class=\"empty\">%s</p>\n",
		       T(c, "No group link reached its cap or expired while its live code still led to it."));
	} else {
		const char *ll = T(c, "Link"), *lpf = T(c, "Platform"), *lcap = T(c, "Cap"), *lr = T(c, "Redirects"),
			   *lwh = T(c, "What happened");
		html_f(h,
		       "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th class=\"num\">%s</th>"
		       "<th class=\"num\">%s</th><th>%s</th></tr></thead><tbody>\n",
		       ll, lpf, lcap, lr, lwh);
		for (size_t i = 0; i < lk->n; i++) {
			const link_row *l = &lk->r[i];
			char when[17];
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\">", l->uid, ll);
			if (c->has_venue)
				html_f(h, "<a href=\"/venues/%s/links\">", c->venue.id);
			html_user(h, l->label);
			if (c->has_venue)
				html_f(h, "</a>");
			html_f(h, " <span class=\"muted mono\">%s</span></td><td data-label=\"%s\">%s</td>", l->slug, lpf,
			       l->platform);
			html_f(h, "<td data-label=\"%s\" class=\"num\">%s</td>", lcap, l->cap ? cx_num(l->cap, n1) : "—");
			num_cell(c, "redirects", lr, NULL, l->redirects);
			html_f(h, "<td data-label=\"%s\">", lwh);
			if (l->full)
				html_f(h, "<span class=\"badge warn\" data-n=\"full\">%s</span> ", T(c, "reached its cap"));
			if (l->expired_live) {
				html_f(h, "<span class=\"badge bad\" data-n=\"expired_live\">%s</span> ",
				       T(c, "expired while in use"));
				if (l->expires_ms > 0 && c->has_venue)
					html_f(h, "<span class=\"nowrap\">%s</span>", cx_time(c, l->expires_ms, when));
			}
			html_f(h, "</td></tr>\n");
		}
		html_f(h, "</tbody></table>\n");
	}
	csv_link(c, d, "links", NULL);
	(void)href;
out:
	free(vals);
	free(labels);
	free(lp);
	html_f(h, "</section>\n");
}

/* ---- 7. tiers and renewals ---- */

typedef struct tier_row {
	char tier[STORE_TIER_MAX];
	int64_t members;
} tier_row;

typedef struct tiers {
	tier_row r[32];
	size_t n, total;
	csv *out;
} tiers;

static int tier_take(const hub_dash_tier *t, void *ctx)
{
	tiers *x = ctx;
	x->total++;
	if (x->out) {
		char a[24];
		csv_cells(x->out, 2, t->tier, cx_num(t->members, a));
		return 0;
	}
	if (x->n < sizeof x->r / sizeof x->r[0]) {
		snprintf(x->r[x->n].tier, sizeof x->r[x->n].tier, "%s", t->tier ? t->tier : "");
		x->r[x->n].members = t->members;
		x->n++;
	}
	return 0;
}

static void tiers_section(dash *d, const tiers *tr, const hub_dash_tiers *t)
{
	cx *c = d->c;
	html *h = &c->h;
	char href[256], n1[24], n2[24];
	section_open(c, "tiers", T(c, "Tiers and renewals"),
		     T(c, "The members of each tier today, the memberships that end soon (a reminder before they end "
			  "keeps them), and members whose membership has ended but who still come."));
	html_f(h, "<div class=\"figures\">");
	figure(c, "expiring", mlink(d, href, sizeof href, "expiring", "&n=30"), t->expiring,
	       T(c, "memberships end within 30 days"));
	figure(c, "expired_coming", mlink(d, href, sizeof href, "expired_coming", NULL), t->expired_coming,
	       T(c, "came after their membership ended"));
	html_f(h, "</div>\n");
	svg_hbar rows[32];
	char hrefs[32][300], enc[3 * STORE_TIER_MAX];
	for (size_t i = 0; i < tr->n; i++) {
		html_urlencode(tr->r[i].tier, enc, sizeof enc);
		mlink(d, hrefs[i], sizeof hrefs[i], "tier", "&tier=%s", enc);
		rows[i] = (svg_hbar){tr->r[i].tier[0] ? tr->r[i].tier : T(c, "No tier"), NULL, hrefs[i], tr->r[i].members};
	}
	svg_chart ch = {.id = "c-tiers",
			.cjk = c->lang != CL_EN,
			.title = T(c, "Members by tier"),
			.desc = T(c, "Horizontal bars: the current members of each tier."),
			.empty = T(c, "No members yet.")};
	html_f(h, "<h3>%s</h3>", ch.title);
	svg_hbars(h, &ch, rows, tr->n);
	if (tr->total > tr->n) {
		html_f(h, "<p class=\"muted\">");
		SAY(c, "Showing %1$s of %2$s tiers; the CSV has all of them.", cx_num((int64_t)tr->n, n1),
		    cx_num((int64_t)tr->total, n2));
		html_f(h, "</p>");
	}
	if (tr->n) {
		const char *lt = T(c, "Tier"), *lm = T(c, "Members");
		table_open(c, tr->n, T(c, "The tiers as a table"));
		html_f(h,
		       "<table class=\"data compact\"><thead><tr><th>%s</th><th class=\"num\">%s</th></tr></thead>"
		       "<tbody>\n",
		       lt, lm);
		for (size_t i = 0; i < tr->n; i++) {
			html_f(h, "<tr data-row=\"%s\"><td data-label=\"%s\">", tr->r[i].tier, lt);
			html_user(h, tr->r[i].tier[0] ? tr->r[i].tier : T(c, "No tier"));
			html_f(h, "</td>");
			num_cell(c, "members", lm, hrefs[i], tr->r[i].members);
			html_f(h, "</tr>\n");
		}
		html_f(h, "</tbody></table></details>\n");
	}
	csv_link(c, d, "tiers", NULL);
	html_f(h, "</section>\n");
}

/* ---- the page ---- */

static void period_bar(dash *d)
{
	cx *c = d->c;
	html *h = &c->h;
	char n1[24];
	html_f(h, "<p class=\"sub\">");
	SAY(c, "From %1$s to %2$s (%3$s days).", d->p.from, d->p.to, cx_num(d->days, n1));
	html_f(h, " ");
	if (c->has_venue)
		SAY(c, "Days are counted in the venue's time zone (%s).", c->venue.tz);
	else
		html_f(h, "%s", T(c, "All venues together, each counting days in its own time zone."));
	html_f(h, "</p>\n");
	if (d->refused)
		html_f(h, "<p class=\"alert warn\" role=\"alert\">%s</p>\n",
		       T(c, "That period could not be shown (a day is YYYY-MM-DD, the start comes before the end, at "
			    "most five years): here are the last 90 days."));
	html_f(h, "<nav class=\"periods no-print\" aria-label=\"%s\">", T(c, "Period"));
	for (int i = 0; i < 4; i++) {
		char from[11];
		preset(d, i, from);
		int cur = strcmp(from, d->p.from) == 0 && strcmp(d->today, d->p.to) == 0;
		html_f(h, "<a href=\"%s?from=%s&to=%s\"%s>%s</a>", d->base, from, d->today, cur ? " aria-current=\"true\"" : "",
		       T(c, preset_names[i]));
	}
	html_f(h,
	       "<form method=\"get\" action=\"%s\"><label>%s <input type=\"date\" name=\"from\" value=\"%s\" "
	       "required></label><label>%s <input type=\"date\" name=\"to\" value=\"%s\" required></label>",
	       d->base, T(c, "From"), d->p.from, T(c, "To"), d->p.to);
	if (d->drift != DRIFT_DEFAULT) /* a changed period keeps the drift asked for */
		html_f(h, "<input type=\"hidden\" name=\"drift\" value=\"%lld\">", (long long)d->drift);
	html_f(h, "<button>%s</button></form></nav>\n", T(c, "Show"));
	html_f(h,
	       "<nav class=\"toc no-print\" aria-label=\"%s\"><a href=\"#attendance\">%s</a><a href=\"#funnel\">%s</a>"
	       "<a href=\"#cohorts\">%s</a><a href=\"#regulars\">%s</a><a href=\"#referrals\">%s</a>"
	       "<a href=\"#groups\">%s</a><a href=\"#tiers\">%s</a></nav>\n",
	       T(c, "Sections"), T(c, "Attendance"), T(c, "The tie funnel"), T(c, "Cohorts"),
	       T(c, "Regulars and drifting members"), T(c, "Referrals"), T(c, "Online groups"),
	       T(c, "Tiers and renewals"));
}

static const char *const csv_sections[] = {"weeks",	"events",    "funnel", "cohorts", "drifting",
					   "referrers", "redirects", "links",  "tiers"};

static void dash_csv(dash *d, const char *section)
{
	cx *c = d->c;
	const hub_store_ops *o = c->st->ops;
	hub_err e = HUB_OK;
	csv out;
	char a[24], b[24], x[24], y[24], pc[24];
	if (csv_open(c, &out) != 0)
		return;
	if (strcmp(section, "weeks") == 0) {
		hub_dash_attendance at;
		memset(&at, 0, sizeof at);
		csv_cells(&out, 5, "week", "visits", "members", "first_timers", "returning");
		e = o->dash_attendance(c->st, &d->p, &at);
		for (size_t i = 0; e == HUB_OK && i < at.nweeks; i++) {
			const hub_dash_week *w = &at.weeks[i];
			csv_cells(&out, 5, w->monday, cx_num(w->visits, a), cx_num(w->members, b),
				  cx_num(w->first_timers, x), cx_num(w->members - w->first_timers, y));
		}
		free(at.weeks);
	} else if (strcmp(section, "events") == 0) {
		events ev = {.out = &out, .d = d};
		csv_cells(&out, 6, "event", "start", "visits", "first_timers", "cancelled", "venue");
		e = o->dash_events(c->st, &d->p, event_take, &ev);
	} else if (strcmp(section, "funnel") == 0) {
		hub_dash_funnel f;
		e = o->dash_funnel(c->st, &d->p, &f);
		if (e == HUB_OK) {
			char m1[24], m2[24];
			csv_cells(&out, 3, "visit", "members", "share_of_first");
			csv_cells(&out, 3, "1", cx_num(f.first, a), share(f.first, f.first, pc));
			csv_cells(&out, 3, "2", cx_num(f.second, a), share(f.second, f.first, pc));
			csv_cells(&out, 3, "3", cx_num(f.third, a), share(f.third, f.first, pc));
			csv_cells(&out, 3, "10", cx_num(f.tenth, a), share(f.tenth, f.first, pc));
			csv_cells(&out, 3, "median_days_1_2", days_text(f.median_days_1_2, m1), "");
			csv_cells(&out, 3, "median_days_2_3", days_text(f.median_days_2_3, m2), "");
		}
	} else if (strcmp(section, "cohorts") == 0) {
		hub_dash_cohorts co;
		memset(&co, 0, sizeof co);
		e = o->dash_cohorts(c->st, &d->p, &co);
		if (e == HUB_OK) {
			/* counts in the file (the page shows shares): month, size, then the members seen k months on */
			fputs("month,members", out.f);
			for (size_t k = 1; k <= co.max_offset; k++)
				fprintf(out.f, ",month_%zu", k);
			fputc('\n', out.f);
			for (size_t i = 0; i < co.ncohorts; i++) {
				csv_out_cell(out.f, co.month[i], 0);
				csv_out_cell(out.f, cx_num(co.size[i], a), co.max_offset == 0);
				for (size_t k = 1; k <= co.max_offset; k++) {
					int64_t s = co.seen[i * co.max_offset + (k - 1)];
					csv_out_cell(out.f, s < 0 ? "" : cx_num(s, a), k == co.max_offset);
				}
			}
		}
		hub_dash_cohorts_free(&co);
	} else if (strcmp(section, "referrers") == 0) {
		refs rf = {.out = &out};
		csv_cells(&out, 4, "member", "brought_in_period", "brought_ever", "invites_followed");
		e = o->dash_referrers(c->st, &d->p, 0, referrer_take, &rf);
	} else if (strcmp(section, "redirects") == 0) {
		redirs rd = {.out = &out};
		csv_cells(&out, 5, "live_code", "day", "redirects", "found_no_link", "with_invite");
		e = o->dash_redirects(c->st, &d->p, redirect_take, &rd);
	} else if (strcmp(section, "links") == 0) {
		links lk = {.out = &out, .d = d};
		csv_cells(&out, 7, "link", "live_code", "platform", "cap", "redirects", "expires", "what_happened");
		e = o->dash_links(c->st, &d->p, link_take, &lk);
	} else if (strcmp(section, "tiers") == 0) {
		tiers tr = {.out = &out};
		hub_dash_tiers t;
		csv_cells(&out, 2, "tier", "members");
		e = o->dash_tiers(c->st, &d->p, tier_take, &tr, &t);
	}
	csv_done(c, d, &out, strcmp(section, "drifting") == 0 ? "drifting" : section, e);
}

/* The members of a list as CSV rows: full phones (the file is for reaching out). */
typedef struct mcsv {
	dash *d;
	csv *out;
} mcsv;

static int mcsv_row(const hub_dash_member *m, void *ctx)
{
	mcsv *x = ctx;
	char v[24], r[24];
	const venue_tz *vt = venue_of(x->d, m->venue_id);
	csv_cells(x->out, 10, m->name, m->phone, m->code, m->tier, m->expires, cx_num(m->visits, v), m->first_day,
		  m->last_day, cx_num(m->referrals, r), x->d->c->has_venue ? x->d->c->venue.name : (vt ? vt->name : ""));
	return 0;
}

static void members_csv(dash *d, hub_dash_list list, const char *arg, int64_t n, const char *what)
{
	cx *c = d->c;
	csv out;
	if (csv_open(c, &out) != 0)
		return;
	csv_cells(&out, 10, "name", "phone", "code", "tier", "expires", "visits", "first_visit", "last_visit",
		  "brought", "venue");
	mcsv x = {d, &out};
	int64_t total = 0;
	hub_err e = c->st->ops->dash_members(c->st, &d->p, list, arg, n, 0, &total, mcsv_row, &x);
	csv_done(c, d, &out, what, e);
}

static void dash_page(cx *c)
{
	dash d;
	if (dash_init(c, &d) != 0)
		return;
	const hub_store_ops *o = c->st->ops;
	hub_err e = o->dash_refresh(c->st, d.p.venue_id);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		dash_free(&d);
		return;
	}
	const char *section = form_get(&c->form, "csv");
	if (section) {
		for (size_t i = 0; i < sizeof csv_sections / sizeof csv_sections[0]; i++)
			if (strcmp(section, csv_sections[i]) == 0) {
				if (strcmp(section, "drifting") == 0)
					members_csv(&d, HUB_DL_DRIFTING, NULL, d.drift, "drifting");
				else
					dash_csv(&d, section);
				dash_free(&d);
				return;
			}
		page_fail(c, 404, T(c, "There is no such page."));
		dash_free(&d);
		return;
	}

	/* every question asked once, before the page is written: a failure is a whole error page */
	hub_dash_attendance at;
	hub_dash_funnel fu;
	hub_dash_cohorts co;
	hub_dash_groups gr;
	hub_dash_tiers ti;
	memset(&at, 0, sizeof at);
	memset(&co, 0, sizeof co);
	memset(&ti, 0, sizeof ti);
	memset(&gr, 0, sizeof gr);
	memset(&fu, 0, sizeof fu);
	events ev = {.d = &d};
	refs rf = {.n = 0};
	redirs rd = {.n = 0};
	links lk = {.d = &d};
	tiers tr = {.n = 0};
	mrows dr = {.d = &d};
	html_init(&dr.rows);
	int64_t regulars = 0, drifting = 0;
	slug_sum *sums = NULL;
	size_t nsums = 0;

	e = o->dash_attendance(c->st, &d.p, &at);
	if (e == HUB_OK)
		e = o->dash_events(c->st, &d.p, event_take, &ev);
	if (e == HUB_OK)
		e = o->dash_funnel(c->st, &d.p, &fu);
	if (e == HUB_OK)
		e = o->dash_cohorts(c->st, &d.p, &co);
	if (e == HUB_OK)
		e = o->dash_members(c->st, &d.p, HUB_DL_REGULARS, NULL, 0, 1, &regulars, count_only, NULL);
	if (e == HUB_OK)
		e = o->dash_members(c->st, &d.p, HUB_DL_DRIFTING, NULL, d.drift, DRIFT_SHOWN, &drifting, mrow_take, &dr);
	if (e == HUB_OK)
		e = o->dash_referrers(c->st, &d.p, REFERRERS_TOP, referrer_take, &rf);
	if (e == HUB_OK)
		e = o->dash_redirects(c->st, &d.p, redirect_take, &rd);
	if (e == HUB_OK)
		e = o->dash_links(c->st, &d.p, link_take, &lk);
	if (e == HUB_OK)
		e = o->dash_groups(c->st, &d.p, &gr);
	if (e == HUB_OK)
		e = o->dash_tiers(c->st, &d.p, tier_take, &tr, &ti);
	if (e == HUB_OK && (ev.oom || rd.oom || lk.oom))
		e = HUB_ERR;
	if (e != HUB_OK) {
		page_store_failed(c, e);
		goto out;
	}
	sums = slug_sums(&rd, &nsums);
	int64_t invites = 0;
	for (size_t i = 0; i < nsums; i++)
		invites += sums[i].with_ref;

	page_begin(c, T(c, "Dashboard"), "dashboard");
	html_f(&c->h, "<div class=\"dash\"><h1>%s</h1>\n",
	       c->has_venue ? T(c, "Dashboard") : T(c, "Dashboard of all venues"));
	period_bar(&d);
	attendance_section(&d, &at, &ev);
	funnel_section(&d, &fu);
	cohorts_section(&d, &co);
	regulars_section(&d, regulars, drifting, &dr);
	referrals_section(&d, &rf, invites);
	groups_section(&d, &rd, sums, nsums, &lk, &gr);
	tiers_section(&d, &tr, &ti);
	html_f(&c->h, "</div>\n");
	page_end(c);
out:
	free(at.weeks);
	hub_dash_cohorts_free(&co);
	free(ev.r);
	free(rd.r);
	free(lk.r);
	free(sums);
	html_free(&dr.rows);
	dash_free(&d);
}

/* ---- the members behind a number ---- */

typedef struct list_def {
	const char *name;
	hub_dash_list list;
	const char *title; /* a sentence with the list's value in it, when it has one */
} list_def;

static const list_def lists[] = {
    {"visited", HUB_DL_VISITED, N_("Members who came in this period")},
    {"first_timers", HUB_DL_FIRST_TIMERS, N_("First-timers: their first visit ever was in this period")},
    {"returning", HUB_DL_RETURNING, N_("Returning: came in this period, and had come before it")},
    {"reached", HUB_DL_REACHED, N_("First visit in this period, and %s visits or more by now")},
    {"cohort", HUB_DL_COHORT, N_("First visit in %1$s, and seen again %2$s months later")},
    {"regulars", HUB_DL_REGULARS, N_("Regulars (3 visits or more) who came in this period")},
    {"drifting", HUB_DL_DRIFTING, N_("Regulars not seen for %s days, the most recently seen first")},
    {"event", HUB_DL_EVENT, N_("Who came to %s")},
    {"week", HUB_DL_WEEK, N_("Who came in the week of %s")},
    {"referred_by", HUB_DL_REFERRED_BY, N_("Brought by %s")},
    {"tier", HUB_DL_TIER, N_("Current members of the tier %s")},
    {"expiring", HUB_DL_EXPIRING, N_("Memberships that end within %s days")},
    {"expired_coming", HUB_DL_EXPIRED_COMING, N_("Came in this period after their membership had ended")},
};

static void members_page(cx *c)
{
	dash d;
	if (dash_init(c, &d) != 0)
		return;
	const char *name = form_get(&c->form, "list");
	const list_def *ld = NULL;
	for (size_t i = 0; name && i < sizeof lists / sizeof lists[0]; i++)
		if (strcmp(name, lists[i].name) == 0)
			ld = &lists[i];
	if (!ld) {
		page_fail(c, 404, T(c, "There is no such list."));
		dash_free(&d);
		return;
	}
	const char *n_s = form_get(&c->form, "n");
	int64_t n = n_s && check_digits(n_s, 5) ? atoll(n_s) : -1;
	const char *arg = NULL;
	char title[600], argbuf[STORE_TITLE_MAX + 8], n1[24], n2[24], extra[300] = "";
	const char *bad = NULL;
	int cols = 0;
	hub_err e;
	switch (ld->list) {
	case HUB_DL_REACHED:
		if (n < 2 || n > 100000)
			bad = name;
		else {
			SAYF(c, title, ld->title, cx_num(n, n1));
			snprintf(extra, sizeof extra, "&n=%lld", (long long)n);
		}
		break;
	case HUB_DL_COHORT:
		arg = form_get(&c->form, "month");
		if (!arg || !check_month(arg) || n < 0 || n > 1200)
			bad = name;
		else {
			if (n == 0)
				SAYF(c, title, "First visit in %s", arg);
			else
				SAYF(c, title, ld->title, arg, cx_num(n, n1));
			snprintf(extra, sizeof extra, "&month=%s&n=%lld", arg, (long long)n);
		}
		break;
	case HUB_DL_DRIFTING:
	case HUB_DL_EXPIRING:
		if (n < 1 || n > DRIFT_MAX)
			n = 30;
		SAYF(c, title, ld->title, cx_num(n, n1));
		snprintf(extra, sizeof extra, "&n=%lld", (long long)n);
		cols = ld->list == HUB_DL_EXPIRING;
		break;
	case HUB_DL_WEEK:
		arg = form_get(&c->form, "monday");
		if (!arg || !arg[0] || !check_day(arg) || (day_num(arg) + 3) % 7 != 0) /* a Monday */
			bad = name;
		else {
			SAYF(c, title, ld->title, arg);
			snprintf(extra, sizeof extra, "&monday=%s", arg);
		}
		break;
	case HUB_DL_EVENT: {
		arg = form_get(&c->form, "id");
		hub_event ev;
		if (!arg || !check_hex(arg, HUB_ID_LEN))
			bad = name;
		else if ((e = c->st->ops->event_get(c->st, arg, &ev)) != HUB_OK ||
			 (c->has_venue && strcmp(ev.venue_id, c->venue.id) != 0)) {
			if (e != HUB_OK && e != HUB_NOT_FOUND) {
				page_store_failed(c, e);
				dash_free(&d);
				return;
			}
			page_fail(c, 404, T(c, "There is no such event in this venue."));
			dash_free(&d);
			return;
		} else {
			snprintf(argbuf, sizeof argbuf, "%s", ev.title);
			SAYF(c, title, ld->title, argbuf);
			snprintf(extra, sizeof extra, "&id=%s", arg);
		}
		break;
	}
	case HUB_DL_REFERRED_BY: {
		arg = form_get(&c->form, "id");
		hub_member m;
		if (!arg || !check_hex(arg, HUB_ID_LEN))
			bad = name;
		else if ((e = c->st->ops->member_get(c->st, arg, &m)) != HUB_OK ||
			 (c->has_venue && strcmp(m.venue_id, c->venue.id) != 0)) {
			if (e != HUB_OK && e != HUB_NOT_FOUND) {
				page_store_failed(c, e);
				dash_free(&d);
				return;
			}
			page_fail(c, 404, T(c, "There is no such member in this venue."));
			dash_free(&d);
			return;
		} else {
			SAYF(c, title, ld->title, m.name);
			snprintf(extra, sizeof extra, "&id=%s", arg);
		}
		break;
	}
	case HUB_DL_TIER: {
		arg = form_get(&c->form, "tier");
		if (!arg || !check_text(arg, STORE_TIER_MAX - 1, 1))
			bad = name;
		else {
			char enc[3 * STORE_TIER_MAX];
			SAYF(c, title, ld->title, arg[0] ? arg : T(c, "No tier"));
			snprintf(extra, sizeof extra, "&tier=%s", html_urlencode(arg, enc, sizeof enc));
			cols = 1;
		}
		break;
	}
	case HUB_DL_EXPIRED_COMING:
		cols = 1;
		/* fall through */
	default:
		snprintf(title, sizeof title, "%s", T(c, ld->title));
		break;
	}
	if (bad) {
		page_fail(c, 404, T(c, "There is no such list."));
		dash_free(&d);
		return;
	}
	if (n < 0)
		n = 0;
	e = c->st->ops->dash_refresh(c->st, d.p.venue_id);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		dash_free(&d);
		return;
	}
	if (form_get(&c->form, "csv")) {
		members_csv(&d, ld->list, arg, n, ld->name);
		dash_free(&d);
		return;
	}
	mrows mr = {.d = &d, .cols = cols};
	html_init(&mr.rows);
	int64_t total = 0;
	e = c->st->ops->dash_members(c->st, &d.p, ld->list, arg, n, LIST_SHOWN, &total, mrow_take, &mr);
	if (e != HUB_OK) {
		html_free(&mr.rows);
		if (e == HUB_INVALID) /* an argument the store does not take */
			page_fail(c, 404, T(c, "There is no such list."));
		else
			page_store_failed(c, e);
		dash_free(&d);
		return;
	}
	page_begin(c, title, "dashboard");
	html_f(&c->h, "<div class=\"dash\"><p class=\"muted\"><a href=\"%s?%s\">%s</a></p><h1>", d.base, d.period_q,
	       T(c, "Dashboard"));
	html_text(&c->h, title);
	html_f(&c->h, "</h1><p class=\"sub\">");
	if (ld->list == HUB_DL_TIER || ld->list == HUB_DL_EXPIRING || ld->list == HUB_DL_DRIFTING ||
	    ld->list == HUB_DL_REFERRED_BY)
		SAY(c, "As of %s.", d.p.to);
	else
		SAY(c, "From %1$s to %2$s (%3$s days).", d.p.from, d.p.to, cx_num(d.days, n1));
	html_f(&c->h, "</p>\n<section class=\"card\" data-n=\"%lld\">", (long long)total);
	if (mr.shown == 0) {
		html_f(&c->h, "<p class=\"empty\">%s</p>\n", T(c, "Nobody."));
	} else {
		html_f(&c->h, "<p class=\"muted\">");
		if (total > (int64_t)mr.shown)
			SAY(c, "%1$s in all; showing %2$s. The CSV has all of them.", cx_num(total, n1),
			    cx_num((int64_t)mr.shown, n2));
		else
			SAY(c, "%s in all.", cx_num(total, n1));
		html_f(&c->h, " <a href=\"%s/members?list=%s&amp;%s%s&amp;csv=1\" download>%s</a></p>\n", d.base, ld->name,
		       d.period_q, extra, T(c, "Download as CSV"));
		html_f(&c->h, "<p class=\"muted small\">%s</p>",
		       T(c, "The CSV has full phone numbers, for reaching out: keep it among the organizers, and "
			    "delete it when you are done."));
		members_head(&d, &c->h, cols);
		if (mr.rows.oom)
			c->h.oom = 1;
		else
			html_markup(&c->h, mr.rows.buf, mr.rows.len);
		html_f(&c->h, "</tbody></table>\n");
	}
	html_f(&c->h, "</section></div>\n");
	html_free(&mr.rows);
	page_end(c);
	dash_free(&d);
}

/* ---- a member's referral tree ---- */

typedef struct node {
	char uid[HUB_ID_MAX], name[STORE_NAME_MAX], day[11], via[12];
	int depth;
} node;

typedef struct tree {
	node *r;
	size_t n, cap, total;
	int oom;
} tree;

static int node_take(const hub_dash_referral *r, void *ctx)
{
	tree *t = ctx;
	t->total++;
	if (t->n == TREE_MAX)
		return 0;
	node w;
	memset(&w, 0, sizeof w);
	snprintf(w.uid, sizeof w.uid, "%s", r->member_uid ? r->member_uid : "");
	snprintf(w.name, sizeof w.name, "%s", r->member_name ? r->member_name : "");
	snprintf(w.day, sizeof w.day, "%s", r->day);
	snprintf(w.via, sizeof w.via, "%s", r->via ? r->via : "");
	w.depth = r->depth;
	t->oom |= cx_append((void **)&t->r, &t->n, &t->cap, &w, sizeof w) != 0;
	return t->oom;
}

static const char *via_text(cx *c, const char *via)
{
	if (strcmp(via, "visit") == 0)
		return T(c, "at their first visit");
	if (strcmp(via, "signup") == 0)
		return T(c, "at sign-up");
	if (strcmp(via, "console") == 0)
		return T(c, "noted in the console");
	return via;
}

static void tree_page(cx *c)
{
	dash d;
	if (dash_init(c, &d) != 0)
		return;
	hub_member m;
	hub_err e = c->st->ops->member_get(c->st, c->id, &m);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(m.venue_id, c->venue.id) != 0)) {
		page_fail(c, 404, T(c, "There is no such member in this venue."));
		dash_free(&d);
		return;
	}
	if (e == HUB_OK)
		e = c->st->ops->dash_refresh(c->st, c->venue.id);
	tree t = {.n = 0};
	if (e == HUB_OK)
		e = c->st->ops->dash_referral_tree(c->st, m.uid, TREE_DEPTH, node_take, &t);
	if (e == HUB_OK && t.oom)
		e = HUB_ERR;
	if (e != HUB_OK) {
		free(t.r);
		page_store_failed(c, e);
		dash_free(&d);
		return;
	}
	html *h = &c->h;
	char n1[24], n2[24], href[160];
	size_t direct = 0;
	for (size_t i = 0; i < t.n; i++)
		direct += t.r[i].depth == 1;
	page_begin(c, T(c, "Referral tree"), "dashboard");
	html_f(h, "<p class=\"muted\"><a href=\"%s#referrals\">%s</a></p><h1>", d.base, T(c, "Dashboard"));
	SAY(c, "Whom %s brought", m.name);
	html_f(h, "</h1><p class=\"sub\">");
	SAY(c, "%1$s brought directly, %2$s in all (with the people they brought in turn).",
	    cx_num((int64_t)direct, n1), cx_num((int64_t)t.total, n2));
	html_f(h, " <a href=\"/venues/%s/members/%s\">%s</a></p>\n<section class=\"card\">", c->venue.id, m.uid,
	       T(c, "Their member page"));
	if (t.n == 0) {
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "Nobody yet."));
	} else {
		html_f(h, "<ul class=\"tree\"><li><strong>");
		html_user(h, m.name);
		html_f(h, "</strong>");
		int depth = 0;
		for (size_t i = 0; i < t.n; i++) {
			const node *x = &t.r[i];
			int dd = x->depth < 1 ? 1 : x->depth;
			if (dd > depth + 1)
				dd = depth + 1; /* a depth that skips a level is drawn one below its parent */
			if (dd > depth) {
				html_f(h, "<ul>");
				depth = dd;
			} else {
				html_f(h, "</li>");
				for (; depth > dd; depth--)
					html_f(h, "</ul></li>");
			}
			html_f(h, "<li data-row=\"%s\" data-depth=\"%d\"><a href=\"%s\">", x->uid, x->depth,
			       tree_href(&d, x->uid, href, sizeof href));
			html_user(h, x->name);
			html_f(h, "</a> <span class=\"muted\">%s %s</span>", x->day, via_text(c, x->via));
		}
		html_f(h, "</li>");
		for (; depth > 0; depth--)
			html_f(h, "</ul></li>");
		html_f(h, "</ul>\n");
		if (t.total > t.n) {
			html_f(h, "<p class=\"muted\">");
			SAY(c, "Showing %1$s of %2$s.", cx_num((int64_t)t.n, n1), cx_num((int64_t)t.total, n2));
			html_f(h, "</p>");
		}
	}
	html_f(h, "</section>\n");
	page_end(c);
	free(t.r);
	dash_free(&d);
}

/* ?who=CODE or id: the tree of that member. */
static void tree_find(cx *c)
{
	char who[FORM_MAX_VALUE], msg[400];
	form_trimmed(&c->form, "who", who, sizeof who);
	hub_member m;
	hub_err e = HUB_NOT_FOUND;
	if (check_hex(who, HUB_ID_LEN))
		e = c->st->ops->member_get(c->st, who, &m);
	if (e == HUB_NOT_FOUND && who[0]) {
		member_index ix;
		e = member_index_get(c->st, c->venue.id, &ix);
		if (e == HUB_OK) {
			const roster_entry *found = roster_find_code(ix.r, who);
			e = found ? c->st->ops->member_by_rid(c->st, found->id, &m) : HUB_NOT_FOUND;
		}
	}
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return;
	}
	if (e == HUB_NOT_FOUND || strcmp(m.venue_id, c->venue.id) != 0) {
		c->out->status = 404;
		page_begin(c, T(c, "Referral tree"), "dashboard");
		html_f(&c->h, "<p class=\"muted\"><a href=\"/venues/%s/dashboard#referrals\">%s</a></p>", c->venue.id,
		       T(c, "Dashboard"));
		html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>",
		       SAYF(c, msg, "No member of this venue has the code or id %s.", who));
		page_end(c);
		return;
	}
	page_redirect(c, "/venues/%s/dashboard/referrals/%s", c->venue.id, m.uid);
}

/* An owner's tree link: the member's own venue's page. */
static void tree_owner(cx *c)
{
	hub_member m;
	hub_err e = c->st->ops->member_get(c->st, c->id, &m);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	page_redirect(c, "/venues/%s/dashboard/referrals/%s", m.venue_id, m.uid);
}

const console_route console_routes_dash[] = {
    {"GET", "/dashboard", HUB_ROLE_OWNER, dash_page},
    {"GET", "/dashboard/members", HUB_ROLE_OWNER, members_page},
    {"GET", "/dashboard/referrals/{id}", HUB_ROLE_OWNER, tree_owner},
    {"GET", "/venues/{v}/dashboard", HUB_ROLE_ORGANIZER, dash_page},
    {"GET", "/venues/{v}/dashboard/members", HUB_ROLE_ORGANIZER, members_page},
    {"GET", "/venues/{v}/dashboard/referrals", HUB_ROLE_ORGANIZER, tree_find},
    {"GET", "/venues/{v}/dashboard/referrals/{id}", HUB_ROLE_ORGANIZER, tree_page},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
