/*
 * register — a walk-in becomes a provisional member in two steps: a mobile
 * number on the keypad, then a name in Latin letters or pinyin on the
 * keyboard. The member is saved and checked in by kiosk_checkin().
 */
#include "app/screens/common.h"
#include "sync/check.h"

#include <string.h>

/* A walk-in's phone: a phone as every part of tingzi takes it (sync/check.h). */
int screen_register_phone_ok(const char *digits)
{
	return check_phone(digits);
}

void screen_register_draw(kiosk *k)
{
	if (k->screen == SCREEN_REG_PHONE) {
		SDL_Rect body = screen_header(k, _("New member: your mobile number"));
		SDL_Rect rest = screen_input_line(k, body, k->input, "138 0000 0000");
		screen_keypad(k, rest, screen_register_phone_ok(k->input));
		return;
	}
	SDL_Rect body = screen_header(k, _("New member: your name (letters or pinyin)"));
	SDL_Rect rest = screen_input_line(k, body, k->input, "Zhang San");
	int kb = screen_keyboard_height(k, 1);
	int has_letter = strspn(k->input, " ") < strlen(k->input);
	screen_keyboard(k, (SDL_Rect){rest.x, rest.y + rest.h - kb, rest.w, kb}, 1, has_letter);
}
