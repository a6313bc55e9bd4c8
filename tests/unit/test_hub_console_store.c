/*
 * The store's operations for the organizer console, each on a real SQLite
 * file (and, run as unit.test_hub_console_store.pg, a real PostgreSQL
 * database: tests/unit/hubdb.h), with what they keep read back directly:
 * accounts and set-up tokens, sessions (idle, disabled, ended by a new
 * password), failed sign-ins, the audit log, member edits and merges
 * (check-ins, attendance duplicates and visits), events, links, the kiosks'
 * queue state and rejections, the upgrade of a version 2 file, and the
 * query plans of a member's and an event's page.
 */
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

/* cmocka.h after what it needs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"
#define TESTDB_NO_FIXTURE
#include "tests/unit/testdb.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEV_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID(n)  "00000000000000000000000000000" n /* 29 zeros and 3 digits */
#define DAY    86400000LL
#define T0     1795046400000LL /* 2026-11-19 00:00 UTC */
#define HOUR   3600000LL
#define NOBODY "ffffffffffffffffffffffffffffffff"

/* ---- fixture ---- */

typedef struct fx {
	char path[HUBDB_WHERE_MAX]; /* the store's file or database URL */
	hub_store *st;
	hub_venue v;
} fx;

static void unlink_db(const char *path)
{
	char p[HUBDB_WHERE_MAX + 8];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static void temp_path(char *path, size_t len)
{
	snprintf(path, len, "/tmp/tingzi-consolestore.XXXXXX");
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
}

static hub_store *open_store(const char *path)
{
	char why[256];
	hub_store *st = hub_store_open(path, why, sizeof why);
	if (!st)
		fail_msg("%s", why);
	return st;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	temp_path(f->path, sizeof f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	f->st = open_store(f->path);
	assert_int_equal(f->st->ops->venue_add(f->st, "听雨茶馆", "UTC", 1000, &f->v), HUB_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	if (f->st)
		f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
	return 0;
}

/* One integer from the store, through a connection of the test's own (?1 = arg). */
static int64_t db_int(fx *f, const char *q, const char *arg)
{
	return hubdb_int(f->path, q, arg);
}

static const char *db_text(fx *f, const char *q, const char *arg, char *buf, size_t len)
{
	return hubdb_text(f->path, q, arg, buf, len);
}

/* A member through the CSV sink; its uid into uid. */
static void add_member(fx *f, const char *name, const char *phone, const char *code, char uid[HUB_ID_MAX])
{
	hub_store *st = f->st;
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	int how;
	char why[160], buf[HUB_ID_MAX];
	assert_int_equal(st->ops->members_begin(st, f->v.id), HUB_OK);
	assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, 2000), 0);
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
	snprintf(uid, HUB_ID_MAX, "%s",
		 db_text(f, "SELECT uid FROM members WHERE name = ?1", name, buf, sizeof buf));
	assert_int_equal(strlen(uid), 32);
}

/* A check-in to push: id, member, event (NULL: a drop-in), the kiosk's time. */
typedef struct ck {
	const char *id, *member, *event;
	int64_t wall;
} ck;

/* Push check-ins and records from dev (no clock offset); res gets n + nrec results. */
static hub_push_stats push(fx *f, const char *dev, const ck *cks, size_t n, hub_record *recs, size_t nrec,
			   hub_result *res)
{
	hub_checkin c[16];
	memset(c, 0, sizeof c);
	int64_t now = T0;
	for (size_t i = 0; i < n; i++) {
		c[i] = (hub_checkin){.id = cks[i].id,
				     .member = cks[i].member,
				     .event = cks[i].event,
				     .method = "scan",
				     .boot = "b",
				     .kiosk_day = "",
				     .wall_ms = cks[i].wall,
				     .seq = (int64_t)i + 1,
				     .visit = 1};
		res[i].id = cks[i].id;
		now = cks[i].wall > now ? cks[i].wall : now;
	}
	for (size_t i = 0; i < nrec; i++)
		res[n + i].id = recs[i].id;
	hub_batch b = {.checkins = c, .ncheckins = n, .records = recs, .nrecords = nrec, .results = res};
	hub_push_stats stats;
	assert_int_equal(f->st->ops->push(f->st, &f->v, dev, 0, now, &b, &stats), HUB_OK);
	return stats;
}

/* The items of a pull of set since a cursor (the caller json_decrefs). */
static json_t *pulled(fx *f, hub_set set, int64_t since)
{
	hub_page pg;
	assert_int_equal(f->st->ops->pull(f->st, f->v.id, set, since, 100, "", &pg), HUB_OK);
	return pg.items;
}

static int64_t seq_of(fx *f, hub_set set)
{
	int64_t n = -1;
	assert_int_equal(f->st->ops->set_seq(f->st, f->v.id, set, &n), HUB_OK);
	return n;
}

static int count_member(const hub_member *m, void *ctx)
{
	(void)m;
	(*(int *)ctx)++;
	return 0;
}

/* ---- roles and accounts ---- */

static void test_roles(void **state)
{
	(void)state;
	static const hub_role all[] = {HUB_ROLE_STAFF, HUB_ROLE_ORGANIZER, HUB_ROLE_OWNER};
	for (size_t i = 0; i < 3; i++) {
		hub_role r = HUB_ROLE_NONE;
		assert_int_equal(hub_role_parse(hub_role_name(all[i]), &r), 0);
		assert_int_equal(r, all[i]);
	}
	assert_string_equal(hub_role_name(HUB_ROLE_OWNER), "owner");
	assert_string_equal(hub_role_name(HUB_ROLE_ORGANIZER), "organizer");
	assert_string_equal(hub_role_name(HUB_ROLE_STAFF), "staff");
	hub_role r = HUB_ROLE_STAFF;
	assert_int_equal(hub_role_parse("Owner", &r), -1);
	assert_int_equal(hub_role_parse("root", &r), -1);
	assert_int_equal(hub_role_parse("", &r), -1);
	assert_int_equal(r, HUB_ROLE_STAFF);
}

typedef struct names {
	char s[8][HUB_EMAIL_MAX + 1];
	int n;
} names;

static int take_user(const hub_user *u, void *ctx)
{
	names *x = ctx;
	snprintf(x->s[x->n++], sizeof x->s[0], "%s", u->email);
	return x->n == 8;
}

static int take_venue(const char *venue, void *ctx)
{
	names *x = ctx;
	snprintf(x->s[x->n++], sizeof x->s[0], "%s", venue);
	return x->n == 8;
}

static void test_users(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_venue other;
	assert_int_equal(st->ops->venue_add(st, "别家", "UTC", 1000, &other), HUB_OK);
	hub_user ann, got;
	assert_int_equal(
	    st->ops->user_add(st, "Ann@Example.ORG", HUB_ROLE_ORGANIZER, f->v.id, NULL, 0, 5000, &ann),
	    HUB_OK);
	assert_string_equal(ann.email, "ann@example.org");
	assert_int_equal(ann.role, HUB_ROLE_ORGANIZER);
	assert_int_equal(ann.created_ms, 5000);
	assert_string_equal(ann.pwhash, "");
	char buf[300];
	assert_string_equal(
	    db_text(f, "SELECT email || ' ' || role FROM users WHERE id = ?1", ann.id, buf, sizeof buf),
	    "ann@example.org organizer");
	/* by email in any case, or by id */
	assert_int_equal(st->ops->user_get(st, "ANN@example.org", &got), HUB_OK);
	assert_string_equal(got.id, ann.id);
	assert_int_equal(st->ops->user_get(st, ann.id, &got), HUB_OK);
	assert_string_equal(got.email, "ann@example.org");
	assert_int_equal(st->ops->user_get(st, "bob@example.org", &got), HUB_NOT_FOUND);
	/* the address is taken, in whatever case */
	assert_int_equal(st->ops->user_add(st, "ann@EXAMPLE.org", HUB_ROLE_STAFF, NULL, NULL, 0, 6000, &got),
			 HUB_EXISTS);
	assert_non_null(strstr(hub_store_errmsg(st), "ann@example.org"));
	assert_int_equal(db_int(f, "SELECT count(*) FROM users", NULL), 1);
	/* refused: not an address, no such role, no such venue */
	assert_int_equal(st->ops->user_add(st, "ann", HUB_ROLE_STAFF, NULL, NULL, 0, 6000, &got),
			 HUB_INVALID);
	assert_int_equal(st->ops->user_add(st, "x@y.z", HUB_ROLE_NONE, NULL, NULL, 0, 6000, &got),
			 HUB_INVALID);
	assert_int_equal(st->ops->user_add(st, "x@y.z", HUB_ROLE_STAFF, NOBODY, NULL, 0, 6000, &got),
			 HUB_NOT_FOUND);
	assert_int_equal(db_int(f, "SELECT count(*) FROM users", NULL), 1);
	/* what each may see */
	hub_user own;
	assert_int_equal(st->ops->user_add(st, "own@example.org", HUB_ROLE_OWNER, NULL, NULL, 0, 7000, &own),
			 HUB_OK);
	assert_int_equal(st->ops->user_may(st, &ann, f->v.id), 1);
	assert_int_equal(st->ops->user_may(st, &ann, other.id), 0);
	assert_int_equal(st->ops->user_may(st, &own, other.id), 1);
	assert_int_equal(st->ops->user_may(st, &own, NOBODY), 0);
	assert_int_equal(st->ops->user_venue_add(st, ann.id, other.id), HUB_OK);
	assert_int_equal(st->ops->user_venue_add(st, ann.id, other.id), HUB_OK); /* twice is once */
	assert_int_equal(st->ops->user_venue_add(st, ann.id, NOBODY), HUB_NOT_FOUND);
	assert_int_equal(st->ops->user_venue_add(st, NOBODY, other.id), HUB_NOT_FOUND);
	assert_int_equal(st->ops->user_may(st, &ann, other.id), 1);
	assert_int_equal(db_int(f, "SELECT count(*) FROM user_venues WHERE user_id = ?1", ann.id), 2);
	names x = {0};
	assert_int_equal(st->ops->user_venues_each(st, ann.id, take_venue, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->users_each(st, take_user, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.s[0], "ann@example.org");
	assert_string_equal(x.s[1], "own@example.org");
	/* a disabled account may see nothing */
	assert_int_equal(st->ops->user_disable(st, ann.id, 1, 8000), HUB_OK);
	assert_int_equal(st->ops->user_get(st, ann.id, &got), HUB_OK);
	assert_int_equal(got.disabled_ms, 8000);
	assert_int_equal(st->ops->user_may(st, &got, f->v.id), 0);
	assert_int_equal(st->ops->user_disable(st, NOBODY, 1, 8000), HUB_NOT_FOUND);
}

static void test_setup_token(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	unsigned char h1[32], h2[32], pw_none[32];
	hub_sha256("token-one", 9, h1);
	hub_sha256("token-two", 9, h2);
	hub_sha256("nothing", 7, pw_none);
	hub_user u, got;
	assert_int_equal(st->ops->user_add(st, "cy@example.org", HUB_ROLE_STAFF, f->v.id, h1, 5000, 1000, &u),
			 HUB_OK);
	assert_memory_equal(u.setup_hash, h1, 32);
	assert_int_equal(u.setup_expires_ms, 5000);
	/* good until it expires */
	assert_int_equal(st->ops->user_by_setup(st, h1, 4999, &got), HUB_OK);
	assert_string_equal(got.id, u.id);
	assert_int_equal(st->ops->user_by_setup(st, h1, 5000, &got), HUB_NOT_FOUND);
	assert_int_equal(st->ops->user_by_setup(st, pw_none, 1000, &got), HUB_NOT_FOUND);
	/* a reset: the old token is gone, the new one works */
	assert_int_equal(st->ops->user_set_setup(st, u.id, h2, 9000, 6000), HUB_OK);
	assert_int_equal(st->ops->user_by_setup(st, h1, 4000, &got), HUB_NOT_FOUND);
	assert_int_equal(st->ops->user_by_setup(st, h2, 8000, &got), HUB_OK);
	/* the password uses the token up */
	const char *pw = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
	assert_int_equal(st->ops->user_set_password(st, u.id, pw, 7000), HUB_OK);
	assert_int_equal(st->ops->user_by_setup(st, h2, 8000, &got), HUB_NOT_FOUND);
	assert_int_equal(
	    db_int(f, "SELECT setup_hash IS NULL AND setup_expires_ms = 0 FROM users WHERE id = ?1", u.id),
	    1);
	assert_int_equal(st->ops->user_get(st, u.id, &got), HUB_OK);
	assert_string_equal(got.pwhash, pw);
	assert_int_equal(got.password_ms, 7000);
	/* what is not an Argon2id string's size is refused */
	char long_hash[200];
	memset(long_hash, 'x', sizeof long_hash - 1);
	long_hash[sizeof long_hash - 1] = '\0';
	assert_int_equal(st->ops->user_set_password(st, u.id, long_hash, 7000), HUB_INVALID);
	assert_int_equal(st->ops->user_set_password(st, u.id, "", 7000), HUB_INVALID);
	assert_int_equal(st->ops->user_set_password(st, NOBODY, pw, 7000), HUB_NOT_FOUND);
}

/* ---- sessions ---- */

static hub_session session(const char *token, const char *user, int64_t at)
{
	hub_session s = {.created_ms = at, .seen_ms = at};
	hub_sha256(token, strlen(token), s.hash);
	snprintf(s.user_id, sizeof s.user_id, "%s", user);
	return s;
}

static void test_sessions(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_user a, b, u;
	assert_int_equal(
	    st->ops->user_add(st, "a@example.org", HUB_ROLE_ORGANIZER, f->v.id, NULL, 0, 100, &a), HUB_OK);
	assert_int_equal(st->ops->user_add(st, "b@example.org", HUB_ROLE_STAFF, f->v.id, NULL, 0, 100, &b),
			 HUB_OK);
	hub_session a1 = session("a-one", a.id, 1000), a2 = session("a-two", a.id, 1000),
		    b1 = session("b-one", b.id, 1000);
	assert_int_equal(st->ops->session_add(st, &a1), HUB_OK);
	assert_int_equal(st->ops->session_add(st, &a2), HUB_OK);
	assert_int_equal(st->ops->session_add(st, &b1), HUB_OK);
	hub_session bad = session("x", NOBODY, 1000);
	assert_int_equal(st->ops->session_add(st, &bad), HUB_NOT_FOUND);
	assert_int_equal(db_int(f, "SELECT count(*) FROM sessions", NULL), 3);
	/* found while seen after the idle limit; each use moves seen_ms */
	hub_session got;
	assert_int_equal(st->ops->session_get(st, a1.hash, 500, 2000, &got, &u), HUB_OK);
	assert_string_equal(got.user_id, a.id);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.seen_ms, 2000);
	assert_string_equal(u.email, "a@example.org");
	assert_int_equal(
	    db_int(f, "SELECT seen_ms FROM sessions WHERE user_id = ?1 ORDER BY seen_ms DESC", a.id), 2000);
	assert_int_equal(st->ops->session_get(st, a1.hash, 2000, 3000, &got, &u),
			 HUB_OK); /* seen at 2000: still */
	/* idle: seen at 1000, nothing since 1001 */
	assert_int_equal(st->ops->session_get(st, a2.hash, 1001, 3000, &got, &u), HUB_NOT_FOUND);
	assert_int_equal(db_int(f, "SELECT max(seen_ms) FROM sessions WHERE user_id = ?1", b.id), 1000);
	/* a new password ends every session of that person, and only theirs */
	assert_int_equal(st->ops->user_set_password(st, a.id, "$argon2id$x", 4000), HUB_OK);
	assert_int_equal(db_int(f, "SELECT count(*) FROM sessions WHERE user_id = ?1", a.id), 0);
	assert_int_equal(st->ops->session_get(st, a1.hash, 0, 4000, &got, &u), HUB_NOT_FOUND);
	assert_int_equal(st->ops->session_get(st, b1.hash, 0, 4000, &got, &u), HUB_OK);
	/* disabling ends them too; a session of a disabled person is not found even when its row is there */
	assert_int_equal(st->ops->user_disable(st, b.id, 1, 5000), HUB_OK);
	assert_int_equal(db_int(f, "SELECT count(*) FROM sessions WHERE user_id = ?1", b.id), 0);
	hub_session b2 = session("b-two", b.id, 5000);
	assert_int_equal(st->ops->session_add(st, &b2), HUB_OK);
	assert_int_equal(st->ops->session_get(st, b2.hash, 0, 5100, &got, &u), HUB_NOT_FOUND);
	assert_int_equal(st->ops->user_disable(st, b.id, 1, 5200),
			 HUB_OK); /* disabled since the first time */
	assert_int_equal(db_int(f, "SELECT disabled_ms FROM users WHERE id = ?1", b.id), 5000);
	assert_int_equal(st->ops->user_disable(st, b.id, 0, 5300), HUB_OK);
	assert_int_equal(db_int(f, "SELECT disabled_ms FROM users WHERE id = ?1", b.id), 0);
	assert_int_equal(st->ops->session_add(st, &b2), HUB_OK);
	assert_int_equal(st->ops->session_get(st, b2.hash, 0, 5400, &got, NULL), HUB_OK);
	/* a reset ends them */
	unsigned char h[32];
	hub_sha256("reset", 5, h);
	assert_int_equal(st->ops->user_set_setup(st, b.id, h, 99000, 5500), HUB_OK);
	assert_int_equal(st->ops->session_get(st, b2.hash, 0, 5600, &got, &u), HUB_NOT_FOUND);
	/* signing out ends one; sessions_end_user all of a person's */
	hub_session a3 = session("a-three", a.id, 6000), a4 = session("a-four", a.id, 6000);
	assert_int_equal(st->ops->session_add(st, &a3), HUB_OK);
	assert_int_equal(st->ops->session_add(st, &a4), HUB_OK);
	assert_int_equal(st->ops->session_end(st, a3.hash), HUB_OK);
	assert_int_equal(st->ops->session_get(st, a3.hash, 0, 6100, &got, &u), HUB_NOT_FOUND);
	assert_int_equal(st->ops->session_get(st, a4.hash, 0, 6100, &got, &u), HUB_OK);
	assert_int_equal(st->ops->sessions_end_user(st, a.id), HUB_OK);
	assert_int_equal(db_int(f, "SELECT count(*) FROM sessions", NULL), 0);
	/* a sign-in clears away sessions nobody used for 30 days, and only those */
	hub_session old = session("old", b.id, 1000), recent = session("recent", b.id, 20LL * 86400000);
	assert_int_equal(st->ops->session_add(st, &old), HUB_OK);
	assert_int_equal(st->ops->session_add(st, &recent), HUB_OK);
	hub_session later = session("later", a.id, 31LL * 86400000 + 2000);
	assert_int_equal(st->ops->session_add(st, &later), HUB_OK);
	assert_int_equal(db_int(f, "SELECT count(*) FROM sessions", NULL), 2);
	assert_int_equal(st->ops->session_get(st, old.hash, 0, 31LL * 86400000 + 3000, &got, &u), HUB_NOT_FOUND);
}

static void test_login_failures(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	const char *k = "a:ann@example.org|127.0.0.1", *ip = "ip:127.0.0.1";
	int64_t n = -1;
	assert_int_equal(st->ops->login_failures(st, k, 0, &n), HUB_OK);
	assert_int_equal(n, 0);
	for (int64_t t = 1000; t <= 3000; t += 1000)
		assert_int_equal(st->ops->login_failed(st, k, t), HUB_OK);
	assert_int_equal(st->ops->login_failed(st, ip, 2600), HUB_OK);
	/* counted from since_ms on, that time included */
	assert_int_equal(st->ops->login_failures(st, k, 0, &n), HUB_OK);
	assert_int_equal(n, 3);
	assert_int_equal(st->ops->login_failures(st, k, 2000, &n), HUB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(st->ops->login_failures(st, k, 3001, &n), HUB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->login_failures(st, ip, 0, &n), HUB_OK);
	assert_int_equal(n, 1);
	/* a failure a day later drops what is older than a day, whatever its key */
	assert_int_equal(st->ops->login_failed(st, ip, DAY + 2500), HUB_OK);
	assert_int_equal(db_int(f, "SELECT count(*) FROM login_failures", NULL), 3);
	assert_int_equal(db_int(f, "SELECT min(at_ms) FROM login_failures", NULL), 2600);
	assert_int_equal(st->ops->login_failures(st, k, 0, &n), HUB_OK);
	assert_int_equal(n, 1);
	/* a good sign-in clears its key only */
	assert_int_equal(st->ops->login_clear(st, ip), HUB_OK);
	assert_int_equal(st->ops->login_failures(st, ip, 0, &n), HUB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st->ops->login_failures(st, k, 0, &n), HUB_OK);
	assert_int_equal(n, 1);
}

/* ---- audit ---- */

typedef struct audits {
	char line[8][200];
	int n;
} audits;

static int take_audit(const hub_audit_row *r, void *ctx)
{
	audits *x = ctx;
	snprintf(x->line[x->n++], sizeof x->line[0], "%lld %s %s %s %s", (long long)r->at_ms, r->user_email,
		 r->venue_id[0] ? "venue" : "-", r->action, r->detail);
	return x->n == 8;
}

static void test_audit(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_venue other;
	assert_int_equal(st->ops->venue_add(st, "别家", "UTC", 1000, &other), HUB_OK);
	hub_user u;
	assert_int_equal(st->ops->user_add(st, "Org@Example.org", HUB_ROLE_OWNER, NULL, NULL, 0, 100, &u),
			 HUB_OK);
	assert_int_equal(st->ops->audit_add(st, u.id, f->v.id, "member.update", "{\"tier\":\"gold\"}", 3000),
			 HUB_OK);
	assert_int_equal(st->ops->audit_add(st, u.id, NULL, "user.add", "{}", 2000), HUB_OK);
	assert_int_equal(st->ops->audit_add(st, u.id, other.id, "event.cancel", NULL, 4000), HUB_OK);
	assert_int_equal(st->ops->audit_add(st, NULL, f->v.id, "link.remove", "{}", 5000), HUB_OK);
	/* newest first: in the order written, whatever the clocks said */
	audits x = {0};
	assert_int_equal(st->ops->audit_each(st, NULL, 10, take_audit, &x), HUB_OK);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.line[0], "5000  venue link.remove {}");
	assert_string_equal(x.line[1], "4000 org@example.org venue event.cancel {}");
	assert_string_equal(x.line[2], "2000 org@example.org - user.add {}");
	assert_string_equal(x.line[3], "3000 org@example.org venue member.update {\"tier\":\"gold\"}");
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->audit_each(st, f->v.id, 10, take_audit, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.line[0], "5000  venue link.remove {}");
	assert_string_equal(x.line[1], "3000 org@example.org venue member.update {\"tier\":\"gold\"}");
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->audit_each(st, NULL, 1, take_audit, &x), HUB_OK);
	assert_int_equal(x.n, 1);
	assert_int_equal(db_int(f, "SELECT count(*) FROM console_audit WHERE venue_id IS NULL", NULL), 1);
}

/* ---- members ---- */

static void test_member_update(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char u1[HUB_ID_MAX], u2[HUB_ID_MAX], buf[200];
	add_member(f, "会员1", "13900000001", "M1", u1);
	add_member(f, "会员2", "13900000002", "M2", u2);
	int64_t before = seq_of(f, HUB_SET_MEMBERS);
	assert_int_equal(before, 2);
	assert_int_equal(st->ops->member_update(st, u1, "gold", "2027-01-31", "X9", 9000), HUB_OK);
	assert_string_equal(
	    db_text(f,
		    "SELECT tier || '|' || expires || '|' || code || '|' || updated_ms FROM members"
		    " WHERE uid = ?1",
		    u1, buf, sizeof buf),
	    "gold|2027-01-31|X9|9000");
	/* the change reaches the kiosks: a new sequence number, and the pull carries it */
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), before + 1);
	json_t *items = pulled(f, HUB_SET_MEMBERS, before);
	assert_int_equal(json_array_size(items), 1);
	json_t *it = json_array_get(items, 0);
	assert_string_equal(json_string_value(json_object_get(it, "uid")), u1);
	assert_string_equal(json_string_value(json_object_get(it, "code")), "X9");
	assert_string_equal(json_string_value(json_object_get(it, "tier")), "gold");
	assert_string_equal(json_string_value(json_object_get(it, "expires")), "2027-01-31");
	json_decref(items);
	/* another member's code: refused, nothing changed */
	assert_int_equal(st->ops->member_update(st, u2, "", "", "X9", 9100), HUB_EXISTS);
	assert_non_null(strstr(hub_store_errmsg(st), "会员1"));
	assert_string_equal(db_text(f, "SELECT code FROM members WHERE uid = ?1", u2, buf, sizeof buf), "M2");
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), before + 1);
	/* values a kiosk could not take */
	assert_int_equal(st->ops->member_update(st, u2, "", "2027-02-30", "M2", 9100), HUB_INVALID);
	assert_int_equal(st->ops->member_update(st, u2, "", "31/01/2027", "M2", 9100), HUB_INVALID);
	assert_int_equal(st->ops->member_update(st, u2, "a tier name that is far too long", "", "M2", 9100),
			 HUB_INVALID);
	assert_int_equal(st->ops->member_update(st, u2, "", "", "M 2", 9100), HUB_INVALID);
	assert_int_equal(st->ops->member_update(st, NOBODY, "", "", "", 9100), HUB_NOT_FOUND);
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), before + 1);
	/* the same values again change nothing; "" clears a code */
	assert_int_equal(st->ops->member_update(st, u1, "gold", "2027-01-31", "X9", 9200), HUB_OK);
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), before + 1);
	assert_int_equal(st->ops->member_update(st, u2, "silver", "", "", 9300), HUB_OK);
	assert_int_equal(db_int(f, "SELECT code IS NULL FROM members WHERE uid = ?1", u2), 1);
	/* now X9's old holder may give it away and M2 is free */
	assert_int_equal(st->ops->member_update(st, u1, "gold", "2027-01-31", "M2", 9400), HUB_OK);
	hub_member m, byrid;
	assert_int_equal(st->ops->member_get(st, u1, &m), HUB_OK);
	assert_string_equal(m.code, "M2");
	assert_string_equal(m.tier, "gold");
	assert_string_equal(m.expires, "2027-01-31");
	assert_string_equal(m.name, "会员1");
	assert_string_equal(m.phone, "13900000001");
	assert_int_equal(m.updated_ms, 9400);
	assert_int_equal(st->ops->member_by_rid(st, m.rid, &byrid), HUB_OK);
	assert_string_equal(byrid.uid, u1);
	assert_int_equal(st->ops->member_by_rid(st, 999999, &byrid), HUB_NOT_FOUND);
	assert_int_equal(st->ops->member_get(st, NOBODY, &byrid), HUB_NOT_FOUND);
	int n = 0;
	assert_int_equal(st->ops->members_each(st, f->v.id, count_member, &n), HUB_OK);
	assert_int_equal(n, 2);
}

typedef struct crow {
	char id[HUB_ID_MAX], member[HUB_ID_MAX], dup[HUB_ID_MAX];
	int reversed;
	int64_t corrected;
} crow;

typedef struct crows {
	crow r[16];
	int n;
} crows;

static int take_checkin(const hub_checkin_row *r, void *ctx)
{
	crows *x = ctx;
	crow *o = &x->r[x->n++];
	snprintf(o->id, sizeof o->id, "%s", r->id);
	snprintf(o->member, sizeof o->member, "%s", r->member_uid);
	snprintf(o->dup, sizeof o->dup, "%s", r->duplicate_of ? r->duplicate_of : "");
	o->reversed = r->reversed;
	o->corrected = r->corrected_ms;
	return x->n == 16;
}

static const crow *find(const crows *x, const char *id)
{
	for (int i = 0; i < x->n; i++)
		if (strcmp(x->r[i].id, id) == 0)
			return &x->r[i];
	fail_msg("no check-in %s", id);
	return NULL;
}

static void test_member_merge(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char keep[HUB_ID_MAX], gone[HUB_ID_MAX], buf[200], ev[HUB_ID_MAX];
	add_member(f, "Keep", "", "K1", keep);
	add_member(f, "Gone", "13900000002", "G1", gone);
	assert_int_equal(st->ops->event_add(st, f->v.id, "茶会", T0 + 10 * HOUR, T0 + 12 * HOUR, 3000, ev),
			 HUB_OK);
	/* a walk-in at the other door with Gone's phone: merged into Gone by the push */
	hub_record walkin = {
	    .kind = HUB_REC_MEMBER, .id = ID("500"), .name = "Walker", .phone = "13900000002"};
	hub_result res[8];
	memset(res, 0, sizeof res);
	push(f, DEV_B, NULL, 0, &walkin, 1, res);
	assert_string_equal(res[0].merged_into, gone);
	/* keep at the event and on day 1; gone at the event and on day 2; the walk-in at the event (a
	 * duplicate) */
	ck a[] = {{ID("001"), keep, ev, T0 + 10 * HOUR}, {ID("002"), keep, NULL, T0 + 1 * HOUR}};
	ck b[] = {{ID("003"), gone, ev, T0 + 10 * HOUR + 60000},
		  {ID("004"), gone, NULL, T0 + DAY + HOUR},
		  {ID("005"), ID("500"), ev, T0 + 10 * HOUR + 120000}};
	memset(res, 0, sizeof res);
	push(f, DEV_A, a, 2, NULL, 0, res);
	memset(res, 0, sizeof res);
	hub_push_stats s = push(f, DEV_B, b, 3, NULL, 0, res);
	assert_int_equal(s.ok, 3);
	assert_int_equal(s.attendance_duplicate, 1);
	hub_member k, g;
	assert_int_equal(st->ops->member_get(st, keep, &k), HUB_OK);
	assert_int_equal(st->ops->member_get(st, gone, &g), HUB_OK);
	assert_int_equal(k.visits, 2);
	assert_int_equal(g.visits, 2);
	assert_int_equal(g.last_visit_ms, T0 + DAY + HOUR);
	hub_event_tally t;
	assert_int_equal(st->ops->event_count(st, ev, &t), HUB_OK);
	assert_int_equal(t.counted, 2);
	/* what the merge refuses */
	hub_venue other;
	char stranger[HUB_ID_MAX];
	assert_int_equal(st->ops->venue_add(st, "别家", "UTC", 1000, &other), HUB_OK);
	hub_venue mine = f->v;
	f->v = other;
	add_member(f, "Stranger", "13900000009", "S1", stranger);
	f->v = mine;
	assert_int_equal(st->ops->member_merge(st, keep, keep, 8000), HUB_INVALID);
	assert_int_equal(st->ops->member_merge(st, keep, stranger, 8000), HUB_INVALID);
	assert_int_equal(st->ops->member_merge(st, keep, ID("500"), 8000), HUB_INVALID); /* merged already */
	assert_int_equal(st->ops->member_merge(st, keep, NOBODY, 8000), HUB_NOT_FOUND);
	int64_t before = seq_of(f, HUB_SET_MEMBERS);

	assert_int_equal(st->ops->member_merge(st, keep, gone, 8000), HUB_OK);
	/* gone's check-ins are keep's: the event once, both days */
	crows x = {0};
	assert_int_equal(st->ops->member_checkins_each(st, keep, take_checkin, &x), HUB_OK);
	assert_int_equal(x.n, 5);
	for (int i = 1; i < x.n; i++) /* newest first */
		assert_true(x.r[i - 1].corrected >= x.r[i].corrected);
	assert_string_equal(x.r[0].id, ID("004"));
	assert_string_equal(find(&x, ID("003"))->dup, ID("001"));
	assert_string_equal(find(&x, ID("005"))->dup, ID("001"));
	assert_string_equal(find(&x, ID("004"))->dup, "");
	assert_string_equal(find(&x, ID("001"))->dup, "");
	assert_int_equal(db_int(f, "SELECT count(*) FROM checkins WHERE member_uid = ?1", gone), 0);
	assert_int_equal(db_int(f, "SELECT count(*) FROM checkins WHERE member_uid = ?1", keep), 5);
	/* a member's row number: SQLite's rowid, a column of its own on PostgreSQL */
	assert_int_equal(db_int(f,
				hubdb_pg() ? "SELECT count(*) FROM checkins c JOIN members m ON m.uid = ?1"
					     " WHERE c.member_rid = m.rid"
					   : "SELECT count(*) FROM checkins c JOIN members m ON m.uid = ?1"
					     " WHERE c.member_rid = m.rowid",
				keep),
			 5);
	assert_int_equal(st->ops->member_get(st, keep, &k), HUB_OK);
	assert_int_equal(k.visits, 3);
	assert_int_equal(k.last_visit_ms, T0 + DAY + HOUR);
	assert_int_equal(st->ops->event_count(st, ev, &t), HUB_OK);
	assert_int_equal(t.counted, 1);
	/* keep took the phone it lacked, kept its code; gone holds neither and names keep */
	assert_string_equal(k.phone, "13900000002");
	assert_string_equal(k.code, "K1");
	assert_int_equal(st->ops->member_get(st, gone, &g), HUB_OK);
	assert_string_equal(g.merged_into, keep);
	assert_string_equal(g.phone, "");
	assert_string_equal(g.code, "");
	assert_int_equal(g.visits, 0);
	assert_string_equal(
	    db_text(f, "SELECT merged_into FROM members WHERE uid = ?1", ID("500"), buf, sizeof buf), keep);
	/* kiosks pull all three changes */
	json_t *items = pulled(f, HUB_SET_MEMBERS, before);
	assert_int_equal(json_array_size(items), 3);
	size_t i;
	json_t *it;
	int saw = 0;
	json_array_foreach(items, i, it)
	{
		const char *uid = json_string_value(json_object_get(it, "uid"));
		const char *into = json_string_value(json_object_get(it, "merged_into"));
		if (strcmp(uid, gone) == 0 || strcmp(uid, ID("500")) == 0)
			saw += into && strcmp(into, keep) == 0;
		else if (strcmp(uid, keep) == 0)
			saw += strcmp(json_string_value(json_object_get(it, "phone")), "13900000002") == 0;
	}
	json_decref(items);
	assert_int_equal(saw, 3);
	int members = 0;
	assert_int_equal(st->ops->members_each(st, f->v.id, count_member, &members), HUB_OK);
	assert_int_equal(members, 1);
	/* later check-ins of gone and of the walk-in count for keep, as duplicates of what keep holds */
	memset(res, 0, sizeof res);
	ck c[] = {{ID("006"), gone, NULL, T0 + DAY + 2 * HOUR}, {ID("007"), ID("500"), NULL, T0 + 3 * HOUR}};
	s = push(f, DEV_B, c, 2, NULL, 0, res);
	assert_int_equal(s.ok, 2);
	assert_int_equal(s.attendance_duplicate, 2);
	assert_string_equal(
	    db_text(f, "SELECT duplicate_of FROM checkins WHERE id = ?1", ID("006"), buf, sizeof buf),
	    ID("004"));
	assert_string_equal(
	    db_text(f, "SELECT duplicate_of FROM checkins WHERE id = ?1", ID("007"), buf, sizeof buf),
	    ID("002"));
	assert_int_equal(st->ops->member_get(st, keep, &k), HUB_OK);
	assert_int_equal(k.visits, 3);
	/* gone cannot be merged again */
	assert_int_equal(st->ops->member_merge(st, keep, gone, 9000), HUB_INVALID);
}

/* ---- events ---- */

typedef struct evs {
	char uid[4][HUB_ID_MAX];
	int64_t attendance[4];
	int cancelled[4], n;
} evs;

static int take_event(const hub_event *e, void *ctx)
{
	evs *x = ctx;
	snprintf(x->uid[x->n], HUB_ID_MAX, "%s", e->uid);
	x->attendance[x->n] = e->attendance;
	x->cancelled[x->n++] = e->cancelled;
	return x->n == 4;
}

static void test_events(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char m1[HUB_ID_MAX], m2[HUB_ID_MAX], m3[HUB_ID_MAX], e1[HUB_ID_MAX], e2[HUB_ID_MAX];
	add_member(f, "一", "13900000001", "M1", m1);
	add_member(f, "二", "13900000002", "M2", m2);
	add_member(f, "三", "13900000003", "M3", m3);
	assert_int_equal(st->ops->event_add(st, f->v.id, "早场", T0 + 9 * HOUR, T0 + 10 * HOUR, 100, e1),
			 HUB_OK);
	assert_int_equal(st->ops->event_add(st, f->v.id, "晚场", T0 + 19 * HOUR, T0 + 21 * HOUR, 200, e2),
			 HUB_OK);
	hub_result res[8];
	memset(res, 0, sizeof res);
	ck a[] = {{ID("011"), m1, e1, T0 + 9 * HOUR},
		  {ID("012"), m2, e1, T0 + 9 * HOUR + 1000},
		  {ID("013"), m3, e1, T0 + 9 * HOUR + 2000}};
	push(f, DEV_A, a, 3, NULL, 0, res);
	/* m1 again at the other door (a duplicate), and m3's check-in undone */
	hub_record rev = {
	    .kind = HUB_REC_REVERSAL, .id = ID("019"), .checkin = ID("013"), .wall_ms = T0 + 9 * HOUR};
	ck b[] = {{ID("014"), m1, e1, T0 + 9 * HOUR + 60000}};
	memset(res, 0, sizeof res);
	hub_push_stats s = push(f, DEV_B, b, 1, &rev, 1, res);
	assert_int_equal(s.attendance_duplicate, 1);
	/* 4 check-ins: m1 twice (one a duplicate), m2, m3 undone; 2 counted */
	hub_event_tally t = {-1, -1, -1, -1};
	assert_int_equal(st->ops->event_count(st, e1, &t), HUB_OK);
	assert_int_equal(t.counted, 2);
	assert_int_equal(t.rows, 4);
	assert_int_equal(t.reversed, 1);
	assert_int_equal(t.duplicates, 1);
	assert_int_equal(st->ops->event_count(st, e2, &t), HUB_OK);
	assert_int_equal(t.counted, 0);
	assert_int_equal(t.rows, 0);
	assert_int_equal(st->ops->event_count(st, NOBODY, &t), HUB_NOT_FOUND);
	/* newest start first, counted */
	evs x = {0};
	assert_int_equal(st->ops->events_each(st, f->v.id, take_event, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.uid[0], e2);
	assert_string_equal(x.uid[1], e1);
	assert_int_equal(x.attendance[1], 2);
	/* every check-in of the event, in the order made */
	crows c = {0};
	assert_int_equal(st->ops->event_checkins_each(st, e1, take_checkin, &c), HUB_OK);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.r[0].id, ID("011"));
	assert_string_equal(c.r[2].id, ID("013"));
	assert_int_equal(c.r[2].reversed, 1);
	assert_string_equal(c.r[3].id, ID("014"));
	assert_string_equal(c.r[3].dup, ID("011"));
	hub_event e;
	assert_int_equal(st->ops->event_get(st, e1, &e), HUB_OK);
	assert_string_equal(e.title, "早场");
	assert_int_equal(e.attendance, 2);
	assert_int_equal(e.created_ms, 100);
	assert_string_equal(e.venue_id, f->v.id);
	/* an edit: a new sequence number, and the pull carries the new title */
	int64_t before = seq_of(f, HUB_SET_EVENTS);
	assert_int_equal(st->ops->event_update(st, e1, "早场（改）", T0 + 8 * HOUR, T0 + 10 * HOUR, 300),
			 HUB_OK);
	assert_int_equal(seq_of(f, HUB_SET_EVENTS), before + 1);
	json_t *items = pulled(f, HUB_SET_EVENTS, before);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "title")),
			    "早场（改）");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "start_ms")),
			 T0 + 8 * HOUR);
	json_decref(items);
	assert_int_equal(st->ops->event_update(st, e1, "x", T0, T0, 300), HUB_INVALID);
	assert_int_equal(st->ops->event_update(st, e1, "", T0, T0 + 1, 300), HUB_INVALID);
	assert_int_equal(st->ops->event_update(st, e1, "x", -5, T0, 300), HUB_INVALID);
	assert_int_equal(st->ops->event_update(st, NOBODY, "x", T0, T0 + 1, 300), HUB_NOT_FOUND);
	assert_int_equal(seq_of(f, HUB_SET_EVENTS), before + 1);
	/* a cancel: deleted for the kiosks at their next pull, its check-ins kept */
	before = seq_of(f, HUB_SET_EVENTS);
	assert_int_equal(st->ops->event_cancel(st, e1, 400), HUB_OK);
	assert_int_equal(seq_of(f, HUB_SET_EVENTS), before + 1);
	items = pulled(f, HUB_SET_EVENTS, before);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "uid")), e1);
	assert_true(json_is_true(json_object_get(json_array_get(items, 0), "deleted")));
	json_decref(items);
	assert_int_equal(db_int(f, "SELECT deleted FROM events WHERE uid = ?1", e1), 1);
	assert_int_equal(st->ops->event_get(st, e1, &e), HUB_OK);
	assert_int_equal(e.cancelled, 1);
	assert_int_equal(e.attendance, 2);
	assert_int_equal(st->ops->event_cancel(st, e1, 500), HUB_OK); /* again: nothing new */
	assert_int_equal(seq_of(f, HUB_SET_EVENTS), before + 1);
	assert_int_equal(st->ops->event_cancel(st, NOBODY, 500), HUB_NOT_FOUND);
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->events_each(st, f->v.id, take_event, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.cancelled[1], 1);
	assert_int_equal(seq_of(f, HUB_SET_LINKS), 0);
}

/* ---- links ---- */

typedef struct lks {
	hub_link l[4];
	int n;
} lks;

static int take_link(const hub_link *l, void *ctx)
{
	lks *x = ctx;
	x->l[x->n++] = *l;
	return x->n == 4;
}

static void test_links(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char l1[HUB_ID_MAX], l2[HUB_ID_MAX], url[HUB_URL_MAX];
	hub_link_new a = {.venue_id = f->v.id,
			  .platform = "wechat",
			  .label = "A群",
			  .url = "https://a.example/",
			  .slug = "grp",
			  .cap = 0,
			  .expires_ms = 0};
	hub_link_new b = a;
	b.url = "https://b.example/", b.label = "B群", b.cap = 50;
	assert_int_equal(st->ops->link_add(st, &a, 1000, l1), HUB_OK);
	assert_int_equal(st->ops->link_add(st, &b, 2000, l2), HUB_OK);
	/* another venue may not put a link under this venue's slugs (its printed codes would lead elsewhere) */
	hub_venue other;
	char l3[HUB_ID_MAX];
	assert_int_equal(st->ops->venue_add(st, "别家", "UTC", 1500, &other), HUB_OK);
	hub_link_new c = a;
	c.venue_id = other.id, c.url = "https://evil.example/";
	assert_int_equal(st->ops->link_add(st, &c, 2500, l3), HUB_EXISTS);
	c.slug = f->v.slug;
	assert_int_equal(st->ops->link_add(st, &c, 2500, l3), HUB_EXISTS);
	assert_int_equal(db_int(f, "SELECT count(*) FROM links WHERE url = ?1", "https://evil.example/"), 0);
	c.slug = other.slug; /* its own: fine */
	assert_int_equal(st->ops->link_add(st, &c, 2500, l3), HUB_OK);
	lks x = {0};
	assert_int_equal(st->ops->links_each(st, f->v.id, take_link, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.l[0].uid, l2); /* newest first */
	assert_int_equal(x.l[0].cap, 50);
	assert_string_equal(x.l[0].label, "B群");
	assert_string_equal(x.l[1].slug, "grp");
	assert_int_equal(x.l[1].expires_ms, 0);
	/* expire: now, and the kiosks hear of it */
	int64_t before = seq_of(f, HUB_SET_LINKS);
	assert_int_equal(st->ops->link_expire(st, l1, 5000), HUB_OK);
	assert_int_equal(db_int(f, "SELECT expires_ms FROM links WHERE uid = ?1", l1), 5000);
	json_t *items = pulled(f, HUB_SET_LINKS, before);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "uid")), l1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "expires_ms")), 5000);
	json_decref(items);
	assert_int_equal(st->ops->live(st, "grp", NULL, 6000, url), HUB_OK);
	assert_string_equal(url, "https://b.example/");
	/* remove */
	before = seq_of(f, HUB_SET_LINKS);
	assert_int_equal(st->ops->link_remove(st, l2, 6000), HUB_OK);
	items = pulled(f, HUB_SET_LINKS, before);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "uid")), l2);
	assert_true(json_is_true(json_object_get(json_array_get(items, 0), "deleted")));
	json_decref(items);
	assert_int_equal(st->ops->live(st, "grp", NULL, 7000, url), HUB_INVALID);
	hub_link l;
	assert_int_equal(st->ops->link_get(st, l2, &l), HUB_OK);
	assert_int_equal(l.removed, 1);
	assert_int_equal(st->ops->link_remove(st, l2, 6500), HUB_OK); /* again: nothing new */
	assert_int_equal(seq_of(f, HUB_SET_LINKS), before + 1);
	assert_int_equal(st->ops->link_get(st, NOBODY, &l), HUB_NOT_FOUND);
	assert_int_equal(st->ops->link_expire(st, NOBODY, 1), HUB_NOT_FOUND);
	assert_int_equal(st->ops->link_remove(st, NOBODY, 1), HUB_NOT_FOUND);
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->links_each(st, f->v.id, take_link, &x), HUB_OK);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.l[0].removed, 1);
	assert_int_equal(x.l[1].removed, 0);
	assert_int_equal(x.l[1].expires_ms, 5000);
}

/* ---- kiosks ---- */

static void test_devices(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	unsigned char code[32];
	hub_sha256("ABCD-EFGH-JKLM", 14, code);
	assert_int_equal(st->ops->code_add(st, f->v.id, code, 10000, 1000), HUB_OK);
	hub_device d = {.id = DEV_A, .name = "door", .public_key = "00"};
	hub_venue v;
	assert_int_equal(st->ops->enroll(st, code, &d, 2000, &v), HUB_OK);
	hub_queue_state q = {-1, -1, -1};
	assert_int_equal(st->ops->device_queue_get(st, DEV_A, &q), HUB_OK);
	assert_int_equal(q.pending + q.dead + q.at_ms, 0);
	hub_queue_state said = {.pending = 5, .dead = 2, .at_ms = 7000};
	assert_int_equal(st->ops->device_queue_set(st, DEV_A, &said), HUB_OK);
	assert_int_equal(st->ops->device_queue_get(st, DEV_A, &q), HUB_OK);
	assert_int_equal(q.pending, 5);
	assert_int_equal(q.dead, 2);
	assert_int_equal(q.at_ms, 7000);
	assert_int_equal(
	    db_int(f, "SELECT queue_pending * 100 + queue_dead FROM devices WHERE id = ?1", DEV_A), 502);
	assert_int_equal(st->ops->device_queue_set(st, DEV_B, &said), HUB_NOT_FOUND);
	assert_int_equal(st->ops->device_queue_get(st, DEV_B, &q), HUB_NOT_FOUND);
	/* rejections: the hub's own (an unknown member, an unknown check-in undone) and the checks' */
	int64_t n = -1;
	assert_int_equal(st->ops->device_rejected(st, DEV_A, &n), HUB_OK);
	assert_int_equal(n, 0);
	char m1[HUB_ID_MAX];
	add_member(f, "一", "13900000001", "M1", m1);
	ck c[] = {{ID("021"), m1, NULL, T0}, {ID("022"), NOBODY, NULL, T0}, {ID("023"), m1, NULL, T0}};
	hub_record rev = {.kind = HUB_REC_REVERSAL, .id = ID("029"), .checkin = ID("777"), .wall_ms = T0};
	for (int round = 0; round < 2; round++) { /* the same again: the same three */
		hub_result res[4];
		memset(res, 0, sizeof res);
		res[2].status = HUB_RES_REJECTED, res[2].reason = "bad_method";
		hub_push_stats s = push(f, DEV_A, c, 3, &rev, 1, res);
		assert_int_equal(s.rejected, 3);
		assert_int_equal(st->ops->device_rejected(st, DEV_A, &n), HUB_OK);
		assert_int_equal(n, 3);
	}
	char buf[64];
	assert_string_equal(
	    db_text(f, "SELECT reason FROM rejections WHERE id = ?1", ID("022"), buf, sizeof buf),
	    "unknown_member");
	assert_string_equal(
	    db_text(f, "SELECT reason FROM rejections WHERE id = ?1", ID("023"), buf, sizeof buf),
	    "bad_method");
	assert_string_equal(
	    db_text(f, "SELECT reason FROM rejections WHERE id = ?1", ID("029"), buf, sizeof buf),
	    "unknown_checkin");
	assert_int_equal(db_int(f, "SELECT count(*) FROM rejections WHERE id = ?1", ID("021")), 0);
	assert_int_equal(st->ops->device_rejected(st, DEV_B, &n), HUB_NOT_FOUND);
}

static void test_set_seq(void **state)
{
	fx *f = *state;
	char u[HUB_ID_MAX];
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), 0);
	add_member(f, "一", "13900000001", "M1", u);
	add_member(f, "二", "13900000002", "M2", u);
	assert_int_equal(seq_of(f, HUB_SET_MEMBERS), 2);
	assert_int_equal(seq_of(f, HUB_SET_EVENTS), 0);
	int64_t n = -1;
	assert_int_equal(f->st->ops->set_seq(f->st, NOBODY, HUB_SET_MEMBERS, &n), HUB_OK);
	assert_int_equal(n, 0);
}

/* ---- the upgrade from version 2 ---- */

/* The schema of version 2, as tingzi-hub wrote it. */
static const char schema_v2[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE venues(id TEXT PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL, slug TEXT NOT NULL "
    "UNIQUE,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE set_seqs(venue_id TEXT NOT NULL, data_set TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(venue_id, data_set));"
    "CREATE TABLE enroll_codes(code_hash BLOB PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id),"
    " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER, device_id TEXT);"
    "CREATE TABLE devices(id TEXT PRIMARY KEY, venue_id TEXT NOT NULL REFERENCES venues(id), name TEXT NOT "
    "NULL,"
    " public_key TEXT NOT NULL, token_hash BLOB NOT NULL, enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER,"
    " last_seen_ms INTEGER, offset_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE members(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, name TEXT NOT NULL, phone TEXT,"
    " code TEXT, tier TEXT NOT NULL DEFAULT '', expires TEXT NOT NULL DEFAULT '',"
    " provisional INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, merged_into TEXT,"
    " seq INTEGER NOT NULL, origin_device TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX members_seq ON members(venue_id, seq);"
    "CREATE UNIQUE INDEX members_phone ON members(venue_id, phone)"
    " WHERE phone IS NOT NULL AND deleted = 0 AND merged_into IS NULL;"
    "CREATE UNIQUE INDEX members_code ON members(venue_id, code)"
    " WHERE code IS NOT NULL AND deleted = 0 AND merged_into IS NULL;"
    "CREATE TABLE events(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, title TEXT NOT NULL,"
    " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " seq INTEGER NOT NULL, origin_device TEXT, created_ms INTEGER NOT NULL);"
    "CREATE INDEX events_seq ON events(venue_id, seq);"
    "CREATE TABLE links(uid TEXT PRIMARY KEY, venue_id TEXT NOT NULL, platform TEXT NOT NULL, label TEXT NOT "
    "NULL,"
    " url TEXT NOT NULL, expires_ms INTEGER, cap INTEGER, event_uid TEXT, is_default INTEGER NOT NULL "
    "DEFAULT 0,"
    " slug TEXT NOT NULL, redirects INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,"
    " seq INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX links_seq ON links(venue_id, seq);"
    "CREATE INDEX links_slug ON links(slug);"
    "CREATE TABLE checkins(id TEXT NOT NULL UNIQUE, venue_id TEXT NOT NULL, device_id TEXT NOT NULL,"
    " member_uid TEXT NOT NULL, member_sent TEXT NOT NULL, event_uid TEXT, method TEXT NOT NULL,"
    " wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL, boot TEXT NOT NULL, device_seq INTEGER NOT NULL,"
    " visit INTEGER NOT NULL, flags INTEGER NOT NULL, kiosk_day TEXT NOT NULL, offset_ms INTEGER NOT NULL,"
    " corrected_ms INTEGER NOT NULL, day TEXT NOT NULL, akey TEXT NOT NULL, duplicate_of TEXT,"
    " reversed INTEGER NOT NULL DEFAULT 0, received_ms INTEGER NOT NULL);"
    "CREATE INDEX checkins_venue ON checkins(venue_id);"
    /* small integer keys: a push's 1000 inserts land on few pages */
    "CREATE TABLE attendances(akey INTEGER NOT NULL, member_rid INTEGER NOT NULL, checkin_rid INTEGER NOT "
    "NULL,"
    " PRIMARY KEY(akey, member_rid)) WITHOUT ROWID;"
    "CREATE TABLE records(id TEXT PRIMARY KEY, kind TEXT NOT NULL, venue_id TEXT NOT NULL,"
    " device_id TEXT NOT NULL, body TEXT NOT NULL, wall_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
    " session TEXT, action TEXT, detail TEXT, checkin TEXT, reason TEXT, seq INTEGER);"
    "CREATE INDEX records_venue ON records(venue_id);";

/* Every table and index of a file, with its SQL, in name order. */
static const char *schema_of(const char *path, char *buf, size_t len)
{
	return testdb_text(path,
			   "SELECT group_concat(line, char(10)) FROM (SELECT type || ' ' || name || ': ' ||"
			   " coalesce(sql, '') AS line FROM sqlite_master ORDER BY name)",
			   NULL, buf, len);
}

static void test_upgrade_from_2(void **state)
{
	fx *f = *state;
	/* a SQLite file made by an older hub, and SQLite's own schema: no PostgreSQL store was ever of
	 * version 2 */
	if (hubdb_pg())
		skip();
	f->st->ops->close(f->st);
	f->st = NULL;
	unlink_db(f->path);
	/* a version 2 file with a venue, a kiosk, two members, an event and three check-ins (one a duplicate)
	 */
	char sqltext[8192];
	snprintf(sqltext, sizeof sqltext,
		 "%s; PRAGMA user_version = 2;"
		 "INSERT INTO venues VALUES('" ID(
		     "100") "', '老店', 'UTC', 'slug100000', 1);"
			    "INSERT INTO devices(id, venue_id, name, public_key, token_hash, enrolled_ms, "
			    "offset_ms)"
			    " VALUES('" DEV_A "', '" ID(
				"100") "', 'door', '00', x'00', 2, 0);"
				       "INSERT INTO set_seqs VALUES('" ID("100") "', 'members', 2), ('" ID(
					   "100") "', 'events', 1);"
						  "INSERT INTO members(uid, venue_id, name, phone, code, "
						  "seq, created_ms, updated_ms) VALUES"
						  " ('" ID("101") "', '" ID(
						      "100") "', '甲', '13900000001', 'A1', 1, 3, 3),"
							     " ('" ID("102") "', '" ID(
								 "100") "', '乙', NULL, 'B1', 2, 3, 3);"
									"INSERT INTO events(uid, venue_id, "
									"title, start_ms, end_ms, seq, "
									"created_ms)"
									" VALUES('" ID("110") "', '" ID(
									    "100") "', '茶会', 1000, 2000, "
										   "1, 4);"
										   "INSERT INTO checkins(id, "
										   "venue_id, device_id, "
										   "member_uid, member_sent, "
										   "event_uid, method, "
										   "wall_ms,"
										   " mono_ms, boot, "
										   "device_seq, visit, "
										   "flags, kiosk_day, "
										   "offset_ms, corrected_ms, "
										   "day, akey, duplicate_of,"
										   " received_ms) VALUES"
										   " ('" ID("121") "', '" ID(
										       "100") "', '" DEV_A "'"
											      ","
											      " "
											      "'" ID("101") "', '" ID(
												  "101") "', "
													 "'" ID("110") "',"
														       "  'scan', 1500, 1, 'b', 1, 1, 0, '', 0, 1500, '1970-01-01', 'e:" ID("110") "', NULL, 1600),"
																								   " ('" ID(
																								       "122") "', '" ID("100") "', '" DEV_A
																											       "', '" ID("102") "', '" ID("102") "', '" ID("110") "',"
																																		  "  'scan', 1510, 2, 'b', 2, 1, 0, '', 0, 1510, '1970-01-01', 'e:" ID("110") "', NULL, 1600),"
																																											      " ('" ID(
																																												  "123") "', '" ID("100") "', '" DEV_A "', '" ID("101") "', '" ID("101") "', '" ID("110") "',"
																																																							  "  'scan', 1520, 3, 'b', 3, 1, 0, '', 0, 1520, '1970-01-01', 'e:" ID(
																																																							      "110") "', '" ID("121") "', 1600);"
																																																										      "INSERT INTO attendances VALUES(1, 1, 1), (1, 2, 2);"
																																																										      "INSERT INTO records(id, kind, venue_id, device_id, body, wall_ms, received_ms, session, action, detail,"
																																																										      " seq) VALUES('" ID("130") "', 'audit', '" ID("100") "', '" DEV_A
																																																																	   "', '{}', 5, 6, '" ID(
																																																																	       "131") "',"
																																																																		      " 'staff.enter', '{}', 1);",
		 schema_v2);
	testdb_exec(f->path, sqltext);
	assert_int_equal(testdb_int(f->path, "PRAGMA user_version", NULL), 2);

	f->st = open_store(f->path);
	hub_store *st = f->st;
	assert_int_equal(db_int(f, "PRAGMA user_version", NULL), 6);
	/* the data is all there, and the console's operations read it */
	hub_member m;
	assert_int_equal(st->ops->member_get(st, ID("101"), &m), HUB_OK);
	assert_string_equal(m.name, "甲");
	assert_int_equal(m.visits, 1);
	assert_int_equal(m.last_visit_ms, 1500);
	assert_int_equal(st->ops->member_get(st, ID("102"), &m), HUB_OK);
	assert_int_equal(m.visits, 1);
	int64_t n = -1;
	hub_event_tally t;
	assert_int_equal(st->ops->event_count(st, ID("110"), &t), HUB_OK);
	assert_int_equal(t.counted, 2);
	assert_int_equal(db_int(f, "SELECT count(*) FROM checkins", NULL), 3);
	assert_int_equal(st->ops->set_seq(st, ID("100"), HUB_SET_MEMBERS, &n), HUB_OK);
	assert_int_equal(n, 2);
	hub_queue_state q = {-1, -1, -1};
	assert_int_equal(st->ops->device_queue_get(st, DEV_A, &q), HUB_OK);
	assert_int_equal(q.pending + q.dead + q.at_ms, 0);
	assert_int_equal(st->ops->device_rejected(st, DEV_A, &n), HUB_OK);
	assert_int_equal(n, 0);
	hub_device d;
	assert_int_equal(st->ops->device_get(st, DEV_A, &d), HUB_OK);
	assert_string_equal(d.name, "door");
	/* and changes it as a new file's */
	hub_user u;
	assert_int_equal(
	    st->ops->user_add(st, "new@example.org", HUB_ROLE_ORGANIZER, ID("100"), NULL, 0, 7, &u), HUB_OK);
	assert_int_equal(st->ops->member_merge(st, ID("101"), ID("102"), 8), HUB_OK);
	assert_int_equal(st->ops->event_count(st, ID("110"), &t), HUB_OK);
	assert_int_equal(t.counted, 1);
	assert_int_equal(st->ops->member_get(st, ID("101"), &m), HUB_OK);
	assert_int_equal(m.visits, 1);
	assert_string_equal(m.code, "A1");
	/* the upgraded file's tables and indexes are a new file's, to the letter */
	char other[64];
	temp_path(other, sizeof other);
	hub_store *fresh = open_store(other);
	fresh->ops->close(fresh);
	char *a = malloc(16384), *b = malloc(16384);
	schema_of(f->path, a, 16384);
	schema_of(other, b, 16384);
	assert_non_null(strstr(a, "index checkins_event: CREATE INDEX checkins_event"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	unlink_db(other);
	/* opened again, nothing more to do */
	st->ops->close(st);
	f->st = open_store(f->path);
	assert_int_equal(db_int(f, "SELECT count(*) FROM users", NULL), 1);
}

/* ---- what a member's and an event's page cost ---- */

/* The query plan of q on the store's file, one line per step. */
static const char *plan(fx *f, const char *q, char *buf, size_t len)
{
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	char eqp[1200];
	snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", q);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, eqp, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(h));
	size_t k = 0;
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && k < len)
		k += (size_t)snprintf(buf + k, len - k, "%s\n", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return buf;
}

/*
 * The event page (its check-ins, and its count) and the member page (their
 * check-ins, and their visits) search the check-ins by index, and the counts
 * read nothing but the index: no scan of checkins, no sort.
 */
static void test_page_plans(void **state)
{
	fx *f = *state;
	/* SQLite's query planner: PostgreSQL chooses its plans by its statistics, which a test's few rows
	 * do not make */
	if (hubdb_pg())
		skip();
	static const struct {
		const char *q, *uses;
	} pages[] = {
	    {"SELECT c.id, m.name, e.title FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid"
	     " LEFT JOIN events e ON e.uid = c.event_uid WHERE c.event_uid = ?1 ORDER BY c.corrected_ms",
	     "SEARCH c USING INDEX checkins_event (event_uid=?)"},
	    {"SELECT count(*) FROM checkins WHERE event_uid = ?1 AND duplicate_of IS NULL AND reversed = 0",
	     "SEARCH checkins USING COVERING INDEX checkins_event (event_uid=?)"},
	    {"SELECT c.id, m.name, e.title FROM checkins c LEFT JOIN members m ON m.uid = c.member_uid"
	     " LEFT JOIN events e ON e.uid = c.event_uid"
	     " WHERE c.member_rid = (SELECT rowid FROM members WHERE uid = ?1) ORDER BY c.corrected_ms DESC",
	     "SEARCH c USING INDEX checkins_member (member_rid=?)"},
	    {"SELECT count(*), max(corrected_ms) FROM checkins WHERE member_rid = ?1 AND duplicate_of IS NULL"
	     " AND reversed = 0",
	     "SEARCH checkins USING COVERING INDEX checkins_member (member_rid=?)"},
	    {"SELECT uid, (SELECT count(*) FROM checkins c WHERE c.event_uid = events.uid AND c.duplicate_of "
	     "IS NULL"
	     " AND c.reversed = 0) FROM events WHERE venue_id = ?1 ORDER BY start_ms DESC, rowid DESC",
	     "SEARCH events USING INDEX events_start (venue_id=?)"},
	    {"SELECT uid FROM members WHERE merged_into = ?1", "SEARCH members USING INDEX members_merged"},
	};
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		char p[1024];
		plan(f, pages[i].q, p, sizeof p);
		if (!strstr(p, pages[i].uses) || strstr(p, "SCAN") || strstr(p, "TEMP B-TREE"))
			fail_msg("%s\n%s", pages[i].q, p);
	}
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setup_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_from_2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_page_plans, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
