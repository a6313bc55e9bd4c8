/*
 * qr_out — QR codes the console draws: an inline SVG for a page, a PNG file
 * for printing. Both encode text as one 8-bit-mode symbol at error
 * correction level M (the kiosk's screens use the same mode), and both keep
 * the quiet zone of 4 modules a scanner needs around the symbol.
 */
#ifndef TINGZI_HUB_QR_OUT_H
#define TINGZI_HUB_QR_OUT_H

#include "sync/hub/console/html.h"

#include <stddef.h>

#define QR_OUT_QUIET	 4    /* modules of white around the symbol */
#define QR_OUT_TEXT_MAX	 1024 /* bytes of text encoded (a live-code address, an enrolment code) */
#define QR_OUT_PX_MAX	 64   /* pixels of a module in a PNG */
#define QR_OUT_QUIET_MAX 16

/* Modules across the symbol for text (without the quiet zone), or -1 when it cannot be encoded. */
int qr_width(const char *text);

/*
 * Append <svg class="qr"> drawing text's symbol as one <path>, each module
 * module_px user units across, the quiet zone included in its viewBox (the
 * page's stylesheet may scale it; its background must be white). 0, or -1
 * when text is empty, too long or cannot be encoded (nothing is appended).
 */
int qr_svg(html *h, const char *text, int module_px);

/*
 * The same symbol as the path data alone ("M4 4h7v1h-7z..."), in module
 * units, with its origin at the symbol's top left corner (no quiet zone):
 * for a drawing that places it itself (the poster's SVG). *modules gets
 * the symbol's width. 0, or -1 (nothing appended).
 */
int qr_path(html *h, const char *text, int *modules);

/*
 * A PNG (1-bit greyscale) of text's symbol: module_px pixels a module (1 to
 * QR_OUT_PX_MAX), quiet modules of white around it (0 to QR_OUT_QUIET_MAX;
 * scanners need 4). *out is malloc'd, *len its size. 0, or -1.
 */
int qr_png(const char *text, int module_px, int quiet, unsigned char **out, size_t *len);

/*
 * The same two for text made only of QR alphanumeric characters (0-9 A-Z
 * space $ % * + - . / :), a member pass: one alphanumeric-mode segment, 5.5
 * bits a character where bytes take 8, so a pass of 120 characters fits a
 * smaller symbol. -1 as well when text has another character.
 */
int qr_svg_an(html *h, const char *text, int module_px);
int qr_png_an(const char *text, int module_px, int quiet, unsigned char **out, size_t *len);

#endif
