/* SPDX-License-Identifier: MIT */
/*
 * bench_gup.c - batched GUP-fast and unpin against the per-page baseline.
 *
 * An mm holds GUP_FOLIOS order-9 anon folios (PMD_ORDER 9), each mapped
 * by one PMD leaf ("pmd"), then, after split_huge_pmd() of each, by 512
 * PTEs ("pte": 512-page runs of one folio).  One thread grabs the whole
 * range and releases it, over and over:
 *   batched   - gup_fast() + unpin_user_pages(): one folio_ref_try_add()
 *               (PIN: and one _pincount add) and one recheck per run of a
 *               folio, one put per run;
 *   unbatched - gup_fast_unbatched() + unpin_user_pages_unbatched(): one
 *               try_add, recheck and put per page;
 * for FOLL_GET and FOLL_PIN.  Reported, in ns per page: grab+release (the
 * runner's timed loop, bench_run_pair()) and the grab alone (clocked
 * around each gup call: best repetition), and unbatched/batched ratios.
 * Floors: the 2020 patch "mm/gup: Grab head page refcount once for group
 * of subpages" reported 20.8x (GET) and 32.9x (PIN) on huge pages; judged
 * for the PMD-mapped runs (the case that patch batched).
 * The physical limit: "write" fills the same pfn array with the same
 * values and nothing else (no table walk, no reference): the store
 * bandwidth any grab must pay.  Reported as grab/write per mapping, timed
 * alike (best repetition of the clocked call); the target, batched GET
 * grab <= 1.2x the write, is judged for the PMD-mapped runs.  Every gup must
 * return the whole range; before timing, each variant's grab is checked
 * against folio_check_quiescent() with the references and pins recorded.
 *
 * Run: build/release/bench/folio_bench --only gup
 */
#include <stdio.h>
#include <stdlib.h>

#include "folio/check.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/world.h"
#include "bench.h"

#define GUP_ORDER 9
#define GUP_FOLIOS 64		/* full run; --quick: GUP_FOLIOS_QUICK */
#define GUP_FOLIOS_QUICK 8

static const struct {
	const char *name;
	unsigned int flags;
	double floor;
} gup_kinds[] = {
	{ "GET", FOLL_GET, 20.8 },
	{ "PIN", FOLL_PIN, 32.9 },
};

struct gup_arg {
	struct mm_struct *mm;
	unsigned long nr;	/* pages in the range */
	unsigned long *pfns;
	unsigned int flags;
	bool batched;
	bool write_only;	/* the floor: fill pfns, take nothing */
	double grab_ns;		/* best rep: ns per page of the gup call */
	unsigned long shorts;	/* gup calls that returned less than nr */
};

/*
 * What a grab of the range writes, without the grab: pfns[i] for every
 * page, a run of 512 consecutive pfns per folio (the folios' first pfns
 * taken once, before timing, from a real grab).  The empty asm keeps the
 * stores: the compiler must assume the array is read.
 */
static unsigned long write_firsts[GUP_FOLIOS];

static long gup_write(struct gup_arg *a)
{
	unsigned long pages = 1ul << GUP_ORDER;

	for (unsigned long i = 0; i < a->nr; i += pages) {
		unsigned long first = write_firsts[i / pages];

		for (unsigned long j = 0; j < pages; j++)
			a->pfns[i + j] = first + j;
	}
	__asm__ volatile("" : : "r"(a->pfns) : "memory");
	return (long)a->nr;
}

static long gup_grab(struct gup_arg *a)
{
	if (a->write_only)
		return gup_write(a);
	return a->batched ? gup_fast(a->mm, 0, a->nr, a->flags, a->pfns) :
			    gup_fast_unbatched(a->mm, 0, a->nr, a->flags,
					       a->pfns);
}

static void gup_release(struct gup_arg *a, unsigned long n)
{
	if (a->write_only)
		return;
	if (a->batched)
		unpin_user_pages(a->pfns, n, a->flags);
	else
		unpin_user_pages_unbatched(a->pfns, n, a->flags);
}

static void loop_gup(struct bench_worker *w)
{
	struct gup_arg *a = w->arg;
	unsigned long n = 0, sink = 0;
	double grab = 0;

	while (bench_running(w)) {
		double t0 = bench_now_ns();
		long got = gup_grab(a);

		grab += bench_now_ns() - t0;
		if (__builtin_expect(got != (long)a->nr, 0)) {
			a->shorts++;
			if (got > 0)
				gup_release(a, (unsigned long)got);
			break;
		}
		sink += a->pfns[a->nr - 1];
		gup_release(a, a->nr);
		n += a->nr;
	}
	w->ops = n;
	w->sink = sink;
	if (n && (a->grab_ns == 0 || grab / (double)n < a->grab_ns))
		a->grab_ns = grab / (double)n;
}

/*
 * One grab by @a, checked by the model's checker with exactly what it
 * took recorded (I-ref, I-pin, I-map...), released, and checked again.
 */
static int gup_verify(struct gup_arg *a, unsigned long nr_folios)
{
	struct folio_held *held = calloc(nr_folios, sizeof(*held));
	unsigned long pages = 1ul << GUP_ORDER, bad;
	struct folio_check_opts co = { .out = stderr };
	long got = gup_grab(a);
	int err = 0;

	if (!held || got != (long)a->nr) {
		fprintf(stderr, "gup: grab returned %ld of %lu pages\n", got,
			a->nr);
		if (got > 0)
			gup_release(a, (unsigned long)got);
		free(held);
		return -1;
	}
	for (unsigned long i = 0; i < a->nr; i++) {
		const struct folio *f = pfn_folio(a->pfns[i]);

		/* page i of the range is page i % 512 of the folio at i */
		if (!f || folio_index(f) != (i & ~(pages - 1)) ||
		    a->pfns[i] != folio_pfn(f) + (i & (pages - 1)))
			err = -1;
	}
	for (unsigned long i = 0; i < nr_folios; i++) {
		held[i].folio = pfn_folio(a->pfns[i * pages]);
		if (a->flags & FOLL_PIN)
			held[i].pins = (long)pages;
		else
			held[i].refs = (long)pages;
	}
	co.held = held;
	co.nr_held = nr_folios;
	bad = folio_check_quiescent(&co, NULL);
	gup_release(a, a->nr);
	co.held = NULL;
	co.nr_held = 0;
	bad += folio_check_quiescent(&co, NULL);
	if (bad || err) {
		fprintf(stderr, "gup: %s grab: %lu invariant violations%s\n",
			a->batched ? "batched" : "unbatched", bad,
			err ? ", wrong pages" : "");
		err = -1;
	}
	free(held);
	return err;
}

static int gup_config(const struct bench_opts *o, const char *map,
		      bool judged, unsigned int kind, struct gup_arg *ab,
		      struct gup_arg *au, unsigned long nr_folios)
{
	static struct bench_job batched, unbatched;
	struct bench_result rb = { 0 }, ru = { 0 };
	double floor = gup_kinds[kind].floor, ratio, gratio;
	const char *met, *gmet;

	ab->flags = au->flags = gup_kinds[kind].flags;
	ab->grab_ns = au->grab_ns = 0;
	if (gup_verify(ab, nr_folios) || gup_verify(au, nr_folios))
		return -1;
	batched = (struct bench_job){ .nr_threads = 1, .seconds = o->seconds,
				      .model = true, .loop = loop_gup };
	unbatched = batched;
	batched.args[0] = ab;
	unbatched.args[0] = au;
	if (bench_run_pair(&batched, &unbatched, o, &rb, &ru) ||
	    ab->shorts || au->shorts) {
		fprintf(stderr, "gup: %s %s: short grabs: batched %lu, unbatched %lu\n",
			map, gup_kinds[kind].name, ab->shorts, au->shorts);
		return -1;
	}
	ratio = ru.ns_per_op / rb.ns_per_op;
	gratio = au->grab_ns / ab->grab_ns;
	met = judged ? bench_met(o, ratio >= floor) : "-";
	gmet = judged ? bench_met(o, gratio >= floor) : "-";
	printf("  %-4s %-4s %-10s %9.3f %11.3f %7.1f  %5.1f  %3u/%-3u %3u/%-3u  %s\n",
	       map, gup_kinds[kind].name, "grab+put", rb.ns_per_op,
	       ru.ns_per_op, ratio, floor, rb.clean_reps, rb.reps,
	       ru.clean_reps, ru.reps, met);
	printf("  %-4s %-4s %-10s %9.3f %11.3f %7.1f  %5.1f  %-15s  %s\n",
	       map, gup_kinds[kind].name, "grab", ab->grab_ns, au->grab_ns,
	       gratio, floor, "", gmet);
	printf("BENCH gup map=%s kind=%s part=grab+put folios=%lu pages=%lu ns_per_page_batched=%.3f ns_per_page_unbatched=%.3f ratio=%.2f floor=%.1f met=%s clean_batched=%u/%u clean_unbatched=%u/%u\n",
	       map, gup_kinds[kind].name, nr_folios, ab->nr, rb.ns_per_op,
	       ru.ns_per_op, ratio, floor, met, rb.clean_reps, rb.reps,
	       ru.clean_reps, ru.reps);
	printf("BENCH gup map=%s kind=%s part=grab folios=%lu pages=%lu ns_per_page_batched=%.3f ns_per_page_unbatched=%.3f ratio=%.2f floor=%.1f met=%s\n",
	       map, gup_kinds[kind].name, nr_folios, ab->nr, ab->grab_ns,
	       au->grab_ns, gratio, floor, gmet);
	fflush(stdout);
	return 0;
}

/*
 * The batched GET grab beside the write floor, both timed around the call
 * alone (grab_ns), alternated by bench_run_pair.  The folios' first pfns
 * come from one real grab, so the floor writes exactly what gup_fast()
 * wrote.
 */
static int gup_vs_write(const struct bench_opts *o, const char *map,
			bool judged, struct gup_arg *ab, unsigned long nr_folios)
{
	static struct bench_job grab, write;
	struct bench_result rg = { 0 }, rw = { 0 };
	struct gup_arg aw;
	double ratio;
	const char *met;

	ab->flags = FOLL_GET;
	if (gup_grab(ab) != (long)ab->nr)
		return -1;
	for (unsigned long i = 0; i < nr_folios; i++)
		write_firsts[i] = ab->pfns[i << GUP_ORDER];
	gup_release(ab, ab->nr);
	aw = *ab;
	aw.write_only = true;
	ab->grab_ns = aw.grab_ns = 0;
	grab = (struct bench_job){ .nr_threads = 1, .seconds = o->seconds,
				   .model = true, .loop = loop_gup };
	write = grab;
	grab.args[0] = ab;
	write.args[0] = &aw;
	if (bench_run_pair(&grab, &write, o, &rg, &rw) || ab->shorts)
		return -1;
	ratio = ab->grab_ns / aw.grab_ns;
	met = judged ? bench_met(o, ratio <= 1.2) : "-";
	printf("  %-4s %-4s %-10s %9.3f %11.3f %7.2f  %5s  %-15s  %s\n",
	       map, "GET", "grab/write", ab->grab_ns, aw.grab_ns, ratio,
	       "<=1.2", "", met);
	printf("BENCH gup map=%s kind=GET part=grab_vs_write folios=%lu pages=%lu ns_per_page_grab=%.3f ns_per_page_write=%.3f ratio=%.2f target=1.2 met=%s\n",
	       map, nr_folios, ab->nr, ab->grab_ns, aw.grab_ns, ratio, met);
	fflush(stdout);
	return 0;
}

/* Run GET and PIN with every folio mapped by a PMD leaf, or by PTEs. */
static int gup_mapping(const struct bench_opts *o, bool pmd,
		       struct gup_arg *ab, struct gup_arg *au,
		       unsigned long nr_folios)
{
	const char *map = pmd ? "pmd" : "pte";

	for (unsigned long i = 0; i < nr_folios; i++) {
		pmd_t e = fa_load_acquire(pmd_offset(ab->mm, i << GUP_ORDER));

		if (pmd ? !pmd_leaf(e) : !pmd_table(e)) {
			fprintf(stderr, "gup: folio %lu is not %s-mapped\n",
				i, map);
			return -1;
		}
	}
	for (unsigned int k = 0; k < sizeof(gup_kinds) / sizeof(gup_kinds[0]);
	     k++)
		if (gup_config(o, map, pmd, k, ab, au, nr_folios))
			return -1;
	return gup_vs_write(o, map, pmd, ab, nr_folios);
}

int bench_gup(const struct bench_opts *o)
{
	unsigned long nr_folios = o->quick ? GUP_FOLIOS_QUICK : GUP_FOLIOS;
	unsigned long nr = nr_folios << GUP_ORDER, leaks;
	struct folio_config cfg = { .nr_pages = o->quick ? 1ul << 15 : 1ul << 18,
				    .pmd_order = GUP_ORDER };
	struct folio_check_opts co = { .out = stderr };
	struct gup_arg ab = { 0 }, au = { 0 };
	struct mm_struct *mm = NULL;
	unsigned long *pfns;
	int err = 0;

	printf("\n== gup: gup_fast()+unpin_user_pages() vs gup_fast_unbatched()+unpin_user_pages_unbatched() ==\n");
	printf("   %lu order-%u anon folios (%lu pages), whole range per call, 1 thread; ns per page; best of %u clean x %.2fs\n",
	       nr_folios, GUP_ORDER, nr, o->reps, o->seconds);
	pfns = calloc(nr, sizeof(*pfns));
	if (!pfns || folio_world_init(&cfg)) {
		fprintf(stderr, "gup: folio_world_init failed\n");
		free(pfns);
		return -1;
	}
	mm = mm_create(nr, 0);
	if (!mm) {
		err = -1;
		goto out;
	}
	for (unsigned long i = 0; i < nr_folios && !err; i++) {
		int e = do_anonymous_page(mm, i << GUP_ORDER, GUP_ORDER, true);

		if (e) {
			fprintf(stderr, "gup: do_anonymous_page: %d\n", e);
			err = -1;
		}
	}
	if (err || folio_check_quiescent(&co, NULL)) {
		err = -1;
		goto out;
	}
	ab = (struct gup_arg){ .mm = mm, .nr = nr, .pfns = pfns,
			       .batched = true };
	au = ab;
	au.batched = false;
	printf("  %-4s %-4s %-10s %9s %11s %7s  %5s  %-7s %-7s  met (pmd: ratio>=floor)\n",
	       "map", "kind", "measure", "batched", "unbatched", "ratio",
	       "floor", "clean/b", "clean/u");
	err = gup_mapping(o, true, &ab, &au, nr_folios);
	for (unsigned long i = 0; i < nr_folios && !err; i++)
		split_huge_pmd(mm, i << GUP_ORDER);
	if (!err && folio_check_quiescent(&co, NULL))
		err = -1;
	if (!err)
		err = gup_mapping(o, false, &ab, &au, nr_folios);
out:
	if (mm)
		mm_destroy(mm);
	free(pfns);
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "gup: world leaked %lu\n", leaks);
		err = -1;
	}
	return err;
}
