/*
 * text — fonts through fontconfig, per-glyph fallback, and a texture cache.
 *
 * The chain of faces: the Noto Sans CJK SC and TC faces (whichever the script
 * asks for first), then faces fontconfig found for characters none of the
 * earlier ones had. One TTF_Font per face; sizes change with TTF_SetFontSize,
 * so memory does not grow with the number of sizes on screen.
 *
 * The cache keys a rendered texture by (text, pixel size, colour, script) and
 * holds at most TEXT_CACHE_BYTES of pixels; the least recently used goes first.
 */
#include "app/ui/text.h"

#include "sync/utf8.h"

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX_FACES     8
#define TEXT_CACHE_SLOTS   256
#define TEXT_CACHE_BYTES   (8u << 20)
#define TEXT_MAX_RUNS      64
#define TEXT_MISSING_SLOTS 64

typedef struct face {
	char file[512];
	int index;
	TTF_Font *font;
	int px;
} face;

typedef struct cache_slot {
	char *str;
	uint64_t hash;
	int px;
	Uint32 rgba;
	ui_script script;
	SDL_Texture *tex;
	int w, h;
	uint64_t used;
} cache_slot;

struct ui_text {
	SDL_Renderer *r;
	face faces[TEXT_MAX_FACES];
	int nfaces;
	int sc, tc; /* indexes of the CJK faces, -1 when absent */
	ui_script script;
	int cjk_missing;
	uint32_t missing[TEXT_MISSING_SLOTS]; /* code points no font has */
	cache_slot cache[TEXT_CACHE_SLOTS];
	size_t cache_bytes;
	uint64_t clock;
	ui_text_trace_fn trace;
	void *trace_ud;
};

/* Ask fontconfig for pattern p; on a match whose charset has probe, store its
 * file and face index. Returns 0 on success. */
static int fc_find(FcPattern *p, uint32_t probe, const char *family, char *file, size_t len, int *index)
{
	int rc = -1;
	FcResult res;
	FcConfigSubstitute(NULL, p, FcMatchPattern);
	FcDefaultSubstitute(p);
	FcPattern *m = FcFontMatch(NULL, p, &res);
	if (!m)
		return -1;
	FcChar8 *f = NULL;
	FcCharSet *cs = NULL;
	int idx = 0;
	if (FcPatternGetString(m, FC_FILE, 0, &f) != FcResultMatch)
		goto out;
	if (probe &&
	    (FcPatternGetCharSet(m, FC_CHARSET, 0, &cs) != FcResultMatch || !FcCharSetHasChar(cs, probe)))
		goto out;
	if (family) {
		int found = 0;
		FcChar8 *fam;
		for (int i = 0; FcPatternGetString(m, FC_FAMILY, i, &fam) == FcResultMatch; i++)
			if (strcmp((const char *)fam, family) == 0)
				found = 1;
		if (!found)
			goto out;
	}
	FcPatternGetInteger(m, FC_INDEX, 0, &idx);
	snprintf(file, len, "%s", (const char *)f);
	*index = idx;
	rc = 0;
out:
	FcPatternDestroy(m);
	return rc;
}

static int add_face(ui_text *t, const char *file, int index)
{
	for (int i = 0; i < t->nfaces; i++)
		if (strcmp(t->faces[i].file, file) == 0 && t->faces[i].index == index)
			return i;
	if (t->nfaces == TEXT_MAX_FACES)
		return -1;
	TTF_Font *font = TTF_OpenFontIndex(file, 32, index);
	if (!font)
		return -1;
	TTF_SetFontHinting(font, TTF_HINTING_LIGHT);
	face *f = &t->faces[t->nfaces];
	snprintf(f->file, sizeof f->file, "%s", file);
	f->index = index;
	f->font = font;
	f->px = 32;
	return t->nfaces++;
}

static int add_family(ui_text *t, const char *family, const char *lang)
{
	char file[512];
	int index;
	FcPattern *p = FcPatternCreate();
	if (!p)
		return -1;
	FcPatternAddString(p, FC_FAMILY, (const FcChar8 *)family);
	if (lang)
		FcPatternAddString(p, FC_LANG, (const FcChar8 *)lang);
	int rc = fc_find(p, 0x4e2d /* 中 */, family, file, sizeof file, &index);
	FcPatternDestroy(p);
	return rc ? -1 : add_face(t, file, index);
}

/* A face for code point cp found by fontconfig, or -1. */
static int add_for_char(ui_text *t, uint32_t cp)
{
	char file[512];
	int index, rc = -1;
	FcPattern *p = FcPatternCreate();
	FcCharSet *cs = FcCharSetCreate();
	if (p && cs && FcCharSetAddChar(cs, cp) && FcPatternAddCharSet(p, FC_CHARSET, cs))
		rc = fc_find(p, cp, NULL, file, sizeof file, &index);
	if (cs)
		FcCharSetDestroy(cs);
	if (p)
		FcPatternDestroy(p);
	return rc ? -1 : add_face(t, file, index);
}

ui_text *ui_text_new(SDL_Renderer *r, char *err, size_t errlen)
{
	ui_text *t = NULL;
	if (!TTF_WasInit() && TTF_Init() != 0) {
		snprintf(err, errlen, "cannot start the font renderer: %s", TTF_GetError());
		return NULL;
	}
	if (!FcInit()) {
		snprintf(err, errlen, "fontconfig could not load its configuration");
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->r = r;
	t->sc = add_family(t, "Noto Sans CJK SC", "zh-cn");
	t->tc = add_family(t, "Noto Sans CJK TC", "zh-tw");
	if (t->sc < 0 && t->tc < 0) {
		/* Any font with Chinese, then any font at all. */
		t->cjk_missing = 1;
		t->sc = add_for_char(t, 0x4e2d);
		if (t->sc < 0) {
			FcPattern *p = FcPatternCreate();
			char file[512];
			int index;
			if (p) {
				FcPatternAddString(p, FC_FAMILY, (const FcChar8 *)"sans-serif");
				if (fc_find(p, 'A', NULL, file, sizeof file, &index) == 0)
					add_face(t, file, index);
				FcPatternDestroy(p);
			}
		} else {
			t->cjk_missing = 0;
		}
	}
	if (t->nfaces == 0) {
		snprintf(err, errlen, "no usable font found (install fonts-noto-cjk)");
		free(t);
		return NULL;
	}
	if (t->sc < 0)
		t->sc = t->tc >= 0 ? t->tc : 0;
	if (t->tc < 0)
		t->tc = t->sc;
	return t;
}

static void cache_drop(ui_text *t, cache_slot *c)
{
	if (c->tex)
		SDL_DestroyTexture(c->tex);
	t->cache_bytes -= (size_t)c->w * (size_t)c->h * 4;
	free(c->str);
	memset(c, 0, sizeof *c);
}

void ui_text_free(ui_text *t)
{
	if (!t)
		return;
	for (int i = 0; i < TEXT_CACHE_SLOTS; i++)
		if (t->cache[i].str)
			cache_drop(t, &t->cache[i]);
	for (int i = 0; i < t->nfaces; i++)
		TTF_CloseFont(t->faces[i].font);
	free(t);
	FcFini(); /* fontconfig's caches; FcInit() in the next ui_text_new() loads them again */
}

int ui_text_cjk_missing(const ui_text *t)
{
	return t->cjk_missing;
}

const char *ui_text_primary_file(const ui_text *t)
{
	return t->faces[t->script == UI_SCRIPT_HANT ? t->tc : t->sc].file;
}

void ui_text_set_script(ui_text *t, ui_script s)
{
	t->script = s;
}

static TTF_Font *font_at(ui_text *t, int fi, int px)
{
	face *f = &t->faces[fi];
	if (f->px != px && TTF_SetFontSize(f->font, px) == 0)
		f->px = px;
	return f->font;
}

static int is_missing(const ui_text *t, uint32_t cp)
{
	return t->missing[cp % TEXT_MISSING_SLOTS] == cp;
}

/* The face that draws cp: the script's CJK face, the other one, then the rest. */
static int face_for(ui_text *t, uint32_t cp)
{
	int first = t->script == UI_SCRIPT_HANT ? t->tc : t->sc;
	if (TTF_GlyphIsProvided32(t->faces[first].font, cp))
		return first;
	for (int i = 0; i < t->nfaces; i++)
		if (i != first && TTF_GlyphIsProvided32(t->faces[i].font, cp))
			return i;
	if (cp < 0x20 || is_missing(t, cp))
		return first;
	int fi = add_for_char(t, cp);
	if (fi >= 0 && TTF_GlyphIsProvided32(t->faces[fi].font, cp))
		return fi;
	t->missing[cp % TEXT_MISSING_SLOTS] = cp;
	return first;
}

typedef struct run {
	int face;
	size_t off, len;
} run;

/* Split s into runs of one face each. Returns the number of runs. */
static int split_runs(ui_text *t, const char *s, run *runs)
{
	size_t len = strlen(s), i = 0;
	int n = 0;
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_next(s + i, len - i, &cp);
		int fi = face_for(t, cp);
		if (n > 0 && (runs[n - 1].face == fi || n == TEXT_MAX_RUNS))
			runs[n - 1].len += k;
		else
			runs[n++] = (run){fi, i, k};
		i += k;
	}
	return n;
}

/* Copy run r of s into buf as a string (cut at len - 1 bytes) and return its
 * font at px pixels. */
static TTF_Font *run_font(ui_text *t, const char *s, const run *r, int px, char *buf, size_t len)
{
	size_t l = r->len < len - 1 ? r->len : len - 1;
	memcpy(buf, s + r->off, l);
	buf[l] = '\0';
	return font_at(t, r->face, px);
}

static int measure(ui_text *t, const char *s, int px, int *w, int *h, run *runs, int n)
{
	int tw = 0, asc = 0, desc = 0;
	char buf[1024];
	for (int i = 0; i < n; i++) {
		TTF_Font *f = run_font(t, s, &runs[i], px, buf, sizeof buf);
		int rw, rh;
		if (TTF_SizeUTF8(f, buf, &rw, &rh) != 0)
			return -1;
		tw += rw;
		if (TTF_FontAscent(f) > asc)
			asc = TTF_FontAscent(f);
		if (-TTF_FontDescent(f) > desc)
			desc = -TTF_FontDescent(f);
	}
	*w = tw;
	*h = asc + desc > 0 ? asc + desc : px;
	return 0;
}

int ui_text_size(ui_text *t, const char *utf8, int px, int *w, int *h)
{
	run runs[TEXT_MAX_RUNS];
	if (!utf8[0]) {
		*w = 0;
		*h = px;
		return 0;
	}
	int n = split_runs(t, utf8, runs);
	return measure(t, utf8, px, w, h, runs, n);
}

int ui_text_fit(ui_text *t, const char *utf8, int px, int max_w)
{
	int w, h, size = px;
	while (size > px / 3 && ui_text_size(t, utf8, size, &w, &h) == 0 && w > max_w)
		size = size * 9 / 10;
	return size;
}

static SDL_Surface *render(ui_text *t, const char *s, int px, SDL_Color c)
{
	run runs[TEXT_MAX_RUNS];
	int n = split_runs(t, s, runs), w, h, asc = 0;
	if (n == 0 || measure(t, s, px, &w, &h, runs, n) != 0 || w <= 0)
		return NULL;
	for (int i = 0; i < n; i++) {
		int a = TTF_FontAscent(font_at(t, runs[i].face, px));
		asc = a > asc ? a : asc;
	}
	SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!out)
		return NULL;
	SDL_FillRect(out, NULL, SDL_MapRGBA(out->format, c.r, c.g, c.b, 0));
	int x = 0;
	char buf[1024];
	for (int i = 0; i < n; i++) {
		TTF_Font *f = run_font(t, s, &runs[i], px, buf, sizeof buf);
		SDL_Surface *rs = TTF_RenderUTF8_Blended(f, buf, c);
		if (!rs)
			continue;
		SDL_SetSurfaceBlendMode(rs, SDL_BLENDMODE_NONE);
		SDL_Rect dst = {x, asc - TTF_FontAscent(f), rs->w, rs->h};
		SDL_BlitSurface(rs, NULL, out, &dst);
		x += rs->w;
		SDL_FreeSurface(rs);
	}
	return out;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static cache_slot *cache_get(ui_text *t, const char *s, int px, SDL_Color c)
{
	uint64_t h = hash_str(s);
	Uint32 rgba = (Uint32)c.r << 24 | (Uint32)c.g << 16 | (Uint32)c.b << 8 | c.a;
	cache_slot *victim = NULL;
	for (int i = 0; i < TEXT_CACHE_SLOTS; i++) {
		cache_slot *e = &t->cache[i];
		if (e->str && e->hash == h && e->px == px && e->rgba == rgba && e->script == t->script &&
		    strcmp(e->str, s) == 0) {
			e->used = ++t->clock;
			return e;
		}
		if (!victim || !e->str || (victim->str && e->used < victim->used))
			victim = e;
	}
	SDL_Surface *surf = render(t, s, px, c);
	if (!surf)
		return NULL;
	size_t bytes = (size_t)surf->w * (size_t)surf->h * 4;
	/* Make room: drop least recently used entries until the new one fits. */
	while (t->cache_bytes + bytes > TEXT_CACHE_BYTES) {
		cache_slot *lru = NULL;
		for (int i = 0; i < TEXT_CACHE_SLOTS; i++)
			if (t->cache[i].str && (!lru || t->cache[i].used < lru->used))
				lru = &t->cache[i];
		if (!lru)
			break;
		cache_drop(t, lru);
	}
	if (victim->str)
		cache_drop(t, victim);
	victim->tex = SDL_CreateTextureFromSurface(t->r, surf);
	victim->w = surf->w;
	victim->h = surf->h;
	SDL_FreeSurface(surf);
	victim->str = strdup(s);
	if (!victim->tex || !victim->str) {
		if (victim->tex)
			SDL_DestroyTexture(victim->tex);
		free(victim->str);
		memset(victim, 0, sizeof *victim);
		return NULL;
	}
	SDL_SetTextureBlendMode(victim->tex, SDL_BLENDMODE_BLEND);
	victim->hash = h;
	victim->px = px;
	victim->rgba = rgba;
	victim->script = t->script;
	victim->used = ++t->clock;
	t->cache_bytes += bytes;
	return victim;
}

int ui_text_draw(ui_text *t, const char *utf8, int px, SDL_Color c, int x, int y, int align, int max_w)
{
	if (!utf8 || !utf8[0])
		return 0;
	char cut[512];
	if (max_w > 0) {
		px = ui_text_fit(t, utf8, px, max_w);
		int w, h;
		if (ui_text_size(t, utf8, px, &w, &h) == 0 && w > max_w) {
			/* still too wide at a third of its size: shortened, with an
			 * ellipsis, by whole code points, never off the screen */
			size_t n = strlen(utf8) < sizeof cut - 4 ? strlen(utf8) : sizeof cut - 4;
			while (n > 0) {
				do
					n--;
				while (n > 0 && ((unsigned char)utf8[n] & 0xC0) == 0x80);
				memcpy(cut, utf8, n);
				memcpy(cut + n, "…", sizeof "…");
				if (ui_text_size(t, cut, px, &w, &h) == 0 && w <= max_w)
					break;
			}
			utf8 = cut;
		}
	}
	cache_slot *e = cache_get(t, utf8, px, c);
	if (!e)
		return -1;
	SDL_Rect dst = {x, y, e->w, e->h};
	if (align == UI_ALIGN_CENTER)
		dst.x = x - e->w / 2;
	else if (align == UI_ALIGN_RIGHT)
		dst.x = x - e->w;
	SDL_RenderCopy(t->r, e->tex, NULL, &dst);
	if (t->trace)
		t->trace(t->trace_ud, (SDL_Rect){dst.x, dst.y + (dst.h - px) / 2, dst.w, px}, utf8);
	return e->w;
}

/* a place to break a line after: a space, or CJK punctuation */
static int break_after(const char *s, size_t at)
{
	static const char *const marks[] = {" ", "，", "、", "：", "；", "。", "·", "）", "-", "–"};
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		size_t n = strlen(marks[i]);
		if (at >= n && memcmp(s + at - n, marks[i], n) == 0)
			return 1;
	}
	return 0;
}

int ui_text_draw_two(ui_text *t, const char *utf8, int px, SDL_Color c, int x, int y, int align, int max_w)
{
	int w, h;
	int one = ui_text_fit(t, utf8, px, max_w);
	if (one >= px * 2 / 3 || max_w <= 0) {
		ui_text_draw(t, utf8, px, c, x, y, align, max_w);
		return ui_text_size(t, utf8, one, &w, &h) == 0 ? h : one;
	}
	/* two lines at two thirds: the first as full as it fits, broken after a
	 * space or a punctuation mark in its last third when there is one */
	int size = px * 2 / 3;
	char first[512];
	size_t len = strlen(utf8) < sizeof first - 1 ? strlen(utf8) : sizeof first - 1;
	size_t fit = 0, brk = 0;
	for (size_t at = 1; at <= len; at++) {
		if (at < len && ((unsigned char)utf8[at] & 0xC0) == 0x80)
			continue; /* inside a code point */
		memcpy(first, utf8, at);
		first[at] = '\0';
		if (ui_text_size(t, first, size, &w, &h) != 0 || w > max_w)
			break;
		fit = at;
		if (break_after(utf8, at))
			brk = at;
	}
	if (fit == 0 || fit >= strlen(utf8)) {
		ui_text_draw(t, utf8, px, c, x, y, align, max_w);
		return ui_text_size(t, utf8, one, &w, &h) == 0 ? h : one;
	}
	if (brk * 3 >= fit * 2)
		fit = brk;
	memcpy(first, utf8, fit);
	first[fit] = '\0';
	const char *rest = utf8 + fit;
	while (*rest == ' ')
		rest++;
	ui_text_draw(t, first, size, c, x, y, align, max_w);
	ui_text_size(t, first, size, &w, &h);
	ui_text_draw(t, rest, size, c, x, y + h, align, max_w);
	return 2 * h;
}

void ui_text_trace(ui_text *t, ui_text_trace_fn fn, void *ud)
{
	t->trace = fn;
	t->trace_ud = ud;
}
