/*
 * member_index — see member_index.h.
 *
 * A slot per venue: its roster, the sequence it was built at, and the rids
 * of the members changed last (for the members page without a search; the
 * store has no operation for that, and the build sees every member anyway).
 * A rebuild makes the new roster first and swaps it in only when it is
 * whole, so running out of memory leaves the old one (and says so).
 */
#include "sync/hub/console/member_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
	char venue[HUB_ID_MAX]; /* "" when free */
	roster *r;
	size_t count;
	int64_t seq;
	int64_t recent[MEMBER_INDEX_RECENT];
	int64_t recent_ms[MEMBER_INDEX_RECENT];
	size_t nrecent;
	uint64_t used; /* the tick of its last use */
} slot;

static slot slots[MEMBER_INDEX_VENUES];
static uint64_t tick;

typedef struct build {
	roster *r;
	size_t count;
	int64_t recent[MEMBER_INDEX_RECENT], recent_ms[MEMBER_INDEX_RECENT];
	size_t nrecent;
	int oom;
} build;

/* Keep m among the most recently updated, newest first (ties: the larger rid, the later one). */
static void keep_recent(build *b, int64_t rid, int64_t ms)
{
	size_t n = b->nrecent;
	if (n == MEMBER_INDEX_RECENT &&
	    (ms < b->recent_ms[n - 1] || (ms == b->recent_ms[n - 1] && rid < b->recent[n - 1])))
		return;
	size_t at = n < MEMBER_INDEX_RECENT ? n++ : n - 1;
	while (at > 0 &&
	       (b->recent_ms[at - 1] < ms || (b->recent_ms[at - 1] == ms && b->recent[at - 1] < rid))) {
		b->recent[at] = b->recent[at - 1];
		b->recent_ms[at] = b->recent_ms[at - 1];
		at--;
	}
	b->recent[at] = rid;
	b->recent_ms[at] = ms;
	b->nrecent = n;
}

static int add_member(const hub_member *m, void *ctx)
{
	build *b = ctx;
	if (roster_add(b->r, m->rid, m->name, m->phone, m->code) != 0) {
		b->oom = 1;
		return 1;
	}
	b->count++;
	keep_recent(b, m->rid, m->updated_ms ? m->updated_ms : m->created_ms);
	return 0;
}

static void slot_clear(slot *s)
{
	roster_free(s->r);
	memset(s, 0, sizeof *s);
}

/* The slot of venue, or the one to reuse for it (a free one, else the least recently used). */
static slot *slot_for(const char *venue)
{
	slot *pick = NULL;
	for (size_t i = 0; i < MEMBER_INDEX_VENUES; i++)
		if (slots[i].venue[0] && strcmp(slots[i].venue, venue) == 0)
			return &slots[i];
	for (size_t i = 0; i < MEMBER_INDEX_VENUES; i++) {
		if (!slots[i].venue[0])
			return &slots[i];
		if (!pick || slots[i].used < pick->used)
			pick = &slots[i];
	}
	return pick;
}

hub_err member_index_get(hub_store *st, const char *venue_id, member_index *out)
{
	int64_t seq = 0;
	hub_err e = st->ops->set_seq(st, venue_id, HUB_SET_MEMBERS, &seq);
	if (e != HUB_OK)
		return e;
	slot *s = slot_for(venue_id);
	if (!s->venue[0] || strcmp(s->venue, venue_id) != 0 || s->seq != seq || !s->r) {
		build b = {.r = roster_new()};
		if (!b.r) {
			snprintf(st->errmsg, sizeof st->errmsg, "out of memory building the member index");
			return HUB_ERR;
		}
		e = st->ops->members_each(st, venue_id, add_member, &b);
		if (e == HUB_OK && (b.oom || roster_finish(b.r) != 0)) {
			snprintf(st->errmsg, sizeof st->errmsg, "out of memory building the member index");
			e = HUB_ERR;
		}
		if (e != HUB_OK) {
			roster_free(b.r);
			return e;
		}
		if (strcmp(s->venue, venue_id) != 0)
			slot_clear(s);
		roster_free(s->r);
		snprintf(s->venue, sizeof s->venue, "%s", venue_id);
		s->r = b.r;
		s->count = b.count;
		s->seq = seq;
		memcpy(s->recent, b.recent, sizeof s->recent);
		memcpy(s->recent_ms, b.recent_ms, sizeof s->recent_ms);
		s->nrecent = b.nrecent;
	}
	s->used = ++tick;
	out->r = s->r;
	out->count = s->count;
	memcpy(out->recent, s->recent, sizeof out->recent);
	out->nrecent = s->nrecent;
	out->seq = s->seq;
	return HUB_OK;
}

/* The digits of a phone typed with separators, into out; 0, or -1 when it is not one of 4 to 20 digits. */
static int query_digits(const char *q, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = q; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p;
		} else if (!strchr(" -.()", *p) && !(*p == '+' && p == q)) {
			return -1;
		}
	}
	out[n] = '\0';
	return n >= 4 ? 0 : -1;
}

static int kept(const member_found *f, const roster_entry *e)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->e[i] == e)
			return 1;
	return 0;
}

void member_index_search(const member_index *ix, const char *query, size_t max, member_found *out)
{
	memset(out, 0, sizeof *out);
	if (max > sizeof out->e / sizeof out->e[0])
		max = sizeof out->e / sizeof out->e[0];
	if (!ix || !ix->r || !query || max == 0)
		return;
	while (*query == ' ')
		query++;
	size_t qlen = strlen(query);
	while (qlen && query[qlen - 1] == ' ')
		qlen--;
	char q[256];
	if (qlen == 0 || qlen >= sizeof q)
		return;
	memcpy(q, query, qlen);
	q[qlen] = '\0';

	const roster_entry *by_code = roster_find_code(ix->r, q);
	if (by_code) {
		out->e[out->n++] = by_code;
		out->total = 1;
		out->by = MEMBER_MATCH_CODE;
	}
	const roster_entry *more[64];
	size_t want = max - out->n, got, total;
	char digits[32];
	member_match by;
	if (query_digits(q, digits, sizeof digits) == 0) {
		total = roster_find_phone(ix->r, digits, more, want + 1);
		got = total < want + 1 ? total : want + 1;
		by = MEMBER_MATCH_PHONE;
	} else {
		got = roster_search_name(ix->r, q, more, want + 1);
		total = got;
		by = MEMBER_MATCH_NAME;
		if (got > want && ix->count > 0) {
			/* more than shown: count them all (bounded by the matches, not the roster) */
			const roster_entry **all = malloc(ix->count * sizeof *all);
			if (all) {
				total = roster_search_name(ix->r, q, all, ix->count);
				free(all);
			}
		}
	}
	int dup = 0;
	if (by_code && by == MEMBER_MATCH_PHONE) {
		/* the code's member may match by phone too, kept or not: count it once */
		size_t pl = strlen(by_code->phone), dl = strlen(digits);
		dup = pl >= dl && strcmp(by_code->phone + pl - dl, digits) == 0;
	}
	for (size_t i = 0; i < got; i++) {
		if (by_code && more[i] == by_code) {
			dup = 1;
			continue;
		}
		if (out->n < max && !kept(out, more[i]))
			out->e[out->n++] = more[i];
	}
	out->total += total - (size_t)dup;
	if (!by_code && total)
		out->by = by;
	if (out->total < out->n)
		out->total = out->n;
}

void member_index_free_all(void)
{
	for (size_t i = 0; i < MEMBER_INDEX_VENUES; i++)
		slot_clear(&slots[i]);
	tick = 0;
}
