/*
 * The dashboard's store operations (hub_store_dash.h) on a real SQLite file
 * (and, run as unit.test_hub_dash.pg, a real PostgreSQL database: see
 * tests/unit/hubdb.h), over a small community written out by hand: 30 members of a tea house in
 * Asia/Shanghai, 12 events over four months (August to November 2026), with
 * referrals, check-ins undone at the kiosk, second check-ins from a second
 * door, a member merged into another, memberships that ended, a drop-in
 * after midnight, live-code redirects with and without a member's ref, and a
 * second venue for the owner's view. Everything goes in through the store's
 * own operations (push, the CSV import, referral_add, member_merge, live).
 * Every expected number is worked out in the comments from the tables
 * below, not by the code under test. Then: the summaries follow a later
 * push, a reversal, a merge, a renamed member and a changed expiry.
 *
 * The main period P is 2026-09-01 (a Tuesday) to 2026-11-30 (a Monday); the
 * whole one, W, is 2026-08-01 to 2026-11-30.
 */
#include "sync/hub/hub_store.h"

/* cmocka.h after what it needs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEV_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MIN   60000LL
#define HOUR  3600000LL

/*
 * The events, each at 19:00 in the tea house's zone (+08:00):
 *   E1 08-05 Wed  E2 08-15 Sat  E3 08-26 Wed  E4 09-05 Sat  E5 09-16 Wed  E6 09-26 Sat
 *   E7 10-07 Wed  E8 10-17 Sat  E9 10-28 Wed  E10 11-07 Sat E11 11-18 Wed E12 11-28 Sat
 * E9 is cancelled afterwards (its check-ins stay).
 */
static const int ev_day[13][2] = {{0, 0}, {8, 5}, {8, 15}, {8, 26}, {9, 5}, {9, 16}, {9, 26},
				  {10, 7}, {10, 17}, {10, 28}, {11, 7}, {11, 18}, {11, 28}};

/*
 * Who came to which event (door A). M28 never came; M29 is merged into M05
 * at the end; M04's E6 and M16's E5 are undone (reversal records); M02 at
 * E10 and M11 at E7 are checked in a second time at door B; two drop-ins:
 * M06 on 09-01 at 00:30 (still 08-31 in UTC) and M01 on 11-20 at 10:00.
 */
static const struct {
	int m, ev[13];
} went[] = {
    {1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
    {2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
    {3, {1, 3, 5, 7, 9, 11}},
    {4, {2, 4, 6, 8, 10, 12}},
    {5, {1, 4, 9}},
    {6, {1, 2}},
    {7, {1, 2, 3}},
    {8, {2, 3, 4, 5}},
    {9, {3, 4, 6}},
    {10, {1}},
    {11, {4, 5, 6, 7, 8}},
    {12, {4, 7}},
    {13, {5}},
    {14, {5, 6, 9, 10, 11, 12}},
    {15, {6, 8, 12}},
    {16, {5, 6}},
    {17, {7, 8, 9}},
    {18, {7, 10}},
    {19, {8}},
    {20, {8, 9, 10, 11, 12}},
    {21, {9, 12}},
    {22, {9}},
    {23, {10, 11, 12}},
    {24, {10, 12}},
    {25, {11, 12}},
    {26, {11}},
    {27, {12}},
    {29, {4, 11}},
    {30, {4, 8, 11}},
};

/* Check-ins whose welcome showed the group's join QR (flag bit 1): member, event. */
static const int shown_qr[][2] = {{1, 5}, {7, 1}, {11, 4}, {13, 5}, {16, 5}, {17, 7}, {20, 8}, {23, 10}, {25, 11}};
static const int undone[][2] = {{4, 6}, {16, 5}};
static const int door_b[][2] = {{2, 10}, {11, 7}};

/*
 * Tiers and memberships' last days: M01-M05, M28 and M29 gold; M06-M10 and
 * M30 standard; the others none. M03 until 12-15, M04 12-30, M07 10-10, M12
 * 11-30, M14 10-31, M29 12-01, M30 09-30.
 */
static const char *tier_of(int m)
{
	return (m <= 5 || m == 28 || m == 29) ? "gold" : (m <= 10 || m == 30) ? "standard" : "";
}

static const char *expires_of(int m)
{
	switch (m) {
	case 3: return "2026-12-15";
	case 4: return "2026-12-30";
	case 7: return "2026-10-10";
	case 12: return "2026-11-30";
	case 14: return "2026-10-31";
	case 29: return "2026-12-01";
	case 30: return "2026-09-30";
	default: return "";
	}
}

/*
 * So each member's counted visits (days; after the merge, M29's E4 is a
 * second check-in of M05's E4 and its E11 is M05's):
 *   M01 13: 08-05 08-15 08-26 09-05 09-16 09-26 10-07 10-17 10-28 11-07 11-18 11-20 11-28
 *   M02 10: 08-05 08-15 08-26 09-05 09-16 09-26 10-07 10-17 10-28 11-07
 *   M03 6: 08-05 08-26 09-16 10-07 10-28 11-18     M04 5: 08-15 09-05 10-17 11-07 11-28
 *   M05 4: 08-05 09-05 10-28 11-18                 M06 3: 08-05 08-15 09-01
 *   M07 3: 08-05 08-15 08-26                       M08 4: 08-15 08-26 09-05 09-16
 *   M09 3: 08-26 09-05 09-26                       M10 1: 08-05
 *   M11 5: 09-05 09-16 09-26 10-07 10-17           M12 2: 09-05 10-07
 *   M13 1: 09-16                                   M14 6: 09-16 09-26 10-28 11-07 11-18 11-28
 *   M15 3: 09-26 10-17 11-28                       M16 1: 09-26
 *   M17 3: 10-07 10-17 10-28                       M18 2: 10-07 11-07
 *   M19 1: 10-17                                   M20 5: 10-17 10-28 11-07 11-18 11-28
 *   M21 2: 10-28 11-28                             M22 1: 10-28
 *   M23 3: 11-07 11-18 11-28                       M24 2: 11-07 11-28
 *   M25 2: 11-18 11-28                             M26 1: 11-18
 *   M27 1: 11-28                                   M28 0; M29 merged; M30 3: 09-05 10-17 11-18
 */

typedef struct fx {
	char path[HUBDB_WHERE_MAX]; /* the store's file or database URL */
	hub_store *st;
	hub_venue v, vb;
	char uid[31][HUB_ID_MAX]; /* by member number */
	char ev[13][HUB_ID_MAX];
	char ck[31][13][HUB_ID_MAX]; /* door A's check-in of member m at event e */
	char link[6][HUB_ID_MAX];
	int next; /* the next check-in or record id */
} fx;

/* Unix ms of a local time in the tea house's zone (+08:00 all year). */
static int64_t at(int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return (int64_t)timegm(&tm) * 1000 - 8 * HOUR;
}

static void next_id(fx *f, char id[HUB_ID_MAX])
{
	snprintf(id, HUB_ID_MAX, "%032x", 0x10000 + f->next++);
}

typedef struct ck {
	int m, e; /* e 0: a drop-in */
	int64_t wall;
	int flags;
} ck;

/* Push check-ins (and records) of venue v from dev; every one must be taken. */
static void push(fx *f, const hub_venue *v, const char *dev, const ck *c, size_t n, hub_record *r, size_t nr,
		 char (*ids)[HUB_ID_MAX])
{
	hub_checkin hc[40];
	hub_result res[48];
	memset(hc, 0, sizeof hc);
	memset(res, 0, sizeof res);
	assert_true(n <= 40 && nr <= 8);
	int64_t now = 0;
	for (size_t i = 0; i < n; i++) {
		next_id(f, ids[i]);
		hc[i] = (hub_checkin){.id = ids[i], .member = f->uid[c[i].m], .event = c[i].e ? f->ev[c[i].e] : NULL,
				      .method = "scan", .boot = "b", .kiosk_day = "", .wall_ms = c[i].wall,
				      .mono_ms = c[i].wall, .seq = f->next, .visit = 1, .flags = c[i].flags};
		res[i].id = ids[i];
		now = c[i].wall > now ? c[i].wall : now;
	}
	for (size_t i = 0; i < nr; i++) {
		res[n + i].id = r[i].id;
		now = r[i].wall_ms > now ? r[i].wall_ms : now;
	}
	hub_batch b = {.checkins = hc, .ncheckins = n, .records = r, .nrecords = nr, .results = res};
	hub_push_stats stats;
	assert_int_equal(f->st->ops->push(f->st, v, dev, 0, now + MIN, &b, &stats), HUB_OK);
	assert_int_equal(stats.rejected, 0);
	assert_int_equal(stats.ok, n + nr);
}

static int take_uid(const hub_member *m, void *ctx)
{
	fx *f = ctx;
	int n = atoi(m->code + 1);
	if (n >= 1 && n <= 30)
		snprintf(f->uid[n], HUB_ID_MAX, "%s", m->uid);
	return 0;
}

static void import(fx *f, const char *venue, const char *name, const char *phone, const char *code,
		   const char *tier, const char *expires)
{
	hub_store *st = f->st;
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	snprintf(m.tier, sizeof m.tier, "%s", tier);
	snprintf(m.expires, sizeof m.expires, "%s", expires);
	int how;
	char why[200];
	assert_int_equal(st->ops->members_begin(st, venue), HUB_OK);
	assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, at(7, 1, 9, 0)), 0);
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
}

static void live(fx *f, const char *slug, const char *ref, int64_t when, hub_err want)
{
	char url[HUB_URL_MAX];
	assert_int_equal(f->st->ops->live(f->st, slug, ref, when, url), want);
}

static void build(fx *f)
{
	snprintf(f->path, sizeof f->path, "/tmp/tingzi-dash.XXXXXX");
	int fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	hub_store *st = f->st;
	assert_int_equal(st->ops->venue_add(st, "听雨茶馆", "Asia/Shanghai", at(7, 1, 8, 0), &f->v), HUB_OK);
	assert_int_equal(st->ops->venue_add(st, "别家", "UTC", at(7, 1, 8, 0), &f->vb), HUB_OK);

	/* members M01..M30, names "M01".. (so that by name is by number), codes C01.. */
	for (int m = 1; m <= 30; m++) {
		char name[8], phone[16], code[8];
		snprintf(name, sizeof name, "M%02d", m);
		snprintf(phone, sizeof phone, "139000000%02d", m);
		snprintf(code, sizeof code, "C%02d", m);
		import(f, f->v.id, name, phone, code, tier_of(m), expires_of(m));
	}
	assert_int_equal(st->ops->members_each(st, f->v.id, take_uid, f), HUB_OK);

	/* the events, by a push of event records */
	hub_record evs[12];
	char titles[12][8];
	for (int e = 1; e <= 12; e++) {
		snprintf(f->ev[e], HUB_ID_MAX, "e%031d", e);
		snprintf(titles[e - 1], sizeof titles[0], "E%d", e);
		int64_t start = at(ev_day[e][0], ev_day[e][1], 19, 0);
		evs[e - 1] = (hub_record){.kind = HUB_REC_EVENT, .id = f->ev[e], .title = titles[e - 1],
					  .start_ms = start, .end_ms = start + 3 * HOUR, .wall_ms = start - 24 * HOUR};
	}
	{
		hub_result res[12];
		memset(res, 0, sizeof res);
		for (int i = 0; i < 12; i++)
			res[i].id = evs[i].id;
		hub_batch b = {.records = evs, .nrecords = 12, .results = res};
		hub_push_stats stats;
		assert_int_equal(st->ops->push(st, &f->v, DEV_A, 0, at(7, 20, 9, 0), &b, &stats), HUB_OK);
		assert_int_equal(stats.ok, 12);
	}

	/* each event's check-ins at door A, 19:MM with MM the member's number */
	for (int e = 1; e <= 12; e++) {
		ck c[40];
		size_t n = 0;
		for (size_t i = 0; i < sizeof went / sizeof went[0]; i++)
			for (int k = 0; k < 13 && went[i].ev[k]; k++)
				if (went[i].ev[k] == e) {
					int flags = 0;
					for (size_t q = 0; q < sizeof shown_qr / sizeof shown_qr[0]; q++)
						if (shown_qr[q][0] == went[i].m && shown_qr[q][1] == e)
							flags = 2;
					c[n++] = (ck){went[i].m, e, at(ev_day[e][0], ev_day[e][1], 19, went[i].m), flags};
				}
		char ids[40][HUB_ID_MAX];
		push(f, &f->v, DEV_A, c, n, NULL, 0, ids);
		for (size_t i = 0; i < n; i++)
			memcpy(f->ck[c[i].m][e], ids[i], HUB_ID_MAX);
		/* looked at after each evening: the visits are added to what was summed up before */
		assert_int_equal(st->ops->dash_refresh(st, f->v.id), HUB_OK);
	}
	/* the same members again at door B: second check-ins of one attendance */
	for (size_t i = 0; i < 2; i++) {
		int m = door_b[i][0], e = door_b[i][1];
		ck c = {m, e, at(ev_day[e][0], ev_day[e][1], 19, 45), 0};
		char ids[1][HUB_ID_MAX];
		push(f, &f->v, DEV_B, &c, 1, NULL, 0, ids);
	}
	/* undone at the kiosk */
	hub_record rev[2];
	char rids[2][HUB_ID_MAX];
	for (int i = 0; i < 2; i++) {
		int m = undone[i][0], e = undone[i][1];
		next_id(f, rids[i]);
		rev[i] = (hub_record){.kind = HUB_REC_REVERSAL, .id = rids[i], .checkin = f->ck[m][e],
				      .reason = "wrong person", .wall_ms = at(ev_day[e][0], ev_day[e][1], 21, 0)};
	}
	push(f, &f->v, DEV_A, NULL, 0, rev, 2, NULL);
	/* drop-ins: M06 at 00:30 on 09-01 (16:30 on 08-31 in UTC), M01 on 11-20 */
	{
		ck c[2] = {{6, 0, at(9, 1, 0, 30), 0}, {1, 0, at(11, 20, 10, 0), 0}};
		char ids[2][HUB_ID_MAX];
		push(f, &f->v, DEV_A, c, 1, NULL, 0, ids);
		push(f, &f->v, DEV_A, c + 1, 1, NULL, 0, ids + 1);
	}

	/* referrals, at the brought member's first visit (or a day an organizer chose) */
	static const struct {
		int m, by;
		const char *via;
		int mo, d;
	} refs[] = {{11, 1, "signup", 9, 5},  {12, 1, "console", 9, 5}, {17, 1, "signup", 10, 7},
		    {20, 11, "signup", 10, 17}, {23, 11, "signup", 11, 7}, {25, 20, "console", 11, 18},
		    {14, 3, "signup", 9, 16},	{27, 29, "signup", 11, 28}, {29, 10, "console", 9, 5}};
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
		assert_int_equal(st->ops->referral_add(st, f->uid[refs[i].m], f->uid[refs[i].by], refs[i].via,
						       at(refs[i].mo, refs[i].d, 19, refs[i].m)),
				 HUB_OK);

	/* M29 is M05: M29's E4 becomes a second check-in of M05's E4, its E11 M05's; who brought M29 (M10)
	 * brought M05, whom M29 brought (M27) M05 brought */
	assert_int_equal(st->ops->member_merge(st, f->uid[5], f->uid[29], at(11, 29, 12, 0)), HUB_OK);
	assert_int_equal(st->ops->event_cancel(st, f->ev[9], at(11, 29, 12, 0)), HUB_OK);

	/*
	 * The live code of the tea house (its slug S) leads to L1..L4, tried in the order added; grp2
	 * to L5. L1 takes 3 people; L2 ends 11-10 12:00, L3 11-20 12:00, L4 11-15 12:00; L5 08-20.
	 */
	static const struct {
		int64_t cap;
		int mo, d;
		int grp2;
	} links[] = {{3, 0, 0, 0}, {0, 11, 10, 0}, {0, 11, 20, 0}, {0, 11, 15, 0}, {0, 8, 20, 1}};
	for (int i = 0; i < 5; i++) {
		char label[8], url[64];
		snprintf(label, sizeof label, "L%d", i + 1);
		snprintf(url, sizeof url, "https://chat.example/%d", i + 1);
		hub_link_new l = {.venue_id = f->v.id, .platform = "wechat", .label = label, .url = url,
				  .slug = links[i].grp2 ? "grp2" : f->v.slug, .cap = links[i].cap,
				  .expires_ms = links[i].mo ? at(links[i].mo, links[i].d, 12, 0) : 0};
		assert_int_equal(st->ops->link_add(st, &l, at(8, 1, 10, i), f->link[i + 1]), HUB_OK);
	}
	const char *S = f->v.slug;
	live(f, S, "C03", at(8, 10, 12, 0), HUB_OK);	     /* L1 1/3 */
	live(f, "grp2", NULL, at(8, 15, 12, 0), HUB_OK);     /* L5 */
	live(f, "grp2", "C01", at(8, 25, 12, 0), HUB_INVALID); /* L5 ended 08-20: a miss */
	live(f, S, NULL, at(9, 10, 12, 0), HUB_OK);	     /* L1 2/3 */
	live(f, S, "C01", at(9, 10, 13, 0), HUB_OK);	     /* L1 3/3: full */
	live(f, S, "C01", at(9, 10, 14, 0), HUB_OK);	     /* L2 */
	live(f, S, "C06", at(11, 2, 12, 0), HUB_OK);	     /* L2 */
	live(f, S, "C06", at(11, 2, 13, 0), HUB_OK);	     /* L2 */
	live(f, S, NULL, at(11, 12, 12, 0), HUB_OK);	     /* L3: L2 ended 11-10 */
	live(f, S, "ZZZ", at(11, 12, 12, 30), HUB_OK);	     /* L3, a code no member has */
	live(f, S, "C01", at(11, 12, 13, 0), HUB_OK);	     /* L3 */
	live(f, S, "C11", at(11, 12, 14, 0), HUB_OK);	     /* L3 */
	live(f, S, "C11", at(11, 21, 12, 0), HUB_INVALID);   /* every link ended or full: missed */
	live(f, S, NULL, at(11, 21, 13, 0), HUB_INVALID);    /* missed */
	live(f, "nope", "C01", at(11, 21, 13, 0), HUB_NOT_FOUND);

	/* the other venue (UTC): one member, one event on 10-10, one check-in */
	import(f, f->vb.id, "X01", "13800000001", "X01", "", "");
	{
		char xuid[HUB_ID_MAX] = "";
		hub_page pg;
		assert_int_equal(st->ops->pull(st, f->vb.id, HUB_SET_MEMBERS, 0, 10, "", &pg), HUB_OK);
		snprintf(xuid, sizeof xuid, "%s", json_string_value(json_object_get(json_array_get(pg.items, 0), "uid")));
		json_decref(pg.items);
		char xev[HUB_ID_MAX];
		int64_t start = (int64_t)timegm(&(struct tm){.tm_year = 126, .tm_mon = 9, .tm_mday = 10, .tm_hour = 19}) * 1000;
		assert_int_equal(st->ops->event_add(st, f->vb.id, "XE", start, start + 2 * HOUR, start - HOUR, xev),
				 HUB_OK);
		char cid[HUB_ID_MAX];
		next_id(f, cid);
		hub_checkin c = {.id = cid, .member = xuid, .event = xev, .method = "scan", .boot = "b",
				 .kiosk_day = "", .wall_ms = start + 5 * MIN, .mono_ms = 1, .seq = 1, .visit = 1};
		hub_result res = {.id = cid};
		hub_batch b = {.checkins = &c, .ncheckins = 1, .results = &res};
		hub_push_stats stats;
		assert_int_equal(st->ops->push(st, &f->vb, "cccccccccccccccccccccccccccccccc", 0, start + HOUR, &b, &stats),
				 HUB_OK);
		assert_int_equal(stats.ok, 1);
	}
	assert_int_equal(st->ops->dash_refresh(st, NULL), HUB_OK);
}

static void destroy(fx *f)
{
	if (f->st)
		f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	build(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	destroy(*state);
	return 0;
}

static hub_period period(const char *venue, const char *from, const char *to)
{
	hub_period p = {.venue_id = venue};
	snprintf(p.from, sizeof p.from, "%s", from);
	snprintf(p.to, sizeof p.to, "%s", to);
	return p;
}

#define P(f) period((f)->v.id, "2026-09-01", "2026-11-30")
#define W(f) period((f)->v.id, "2026-08-01", "2026-11-30")

/* ---- members behind a number, as "M01 M02 ..." ---- */

typedef struct names {
	char s[400];
	hub_dash_member first; /* strings not kept */
	char first_day[11], last_day[11], tier[16], code[8];
	int64_t visits, referrals, n;
} names;

static int take_name(const hub_dash_member *m, void *ctx)
{
	names *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s", k ? " " : "", m->name);
	if (x->n++ == 0) {
		snprintf(x->first_day, sizeof x->first_day, "%s", m->first_day);
		snprintf(x->last_day, sizeof x->last_day, "%s", m->last_day);
		snprintf(x->tier, sizeof x->tier, "%s", m->tier);
		snprintf(x->code, sizeof x->code, "%s", m->code);
		x->visits = m->visits;
		x->referrals = m->referrals;
	}
	return 0;
}

static names list(fx *f, hub_period p, hub_dash_list l, const char *arg, int64_t n, int limit, int64_t *total)
{
	names x;
	memset(&x, 0, sizeof x);
	assert_int_equal(f->st->ops->dash_members(f->st, &p, l, arg, n, limit, total, take_name, &x), HUB_OK);
	return x;
}

/* ---- attendance ---- */

/* "DAY\0REFERRER" of a referral_of answer */
static int take_brought_by(const hub_dash_referral *r, void *ctx)
{
	char *out = ctx;
	snprintf(out, 11, "%s", r->day);
	snprintf(out + 11, HUB_ID_MAX, "%s", r->referrer_uid);
	return 0;
}

static void test_attendance(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_period p = P(f);
	hub_dash_attendance a;
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_OK);
	/*
	 * Visits in P: E4 9 (M01 M02 M04 M05 M08 M09 M11 M12 M30: M29's E4 is a second one of M05's),
	 * E5 7 (M01 M02 M03 M08 M11 M13 M14: M16's undone), E6 7 (M01 M02 M09 M11 M14 M15 M16: M04's
	 * undone), E7 7 (M01 M02 M03 M11 M12 M17 M18: M11's door B not again), E8 9 (M01 M02 M04 M11
	 * M15 M17 M19 M20 M30), E9 9 (M01 M02 M03 M05 M14 M17 M20 M21 M22), E10 8 (M01 M02 M04 M14
	 * M18 M20 M23 M24: M02's door B not again), E11 9 (M01 M03 M05 M14 M20 M23 M25 M26 M30),
	 * E12 10 (M01 M04 M14 M15 M20 M21 M23 M24 M25 M27), and the drop-ins of M06 (09-01 local)
	 * and M01: 9+7+7+7+9+9+8+9+10+2 = 77.
	 */
	assert_int_equal(a.visits, 77);
	/* came in P: M01-M06, M08, M09 (returning: 8), M11-M27 and M30 (first-timers: 18) = 26 */
	assert_int_equal(a.members, 26);
	assert_int_equal(a.first_timers, 18);
	assert_int_equal(a.returning, 8);
	/*
	 * Weeks from Monday 08-31 (cut to 09-01..09-06) to Monday 11-30 (cut to that day): 14.
	 * visits / members / first-timers:
	 *   08-31: E4 9 + M06's drop-in = 10 / 10 / 3 (M11 M12 M30)   09-07: 0
	 *   09-14: E5 7 / 7 / 2 (M13 M14)    09-21: E6 7 / 7 / 2 (M15 M16)   09-28: 0
	 *   10-05: E7 7 / 7 / 2 (M17 M18)    10-12: E8 9 / 9 / 2 (M19 M20)   10-19: 0
	 *   10-26: E9 9 / 9 / 2 (M21 M22)    11-02: E10 8 / 8 / 2 (M23 M24)  11-09: 0
	 *   11-16: E11 9 + M01's drop-in = 10 visits of 9 members (M01 twice) / 2 (M25 M26)
	 *   11-23: E12 10 / 10 / 1 (M27)     11-30: 0
	 */
	static const struct {
		const char *monday;
		int64_t visits, members, first;
	} weeks[14] = {{"2026-08-31", 10, 10, 3}, {"2026-09-07", 0, 0, 0}, {"2026-09-14", 7, 7, 2},
		       {"2026-09-21", 7, 7, 2},	  {"2026-09-28", 0, 0, 0}, {"2026-10-05", 7, 7, 2},
		       {"2026-10-12", 9, 9, 2},	  {"2026-10-19", 0, 0, 0}, {"2026-10-26", 9, 9, 2},
		       {"2026-11-02", 8, 8, 2},	  {"2026-11-09", 0, 0, 0}, {"2026-11-16", 10, 9, 2},
		       {"2026-11-23", 10, 10, 1}, {"2026-11-30", 0, 0, 0}};
	assert_int_equal(a.nweeks, 14);
	for (size_t i = 0; i < 14; i++) {
		assert_string_equal(a.weeks[i].monday, weeks[i].monday);
		if (a.weeks[i].visits != weeks[i].visits || a.weeks[i].members != weeks[i].members ||
		    a.weeks[i].first_timers != weeks[i].first)
			fail_msg("week %s: %lld %lld %lld", weeks[i].monday, (long long)a.weeks[i].visits,
				 (long long)a.weeks[i].members, (long long)a.weeks[i].first_timers);
	}
	free(a.weeks);

	/* 09-01 is the tea house's day, not UTC's: a period of that day alone has M06's drop-in */
	p = period(f->v.id, "2026-09-01", "2026-09-01");
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_OK);
	assert_int_equal(a.visits, 1);
	assert_int_equal(a.members, 1);
	assert_int_equal(a.nweeks, 1);
	assert_string_equal(a.weeks[0].monday, "2026-08-31");
	assert_int_equal(a.weeks[0].members, 1);
	free(a.weeks);

	/* the owner's view: the other venue's member came once on 10-10 (its own first visit) */
	p = period(NULL, "2026-09-01", "2026-11-30");
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_OK);
	assert_int_equal(a.visits, 78);
	assert_int_equal(a.members, 27);
	assert_int_equal(a.first_timers, 19);
	assert_int_equal(a.returning, 8);
	assert_string_equal(a.weeks[5].monday, "2026-10-05");
	assert_int_equal(a.weeks[5].visits, 8);
	assert_int_equal(a.weeks[5].members, 8);
	assert_int_equal(a.weeks[5].first_timers, 3);
	free(a.weeks);

	/* refused: a period backwards, not a day, an unknown venue */
	p = period(f->v.id, "2026-11-30", "2026-09-01");
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_INVALID);
	p = period(f->v.id, "2026-02-30", "2026-03-01");
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_INVALID);
	p = period("ffffffffffffffffffffffffffffffff", "2026-09-01", "2026-11-30");
	assert_int_equal(st->ops->dash_attendance(st, &p, &a), HUB_NOT_FOUND);
}

typedef struct evrows {
	char s[400];
	int n;
} evrows;

static int take_event(const hub_dash_event *e, void *ctx)
{
	evrows *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s:%lld/%lld%s", k ? " " : "", e->title, (long long)e->visits,
		 (long long)e->first_timers, e->cancelled ? "x" : "");
	x->n++;
	return 0;
}

static void test_events(void **state)
{
	fx *f = *state;
	hub_period p = P(f);
	evrows x = {0};
	assert_int_equal(f->st->ops->dash_events(f->st, &p, take_event, &x), HUB_OK);
	/*
	 * Newest first, visits / first visits ever: E12 10 / 1 (M27), E11 9 / 2 (M25 M26), E10 8 / 2
	 * (M23 M24), E9 9 / 2 (M21 M22) cancelled, E8 9 / 2 (M19 M20), E7 7 / 2 (M17 M18), E6 7 / 2
	 * (M15, and M16 whose E5 was undone), E5 7 / 2 (M13 M14), E4 9 / 3 (M11 M12 M30).
	 */
	assert_string_equal(x.s, "E12:10/1 E11:9/2 E10:8/2 E9:9/2x E8:9/2 E7:7/2 E6:7/2 E5:7/2 E4:9/3");
	/* a period of one day at each end: 09-05 holds E4 only; 11-28 E12 only */
	memset(&x, 0, sizeof x);
	p = period(f->v.id, "2026-09-05", "2026-09-05");
	assert_int_equal(f->st->ops->dash_events(f->st, &p, take_event, &x), HUB_OK);
	assert_string_equal(x.s, "E4:9/3");
}

/* ---- the tie funnel and cohorts ---- */

static void test_funnel(void **state)
{
	fx *f = *state;
	hub_period p = P(f);
	hub_dash_funnel fn;
	assert_int_equal(f->st->ops->dash_funnel(f->st, &p, &fn), HUB_OK);
	/*
	 * First visit in P: M11-M27 and M30 = 18. A 2nd visit: M11 M12 M14 M15 M17 M18 M20 M21 M23
	 * M24 M25 M30 = 12; a 3rd: M11 M14 M15 M17 M20 M23 M30 = 7; a 10th: none.
	 * Days 1st -> 2nd: M11 11, M12 32, M14 10, M15 21, M17 10, M18 31, M20 11, M21 31, M23 11,
	 * M24 21, M25 10, M30 42; in order 10 10 10 11 11 11 | 21 21 31 31 32 42: (11 + 21) / 2 = 16.
	 * Days 2nd -> 3rd: M11 10, M14 32, M15 42, M17 11, M20 10, M23 10, M30 32; in order
	 * 10 10 10 11 32 32 42: 11.
	 */
	assert_int_equal(fn.first, 18);
	assert_int_equal(fn.second, 12);
	assert_int_equal(fn.third, 7);
	assert_int_equal(fn.tenth, 0);
	assert_true(fn.median_days_1_2 == 16.0);
	assert_true(fn.median_days_2_3 == 11.0);
	/*
	 * W adds August's first-timers M01-M10: 28. 2nd: M01-M09 (not M10) 9 more = 21; 3rd: M01-M09
	 * 9 more = 16; 10th: M01 and M02. 1st -> 2nd adds M01 10, M02 10, M03 21, M04 21 (08-15 ->
	 * 09-05), M05 31, M06 10, M07 10, M08 11, M09 10: 21 values, eight 10s, four 11s: the 11th is
	 * 11. 2nd -> 3rd adds M01 11, M02 11, M03 21, M04 42 (09-05 -> 10-17: E6 undone), M05 53,
	 * M06 17 (08-15 -> 09-01), M07 11, M08 10, M09 21: 16 values
	 * 10 10 10 10 11 11 11 11 | 17 21 21 32 32 42 42 53: (11 + 17) / 2 = 14.
	 */
	p = W(f);
	assert_int_equal(f->st->ops->dash_funnel(f->st, &p, &fn), HUB_OK);
	assert_int_equal(fn.first, 28);
	assert_int_equal(fn.second, 21);
	assert_int_equal(fn.third, 16);
	assert_int_equal(fn.tenth, 2);
	assert_true(fn.median_days_1_2 == 11.0);
	assert_true(fn.median_days_2_3 == 14.0);
	/* nobody came for the first time in December: no medians */
	p = period(f->v.id, "2026-12-01", "2026-12-31");
	assert_int_equal(f->st->ops->dash_funnel(f->st, &p, &fn), HUB_OK);
	assert_int_equal(fn.first, 0);
	assert_true(fn.median_days_1_2 == -1 && fn.median_days_2_3 == -1);
}

static void test_cohorts(void **state)
{
	fx *f = *state;
	hub_period p = P(f);
	hub_dash_cohorts c;
	assert_int_equal(f->st->ops->dash_cohorts(f->st, &p, &c), HUB_OK);
	/*
	 * September's first-timers: M11 M12 M13 M14 M15 M16 M30 = 7; seen in October M11 M12 M14 M15
	 * M30 = 5, in November M14 M15 M30 = 3. October's: M17 M18 M19 M20 M21 M22 = 6; seen in
	 * November M18 M20 M21 = 3. November's: M23-M27 = 5. Months past 11-30: -1.
	 */
	assert_int_equal(c.ncohorts, 3);
	assert_int_equal(c.max_offset, 2);
	assert_string_equal(c.month[0], "2026-09");
	assert_string_equal(c.month[2], "2026-11");
	static const int64_t size[] = {7, 6, 5}, seen[] = {5, 3, 3, -1, -1, -1};
	for (int i = 0; i < 3; i++)
		assert_int_equal(c.size[i], size[i]);
	for (int i = 0; i < 6; i++)
		assert_int_equal(c.seen[i], seen[i]);
	hub_dash_cohorts_free(&c);
	/*
	 * W: August's M01-M10 = 10; in September all but M07 and M10 = 8 (M06 by the drop-in of
	 * 09-01), in October M01-M05 = 5, in November M01-M05 = 5.
	 */
	p = W(f);
	assert_int_equal(f->st->ops->dash_cohorts(f->st, &p, &c), HUB_OK);
	assert_int_equal(c.ncohorts, 4);
	assert_int_equal(c.max_offset, 3);
	static const int64_t size_w[] = {10, 7, 6, 5}, seen_w[] = {8, 5, 5, 5, 3, -1, 3, -1, -1, -1, -1, -1};
	for (int i = 0; i < 4; i++)
		assert_int_equal(c.size[i], size_w[i]);
	for (int i = 0; i < 12; i++)
		if (c.seen[i] != seen_w[i])
			fail_msg("seen[%d] %lld, not %lld", i, (long long)c.seen[i], (long long)seen_w[i]);
	hub_dash_cohorts_free(&c);
}

/* ---- regulars, drifting, and the members behind each number ---- */

static void test_members(void **state)
{
	fx *f = *state;
	hub_period p = P(f);
	int64_t total = -1;
	names x;
	/*
	 * Drifting: 3 visits or more, last one more than 30 days before 11-30 (before 10-31): M17
	 * (10-28), M11 (10-17), M09 (09-26), M08 (09-16), M06 (09-01), M07 (08-26), newest first.
	 */
	x = list(f, p, HUB_DL_DRIFTING, NULL, 30, 0, &total);
	assert_string_equal(x.s, "M17 M11 M09 M08 M06 M07");
	assert_int_equal(total, 6);
	assert_string_equal(x.last_day, "2026-10-28");
	/* the first 2 of them, and still how many in all */
	x = list(f, p, HUB_DL_DRIFTING, NULL, 30, 2, &total);
	assert_string_equal(x.s, "M17 M11");
	assert_int_equal(total, 6);
	/* regulars: 3 visits or more and came in P: all with 3+ (M01-M09, M11, M14, M15, M17, M20, M23,
	 * M30) but M07 */
	x = list(f, p, HUB_DL_REGULARS, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M03 M04 M05 M06 M08 M09 M11 M14 M15 M17 M20 M23 M30");
	assert_int_equal(total, 15);
	assert_int_equal(x.visits, 13); /* M01: 12 events and a drop-in */
	assert_int_equal(x.referrals, 3);
	x = list(f, p, HUB_DL_VISITED, NULL, 0, 3, &total);
	assert_string_equal(x.s, "M01 M02 M03");
	assert_int_equal(total, 26);
	x = list(f, p, HUB_DL_FIRST_TIMERS, NULL, 0, 0, &total);
	assert_int_equal(total, 18);
	assert_string_equal(x.s, "M11 M12 M13 M14 M15 M16 M17 M18 M19 M20 M21 M22 M23 M24 M25 M26 M27 M30");
	x = list(f, p, HUB_DL_RETURNING, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M03 M04 M05 M06 M08 M09");
	/* the funnel's 3rd visit */
	x = list(f, p, HUB_DL_REACHED, NULL, 3, 0, &total);
	assert_string_equal(x.s, "M11 M14 M15 M17 M20 M23 M30");
	hub_period w = W(f);
	x = list(f, w, HUB_DL_REACHED, NULL, 10, 0, &total);
	assert_string_equal(x.s, "M01 M02");
	/* September's cohort, and who of it came in October (1 month on), November (2) */
	x = list(f, p, HUB_DL_COHORT, "2026-09", 0, 0, &total);
	assert_string_equal(x.s, "M11 M12 M13 M14 M15 M16 M30");
	x = list(f, p, HUB_DL_COHORT, "2026-09", 1, 0, &total);
	assert_string_equal(x.s, "M11 M12 M14 M15 M30");
	x = list(f, p, HUB_DL_COHORT, "2026-09", 2, 0, &total);
	assert_string_equal(x.s, "M14 M15 M30");
	/* E4: M05 once (M29's check-in is a second one of M05's), with M05's whole record */
	x = list(f, p, HUB_DL_EVENT, f->ev[4], 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M04 M05 M08 M09 M11 M12 M30");
	/* the week of 11-16: E11's nine (M01's drop-in on 11-20 is M01 again) */
	x = list(f, p, HUB_DL_WEEK, "2026-11-16", 0, 0, &total);
	assert_string_equal(x.s, "M01 M03 M05 M14 M20 M23 M25 M26 M30");
	/* the week of 08-31 within P: 09-01..09-06, E4's nine and M06 */
	x = list(f, p, HUB_DL_WEEK, "2026-08-31", 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M04 M05 M06 M08 M09 M11 M12 M30");
	/* brought by M01 */
	x = list(f, p, HUB_DL_REFERRED_BY, f->uid[1], 0, 0, &total);
	assert_string_equal(x.s, "M11 M12 M17");
	/* current gold members: M01-M05 and M28 (M29 is merged) */
	x = list(f, p, HUB_DL_TIER, "gold", 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M03 M04 M05 M28");
	/* memberships whose last day is within 30 days from 11-30 (11-30..12-29): M03 12-15, M12 11-30;
	 * not M04 (12-30), not M29 (merged) */
	x = list(f, p, HUB_DL_EXPIRING, NULL, 30, 0, &total);
	assert_string_equal(x.s, "M03 M12");
	/* came in P after their membership ended: M14 (10-31; came 11-07..), M30 (09-30; came 10-17,
	 * 11-18); not M07 (10-10; last came 08-26), not M12 (its last day is 11-30) */
	x = list(f, p, HUB_DL_EXPIRED_COMING, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M14 M30");
	/* a member's row: M05 has E1, E4, E9 and M29's E11; brought M27 (M29's referral) */
	hub_period d = period(f->v.id, "2026-11-18", "2026-11-18");
	x = list(f, d, HUB_DL_VISITED, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M01 M03 M05 M14 M20 M23 M25 M26 M30");
	d = period(f->v.id, "2026-10-28", "2026-10-28");
	/* E9 (10-28): M01 M02 M03 M05 M14 M17 M20 came before; M21 M22 first */
	x = list(f, d, HUB_DL_RETURNING, NULL, 0, 1, &total);
	assert_string_equal(x.s, "M01");
	assert_int_equal(total, 7);
	d = period(f->v.id, "2026-08-05", "2026-08-05");
	x = list(f, d, HUB_DL_FIRST_TIMERS, NULL, 0, 0, &total); /* E1: M01 M02 M03 M05 M06 M07 M10 */
	assert_string_equal(x.s, "M01 M02 M03 M05 M06 M07 M10");
	x = list(f, w, HUB_DL_EVENT, f->ev[9], 0, 0, &total);
	assert_string_equal(x.s, "M01 M02 M03 M05 M14 M17 M20 M21 M22");
	names m5 = list(f, w, HUB_DL_REFERRED_BY, f->uid[10], 0, 0, &total);
	assert_string_equal(m5.s, "M05");
	assert_int_equal(m5.visits, 4);
	assert_string_equal(m5.first_day, "2026-08-05");
	assert_string_equal(m5.last_day, "2026-11-18");
	assert_int_equal(m5.referrals, 1);
	assert_string_equal(m5.tier, "gold");
	assert_string_equal(m5.code, "C05");
	/* refused: a list without what it is of, a month that is not one, a day that is no Monday */
	assert_int_equal(f->st->ops->dash_members(f->st, &p, HUB_DL_EVENT, NULL, 0, 0, &total, take_name, &x),
			 HUB_INVALID);
	assert_int_equal(f->st->ops->dash_members(f->st, &p, HUB_DL_COHORT, "2026-13", 0, 0, &total, take_name, &x),
			 HUB_INVALID);
	assert_int_equal(f->st->ops->dash_members(f->st, &p, HUB_DL_WEEK, "2026-11-17", 0, 0, &total, take_name, &x),
			 HUB_INVALID);
}

/* ---- referrals ---- */

typedef struct refrows {
	char s[600];
	fx *f;
} refrows;

static int take_referrer(const hub_dash_referrer *r, void *ctx)
{
	refrows *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s:%lld/%lld/%lld", k ? " " : "", r->name, (long long)r->brought,
		 (long long)r->brought_all, (long long)r->invites_followed);
	return 0;
}

static int take_referral(const hub_dash_referral *r, void *ctx)
{
	refrows *x = ctx;
	int by = 0;
	for (int m = 1; m <= 30; m++)
		if (strcmp(x->f->uid[m], r->referrer_uid) == 0)
			by = m;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%d:%s<M%02d@%s/%s", k ? " " : "", r->depth, r->member_name, by,
		 r->day, r->via);
	return 0;
}

static void test_referrals(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_period p = P(f);
	refrows x = {"", f};
	assert_int_equal(st->ops->dash_referrers(st, &p, 0, take_referrer, &x), HUB_OK);
	/*
	 * brought in P / ever / invites followed in P (redirects with their code):
	 *   M01 3 (M11, M12 on 09-05, M17 10-07) / 3 / 3 (C01 twice on 09-10, once on 11-12)
	 *   M11 2 (M20, M23) / 2 / 1 (C11 on 11-12; its 11-21 one found no group)
	 *   M03 1 (M14) / 1 / 0 (C03's on 08-10 is before P)
	 *   M05 1 (M27: M29's, merged) / 1 / 0;  M10 1 (M29 on 09-05, so M05) / 1 / 0;  M20 1 (M25) / 1 / 0
	 *   M06 0 / 0 / 2 (C06 twice on 11-02)
	 * most in P first, ties by name; ZZZ is nobody's code.
	 */
	assert_string_equal(x.s, "M01:3/3/3 M11:2/2/1 M03:1/1/0 M05:1/1/0 M10:1/1/0 M20:1/1/0 M06:0/0/2");
	/* at most 2 */
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->dash_referrers(st, &p, 2, take_referrer, &x), HUB_OK);
	assert_string_equal(x.s, "M01:3/3/3 M11:2/2/1");
	/* August: nobody brought anyone then; by name; C03 followed once on 08-10 (C01's 08-25 one
	 * missed) */
	memset(&x, 0, sizeof x);
	p = period(f->v.id, "2026-08-01", "2026-08-31");
	assert_int_equal(st->ops->dash_referrers(st, &p, 0, take_referrer, &x), HUB_OK);
	assert_string_equal(x.s, "M01:0/3/0 M03:0/1/1 M05:0/1/0 M10:0/1/0 M11:0/2/0 M20:0/1/0");

	/*
	 * The tree from M01, depth first, each one's own brought ones before the next (by day):
	 * M11 (09-05) -> M20 (10-17) -> M25 (11-18); M11 -> M23 (11-07); M12 (09-05, added after
	 * M11); M17 (10-07).
	 */
	memset(&x, 0, sizeof x);
	x.f = f;
	assert_int_equal(st->ops->dash_referral_tree(st, f->uid[1], 0, take_referral, &x), HUB_OK);
	assert_string_equal(x.s, "1:M11<M01@2026-09-05/signup 2:M20<M11@2026-10-17/signup 3:M25<M20@2026-11-18/console "
				 "2:M23<M11@2026-11-07/signup 1:M12<M01@2026-09-05/console 1:M17<M01@2026-10-07/signup");
	memset(&x, 0, sizeof x);
	x.f = f;
	assert_int_equal(st->ops->dash_referral_tree(st, f->uid[1], 1, take_referral, &x), HUB_OK);
	assert_string_equal(x.s, "1:M11<M01@2026-09-05/signup 1:M12<M01@2026-09-05/console 1:M17<M01@2026-10-07/signup");
	/* from M10: M05 (M29's referral, merged), and whom M29 brought: M27; asked by M29's uid, M05's */
	memset(&x, 0, sizeof x);
	x.f = f;
	assert_int_equal(st->ops->dash_referral_tree(st, f->uid[10], 0, take_referral, &x), HUB_OK);
	assert_string_equal(x.s, "1:M05<M10@2026-09-05/console 2:M27<M05@2026-11-28/signup");
	memset(&x, 0, sizeof x);
	x.f = f;
	assert_int_equal(st->ops->dash_referral_tree(st, f->uid[29], 0, take_referral, &x), HUB_OK);
	assert_string_equal(x.s, "1:M27<M05@2026-11-28/signup");

	/* who brought whom, one member at a time: M20 by M11 on 10-17; M05 by M10 (M29's, merged into M05);
	 * M01 by nobody */
	char by[HUB_ID_MAX + 16];
	by[0] = 0;
	assert_int_equal(st->ops->referral_of(st, f->uid[20], take_brought_by, by), HUB_OK);
	assert_string_equal(by, "2026-10-17");
	assert_string_equal(by + 11, f->uid[11]);
	by[0] = 0;
	assert_int_equal(st->ops->referral_of(st, f->uid[5], take_brought_by, by), HUB_OK);
	assert_string_equal(by + 11, f->uid[10]);
	by[0] = 0;
	assert_int_equal(st->ops->referral_of(st, f->uid[1], take_brought_by, by), HUB_OK);
	assert_string_equal(by, "");

	/* credited once; never to oneself; no loop; one venue; a known way; known members */
	assert_int_equal(st->ops->referral_add(st, f->uid[11], f->uid[2], "console", at(9, 6, 0, 0)), HUB_EXISTS);
	assert_int_equal(st->ops->referral_add(st, f->uid[2], f->uid[2], "console", at(9, 6, 0, 0)), HUB_INVALID);
	assert_int_equal(st->ops->referral_add(st, f->uid[1], f->uid[25], "console", at(9, 6, 0, 0)), HUB_INVALID);
	assert_int_equal(st->ops->referral_add(st, f->uid[2], f->uid[29], "console", at(9, 6, 0, 0)), HUB_INVALID);
	assert_int_equal(st->ops->referral_add(st, f->uid[2], f->uid[3], "magic", at(9, 6, 0, 0)), HUB_INVALID);
	assert_int_equal(st->ops->referral_add(st, f->uid[2], "ffffffffffffffffffffffffffffffff", "console",
					       at(9, 6, 0, 0)),
			 HUB_NOT_FOUND);
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM referrals", NULL), 9);
}

/* ---- live codes and groups ---- */

typedef struct liverows {
	char s[600];
} liverows;

static int take_redirects(const hub_dash_redirects *r, void *ctx)
{
	liverows *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s %s %lld/%lld/%lld", k ? ", " : "", r->day,
		 strcmp(r->slug, "grp2") == 0 ? "grp2" : "S", (long long)r->redirects, (long long)r->missed,
		 (long long)r->with_ref);
	return 0;
}

static int take_link(const hub_dash_link *l, void *ctx)
{
	liverows *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s %lld%s%s", k ? ", " : "", l->label, (long long)l->redirects,
		 l->full ? " full" : "", l->expired_while_live ? " expired-while-live" : "");
	return 0;
}

static void test_live(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_period p = P(f);
	liverows x = {""};
	assert_int_equal(st->ops->dash_redirects(st, &p, take_redirects, &x), HUB_OK);
	/*
	 * In P, per day: 09-10 three redirects (L1 twice, L2), two with a ref (C01); 11-02 two, both
	 * C06; 11-12 four (L3), three with a ref (ZZZ, C01, C11); 11-21 two misses (no link valid).
	 * The unknown slug counted nothing.
	 */
	assert_string_equal(x.s, "2026-09-10 S 3/0/2, 2026-11-02 S 2/0/2, 2026-11-12 S 4/0/3, 2026-11-21 S 0/2/0");
	memset(&x, 0, sizeof x);
	hub_period w = W(f);
	assert_int_equal(st->ops->dash_redirects(st, &w, take_redirects, &x), HUB_OK);
	assert_string_equal(x.s, "2026-08-10 S 1/0/1, 2026-08-15 grp2 1/0/0, 2026-08-25 grp2 0/1/0, "
				 "2026-09-10 S 3/0/2, 2026-11-02 S 2/0/2, 2026-11-12 S 4/0/3, 2026-11-21 S 0/2/0");
	/*
	 * Links: L1 is full (3 of 3). L2 ended 11-10 while S led to it (L1 full); L3 ended 11-20 while
	 * S led to it (L1 full, L2 ended). L4 ended 11-15, but S led to L3 then: not listed. L5 (grp2)
	 * ended 08-20 while live, before P: listed in W only.
	 */
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->dash_links(st, &p, take_link, &x), HUB_OK);
	assert_string_equal(x.s, "L1 3 full, L2 3 expired-while-live, L3 4 expired-while-live");
	memset(&x, 0, sizeof x);
	assert_int_equal(st->ops->dash_links(st, &w, take_link, &x), HUB_OK);
	assert_string_equal(x.s, "L1 3 full, L2 3 expired-while-live, L3 4 expired-while-live, "
				 "L5 1 expired-while-live");
}

typedef struct tierrows {
	char s[200];
} tierrows;

static int take_tier(const hub_dash_tier *t, void *ctx)
{
	tierrows *x = ctx;
	size_t k = strlen(x->s);
	snprintf(x->s + k, sizeof x->s - k, "%s%s=%lld", k ? " " : "", t->tier[0] ? t->tier : "-",
		 (long long)t->members);
	return 0;
}

static void test_groups_tiers(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_period p = P(f);
	hub_dash_groups g;
	assert_int_equal(st->ops->dash_groups(st, &p, &g), HUB_OK);
	/* P's 18 first visits; with the join QR shown: M11 (E4), M13 (E5), M17 (E7), M20 (E8), M23
	 * (E10), M25 (E11) = 6; not M16 (its shown E5 was undone; its first visit is E6), not M01's
	 * E5 (not a first visit), not M07's E1 (before P) */
	assert_int_equal(g.first_timers, 18);
	assert_int_equal(g.first_timers_shown_qr, 6);
	hub_period w = W(f);
	assert_int_equal(st->ops->dash_groups(st, &w, &g), HUB_OK);
	assert_int_equal(g.first_timers, 28);
	assert_int_equal(g.first_timers_shown_qr, 7); /* and M07 */

	tierrows x = {""};
	hub_dash_tiers t;
	assert_int_equal(st->ops->dash_tiers(st, &p, take_tier, &x, &t), HUB_OK);
	/* current members: none M11-M27 = 17; gold M01-M05, M28 = 6; standard M06-M10, M30 = 6
	 * (M29 merged); expiring M03 and M12; ended and still coming M14 and M30 */
	assert_string_equal(x.s, "-=17 gold=6 standard=6");
	assert_int_equal(t.expiring, 2);
	assert_int_equal(t.expired_coming, 2);
	/* on 10-15 (a period of that day): ending by 11-13: M07 10-10? no, ended; M14 10-31 -> 1;
	 * nobody came that day */
	p = period(f->v.id, "2026-10-15", "2026-10-15");
	assert_int_equal(st->ops->dash_tiers(st, &p, NULL, NULL, &t), HUB_OK);
	assert_int_equal(t.expiring, 1);
	assert_int_equal(t.expired_coming, 0);
}

/* ---- the summaries follow changes ---- */

static void attendance(fx *f, hub_period p, hub_dash_attendance *a)
{
	assert_int_equal(f->st->ops->dash_attendance(f->st, &p, a), HUB_OK);
	free(a->weeks);
	a->weeks = NULL;
}

static void test_refresh_follows(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	hub_period p = P(f);
	hub_dash_attendance a;
	evrows ev;
	int64_t total;

	/* M10 comes again, to E12: nothing moves until the refresh */
	ck c = {10, 12, at(11, 28, 19, 50), 0};
	char ids[1][HUB_ID_MAX];
	push(f, &f->v, DEV_A, &c, 1, NULL, 0, ids);
	attendance(f, p, &a);
	assert_int_equal(a.members, 26);
	assert_int_equal(st->ops->dash_refresh(st, f->v.id), HUB_OK);
	/* 26 + M10 came; M10 had come before (08-05): returning 9; visits 78; E12 11 */
	attendance(f, p, &a);
	assert_int_equal(a.visits, 78);
	assert_int_equal(a.members, 27);
	assert_int_equal(a.returning, 9);
	memset(&ev, 0, sizeof ev);
	hub_period d = period(f->v.id, "2026-11-28", "2026-11-28");
	assert_int_equal(st->ops->dash_events(st, &d, take_event, &ev), HUB_OK);
	assert_string_equal(ev.s, "E12:11/1");

	/* M27's only check-in (E12) is undone: M27 never came */
	hub_record r = {.kind = HUB_REC_REVERSAL, .checkin = f->ck[27][12], .reason = "test", .wall_ms = at(11, 28, 22, 0)};
	char rid[HUB_ID_MAX];
	next_id(f, rid);
	r.id = rid;
	push(f, &f->v, DEV_A, NULL, 0, &r, 1, NULL);
	assert_int_equal(st->ops->dash_refresh(st, NULL), HUB_OK);
	/* 27 - 1 = 26 came, first-timers 18 - 1 = 17; visits 77; E12 10 visits, no first-timer left */
	attendance(f, p, &a);
	assert_int_equal(a.visits, 77);
	assert_int_equal(a.members, 26);
	assert_int_equal(a.first_timers, 17);
	memset(&ev, 0, sizeof ev);
	assert_int_equal(st->ops->dash_events(st, &d, take_event, &ev), HUB_OK);
	assert_string_equal(ev.s, "E12:10/0");
	hub_dash_cohorts co;
	assert_int_equal(st->ops->dash_cohorts(st, &p, &co), HUB_OK);
	assert_int_equal(co.size[2], 4); /* November: M23 M24 M25 M26 */
	hub_dash_cohorts_free(&co);

	/* M26 (E11) is M24 (E10, E12): M24 now 11-07, 11-18, 11-28 */
	assert_int_equal(st->ops->member_merge(st, f->uid[24], f->uid[26], at(11, 29, 13, 0)), HUB_OK);
	assert_int_equal(st->ops->dash_refresh(st, NULL), HUB_OK);
	/*
	 * First-timers 17 - 1 (M26) = 16; 25 came; visits still 77 (M26's E11 is M24's). Funnel: a 2nd
	 * visit: the 12 of before less none (M26 had 1) = 12 - 0... M24 had one already: 12; a 3rd:
	 * 7 + M24 = 8. 1st -> 2nd: M24's is now 11 (11-07 -> 11-18), not 21: 10 10 10 11 11 11 | 11
	 * 21 31 31 32 42: 11. 2nd -> 3rd adds M24's 10: 10 10 10 10 | 11 32 32 42: (10 + 11) / 2.
	 * E11: 9 visits, first-timers M25 only.
	 */
	attendance(f, p, &a);
	assert_int_equal(a.first_timers, 16);
	assert_int_equal(a.members, 25);
	assert_int_equal(a.visits, 77);
	hub_dash_funnel fn;
	assert_int_equal(st->ops->dash_funnel(st, &p, &fn), HUB_OK);
	assert_int_equal(fn.first, 16);
	assert_int_equal(fn.second, 12);
	assert_int_equal(fn.third, 8);
	assert_true(fn.median_days_1_2 == 11.0);
	assert_true(fn.median_days_2_3 == 10.5);
	memset(&ev, 0, sizeof ev);
	d = period(f->v.id, "2026-11-18", "2026-11-18");
	assert_int_equal(st->ops->dash_events(st, &d, take_event, &ev), HUB_OK);
	assert_string_equal(ev.s, "E11:9/1");

	/* a name changed by the import, an expiry by the console: the lists follow after a refresh */
	import(f, f->v.id, "Z01", "13900000001", "C01", "gold", "");
	assert_int_equal(st->ops->member_update(st, f->uid[15], "", "2026-10-01", "C15", at(11, 30, 9, 0)), HUB_OK);
	/* before the refresh: the new name, in the old name's place */
	names x = list(f, p, HUB_DL_REGULARS, NULL, 0, 0, &total);
	assert_string_equal(x.s, "Z01 M02 M03 M04 M05 M06 M08 M09 M11 M14 M15 M17 M20 M23 M24 M30");
	assert_int_equal(st->ops->dash_refresh(st, NULL), HUB_OK);
	x = list(f, p, HUB_DL_REGULARS, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M02 M03 M04 M05 M06 M08 M09 M11 M14 M15 M17 M20 M23 M24 M30 Z01");
	/* M15's membership ended 10-01; M15 came 10-17 and 11-28 */
	x = list(f, p, HUB_DL_EXPIRED_COMING, NULL, 0, 0, &total);
	assert_string_equal(x.s, "M14 M15 M30");

	/* every mark was taken */
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM dash_dirty", NULL), 0);
}

/*
 * The summaries, kept up to date evening by evening (a visit added to what
 * was summed up before, M01's late drop-in and the marked changes recounted
 * whole), are the ones a recount from nothing makes.
 */
static void test_recount_agrees(void **state)
{
	fx *f = *state;
	char before[8192], after[8192];
	/* every summary row as text, in key order: each backend's own way of joining rows and its own columns
	 * (SQLite keeps a member's days and months as bit sets, PostgreSQL its days as a multirange) */
	const char *q = "SELECT group_concat(x, ';') FROM (SELECT member_rid || ':' || visits || ':' || first_dn || ':'"
			" || coalesce(second_dn, '') || ':' || coalesce(third_dn, '') || ':' || last_dn || ':' ||"
			" first_qr || ':' || hex(days) || ':' || hex(months) AS x FROM member_stats ORDER BY member_rid)";
	const char *qd = "SELECT group_concat(venue_id || dn || ':' || visits || '/' || first_timers || '/' || first_qr, ';')"
			 " FROM (SELECT * FROM day_stats WHERE visits > 0 OR first_timers > 0 ORDER BY venue_id, dn)";
	if (hubdb_pg()) {
		q = "SELECT string_agg(member_rid || ':' || visits || ':' || first_dn || ':' || coalesce(second_dn::text, '')"
		    " || ':' || coalesce(third_dn::text, '') || ':' || coalesce(tenth_dn::text, '') || ':' || last_dn"
		    " || ':' || last_ms || ':' || first_qr || ':' || coalesce(first_event, '') || ':' || days::text,"
		    " ';' ORDER BY member_rid) FROM member_stats";
		qd = "SELECT string_agg(venue_id || dn || ':' || visits || '/' || first_timers || '/' || first_qr, ';'"
		     " ORDER BY venue_id, dn) FROM day_stats WHERE visits > 0 OR first_timers > 0";
	}
	hubdb_text(f->path, q, NULL, before, sizeof before);
	char days_b[8192], days_a[8192];
	hubdb_text(f->path, qd, NULL, days_b, sizeof days_b);
	f->st->ops->close(f->st);
	f->st = NULL;
	/* what says the summaries are up to date, gone: the next refresh counts everything anew */
	hubdb_exec(f->path, hubdb_pg() ? "DELETE FROM meta WHERE key = 'dash_summed';"
				       : "DELETE FROM meta WHERE key = 'dash_checkin_mark';");
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	assert_non_null(f->st);
	assert_int_equal(f->st->ops->dash_refresh(f->st, NULL), HUB_OK);
	hubdb_text(f->path, q, NULL, after, sizeof after);
	hubdb_text(f->path, qd, NULL, days_a, sizeof days_a);
	assert_string_equal(before, after);
	assert_string_equal(days_b, days_a);
	assert_true(strlen(before) > 100);
}

/*
 * A file of version 3 (before the dashboard) is upgraded on opening, and its
 * first refresh sums up every check-in it held. A file whose number alone
 * was set back has the tables already: only the number moves on.
 */
static void test_upgrade_from_3(void **state)
{
	fx *f = *state;
	/* SQLite files made by older hubs: no PostgreSQL store was ever of version 3 */
	if (hubdb_pg())
		skip();
	f->st->ops->close(f->st);
	f->st = NULL;
	hubdb_exec(f->path, "DROP TABLE member_stats; DROP TABLE day_stats; DROP TABLE week_stats;"
			     " DROP TABLE event_stats; DROP TABLE dash_dirty; DROP TABLE referrals; DROP TABLE live_days;"
			     " DROP TABLE ref_days; DROP INDEX checkins_day; DROP INDEX members_tier;"
			     " DROP INDEX members_expires; DELETE FROM meta WHERE key = 'dash_checkin_mark';"
			     " PRAGMA user_version = 3;");
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	assert_int_equal(hubdb_int(f->path, "PRAGMA user_version", NULL), 6);
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM member_stats", NULL), 0);
	assert_int_equal(f->st->ops->dash_refresh(f->st, NULL), HUB_OK);
	/* as test_attendance and test_funnel worked out */
	hub_dash_attendance a;
	attendance(f, P(f), &a);
	assert_int_equal(a.visits, 77);
	assert_int_equal(a.members, 26);
	assert_int_equal(a.first_timers, 18);
	hub_dash_funnel fn;
	hub_period p = P(f);
	assert_int_equal(f->st->ops->dash_funnel(f->st, &p, &fn), HUB_OK);
	assert_int_equal(fn.third, 7);
	assert_true(fn.median_days_1_2 == 16.0);
	/* the referrals were not kept before */
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM referrals", NULL), 0);
	f->st->ops->close(f->st);
	hubdb_exec(f->path, "PRAGMA user_version = 3;");
	f->st = hub_store_open(f->path, why, sizeof why);
	assert_non_null(f->st);
	assert_int_equal(hubdb_int(f->path, "PRAGMA user_version", NULL), 6);
	/* M01-M27, M30 and the other venue's X01 */
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM member_stats", NULL), 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_attendance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_funnel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cohorts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_members, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_referrals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_groups_tiers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_follows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recount_agrees, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_from_3, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
