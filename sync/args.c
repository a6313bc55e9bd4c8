/*
 * args — one parser for the options of every command of tingzi and
 * tingzi-hub; see args.h for what it accepts and how it refuses.
 */
#include "sync/args.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int args_usage_error(const char *prog, const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", usage);
	va_end(ap);
	return ARGS_USAGE;
}

/* The table's entry for a long name of len bytes: exact, else a unique prefix; -1 none, -2 ambiguous. */
static int find_long(const args_opt *opts, const char *name, size_t len)
{
	int found = -1;
	for (int i = 0; opts[i].name; i++) {
		if (strncmp(opts[i].name, name, len) != 0)
			continue;
		if (opts[i].name[len] == '\0')
			return i;
		found = found == -1 ? i : -2;
	}
	return found;
}

static int find_letter(const args_opt *opts, char c)
{
	for (int i = 0; opts[i].name; i++)
		if (opts[i].letter && opts[i].letter == c)
			return i;
	return -1;
}

int args_parse(const char *prog, const char *usage, const args_opt *opts, int max_words, int argc,
	       char **argv, int first, args *out)
{
	static const args_opt none[] = {{0}};
	const char *extra = NULL; /* the first word past max_words */
	int dashes = 0;           /* after "--": words only */
	assert(max_words >= 0 && max_words <= ARGS_MAX_WORDS);
	memset(out, 0, sizeof *out);
	if (!opts)
		opts = none;
	for (int i = first; i < argc; i++) {
		const char *w = argv[i];
		if (dashes || w[0] != '-' || w[1] == '\0') { /* a word; "-" alone is one (standard input) */
			if (out->nwords < max_words)
				out->word[out->nwords++] = w;
			else if (!extra)
				extra = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			dashes = 1;
			continue;
		}
		if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		const char *eq = NULL;
		int k;
		if (w[1] == '-') {
			eq = strchr(w + 2, '=');
			size_t len = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
			k = find_long(opts, w + 2, len);
			if (k == -2)
				return args_usage_error(prog, usage, "ambiguous option \"%.*s\"",
							(int)(len + 2), w);
			if (k < 0)
				return args_usage_error(prog, usage, "unknown option \"%.*s\"",
							(int)(len + 2), w);
		} else {
			k = w[2] == '\0' ? find_letter(opts, w[1]) : -1;
			if (k < 0)
				return args_usage_error(prog, usage, "unknown option \"%s\"", w);
		}
		assert(k < ARGS_MAX_OPTS);
		if (!opts[k].takes_value) {
			if (eq)
				return args_usage_error(prog, usage, "option \"--%s\" takes no value",
							opts[k].name);
			out->value[k] = w;
		} else if (eq) {
			out->value[k] = eq + 1;
		} else if (i + 1 < argc) {
			out->value[k] = argv[++i];
		} else {
			return args_usage_error(prog, usage, "option \"--%s\" needs a value", opts[k].name);
		}
	}
	if (extra)
		return args_usage_error(prog, usage, "unexpected argument \"%s\"", extra);
	return ARGS_GO;
}

int args_format(const char *prog, const char *usage, const char *s, const char *const *names, int *out)
{
	char expected[64] = "";
	size_t n = 0, used = 0;
	*out = 0;
	if (!s)
		return 0;
	for (n = 0; names[n]; n++)
		if (strcmp(s, names[n]) == 0) {
			*out = (int)n;
			return 0;
		}
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(expected + used, sizeof expected - used, "%s%s", sep, names[i]);
		if (w < 0 || (size_t)w >= sizeof expected - used)
			break;
		used += (size_t)w;
	}
	return args_usage_error(prog, usage, "--format \"%s\": expected %s", s, expected);
}
