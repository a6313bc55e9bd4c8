/*
 * sound — short success and error tones through SDL audio. The tones are
 * synthesised once at open; playing one queues it and returns at once. With
 * no audio device the kiosk works on, silently (logged once).
 */
#ifndef TINGZI_SOUND_H
#define TINGZI_SOUND_H

typedef enum sound_kind { SOUND_OK = 0, SOUND_ERROR = 1 } sound_kind;

int sound_open(void); /* 0, or -1 when no audio device (logged) */
void sound_play(sound_kind kind);
void sound_set_enabled(int on);
/* Milliseconds until the tone playing ends (call again then: the device is
 * closed once it has played out), or -1 when nothing plays. */
int sound_busy_ms(void);
void sound_close(void);

#endif
