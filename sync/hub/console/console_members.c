/*
 * console_members — a venue's members in the console: search (the kiosk's
 * own index: pinyin, initials, phone endings, codes), a member's page with
 * their visits, edit, merge, and the members CSV in (the kiosk's import
 * rules, all or nothing) and out (the same format, so a file round-trips).
 *
 * Pages are cheap whatever the venue's size: the search is the cached
 * roster (member_index.c), and every list shows at most a fixed number of
 * rows, each looked up by its row id.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/member_index.h"

#include "sync/check.h"
#include "sync/csv_out.h"
#include "sync/members_csv.h"
#include "sync/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHOWN_MAX  50  /* members on one page of results */
#define VISITS_MAX 200 /* visits on a member's page */


/* ---- shared bits ---- */

static void today(cx *c, char out[11])
{
	hub_day_cache dc;
	memset(&dc, 0, sizeof dc);
	hub_day(c->venue.tz, c->rq->now_ms, &dc, out);
}

static int is_expired(const char *expires, const char *day)
{
	return expires[0] && strcmp(expires, day) < 0;
}

/* A member of this venue by uid; 0, or -1 when the page failed (404 or a store error). */
static int load_member(cx *c, const char *uid, hub_member *m)
{
	hub_err e = c->st->ops->member_get(c->st, uid, m);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(m->venue_id, c->venue.id) != 0)) {
		page_fail(c, 404, T(c, "There is no such member in this venue."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static void member_row(cx *c, const hub_member *m, const char *day)
{
	char phone[STORE_PHONE_MAX + 8], when[17], n[24];
	cx_mask_phone(m->phone, phone, sizeof phone);
	html_f(&c->h, "<tr><td data-label=\"%s\"><a href=\"/venues/%s/members/%s\">", T(c, "Name"),
	       c->venue.id, m->uid);
	html_user(&c->h, m->name);
	html_f(&c->h, "</a></td><td data-label=\"%s\">%s</td><td data-label=\"%s\">", T(c, "Phone"),
	       phone[0] ? phone : "—", T(c, "Code"));
	html_user(&c->h, m->code[0] ? m->code : "");
	html_f(&c->h, "</td><td data-label=\"%s\">", T(c, "Tier"));
	html_user(&c->h, m->tier);
	html_f(&c->h, "</td><td data-label=\"%s\">%s", T(c, "Valid until"), m->expires);
	if (is_expired(m->expires, day))
		html_f(&c->h, " <span class=\"badge bad\">%s</span>", T(c, "expired"));
	html_f(&c->h, "</td><td data-label=\"%s\" class=\"num\">%s</td><td data-label=\"%s\">%s</td></tr>\n",
	       T(c, "Visits"), cx_num(m->visits, n), T(c, "Last visit"),
	       m->last_visit_ms ? cx_time(c, m->last_visit_ms, when) : "—");
}

static void members_table_head(cx *c)
{
	html_f(&c->h,
	       "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	       "<th class=\"num\">%s</th><th>%s</th></tr></thead><tbody>\n",
	       T(c, "Name"), T(c, "Phone"), T(c, "Code"), T(c, "Tier"), T(c, "Valid until"), T(c, "Visits"),
	       T(c, "Last visit"));
}

/* ---- the list and search ---- */

static void members_page(cx *c)
{
	char q[256], n1[24], n2[24], day[11];
	form_trimmed(&c->form, "q", q, sizeof q);
	member_index ix;
	hub_err e = member_index_get(c->st, c->venue.id, &ix);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	today(c, day);
	page_begin(c, T(c, "Members"), "members");
	html_f(&c->h, "<h1>%s</h1><p class=\"sub\">", T(c, "Members"));
	SAY(c, "%s members", cx_num((int64_t)ix.count, n1));
	html_f(&c->h,
	       " · <a href=\"/venues/%s/members/import\">%s</a> · <a "
	       "href=\"/venues/%s/members.csv\">%s</a></p>\n",
	       c->venue.id, T(c, "Import a CSV file"), c->venue.id, T(c, "Export as CSV"));
	html_f(&c->h,
	       "<form class=\"toolbar\" method=\"get\" action=\"/venues/%s/members\" role=\"search\">"
	       "<input type=\"search\" name=\"q\" value=\"%s\" aria-label=\"%s\" placeholder=\"%s\" "
	       "maxlength=\"100\"%s>"
	       "<button class=\"primary\">%s</button></form>\n",
	       c->venue.id, q, T(c, "Search members"), T(c, "Name, pinyin, phone ending or code"),
	       q[0] ? "" : " autofocus", T(c, "Search"));

	if (!q[0]) {
		html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n", T(c, "Changed most recently"));
		if (ix.nrecent == 0) {
			html_f(&c->h, "<p class=\"empty\">%s</p>",
			       T(c, "No members yet. Import a CSV file, or add them at a kiosk."));
		} else {
			members_table_head(c);
			for (size_t i = 0; i < ix.nrecent; i++) {
				hub_member m;
				e = c->st->ops->member_by_rid(c->st, ix.recent[i], &m);
				if (e == HUB_OK)
					member_row(c, &m, day);
				else if (e != HUB_NOT_FOUND) {
					page_store_failed(c, e);
					return;
				}
			}
			html_f(&c->h, "</tbody></table>\n");
			if (ix.count > ix.nrecent) {
				html_f(&c->h, "<p class=\"muted\">");
				SAY(c, "Showing %1$s of %2$s members: search to find the others.",
				    cx_num((int64_t)ix.nrecent, n1), cx_num((int64_t)ix.count, n2));
				html_f(&c->h, "</p>");
			}
		}
		html_f(&c->h, "</section>\n");
		page_end(c);
		return;
	}

	member_found f;
	member_index_search(&ix, q, SHOWN_MAX, &f);
	html_f(&c->h, "<section class=\"card\">\n");
	if (f.n == 0) {
		html_f(&c->h, "<p class=\"empty\">");
		SAY(c, "No member matches \"%s\".", q);
		html_f(&c->h, "</p>");
		size_t ql = strlen(q), d = strspn(q, "0123456789");
		if (d == ql && ql < 4)
			html_f(&c->h, "<p class=\"muted\">%s</p>",
			       T(c, "A phone is searched by its last 4 or more digits."));
	} else {
		html_f(&c->h, "<p class=\"muted\">");
		if (f.total > f.n)
			SAY(c, "Showing %1$s of %2$s matches.", cx_num((int64_t)f.n, n1),
			    cx_num((int64_t)f.total, n2));
		else
			SAY(c, "Matches: %s.", cx_num((int64_t)f.n, n1));
		html_f(&c->h, "</p>");
		members_table_head(c);
		for (size_t i = 0; i < f.n; i++) {
			hub_member m;
			e = c->st->ops->member_by_rid(c->st, f.e[i]->id, &m);
			if (e == HUB_OK)
				member_row(c, &m, day);
			else if (e != HUB_NOT_FOUND) {
				page_store_failed(c, e);
				return;
			}
		}
		html_f(&c->h, "</tbody></table>\n");
		if (f.total > f.n) {
			html_f(&c->h, "<p class=\"muted\">");
			SAY(c, "%s more: refine the search.", cx_num((int64_t)(f.total - f.n), n1));
			html_f(&c->h, "</p>");
		}
	}
	html_f(&c->h, "</section>\n");
	page_end(c);
}

/* ---- one member ---- */


typedef struct visits {
	cx *c;
	size_t total, shown;
} visits;

static int visit_row(const hub_checkin_row *r, void *ctx)
{
	visits *v = ctx;
	cx *c = v->c;
	v->total++;
	if (v->shown == VISITS_MAX)
		return 0; /* keep counting */
	v->shown++;
	char when[17], dev[9];
	cx_time(c, r->corrected_ms ? r->corrected_ms : r->wall_ms, when);
	snprintf(dev, sizeof dev, "%s", r->device_id ? r->device_id : "");
	html_f(&c->h, "<tr><td data-label=\"%s\">%s</td><td data-label=\"%s\">", T(c, "Time"), when,
	       T(c, "Event"));
	if (r->event_uid)
		html_f(&c->h, "<a href=\"/venues/%s/events/%s\">", c->venue.id, r->event_uid);
	html_user(&c->h, r->event_uid ? (r->event_title ? r->event_title : "") : T(c, "Drop-in"));
	if (r->event_uid)
		html_f(&c->h, "</a>");
	html_f(&c->h, "</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">",
	       T(c, "Method"), cx_method_name(c, r->method ? r->method : ""), T(c, "Kiosk"), dev,
	       T(c, "Status"));
	if (r->reversed)
		html_f(&c->h, "<span class=\"badge bad\">%s</span> ", T(c, "undone"));
	if (r->duplicate_of)
		html_f(&c->h, "<span class=\"badge warn\">%s</span>", T(c, "duplicate"));
	html_f(&c->h, "</td></tr>\n");
	return 0;
}

/* What an edit or a merge typed, to show again with its error. */
typedef struct typed {
	const char *tier, *expires, *code;
	const char *edit_error;
	const char *other, *merge_error;
	const char *referrer, *referrer_error;
} typed;

/* ---- referrals ---- */

/* A member of this venue by code or id, as typed into a form: HUB_OK, HUB_NOT_FOUND, or a store error. */
static hub_err find_member(cx *c, const char *typed_text, hub_member *out)
{
	hub_err e = HUB_NOT_FOUND;
	if (check_hex(typed_text, HUB_ID_LEN))
		e = c->st->ops->member_get(c->st, typed_text, out);
	if (e == HUB_NOT_FOUND && typed_text[0]) {
		member_index ix;
		e = member_index_get(c->st, c->venue.id, &ix);
		if (e != HUB_OK)
			return e;
		const roster_entry *found = roster_find_code(ix.r, typed_text);
		e = found ? c->st->ops->member_by_rid(c->st, found->id, out) : HUB_NOT_FOUND;
	}
	if (e == HUB_OK && strcmp(out->venue_id, c->venue.id) != 0)
		e = HUB_NOT_FOUND;
	return e;
}

static int count_referred(const hub_dash_member *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return 0;
}

/*
 * Who brought this member, and whom they brought (with the link to their
 * tree on the dashboard); the form that records who brought them. 0, or -1
 * when the page failed.
 */
typedef struct brought_by {
	char uid[HUB_ID_MAX], day[11];
} brought_by;

static int take_brought_by(const hub_dash_referral *r, void *ctx)
{
	brought_by *b = ctx;
	snprintf(b->uid, sizeof b->uid, "%s", r->referrer_uid);
	snprintf(b->day, sizeof b->day, "%s", r->day);
	return 1;
}

static int referrals_card(cx *c, const hub_member *m, const typed *t)
{
	char n1[24], action[128], day[11];
	today(c, day);
	/* whom they brought, ever (the list is not of a period; the store takes periods of up to 50 years) */
	hub_period p = {.venue_id = c->venue.id};
	char from[32];
	snprintf(from, sizeof from, "%04d-01-01", (atoi(day) - 40) % 10000);
	snprintf(p.from, sizeof p.from, "%.10s", from);
	snprintf(p.to, sizeof p.to, "%s", day);
	int64_t brought = 0;
	hub_err e = c->st->ops->dash_members(c->st, &p, HUB_DL_REFERRED_BY, m->uid, 0, 1, &brought, count_referred,
					     NULL);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	html_f(&c->h, "<section class=\"card\" id=\"referrer\"><h2>%s</h2>\n", T(c, "Referrals"));
	if (brought > 0) {
		html_f(&c->h, "<p>");
		SAY(c, "%1$s brought %2$s members.", m->name, cx_num(brought, n1));
		html_f(&c->h, " <a href=\"/venues/%s/dashboard/referrals/%s\">%s</a></p>\n", c->venue.id, m->uid,
		       T(c, "See whom they brought"));
	} else {
		html_f(&c->h, "<p class=\"muted\">");
		SAY(c, "%s has not brought anyone yet.", m->name);
		html_f(&c->h, "</p>\n");
	}
	if (t && t->referrer_error)
		html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", t->referrer_error);
	/* who brought them: credited once, so once known the form is not offered again */
	brought_by by = {.day = ""};
	if ((e = c->st->ops->referral_of(c->st, m->uid, take_brought_by, &by)) != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	hub_member r;
	if (by.uid[0] && c->st->ops->member_get(c->st, by.uid, &r) == HUB_OK) {
		html_f(&c->h, "<p>");
		SAY(c, "Brought by %1$s (%2$s).", r.name, by.day);
		html_f(&c->h, " <a href=\"/venues/%s/members/%s\">%s</a></p>\n", c->venue.id, r.uid,
		       T(c, "Their page"));
		html_f(&c->h, "</section>\n");
		return 0;
	}
	snprintf(action, sizeof action, "/venues/%s/members/%s/referrer", c->venue.id, m->uid);
	form_open(c, action, 0);
	html_f(&c->h,
	       "<div class=\"field\"><label for=\"referrer\">%s</label>"
	       "<input id=\"referrer\" name=\"referrer\" value=\"%s\" required autocomplete=\"off\"></div>"
	       "<p class=\"muted\">%s</p><button>%s</button>\n",
	       T(c, "Who brought them: that member's code or id"), t && t->referrer ? t->referrer : "",
	       T(c, "A member is credited to one referrer, once: the dashboard counts it at their sign-up."),
	       T(c, "Save who brought them"));
	form_close(c);
	html_f(&c->h, "</section>\n");
	return 0;
}

static void member_view(cx *c, const hub_member *m, const typed *t);

/* The earliest counted check-in's time (the rows come newest first). */
static int first_visit(const hub_checkin_row *r, void *ctx)
{
	int64_t *first = ctx;
	if (!r->reversed && !r->duplicate_of && (*first == 0 || r->corrected_ms < *first))
		*first = r->corrected_ms;
	return 0;
}

static void member_referrer(cx *c)
{
	hub_member m, r;
	char who[FORM_MAX_VALUE], msg[600];
	if (load_member(c, c->id, &m) != 0)
		return;
	if (m.merged_into[0] || m.deleted) {
		page_fail(c, 409, T(c, "This member was merged or removed: there is nothing to edit."));
		return;
	}
	form_trimmed(&c->form, "referrer", who, sizeof who);
	typed t = {NULL, NULL, NULL, NULL, NULL, NULL, who, NULL};
	if (!who[0]) {
		t.referrer_error = T(c, "Type the code or the id of the member who brought them.");
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	hub_err e = find_member(c, who, &r);
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return;
	}
	if (e == HUB_NOT_FOUND || r.merged_into[0] || r.deleted) {
		t.referrer_error = SAYF(c, msg, "No member of this venue has the code or id %s.", who);
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	if (strcmp(r.uid, m.uid) == 0) {
		t.referrer_error = T(c, "A member cannot have brought themselves.");
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	/* a referral counts when the one brought first came: their first visit, or now when they have none yet */
	int64_t first = 0;
	if ((e = c->st->ops->member_checkins_each(c->st, m.uid, first_visit, &first)) != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	e = c->st->ops->referral_add(c->st, m.uid, r.uid, "console", first > 0 ? first : c->rq->now_ms);
	if (e == HUB_EXISTS) {
		t.referrer_error = SAYF(c, msg, "Someone is already credited with bringing %s.", m.name);
		c->out->status = 409;
		member_view(c, &m, &t);
		return;
	}
	if (e == HUB_INVALID || e == HUB_NOT_FOUND) {
		t.referrer_error = SAYF(c, msg, "%s cannot be recorded as the one who brought them.", r.name);
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "member", m.uid, "name", m.name, "referrer", r.uid,
			      "referrer_name", r.name);
	if (console_audit(c, "member.referrer", d) != 0)
		return;
	page_flash(c, SAYF(c, msg, "Saved: %1$s brought %2$s.", r.name, m.name));
	page_redirect(c, "/venues/%s/members/%s", c->venue.id, m.uid);
}

static void member_view(cx *c, const hub_member *m, const typed *t)
{
	char when[17], n1[24], day[11], action[128];
	today(c, day);
	page_begin(c, m->name, "members");
	html_f(&c->h, "<p class=\"muted\"><a href=\"/venues/%s/members\">%s</a></p><h1>", c->venue.id,
	       T(c, "Members"));
	html_user(&c->h, m->name);
	html_f(&c->h, "</h1>\n");
	if (m->merged_into[0]) {
		html_f(&c->h, "<p class=\"alert warn\">%s <a href=\"/venues/%s/members/%s\">%s</a></p>\n",
		       T(c, "This member was merged into another one; their visits count there."),
		       c->venue.id, m->merged_into, T(c, "Open that member"));
	} else if (m->deleted) {
		html_f(&c->h, "<p class=\"alert warn\">%s</p>\n", T(c, "This member was removed."));
	}

	/* details: a line each, label and value (a table would show its labels twice on a phone) */
	html_f(&c->h, "<div class=\"grid\"><section class=\"card\"><h2>%s</h2>\n", T(c, "Details"));
	html_f(&c->h, "<p><span class=\"muted\">%s</span><br>%s</p>\n", T(c, "Phone"),
	       m->phone[0] ? m->phone : "—");
	html_f(&c->h, "<p><span class=\"muted\">%s</span><br>", T(c, "Code"));
	html_user(&c->h, m->code[0] ? m->code : "—");
	html_f(&c->h, "</p>\n<p><span class=\"muted\">%s</span><br>", T(c, "Tier"));
	html_user(&c->h, m->tier[0] ? m->tier : "—");
	html_f(&c->h, "</p>\n<p><span class=\"muted\">%s</span><br>%s", T(c, "Valid until"),
	       m->expires[0] ? m->expires : T(c, "no end date"));
	if (is_expired(m->expires, day))
		html_f(&c->h, " <span class=\"badge bad\">%s</span>", T(c, "expired"));
	html_f(&c->h, "</p>\n<p><span class=\"muted\">%s</span><br>%s</p>\n", T(c, "Visits"),
	       cx_num(m->visits, n1));
	html_f(&c->h, "<p><span class=\"muted\">%s</span><br>%s</p>\n", T(c, "Last visit"),
	       m->last_visit_ms ? cx_time(c, m->last_visit_ms, when) : "—");
	html_f(&c->h, "<p><span class=\"muted\">%s</span><br>%s", T(c, "Member since"),
	       cx_time(c, m->created_ms, when));
	if (m->provisional)
		html_f(&c->h, " <span class=\"badge warn\">%s</span>", T(c, "added at a kiosk"));
	html_f(&c->h, "</p>\n</section>\n");

	if (!m->merged_into[0] && !m->deleted) {
		/* edit */
		snprintf(action, sizeof action, "/venues/%s/members/%s", c->venue.id, m->uid);
		html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n", T(c, "Edit"));
		if (t && t->edit_error)
			html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", t->edit_error);
		form_open(c, action, 0);
		html_f(&c->h,
		       "<div class=\"row\"><div class=\"field\"><label for=\"tier\">%s</label>"
		       "<input id=\"tier\" name=\"tier\" value=\"%s\" maxlength=\"%d\"></div>"
		       "<div class=\"field\"><label for=\"expires\">%s</label>"
		       "<input id=\"expires\" name=\"expires\" type=\"date\" value=\"%s\"></div>"
		       "<div class=\"field\"><label for=\"code\">%s</label>"
		       "<input id=\"code\" name=\"code\" value=\"%s\" maxlength=\"%d\" "
		       "autocomplete=\"off\"></div></div>"
		       "<p class=\"muted\">%s</p><button class=\"primary\">%s</button>\n",
		       T(c, "Tier"), t && t->tier ? t->tier : m->tier, STORE_TIER_MAX - 1,
		       T(c, "Valid until"), t && t->expires ? t->expires : m->expires, T(c, "Code"),
		       t && t->code ? t->code : m->code, STORE_CODE_MAX - 1,
		       T(c, "Leave the date empty for a membership that does not expire. Kiosks get the "
			    "change at their next sync."),
		       T(c, "Save"));
		form_close(c);
		html_f(&c->h, "</section>\n");

		/* merge */
		snprintf(action, sizeof action, "/venues/%s/members/%s/merge", c->venue.id, m->uid);
		html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n",
		       T(c, "Merge a duplicate into this member"));
		if (t && t->merge_error)
			html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", t->merge_error);
		html_f(&c->h, "<p>");
		SAY(c,
		    "Merging moves the other member's visits to %s (a second visit to the same event or on "
		    "the same "
		    "day counts once). %s keeps their own phone and code, and takes the other's where they "
		    "have "
		    "none. The other member disappears from the kiosks at their next sync. This cannot be "
		    "undone "
		    "here.",
		    m->name, m->name);
		html_f(&c->h, "</p>\n");
		form_open(c, action, 0);
		html_f(&c->h,
		       "<div class=\"field\"><label for=\"other\">%s</label>"
		       "<input id=\"other\" name=\"other\" value=\"%s\" required autocomplete=\"off\"></div>"
		       "<button class=\"danger\">%s</button>\n",
		       T(c, "The other member's code or id"), t && t->other ? t->other : "",
		       T(c, "Merge into this member"));
		form_close(c);
		html_f(&c->h, "</section>\n");
		if (referrals_card(c, m, t) != 0)
			return;
		if (console_pass_card(c, m) != 0)
			return;
	}
	html_f(&c->h, "</div>\n");

	/* visits */
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n", T(c, "Visit history"));
	visits v = {.c = c};
	html_f(
	    &c->h,
	    "<table "
	    "class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
	    "<tbody>\n",
	    T(c, "Time"), T(c, "Event"), T(c, "Method"), T(c, "Kiosk"), T(c, "Status"));
	hub_err e = c->st->ops->member_checkins_each(c->st, m->uid, visit_row, &v);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	page_table_end(c, (int64_t)v.total, (int64_t)v.shown, T(c, "No visits yet."),
		       N_("Showing the newest %1$s of %2$s check-ins."));
	page_end(c);
}

static void member_page(cx *c)
{
	hub_member m;
	if (load_member(c, c->id, &m) != 0)
		return;
	member_view(c, &m, NULL);
}

static int code_ok(const char *code)
{
	if (!check_text(code, STORE_CODE_MAX - 1, 1))
		return 0;
	for (const unsigned char *p = (const unsigned char *)code; *p; p++)
		if (*p == ' ' || *p == '\t')
			return 0;
	return 1;
}

/* The name of the member of this venue holding code, into out ("" when not found). */
static void code_holder(cx *c, const char *code, char *out, size_t len)
{
	member_index ix;
	hub_member other;
	out[0] = '\0';
	if (member_index_get(c->st, c->venue.id, &ix) != HUB_OK)
		return;
	const roster_entry *e = roster_find_code(ix.r, code);
	if (e && c->st->ops->member_by_rid(c->st, e->id, &other) == HUB_OK)
		snprintf(out, len, "%s", other.name);
}

static void member_edit(cx *c)
{
	hub_member m;
	char tier[FORM_MAX_VALUE], expires[FORM_MAX_VALUE], code[FORM_MAX_VALUE], msg[400], n1[24];
	if (load_member(c, c->id, &m) != 0)
		return;
	form_trimmed(&c->form, "tier", tier, sizeof tier);
	form_trimmed(&c->form, "expires", expires, sizeof expires);
	form_trimmed(&c->form, "code", code, sizeof code);
	typed t = {tier, expires, code, NULL, NULL, NULL, NULL, NULL};
	if (m.merged_into[0] || m.deleted) {
		page_fail(c, 409, T(c, "This member was merged or removed: there is nothing to edit."));
		return;
	}
	if (!check_text(tier, STORE_TIER_MAX - 1, 1)) {
		t.edit_error = SAYF(c, msg, "The tier is too long (at most %s bytes) or holds a line break.",
				    cx_num(STORE_TIER_MAX - 1, n1));
	} else if (!check_day(expires)) {
		t.edit_error = T(c, "Valid until must be a real date (YYYY-MM-DD), or empty for none.");
	} else if (!code_ok(code)) {
		t.edit_error = SAYF(c, msg, "The code must be at most %s bytes, with no spaces.",
				    cx_num(STORE_CODE_MAX - 1, n1));
	}
	if (t.edit_error) {
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	if (strcmp(tier, m.tier) == 0 && strcmp(expires, m.expires) == 0 && strcmp(code, m.code) == 0) {
		page_flash(c, T(c, "Nothing changed."));
		page_redirect(c, "/venues/%s/members/%s", c->venue.id, m.uid);
		return;
	}
	hub_err e = c->st->ops->member_update(c->st, m.uid, tier, expires, code, c->rq->now_ms);
	if (e == HUB_EXISTS) {
		char who[STORE_NAME_MAX];
		code_holder(c, code, who, sizeof who);
		t.edit_error = who[0] ? SAYF(c, msg, "The code %1$s already belongs to %2$s.", code, who)
				      : SAYF(c, msg, "The code %s already belongs to another member.", code);
		c->out->status = 409;
		member_view(c, &m, &t);
		return;
	}
	if (e == HUB_NOT_FOUND) {
		page_fail(c, 404, T(c, "There is no such member in this venue."));
		return;
	}
	if (e == HUB_INVALID) {
		t.edit_error = T(c, "The store refused these values.");
		c->out->status = 400;
		member_view(c, &m, &t);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "member", m.uid, "name", m.name,
			      "before", "tier", m.tier, "expires", m.expires, "code", m.code, "after", "tier",
			      tier, "expires", expires, "code", code);
	if (console_audit(c, "member.update", d) != 0)
		return;
	page_flash(c, SAYF(c, msg, "Saved %s. Kiosks get the change at their next sync.", m.name));
	page_redirect(c, "/venues/%s/members/%s", c->venue.id, m.uid);
}

static void member_merge(cx *c)
{
	hub_member keep, gone;
	char other[FORM_MAX_VALUE], msg[600];
	if (load_member(c, c->id, &keep) != 0)
		return;
	form_trimmed(&c->form, "other", other, sizeof other);
	typed t = {NULL, NULL, NULL, NULL, other, NULL, NULL, NULL};
	hub_err e = HUB_NOT_FOUND;
	if (keep.merged_into[0] || keep.deleted) {
		page_fail(c, 409,
			  T(c, "This member was merged or removed: merge into the member they became."));
		return;
	}
	if (!other[0]) {
		t.merge_error = T(c, "Type the code or the id of the member to merge into this one.");
		goto refused;
	}
	if (check_hex(other, HUB_ID_LEN))
		e = c->st->ops->member_get(c->st, other, &gone);
	if (e == HUB_NOT_FOUND) {
		member_index ix;
		e = member_index_get(c->st, c->venue.id, &ix);
		if (e != HUB_OK) {
			page_store_failed(c, e);
			return;
		}
		const roster_entry *found = roster_find_code(ix.r, other);
		e = found ? c->st->ops->member_by_rid(c->st, found->id, &gone) : HUB_NOT_FOUND;
	}
	if (e != HUB_OK && e != HUB_NOT_FOUND) {
		page_store_failed(c, e);
		return;
	}
	if (e == HUB_NOT_FOUND || strcmp(gone.venue_id, c->venue.id) != 0) {
		t.merge_error = SAYF(c, msg, "No member of this venue has the code or id %s.", other);
		goto refused;
	}
	if (strcmp(gone.uid, keep.uid) == 0) {
		t.merge_error = T(c, "That is this member: type the code or id of the duplicate.");
		goto refused;
	}
	if (strcmp(gone.merged_into, keep.uid) == 0) {
		/* the same form sent twice: the first one did it */
		page_flash(c, SAYF(c, msg, "%1$s was merged into %2$s: their visits count here now.",
				   gone.name, keep.name));
		page_redirect(c, "/venues/%s/members/%s", c->venue.id, keep.uid);
		return;
	}
	if (gone.merged_into[0] || gone.deleted) {
		t.merge_error = SAYF(c, msg, "%s was already merged or removed.", gone.name);
		goto refused;
	}
	e = c->st->ops->member_merge(c->st, keep.uid, gone.uid, c->rq->now_ms);
	if (e == HUB_INVALID || e == HUB_NOT_FOUND) {
		t.merge_error = SAYF(c, msg, "%s cannot be merged into this member.", gone.name);
		goto refused;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "keep", keep.uid, "keep_name", keep.name, "gone", gone.uid,
			      "gone_name", gone.name);
	if (console_audit(c, "member.merge", d) != 0)
		return;
	page_flash(
	    c, SAYF(c, msg, "%1$s was merged into %2$s: their visits count here now.", gone.name, keep.name));
	page_redirect(c, "/venues/%s/members/%s", c->venue.id, keep.uid);
	return;
refused:
	c->out->status = 400;
	member_view(c, &keep, &t);
}

/* ---- import ---- */

/*
 * The reader's sentences are English with values in them; each known shape
 * is translated with its values kept. The msgid is the shape itself, so a
 * shape the reader no longer writes is simply shown as the reader wrote it.
 */
static const char *const import_shapes[] = {
    N_("name is empty"),
    N_("has neither a phone nor a code"),
    N_("phone \"%s\" is not a phone number (5 to 20 digits)"),
    N_("code \"%s\" contains a space"),
    N_("expires \"%s\" is not a date (YYYY-MM-DD)"),
    N_("%s \"%s\" is also on line %s"),
    N_("%s \"%s\" is %s bytes, longer than the %s allowed"),
    N_("column %s is not valid UTF-8 text (save the file as \"CSV UTF-8\")"),
    N_("%s is not valid UTF-8 text (save the file as \"CSV UTF-8\")"),
    N_("a field contains a NUL byte (is this a text file?)"),
    N_("%s contains a line break or another control character"),
    N_("phone \"%s\" belongs to another member (%s, code %s) already in the database"),
    N_("phone \"%s\" belongs to another member (%s) already in the database"),
    N_("line %s: the header row must name the columns name, and phone or code "
       "(name,phone,code,tier,expires)"),
    N_("%s is empty: it needs a header row (name,phone,code,tier,expires)"),
    N_("line %s: a quote opened on this row is never closed"),
    N_("line %s: a row longer than %s bytes (is a quote not closed?)"),
    N_("line %s is longer than %s bytes"),
    N_("line %s: more than %s members in one file"),
    N_("line %s: the header names the column \"%s\" twice"),
    N_("line %s: a quote opened on this row is not closed where it should be (the row runs on to line %s); "
       "check the quotes on line %s"),
    N_("line %s: a quote (\") inside a field that does not begin with one, or text after a closing quote; "
       "put "
       "the whole field in quotes and double the quotes inside it"),
    N_("%s is larger than %s MiB"),
};

#define SHAPE_ARGS 4

/* 1 when s has the shape (its %s standing for any text), with the values in v. */
static int shape_match(const char *shape, const char *s, char v[SHAPE_ARGS][160], size_t *nv)
{
	*nv = 0;
	while (*shape) {
		const char *pct = strstr(shape, "%s");
		size_t lit = pct ? (size_t)(pct - shape) : strlen(shape);
		if (strncmp(s, shape, lit) != 0)
			return 0;
		s += lit;
		shape += lit;
		if (!pct)
			return *s == '\0';
		shape += 2;
		/* the value runs to the next literal piece (or to the end) */
		const char *next = strstr(shape, "%s");
		size_t nl = next ? (size_t)(next - shape) : strlen(shape);
		const char *end;
		if (nl == 0) {
			end = s + strlen(s);
		} else {
			char piece[200];
			if (nl >= sizeof piece)
				return 0;
			memcpy(piece, shape, nl);
			piece[nl] = '\0';
			end = next ? strstr(s, piece) : NULL;
			if (!next) { /* the last piece: it must end the text */
				size_t sl = strlen(s);
				end = sl >= nl && strcmp(s + sl - nl, piece) == 0 ? s + sl - nl : NULL;
			}
			if (!end)
				return 0;
		}
		if (*nv == SHAPE_ARGS)
			return 0;
		snprintf(v[*nv], 160, "%.*s", (int)(end - s), s);
		(*nv)++;
		s = end;
	}
	return *s == '\0';
}

/* The reader's sentence s in the page's language, into the page. */
static void say_reader(cx *c, const char *s)
{
	char v[SHAPE_ARGS][160];
	size_t nv;
	for (size_t i = 0; i < sizeof import_shapes / sizeof import_shapes[0]; i++) {
		if (shape_match(import_shapes[i], s, v, &nv)) {
			const char *args[SHAPE_ARGS] = {v[0], v[1], v[2], v[3]};
			cx_say_v(c, import_shapes[i], args, nv);
			return;
		}
	}
	html_text(&c->h, s);
}

/* The members CSV sink: the store, one venue (as tingzi-hub members import does). */
typedef struct import_ctx {
	hub_store *st;
	const char *venue;
	int64_t now_ms;
} import_ctx;

static int sink_begin(void *ctx, char *why, size_t len)
{
	import_ctx *x = ctx;
	if (x->st->ops->members_begin(x->st, x->venue) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(x->st));
		return -1;
	}
	return 0;
}

static int sink_row(void *ctx, const store_member *m, int *how, char *why, size_t len)
{
	import_ctx *x = ctx;
	return x->st->ops->members_row(x->st, m, how, why, len, x->now_ms);
}

static int sink_commit(void *ctx, char *why, size_t len)
{
	import_ctx *x = ctx;
	if (x->st->ops->members_commit(x->st) != HUB_OK) {
		snprintf(why, len, "%s", hub_store_errmsg(x->st));
		return -1;
	}
	return 0;
}

static void sink_rollback(void *ctx)
{
	import_ctx *x = ctx;
	x->st->ops->members_rollback(x->st);
}

static void import_view(cx *c, const char *error, const members_csv_report *rep)
{
	char action[96], n1[24], n2[24];
	page_begin(c, T(c, "Import members"), "members");
	html_f(&c->h, "<p class=\"muted\"><a href=\"/venues/%s/members\">%s</a></p><h1>%s</h1>\n",
	       c->venue.id, T(c, "Members"), T(c, "Import members"));
	if (error)
		html_f(&c->h, "<p class=\"alert bad\" role=\"alert\">%s</p>\n", error);
	if (rep && (rep->errors_total || rep->fatal[0])) {
		html_f(&c->h, "<section class=\"card\"><p class=\"alert bad\" role=\"alert\">");
		if (rep->errors_total)
			SAY(c,
			    "Nothing was imported: %1$s of %2$s rows were refused. Correct them and upload "
			    "the whole file again.",
			    cx_num((int64_t)rep->rows_refused, n1), cx_num((int64_t)rep->rows, n2));
		else
			html_f(&c->h, "%s", T(c, "Nothing was imported."));
		if (rep->fatal[0]) {
			html_f(&c->h, " ");
			/* the reader names the temporary file: name the upload instead */
			say_reader(c, rep->fatal);
		}
		html_f(&c->h, "</p>\n");
		if (rep->nerrors) {
			html_f(&c->h,
			       "<table class=\"data\"><thead><tr><th "
			       "class=\"num\">%s</th><th>%s</th></tr></thead><tbody>\n",
			       T(c, "Line"), T(c, "Why it was refused"));
			for (size_t i = 0; i < rep->nerrors; i++) {
				const char *s = rep->errors[i];
				/* "line 7: why" */
				const char *why = s;
				char *end;
				unsigned long line = 0;
				if (strncmp(s, "line ", 5) == 0) {
					line = strtoul(s + 5, &end, 10);
					if (end != s + 5 && strncmp(end, ": ", 2) == 0)
						why = end + 2;
				}
				html_f(&c->h, "<tr><td data-label=\"%s\" class=\"num\">", T(c, "Line"));
				if (why != s)
					html_f(&c->h, "%lu", line);
				html_f(&c->h, "</td><td data-label=\"%s\">", T(c, "Why it was refused"));
				say_reader(c, why);
				html_f(&c->h, "</td></tr>\n");
			}
			html_f(&c->h, "</tbody></table>\n");
			if (rep->errors_total > rep->nerrors) {
				html_f(&c->h, "<p class=\"muted\">");
				SAY(c, "... and %s more refusals.",
				    cx_num((int64_t)(rep->errors_total - rep->nerrors), n1));
				html_f(&c->h, "</p>\n");
			}
		}
		html_f(&c->h, "</section>\n");
	}
	snprintf(action, sizeof action, "/venues/%s/members/import", c->venue.id);
	html_f(&c->h, "<section class=\"card\"><h2>%s</h2>\n<ul>", T(c, "The file"));
	html_f(&c->h, "<li>%s</li>",
	       T(c, "A CSV file in UTF-8 (in Excel: Save As, then \"CSV UTF-8 (Comma delimited)\")."));
	html_f(&c->h, "<li>%s <code>name,phone,code,tier,expires</code></li>",
	       T(c, "A header row naming the columns, in any order:"));
	html_f(
	    &c->h, "<li>%s</li>",
	    T(c, "Every row needs a name, and a phone or a code. Expires is a date (YYYY-MM-DD) or empty."));
	html_f(&c->h, "<li>%s</li>",
	       T(c, "A row is matched to a member by code, then by phone: a match is updated, any other row "
		    "is added. Members not in the file are left as they are."));
	html_f(
	    &c->h, "<li>%s</li></ul>\n",
	    T(c,
	      "All or nothing: if any row is refused, nothing is imported and every refused row is listed."));
	html_f(&c->h, "<p class=\"muted\">");
	SAY(c, "At most %s MiB per file. The members export of this page is in the same format.",
	    cx_num((int64_t)(FORM_MAX_FILE >> 20), n1));
	html_f(&c->h, "</p>\n");
	form_open(c, action, 1);
	html_f(&c->h,
	       "<div class=\"field\"><label for=\"file\">%s</label>"
	       "<input id=\"file\" name=\"file\" type=\"file\" accept=\".csv,text/csv\" required></div>"
	       "<button class=\"primary\">%s</button>\n",
	       T(c, "CSV file"), T(c, "Import"));
	form_close(c);
	html_f(&c->h, "</section>\n");
	page_end(c);
}

static void import_page(cx *c)
{
	import_view(c, NULL, NULL);
}

static void import_too_large(cx *c)
{
	char msg[300], n1[24];
	c->out->status = 413;
	import_view(
	    c,
	    SAYF(c, msg,
		 "The file is larger than %s MiB, the most one upload may hold. Split it into smaller files "
		 "(each is imported whole), or import it on the server with tingzi-hub members import.",
		 cx_num((int64_t)(FORM_MAX_FILE >> 20), n1)),
	    NULL);
}

/* Replace every occurrence of from in s by to (in place, within len). */
static void replace_all(char *s, size_t len, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p = s;
	while (fl && (p = strstr(p, from)) != NULL) {
		size_t rest = strlen(p + fl);
		if ((size_t)(p - s) + tl + rest + 1 > len)
			return;
		memmove(p + tl, p + fl, rest + 1);
		memcpy(p, to, tl);
		p += tl;
	}
}

static void import_post(cx *c)
{
	char msg[400], n[4][24];
	if (c->rq->body_too_large) {
		import_too_large(c);
		return;
	}
	const form_field *f = form_field_get(&c->form, "file");
	if (!f || !f->filename || !f->filename[0]) {
		c->out->status = 400;
		import_view(c, T(c, "Choose a CSV file to import."), NULL);
		return;
	}
	if (f->len > FORM_MAX_FILE) {
		import_too_large(c);
		return;
	}
	if (f->len == 0) {
		c->out->status = 400;
		import_view(c,
			    T(c, "The file is empty: it needs a header row (name,phone,code,tier,expires)."),
			    NULL);
		return;
	}
	if (f->len >= 4 && memcmp(f->value, "PK\3\4", 4) == 0) {
		c->out->status = 400;
		import_view(c,
			    T(c, "This is an Excel workbook, not a CSV file. In Excel choose Save As, then "
				 "\"CSV UTF-8 (Comma "
				 "delimited)\", and upload that file."),
			    NULL);
		return;
	}
	if (!utf8_valid(f->value, f->len)) {
		c->out->status = 400;
		import_view(
		    c,
		    T(c,
		      "The file is not UTF-8 text (a spreadsheet on a Chinese Windows saves \"CSV\" in GBK). "
		      "Save it as \"CSV UTF-8 (Comma delimited)\" and upload it again. Nothing was "
		      "imported."),
		    NULL);
		return;
	}

	/* the reader takes a path: a private temporary file, gone when this returns */
	const char *dir = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/tingzi-hub-import-XXXXXX", dir && dir[0] ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		page_fail(c, 500,
			  T(c, "The hub could not keep the upload for reading (no temporary file). Nothing "
			       "was imported."));
		return;
	}
	size_t off = 0;
	while (off < f->len) {
		ssize_t w = write(fd, f->value + off, f->len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	if (off != f->len) {
		unlink(path);
		page_fail(
		    c, 500,
		    T(c,
		      "The hub could not keep the upload for reading (disk full?). Nothing was imported."));
		return;
	}
	import_ctx x = {c->st, c->venue.id, c->rq->now_ms};
	members_csv_sink sink = {&x, sink_begin, sink_row, sink_commit, sink_rollback};
	members_csv_report rep;
	int rc = members_csv_import_into(&sink, path, &rep);
	unlink(path);
	replace_all(rep.fatal, sizeof rep.fatal, path, f->filename);
	if (rc == MEMBERS_CSV_STORE_ERR) {
		members_csv_report_free(&rep);
		page_fail(c, 500,
			  T(c, "The database could not be written. Nothing was imported; try again."));
		return;
	}
	if (rc != MEMBERS_CSV_OK) {
		c->out->status = 400;
		import_view(c, NULL, &rep);
		members_csv_report_free(&rep);
		return;
	}
	members_csv_report_free(&rep);
	json_t *d = json_pack("{s:s,s:I,s:I,s:I,s:I}", "file", f->filename, "rows", (json_int_t)rep.rows,
			      "added", (json_int_t)rep.added, "updated", (json_int_t)rep.updated, "unchanged",
			      (json_int_t)rep.unchanged);
	if (console_audit(c, "members.import", d) != 0)
		return;
	page_flash(c, SAYF(c, msg,
			   "Imported %1$s rows: %2$s added, %3$s updated, %4$s unchanged. Kiosks get them at "
			   "their next sync.",
			   cx_num((int64_t)rep.rows, n[0]), cx_num((int64_t)rep.added, n[1]),
			   cx_num((int64_t)rep.updated, n[2]), cx_num((int64_t)rep.unchanged, n[3])));
	page_redirect(c, "/venues/%s/members", c->venue.id);
}

/* ---- export ---- */

static int export_row(const hub_member *m, void *ctx)
{
	const char *cells[5] = {m->name, m->phone, m->code, m->tier, m->expires};
	csv_out_row(ctx, cells, 5);
	return 0;
}

static void export_csv(cx *c)
{
	char *buf = NULL, day[11], fname[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		page_fail(c, 500, T(c, "Out of memory."));
		return;
	}
	/* a byte-order mark: a spreadsheet then reads the file as UTF-8 (the import skips it) */
	fputs("\xef\xbb\xbf", f);
	static const char *const head[5] = {"name", "phone", "code", "tier", "expires"};
	csv_out_row(f, head, 5);
	hub_err e = c->st->ops->members_each(c->st, c->venue.id, export_row, f);
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
	today(c, day);
	snprintf(fname, sizeof fname, "members-%s-%.4s%.2s%.2s.csv",
		 c->venue.slug[0] ? c->venue.slug : "venue", day, day + 5, day + 8);
	page_download(c, "text/csv; charset=utf-8", fname, buf, len);
}

const console_route console_routes_members[] = {
    {"GET", "/venues/{v}/members", HUB_ROLE_ORGANIZER, members_page},
    {"GET", "/venues/{v}/members.csv", HUB_ROLE_ORGANIZER, export_csv},
    {"GET", "/venues/{v}/members/import", HUB_ROLE_ORGANIZER, import_page},
    {"POST", "/venues/{v}/members/import", HUB_ROLE_ORGANIZER, import_post},
    {"GET", "/venues/{v}/members/{id}", HUB_ROLE_ORGANIZER, member_page},
    {"POST", "/venues/{v}/members/{id}", HUB_ROLE_ORGANIZER, member_edit},
    {"POST", "/venues/{v}/members/{id}/merge", HUB_ROLE_ORGANIZER, member_merge},
    {"POST", "/venues/{v}/members/{id}/referrer", HUB_ROLE_ORGANIZER, member_referrer},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
