/*
 * fuzz_wedge — scanner bursts and typing (app/input/wedge.c) from any key
 * sequence at any timing.
 *
 * The first four bytes pick the configuration (gap, minimum length, hold,
 * maximum length, 0 for a default); then each step is an operation byte and a
 * time step: a text key (its bytes follow: one to four, valid UTF-8 or not),
 * Enter, another key, or a tick at the deadline. What the wedge delivers is
 * checked against its promises: typed text is valid UTF-8 with no control
 * character, a scan is printable text of min_len to max_len characters, and
 * every burst ends in exactly one outcome.
 */
#include "app/input/wedge.h"
#include "sync/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
	wedge_config cfg;
	size_t typed, scans, rejects;
} seen;

static void on_typed(void *ctx, const char *text)
{
	size_t n = strlen(text);
	if (n == 0 || !utf8_valid(text, n))
		abort();
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	((seen *)ctx)->typed++;
}

static void on_enter(void *ctx)
{
}

static void on_scan(void *ctx, const char *code)
{
	seen *s = ctx;
	size_t n = strlen(code);
	if (!utf8_valid(code, n))
		abort();
	for (const unsigned char *p = (const unsigned char *)code; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	size_t chars = utf8_count(code);
	if (chars < s->cfg.min_len || chars > s->cfg.max_len)
		abort();
	s->scans++;
}

static void on_reject(void *ctx, wedge_reject why, size_t len)
{
	if (why != WEDGE_REJECT_TOO_LONG && why != WEDGE_REJECT_GARBLED)
		abort();
	((seen *)ctx)->rejects++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	seen s = {0};
	s.cfg.max_gap_ms = data[0] % 64;
	s.cfg.min_len = data[1] % 16;
	s.cfg.hold_ms = data[2] % 200;
	s.cfg.max_len = data[3] % 2 ? 0 : (uint32_t)data[3] + 1;
	data += 4;
	size -= 4;
	wedge_sink sink = {on_typed, on_enter, on_scan, on_reject, &s};
	wedge w;
	wedge_init(&w, &s.cfg, &sink);
	s.cfg = w.cfg; /* as the wedge settled it (defaults, bounds) */
	uint64_t t = 1000;
	size_t i = 0;
	while (i + 1 < size) {
		uint8_t op = data[i], dt = data[i + 1];
		i += 2;
		t += op & 0x40 ? (uint64_t)dt * 4 : dt % 16; /* scanner pace or human pace */
		switch (op & 0x03) {
		case 0: {
			char key[5] = {0};
			size_t n = 1 + (size_t)((op >> 2) & 0x03);
			if (i + n > size)
				n = size - i;
			memcpy(key, data + i, n);
			i += n;
			wedge_text(&w, key, t);
			break;
		}
		case 1:
			wedge_enter(&w, t);
			break;
		case 2:
			wedge_other(&w, t);
			break;
		default: {
			uint64_t due = wedge_deadline(&w);
			if (due > t)
				t = due; /* a late tick changes nothing: entry points apply what was due */
			wedge_tick(&w, t);
			break;
		}
		}
	}
	uint64_t due = wedge_deadline(&w);
	if (due)
		wedge_tick(&w, due);
	if (wedge_deadline(&w) != 0)
		abort(); /* something held back after its deadline */
	return 0;
}
