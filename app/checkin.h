/*
 * checkin — the one path from "this member is here" to a saved check-in, used
 * by every screen and by `tingzi checkin`. It reads the event happening now,
 * commits the check-in and its outbox row, and logs the outcome.
 */
#ifndef TINGZI_CHECKIN_H
#define TINGZI_CHECKIN_H

#include "app/store/store.h"

typedef enum checkin_outcome {
	CHECKIN_RECORDED = 0, /* a new check-in was committed */
	CHECKIN_ALREADY,      /* already checked in to this event; nothing written */
	CHECKIN_UNKNOWN,      /* no member with that code or phone */
	CHECKIN_AMBIGUOUS,    /* several members share those phone digits */
	CHECKIN_FAILED,       /* not saved: see err */
} checkin_outcome;

typedef struct checkin_result {
	checkin_outcome outcome;
	store_err err;
	store_member member;
	store_event event;     /* id 0: a drop-in visit */
	store_checkin checkin; /* the new row, or the earlier one when ALREADY */
} checkin_result;

/* Check member_id in to the event happening now (a drop-in visit when none
 * is); method is how they were identified (scan, phone, name, walkin, cli).
 * Fills *out; logs the outcome. When the current event cannot be read the
 * check-in fails (CHECKIN_FAILED, nothing saved). */
void checkin_member(store *db, int64_t member_id, const char *method, checkin_result *out);
/*
 * The same for a check-in a welcome screen will greet with the group links
 * of links (the set the screen draws its QR codes from; NULL: none). The
 * links that apply to the event checked into, at the moment of the commit
 * (links_applicable()), go to the store, which records on the check-in
 * whether the welcome carries the join QR (links_welcome_join(), the rule
 * the welcome screen draws by). checkin_member() is this with no links: the
 * command line shows no QR.
 */
void checkin_member_welcome(store *db, int64_t member_id, const char *method, const link_set *links,
			    checkin_result *out);
/*
 * Register a walk-in with name and a full phone (the registration screens),
 * or find the member who already has that phone: STORE_OK with *m and
 * *existing 0 for a new member, 1 for one found; any other store_err when
 * nothing was saved. Logs register.recorded, register.existing or
 * register.failed (the phone masked). The caller then checks m in.
 */
store_err checkin_register(store *db, const char *name, const char *phone, store_member *m, int *existing);
/* A short name for an outcome ("recorded", "already", ...). */
const char *checkin_outcome_name(checkin_outcome o);

#endif
