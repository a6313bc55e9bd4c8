/* pass_scan — a signed pass checked at the kiosk (see pass_scan.h). */
#include "app/pass_scan.h"

#include <string.h>

pass_verdict pass_scan_check(store *db, const char *text, pass_read *r)
{
	char hex[STORE_ID_MAX];
	uint8_t venue[PASS_VENUE_BYTES], pk[PASS_PUBLIC_BYTES];
	if (pass_decode(text, strlen(text), r) != PASS_OK)
		return PASS_FORGED;
	store_err err = store_setting_get(db, "hub_venue", hex, sizeof hex);
	if (err == STORE_ERR_NOT_FOUND)
		return PASS_NO_VENUE;
	if (err != STORE_OK)
		return PASS_STORE_FAILED;
	if (pass_uid_bytes(hex, venue) != 0)
		return PASS_NO_VENUE;
	if (r->f.venue_tag != pass_venue_tag(venue))
		return PASS_WRONG_VENUE;
	err = store_pass_key(db, r->f.key_id, pk);
	if (err == STORE_ERR_NOT_FOUND)
		return PASS_UNKNOWN_KEY;
	if (err != STORE_OK)
		return PASS_STORE_FAILED;
	if (pass_check(r, venue, pk) != PASS_OK)
		return PASS_FORGED;
	int revoked = 0;
	if (store_pass_revoked(db, r->f.number, r->f.issued_min, &revoked) != STORE_OK)
		return PASS_STORE_FAILED;
	return revoked ? PASS_REVOKED : PASS_VALID;
}

const char *pass_verdict_name(pass_verdict v)
{
	static const char *const names[] = {
	    [PASS_VALID] = "valid",       [PASS_FORGED] = "forged",   [PASS_WRONG_VENUE] = "wrong_venue",
	    [PASS_UNKNOWN_KEY] = "unknown_key", [PASS_REVOKED] = "revoked", [PASS_NO_VENUE] = "no_venue",
	    [PASS_STORE_FAILED] = "store_failed",
	};
	return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}
