/* SPDX-License-Identifier: MIT */
/*
 * options.c - foliotorture's command line: parse and check every option
 * before any work starts (a bad value is exit 2 with one message), merge
 * the scenario's sizes with the size options (an option the user gave
 * wins over the scenario, and the header says so), and write the complete
 * command that reproduces a run's configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/page_alloc.h"
#include "folio/window.h"
#include "folio/world.h"
#include "ft_version.h"
#include "sanitizer.h"
#include "scenario.h"
#include "torture.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: foliotorture [options]\n"
"Hammer the folio model with real threads and RCU; check invariants at\n"
"quiescent points.\n"
"\n"
"  -S, --scenario NAME|FILE worker mix and sizes (default all)\n"
"  -L, --list-scenarios     list the built-in scenarios and operations\n"
"  -t, --threads N          worker threads (default 4 x online CPUs)\n"
"  -d, --duration SECONDS   run time, > 0 (default 30)\n"
"  -s, --seed N             random seed, decimal (default: from the clock;\n"
"                           printed first)\n"
"  -c, --check-interval MS  quiescent check period (default 1000, 0 = end only)\n"
"  -i, --stat-interval S    status line period (default 5, 0 = off)\n"
"      --pages N            simulated pages (default 65536)\n"
"      --files N            files (default 4)\n"
"      --file-pages N       slots per file (default 4096)\n"
"      --max-order N        largest page-cache folio order (default 4)\n"
"      --pmd-order N        PMD_ORDER of the page tables (default 4)\n"
"      --mms N              address spaces (default 2)\n"
"      --anon-pages N       anon region of each address space (default 2048)\n"
"                           (a size option given here wins over the\n"
"                           scenario's, and the header line says so)\n"
"  -C, --chaos LEVEL        0-3: random yields/sleeps at every core step\n"
"      --json FILE          write the result as JSON (atomically)\n"
"      --hang-timeout S     a worker that takes longer to park for a check\n"
"                           or to stop is hung: FAIL rule=hang (default 60)\n"
"      --require-window R3[,R4...]|aims  FAIL rule=window if a named race\n"
"                           window (docs/design.md 7: R1..R9, R12..R14) was\n"
"                           never hit: a scenario that stopped racing; aims:\n"
"                           the windows the scenario file aims at\n"
"      --self-test[=KIND]   plant a bug the run must report (exit 1):\n"
"                           leak (default) leaks one reference (I-ref);\n"
"                           sanitizer makes the build's sanitizer report;\n"
"                           hang makes a worker spin in an op forever;\n"
"                           crash makes a worker dereference NULL;\n"
"                           data overwrites a page a worker wrote, behind\n"
"                           the data oracle's back (rule data)\n"
"  -h, --help               this text\n"
"  -V, --version            print the version\n"
"\n"
"Exit: 0 PASS, 1 FAIL (invariant violation, leak, sanitizer report, hang,\n"
"crash),\n"
"2 usage error or bad scenario, 128+N INTERRUPTED by signal N (SIGINT:\n"
"130, SIGTERM: 143) with nothing found.  The last line is the summary;\n"
"on a failure the line before it is the command that reruns the same\n"
"configuration (the interleaving itself is the OS scheduler's).\n");
}

static void usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "foliotorture: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\nTry 'foliotorture --help' for more information.\n");
}

/* Decimal only: "010" is ten, not eight (strtoul base 0 read octal). */
static int parse_ulong(const char *name, const char *s, unsigned long lo,
		       unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;
	char range[64];

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' ||
	    s[0] == ' ' || v < lo || v > hi) {
		snprintf(range, sizeof(range), "%lu..%lu", lo, hi);
		fprintf(stderr, "foliotorture: --%s: '%s' is not a decimal number in %s\n",
			name, s, range);
		fprintf(stderr, "Try 'foliotorture --help' for more information.\n");
		return -1;
	}
	*out = v;
	return 0;
}

/* "R3,R4": the race windows (folio/window.h), as a mask; "aims": the
 * scenario's (FT_AIMS until it is loaded); 0 or -1. */
static int parse_windows(const char *s, unsigned int *mask)
{
	char buf[256], *tok, *save;

	if (!strcmp(s, "aims")) {
		*mask |= FT_AIMS;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int w = folio_window_parse(tok);

		if (w < 0) {
			usage_error("--require-window: '%s' is no race window "
				    "(R1..R9, R12, R13, R14)%s", tok, "");
			return -1;
		}
		*mask |= 1u << w;
	}
	if (!*mask) {
		usage_error("--require-window: no window named in '%s'%s", s, "");
		return -1;
	}
	return 0;
}

/* Seconds: finite, in (0, 1e7] (or [0, ...] if @zero_ok). */
static int parse_seconds(const char *name, const char *s, bool zero_ok,
			 double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7 ||
	    (!zero_ok && v == 0)) {
		fprintf(stderr, "foliotorture: --%s: '%s' is not a number of seconds "
			"in %s, 1e7]\n", name, s, zero_ok ? "[0" : "(0");
		fprintf(stderr, "Try 'foliotorture --help' for more information.\n");
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Can @path be written?  The JSON is written to @path.tmp and renamed, so
 * create and remove that file now: a run of an hour must not end in
 * "cannot write".
 */
static int check_writable(const char *path)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		usage_error("--json: path too long: %s%s", path, "");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno == EEXIST)	/* a stale one from a killed run */
		fd = open(tmp, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		fprintf(stderr, "foliotorture: --json: cannot write %s: %s\n",
			tmp, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

/* The size options: name and range (enum ft_size, torture.h). */
#define SZ_PAGES FT_SZ_PAGES
#define SZ_FILES FT_SZ_FILES
#define SZ_FILE_PAGES FT_SZ_FILE_PAGES
#define SZ_MAX_ORDER FT_SZ_MAX_ORDER
#define SZ_PMD_ORDER FT_SZ_PMD_ORDER
#define SZ_MMS FT_SZ_MMS
#define SZ_ANON_PAGES FT_SZ_ANON_PAGES
#define SZ_NR FT_SZ_NR
static const struct {
	const char *opt;	/* option name (the scenario key has '_') */
	unsigned long lo, hi;
} sizes[SZ_NR] = {
	[SZ_PAGES] = { "pages", 1024, FOLIO_MAX_NR_PAGES },
	[SZ_FILES] = { "files", 1, MM_MAX_WINDOWS },
	[SZ_FILE_PAGES] = { "file-pages", 16, 1ul << 24 },
	[SZ_MAX_ORDER] = { "max-order", 0, MAX_PAGE_ORDER },
	[SZ_PMD_ORDER] = { "pmd-order", 1, 9 },
	[SZ_MMS] = { "mms", 1, 16 },
	[SZ_ANON_PAGES] = { "anon-pages", 16, 1ul << 22 },
};

static unsigned long size_get(const struct ft_opts *o, int k)
{
	switch (k) {
	case SZ_PAGES: return o->nr_pages;
	case SZ_FILES: return o->nr_files;
	case SZ_FILE_PAGES: return o->file_pages;
	case SZ_MAX_ORDER: return o->max_order;
	case SZ_PMD_ORDER: return o->pmd_order;
	case SZ_MMS: return o->nr_mms;
	default: return o->anon_pages;
	}
}

static void size_set(struct ft_opts *o, int k, unsigned long v)
{
	switch (k) {
	case SZ_PAGES: o->nr_pages = v; break;
	case SZ_FILES: o->nr_files = (unsigned int)v; break;
	case SZ_FILE_PAGES: o->file_pages = v; break;
	case SZ_MAX_ORDER: o->max_order = (unsigned int)v; break;
	case SZ_PMD_ORDER: o->pmd_order = (unsigned int)v; break;
	case SZ_MMS: o->nr_mms = (unsigned int)v; break;
	default: o->anon_pages = v; break;
	}
}

static void set_defaults(struct ft_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	*o = (struct ft_opts){
		.threads = 4 * (unsigned int)(ncpu > 0 ? ncpu : 1),
		.duration = 30,
		.seed = ft_splitmix((uint64_t)time(NULL) ^ (uint64_t)getpid()),
		.check_interval_ms = 1000,
		.stat_interval = 5,
		.nr_pages = 1ul << 16,
		.nr_files = 4,
		.file_pages = 4096,
		.max_order = 4,
		.pmd_order = 4,
		.nr_mms = 2,
		.anon_pages = 2048,
		.scenario = "all",
		.hang_timeout = 60,
	};
}

int ft_parse_args(int argc, char **argv, struct ft_opts *o,
		  struct ft_scenario *sc)
{
	enum { O_SIZE = 256, O_JSON = O_SIZE + SZ_NR, O_SELF_TEST, O_HANG,
	       O_REQUIRE_WINDOW };
	static const struct option lo[] = {
		{ "scenario", required_argument, 0, 'S' },
		{ "list-scenarios", no_argument, 0, 'L' },
		{ "chaos", required_argument, 0, 'C' },
		{ "threads", required_argument, 0, 't' },
		{ "duration", required_argument, 0, 'd' },
		{ "seed", required_argument, 0, 's' },
		{ "check-interval", required_argument, 0, 'c' },
		{ "stat-interval", required_argument, 0, 'i' },
		{ "pages", required_argument, 0, O_SIZE + SZ_PAGES },
		{ "files", required_argument, 0, O_SIZE + SZ_FILES },
		{ "file-pages", required_argument, 0, O_SIZE + SZ_FILE_PAGES },
		{ "max-order", required_argument, 0, O_SIZE + SZ_MAX_ORDER },
		{ "pmd-order", required_argument, 0, O_SIZE + SZ_PMD_ORDER },
		{ "mms", required_argument, 0, O_SIZE + SZ_MMS },
		{ "anon-pages", required_argument, 0, O_SIZE + SZ_ANON_PAGES },
		{ "json", required_argument, 0, O_JSON },
		{ "self-test", optional_argument, 0, O_SELF_TEST },
		{ "hang-timeout", required_argument, 0, O_HANG },
		{ "require-window", required_argument, 0, O_REQUIRE_WINDOW },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	unsigned long v, given[SZ_NR];
	unsigned int given_mask = 0;
	int c;

	set_defaults(o);
	o->argv0 = argv[0];
	opterr = 0;	/* our messages, with the --help hint */
	while ((c = getopt_long(argc, argv, ":S:LC:t:d:s:c:i:hV", lo, NULL)) != -1) {
		if (c >= O_SIZE && c < O_SIZE + SZ_NR) {
			int k = c - O_SIZE;

			if (parse_ulong(sizes[k].opt, optarg, sizes[k].lo,
					sizes[k].hi, &given[k]))
				return 2;
			given_mask |= 1u << k;
			continue;
		}
		switch (c) {
		case 'S':
			o->scenario = optarg;
			break;
		case 'L':
			exit(ft_scenario_list(stdout));
		case 'C':
			if (parse_ulong("chaos", optarg, 0, 3, &v))
				return 2;
			o->chaos = (unsigned int)v;
			break;
		case 't':
			if (parse_ulong("threads", optarg, 1, 1024, &v))
				return 2;
			o->threads = (unsigned int)v;
			break;
		case 'd':
			if (parse_seconds("duration", optarg, false, &o->duration))
				return 2;
			break;
		case 's':
			if (parse_ulong("seed", optarg, 0, ULONG_MAX, &v))
				return 2;
			o->seed = v;
			break;
		case 'c':
			if (parse_ulong("check-interval", optarg, 0, 3600000, &v))
				return 2;
			o->check_interval_ms = (unsigned int)v;
			break;
		case 'i':
			if (parse_seconds("stat-interval", optarg, true,
					  &o->stat_interval))
				return 2;
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_HANG:
			if (parse_seconds("hang-timeout", optarg, false,
					  &o->hang_timeout))
				return 2;
			break;
		case O_REQUIRE_WINDOW:
			if (parse_windows(optarg, &o->require_windows))
				return 2;
			break;
		case O_SELF_TEST:
			if (!optarg || !strcmp(optarg, "leak")) {
				o->self_test = FT_SELF_TEST_LEAK;
			} else if (!strcmp(optarg, "sanitizer")) {
				o->self_test = FT_SELF_TEST_SANITIZER;
			} else if (!strcmp(optarg, "hang")) {
				o->self_test = FT_SELF_TEST_HANG;
			} else if (!strcmp(optarg, "crash")) {
				o->self_test = FT_SELF_TEST_CRASH;
			} else if (!strcmp(optarg, "data")) {
				o->self_test = FT_SELF_TEST_DATA;
			} else {
				usage_error("--self-test: unknown kind '%s' "
					    "(leak, sanitizer, hang, crash or data)%s",
					    optarg, "");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("foliotorture %s (commit %s)\n", FT_VERSION,
			       FT_GIT_COMMIT);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value%s", argv[optind - 1], "");
			return 2;
		default:
			usage_error("unrecognized option '%s'%s", argv[optind - 1], "");
			return 2;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument '%s'%s", argv[optind], "");
		return 2;
	}
	if (o->self_test == FT_SELF_TEST_SANITIZER && !ft_sanitizer_name()) {
		usage_error("--self-test=sanitizer needs a sanitizer build "
			    "(asan or tsan preset)%s%s", "", "");
		return 2;
	}
	/* the scenario's sizes first, then the options given on top */
	if (ft_scenario_load(o->scenario, sc, o))
		return 2;
	if (o->require_windows & FT_AIMS) {
		if (!sc->aims) {
			usage_error("--require-window aims: scenario %s aims at "
				    "no window (no 'aims' line)%s", sc->name, "");
			return 2;
		}
		/* the rerun line names them: the same run without the file */
		o->require_windows = (o->require_windows & ~FT_AIMS) | sc->aims;
	}
	for (int k = 0; k < SZ_NR; k++) {
		if (!(given_mask & (1u << k)))
			continue;
		if ((sc->sizes_set & (1u << k)) && size_get(o, k) != given[k]) {
			o->overrides |= 1u << k;
			printf("foliotorture: note: --%s %lu overrides scenario "
			       "%s's %lu\n", sizes[k].opt, given[k], sc->name,
			       size_get(o, k));
		}
		size_set(o, k, given[k]);
	}
	if (o->max_order > o->pmd_order) {
		fprintf(stderr, "foliotorture: max order %u exceeds pmd order %u "
			"(--max-order, --pmd-order or the scenario)\n",
			o->max_order, o->pmd_order);
		return 2;
	}
	if (o->json && check_writable(o->json))
		return 2;
	return 0;
}

/* Append @s to @buf, shell-quoted if it needs it. */
static void put_word(char *buf, size_t n, const char *s)
{
	size_t len = strlen(buf);
	bool plain = *s != 0;

	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%", *p))
			plain = false;
	if (len && len + 1 < n)
		buf[len++] = ' ';
	if (plain) {
		snprintf(buf + len, n - len, "%s", s);
		return;
	}
	if (len + 1 < n)
		buf[len++] = '\'';
	for (const char *p = s; *p && len + 5 < n; p++) {
		if (*p == '\'') {
			memcpy(buf + len, "'\\''", 4);
			len += 4;
		} else {
			buf[len++] = *p;
		}
	}
	if (len + 1 < n)
		buf[len++] = '\'';
	buf[len < n ? len : n - 1] = 0;
}

/* @opt and its value, a number: at most 63 bytes formatted. */
static void put_opt(char *buf, size_t n, const char *opt, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put_opt(char *buf, size_t n, const char *opt, const char *fmt, ...)
{
	char val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	put_word(buf, n, opt);
	put_word(buf, n, val);
}

void ft_command_line(char *buf, size_t n, const struct ft_opts *o)
{
	buf[0] = 0;
	put_word(buf, n, o->argv0);
	/* a path, of any length: not through put_opt's short number buffer */
	put_word(buf, n, "--scenario");
	put_word(buf, n, o->scenario);
	put_opt(buf, n, "--seed", "%" PRIu64, o->seed);
	put_opt(buf, n, "--threads", "%u", o->threads);
	put_opt(buf, n, "--duration", "%g", o->duration);
	put_opt(buf, n, "--chaos", "%u", o->chaos);
	put_opt(buf, n, "--check-interval", "%u", o->check_interval_ms);
	for (int k = 0; k < SZ_NR; k++) {
		char opt[32];

		snprintf(opt, sizeof(opt), "--%s", sizes[k].opt);
		put_opt(buf, n, opt, "%lu", size_get(o, k));
	}
	if (o->self_test == FT_SELF_TEST_LEAK)
		put_word(buf, n, "--self-test=leak");
	else if (o->self_test == FT_SELF_TEST_SANITIZER)
		put_word(buf, n, "--self-test=sanitizer");
	else if (o->self_test == FT_SELF_TEST_HANG)
		put_word(buf, n, "--self-test=hang");
	else if (o->self_test == FT_SELF_TEST_CRASH)
		put_word(buf, n, "--self-test=crash");
	else if (o->self_test == FT_SELF_TEST_DATA)
		put_word(buf, n, "--self-test=data");
	if (o->hang_timeout != 60)
		put_opt(buf, n, "--hang-timeout", "%g", o->hang_timeout);
	if (o->require_windows) {
		char list[128] = "";
		size_t len = 0;

		for (unsigned int w = 0; w < FW_NR; w++)
			if (o->require_windows & (1u << w))
				len += (size_t)snprintf(list + len, sizeof(list) - len,
							"%s%s", len ? "," : "",
							folio_window_name(w));
		put_word(buf, n, "--require-window");
		put_word(buf, n, list);
	}
}
