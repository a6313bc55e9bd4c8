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
