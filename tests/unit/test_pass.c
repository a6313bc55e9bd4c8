/*
 * The signed member pass (sync/pass.c): what goes in comes out, any change
 * to a pass is refused, another venue's or another key's pass does not
 * verify, the longest pass fits the QR code a camera reads, and no full name
 * is ever written into one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sync/pass.h"

#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t pk[PASS_PUBLIC_BYTES], sk[PASS_SECRET_BYTES];
static uint8_t venue[PASS_VENUE_BYTES];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	pass_keypair(pk, sk);
	return pass_uid_bytes("0b1c2d3e4f5061728394a5b6c7d8e9f0", venue);
}

static pass_fields sample(void)
{
	pass_fields f = {0};
	f.key_id = 3;
	f.venue_tag = pass_venue_tag(venue);
	f.issued_min = pass_minutes(1795000000);
	f.expires_day = (uint32_t)pass_day_from_date("2027-06-30");
	f.number = 4321;
	f.tier = 2;
	pass_canonical_code(f.number, f.code);
	strcpy(f.greeting, "小明");
	return f;
}

static void test_round_trip(void **state)
{
	(void)state;
	pass_fields f = sample();
	char text[PASS_TEXT_MAX + 1];
	int n = pass_encode(&f, venue, sk, text);
	assert_true(n >= PASS_TEXT_MIN && n <= PASS_TEXT_MAX);
	assert_int_equal((size_t)n, strlen(text));
	assert_true(pass_looks_like(text, (size_t)n));
	pass_read r;
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);
	assert_int_equal(pass_check(&r, venue, pk), PASS_OK);
	assert_int_equal(r.f.key_id, 3);
	assert_int_equal(r.f.venue_tag, f.venue_tag);
	assert_int_equal(r.f.issued_min, f.issued_min);
	assert_int_equal(r.f.expires_day, f.expires_day);
	assert_int_equal(r.f.number, 4321);
	assert_int_equal(r.f.tier, 2);
	assert_string_equal(r.f.code, "TZP4321");
	assert_string_equal(r.f.greeting, "小明");
	char day[11];
	pass_date_from_day(r.f.expires_day, day);
	assert_string_equal(day, "2027-06-30");

	/* a code of its own is written out, and a greeting cut to what still fits */
	strcpy(f.code, "L-0123");
	strcpy(f.greeting, "Alexandra");
	n = pass_encode(&f, venue, sk, text);
	assert_true(n > 0 && n <= PASS_TEXT_MAX);
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);
	assert_int_equal(pass_check(&r, venue, pk), PASS_OK);
	assert_string_equal(r.f.code, "L-0123");
	assert_string_equal(r.f.greeting, ""); /* no room left beside that code */
	/* with room for 4 bytes, a word of letters cut short is its initial: never "Alex" */
	strcpy(f.code, "L1");
	n = pass_encode(&f, venue, sk, text);
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);
	assert_string_equal(r.f.code, "L1");
	assert_string_equal(r.f.greeting, "A.");

	/* no end to the membership, the smallest number, no tier, no greeting */
	pass_fields g = sample();
	g.expires_day = 0;
	g.number = 1;
	g.tier = 0;
	pass_canonical_code(1, g.code);
	g.greeting[0] = '\0';
	n = pass_encode(&g, venue, sk, text);
	assert_true(n >= PASS_TEXT_MIN);
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);
	assert_int_equal(r.f.expires_day, 0);
	assert_string_equal(r.f.code, "TZP1");
	assert_string_equal(r.f.greeting, "");
}

static void test_fields_refused(void **state)
{
	(void)state;
	char text[PASS_TEXT_MAX + 1];
	pass_fields f = sample();
	f.key_id = 0;
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	f.key_id = PASS_KEY_MAX + 1;
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	f.tier = PASS_TIER_MAX + 1;
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	strcpy(f.code, "has space");
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	strcpy(f.code, "ABCDEFGHIJKLMNOP"); /* 16 characters */
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	strcpy(f.code, "L000123456"); /* a code that cannot be written with pass number 4321 */
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_TOO_LONG);
	f = sample();
	f.number = 0;
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
	f = sample();
	strcpy(f.greeting, "a\nb");
	assert_int_equal(pass_encode(&f, venue, sk, text), PASS_E_FIELD);
}

/* Every character of a pass changed to every other one: never a pass that
 * verifies. */
static void test_every_change_refused(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$%*+-./:";
	pass_fields f = sample();
	char text[PASS_TEXT_MAX + 1];
	int n = pass_encode(&f, venue, sk, text);
	assert_true(n > 0);
	int tried = 0;
	for (int i = 0; i < n; i++) {
		char was = text[i];
		for (const char *c = alphabet; *c; c++) {
			if (*c == was)
				continue;
			text[i] = *c;
			pass_read r;
			if (pass_decode(text, (size_t)n, &r) == PASS_OK && pass_check(&r, venue, pk) == PASS_OK)
				fail_msg("character %d changed from %c to %c still verifies", i, was, *c);
			tried++;
		}
		text[i] = was;
	}
	assert_int_equal(tried, n * 43);
	/* every bit of the fields and of the signature flipped, re-encoded as a pass would be */
	pass_read good;
	assert_int_equal(pass_decode(text, (size_t)n, &good), PASS_OK);
	for (size_t byte = 0; byte < good.fields_len; byte++)
		for (int bit = 0; bit < 8; bit++) {
			pass_read r = good;
			r.fields[byte] ^= (uint8_t)(1 << bit);
			assert_int_equal(pass_check(&r, venue, pk), PASS_E_SIGNATURE);
		}
	for (size_t byte = 0; byte < PASS_SIG_BYTES; byte++) {
		pass_read r = good;
		r.sig[byte] ^= 0x10;
		assert_int_equal(pass_check(&r, venue, pk), PASS_E_SIGNATURE);
	}
	/* cut short, one character more, lower case, a space */
	assert_int_not_equal(pass_decode(text, (size_t)n - 1, &good), PASS_OK);
	char longer[PASS_TEXT_MAX + 2];
	snprintf(longer, sizeof longer, "%s0", text);
	pass_read r;
	assert_false(pass_decode(longer, strlen(longer), &r) == PASS_OK && pass_check(&r, venue, pk) == PASS_OK);
	char lower[PASS_TEXT_MAX + 1];
	strcpy(lower, text);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_false(pass_looks_like(lower, strlen(lower)));
	text[5] = ' ';
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_E_FORMAT);
	/* member codes are never passes */
	assert_false(pass_looks_like("L000123", 7));
	assert_false(pass_looks_like("", 0));
}

static void test_wrong_key_and_venue(void **state)
{
	(void)state;
	pass_fields f = sample();
	char text[PASS_TEXT_MAX + 1];
	int n = pass_encode(&f, venue, sk, text);
	pass_read r;
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);

	uint8_t pk2[PASS_PUBLIC_BYTES], sk2[PASS_SECRET_BYTES];
	pass_keypair(pk2, sk2);
	assert_int_equal(pass_check(&r, venue, pk2), PASS_E_SIGNATURE);

	/* another venue: its tag differs, and the signature covers the whole uid */
	uint8_t other[PASS_VENUE_BYTES];
	assert_int_equal(pass_uid_bytes("0b1c2d3e4f5061728394a5b6c7d8e9f1", other), 0);
	assert_int_equal(pass_check(&r, other, pk), PASS_E_SIGNATURE);
	/* uids made in one run share their first digits: the tags of a run's venues still differ */
	int differ = 0;
	for (int i = 0; i < 16; i++) {
		uint8_t u[PASS_VENUE_BYTES];
		char hex[33];
		snprintf(hex, sizeof hex, "0b1c2d3e4f5061728394a5b6c7d8e9%02x", i);
		assert_int_equal(pass_uid_bytes(hex, u), 0);
		differ += pass_venue_tag(u) != pass_venue_tag(venue);
	}
	assert_true(differ >= 14);
	assert_int_equal(pass_uid_bytes("xyz", other), -1);
	assert_int_equal(pass_uid_bytes("0b1c2d3e4f5061728394a5b6c7d8e9fg", other), -1);
}

/* The longest pass: the largest fields, and the longest code that still fits them. */
static void longest(char text[PASS_TEXT_MAX + 1])
{
	pass_fields f = sample();
	f.key_id = PASS_KEY_MAX;
	f.issued_min = (1u << 25) - 1;
	f.expires_day = (1u << 15) - 1;
	f.number = (1u << 31) - 1;
	f.tier = PASS_TIER_MAX;
	strcpy(f.code, "ABCDE");
	strcpy(f.greeting, "Zhang");
	int n = pass_encode(&f, venue, sk, text);
	assert_int_equal(n, 119);
	pass_read r;
	assert_int_equal(pass_decode(text, (size_t)n, &r), PASS_OK);
	assert_int_equal(pass_check(&r, venue, pk), PASS_OK);
	assert_string_equal(r.f.code, "ABCDE");
	assert_string_equal(r.f.greeting, ""); /* no room left for it */
}

static void test_longest_fits_a_qr_code(void **state)
{
	(void)state;
	char text[PASS_TEXT_MAX + 1];
	longest(text);
	/* alphanumeric mode throughout: version 5 at level M holds 122 such characters */
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(qr);
	assert_true(qr->version <= 5);
	/* a picture of it, 4 pixels a module and a quiet zone, read back by zbar */
	char path[] = "/tmp/tingzi-pass-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	int scale = 4, quiet = 4, side = (qr->width + 2 * quiet) * scale;
	fprintf(fp, "P5\n%d %d\n255\n", side, side);
	for (int y = 0; y < side; y++)
		for (int x = 0; x < side; x++) {
			int mx = x / scale - quiet, my = y / scale - quiet;
			int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
			           (qr->data[my * qr->width + mx] & 1);
			fputc(dark ? 0 : 255, fp);
		}
	fclose(fp);
	QRcode_free(qr);
	char cmd[256], got[256] = "";
	snprintf(cmd, sizeof cmd, "zbarimg -q --raw PGM:%s", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(got, sizeof got, p))
		got[0] = '\0';
	int rc = pclose(p);
	unlink(path);
	if (rc != 0)
		fail_msg("zbarimg read nothing (exit %d): is zbar-tools installed?", rc);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, text);
}

static void greet(const char *name, const char *want)
{
	char out[PASS_GREETING_MAX + 1];
	pass_greeting(name, out, sizeof out);
	if (strcmp(out, want) != 0)
		fail_msg("greeting of \"%s\" is \"%s\", not \"%s\"", name, out, want);
}

static void test_greeting_never_the_full_name(void **state)
{
	(void)state;
	greet("王小明", "小明");
	greet("王明", "明");
	greet("欧阳", "阳");
	greet("王", "");
	greet("Alice Smith", "Alice");
	greet("  Alice   Smith ", "Alice");
	greet("Alice", "A.");
	greet("Bartholomew-Alexander Smith", "B.");
	greet("", "");
	/* a greeting is at most the room given, cut at a whole character */
	char out[8];
	pass_greeting("司马相如的朋友", out, sizeof out);
	assert_string_equal(out, "马相");
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(pass_day_from_date(""), 0);
	assert_int_equal(pass_day_from_date("2024-01-01"), 1);
	assert_int_equal(pass_day_from_date("2023-05-01"), 1); /* ended before 2024: ended */
	assert_int_equal(pass_day_from_date("2024-02-30"), -1);
	assert_int_equal(pass_day_from_date("2024-02-29"), 60);
	assert_int_equal(pass_day_from_date("2025-02-29"), -1);
	assert_int_equal(pass_day_from_date("2024-1-01"), -1);
	char d[11];
	pass_date_from_day(60, d);
	assert_string_equal(d, "2024-02-29");
	pass_date_from_day((uint32_t)pass_day_from_date("2099-12-31"), d);
	assert_string_equal(d, "2099-12-31");
	assert_int_equal(pass_minutes(PASS_EPOCH_S + 3600), 60);
	assert_int_equal(pass_minutes(0), 0);
	assert_int_equal(pass_minutes_unix(60), PASS_EPOCH_S + 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_fields_refused),
	    cmocka_unit_test(test_every_change_refused),
	    cmocka_unit_test(test_wrong_key_and_venue),
	    cmocka_unit_test(test_longest_fits_a_qr_code),
	    cmocka_unit_test(test_greeting_never_the_full_name),
	    cmocka_unit_test(test_units),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
