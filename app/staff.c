/*
 * staff — see staff.h.
 */
#include "app/staff.h"
#include <stdio.h>
#include <stdlib.h>
#include "sync/clock.h"

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

/* ---- the actions of staff mode ---- */

store_err staff_audit(store *s, const char *session, const char *what, json_t *detail)
{
	store_err err = STORE_OK;
	char *text = NULL;
	if (!session[0])
		goto out;
	text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	err = store_audit(s, session, what, text ? text : "{}", clock_wall_ms());
	if (err != STORE_OK)
		log_event("staff.audit_failed", json_pack("{s:s,s:s}", "action", what, "error", store_errmsg(s)));
out:
	free(text);
	json_decref(detail);
	return err;
}

store_err staff_undo(store *s, const char *session, const char *checkin_id, int64_t member_id)
{
	char rev[STORE_ID_MAX];
	store_err err = store_checkin_reverse(s, checkin_id, "undone by staff", session, clock_wall_ms(), rev);
	if (err == STORE_OK)
		log_event("checkin.reversed", json_pack("{s:s,s:s,s:I}", "checkin", checkin_id, "reversal", rev,
							 "member", (json_int_t)member_id));
	else
		log_event("checkin.reverse_failed",
			  json_pack("{s:s,s:s}", "checkin", checkin_id, "error", store_errmsg(s)));
	return err;
}

store_err staff_setting(store *s, const char *session, const char *key, const char *value, const char *what,
			json_t *detail)
{
	store_err err = store_setting_set(s, key, value);
	if (err != STORE_OK) {
		log_event("staff.setting_failed", json_pack("{s:s,s:s}", "setting", key, "error", store_errmsg(s)));
		json_decref(detail);
		return err;
	}
	return staff_audit(s, session, what, detail);
}

store_err staff_choose_event(store *s, const char *session, int64_t event_id)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)event_id);
	return staff_setting(s, session, "current_event", v, "event.choose",
			     json_pack("{s:I}", "event", (json_int_t)event_id));
}

store_err staff_start_event(store *s, const char *session, const char *title, int64_t now_ms, int hours,
			    int64_t *id)
{
	char v[24];
	store_err err = store_event_add(s, title, now_ms, now_ms + (int64_t)hours * 3600000, id);
	if (err != STORE_OK) {
		log_event("event.start_failed", json_pack("{s:s}", "error", store_errmsg(s)));
		return err;
	}
	snprintf(v, sizeof v, "%lld", (long long)*id);
	err = staff_setting(s, session, "current_event", v, "event.start",
			    json_pack("{s:I,s:i}", "event", (json_int_t)*id, "hours", hours));
	if (err == STORE_OK)
		log_event("event.started", json_pack("{s:I,s:i}", "event", (json_int_t)*id, "hours", hours));
	return err;
}
