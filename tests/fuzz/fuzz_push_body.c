/*
 * fuzz_push_body — the hub's reading of a push request body
 * (sync/hub/hub_push.c: hub_push_parse), as POST /v1/venues/VENUE/push and
 * `tingzi-hub import` use it.
 *
 * A body that parses is answered as the store would (each record given a
 * result, in turn ok, duplicate, rejected) and the reply is made and read back
 * as JSON; a refused body must say why with a 400 or 413 and an error code.
 */
#include "sync/hub/hub_push.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hub_batch b;
	int status = 0;
	char code[32], msg[300];
	code[0] = msg[0] = '\0';
	if (hub_push_parse((const char *)data, size, &b, &status, code, sizeof code, msg, sizeof msg) != 0) {
		if ((status != 400 && status != 413 && status != 500) || !code[0] || !msg[0])
			abort();
		hub_batch_free(&b);
		return 0;
	}
	const char *dev = hub_push_device(&b);
	if (!dev || strlen(dev) != 32)
		abort();
	if (b.ncheckins > HUB_MAX_CHECKINS || b.nrecords > HUB_MAX_RECORDS)
		abort();
	for (size_t i = 0; i < b.ncheckins + b.nrecords; i++) {
		hub_result *r = &b.results[i];
		if (r->status == HUB_RES_NONE)
			r->status = i % 3 == 0 ? HUB_RES_OK : i % 3 == 1 ? HUB_RES_DUPLICATE : HUB_RES_REJECTED;
		if (r->status == HUB_RES_REJECTED && !r->reason)
			r->reason = "fuzz";
	}
	char *reply = hub_push_reply(&b, 1795000000000, -12);
	if (reply) {
		json_t *j = json_loads(reply, 0, NULL);
		if (!j)
			abort(); /* the hub's own reply is not JSON */
		json_decref(j);
		free(reply);
	}
	hub_batch_free(&b);
	return 0;
}
