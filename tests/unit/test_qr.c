/*
 * QR geometry, as a phone camera meets it: for URLs of 20 to 1024 bytes,
 * error correction M (Q when there is room), a whole number of pixels per
 * module and never under 6, a quiet zone of at least 4 modules, black on
 * white, as large as the space allows. The code is drawn by SDL's software
 * renderer into a surface; its pixels are compared module by module with the
 * symbol, and the image is read back with zbarimg, which must give exactly
 * the URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/ui/qr.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A URL of exactly n bytes. */
static void make_url(char *buf, size_t n)
{
	static const char tail[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	snprintf(buf, n + 1, "https://example.org/join?g=");
	for (size_t i = strlen(buf); i < n; i++)
		buf[i] = tail[(i * 7) % (sizeof tail - 1)];
	buf[n] = '\0';
}

static const size_t lengths[] = {20, 40, 64, 100, 160, 256, 400, 512, 700, 900, 1024};

static void test_plan_rules(void **state)
{
	(void)state;
	char url[QR_TEXT_MAX + 1];
	const int spaces[] = {300, 480, 600, 800, 1080, 1920};
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		make_url(url, lengths[i]);
		int prev_px = 0;
		for (size_t j = 0; j < sizeof spaces / sizeof spaces[0]; j++) {
			int avail = spaces[j];
			qr_plan p;
			qr_code *q = qr_encode(url, avail, &p);
			assert_true(p.level == 'M' || p.level == 'Q');
			assert_int_equal(p.modules, 17 + 4 * p.version);
			if (!q) {
				/* refused only when even M would need modules under 6 px */
				assert_true(p.px < 6);
				assert_true(avail / (p.modules + 2 * 4) < 6);
				continue;
			}
			assert_memory_equal(qr_plan_of(q), &p, sizeof p);
			assert_true(p.px >= 6); /* the standard's numbers, not the header's */
			assert_true(p.quiet >= 4);
			assert_int_equal(p.side, (p.modules + 2 * p.quiet) * p.px);
			assert_true(p.side <= avail);
			/* as large as the space allows: one more pixel per module would not fit */
			assert_true((p.modules + 2 * 4) * (p.px + 1) > avail);
			/* Q only with room: modules of 8 px or more, or as large as M's */
			qr_plan m; /* level M's symbol: what a space too small for anything plans */
			assert_null(qr_encode(url, 1, &m));
			assert_int_equal(m.level, 'M');
			if (p.level == 'Q')
				assert_true(p.px >= QR_ROOM_PX || p.px >= avail / (m.modules + 2 * QR_QUIET));
			/* more space never gives smaller modules */
			assert_true(p.px >= prev_px);
			prev_px = p.px;
			qr_free(q);
		}
	}
}

static void test_levels_chosen(void **state)
{
	(void)state;
	char url[QR_TEXT_MAX + 1];
	qr_plan p;
	/* a short link on a big screen: Q */
	make_url(url, 40);
	qr_code *q = qr_encode(url, 1000, &p);
	assert_non_null(q);
	assert_int_equal(p.level, 'Q');
	qr_free(q);
	/* a long link in a small space: M, the larger modules */
	make_url(url, 400);
	q = qr_encode(url, 560, &p);
	assert_non_null(q);
	assert_int_equal(p.level, 'M');
	assert_true(p.px >= QR_MIN_PX);
	qr_free(q);
	/* 1024 bytes fit on a 1080-pixel side */
	make_url(url, 1024);
	q = qr_encode(url, 1080, &p);
	assert_non_null(q);
	assert_true(p.px >= QR_MIN_PX);
	qr_free(q);
	/* and not in 480 pixels: refused, with what it would need */
	assert_null(qr_encode(url, 480, &p));
	assert_true(p.px < QR_MIN_PX);
	/* nothing to encode, or too much */
	assert_null(qr_encode("", 1000, &p));
	assert_int_equal(p.px, 0);
	char big[QR_TEXT_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_null(qr_encode(big, 4000, &p));
}

/* Draw text's code in a w x h surface through qr_cache_draw and check every
 * pixel; returns the surface. */
static SDL_Surface *draw_and_check(const char *text, int w, int h, qr_plan *pl)
{
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
	assert_non_null(s);
	SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
	assert_non_null(r);
	SDL_SetRenderDrawColor(r, 0x20, 0x24, 0x2c, 0xff); /* the kiosk's dark background */
	SDL_RenderClear(r);
	qr_cache *c = qr_cache_new(r);
	SDL_Rect area = {0, 0, w, h}, at;
	assert_int_equal(qr_cache_draw(c, text, area, &at, pl), 0);
	/* again from the cache: the same place */
	SDL_Rect again;
	assert_int_equal(qr_cache_draw(c, text, area, &again, NULL), 0);
	assert_memory_equal(&at, &again, sizeof at);
	SDL_RenderPresent(r);
	qr_code *q = qr_encode(text, w < h ? w : h, NULL);
	assert_non_null(q);
	const qr_plan *p = qr_plan_of(q);
	assert_int_equal(at.w, p->side);
	assert_int_equal(at.h, p->side);
	int n = p->modules + 2 * p->quiet;
	for (int y = 0; y < p->side; y++) {
		const Uint32 *row = (const Uint32 *)((const Uint8 *)s->pixels + (at.y + y) * s->pitch) + at.x;
		for (int x = 0; x < p->side; x++) {
			int mx = x / p->px - p->quiet, my = y / p->px - p->quiet;
			Uint32 want = qr_dark(q, mx, my) ? 0xff000000u : 0xffffffffu;
			if ((row[x] | 0xff000000u) != want)
				fail_msg("%zu bytes: pixel %d,%d of module %d,%d is %08x, not %08x",
					 strlen(text), x, y, mx, my, row[x], want);
		}
	}
	(void)n;
	qr_free(q);
	qr_cache_free(c);
	SDL_DestroyRenderer(r);
	return s;
}

static void test_pixels_are_modules(void **state)
{
	(void)state;
	char url[QR_TEXT_MAX + 1];
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		make_url(url, lengths[i]);
		qr_plan p;
		SDL_Surface *s = draw_and_check(url, 1100, 1100, &p);
		SDL_FreeSurface(s);
	}
}

/* zbarimg's reading of a BMP file as a QR code (only: its linear-barcode
 * readers may find a spurious barcode in the modules), raw bytes. */
static char *zbar(const char *bmp)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw -Sdisable -Sqrcode.enable -Sbinary '%s' 2>/dev/null",
		 bmp);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	static char out[4096];
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	int rc = pclose(f);
	if (rc != 0)
		fail_msg("zbarimg could not read %s (status %d)", bmp, rc);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

static void test_zbar_reads_exactly_the_url(void **state)
{
	(void)state;
	char url[QR_TEXT_MAX + 1], bmp[128];
	snprintf(bmp, sizeof bmp, "/tmp/tingzi-qr-%d.bmp", (int)getpid());
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		make_url(url, lengths[i]);
		qr_plan p;
		/* the smallest space that still takes the code (at level M, as a
		 * space too small for anything plans it): its modules are 6 px */
		assert_null(qr_encode(url, 1, &p));
		assert_int_equal(p.level, 'M');
		int side = (p.modules + 2 * QR_QUIET) * QR_MIN_PX;
		SDL_Surface *s = draw_and_check(url, side + 40, side, &p);
		assert_int_equal(p.px, QR_MIN_PX);
		assert_int_equal(SDL_SaveBMP(s, bmp), 0);
		SDL_FreeSurface(s);
		const char *got = zbar(bmp);
		if (strcmp(got, url) != 0)
			fail_msg("%zu bytes: zbarimg read %zu bytes: ...%s", strlen(url), strlen(got),
				 got + (strlen(got) > 40 ? strlen(got) - 40 : 0));
	}
	/* text beyond ASCII, as a Chinese group link may carry */
	const char *cn = "https://example.org/加入?群=听雨茶馆";
	SDL_Surface *s = draw_and_check(cn, 400, 400, NULL);
	assert_int_equal(SDL_SaveBMP(s, bmp), 0);
	SDL_FreeSurface(s);
	assert_string_equal(zbar(bmp), cn);
	unlink(bmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_rules),
	    cmocka_unit_test(test_levels_chosen),
	    cmocka_unit_test(test_pixels_are_modules),
	    cmocka_unit_test(test_zbar_reads_exactly_the_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
