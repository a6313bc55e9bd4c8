/*
 * links — the rules for group links: what a valid link is, when it expires,
 * which links a screen shows, and the member's referral address.
 *
 * Nothing here touches SQLite or SDL; the links come from the caller (the
 * kiosk's store_links_load(), the hub's tables) and so does the time, so
 * every rule is tested with any clock. Both programs use these rules.
 */
#ifndef TINGZI_LINKS_H
#define TINGZI_LINKS_H

#include "sync/record.h"

#include <stddef.h>
#include <stdint.h>

#define LINKS_MAX       64                       /* links a screen considers */
#define LINKS_URL_MAX   1024                     /* bytes */
#define LINKS_WARN_MS   (48LL * 3600 * 1000)     /* "expires soon" */
#define LINKS_WEEK_MS   (7LL * 24 * 3600 * 1000) /* WeChat group codes, Discord invites */
#define LINKS_REF_PARAM "ref"

typedef enum link_state {
	LINK_LIVE = 0, /* shown */
	LINK_EXPIRING, /* shown, and flagged: expires within 48 hours */
	LINK_EXPIRED,  /* never shown to members */
} link_state;

/*
 * Check a URL: http:// or https://, a host, at most 1024 bytes, valid UTF-8,
 * no spaces or control characters. Returns 0, or -1 with a sentence for a
 * person in why.
 */
int links_check_url(const char *url, char *why, size_t len);
/* 1 when p is one of wechat, line, telegram, discord, url. */
int links_platform_valid(const char *p);
/* The platform a URL's host belongs to ("url" when none is known). */
const char *links_guess_platform(const char *url);
/* The platform's name for people ("WeChat", "LINE", ..., "Web"). */
const char *links_platform_name(const char *p);
/*
 * The longest a link of this platform lives, in ms (7 days for WeChat group
 * codes and Discord invites), or 0 when there is no such limit.
 */
int64_t links_max_life_ms(const char *platform);
/*
 * Decide a new link's expiry from the --expires text (NULL: none given):
 * "YYYY-MM-DD HH:MM" local time, or "+N" followed by d, h or m from now.
 * A WeChat or Discord link without one expires 7 days from now, and one
 * past 7 days is refused. Returns 0 with *expires_ms (0: never), or -1 with
 * a sentence in why.
 */
int links_parse_expiry(const char *text, const char *platform, int64_t now_ms, int64_t *expires_ms, char *why,
		       size_t len);
/*
 * The same, with the absolute form read by parse_local (text, ctx) -> Unix
 * ms or -1: the hub reads it in the venue's zone, not the server's.
 */
int links_parse_expiry_with(const char *text, const char *platform, int64_t now_ms,
			    int64_t (*parse_local)(const char *text, void *ctx), void *ctx, int64_t *expires_ms,
			    char *why, size_t len);

link_state links_state(const store_link *l, int64_t now_ms);

/* Links loaded from the store at one time. */
typedef struct link_set {
	store_link l[LINKS_MAX];
	size_t n;
} link_set;

/*
 * The links to show for an event (event_id 0: no event running) at now_ms,
 * best first: the event's own links, then the venue default, then the other
 * venue-wide links. Expired links and other events' links are left out.
 * Writes up to max pointers into set and returns how many.
 */
size_t links_applicable(const link_set *set, int64_t event_id, int64_t now_ms, const store_link **out,
			size_t max);
/*
 * Whether a welcome screen carries the group's join QR: for a first visit
 * (visit_no 1) or a walk-in (method "walkin"), when applicable links
 * (what links_applicable() found for the event checked into, at that
 * moment) is not 0. The kiosk's welcome draws the QR by this rule and the
 * check-in records it by this rule (flag bit 1 on the wire), so what the
 * hub counts as "shown a join QR" is what the member saw.
 */
int links_welcome_join(int visit_no, const char *method, size_t applicable);
/*
 * The member's personal invite address: base with ref=CODE added to its
 * query (percent-encoded, before any #fragment). Returns 0, or -1 when it
 * would not fit in len or exceed LINKS_URL_MAX.
 */
int links_referral_url(const char *base, const char *ref, char *out, size_t len);

#endif
