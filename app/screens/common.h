/* common — pieces shared by the kiosk's screens (see common.c). */
#ifndef TINGZI_SCREENS_COMMON_H
#define TINGZI_SCREENS_COMMON_H

#include "sync/check.h"
#include "app/screens/screen.h"

int screen_margin(const kiosk *k);
/* Draw the back button and title; returns the area below. */
SDL_Rect screen_header(kiosk *k, const char *title);
/* Draw the line being typed (or a placeholder) at the top of area; returns the rest. */
SDL_Rect screen_input_line(kiosk *k, SDL_Rect area, const char *text, const char *placeholder);
/* Digits 0-9, backspace and OK (tappable only when ok_enabled). */
void screen_keypad(kiosk *k, SDL_Rect area, int ok_enabled);
/* Letters a-z and backspace; with_space adds a space bar and OK. Drawn at the
 * bottom of area. */
void screen_keyboard(kiosk *k, SDL_Rect area, int with_space, int ok_enabled);
int screen_keyboard_height(const kiosk *k, int with_space);
/* One member in a list: name, masked phone; tapping it is ACT_PICK row. */
void screen_member_row(kiosk *k, SDL_Rect r, const roster_entry *e, int row);

#define REG_PHONE_DIGITS_MAX CHECK_PHONE_MAX /* the keypad takes no more */
/* A walk-in phone of acceptable length (register.c). */
int screen_register_phone_ok(const char *digits);

#endif
