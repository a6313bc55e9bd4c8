/*
 * test_store — what the kiosk's database (app/store/) promises, checked in the
 * file.
 *
 * Each test works on a fresh folder /tmp/tingzi-test-store-<pid>-<n> and
 * looks at the file the way another program would: a second SQLite
 * connection (tests/unit/testdb.c) counts the rows, reads the pragmas and the
 * outbox JSON, and the bytes of a refused file are compared before and after.
 *
 * What a user would notice, and how it is checked:
 *  - A new file is schema STORE_SCHEMA_VERSION, tingzi's application id, the
 *    five tables, journal_mode=wal, a device id made with the file and kept.
 *    synchronous=FULL is not stored in the file, so it is observed instead: a
 *    counting VFS shows that committing a check-in fsync()s the write-ahead
 *    log (a control run shows the same counter stays at 0 for
 *    synchronous=NORMAL). Settings are kept; the check-in's lookups use an
 *    index (the query plans).
 *  - A check-in and its outbox row appear together, the outbox body saying
 *    what the row says; a repeat adds nothing; drop-ins are once per day;
 *    visit numbers and device_seq count up; the expired flag follows the
 *    membership date; refused check-ins write nothing; events and lists.
 *  - Newer schema (rollback journal or WAL), random bytes, a damaged header,
 *    a text file and another program's database are refused and left byte
 *    for byte; a missing file is not created without STORE_OPEN_CREATE, nor
 *    in a folder that does not exist, nor in a read-only folder.
 *  - A full disk: store_limit_growth() on the store's handle, and (as root, in
 *    a private mount namespace) a real 384 KiB tmpfs that runs out of space;
 *    the failed check-in leaves nothing and every earlier row is kept.
 *  - Read-only: refused, or with STORE_OPEN_READONLY_OK read while every
 *    write fails with STORE_ERR_READONLY: a read-only file or folder (as an
 *    unprivileged user), an immutable file (chattr +i), a read-only bind
 *    mount and a tmpfs remounted read-only (as root); each skips when this
 *    machine does not allow it.
 *  - Walk-ins and roster imports: rows, outbox records, ids kept, rollback.
 */
#define _GNU_SOURCE /* unshare(), CLONE_NEWNS, setgroups(), nftw() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/store/store.h"
#include "sync/clock.h"
#define TESTDB_NO_FIXTURE
#include "tests/unit/testdb.h"

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

#define TODAY     "2026-05-01"
#define NOON      1777636800000LL /* 2026-05-01T12:00Z, only stored, never compared to a clock */
#define HOUR_MS   3600000LL
#define TGZI_APP  0x54475a49
#define SKIP_CODE 77
#define NOBODY    65534

typedef struct fixture {
	char dir[128];
	char path[192];
	store *s;
	int immutable; /* chattr +i was set on path; teardown lifts it */
} fixture;

static int serial;

/* ---- files ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* chattr +i / -i through the ioctl; -1 when not root or the file system has no such flag. */
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

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tingzi-test-store-%ld-%d", (long)getpid(), ++serial);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(f->dir, 0755), 0);
	snprintf(f->path, sizeof f->path, "%s/tingzi.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	store_close(f->s);
	if (f->immutable && set_immutable(f->path, 0) != 0)
		fprintf(stderr, "could not lift chattr +i from %s\n", f->path);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The whole file, for a byte-for-byte comparison. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	assert_int_equal(ferror(fp), 0);
	fclose(fp);
	*len = n;
	return buf;
}

static void assert_same_bytes(const char *before, size_t before_len, const char *path)
{
	size_t after_len;
	char *after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The device_seq setting, as another program reads it. */
static int64_t device_seq_setting(const char *path)
{
	return testdb_int(path, "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'device_seq'", NULL);
}

/* ---- the store ---- */

static store *open_new(fixture *f)
{
	char err[512];
	store_err e = store_open(f->path, STORE_OPEN_CREATE, &f->s, err, sizeof err);
	if (e != STORE_OK)
		fail_msg("store_open(%s): %s: %s", f->path, store_strerror(e), err);
	return f->s;
}

static void close_store(fixture *f)
{
	store_close(f->s);
	f->s = NULL;
}

static store_member member(const char *name, const char *phone, const char *code, const char *expires)
{
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	snprintf(m.expires, sizeof m.expires, "%s", expires);
	return m;
}

/* Import one member (a roster of one) and return its row id, read from the file. */
static int64_t add_member(fixture *f, const char *name, const char *phone, const char *code,
			  const char *expires)
{
	store_member m = member(name, phone, code, expires);
	int how = -1;
	assert_int_equal(store_import_begin(f->s), STORE_OK);
	store_err e = store_import_member(f->s, &m, &how);
	if (e != STORE_OK)
		fail_msg("store_import_member(%s): %s (%s)", name, store_strerror(e), store_errmsg(f->s));
	assert_int_equal(store_import_commit(f->s), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_ADDED);
	int64_t id = code[0] ? testdb_int(f->path, "SELECT id FROM members WHERE code = ?1", code)
			     : testdb_int(f->path, "SELECT id FROM members WHERE phone = ?1", phone);
	assert_true(id > 0);
	return id;
}

static store_event add_event(fixture *f, const char *title, int64_t start_ms)
{
	store_event e = {0};
	assert_int_equal(store_event_add(f->s, title, start_ms, start_ms + 2 * HOUR_MS, &e.id), STORE_OK);
	assert_true(e.id > 0);
	return e;
}

/* A check-in that must be recorded now. */
static store_checkin checkin_new(fixture *f, int64_t member_id, const store_event *ev, const char *today)
{
	store_checkin c;
	store_checkin_status st = STORE_CHECKIN_ALREADY;
	store_err e = store_checkin_record(f->s, member_id, ev, "scan", NOON, today, &st, &c);
	if (e != STORE_OK)
		fail_msg("store_checkin_record: %s (%s)", store_strerror(e), store_errmsg(f->s));
	assert_int_equal(st, STORE_CHECKIN_RECORDED);
	return c;
}

/* The date n days after 2026-01-01, as YYYY-MM-DD. */
static void nth_day(int n, char *buf, size_t len)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 2026, m = 0, d = n;
	for (;;) {
		int leap = m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
		int in_month = mdays[m] + leap;
		if (d < in_month)
			break;
		d -= in_month;
		if (++m == 12)
			m = 0, y++;
	}
	snprintf(buf, len, "%04d-%02d-%02d", y, m + 1, d + 1);
}

/* ---- a VFS that counts fsync()s of write-ahead logs ---- */

typedef struct sync_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, right after this struct */
	int wal;
} sync_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs counting_vfs;
static int wal_syncs;

#define REAL(f) (((sync_file *)(f))->real)

static int sf_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int sf_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int sf_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int sf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int sf_sync(sqlite3_file *f, int flags)
{
	if (((sync_file *)f)->wal)
		wal_syncs++;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int sf_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int sf_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int sf_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int sf_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int sf_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int sf_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int sf_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int sf_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int sf_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void sf_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int sf_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int sf_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int sf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods sf_methods = {
    3,
    sf_close,
    sf_read,
    sf_write,
    sf_truncate,
    sf_sync,
    sf_file_size,
    sf_lock,
    sf_unlock,
    sf_check_reserved,
    sf_file_control,
    sf_sector_size,
    sf_device_characteristics,
    sf_shm_map,
    sf_shm_lock,
    sf_shm_barrier,
    sf_shm_unmap,
    sf_fetch,
    sf_unfetch,
};

static int sf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	sync_file *sf = (sync_file *)file;
	(void)vfs;
	sf->real = (sqlite3_file *)(sf + 1);
	sf->wal = (flags & SQLITE_OPEN_WAL) != 0;
	int rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out_flags);
	sf->base.pMethods = sf->real->pMethods ? &sf_methods : NULL;
	return rc;
}

/* Make the counting VFS the default, so that store_open() uses it. */
static void counting_vfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(real_vfs);
	assert_true(real_vfs->iVersion >= 1);
	counting_vfs = *real_vfs;
	counting_vfs.pNext = NULL;
	counting_vfs.zName = "tingzi-test-sync-count";
	counting_vfs.szOsFile = (int)sizeof(sync_file) + real_vfs->szOsFile;
	counting_vfs.xOpen = sf_open;
	assert_int_equal(sqlite3_vfs_register(&counting_vfs, 1), SQLITE_OK);
}

static void counting_vfs_remove(void)
{
	sqlite3_vfs_unregister(&counting_vfs);
	sqlite3_vfs_register(real_vfs, 1);
}

/* ---- a child process for what needs a private mount namespace ---- */

/* Run fn(f) in a child, as the unprivileged user nobody when as_nobody (root
 * ignores file modes); its exit code (SKIP_CODE when the machine does not allow it). */
static int in_child(int (*fn)(fixture *f), fixture *f, int as_nobody)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		testdb_in_child = 1;
		if (as_nobody && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
			_exit(SKIP_CODE);
		_exit(fn(f));
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("the child died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

/* In a child: say what went wrong and give the step's number as exit code. */
#define CHILD_CHECK(step, cond)                                                                              \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "child step %d failed: %s\n", step, #cond);                          \
			return step;                                                                         \
		}                                                                                            \
	} while (0)

static int private_mounts(void)
{
	return unshare(CLONE_NEWNS) == 0 && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* ======================================================================== */
/* a new database                                                           */
/* ======================================================================== */

static void test_new_database_version_tables_wal(void **state)
{
	static const char *const tables[] = {"settings", "members", "events", "checkins", "outbox"};
	fixture *f = *state;
	char buf[64];
	assert_false(exists(f->path));
	open_new(f);

	assert_int_equal(testdb_int(f->path, "PRAGMA user_version", NULL), STORE_SCHEMA_VERSION);
	assert_int_equal(testdb_int(f->path, "PRAGMA application_id", NULL), TGZI_APP);
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		int64_t n = testdb_int(
		    f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
		    tables[i]);
		if (n != 1)
			fail_msg("table %s: %lld in the file", tables[i], (long long)n);
		assert_int_equal(testdb_count(f->path, tables[i]),
				 tables[i][0] == 's' ? 2 : 0); /* device_id, _seq */
	}
	assert_string_equal(testdb_text(f->path, "PRAGMA journal_mode", NULL, buf, sizeof buf), "wal");

	/* the device id is in the file, 32 hex digits, and the store says the same */
	testdb_text(f->path, "SELECT value FROM settings WHERE key = 'device_id'", NULL, buf, sizeof buf);
	assert_int_equal(strlen(buf), 32);
	assert_int_equal(strspn(buf, "0123456789abcdef"), 32);
	assert_string_equal(store_device_id(f->s), buf);
	assert_int_equal(device_seq_setting(f->path), 0);

	/* opened again, with or without STORE_OPEN_CREATE, it is the same database
	 * (same device), not a new one */
	static const int flags[] = {0, STORE_OPEN_CREATE};
	for (size_t i = 0; i < 2; i++) {
		char err[512];
		close_store(f);
		assert_int_equal(store_open(f->path, flags[i], &f->s, err, sizeof err), STORE_OK);
		assert_string_equal(store_device_id(f->s), buf);
		assert_int_equal(testdb_int(f->path, "PRAGMA user_version", NULL), STORE_SCHEMA_VERSION);
		assert_int_equal(
		    testdb_int(f->path, "SELECT count(*) FROM settings WHERE key = 'device_id'", NULL), 1);
	}
}

static void test_empty_file_becomes_a_database(void **state)
{
	fixture *f = *state;
	char err[512];
	write_bytes(f->path, "", 0);
	assert_int_equal(store_open(f->path, 0, &f->s, err, sizeof err), STORE_OK);
	assert_int_equal(testdb_int(f->path, "PRAGMA user_version", NULL), STORE_SCHEMA_VERSION);
	assert_int_equal(testdb_count(f->path, "members"), 0);
}

static void test_synchronous_full_on_the_store_handle(void **state)
{
	fixture *f = *state;
	char mode[16], control[256];
	int sync = -1;

	/* What the store's own connection says. */
	open_new(f);
	assert_int_equal(store_journal_info(f->s, mode, sizeof mode, &sync), STORE_OK);
	assert_string_equal(mode, "wal");
	assert_int_equal(sync, 2);
	/* a checkpoint when idle is harmless, with or without anything to copy */
	assert_int_equal(store_checkpoint(f->s), STORE_OK);
	store_member w;
	assert_int_equal(store_member_register(f->s, "Walk In", "13700000001", NOON, &w), STORE_OK);
	assert_int_equal(store_checkpoint(f->s), STORE_OK);
	close_store(f);

	/* What it does: with synchronous=FULL every commit fsync()s the WAL; with
	 * NORMAL only checkpoints do. First the instrument, on a plain connection. */
	counting_vfs_install();
	snprintf(control, sizeof control, "%s/control.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(control, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
				      " CREATE TABLE t(x); PRAGMA synchronous = NORMAL",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	wal_syncs = 0;
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES(1)", NULL, NULL, NULL), SQLITE_OK);
	int normal_syncs = wal_syncs;
	assert_int_equal(sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL), SQLITE_OK);
	wal_syncs = 0;
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES(2)", NULL, NULL, NULL), SQLITE_OK);
	int full_syncs = wal_syncs;
	sqlite3_close(db);

	/* Then the store, opened through the same VFS. */
	char err[512];
	int store_syncs = -1;
	store_err e = store_open(f->path, 0, &f->s, err, sizeof err);
	if (e == STORE_OK) {
		store_member m = member("Sync", "13300000001", "SYNC1", "");
		int how;
		store_import_begin(f->s);
		store_import_member(f->s, &m, &how);
		store_import_commit(f->s);
		int64_t id = testdb_int(f->path, "SELECT id FROM members WHERE code = 'SYNC1'", NULL);
		store_checkin c;
		store_checkin_status st;
		wal_syncs = 0;
		e = store_checkin_record(f->s, id, NULL, "scan", NOON, TODAY, &st, &c);
		store_syncs = wal_syncs;
	}
	close_store(f);
	counting_vfs_remove();

	assert_int_equal(normal_syncs, 0);
	assert_true(full_syncs >= 1);
	assert_int_equal(e, STORE_OK);
	if (store_syncs < 1)
		fail_msg("committing a check-in did not fsync the write-ahead log (%d syncs)", store_syncs);
}

static void test_settings(void **state)
{
	fixture *f = *state;
	char buf[64];
	open_new(f);
	assert_int_equal(store_setting_get(f->s, "venue_name", buf, sizeof buf), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_setting_set(f->s, "venue_name", "茶馆"), STORE_OK);
	assert_int_equal(store_setting_set(f->s, "venue_name", "茶馆 2"), STORE_OK);
	assert_int_equal(store_setting_get(f->s, "venue_name", buf, sizeof buf), STORE_OK);
	assert_string_equal(buf, "茶馆 2");
	assert_string_equal(
	    testdb_text(f->path, "SELECT value FROM settings WHERE key = ?1", "venue_name", buf, sizeof buf),
	    "茶馆 2");
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

/* ======================================================================== */
/* check-ins                                                                */
/* ======================================================================== */

static void test_checkin_and_outbox_row_together(void **state)
{
	fixture *f = *state;
	char buf[128], uid[64];
	open_new(f);
	int64_t m = add_member(f, "张三", "13812345678", "TZ1001", "");
	store_event ev = add_event(f, "Morning yoga", NOON - HOUR_MS);
	assert_int_equal(testdb_count(f->path, "checkins"), 0);
	assert_int_equal(testdb_count(f->path, "outbox"), 0);

	store_checkin c = checkin_new(f, m, &ev, TODAY);
	assert_int_equal(strlen(c.id), 32);
	assert_int_equal(c.member_id, m);
	assert_int_equal(c.event_id, ev.id);
	assert_int_equal(c.device_seq, 1);
	assert_int_equal(c.visit_no, 1);
	assert_int_equal(c.expired, 0);
	assert_string_equal(c.method, "scan");
	assert_string_equal(c.boot_id, clock_boot_id());
	assert_int_equal(testdb_count(f->path, "checkins"), 1);
	assert_int_equal(testdb_count(f->path, "outbox"), 1);

	/* the row is the one the store returned */
	assert_int_equal(testdb_int(f->path, "SELECT member_id FROM checkins WHERE id = ?1", c.id), m);
	assert_int_equal(testdb_int(f->path, "SELECT event_id FROM checkins WHERE id = ?1", c.id), ev.id);
	assert_string_equal(
	    testdb_text(f->path, "SELECT method FROM checkins WHERE id = ?1", c.id, buf, sizeof buf), "scan");
	assert_int_equal(testdb_int(f->path, "SELECT wall_ms FROM checkins WHERE id = ?1", c.id), NOON);

	/* the outbox row is a JSON object that names this check-in, its member and event */
	assert_string_equal(
	    testdb_text(f->path, "SELECT kind FROM outbox WHERE record_id = ?1", c.id, buf, sizeof buf),
	    "checkin");
	assert_int_equal(
	    testdb_int(f->path, "SELECT json_valid(body) FROM outbox WHERE record_id = ?1", c.id), 1);
	assert_string_equal(testdb_text(f->path,
					"SELECT json_extract(body, '$.id') FROM outbox WHERE record_id = ?1",
					c.id, buf, sizeof buf),
			    c.id);
	testdb_text(f->path, "SELECT uid FROM members WHERE code = 'TZ1001'", NULL, uid, sizeof uid);
	assert_string_equal(testdb_text(f->path, "SELECT json_extract(body, '$.member_uid') FROM outbox",
					NULL, buf, sizeof buf),
			    uid);
	testdb_text(f->path, "SELECT uid FROM events", NULL, uid, sizeof uid);
	assert_string_equal(testdb_text(f->path, "SELECT json_extract(body, '$.event_uid') FROM outbox", NULL,
					buf, sizeof buf),
			    uid);
	assert_int_equal(testdb_int(f->path, "SELECT json_extract(body, '$.device_seq') FROM outbox", NULL),
			 c.device_seq);
	assert_string_equal(testdb_text(f->path, "SELECT json_extract(body, '$.device_id') FROM outbox", NULL,
					buf, sizeof buf),
			    store_device_id(f->s));
	assert_string_equal(testdb_text(f->path, "SELECT device_id FROM checkins", NULL, buf, sizeof buf),
			    store_device_id(f->s));
	assert_int_equal(store_outbox_count(f->s), 1);

	/* the outbox body says what the row says, field by field, with the uids the hub knows */
	char q[1024];
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM outbox o, checkins c, members m, events e"
		 " WHERE o.record_id = c.id AND c.id = ?1 AND m.id = c.member_id AND e.id = c.event_id"
		 " AND o.body ->> '$.id' = c.id AND o.body ->> '$.member_uid' = m.uid"
		 " AND o.body ->> '$.event_uid' = e.uid"
		 " AND o.body ->> '$.attendance_key' = 'e:' || e.uid"
		 " AND o.body ->> '$.device_id' = c.device_id AND o.body ->> '$.device_seq' = 1"
		 " AND o.body ->> '$.visit_no' = 1 AND o.body ->> '$.expired' = 0"
		 " AND o.body ->> '$.method' = 'scan' AND o.body ->> '$.wall_ms' = c.wall_ms"
		 " AND o.body ->> '$.mono_ms' = c.mono_ms AND o.body ->> '$.boot_id' = c.boot_id");
	assert_int_equal(testdb_int(f->path, q, c.id), 1);
}

static void test_second_checkin_to_same_event_adds_nothing(void **state)
{
	fixture *f = *state;
	store_checkin again;
	store_checkin_status st = STORE_CHECKIN_RECORDED;
	open_new(f);
	int64_t m = add_member(f, "李四", "13910015678", "TZ1002", "");
	store_event ev = add_event(f, "Evening class", NOON);
	store_checkin first = checkin_new(f, m, &ev, TODAY);

	/* later the same day, and even a day later: the same event, the same answer */
	const char *days[] = {TODAY, "2026-05-02"};
	for (size_t i = 0; i < 2; i++) {
		memset(&again, 0, sizeof again);
		assert_int_equal(
		    store_checkin_record(f->s, m, &ev, "phone", NOON + HOUR_MS, days[i], &st, &again),
		    STORE_OK);
		assert_int_equal(st, STORE_CHECKIN_ALREADY);
		assert_string_equal(again.id, first.id); /* the earlier row */
		assert_int_equal(again.device_seq, first.device_seq);
		assert_int_equal(again.wall_ms, first.wall_ms);
		assert_int_equal(again.visit_no, 1);
		assert_string_equal(again.method, "scan");
	}
	assert_int_equal(testdb_count(f->path, "checkins"), 1);
	assert_int_equal(testdb_count(f->path, "outbox"), 1);
	assert_int_equal(device_seq_setting(f->path), first.device_seq);
	assert_int_equal(store_member_visits(f->s, m), 1);
}

static void test_dropin_once_per_day(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_checkin_status st;
	char buf[64];
	open_new(f);
	int64_t m = add_member(f, "王小明", "8613910025678", "TZ1003", "");
	store_event none = {0}; /* id 0 is a drop-in, as NULL is */
	const struct {
		const store_event *event;
		const char *today;
		store_checkin_status want;
		int64_t rows;
	} steps[] = {
	    {NULL, "2026-05-01", STORE_CHECKIN_RECORDED, 1}, {NULL, "2026-05-01", STORE_CHECKIN_ALREADY, 1},
	    {&none, "2026-05-01", STORE_CHECKIN_ALREADY, 1}, {NULL, "2026-05-02", STORE_CHECKIN_RECORDED, 2},
	    {&none, "2026-05-02", STORE_CHECKIN_ALREADY, 2}, {&none, "2026-05-03", STORE_CHECKIN_RECORDED, 3},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(
		    store_checkin_record(f->s, m, steps[i].event, "scan", NOON, steps[i].today, &st, &c),
		    STORE_OK);
		if (st != steps[i].want)
			fail_msg("step %zu (%s): status %d, want %d", i, steps[i].today, (int)st,
				 (int)steps[i].want);
		assert_int_equal(c.event_id, 0);
		assert_int_equal(c.visit_no, steps[i].rows); /* a repeat gives the day's first row */
		assert_int_equal(testdb_count(f->path, "checkins"), steps[i].rows);
		assert_int_equal(testdb_count(f->path, "outbox"), steps[i].rows);
	}
	assert_int_equal(testdb_int(f->path, "SELECT count(*) FROM checkins WHERE event_id IS NULL", NULL),
			 3);
	assert_string_equal(testdb_text(f->path,
					"SELECT group_concat(attendance_key, ' ') FROM"
					" (SELECT attendance_key FROM checkins ORDER BY attendance_key)",
					NULL, buf, sizeof buf),
			    "d:2026-05-01 d:2026-05-02 d:2026-05-03");
	/* a drop-in's outbox body has a null event */
	assert_int_equal(
	    testdb_int(f->path, "SELECT count(*) FROM outbox WHERE json_type(body, '$.event_uid') = 'null'",
		       NULL),
	    3);
}

static void test_visit_no_counts_across_events(void **state)
{
	fixture *f = *state;
	open_new(f);
	int64_t m = add_member(f, "Ana Lima", "03515550199", "", "");
	int64_t other = add_member(f, "陳美玲", "", "TZ1005", "");
	int64_t seq = checkin_new(f, other, NULL, TODAY).device_seq; /* someone else's visit does not count */
	assert_int_equal(seq, 1);

	for (int i = 0; i < 3; i++) {
		char title[16];
		snprintf(title, sizeof title, "Class %d", i + 1);
		store_event ev = add_event(f, title, NOON + i * 3 * HOUR_MS);
		store_checkin c = checkin_new(f, m, &ev, TODAY);
		assert_int_equal(c.visit_no, i + 1);
		assert_int_equal(c.device_seq, ++seq); /* one count for the device, whoever checks in */
		assert_int_equal(checkin_new(f, other, &ev, TODAY).device_seq, ++seq);
		assert_int_equal(testdb_int(f->path, "SELECT visit_no FROM checkins WHERE id = ?1", c.id),
				 i + 1);
		assert_int_equal(testdb_int(f->path,
					    "SELECT json_extract(body, '$.visit_no') FROM outbox"
					    " WHERE record_id = ?1",
					    c.id),
				 i + 1);
		/* a repeat does not count as a visit */
		store_checkin again;
		store_checkin_status st;
		assert_int_equal(store_checkin_record(f->s, m, &ev, "scan", NOON, TODAY, &st, &again),
				 STORE_OK);
		assert_int_equal(st, STORE_CHECKIN_ALREADY);
		assert_int_equal(again.visit_no, i + 1);
	}
	store_checkin dropin = checkin_new(f, m, NULL, TODAY);
	assert_int_equal(dropin.visit_no, 4);
	assert_int_equal(store_member_visits(f->s, m), 4);
	assert_int_equal(store_member_visits(f->s, other), 4);
}

static void test_expired_flag(void **state)
{
	static const struct {
		const char *expires;
		int expired;
	} cases[] = {
	    {"2026-04-30", 1},                                                /* the day before today */
	    {"2025-12-31", 1}, {"2026-05-01", 0},                             /* today: still valid */
	    {"2026-05-02", 0}, {"2027-01-01", 0}, {"2030-01-01", 0}, {"", 0}, /* no end date */
	};
	fixture *f = *state;
	open_new(f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char code[16];
		snprintf(code, sizeof code, "EXP%zu", i);
		int64_t m = add_member(f, "Member", "", code, cases[i].expires);
		store_checkin c = checkin_new(f, m, NULL, TODAY);
		if (c.expired != cases[i].expired)
			fail_msg("expires \"%s\", today %s: expired %d, want %d", cases[i].expires, TODAY,
				 c.expired, cases[i].expired);
		assert_int_equal(testdb_int(f->path, "SELECT expired FROM checkins WHERE id = ?1", c.id),
				 cases[i].expired);
		/* JSON true/false, which json_extract() gives as 1/0 */
		assert_int_equal(testdb_int(f->path,
					    "SELECT json_extract(body, '$.expired') FROM outbox"
					    " WHERE record_id = ?1",
					    c.id),
				 cases[i].expired);
	}
}

static void test_device_seq_counts_up_by_one(void **state)
{
	fixture *f = *state;
	store_member walkin;
	open_new(f);
	int64_t m = add_member(f, "Seq", "13300000010", "SEQ1", "");
	assert_int_equal(device_seq_setting(f->path), 0); /* an import takes no number */

	int64_t want = 1;
	for (int i = 0; i < 5; i++, want++) {
		char day[40];
		nth_day(i, day, sizeof day);
		store_checkin c = checkin_new(f, m, NULL, day);
		assert_int_equal(c.device_seq, want);
		assert_int_equal(testdb_int(f->path, "SELECT device_seq FROM checkins WHERE id = ?1", c.id),
				 want);
		assert_int_equal(device_seq_setting(f->path), want);
	}
	/* a walk-in takes the next number, and the check-in after it the one after */
	assert_int_equal(store_member_register(f->s, "Walk In", "13300000011", NOON, &walkin), STORE_OK);
	assert_int_equal(
	    testdb_int(f->path, "SELECT json_extract(body, '$.device_seq') FROM outbox WHERE kind = 'member'",
		       NULL),
	    want);
	assert_int_equal(device_seq_setting(f->path), want);
	want++;
	store_checkin c = checkin_new(f, walkin.id, NULL, TODAY);
	assert_int_equal(c.device_seq, want);
	/* every number once */
	assert_int_equal(testdb_int(f->path, "SELECT count(DISTINCT device_seq) FROM checkins", NULL), 6);
}

static void test_refused_checkins_write_nothing(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_checkin_status st;
	open_new(f);
	int64_t m = add_member(f, "Refused", "13300000020", "REF1", "");
	store_event ev = add_event(f, "Real", NOON);
	store_event ghost = {.id = ev.id + 100};
	checkin_new(f, m, &ev, TODAY);
	const struct {
		const char *what;
		int64_t member;
		const store_event *event;
		const char *method, *today;
		store_err want;
	} cases[] = {
	    {"no such member", m + 100, NULL, "scan", TODAY, STORE_ERR_NOT_FOUND},
	    {"no such event", m, &ghost, "scan", TODAY, STORE_ERR_NOT_FOUND},
	    {"no method", m, NULL, "", TODAY, STORE_ERR_INVALID},
	    {"not a date", m, NULL, "scan", "2026-02-30", STORE_ERR_INVALID},
	    {"not a date either", m, NULL, "scan", "01/05/2026", STORE_ERR_INVALID},
	    {"month 13", m, NULL, "scan", "2026-13-01", STORE_ERR_INVALID},
	    {"method too long", m, NULL, "a-method-name-longer-than-sixteen", TODAY, STORE_ERR_INVALID},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		store_err e = store_checkin_record(f->s, cases[i].member, cases[i].event, cases[i].method,
						   NOON, cases[i].today, &st, &c);
		if (e != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].what, store_strerror(e),
				 store_strerror(cases[i].want));
		assert_true(store_errmsg(f->s)[0] != '\0');
		assert_int_equal(testdb_count(f->path, "checkins"), 1);
		assert_int_equal(testdb_count(f->path, "outbox"), 1);
		assert_int_equal(device_seq_setting(f->path), 1);
	}
	/* and the handle still works */
	assert_int_equal(checkin_new(f, m, NULL, TODAY).device_seq, 2);
}

/* ======================================================================== */
/* events and lists                                                         */
/* ======================================================================== */

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
	struct list l = {0};
	int64_t id;
	open_new(f);
	int64_t t = 1000000000000LL;
	assert_int_equal(store_event_add(f->s, "", t, t + 1, &id), STORE_ERR_INVALID);
	assert_int_equal(store_event_add(f->s, "Zero length", t, t, &id), STORE_ERR_INVALID);
	store_event a = add_event(f, "Afternoon", t);         /* t .. t+2h */
	store_event b = add_event(f, "Talk", t + 30 * 60000); /* t+30m .. t+2h30m */
	assert_int_equal(store_event_current(f->s, t - 1, &e), STORE_ERR_NOT_FOUND);
	assert_int_equal(store_event_current(f->s, t + 10 * 60000, &e), STORE_OK);
	assert_int_equal(e.id, a.id);
	assert_int_equal(store_event_current(f->s, t + 40 * 60000, &e), STORE_OK); /* the latest started */
	assert_int_equal(e.id, b.id);
	assert_string_equal(e.title, "Talk");
	assert_int_equal(store_event_get(f->s, a.id, &e), STORE_OK);
	assert_string_equal(e.title, "Afternoon");
	assert_int_equal(store_event_get(f->s, 999, &e), STORE_ERR_NOT_FOUND);

	int64_t m = add_member(f, "张三", "13812345678", "TZ1001", "");
	checkin_new(f, m, &a, TODAY);
	checkin_new(f, m, &b, TODAY);
	assert_int_equal(store_checkins_foreach(f->s, b.id, collect, &l), STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.titles[0], "张三/Talk");
	l.n = 0;
	assert_int_equal(store_checkins_foreach(f->s, 0, collect, &l), STORE_OK);
	assert_int_equal(l.n, 2);
}

/* ======================================================================== */
/* files that are refused and left as they were                             */
/* ======================================================================== */

static void make_newer_schema(fixture *f)
{
	open_new(f);
	add_member(f, "Newer", "13300000030", "NEW1", "");
	close_store(f);
	testdb_exec(f->path, "PRAGMA user_version = 99");
}

static void make_newer_schema_rollback_journal(fixture *f)
{
	testdb_exec(f->path, "PRAGMA journal_mode = DELETE; PRAGMA application_id = 1413962313;"
			     " CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT);"
			     " CREATE TABLE future(x); INSERT INTO future VALUES('from tingzi 9');"
			     " PRAGMA user_version = 99;");
}

static void make_damaged_header(fixture *f)
{
	write_bytes(f->path, "SQLite format 2\0\x10\0\1\1\0\x40\x20\x20", 24);
}

static void make_random_bytes(fixture *f)
{
	unsigned char buf[16384];
	uint32_t x = 2463534242u; /* xorshift32: the same bytes on every run */
	for (size_t i = 0; i < sizeof buf; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	write_bytes(f->path, buf, sizeof buf);
}

static void make_other_program(fixture *f)
{
	testdb_exec(f->path, "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT);"
			     " INSERT INTO notes(text) VALUES('groceries'), ('dentist 3pm')");
}

static void make_other_program_wal_v1(fixture *f)
{
	/* another program that also uses user_version 1 and WAL */
	testdb_exec(f->path,
		    "PRAGMA journal_mode = WAL; CREATE TABLE members(id INTEGER PRIMARY KEY, name TEXT);"
		    " INSERT INTO members(name) VALUES('not ours'); PRAGMA user_version = 1");
}

static void make_text_file(fixture *f)
{
	static const char text[] = "name,phone,code\n张三,13812345678,TZ1001\n";
	write_bytes(f->path, text, sizeof text - 1);
}

static void test_refused_files_left_untouched(void **state)
{
	static const struct {
		const char *what;
		void (*make)(fixture *f);
		store_err want;
		const char *says; /* in the error sentence */
	} cases[] = {
	    {"user_version 99", make_newer_schema, STORE_ERR_TOO_NEW, "newer"},
	    {"user_version 99, rollback journal", make_newer_schema_rollback_journal, STORE_ERR_TOO_NEW,
	     "newer"},
	    {"a damaged header", make_damaged_header, STORE_ERR_NOTADB, "left untouched"},
	    {"random bytes", make_random_bytes, STORE_ERR_NOTADB, "left untouched"},
	    {"a CSV given as the database", make_text_file, STORE_ERR_NOTADB, "left untouched"},
	    {"another program's database", make_other_program, STORE_ERR_NOTADB, "another program"},
	    {"another program's WAL database, version 1", make_other_program_wal_v1, STORE_ERR_NOTADB,
	     "another program"},
	};
	static const int flags[] = {0, STORE_OPEN_CREATE, STORE_OPEN_CREATE | STORE_OPEN_READONLY_OK};
	fixture *f = *state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		assert_int_equal(mkdir(f->dir, 0755), 0);
		cases[i].make(f);
		size_t len;
		char *before = slurp(f->path, &len);
		assert_true(len > 0);
		for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++) {
			char err[512] = "";
			store *s = (store *)1;
			store_err e = store_open(f->path, flags[j], &s, err, sizeof err);
			if (e != cases[i].want)
				fail_msg("%s (flags %d): %s, want %s: %s", cases[i].what, flags[j],
					 store_strerror(e), store_strerror(cases[i].want), err);
			assert_null(s);
			if (!strstr(err, f->path) || !strstr(err, cases[i].says))
				fail_msg("%s: the message \"%s\" should name the file and say \"%s\"",
					 cases[i].what, err, cases[i].says);
			assert_same_bytes(before, len, f->path);
		}
		free(before);
	}
}

static void test_missing_file_not_created(void **state)
{
	fixture *f = *state;
	char err[512] = "", side[256];
	store *s = (store *)1;
	assert_int_equal(store_open(f->path, 0, &s, err, sizeof err), STORE_ERR_OPEN);
	assert_null(s);
	assert_non_null(strstr(err, f->path));
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(side, sizeof side, "%s%s", f->path, ext[i]);
		assert_false(exists(side));
	}
	/* a NULL errbuf is allowed */
	assert_int_equal(store_open(f->path, 0, &s, NULL, 0), STORE_ERR_OPEN);
	assert_false(exists(f->path));
}

static void test_folder_that_does_not_exist(void **state)
{
	fixture *f = *state;
	char path[256], err[512] = "";
	store *s = (store *)1;
	snprintf(path, sizeof path, "%s/no-such-folder/tingzi.db", f->dir);
	assert_int_equal(store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_ERR_OPEN);
	assert_null(s);
	if (!strstr(err, path))
		fail_msg("the message \"%s\" should name %s", err, path);
	snprintf(path, sizeof path, "%s/no-such-folder", f->dir);
	assert_false(exists(path));
}

/* ======================================================================== */
/* a full disk                                                              */
/* ======================================================================== */

static void test_full_via_limit_growth(void **state)
{
	fixture *f = *state;
	store_checkin c;
	store_checkin_status st = STORE_CHECKIN_ALREADY;
	char day[40], err[512];
	open_new(f);
	int64_t m = add_member(f, "Full", "13300000040", "FULL1", "");
	int recorded = 0;
	for (; recorded < 3; recorded++) {
		nth_day(recorded, day, sizeof day);
		checkin_new(f, m, NULL, day);
	}
	assert_int_equal(store_limit_growth(f->s, 0), STORE_OK);
	store_err e = STORE_OK;
	int tries = 0;
	for (; e == STORE_OK && tries < 20000; tries++) {
		nth_day(recorded, day, sizeof day);
		e = store_checkin_record(f->s, m, NULL, "scan", NOON, day, &st, &c);
		if (e == STORE_OK)
			recorded++;
	}
	if (e != STORE_ERR_FULL)
		fail_msg("after %d check-ins: %s (%s), want the disk full", recorded, store_strerror(e),
			 store_errmsg(f->s));
	assert_true(recorded > 3);

	/* the failed check-in left nothing; the earlier ones are all there */
	assert_int_equal(testdb_count(f->path, "checkins"), recorded);
	assert_int_equal(testdb_count(f->path, "outbox"), recorded);
	assert_int_equal(device_seq_setting(f->path), recorded);
	assert_int_equal(
	    testdb_int(f->path, "SELECT count(*) FROM checkins c JOIN outbox o ON o.record_id = c.id", NULL),
	    recorded);
	/* and the handle still works: the next one fails again, cleanly */
	assert_int_equal(store_checkin_record(f->s, m, NULL, "scan", NOON, day, &st, &c), STORE_ERR_FULL);
	assert_int_equal(testdb_count(f->path, "checkins"), recorded);
	assert_int_equal(store_member_visits(f->s, m), recorded);

	/* an import that needs room fails the same way and rolls back */
	int64_t members = testdb_count(f->path, "members");
	assert_int_equal(store_import_begin(f->s), STORE_OK);
	e = STORE_OK;
	for (int i = 0; i < 5000 && e == STORE_OK; i++) {
		char code[16];
		int how;
		snprintf(code, sizeof code, "BULK%d", i);
		store_member bulk = member("A member with a long enough name to fill pages", "", code, "");
		e = store_import_member(f->s, &bulk, &how);
	}
	assert_int_equal(e, STORE_ERR_FULL);
	store_import_rollback(f->s);
	assert_int_equal(testdb_count(f->path, "members"), members);
	assert_int_equal(store_member_count(f->s), members);

	/* room again (the limit lasts until close): the next check-in goes in with the next number */
	close_store(f);
	assert_int_equal(store_open(f->path, 0, &f->s, err, sizeof err), STORE_OK);
	nth_day(recorded, day, sizeof day);
	c = checkin_new(f, m, NULL, day);
	assert_int_equal(c.device_seq, recorded + 1);
	assert_int_equal(c.visit_no, recorded + 1);
}

/* In a private mount namespace: the folder is a 384 KiB tmpfs; check in until it is full. */
static int full_tmpfs_child(fixture *f)
{
	char err[512], day[40];
	store *s = NULL;
	store_checkin c;
	store_checkin_status st;
	if (!private_mounts() || mount("tingzi-test-full", f->dir, "tmpfs", 0, "size=384k") != 0)
		return SKIP_CODE;
	CHILD_CHECK(1, store_open(f->path, STORE_OPEN_CREATE, &s, err, sizeof err) == STORE_OK);
	store_member m = member("Full Disk", "13300000050", "DISK1", "");
	int how;
	CHILD_CHECK(2, store_import_begin(s) == STORE_OK && store_import_member(s, &m, &how) == STORE_OK &&
			   store_import_commit(s) == STORE_OK);
	int64_t id = testdb_int(f->path, "SELECT id FROM members WHERE code = 'DISK1'", NULL);
	int recorded = 0;
	store_err e = STORE_OK;
	while (e == STORE_OK && recorded < 20000) {
		nth_day(recorded, day, sizeof day);
		e = store_checkin_record(s, id, NULL, "scan", NOON, day, &st, &c);
		if (e == STORE_OK)
			recorded++;
	}
	if (e != STORE_ERR_FULL)
		fprintf(stderr, "after %d check-ins: %s (%s)\n", recorded, store_strerror(e),
			store_errmsg(s));
	CHILD_CHECK(3, e == STORE_ERR_FULL);
	CHILD_CHECK(4, recorded > 0);
	/* nothing of the failed one; all of the others; the same again after close */
	for (int round = 0; round < 2; round++) {
		CHILD_CHECK(5, testdb_count(f->path, "checkins") == recorded);
		CHILD_CHECK(6, testdb_count(f->path, "outbox") == recorded);
		CHILD_CHECK(7, device_seq_setting(f->path) == recorded);
		if (round == 0) {
			CHILD_CHECK(8, store_member_visits(s, id) == recorded);
			store_close(s);
			s = NULL;
		}
	}
	/* room again: the card is replaced by a bigger one (the tmpfs grows) */
	CHILD_CHECK(9, mount(NULL, f->dir, NULL, MS_REMOUNT, "size=8m") == 0);
	CHILD_CHECK(10, store_open(f->path, 0, &s, err, sizeof err) == STORE_OK);
	nth_day(recorded, day, sizeof day);
	CHILD_CHECK(11, store_checkin_record(s, id, NULL, "scan", NOON, day, &st, &c) == STORE_OK);
	CHILD_CHECK(12, st == STORE_CHECKIN_RECORDED && c.device_seq == recorded + 1);
	store_close(s);
	CHILD_CHECK(13, testdb_count(f->path, "checkins") == recorded + 1);
	return 0;
}

static void test_full_real_tmpfs(void **state)
{
	fixture *f = *state;
	int rc = in_child(full_tmpfs_child, f, 0);
	if (rc == SKIP_CODE) {
		fprintf(stderr, "skipped: no private mount namespace with a tmpfs here (needs root)\n");
		skip();
	}
	assert_int_equal(rc, 0);
}

/* ======================================================================== */
/* read-only                                                                */
/* ======================================================================== */

/* A database with two members and one check-in, closed. */
static void seed(fixture *f)
{
	open_new(f);
	int64_t m = add_member(f, "Reader", "13300000060", "RO1", "");
	add_member(f, "Writer", "13300000061", "RO2", "");
	checkin_new(f, m, NULL, TODAY);
	close_store(f);
}

/* What a read-only database does; 0, or the number of the failed step. Usable in a child. */
static int check_readonly(const char *path)
{
	char err[512] = "";
	store *s = (store *)1;
	store_checkin c;
	store_checkin_status st;
	store_member walkin;
	int how;
	store_member got;
	CHILD_CHECK(20, store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err) == STORE_ERR_READONLY);
	CHILD_CHECK(21, store_open(path, 0, &s, err, sizeof err) == STORE_ERR_READONLY);
	CHILD_CHECK(22, s == NULL && strstr(err, path) != NULL);
	CHILD_CHECK(23, store_open(path, STORE_OPEN_READONLY_OK, &s, err, sizeof err) == STORE_OK);
	CHILD_CHECK(24, store_is_readonly(s));
	CHILD_CHECK(25, store_member_count(s) == 2);
	CHILD_CHECK(26, store_member_visits(s, 1) == 1);
	CHILD_CHECK(34, store_outbox_count(s) == 1);
	CHILD_CHECK(35, store_member_get(s, 1, &got) == STORE_OK && strcmp(got.name, "Reader") == 0);
	CHILD_CHECK(27, store_checkin_record(s, 2, NULL, "scan", NOON, TODAY, &st, &c) == STORE_ERR_READONLY);
	CHILD_CHECK(28, store_member_register(s, "New", "13300000062", NOON, &walkin) == STORE_ERR_READONLY);
	store_member m = member("Import", "13300000063", "RO3", "");
	CHILD_CHECK(29, store_import_begin(s) == STORE_ERR_READONLY);
	CHILD_CHECK(30, store_import_member(s, &m, &how) == STORE_ERR_READONLY);
	CHILD_CHECK(31, store_setting_set(s, "venue_name", "x") == STORE_ERR_READONLY);
	CHILD_CHECK(32, store_event_add(s, "x", 1, 2, NULL) == STORE_ERR_READONLY);
	CHILD_CHECK(33, store_member_count(s) == 2);
	CHILD_CHECK(36, store_outbox_count(s) == 1);
	store_close(s);
	return 0;
}

static int check_readonly_child(fixture *f)
{
	return check_readonly(f->path);
}

static void test_readonly_file_or_folder(void **state)
{
	/* The kiosk's user meets a database it may not write: file mode, or a
	 * folder where SQLite cannot make its -wal and -shm files. As root the
	 * checks run as nobody, since root ignores file modes. */
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
		size_t len;
		nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		assert_int_equal(mkdir(f->dir, 0755), 0);
		seed(f);
		char *before = slurp(f->path, &len);
		if (root && (chown(f->dir, NOBODY, NOBODY) != 0 || chown(f->path, NOBODY, NOBODY) != 0))
			fail_msg("chown: %s", strerror(errno));
		chmod(f->path, cases[i].file_mode);
		chmod(f->dir, cases[i].dir_mode);
		int rc = in_child(check_readonly_child, f, root);
		chmod(f->dir, 0755);
		chmod(f->path, 0644);
		assert_same_bytes(before, len, f->path);
		free(before);
		if (rc == SKIP_CODE) {
			fprintf(stderr, "skipped: cannot become nobody here\n");
			skip();
		}
		if (rc != 0)
			fail_msg("%s: step %d failed", cases[i].what, rc);
	}
}

static int create_in_readonly_folder(fixture *f)
{
	char err[512];
	store *s = (store *)1;
	CHILD_CHECK(1, store_open(f->path, STORE_OPEN_CREATE | STORE_OPEN_READONLY_OK, &s, err, sizeof err) ==
			   STORE_ERR_READONLY);
	CHILD_CHECK(2, s == NULL && strstr(err, f->path) != NULL);
	CHILD_CHECK(3, access(f->path, F_OK) != 0);
	return 0;
}

static void test_new_database_in_readonly_folder(void **state)
{
	fixture *f = *state;
	chmod(f->dir, 0555);
	int rc = in_child(create_in_readonly_folder, f, geteuid() == 0);
	chmod(f->dir, 0755);
	if (rc == SKIP_CODE)
		skip();
	if (rc != 0)
		fail_msg("step %d failed", rc);
}

static void test_readonly_immutable_file(void **state)
{
	/* Root writes through file modes, but not into an immutable file. */
	fixture *f = *state;
	size_t len;
	seed(f);
	char *before = slurp(f->path, &len);
	if (set_immutable(f->path, 1) != 0) {
		free(before);
		fprintf(stderr, "skipped: chattr +i does not work on %s here\n", f->dir);
		skip();
	}
	f->immutable = 1;
	int rc = check_readonly(f->path);
	assert_same_bytes(before, len, f->path);
	free(before);
	if (rc != 0)
		fail_msg("immutable file: step %d failed", rc);
}

/* In a private mount namespace: the folder bind-mounted read-only onto itself. */
static int readonly_mount_child(fixture *f)
{
	if (!private_mounts() || mount(f->dir, f->dir, NULL, MS_BIND, NULL) != 0 ||
	    mount(NULL, f->dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
		return SKIP_CODE;
	return check_readonly(f->path);
}

/* seed() without cmocka, for a child: the same two members and check-in. 0 on success. */
static int seed_in_child(const char *path)
{
	char err[512];
	store *s = NULL;
	store_checkin c;
	store_checkin_status st;
	int how;
	store_member a = member("Reader", "13300000060", "RO1", "");
	store_member b = member("Writer", "13300000061", "RO2", "");
	CHILD_CHECK(41, store_open(path, STORE_OPEN_CREATE, &s, err, sizeof err) == STORE_OK);
	int ok = store_import_begin(s) == STORE_OK && store_import_member(s, &a, &how) == STORE_OK &&
		 store_import_member(s, &b, &how) == STORE_OK && store_import_commit(s) == STORE_OK &&
		 store_checkin_record(s, 1, NULL, "scan", NOON, TODAY, &st, &c) == STORE_OK;
	store_close(s);
	CHILD_CHECK(42, ok);
	return 0;
}

/* In a private mount namespace: a tmpfs, a database on it, then the tmpfs remounted read-only. */
static int remounted_tmpfs_child(fixture *f)
{
	char mnt[160], path[192];
	snprintf(mnt, sizeof mnt, "%s/mnt", f->dir);
	snprintf(path, sizeof path, "%s/tingzi.db", mnt);
	if (!private_mounts() || mkdir(mnt, 0755) != 0 ||
	    mount("tingzi-test-ro", mnt, "tmpfs", 0, "size=4m") != 0)
		return SKIP_CODE;
	int rc = seed_in_child(path);
	if (rc != 0)
		return rc;
	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
		return SKIP_CODE;
	return check_readonly(path);
}

static void test_readonly_mount(void **state)
{
	fixture *f = *state;
	char side[256];
	size_t len;
	seed(f);
	char *before = slurp(f->path, &len);
	int rc = in_child(readonly_mount_child, f, 0);
	assert_same_bytes(before, len, f->path);
	free(before);
	if (rc == SKIP_CODE) {
		fprintf(stderr,
			"skipped: no private mount namespace for a read-only bind mount (needs root)\n");
		skip();
	}
	if (rc != 0)
		fail_msg("read-only mount: step %d failed", rc);
	snprintf(side, sizeof side, "%s-wal", f->path);
	assert_false(exists(side)); /* nothing was written beside it either */

	/* what a root kiosk meets when the card is remounted read-only after errors */
	rc = in_child(remounted_tmpfs_child, f, 0);
	if (rc == SKIP_CODE) {
		fprintf(stderr, "skipped: no tmpfs to remount read-only here (needs root)\n");
		skip();
	}
	if (rc != 0)
		fail_msg("remounted read-only: step %d failed", rc);
}

/* ======================================================================== */
/* walk-ins                                                                 */
/* ======================================================================== */

static void test_register_walkin(void **state)
{
	fixture *f = *state;
	store_member w, again;
	char buf[128], uid[64];
	open_new(f);
	assert_int_equal(store_member_register(f->s, "Walk-in Wu", "13700000001", NOON, &w), STORE_OK);
	assert_true(w.id > 0);
	assert_int_equal(w.provisional, 1);
	assert_string_equal(w.name, "Walk-in Wu");
	assert_string_equal(w.phone, "13700000001");

	assert_int_equal(testdb_count(f->path, "members"), 1);
	assert_int_equal(
	    testdb_int(f->path, "SELECT provisional FROM members WHERE phone = '13700000001'", NULL), 1);
	assert_true(testdb_int(f->path, "SELECT code IS NULL FROM members", NULL) == 1);
	assert_int_equal(testdb_count(f->path, "outbox"), 1);
	testdb_text(f->path, "SELECT uid FROM members", NULL, uid, sizeof uid);
	assert_string_equal(
	    testdb_text(f->path, "SELECT kind FROM outbox WHERE record_id = ?1", uid, buf, sizeof buf),
	    "member");
	assert_string_equal(
	    testdb_text(f->path, "SELECT json_extract(body, '$.name') FROM outbox", NULL, buf, sizeof buf),
	    "Walk-in Wu");
	assert_string_equal(
	    testdb_text(f->path, "SELECT json_extract(body, '$.phone') FROM outbox", NULL, buf, sizeof buf),
	    "13700000001");
	assert_int_equal(testdb_int(f->path, "SELECT json_extract(body, '$.provisional') FROM outbox", NULL),
			 1);
	assert_int_equal(testdb_int(f->path, "SELECT json_extract(body, '$.created_ms') FROM outbox", NULL),
			 NOON);
	assert_int_equal(testdb_int(f->path, "SELECT json_extract(body, '$.device_seq') FROM outbox", NULL),
			 1);
	assert_string_equal(testdb_text(f->path, "SELECT json_extract(body, '$.device_id') FROM outbox", NULL,
					buf, sizeof buf),
			    store_device_id(f->s));

	/* the same phone again: the existing member, nothing new */
	memset(&again, 0, sizeof again);
	assert_int_equal(store_member_register(f->s, "Somebody Else", "13700000001", NOON + 1, &again),
			 STORE_ERR_EXISTS);
	assert_int_equal(again.id, w.id);
	assert_string_equal(again.name, "Walk-in Wu");
	assert_int_equal(testdb_count(f->path, "members"), 1);
	assert_int_equal(testdb_count(f->path, "outbox"), 1);
	assert_int_equal(device_seq_setting(f->path), 1);
	/* and it let go of the write lock: the next write commits and another program sees it */
	checkin_new(f, w.id, NULL, TODAY);
	assert_int_equal(testdb_count(f->path, "checkins"), 1);

	/* refused input writes nothing */
	static const struct {
		const char *name, *phone;
	} bad[] = {
	    {"", "13700000002"},        {"No Phone", ""},       {"Letters", "1370000abc"},
	    {"Plus", "+8613700000002"}, {"Dashes", "137-0000"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(store_member_register(f->s, bad[i].name, bad[i].phone, NOON, &again),
				 STORE_ERR_INVALID);
		assert_int_equal(testdb_count(f->path, "members"), 1);
		assert_int_equal(testdb_count(f->path, "outbox"), 2); /* the walk-in and the check-in */
	}
}

/* ======================================================================== */
/* roster import                                                            */
/* ======================================================================== */

static void test_import_update_by_code_keeps_id(void **state)
{
	fixture *f = *state;
	store_member got;
	int how = -1;
	char buf[64];
	open_new(f);
	int64_t id = add_member(f, "Zhang San", "13812345678", "TZ1001", "2026-06-30");

	const struct {
		store_member m;
		int want;
	} steps[] = {
	    /* new name, phone, tier, date: the same member */
	    {{.name = "张三",
	      .phone = "13812340000",
	      .code = "TZ1001",
	      .tier = "gold",
	      .expires = "2027-06-30"},
	     STORE_IMPORT_UPDATED},
	    {{.name = "张三",
	      .phone = "13812340000",
	      .code = "TZ1001",
	      .tier = "gold",
	      .expires = "2027-06-30"},
	     STORE_IMPORT_UNCHANGED},
	    /* an empty phone keeps the present one */
	    {{.name = "张三", .phone = "", .code = "TZ1001", .tier = "gold", .expires = "2027-06-30"},
	     STORE_IMPORT_UNCHANGED},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(store_import_begin(f->s), STORE_OK);
		assert_int_equal(store_import_member(f->s, &steps[i].m, &how), STORE_OK);
		assert_int_equal(store_import_commit(f->s), STORE_OK);
		if (how != steps[i].want)
			fail_msg("step %zu: %d, want %d", i, how, steps[i].want);
		assert_int_equal(testdb_count(f->path, "members"), 1);
		assert_int_equal(testdb_int(f->path, "SELECT id FROM members WHERE code = 'TZ1001'", NULL),
				 id);
	}
	assert_int_equal(store_member_get(f->s, id, &got), STORE_OK);
	assert_string_equal(got.name, "张三");
	assert_string_equal(got.phone, "13812340000");
	assert_string_equal(got.tier, "gold");
	assert_string_equal(got.expires, "2027-06-30");
	assert_string_equal(
	    testdb_text(f->path, "SELECT name FROM members WHERE id = 1", NULL, buf, sizeof buf), "张三");
	assert_int_equal(testdb_count(f->path, "outbox"), 0); /* imports are not sent back */

	/* a walk-in's phone in the roster: the walk-in becomes that member, same id */
	store_member w;
	assert_int_equal(store_member_register(f->s, "Walk-in", "13900000001", NOON, &w), STORE_OK);
	store_member roster = member("Walk-in Li", "13900000001", "TZ2001", "");
	assert_int_equal(store_import_begin(f->s), STORE_OK);
	assert_int_equal(store_import_member(f->s, &roster, &how), STORE_OK);
	assert_int_equal(store_import_commit(f->s), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UPDATED);
	assert_int_equal(testdb_int(f->path, "SELECT id FROM members WHERE code = 'TZ2001'", NULL), w.id);
	assert_int_equal(testdb_int(f->path, "SELECT provisional FROM members WHERE code = 'TZ2001'", NULL),
			 0);
	assert_int_equal(testdb_count(f->path, "members"), 2);
}

static void test_import_rollback_leaves_nothing(void **state)
{
	fixture *f = *state;
	int how;
	char buf[64];
	open_new(f);
	int64_t id = add_member(f, "Before", "13300000070", "RB1", "");

	assert_int_equal(store_import_begin(f->s), STORE_OK);
	for (int i = 0; i < 3; i++) {
		char code[16];
		snprintf(code, sizeof code, "RBNEW%d", i);
		store_member m = member("New", "", code, "");
		assert_int_equal(store_import_member(f->s, &m, &how), STORE_OK);
		assert_int_equal(how, STORE_IMPORT_ADDED);
	}
	store_member changed = member("After", "13300000071", "RB1", "2027-01-01");
	assert_int_equal(store_import_member(f->s, &changed, &how), STORE_OK);
	assert_int_equal(how, STORE_IMPORT_UPDATED);
	/* inside the transaction the store sees them; another connection does not */
	assert_int_equal(store_member_count(f->s), 4);
	assert_int_equal(testdb_count(f->path, "members"), 1);
	store_import_rollback(f->s);

	assert_int_equal(testdb_count(f->path, "members"), 1);
	assert_int_equal(store_member_count(f->s), 1);
	assert_string_equal(testdb_text(f->path,
					"SELECT name || ' ' || phone || ' ' || expires || '.' FROM members"
					" WHERE code = 'RB1'",
					NULL, buf, sizeof buf),
			    "Before 13300000070 .");
	assert_int_equal(testdb_int(f->path, "SELECT id FROM members WHERE code = 'RB1'", NULL), id);
	/* the handle is usable afterwards */
	assert_int_equal(checkin_new(f, id, NULL, TODAY).visit_no, 1);
}

static void test_import_refusals(void **state)
{
	fixture *f = *state;
	int how;
	open_new(f);
	add_member(f, "Owner", "13300000080", "OWN1", "");
	add_member(f, "Mover", "13300000082", "OWN2", "");
	const struct {
		const char *what;
		store_member m;
		store_err want;
		const char *says; /* in store_errmsg(), when not NULL */
	} cases[] = {
	    {"no name", {.phone = "13300000081", .code = "X1"}, STORE_ERR_INVALID, NULL},
	    {"no phone and no code", {.name = "Nobody"}, STORE_ERR_INVALID, NULL},
	    {"phone with letters",
	     {.name = "A", .phone = "1330000abc", .code = "X2"},
	     STORE_ERR_INVALID,
	     NULL},
	    {"not a real date",
	     {.name = "A", .code = "X3", .expires = "2026-02-30"},
	     STORE_ERR_INVALID,
	     NULL},
	    {"date in another form",
	     {.name = "A", .code = "X4", .expires = "30.06.2026"},
	     STORE_ERR_INVALID,
	     NULL},
	    {"another member's phone",
	     {.name = "B", .phone = "13300000080", .code = "X5"},
	     STORE_ERR_EXISTS,
	     "OWN1"},
	    {"a member moved onto a taken phone",
	     {.name = "Mover", .phone = "13300000080", .code = "OWN2"},
	     STORE_ERR_EXISTS,
	     NULL},
	};
	assert_int_equal(store_import_begin(f->s), STORE_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		store_err e = store_import_member(f->s, &cases[i].m, &how);
		if (e != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].what, store_strerror(e),
				 store_strerror(cases[i].want));
		assert_true(store_errmsg(f->s)[0] != '\0');
		if (cases[i].says && !strstr(store_errmsg(f->s), cases[i].says))
			fail_msg("%s: the message \"%s\" should name %s", cases[i].what, store_errmsg(f->s),
				 cases[i].says);
	}
	assert_int_equal(store_import_commit(f->s), STORE_OK);
	assert_int_equal(testdb_count(f->path, "members"), 2);
	assert_int_equal(testdb_int(f->path, "SELECT phone FROM members WHERE code = 'OWN2'", NULL),
			 13300000082LL);
	assert_int_equal(testdb_count(f->path, "outbox"), 0); /* imports are not sent back */
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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_new_database_version_tables_wal),
	    T(test_empty_file_becomes_a_database),
	    T(test_synchronous_full_on_the_store_handle),
	    T(test_settings),
	    T(test_visit_count_uses_an_index),
	    T(test_checkin_and_outbox_row_together),
	    T(test_second_checkin_to_same_event_adds_nothing),
	    T(test_dropin_once_per_day),
	    T(test_visit_no_counts_across_events),
	    T(test_expired_flag),
	    T(test_device_seq_counts_up_by_one),
	    T(test_refused_checkins_write_nothing),
	    T(test_events_and_lists),
	    T(test_refused_files_left_untouched),
	    T(test_missing_file_not_created),
	    T(test_folder_that_does_not_exist),
	    T(test_new_database_in_readonly_folder),
	    T(test_full_via_limit_growth),
	    T(test_full_real_tmpfs),
	    T(test_readonly_file_or_folder),
	    T(test_readonly_immutable_file),
	    T(test_readonly_mount),
	    T(test_register_walkin),
	    T(test_import_update_by_code_keeps_id),
	    T(test_import_rollback_leaves_nothing),
	    T(test_import_refusals),
	    T(test_strerror),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
