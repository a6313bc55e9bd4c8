/*
 * check — see check.h.
 */
#include "sync/check.h"

#include "sync/clock.h"
#include "sync/utf8.h"

#include <string.h>

int check_text(const char *s, size_t max, int may_be_empty)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, max + 1);
	if ((!may_be_empty && n == 0) || n > max || !utf8_valid(s, n))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int check_digits(const char *s, size_t max)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, max + 1);
	return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

int check_phone(const char *s)
{
	return check_digits(s, CHECK_PHONE_MAX) && strlen(s) >= CHECK_PHONE_MIN;
}

int check_hex(const char *s, size_t n)
{
	if (!s || strnlen(s, n + 1) != n)
		return 0;
	return strspn(s, "0123456789abcdef") == n;
}

int check_day(const char *s)
{
	if (!s)
		return 0;
	return !s[0] || (clock_parse_date(s) == 0 && strncmp(s, "1970", 4) >= 0);
}
