/*
 * html — the one place the console writes markup.
 *
 * A page is built into an html buffer. Markup comes only from format
 * strings written in the code (string literals); every value that comes
 * from outside (a member's name, an event's title, a query, a form field)
 * goes in through a %s conversion, which html_f() always escapes (& < > " '),
 * or through html_text(). There is no conversion that pastes a value
 * unescaped. Values people typed are also isolated from the text around them
 * (<bdi>), so a right-to-left override in a name cannot reorder the page.
 *
 * Running out of memory is remembered (h->oom) and checked once at the end.
 */
#ifndef TINGZI_HUB_HTML_H
#define TINGZI_HUB_HTML_H

#include <stddef.h>
#include <stdint.h>

typedef struct html {
	char *buf;
	size_t len, cap;
	int oom;
} html;

void html_init(html *h);
void html_free(html *h);
/* The buffer, NUL-terminated, now the caller's (NULL after running out of memory); h is empty again. */
char *html_take(html *h, size_t *len);

/*
 * Append fmt, which is markup, with its conversions filled in: %s is text
 * (escaped; NULL prints nothing), %d %i %u %ld %lu %lld %llu %zu %x are
 * numbers, %% is a percent sign. Field widths and precisions work as in
 * printf for numbers; %.*s takes a length for text. Nothing else is accepted
 * (an unknown conversion prints "?" and is a bug).
 */
void html_f(html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text, escaped. */
void html_text(html *h, const char *s);
/* Text people typed: escaped and isolated in <bdi>. */
void html_user(html *h, const char *s);
/* A URL's query or path component, percent-encoded (RFC 3986 unreserved kept) and escaped. */
void html_urlpart(html *h, const char *s);
/* Raw bytes known to be markup made by the console itself (another html buffer, an SVG it drew). */
void html_markup(html *h, const char *s, size_t len);

/* Escape s for HTML into out (at most len bytes, NUL included); returns out. For titles of small things. */
char *html_escape(const char *s, char *out, size_t len);
/* Percent-encode s into out; returns out. */
char *html_urlencode(const char *s, char *out, size_t len);

#endif
