/*
 * fuzz_enroll_body — the hub's reading of a POST /v1/enroll body
 * (sync/hub/hub_http.c: hub_enroll_parse), the one body the hub reads
 * without a token.
 *
 * An accepted body must give a device id and a public key of 32 and 64 hex
 * digits and a name of printable bytes; a refused one an error code and a
 * sentence.
 *
 * The caps that guard the hub's parser before it allocates are checked too
 * (sync/hub/hub_push.c): for any text jansson reads, hub_json_values never
 * counts fewer values than it holds, and hub_json_depth_ok refuses exactly
 * the text that nests deeper than its limit.
 */
#include "sync/check.h"
#include "sync/hub/hub_http.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Values in v (itself included); *depth: how deep its arrays and objects nest. */
static size_t json_count(json_t *v, int level, int *depth)
{
	size_t n = 1, i;
	const char *key;
	json_t *e;
	if (json_is_array(v) || json_is_object(v)) {
		if (level + 1 > *depth)
			*depth = level + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) n += json_count(e, level + 1, depth);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, e) n += json_count(e, level + 1, depth);
	}
	return n;
}

static void check_caps(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	if (!j)
		return;
	int depth = 0;
	size_t values = json_count(j, 0, &depth);
	json_decref(j);
	if (hub_json_values(text, len) < values)
		abort(); /* the value cap could be passed */
	if (hub_json_depth_ok(text, len, HUB_MAX_DEPTH) != (depth <= HUB_MAX_DEPTH))
		abort(); /* the depth cap misjudged the text */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_caps((const char *)data, size);

	hub_device dev;
	unsigned char code_hash[HUB_HASH_LEN];
	const char *code = NULL;
	char msg[300] = "";
	if (hub_enroll_parse((const char *)data, size, &dev, code_hash, &code, msg, sizeof msg) != 0) {
		if (!code || !msg[0])
			abort();
		return 0;
	}
	if (!check_hex(dev.id, 32) || !check_hex(dev.public_key, 64) || strlen(dev.name) > 64)
		abort();
	for (const unsigned char *p = (const unsigned char *)dev.name; *p; p++)
		if (*p < 0x20)
			abort();
	return 0;
}
