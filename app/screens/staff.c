/*
 * staff — staff mode on the kiosk itself: the PIN keypad, the menu, and
 * today's check-ins with undo. Entered by holding the top-left corner of the
 * home screen for 3 seconds (kiosk.c); left by a tap, by 60 seconds without
 * one, or by quitting, which only staff can do. Every step is audited under
 * the session's id. Full names are shown here and nowhere else.
 */
#include "sync/log.h"
#include "app/screens/common.h"
#include "app/sound.h"
#include "sync/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void screen_staff_ok(kiosk *k)
{
	int left = 0;
	staff_result r = staff_try(&k->guard, k->db, k->input, clock_mono_ms(), &left);
	sodium_memzero(k->input, sizeof k->input);
	k->dirty = 1;
	switch (r) {
	case STAFF_OK:
		clock_new_id(k->staff_session);
		k->staff_msg[0] = '\0';
		kiosk_staff_audit(k, "staff.enter", NULL);
		log_event("staff.enter", NULL);
		kiosk_show(k, SCREEN_STAFF_MENU);
		break;
	case STAFF_WRONG:
		snprintf(k->staff_msg, sizeof k->staff_msg, _("Wrong PIN · %d tries left"), left);
		break;
	case STAFF_LOCKED:
		snprintf(k->staff_msg, sizeof k->staff_msg, _("Locked · try again in %d min"), (left + 59) / 60);
		break;
	case STAFF_NO_PIN:
		snprintf(k->staff_msg, sizeof k->staff_msg, "%s", _("No staff PIN yet: run tingzi staff set-pin"));
		break;
	default:
		snprintf(k->staff_msg, sizeof k->staff_msg, "%s", _("The database cannot be read"));
		break;
	}
}

static void undo(kiosk *k, int row)
{
	row += k->staff_page;
	if (row < 0 || row >= k->staff_nrows)
		return;
	const store_checkin_row *r = &k->staff_rows[row];
	if (staff_undo(k->db, k->staff_session, r->c.id, r->c.member_id) == STORE_OK && k->sync)
		sync_worker_kick(k->sync);
	kiosk_staff_load(k);
}

void screen_staff_action(kiosk *k, action act, int arg)
{
	switch (act) {
	case ACT_STAFF_LIST:
		k->staff_page = 0;
		kiosk_show(k, SCREEN_STAFF_LIST);
		kiosk_staff_load(k);
		kiosk_staff_audit(k, "checkins.view", NULL);
		break;
	case ACT_STAFF_UNDO:
		undo(k, arg);
		break;
	case ACT_STAFF_PAGE: {
		int step = k->staff_fit > 0 ? k->staff_fit : 1;
		if (arg > 0 && k->staff_page + step < k->staff_nrows)
			k->staff_page += step;
		else if (arg < 0)
			k->staff_page = k->staff_page > step ? k->staff_page - step : 0;
		break;
	}
	case ACT_STAFF_BYHAND:
		k->staff_by_hand = 1;
		kiosk_show(k, SCREEN_SEARCH);
		break;
	case ACT_STAFF_REFERRAL: {
		int on = !k->referral_qr;
		if (staff_setting(k->db, k->staff_session, "referral_qr", on ? "1" : "0", "settings.referral_qr",
				  json_pack("{s:b}", "on", on)) == STORE_OK)
			k->referral_qr = on;
		break;
	}
	case ACT_STAFF_LANG: {
		i18n_lang next = (i18n_lang)((i18n_current() + 1) % LANG_COUNT);
		if (staff_setting(k->db, k->staff_session, "language", i18n_tag(next), "settings.language",
				  json_pack("{s:s}", "language", i18n_tag(next))) == STORE_OK)
			kiosk_set_lang(k, next);
		break;
	}
	case ACT_STAFF_IDLE: {
		static const int choices[] = {15, 30, 60, 120};
		int now_s = k->input_timeout_ms / 1000, next = choices[0];
		for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
			if (choices[i] > now_s) {
				next = choices[i];
				break;
			}
		char v[16];
		snprintf(v, sizeof v, "%d", next);
		if (staff_setting(k->db, k->staff_session, "input_timeout_s", v, "settings.idle_timeout",
				  json_pack("{s:i}", "seconds", next)) == STORE_OK)
			k->input_timeout_ms = next * 1000;
		break;
	}
	case ACT_STAFF_SOUNDS:
		if (staff_setting(k->db, k->staff_session, "sounds", k->sounds ? "0" : "1", "settings.sounds",
				  json_pack("{s:b}", "on", !k->sounds)) == STORE_OK) {
			k->sounds = !k->sounds;
			sound_set_enabled(k->sounds);
		}
		break;
	case ACT_STAFF_SETTINGS:
		kiosk_show(k, SCREEN_STAFF_SETTINGS);
		break;
	case ACT_STAFF_EVENTS:
		kiosk_staff_events(k);
		kiosk_show(k, SCREEN_STAFF_EVENT);
		break;
	case ACT_STAFF_EVENT_PICK:
		if (arg >= -1 && arg < k->staff_nevents) {
			int64_t id = arg < 0 ? 0 : k->staff_events[arg].id;
			if (staff_choose_event(k->db, k->staff_session, id) == STORE_OK) {
				kiosk_refresh_event(k);
				kiosk_show(k, SCREEN_STAFF_MENU);
			}
		}
		break;
	case ACT_STAFF_EVENT_NEW:
		if (arg >= 1 && arg <= 12) {
			int64_t now = clock_wall_ms(), id;
			char title[STORE_TITLE_MAX], hhmm[8];
			clock_local_hhmm(now, hhmm, sizeof hhmm);
			snprintf(title, sizeof title, _("Gathering at %s"), hhmm);
			if (staff_start_event(k->db, k->staff_session, title, now, arg, &id) == STORE_OK) {
				kiosk_refresh_event(k);
				kiosk_show(k, SCREEN_STAFF_MENU);
			}
		}
		break;
	case ACT_STAFF_SYNC:
		kiosk_staff_audit(k, "sync.now", NULL);
		if (k->sync)
			sync_worker_kick(k->sync);
		break;
	case ACT_STAFF_JOIN:
		kiosk_staff_audit(k, "join.show", NULL);
		kiosk_staff_leave(k, "join");
		kiosk_show(k, SCREEN_JOIN);
		break;
	case ACT_STAFF_LEAVE:
		kiosk_staff_leave(k, "tap");
		kiosk_show(k, SCREEN_HOME);
		break;
	case ACT_STAFF_QUIT:
		kiosk_staff_audit(k, "kiosk.quit", NULL);
		kiosk_staff_leave(k, "quit");
		log_event("quit", json_pack("{s:s}", "by", "staff"));
		k->running = 0;
		break;
	default:
		break;
	}
	k->dirty = 1;
}

static void draw_pin(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Staff PIN"));
	static const char dot[] = "●";
	char dots[3 * KIOSK_INPUT_MAX + 1];
	size_t n = 0;
	for (size_t i = 0; k->input[i] && i < STAFF_PIN_MAX; i++, n += sizeof dot - 1)
		memcpy(dots + n, dot, sizeof dot - 1);
	dots[n] = '\0';
	SDL_Rect rest = screen_input_line(k, body, dots, "· · · ·");
	if (k->staff_msg[0]) {
		ui_text_draw(k->text, k->staff_msg, u, ui_rgb(UI_WARN), k->w / 2, rest.y, UI_ALIGN_CENTER, rest.w);
		rest.y += u * 3 / 2;
		rest.h -= u * 3 / 2;
	}
	screen_keypad(k, rest, strlen(k->input) >= STAFF_PIN_MIN);
}

static void draw_menu(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Staff"));
	char status[160], count[96];
	const sync_status *st = &k->sync_seen;
	if (!st->enrolled) {
		snprintf(status, sizeof status, "%s", _("Not connected to a hub"));
	} else if (st->last_ok_ms) {
		char hhmm[8];
		clock_local_hhmm(st->last_ok_ms, hhmm, sizeof hhmm);
		snprintf(status, sizeof status, _("%lld waiting to upload · last synced %s"), (long long)st->waiting, hhmm);
	} else {
		snprintf(status, sizeof status, _("%lld waiting to upload · not synced yet"), (long long)st->waiting);
	}
	ui_text_draw(k->text, status, u, ui_rgb(st->auth_failed || !st->online ? UI_WARN : UI_MUTED), k->w / 2,
		     body.y, UI_ALIGN_CENTER, body.w);
	body.y += u * 2;
	body.h -= u * 2;
	/* records the hub refused for good are kept here as dead letters; staff must hear of them */
	if (st->dead > 0) {
		char dead[160];
		snprintf(dead, sizeof dead, _("%lld records refused by the hub · please tell the organizer"),
			 (long long)st->dead);
		ui_text_draw(k->text, dead, u, ui_rgb(UI_WARN), k->w / 2, body.y, UI_ALIGN_CENTER, body.w);
		body.y += u * 2;
		body.h -= u * 2;
	}
	/* a group link about to expire: staff should get a new one */
	int64_t now = clock_wall_ms();
	for (size_t i = 0; i < k->links.n; i++)
		if (links_state(&k->links.l[i], now) == LINK_EXPIRING) {
			char warn[256];
			snprintf(warn, sizeof warn, _("Group link \"%s\" expires within 48 hours"), k->links.l[i].label);
			ui_text_draw(k->text, warn, u, ui_rgb(UI_WARN), k->w / 2, body.y, UI_ALIGN_CENTER, body.w);
			body.y += u * 2;
			body.h -= u * 2;
			break;
		}
	snprintf(count, sizeof count, _("Today's check-ins (%d)"), k->staff_total);
	static const action acts[] = {ACT_STAFF_LIST, ACT_STAFF_BYHAND,   ACT_STAFF_EVENTS, ACT_STAFF_JOIN,
				      ACT_STAFF_SYNC, ACT_STAFF_SETTINGS, ACT_STAFF_LEAVE,  ACT_STAFF_QUIT};
	char ev[STORE_TITLE_MAX + 32];
	snprintf(ev, sizeof ev, _("Event: %s"), k->event.id ? k->event.title : _("drop-in"));
	const char *labels[] = {count,	       _("Check a member in"), ev,		      _("Show the join QR"),
				_("Sync now"), _("Settings"),	       _("Leave staff mode"), _("Quit tingzi")};
	int n = (int)(sizeof acts / sizeof acts[0]);
	int portrait = k->h > k->w;
	int rows = portrait ? n : n / 2, cols = portrait ? 1 : 2;
	for (int i = 0; i < n; i++) {
		SDL_Rect r = ui_grid(body, rows, cols, u / 2, i);
		ui_button(k->ren, k->text, r, i == n - 1 ? UI_WARN : i == 0 ? UI_PRIMARY : UI_KEY, labels[i], u);
		kiosk_button(k, r, acts[i], 0);
	}
}

/* How a member checked in, for people. */
static const char *method_name(const char *m)
{
	if (strcmp(m, "scan") == 0)
		return _("code scanned");
	if (strcmp(m, "phone") == 0)
		return _("phone digits");
	if (strcmp(m, "name") == 0)
		return _("name search");
	if (strcmp(m, "walkin") == 0)
		return _("walk-in");
	if (strcmp(m, "staff") == 0)
		return _("by staff");
	return m;
}

static void draw_list(kiosk *k)
{
	int u = ui_unit(k->w, k->h), m = screen_margin(k);
	char title[96];
	snprintf(title, sizeof title, _("Today's check-ins (%d)"), k->staff_total);
	SDL_Rect body = screen_header(k, title);
	SDL_Rect rest = screen_input_line(k, body, k->input, _("Search by name in pinyin"));
	int kb = screen_keyboard_height(k, 0);
	int rh = ui_target(u * 5 / 2), gap = u / 3;
	SDL_Rect list = {rest.x, rest.y, rest.w, rest.h - kb - u / 2};
	int fit = (list.h + gap) / (rh + gap);
	int paged = k->staff_nrows > fit;
	if (paged && fit > 1)
		fit--; /* a line for the page buttons */
	k->staff_fit = fit;
	int bw = rh * 2;
	int n = k->staff_nrows - k->staff_page < fit ? k->staff_nrows - k->staff_page : fit;
	for (int i = 0; i < n; i++) {
		const store_checkin_row *r = &k->staff_rows[k->staff_page + i];
		SDL_Rect row = {list.x, list.y + i * (rh + gap), list.w - bw - m, rh};
		ui_fill(k->ren, row, UI_KEY);
		char hhmm[8], line[256];
		clock_local_hhmm(r->c.wall_ms, hhmm, sizeof hhmm);
		snprintf(line, sizeof line, "%s  %s  · %s", hhmm, r->member_name, method_name(r->c.method));
		ui_text_draw(k->text, line, u, ui_rgb(UI_TEXT), row.x + u / 2, row.y + (rh - u * 3 / 2) / 2,
			     UI_ALIGN_LEFT, row.w - u);
		SDL_Rect b = {row.x + row.w + m, row.y, bw, rh};
		ui_button(k->ren, k->text, b, UI_WARN, _("Undo"), u);
		kiosk_button(k, b, ACT_STAFF_UNDO, i);
	}
	if (k->staff_nrows == 0)
		ui_text_draw(k->text, k->input[0] ? _("No check-ins of that name today") : _("No check-ins yet today"), u,
			     ui_rgb(UI_MUTED), k->w / 2, list.y + u / 2, UI_ALIGN_CENTER, list.w);
	if (paged) {
		int y = list.y + fit * (rh + gap);
		SDL_Rect prev = {list.x, y, bw, rh}, next = {list.x + list.w - bw, y, bw, rh};
		ui_button(k->ren, k->text, prev, UI_KEY, "▲", u);
		kiosk_button(k, prev, ACT_STAFF_PAGE, -1);
		ui_button(k->ren, k->text, next, UI_KEY, "▼", u);
		kiosk_button(k, next, ACT_STAFF_PAGE, 1);
		char pg[48];
		snprintf(pg, sizeof pg, "%d–%d / %d", k->staff_page + 1, k->staff_page + n, k->staff_nrows);
		ui_text_draw(k->text, pg, u, ui_rgb(UI_MUTED), k->w / 2, y + (rh - u * 3 / 2) / 2, UI_ALIGN_CENTER, 0);
	}
	screen_keyboard(k, (SDL_Rect){rest.x, rest.y + rest.h - kb, rest.w, kb}, 0, 0);
}

static void draw_settings(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Settings"));
	char lang[96], idle[96];
	snprintf(lang, sizeof lang, _("Default language: %s"), i18n_native_name(i18n_current()));
	snprintf(idle, sizeof idle, _("Screens go home after %d s"), k->input_timeout_ms / 1000);
	static const action acts[] = {ACT_STAFF_LANG, ACT_STAFF_IDLE, ACT_STAFF_SOUNDS, ACT_STAFF_REFERRAL};
	const char *labels[] = {lang, idle, k->sounds ? _("Sounds: on") : _("Sounds: off"),
				k->referral_qr ? _("Referral QR: on") : _("Referral QR: off")};
	int portrait = k->h > k->w;
	for (int i = 0; i < 4; i++) {
		SDL_Rect r = ui_grid(body, portrait ? 4 : 2, portrait ? 1 : 2, u / 2, i);
		ui_button(k->ren, k->text, r, UI_KEY, labels[i], u);
		kiosk_button(k, r, acts[i], 0);
	}
}

static void draw_event(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Current event"));
	int rh = ui_target(u * 5 / 2), gap = u / 3;
	int fit = (body.h + gap) / (rh + gap) - 2; /* two lines of buttons below */
	int n = k->staff_nevents < fit ? k->staff_nevents : (fit > 0 ? fit : 0);
	for (int i = 0; i < n; i++) {
		const store_event *e = &k->staff_events[i];
		char a[8], b[8], line[STORE_TITLE_MAX + 32];
		clock_local_hhmm(e->start_ms, a, sizeof a);
		clock_local_hhmm(e->end_ms, b, sizeof b);
		snprintf(line, sizeof line, "%s  %s – %s%s", e->title, a, b, e->id == k->event.id ? "  ✓" : "");
		SDL_Rect r = {body.x, body.y + i * (rh + gap), body.w, rh};
		ui_button(k->ren, k->text, r, e->id == k->event.id ? UI_PRIMARY : UI_KEY, line, u);
		kiosk_button(k, r, ACT_STAFF_EVENT_PICK, i);
	}
	int y = body.y + n * (rh + gap);
	SDL_Rect autob = {body.x, y, body.w, rh};
	ui_button(k->ren, k->text, autob, UI_KEY, _("By the clock (the event running now)"), u);
	kiosk_button(k, autob, ACT_STAFF_EVENT_PICK, -1);
	y += rh + gap;
	static const int hours[] = {1, 2, 3};
	SDL_Rect line = {body.x, y, body.w, rh};
	for (int i = 0; i < 3; i++) {
		char label[64];
		snprintf(label, sizeof label, _("Start one now: %d h"), hours[i]);
		SDL_Rect r = ui_grid(line, 1, 3, u / 2, i);
		ui_button(k->ren, k->text, r, UI_KEY, label, u);
		kiosk_button(k, r, ACT_STAFF_EVENT_NEW, hours[i]);
	}
}

void screen_staff_draw(kiosk *k)
{
	if (k->screen == SCREEN_STAFF_SETTINGS) {
		draw_settings(k);
		return;
	}
	if (k->screen == SCREEN_STAFF_EVENT) {
		draw_event(k);
		return;
	}
	if (k->screen == SCREEN_STAFF_PIN)
		draw_pin(k);
	else if (k->screen == SCREEN_STAFF_MENU)
		draw_menu(k);
	else
		draw_list(k);
}
