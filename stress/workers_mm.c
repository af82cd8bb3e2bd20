/* SPDX-License-Identifier: MIT */
/*
 * workers_mm.c - the page-table half of the worker mix: faults, zaps, file
 * maps, CPU touches, GUP-fast held across steps, splits, the deferred
 * scanner, MADV_FREE and lazyfree reclaim, all on shared mms.
 *
 * What a worker holds across steps: GUPs (in w->gups, reported to the
 * checker as GET references or pins per page) and lookups (w->ledger).
 * Everything else is taken and released inside one operation.
 */
#include <errno.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/migrate.h"
#include "folio/rcu.h"
#include "folio/vmscan.h"
#include "data_oracle.h"
#include "targets.h"
#include "torture.h"

struct mm_struct *ft_pick_mm(struct ft_worker *w)
{
	if (ft.private_folios)
		return ft.mms[w->id % ft.o.nr_mms];
	return ft.mms[ft_rand(&w->rng) % ft.o.nr_mms];
}

#define pick_mm ft_pick_mm

static unsigned long pick_anon_va(struct ft_worker *w, unsigned long align)
{
	return (ft_rand(&w->rng) % ft.o.anon_pages) & ~(align - 1);
}

/* do_anonymous_page, announced to the data oracle (a new zeroed page) */
static int fault(struct mm_struct *mm, unsigned long va, unsigned int order,
		 bool write)
{
	unsigned long snap[FT_GUP_PAGES], n = 1ul << order;
	/* (a larger fault leaves its pages' lazyfree marks as they are) */
	unsigned long *s = n <= FT_GUP_PAGES ? snap : NULL;
	int err;

	ft_data_disturb(FT_DD_FAULT, mm->id, va, va + n, false, 0, 0, s);
	err = do_anonymous_page(mm, va, order, write);
	ft_data_disturb(FT_DD_FAULT, mm->id, va, va + n, true, err, 0, s);
	return err;
}

static int op_fault(struct ft_worker *w)
{
	struct mm_struct *mm = pick_mm(w);
	unsigned int order = ft_rand(&w->rng) % (ft.o.pmd_order + 1);
	unsigned long va = pick_anon_va(w, 1ul << order);
	int err = fault(mm, va, order, ft_rand(&w->rng) & 1);

	if (!err) {	/* where the GUPs, touches, splits may aim */
		ft_hot_push(&ft_hot_mapped, mm->id, va, 1ul << order);
		if (order >= 2)	/* anon: order 1 is no split target */
			ft_hot_push(&ft_hot_large, mm->id, va, 1ul << order);
	}
	ft_ring_add(&w->ring, FT_OP_FAULT, err, NULL, va);
	if (err && err != -EEXIST && err != -ENOMEM)
		ft_worker_bug(w, "anon fault failed unexpectedly", NULL, va);
	return err ? 1 : 0;
}

/*
 * An op on an anon range of up to two PMDs (zap, MADV_FREE), inside the
 * data oracle's window for it; a no-op if it covered nothing.  Half the
 * time the range starts inside a large folio's hint: it covers part of the
 * folio, which queues it for deferred split (R8: two zaps of one folio;
 * R6/R7: the scanner meets it) or, for MADV_FREE, splits it while a GUP
 * may take a reference (R13).
 */
static int anon_range_op(struct ft_worker *w, enum ft_dd dd, int kind,
			 long (*fn)(struct mm_struct *, unsigned long,
				    unsigned long), struct ft_hot *hot)
{
	unsigned long n = 1 + ft_rand(&w->rng) % (2ul << ft.o.pmd_order);
	unsigned long va;
	unsigned int id;
	struct mm_struct *mm;
	long r;

	if (!ft_blind(w) && (ft_rand(&w->rng) & 1) &&
	    ft_hot_pick(&ft_hot_large, &w->rng, &id, &va) &&
	    va < ft.o.anon_pages) {
		mm = ft.mms[id];
	} else {
		va = pick_anon_va(w, 1);
		mm = pick_mm(w);
	}
	if (n > ft.o.anon_pages - va)
		n = ft.o.anon_pages - va;

	ft_data_disturb(dd, mm->id, va, va + n, false, 0, 0, NULL);
	r = fn(mm, va, n);
	ft_data_disturb(dd, mm->id, va, va + n, true, r, 0, NULL);
	if (r > 0 && hot)
		ft_hot_push(hot, mm->id, va, n);
	ft_ring_add(&w->ring, kind, r ? 0 : 1, NULL, va);
	return r ? 0 : 1;
}

static int op_zap(struct ft_worker *w)
{
	return anon_range_op(w, FT_DD_ZAP, FT_OP_ZAP, zap_page_range, NULL);
}

static int op_file_map(struct ft_worker *w)
{
	struct address_space *m = ft_pick_file(w);
	unsigned long idx = ft_rand(&w->rng) % ft.o.file_pages;
	unsigned long n = 1 + ft_rand(&w->rng) % 32;
	struct mm_struct *mm = pick_mm(w);
	long r;

	if (n > ft.o.file_pages - idx)
		n = ft.o.file_pages - idx;
	r = filemap_map_pages(mm, m, idx, n, ft_rand(&w->rng) & 1);
	if (r > 0)
		ft_hot_push(&ft_hot_mapped, mm->id,
			    (unsigned long)mm_file_window(mm, m) + idx, n);
	ft_ring_add(&w->ring, FT_OP_FILE_MAP, r > 0 ? 0 : 1, NULL, idx);
	if (r < 0)
		ft_worker_bug(w, "filemap_map_pages refused a valid range", NULL, idx);
	return r > 0 ? 0 : 1;
}

/* An address in the anon region or in one of the file windows. */
static unsigned long pick_any_va(struct ft_worker *w, struct mm_struct *mm)
{
	if (ft_rand(&w->rng) & 1)
		return pick_anon_va(w, 1);
	return (unsigned long)mm_file_window(mm, ft_pick_file(w)) +
	       ft_rand(&w->rng) % ft.o.file_pages;
}

/*
 * A place recently mapped (targets.h), a large folio's one time in four
 * (what splits aim at: a GUP there races with the split, R2), or, blind,
 * any: its mm, its va.
 */
static struct mm_struct *pick_place(struct ft_worker *w, unsigned long *va)
{
	struct ft_hot *h = ft_rand(&w->rng) % 4 ? &ft_hot_mapped : &ft_hot_large;
	unsigned int id;
	struct mm_struct *mm;

	if (!ft_blind(w) && ft_hot_pick(h, &w->rng, &id, va))
		return ft.mms[id];
	mm = pick_mm(w);
	*va = pick_any_va(w, mm);
	return mm;
}

/* A CPU load or store with its data, checked (data_oracle.h). */
static int op_touch(struct ft_worker *w)
{
	unsigned long va;
	struct mm_struct *mm = pick_place(w, &va);
	int r = ft_data_touch(w, mm->id, va, ft_rand(&w->rng) & 1);

	ft_ring_add(&w->ring, FT_OP_TOUCH, r == 1 ? 0 : r ? r : 1, NULL, va);
	return r == 1 ? 0 : 1;
}

/* A device reads or writes a page of a GUP this worker holds. */
static int op_dma(struct ft_worker *w)
{
	int r = ft_data_dma(w);

	ft_ring_add(&w->ring, FT_OP_DMA, r, NULL,
		    w->nr_gups ? w->gups[0].pfns[0] : 0);
	return r;
}

/*
 * I9, checked on the spot: an anon page we hold pinned is exclusive, and
 * stays so while we hold it (fork copies a pinned exclusive page instead
 * of sharing it; a GUP-fast pin that raced with a fork gave itself back).
 */
static void check_pins_exclusive(struct ft_worker *w, const struct ft_gup *g)
{
	if (!(g->flags & FOLL_PIN))
		return;
	for (unsigned int i = 0; i < g->n; i++) {
		struct folio *f = pfn_folio(g->pfns[i]);	/* pinned: stable */

		if (folio_test_anon(f) && !folio_test_anon_exclusive(f))
			ft_worker_bug(w, "a pinned anon page is not exclusive",
				      f, g->pfns[i]);
	}
}

static int op_gup(struct ft_worker *w, bool slow)
{
	unsigned long va;
	struct mm_struct *mm = pick_place(w, &va);
	unsigned long n = 1 + ft_rand(&w->rng) % FT_GUP_PAGES;
	uint64_t r = ft_rand(&w->rng);
	enum ft_op op = slow ? FT_OP_GUP_SLOW : FT_OP_GUP;
	bool pin = (r >> 8) % 100 < ft.pin_pct;	/* the scenario's share */
	unsigned int flags = (pin ? FOLL_PIN : FOLL_GET) |
			     (r & 2 ? FOLL_WRITE : 0) |
			     (pin && (r & 8) ? FOLL_LONGTERM : 0);
	struct ft_gup *g;
	long got;

	if (w->nr_gups == FT_GUP_MAX) {
		ft_ring_add(&w->ring, op, 1, NULL, va);
		return 1;
	}
	g = &w->gups[w->nr_gups];
	ft_data_gup_begin(w, mm->id, va, n);
	if (slow)
		got = get_user_pages(mm, va, n, flags, g->pfns);
	else
		got = (r & 4) ? gup_fast(mm, va, n, flags, g->pfns) :
				gup_fast_unbatched(mm, va, n, flags, g->pfns);
	ft_ring_add(&w->ring, op, got > 0 ? 0 : 1, NULL, va);
	if (slow && got < 0 && got != -EFAULT && got != -ENOMEM &&
	    got != -EAGAIN)
		ft_worker_bug(w, "get_user_pages failed unexpectedly", NULL, va);
	if ((!slow && got < 0) || got > (long)n)
		ft_worker_bug(w, "gup returned a bad count", NULL, va);
	if (got <= 0)
		return 1;
	for (long i = 0; i < got; i++) {
		struct folio *f = pfn_folio(g->pfns[i]);

		if (!f || folio_ref_count(f) <= 0)
			ft_worker_bug(w, "gup returned a page without a live folio",
				      f, g->pfns[i]);
	}
	g->n = (unsigned int)got;
	g->flags = flags;
	ft_data_gup_made(w, g, mm->id, va);
	check_pins_exclusive(w, g);
	w->nr_gups++;
	return 0;
}

static void gup_release(struct ft_worker *w, unsigned int i, bool dirty)
{
	struct ft_gup *g = &w->gups[i];

	check_pins_exclusive(w, g);	/* still, after whatever ran meanwhile */
	ft_data_gup_release(w, g, dirty);
	if (dirty)
		unpin_user_pages_dirty_lock(g->pfns, g->n, g->flags);
	else
		unpin_user_pages(g->pfns, g->n, g->flags);
	w->gups[i] = w->gups[--w->nr_gups];
}

static int op_unpin(struct ft_worker *w)
{
	unsigned int i;

	if (!w->nr_gups) {
		ft_ring_add(&w->ring, FT_OP_UNPIN, 1, NULL, 0);
		return 1;
	}
	i = ft_rand(&w->rng) % w->nr_gups;
	ft_ring_add(&w->ring, FT_OP_UNPIN, 0, NULL, w->gups[i].pfns[0]);
	gup_release(w, i, (w->gups[i].flags & FOLL_WRITE) && (ft_rand(&w->rng) & 1));
	return 0;
}

static bool fit_large(const struct folio *f)
{
	return folio_order(f) > 0;
}

static bool fit_lazyfree(const struct folio *f)
{
	return folio_test_lazyfree(f);
}

static int op_split(struct ft_worker *w)
{
	unsigned long pfn;
	struct folio *f = ft_grab_target_if(w, &ft_hot_large, true, fit_large, &pfn);
	unsigned int order, to;
	int err = -ENOENT;

	if (f) {
		order = folio_order(f);
		if (order && folio_trylock(f)) {
			to = ft_rand(&w->rng) % order;
			if (folio_test_anon(f) && to == 1)
				to = 0;
			err = split_folio_to_order(f, to);
			folio_unlock(f);
			if (err && err != -EAGAIN && err != -EBUSY && err != -ENOMEM)
				ft_worker_bug(w, "split failed unexpectedly", f, pfn);
		}
		folio_put(f);
	}
	ft_ring_add(&w->ring, FT_OP_SPLIT, err, f, pfn);
	/* -EAGAIN, -EBUSY: a pin or reference came first (R1, R13) */
	return !err ? 0 : err == -EAGAIN || err == -EBUSY ? FT_RACED : FT_MISS;
}

static int op_split_pmd(struct ft_worker *w)
{
	struct mm_struct *mm = pick_mm(w);
	unsigned long va = pick_any_va(w, mm);

	split_huge_pmd(mm, va);
	ft_ring_add(&w->ring, FT_OP_SPLIT_PMD, 0, NULL, va);
	return 0;
}

static int op_deferred_scan(struct ft_worker *w)
{
	/* the shrinker runs when its count says there is work (a locked
	 * read: the length is a plain word under the queue lock); blind, it
	 * runs anyway */
	unsigned long queued = deferred_split_count(), n = 0;

	if (queued || ft_blind(w))
		n = deferred_split_scan(4);
	ft_ring_add(&w->ring, FT_OP_DEFERRED_SCAN, n ? 0 : 1, NULL, n);
	/* a queue with folios, none split: each busy, or on its way out
	 * (R6, R7) */
	return n ? 0 : queued ? FT_RACED : FT_MISS;
}

static int op_madv_free(struct ft_worker *w)
{
	/* what it marked is where reclaim aims */
	return anon_range_op(w, FT_DD_MADV, FT_OP_MADV_FREE, madvise_free,
			     &ft_hot_lazyfree);
}

static int op_reclaim(struct ft_worker *w)
{
	unsigned long pfn;
	struct folio *f = ft_grab_target_if(w, &ft_hot_lazyfree, false,
					    fit_lazyfree, &pfn);
	int err = -ENOENT;

	if (f && folio_test_lazyfree(f) && folio_trylock(f)) {
		err = reclaim_lazyfree_folio(f, ft_rand(&w->rng) & 1);
		if (!err) {	/* freed: our reference and lock went with it */
			ft_ring_add(&w->ring, FT_OP_RECLAIM, 0, f, pfn);
			return 0;
		}
		if (err != -EBUSY && err != -EAGAIN && err != -EINVAL)
			ft_worker_bug(w, "reclaim failed unexpectedly", f, pfn);
		folio_unlock(f);
	}
	if (f)
		folio_put(f);
	ft_ring_add(&w->ring, FT_OP_RECLAIM, err, f, pfn);
	/* -EBUSY: dirtied since MADV_FREE (R9); -EAGAIN: a reference (R3) */
	return err == -EBUSY || err == -EAGAIN ? FT_RACED : FT_MISS;
}

/*
 * fork: another mm becomes this one's child (never in private mode); the
 * child is never the parent (one mm: nothing to do), so every fork of a
 * populated region copies it
 */
static int op_fork(struct ft_worker *w)
{
	struct mm_struct *src = pick_mm(w), *dst = src;
	long n;

	if (ft.o.nr_mms > 1)
		dst = ft.mms[(src->id + 1 + ft_rand(&w->rng) % (ft.o.nr_mms - 1)) %
			     ft.o.nr_mms];
	if (ft.private_folios || src == dst) {
		ft_ring_add(&w->ring, FT_OP_FORK, 1, NULL, 0);
		return 1;
	}
	/* the parent, about to be write-protected: GUPs aim there (R14) */
	ft_hot_push(&ft_hot_mapped, src->id, 0, ft.o.anon_pages);
	ft_data_disturb(FT_DD_FORK, dst->id, 0, ft.o.anon_pages, false, 0, src->id, NULL);
	n = mm_fork(dst, src);
	ft_data_disturb(FT_DD_FORK, dst->id, 0, ft.o.anon_pages, true, n, src->id, NULL);
	ft_ring_add(&w->ring, FT_OP_FORK, n > 0 ? 0 : 1, NULL, src->id);
	if (n < 0 && n != -ENOMEM)
		ft_worker_bug(w, "fork failed unexpectedly", NULL, src->id);
	return n > 0 ? 0 : 1;
}

static int op_wp_fault(struct ft_worker *w)
{
	unsigned long va = pick_anon_va(w, 1);
	int r = do_wp_page(pick_mm(w), va, ft_rand(&w->rng) & 1);

	ft_ring_add(&w->ring, FT_OP_WP_FAULT, r > 0 ? 0 : 1, NULL, va);
	if (r < 0 && r != -EFAULT && r != -EAGAIN && r != -ENOMEM)
		ft_worker_bug(w, "wp fault failed unexpectedly", NULL, va);
	return r > 0 ? 0 : r == -EAGAIN ? FT_RACED : FT_MISS;
}

static int op_migrate(struct ft_worker *w)
{
	unsigned long pfn;
	struct folio *f = ft_grab_target_if(w, &ft_hot_mapped, true, NULL, &pfn);
	int err = -ENOENT;

	if (f && folio_trylock(f)) {
		err = migrate_folio(f);
		if (!err) {	/* moved: our reference and lock went with it */
			ft_ring_add(&w->ring, FT_OP_MIGRATE, 0, f, pfn);
			return 0;
		}
		if (err != -EAGAIN && err != -EBUSY && err != -ENOMEM)
			ft_worker_bug(w, "migration failed unexpectedly", f, pfn);
		folio_unlock(f);
	}
	if (f)
		folio_put(f);
	ft_ring_add(&w->ring, FT_OP_MIGRATE, err, f, pfn);
	/* -EAGAIN, -EBUSY: the freeze lost to a reference (R1) */
	return err == -EAGAIN || err == -EBUSY ? FT_RACED : FT_MISS;
}

/*
 * khugepaged: fill the holes of a PMD range with order-0 pages (so that
 * collapse has something to do; other workers race with the faults),
 * then collapse it.
 */
static int op_collapse(struct ft_worker *w)
{
	struct mm_struct *mm = pick_mm(w);
	unsigned long nr = 1ul << ft.o.pmd_order;
	unsigned long va = pick_anon_va(w, nr);
	int err;

	for (unsigned long i = 0; i < nr; i++) {
		err = fault(mm, va + i, 0, ft_rand(&w->rng) & 1);
		if (err && err != -EEXIST && err != -ENOMEM)
			ft_worker_bug(w, "anon fault failed unexpectedly", NULL, va + i);
	}
	/* the range about to be collapsed: GUPs aim at it (R4) */
	ft_hot_push(&ft_hot_mapped, mm->id, va, nr);
	err = collapse_huge_page(mm, va);
	if (!err)
		ft_hot_push(&ft_hot_large, mm->id, va, nr);
	ft_ring_add(&w->ring, FT_OP_COLLAPSE, err, NULL, va);
	if (err && err != -EAGAIN && err != -ENOMEM)
		ft_worker_bug(w, "collapse failed unexpectedly", NULL, va);
	/* -EAGAIN: a GUP's reference or a fault came first (R4) */
	return !err ? 0 : err == -EAGAIN ? FT_RACED : FT_MISS;
}

/*
 * An anon place to merge: a recent fault's (or, blind, any), skipping up
 * to three that hold nothing, or (@plain) a page already protected, as
 * ksmd's scan skips what it cannot merge; a large folio there is split
 * to order 0 first, as try_to_merge_one_page does.  The folio is looked
 * at with a speculative reference: what it is by the merge is a hint.
 */
static void pick_merge_place(struct ft_worker *w, struct mm_struct **mm,
			     unsigned long *va, bool plain)
{
	bool blind = ft_blind(w);

	for (int tries = 0; tries < FT_GRAB_TRIES; tries++) {
		struct folio *f = NULL;
		unsigned int id;
		unsigned long pfn;
		bool fit;

		if (!blind && ft_hot_pick(&ft_hot_mapped, &w->rng, &id, va) &&
		    *va < ft.o.anon_pages) {
			*mm = ft.mms[id];
		} else {
			*mm = pick_mm(w);
			*va = pick_anon_va(w, 1);
		}
		if (blind)
			return;
		rcu_read_lock_model();
		pfn = mm_walk_pfn(*mm, *va);
		if (pfn != ~0ul)
			f = folio_try_get_pfn(pfn, 1);
		rcu_read_unlock_model();
		if (!f)
			continue;
		fit = !(plain && folio_test_ksm(f));
		if (folio_test_large(f) && folio_test_anon(f) && folio_trylock(f)) {
			(void)split_folio_to_order(f, 0);	/* -EAGAIN, -EBUSY: as is */
			folio_unlock(f);
		}
		folio_put(f);
		if (fit)
			return;
	}
}

/*
 * ksmd: merge the page at one anon place into the page at another (of
 * the same mm or another).  Faulted pages are zero-filled, and a fork
 * copies its parent's, so a good share of two pages of a small region
 * hold the same data, as the zero pages ksmd merges most.  The merged
 * page is where GUPs and writers then aim (break on write, unshare).
 * A private scenario merges nothing: its folios are one worker's alone.
 */
static int op_wp_merge(struct ft_worker *w)
{
	struct mm_struct *ma, *mb;
	unsigned long va, vb;
	int r;

	if (ft.private_folios) {
		ft_ring_add(&w->ring, FT_OP_WP_MERGE, 1, NULL, 0);
		return FT_MISS;
	}
	pick_merge_place(w, &ma, &va, false);
	pick_merge_place(w, &mb, &vb, true);
	r = ksm_merge_pages(ma, va, mb, vb);
	ft_ring_add(&w->ring, FT_OP_WP_MERGE, r > 0 ? 0 : r, NULL, vb);
	if (r > 0) {
		ft_hot_push(&ft_hot_mapped, ma->id, va, 1);
		return 0;
	}
	if (r != -EFAULT && r != -EINVAL && r != -ENOMSG && r != -ENOSPC &&
	    r != -EBUSY && r != -EAGAIN && r != -ENOMEM)
		ft_worker_bug(w, "write-protect merge failed unexpectedly", NULL, vb);
	/* -EBUSY: a reference at the count check (R15, or one held); -EAGAIN:
	 * a folio lock another path held */
	return r == -EBUSY || r == -EAGAIN ? FT_RACED : FT_MISS;
}

/* Lock contention: lock a cached folio, hold it a little, unlock. */
static int op_lock(struct ft_worker *w)
{
	struct address_space *m = ft_pick_file(w);
	unsigned long index = ft_rand(&w->rng) % 64;	/* a hot set */
	struct folio *f = filemap_get_folio(m, index);

	ft_ring_add(&w->ring, FT_OP_LOCK, f ? 0 : 1, f, index);
	if (!f)
		return 1;
	folio_lock(f);
	for (int i = 0; i < 64; i++)	/* a short critical section */
		__asm__ volatile("" ::: "memory");
	if (folio_mapping(f) == m && folio_index(f) > index)
		ft_worker_bug(w, "locked folio does not cover its index", f, index);
	folio_unlock(f);
	folio_put(f);
	return 0;
}

int ft_mm_op(struct ft_worker *w, enum ft_op op)
{
	switch (op) {
	case FT_OP_FAULT: return op_fault(w);
	case FT_OP_ZAP: return op_zap(w);
	case FT_OP_FILE_MAP: return op_file_map(w);
	case FT_OP_TOUCH: return op_touch(w);
	case FT_OP_GUP: return op_gup(w, false);
	case FT_OP_UNPIN: return op_unpin(w);
	case FT_OP_SPLIT: return op_split(w);
	case FT_OP_SPLIT_PMD: return op_split_pmd(w);
	case FT_OP_DEFERRED_SCAN: return op_deferred_scan(w);
	case FT_OP_MADV_FREE: return op_madv_free(w);
	case FT_OP_RECLAIM: return op_reclaim(w);
	case FT_OP_LOCK: return op_lock(w);
	case FT_OP_FORK: return op_fork(w);
	case FT_OP_WP_FAULT: return op_wp_fault(w);
	case FT_OP_GUP_SLOW: return op_gup(w, true);
	case FT_OP_MIGRATE: return op_migrate(w);
	case FT_OP_COLLAPSE: return op_collapse(w);
	case FT_OP_DMA: return op_dma(w);
	case FT_OP_WP_MERGE: return op_wp_merge(w);
	default: return 1;
	}
}

size_t ft_gup_held(const struct ft_worker *w, struct folio_held *out)
{
	size_t n = 0;

	for (unsigned int i = 0; i < w->nr_gups; i++) {
		const struct ft_gup *g = &w->gups[i];
		bool pin = g->flags & FOLL_PIN;

		/* pfn_folio is stable: a held GET or PIN blocks any split */
		for (unsigned int j = 0; j < g->n; j++)
			out[n++] = (struct folio_held){ pfn_folio(g->pfns[j]),
							pin ? 0 : 1, pin ? 1 : 0 };
	}
	return n;
}

void ft_gup_release_all(struct ft_worker *w)
{
	while (w->nr_gups)
		gup_release(w, w->nr_gups - 1, false);
}
