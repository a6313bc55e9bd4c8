/*
 * console_links — a venue's group links, its live codes, and posters of them.
 *
 * A live code is the hub's address /j/SLUG: a phone that scans it is sent to
 * the first link of that slug (oldest first) that has neither expired nor
 * reached its cap. The page shows where it leads now, worked out from the
 * links with the store's rule (sq_live) but without asking the store's live
 * operation, which counts a redirect each time it answers.
 *
 * A link is added with the rules `tingzi-hub links add` applies (sync/links.h):
 * an http(s) URL of at most 1024 bytes, a known platform or one guessed from
 * the host, WeChat group codes and Discord invites expiring within 7 days
 * (7 days when no expiry is given), a cap of 1 to 100000, a slug of 1 to 32
 * letters, digits, - or _. One more rule here: an organizer may not put a
 * link under a slug another venue uses, which would take over that venue's
 * printed codes.
 */
#include "sync/hub/console/console_impl.h"
#include "sync/hub/console/qr_out.h"
#include "sync/check.h"
#include "sync/links.h"
#include "sync/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKS_SHOWN	200 /* current links on the page */
#define REMOVED_SHOWN	50  /* removed ones under them */
#define CAP_MAX		100000
#define SLUG_MAX	32
#define POSTER_LINE_MAX 200 /* bytes of the poster's line */
#define TARGET_SHOWN	36  /* characters of a target shown in the table */

static const char slug_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

/* ---- text with values (see console_venues.c) ---- */

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

static int slug_valid(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= SLUG_MAX && strspn(s, slug_chars) == n;
}

static const char *platform_label(const cx *c, const char *platform)
{
	/* the names are the platforms' own, but for the plain web */
	return T(c, links_platform_name(platform));
}

/* ---- the venue's links ---- */

typedef struct link_list {
	hub_link *l; /* newest first, as the store gives them */
	size_t n, cap;
	int oom;
} link_list;

static int link_take(const hub_link *l, void *ctx)
{
	link_list *ll = ctx;
	ll->oom = cx_append((void **)&ll->l, &ll->n, &ll->cap, l, sizeof *l) != 0;
	return ll->oom;
}

static hub_err links_load(cx *c, const char *venue_id, link_list *ll)
{
	memset(ll, 0, sizeof *ll);
	hub_err e = c->st->ops->links_each(c->st, venue_id, link_take, ll);
	return e == HUB_OK && ll->oom ? HUB_ERR : e;
}

/* 1 when the link is one a live code may send a phone to now (sq_live's test). */
static int link_valid_now(const hub_link *l, int64_t now)
{
	return !l->removed && (l->expires_ms == 0 || l->expires_ms > now) && (l->cap == 0 || l->redirects < l->cap);
}

/*
 * The link /j/slug leads to now, or NULL: the first valid one in the order
 * the store's live operation reads them (created_ms, then the order made),
 * which is the list newest-first read backwards.
 */
static const hub_link *live_target(const link_list *ll, const char *slug, int64_t now)
{
	const hub_link *best = NULL;
	for (size_t i = ll->n; i-- > 0;) {
		const hub_link *l = &ll->l[i];
		if (strcmp(l->slug, slug) != 0 || !link_valid_now(l, now))
			continue;
		if (!best || l->created_ms < best->created_ms)
			best = l;
	}
	return best;
}

/* 1 when the venue's live code or one of its links uses slug. */
static int slug_ours(const cx *c, const link_list *ll, const char *slug)
{
	if (strcmp(slug, c->venue.slug) == 0)
		return 1;
	for (size_t i = 0; i < ll->n; i++)
		if (strcmp(ll->l[i].slug, slug) == 0)
			return 1;
	return 0;
}

static void live_url(cx *c, const char *slug, char *out, size_t len)
{
	char base[600];
	cx_public_url(c, base, sizeof base);
	snprintf(out, len, "%s/j/%s", base, slug);
}

/* A URL for a table cell: without its scheme, at most TARGET_SHOWN characters (whole ones). */
static void short_url(const char *url, char *out, size_t len)
{
	const char *p = url;
	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	size_t o = 0, chars = 0, n = strlen(p);
	while (n && o + 5 < len) {
		uint32_t cp;
		size_t k = utf8_next(p, n, &cp);
		if (chars == TARGET_SHOWN || o + k + 4 >= len) {
			memcpy(out + o, "…", 3);
			o += 3;
			break;
		}
		memcpy(out + o, p, k);
		o += k;
		p += k;
		n -= k;
		chars++;
	}
	out[o] = 0;
}

/* ---- the links page ---- */

typedef struct add_form {
	const char *url, *label, *platform, *expires, *cap, *slug;
	int is_default;
} add_form;

static void live_codes_section(cx *c, const link_list *ll)
{
	html *h = &c->h;
	int64_t now = c->rq->now_ms;
	html_f(h, "<section class=\"card\"><h2>%s</h2><p class=\"muted\">%s</p>", T(c, "Live codes"),
	       T(c, "A live code stays the same on every poster; it leads to the oldest of its links that has not "
		    "expired or filled up. Add the next link before the current one runs out."));
	html_f(h, "<table class=\"data\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th></th></tr></thead><tbody>",
	       T(c, "Live code"), T(c, "Leads to now"), T(c, "Redirects"));
	/* the venue's own code first, then every other slug its links use, each once */
	const char *seen[LINKS_SHOWN + 1];
	size_t nseen = 0;
	for (size_t i = 0; i <= ll->n && nseen < LINKS_SHOWN + 1; i++) {
		const char *slug = i == 0 ? c->venue.slug : ll->l[ll->n - i].slug;
		int dup = 0;
		for (size_t k = 0; k < nseen && !dup; k++)
			dup = strcmp(seen[k], slug) == 0;
		if (dup)
			continue;
		seen[nseen++] = slug;
		char url[700], t[17], shown[200], n[24];
		live_url(c, slug, url, sizeof url);
		long long total = 0;
		for (size_t k = 0; k < ll->n; k++)
			if (strcmp(ll->l[k].slug, slug) == 0)
				total += ll->l[k].redirects;
		const hub_link *to = live_target(ll, slug, now);
		html_f(h, "<tr><td data-label=\"%s\"><a class=\"mono\" href=\"%s\">%s</a>", T(c, "Live code"), url, url);
		if (i == 0)
			html_f(h, " <span class=\"badge\">%s</span>", T(c, "the venue's"));
		html_f(h, "</td><td data-label=\"%s\">", T(c, "Leads to now"));
		if (to) {
			short_url(to->url, shown, sizeof shown);
			html_f(h, "<a href=\"%s\" title=\"%s\" rel=\"noreferrer\">", to->url, to->url);
			html_user(h, shown);
			html_f(h, "</a><br><span class=\"muted\">");
			html_user(h, to->label);
			if (to->expires_ms) {
				html_f(h, " · ");
				say(h, T(c, "until %s"), cx_time(c, to->expires_ms, t), NULL);
			}
			html_f(h, "</span>");
		} else {
			html_f(h, "<span class=\"badge bad\">%s</span> <span class=\"muted\">%s</span>",
			       T(c, "no valid link"),
			       T(c, "A phone that scans it now gets a page asking for a new code."));
		}
		html_f(h, "</td><td data-label=\"%s\" class=\"num\">%s</td>", T(c, "Redirects"),
		       num(n, sizeof n, total));
		html_f(h, "<td class=\"actions\"><a href=\"/venues/%s/poster?slug=%s\">%s</a></td></tr>", c->venue.id,
		       slug, T(c, "Poster"));
	}
	html_f(h, "</tbody></table></section>");
}

static void link_row(cx *c, const hub_link *l)
{
	html *h = &c->h;
	int64_t now = c->rq->now_ms;
	char t[17], shown[200], a[24], b[24], buf[64];
	html_f(h, "<tr%s><td data-label=\"%s\">%s</td><td data-label=\"%s\">", l->removed ? " class=\"dim\"" : "",
	       T(c, "Platform"), platform_label(c, l->platform), T(c, "Label"));
	html_user(h, l->label);
	if (l->is_default && !l->removed)
		html_f(h, " <span class=\"badge ok\">%s</span>", T(c, "default"));
	if (l->event_uid[0])
		html_f(h, " <span class=\"badge\">%s</span>", T(c, "one event"));
	/* most links are under the venue's own code: only the others say which */
	if (strcmp(l->slug, c->venue.slug) != 0)
		html_f(h, "<br><span class=\"muted\">%s <code>/j/%s</code></span>", T(c, "live code"), l->slug);
	html_f(h, "</td>");
	short_url(l->url, shown, sizeof shown);
	html_f(h, "<td data-label=\"%s\"><a href=\"%s\" title=\"%s\" rel=\"noreferrer\">", T(c, "Target"), l->url,
	       l->url);
	html_user(h, shown);
	html_f(h, "</a></td><td data-label=\"%s\">", T(c, "Expires"));
	if (!l->expires_ms) {
		html_f(h, "<span class=\"muted\">%s</span>", T(c, "does not expire"));
	} else {
		html_f(h, "<span class=\"nowrap\">%s</span>", cx_time(c, l->expires_ms, t));
		if (l->expires_ms <= now)
			html_f(h, " <span class=\"badge bad\">%s</span>", T(c, "expired"));
		else if (l->expires_ms - now < LINKS_WARN_MS)
			html_f(h, " <span class=\"badge warn\">%s</span>",
			       fill(buf, sizeof buf, T(c, "expires in %s h"),
				    num(a, sizeof a, (l->expires_ms - now + 3599999) / 3600000), NULL));
	}
	html_f(h, "</td><td data-label=\"%s\" class=\"num\">", T(c, "Redirects"));
	if (l->cap)
		html_f(h, "%s / %s", num(a, sizeof a, l->redirects), num(b, sizeof b, l->cap));
	else
		html_f(h, "%s", num(a, sizeof a, l->redirects));
	if (l->cap && l->redirects >= l->cap)
		html_f(h, " <span class=\"badge bad\">%s</span>", T(c, "full"));
	html_f(h, "</td><td class=\"actions\">");
	if (!l->removed) {
		if (!l->expires_ms || l->expires_ms > now)
			html_f(h,
			       "<form class=\"inline\" method=\"post\" action=\"/venues/%s/links/%s/expire\">"
			       "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"link\">%s</button></form>",
			       c->venue.id, l->uid, c->csrf, T(c, "Expire now"));
		html_f(h,
		       "<form class=\"inline\" method=\"post\" action=\"/venues/%s/links/%s/remove\">"
		       "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"danger\">%s</button></form>",
		       c->venue.id, l->uid, c->csrf, T(c, "Remove"));
	} else {
		html_f(h, "<span class=\"badge\">%s</span>", T(c, "removed"));
	}
	html_f(h, "</td></tr>");
}

static void links_table_head(cx *c)
{
	static const char *const cols[] = {N_("Platform"), N_("Label"), N_("Target"), N_("Expires"), N_("Redirects")};
	html_f(&c->h, "<table class=\"data\"><thead><tr>");
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		html_f(&c->h, "<th>%s</th>", T(c, cols[i]));
	html_f(&c->h, "<th></th></tr></thead><tbody>");
}

static void add_section(cx *c, const add_form *f, const char *error)
{
	html *h = &c->h;
	static const char *const platforms[] = {"wechat", "line", "telegram", "discord", "url"};
	char action[96], exp[40];
	snprintf(action, sizeof action, "/venues/%s/links", c->venue.id);
	/* a datetime-local input shows only the T form */
	snprintf(exp, sizeof exp, "%s", f->expires);
	if (strlen(exp) == 16 && exp[10] == ' ')
		exp[10] = 'T';
	html_f(h, "<section class=\"card\" id=\"add\"><h2>%s</h2>", T(c, "Add a group link"));
	if (error)
		html_f(h, "<div class=\"alert bad\" role=\"alert\">%s</div>", error);
	form_open(c, action, 0);
	html_f(h,
	       "<div class=\"field\"><label for=\"url\">%s</label><input id=\"url\" name=\"url\" type=\"url\" "
	       "required maxlength=\"1024\" value=\"%s\" placeholder=\"https://\" autocomplete=\"off\"></div>",
	       T(c, "Group link (the address the group's QR code or invite holds)"), f->url);
	html_f(h,
	       "<div class=\"row\"><div class=\"field\"><label for=\"label\">%s</label><input id=\"label\" "
	       "name=\"label\" maxlength=\"159\" value=\"%s\"></div>",
	       T(c, "Label (what members see; empty: the platform's name)"), f->label);
	html_f(h, "<div class=\"field\"><label for=\"platform\">%s</label><select id=\"platform\" name=\"platform\">",
	       T(c, "Platform"));
	html_f(h, "<option value=\"\">%s</option>", T(c, "From the address"));
	for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
		html_f(h, "<option value=\"%s\"%s>%s</option>", platforms[i],
		       strcmp(f->platform, platforms[i]) == 0 ? " selected" : "", platform_label(c, platforms[i]));
	html_f(h, "</select></div></div>");
	html_f(h,
	       "<div class=\"row\"><div class=\"field\"><label for=\"expires\">%s</label><input id=\"expires\" "
	       "name=\"expires\" type=\"datetime-local\" value=\"%s\"><span class=\"muted\">%s</span></div>",
	       T(c, "Expires (venue time, optional)"), exp,
	       T(c, "WeChat group codes and Discord invites last 7 days: left empty, they expire 7 days from now."));
	html_f(h,
	       "<div class=\"field\"><label for=\"cap\">%s</label><input id=\"cap\" name=\"cap\" type=\"number\" "
	       "min=\"1\" max=\"%d\" inputmode=\"numeric\" value=\"%s\"><span class=\"muted\">%s</span></div>",
	       T(c, "Cap (optional)"), CAP_MAX, f->cap,
	       T(c, "After this many scans the live code moves on to the next link (a WeChat group holds 200 "
		    "by QR code)."));
	html_f(h,
	       "<div class=\"field\"><label for=\"slug\">%s</label><input id=\"slug\" name=\"slug\" maxlength=\"32\" "
	       "pattern=\"[A-Za-z0-9_\\-]{1,32}\" value=\"%s\" placeholder=\"%s\"><span class=\"muted\">%s</span></div>"
	       "</div>",
	       T(c, "Live code (optional)"), f->slug, c->venue.slug,
	       T(c, "Empty: the venue's own live code. Another name makes a separate code, for its own poster."));
	html_f(h,
	       "<div class=\"check\"><input id=\"default\" name=\"default\" type=\"checkbox\" value=\"1\"%s>"
	       "<label for=\"default\">%s</label></div>",
	       f->is_default ? " checked" : "", T(c, "The venue's default link (kiosks show it first)"));
	html_f(h, "<button class=\"primary\">%s</button>", T(c, "Add the link"));
	form_close(c);
	html_f(h, "</section>");
}

static void links_page(cx *c, const add_form *f, const char *error, unsigned status)
{
	html *h = &c->h;
	link_list ll;
	hub_err e = links_load(c, c->venue.id, &ll);
	if (e != HUB_OK) {
		free(ll.l);
		page_store_failed(c, e);
		return;
	}
	if (status)
		c->out->status = status;
	page_begin(c, T(c, "Group links"), "links");
	html_f(h, "<h1>%s</h1><p class=\"sub\">%s</p>", T(c, "Group links"),
	       T(c, "The groups members join: kiosks show them after a check-in, and the live codes lead to them."));
	if (error) /* the form is further down: say so at the top too */
		html_f(h, "<div class=\"alert bad\"><a href=\"#add\">%s</a></div>", T(c, "The link was not added."));
	live_codes_section(c, &ll);

	size_t current = 0, removed = 0;
	for (size_t i = 0; i < ll.n; i++)
		ll.l[i].removed ? removed++ : current++;
	html_f(h, "<section class=\"card\"><h2>%s</h2>", T(c, "Links"));
	if (!current) {
		html_f(h, "<p class=\"empty\">%s</p>", T(c, "No group link yet. Add one below."));
	} else {
		links_table_head(c);
		size_t shown = 0;
		for (size_t i = 0; i < ll.n && shown < LINKS_SHOWN; i++)
			if (!ll.l[i].removed) {
				link_row(c, &ll.l[i]);
				shown++;
			}
		html_f(h, "</tbody></table>");
		if (current > shown) {
			char a[24], b[24];
			html_f(h, "<p class=\"muted\">");
			say(h, T(c, "Showing the newest %s of %s links."), num(a, sizeof a, (long long)shown),
			    num(b, sizeof b, (long long)current));
			html_f(h, "</p>");
		}
	}
	html_f(h, "</section>");
	add_section(c, f, error);
	if (removed) {
		html_f(h, "<section class=\"card\"><h2>%s</h2>", T(c, "Removed links"));
		links_table_head(c);
		size_t shown = 0;
		for (size_t i = 0; i < ll.n && shown < REMOVED_SHOWN; i++)
			if (ll.l[i].removed) {
				link_row(c, &ll.l[i]);
				shown++;
			}
		html_f(h, "</tbody></table>");
		if (removed > shown) {
			char a[24], b[24];
			html_f(h, "<p class=\"muted\">");
			say(h, T(c, "Showing the newest %s of %s links."), num(a, sizeof a, (long long)shown),
			    num(b, sizeof b, (long long)removed));
			html_f(h, "</p>");
		}
		html_f(h, "</section>");
	}
	page_end(c);
	free(ll.l);
}

static void page_links(cx *c)
{
	add_form f = {"", "", "", "", "", "", 0};
	links_page(c, &f, NULL, 0);
}

static int64_t venue_local(const char *text, void *tz)
{
	return hub_parse_local(tz, text);
}

static void page_links_add(cx *c)
{
	char url[FORM_MAX_VALUE], label[FORM_MAX_VALUE], platform[32], expires[64], cap_text[32], slug[64];
	add_form f = {
	    form_trimmed(&c->form, "url", url, sizeof url),
	    form_trimmed(&c->form, "label", label, sizeof label),
	    form_trimmed(&c->form, "platform", platform, sizeof platform),
	    form_trimmed(&c->form, "expires", expires, sizeof expires),
	    form_trimmed(&c->form, "cap", cap_text, sizeof cap_text),
	    form_trimmed(&c->form, "slug", slug, sizeof slug),
	    form_get(&c->form, "default") != NULL,
	};
	char why[256];
	int64_t now = c->rq->now_ms, expires_ms = 0, cap = 0;
	if (links_check_url(f.url, why, sizeof why) != 0) {
		links_page(c, &f,
			   T(c, "The group link must be a whole address starting with https:// or http://, without "
				"spaces, at most 1024 bytes."),
			   400);
		return;
	}
	const char *plat = f.platform[0] ? f.platform : links_guess_platform(f.url);
	if (!links_platform_valid(plat)) {
		links_page(c, &f, T(c, "Choose a platform from the list."), 400);
		return;
	}
	if (links_parse_expiry_with(f.expires[0] ? f.expires : NULL, plat, now, venue_local, c->venue.tz, &expires_ms,
				    why, sizeof why) != 0) {
		const char *msg = strstr(why, "past")	 ? T(c, "The expiry is in the past.")
				  : strstr(why, "7 days") ? T(c, "A WeChat group code or Discord invite lives at most 7 "
								 "days: choose an expiry within 7 days from now.")
							  : T(c, "Write the expiry as YYYY-MM-DD HH:MM in the venue's "
								 "time, or leave it empty.");
		links_page(c, &f, msg, 400);
		return;
	}
	if (f.cap[0]) {
		char *end;
		cap = strtoll(f.cap, &end, 10);
		if (end == f.cap || *end || cap < 1 || cap > CAP_MAX) {
			links_page(c, &f, T(c, "The cap must be a whole number from 1 to 100000, or empty."), 400);
			return;
		}
	}
	const char *use_slug = f.slug[0] ? f.slug : c->venue.slug;
	if (!slug_valid(use_slug)) {
		links_page(c, &f, T(c, "A live code's name is 1 to 32 letters, digits, - or _."), 400);
		return;
	}
	if (f.label[0] && !check_text(f.label, 159, 0)) {
		links_page(c, &f, T(c, "The label must be at most 159 bytes of text on one line."), 400);
		return;
	}
	hub_link_new l = {.venue_id = c->venue.id,
			  .platform = plat,
			  .label = f.label[0] ? f.label : links_platform_name(plat),
			  .url = f.url,
			  .slug = use_slug,
			  .expires_ms = expires_ms,
			  .cap = cap,
			  .is_default = f.is_default};
	char uid[HUB_ID_MAX];
	hub_err e = c->st->ops->link_add(c->st, &l, now, uid);
	if (e == HUB_INVALID) {
		links_page(c, &f, T(c, "The hub refused this link. Check the address and the other fields."), 400);
		return;
	}
	if (e == HUB_EXISTS) {
		links_page(c, &f, T(c, "Another venue uses that live code. Choose another name."), 409);
		return;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "link.add",
			  json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "link", uid, "platform", plat, "label",
				    l.label, "url", l.url, "slug", use_slug, "expires_ms", (json_int_t)expires_ms,
				    "cap", (json_int_t)cap, "default", f.is_default)) != 0)
		return;
	char msg[200], path[64];
	snprintf(path, sizeof path, "/j/%s", use_slug);
	page_flash(c, fill(msg, sizeof msg, T(c, "Link added to the live code %s."), path, NULL));
	page_redirect(c, "/venues/%s/links", c->venue.id);
}

/* The {id} link of this venue (not removed): 0, or -1 when the page has failed. */
static int link_of_venue(cx *c, hub_link *l)
{
	hub_err e = c->st->ops->link_get(c->st, c->id, l);
	if (e == HUB_NOT_FOUND || (e == HUB_OK && (strcmp(l->venue_id, c->venue.id) != 0 || l->removed))) {
		page_fail(c, 404, T(c, "There is no such group link in this venue."));
		return -1;
	}
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return -1;
	}
	return 0;
}

static void page_link_expire(cx *c)
{
	hub_link l;
	if (link_of_venue(c, &l) != 0)
		return;
	char msg[400];
	if (l.expires_ms && l.expires_ms <= c->rq->now_ms) {
		page_flash(c, fill(msg, sizeof msg, T(c, "\"%s\" had expired already."), l.label, NULL));
		page_redirect(c, "/venues/%s/links", c->venue.id);
		return;
	}
	hub_err e = c->st->ops->link_expire(c->st, l.uid, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "link.expire", json_pack("{s:s, s:s, s:s}", "link", l.uid, "label", l.label, "url", l.url)) !=
	    0)
		return;
	page_flash(c, fill(msg, sizeof msg, T(c, "\"%s\" has expired: kiosks stop showing it at their next sync."),
			   l.label, NULL));
	page_redirect(c, "/venues/%s/links", c->venue.id);
}

static void page_link_remove(cx *c)
{
	hub_link l;
	if (link_of_venue(c, &l) != 0)
		return;
	hub_err e = c->st->ops->link_remove(c->st, l.uid, c->rq->now_ms);
	if (e != HUB_OK) {
		page_store_failed(c, e);
		return;
	}
	if (console_audit(c, "link.remove", json_pack("{s:s, s:s, s:s}", "link", l.uid, "label", l.label, "url", l.url)) !=
	    0)
		return;
	char msg[400];
	page_flash(c, fill(msg, sizeof msg, T(c, "\"%s\" is removed: kiosks drop it at their next sync."), l.label, NULL));
	page_redirect(c, "/venues/%s/links", c->venue.id);
}

/* ---- posters ---- */

typedef struct poster {
	char slug[HUB_SLUG_MAX];
	char url[700];
	char line[POSTER_LINE_MAX + 1];
} poster;

/* The poster the query asks for: its slug (one of this venue's) and its line. 0, or -1 (page failed). */
static int poster_args(cx *c, poster *p)
{
	char slug[64], line[FORM_MAX_VALUE];
	form_trimmed(&c->form, "slug", slug, sizeof slug);
	form_trimmed(&c->form, "line", line, sizeof line);
	const char *s = slug[0] ? slug : c->venue.slug;
	if (!slug_valid(s)) {
		page_fail(c, 404, T(c, "This venue has no such live code."));
		return -1;
	}
	memcpy(p->slug, s, strlen(s) + 1); /* at most 32 bytes: slug_valid */
	if (strcmp(p->slug, c->venue.slug) != 0) {
		link_list ll;
		hub_err e = links_load(c, c->venue.id, &ll);
		int ours = e == HUB_OK && slug_ours(c, &ll, p->slug);
		free(ll.l);
		if (e != HUB_OK) {
			page_store_failed(c, e);
			return -1;
		}
		if (!ours) {
			page_fail(c, 404, T(c, "This venue has no such live code."));
			return -1;
		}
	}
	if (line[0] && !check_text(line, POSTER_LINE_MAX, 0)) {
		page_fail(c, 400, T(c, "The poster's line must be one line of text, at most 200 bytes."));
		return -1;
	}
	const char *l = line[0] ? line : T(c, "Scan to join our group");
	size_t n = strnlen(l, POSTER_LINE_MAX); /* a translation is not checked for length: cut, never overrun */
	memcpy(p->line, l, n);
	p->line[n] = 0;
	live_url(c, p->slug, p->url, sizeof p->url);
	return 0;
}

static void poster_query(html *h, const poster *p, int with_line, const char *line_typed)
{
	html_f(h, "?slug=");
	html_urlpart(h, p->slug);
	if (with_line && line_typed[0]) {
		html_f(h, "&amp;line=");
		html_urlpart(h, line_typed);
	}
}

static void page_poster(cx *c)
{
	html *h = &c->h;
	poster p;
	if (poster_args(c, &p) != 0)
		return;
	char typed[FORM_MAX_VALUE];
	form_trimmed(&c->form, "line", typed, sizeof typed);
	page_begin(c, T(c, "Poster"), "links");
	html_f(h, "<div class=\"no-print\"><h1>%s</h1><p class=\"sub\">%s</p>", T(c, "Poster"),
	       T(c, "An A5 sheet with the live code. Print it with your browser (paper A5, no margins), or download "
		    "it."));
	html_f(h, "<form class=\"toolbar\" method=\"get\" action=\"/venues/%s/poster\">"
		  "<input type=\"hidden\" name=\"slug\" value=\"%s\">"
		  "<input name=\"line\" maxlength=\"200\" value=\"%s\" aria-label=\"%s\" placeholder=\"%s\">"
		  "<button>%s</button></form>",
	       c->venue.id, p.slug, typed, T(c, "The line under the code"), T(c, "Scan to join our group"),
	       T(c, "Change the line"));
	html_f(h, "<p>%s <a href=\"/venues/%s/poster.svg", T(c, "Download:"), c->venue.id);
	poster_query(h, &p, 1, typed);
	html_f(h, "\" download>poster.svg</a> · <a href=\"/venues/%s/poster.png", c->venue.id);
	poster_query(h, &p, 0, typed);
	html_f(h, "\" download>poster.png</a> <span class=\"muted\">%s</span></p></div>",
	       T(c, "(the PNG is the code alone, for your own layout)"));
	html_f(h, "<div class=\"poster\"><div class=\"poster-name\">");
	html_user(h, c->venue.name);
	html_f(h, "</div><div class=\"poster-qr\">");
	qr_svg(h, p.url, 4);
	html_f(h, "</div><div class=\"poster-line\">");
	html_user(h, p.line);
	html_f(h, "</div><div class=\"poster-url\">%s</div></div>", p.url);
	page_end(c);
}

/* ---- the poster as an SVG file ---- */

/* Width of a code point in ems, near enough to break lines: CJK and full-width forms are square. */
static double em_of(uint32_t cp)
{
	if (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
			     (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
			     (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || cp >= 0x20000))
		return 1.0;
	if (cp == ' ' || cp == 'i' || cp == 'l' || cp == 'j' || cp == '.' || cp == ',' || cp == '\'')
		return 0.3;
	if (cp >= 'A' && cp <= 'Z')
		return 0.68;
	return 0.56;
}

#define WRAP_MAX 6

typedef struct wrapped {
	size_t start[WRAP_MAX], len[WRAP_MAX];
	int n;
} wrapped;

/* Break s into lines of at most width ems, at a space when the line has one; 0, or -1 when more than max lines. */
static int wrap(const char *s, double width, int max, wrapped *w)
{
	size_t n = strlen(s), i = 0;
	w->n = 0;
	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		if (w->n == max)
			return -1;
		double em = 0;
		size_t j = i, space = 0;
		while (j < n) {
			uint32_t cp;
			size_t k = utf8_next(s + j, n - j, &cp);
			if (em + em_of(cp) > width && j > i)
				break;
			if (cp == ' ')
				space = j;
			em += em_of(cp);
			j += k;
		}
		if (j < n && space > i) /* break at the last space rather than inside a word */
			j = space;
		w->start[w->n] = i;
		w->len[w->n] = j - i;
		w->n++;
		i = j;
	}
	return 0;
}

/* A length in millimetres for an SVG attribute: at most three decimals, a point whatever the locale. */
static const char *mm(double v, char out[32])
{
	long long t = (long long)(v * 1000 + (v < 0 ? -0.5 : 0.5));
	snprintf(out, 32, "%s%lld.%03lld", t < 0 ? "-" : "", (t < 0 ? -t : t) / 1000, (t < 0 ? -t : t) % 1000);
	return out;
}

/*
 * Lines of text centred on the sheet from y (mm): the largest font of sizes
 * that keeps it within max lines, else the smallest with as many lines as
 * it takes (up to WRAP_MAX; the rest is left off). Returns where it ends.
 */
static double svg_text(html *h, const char *s, double y, const double *sizes, size_t nsizes, int max, int bold,
		       const char *colour)
{
	wrapped w = {0};
	double size = sizes[nsizes - 1];
	size_t i = 0;
	while (i < nsizes && wrap(s, 124.0 / sizes[i], max, &w) != 0)
		i++;
	if (i < nsizes)
		size = sizes[i];
	else
		wrap(s, 124.0 / size, WRAP_MAX, &w);
	for (int k = 0; k < w.n; k++) {
		char a[32], b[32];
		html_f(h, "<text x=\"74\" y=\"%s\" font-size=\"%s\" text-anchor=\"middle\" font-weight=\"%d\" fill=\"%s\">",
		       mm(y + size * (0.9 + 1.25 * k), a), mm(size, b), bold ? 700 : 400, colour);
		html_f(h, "%.*s</text>\n", (int)w.len[k], s + w.start[k]);
	}
	return y + size * 1.25 * w.n;
}

static void page_poster_svg(cx *c)
{
	poster p;
	if (poster_args(c, &p) != 0)
		return;
	html svg;
	html_init(&svg);
	int modules = 0;
	html path;
	html_init(&path);
	if (qr_path(&path, p.url, &modules) != 0) {
		html_free(&path);
		page_fail(c, 500, T(c, "The live code's address is too long for a QR code."));
		return;
	}
	/* A5 in millimetres: the name at the top, the code 110 mm square (quiet zone in it), the line, the address */
	const double qr_mm = 110.0;
	int side = modules + 2 * QR_OUT_QUIET;
	double unit = qr_mm / side;
	html_f(&svg,
	       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"148mm\" height=\"210mm\" viewBox=\"0 0 148 210\" "
	       "font-family=\"'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', "
	       "'Microsoft YaHei', sans-serif\">\n<title>%s</title>\n<rect width=\"148\" height=\"210\" fill=\"#fff\"/>\n",
	       c->venue.name);
	static const double name_sizes[] = {14, 12, 10, 8, 6.5, 5};
	static const double line_sizes[] = {8, 7, 6, 5, 4};
	double y = svg_text(&svg, c->venue.name, 12, name_sizes, sizeof name_sizes / sizeof name_sizes[0], 2, 1,
			    "#1f242b");
	/* the code below the name, 48 mm from the top when the name is short, so the sheet looks balanced */
	double qy = y + 4 > 48 ? y + 4 : 48;
	if (qy > 70)
		qy = 70;
	char a[32], b[32], u[32];
	html_f(&svg,
	       "<g transform=\"translate(%s %s) scale(%s)\" shape-rendering=\"crispEdges\">"
	       "<path fill=\"#000\" transform=\"translate(%d %d)\" d=\"",
	       mm((148 - qr_mm) / 2, a), mm(qy, b), mm(unit, u), QR_OUT_QUIET, QR_OUT_QUIET);
	size_t plen;
	char *d = html_take(&path, &plen);
	if (d)
		html_markup(&svg, d, plen);
	free(d);
	html_f(&svg, "\"/></g>\n");
	svg_text(&svg, p.line, qy + qr_mm + 2, line_sizes, sizeof line_sizes / sizeof line_sizes[0], 3, 0, "#4a525d");
	html_f(&svg,
	       "<text x=\"74\" y=\"203\" font-size=\"3.5\" text-anchor=\"middle\" fill=\"#6d6a64\" "
	       "font-family=\"'DejaVu Sans Mono', monospace\">%s</text>\n</svg>\n",
	       p.url);
	size_t len;
	char *body = html_take(&svg, &len);
	if (!body) {
		page_fail(c, 500, T(c, "The hub ran out of memory."));
		return;
	}
	char name[80];
	snprintf(name, sizeof name, "poster-%s.svg", p.slug);
	page_download(c, "image/svg+xml", name, body, len);
}

static void page_poster_png(cx *c)
{
	poster p;
	if (poster_args(c, &p) != 0)
		return;
	int w = qr_width(p.url);
	if (w < 0) {
		page_fail(c, 500, T(c, "The live code's address is too long for a QR code."));
		return;
	}
	/* print size: at least 8 px a module and 600 px across, quiet zone included */
	int side = w + 2 * QR_OUT_QUIET, px = (600 + side - 1) / side;
	if (px < 8)
		px = 8;
	unsigned char *png;
	size_t len;
	if (qr_png(p.url, px, QR_OUT_QUIET, &png, &len) != 0) {
		page_fail(c, 500, T(c, "The hub ran out of memory."));
		return;
	}
	char name[80];
	snprintf(name, sizeof name, "poster-%s.png", p.slug);
	page_download(c, "image/png", name, (char *)png, len);
}

const console_route console_routes_links[] = {
    {"GET", "/venues/{v}/links", HUB_ROLE_ORGANIZER, page_links},
    {"POST", "/venues/{v}/links", HUB_ROLE_ORGANIZER, page_links_add},
    {"POST", "/venues/{v}/links/{id}/expire", HUB_ROLE_ORGANIZER, page_link_expire},
    {"POST", "/venues/{v}/links/{id}/remove", HUB_ROLE_ORGANIZER, page_link_remove},
    {"GET", "/venues/{v}/poster", HUB_ROLE_ORGANIZER, page_poster},
    {"GET", "/venues/{v}/poster.svg", HUB_ROLE_ORGANIZER, page_poster_svg},
    {"GET", "/venues/{v}/poster.png", HUB_ROLE_ORGANIZER, page_poster_png},
    {NULL, NULL, HUB_ROLE_NONE, NULL},
};
