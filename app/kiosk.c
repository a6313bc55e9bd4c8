/*
 * kiosk — the main loop: open and close, events, timers, frames.
 *
 * The loop waits for events (SDL_WaitEventTimeout up to the next timer) and
 * draws only when something changed, so an idle kiosk sleeps. Timers are few
 * and derived, not stored: the scanner's hold-back deadline, the timeout of
 * the screen shown, and the next minute for the clock on the home screen.
 *
 * What an input means is decided by the screens (app/screens/) and the state
 * they change lives in app/session.c; this file only hands them events and
 * time, and draws the screen shown.
 */
#include "app/kiosk.h"

#include "app/checkin.h"
#include "sync/log.h"
#include "app/notify.h"
#include "app/screens/screen.h"
#include "app/sound.h"
#include "sync/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIOSK_DEFAULT_RESULT_MS 8000
#define KIOSK_DEFAULT_INPUT_MS  30000
#define ROSTER_CHECK_MS         2000 /* how often home looks for members changed elsewhere */

/* ---- the scanner wedge's outputs ---- */

static void on_typed(void *ctx, const char *text)
{
	screen_typed(ctx, text);
}

static void on_enter(void *ctx)
{
	screen_enter(ctx);
}

static void on_scan(void *ctx, const char *code)
{
	kiosk_scan(ctx, code);
}

static void on_reject(void *ctx, wedge_reject why, size_t len)
{
	kiosk *k = ctx;
	log_event("scan.rejected",
		  json_pack("{s:s,s:I}", "reason", why == WEDGE_REJECT_TOO_LONG ? "too_long" : "garbled",
			    "length", (json_int_t)len));
	memset(&k->result, 0, sizeof k->result);
	snprintf(k->result.detail, sizeof k->result.detail, "scan");
	sound_play(SOUND_ERROR);
	kiosk_show(k, SCREEN_ERROR);
}

/* ---- drawing and input ---- */

void kiosk_draw(kiosk *k)
{
	k->nbuttons = 0;
	ui_fill(k->ren, (SDL_Rect){0, 0, k->w, k->h}, UI_BG);
	screen_draw(k);
}

static const char *const action_names[] = {
    [ACT_NONE] = "none", [ACT_HOME] = "home",           [ACT_CHECKIN] = "checkin",
    [ACT_LANG] = "lang", [ACT_BY_PHONE] = "phone",      [ACT_BY_NAME] = "name",
    [ACT_KEY] = "key",   [ACT_BACKSPACE] = "backspace", [ACT_OK] = "ok",
    [ACT_PICK] = "pick", [ACT_REGISTER] = "register",   [ACT_DISMISS] = "dismiss",
    [ACT_JOIN] = "join", [ACT_NEXT_LINK] = "next_link",
    [ACT_STAFF_LIST] = "staff_list", [ACT_STAFF_UNDO] = "staff_undo", [ACT_STAFF_PAGE] = "staff_page",
    [ACT_STAFF_SYNC] = "staff_sync", [ACT_STAFF_JOIN] = "staff_join", [ACT_STAFF_LEAVE] = "staff_leave",
    [ACT_STAFF_QUIT] = "staff_quit", [ACT_STAFF_BYHAND] = "staff_byhand",
    [ACT_STAFF_REFERRAL] = "staff_referral", [ACT_STAFF_LANG] = "staff_lang",
    [ACT_STAFF_IDLE] = "staff_idle", [ACT_STAFF_SOUNDS] = "staff_sounds",
    [ACT_STAFF_EVENTS] = "staff_events", [ACT_STAFF_EVENT_PICK] = "staff_event_pick",
    [ACT_STAFF_EVENT_NEW] = "staff_event_new", [ACT_STAFF_SETTINGS] = "staff_settings",
};

/* With TINGZI_LOG_LAYOUT=1, log where every button of the frame is, so that
 * end-to-end tests can tap them at any screen size. */
static void log_layout(const kiosk *k)
{
	json_t *a = json_array();
	for (int i = 0; i < k->nbuttons; i++) {
		const button *b = &k->buttons[i];
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:i,s:i,s:i}", "act", action_names[b->act],
						   "arg", b->arg, "x", b->r.x, "y", b->r.y, "w", b->r.w, "h",
						   b->r.h));
	}
	log_event("layout", json_pack("{s:s,s:o}", "screen", kiosk_screen_name(k->screen), "buttons", a));
}

int kiosk_frame(kiosk *k)
{
	if (!k->dirty)
		return 0;
	kiosk_draw(k);
	SDL_RenderPresent(k->ren);
	k->dirty = 0;
	if (k->log_layout)
		log_layout(k);
	return 1;
}

void kiosk_tap(kiosk *k, int x, int y)
{
	SDL_Point p = {x, y};
	k->last_input_ms = clock_mono_ms();
	for (int i = k->nbuttons - 1; i >= 0; i--)
		if (SDL_PointInRect(&p, &k->buttons[i].r)) {
			screen_action(k, k->buttons[i].act, k->buttons[i].arg);
			return;
		}
}

/* SDL's 32-bit event time as 64-bit milliseconds on SDL_GetTicks64()'s clock. */
static uint64_t event_ms(Uint32 ts)
{
	uint64_t now = SDL_GetTicks64();
	return now - (Uint32)((Uint32)now - ts);
}

static void on_resize(kiosk *k)
{
	SDL_GetRendererOutputSize(k->ren, &k->w, &k->h);
	k->dirty = 1;
}

/* A press that ends far enough sideways on the join screen is a swipe. */
static void press(kiosk *k, int down, int x, int y)
{
	if (down) {
		k->pressing = 1;
		k->press_x = x, k->press_y = y;
		k->press_ms = clock_mono_ms();
		return;
	}
	int dx = x - k->press_x, dy = y - k->press_y;
	if (k->pressing && k->screen == SCREEN_JOIN && !k->show_qr && SDL_abs(dx) >= k->w / 8 &&
	    SDL_abs(dx) > 2 * SDL_abs(dy)) {
		k->last_input_ms = clock_mono_ms();
		kiosk_join_step(k, dx < 0 ? 1 : -1);
	}
	k->pressing = 0;
}

void kiosk_event(kiosk *k, const SDL_Event *ev)
{
	if (k->show_qr && ev->type != SDL_QUIT && ev->type != SDL_WINDOWEVENT)
		return; /* a display: nothing a passer-by does changes it */
	switch (ev->type) {
	case SDL_QUIT:
		k->running = 0;
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_CLOSE) {
			/* a windowed kiosk (development) closes; a fullscreen one stays */
			log_event(k->windowed ? "quit" : "quit.ignored", json_pack("{s:s}", "by", "window close"));
			if (k->windowed)
				k->running = 0;
		} else if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
			on_resize(k);
		else /* exposed, shown, fullscreen granted: draw again (cheap, and rare) */
			k->dirty = 1;
		break;
	case SDL_TEXTINPUT:
		/* One key, or an input method's whole commit: the wedge tells them apart. */
		wedge_text(&k->scanner, ev->text.text, event_ms(ev->text.timestamp));
		break;
	case SDL_KEYDOWN:
		switch (ev->key.keysym.sym) {
		case SDLK_RETURN:
		case SDLK_KP_ENTER:
			wedge_enter(&k->scanner, event_ms(ev->key.timestamp));
			break;
		case SDLK_BACKSPACE:
			wedge_other(&k->scanner, event_ms(ev->key.timestamp));
			screen_action(k, ACT_BACKSPACE, 0);
			break;
		case SDLK_ESCAPE:
			wedge_other(&k->scanner, event_ms(ev->key.timestamp));
			if (k->screen != SCREEN_HOME)
				kiosk_show(k, SCREEN_HOME);
			break;
		default:
			break;
		}
		break;
	case SDL_FINGERDOWN:
	case SDL_FINGERUP: {
		int x = (int)(ev->tfinger.x * (float)k->w), y = (int)(ev->tfinger.y * (float)k->h);
		press(k, ev->type == SDL_FINGERDOWN, x, y);
		if (ev->type == SDL_FINGERDOWN)
			kiosk_tap(k, x, y);
		break;
	}
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		if (ev->button.which != SDL_TOUCH_MOUSEID && ev->button.button == SDL_BUTTON_LEFT) {
			press(k, ev->type == SDL_MOUSEBUTTONDOWN, ev->button.x, ev->button.y);
			if (ev->type == SDL_MOUSEBUTTONDOWN)
				kiosk_tap(k, ev->button.x, ev->button.y);
		}
		break;
	default:
		break;
	}
}

static int64_t screen_deadline(const kiosk *k)
{
	if (k->show_qr)
		return -1;
	if (kiosk_is_result(k->screen))
		return k->screen_since_ms + k->result_timeout_ms;
	if (kiosk_is_staff(k->screen))
		return k->last_input_ms + STAFF_IDLE_MS;
	if (k->screen != SCREEN_HOME)
		return k->last_input_ms + k->input_timeout_ms;
	return -1;
}

/* A press held in the top-left corner of the home screen: the way to staff mode. */
static int corner_held(const kiosk *k)
{
	int c = (k->w < k->h ? k->w : k->h) / 8;
	return k->pressing && k->screen == SCREEN_HOME && !k->show_qr && k->press_x < c && k->press_y < c;
}

int kiosk_next_timeout(kiosk *k)
{
	int64_t now = clock_mono_ms(), best = -1;
	uint64_t w = wedge_deadline(&k->scanner);
	if (w) {
		int64_t d = (int64_t)w - (int64_t)SDL_GetTicks64();
		best = d < 0 ? 0 : d;
	}
	int64_t s = screen_deadline(k);
	if (s >= 0 && (best < 0 || s - now < best))
		best = s - now < 0 ? 0 : s - now;
	if (k->screen == SCREEN_HOME) {
		int64_t to_minute = 60000 - clock_wall_ms() % 60000 + 5;
		if (best < 0 || to_minute < best)
			best = to_minute;
	}
	if (k->screen == SCREEN_JOIN) {
		/* the next turn of the links, or a look for new or expired ones */
		int64_t d = k->join_rotated_ms + JOIN_ROTATE_MS - now;
		int64_t r = k->links_loaded_ms + JOIN_RELOAD_MS - now;
		if (r < d)
			d = r;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	if (corner_held(k)) {
		int64_t d = k->press_ms + STAFF_HOLD_MS - now;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	int tone = sound_busy_ms();
	if (tone >= 0 && (best < 0 || tone < best))
		best = tone;
	if (k->loader && (best < 0 || best > 20))
		best = 20; /* look for the finished roster soon */
	return (int)best;
}

void kiosk_tick(kiosk *k)
{
	wedge_tick(&k->scanner, SDL_GetTicks64());
	kiosk_roster_collect(k, 0);
	/* members imported by another process: rebuilt in the background while idle */
	if (k->screen == SCREEN_HOME && clock_mono_ms() - k->roster_checked_ms >= ROSTER_CHECK_MS) {
		k->roster_checked_ms = clock_mono_ms();
		if (kiosk_roster_stale(k))
			kiosk_roster_start(k);
	}
	int64_t s = screen_deadline(k);
	if (s >= 0 && clock_mono_ms() >= s) {
		if (kiosk_is_staff(k->screen))
			kiosk_staff_leave(k, "idle");
		kiosk_show(k, SCREEN_HOME);
	}
	if (corner_held(k) && clock_mono_ms() >= k->press_ms + STAFF_HOLD_MS) {
		k->pressing = 0;
		k->staff_msg[0] = '\0';
		log_event("staff.gesture", NULL);
		kiosk_show(k, SCREEN_STAFF_PIN);
	}
	if (k->screen == SCREEN_JOIN) {
		int64_t now = clock_mono_ms();
		if (now - k->links_loaded_ms >= JOIN_RELOAD_MS) {
			kiosk_links_refresh(k, 1);
			kiosk_refresh_event(k);
			k->dirty = 1;
		}
		if (now - k->join_rotated_ms >= JOIN_ROTATE_MS)
			kiosk_join_step(k, 1);
	}
	if (k->sync && k->screen == SCREEN_HOME) {
		sync_status now;
		sync_worker_status(k->sync, &now);
		if (now.enrolled != k->sync_seen.enrolled || now.online != k->sync_seen.online ||
		    now.auth_failed != k->sync_seen.auth_failed || now.waiting != k->sync_seen.waiting)
			k->dirty = 1;
		if (now.pulled != k->sync_seen.pulled) {
			/* members, events or links came down from the hub */
			log_event("sync.pulled", json_pack("{s:I}", "items", (json_int_t)(now.pulled - k->sync_seen.pulled)));
			kiosk_reload_roster(k);
			kiosk_links_refresh(k, 1);
			kiosk_refresh_event(k);
			k->dirty = 1;
		}
		if (now.rounds != k->sync_seen.rounds &&
		    (now.online != k->sync_seen.online || now.auth_failed))
			log_event("sync.status",
				  json_pack("{s:b,s:b,s:I,s:I,s:s}", "online", now.online, "auth_failed",
					    now.auth_failed, "waiting", (json_int_t)now.waiting, "dead",
					    (json_int_t)now.dead, "error", now.error));
		k->sync_seen = now;
	}
	int minute = (int)(clock_wall_ms() / 60000);
	if (k->screen == SCREEN_HOME && minute != k->last_minute) {
		k->last_minute = minute;
		kiosk_refresh_event(k);
		k->dirty = 1;
	}
}

/* ---- open, run, close ---- */

/* text as a whole number from lo to hi, or -1 (NULL, not a number, out of range). */
static long whole_number(const char *text, long lo, long hi)
{
	char *end;
	if (!text || !text[0])
		return -1;
	errno = 0;
	long n = strtol(text, &end, 10);
	return errno || *end || n < lo || n > hi ? -1 : n;
}

/* From the sync worker's thread: wake the loop to look at the new status. */
static void sync_changed(void *ctx)
{
	(void)ctx;
	SDL_Event ev = {.type = SDL_USEREVENT};
	SDL_PushEvent(&ev);
}

int kiosk_open(kiosk *k, const kiosk_config *cfg)
{
	char err[512];
	memset(k, 0, sizeof *k);
	k->db_path = cfg->db_path;
	k->result_timeout_ms = cfg->result_timeout_ms > 0 ? cfg->result_timeout_ms : KIOSK_DEFAULT_RESULT_MS;
	k->input_timeout_ms = cfg->input_timeout_ms > 0 ? cfg->input_timeout_ms : KIOSK_DEFAULT_INPUT_MS;
	k->sounds = 1;
	store_err se =
	    store_open(cfg->db_path, STORE_OPEN_CREATE | STORE_OPEN_READONLY_OK, &k->db, err, sizeof err);
	if (se != STORE_OK) {
		fprintf(stderr, "tingzi: %s\n", err);
		log_event("store.open_failed", json_pack("{s:s,s:s}", "db", cfg->db_path, "error", err));
		return -1;
	}
	if (store_is_readonly(k->db))
		log_event("store.readonly", json_pack("{s:s}", "db", cfg->db_path));
	store_link only;
	if (cfg->show_qr_link && store_link_get(k->db, cfg->show_qr_link, &only) != STORE_OK) {
		fprintf(stderr, "tingzi: there is no link %lld ('tingzi links list' shows them)\n",
			(long long)cfg->show_qr_link);
		goto fail;
	}
	if (store_setting_get(k->db, "venue_name", k->venue, sizeof k->venue) != STORE_OK)
		snprintf(k->venue, sizeof k->venue, "tingzi");
	i18n_lang lang = LANG_ZH_HANS;
	char saved[16];
	if (cfg->lang)
		i18n_parse(cfg->lang, &lang);
	else if (store_setting_get(k->db, "language", saved, sizeof saved) == STORE_OK)
		i18n_parse(saved, &lang);
	i18n_init();
	i18n_set(lang);

	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
	/* Lockdown: closing the window (Alt+F4, the window manager) is not quitting;
	 * SDL_QUIT then comes only from SIGTERM/SIGINT (the service stopping). In
	 * fullscreen the keyboard is grabbed, so the window manager's shortcuts
	 * (Alt+Tab) do not reach it. */
	SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
	if (!cfg->windowed)
		SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
	k->windowed = cfg->windowed;
	/* for end-to-end tests: a lock of a few seconds instead of five minutes */
	long lock_s = whole_number(getenv("TINGZI_STAFF_LOCK_S"), 1, 3600);
	if (lock_s > 0)
		k->guard.lock_ms = (int64_t)lock_s * 1000;
	SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
	if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
		fprintf(stderr, "tingzi: cannot open the display: %s\n", SDL_GetError());
		goto fail;
	}
	int w = cfg->width > 0 ? cfg->width : 1280, h = cfg->height > 0 ? cfg->height : 800;
	int x = SDL_WINDOWPOS_CENTERED, y = SDL_WINDOWPOS_CENTERED;
	Uint32 flags = SDL_WINDOW_SHOWN;
	SDL_DisplayMode mode;
	if (!cfg->windowed) {
		/* Cover the display exactly, so it is right even with no window
		 * manager to honour the fullscreen request (a bare X server, cage). */
		flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
		if (SDL_GetDesktopDisplayMode(0, &mode) == 0)
			x = 0, y = 0, w = mode.w, h = mode.h;
	}
	/* Under Wayland (cage), OpenGL ES 2 first: desktop GL through EGL on
	 * mesa's software rasteriser presents nothing there, and ES 2 is what a
	 * Raspberry Pi's GPU does best (SDL_RENDER_DRIVER still overrides it).
	 * The window is made for GL from the start, so SDL does not recreate it
	 * under the compositor's feet. */
	const char *video = SDL_GetCurrentVideoDriver();
	if (video && strcmp(video, "wayland") == 0) {
		SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "opengles2", SDL_HINT_DEFAULT);
		SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
		SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 2);
		SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
		flags |= SDL_WINDOW_OPENGL;
	}
	k->win = SDL_CreateWindow("tingzi", x, y, w, h, flags);
	if (!k->win) {
		fprintf(stderr, "tingzi: cannot create the window: %s\n", SDL_GetError());
		goto fail;
	}
	k->ren = SDL_CreateRenderer(k->win, -1, SDL_RENDERER_ACCELERATED);
	if (!k->ren)
		k->ren = SDL_CreateRenderer(k->win, -1, SDL_RENDERER_SOFTWARE);
	if (!k->ren) {
		fprintf(stderr, "tingzi: cannot draw in the window: %s\n", SDL_GetError());
		goto fail;
	}
	SDL_SetRenderDrawBlendMode(k->ren, SDL_BLENDMODE_BLEND);
	on_resize(k);
	k->text = ui_text_new(k->ren, err, sizeof err);
	if (!k->text) {
		fprintf(stderr, "tingzi: %s\n", err);
		log_event("font.missing", json_pack("{s:s}", "error", err));
		goto fail;
	}
	if (ui_text_cjk_missing(k->text))
		log_event("font.cjk_missing", json_pack("{s:s}", "using", ui_text_primary_file(k->text)));
	ui_text_set_script(k->text, lang == LANG_ZH_HANT ? UI_SCRIPT_HANT : UI_SCRIPT_HANS);
	k->qr = qr_cache_new(k->ren);
	if (!k->qr) {
		fprintf(stderr, "tingzi: out of memory\n");
		goto fail;
	}
	char ref[8];
	/* staff settings (staff.c): the idle timeout of input screens and the tones */
	char setting[16];
	long idle_s;
	if (cfg->input_timeout_ms <= 0 && store_setting_get(k->db, "input_timeout_s", setting, sizeof setting) == STORE_OK &&
	    (idle_s = whole_number(setting, 10, 600)) > 0)
		k->input_timeout_ms = (int)idle_s * 1000;
	if (store_setting_get(k->db, "sounds", setting, sizeof setting) == STORE_OK && strcmp(setting, "0") == 0)
		k->sounds = 0;
	sound_set_enabled(k->sounds);
	k->referral_qr =
	    store_setting_get(k->db, "referral_qr", ref, sizeof ref) == STORE_OK && strcmp(ref, "1") == 0;
	k->show_qr = cfg->show_qr;
	k->show_qr_link = cfg->show_qr_link;
	wedge_init(&k->scanner, NULL,
		   &(wedge_sink){
		       .typed = on_typed, .enter = on_enter, .scan = on_scan, .reject = on_reject, .ctx = k});
	sound_open();
	SDL_StartTextInput();
	if (!cfg->windowed)
		SDL_ShowCursor(SDL_DISABLE);
	const char *ll = getenv("TINGZI_LOG_LAYOUT");
	k->log_layout = ll && strcmp(ll, "1") == 0;
	k->running = 1;
	k->last_minute = (int)(clock_wall_ms() / 60000);
	kiosk_refresh_event(k);
	kiosk_links_refresh(k, 1);
	if (!k->show_qr && !store_is_readonly(k->db) && !getenv("TINGZI_NO_SYNC"))
		k->sync = sync_worker_start(cfg->db_path, sync_changed, NULL);
	kiosk_show(k, k->show_qr ? SCREEN_JOIN : SCREEN_HOME);
	SDL_RendererInfo rinfo = { .name = "?" };
	SDL_GetRendererInfo(k->ren, &rinfo);
	log_event("kiosk.started",
		  json_pack("{s:s,s:i,s:i,s:s,s:s,s:s,s:s}", "db", cfg->db_path, "width", k->w, "height", k->h,
			    "lang", i18n_tag(lang), "font", ui_text_primary_file(k->text), "video",
			    video ? video : "?", "renderer", rinfo.name));
	return 0;
fail:
	kiosk_close(k);
	return -1;
}

void kiosk_close(kiosk *k)
{
	sync_worker_stop(k->sync);
	k->sync = NULL;
	if (k->loader)
		SDL_WaitThread(k->loader, NULL);
	k->loader = NULL;
	roster_free(k->loaded);
	roster_free(k->members);
	sound_close();
	qr_cache_free(k->qr);
	ui_text_free(k->text);
	if (k->ren)
		SDL_DestroyRenderer(k->ren);
	if (k->win)
		SDL_DestroyWindow(k->win);
	store_close(k->db);
	memset(k, 0, sizeof *k);
	SDL_Quit();
}

int kiosk_run(const kiosk_config *cfg)
{
	static kiosk k; /* large (buttons, results); one per process */
	if (kiosk_open(&k, cfg) != 0)
		return 1;
	notify_init();
	int first = 1;
	while (k.running) {
		if (kiosk_frame(&k) && first) {
			first = 0;
			log_event("kiosk.first_frame", NULL);
			notify_send("READY=1"); /* systemd: the kiosk is on screen */
			/* Only now build the member index, so it does not compete with
			 * the first frame for the CPU. */
			kiosk_roster_start(&k);
		}
		SDL_Event ev;
		int timeout = kiosk_next_timeout(&k);
		/* the systemd watchdog: a loop that stops turning stops pinging */
		int64_t due = notify_watchdog_due_ms(clock_mono_ms());
		if (due >= 0 && (timeout < 0 || due < timeout))
			timeout = (int)due;
		int got = timeout < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout);
		while (got) {
			kiosk_event(&k, &ev);
			got = SDL_PollEvent(&ev);
		}
		kiosk_tick(&k);
		notify_watchdog(clock_mono_ms());
	}
	notify_send("STOPPING=1");
	log_event("kiosk.stopped", NULL);
	kiosk_close(&k);
	return 0;
}
