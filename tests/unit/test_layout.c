/*
 * Every screen at the five sizes the kiosk must work at (800x480, 1024x600,
 * 1280x800, 1920x1080 and 1080x1920 portrait), drawn by the real kiosk under
 * SDL's dummy video driver: every button lies on the screen, is at least
 * UI_MIN_TARGET pixels in both directions, and no two buttons overlap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/i18n.h"
#include "app/kiosk.h"
#include "sync/log.h"
#include "app/screens/screen.h"
#include "sync/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	int w, h;
} sizes[] = {{800, 480}, {1024, 600}, {1280, 800}, {1920, 1080}, {1080, 1920}};

static char db_path[256];

static void make_db(void)
{
	snprintf(db_path, sizeof db_path, "/tmp/tingzi-layout-%d.db", (int)getpid());
	unlink(db_path);
	store *s;
	char err[256];
	assert_int_equal(store_open(db_path, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_OK);
	assert_int_equal(store_import_begin(s), STORE_OK);
	const char *names[] = {"欧阳娜娜", "Alexandria Montgomery-Featherstonehaugh", "张三"};
	const char *phones[] = {"13900005678", "13911115678", "13922225678"};
	for (int i = 0; i < 3; i++) {
		store_member m = {0};
		snprintf(m.name, sizeof m.name, "%s", names[i]);
		snprintf(m.phone, sizeof m.phone, "%s", phones[i]);
		snprintf(m.code, sizeof m.code, "L%d", i);
		snprintf(m.tier, sizeof m.tier, "gold");
		snprintf(m.expires, sizeof m.expires, "2020-01-01");
		int updated;
		assert_int_equal(store_import_member(s, &m, &updated), STORE_OK);
	}
	assert_int_equal(store_import_commit(s), STORE_OK);
	int64_t now = clock_wall_ms(), id;
	assert_int_equal(store_event_add(s, "一个名字非常非常长的活动：城市漫步与茶文化分享会（第二十七期）",
					 now - 3600000, now + 3600000, &id),
			 STORE_OK);
	/* two links apply: the event's and the venue default, so the join screen
	 * has its arrows and the first visit's welcome its QR panel */
	store_link l = {.event_id = id, .expires_ms = now + 3 * 24 * 3600000LL};
	snprintf(l.platform, sizeof l.platform, "wechat");
	snprintf(l.label, sizeof l.label, "城市漫步与茶文化分享会 · 第二十七期微信群（满 500 人前有效）");
	snprintf(l.url, sizeof l.url, "https://weixin.qq.com/g/AQYAAExampleGroupCode0123456789");
	assert_int_equal(store_link_add(s, &l, now, NULL), STORE_OK);
	store_link d = {.is_default = 1};
	snprintf(d.platform, sizeof d.platform, "url");
	snprintf(d.label, sizeof d.label, "Tingyu Teahouse community");
	snprintf(d.url, sizeof d.url, "https://example.org/join?venue=tingyu&utm_source=kiosk");
	assert_int_equal(store_link_add(s, &d, now, NULL), STORE_OK);
	store_close(s);
}

static int overlap(SDL_Rect a, SDL_Rect b)
{
	SDL_Rect r;
	return SDL_IntersectRect(&a, &b, &r);
}

/* the strings the frame drew, by their em boxes */
#define TEXTS_MAX 512
static struct {
	SDL_Rect r;
	char s[48];
} texts[TEXTS_MAX];
static int ntexts;

static void on_text(void *ud, SDL_Rect em, const char *utf8)
{
	(void)ud;
	if (ntexts < TEXTS_MAX) {
		texts[ntexts].r = em;
		snprintf(texts[ntexts].s, sizeof texts[ntexts].s, "%s", utf8);
		ntexts++;
	}
}

static int inside(SDL_Rect in, SDL_Rect out, int slack)
{
	return in.x >= out.x - slack && in.y >= out.y - slack && in.x + in.w <= out.x + out.w + slack &&
	       in.y + in.h <= out.y + out.h + slack;
}

/* Every string lies on the screen, and a string that touches a button is
 * that button's label, wholly inside it: no text under or across a button. */
static void check_texts(const kiosk *k, const char *what)
{
	SDL_Rect screen = {0, 0, k->w, k->h};
	int bad = 0;
	for (int i = 0; i < ntexts; i++) {
		SDL_Rect t = texts[i].r;
		if (!inside(t, screen, 0))
			bad++, print_error("%dx%d %s: \"%s\" at %d,%d %dx%d is off screen\n", k->w, k->h, what,
					   texts[i].s, t.x, t.y, t.w, t.h);
		/* 2 px of slack: the em box is the font's, not the glyphs' ink */
		SDL_Rect core = {t.x + 2, t.y + 2, t.w - 4, t.h - 4};
		for (int j = 0; j < k->nbuttons; j++) {
			SDL_Rect b = k->buttons[j].r;
			if (k->buttons[j].act == ACT_DISMISS || !overlap(core, b) || inside(t, b, 2))
				continue;
			bad++;
			print_error("%dx%d %s: \"%s\" at %d,%d %dx%d runs under button %d (action %d) at %d,%d %dx%d\n",
				    k->w, k->h, what, texts[i].s, t.x, t.y, t.w, t.h, j, k->buttons[j].act, b.x, b.y, b.w,
				    b.h);
		}
	}
	ntexts = 0;
	if (bad)
		fail_msg("%dx%d %s: %d strings off screen or under buttons", k->w, k->h, what, bad);
}

static void check_buttons(const kiosk *k, const char *what)
{
	check_texts(k, what);
	for (int i = 0; i < k->nbuttons; i++) {
		SDL_Rect r = k->buttons[i].r;
		if (r.x < 0 || r.y < 0 || r.x + r.w > k->w || r.y + r.h > k->h || r.w < UI_MIN_TARGET ||
		    r.h < UI_MIN_TARGET)
			fail_msg("%dx%d %s: button %d (action %d) at %d,%d %dx%d is off screen or too small",
				 k->w, k->h, what, i, k->buttons[i].act, r.x, r.y, r.w, r.h);
		if (k->buttons[i].act == ACT_DISMISS)
			continue; /* the whole result screen, under its buttons */
		for (int j = i + 1; j < k->nbuttons; j++)
			if (k->buttons[j].act != ACT_DISMISS && overlap(r, k->buttons[j].r))
				fail_msg("%dx%d %s: buttons %d and %d overlap", k->w, k->h, what, i, j);
	}
}

static int count_action(const kiosk *k, action a)
{
	int n = 0;
	for (int i = 0; i < k->nbuttons; i++)
		n += k->buttons[i].act == a;
	return n;
}

static void test_all_screens_at_all_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		static kiosk k;
		make_db(); /* fresh: every size checks the same member in anew */
		kiosk_config cfg = {
		    .db_path = db_path, .windowed = 1, .width = sizes[i].w, .height = sizes[i].h};
		assert_int_equal(kiosk_open(&k, &cfg), 0);
		ui_text_trace(k.text, on_text, NULL);
		assert_int_equal(k.w, sizes[i].w);
		assert_int_equal(k.h, sizes[i].h);
		roster *r = kiosk_roster(&k);
		assert_non_null(r);

		kiosk_draw(&k);
		check_buttons(&k, "home");
		assert_int_equal(count_action(&k, ACT_CHECKIN), 1);
		assert_int_equal(count_action(&k, ACT_LANG), 3);
		assert_int_equal(count_action(&k, ACT_JOIN), 1);

		kiosk_show(&k, SCREEN_IDENTIFY);
		kiosk_draw(&k);
		check_buttons(&k, "identify");

		kiosk_show(&k, SCREEN_KEYPAD);
		kiosk_draw(&k);
		check_buttons(&k, "keypad");
		assert_int_equal(count_action(&k, ACT_KEY), 10);

		kiosk_show(&k, SCREEN_SEARCH);
		screen_action(&k, ACT_KEY, 'z');
		kiosk_draw(&k);
		check_buttons(&k, "search");
		assert_int_equal(count_action(&k, ACT_KEY), 26);
		assert_true(count_action(&k, ACT_PICK) >= 1);

		kiosk_show(&k, SCREEN_KEYPAD);
		for (const char *d = "5678"; *d; d++)
			screen_action(&k, ACT_KEY, *d);
		screen_action(&k, ACT_OK, 0);
		assert_int_equal(k.screen, SCREEN_PICK);
		kiosk_draw(&k);
		check_buttons(&k, "pick");
		assert_int_equal(count_action(&k, ACT_PICK), 3);

		screen_action(&k, ACT_PICK, 1);
		assert_int_equal(k.screen, SCREEN_WELCOME);
		kiosk_draw(&k);
		check_buttons(&k, "welcome");

		char code[STORE_CODE_MAX];
		snprintf(code, sizeof code, "%s", k.result.member.code);
		screen_action(&k, ACT_DISMISS, 0);
		kiosk_scan(&k, code);
		assert_int_equal(k.screen, SCREEN_ALREADY);
		kiosk_draw(&k);
		check_buttons(&k, "already");

		kiosk_scan(&k, "nobody");
		assert_int_equal(k.screen, SCREEN_UNKNOWN);
		kiosk_draw(&k);
		check_buttons(&k, "unknown");
		assert_int_equal(count_action(&k, ACT_REGISTER), 1);

		kiosk_show(&k, SCREEN_ERROR);
		kiosk_draw(&k);
		check_buttons(&k, "error");

		kiosk_show(&k, SCREEN_REG_PHONE);
		kiosk_draw(&k);
		check_buttons(&k, "register phone");
		kiosk_show(&k, SCREEN_REG_NAME);
		kiosk_draw(&k);
		check_buttons(&k, "register name");
		assert_int_equal(count_action(&k, ACT_KEY), 27); /* 26 letters and space */

		kiosk_show(&k, SCREEN_JOIN);
		kiosk_draw(&k);
		check_buttons(&k, "join");
		assert_int_equal(count_action(&k, ACT_NEXT_LINK), 2);
		assert_int_equal(count_action(&k, ACT_HOME), 1);

		kiosk_show(&k, SCREEN_STAFF_PIN);
		kiosk_draw(&k);
		check_buttons(&k, "staff PIN");
		assert_int_equal(count_action(&k, ACT_KEY), 10);
		snprintf(k.staff_session, sizeof k.staff_session, "%s", "5e5510115e5510115e5510115e551011");
		/* records the hub refused are there for staff to see */
		k.sync_seen.enrolled = k.sync_seen.online = 1;
		k.sync_seen.dead = 2;
		kiosk_show(&k, SCREEN_STAFF_MENU);
		kiosk_draw(&k);
		char refused[160];
		snprintf(refused, sizeof refused, _("%lld records refused by the hub · please tell the organizer"), 2LL);
		refused[20] = '\0'; /* what the trace keeps of it, at least */
		int seen = 0;
		for (int t = 0; t < ntexts; t++)
			seen |= strncmp(texts[t].s, refused, strlen(refused)) == 0;
		if (!seen)
			fail_msg("%dx%d: the staff menu does not show the records the hub refused", k.w, k.h);
		check_buttons(&k, "staff menu");
		k.sync_seen.dead = 0;
		assert_int_equal(count_action(&k, ACT_STAFF_QUIT), 1);
		assert_int_equal(count_action(&k, ACT_STAFF_LIST), 1);
		assert_true(k.staff_total >= 1); /* the check-in above */
		kiosk_staff_load(&k);
		kiosk_show(&k, SCREEN_STAFF_LIST);
		kiosk_draw(&k);
		check_buttons(&k, "staff list");
		assert_int_equal(count_action(&k, ACT_STAFF_UNDO), k.staff_nrows);
		assert_true(k.staff_nrows >= 1);
		screen_action(&k, ACT_STAFF_EVENTS, 0);
		assert_int_equal(k.screen, SCREEN_STAFF_EVENT);
		kiosk_draw(&k);
		check_buttons(&k, "staff event");
		assert_int_equal(count_action(&k, ACT_STAFF_EVENT_NEW), 3);
		assert_true(count_action(&k, ACT_STAFF_EVENT_PICK) >= 2); /* the event, and "by the clock" */
		screen_action(&k, ACT_STAFF_SETTINGS, 0);
		kiosk_draw(&k);
		check_buttons(&k, "staff settings");
		assert_int_equal(count_action(&k, ACT_STAFF_SOUNDS), 1);
		kiosk_show(&k, SCREEN_HOME); /* leaves staff mode */
		assert_string_equal(k.staff_session, "");
		kiosk_close(&k);
	}
}

int main(void)
{
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	setenv("SDL_AUDIODRIVER", "dummy", 1);
	log_set_quiet(1);
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_all_screens_at_all_sizes)};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(db_path);
	return rc;
}
