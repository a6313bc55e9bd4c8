/*
 * store — the kiosk's local SQLite database.
 *
 * Schema (version 1, PRAGMA user_version = 1, PRAGMA application_id = 0x54475a49 "TGZI"):
 *
 *   settings(key PRIMARY KEY, value)          device_id, device_seq, venue_name, language, ...
 *   members(id, uid UNIQUE, name, phone UNIQUE, code UNIQUE, tier, expires, provisional,
 *           created_ms, updated_ms)           phone and code are NULL when absent
 *   events(id, uid UNIQUE, title, start_ms, end_ms)   CHECK(end_ms > start_ms)
 *   checkins(id TEXT PRIMARY KEY, member_id, event_id NULL for a drop-in,
 *            attendance_key, method, wall_ms, mono_ms, boot_id, device_id, device_seq,
 *            visit_no, expired)               UNIQUE(member_id, attendance_key)
 *   outbox(seq INTEGER PRIMARY KEY, kind, record_id UNIQUE, body JSON, created_ms)
 *
 * attendance_key is "e:<event uid>" for an event and "d:YYYY-MM-DD" for a drop-in
 * visit, so "once per event" is a unique index, not a check in C.
 *
 * Durability: journal_mode=WAL and synchronous=FULL, so a COMMIT has reached
 * the disk when sqlite3_step() returns. Every write that belongs together runs
 * in one BEGIN IMMEDIATE transaction: a check-in, its outbox row and the
 * device sequence; a walk-in member and its outbox row; a whole CSV import.
 * On any error the transaction is rolled back and the caller told; nothing is
 * half-written.
 *
 * Migrations: migrations[i] takes the schema from version i to i + 1, each in
 * its own transaction with the new user_version. A database whose version is
 * newer than this program's is refused before anything is written, as is a
 * file that is not a database or belongs to another program.
 *
 * All statements are prepared once per handle (stmt_*) and reset after use.
 */
#include "sync/store.h"

#include "sync/clock.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_APP_ID 0x54475a49

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE members(id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	" phone TEXT UNIQUE, code TEXT UNIQUE, tier TEXT NOT NULL DEFAULT '', expires TEXT NOT NULL DEFAULT '',"
	" provisional INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE TABLE events(id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
	" start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, CHECK(end_ms > start_ms));"
	"CREATE INDEX events_time ON events(start_ms);"
	"CREATE TABLE checkins(id TEXT PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(id),"
	" event_id INTEGER REFERENCES events(id), attendance_key TEXT NOT NULL, method TEXT NOT NULL,"
	" wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL, boot_id TEXT NOT NULL, device_id TEXT NOT NULL,"
	" device_seq INTEGER NOT NULL, visit_no INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(member_id, attendance_key));"
	"CREATE INDEX checkins_event ON checkins(event_id, wall_ms);"
	"CREATE INDEX checkins_time ON checkins(wall_ms);"
	"CREATE TABLE outbox(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE,"
	" body TEXT NOT NULL, created_ms INTEGER NOT NULL);",
};

enum {
	Q_SETTING_GET,
	Q_SETTING_SET,
	Q_MEMBER_GET,
	Q_MEMBERS_ALL,
	Q_MEMBER_COUNT,
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
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_SETTING_GET] = "SELECT value FROM settings WHERE key=?1",
	[Q_SETTING_SET] = "INSERT INTO settings(key,value) VALUES(?1,?2)"
			  " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
#define MEMBER_COLS "id, name, ifnull(phone,''), ifnull(code,''), tier, expires, provisional, uid"
	[Q_MEMBER_GET] = "SELECT " MEMBER_COLS " FROM members WHERE id=?1",
	[Q_MEMBERS_ALL] = "SELECT " MEMBER_COLS " FROM members ORDER BY id",
	[Q_MEMBER_COUNT] = "SELECT count(*) FROM members",
	[Q_MEMBER_BY_CODE] = "SELECT " MEMBER_COLS " FROM members WHERE code=?1",
	[Q_MEMBER_BY_PHONE] = "SELECT " MEMBER_COLS " FROM members WHERE phone=?1",
	[Q_MEMBER_INSERT] = "INSERT INTO members(uid,name,phone,code,tier,expires,provisional,created_ms,updated_ms)"
			    " VALUES(?1,?2,nullif(?3,''),nullif(?4,''),?5,?6,?7,?8,?8)",
	[Q_MEMBER_UPDATE] = "UPDATE members SET name=?2, phone=nullif(?3,''), code=nullif(?4,''), tier=?5,"
			    " expires=?6, provisional=0, updated_ms=?7 WHERE id=?1",
	[Q_EVENT_INSERT] = "INSERT INTO events(uid,title,start_ms,end_ms) VALUES(?1,?2,?3,?4)",
	[Q_EVENT_CURRENT] = "SELECT id,title,start_ms,end_ms FROM events WHERE start_ms<=?1 AND end_ms>?1"
			    " ORDER BY start_ms DESC, id DESC LIMIT 1",
	[Q_EVENT_GET] = "SELECT id,title,start_ms,end_ms FROM events WHERE id=?1",
	[Q_EVENT_UID] = "SELECT uid FROM events WHERE id=?1",
	[Q_EVENTS_ALL] = "SELECT id,title,start_ms,end_ms FROM events ORDER BY start_ms, id",
#define CHECKIN_COLS                                                                                              \
	"c.id, c.member_id, ifnull(c.event_id,0), c.method, c.wall_ms, c.mono_ms, c.boot_id, c.device_seq,"   \
	" c.visit_no, c.expired"
	[Q_ATTENDANCE] = "SELECT " CHECKIN_COLS " FROM checkins c WHERE c.member_id=?1 AND c.attendance_key=?2",
	[Q_VISITS] = "SELECT count(*) FROM checkins WHERE member_id=?1",
	[Q_CHECKIN_INSERT] = "INSERT INTO checkins(id,member_id,event_id,attendance_key,method,wall_ms,mono_ms,"
			     "boot_id,device_id,device_seq,visit_no,expired)"
			     " VALUES(?1,?2,nullif(?3,0),?4,?5,?6,?7,?8,?9,?10,?11,?12)",
	[Q_OUTBOX_CHECKIN] =
		"INSERT INTO outbox(kind,record_id,body,created_ms)"
		" SELECT 'checkin', c.id, json_object('id',c.id,'member',m.uid,'event',e.uid,'method',c.method,"
		" 'wall_ms',c.wall_ms,'mono_ms',c.mono_ms,'boot_id',c.boot_id,'device',c.device_id,'seq',c.device_seq,"
		" 'expired',c.expired), c.wall_ms"
		" FROM checkins c JOIN members m ON m.id=c.member_id LEFT JOIN events e ON e.id=c.event_id"
		" WHERE c.id=?1",
	[Q_OUTBOX_MEMBER] = "INSERT INTO outbox(kind,record_id,body,created_ms)"
			    " SELECT 'member', uid, json_object('uid',uid,'name',name,'phone',phone,"
			    " 'provisional',provisional,'created_ms',created_ms), created_ms FROM members WHERE id=?1",
	[Q_OUTBOX_COUNT] = "SELECT count(*) FROM outbox",
#define ROW_COLS CHECKIN_COLS ", m.name, ifnull(m.code,''), ifnull(e.title,'')"
#define ROW_FROM " FROM checkins c JOIN members m ON m.id=c.member_id LEFT JOIN events e ON e.id=c.event_id"
	[Q_CHECKINS_ALL] = "SELECT " ROW_COLS ROW_FROM " ORDER BY c.wall_ms, c.device_seq",
	[Q_CHECKINS_EVENT] = "SELECT " ROW_COLS ROW_FROM " WHERE c.event_id=?1 ORDER BY c.wall_ms, c.device_seq",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	int readonly;
	char device_id[STORE_ID_MAX];
	char errmsg[256];
};

const char *store_strerror(store_err err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_ERR_OPEN:
		return "cannot open the database";
	case STORE_ERR_NOTADB:
		return "not a tingzi database, or damaged";
	case STORE_ERR_TOO_NEW:
		return "the database was written by a newer tingzi";
	case STORE_ERR_READONLY:
		return "the database is read-only";
	case STORE_ERR_FULL:
		return "the disk is full";
	case STORE_ERR_IO:
		return "disk input/output error";
	case STORE_ERR_BUSY:
		return "the database is locked by another program";
	case STORE_ERR_NOT_FOUND:
		return "not found";
	case STORE_ERR_EXISTS:
		return "already exists";
	case STORE_ERR_INVALID:
		return "invalid value";
	case STORE_ERR_INTERNAL:
		break;
	}
	return "internal database error";
}

/* Map an SQLite result code to a store error and remember the message. */
static store_err fail(store *s, int rc)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_ERR_FULL;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return STORE_ERR_READONLY;
	case SQLITE_IOERR:
		return STORE_ERR_IO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_ERR_BUSY;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return STORE_ERR_NOTADB;
	case SQLITE_CONSTRAINT:
		return STORE_ERR_EXISTS;
	default:
		return STORE_ERR_INTERNAL;
	}
}

const char *store_errmsg(const store *s)
{
	return s ? s->errmsg : "no database";
}

int store_is_readonly(const store *s)
{
	return s->readonly;
}

const char *store_device_id(const store *s)
{
	return s->device_id;
}

static sqlite3_stmt *q(store *s, int i)
{
	sqlite3_reset(s->stmt[i]);
	sqlite3_clear_bindings(s->stmt[i]);
	return s->stmt[i];
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void copy_col(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static store_err exec(store *s, const char *text)
{
	int rc = sqlite3_exec(s->db, text, NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : fail(s, rc);
}

static store_err refuse_readonly(store *s)
{
	snprintf(s->errmsg, sizeof s->errmsg, "the database is open read-only");
	return STORE_ERR_READONLY;
}

static store_err begin(store *s)
{
	return s->readonly ? refuse_readonly(s) : exec(s, "BEGIN IMMEDIATE");
}

static store_err commit(store *s)
{
	store_err err = exec(s, "COMMIT");
	if (err != STORE_OK)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static void rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Run a one-integer query. */
static int64_t scalar(store *s, const char *text, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(s->db, text, -1, &st, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- open ---- */

static store_err check_and_migrate(store *s, const char *path, char *errbuf, size_t errlen)
{
	/* Reading the header is the first access: a non-database fails here. */
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	int64_t tables = rc == SQLITE_OK ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		store_err e = fail(s, rc);
		snprintf(errbuf, errlen, "%s: %s (%s)", path,
			 e == STORE_ERR_NOTADB ? "not a tingzi database, or damaged" : store_strerror(e),
			 s->errmsg);
		return e == STORE_ERR_NOTADB || e == STORE_ERR_INTERNAL ? STORE_ERR_NOTADB : e;
	}
	int64_t version = scalar(s, "PRAGMA user_version", -1);
	int64_t app = scalar(s, "PRAGMA application_id", -1);
	if (tables > 0 && app != STORE_APP_ID) {
		snprintf(errbuf, errlen, "%s: an SQLite database of another program, not tingzi's; left untouched",
			 path);
		return STORE_ERR_NOTADB;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen,
			 "%s: written by a newer tingzi (schema %lld; this program knows up to %d); left untouched",
			 path, (long long)version, STORE_SCHEMA_VERSION);
		return STORE_ERR_TOO_NEW;
	}
	for (int64_t v = version < 0 ? 0 : version; v < STORE_SCHEMA_VERSION; v++) {
		char set[96];
		store_err e = begin(s);
		if (e == STORE_OK)
			e = exec(s, migrations[v]);
		snprintf(set, sizeof set, "PRAGMA user_version=%lld; PRAGMA application_id=%d", (long long)v + 1,
			 STORE_APP_ID);
		if (e == STORE_OK)
			e = exec(s, set);
		if (e == STORE_OK && v == 0) {
			char id[STORE_ID_MAX], ins[160];
			if (clock_new_id(id) != 0) {
				e = STORE_ERR_INTERNAL;
			} else {
				snprintf(ins, sizeof ins,
					 "INSERT INTO settings VALUES('device_id','%s'),('device_seq','0')", id);
				e = exec(s, ins);
			}
		}
		if (e == STORE_OK)
			e = commit(s);
		if (e != STORE_OK) {
			rollback(s);
			snprintf(errbuf, errlen, "%s: cannot bring the schema to version %lld: %s", path,
				 (long long)v + 1, s->errmsg);
			return e;
		}
	}
	return STORE_OK;
}

store_err store_open(const char *path, int flags, store **out, char *errbuf, size_t errlen)
{
	char scratch[8];
	if (!errbuf) {
		errbuf = scratch;
		errlen = sizeof scratch;
	}
	errbuf[0] = '\0';
	*out = NULL;
	store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return STORE_ERR_INTERNAL;
	}
	store_err err = STORE_OK;
	int oflags = SQLITE_OPEN_READWRITE | (flags & STORE_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
	if (!(flags & STORE_OPEN_CREATE) && access(path, F_OK) != 0) {
		snprintf(errbuf, errlen, "%s: no such database (create one with 'tingzi members import' or 'demo')",
			 path);
		free(s);
		return STORE_ERR_OPEN;
	}
	int rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		err = fail(s, rc);
		snprintf(errbuf, errlen, "%s: cannot open: %s", path, s->errmsg);
		err = err == STORE_ERR_READONLY ? STORE_ERR_READONLY : STORE_ERR_OPEN;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	s->readonly = sqlite3_db_readonly(s->db, "main") == 1;
	if (!s->readonly && access(path, W_OK) != 0)
		s->readonly = 1;
	if ((err = check_and_migrate(s, path, errbuf, errlen)) != STORE_OK)
		goto out;
	if (s->readonly && !(flags & STORE_OPEN_READONLY_OK)) {
		snprintf(errbuf, errlen, "%s: the database is read-only", path);
		err = STORE_ERR_READONLY;
		goto out;
	}
	if (!s->readonly) {
		char *mode = NULL;
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
				  NULL, NULL, &mode);
		sqlite3_free(mode);
		if (rc != SQLITE_OK) {
			err = fail(s, rc);
			snprintf(errbuf, errlen, "%s: cannot set up the journal: %s", path, s->errmsg);
			goto out;
		}
	}
	for (int i = 0; i < Q_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			err = fail(s, rc);
			snprintf(errbuf, errlen, "%s: %s", path, s->errmsg);
			goto out;
		}
	}
	if (store_setting_get(s, "device_id", s->device_id, sizeof s->device_id) != STORE_OK) {
		snprintf(errbuf, errlen, "%s: the database has no device id", path);
		err = STORE_ERR_NOTADB;
		goto out;
	}
	*out = s;
	return STORE_OK;
out:
	store_close(s);
	return err;
}

void store_close(store *s)
{
	if (!s)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- settings ---- */

store_err store_setting_get(store *s, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st = q(s, Q_SETTING_GET);
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, buf, len);
		sqlite3_reset(st);
		return STORE_OK;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : fail(s, rc);
}

static store_err step_done(store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(s, rc);
}

store_err store_setting_set(store *s, const char *key, const char *value)
{
	if (s->readonly)
		return refuse_readonly(s);
	sqlite3_stmt *st = q(s, Q_SETTING_SET);
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return step_done(s, st);
}

/* ---- members ---- */

static void read_member(sqlite3_stmt *st, store_member *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, m->name, sizeof m->name);
	copy_col(st, 2, m->phone, sizeof m->phone);
	copy_col(st, 3, m->code, sizeof m->code);
	copy_col(st, 4, m->tier, sizeof m->tier);
	copy_col(st, 5, m->expires, sizeof m->expires);
	m->provisional = sqlite3_column_int(st, 6);
}

/* Step a member query expected to give at most one row. */
static store_err one_member(store *s, sqlite3_stmt *st, store_member *out)
{
	int rc = sqlite3_step(st);
	store_err err = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : fail(s, rc);
	if (err == STORE_OK && out)
		read_member(st, out);
	sqlite3_reset(st);
	return err;
}

store_err store_members_foreach(store *s, int (*fn)(const store_member *m, void *ctx), void *ctx)
{
	sqlite3_stmt *st = q(s, Q_MEMBERS_ALL);
	store_member m;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_member(st, &m);
		if (fn(&m, ctx))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(s, rc);
}

store_err store_member_get(store *s, int64_t id, store_member *out)
{
	sqlite3_stmt *st = q(s, Q_MEMBER_GET);
	sqlite3_bind_int64(st, 1, id);
	return one_member(s, st, out);
}

int64_t store_member_count(store *s)
{
	sqlite3_stmt *st = q(s, Q_MEMBER_COUNT);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

store_err store_import_begin(store *s)
{
	return begin(s);
}

store_err store_import_member(store *s, const store_member *m, int *updated)
{
	store_member old;
	store_err err = STORE_ERR_NOT_FOUND;
	*updated = 0;
	if (!m->name[0] || (!m->phone[0] && !m->code[0]))
		return STORE_ERR_INVALID;
	if (m->code[0]) {
		sqlite3_stmt *st = q(s, Q_MEMBER_BY_CODE);
		bind_text(st, 1, m->code);
		err = one_member(s, st, &old);
	} else {
		sqlite3_stmt *st = q(s, Q_MEMBER_BY_PHONE);
		bind_text(st, 1, m->phone);
		err = one_member(s, st, &old);
	}
	if (err != STORE_OK && err != STORE_ERR_NOT_FOUND)
		return err;
	int64_t now = clock_wall_ms();
	sqlite3_stmt *st;
	if (err == STORE_OK) {
		if (strcmp(old.name, m->name) == 0 && strcmp(old.phone, m->phone) == 0 &&
		    strcmp(old.tier, m->tier) == 0 && strcmp(old.expires, m->expires) == 0 && !old.provisional) {
			*updated = 2; /* unchanged */
			return STORE_OK;
		}
		st = q(s, Q_MEMBER_UPDATE);
		sqlite3_bind_int64(st, 1, old.id);
		sqlite3_bind_int64(st, 7, now);
		*updated = 1;
	} else {
		char uid[STORE_ID_MAX];
		if (clock_new_id(uid) != 0)
			return STORE_ERR_INTERNAL;
		st = q(s, Q_MEMBER_INSERT);
		bind_text(st, 1, uid);
		sqlite3_bind_int(st, 7, 0);
		sqlite3_bind_int64(st, 8, now);
	}
	bind_text(st, 2, m->name);
	bind_text(st, 3, m->phone);
	bind_text(st, 4, m->code);
	bind_text(st, 5, m->tier);
	bind_text(st, 6, m->expires);
	return step_done(s, st);
}

store_err store_import_commit(store *s)
{
	return commit(s);
}

void store_import_rollback(store *s)
{
	rollback(s);
}

store_err store_member_register(store *s, const char *name, const char *phone, int64_t now_ms,
				store_member *out)
{
	char uid[STORE_ID_MAX];
	if (!name[0] || !phone[0] || strlen(name) >= STORE_NAME_MAX || strlen(phone) >= STORE_PHONE_MAX)
		return STORE_ERR_INVALID;
	store_err err = begin(s);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = q(s, Q_MEMBER_BY_PHONE);
	bind_text(st, 1, phone);
	err = one_member(s, st, out);
	if (err == STORE_OK) {
		rollback(s);
		return STORE_ERR_EXISTS;
	}
	if (err != STORE_ERR_NOT_FOUND || clock_new_id(uid) != 0)
		goto fail;
	st = q(s, Q_MEMBER_INSERT);
	bind_text(st, 1, uid);
	bind_text(st, 2, name);
	bind_text(st, 3, phone);
	bind_text(st, 4, "");
	bind_text(st, 5, "");
	bind_text(st, 6, "");
	sqlite3_bind_int(st, 7, 1);
	sqlite3_bind_int64(st, 8, now_ms);
	if ((err = step_done(s, st)) != STORE_OK)
		goto fail;
	int64_t id = sqlite3_last_insert_rowid(s->db);
	st = q(s, Q_OUTBOX_MEMBER);
	sqlite3_bind_int64(st, 1, id);
	if ((err = step_done(s, st)) != STORE_OK || (err = commit(s)) != STORE_OK)
		goto fail;
	return store_member_get(s, id, out);
fail:
	rollback(s);
	return err == STORE_OK ? STORE_ERR_INTERNAL : err;
}

/* ---- events ---- */

store_err store_event_add(store *s, const char *title, int64_t start_ms, int64_t end_ms, int64_t *id_out)
{
	char uid[STORE_ID_MAX];
	if (!title[0] || strlen(title) >= STORE_TITLE_MAX || end_ms <= start_ms)
		return STORE_ERR_INVALID;
	if (s->readonly)
		return refuse_readonly(s);
	if (clock_new_id(uid) != 0)
		return STORE_ERR_INTERNAL;
	sqlite3_stmt *st = q(s, Q_EVENT_INSERT);
	bind_text(st, 1, uid);
	bind_text(st, 2, title);
	sqlite3_bind_int64(st, 3, start_ms);
	sqlite3_bind_int64(st, 4, end_ms);
	store_err err = step_done(s, st);
	if (err == STORE_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return err;
}

static void read_event(sqlite3_stmt *st, store_event *e)
{
	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, e->title, sizeof e->title);
	e->start_ms = sqlite3_column_int64(st, 2);
	e->end_ms = sqlite3_column_int64(st, 3);
}

static store_err one_event(store *s, sqlite3_stmt *st, store_event *out)
{
	int rc = sqlite3_step(st);
	store_err err = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : fail(s, rc);
	if (err == STORE_OK)
		read_event(st, out);
	sqlite3_reset(st);
	return err;
}

store_err store_event_current(store *s, int64_t now_ms, store_event *out)
{
	sqlite3_stmt *st = q(s, Q_EVENT_CURRENT);
	sqlite3_bind_int64(st, 1, now_ms);
	return one_event(s, st, out);
}

store_err store_event_get(store *s, int64_t id, store_event *out)
{
	sqlite3_stmt *st = q(s, Q_EVENT_GET);
	sqlite3_bind_int64(st, 1, id);
	return one_event(s, st, out);
}

store_err store_events_foreach(store *s, int (*fn)(const store_event *e, void *ctx), void *ctx)
{
	sqlite3_stmt *st = q(s, Q_EVENTS_ALL);
	store_event e;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_event(st, &e);
		if (fn(&e, ctx))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(s, rc);
}

/* ---- check-ins ---- */

static void read_checkin(sqlite3_stmt *st, store_checkin *c)
{
	memset(c, 0, sizeof *c);
	copy_col(st, 0, c->id, sizeof c->id);
	c->member_id = sqlite3_column_int64(st, 1);
	c->event_id = sqlite3_column_int64(st, 2);
	copy_col(st, 3, c->method, sizeof c->method);
	c->wall_ms = sqlite3_column_int64(st, 4);
	c->mono_ms = sqlite3_column_int64(st, 5);
	copy_col(st, 6, c->boot_id, sizeof c->boot_id);
	c->device_seq = sqlite3_column_int64(st, 7);
	c->visit_no = sqlite3_column_int(st, 8);
	c->expired = sqlite3_column_int(st, 9);
}

/* Take the next device sequence number (inside the caller's transaction). */
static store_err next_seq(store *s, int64_t *seq)
{
	char buf[32], *end;
	store_err err = store_setting_get(s, "device_seq", buf, sizeof buf);
	if (err != STORE_OK)
		return err == STORE_ERR_NOT_FOUND ? STORE_ERR_NOTADB : err;
	*seq = strtoll(buf, &end, 10) + 1;
	snprintf(buf, sizeof buf, "%lld", (long long)*seq);
	return store_setting_set(s, "device_seq", buf);
}

store_err store_checkin_record(store *s, int64_t member_id, const store_event *event, const char *method,
			       int64_t now_ms, const char *today, store_checkin_status *status,
			       store_checkin *out)
{
	char key[STORE_ID_MAX + 8], uid[STORE_ID_MAX];
	store_member m;
	store_err err;
	sqlite3_stmt *st;
	int rc;

	if (!method[0] || strlen(method) >= STORE_METHOD_MAX || clock_parse_date(today) != 0)
		return STORE_ERR_INVALID;
	if ((err = begin(s)) != STORE_OK)
		return err;
	if ((err = store_member_get(s, member_id, &m)) != STORE_OK)
		goto fail;
	if (event && event->id) {
		/* The event's uid keys attendance, so it means the same on every device. */
		st = q(s, Q_EVENT_UID);
		sqlite3_bind_int64(st, 1, event->id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			snprintf(key, sizeof key, "e:%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			err = rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : fail(s, rc);
			goto fail;
		}
	} else {
		snprintf(key, sizeof key, "d:%s", today);
	}
	st = q(s, Q_ATTENDANCE);
	sqlite3_bind_int64(st, 1, member_id);
	bind_text(st, 2, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_checkin(st, out);
		sqlite3_reset(st);
		rollback(s);
		*status = STORE_CHECKIN_ALREADY;
		return STORE_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = fail(s, rc);
		goto fail;
	}
	memset(out, 0, sizeof *out);
	if (clock_new_id(uid) != 0) {
		err = STORE_ERR_INTERNAL;
		goto fail;
	}
	if ((err = next_seq(s, &out->device_seq)) != STORE_OK)
		goto fail;
	st = q(s, Q_VISITS);
	sqlite3_bind_int64(st, 1, member_id);
	rc = sqlite3_step(st);
	int visits = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	snprintf(out->id, sizeof out->id, "%s", uid);
	out->member_id = member_id;
	out->event_id = event ? event->id : 0;
	snprintf(out->method, sizeof out->method, "%s", method);
	out->wall_ms = now_ms;
	out->mono_ms = clock_mono_ms();
	snprintf(out->boot_id, sizeof out->boot_id, "%s", clock_boot_id());
	out->visit_no = visits + 1;
	out->expired = m.expires[0] && strcmp(m.expires, today) < 0;

	st = q(s, Q_CHECKIN_INSERT);
	bind_text(st, 1, out->id);
	sqlite3_bind_int64(st, 2, member_id);
	sqlite3_bind_int64(st, 3, out->event_id);
	bind_text(st, 4, key);
	bind_text(st, 5, method);
	sqlite3_bind_int64(st, 6, out->wall_ms);
	sqlite3_bind_int64(st, 7, out->mono_ms);
	bind_text(st, 8, out->boot_id);
	bind_text(st, 9, s->device_id);
	sqlite3_bind_int64(st, 10, out->device_seq);
	sqlite3_bind_int(st, 11, out->visit_no);
	sqlite3_bind_int(st, 12, out->expired);
	if ((err = step_done(s, st)) != STORE_OK)
		goto fail;
	st = q(s, Q_OUTBOX_CHECKIN);
	bind_text(st, 1, out->id);
	if ((err = step_done(s, st)) != STORE_OK)
		goto fail;
	if ((err = commit(s)) != STORE_OK)
		return err;
	*status = STORE_CHECKIN_RECORDED;
	return STORE_OK;
fail:
	rollback(s);
	return err;
}

store_err store_checkins_foreach(store *s, int64_t event_id, int (*fn)(const store_checkin_row *r, void *ctx),
				 void *ctx)
{
	sqlite3_stmt *st = q(s, event_id > 0 ? Q_CHECKINS_EVENT : Q_CHECKINS_ALL);
	if (event_id > 0)
		sqlite3_bind_int64(st, 1, event_id);
	store_checkin_row r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_checkin(st, &r.c);
		copy_col(st, 10, r.member_name, sizeof r.member_name);
		copy_col(st, 11, r.member_code, sizeof r.member_code);
		copy_col(st, 12, r.event_title, sizeof r.event_title);
		if (fn(&r, ctx))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : fail(s, rc);
}

int store_member_visits(store *s, int64_t member_id)
{
	sqlite3_stmt *st = q(s, Q_VISITS);
	sqlite3_bind_int64(st, 1, member_id);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

int64_t store_outbox_count(store *s)
{
	sqlite3_stmt *st = q(s, Q_OUTBOX_COUNT);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}
