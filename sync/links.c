/*
 * links — the rules for group links. See links.h.
 *
 * Why these rules: a WeChat group's QR code stops working 7 days after it is
 * made, and a Discord invite lives at most 7 days unless made permanent, so a
 * link of those platforms always carries an expiry, defaulting to a week from
 * when staff add it. A member who scans an expired code lands on an error
 * page in the app, which is worse than no code at all: expired links are
 * never shown. 48 hours' warning leaves organizers a weekend to post a new
 * code.
 */
#include "sync/links.h"

#include "sync/clock.h"
#include "sync/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *id, *name;
} platforms[] = {
    {"wechat", "WeChat"}, {"line", "LINE"}, {"telegram", "Telegram"}, {"discord", "Discord"}, {"url", "Web"},
};

int links_platform_valid(const char *p)
{
	for (size_t i = 0; p && i < sizeof platforms / sizeof platforms[0]; i++)
		if (strcmp(p, platforms[i].id) == 0)
			return 1;
	return 0;
}

const char *links_platform_name(const char *p)
{
	for (size_t i = 0; p && i < sizeof platforms / sizeof platforms[0]; i++)
		if (strcmp(p, platforms[i].id) == 0)
			return platforms[i].name;
	return "Web";
}

static void say(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
}

/* Length of the scheme prefix ("https://" or "http://"), or 0. */
static size_t scheme_len(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return 8;
	if (strncasecmp(url, "http://", 7) == 0)
		return 7;
	return 0;
}

int links_check_url(const char *url, char *why, size_t len)
{
	if (!url || !url[0]) {
		say(why, len, "the URL is empty");
		return -1;
	}
	size_t n = strnlen(url, LINKS_URL_MAX + 1);
	if (n > LINKS_URL_MAX) {
		say(why, len,
		    "the URL is longer than 1024 bytes; a QR code that large cannot be scanned from "
		    "a screen");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c < 0x20 || c == 0x7f) {
			say(why, len, "the URL contains a control character (a line break or tab?)");
			return -1;
		}
		if (c == ' ') {
			say(why, len, "the URL contains a space; write it as %20");
			return -1;
		}
	}
	if (!utf8_valid(url, n)) {
		say(why, len, "the URL is not valid UTF-8 text");
		return -1;
	}
	size_t s = scheme_len(url);
	if (!s) {
		say(why, len, "the URL must start with https:// or http://");
		return -1;
	}
	const char *host = url + s;
	size_t hl = strcspn(host, "/?#");
	if (hl == 0 || host[0] == ':' || host[0] == '@') {
		say(why, len, "the URL has no host name after its scheme");
		return -1;
	}
	return 0;
}

/* 1 when the URL's host is h or ends in "." h. */
static int host_is(const char *url, const char *h)
{
	const char *host = url + scheme_len(url);
	size_t hl = strcspn(host, "/?#:"), n = strlen(h);
	const char *at = memchr(host, '@', hl);
	if (at) {
		hl -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	if (hl < n || strncasecmp(host + hl - n, h, n) != 0)
		return 0;
	return hl == n || host[hl - n - 1] == '.';
}

const char *links_guess_platform(const char *url)
{
	if (!url || !scheme_len(url))
		return "url";
	if (host_is(url, "weixin.qq.com") || host_is(url, "wechat.com") || host_is(url, "work.weixin.qq.com"))
		return "wechat";
	if (host_is(url, "line.me") || host_is(url, "lin.ee"))
		return "line";
	if (host_is(url, "t.me") || host_is(url, "telegram.me") || host_is(url, "telegram.dog"))
		return "telegram";
	if (host_is(url, "discord.gg") || host_is(url, "discord.com") || host_is(url, "discordapp.com"))
		return "discord";
	return "url";
}

int64_t links_max_life_ms(const char *platform)
{
	if (platform && (strcmp(platform, "wechat") == 0 || strcmp(platform, "discord") == 0))
		return LINKS_WEEK_MS;
	return 0;
}

/* "+N[dhm]" from now; 0 or -1. */
static int parse_relative(const char *t, int64_t now_ms, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(t + 1, &end, 10);
	if (errno || end == t + 1 || v <= 0 || v > 3650LL * 24 * 60 || end[0] == '\0' || end[1] != '\0')
		return -1;
	int64_t unit;
	switch (tolower((unsigned char)end[0])) {
	case 'd':
		unit = 24LL * 3600 * 1000;
		break;
	case 'h':
		unit = 3600LL * 1000;
		break;
	case 'm':
		unit = 60LL * 1000;
		break;
	default:
		return -1;
	}
	if (v > INT64_MAX / unit - now_ms / unit - 1)
		return -1;
	*out = now_ms + v * unit;
	return 0;
}

static int64_t machine_local(const char *text, void *ctx)
{
	int64_t t;
	return clock_parse_local(text, &t) == 0 ? t : -1;
}

int links_parse_expiry(const char *text, const char *platform, int64_t now_ms, int64_t *expires_ms, char *why,
		       size_t len)
{
	return links_parse_expiry_with(text, platform, now_ms, machine_local, NULL, expires_ms, why, len);
}

int links_parse_expiry_with(const char *text, const char *platform, int64_t now_ms,
			    int64_t (*parse_local)(const char *text, void *ctx), void *ctx, int64_t *expires_ms,
			    char *why, size_t len)
{
	int64_t life = links_max_life_ms(platform), t = 0;
	if (!text || !text[0]) {
		*expires_ms = life ? now_ms + life : 0;
		return 0;
	}
	if (strcmp(text, "never") == 0) {
		if (life) {
			say(why, len,
			    "a WeChat group code or Discord invite lives at most 7 days; give --expires");
			return -1;
		}
		*expires_ms = 0;
		return 0;
	}
	int rc = text[0] == '+' ? parse_relative(text, now_ms, &t) : (t = parse_local(text, ctx)) < 0 ? -1 : 0;
	if (rc != 0) {
		say(why, len,
		    "the expiry must be a local time like 2026-12-01 18:00, or +7d, +36h, +90m from now");
		return -1;
	}
	if (t <= now_ms) {
		say(why, len, "the expiry is in the past");
		return -1;
	}
	if (life && t > now_ms + life) {
		say(why, len,
		    "a WeChat group code or Discord invite lives at most 7 days from now; give an earlier "
		    "--expires");
		return -1;
	}
	*expires_ms = t;
	return 0;
}

link_state links_state(const store_link *l, int64_t now_ms)
{
	if (!l->expires_ms)
		return LINK_LIVE;
	if (l->expires_ms <= now_ms)
		return LINK_EXPIRED;
	return l->expires_ms - now_ms <= LINKS_WARN_MS ? LINK_EXPIRING : LINK_LIVE;
}

size_t links_applicable(const link_set *set, int64_t event_id, int64_t now_ms, const store_link **out,
			size_t max)
{
	size_t n = 0;
	/* three passes in order of preference: the event's, the default, the rest of the venue's */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < set->n && n < max; i++) {
			const store_link *l = &set->l[i];
			if (links_state(l, now_ms) == LINK_EXPIRED)
				continue;
			int take = pass == 0   ? event_id && l->event_id == event_id
				   : pass == 1 ? !l->event_id && l->is_default
					       : !l->event_id && !l->is_default;
			if (take)
				out[n++] = l;
		}
	}
	return n;
}

int links_welcome_join(int visit_no, const char *method, size_t applicable)
{
	return applicable > 0 && (visit_no == 1 || (method && strcmp(method, "walkin") == 0));
}

int links_referral_url(const char *base, const char *ref, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3 * STORE_ID_MAX + 3 * STORE_CODE_MAX];
	size_t e = 0;
	for (const unsigned char *p = (const unsigned char *)ref; *p; p++) {
		if (e + 4 > sizeof enc)
			return -1;
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			enc[e++] = (char)*p;
		} else {
			enc[e++] = '%';
			enc[e++] = hex[*p >> 4];
			enc[e++] = hex[*p & 15];
		}
	}
	enc[e] = '\0';
	if (!e)
		return -1;
	size_t hash = strcspn(base, "#");
	const char *q = memchr(base, '?', hash);
	char sep = !q ? '?' : (base[hash - 1] == '?' || base[hash - 1] == '&') ? '\0' : '&';
	int n = snprintf(out, len, "%.*s%s%s=%s%s", (int)hash, base, sep ? (char[]){sep, 0} : "",
			 LINKS_REF_PARAM, enc, base + hash);
	if (n < 0 || (size_t)n >= len || n > LINKS_URL_MAX)
		return -1;
	return 0;
}
