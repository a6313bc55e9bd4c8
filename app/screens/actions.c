/*
 * actions — what a tap, a typed key or Enter does on each screen. Every path
 * that identifies a member ends in kiosk_checkin().
 */
#include "sync/log.h"
#include "app/screens/common.h"
#include "sync/clock.h"
#include "sync/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define KEYPAD_MAX_DIGITS 11
#define NAME_MAX_CHARS    40

static void append(kiosk *k, char c, size_t max)
{
	size_t n = strlen(k->input);
	if (n < max && n + 1 < sizeof k->input) {
		k->input[n] = c;
		k->input[n + 1] = '\0';
	}
}

static void search_update(kiosk *k)
{
	roster *r = kiosk_roster(k);
	k->nresults = r && k->input[0] ? roster_search_name(r, k->input, k->results, KIOSK_MAX_RESULTS) : 0;
}

static void phone_lookup(kiosk *k)
{
	roster *r = kiosk_roster(k);
	k->nmatches = r ? roster_find_phone(r, k->input, k->results, KIOSK_MAX_RESULTS) : 0;
	k->nresults = k->nmatches < KIOSK_MAX_RESULTS ? k->nmatches : KIOSK_MAX_RESULTS;
	if (k->nmatches == 0) {
		log_event("checkin.unknown",
			  json_pack("{s:s,s:i}", "method", "phone", "digits", (int)strlen(k->input)));
		memset(&k->result, 0, sizeof k->result);
		kiosk_show(k, SCREEN_UNKNOWN);
	} else if (k->nmatches == 1) {
		kiosk_checkin(k, k->results[0]->id, "phone");
	} else if (k->nmatches <= KIOSK_MAX_RESULTS) {
		log_event("checkin.ambiguous",
			  json_pack("{s:s,s:I}", "method", "phone", "matches", (json_int_t)k->nmatches));
		kiosk_show(k, SCREEN_PICK);
	} else {
		k->dirty = 1; /* the keypad says: type more digits */
	}
}

/* "zhang  san " -> "Zhang San": words capitalised, spaces collapsed. */
static void tidy_name(const char *in, char *out, size_t len)
{
	size_t o = 0;
	int start = 1;
	for (; *in && o + 1 < len; in++) {
		if (*in == ' ') {
			start = 1;
			continue;
		}
		if (start && o > 0 && o + 2 < len)
			out[o++] = ' ';
		out[o++] = start ? (char)toupper((unsigned char)*in) : *in;
		start = 0;
	}
	out[o] = '\0';
}

static void register_walkin(kiosk *k)
{
	char name[STORE_NAME_MAX];
	tidy_name(k->input, name, sizeof name);
	kiosk_register(k, name);
}

/* A member found by name or phone: checked in, or, for staff, by hand. */
static void checkin_found(kiosk *k, int64_t member_id, const char *method)
{
	if (k->staff_by_hand && k->staff_session[0]) {
		kiosk_staff_audit(k, "checkin.by_hand", json_pack("{s:I}", "member", (json_int_t)member_id));
		k->staff_by_hand = 0;
		method = "staff";
	}
	kiosk_checkin(k, member_id, method);
}

static void on_ok(kiosk *k)
{
	switch (k->screen) {
	case SCREEN_KEYPAD:
		if (strlen(k->input) >= 4)
			phone_lookup(k);
		break;
	case SCREEN_REG_PHONE:
		if (screen_register_phone_ok(k->input)) {
			size_t n = strlen(k->input); /* at most REG_PHONE_DIGITS_MAX < STORE_PHONE_MAX */
			memcpy(k->reg_phone, k->input, n + 1);
			kiosk_show(k, SCREEN_REG_NAME);
		}
		break;
	case SCREEN_REG_NAME:
		if (strspn(k->input, " ") < strlen(k->input))
			register_walkin(k);
		break;
	case SCREEN_SEARCH:
		if (k->nresults == 1)
			checkin_found(k, k->results[0]->id, "name");
		break;
	case SCREEN_STAFF_PIN:
		if (strlen(k->input) >= STAFF_PIN_MIN)
			screen_staff_ok(k);
		break;
	default:
		break;
	}
}

static void on_key(kiosk *k, char c)
{
	switch (k->screen) {
	case SCREEN_KEYPAD:
		if (isdigit((unsigned char)c)) {
			append(k, c, KEYPAD_MAX_DIGITS);
			k->nmatches = 0;
		}
		break;
	case SCREEN_REG_PHONE:
		if (isdigit((unsigned char)c))
			append(k, c, REG_PHONE_DIGITS_MAX);
		break;
	case SCREEN_STAFF_PIN:
		if (isdigit((unsigned char)c))
			append(k, c, STAFF_PIN_MAX);
		break;
	case SCREEN_STAFF_LIST:
		if (isalpha((unsigned char)c)) {
			append(k, (char)tolower((unsigned char)c), NAME_MAX_CHARS);
			k->staff_page = 0;
			kiosk_staff_load(k);
		}
		break;
	case SCREEN_SEARCH:
		if (isalpha((unsigned char)c)) {
			append(k, (char)tolower((unsigned char)c), NAME_MAX_CHARS);
			search_update(k);
		}
		break;
	case SCREEN_REG_NAME:
		if (isalpha((unsigned char)c) || (c == ' ' && k->input[0]))
			append(k, (char)tolower((unsigned char)c), NAME_MAX_CHARS);
		break;
	case SCREEN_HOME:
	case SCREEN_IDENTIFY:
		/* A person typing on a real keyboard at home: digits mean a phone,
		 * letters a name. */
		if (isdigit((unsigned char)c) || isalpha((unsigned char)c)) {
			kiosk_show(k, isdigit((unsigned char)c) ? SCREEN_KEYPAD : SCREEN_SEARCH);
			on_key(k, c);
		}
		return;
	default:
		return;
	}
	k->dirty = 1;
}

void screen_action(kiosk *k, action act, int arg)
{
	k->last_input_ms = clock_mono_ms();
	switch (act) {
	case ACT_HOME:
		/* Back: from a staff screen to the staff menu; elsewhere home */
		kiosk_show(k, kiosk_back_of(k->screen));
		break;
	case ACT_DISMISS:
		kiosk_show(k, SCREEN_HOME);
		break;
	case ACT_STAFF_LIST:
	case ACT_STAFF_UNDO:
	case ACT_STAFF_PAGE:
	case ACT_STAFF_SYNC:
	case ACT_STAFF_JOIN:
	case ACT_STAFF_LEAVE:
	case ACT_STAFF_QUIT:
	case ACT_STAFF_BYHAND:
	case ACT_STAFF_REFERRAL:
	case ACT_STAFF_LANG:
	case ACT_STAFF_IDLE:
	case ACT_STAFF_SOUNDS:
	case ACT_STAFF_EVENTS:
	case ACT_STAFF_EVENT_PICK:
	case ACT_STAFF_EVENT_NEW:
	case ACT_STAFF_SETTINGS:
		if (k->staff_session[0])
			screen_staff_action(k, act, arg);
		break;
	case ACT_CHECKIN:
		kiosk_show(k, SCREEN_IDENTIFY);
		break;
	case ACT_LANG:
		kiosk_set_lang(k, (i18n_lang)arg);
		break;
	case ACT_BY_PHONE:
		kiosk_show(k, SCREEN_KEYPAD);
		break;
	case ACT_BY_NAME:
		kiosk_show(k, SCREEN_SEARCH);
		break;
	case ACT_KEY:
		on_key(k, (char)arg);
		break;
	case ACT_BACKSPACE: {
		size_t n = strlen(k->input), l = utf8_last_len(k->input);
		if (n == 0)
			break;
		k->input[n - l] = '\0';
		k->nmatches = 0;
		if (k->screen == SCREEN_SEARCH)
			search_update(k);
		if (k->screen == SCREEN_STAFF_LIST)
			kiosk_staff_load(k);
		k->dirty = 1;
		break;
	}
	case ACT_OK:
		on_ok(k);
		break;
	case ACT_PICK:
		if (arg >= 0 && (size_t)arg < k->nresults)
			checkin_found(k, k->results[arg]->id, k->screen == SCREEN_PICK ? "phone" : "name");
		break;
	case ACT_REGISTER:
		kiosk_show(k, SCREEN_REG_PHONE);
		break;
	case ACT_JOIN:
		kiosk_show(k, SCREEN_JOIN);
		break;
	case ACT_NEXT_LINK:
		kiosk_join_step(k, arg);
		break;
	case ACT_NONE:
		break;
	}
}

void screen_typed(kiosk *k, const char *text)
{
	k->last_input_ms = clock_mono_ms();
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x80)
			on_key(k, *p);
}

void screen_enter(kiosk *k)
{
	k->last_input_ms = clock_mono_ms();
	on_ok(k);
}
