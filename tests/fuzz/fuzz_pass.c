/*
 * fuzz_pass — a scan that looks like a signed pass (sync/pass.c): reading it
 * never reads past the scan or its own buffers; whatever reads as a pass
 * reads again the same once written anew (one way to write each pass), and
 * never verifies against a key that did not sign it.
 */
#include "sync/pass.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[PASS_PUBLIC_BYTES], sk[PASS_SECRET_BYTES], venue[PASS_VENUE_BYTES];
	static int ready;
	if (!ready) {
		if (sodium_init() < 0)
			abort();
		/* a fixed key, so that a run can be replayed */
		uint8_t seed[crypto_sign_SEEDBYTES] = {7};
		crypto_sign_seed_keypair(pk, sk, seed);
		memset(venue, 0x5a, sizeof venue);
		ready = 1;
	}
	pass_read r;
	if (pass_decode((const char *)data, size, &r) != PASS_OK)
		return 0;
	if (pass_check(&r, venue, pk) == PASS_OK)
		abort(); /* only this harness's encoder holds sk, and it has not run yet */
	char text[PASS_TEXT_MAX + 1];
	int n = pass_encode(&r.f, venue, sk, text);
	if (n < 0)
		return 0; /* the greeting or code of a read pass may not fit the encoder's cut */
	pass_read again;
	if (pass_decode(text, (size_t)n, &again) != PASS_OK || pass_check(&again, venue, pk) != PASS_OK)
		abort();
	if (again.fields_len != r.fields_len || memcmp(again.fields, r.fields, r.fields_len) != 0)
		abort();
	return 0;
}
