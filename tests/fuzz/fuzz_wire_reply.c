/*
 * fuzz_wire_reply — the kiosk's reading of the hub's replies (app/sync/wire.c):
 * push replies, pull pages of each set, enrolment replies and error replies.
 *
 * The first byte picks the reply, the rest is its body. A push reply is read
 * against three records the kiosk sent (their ids are in json.dict); what is
 * accepted must answer only with known statuses, ids of 32 hex digits, and a
 * pull page must be a JSON array of as many items as it says.
 */
#include "app/sync/wire.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const sent_ids[3] = {"0123456789abcdef0123456789abcdef",
					"00000000000000000000000000000001",
					"c0ffee00c0ffee00c0ffee00c0ffee00"};

static void push_reply(const char *text, size_t len)
{
	wire_rec sent[3];
	memset(sent, 0, sizeof sent);
	for (int i = 0; i < 3; i++) {
		snprintf(sent[i].kind, sizeof sent[i].kind, "%s", i ? "member" : "checkin");
		snprintf(sent[i].id, sizeof sent[i].id, "%s", sent_ids[i]);
	}
	store_ack *acks = NULL;
	size_t n = 0;
	int64_t offset = 0;
	char why[300] = "";
	if (wire_push_reply(text, len, sent, 3, &acks, &n, &offset, why, sizeof why) != 0) {
		if (acks || n)
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!wire_is_id(acks[i].id) || (acks[i].merged_into[0] && !wire_is_id(acks[i].merged_into)))
			abort();
		if (acks[i].status != STORE_ACK_OK && acks[i].status != STORE_ACK_DUPLICATE &&
		    acks[i].status != STORE_ACK_REJECTED)
			abort();
		if (acks[i].status == STORE_ACK_REJECTED && !acks[i].reason[0])
			abort();
	}
	free(acks);
}

static void pull_reply(const char *text, size_t len, store_set set, int64_t since)
{
	wire_page page;
	memset(&page, 0, sizeof page);
	char why[300] = "";
	if (wire_pull_reply(text, len, set, since, &page, why, sizeof why) == 0) {
		json_t *items = json_loads(page.items, 0, NULL);
		if (!json_is_array(items) || json_array_size(items) != page.count)
			abort(); /* what would reach store_pull_apply is not what was counted */
		json_decref(items);
	}
	wire_page_free(&page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 6) {
	case 0:
		push_reply(text, len);
		break;
	case 1:
		pull_reply(text, len, STORE_SET_MEMBERS, data[0] & 0x80 ? 0 : 7);
		break;
	case 2:
		pull_reply(text, len, STORE_SET_EVENTS, data[0] & 0x80 ? 0 : 7);
		break;
	case 3:
		pull_reply(text, len, STORE_SET_LINKS, data[0] & 0x80 ? 0 : 7);
		break;
	case 4: {
		wire_enrolled e;
		char why[300];
		if (wire_enroll_reply(text, len, &e, why, sizeof why) == 0 &&
		    (!wire_is_id(e.device_id) || !e.token[0] || !wire_is_id(e.venue_id)))
			abort();
		break;
	}
	default: {
		char code[32], msg[300];
		wire_error_reply(text, len, code, sizeof code, msg, sizeof msg);
		break;
	}
	}
	return 0;
}
