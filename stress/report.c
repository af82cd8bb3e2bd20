/* SPDX-License-Identifier: MIT */
/*
 * report.c - what foliotorture tells the user about a run: the summary
 * line (PASS / FAIL / INTERRUPTED, always agreeing with the exit status),
 * the command that reruns the configuration, every worker's recent
 * operations on a failure, and the JSON report, written atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "data_oracle.h"
#include "ft_version.h"
#include "sanitizer.h"
#include "scenario.h"
#include "torture.h"

const char *const ft_result_names[] = {
	[FT_PASS] = "pass", [FT_FAIL] = "fail", [FT_INTERRUPTED] = "interrupted",
};

unsigned long ft_ops_total(int k, bool fails)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < ft.o.threads; i++)
		n += atomic_load_explicit(fails ? &ft.workers[i].fails[k] :
						  &ft.workers[i].ops[k],
					  memory_order_relaxed);
	return n;
}

unsigned long ft_raced_total(int k)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < ft.o.threads; i++)
		n += atomic_load_explicit(&ft.workers[i].raced[k],
					  memory_order_relaxed);
	return n;
}

unsigned long ft_all_ops(void)
{
	unsigned long n = 0;

	for (int k = 0; k < FT_OP_NR; k++)
		n += ft_ops_total(k, false);
	return n;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

void ft_print_rings(FILE *out)
{
	fprintf(out, "recent operations (oldest first), per worker:\n");
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		struct ft_ring *r = &ft.workers[i].ring;
		unsigned long start = r->n > FT_RING_SIZE ? r->n - FT_RING_SIZE : 0;

		fprintf(out, " worker %u:\n", i);
		for (unsigned long k = start; k < r->n; k++) {
			struct ft_ring_entry *e = &r->e[k % FT_RING_SIZE];

			fprintf(out, "  %-14s arg %#-8lx folio %-14p result %d\n",
				ft_op_names[e->kind], e->arg, e->folio,
				e->result);
		}
	}
}

/* A JSON string: quotes, backslashes and control bytes escaped; bytes
 * >= 0x80 pass through (the inputs are UTF-8 paths and our own text). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_failure(FILE *f, const struct ft_run *run)
{
	const struct folio_violation *v = &run->first;

	fprintf(f, ",\n  \"violation\": {\"rule\": ");
	json_str(f, run->fail_rule);
	fprintf(f, ", \"pfn\": %ld, \"folio\": \"%p\", \"detail\": ",
		!v->rule || v->pfn == ~0ul ? -1L : (long)v->pfn,
		(const void *)v->folio);
	json_str(f, v->rule ? v->detail : run->fail_detail);
	fprintf(f, "}");
	if (!run->workers_stopped)	/* their rings are still being written */
		return;
	fprintf(f, ",\n  \"recent_ops\": [");
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		struct ft_ring *r = &ft.workers[i].ring;
		unsigned long k = r->n > FT_RING_SIZE ? r->n - FT_RING_SIZE : 0;

		fprintf(f, "%s\n    [", i ? "," : "");
		for (unsigned long j = k; j < r->n; j++) {
			struct ft_ring_entry *e = &r->e[j % FT_RING_SIZE];

			fprintf(f, "%s{\"op\": \"%s\", \"arg\": %lu, \"result\": %d}",
				j > k ? ", " : "", ft_op_names[e->kind], e->arg,
				e->result);
		}
		fprintf(f, "]");
	}
	fprintf(f, "\n  ]");
}

/*
 * The report up to "duration_requested_s": what the options fixed before
 * the run, the same at its end as at its start (the crash report formats
 * it once, before the workers start).
 */
static void json_head(FILE *f, enum ft_result result,
		      const struct ft_scenario *sc)
{
	char cmd[4096];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ft_command_line(cmd, sizeof(cmd), &ft.o);
	fprintf(f, "{\n  \"result\": \"%s\",\n  \"version\": ",
		ft_result_names[result]);
	json_str(f, FT_VERSION);
	fprintf(f, ",\n  \"git_commit\": ");
	json_str(f, FT_GIT_COMMIT);
	fprintf(f, ",\n  \"sanitizers\": ");
	json_str(f, ft_sanitizer_name() ? ft_sanitizer_name() : "");
	fprintf(f, ",\n  \"host_cores\": %ld,\n  \"command\": ", ncpu);
	json_str(f, cmd);
	fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"scenario\": ", ft.o.seed);
	json_str(f, sc->name);
	fprintf(f, ",\n  \"scenario_arg\": ");
	json_str(f, ft.o.scenario);
	fprintf(f, ",\n  \"chaos\": %u,\n  \"threads\": %u,\n"
		   "  \"check_interval_ms\": %u,\n"
		   "  \"sizes\": {\"pages\": %lu, \"files\": %u, \"file_pages\": %lu, "
		   "\"max_order\": %u, \"pmd_order\": %u, \"mms\": %u, "
		   "\"anon_pages\": %lu},\n"
		   "  \"duration_requested_s\": %.3f,\n",
		ft.o.chaos, ft.o.threads, ft.o.check_interval_ms, ft.o.nr_pages,
		ft.o.nr_files, ft.o.file_pages, ft.o.max_order, ft.o.pmd_order,
		ft.o.nr_mms, ft.o.anon_pages, ft.o.duration);
}

int ft_write_json(const struct ft_run *run, const struct ft_scenario *sc)
{
	char tmp[4096];
	FILE *f;

	if (!ft.o.json)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", ft.o.json);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "foliotorture: cannot write %s: %s\n", tmp,
			strerror(errno));
		return -1;
	}
	json_head(f, run->result, sc);
	fprintf(f, "  \"duration_s\": %.3f,\n  \"ops\": {", run->elapsed);
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ft_ops_total(k, false));
	fprintf(f, "},\n  \"failures\": {");
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ft_ops_total(k, true));
	fprintf(f, "},\n  \"raced\": {");
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ft_raced_total(k));
	fprintf(f, "},\n  \"windows\": {");
	for (unsigned int w = 0; w < FW_NR; w++)
		fprintf(f, "%s\"%s\": %lu", w ? ", " : "", folio_window_name(w),
			run->windows[w]);
	fprintf(f, "},\n  \"windows_per_s\": {");
	for (unsigned int w = 0; w < FW_NR; w++)
		fprintf(f, "%s\"%s\": %.1f", w ? ", " : "", folio_window_name(w),
			run->elapsed > 0 ? run->windows[w] / run->elapsed : 0.0);
	fprintf(f, "},\n  \"checks\": %lu,\n  \"violations\": %lu,\n"
		   "  \"leaks\": %lu,\n  \"peak_rss_kb\": %ld",
		run->checks, run->violations, run->leaks, peak_rss_kb());
	if (run->workers_stopped)
		fprintf(f, ",\n  \"data_checks\": %lu", ft_data_checked());
	if (run->fail_rule)
		json_failure(f, run);
	if (run->signal)
		fprintf(f, ",\n  \"signal\": %d", run->signal);
	fprintf(f, "\n}\n");
	if (ferror(f) | fclose(f) || rename(tmp, ft.o.json)) {
		fprintf(stderr, "foliotorture: cannot write %s: %s\n", ft.o.json,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The JSON report of a crash: a fatal signal in a build without a
 * sanitizer (foliotorture.c's on_crash), written from the signal handler,
 * so a failed run leaves the report the nightly campaign and ci/triage.sh
 * read (without it the crash was "no report" and never triaged).
 *
 * A handler may call only async-signal-safe functions: no stdio, no
 * malloc, no locks (the crashed thread may hold the one it needs).  So
 * ft_crash_json_prepare(), before the workers start, formats with the
 * normal report's own code everything the options fixed (the command, the
 * version, seed, scenario, sizes, every string escaped): the two reports
 * have one shape.  ft_crash_json_write() appends, by hand, what a handler
 * can read safely: the time (clock_gettime), each op's count and expected
 * failures (lock-free atomics: a relaxed load is a snapshot, no lock), the
 * checks and violations so far (words only the main thread writes: a
 * relaxed load is never torn, at worst one check behind), then
 * "violation" with rule "crash" and "signal".  Left out: peak_rss_kb
 * (getrusage is not async-signal-safe), data_checks and the recent
 * operations (the other workers still run: not a state to read).  Then
 * open, write, close, rename: a reader sees the whole report or none.
 *
 * Its own temporary file, FILE.crash.tmp, not FILE.tmp: a worker may crash
 * while the main thread writes FILE.tmp through stdio (hang() reports with
 * the workers still running).  Each then writes a whole file of its own,
 * and whichever renames last wins: FILE is always one complete report.
 */
static struct {
	char *head;		/* from "{" to "duration_requested_s" */
	size_t head_len;
	char tmp[PATH_MAX];
	struct timespec t0;	/* duration_s counts from here */
} crash_json;

int ft_crash_json_prepare(const struct ft_scenario *sc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!ft.o.json)
		return 0;
	if (snprintf(crash_json.tmp, sizeof(crash_json.tmp), "%s.crash.tmp",
		     ft.o.json) >= (int)sizeof(crash_json.tmp))
		return -1;
	f = open_memstream(&buf, &len);
	if (!f)
		return -1;
	json_head(f, FT_FAIL, sc);
	if (ferror(f) | fclose(f)) {
		free(buf);
		return -1;
	}
	crash_json.head = buf;	/* kept for the whole run */
	crash_json.head_len = len;
	clock_gettime(CLOCK_MONOTONIC, &crash_json.t0);
	return 0;
}

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2,
	       "the crash handler reads the op counters: they must be lock-free");

/* A bounded buffer the handler appends to: no stdio there. */
struct sbuf {
	char p[8192];
	size_t len;
	bool full;
};

static void sb_str(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (b->len == sizeof(b->p)) {
			b->full = true;
			return;
		}
		b->p[b->len++] = *s;
	}
}

static void sb_u64(struct sbuf *b, uint64_t v)
{
	char d[21];
	int n = (int)sizeof(d) - 1;

	d[n] = 0;
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_str(b, d + n);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Async-signal-safe (see above); 0, or -1 when no report was written. */
int ft_crash_json_write(int sig, const char *sig_name, const char *rule,
			const char *detail, const struct ft_run *run)
{
	static struct sbuf b;	/* the handler's stack may be small */
	static const char sep[2][3] = { "", ", " };
	struct timespec ts;
	int64_t ms;
	bool ok;
	int fd;

	if (!crash_json.head)
		return ft.o.json ? -1 : 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = (int64_t)(ts.tv_sec - crash_json.t0.tv_sec) * 1000 +
	     (ts.tv_nsec - crash_json.t0.tv_nsec) / 1000000;
	if (ms < 0)
		ms = 0;
	b.len = 0;
	b.full = false;
	sb_str(&b, "  \"duration_s\": ");
	sb_u64(&b, (uint64_t)ms / 1000);
	sb_str(&b, ms % 1000 < 100 ? (ms % 1000 < 10 ? ".00" : ".0") : ".");
	sb_u64(&b, (uint64_t)ms % 1000);
	for (int fails = 0; fails < 2; fails++) {
		sb_str(&b, fails ? "},\n  \"failures\": {" : ",\n  \"ops\": {");
		for (int k = 0; k < FT_OP_NR; k++) {
			sb_str(&b, sep[!!k]);
			sb_str(&b, "\"");
			sb_str(&b, ft_op_names[k]);
			sb_str(&b, "\": ");
			/* no workers yet: a crash while creating the world */
			sb_u64(&b, ft.workers ? ft_ops_total(k, fails) : 0);
		}
	}
	sb_str(&b, "},\n  \"checks\": ");
	sb_u64(&b, __atomic_load_n(&run->checks, __ATOMIC_RELAXED));
	sb_str(&b, ",\n  \"violations\": ");
	sb_u64(&b, __atomic_load_n(&run->violations, __ATOMIC_RELAXED));
	sb_str(&b, ",\n  \"leaks\": 0,\n  \"violation\": {\"rule\": \"");
	sb_str(&b, rule);
	sb_str(&b, "\", \"pfn\": -1, \"folio\": \"(nil)\", \"detail\": \"");
	if (sig) {
		sb_str(&b, "fatal signal ");
		sb_u64(&b, (uint64_t)sig);
		sb_str(&b, " (");
		sb_str(&b, sig_name);
		sb_str(&b, ")\"},\n  \"signal\": ");
		sb_u64(&b, (uint64_t)sig);
	} else {
		sb_str(&b, detail);	/* the caller's: no quote, no backslash */
		sb_str(&b, "\"}");
	}
	sb_str(&b, "\n}\n");
	if (b.full)	/* cannot happen at these sizes; never half a report */
		return -1;
	fd = open(crash_json.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -1;
	ok = write_all(fd, crash_json.head, crash_json.head_len) &&
	     write_all(fd, b.p, b.len);
	if (close(fd) || !ok || rename(crash_json.tmp, ft.o.json)) {
		unlink(crash_json.tmp);
		return -1;
	}
	return 0;
}

void ft_print_windows(FILE *out, const unsigned long *hits, const char *eq,
		      const char *sep)
{
	bool any = false;

	for (unsigned int w = 0; w < FW_NR; w++)
		if (hits[w]) {
			fprintf(out, "%s%s%s%lu", any ? sep : "",
				folio_window_name(w), eq, hits[w]);
			any = true;
		}
	if (!any)
		fprintf(out, "none");
}

void ft_print_summary(const struct ft_run *run, const struct ft_scenario *sc)
{
	static const char *const word[] = {
		[FT_PASS] = "PASS", [FT_FAIL] = "FAIL",
		[FT_INTERRUPTED] = "INTERRUPTED",
	};
	double el = run->elapsed > 0 ? run->elapsed : 1e-9;

	fflush(stderr);
	if (run->result == FT_FAIL) {
		char cmd[4096];

		ft_command_line(cmd, sizeof(cmd), &ft.o);
		printf("foliotorture: %s: rerun: %s\n",
		       run->fail_rule ? run->fail_rule : "failure", cmd);
	}
	printf("foliotorture: %s seed=%" PRIu64 " scenario=%s threads=%u "
	       "elapsed=%.1fs ops=%lu ops/s=%.0f checks=%lu violations=%lu "
	       "leaks=%lu peak_rss=%ldKiB",
	       word[run->result], ft.o.seed, sc->name, ft.o.threads, run->elapsed,
	       ft_all_ops(), ft_all_ops() / el, run->checks, run->violations,
	       run->leaks, peak_rss_kb());
	if (run->workers_stopped)	/* the counts are the workers' own */
		printf(" data_checks=%lu", ft_data_checked());
	printf(" windows=");
	ft_print_windows(stdout, run->windows, ":", ",");
	if (run->result == FT_FAIL && run->fail_rule)
		printf(" rule=%s", run->fail_rule);
	if (run->signal)
		printf(" signal=%d", run->signal);
	printf("\n");
	fflush(stdout);
}
