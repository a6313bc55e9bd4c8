/*
 * Member passes in the hub's store, on a real SQLite file (and, run as
 * unit.test_hub_pass.pg, a real PostgreSQL database: tests/unit/hubdb.h):
 * signing keys sealed at rest (the secret is nowhere in the file, and a
 * sealed secret does not open under another venue or key id), rotation,
 * pass numbers, the tier list, codes a pass can and cannot carry,
 * revocations and the minute of a pass issued after one, private
 * addresses, sign-ups, sign-up pages, and the passes data set's cursor.
 */
#include "sync/hub/hub_pass.h"
#include "sync/hub/hub_store.h"
#include "sync/hub/hub_util.h"

/* cmocka.h after what it needs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/hubdb.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1795046400000LL /* 2026-11-19 00:00 UTC */
#define MIN 60000LL

typedef struct fx {
	char path[HUBDB_WHERE_MAX];
	hub_store *st;
	hub_venue v, w;
	unsigned char kek[HUB_KEK_BYTES];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/tingzi-pass.XXXXXX");
	int fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	hubdb_where(f->path, sizeof f->path, f->path);
	char why[256];
	f->st = hub_store_open(f->path, why, sizeof why);
	if (!f->st)
		fail_msg("%s", why);
	assert_int_equal(f->st->ops->venue_add(f->st, "听雨茶馆", "Asia/Shanghai", T0, &f->v), HUB_OK);
	assert_int_equal(f->st->ops->venue_add(f->st, "Other", "UTC", T0, &f->w), HUB_OK);
	randombytes_buf(f->kek, sizeof f->kek);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	f->st->ops->close(f->st);
	hubdb_remove(f->path);
	free(f);
	return 0;
}

static void add_member(fx *f, const char *name, const char *phone, const char *code, char uid[HUB_ID_MAX])
{
	hub_store *st = f->st;
	store_member m;
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.phone, sizeof m.phone, "%s", phone);
	snprintf(m.code, sizeof m.code, "%s", code);
	int how;
	char why[160];
	assert_int_equal(st->ops->members_begin(st, f->v.id), HUB_OK);
	assert_int_equal(st->ops->members_row(st, &m, &how, why, sizeof why, T0), 0);
	assert_int_equal(st->ops->members_commit(st), HUB_OK);
	hubdb_text(f->path, "SELECT uid FROM members WHERE phone = ?1", phone, uid, HUB_ID_MAX);
	assert_int_equal(strlen(uid), 32);
}

static unsigned rotate(fx *f, const char *venue, int64_t now)
{
	unsigned kid = 0;
	assert_int_equal(hub_pass_rotate(f->st, f->kek, venue, now, &kid), HUB_OK);
	return kid;
}

static int key_n(const hub_pass_key *k, void *ctx)
{
	hub_pass_key *keys = ctx;
	keys[k->kid] = *k;
	return 0;
}

/* The pass verifies with the venue's key kid, and says what it should. */
static void verifies(fx *f, const hub_pass *p, unsigned kid)
{
	hub_pass_key keys[PASS_KEY_MAX + 1];
	memset(keys, 0, sizeof keys);
	assert_int_equal(f->st->ops->pass->keys_each(f->st, f->v.id, key_n, keys), HUB_OK);
	pass_read r;
	uint8_t uid[PASS_VENUE_BYTES];
	assert_int_equal(pass_uid_bytes(f->v.id, uid), 0);
	assert_int_equal(pass_decode(p->text, strlen(p->text), &r), PASS_OK);
	assert_int_equal(r.f.key_id, kid);
	assert_int_equal(pass_check(&r, uid, keys[kid].public_key), PASS_OK);
	assert_int_equal(r.f.number, p->f.number);
	assert_string_equal(r.f.code, p->f.code);
	/* not another venue's, nor another key's */
	uint8_t other[PASS_VENUE_BYTES];
	assert_int_equal(pass_uid_bytes(f->w.id, other), 0);
	assert_int_equal(pass_check(&r, other, keys[kid].public_key), PASS_E_SIGNATURE);
}

/* Whether the n bytes of needle are anywhere in the file. */
static int file_has(const char *path, const unsigned char *needle, size_t n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return 0;
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)size + 1);
	size_t got = fread(b, 1, (size_t)size, fp);
	fclose(fp);
	int found = 0;
	for (size_t i = 0; i + n <= got && !found; i++)
		found = memcmp(b + i, needle, n) == 0;
	free(b);
	return found;
}

static void test_keys_sealed(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	assert_int_equal(rotate(f, f->v.id, T0), 1);
	hub_pass_key keys[PASS_KEY_MAX + 1];
	memset(keys, 0, sizeof keys);
	assert_int_equal(st->ops->pass->keys_each(st, f->v.id, key_n, keys), HUB_OK);
	unsigned char secret[PASS_SECRET_BYTES], again[PASS_SECRET_BYTES];
	assert_int_equal(hub_pass_unseal(f->kek, f->v.id, &keys[1], secret), 0);
	/* the secret's public half is the published key */
	assert_memory_equal(secret + 32, keys[1].public_key, 32);
	/* a sealed secret opens only for its own venue and key id, and only under its key file */
	assert_int_not_equal(hub_pass_unseal(f->kek, f->w.id, &keys[1], again), 0);
	hub_pass_key moved = keys[1];
	moved.kid = 2;
	assert_int_not_equal(hub_pass_unseal(f->kek, f->v.id, &moved, again), 0);
	unsigned char other_kek[HUB_KEK_BYTES];
	randombytes_buf(other_kek, sizeof other_kek);
	assert_int_not_equal(hub_pass_unseal(other_kek, f->v.id, &keys[1], again), 0);
	/* the secret (its seed, the first 32 bytes) is nowhere in the database's files */
	if (!hubdb_pg()) {
		char wal[HUBDB_WHERE_MAX + 8];
		snprintf(wal, sizeof wal, "%s-wal", f->path);
		assert_true(file_has(f->path, keys[1].public_key, 32) || file_has(wal, keys[1].public_key, 32));
		assert_false(file_has(f->path, secret, 32));
		assert_false(file_has(wal, secret, 32));
	}
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_keys WHERE venue_id = ?1", f->v.id), 1);
	/* rotate: key 2 signs, key 1 is retired but still published */
	assert_int_equal(rotate(f, f->v.id, T0 + MIN), 2);
	memset(keys, 0, sizeof keys);
	assert_int_equal(st->ops->pass->keys_each(st, f->v.id, key_n, keys), HUB_OK);
	assert_int_equal(keys[1].retired_ms, T0 + MIN);
	assert_int_equal(keys[2].retired_ms, 0);
	/* keys are per venue: the other venue's first is 1 */
	assert_int_equal(rotate(f, f->w.id, T0), 1);
	/* a key id taken is refused, as one past 63 */
	hub_pass_key k = keys[2];
	assert_int_equal(st->ops->pass->key_add(st, f->v.id, &k, T0), HUB_EXISTS);
	k.kid = 64;
	assert_int_equal(st->ops->pass->key_add(st, f->v.id, &k, T0), HUB_INVALID);
	sodium_memzero(secret, sizeof secret);
}

static void test_issue(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char a[HUB_ID_MAX], b[HUB_ID_MAX], c[HUB_ID_MAX], d[HUB_ID_MAX];
	add_member(f, "王小明", "13800000001", "", a);
	add_member(f, "Alice Smith", "13800000002", "A-77", b);
	add_member(f, "Bob", "13800000003", "THIS-CODE-IS-TOO-LONG", c);
	char nine[24];
	pass_canonical_code(9, nine);
	add_member(f, "Carol", "13800000004", nine, d);
	hub_pass p;
	/* no key yet: the sentence says what to do */
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, a, T0, &p, NULL), HUB_NOT_FOUND);
	assert_non_null(strstr(hub_store_errmsg(st), "rotate-key"));
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_members", NULL), 0);
	rotate(f, f->v.id, T0);
	assert_int_equal(st->ops->member_update(st, a, "gold", "2027-06-30", "", T0), HUB_OK);
	int64_t seq_before = hubdb_int(f->path, "SELECT seq FROM members WHERE uid = ?1", a);
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, a, T0 + MIN, &p, NULL), HUB_OK);
	assert_int_equal(p.f.number, 1);
	char canon[24];
	pass_canonical_code(1, canon);
	assert_string_equal(p.f.code, canon);
	assert_string_equal(p.f.greeting, "小明");
	assert_int_equal(p.f.tier, 1);
	assert_string_equal(p.tier, "gold");
	char day[11];
	pass_date_from_day(p.f.expires_day, day);
	assert_string_equal(day, "2027-06-30");
	assert_int_equal(p.f.issued_min, pass_minutes((T0 + MIN) / 1000));
	assert_true(strlen(p.text) <= PASS_TEXT_MAX && pass_looks_like(p.text, strlen(p.text)));
	verifies(f, &p, 1);
	/* a member without a code takes the pass's, with a new place in the members set */
	char buf[64];
	assert_string_equal(hubdb_text(f->path, "SELECT code FROM members WHERE uid = ?1", a, buf, sizeof buf), canon);
	assert_true(hubdb_int(f->path, "SELECT seq FROM members WHERE uid = ?1", a) > seq_before);
	/* a member's own code, when a pass can write it */
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, b, T0 + MIN, &p, NULL), HUB_OK);
	assert_int_equal(p.f.number, 2);
	assert_string_equal(p.f.code, "A-77");
	assert_int_equal(p.f.tier, 0);
	verifies(f, &p, 1);
	/* one a pass cannot carry is refused whole: no number given */
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, c, T0, &p, NULL), HUB_INVALID);
	assert_non_null(strstr(hub_store_errmsg(st), "member code THIS-CODE-IS-TOO-LONG cannot be written in a pass"));
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_members WHERE member_uid = ?1", c), 0);
	/* a code that is another number's canonical one is written out */
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, d, T0, &p, NULL), HUB_OK);
	assert_int_equal(p.f.number, 3);
	assert_string_equal(p.f.code, nine);
	/* again: the same number; a new key signs it */
	rotate(f, f->v.id, T0 + 2 * MIN);
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, a, T0 + 3 * MIN, &p, NULL), HUB_OK);
	assert_int_equal(p.f.number, 1);
	verifies(f, &p, 2);
	/* another venue's member is not this venue's */
	assert_int_equal(hub_pass_issue(st, f->kek, f->w.id, a, T0, &p, NULL), HUB_NOT_FOUND);
	/* a key file that is not the one the key was sealed with signs nothing */
	unsigned char wrong[HUB_KEK_BYTES];
	randombytes_buf(wrong, sizeof wrong);
	assert_int_not_equal(hub_pass_issue(st, wrong, f->v.id, b, T0, &p, NULL), HUB_OK);
	/* by code or uid */
	char uid[HUB_ID_MAX];
	assert_int_equal(hub_pass_member(st, f->v.id, "A-77", uid), HUB_OK);
	assert_string_equal(uid, b);
	assert_int_equal(hub_pass_member(st, f->v.id, a, uid), HUB_OK);
	assert_int_equal(hub_pass_member(st, f->w.id, "A-77", uid), HUB_NOT_FOUND);
}

static void test_tiers(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	rotate(f, f->v.id, T0);
	hub_pass p;
	for (int i = 0; i < 17; i++) {
		char name[32], phone[16], tier[16], uid[HUB_ID_MAX];
		snprintf(name, sizeof name, "Member %d", i);
		snprintf(phone, sizeof phone, "1390000%04d", i);
		snprintf(tier, sizeof tier, "tier-%d", i);
		add_member(f, name, phone, "", uid);
		assert_int_equal(st->ops->member_update(st, uid, tier, "", "", T0), HUB_OK);
		assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, uid, T0, &p, NULL), HUB_OK);
		/* the 16th distinct tier and after: the pass says nothing of tier */
		assert_int_equal(p.f.tier, i < PASS_TIER_MAX ? (unsigned)i + 1 : 0);
	}
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_tiers WHERE venue_id = ?1", f->v.id), 15);
	char buf[32];
	assert_string_equal(hubdb_text(f->path, "SELECT name FROM pass_tiers WHERE idx = 3", NULL, buf, sizeof buf),
			    "tier-2");
}

static int count_items(json_t *items, const char *kind)
{
	int n = 0;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) n += strcmp(json_string_value(json_object_get(it, "kind")), kind) == 0;
	return n;
}

static void test_revoke_and_dataset(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char a[HUB_ID_MAX];
	add_member(f, "王小明", "13800000001", "", a);
	assert_int_equal(st->ops->member_update(st, a, "gold", "", "", T0), HUB_OK);
	hub_page pg;
	/* nothing yet: an empty snapshot */
	assert_int_equal(st->ops->pass->pull(st, f->v.id, 0, 100, &pg), HUB_OK);
	assert_true(pg.reset);
	assert_int_equal(json_array_size(pg.items), 0);
	json_decref(pg.items);
	rotate(f, f->v.id, T0);
	hub_pass p;
	char token[HUB_PASS_TOKEN_LEN + 1];
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, a, T0 + MIN, &p, token), HUB_OK);
	/* the address works; only its hash is kept */
	unsigned char hash[HUB_HASH_LEN];
	assert_int_equal(hub_pass_token_hash(token, strlen(token), hash), 0);
	hub_pass seen;
	assert_int_equal(st->ops->pass->address_get(st, hash, &seen), HUB_OK);
	assert_string_equal(seen.text, p.text);
	assert_string_equal(seen.member_uid, a);
	assert_string_equal(seen.tier, "gold");
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_addresses WHERE pass = ?1", p.text), 1);
	assert_int_equal(hub_pass_token_hash("not-a-token", 11, hash), -1);
	/* snapshot: the key, then the tier list */
	assert_int_equal(st->ops->pass->pull(st, f->v.id, 0, 100, &pg), HUB_OK);
	assert_true(pg.reset);
	assert_int_equal(json_array_size(pg.items), 2);
	json_t *k = json_array_get(pg.items, 0), *t = json_array_get(pg.items, 1);
	assert_string_equal(json_string_value(json_object_get(k, "kind")), "key");
	assert_int_equal(json_integer_value(json_object_get(k, "kid")), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(k, "public"))), 64);
	assert_false(json_is_true(json_object_get(k, "retired")));
	assert_string_equal(json_string_value(json_object_get(t, "kind")), "tiers");
	assert_string_equal(json_string_value(json_array_get(json_object_get(t, "tiers"), 0)), "gold");
	int64_t cursor = pg.next;
	assert_true(cursor > 0);
	json_decref(pg.items);
	/* nothing new since */
	assert_int_equal(st->ops->pass->pull(st, f->v.id, cursor, 100, &pg), HUB_OK);
	assert_false(pg.reset);
	assert_int_equal(json_array_size(pg.items), 0);
	assert_int_equal(pg.next, cursor);
	json_decref(pg.items);
	/* revoke: one item, every pass issued until then; the address stops working */
	hub_pass_state ps;
	assert_int_equal(st->ops->pass->revoke(st, a, T0 + 2 * MIN, &ps), HUB_OK);
	assert_int_equal(ps.number, 1);
	assert_int_equal(ps.revoked_before_min, pass_minutes((T0 + 2 * MIN) / 1000));
	assert_int_equal(st->ops->pass->address_get(st, hash, &seen), HUB_NOT_FOUND);
	assert_int_equal(st->ops->pass->pull(st, f->v.id, cursor, 100, &pg), HUB_OK);
	assert_false(pg.reset);
	assert_int_equal(json_array_size(pg.items), 1);
	json_t *r = json_array_get(pg.items, 0);
	assert_string_equal(json_string_value(json_object_get(r, "kind")), "revoked");
	assert_int_equal(json_integer_value(json_object_get(r, "number")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "before")), ps.revoked_before_min);
	cursor = pg.next;
	json_decref(pg.items);
	/* a pass issued in the same minute as the revocation is dated after it */
	assert_int_equal(hub_pass_issue(st, f->kek, f->v.id, a, T0 + 2 * MIN, &p, NULL), HUB_OK);
	assert_true(p.f.issued_min > ps.revoked_before_min);
	/* a second revocation covers that one too, and replaces the first in the set */
	assert_int_equal(st->ops->pass->revoke(st, a, T0 + 2 * MIN, &ps), HUB_OK);
	assert_true(ps.revoked_before_min >= p.f.issued_min);
	/* rotate: the retired key comes again with the new one */
	rotate(f, f->v.id, T0 + 3 * MIN);
	assert_int_equal(st->ops->pass->pull(st, f->v.id, cursor, 100, &pg), HUB_OK);
	assert_int_equal(count_items(pg.items, "revoked"), 1);
	assert_int_equal(count_items(pg.items, "key"), 2);
	json_decref(pg.items);
	/* paging by one: the same items in the same order, and a cursor past the end is a new snapshot */
	int64_t since = 0;
	int items = 0, more = 1;
	while (more) {
		assert_int_equal(st->ops->pass->pull(st, f->v.id, since, 1, &pg), HUB_OK);
		items += (int)json_array_size(pg.items);
		more = pg.more;
		since = pg.next;
		json_decref(pg.items);
	}
	assert_int_equal(items, 4); /* keys 1 and 2, the tiers, the revocation */
	assert_int_equal(st->ops->pass->pull(st, f->v.id, since + 1000, 100, &pg), HUB_OK);
	assert_true(pg.reset);
	assert_int_equal(json_array_size(pg.items), 4);
	json_decref(pg.items);
	/* the other venue's set is its own */
	assert_int_equal(st->ops->pass->pull(st, f->w.id, 0, 100, &pg), HUB_OK);
	assert_int_equal(json_array_size(pg.items), 0);
	json_decref(pg.items);
	/* a member who never had a pass */
	char b[HUB_ID_MAX];
	add_member(f, "Bob", "13800000009", "", b);
	assert_int_equal(st->ops->pass->revoke(st, b, T0, &ps), HUB_NOT_FOUND);
}

static void test_signup(void **state)
{
	fx *f = *state;
	hub_store *st = f->st;
	char a[HUB_ID_MAX];
	add_member(f, "王小明", "13800000001", "", a);
	rotate(f, f->v.id, T0);
	unsigned char hash[HUB_HASH_LEN];
	char token[HUB_PASS_TOKEN_LEN + 1];
	hub_pass_token_new(token, hash);
	hub_pass_request rq = {.venue_id = f->v.id, .name = "林美玲", .phone = "13900000001", .address_hash = hash,
			       .now_ms = T0, .sign = hub_pass_sign, .ctx = f->kek};
	hub_pass p;
	assert_int_equal(st->ops->pass->issue(st, &rq, &p), HUB_OK);
	char buf[64];
	assert_string_equal(hubdb_text(f->path, "SELECT name FROM members WHERE uid = ?1", p.member_uid, buf, sizeof buf),
			    "林美玲");
	assert_string_equal(
	    hubdb_text(f->path, "SELECT origin_device FROM members WHERE uid = ?1", p.member_uid, buf, sizeof buf),
	    "signup");
	assert_string_equal(hubdb_text(f->path, "SELECT code FROM members WHERE uid = ?1", p.member_uid, buf, sizeof buf),
			    p.f.code);
	assert_string_equal(p.f.greeting, "美玲");
	/* a phone that is a member's already: nothing made, nothing said of whom */
	rq.phone = "13800000001";
	hub_pass_token_new(token, hash);
	assert_int_equal(st->ops->pass->issue(st, &rq, &p), HUB_EXISTS);
	assert_null(strstr(hub_store_errmsg(st), "王小明"));
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM members", NULL), 2);
	assert_int_equal(hubdb_int(f->path, "SELECT count(*) FROM pass_addresses", NULL), 1);
	/* sign-up pages: a slug is one venue's */
	hub_signup su = {.enabled = 1, .updated_ms = T0};
	snprintf(su.venue_id, sizeof su.venue_id, "%s", f->v.id);
	snprintf(su.slug, sizeof su.slug, "tea-house");
	snprintf(su.terms, sizeof su.terms, "Be kind. 请友善。");
	assert_int_equal(st->ops->pass->signup_set(st, &su), HUB_OK);
	hub_signup got;
	assert_int_equal(st->ops->pass->signup_get(st, NULL, "tea-house", &got), HUB_OK);
	assert_string_equal(got.venue_id, f->v.id);
	assert_string_equal(got.terms, "Be kind. 请友善。");
	assert_int_equal(got.enabled, 1);
	assert_int_equal(st->ops->pass->signup_get(st, f->v.id, NULL, &got), HUB_OK);
	assert_int_equal(st->ops->pass->signup_get(st, f->w.id, NULL, &got), HUB_NOT_FOUND);
	snprintf(su.venue_id, sizeof su.venue_id, "%s", f->w.id);
	assert_int_equal(st->ops->pass->signup_set(st, &su), HUB_EXISTS);
	su.enabled = 0;
	snprintf(su.venue_id, sizeof su.venue_id, "%s", f->v.id);
	assert_int_equal(st->ops->pass->signup_set(st, &su), HUB_OK);
	assert_int_equal(st->ops->pass->signup_get(st, NULL, "tea-house", &got), HUB_OK);
	assert_int_equal(got.enabled, 0);
	assert_int_equal(st->ops->pass->signup_get(st, NULL, "nope", &got), HUB_NOT_FOUND);
}

static void test_key_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/tingzi-kek.XXXXXX", path[64], why[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/hub.key", dir);
	assert_int_equal(hub_kek_new(path, why, sizeof why), 0);
	unsigned char a[HUB_KEK_BYTES], b[HUB_KEK_BYTES];
	assert_int_equal(hub_kek_load(path, a, why, sizeof why), 0);
	/* never over an existing file */
	assert_int_equal(hub_kek_new(path, why, sizeof why), -1);
	assert_int_equal(hub_kek_load(path, b, why, sizeof why), 0);
	assert_memory_equal(a, b, sizeof a);
	/* one others can read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(hub_kek_load(path, b, why, sizeof why), -1);
	assert_non_null(strstr(why, "chmod 600"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keys_sealed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_issue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tiers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_and_dataset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signup, setup, teardown),
	    cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
