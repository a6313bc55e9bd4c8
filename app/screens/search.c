/*
 * search — find a name on an on-screen keyboard: Latin letters match Chinese
 * names by pinyin and by initials (the roster does the matching); the list
 * under the query shows names and masked phones only.
 */
#include "app/screens/common.h"

#include <stdio.h>

void screen_search_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Find my name"));
	SDL_Rect rest =
	    screen_input_line(k, body, k->input, _("Type your name in pinyin, e.g. zhangsan or zs"));
	int kb = screen_keyboard_height(k, 0);
	SDL_Rect list = {rest.x, rest.y, rest.w, rest.h - kb - u / 2};
	SDL_Rect keys = {rest.x, rest.y + rest.h - kb, rest.w, kb};
	int rh = ui_target(u * 2), gap = u / 4;
	int fit = (list.h + gap) / (rh + gap);
	int n = (int)k->nresults < fit ? (int)k->nresults : fit;
	for (int i = 0; i < n; i++)
		screen_member_row(k, (SDL_Rect){list.x, list.y + i * (rh + gap), list.w, rh}, k->results[i],
				  i);
	if (k->input[0] && k->nresults == 0 && list.h >= rh) {
		ui_text_draw(k->text, _("No one found. New here?"), u, ui_rgb(UI_MUTED), list.x + list.w / 2,
			     list.y, UI_ALIGN_CENTER, list.w);
		if (list.h >= rh + u * 3 / 2) {
			SDL_Rect reg = {list.x + list.w / 4, list.y + u * 3 / 2, list.w / 2, rh};
			ui_button(k->ren, k->text, reg, UI_KEY, _("Register as a new member"), u);
			kiosk_button(k, reg, ACT_REGISTER, 0);
		}
	}
	screen_keyboard(k, keys, 0, 0);
}
