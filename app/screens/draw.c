/*
 * draw — which screen draws which state: one table, so a new screen is one
 * line here (and one in session.c's table of kinds).
 */
#include "app/screens/screen.h"

static void (*const draw_of[SCREEN_COUNT])(kiosk *k) = {
    [SCREEN_HOME] = screen_home_draw,
    [SCREEN_IDENTIFY] = screen_identify_draw,
    [SCREEN_KEYPAD] = screen_keypad_draw,
    [SCREEN_SEARCH] = screen_search_draw,
    [SCREEN_PICK] = screen_pick_draw,
    [SCREEN_WELCOME] = screen_result_draw,
    [SCREEN_ALREADY] = screen_result_draw,
    [SCREEN_UNKNOWN] = screen_result_draw,
    [SCREEN_ERROR] = screen_result_draw,
    [SCREEN_PASS] = screen_result_draw,
    [SCREEN_REG_PHONE] = screen_register_draw,
    [SCREEN_REG_NAME] = screen_register_draw,
    [SCREEN_JOIN] = screen_join_draw,
    [SCREEN_STAFF_PIN] = screen_staff_draw,
    [SCREEN_STAFF_MENU] = screen_staff_draw,
    [SCREEN_STAFF_LIST] = screen_staff_draw,
    [SCREEN_STAFF_EVENT] = screen_staff_draw,
    [SCREEN_STAFF_SETTINGS] = screen_staff_draw,
};

void screen_draw(kiosk *k)
{
	void (*draw)(kiosk *) = (unsigned)k->screen < SCREEN_COUNT ? draw_of[k->screen] : NULL;
	(draw ? draw : screen_result_draw)(k);
}
