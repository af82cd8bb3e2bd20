/* SPDX-License-Identifier: MIT */
/*
 * bench_ref.c - cost of the refcount fast path.
 *
 * Measures ns per folio_try_get(f) + folio_put(f) pair beside ns per bare
 * atomic_fetch_add() + atomic_fetch_sub() pair (seq_cst, on an atomic_int,
 * results used), in the same binary, at 1 and 2 threads:
 *   private - each thread has its own folio / its own atomic, the refcounts
 *             in different 128-byte blocks (no false sharing);
 *   shared  - every thread hammers one folio / one atomic.
 * The folio holds a base reference throughout, so every try_get succeeds
 * and no put frees it.  Reported: model ns, bare ns, ratio model/bare
 * (target <= 1.3); each the best of the clean repetitions, model and bare
 * runs interleaved (bench_run_pair() in bench_util.c).
 *
 * Run: build/release/bench/folio_bench --only ref
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/folio.h"
#include "folio/world.h"
#include "bench.h"

#define REF_TARGET 1.3
#define REF_POOL 16	/* folios allocated to find well-separated ones */

static struct {
	_Alignas(BENCH_SEPARATION) atomic_int v;
} bare_counters[BENCH_MAX_THREADS];

/* Failed try_gets over all runs: must stay 0, the base ref is held. */
static atomic_ulong ref_failures;

static void loop_model(struct bench_worker *w)
{
	struct folio *f = w->arg;
	unsigned long n = 0, fails = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++) {
			if (__builtin_expect(!folio_try_get(f), 0)) {
				fails++;
				continue;
			}
			folio_put(f);
		}
		n += BENCH_BATCH;
	}
	w->ops = n;
	w->sink = fails;
	atomic_fetch_add(&ref_failures, fails);
}

static void loop_bare(struct bench_worker *w)
{
	atomic_int *a = w->arg;
	unsigned long n = 0;
	unsigned int sum = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++) {
			sum += (unsigned int)atomic_fetch_add(a, 1);
			sum += (unsigned int)atomic_fetch_sub(a, 1);
		}
		n += BENCH_BATCH;
	}
	w->ops = n;
	w->sink = sum;
}

static uintptr_t ref_block(const struct folio *f)
{
	return (uintptr_t)&f->_refcount / BENCH_SEPARATION;
}

/*
 * Pick BENCH_MAX_THREADS folios from @pool whose refcounts lie in distinct
 * 128-byte blocks (descriptors are 80 bytes: neighbours share lines).
 * Returns the number found.
 */
static unsigned int pick_private(struct folio *pool[REF_POOL],
				 struct folio *out[BENCH_MAX_THREADS])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < REF_POOL && n < BENCH_MAX_THREADS; i++) {
		bool clash = false;

		if (!pool[i])
			continue;
		for (unsigned int j = 0; j < n; j++)
			clash |= ref_block(out[j]) == ref_block(pool[i]);
		if (!clash) {
			out[n++] = pool[i];
			pool[i] = NULL;
		}
	}
	return n;
}

static int ref_config(const struct bench_opts *o, unsigned int threads,
		      bool shared, struct folio *priv[BENCH_MAX_THREADS])
{
	static struct bench_job model, bare;
	struct bench_result rm = { 0 }, rb = { 0 };
	const char *mode = shared ? "shared" : "private";
	double ratio;

	model = (struct bench_job){ .nr_threads = threads,
				    .seconds = o->seconds,
				    .model = true,
				    .loop = loop_model };
	bare = (struct bench_job){ .nr_threads = threads,
				   .seconds = o->seconds,
				   .loop = loop_bare };
	for (unsigned int t = 0; t < threads; t++) {
		unsigned int k = shared ? 0 : t;

		model.args[t] = priv[k];
		bare.args[t] = &bare_counters[k].v;
	}
	if (bench_run_pair(&model, &bare, o, &rm, &rb))
		return -1;
	if (atomic_load(&ref_failures)) {
		fprintf(stderr, "ref: folio_try_get failed %lu times\n",
			atomic_load(&ref_failures));
		return -1;
	}
	ratio = rm.ns_per_op / rb.ns_per_op;
	printf("  %7u  %-8s  %13.2f  %12.2f  %6.2f  %3u/%-3u %3u/%-3u  %s\n",
	       threads, mode, rm.ns_per_op, rb.ns_per_op, ratio, rm.clean_reps,
	       rm.reps, rb.clean_reps, rb.reps,
	       bench_met(o, ratio <= REF_TARGET));
	printf("BENCH ref_pair threads=%u mode=%s ns_model=%.2f ns_bare=%.2f ratio=%.2f target=%.2f met=%s clean_model=%u/%u clean_bare=%u/%u\n",
	       threads, mode, rm.ns_per_op, rb.ns_per_op, ratio, REF_TARGET,
	       bench_met(o, ratio <= REF_TARGET), rm.clean_reps, rm.reps,
	       rb.clean_reps, rb.reps);
	fflush(stdout);
	return 0;
}

int bench_ref(const struct bench_opts *o)
{
	struct folio_config cfg = { .nr_pages = 1024 };
	struct folio *pool[REF_POOL] = { NULL }, *priv[BENCH_MAX_THREADS];
	unsigned long leaks;
	unsigned int npriv = 0;
	int err = 0;

	printf("\n== ref: folio_try_get()+folio_put() vs atomic_fetch_add()+atomic_fetch_sub() ==\n");
	printf("   ns per pair per thread; best of %u clean x %.2fs (clean: reps undisturbed by other tasks / reps run)\n",
	       o->reps, o->seconds);
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "ref: folio_world_init failed\n");
		return -1;
	}
	for (unsigned int i = 0; i < REF_POOL; i++)
		pool[i] = folio_alloc(0);
	npriv = pick_private(pool, priv);
	if (npriv < BENCH_MAX_THREADS) {
		fprintf(stderr, "ref: no well-separated folios\n");
		err = -1;
		goto out;
	}
	printf("  %7s  %-8s  %13s  %12s  %6s  %-7s %-7s  met (ratio<=%.1f)\n",
	       "threads", "mode", "model ns/pair", "bare ns/pair", "ratio",
	       "clean/m", "clean/b", REF_TARGET);
	for (unsigned int threads = 1; threads <= BENCH_MAX_THREADS && !err;
	     threads++) {
		err = ref_config(o, threads, false, priv);
		if (!err)
			err = ref_config(o, threads, true, priv);
	}
out:
	for (unsigned int t = 0; t < npriv; t++)
		folio_put(priv[t]);
	for (unsigned int i = 0; i < REF_POOL; i++)
		if (pool[i])
			folio_put(pool[i]);
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "ref: world leaked %lu\n", leaks);
		err = -1;
	}
	return err;
}
