/*
 * checkin — see checkin.h. The outcome comes only from what the commit
 * returned, so no caller can show or print a check-in that was not saved.
 */
#include "app/checkin.h"

#include "sync/roster/roster.h"

#include "sync/log.h"
#include "sync/clock.h"

#include <string.h>

const char *checkin_outcome_name(checkin_outcome o)
{
	static const char *const names[] = {"recorded", "already", "unknown", "ambiguous", "failed"};
	return o <= CHECKIN_FAILED ? names[o] : "?";
}

void checkin_member(store *db, int64_t member_id, const char *method, checkin_result *out)
{
	checkin_member_welcome(db, member_id, method, NULL, out);
}

void checkin_member_welcome(store *db, int64_t member_id, const char *method, const link_set *links,
			    checkin_result *out)
{
	int64_t now = clock_wall_ms();
	const store_link *apply[LINKS_MAX];
	size_t join_links = 0;
	char today[STORE_DATE_MAX];
	store_checkin_status st = STORE_CHECKIN_RECORDED;
	memset(out, 0, sizeof *out);
	clock_local_date(now, today, sizeof today);
	/* No event running is a drop-in visit; an event that cannot be read is a
	 * failure (never a check-in saved without its event). */
	store_err err = store_event_current(db, now, &out->event);
	if (err == STORE_ERR_NOT_FOUND) {
		memset(&out->event, 0, sizeof out->event);
		err = STORE_OK;
	}
	if (err == STORE_OK)
		err = store_member_get(db, member_id, &out->member);
	/* the links the welcome will draw from, for this event, now */
	if (err == STORE_OK && links)
		join_links = links_applicable(links, out->event.id, now, apply, LINKS_MAX);
	if (err == STORE_OK)
		err = store_checkin_record_links(db, member_id, out->event.id ? &out->event : NULL, method,
						 now, today, join_links, &st, &out->checkin);
	out->err = err;
	if (err != STORE_OK) {
		out->outcome = CHECKIN_FAILED;
		log_event("checkin.failed",
			  json_pack("{s:I,s:s,s:s,s:s}", "member", (json_int_t)member_id, "method", method,
				    "error", store_strerror(err), "detail", store_errmsg(db)));
		return;
	}
	if (st == STORE_CHECKIN_ALREADY) {
		char at[8];
		out->outcome = CHECKIN_ALREADY;
		clock_local_hhmm(out->checkin.wall_ms, at, sizeof at);
		log_event("checkin.already",
			  json_pack("{s:I,s:s,s:I,s:s,s:s}", "member", (json_int_t)member_id, "method",
				    method, "event_id", (json_int_t)out->event.id, "first_id",
				    out->checkin.id, "first_at", at));
		return;
	}
	out->outcome = CHECKIN_RECORDED;
	log_event("checkin.recorded",
		  json_pack("{s:s,s:I,s:s,s:I,s:i,s:b,s:b}", "id", out->checkin.id, "member",
			    (json_int_t)member_id, "method", method, "event_id", (json_int_t)out->event.id,
			    "visit", out->checkin.visit_no, "expired", out->checkin.expired, "join_qr",
			    out->checkin.join_qr));
}

store_err checkin_register(store *db, const char *name, const char *phone, store_member *m, int *existing)
{
	char masked[32];
	store_err err = store_member_register(db, name, phone, clock_wall_ms(), m);
	roster_mask_phone(phone, masked, sizeof masked);
	*existing = err == STORE_ERR_EXISTS;
	if (err != STORE_OK && err != STORE_ERR_EXISTS) {
		log_event("register.failed",
			  json_pack("{s:s,s:s}", "error", store_strerror(err), "detail", store_errmsg(db)));
		return err;
	}
	log_event(*existing ? "register.existing" : "register.recorded",
		  json_pack("{s:I,s:s}", "member", (json_int_t)m->id, "phone", masked));
	return STORE_OK;
}
