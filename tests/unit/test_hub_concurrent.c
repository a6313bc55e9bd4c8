/*
 * The store's rules when several hub processes write at once: each thread
 * here has a store of its own (its own SQLite connection to one file, or its
 * own PostgreSQL connection to one database, as two hub nodes would), and
 * they race.
 *   - A pull's cursor never passes a row committed late: a change holding a
 *     venue's next sequence value makes a second writer wait, so what a pull
 *     sees between the two commits is a prefix of the sequence.
 *   - Exactly once: the same batch pushed by four at once stores each
 *     check-in once; two doors checking the same members in to one event at
 *     once leave one counted attendance each.
 *   - An enrolment code is used once by eight devices racing for it.
 *   - A live code's cap is never passed by eight threads redirecting at once.
 *   - Merges racing pushes of the merged members' check-ins leave every
 *     check-in on the member that stays, each attendance counted once.
 * Run on SQLite (unit.test_hub_concurrent) and PostgreSQL (.pg).
 */
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 8
#define DEV_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct fx {
	char where[HUBDB_WHERE_MAX];
	hub_store *st[THREADS];
	hub_venue v;
	char event[HUB_ID_MAX];
	char members[400][HUB_ID_MAX];
} fx;

static hub_store *open_one(const char *where)
{
	char why[256];
	hub_store *st = hub_store_open(where, why, sizeof why);
	if (!st)
		fail_msg("%s", why);
	return st;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->where, sizeof f->where, "/tmp/tingzi-hubrace.XXXXXX");
	int fd = mkstemp(f->where);
	close(fd);
	unlink(f->where);
	hubdb_where(f->where, sizeof f->where, f->where);
	for (int i = 0; i < THREADS; i++)
		f->st[i] = open_one(f->where);
	hub_store *st = f->st[0];
	assert_int_equal(st->ops->venue_add(st, "听雨茶馆", "Asia/Shanghai", 1000, &f->v), HUB_OK);
	assert_int_equal(st->ops->event_add(st, f->v.id, "周末茶话会", 1000, 999999999, 1000, f->event), HUB_OK);
	/* 400 members, their uids as a pull gives them */
	assert_int_equal(st->ops->members_begin(st, f->v.id), HUB_OK);
	for (int i = 1; i <= 400; i++) {
		store_member m;
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "会员%d", i);
		snprintf(m.code, sizeof m.code, "M%d", i);
		int how;
		char why[128];
		assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, 2000), 0);
	}
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
	hub_page pg;
	assert_int_equal(st->ops->pull(st, f->v.id, HUB_SET_MEMBERS, 0, 400, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 400);
	for (size_t i = 0; i < 400; i++)
		snprintf(f->members[i], HUB_ID_MAX, "%s", json_string_value(json_object_get(json_array_get(pg.items, i), "uid")));
	json_decref(pg.items);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	for (int i = 0; i < THREADS; i++)
		if (f->st[i])
			f->st[i]->ops->close(f->st[i]);
	hubdb_remove(f->where);
	free(f);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- cursors ---- */

typedef struct walkin {
	fx *f;
	hub_store *st;
	hub_err e;
	hub_push_stats stats;
	atomic_int done;
	int64_t done_ms;
} walkin;

/* A kiosk's push of one new member (a walk-in): takes the venue's next members value. */
static void *push_walkin(void *arg)
{
	walkin *w = arg;
	hub_record r = {.kind = HUB_REC_MEMBER, .id = "cccccccccccccccccccccccccccccccc", .name = "Walk-in",
			.created_ms = 5000};
	hub_result res = {.id = r.id};
	hub_batch b = {.records = &r, .nrecords = 1, .results = &res};
	w->e = w->st->ops->push(w->st, &w->f->v, DEV_A, 0, 5000, &b, &w->stats);
	w->done_ms = now_ms();
	atomic_store(&w->done, 1);
	return NULL;
}

static void test_cursor_never_passes_a_late_row(void **state)
{
	fx *f = *state;
	hub_store *a = f->st[0], *reader = f->st[2];
	int64_t cursor;
	assert_int_equal(reader->ops->set_seq(reader, f->v.id, HUB_SET_MEMBERS, &cursor), HUB_OK);
	assert_true(cursor >= 400);

	/* an import holds the next value, uncommitted */
	assert_int_equal(a->ops->members_begin(a, f->v.id), HUB_OK);
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "Imported");
	snprintf(m.code, sizeof m.code, "IMP1");
	int how;
	char why[128];
	assert_int_equal(a->ops->members_row(a, &m, &how, why, sizeof why, 4000), 0);

	/* a kiosk's walk-in on another connection needs the value after it: it waits */
	walkin w = {.f = f, .st = f->st[1]};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, push_walkin, &w), 0);
	usleep(400 * 1000);
	assert_int_equal(atomic_load(&w.done), 0);
	/* a pull meanwhile sees neither */
	hub_page pg;
	assert_int_equal(reader->ops->pull(reader, f->v.id, HUB_SET_MEMBERS, cursor, 100, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 0);
	assert_int_equal(pg.next, cursor);
	json_decref(pg.items);

	int64_t committed = now_ms();
	assert_int_equal(a->ops->members_commit(a), HUB_OK);
	pthread_join(t, NULL);
	assert_int_equal(w.e, HUB_OK);
	assert_int_equal(w.stats.ok, 1);
	assert_true(w.done_ms >= committed);

	/* both, in the order their values were taken, the cursor moving past each */
	assert_int_equal(reader->ops->pull(reader, f->v.id, HUB_SET_MEMBERS, cursor, 100, "", &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pg.items, 0), "name")), "Imported");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pg.items, 1), "name")), "Walk-in");
	assert_int_equal(pg.next, cursor + 2);
	json_decref(pg.items);
}

/* ---- exactly once ---- */

typedef struct pusher {
	fx *f;
	hub_store *st;
	const char *device;
	int first, n;		 /* members first .. first + n - 1 */
	unsigned id_base;	 /* check-in ids */
	hub_push_stats stats;
	hub_err e;
	pthread_barrier_t *go;
} pusher;

static void *push_batch(void *arg)
{
	pusher *p = arg;
	hub_checkin *c = calloc((size_t)p->n, sizeof *c);
	hub_result *res = calloc((size_t)p->n, sizeof *res);
	char (*ids)[HUB_ID_MAX] = calloc((size_t)p->n, sizeof *ids);
	for (int i = 0; i < p->n; i++) {
		snprintf(ids[i], HUB_ID_MAX, "%08x%024x", p->id_base, i);
		c[i] = (hub_checkin){.id = ids[i], .member = p->f->members[p->first + i], .event = p->f->event,
				     .method = "scan", .boot = "b", .kiosk_day = "", .wall_ms = 6000 + i, .seq = i + 1,
				     .visit = 1};
		res[i].id = ids[i];
	}
	hub_batch b = {.checkins = c, .ncheckins = (size_t)p->n, .results = res};
	pthread_barrier_wait(p->go);
	hub_venue v = p->f->v;
	p->e = p->st->ops->push(p->st, &v, p->device, 0, 7000, &b, &p->stats);
	free(c);
	free(res);
	free(ids);
	return NULL;
}

static void test_exactly_once_racing(void **state)
{
	fx *f = *state;
	pthread_barrier_t go;
	/* the same batch of 300 from one kiosk, sent four times at once (a retry racing its original) */
	pthread_barrier_init(&go, NULL, 4);
	pusher p[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		p[i] = (pusher){.f = f, .st = f->st[i], .device = DEV_A, .first = 0, .n = 300, .id_base = 0xa0, .go = &go};
		pthread_create(&t[i], NULL, push_batch, &p[i]);
	}
	size_t ok = 0, dup = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(p[i].e, HUB_OK);
		ok += p[i].stats.ok;
		dup += p[i].stats.duplicate;
		assert_int_equal(p[i].stats.rejected, 0);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(ok, 300);
	assert_int_equal(dup, 900);
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM checkins", NULL), 300);

	/* two doors check members 200..399 in to the event at once, in opposite halves first */
	pthread_barrier_init(&go, NULL, 2);
	pusher d[2] = {{.f = f, .st = f->st[4], .device = DEV_A, .first = 200, .n = 200, .id_base = 0xb0, .go = &go},
		       {.f = f, .st = f->st[5], .device = DEV_B, .first = 200, .n = 200, .id_base = 0xb1, .go = &go}};
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, push_batch, &d[i]);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(d[i].e, HUB_OK);
		assert_int_equal(d[i].stats.ok, 200);
	}
	pthread_barrier_destroy(&go);
	/* every check-in kept; members 200..299 had one from the first batch already */
	assert_int_equal(d[0].stats.attendance_duplicate + d[1].stats.attendance_duplicate, 300);
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM checkins", NULL), 700);
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM checkins WHERE duplicate_of IS NULL", NULL), 400);
	/* one counted attendance per member, whoever won */
	assert_int_equal(hubdb_int(f->where,
				   "SELECT count(*) FROM (SELECT member_uid FROM checkins WHERE duplicate_of IS NULL"
				   " GROUP BY member_uid HAVING count(*) > 1) x",
				   NULL),
			 0);
	hub_event_tally tally;
	assert_int_equal(f->st[0]->ops->event_count(f->st[0], f->event, &tally), HUB_OK);
	assert_int_equal(tally.counted, 400);
	assert_int_equal(tally.duplicates, 300);
}

/* ---- enrolment codes and live codes ---- */

typedef struct racer {
	fx *f;
	hub_store *st;
	int i, tries;
	unsigned char code[32];
	int ok, refused;
	pthread_barrier_t *go;
} racer;

static void *enroll_one(void *arg)
{
	racer *r = arg;
	hub_device d = {.name = "door", .public_key = "00"};
	snprintf(d.id, sizeof d.id, "%032x", 0xd0 + r->i);
	hub_sha256("secret", 6, d.token_hash);
	hub_venue v;
	pthread_barrier_wait(r->go);
	hub_err e = r->st->ops->enroll(r->st, r->code, &d, 6000, &v);
	r->ok = e == HUB_OK;
	r->refused = e == HUB_CODE_INVALID;
	return NULL;
}

static void test_enrolment_code_once(void **state)
{
	fx *f = *state;
	unsigned char code[32];
	hub_sha256("RACE-RACE-RACE", 14, code);
	assert_int_equal(f->st[0]->ops->code_add(f->st[0], f->v.id, code, 100000, 1000), HUB_OK);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, THREADS);
	racer r[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		r[i] = (racer){.f = f, .st = f->st[i], .i = i, .go = &go};
		memcpy(r[i].code, code, 32);
		pthread_create(&t[i], NULL, enroll_one, &r[i]);
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		refused += r[i].refused;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(ok, 1);
	assert_int_equal(refused, THREADS - 1);
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM devices", NULL), 1);
}

static void *redirect_many(void *arg)
{
	racer *r = arg;
	char url[HUB_URL_MAX];
	pthread_barrier_wait(r->go);
	for (int i = 0; i < r->tries; i++) {
		hub_err e = r->st->ops->live(r->st, "race", NULL, 8000, url);
		if (e == HUB_OK && strcmp(url, "https://capped.example/") == 0)
			r->ok++;
		else if (e == HUB_INVALID)
			r->refused++;
	}
	return NULL;
}

static void test_live_cap_racing(void **state)
{
	fx *f = *state;
	char uid[HUB_ID_MAX];
	hub_link_new l = {.venue_id = f->v.id, .platform = "wechat", .label = "Capped", .url = "https://capped.example/",
			  .slug = "race", .cap = 100};
	assert_int_equal(f->st[0]->ops->link_add(f->st[0], &l, 1000, uid), HUB_OK);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, THREADS);
	racer r[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		r[i] = (racer){.f = f, .st = f->st[i], .i = i, .tries = 30, .go = &go};
		pthread_create(&t[i], NULL, redirect_many, &r[i]);
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		refused += r[i].refused;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(ok, 100);
	assert_int_equal(refused, THREADS * 30 - 100);
	hub_link got;
	assert_int_equal(f->st[0]->ops->link_get(f->st[0], uid, &got), HUB_OK);
	assert_int_equal(got.redirects, 100);
}

/* ---- merges racing pushes ---- */

typedef struct merger {
	fx *f;
	hub_store *st;
	int merged;
	pthread_barrier_t *go;
} merger;

static void *merge_pairs(void *arg)
{
	merger *m = arg;
	pthread_barrier_wait(m->go);
	for (int k = 0; k < 100; k++)
		m->merged += m->st->ops->member_merge(m->st, m->f->members[2 * k], m->f->members[2 * k + 1], 9000) == HUB_OK;
	return NULL;
}

static void test_merges_racing_pushes(void **state)
{
	fx *f = *state;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 4);
	merger m = {.f = f, .st = f->st[0], .go = &go};
	/* three kiosks check members 0..199 in to the event while pairs of them are merged */
	pusher p[3];
	pthread_t t[4];
	static const char *const devs[3] = {DEV_A, DEV_B, "dddddddddddddddddddddddddddddddd"};
	pthread_create(&t[3], NULL, merge_pairs, &m);
	for (int i = 0; i < 3; i++) {
		p[i] = (pusher){.f = f, .st = f->st[1 + i], .device = devs[i], .first = 0, .n = 200,
				.id_base = 0xc0u + (unsigned)i, .go = &go};
		pthread_create(&t[i], NULL, push_batch, &p[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(m.merged, 100);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p[i].e, HUB_OK);
		assert_int_equal(p[i].stats.ok, 200);
	}
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM checkins", NULL), 600);
	/* none left on a merged member */
	assert_int_equal(hubdb_int(f->where,
				   "SELECT count(*) FROM checkins c JOIN members m ON m.uid = c.member_uid"
				   " WHERE m.merged_into IS NOT NULL",
				   NULL),
			 0);
	/* the 100 who stay are counted once each: 600 check-ins, 100 attendances */
	assert_int_equal(hubdb_int(f->where, "SELECT count(*) FROM checkins WHERE duplicate_of IS NULL", NULL), 100);
	assert_int_equal(hubdb_int(f->where,
				   "SELECT count(*) FROM (SELECT member_uid FROM checkins WHERE duplicate_of IS NULL"
				   " GROUP BY member_uid HAVING count(*) > 1) x",
				   NULL),
			 0);
	hub_event_tally tally;
	assert_int_equal(f->st[0]->ops->event_count(f->st[0], f->event, &tally), HUB_OK);
	assert_int_equal(tally.counted, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cursor_never_passes_a_late_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exactly_once_racing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enrolment_code_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_cap_racing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merges_racing_pushes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
