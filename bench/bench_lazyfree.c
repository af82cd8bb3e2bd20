/* SPDX-License-Identifier: MIT */
/*
 * bench_lazyfree.c - reclaim of lazyfree (MADV_FREE) anon folios, batched
 * unmap against the per-entry baseline.
 *
 *   lazyfree  order-4 (64 KiB) folios mapped by 16 PTEs each:
 *             reclaim_lazyfree_folio(f, true) clears all 16 PTEs, one
 *             barrier, one verdict, one rmap removal and put; (f, false)
 *             does the whole decision once per PTE.  Floor 2.5x (the 2025
 *             series "mm: batched unmap lazyfree large folios during
 *             reclamation").
 *   pmd       order-9 PMD-mapped folios: (f, true) discards the PMD leaf
 *             without splitting it; (f, false) splits the PMD, then unmaps
 *             per PTE.  Floor 3.5x.
 *
 * A round: fault N folios (do_anonymous_page, dirty; N = 1024 order-4 or
 * 64 order-9, 1/8 of that with --quick), madvise_free them all, isolate
 * each (folio_try_get_pfn under rcu_read_lock_model, then folio_lock),
 * and only then, timed, reclaim each; every reclaim must return 0 (the
 * folio freed, with our reference and lock).  Order-4 rounds reuse the
 * same addresses; pmd rounds take fresh ones (a split leaves a PTE table
 * that a PMD fault cannot replace), and every 16 rounds a new mm, waiting
 * for the old one's tables to be freed (rcu_barrier), untimed.  Each
 * repetition runs rounds for the configured time (bench_run_pair():
 * batched and baseline alternate, each with its own mm); reported: the
 * best repetition's reclaim ns per folio and per page, and the ratio
 * baseline/batched.  Before timing, a round of each variant must give
 * every page and descriptor back (folio_world_get_stats()) and leave
 * folio_check_quiescent() clean.
 *
 * Run: build/release/bench/folio_bench --only lazyfree   (or --only pmd)
 */
#include <stdio.h>
#include <stdlib.h>

#include "folio/check.h"
#include "folio/lock.h"
#include "folio/rcu.h"
#include "folio/vmscan.h"
#include "folio/world.h"
#include "bench.h"

struct lf_bench {
	const char *name;
	const char *what;
	unsigned int order;
	unsigned long folios, folios_quick;	/* per round */
	unsigned int slots;	/* rounds per mm at fresh addresses; 0: reuse */
	double floor;
};

static const struct lf_bench lf_lazyfree = {
	"lazyfree", "order-4 (64 KiB) PTE-mapped, batched vs per-PTE unmap",
	4, 1024, 128, 0, 2.5 };
static const struct lf_bench lf_pmd = {
	"pmd", "order-9 PMD-mapped, discard vs split_huge_pmd + per-PTE unmap",
	9, 64, 8, 16, 3.5 };

struct lf_arg {
	const struct lf_bench *b;
	unsigned long nr;	/* folios per round */
	bool batched;
	struct mm_struct *mm;	/* this variant's own */
	unsigned int slot;	/* next round's addresses (b->slots) */
	struct folio **fs;
	double reclaim_ns;	/* best rep: reclaim ns per folio */
	unsigned long failures;
};

static void lf_fail(struct lf_arg *a, const char *what, unsigned long i,
		    long err)
{
	if (!a->failures++)
		fprintf(stderr, "%s: %s failed (%ld) for folio %lu (%s)\n",
			a->b->name, what, err, i,
			a->batched ? "batched" : "baseline");
}

/* Find the folio mapped at @va, take a reference and its lock. */
static struct folio *lf_isolate(struct mm_struct *mm, unsigned long va)
{
	struct folio *f = NULL;
	pte_t pte = 0;
	pmd_t pmd;

	rcu_read_lock_model();
	pmd = fa_load_acquire(pmd_offset(mm, va));
	if (pmd_leaf(pmd))
		pte = pmd;
	else if (pmd_table(pmd))
		pte = fa_load_acquire(pte_offset(pmd, va));
	if (pte_present(pte))
		f = folio_try_get_pfn(pte_pfn(pte), 1);
	rcu_read_unlock_model();
	if (f)
		folio_lock(f);
	return f;
}

/* Replace @a's mm, waiting for the old one's tables to be freed. */
static int lf_new_mm(struct lf_arg *a)
{
	unsigned int slots = a->b->slots ? a->b->slots : 1;

	if (a->mm) {
		mm_destroy(a->mm);
		rcu_barrier_model();
	}
	a->slot = 0;
	a->mm = mm_create((a->nr << a->b->order) * slots, 0);
	if (!a->mm)
		lf_fail(a, "mm_create", 0, 0);
	return a->mm ? 0 : -1;
}

/* Set up and reclaim one round; adds the reclaim time to *ns. */
static int lf_round(struct lf_arg *a, double *ns)
{
	unsigned long span = 1ul << a->b->order, i, n = 0, base;
	struct mm_struct *mm;
	long marked;
	double t0;
	int err = 0;

	if (a->b->slots && a->slot == a->b->slots && lf_new_mm(a))
		return -1;
	mm = a->mm;
	base = a->slot * a->nr * span;
	if (a->b->slots)
		a->slot++;
	for (i = 0; i < a->nr; i++) {
		err = do_anonymous_page(mm, base + i * span, a->b->order, true);
		if (err) {
			lf_fail(a, "do_anonymous_page", i, err);
			goto out;
		}
	}
	marked = madvise_free(mm, base, a->nr * span);
	if (marked != (long)a->nr) {
		lf_fail(a, "madvise_free (folios marked)", 0, marked);
		err = -1;
		goto out;
	}
	for (n = 0; n < a->nr; n++) {
		struct folio *f = lf_isolate(mm, base + n * span);

		if (f)
			a->fs[n] = f;
		if (!f || !folio_test_lazyfree(f) ||
		    folio_order(f) != a->b->order) {
			lf_fail(a, "isolation (lazyfree folio of the order)",
				n, 0);
			n += !!f;
			err = -1;
			goto out;
		}
	}
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		int e = reclaim_lazyfree_folio(a->fs[i], a->batched);

		if (__builtin_expect(e != 0, 0)) {
			folio_unlock(a->fs[i]);
			folio_put(a->fs[i]);
			lf_fail(a, "reclaim_lazyfree_folio", i, e);
			err = -1;
		}
	}
	*ns += bench_now_ns() - t0;
	n = 0;
out:
	while (n) {	/* isolated but not reclaimed: a failure */
		folio_unlock(a->fs[--n]);
		folio_put(a->fs[n]);
	}
	return err;
}

static void loop_lf(struct bench_worker *w)
{
	struct lf_arg *a = w->arg;
	unsigned long n = 0;
	double ns = 0;

	while (bench_running(w)) {
		if (lf_round(a, &ns))
			break;
		n += a->nr;
	}
	w->ops = n;
	w->sink = a->failures;
	if (n && (a->reclaim_ns == 0 || ns / (double)n < a->reclaim_ns))
		a->reclaim_ns = ns / (double)n;
}

/*
 * One untimed round: every page and descriptor must come back (free pages
 * plus slab pages, and live folio descriptors, as before), the model stay
 * sound.
 */
static int lf_verify(struct lf_arg *a)
{
	struct folio_check_opts co = { .out = stderr };
	struct folio_world_stats s0, s1;
	double ns = 0;

	/* a warm-up round: the tables a reused mm keeps */
	if (lf_round(a, &ns) || (a->b->slots && lf_new_mm(a)))
		return -1;
	folio_world_get_stats(&s0);
	if (lf_round(a, &ns) || (a->b->slots && lf_new_mm(a)))
		return -1;
	folio_world_get_stats(&s1);
	if (s0.free_pages + s0.slab_pages != s1.free_pages + s1.slab_pages ||
	    s0.folio_cache.nr_active != s1.folio_cache.nr_active) {
		fprintf(stderr, "%s: %s round: free+slab pages %lu -> %lu, live folios %lu -> %lu\n",
			a->b->name, a->batched ? "batched" : "baseline",
			s0.free_pages + s0.slab_pages,
			s1.free_pages + s1.slab_pages,
			s0.folio_cache.nr_active, s1.folio_cache.nr_active);
		return -1;
	}
	return folio_check_quiescent(&co, NULL) ? -1 : 0;
}

static int lf_run(const struct bench_opts *o, const struct lf_bench *b)
{
	struct folio_config cfg = { .nr_pages = o->quick ? 1ul << 15 : 1ul << 18,
				    .pmd_order = 9 };
	unsigned long nr = o->quick ? b->folios_quick : b->folios, leaks;
	static struct bench_job batched, baseline;
	struct bench_result rb = { 0 }, ru = { 0 };
	struct lf_arg ab = { 0 }, au = { 0 };
	double ratio, pages = (double)(1ul << b->order);
	const char *met;
	int err = -1;

	printf("\n== %s: reclaim_lazyfree_folio(), %s ==\n", b->name, b->what);
	printf("   %lu folios per round; fault, madvise_free and isolation untimed; 1 thread; best of %u clean x %.2fs\n",
	       nr, o->reps, o->seconds);
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "%s: folio_world_init failed\n", b->name);
		return -1;
	}
	ab = (struct lf_arg){ .b = b, .nr = nr, .batched = true,
			      .fs = calloc(nr, sizeof(struct folio *)) };
	au = ab;
	au.batched = false;
	if (!ab.fs || lf_new_mm(&ab) || lf_new_mm(&au) || lf_verify(&ab) ||
	    lf_verify(&au))
		goto out;
	batched = (struct bench_job){ .nr_threads = 1, .seconds = o->seconds,
				      .model = true, .loop = loop_lf };
	baseline = batched;
	batched.args[0] = &ab;
	baseline.args[0] = &au;
	if (bench_run_pair(&batched, &baseline, o, &rb, &ru) || ab.failures ||
	    au.failures) {
		fprintf(stderr, "%s: failures: batched %lu, baseline %lu\n",
			b->name, ab.failures, au.failures);
		goto out;
	}
	ratio = au.reclaim_ns / ab.reclaim_ns;
	met = bench_met(o, ratio >= b->floor);
	printf("  %5s  %16s  %17s  %7s  %5s  %-7s %-7s  met (ratio>=floor)\n",
	       "order", "batched ns/folio", "baseline ns/folio", "ratio",
	       "floor", "clean/b", "clean/u");
	printf("  %5u  %16.1f  %17.1f  %7.2f  %5.1f  %3u/%-3u %3u/%-3u  %s\n",
	       b->order, ab.reclaim_ns, au.reclaim_ns, ratio, b->floor,
	       rb.clean_reps, rb.reps, ru.clean_reps, ru.reps, met);
	printf("BENCH %s order=%u folios=%lu ns_per_folio_batched=%.1f ns_per_folio_baseline=%.1f ns_per_page_batched=%.2f ns_per_page_baseline=%.2f ratio=%.2f floor=%.1f met=%s clean_batched=%u/%u clean_baseline=%u/%u\n",
	       b->name, b->order, nr, ab.reclaim_ns, au.reclaim_ns,
	       ab.reclaim_ns / pages, au.reclaim_ns / pages, ratio, b->floor,
	       met, rb.clean_reps, rb.reps, ru.clean_reps, ru.reps);
	fflush(stdout);
	err = 0;
out:
	if (ab.mm)
		mm_destroy(ab.mm);
	if (au.mm)
		mm_destroy(au.mm);
	free(ab.fs);
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "%s: world leaked %lu\n", b->name, leaks);
		err = -1;
	}
	return err;
}

int bench_lazyfree(const struct bench_opts *o)
{
	return lf_run(o, &lf_lazyfree);
}

int bench_pmd(const struct bench_opts *o)
{
	return lf_run(o, &lf_pmd);
}
