/*
 * The kiosk's side of sync, in a real database file, with no network: the
 * push body made from the outbox (check-ins by column, members and events
 * first), the hub's answers taken exactly once (answered rows leave the
 * outbox, refused ones go to the dead letters, a merged walk-in takes the
 * surviving uid), pulled pages applied with their cursor, a snapshot swapped
 * in whole, and every malformed reply refused without touching the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sync/clock.h"
#include "app/store/store.h"
#include "app/sync/wire.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testdb.h"

static int setup(void **state)
{
	return testdb_setup(state, "sync");
}

static const char *sql_text(const char *q)
{
	static char out[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* ---- the outbox as the push sees it ---- */

typedef struct recs {
	wire_rec r[64];
	size_t n;
} recs;

static int take(const store_outbox_rec *rec, void *ctx)
{
	recs *b = ctx;
	assert_int_equal(wire_rec_from(&b->r[b->n++], rec), 0);
	return b->n == 64;
}

/* The same rows as bodies only: the slow path, parsed from JSON. */
static int take_bodies(const store_outbox_rec *rec, void *ctx)
{
	recs *b = ctx;
	wire_rec *w = &b->r[b->n++];
	memset(w, 0, sizeof *w);
	snprintf(w->kind, sizeof w->kind, "%s", rec->kind);
	snprintf(w->id, sizeof w->id, "%s", rec->id);
	w->body = strdup(rec->body);
	return b->n == 64;
}

static void free_recs(recs *b)
{
	for (size_t i = 0; i < b->n; i++)
		wire_rec_clear(&b->r[i]);
	b->n = 0;
}

static void test_push_body_from_the_outbox(void **state)
{
	store *s = *state;
	int64_t now = clock_wall_ms(), ev;
	int64_t a = testdb_add_member(s, "张三", "13812345678", "TZ1001");
	int64_t b = testdb_add_member(s, "李四", "13911115678", "TZ1002");
	assert_int_equal(store_event_add(s, "茶会", now - 1000, now + 3600000, &ev), STORE_OK);
	store_event e;
	assert_int_equal(store_event_get(s, ev, &e), STORE_OK);
	store_checkin_status st;
	store_checkin c1, c2, c3;
	assert_int_equal(store_checkin_record(s, a, &e, "scan", now, "2026-11-22", &st, &c1), STORE_OK);
	assert_int_equal(store_checkin_record(s, b, &e, "phone", now + 5, "2026-11-22", &st, &c2), STORE_OK);
	assert_int_equal(store_checkin_record(s, a, NULL, "name", now + 9, "2026-11-22", &st, &c3), STORE_OK);
	/* the two imported members and the event go first, though queued last */
	int64_t added;
	assert_int_equal(store_outbox_enqueue_local(s, now, &added), STORE_OK);
	assert_int_equal(added, 3);
	assert_int_equal(store_outbox_enqueue_local(s, now, &added), STORE_OK);
	assert_int_equal(added, 0); /* queued once */
	recs b1 = {0};
	assert_int_equal(store_outbox_batch(s, 1000, take, &b1), STORE_OK);
	assert_int_equal(b1.n, 6);
	assert_string_equal(b1.r[0].kind, "member");
	assert_string_equal(b1.r[1].kind, "member");
	assert_string_equal(b1.r[2].kind, "event");
	assert_string_equal(b1.r[3].kind, "checkin");
	assert_string_equal(b1.r[3].id, c1.id);
	char why[256];
	char *body = wire_push_body(store_device_id(s), now + 10, b1.r, b1.n, why, sizeof why);
	assert_non_null(body);
	json_t *j = json_loads(body, 0, NULL);
	free(body);
	assert_non_null(j);
	json_t *ck = json_object_get(j, "checkins");
	assert_int_equal(json_array_size(json_object_get(ck, "id")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(ck, "id"), 1)), c2.id);
	/* times as differences after the first */
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ck, "wall_ms"), 0)), now);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ck, "wall_ms"), 1)), 5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ck, "wall_ms"), 2)), 4);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ck, "seq"), 1)), 1);
	/* one event, then a drop-in with its day */
	assert_int_equal(json_array_size(json_object_get(ck, "events")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ck, "event"), 2)), -1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(ck, "day"), 2)), "2026-11-22");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ck, "method"), 1)), "phone");
	json_t *recs0 = json_array_get(json_object_get(j, "records"), 0);
	assert_string_equal(json_string_value(json_object_get(recs0, "kind")), "member");
	assert_string_equal(json_string_value(json_object_get(recs0, "code")), "TZ1001");
	/* check-ins read by their fields make the very body the JSON bodies make */
	recs b2 = {0};
	assert_int_equal(store_outbox_batch(s, 1000, take_bodies, &b2), STORE_OK);
	char *slow = wire_push_body(store_device_id(s), now + 10, b2.r, b2.n, why, sizeof why);
	assert_non_null(slow);
	json_t *js = json_loads(slow, 0, NULL);
	free(slow);
	assert_true(json_equal(j, js));
	json_decref(js);
	free_recs(&b2);
	json_decref(j);
	free_recs(&b1);
}

static void test_acks_exactly_once(void **state)
{
	store *s = *state;
	int64_t now = clock_wall_ms();
	int64_t a = testdb_add_member(s, "张三", "13812345678", "TZ1001");
	store_checkin_status st;
	store_checkin c1, c2;
	assert_int_equal(store_checkin_record(s, a, NULL, "scan", now, "2026-11-22", &st, &c1), STORE_OK);
	int64_t b = testdb_add_member(s, "李四", "13911115678", "TZ1002");
	assert_int_equal(store_checkin_record(s, b, NULL, "scan", now, "2026-11-22", &st, &c2), STORE_OK);
	assert_int_equal(store_outbox_enqueue_local(s, now, NULL), STORE_OK);
	assert_int_equal(store_outbox_count(s), 4);
	char uid_a[33];
	snprintf(uid_a, sizeof uid_a, "%s", sql_text("SELECT uid FROM members WHERE code = 'TZ1001'"));
	store_ack acks[4] = {{.status = STORE_ACK_OK},
			     {.status = STORE_ACK_DUPLICATE},
			     {.status = STORE_ACK_REJECTED},
			     {.status = STORE_ACK_OK}};
	snprintf(acks[0].id, sizeof acks[0].id, "%s", uid_a);
	snprintf(acks[1].id, sizeof acks[1].id, "%s", c1.id);
	snprintf(acks[2].id, sizeof acks[2].id, "%s", c2.id);
	snprintf(acks[2].reason, sizeof acks[2].reason, "unknown_member");
	snprintf(acks[3].id, sizeof acks[3].id, "%s", "0123456789abcdef0123456789abcdef"); /* not ours */
	int64_t removed;
	assert_int_equal(store_outbox_ack(s, acks, 4, now, &removed), STORE_OK);
	assert_int_equal(removed, 3);
	assert_int_equal(store_outbox_count(s), 1); /* 李四's member record, unanswered */
	assert_int_equal(store_dead_letter_count(s), 1);
	assert_string_equal(sql_text("SELECT reason FROM dead_letters"), "unknown_member");
	assert_int_equal(sql_int("SELECT uploaded FROM members WHERE code = 'TZ1001'"), 1);
	/* the check-ins themselves stay: only the queue changes */
	assert_int_equal(sql_int("SELECT count(*) FROM checkins"), 2);
	/* the same answers again change nothing */
	assert_int_equal(store_outbox_ack(s, acks, 4, now, &removed), STORE_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_dead_letter_count(s), 1);
	/* an uploaded member is not queued again */
	int64_t added;
	assert_int_equal(store_outbox_enqueue_local(s, now, &added), STORE_OK);
	assert_int_equal(added, 0);
}

static void test_walkin_merged_takes_the_survivor(void **state)
{
	store *s = *state;
	store_member m;
	assert_int_equal(store_member_register(s, "Li Lei", "13700001234", clock_wall_ms(), &m), STORE_OK);
	store_ack a = {.status = STORE_ACK_OK};
	snprintf(a.id, sizeof a.id, "%s", m.uid);
	snprintf(a.merged_into, sizeof a.merged_into, "%s", "fedcba9876543210fedcba9876543210");
	assert_int_equal(store_outbox_ack(s, &a, 1, clock_wall_ms(), NULL), STORE_OK);
	assert_string_equal(sql_text("SELECT uid || ' ' || origin FROM members WHERE phone = '13700001234'"),
			    "fedcba9876543210fedcba9876543210 hub");
}

/* ---- pulled pages ---- */

static wire_page page_of(const char *reply, store_set set, int64_t since)
{
	wire_page pg;
	char why[256];
	if (wire_pull_reply(reply, strlen(reply), set, since, &pg, why, sizeof why) != 0)
		fail_msg("refused: %s", why);
	return pg;
}

#define U1 "11111111111111111111111111111111"
#define U2 "22222222222222222222222222222222"
#define U3 "33333333333333333333333333333333"
#define E1 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static void test_pull_members_and_adopt(void **state)
{
	store *s = *state;
	/* a walk-in registered here before the hub knew of them */
	store_member m;
	assert_int_equal(store_member_register(s, "Wang Wu", "13600000001", clock_wall_ms(), &m), STORE_OK);
	wire_page pg =
	    page_of("{\"set\":\"members\",\"reset\":false,\"next\":7,\"more\":false,\"items\":["
		    "{\"uid\":\"" U1 "\",\"name\":\"王五\",\"phone\":\"13600000001\",\"code\":\"TZ9\","
		    "\"tier\":\"gold\",\"expires\":\"2027-01-01\",\"deleted\":false,\"unknown\":1},"
		    "{\"uid\":\"" U2 "\",\"name\":\"赵六\",\"phone\":null,\"code\":\"TZ10\"}]}",
		    STORE_SET_MEMBERS, 0);
	assert_int_equal(pg.count, 2);
	assert_int_equal(store_pull_apply(s, STORE_SET_MEMBERS, pg.items, pg.next, 1000), STORE_OK);
	wire_page_free(&pg);
	/* the walk-in became the hub's member: one row, the hub's uid and name */
	assert_int_equal(sql_int("SELECT count(*) FROM members WHERE phone = '13600000001'"), 1);
	assert_string_equal(
	    sql_text("SELECT uid || ' ' || name || ' ' || tier FROM members WHERE phone = '13600000001'"),
	    U1 " 王五 gold");
	assert_int_equal(sql_int("SELECT provisional FROM members WHERE uid = '" U1 "'"), 0);
	int64_t cursor;
	assert_int_equal(store_pull_cursor(s, STORE_SET_MEMBERS, &cursor, NULL, NULL), STORE_OK);
	assert_int_equal(cursor, 7);
	/* next page: 赵六 deleted; 王五 moves the code to the hub's other member */
	pg = page_of("{\"set\":\"members\",\"next\":9,\"more\":false,\"items\":["
		     "{\"uid\":\"" U2 "\",\"deleted\":true},"
		     "{\"uid\":\"" U3 "\",\"name\":\"孙七\",\"phone\":\"13600000002\",\"code\":\"TZ9\"}]}",
		     STORE_SET_MEMBERS, 7);
	assert_int_equal(store_pull_apply(s, STORE_SET_MEMBERS, pg.items, pg.next, 2000), STORE_OK);
	wire_page_free(&pg);
	assert_int_equal(sql_int("SELECT active FROM members WHERE uid = '" U2 "'"), 0);
	assert_int_equal(store_member_count(s), 2);
	assert_string_equal(sql_text("SELECT uid FROM members WHERE code = 'TZ9'"), U3);
	assert_int_equal(sql_int("SELECT code IS NULL FROM members WHERE uid = '" U1 "'"), 1);
}

static void test_snapshot_swaps_whole(void **state)
{
	store *s = *state;
	wire_page pg =
	    page_of("{\"set\":\"events\",\"next\":3,\"more\":false,\"items\":["
		    "{\"uid\":\"" E1 "\",\"title\":\"旧活动\",\"start_ms\":1000,\"end_ms\":2000}]}",
		    STORE_SET_EVENTS, 0);
	assert_int_equal(store_pull_apply(s, STORE_SET_EVENTS, pg.items, pg.next, 1), STORE_OK);
	wire_page_free(&pg);
	/* a reset: two pages; until the last one the old set stays as it was */
	pg = page_of("{\"set\":\"events\",\"reset\":true,\"next\":10,\"more\":true,\"items\":["
		     "{\"uid\":\"" U1 "\",\"title\":\"新活动一\",\"start_ms\":1000,\"end_ms\":2000}]}",
		     STORE_SET_EVENTS, 3);
	assert_int_equal(store_pull_stage(s, STORE_SET_EVENTS, 0, pg.items, 2), STORE_OK);
	wire_page_free(&pg);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE active = 1"), 1);
	assert_string_equal(sql_text("SELECT title FROM events WHERE active = 1"), "旧活动");
	int64_t cursor;
	int resetting;
	assert_int_equal(store_pull_cursor(s, STORE_SET_EVENTS, &cursor, &resetting, NULL), STORE_OK);
	assert_int_equal(cursor, 3);
	assert_int_equal(resetting, 1);
	pg = page_of("{\"set\":\"events\",\"next\":11,\"more\":false,\"items\":["
		     "{\"uid\":\"" U2 "\",\"title\":\"新活动二\",\"start_ms\":1000,\"end_ms\":3000}]}",
		     STORE_SET_EVENTS, 10);
	assert_int_equal(store_pull_stage(s, STORE_SET_EVENTS, 1, pg.items, 3), STORE_OK);
	assert_int_equal(store_pull_swap(s, STORE_SET_EVENTS, pg.next, 3), STORE_OK);
	wire_page_free(&pg);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE active = 1"), 2);
	assert_int_equal(sql_int("SELECT active FROM events WHERE uid = '" E1 "'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM pull_stage"), 0);
	assert_int_equal(store_pull_cursor(s, STORE_SET_EVENTS, &cursor, &resetting, NULL), STORE_OK);
	assert_int_equal(cursor, 11);
	assert_int_equal(resetting, 0);
}

static void test_pull_links(void **state)
{
	store *s = *state;
	wire_page pg = page_of("{\"set\":\"events\",\"next\":1,\"more\":false,\"items\":["
			       "{\"uid\":\"" E1 "\",\"title\":\"茶会\",\"start_ms\":1000,\"end_ms\":2000}]}",
			       STORE_SET_EVENTS, 0);
	assert_int_equal(store_pull_apply(s, STORE_SET_EVENTS, pg.items, pg.next, 1), STORE_OK);
	wire_page_free(&pg);
	pg = page_of("{\"set\":\"links\",\"next\":2,\"more\":false,\"items\":["
		     "{\"uid\":\"" U1
		     "\",\"platform\":\"wechat\",\"label\":\"群\",\"url\":\"https://weixin.qq.com/g/x\","
		     "\"expires_ms\":9000,\"cap\":500,\"event\":\"" E1 "\",\"default\":false,"
		     "\"live_url\":\"https://hub.example/j/tea\"},"
		     "{\"uid\":\"" U2
		     "\",\"platform\":\"url\",\"label\":\"Web\",\"url\":\"https://example.org/\","
		     "\"expires_ms\":null,\"cap\":null,\"event\":null,\"default\":true}]}",
		     STORE_SET_LINKS, 0);
	assert_int_equal(store_pull_apply(s, STORE_SET_LINKS, pg.items, pg.next, 1), STORE_OK);
	wire_page_free(&pg);
	assert_string_equal(sql_text("SELECT live_url FROM links WHERE uid = '" U1 "'"),
			    "https://hub.example/j/tea");
	assert_int_equal(sql_int("SELECT event_id FROM links WHERE uid = '" U1 "'"),
			 sql_int("SELECT id FROM events WHERE uid = '" E1 "'"));
	assert_int_equal(sql_int("SELECT is_default FROM links WHERE uid = '" U2 "'"), 1);
	/* the kiosk's reading path (what the join and welcome screens use) carries it */
	store_link l;
	assert_int_equal(store_link_get(s, sql_int("SELECT id FROM links WHERE uid = '" U1 "'"), &l), STORE_OK);
	assert_string_equal(l.live_url, "https://hub.example/j/tea");
	assert_int_equal(store_link_get(s, sql_int("SELECT id FROM links WHERE uid = '" U2 "'"), &l), STORE_OK);
	assert_string_equal(l.live_url, "");
	pg = page_of("{\"set\":\"links\",\"next\":3,\"more\":false,\"items\":[{\"uid\":\"" U1
		     "\",\"deleted\":true}]}",
		     STORE_SET_LINKS, 2);
	assert_int_equal(store_pull_apply(s, STORE_SET_LINKS, pg.items, pg.next, 1), STORE_OK);
	wire_page_free(&pg);
	assert_int_equal(sql_int("SELECT count(*) FROM links"), 1);
}

/* ---- replies that are not what the protocol says ---- */

static void test_bad_replies_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		store_set set;
		const char *says;
	} bad[] = {
	    {"not json", STORE_SET_MEMBERS, "not JSON"},
	    {"[1,2]", STORE_SET_MEMBERS, "not a JSON object"},
	    {"{\"set\":\"events\",\"next\":1,\"items\":[]}", STORE_SET_MEMBERS, "data set members"},
	    {"{\"set\":\"members\",\"next\":-1,\"items\":[]}", STORE_SET_MEMBERS, "next"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":{}}", STORE_SET_MEMBERS, "items"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"short\",\"name\":\"x\",\"code\":\"c\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1 "\",\"name\":\"\",\"code\":\"c\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"a\\nb\",\"code\":\"c\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"x\",\"phone\":\"12ab\",\"code\":\"c\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"x\",\"code\":\"c\",\"expires\":\"soon\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    /* impossible days: the kiosk's own import refuses them too */
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"x\",\"code\":\"c\",\"expires\":\"2026-02-31\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"x\",\"code\":\"c\",\"expires\":\"2026-13-01\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"name\":\"x\",\"code\":\"c\",\"expires\":\"----------\"}]}",
	     STORE_SET_MEMBERS, "item 0"},
	    {"{\"set\":\"events\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"title\":\"x\",\"start_ms\":5,\"end_ms\":5}]}",
	     STORE_SET_EVENTS, "item 0"},
	    {"{\"set\":\"links\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"platform\":\"wechat\",\"label\":\"x\",\"url\":\"javascript:alert(1)\"}]}",
	     STORE_SET_LINKS, "item 0"},
	    {"{\"set\":\"links\",\"next\":1,\"items\":[{\"uid\":\"" U1
	     "\",\"platform\":\"qq\",\"label\":\"x\",\"url\":\"https://a.b/\"}]}",
	     STORE_SET_LINKS, "item 0"},
	    {"{\"set\":\"members\",\"next\":1,\"items\":[],\"set\":\"members\"}", STORE_SET_MEMBERS,
	     "not JSON"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wire_page pg;
		char why[256] = "";
		if (wire_pull_reply(bad[i].text, strlen(bad[i].text), bad[i].set, 0, &pg, why, sizeof why) ==
		    0)
			fail_msg("accepted: %s", bad[i].text);
		if (!strstr(why, bad[i].says))
			fail_msg("for %s: \"%s\" does not say \"%s\"", bad[i].text, why, bad[i].says);
	}
	/* a cursor that goes back is refused, unless the page starts a snapshot */
	wire_page pg;
	char why[256];
	const char *back = "{\"set\":\"members\",\"next\":3,\"more\":false,\"items\":[]}";
	assert_int_equal(wire_pull_reply(back, strlen(back), STORE_SET_MEMBERS, 5, &pg, why, sizeof why), -1);
	/* push replies */
	store_ack *acks;
	size_t n;
	int64_t off;
	const char *bad_push[] = {
	    "{}",
	    "{\"results\":[{\"id\":\"" U1 "\",\"status\":\"maybe\"}]}",
	    "{\"results\":[{\"id\":\"x\",\"status\":\"ok\"}]}",
	    "{\"results\":[{\"id\":\"" U1 "\",\"status\":\"ok\",\"merged_into\":\"nope\"}]}",
	};
	for (size_t i = 0; i < sizeof bad_push / sizeof bad_push[0]; i++)
		if (wire_push_reply(bad_push[i], strlen(bad_push[i]), NULL, 0, &acks, &n, &off, why, sizeof why) == 0)
			fail_msg("accepted push reply %s", bad_push[i]);
	const char *good = "{\"offset_ms\":-12,\"results\":[{\"id\":\"" U1 "\",\"status\":\"rejected\","
			   "\"reason\":\"unknown_member\"},{\"id\":\"" U2
			   "\",\"status\":\"ok\",\"merged_into\":\"" U3 "\"}]}";
	assert_int_equal(wire_push_reply(good, strlen(good), NULL, 0, &acks, &n, &off, why, sizeof why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(off, -12);
	assert_int_equal(acks[0].status, STORE_ACK_REJECTED);
	assert_string_equal(acks[0].reason, "unknown_member");
	assert_string_equal(acks[1].merged_into, U3);
	free(acks);
	/* only the exceptions listed: the rest of what was sent is ok; without
	 * "others", what is not listed stays queued */
	wire_rec sent[3] = {{.kind = "checkin", .id = U1}, {.kind = "checkin", .id = U2}, {.kind = "checkin", .id = U3}};
	const char *terse = "{\"others\":\"ok\",\"results\":[{\"id\":\"" U2 "\",\"status\":\"duplicate\"}]}";
	assert_int_equal(wire_push_reply(terse, strlen(terse), sent, 3, &acks, &n, &off, why, sizeof why), 0);
	assert_int_equal(n, 3);
	assert_string_equal(acks[0].id, U2);
	assert_int_equal(acks[0].status, STORE_ACK_DUPLICATE);
	assert_string_equal(acks[1].id, U1);
	assert_int_equal(acks[1].status, STORE_ACK_OK);
	assert_string_equal(acks[2].id, U3);
	assert_int_equal(acks[2].status, STORE_ACK_OK);
	free(acks);
	const char *partial = "{\"results\":[{\"id\":\"" U2 "\",\"status\":\"ok\"}]}";
	assert_int_equal(wire_push_reply(partial, strlen(partial), sent, 3, &acks, &n, &off, why, sizeof why), 0);
	assert_int_equal(n, 1);
	free(acks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_push_body_from_the_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acks_exactly_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walkin_merged_takes_the_survivor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pull_members_and_adopt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_swaps_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pull_links, setup, teardown),
	    cmocka_unit_test(test_bad_replies_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
