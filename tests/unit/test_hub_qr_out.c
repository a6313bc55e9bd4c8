/*
 * qr_out: the console's QR codes. The PNG is read back as a PNG (its chunks,
 * CRCs and pixels) and by zbarimg, which must give exactly the text encoded;
 * the SVG's path, drawn onto a grid, must be the same symbol as the PNG's
 * pixels, module for module.
 */
#include "sync/hub/console/qr_out.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static const char *const texts[] = {
    "https://hub.example.org/j/3fa9c0d2",
    "http://127.0.0.1:8420/j/tea-club_2026",
    "https://example.org/加入?群=听雨茶馆&ref=A1\"<b>",
    "ABCD-EFGH-JKLM",
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A decoded PNG as this writer makes it: 1-bit greyscale, one pixel a byte here (1 white). */
typedef struct image {
	uint32_t w, h;
	unsigned char *px;
} image;

static image read_png(const unsigned char *png, size_t len)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	assert_true(len > 8 + 25 + 12 + 12);
	assert_memory_equal(png, sig, 8);
	image im = {0};
	unsigned char *z = NULL;
	size_t zlen = 0, off = 8;
	int seen_end = 0;
	while (off + 12 <= len) {
		uint32_t n = be32(png + off);
		assert_true(off + 12 + n <= len);
		const unsigned char *type = png + off + 4, *data = png + off + 8;
		uLong crc = crc32(crc32(0L, Z_NULL, 0), type, 4 + n);
		assert_int_equal(crc, be32(data + n));
		if (!memcmp(type, "IHDR", 4)) {
			assert_int_equal(n, 13);
			im.w = be32(data);
			im.h = be32(data + 4);
			assert_int_equal(data[8], 1);  /* bit depth */
			assert_int_equal(data[9], 0);  /* greyscale */
			assert_int_equal(data[12], 0); /* not interlaced */
		} else if (!memcmp(type, "IDAT", 4)) {
			z = realloc(z, zlen + n);
			memcpy(z + zlen, data, n);
			zlen += n;
		} else if (!memcmp(type, "IEND", 4)) {
			seen_end = 1;
		}
		off += 12 + n;
	}
	assert_int_equal(off, len);
	assert_true(seen_end);
	assert_true(im.w > 0 && im.w == im.h);
	size_t stride = 1 + (im.w + 7) / 8;
	uLongf rawlen = stride * im.h;
	unsigned char *raw = malloc(rawlen);
	assert_int_equal(uncompress(raw, &rawlen, z, zlen), Z_OK);
	assert_int_equal(rawlen, stride * im.h);
	im.px = malloc((size_t)im.w * im.h);
	for (uint32_t y = 0; y < im.h; y++) {
		assert_int_equal(raw[y * stride], 0); /* filter: none */
		for (uint32_t x = 0; x < im.w; x++)
			im.px[y * im.w + x] = (raw[y * stride + 1 + x / 8] >> (7 - x % 8)) & 1;
	}
	free(raw);
	free(z);
	return im;
}

/* What zbarimg reads in a PNG file as a QR code, raw bytes; fails the test when it reads nothing. */
static char *zbar(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw -Sdisable -Sqrcode.enable -Sbinary '%s' 2>/dev/null",
		 path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	static char out[4096];
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	int rc = pclose(f);
	if (rc != 0)
		fail_msg("zbarimg could not read %s (status %d; is zbar-tools installed?)", path, rc);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

static void test_png_is_the_symbol(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int w = qr_width(texts[i]);
		assert_true(w >= 21 && (w - 17) % 4 == 0);
		unsigned char *png;
		size_t len;
		assert_int_equal(qr_png(texts[i], 8, 4, &png, &len), 0);
		image im = read_png(png, len);
		assert_int_equal(im.w, (uint32_t)(w + 8) * 8);
		/* every module is an 8 x 8 block of one colour */
		for (uint32_t y = 0; y < im.h; y++)
			for (uint32_t x = 0; x < im.w; x++)
				assert_int_equal(im.px[y * im.w + x], im.px[(y / 8 * 8) * im.w + x / 8 * 8]);
		/* the quiet zone is white, 4 modules wide on every side */
		for (uint32_t y = 0; y < im.h; y++)
			for (uint32_t x = 0; x < im.w; x++)
				if (x < 32 || y < 32 || x >= im.w - 32 || y >= im.h - 32)
					assert_int_equal(im.px[y * im.w + x], 1);
		/* the top-left finder: a dark ring of 7, a white ring, a dark 3 x 3 centre */
		for (int my = 0; my < 7; my++)
			for (int mx = 0; mx < 7; mx++) {
				int ring = mx == 0 || my == 0 || mx == 6 || my == 6;
				int centre = mx >= 2 && mx <= 4 && my >= 2 && my <= 4;
				unsigned v = im.px[(uint32_t)(32 + my * 8) * im.w + (uint32_t)(32 + mx * 8)];
				assert_int_equal(v, ring || centre ? 0 : 1);
			}
		free(im.px);
		free(png);
	}
}

static void test_png_reads_back_as_the_text(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/tmp/tingzi-qr-out-%d.png", (int)getpid());
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		unsigned char *png;
		size_t len;
		/* the poster's size: 8 px a module, the quiet zone a scanner needs */
		assert_int_equal(qr_png(texts[i], 8, QR_OUT_QUIET, &png, &len), 0);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(png, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(png);
		assert_string_equal(zbar(path), texts[i]);
	}
	/* the smallest: 2 px a module still reads */
	unsigned char *png;
	size_t len;
	assert_int_equal(qr_png(texts[0], 2, QR_OUT_QUIET, &png, &len), 0);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(png, 1, len, f), len);
	fclose(f);
	free(png);
	assert_string_equal(zbar(path), texts[0]);
	unlink(path);
}

/* Draw an SVG path of the form the writer makes ("Mx yhNv1h-Nz"...) onto a side x side grid. */
static void draw_path(const char *d, unsigned char *grid, int side)
{
	int runs = 0;
	while (*d) {
		int x, y, n, n2, used = 0;
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used), 4);
		assert_true(used > 0);
		assert_int_equal(n, n2);
		assert_true(x >= 0 && y >= 0 && n > 0 && x + n <= side && y < side);
		for (int i = 0; i < n; i++) {
			assert_int_equal(grid[y * side + x + i], 0); /* no module drawn twice */
			grid[y * side + x + i] = 1;
		}
		d += used;
		runs++;
	}
	assert_true(runs > 0);
}

static void test_svg_matches_png(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int w = qr_width(texts[i]), side = w + 2 * QR_OUT_QUIET;
		html h;
		html_init(&h);
		assert_int_equal(qr_svg(&h, texts[i], 5), 0);
		size_t n;
		char *svg = html_take(&h, &n);
		assert_non_null(svg);
		assert_true(!strncmp(svg, "<svg class=\"qr\" ", 16));
		assert_true(n > 6 && !strcmp(svg + n - 6, "</svg>"));
		/* one path, nothing else drawn */
		char *p = strstr(svg, "<path");
		assert_non_null(p);
		assert_null(strstr(p + 1, "<path"));
		assert_null(strstr(svg, "<rect"));
		char want[96];
		snprintf(want, sizeof want, "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"", side, side, side * 5,
			 side * 5);
		assert_non_null(strstr(svg, want));
		/* the text as its label, escaped: no quote or angle bracket of it ends the attribute */
		assert_null(strstr(svg, "<b>"));
		if (strchr(texts[i], '"'))
			assert_non_null(strstr(svg, "&quot;&lt;b&gt;"));
		char *d = strstr(p, " d=\"");
		assert_non_null(d);
		d += 4;
		char *end = strchr(d, '"');
		assert_non_null(end);
		*end = '\0';
		unsigned char *grid = calloc((size_t)side * side, 1);
		draw_path(d, grid, side);

		unsigned char *png;
		size_t len;
		assert_int_equal(qr_png(texts[i], 1, QR_OUT_QUIET, &png, &len), 0);
		image im = read_png(png, len);
		assert_int_equal(im.w, (uint32_t)side);
		for (int k = 0; k < side * side; k++)
			assert_int_equal(grid[k], !im.px[k]);
		free(im.px);
		free(png);
		free(grid);
		free(svg);

		/* the path alone: the same modules, without the quiet zone */
		html_init(&h);
		int mods = 0;
		assert_int_equal(qr_path(&h, texts[i], &mods), 0);
		assert_int_equal(mods, w);
		char *bare = html_take(&h, NULL);
		assert_true(!strncmp(bare, "M0 0h7v1h-7z", 12)); /* the finder's top row */
		free(bare);
	}
}

static void test_refused(void **state)
{
	(void)state;
	html h;
	html_init(&h);
	char big[QR_OUT_TEXT_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(qr_svg(&h, "", 4), -1);
	assert_int_equal(qr_svg(&h, NULL, 4), -1);
	assert_int_equal(qr_svg(&h, big, 4), -1);
	assert_int_equal(qr_svg(&h, texts[0], 0), -1);
	assert_int_equal(qr_path(&h, "", NULL), -1);
	assert_int_equal(h.len, 0); /* nothing half-written */
	html_free(&h);
	assert_int_equal(qr_width(big), -1);
	big[QR_OUT_TEXT_MAX] = '\0'; /* exactly the limit: encodes */
	assert_true(qr_width(big) > 100);

	unsigned char *png = (unsigned char *)"x";
	size_t len = 9;
	assert_int_equal(qr_png(texts[0], 0, 4, &png, &len), -1);
	assert_null(png);
	assert_int_equal(len, 0);
	assert_int_equal(qr_png(texts[0], QR_OUT_PX_MAX + 1, 4, &png, &len), -1);
	assert_int_equal(qr_png(texts[0], 8, -1, &png, &len), -1);
	assert_int_equal(qr_png(texts[0], 8, QR_OUT_QUIET_MAX + 1, &png, &len), -1);
	assert_int_equal(qr_png("", 8, 4, &png, &len), -1);
	assert_null(png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_png_is_the_symbol),
	    cmocka_unit_test(test_png_reads_back_as_the_text),
	    cmocka_unit_test(test_svg_matches_png),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
