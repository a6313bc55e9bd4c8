/*
 * session — the kiosk's state (struct kiosk) and the functions that change
 * it; see session.c. Screens (app/screens/screen.h) and the loop
 * (app/kiosk.h) stand on it.
 */
#ifndef TINGZI_SESSION_H
#define TINGZI_SESSION_H

#include "app/i18n.h"
#include "app/input/wedge.h"
#include "app/pass_scan.h"
#include "sync/links.h"
#include "sync/roster/roster.h"
#include "app/staff.h"
#include "app/sync/client.h"
#include "app/store/store.h"
#include "app/ui/draw.h"
#include "app/ui/qr.h"
#include "app/ui/text.h"

#include <jansson.h>

#include <SDL.h>

typedef enum screen_id {
	SCREEN_HOME = 0,
	SCREEN_IDENTIFY,  /* choose: phone digits or name (scanning works anywhere) */
	SCREEN_KEYPAD,    /* last 4 digits of a phone */
	SCREEN_SEARCH,    /* name by pinyin on an on-screen keyboard */
	SCREEN_PICK,      /* several members share the phone digits */
	SCREEN_WELCOME,   /* checked in */
	SCREEN_ALREADY,   /* already checked in to this event */
	SCREEN_UNKNOWN,   /* code or phone not recognised */
	SCREEN_ERROR,     /* not saved, or a refused scan */
	SCREEN_PASS,      /* a signed pass refused: k->pass_verdict says why */
	SCREEN_REG_PHONE, /* walk-in: full phone */
	SCREEN_REG_NAME,  /* walk-in: name in Latin letters or pinyin */
	SCREEN_JOIN,      /* join QR codes of the community's groups */
	SCREEN_STAFF_PIN, /* the staff PIN on a keypad */
	SCREEN_STAFF_MENU,
	SCREEN_STAFF_LIST, /* today's check-ins, with undo */
	SCREEN_STAFF_EVENT,    /* choose the current event, or start one now */
	SCREEN_STAFF_SETTINGS,
	SCREEN_COUNT
} screen_id;

#define KIOSK_MAX_BUTTONS 64
#define KIOSK_MAX_RESULTS 8
#define KIOSK_INPUT_MAX   64
#define STAFF_ROWS        64 /* today's check-ins the staff list holds (newest first) */
#define STAFF_HOLD_MS     3000 /* hold the top-left corner this long for staff mode */

/* What a tap on a button does; arg carries a digit, a letter or a list row. */
typedef enum action {
	ACT_NONE = 0,
	ACT_HOME,
	ACT_CHECKIN, /* home: the big button */
	ACT_LANG,    /* arg: i18n_lang */
	ACT_BY_PHONE,
	ACT_BY_NAME,
	ACT_KEY, /* arg: character */
	ACT_BACKSPACE,
	ACT_OK,
	ACT_PICK, /* arg: row */
	ACT_REGISTER,
	ACT_DISMISS,   /* a result screen: tap anywhere */
	ACT_JOIN,      /* home: the join-our-group button */
	ACT_NEXT_LINK, /* join: arg +1 or -1 */
	ACT_STAFF_LIST,
	ACT_STAFF_UNDO, /* arg: row */
	ACT_STAFF_PAGE, /* arg +1 or -1 */
	ACT_STAFF_SYNC,
	ACT_STAFF_JOIN,
	ACT_STAFF_LEAVE,
	ACT_STAFF_QUIT,
	ACT_STAFF_BYHAND,   /* check a member in by name, method "staff" */
	ACT_STAFF_REFERRAL, /* settings: the referral QR on or off */
	ACT_STAFF_LANG,     /* settings: the next default language */
	ACT_STAFF_IDLE,     /* settings: the next idle timeout of input screens */
	ACT_STAFF_SOUNDS,   /* settings: tones on or off */
	ACT_STAFF_EVENTS,     /* the event screen */
	ACT_STAFF_EVENT_PICK, /* arg: row, or -1 for "by the clock" */
	ACT_STAFF_EVENT_NEW,  /* arg: hours */
	ACT_STAFF_SETTINGS,   /* the settings screen */
} action;

typedef struct button {
	SDL_Rect r;
	action act;
	int arg;
} button;

typedef struct result_info {
	store_member member;
	store_checkin checkin;
	char detail[160]; /* error detail for the log; not shown */
} result_info;

typedef struct kiosk kiosk;
struct kiosk {
	SDL_Window *win;
	SDL_Renderer *ren;
	ui_text *text;
	store *db;
	const char *db_path;
	roster *members;    /* NULL while loading */
	SDL_Thread *loader; /* builds the next roster */
	roster *loaded;     /* handed over by the loader */
	int loader_failed;
	SDL_atomic_t loader_done; /* set by the loader after loaded/loader_failed */
	int64_t loaded_gen;        /* the members' generation the loader read first */
	int64_t roster_gen;        /* the generation members was built from */
	int64_t roster_checked_ms; /* last look at the generation from home */
	wedge scanner;
	int w, h;
	screen_id screen;
	int64_t screen_since_ms; /* monotonic ms when the screen changed */
	int64_t last_input_ms;
	int result_timeout_ms, input_timeout_ms;
	int dirty;
	int running;
	char venue[STORE_TITLE_MAX];
	store_event event;           /* the current event, or id 0 for a drop-in */
	char input[KIOSK_INPUT_MAX]; /* digits or letters being typed */
	char reg_phone[STORE_PHONE_MAX];
	const roster_entry *results[KIOSK_MAX_RESULTS];
	size_t nresults;
	size_t nmatches; /* total matches, may exceed nresults */
	result_info result;
	pass_verdict pass_verdict; /* SCREEN_PASS: why the pass was refused */
	button buttons[KIOSK_MAX_BUTTONS];
	int nbuttons;
	int last_minute; /* to redraw the clock */
	int log_layout;  /* TINGZI_LOG_LAYOUT=1: log button places */
	/* join QR codes */
	qr_cache *qr;
	link_set links;          /* as loaded from the store */
	int64_t links_loaded_ms; /* monotonic */
	size_t join_index;       /* which applicable link the join screen shows */
	int64_t join_rotated_ms; /* monotonic, when join_index last moved */
	int64_t shown_link;      /* the link whose QR was last logged as shown */
	int show_qr;             /* display-only mode (tingzi show-qr) */
	int64_t show_qr_link;    /* show-qr --link ID, or 0 for every current link */
	int referral_qr;         /* setting referral_qr = 1 */
	int press_x, press_y;    /* where a press began, for swipes */
	int pressing;
	/* sync with tingzi-hub: a background worker with its own connection */
	sync_worker *sync;
	sync_status sync_seen; /* what the home screen shows */
	/* staff mode */
	int windowed;
	int64_t press_ms;              /* monotonic, when the press began */
	staff_guard guard;             /* wrong PINs and the lock */
	char staff_session[STORE_ID_MAX]; /* "" outside staff mode */
	char staff_msg[128];           /* under the PIN line: wrong, locked */
	store_checkin_row staff_rows[STAFF_ROWS];
	int staff_nrows, staff_page, staff_total; /* staff_page: the first row shown */
	int staff_fit;                            /* rows the last frame had room for */
	int staff_by_hand; /* the search screen checks in for staff */
	int sounds;        /* setting "sounds" (default on) */
	store_event staff_events[6]; /* events not ended, for the event screen */
	int staff_nevents;
};

/* Register a tappable area for the frame being drawn. */
void kiosk_button(kiosk *k, SDL_Rect r, action act, int arg);
/* Switch screens (resets the input line on input screens) and log it. */
void kiosk_show(kiosk *k, screen_id s);
/* The screen's name in the log. */
const char *kiosk_screen_name(screen_id s);
/* 1 for the screens of staff mode; 1 for the outcome screens of a check-in. */
int kiosk_is_staff(screen_id s);
int kiosk_is_result(screen_id s);
/* Where Back leads from s: the staff menu from the staff screens under it, else home. */
screen_id kiosk_back_of(screen_id s);
/* Check a member in by the same path as every input; shows the outcome. */
void kiosk_checkin(kiosk *k, int64_t member_id, const char *method);
/* A code from a scanner or card reader. */
void kiosk_scan(kiosk *k, const char *code);
/* Switch the language of every screen (not saved). */
void kiosk_set_lang(kiosk *k, i18n_lang lang);
/* Register a walk-in (name, and the phone in k->reg_phone) and check them in. */
void kiosk_register(kiosk *k, const char *name);
/* Look up the current event again (after staff chose or made one, and back home). */
void kiosk_refresh_event(kiosk *k);

/* ---- the roster ---- */
/* The roster, waiting for the loader if it is still building (NULL if it failed). */
roster *kiosk_roster(kiosk *k);
/* Rebuild the roster in the background (after a walk-in joined or a pull). */
void kiosk_reload_roster(kiosk *k);
/* Start building a roster on the loader thread (nothing if one is building). */
void kiosk_roster_start(kiosk *k);
/* Take the loader's roster if it has finished (or wait for it when wait). */
void kiosk_roster_collect(kiosk *k, int wait);
/* 1 when the members changed since the roster was built (here or by another process). */
int kiosk_roster_stale(kiosk *k);

/* ---- staff mode ---- */
/* Leave staff mode (audited with why); nothing outside it. */
void kiosk_staff_leave(kiosk *k, const char *why);
/* Read today's check-ins for the staff list. */
void kiosk_staff_load(kiosk *k);
/* Read the events not ended yet, soonest first, for the event screen. */
void kiosk_staff_events(kiosk *k);
/* Audit a staff action under the session (no-op outside staff mode). */
void kiosk_staff_audit(kiosk *k, const char *what, json_t *detail);

/* ---- join links ---- */
#define JOIN_ROTATE_MS 10000 /* several links take turns this long each */
#define JOIN_RELOAD_MS 30000 /* links are read again (expiry, new links) */
/* Read the links again if they are older than JOIN_RELOAD_MS (or force). */
void kiosk_links_refresh(kiosk *k, int force);
/* The links that apply now to the current event, best first (see links_applicable). */
size_t kiosk_links_now(kiosk *k, const store_link **out, size_t max);
/* Move the join screen to the next (+1) or previous (-1) link. */
void kiosk_join_step(kiosk *k, int dir);

#endif
