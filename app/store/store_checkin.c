/*
 * store_checkin — events, check-ins and the outbox. See store.c for the
 * schema and the rules of durability; the SQL is in its table sql[].
 *
 * A check-in is the kiosk's hot path (scan -> committed -> welcome frame
 * within one 60 Hz frame), so store_checkin_record() does only indexed
 * lookups on prepared statements inside one BEGIN IMMEDIATE transaction:
 *
 *   member row          members primary key
 *   event uid           events primary key (the key must mean the same event
 *                       on every device, so it is the uid, not the row id)
 *   earlier attendance  UNIQUE(member_id, attendance_key)
 *   device_seq          settings primary key, read and written
 *   visit count         the same unique index, this member's entries only
 *   insert check-in     five b-trees: table, id, (member, key), event, time
 *   insert outbox row   json_object() over the new row, joined by primary keys
 *   COMMIT              one WAL append and fsync (synchronous=FULL)
 *
 * The outbox body of a check-in is
 *   {"id", "member_uid", "event_uid" (null for a drop-in), "attendance_key",
 *    "method", "wall_ms", "mono_ms", "boot_id", "device_id", "device_seq",
 *    "visit_no", "expired" (true/false), "join_qr" (true/false)}
 * made by SQLite from the committed row, so it cannot disagree with it.
 *
 * join_qr says the welcome screen carried the group's join QR. The caller
 * says how many group links apply (it holds the links the screen draws
 * from); the visit number is only known here, inside the transaction, so
 * the rule (links_welcome_join(), the same the screen draws by) is applied
 * here and the row, its outbox body and the screen agree.
 */
#include "app/store/store_impl.h"

#include "sync/clock.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* ---- events ---- */

store_err store_event_add(store *s, const char *title, int64_t start_ms, int64_t end_ms, int64_t *id_out)
{
	char uid[STORE_ID_MAX];
	if (!store_fits(title, STORE_TITLE_MAX) || !title[0] || end_ms <= start_ms) {
		snprintf(s->errmsg, sizeof s->errmsg, "an event needs a title and an end after its start");
		return STORE_ERR_INVALID;
	}
	if (s->readonly)
		return store_refuse_readonly(s);
	store_err err = store_new_id(s, uid);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_stmt(s, Q_EVENT_INSERT);
	store_bind_text(st, 1, uid);
	store_bind_text(st, 2, title);
	sqlite3_bind_int64(st, 3, start_ms);
	sqlite3_bind_int64(st, 4, end_ms);
	err = store_step_done(s, st);
	if (err == STORE_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return err;
}

static void read_event(sqlite3_stmt *st, store_event *e)
{
	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(st, 0);
	store_copy_col(st, 1, e->title, sizeof e->title);
	e->start_ms = sqlite3_column_int64(st, 2);
	e->end_ms = sqlite3_column_int64(st, 3);
}

static store_err one_event(store *s, sqlite3_stmt *st, store_event *out)
{
	int rc = sqlite3_step(st);
	store_err err = store_row_err(s, rc);
	if (err == STORE_OK)
		read_event(st, out);
	sqlite3_reset(st);
	return err;
}

store_err store_event_current(store *s, int64_t now_ms, store_event *out)
{
	sqlite3_stmt *st = store_stmt(s, Q_EVENT_CURRENT);
	sqlite3_bind_int64(st, 1, now_ms);
	return one_event(s, st, out);
}

store_err store_event_get(store *s, int64_t id, store_event *out)
{
	sqlite3_stmt *st = store_stmt(s, Q_EVENT_GET);
	sqlite3_bind_int64(st, 1, id);
	return one_event(s, st, out);
}

store_err store_events_foreach(store *s, int (*fn)(const store_event *e, void *ctx), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_EVENTS_ALL);
	store_event e;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_event(st, &e);
		if (fn(&e, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

/* ---- check-ins ---- */

static void read_checkin(sqlite3_stmt *st, store_checkin *c)
{
	memset(c, 0, sizeof *c);
	store_copy_col(st, 0, c->id, sizeof c->id);
	c->member_id = sqlite3_column_int64(st, 1);
	c->event_id = sqlite3_column_int64(st, 2);
	store_copy_col(st, 3, c->method, sizeof c->method);
	c->wall_ms = sqlite3_column_int64(st, 4);
	c->mono_ms = sqlite3_column_int64(st, 5);
	store_copy_col(st, 6, c->boot_id, sizeof c->boot_id);
	c->device_seq = sqlite3_column_int64(st, 7);
	c->visit_no = sqlite3_column_int(st, 8);
	c->expired = sqlite3_column_int(st, 9);
	c->reversed = sqlite3_column_int(st, 10);
	c->join_qr = sqlite3_column_int(st, 11);
}

/* "e:<event uid>" or, for a drop-in, "d:YYYY-MM-DD". */
static store_err attendance_key(store *s, const store_event *event, const char *today, char *key, size_t len)
{
	if (!event || !event->id) {
		snprintf(key, len, "d:%s", today);
		return STORE_OK;
	}
	sqlite3_stmt *st = store_stmt(s, Q_EVENT_UID);
	sqlite3_bind_int64(st, 1, event->id);
	int rc = sqlite3_step(st);
	store_err err = store_row_err(s, rc);
	if (err == STORE_OK)
		snprintf(key, len, "e:%s", (const char *)sqlite3_column_text(st, 0));
	else if (err == STORE_ERR_NOT_FOUND)
		snprintf(s->errmsg, sizeof s->errmsg, "no event %lld", (long long)event->id);
	sqlite3_reset(st);
	return err;
}

/* The member's earlier check-in under key: STORE_OK with *out, or NOT_FOUND. */
static store_err earlier_checkin(store *s, int64_t member_id, const char *key, store_checkin *out)
{
	sqlite3_stmt *st = store_stmt(s, Q_ATTENDANCE);
	sqlite3_bind_int64(st, 1, member_id);
	store_bind_text(st, 2, key);
	int rc = sqlite3_step(st);
	store_err err = store_row_err(s, rc);
	if (err == STORE_OK)
		read_checkin(st, out);
	sqlite3_reset(st);
	return err;
}

static store_err count_visits(store *s, int64_t member_id, int *visits)
{
	sqlite3_stmt *st = store_stmt(s, Q_VISITS);
	sqlite3_bind_int64(st, 1, member_id);
	int rc = sqlite3_step(st);
	store_err err = rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc);
	if (err == STORE_OK)
		*visits = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return err;
}

static store_err insert_checkin(store *s, const store_checkin *c, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, Q_CHECKIN_INSERT);
	store_bind_text(st, 1, c->id);
	sqlite3_bind_int64(st, 2, c->member_id);
	sqlite3_bind_int64(st, 3, c->event_id);
	store_bind_text(st, 4, key);
	store_bind_text(st, 5, c->method);
	sqlite3_bind_int64(st, 6, c->wall_ms);
	sqlite3_bind_int64(st, 7, c->mono_ms);
	store_bind_text(st, 8, c->boot_id);
	store_bind_text(st, 9, s->device_id);
	sqlite3_bind_int64(st, 10, c->device_seq);
	sqlite3_bind_int(st, 11, c->visit_no);
	sqlite3_bind_int(st, 12, c->expired);
	sqlite3_bind_int(st, 13, c->join_qr);
	store_err err = store_step_done(s, st);
	if (err != STORE_OK)
		return err;
	st = store_stmt(s, Q_OUTBOX_CHECKIN);
	store_bind_text(st, 1, c->id);
	return store_step_done(s, st);
}

store_err store_checkin_record(store *s, int64_t member_id, const store_event *event, const char *method,
			       int64_t now_ms, const char *today, store_checkin_status *status,
			       store_checkin *out)
{
	return store_checkin_record_links(s, member_id, event, method, now_ms, today, 0, status, out);
}

store_err store_checkin_record_links(store *s, int64_t member_id, const store_event *event, const char *method,
				     int64_t now_ms, const char *today, size_t join_links,
				     store_checkin_status *status, store_checkin *out)
{
	char key[STORE_ID_MAX + 8];
	store_member m;
	store_checkin c;
	store_err err;

	assert(status && out);
	if (!store_fits(method, STORE_METHOD_MAX) || !method[0] || clock_parse_date(today) != 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "a check-in needs a method and today's date");
		return STORE_ERR_INVALID;
	}
	if ((err = store_tx_begin(s)) != STORE_OK)
		return err;
	if ((err = store_member_get(s, member_id, &m)) != STORE_OK) {
		if (err == STORE_ERR_NOT_FOUND)
			snprintf(s->errmsg, sizeof s->errmsg, "no member %lld", (long long)member_id);
		goto fail;
	}
	if ((err = attendance_key(s, event, today, key, sizeof key)) != STORE_OK)
		goto fail;
	err = earlier_checkin(s, member_id, key, &c);
	if (err == STORE_OK) {
		store_tx_rollback(s); /* nothing was written; this only lets go of the lock */
		*out = c;
		*status = STORE_CHECKIN_ALREADY;
		return STORE_OK;
	}
	if (err != STORE_ERR_NOT_FOUND)
		goto fail;

	memset(&c, 0, sizeof c);
	if ((err = store_next_seq(s, &c.device_seq)) != STORE_OK ||
	    (err = count_visits(s, member_id, &c.visit_no)) != STORE_OK)
		goto fail;
	if (clock_seq_id(c.device_seq, c.id) != 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "the system has no randomness for an id");
		err = STORE_ERR_INTERNAL;
		goto fail;
	}
	c.visit_no++;
	c.member_id = member_id;
	c.event_id = event ? event->id : 0;
	snprintf(c.method, sizeof c.method, "%s", method);
	c.wall_ms = now_ms;
	c.mono_ms = clock_mono_ms();
	snprintf(c.boot_id, sizeof c.boot_id, "%s", clock_boot_id());
	c.expired = m.expires[0] && strcmp(m.expires, today) < 0;
	c.join_qr = links_welcome_join(c.visit_no, c.method, join_links);
	if ((err = insert_checkin(s, &c, key)) != STORE_OK)
		goto fail;
	if ((err = store_tx_commit(s)) != STORE_OK)
		return err; /* already rolled back */
	*out = c;
	*status = STORE_CHECKIN_RECORDED;
	return STORE_OK;
fail:
	store_tx_rollback(s);
	return err;
}

static store_err each_row(store *s, sqlite3_stmt *st, int (*fn)(const store_checkin_row *r, void *ctx), void *ctx)
{
	store_checkin_row r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_checkin(st, &r.c);
		store_copy_col(st, 12, r.member_name, sizeof r.member_name);
		store_copy_col(st, 13, r.member_code, sizeof r.member_code);
		store_copy_col(st, 14, r.event_title, sizeof r.event_title);
		if (fn(&r, ctx))
			break;
	}
	store_err err = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return err;
}

store_err store_checkins_foreach(store *s, int64_t event_id, int (*fn)(const store_checkin_row *r, void *ctx),
				 void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, event_id > 0 ? Q_CHECKINS_EVENT : Q_CHECKINS_ALL);
	if (event_id > 0)
		sqlite3_bind_int64(st, 1, event_id);
	return each_row(s, st, fn, ctx);
}

store_err store_checkins_since(store *s, int64_t since_ms, int (*fn)(const store_checkin_row *r, void *ctx),
			       void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, Q_CHECKINS_SINCE);
	sqlite3_bind_int64(st, 1, since_ms);
	return each_row(s, st, fn, ctx);
}

int store_member_visits(store *s, int64_t member_id)
{
	int n = -1;
	return count_visits(s, member_id, &n) == STORE_OK ? n : -1;
}

int64_t store_outbox_count(store *s)
{
	sqlite3_stmt *st = store_stmt(s, Q_OUTBOX_COUNT);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}
