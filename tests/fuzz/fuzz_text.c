/*
 * fuzz_text — the checks that outside text passes before it is kept or shown:
 * UTF-8 (sync/utf8.c), URLs, platforms, expiry texts and referral links
 * (sync/links.c), staff PINs (app/staff.c), phone numbers (app/store/store_member.c,
 * the registration screen), ids and hex (app/sync/wire.c, sync/hub/hub_util.c),
 * JSON depth (sync/hub/hub_push.c) and local times (sync/hub/hub_util.c).
 *
 * The input is taken as bytes (for the UTF-8 decoder) and as a C string up to
 * its first NUL (for the rest). The decoder is checked against itself: every
 * step consumes 1 to 4 bytes and never reads past the end, text it calls valid
 * decodes without U+FFFD from a bad byte, and utf8_last_len erases exactly one
 * character of valid text.
 */
#include "sync/check.h"
#include "sync/links.h"
#include "app/screens/common.h"
#include "app/staff.h"
#include "sync/utf8.h"
#include "sync/hub/hub_push.h"
#include "sync/hub/hub_util.h"
#include "app/store/store_impl.h"
#include "app/sync/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_utf8(const char *s, size_t len)
{
	size_t i = 0, chars = 0;
	int bad = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (n < 1 || n > 4 || n > len - i || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			abort();
		if (cp == 0 || (cp == 0xfffd && n == 1 && (unsigned char)s[i] >= 0x80))
			bad = 1;
		i += n;
		chars++;
	}
	if (utf8_valid(s, len) != !bad)
		abort();
	if (memchr(s, 0, len))
		return;
	if (utf8_count(s) != chars)
		abort();
	size_t last = utf8_last_len(s);
	if (last > len || (len && !last))
		abort();
	if (!bad && len) {
		uint32_t cp;
		if (utf8_next(s + len - last, last, &cp) != last)
			abort(); /* backspace would leave half a character */
	}
}

static int64_t parse_utc(const char *text, void *ctx)
{
	return hub_parse_local("UTC", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_utf8(s, size);

	char why[300], out[2048];
	if (links_check_url(s, why, sizeof why) == 0) {
		size_t n = strlen(s);
		if (n > 1024 || !utf8_valid(s, n) || strpbrk(s, " \t\r\n"))
			abort();
		const char *platform = links_guess_platform(s);
		if (!links_platform_valid(platform) || !links_platform_name(platform))
			abort();
		links_referral_url(s, "fuzz", out, sizeof out);
	}
	links_referral_url("https://example.org/g?x=1#f", s, out, sizeof out);
	links_platform_valid(s);
	links_max_life_ms(s);
	int64_t expires = 0;
	const char *platforms[] = {"wechat", "url", "discord"};
	links_parse_expiry(s, platforms[size % 3], 1795000000000, &expires, why, sizeof why);
	links_parse_expiry_with(s, platforms[(size + 1) % 3], 1795000000000, parse_utc, NULL, &expires, why,
				sizeof why);
	staff_pin_valid(s);
	store_phone_valid(s);
	screen_register_phone_ok(s);
	if (wire_is_id(s) && !check_hex(s, 32))
		abort(); /* kiosk and hub disagree on what an id is */
	hub_json_depth_ok((const char *)data, size, HUB_MAX_DEPTH);
	hub_parse_local("UTC", s);
	free(s);
	return 0;
}
