/*
 * hub_push — a push request body (sync/PROTOCOL.md) read and checked into a
 * hub_batch, and the reply made from the batch's results. Used by the
 * server's push endpoint and by `tingzi-hub import` for sneakernet files,
 * so both follow the same rules.
 *
 * What makes the whole request unusable (not JSON, too deep, a column
 * missing or of the wrong length, an id that is not an id) is refused with
 * an error code and a sentence naming the field; a single record whose
 * values are wrong is answered "rejected" with a reason, so it goes to the
 * kiosk's dead letters and never blocks the queue.
 */
#ifndef TINGZI_HUB_PUSH_H
#define TINGZI_HUB_PUSH_H

#include "sync/hub/hub_store.h"

#define HUB_MAX_CHECKINS 1000 /* per push */
#define HUB_MAX_RECORDS  1000
#define HUB_MAX_DEPTH    16
#define HUB_MAX_VALUES   100000 /* JSON values in one push: 1 000 check-ins and 1 000 records need ~30 000 */

/* 1 when no array or object in text nests deeper than max. */
int hub_json_depth_ok(const char *text, size_t len, int max);
/* Both in one pass: 0 when the text nests deeper than max_depth, else 1 with
 * *values as hub_json_values() counts them. */
int hub_json_shape(const char *text, size_t len, int max_depth, size_t *values);
/*
 * How many JSON values the text would hold (arrays, objects and scalars),
 * counted without parsing, so that a body of 8 MiB of "[{},{},...]" is
 * refused before the parser allocates a node for each.
 */
size_t hub_json_values(const char *text, size_t len);

/*
 * Read a push body. 0, or -1 with *status (400 or 413), an error code
 * (bad_json, bad_field, too_many_records) and a message.
 */
int hub_push_parse(const char *text, size_t len, hub_batch *b, int *status, char *code, size_t codelen, char *msg,
		   size_t msglen);
/* The push body's device_id (valid while b is). */
const char *hub_push_device(const hub_batch *b);
/* The reply body (malloc'd JSON). */
char *hub_push_reply(const hub_batch *b, int64_t server_time_ms, int64_t offset_ms);
void hub_batch_free(hub_batch *b);

#endif
