/*
 * staff — the staff PIN and the lock that guards it.
 *
 * The PIN (4 to 12 digits) is kept only as a libsodium crypto_pwhash string
 * (Argon2id) in the setting "staff_pin"; it is never logged, never stored as
 * typed, never passed on a command line. Five wrong PINs in a row lock staff
 * mode for five minutes; the clock is the caller's, so tests can move it.
 *
 * The hash is sized for a kiosk (16 MiB, 3 passes, about 50 ms on a small
 * board): it keeps a PIN from being read off a stolen disk at a glance, while
 * the lock is what stops guessing at the screen. A 4-digit PIN cannot resist
 * an offline search of a copied database; choose 6 or more digits.
 */
#ifndef TINGZI_STAFF_H
#define TINGZI_STAFF_H

#include "app/store/store.h"

#include <jansson.h>

#include <stdint.h>

#define STAFF_PIN_MIN      4
#define STAFF_PIN_MAX      12
#define STAFF_MAX_FAILURES 5
#define STAFF_LOCK_MS      (5 * 60 * 1000)
#define STAFF_IDLE_MS      (60 * 1000) /* staff mode ends after this without a touch */

/* 1 when pin is 4 to 12 ASCII digits. */
int staff_pin_valid(const char *pin);
/* Hash and save the PIN. STORE_ERR_INVALID for a PIN that is not valid. */
store_err staff_pin_set(store *s, const char *pin);
/* 1 when a PIN has been set. */
int staff_pin_is_set(store *s);

typedef enum staff_result {
	STAFF_OK = 0,   /* the PIN is right: staff mode opens */
	STAFF_WRONG,    /* wrong; *left tries before the lock */
	STAFF_LOCKED,   /* locked; *left seconds to wait */
	STAFF_NO_PIN,   /* none set yet: set one with `tingzi staff set-pin` */
	STAFF_ERROR,    /* the database could not be read */
} staff_result;

typedef struct staff_guard {
	int failures;
	int64_t locked_until_ms; /* monotonic or wall, as long as the caller keeps to one */
	int64_t lock_ms;         /* how long a lock lasts; 0: STAFF_LOCK_MS */
} staff_guard;

/* Try a PIN at now_ms. Logs staff.pin_wrong, staff.locked and staff.unlocked (never the PIN). */
staff_result staff_try(staff_guard *g, store *s, const char *pin, int64_t now_ms, int *left);
 
/*
 * The actions of staff mode, each saved and audited under the staff
 * session's id (a 32-hex id; "" outside staff mode, when nothing is
 * audited). detail is taken (json_decref'd) whatever happens; NULL is {}.
 * Each returns STORE_OK, or the store_err of what could not be saved, and
 * logs what a person at the door would want to know afterwards.
 */
store_err staff_audit(store *s, const char *session, const char *what, json_t *detail);
/* Undo a check-in: the reversal (reason "undone by staff") and checkin.reversed. */
store_err staff_undo(store *s, const char *session, const char *checkin_id, int64_t member_id);
/* A setting changed on the settings screen, audited as what with detail. */
store_err staff_setting(store *s, const char *session, const char *key, const char *value, const char *what,
			json_t *detail);
/* The current event chosen (0: by the clock). */
store_err staff_choose_event(store *s, const char *session, int64_t event_id);
/* An event titled title from now_ms for hours, made current; its id in *id. */
store_err staff_start_event(store *s, const char *session, const char *title, int64_t now_ms, int hours,
			    int64_t *id);

#endif
