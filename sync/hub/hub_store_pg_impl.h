/*
 * hub_store_pg_impl — what the parts of the PostgreSQL store share. Not an
 * interface: only the hub_store_pg*.c files include it.
 *
 * The store is split as the SQLite one is (hub_store_sqlite_impl.h):
 *   hub_store_pg.c          the connection, statements and transactions, open (with the
 *                           schema's creation and upgrades) and close, push and pull
 *   hub_store_pg_schema.c   the tables
 *   hub_store_pg_admin.c    venues, devices and enrolment, the members CSV, events and links
 *                           of the admin commands, live codes, the export; and the
 *                           sequences, member and event rows the others write too
 *   hub_store_pg_account.c  the console's accounts, sessions, failed sign-ins, audit log
 *   hub_store_pg_console.c  the venue data the console reads and changes
 *   hub_store_pg_dash.c     the dashboard
 *   hub_store_pg_pass.c     member passes (as hub_store_sqlite_pass.c)
 *
 * One hub_store is one connection (libpq), used by one thread at a time; a
 * server holds a pool of them (hub_pool.h). A lost connection is opened
 * again at the next call made outside a transaction; while the server cannot
 * be reached, calls answer HUB_DOWN.
 *
 * Statements: each part keeps an enum of its queries and their SQL in an
 * array, as the SQLite parts do; hpg_run() prepares a statement on its
 * connection the first time it is used there (named "pPART_N") and runs
 * it. Parameters are text (numbers written out) or binary (bytea), results
 * are text. Every text column that is sorted or compared is COLLATE "C", so
 * names sort by their bytes as SQLite sorts them.
 *
 * Differences from the SQLite schema: row numbers are explicit columns
 * (rid, an identity) where SQLite has rowid; booleans stay integers 0/1 so
 * both backends read the same values.
 */
#ifndef TINGZI_HUB_STORE_PG_IMPL_H
#define TINGZI_HUB_STORE_PG_IMPL_H

#include "sync/hub/hub_store.h"
#include "sync/hub/hub_store_backend.h"
#include "sync/hub/hub_util.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum hpg_part { HPG_CORE, HPG_ADMIN, HPG_ACCOUNT, HPG_CONSOLE, HPG_DASH, HPG_PASS, HPG_WEBHOOK, HPG_PARTS };
#define HPG_PART_STMTS 128
#define HPG_MAX_ARGS   24

/* The schema version this store writes (meta 'schema_version'): 1 the first, 2 adds member passes'
 * tables (hpg_pass_schema), 3 the open API's tokens and webhooks (hpg_api_schema). */
#define HPG_SCHEMA_VERSION 3

typedef struct pg {
	hub_store base;
	PGconn *conn;
	char *conninfo;
	int in_tx;
	int broken; /* a call failed in libpq itself: the connection is opened again at the next call */
	unsigned char prepared[HPG_PARTS][HPG_PART_STMTS]; /* on this connection */
	hub_day_cache live_day;
	char import_venue[HUB_ID_MAX];
	int64_t import_rows; /* rows of the members import under way */
	int importing;	     /* a members import holds its venue's members sequence row: */
	int64_t import_seq;  /* the sequence, counted here, written back at the commit */
	int64_t import_seq0; /* ... as it was when the import began */
	void *dash; /* the dashboard part's own state (hub_store_pg_dash.c), freed by hpg_dash_close */
} pg;

/* ---- the schema (hub_store_pg_schema.c) ---- */

/* The tables of a new database (statements separated by ';'), the dashboard's last. */
extern const char hpg_schema[];
/* The dashboard's tables (hub_store_pg_dash.c), made with the others. */
extern const char hpg_dash_schema[];
/* Member passes' tables (hub_store_pg_pass.c): made with the others, or added to a version 1 database. */
extern const char hpg_pass_schema[];
/* The open API's tokens and webhooks (hub_store_pg_schema.c): made with the others, or added to a version 2. */
extern const char hpg_api_schema[];

/* ---- statements ---- */

/* A statement's parameters: text (NULL for SQL NULL), numbers as text, or bytes. */
typedef struct hpg_args {
	int n;
	const char *v[HPG_MAX_ARGS];
	int len[HPG_MAX_ARGS], fmt[HPG_MAX_ARGS];
	char num[HPG_MAX_ARGS][24];
} hpg_args;

static inline void hpg_t(hpg_args *a, const char *v)
{
	a->v[a->n] = v;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static inline void hpg_i(hpg_args *a, int64_t v)
{
	snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
	hpg_t(a, a->num[a->n]);
}

/* bytea, sent as bytes */
static inline void hpg_b(hpg_args *a, const void *p, int len)
{
	a->v[a->n] = p;
	a->len[a->n] = len;
	a->fmt[a->n++] = 1;
}

/*
 * Run statement `which` of `part` (text sql, prepared on first use) with
 * args (NULL: none). Returns its result (PQclear it), or NULL with *e set
 * and st->errmsg saying why: HUB_EXISTS for a unique or check violation,
 * HUB_BUSY for a deadlock or serialization failure (the caller may run the
 * transaction again), HUB_DOWN when the server cannot be reached.
 */
PGresult *hpg_run(pg *s, int part, int which, const char *sql, const hpg_args *a, hub_err *e);
/* As hpg_run, for a statement whose rows are not read: *changed (may be NULL) is how many rows it changed. */
hub_err hpg_do(pg *s, int part, int which, const char *sql, const hpg_args *a, int64_t *changed);
/* Run text that takes no parameters (several statements allowed). */
hub_err hpg_exec(pg *s, const char *sql);

hub_err hpg_begin(pg *s);
hub_err hpg_commit(pg *s);
/* Roll back, keeping the message of what went wrong; returns e. */
hub_err hpg_rollback(pg *s, hub_err e);
/* Commit when e is HUB_OK, else roll back: what happened. */
static inline hub_err hpg_end(pg *s, hub_err e)
{
	return e == HUB_OK ? hpg_commit(s) : hpg_rollback(s, e);
}

/* A result's values: text ("" for NULL), text or NULL, a number (0 for NULL), NULL or not. */
static inline const char *hpg_txt(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static inline const char *hpg_opt(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int64_t hpg_int(const PGresult *r, int row, int col);

static inline int hpg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

/* A bytea column into out (its text form decoded): how many bytes, or -1 when it does not fit. */
int hpg_bytes(const PGresult *r, int row, int col, unsigned char *out, size_t len);

static inline void hpg_cpy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* errmsg for a person; returns e. */
__attribute__((format(printf, 3, 4))) static inline hub_err hpg_refuse(pg *s, hub_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->base.errmsg, sizeof s->base.errmsg, fmt, ap);
	va_end(ap);
	return e;
}

/*
 * Text arrays for unnest(): a growing "{...}" literal. Elements are quoted
 * and escaped; NULL is SQL NULL.
 */
typedef struct hpg_arr {
	char *buf;
	size_t len, cap;
	int n, oom;
} hpg_arr;

void hpg_arr_t(hpg_arr *a, const char *v);
void hpg_arr_i(hpg_arr *a, int64_t v);
/* The literal ("{}" when empty), or NULL when memory ran out. */
const char *hpg_arr_done(hpg_arr *a);
void hpg_arr_free(hpg_arr *a);

/* ---- rows every part writes (hub_store_pg_admin.c) ---- */

/* The next value of the venue's sequence for set; its row stays locked until the transaction ends, so a
 * sequence's values commit in their order and a pull's cursor never passes a row committed late. */
int64_t hpg_next_seq(pg *s, const char *venue, hub_set set, hub_err *err);

typedef hub_mrow pmrow;

typedef enum hpg_by { HPG_BY_UID, HPG_BY_PHONE, HPG_BY_CODE } hpg_by;

/* 1 found, 0 not, or a negative hub_err. */
int hpg_member_find(pg *s, hpg_by by, const char *a, const char *b, pmrow *m);
hub_err hpg_member_insert(pg *s, const char *uid, const char *venue, const char *name, const char *phone,
			  const char *code, const char *tier, const char *expires, int provisional,
			  const char *merged_into, const char *device, int64_t now);
hub_err hpg_event_insert(pg *s, const char *uid, const char *venue, const char *title, int64_t start, int64_t end,
			 const char *device, int64_t now);

/* A drop-in's attendance key: its venue-local day YYYY-MM-DD as -YYYYMMDD (an event's is the event's rid). */
static inline int64_t hpg_day_key(const char *day)
{
	int y = 0, mo = 0, d = 0;
	sscanf(day, "%d-%d-%d", &y, &mo, &d);
	return -((int64_t)y * 10000 + mo * 100 + d);
}

/* Check-ins as the export and the console's pages read them: HPG_CHECKIN_SELECT " WHERE ...". */
#define HPG_CHECKIN_SELECT                                                                                      \
	"SELECT c.id, c.device_id, c.member_uid, m.name, c.event_uid, e.title, c.method, c.day,"                 \
	" c.duplicate_of, c.wall_ms, c.offset_ms, c.corrected_ms, c.received_ms, c.reversed"                     \
	" FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid LEFT JOIN events e ON e.uid = c.event_uid"
/* Each row of r (an HPG_CHECKIN_SELECT's result) to fn until fn returns nonzero. */
void hpg_checkins_of(const PGresult *r, int (*fn)(const hub_checkin_row *row, void *ctx), void *ctx);

/* ---- hub_store_pg_admin.c ---- */

hub_err hpg_venue_add(hub_store *b, const char *name, const char *tz, int64_t now, hub_venue *out);
hub_err hpg_venue_get(hub_store *b, const char *id, hub_venue *out);
hub_err hpg_venues_each(hub_store *b, int (*fn)(const hub_venue *v, void *ctx), void *ctx);
hub_err hpg_code_add(hub_store *b, const char *venue, const unsigned char hash[HUB_HASH_LEN], int64_t expires_ms,
		     int64_t now);
hub_err hpg_enroll(hub_store *b, const unsigned char code_hash[HUB_HASH_LEN], const hub_device *dev, int64_t now,
		   hub_venue *venue);
hub_err hpg_device_get(hub_store *b, const char *id, hub_device *out);
hub_err hpg_devices_each(hub_store *b, const char *venue, int (*fn)(const hub_device *d, void *ctx), void *ctx);
hub_err hpg_device_revoke(hub_store *b, const char *id, int64_t now);
hub_err hpg_members_begin(hub_store *b, const char *venue);
int hpg_members_row(hub_store *b, const store_member *m, int *how, char *why, size_t len, int64_t now);
hub_err hpg_members_commit(hub_store *b);
void hpg_members_rollback(hub_store *b);
hub_err hpg_event_add(hub_store *b, const char *venue, const char *title, int64_t start, int64_t end, int64_t now,
		      char uid[HUB_ID_MAX]);
hub_err hpg_link_add(hub_store *b, const hub_link_new *l, int64_t now, char uid[HUB_ID_MAX]);
hub_err hpg_live(hub_store *b, const char *slug, const char *ref, int64_t now, char url[HUB_URL_MAX]);
hub_err hpg_checkins_each(hub_store *b, const char *venue, int (*fn)(const hub_checkin_row *r, void *ctx),
			  void *ctx);
hub_err hpg_records_each(hub_store *b, const char *venue, int (*fn)(const hub_record_row *r, void *ctx), void *ctx);

/* ---- hub_store_pg_account.c ---- */

hub_err hpg_user_add(hub_store *b, const char *email, hub_role role, const char *venue,
		     const unsigned char setup_hash[HUB_HASH_LEN], int64_t setup_expires_ms, int64_t now,
		     hub_user *out);
hub_err hpg_user_get(hub_store *b, const char *id_or_email, hub_user *out);
hub_err hpg_users_each(hub_store *b, int (*fn)(const hub_user *u, void *ctx), void *ctx);
hub_err hpg_user_venues_each(hub_store *b, const char *user, int (*fn)(const char *venue_id, void *ctx), void *ctx);
hub_err hpg_user_venue_add(hub_store *b, const char *user, const char *venue);
int hpg_user_may(hub_store *b, const hub_user *u, const char *venue);
hub_err hpg_user_set_setup(hub_store *b, const char *user, const unsigned char setup_hash[HUB_HASH_LEN],
			   int64_t expires_ms, int64_t now);
hub_err hpg_user_by_setup(hub_store *b, const unsigned char setup_hash[HUB_HASH_LEN], int64_t now, hub_user *out);
hub_err hpg_user_set_password(hub_store *b, const char *user, const char *pwhash, int64_t now);
hub_err hpg_user_disable(hub_store *b, const char *user, int disabled, int64_t now);
hub_err hpg_login_failed(hub_store *b, const char *key, int64_t now);
hub_err hpg_login_failures(hub_store *b, const char *key, int64_t since_ms, int64_t *count);
hub_err hpg_login_clear(hub_store *b, const char *key);
hub_err hpg_session_add(hub_store *b, const hub_session *ses);
hub_err hpg_session_get(hub_store *b, const unsigned char hash[HUB_HASH_LEN], int64_t idle_after_ms, int64_t now,
			hub_session *out, hub_user *user);
hub_err hpg_session_end(hub_store *b, const unsigned char hash[HUB_HASH_LEN]);
hub_err hpg_sessions_end_user(hub_store *b, const char *user);
hub_err hpg_audit_add(hub_store *b, const char *user, const char *venue, const char *action, const char *detail,
		      int64_t now);
hub_err hpg_audit_each(hub_store *b, const char *venue, int limit, int (*fn)(const hub_audit_row *r, void *ctx),
		       void *ctx);

/* ---- hub_store_pg_console.c ---- */

hub_err hpg_set_seq(hub_store *b, const char *venue, hub_set set, int64_t *out);
hub_err hpg_members_each(hub_store *b, const char *venue, int (*fn)(const hub_member *m, void *ctx), void *ctx);
hub_err hpg_member_get(hub_store *b, const char *uid, hub_member *out);
hub_err hpg_member_by_rid(hub_store *b, int64_t rid, hub_member *out);
hub_err hpg_member_update(hub_store *b, const char *uid, const char *tier, const char *expires, const char *code,
			  int64_t now);
hub_err hpg_member_merge(hub_store *b, const char *keep_uid, const char *gone_uid, int64_t now);
hub_err hpg_member_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				 void *ctx);
hub_err hpg_events_each(hub_store *b, const char *venue, int (*fn)(const hub_event *e, void *ctx), void *ctx);
hub_err hpg_event_get(hub_store *b, const char *uid, hub_event *out);
hub_err hpg_event_update(hub_store *b, const char *uid, const char *title, int64_t start, int64_t end, int64_t now);
hub_err hpg_event_cancel(hub_store *b, const char *uid, int64_t now);
hub_err hpg_event_checkins_each(hub_store *b, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				void *ctx);
hub_err hpg_event_count(hub_store *b, const char *uid, hub_event_tally *out);
hub_err hpg_links_each(hub_store *b, const char *venue, int (*fn)(const hub_link *l, void *ctx), void *ctx);
hub_err hpg_link_get(hub_store *b, const char *uid, hub_link *out);
hub_err hpg_link_expire(hub_store *b, const char *uid, int64_t now);
hub_err hpg_link_remove(hub_store *b, const char *uid, int64_t now);
hub_err hpg_device_queue_set(hub_store *b, const char *device, const hub_queue_state *qs);
hub_err hpg_device_queue_get(hub_store *b, const char *device, hub_queue_state *out);
hub_err hpg_device_rejected(hub_store *b, const char *device, int64_t *count);

/* ---- hub_store_pg_dash.c ---- */

/*
 * What a change tells the dashboard, inside the change's own transaction
 * (as hsq_dash_* do for SQLite; a part that reads the base tables directly
 * may do nothing here).
 */
hub_err hpg_dash_reversed(pg *s, const char *checkin_id);
hub_err hpg_dash_member_changed(pg *s, const char *uid);
hub_err hpg_dash_merging(pg *s, int64_t keep_rid, int64_t gone_rid);
/* Count a live code's redirect (hit) or miss for the day, with its ref. */
hub_err hpg_dash_live(pg *s, const char *slug, const char *ref, int hit, int64_t now);
/* A new connection: the part's per-connection state starts again (prepared statements are gone). */
void hpg_dash_reset(pg *s);
void hpg_dash_close(pg *s);

hub_err hpg_dash_refresh(hub_store *b, const char *venue);
hub_err hpg_dash_attendance(hub_store *b, const hub_period *p, hub_dash_attendance *out);
hub_err hpg_dash_events(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_event *e, void *ctx),
			void *ctx);
hub_err hpg_dash_funnel(hub_store *b, const hub_period *p, hub_dash_funnel *out);
hub_err hpg_dash_cohorts(hub_store *b, const hub_period *p, hub_dash_cohorts *out);
hub_err hpg_dash_members(hub_store *b, const hub_period *p, hub_dash_list list, const char *arg, int64_t n,
			 int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx);
hub_err hpg_dash_referrers(hub_store *b, const hub_period *p, int limit,
			   int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx);
hub_err hpg_referral_of(hub_store *b, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
			void *ctx);
hub_err hpg_dash_referral_tree(hub_store *b, const char *member_uid, int max_depth,
			       int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx);
hub_err hpg_dash_redirects(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_redirects *r, void *ctx),
			   void *ctx);
hub_err hpg_dash_links(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_link *l, void *ctx),
		       void *ctx);
hub_err hpg_dash_groups(hub_store *b, const hub_period *p, hub_dash_groups *out);
hub_err hpg_dash_tiers(hub_store *b, const hub_period *p, int (*fn)(const hub_dash_tier *t, void *ctx), void *ctx,
		       hub_dash_tiers *out);
hub_err hpg_referral_add(hub_store *b, const char *member_uid, const char *referrer_uid, const char *via,
			 int64_t at_ms);

/* ---- hub_store_pg_pass.c ---- */

extern const hub_pass_ops hpg_pass_ops;
extern const hub_webhook_ops hpg_webhook_ops;

#endif
