/*
 * hub_store_pg_account — the organizer console's accounts, sessions, failed
 * sign-ins and audit log in the PostgreSQL store (see hub_store.h, "the
 * console", and hub_store_pg_impl.h); the twin of
 * hub_store_sqlite_account.c, with its answers, errors and order of rows.
 *
 * Only hashes are kept of what signs a person in: the Argon2id string of the
 * password, the SHA-256 of a set-up token and of a session id (bytea).
 * Whatever changes how a person signs in (a new password, a reset,
 * disabling) ends every session of theirs in the same transaction.
 *
 * Several hub processes share these tables, so nothing here is read and
 * then written on the strength of a read alone: a session is found and
 * touched by one UPDATE (joined with its user, who must not be disabled);
 * a taken email is refused by the unique index; a failed sign-in and the
 * pruning of old ones are one statement.
 */
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_store_pg_impl.h"

#include <ctype.h>
#include <string.h>

#define DAY_MS 86400000LL

#define USER_COLS "id, email, role, pwhash, setup_hash, setup_expires_ms, created_ms, disabled_ms, password_ms"

enum {
	Q_USER_ADD,
	Q_USER_GET,
	Q_USERS,
	Q_USER_VENUES,
	Q_USER_VENUE_ADD,
	Q_USER_MAY,
	Q_VENUE_KNOWN,
	Q_USER_SETUP,
	Q_USER_BY_SETUP,
	Q_USER_PASSWORD,
	Q_USER_DISABLE,
	Q_FAIL_ADD,
	Q_FAIL_COUNT,
	Q_FAIL_CLEAR,
	Q_SESSION_ADD,
	Q_SESSIONS_PRUNE,
	Q_SESSION_SEEN,
	Q_SESSION_END,
	Q_SESSIONS_END_USER,
	Q_AUDIT_ADD,
	Q_AUDIT_ALL,
	Q_AUDIT_VENUE,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_USER_ADD] = "INSERT INTO users(id, email, role, setup_hash, setup_expires_ms, created_ms)"
		   " VALUES($1, $2, $3, $4, $5, $6) RETURNING " USER_COLS,
    [Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = $1 OR email = $2",
    [Q_USERS] = "SELECT " USER_COLS " FROM users ORDER BY email",
    [Q_USER_VENUES] = "SELECT venue_id FROM user_venues WHERE user_id = $1 ORDER BY venue_id",
    [Q_USER_VENUE_ADD] = "INSERT INTO user_venues(user_id, venue_id) VALUES($1, $2) ON CONFLICT DO NOTHING",
    [Q_USER_MAY] = "SELECT 1 FROM user_venues WHERE user_id = $1 AND venue_id = $2",
    [Q_VENUE_KNOWN] = "SELECT 1 FROM venues WHERE id = $1",
    [Q_USER_SETUP] = "UPDATE users SET setup_hash = $2, setup_expires_ms = $3 WHERE id = $1",
    [Q_USER_BY_SETUP] = "SELECT " USER_COLS " FROM users WHERE setup_hash = $1 AND setup_expires_ms > $2",
    [Q_USER_PASSWORD] = "UPDATE users SET pwhash = $2, password_ms = $3, setup_hash = NULL, setup_expires_ms = 0"
			" WHERE id = $1",
    [Q_USER_DISABLE] = "UPDATE users SET disabled_ms = CASE WHEN $2::integer = 0 THEN 0 WHEN disabled_ms = 0"
		       " THEN $3::bigint ELSE disabled_ms END WHERE id = $1",
    /* a day is longer than any window counted, so older rows only take room: gone with each new one */
    [Q_FAIL_ADD] = "WITH pruned AS (DELETE FROM login_failures WHERE at_ms < $3)"
		   " INSERT INTO login_failures(key, at_ms) VALUES($1, $2)",
    [Q_FAIL_COUNT] = "SELECT count(*) FROM login_failures WHERE key = $1 AND at_ms >= $2",
    [Q_FAIL_CLEAR] = "DELETE FROM login_failures WHERE key = $1",
    /* a session of nobody is refused here, not by the foreign key, so that it reads "no account" */
    [Q_SESSION_ADD] = "INSERT INTO sessions(hash, user_id, created_ms, seen_ms)"
		      " SELECT $1::bytea, $2::text, $3::bigint, $4::bigint WHERE EXISTS(SELECT 1 FROM users"
		      " WHERE id = $2::text)",
    [Q_SESSIONS_PRUNE] = "DELETE FROM sessions WHERE seen_ms < $1",
    /* found, touched and its user read at once: a user disabled meanwhile is seen, or waits for */
    [Q_SESSION_SEEN] = "UPDATE sessions s SET seen_ms = $3 FROM users u WHERE s.hash = $1 AND s.seen_ms >= $2"
		       " AND u.id = s.user_id AND u.disabled_ms = 0 RETURNING s.created_ms, u.id, u.email,"
		       " u.role, u.pwhash, u.setup_hash, u.setup_expires_ms, u.created_ms, u.disabled_ms,"
		       " u.password_ms",
    [Q_SESSION_END] = "DELETE FROM sessions WHERE hash = $1",
    [Q_SESSIONS_END_USER] = "DELETE FROM sessions WHERE user_id = $1",
    [Q_AUDIT_ADD] = "INSERT INTO console_audit(at_ms, user_id, venue_id, action, detail) VALUES($1, $2, $3, $4, $5)",
    /* newest first in the order written (rid), whatever the clocks said; LIMIT NULL: all */
    [Q_AUDIT_ALL] = "SELECT a.at_ms, u.email, a.venue_id, a.action, a.detail FROM console_audit a"
		    " LEFT JOIN users u ON u.id = a.user_id ORDER BY a.rid DESC LIMIT $1",
    [Q_AUDIT_VENUE] = "SELECT a.at_ms, u.email, a.venue_id, a.action, a.detail FROM console_audit a"
		      " LEFT JOIN users u ON u.id = a.user_id WHERE a.venue_id = $2 ORDER BY a.rid DESC LIMIT $1",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *run(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_ACCOUNT, which, sql[which], a, e);
}

static hub_err run_do(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_ACCOUNT, which, sql[which], a, changed);
}

/* Whether which (text $1 = a, and $2 = b when not NULL) has a row: HUB_OK, HUB_NOT_FOUND or an error. */
static hub_err has_row(pg *s, int which, const char *a, const char *b)
{
	hpg_args args = {0};
	hpg_t(&args, a);
	if (b)
		hpg_t(&args, b);
	hub_err e = HUB_OK;
	PGresult *r = run(s, which, &args, &e);
	if (!r)
		return e;
	e = PQntuples(r) > 0 ? HUB_OK : HUB_NOT_FOUND;
	PQclear(r);
	return e;
}

/* ---- accounts ---- */

/* A user from row i of r, its columns from col on in USER_COLS' order. */
static void user_row(const PGresult *r, int i, int col, hub_user *u)
{
	memset(u, 0, sizeof *u);
	hpg_cpy(u->id, sizeof u->id, hpg_txt(r, i, col));
	hpg_cpy(u->email, sizeof u->email, hpg_txt(r, i, col + 1));
	if (hub_role_parse(hpg_txt(r, i, col + 2), &u->role) != 0)
		u->role = HUB_ROLE_NONE;
	hpg_cpy(u->pwhash, sizeof u->pwhash, hpg_txt(r, i, col + 3));
	unsigned char h[HUB_HASH_LEN + 1];
	if (!hpg_null(r, i, col + 4) && hpg_bytes(r, i, col + 4, h, sizeof h) == HUB_HASH_LEN)
		memcpy(u->setup_hash, h, HUB_HASH_LEN);
	u->setup_expires_ms = hpg_int(r, i, col + 5);
	u->created_ms = hpg_int(r, i, col + 6);
	u->disabled_ms = hpg_int(r, i, col + 7);
	u->password_ms = hpg_int(r, i, col + 8);
}

/* The one user which selects with args: HUB_OK, HUB_NOT_FOUND or an error. */
static hub_err user_one(pg *s, int which, const hpg_args *args, hub_user *out)
{
	hub_err e = HUB_OK;
	PGresult *r = run(s, which, args, &e);
	if (!r)
		return e;
	if (PQntuples(r) > 0) {
		if (out)
			user_row(r, 0, 0, out);
	} else {
		e = HUB_NOT_FOUND;
	}
	PQclear(r);
	return e;
}

/* An email as kept and looked up: lowercased (ASCII), as people type their address in either case. */
static int email_key(const char *in, char out[HUB_EMAIL_MAX + 1])
{
	if (!in || !check_text(in, HUB_EMAIL_MAX, 0) || !strchr(in, '@') || strchr(in, ' '))
		return -1;
	size_t i = 0;
	for (; in[i]; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
	return 0;
}

hub_err hpg_user_get(hub_store *b, const char *id_or_email, hub_user *out)
{
	pg *s = (pg *)b;
	char email[HUB_EMAIL_MAX + 1] = "";
	if (email_key(id_or_email, email) != 0)
		email[0] = '\0';
	hpg_args a = {0};
	hpg_t(&a, id_or_email ? id_or_email : "");
	hpg_t(&a, email);
	hub_err e = user_one(s, Q_USER_GET, &a, out);
	return e == HUB_NOT_FOUND ? hpg_refuse(s, e, "no account %s", id_or_email ? id_or_email : "") : e;
}

hub_err hpg_user_add(hub_store *b, const char *email_in, hub_role role, const char *venue,
		     const unsigned char setup_hash[HUB_HASH_LEN], int64_t setup_expires_ms, int64_t now,
		     hub_user *out)
{
	pg *s = (pg *)b;
	char email[HUB_EMAIL_MAX + 1], id[HUB_ID_MAX];
	if (email_key(email_in, email) != 0)
		return hpg_refuse(s, HUB_INVALID, "not an email address: %s", email_in ? email_in : "");
	if (role < HUB_ROLE_STAFF || role > HUB_ROLE_OWNER)
		return hpg_refuse(s, HUB_INVALID, "no such role");
	if (clock_new_id(id) != 0)
		return hpg_refuse(s, HUB_ERR, "no id could be drawn");
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	if (venue && (e = has_row(s, Q_VENUE_KNOWN, venue, NULL)) != HUB_OK)
		return hpg_rollback(s, e == HUB_NOT_FOUND ? hpg_refuse(s, e, "no venue %s", venue) : e);
	hpg_args a = {0};
	hpg_t(&a, id);
	hpg_t(&a, email);
	hpg_t(&a, hub_role_name(role));
	if (setup_hash)
		hpg_b(&a, setup_hash, HUB_HASH_LEN);
	else
		hpg_t(&a, NULL);
	hpg_i(&a, setup_hash ? setup_expires_ms : 0);
	hpg_i(&a, now);
	/* the unique index on email refuses an address taken, even by another hub at the same moment */
	hub_user u;
	if ((e = user_one(s, Q_USER_ADD, &a, &u)) == HUB_EXISTS)
		return hpg_rollback(s, hpg_refuse(s, e, "%s has an account already", email));
	if (e == HUB_OK && venue) {
		hpg_args v = {0};
		hpg_t(&v, id);
		hpg_t(&v, venue);
		e = run_do(s, Q_USER_VENUE_ADD, &v, NULL);
	}
	if ((e = hpg_end(s, e)) == HUB_OK && out)
		*out = u;
	return e;
}

hub_err hpg_users_each(hub_store *b, int (*fn)(const hub_user *u, void *ctx), void *ctx)
{
	pg *s = (pg *)b;
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_USERS, NULL, &e);
	if (!r)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		hub_user u;
		user_row(r, i, 0, &u);
		if (fn(&u, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_user_venues_each(hub_store *b, const char *user, int (*fn)(const char *venue_id, void *ctx),
			     void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, user);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_USER_VENUES, &a, &e);
	if (!r)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++)
		if (fn(hpg_txt(r, i, 0), ctx))
			break;
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_user_venue_add(hub_store *b, const char *user, const char *venue)
{
	pg *s = (pg *)b;
	hub_user u;
	hub_err e = hpg_user_get(b, user, &u);
	if (e == HUB_OK && (e = has_row(s, Q_VENUE_KNOWN, venue, NULL)) == HUB_NOT_FOUND)
		hpg_refuse(s, e, "no venue %s", venue);
	if (e != HUB_OK)
		return e;
	/* neither users nor venues are ever deleted: what was found stays there */
	hpg_args a = {0};
	hpg_t(&a, u.id);
	hpg_t(&a, venue);
	return run_do(s, Q_USER_VENUE_ADD, &a, NULL);
}

int hpg_user_may(hub_store *b, const hub_user *u, const char *venue)
{
	pg *s = (pg *)b;
	if (!u || !venue || u->disabled_ms || u->role == HUB_ROLE_NONE)
		return 0;
	hub_err e = u->role == HUB_ROLE_OWNER ? has_row(s, Q_VENUE_KNOWN, venue, NULL)
					      : has_row(s, Q_USER_MAY, u->id, venue);
	return e == HUB_OK ? 1 : e == HUB_NOT_FOUND ? 0 : (int)e;
}

/* Run which (args: $1 the user's id, then the caller's) on the user, and end their sessions; in a transaction. */
static hub_err user_change(pg *s, int which, const hpg_args *a, const char *user, int end_sessions)
{
	int64_t changed = 0;
	hub_err e = run_do(s, which, a, &changed);
	if (e == HUB_OK && changed == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no account %s", user ? user : "");
	if (e == HUB_OK && end_sessions) {
		hpg_args d = {0};
		hpg_t(&d, user);
		e = run_do(s, Q_SESSIONS_END_USER, &d, NULL);
	}
	return e;
}

hub_err hpg_user_set_setup(hub_store *b, const char *user, const unsigned char setup_hash[HUB_HASH_LEN],
			   int64_t expires_ms, int64_t now)
{
	pg *s = (pg *)b;
	(void)now;
	hpg_args a = {0};
	hpg_t(&a, user);
	if (setup_hash)
		hpg_b(&a, setup_hash, HUB_HASH_LEN);
	else
		hpg_t(&a, NULL);
	hpg_i(&a, setup_hash ? expires_ms : 0);
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, user_change(s, Q_USER_SETUP, &a, user, 1));
}

hub_err hpg_user_by_setup(hub_store *b, const unsigned char setup_hash[HUB_HASH_LEN], int64_t now,
			  hub_user *out)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_b(&a, setup_hash, HUB_HASH_LEN);
	hpg_i(&a, now);
	hub_err e = user_one(s, Q_USER_BY_SETUP, &a, out);
	return e == HUB_NOT_FOUND ? hpg_refuse(s, e, "the set-up link is unknown, used or expired") : e;
}

hub_err hpg_user_set_password(hub_store *b, const char *user, const char *pwhash, int64_t now)
{
	pg *s = (pg *)b;
	if (!pwhash || !pwhash[0] || strlen(pwhash) >= HUB_PWHASH_MAX)
		return hpg_refuse(s, HUB_INVALID, "not a password hash");
	hpg_args a = {0};
	hpg_t(&a, user);
	hpg_t(&a, pwhash);
	hpg_i(&a, now);
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, user_change(s, Q_USER_PASSWORD, &a, user, 1));
}

hub_err hpg_user_disable(hub_store *b, const char *user, int disabled, int64_t now)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, user);
	hpg_i(&a, disabled != 0);
	hpg_i(&a, now);
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	return hpg_end(s, user_change(s, Q_USER_DISABLE, &a, user, disabled));
}

/* ---- failed sign-ins and sessions ---- */

hub_err hpg_login_failed(hub_store *b, const char *key, int64_t now)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, key);
	hpg_i(&a, now);
	hpg_i(&a, now - DAY_MS);
	return run_do(s, Q_FAIL_ADD, &a, NULL);
}

hub_err hpg_login_failures(hub_store *b, const char *key, int64_t since_ms, int64_t *count)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, key);
	hpg_i(&a, since_ms);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_FAIL_COUNT, &a, &e);
	if (!r)
		return e;
	*count = PQntuples(r) > 0 ? hpg_int(r, 0, 0) : 0;
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_login_clear(hub_store *b, const char *key)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, key);
	return run_do(s, Q_FAIL_CLEAR, &a, NULL);
}

#define SESSIONS_KEPT_MS (30LL * 86400 * 1000)

hub_err hpg_session_add(hub_store *b, const hub_session *ses)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_b(&a, ses->hash, HUB_HASH_LEN);
	hpg_t(&a, ses->user_id);
	hpg_i(&a, ses->created_ms);
	hpg_i(&a, ses->seen_ms);
	int64_t added = 0;
	hub_err e = run_do(s, Q_SESSION_ADD, &a, &added);
	if (e == HUB_OK && added == 0)
		e = hpg_refuse(s, HUB_NOT_FOUND, "no account %s", ses->user_id);
	/* sessions nobody used for 30 days ended long ago (12 hours idle): a sign-in clears them away */
	if (e == HUB_OK) {
		hpg_args p = {0};
		hpg_i(&p, ses->created_ms - SESSIONS_KEPT_MS);
		e = run_do(s, Q_SESSIONS_PRUNE, &p, NULL);
	}
	return e;
}

hub_err hpg_session_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], int64_t idle_after_ms,
			int64_t now, hub_session *out, hub_user *user)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_b(&a, hash, HUB_HASH_LEN);
	hpg_i(&a, idle_after_ms);
	hpg_i(&a, now);
	hub_err e = HUB_OK;
	PGresult *r = run(s, Q_SESSION_SEEN, &a, &e);
	if (!r)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return hpg_refuse(s, HUB_NOT_FOUND, "no such session, or it ended");
	}
	hub_session ses = {.seen_ms = now, .created_ms = hpg_int(r, 0, 0)};
	memcpy(ses.hash, hash, HUB_HASH_LEN);
	hpg_cpy(ses.user_id, sizeof ses.user_id, hpg_txt(r, 0, 1));
	if (user)
		user_row(r, 0, 1, user);
	PQclear(r);
	if (out)
		*out = ses;
	return HUB_OK;
}

hub_err hpg_session_end(hub_store *b, const unsigned char hash[HUB_HASH_LEN])
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_b(&a, hash, HUB_HASH_LEN);
	return run_do(s, Q_SESSION_END, &a, NULL);
}

hub_err hpg_sessions_end_user(hub_store *b, const char *user)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_t(&a, user);
	return run_do(s, Q_SESSIONS_END_USER, &a, NULL);
}

/* ---- the audit log ---- */

hub_err hpg_audit_add(hub_store *b, const char *user, const char *venue, const char *action, const char *detail,
		      int64_t now)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	hpg_i(&a, now);
	hpg_t(&a, user);
	hpg_t(&a, venue);
	hpg_t(&a, action ? action : "");
	hpg_t(&a, detail ? detail : "{}");
	return run_do(s, Q_AUDIT_ADD, &a, NULL);
}

hub_err hpg_audit_each(hub_store *b, const char *venue, int limit, int (*fn)(const hub_audit_row *r, void *ctx),
		       void *ctx)
{
	pg *s = (pg *)b;
	hpg_args a = {0};
	if (limit > 0)
		hpg_i(&a, limit);
	else
		hpg_t(&a, NULL);
	if (venue)
		hpg_t(&a, venue);
	hub_err e = HUB_OK;
	PGresult *r = run(s, venue ? Q_AUDIT_VENUE : Q_AUDIT_ALL, &a, &e);
	if (!r)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		hub_audit_row row = {.at_ms = hpg_int(r, i, 0),
				     .user_email = hpg_txt(r, i, 1),
				     .venue_id = hpg_txt(r, i, 2),
				     .action = hpg_txt(r, i, 3),
				     .detail = hpg_txt(r, i, 4)};
		if (fn(&row, ctx))
			break;
	}
	PQclear(r);
	return HUB_OK;
}
