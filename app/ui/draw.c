/*
 * draw — colours and the shapes of the kiosk. A warm dark background (a
 * teahouse in the evening), high-contrast text, and one colour per outcome so
 * a member can tell from across the room: green in, amber already, red staff.
 */
#include "app/ui/draw.h"

static const SDL_Color palette[UI_COLOR_COUNT] = {
    [UI_BG] = {0x1f, 0x24, 0x2b, 0xff},      [UI_PANEL] = {0x2c, 0x33, 0x3d, 0xff},
    [UI_TEXT] = {0xf5, 0xf1, 0xe8, 0xff},    [UI_MUTED] = {0xb8, 0xb2, 0xa7, 0xff},
    [UI_PRIMARY] = {0xc2, 0x4e, 0x2f, 0xff}, [UI_KEY] = {0x3a, 0x44, 0x52, 0xff},
    [UI_OK] = {0x2e, 0x7d, 0x4f, 0xff},      [UI_WARN] = {0xb0, 0x7a, 0x12, 0xff},
    [UI_ERROR] = {0xa8, 0x2c, 0x2c, 0xff},   [UI_DARK_TEXT] = {0x1f, 0x24, 0x2b, 0xff},
};

SDL_Color ui_rgb(ui_color c)
{
	return palette[c];
}

int ui_unit(int w, int h)
{
	int s = (w < h ? w : h) / 20;
	return s < 22 ? 22 : s;
}

void ui_fill(SDL_Renderer *r, SDL_Rect rc, ui_color c)
{
	SDL_Color col = palette[c];
	SDL_SetRenderDrawColor(r, col.r, col.g, col.b, col.a);
	SDL_RenderFillRect(r, &rc);
}

void ui_button(SDL_Renderer *r, ui_text *t, SDL_Rect rc, ui_color bg, const char *label, int px)
{
	ui_fill(r, rc, bg);
	int pad = rc.h / 8;
	int size = ui_text_fit(t, label, px, rc.w - 2 * pad);
	int tw, th;
	if (ui_text_size(t, label, size, &tw, &th) != 0)
		return;
	while (th > rc.h - pad && size > 8) {
		size = size * 9 / 10;
		ui_text_size(t, label, size, &tw, &th);
	}
	ui_text_draw(t, label, size, palette[UI_TEXT], rc.x + rc.w / 2, rc.y + (rc.h - th) / 2,
		     UI_ALIGN_CENTER, 0);
}

SDL_Rect ui_grid(SDL_Rect area, int rows, int cols, int gap, int i)
{
	int cw = (area.w - gap * (cols - 1)) / cols, ch = (area.h - gap * (rows - 1)) / rows;
	int row = i / cols, col = i % cols;
	return (SDL_Rect){area.x + col * (cw + gap), area.y + row * (ch + gap), cw, ch};
}
