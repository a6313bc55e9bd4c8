/*
 * result — the outcome of a check-in, large and in one colour a member can read
 * from across the room: green welcome, amber already checked in, red for
 * anything that needs staff. A tap anywhere (or the timeout) goes home.
 */
#include "app/screens/common.h"
#include "sync/clock.h"

#include <stdio.h>
#include <string.h>

/* The milestone line for a visit count, or NULL. Three visits is when a
 * newcomer becomes a regular; every tenth is a thank-you. */
static const char *milestone(int visit)
{
	if (visit == 1)
		return _("Welcome to your first visit!");
	if (visit == 3)
		return _("Your third visit: you are one of us now.");
	if (visit >= 10 && visit % 10 == 0)
		return _("A milestone visit. Thank you for coming back!");
	return NULL;
}

/* A result screen is a short column of centred lines, scaled down together
 * when they would not fit above the footer. */
#define MAX_LINES 8

typedef struct line {
	const char *text;
	int px;
	int boxed; /* on an amber box: the expired-membership notice */
} line;

typedef struct column {
	line l[MAX_LINES];
	int n;
	char buf[4][192];
} column;

static void add(column *c, const char *text, int px, int boxed)
{
	if (text && text[0] && c->n < MAX_LINES)
		c->l[c->n++] = (line){text, px, boxed};
}

/* Draw the column centred in area; returns the y under its last line. */
static int draw_column(kiosk *k, const column *c, SDL_Rect area)
{
	int u = ui_unit(k->w, k->h), gap = u / 2, px[MAX_LINES], hh[MAX_LINES], total;
	int top = area.y, bottom = area.y + area.h, cx = area.x + area.w / 2;
	for (int scale = 100; scale >= 40; scale -= 10) {
		total = 0;
		for (int i = 0; i < c->n; i++) {
			int w;
			px[i] = ui_text_fit(k->text, c->l[i].text, c->l[i].px * scale / 100, area.w - u);
			ui_text_size(k->text, c->l[i].text, px[i], &w, &hh[i]);
			total += hh[i] + gap;
		}
		if (total <= bottom - top)
			break;
	}
	int y = top + (bottom - top - total) / 2;
	if (y < top)
		y = top;
	for (int i = 0; i < c->n; i++) {
		if (c->l[i].boxed) {
			int w, h;
			ui_text_size(k->text, c->l[i].text, px[i], &w, &h);
			ui_fill(k->ren, (SDL_Rect){cx - w / 2 - u / 2, y - u / 8, w + u, h + u / 4}, UI_WARN);
		}
		ui_text_draw(k->text, c->l[i].text, px[i], ui_rgb(UI_TEXT), cx, y, UI_ALIGN_CENTER, 0);
		y += hh[i] + gap;
	}
	return y;
}

static void welcome(kiosk *k, column *c, int u)
{
	const result_info *r = &k->result;
	char ord[16];
	add(c, _("Welcome"), u * 2, 0);
	add(c, r->member.name, u * 4, 0);
	i18n_ordinal(r->checkin.visit_no, ord, sizeof ord);
	snprintf(c->buf[0], sizeof c->buf[0], _("This is your %s visit"), ord);
	add(c, c->buf[0], u * 3 / 2, 0);
	add(c, milestone(r->checkin.visit_no), u * 3 / 2, 0);
	if (r->member.tier[0]) {
		snprintf(c->buf[1], sizeof c->buf[1], _("Membership: %s"), r->member.tier);
		add(c, c->buf[1], u, 0);
	}
	if (r->checkin.expired) {
		snprintf(c->buf[2], sizeof c->buf[2],
			 _("Membership expired on %s. Please see staff to renew."), r->member.expires);
		add(c, c->buf[2], u * 6 / 5, 1);
	}
}

/* A refused signed pass: what happened, and what to do, in words a member
 * can act on. */
static void pass_refused(column *c, int u, pass_verdict v)
{
	const char *title, *text;
	switch (v) {
	case PASS_WRONG_VENUE:
		title = _("This pass is for another venue");
		text = _("It cannot be used here. Please see staff.");
		break;
	case PASS_UNKNOWN_KEY:
		title = _("This pass cannot be checked yet");
		text = _("This kiosk does not have the key that signed it yet. Please see staff.");
		break;
	case PASS_REVOKED:
		title = _("This pass has been withdrawn");
		text = _("Please see staff for a new pass.");
		break;
	case PASS_NO_VENUE:
		title = _("Passes cannot be checked here yet");
		text = _("This kiosk is not connected to a hub. Please see staff.");
		break;
	case PASS_STORE_FAILED:
		title = _("Not saved");
		text = _("Your check-in was not recorded. Please see staff.");
		break;
	default:
		title = _("This pass is not valid");
		text = _("It was not issued by this venue, or it has been changed. Please see staff.");
		break;
	}
	add(c, title, u * 5 / 2, 0);
	add(c, text, u * 3 / 2, 0);
}

/*
 * The QR a welcome screen carries: for a first visit or a walk-in, the
 * group link of the event (or the venue's); for a returning member, when
 * the venue has turned referrals on, the member's personal invite address.
 * Whether it is the join QR is links_welcome_join(), the rule the check-in
 * recorded as its join_qr when it was committed (checkin_member_welcome()).
 * Both addresses go through the hub's live code (/j/SLUG) when the link has
 * one, so the hub counts the redirect and the invite's ref.
 * Returns 1 and fills url, caption and sub, or 0 for none.
 */
static int welcome_qr(kiosk *k, char *url, size_t len, const char **caption, char *sub, size_t sublen,
		      int64_t *link_id, const char **kind)
{
	const result_info *r = &k->result;
	const store_link *l[LINKS_MAX];
	size_t n = kiosk_links_now(k, l, LINKS_MAX);
	if (n == 0)
		return 0;
	if (links_welcome_join(r->checkin.visit_no, r->checkin.method, n)) {
		snprintf(url, len, "%s", l[0]->live_url[0] ? l[0]->live_url : l[0]->url);
		*caption = _("Join our group");
		snprintf(sub, sublen, "%s · %s", l[0]->label, links_platform_name(l[0]->platform));
		*link_id = l[0]->id;
		*kind = "join";
		return 1;
	}
	if (!k->referral_qr)
		return 0;
	const store_link *base = NULL; /* the venue's link, not an event's */
	for (size_t i = 0; i < n && !base; i++)
		if (!l[i]->event_id)
			base = l[i];
	const char *ref = r->member.code[0] ? r->member.code : r->member.uid;
	if (!base || !ref[0] ||
	    links_referral_url(base->live_url[0] ? base->live_url : base->url, ref, url, len) != 0)
		return 0;
	*caption = _("Invite a friend");
	snprintf(sub, sublen, "%s", _("Your personal invite code"));
	*link_id = base->id;
	*kind = "referral";
	return 1;
}

void screen_result_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	const result_info *r = &k->result;
	ui_color bg = k->screen == SCREEN_WELCOME ? UI_OK : k->screen == SCREEN_ALREADY ? UI_WARN : UI_ERROR;
	ui_fill(k->ren, (SDL_Rect){0, 0, k->w, k->h}, bg);
	kiosk_button(k, (SDL_Rect){0, 0, k->w, k->h}, ACT_DISMISS, 0);
	column c = {0};
	char at[8];
	int footer = k->h - u * 2, bottom = footer - u / 2;
	int bh = ui_target(u * 3);
	switch (k->screen) {
	case SCREEN_WELCOME:
		welcome(k, &c, u);
		break;
	case SCREEN_ALREADY:
		clock_local_hhmm(r->checkin.wall_ms, at, sizeof at);
		add(&c, r->member.name, u * 3, 0);
		snprintf(c.buf[0], sizeof c.buf[0], _("Already checked in at %s"), at);
		add(&c, c.buf[0], u * 2, 0);
		break;
	case SCREEN_UNKNOWN:
		add(&c, _("Not recognised"), u * 3, 0);
		add(&c, _("Please see staff, or register as a new member."), u * 3 / 2, 0);
		bottom -= bh + u;
		break;
	case SCREEN_PASS:
		pass_refused(&c, u, k->pass_verdict);
		break;
	default:
		if (strcmp(r->detail, "scan") == 0) {
			add(&c, _("Could not read that code"), u * 5 / 2, 0);
			add(&c, _("Please scan again, or see staff."), u * 3 / 2, 0);
		} else {
			add(&c, _("Not saved"), u * 3, 0);
			add(&c, _("Your check-in was not recorded. Please see staff."), u * 3 / 2, 0);
		}
		break;
	}
	SDL_Rect col = {u, u, k->w - 2 * u, bottom - u};
	char url[LINKS_URL_MAX + 1], sub[200];
	const char *caption = NULL, *kind = NULL;
	int64_t link_id = 0;
	if (k->screen == SCREEN_WELCOME &&
	    welcome_qr(k, url, sizeof url, &caption, sub, sizeof sub, &link_id, &kind)) {
		SDL_Rect panel;
		if (k->w > k->h) { /* the welcome on the left, the code on the right */
			col.w = (k->w - 3 * u) * 11 / 20;
			panel = (SDL_Rect){col.x + col.w + u, u, k->w - col.w - 3 * u, bottom - u};
		} else { /* the welcome above, the code below */
			col.h = (bottom - u) * 2 / 5;
			panel = (SDL_Rect){u, col.y + col.h + u, k->w - 2 * u, bottom - col.h - 2 * u};
		}
		ui_fill(k->ren, (SDL_Rect){panel.x - u / 2, panel.y - u / 2, panel.w + u, panel.h + u},
			UI_BG);
		screen_qr_panel(k, panel, url, caption, sub, link_id, kind);
	} else {
		k->shown_link = 0;
	}
	int y = draw_column(k, &c, col);
	if (k->screen == SCREEN_UNKNOWN) {
		int bw = k->w > k->h ? k->w / 2 : k->w * 4 / 5;
		SDL_Rect reg = {(k->w - bw) / 2, y + u / 2, bw, bh};
		ui_button(k->ren, k->text, reg, UI_PRIMARY, _("Register as a new member"), u * 3 / 2);
		kiosk_button(k, reg, ACT_REGISTER, 0);
	}
	ui_text_draw(k->text, _("Tap anywhere to continue"), u, ui_rgb(UI_TEXT), k->w / 2, footer,
		     UI_ALIGN_CENTER, k->w - 2 * u);
}
