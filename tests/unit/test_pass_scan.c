/*
 * A signed pass at the kiosk (app/pass_scan.c, app/store/store_pass.c), on a
 * real kiosk database: valid with the venue's key, refused when forged, of
 * another venue, signed with a key the kiosk does not hold, revoked; keys
 * rotated keep old passes valid; a valid pass of a member the kiosk has never
 * seen adds them once, with an outbox row for the hub.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/testdb.h"

#include "app/pass_scan.h"
#include "app/sync/wire.h"

#include <sodium.h>
#include <string.h>

#define VENUE "5e1f0a2b3c4d5e6f708192a3b4c5d6e7"
#define OTHER "5e1f0a2b3c4d5e6f708192a3b4c5d6e8"

static uint8_t pk1[32], sk1[64], pk2[32], sk2[64], venue[16], other[16];

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	pass_keypair(pk1, sk1);
	pass_keypair(pk2, sk2);
	pass_uid_bytes(VENUE, venue);
	pass_uid_bytes(OTHER, other);
	testdb_setup(state, "passscan");
	store *s = *state;
	assert_int_equal(store_setting_set(s, "hub_venue", VENUE), STORE_OK);
	assert_int_equal(store_pass_key_set(s, 1, pk1, 0), STORE_OK);
	assert_int_equal(store_pass_tier_set(s, 1, "gold"), STORE_OK);
	return 0;
}

static void make(char out[PASS_TEXT_MAX + 1], unsigned kid, const uint8_t *sk, const uint8_t *uid, uint32_t number,
		 uint32_t issued_min)
{
	pass_fields f = {0};
	f.key_id = kid;
	f.venue_tag = pass_venue_tag(uid);
	f.issued_min = issued_min;
	f.expires_day = (uint32_t)pass_day_from_date("2030-01-31");
	f.number = number;
	f.tier = 1;
	pass_canonical_code(number, f.code);
	strcpy(f.greeting, "小明");
	assert_true(pass_encode(&f, uid, sk, out) > 0);
}

static void test_verdicts(void **state)
{
	store *s = *state;
	char t[PASS_TEXT_MAX + 1];
	pass_read r;

	make(t, 1, sk1, venue, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);
	assert_string_equal(r.f.code, "TZP7");

	/* one character changed */
	t[40] = t[40] == 'A' ? 'B' : 'A';
	assert_int_equal(pass_scan_check(s, t, &r), PASS_FORGED);

	/* signed for venue A by A's key, scanned at a kiosk of venue B: the tag says so */
	make(t, 1, sk1, other, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_WRONG_VENUE);

	/* this venue's tag and key id, but signed by a key that is not the venue's */
	make(t, 1, sk2, venue, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_FORGED);

	/* a key the kiosk has not pulled */
	make(t, 2, sk2, venue, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_UNKNOWN_KEY);
	assert_int_equal(r.f.key_id, 2);

	/* rotated: key 2 published, key 1 retired; passes of both check */
	assert_int_equal(store_pass_key_set(s, 2, pk2, 0), STORE_OK);
	assert_int_equal(store_pass_key_set(s, 1, pk1, 1), STORE_OK);
	assert_int_equal(sql_int("SELECT count(*) FROM pass_keys WHERE retired = 1"), 1);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);
	make(t, 1, sk1, venue, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);

	/* revoked up to minute 1000: that pass is void, one issued after is not, other members untouched */
	assert_int_equal(store_pass_revoke_set(s, 7, 1000), STORE_OK);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_REVOKED);
	make(t, 2, sk2, venue, 7, 1001);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);
	make(t, 2, sk2, venue, 8, 900);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);
	/* a membership that ended is no reason to refuse the pass: the check-in is flagged instead */
	{
		pass_fields f = {0};
		f.key_id = 2;
		f.venue_tag = pass_venue_tag(venue);
		f.issued_min = 1100;
		f.expires_day = (uint32_t)pass_day_from_date("2024-03-01");
		f.number = 8;
		pass_canonical_code(8, f.code);
		char old[PASS_TEXT_MAX + 1];
		assert_true(pass_encode(&f, venue, sk2, old) > 0);
		assert_int_equal(pass_scan_check(s, old, &r), PASS_VALID);
		char day[11];
		pass_date_from_day(r.f.expires_day, day);
		assert_string_equal(day, "2024-03-01");
	}
	/* a revocation never moves back */
	assert_int_equal(store_pass_revoke_set(s, 7, 10), STORE_OK);
	make(t, 1, sk1, venue, 7, 1000);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_REVOKED);
}

static void test_not_enrolled(void **state)
{
	(void)state;
	store *s;
	char err[256], t[PASS_TEXT_MAX + 1], p[160];
	snprintf(p, sizeof p, "%s-bare", path);
	unlink(p);
	assert_int_equal(store_open(p, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_OK);
	make(t, 1, sk1, venue, 7, 1000);
	pass_read r;
	assert_int_equal(pass_scan_check(s, t, &r), PASS_NO_VENUE);
	store_close(s);
	unlink(p);
}

static void test_member_from_pass(void **state)
{
	store *s = *state;
	store_member m, again;
	int added = -1;
	int64_t before = testdb_count(path, "outbox");
	assert_int_equal(store_pass_member(s, "TZP7", "小明", "gold", "2030-01-31", 1795000000000LL, &m, &added),
			 STORE_OK);
	assert_int_equal(added, 1);
	assert_string_equal(m.name, "小明");
	assert_string_equal(m.code, "TZP7");
	assert_string_equal(m.tier, "gold");
	assert_string_equal(m.expires, "2030-01-31");
	assert_int_equal(m.provisional, 1);
	/* on its way to the hub, which merges it into its member with that code */
	assert_int_equal(testdb_count(path, "outbox"), before + 1);
	char body[512];
	testdb_text(path, "SELECT body FROM outbox WHERE kind = 'member' AND record_id = ?1", m.uid, body,
		    sizeof body);
	assert_non_null(strstr(body, "\"code\":\"TZP7\""));
	assert_non_null(strstr(body, "\"provisional\":true"));

	/* the same pass again: the same member, nothing new */
	assert_int_equal(store_pass_member(s, "TZP7", "小明", "gold", "2030-01-31", 1795000000001LL, &again, &added),
			 STORE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(again.id, m.id);
	assert_int_equal(testdb_count(path, "outbox"), before + 1);

	/* a member the kiosk had already (imported with code L-0123) is found, not added */
	int64_t id = testdb_add_member(s, "Zhang San", "13800001111", "L-0123");
	assert_int_equal(store_pass_member(s, "L-0123", "San", "", "", 1795000000002LL, &again, &added), STORE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(again.id, id);
	assert_string_equal(again.name, "Zhang San");
}

/* A page of the hub's passes set, read as the sync worker reads it and applied. */
static void apply(store *s, const char *reply, int64_t since, int expect_ok)
{
	wire_page pg;
	char why[256];
	int rc = wire_pull_reply(reply, strlen(reply), STORE_SET_PASSES, since, &pg, why, sizeof why);
	if (!expect_ok) {
		assert_int_not_equal(rc, 0);
		return;
	}
	if (rc != 0)
		fail_msg("page refused: %s", why);
	if (pg.reset) {
		assert_int_equal(store_pull_stage(s, STORE_SET_PASSES, 0, pg.items, 1), STORE_OK);
		assert_int_equal(store_pull_swap(s, STORE_SET_PASSES, pg.next, 1), STORE_OK);
	} else {
		assert_int_equal(store_pull_apply(s, STORE_SET_PASSES, pg.items, pg.next, 1), STORE_OK);
	}
	wire_page_free(&pg);
}

static void test_pulled(void **state)
{
	(void)state;
	store *s;
	char err[256], t[PASS_TEXT_MAX + 1], p[160], hex[65], reply[1024];
	snprintf(p, sizeof p, "%s-pulled", path);
	unlink(p);
	assert_int_equal(store_open(p, STORE_OPEN_CREATE, &s, err, sizeof err), STORE_OK);
	assert_int_equal(store_setting_set(s, "hub_venue", VENUE), STORE_OK);
	make(t, 1, sk1, venue, 9, 2000);
	pass_read r;
	assert_int_equal(pass_scan_check(s, t, &r), PASS_UNKNOWN_KEY);

	sodium_bin2hex(hex, sizeof hex, pk1, 32);
	snprintf(reply, sizeof reply,
		 "{\"set\":\"passes\",\"reset\":true,\"more\":false,\"next\":3,\"items\":["
		 "{\"kind\":\"key\",\"kid\":1,\"public\":\"%s\",\"retired\":false},"
		 "{\"kind\":\"tiers\",\"tiers\":[\"gold\",\"银卡\"]},"
		 "{\"kind\":\"revoked\",\"number\":4,\"before\":100}]}",
		 hex);
	apply(s, reply, 0, 1);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);
	char tier[32];
	assert_int_equal(store_pass_tier(s, 2, tier, sizeof tier), STORE_OK);
	assert_string_equal(tier, "银卡");
	int64_t cursor;
	assert_int_equal(store_pull_cursor(s, STORE_SET_PASSES, &cursor, NULL, NULL), STORE_OK);
	assert_int_equal(cursor, 3);

	/* the hub revokes member 9's passes up to minute 2000 */
	apply(s, "{\"set\":\"passes\",\"reset\":false,\"more\":false,\"next\":4,\"items\":["
		 "{\"kind\":\"revoked\",\"number\":9,\"before\":2000}]}",
	      3, 1);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_REVOKED);
	/* a snapshot starts the revocations afresh from what it lists (keys stay) */
	apply(s, "{\"set\":\"passes\",\"reset\":true,\"more\":false,\"next\":5,\"items\":[]}", 0, 1);
	assert_int_equal(pass_scan_check(s, t, &r), PASS_VALID);

	/* malformed items refuse the whole page, and nothing changes */
	apply(s, "{\"set\":\"passes\",\"next\":6,\"items\":[{\"kind\":\"key\",\"kid\":64,"
		 "\"public\":\"00\"}]}", 5, 0);
	apply(s, "{\"set\":\"passes\",\"next\":6,\"items\":[{\"kind\":\"revoked\",\"number\":0,"
		 "\"before\":1}]}", 5, 0);
	apply(s, "{\"set\":\"passes\",\"next\":6,\"items\":[{\"kind\":\"what\"}]}", 5, 0);
	assert_int_equal(store_pull_cursor(s, STORE_SET_PASSES, &cursor, NULL, NULL), STORE_OK);
	assert_int_equal(cursor, 5);
	store_close(s);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_not_enrolled),
	    cmocka_unit_test(test_member_from_pass),
	    cmocka_unit_test(test_pulled),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
