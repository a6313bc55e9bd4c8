/*
 * roster — the in-memory member index the kiosk searches on every keystroke.
 *
 * Layout. Every string lives once in an arena of NUL-terminated strings (one
 * for names, phones and codes, one for the distinct search keys); everything
 * else is arrays of 32-bit indexes. roster_add() only copies the three
 * strings in. roster_finish() builds, and from then on nothing changes:
 *
 *   entry[]        the members, sorted in name order (below), so a member's
 *                  index is also its rank and sorting results is sorting
 *                  indexes;
 *   key[]          the distinct search keys, sorted (strcmp);
 *   key_start[]    key k's members are posting[key_start[k] .. key_start[k+1]),
 *                  ascending, so each posting list is in name order;
 *   by_phone[]     members with at least 4 phone digits, sorted by the
 *                  reversed digits, so "ends with 5678" is a prefix range;
 *   by_code[]      members with a code, sorted by code.
 *
 * About 120 bytes a member for 100 000 Chinese names, a quarter of it the
 * roster_entry array itself. roster_finish() needs no sort of the
 * (key, member) pairs: it counts them per key and scatters the members in
 * name order, so the whole build peaks at about 1.6 times the finished size.
 *
 * Search keys. A name is cut into tokens: each Han character with a known
 * reading (pinyin.h) and each word of Latin letters and digits (lowercased,
 * accents folded: "José" -> "jose"); anything else separates. For up to
 * COMBOS_MAX combinations of readings a member gets two keys, the readings
 * run together ("zhangsan") and their first letters ("zs"). Combinations are
 * taken in order of the readings' ranks with the surname (first token)
 * varying fastest, so every reading of a polyphonic surname is indexed
 * (单: dan, chan, shan) before rarer readings of the given name. A key that
 * is a prefix of another key of the same member is dropped: a prefix query
 * that finds the short one finds the long one too.
 *
 * Name order is the name's first-reading pinyin ("zhangsan"; Latin names
 * lowercased without spaces), then the name's bytes, then the id.
 *
 * Queries. A name query is tokenized the same way; its readings run together
 * (spaces and case ignored) and the members whose keys start with it are
 * collected by binary search and a forward scan, each member once, until max
 * are found; those are returned in name order. Han characters in a query
 * ("张三", "张s") are matched through their readings and, when they lead the
 * query, literally against the start of the name too. A phone query is a
 * binary search for the range of reversed phones starting with the reversed
 * digits; a code query is a binary search for the exact code.
 *
 * Limits: each field is cut to FIELD_MAX bytes (at a UTF-8 boundary), keys to
 * KEY_MAX - 1 letters (queries are cut the same way, so long names still
 * match), names to TOKENS_MAX tokens. Scripts other than Han and Latin are
 * not searchable by name.
 */
#include "sync/roster/roster.h"
#include "sync/utf8.h"

#include "sync/roster/pinyin.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define FIELD_MAX       255  /* bytes kept of a name, phone or code */
#define KEY_MAX         96   /* bytes of one search key, with its NUL */
#define TOKENS_MAX      24   /* tokens of a name that are indexed */
#define COMBOS_MAX      16   /* reading combinations indexed per member */
#define COMBO_ENUM_MAX  4096 /* combinations looked at to pick COMBOS_MAX */
#define MEMBER_KEYS_MAX (2 * COMBOS_MAX)
#define PHONE_MIN       4 /* digits a phone query needs */
#define NONE            UINT32_MAX

/* NUL-terminated strings packed end to end, addressed by 32-bit offsets. */
struct arena {
	char *s;
	size_t len, cap;
};

/* One member as added, before roster_finish(): offsets into the text arena. */
struct member_src {
	int64_t id;
	uint32_t name, phone, code;
};

struct roster {
	struct arena text;      /* names, phones, codes */
	struct arena keys;      /* search keys */
	struct member_src *src; /* until roster_finish() has built entry[] */
	size_t count, src_cap;
	int finished;

	roster_entry *entry; /* count, in name order once finished */
	uint32_t *key;       /* nkeys offsets into keys, sorted by key */
	uint32_t *key_start; /* nkeys + 1 */
	uint32_t *posting;   /* member indexes */
	size_t nkeys;
	uint32_t *by_phone;
	size_t nphone;
	uint32_t *by_code;
	size_t ncode;
};

/* ---- Allocation helpers ---- */

static void *alloc_array(size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / size)
		return NULL;
	return malloc(n * size);
}

/* p (holding *cap elements of size) grown to hold at least need, or NULL
 * when out of memory (p is then unchanged and still valid). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return NULL;
		ncap *= 2;
	}
	void *np = realloc(p, ncap * size);
	if (np)
		*cap = ncap;
	return np;
}

/* Append s[0..len) and a NUL; returns the offset, or NONE when out of memory. */
static uint32_t arena_push(struct arena *a, const char *s, size_t len)
{
	if (a->len + len + 1 >= NONE)
		return NONE;
	char *ns = grow(a->s, &a->cap, a->len + len + 1, 1);
	if (!ns)
		return NONE;
	a->s = ns;
	uint32_t off = (uint32_t)a->len;
	memcpy(a->s + off, s, len);
	a->s[off + len] = '\0';
	a->len += len + 1;
	return off;
}

/* Give back the arena's unused capacity; it does not move afterwards. */
static void arena_fit(struct arena *a)
{
	char *fit = realloc(a->s, a->len ? a->len : 1);
	if (fit) {
		a->s = fit;
		a->cap = a->len ? a->len : 1;
	}
}

/* Length of s cut to FIELD_MAX bytes without splitting a UTF-8 sequence. */
static size_t field_len(const char *s)
{
	size_t n = strnlen(s, FIELD_MAX + 1);
	if (n <= FIELD_MAX)
		return n;
	n = FIELD_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* ---- Tokens: Han characters and Latin words ---- */

/* Base letters of U+0100..U+017F (Latin Extended-A): Ā..ą a, Ć..č c, and so on. */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii"
				  "iijjkkkllllllllllnnnnnnnnnoooooooorrrrrrssssssss"
				  "ttttttuuuuuuuuuuuuwwyyyzzzzzzs";
/* Base letters of U+00C0..U+00FF; '-' is not a letter. */
static const char latin_1[] = "aaaaaaaceeeeiiiidnooooo-ouuuuyts"
			      "aaaaaaaceeeeiiiidnooooo-ouuuuyty";

/* Write the lowercase ASCII spelling of a letter or digit cp to out (up to 2
 * bytes) and return its length; 0 when cp is not a Latin letter or digit. */
static size_t fold_latin(uint32_t cp, char out[2])
{
	if (cp >= 0xFF10 && cp <= 0xFF5A) /* full-width forms from IMEs */
		cp -= 0xFF10 - 0x30;
	if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z')) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp >= 'A' && cp <= 'Z') {
		out[0] = (char)(cp - 'A' + 'a');
		return 1;
	}
	const char *two = NULL;
	switch (cp) {
	case 0xC6: /* Æ */
	case 0xE6:
		two = "ae";
		break;
	case 0xDF: /* ß */
		two = "ss";
		break;
	case 0x132: /* Ĳ */
	case 0x133:
		two = "ij";
		break;
	case 0x152: /* Œ */
	case 0x153:
		two = "oe";
		break;
	}
	if (two) {
		memcpy(out, two, 2);
		return 2;
	}
	if (cp >= 0xC0 && cp <= 0xFF && latin_1[cp - 0xC0] != '-') {
		out[0] = latin_1[cp - 0xC0];
		return 1;
	}
	if (cp >= 0x100 && cp <= 0x17F) {
		out[0] = latin_ext_a[cp - 0x100];
		return 1;
	}
	return 0;
}

struct token {
	const char *reading[PINYIN_MAX_READINGS]; /* most common first */
	uint8_t n;
	uint32_t cp; /* the Han character; 0 for a Latin word */
};

struct tokens {
	struct token t[TOKENS_MAX];
	size_t n;
	char words[KEY_MAX * 2]; /* the Latin words, NUL-terminated */
	size_t words_len;
	size_t word_start; /* of the word being read, or SIZE_MAX */
};

static void tokens_end_word(struct tokens *tk)
{
	if (tk->word_start == SIZE_MAX)
		return;
	tk->words[tk->words_len++] = '\0';
	if (tk->n < TOKENS_MAX) {
		struct token *t = &tk->t[tk->n++];
		t->reading[0] = tk->words + tk->word_start;
		t->n = 1;
		t->cp = 0;
	}
	tk->word_start = SIZE_MAX;
}

/* Cut s into tokens (see the file comment). */
static void tokenize(const char *s, struct tokens *tk)
{
	size_t len = strlen(s), pos = 0, used;
	uint32_t cp;

	tk->n = 0;
	tk->words_len = 0;
	tk->word_start = SIZE_MAX;
	while (tk->n < TOKENS_MAX && (used = utf8_next(s + pos, len - pos, &cp)) > 0) {
		pos += used;
		char letters[2];
		size_t nl = fold_latin(cp, letters);
		if (nl > 0) {
			/* room for the letters, this word's NUL and nothing more */
			if (tk->words_len + nl + 1 > sizeof tk->words)
				break;
			if (tk->word_start == SIZE_MAX)
				tk->word_start = tk->words_len;
			memcpy(tk->words + tk->words_len, letters, nl);
			tk->words_len += nl;
			continue;
		}
		tokens_end_word(tk);
		const char *rd[PINYIN_MAX_READINGS];
		size_t n = cp < 0x2E80 ? 0 : pinyin_readings(cp, rd, PINYIN_MAX_READINGS);
		if (n > 0 && tk->n < TOKENS_MAX) {
			struct token *t = &tk->t[tk->n++];
			memcpy(t->reading, rd, n * sizeof rd[0]);
			t->n = (uint8_t)n;
			t->cp = cp;
		}
	}
	tokens_end_word(tk);
}

/* ---- Reading combinations ---- */

/* A combination: the reading chosen for each token. */
typedef uint8_t combo[TOKENS_MAX];

/* Lower is more common: the given name's ranks weigh 8 times the surname's,
 * so all readings of the surname come before rarer given-name readings. */
static unsigned combo_score(const combo c, size_t n)
{
	unsigned s = n > 0 ? c[0] : 0;
	for (size_t i = 1; i < n; i++)
		s += 8u * c[i];
	return s;
}

/* Store up to COMBOS_MAX combinations of tk's readings in out, most common
 * first, and return how many (at least 1 when tk has tokens). */
static size_t pick_combos(const struct tokens *tk, combo out[COMBOS_MAX])
{
	uint8_t limit[TOKENS_MAX];
	unsigned score[COMBOS_MAX];
	size_t product = 1, n = 0;

	/* Long polyphonic names: the later tokens keep only their common readings. */
	for (size_t i = 0; i < tk->n; i++) {
		limit[i] = tk->t[i].n;
		if (product * limit[i] > COMBO_ENUM_MAX)
			limit[i] = (uint8_t)(COMBO_ENUM_MAX / product);
		product *= limit[i];
	}

	combo c;
	memset(c, 0, sizeof c);
	for (size_t k = 0; k < product; k++) {
		unsigned s = combo_score(c, tk->n);
		size_t at = n;
		while (at > 0 && score[at - 1] > s)
			at--;
		if (at < COMBOS_MAX) {
			size_t move = (n < COMBOS_MAX ? n : COMBOS_MAX - 1) - at;
			memmove(&out[at + 1], &out[at], move * sizeof(combo));
			memmove(&score[at + 1], &score[at], move * sizeof score[0]);
			memcpy(out[at], c, sizeof(combo));
			score[at] = s;
			if (n < COMBOS_MAX)
				n++;
		}
		/* next combination, first token fastest */
		for (size_t i = 0; i < tk->n; i++) {
			if (++c[i] < limit[i])
				break;
			c[i] = 0;
		}
	}
	return tk->n > 0 ? n : 0;
}

/* Write combination c's readings run together (initials only when initials)
 * to buf, cut to KEY_MAX - 1 bytes, with v written as u. */
static void combo_key(const struct tokens *tk, const combo c, int initials, char buf[KEY_MAX])
{
	size_t len = 0;
	for (size_t i = 0; i < tk->n && len < KEY_MAX - 1; i++) {
		const char *rd = tk->t[i].reading[c[i]];
		size_t n = initials ? 1 : strlen(rd);
		if (n > KEY_MAX - 1 - len)
			n = KEY_MAX - 1 - len;
		/* ü is typed "v" or "u" (lv, lu -> 吕): both are stored and
		 * searched as "u", in names and queries alike. */
		for (size_t j = 0; j < n; j++)
			buf[len + j] = rd[j] == 'v' ? 'u' : rd[j];
		len += n;
	}
	buf[len] = '\0';
}

/* The search keys of one name, and the key that sorts it. */
struct member_keys {
	char key[MEMBER_KEYS_MAX][KEY_MAX];
	size_t n;
	char sort[KEY_MAX];
};

static int key_redundant(const struct member_keys *mk, size_t i)
{
	size_t len = strlen(mk->key[i]);
	for (size_t j = 0; j < mk->n; j++) {
		if (j == i || strncmp(mk->key[j], mk->key[i], len) != 0)
			continue;
		/* a longer key starting with it, or an equal key earlier */
		if (mk->key[j][len] != '\0' || j < i)
			return 1;
	}
	return 0;
}

static void name_keys(const char *name, struct member_keys *mk)
{
	struct tokens tk;
	combo c[COMBOS_MAX];
	char all[MEMBER_KEYS_MAX][KEY_MAX];

	tokenize(name, &tk);
	size_t nc = pick_combos(&tk, c);
	mk->n = 0;
	mk->sort[0] = '\0';
	for (size_t i = 0; i < nc; i++) {
		combo_key(&tk, c[i], 0, mk->key[mk->n++]);
		combo_key(&tk, c[i], 1, mk->key[mk->n++]);
	}
	if (nc > 0)
		memcpy(mk->sort, mk->key[0], KEY_MAX);
	/* keep the keys no other key of this member makes redundant */
	size_t kept = 0;
	for (size_t i = 0; i < mk->n; i++) {
		if (!key_redundant(mk, i))
			memcpy(all[kept++], mk->key[i], KEY_MAX);
	}
	memcpy(mk->key, all, kept * sizeof all[0]);
	mk->n = kept;
}

/* ---- Building ---- */

roster *roster_new(void)
{
	return calloc(1, sizeof(roster));
}

/* Free what roster_finish() builds. */
static void free_indexes(roster *r)
{
	free(r->key);
	free(r->key_start);
	free(r->posting);
	free(r->by_phone);
	free(r->by_code);
	free(r->keys.s);
	r->key = r->key_start = r->posting = r->by_phone = r->by_code = NULL;
	r->keys = (struct arena){0};
	r->nkeys = r->nphone = r->ncode = 0;
}

void roster_free(roster *r)
{
	if (!r)
		return;
	free_indexes(r);
	free(r->text.s);
	free(r->src);
	free(r->entry);
	free(r);
}

int roster_add(roster *r, int64_t id, const char *name, const char *phone, const char *code)
{
	assert(r && !r->finished && !r->entry);
	if (!r || r->finished || r->entry || r->count >= NONE - 1)
		return -1;
	struct member_src *ns = grow(r->src, &r->src_cap, r->count + 1, sizeof r->src[0]);
	if (!ns)
		return -1;
	r->src = ns;
	size_t mark = r->text.len;
	const char *field[3] = {name ? name : "", phone ? phone : "", code ? code : ""};
	uint32_t off[3];
	for (int i = 0; i < 3; i++) {
		off[i] = arena_push(&r->text, field[i], field_len(field[i]));
		if (off[i] == NONE) {
			r->text.len = mark; /* leave nothing half-added */
			return -1;
		}
	}
	r->src[r->count++] = (struct member_src){id, off[0], off[1], off[2]};
	return 0;
}

size_t roster_count(const roster *r)
{
	return r ? r->count : 0;
}

/* The distinct keys while building: an open-addressing set of key ids. Keys
 * are appended to the arena as they come, so off[] is increasing. */
struct interner {
	uint32_t *off; /* key id -> offset in r->keys */
	size_t n, cap;
	uint32_t *slot; /* key id + 1, or 0 */
	size_t mask;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int interner_rehash(struct interner *in, const char *keys)
{
	size_t nsize = in->slot ? (in->mask + 1) * 2 : 1024;
	uint32_t *ns = calloc(nsize, sizeof ns[0]);
	if (!ns)
		return -1;
	for (size_t id = 0; id < in->n; id++) {
		size_t h = hash_str(keys + in->off[id]) & (nsize - 1);
		while (ns[h])
			h = (h + 1) & (nsize - 1);
		ns[h] = (uint32_t)id + 1;
	}
	free(in->slot);
	in->slot = ns;
	in->mask = nsize - 1;
	return 0;
}

/* The id of key s, appended to r->keys when new; NONE when out of memory. */
static uint32_t intern(roster *r, struct interner *in, const char *s)
{
	if ((!in->slot || (in->n + 1) * 2 > in->mask + 1) && interner_rehash(in, r->keys.s) < 0)
		return NONE;
	size_t h = hash_str(s) & in->mask;
	for (; in->slot[h]; h = (h + 1) & in->mask) {
		uint32_t id = in->slot[h] - 1;
		if (strcmp(r->keys.s + in->off[id], s) == 0)
			return id;
	}
	uint32_t *noff = grow(in->off, &in->cap, in->n + 1, sizeof in->off[0]);
	if (!noff)
		return NONE;
	in->off = noff;
	uint32_t off = arena_push(&r->keys, s, strlen(s));
	if (off == NONE)
		return NONE;
	in->off[in->n] = off;
	in->slot[h] = (uint32_t)in->n + 1;
	return (uint32_t)in->n++;
}

/* Transient state of roster_finish(); "added order" is the order of entry[]
 * before it is sorted. */
struct build {
	struct interner in;
	uint32_t *pair_key; /* key ids, member after member in added order */
	size_t npair, pair_cap;
	uint32_t *pair_end; /* per member (added order): end of its keys in pair_key */
	uint32_t *sort_key; /* per member (added order): key id of its sort key */
	uint32_t *key_rank; /* per key id: index in r->key */
	uint32_t *order;    /* per member (name order): its index in added order */
};

static void build_free(struct build *b)
{
	free(b->in.off);
	free(b->in.slot);
	free(b->pair_key);
	free(b->pair_end);
	free(b->sort_key);
	free(b->key_rank);
	free(b->order);
}

/* entry[] from src[], in added order; the text arena is final from here on. */
static int make_entries(roster *r)
{
	if (r->entry)
		return 0; /* kept from an earlier roster_finish() that failed */
	arena_fit(&r->text);
	r->entry = alloc_array(r->count, sizeof r->entry[0]);
	if (!r->entry)
		return -1;
	for (size_t m = 0; m < r->count; m++) {
		const struct member_src *s = &r->src[m];
		const char *t = r->text.s;
		r->entry[m] = (roster_entry){s->id, t + s->name, t + s->phone, t + s->code};
	}
	free(r->src);
	r->src = NULL;
	r->src_cap = 0;
	return 0;
}

/* Intern every member's keys; fills pair_key, pair_end and sort_key. */
static int index_names(roster *r, struct build *b)
{
	struct member_keys *mk = malloc(sizeof *mk);
	b->pair_end = alloc_array(r->count, sizeof b->pair_end[0]);
	b->sort_key = alloc_array(r->count, sizeof b->sort_key[0]);
	if (!mk || !b->pair_end || !b->sort_key)
		goto fail;
	for (size_t m = 0; m < r->count; m++) {
		name_keys(r->entry[m].name, mk);
		b->sort_key[m] = intern(r, &b->in, mk->sort);
		if (b->sort_key[m] == NONE || b->npair + mk->n >= NONE)
			goto fail;
		uint32_t *np = grow(b->pair_key, &b->pair_cap, b->npair + mk->n, sizeof b->pair_key[0]);
		if (!np)
			goto fail;
		b->pair_key = np;
		for (size_t k = 0; k < mk->n; k++) {
			uint32_t id = intern(r, &b->in, mk->key[k]);
			if (id == NONE)
				goto fail;
			b->pair_key[b->npair++] = id;
		}
		b->pair_end[m] = (uint32_t)b->npair;
	}
	free(mk);
	free(b->in.slot); /* no more interning */
	b->in.slot = NULL;
	arena_fit(&r->keys);
	return 0;
fail:
	free(mk);
	return -1;
}

static int cmp_str_ptr(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* r->key[]: every interned key, sorted; and b->key_rank. */
static int sort_keys(roster *r, struct build *b)
{
	size_t n = b->in.n;
	const char **ptr = alloc_array(n, sizeof *ptr);
	r->key = alloc_array(n, sizeof r->key[0]);
	b->key_rank = alloc_array(n, sizeof b->key_rank[0]);
	if (!ptr || !r->key || !b->key_rank) {
		free(ptr);
		return -1;
	}
	for (size_t id = 0; id < n; id++)
		ptr[id] = r->keys.s + b->in.off[id];
	qsort(ptr, n, sizeof *ptr, cmp_str_ptr);
	for (size_t k = 0; k < n; k++) {
		uint32_t off = (uint32_t)(ptr[k] - r->keys.s);
		r->key[k] = off;
		/* off[] is increasing: find the key's id by binary search */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (b->in.off[mid] < off)
				lo = mid + 1;
			else
				hi = mid;
		}
		b->key_rank[lo] = (uint32_t)k;
	}
	r->nkeys = n;
	free(ptr);
	return 0;
}

struct name_rec {
	uint32_t sort_rank, m;
	const roster_entry *e;
};

static int cmp_name_rec(const void *pa, const void *pb)
{
	const struct name_rec *a = pa, *b = pb;
	if (a->sort_rank != b->sort_rank)
		return a->sort_rank < b->sort_rank ? -1 : 1;
	int c = strcmp(a->e->name, b->e->name);
	if (c == 0)
		c = (a->e->id > b->e->id) - (a->e->id < b->e->id);
	if (c == 0)
		c = (a->m > b->m) - (a->m < b->m);
	return c;
}

/* Sort entry[] into name order, in place; fills b->order. */
static int order_members(roster *r, struct build *b)
{
	size_t n = r->count;
	struct name_rec *rec = alloc_array(n, sizeof *rec);
	b->order = alloc_array(n, sizeof b->order[0]);
	unsigned char *done = calloc(n ? n : 1, 1);
	if (!rec || !b->order || !done) {
		free(rec);
		free(done);
		return -1;
	}
	for (size_t m = 0; m < n; m++)
		rec[m] = (struct name_rec){b->key_rank[b->sort_key[m]], (uint32_t)m, &r->entry[m]};
	qsort(rec, n, sizeof *rec, cmp_name_rec);
	for (size_t i = 0; i < n; i++)
		b->order[i] = rec[i].m;
	free(rec);
	/* entry[i] = old entry[order[i]], one cycle of the permutation at a time */
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		roster_entry first = r->entry[i];
		size_t j = i;
		while (b->order[j] != i) {
			r->entry[j] = r->entry[b->order[j]];
			done[j] = 1;
			j = b->order[j];
		}
		r->entry[j] = first;
		done[j] = 1;
	}
	free(done);
	return 0;
}

/* key_start[] and posting[]: each key's members, ascending in name order. */
static int build_postings(roster *r, struct build *b)
{
	uint32_t *cursor = calloc(r->nkeys + 1, sizeof *cursor);
	r->key_start = alloc_array(r->nkeys + 1, sizeof r->key_start[0]);
	r->posting = alloc_array(b->npair, sizeof r->posting[0]);
	if (!cursor || !r->key_start || !r->posting) {
		free(cursor);
		return -1;
	}
	for (size_t p = 0; p < b->npair; p++)
		cursor[b->key_rank[b->pair_key[p]] + 1]++;
	for (size_t k = 0; k < r->nkeys; k++)
		cursor[k + 1] += cursor[k];
	memcpy(r->key_start, cursor, (r->nkeys + 1) * sizeof *cursor);
	for (size_t i = 0; i < r->count; i++) {
		uint32_t m = b->order[i];
		for (uint32_t p = m ? b->pair_end[m - 1] : 0; p < b->pair_end[m]; p++)
			r->posting[cursor[b->key_rank[b->pair_key[p]]]++] = (uint32_t)i;
	}
	free(cursor);
	return 0;
}

/* Compare the digits of phone a and b from the end (reversed-string order). */
static int phone_cmp_reversed(const char *a, const char *b)
{
	size_t i = strlen(a), j = strlen(b);
	for (;;) {
		while (i > 0 && (a[i - 1] < '0' || a[i - 1] > '9'))
			i--;
		while (j > 0 && (b[j - 1] < '0' || b[j - 1] > '9'))
			j--;
		if (i == 0 || j == 0)
			return (i > 0) - (j > 0);
		if (a[i - 1] != b[j - 1])
			return a[i - 1] < b[j - 1] ? -1 : 1;
		i--;
		j--;
	}
}

static int cmp_entry_phone(const void *pa, const void *pb)
{
	const roster_entry *a = *(const roster_entry *const *)pa, *b = *(const roster_entry *const *)pb;
	int c = phone_cmp_reversed(a->phone, b->phone);
	return c ? c : (a > b) - (a < b);
}

static int cmp_entry_code(const void *pa, const void *pb)
{
	const roster_entry *a = *(const roster_entry *const *)pa, *b = *(const roster_entry *const *)pb;
	int c = strcmp(a->code, b->code);
	return c ? c : (a > b) - (a < b);
}

static int has_phone(const roster_entry *e)
{
	size_t digits = 0;
	for (const char *s = e->phone; *s; s++)
		digits += *s >= '0' && *s <= '9';
	return digits >= PHONE_MIN;
}

static int has_code(const roster_entry *e)
{
	return e->code[0] != '\0';
}

/* Sort the members that want() into an index by cmp. */
static int build_entry_index(roster *r, int (*want)(const roster_entry *),
			     int (*cmp)(const void *, const void *), uint32_t **out, size_t *nout)
{
	const roster_entry **tmp = alloc_array(r->count, sizeof *tmp);
	size_t n = 0;
	if (!tmp)
		return -1;
	for (size_t i = 0; i < r->count; i++) {
		if (want(&r->entry[i]))
			tmp[n++] = &r->entry[i];
	}
	qsort(tmp, n, sizeof *tmp, cmp);
	*out = alloc_array(n, sizeof **out);
	if (!*out) {
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (uint32_t)(tmp[i] - r->entry);
	*nout = n;
	free(tmp);
	return 0;
}

int roster_finish(roster *r)
{
	struct build b = {0};

	if (!r)
		return -1;
	if (r->finished)
		return 0;
	if (make_entries(r) < 0 || index_names(r, &b) < 0 || sort_keys(r, &b) < 0 ||
	    order_members(r, &b) < 0 || build_postings(r, &b) < 0 ||
	    build_entry_index(r, has_phone, cmp_entry_phone, &r->by_phone, &r->nphone) < 0 ||
	    build_entry_index(r, has_code, cmp_entry_code, &r->by_code, &r->ncode) < 0) {
		/* the members stay (in entry[]), so roster_finish() can be tried again */
		build_free(&b);
		free_indexes(r);
		return -1;
	}
	build_free(&b);
#ifdef __GLIBC__
	/* glibc keeps the freed build buffers resident; a big roster would
	 * otherwise hold on to about 7 MB it no longer uses */
	malloc_trim(0);
#endif
	r->finished = 1;
	return 0;
}

/* ---- Lookups ---- */

const roster_entry *roster_find_code(const roster *r, const char *code)
{
	if (!r || !r->finished || !code || !code[0])
		return NULL;
	size_t lo = 0, hi = r->ncode;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->entry[r->by_code[mid]].code, code) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->ncode && strcmp(r->entry[r->by_code[lo]].code, code) == 0)
		return &r->entry[r->by_code[lo]];
	return NULL;
}

/* Order of phone against the digit string q as a suffix: 0 when phone ends
 * with q, else the order of their reversed digits. */
static int phone_cmp_suffix(const char *phone, const char *q, size_t qlen)
{
	size_t i = strlen(phone), j = qlen;
	for (;;) {
		while (i > 0 && (phone[i - 1] < '0' || phone[i - 1] > '9'))
			i--;
		if (j == 0)
			return 0;
		if (i == 0)
			return -1;
		if (phone[i - 1] != q[j - 1])
			return phone[i - 1] < q[j - 1] ? -1 : 1;
		i--;
		j--;
	}
}

/* First position in by_phone whose phone compares >= 0 (or > 0 when after). */
static size_t phone_bound(const roster *r, const char *q, size_t qlen, int after)
{
	size_t lo = 0, hi = r->nphone;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = phone_cmp_suffix(r->entry[r->by_phone[mid]].phone, q, qlen);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t roster_find_phone(const roster *r, const char *digits, const roster_entry **out, size_t max)
{
	if (!r || !r->finished || !digits)
		return 0;
	size_t qlen = strlen(digits);
	if (qlen < PHONE_MIN || strspn(digits, "0123456789") != qlen)
		return 0;
	size_t lo = phone_bound(r, digits, qlen, 0);
	size_t hi = phone_bound(r, digits, qlen, 1);
	/* keep the max first in name order, i.e. the lowest entry indexes */
	size_t n = 0;
	for (size_t i = lo; i < hi && max > 0; i++) {
		const roster_entry *e = &r->entry[r->by_phone[i]];
		if (n == max && e > out[n - 1])
			continue;
		size_t at = n < max ? n++ : n - 1;
		while (at > 0 && out[at - 1] > e) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = e;
	}
	return hi - lo;
}

/* Members already returned by a name search: a small open-addressing set. */
struct seen {
	uint32_t *slot; /* member + 1, or 0 */
	size_t mask;
};

/* 1 when m was in the set; adds it otherwise. */
static int seen_add(struct seen *s, uint32_t m)
{
	size_t h = (m * 2654435761u) & s->mask;
	for (; s->slot[h]; h = (h + 1) & s->mask) {
		if (s->slot[h] == m + 1)
			return 1;
	}
	s->slot[h] = m + 1;
	return 0;
}

/* What a name search is looking for. */
struct name_query {
	char key[KEY_MAX];         /* readings run together */
	uint32_t lead[TOKENS_MAX]; /* the Han characters that lead the query */
	size_t nlead;
	const roster_entry **out;
	size_t n, max;
	struct seen seen;
};

/* 1 when name starts with the query's leading Han characters. */
static int name_has_lead(const char *name, const struct name_query *q)
{
	size_t len = strlen(name), pos = 0, used, k = 0;
	uint32_t cp;
	char letters[2];
	const char *rd[1];

	while (k < q->nlead && (used = utf8_next(name + pos, len - pos, &cp)) > 0) {
		pos += used;
		if (fold_latin(cp, letters) == 0 && pinyin_readings(cp, rd, 1) == 0)
			continue; /* a separator, as in tokenize() */
		if (cp != q->lead[k++])
			return 0;
	}
	return k == q->nlead;
}

static size_t key_lower_bound(const roster *r, const char *s)
{
	size_t lo = 0, hi = r->nkeys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->keys.s + r->key[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add the members with a key starting with q->key, until q->max. */
static void collect(const roster *r, struct name_query *q)
{
	size_t len = strlen(q->key);
	for (size_t k = key_lower_bound(r, q->key); k < r->nkeys && q->n < q->max; k++) {
		if (strncmp(r->keys.s + r->key[k], q->key, len) != 0)
			break;
		for (uint32_t p = r->key_start[k]; p < r->key_start[k + 1] && q->n < q->max; p++) {
			uint32_t m = r->posting[p];
			if (q->nlead > 0 && !name_has_lead(r->entry[m].name, q))
				continue;
			if (!seen_add(&q->seen, m))
				q->out[q->n++] = &r->entry[m];
		}
	}
}

static int cmp_entry_ptr(const void *pa, const void *pb)
{
	const roster_entry *a = *(const roster_entry *const *)pa, *b = *(const roster_entry *const *)pb;
	return (a > b) - (a < b);
}

size_t roster_search_name(const roster *r, const char *query, const roster_entry **out, size_t max)
{
	struct tokens tk;
	combo c[COMBOS_MAX];
	struct name_query q;
	uint32_t small[256];

	if (!r || !r->finished || !query || max == 0 || r->count == 0)
		return 0;
	tokenize(query, &tk);
	size_t nc = pick_combos(&tk, c);
	if (nc == 0)
		return 0;
	q.out = out;
	q.n = 0;
	q.max = max < r->count ? max : r->count;
	q.nlead = 0;
	while (q.nlead < tk.n && tk.t[q.nlead].cp != 0) {
		q.lead[q.nlead] = tk.t[q.nlead].cp;
		q.nlead++;
	}
	size_t slots = 16;
	while (slots < 2 * q.max)
		slots *= 2;
	q.seen.slot = slots <= sizeof small / sizeof small[0] ? small : calloc(slots, sizeof(uint32_t));
	if (!q.seen.slot)
		return 0;
	if (q.seen.slot == small)
		memset(small, 0, slots * sizeof small[0]);
	q.seen.mask = slots - 1;

	for (size_t i = 0; i < nc && q.n < q.max; i++) {
		combo_key(&tk, c[i], 0, q.key);
		collect(r, &q);
	}
	if (q.seen.slot != small)
		free(q.seen.slot);
	qsort(out, q.n, sizeof out[0], cmp_entry_ptr);
	return q.n;
}

void roster_mask_phone(const char *phone, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	if (!phone)
		phone = "";
	size_t n = strlen(phone);
	size_t head = n >= 11 ? 3 : 0; /* "138****5678" */
	size_t tail = n > PHONE_MIN ? PHONE_MIN : 0;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++)
		buf[o++] = (i < head || i >= n - tail) ? phone[i] : '*';
	buf[o] = '\0';
}
