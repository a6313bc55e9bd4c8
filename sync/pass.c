/* pass — the signed member pass (format in pass.h). */
#include "sync/pass.h"
#include "sync/clock.h"
#include "sync/utf8.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char digits44[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$%*+-./:";
static const char code64[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
static const char domain[4] = {'T', 'Z', 'P', '1'};

#define PASS_BYTES_MAX (PASS_SIG_BYTES + PASS_FIELDS_MAX)
#define FIELDS_MIN     9 /* the fields with a one-bit number, no code, no greeting: 71 bits */

/* ---- bits, most significant first ---- */

typedef struct bits {
	uint8_t *b;
	size_t cap, pos; /* cap and pos in bits */
} bits;

static int put(bits *w, uint32_t v, unsigned n)
{
	if (w->pos + n > w->cap)
		return -1;
	for (unsigned i = n; i-- > 0;) {
		if (v >> i & 1)
			w->b[w->pos / 8] |= (uint8_t)(0x80 >> (w->pos % 8));
		w->pos++;
	}
	return 0;
}

static int get(bits *r, unsigned n, uint32_t *v)
{
	if (r->pos + n > r->cap)
		return -1;
	uint32_t x = 0;
	for (unsigned i = 0; i < n; i++, r->pos++)
		x = x << 1 | (uint32_t)(r->b[r->pos / 8] >> (7 - r->pos % 8) & 1);
	*v = x;
	return 0;
}

static unsigned bit_length(uint32_t v)
{
	unsigned n = 0;
	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

/* ---- base 44 ---- */

/* The digits that k bytes take: the least n with 44^n >= 256^k, found by
 * comparing logarithms scaled to integers (44^n is never a power of two). */
static size_t digits_for(size_t k)
{
	/* log2(44) = 5.4594316186...; 8k / log2(44), rounded up */
	size_t n = (size_t)((double)(8 * k) / 5.4594316186372973);
	while ((double)n * 5.4594316186372973 < (double)(8 * k))
		n++;
	return n;
}

/* ---- the fields ---- */

static int code_index(char c)
{
	const char *p = c ? strchr(code64, c) : NULL;
	return p ? (int)(p - code64) : -1;
}

void pass_canonical_code(uint32_t number, char out[24])
{
	snprintf(out, 24, "TZP%u", (unsigned)number);
}

/* The bytes of s[0..len) that are whole characters within max bytes. */
static size_t whole_chars(const char *s, size_t len, size_t max)
{
	size_t n = 0;
	while (n < len) {
		uint32_t cp;
		size_t k = utf8_next(s + n, len - n, &cp);
		if (n + k > max)
			break;
		n += k;
	}
	return n;
}

static int cjk(uint32_t cp)
{
	return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F);
}

static int space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == 0x3000;
}

void pass_greeting(const char *name, char *out, size_t max)
{
	if (max)
		out[0] = '\0';
	if (max < 2 || !name)
		return;
	size_t len = strlen(name), a = 0, e, i;
	uint32_t cp;
	while (a < len && (name[a] == ' ' || name[a] == '\t'))
		a++;
	/* the first word, and whether another follows */
	for (e = a; e < len;) {
		size_t k = utf8_next(name + e, len - e, &cp);
		if (space(cp))
			break;
		e += k;
	}
	int more = 0;
	for (i = e; i < len && !more;) {
		size_t k = utf8_next(name + i, len - i, &cp);
		more = !space(cp);
		i += k;
	}
	if (e == a)
		return;
	uint32_t first;
	size_t fk = utf8_next(name + a, e - a, &first);
	if (first == 0xFFFD || first < 0x20)
		return;
	if (!more && cjk(first)) {
		/* the given name: what follows the surname, its first character */
		size_t w = whole_chars(name + a + fk, e - a - fk, max - 1);
		memcpy(out, name + a + fk, w);
		out[w] = '\0';
		return;
	}
	if (more && e - a <= max - 1) {
		memcpy(out, name + a, e - a);
		out[e - a] = '\0';
		return;
	}
	/* one word of letters (the whole name), or a first word too long: its initial */
	if (fk + 2 > max)
		return;
	memcpy(out, name + a, fk);
	out[fk] = '.';
	out[fk + 1] = '\0';
}

static int greeting_ok(const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Pack the fields; greeting cut to what fits. Returns the byte count or an error. */
static int pack(const pass_fields *f, uint8_t out[PASS_FIELDS_MAX])
{
	if (f->key_id < 1 || f->key_id > PASS_KEY_MAX || f->venue_tag > 255 || f->issued_min >= 1u << 25 ||
	    f->expires_day >= 1u << 15 || f->number < 1 || f->number >= 1u << 31 || f->tier > PASS_TIER_MAX)
		return PASS_E_FIELD;
	char canon[24];
	pass_canonical_code(f->number, canon);
	int canonical = strcmp(f->code, canon) == 0;
	size_t clen = strlen(f->code);
	if (!canonical) {
		if (clen < 1 || clen > PASS_CODE_MAX)
			return PASS_E_FIELD;
		for (size_t i = 0; i < clen; i++)
			if (code_index(f->code[i]) < 0)
				return PASS_E_FIELD;
	}
	size_t glen = strlen(f->greeting);
	if (glen > PASS_GREETING_MAX || !greeting_ok(f->greeting, glen))
		return PASS_E_FIELD;
	unsigned nl = bit_length(f->number);
	size_t base = 2 + 6 + 8 + 25 + 15 + 5 + nl + 4 + 1 + (canonical ? 0 : 4 + 6 * clen) + 4;
	if (base > 8 * PASS_FIELDS_MAX)
		return PASS_E_TOO_LONG;
	size_t room = (8 * PASS_FIELDS_MAX - base) / 8;
	size_t g = whole_chars(f->greeting, glen, room < glen ? room : glen);
	char initial[3];
	const char *greet = f->greeting;
	if (g < glen && (unsigned char)greet[0] < 0x80) {
		/* a word of letters cut short reads oddly ("Alic"): its initial, or nothing */
		initial[0] = greet[0];
		initial[1] = '.';
		initial[2] = '\0';
		greet = initial;
		g = room >= 2 ? 2 : 0;
	}

	memset(out, 0, PASS_FIELDS_MAX);
	bits w = {out, 8 * PASS_FIELDS_MAX, 0};
	put(&w, 1, 2);
	put(&w, f->key_id, 6);
	put(&w, f->venue_tag, 8);
	put(&w, f->issued_min, 25);
	put(&w, f->expires_day, 15);
	put(&w, nl, 5);
	put(&w, f->number, nl);
	put(&w, f->tier, 4);
	put(&w, canonical ? 0 : 1, 1);
	if (!canonical) {
		put(&w, (uint32_t)clen, 4);
		for (size_t i = 0; i < clen; i++)
			put(&w, (uint32_t)code_index(f->code[i]), 6);
	}
	put(&w, (uint32_t)g, 4);
	for (size_t i = 0; i < g; i++)
		put(&w, (unsigned char)greet[i], 8);
	return (int)((w.pos + 7) / 8);
}

static int unpack(const uint8_t *in, size_t k, pass_fields *f)
{
	memset(f, 0, sizeof *f);
	bits r = {(uint8_t *)in, 8 * k, 0};
	uint32_t v, nl, canon;
	if (get(&r, 2, &v) || v != 1)
		return PASS_E_FORMAT;
	if (get(&r, 6, &v) || v < 1)
		return PASS_E_FORMAT;
	f->key_id = v;
	if (get(&r, 8, &v))
		return PASS_E_FORMAT;
	f->venue_tag = v;
	if (get(&r, 25, &f->issued_min) || get(&r, 15, &f->expires_day) || get(&r, 5, &nl) || nl < 1 ||
	    get(&r, nl, &f->number) || bit_length(f->number) != nl)
		return PASS_E_FORMAT;
	if (get(&r, 4, &v))
		return PASS_E_FORMAT;
	f->tier = v;
	if (get(&r, 1, &canon))
		return PASS_E_FORMAT;
	if (canon == 0) {
		pass_canonical_code(f->number, f->code);
	} else {
		uint32_t clen;
		if (get(&r, 4, &clen) || clen < 1)
			return PASS_E_FORMAT;
		for (uint32_t i = 0; i < clen; i++) {
			if (get(&r, 6, &v))
				return PASS_E_FORMAT;
			f->code[i] = code64[v];
		}
		f->code[clen] = '\0';
	}
	uint32_t glen;
	if (get(&r, 4, &glen))
		return PASS_E_FORMAT;
	for (uint32_t i = 0; i < glen; i++) {
		if (get(&r, 8, &v))
			return PASS_E_FORMAT;
		f->greeting[i] = (char)v;
	}
	f->greeting[glen] = '\0';
	if (!greeting_ok(f->greeting, glen))
		return PASS_E_FORMAT;
	/* one way to write each pass: only the zero bits of the last byte may follow */
	if (8 * k - r.pos >= 8)
		return PASS_E_FORMAT;
	while (r.pos < 8 * k)
		if (get(&r, 1, &v) || v)
			return PASS_E_FORMAT;
	return PASS_OK;
}

/* ---- the whole ---- */

static void signed_message(uint8_t *m, const uint8_t venue_uid[PASS_VENUE_BYTES], const uint8_t *fields, size_t k)
{
	memcpy(m, domain, sizeof domain);
	memcpy(m + sizeof domain, venue_uid, PASS_VENUE_BYTES);
	memcpy(m + sizeof domain + PASS_VENUE_BYTES, fields, k);
}

int pass_encode(const pass_fields *f, const uint8_t venue_uid[PASS_VENUE_BYTES],
                const uint8_t secret[PASS_SECRET_BYTES], char out[PASS_TEXT_MAX + 1])
{
	uint8_t fields[PASS_FIELDS_MAX];
	int k = pack(f, fields);
	if (k < 0)
		return k;
	uint8_t m[sizeof domain + PASS_VENUE_BYTES + PASS_FIELDS_MAX];
	signed_message(m, venue_uid, fields, (size_t)k);
	uint8_t num[PASS_BYTES_MAX];
	crypto_sign_detached(num, NULL, m, sizeof domain + PASS_VENUE_BYTES + (size_t)k, secret);
	memcpy(num + PASS_SIG_BYTES, fields, (size_t)k);
	size_t len = PASS_SIG_BYTES + (size_t)k, n = digits_for(len);
	if (n > PASS_TEXT_MAX)
		return PASS_E_TOO_LONG;
	/* long division by 44, least significant digit first */
	for (size_t d = n; d-- > 0;) {
		unsigned rem = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned cur = rem << 8 | num[i];
			num[i] = (uint8_t)(cur / 44);
			rem = cur % 44;
		}
		out[d] = digits44[rem];
	}
	out[n] = '\0';
	sodium_memzero(m, sizeof m);
	return (int)n;
}

int pass_looks_like(const char *s, size_t n)
{
	if (n < PASS_TEXT_MIN || n > PASS_TEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(digits44, s[i]))
			return 0;
	return 1;
}

int pass_decode(const char *s, size_t n, pass_read *out)
{
	memset(out, 0, sizeof *out);
	if (!pass_looks_like(s, n))
		return PASS_E_FORMAT;
	size_t len = 0;
	for (size_t k = PASS_SIG_BYTES + FIELDS_MIN; k <= PASS_BYTES_MAX; k++)
		if (digits_for(k) == n)
			len = k;
	if (!len)
		return PASS_E_FORMAT;
	uint8_t num[PASS_BYTES_MAX] = {0};
	for (size_t i = 0; i < n; i++) {
		unsigned carry = (unsigned)(strchr(digits44, s[i]) - digits44);
		for (size_t j = len; j-- > 0;) {
			unsigned cur = num[j] * 44u + carry;
			num[j] = (uint8_t)cur;
			carry = cur >> 8;
		}
		if (carry)
			return PASS_E_FORMAT; /* more than len bytes: not a pass */
	}
	memcpy(out->sig, num, PASS_SIG_BYTES);
	out->fields_len = len - PASS_SIG_BYTES;
	memcpy(out->fields, num + PASS_SIG_BYTES, out->fields_len);
	return unpack(out->fields, out->fields_len, &out->f);
}

int pass_check(const pass_read *r, const uint8_t venue_uid[PASS_VENUE_BYTES],
               const uint8_t public_key[PASS_PUBLIC_BYTES])
{
	uint8_t m[sizeof domain + PASS_VENUE_BYTES + PASS_FIELDS_MAX];
	signed_message(m, venue_uid, r->fields, r->fields_len);
	return crypto_sign_verify_detached(r->sig, m, sizeof domain + PASS_VENUE_BYTES + r->fields_len,
	                                   public_key) == 0
	           ? PASS_OK
	           : PASS_E_SIGNATURE;
}

void pass_keypair(uint8_t public_key[PASS_PUBLIC_BYTES], uint8_t secret[PASS_SECRET_BYTES])
{
	crypto_sign_keypair(public_key, secret);
}

unsigned pass_venue_tag(const uint8_t venue_uid[PASS_VENUE_BYTES])
{
	uint8_t h[16];
	crypto_generichash(h, sizeof h, venue_uid, PASS_VENUE_BYTES, NULL, 0);
	return h[0];
}

uint32_t pass_minutes(int64_t unix_s)
{
	if (unix_s <= PASS_EPOCH_S)
		return 0;
	int64_t m = (unix_s - PASS_EPOCH_S) / 60;
	return m >= (1 << 25) ? (1u << 25) - 1 : (uint32_t)m;
}

int64_t pass_minutes_unix(uint32_t min)
{
	return PASS_EPOCH_S + (int64_t)min * 60;
}

#define EPOCH_DAYS 19723 /* 2024-01-01 */

int64_t pass_day_from_date(const char *ymd)
{
	if (!ymd || !ymd[0])
		return 0;
	unsigned y, m, d;
	char tail;
	if (strlen(ymd) != 10 || sscanf(ymd, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1)
		return -1;
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 ? leap : 0))
		return -1;
	int64_t day = clock_days_from_civil(y, m, d) - EPOCH_DAYS + 1;
	if (day < 1)
		day = 1; /* ended before 2024: ended all the same */
	if (day >= 1 << 15)
		day = (1 << 15) - 1;
	return day;
}

void pass_date_from_day(uint32_t day, char out[11])
{
	if (!day) {
		out[0] = '\0';
		return;
	}
	clock_day_text((int64_t)day - 1 + EPOCH_DAYS, out);
}

int pass_uid_bytes(const char *hex, uint8_t out[PASS_VENUE_BYTES])
{
	size_t n = 0;
	if (!hex || strlen(hex) != 2 * PASS_VENUE_BYTES)
		return -1;
	if (sodium_hex2bin(out, PASS_VENUE_BYTES, hex, 2 * PASS_VENUE_BYTES, NULL, &n, NULL) != 0 ||
	    n != PASS_VENUE_BYTES)
		return -1;
	return 0;
}
