/* SPDX-License-Identifier: MIT */
/*
 * bench_window.c - what counting a race window costs on real threads
 * (folio/window.h): ns per folio_window() beside ns per relaxed
 * atomic_fetch_add() on a counter of the thread's own (bare), in the same
 * binary, at 1 and 2 threads.  folio_window() adds folio_this_cpu() (the
 * OS's sched_getcpu, through the vDSO) and an add on that CPU's row.
 *
 * Whether it can show in a run is a product: a window fires when the race
 * it closes is met, at most tens of thousands of times a second in the
 * scenarios aimed at one (foliotorture prints the rates), against
 * millions of operations.  The line "budget" gives the share of one CPU
 * that 100,000 hits a second would take at the measured cost.
 *
 * Run: build/release/bench/folio_bench --only window
 */
#include <stdatomic.h>
#include <stdio.h>

#include "folio/window.h"
#include "bench.h"

static struct {
	_Alignas(BENCH_SEPARATION) atomic_ulong v;
} bare_counters[BENCH_MAX_THREADS];

static void loop_model(struct bench_worker *w)
{
	unsigned long n = 0;

	(void)w->arg;
	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++)
			folio_window(FW_R8);	/* a window no run fires */
		n += BENCH_BATCH;
	}
	w->ops = n;
}

static void loop_bare(struct bench_worker *w)
{
	atomic_ulong *a = w->arg;
	unsigned long n = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++)
			atomic_fetch_add_explicit(a, 1, memory_order_relaxed);
		n += BENCH_BATCH;
	}
	w->ops = n;
	w->sink = atomic_load_explicit(a, memory_order_relaxed);
}

int bench_window(const struct bench_opts *o)
{
	static struct bench_job model, bare;

	printf("\n== window: folio_window() vs a relaxed atomic_fetch_add() ==\n");
	printf("   ns per count per thread; best of %u clean x %.2fs\n", o->reps,
	       o->seconds);
	printf("  %7s  %14s  %13s  %6s  %s\n", "threads", "model ns/count",
	       "bare ns/count", "ratio", "budget (1e5 hits/s, one CPU)");
	for (unsigned int threads = 1; threads <= BENCH_MAX_THREADS; threads++) {
		struct bench_result rm = { 0 }, rb = { 0 };

		model = (struct bench_job){ .nr_threads = threads,
					    .seconds = o->seconds,
					    .loop = loop_model };
		bare = (struct bench_job){ .nr_threads = threads,
					   .seconds = o->seconds,
					   .loop = loop_bare };
		for (unsigned int t = 0; t < threads; t++)
			bare.args[t] = &bare_counters[t].v;
		if (bench_run_pair(&model, &bare, o, &rm, &rb))
			return -1;
		printf("  %7u  %14.2f  %13.2f  %6.2f  %.3f%%\n", threads,
		       rm.ns_per_op, rb.ns_per_op, rm.ns_per_op / rb.ns_per_op,
		       rm.ns_per_op * 1e5 / 1e9 * 100);
		printf("BENCH window threads=%u ns_model=%.2f ns_bare=%.2f "
		       "ratio=%.2f budget_pct_1e5=%.4f clean_model=%u/%u\n",
		       threads, rm.ns_per_op, rb.ns_per_op,
		       rm.ns_per_op / rb.ns_per_op, rm.ns_per_op * 1e-2,
		       rm.clean_reps, rm.reps);
		fflush(stdout);
	}
	folio_window_reset();
	return 0;
}
