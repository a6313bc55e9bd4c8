/*
 * store_member — members: reading them, the roster import, and walk-ins
 * registered at the kiosk. See store.c for the schema and the rules of
 * durability; the SQL is in its table sql[].
 *
 * An import matches a row to a member by code, and when no member has that
 * code, by phone: so a walk-in who registered with a phone becomes the
 * roster's member (taking the code, no longer provisional) when the roster
 * lists that phone. A walk-in gets a device sequence number and an outbox
 * record, as a check-in does; an import does not (rosters come from the
 * organizers, not from this device).
 */
#include "app/store/store_impl.h"

#include "sync/clock.h"

#include <stdio.h>
#include <string.h>

static void read_member(sqlite3_stmt *st, store_member *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	store_copy_col(st, 1, m->name, sizeof m->name);
	store_copy_col(st, 2, m->phone, sizeof m->phone);
	store_copy_col(st, 3, m->code, sizeof m->code);
	store_copy_col(st, 4, m->tier, sizeof m->tier);
	store_copy_col(st, 5, m->expires, sizeof m->expires);
	m->provisional = sqlite3_column_int(st, 6);
	store_copy_col(st, 7, m->uid, sizeof m->uid);
}

/* Step a member query that gives at most one row; out may be NULL. */
static store_err one_member(store *s, sqlite3_stmt *st, store_member *out)
{
	int rc = sqlite3_step(st);
	store_err err = store_row_err(s, rc);
	if (err == STORE_OK && out)
		read_member(st, out);
	sqlite3_reset(st);
	return err;
}

static store_err member_by(store *s, enum store_stmt q, const char *value, store_member *out)
{
	sqlite3_stmt *st = store_stmt(s, q);
	store_bind_text(st, 1, value);
	return one_member(s, st, out);
}

store_err store_members_foreach(store *s, int (*fn)(const store_member *m, void *ctx), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_MEMBERS_ALL);
	store_member m;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_member(st, &m);
		if (fn(&m, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

store_err store_member_get(store *s, int64_t id, store_member *out)
{
	sqlite3_stmt *st = store_stmt(s, Q_MEMBER_GET);
	sqlite3_bind_int64(st, 1, id);
	return one_member(s, st, out);
}

int64_t store_member_count(store *s)
{
	sqlite3_stmt *st = store_stmt(s, Q_MEMBER_COUNT);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

store_err store_members_generation(store *s, int64_t *gen)
{
	sqlite3_stmt *st = store_stmt(s, Q_MEMBER_GENERATION);
	store_err err = store_row_err(s, sqlite3_step(st));
	if (err == STORE_OK)
		*gen = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return err;
}

/* ---- import ---- */

static store_err invalid(store *s, const char *why)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s", why);
	return STORE_ERR_INVALID;
}

static store_err check_import_row(store *s, const store_member *m)
{
	if (!store_fits(m->name, sizeof m->name) || !m->name[0])
		return invalid(s, "a member needs a name");
	if (!store_fits(m->phone, sizeof m->phone) || !store_fits(m->code, sizeof m->code) ||
	    !store_fits(m->tier, sizeof m->tier) || !store_fits(m->expires, sizeof m->expires))
		return invalid(s, "a field is not terminated");
	if (!m->phone[0] && !m->code[0])
		return invalid(s, "a member needs a phone or a code");
	if (m->phone[0] && !store_phone_valid(m->phone))
		return invalid(s, "a phone is digits only");
	if (m->expires[0] && clock_parse_date(m->expires) != 0)
		return invalid(s, "expires is not a date (YYYY-MM-DD)");
	return STORE_OK;
}

/* The member this row is about: same code, else same phone. */
static store_err find_import_match(store *s, const store_member *m, store_member *old)
{
	store_err err = STORE_ERR_NOT_FOUND;
	if (m->code[0])
		err = member_by(s, Q_MEMBER_BY_CODE, m->code, old);
	if (err == STORE_ERR_NOT_FOUND && m->phone[0]) {
		err = member_by(s, Q_MEMBER_BY_PHONE, m->phone, old);
		if (err == STORE_OK && m->code[0] && old->code[0]) {
			snprintf(s->errmsg, sizeof s->errmsg, "phone %s belongs to the member with code %s",
				 m->phone, old->code);
			return STORE_ERR_EXISTS;
		}
	}
	return err;
}

store_err store_import_begin(store *s)
{
	return store_tx_begin(s);
}

store_err store_import_member(store *s, const store_member *m, int *updated)
{
	store_member old, now;
	store_err err;
	*updated = STORE_IMPORT_ADDED;
	if (s->readonly)
		return store_refuse_readonly(s);
	if ((err = check_import_row(s, m)) != STORE_OK)
		return err;
	err = find_import_match(s, m, &old);
	if (err != STORE_OK && err != STORE_ERR_NOT_FOUND)
		return err;
	int found = err == STORE_OK;
	now = *m;
	if (found) {
		if (!now.phone[0])
			memcpy(now.phone, old.phone, sizeof now.phone);
		if (!now.code[0])
			memcpy(now.code, old.code, sizeof now.code);
		if (!old.provisional && strcmp(old.name, now.name) == 0 &&
		    strcmp(old.phone, now.phone) == 0 && strcmp(old.code, now.code) == 0 &&
		    strcmp(old.tier, now.tier) == 0 && strcmp(old.expires, now.expires) == 0) {
			*updated = STORE_IMPORT_UNCHANGED;
			return STORE_OK;
		}
	}
	sqlite3_stmt *st;
	if (found) {
		st = store_stmt(s, Q_MEMBER_UPDATE);
		sqlite3_bind_int64(st, 1, old.id);
		sqlite3_bind_int64(st, 7, clock_wall_ms());
	} else {
		char uid[STORE_ID_MAX];
		if ((err = store_new_id(s, uid)) != STORE_OK)
			return err;
		st = store_stmt(s, Q_MEMBER_INSERT);
		store_bind_text(st, 1, uid);
		sqlite3_bind_int(st, 7, 0);
		sqlite3_bind_int64(st, 8, clock_wall_ms());
	}
	store_bind_text(st, 2, now.name);
	store_bind_text(st, 3, now.phone);
	store_bind_text(st, 4, now.code);
	store_bind_text(st, 5, now.tier);
	store_bind_text(st, 6, now.expires);
	err = store_step_done(s, st);
	if (err == STORE_ERR_EXISTS)
		snprintf(s->errmsg, sizeof s->errmsg, "phone %s belongs to another member", now.phone);
	if (err == STORE_OK && found)
		*updated = STORE_IMPORT_UPDATED;
	return err;
}

store_err store_import_commit(store *s)
{
	return store_tx_commit(s);
}

void store_import_rollback(store *s)
{
	store_tx_rollback(s);
}

/* ---- walk-ins ---- */

store_err store_member_add_provisional(store *s, const store_member *m, int64_t now_ms, store_member *out)
{
	char uid[STORE_ID_MAX];
	int64_t seq;
	store_err err = store_new_id(s, uid);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_stmt(s, Q_MEMBER_INSERT);
	store_bind_text(st, 1, uid);
	store_bind_text(st, 2, m->name);
	store_bind_text(st, 3, m->phone);
	store_bind_text(st, 4, m->code);
	store_bind_text(st, 5, m->tier);
	store_bind_text(st, 6, m->expires);
	sqlite3_bind_int(st, 7, 1);
	sqlite3_bind_int64(st, 8, now_ms);
	if ((err = store_step_done(s, st)) != STORE_OK)
		return err;
	int64_t id = sqlite3_last_insert_rowid(s->db);
	if ((err = store_next_seq(s, &seq)) != STORE_OK)
		return err;
	st = store_stmt(s, Q_OUTBOX_MEMBER);
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, s->device_id);
	sqlite3_bind_int64(st, 3, seq);
	if ((err = store_step_done(s, st)) != STORE_OK)
		return err;
	return store_member_get(s, id, out);
}

store_err store_member_register(store *s, const char *name, const char *phone, int64_t now_ms,
				store_member *out)
{
	store_err err;

	if (!store_fits(name, STORE_NAME_MAX) || !name[0] || !store_phone_valid(phone))
		return invalid(s, "a walk-in needs a name and a phone of digits");
	if ((err = store_tx_begin(s)) != STORE_OK)
		return err;
	err = member_by(s, Q_MEMBER_BY_PHONE, phone, out);
	if (err == STORE_OK) {
		store_tx_rollback(s);
		return STORE_ERR_EXISTS;
	}
	if (err != STORE_ERR_NOT_FOUND)
		goto fail;
	store_member m = {0};
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	if ((err = store_member_add_provisional(s, &m, now_ms, out)) != STORE_OK)
		goto fail;
	return store_tx_commit(s);
fail:
	store_tx_rollback(s);
	return err;
}
