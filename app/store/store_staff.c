/*
 * store_staff — what staff mode writes: undone check-ins and the audit of
 * staff actions. See store.h; the SQL is in store.c's table.
 *
 * Both are records the hub must receive, so each is written with its outbox
 * row in the same transaction, like a check-in. Nothing is ever deleted: an
 * undone check-in stays, marked reversed, and its attendance key is freed so
 * the member can check in again.
 */
#include "sync/clock.h"
#include "app/store/store_impl.h"

#include <jansson.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

static store_err audit_in_tx(store *s, const char *session, const char *action, const char *detail,
			     int64_t now_ms)
{
	char id[STORE_ID_MAX];
	int64_t seq;
	store_err err;
	if ((err = store_new_id(s, id)) != STORE_OK || (err = store_next_seq(s, &seq)) != STORE_OK)
		return err;
	sqlite3_stmt *st = store_stmt(s, Q_AUDIT_INSERT);
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, session);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, detail);
	sqlite3_bind_int64(st, 5, now_ms);
	if ((err = store_step_done(s, st)) != STORE_OK)
		return err;
	st = store_stmt(s, Q_OUTBOX_AUDIT);
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, session);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, detail);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int64(st, 6, seq);
	return store_step_done(s, st);
}

static int detail_ok(const char *detail)
{
	return detail && detail[0] == '{' && strlen(detail) <= 2048;
}

store_err store_audit(store *s, const char *session, const char *action, const char *detail_json, int64_t now_ms)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	if (!session || strlen(session) != 32 || !action || !action[0] || strlen(action) > 31 ||
	    !detail_ok(detail_json)) {
		snprintf(s->errmsg, sizeof s->errmsg, "an audit record needs a session, an action and a JSON object");
		return STORE_ERR_INVALID;
	}
	store_err err = store_tx_begin(s);
	if (err == STORE_OK && (err = audit_in_tx(s, session, action, detail_json, now_ms)) == STORE_OK)
		return store_tx_commit(s);
	store_tx_rollback(s);
	return err;
}

store_err store_checkin_reverse(store *s, const char *checkin_id, const char *reason, const char *session,
				int64_t now_ms, char reversal_id[STORE_ID_MAX])
{
	if (s->readonly)
		return store_refuse_readonly(s);
	if (!checkin_id || strlen(checkin_id) != 32 || !session || strlen(session) != 32 ||
	    (reason && strlen(reason) > 127)) {
		snprintf(s->errmsg, sizeof s->errmsg, "a reversal needs a check-in id and a staff session");
		return STORE_ERR_INVALID;
	}
	store_err err = store_tx_begin(s);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_stmt(s, Q_CHECKIN_REVERSE);
	store_bind_text(st, 1, checkin_id);
	if ((err = store_step_done(s, st)) != STORE_OK)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "no check-in %s, or it was undone already", checkin_id);
		err = STORE_ERR_NOT_FOUND;
		goto fail;
	}
	int64_t seq;
	if ((err = store_new_id(s, reversal_id)) != STORE_OK || (err = store_next_seq(s, &seq)) != STORE_OK)
		goto fail;
	st = store_stmt(s, Q_REVERSAL_INSERT);
	store_bind_text(st, 1, reversal_id);
	store_bind_text(st, 2, checkin_id);
	store_bind_text(st, 3, reason ? reason : "");
	store_bind_text(st, 4, session);
	sqlite3_bind_int64(st, 5, now_ms);
	if ((err = store_step_done(s, st)) != STORE_OK)
		goto fail;
	st = store_stmt(s, Q_OUTBOX_REVERSAL);
	store_bind_text(st, 1, reversal_id);
	store_bind_text(st, 2, checkin_id);
	store_bind_text(st, 3, reason ? reason : "");
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, seq);
	if ((err = store_step_done(s, st)) != STORE_OK)
		goto fail;
	json_t *what = json_pack("{s:s,s:s}", "checkin", checkin_id, "reversal", reversal_id);
	char *detail = what ? json_dumps(what, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(what);
	err = detail ? audit_in_tx(s, session, "checkin.undo", detail, now_ms) : STORE_ERR_INTERNAL;
	free(detail);
	if (err != STORE_OK)
		goto fail;
	return store_tx_commit(s);
fail:
	store_tx_rollback(s);
	return err;
}

store_err store_audit_foreach(store *s, int (*fn)(const store_audit_row *a, void *ctx), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_AUDIT_ALL);
	store_audit_row a;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof a);
		store_copy_col(st, 0, a.id, sizeof a.id);
		store_copy_col(st, 1, a.session, sizeof a.session);
		store_copy_col(st, 2, a.action, sizeof a.action);
		store_copy_col(st, 3, a.detail, sizeof a.detail);
		a.wall_ms = sqlite3_column_int64(st, 4);
		if (fn(&a, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}
