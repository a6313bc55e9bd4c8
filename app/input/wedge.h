/*
 * wedge — tells a barcode/QR scanner or card reader that "types" like a
 * keyboard apart from a person typing, by keystroke timing alone.
 *
 * A wedge device sends a whole code in a burst (a few ms between keys) and
 * usually ends it with Enter; people type at 100 ms or more per key. Keys are
 * held back for at most hold_ms so that a burst can be recognised before its
 * first characters reach a text field; a run that turns out slow is released as
 * typing, in order. A burst that grows past max_len, or holds bytes a code never
 * has, is reported as rejected: it is never delivered as typing.
 *
 * Pure logic on timestamps: feed it keys and times, call wedge_tick() when the
 * deadline from wedge_deadline() passes, and read what comes out through the
 * callbacks. No SDL in here.
 */
#ifndef TINGZI_WEDGE_H
#define TINGZI_WEDGE_H

#include <stddef.h>
#include <stdint.h>

#define WEDGE_MAX_LEN 256

typedef enum wedge_reject {
	WEDGE_REJECT_TOO_LONG = 1, /* more than max_len characters */
	WEDGE_REJECT_GARBLED,      /* control characters or invalid text in the burst */
} wedge_reject;

typedef struct wedge_sink {
	/* A person typed this text (UTF-8, one or more characters). */
	void (*typed)(void *ctx, const char *text);
	/* A person pressed Enter. */
	void (*enter)(void *ctx);
	/* A scanner delivered a complete code (printable ASCII/UTF-8, no newline). */
	void (*scan)(void *ctx, const char *code);
	/* A burst arrived but was refused. */
	void (*reject)(void *ctx, wedge_reject why, size_t len);
	void *ctx;
} wedge_sink;

typedef struct wedge_config {
	uint32_t max_gap_ms;  /* keys closer than this belong to one burst (default 30) */
	uint32_t min_len;     /* a burst needs at least this many characters (default 4) */
	uint32_t hold_ms;     /* how long a key may be held back (default 60) */
	uint32_t max_len;     /* longest code accepted (default 128, at most WEDGE_MAX_LEN) */
} wedge_config;

typedef struct wedge {
	wedge_config cfg;
	wedge_sink sink;
	char buf[WEDGE_MAX_LEN * 4 + 8]; /* held-back UTF-8 text */
	size_t len;      /* bytes in buf */
	size_t chars;    /* characters in buf */
	uint64_t first_ms, last_ms;
	int fast;        /* every gap in the run so far was <= max_gap_ms */
	int overflow;    /* run exceeded max_len: swallow until it ends */
	int garbled;
} wedge;

/* cfg may be NULL for the defaults. */
void wedge_init(wedge *w, const wedge_config *cfg, const wedge_sink *sink);
/* A text key (one UTF-8 character, as from SDL_TEXTINPUT) at time t_ms. */
void wedge_text(wedge *w, const char *utf8, uint64_t t_ms);
/* Enter (Return or keypad Enter) at time t_ms. */
void wedge_enter(wedge *w, uint64_t t_ms);
/* Any other key that a scanner never sends (Backspace, arrows): flushes the
 * held-back run as typing. */
void wedge_other(wedge *w, uint64_t t_ms);
/* Release whatever is due at t_ms. */
void wedge_tick(wedge *w, uint64_t t_ms);
/* The time at which wedge_tick() must next be called, or 0 when nothing is held. */
uint64_t wedge_deadline(const wedge *w);

#endif
