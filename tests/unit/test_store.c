/*
 * test_store — what the kiosk's database promises, checked in the file.
 *
 * A new file becomes schema version 1 with tingzi's application id, a device
 * id and WAL with synchronous=FULL. A check-in and its outbox row appear
 * together and a second check-in to the same event adds nothing; drop-ins
 * count once per day; visit numbers grow across events; the expired flag
 * follows the membership date. A newer schema, a file that is not a
 * database and another program's database are refused and left byte for
 * byte as they were. A database that cannot be written is refused, or with
 * STORE_OPEN_READONLY_OK read while every write fails with
 * STORE_ERR_READONLY: tried as the kiosk would meet it (an unprivileged user
 * with a read-only file or folder, an immutable file, a read-only mount), as
 * far as this machine allows. A full disk fails the check-in with
 * STORE_ERR_FULL and keeps every earlier row.
 */
#define _GNU_SOURCE /* unshare(), setgroups(), nftw() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/clock.h"
#include "app/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/fs.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TODAY  "2026-05-01"
#define NOBODY 65534

typedef struct fixture {
	char dir[64];
	char path[128];
	store *s;
} fixture;

/* ---- helpers ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tingzi-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	chmod(f->dir, 0755);
	snprintf(f->path, sizeof f->path, "%s/tingzi.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	store_close(f->s);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static store *open_new(fixture *f)
{
	char err[512];
	store_err e = store_open(f->path, STORE_OPEN_CREATE, &f->s, err, sizeof err);
	if (e != STORE_OK)
		fail_msg("store_open: %s", err);
	return f->s;
}

/* One integer from a query on a separate connection, as another program sees the file. */
static int64_t sql_int(const char *path, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* One text from a query on a separate connection, into buf. */
static const char *sql_text(const char *path, const char *q, char *buf, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

/* Run statements on a separate read-write connection. */
static void sql_exec(const char *path, const char *q)
{
	sqlite3 *db;
	char *err = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

struct find {
	const char *code, *phone;
	int64_t id;
};

static int find_member(const store_member *m, void *ctx)
{
	struct find *q = ctx;
	if ((q->code[0] && strcmp(m->code, q->code) == 0) ||
	    (!q->code[0] && strcmp(m->phone, q->phone) == 0)) {
		q->id = m->id;
		return 1;
	}
	return 0;
}

static int64_t member_id_of(store *s, const char *code, const char *phone)
{
	struct find q = {code, phone, 0};
	assert_int_equal(store_members_foreach(s, find_member, &q), STORE_OK);
	assert_true(q.id > 0);
	return q.id;
}

static store_member member_row(const char *name, const char *phone, const char *code, const char *expires)
{
	store_member m = {0};
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	snprintf(m.expires, sizeof m.expires, "%s", expires);
	return m;
}

/* Import one member in its own transaction; returns its id. */
static int64_t add_member(store *s, const char *name, const char *phone, const char *code,
			  const char *expires)
{
	store_member m = member_row(name, phone, code, expires);
	int how = -1;
	assert_int_equal(store_import_begin(s), STORE_OK);
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	assert_int_equal(store_import_commit(s), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_ADDED);
	return member_id_of(s, code, phone);
}

static int64_t add_event(store *s, const char *title, int64_t start)
{
	int64_t id = 0;
	assert_int_equal(store_event_add(s, title, start, start + 3600 * 1000, &id), STORE_OK);
	assert_true(id > 0);
	return id;
}

/* Check member in to event_id (0: a drop-in visit on today). */
static store_checkin_status checkin(store *s, int64_t member, int64_t event_id, const char *today,
				    store_checkin *out)
{
	store_event e = {.id = event_id};
	store_checkin_status st = (store_checkin_status)-1;
	store_err err =
	    store_checkin_record(s, member, event_id ? &e : NULL, "scan", clock_wall_ms(), today, &st, out);
	if (err != STORE_OK)
		fail_msg("check-in: %s (%s)", store_strerror(err), store_errmsg(s));
	return st;
}

/* ---- a new database ---- */

static void test_new_database_is_version_1(void **state)
{
	fixture *f = *state;
	char buf[128], dev[STORE_ID_MAX];
	store *s = open_new(f);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(sql_int(f->path, "PRAGMA application_id"), 0x54475a49);
	static const char *const tables[] = {"settings", "members", "events", "checkins", "outbox"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char q[128];
		snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'",
			 tables[i]);
		assert_int_equal(sql_int(f->path, q), 1);
	}
	/* the device id is made with the file, and kept */
	sql_text(f->path, "SELECT value FROM settings WHERE key='device_id'", buf, sizeof buf);
	assert_int_equal(strlen(buf), 32);
	assert_int_equal(strspn(buf, "0123456789abcdef"), 32);
	assert_string_equal(store_device_id(s), buf);
	assert_string_equal(
	    sql_text(f->path, "SELECT value FROM settings WHERE key='device_seq'", buf, sizeof buf), "0");
	snprintf(dev, sizeof dev, "%s", store_device_id(s));
	store_close(s);
	f->s = NULL;
	s = open_new(f);
	assert_string_equal(store_device_id(s), dev);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM settings WHERE key='device_id'"), 1);
}

static void test_missing_file_without_create(void **state)
{
	fixture *f = *state;
	char err[512];
	store *s = (store *)1;
	assert_int_equal(store_open(f->path, 0, &s, err, sizeof err), STORE_ERR_OPEN);
	assert_null(s);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_wal_and_synchronous_full(void **state)
{
	fixture *f = *state;
	char mode[16];
	int sync = -1;
	store *s = open_new(f);
	assert_int_equal(store_journal_info(s, mode, sizeof mode, &sync), STORE_OK);
	assert_string_equal(mode, "wal");
	assert_int_equal(sync, 2);
	/* a checkpoint when idle is harmless, with or without anything to copy */
	assert_int_equal(store_checkpoint(s), STORE_OK);
	store_member m;
	assert_int_equal(store_member_register(s, "Walk In", "13700000001", 0, &m), STORE_OK);
	assert_int_equal(store_checkpoint(s), STORE_OK);
	/* WAL is a property of the file: another connection sees it too */
	assert_string_equal(sql_text(f->path, "PRAGMA journal_mode", mode, sizeof mode), "wal");
}

static void test_settings(void **state)
{
	fixture *f = *state;
	char buf[64];
	store *s = open_new(f);
	assert_int_equal(store_setting_get(s, "venue_name", buf, sizeof buf), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_setting_set(s, "venue_name", "茶馆"), STORE_OK);
	assert_int_equal(store_setting_set(s, "venue_name", "茶馆 2"), STORE_OK);
	assert_int_equal(store_setting_get(s, "venue_name", buf, sizeof buf), STORE_OK);
	assert_string_equal(buf, "茶馆 2");
}

/* ---- check-ins ---- */

static void test_checkin_and_outbox_commit_together(void **state)
{
	fixture *f = *state;
	store_checkin c1, c2;
	char buf[1024];
	store *s = open_new(f);
	int64_t m = add_member(s, "张三", "13812345678", "TZ1001", "");
	int64_t ev = add_event(s, "Tea night", clock_wall_ms() - 60000);

	assert_int_equal(checkin(s, m, ev, TODAY, &c1), STORE_CHECKIN_RECORDED);
	assert_int_equal(strlen(c1.id), 32);
	assert_int_equal(c1.member_id, m);
	assert_int_equal(c1.event_id, ev);
	assert_int_equal(c1.device_seq, 1);
	assert_int_equal(c1.visit_no, 1);
	assert_int_equal(c1.expired, 0);
	assert_string_equal(c1.method, "scan");
	assert_string_equal(c1.boot_id, clock_boot_id());
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox WHERE kind='checkin'"), 1);
	assert_int_equal(store_outbox_count(s), 1);

	/* the outbox body says what the row says, with the uids the hub knows */
	snprintf(buf, sizeof buf,
		 "SELECT count(*) FROM outbox o, checkins c, members m, events e"
		 " WHERE o.record_id = c.id AND c.id = '%s' AND m.id = c.member_id AND e.id = c.event_id"
		 " AND o.body ->> '$.id' = c.id AND o.body ->> '$.member_uid' = m.uid"
		 " AND o.body ->> '$.event_uid' = e.uid"
		 " AND o.body ->> '$.attendance_key' = 'e:' || e.uid"
		 " AND o.body ->> '$.device_id' = c.device_id AND o.body ->> '$.device_seq' = 1"
		 " AND o.body ->> '$.visit_no' = 1 AND o.body ->> '$.expired' = 0"
		 " AND o.body ->> '$.method' = 'scan' AND o.body ->> '$.wall_ms' = c.wall_ms"
		 " AND o.body ->> '$.mono_ms' = c.mono_ms AND o.body ->> '$.boot_id' = c.boot_id",
		 c1.id);
	assert_int_equal(sql_int(f->path, buf), 1);
	assert_string_equal(sql_text(f->path, "SELECT device_id FROM checkins", buf, sizeof buf),
			    store_device_id(s));

	/* the same member at the same event again: the first row, nothing new */
	assert_int_equal(checkin(s, m, ev, TODAY, &c2), STORE_CHECKIN_ALREADY);
	assert_string_equal(c2.id, c1.id);
	assert_int_equal(c2.wall_ms, c1.wall_ms);
	assert_int_equal(c2.visit_no, 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(sql_int(f->path, "SELECT value FROM settings WHERE key='device_seq'"), 1);
}

static void test_dropin_once_per_day(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_event none = {0};
	store_checkin_status st;
	store *s = open_new(f);
	int64_t m = add_member(s, "李四", "13910015678", "", "");

	assert_int_equal(checkin(s, m, 0, "2026-05-01", &c), STORE_CHECKIN_RECORDED);
	assert_int_equal(c.event_id, 0);
	assert_int_equal(checkin(s, m, 0, "2026-05-01", &c), STORE_CHECKIN_ALREADY);
	/* an event struct with id 0 is a drop-in too */
	assert_int_equal(store_checkin_record(s, m, &none, "phone", clock_wall_ms(), "2026-05-01", &st, &c),
			 STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_ALREADY);
	assert_int_equal(checkin(s, m, 0, "2026-05-02", &c), STORE_CHECKIN_RECORDED);
	assert_int_equal(c.visit_no, 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins WHERE event_id IS NULL"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins WHERE attendance_key IN"
					  " ('d:2026-05-01', 'd:2026-05-02')"),
			 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox WHERE body ->> '$.event_uid' IS NULL"),
			 2);
}

static void test_visit_no_grows_across_events(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store *s = open_new(f);
	int64_t m = add_member(s, "王小明", "13910025678", "TZ1003", "");
	int64_t other = add_member(s, "刘洋", "13810003351", "TZ1004", "");
	int64_t t = clock_wall_ms();
	for (int i = 1; i <= 3; i++) {
		char title[32];
		snprintf(title, sizeof title, "Meeting %d", i);
		int64_t ev = add_event(s, title, t + i * 86400000LL);
		assert_int_equal(checkin(s, m, ev, TODAY, &c), STORE_CHECKIN_RECORDED);
		assert_int_equal(c.visit_no, i);
		assert_int_equal(c.device_seq, 2 * i - 1);
		assert_int_equal(checkin(s, other, ev, TODAY, &c), STORE_CHECKIN_RECORDED);
		assert_int_equal(c.device_seq, 2 * i);
	}
	assert_int_equal(checkin(s, m, 0, TODAY, &c), STORE_CHECKIN_RECORDED);
	assert_int_equal(c.visit_no, 4);
	assert_int_equal(store_member_visits(s, m), 4);
	assert_int_equal(store_member_visits(s, other), 3);
}

static void test_expired_flag(void **state)
{
	static const struct {
		const char *expires;
		int expired;
	} cases[] = {
	    {"", 0},           {"2026-04-30", 1}, {"2025-12-31", 1},
	    {"2026-05-01", 0}, {"2026-05-02", 0}, {"2030-01-01", 0},
	};
	fixture *f = *state;
	store_checkin c;
	store *s = open_new(f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char phone[16], q[160];
		snprintf(phone, sizeof phone, "1380000%04zu", i);
		int64_t m = add_member(s, "Member", phone, "", cases[i].expires);
		assert_int_equal(checkin(s, m, 0, TODAY, &c), STORE_CHECKIN_RECORDED);
		if (c.expired != cases[i].expired)
			fail_msg("expires \"%s\" on %s: expired %d", cases[i].expires, TODAY, c.expired);
		snprintf(q, sizeof q, "SELECT expired FROM checkins WHERE id = '%s'", c.id);
		assert_int_equal(sql_int(f->path, q), cases[i].expired);
	}
}

static void test_checkin_refusals_write_nothing(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_checkin_status st;
	store_event gone = {.id = 999};
	store *s = open_new(f);
	int64_t m = add_member(s, "张三", "13812345678", "TZ1001", "");
	int64_t now = clock_wall_ms();
	assert_int_equal(store_checkin_record(s, m, NULL, "scan", now, "2026-13-01", &st, &c),
			 STORE_ERR_INVALID);
	assert_int_equal(store_checkin_record(s, m, NULL, "", now, TODAY, &st, &c), STORE_ERR_INVALID);
	assert_int_equal(store_checkin_record(s, m, NULL, "a-method-far-too-long", now, TODAY, &st, &c),
			 STORE_ERR_INVALID);
	assert_int_equal(store_checkin_record(s, m + 100, NULL, "scan", now, TODAY, &st, &c),
			 STORE_ERR_NOT_FOUND);
	assert_int_equal(store_checkin_record(s, m, &gone, "scan", now, TODAY, &st, &c), STORE_ERR_NOT_FOUND);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(f->path, "SELECT value FROM settings WHERE key='device_seq'"), 0);
	/* and the handle is usable afterwards: no transaction was left open */
	assert_int_equal(checkin(s, m, 0, TODAY, &c), STORE_CHECKIN_RECORDED);
	assert_int_equal(c.device_seq, 1);
}

/* The plan SQLite makes for q, its steps joined by "; ". */
static const char *query_plan(const char *path, const char *q, char *buf, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char text[512];
	size_t n = 0;
	buf[0] = '\0';
	snprintf(text, sizeof text, "EXPLAIN QUERY PLAN %s", q);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, text, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s; ", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

static void test_visit_count_uses_an_index(void **state)
{
	/* The check-in's lookups stay fast with a million rows only if they use an index. */
	static const struct {
		const char *query, *plan;
	} cases[] = {
	    {"SELECT count(*) FROM checkins WHERE member_id = 1", "USING COVERING INDEX"},
	    {"SELECT id FROM checkins WHERE member_id = 1 AND attendance_key = 'd:2026-05-01'",
	     "(member_id=? AND attendance_key=?)"},
	    {"SELECT uid FROM events WHERE id = 1", "USING INTEGER PRIMARY KEY"},
	    {"SELECT value FROM settings WHERE key = 'device_seq'", "USING INDEX"},
	};
	fixture *f = *state;
	char plan[512];
	open_new(f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!strstr(query_plan(f->path, cases[i].query, plan, sizeof plan), cases[i].plan))
			fail_msg("%s: %s", cases[i].query, plan);
}

struct list {
	int n;
	char titles[8][STORE_TITLE_MAX];
};

static int collect(const store_checkin_row *r, void *ctx)
{
	struct list *l = ctx;
	if (l->n < 8)
		snprintf(l->titles[l->n], sizeof l->titles[0], "%.60s/%.60s", r->member_name, r->event_title);
	l->n++;
	return 0;
}

static void test_events_and_lists(void **state)
{
	fixture *f = *state;
	store_event e;
	store_checkin c;
	struct list l = {0};
	int64_t id;
	store *s = open_new(f);
	int64_t t = 1000000000000LL;
	assert_int_equal(store_event_add(s, "", t, t + 1, &id), STORE_ERR_INVALID);
	assert_int_equal(store_event_add(s, "Zero length", t, t, &id), STORE_ERR_INVALID);
	int64_t a = add_event(s, "Afternoon", t);         /* t .. t+1h */
	int64_t b = add_event(s, "Talk", t + 30 * 60000); /* t+30m .. t+1h30m */
	assert_int_equal(store_event_current(s, t - 1, &e), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_event_current(s, t + 10 * 60000, &e), STORE_OK);
	assert_int_equal(e.id, a);
	assert_int_equal(store_event_current(s, t + 40 * 60000, &e), STORE_OK); /* the latest started */
	assert_int_equal(e.id, b);
	assert_string_equal(e.title, "Talk");
	assert_int_equal(store_event_get(s, a, &e), STORE_OK);
	assert_string_equal(e.title, "Afternoon");
	assert_int_equal(store_event_get(s, 999, &e), STORE_ERR_NOT_FOUND);

	int64_t m = add_member(s, "张三", "13812345678", "TZ1001", "");
	checkin(s, m, a, TODAY, &c);
	checkin(s, m, b, TODAY, &c);
	assert_int_equal(store_checkins_foreach(s, b, collect, &l), STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.titles[0], "张三/Talk");
	l.n = 0;
	assert_int_equal(store_checkins_foreach(s, 0, collect, &l), STORE_OK);
	assert_int_equal(l.n, 2);
}

/* ---- members ---- */

static void test_register_walkin(void **state)
{
	fixture *f = *state;
	store_member m, again;
	char buf[64];
	store *s = open_new(f);
	assert_int_equal(store_member_register(s, "New Friend", "13700000001", 1700000000000LL, &m),
			 STORE_OK);
	assert_true(m.id > 0);
	assert_int_equal(m.provisional, 1);
	assert_string_equal(m.phone, "13700000001");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox WHERE kind='member'"), 1);
	assert_int_equal(
	    sql_int(f->path, "SELECT count(*) FROM outbox o JOIN members m ON o.record_id = m.uid"
			     " WHERE o.body ->> '$.name' = 'New Friend' AND o.body ->> '$.provisional' = 1"
			     " AND o.body ->> '$.device_seq' = 1"),
	    1);
	assert_string_equal(sql_text(f->path, "SELECT body ->> '$.device_id' FROM outbox", buf, sizeof buf),
			    store_device_id(s));

	/* the phone again: the member who has it, nothing written */
	assert_int_equal(store_member_register(s, "Someone Else", "13700000001", 1700000000000LL, &again),
			 STORE_ERR_EXISTS);
	assert_int_equal(again.id, m.id);
	assert_string_equal(again.name, "New Friend");
	assert_int_equal(store_member_count(s), 1);
	assert_int_equal(store_outbox_count(s), 1);

	assert_int_equal(store_member_register(s, "Bad Phone", "137-0000", 0, &again), STORE_ERR_INVALID);
	assert_int_equal(store_member_register(s, "", "13700000002", 0, &again), STORE_ERR_INVALID);
	assert_int_equal(store_member_count(s), 1);
}

static void test_import_matches_code_then_phone(void **state)
{
	fixture *f = *state;
	store_member m, got;
	int how;
	store *s = open_new(f);
	int64_t a = add_member(s, "张三", "13812345678", "TZ1001", "2027-06-30");

	/* same code: updated, then unchanged */
	assert_int_equal(store_import_begin(s), STORE_OK);
	m = member_row("張三", "13812345678", "TZ1001", "2027-06-30");
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UPDATED);
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UNCHANGED);
	/* an empty phone keeps the one on file */
	m = member_row("張三", "", "TZ1001", "2027-06-30");
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UNCHANGED);
	assert_int_equal(store_import_commit(s), STORE_OK);
	assert_int_equal(store_member_get(s, a, &got), STORE_OK);
	assert_string_equal(got.name, "張三");
	assert_string_equal(got.phone, "13812345678");

	/* a walk-in becomes the roster's member when the roster lists the phone */
	assert_int_equal(store_member_register(s, "Walk In", "13900000009", 0, &got), STORE_OK);
	assert_int_equal(store_import_begin(s), STORE_OK);
	m = member_row("Walker Inn", "13900000009", "TZ2001", "");
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UPDATED);
	assert_int_equal(store_import_commit(s), STORE_OK);
	int64_t w = got.id;
	assert_int_equal(store_member_get(s, w, &got), STORE_OK);
	assert_string_equal(got.code, "TZ2001");
	assert_int_equal(got.provisional, 0);
	assert_int_equal(store_member_count(s), 2);

	/* a phone that belongs to a member with another code is refused */
	assert_int_equal(store_import_begin(s), STORE_OK);
	m = member_row("Other", "13900000009", "TZ3001", "");
	assert_int_equal(store_import_member(s, &m, &how), STORE_ERR_EXISTS);
	assert_non_null(strstr(store_errmsg(s), "TZ2001"));
	m = member_row("张三", "13900000009", "TZ1001", ""); /* moving a phone onto a taken one */
	assert_int_equal(store_import_member(s, &m, &how), STORE_ERR_EXISTS);
	m = member_row("No Ids", "", "", "");
	assert_int_equal(store_import_member(s, &m, &how), STORE_ERR_INVALID);
	m = member_row("Bad Date", "", "TZ9", "2026-02-30");
	assert_int_equal(store_import_member(s, &m, &how), STORE_ERR_INVALID);
	m = member_row("New", "13600000000", "TZ4001", "");
	assert_int_equal(store_import_member(s, &m, &how), STORE_OK);
	store_import_rollback(s);
	assert_int_equal(store_member_count(s), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM members WHERE code = 'TZ4001'"), 0);
	/* imports never go to the outbox; the walk-in did */
	assert_int_equal(store_outbox_count(s), 1);
}

/* ---- files that are not ours ---- */

static void expect_refused_untouched(fixture *f, store_err want, const char *why)
{
	size_t before_len, after_len;
	char err[512];
	char *before = slurp(f->path, &before_len);
	store *s = (store *)1;
	store_err got = store_open(f->path, STORE_OPEN_CREATE | STORE_OPEN_READONLY_OK, &s, err, sizeof err);
	if (got != want)
		fail_msg("%s: got %s (%s), want %s", why, store_strerror(got), err, store_strerror(want));
	assert_null(s);
	assert_non_null(strstr(err, f->path));
	char *after = slurp(f->path, &after_len);
	assert_int_equal(after_len, before_len);
	if (memcmp(before, after, before_len) != 0)
		fail_msg("%s: the file changed", why);
	free(before);
	free(after);
}

static void test_newer_schema_refused_untouched(void **state)
{
	static const char *const journals[] = {"PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = WAL"};
	fixture *f = *state;
	for (size_t i = 0; i < 2; i++) {
		char q[512];
		remove(f->path);
		snprintf(q, sizeof q,
			 "%s; PRAGMA application_id = 1413962313; CREATE TABLE settings(key TEXT PRIMARY "
			 "KEY, value TEXT);"
			 " CREATE TABLE future(x); INSERT INTO future VALUES('from tingzi 9');"
			 " PRAGMA user_version = 99;",
			 journals[i]);
		sql_exec(f->path, q);
		expect_refused_untouched(f, STORE_ERR_TOO_NEW, journals[i]);
		assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 99);
	}
}

static void test_not_a_database_refused_untouched(void **state)
{
	fixture *f = *state;
	char bytes[8192];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (char)(i * 7919 % 251);
	const struct {
		const char *what;
		const void *data;
		size_t len;
	} cases[] = {
	    {"a CSV file", "name,phone\n张三,13812345678\n", sizeof "name,phone\n张三,13812345678\n" - 1},
	    {"binary noise", bytes, sizeof bytes},
	    {"a damaged header", "SQLite format 2\0\x10\0\1\1\0\x40\x20\x20", 24},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_file(f->path, cases[i].data, cases[i].len);
		expect_refused_untouched(f, STORE_ERR_NOTADB, cases[i].what);
	}
}

static void test_other_programs_database_refused(void **state)
{
	fixture *f = *state;
	char err[512];
	store *s;
	sql_exec(f->path,
		 "CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places(url)"
		 " VALUES('https://example.org');");
	expect_refused_untouched(f, STORE_ERR_NOTADB, "another program's database");
	assert_int_equal(store_open(f->path, 0, &s, err, sizeof err), STORE_ERR_NOTADB);
	assert_non_null(strstr(err, "another program"));
}

static void test_empty_file_becomes_a_database(void **state)
{
	fixture *f = *state;
	char err[512];
	write_file(f->path, "", 0);
	assert_int_equal(store_open(f->path, 0, &f->s, err, sizeof err), STORE_OK);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

/* ---- read-only ---- */

#define CHILD_CHECK(cond)                                                                                    \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                           \
			_exit(1);                                                                            \
		}                                                                                            \
	} while (0)

/* A database with two members and one check-in, closed. */
static void seed(const char *path)
{
	char err[512];
	store *s;
	store_checkin c;
	store_checkin_status st;
	if (store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err) != STORE_OK)
		fail_msg("%s", err);
	int64_t m = add_member(s, "张三", "13812345678", "TZ1001", "");
	add_member(s, "李四", "13910015678", "TZ1002", "");
	assert_int_equal(store_checkin_record(s, m, NULL, "scan", clock_wall_ms(), TODAY, &st, &c), STORE_OK);
	store_close(s);
}

/* What every read-only case must show (runs in a child; exits on failure). */
static void check_readonly(const char *path)
{
	char err[512];
	store *s = (store *)1;
	store_member m = member_row("Someone", "13000000000", "TZ9", "");
	store_member got;
	store_checkin c;
	store_checkin_status st;
	int how;
	int64_t id;

	CHILD_CHECK(store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err) == STORE_ERR_READONLY);
	CHILD_CHECK(s == NULL && strstr(err, path) != NULL);
	CHILD_CHECK(store_open(path, STORE_OPEN_READONLY_OK, &s, err, sizeof err) == STORE_OK);
	CHILD_CHECK(store_is_readonly(s));
	CHILD_CHECK(store_member_count(s) == 2);
	CHILD_CHECK(store_outbox_count(s) == 1);
	CHILD_CHECK(store_member_get(s, 1, &got) == STORE_OK && strcmp(got.name, "张三") == 0);
	CHILD_CHECK(store_checkin_record(s, 2, NULL, "scan", clock_wall_ms(), TODAY, &st, &c) ==
		    STORE_ERR_READONLY);
	CHILD_CHECK(store_member_register(s, "Walk In", "13000000001", 0, &got) == STORE_ERR_READONLY);
	CHILD_CHECK(store_event_add(s, "Event", 1, 2, &id) == STORE_ERR_READONLY);
	CHILD_CHECK(store_setting_set(s, "venue_name", "x") == STORE_ERR_READONLY);
	CHILD_CHECK(store_import_begin(s) == STORE_ERR_READONLY);
	CHILD_CHECK(store_import_member(s, &m, &how) == STORE_ERR_READONLY);
	CHILD_CHECK(store_outbox_count(s) == 1);
	store_close(s);
}

/* Run fn(arg) in a child process, as user uid unless uid is -1. Returns the
 * child's exit status: 0 passed, 77 skipped. */
static int in_child(void (*fn)(const char *), const char *arg, int as_nobody)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (as_nobody && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
			_exit(77);
		fn(arg);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_readonly_file_or_folder(void **state)
{
	/* The kiosk's user meets a database it may not write: file mode, or a
	 * folder where SQLite cannot make its -wal and -shm files. As root the
	 * test runs these as nobody, since root ignores file modes. */
	static const struct {
		const char *what;
		mode_t dir_mode, file_mode;
	} cases[] = {
	    {"a read-only file", 0755, 0444},
	    {"a read-only folder", 0555, 0644},
	    {"both", 0555, 0444},
	};
	fixture *f = *state;
	int root = geteuid() == 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t before_len, after_len;
		remove(f->path);
		seed(f->path);
		char *before = slurp(f->path, &before_len);
		if (root && (chown(f->dir, NOBODY, NOBODY) != 0 || chown(f->path, NOBODY, NOBODY) != 0))
			fail_msg("chown: %s", strerror(errno));
		chmod(f->path, cases[i].file_mode);
		chmod(f->dir, cases[i].dir_mode);
		int rc = in_child(check_readonly, f->path, root);
		chmod(f->dir, 0755);
		chmod(f->path, 0644);
		if (rc == 77)
			skip();
		if (rc != 0)
			fail_msg("%s: the read-only checks failed (see above)", cases[i].what);
		char *after = slurp(f->path, &after_len);
		assert_int_equal(before_len, after_len);
		assert_memory_equal(before, after, before_len);
		free(before);
		free(after);
	}
}

static void create_in_readonly_folder(const char *path)
{
	char err[512];
	store *s = (store *)1;
	CHILD_CHECK(store_open(path, STORE_OPEN_CREATE | STORE_OPEN_READONLY_OK, &s, err, sizeof err) ==
		    STORE_ERR_READONLY);
	CHILD_CHECK(s == NULL && strstr(err, path) != NULL);
	CHILD_CHECK(access(path, F_OK) != 0);
}

static void test_new_database_in_readonly_folder(void **state)
{
	fixture *f = *state;
	int root = geteuid() == 0;
	chmod(f->dir, 0555);
	int rc = in_child(create_in_readonly_folder, f->path, root);
	chmod(f->dir, 0755);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

static int set_immutable(const char *path, int on)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int flags = 0, rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
	if (rc == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

static void test_immutable_file_as_root(void **state)
{
	/* Root writes through file modes, but not into an immutable file (chattr +i). */
	fixture *f = *state;
	size_t before_len, after_len;
	seed(f->path);
	char *before = slurp(f->path, &before_len);
	if (set_immutable(f->path, 1) != 0) {
		free(before);
		skip(); /* not root, or the file system has no immutable flag */
	}
	int rc = in_child(check_readonly, f->path, 0);
	set_immutable(f->path, 0);
	assert_int_equal(rc, 0);
	char *after = slurp(f->path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	free(before);
	free(after);
}

static void readonly_mount(const char *dir)
{
	/* In a private mount namespace: a tmpfs, a database on it, then read-only. */
	char mnt[160], path[192];
	snprintf(mnt, sizeof mnt, "%s/mnt", dir);
	snprintf(path, sizeof path, "%s/tingzi.db", mnt);
	if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mkdir(mnt, 0755) != 0 || mount("tingzi-test", mnt, "tmpfs", 0, "size=4m") != 0)
		_exit(77);
	seed(path);
	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
		_exit(77);
	check_readonly(path);
}

static void test_readonly_mount_as_root(void **state)
{
	/* What a root kiosk meets: the card remounted read-only after errors. */
	fixture *f = *state;
	int rc = in_child(readonly_mount, f->dir, 0);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

/* ---- a full disk ---- */

static void test_full_disk_keeps_earlier_rows(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_checkin_status st;
	char err[512];
	store *s = open_new(f);
	int64_t m = add_member(s, "张三", "13812345678", "TZ1001", "");
	int64_t t = clock_wall_ms();
	int recorded = 0;
	for (; recorded < 3; recorded++)
		assert_int_equal(checkin(s, m, add_event(s, "Before", t + recorded * 3600000LL), TODAY, &c),
				 STORE_CHECKIN_RECORDED);

	/* Events first, while there is room, then no room to grow. */
	int64_t ev[400];
	for (int i = 0; i < 400; i++)
		ev[i] = add_event(s, "After", t + (10 + i) * 3600000LL);
	assert_int_equal(store_limit_growth(s, 0), STORE_OK);
	store_err e = STORE_OK;
	for (int i = 0; i < 400 && e == STORE_OK; i++) {
		store_event x = {.id = ev[i]};
		e = store_checkin_record(s, m, &x, "scan", t, TODAY, &st, &c);
		if (e == STORE_OK)
			recorded++;
	}
	assert_int_equal(e, STORE_ERR_FULL);
	/* the failed one left nothing, and the handle still works: it fails again, cleanly */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM checkins"), recorded);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox"), recorded);
	assert_int_equal(sql_int(f->path, "SELECT value FROM settings WHERE key='device_seq'"), recorded);
	store_event x = {.id = ev[399]};
	assert_int_equal(store_checkin_record(s, m, &x, "scan", t, TODAY, &st, &c), STORE_ERR_FULL);
	assert_int_equal(store_member_visits(s, m), recorded);

	/* room again (a new handle has no limit): every earlier row is there and the next one goes in */
	store_close(s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, 0, &f->s, err, sizeof err), STORE_OK);
	s = f->s;
	assert_int_equal(store_checkin_record(s, m, &x, "scan", t, TODAY, &st, &c), STORE_OK);
	assert_int_equal(st, STORE_CHECKIN_RECORDED);
	assert_int_equal(c.visit_no, recorded + 1);
	assert_int_equal(c.device_seq, recorded + 1);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = STORE_OK; e <= STORE_ERR_INTERNAL; e++)
		for (int g = e + 1; g <= STORE_ERR_INTERNAL; g++)
			assert_string_not_equal(store_strerror((store_err)e), store_strerror((store_err)g));
	assert_string_equal(store_errmsg(NULL), "no database");
	store_close(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_new_database_is_version_1),
	    T(test_missing_file_without_create),
	    T(test_wal_and_synchronous_full),
	    T(test_settings),
	    T(test_checkin_and_outbox_commit_together),
	    T(test_dropin_once_per_day),
	    T(test_visit_no_grows_across_events),
	    T(test_expired_flag),
	    T(test_checkin_refusals_write_nothing),
	    T(test_visit_count_uses_an_index),
	    T(test_events_and_lists),
	    T(test_register_walkin),
	    T(test_import_matches_code_then_phone),
	    T(test_newer_schema_refused_untouched),
	    T(test_not_a_database_refused_untouched),
	    T(test_other_programs_database_refused),
	    T(test_empty_file_becomes_a_database),
	    T(test_readonly_file_or_folder),
	    T(test_new_database_in_readonly_folder),
	    T(test_immutable_file_as_root),
	    T(test_readonly_mount_as_root),
	    T(test_full_disk_keeps_earlier_rows),
	    T(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
