/*
 * screen — what the kiosk's screens share: each draws the state
 * (app/session.h) and registers its buttons while drawing (so a tap hits
 * exactly what was drawn), and asks the session to act on a tap. Screens
 * decide what is shown; ui/ decides how.
 */
#ifndef TINGZI_SCREEN_H
#define TINGZI_SCREEN_H

#include "app/session.h"

/* Draw the screen shown (draw.c): the function of k->screen. */
void screen_draw(kiosk *k);
void screen_home_draw(kiosk *k);
void screen_identify_draw(kiosk *k);
void screen_keypad_draw(kiosk *k);
void screen_search_draw(kiosk *k);
void screen_pick_draw(kiosk *k);
void screen_result_draw(kiosk *k);
void screen_register_draw(kiosk *k);
void screen_join_draw(kiosk *k);
void screen_staff_draw(kiosk *k);
/* Staff mode (staff.c): the PIN's OK, and a tap on a staff screen. */
void screen_staff_ok(kiosk *k);
void screen_staff_action(kiosk *k, action act, int arg);
void screen_action(kiosk *k, action act, int arg);
/* Typed text and Enter from a person (physical keyboard), per screen. */
void screen_typed(kiosk *k, const char *text);
void screen_enter(kiosk *k);
/*
 * Draw text's QR code in area with caption lines under or beside it; logs
 * "qr.shown" the first time link_id is shown. Returns 0, or -1 when the
 * code did not fit (a message is drawn instead).
 */
int screen_qr_panel(kiosk *k, SDL_Rect area, const char *url, const char *caption, const char *sub,
		    int64_t link_id, const char *kind);

#endif
