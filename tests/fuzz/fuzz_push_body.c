/*
 * fuzz_push_body — the hub's reading of a push request body
 * (sync/hub/hub_push.c: hub_push_parse), as POST /v1/venues/VENUE/push and
 * `tingzi-hub import` use it.
 *
 * A body that parses must hand the store only values the protocol allows
 * (sync/PROTOCOL.md's field tables) for every record it did not already
 * answer "rejected"; it is then answered as the store would (each record given
 * a result, in turn ok, duplicate, rejected) and the reply is made and read
 * back as JSON. A refused body must say why with a 400 or 413 and a code.
 */
#include "sync/check.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TIME_MAX 32503680000000LL /* the year 3000 */

static int printable(const char *s, size_t max, int may_be_empty)
{
	if (!s || strlen(s) > max || (!may_be_empty && !s[0]))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int day_or_empty(const char *d)
{
	return d && (!d[0] || (strlen(d) == 10 && d[4] == '-' && d[7] == '-'));
}

static void check_checkin(const hub_checkin *k)
{
	static const char *const methods[] = {"scan", "phone", "name", "walkin", "staff", "cli"};
	int method = 0;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		method |= k->method && strcmp(k->method, methods[i]) == 0;
	if (!check_hex(k->id, 32) || !check_hex(k->member, 32) || (k->event && !check_hex(k->event, 32)) ||
	    !method || !printable(k->boot, 39, 0) || !day_or_empty(k->kiosk_day) || k->wall_ms < 0 ||
	    k->wall_ms > TIME_MAX || k->visit < 1 || k->seq < 0 || k->flags < 0 || k->flags > 0xffff)
		abort(); /* a value the protocol refuses would reach the store */
}

static void check_record(const hub_record *r)
{
	if (!check_hex(r->id, 32) || r->seq < 0)
		abort();
	switch (r->kind) {
	case HUB_REC_MEMBER:
		if (!printable(r->name, 127, 0) || (!r->phone && !r->code) ||
		    (r->phone && (!r->phone[0] || strlen(r->phone) > 23 ||
				  strspn(r->phone, "0123456789") != strlen(r->phone))) ||
		    (r->code && (!printable(r->code, 63, 0) || strchr(r->code, ' '))))
			abort();
		break;
	case HUB_REC_EVENT:
		if (!printable(r->title, 159, 0) || r->start_ms < 0 || r->end_ms > TIME_MAX ||
		    r->end_ms <= r->start_ms)
			abort();
		break;
	case HUB_REC_REVERSAL:
		if (!check_hex(r->checkin, 32) || (r->reason && !printable(r->reason, 127, 1)) ||
		    r->wall_ms < 0 || r->wall_ms > TIME_MAX)
			abort();
		break;
	case HUB_REC_AUDIT:
		if (!check_hex(r->session, 32) || !printable(r->action, 31, 0) || !r->detail ||
		    strlen(r->detail) > 2048 || r->detail[0] != '{' || r->wall_ms < 0 ||
		    r->wall_ms > TIME_MAX)
			abort();
		break;
	default:
		abort();
	}
}

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
	for (size_t i = 0; i < b.ncheckins; i++)
		if (b.results[i].status != HUB_RES_REJECTED)
			check_checkin(&b.checkins[i]);
	for (size_t i = 0; i < b.nrecords; i++)
		if (b.results[b.ncheckins + i].status != HUB_RES_REJECTED)
			check_record(&b.records[i]);
	for (size_t i = 0; i < b.ncheckins + b.nrecords; i++) {
		hub_result *r = &b.results[i];
		if (r->status == HUB_RES_NONE)
			r->status = i % 3 == 0   ? HUB_RES_OK
				    : i % 3 == 1 ? HUB_RES_DUPLICATE
						 : HUB_RES_REJECTED;
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
