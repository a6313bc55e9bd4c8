/*
 * fuzz_enroll_body — the hub's reading of a POST /v1/enroll body
 * (sync/hub/hub_http.c: hub_enroll_parse), the one body the hub reads
 * without a token.
 *
 * An accepted body must give a device id and a public key of 32 and 64 hex
 * digits and a name of printable bytes; a refused one an error code and a
 * sentence.
 */
#include "sync/hub/hub_http.h"
#include "sync/hub/hub_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hub_device dev;
	unsigned char code_hash[HUB_HASH_LEN];
	const char *code = NULL;
	char msg[300] = "";
	if (hub_enroll_parse((const char *)data, size, &dev, code_hash, &code, msg, sizeof msg) != 0) {
		if (!code || !msg[0])
			abort();
		return 0;
	}
	if (!hub_is_hex(dev.id, 32) || !hub_is_hex(dev.public_key, 64) || strlen(dev.name) > 64)
		abort();
	for (const unsigned char *p = (const unsigned char *)dev.name; *p; p++)
		if (*p < 0x20)
			abort();
	return 0;
}
