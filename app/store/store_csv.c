/*
 * store_csv — the kiosk's store as the sink of a members CSV import
 * (sync/members_csv.h checks the file; this writes its rows in one
 * transaction, through store_import_*).
 */
#include "app/store/store.h"

#include <stdio.h>

typedef struct store_sink {
	store *s;
	store_err err;
} store_sink;

static int failed(store_sink *k, store_err err, char *why, size_t len)
{
	k->err = err;
	snprintf(why, len, "%s (%s)", store_strerror(err), store_errmsg(k->s));
	return -1;
}

static int kiosk_begin(void *ctx, char *why, size_t len)
{
	store_sink *k = ctx;
	store_err err = store_import_begin(k->s);
	return err == STORE_OK ? 0 : failed(k, err, why, len);
}

static int kiosk_row(void *ctx, const store_member *m, int *how, char *why, size_t len)
{
	store_sink *k = ctx;
	store_member copy = *m;
	store_err err = store_import_member(k->s, &copy, how);
	if (err == STORE_ERR_EXISTS || err == STORE_ERR_INVALID) {
		snprintf(why, len, "%s%s", store_errmsg(k->s), err == STORE_ERR_EXISTS ? " already in the database" : "");
		return 1;
	}
	return err == STORE_OK ? 0 : failed(k, err, why, len);
}

static int kiosk_commit(void *ctx, char *why, size_t len)
{
	store_sink *k = ctx;
	store_err err = store_import_commit(k->s);
	return err == STORE_OK ? 0 : failed(k, err, why, len);
}

static void kiosk_rollback(void *ctx)
{
	store_import_rollback(((store_sink *)ctx)->s);
}

int store_import_csv(store *s, const char *path, members_csv_report *rep)
{
	store_sink k = {s, STORE_OK};
	members_csv_sink sink = {&k, kiosk_begin, kiosk_row, kiosk_commit, kiosk_rollback};
	int rc = members_csv_import_into(&sink, path, rep);
	rep->sink_error = (int)k.err;
	return rc;
}
