/* SPDX-License-Identifier: MIT */
/*
 * report.c - what foliotorture tells the user about a run: the summary
 * line (PASS / FAIL / INTERRUPTED, always agreeing with the exit status),
 * the command that reruns the configuration, every worker's recent
 * operations on a failure, and the JSON report, written atomically.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

int ft_write_json(const struct ft_run *run, const struct ft_scenario *sc)
{
	char tmp[4096], cmd[4096];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
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
	ft_command_line(cmd, sizeof(cmd), &ft.o);
	fprintf(f, "{\n  \"result\": \"%s\",\n  \"version\": ",
		ft_result_names[run->result]);
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
		   "  \"duration_requested_s\": %.3f,\n  \"duration_s\": %.3f,\n"
		   "  \"ops\": {",
		ft.o.chaos, ft.o.threads, ft.o.check_interval_ms, ft.o.nr_pages,
		ft.o.nr_files, ft.o.file_pages, ft.o.max_order, ft.o.pmd_order,
		ft.o.nr_mms, ft.o.anon_pages, ft.o.duration, run->elapsed);
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ft_ops_total(k, false));
	fprintf(f, "},\n  \"failures\": {");
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ft_ops_total(k, true));
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
	if (run->result == FT_FAIL && run->fail_rule)
		printf(" rule=%s", run->fail_rule);
	if (run->signal)
		printf(" signal=%d", run->signal);
	printf("\n");
	fflush(stdout);
}
