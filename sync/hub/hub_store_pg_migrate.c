/*
 * hub_store_pg_migrate — a SQLite hub's data moved into an empty PostgreSQL
 * store (tingzi-hub migrate), all or nothing.
 *
 * Every table the stores share is copied with COPY in one PostgreSQL
 * transaction, row numbers kept (SQLite's rowid becomes rid, so check-ins
 * still name their members' and attendances their check-ins' rows), the
 * identity columns moved past the copied numbers, and each table counted on
 * both sides before the commit: a difference rolls everything back. The
 * SQLite file is opened read-only and read in one transaction, so a hub
 * still running on it may go on meanwhile (what it stores after the copy
 * began is not in the copy: stop it first for a final move).
 *
 * The dashboard's summaries are not copied: PostgreSQL's dash_refresh
 * makes them from the copied check-ins.
 */
#include "sync/hub/hub_store_pg_impl.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQLite schema version whose tables this copies (HSQ_SCHEMA_VERSION of hub_store_sqlite_impl.h). */
#define HSQ_MIGRATE_VERSION 6

typedef struct table {
	const char *name;
	const char *from; /* SQLite's select list (FROM the table, or FROM what ' FROM ' in it names) */
	const char *to;	  /* PostgreSQL's columns, in the same order */
	const char *identity; /* the PostgreSQL column whose sequence follows the copy, or NULL */
} table;

/* Parents before children (foreign keys). */
static const table tables[] = {
    {"venues", "id, name, tz, slug, created_ms", "id, name, tz, slug, created_ms", NULL},
    {"set_seqs", "venue_id, data_set, last", "venue_id, data_set, last", NULL},
    {"enroll_codes", "code_hash, venue_id, created_ms, expires_ms, used_ms, device_id",
     "code_hash, venue_id, created_ms, expires_ms, used_ms, device_id", NULL},
    {"devices",
     "id, venue_id, name, public_key, token_hash, enrolled_ms, revoked_ms, last_seen_ms, offset_ms, queue_pending,"
     " queue_dead, queue_ms",
     "id, venue_id, name, public_key, token_hash, enrolled_ms, revoked_ms, last_seen_ms, offset_ms, queue_pending,"
     " queue_dead, queue_ms",
     NULL},
    {"members",
     "rowid, uid, venue_id, name, phone, code, tier, expires, provisional, deleted, merged_into, seq, origin_device,"
     " created_ms, updated_ms",
     "rid, uid, venue_id, name, phone, code, tier, expires, provisional, deleted, merged_into, seq, origin_device,"
     " created_ms, updated_ms",
     "rid"},
    {"events", "rowid, uid, venue_id, title, start_ms, end_ms, deleted, seq, origin_device, created_ms",
     "rid, uid, venue_id, title, start_ms, end_ms, deleted, seq, origin_device, created_ms", "rid"},
    {"links",
     "rowid, uid, venue_id, platform, label, url, expires_ms, cap, event_uid, is_default, slug, redirects, deleted,"
     " seq, created_ms",
     "rid, uid, venue_id, platform, label, url, expires_ms, cap, event_uid, is_default, slug, redirects, deleted,"
     " seq, created_ms",
     "rid"},
    {"checkins",
     "rowid, id, venue_id, device_id, member_uid, member_sent, event_uid, method, wall_ms, mono_ms, boot,"
     " device_seq, visit, flags, kiosk_day, offset_ms, corrected_ms, day, akey, duplicate_of, reversed,"
     " received_ms, member_rid",
     "rid, id, venue_id, device_id, member_uid, member_sent, event_uid, method, wall_ms, mono_ms, boot,"
     " device_seq, visit, flags, kiosk_day, offset_ms, corrected_ms, day, akey, duplicate_of, reversed,"
     " received_ms, member_rid",
     "rid"},
    {"attendances", "akey, member_rid, checkin_rid", "akey, member_rid, checkin_rid", NULL},
    {"records",
     "rowid, id, kind, venue_id, device_id, body, wall_ms, received_ms, session, action, detail, checkin, reason,"
     " seq",
     "rid, id, kind, venue_id, device_id, body, wall_ms, received_ms, session, action, detail, checkin, reason,"
     " seq",
     "rid"},
    {"rejections", "device_id, id, reason, at_ms", "device_id, id, reason, at_ms", NULL},
    {"users",
     "id, email, role, pwhash, setup_hash, setup_expires_ms, created_ms, disabled_ms, password_ms",
     "id, email, role, pwhash, setup_hash, setup_expires_ms, created_ms, disabled_ms, password_ms", NULL},
    {"user_venues", "user_id, venue_id", "user_id, venue_id", NULL},
    {"sessions", "hash, user_id, created_ms, seen_ms", "hash, user_id, created_ms, seen_ms", NULL},
    {"login_failures", "key, at_ms", "key, at_ms", NULL},
    {"console_audit", "rowid, at_ms, user_id, venue_id, action, detail", "rid, at_ms, user_id, venue_id, action, detail",
     "rid"},
    /* PostgreSQL's referrals keep the venue (its dashboard reads them by venue) */
    {"referrals",
     "r.member_rid, r.referrer_rid, r.via, r.at_ms, r.day, m.venue_id FROM referrals r"
     " JOIN members m ON m.rowid = r.member_rid",
     "member_rid, referrer_rid, via, at_ms, day, venue_id", NULL},
    {"live_days", "day, slug, venue_id, redirects, missed, with_ref", "day, slug, venue_id, redirects, missed, with_ref",
     NULL},
    {"ref_days", "day, slug, ref, venue_id, n", "day, slug, ref, venue_id, n", NULL},
    /* member passes: sealed keys move as they are (the same key file opens them) */
    {"pass_keys", "venue_id, kid, public_key, sealed, created_ms, retired_ms, seq",
     "venue_id, kid, public_key, sealed, created_ms, retired_ms, seq", NULL},
    {"pass_venues", "venue_id, tiers_seq, slug, enabled, terms, updated_ms",
     "venue_id, tiers_seq, slug, enabled, terms, updated_ms", NULL},
    {"pass_tiers", "venue_id, idx, name", "venue_id, idx, name", NULL},
    {"pass_members", "venue_id, number, member_uid, last_issued_min, revoked_before, revoked_seq",
     "venue_id, number, member_uid, last_issued_min, revoked_before, revoked_seq", NULL},
    {"pass_addresses", "hash, venue_id, number, member_uid, pass, tier, expires, issued_ms, revoked_ms",
     "hash, venue_id, number, member_uid, pass, tier, expires, issued_ms, revoked_ms", NULL},
    /* the open API and webhooks; subscriptions after check-ins and members, whose copies would
     * otherwise make webhook events through PostgreSQL's triggers; SQLite numbers events across
     * venues, which keeps each venue's in order */
    {"api_tokens", "id, venue_id, name, scope, hash, device_id, created_ms, created_by, revoked_ms, last_used_ms",
     "id, venue_id, name, scope, hash, device_id, created_ms, created_by, revoked_ms, last_used_ms", NULL},
    {"webhook_events", "venue_id, seq, type, body, created_ms", "venue_id, seq, type, body, created_ms", NULL},
    {"webhook_deliveries", "id, sub_id, event_seq, type, attempt, at_ms, status, ms, outcome, why",
     "id, sub_id, event_seq, type, attempt, at_ms, status, ms, outcome, why", "id"},
    {"webhook_marks", "kind, key, at_ms", "kind, key, at_ms", NULL},
    {"webhook_subs",
     "id, venue_id, url, types, secret, created_ms, created_by, disabled_ms, disabled_why, cursor, attempts, next_ms,"
     " 0, ''",
     "id, venue_id, url, types, secret, created_ms, created_by, disabled_ms, disabled_why, cursor, attempts, next_ms,"
     " lease_until, lease_node",
     NULL},
};

/* A growing line of COPY's text format. */
typedef struct line {
	char *buf;
	size_t len, cap;
} line;

static int put(line *l, const char *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1 << 16;
		while (cap < l->len + n)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b)
			return -1;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	return 0;
}

/* One SQLite value as COPY text: \N for NULL, \\x... for bytes, text with \, tab and newlines escaped. */
static int put_value(line *l, sqlite3_stmt *st, int col)
{
	static const char hex[] = "0123456789abcdef";
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return put(l, "\\N", 2);
	case SQLITE_BLOB: {
		const unsigned char *b = sqlite3_column_blob(st, col);
		int n = sqlite3_column_bytes(st, col);
		if (put(l, "\\\\x", 3) != 0)
			return -1;
		for (int i = 0; i < n; i++) {
			char two[2] = {hex[b[i] >> 4], hex[b[i] & 15]};
			if (put(l, two, 2) != 0)
				return -1;
		}
		return 0;
	}
	default: {
		const char *t = (const char *)sqlite3_column_text(st, col);
		for (const char *p = t ? t : ""; *p; p++) {
			const char *esc = *p == '\\' ? "\\\\" : *p == '\t' ? "\\t" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;
			if (esc ? put(l, esc, 2) : put(l, p, 1))
				return -1;
		}
		return 0;
	}
	}
}

static int64_t count_pg(PGconn *c, const char *name)
{
	char q[128];
	snprintf(q, sizeof q, "SELECT count(*) FROM %s", name);
	PGresult *r = PQexec(c, q);
	int64_t n = PQresultStatus(r) == PGRES_TUPLES_OK ? hpg_int(r, 0, 0) : -1;
	PQclear(r);
	return n;
}

/* 1 when SQLite's file has the table (an older file may lack the newest ones). */
static int sqlite_has(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int has = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		has = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return has;
}

/* Copy one table; its rows counted into *copied. 0, or -1 with why. */
static int copy_table(sqlite3 *db, PGconn *c, const table *t, int64_t *copied, FILE *progress, char *why, size_t len)
{
	char q[1024];
	if (strstr(t->from, " FROM "))
		snprintf(q, sizeof q, "SELECT %s", t->from);
	else
		snprintf(q, sizeof q, "SELECT %s FROM %s", t->from, t->name);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, len, "reading %s: %s", t->name, sqlite3_errmsg(db));
		return -1;
	}
	snprintf(q, sizeof q, "COPY %s(%s) FROM STDIN", t->name, t->to);
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		snprintf(why, len, "writing %s: %s", t->name, PQresultErrorMessage(r));
		PQclear(r);
		sqlite3_finalize(st);
		return -1;
	}
	PQclear(r);
	line l = {0};
	int64_t n = 0;
	int rc, bad = 0, cols = sqlite3_column_count(st);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < cols && !bad; i++)
			bad = (i && put(&l, "\t", 1)) || put_value(&l, st, i);
		bad = bad || put(&l, "\n", 1);
		n++;
		if (!bad && l.len > (1 << 20)) {
			bad = PQputCopyData(c, l.buf, (int)l.len) != 1;
			l.len = 0;
		}
		if (progress && n % 200000 == 0)
			fprintf(progress, "  %s: %lld rows\n", t->name, (long long)n);
	}
	if (!bad && rc != SQLITE_DONE) {
		snprintf(why, len, "reading %s: %s", t->name, sqlite3_errmsg(db));
		bad = 2;
	}
	if (bad == 0 && l.len)
		bad = PQputCopyData(c, l.buf, (int)l.len) != 1;
	free(l.buf);
	sqlite3_finalize(st);
	if (PQputCopyEnd(c, bad ? "the copy was stopped" : NULL) != 1 && !bad)
		bad = 1;
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && bad != 2)
		snprintf(why, len, "writing %s: %s", t->name, bad == 1 && !PQresultErrorMessage(r)[0] ? "out of memory"
											       : PQresultErrorMessage(r));
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK && !bad;
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	why[strcspn(why, "\n")] = '\0';
	*copied = n;
	return ok ? 0 : -1;
}

int hub_store_pg_migrate(const char *sqlite_path, hub_store *to, FILE *progress, char *why, size_t len)
{
	pg *s = (pg *)to;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, len, "cannot open %s: %s", sqlite_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	int rc = -1;
	sqlite3_stmt *st = NULL;
	int version = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != HSQ_MIGRATE_VERSION || !sqlite_has(db, "checkins")) {
		snprintf(why, len,
			 "%s is not a tingzi-hub database at schema version %d (it is at %d): open it once with this"
			 " tingzi-hub (tingzi-hub --db %s venues list) to bring it up to date, then migrate",
			 sqlite_path, HSQ_MIGRATE_VERSION, version, sqlite_path);
		sqlite3_close(db);
		return -1;
	}
	/* one read transaction: the copy is of one moment of the file */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (hpg_begin(s) != HUB_OK) {
		snprintf(why, len, "%s", s->base.errmsg);
		goto out;
	}
	/* the target must be empty: nothing a hub stored there is ever overwritten */
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		int64_t n = count_pg(s->conn, tables[i].name);
		if (n != 0) {
			snprintf(why, len, n < 0 ? "the PostgreSQL database has no table %s: %s"
						 : "the PostgreSQL database is not empty (%s has rows): migrate moves a hub into"
						   " an empty one",
				 tables[i].name, n < 0 ? PQerrorMessage(s->conn) : "");
			why[strcspn(why, "\n")] = '\0';
			goto out_pg;
		}
	}
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		const table *t = &tables[i];
		if (!sqlite_has(db, t->name))
			continue;
		int64_t copied = 0;
		if (copy_table(db, s->conn, t, &copied, progress, why, len) != 0)
			goto out_pg;
		int64_t there = count_pg(s->conn, t->name);
		if (there != copied) {
			snprintf(why, len, "%s: %lld rows read, %lld in PostgreSQL: nothing was kept", t->name,
				 (long long)copied, (long long)there);
			goto out_pg;
		}
		if (t->identity) {
			char q[256];
			snprintf(q, sizeof q,
				 "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
				 t->name, t->identity, t->identity, t->name);
			if (hpg_exec(s, q) != HUB_OK) {
				snprintf(why, len, "%s: %s", t->name, s->base.errmsg);
				goto out_pg;
			}
		}
		if (progress)
			fprintf(progress, "  %-15s %lld rows, counted the same on both sides\n", t->name, (long long)copied);
	}
	/* each venue's webhook events go on numbering after the copied ones */
	if (hpg_exec(s, "INSERT INTO set_seqs(venue_id, data_set, last) SELECT venue_id, 'webhooks', max(seq)"
			" FROM webhook_events GROUP BY venue_id ON CONFLICT(venue_id, data_set) DO UPDATE"
			" SET last = greatest(set_seqs.last, excluded.last)") != HUB_OK) {
		snprintf(why, len, "webhook events: %s", s->base.errmsg);
		goto out_pg;
	}
	if (hpg_commit(s) != HUB_OK) {
		snprintf(why, len, "%s", s->base.errmsg);
		goto out;
	}
	rc = 0;
	goto out;
out_pg:
	hpg_rollback(s, HUB_ERR);
out:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}
