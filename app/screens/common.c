/*
 * common — the parts several screens share: the header with its back button,
 * the digit keypad, the letter keyboard, the line being typed, and a row of a
 * member list. Each draws and registers its buttons in one go.
 */
#include "app/screens/common.h"

#include <stdio.h>
#include <string.h>

int screen_margin(const kiosk *k)
{
	return ui_unit(k->w, k->h) / 2;
}

SDL_Rect screen_header(kiosk *k, const char *title)
{
	int u = ui_unit(k->w, k->h), m = screen_margin(k);
	int hh = ui_target(u * 5 / 2);
	SDL_Rect back = {m, m, hh * 2, hh};
	ui_button(k->ren, k->text, back, UI_KEY, _("Back"), u);
	kiosk_button(k, back, ACT_HOME, 0);
	int tx = back.x + back.w + m;
	ui_text_draw(k->text, title, u * 6 / 5, ui_rgb(UI_TEXT), tx, m + (hh - u * 3 / 2) / 2, UI_ALIGN_LEFT,
		     k->w - tx - m);
	return (SDL_Rect){m, m + hh + m, k->w - 2 * m, k->h - hh - 3 * m};
}

SDL_Rect screen_input_line(kiosk *k, SDL_Rect area, const char *text, const char *placeholder)
{
	int u = ui_unit(k->w, k->h);
	int lh = ui_target(u * 2);
	SDL_Rect line = {area.x, area.y, area.w, lh};
	ui_fill(k->ren, line, UI_PANEL);
	int empty = !text[0], tw, th;
	const char *s = empty ? placeholder : text;
	int px = ui_text_fit(k->text, s, u * 3 / 2, line.w - u);
	ui_text_size(k->text, s, px, &tw, &th);
	ui_text_draw(k->text, s, px, ui_rgb(empty ? UI_MUTED : UI_TEXT), line.x + line.w / 2,
		     line.y + (lh - th) / 2, UI_ALIGN_CENTER, 0);
	return (SDL_Rect){area.x, area.y + lh + u / 2, area.w, area.h - lh - u / 2};
}

void screen_keypad(kiosk *k, SDL_Rect area, int ok_enabled)
{
	int u = ui_unit(k->w, k->h), gap = u / 3;
	/* Keys about 1.6 times as wide as high, centred, never under the minimum. */
	int kh = (area.h - 3 * gap) / 4, kw = kh * 8 / 5;
	if (kw * 3 + 2 * gap > area.w)
		kw = (area.w - 2 * gap) / 3;
	SDL_Rect grid = {area.x + (area.w - (3 * kw + 2 * gap)) / 2, area.y, 3 * kw + 2 * gap,
			 4 * kh + 3 * gap};
	static const char keys[12] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '<', '0', '>'};
	for (int i = 0; i < 12; i++) {
		SDL_Rect r = ui_grid(grid, 4, 3, gap, i);
		char label[2] = {keys[i], 0};
		if (keys[i] == '<') {
			ui_button(k->ren, k->text, r, UI_KEY, "⌫", u * 3 / 2);
			kiosk_button(k, r, ACT_BACKSPACE, 0);
		} else if (keys[i] == '>') {
			ui_button(k->ren, k->text, r, ok_enabled ? UI_OK : UI_PANEL, _("OK"), u * 3 / 2);
			if (ok_enabled)
				kiosk_button(k, r, ACT_OK, 0);
		} else {
			ui_button(k->ren, k->text, r, UI_KEY, label, u * 2);
			kiosk_button(k, r, ACT_KEY, keys[i]);
		}
	}
}

void screen_keyboard(kiosk *k, SDL_Rect area, int with_space, int ok_enabled)
{
	static const char *const rows[3] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
	int u = ui_unit(k->w, k->h), gap = u / 4;
	int nrows = with_space ? 4 : 3;
	int kh = (area.h - (nrows - 1) * gap) / nrows;
	int kw = (area.w - 9 * gap) / 10;
	if (kh > kw * 3 / 2)
		kh = kw * 3 / 2;
	int y = area.y + area.h - (nrows * kh + (nrows - 1) * gap);
	for (int row = 0; row < 3; row++) {
		int n = (int)strlen(rows[row]), extra = row == 2 ? 2 : 0;
		int total = (n + extra) * kw + (n + extra - 1) * gap;
		int x = area.x + (area.w - total) / 2;
		for (int i = 0; i < n; i++) {
			SDL_Rect r = {x + i * (kw + gap), y, kw, kh};
			char label[2] = {rows[row][i], 0};
			ui_button(k->ren, k->text, r, UI_KEY, label, u * 3 / 2);
			kiosk_button(k, r, ACT_KEY, rows[row][i]);
		}
		if (row == 2) {
			SDL_Rect r = {x + n * (kw + gap), y, 2 * kw + gap, kh};
			ui_button(k->ren, k->text, r, UI_KEY, "⌫", u * 3 / 2);
			kiosk_button(k, r, ACT_BACKSPACE, 0);
		}
		y += kh + gap;
	}
	if (with_space) {
		int bw = 3 * kw + 2 * gap;
		SDL_Rect space = {area.x + (area.w - (5 * kw + 4 * gap) - bw - gap) / 2, y, 5 * kw + 4 * gap,
				  kh};
		SDL_Rect ok = {space.x + space.w + gap, y, bw, kh};
		ui_button(k->ren, k->text, space, UI_KEY, _("Space"), u);
		kiosk_button(k, space, ACT_KEY, ' ');
		ui_button(k->ren, k->text, ok, ok_enabled ? UI_OK : UI_PANEL, _("OK"), u * 3 / 2);
		if (ok_enabled)
			kiosk_button(k, ok, ACT_OK, 0);
	}
}

int screen_keyboard_height(const kiosk *k, int with_space)
{
	int u = ui_unit(k->w, k->h), gap = u / 4, nrows = with_space ? 4 : 3;
	int avail_w = k->w - 2 * screen_margin(k);
	int kw = (avail_w - 9 * gap) / 10, kh = kw * 3 / 2;
	int cap = (k->h * 45 / 100 - (nrows - 1) * gap) / nrows; /* at most ~45% of the screen */
	if (kh > cap)
		kh = cap;
	if (kh < UI_MIN_TARGET)
		kh = UI_MIN_TARGET;
	return nrows * kh + (nrows - 1) * gap;
}

void screen_member_row(kiosk *k, SDL_Rect r, const roster_entry *e, int row)
{
	int u = ui_unit(k->w, k->h);
	char masked[32];
	ui_fill(k->ren, r, UI_PANEL);
	roster_mask_phone(e->phone, masked, sizeof masked);
	int px = r.h * 11 / 20;
	ui_text_draw(k->text, e->name, px, ui_rgb(UI_TEXT), r.x + u / 2, r.y + (r.h - px * 4 / 3) / 2,
		     UI_ALIGN_LEFT, r.w * 6 / 10 - u);
	ui_text_draw(k->text, masked, px * 4 / 5, ui_rgb(UI_MUTED), r.x + r.w - u / 2,
		     r.y + (r.h - px * 16 / 15) / 2, UI_ALIGN_RIGHT, r.w * 4 / 10 - u);
	kiosk_button(k, r, ACT_PICK, row);
}
