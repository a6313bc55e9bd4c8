#define _GNU_SOURCE /* strnlen */
/*
 * html — see html.h.
 */
#include "sync/hub/console/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void html_init(html *h)
{
	memset(h, 0, sizeof *h);
}

void html_free(html *h)
{
	free(h->buf);
	html_init(h);
}

char *html_take(html *h, size_t *len)
{
	char *b = h->oom ? NULL : h->buf;
	if (h->oom)
		free(h->buf);
	else if (!b)
		b = calloc(1, 1);
	if (len)
		*len = b ? h->len : 0;
	html_init(h);
	return b;
}

static int room(html *h, size_t n)
{
	if (h->oom)
		return -1;
	if (h->len + n + 1 <= h->cap)
		return 0;
	size_t cap = h->cap ? h->cap : 4096;
	while (cap < h->len + n + 1)
		cap *= 2;
	char *b = realloc(h->buf, cap);
	if (!b) {
		h->oom = 1;
		return -1;
	}
	h->buf = b;
	h->cap = cap;
	return 0;
}

void html_markup(html *h, const char *s, size_t len)
{
	if (room(h, len) != 0)
		return;
	memcpy(h->buf + h->len, s, len);
	h->len += len;
	h->buf[h->len] = 0;
}

static void text_n(html *h, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		html_markup(h, s + start, i - start);
		html_markup(h, rep, strlen(rep));
		start = i + 1;
	}
	html_markup(h, s + start, n - start);
}

void html_text(html *h, const char *s)
{
	if (s)
		text_n(h, s, strlen(s));
}

void html_user(html *h, const char *s)
{
	html_markup(h, "<bdi>", 5);
	html_text(h, s);
	html_markup(h, "</bdi>", 6);
}

static int unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
	       ch == '.' || ch == '_' || ch == '~';
}

void html_urlpart(html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (unreserved(*p)) {
			html_markup(h, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			html_markup(h, e, 3);
		}
	}
}

char *html_urlencode(const char *s, char *out, size_t len)
{
	html h;
	html_init(&h);
	html_urlpart(&h, s);
	snprintf(out, len, "%s", h.buf && !h.oom ? h.buf : "");
	html_free(&h);
	return out;
}

char *html_escape(const char *s, char *out, size_t len)
{
	html h;
	html_init(&h);
	html_text(&h, s);
	snprintf(out, len, "%s", h.buf && !h.oom ? h.buf : "");
	html_free(&h);
	return out;
}

#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* spec is built below from a checked format */

/*
 * printf's own engine formats the numbers (one conversion at a time, so its
 * widths and flags work); text never goes through it unescaped.
 */
void html_f(html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = fmt;
	while (*p) {
		const char *pct = strchr(p, '%');
		if (!pct) {
			html_markup(h, p, strlen(p));
			break;
		}
		html_markup(h, p, (size_t)(pct - p));
		const char *q = pct + 1;
		if (*q == '%') {
			html_markup(h, "%", 1);
			p = q + 1;
			continue;
		}
		/* flags, width, precision */
		char spec[32];
		size_t n = 0;
		spec[n++] = '%';
		int star_prec = 0;
		while (*q && strchr("-+ 0#", *q) && n < 8)
			spec[n++] = *q++;
		while (*q >= '0' && *q <= '9' && n < 16)
			spec[n++] = *q++;
		if (*q == '.') {
			spec[n++] = *q++;
			if (*q == '*') {
				star_prec = 1;
				spec[n++] = *q++;
			}
			while (*q >= '0' && *q <= '9' && n < 24)
				spec[n++] = *q++;
		}
		int lng = 0, zz = 0;
		while (*q == 'l' && lng < 2) {
			spec[n++] = *q++;
			lng++;
		}
		if (*q == 'z') {
			spec[n++] = *q++;
			zz = 1;
		}
		char conv = *q;
		spec[n++] = conv;
		spec[n] = 0;
		char num[64];
		switch (conv) {
		case 's': {
			/* a precision caps the bytes shown: %.*s takes it from the arguments, %.8s from the format */
			const char *dot = strchr(spec, '.');
			int prec = star_prec ? va_arg(ap, int) : dot ? atoi(dot + 1) : -1;
			const char *s = va_arg(ap, const char *);
			if (s)
				text_n(h, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
			break;
		}
		case 'd':
		case 'i':
			if (zz)
				snprintf(num, sizeof num, spec, va_arg(ap, ssize_t));
			else if (lng == 2)
				snprintf(num, sizeof num, spec, va_arg(ap, long long));
			else if (lng == 1)
				snprintf(num, sizeof num, spec, va_arg(ap, long));
			else
				snprintf(num, sizeof num, spec, va_arg(ap, int));
			html_markup(h, num, strlen(num));
			break;
		case 'u':
		case 'x':
			if (zz)
				snprintf(num, sizeof num, spec, va_arg(ap, size_t));
			else if (lng == 2)
				snprintf(num, sizeof num, spec, va_arg(ap, unsigned long long));
			else if (lng == 1)
				snprintf(num, sizeof num, spec, va_arg(ap, unsigned long));
			else
				snprintf(num, sizeof num, spec, va_arg(ap, unsigned));
			html_markup(h, num, strlen(num));
			break;
		default:
			/* a bug in a format string: show it, never guess at the argument list */
			html_markup(h, "?", 1);
			va_end(ap);
			return;
		}
		p = q + (conv ? 1 : 0);
	}
	va_end(ap);
}
