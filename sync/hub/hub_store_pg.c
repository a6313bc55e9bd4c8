/*
 * hub_store_pg — the hub's storage in PostgreSQL (see hub_store.h and
 * hub_store_pg_impl.h), for a network of venues whose hub runs as several
 * processes on one database.
 *
 * The rules are the SQLite store's (hub_store_sqlite.c): a check-in's id is
 * unique, so a record sent again inserts nothing and is answered
 * "duplicate", an id held from another device is "id_conflict"; every
 * change to a member, event or link takes the next value of its venue's
 * sequence for that set, which pulls page by.
 *
 * What several writers change:
 *   - Pull cursors. A sequence's value is taken by updating its row in
 *     set_seqs, whose lock is held until the transaction ends: a second
 *     writer of the same venue's set waits, so the values commit in their
 *     order and a reader never sees value n+1 committed while n is not yet
 *     (a cursor cannot pass a row that commits late).
 *   - Exactly once. Check-ins and attendances are inserted with ON CONFLICT
 *     DO NOTHING: a concurrent insert of the same key waits for the other
 *     transaction and then sees its row. Attendances are inserted in key
 *     order (the batch's first check-in of a key still wins), so two doors'
 *     batches naming the same attendances wait for each other rather than
 *     deadlock (100 kiosks of one venue at once: 61 deadlocks before); one
 *     that happens all the same rolls the push back and push runs it again.
 *   - Enrolment codes and live codes' caps: one UPDATE ... WHERE each,
 *     re-checked by PostgreSQL on the newest row after a wait.
 *
 * A push is a handful of statements whatever its size: the members and
 * events it names are read with one query each, its check-ins inserted
 * with one INSERT ... SELECT FROM unnest(...), their attendances with
 * another. Durability is PostgreSQL's (synchronous_commit on, as it is by
 * default): a push the hub answered is on the server's disk.
 */
#include "sync/clock.h"
#include "sync/hub/hub_store_pg_impl.h"
#include "sync/hub/hub_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- statements ---- */

/* The message of the last failure, for a person, from libpq (one line). */
static void pg_errmsg(pg *s, const PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : "";
	if (!m || !m[0])
		m = PQerrorMessage(s->conn);
	snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", m && m[0] ? m : "PostgreSQL failed");
	s->base.errmsg[strcspn(s->base.errmsg, "\n")] = '\0';
}

static hub_err pg_fail(pg *s, PGresult *r)
{
	pg_errmsg(s, r);
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	/* no SQLSTATE: libpq's own failure, the connection's ("server closed the connection unexpectedly"),
	 * which it may not have marked bad yet: opened again at the next call */
	if (PQstatus(s->conn) != CONNECTION_OK || !state) {
		s->broken = 1;
		return HUB_DOWN;
	}
	if (strncmp(state, "23", 2) == 0) /* a constraint, as SQLite's SQLITE_CONSTRAINT */
		return HUB_EXISTS;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
		return HUB_BUSY;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)
		return HUB_DOWN;
	return HUB_ERR;
}

/* A connection that went away is opened again, outside a transaction: HUB_OK, or HUB_DOWN. */
static hub_err pg_ready(pg *s)
{
	/*
	 * Outside a transaction, a connection the server closed while it lay in
	 * the pool (PostgreSQL restarted) is found before it is used: its socket
	 * reads as ended (one non-blocking read), and it is opened again here
	 * instead of failing the request.
	 */
	/* twice: a server that crashed may have sent a last message before it closed the socket */
	if (!s->in_tx && PQstatus(s->conn) == CONNECTION_OK && !s->broken &&
	    (!PQconsumeInput(s->conn) || !PQconsumeInput(s->conn)))
		s->broken = 1;
	if (PQstatus(s->conn) == CONNECTION_OK && !s->broken)
		return HUB_OK;
	if (s->in_tx)
		return hpg_refuse(s, HUB_DOWN, "the connection to PostgreSQL was lost in a transaction");
	s->broken = 0;
	PQreset(s->conn);
	memset(s->prepared, 0, sizeof s->prepared);
	hpg_dash_reset(s);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		pg_errmsg(s, NULL);
		return HUB_DOWN;
	}
	fprintf(stderr, "tingzi-hub: reconnected to PostgreSQL\n");
	return HUB_OK;
}

static PGresult *run_once(pg *s, int part, int which, const char *sql, const hpg_args *a, hub_err *e);

/*
 * A read outside a transaction that failed on a connection the server had
 * closed is run once more on a new one: it changed nothing. (A change is
 * not: it may have been done before the connection went.)
 */
PGresult *hpg_run(pg *s, int part, int which, const char *sql, const hpg_args *a, hub_err *e)
{
	PGresult *r = run_once(s, part, which, sql, a, e);
	if (!r && *e == HUB_DOWN && !s->in_tx && strncmp(sql, "SELECT ", 7) == 0)
		r = run_once(s, part, which, sql, a, e);
	return r;
}

static PGresult *run_once(pg *s, int part, int which, const char *sql, const hpg_args *a, hub_err *e)
{
	*e = pg_ready(s);
	if (*e != HUB_OK)
		return NULL;
	char name[32];
	snprintf(name, sizeof name, "p%d_%d", part, which);
	if (!s->prepared[part][which]) {
		PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*e = pg_fail(s, r);
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		s->prepared[part][which] = 1;
	}
	PGresult *r = PQexecPrepared(s->conn, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
				     a ? a->fmt : NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		*e = pg_fail(s, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

hub_err hpg_do(pg *s, int part, int which, const char *sql, const hpg_args *a, int64_t *changed)
{
	hub_err e;
	PGresult *r = hpg_run(s, part, which, sql, a, &e);
	if (!r)
		return e;
	if (changed) {
		const char *n = PQcmdTuples(r);
		*changed = n && n[0] ? strtoll(n, NULL, 10) : 0;
	}
	PQclear(r);
	return HUB_OK;
}

hub_err hpg_exec(pg *s, const char *sql)
{
	hub_err e = pg_ready(s);
	if (e != HUB_OK)
		return e;
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	e = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? HUB_OK : pg_fail(s, r);
	PQclear(r);
	return e;
}

hub_err hpg_begin(pg *s)
{
	hub_err e = hpg_exec(s, "BEGIN");
	if (e == HUB_DOWN) /* a connection the server closed: BEGIN is safe to send again on a new one */
		e = hpg_exec(s, "BEGIN");
	s->in_tx = e == HUB_OK;
	return e;
}

hub_err hpg_commit(pg *s)
{
	hub_err e = hpg_exec(s, "COMMIT");
	if (e != HUB_OK)
		hpg_rollback(s, e);
	s->in_tx = 0;
	return e;
}

hub_err hpg_rollback(pg *s, hub_err e)
{
	char keep[sizeof s->base.errmsg];
	memcpy(keep, s->base.errmsg, sizeof keep);
	if (PQstatus(s->conn) == CONNECTION_OK)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	s->in_tx = 0;
	memcpy(s->base.errmsg, keep, sizeof keep);
	return e;
}

int64_t hpg_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int hpg_bytes(const PGresult *r, int row, int col, unsigned char *out, size_t len)
{
	if (PQgetisnull(r, row, col))
		return 0;
	const char *v = PQgetvalue(r, row, col);
	if (v[0] != '\\' || v[1] != 'x') /* bytea_output = hex is set at connect */
		return -1;
	size_t n = strlen(v + 2) / 2;
	if (n > len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)n;
}

/* ---- array literals ---- */

static void arr_put(hpg_arr *a, const char *p, size_t n)
{
	if (a->oom)
		return;
	if (a->len + n + 3 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;
		while (cap < a->len + n + 3)
			cap *= 2;
		char *nb = realloc(a->buf, cap);
		if (!nb) {
			a->oom = 1;
			return;
		}
		a->buf = nb;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void arr_sep(hpg_arr *a)
{
	arr_put(a, a->n++ ? "," : "{", 1);
}

void hpg_arr_t(hpg_arr *a, const char *v)
{
	arr_sep(a);
	if (!v) {
		arr_put(a, "NULL", 4);
		return;
	}
	arr_put(a, "\"", 1);
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			arr_put(a, "\\", 1);
		arr_put(a, p, 1);
	}
	arr_put(a, "\"", 1);
}

void hpg_arr_i(hpg_arr *a, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%lld", (long long)v);
	arr_sep(a);
	arr_put(a, num, (size_t)n);
}

const char *hpg_arr_done(hpg_arr *a)
{
	if (a->n == 0)
		arr_put(a, "{", 1);
	arr_put(a, "}", 2); /* with its NUL */
	return a->oom ? NULL : a->buf;
}

void hpg_arr_free(hpg_arr *a)
{
	free(a->buf);
	memset(a, 0, sizeof *a);
}

/* ---- a small map of ids to indexes, for a push's members and events ---- */

typedef struct idmap {
	const char **key;
	int *val;
	size_t cap;
} idmap;

static uint64_t id_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h;
}

static int idmap_init(idmap *m, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2)
		m->cap *= 2;
	m->key = calloc(m->cap, sizeof *m->key);
	m->val = calloc(m->cap, sizeof *m->val);
	return m->key && m->val ? 0 : -1;
}

static void idmap_put(idmap *m, const char *k, int v)
{
	size_t i = id_hash(k) & (m->cap - 1);
	while (m->key[i] && strcmp(m->key[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	m->key[i] = k;
	m->val[i] = v;
}

static int idmap_get(const idmap *m, const char *k)
{
	size_t i = id_hash(k) & (m->cap - 1);
	while (m->key[i]) {
		if (strcmp(m->key[i], k) == 0)
			return m->val[i];
		i = (i + 1) & (m->cap - 1);
	}
	return -1;
}

static void idmap_free(idmap *m)
{
	free(m->key);
	free(m->val);
}

/* ---- push ---- */

enum {
	Q_SEQ_GET,
	Q_DEVICE_SEEN,
	Q_EVENT_BY_UID,
	Q_MEMBERS_OF,
	Q_EVENTS_OF,
	Q_CHECKINS_INSERT,
	Q_CHECKINS_HELD,
	Q_ATTEND_INSERT,
	Q_ATTEND_DUPS,
	Q_RECORD_BY_ID,
	Q_RECORD_INSERT,
	Q_CHECKIN_REVERSE,
	Q_PULL_MEMBERS,
	Q_PULL_EVENTS,
	Q_PULL_LINKS,
	Q_REJECTION,
	Q_MEMBERS_SHARE,
	Q_MEMBERS_OWN,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_SEQ_GET] = "SELECT last FROM set_seqs WHERE venue_id = $1 AND data_set = $2",
    [Q_DEVICE_SEEN] = "UPDATE devices SET last_seen_ms = $2, offset_ms = $3 WHERE id = $1",
    [Q_EVENT_BY_UID] = "SELECT venue_id, rid, origin_device FROM events WHERE uid = $1",
    [Q_MEMBERS_OF] = "SELECT m.uid, m.venue_id, m.rid, m.merged_into, s.rid FROM members m"
		     " LEFT JOIN members s ON s.uid = m.merged_into WHERE m.uid = ANY($1::text[])",
    [Q_EVENTS_OF] = "SELECT uid, venue_id, rid FROM events WHERE uid = ANY($1::text[])",
    [Q_CHECKINS_INSERT] =
	"INSERT INTO checkins(id, venue_id, device_id, member_uid, member_sent, event_uid, method, wall_ms, mono_ms,"
	" boot, device_seq, visit, flags, kiosk_day, offset_ms, corrected_ms, day, akey, received_ms, member_rid)"
	" SELECT u.id, $1, $2, u.who, u.sent, u.ev, u.method, u.wall, u.mono, u.boot, u.dseq, u.visit, u.flags,"
	" u.kday, $3, u.corr, u.day, u.akey, $4, u.mrid"
	" FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[],"
	" $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[], $17::bigint[], $18::text[],"
	" $19::text[], $20::bigint[]) WITH ORDINALITY"
	" AS u(id, who, sent, ev, method, wall, mono, boot, dseq, visit, flags, kday, corr, day, akey, mrid, ord)"
	" ORDER BY u.ord ON CONFLICT (id) DO NOTHING RETURNING id, rid",
    [Q_CHECKINS_HELD] = "SELECT id, device_id, member_sent, wall_ms, device_seq FROM checkins"
			" WHERE id = ANY($1::text[])",
    [Q_ATTEND_INSERT] = "INSERT INTO attendances(akey, member_rid, checkin_rid)"
			" SELECT u.a, u.m, u.c FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY"
			" AS u(a, m, c, ord) ORDER BY u.a, u.m, u.ord ON CONFLICT (akey, member_rid) DO NOTHING"
			" RETURNING checkin_rid",
    [Q_ATTEND_DUPS] = "UPDATE checkins c SET duplicate_of = f.id"
		      " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS l(crid, a, m)"
		      " JOIN attendances t ON t.akey = l.a AND t.member_rid = l.m"
		      " JOIN checkins f ON f.rid = t.checkin_rid WHERE c.rid = l.crid",
    [Q_RECORD_BY_ID] = "SELECT device_id, kind FROM records WHERE id = $1",
    [Q_RECORD_INSERT] = "INSERT INTO records(id, kind, venue_id, device_id, body, wall_ms, received_ms, session,"
			" action, detail, checkin, reason, seq)"
			" VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    [Q_CHECKIN_REVERSE] = "UPDATE checkins SET reversed = 1 WHERE id = $1 AND venue_id = $2",
    [Q_PULL_MEMBERS] = "SELECT uid, name, phone, code, tier, expires, deleted, merged_into, seq FROM members"
		       " WHERE venue_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [Q_PULL_EVENTS] = "SELECT uid, title, start_ms, end_ms, deleted, seq FROM events"
		      " WHERE venue_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [Q_PULL_LINKS] = "SELECT uid, platform, label, url, expires_ms, cap, event_uid, is_default, slug, deleted, seq"
		     " FROM links WHERE venue_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [Q_REJECTION] = "INSERT INTO rejections(device_id, id, reason, at_ms) VALUES($1, $2, $3, $4)"
		    " ON CONFLICT(device_id, id) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
    /* see push_once() */
    [Q_MEMBERS_SHARE] = "SELECT 1 FROM set_seqs WHERE venue_id = $1 AND data_set = 'members' FOR SHARE",
    [Q_MEMBERS_OWN] = "INSERT INTO set_seqs(venue_id, data_set, last) VALUES($1, 'members', 0)"
		      " ON CONFLICT(venue_id, data_set) DO UPDATE SET last = set_seqs.last",
};
_Static_assert(Q_COUNT <= HPG_PART_STMTS, "more statements than slots");

static PGresult *q(pg *s, int which, const hpg_args *a, hub_err *e)
{
	return hpg_run(s, HPG_CORE, which, sql[which], a, e);
}

static hub_err qdo(pg *s, int which, const hpg_args *a, int64_t *changed)
{
	return hpg_do(s, HPG_CORE, which, sql[which], a, changed);
}

static void result(hub_result *r, hub_status status, const char *reason, hub_push_stats *stats)
{
	r->status = status;
	r->reason = reason;
	if (status == HUB_RES_OK)
		stats->ok++;
	else if (status == HUB_RES_DUPLICATE)
		stats->duplicate++;
	else
		stats->rejected++;
}

static hub_err push_member(pg *s, const hub_venue *v, const char *device, const hub_record *r, hub_result *res,
			   int64_t now, hub_push_stats *stats)
{
	pmrow m = {0};
	int f = hpg_member_find(s, HPG_BY_UID, r->id, NULL, &m);
	if (f < 0)
		return (hub_err)f;
	if (f) {
		if (strcmp(m.venue, v->id) != 0 || strcmp(m.origin, device) != 0) {
			result(res, HUB_RES_REJECTED, "id_conflict", stats);
		} else {
			if (m.merged[0])
				hpg_cpy(res->merged_into, sizeof res->merged_into, m.merged);
			result(res, HUB_RES_DUPLICATE, NULL, stats);
		}
		return HUB_OK;
	}
	int fc = r->code ? hpg_member_find(s, HPG_BY_CODE, v->id, r->code, &m) : 0;
	int fp = !fc && r->phone ? hpg_member_find(s, HPG_BY_PHONE, v->id, r->phone, &m) : 0;
	if (fc < 0 || fp < 0)
		return (hub_err)(fc < 0 ? fc : fp);
	hub_err e;
	if (fc || fp) {
		e = hpg_member_insert(s, r->id, v->id, r->name, NULL, NULL, "", "", r->provisional, m.uid, device, now);
		hpg_cpy(res->merged_into, sizeof res->merged_into, m.uid);
	} else {
		e = hpg_member_insert(s, r->id, v->id, r->name, r->phone, r->code, "", "", r->provisional, NULL, device,
				      now);
	}
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

static hub_err push_event(pg *s, const hub_venue *v, const char *device, const hub_record *r, hub_result *res,
			  int64_t now, hub_push_stats *stats)
{
	hpg_args a = {0};
	hpg_t(&a, r->id);
	hub_err e;
	PGresult *x = q(s, Q_EVENT_BY_UID, &a, &e);
	if (!x)
		return e;
	int held = PQntuples(x) > 0;
	int same = held && strcmp(hpg_txt(x, 0, 0), v->id) == 0 && strcmp(hpg_txt(x, 0, 2), device) == 0;
	PQclear(x);
	if (held) {
		result(res, same ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, same ? NULL : "id_conflict", stats);
		return HUB_OK;
	}
	e = hpg_event_insert(s, r->id, v->id, r->title, r->start_ms, r->end_ms, device, now);
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

/* 0 none held under id, 1 this device's record of this kind, 2 another's; or a negative hub_err. */
static int record_held(pg *s, const char *id, const char *device, const char *kind)
{
	hpg_args a = {0};
	hpg_t(&a, id);
	hub_err e;
	PGresult *x = q(s, Q_RECORD_BY_ID, &a, &e);
	if (!x)
		return e;
	int r = PQntuples(x) == 0 ? 0
	      : strcmp(hpg_txt(x, 0, 0), device) == 0 && strcmp(hpg_txt(x, 0, 1), kind) == 0 ? 1
											     : 2;
	PQclear(x);
	return r;
}

static hub_err push_other(pg *s, const hub_venue *v, const char *device, const hub_record *r, hub_result *res,
			  int64_t now, hub_push_stats *stats)
{
	const char *kind = r->kind == HUB_REC_REVERSAL ? "reversal" : "audit";
	int held = record_held(s, r->id, device, kind);
	if (held < 0)
		return (hub_err)held;
	if (held) {
		result(res, held == 1 ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, held == 1 ? NULL : "id_conflict", stats);
		return HUB_OK;
	}
	hub_err e;
	char *body = NULL;
	if (r->kind == HUB_REC_REVERSAL) {
		hpg_args a = {0};
		hpg_t(&a, r->checkin);
		hpg_t(&a, v->id);
		int64_t changed = 0;
		if ((e = qdo(s, Q_CHECKIN_REVERSE, &a, &changed)) != HUB_OK)
			return e;
		if (changed == 0) {
			result(res, HUB_RES_REJECTED, "unknown_checkin", stats);
			return HUB_OK;
		}
		if ((e = hpg_dash_reversed(s, r->checkin)) != HUB_OK)
			return e;
		json_t *j = json_pack("{s:s,s:s}", "checkin", r->checkin, "reason", r->reason ? r->reason : "");
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!body)
			return HUB_ERR;
	}
	hpg_args a = {0};
	hpg_t(&a, r->id);
	hpg_t(&a, kind);
	hpg_t(&a, v->id);
	hpg_t(&a, device);
	hpg_t(&a, body ? body : r->detail ? r->detail : "{}");
	hpg_i(&a, r->wall_ms);
	hpg_i(&a, now);
	hpg_t(&a, r->session);
	hpg_t(&a, r->action);
	hpg_t(&a, r->detail);
	hpg_t(&a, r->checkin);
	hpg_t(&a, r->reason);
	hpg_i(&a, r->seq);
	e = qdo(s, Q_RECORD_INSERT, &a, NULL);
	free(body);
	if (e == HUB_OK)
		result(res, HUB_RES_OK, NULL, stats);
	return e;
}

/* What a push's check-ins need of the hub's members and events, read with one query each. */
typedef struct known {
	idmap members, events;
	PGresult *m, *e;
} known;

static hub_err known_load(pg *s, const hub_batch *b, known *k)
{
	hpg_arr mu = {0}, eu = {0};
	size_t n = 0;
	for (size_t i = 0; i < b->ncheckins; i++) {
		if (b->results[i].status != HUB_RES_NONE)
			continue;
		hpg_arr_t(&mu, b->checkins[i].member);
		if (b->checkins[i].event)
			hpg_arr_t(&eu, b->checkins[i].event);
		n++;
	}
	const char *ml = hpg_arr_done(&mu), *el = hpg_arr_done(&eu);
	hub_err e = HUB_OK;
	if (!ml || !el || idmap_init(&k->members, n) != 0 || idmap_init(&k->events, n) != 0)
		e = hpg_refuse(s, HUB_ERR, "out of memory");
	if (e == HUB_OK) {
		hpg_args a = {0};
		hpg_t(&a, ml);
		k->m = q(s, Q_MEMBERS_OF, &a, &e);
	}
	if (e == HUB_OK) {
		hpg_args a = {0};
		hpg_t(&a, el);
		k->e = q(s, Q_EVENTS_OF, &a, &e);
	}
	hpg_arr_free(&mu);
	hpg_arr_free(&eu);
	if (e != HUB_OK)
		return e;
	for (int i = 0; i < PQntuples(k->m); i++)
		idmap_put(&k->members, PQgetvalue(k->m, i, 0), i);
	for (int i = 0; i < PQntuples(k->e); i++)
		idmap_put(&k->events, PQgetvalue(k->e, i, 0), i);
	return HUB_OK;
}

static void known_free(known *k)
{
	idmap_free(&k->members);
	idmap_free(&k->events);
	PQclear(k->m);
	PQclear(k->e);
}

/* One check-in as it is inserted. */
typedef struct cin {
	size_t i; /* in the batch */
	const char *who;
	int64_t who_rid, akey_n, corrected, rid;
	char day[11], akey[48];
} cin;

static hub_err push_checkins(pg *s, const hub_venue *v, const char *device, int64_t offset, int64_t now,
			     hub_batch *b, hub_push_stats *stats)
{
	size_t todo = 0;
	for (size_t i = 0; i < b->ncheckins; i++)
		todo += b->results[i].status == HUB_RES_NONE;
	if (todo == 0)
		return HUB_OK;
	known k = {0};
	cin *c = calloc(todo, sizeof *c);
	hpg_arr col[16] = {{0}};
	idmap ids = {0};
	PGresult *ins = NULL, *held = NULL, *att = NULL;
	hub_err e = c ? known_load(s, b, &k) : hpg_refuse(s, HUB_ERR, "out of memory");
	size_t n = 0;
	hub_day_cache days = {0};
	for (size_t i = 0; e == HUB_OK && i < b->ncheckins; i++) {
		const hub_checkin *ci = &b->checkins[i];
		hub_result *res = &b->results[i];
		if (res->status != HUB_RES_NONE)
			continue;
		int mi = idmap_get(&k.members, ci->member);
		if (mi < 0 || strcmp(PQgetvalue(k.m, mi, 1), v->id) != 0 ||
		    (!hpg_null(k.m, mi, 3) && hpg_null(k.m, mi, 4))) {
			result(res, HUB_RES_REJECTED, "unknown_member", stats);
			continue;
		}
		int ei = ci->event ? idmap_get(&k.events, ci->event) : -1;
		if (ci->event && (ei < 0 || strcmp(PQgetvalue(k.e, ei, 1), v->id) != 0)) {
			result(res, HUB_RES_REJECTED, "unknown_event", stats);
			continue;
		}
		cin *x = &c[n++];
		x->i = i;
		int merged = !hpg_null(k.m, mi, 3); /* a merged member counts for the survivor */
		x->who = PQgetvalue(k.m, mi, merged ? 3 : 0);
		x->who_rid = hpg_int(k.m, mi, merged ? 4 : 2);
		x->corrected = ci->wall_ms + offset;
		hub_day(v->tz, x->corrected, &days, x->day);
		if (ci->event) {
			x->akey_n = hpg_int(k.e, ei, 2);
			snprintf(x->akey, sizeof x->akey, "e:%s", ci->event);
		} else {
			x->akey_n = hpg_day_key(x->day);
			snprintf(x->akey, sizeof x->akey, "d:%s", x->day);
		}
		hpg_arr_t(&col[0], ci->id);
		hpg_arr_t(&col[1], x->who);
		hpg_arr_t(&col[2], ci->member);
		hpg_arr_t(&col[3], ci->event);
		hpg_arr_t(&col[4], ci->method);
		hpg_arr_i(&col[5], ci->wall_ms);
		hpg_arr_i(&col[6], ci->mono_ms);
		hpg_arr_t(&col[7], ci->boot);
		hpg_arr_i(&col[8], ci->seq);
		hpg_arr_i(&col[9], ci->visit);
		hpg_arr_i(&col[10], ci->flags);
		hpg_arr_t(&col[11], ci->kiosk_day);
		hpg_arr_i(&col[12], x->corrected);
		hpg_arr_t(&col[13], x->day);
		hpg_arr_t(&col[14], x->akey);
		hpg_arr_i(&col[15], x->who_rid);
	}
	if (e != HUB_OK || n == 0)
		goto out;
	hpg_args a = {0};
	hpg_t(&a, v->id);
	hpg_t(&a, device);
	hpg_i(&a, offset);
	hpg_i(&a, now);
	for (int j = 0; j < 16; j++)
		hpg_t(&a, hpg_arr_done(&col[j]));
	for (int j = 0; j < a.n; j++)
		if (!a.v[j])
			e = hpg_refuse(s, HUB_ERR, "out of memory");
	if (e != HUB_OK || !(ins = q(s, Q_CHECKINS_INSERT, &a, &e)))
		goto out;
	/* which were inserted: their row numbers, by id */
	if (idmap_init(&ids, (size_t)PQntuples(ins)) != 0) {
		e = hpg_refuse(s, HUB_ERR, "out of memory");
		goto out;
	}
	for (int r = 0; r < PQntuples(ins); r++)
		idmap_put(&ids, PQgetvalue(ins, r, 0), r);
	hpg_arr missing = {0}, aa = {0}, am = {0}, ac = {0};
	size_t nmissing = 0;
	for (size_t j = 0; j < n; j++) {
		const char *id = b->checkins[c[j].i].id;
		int r = idmap_get(&ids, id);
		if (r >= 0) {
			c[j].rid = hpg_int(ins, r, 1);
			/* an id twice in one batch: its first is inserted, the second is a duplicate */
			idmap_put(&ids, id, -1);
		}
		if (c[j].rid == 0) {
			hpg_arr_t(&missing, b->checkins[c[j].i].id);
			nmissing++;
		} else {
			hpg_arr_i(&aa, c[j].akey_n);
			hpg_arr_i(&am, c[j].who_rid);
			hpg_arr_i(&ac, c[j].rid);
		}
	}
	if (nmissing) {
		hpg_args h = {0};
		hpg_t(&h, hpg_arr_done(&missing));
		held = h.v[0] ? q(s, Q_CHECKINS_HELD, &h, &e) : NULL;
		if (!h.v[0])
			e = hpg_refuse(s, HUB_ERR, "out of memory");
	}
	if (e == HUB_OK && aa.n) {
		hpg_args t = {0};
		hpg_t(&t, hpg_arr_done(&aa));
		hpg_t(&t, hpg_arr_done(&am));
		hpg_t(&t, hpg_arr_done(&ac));
		att = t.v[0] && t.v[1] && t.v[2] ? q(s, Q_ATTEND_INSERT, &t, &e)
						 : NULL;
		if (!(t.v[0] && t.v[1] && t.v[2]))
			e = hpg_refuse(s, HUB_ERR, "out of memory");
	}
	hpg_arr_free(&missing);
	hpg_arr_free(&aa);
	hpg_arr_free(&am);
	hpg_arr_free(&ac);
	if (e != HUB_OK)
		goto out;
	/* the check-ins held already: this device's same record (a duplicate) or another's (a conflict);
	 * found by id through a map (a retried batch of 1000 is 1000 of them) */
	idmap byid = {0};
	if (held && idmap_init(&byid, (size_t)PQntuples(held)) != 0) {
		e = hpg_refuse(s, HUB_ERR, "out of memory");
		goto out;
	}
	for (int r = 0; held && r < PQntuples(held); r++)
		idmap_put(&byid, PQgetvalue(held, r, 0), r);
	for (size_t j = 0; held && j < n; j++) {
		if (c[j].rid)
			continue;
		const hub_checkin *ci = &b->checkins[c[j].i];
		int r = idmap_get(&byid, ci->id);
		int same = r >= 0 && strcmp(PQgetvalue(held, r, 1), device) == 0 &&
			   strcmp(PQgetvalue(held, r, 2), ci->member) == 0 && hpg_int(held, r, 3) == ci->wall_ms &&
			   hpg_int(held, r, 4) == ci->seq;
		result(&b->results[c[j].i], same ? HUB_RES_DUPLICATE : HUB_RES_REJECTED, same ? NULL : "id_conflict",
		       stats);
	}
	idmap_free(&byid);
	/* attendances another check-in holds already: this one is kept, marked */
	idmap won = {0};
	if (idmap_init(&won, att ? (size_t)PQntuples(att) : 1) != 0) {
		e = hpg_refuse(s, HUB_ERR, "out of memory");
		goto out;
	}
	for (int r = 0; att && r < PQntuples(att); r++)
		idmap_put(&won, PQgetvalue(att, r, 0), r);
	hpg_arr la = {0}, lm = {0}, lc = {0};
	for (size_t j = 0; j < n; j++) {
		if (!c[j].rid)
			continue;
		char num[24];
		snprintf(num, sizeof num, "%lld", (long long)c[j].rid);
		hub_result *res = &b->results[c[j].i];
		if (idmap_get(&won, num) < 0) {
			hpg_arr_i(&lc, c[j].rid);
			hpg_arr_i(&la, c[j].akey_n);
			hpg_arr_i(&lm, c[j].who_rid);
			res->attendance_duplicate = 1;
			stats->attendance_duplicate++;
		}
		result(res, HUB_RES_OK, NULL, stats);
	}
	idmap_free(&won);
	if (lc.n) {
		hpg_args d = {0};
		hpg_t(&d, hpg_arr_done(&lc));
		hpg_t(&d, hpg_arr_done(&la));
		hpg_t(&d, hpg_arr_done(&lm));
		e = d.v[0] && d.v[1] && d.v[2] ? qdo(s, Q_ATTEND_DUPS, &d, NULL) : hpg_refuse(s, HUB_ERR, "out of memory");
	}
	hpg_arr_free(&la);
	hpg_arr_free(&lm);
	hpg_arr_free(&lc);
out:
	for (int j = 0; j < 16; j++)
		hpg_arr_free(&col[j]);
	idmap_free(&ids);
	PQclear(ins);
	PQclear(held);
	PQclear(att);
	known_free(&k);
	free(c);
	return e;
}

static hub_err note_rejections(pg *s, const char *device, int64_t now, const hub_batch *batch)
{
	for (size_t i = 0; i < batch->ncheckins + batch->nrecords; i++) {
		const hub_result *r = &batch->results[i];
		const char *id = i < batch->ncheckins ? batch->checkins[i].id : batch->records[i - batch->ncheckins].id;
		if (r->status != HUB_RES_REJECTED || !id)
			continue;
		hpg_args a = {0};
		hpg_t(&a, device);
		hpg_t(&a, id);
		hpg_t(&a, r->reason ? r->reason : "rejected");
		hpg_i(&a, now);
		hub_err e = qdo(s, Q_REJECTION, &a, NULL);
		if (e != HUB_OK)
			return e;
	}
	return HUB_OK;
}

/*
 * A push and a merge of the same venue's members never overlap: a merge
 * holds the venue's members sequence row for update while it moves check-ins
 * and marks the merged member, and a push holds it shared while it reads the
 * members its check-ins name and stores them (for update when the push adds
 * members itself, taken first, before it looks for them by phone or code).
 * Otherwise a check-in read against a member that a merge then marks would
 * stay on the merged member, and a walk-in could be merged into a member
 * being merged away. Pushes without new members share the row with each
 * other.
 */
static hub_err push_once(pg *s, const hub_venue *v, const char *device, int64_t offset, int64_t now,
			 hub_batch *batch, hub_push_stats *stats)
{
	hub_err e = hpg_begin(s);
	if (e != HUB_OK)
		return e;
	hub_result *rr = batch->results + batch->ncheckins;
	int adds_members = 0;
	for (size_t i = 0; i < batch->nrecords; i++)
		adds_members |= rr[i].status == HUB_RES_NONE && batch->records[i].kind == HUB_REC_MEMBER;
	hpg_args lk = {0};
	hpg_t(&lk, v->id);
	e = qdo(s, adds_members ? Q_MEMBERS_OWN : Q_MEMBERS_SHARE, &lk, NULL);
	if (e != HUB_OK)
		return hpg_rollback(s, e);
	for (size_t i = 0; i < batch->nrecords && e == HUB_OK; i++) {
		const hub_record *r = &batch->records[i];
		if (rr[i].status != HUB_RES_NONE)
			continue;
		if (r->kind == HUB_REC_MEMBER)
			e = push_member(s, v, device, r, &rr[i], now, stats);
		else if (r->kind == HUB_REC_EVENT)
			e = push_event(s, v, device, r, &rr[i], now, stats);
	}
	if (e == HUB_OK)
		e = push_checkins(s, v, device, offset, now, batch, stats);
	for (size_t i = 0; i < batch->nrecords && e == HUB_OK; i++) {
		const hub_record *r = &batch->records[i];
		if (rr[i].status == HUB_RES_NONE && (r->kind == HUB_REC_REVERSAL || r->kind == HUB_REC_AUDIT))
			e = push_other(s, v, device, r, &rr[i], now, stats);
	}
	if (e == HUB_OK)
		e = note_rejections(s, device, now, batch);
	if (e == HUB_OK) {
		hpg_args a = {0};
		hpg_t(&a, device);
		hpg_i(&a, now);
		hpg_i(&a, offset);
		e = qdo(s, Q_DEVICE_SEEN, &a, NULL);
	}
	return hpg_end(s, e);
}

static hub_err pg_push(hub_store *b, const hub_venue *v, const char *device, int64_t offset, int64_t now,
		       hub_batch *batch, hub_push_stats *stats)
{
	pg *s = (pg *)b;
	size_t n = batch->ncheckins + batch->nrecords;
	hub_status *checked = malloc((n ? n : 1) * sizeof *checked);
	if (!checked)
		return hpg_refuse(s, HUB_ERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		checked[i] = batch->results[i].status;
	hub_err e;
	/* a deadlock with another node's push rolled this one back whole: run it again */
	for (int attempt = 0;; attempt++) {
		memset(stats, 0, sizeof *stats);
		for (size_t i = 0; i < n; i++) {
			hub_result *r = &batch->results[i];
			if (checked[i] == HUB_RES_REJECTED) {
				stats->rejected++;
				continue;
			}
			r->status = checked[i];
			r->reason = NULL;
			r->merged_into[0] = '\0';
			r->attendance_duplicate = 0;
		}
		e = push_once(s, v, device, offset, now, batch, stats);
		if (e != HUB_BUSY || attempt == 4)
			break;
		struct timespec pause = {0, (5 + attempt * 20) * 1000000L};
		nanosleep(&pause, NULL);
	}
	free(checked);
	return e;
}

/* ---- pull ---- */

static json_t *text_or_null(const PGresult *r, int row, int col)
{
	return hpg_null(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *int_or_null(const PGresult *r, int row, int col)
{
	return hpg_null(r, row, col) ? json_null() : json_integer(hpg_int(r, row, col));
}

static hub_err pg_pull(hub_store *b, const char *venue, hub_set set, int64_t since, int limit,
		       const char *live_base, hub_page *out)
{
	pg *s = (pg *)b;
	memset(out, 0, sizeof *out);
	/* one snapshot for the sequence's last value and the rows */
	hub_err e = hpg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (e != HUB_OK)
		return e;
	s->in_tx = 1;
	hpg_args a = {0};
	hpg_t(&a, venue);
	hpg_t(&a, hub_set_name(set));
	PGresult *r = q(s, Q_SEQ_GET, &a, &e);
	if (!r)
		return hpg_rollback(s, e);
	int64_t last = PQntuples(r) ? hpg_int(r, 0, 0) : 0;
	PQclear(r);
	out->reset = since <= 0 || since > last;
	if (out->reset)
		since = 0;
	static const int which[HUB_SET_COUNT] = {Q_PULL_MEMBERS, Q_PULL_EVENTS, Q_PULL_LINKS};
	hpg_args p = {0};
	hpg_t(&p, venue);
	hpg_i(&p, since);
	hpg_i(&p, (int64_t)limit + 1);
	if (!(r = q(s, which[set], &p, &e)))
		return hpg_rollback(s, e);
	out->items = json_array();
	out->next = since;
	int rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		if (i == limit) {
			out->more = 1;
			break;
		}
		json_t *it;
		if (set == HUB_SET_MEMBERS) {
			it = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:b,s:o}", "uid", hpg_txt(r, i, 0), "name",
				       hpg_txt(r, i, 1), "phone", text_or_null(r, i, 2), "code", text_or_null(r, i, 3),
				       "tier", hpg_txt(r, i, 4), "expires", hpg_txt(r, i, 5), "deleted",
				       (int)hpg_int(r, i, 6), "merged_into", text_or_null(r, i, 7));
			out->next = hpg_int(r, i, 8);
		} else if (set == HUB_SET_EVENTS) {
			it = json_pack("{s:s,s:s,s:I,s:I,s:b}", "uid", hpg_txt(r, i, 0), "title", hpg_txt(r, i, 1),
				       "start_ms", (json_int_t)hpg_int(r, i, 2), "end_ms", (json_int_t)hpg_int(r, i, 3),
				       "deleted", (int)hpg_int(r, i, 4));
			out->next = hpg_int(r, i, 5);
		} else {
			char live[HUB_URL_MAX + 64];
			snprintf(live, sizeof live, "%s/j/%s", live_base ? live_base : "", hpg_txt(r, i, 8));
			it = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:o,s:b}", "uid", hpg_txt(r, i, 0), "platform",
				       hpg_txt(r, i, 1), "label", hpg_txt(r, i, 2), "url", hpg_txt(r, i, 3), "expires_ms",
				       int_or_null(r, i, 4), "cap", int_or_null(r, i, 5), "event", text_or_null(r, i, 6),
				       "default", (int)hpg_int(r, i, 7), "live_url",
				       live_base && live_base[0] ? json_string(live) : json_null(), "deleted",
				       (int)hpg_int(r, i, 9));
			out->next = hpg_int(r, i, 10);
		}
		json_array_append_new(out->items, it);
	}
	PQclear(r);
	if (rows == 0 && out->reset)
		out->next = 0;
	return hpg_commit(s);
}

/* ---- open and close ---- */

static void pg_close(hub_store *b)
{
	pg *s = (pg *)b;
	hpg_dash_close(s);
	PQfinish(s->conn);
	free(s->conninfo);
	free(s);
}

static const hub_store_ops pg_ops = {
    .close = pg_close,
    .venue_add = hpg_venue_add,
    .venue_get = hpg_venue_get,
    .venues_each = hpg_venues_each,
    .code_add = hpg_code_add,
    .enroll = hpg_enroll,
    .device_get = hpg_device_get,
    .devices_each = hpg_devices_each,
    .device_revoke = hpg_device_revoke,
    .push = pg_push,
    .pull = pg_pull,
    .members_begin = hpg_members_begin,
    .members_row = hpg_members_row,
    .members_commit = hpg_members_commit,
    .members_rollback = hpg_members_rollback,
    .event_add = hpg_event_add,
    .link_add = hpg_link_add,
    .live = hpg_live,
    .checkins_each = hpg_checkins_each,
    .records_each = hpg_records_each,
    .user_add = hpg_user_add,
    .user_get = hpg_user_get,
    .users_each = hpg_users_each,
    .user_venues_each = hpg_user_venues_each,
    .user_venue_add = hpg_user_venue_add,
    .user_may = hpg_user_may,
    .user_set_setup = hpg_user_set_setup,
    .user_by_setup = hpg_user_by_setup,
    .user_set_password = hpg_user_set_password,
    .user_disable = hpg_user_disable,
    .login_failed = hpg_login_failed,
    .login_failures = hpg_login_failures,
    .login_clear = hpg_login_clear,
    .session_add = hpg_session_add,
    .session_get = hpg_session_get,
    .session_end = hpg_session_end,
    .sessions_end_user = hpg_sessions_end_user,
    .audit_add = hpg_audit_add,
    .audit_each = hpg_audit_each,
    .set_seq = hpg_set_seq,
    .members_each = hpg_members_each,
    .member_get = hpg_member_get,
    .member_by_rid = hpg_member_by_rid,
    .member_update = hpg_member_update,
    .member_merge = hpg_member_merge,
    .member_checkins_each = hpg_member_checkins_each,
    .events_each = hpg_events_each,
    .event_get = hpg_event_get,
    .event_update = hpg_event_update,
    .event_cancel = hpg_event_cancel,
    .event_checkins_each = hpg_event_checkins_each,
    .event_count = hpg_event_count,
    .links_each = hpg_links_each,
    .link_get = hpg_link_get,
    .link_expire = hpg_link_expire,
    .link_remove = hpg_link_remove,
    .device_queue_set = hpg_device_queue_set,
    .device_queue_get = hpg_device_queue_get,
    .device_rejected = hpg_device_rejected,
    .dash_refresh = hpg_dash_refresh,
    .dash_attendance = hpg_dash_attendance,
    .dash_events = hpg_dash_events,
    .dash_funnel = hpg_dash_funnel,
    .dash_cohorts = hpg_dash_cohorts,
    .dash_members = hpg_dash_members,
    .dash_referrers = hpg_dash_referrers,
    .dash_referral_tree = hpg_dash_referral_tree,
    .referral_of = hpg_referral_of,
    .dash_redirects = hpg_dash_redirects,
    .dash_links = hpg_dash_links,
    .dash_groups = hpg_dash_groups,
    .dash_tiers = hpg_dash_tiers,
    .referral_add = hpg_referral_add,
    .pass = &hpg_pass_ops,
    .webhook = &hpg_webhook_ops,
    .api = &hpg_api_ops,
};

/* The version the database's tables are at: 0 when there are none, -1 when it cannot be read. */
static int schema_version(pg *s)
{
	PGresult *r = PQexec(s->conn, "SELECT to_regclass('meta') IS NOT NULL");
	int have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (!ok)
		return -1;
	if (!have)
		return 0;
	r = PQexec(s->conn, "SELECT value FROM meta WHERE key = 'schema_version'");
	int v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return v;
}

/* What each version adds to the one before: steps[v - 2] takes version v - 1 to v. */
static const char *const steps[HPG_SCHEMA_VERSION - 1] = {hpg_pass_schema, hpg_api_schema};

/* A database without tables gets them, under a lock several starting nodes share. 0, or -1 with why. */
static int set_up(pg *s, const char *shown, char *why, size_t len)
{
	/* the lock's key: "tingzi-hub" as 8 bytes; held by this session until unlocked */
	if (hpg_exec(s, "SELECT pg_advisory_lock(7587054360829843298)") != HUB_OK) {
		snprintf(why, len, "%s: %s", shown, s->base.errmsg);
		return -1;
	}
	int version = schema_version(s);
	int rc = 0;
	if (version == 0) {
		char number[128];
		snprintf(number, sizeof number, "INSERT INTO meta(key, value) VALUES('schema_version', '%d')",
			 HPG_SCHEMA_VERSION);
		hub_err e = hpg_begin(s);
		if (e == HUB_OK)
			e = hpg_exec(s, hpg_schema);
		if (e == HUB_OK)
			e = hpg_exec(s, hpg_dash_schema);
		for (int i = 0; i < (int)(sizeof steps / sizeof *steps) && e == HUB_OK; i++)
			e = hpg_exec(s, steps[i]);
		if (e == HUB_OK)
			e = hpg_exec(s, number);
		e = hpg_end(s, e);
		if (e != HUB_OK) {
			snprintf(why, len, "cannot make the tables in %s: %s (the role needs CREATE on its schema:"
				 " see the README)", shown, s->base.errmsg);
			rc = -1;
		} else {
			fprintf(stderr, "tingzi-hub: made the tables (schema version %d) in %s\n", HPG_SCHEMA_VERSION,
				shown);
		}
	} else if (version < 0) {
		snprintf(why, len, "%s holds a table named meta that is not tingzi-hub's, or cannot be read: %s", shown,
			 PQerrorMessage(s->conn));
		rc = -1;
	} else if (version > HPG_SCHEMA_VERSION) {
		snprintf(why, len,
			 "%s has schema version %d, written by a newer tingzi-hub (this one knows %d); it is left as it is",
			 shown, version, HPG_SCHEMA_VERSION);
		rc = -1;
	}
	/* a version below HPG_SCHEMA_VERSION: one step per transaction */
	for (int v = version; rc == 0 && v >= 1 && v < HPG_SCHEMA_VERSION; v++) {
		char number[96];
		snprintf(number, sizeof number, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'", v + 1);
		hub_err e = hpg_begin(s);
		if (e == HUB_OK)
			e = hpg_exec(s, steps[v - 1]);
		if (e == HUB_OK)
			e = hpg_exec(s, number);
		if ((e = hpg_end(s, e)) != HUB_OK) {
			snprintf(why, len, "cannot upgrade %s from schema version %d: %s", shown, v, s->base.errmsg);
			rc = -1;
		} else {
			fprintf(stderr, "tingzi-hub: %s upgraded to schema version %d\n", shown, v + 1);
		}
	}
	PQclear(PQexec(s->conn, "SELECT pg_advisory_unlock(7587054360829843298)"));
	return rc;
}

/* The address without its password, for messages. */
static void shown_as(const char *conninfo, char *out, size_t len)
{
	const char *at = strchr(conninfo, '@'), *scheme = strstr(conninfo, "://");
	if (scheme && at && at > scheme)
		snprintf(out, len, "%.*s://…@%s", (int)(scheme - conninfo), conninfo, at + 1);
	else if (strstr(conninfo, "password"))
		snprintf(out, len, "the PostgreSQL database");
	else
		snprintf(out, len, "%s", conninfo);
	char *q = strchr(out, '?'); /* query options may carry a password too */
	if (q && strstr(q, "password"))
		*q = '\0';
}

hub_store *hub_store_pg_open(const char *conninfo, char *why, size_t len)
{
	char shown[256];
	shown_as(conninfo, shown, sizeof shown);
	pg *s = calloc(1, sizeof *s);
	if (!s || !(s->conninfo = strdup(conninfo))) {
		free(s);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	s->base.ops = &pg_ops;
	s->conn = PQconnectdb(conninfo);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";
		snprintf(why, len, "cannot connect to %s: %s", shown, m);
		why[strcspn(why, "\n")] = '\0';
		goto fail;
	}
	/* text results as this file reads them; times are numbers, never the server's zone */
	if (hpg_exec(s, "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; SET TIME ZONE 'UTC'") != HUB_OK) {
		snprintf(why, len, "%s: %s", shown, s->base.errmsg);
		goto fail;
	}
	if (set_up(s, shown, why, len) != 0)
		goto fail;
	return &s->base;
fail:
	PQfinish(s->conn);
	free(s->conninfo);
	free(s);
	return NULL;
}
