/*
 * fuzz_kiosk_apply — what the kiosk does with a hub's pull page, end to end
 * (app/sync/client.c's order): app/sync/wire.c checks the reply, then the kiosk's
 * store applies it (app/store/store_sync.c: store_pull_apply, or store_pull_stage
 * and store_pull_swap for a snapshot), into a real kiosk database on tmpfs.
 *
 * The first byte picks the set; the rest is the reply body, read from the
 * store's own cursor as the worker would. What the store takes must leave
 * the cursor at the page's "next"; whatever the page, the database must stay
 * readable (members, events and links listed without error).
 */
#include "app/store/store.h"
#include "app/sync/wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static store *fz_db;
static char fz_path[64];

static void fz_cleanup(void)
{
	char p[80];
	store_close(fz_db);
	fz_db = NULL;
	unlink(fz_path);
	snprintf(p, sizeof p, "%s-wal", fz_path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fz_path);
	unlink(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256];
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_path, sizeof fz_path, "%s/tingzi-fuzz-kiosk-%ld.db", dir, (long)getpid());
	fz_cleanup();
	if (store_open(fz_path, STORE_OPEN_CREATE, &fz_db, why, sizeof why) != STORE_OK) {
		fprintf(stderr, "fuzz_kiosk_apply: cannot make %s: %s\n", fz_path, why);
		abort();
	}
	atexit(fz_cleanup);
	return 0;
}

static int count_member(const store_member *m, void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

static int count_event(const store_event *e, void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

static int count_link(const store_link *l, void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	store_set set = (store_set)(data[0] % STORE_SET_COUNT);
	int64_t cursor = 0;
	int resetting = 0;
	if (store_pull_cursor(fz_db, set, &cursor, &resetting, NULL) != STORE_OK)
		abort();
	int64_t since = resetting ? 0 : cursor;
	wire_page pg;
	char why[300];
	if (wire_pull_reply((const char *)data + 1, size - 1, set, since, &pg, why, sizeof why) != 0)
		return 0;
	store_err err;
	if (pg.reset) {
		err = store_pull_stage(fz_db, set, 0, pg.items, 1795000000000);
		if (err == STORE_OK && !pg.more)
			err = store_pull_swap(fz_db, set, pg.next, 1795000000000);
	} else {
		err = store_pull_apply(fz_db, set, pg.items, pg.next, 1795000000000);
	}
	if (err == STORE_OK && (!pg.reset || !pg.more)) {
		int64_t now_at = -1;
		if (store_pull_cursor(fz_db, set, &now_at, &resetting, NULL) != STORE_OK ||
		    now_at != pg.next || resetting)
			abort(); /* the page was taken but the cursor is not where it said */
	}
	wire_page_free(&pg);
	int64_t n = 0;
	if (store_members_foreach(fz_db, count_member, &n) != STORE_OK ||
	    store_events_foreach(fz_db, count_event, &n) != STORE_OK ||
	    store_links_foreach(fz_db, count_link, &n) != STORE_OK)
		abort(); /* the kiosk could no longer read its own roster */
	return 0;
}
