/*
 * store_link — the group links that join QR codes carry. See store.c for the
 * schema; the SQL is in its table sql[]. Which link applies when, and what a
 * valid URL is, is decided in sync/links.c: this file only keeps them.
 */
#include "app/store/store_impl.h"

#include "sync/clock.h"

#include <stdio.h>
#include <string.h>

static void read_link(sqlite3_stmt *st, store_link *l)
{
	memset(l, 0, sizeof *l);
	l->id = sqlite3_column_int64(st, 0);
	store_copy_col(st, 1, l->platform, sizeof l->platform);
	store_copy_col(st, 2, l->label, sizeof l->label);
	store_copy_col(st, 3, l->url, sizeof l->url);
	l->expires_ms = sqlite3_column_int64(st, 4);
	l->member_cap = sqlite3_column_int64(st, 5);
	l->event_id = sqlite3_column_int64(st, 6);
	l->is_default = sqlite3_column_int(st, 7);
	store_copy_col(st, 8, l->live_url, sizeof l->live_url);
}

static store_err clear_default(store *s, int64_t now_ms)
{
	sqlite3_stmt *st = store_stmt(s, Q_LINK_CLEAR_DEFAULT);
	sqlite3_bind_int64(st, 1, now_ms);
	return store_step_done(s, st);
}

store_err store_link_add(store *s, const store_link *l, int64_t now_ms, int64_t *id_out)
{
	char uid[STORE_ID_MAX];
	if (!store_fits(l->label, STORE_TITLE_MAX) || !l->label[0] || !store_fits(l->url, STORE_URL_MAX) ||
	    !store_fits(l->platform, STORE_PLATFORM_MAX) || l->expires_ms < 0 || l->member_cap < 0 ||
	    l->event_id < 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "a link needs a label, a URL and a platform");
		return STORE_ERR_INVALID;
	}
	store_err err = store_new_id(s, uid);
	if (err == STORE_OK)
		err = store_tx_begin(s);
	if (err != STORE_OK)
		return err;
	if (l->is_default)
		err = clear_default(s, now_ms);
	if (err == STORE_OK) {
		sqlite3_stmt *st = store_stmt(s, Q_LINK_INSERT);
		store_bind_text(st, 1, uid);
		store_bind_text(st, 2, l->platform);
		store_bind_text(st, 3, l->label);
		store_bind_text(st, 4, l->url);
		sqlite3_bind_int64(st, 5, l->expires_ms);
		sqlite3_bind_int64(st, 6, l->member_cap);
		sqlite3_bind_int64(st, 7, l->event_id);
		sqlite3_bind_int(st, 8, l->is_default ? 1 : 0);
		sqlite3_bind_int64(st, 9, now_ms);
		err = store_step_done(s, st);
	}
	int64_t id = sqlite3_last_insert_rowid(s->db);
	err = store_tx_end(s, err);
	if (err == STORE_OK && id_out)
		*id_out = id;
	return err;
}

store_err store_link_get(store *s, int64_t id, store_link *out)
{
	sqlite3_stmt *st = store_stmt(s, Q_LINK_GET);
	sqlite3_bind_int64(st, 1, id);
	store_err err = store_row_err(s, sqlite3_step(st));
	if (err == STORE_OK)
		read_link(st, out);
	sqlite3_reset(st);
	return err;
}

store_err store_link_remove(store *s, int64_t id)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_LINK_DELETE);
	sqlite3_bind_int64(st, 1, id);
	store_err err = store_step_done(s, st);
	if (err == STORE_OK && sqlite3_changes(s->db) == 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "no link has id %lld", (long long)id);
		return STORE_ERR_NOT_FOUND;
	}
	return err;
}

store_err store_link_set_default(store *s, int64_t id, int64_t now_ms)
{
	store_err err = store_tx_begin(s);
	if (err != STORE_OK)
		return err;
	err = clear_default(s, now_ms);
	if (err == STORE_OK) {
		sqlite3_stmt *st = store_stmt(s, Q_LINK_SET_DEFAULT);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now_ms);
		err = store_step_done(s, st);
		if (err == STORE_OK && sqlite3_changes(s->db) == 0) {
			snprintf(s->errmsg, sizeof s->errmsg, "no link has id %lld", (long long)id);
			err = STORE_ERR_NOT_FOUND;
		}
	}
	return store_tx_end(s, err);
}

store_err store_links_foreach(store *s, int (*fn)(const store_link *l, void *ctx), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_LINKS_ALL);
	store_link l;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_link(st, &l);
		if (fn(&l, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

static int load_one(const store_link *l, void *ctx)
{
	link_set *set = ctx;
	set->l[set->n++] = *l;
	return set->n == LINKS_MAX;
}

store_err store_links_load(store *s, link_set *set)
{
	set->n = 0;
	return store_links_foreach(s, load_one, set);
}
