/*
 * store_sync — the kiosk's side of sync with tingzi-hub, as far as the
 * database goes: what to push, the hub's answers, and pulled pages. The
 * network and the JSON of the wire are in app/sync/client.c and app/sync/wire.c;
 * the rules in sync/PROTOCOL.md. The SQL is in store.c's table sql[].
 *
 * SCHEMA, VERSION 3
 *
 *   members, events: origin 'local' (made or imported here) or 'hub' (pulled);
 *       uploaded = 1 once the hub acknowledged a local one; active = 0 for
 *       one the hub deleted or merged (kept: check-ins refer to it).
 *   links: origin, and live_url, the hub's stable /j/SLUG address.
 *   outbox.exported_ms: when the row went out in a sneakernet file.
 *   dead_letters(seq, kind, record_id, body, reason, created_ms)
 *       records the hub refused for good, with its reason, for staff to see.
 *   pull_cursors(data_set, cursor, resetting, updated_ms)
 *       per data set, the hub's change sequence applied last.
 *   pull_stage(data_set, page, items)
 *       the pages of a snapshot being gathered (a "reset" answer).
 *
 * EXACTLY ONCE
 *
 * A record leaves the outbox only in store_outbox_ack(), after the hub
 * answered for it, in one transaction with everything the answer changes.
 * A crash before that transaction leaves the record queued; it is sent
 * again and the hub answers "duplicate". A crash after it leaves nothing to
 * send. Either way the hub holds it once.
 *
 * PULLED PAGES
 *
 * Each page's items and its cursor commit together, so a crash between pages
 * resumes after the last page applied. Items arrive as canonical JSON (every
 * field checked and typed by wire.c); the statements read them with
 * json_each(), so a page is a handful of set-wise statements, not a round
 * trip per item.
 *
 * ONE SYNC AT A TIME
 *
 * Two rounds on one database at once (the kiosk's worker and `tingzi sync`,
 * or two of those) would push the same batch twice, and the slower one would
 * find the hub's answers about rows already gone. store_sync_lock() keeps a
 * round to itself with flock() on "<database>.sync-lock": advisory, per open
 * file, and let go by the kernel when its holder exits, so a killed sync
 * never leaves it held. The file is opened for reading when it cannot be
 * written (made by another user); flock() works the same.
 */
#include "app/store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

store_err store_sync_lock(store *s, int64_t wait_ms, const atomic_int *cancel)
{
	if (s->sync_lock_fd)
		return STORE_OK;
	const char *db = sqlite3_db_filename(s->db, "main");
	char lock[4096];
	if (!db || !db[0] || snprintf(lock, sizeof lock, "%s.sync-lock", db) >= (int)sizeof lock) {
		snprintf(s->errmsg, sizeof s->errmsg, "no file name for the sync lock");
		return STORE_ERR_INTERNAL;
	}
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "cannot open the sync lock %.200s: %s", lock,
			 strerror(errno));
		return errno == EROFS || errno == EACCES ? STORE_ERR_READONLY : STORE_ERR_OPEN;
	}
	for (int64_t waited = 0;; waited += 50) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			s->sync_lock_fd = fd + 1;
			return STORE_OK;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(s->errmsg, sizeof s->errmsg, "cannot take the sync lock: %s",
				 strerror(errno));
			close(fd);
			return STORE_ERR_IO;
		}
		if (waited >= wait_ms || (cancel && *cancel)) {
			snprintf(s->errmsg, sizeof s->errmsg, "another sync of this database is running");
			close(fd);
			return STORE_ERR_BUSY;
		}
		nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	}
}

void store_sync_unlock(store *s)
{
	if (!s || !s->sync_lock_fd)
		return;
	flock(s->sync_lock_fd - 1, LOCK_UN);
	close(s->sync_lock_fd - 1);
	s->sync_lock_fd = 0;
}

static const char *const set_names[STORE_SET_COUNT] = {"members", "events", "links", "passes"};

const char *store_set_name(store_set set)
{
	return set < STORE_SET_COUNT ? set_names[set] : "?";
}

static store_err bind_run(store *s, enum store_stmt q, const char *items, int64_t now_ms)
{
	sqlite3_stmt *st = store_stmt(s, q);
	store_bind_text(st, 1, items);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, now_ms);
	return store_step_done(s, st);
}

store_err store_outbox_enqueue_local(store *s, int64_t now_ms, int64_t *added)
{
	int64_t n = 0;
	store_err err = store_tx_begin(s);
	if (err != STORE_OK)
		return err;
	static const enum store_stmt qs[] = {Q_ENQUEUE_MEMBERS, Q_ENQUEUE_EVENTS};
	for (size_t i = 0; i < 2 && err == STORE_OK; i++) {
		sqlite3_stmt *st = store_stmt(s, qs[i]);
		sqlite3_bind_int64(st, 1, now_ms);
		store_bind_text(st, 2, s->device_id);
		err = store_step_done(s, st);
		n += sqlite3_changes(s->db);
	}
	err = store_tx_end(s, err);
	if (added)
		*added = err == STORE_OK ? n : 0;
	return err;
}

/*
 * A check-in's fields, read from its body in one pass. The body is the flat
 * object Q_OUTBOX_CHECKIN made: keys and strings without escapes, integers,
 * true, false and null. json_extract() for each of eleven fields cost more
 * than everything else of a push on the kiosk's side; this reads the same
 * values (the first of a key, null as absent, true and false as 1 and 0).
 * It works on t, a copy of the body, ending the strings it hands out in
 * place. 1, or 0 for a body of another shape (an escape, a nested value, a
 * real number), which body_fields() then reads with SQLite's functions.
 */
enum {
	F_MEMBER,
	F_EVENT,
	F_KEY,
	F_METHOD,
	F_BOOT,
	F_WALL,
	F_MONO,
	F_SEQ,
	F_VISIT,
	F_EXPIRED,
	F_JOIN_QR,
	F_COUNT
};
static const char *const field_keys[F_COUNT] = {"member_uid", "event_uid", "attendance_key", "method",
						"boot_id",    "wall_ms",   "mono_ms",        "device_seq",
						"visit_no",   "expired",   "join_qr"};
#define F_FIRST_NUMBER F_WALL

static char *skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The end of a plain string's text (p just after its opening quote): its closing quote, or NULL. */
static char *plain_end(char *p)
{
	while (*p && *p != '"' && *p != '\\')
		p++;
	return *p == '"' ? p : NULL;
}

static int flat_fields(char *t, const char *str[], int64_t num[])
{
	int seen[F_COUNT] = {0};
	char *p = skip_ws(t);
	if (*p++ != '{')
		return 0;
	p = skip_ws(p);
	if (*p == '}')
		return *skip_ws(p + 1) == '\0';
	for (;;) {
		p = skip_ws(p);
		char *k = p + 1, *kend = *p == '"' ? plain_end(k) : NULL;
		if (!kend)
			return 0;
		p = skip_ws(kend + 1);
		if (*p++ != ':')
			return 0;
		p = skip_ws(p);
		int which = -1;
		for (int i = 0; i < F_COUNT && which < 0; i++)
			if (strlen(field_keys[i]) == (size_t)(kend - k) &&
			    memcmp(field_keys[i], k, (size_t)(kend - k)) == 0)
				which = i;
		int first = which >= 0 && !seen[which];
		if (which >= 0)
			seen[which] = 1;
		if (*p == '"') {
			char *v = p + 1, *vend = plain_end(v);
			if (!vend || (first && which >= F_FIRST_NUMBER))
				return 0;
			if (first)
				*vend = '\0', str[which] = v;
			p = vend + 1;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			char *v = p + (*p == '-');
			int64_t n = 0;
			int digits = 0;
			while (*v >= '0' && *v <= '9' && digits < 18)
				n = n * 10 + (*v++ - '0'), digits++;
			if (!digits || *v == '.' || *v == 'e' || *v == 'E' || (*v >= '0' && *v <= '9') ||
			    (first && which < F_FIRST_NUMBER))
				return 0;
			if (first)
				num[which - F_FIRST_NUMBER] = *p == '-' ? -n : n;
			p = v;
		} else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
			if (first && which < F_FIRST_NUMBER)
				return 0;
			if (first)
				num[which - F_FIRST_NUMBER] = *p == 't';
			p += *p == 't' ? 4 : 5;
		} else if (strncmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			return 0;
		}
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			return 0;
		return *skip_ws(p + 1) == '\0';
	}
}

/* What body_fields() hands out lives here until the next row. */
typedef struct body_buf {
	char *text;
	size_t cap;
	sqlite3_stmt *slow; /* the fields by json_extract(), for a body flat_fields() does not read */
} body_buf;

static const char slow_fields_sql[] =
    "SELECT json_extract(?1, '$.member_uid'), json_extract(?1, '$.event_uid'),"
    " json_extract(?1, '$.attendance_key'), json_extract(?1, '$.method'), json_extract(?1, '$.boot_id'),"
    " json_extract(?1, '$.wall_ms'), json_extract(?1, '$.mono_ms'), json_extract(?1, '$.device_seq'),"
    " json_extract(?1, '$.visit_no'), json_extract(?1, '$.expired'), json_extract(?1, '$.join_qr')";

/* r's check-in fields from r->body: STORE_OK (fields it lacks are NULL or 0), or an error. */
static store_err body_fields(store *s, store_outbox_rec *r, body_buf *bb)
{
	const char *str[F_FIRST_NUMBER] = {0};
	int64_t num[F_COUNT - F_FIRST_NUMBER] = {0};
	size_t n = strlen(r->body);
	if (n + 1 > bb->cap) {
		size_t cap = bb->cap ? bb->cap : 1024;
		while (cap < n + 1)
			cap *= 2;
		char *p = realloc(bb->text, cap);
		if (!p) {
			snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
			return STORE_ERR_INTERNAL;
		}
		bb->text = p, bb->cap = cap;
	}
	memcpy(bb->text, r->body, n + 1);
	if (!flat_fields(bb->text, str, num)) {
		if (!bb->slow) {
			int rc = sqlite3_prepare_v2(s->db, slow_fields_sql, -1, &bb->slow, NULL);
			if (rc != SQLITE_OK)
				return store_fail(s, rc);
		}
		sqlite3_reset(bb->slow);
		sqlite3_bind_text(bb->slow, 1, r->body, -1, SQLITE_STATIC);
		int rc = sqlite3_step(bb->slow);
		if (rc != SQLITE_ROW)
			return store_fail(s, rc);
		for (int i = 0; i < F_FIRST_NUMBER; i++)
			str[i] = (const char *)sqlite3_column_text(bb->slow, i);
		for (int i = F_FIRST_NUMBER; i < F_COUNT; i++)
			num[i - F_FIRST_NUMBER] = sqlite3_column_int64(bb->slow, i);
	}
	r->member_uid = str[F_MEMBER];
	r->event_uid = str[F_EVENT];
	r->attendance_key = str[F_KEY];
	r->method = str[F_METHOD];
	r->boot_id = str[F_BOOT];
	r->wall_ms = num[F_WALL - F_FIRST_NUMBER];
	r->mono_ms = num[F_MONO - F_FIRST_NUMBER];
	r->device_seq = num[F_SEQ - F_FIRST_NUMBER];
	r->visit_no = num[F_VISIT - F_FIRST_NUMBER];
	r->expired = (int)num[F_EXPIRED - F_FIRST_NUMBER];
	r->join_qr = (int)num[F_JOIN_QR - F_FIRST_NUMBER];
	return STORE_OK;
}

/* store_copy_col() without snprintf: twice for each record pushed */
static void copy_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = t ? strnlen(t, len - 1) : 0;
	memcpy(buf, t ? t : "", n);
	buf[n] = '\0';
}

/* Call fn for each row of an outbox query (seq, kind, record_id, body), already bound. */
static store_err each_rec(store *s, sqlite3_stmt *st, int (*fn)(const store_outbox_rec *r, void *ctx),
			  void *ctx, int *stop)
{
	store_outbox_rec r;
	body_buf bb = {0};
	store_err err = STORE_OK;
	int rc = SQLITE_DONE;
	while (!*stop && err == STORE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.seq = sqlite3_column_int64(st, 0);
		copy_text(st, 1, r.kind, sizeof r.kind);
		copy_text(st, 2, r.id, sizeof r.id);
		r.body = (const char *)sqlite3_column_text(st, 3);
		/* other kinds travel as their body */
		if (strcmp(r.kind, "checkin") == 0 && r.body)
			err = body_fields(s, &r, &bb);
		if (err == STORE_OK)
			*stop = fn(&r, ctx);
	}
	if (err == STORE_OK)
		err = *stop || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	sqlite3_finalize(bb.slow);
	free(bb.text);
	return err;
}

store_err store_outbox_batch(store *s, int max, int (*fn)(const store_outbox_rec *r, void *ctx), void *ctx)
{
	int stop = 0;
	sqlite3_stmt *st = store_stmt(s, Q_OUTBOX_FIRST);
	sqlite3_bind_int(st, 1, max);
	store_err err = each_rec(s, st, fn, ctx, &stop);
	if (err == STORE_OK && !stop) {
		st = store_stmt(s, Q_OUTBOX_REST);
		sqlite3_bind_int(st, 1, max);
		err = each_rec(s, st, fn, ctx, &stop);
	}
	return err;
}

store_err store_outbox_export(store *s, int first, int64_t after, int max,
			      int (*fn)(const store_outbox_rec *r, void *ctx), void *ctx)
{
	int stop = 0;
	sqlite3_stmt *st = store_stmt(s, Q_OUTBOX_EXPORT);
	sqlite3_bind_int(st, 1, first ? 1 : 0);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, max);
	return each_rec(s, st, fn, ctx, &stop);
}

store_err store_outbox_mark_exported(store *s, int64_t from_seq, int64_t to_seq, int64_t now_ms)
{
	if (s->readonly)
		return store_refuse_readonly(s);
	sqlite3_stmt *st = store_stmt(s, Q_OUTBOX_EXPORTED);
	sqlite3_bind_int64(st, 1, from_seq);
	sqlite3_bind_int64(st, 2, to_seq);
	sqlite3_bind_int64(st, 3, now_ms);
	return store_step_done(s, st);
}

/* Take one answer: returns STORE_OK also when the record was not queued. */
static store_err ack_one(store *s, const store_ack *a, int64_t now_ms, int64_t *removed)
{
	sqlite3_stmt *st;
	store_err err;
	if (a->status == STORE_ACK_REJECTED) {
		st = store_stmt(s, Q_OUTBOX_DEAD);
		store_bind_text(st, 1, a->id);
		store_bind_text(st, 2, a->reason[0] ? a->reason : "rejected");
		sqlite3_bind_int64(st, 3, now_ms);
		if ((err = store_step_done(s, st)) != STORE_OK)
			return err;
	}
	st = store_stmt(s, Q_OUTBOX_DELETE);
	store_bind_text(st, 1, a->id);
	int rc = sqlite3_step(st);
	char kind[16] = "";
	if (rc == SQLITE_ROW)
		store_copy_col(st, 0, kind, sizeof kind);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc);
	if (!kind[0])
		return STORE_OK; /* answered before, or never ours */
	(*removed)++;
	if (strcmp(kind, "member") == 0) {
		/* handled for good, also when refused: it is in the dead letters */
		st = store_stmt(s, Q_MEMBER_UPLOADED);
		store_bind_text(st, 1, a->id);
		if ((err = store_step_done(s, st)) != STORE_OK)
			return err;
		if (a->merged_into[0] && strcmp(a->merged_into, a->id) != 0) {
			st = store_stmt(s, Q_MEMBER_MERGED);
			store_bind_text(st, 1, a->id);
			store_bind_text(st, 2, a->merged_into);
			return store_step_done(s, st);
		}
	} else if (strcmp(kind, "event") == 0) {
		st = store_stmt(s, Q_EVENT_UPLOADED);
		store_bind_text(st, 1, a->id);
		return store_step_done(s, st);
	}
	return STORE_OK;
}

/* ids as a JSON array of strings, for json_each(): malloc'd, or NULL when out of memory. */
static char *ids_json(const store_ack *acks, size_t n, int (*take)(const store_ack *a))
{
	size_t cap = 2 + 1, k = 0;
	for (size_t i = 0; i < n; i++)
		if (take(&acks[i]))
			cap += 6 * strlen(acks[i].id) + 3;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	out[k++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (!take(&acks[i]))
			continue;
		if (k > 1)
			out[k++] = ',';
		out[k++] = '"';
		for (const unsigned char *p = (const unsigned char *)acks[i].id; *p; p++) {
			if (*p == '"' || *p == '\\')
				out[k++] = '\\', out[k++] = (char)*p;
			else if (*p < 0x20)
				k += (size_t)snprintf(out + k, cap - k, "\\u%04x", *p);
			else
				out[k++] = (char)*p;
		}
		out[k++] = '"';
	}
	out[k++] = ']';
	out[k] = '\0';
	return out;
}

static int plain_ack(const store_ack *a)
{
	return a->status != STORE_ACK_REJECTED;
}

/*
 * The plain answers (ok or duplicate) for check-ins and the like: their
 * rows leave the outbox in one statement. A statement for each row, with
 * RETURNING and its temporary table, cost more than all the rest of a push
 * on the kiosk's side. *members says whether a member or event was among
 * them (ack_one() then takes those).
 */
static store_err ack_plain(store *s, const char *ids, int64_t *removed, int *members)
{
	static const char *const sql[] = {
	    "DELETE FROM outbox WHERE record_id IN (SELECT value FROM json_each(?1))"
	    " AND kind NOT IN ('member', 'event')",
	    "SELECT 1 FROM outbox WHERE kind IN ('member', 'event')"
	    " AND record_id IN (SELECT value FROM json_each(?1)) LIMIT 1",
	};
	store_err err = STORE_OK;
	for (int q = 0; q < 2 && err == STORE_OK; q++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(s->db, sql[q], -1, &st, NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc);
		sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (q == 0 && rc == SQLITE_DONE)
			*removed += sqlite3_changes(s->db);
		if (q == 1)
			*members = rc == SQLITE_ROW;
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			err = store_fail(s, rc);
		sqlite3_finalize(st);
	}
	return err;
}

store_err store_outbox_ack(store *s, const store_ack *acks, size_t n, int64_t now_ms, int64_t *removed)
{
	int64_t gone = 0;
	int members = 0;
	char *ids = ids_json(acks, n, plain_ack);
	if (!ids) {
		snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
		return STORE_ERR_INTERNAL;
	}
	/* an answer that refuses a record, or one for a member or event: each in turn, as they came (rare) */
	int each = 0;
	for (size_t i = 0; i < n && !each; i++)
		each = !plain_ack(&acks[i]);
	/*
	 * The answers are written down without waiting for the disk
	 * (synchronous=NORMAL for this one transaction): the hub holds what it
	 * answered for, so a power cut that loses this transaction only has
	 * the records sent again and answered "duplicate". The next check-in's
	 * commit (synchronous=FULL) makes it durable with its own; the WAL
	 * keeps commits in order, so nothing after it can outlive it. A push
	 * of 1000 spent four fsync()s here, two of them in this commit's own.
	 */
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	store_err err = store_tx_begin(s);
	if (err == STORE_OK && !each)
		err = ack_plain(s, ids, &gone, &members);
	for (size_t i = 0; i < n && err == STORE_OK && (each || members); i++)
		err = ack_one(s, &acks[i], now_ms, &gone);
	err = store_tx_end(s, err);
	int rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK && err == STORE_OK) {
		snprintf(s->errmsg, sizeof s->errmsg, "synchronous=FULL did not take again: %s",
			 sqlite3_errmsg(s->db));
		err = STORE_ERR_IO;
	}
	free(ids);
	if (removed)
		*removed = err == STORE_OK ? gone : 0;
	return err;
}

int64_t store_dead_letter_count(store *s)
{
	sqlite3_stmt *st = store_stmt(s, Q_DEAD_COUNT);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

store_err store_dead_letters_foreach(store *s, int (*fn)(const store_dead_letter *d, void *ctx), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_DEAD_ALL);
	store_dead_letter d;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof d);
		d.seq = sqlite3_column_int64(st, 0);
		store_copy_col(st, 1, d.kind, sizeof d.kind);
		store_copy_col(st, 2, d.id, sizeof d.id);
		store_copy_col(st, 3, d.reason, sizeof d.reason);
		d.created_ms = sqlite3_column_int64(st, 4);
		if (fn(&d, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

/* ---- pull ---- */

store_err store_pull_cursor(store *s, store_set set, int64_t *cursor, int *resetting, int64_t *updated_ms)
{
	sqlite3_stmt *st = store_stmt(s, Q_CURSOR_GET);
	store_bind_text(st, 1, store_set_name(set));
	int rc = sqlite3_step(st);
	*cursor = 0;
	if (resetting)
		*resetting = 0;
	if (updated_ms)
		*updated_ms = 0;
	if (rc == SQLITE_ROW) {
		*cursor = sqlite3_column_int64(st, 0);
		if (resetting)
			*resetting = sqlite3_column_int(st, 1);
		if (updated_ms)
			*updated_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
}

static store_err set_cursor(store *s, store_set set, int64_t cursor, int resetting, int64_t now_ms)
{
	sqlite3_stmt *st = store_stmt(s, Q_CURSOR_SET);
	store_bind_text(st, 1, store_set_name(set));
	sqlite3_bind_int64(st, 2, cursor);
	sqlite3_bind_int(st, 3, resetting);
	sqlite3_bind_int64(st, 4, now_ms);
	return store_step_done(s, st);
}

/* The statements that apply a page of events and links, in order. */
static const enum store_stmt apply_events[] = {Q_PULL_E_UPSERT, Q_PULL_E_GONE};
static const enum store_stmt apply_links[] = {Q_PULL_L_DEFAULT, Q_PULL_L_UPSERT, Q_PULL_L_GONE};
static const enum store_stmt apply_passes[] = {Q_PULL_P_KEYS, Q_PULL_P_TIERS, Q_PULL_P_REVOKED};

/*
 * A page of members is read out of its JSON once, into a temporary table of
 * plain columns, and the statements that apply it read that table. Each of
 * them reading the JSON itself (json_each() and a json_extract() a field)
 * went over every item six times: a kiosk's first sync of 100 000 members
 * spent 1.9 s applying them, 1.1 s now. The steps keep their order and
 * meaning: merged members take their survivor's uid; a local member with
 * the phone or code of a hub member becomes that member; a phone or code a
 * page gives to another member is taken from the one that had it; the
 * page's members are written; deleted and merged ones are retired.
 */
enum {
	PM_CLEAR,
	PM_FILL,
	PM_MERGED,
	PM_ADOPT,
	PM_FREE_PHONE,
	PM_FREE_CODE,
	PM_UPSERT,
	PM_GONE,
	PM_COUNT
};

static const char pm_table[] = "CREATE TEMP TABLE IF NOT EXISTS pulled_members(uid TEXT, name TEXT,"
			       " phone TEXT, code TEXT, tier TEXT, expires TEXT, deleted INTEGER,"
			       " merged_into TEXT)";

static const char *const pm_sql[PM_COUNT] = {
    [PM_CLEAR] = "DELETE FROM temp.pulled_members",
    [PM_FILL] = "INSERT INTO temp.pulled_members SELECT json_extract(value, '$.uid'),"
		" json_extract(value, '$.name'), json_extract(value, '$.phone'), json_extract(value, '$.code'),"
		" json_extract(value, '$.tier'), json_extract(value, '$.expires'),"
		" json_extract(value, '$.deleted'), json_extract(value, '$.merged_into') FROM json_each(?1)",
    [PM_MERGED] = "UPDATE members SET uid = j.merged_into, origin = 'hub' FROM temp.pulled_members AS j"
		  " WHERE j.merged_into IS NOT NULL AND members.uid = j.uid"
		  " AND NOT EXISTS (SELECT 1 FROM members x WHERE x.uid = j.merged_into)",
    [PM_ADOPT] = "UPDATE members SET uid = j.uid, origin = 'hub' FROM temp.pulled_members AS j"
		 " WHERE j.deleted = 0 AND j.merged_into IS NULL AND members.origin = 'local'"
		 " AND members.uid <> j.uid AND (members.phone = j.phone OR members.code = j.code)"
		 " AND NOT EXISTS (SELECT 1 FROM members x WHERE x.uid = j.uid)",
    [PM_FREE_PHONE] = "UPDATE members SET phone = NULL"
		      " WHERE phone IN (SELECT phone FROM temp.pulled_members WHERE deleted = 0)"
		      " AND (phone, uid) NOT IN (SELECT phone, uid FROM temp.pulled_members WHERE phone IS NOT NULL)",
    [PM_FREE_CODE] = "UPDATE members SET code = NULL"
		     " WHERE code IN (SELECT code FROM temp.pulled_members WHERE deleted = 0)"
		     " AND (code, uid) NOT IN (SELECT code, uid FROM temp.pulled_members WHERE code IS NOT NULL)",
    [PM_UPSERT] = "INSERT INTO members(uid, name, phone, code, tier, expires, provisional, origin, uploaded,"
		  " active, created_ms, updated_ms) SELECT uid, name, phone, code, tier, expires, 0, 'hub', 1, 1,"
		  " ?1, ?1 FROM temp.pulled_members WHERE deleted = 0 AND merged_into IS NULL ORDER BY rowid"
		  " ON CONFLICT(uid) DO UPDATE SET name = excluded.name, phone = excluded.phone,"
		  " code = excluded.code, tier = excluded.tier, expires = excluded.expires, provisional = 0,"
		  " origin = 'hub', uploaded = 1, active = 1, updated_ms = excluded.updated_ms",
    /* in parentheses: one string made of two (clang asks, in an array of strings) */
    [PM_GONE] = ("UPDATE members SET active = 0 WHERE uid IN"
		 " (SELECT uid FROM temp.pulled_members WHERE deleted = 1 OR merged_into IS NOT NULL)"),
};

/* The statements of member pages, prepared for one apply or swap. */
typedef struct pm_stmts {
	sqlite3_stmt *st[PM_COUNT];
	int no_local; /* no local member to adopt: PM_ADOPT is skipped */
} pm_stmts;

static void pm_done(pm_stmts *pm)
{
	for (int i = 0; i < PM_COUNT; i++)
		sqlite3_finalize(pm->st[i]);
	memset(pm, 0, sizeof *pm);
}

/* Before the transaction: the temporary table (made once a connection) and the statements. */
static store_err pm_prepare(store *s, pm_stmts *pm)
{
	memset(pm, 0, sizeof *pm);
	if (s->readonly)
		return store_refuse_readonly(s);
	int rc = sqlite3_exec(s->db, pm_table, NULL, NULL, NULL);
	for (int i = 0; i < PM_COUNT && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(s->db, pm_sql[i], -1, &pm->st[i], NULL);
	if (rc != SQLITE_OK) {
		store_err err = store_fail(s, rc);
		pm_done(pm);
		return err;
	}
	return STORE_OK;
}

static store_err pm_apply(store *s, pm_stmts *pm, const char *items, int64_t now_ms)
{
	sqlite3_bind_text(pm->st[PM_FILL], 1, items, -1, SQLITE_STATIC);
	sqlite3_bind_int64(pm->st[PM_UPSERT], 1, now_ms);
	store_err err = STORE_OK;
	for (int i = 0; i < PM_COUNT && err == STORE_OK; i++)
		if (i != PM_ADOPT || !pm->no_local)
			err = store_step_done(s, pm->st[i]);
	sqlite3_clear_bindings(pm->st[PM_FILL]);
	return err;
}

static store_err apply_page(store *s, store_set set, pm_stmts *pm, const char *items, int64_t now_ms)
{
	if (strcmp(items, "[]") == 0) /* an empty page changes nothing (a round with nothing new) */
		return STORE_OK;
	if (set == STORE_SET_MEMBERS)
		return pm_apply(s, pm, items, now_ms);
	const enum store_stmt *q = set == STORE_SET_EVENTS ? apply_events
				   : set == STORE_SET_LINKS ? apply_links
							    : apply_passes;
	size_t n = set == STORE_SET_EVENTS  ? sizeof apply_events / sizeof *q
		   : set == STORE_SET_LINKS ? sizeof apply_links / sizeof *q
					    : sizeof apply_passes / sizeof *q;
	store_err err = STORE_OK;
	for (size_t i = 0; i < n && err == STORE_OK; i++)
		err = bind_run(s, q[i], items, now_ms);
	return err;
}

store_err store_pull_apply(store *s, store_set set, const char *items, int64_t next, int64_t now_ms)
{
	if (set >= STORE_SET_COUNT)
		return STORE_ERR_INVALID;
	pm_stmts pm = {0};
	store_err err = set == STORE_SET_MEMBERS && strcmp(items, "[]") != 0 ? pm_prepare(s, &pm) : STORE_OK;
	if (err == STORE_OK)
		err = store_tx_begin(s);
	if (err != STORE_OK) {
		pm_done(&pm);
		return err;
	}
	err = apply_page(s, set, &pm, items, now_ms);
	if (err == STORE_OK)
		err = set_cursor(s, set, next, 0, now_ms);
	err = store_tx_end(s, err);
	pm_done(&pm);
	return err;
}

store_err store_pull_stage(store *s, store_set set, int page, const char *items, int64_t now_ms)
{
	if (set >= STORE_SET_COUNT || page < 0)
		return STORE_ERR_INVALID;
	store_err err = store_tx_begin(s);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st;
	if (page == 0) {
		st = store_stmt(s, Q_STAGE_CLEAR);
		store_bind_text(st, 1, store_set_name(set));
		err = store_step_done(s, st);
	}
	if (err == STORE_OK) {
		st = store_stmt(s, Q_STAGE_ADD);
		store_bind_text(st, 1, store_set_name(set));
		sqlite3_bind_int(st, 2, page);
		store_bind_text(st, 3, items);
		err = store_step_done(s, st);
	}
	if (err == STORE_OK) { /* the cursor stays; only "a reset is under way" is noted */
		int64_t cursor;
		err = store_pull_cursor(s, set, &cursor, NULL, NULL);
		if (err == STORE_OK)
			err = set_cursor(s, set, cursor, 1, now_ms);
	}
	return store_tx_end(s, err);
}

store_err store_pull_swap(store *s, store_set set, int64_t next, int64_t now_ms)
{
	if (set >= STORE_SET_COUNT)
		return STORE_ERR_INVALID;
	pm_stmts pm = {0};
	store_err err = set == STORE_SET_MEMBERS ? pm_prepare(s, &pm) : STORE_OK;
	if (err == STORE_OK)
		err = store_tx_begin(s);
	if (err != STORE_OK) {
		pm_done(&pm);
		return err;
	}
	if (err == STORE_OK && set == STORE_SET_MEMBERS) {
		/*
		 * Whether any member was made here and not yet adopted, looked up
		 * once for the whole snapshot: none can appear while it is applied
		 * (its pages only adopt or write hub members), and a kiosk that has
		 * none (a new one, most often) skips looking each page's members up
		 * by phone and code (about 0.1 s of a snapshot of 100 000).
		 */
		sqlite3_stmt *q;
		int rc = sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS (SELECT 1 FROM members WHERE origin = 'local')",
					    -1, &q, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
			pm.no_local = sqlite3_column_int(q, 0), rc = SQLITE_OK;
		sqlite3_finalize(q);
		if (rc != SQLITE_OK)
			err = store_fail(s, rc);
	}
	static const enum store_stmt retire[STORE_SET_COUNT] = {Q_PULL_M_SNAPSHOT, Q_PULL_E_SNAPSHOT,
								 Q_PULL_L_SNAPSHOT, Q_PULL_P_SNAPSHOT};
	sqlite3_stmt *st = store_stmt(s, retire[set]);
	err = store_step_done(s, st);
	/* then every gathered page, in order; a page's text stays valid while
	 * it is applied, because applying it resets no statement but its own */
	sqlite3_stmt *pages = store_stmt(s, Q_STAGE_PAGES);
	store_bind_text(pages, 1, store_set_name(set));
	int rc;
	while (err == STORE_OK && (rc = sqlite3_step(pages)) == SQLITE_ROW) {
		const char *items = (const char *)sqlite3_column_text(pages, 0);
		err = apply_page(s, set, &pm, items ? items : "[]", now_ms);
	}
	if (err == STORE_OK && rc != SQLITE_DONE)
		err = store_fail(s, rc);
	sqlite3_reset(pages);
	if (err == STORE_OK) {
		st = store_stmt(s, Q_STAGE_CLEAR);
		store_bind_text(st, 1, store_set_name(set));
		err = store_step_done(s, st);
	}
	if (err == STORE_OK)
		err = set_cursor(s, set, next, 0, now_ms);
	err = store_tx_end(s, err);
	pm_done(&pm);
	return err;
}
