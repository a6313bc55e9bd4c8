/*
 * test_roster — what a member at the kiosk notices when searching.
 *
 * Typing "zhangsan", "zhangs", "zs" or "ZS" finds 张三 and 張三; both readings
 * of a polyphonic surname find the member (单雄 by "shanxiong" and
 * "danxiong"); Latin names match without case or spaces; the last digits of
 * a phone find every member with that phone ending; a phone is shown masked;
 * a code finds exactly one member. A roster of 100 000 generated members
 * answers spot checks correctly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync/roster/roster.h"

#define MAX_OUT 64

struct member {
	int64_t id;
	const char *name, *phone, *code;
};

static const struct member members[] = {
    {1, "张三", "13812345678", "M001"},     {2, "張三", "13900005678", "M002"},
    {3, "张珊", "13700001111", "M003"},     {4, "单雄", "13600002222", "M004"},
    {5, "曾国藩", "13500003333", "M005"},   {6, "解放", "13400004444", "M006"},
    {7, "区志强", "13300005555", "M007"},   {8, "John Smith", "15012345678", "M008"},
    {9, "Anna-Lee O'Brien", "", "M009"},    {10, "José García", "0755-8888-5678", ""},
    {11, "吕小明", "18600006666", "M011"},  {12, "李四", "", ""},
    {13, "王 Anna", "18000007777", "M013"}, {14, "", "18000009999", "M014"},
};

static int setup(void **state)
{
	roster *r = roster_new();
	assert_non_null(r);
	for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
		const struct member *m = &members[i];
		/* the roster copies: hand it buffers that change afterwards */
		char name[64], phone[32], code[16];
		snprintf(name, sizeof name, "%s", m->name);
		snprintf(phone, sizeof phone, "%s", m->phone);
		snprintf(code, sizeof code, "%s", m->code);
		assert_int_equal(roster_add(r, m->id, name, phone, code), 0);
		memset(name, 'x', sizeof name - 1);
		memset(code, 'x', sizeof code - 1);
	}
	assert_int_equal(roster_finish(r), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	roster_free(*state);
	return 0;
}

struct name_case {
	const char *query;
	const char *expect[6]; /* the names found, in name order, NULL-terminated */
};

static const struct name_case name_cases[] = {
    {"zhangsan", {"张三", "張三", NULL}},
    {"zhangs", {"张三", "張三", "张珊", NULL}},
    {"zs", {"张三", "張三", "张珊", NULL}},
    {"ZS", {"张三", "張三", "张珊", NULL}},
    {"Zhang San", {"张三", "張三", NULL}},
    {"zhangshan", {"张珊", NULL}},
    {"shanxiong", {"单雄", NULL}},
    {"danxiong", {"单雄", NULL}},
    {"chanx", {"单雄", NULL}},
    {"sx", {"单雄", NULL}},
    {"dx", {"单雄", NULL}},
    {"zengguofan", {"曾国藩", NULL}},
    {"cengguofan", {"曾国藩", NULL}},
    {"zgf", {"曾国藩", NULL}},
    {"xiefang", {"解放", NULL}},
    {"jiefang", {"解放", NULL}},
    {"ouzhiqiang", {"区志强", NULL}},
    {"quzhiq", {"区志强", NULL}},
    {"lvxiaoming", {"吕小明", NULL}},
    {"luxiaoming", {"吕小明", NULL}},
    {"lxm", {"吕小明", NULL}},
    {"johnsmith", {"John Smith", NULL}},
    {"john smith", {"John Smith", NULL}},
    {"JOHN", {"John Smith", NULL}},
    {"js", {"John Smith", NULL}},
    {"jg", {"José García", NULL}},
    {"j", {"解放", "John Smith", "José García", NULL}}, /* jiefang < johnsmith < josegarcia */
    {"jose", {"José García", NULL}},
    {"JOSÉ G", {"José García", NULL}},
    {"annaleeob", {"Anna-Lee O'Brien", NULL}},
    {"alo", {"Anna-Lee O'Brien", NULL}},
    {"wanganna", {"王 Anna", NULL}},
    {"wa", {"王 Anna", NULL}},
    {"张三", {"张三", NULL}},
    {"张", {"张三", "张珊", NULL}},
    {"张s", {"张三", "张珊", NULL}},
    {"張三", {"張三", NULL}},
    {"ｚｈａｎｇｓａｎ", {"张三", "張三", NULL}}, /* full-width, from an IME */
    {"smith", {NULL}},                            /* names match from the start */
    {"sanzhang", {NULL}},
    {"zhangsanfeng", {NULL}},
    {"xyz", {NULL}},
    {"", {NULL}},
    {"   ", {NULL}},
    {"。", {NULL}},
};

static void test_search_name(void **state)
{
	const roster *r = *state;
	for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
		const struct name_case *c = &name_cases[i];
		const roster_entry *out[MAX_OUT];
		size_t n = roster_search_name(r, c->query, out, MAX_OUT);
		print_message("query \"%s\": %zu found\n", c->query, n);
		size_t want = 0;
		while (c->expect[want])
			want++;
		assert_int_equal(n, want);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(out[k]->name, c->expect[k]);
	}
}

static void test_search_name_max(void **state)
{
	const roster *r = *state;
	const roster_entry *out[MAX_OUT];
	memset(out, 0, sizeof out);
	assert_int_equal(roster_search_name(r, "zs", out, 2), 2);
	assert_null(out[2]);
	assert_int_equal(roster_search_name(r, "zs", out, 0), 0);
	assert_int_equal(roster_search_name(r, NULL, out, MAX_OUT), 0);
}

struct phone_case {
	const char *digits;
	size_t total;
	int64_t ids[4]; /* the first ones in name order */
};

static const struct phone_case phone_cases[] = {
    {"5678", 4, {8, 10, 1, 2}}, /* John Smith, José García, 张三, 張三 */
    {"345678", 2, {8, 1}},
    {"13812345678", 1, {1}},
    {"88885678", 1, {10}}, /* separators in the stored phone are ignored */
    {"1111", 1, {3}},
    {"0000", 0, {0}},
    {"678", 0, {0}}, /* fewer than 4 digits: refused */
    {"", 0, {0}},
    {"56a8", 0, {0}},
    {"113812345678", 0, {0}}, /* longer than the phone */
};

static void test_find_phone(void **state)
{
	const roster *r = *state;
	for (size_t i = 0; i < sizeof phone_cases / sizeof phone_cases[0]; i++) {
		const struct phone_case *c = &phone_cases[i];
		const roster_entry *out[MAX_OUT];
		print_message("digits \"%s\"\n", c->digits);
		size_t total = roster_find_phone(r, c->digits, out, MAX_OUT);
		assert_int_equal(total, c->total);
		for (size_t k = 0; k < total && k < 4; k++)
			assert_int_equal(out[k]->id, c->ids[k]);
	}
}

/* More matches than room: the total, and the first ones in name order. */
static void test_find_phone_max(void **state)
{
	const roster *r = *state;
	const roster_entry *out[2];
	assert_int_equal(roster_find_phone(r, "5678", out, 2), 4);
	assert_int_equal(out[0]->id, 8);
	assert_int_equal(out[1]->id, 10);
	assert_int_equal(roster_find_phone(r, "5678", out, 0), 4);
	assert_int_equal(roster_find_phone(r, NULL, out, 2), 0);
}

static void test_find_code(void **state)
{
	const roster *r = *state;
	const roster_entry *e = roster_find_code(r, "M004");
	assert_non_null(e);
	assert_int_equal(e->id, 4);
	assert_string_equal(e->name, "单雄");
	assert_string_equal(e->phone, "13600002222");
	assert_string_equal(e->code, "M004");
	assert_non_null(roster_find_code(r, "M014"));
	assert_null(roster_find_code(r, "m004")); /* exact */
	assert_null(roster_find_code(r, "M00"));
	assert_null(roster_find_code(r, "M0040"));
	assert_null(roster_find_code(r, "nope"));
	assert_null(roster_find_code(r, ""));
	assert_null(roster_find_code(r, NULL));
	assert_int_equal(roster_count(r), sizeof members / sizeof members[0]);
}

struct mask_case {
	const char *phone;
	size_t len;
	const char *masked;
};

static const struct mask_case mask_cases[] = {
    {"13812345678", 32, "138****5678"},
    {"8613812345678", 32, "861******5678"},
    {"87654321", 32, "****4321"},
    {"12345", 32, "*2345"},
    {"1234", 32, "****"},
    {"", 32, ""},
    {NULL, 32, ""},
    {"13812345678", 5, "138*"},
    {"13812345678", 1, ""},
};

static void test_mask_phone(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof mask_cases / sizeof mask_cases[0]; i++) {
		char buf[32];
		memset(buf, '#', sizeof buf);
		roster_mask_phone(mask_cases[i].phone, buf, mask_cases[i].len);
		assert_string_equal(buf, mask_cases[i].masked);
	}
	char untouched = '#';
	roster_mask_phone("13812345678", &untouched, 0);
	assert_int_equal(untouched, '#');
}

static void test_empty_and_unfinished(void **state)
{
	(void)state;
	const roster_entry *out[4];
	roster *r = roster_new();
	assert_non_null(r);
	assert_int_equal(roster_add(r, 1, "张三", "13812345678", "M001"), 0);
	/* nothing is searchable before roster_finish() */
	assert_int_equal(roster_search_name(r, "zs", out, 4), 0);
	assert_int_equal(roster_find_phone(r, "5678", out, 4), 0);
	assert_null(roster_find_code(r, "M001"));
	assert_int_equal(roster_finish(r), 0);
	assert_int_equal(roster_finish(r), 0);
	assert_int_equal(roster_search_name(r, "zs", out, 4), 1);
	roster_free(r);

	r = roster_new();
	assert_non_null(r);
	assert_int_equal(roster_finish(r), 0);
	assert_int_equal(roster_count(r), 0);
	assert_int_equal(roster_search_name(r, "a", out, 4), 0);
	assert_int_equal(roster_find_phone(r, "1234", out, 4), 0);
	assert_null(roster_find_code(r, "x"));
	roster_free(r);
	roster_free(NULL);
}

/* ---- 100 000 generated members ---- */

#define BIG_COUNT 100000

struct syllable {
	const char *ch, *pinyin, *alt; /* alt: another reading that must work, or NULL */
};

static const struct syllable surnames[] = {
    {"王", "wang", NULL},  {"李", "li", NULL},    {"张", "zhang", NULL}, {"刘", "liu", NULL},
    {"陈", "chen", NULL},  {"杨", "yang", NULL},  {"黄", "huang", NULL}, {"赵", "zhao", NULL},
    {"吴", "wu", NULL},    {"周", "zhou", NULL},  {"徐", "xu", NULL},    {"孙", "sun", NULL},
    {"马", "ma", NULL},    {"朱", "zhu", NULL},   {"胡", "hu", NULL},    {"郭", "guo", NULL},
    {"何", "he", NULL},    {"高", "gao", NULL},   {"林", "lin", NULL},   {"罗", "luo", NULL},
    {"郑", "zheng", NULL}, {"梁", "liang", NULL}, {"谢", "xie", NULL},   {"宋", "song", NULL},
    {"唐", "tang", NULL},  {"许", "xu", NULL},    {"韩", "han", NULL},   {"冯", "feng", NULL},
    {"邓", "deng", NULL},  {"曹", "cao", NULL},   {"彭", "peng", NULL},  {"曾", "zeng", "ceng"},
    {"肖", "xiao", NULL},  {"田", "tian", NULL},  {"董", "dong", NULL},  {"袁", "yuan", NULL},
    {"潘", "pan", NULL},   {"于", "yu", NULL},    {"蒋", "jiang", NULL}, {"蔡", "cai", NULL},
    {"余", "yu", NULL},    {"杜", "du", NULL},    {"叶", "ye", NULL},    {"程", "cheng", NULL},
    {"苏", "su", NULL},    {"魏", "wei", NULL},   {"吕", "lv", NULL},    {"丁", "ding", NULL},
    {"任", "ren", NULL},   {"沈", "shen", NULL},  {"姚", "yao", NULL},   {"卢", "lu", NULL},
    {"姜", "jiang", NULL}, {"崔", "cui", NULL},   {"钟", "zhong", NULL}, {"谭", "tan", NULL},
    {"陆", "lu", NULL},    {"汪", "wang", NULL},  {"范", "fan", NULL},   {"金", "jin", NULL},
    {"石", "shi", NULL},   {"廖", "liao", NULL},  {"贾", "jia", NULL},   {"夏", "xia", NULL},
    {"韦", "wei", NULL},   {"方", "fang", NULL},  {"白", "bai", NULL},   {"邹", "zou", NULL},
    {"孟", "meng", NULL},  {"熊", "xiong", NULL}, {"秦", "qin", NULL},   {"邱", "qiu", NULL},
    {"江", "jiang", NULL}, {"尹", "yin", NULL},   {"薛", "xue", NULL},   {"段", "duan", NULL},
    {"雷", "lei", NULL},   {"侯", "hou", NULL},   {"龙", "long", NULL},  {"史", "shi", NULL},
    {"单", "shan", "dan"}, {"解", "xie", "jie"},  {"区", "ou", "qu"},    {"仇", "qiu", "chou"},
    {"查", "zha", "cha"},  {"朴", "piao", "pu"},  {"覃", "qin", "tan"},  {"翟", "zhai", "di"},
    {"張", "zhang", NULL}, {"陳", "chen", NULL},  {"劉", "liu", NULL},   {"黃", "huang", NULL},
};

static const struct syllable given[] = {
    {"伟", "wei", NULL},   {"芳", "fang", NULL},  {"娜", "na", NULL},    {"秀", "xiu", NULL},
    {"英", "ying", NULL},  {"敏", "min", NULL},   {"静", "jing", NULL},  {"丽", "li", NULL},
    {"强", "qiang", NULL}, {"磊", "lei", NULL},   {"军", "jun", NULL},   {"洋", "yang", NULL},
    {"勇", "yong", NULL},  {"艳", "yan", NULL},   {"杰", "jie", NULL},   {"娟", "juan", NULL},
    {"涛", "tao", NULL},   {"明", "ming", NULL},  {"超", "chao", NULL},  {"霞", "xia", NULL},
    {"平", "ping", NULL},  {"刚", "gang", NULL},  {"桂", "gui", NULL},   {"华", "hua", NULL},
    {"文", "wen", NULL},   {"红", "hong", NULL},  {"玉", "yu", NULL},    {"兰", "lan", NULL},
    {"建", "jian", NULL},  {"国", "guo", NULL},   {"志", "zhi", NULL},   {"海", "hai", NULL},
    {"燕", "yan", NULL},   {"春", "chun", NULL},  {"梅", "mei", NULL},   {"鹏", "peng", NULL},
    {"飞", "fei", NULL},   {"宇", "yu", NULL},    {"浩", "hao", NULL},   {"晨", "chen", NULL},
    {"博", "bo", NULL},    {"欣", "xin", NULL},   {"雪", "xue", NULL},   {"琳", "lin", NULL},
    {"婷", "ting", NULL},  {"慧", "hui", NULL},   {"佳", "jia", NULL},   {"嘉", "jia", NULL},
    {"子", "zi", NULL},    {"轩", "xuan", NULL},  {"涵", "han", NULL},   {"怡", "yi", NULL},
    {"思", "si", NULL},    {"雨", "yu", NULL},    {"萱", "xuan", NULL},  {"梓", "zi", NULL},
    {"睿", "rui", NULL},   {"俊", "jun", NULL},   {"凯", "kai", NULL},   {"乐", "le", "yue"},
    {"长", "chang", NULL}, {"行", "xing", NULL},  {"朝", "zhao", NULL},  {"重", "zhong", NULL},
    {"和", "he", NULL},    {"正", "zheng", NULL}, {"永", "yong", NULL},  {"晓", "xiao", NULL},
    {"小", "xiao", NULL},  {"东", "dong", NULL},  {"亮", "liang", NULL}, {"成", "cheng", NULL},
    {"辉", "hui", NULL},   {"云", "yun", NULL},   {"林", "lin", NULL},   {"峰", "feng", NULL},
    {"斌", "bin", NULL},   {"丹", "dan", NULL},   {"萍", "ping", NULL},  {"玲", "ling", NULL},
    {"颖", "ying", NULL},  {"倩", "qian", NULL},  {"琪", "qi", NULL},    {"瑶", "yao", NULL},
    {"蕾", "lei", NULL},   {"薇", "wei", NULL},   {"晶", "jing", NULL},  {"月", "yue", NULL},
    {"阳", "yang", NULL},  {"天", "tian", NULL},  {"一", "yi", NULL},    {"然", "ran", NULL},
    {"安", "an", NULL},    {"心", "xin", NULL},
};

#define NSURNAMES (sizeof surnames / sizeof surnames[0])
#define NGIVEN    (sizeof given / sizeof given[0])

/* Member i of the big roster: its name's parts, phone and code. */
struct big_member {
	const struct syllable *part[3];
	size_t nparts;
	char name[16], phone[16], code[16];
};

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(rng_state >> 33);
}

static void big_member(size_t i, struct big_member *m)
{
	rng_state = 0x9E3779B97F4A7C15u ^ (i * 0x100000001B3u);
	rng();
	m->part[0] = &surnames[rng() % NSURNAMES];
	m->nparts = rng() % 4 == 0 ? 2 : 3;
	for (size_t k = 1; k < m->nparts; k++)
		m->part[k] = &given[rng() % NGIVEN];
	size_t len = 0;
	for (size_t k = 0; k < m->nparts; k++)
		len += (size_t)snprintf(m->name + len, sizeof m->name - len, "%s", m->part[k]->ch);
	/* 8 random digits after "13x": phone endings repeat, as in real rosters */
	snprintf(m->phone, sizeof m->phone, "13%u%08u", rng() % 10, rng() % 100000000u);
	snprintf(m->code, sizeof m->code, "T%06zu", i);
}

/* The query for member m with reading choice alt for the surname. */
static void big_query(const struct big_member *m, int initials, int alt, char *buf, size_t len)
{
	size_t o = 0;
	for (size_t k = 0; k < m->nparts && o + 1 < len; k++) {
		const char *py = (k == 0 && alt && m->part[0]->alt) ? m->part[0]->alt : m->part[k]->pinyin;
		if (initials)
			buf[o++] = py[0];
		else
			o += (size_t)snprintf(buf + o, len - o, "%s", py);
	}
	buf[o < len ? o : len - 1] = '\0';
}

static int big_setup(void **state)
{
	roster *r = roster_new();
	assert_non_null(r);
	struct big_member m;
	for (size_t i = 0; i < BIG_COUNT; i++) {
		big_member(i, &m);
		assert_int_equal(roster_add(r, (int64_t)i, m.name, m.phone, m.code), 0);
	}
	assert_int_equal(roster_finish(r), 0);
	*state = r;
	return 0;
}

static int found(const roster_entry *const *out, size_t n, int64_t id)
{
	for (size_t k = 0; k < n; k++) {
		if (out[k]->id == id)
			return 1;
	}
	return 0;
}

static int in_name_order(const roster_entry *const *out, size_t n)
{
	for (size_t k = 1; k < n; k++) {
		if (out[k - 1] >= out[k])
			return 0;
	}
	return 1;
}

/* Full pinyin (with every surname reading), initials, phone ending and code
 * each find a sample of the 100 000 members. */
static void test_big_spot_checks(void **state)
{
	const roster *r = *state;
	static const roster_entry *out[BIG_COUNT];
	struct big_member m;
	char q[64];

	assert_int_equal(roster_count(r), BIG_COUNT);
	for (size_t i = 0; i < BIG_COUNT; i += 331) {
		big_member(i, &m);
		for (int alt = 0; alt <= 1; alt++) {
			big_query(&m, 0, alt, q, sizeof q);
			size_t n = roster_search_name(r, q, out, BIG_COUNT);
			if (!found(out, n, (int64_t)i))
				fail_msg("%s (member %zu) not found by \"%s\"", m.name, i, q);
			assert_true(in_name_order(out, n));
		}
		big_query(&m, 1, 0, q, sizeof q);
		size_t n = roster_search_name(r, q, out, BIG_COUNT);
		if (!found(out, n, (int64_t)i))
			fail_msg("%s (member %zu) not found by \"%s\"", m.name, i, q);

		size_t total = roster_find_phone(r, m.phone + 7, out, BIG_COUNT);
		assert_true(total >= 1 && found(out, total, (int64_t)i));
		assert_true(in_name_order(out, total));
		assert_int_equal(roster_find_phone(r, m.phone, out, BIG_COUNT), 1);
		assert_int_equal(out[0]->id, (int64_t)i);

		const roster_entry *e = roster_find_code(r, m.code);
		assert_non_null(e);
		assert_int_equal(e->id, (int64_t)i);
		assert_string_equal(e->name, m.name);
	}
}

/* Phone endings against a count over the whole roster. */
static void test_big_phone_counts(void **state)
{
	const roster *r = *state;
	static const roster_entry *out[BIG_COUNT];
	static const char *const endings[] = {"0000", "1234", "5678", "8888", "00000", "314159"};
	struct big_member m;
	size_t want[sizeof endings / sizeof endings[0]] = {0};

	for (size_t i = 0; i < BIG_COUNT; i++) {
		big_member(i, &m);
		for (size_t k = 0; k < sizeof endings / sizeof endings[0]; k++) {
			size_t el = strlen(endings[k]), pl = strlen(m.phone);
			want[k] += strcmp(m.phone + pl - el, endings[k]) == 0;
		}
	}
	for (size_t k = 0; k < sizeof endings / sizeof endings[0]; k++) {
		size_t total = roster_find_phone(r, endings[k], out, BIG_COUNT);
		print_message("ending %s: %zu members\n", endings[k], total);
		assert_int_equal(total, want[k]);
		for (size_t j = 0; j < total; j++) {
			size_t pl = strlen(out[j]->phone), el = strlen(endings[k]);
			assert_string_equal(out[j]->phone + pl - el, endings[k]);
		}
	}
}

/* A short query returns at most max members, each once, in name order. */
static void test_big_short_queries(void **state)
{
	const roster *r = *state;
	const roster_entry *out[20];
	static const char *const queries[] = {"z", "zh", "zhang", "w", "x", "l", "s", "zw", "ww"};
	for (size_t k = 0; k < sizeof queries / sizeof queries[0]; k++) {
		size_t n = roster_search_name(r, queries[k], out, 20);
		assert_int_equal(n, 20);
		assert_true(in_name_order(out, n));
	}
}

int main(void)
{
	const struct CMUnitTest small[] = {
	    cmocka_unit_test(test_search_name), cmocka_unit_test(test_search_name_max),
	    cmocka_unit_test(test_find_phone),  cmocka_unit_test(test_find_phone_max),
	    cmocka_unit_test(test_find_code),
	};
	const struct CMUnitTest alone[] = {
	    cmocka_unit_test(test_mask_phone),
	    cmocka_unit_test(test_empty_and_unfinished),
	};
	const struct CMUnitTest big[] = {
	    cmocka_unit_test(test_big_spot_checks),
	    cmocka_unit_test(test_big_phone_counts),
	    cmocka_unit_test(test_big_short_queries),
	};
	int failed = cmocka_run_group_tests_name("roster", small, setup, teardown);
	failed += cmocka_run_group_tests_name("roster_alone", alone, NULL, NULL);
	failed += cmocka_run_group_tests_name("roster_100k", big, big_setup, teardown);
	return failed;
}
