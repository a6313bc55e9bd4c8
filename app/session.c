/*
 * session — the kiosk's state and what changes it: the screen shown, the
 * member being identified, the roster (built on a worker thread with its
 * own database connection, so the first frame does not wait for 100 000
 * members), staff mode and its audit, and the group links on show.
 *
 * It stands below the screens and the loop: screens (app/screens/) draw the
 * state and call these functions when tapped; the loop (kiosk.c) feeds them
 * events and time. Nothing here calls a screen or the loop.
 *
 * Every input that identifies a member ends in kiosk_checkin(), which is the
 * one path to the database (app/checkin.c): the outcome screen is chosen only
 * from what the commit returned, so the screen never shows a check-in that
 * was not saved. Actions of staff mode are made by app/staff.c, which audits
 * them under the session's id.
 */
#include "app/session.h"

#include "app/checkin.h"
#include "app/sound.h"
#include "app/staff.h"
#include "sync/clock.h"
#include "sync/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- screens and the roster ---- */

/*
 * Every screen, once: its name in the log and what kind it is. A new screen
 * is a line here, its enum entry and its draw function (screens/draw.c).
 */
enum {
	SC_STAFF = 1,	    /* staff mode: members' cards check nobody in here */
	SC_RESULT = 2,	    /* the outcome of a check-in: goes home after a while */
	SC_FRESH_INPUT = 4, /* the typed line and the results start empty */
	SC_UNDER_MENU = 8,  /* Back leads to the staff menu, not home */
};
static const struct {
	const char *name;
	unsigned kind;
} screens[SCREEN_COUNT] = {
    [SCREEN_HOME] = {"home", SC_FRESH_INPUT},
    [SCREEN_IDENTIFY] = {"identify", 0},
    [SCREEN_KEYPAD] = {"keypad", SC_FRESH_INPUT},
    [SCREEN_SEARCH] = {"search", SC_FRESH_INPUT},
    [SCREEN_PICK] = {"pick", 0},
    [SCREEN_WELCOME] = {"welcome", SC_RESULT},
    [SCREEN_ALREADY] = {"already", SC_RESULT},
    [SCREEN_UNKNOWN] = {"unknown", SC_RESULT},
    [SCREEN_ERROR] = {"error", SC_RESULT},
    [SCREEN_PASS] = {"pass_refused", SC_RESULT},
    [SCREEN_REG_PHONE] = {"register_phone", SC_FRESH_INPUT},
    [SCREEN_REG_NAME] = {"register_name", SC_FRESH_INPUT},
    [SCREEN_JOIN] = {"join", 0},
    [SCREEN_STAFF_PIN] = {"staff_pin", SC_STAFF | SC_FRESH_INPUT},
    [SCREEN_STAFF_MENU] = {"staff_menu", SC_STAFF | SC_FRESH_INPUT},
    [SCREEN_STAFF_LIST] = {"staff_list", SC_STAFF | SC_FRESH_INPUT | SC_UNDER_MENU},
    [SCREEN_STAFF_EVENT] = {"staff_event", SC_STAFF | SC_UNDER_MENU},
    [SCREEN_STAFF_SETTINGS] = {"staff_settings", SC_STAFF | SC_UNDER_MENU},
};

static unsigned kind_of(screen_id s)
{
	return (unsigned)s < SCREEN_COUNT ? screens[s].kind : 0;
}

int kiosk_is_staff(screen_id s)
{
	return (kind_of(s) & SC_STAFF) != 0;
}

int kiosk_is_result(screen_id s)
{
	return (kind_of(s) & SC_RESULT) != 0;
}

screen_id kiosk_back_of(screen_id s)
{
	return kind_of(s) & SC_UNDER_MENU ? SCREEN_STAFF_MENU : SCREEN_HOME;
}

static int add_member(const store_member *m, void *ctx)
{
	return roster_add(ctx, m->id, m->name, m->phone, m->code) != 0;
}

static int load_roster(void *arg)
{
	kiosk *k = arg;
	store *db = NULL;
	roster *r = roster_new();
	char err[256];
	if (!r || store_open(k->db_path, STORE_OPEN_READONLY_OK, &db, err, sizeof err) != STORE_OK)
		goto fail;
	/* the generation first: a change made while we read shows as a newer one */
	if (store_members_generation(db, &k->loaded_gen) != STORE_OK)
		k->loaded_gen = -1;
	if (store_members_foreach(db, add_member, r) != STORE_OK || roster_finish(r) != 0)
		goto fail;
	store_close(db);
	k->loaded = r;
	SDL_AtomicSet(&k->loader_done, 1); /* publishes loaded to the UI thread */
	return 0;
fail:
	store_close(db);
	roster_free(r);
	k->loader_failed = 1;
	SDL_AtomicSet(&k->loader_done, 1);
	return -1;
}

void kiosk_roster_start(kiosk *k)
{
	if (k->loader)
		return;
	k->loaded = NULL;
	k->loader_failed = 0;
	SDL_AtomicSet(&k->loader_done, 0);
	k->loader = SDL_CreateThread(load_roster, "roster", k);
	if (!k->loader)
		load_roster(k);
}

/* Take the loader's roster if it has finished (or wait when asked to). */
void kiosk_roster_collect(kiosk *k, int wait)
{
	if (k->loader) {
		if (!wait && !SDL_AtomicGet(&k->loader_done))
			return;
		SDL_WaitThread(k->loader, NULL);
		k->loader = NULL;
	}
	if (k->loaded) {
		roster_free(k->members);
		k->members = k->loaded;
		k->roster_gen = k->loaded_gen;
		k->loaded = NULL;
		log_event("roster.ready",
			  json_pack("{s:I}", "members", (json_int_t)roster_count(k->members)));
	} else if (k->loader_failed) {
		k->loader_failed = 0;
		log_event("roster.failed", json_pack("{s:s}", "db", k->db_path));
	}
}

void kiosk_reload_roster(kiosk *k)
{
	kiosk_roster_collect(k, 1);
	kiosk_roster_start(k);
}

/*
 * 1 when the members changed since the roster was built, by this kiosk or
 * by another process (`tingzi members import`, the sync worker's pull).
 */
int kiosk_roster_stale(kiosk *k)
{
	int64_t gen;
	if (!k->members || k->loader || store_members_generation(k->db, &gen) != STORE_OK ||
	    gen == k->roster_gen)
		return 0;
	log_event("roster.changed",
		  json_pack("{s:I,s:I}", "from", (json_int_t)k->roster_gen, "to", (json_int_t)gen));
	return 1;
}

roster *kiosk_roster(kiosk *k)
{
	if ((!k->members && !k->loader) || kiosk_roster_stale(k))
		kiosk_roster_start(k);
	kiosk_roster_collect(k, 1);
	return k->members;
}

void kiosk_button(kiosk *k, SDL_Rect r, action act, int arg)
{
	if (k->nbuttons < KIOSK_MAX_BUTTONS)
		k->buttons[k->nbuttons++] = (button){r, act, arg};
}

void kiosk_refresh_event(kiosk *k)
{
	int64_t now = clock_wall_ms();
	if (store_event_current(k->db, now, &k->event) != STORE_OK)
		memset(&k->event, 0, sizeof k->event);
}

void kiosk_show(kiosk *k, screen_id s)
{
	if (s != SCREEN_SEARCH)
		k->staff_by_hand = 0;
	if (k->staff_session[0] && !kiosk_is_staff(s) && !k->staff_by_hand)
		kiosk_staff_leave(k, "home");
	if (kind_of(s) & SC_FRESH_INPUT) {
		k->input[0] = '\0';
		k->nresults = k->nmatches = 0;
	}
	if (s == SCREEN_JOIN) {
		kiosk_links_refresh(k, 1);
		k->join_index = 0;
		k->join_rotated_ms = clock_mono_ms();
		k->shown_link = 0;
	}
	if (s == SCREEN_HOME) {
		kiosk_refresh_event(k);
		/* Back home the kiosk is idle: move the WAL into the database now
		 * rather than inside a later check-in's commit. */
		if (!store_is_readonly(k->db))
			store_checkpoint(k->db);
	}
	k->screen = s;
	if (s == SCREEN_STAFF_MENU)
		kiosk_staff_load(k); /* today's count */
	k->screen_since_ms = k->last_input_ms = clock_mono_ms();
	k->dirty = 1;
	log_event("screen", json_pack("{s:s}", "screen", screens[s].name));
}

void kiosk_set_lang(kiosk *k, i18n_lang lang)
{
	i18n_set(lang);
	ui_text_set_script(k->text, lang == LANG_ZH_HANT ? UI_SCRIPT_HANT : UI_SCRIPT_HANS);
	k->dirty = 1;
	log_event("lang", json_pack("{s:s}", "lang", i18n_tag(lang)));
}

void kiosk_checkin(kiosk *k, int64_t member_id, const char *method)
{
	checkin_result r;
	kiosk_links_refresh(k, 0); /* the links the welcome will draw from */
	checkin_member_welcome(k->db, member_id, method, &k->links, &r);
	memset(&k->result, 0, sizeof k->result);
	k->result.member = r.member;
	k->result.checkin = r.checkin;
	k->event = r.event;
	switch (r.outcome) {
	case CHECKIN_RECORDED:
		if (k->sync) /* on its way now, also while the worker waits out a failure */
			sync_worker_kick(k->sync);
		sound_play(SOUND_OK);
		kiosk_show(k, SCREEN_WELCOME);
		break;
	case CHECKIN_ALREADY:
		sound_play(SOUND_ERROR);
		kiosk_show(k, SCREEN_ALREADY);
		break;
	default:
		snprintf(k->result.detail, sizeof k->result.detail, "%s", store_strerror(r.err));
		sound_play(SOUND_ERROR);
		kiosk_show(k, SCREEN_ERROR);
		break;
	}
}

/*
 * A signed pass, checked offline (app/pass_scan.c). A valid pass of a member
 * the kiosk knows checks them in as their code would; of one it does not
 * know yet (signed up since the last pull), adds them first, from what the
 * pass says. Each refusal has its screen and its log event.
 */
static void kiosk_pass(kiosk *k, const char *text)
{
	pass_read pr;
	pass_verdict v = pass_scan_check(k->db, text, &pr);
	if (v != PASS_VALID) {
		json_t *d = json_pack("{s:s}", "reason", pass_verdict_name(v));
		if (v != PASS_FORGED && v != PASS_NO_VENUE) {
			json_object_set_new(d, "key", json_integer(pr.f.key_id));
			json_object_set_new(d, "number", json_integer(pr.f.number));
		}
		log_event("pass.refused", d);
		memset(&k->result, 0, sizeof k->result);
		k->pass_verdict = v;
		sound_play(SOUND_ERROR);
		kiosk_show(k, SCREEN_PASS);
		return;
	}
	char tier[STORE_TIER_MAX], expires[STORE_DATE_MAX];
	store_member m;
	int added = 0;
	pass_date_from_day(pr.f.expires_day, expires);
	store_err err = store_pass_tier(k->db, pr.f.tier, tier, sizeof tier);
	if (err == STORE_OK)
		err = store_pass_member(k->db, pr.f.code, pr.f.greeting[0] ? pr.f.greeting : pr.f.code, tier, expires,
					clock_wall_ms(), &m, &added);
	log_event("pass.valid", json_pack("{s:i,s:i,s:b}", "key", pr.f.key_id, "number", (int)pr.f.number,
					  "member_added", added));
	if (err != STORE_OK) {
		memset(&k->result, 0, sizeof k->result);
		snprintf(k->result.detail, sizeof k->result.detail, "%s", store_strerror(err));
		sound_play(SOUND_ERROR);
		kiosk_show(k, SCREEN_ERROR);
		return;
	}
	if (added)
		kiosk_reload_roster(k);
	kiosk_checkin(k, m.id, "scan");
}

void kiosk_scan(kiosk *k, const char *code)
{
	if (kiosk_is_staff(k->screen)) { /* a member's card at the staff screens checks nobody in */
		log_event("scan.ignored", json_pack("{s:s}", "screen", kiosk_screen_name(k->screen)));
		return;
	}
	if (pass_looks_like(code, strlen(code))) {
		kiosk_pass(k, code);
		return;
	}
	roster *r = kiosk_roster(k);
	const roster_entry *e = r ? roster_find_code(r, code) : NULL;
	if (!e) {
		log_event("checkin.unknown",
			  json_pack("{s:s,s:i}", "method", "scan", "length", (int)strlen(code)));
		sound_play(SOUND_ERROR);
		memset(&k->result, 0, sizeof k->result);
		kiosk_show(k, SCREEN_UNKNOWN);
		return;
	}
	kiosk_checkin(k, e->id, "scan");
}

const char *kiosk_screen_name(screen_id s)
{
	return (unsigned)s < SCREEN_COUNT ? screens[s].name : "?";
}

/* ---- staff mode ---- */

void kiosk_staff_audit(kiosk *k, const char *what, json_t *detail)
{
	staff_audit(k->db, k->staff_session, what, detail);
}

void kiosk_staff_leave(kiosk *k, const char *why)
{
	if (!k->staff_session[0])
		return;
	kiosk_staff_audit(k, "staff.leave", json_pack("{s:s}", "why", why));
	log_event("staff.leave", json_pack("{s:s}", "why", why));
	k->staff_session[0] = '\0';
}

/* Local midnight of today, as wall-clock ms. */
static int64_t today_start(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

typedef struct page {
	kiosk *k;
	int64_t ids[KIOSK_MAX_RESULTS]; /* the members a name search found */
	int nids, filter, total;
} page;

static int take_row(const store_checkin_row *r, void *ctx)
{
	page *p = ctx;
	kiosk *k = p->k;
	if (p->filter) {
		int found = 0;
		for (int i = 0; i < p->nids && !found; i++)
			found = p->ids[i] == r->c.member_id;
		if (!found)
			return 0;
	}
	if (k->staff_nrows < STAFF_ROWS)
		k->staff_rows[k->staff_nrows++] = *r;
	p->total++;
	return 0;
}

/* Today's check-ins, newest first; with letters typed, only the members
 * whose name (or its pinyin) they find. */
void kiosk_staff_load(kiosk *k)
{
	page p = {.k = k};
	if (k->screen == SCREEN_STAFF_LIST && k->input[0]) {
		const roster_entry *found[KIOSK_MAX_RESULTS];
		roster *r = kiosk_roster(k);
		size_t n = r ? roster_search_name(r, k->input, found, KIOSK_MAX_RESULTS) : 0;
		for (size_t i = 0; i < n; i++)
			p.ids[p.nids++] = found[i]->id;
		p.filter = 1;
	}
	k->staff_nrows = 0;
	if (store_checkins_since(k->db, today_start(), take_row, &p) != STORE_OK)
		log_event("staff.list_failed", json_pack("{s:s}", "error", store_errmsg(k->db)));
	k->staff_total = p.total;
	if (k->staff_page >= k->staff_nrows)
		k->staff_page = 0;
}

void kiosk_register(kiosk *k, const char *name)
{
	store_member m;
	int existing = 0;
	if (checkin_register(k->db, name, k->reg_phone, &m, &existing) != STORE_OK) {
		memset(&k->result, 0, sizeof k->result);
		kiosk_show(k, SCREEN_ERROR);
		return;
	}
	if (!existing)
		kiosk_reload_roster(k);
	kiosk_checkin(k, m.id, "walkin");
}

typedef struct evlist {
	kiosk *k;
	int64_t now;
} evlist;

static int take_event(const store_event *e, void *ctx)
{
	evlist *l = ctx;
	kiosk *k = l->k;
	if (e->end_ms > l->now && k->staff_nevents < (int)(sizeof k->staff_events / sizeof k->staff_events[0]))
		k->staff_events[k->staff_nevents++] = *e;
	return 0;
}

void kiosk_staff_events(kiosk *k)
{
	evlist l = {k, clock_wall_ms()};
	k->staff_nevents = 0;
	if (store_events_foreach(k->db, take_event, &l) != STORE_OK)
		log_event("staff.events_failed", json_pack("{s:s}", "error", store_errmsg(k->db)));
}

/* ---- group links on show ---- */

void kiosk_links_refresh(kiosk *k, int force)
{
	int64_t now = clock_mono_ms();
	if (!force && k->links_loaded_ms && now - k->links_loaded_ms < JOIN_RELOAD_MS)
		return;
	link_set *fresh = &k->links;
	store_err err = store_links_load(k->db, fresh);
	if (err != STORE_OK) {
		fresh->n = 0;
		log_event("links.load_failed", json_pack("{s:s,s:s}", "error", store_strerror(err), "detail",
							 store_errmsg(k->db)));
	}
	int64_t wall = clock_wall_ms();
	for (size_t i = 0; i < fresh->n; i++)
		if (links_state(&fresh->l[i], wall) == LINK_EXPIRING && !k->links_loaded_ms)
			log_event("link.expiring",
				  json_pack("{s:I,s:s,s:I}", "link", (json_int_t)fresh->l[i].id, "label",
					    fresh->l[i].label, "hours_left",
					    (json_int_t)((fresh->l[i].expires_ms - wall) / 3600000)));
	k->links_loaded_ms = now ? now : 1;
}

size_t kiosk_links_now(kiosk *k, const store_link **out, size_t max)
{
	kiosk_links_refresh(k, 0);
	size_t n = links_applicable(&k->links, k->event.id, clock_wall_ms(), out, max);
	if (k->show_qr_link) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			if (out[i]->id == k->show_qr_link)
				out[o++] = out[i];
		n = o;
	}
	return n;
}

void kiosk_join_step(kiosk *k, int dir)
{
	const store_link *l[LINKS_MAX];
	size_t n = kiosk_links_now(k, l, LINKS_MAX);
	if (n > 1)
		k->join_index = (k->join_index + n + (size_t)(dir < 0 ? n - 1 : 1)) % n;
	k->join_rotated_ms = clock_mono_ms();
	k->dirty = 1;
}

