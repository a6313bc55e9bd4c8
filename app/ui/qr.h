/*
 * qr — QR codes that a phone camera reads from across a counter.
 *
 * A code is encoded with libqrencode and drawn black on white with a whole
 * number of pixels per module (so no module is blurred or a pixel wider than
 * its neighbour) inside a quiet zone of at least four modules, as large as
 * the space allows. Error correction is M, or Q when the space has room for
 * it: when Q's larger symbol still gets modules of QR_ROOM_PX or more, or as
 * many pixels as M's would. Below QR_MIN_PX per module a code is not drawn
 * at all: a phone would not read it from a step away.
 */
#ifndef TINGZI_UI_QR_H
#define TINGZI_UI_QR_H

#include <SDL.h>

#define QR_MIN_PX   6 /* smallest module drawn, in pixels */
#define QR_ROOM_PX  8 /* module size at which Q's extra redundancy is worth its size */
#define QR_QUIET    4 /* quiet zone, in modules (the standard's minimum) */
#define QR_TEXT_MAX 1024

typedef struct qr_plan {
	char level;  /* 'M' or 'Q' */
	int version; /* 1..40 */
	int modules; /* symbol width in modules (17 + 4 * version) */
	int px;      /* pixels per module */
	int quiet;   /* quiet zone each side, in modules (>= QR_QUIET) */
	int side;    /* the whole white square, in pixels: (modules + 2 * quiet) * px */
} qr_plan;

typedef struct qr_code qr_code;

/*
 * Encode text (at most QR_TEXT_MAX bytes) for a square of side avail pixels.
 * Returns NULL when the text is empty or too long, or when the code would
 * need modules under QR_MIN_PX; *plan (when not NULL) is filled even then
 * with what the code would have needed (px below QR_MIN_PX, or 0 when the
 * text cannot be encoded at all).
 */
qr_code *qr_encode(const char *text, int avail, qr_plan *plan);
void qr_free(qr_code *q);
const qr_plan *qr_plan_of(const qr_code *q);
/* 1 when module (x, y) of the symbol is dark (0 <= x, y < modules). */
int qr_dark(const qr_code *q, int x, int y);
/* Draw q with its top-left corner at (x, y): the white square and the modules. */
int qr_draw(SDL_Renderer *r, const qr_code *q, int x, int y);

/*
 * A few encoded codes kept with their textures, so a screen that shows the
 * same code frame after frame encodes it once. Owned by one renderer.
 */
typedef struct qr_cache qr_cache;
qr_cache *qr_cache_new(SDL_Renderer *r);
void qr_cache_free(qr_cache *c);
/*
 * Draw text's code centred in area, as large as area allows. Returns 0 with
 * *drawn (when not NULL) the white square's place and *plan its geometry, or
 * -1 when the code does not fit (nothing is drawn; *plan says why).
 */
int qr_cache_draw(qr_cache *c, const char *text, SDL_Rect area, SDL_Rect *drawn, qr_plan *plan);

#endif
