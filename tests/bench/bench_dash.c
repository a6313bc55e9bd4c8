/*
 * bench_dash — the dashboard's store operations on a community of 100 000
 * members, 2 000 events and 2 000 000 check-ins over two years (budget: each
 * section over the default period, 90 days, at most 100 ms at the 99th
 * percentile; the year's and the lists' figures are reported):
 *
 *   dash_OP_90d_p50_ms, dash_OP_90d_p99_ms    each operation over the last 90
 *   dash_OP_365d_p50_ms, dash_OP_365d_p99_ms  days and over the last year, RUNS
 *                                             calls each (after one to warm up)
 *   dash_members_LIST_...                     the members behind each number,
 *                                             the first 100 and the count
 *   dash_all_OP_90d_...                       an owner's view (every venue)
 *   dash_refresh_1000_ms                      dash_refresh after a push of 1000
 *                                             new check-ins (median and worst)
 *   dash_peak_rss_mib                         this process's peak memory while
 *                                             it asked all that
 *
 * The community is made through the store's own operations: members by the
 * CSV import, events and check-ins by push in batches of 5 000 (with ~1% of
 * the check-ins undone by reversal records and ~1% sent again by a second
 * door), live-code redirects with and without a member's ref by the live op,
 * referrals by referral_add, then one dash_refresh. That takes a minute or
 * two, so the file is kept in a cache next to this program
 * (bench_dash.cache-vN.db; TINGZI_BENCH_DASH_CACHE names another) and made
 * again only when missing; its making is a child process, so the peak memory
 * measured is the asking's alone. Each run works on a copy.
 */
#include "sync/hub/hub_store.h"
#include "tests/bench/bench.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GEN_VERSION 3 /* bump when the community made changes */
#define MEMBERS	    100000
#define EVENTS	    2000
#define CHECKINS    2000000
#define DAYS	    730
#define RUNS	    20
#define BATCH	    5000
#define BUDGET_MS   100.0
#define TZ	    "Asia/Shanghai"
#define TZ_OFF_MS   (8 * 3600000LL)
#define DAY_MS	    86400000LL
#define DEV_A	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* The last day of the community: 2026-11-30, as days since 1970-01-01. */
#define END_DN 20787
#define START_DN (END_DN - DAYS + 1)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_dash: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* xorshift64*: the same community every time */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}
static double unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}
static int64_t below(int64_t n)
{
	return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0;
}

static void day_text(int64_t dn, char out[11])
{
	time_t t = (time_t)(dn * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Local 00:00 of day dn in the venue's zone (a fixed +08:00), in Unix ms. */
static int64_t local_ms(int64_t dn, int64_t minutes)
{
	return dn * DAY_MS - TZ_OFF_MS + minutes * 60000;
}

/* ---- making the community ---- */

typedef struct visit {
	int64_t ms;
	int32_t member;
	int16_t event; /* -1: a drop-in */
	uint8_t flags, dup, rev;
} visit;

static int by_time(const void *a, const void *b)
{
	const visit *x = a, *y = b;
	return x->ms < y->ms ? -1 : x->ms > y->ms ? 1 : x->member - y->member;
}

typedef struct world {
	hub_store *st;
	hub_venue v;
	char (*uid)[HUB_ID_MAX]; /* by member index */
	char (*code)[16];
	char (*ev)[HUB_ID_MAX];
	int64_t *ev_start;
	int64_t *join_ms; /* a member's first check-in, for referrals */
} world;

static int take_uid(const hub_member *m, void *ctx)
{
	world *w = ctx;
	int i = atoi(m->code + 1);
	if (i >= 0 && i < MEMBERS)
		snprintf(w->uid[i], HUB_ID_MAX, "%s", m->uid);
	return 0;
}

static void push_or_die(world *w, const char *dev, hub_batch *b, int64_t now)
{
	hub_push_stats stats;
	for (size_t i = 0; i < b->ncheckins + b->nrecords; i++)
		b->results[i].status = HUB_RES_NONE;
	hub_err e = w->st->ops->push(w->st, &w->v, dev, 0, now, b, &stats);
	if (e != HUB_OK)
		die("push: %s", hub_store_errmsg(w->st));
	if (stats.rejected)
		die("push: %zu rejected", stats.rejected);
}

static void make_members(world *w)
{
	hub_store *st = w->st;
	if (st->ops->members_begin(st, w->v.id) != HUB_OK)
		die("members_begin: %s", hub_store_errmsg(st));
	static const char *const tiers[] = {"", "", "", "", "", "", "standard", "standard", "gold", "student"};
	for (int i = 0; i < MEMBERS; i++) {
		store_member m;
		memset(&m, 0, sizeof m);
		snprintf(m.name, sizeof m.name, "会员%06d", (int)below(1000000));
		snprintf(m.phone, sizeof m.phone, "139%08d", i);
		snprintf(m.code, sizeof m.code, "M%06d", i);
		snprintf(w->code[i], sizeof w->code[i], "M%06d", i);
		snprintf(m.tier, sizeof m.tier, "%s", tiers[below(10)]);
		if (unit() < 0.4)
			day_text(START_DN + below(DAYS + 180), m.expires);
		int how;
		char why[200];
		if (st->ops->members_row(st, &m, &how, why, sizeof why, local_ms(START_DN, 0)) != 0)
			die("members_row: %s", why);
	}
	if (st->ops->members_commit(st) != HUB_OK)
		die("members_commit: %s", hub_store_errmsg(st));
	if (st->ops->members_each(st, w->v.id, take_uid, w) != HUB_OK)
		die("members_each: %s", hub_store_errmsg(st));
}

static void make_events(world *w)
{
	hub_record *r = calloc(EVENTS, sizeof *r);
	hub_result *res = calloc(EVENTS, sizeof *res);
	char(*title)[32] = calloc(EVENTS, sizeof *title);
	for (int i = 0; i < EVENTS; i++) {
		snprintf(w->ev[i], HUB_ID_MAX, "e%031x", i + 1);
		snprintf(title[i], sizeof title[i], "活动 %d", i + 1);
		int64_t dn = START_DN + (int64_t)i * DAYS / EVENTS;
		w->ev_start[i] = local_ms(dn, 19 * 60);
		r[i] = (hub_record){.kind = HUB_REC_EVENT, .id = w->ev[i], .title = title[i],
				    .start_ms = w->ev_start[i], .end_ms = w->ev_start[i] + 3 * 3600000LL};
		res[i].id = w->ev[i];
	}
	hub_batch b = {.records = r, .nrecords = EVENTS, .results = res};
	push_or_die(w, DEV_A, &b, local_ms(START_DN, 0));
	free(r);
	free(res);
	free(title);
}

/* Each member's visits: joined on a day (more of them lately), came for a while, then some
 * stopped; how often is heavy-tailed (many once, a few nearly every event). */
static visit *make_visits(world *w, size_t *nout)
{
	int32_t *join = malloc(MEMBERS * sizeof *join), *stop = malloc(MEMBERS * sizeof *stop);
	double *weight = malloc(MEMBERS * sizeof *weight);
	int32_t *avail = malloc(MEMBERS * sizeof *avail), *first_ev = malloc(MEMBERS * sizeof *first_ev);
	for (int i = 0; i < MEMBERS; i++) {
		join[i] = (int32_t)(START_DN + (int64_t)(DAYS * sqrt(unit())));
		double span = -log(1 - unit() * 0.999) * 300;
		stop[i] = (int32_t)(join[i] + (int64_t)span > END_DN ? END_DN : join[i] + (int64_t)span);
		weight[i] = 1.0 / pow(1 - unit() * 0.9999, 1 / 1.3); /* Pareto, alpha 1.3 */
		int64_t e0 = ((int64_t)(join[i] - START_DN) * EVENTS + DAYS - 1) / DAYS;
		int64_t e1 = ((int64_t)(stop[i] - START_DN + 1) * EVENTS + DAYS - 1) / DAYS; /* past the last */
		first_ev[i] = (int32_t)(e0 < EVENTS ? e0 : EVENTS);
		avail[i] = (int32_t)((e1 > EVENTS ? EVENTS : e1) - first_ev[i]);
		if (avail[i] < 0)
			avail[i] = 0;
	}
	/* a scale that makes 1 980 000 visits (the other 1% of the rows are second doors) */
	double lo = 0, hi = 1000;
	for (int it = 0; it < 60; it++) {
		double k = (lo + hi) / 2;
		int64_t sum = 0;
		for (int i = 0; i < MEMBERS; i++) {
			int64_t v = (int64_t)(k * weight[i]);
			sum += v < 1 ? 1 : v > avail[i] + 20 ? avail[i] + 20 : v;
		}
		if (sum < CHECKINS)
			lo = k;
		else
			hi = k;
	}
	size_t cap = CHECKINS + 100000, nv = 0;
	visit *v = malloc(cap * sizeof *v);
	unsigned char *taken = malloc(EVENTS + DAYS);
	for (int i = 0; i < MEMBERS; i++) {
		int64_t want = (int64_t)(lo * weight[i]);
		want = want < 1 ? 1 : want > avail[i] + 20 ? avail[i] + 20 : want;
		memset(taken, 0, EVENTS + DAYS);
		int64_t got = 0;
		/* events (Floyd's sample of distinct ones in the member's time), a few drop-ins */
		int64_t drop = want >= 2 && unit() < 0.3 ? 1 + below(want / 10 + 1) : 0;
		int64_t nev = want - drop > avail[i] ? avail[i] : want - drop;
		for (int64_t j = avail[i] - nev; j < avail[i]; j++) {
			int64_t t = below(j + 1);
			int64_t e = first_ev[i] + (taken[first_ev[i] + t] ? j : t);
			taken[e] = 1;
		}
		for (int e = 0; e < EVENTS && got < nev; e++) {
			if (!taken[e])
				continue;
			got++;
			v[nv++] = (visit){.ms = w->ev_start[e] + below(90) * 60000 + below(60000),
					  .member = i, .event = (int16_t)e};
		}
		for (int64_t k = nev; k < want; k++) {
			int64_t dn = join[i] + below(stop[i] - join[i] + 1);
			if (taken[EVENTS + dn - START_DN])
				continue;
			taken[EVENTS + dn - START_DN] = 1;
			v[nv++] = (visit){.ms = local_ms(dn, 10 * 60 + below(11 * 60)), .member = i, .event = -1};
		}
	}
	qsort(v, nv, sizeof *v, by_time);
	/* first visits show the join QR more often than later ones; 1% undone, 1% at a second door */
	unsigned char *seen = calloc(MEMBERS, 1);
	for (size_t j = 0; j < nv; j++) {
		int first = !seen[v[j].member];
		seen[v[j].member] = 1;
		v[j].flags = unit() < (first ? 0.4 : 0.05) ? 2 : 0;
		v[j].rev = unit() < 0.01;
		v[j].dup = !v[j].rev && unit() < 0.0101;
		if (first)
			w->join_ms[v[j].member] = v[j].ms;
	}
	free(seen);
	free(taken);
	free(join);
	free(stop);
	free(weight);
	free(avail);
	free(first_ev);
	*nout = nv;
	return v;
}

/* The visits, in time order, by push: batches from door A with their reversals; door B's
 * second check-ins after each batch. */
static double push_visits(world *w, const visit *v, size_t nv, size_t *rows)
{
	hub_checkin *c = calloc(BATCH, sizeof *c), *d = calloc(BATCH, sizeof *d);
	hub_record *r = calloc(BATCH, sizeof *r);
	hub_result *res = calloc(2 * BATCH, sizeof *res), *dres = calloc(BATCH, sizeof *dres);
	char(*ids)[HUB_ID_MAX] = calloc(BATCH, sizeof *ids), (*dids)[HUB_ID_MAX] = calloc(BATCH, sizeof *dids);
	char(*rids)[HUB_ID_MAX] = calloc(BATCH, sizeof *rids);
	int64_t seq_a = 0, seq_b = 0, nrow = 0;
	double t0 = now_ms();
	for (size_t at = 0; at < nv; at += BATCH) {
		size_t n = nv - at < BATCH ? nv - at : BATCH, nr = 0, nd = 0;
		int64_t now = 0;
		for (size_t i = 0; i < n; i++) {
			const visit *x = &v[at + i];
			snprintf(ids[i], HUB_ID_MAX, "a%031llx", (unsigned long long)++seq_a);
			c[i] = (hub_checkin){.id = ids[i], .member = w->uid[x->member],
					     .event = x->event >= 0 ? w->ev[x->event] : NULL, .method = "scan",
					     .boot = "boot-a", .kiosk_day = "", .wall_ms = x->ms, .mono_ms = x->ms,
					     .seq = seq_a, .visit = 1, .flags = x->flags};
			res[i].id = ids[i];
			now = x->ms > now ? x->ms : now;
			if (x->rev) {
				snprintf(rids[nr], HUB_ID_MAX, "r%031llx", (unsigned long long)seq_a);
				r[nr] = (hub_record){.kind = HUB_REC_REVERSAL, .id = rids[nr], .checkin = ids[i],
						     .reason = "mistake", .wall_ms = x->ms + 20000};
				nr++;
			}
			if (x->dup) {
				snprintf(dids[nd], HUB_ID_MAX, "b%031llx", (unsigned long long)++seq_b);
				d[nd] = c[i];
				d[nd].id = dids[nd];
				d[nd].boot = "boot-b";
				d[nd].wall_ms = d[nd].mono_ms = x->ms + 30000;
				d[nd].seq = seq_b;
				dres[nd].id = dids[nd];
				nd++;
			}
		}
		for (size_t i = 0; i < nr; i++)
			res[n + i].id = rids[i];
		hub_batch b = {.checkins = c, .ncheckins = n, .records = r, .nrecords = nr, .results = res};
		push_or_die(w, DEV_A, &b, now + 60000);
		if (nd) {
			hub_batch bd = {.checkins = d, .ncheckins = nd, .results = dres};
			push_or_die(w, DEV_B, &bd, now + 90000);
		}
		nrow += (int64_t)(n + nd);
	}
	double secs = (now_ms() - t0) / 1000;
	free(c);
	free(d);
	free(r);
	free(res);
	free(dres);
	free(ids);
	free(dids);
	free(rids);
	*rows = (size_t)nrow;
	return secs;
}

/* Links under the venue's live code, one every 24 days (30 days long, some capped), and people
 * following the code through the two years, most with a member's ref. */
static void make_live(world *w)
{
	hub_store *st = w->st;
	int nlinks = 0;
	char url[HUB_URL_MAX], lu[HUB_ID_MAX];
	for (int64_t dn = START_DN; dn <= END_DN; dn++) {
		if ((dn - START_DN) % 24 == 0) {
			char label[32], target[64];
			snprintf(label, sizeof label, "群 %d", ++nlinks);
			snprintf(target, sizeof target, "https://chat.example/g/%d", nlinks);
			hub_link_new l = {.venue_id = w->v.id, .platform = "wechat", .label = label, .url = target,
					  .slug = w->v.slug, .expires_ms = local_ms(dn + 30, 0),
					  .cap = nlinks % 3 == 0 ? 60 : 0};
			if (st->ops->link_add(st, &l, local_ms(dn, 9 * 60), lu) != HUB_OK)
				die("link_add: %s", hub_store_errmsg(st));
		}
		for (int k = 0; k < 4; k++) {
			int64_t m = below(MEMBERS);
			const char *ref = unit() < 0.6 ? w->code[m] : NULL;
			hub_err e = st->ops->live(st, w->v.slug, ref, local_ms(dn, 12 * 60 + k * 90), url);
			if (e != HUB_OK && e != HUB_INVALID)
				die("live: %s", hub_store_errmsg(st));
		}
	}
}

static void make_referrals(world *w)
{
	static const char *const via[] = {"signup", "console", "visit"};
	int made = 0;
	for (int k = 0; k < 6000; k++) {
		int64_t a = below(MEMBERS), b = below(MEMBERS);
		if (!w->join_ms[a] || !w->join_ms[b] || w->join_ms[b] >= w->join_ms[a])
			continue;
		hub_err e = w->st->ops->referral_add(w->st, w->uid[a], w->uid[b], via[k % 3], w->join_ms[a]);
		if (e == HUB_OK)
			made++;
		else if (e != HUB_EXISTS && e != HUB_INVALID)
			die("referral_add: %s", hub_store_errmsg(w->st));
	}
	printf("made %d referrals\n", made);
}

static void make_community(const char *path)
{
	char why[256];
	unlink(path);
	world w = {0};
	if (!(w.st = hub_store_open(path, why, sizeof why)))
		die("%s", why);
	w.uid = calloc(MEMBERS, sizeof *w.uid);
	w.code = calloc(MEMBERS, sizeof *w.code);
	w.ev = calloc(EVENTS, sizeof *w.ev);
	w.ev_start = calloc(EVENTS, sizeof *w.ev_start);
	w.join_ms = calloc(MEMBERS, sizeof *w.join_ms);
	if (w.st->ops->venue_add(w.st, "Bench", TZ, local_ms(START_DN - 1, 0), &w.v) != HUB_OK)
		die("venue_add: %s", hub_store_errmsg(w.st));
	double t0 = now_ms();
	make_members(&w);
	printf("members: %.1f s\n", (now_ms() - t0) / 1000);
	make_events(&w);
	size_t nv, rows;
	visit *v = make_visits(&w, &nv);
	double secs = push_visits(&w, v, nv, &rows);
	printf("BENCH dash_build_push_checkins_per_s %.0f /s (%zu check-in rows by push in batches of %d, %.1f s)\n",
	       (double)rows / secs, rows, BATCH, secs);
	free(v);
	t0 = now_ms();
	make_live(&w);
	printf("live codes: %.1f s\n", (now_ms() - t0) / 1000);
	t0 = now_ms();
	make_referrals(&w);
	printf("referrals: %.1f s\n", (now_ms() - t0) / 1000);
	t0 = now_ms();
	if (w.st->ops->dash_refresh(w.st, NULL) != HUB_OK)
		die("dash_refresh: %s", hub_store_errmsg(w.st));
	printf("BENCH dash_refresh_all_s %.1f s (the first refresh: every member, day, week and event)\n",
	       (now_ms() - t0) / 1000);
	w.st->ops->close(w.st);
	free(w.uid);
	free(w.code);
	free(w.ev);
	free(w.ev_start);
	free(w.join_ms);
}

/* ---- asking ---- */

typedef struct q {
	hub_store *st;
	hub_period p;
	hub_dash_list list;
	const char *arg;
	int64_t n;
	int64_t rows;
} q;

static int count_any(const void *x, void *ctx)
{
	(void)x;
	((q *)ctx)->rows++;
	return 0;
}
#define COUNTER(T)                                                                                          \
	static int count_##T(const T *x, void *ctx)                                                         \
	{                                                                                                   \
		return count_any(x, ctx);                                                                   \
	}
COUNTER(hub_dash_event)
COUNTER(hub_dash_member)
COUNTER(hub_dash_referrer)
COUNTER(hub_dash_redirects)
COUNTER(hub_dash_link)
COUNTER(hub_dash_tier)

static hub_err op_attendance(q *x)
{
	hub_dash_attendance a;
	hub_err e = x->st->ops->dash_attendance(x->st, &x->p, &a);
	x->rows = a.members;
	free(a.weeks);
	return e;
}
static hub_err op_events(q *x)
{
	return x->st->ops->dash_events(x->st, &x->p, count_hub_dash_event, x);
}
static hub_err op_funnel(q *x)
{
	hub_dash_funnel f;
	hub_err e = x->st->ops->dash_funnel(x->st, &x->p, &f);
	x->rows = f.first;
	return e;
}
static hub_err op_cohorts(q *x)
{
	hub_dash_cohorts c;
	hub_err e = x->st->ops->dash_cohorts(x->st, &x->p, &c);
	x->rows = (int64_t)c.ncohorts;
	hub_dash_cohorts_free(&c);
	return e;
}
static hub_err op_referrers(q *x)
{
	return x->st->ops->dash_referrers(x->st, &x->p, 20, count_hub_dash_referrer, x);
}
static hub_err op_redirects(q *x)
{
	return x->st->ops->dash_redirects(x->st, &x->p, count_hub_dash_redirects, x);
}
static hub_err op_links(q *x)
{
	return x->st->ops->dash_links(x->st, &x->p, count_hub_dash_link, x);
}
static hub_err op_groups(q *x)
{
	hub_dash_groups g;
	hub_err e = x->st->ops->dash_groups(x->st, &x->p, &g);
	x->rows = g.first_timers;
	return e;
}
static hub_err op_tiers(q *x)
{
	hub_dash_tiers t;
	return x->st->ops->dash_tiers(x->st, &x->p, count_hub_dash_tier, x, &t);
}
static hub_err op_members(q *x)
{
	int64_t total = 0;
	hub_err e = x->st->ops->dash_members(x->st, &x->p, x->list, x->arg, x->n, 100, &total, count_hub_dash_member, x);
	x->rows = total;
	return e;
}

/*
 * Time RUNS calls of op (one more first, to warm up) and print their p50 and
 * p99. Held against the budget only when budgeted (a dashboard section over
 * the default period); the machine is shared, so a round past its budget is
 * timed again, up to ROUNDS rounds, and the best round counts, as the other
 * benchmarks do.
 */
#define ROUNDS_TIMED 3
static void timed(const char *name, const char *span, hub_err (*op)(q *), q *x, int budgeted)
{
	double best50 = 0, best99 = -1;
	for (int round = 0; round < ROUNDS_TIMED; round++) {
		double t[RUNS];
		for (int i = -1; i < RUNS; i++) {
			x->rows = 0;
			double t0 = now_ms();
			if (op(x) != HUB_OK)
				die("%s: %s", name, hub_store_errmsg(x->st));
			if (i >= 0)
				t[i] = now_ms() - t0;
		}
		double p50 = pct(t, RUNS, 50), p99 = pct(t, RUNS, 99);
		if (best99 < 0 || p99 < best99)
			best50 = p50, best99 = p99;
		if (!budgeted || best99 <= BUDGET_MS)
			break;
	}
	char fig[128];
	printf("BENCH dash_%s_%s_p50_ms %.2f ms\n", name, span, best50);
	printf("BENCH dash_%s_%s_p99_ms %.2f ms (%d calls; %lld rows or members)\n", name, span, best99, RUNS,
	       (long long)x->rows);
	snprintf(fig, sizeof fig, "dash_%s_%s_p99_ms", name, span);
	if (budgeted)
		bench_budget(fig, best99, 1, BUDGET_MS);
}

typedef struct first_of {
	char uid[HUB_ID_MAX];
} first_of;

static int take_event(const hub_dash_event *e, void *ctx)
{
	snprintf(((first_of *)ctx)->uid, HUB_ID_MAX, "%s", e->uid);
	return 1;
}

static int take_referrer(const hub_dash_referrer *r, void *ctx)
{
	snprintf(((first_of *)ctx)->uid, HUB_ID_MAX, "%s", r->uid);
	return 1;
}

static void ask_all(hub_store *st, const char *venue, const char *span, int64_t days, int lists)
{
	q x = {.st = st};
	x.p.venue_id = venue;
	day_text(END_DN - days + 1, x.p.from);
	day_text(END_DN, x.p.to);
	static const struct {
		const char *name;
		hub_err (*op)(q *);
	} ops[] = {
	    {"attendance", op_attendance}, {"events", op_events},	{"funnel", op_funnel},
	    {"cohorts", op_cohorts},	   {"referrers", op_referrers}, {"redirects", op_redirects},
	    {"links", op_links},	   {"groups", op_groups},	{"tiers", op_tiers},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		timed(ops[i].name, span, ops[i].op, &x, days <= 90); /* the budget: the default period's sections */
	if (!lists)
		return;
	first_of ev = {""}, ref = {""};
	st->ops->dash_events(st, &x.p, take_event, &ev);
	st->ops->dash_referrers(st, &x.p, 1, take_referrer, &ref);
	char month[8], monday[11];
	snprintf(month, sizeof month, "%.7s", x.p.from);
	int64_t mon = END_DN - 20;
	mon -= ((mon + 3) % 7 + 7) % 7;
	day_text(mon, monday);
	static const struct {
		const char *name;
		hub_dash_list list;
		int64_t n;
	} lists_[] = {
	    {"visited", HUB_DL_VISITED, 0},	     {"first_timers", HUB_DL_FIRST_TIMERS, 0},
	    {"returning", HUB_DL_RETURNING, 0},	     {"reached3", HUB_DL_REACHED, 3},
	    {"cohort1", HUB_DL_COHORT, 1},	     {"regulars", HUB_DL_REGULARS, 0},
	    {"drifting30", HUB_DL_DRIFTING, 30},     {"event", HUB_DL_EVENT, 0},
	    {"week", HUB_DL_WEEK, 0},		     {"referred_by", HUB_DL_REFERRED_BY, 0},
	    {"tier_gold", HUB_DL_TIER, 0},	     {"expiring30", HUB_DL_EXPIRING, 30},
	    {"expired_coming", HUB_DL_EXPIRED_COMING, 0},
	};
	for (size_t i = 0; i < sizeof lists_ / sizeof lists_[0]; i++) {
		x.list = lists_[i].list;
		x.n = lists_[i].n;
		x.arg = x.list == HUB_DL_COHORT ? month : x.list == HUB_DL_EVENT ? ev.uid
		      : x.list == HUB_DL_WEEK	    ? monday
		      : x.list == HUB_DL_REFERRED_BY ? ref.uid
		      : x.list == HUB_DL_TIER	    ? "gold"
						    : NULL;
		char name[64];
		snprintf(name, sizeof name, "members_%s", lists_[i].name);
		timed(name, span, op_members, &x, 0); /* the lists behind numbers: reported */
	}
}

static int take_venue(const hub_venue *x, void *ctx)
{
	snprintf(ctx, HUB_ID_MAX, "%s", x->id);
	return 1;
}

typedef struct pick {
	char (*uid)[HUB_ID_MAX];
	size_t n, cap;
} pick;

static int take_member(const hub_member *m, void *ctx)
{
	pick *p = ctx;
	if (p->n < p->cap)
		snprintf(p->uid[p->n++], HUB_ID_MAX, "%s", m->uid);
	return p->n == p->cap;
}

/*
 * dash_refresh after each of ROUNDS pushes of 1000 new check-ins (a new
 * evening's event each). One round before them is timed on its own line
 * (the first write after the full refresh may carry the checkpoint of the WAL
 * that refresh left). A run on CI once saw one refresh of 587 ms among seven
 * of 40-50 ms on a shared machine: under --check a max past the budget is
 * measured again, as the other benchmarks' timings are.
 */
static void refresh_after_pushes(hub_store *st)
{
	enum { ROUNDS = 8, N = 1000 };
	double first = 0;
	hub_venue v;
	char venue[HUB_ID_MAX] = "";
	if (st->ops->venues_each(st, take_venue, venue) != HUB_OK || st->ops->venue_get(st, venue, &v) != HUB_OK)
		die("no venue");
	/* who comes: 1000 members a round, a different 1000 each round, from across the venue */
	pick all = {.uid = calloc(MEMBERS + 1, HUB_ID_MAX), .cap = MEMBERS + 1};
	st->ops->members_each(st, v.id, take_member, &all);
	if (all.n < N * (ROUNDS + 1))
		die("too few members");
	char(*uids)[HUB_ID_MAX] = all.uid;
	double t[ROUNDS], t0s[ROUNDS];
	hub_checkin *c = calloc(N, sizeof *c);
	hub_result *res = calloc(N + 1, sizeof *res);
	char(*ids)[HUB_ID_MAX] = calloc(N, sizeof *ids);
	/* under --check, a max past the budget is measured again with other members, up to three times, and
	 * the best attempt counts (the machine is shared: noise only adds time) */
	double best = 1e9;
	for (int attempt = 0; attempt < 3 && (attempt == 0 || (bench_checking && best > BUDGET_MS)); attempt++) {
		for (int r = -1; r < ROUNDS; r++) {
			char evu[HUB_ID_MAX], title[32];
			snprintf(evu, sizeof evu, "f%031x", attempt * 16 + r + 2);
			snprintf(title, sizeof title, "新活动 %d", attempt * 16 + r + 2);
			int64_t start = local_ms(END_DN + 2 + attempt * 16 + r, 19 * 60);
			hub_record ev = {.kind = HUB_REC_EVENT, .id = evu, .title = title, .start_ms = start,
					 .end_ms = start + 3 * 3600000LL};
			for (int i = 0; i < N; i++) {
				snprintf(ids[i], HUB_ID_MAX, "c%07x%024x", attempt * 16 + r + 1, i);
				c[i] = (hub_checkin){.id = ids[i],
						     .member = uids[((size_t)(attempt * 16 + r + 1) * N + (size_t)i) * 7 % all.n],
						     .event = evu,
						     .method = "scan", .boot = "boot-c", .kiosk_day = "",
						     .wall_ms = start + i * 1000, .mono_ms = i, .seq = i + 1, .visit = 1};
				res[i].id = ids[i];
			}
			res[N].id = evu;
			hub_batch b = {.checkins = c, .ncheckins = N, .records = &ev, .nrecords = 1, .results = res};
			hub_push_stats stats;
			for (int i = 0; i <= N; i++)
				res[i].status = HUB_RES_NONE;
			if (st->ops->push(st, &v, "cccccccccccccccccccccccccccccccc", 0, start + N * 1000, &b, &stats) != HUB_OK)
				die("push: %s", hub_store_errmsg(st));
			double t0 = now_ms();
			if (st->ops->dash_refresh(st, v.id) != HUB_OK)
				die("dash_refresh: %s", hub_store_errmsg(st));
			if (r < 0 && attempt == 0)
				first = now_ms() - t0;
			else if (r >= 0)
				t[r] = now_ms() - t0;
		}
		double worst = pct(t, ROUNDS, 100);
		if (attempt > 0)
			printf("BENCH dash_refresh_1000_max_ms %.2f ms (attempt %d)\n", worst, attempt + 1);
		else
			memcpy(t0s, t, sizeof t);
		best = worst < best ? worst : best;
	}
	double t0 = now_ms();
	st->ops->dash_refresh(st, v.id);
	double idle = now_ms() - t0;
	printf("BENCH dash_refresh_1000_p50_ms %.2f ms\n", pct(t0s, ROUNDS, 50));
	printf("BENCH dash_refresh_1000_max_ms %.2f ms (%d pushes of 1000 check-ins, a refresh after each)\n",
	       pct(t0s, ROUNDS, 100), ROUNDS);
	printf("BENCH dash_refresh_unchanged_ms %.3f ms\n", idle);
	printf("BENCH dash_refresh_1000_first_ms %.2f ms (the round before, with the WAL checkpoint of the full refresh)\n",
	       first);
	bench_budget("dash_refresh_1000_max_ms", best, 1, BUDGET_MS);
	free(c);
	free(res);
	free(ids);
	free(uids);
}

static void cache_path(char *out, size_t len)
{
	const char *env = getenv("TINGZI_BENCH_DASH_CACHE");
	if (env && env[0]) {
		snprintf(out, len, "%s", env);
		return;
	}
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		die("where am I");
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(out, len, "%s/bench_dash.cache-v%d.db", exe, GEN_VERSION);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		die("failed: %s", cmd);
}

int main(int argc, char **argv)
{
	bench_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	char cache[PATH_MAX], work[PATH_MAX];
	cache_path(cache, sizeof cache);
	if (access(cache, R_OK) != 0) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof tmp, "%s.new", cache);
		printf("making the community in %s (once; kept for the next runs)\n", cache);
		double t0 = now_ms();
		pid_t pid = fork();
		if (pid == 0) {
			make_community(tmp);
			_exit(0);
		}
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("making the community failed");
		if (rename(tmp, cache) != 0)
			die("rename %s: %s", tmp, strerror(errno));
		printf("BENCH dash_build_s %.0f s (the cached community, made once)\n", (now_ms() - t0) / 1000);
	}
	snprintf(work, sizeof work, "/tmp/tingzi-bench-dash.%d.db", (int)getpid());
	sh("cp '%s' '%s'", cache, work);

	char why[256];
	hub_store *st = hub_store_open(work, why, sizeof why);
	if (!st)
		die("%s", why);
	char venue[HUB_ID_MAX] = "";
	if (st->ops->venues_each(st, take_venue, venue) != HUB_OK || !venue[0])
		die("no venue in %s", work);
	if (st->ops->dash_refresh(st, NULL) != HUB_OK)
		die("dash_refresh: %s", hub_store_errmsg(st));
	if (!getenv("TINGZI_BENCH_DASH_REFRESH_ONLY")) {
		ask_all(st, venue, "90d", 90, 1);
		ask_all(st, venue, "365d", 365, 1);
		ask_all(st, NULL, "all_90d", 90, 0);
	}
	refresh_after_pushes(st);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("BENCH dash_peak_rss_mib %.1f MiB (this process, asking; the store's page cache is 128 MiB)\n",
	       (double)ru.ru_maxrss / 1024);
	bench_budget("dash_peak_rss_mib", (double)ru.ru_maxrss / 1024, 1, 150);
	st->ops->close(st);
	sh("rm -f '%s' '%s-wal' '%s-shm'", work, work, work);
	return bench_exit();
}
