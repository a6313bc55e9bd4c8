/*
 * keypad — the last digits of a phone; pick — the list shown when several
 * members share them, with masked phones (138****5678) and nothing else.
 */
#include "app/screens/common.h"

#include <stdio.h>
#include <string.h>

void screen_keypad_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Last 4 digits of your phone"));
	SDL_Rect rest = screen_input_line(k, body, k->input, "· · · ·");
	if (k->nmatches > KIOSK_MAX_RESULTS) {
		char msg[128];
		snprintf(msg, sizeof msg, _("%zu members match — type more digits"), k->nmatches);
		ui_text_draw(k->text, msg, u, ui_rgb(UI_WARN), k->w / 2, rest.y, UI_ALIGN_CENTER, rest.w);
		rest.y += u * 3 / 2;
		rest.h -= u * 3 / 2;
	}
	screen_keypad(k, rest, strlen(k->input) >= 4);
}

void screen_pick_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h);
	SDL_Rect body = screen_header(k, _("Which one is you?"));
	int n = (int)k->nresults;
	int rh = ui_target(u * 5 / 2), gap = u / 3;
	int fit = (body.h + gap) / (rh + gap);
	if (n > fit)
		n = fit;
	for (int i = 0; i < n; i++)
		screen_member_row(k, (SDL_Rect){body.x, body.y + i * (rh + gap), body.w, rh}, k->results[i],
				  i);
}
