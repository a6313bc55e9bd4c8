/*
 * console_venues — the venues a user may see, a venue's overview, its
 * kiosks (last contact, clock, queue, dead letters, revoking), enrolment
 * codes, and the venue's log of console changes.
 *
 * Alerts are what an organizer should act on before a member notices: a
 * kiosk that has not synced for a day (its check-ins are not on the hub, and
 * it does not get new members or links), a kiosk holding records the hub
 * refused, and a group link about to expire (WeChat group codes die after 7
 * days) or an expired one still marked as the venue's default.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/qr_out.h"
#include "sync/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STALE_MS       (24LL * 3600 * 1000) /* a kiosk silent this long is flagged */
#define LINK_WARN_MS   (48LL * 3600 * 1000) /* a link expiring this soon is flagged */
#define CLOCK_WARN_MS  (5LL * 60 * 1000)    /* a kiosk clock this far off is flagged */
#define CODE_HOURS_MAX 168
#define AUDIT_SHOWN    200

/* ---- text with values ---- */

/* tmpl (translated) with its first %s replaced by a and its second by b: into out, or into the page (console_i18n.c). */
static const char *fill(char *out, size_t len, const char *tmpl, const char *a, const char *b)
{
	return text_fill(out, len, tmpl, (const char *const[]){a, b}, 2);
}

static void say(html *h, const char *tmpl, const char *a, const char *b)
{
	html_fill(h, tmpl, (const char *const[]){a, b}, 2);
}

static const char *num(char *out, size_t len, long long n)
{
	snprintf(out, len, "%lld", n);
	return out;
}

/* A length of time for people: "12 min", "5 h", "3 days". */
static const char *duration(const cx *c, int64_t ms, char *out, size_t len)
{
	char n[24];
	if (ms < 3600 * 1000LL)
		return fill(out, len, T(c, "%s min"), num(n, sizeof n, ms / 60000 < 1 ? 1 : ms / 60000), NULL);
	if (ms < 48 * 3600 * 1000LL)
		return fill(out, len, T(c, "%s h"), num(n, sizeof n, ms / 3600000), NULL);
	return fill(out, len, T(c, "%s days"), num(n, sizeof n, ms / 86400000), NULL);
}

/* When something was last heard of: "3 min ago" within the hour, else the time in the venue's zone. */
static void html_ago(cx *c, int64_t ms)
{
	html *h = &c->h;
	char t[17], buf[64], n[24];
	if (ms <= 0) {
		html_f(h, "<span class=\"muted\">%s</span>", T(c, "never"));
		return;
	}
	int64_t ago = c->rq->now_ms - ms;
	cx_time(c, ms, t);
	if (ago < 60 * 1000LL)
		html_f(h, "<time class=\"nowrap\" title=\"%s\">%s</time>", t, T(c, "just now"));
	else if (ago < 3600 * 1000LL)
		html_f(h, "<time class=\"nowrap\" title=\"%s\">%s</time>", t,
		       fill(buf, sizeof buf, T(c, "%s min ago"), num(n, sizeof n, ago / 60000), NULL));
	else
		html_f(h, "<time class=\"nowrap\">%s</time>", t);
}

/* A clock difference, as the kiosk's clock against the hub's: "+1.2 s", "-3 min". */
static const char *clock_diff(int64_t ms, char *out, size_t len)
{
	char sign = ms < 0 ? '-' : '+';
	long long a = ms < 0 ? -(long long)ms : (long long)ms;
	if (a < 100 * 1000LL)
		snprintf(out, len, "%c%lld.%lld s", sign, (a + 50) / 1000, ((a + 50) / 100) % 10);
	else if (a < 120 * 60 * 1000LL)
		snprintf(out, len, "%c%lld min", sign, (a + 30000) / 60000);
	else if (a < 48 * 3600 * 1000LL)
		snprintf(out, len, "%c%lld h", sign, (a + 1800000) / 3600000);
	else
		snprintf(out, len, "%c%lld d", sign, (a + 43200000) / 86400000);
	return out;
}

/* A kiosk's name for people: its own, or the start of its id. */
static const char *kiosk_name(const cx *c, const hub_device *d, char *out, size_t len)
{
	char id8[9];
	snprintf(id8, sizeof id8, "%.8s", d->id);
	if (d->name[0])
		snprintf(out, len, "%s", d->name);
	else /* a kiosk enrolled without --name: the start of its id, as in the ID column */
		snprintf(out, len, "#%s", id8);
	return out;
}

static void live_url(cx *c, const hub_venue *v, char *out, size_t len)
{
	char base[600];
	cx_public_url(c, base, sizeof base);
	snprintf(out, len, "%s/j/%s", base, v->slug);
}

/* ---- a venue's kiosks and alerts ---- */

typedef struct kiosk {
	hub_device d;
	hub_queue_state q;
	int64_t rejected;
} kiosk;

typedef struct kiosks {
	kiosk *k;
	size_t n, cap;
	int oom;
} kiosks;

static int kiosk_take(const hub_device *d, void *ctx)
{
	kiosks *ks = ctx;
	kiosk k = {.d = *d};
	ks->oom = cx_append((void **)&ks->k, &ks->n, &ks->cap, &k, sizeof k) != 0;
	return ks->oom;
}

/* The venue's kiosks with their queue and dead letters; HUB_OK or the store's error. */
static hub_err kiosks_load(cx *c, const char *venue_id, kiosks *ks)
{
	memset(ks, 0, sizeof *ks);
	hub_err e = c->st->ops->devices_each(c->st, venue_id, kiosk_take, ks);
	if (e == HUB_OK && ks->oom)
		e = HUB_ERR;
	for (size_t i = 0; e == HUB_OK && i < ks->n; i++) {
		kiosk *k = &ks->k[i];
		e = c->st->ops->device_queue_get(c->st, k->d.id, &k->q);
		if (e == HUB_NOT_FOUND) { /* nothing said yet */
			memset(&k->q, 0, sizeof k->q);
			e = HUB_OK;
		}
		if (e == HUB_OK)
			e = c->st->ops->device_rejected(c->st, k->d.id, &k->rejected);
	}
	return e;
}

static void kiosks_free(kiosks *ks)
{
	free(ks->k);
	memset(ks, 0, sizeof *ks);
}

static size_t kiosks_active(const kiosks *ks)
{
	size_t n = 0;
	for (size_t i = 0; i < ks->n; i++)
		n += !ks->k[i].d.revoked_ms;
	return n;
}

/* The alerts, as boxes into a: built while the kiosks and links are walked. */
typedef struct alerts {
	cx *c;
	html a;
	size_t n;
} alerts;

static void alert(alerts *al, const char *cls, const char *tmpl, const char *a, const char *b)
{
	html_f(&al->a, "<div class=\"alert %s\">", cls);
	say(&al->a, tmpl, a, b);
	html_f(&al->a, "</div>");
	al->n++;
}

static int link_alert(const hub_link *l, void *ctx)
{
	alerts *al = ctx;
	cx *c = al->c;
	char d[32];
	int64_t now = c->rq->now_ms;
	if (l->removed || !l->expires_ms)
		return 0;
	if (l->expires_ms > now && l->expires_ms - now <= LINK_WARN_MS)
		alert(al, "warn", T(c, "Group link \"%s\" expires in %s."), l->label,
		      duration(c, l->expires_ms - now, d, sizeof d));
	else if (l->expires_ms <= now && l->is_default)
		alert(al, "bad", T(c, "The venue's default group link \"%s\" has expired. Add a new one."), l->label,
		      NULL);
	return 0;
}

/* Every alert of a venue into al (initialised here); its kiosks into ks. */
static hub_err venue_alerts(cx *c, const hub_venue *v, kiosks *ks, alerts *al)
{
	al->c = c;
	al->n = 0;
	html_init(&al->a);
	hub_err e = kiosks_load(c, v->id, ks);
	if (e != HUB_OK)
		return e;
	int64_t now = c->rq->now_ms;
	for (size_t i = 0; i < ks->n; i++) {
		const kiosk *k = &ks->k[i];
		char name[80], d[32], n[24];
		if (k->d.revoked_ms)
			continue;
		kiosk_name(c, &k->d, name, sizeof name);
		if (!k->d.last_seen_ms && now - k->d.enrolled_ms > STALE_MS)
			alert(al, "bad", T(c, "Kiosk \"%s\" has not synced once since it was enrolled %s ago."), name,
			      duration(c, now - k->d.enrolled_ms, d, sizeof d));
		else if (k->d.last_seen_ms && now - k->d.last_seen_ms > STALE_MS)
			alert(al, "bad", T(c, "Kiosk \"%s\" has not synced for %s."), name,
			      duration(c, now - k->d.last_seen_ms, d, sizeof d));
		int64_t dead = k->rejected > k->q.dead ? k->rejected : k->q.dead;
		if (dead > 0)
			alert(al, "bad", T(c, "Kiosk \"%s\" holds %s records the hub refused (dead letters)."), name,
			      num(n, sizeof n, dead));
	}
	return c->st->ops->links_each(c->st, v->id, link_alert, al);
}

static void alerts_show(cx *c, alerts *al)
{
	if (!al->n) {
		html_f(&c->h, "<p class=\"muted\">%s</p>", T(c, "No alerts."));
		return;
	}
	size_t len;
	char *a = html_take(&al->a, &len);
	if (a)
		html_markup(&c->h, a, len);
	free(a);
}

/* ---- /venues ---- */

typedef struct venue_list {
	hub_venue *v;
	size_t n, cap;
	int oom;
} venue_list;

static int venue_take(const hub_venue *v, void *ctx)
{
	venue_list *l = ctx;
	l->oom = cx_append((void **)&l->v, &l->n, &l->cap, v, sizeof *v) != 0;
	return l->oom;
}

typedef struct id_list {
	char (*id)[HUB_ID_MAX];
	size_t n, cap;
	int oom;
} id_list;

static int id_take(const char *id, void *ctx)
{
	id_list *l = ctx;
	char one[HUB_ID_MAX];
	snprintf(one, sizeof one, "%s", id);
	l->oom = cx_append((void **)&l->id, &l->n, &l->cap, one, sizeof one) != 0;
	return l->oom;
}

/* The venues the user may see: every venue for an owner, else the ones given to them. */
static hub_err venues_visible(cx *c, venue_list *out)
{
	memset(out, 0, sizeof *out);
	hub_err e;
	if (c->user.role == HUB_ROLE_OWNER) {
		e = c->st->ops->venues_each(c->st, venue_take, out);
		return e == HUB_OK && out->oom ? HUB_ERR : e;
	}
	id_list ids = {0};
	e = c->st->ops->user_venues_each(c->st, c->user.id, id_take, &ids);
	if (e == HUB_OK && ids.oom)
		e = HUB_ERR;
	for (size_t i = 0; e == HUB_OK && i < ids.n; i++) {
		hub_venue v;
		e = c->st->ops->venue_get(c->st, ids.id[i], &v);
		if (e == HUB_NOT_FOUND) { /* gone since: nothing to show */
			e = HUB_OK;
			continue;
		}
		if (e == HUB_OK && venue_take(&v, out) != 0)
			e = HUB_ERR;
	}
	free(ids.id);
	return e;
}

static void page_venues(cx *c)
{
	html *h = &c->h;
	venue_list vl;
	hub_err e = venues_visible(c, &vl);
	if (e != HUB_OK) {
		free(vl.v);
		page_store_failed(c, e);
		return;
	}
	page_begin(c, T(c, "Venues"), NULL);
	html_f(h, "<h1>%s</h1>", T(c, "Venues"));
	if (!vl.n) {
		html_f(h, "<p class=\"empty\">%s</p>",
		       c->user.role == HUB_ROLE_OWNER
			   ? T(c, "There are no venues yet. Add one on the hub's machine: tingzi-hub venues add NAME")
			   : T(c, "Your account has no venues yet. Ask the owner to give you one."));
		page_end(c);
		free(vl.v);
		return;
	}
	html_f(h, "<div class=\"grid\">");
	for (size_t i = 0; i < vl.n; i++) {
		const hub_venue *v = &vl.v[i];
		kiosks ks;
		alerts al;
		e = venue_alerts(c, v, &ks, &al);
		if (e != HUB_OK) {
			kiosks_free(&ks);
			html_free(&al.a);
			free(vl.v);
			page_store_failed(c, e);
			return;
		}
		char url[700], n[24], buf[128];
		live_url(c, v, url, sizeof url);
		html_f(h, "<section class=\"card\"><h2><a href=\"/venues/%s\">", v->id);
		html_user(h, v->name);
		html_f(h, "</a></h2><p><span class=\"muted\">%s</span>%s</p>"
			  "<p><span class=\"muted\">%s</span><a href=\"%s\">%s</a></p>"
			  "<p><span class=\"muted\">%s</span>%s</p>",
		       T(c, "Time zone: "), v->tz, T(c, "Live code: "), url, url, T(c, "Kiosks: "),
		       fill(buf, sizeof buf, T(c, "%s enrolled"), num(n, sizeof n, (long long)kiosks_active(&ks)),
			    NULL));
		alerts_show(c, &al);
		html_f(h, "</section>");
		kiosks_free(&ks);
		html_free(&al.a);
	}
	html_f(h, "</div>");
	page_end(c);
	free(vl.v);
}

/* ---- /venues/{v} ---- */

static void page_venue(cx *c)
{
	html *h = &c->h;
	kiosks ks;
	alerts al;
	hub_err e = venue_alerts(c, &c->venue, &ks, &al);
	if (e != HUB_OK) {
		kiosks_free(&ks);
		html_free(&al.a);
		page_store_failed(c, e);
		return;
	}
	const hub_venue *v = &c->venue;
	int organizer = c->user.role >= HUB_ROLE_ORGANIZER;
	char url[700];
	live_url(c, v, url, sizeof url);
	page_begin(c, v->name, "venue");
	html_f(h, "<h1>");
	html_user(h, v->name);
	html_f(h, "</h1><p class=\"sub\">%s%s</p>", T(c, "Time zone: "), v->tz);

	html_f(h, "<section class=\"card\"><h2>%s</h2>", T(c, "Alerts"));
	alerts_show(c, &al);
	html_f(h, "</section><div class=\"grid\">");

	html_f(h, "<section class=\"card\"><h2>%s</h2><p>%s</p><p><a href=\"%s\">%s</a></p>", T(c, "Live code"),
	       T(c, "Members scan this to join the venue's group: it leads to the group link that is valid now."), url,
	       url);
	qr_svg(h, url, 6);
	if (organizer)
		html_f(h, "<p><a href=\"/venues/%s/poster\">%s</a> · <a href=\"/venues/%s/links\">%s</a></p>", v->id,
		       T(c, "Print a poster"), v->id, T(c, "Group links"));
	html_f(h, "</section>");

	html_f(h, "<section class=\"card\"><h2>%s</h2>", T(c, "Kiosks"));
	size_t shown = 0;
	for (size_t i = 0; i < ks.n; i++) {
		const kiosk *k = &ks.k[i];
		if (k->d.revoked_ms)
			continue;
		if (!shown++)
			html_f(h, "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th></tr></thead><tbody>",
			       T(c, "Kiosk"), T(c, "Last contact"));
		char name[80];
		html_f(h, "<tr><td data-label=\"%s\">", T(c, "Kiosk"));
		html_user(h, kiosk_name(c, &k->d, name, sizeof name));
		html_f(h, "</td><td data-label=\"%s\">", T(c, "Last contact"));
		html_ago(c, k->d.last_seen_ms);
		if (k->d.last_seen_ms && c->rq->now_ms - k->d.last_seen_ms > STALE_MS)
			html_f(h, " <span class=\"badge warn\">%s</span>", T(c, "offline"));
		html_f(h, "</td></tr>");
	}
	if (shown)
		html_f(h, "</tbody></table>");
	else
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "No kiosk is enrolled in this venue yet."));
	if (organizer)
		html_f(h, "<p><a href=\"/venues/%s/devices\">%s</a></p>", v->id, T(c, "Manage kiosks"));
	html_f(h, "</section>");

	/* the sections, for a phone where the tabs scroll out of sight */
	html_f(h, "<section class=\"card\"><h2>%s</h2><ul class=\"sections\">", T(c, "Sections"));
	html_f(h, "<li><a href=\"/venues/%s/events\">%s</a></li>", v->id, T(c, "Events and attendance"));
	if (organizer) {
		html_f(h, "<li><a href=\"/venues/%s/members\">%s</a></li>", v->id, T(c, "Members"));
		html_f(h, "<li><a href=\"/venues/%s/links\">%s</a></li>", v->id, T(c, "Group links and live codes"));
		html_f(h, "<li><a href=\"/venues/%s/devices\">%s</a></li>", v->id, T(c, "Kiosks and enrolment"));
		html_f(h, "<li><a href=\"/venues/%s/audit\">%s</a></li>", v->id, T(c, "Changes made in the console"));
	}
	html_f(h, "</ul></section></div>");
	page_end(c);
	kiosks_free(&ks);
	html_free(&al.a);
}

/* ---- /venues/{v}/devices ---- */

static void code_form(cx *c, const char *hours, const char *error)
{
	html *h = &c->h;
	char action[128];
	snprintf(action, sizeof action, "/venues/%s/devices/code", c->venue.id);
	html_f(h, "<section class=\"card\"><h2>%s</h2><p>%s</p>", T(c, "Enrol a kiosk"),
	       T(c, "An enrolment code joins one kiosk to this venue. It works once and is shown only once."));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	form_open(c, action, 0);
	html_f(h,
	       "<div class=\"field narrow\"><label for=\"hours\">%s</label><input id=\"hours\" name=\"hours\" "
	       "type=\"number\" min=\"1\" max=\"%d\" value=\"%s\" inputmode=\"numeric\"></div>"
	       "<button class=\"primary\">%s</button>",
	       T(c, "Valid for (hours, 1 to 168)"), CODE_HOURS_MAX, hours, T(c, "Make an enrolment code"));
	form_close(c);
	html_f(h, "</section>");
}

static void devices_page(cx *c, const char *hours, const char *error)
{
	html *h = &c->h;
	kiosks ks;
	hub_err e = kiosks_load(c, c->venue.id, &ks);
	if (e != HUB_OK) {
		kiosks_free(&ks);
		page_store_failed(c, e);
		return;
	}
	int64_t now = c->rq->now_ms;
	page_begin(c, T(c, "Kiosks"), "devices");
	html_f(h, "<h1>%s</h1><section class=\"card\">", T(c, "Kiosks"));
	if (!ks.n) {
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "No kiosk is enrolled in this venue yet."));
	} else {
		static const char *const cols[] = {N_("Kiosk"),	       N_("ID"),    N_("Enrolled"),
						   N_("Last contact"), N_("Clock"), N_("Queue"),
						   N_("Dead letters")};
		html_f(h, "<table class=\"data\"><thead><tr>");
		for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
			html_f(h, "<th>%s</th>", T(c, cols[i]));
		html_f(h, "<th></th></tr></thead><tbody>");
		for (size_t i = 0; i < ks.n; i++) {
			const kiosk *k = &ks.k[i];
			const hub_device *d = &k->d;
			char name[80], t[17], buf[200], n1[24], n2[24], diff[32];
			html_f(h, "<tr><td data-label=\"%s\">", T(c, "Kiosk"));
			html_user(h, kiosk_name(c, d, name, sizeof name));
			if (d->revoked_ms)
				html_f(h, " <span class=\"badge bad\" title=\"%s\">%s</span>", cx_time(c, d->revoked_ms, t),
				       T(c, "revoked"));
			html_f(h, "</td><td data-label=\"%s\"><code title=\"%s\">%.*s</code></td>", T(c, "ID"), d->id, 8,
			       d->id);
			html_f(h, "<td data-label=\"%s\" class=\"nowrap\">%s</td><td data-label=\"%s\">", T(c, "Enrolled"),
			       cx_time(c, d->enrolled_ms, t), T(c, "Last contact"));
			html_ago(c, d->last_seen_ms);
			if (!d->revoked_ms && d->last_seen_ms && now - d->last_seen_ms > STALE_MS)
				html_f(h, " <span class=\"badge warn\">%s</span>", T(c, "offline"));
			html_f(h, "</td><td data-label=\"%s\">", T(c, "Clock"));
			if (!d->last_seen_ms) {
				html_f(h, "<span class=\"muted\">—</span>");
			} else {
				/* offset_ms is the hub's time less the kiosk's: shown as the kiosk's against the hub's */
				int64_t kiosk_ahead = -d->offset_ms;
				int off = kiosk_ahead > CLOCK_WARN_MS || kiosk_ahead < -CLOCK_WARN_MS;
				html_f(h, "<span class=\"num\" title=\"%s\">%s</span>",
				       T(c, "The kiosk's clock against the hub's, at its last sync"),
				       clock_diff(kiosk_ahead, diff, sizeof diff));
				if (off)
					html_f(h, " <span class=\"badge warn\">%s</span>",
					       kiosk_ahead > 0 ? T(c, "clock fast") : T(c, "clock slow"));
			}
			html_f(h, "</td><td data-label=\"%s\">", T(c, "Queue"));
			if (!k->q.at_ms) {
				html_f(h, "<span class=\"muted\">%s</span>", T(c, "not reported"));
			} else {
				html_f(h, "%s <span class=\"muted\">(%s)</span>",
				       fill(buf, sizeof buf, T(c, "%s waiting, %s dead"),
					    num(n1, sizeof n1, k->q.pending), num(n2, sizeof n2, k->q.dead)),
				       cx_time(c, k->q.at_ms, t));
			}
			html_f(h, "</td><td data-label=\"%s\">", T(c, "Dead letters"));
			if (k->rejected > 0)
				html_f(h, "<span class=\"badge bad\">%lld</span>", (long long)k->rejected);
			else
				html_f(h, "<span class=\"num\">0</span>");
			html_f(h, "</td><td class=\"actions\">");
			if (!d->revoked_ms) {
				/* a second step, without a script: the button is inside what the first click opens */
				html_f(h, "<details class=\"confirm\"><summary>%s</summary><p>", T(c, "Revoke..."));
				say(h, T(c, "Revoke kiosk \"%s\"? It stops syncing at once and must be enrolled again with a "
					    "new code."),
				    name, NULL);
				html_f(h,
				       "</p><form class=\"inline\" method=\"post\" action=\"/venues/%s/devices/%s/revoke\">"
				       "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"danger\">%s</button>"
				       "</form></details>",
				       c->venue.id, d->id, c->csrf, T(c, "Revoke this kiosk"));
			}
			html_f(h, "</td></tr>");
		}
		html_f(h, "</tbody></table>");
	}
	html_f(h, "</section>");
	code_form(c, hours, error);
	page_end(c);
	kiosks_free(&ks);
}

static void page_devices(cx *c)
{
	devices_page(c, "24", NULL);
}

static void page_devices_code(cx *c)
{
	html *h = &c->h;
	char hours_text[16];
	form_trimmed(&c->form, "hours", hours_text, sizeof hours_text);
	long hours = 24;
	if (hours_text[0]) {
		char *end;
		hours = strtol(hours_text, &end, 10);
		if (end == hours_text || *end || hours < 1 || hours > CODE_HOURS_MAX) {
			c->out->status = 400;
			devices_page(c, hours_text, T(c, "Enter how many hours the code stays valid: 1 to 168."));
			return;
		}
	}
	char code[15];
	unsigned char hash[HUB_HASH_LEN];
	hub_enroll_code(code, hash);
	int64_t now = c->rq->now_ms, until = now + hours * 3600 * 1000LL;
	hub_err e = c->st->ops->code_add(c->st, c->venue.id, hash, until, now);
	if (e != HUB_OK) {
		sodium_memzero(code, sizeof code);
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "device.code", json_pack("{s:I, s:I}", "hours", (json_int_t)hours, "expires_ms",
						       (json_int_t)until)) != 0) {
		sodium_memzero(code, sizeof code);
		return;
	}
	char base[600], t[17];
	cx_public_url(c, base, sizeof base);
	page_begin(c, T(c, "Enrolment code"), "devices");
	html_f(h, "<h1>%s</h1>", T(c, "Enrolment code"));
	html_f(h, "<div class=\"alert warn\" role=\"status\">%s</div>",
	       T(c, "This code is shown only this once. Copy it now, or make a new one later."));
	html_f(h, "<section class=\"card enroll\"><p class=\"stat code-big\"><code>%s</code></p>", code);
	qr_svg(h, code, 8);
	html_f(h, "<p class=\"muted\">%s</p><p>%s</p><p class=\"mono\">tingzi enroll %s %s</p>",
	       T(c, "The QR code holds the code alone, for a barcode scanner or a phone."),
	       T(c, "On the kiosk's computer, run this command:"), base, code);
	html_f(h, "<p>%s <strong>%s</strong> %s</p></section>", T(c, "Valid until"), cx_time(c, until, t),
	       T(c, "(venue time), for one kiosk."));
	html_f(h, "<p><a href=\"/venues/%s/devices\">%s</a></p>", c->venue.id, T(c, "Back to the kiosks"));
	page_end(c);
	sodium_memzero(code, sizeof code);
}

static void page_device_revoke(cx *c)
{
	hub_device d;
	hub_err e = c->st->ops->device_get(c->st, c->id, &d);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && strcmp(d.venue_id, c->venue.id) != 0)) {
		page_fail(c, 404, T(c, "There is no such kiosk in this venue."));
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	char name[80], buf[300];
	kiosk_name(c, &d, name, sizeof name);
	if (d.revoked_ms) {
		page_flash(c, fill(buf, sizeof buf, T(c, "Kiosk \"%s\" was revoked already."), name, NULL));
		page_redirect(c, "/venues/%s/devices", c->venue.id);
		return;
	}
	e = c->st->ops->device_revoke(c->st, d.id, c->rq->now_ms);
	if (e == HUB_EXISTS) {
		page_flash(c, fill(buf, sizeof buf, T(c, "Kiosk \"%s\" was revoked already."), name, NULL));
		page_redirect(c, "/venues/%s/devices", c->venue.id);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "device.revoke", json_pack("{s:s, s:s}", "device", d.id, "name", d.name)) != 0)
		return;
	page_flash(c, fill(buf, sizeof buf, T(c, "Kiosk \"%s\" is revoked: it can no longer sync."), name, NULL));
	page_redirect(c, "/venues/%s/devices", c->venue.id);
}

/* ---- /venues/{v}/audit ---- */

/* A change's detail for people: key: value, ... when it is a JSON object (times in the venue's zone), else the text. */
static void html_detail(cx *c, const char *detail)
{
	html *h = &c->h;
	json_t *j = detail ? json_loads(detail, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		html_user(h, detail && strcmp(detail, "{}") != 0 ? detail : "");
		json_decref(j);
		return;
	}
	const char *k;
	json_t *v;
	int first = 1;
	json_object_foreach(j, k, v)
	{
		html_f(h, "%s<span class=\"muted\">%s:</span> ", first ? "" : ", ", k);
		size_t kl = strlen(k);
		if (json_is_string(v)) {
			html_user(h, json_string_value(v));
		} else if (json_is_integer(v) && kl > 3 && strcmp(k + kl - 3, "_ms") == 0 && json_integer_value(v) > 0) {
			char t[17];
			html_f(h, "%s", cx_time(c, json_integer_value(v), t));
		} else {
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			html_text(h, t ? t : "");
			free(t);
		}
		first = 0;
	}
	json_decref(j);
}

typedef struct audit_ctx {
	cx *c;
	size_t n;
} audit_ctx;

static int audit_row(const hub_audit_row *r, void *ctx)
{
	audit_ctx *a = ctx;
	cx *c = a->c;
	html *h = &c->h;
	char t[17];
	if (!a->n++)
		html_f(h,
		       "<section class=\"card\"><table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
		       "<th>%s</th></tr></thead><tbody>",
		       T(c, "Time"), T(c, "Who"), T(c, "Action"), T(c, "Detail"));
	html_f(h, "<tr><td data-label=\"%s\" class=\"nowrap\">%s</td><td data-label=\"%s\">", T(c, "Time"),
	       cx_time(c, r->at_ms, t), T(c, "Who"));
	html_user(h, r->user_email && r->user_email[0] ? r->user_email : "—");
	html_f(h, "</td><td data-label=\"%s\" class=\"nowrap\"><code>%s</code></td><td data-label=\"%s\">",
	       T(c, "Action"), r->action, T(c, "Detail"));
	html_detail(c, r->detail);
	html_f(h, "</td></tr>");
	return 0;
}

static void page_audit(cx *c)
{
	html *h = &c->h;
	page_begin(c, T(c, "Changes"), "audit");
	html_f(h, "<h1>%s</h1><p class=\"sub\">%s</p>", T(c, "Changes made in the console"),
	       T(c, "Who changed what in this venue, newest first. Check-ins and kiosk actions are in the hub's exports."));
	audit_ctx a = {c, 0};
	hub_err e = c->st->ops->audit_each(c->st, c->venue.id, AUDIT_SHOWN, audit_row, &a);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (a.n)
		html_f(h, "</tbody></table></section>");
	else
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "Nothing has been changed in the console yet."));
	if (a.n >= AUDIT_SHOWN)
		html_f(h, "<p class=\"muted\">%s</p>", T(c, "Showing the newest 200 changes."));
	page_end(c);
}

const console_route console_routes_venues[] = {
    {"GET", "/venues", HUB_ROLE_STAFF, page_venues},
    {"GET", "/venues/{v}", HUB_ROLE_STAFF, page_venue},
    {"GET", "/venues/{v}/devices", HUB_ROLE_ORGANIZER, page_devices},
    {"POST", "/venues/{v}/devices/code", HUB_ROLE_ORGANIZER, page_devices_code},
    {"POST", "/venues/{v}/devices/{id}/revoke", HUB_ROLE_ORGANIZER, page_device_revoke},
    {"GET", "/venues/{v}/audit", HUB_ROLE_ORGANIZER, page_audit},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
