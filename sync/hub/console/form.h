/*
 * form — what a browser sends: query strings, urlencoded forms, multipart
 * uploads and cookies, read once, bounded, and checked.
 *
 * Every value is NUL-terminated and valid UTF-8 without control characters
 * other than tab, CR and LF (a field that is not is refused whole, with the
 * field's name in the error); a file's content is kept as bytes (its len) and
 * is not checked here (the CSV reader checks it).
 */
#ifndef TINGZI_HUB_FORM_H
#define TINGZI_HUB_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64
#define FORM_MAX_VALUE	4096	 /* bytes of one field that is not a file */
#define FORM_MAX_FILE	(4u << 20) /* bytes of one uploaded file */

typedef struct form_field {
	char *name, *value; /* value: the file's bytes for a file */
	size_t len;	    /* of value */
	char *filename;	    /* NULL: not a file */
} form_field;

typedef struct form {
	form_field f[FORM_MAX_FIELDS];
	size_t n;
} form;

void form_init(form *f);
void form_free(form *f);

/*
 * Parse a body of the given Content-Type (application/x-www-form-urlencoded
 * or multipart/form-data; boundary=...), or a query string (content_type
 * NULL). Adds to f. 0, or -1 with a sentence in why (in English; the page
 * shows a translated message by the code in *code: "too_many", "too_long",
 * "bad_text", "bad_form", "unsupported").
 */
int form_parse(form *f, const char *content_type, const char *body, size_t len, const char **code, char *why,
	       size_t whylen);

/* The first field of that name, or NULL. */
const char *form_get(const form *f, const char *name);
const form_field *form_field_get(const form *f, const char *name);
/* The value, with spaces trimmed from both ends, or "" when absent. Writes into out (len bytes),
 * cut to len - 1 bytes: where a longer value must be refused, check strlen(form_get()) first. */
const char *form_trimmed(const form *f, const char *name, char *out, size_t len);

/* The value of cookie name in a Cookie header, into out; 0, or -1 when absent or too long. */
int form_cookie(const char *header, const char *name, char *out, size_t len);

#endif
