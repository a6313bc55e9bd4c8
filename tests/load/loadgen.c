/*
 * loadgen — N kiosks played against a tingzi-hub on loopback, for the load
 * figures of a network of venues (tests/load/run.sh runs the scenarios).
 *
 * Each kiosk does what a real one does, through the kiosk's own protocol
 * code (app/sync/wire.c: the push body by column, the reply checks, the
 * pull pages): it enrols with a single-use code, then syncs in rounds as
 * the kiosk's client does (app/sync/client.c): one connection, kept alive
 * from round to round as the kiosk's worker keeps it (its TLS handshake
 * made once, not each round; one the hub or haproxy closed meanwhile is
 * opened again), a round pushes the
 * queue in batches of up to 1000 check-ins (gzip level 1, one request at a
 * time; X-Tingzi-Queue with the round's first and last push and at most
 * once a second between), then pulls members, events and links page by
 * page, also when a push failed. A 429 or 503 is followed as a kiosk
 * follows it: the kiosk keeps everything, waits its back-off and at least
 * the Retry-After, and sends again (sync_next_wait_ms). The first round
 * after enrolment pulls the venue's roster; check-ins are made from it.
 *
 *   backlog  every kiosk arrives with B check-ins queued (a week offline)
 *            and pushes them in batches until its queue is empty
 *   steady   every kiosk makes a check-in every S seconds for D seconds
 *            (a door over an evening), and each starts a round at once (the
 *            kiosk's worker is kicked by a check-in, also during a
 *            back-off); one made during a round goes in that round's next
 *            push, or starts the next round when the round is pulling
 *   pull     the kiosks enrol and make their first round: the first pull
 *
 * All kiosks enrol, then all make their first round, then all push: each
 * phase is timed on its own. Every check-in id must be answered exactly once: "ok", or
 * "duplicate" when an earlier send of it got no answer (the hub committed,
 * the answer was lost: counted apart as a retry's duplicate). An id the hub
 * answers ok twice, or "duplicate" without an earlier unanswered send, is
 * a true double. The figures are BENCH lines on stdout; a progress line goes
 * to stderr once a second.
 *
 * Only loopback: the hub's address must be 127.0.0.0/8 or ::1. Each kiosk
 * connects from its own loopback address (127.1.x.y), as kiosks of a real
 * network come from many addresses (the hub's per-address limits then apply
 * per kiosk).
 */
#include "app/store/store.h"
#include "app/sync/client.h"
#include "app/sync/wire.h"
#include "sync/clock.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_PIDS        16
#define MEMBER_SAMPLE   5000 /* member uids a kiosk keeps to check in (of its roster) */
#define EVENT_SAMPLE    64
#define CONNECT_TIMEOUT 5
#define TOTAL_TIMEOUT   60
#define WEEK_MS         (7LL * 24 * 3600 * 1000)

/* ---- options ---- */

typedef enum mode { MODE_BACKLOG, MODE_STEADY, MODE_PULL } mode;

typedef struct watched {
	char name[32];
	pid_t pid;
	int tree; /* the process and its children (a PostgreSQL server) */
	double cpu[4]; /* at the start of the enrol, pull and push phases, and at the end */
	int seen;
	double peak_mib;
} watched;

static struct {
	const char *hub;
	const char *cacert;
	const char *codes_file;
	const char *hub_cli, *hub_db;
	const char *venues[256];
	int nvenues;
	const char *ids_out;
	const char *label;
	mode mode;
	long kiosks;
	long backlog;
	double every_s, duration_s, time_limit_s;
	long max_checkins;
	int batch;
	int concurrency;
	int spread;
	int no_pulls;
	int check;
	double budget_push_s, budget_p99_ms, budget_pull_s, budget_rate;
	watched pids[MAX_PIDS];
	int npids;
} opt = {.label = "load",
	 .mode = MODE_BACKLOG,
	 .kiosks = 10,
	 .backlog = 1000,
	 .every_s = 5,
	 .duration_s = 60,
	 .time_limit_s = 900,
	 .batch = SYNC_BATCH,
	 .spread = 1};

static const char usage_text[] =
    "Usage: loadgen --hub URL --kiosks N (--codes FILE | --hub-cli PATH [--hub-db DB] --venue ID...)\n"
    "               [--mode backlog|steady|pull] [--backlog B] [--every S] [--duration D]\n"
    "               [--time-limit T] [--max-checkins C] [--batch N] [--concurrency K]\n"
    "               [--cacert PEM] [--no-spread] [--push-only] [--pid NAME=PID]...\n"
    "               [--pid-tree NAME=PID]... [--ids-out FILE] [--label NAME]\n"
    "               [--check [--budget-push-s S] [--budget-p99-ms MS] [--budget-pull-s S]\n"
    "                        [--budget-rate PER_S]]\n"
    "\n"
    "N kiosks against a tingzi-hub on loopback (http(s)://127.x.y.z:PORT or [::1]):\n"
    "each enrols (a code a line from FILE, or made with `PATH --db DB devices\n"
    "enroll-code ID`, the venues taken in turn), pulls its roster, then pushes:\n"
    "  backlog  B check-ins queued on each kiosk (default 1000), in batches\n"
    "  steady   one check-in every S seconds (default 5) for D seconds (default 60),\n"
    "           each starting a round at once\n"
    "  pull     only enrol and make the first round (the first pull's time)\n"
    "A round is the kiosk's: one connection, the pushes, then the pulls of members,\n"
    "events and links (--push-only: the pushes alone).\n"
    "T bounds the whole run (default 900 s), C the check-ins made in all.\n"
    "--pid names a hub process whose CPU and peak memory are reported; --pid-tree\n"
    "a process with its children (PostgreSQL). --ids-out writes every check-in id\n"
    "made, one a line. BENCH lines on stdout, progress on stderr.\n"
    "Exit status: 0 every check-in answered exactly once and no error (and, with\n"
    "--check, every figure within its budget), 1 otherwise, 2 bad usage.\n";

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n\n", stderr);
	va_end(ap);
	fputs(usage_text, stderr);
	exit(2);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long long_arg(const char *name, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		usage_error("--%s %s: expected a whole number from %ld to %ld", name, v, lo, hi);
	return n;
}

static double double_arg(const char *name, const char *v, double lo, double hi)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo && d <= hi))
		usage_error("--%s %s: expected a number from %g to %g", name, v, lo, hi);
	return d;
}

static void pid_arg(const char *v, int tree)
{
	const char *eq = strchr(v, '=');
	if (!eq || eq == v || eq - v >= 32 || opt.npids == MAX_PIDS)
		usage_error("--pid%s %s: expected NAME=PID (at most %d)", tree ? "-tree" : "", v, MAX_PIDS);
	watched *w = &opt.pids[opt.npids++];
	snprintf(w->name, sizeof w->name, "%.*s", (int)(eq - v), v);
	for (char *p = w->name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			usage_error("--pid %s: NAME is letters, digits and _", v);
	w->pid = (pid_t)long_arg("pid", eq + 1, 1, 1 << 30);
	w->tree = tree;
}

/*
 * The hub's address must be a loopback one: the load is for this machine's
 * own hub, never someone's server. Only literal addresses, so that no name
 * can lead elsewhere.
 */
static void check_loopback(const char *url)
{
	const char *host = strstr(url, "://");
	if (!host || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0))
		die("--hub %s: expected http://ADDRESS:PORT or https://ADDRESS:PORT", url);
	host += 3;
	char h[64];
	size_t n;
	if (*host == '[') {
		n = strcspn(host + 1, "]");
		snprintf(h, sizeof h, "%.*s", (int)(n < sizeof h ? n : 0), host + 1);
	} else {
		n = strcspn(host, ":/");
		snprintf(h, sizeof h, "%.*s", (int)(n < sizeof h ? n : 0), host);
	}
	struct in_addr a4;
	struct in6_addr a6;
	int ok = (inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
		 (inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
	if (!ok)
		die("--hub %s: the load generator plays only against a hub on this machine's loopback "
		    "(127.0.0.0/8 or ::1, written as an address); \"%s\" is not one",
		    url, h);
	opt.spread = opt.spread && inet_pton(AF_INET, h, &a4) == 1;
}

static void parse_args(int argc, char **argv)
{
	enum {
		O_HUB = 1000,
		O_CACERT,
		O_CODES,
		O_HUB_CLI,
		O_HUB_DB,
		O_VENUE,
		O_MODE,
		O_KIOSKS,
		O_BACKLOG,
		O_EVERY,
		O_DURATION,
		O_TIME_LIMIT,
		O_MAX,
		O_BATCH,
		O_CONC,
		O_NO_SPREAD,
		O_PUSH_ONLY,
		O_PID,
		O_PID_TREE,
		O_IDS,
		O_LABEL,
		O_CHECK,
		O_B_PUSH,
		O_B_P99,
		O_B_PULL,
		O_B_RATE,
		O_HELP
	};
	static const struct option longs[] = {{"hub", 1, 0, O_HUB},
					      {"cacert", 1, 0, O_CACERT},
					      {"codes", 1, 0, O_CODES},
					      {"hub-cli", 1, 0, O_HUB_CLI},
					      {"hub-db", 1, 0, O_HUB_DB},
					      {"venue", 1, 0, O_VENUE},
					      {"mode", 1, 0, O_MODE},
					      {"kiosks", 1, 0, O_KIOSKS},
					      {"backlog", 1, 0, O_BACKLOG},
					      {"every", 1, 0, O_EVERY},
					      {"duration", 1, 0, O_DURATION},
					      {"time-limit", 1, 0, O_TIME_LIMIT},
					      {"max-checkins", 1, 0, O_MAX},
					      {"batch", 1, 0, O_BATCH},
					      {"concurrency", 1, 0, O_CONC},
					      {"no-spread", 0, 0, O_NO_SPREAD},
					      {"push-only", 0, 0, O_PUSH_ONLY},
					      {"pid", 1, 0, O_PID},
					      {"pid-tree", 1, 0, O_PID_TREE},
					      {"ids-out", 1, 0, O_IDS},
					      {"label", 1, 0, O_LABEL},
					      {"check", 0, 0, O_CHECK},
					      {"budget-push-s", 1, 0, O_B_PUSH},
					      {"budget-p99-ms", 1, 0, O_B_P99},
					      {"budget-pull-s", 1, 0, O_B_PULL},
					      {"budget-rate", 1, 0, O_B_RATE},
					      {"help", 0, 0, O_HELP},
					      {0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_HUB: opt.hub = optarg; break;
		case O_CACERT: opt.cacert = optarg; break;
		case O_CODES: opt.codes_file = optarg; break;
		case O_HUB_CLI: opt.hub_cli = optarg; break;
		case O_HUB_DB: opt.hub_db = optarg; break;
		case O_VENUE:
			if (opt.nvenues == (int)(sizeof opt.venues / sizeof opt.venues[0]))
				usage_error("at most %zu --venue", sizeof opt.venues / sizeof opt.venues[0]);
			if (!wire_is_id(optarg))
				usage_error("--venue %s: expected a venue id (32 hex digits)", optarg);
			opt.venues[opt.nvenues++] = optarg;
			break;
		case O_MODE:
			if (strcmp(optarg, "backlog") == 0)
				opt.mode = MODE_BACKLOG;
			else if (strcmp(optarg, "steady") == 0)
				opt.mode = MODE_STEADY;
			else if (strcmp(optarg, "pull") == 0)
				opt.mode = MODE_PULL;
			else
				usage_error("--mode %s: expected backlog, steady or pull", optarg);
			break;
		case O_KIOSKS: opt.kiosks = long_arg("kiosks", optarg, 1, 20000); break;
		case O_BACKLOG: opt.backlog = long_arg("backlog", optarg, 0, 1000000); break;
		case O_EVERY: opt.every_s = double_arg("every", optarg, 0.01, 86400); break;
		case O_DURATION: opt.duration_s = double_arg("duration", optarg, 0, 86400); break;
		case O_TIME_LIMIT: opt.time_limit_s = double_arg("time-limit", optarg, 1, 86400); break;
		case O_MAX: opt.max_checkins = long_arg("max-checkins", optarg, 1, 100000000); break;
		case O_BATCH: opt.batch = (int)long_arg("batch", optarg, 1, SYNC_BATCH); break;
		case O_CONC: opt.concurrency = (int)long_arg("concurrency", optarg, 1, 20000); break;
		case O_NO_SPREAD: opt.spread = 0; break;
		case O_PUSH_ONLY: opt.no_pulls = 1; break;
		case O_PID: pid_arg(optarg, 0); break;
		case O_PID_TREE: pid_arg(optarg, 1); break;
		case O_IDS: opt.ids_out = optarg; break;
		case O_LABEL:
			opt.label = optarg;
			for (const char *p = optarg; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '_')
					usage_error("--label %s: letters, digits and _", optarg);
			break;
		case O_CHECK: opt.check = 1; break;
		case O_B_PUSH: opt.budget_push_s = double_arg("budget-push-s", optarg, 0, 1e6); break;
		case O_B_P99: opt.budget_p99_ms = double_arg("budget-p99-ms", optarg, 0, 1e7); break;
		case O_B_PULL: opt.budget_pull_s = double_arg("budget-pull-s", optarg, 0, 1e6); break;
		case O_B_RATE: opt.budget_rate = double_arg("budget-rate", optarg, 0, 1e9); break;
		case O_HELP: fputs(usage_text, stdout); exit(0);
		default: usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected \"%s\"", argv[optind]);
	if (!opt.hub)
		usage_error("--hub URL is needed");
	if (!opt.codes_file && !(opt.hub_cli && opt.nvenues))
		usage_error("enrolment codes come from --codes FILE, or from --hub-cli PATH with --venue ID");
	if (opt.codes_file && opt.hub_cli)
		usage_error("--codes and --hub-cli exclude each other");
	if (!opt.concurrency)
		opt.concurrency = (int)opt.kiosks;
	check_loopback(opt.hub);
	size_t n = strlen(opt.hub);
	while (n && opt.hub[n - 1] == '/')
		n--;
	if (n >= SYNC_URL_MAX)
		usage_error("--hub: at most %d bytes", SYNC_URL_MAX - 1);
	char *h = strndup(opt.hub, n);
	opt.hub = h;
}

/* ---- the hub's processes: CPU seconds and memory from /proc ---- */

static double ticks_per_s;

/* utime + stime (+ cutime + cstime: children already waited for) of pid, in seconds; -1 when gone. */
static double proc_cpu(pid_t pid, int with_waited, pid_t *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
	char state;
	int pp;
	unsigned long long ut, st;
	long long cut, cst;
	if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &state, &pp, &ut, &st,
		   &cut, &cst) != 6)
		return -1;
	if (ppid)
		*ppid = pp;
	double t = (double)(ut + st);
	if (with_waited)
		t += (double)(cut + cst);
	return t / ticks_per_s;
}

/* A field of /proc/PID/status (or smaps_rollup) in kB; -1 when absent. */
static double proc_kb(pid_t pid, const char *file, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	double kb = -1;
	size_t len = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtod(line + len + 1, NULL);
			break;
		}
	fclose(f);
	return kb;
}

/*
 * A tree's CPU (the root's own and waited-for children's, and every live
 * child's) and memory (the sum of the processes' proportional set sizes:
 * shared memory counted once).
 */
static void tree_sample(pid_t root, double *cpu, double *pss_kb)
{
	*cpu = proc_cpu(root, 1, NULL);
	*pss_kb = proc_kb(root, "smaps_rollup", "Pss");
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(e->d_name), pp = 0;
		if (pid == root)
			continue;
		double c = proc_cpu(pid, 0, &pp);
		if (c < 0 || pp != root)
			continue;
		*cpu += c;
		double k = proc_kb(pid, "smaps_rollup", "Pss");
		if (k > 0)
			*pss_kb += k;
	}
	closedir(d);
}

/* CPU and memory of the watched processes now; at (0..3) says which mark the CPU is, -1 none. */
static void watch_sample(int at)
{
	for (int i = 0; i < opt.npids; i++) {
		watched *w = &opt.pids[i];
		double cpu, mib;
		if (w->tree) {
			double kb;
			tree_sample(w->pid, &cpu, &kb);
			mib = kb / 1024.0;
		} else {
			cpu = proc_cpu(w->pid, 1, NULL);
			mib = proc_kb(w->pid, "status", "VmHWM") / 1024.0;
		}
		if (cpu < 0)
			continue; /* gone (a node killed on purpose): its last figures stay */
		if (at >= 0) {
			w->cpu[at] = cpu;
			w->seen |= 1 << at;
		}
		if (mib > w->peak_mib)
			w->peak_mib = mib;
	}
}

/* ---- kiosks ---- */

/* ST_SYNC: enrolled, syncing in rounds (or between them) */
enum { ST_ENROL, ST_SYNC, ST_FAILED };
enum { X_ENROL, X_PULL, X_PUSH };
/* a round's stage */
enum { R_PUSH, R_PULL };
enum { PHASE_ENROL, PHASE_PULL, PHASE_PUSH, PHASE_END };

/* A check-in's state: bit 7 answered; bits 0..6 sends so far (saturating). */
#define ANSWERED 0x80u
#define SENDS    0x7fu

typedef struct buf {
	char *p;
	size_t n, cap;
	int too_big;
} buf;

typedef struct kiosk {
	int idx;
	int state;
	char code[72];
	char device_id[STORE_ID_MAX];
	char prefix[24]; /* the run's 80-bit id prefix, 20 hex digits */
	char boot[40];
	char token[WIRE_TOKEN_MAX];
	char venue[WIRE_VENUE_ID_MAX];
	char src[48]; /* CURLOPT_INTERFACE: "host!127.1.x.y" */
	/* roster */
	char (*members)[STORE_ID_MAX];
	int nmembers;
	long roster_size;
	char events[EVENT_SAMPLE][STORE_ID_MAX];
	int nevents;
	int set;
	int64_t cursor[STORE_SET_COUNT];
	int64_t since;
	int snapshot; /* the set's pull under way is a snapshot (its pages come SYNC_SNAPSHOT_PAGE at a time) */
	int rounds; /* rounds finished */
	double pull_t0, pull_ms;
	/* the round under way */
	int in_round;
	int stage;
	int round_failed;
	int round_retry_after;
	int pushes_this_round;
	double queue_said;
	CURLSH *conn; /* the kiosk's connection, kept from round to round */
	/* check-ins */
	long total, made;
	uint8_t *st;
	double *made_at; /* steady: when each was made (monotonic ms) */
	long first_open;  /* every check-in before it is answered */
	long answered;
	uint32_t *sent;
	int nsent;
	int size; /* batch size (halved on 413) */
	int64_t wall0, mono0;
	/* request */
	int busy;
	int kind;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	buf reply;
	int retry_after;
	double t0;
	double next_at;
	int failures;
} kiosk;

static kiosk *K;
static long NK;
static CURLM *multi;
static int inflight;
static int phase;
static double phase_t0[PHASE_END + 1];
static double run_t0;

typedef struct counts {
	long made, answered, ok, retry_dup, doubles, rejected, foreign;
	long http[600];
	long http503_retry_after; /* 503s that said when to come back (the hub's; haproxy's own say not) */
	long curl[128];           /* requests that got no answer, by libcurl's reason */
	long net_errors, bad_replies, too_large;
	long enrol_failed, auth_failed;
	long pushes;
	double *lat;
	size_t nlat, caplat;
	double *ack_lat;
	size_t nack, capack;
	double *pull_lat;
	size_t npull, cappull;
} counts;
static counts stats, before_push;
static double self_cpu_at_push; /* the load generator's own CPU seconds when the push phase began */

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static wire_rec *scratch;

static void push_sample(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		double *p = realloc(*v, c * sizeof *p);
		if (!p)
			die("out of memory");
		*v = p, *cap = c;
	}
	(*v)[(*n)++] = x;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static double unit_random(void)
{
	return (double)(random() % 1000) / 1000.0;
}

/* Check-in i of kiosk k (0-based; device sequence i + 1), as the kiosk's outbox gives it to wire.c. */
static void make_rec(const kiosk *k, long i, wire_rec *w)
{
	memset(w, 0, sizeof *w);
	snprintf(w->kind, sizeof w->kind, "checkin");
	snprintf(w->id, sizeof w->id, "%.20s%012llx", k->prefix, (unsigned long long)(i + 1));
	w->cols = 1;
	uint64_t h = mix(((uint64_t)k->idx << 32) ^ (uint64_t)i);
	snprintf(w->member, sizeof w->member, "%s", k->members[h % (uint64_t)k->nmembers]);
	if (opt.mode == MODE_STEADY) {
		double at = k->made_at[i];
		w->wall_ms = k->wall0 + (int64_t)(at - phase_t0[PHASE_PUSH]);
		w->mono_ms = k->mono0 + (int64_t)(at - phase_t0[PHASE_PUSH]);
	} else {
		/* a week offline: the queue's check-ins spread over the past seven days */
		int64_t step = k->total ? WEEK_MS / k->total : 0;
		w->wall_ms = k->wall0 - WEEK_MS + step * i;
		w->mono_ms = k->mono0 + step * i;
	}
	if (opt.mode == MODE_STEADY && k->nevents) {
		/* a door over an evening: the venue's event */
		snprintf(w->event, sizeof w->event, "%s", k->events[(h >> 32) % (uint64_t)k->nevents]);
		snprintf(w->key, sizeof w->key, "e:%s", w->event);
	} else {
		char day[16];
		clock_local_date(w->wall_ms, day, sizeof day);
		snprintf(w->key, sizeof w->key, "d:%s", day);
	}
	snprintf(w->method, sizeof w->method, "scan");
	snprintf(w->boot, sizeof w->boot, "%s", k->boot);
	w->seq = i + 1;
	w->visit = 1 + i / k->nmembers;
}

/* The index of a check-in of kiosk k from its id, or -1 when the id is not one of its. */
static long index_of_id(const kiosk *k, const char *id)
{
	if (strncmp(id, k->prefix, 20) != 0)
		return -1;
	unsigned long long seq = strtoull(id + 20, NULL, 16);
	return seq >= 1 && (long long)seq <= k->made ? (long)seq - 1 : -1;
}

/* ---- HTTP ---- */

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	buf *b = ctx;
	size_t len = size * nmemb;
	if (b->n + len > WIRE_MAX_REPLY) {
		b->too_big = 1;
		return 0;
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	kiosk *k = ctx;
	size_t len = size * nmemb;
	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		char v[24];
		size_t n = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
		memcpy(v, data + 12, n);
		v[n] = '\0';
		long s = strtol(v, NULL, 10);
		if (s > 0)
			k->retry_after = s > SYNC_RETRY_AFTER_MAX_S ? SYNC_RETRY_AFTER_MAX_S : (int)s;
	}
	return len;
}

static size_t gzip(const char *body, size_t n, char **out)
{
	z_stream z = {0};
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	size_t cap = deflateBound(&z, (uLong)n) + 32;
	if (!(*out = malloc(cap))) {
		deflateEnd(&z);
		return 0;
	}
	z.next_in = (Bytef *)body;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	size_t len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return 0;
	}
	return len;
}

/* Start one request for kiosk k; the body (malloc'd or NULL) is the kiosk's until it ends. */
static void start(kiosk *k, int kind, const char *url, char *body, size_t len, int gz, const char *extra)
{
	CURL *e = curl_easy_init();
	if (!e)
		die("cannot start an HTTP request");
	k->headers = NULL;
	if (k->token[0]) {
		char auth[WIRE_TOKEN_MAX + 32];
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", k->token);
		k->headers = curl_slist_append(k->headers, auth);
	}
	if (extra)
		k->headers = curl_slist_append(k->headers, extra);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)TOTAL_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (k->in_round)
		curl_easy_setopt(e, CURLOPT_SHARE, k->conn); /* the kiosk's one connection */
	else
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L); /* enrolment: a connection of its own */
	if (opt.cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, opt.cacert);
	if (k->src[0])
		curl_easy_setopt(e, CURLOPT_INTERFACE, k->src);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &k->reply);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, k);
	curl_easy_setopt(e, CURLOPT_PRIVATE, k);
	k->body = body;
	k->body_len = len;
	if (body) {
		k->headers = curl_slist_append(k->headers, "Content-Type: application/json");
		if (gz)
			k->headers = curl_slist_append(k->headers, "Content-Encoding: gzip");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, k->headers);
	memset(&k->reply, 0, sizeof k->reply);
	k->retry_after = 0;
	k->kind = kind;
	k->easy = e;
	k->busy = 1;
	k->t0 = now_ms();
	inflight++;
	curl_multi_add_handle(multi, e);
}

static void start_enrol(kiosk *k)
{
	char url[SYNC_URL_MAX + 32], pk[65], half[33];
	clock_new_id(pk);
	clock_new_id(half);
	memcpy(pk + 32, half, 33);
	snprintf(url, sizeof url, "%s/v1/enroll", opt.hub);
	char name[32];
	snprintf(name, sizeof name, "loadgen %d", k->idx + 1);
	char *body = wire_enroll_body(k->code, k->device_id, name, pk);
	if (!body)
		die("out of memory");
	start(k, X_ENROL, url, body, strlen(body), 0, NULL);
}

static void start_pull(kiosk *k)
{
	char url[SYNC_URL_MAX + 160];
	snprintf(url, sizeof url, "%s/v1/venues/%s/pull/%s?since=%lld&limit=%d", opt.hub, k->venue,
		 store_set_name((store_set)k->set), (long long)k->since,
		 k->since == 0 || k->snapshot ? SYNC_SNAPSHOT_PAGE : SYNC_BATCH); /* as the kiosk asks */
	start(k, X_PULL, url, NULL, 0, 0, NULL);
}

/* The next batch: up to k->size check-ins made and not yet answered, oldest first. */
static void start_push(kiosk *k)
{
	int n = 0;
	for (long i = k->first_open; i < k->made && n < k->size; i++)
		if (!(k->st[i] & ANSWERED)) {
			make_rec(k, i, &scratch[n]);
			k->sent[n++] = (uint32_t)i;
		}
	size_t used = 0;
	char why[256];
	char *json = wire_push_body_fit(k->device_id, clock_wall_ms(), scratch, (size_t)n, &used, why, sizeof why);
	if (!json)
		die("kiosk %d: the push body: %s", k->idx + 1, why);
	k->nsent = (int)used;
	for (int j = 0; j < k->nsent; j++)
		if ((k->st[k->sent[j]] & SENDS) < SENDS)
			k->st[k->sent[j]]++;
	char *packed = NULL;
	size_t len = gzip(json, strlen(json), &packed);
	free(json);
	if (!len)
		die("cannot compress a push body");
	char url[SYNC_URL_MAX + 128], queue[96] = "";
	snprintf(url, sizeof url, "%s/v1/venues/%s/push", opt.hub, k->venue);
	long left = k->made - k->answered - (long)used;
	/* the round's first push, its last, and at most once a second between */
	double t = now_ms();
	if (!k->pushes_this_round || left <= 0 || t - k->queue_said >= 1000) {
		snprintf(queue, sizeof queue, "X-Tingzi-Queue: pending=%ld dead=0", left > 0 ? left : 0);
		k->queue_said = t;
	}
	k->pushes_this_round++;
	start(k, X_PUSH, url, packed, len, 1, queue[0] ? queue : NULL);
}

/* ---- what a reply does ---- */

static void end_round(kiosk *k);

/* Enrolment failed for a while: try again after the back-off. */
static void backoff(kiosk *k)
{
	k->failures++;
	double wait = (double)sync_next_wait_ms(SYNC_NETWORK, k->failures, k->retry_after, 0, unit_random());
	k->next_at = now_ms() + wait;
}

/* A request of the round failed: a push's failure goes on to the pulls, a pull's ends the round. */
static void round_fails(kiosk *k)
{
	k->round_failed = 1;
	if (k->retry_after > k->round_retry_after)
		k->round_retry_after = k->retry_after;
	if (k->stage == R_PUSH && !opt.no_pulls) {
		k->stage = R_PULL;
		k->set = 0;
		k->since = k->cursor[0];
	} else {
		k->stage = -1; /* over */
	}
}

static void fail_kiosk(kiosk *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: kiosk %d: ", k->idx + 1);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	k->state = ST_FAILED;
}

/* The roster's uids a kiosk checks in (a sample of its venue's live members) and its events. */
static void take_roster(kiosk *k, store_set set, const char *items)
{
	if (set == STORE_SET_LINKS)
		return;
	json_t *a = json_loads(items, 0, NULL);
	size_t i;
	json_t *it;
	json_array_foreach(a, i, it)
	{
		const char *uid = json_string_value(json_object_get(it, "uid"));
		int gone = json_is_true(json_object_get(it, "deleted")) ||
			   json_is_string(json_object_get(it, "merged_into"));
		if (!uid || gone)
			continue;
		if (set == STORE_SET_MEMBERS) {
			k->roster_size++;
			if (k->nmembers < MEMBER_SAMPLE)
				snprintf(k->members[k->nmembers++], STORE_ID_MAX, "%s", uid);
		} else if (k->nevents < EVENT_SAMPLE) {
			snprintf(k->events[k->nevents++], STORE_ID_MAX, "%s", uid);
		}
	}
	json_decref(a);
}

static int retryable(long status)
{
	return status == 429 || status >= 500;
}

static void count_status(long status)
{
	if (status >= 0 && status < 600)
		stats.http[status]++;
}

static void on_enrolled(kiosk *k, long status)
{
	char why[256];
	wire_enrolled en;
	if ((status == 201 || status == 200) &&
	    wire_enroll_reply(k->reply.p ? k->reply.p : "", k->reply.n, &en, why, sizeof why) == 0) {
		snprintf(k->token, sizeof k->token, "%s", en.token);
		snprintf(k->venue, sizeof k->venue, "%s", en.venue_id);
		k->state = ST_SYNC;
		k->failures = 0;
		return;
	}
	if (retryable(status)) {
		backoff(k);
		return;
	}
	char code[48], msg[160];
	wire_error_reply(k->reply.p ? k->reply.p : "", k->reply.n, code, sizeof code, msg, sizeof msg);
	stats.enrol_failed++;
	fail_kiosk(k, "enrolment answered %ld %s %s", status, code, msg);
}

static void on_pulled(kiosk *k, long status)
{
	char why[256];
	if (status != 200) {
		if (status == 401 || status == 403) {
			stats.auth_failed++;
			fail_kiosk(k, "pull answered %ld", status);
		} else {
			round_fails(k);
		}
		return;
	}
	wire_page pg;
	if (wire_pull_reply(k->reply.p ? k->reply.p : "", k->reply.n, (store_set)k->set, k->since, &pg, why,
			    sizeof why) != 0) {
		stats.bad_replies++;
		fprintf(stderr, "loadgen: kiosk %d: pull %s: %s\n", k->idx + 1, store_set_name((store_set)k->set),
			why);
		round_fails(k);
		return;
	}
	if (k->rounds == 0)
		take_roster(k, (store_set)k->set, pg.items);
	if (pg.reset)
		k->snapshot = 1;
	k->since = pg.next;
	int more = pg.more;
	wire_page_free(&pg);
	if (more)
		return; /* the next page */
	k->cursor[k->set] = k->since;
	k->snapshot = 0;
	if (++k->set < STORE_SET_COUNT) {
		k->since = k->cursor[k->set];
		return;
	}
	k->stage = -1; /* the round's last request */
}

static void on_pushed(kiosk *k, long status, double ms)
{
	char why[256];
	if (status == 413 && k->size > 1) {
		stats.too_large++;
		k->size /= 2;
		return;
	}
	if (status != 200) {
		if (status == 401 || status == 403) {
			stats.auth_failed++;
			fail_kiosk(k, "push answered %ld", status);
		} else {
			round_fails(k);
		}
		return;
	}
	for (int j = 0; j < k->nsent; j++)
		snprintf(scratch[j].id, sizeof scratch[j].id, "%.20s%012llx", k->prefix,
			 (unsigned long long)k->sent[j] + 1);
	store_ack *acks = NULL;
	size_t n = 0;
	int64_t offset;
	if (wire_push_reply(k->reply.p ? k->reply.p : "", k->reply.n, scratch, (size_t)k->nsent, &acks, &n, &offset,
			    why, sizeof why) != 0) {
		stats.bad_replies++;
		if (stats.bad_replies <= 5)
			fprintf(stderr, "loadgen: kiosk %d: push: %s (%zu bytes)\n", k->idx + 1, why, k->reply.n);
		round_fails(k);
		return;
	}
	stats.pushes++;
	push_sample(&stats.lat, &stats.nlat, &stats.caplat, ms);
	long newly = 0;
	double t = now_ms();
	for (size_t j = 0; j < n; j++) {
		long i = index_of_id(k, acks[j].id);
		if (i < 0) {
			stats.foreign++; /* an answer for an id this kiosk never made */
			continue;
		}
		uint8_t *s = &k->st[i];
		if (*s & ANSWERED) {
			stats.doubles++; /* answered before */
			continue;
		}
		switch (acks[j].status) {
		case STORE_ACK_OK: stats.ok++; break;
		case STORE_ACK_DUPLICATE:
			if ((*s & SENDS) > 1)
				stats.retry_dup++; /* an earlier send was committed, its answer lost */
			else
				stats.doubles++; /* the hub held it before it was ever sent */
			break;
		case STORE_ACK_REJECTED:
			stats.rejected++;
			if (stats.rejected <= 5)
				fprintf(stderr, "loadgen: kiosk %d: check-in %s rejected: %s\n", k->idx + 1,
					acks[j].id, acks[j].reason);
			break;
		}
		*s |= ANSWERED;
		newly++;
		if (k->made_at)
			push_sample(&stats.ack_lat, &stats.nack, &stats.capack, t - k->made_at[i]);
	}
	free(acks);
	k->answered += newly;
	stats.answered += newly;
	while (k->first_open < k->made && (k->st[k->first_open] & ANSWERED))
		k->first_open++;
	if (newly == 0) {
		stats.bad_replies++;
		round_fails(k); /* an answer about none of what was sent: do not loop */
		return;
	}
}

static void finish(CURLMsg *m)
{
	kiosk *k;
	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&k);
	long status = 0;
	double ms = now_ms() - k->t0;
	if (m->data.result == CURLE_OK)
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(multi, m->easy_handle);
	curl_easy_cleanup(m->easy_handle);
	curl_slist_free_all(k->headers);
	k->headers = NULL;
	free(k->body);
	k->body = NULL;
	k->easy = NULL;
	k->busy = 0;
	inflight--;
	if (m->data.result != CURLE_OK) {
		stats.net_errors++;
		stats.curl[(unsigned)m->data.result < 128 ? m->data.result : 127]++;
		if (stats.net_errors <= 5 || stats.net_errors % 1000 == 0)
			fprintf(stderr, "loadgen: kiosk %d: %s (%ld network errors so far)\n", k->idx + 1,
				curl_easy_strerror(m->data.result), stats.net_errors);
		if (k->kind == X_ENROL)
			backoff(k);
		else if (k->state != ST_FAILED)
			round_fails(k);
	} else {
		count_status(status);
		if (status == 503 && k->retry_after > 0)
			stats.http503_retry_after++;
		if (k->kind == X_ENROL)
			on_enrolled(k, status);
		else if (k->kind == X_PULL)
			on_pulled(k, status);
		else
			on_pushed(k, status, ms);
	}
	free(k->reply.p);
	memset(&k->reply, 0, sizeof k->reply);
	if (k->in_round && (k->stage < 0 || k->state == ST_FAILED))
		end_round(k);
}

/* ---- the run ---- */

static void read_codes(void)
{
	if (opt.codes_file) {
		FILE *f = fopen(opt.codes_file, "r");
		if (!f)
			die("cannot read %s: %s", opt.codes_file, strerror(errno));
		char line[256];
		long n = 0;
		while (n < NK && fgets(line, sizeof line, f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (!line[0])
				continue;
			snprintf(K[n++].code, sizeof K[0].code, "%.64s", line);
		}
		fclose(f);
		if (n < NK)
			die("%s has %ld codes for %ld kiosks", opt.codes_file, n, NK);
		return;
	}
	/* one code a kiosk from the hub's command line, the venues taken in turn */
	double t0 = now_ms();
	for (long i = 0; i < NK; i++) {
		int fd[2];
		if (pipe(fd) != 0)
			die("pipe: %s", strerror(errno));
		pid_t pid = fork();
		if (pid == 0) {
			dup2(fd[1], 1);
			close(fd[0]);
			close(fd[1]);
			if (!freopen("/dev/null", "w", stderr))
				_exit(127);
			const char *venue = opt.venues[i % opt.nvenues];
			if (opt.hub_db)
				execl(opt.hub_cli, opt.hub_cli, "--db", opt.hub_db, "devices", "enroll-code", venue,
				      (char *)NULL);
			else
				execl(opt.hub_cli, opt.hub_cli, "devices", "enroll-code", venue, (char *)NULL);
			_exit(127);
		}
		close(fd[1]);
		char out[128] = "";
		ssize_t got = 0, r;
		while (got < (ssize_t)sizeof out - 1 && (r = read(fd[0], out + got, sizeof out - 1 - got)) > 0)
			got += r;
		out[got > 0 ? got : 0] = '\0';
		close(fd[0]);
		int st;
		waitpid(pid, &st, 0);
		out[strcspn(out, "\r\n")] = '\0';
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strlen(out) < 8)
			die("%s devices enroll-code %s failed", opt.hub_cli, opt.venues[i % opt.nvenues]);
		snprintf(K[i].code, sizeof K[i].code, "%.64s", out);
	}
	fprintf(stderr, "loadgen: %ld enrolment codes made with %s in %.1f s\n", NK, opt.hub_cli,
		(now_ms() - t0) / 1e3);
}

static void setup(void)
{
	NK = opt.kiosks;
	K = calloc((size_t)NK, sizeof *K);
	scratch = calloc(SYNC_BATCH, sizeof *scratch);
	if (!K || !scratch)
		die("out of memory");
	read_codes();
	long budget = opt.max_checkins ? opt.max_checkins : -1;
	long per = opt.mode == MODE_BACKLOG ? opt.backlog
		   : opt.mode == MODE_STEADY ? (long)floor(opt.duration_s / opt.every_s)
					     : 0;
	for (long i = 0; i < NK; i++) {
		kiosk *k = &K[i];
		k->idx = (int)i;
		clock_new_id(k->device_id);
		char id[STORE_ID_MAX];
		clock_new_id(id);
		snprintf(k->prefix, sizeof k->prefix, "%.20s", id);
		clock_new_id(id);
		snprintf(k->boot, sizeof k->boot, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16,
			 id + 20);
		if (opt.spread) {
			long a = i + 1;
			snprintf(k->src, sizeof k->src, "host!127.1.%ld.%ld", a / 250, a % 250 + 1);
		}
		k->members = malloc(MEMBER_SAMPLE * sizeof *k->members);
		k->size = opt.batch;
		long total = per;
		if (budget >= 0) {
			total = total < budget ? total : budget;
			budget -= total;
		}
		k->total = total;
		k->st = calloc((size_t)(total ? total : 1), 1);
		k->sent = calloc(SYNC_BATCH, sizeof *k->sent);
		if (opt.mode == MODE_STEADY)
			k->made_at = calloc((size_t)(total ? total : 1), sizeof *k->made_at);
		if (!k->members || !k->st || !k->sent || (opt.mode == MODE_STEADY && !k->made_at))
			die("out of memory");
		k->state = ST_ENROL;
	}
}

static long sum_total(void)
{
	long t = 0;
	for (long i = 0; i < NK; i++)
		t += K[i].state == ST_FAILED ? 0 : K[i].total;
	return t;
}

/* The kiosks' phase is over when none is left with something to do in it. */
static int phase_over(void)
{
	for (long i = 0; i < NK; i++) {
		kiosk *k = &K[i];
		if (k->state == ST_FAILED)
			continue;
		if (k->busy || k->in_round)
			return 0;
		if (phase == PHASE_ENROL && k->state == ST_ENROL)
			return 0;
		if (phase == PHASE_PULL && k->rounds == 0)
			return 0;
		if (phase == PHASE_PUSH && (k->made < k->total || k->answered < k->made))
			return 0;
	}
	return 1;
}

static void enter_phase(int p)
{
	double t = now_ms();
	phase_t0[p] = t;
	phase = p;
	int64_t wall = clock_wall_ms(), mono = clock_mono_ms();
	for (long i = 0; i < NK; i++) {
		kiosk *k = &K[i];
		if (k->state == ST_FAILED)
			continue;
		k->next_at = t;
		k->failures = 0;
		if (p == PHASE_PULL)
			k->pull_t0 = t;
		if (p == PHASE_PUSH) {
			if (k->nmembers == 0 && k->total > 0) {
				fail_kiosk(k, "its venue has no members to check in");
				continue;
			}
			k->wall0 = wall, k->mono0 = mono;
			if (opt.mode == MODE_BACKLOG) {
				k->made = k->total;
			} else {
				/* the first check-in at a random moment of the first interval */
				for (long j = 0; j < k->total; j++)
					k->made_at[j] = t + opt.every_s * 1e3 *
								((double)j + (double)(mix((uint64_t)i) % 1000) / 1000.0);
			}
		}
	}
	if (p == PHASE_PUSH) {
		stats.made = 0;
		for (long i = 0; i < NK; i++)
			stats.made += K[i].state == ST_FAILED ? 0 : K[i].made;
		before_push = stats;
		self_cpu_at_push = self_cpu();
	}
	watch_sample(p);
}

/* Steady: check-ins whose moment has come are made; each kicks its kiosk's worker. */
static void make_due(double t)
{
	for (long i = 0; i < NK; i++) {
		kiosk *k = &K[i];
		if (k->state == ST_FAILED)
			continue;
		int kicked = 0;
		while (k->made < k->total && k->made_at[k->made] <= t) {
			k->made++;
			stats.made++;
			kicked = 1;
		}
		if (kicked && !k->in_round)
			k->next_at = t; /* a check-in starts a round now, also during a back-off */
	}
}

/* Kiosk k has a request to make in this phase (now or after its wait). */
static int wants(const kiosk *k)
{
	if (k->busy || (k->state != ST_SYNC && k->state != ST_ENROL))
		return 0;
	if (k->in_round)
		return 1;
	switch (phase) {
	case PHASE_ENROL: return k->state == ST_ENROL;
	case PHASE_PULL: return k->state == ST_SYNC && k->rounds == 0;
	case PHASE_PUSH: return k->state == ST_SYNC && k->answered < k->made;
	}
	return 0;
}

static void begin_round(kiosk *k)
{
	/* the connection and the TLS session, as the kiosk's one libcurl handle keeps both */
	if (!k->conn && (!(k->conn = curl_share_init()) ||
			 curl_share_setopt(k->conn, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) ||
			 curl_share_setopt(k->conn, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION)))
		die("cannot keep a connection for the kiosk (libcurl's share)");
	k->in_round = 1;
	k->round_failed = 0;
	k->round_retry_after = 0;
	k->pushes_this_round = 0;
	k->queue_said = 0;
	k->stage = R_PUSH;
	if (k->rounds == 0) { /* the first round takes the roster whole, also when one was cut short */
		k->nmembers = k->nevents = 0;
		k->roster_size = 0;
		memset(k->cursor, 0, sizeof k->cursor);
	}
	k->set = 0;
	k->since = k->cursor[0];
	k->snapshot = 0;
}

/* The round is over (its connection stays open); the next one comes after a back-off if it failed. */
static void end_round(kiosk *k)
{
	k->in_round = 0;
	double t = now_ms();
	if (k->state == ST_FAILED)
		return;
	if (k->rounds++ == 0 && !k->round_failed) {
		k->pull_ms = t - k->pull_t0;
		push_sample(&stats.pull_lat, &stats.npull, &stats.cappull, k->pull_ms);
	} else if (k->rounds == 1) {
		k->rounds = 0; /* the first round failed: the first pull is not done */
	}
	if (k->round_failed) {
		k->failures++;
		k->next_at = t + (double)sync_next_wait_ms(SYNC_NETWORK, k->failures, k->round_retry_after, 0,
							   unit_random());
	} else {
		k->failures = 0;
		k->next_at = t; /* check-ins made while it pulled start the next round at once */
	}
}

/* The round's next request: a push while check-ins wait (not in the first round), then the pulls. */
static void round_step(kiosk *k)
{
	if (k->stage == R_PUSH && phase == PHASE_PUSH && k->answered < k->made) {
		start_push(k);
		return;
	}
	if (k->stage == R_PUSH) {
		if (opt.no_pulls && k->rounds > 0) {
			end_round(k);
			return;
		}
		k->stage = R_PULL;
		k->set = 0;
		k->since = k->cursor[0];
	}
	start_pull(k);
}

static void schedule(double t)
{
	for (long i = 0; i < NK && inflight < opt.concurrency; i++) {
		kiosk *k = &K[i];
		if (!wants(k) || k->next_at > t)
			continue;
		if (k->state == ST_ENROL) {
			start_enrol(k);
			continue;
		}
		if (!k->in_round)
			begin_round(k);
		round_step(k);
	}
}

static void progress(double t, long *last_answered, double *last_t)
{
	double el = (t - run_t0) / 1e3;
	static const char *const names[] = {"enrol", "pull", "push", "end"};
	long retries = stats.http[503] + stats.http[429] + stats.http[502] + stats.http[504] + stats.net_errors;
	if (phase == PHASE_PUSH) {
		double rate = (double)(stats.answered - *last_answered) / ((t - *last_t) / 1e3);
		double all = (double)stats.answered / ((t - phase_t0[PHASE_PUSH]) / 1e3);
		fprintf(stderr,
			"loadgen: %5.0f s push  %ld/%ld answered (%ld made)  %.0f/s (now %.0f/s)  in flight %d  "
			"retries %ld (503 %ld, 429 %ld, 502 %ld, net %ld)  errors %ld  doubles %ld\n",
			el, stats.answered, sum_total(), stats.made, all, rate, inflight, retries, stats.http[503],
			stats.http[429], stats.http[502], stats.net_errors,
			stats.rejected + stats.enrol_failed + stats.auth_failed + stats.http[500], stats.doubles);
	} else {
		long done = 0;
		for (long i = 0; i < NK; i++)
			done += phase == PHASE_ENROL ? K[i].state != ST_ENROL : K[i].rounds > 0;
		fprintf(stderr, "loadgen: %5.0f s %s  %ld/%ld kiosks  in flight %d  retries %ld  errors %ld\n", el,
			names[phase], done, NK, inflight, retries, stats.enrol_failed + stats.auth_failed + stats.bad_replies);
	}
	*last_answered = stats.answered;
	*last_t = t;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmpd);
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int over;

static void budget(const char *name, double value, int at_most, double limit)
{
	if (!opt.check || limit <= 0)
		return;
	int ok = at_most ? value <= limit : value >= limit;
	printf("BUDGET %s_%s %g %s %g %s\n", opt.label, name, value, at_most ? "<=" : ">=", limit, ok ? "ok" : "over");
	over += !ok;
}

static void write_ids(void)
{
	FILE *f = fopen(opt.ids_out, "w");
	if (!f)
		die("cannot write %s: %s", opt.ids_out, strerror(errno));
	for (long i = 0; i < NK; i++)
		for (long j = 0; j < K[i].made; j++)
			fprintf(f, "%.20s%012llx\n", K[i].prefix, (unsigned long long)j + 1);
	if (fclose(f) != 0)
		die("cannot write %s", opt.ids_out);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	ticks_per_s = (double)sysconf(_SC_CLK_TCK);
	srandom((unsigned)getpid() ^ (unsigned)clock_wall_ms());
	/* a socket a kiosk, and some */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (long)rl.rlim_cur < opt.concurrency + 64)
		die("%d requests at once need %d open files; the limit is %llu (ulimit -n)", opt.concurrency,
		    opt.concurrency + 64, (unsigned long long)rl.rlim_cur);
	if (curl_global_init(CURL_GLOBAL_ALL) != 0 || !(multi = curl_multi_init()))
		die("cannot start libcurl");
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)opt.concurrency + 16);
	setup();

	run_t0 = now_ms();
	enter_phase(PHASE_ENROL);
	double limit = run_t0 + opt.time_limit_s * 1e3, last_progress = run_t0, last_t = run_t0,
	       last_sample = run_t0;
	long last_answered = 0;
	int timed_out = 0;
	while (phase != PHASE_END) {
		double t = now_ms();
		if (t > limit) {
			timed_out = 1;
			break;
		}
		if (phase == PHASE_PUSH && opt.mode == MODE_STEADY)
			make_due(t);
		if (inflight < opt.concurrency)
			schedule(t);
		int running;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)))
			if (m->msg == CURLMSG_DONE)
				finish(m);
		t = now_ms();
		if (t - last_sample >= 1000) {
			watch_sample(-1);
			last_sample = t;
		}
		if (t - last_progress >= 1000) {
			progress(t, &last_answered, &last_t);
			last_progress = t;
		}
		if (inflight == 0 && phase_over()) {
			phase_t0[phase + 1] = t;
			if (phase == PHASE_ENROL)
				enter_phase(PHASE_PULL);
			else if (phase == PHASE_PULL && opt.mode != MODE_PULL)
				enter_phase(PHASE_PUSH);
			else
				phase = PHASE_END;
			continue;
		}
		/* sleep until a socket has something or the next due moment (at most 20 ms) */
		double soon = t + 20;
		for (long i = 0; i < NK; i++) {
			kiosk *k = &K[i];
			if (k->next_at < soon && wants(k))
				soon = k->next_at;
			if (phase == PHASE_PUSH && opt.mode == MODE_STEADY && k->made < k->total &&
			    k->made_at[k->made] < soon)
				soon = k->made_at[k->made];
		}
		int wait = soon > t ? (int)(soon - t) : 0;
		curl_multi_poll(multi, NULL, 0, wait, NULL);
	}
	double t_end = now_ms();
	for (long i = 0; i < NK; i++)
		if (!K[i].busy && K[i].conn) { /* a share still in use by a request cut short stays */
			curl_share_cleanup(K[i].conn);
			K[i].conn = NULL;
		}
	if (timed_out) {
		fprintf(stderr, "loadgen: the time limit (%g s) was reached in the %s phase\n", opt.time_limit_s,
			phase == PHASE_ENROL ? "enrol" : phase == PHASE_PULL ? "pull" : "push");
		phase_t0[phase + 1] = t_end;
	}
	watch_sample(PHASE_END);
	progress(t_end, &last_answered, &last_t);

	/* ---- figures ---- */
	const char *L = opt.label;
	long total = sum_total(), failed = 0;
	for (long i = 0; i < NK; i++)
		failed += K[i].state == ST_FAILED;
	long lost = total - stats.answered;
	double enrol_s = (phase_t0[PHASE_PULL] - phase_t0[PHASE_ENROL]) / 1e3;
	double pull_s = phase_t0[PHASE_PULL + 1] > 0 ? (phase_t0[PHASE_PULL + 1] - phase_t0[PHASE_PULL]) / 1e3 : 0;
	long refused = 0; /* 4xx other than 429 (back off) and 413 (smaller batches) */
	for (int s = 400; s < 500; s++)
		refused += s == 429 || s == 413 ? 0 : stats.http[s];
	printf("BENCH %s_kiosks %ld kiosks (%ld failed; %s)\n", L, NK, failed,
	       opt.mode == MODE_BACKLOG ? "backlog" : opt.mode == MODE_STEADY ? "steady" : "pull");
	printf("BENCH %s_enrol_s %.2f s (%ld kiosks enrolled at once)\n", L, enrol_s, NK - stats.enrol_failed);
	if (stats.npull) {
		long members = 0;
		for (long i = 0; i < NK; i++)
			members += K[i].roster_size;
		printf("BENCH %s_pull_s %.2f s (every kiosk's first pull of members, events and links, all at once; "
		       "%ld members in all, %.0f a kiosk)\n",
		       L, pull_s, members, (double)members / (double)NK);
		double *pl = stats.pull_lat;
		size_t np = stats.npull;
		double p50 = pct(pl, np, 50), p99 = pct(pl, np, 99), mx = pl[np - 1];
		printf("BENCH %s_first_pull_p50_s %.3f s (one kiosk's whole roster, %zu kiosks)\n", L, p50 / 1e3, np);
		printf("BENCH %s_first_pull_max_s %.3f s (p99 %.3f s)\n", L, mx / 1e3, p99 / 1e3);
		budget("first_pull_max_s", mx / 1e3, 1, opt.budget_pull_s);
	}
	/* what the enrol and pull phases took of the hub and how often they were told to come back */
	counts *pre = opt.mode == MODE_PULL || !(phase_t0[PHASE_PUSH] > 0) ? &stats : &before_push;
	printf("BENCH %s_pull_retries %ld (enrol and pull phases: 503 %ld, 429 %ld, 502 %ld, network %ld)\n", L,
	       pre->http[503] + pre->http[429] + pre->http[502] + pre->http[504] + pre->net_errors + pre->bad_replies,
	       pre->http[503], pre->http[429], pre->http[502], pre->net_errors);
	for (int i = 0; i < opt.npids; i++) {
		watched *w = &opt.pids[i];
		int to = opt.mode == MODE_PULL ? PHASE_END : PHASE_PUSH;
		if ((w->seen & (1 << PHASE_PULL)) && (w->seen & (1 << to)))
			printf("BENCH %s_pull_cpu_%s_s %.1f s (CPU over the pull phase's %.1f s)\n", L, w->name,
			       w->cpu[to] - w->cpu[PHASE_PULL], pull_s);
	}
	int errors_ok = 1;
	if (opt.mode != MODE_PULL && phase_t0[PHASE_PUSH] > 0) {
		double push_s = ((timed_out ? t_end : phase_t0[PHASE_END]) - phase_t0[PHASE_PUSH]) / 1e3;
		double rate = push_s > 0 ? (double)stats.answered / push_s : 0;
		printf("BENCH %s_push_s %.2f s (%ld kiosks x %ld check-ins: %ld of %ld answered)\n", L, push_s, NK,
		       opt.mode == MODE_BACKLOG ? opt.backlog : K[0].total, stats.answered, total);
		printf("BENCH %s_checkins_per_s %.0f /s (answered / push phase)\n", L, rate);
		double *lat = stats.lat;
		size_t nl = stats.nlat;
		double p50 = pct(lat, nl, 50), p99 = pct(lat, nl, 99);
		printf("BENCH %s_push_p50_ms %.1f ms (%zu pushes answered 200: connection, TLS, haproxy's queue and the "
		       "hub's work)\n",
		       L, p50, nl);
		printf("BENCH %s_push_p99_ms %.1f ms (max %.1f)\n", L, p99, nl ? lat[nl - 1] : 0.0);
		if (stats.nack) {
			double a50 = pct(stats.ack_lat, stats.nack, 50), a99 = pct(stats.ack_lat, stats.nack, 99);
			printf("BENCH %s_checkin_to_answer_p50_ms %.1f ms (made at the kiosk to answered by the hub, "
			       "retries included)\n",
			       L, a50);
			printf("BENCH %s_checkin_to_answer_p99_ms %.1f ms\n", L, a99);
		}
		long errors = stats.rejected + failed + stats.foreign + refused + stats.http[500] + lost;
		printf("BENCH %s_errors %ld (rejected %ld, failed kiosks %ld, answers for ids never made %ld, 4xx %ld, "
		       "500 %ld, not answered %ld)\n",
		       L, errors, stats.rejected, failed, stats.foreign, refused, stats.http[500], lost);
		printf("BENCH %s_duplicates %ld (true doubles: an id answered twice, or answered \"duplicate\" at its "
		       "first send)\n",
		       L, stats.doubles);
		printf("BENCH %s_retry_duplicates %ld (\"duplicate\" after a send whose answer was lost)\n", L,
		       stats.retry_dup);
		long r503 = stats.http[503] - pre->http[503], r503ra = stats.http503_retry_after - pre->http503_retry_after;
		long r429 = stats.http[429] - pre->http[429], r502 = stats.http[502] - pre->http[502],
		     r504 = stats.http[504] - pre->http[504], rnet = stats.net_errors - pre->net_errors,
		     rbad = stats.bad_replies - pre->bad_replies;
		printf("BENCH %s_retries %ld (push phase: 503 %ld of which %ld with Retry-After, 429 %ld, 502 %ld, 504 "
		       "%ld, 413 %ld, network %ld, replies cut short or malformed %ld)\n",
		       L, r503 + r429 + r502 + r504 + stats.too_large + rnet + rbad, r503, r503ra, r429, r502, r504,
		       stats.too_large, rnet, rbad);
		for (int i = 0; i < opt.npids; i++) {
			watched *w = &opt.pids[i];
			if ((w->seen & (1 << PHASE_PUSH)) && (w->seen & (1 << PHASE_END)))
				printf("BENCH %s_cpu_%s_s %.1f s (CPU over the push phase's %.1f s)\n", L, w->name,
				       w->cpu[PHASE_END] - w->cpu[PHASE_PUSH], push_s);
		}
		budget("push_s", push_s, 1, opt.budget_push_s);
		budget("push_p99_ms", p99, 1, opt.budget_p99_ms);
		budget("checkins_per_s", rate, 0, opt.budget_rate);
		errors_ok = errors == 0 && stats.doubles == 0 && !timed_out;
	} else {
		errors_ok = failed == 0 && !timed_out;
	}
	for (int i = 0; i < opt.npids; i++) {
		watched *w = &opt.pids[i];
		printf("BENCH %s_mem_%s_mib %.1f MiB (%s)\n", L, w->name, w->peak_mib,
		       w->tree ? "peak of the processes' summed PSS, sampled each second" : "peak RSS, VmHWM");
	}
	double mine = self_cpu();
	printf("BENCH %s_cpu_loadgen_s %.1f s (the load generator itself, whole run; %.1f s of it in the push "
	       "phase)\n",
	       L, mine, self_cpu_at_push > 0 ? mine - self_cpu_at_push : 0.0);
	for (int c = 1; c < 128; c++)
		if (stats.curl[c])
			fprintf(stderr, "loadgen: %ld requests got no answer: %s\n", stats.curl[c],
				curl_easy_strerror((CURLcode)c));
	if (opt.ids_out)
		write_ids();
	fflush(stdout);
	if (!errors_ok)
		fprintf(stderr, "loadgen: not every check-in was answered exactly once without an error\n");
	if (over)
		fprintf(stderr, "loadgen: %d figure(s) past their budget\n", over);
	return errors_ok && !over ? 0 : 1;
}
