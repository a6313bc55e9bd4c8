/*
 * test_pinyin — the generated reading table and the UTF-8 decoder.
 *
 * What a user would notice: a polyphonic surname has all its readings
 * (单: dan, shan, chan), traditional characters have readings (張: zhang),
 * ü is typed "v" (吕: lv), the most common reading comes first, and a broken
 * byte in a name does not swallow the characters after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync/roster/pinyin.h"
#include "sync/utf8.h"

struct reading_case {
	const char *ch;    /* one character, UTF-8 */
	const char *first; /* expected most common reading, NULL for none */
	const char *also[3];
};

static const struct reading_case reading_cases[] = {
    {"张", "zhang", {NULL}},
    {"張", "zhang", {NULL}},
    {"三", "san", {NULL}},
    {"单", "dan", {"shan", "chan", NULL}},
    {"曾", "ceng", {"zeng", NULL}},
    {"解", "jie", {"xie", NULL}},
    {"区", "qu", {"ou", NULL}},
    {"區", "qu", {"ou", NULL}},
    {"长", NULL, {"chang", "zhang", NULL}},
    {"行", "xing", {"hang", NULL}},
    {"乐", "le", {"yue", NULL}},
    {"吕", "lv", {NULL}},
    {"女", "nv", {NULL}},
    {"绿", "lv", {"lu", NULL}},
    {"陳", "chen", {NULL}},
    {"𠀀", "he", {NULL}}, /* U+20000, CJK Extension B */
};

static const char *const no_reading[] = {"A", "z", "é", "。", "〇", "あ", "한", "\xEF\xBF\xBD", ""};

static uint32_t decode_one(const char *s)
{
	uint32_t cp = 0;
	size_t n = utf8_next(s, strlen(s), &cp);
	assert_true(n > 0);
	assert_int_equal(n, strlen(s));
	return cp;
}

static int has_reading(const char **rd, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rd[i], want) == 0)
			return 1;
	}
	return 0;
}

static void test_readings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof reading_cases / sizeof reading_cases[0]; i++) {
		const struct reading_case *c = &reading_cases[i];
		const char *rd[PINYIN_MAX_READINGS];
		size_t n = pinyin_readings(decode_one(c->ch), rd, PINYIN_MAX_READINGS);
		print_message("%s:", c->ch);
		for (size_t k = 0; k < n; k++)
			print_message(" %s", rd[k]);
		print_message("\n");
		assert_true(n >= 1);
		if (c->first)
			assert_string_equal(rd[0], c->first);
		for (size_t k = 0; k < 3 && c->also[k]; k++)
			assert_true(has_reading(rd, n, c->also[k]));
	}
}

static void test_no_reading(void **state)
{
	(void)state;
	const char *rd[PINYIN_MAX_READINGS];
	for (size_t i = 0; i < sizeof no_reading / sizeof no_reading[0]; i++) {
		uint32_t cp = 0;
		utf8_next(no_reading[i], strlen(no_reading[i]), &cp);
		assert_int_equal(pinyin_readings(cp, rd, PINYIN_MAX_READINGS), 0);
	}
	assert_int_equal(pinyin_readings(0x110000, rd, PINYIN_MAX_READINGS), 0);
}

static void test_max_is_respected(void **state)
{
	(void)state;
	const char *rd[PINYIN_MAX_READINGS] = {NULL};
	/* 单 has three readings; ask for one, get the most common */
	assert_int_equal(pinyin_readings(0x5355, rd, 1), 1);
	assert_string_equal(rd[0], "dan");
	assert_null(rd[1]);
	assert_int_equal(pinyin_readings(0x5355, rd, 0), 0);
}

/* Every reading in the main CJK block is 1..6 lowercase letters, at most
 * PINYIN_MAX_READINGS of them, without duplicates; and nearly every character
 * has one. */
static void test_table_is_well_formed(void **state)
{
	(void)state;
	size_t with_reading = 0;
	for (uint32_t cp = 0x4E00; cp <= 0x9FFF; cp++) {
		const char *rd[PINYIN_MAX_READINGS + 1];
		size_t n = pinyin_readings(cp, rd, PINYIN_MAX_READINGS + 1);
		assert_true(n <= PINYIN_MAX_READINGS);
		with_reading += n > 0;
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(rd[i]);
			assert_true(len >= 1 && len <= 6);
			assert_int_equal(strspn(rd[i], "abcdefghijklmnopqrstuvwxyz"), len);
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(rd[i], rd[j]);
		}
	}
	assert_true(with_reading > 20000);
}

struct utf8_case {
	const char *bytes;
	size_t len;
	size_t used;
	uint32_t cp;
};

static const struct utf8_case utf8_cases[] = {
    {"", 0, 0, 0},
    {"abc", 0, 0, 0}, /* len 0 is the end */
    {"a", 1, 1, 'a'},
    {"\xC3\xA9", 2, 2, 0xE9}, /* é */
    {"张三", 6, 3, 0x5F20},
    {"\xF0\xA0\x80\x80", 4, 4, 0x20000},
    {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
    {"\200a", 2, 1, 0xFFFD},            /* stray continuation byte */
    {"\xC0\x80", 2, 1, 0xFFFD},         /* overlong NUL */
    {"\xE0\x80\xAF", 3, 1, 0xFFFD},     /* overlong '/' */
    {"\xED\xA0\x80", 3, 1, 0xFFFD},     /* surrogate */
    {"\xF4\x90\x80\x80", 4, 1, 0xFFFD}, /* past U+10FFFF */
    {"\xE5\xBC", 2, 1, 0xFFFD},         /* truncated 张 */
    {"\xE5\xBC\xA0", 2, 1, 0xFFFD},     /* 张 cut by len */
    {"\345a", 2, 1, 0xFFFD},            /* lead byte then ASCII */
    {"\xFF", 1, 1, 0xFFFD},
};

static void test_utf8_next(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
		const struct utf8_case *c = &utf8_cases[i];
		uint32_t cp = 12345;
		size_t used = utf8_next(c->bytes, c->len, &cp);
		print_message("case %zu\n", i);
		assert_int_equal(used, c->used);
		if (used > 0)
			assert_int_equal(cp, c->cp);
	}
}

/* A bad byte costs one character, not the rest of the name. */
static void test_utf8_resyncs(void **state)
{
	(void)state;
	const char *s = "\xE5\xBC"
			"三";
	size_t len = strlen(s), pos = 0, used, n = 0;
	uint32_t cp, got[4];
	while ((used = utf8_next(s + pos, len - pos, &cp)) > 0 && n < 4) {
		got[n++] = cp;
		pos += used;
	}
	assert_int_equal(n, 3);
	assert_int_equal(got[0], 0xFFFD);
	assert_int_equal(got[1], 0xFFFD);
	assert_int_equal(got[2], 0x4E09);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readings),         cmocka_unit_test(test_no_reading),
	    cmocka_unit_test(test_max_is_respected), cmocka_unit_test(test_table_is_well_formed),
	    cmocka_unit_test(test_utf8_next),        cmocka_unit_test(test_utf8_resyncs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
