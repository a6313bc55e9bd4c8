/*
 * draw — the kiosk's look: colours, sizes derived from the screen, and the few
 * shapes screens are made of (panels, buttons, labels). Everything scales from
 * one unit so 800x480 and 1080x1920 get the same layout in proportion.
 */
#ifndef TINGZI_UI_DRAW_H
#define TINGZI_UI_DRAW_H

#include "app/ui/text.h"

#include <SDL.h>

/* Smallest touch target, in pixels: 9 mm on a 7-inch 800x480 panel (133 dpi). */
#define UI_MIN_TARGET 48
/* px, or UI_MIN_TARGET when px is smaller: the height of something a finger taps. */
static inline int ui_target(int px)
{
	return px < UI_MIN_TARGET ? UI_MIN_TARGET : px;
}

typedef enum ui_color {
	UI_BG = 0,
	UI_PANEL,
	UI_TEXT,
	UI_MUTED,
	UI_PRIMARY, /* the check-in button */
	UI_KEY,     /* keypad and keyboard keys */
	UI_OK,      /* success: green */
	UI_WARN,    /* already checked in, expired: amber */
	UI_ERROR,   /* not recognised, not saved: red */
	UI_DARK_TEXT,
	UI_COLOR_COUNT
} ui_color;

SDL_Color ui_rgb(ui_color c);
/* The layout unit for a w x h screen: 1/20 of the shorter side, at least 22. */
int ui_unit(int w, int h);
void ui_fill(SDL_Renderer *r, SDL_Rect rc, ui_color c);
/* A button: a filled box with a centred label that shrinks to fit. */
void ui_button(SDL_Renderer *r, ui_text *t, SDL_Rect rc, ui_color bg, const char *label, int px);
/* Cell i of a rows x cols grid filling area with gap pixels between cells. */
SDL_Rect ui_grid(SDL_Rect area, int rows, int cols, int gap, int i);

#endif
