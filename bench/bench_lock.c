/* SPDX-License-Identifier: MIT */
/*
 * bench_lock.c - folio lock with the hashed wait table vs the per-folio
 * wait list, under contention (folio/lock.h, docs/design.md 5.12).
 *
 * LOCK_NR order-0 folios; each thread locks a random one (its own
 * xorshift stream), runs a short critical section (a plain counter of the
 * folio and LOCK_CS_ROUNDS rounds of arithmetic on it, a few tens of ns),
 * and unlocks.  Two sets of folios:
 *   shared - all LOCK_NR folios hash to one bucket of the wait table: in
 *            hashed mode their waiters share one lock, one list and one
 *            condition variable (the RFC's "long shared wait lists");
 *   spread - LOCK_NR folios in LOCK_NR different buckets: the control, no
 *            sharing, so what is left is the cost of each mode's own
 *            sleep/wake (wake-all on a bucket vs wake-oldest on a list).
 * Descriptors of a set are at least LOCK_MIN_DISTANCE bytes apart, so no
 * two folios' flags words share a cache line.
 * Threads: 1 (the fast paths only: both modes run the same inline code),
 * 2 (one per cpu, pinned, judged clean or not like the other benchmarks),
 * 4 and 8 (oversubscribed on purpose: lock holders get preempted and
 * waiters really sleep; not pinned, and "clean" means nothing there).
 * Each configuration runs both modes alternately in this one binary
 * (folio_lock_set_mode() between repetitions, when no thread runs), best
 * of the repetitions; reported: lock+unlock pairs per second summed over
 * threads for each mode, and the ratio perfolio/hashed.  No target: this
 * measures a design alternative, it does not gate one.
 * Two more columns explain the numbers, averaged over all repetitions of
 * a mode: waits per 1000 pairs (final trylocks that failed, so the thread
 * queued itself; counted by folio_lock_hook, in a thread-local counter,
 * on the slow path only) and cpus busy (process cpu time / wall time).
 * With a short critical section, a mode whose waiters come back sooner
 * keeps more cpus fighting over the flags word's cache line, and a mode
 * whose waiters stay away longer lets the holder run alone: throughput
 * and waiting are not the same thing.
 *
 * Run: build/release/bench/folio_bench --only lock
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "folio/folio.h"
#include "folio/lock.h"
#include "folio/world.h"
#include "bench.h"

#define LOCK_NR 4			/* folios per set; a power of two */
#define LOCK_CS_ROUNDS 16		/* critical-section work */
#define LOCK_MIN_DISTANCE 256		/* bytes between descriptors of a set */
#define LOCK_MAX_THREADS 8
#define LOCK_CANDIDATES 2048		/* folios scanned to build the sets */

_Static_assert((LOCK_NR & (LOCK_NR - 1)) == 0, "LOCK_NR: a power of two");

/* What the critical section touches: one line per folio. */
struct lock_slot {
	unsigned long count;
	unsigned long acc;
} __attribute__((aligned(BENCH_SEPARATION)));

struct lock_set {
	const char *name;
	unsigned int nr_buckets;	/* distinct hashed buckets */
	struct folio *folio[LOCK_NR];
	struct lock_slot slot[LOCK_NR];
	unsigned long ops;		/* pairs run over every repetition */
};

/* Per-mode sums over every repetition, for the explanatory columns. */
struct lock_stats {
	double pairs, waits;
	double cpu_ns, wall_ns;
};

/* Waits of this thread in the current run; folded into lock_run_waits. */
static __thread unsigned long lock_waits;
static atomic_ulong lock_run_waits;

static void lock_count_hook(enum folio_lock_hook_point p, struct folio *f)
{
	if (p == FOLIO_LOCK_HOOK_TRYLOCK_FAILED)
		lock_waits++;
}

static double cpu_ns_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

static uint64_t xorshift64s(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static void loop_lock(struct bench_worker *w)
{
	struct lock_set *s = w->arg;
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->id + 1);
	unsigned long n = 0;

	while (bench_running(w)) {
		for (int i = 0; i < BENCH_BATCH; i++) {
			unsigned int k = (unsigned int)(xorshift64s(&x) >> 32) &
					 (LOCK_NR - 1);
			struct lock_slot *sl = &s->slot[k];
			unsigned long acc;

			folio_lock(s->folio[k]);
			/* plain accesses: the folio lock orders them */
			sl->count++;
			acc = sl->acc;
			for (int r = 0; r < LOCK_CS_ROUNDS; r++)
				acc = acc * 6364136223846793005ul + r;
			sl->acc = acc;
			folio_unlock(s->folio[k]);
		}
		n += BENCH_BATCH;
	}
	w->ops = n;
	atomic_fetch_add(&lock_run_waits, lock_waits);
	lock_waits = 0;
}

/* ---- an oversubscribed run: more threads than bench_run_once takes ---- */

static struct {
	pthread_barrier_t start;
	double seconds;
	struct bench_worker workers[LOCK_MAX_THREADS];
} over;

static void *over_worker_main(void *p)
{
	struct bench_worker *w = p;
	double t0;

	pthread_barrier_wait(&over.start);
	t0 = bench_now_ns();
	w->deadline = t0 + over.seconds * 1e9;
	loop_lock(w);
	w->ns = bench_now_ns() - t0;
	return NULL;
}

/*
 * Like bench_run_once(), but any number of threads, none pinned (the
 * scheduler spreads them over the cpus) and no cleanliness verdict:
 * waiting for a cpu is the point here.
 */
static int over_run_once(unsigned int threads, double seconds,
			 struct lock_set *s, struct bench_result *res)
{
	pthread_t tids[LOCK_MAX_THREADS];
	int err = 0;

	over.seconds = seconds;
	pthread_barrier_init(&over.start, NULL, threads);
	for (unsigned int i = 0; i < threads; i++) {
		struct bench_worker *w = &over.workers[i];

		memset(w, 0, sizeof(*w));
		w->id = i;
		w->arg = s;
		if (pthread_create(&tids[i], NULL, over_worker_main, w)) {
			/* the barrier cannot be released short-handed */
			fprintf(stderr, "lock: pthread_create failed\n");
			exit(1);
		}
	}
	for (unsigned int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&over.start);

	*res = (struct bench_result){ .clean = false };
	for (unsigned int i = 0; i < threads; i++) {
		struct bench_worker *w = &over.workers[i];

		s->ops += w->ops;
		if (!w->ops || w->ns <= 0) {
			err = -1;
			continue;
		}
		res->ns_per_op += w->ns / (double)w->ops / threads;
		res->ops_per_s += (double)w->ops * 1e9 / w->ns;
	}
	return err;
}

/* One repetition of @s in @mode; adds to @st. */
static int lock_run_once(const struct bench_opts *o, unsigned int threads,
			 enum folio_lock_mode mode, struct lock_set *s,
			 struct bench_result *res, struct lock_stats *st)
{
	static struct bench_job job;
	unsigned long ops0 = s->ops;
	double t0, c0;
	int err;

	/* no thread of ours runs now: the mode may change */
	folio_lock_set_mode(mode);
	atomic_store(&lock_run_waits, 0);
	t0 = bench_now_ns();
	c0 = cpu_ns_now();
	if (threads > BENCH_MAX_THREADS) {
		err = over_run_once(threads, o->seconds, s, res);
	} else {
		job = (struct bench_job){ .nr_threads = threads,
					  .seconds = o->seconds,
					  .loop = loop_lock };
		for (unsigned int t = 0; t < threads; t++)
			job.args[t] = s;
		err = bench_run_once(&job, res);
		for (unsigned int t = 0; t < threads; t++)
			s->ops += job.workers[t].ops;
	}
	st->cpu_ns += cpu_ns_now() - c0;
	st->wall_ns += bench_now_ns() - t0;
	st->pairs += (double)(s->ops - ops0);
	st->waits += (double)atomic_load(&lock_run_waits);
	return err;
}

/*
 * Both modes alternately, as bench_run_pair() does (which cannot switch
 * the mode between repetitions): until each has opts->reps clean
 * repetitions or 3 * opts->reps attempts; oversubscribed runs are never
 * clean, so they stop after opts->reps.
 */
static int lock_run_pair(const struct bench_opts *o, unsigned int threads,
			 struct lock_set *s, struct bench_result *bh,
			 struct bench_result *bp, struct lock_stats *sh,
			 struct lock_stats *sp)
{
	bool over_run = threads > BENCH_MAX_THREADS;
	struct bench_result r;

	*bh = (struct bench_result){ 0 };
	*bp = (struct bench_result){ 0 };
	for (unsigned int n = 0; n < 3 * o->reps; n++) {
		if (over_run ? n >= o->reps :
			       bh->clean_reps >= o->reps &&
				       bp->clean_reps >= o->reps)
			break;
		if (lock_run_once(o, threads, FOLIO_LOCK_HASHED, s, &r, sh))
			return -1;
		bench_keep_best(bh, &r);
		if (lock_run_once(o, threads, FOLIO_LOCK_PERFOLIO, s, &r, sp))
			return -1;
		bench_keep_best(bp, &r);
	}
	return 0;
}

static int lock_config(const struct bench_opts *o, unsigned int threads,
		       struct lock_set *s)
{
	struct bench_result rh, rp;
	struct lock_stats sh = { 0 }, sp = { 0 };
	bool over_run = threads > BENCH_MAX_THREADS;
	char ch[16], cp[16];
	double ratio, wh, wp, uh, up;

	if (lock_run_pair(o, threads, s, &rh, &rp, &sh, &sp))
		return -1;
	ratio = rp.ops_per_s / rh.ops_per_s;
	wh = sh.pairs > 0 ? 1000 * sh.waits / sh.pairs : 0;
	wp = sp.pairs > 0 ? 1000 * sp.waits / sp.pairs : 0;
	uh = sh.wall_ns > 0 ? sh.cpu_ns / sh.wall_ns : 0;
	up = sp.wall_ns > 0 ? sp.cpu_ns / sp.wall_ns : 0;
	if (over_run) {
		snprintf(ch, sizeof(ch), "n/a");
		snprintf(cp, sizeof(cp), "n/a");
	} else {
		snprintf(ch, sizeof(ch), "%u/%u", rh.clean_reps, rh.reps);
		snprintf(cp, sizeof(cp), "%u/%u", rp.clean_reps, rp.reps);
	}
	printf("  %-6s  %7u  %7u  %9.2f  %9.2f  %6.2f  %7.2f %7.2f  %4.2f %4.2f  %-7s %-7s\n",
	       s->name, threads, s->nr_buckets, rh.ops_per_s / 1e6,
	       rp.ops_per_s / 1e6, ratio, wh, wp, uh, up, ch, cp);
	printf("BENCH lock set=%s threads=%u nr_folios=%u buckets=%u cs_rounds=%u oversubscribed=%s hashed_per_s=%.0f perfolio_per_s=%.0f ratio=%.2f waits_per_kpair_hashed=%.2f waits_per_kpair_perfolio=%.2f cpus_hashed=%.2f cpus_perfolio=%.2f clean_hashed=%s clean_perfolio=%s\n",
	       s->name, threads, LOCK_NR, s->nr_buckets, LOCK_CS_ROUNDS,
	       threads > (unsigned int)o->nr_cpus ? "yes" : "no",
	       rh.ops_per_s, rp.ops_per_s, ratio, wh, wp, uh, up, ch, cp);
	fflush(stdout);
	return 0;
}

static bool far_from(struct folio *const *set, unsigned int n,
		     const struct folio *f)
{
	for (unsigned int i = 0; i < n; i++) {
		intptr_t d = (intptr_t)set[i] - (intptr_t)f;

		if (d < LOCK_MIN_DISTANCE && d > -LOCK_MIN_DISTANCE)
			return false;
	}
	return true;
}

/*
 * Allocate LOCK_CANDIDATES folios; build @shared from LOCK_NR of them in
 * one bucket and @spread from LOCK_NR in distinct buckets; put the rest.
 */
static int lock_build_sets(struct lock_set *shared, struct lock_set *spread)
{
	static struct folio *cand[LOCK_CANDIDATES];
	static unsigned int count[FOLIO_WAIT_TABLE_SIZE];
	bool used_bucket[FOLIO_WAIT_TABLE_SIZE] = { false };
	unsigned int nsh = 0, nsp = 0, n;
	int best = -1;

	memset(count, 0, sizeof(count));
	for (n = 0; n < LOCK_CANDIDATES; n++) {
		cand[n] = folio_alloc(0);
		if (!cand[n])
			break;
		count[folio_wait_table_index(cand[n])]++;
	}
	for (unsigned int b = 0; b < FOLIO_WAIT_TABLE_SIZE; b++)
		if (best < 0 || count[b] > count[best])
			best = (int)b;
	for (unsigned int i = 0; i < n; i++) {
		struct folio *f = cand[i];
		unsigned int b = folio_wait_table_index(f);

		if (nsh < LOCK_NR && b == (unsigned int)best &&
		    far_from(shared->folio, nsh, f) &&
		    far_from(spread->folio, nsp, f)) {
			shared->folio[nsh++] = f;
		} else if (nsp < LOCK_NR && b != (unsigned int)best &&
			   !used_bucket[b] &&
			   far_from(spread->folio, nsp, f) &&
			   far_from(shared->folio, nsh, f)) {
			used_bucket[b] = true;
			spread->folio[nsp++] = f;
		} else {
			folio_put(f);
		}
	}
	shared->nr_buckets = 1;
	spread->nr_buckets = nsp;
	if (nsh < LOCK_NR || nsp < LOCK_NR) {
		fprintf(stderr, "lock: could not build the sets (%u, %u)\n",
			nsh, nsp);
		return -1;
	}
	return 0;
}

static void lock_put_set(struct lock_set *s)
{
	for (unsigned int k = 0; k < LOCK_NR; k++) {
		if (s->folio[k])
			folio_put(s->folio[k]);
		s->folio[k] = NULL;
	}
}

/* Every pair ran under the lock: the plain counters add up, no lock left. */
static int lock_verify(const struct lock_set *s)
{
	unsigned long sum = 0;
	int err = 0;

	for (unsigned int k = 0; k < LOCK_NR; k++) {
		struct folio *f = s->folio[k];

		sum += s->slot[k].count;
		bench_consume(s->slot[k].acc);
		if (folio_test_locked(f) || folio_test_flag(f, PG_waiters) ||
		    folio_lock_waiters_linked(f)) {
			fprintf(stderr, "lock: %s folio %u left locked or with waiters (flags %#lx)\n",
				s->name, k, (unsigned long)fa_load_relaxed(&f->flags));
			err = -1;
		}
	}
	if (sum != s->ops) {
		fprintf(stderr, "lock: %s set: %lu increments for %lu lock+unlock pairs\n",
			s->name, sum, s->ops);
		err = -1;
	}
	return err;
}

int bench_lock(const struct bench_opts *o)
{
	static const unsigned int threads[] = { 1, 2, 4, 8 };
	struct folio_config cfg = { .nr_pages = 2 * LOCK_CANDIDATES };
	static struct lock_set shared, spread;
	enum folio_lock_mode saved = folio_lock_get_mode();
	unsigned long leaks;
	int err = 0;

	printf("\n== lock: folio_lock()+folio_unlock(), hashed wait table vs per-folio wait list ==\n");
	printf("   %u order-0 folios per set, random picks, %u-round critical section; pairs/s summed over threads\n",
	       LOCK_NR, LOCK_CS_ROUNDS);
	printf("   shared: the %u folios' waiters share one hashed bucket; spread: %u buckets (control)\n",
	       LOCK_NR, LOCK_NR);
	printf("   build default mode: %s; best of %u reps x %.2fs (2 threads: %u clean)\n",
	       folio_lock_mode_name(FOLIO_LOCK_MODE_DEFAULT), o->reps,
	       o->seconds, o->reps);
	shared = (struct lock_set){ .name = "shared" };
	spread = (struct lock_set){ .name = "spread" };
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "lock: folio_world_init failed\n");
		return -1;
	}
	if (lock_build_sets(&shared, &spread)) {
		err = -1;
		goto out;
	}
	atomic_store(&folio_lock_hook, lock_count_hook);
	printf("  %-6s  %7s  %7s  %9s  %9s  %6s  %15s  %9s  %-7s %-7s\n",
	       "", "", "", "Mpairs/s", "Mpairs/s", "ratio", "waits/kpair",
	       "cpus busy", "", "");
	printf("  %-6s  %7s  %7s  %9s  %9s  %6s  %7s %7s  %4s %4s  %-7s %-7s\n",
	       "set", "threads", "buckets", "hashed", "perfolio", "p/h",
	       "hashed", "perfol", "h", "p", "clean/h", "clean/p");
	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]) && !err;
	     i++) {
		err = lock_config(o, threads[i], &shared);
		/* one thread never waits: the spread control adds nothing */
		if (!err && threads[i] > 1)
			err = lock_config(o, threads[i], &spread);
	}
	if (!err)
		err = lock_verify(&shared) | lock_verify(&spread);
out:
	atomic_store(&folio_lock_hook, NULL);
	folio_lock_set_mode(saved);
	lock_put_set(&shared);
	lock_put_set(&spread);
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "lock: world leaked %lu\n", leaks);
		err = -1;
	}
	return err;
}
