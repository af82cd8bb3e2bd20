/* SPDX-License-Identifier: MIT */
/*
 * bench_lookup.c - lockless page-cache lookup against a mutex baseline.
 *
 * A file holds LOOKUP_NR order-0 folios.  Each thread looks up random
 * indices (its own xorshift stream) and drops the reference:
 *   lockless - filemap_get_folio(mapping, index); folio_put(f)
 *              (RCU read side, try_get, slot recheck);
 *   mutex    - one global pthread mutex: lock; f = slot[index];
 *              folio_get(f); unlock; folio_put(f)
 *              (what a lookup costs when readers serialise on a lock).
 * Reported at 1 and 2 threads: lookups/s of each (summed over threads),
 * and the ratio lockless/mutex; the target (>= 5x) is for 2 threads.
 *
 * Run: build/release/bench/folio_bench --only lookup
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/lock.h"
#include "folio/world.h"
#include "bench.h"

#define LOOKUP_NR 4096ul	/* folios in the file; a power of two */
#define LOOKUP_TARGET 5.0
#define LOOKUP_TARGET_THREADS 2

static pthread_mutex_t lookup_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Lookups that found no folio, over all runs: must stay 0. */
static atomic_ulong lookup_misses;

static uint64_t xorshift64s(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static unsigned long random_index(uint64_t *x)
{
	return (unsigned long)(xorshift64s(x) >> 32) & (LOOKUP_NR - 1);
}

static uint64_t seed(unsigned int id)
{
	return 0x9e3779b97f4a7c15ull * (id + 1);
}

static void loop_lockless(struct bench_worker *w)
{
	struct address_space *m = w->arg;
	uint64_t x = seed(w->id);
	unsigned long n = 0, misses = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++) {
			unsigned long index = random_index(&x);
			struct folio *f = filemap_get_folio(m, index);

			if (__builtin_expect(!f, 0)) {
				misses++;
				continue;
			}
			folio_put(f);
		}
		n += BENCH_BATCH;
	}
	w->ops = n;
	w->sink = misses;
	atomic_fetch_add(&lookup_misses, misses);
}

static void loop_mutex(struct bench_worker *w)
{
	struct address_space *m = w->arg;
	uint64_t x = seed(w->id);
	unsigned long n = 0, misses = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++) {
			unsigned long index = random_index(&x);
			struct folio *f;

			pthread_mutex_lock(&lookup_mutex);
			f = fa_load_relaxed(&m->slots[index]);
			if (f)
				folio_get(f);
			pthread_mutex_unlock(&lookup_mutex);
			if (__builtin_expect(!f, 0)) {
				misses++;
				continue;
			}
			folio_put(f);
		}
		n += BENCH_BATCH;
	}
	w->ops = n;
	w->sink = misses;
	atomic_fetch_add(&lookup_misses, misses);
}

/* Fill every slot of @m with a locked-then-unlocked order-0 folio. */
static int lookup_fill(struct address_space *m)
{
	for (unsigned long i = 0; i < LOOKUP_NR; i++) {
		struct folio *f = folio_alloc(0);
		int err;

		if (!f)
			return -1;
		folio_lock(f);
		err = filemap_add_folio(m, f, i);
		folio_unlock(f);
		folio_put(f);	/* if added, the cache's ref keeps it */
		if (err)
			return -1;
	}
	return 0;
}

static int lookup_config(const struct bench_opts *o, unsigned int threads,
			 struct address_space *m)
{
	static struct bench_job lockless, locked;
	struct bench_result rl = { 0 }, rm = { 0 };
	bool target = threads == LOOKUP_TARGET_THREADS;
	double ratio;

	lockless = (struct bench_job){ .nr_threads = threads,
				       .seconds = o->seconds,
				       .model = true,
				       .loop = loop_lockless };
	locked = (struct bench_job){ .nr_threads = threads,
				     .seconds = o->seconds,
				     .model = true,
				     .loop = loop_mutex };
	for (unsigned int t = 0; t < threads; t++)
		lockless.args[t] = locked.args[t] = m;
	if (bench_run_pair(&lockless, &locked, o, &rl, &rm))
		return -1;
	if (atomic_load(&lookup_misses)) {
		fprintf(stderr, "lookup: %lu lookups found no folio\n",
			atomic_load(&lookup_misses));
		return -1;
	}
	ratio = rl.ops_per_s / rm.ops_per_s;
	printf("  %7u  %15.2f  %15.2f  %11.1f  %6.2f  %3u/%-3u %3u/%-3u  %s\n",
	       threads, rl.ops_per_s / 1e6, rm.ops_per_s / 1e6, rl.ns_per_op,
	       ratio, rl.clean_reps, rl.reps, rm.clean_reps, rm.reps,
	       target ? bench_met(o, ratio >= LOOKUP_TARGET) : "-");
	printf("BENCH lookup threads=%u nr_folios=%lu lockless_per_s=%.0f mutex_per_s=%.0f ratio=%.2f clean_lockless=%u/%u clean_mutex=%u/%u",
	       threads, LOOKUP_NR, rl.ops_per_s, rm.ops_per_s, ratio,
	       rl.clean_reps, rl.reps, rm.clean_reps, rm.reps);
	if (target)
		printf(" target=%.1f met=%s", LOOKUP_TARGET,
		       bench_met(o, ratio >= LOOKUP_TARGET));
	printf("\n");
	fflush(stdout);
	return 0;
}

int bench_lookup(const struct bench_opts *o)
{
	struct folio_config cfg = { .nr_pages = 2 * LOOKUP_NR };
	struct address_space *m;
	unsigned long leaks, removed;
	int err = 0;

	printf("\n== lookup: filemap_get_folio()+folio_put() vs the same under a pthread mutex ==\n");
	printf("   %lu order-0 folios, random indices; lookups/s summed over threads; best of %u clean x %.2fs\n",
	       LOOKUP_NR, o->reps, o->seconds);
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "lookup: folio_world_init failed\n");
		return -1;
	}
	m = address_space_create(LOOKUP_NR);
	if (!m) {
		fprintf(stderr, "lookup: address_space_create failed\n");
		folio_world_destroy(stderr);
		return -1;
	}
	if (lookup_fill(m)) {
		fprintf(stderr, "lookup: could not fill the file\n");
		err = -1;
		goto out;
	}
	printf("  %7s  %15s  %15s  %11s  %6s  %-7s %-7s  met (ratio>=%.0f at %u threads)\n",
	       "threads", "lockless Mops/s", "mutex Mops/s", "lockless ns",
	       "ratio", "clean/l", "clean/m", LOOKUP_TARGET,
	       LOOKUP_TARGET_THREADS);
	for (unsigned int t = 1; t <= BENCH_MAX_THREADS && !err; t++)
		err = lookup_config(o, t, m);
out:
	removed = truncate_inode_pages_range(m, 0, LOOKUP_NR);
	if (!err && removed != LOOKUP_NR) {
		fprintf(stderr, "lookup: truncated %lu of %lu folios\n",
			removed, LOOKUP_NR);
		err = -1;
	}
	if (address_space_destroy(m)) {
		fprintf(stderr, "lookup: file not empty after truncate\n");
		err = -1;
	}
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "lookup: world leaked %lu\n", leaks);
		err = -1;
	}
	return err;
}
