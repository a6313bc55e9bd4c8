/*
 * staff — see staff.h.
 */
#include "app/staff.h"

#include "sync/log.h"

#include <sodium.h>
#include <string.h>

#define PIN_OPS 3
#define PIN_MEM (16u << 20)

int staff_pin_valid(const char *pin)
{
	size_t n = pin ? strlen(pin) : 0;
	return n >= STAFF_PIN_MIN && n <= STAFF_PIN_MAX && strspn(pin, "0123456789") == n;
}

store_err staff_pin_set(store *s, const char *pin)
{
	if (!staff_pin_valid(pin))
		return STORE_ERR_INVALID;
	char hash[crypto_pwhash_STRBYTES];
	if (sodium_init() < 0 || crypto_pwhash_str(hash, pin, strlen(pin), PIN_OPS, PIN_MEM) != 0)
		return STORE_ERR_INTERNAL;
	store_err err = store_setting_set(s, "staff_pin", hash);
	sodium_memzero(hash, sizeof hash);
	return err;
}

int staff_pin_is_set(store *s)
{
	char hash[crypto_pwhash_STRBYTES];
	return store_setting_get(s, "staff_pin", hash, sizeof hash) == STORE_OK && hash[0] == '$';
}

staff_result staff_try(staff_guard *g, store *s, const char *pin, int64_t now_ms, int *left)
{
	*left = 0;
	if (g->locked_until_ms && now_ms < g->locked_until_ms) {
		*left = (int)((g->locked_until_ms - now_ms + 999) / 1000);
		return STAFF_LOCKED;
	}
	if (g->locked_until_ms) { /* the lock has run out */
		g->locked_until_ms = 0;
		g->failures = 0;
		log_event("staff.unlocked", NULL);
	}
	char hash[crypto_pwhash_STRBYTES];
	store_err err = store_setting_get(s, "staff_pin", hash, sizeof hash);
	if (err == STORE_ERR_NOT_FOUND || (err == STORE_OK && hash[0] != '$'))
		return STAFF_NO_PIN;
	if (err != STORE_OK || sodium_init() < 0)
		return STAFF_ERROR;
	int ok = pin && staff_pin_valid(pin) && crypto_pwhash_str_verify(hash, pin, strlen(pin)) == 0;
	if (ok) {
		g->failures = 0;
		return STAFF_OK;
	}
	g->failures++;
	if (g->failures >= STAFF_MAX_FAILURES) {
		int64_t lock = g->lock_ms > 0 ? g->lock_ms : STAFF_LOCK_MS;
		g->locked_until_ms = now_ms + lock;
		*left = (int)((lock + 999) / 1000);
		log_event("staff.locked", json_pack("{s:i,s:i}", "failures", g->failures, "seconds", *left));
		return STAFF_LOCKED;
	}
	*left = STAFF_MAX_FAILURES - g->failures;
	log_event("staff.pin_wrong", json_pack("{s:i,s:i}", "failures", g->failures, "left", *left));
	return STAFF_WRONG;
}
