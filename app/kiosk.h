/*
 * kiosk — the fullscreen check-in program: window, main loop, screens, timers.
 */
#ifndef TINGZI_KIOSK_H
#define TINGZI_KIOSK_H

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

#endif
