/* SPDX-License-Identifier: MIT */
/*
 * folio_replay.c - folio-replay: run op-VM programs (corpus files, crash
 * reproducers) with a full listing and trace, and convert them between the
 * binary and text forms.
 *
 *   folio-replay [--text|--binary] [--sched] [--quiet] [--timeout S]
 *                [--full] [--repeat N] FILE|DIR...
 *   folio-replay [--text|--binary] [--sched] --to-text OUT FILE
 *   folio-replay [--text|--binary] [--sched] --to-binary OUT FILE
 *   folio-replay [--sched] --minimize OUT FILE
 *   folio-replay [--sched] --anchor OUT FILE
 *
 * fuzz_ops and fuzz_ops_text inputs run in the lockstep VM; fuzz_sched
 * inputs (--sched, or a text program with "thread N:" sections) under the
 * deterministic scheduler, with the race diagram on a finding
 * (replay_sched.c).
 *
 * Exit: 0 PASS (every input passed), 1 FAIL (a finding, a timeout or a
 * sanitizer report; findings win over malformed inputs), 2 a malformed or
 * unreadable input or a usage error, 128 + N interrupted by signal N.  The
 * last line says which: "folio-replay: PASS|FAIL|MALFORMED|INTERRUPTED: ...".
 */
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <unistd.h>

#include "ft_version.h"
#include "data_value.h"
#include "folio/page_data.h"
#include "fuzz_common.h"
#include "interrupt.h"
#include "replay_anchor.h"
#include "replay_explore.h"
#include "replay_sched.h"
#include "sched_run.h"
#include "sanitizer.h"

#define REPLAY_MAX_INPUT (1u << 20)

enum fmt { FMT_AUTO, FMT_TEXT, FMT_BINARY };

static struct {		/* options, then counters */
	enum fmt fmt;
	int quiet, sched, full, windows;
	unsigned int timeout_s, repeat;
	int mm;			/* --mm / FT_SCHED_MM, -1: the input's */
	int explore;
	unsigned int preemptions;
	unsigned long max_runs;
	const char *out;
	const char *to_text, *to_binary, *minimize, *anchor;
	unsigned long inputs, passed, findings, malformed, skipped;
} rp = { .timeout_s = 25, .mm = -1, .preemptions = 2 };

static struct prog prog;
static int loaded_sched;		/* the input loaded is a fuzz_sched one */
static int loaded_binary;		/* ... and binary, of format: */
static struct prog_format loaded_format;
static char timeout_msg[PATH_MAX + 64];
static const char *current;		/* the input running now */

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...);

/*
 * Expected results written in a text program: an op line may end with a
 * comment "# => VALUE [read=DATA] [words]", VALUE a number, -ENAME or
 * "skip"; DATA what a load (touch write=0, dma write=0) read from the
 * page: 0, opN (what op N of the program wrote), fileF:I:V (file F's
 * content at index I, version V, as read from disk).  They
 * turn a regression program into a test of the semantics themselves, not
 * only of the core's agreement with the model (which a change to both
 * would keep).  Only folio-replay checks them: the fuzz targets ignore
 * comments, so a mutated annotation is never a finding.
 */
static struct {
	unsigned int n;			/* annotations in this input */
	uint8_t has[PROG_MAX_OPS];
	long val[PROG_MAX_OPS];
	unsigned int line[PROG_MAX_OPS];
	uint8_t has_read[PROG_MAX_OPS];
	struct expect_read {
		uint8_t kind;		/* 0 zero, 1 op, 2 file */
		unsigned long a, b, c;	/* op: a; file: a, b, c */
	} read[PROG_MAX_OPS];
} expect;
static long results[PROG_MAX_OPS];
static uint64_t reads[PROG_MAX_OPS];
static unsigned char read_ok[PROG_MAX_OPS];

static const struct { const char *name; long v; } errnames[] = {
	{ "EINVAL", EINVAL }, { "EEXIST", EEXIST }, { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EDEADLK", EDEADLK },
	{ "EFAULT", EFAULT }, { "ENOMSG", ENOMSG }, { "ENOSPC", ENOSPC },
	{ "EPERM", EPERM },
};

static const char *errname(long v)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (v == -errnames[i].v)
			return errnames[i].name;
	return NULL;
}

/* VALUE at @s (@n bytes, no blanks): 0 and *v set, or -1. */
static int parse_expect_value(const char *s, size_t n, long *v)
{
	char buf[24], *end;

	if (n == 4 && !memcmp(s, "skip", 4)) {
		*v = VM_SKIPPED;
		return 0;
	}
	if (n > 2 && s[0] == '-' && s[1] == 'E') {
		for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
			if (strlen(errnames[i].name) == n - 1 &&
			    !memcmp(errnames[i].name, s + 1, n - 1)) {
				*v = -errnames[i].v;
				return 0;
			}
		return -1;
	}
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	*v = strtol(buf, &end, 10);
	return *end || errno ? -1 : 0;
}

/* "read=DATA" at @s (@n bytes): 0 and *r set, or -1. */
static int parse_expect_read(const char *s, size_t n, struct expect_read *r)
{
	char buf[40];
	int used = 0;

	if (n < 6 || n >= sizeof(buf) || memcmp(s, "read=", 5))
		return -1;
	memcpy(buf, s + 5, n - 5);
	buf[n - 5] = 0;
	*r = (struct expect_read){ 0 };
	if (!strcmp(buf, "0"))
		return 0;
	if (sscanf(buf, "op%lu%n", &r->a, &used) == 1 && !buf[used]) {
		r->kind = 1;
		return 0;
	}
	if (sscanf(buf, "file%lu:%lu:%lu%n", &r->a, &r->b, &r->c, &used) == 3 &&
	    !buf[used]) {
		r->kind = 2;
		return 0;
	}
	return -1;
}

/* Does @v, read from a page, match the annotation @r? */
static bool read_matches(const struct expect_read *r, uint64_t v)
{
	if (r->kind == 0)
		return v == 0;
	if (r->kind == 1)
		return ft_data_is_ours(v) && ft_data_writer(v) == 0 &&
		       ft_data_seq(v) == (r->a & 0xfffff);
	return v == file_page_data((unsigned int)r->a, r->b, r->c);
}

static void print_expect_read(const struct expect_read *r)
{
	if (r->kind == 0)
		printf("read=0");
	else if (r->kind == 1)
		printf("read=op%lu", r->a);
	else
		printf("read=file%lu:%lu:%lu", r->a, r->b, r->c);
}

/*
 * Collect the annotations of a text program that parsed: its lines are
 * counted as the parser counts them (the first line with anything before
 * its '#' is the world, each later one an op).  -1 on a bad VALUE.
 */
static int collect_expectations(const char *path, const char *text, size_t len)
{
	unsigned int nr = 0;
	int op = -2;	/* -2: before the world line */
	size_t pos = 0;

	memset(&expect, 0, sizeof(expect));
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos, code, i;
		const char *hash = memchr(s, '#', n);
		long v;

		pos += n + 1;
		nr++;
		code = hash ? (size_t)(hash - s) : n;
		for (i = 0; i < code && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
			;
		if (i < code)
			op++;
		if (!hash || i == code || op < 0)
			continue;
		for (i = code + 1; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		if (n - i < 2 || s[i] != '=' || s[i + 1] != '>')
			continue;
		for (i += 2; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		code = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		if (parse_expect_value(s + code, i - code, &v)) {
			err("%s:%u:%zu: '=> %.*s': expected a number, -ENAME or skip\n",
			    path, nr, code + 1, (int)(i - code), s + code);
			return -1;
		}
		expect.has[op] = 1;
		expect.val[op] = v;
		expect.line[op] = nr;
		expect.n++;
		for (; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		if (n - i >= 5 && !memcmp(s + i, "read=", 5)) {
			code = i;
			while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
				i++;
			if (parse_expect_read(s + code, i - code, &expect.read[op])) {
				err("%s:%u:%zu: '%.*s': expected read=0, read=opN "
				    "or read=fileF:I:V\n", path, nr, code + 1,
				    (int)(i - code), s + code);
				return -1;
			}
			expect.has_read[op] = 1;
		}
	}
	return 0;
}

/* The first op whose result (or read) differs from its annotation, or -1. */
static int check_expectations(unsigned int nops)
{
	for (unsigned int i = 0; i < nops; i++) {
		if (expect.has[i] && results[i] != expect.val[i])
			return (int)i;
		if (expect.has_read[i] &&
		    (!read_ok[i] || !read_matches(&expect.read[i], reads[i])))
			return (int)i;
	}
	return -1;
}

static void print_result(long v)
{
	if (v == VM_SKIPPED)
		printf("skip");
	else if (errname(v))
		printf("-%s", errname(v));
	else
		printf("%ld", v);
}

/* A finding that ends the process (a fuzz_sched finding during its run,
 * a VM_BUG_ON in the core under either VM): the summary. */
static void on_sched_fatal(void *ctx)
{
	(void)ctx;
	printf("%s: FINDING (the run cannot go on)\n", current);
	printf("folio-replay: FAIL: %lu inputs, %lu passed, %lu findings, "
	       "%lu malformed\n", rp.inputs, rp.passed, rp.findings + 1,
	       rp.malformed);
	fflush(stdout);
}

/* A timeout is a finding (a hang): the message is the summary line. */
static void on_alarm(int sig)
{
	ssize_t rc = write(1, timeout_msg, strlen(timeout_msg));

	(void)rc;
	_exit(1);
}

/* A sanitizer stopped the run (report above): say FAIL, exit 1. */
static void on_sanitizer_report(void)
{
	printf("%s: FINDING: a %s report (above)\n",
	       current ? current : "(no input)", ft_sanitizer_name());
	printf("folio-replay: FAIL: %lu inputs, %lu passed, %lu findings, "
	       "%lu malformed, sanitizer report on %s\n", rp.inputs, rp.passed,
	       rp.findings + 1, rp.malformed, current ? current : "(no input)");
	fflush(stdout);
}

/* Errors go to stderr, after whatever stdout holds. */
static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void usage_hint(void)
{
	err("Try 'folio-replay --help' for more information.\n");
}

static void help(void)
{
	printf("usage: folio-replay [OPTION]... FILE|DIR...\n"
	       "Run op-VM programs on libfolio and the reference model in lockstep,\n"
	       "printing each program and a trace of every op.  A DIR's inputs are its\n"
	       "files, sorted (not recursive; dotfiles and README* skipped).\n"
	       "\n"
	       "  --text            inputs are text programs\n"
	       "  --binary          inputs are binary programs (fuzz_ops corpus)\n"
	       "                    (default: text if valid UTF-8 without control\n"
	       "                    bytes)\n"
	       "  --sched           inputs are fuzz_sched programs (a text one is\n"
	       "                    recognised by its 'thread N:' lines)\n"
	       "  --full            fuzz_sched: the diagram shows every step, and a\n"
	       "                    passing run prints it too\n"
	       "  --repeat N        fuzz_sched: run each input N times; a different\n"
	       "                    trace is a finding (determinism)\n"
	       "  --windows         fuzz_sched: print the race windows (R1..R12 of\n"
	       "                    docs/design.md) the run was inside\n"
	       "  --mm MODEL        fuzz_sched: run under memory model sc, tso, pso\n"
	       "                    or arm, whatever the input says (default: the\n"
	       "                    input's, or FT_SCHED_MM's)\n"
	       "  --explore         fuzz_sched: run every schedule of one FILE's\n"
	       "                    threads with at most K preemptions (sleep sets:\n"
	       "                    each up to reordering of independent steps);\n"
	       "                    the first finding's schedule goes to --out\n"
	       "                    (exit 1), else \"no finding within K\" (exit 0)\n"
	       "  --preemptions K   --explore's bound (default 2)\n"
	       "  --max-runs N      --explore stops after N schedules (exit 3)\n"
	       "  --out FILE        --explore's finding (default explore-finding.txt)\n"
	       "  --minimize OUT    fuzz_sched: shrink a finding of one FILE to the\n"
	       "                    fewest preemptions, then the fewest ops, that\n"
	       "                    still give the same rule; write it (text) to OUT\n"
	       "                    and its anchored form to OUT.anchored\n"
	       "  --anchor OUT      fuzz_sched: rewrite one FILE's schedule as switches\n"
	       "                    at named points of the code (run T until before\n"
	       "                    2nd load in F, until RP_X, until blocked), check\n"
	       "                    it takes the same steps, write it (text) to OUT\n"
	       "  --quiet           no listing, no trace: findings and the summary only\n"
	       "  --timeout S       seconds per input (default 25, 0 = none)\n"
	       "  --to-text OUT     convert one FILE to text form in OUT (- = stdout);\n"
	       "                    do not run\n"
	       "  --to-binary OUT   convert one FILE to binary form in OUT; do not run\n"
	       "                    (an anchored schedule runs once: its decisions)\n"
	       "  --help            this text\n"
	       "  --version         print the version and git commit\n"
	       "\n"
	       "A text program's op line may end in '# => VALUE' (a number, -ENAME or\n"
	       "skip): the result that op must return, checked here.\n"
	       "Inputs are at most 1 MiB.  Exit: 0 PASS, 1 FAIL (a finding, a timeout\n"
	       "or a sanitizer report), 2 a malformed or unreadable input or a usage\n"
	       "error, 77 SKIP (every input needs a clang build: weak memory),\n"
	       "128+N interrupted by signal N; the last line says which.\n");
}

/* Read and decode @path into prog.  0 ok; -1 reported (malformed). */
static int load(const char *path, const char **fmt_name)
{
	struct prog_text_error e;
	uint8_t *data;
	size_t size;
	int rc, text;

	rc = fuzz_read_file(path, REPLAY_MAX_INPUT, &data, &size);
	if (rc == -2) {
		err("%s: larger than the 1 MiB limit\n", path);
		return -1;
	}
	if (rc) {
		err("folio-replay: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	text = rp.fmt == FMT_TEXT ||
	       (rp.fmt == FMT_AUTO && prog_looks_like_text(data, size));
	*fmt_name = text ? "text" : "binary";
	rc = 0;
	memset(&expect, 0, sizeof(expect));
	loaded_sched = rp.sched || (text && sched_prog_text_is_sched(data, size));
	loaded_binary = !text;
	prog_format_detect(&loaded_format, data, size);
	if (loaded_sched && !text) {
		sched_prog_decode(replay_sched_prog(), data, size);
	} else if (loaded_sched) {
		if (sched_prog_parse_text(replay_sched_prog(), (const char *)data,
					  size, &e)) {
			err("%s:%u:%u: %s\n", path, e.line, e.col, e.msg);
			rc = -1;
		}
	} else if (!text) {
		prog_decode(&prog, data, size);
	} else if (prog_parse_text(&prog, (const char *)data, size, &e) != 0) {
		err("%s:%u:%u: %s\n", path, e.line, e.col, e.msg);
		rc = -1;
	} else {
		rc = collect_expectations(path, (const char *)data, size);
	}
	if (loaded_sched && rp.mm >= 0)	/* --mm, FT_SCHED_MM */
		replay_sched_prog()->mm = (unsigned int)rp.mm;
	free(data);
	return rc;
}

/*
 * After the "====" line of a binary input: the format version it decoded
 * by (prog.h), so that a reader of an old crash file's trace sees which
 * tables made its program.  Not with --quiet: nothing but verdicts.
 */
static void print_format(void)
{
	char v[64];

	if (!loaded_binary)
		return;
	prog_format_describe(&loaded_format, v, sizeof(v));
	printf("format: %s binary %s\n", loaded_sched ? "fuzz_sched" : "fuzz_ops",
	       v);
}

static void replay_one(const char *path, void *ctx)
{
	struct vm_opts o = { .trace = rp.quiet ? NULL : stdout, .report = stdout,
			     .results = results, .reads = reads,
			     .read_ok = read_ok, .on_fatal = on_sched_fatal };
	struct vm_finding f;
	const char *fmt;
	int rc, bad;

	if (ft_interrupted())
		return;
	current = path;
	rp.inputs++;
	if (load(path, &fmt)) {
		rp.malformed++;
		return;
	}
	if (loaded_sched && replay_sched_prog()->mm && !fs_plain_steps()) {
		/* a thread's plain load of its own buffered store would read
		 * memory: weak memory needs those loads as steps */
		printf("%s: SKIP: memory model %s needs the plain accesses as "
		       "steps (a clang build: the asan or libfuzzer preset)\n",
		       path, wmm_name((enum fs_mm)replay_sched_prog()->mm));
		rp.skipped++;
		return;
	}
	if (loaded_sched) {
		struct replay_sched_opts so = { .quiet = rp.quiet, .full = rp.full,
						.repeat = rp.repeat,
						.windows = rp.windows,
						.on_fatal = on_sched_fatal };

		if (!rp.quiet) {
			printf("==== %s (fuzz_sched, %s)\n", path, fmt);
			print_format();
		}
		fflush(stdout);
		snprintf(timeout_msg, sizeof(timeout_msg),
			 "\nfolio-replay: FAIL: timeout after %u s on %s\n",
			 rp.timeout_s, path);
		alarm(rp.timeout_s);
		if (replay_sched_run(path, &so))
			rp.findings++;
		else
			rp.passed++;
		alarm(0);
		return;
	}
	if (!rp.quiet) {
		printf("==== %s (%s, %u ops)\n", path, fmt, prog.nops);
		print_format();
		prog_print_text(&prog, stdout);
		printf("---- run\n");
	}
	fflush(stdout);
	snprintf(timeout_msg, sizeof(timeout_msg),
		 "\nfolio-replay: FAIL: timeout after %u s on %s\n", rp.timeout_s,
		 path);
	alarm(rp.timeout_s);
	memset(read_ok, 0, sizeof(read_ok));
	rc = vm_run(&prog, &o, &f);
	alarm(0);
	if (rc == 0 && (bad = check_expectations(prog.nops)) >= 0) {
		rp.findings++;
		printf("%s:%u: FINDING at op %d: expect: ", path,
		       expect.line[bad], bad);
		prog_print_op(&prog, &prog.ops[bad], stdout);
		printf("  the program expects => ");
		print_result(expect.val[bad]);
		if (expect.has_read[bad]) {
			printf(" ");
			print_expect_read(&expect.read[bad]);
		}
		printf(", the core and the model returned ");
		print_result(results[bad]);
		if (read_ok[bad]) {
			char what[160];

			ft_data_describe(reads[bad], what, sizeof(what));
			printf(" and read %s", what);
		} else if (expect.has_read[bad]) {
			printf(" and read nothing");
		}
		printf("\n");
	} else if (rc == 0) {
		rp.passed++;
		if (!rp.quiet)
			printf("%s: passed%s\n", path,
			       expect.n ? " (with its expected results)" : "");
	} else if (rc == 1) {
		rp.findings++;
		printf("%s: FINDING at op %u: %s: %s\n", path, f.op, f.rule,
		       f.detail);
	} else {
		rp.findings++;
		printf("%s: ERROR: the VM failed to set up (rc %d)\n", path, rc);
	}
}

/*
 * --to-text / --to-binary: write OUT.tmp.PID, then rename it to OUT.  "-",
 * or an OUT that exists and is not a regular file (/dev/stdout, a FIFO, a
 * symlink) is written in place: a rename would replace it.
 */
static int convert_loaded(const char *in, const char *out, int to_text,
			  const char *fmt);

static int convert(const char *in, const char *out, int to_text)
{
	const char *fmt;
	struct stat st;

	if (stat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
		err("folio-replay: %s is a directory; --to-%s converts one file\n",
		    in, to_text ? "text" : "binary");
		return 2;
	}
	if (load(in, &fmt))
		return 2;
	return convert_loaded(in, out, to_text, fmt);
}

/* Write the input loaded from @in to @out (atomically: OUT.tmp.PID). */
static int convert_loaded(const char *in, const char *out, int to_text,
			  const char *fmt)
{
	uint8_t bin[FUZZ_ENCODED_MAX];
	char tmp[PATH_MAX];
	const char *dst = tmp;
	struct stat st;
	FILE *f;
	int bad;

	if (!strcmp(out, "-"))
		dst = NULL;
	else if (lstat(out, &st) == 0 && !S_ISREG(st.st_mode))
		dst = out;
	else
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out, (long)getpid());
	f = dst ? fopen(dst, "wb") : stdout;
	if (!f) {
		err("folio-replay: cannot create %s: %s\n", dst, strerror(errno));
		return 2;
	}
	if (loaded_sched && to_text) {
		sched_prog_print_text(replay_sched_prog(), f);
	} else if (loaded_sched) {
		static uint8_t sbin[1 << 14];
		static struct sched_prog frozen;
		const struct sched_prog *sp = replay_sched_prog();
		size_t n;

		/* anchors have no binary form: their run's decisions do */
		if (sp->nanchors) {
			if (replay_sched_freeze(sp, &frozen)) {
				err("folio-replay: %s: the anchored schedule "
				    "could not be frozen into bytes\n", in);
				fclose(f);
				if (dst == tmp)
					unlink(tmp);
				return 2;
			}
			sp = &frozen;
		}
		n = sched_prog_encode(sp, sbin, sizeof(sbin));

		fwrite(sbin, 1, n, f);
	} else if (to_text) {
		prog_print_text(&prog, f);
	} else {
		size_t n = prog_encode(&prog, bin, sizeof(bin));

		fwrite(bin, 1, n, f);
	}
	bad = ferror(f);
	bad |= (dst ? fclose(f) : fflush(f)) != 0;
	if (bad || (dst == tmp && rename(tmp, out) != 0)) {
		err("folio-replay: cannot write %s: %s\n", out, strerror(errno));
		if (dst == tmp)
			unlink(tmp);
		return 2;
	}
	if (!rp.quiet && dst) {
		/* both versions: what the input was read as, what is written */
		print_format();
		printf("folio-replay: %s (%s) -> %s (", in, fmt, out);
		if (to_text)
			printf("text)\n");
		else
			printf("binary v%u)\n", PROG_FORMAT_CURRENT);
	}
	return 0;
}

/* --explore FILE: every schedule within the preemption bound. */
static int explore(const char *in)
{
	const char *fmt;
	struct explore_opts o = { .preemptions = rp.preemptions,
				  .max_runs = rp.max_runs,
				  .out = rp.out ? rp.out : "explore-finding.txt" };

	if (load(in, &fmt))
		return 2;
	if (!loaded_sched) {
		err("folio-replay: --explore takes a fuzz_sched input (--sched "
		    "for a binary one)\n");
		return 2;
	}
	if (replay_sched_prog()->mm && !fs_plain_steps()) {
		printf("folio-replay: SKIP: memory model %s needs the plain "
		       "accesses as steps (a clang build: asan or libfuzzer)\n",
		       wmm_name((enum fs_mm)replay_sched_prog()->mm));
		return 77;
	}
	printf("==== %s (fuzz_sched, %s)\n", in, fmt);
	print_format();
	return replay_explore(replay_sched_prog(), &o);
}

/* --minimize OUT FILE: a fuzz_sched finding, shrunk, as text. */
static int minimize(const char *in, const char *out)
{
	struct replay_sched_opts so = { .quiet = 1 };
	static struct sched_prog small;
	const char *fmt;

	if (load(in, &fmt))
		return 2;
	if (!loaded_sched) {
		err("folio-replay: --minimize takes a fuzz_sched input (--sched "
		    "for a binary one)\n");
		return 2;
	}
	if (replay_sched_minimize(in, &so, &small))
		return 1;
	*replay_sched_prog() = small;
	rp.quiet = 1;
	if (convert_loaded(in, out, 1, fmt))
		return 2;
	printf("folio-replay: minimised %s -> %s\n", in, out);
	/* beside it, the same schedule anchored to the code, which survives
	 * edits elsewhere on the path (sched_anchor.h) */
	if (strcmp(out, "-")) {
		static struct sched_prog anchored;
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s.anchored", out);
		if (replay_anchor(&small, &anchored, stdout)) {
			printf("folio-replay: no anchored form (above); the raw "
			       "one is %s\n", out);
			return 0;
		}
		*replay_sched_prog() = anchored;
		if (convert_loaded(in, path, 1, fmt))
			return 2;
		printf("folio-replay: anchored -> %s\n", path);
	}
	return 0;
}

/* --anchor OUT FILE: FILE's schedule as anchors, checked, as text. */
static int anchor(const char *in, const char *out)
{
	static struct sched_prog anchored;
	const char *fmt;

	if (load(in, &fmt))
		return 2;
	if (!loaded_sched) {
		err("folio-replay: --anchor takes a fuzz_sched input (--sched "
		    "for a binary one)\n");
		return 2;
	}
	if (replay_anchor(replay_sched_prog(), &anchored, stdout))
		return 1;
	*replay_sched_prog() = anchored;
	rp.quiet = 1;
	if (convert_loaded(in, out, 1, fmt))
		return 2;
	if (strcmp(out, "-"))
		printf("folio-replay: anchored %s -> %s\n", in, out);
	return 0;
}

static unsigned long parse_count(const char *opt, const char *s,
				 unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi || s[0] == '-') {
		err("folio-replay: --%s: '%s' is not a count (%lu..%lu)\n", opt,
		    s, lo, hi);
		usage_hint();
		exit(2);
	}
	return v;
}

static unsigned int parse_seconds(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 86400) {
		err("folio-replay: --timeout: '%s' is not a number of seconds (0..86400)\n", s);
		usage_hint();
		exit(2);
	}
	return (unsigned int)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "text", no_argument, NULL, 't' },
		{ "binary", no_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "to-text", required_argument, NULL, 'x' },
		{ "to-binary", required_argument, NULL, 'y' },
		{ "sched", no_argument, NULL, 's' },
		{ "full", no_argument, NULL, 'f' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "minimize", required_argument, NULL, 'm' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "windows", no_argument, NULL, 'w' },
		{ "mm", required_argument, NULL, 'M' },
		{ "explore", no_argument, NULL, 'E' },
		{ "preemptions", required_argument, NULL, 'P' },
		{ "max-runs", required_argument, NULL, 'R' },
		{ "out", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c, rc;

	rp.mm = sched_mm_from_env();
	while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (c) {
		case 't': rp.fmt = FMT_TEXT; break;
		case 'b': rp.fmt = FMT_BINARY; break;
		case 'q': rp.quiet = 1; break;
		case 'T': rp.timeout_s = parse_seconds(optarg); break;
		case 'x': rp.to_text = optarg; break;
		case 'y': rp.to_binary = optarg; break;
		case 's': rp.sched = 1; break;
		case 'f': rp.full = 1; break;
		case 'r': rp.repeat = (unsigned int)parse_count("repeat", optarg, 1, 100000); break;
		case 'm': rp.minimize = optarg; break;
		case 'a': rp.anchor = optarg; break;
		case 'w': rp.windows = 1; break;
		case 'E': rp.explore = 1; break;
		case 'P': rp.preemptions = (unsigned int)parse_count("preemptions", optarg, 0, 8); break;
		case 'R': rp.max_runs = parse_count("max-runs", optarg, 1, 1000000000ul); break;
		case 'O': rp.out = optarg; break;
		case 'M':
			rp.mm = (int)wmm_parse(optarg);
			if (rp.mm == FS_MM_NR) {
				err("folio-replay: --mm %s: expected sc, tso, pso or arm\n",
				    optarg);
				usage_hint();
				return 2;
			}
			break;
		case 'h': help(); return 0;
		case 'V':
			printf("folio-replay %s (commit %s)%s%s\n", FT_VERSION,
			       FT_GIT_COMMIT, ft_sanitizer_name() ? " sanitizers=" : "",
			       ft_sanitizer_name() ? ft_sanitizer_name() : "");
			return 0;
		default: usage_hint(); return 2;	/* getopt printed why */
		}
	}
	if (optind == argc) {
		err("folio-replay: no input given\n");
		usage_hint();
		return 2;
	}
	if (rp.explore) {
		if (argc - optind != 1 || rp.minimize || rp.to_text || rp.to_binary) {
			err("folio-replay: --explore searches exactly one FILE\n");
			usage_hint();
			return 2;
		}
		ft_interrupt_install();	/* Ctrl-C: the counts, exit 130 */
		return explore(argv[optind]);
	}
	if (rp.anchor) {
		if (argc - optind != 1 || rp.minimize || rp.to_text || rp.to_binary) {
			err("folio-replay: --anchor rewrites exactly one FILE\n");
			usage_hint();
			return 2;
		}
		return anchor(argv[optind], rp.anchor);
	}
	if (rp.minimize) {
		if (argc - optind != 1 || rp.to_text || rp.to_binary) {
			err("folio-replay: --minimize shrinks exactly one FILE\n");
			usage_hint();
			return 2;
		}
		return minimize(argv[optind], rp.minimize);
	}
	if (rp.to_text || rp.to_binary) {
		if ((rp.to_text && rp.to_binary) || argc - optind != 1) {
			err("folio-replay: --to-text and --to-binary convert exactly one FILE, one at a time\n");
			usage_hint();
			return 2;
		}
		return convert(argv[optind], rp.to_text ? rp.to_text : rp.to_binary,
			       rp.to_text != NULL);
	}

	signal(SIGALRM, on_alarm);
	ft_interrupt_install();
	ft_sanitizer_on_report(on_sanitizer_report);
	/* a timeout's or a sanitizer's exit must not lose the trace */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vm_model_mutant())
		printf("folio-replay: note: reference model mutant '%s' compiled in\n",
		       vm_model_mutant());
	for (int i = optind; i < argc; i++) {
		int n = fuzz_for_each_input(argv[i], replay_one, NULL);

		if (n < 0) {
			err("folio-replay: cannot read directory %s: %s\n", argv[i],
			    strerror(errno));
			rp.malformed++;
		} else if (n == 0) {
			err("folio-replay: warning: no inputs in %s\n", argv[i]);
		}
	}
	rc = rp.findings ? 1 : rp.malformed ? 2 :
	     ft_interrupted() ? 128 + ft_interrupted() :
	     rp.skipped && rp.skipped == rp.inputs ? 77 : 0;
	printf("folio-replay: %s: %lu inputs, %lu passed, %lu findings, %lu malformed%s%s\n",
	       rc == 0 ? "PASS" : rc == 1 ? "FAIL" : rc == 2 ? "MALFORMED" :
	       rc == 77 ? "SKIP" : "INTERRUPTED", rp.inputs, rp.passed, rp.findings, rp.malformed,
	       ft_interrupted() ? " (interrupted)" : "",
	       rp.skipped ? ", some skipped (weak memory, not a clang build)" : "");
	return rc;
}
