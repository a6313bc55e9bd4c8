#define _GNU_SOURCE /* memmem */
/*
 * form — see form.h.
 */
#include "sync/hub/console/form.h"
#include "sync/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void form_init(form *f)
{
	memset(f, 0, sizeof *f);
}

void form_free(form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->f[i].name);
		free(f->f[i].value);
		free(f->f[i].filename);
	}
	form_init(f);
}

static int fail(const char **code, const char *c, char *why, size_t len, const char *msg, const char *name)
{
	*code = c;
	if (name)
		snprintf(why, len, "%s: %.64s", msg, name);
	else
		snprintf(why, len, "%s", msg);
	return -1;
}

/* Text a person may have typed: valid UTF-8, no control characters but tab, CR, LF. */
static int text_ok(const char *s, size_t len)
{
	if (!utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			return 0;
	}
	return 1;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static int add(form *f, char *name, char *value, size_t len, char *filename, const char **code, char *why,
	       size_t whylen)
{
	if (!name || !value) {
		free(name);
		free(value);
		free(filename);
		return fail(code, "bad_form", why, whylen, "out of memory", NULL);
	}
	if (f->n == FORM_MAX_FIELDS) {
		free(name);
		free(value);
		free(filename);
		return fail(code, "too_many", why, whylen, "too many fields", NULL);
	}
	f->f[f->n++] = (form_field){.name = name, .value = value, .len = len, .filename = filename};
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode %XX and + in place; returns the new length. */
static size_t unescape(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = 0;
	return o;
}

static int urlencoded(form *f, const char *body, size_t len, const char **code, char *why, size_t whylen)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&' && body[end] != ';')
			end++;
		if (end > i) {
			const char *eq = memchr(body + i, '=', end - i);
			size_t nlen = eq ? (size_t)(eq - (body + i)) : end - i;
			size_t vlen = eq ? end - i - nlen - 1 : 0;
			if (vlen > FORM_MAX_VALUE * 3 || nlen > 256)
				return fail(code, "too_long", why, whylen, "a field is too long", NULL);
			char *name = dup_n(body + i, nlen), *value = dup_n(eq ? eq + 1 : "", vlen);
			if (name && value) {
				nlen = unescape(name, nlen);
				vlen = unescape(value, vlen);
				if (vlen > FORM_MAX_VALUE) {
					int r = fail(code, "too_long", why, whylen, "a field is too long", name);
					free(name);
					free(value);
					return r;
				}
				if (!text_ok(name, nlen) || !text_ok(value, vlen) || strlen(value) != vlen) {
					int r = fail(code, "bad_text", why, whylen, "a field is not UTF-8 text", name);
					free(name);
					free(value);
					return r;
				}
			}
			if (add(f, name, value, vlen, NULL, code, why, whylen) != 0)
				return -1;
		}
		i = end + 1;
	}
	return 0;
}

static const char *memmem_s(const char *h, size_t hl, const char *n, size_t nl)
{
	return memmem(h, hl, n, nl);
}

/* The value of param (e.g. name=) in a header value like Content-Disposition; into out. */
static int header_param(const char *hdr, size_t hlen, const char *param, char *out, size_t len)
{
	size_t plen = strlen(param);
	for (size_t i = 0; i + plen < hlen; i++) {
		if ((i == 0 || hdr[i - 1] == ';' || hdr[i - 1] == ' ') && strncasecmp(hdr + i, param, plen) == 0 &&
		    hdr[i + plen] == '=') {
			const char *v = hdr + i + plen + 1, *e = hdr + hlen;
			size_t n = 0;
			if (v < e && *v == '"') {
				v++;
				while (v + n < e && v[n] != '"')
					n++;
			} else {
				while (v + n < e && v[n] != ';' && v[n] != ' ')
					n++;
			}
			if (n >= len)
				return -1;
			memcpy(out, v, n);
			out[n] = 0;
			return 0;
		}
	}
	return -1;
}

static int multipart(form *f, const char *ctype, const char *body, size_t len, const char **code, char *why,
		     size_t whylen)
{
	char boundary[80], delim[90];
	if (header_param(ctype, strlen(ctype), "boundary", boundary, sizeof boundary) != 0 || !boundary[0])
		return fail(code, "bad_form", why, whylen, "a multipart body without a boundary", NULL);
	int dl = snprintf(delim, sizeof delim, "--%s", boundary);
	const char *p = memmem_s(body, len, delim, (size_t)dl), *end = body + len;
	if (!p)
		return fail(code, "bad_form", why, whylen, "a multipart body without its boundary", NULL);
	for (;;) {
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* the closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return fail(code, "bad_form", why, whylen, "a damaged multipart body", NULL);
		p += 2;
		const char *hend = memmem_s(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend || hend - p > 4096)
			return fail(code, "bad_form", why, whylen, "a damaged multipart body", NULL);
		char name[257] = "", filename[256] = "";
		int has_file = 0;
		for (const char *line = p; line < hend;) {
			const char *eol = memmem_s(line, (size_t)(hend - line), "\r\n", 2);
			if (!eol)
				eol = hend;
			size_t ll = (size_t)(eol - line);
			if (ll > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
				if (header_param(line, ll, "name", name, sizeof name) != 0)
					return fail(code, "bad_form", why, whylen, "a part without a usable name", NULL);
				has_file = header_param(line, ll, "filename", filename, sizeof filename) == 0;
			}
			line = eol + 2;
		}
		const char *data = hend + 4;
		char next[96];
		int nl = snprintf(next, sizeof next, "\r\n%s", delim);
		const char *stop = memmem_s(data, (size_t)(end - data), next, (size_t)nl);
		if (!stop)
			return fail(code, "bad_form", why, whylen, "a multipart body cut short", NULL);
		size_t vlen = (size_t)(stop - data);
		if (!name[0])
			return fail(code, "bad_form", why, whylen, "a part without a name", NULL);
		if (vlen > (has_file ? FORM_MAX_FILE : FORM_MAX_VALUE))
			return fail(code, "too_long", why, whylen, has_file ? "the file is too large" : "a field is too long",
				    name);
		if (!text_ok(name, strlen(name)) ||
		    (!has_file && (!text_ok(data, vlen) || memchr(data, 0, vlen))) ||
		    (has_file && !text_ok(filename, strlen(filename))))
			return fail(code, "bad_text", why, whylen, "a field is not UTF-8 text", name);
		if (add(f, dup_n(name, strlen(name)), dup_n(data, vlen), vlen,
			has_file ? dup_n(filename, strlen(filename)) : NULL, code, why, whylen) != 0)
			return -1;
		p = stop + 2;
	}
}

int form_parse(form *f, const char *content_type, const char *body, size_t len, const char **code, char *why,
	       size_t whylen)
{
	if (!content_type)
		return urlencoded(f, body, len, code, why, whylen);
	if (strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0)
		return urlencoded(f, body, len, code, why, whylen);
	if (strncasecmp(content_type, "multipart/form-data", 19) == 0)
		return multipart(f, content_type, body, len, code, why, whylen);
	return fail(code, "unsupported", why, whylen, "a form of an unknown type", NULL);
}

const form_field *form_field_get(const form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return &f->f[i];
	return NULL;
}

const char *form_get(const form *f, const char *name)
{
	const form_field *ff = form_field_get(f, name);
	return ff ? ff->value : NULL;
}

const char *form_trimmed(const form *f, const char *name, char *out, size_t len)
{
	const char *v = form_get(f, name);
	if (!v || !len) {
		if (len)
			out[0] = 0;
		return out;
	}
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n >= len)
		n = len - 1; /* cut: see form.h */
	memcpy(out, v, n);
	out[n] = 0;
	return out;
}

int form_cookie(const char *header, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = l - nl - 1;
			if (vl >= len)
				return -1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = 0;
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}
