/*
 * fuzz_tzb — `tingzi-hub import FILE.tzb` (sync/hub/hub_import.c:
 * hub_import_tzb) on any file, against a real hub store.
 *
 * The import runs exactly as the command runs it: framing, header line,
 * device, signature, venue, then the push body and the store. A store in a temporary
 * file holds one venue and one device enrolled with a key this harness knows.
 * So that the fuzzer can reach what lies behind the signature, two stand-ins
 * in the input are replaced before the file is written:
 *  - VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV (32 V) by the venue's id (random, made
 *    at start-up; the device id is fixed: dddd...dddd);
 *  - a signature of 128 's' by the real signature of what precedes it.
 * Any other signature is left as it is and must be refused.
 */
#include "sync/hub/hub_import.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_DEVICE "dddddddddddddddddddddddddddddddd"
#define FUZZ_VENUE  "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"

static hub_store *fz_st;
static hub_venue fz_venue;
static unsigned char fz_sk[crypto_sign_SECRETKEYBYTES];
static char fz_db[64], fz_file[64];

static void fz_cleanup(void)
{
	char p[80];
	unlink(fz_db);
	snprintf(p, sizeof p, "%s-wal", fz_db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fz_db);
	unlink(p);
	unlink(fz_file);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256];
	if (sodium_init() < 0)
		abort();
	/* tmpfs when there is one: the store syncs every push */
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_db, sizeof fz_db, "%s/tingzi-fuzz-tzb-%ld.db", dir, (long)getpid());
	snprintf(fz_file, sizeof fz_file, "%s/tingzi-fuzz-tzb-%ld.tzb", dir, (long)getpid());
	fz_cleanup();
	atexit(fz_cleanup);
	fz_st = hub_store_open(fz_db, why, sizeof why);
	if (!fz_st || fz_st->ops->venue_add(fz_st, "Fuzz", "UTC", 1000, &fz_venue) != HUB_OK) {
		fprintf(stderr, "fuzz_tzb: cannot make the hub store %s: %s\n", fz_db, why);
		abort();
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], code[HUB_HASH_LEN];
	crypto_sign_keypair(pk, fz_sk);
	hub_sha256("fuzz-enrolment-code", 19, code);
	hub_device dev = {0};
	snprintf(dev.id, sizeof dev.id, "%s", FUZZ_DEVICE);
	snprintf(dev.name, sizeof dev.name, "fuzz");
	sodium_bin2hex(dev.public_key, sizeof dev.public_key, pk, sizeof pk);
	hub_venue v;
	if (fz_st->ops->code_add(fz_st, fz_venue.id, code, 1LL << 50, 1000) != HUB_OK ||
	    fz_st->ops->enroll(fz_st, code, &dev, 2000, &v) != HUB_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i + 32 <= size; i++)
		if (buf[i] == 'V' && memcmp(buf + i, FUZZ_VENUE, 32) == 0)
			memcpy(buf + i, fz_venue.id, 32);
	char *nl1 = memchr(buf, '\n', size);
	char *nl2 = nl1 ? memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - buf)) : NULL;
	if (nl2 && size - (size_t)(nl2 + 1 - buf) >= 128 && strspn(nl2 + 1, "s") >= 128) {
		unsigned char sig[crypto_sign_BYTES];
		char hex[129];
		crypto_sign_detached(sig, NULL, (const unsigned char *)buf, (size_t)(nl2 + 1 - buf), fz_sk);
		sodium_bin2hex(hex, sizeof hex, sig, sizeof sig);
		memcpy(nl2 + 1, hex, 128);
	}
	FILE *f = fopen(fz_file, "wb");
	if (!f || (size && fwrite(buf, 1, size, f) != size))
		abort();
	fclose(f);
	free(buf);
	hub_import_tzb(fz_st, fz_file);
	unlink(fz_file);
	return 0;
}
