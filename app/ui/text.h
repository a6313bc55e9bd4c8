/*
 * text — every string the kiosk draws goes through here.
 *
 * Fonts are found through fontconfig: Noto Sans CJK SC first for Simplified
 * Chinese and English, Noto Sans CJK TC first for Traditional. A string is
 * split into runs by which font has each glyph; a character that no font in
 * the chain has makes fontconfig look for one that does, which joins the chain
 * (so a rare character in a member's name is drawn, not shown as a box).
 * Rendered strings are cached as textures (least recently used out first), so
 * an unchanged screen costs one texture copy per string.
 */
#ifndef TINGZI_UI_TEXT_H
#define TINGZI_UI_TEXT_H

#include <SDL.h>
#include <stddef.h>

typedef struct ui_text ui_text;

typedef enum ui_script { UI_SCRIPT_HANS = 0, UI_SCRIPT_HANT = 1 } ui_script;

/*
 * Find and open the fonts for renderer r. Returns NULL with a sentence in err
 * when no usable font exists at all. When no CJK font is found it still
 * succeeds with the best font fontconfig has, and ui_text_cjk_missing() says so.
 * Call ui_text_free() before destroying the renderer.
 */
ui_text *ui_text_new(SDL_Renderer *r, char *err, size_t errlen);
void ui_text_free(ui_text *t);
int ui_text_cjk_missing(const ui_text *t);
/* The font file used first (for the log). */
const char *ui_text_primary_file(const ui_text *t);

/* Which CJK face goes first (glyph shapes differ between SC and TC). */
void ui_text_set_script(ui_text *t, ui_script s);

/* Size of utf8 drawn at px pixels. Returns 0, or -1 on failure. */
int ui_text_size(ui_text *t, const char *utf8, int px, int *w, int *h);

enum { UI_ALIGN_LEFT = 0, UI_ALIGN_CENTER = 1, UI_ALIGN_RIGHT = 2 };

/*
 * Draw utf8 at px pixels with its top edge at y; x is the left edge, the centre
 * or the right edge according to align. Text wider than max_w (when > 0) is
 * shrunk to fit, down to a third of px; beyond that it is shortened with an
 * ellipsis, so it never runs off. Returns the drawn width, or -1 on failure.
 */
int ui_text_draw(ui_text *t, const char *utf8, int px, SDL_Color c, int x, int y, int align, int max_w);

/*
 * Like ui_text_draw, but text that would shrink below two thirds of px to fit
 * max_w goes on two lines at two thirds of px instead, broken after a space or
 * punctuation near the end of the first. Returns the height used.
 */
int ui_text_draw_two(ui_text *t, const char *utf8, int px, SDL_Color c, int x, int y, int align, int max_w);

/* The pixel size at which utf8 fits in max_w, starting from px (never below px/3). */
int ui_text_fit(ui_text *t, const char *utf8, int px, int max_w);

/*
 * For layout tests: fn is called with the em box (the drawn width by the
 * font size, centred in the line) of every string ui_text_draw draws.
 * NULL stops it.
 */
typedef void (*ui_text_trace_fn)(void *ud, SDL_Rect em, const char *utf8);
void ui_text_trace(ui_text *t, ui_text_trace_fn fn, void *ud);

#endif
