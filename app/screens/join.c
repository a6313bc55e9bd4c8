/*
 * join — the community's group links as QR codes: the join screen a member
 * opens from home, the display-only screen of `tingzi show-qr`, and the QR
 * panel the welcome screen uses for a newcomer or a referral.
 *
 * Which links are shown is decided by links_applicable() at the time of
 * drawing: an expired link is never drawn, even if it expired while on
 * screen. Several links take turns every JOIN_ROTATE_MS and can be swiped or
 * stepped with the arrows. The links are read from the store again every
 * JOIN_RELOAD_MS, so one added from the command line shows up by itself.
 */
#include "sync/log.h"
#include "app/screens/common.h"
#include "sync/clock.h"

#include <stdio.h>
#include <string.h>

static const char *scan_hint(const char *platform)
{
	if (strcmp(platform, "wechat") == 0)
		return _("Scan in WeChat");
	if (strcmp(platform, "line") == 0)
		return _("Scan with LINE or your phone's camera");
	return _("Scan with your phone's camera");
}

int screen_qr_panel(kiosk *k, SDL_Rect area, const char *url, const char *caption, const char *sub,
		    int64_t link_id, const char *kind)
{
	int u = ui_unit(k->w, k->h);
	int cap_px = u * 3 / 2, sub_px = u;
	int cw, ch, sw, sh;
	ui_text_size(k->text, caption, cap_px, &cw, &ch);
	ui_text_size(k->text, sub && sub[0] ? sub : " ", sub_px, &sw, &sh);
	SDL_Rect code, text;
	int side_by_side = area.w >= area.h * 3 / 2;
	if (side_by_side) {
		int s = area.h < area.w * 3 / 5 ? area.h : area.w * 3 / 5;
		code = (SDL_Rect){area.x, area.y + (area.h - s) / 2, s, s};
		text = (SDL_Rect){area.x + s + u, area.y, area.w - s - u, area.h};
	} else {
		int th = ch + sh + u;
		int s = area.h - th < area.w ? area.h - th : area.w;
		code = (SDL_Rect){area.x + (area.w - s) / 2, area.y, s, s};
		text = (SDL_Rect){area.x, area.y + s + u / 2, area.w, th};
	}
	SDL_Rect drawn;
	qr_plan plan;
	int rc = qr_cache_draw(k->qr, url, code, &drawn, &plan);
	if (rc != 0) {
		ui_text_draw(k->text, _("This link is too long for a QR code on this screen."), u,
			     ui_rgb(UI_TEXT), code.x + code.w / 2, code.y + code.h / 2 - u, UI_ALIGN_CENTER,
			     code.w);
		if (k->shown_link != link_id) {
			k->shown_link = link_id;
			log_event("qr.too_large",
				  json_pack("{s:I,s:s,s:I,s:i,s:i}", "link", (json_int_t)link_id, "kind",
					    kind, "bytes", (json_int_t)strlen(url), "space", code.w, "px",
					    plan.px));
		}
	} else if (k->shown_link != link_id) {
		k->shown_link = link_id;
		log_event("qr.shown",
			  json_pack("{s:I,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i}", "link", (json_int_t)link_id,
				    "kind", kind, "level", plan.level == 'Q' ? "Q" : "M", "version",
				    plan.version, "px", plan.px, "quiet", plan.quiet, "x", drawn.x, "y",
				    drawn.y, "side", drawn.w));
	}
	if (side_by_side) {
		int y = text.y + (text.h - ch - sh - u) / 2;
		ui_text_draw(k->text, caption, cap_px, ui_rgb(UI_TEXT), text.x, y, UI_ALIGN_LEFT, text.w);
		if (sub)
			ui_text_draw(k->text, sub, sub_px, ui_rgb(UI_MUTED), text.x, y + ch + u,
				     UI_ALIGN_LEFT, text.w);
	} else {
		ui_text_draw(k->text, caption, cap_px, ui_rgb(UI_TEXT), text.x + text.w / 2, text.y,
			     UI_ALIGN_CENTER, text.w);
		if (sub)
			ui_text_draw(k->text, sub, sub_px, ui_rgb(UI_MUTED), text.x + text.w / 2,
				     text.y + ch + u / 4, UI_ALIGN_CENTER, text.w);
	}
	return rc;
}

/* The join screen, and the whole of show-qr's window. */
void screen_join_draw(kiosk *k)
{
	int u = ui_unit(k->w, k->h), m = screen_margin(k);
	SDL_Rect body;
	if (k->show_qr) {
		int tw, th;
		ui_text_size(k->text, k->venue, u * 3 / 2, &tw, &th);
		ui_text_draw(k->text, k->venue, u * 3 / 2, ui_rgb(UI_TEXT), k->w / 2, m, UI_ALIGN_CENTER,
			     k->w - 2 * m);
		body = (SDL_Rect){m, m + th + u, k->w - 2 * m, k->h - 2 * m - th - u};
	} else {
		body = screen_header(k, _("Join our group"));
	}
	const store_link *l[LINKS_MAX];
	size_t n = kiosk_links_now(k, l, LINKS_MAX);
	if (n == 0) {
		ui_text_draw(k->text, _("No group link is set up yet. Please ask staff."), u * 3 / 2,
			     ui_rgb(UI_MUTED), k->w / 2, body.y + body.h / 2 - u, UI_ALIGN_CENTER, body.w);
		if (k->shown_link != -1) {
			k->shown_link = -1;
			log_event("qr.none", NULL);
		}
		return;
	}
	if (k->join_index >= n)
		k->join_index = 0;
	const store_link *link = l[k->join_index];
	if (n > 1) {
		/* the page dots and, for members, arrows to step through */
		int bh = ui_target(u * 2);
		SDL_Rect row = {body.x, body.y + body.h - bh, body.w, bh};
		body.h -= bh + u / 2;
		char page[48];
		snprintf(page, sizeof page, "%zu / %zu", k->join_index + 1, n);
		ui_text_draw(k->text, page, u, ui_rgb(UI_MUTED), row.x + row.w / 2,
			     row.y + (bh - u * 3 / 2) / 2, UI_ALIGN_CENTER, 0);
		if (!k->show_qr) {
			int bw = ui_target(u * 4);
			SDL_Rect prev = {row.x + row.w / 2 - u * 3 - bw, row.y, bw, bh};
			SDL_Rect next = {row.x + row.w / 2 + u * 3, row.y, bw, bh};
			ui_button(k->ren, k->text, prev, UI_KEY, "‹", u * 3 / 2);
			kiosk_button(k, prev, ACT_NEXT_LINK, -1);
			ui_button(k->ren, k->text, next, UI_KEY, "›", u * 3 / 2);
			kiosk_button(k, next, ACT_NEXT_LINK, 1);
		}
	}
	char sub[160];
	snprintf(sub, sizeof sub, "%s · %s", links_platform_name(link->platform), scan_hint(link->platform));
	/* a hub link's live code never goes stale: it leads to whichever invite is valid now */
	const char *url = link->live_url[0] ? link->live_url : link->url;
	screen_qr_panel(k, body, url, link->label, sub, link->id, "join");
}
