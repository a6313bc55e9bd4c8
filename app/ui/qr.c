/*
 * qr — QR codes on screen. See qr.h for the rules.
 *
 * The symbol is turned into a texture with one texel per module (the quiet
 * zone included) and scaled up by a whole factor with nearest-neighbour
 * sampling, so every module is exactly px x px pixels and a 1920x1080 frame
 * costs one texture copy, not thousands of rectangles.
 */
#include "app/ui/qr.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

struct qr_code {
	QRcode *code;
	qr_plan plan;
};

static QRcode *encode(const char *text, QRecLevel level)
{
	/* case-sensitive, 8-bit by default; libqrencode still packs digit and
	 * upper-case runs in their denser modes */
	return QRcode_encodeString(text, 0, level, QR_MODE_8, 1);
}

static void plan_for(const QRcode *c, char level, int avail, qr_plan *p)
{
	p->level = level;
	p->version = c->version;
	p->modules = c->width;
	p->px = avail / (c->width + 2 * QR_QUIET);
	p->quiet = QR_QUIET;
	if (p->px > 0) /* the white square takes what the whole modules leave */
		p->quiet = (avail / p->px - c->width) / 2;
	p->side = (p->modules + 2 * p->quiet) * p->px;
}

qr_code *qr_encode(const char *text, int avail, qr_plan *plan)
{
	qr_plan m = {0}, q = {0};
	if (plan)
		memset(plan, 0, sizeof *plan);
	if (!text || !text[0] || strnlen(text, QR_TEXT_MAX + 1) > QR_TEXT_MAX || avail <= 0)
		return NULL;
	QRcode *cm = encode(text, QR_ECLEVEL_M);
	if (!cm)
		return NULL;
	plan_for(cm, 'M', avail, &m);
	QRcode *cq = encode(text, QR_ECLEVEL_Q);
	if (cq)
		plan_for(cq, 'Q', avail, &q);
	int use_q = cq && q.px >= QR_MIN_PX && (q.px >= QR_ROOM_PX || q.px >= m.px);
	QRcode *keep = use_q ? cq : cm;
	QRcode_free(use_q ? cm : cq);
	if (plan)
		*plan = use_q ? q : m;
	if ((use_q ? q.px : m.px) < QR_MIN_PX) {
		QRcode_free(keep);
		return NULL;
	}
	qr_code *r = malloc(sizeof *r);
	if (!r) {
		QRcode_free(keep);
		return NULL;
	}
	r->code = keep;
	r->plan = use_q ? q : m;
	return r;
}

void qr_free(qr_code *q)
{
	if (q) {
		QRcode_free(q->code);
		free(q);
	}
}

const qr_plan *qr_plan_of(const qr_code *q)
{
	return &q->plan;
}

int qr_dark(const qr_code *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->plan.modules || y >= q->plan.modules)
		return 0;
	return q->code->data[y * q->code->width + x] & 1;
}

/* One texel per module, quiet zone included; NULL on failure. */
static SDL_Texture *make_texture(SDL_Renderer *r, const qr_code *q)
{
	int n = q->plan.modules + 2 * q->plan.quiet;
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, n, n, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!s)
		return NULL;
	for (int y = 0; y < n; y++) {
		Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + y * s->pitch);
		for (int x = 0; x < n; x++)
			row[x] = qr_dark(q, x - q->plan.quiet, y - q->plan.quiet) ? 0xff000000u : 0xffffffffu;
	}
	SDL_Texture *t = SDL_CreateTextureFromSurface(r, s);
	SDL_FreeSurface(s);
	if (t)
		SDL_SetTextureScaleMode(t, SDL_ScaleModeNearest);
	return t;
}

static int copy(SDL_Renderer *r, SDL_Texture *t, const qr_code *q, int x, int y)
{
	SDL_Rect dst = {x, y, q->plan.side, q->plan.side};
	return SDL_RenderCopy(r, t, NULL, &dst);
}

int qr_draw(SDL_Renderer *r, const qr_code *q, int x, int y)
{
	SDL_Texture *t = make_texture(r, q);
	if (!t)
		return -1;
	int rc = copy(r, t, q, x, y);
	SDL_DestroyTexture(t);
	return rc;
}

/* ---- cache ---- */

#define QR_CACHE_N 4

typedef struct entry {
	char *text;
	int avail;
	qr_code *q;
	qr_plan plan; /* also for a code that did not fit */
	SDL_Texture *tex;
	unsigned long used;
} entry;

struct qr_cache {
	SDL_Renderer *r;
	entry e[QR_CACHE_N];
	unsigned long clock;
};

qr_cache *qr_cache_new(SDL_Renderer *r)
{
	qr_cache *c = calloc(1, sizeof *c);
	if (c)
		c->r = r;
	return c;
}

static void drop(entry *e)
{
	free(e->text);
	qr_free(e->q);
	if (e->tex)
		SDL_DestroyTexture(e->tex);
	memset(e, 0, sizeof *e);
}

void qr_cache_free(qr_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < QR_CACHE_N; i++)
		drop(&c->e[i]);
	free(c);
}

static entry *lookup(qr_cache *c, const char *text, int avail)
{
	entry *victim = &c->e[0];
	for (int i = 0; i < QR_CACHE_N; i++) {
		entry *e = &c->e[i];
		if (e->text && e->avail == avail && strcmp(e->text, text) == 0) {
			e->used = ++c->clock;
			return e;
		}
		if (e->used < victim->used)
			victim = e;
	}
	drop(victim);
	victim->text = strdup(text);
	if (!victim->text)
		return NULL;
	victim->avail = avail;
	victim->q = qr_encode(text, avail, &victim->plan);
	if (victim->q)
		victim->tex = make_texture(c->r, victim->q);
	victim->used = ++c->clock;
	return victim;
}

int qr_cache_draw(qr_cache *c, const char *text, SDL_Rect area, SDL_Rect *drawn, qr_plan *plan)
{
	int avail = area.w < area.h ? area.w : area.h;
	entry *e = text ? lookup(c, text, avail) : NULL;
	if (plan)
		*plan = e ? e->plan : (qr_plan){0};
	if (!e || !e->q || !e->tex)
		return -1;
	int side = e->q->plan.side;
	SDL_Rect at = {area.x + (area.w - side) / 2, area.y + (area.h - side) / 2, side, side};
	if (drawn)
		*drawn = at;
	return copy(c->r, e->tex, e->q, at.x, at.y);
}
