/*
 * utf8 — a strict UTF-8 decoder (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). Used wherever outside text is read or drawn.
 */
#include "sync/utf8.h"

#include <string.h>

size_t utf8_next(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	if (len == 0)
		return 0;
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (len < n)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

int utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (cp == 0 || (cp == 0xfffd && n == 1 && (unsigned char)s[i] >= 0x80))
			return 0;
		i += n;
	}
	return 1;
}

size_t utf8_count(const char *s)
{
	size_t len = strlen(s), i = 0, count = 0;
	while (i < len) {
		uint32_t cp;
		i += utf8_next(s + i, len - i, &cp);
		count++;
	}
	return count;
}

size_t utf8_last_len(const char *s)
{
	size_t len = strlen(s);
	if (len == 0)
		return 0;
	size_t i = len - 1;
	while (i > 0 && len - i < 4 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return len - i;
}
