/*
 * store_pass — what the kiosk keeps to check signed member passes offline
 * (the venue's public keys, its tier names, revocations), and the member a
 * valid pass brings. See store.c (version 8) for the tables; the SQL is in
 * its table sql[].
 */
#include "app/store/store_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

store_err store_pass_key(store *s, unsigned kid, unsigned char public_key[32])
{
	sqlite3_stmt *st = store_stmt(s, Q_PASS_KEY);
	sqlite3_bind_int(st, 1, (int)kid);
	store_err err = store_row_err(s, sqlite3_step(st));
	if (err == STORE_OK) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		size_t n = 0;
		if (!hex || sodium_hex2bin(public_key, 32, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 32)
			err = STORE_ERR_NOT_FOUND;
	}
	sqlite3_reset(st);
	return err;
}

store_err store_pass_key_set(store *s, unsigned kid, const unsigned char public_key[32], int retired)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_PASS_KEY_SET);
	sqlite3_bind_int(st, 1, (int)kid);
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, public_key, 32);
	store_bind_text(st, 2, hex);
	sqlite3_bind_int(st, 3, retired ? 1 : 0);
	return store_step_done(s, st);
}

store_err store_pass_revoked(store *s, uint32_t number, uint32_t issued_min, int *revoked)
{
	sqlite3_stmt *st = store_stmt(s, Q_PASS_REVOKED);
	sqlite3_bind_int64(st, 1, number);
	sqlite3_bind_int64(st, 2, issued_min);
	store_err err = store_row_err(s, sqlite3_step(st));
	sqlite3_reset(st);
	*revoked = err == STORE_OK;
	return err == STORE_ERR_NOT_FOUND ? STORE_OK : err;
}

store_err store_pass_revoke_set(store *s, uint32_t number, uint32_t before_min)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_PASS_REVOKE_SET);
	sqlite3_bind_int64(st, 1, number);
	sqlite3_bind_int64(st, 2, before_min);
	return store_step_done(s, st);
}

store_err store_pass_tier(store *s, unsigned idx, char *out, size_t len)
{
	out[0] = '\0';
	if (idx == 0)
		return STORE_OK;
	sqlite3_stmt *st = store_stmt(s, Q_PASS_TIER);
	sqlite3_bind_int(st, 1, (int)idx);
	store_err err = store_row_err(s, sqlite3_step(st));
	if (err == STORE_OK)
		store_copy_col(st, 0, out, len);
	sqlite3_reset(st);
	return err == STORE_ERR_NOT_FOUND ? STORE_OK : err;
}

store_err store_pass_tier_set(store *s, unsigned idx, const char *name)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_PASS_TIER_SET);
	sqlite3_bind_int(st, 1, (int)idx);
	store_bind_text(st, 2, name);
	return store_step_done(s, st);
}

/* The id of the member with code, or 0; STORE_OK or the error. */
static store_err id_by_code(store *s, const char *code, int64_t *id)
{
	sqlite3_stmt *st = store_stmt(s, Q_MEMBER_BY_CODE);
	store_bind_text(st, 1, code);
	store_err err = store_row_err(s, sqlite3_step(st));
	*id = err == STORE_OK ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return err == STORE_ERR_NOT_FOUND ? STORE_OK : err;
}

store_err store_pass_member(store *s, const char *code, const char *name, const char *tier, const char *expires,
			    int64_t now_ms, store_member *out, int *added)
{
	int64_t id;
	store_err err;
	*added = 0;
	if (!code[0] || !store_fits(code, STORE_CODE_MAX) || !name[0] || !store_fits(name, STORE_NAME_MAX) ||
	    !store_fits(tier, STORE_TIER_MAX) || !store_fits(expires, STORE_DATE_MAX)) {
		snprintf(s->errmsg, sizeof s->errmsg, "a member from a pass needs a code and a name");
		return STORE_ERR_INVALID;
	}
	if ((err = id_by_code(s, code, &id)) != STORE_OK)
		return err;
	if (id)
		return store_member_get(s, id, out);
	if ((err = store_tx_begin(s)) != STORE_OK)
		return err;
	/* another process may have added them since the look above */
	if ((err = id_by_code(s, code, &id)) != STORE_OK)
		goto fail;
	if (id) {
		store_tx_rollback(s);
		return store_member_get(s, id, out);
	}
	store_member m = {0};
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.code, sizeof m.code, "%s", code);
	snprintf(m.tier, sizeof m.tier, "%s", tier);
	snprintf(m.expires, sizeof m.expires, "%s", expires);
	if ((err = store_member_add_provisional(s, &m, now_ms, out)) != STORE_OK)
		goto fail;
	if ((err = store_tx_commit(s)) == STORE_OK)
		*added = 1;
	return err;
fail:
	store_tx_rollback(s);
	return err;
}
