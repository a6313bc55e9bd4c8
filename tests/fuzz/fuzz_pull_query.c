/*
 * fuzz_pull_query — the hub's reading of GET /v1/venues/VENUE/pull/SET?since=&limit=
 * (sync/hub/hub_http.c: hub_set_parse and hub_pull_query).
 *
 * The input is SET, then the value of since, then the value of limit,
 * separated by NUL bytes, as libmicrohttpd hands them over decoded; a part
 * that is missing is an argument not given. What is accepted must be a
 * known set, a since >= 0 and a limit of 1 to 5000.
 */
#include "sync/hub/hub_http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *part[3] = {buf, NULL, NULL};
	size_t at = strlen(buf);
	for (int k = 1; k < 3 && at < size; k++) {
		part[k] = buf + at + 1;
		at += 1 + strlen(part[k]);
	}
	hub_set set;
	if (hub_set_parse(part[0], &set) == 0 && (set < 0 || set >= HUB_SET_COUNT || !hub_set_name(set)))
		abort();
	int64_t since = -1;
	int limit = -1;
	const char *code = NULL, *msg = NULL;
	if (hub_pull_query(part[1], part[2], &since, &limit, &code, &msg) == 0) {
		if (since < 0 || limit < 1 || limit > 5000)
			abort();
	} else if (!code || !msg) {
		abort();
	}
	free(buf);
	return 0;
}
