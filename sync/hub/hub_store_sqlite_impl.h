/*
 * hub_store_sqlite_impl — what the parts of the SQLite store share. Not an
 * interface: only the hub_store_sqlite*.c files include it.
 *
 * The store is split by who calls it:
 *   hub_store_sqlite.c          open (with upgrades) and close, push and pull
 *   hub_store_sqlite_schema.c   the tables, new and as upgrades of older files
 *   hub_store_sqlite_admin.c    venues, devices and enrolment, the members CSV, events and
 *                               links of the admin commands, live codes, the export; and
 *                               the sequences, member and event rows the others write too
 *   hub_store_sqlite_account.c  the organizer console's accounts, sessions, failed sign-ins
 *                               and audit log
 *   hub_store_sqlite_console.c  the venue data the console reads and changes: members,
 *                               events, links, kiosks' queues
 *   hub_store_sqlite_dash.c     the dashboard: its summaries, brought up to date lazily, and
 *                               the questions it asks of them; referrals; live codes' days
 *   hub_store_sqlite_pass.c     member passes: keys, numbers, tiers, revocations, private
 *                               addresses, sign-up pages, the passes data set
 *
 * Each part keeps its own prepared statements: an enum of its queries, their
 * SQL in an array, and a slot array in sq that stmt() fills on first use.
 */
#ifndef TINGZI_HUB_STORE_SQLITE_IMPL_H
#define TINGZI_HUB_STORE_SQLITE_IMPL_H

#include "sync/hub/hub_store.h"
#include "sync/hub/hub_store_backend.h"
#include "sync/hub/hub_util.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Slots for each part's statements (each part checks its count fits). */
#define SQ_CORE_STMTS    32
#define SQ_ADMIN_STMTS   32
#define SQ_ACCOUNT_STMTS 32
#define SQ_CONSOLE_STMTS 40
#define SQ_DASH_STMTS    128

typedef struct sq {
	hub_store base;
	sqlite3 *db;
	sqlite3_stmt *core[SQ_CORE_STMTS];
	sqlite3_stmt *admin[SQ_ADMIN_STMTS];
	sqlite3_stmt *account[SQ_ACCOUNT_STMTS];
	sqlite3_stmt *console[SQ_CONSOLE_STMTS];
	sqlite3_stmt *dash[SQ_DASH_STMTS];
	int dash_ready;		   /* the dashboard's SQL functions and temporary tables are there */
	hub_day_cache live_day;	   /* the day of the last live-code redirect */
	char import_venue[HUB_ID_MAX];
} sq;

/* ---- the schema (hub_store_sqlite_schema.c) ---- */

/* PRAGMA user_version of the files this store writes. */
#define HSQ_SCHEMA_VERSION 6

/* A new file's tables. */
extern const char hsq_schema[];

/*
 * From each version to the next: hsq_migrations[v - 1] takes version v to
 * v + 1. A row from done_if says the step's changes are in the file already.
 */
typedef struct hsq_migration {
	const char *sql, *done_if;
} hsq_migration;
extern const hsq_migration hsq_migrations[HSQ_SCHEMA_VERSION - 1];

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

/* Step st to its one row: HUB_OK on it (the caller reads, then resets), else HUB_NOT_FOUND or an error, reset. */
static inline hub_err row(sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return HUB_OK;
	hub_err e = rc == SQLITE_DONE ? HUB_NOT_FOUND : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

/* One integer: the first column of st's one row (st bound). */
static inline hub_err int_of(sq *s, sqlite3_stmt *st, int64_t *out)
{
	hub_err e = row(s, st);
	if (e == HUB_OK) {
		*out = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return e;
}

/* The end of a loop over st's rows that stopped at rc: st reset, HUB_OK or the error. */
static inline hub_err ended(sq *s, sqlite3_stmt *st, int rc)
{
	hub_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? HUB_OK : fail(s, rc);
	sqlite3_reset(st);
	return e;
}

/* errmsg for a person; returns e. */
__attribute__((format(printf, 3, 4))) static inline hub_err refuse(sq *s, hub_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->base.errmsg, sizeof s->base.errmsg, fmt, ap);
	va_end(ap);
	return e;
}

/* Run st, which changes the row of what named id: HUB_NOT_FOUND when there is none. */
static inline hub_err change(sq *s, sqlite3_stmt *st, const char *what, const char *id)
{
	hub_err e = done(s, st);
	if (e == HUB_OK && sqlite3_changes(s->db) == 0)
		e = refuse(s, HUB_NOT_FOUND, "no %s %s", what, id ? id : "");
	return e;
}

/* Commit when e is HUB_OK, else roll back: what happened. */
static inline hub_err end_tx(sq *s, hub_err e)
{
	return e == HUB_OK ? commit(s) : rollback(s, e);
}

/* ---- rows every part writes (hub_store_sqlite_admin.c) ---- */

/* The next value of the venue's sequence for set: what a pull pages by. */
int64_t hsq_next_seq(sq *s, const char *venue, hub_set set, hub_err *err);

typedef hub_mrow mrow;

/* By uid (a = uid), or a venue's current member by phone or code (a = venue, b = the value). */
typedef enum hsq_by { HSQ_BY_UID, HSQ_BY_PHONE, HSQ_BY_CODE } hsq_by;

/* 1 found, 0 not, or a negative hub_err. */
int hsq_member_find(sq *s, hsq_by by, const char *a, const char *b, mrow *m);
hub_err hsq_member_insert(sq *s, const char *uid, const char *venue, const char *name, const char *phone,
			  const char *code, const char *tier, const char *expires, int provisional,
			  const char *merged_into, const char *device, int64_t now);
hub_err hsq_event_insert(sq *s, const char *uid, const char *venue, const char *title, int64_t start, int64_t end,
			 const char *device, int64_t now);

/* A drop-in's attendance key: its venue-local day YYYY-MM-DD as -YYYYMMDD (an event's is the event's rowid). */
static inline int64_t hsq_day_key(const char *day)
{
	int y = 0, mo = 0, d = 0;
	sscanf(day, "%d-%d-%d", &y, &mo, &d);
	return -((int64_t)y * 10000 + mo * 100 + d);
}

/* Check-ins as the export and the console's pages read them: HSQ_CHECKIN_SELECT " WHERE ...". */
#define HSQ_CHECKIN_SELECT                                                                                      \
	"SELECT c.id, c.device_id, c.member_uid, m.name, c.event_uid, e.title, c.method, c.day,"                 \
	" c.duplicate_of, c.wall_ms, c.offset_ms, c.corrected_ms, c.received_ms, c.reversed"                     \
	" FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid LEFT JOIN events e ON e.uid = c.event_uid"
/* Each row of st (an HSQ_CHECKIN_SELECT, bound) to fn until fn returns nonzero; st is reset. */
hub_err hsq_checkins_of(sq *s, sqlite3_stmt *st, int (*fn)(const hub_checkin_row *r, void *ctx), void *ctx);

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
hub_err hsq_live(hub_store *b, const char *slug, const char *ref, int64_t now, char url[HUB_URL_MAX]);
hub_err hsq_checkins_each(hub_store *b, const char *venue, int (*fn)(const hub_checkin_row *r, void *ctx),
			  void *ctx);
hub_err hsq_records_each(hub_store *b, const char *venue, int (*fn)(const hub_record_row *r, void *ctx), void *ctx);


/* ---- hub_store_sqlite_account.c ---- */

hub_err hsq_user_add(hub_store *b, const char *email, hub_role role, const char *venue,
		     const unsigned char setup_hash[HUB_HASH_LEN], int64_t setup_expires_ms, int64_t now,
		     hub_user *out);
hub_err hsq_user_get(hub_store *b, const char *id_or_email, hub_user *out);
hub_err hsq_users_each(hub_store *b, int (*fn)(const hub_user *u, void *ctx), void *ctx);
hub_err hsq_user_venues_each(hub_store *b, const char *user, int (*fn)(const char *venue_id, void *ctx), void *ctx);
hub_err hsq_user_venue_add(hub_store *b, const char *user, const char *venue);
int hsq_user_may(hub_store *b, const hub_user *u, const char *venue);
hub_err hsq_user_set_setup(hub_store *b, const char *user, const unsigned char setup_hash[HUB_HASH_LEN],
			   int64_t expires_ms, int64_t now);
hub_err hsq_user_by_setup(hub_store *b, const unsigned char setup_hash[HUB_HASH_LEN], int64_t now, hub_user *out);
hub_err hsq_user_set_password(hub_store *b, const char *user, const char *pwhash, int64_t now);
hub_err hsq_user_disable(hub_store *b, const char *user, int disabled, int64_t now);
hub_err hsq_login_failed(hub_store *b, const char *key, int64_t now);
hub_err hsq_login_failures(hub_store *b, const char *key, int64_t since_ms, int64_t *count);
hub_err hsq_login_clear(hub_store *b, const char *key);
hub_err hsq_session_add(hub_store *b, const hub_session *ses);
hub_err hsq_session_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], int64_t idle_after_ms, int64_t now,
			hub_session *out, hub_user *user);
hub_err hsq_session_end(hub_store *b, const unsigned char hash[HUB_HASH_LEN]);
hub_err hsq_sessions_end_user(hub_store *b, const char *user);
hub_err hsq_audit_add(hub_store *b, const char *user, const char *venue, const char *action, const char *detail,
		      int64_t now);
hub_err hsq_audit_each(hub_store *b, const char *venue, int limit, int (*fn)(const hub_audit_row *r, void *ctx),
		       void *ctx);

/* ---- hub_store_sqlite_console.c ---- */

hub_err hsq_set_seq(hub_store *b, const char *venue, hub_set set, int64_t *out);
hub_err hsq_members_each(hub_store *b, const char *venue, int (*fn)(const hub_member *m, void *ctx), void *ctx);
hub_err hsq_member_get(hub_store *b, const char *uid, hub_member *out);
hub_err hsq_member_by_rid(hub_store *b, int64_t rid, hub_member *out);
hub_err hsq_member_update(hub_store *b, const char *uid, const char *tier, const char *expires, const char *code,
			  int64_t now);
hub_err hsq_member_merge(hub_store *b, const char *keep_uid, const char *gone_uid, int64_t now);
hub_err hsq_member_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				 void *ctx);
hub_err hsq_events_each(hub_store *b, const char *venue, int (*fn)(const hub_event *e, void *ctx), void *ctx);
hub_err hsq_event_get(hub_store *b, const char *uid, hub_event *out);
hub_err hsq_event_update(hub_store *b, const char *uid, const char *title, int64_t start, int64_t end, int64_t now);
hub_err hsq_event_cancel(hub_store *b, const char *uid, int64_t now);
hub_err hsq_event_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				void *ctx);
hub_err hsq_event_count(hub_store *b, const char *uid, hub_event_tally *out);
hub_err hsq_links_each(hub_store *b, const char *venue, int (*fn)(const hub_link *l, void *ctx), void *ctx);
hub_err hsq_link_get(hub_store *b, const char *uid, hub_link *out);
hub_err hsq_link_expire(hub_store *b, const char *uid, int64_t now);
hub_err hsq_link_remove(hub_store *b, const char *uid, int64_t now);
hub_err hsq_device_queue_set(hub_store *b, const char *device, const hub_queue_state *qs);
hub_err hsq_device_queue_get(hub_store *b, const char *device, hub_queue_state *out);
hub_err hsq_device_rejected(hub_store *b, const char *device, int64_t *count);

/* ---- hub_store_sqlite_dash.c ---- */

/*
 * What a change marks for the dashboard's next dash_refresh, inside the
 * change's own transaction. New check-ins need no mark: the refresh takes
 * every check-in past the row number it reached last time. A reversal marks
 * its check-in; a merge marks gone's check-ins and gone (before they move)
 * and hands gone's referrals to keep; a member's new name or expiry marks
 * the member.
 */
hub_err hsq_dash_reversed(sq *s, const char *checkin_id);
/* A member's name or expiry changed (member_stats keeps both, for the lists' order and filters). */
hub_err hsq_dash_member_changed(sq *s, const char *uid);
hub_err hsq_dash_merging(sq *s, int64_t keep_rid, int64_t gone_rid);
/* Count a live code's redirect (hit) or miss for the day, with its ref. */
hub_err hsq_dash_live(sq *s, const char *slug, const char *ref, int hit, int64_t now);
void hsq_dash_close(sq *s);

hub_err hsq_dash_refresh(hub_store *b, const char *venue);
hub_err hsq_dash_attendance(hub_store *b, const hub_period *p, hub_dash_attendance *out);
hub_err hsq_dash_events(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_event *e, void *ctx),
			void *ctx);
hub_err hsq_dash_funnel(hub_store *b, const hub_period *p, hub_dash_funnel *out);
hub_err hsq_dash_cohorts(hub_store *b, const hub_period *p, hub_dash_cohorts *out);
hub_err hsq_dash_members(hub_store *b, const hub_period *p, hub_dash_list list, const char *arg, int64_t n,
			 int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx);
hub_err hsq_dash_referrers(hub_store *b, const hub_period *p, int limit,
			   int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx);
hub_err hsq_referral_of(hub_store *b, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
			void *ctx);
hub_err hsq_dash_referral_tree(hub_store *b, const char *member_uid, int max_depth,
			       int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx);
hub_err hsq_dash_redirects(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_redirects *r, void *ctx),
			   void *ctx);
hub_err hsq_dash_links(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_link *l, void *ctx),
		       void *ctx);
hub_err hsq_dash_groups(hub_store *b, const hub_period *p, hub_dash_groups *out);
hub_err hsq_dash_tiers(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_tier *t, void *ctx), void *ctx,
		       hub_dash_tiers *out);
hub_err hsq_referral_add(hub_store *b, const char *member_uid, const char *referrer_uid, const char *via,
			 int64_t at_ms);

/* ---- hub_store_sqlite_pass.c ---- */

extern const hub_pass_ops hsq_pass_ops;
extern const hub_webhook_ops hsq_webhook_ops;
/* The webhook queue's triggers (hub_store_sqlite_schema.c): made with the hub's first subscription, dropped
 * with its last. */
extern const char hsq_webhook_triggers[], hsq_webhook_untriggers[];

#endif
