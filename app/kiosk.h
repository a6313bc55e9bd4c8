/*
 * kiosk — the fullscreen check-in program: window, main loop, screens, timers.
 */
#ifndef TINGZI_KIOSK_H
#define TINGZI_KIOSK_H

#include "app/session.h"

#include <stdint.h>

typedef struct kiosk_config {
	const char *db_path;
	int windowed;          /* 0: fullscreen desktop */
	int width, height;     /* window size when windowed (or for the dummy driver) */
	const char *lang;      /* "zh-Hans", "zh-Hant", "en"; NULL: the saved setting */
	int result_timeout_ms; /* result screens go home after this (default 8000) */
	int input_timeout_ms;  /* input screens go home after this idle (default 30000) */
	int show_qr;           /* display-only: the join QR codes and nothing else */
	int64_t show_qr_link;  /* with show_qr: only this link (0: every current one) */
} kiosk_config;

/* Run until the window is closed. Returns a process exit status. */
int kiosk_run(const kiosk_config *cfg);

/* Draw the current screen into k->ren (does not present). */
void kiosk_draw(kiosk *k);
/* Handle a tap at window coordinates. */
void kiosk_tap(kiosk *k, int x, int y);
/* The screens' drawing and action functions. */
/*
 * The loop in pieces, for kiosk_run() and for tests and benchmarks that drive
 * a real kiosk under the dummy video driver. kiosk_open() opens the database,
 * the window and the fonts and starts loading the roster; on failure it
 * prints why to stderr, cleans up and returns -1. Call kiosk_close() after a
 * successful open.
 */
int kiosk_open(kiosk *k, const kiosk_config *cfg);
void kiosk_close(kiosk *k);
/* Draw and present when something changed. Returns 1 if a frame was presented. */
int kiosk_frame(kiosk *k);
/* Handle one SDL event. */
void kiosk_event(kiosk *k, const SDL_Event *ev);
/* Time-driven work (scanner hold-back, screen timeouts, the clock). */
void kiosk_tick(kiosk *k);
/* Milliseconds until kiosk_tick() has work, or -1 for none. */
int kiosk_next_timeout(kiosk *k);



#endif
