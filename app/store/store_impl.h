/*
 * store_impl — what the store's own files share: the handle, its prepared
 * statements and the transaction helpers. Nothing outside app/store/store*.c
 * includes this header; everyone else sees app/store/store.h.
 *
 * store.c owns the schema, every SQL statement (the table sql[] there, in
 * the order of the enum below), opening, errors and settings;
 * store_member.c the members and the CSV import's writes (store_csv.c is
 * the CSV import's sink); store_checkin.c events, check-ins and the outbox
 * rows they make; store_link.c the group links; store_staff.c undone
 * check-ins and the staff audit; store_sync.c the outbox's batches and
 * answers, dead letters and pulled pages.
 */
#ifndef TINGZI_STORE_IMPL_H
#define TINGZI_STORE_IMPL_H

#include "app/store/store.h"

#include <sqlite3.h>

/* Every statement a handle prepares once when it opens (see sql[] in store.c). */
enum store_stmt {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SETTING_GET,
	Q_SETTING_SET,
	Q_MEMBER_GET,
	Q_MEMBERS_ALL,
	Q_MEMBER_COUNT,
	Q_MEMBER_GENERATION,
	Q_MEMBER_BY_CODE,
	Q_MEMBER_BY_PHONE,
	Q_MEMBER_INSERT,
	Q_MEMBER_UPDATE,
	Q_EVENT_INSERT,
	Q_EVENT_CURRENT,
	Q_EVENT_GET,
	Q_EVENT_UID,
	Q_EVENTS_ALL,
	Q_ATTENDANCE,
	Q_VISITS,
	Q_CHECKIN_INSERT,
	Q_OUTBOX_CHECKIN,
	Q_OUTBOX_MEMBER,
	Q_OUTBOX_COUNT,
	Q_CHECKINS_ALL,
	Q_CHECKINS_EVENT,
	Q_LINK_INSERT,
	Q_LINK_CLEAR_DEFAULT,
	Q_LINK_SET_DEFAULT,
	Q_LINK_DELETE,
	Q_LINK_GET,
	Q_LINKS_ALL,
	Q_ENQUEUE_MEMBERS,
	Q_ENQUEUE_EVENTS,
	Q_OUTBOX_FIRST,
	Q_OUTBOX_REST,
	Q_OUTBOX_EXPORT,
	Q_OUTBOX_EXPORTED,
	Q_OUTBOX_DEAD,
	Q_OUTBOX_DELETE,
	Q_MEMBER_UPLOADED,
	Q_MEMBER_MERGED,
	Q_EVENT_UPLOADED,
	Q_DEAD_COUNT,
	Q_DEAD_ALL,
	Q_CURSOR_GET,
	Q_CURSOR_SET,
	Q_STAGE_CLEAR,
	Q_STAGE_ADD,
	Q_STAGE_PAGES,
	Q_PULL_M_SNAPSHOT,
	Q_PULL_E_UPSERT,
	Q_PULL_E_GONE,
	Q_PULL_E_SNAPSHOT,
	Q_PULL_L_DEFAULT,
	Q_PULL_L_UPSERT,
	Q_PULL_L_GONE,
	Q_PULL_L_SNAPSHOT,
	Q_PULL_P_KEYS,
	Q_PULL_P_TIERS,
	Q_PULL_P_REVOKED,
	Q_PULL_P_SNAPSHOT,
	/* staff (store_staff.c) */
	Q_CHECKIN_REVERSE,
	Q_REVERSAL_INSERT,
	Q_OUTBOX_REVERSAL,
	Q_AUDIT_INSERT,
	Q_OUTBOX_AUDIT,
	Q_AUDIT_ALL,
	Q_CHECKINS_SINCE,
	/* signed passes (store_pass.c) */
	Q_PASS_KEY,
	Q_PASS_KEY_SET,
	Q_PASS_REVOKED,
	Q_PASS_REVOKE_SET,
	Q_PASS_TIER,
	Q_PASS_TIER_SET,
	Q_COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	int readonly; /* every write answers STORE_ERR_READONLY */
	char device_id[STORE_ID_MAX];
	char errmsg[256];
	int sync_lock_fd; /* the sync lock's file + 1 while held (store_sync_lock), else 0 */
};

/* Map an SQLite result code to a store error and keep SQLite's message. */
store_err store_fail(store *s, int rc);
/* What sqlite3_step() of a one-row query said: SQLITE_ROW is STORE_OK,
 * SQLITE_DONE STORE_ERR_NOT_FOUND, anything else the mapped error. */
store_err store_row_err(store *s, int rc);
/* Refuse a write on a read-only handle. */
store_err store_refuse_readonly(store *s);

/* Statement i, reset and with its bindings cleared, ready to bind. */
sqlite3_stmt *store_stmt(store *s, enum store_stmt i);
void store_bind_text(sqlite3_stmt *st, int i, const char *v); /* NULL binds "" */
void store_copy_col(sqlite3_stmt *st, int col, char *buf, size_t len);
/* Step a statement that returns no row, then reset it. */
store_err store_step_done(store *s, sqlite3_stmt *st);

/* BEGIN IMMEDIATE (the write lock is taken now, not at the first write). */
store_err store_tx_begin(store *s);
/* COMMIT; when it fails the transaction is rolled back. */
store_err store_tx_commit(store *s);
/* ROLLBACK if a transaction is open; keeps the error message of the failure. */
void store_tx_rollback(store *s);
/* The end of a transaction that err tells about: COMMIT when STORE_OK, else
 * ROLLBACK. Returns what the transaction came to. */
store_err store_tx_end(store *s, store_err err);
/* A new record id (clock_new_id); STORE_ERR_INTERNAL, said in errmsg, when the
 * system has no randomness. */
store_err store_new_id(store *s, char *out);
/* Take this device's next sequence number, inside the caller's transaction. */
store_err store_next_seq(store *s, int64_t *seq);
/* A provisional member made at this kiosk (name, phone, code, tier, expires of m) and its outbox row, in the
 * caller's transaction; *out read back (store_member.c). */
store_err store_member_add_provisional(store *s, const store_member *m, int64_t now_ms, store_member *out);

/* 1 when s is a non-empty string of digits shorter than STORE_PHONE_MAX. */
int store_phone_valid(const char *s);
/* 1 when s is a NUL-terminated string shorter than max bytes. */
int store_fits(const char *s, size_t max);

#endif
