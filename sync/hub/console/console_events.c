/*
 * console_events — a venue's events in the console: the list and a new
 * event, an event's attendance (live while it runs), edit, cancel, the
 * count the live page polls, and the attendance as CSV.
 *
 * An event's page reads its check-ins once, keeping only the newest
 * SHOWN_MAX in a ring, so a crowded evening costs one pass and a bounded
 * page; the CSV has them all.
 */
#include "sync/hub/console/console_impl.h"

#include "sync/check.h"
#include "sync/csv_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_MAX 200 /* events listed */
#define SHOWN_MAX  500 /* check-ins on an event's page (5000 rows would weigh over 1 MB) */
#define ROWS_BYTES_MAX                                                                                       \
	(128u << 10) /* or fewer, when long names make rows heavier: the page stays under 150 KB */
#define LIVE_BEFORE  (3600LL * 1000)    /* the page is live from an hour before the start */
#define LIVE_AFTER   (7200LL * 1000)    /* to two hours after the end */
#define SAME_FORM_MS (10LL * 60 * 1000) /* an event made again this soon is the same form sent twice */


/* ---- shared bits ---- */

static int is_organizer(const cx *c)
{
	return c->user.role >= HUB_ROLE_ORGANIZER;
}

static int running(const hub_event *e, int64_t now)
{
	return !e->cancelled && now >= e->start_ms && now < e->end_ms;
}

static int live(const hub_event *e, int64_t now)
{
	return !e->cancelled && now >= e->start_ms - LIVE_BEFORE && now <= e->end_ms + LIVE_AFTER;
}

/* "2026-12-06 19:30–21:00", or both dates when the event runs past midnight. */
static void put_span(cx *c, const hub_event *e)
{
	char a[17], b[17];
	cx_time(c, e->start_ms, a);
	cx_time(c, e->end_ms, b);
	if (strncmp(a, b, 10) == 0)
		html_f(&c->h, "%s–%s", a, b + 11);
	else
		html_f(&c->h, "%s – %s", a, b);
}

static void put_badges(cx *c, const hub_event *e)
{
	int64_t now = c->rq->now_ms;
	if (e->cancelled)
		html_f(&c->h, " <span class=\"badge bad\">%s</span>", T(c, "cancelled"));
	else if (running(e, now))
		html_f(&c->h, " <span class=\"badge ok\">%s</span>", T(c, "now"));
}

/* An event of this venue by uid; 0, or -1 when the page failed. */
static int load_event(cx *c, hub_event *ev)
{
	hub_err e = c->st->ops->event_get(c->st, c->id, ev);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(ev->venue_id, c->venue.id) != 0)) {
		page_fail(c, 404, T(c, "There is no such event in this venue."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

/* What the create and edit forms hold. */
typedef struct event_form {
	char title[FORM_MAX_VALUE], start[64], end[64];
	int64_t start_ms, end_ms;
	const char *error;
	char msg[300];
} event_form;

/* Read and check the form; 0, or -1 with f->error. */
static int event_form_read(cx *c, event_form *f)
{
	char n1[24];
	form_trimmed(&c->form, "title", f->title, sizeof f->title);
	form_trimmed(&c->form, "start", f->start, sizeof f->start);
	form_trimmed(&c->form, "end", f->end, sizeof f->end);
	f->error = NULL;
	f->start_ms = f->start[0] ? hub_parse_local(c->venue.tz, f->start) : -1;
	f->end_ms = f->end[0] ? hub_parse_local(c->venue.tz, f->end) : -1;
	if (!check_text(f->title, STORE_TITLE_MAX - 1, 0))
		f->error = f->title[0] ? SAYF(c, f->msg, "The title must be one line of at most %s bytes.",
					      cx_num(STORE_TITLE_MAX - 1, n1))
				       : T(c, "The event needs a title.");
	else if (f->start_ms < 0)
		f->error = T(c, "The start is not a date and time (YYYY-MM-DD HH:MM).");
	else if (f->end_ms < 0)
		f->error = T(c, "The end is not a date and time (YYYY-MM-DD HH:MM).");
	else if (f->end_ms <= f->start_ms)
		f->error = T(c, "The end must be after the start.");
	return f->error ? -1 : 0;
}

/* "YYYY-MM-DDTHH:MM" for a datetime-local input. */
static const char *input_time(cx *c, int64_t ms, char out[17])
{
	cx_time(c, ms, out);
	if (strlen(out) == 16)
		out[10] = 'T';
	return out;
}

static void event_fields(cx *c, const char *title, const char *start, const char *end)
{
	html_f(&c->h,
	       "<div class=\"field\"><label for=\"title\">%s</label>"
	       "<input id=\"title\" name=\"title\" value=\"%s\" maxlength=\"%d\" required></div>"
	       "<div class=\"row\"><div class=\"field\"><label for=\"start\">%s</label>"
	       "<input id=\"start\" name=\"start\" type=\"datetime-local\" value=\"%s\" required></div>"
	       "<div class=\"field\"><label for=\"end\">%s</label>"
	       "<input id=\"end\" name=\"end\" type=\"datetime-local\" value=\"%s\" required></div></div>",
	       T(c, "Title"), title, STORE_TITLE_MAX - 1, T(c, "Starts"), start, T(c, "Ends"), end);
}

/* ---- the list ---- */

typedef struct list {
	cx *c;
	size_t total, shown;
} list;

static int event_row(const hub_event *e, void *ctx)
{
	list *l = ctx;
	cx *c = l->c;
	char n[24];
	l->total++;
	if (l->shown == EVENTS_MAX)
		return 0;
	l->shown++;
	html_f(&c->h, "<tr><td data-label=\"%s\"><a href=\"/venues/%s/events/%s\">", T(c, "Event"),
	       c->venue.id, e->uid);
	html_user(&c->h, e->title);
	html_f(&c->h, "</a>");
	put_badges(c, e);
	html_f(&c->h, "</td><td data-label=\"%s\">", T(c, "When"));
	put_span(c, e);
	html_f(&c->h, "</td><td data-label=\"%s\" class=\"num\">%s</td></tr>\n", T(c, "Attendance"),
	       cx_num(e->attendance, n));
	return 0;
}

static void events_view(cx *c, const event_form *f)
{
	char action[96];
	page_begin(c, T(c, "Events"), "events");
	html_f(&c->h, "<h1>%s</h1>\n", T(c, "Events"));
	if (is_organizer(c)) {
		snprintf(action, sizeof action, "/venues/%s/events", c->venue.id);
		html_f(&c->h, "<details class=\"card\"%s><summary>%s</summary>\n", f ? " open" : "",
		       T(c, "New event"));
		if (f && f->error)
			html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", f->error);
		form_open(c, action, 0);
		event_fields(c, f ? f->title : "", f ? f->start : "", f ? f->end : "");
		html_f(&c->h, "<p class=\"muted\">");
		SAY(c, "Times are in the venue's time zone (%s). Kiosks get the event at their next sync.",
		    c->venue.tz);
		html_f(&c->h, "</p><button class=\"primary\">%s</button>", T(c, "Create the event"));
		form_close(c);
		html_f(&c->h, "</details>\n");
	}
	html_f(&c->h,
	       "<section class=\"card\"><table class=\"data\"><thead><tr><th>%s</th><th>%s</th>"
	       "<th class=\"num\">%s</th></tr></thead><tbody>\n",
	       T(c, "Event"), T(c, "When"), T(c, "Attendance"));
	list l = {c, 0, 0};
	hub_err e = c->st->ops->events_each(c->st, c->venue.id, event_row, &l);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	page_table_end(c, (int64_t)l.total, (int64_t)l.shown, T(c, "No events yet."),
		       N_("Showing the latest %1$s of %2$s events."));
	page_end(c);
}

static void events_page(cx *c)
{
	events_view(c, NULL);
}

typedef struct same_event {
	const event_form *f;
	char uid[HUB_ID_MAX];
	int64_t created_ms;
} same_event;

/* An event of the same title and times, not cancelled. */
static int find_same(const hub_event *e, void *ctx)
{
	same_event *x = ctx;
	if (e->cancelled || e->start_ms != x->f->start_ms || e->end_ms != x->f->end_ms ||
	    strcmp(e->title, x->f->title) != 0)
		return 0;
	snprintf(x->uid, sizeof x->uid, "%s", e->uid);
	x->created_ms = e->created_ms;
	return 1;
}

static void event_create(cx *c)
{
	event_form f;
	if (event_form_read(c, &f) != 0) {
		c->out->status = 400;
		events_view(c, &f);
		return;
	}
	/* the same form sent twice (a double click, a reload) makes one event */
	same_event same = {&f, "", 0};
	hub_err e = c->st->ops->events_each(c->st, c->venue.id, find_same, &same);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (same.uid[0]) {
		page_flash(
		    c, same.created_ms > c->rq->now_ms - SAME_FORM_MS
			   ? T(c, "Event created. Kiosks get it at their next sync.")
			   : T(c, "An event with this title and these times exists already: here it is."));
		page_redirect(c, "/venues/%s/events/%s", c->venue.id, same.uid);
		return;
	}
	char uid[HUB_ID_MAX];
	e = c->st->ops->event_add(c->st, c->venue.id, f.title, f.start_ms, f.end_ms, c->rq->now_ms, uid);
	if (e == HUB_INVALID) {
		f.error = T(c, "The store refused these values.");
		c->out->status = 400;
		events_view(c, &f);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d = json_pack("{s:s,s:s,s:I,s:I}", "event", uid, "title", f.title, "start_ms",
			      (json_int_t)f.start_ms, "end_ms", (json_int_t)f.end_ms);
	if (console_audit(c, "event.create", d) != 0)
		return;
	page_flash(c, T(c, "Event created. Kiosks get it at their next sync."));
	page_redirect(c, "/venues/%s/events/%s", c->venue.id, uid);
}

/* ---- one event ---- */

typedef struct shown_row {
	char member[HUB_ID_MAX], name[STORE_NAME_MAX], method[STORE_METHOD_MAX], device[9];
	int64_t at_ms;
	int reversed, duplicate;
} shown_row;

typedef struct attendance {
	shown_row *ring; /* the newest SHOWN_MAX, oldest overwritten */
	size_t rows, reversed, duplicates, counted;
} attendance;

/* s cut to len - 1 bytes (at a character's start) into out: a plain copy, this runs for every check-in. */
static void copy(char *out, size_t len, const char *s)
{
	size_t n = s ? strnlen(s, len - 1) : 0;
	if (s && s[n])
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

static int attend_row(const hub_checkin_row *r, void *ctx)
{
	attendance *a = ctx;
	if (a->ring) {
		shown_row *s = &a->ring[a->rows % SHOWN_MAX];
		copy(s->member, sizeof s->member, r->member_uid);
		copy(s->name, sizeof s->name, r->member_name);
		copy(s->method, sizeof s->method, r->method);
		copy(s->device, sizeof s->device, r->device_id);
		s->at_ms = r->corrected_ms ? r->corrected_ms : r->wall_ms;
		s->reversed = r->reversed;
		s->duplicate = r->duplicate_of != NULL;
	}
	a->rows++;
	a->reversed += r->reversed != 0;
	a->duplicates += r->duplicate_of != NULL;
	a->counted += !r->reversed && !r->duplicate_of;
	return 0;
}

/* What changes whenever a check-in of the event is added or undone: both only ever grow. */
/* The venue's kiosks by the first 8 digits of their id, for the Kiosk column: a name reads better than an id. */
#define KIOSKS_NAMED 64
typedef struct kiosk_names {
	char id[KIOSKS_NAMED][9], name[KIOSKS_NAMED][65];
	size_t n;
} kiosk_names;

static int kiosk_named(const hub_device *d, void *ctx)
{
	kiosk_names *k = ctx;
	if (k->n < KIOSKS_NAMED && d->name[0]) {
		snprintf(k->id[k->n], sizeof k->id[0], "%.8s", d->id);
		snprintf(k->name[k->n], sizeof k->name[0], "%s", d->name);
		k->n++;
	}
	return 0;
}

static const char *kiosk_name(const kiosk_names *k, const char *id8)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->id[i], id8) == 0)
			return k->name[i];
	return id8;
}

static int64_t changed_stamp(const attendance *a)
{
	return (int64_t)(a->rows + a->reversed);
}


static void event_view(cx *c, const hub_event *ev, const event_form *f)
{
	char n1[24], n2[24], action[128], a[17], b[17];
	int64_t now = c->rq->now_ms;
	int org = is_organizer(c);
	attendance at = {.ring = malloc(SHOWN_MAX * sizeof(shown_row))};
	if (!at.ring) {
		page_fail(c, 500, T(c, "Out of memory."));
		return;
	}
	hub_err e = c->st->ops->event_checkins_each(c->st, ev->uid, attend_row, &at);
	if (e != HUB_OK) {
		free(at.ring);
		page_store_failed(c, e);
		return;
	}
	page_begin(c, ev->title, "events");
	html_f(&c->h, "<p class=\"muted\"><a href=\"/venues/%s/events\">%s</a></p><h1>", c->venue.id,
	       T(c, "Events"));
	html_user(&c->h, ev->title);
	html_f(&c->h, "</h1><p class=\"sub\">");
	put_span(c, ev);
	put_badges(c, ev);
	html_f(&c->h, "</p>\n");
	if (ev->cancelled)
		html_f(&c->h, "<p class=\"alert warn\">%s</p>\n",
		       T(c, "This event was cancelled: kiosks no longer offer it. Its check-ins are kept."));

	/* the count, live while the event runs */
	int is_live = live(ev, now);
	html_f(&c->h, "<section class=\"card count\"");
	if (is_live)
		html_f(&c->h,
		       " data-live=\"/venues/%s/events/%s/count\" data-count=\"%zu\" data-changed=\"%lld\"",
		       c->venue.id, ev->uid, at.counted, (long long)changed_stamp(&at));
	html_f(&c->h, "><p class=\"stat\">%zu</p><p>%s</p>", at.counted, T(c, "checked in (counted)"));
	if (at.reversed || at.duplicates) {
		html_f(&c->h, "<p class=\"muted\">");
		SAY(c, "Not counted: %1$s undone, %2$s duplicates.", cx_num((int64_t)at.reversed, n1),
		    cx_num((int64_t)at.duplicates, n2));
		html_f(&c->h, "</p>");
	}
	if (is_live) {
		/* console.js hides this and follows the count itself */
		html_f(&c->h, "<p class=\"muted live-hint\">%s <a href=\"/venues/%s/events/%s\">%s</a></p>",
		       T(c, "The count does not update by itself in this browser."), c->venue.id, ev->uid,
		       T(c, "Refresh to update"));
	}
	html_f(&c->h, "</section>\n");

	/* the check-ins, newest first: the rows are written first, so the line above them can say how many
	 * fit */
	html rows;
	html_init(&rows);
	size_t shown = 0;
	if (at.rows) {
		/* each row kept lean (relative links, short labels): 5000 rows would be over a megabyte */
		const char *lt = T(c, "Time"), *lm = T(c, "Member"), *lh = T(c, "Method"),
			   *lk = T(c, "Kiosk"), *undone = T(c, "undone"), *dup = T(c, "duplicate");
		char day[17];
		cx_time(c, ev->start_ms, day);
		html_f(&rows,
		       "<table "
		       "class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></"
		       "thead><tbody>\n",
		       lt, lm, lh, lk);
		kiosk_names kn = {.n = 0};
		c->st->ops->devices_each(c->st, c->venue.id, kiosk_named, &kn); /* without names, ids are shown */
		size_t n = at.rows < SHOWN_MAX ? at.rows : SHOWN_MAX;
		for (; shown < n && rows.len < ROWS_BYTES_MAX; shown++) {
			const shown_row *s = &at.ring[(at.rows - 1 - shown) % SHOWN_MAX];
			cx_time(c, s->at_ms, b);
			/* the time of day alone on the event's own day */
			html_f(&rows, "<tr><td data-label=\"%s\">%s</td><td data-label=\"%s\">", lt,
			       strncmp(b, day, 10) == 0 ? b + 11 : b, lm);
			if (org && s->member[0])
				html_f(&rows, "<a href=\"../members/%s\">", s->member);
			html_user(&rows, s->name);
			if (org && s->member[0])
				html_f(&rows, "</a>");
			/* the status beside the name: no column that is empty on nearly every row */
			if (s->reversed)
				html_f(&rows, " <span class=\"badge bad\">%s</span>", undone);
			if (s->duplicate)
				html_f(&rows, " <span class=\"badge warn\">%s</span>", dup);
			html_f(&rows, "</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">", lh,
			       cx_method_name(c, s->method), lk);
			html_user(&rows, kiosk_name(&kn, s->device));
			html_f(&rows, "</td></tr>\n");
		}
		html_f(&rows, "</tbody></table>\n");
	}
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n<p class=\"muted\">", T(c, "Check-ins"));
	if (at.rows > shown)
		SAY(c, "Showing the newest %1$s of %2$s check-ins; the CSV file has all of them.",
		    cx_num((int64_t)shown, n1), cx_num((int64_t)at.rows, n2));
	else if (at.rows)
		SAY(c, "Check-ins in all: %s, newest first.", cx_num((int64_t)at.rows, n1));
	html_f(&c->h, " <a href=\"/venues/%s/events/%s.csv\">%s</a></p>\n", c->venue.id, ev->uid,
	       T(c, "Download as CSV"));
	if (rows.oom)
		c->h.oom = 1;
	else if (at.rows)
		html_markup(&c->h, rows.buf, rows.len);
	else
		html_f(&c->h, "<p class=\"empty\">%s</p>\n", T(c, "No check-ins yet."));
	html_free(&rows);
	html_f(&c->h, "</section>\n");
	free(at.ring);

	if (org && !ev->cancelled) {
		html_f(&c->h, "<div class=\"grid\"><section class=\"card\"><h2>%s</h2>\n", T(c, "Edit"));
		if (f && f->error)
			html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", f->error);
		snprintf(action, sizeof action, "/venues/%s/events/%s", c->venue.id, ev->uid);
		form_open(c, action, 0);
		event_fields(c, f ? f->title : ev->title, f ? f->start : input_time(c, ev->start_ms, a),
			     f ? f->end : input_time(c, ev->end_ms, b));
		html_f(&c->h, "<p class=\"muted\">");
		SAY(c, "Times are in the venue's time zone (%s). Kiosks get the change at their next sync.",
		    c->venue.tz);
		html_f(&c->h, "</p><button class=\"primary\">%s</button>", T(c, "Save"));
		form_close(c);
		html_f(
		    &c->h, "</section>\n<section class=\"card\"><h2>%s</h2><p>%s</p>\n",
		    T(c, "Cancel the event"),
		    T(c,
		      "Kiosks stop offering it at their next sync. The check-ins already made are kept and "
		      "still count in the members' visits."));
		snprintf(action, sizeof action, "/venues/%s/events/%s/cancel", c->venue.id, ev->uid);
		form_open(c, action, 0);
		html_f(&c->h,
		       "<label class=\"check\"><input type=\"checkbox\" name=\"confirm\" value=\"1\" "
		       "required> %s</label>"
		       "<button class=\"danger\">%s</button>",
		       T(c, "Yes, cancel this event"), T(c, "Cancel the event"));
		form_close(c);
		html_f(&c->h, "</section></div>\n");
	}
	page_end(c);
}

static void event_page(cx *c)
{
	hub_event ev;
	if (load_event(c, &ev) != 0)
		return;
	event_view(c, &ev, NULL);
}

static void event_edit(cx *c)
{
	hub_event ev;
	event_form f;
	if (load_event(c, &ev) != 0)
		return;
	if (ev.cancelled) {
		page_fail(c, 409, T(c, "This event was cancelled: it cannot be edited."));
		return;
	}
	if (event_form_read(c, &f) != 0) {
		c->out->status = 400;
		event_view(c, &ev, &f);
		return;
	}
	if (strcmp(f.title, ev.title) == 0 && f.start_ms == ev.start_ms && f.end_ms == ev.end_ms) {
		page_flash(c, T(c, "Nothing changed."));
		page_redirect(c, "/venues/%s/events/%s", c->venue.id, ev.uid);
		return;
	}
	hub_err e = c->st->ops->event_update(c->st, ev.uid, f.title, f.start_ms, f.end_ms, c->rq->now_ms);
	if (e == HUB_INVALID) {
		f.error = T(c, "The store refused these values.");
		c->out->status = 400;
		event_view(c, &ev, &f);
		return;
	}
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "There is no such event in this venue."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d =
	    json_pack("{s:s,s:{s:s,s:I,s:I},s:{s:s,s:I,s:I}}", "event", ev.uid, "before", "title", ev.title,
		      "start_ms", (json_int_t)ev.start_ms, "end_ms", (json_int_t)ev.end_ms, "after", "title",
		      f.title, "start_ms", (json_int_t)f.start_ms, "end_ms", (json_int_t)f.end_ms);
	if (console_audit(c, "event.update", d) != 0)
		return;
	page_flash(c, T(c, "Saved. Kiosks get the change at their next sync."));
	page_redirect(c, "/venues/%s/events/%s", c->venue.id, ev.uid);
}

static void event_cancel(cx *c)
{
	hub_event ev;
	if (load_event(c, &ev) != 0)
		return;
	if (ev.cancelled) {
		page_flash(c, T(c, "The event was already cancelled."));
		page_redirect(c, "/venues/%s/events/%s", c->venue.id, ev.uid);
		return;
	}
	hub_err e = c->st->ops->event_cancel(c->st, ev.uid, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d = json_pack("{s:s,s:s}", "event", ev.uid, "title", ev.title);
	if (console_audit(c, "event.cancel", d) != 0)
		return;
	page_flash(
	    c, T(c, "The event is cancelled. Kiosks drop it at their next sync; its check-ins are kept."));
	page_redirect(c, "/venues/%s/events/%s", c->venue.id, ev.uid);
}

/* ---- the live count and the CSV ---- */

static void event_count(cx *c)
{
	hub_event ev;
	hub_err e = c->st->ops->event_get(c->st, c->id, &ev);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(ev.venue_id, c->venue.id) != 0)) {
		page_json(c, json_pack("{s:s}", "error", "not_found"));
		c->out->status = 404;
		return;
	}
	/* counted from the index alone: every open event page asks every 5 s */
	hub_event_tally t;
	if (e == HUB_OK)
		e = c->st->ops->event_count(c->st, ev.uid, &t);
	if (e != HUB_OK) {
		page_json(c, json_pack("{s:s}", "error", e == HUB_BUSY ? "busy" : "store"));
		c->out->status = e == HUB_BUSY ? 503 : 500;
		return;
	}
	attendance at = {.rows = (size_t)t.rows, .reversed = (size_t)t.reversed};
	page_json(c, json_pack("{s:I,s:I,s:b}", "count", (json_int_t)t.counted, "changed",
			       (json_int_t)changed_stamp(&at), "live", live(&ev, c->rq->now_ms)));
}

typedef struct csv_ctx {
	cx *c;
	FILE *f;
	hub_store *st;
	hub_err e;
} csv_ctx;

static int csv_row(const hub_checkin_row *r, void *ctx)
{
	csv_ctx *x = ctx;
	cx *c = x->c;
	char when[17], phone[STORE_PHONE_MAX + 8] = "";
	hub_member m;
	if (r->member_uid) {
		hub_err e = x->st->ops->member_get(x->st, r->member_uid, &m);
		if (e == HUB_OK)
			cx_mask_phone(m.phone, phone, sizeof phone);
		else if (e != HUB_NOT_FOUND) {
			x->e = e;
			return 1;
		}
	}
	const char *status = r->reversed       ? T(c, "undone")
			     : r->duplicate_of ? T(c, "duplicate")
					       : T(c, "counted");
	const char *cells[5] = {cx_time(c, r->corrected_ms ? r->corrected_ms : r->wall_ms, when),
				r->member_name, phone, cx_method_name(c, r->method ? r->method : ""), status};
	csv_out_row(x->f, cells, 5);
	return 0;
}

static void event_csv(cx *c)
{
	hub_event ev;
	if (load_event(c, &ev) != 0)
		return;
	char *buf = NULL, fname[160], day[17];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		page_fail(c, 500, T(c, "Out of memory."));
		return;
	}
	fputs("\xef\xbb\xbf", f); /* a spreadsheet then reads the file as UTF-8 */
	const char *head[5] = {T(c, "Time"), T(c, "Member"), T(c, "Phone"), T(c, "Method"), T(c, "Status")};
	csv_out_row(f, head, 5);
	csv_ctx x = {c, f, c->st, HUB_OK};
	hub_err e = c->st->ops->event_checkins_each(c->st, ev.uid, csv_row, &x);
	if (e == HUB_OK)
		e = x.e;
	int bad = ferror(f);
	fclose(f);
	if (e != HUB_OK || bad) {
		free(buf);
		if (e != HUB_OK)
			page_store_failed(c, e);
		else
			page_fail(c, 500, T(c, "Out of memory."));
		return;
	}
	cx_time(c, ev.start_ms, day);
	snprintf(fname, sizeof fname, "attendance-%s-%.4s%.2s%.2s.csv",
		 c->venue.slug[0] ? c->venue.slug : "venue", day, day + 5, day + 8);
	page_download(c, "text/csv; charset=utf-8", fname, buf, len);
}

const console_route console_routes_events[] = {
    {"GET", "/venues/{v}/events", HUB_ROLE_STAFF, events_page},
    {"POST", "/venues/{v}/events", HUB_ROLE_ORGANIZER, event_create},
    {"GET", "/venues/{v}/events/{id}.csv", HUB_ROLE_STAFF, event_csv},
    {"GET", "/venues/{v}/events/{id}/count", HUB_ROLE_STAFF, event_count},
    {"GET", "/venues/{v}/events/{id}", HUB_ROLE_STAFF, event_page},
    {"POST", "/venues/{v}/events/{id}", HUB_ROLE_ORGANIZER, event_edit},
    {"POST", "/venues/{v}/events/{id}/cancel", HUB_ROLE_ORGANIZER, event_cancel},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
