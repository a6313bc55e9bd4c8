/*
 * The kiosk under a hard week, against real things: a real HTTP server on
 * loopback that answers every request 503 with "Retry-After: 86400" (the
 * worker waits at most 300 s, and a check-in made through the kiosk's own
 * scan path wakes it at once); a real SQLite fault while the current event
 * is read (the check-in fails, nothing is saved as a drop-in); and members
 * imported by another process while the kiosk runs (recognised at the next
 * scan, and picked up by the idle home screen, without a restart); and the
 * lock that keeps two syncs of one database from running at once; and every
 * date the kiosk reads refusing days and hours that do not exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/checkin.h"
#include "app/kiosk.h"
#include "sync/links.h"
#include "sync/members_csv.h"
#include "app/screens/screen.h"
#include "app/sync/client.h"
#include "sync/clock.h"
#include "app/store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/testdb.h"

static int setup(void **state)
{
	return testdb_setup(state, "hardening");
}

/* teardown, and the sync lock file a round leaves beside the database */
static int teardown_all(void **state)
{
	char lock[160];
	snprintf(lock, sizeof lock, "%s.sync-lock", path);
	unlink(lock);
	return teardown(state);
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

/* ---- a loopback HTTP server that answers 503 Retry-After: 86400 ---- */

typedef struct busy_hub {
	int fd, port;
	atomic_int requests;
	atomic_int stop;
	pthread_t thread;
} busy_hub;

/* Read one request (headers and a Content-Length body) and answer it. */
static void busy_answer(int c, busy_hub *h)
{
	char buf[65536];
	size_t n = 0;
	char *end = NULL;
	while (n < sizeof buf - 1 && !end) {
		ssize_t got = recv(c, buf + n, sizeof buf - 1 - n, 0);
		if (got <= 0)
			return;
		n += (size_t)got;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	size_t body = 0;
	const char *cl = strstr(buf, "Content-Length:");
	if (cl && cl < end)
		body = (size_t)strtoul(cl + 15, NULL, 10);
	size_t have = n - (size_t)(end + 4 - buf);
	while (have < body) {
		ssize_t got = recv(c, buf, sizeof buf, 0);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	atomic_fetch_add(&h->requests, 1);
	static const char body_text[] = "{\"error\":\"busy\",\"message\":\"come back tomorrow\"}";
	char reply[512];
	int len =
	    snprintf(reply, sizeof reply,
		     "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 86400\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     strlen(body_text), body_text);
	ssize_t sent = send(c, reply, (size_t)len, MSG_NOSIGNAL);
	(void)sent;
}

static void *busy_main(void *arg)
{
	busy_hub *h = arg;
	while (!atomic_load(&h->stop)) {
		int c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		if (!atomic_load(&h->stop))
			busy_answer(c, h);
		close(c);
	}
	return NULL;
}

static void busy_start(busy_hub *h)
{
	memset(h, 0, sizeof *h);
	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(h->fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(h->fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&a, &len), 0);
	h->port = ntohs(a.sin_port);
	assert_int_equal(listen(h->fd, 16), 0);
	assert_int_equal(pthread_create(&h->thread, NULL, busy_main, h), 0);
}

static void busy_stop(busy_hub *h)
{
	atomic_store(&h->stop, 1);
	/* wake accept() with one last connection */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)h->port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (c >= 0) {
		if (connect(c, (struct sockaddr *)&a, sizeof a) !=
		    0) { /* nothing to do: accept wakes anyway */
		}
		close(c);
	}
	pthread_join(h->thread, NULL);
	close(h->fd);
}

/* The kiosk's settings as `tingzi enroll` leaves them, for a hub on port. */
static void enroll_at(store *s, int port)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	assert_int_equal(store_setting_set(s, "hub_url", url), STORE_OK);
	assert_int_equal(store_setting_set(s, "hub_token", "t0ken"), STORE_OK);
	assert_int_equal(store_setting_set(s, "hub_venue", "0123456789abcdef0123456789abcdef"), STORE_OK);
}

/* A hub that answers "Retry-After: 86400" is waited out for 300 s, no more. */
static void test_retry_after_clamped(void **state)
{
	store *s = *state;
	busy_hub h;
	busy_start(&h);
	enroll_at(s, h.port);
	sync_conf conf;
	assert_int_equal(sync_conf_load(s, &conf), 0);
	sync_report r;
	assert_int_equal(sync_round(s, &conf, &r), SYNC_NETWORK);
	assert_int_equal(r.http_status, 503);
	assert_true(atomic_load(&h.requests) >= 1);
	assert_int_equal(r.retry_after_s, SYNC_RETRY_AFTER_MAX_S);
	assert_int_equal(SYNC_RETRY_AFTER_MAX_S, 300);
	/* the next attempt: 300 s after the hub's answer, or the back-off when that is
	 * longer (it is at most 300 s times the random factor of 0.5-1.5) */
	for (int failures = 1; failures <= 30; failures++)
		for (double u = 0.0; u < 1.0; u += 0.25) {
			int64_t wait = sync_next_wait_ms(SYNC_NETWORK, failures, r.retry_after_s, 30000, u);
			int64_t backoff = sync_backoff_ms(failures, u);
			assert_int_equal(wait, backoff > 300000 ? backoff : 300000);
		}
	/* a Retry-After above the clamp given straight in is clamped too */
	assert_int_equal(sync_next_wait_ms(SYNC_NETWORK, 1, 86400, 30000, 0.5), 300000);
	assert_int_equal(sync_next_wait_ms(SYNC_OK, 0, 0, 30000, 0.5), 30000);
	busy_stop(&h);
}

/* While the worker waits out the hub's Retry-After, a check-in wakes it. */
static void test_checkin_wakes_waiting_worker(void **state)
{
	store *s = *state;
	busy_hub h;
	busy_start(&h);
	enroll_at(s, h.port);
	testdb_add_member(s, "张三", "13800005678", "TZ1001");
	static kiosk k;
	kiosk_config cfg = {.db_path = path, .windowed = 1, .width = 1280, .height = 800};
	assert_int_equal(kiosk_open(&k, &cfg), 0);
	assert_non_null(k.sync);
	assert_non_null(kiosk_roster(&k));
	/* the worker's first round meets the 503 and settles into its wait */
	sync_status st = {0};
	for (int i = 0; i < 500 && st.rounds < 1; i++) {
		sleep_ms(10);
		sync_worker_status(k.sync, &st);
	}
	assert_int_equal(st.rounds, 1);
	assert_false(st.online);
	assert_int_equal(st.wait_ms, 300000); /* 86400 s asked, 300 s taken */
	sleep_ms(300);
	int before = atomic_load(&h.requests);
	assert_true(before >= 1);
	/* a member scans their card: the check-in is saved and the worker goes at once */
	int64_t t0 = clock_mono_ms();
	kiosk_scan(&k, "TZ1001");
	assert_int_equal(k.screen, SCREEN_WELCOME);
	assert_int_equal(sql_int("SELECT count(*) FROM checkins"), 1);
	while (atomic_load(&h.requests) == before && clock_mono_ms() - t0 < 5000)
		sleep_ms(10);
	assert_true(atomic_load(&h.requests) > before);
	print_message("a check-in woke the waiting worker in %lld ms\n", (long long)(clock_mono_ms() - t0));
	for (int i = 0; i < 500 && st.rounds < 2; i++) {
		sleep_ms(10);
		sync_worker_status(k.sync, &st);
	}
	assert_int_equal(st.rounds, 2);
	kiosk_close(&k);
	busy_stop(&h);
}

/* ---- a failed read of the current event ---- */

/* Overwrite the first bytes of database page `page` (1-based) of the file. */
static void damage_page(int64_t page, int64_t page_size)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	unsigned char junk[16];
	memset(junk, 0xff, sizeof junk);
	assert_int_equal(fseek(f, (long)((page - 1) * page_size), SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	assert_int_equal(fclose(f), 0);
}

/* Standard error into a file while fn runs; returns what was written (static). */
static const char *capture_stderr(void (*fn)(void *ctx), void *ctx)
{
	static char out[8192];
	char name[] = "/tmp/tingzi-hardening-err-XXXXXX";
	int fd = mkstemp(name);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(dup2(fd, 2) >= 0);
	fn(ctx);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, out, sizeof out - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(name);
	return out;
}

typedef struct checkin_call {
	store *s;
	int64_t member;
	checkin_result r;
} checkin_call;

static void call_checkin(void *ctx)
{
	checkin_call *c = ctx;
	checkin_member(c->s, c->member, "scan", &c->r);
}

/*
 * The events table is damaged on disk (a real SQLITE_CORRUPT when it is
 * read) while an event is running: the check-in fails with checkin.failed
 * in the log, and no check-in is saved as a drop-in without its event.
 */
static void test_event_read_failure_fails_checkin(void **state)
{
	store *s = *state;
	int64_t member = testdb_add_member(s, "李四", "13900001234", "TZ1002"), ev;
	int64_t now = clock_wall_ms();
	assert_int_equal(store_event_add(s, "周末茶话会", now - 3600000, now + 3600000, &ev), STORE_OK);
	checkin_call c = {.s = s, .member = member};
	store_close(s);
	*state = NULL; /* the last connection gone: the log is folded into the file */
	int64_t page_size = sql_int("PRAGMA page_size");
	int64_t table = sql_int("SELECT rootpage FROM sqlite_master WHERE name = 'events'");
	int64_t index = sql_int("SELECT rootpage FROM sqlite_master WHERE name = 'events_start'");
	assert_true(table > 1 && index > 1);
	damage_page(table, page_size);
	damage_page(index, page_size);
	char err[256];
	assert_int_equal(store_open(path, 0, &s, err, sizeof err), STORE_OK);
	*state = s;
	store_event e;
	assert_int_not_equal(store_event_current(s, now, &e), STORE_OK);
	assert_int_not_equal(store_event_current(s, now, &e), STORE_ERR_NOT_FOUND);
	c.s = s;
	const char *log = capture_stderr(call_checkin, &c);
	assert_int_equal(c.r.outcome, CHECKIN_FAILED);
	assert_int_not_equal(c.r.err, STORE_OK);
	assert_non_null(strstr(log, "\"checkin.failed\""));
	assert_null(strstr(log, "\"checkin.recorded\""));
	assert_int_equal(sql_int("SELECT count(*) FROM checkins"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM outbox WHERE kind = 'checkin'"), 0);
}

/* ---- members imported by another process while the kiosk runs ---- */

/* `tingzi members import FILE` as another process does it: its own
 * connection, the same import code, then exit. */
/* `members import` as another process does it: this program again, with --import DB CSV. */
static int import_main(const char *db, const char *csv)
{
	store *s;
	char err[256];
	members_csv_report rep;
	int rc = store_open(db, 0, &s, err, sizeof err) == STORE_OK ? 0 : 1;
	if (rc == 0) {
		rc = store_import_csv(s, csv, &rep) == MEMBERS_CSV_OK ? 0 : 2;
		members_csv_report_free(&rep);
		store_close(s);
	}
	return rc;
}

/*
 * The child execs at once: the kiosk's threads are running, and a forked
 * child that allocated before exec could wait forever on a lock one of them
 * held (seen under AddressSanitizer).
 */
static void import_in_child(const char *csv)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test_kiosk_hardening", "--import", path, csv, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_import_elsewhere_recognised(void **state)
{
	store *s = *state;
	testdb_add_member(s, "张三", "13800005678", "TZ1001");
	static kiosk k;
	kiosk_config cfg = {.db_path = path, .windowed = 1, .width = 1280, .height = 800};
	assert_int_equal(kiosk_open(&k, &cfg), 0);
	assert_non_null(kiosk_roster(&k));
	kiosk_scan(&k, "TZ2001");
	assert_int_equal(k.screen, SCREEN_UNKNOWN);
	kiosk_show(&k, SCREEN_HOME);

	char csv[64];
	snprintf(csv, sizeof csv, "/tmp/tingzi-hardening-%d.csv", (int)getpid());
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	fputs("name,phone,code\n王五,13700002001,TZ2001\n赵六,13700002002,TZ2002\n", f);
	assert_int_equal(fclose(f), 0);
	import_in_child(csv);
	unlink(csv);

	/* the new member's card checks them in, with no restart */
	kiosk_scan(&k, "TZ2001");
	assert_int_equal(k.screen, SCREEN_WELCOME);
	assert_int_equal(sql_int("SELECT count(*) FROM checkins c JOIN members m ON m.id = c.member_id"
				 " WHERE m.code = 'TZ2001'"),
			 1);
	/* and the idle home screen picks up the next change by itself */
	kiosk_show(&k, SCREEN_HOME);
	f = fopen(csv, "w");
	assert_non_null(f);
	fputs("name,phone,code\n孙七,13700002003,TZ2003\n", f);
	assert_int_equal(fclose(f), 0);
	import_in_child(csv);
	unlink(csv);
	k.roster_checked_ms = clock_mono_ms() - 60000;
	kiosk_tick(&k);
	assert_non_null(k.loader); /* rebuilding in the background */
	roster *r = kiosk_roster(&k);
	assert_non_null(r);
	assert_non_null(roster_find_code(r, "TZ2003"));
	kiosk_close(&k);
}

/* ---- one sync at a time ---- */

static void test_sync_lock(void **state)
{
	store *a = *state, *b;
	char err[256];
	assert_int_equal(store_open(path, 0, &b, err, sizeof err), STORE_OK);
	assert_int_equal(store_sync_lock(a, 0, NULL), STORE_OK);
	assert_int_equal(store_sync_lock(a, 0, NULL), STORE_OK); /* held already */
	int64_t t0 = clock_mono_ms();
	assert_int_equal(store_sync_lock(b, 200, NULL), STORE_ERR_BUSY);
	assert_true(clock_mono_ms() - t0 >= 200);
	assert_string_equal(store_errmsg(b), "another sync of this database is running");
	store_sync_unlock(a);
	assert_int_equal(store_sync_lock(b, 0, NULL), STORE_OK);
	store_sync_unlock(b);
	/* a holder that dies (kill -9) lets go */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store *c;
		if (store_open(path, 0, &c, err, sizeof err) != STORE_OK ||
		    store_sync_lock(c, 0, NULL) != STORE_OK)
			_exit(1);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 200 && store_sync_lock(b, 0, NULL) == STORE_OK; i++) {
		store_sync_unlock(b); /* not taken by the child yet */
		sleep_ms(10);
	}
	assert_int_equal(store_sync_lock(b, 0, NULL), STORE_ERR_BUSY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(store_sync_lock(b, 1000, NULL), STORE_OK);
	store_close(b); /* and closing lets go */
	assert_int_equal(store_sync_lock(a, 0, NULL), STORE_OK);
}

/* ---- dates and times the kiosk reads ---- */

static const struct {
	const char *text;
	int ok;
} days[] = {
    {"2026-02-28", 1},  {"2026-02-29", 0}, {"2028-02-29", 1}, {"2100-02-29", 0}, {"2000-02-29", 1},
    {"2026-02-31", 0},  {"2026-04-31", 0}, {"2026-04-30", 1}, {"2026-12-31", 1}, {"2026-13-01", 0},
    {"2026-00-10", 0},  {"2026-01-00", 0}, {"2026-01-32", 0}, {"----------", 0}, {"2026-1-01", 0},
    {"2026-01-01x", 0}, {"", 0},
};

static void test_impossible_days(void **state)
{
	(void)state;
	int64_t now = clock_wall_ms(), ms;
	for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
		char when[40], why[200];
		snprintf(when, sizeof when, "%sT10:00", days[i].text);
		if ((clock_parse_date(days[i].text) == 0) != days[i].ok)
			fail_msg("clock_parse_date(\"%s\")", days[i].text);
		if ((clock_parse_local(when, &ms) == 0) != days[i].ok)
			fail_msg("clock_parse_local(\"%s\")", when);
		snprintf(when, sizeof when, "%s 10:00", days[i].text);
		if ((links_parse_expiry(when, "url", now, &ms, why, sizeof why) == 0) !=
		    (days[i].ok && ms > now))
			fail_msg("links_parse_expiry(\"%s\")", when);
	}
}

/* A time that does not exist locally (the hour skipped when summer time
 * starts) is refused, not moved an hour on. */
static void test_skipped_hour(void **state)
{
	(void)state;
	const char *tz = getenv("TZ");
	char saved[64] = "";
	if (tz)
		snprintf(saved, sizeof saved, "%s", tz);
	setenv("TZ", "America/New_York", 1);
	tzset();
	int64_t ms;
	int gap = clock_parse_local("2026-03-08T02:30", &ms);
	int before = clock_parse_local("2026-03-08T01:59", &ms);
	int after = clock_parse_local("2026-03-08T03:00", &ms);
	int fall = clock_parse_local("2026-11-01T01:30", &ms); /* twice, but it exists */
	if (tz)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	assert_int_equal(gap, -1);
	assert_int_equal(before, 0);
	assert_int_equal(after, 0);
	assert_int_equal(fall, 0);
}

/* members import: a row whose expiry is an impossible day is refused, nothing imported. */
static void test_members_csv_impossible_day(void **state)
{
	store *s = *state;
	char csv[64];
	snprintf(csv, sizeof csv, "/tmp/tingzi-hardening-%d.csv", (int)getpid());
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	fputs("name,phone,code,expires\n王五,13700002001,TZ2001,2027-01-31\n赵六,13700002002,TZ2002,2026-02-"
	      "31\n",
	      f);
	assert_int_equal(fclose(f), 0);
	members_csv_report rep;
	assert_int_equal(store_import_csv(s, csv, &rep), MEMBERS_CSV_REFUSED);
	assert_int_equal(rep.rows_refused, 1);
	assert_non_null(strstr(rep.errors[0], "2026-02-31"));
	members_csv_report_free(&rep);
	unlink(csv);
	assert_int_equal(store_member_count(s), 0);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--import") == 0)
		return import_main(argv[2], argv[3]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_retry_after_clamped, setup, teardown_all),
	    cmocka_unit_test_setup_teardown(test_checkin_wakes_waiting_worker, setup, teardown_all),
	    cmocka_unit_test_setup_teardown(test_event_read_failure_fails_checkin, setup, teardown_all),
	    cmocka_unit_test_setup_teardown(test_import_elsewhere_recognised, setup, teardown_all),
	    cmocka_unit_test_setup_teardown(test_sync_lock, setup, teardown_all),
	    cmocka_unit_test(test_impossible_days),
	    cmocka_unit_test(test_skipped_hour),
	    cmocka_unit_test_setup_teardown(test_members_csv_impossible_day, setup, teardown_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
