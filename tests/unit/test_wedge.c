/*
 * The scanner wedge, driven by tables of keys and times: what a scanner sends
 * (a burst, with or without Enter), what a person types (slowly, with rollover,
 * with Backspace, through an input method), and the two mixed; each table lists
 * the outcomes the kiosk must see, in order, and when.
 *
 * Every table runs twice: once with wedge_tick() called exactly at each
 * wedge_deadline(), as the kiosk's event loop does, checking the times; and
 * once with no tick until long after the last key, checking that a late tick
 * changes nothing but the times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/input/wedge.h"
#include "sync/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- the tables ---- */

typedef enum step_kind {
	S_END = 0,
	S_KEYS,   /* each character of text (split as the kiosk splits) at t, t + every, ... */
	S_COMMIT, /* text in one call, as an input method commits it */
	S_ENTER,
	S_OTHER, /* Backspace and the like */
	S_TICK,
} step_kind;

typedef struct step {
	step_kind kind;
	const char *text;
	uint64_t t;
	uint64_t every; /* ms between keys */
	int times;      /* the text this many times over (0 = once) */
} step;

typedef enum out_kind {
	O_END = 0,
	O_TYPED,
	O_ENTER,
	O_SCAN,
	O_REJECT,
	O_KEY, /* the kiosk acted on a Backspace (recorded by the driver after wedge_other) */
} out_kind;

typedef struct outcome {
	out_kind kind;
	const char *text;
	wedge_reject why;
	size_t len;
	uint64_t at; /* 0: any time */
} outcome;

typedef struct wcase {
	const wedge_config *cfg;
	step steps[16];
	outcome expect[16];
} wcase;

/* clang-format off */
#define KEYS(s, t0, dt)     {S_KEYS, (s), (t0), (dt), 0}
#define KEYS_N(s, n, t0, dt) {S_KEYS, (s), (t0), (dt), (n)}
#define KEY(s, t0)          {S_KEYS, (s), (t0), 0, 0}
#define COMMIT(s, t0)       {S_COMMIT, (s), (t0), 0, 0}
#define ENTER(t0)           {S_ENTER, NULL, (t0), 0, 0}
#define OTHER(t0)           {S_OTHER, NULL, (t0), 0, 0}

#define TYPED(s, t)     {O_TYPED, (s), 0, 0, (t)}
#define GOT_ENTER(t)    {O_ENTER, NULL, 0, 0, (t)}
#define SCAN(s, t)      {O_SCAN, (s), 0, 0, (t)}
#define REJECT(w, n, t) {O_REJECT, NULL, (w), (n), (t)}
#define ACTED(t)        {O_KEY, NULL, 0, 0, (t)}
/* clang-format on */

#define S16  "7777777777777777"
#define S128 S16 S16 S16 S16 S16 S16 S16 S16

static const wedge_config hold60 = {.max_gap_ms = 30, .min_len = 4, .hold_ms = 60, .max_len = 128};

/* A scanner at 5 ms/key ending with Enter: one scan, at the Enter. */
static wcase scan_enter = {
    .steps = {KEYS("TZ1001", 1000, 5), ENTER(1030)},
    .expect = {SCAN("TZ1001", 1030)},
};

/* A scanner set to send no suffix: the scan comes after hold_ms of silence. */
static wcase scan_no_suffix = {
    .steps = {KEYS("TZ1001", 1000, 5)},
    .expect = {SCAN("TZ1001", 1025 + 101)},
};

/* A person at 120 ms/key: every key typed max_gap_ms + 1 later, then Enter. */
static wcase person = {
    .steps = {KEYS("zhang", 1000, 120), ENTER(1600)},
    .expect = {TYPED("z", 1031), TYPED("h", 1151), TYPED("a", 1271), TYPED("n", 1391), TYPED("g", 1511),
	       GOT_ENTER(1600)},
};

/* A person, a scan 35 ms after their last key, the person again: nothing mixed. */
static wcase person_scan_person = {
    .steps = {KEYS("hi", 1000, 120), KEYS("TZ1001", 1155, 5), ENTER(1185), KEYS("ok", 1400, 120)},
    .expect = {TYPED("h", 1031), TYPED("i", 1151), SCAN("TZ1001", 1185), TYPED("o", 1431), TYPED("k", 1551)},
};

/* Two fast keys, a scan right after them: the pair is typed, the burst scanned. */
static wcase rollover_then_scan = {
    .steps = {KEYS("ab", 1000, 10), KEYS("TZ1001", 1050, 4), ENTER(1072)},
    .expect = {TYPED("ab", 1041), SCAN("TZ1001", 1072)},
};

/* Rollover of two and of three keys is typing, each run whole. */
static wcase rollover = {
    .steps = {KEYS("th", 1000, 12), KEY("e", 1150), KEYS("the", 1400, 10), ENTER(1600)},
    .expect = {TYPED("th", 1043), TYPED("e", 1181), TYPED("the", 1451), GOT_ENTER(1600)},
};

/* 300 keys at 5 ms: one reject with the full length, nothing typed; then normal again. */
static wcase too_long = {
    .steps = {KEYS_N("X", 300, 1000, 5), ENTER(2500), KEY("a", 3000)},
    .expect = {REJECT(WEDGE_REJECT_TOO_LONG, 300, 2500), TYPED("a", 3031)},
};

static wcase too_long_no_suffix = {
    .steps = {KEYS_N("X", 300, 1000, 5)},
    .expect = {REJECT(WEDGE_REJECT_TOO_LONG, 300, 2495 + 101)},
};

/* Exactly max_len is a code; one more is too long. */
static wcase max_len_exact = {
    .steps = {KEYS_N("7", 128, 1000, 2), ENTER(1300), KEYS_N("7", 129, 2000, 2), ENTER(2300)},
    .expect = {SCAN(S128, 1300), REJECT(WEDGE_REJECT_TOO_LONG, 129, 2300)},
};

/* A control character inside a burst. */
static wcase garbled_control = {
    .steps = {KEYS("AB\001CD", 1000, 5), ENTER(1025)},
    .expect = {REJECT(WEDGE_REJECT_GARBLED, 5, 1025)},
};

/* A byte that is not UTF-8 inside a burst, and a burst that starts with one. */
static wcase garbled_utf8 = {
    .steps = {KEYS("AB\377CD", 1000, 5), ENTER(1025), KEYS("\3031234", 1200, 5)},
    .expect = {REJECT(WEDGE_REJECT_GARBLED, 5, 1025), REJECT(WEDGE_REJECT_GARBLED, 5, 1220 + 101)},
};

/* Two scans back to back, with Enter and without. */
static wcase two_scans = {
    .steps = {KEYS("TZ1001", 1000, 5), ENTER(1030), KEYS("TZ1002", 1080, 5), ENTER(1110)},
    .expect = {SCAN("TZ1001", 1030), SCAN("TZ1002", 1110)},
};

static wcase two_scans_no_suffix = {
    .steps = {KEYS("TZ1001", 1000, 5), KEYS("TZ1002", 1075, 5)},
    .expect = {SCAN("TZ1001", 1075), SCAN("TZ1002", 1100 + 101)},
};

/* A code in UTF-8. */
static wcase scan_utf8 = {
    .steps = {KEYS("会员Ω-12", 1000, 5), ENTER(1030)},
    .expect = {SCAN("会员Ω-12", 1030)},
};

/* hold_ms 60 with max_gap_ms 30: a fast run still short at first + 60 ms is
 * typed then, and the rest of it straight away; never a scan. */
static wcase hold_bound = {
    .cfg = &hold60,
    .steps = {KEYS_N("a", 6, 1000, 25), KEY("b", 1300)},
    .expect = {TYPED("aaa", 1060), TYPED("a", 1075), TYPED("a", 1100), TYPED("a", 1125), TYPED("b", 1331)},
};

/* The defaults' worst case: three keys 30 ms apart are typed before first + 100 ms. */
static wcase hold_bound_default = {
    .steps = {KEYS("abc", 1000, 30), ENTER(1200)},
    .expect = {TYPED("abc", 1091), GOT_ENTER(1200)},
};

/* A slow scanner (25 ms/key) is still a scanner with the defaults. */
static wcase slow_scanner = {
    .steps = {KEYS("TZ1001", 1000, 25), ENTER(1150)},
    .expect = {SCAN("TZ1001", 1150)},
};

/* Backspace releases held typing before the kiosk acts on it; after a burst it ends the burst. */
static wcase backspace = {
    .steps = {KEYS("ab", 1000, 10), OTHER(1015), KEY("c", 1200), KEYS("TZ1001", 1400, 5), OTHER(1440)},
    .expect = {TYPED("ab", 1015), ACTED(1015), TYPED("c", 1231), SCAN("TZ1001", 1440), ACTED(1440)},
};

/* An input method commits several characters at once: typed at once, after what was held. */
static wcase ime_commit = {
    .steps = {KEY("z", 1000), COMMIT("张三", 1010), COMMIT("a\tb", 1500)},
    .expect = {TYPED("z", 1010), TYPED("张三", 1010), TYPED("ab", 1500)},
};

/* Enter in a later packet is still the burst's suffix; after hold_ms it is a person's. */
static wcase late_suffix = {
    .steps = {KEYS("TZ1001", 1000, 5), ENTER(1080), KEYS("TZ1002", 2000, 5), ENTER(2200)},
    .expect = {SCAN("TZ1001", 1080), SCAN("TZ1002", 2126), GOT_ENTER(2200)},
};

/* Fewer than min_len fast keys and Enter: typing and Enter. */
static wcase short_code = {
    .steps = {KEYS("12", 1000, 5), ENTER(1010)},
    .expect = {TYPED("12", 1010), GOT_ENTER(1010)},
};

/* A key stamped before the previous one counts as at the same time (so the
 * next key, 25 ms after the previous one, is still fast). */
static wcase time_backwards = {
    .steps = {KEYS("TZ10", 1000, 5), KEY("0", 990), KEY("1", 1040), ENTER(1045)},
    .expect = {SCAN("TZ1001", 1045)},
};

/* What a person cannot type is left out of typing. */
static wcase typing_drops_control = {
    .steps = {KEY("a", 1000), KEY("\001", 1200), KEY("\377", 1400), KEY("b", 1600)},
    .expect = {TYPED("a", 1031), TYPED("b", 1631)},
};

/* max_gap_ms is inclusive: 30 ms apart is one run, 31 ms apart is two. */
static wcase gap_boundary = {
    .steps = {KEYS("ab", 1000, 30), KEYS("cd", 1200, 31)},
    .expect = {TYPED("ab", 1061), TYPED("c", 1231), TYPED("d", 1262)},
};

/* The documented limit: a person's key within max_gap_ms of a burst joins it. */
static wcase limit_key_just_before_burst = {
    .steps = {KEY("i", 1000), KEYS("TZ1001", 1020, 5), ENTER(1050)},
    .expect = {SCAN("iTZ1001", 1050)},
};

/* ---- the driver ---- */

typedef struct record {
	out_kind kind;
	char text[WEDGE_MAX_LEN * 4 + 8];
	wedge_reject why;
	size_t len;
	uint64_t at;
} record;

static struct {
	record out[64];
	size_t n;
	uint64_t now;
} got;

static record *push(out_kind kind)
{
	assert_true(got.n < sizeof got.out / sizeof got.out[0]);
	record *r = &got.out[got.n++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->at = got.now;
	return r;
}

static void on_typed(void *ctx, const char *text)
{
	assert_ptr_equal(ctx, &got);
	assert_true(text[0] != '\0');
	assert_true(utf8_valid(text, strlen(text)));
	snprintf(push(O_TYPED)->text, sizeof got.out[0].text, "%s", text);
}

static void on_enter(void *ctx)
{
	assert_ptr_equal(ctx, &got);
	push(O_ENTER);
}

static void on_scan(void *ctx, const char *code)
{
	assert_ptr_equal(ctx, &got);
	snprintf(push(O_SCAN)->text, sizeof got.out[0].text, "%s", code);
}

static void on_reject(void *ctx, wedge_reject why, size_t len)
{
	assert_ptr_equal(ctx, &got);
	record *r = push(O_REJECT);
	r->why = why;
	r->len = len;
}

static const wedge_sink sink = {on_typed, on_enter, on_scan, on_reject, &got};

/* Tick at every deadline up to t, as the kiosk's loop does (on_time), then set the clock to t. */
static void advance(wedge *w, uint64_t t, int on_time)
{
	int guard = 0;
	uint64_t d;
	while (on_time && (d = wedge_deadline(w)) != 0 && d <= t) {
		assert_true(++guard < 1000);
		got.now = d;
		wedge_tick(w, d);
	}
	got.now = t;
}

static uint64_t run_step(wedge *w, const step *s, int on_time)
{
	uint64_t t = s->t;
	switch (s->kind) {
	case S_KEYS: {
		int times = s->times ? s->times : 1;
		size_t len = strlen(s->text);
		for (int r = 0; r < times; r++) {
			for (size_t i = 0; i < len;) {
				uint32_t cp;
				char one[8] = {0};
				size_t n = utf8_next(s->text + i, len - i, &cp);
				memcpy(one, s->text + i, n);
				advance(w, t, on_time);
				wedge_text(w, one, t);
				t += s->every;
				i += n;
			}
		}
		return t - s->every;
	}
	case S_COMMIT:
		advance(w, t, on_time);
		wedge_text(w, s->text, t);
		return t;
	case S_ENTER:
		advance(w, t, on_time);
		wedge_enter(w, t);
		return t;
	case S_OTHER:
		advance(w, t, on_time);
		wedge_other(w, t);
		push(O_KEY);
		return t;
	case S_TICK:
		advance(w, t, on_time);
		wedge_tick(w, t);
		return t;
	case S_END:
		break;
	}
	return t;
}

static const char *kind_name(out_kind k)
{
	static const char *names[] = {"end", "typed", "enter", "scan", "reject", "key"};
	return names[k];
}

static void check(const wcase *c, int on_time)
{
	size_t n = 0;
	while (c->expect[n].kind != O_END)
		n++;
	for (size_t i = 0; i < got.n && i < n; i++) {
		const outcome *e = &c->expect[i];
		const record *r = &got.out[i];
		if (r->kind != e->kind)
			fail_msg("outcome %zu: expected %s, got %s \"%s\"", i, kind_name(e->kind),
				 kind_name(r->kind), r->text);
		if (e->text)
			assert_string_equal(r->text, e->text);
		if (e->kind == O_REJECT) {
			assert_int_equal(r->why, e->why);
			assert_int_equal(r->len, e->len);
		}
		if (on_time && e->at && r->at != e->at)
			fail_msg("outcome %zu (%s): expected at %llu, got at %llu", i, kind_name(e->kind),
				 (unsigned long long)e->at, (unsigned long long)r->at);
	}
	if (got.n != n)
		fail_msg("expected %zu outcomes, got %zu (%s)", n, got.n,
			 got.n > n ? kind_name(got.out[n].kind) : "missing");
}

static void run_case(void **state)
{
	const wcase *c = *state;
	for (int on_time = 1; on_time >= 0; on_time--) {
		wedge w;
		memset(&got, 0, sizeof got);
		wedge_init(&w, c->cfg, &sink);
		uint64_t last = 0;
		for (const step *s = c->steps; s->kind != S_END; s++)
			last = run_step(&w, s, on_time);
		/* then a quiet minute */
		advance(&w, last + 60000, on_time);
		wedge_tick(&w, last + 60000);
		assert_int_equal(wedge_deadline(&w), 0);
		check(c, on_time);
	}
}

/* ---- tests outside the tables ---- */

static void test_deadlines(void **state)
{
	(void)state;
	wedge w;
	memset(&got, 0, sizeof got);
	wedge_init(&w, NULL, &sink);
	assert_int_equal(wedge_deadline(&w), 0);

	wedge_text(&w, "a", 1000);
	assert_int_equal(wedge_deadline(&w), 1031); /* a lone key: max_gap_ms of quiet */
	wedge_text(&w, "b", 1010);
	assert_int_equal(wedge_deadline(&w), 1041);
	wedge_text(&w, "c", 1020);
	assert_int_equal(wedge_deadline(&w), 1051);
	wedge_text(&w, "d", 1030); /* min_len: a burst, waits hold_ms for Enter */
	assert_int_equal(wedge_deadline(&w), 1131);
	wedge_tick(&w, 1130);
	assert_int_equal(got.n, 0);
	assert_int_equal(wedge_deadline(&w), 1131);
	wedge_tick(&w, 1131);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.out[0].text, "abcd");
	assert_int_equal(wedge_deadline(&w), 0);

	/* With hold_ms under (min_len - 1) * max_gap_ms the hold comes first. */
	memset(&got, 0, sizeof got);
	wedge_init(&w, &hold60, &sink);
	wedge_text(&w, "a", 1000);
	wedge_text(&w, "b", 1025);
	wedge_text(&w, "c", 1050);
	assert_int_equal(wedge_deadline(&w), 1060);
	wedge_tick(&w, 1059);
	assert_int_equal(got.n, 0);
	wedge_tick(&w, 1060);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.out[0].text, "abc");
	assert_int_equal(wedge_deadline(&w), 0); /* typing goes on unheld */
	wedge_text(&w, "d", 1075);
	assert_int_equal(got.n, 2);
	assert_int_equal(wedge_deadline(&w), 0);

	/* A deadline is never 0 while something is held, even at time 0. */
	wedge_init(&w, NULL, &sink);
	wedge_text(&w, "a", 0);
	assert_int_equal(wedge_deadline(&w), 31);
}

static void test_config(void **state)
{
	(void)state;
	wedge w;
	wedge_init(&w, &(wedge_config){0}, &sink);
	assert_int_equal(w.cfg.max_gap_ms, WEDGE_DEFAULT_MAX_GAP_MS);
	assert_int_equal(w.cfg.min_len, WEDGE_DEFAULT_MIN_LEN);
	assert_int_equal(w.cfg.hold_ms, WEDGE_DEFAULT_HOLD_MS);
	assert_int_equal(w.cfg.max_len, WEDGE_DEFAULT_MAX_LEN);
	wedge_init(&w, &(wedge_config){.min_len = 1, .max_len = 100000}, &sink);
	assert_int_equal(w.cfg.min_len, 2);
	assert_int_equal(w.cfg.max_len, WEDGE_MAX_LEN);
	wedge_init(&w, &(wedge_config){.min_len = 50, .max_len = 10}, &sink);
	assert_int_equal(w.cfg.min_len, 10);

	/* The longest code the struct can hold, in four-byte characters. */
	memset(&got, 0, sizeof got);
	wedge_init(&w, &(wedge_config){.max_len = WEDGE_MAX_LEN}, &sink);
	for (int i = 0; i < WEDGE_MAX_LEN; i++)
		wedge_text(&w, "😀", 1000 + (uint64_t)i);
	wedge_enter(&w, 1000 + WEDGE_MAX_LEN);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.out[0].kind, O_SCAN);
	assert_int_equal(strlen(got.out[0].text), WEDGE_MAX_LEN * 4);
}

/* A commit longer than the wedge's buffer arrives whole, in pieces. */
static void test_long_commit(void **state)
{
	(void)state;
	static char text[3 * 700 + 1], joined[sizeof text];
	for (size_t i = 0; i < 700; i++)
		memcpy(text + 3 * i, "张", 3);
	wedge w;
	memset(&got, 0, sizeof got);
	wedge_init(&w, NULL, &sink);
	wedge_text(&w, text, 1000);
	assert_true(got.n >= 2);
	size_t at = 0;
	for (size_t i = 0; i < got.n; i++) {
		assert_int_equal(got.out[i].kind, O_TYPED);
		size_t n = strlen(got.out[i].text);
		assert_true(at + n < sizeof joined);
		memcpy(joined + at, got.out[i].text, n);
		at += n;
	}
	joined[at] = '\0';
	assert_string_equal(joined, text);
}

/* A sink may leave callbacks out. */
static void test_null_callbacks(void **state)
{
	(void)state;
	wedge w;
	wedge_init(&w, NULL, &(wedge_sink){0});
	wedge_text(&w, "a", 1000);
	wedge_enter(&w, 1200);
	for (int i = 0; i < 200; i++)
		wedge_text(&w, "X", 2000 + (uint64_t)i);
	wedge_other(&w, 2300);
	for (int i = 0; i < 5; i++)
		wedge_text(&w, "Y", 3000 + (uint64_t)i);
	wedge_tick(&w, 9000);
	wedge_text(&w, "", 9100);
	assert_int_equal(wedge_deadline(&w), 0);
}

/* clang-format off */
#define WCASE(c) {.name = #c, .test_func = run_case, .initial_state = &(c)}
/* clang-format on */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    WCASE(scan_enter),
	    WCASE(scan_no_suffix),
	    WCASE(person),
	    WCASE(person_scan_person),
	    WCASE(rollover_then_scan),
	    WCASE(rollover),
	    WCASE(too_long),
	    WCASE(too_long_no_suffix),
	    WCASE(max_len_exact),
	    WCASE(garbled_control),
	    WCASE(garbled_utf8),
	    WCASE(two_scans),
	    WCASE(two_scans_no_suffix),
	    WCASE(scan_utf8),
	    WCASE(hold_bound),
	    WCASE(hold_bound_default),
	    WCASE(slow_scanner),
	    WCASE(backspace),
	    WCASE(ime_commit),
	    WCASE(late_suffix),
	    WCASE(short_code),
	    WCASE(time_backwards),
	    WCASE(typing_drops_control),
	    WCASE(gap_boundary),
	    WCASE(limit_key_just_before_burst),
	    cmocka_unit_test(test_deadlines),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_long_commit),
	    cmocka_unit_test(test_null_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
