/*
 * wedge — a scanner's bursts told apart from a person's typing, by timing.
 *
 * Keys are grouped into runs: a run is a stretch of keys each at most
 * max_gap_ms after the one before. A longer gap always ends a run, so the first
 * key of a scanner burst starts a run of its own even though it comes long after
 * the person's last key: a run starts at a key whose *next* gap is fast. A
 * person's keys are each a run of one (or two or three when keys roll over);
 * a scanner's code is one long run.
 *
 * The held run is in one of four states:
 *
 *   IDLE    nothing held.
 *   OPEN    a run of fewer than min_len keys, held. It becomes a BURST when its
 *           min_len-th key arrives before first + hold_ms. It is released as
 *           typing when it ends (silence longer than max_gap_ms, Enter, another
 *           key) or when hold_ms has passed since its first key, whichever is
 *           first; after the latter it goes on as TYPING.
 *   BURST   min_len or more fast keys: a scanner. Held (not typing, so hold_ms
 *           does not bound it) until it ends: at Enter (swallowed as its
 *           suffix; an Enter up to hold_ms after the last key counts, for
 *           scanners whose suffix comes in a later packet), at a text key after
 *           a gap longer than max_gap_ms (which starts the next run), at another
 *           key, or after more than hold_ms of silence: a scanner set to send no
 *           suffix. Then exactly one outcome: reject(TOO_LONG) if it had more
 *           than max_len characters (those past max_len are counted, not
 *           stored), else reject(GARBLED) if any key was a control character,
 *           U+FFFD or not valid UTF-8, else scan(code).
 *   TYPING  a fast run that was released as typing because it stayed too short
 *           for hold_ms (auto-repeat, a slow scanner): its further keys are
 *           typed at once until a slow gap, so a run is never half typed and
 *           half scanned.
 *
 * So typing reaches the sink in order and at most hold_ms after its first key
 * (a lone key after max_gap_ms + 1), a burst is never typed, and each burst has
 * one outcome. Keys a person cannot type (control characters, invalid bytes) are
 * left out of typed text. Text of several characters at once is an input
 * method's commit: typed straight away, after whatever was held.
 *
 * Every entry point first applies what was due by its time (as wedge_tick()
 * would have), so a late tick changes nothing, and a time earlier than the last
 * key counts as that key's time. The only clock is the caller's.
 *
 * Defaults, and why:
 *   max_gap_ms 30   USB wedge scanners send a key every 1-10 ms, Bluetooth ones
 *                   up to about 20 ms; a person's keys, rollover aside, are
 *                   80 ms or more apart. 30 ms takes the slow scanners with
 *                   margin and is still short enough that a lone typed key shows
 *                   after 31 ms.
 *   min_len    4    rollover gives two, rarely three fast keys; no member code
 *                   is shorter than four.
 *   hold_ms    100  (min_len - 1) * max_gap_ms = 90 ms is the longest a burst
 *                   may take to reach min_len keys; hold_ms must cover it or a
 *                   scanner near max_gap_ms would be typed. 100 ms is also about
 *                   where a delay starts to be noticed, and only a fast run
 *                   (rollover, auto-repeat) ever waits that long.
 *   max_len    128  longer than any member code or card number we print, short
 *                   enough that a stuck or misconfigured scanner is refused.
 *
 * Limits: timing is all there is. A person's key less than max_gap_ms before a
 * burst joins it; four or more keys mashed together read as a scan; auto-repeat
 * faster than max_gap_ms reads as a burst (and usually as TOO_LONG).
 */
#include "app/input/wedge.h"

#include "sync/utf8.h"

#include <assert.h>
#include <string.h>

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

void wedge_init(wedge *w, const wedge_config *cfg, const wedge_sink *sink)
{
	assert(w && sink);
	memset(w, 0, sizeof *w);
	wedge_config c = cfg ? *cfg : (wedge_config){0};
	c.max_gap_ms = or_default(c.max_gap_ms, WEDGE_DEFAULT_MAX_GAP_MS);
	c.min_len = or_default(c.min_len, WEDGE_DEFAULT_MIN_LEN);
	c.hold_ms = or_default(c.hold_ms, WEDGE_DEFAULT_HOLD_MS);
	c.max_len = or_default(c.max_len, WEDGE_DEFAULT_MAX_LEN);
	if (c.max_len > WEDGE_MAX_LEN)
		c.max_len = WEDGE_MAX_LEN;
	if (c.max_len < 2)
		c.max_len = 2;
	if (c.min_len < 2)
		c.min_len = 2; /* a run of one key is every person's key */
	if (c.min_len > c.max_len)
		c.min_len = c.max_len;
	w->cfg = c;
	w->sink = *sink;
	w->state = WEDGE_IDLE;
}

/* 1 when s[0..len) is exactly one character a code may hold: valid UTF-8, not a
 * control character, not U+FFFD (text that was already garbled upstream). */
static int printable_char(const char *s, size_t len)
{
	uint32_t cp;
	if (utf8_next(s, len, &cp) != len || cp == 0xfffd)
		return 0;
	return cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0);
}

static void emit_typed(wedge *w, const char *text)
{
	if (w->sink.typed && text[0])
		w->sink.typed(w->sink.ctx, text);
}

/* Forget the held run (its bytes stay in buf until the next run starts). */
static void clear_run(wedge *w, wedge_state next)
{
	w->len = 0;
	w->chars = 0;
	w->overflow = 0;
	w->garbled = 0;
	w->state = next;
}

/* Release the held run as typing and go to state next. */
static void release_typed(wedge *w, wedge_state next)
{
	w->buf[w->len] = '\0';
	clear_run(w, next);
	emit_typed(w, w->buf);
}

/* The held burst has ended: report its one outcome. */
static void end_burst(wedge *w)
{
	size_t chars = w->chars;
	int overflow = w->overflow, garbled = w->garbled;
	w->buf[w->len] = '\0';
	clear_run(w, WEDGE_IDLE);
	if (overflow) {
		if (w->sink.reject)
			w->sink.reject(w->sink.ctx, WEDGE_REJECT_TOO_LONG, chars);
	} else if (garbled) {
		if (w->sink.reject)
			w->sink.reject(w->sink.ctx, WEDGE_REJECT_GARBLED, chars);
	} else if (w->sink.scan) {
		w->sink.scan(w->sink.ctx, w->buf);
	}
}

/* End whatever run is held, as it stands, and go idle. */
static void end_run(wedge *w)
{
	if (w->state == WEDGE_OPEN)
		release_typed(w, WEDGE_IDLE);
	else if (w->state == WEDGE_BURST)
		end_burst(w);
	else
		clear_run(w, WEDGE_IDLE);
}

static void add_key(wedge *w, const char *s, size_t n, int ok, uint64_t t)
{
	w->chars++;
	w->last_ms = t;
	if (!ok)
		w->garbled = 1;
	if (w->chars > w->cfg.max_len)
		w->overflow = 1;
	if (ok && !w->overflow) {
		assert(w->len + n < sizeof w->buf);
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static void start_run(wedge *w, const char *s, size_t n, int ok, uint64_t t)
{
	clear_run(w, WEDGE_OPEN);
	w->first_ms = t;
	add_key(w, s, n, ok, t);
}

/* A time before the held run's last key counts as that key's time. */
static uint64_t not_before(const wedge *w, uint64_t t)
{
	return w->state != WEDGE_IDLE && t < w->last_ms ? w->last_ms : t;
}

/* Whether t comes more than gap after the run's last key. */
static int after_gap(const wedge *w, uint64_t t, uint32_t gap)
{
	return t > w->last_ms && t - w->last_ms > gap;
}

void wedge_tick(wedge *w, uint64_t t_ms)
{
	assert(w);
	if (w->state == WEDGE_OPEN) {
		if (after_gap(w, t_ms, w->cfg.max_gap_ms))
			release_typed(w, WEDGE_IDLE);
		else if (t_ms >= w->first_ms + w->cfg.hold_ms)
			release_typed(w, WEDGE_TYPING);
	} else if (w->state == WEDGE_BURST) {
		if (after_gap(w, t_ms, w->cfg.hold_ms))
			end_burst(w);
	}
}

uint64_t wedge_deadline(const wedge *w)
{
	assert(w);
	if (w->state == WEDGE_OPEN) {
		uint64_t hold = w->first_ms + w->cfg.hold_ms, quiet = w->last_ms + w->cfg.max_gap_ms + 1;
		return hold < quiet ? hold : quiet;
	}
	if (w->state == WEDGE_BURST)
		return w->last_ms + w->cfg.hold_ms + 1;
	return 0;
}

/* One key of text (s[0..n), n >= 1) at t, after wedge_tick(w, t). */
static void text_key(wedge *w, const char *s, size_t n, uint64_t t)
{
	int ok = printable_char(s, n);
	switch (w->state) {
	case WEDGE_IDLE:
		start_run(w, s, n, ok, t);
		break;
	case WEDGE_OPEN: /* the tick left it open: fast, and within hold_ms */
		add_key(w, s, n, ok, t);
		if (w->chars >= w->cfg.min_len)
			w->state = WEDGE_BURST;
		break;
	case WEDGE_BURST:
		if (after_gap(w, t, w->cfg.max_gap_ms)) {
			end_burst(w);
			start_run(w, s, n, ok, t);
		} else {
			add_key(w, s, n, ok, t);
		}
		break;
	case WEDGE_TYPING:
		if (after_gap(w, t, w->cfg.max_gap_ms)) {
			start_run(w, s, n, ok, t);
		} else {
			char one[8] = {0};
			w->last_ms = t;
			if (ok) {
				memcpy(one, s, n);
				emit_typed(w, one);
			}
		}
		break;
	}
}

/* An input method's commit of several characters: typed as it is, less any
 * control characters, in pieces that fit buf. Nothing is held when called. */
static void commit(wedge *w, const char *s, size_t n)
{
	size_t i = 0, out = 0;
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_next(s + i, n - i, &cp);
		if (out + k >= sizeof w->buf) {
			w->buf[out] = '\0';
			emit_typed(w, w->buf);
			out = 0;
		}
		if (printable_char(s + i, k)) {
			memcpy(w->buf + out, s + i, k);
			out += k;
		}
		i += k;
	}
	w->buf[out] = '\0';
	emit_typed(w, w->buf);
}

void wedge_text(wedge *w, const char *utf8, uint64_t t_ms)
{
	assert(w && utf8);
	size_t n = strlen(utf8);
	if (n == 0)
		return;
	uint64_t t = not_before(w, t_ms);
	wedge_tick(w, t);
	uint32_t cp;
	if (utf8_next(utf8, n, &cp) < n && utf8_valid(utf8, n)) {
		end_run(w);
		commit(w, utf8, n);
		return;
	}
	text_key(w, utf8, n, t);
}

void wedge_enter(wedge *w, uint64_t t_ms)
{
	assert(w);
	wedge_tick(w, not_before(w, t_ms));
	if (w->state == WEDGE_BURST) {
		end_burst(w); /* the tick left it within hold_ms: its suffix */
		return;
	}
	end_run(w);
	if (w->sink.enter)
		w->sink.enter(w->sink.ctx);
}

void wedge_other(wedge *w, uint64_t t_ms)
{
	assert(w);
	wedge_tick(w, not_before(w, t_ms));
	end_run(w);
}
