/*
 * pass_scan — a scanned signed pass checked at the kiosk, offline: read, the
 * venue's tag, the key, the signature, revocation. What it finds decides the
 * screen (session.c) and the log event; nothing here draws or writes.
 */
#ifndef TINGZI_PASS_SCAN_H
#define TINGZI_PASS_SCAN_H

#include "app/store/store.h"
#include "sync/pass.h"

typedef enum pass_verdict {
	PASS_VALID = 0,
	PASS_FORGED,      /* unreadable as a pass, or its signature does not verify */
	PASS_WRONG_VENUE, /* another venue's pass */
	PASS_UNKNOWN_KEY, /* signed with a key this kiosk has not pulled (yet) */
	PASS_REVOKED,     /* the hub withdrew it */
	PASS_NO_VENUE,    /* the kiosk is not enrolled with a hub: it has no venue to check against */
	PASS_STORE_FAILED /* the kiosk's database could not be read */
} pass_verdict;

/* Check text (a scan pass_looks_like() accepted) against the kiosk's venue,
 * keys and revocations; *r holds what was read (its fields are valid from
 * PASS_WRONG_VENUE on). */
pass_verdict pass_scan_check(store *db, const char *text, pass_read *r);

/* The verdict's name in the log: "valid", "forged", "wrong_venue", ... */
const char *pass_verdict_name(pass_verdict v);

#endif
