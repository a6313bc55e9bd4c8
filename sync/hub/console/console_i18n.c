#define _GNU_SOURCE
/*
 * console_i18n — the console's text in zh-Hans, zh-Hant and English.
 *
 * The catalogs are gettext's: the .po files under assets/po/hub/<lang>/, joined and compiled by msgfmt
 * into tingzi-hub.mo. The hub answers requests in different languages at
 * once, and gettext() answers in the process's one language (LANGUAGE, the
 * locale), so the console reads the two .mo files itself at start and looks
 * a text up in the request's own catalog: a binary search in the sorted
 * table msgfmt writes. English is the text in the code.
 */
#include "sync/hub/console/console_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct catalog {
	char *data;
	size_t size;
	uint32_t n;
	const uint32_t *orig, *trans; /* n pairs of (length, offset) */
} catalog;

static catalog cats[CL_COUNT];
static const char *const gnu[CL_COUNT] = {"zh_CN", "zh_TW", NULL};
static const char *const tags[CL_COUNT] = {"zh-Hans", "zh-Hant", "en"};

const char *console_lang_tag(console_lang l)
{
	return (unsigned)l < CL_COUNT ? tags[l] : "en";
}

static const char *entry(const catalog *k, const uint32_t *table, uint32_t i)
{
	uint32_t len = table[2 * i], off = table[2 * i + 1];
	if (off > k->size || len >= k->size - off || k->data[off + len] != 0)
		return NULL;
	return k->data + off;
}

/* Read one .mo file: 0, or -1 (a missing or damaged catalog leaves that language in English). */
static int load(catalog *k, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 28 || st.st_size > (16 << 20)) {
		fclose(f);
		return -1;
	}
	char *d = malloc((size_t)st.st_size + 1);
	if (!d || fread(d, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(d);
		fclose(f);
		return -1;
	}
	fclose(f);
	uint32_t h[7];
	memcpy(h, d, sizeof h);
	size_t size = (size_t)st.st_size;
	/* msgfmt writes the machine's byte order; 0x950412de in it */
	if (h[0] != 0x950412deu || h[2] > size / 16 || h[3] > size || h[4] > size ||
	    (size_t)h[2] * 8 > size - h[3] || (size_t)h[2] * 8 > size - h[4] || h[3] % 4 || h[4] % 4) {
		free(d);
		return -1;
	}
	k->data = d;
	k->size = size;
	k->n = h[2];
	k->orig = (const uint32_t *)(d + h[3]);
	k->trans = (const uint32_t *)(d + h[4]);
	/* the search below needs the originals sorted, as msgfmt writes them */
	for (uint32_t i = 0; i < k->n; i++) {
		const char *a = entry(k, k->orig, i), *t = entry(k, k->trans, i);
		const char *b = i ? entry(k, k->orig, i - 1) : "";
		if (!a || !t || (i && strcmp(b, a) >= 0)) {
			free(d);
			memset(k, 0, sizeof *k);
			return -1;
		}
	}
	return 0;
}

static int has_catalog(const char *dir)
{
	char path[1024];
	struct stat st;
	snprintf(path, sizeof path, "%s/zh_CN/LC_MESSAGES/tingzi-hub.mo", dir);
	return stat(path, &st) == 0;
}

void console_i18n_init(void)
{
	const char *dir = getenv("TINGZI_LOCALEDIR");
	if (!dir || !has_catalog(dir))
		dir = has_catalog(TINGZI_LOCALEDIR_BUILD) ? TINGZI_LOCALEDIR_BUILD : TINGZI_LOCALEDIR;
	for (int l = 0; l < CL_COUNT; l++) {
		if (!gnu[l] || cats[l].data)
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s/LC_MESSAGES/tingzi-hub.mo", dir, gnu[l]);
		if (load(&cats[l], path) != 0)
			fprintf(stderr, "tingzi-hub: no console catalog %s: the console shows English for %s\n", path,
				tags[l]);
	}
}

void console_i18n_free(void)
{
	for (int l = 0; l < CL_COUNT; l++) {
		free(cats[l].data);
		memset(&cats[l], 0, sizeof cats[l]);
	}
}

const char *console_tr(console_lang lang, const char *msgid)
{
	if ((unsigned)lang >= CL_COUNT || !cats[lang].data || !msgid)
		return msgid;
	const catalog *k = &cats[lang];
	uint32_t lo = 0, hi = k->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(msgid, k->data + k->orig[2 * mid + 1]);
		if (cmp == 0) {
			const char *t = k->data + k->trans[2 * mid + 1];
			return t[0] ? t : msgid;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return msgid;
}

const char *T(const cx *c, const char *msgid)
{
	return console_tr(c->lang, msgid);
}

/* The first of zh-Hans, zh-Hant, en an Accept-Language header prefers (by q). */
console_lang console_lang_accept(const char *header)
{
	console_lang best = CL_EN;
	double best_q = -1;
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		if (n < sizeof item) {
			memcpy(item, p, n);
			item[n] = 0;
			double q = 1;
			char *semi = strchr(item, ';');
			if (semi) {
				*semi = 0;
				const char *qs = strstr(semi + 1, "q=");
				if (qs)
					q = strtod(qs + 2, NULL);
			}
			for (char *t = item; *t; t++)
				if (*t >= 'A' && *t <= 'Z')
					*t = (char)(*t + 32);
			int l = -1;
			if (strncmp(item, "zh", 2) == 0) {
				/* Traditional for zh-Hant, and for Taiwan, Hong Kong and Macao without a script */
				l = strstr(item, "hant") || strstr(item, "-tw") || strstr(item, "-hk") || strstr(item, "-mo")
					? CL_ZH_HANT
					: CL_ZH_HANS;
			} else if (strncmp(item, "en", 2) == 0 || strcmp(item, "*") == 0) {
				l = CL_EN;
			}
			if (l >= 0 && q > best_q) {
				best = (console_lang)l;
				best_q = q;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return best;
}

int console_lang_parse(const char *tag, console_lang *out)
{
	for (int l = 0; l < CL_COUNT; l++)
		if (tag && strcasecmp(tag, tags[l]) == 0) {
			*out = (console_lang)l;
			return 0;
		}
	return -1;
}

/* ---- translated sentences with values ---- */

/*
 * A sentence's translation with its %s (or %1$s, %2$s, ...) replaced by
 * args: only %s, so a translation can neither reach past its arguments nor
 * paste markup. Each piece goes to put(); a value is flagged.
 */
static void fill(const char *fmt, const char *const *args, size_t nargs,
		 void (*put)(void *ctx, const char *s, size_t len, int value), void *ctx)
{
	size_t next = 0;
	const char *p = fmt, *lit = fmt;
	while (*p) {
		if (*p != '%') {
			p++;
			continue;
		}
		put(ctx, lit, (size_t)(p - lit), 0);
		const char *q = p + 1;
		size_t which = next;
		if (*q >= '1' && *q <= '9' && q[1] == '$') {
			which = (size_t)(*q - '1');
			q += 2;
		} else if (*q == 's') {
			next++;
		}
		if (*q == 's') {
			const char *a = which < nargs && args[which] ? args[which] : "";
			put(ctx, a, strlen(a), 1);
			p = q + 1;
		} else if (*q == '%') {
			put(ctx, "%", 1, 0);
			p = q + 1;
		} else {
			put(ctx, "%", 1, 0); /* not a conversion: shown as written */
			p = p + 1;
		}
		lit = p;
	}
	put(ctx, lit, (size_t)(p - lit), 0);
}

static void put_html(void *ctx, const char *s, size_t len, int value)
{
	html *h = ctx;
	char buf[512];
	while (len) {
		size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
		while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* whole characters in each piece */
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (value)
			html_user(h, buf);
		else
			html_text(h, buf);
		s += n;
		len -= n;
	}
}

typedef struct textbuf {
	char *out;
	size_t len, at;
} textbuf;

static void put_text(void *ctx, const char *s, size_t len, int value)
{
	textbuf *t = ctx;
	(void)value;
	if (t->at + 1 >= t->len)
		return;
	size_t n = len < t->len - t->at - 1 ? len : t->len - t->at - 1;
	memcpy(t->out + t->at, s, n);
	t->at += n;
	t->out[t->at] = '\0';
}

void html_fill(html *h, const char *translated, const char *const *args, size_t n)
{
	fill(translated, args, n, put_html, h);
}

const char *text_fill(char *out, size_t len, const char *translated, const char *const *args, size_t n)
{
	textbuf t = {out, len, 0};
	out[0] = '\0';
	fill(translated, args, n, put_text, &t);
	return out;
}

void cx_say_v(cx *c, const char *msgid, const char *const *args, size_t n)
{
	html_fill(&c->h, T(c, msgid), args, n);
}

const char *cx_sayf_v(cx *c, char *out, size_t len, const char *msgid, const char *const *args, size_t n)
{
	return text_fill(out, len, T(c, msgid), args, n);
}

const char *cx_num(int64_t v, char out[24])
{
	snprintf(out, 24, "%lld", (long long)v);
	return out;
}
