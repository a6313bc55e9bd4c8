/*
 * result — the outcome of a check-in, large and in one colour a member can read
 * from across the room: green welcome, amber already checked in, red for
 * anything that needs staff. A tap anywhere (or the timeout) goes home.
 */
#include "screens/common.h"
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

/* Draw lines centred from the top down; returns the next y. */
static int line(kiosk *k, const char *s, int px, ui_color c, int y)
{
	int u = ui_unit(k->w, k->h);
	if (!s || !s[0])
		return y;
	int size = ui_text_fit(k->text, s, px, k->w - 2 * u);
	int w, h;
	ui_text_size(k->text, s, size, &w, &h);
	ui_text_draw(k->text, s, size, ui_rgb(c), k->w / 2, y, UI_ALIGN_CENTER, 0);
	return y + h + u / 2;
}

static void welcome(kiosk *k, int u)
{
	const result_info *r = &k->result;
	char buf[192], ord[16];
	int y = u * 2;
	y = line(k, _("Welcome"), u * 2, UI_TEXT, y);
	y = line(k, r->member.name, u * 4, UI_TEXT, y);
	i18n_ordinal(r->checkin.visit_no, ord, sizeof ord);
	snprintf(buf, sizeof buf, _("This is your %s visit"), ord);
	y = line(k, buf, u * 3 / 2, UI_TEXT, y + u / 2);
	y = line(k, milestone(r->checkin.visit_no), u * 3 / 2, UI_TEXT, y);
	if (r->member.tier[0]) {
		snprintf(buf, sizeof buf, _("Membership: %s"), r->member.tier);
		y = line(k, buf, u, UI_TEXT, y);
	}
	if (r->checkin.expired) {
		snprintf(buf, sizeof buf, _("Membership expired on %s. Please see staff to renew."), r->member.expires);
		int size = ui_text_fit(k->text, buf, u * 6 / 5, k->w - 4 * u), w, h;
		ui_text_size(k->text, buf, size, &w, &h);
		ui_fill(k->ren, (SDL_Rect){k->w / 2 - w / 2 - u / 2, y, w + u, h + u / 2}, UI_WARN);
		ui_text_draw(k->text, buf, size, ui_rgb(UI_TEXT), k->w / 2, y + u / 4, UI_ALIGN_CENTER, 0);
	}
}

void screen_result_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	const result_info *r = &k->result;
	ui_color bg = k->screen == SCREEN_WELCOME ? UI_OK : k->screen == SCREEN_ALREADY ? UI_WARN : UI_ERROR;
	ui_fill(k->ren, (SDL_Rect){0, 0, k->w, k->h}, bg);
	kiosk_button(k, (SDL_Rect){0, 0, k->w, k->h}, ACT_DISMISS, 0);
	char buf[192], at[8];
	int y = u * 3;
	switch (k->screen) {
	case SCREEN_WELCOME:
		welcome(k, u);
		break;
	case SCREEN_ALREADY:
		clock_local_hhmm(r->checkin.wall_ms, at, sizeof at);
		y = line(k, r->member.name, u * 3, UI_TEXT, y);
		snprintf(buf, sizeof buf, _("Already checked in at %s"), at);
		line(k, buf, u * 2, UI_TEXT, y + u);
		break;
	case SCREEN_UNKNOWN: {
		y = line(k, _("Not recognised"), u * 3, UI_TEXT, y);
		y = line(k, _("Please see staff, or register as a new member."), u * 3 / 2, UI_TEXT, y + u);
		int bh = u * 3, bw = k->w > k->h ? k->w / 2 : k->w * 4 / 5;
		SDL_Rect reg = {(k->w - bw) / 2, y + u, bw, bh};
		ui_button(k->ren, k->text, reg, UI_PRIMARY, _("Register as a new member"), u * 3 / 2);
		kiosk_button(k, reg, ACT_REGISTER, 0);
		break;
	}
	default:
		if (strcmp(r->detail, "scan") == 0) {
			y = line(k, _("Could not read that code"), u * 5 / 2, UI_TEXT, y);
			line(k, _("Please scan again, or see staff."), u * 3 / 2, UI_TEXT, y + u);
		} else {
			y = line(k, _("Not saved"), u * 3, UI_TEXT, y);
			line(k, _("Your check-in was not recorded. Please see staff."), u * 3 / 2, UI_TEXT, y + u);
		}
		break;
	}
	line(k, _("Tap anywhere to continue"), u, UI_TEXT, k->h - u * 2);
}
