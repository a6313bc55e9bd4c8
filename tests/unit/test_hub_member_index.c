/*
 * test_hub_member_index — the console's member search over a real hub
 * store: what an organizer typing into the search box gets back.
 *
 * Pinyin, initials, Latin names, phone endings and exact codes find the
 * members the kiosk would find; a code comes first and is not counted
 * twice; a search matching more than the page shows says how many match
 * in all; an import, an edit or a merge is seen by the very next search
 * (the venue's members sequence moved); an unchanged venue is not rebuilt;
 * the page without a search lists the members changed last; more venues
 * than the cache keeps still answer each for itself.
 */
#include "sync/hub/console/member_index.h"
#include "sync/hub/hub_store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fx {
	char path[HUBDB_WHERE_MAX]; /* the store's file or database URL (tests/unit/hubdb.h) */
	hub_store *st;
	hub_venue v;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/tingzi-mindex.XXXXXX");
	int fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	assert_int_equal(f->st->ops->venue_add(f->st, "听雨茶馆", "Asia/Shanghai", 1000, &f->v), HUB_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	member_index_free_all();
	f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
	return 0;
}

typedef struct row {
	const char *name, *phone, *code, *tier;
} row;

/* Rows through the CSV sink's calls, as an import does, at time now. */
static void import(fx *f, const char *venue, const row *rows, size_t n, int64_t now)
{
	hub_store *st = f->st;
	assert_int_equal(st->ops->members_begin(st, venue), HUB_OK);
	for (size_t i = 0; i < n; i++) {
		store_member m;
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "%s", rows[i].name);
		snprintf(m.phone, sizeof m.phone, "%s", rows[i].phone ? rows[i].phone : "");
		snprintf(m.code, sizeof m.code, "%s", rows[i].code ? rows[i].code : "");
		snprintf(m.tier, sizeof m.tier, "%s", rows[i].tier ? rows[i].tier : "");
		int how;
		char why[256];
		int rc = st->ops->members_row(st, &m, &how, why, sizeof why, now);
		if (rc != 0)
			fail_msg("row %zu: %s", i, why);
	}
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
}

static const row people[] = {
    {"张三", "13812345678", "M001", "gold"}, {"張三", "13900005678", "M002", NULL},
    {"张珊", "13700001111", "M003", NULL},   {"John Smith", "15012345678", "5678", NULL},
    {"李四", "18600002222", NULL, NULL},
};

/* The names found, in the order given, joined by '|'. */
static void names(fx *f, const member_found *mf, char *out, size_t len)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < mf->n; i++) {
		hub_member m;
		assert_int_equal(f->st->ops->member_by_rid(f->st, mf->e[i]->id, &m), HUB_OK);
		assert_string_equal(m.venue_id, f->v.id);
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? "|" : "", m.name);
	}
}

static void search(fx *f, const char *q, size_t max, member_found *mf, char *out, size_t len)
{
	member_index ix;
	assert_int_equal(member_index_get(f->st, f->v.id, &ix), HUB_OK);
	member_index_search(&ix, q, max, mf);
	names(f, mf, out, len);
}

static void test_search_as_the_kiosk(void **state)
{
	fx *f = *state;
	member_found mf;
	char got[512];
	import(f, f->v.id, people, sizeof people / sizeof people[0], 5000);

	member_index ix;
	assert_int_equal(member_index_get(f->st, f->v.id, &ix), HUB_OK);
	assert_int_equal(ix.count, 5);

	search(f, "zs", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张三|張三|张珊");
	assert_int_equal(mf.by, MEMBER_MATCH_NAME);
	assert_int_equal(mf.total, 3);

	search(f, "zhangsan", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张三|張三");

	search(f, "  ZS ", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张三|張三|张珊");

	search(f, "john smith", 50, &mf, got, sizeof got);
	assert_string_equal(got, "John Smith");

	search(f, "张", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张三|张珊");

	/* an exact code */
	search(f, "M003", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张珊");
	assert_int_equal(mf.by, MEMBER_MATCH_CODE);
	assert_int_equal(mf.total, 1);

	/* a phone's last digits; typed with separators too */
	search(f, "2222", 50, &mf, got, sizeof got);
	assert_string_equal(got, "李四");
	assert_int_equal(mf.by, MEMBER_MATCH_PHONE);
	search(f, "0000-1111", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张珊");

	/* "5678" is John Smith's code, and three phones end with it: the code first, counted once */
	search(f, "5678", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 3);
	assert_int_equal(mf.total, 3);
	assert_true(strncmp(got, "John Smith|", 11) == 0);
	assert_non_null(strstr(got, "张三"));
	assert_non_null(strstr(got, "張三"));

	/* fewer than 4 digits is not a phone search, and finds nobody */
	search(f, "678", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 0);
	assert_int_equal(mf.total, 0);

	search(f, "wangwu", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 0);
	search(f, "", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 0);
}

static void test_more_than_shown(void **state)
{
	fx *f = *state;
	enum { N = 180 };
	static row rows[N];
	static char nm[N][32], ph[N][16], cd[N][16];
	for (int i = 0; i < N; i++) {
		/* 王 then two more characters: every one matches "w" and "wang" */
		static const char *const given[] = {"一", "二", "三", "四", "五", "六"};
		snprintf(nm[i], sizeof nm[i], "王%s%s%d", given[i % 6], given[(i / 6) % 6], i);
		snprintf(ph[i], sizeof ph[i], "1380000%04d", i);
		snprintf(cd[i], sizeof cd[i], "W%d", i);
		rows[i] = (row){nm[i], ph[i], cd[i], NULL};
	}
	import(f, f->v.id, rows, N, 5000);
	member_found mf;
	char got[8192];
	search(f, "wang", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 50);
	assert_int_equal(mf.total, N);
	search(f, "wang", 10, &mf, got, sizeof got);
	assert_int_equal(mf.n, 10);
	assert_int_equal(mf.total, N);
	/* phones 13800000000..13800000179 */
	search(f, "00000017", 50, &mf, got, sizeof got);
	assert_int_equal(mf.total, 1);
	search(f, "0017", 50, &mf, got, sizeof got);
	assert_int_equal(mf.total, 1);
	search(f, "00000", 50, &mf, got, sizeof got);
	assert_int_equal(mf.total, 1);
	assert_int_equal(mf.by, MEMBER_MATCH_PHONE);
}

static void test_changes_are_seen(void **state)
{
	fx *f = *state;
	member_found mf;
	char got[512];
	import(f, f->v.id, people, sizeof people / sizeof people[0], 5000);

	member_index a, b;
	assert_int_equal(member_index_get(f->st, f->v.id, &a), HUB_OK);
	assert_int_equal(member_index_get(f->st, f->v.id, &b), HUB_OK);
	assert_ptr_equal(a.r, b.r); /* nothing moved: the same index */
	assert_int_equal(a.seq, b.seq);

	/* an import adds a member: the next search finds them */
	static const row more[] = {{"王五", "13600009999", "M009", NULL}};
	import(f, f->v.id, more, 1, 6000);
	search(f, "ww", 50, &mf, got, sizeof got);
	assert_string_equal(got, "王五");
	assert_int_equal(member_index_get(f->st, f->v.id, &a), HUB_OK);
	assert_int_equal(a.count, 6);
	assert_true(a.seq > b.seq);

	/* an edit gives 李四 a code */
	search(f, "lisi", 50, &mf, got, sizeof got);
	hub_member li;
	assert_int_equal(f->st->ops->member_by_rid(f->st, mf.e[0]->id, &li), HUB_OK);
	assert_int_equal(f->st->ops->member_update(f->st, li.uid, "silver", "2027-01-31", "L44", 7000),
			 HUB_OK);
	search(f, "L44", 50, &mf, got, sizeof got);
	assert_string_equal(got, "李四");
	assert_int_equal(mf.by, MEMBER_MATCH_CODE);

	/* a merge: 張三 goes into 张三 and is no longer found */
	search(f, "M001", 50, &mf, got, sizeof got);
	hub_member keep, gone;
	assert_int_equal(f->st->ops->member_by_rid(f->st, mf.e[0]->id, &keep), HUB_OK);
	search(f, "M002", 50, &mf, got, sizeof got);
	assert_int_equal(f->st->ops->member_by_rid(f->st, mf.e[0]->id, &gone), HUB_OK);
	assert_int_equal(f->st->ops->member_merge(f->st, keep.uid, gone.uid, 8000), HUB_OK);
	search(f, "zhangsan", 50, &mf, got, sizeof got);
	assert_string_equal(got, "张三");
	search(f, "M002", 50, &mf, got, sizeof got);
	assert_int_equal(mf.n, 0);
	assert_int_equal(member_index_get(f->st, f->v.id, &a), HUB_OK);
	assert_int_equal(a.count, 5);
}

static void test_recent_first(void **state)
{
	fx *f = *state;
	import(f, f->v.id, people, sizeof people / sizeof people[0], 5000);
	static const row later[] = {{"赵六", "13500006666", "Z6", NULL}};
	import(f, f->v.id, later, 1, 9000);
	member_index ix;
	assert_int_equal(member_index_get(f->st, f->v.id, &ix), HUB_OK);
	assert_int_equal(ix.nrecent, 6);
	hub_member m;
	assert_int_equal(f->st->ops->member_by_rid(f->st, ix.recent[0], &m), HUB_OK);
	assert_string_equal(m.name, "赵六");

	/* an edit makes a member the most recent */
	member_found mf;
	member_index_search(&ix, "M003", 50, &mf);
	assert_int_equal(f->st->ops->member_by_rid(f->st, mf.e[0]->id, &m), HUB_OK);
	assert_int_equal(f->st->ops->member_update(f->st, m.uid, "vip", "", "M003", 10000), HUB_OK);
	assert_int_equal(member_index_get(f->st, f->v.id, &ix), HUB_OK);
	assert_int_equal(f->st->ops->member_by_rid(f->st, ix.recent[0], &m), HUB_OK);
	assert_string_equal(m.name, "张珊");
}

static void test_more_venues_than_kept(void **state)
{
	fx *f = *state;
	enum { V = MEMBER_INDEX_VENUES + 3 };
	hub_venue v[V];
	for (int i = 0; i < V; i++) {
		char name[32];
		snprintf(name, sizeof name, "场馆%d", i);
		assert_int_equal(f->st->ops->venue_add(f->st, name, "Asia/Shanghai", 1000 + i, &v[i]),
				 HUB_OK);
		/* venue i has i+1 members, each with a code Vi-k */
		row rows[V];
		static char names_[V][V][32], codes_[V][V][16];
		for (int k = 0; k <= i; k++) {
			snprintf(names_[i][k], sizeof names_[i][k], "会员%d", k);
			snprintf(codes_[i][k], sizeof codes_[i][k], "V%d-%d", i, k);
			rows[k] = (row){names_[i][k], NULL, codes_[i][k], NULL};
		}
		import(f, v[i].id, rows, (size_t)i + 1, 5000);
	}
	/* twice round, so every venue is dropped and built again at least once */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < V; i++) {
			member_index ix;
			member_found mf;
			char code[16];
			assert_int_equal(member_index_get(f->st, v[i].id, &ix), HUB_OK);
			assert_int_equal(ix.count, (size_t)i + 1);
			snprintf(code, sizeof code, "V%d-%d", i, i);
			member_index_search(&ix, code, 50, &mf);
			assert_int_equal(mf.n, 1);
			hub_member m;
			assert_int_equal(f->st->ops->member_by_rid(f->st, mf.e[0]->id, &m), HUB_OK);
			assert_string_equal(m.venue_id, v[i].id);
			/* another venue's code is not found here */
			snprintf(code, sizeof code, "V%d-0", (i + 1) % V);
			member_index_search(&ix, code, 50, &mf);
			assert_int_equal(mf.n, 0);
		}
	}
	member_index_free_all();
	member_index ix;
	assert_int_equal(member_index_get(f->st, v[2].id, &ix), HUB_OK);
	assert_int_equal(ix.count, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_search_as_the_kiosk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_more_than_shown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_are_seen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_more_venues_than_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
