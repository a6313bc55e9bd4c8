/*
 * fuzz_members_csv — the members CSV import (sync/members_csv.c) on any bytes.
 *
 * The input is written to a file and imported through members_csv_import_into()
 * into a sink that keeps nothing, so every check of every row runs as for
 * `tingzi members import`; a row that passes is also checked to be what the
 * rules promise (a name, a phone or a code, no control character).
 */
#include "sync/members_csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static int sink_begin(void *ctx, char *why, size_t len)
{
	return 0;
}

static int sink_row(void *ctx, const store_member *m, int *how, char *why, size_t len)
{
	if (!m->name[0] || (!m->phone[0] && !m->code[0]))
		abort(); /* a row the rules refuse was let through */
	for (const unsigned char *p = (const unsigned char *)m->name; *p; p++)
		if (*p < 0x20)
			abort();
	*how = STORE_IMPORT_ADDED;
	return 0;
}

static int sink_commit(void *ctx, char *why, size_t len)
{
	return 0;
}

static void sink_rollback(void *ctx)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* tmpfs when there is one: a file is written for every input */
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(path, sizeof path, "%s/tingzi-fuzz-csv-%ld.csv", dir, (long)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	members_csv_sink sink = {NULL, sink_begin, sink_row, sink_commit, sink_rollback};
	members_csv_report rep;
	int rc = members_csv_import_into(&sink, path, &rep);
	if (rc == MEMBERS_CSV_OK && rep.errors_total)
		abort(); /* refusals reported, yet imported */
	FILE *devnull = fopen("/dev/null", "w");
	if (devnull) {
		members_csv_report_print(&rep, path, devnull);
		fclose(devnull);
	}
	members_csv_report_free(&rep);
	unlink(path);
	return 0;
}
