/*
 * args — the command lines of both programs (tingzi, tingzi-hub): one parser
 * for a command's options, so every command answers --help, refuses what it
 * does not know and words its refusals the same way.
 *
 * A command describes the options it accepts in a table; args_parse() reads
 * argv from a given word on: `--name VALUE`, `--name=VALUE`, flags, a unique
 * prefix of a long name (--form for --format, as getopt_long allows), a
 * one-letter form where the table gives one, `--` before words that start
 * with a dash, and up to max_words other words in any place between options.
 * `--help` (or `-h`) prints the command's usage to standard output. Anything
 * else (an unknown option, a value missing or given to a flag, one word too
 * many) prints "PROGRAM: what is wrong" and the usage to standard error.
 * The parser keeps pointers into argv; it copies nothing and allocates nothing.
 */
#ifndef TINGZI_ARGS_H
#define TINGZI_ARGS_H

#define ARGS_MAX_OPTS  24 /* options in one command's table */
#define ARGS_MAX_WORDS 8  /* words besides the options */

enum {
	ARGS_GO = -1,   /* args_parse: run the command */
	ARGS_USAGE = 2, /* the exit status of a usage error, in both programs */
};

typedef struct args_opt {
	const char *name; /* the long name without "--": "format" */
	int takes_value;  /* 1: --name VALUE or --name=VALUE; 0: a flag */
	char letter;      /* a one-letter form (-V), or 0 */
} args_opt;

typedef struct args {
	/* by the option's place in the table: its value (a flag: its own word),
	   NULL when not given; given twice, the last one counts */
	const char *value[ARGS_MAX_OPTS];
	const char *word[ARGS_MAX_WORDS];
	int nwords;
} args;

/*
 * Read argv[first..argc-1] against opts (ended by an entry whose name is
 * NULL; at most ARGS_MAX_OPTS) accepting up to max_words words (at most
 * ARGS_MAX_WORDS). Returns ARGS_GO when the command should run with *out;
 * otherwise the exit status to return at once: 0 after --help, ARGS_USAGE
 * after a usage error (both already printed).
 */
int args_parse(const char *prog, const char *usage, const args_opt *opts, int max_words, int argc,
	       char **argv, int first, args *out);

/* Print "PROG: MESSAGE" and the usage text to stderr; returns ARGS_USAGE. */
__attribute__((format(printf, 3, 4))) int args_usage_error(const char *prog, const char *usage,
							   const char *fmt, ...);

/*
 * The value of --format: its place in names (a NULL-ended list such as
 * {"text", "json", NULL}) in *out and 0, or ARGS_USAGE after saying
 * `--format "xml": expected text or json`. s NULL: *out = 0.
 */
int args_format(const char *prog, const char *usage, const char *s, const char *const *names, int *out);

#endif
