/*
 * sound — two tones: a rising pair (E5 then A5) for a check-in, a low double
 * buzz for anything that needs staff. 16-bit mono at 22 050 Hz with short
 * fades so nothing clicks.
 */
#include "app/sound.h"

#include "sync/log.h"

#include <SDL.h>
#include <math.h>
#include <stdlib.h>

#define RATE 22050

static SDL_AudioDeviceID dev;
static int16_t *pcm[2];
static size_t pcm_len[2];
static int enabled = 1;
static Uint32 close_at; /* SDL ticks when the played-out device closes */
static int ready, failed_logged;

/* Append a tone of freq Hz for ms milliseconds (freq 0 = silence). */
static size_t tone(int16_t *out, size_t at, double freq, int ms, double vol)
{
	size_t n = (size_t)RATE * (size_t)ms / 1000, fade = RATE / 200;
	for (size_t i = 0; i < n; i++) {
		double env = 1.0;
		if (i < fade)
			env = (double)i / (double)fade;
		else if (n - i < fade)
			env = (double)(n - i) / (double)fade;
		double v = freq > 0 ? sin(2.0 * M_PI * freq * (double)i / RATE) : 0.0;
		out[at + i] = (int16_t)(v * env * vol * 32767.0);
	}
	return at + n;
}

/* Open the output device; it stays open only while a tone plays, since an
 * open device keeps SDL's audio thread waking up even when silent. */
static int device_open(void)
{
	SDL_AudioSpec want = {.freq = RATE, .format = AUDIO_S16SYS, .channels = 1, .samples = 1024};
	dev = SDL_OpenAudioDevice(NULL, 0, &want, NULL, 0);
	if (!dev && !failed_logged) {
		failed_logged = 1;
		log_event("sound.unavailable", json_pack("{s:s}", "reason", SDL_GetError()));
	}
	return dev ? 0 : -1;
}

static void device_close(void)
{
	if (dev)
		SDL_CloseAudioDevice(dev);
	dev = 0;
	close_at = 0;
}

int sound_open(void)
{
	if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
		log_event("sound.unavailable", json_pack("{s:s}", "reason", SDL_GetError()));
		return -1;
	}
	pcm[SOUND_OK] = calloc(RATE, sizeof(int16_t));
	pcm[SOUND_ERROR] = calloc(RATE, sizeof(int16_t));
	if (!pcm[0] || !pcm[1]) {
		sound_close();
		return -1;
	}
	size_t at = tone(pcm[SOUND_OK], 0, 659.25, 110, 0.35);
	pcm_len[SOUND_OK] = tone(pcm[SOUND_OK], at, 880.0, 160, 0.35);
	at = tone(pcm[SOUND_ERROR], 0, 196.0, 150, 0.45);
	at = tone(pcm[SOUND_ERROR], at, 0, 70, 0);
	pcm_len[SOUND_ERROR] = tone(pcm[SOUND_ERROR], at, 196.0, 220, 0.45);
	ready = 1;
	return 0;
}

void sound_set_enabled(int on)
{
	enabled = on;
}

void sound_play(sound_kind kind)
{
	if (!ready || !enabled || (!dev && device_open() != 0))
		return;
	SDL_ClearQueuedAudio(dev);
	SDL_QueueAudio(dev, pcm[kind], (Uint32)(pcm_len[kind] * sizeof(int16_t)));
	SDL_PauseAudioDevice(dev, 0);
	close_at = 0;
}

int sound_busy_ms(void)
{
	if (!dev)
		return -1;
	Uint32 queued = SDL_GetQueuedAudioSize(dev), now = SDL_GetTicks();
	if (queued > 0) {
		close_at = 0;
		return (int)(queued / sizeof(int16_t) * 1000 / RATE) + 1;
	}
	/* The queue is empty; the device still plays out its own buffer (1024
	 * samples, 46 ms). Close it after that. */
	if (!close_at)
		close_at = now + 100;
	if ((Sint32)(close_at - now) > 0)
		return (int)(close_at - now);
	device_close();
	return -1;
}

void sound_close(void)
{
	device_close();
	free(pcm[0]);
	free(pcm[1]);
	pcm[0] = pcm[1] = NULL;
	ready = 0;
}
