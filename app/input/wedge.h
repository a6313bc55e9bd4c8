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
 * Every burst and every run of typing is delivered whole: nothing of a scan is
 * ever typed and no typed key is ever part of a scan. Each burst ends in exactly
 * one outcome (scan or reject), reported when the burst ends: at its Enter, at
 * the next key after a pause, or after more than hold_ms of silence (a scanner
 * set to send no suffix). wedge.c describes the rules in full.
 *
 * Pure logic on timestamps: feed it keys and times, call wedge_tick() when the
 * deadline from wedge_deadline() passes, and read what comes out through the
 * callbacks. No SDL, no allocation, no clock of its own.
 */
#ifndef TINGZI_WEDGE_H
#define TINGZI_WEDGE_H

#include <stddef.h>
#include <stdint.h>

#define WEDGE_MAX_LEN 256

/* The defaults; see wedge.c for why. */
#define WEDGE_DEFAULT_MAX_GAP_MS 30
#define WEDGE_DEFAULT_MIN_LEN    4
#define WEDGE_DEFAULT_HOLD_MS    100
#define WEDGE_DEFAULT_MAX_LEN    128

typedef enum wedge_reject {
	WEDGE_REJECT_TOO_LONG = 1, /* more than max_len characters */
	WEDGE_REJECT_GARBLED,      /* control characters or invalid text in the burst */
} wedge_reject;

/*
 * Where the outcomes go. Any callback may be NULL (that outcome is dropped).
 * Text pointers are valid only during the call. A callback must not call back
 * into the same wedge.
 */
typedef struct wedge_sink {
	/* A person typed this text (UTF-8, one or more characters, never a
	 * control character or an invalid byte). */
	void (*typed)(void *ctx, const char *text);
	/* A person pressed Enter. */
	void (*enter)(void *ctx);
	/* A scanner delivered a complete code (printable ASCII/UTF-8, no newline). */
	void (*scan)(void *ctx, const char *code);
	/* A burst arrived but was refused; len is its length in characters. */
	void (*reject)(void *ctx, wedge_reject why, size_t len);
	void *ctx;
} wedge_sink;

/* A field left 0 takes its default. */
typedef struct wedge_config {
	uint32_t max_gap_ms; /* keys at most this far apart belong to one burst (default 30) */
	uint32_t min_len;    /* a burst needs at least this many characters, at least 2 (default 4) */
	uint32_t hold_ms;    /* how long a key may be held back; also the silence that ends a
			      * burst without Enter (default 100) */
	uint32_t max_len;    /* longest code accepted (default 128, at most WEDGE_MAX_LEN) */
} wedge_config;

/* What the held run is; see wedge.c. */
typedef enum wedge_state {
	WEDGE_IDLE,   /* nothing held */
	WEDGE_OPEN,   /* a fast run, too short yet to call: held */
	WEDGE_BURST,  /* a recognised burst: held until it ends */
	WEDGE_TYPING, /* a fast run released as typing: its further keys pass straight on */
} wedge_state;

/* Fixed size: embed it; there is nothing to free. */
typedef struct wedge {
	wedge_config cfg;
	wedge_sink sink;
	char buf[WEDGE_MAX_LEN * 4 + 8]; /* held-back UTF-8 text */
	size_t len;                      /* bytes in buf */
	size_t chars;                    /* characters in the run, counted past max_len too */
	uint64_t first_ms, last_ms;      /* times of the run's first and latest key */
	wedge_state state;
	int overflow; /* run exceeded max_len: swallow until it ends */
	int garbled;  /* run held a control character or invalid bytes */
} wedge;

/* cfg may be NULL for the defaults; sink is copied. */
void wedge_init(wedge *w, const wedge_config *cfg, const wedge_sink *sink);
/* A text key (one UTF-8 character, as from SDL_TEXTINPUT) at time t_ms. Text of
 * more than one character is an input method's commit: a person's, typed at
 * once after whatever is held. */
void wedge_text(wedge *w, const char *utf8, uint64_t t_ms);
/* Enter (Return or keypad Enter) at time t_ms. */
void wedge_enter(wedge *w, uint64_t t_ms);
/* Any other key that a scanner never sends (Backspace, arrows, Escape): ends
 * the held run first, so that the key acts on what came before it. A run not
 * yet recognised as a burst is released as typing; a recognised burst ends and
 * is reported. */
void wedge_other(wedge *w, uint64_t t_ms);
/* Release whatever is due at t_ms. */
void wedge_tick(wedge *w, uint64_t t_ms);
/* The time at which wedge_tick() must next be called, or 0 when nothing is held. */
uint64_t wedge_deadline(const wedge *w);

#endif
