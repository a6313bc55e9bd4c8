/*
 * qr_out — see qr_out.h.
 *
 * The SVG is one <path> of horizontal runs (a run of dark modules in a row
 * is one rectangle), so a version 4 symbol is a few hundred bytes of path
 * rather than hundreds of <rect>s. The PNG is written here with zlib: one
 * 1-bit greyscale image, no filters, which is all a QR code needs.
 */
#include "sync/hub/console/qr_out.h"

#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static QRcode *encode_as(const char *text, int an)
{
	if (!text || !text[0] || strnlen(text, QR_OUT_TEXT_MAX + 1) > QR_OUT_TEXT_MAX)
		return NULL;
	if (!an) /* the whole text as bytes: a URL's case and punctuation are kept as typed */
		return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	/* one alphanumeric segment: 5.5 bits a character, where bytes take 8 */
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_M);
	QRcode *q = NULL;
	if (in && QRinput_append(in, QR_MODE_AN, (int)strlen(text), (const unsigned char *)text) == 0)
		q = QRcode_encodeInput(in);
	QRinput_free(in);
	return q;
}

static QRcode *encode(const char *text)
{
	return encode_as(text, 0);
}

static int dark(const QRcode *q, int x, int y)
{
	return q->data[y * q->width + x] & 1;
}

int qr_width(const char *text)
{
	QRcode *q = encode(text);
	if (!q)
		return -1;
	int w = q->width;
	QRcode_free(q);
	return w;
}

/* The path of q's dark modules, shifted by off modules. */
static void path_of(html *h, const QRcode *q, int off)
{
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width;) {
			if (!dark(q, x, y)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < q->width && dark(q, x + run, y))
				run++;
			html_f(h, "M%d %dh%dv1h-%dz", x + off, y + off, run, run);
			x += run;
		}
	}
}

int qr_path(html *h, const char *text, int *modules)
{
	QRcode *q = encode(text);
	if (!q)
		return -1;
	path_of(h, q, 0);
	if (modules)
		*modules = q->width;
	QRcode_free(q);
	return 0;
}

static int svg_of(html *h, const char *text, int module_px, int an)
{
	if (module_px < 1 || module_px > QR_OUT_PX_MAX)
		return -1;
	QRcode *q = encode_as(text, an);
	if (!q)
		return -1;
	int side = q->width + 2 * QR_OUT_QUIET;
	/* the text itself is the image's name for a screen reader */
	html_f(h,
	       "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	       "height=\"%d\" role=\"img\" aria-label=\"%s\" shape-rendering=\"crispEdges\"><path fill=\"#000\" d=\"",
	       side, side, side * module_px, side * module_px, text);
	path_of(h, q, QR_OUT_QUIET);
	html_f(h, "\"/></svg>");
	QRcode_free(q);
	return 0;
}

/* ---- PNG ---- */

typedef struct buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
} buf;

static void put(buf *b, const void *data, size_t n)
{
	if (b->oom || !n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put32(buf *b, uint32_t v)
{
	unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v};
	put(b, be, 4);
}

/* A chunk: length, type, data, and the CRC of type and data. */
static void chunk(buf *b, const char type[4], const unsigned char *data, size_t n)
{
	put32(b, (uint32_t)n);
	put(b, type, 4);
	put(b, data, n);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, (const Bytef *)type, 4);
	if (n)
		crc = crc32(crc, data, (uInt)n);
	put32(b, (uint32_t)crc);
}

static int png_of(const char *text, int module_px, int quiet, int an, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (module_px < 1 || module_px > QR_OUT_PX_MAX || quiet < 0 || quiet > QR_OUT_QUIET_MAX)
		return -1;
	QRcode *q = encode_as(text, an);
	if (!q)
		return -1;
	size_t side = (size_t)(q->width + 2 * quiet) * (size_t)module_px;
	size_t stride = 1 + (side + 7) / 8; /* the filter byte (0: none), then 8 pixels a byte */
	size_t rawlen = stride * side;
	unsigned char *raw = malloc(rawlen);
	uLongf zlen = compressBound((uLong)rawlen);
	unsigned char *z = malloc(zlen);
	int rc = -1;
	if (!raw || !z)
		goto done;
	/* 1 is white in greyscale: start all white, then clear the dark modules' bits */
	for (size_t y = 0; y < side; y++) {
		unsigned char *row = raw + y * stride;
		row[0] = 0;
		memset(row + 1, 0xff, stride - 1);
		int my = (int)(y / (size_t)module_px) - quiet;
		if (my < 0 || my >= q->width)
			continue;
		for (size_t x = 0; x < side; x++) {
			int mx = (int)(x / (size_t)module_px) - quiet;
			if (mx >= 0 && mx < q->width && dark(q, mx, my))
				row[1 + x / 8] &= (unsigned char)~(0x80u >> (x % 8));
		}
	}
	/* the pad bits at the end of a row are left white: they are not pixels */
	if (compress2(z, &zlen, raw, (uLong)rawlen, Z_BEST_COMPRESSION) != Z_OK)
		goto done;
	buf b = {0};
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	put(&b, sig, sizeof sig);
	unsigned char ihdr[13];
	uint32_t s = (uint32_t)side;
	ihdr[0] = (unsigned char)(s >> 24);
	ihdr[1] = (unsigned char)(s >> 16);
	ihdr[2] = (unsigned char)(s >> 8);
	ihdr[3] = (unsigned char)s;
	memcpy(ihdr + 4, ihdr, 4);
	ihdr[8] = 1;  /* bit depth */
	ihdr[9] = 0;  /* greyscale */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering (every row says none) */
	ihdr[12] = 0; /* not interlaced */
	chunk(&b, "IHDR", ihdr, sizeof ihdr);
	chunk(&b, "IDAT", z, zlen);
	chunk(&b, "IEND", NULL, 0);
	if (b.oom) {
		free(b.p);
		goto done;
	}
	*out = b.p;
	*len = b.len;
	rc = 0;
done:
	free(raw);
	free(z);
	QRcode_free(q);
	return rc;
}

int qr_svg(html *h, const char *text, int module_px)
{
	return svg_of(h, text, module_px, 0);
}

int qr_svg_an(html *h, const char *text, int module_px)
{
	return svg_of(h, text, module_px, 1);
}

int qr_png(const char *text, int module_px, int quiet, unsigned char **out, size_t *len)
{
	return png_of(text, module_px, quiet, 0, out, len);
}

int qr_png_an(const char *text, int module_px, int quiet, unsigned char **out, size_t *len)
{
	return png_of(text, module_px, quiet, 1, out, len);
}
