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

#endif
