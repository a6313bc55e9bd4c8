/*
 * hub_store_sqlite_impl — what the parts of the SQLite store share. Not an
 * interface: only the hub_store_sqlite*.c files include it.
 *
 * The store is split by who calls it:
 *   hub_store_sqlite.c          the schema and its upgrades, open and close, push and pull
 *   hub_store_sqlite_admin.c    venues, devices and enrolment, the members CSV, events and
 *                               links of the admin commands, live codes, the export; and
 *                               the sequences, member and event rows the others write too
 *   hub_store_sqlite_console.c  what the organizer console reads and changes
 *
 * Each part keeps its own prepared statements: an enum of its queries, their
 * SQL in an array, and a slot array in sq that stmt() fills on first use.
 */
#ifndef TINGZI_HUB_STORE_SQLITE_IMPL_H
#define TINGZI_HUB_STORE_SQLITE_IMPL_H

#include "sync/hub/hub_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Slots for each part's statements (each part checks its count fits). */
#define SQ_CORE_STMTS    32
#define SQ_ADMIN_STMTS   32
#define SQ_CONSOLE_STMTS 80

typedef struct sq {
	hub_store base;
	sqlite3 *db;
	sqlite3_stmt *core[SQ_CORE_STMTS];
	sqlite3_stmt *admin[SQ_ADMIN_STMTS];
	sqlite3_stmt *console[SQ_CONSOLE_STMTS];
	char import_venue[HUB_ID_MAX];
} sq;

/* ---- statements and transactions ---- */

/* st->errmsg from SQLite; the hub_err rc stands for. */
static inline hub_err fail(sq *s, int rc)
{
	snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", sqlite3_errmsg(s->db));
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return HUB_BUSY;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return HUB_EXISTS;
	return HUB_ERR;
}

/* The statement in *slot (prepared from text on first use), reset and unbound; NULL with errmsg set. */
static inline sqlite3_stmt *stmt(sq *s, sqlite3_stmt **slot, const char *text)
{
	if (!*slot && sqlite3_prepare_v3(s->db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", sqlite3_errmsg(s->db));
		return NULL;
	}
	sqlite3_reset(*slot);
	sqlite3_clear_bindings(*slot);
	return *slot;
}

static inline void bt(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static inline void bi(sqlite3_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(st, i, v);
}

/* A text column ("" for NULL). */
static inline const char *ct(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return v ? v : "";
}

static inline void cpy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static inline hub_err exec(sq *s, const char *text)
{
	int rc = sqlite3_exec(s->db, text, NULL, NULL, NULL);
	return rc == SQLITE_OK ? HUB_OK : fail(s, rc);
}

static inline hub_err begin(sq *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

static inline hub_err commit(sq *s)
{
	hub_err e = exec(s, "COMMIT");
	if (e != HUB_OK)
		exec(s, "ROLLBACK");
	return e;
}

/* Roll back, keeping the message of what went wrong; returns e. */
static inline hub_err rollback(sq *s, hub_err e)
{
	char keep[sizeof s->base.errmsg];
	memcpy(keep, s->base.errmsg, sizeof keep);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	memcpy(s->base.errmsg, keep, sizeof keep);
	return e;
}

/* Run a statement that returns no row (or ignores it). */
static inline hub_err done(sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return HUB_OK;
	}
	hub_err e = fail(s, rc);
	sqlite3_reset(st);
	return e;
}

/* ---- rows every part writes (hub_store_sqlite_admin.c) ---- */

/* The next value of the venue's sequence for set: what a pull pages by. */
int64_t hsq_next_seq(sq *s, const char *venue, hub_set set, hub_err *err);

typedef struct mrow {
	int64_t rid;
	char uid[HUB_ID_MAX], venue[HUB_ID_MAX], merged[HUB_ID_MAX];
	char origin[HUB_ID_MAX]; /* the device that sent it ("" for the hub's own); by uid only */
	int deleted;
	char name[STORE_NAME_MAX], phone[STORE_PHONE_MAX], code[STORE_CODE_MAX], tier[STORE_TIER_MAX];
	char expires[16];
} mrow;

/* By uid (a = uid), or a venue's current member by phone or code (a = venue, b = the value). */
typedef enum hsq_by { HSQ_BY_UID, HSQ_BY_PHONE, HSQ_BY_CODE } hsq_by;

/* 1 found, 0 not, or a negative hub_err. */
int hsq_member_find(sq *s, hsq_by by, const char *a, const char *b, mrow *m);
hub_err hsq_member_insert(sq *s, const char *uid, const char *venue, const char *name, const char *phone,
			  const char *code, const char *tier, const char *expires, int provisional,
			  const char *merged_into, const char *device, int64_t now);
hub_err hsq_event_insert(sq *s, const char *uid, const char *venue, const char *title, int64_t start, int64_t end,
			 const char *device, int64_t now);

/* ---- hub_store_sqlite_admin.c ---- */

hub_err hsq_venue_add(hub_store *b, const char *name, const char *tz, int64_t now, hub_venue *out);
hub_err hsq_venue_get(hub_store *b, const char *id, hub_venue *out);
hub_err hsq_venues_each(hub_store *b, int (*fn)(const hub_venue *v, void *ctx), void *ctx);
hub_err hsq_code_add(hub_store *b, const char *venue, const unsigned char hash[HUB_HASH_LEN], int64_t expires_ms,
		     int64_t now);
hub_err hsq_enroll(hub_store *b, const unsigned char code_hash[HUB_HASH_LEN], const hub_device *dev, int64_t now,
		   hub_venue *venue);
hub_err hsq_device_get(hub_store *b, const char *id, hub_device *out);
hub_err hsq_devices_each(hub_store *b, const char *venue, int (*fn)(const hub_device *d, void *ctx), void *ctx);
hub_err hsq_device_revoke(hub_store *b, const char *id, int64_t now);
hub_err hsq_members_begin(hub_store *b, const char *venue);
int hsq_members_row(hub_store *b, const store_member *m, int *how, char *why, size_t len, int64_t now);
hub_err hsq_members_commit(hub_store *b);
void hsq_members_rollback(hub_store *b);
hub_err hsq_event_add(hub_store *b, const char *venue, const char *title, int64_t start, int64_t end, int64_t now,
		      char uid[HUB_ID_MAX]);
hub_err hsq_link_add(hub_store *b, const hub_link_new *l, int64_t now, char uid[HUB_ID_MAX]);
hub_err hsq_live(hub_store *b, const char *slug, int64_t now, char url[HUB_URL_MAX]);
hub_err hsq_checkins_each(hub_store *b, const char *venue, int (*fn)(const hub_checkin_row *r, void *ctx),
			  void *ctx);
hub_err hsq_records_each(hub_store *b, const char *venue, int (*fn)(const hub_record_row *r, void *ctx), void *ctx);

#endif
