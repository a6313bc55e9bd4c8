/*
 * home — what stands at the door: the venue, the event happening now (or a
 * drop-in visit), the clock, one large check-in button, and the language
 * switch. identify — the choice between phone digits and name; a scanner
 * works on every screen, so it is only mentioned.
 */
#include "app/screens/common.h"
#include "sync/clock.h"

#include <stdio.h>

void screen_home_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h), m = screen_margin(k);
	int64_t now = clock_wall_ms();
	char hhmm[8], span[48];
	clock_local_hhmm(now, hhmm, sizeof hhmm);
	int cw, ch;
	ui_text_size(k->text, "88:88", u * 3 / 2, &cw, &ch);
	ui_text_draw(k->text, hhmm, u * 3 / 2, ui_rgb(UI_TEXT), k->w - m, m, UI_ALIGN_RIGHT, 0);
	ui_text_draw(k->text, k->venue, u * 3 / 2, ui_rgb(UI_TEXT), m, m, UI_ALIGN_LEFT, k->w - 3 * m - cw);
	if (k->sync_seen.enrolled) {
		/* the sync mark under the clock: offline and how much waits, or refused */
		char mark[96];
		const sync_status *st = &k->sync_seen;
		if (st->auth_failed)
			snprintf(mark, sizeof mark, "%s", _("Not authorised by the hub · please see staff"));
		else if (!st->online)
			snprintf(mark, sizeof mark, _("Offline · %lld waiting"), (long long)st->waiting);
		else if (st->waiting > 0)
			snprintf(mark, sizeof mark, _("%lld waiting to upload"), (long long)st->waiting);
		else
			snprintf(mark, sizeof mark, "%s", _("Synced"));
		ui_text_draw(k->text, mark, u * 3 / 4,
			     ui_rgb(st->online && !st->auth_failed ? UI_MUTED : UI_WARN), k->w - m, m + ch,
			     UI_ALIGN_RIGHT, k->w / 2);
	}

	int y = m + ch + u;
	if (k->event.id) {
		char a[8], b[8];
		clock_local_hhmm(k->event.start_ms, a, sizeof a);
		clock_local_hhmm(k->event.end_ms, b, sizeof b);
		snprintf(span, sizeof span, "%s – %s", a, b);
		ui_text_draw(k->text, _("Now"), u, ui_rgb(UI_MUTED), k->w / 2, y, UI_ALIGN_CENTER, 0);
		y += u * 3 / 2;
		/* a long title takes two lines where the screen has the height */
		if (k->h >= 600) {
			int th = ui_text_draw_two(k->text, k->event.title, u * 2, ui_rgb(UI_TEXT), k->w / 2, y,
						  UI_ALIGN_CENTER, k->w - 2 * m);
			y += th > u * 11 / 4 ? th : u * 11 / 4;
		} else {
			ui_text_draw(k->text, k->event.title, u * 2, ui_rgb(UI_TEXT), k->w / 2, y, UI_ALIGN_CENTER,
				     k->w - 2 * m);
			y += u * 11 / 4;
		}
		ui_text_draw(k->text, span, u, ui_rgb(UI_MUTED), k->w / 2, y, UI_ALIGN_CENTER, 0);
	} else {
		y += u * 3 / 2;
		ui_text_draw(k->text, _("Drop-in visit"), u * 2, ui_rgb(UI_TEXT), k->w / 2, y,
			     UI_ALIGN_CENTER, k->w - 2 * m);
		y += u * 11 / 4;
	}
	y += u * 2;

	/* The language switch sits at the bottom; the check-in button fills the
	 * middle, with "Join our group" (when a group link applies now) between
	 * them. When that column does not fit (800x480), the join button moves
	 * into the language row, then the gap under the event gives way. */
	int lh = ui_target(u * 2);
	int lw = u * 5;
	int hint_h = u * 2, bh_min = UI_MIN_TARGET * 2;
	int bw = k->w > k->h ? k->w / 2 : k->w * 4 / 5;
	SDL_Rect langs = {0, k->h - m - lh, 3 * lw + u, lh};
	const store_link *links[1];
	int join_h = kiosk_links_now(k, links, 1) ? lh : 0;
	int jw = bw * 3 / 4, join_in_row = 0;
	int avail = langs.y - u - hint_h - y - (join_h ? join_h + u / 2 : 0);
	if (join_h && avail < bh_min && langs.w + u + jw <= k->w - 2 * m) {
		join_in_row = 1;
		avail += join_h + u / 2;
	}
	if (avail < bh_min) {
		int give = bh_min - avail < u * 3 / 2 ? bh_min - avail : u * 3 / 2;
		y -= give;
		avail += give;
	}
	langs.x = (k->w - langs.w - (join_in_row ? u + jw : 0)) / 2;
	for (int i = 0; i < LANG_COUNT; i++) {
		SDL_Rect r = ui_grid(langs, 1, 3, u / 2, i);
		ui_button(k->ren, k->text, r, i == (int)i18n_current() ? UI_PRIMARY : UI_KEY,
			  i18n_native_name((i18n_lang)i), u);
		kiosk_button(k, r, ACT_LANG, i);
	}
	int bh = avail < u * 5 ? avail : u * 5;
	if (bh < bh_min)
		bh = bh_min;
	SDL_Rect big = {(k->w - bw) / 2, y + (avail - bh) / 2, bw, bh};
	ui_button(k->ren, k->text, big, UI_PRIMARY, _("Check in"), bh * 2 / 5);
	kiosk_button(k, big, ACT_CHECKIN, 0);
	ui_text_draw(k->text, _("Or scan your member code"), u, ui_rgb(UI_MUTED), k->w / 2,
		     big.y + big.h + u / 2, UI_ALIGN_CENTER, k->w - 2 * m);
	if (join_h) {
		SDL_Rect join = join_in_row ? (SDL_Rect){langs.x + langs.w + u, langs.y, jw, join_h}
					    : (SDL_Rect){(k->w - jw) / 2, langs.y - u - join_h, jw, join_h};
		ui_button(k->ren, k->text, join, UI_KEY, _("Join our group"), u);
		kiosk_button(k, join, ACT_JOIN, 0);
	}
}

void screen_identify_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("How would you like to check in?"));
	int portrait = k->h > k->w;
	int bh = portrait ? body.h / 4 : body.h / 2;
	SDL_Rect area = {body.x, body.y + (body.h - bh - u * 2) / 2, body.w, bh};
	SDL_Rect a = portrait ? ui_grid((SDL_Rect){area.x, area.y - bh / 2, area.w, bh * 2}, 2, 1, u, 0)
			      : ui_grid(area, 1, 2, u, 0);
	SDL_Rect b = portrait ? ui_grid((SDL_Rect){area.x, area.y - bh / 2, area.w, bh * 2}, 2, 1, u, 1)
			      : ui_grid(area, 1, 2, u, 1);
	ui_button(k->ren, k->text, a, UI_PRIMARY, _("Last 4 digits of my phone"), u * 3 / 2);
	kiosk_button(k, a, ACT_BY_PHONE, 0);
	ui_button(k->ren, k->text, b, UI_PRIMARY, _("Find my name"), u * 3 / 2);
	kiosk_button(k, b, ACT_BY_NAME, 0);
	ui_text_draw(k->text, _("Or scan your member code at any time"), u, ui_rgb(UI_MUTED), k->w / 2,
		     body.y + body.h - u * 3 / 2, UI_ALIGN_CENTER, body.w);
}
