/*
 * hub_store_sqlite_account — the organizer console's accounts, sessions,
 * failed sign-ins and audit log in the SQLite store (see hub_store.h, "the
 * console", and hub_store_sqlite_impl.h).
 *
 * Only hashes are kept of what signs a person in: the Argon2id string of the
 * password, the SHA-256 of a set-up token and of a session id. Whatever
 * changes how a person signs in (a new password, a reset, disabling) ends
 * every session of theirs in the same transaction.
 */
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_store_sqlite_impl.h"

#include <ctype.h>
#include <string.h>

#define DAY_MS 86400000LL

#define USER_COLS                                                                                            \
	"id, email, role, pwhash, setup_hash, setup_expires_ms, created_ms, disabled_ms, password_ms"

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
	Q_FAIL_PRUNE,
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
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1 OR email = ?2",
    [Q_USERS] = "SELECT " USER_COLS " FROM users ORDER BY email",
    [Q_USER_VENUES] = "SELECT venue_id FROM user_venues WHERE user_id = ?1 ORDER BY venue_id",
    [Q_USER_VENUE_ADD] = "INSERT INTO user_venues(user_id, venue_id) VALUES(?1, ?2) ON CONFLICT DO NOTHING",
    [Q_USER_MAY] = "SELECT 1 FROM user_venues WHERE user_id = ?1 AND venue_id = ?2",
    [Q_VENUE_KNOWN] = "SELECT 1 FROM venues WHERE id = ?1",
    [Q_USER_SETUP] = "UPDATE users SET setup_hash = ?2, setup_expires_ms = ?3 WHERE id = ?1",
    [Q_USER_BY_SETUP] = "SELECT " USER_COLS " FROM users WHERE setup_hash = ?1 AND setup_expires_ms > ?2",
    [Q_USER_PASSWORD] =
	"UPDATE users SET pwhash = ?2, password_ms = ?3, setup_hash = NULL, setup_expires_ms = 0"
	" WHERE id = ?1",
    [Q_USER_DISABLE] = "UPDATE users SET disabled_ms = CASE WHEN ?2 = 0 THEN 0 WHEN disabled_ms = 0 THEN ?3"
		       " ELSE disabled_ms END WHERE id = ?1",
    [Q_FAIL_ADD] = "INSERT INTO login_failures(key, at_ms) VALUES(?1, ?2)",
    [Q_FAIL_PRUNE] = "DELETE FROM login_failures WHERE at_ms < ?1",
    [Q_FAIL_COUNT] = "SELECT count(*) FROM login_failures WHERE key = ?1 AND at_ms >= ?2",
    [Q_FAIL_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
    [Q_SESSION_ADD] = "INSERT INTO sessions(hash, user_id, created_ms, seen_ms) VALUES(?1, ?2, ?3, ?4)",
    [Q_SESSIONS_PRUNE] = "DELETE FROM sessions WHERE seen_ms < ?1",
    [Q_SESSION_SEEN] =
	"UPDATE sessions SET seen_ms = ?3 WHERE hash = ?1 AND seen_ms >= ?2 AND EXISTS(SELECT 1"
	" FROM users u WHERE u.id = sessions.user_id AND u.disabled_ms = 0) RETURNING user_id, created_ms",
    [Q_SESSION_END] = "DELETE FROM sessions WHERE hash = ?1",
    [Q_SESSIONS_END_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [Q_AUDIT_ADD] =
	"INSERT INTO console_audit(at_ms, user_id, venue_id, action, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_AUDIT_ALL] = "SELECT a.at_ms, u.email, a.venue_id, a.action, a.detail FROM console_audit a"
		    " LEFT JOIN users u ON u.id = a.user_id ORDER BY a.rowid DESC LIMIT ?1",
    [Q_AUDIT_VENUE] =
	"SELECT a.at_ms, u.email, a.venue_id, a.action, a.detail FROM console_audit a"
	" LEFT JOIN users u ON u.id = a.user_id WHERE a.venue_id = ?2 ORDER BY a.rowid DESC LIMIT ?1",
};
_Static_assert(Q_COUNT <= SQ_ACCOUNT_STMTS, "more statements than slots");

static sqlite3_stmt *q(sq *s, int which)
{
	return stmt(s, &s->account[which], sql[which]);
}

/* One integer from which, with text ?1 = a (and ?2 = b when not NULL). */
static hub_err one_int(sq *s, int which, const char *a, const char *b, int64_t *out)
{
	sqlite3_stmt *st = q(s, which);
	if (!st)
		return HUB_ERR;
	bt(st, 1, a);
	if (b)
		bt(st, 2, b);
	return int_of(s, st, out);
}

/* ---- accounts ---- */

static void user_row(sqlite3_stmt *st, hub_user *u)
{
	memset(u, 0, sizeof *u);
	cpy(u->id, sizeof u->id, ct(st, 0));
	cpy(u->email, sizeof u->email, ct(st, 1));
	if (hub_role_parse(ct(st, 2), &u->role) != 0)
		u->role = HUB_ROLE_NONE;
	cpy(u->pwhash, sizeof u->pwhash, ct(st, 3));
	if (sqlite3_column_bytes(st, 4) == HUB_HASH_LEN)
		memcpy(u->setup_hash, sqlite3_column_blob(st, 4), HUB_HASH_LEN);
	u->setup_expires_ms = sqlite3_column_int64(st, 5);
	u->created_ms = sqlite3_column_int64(st, 6);
	u->disabled_ms = sqlite3_column_int64(st, 7);
	u->password_ms = sqlite3_column_int64(st, 8);
}

/* One user from st (bound): HUB_OK, HUB_NOT_FOUND or an error. */
static hub_err user_one(sq *s, sqlite3_stmt *st, hub_user *out)
{
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		user_row(st, out);
		sqlite3_reset(st);
	}
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

hub_err hsq_user_get(hub_store *b, const char *id_or_email, hub_user *out)
{
	sq *s = (sq *)b;
	char email[HUB_EMAIL_MAX + 1] = "";
	if (email_key(id_or_email, email) != 0)
		email[0] = '\0';
	sqlite3_stmt *st = q(s, Q_USER_GET);
	if (!st)
		return HUB_ERR;
	bt(st, 1, id_or_email);
	bt(st, 2, email);
	hub_err e = user_one(s, st, out);
	return e == HUB_NOT_FOUND ? refuse(s, e, "no account %s", id_or_email ? id_or_email : "") : e;
}

hub_err hsq_user_add(hub_store *b, const char *email_in, hub_role role, const char *venue,
		     const unsigned char setup_hash[HUB_HASH_LEN], int64_t setup_expires_ms, int64_t now,
		     hub_user *out)
{
	sq *s = (sq *)b;
	char email[HUB_EMAIL_MAX + 1], id[HUB_ID_MAX];
	if (email_key(email_in, email) != 0)
		return refuse(s, HUB_INVALID, "not an email address: %s", email_in ? email_in : "");
	if (role < HUB_ROLE_STAFF || role > HUB_ROLE_OWNER)
		return refuse(s, HUB_INVALID, "no such role");
	if (clock_new_id(id) != 0)
		return refuse(s, HUB_ERR, "no id could be drawn");
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	int64_t known = 0;
	if (venue && (e = one_int(s, Q_VENUE_KNOWN, venue, NULL, &known)) != HUB_OK)
		return rollback(s, e == HUB_NOT_FOUND ? refuse(s, e, "no venue %s", venue) : e);
	sqlite3_stmt *st = q(s, Q_USER_ADD);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, id);
	bt(st, 2, email);
	bt(st, 3, hub_role_name(role));
	if (setup_hash)
		sqlite3_bind_blob(st, 4, setup_hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 5, setup_hash ? setup_expires_ms : 0);
	bi(st, 6, now);
	if ((e = done(s, st)) == HUB_EXISTS)
		return rollback(s, refuse(s, e, "%s has an account already", email));
	if (e == HUB_OK && venue) {
		if (!(st = q(s, Q_USER_VENUE_ADD)))
			return rollback(s, HUB_ERR);
		bt(st, 1, id);
		bt(st, 2, venue);
		e = done(s, st);
	}
	if (e == HUB_OK && out)
		e = hsq_user_get(b, id, out);
	return end_tx(s, e);
}

hub_err hsq_users_each(hub_store *b, int (*fn)(const hub_user *u, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_USERS);
	if (!st)
		return HUB_ERR;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_user u;
		user_row(st, &u);
		if (fn(&u, ctx))
			break;
	}
	return ended(s, st, rc);
}

hub_err hsq_user_venues_each(hub_store *b, const char *user, int (*fn)(const char *venue_id, void *ctx),
			     void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_USER_VENUES);
	if (!st)
		return HUB_ERR;
	bt(st, 1, user);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ct(st, 0), ctx))
			break;
	return ended(s, st, rc);
}

hub_err hsq_user_venue_add(hub_store *b, const char *user, const char *venue)
{
	sq *s = (sq *)b;
	hub_user u;
	int64_t known;
	hub_err e = hsq_user_get(b, user, &u);
	if (e == HUB_OK && (e = one_int(s, Q_VENUE_KNOWN, venue, NULL, &known)) == HUB_NOT_FOUND)
		refuse(s, e, "no venue %s", venue);
	sqlite3_stmt *st = e == HUB_OK ? q(s, Q_USER_VENUE_ADD) : NULL;
	if (!st)
		return e == HUB_OK ? HUB_ERR : e;
	bt(st, 1, u.id);
	bt(st, 2, venue);
	return done(s, st);
}

int hsq_user_may(hub_store *b, const hub_user *u, const char *venue)
{
	sq *s = (sq *)b;
	int64_t one;
	if (!u || !venue || u->disabled_ms || u->role == HUB_ROLE_NONE)
		return 0;
	hub_err e = u->role == HUB_ROLE_OWNER ? one_int(s, Q_VENUE_KNOWN, venue, NULL, &one)
					      : one_int(s, Q_USER_MAY, u->id, venue, &one);
	return e == HUB_OK ? 1 : e == HUB_NOT_FOUND ? 0 : (int)e;
}

/* Run which on the user (?1 the id, then the rest bound by the caller's values) and end their sessions. */
static hub_err user_change(sq *s, sqlite3_stmt *st, const char *user, int end_sessions)
{
	hub_err e = change(s, st, "account", user);
	if (e == HUB_OK && end_sessions) {
		sqlite3_stmt *del = q(s, Q_SESSIONS_END_USER);
		if (!del)
			return HUB_ERR;
		bt(del, 1, user);
		e = done(s, del);
	}
	return e;
}

hub_err hsq_user_set_setup(hub_store *b, const char *user, const unsigned char setup_hash[HUB_HASH_LEN],
			   int64_t expires_ms, int64_t now)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_USER_SETUP);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, user);
	if (setup_hash)
		sqlite3_bind_blob(st, 2, setup_hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 3, setup_hash ? expires_ms : 0);
	return end_tx(s, user_change(s, st, user, 1));
}

hub_err hsq_user_by_setup(hub_store *b, const unsigned char setup_hash[HUB_HASH_LEN], int64_t now,
			  hub_user *out)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_USER_BY_SETUP);
	if (!st)
		return HUB_ERR;
	sqlite3_bind_blob(st, 1, setup_hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 2, now);
	hub_err e = user_one(s, st, out);
	return e == HUB_NOT_FOUND ? refuse(s, e, "the set-up link is unknown, used or expired") : e;
}

hub_err hsq_user_set_password(hub_store *b, const char *user, const char *pwhash, int64_t now)
{
	sq *s = (sq *)b;
	if (!pwhash || !pwhash[0] || strlen(pwhash) >= HUB_PWHASH_MAX)
		return refuse(s, HUB_INVALID, "not a password hash");
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_USER_PASSWORD);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, user);
	bt(st, 2, pwhash);
	bi(st, 3, now);
	return end_tx(s, user_change(s, st, user, 1));
}

hub_err hsq_user_disable(hub_store *b, const char *user, int disabled, int64_t now)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_USER_DISABLE);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, user);
	bi(st, 2, disabled != 0);
	bi(st, 3, now);
	return end_tx(s, user_change(s, st, user, disabled));
}

/* ---- failed sign-ins and sessions ---- */

hub_err hsq_login_failed(hub_store *b, const char *key, int64_t now)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_FAIL_ADD);
	if (!st)
		return rollback(s, HUB_ERR);
	bt(st, 1, key);
	bi(st, 2, now);
	if ((e = done(s, st)) == HUB_OK && (st = q(s, Q_FAIL_PRUNE)) != NULL) {
		/* a day is longer than any window counted, so older rows only take room */
		bi(st, 1, now - DAY_MS);
		e = done(s, st);
	}
	return end_tx(s, st ? e : HUB_ERR);
}

hub_err hsq_login_failures(hub_store *b, const char *key, int64_t since_ms, int64_t *count)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_FAIL_COUNT);
	if (!st)
		return HUB_ERR;
	bt(st, 1, key);
	bi(st, 2, since_ms);
	return int_of(s, st, count);
}

hub_err hsq_login_clear(hub_store *b, const char *key)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_FAIL_CLEAR);
	if (!st)
		return HUB_ERR;
	bt(st, 1, key);
	return done(s, st);
}

#define SESSIONS_KEPT_MS (30LL * 86400 * 1000)

hub_err hsq_session_add(hub_store *b, const hub_session *ses)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_SESSION_ADD);
	if (!st)
		return HUB_ERR;
	sqlite3_bind_blob(st, 1, ses->hash, HUB_HASH_LEN, SQLITE_STATIC);
	bt(st, 2, ses->user_id);
	bi(st, 3, ses->created_ms);
	bi(st, 4, ses->seen_ms);
	hub_err e = done(s, st);
	/* the only foreign key here is the user's */
	if (e == HUB_EXISTS && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		e = refuse(s, HUB_NOT_FOUND, "no account %s", ses->user_id);
	/* sessions nobody used for 30 days ended long ago (12 hours idle): a sign-in clears them away */
	if (e == HUB_OK && (st = q(s, Q_SESSIONS_PRUNE))) {
		bi(st, 1, ses->created_ms - SESSIONS_KEPT_MS);
		e = done(s, st);
	}
	return e;
}

hub_err hsq_session_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], int64_t idle_after_ms,
			int64_t now, hub_session *out, hub_user *user)
{
	sq *s = (sq *)b;
	hub_err e = begin(s);
	if (e != HUB_OK)
		return e;
	sqlite3_stmt *st = q(s, Q_SESSION_SEEN);
	if (!st)
		return rollback(s, HUB_ERR);
	sqlite3_bind_blob(st, 1, hash, HUB_HASH_LEN, SQLITE_STATIC);
	bi(st, 2, idle_after_ms);
	bi(st, 3, now);
	hub_session ses = {.seen_ms = now};
	memcpy(ses.hash, hash, HUB_HASH_LEN);
	if ((e = row(s, st)) == HUB_OK) {
		cpy(ses.user_id, sizeof ses.user_id, ct(st, 0));
		ses.created_ms = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		hub_user u;
		e = hsq_user_get(b, ses.user_id, user ? user : &u);
	} else if (e == HUB_NOT_FOUND) {
		refuse(s, e, "no such session, or it ended");
	}
	if (e == HUB_OK && out)
		*out = ses;
	return end_tx(s, e);
}

hub_err hsq_session_end(hub_store *b, const unsigned char hash[HUB_HASH_LEN])
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_SESSION_END);
	if (!st)
		return HUB_ERR;
	sqlite3_bind_blob(st, 1, hash, HUB_HASH_LEN, SQLITE_STATIC);
	return done(s, st);
}

hub_err hsq_sessions_end_user(hub_store *b, const char *user)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_SESSIONS_END_USER);
	if (!st)
		return HUB_ERR;
	bt(st, 1, user);
	return done(s, st);
}

/* ---- the audit log ---- */

hub_err hsq_audit_add(hub_store *b, const char *user, const char *venue, const char *action,
		      const char *detail, int64_t now)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, Q_AUDIT_ADD);
	if (!st)
		return HUB_ERR;
	bi(st, 1, now);
	bt(st, 2, user);
	bt(st, 3, venue);
	bt(st, 4, action ? action : "");
	bt(st, 5, detail ? detail : "{}");
	return done(s, st);
}

hub_err hsq_audit_each(hub_store *b, const char *venue, int limit,
		       int (*fn)(const hub_audit_row *r, void *ctx), void *ctx)
{
	sq *s = (sq *)b;
	sqlite3_stmt *st = q(s, venue ? Q_AUDIT_VENUE : Q_AUDIT_ALL);
	if (!st)
		return HUB_ERR;
	bi(st, 1, limit > 0 ? limit : -1);
	if (venue)
		bt(st, 2, venue);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_audit_row r = {.at_ms = sqlite3_column_int64(st, 0),
				   .user_email = ct(st, 1),
				   .venue_id = ct(st, 2),
				   .action = ct(st, 3),
				   .detail = ct(st, 4)};
		if (fn(&r, ctx))
			break;
	}
	return ended(s, st, rc);
}
