/* SPDX-License-Identifier: MIT */
/*
 * vmscan.c - MADV_FREE and reclaim of lazyfree anon folios (O14).
 *
 * Discard decision, in order, per mapping batch (ttu_anon_lazyfree_folio):
 *   1. clear the entries (get_and_clear: the hardware may be setting D);
 *   2. full barrier: pairs with GUP-fast's fully ordered try_add and its
 *      reload of the entry (R3);
 *   3. read refcount and mapcount (the cleared entries still counted);
 *   4. then dirty (acquire on the count read: smp_rmb, R9);
 *   5. dirty -> set swapbacked, restore the entries, keep the folio;
 *      refcount != 1 + mapcount -> restore, leave it lazyfree (a GUP or
 *      speculative reference; since the 2025 change swapbacked is set
 *      only when dirty, so the deferred-split scanner's speculative get
 *      does not turn a clean lazyfree folio back into swapbacked);
 *      else remove the rmap of the whole batch and drop its references.
 * Then freeze to 1 (the isolation reference) and free.
 */
#include <errno.h>

#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/page_alloc.h"
#include "folio/vmscan.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

/* Steps 3-5's test.  Returns 0 (discard), -EBUSY (dirty), -EAGAIN. */
static int lazyfree_verdict(struct folio *f, bool entries_dirty)
{
	int ref = fa_load_acquire(&f->_refcount);	/* 3, then 4 */
	int map = folio_mapcount(f);

	if (entries_dirty || folio_test_dirty(f)) {
		if (!entries_dirty)
			folio_window(FW_R9);	/* dirtied through a reference */
		folio_set_swapbacked(f);
		return -EBUSY;
	}
	/*
	 * lazyfree_ignore_refs is the kernel before "mm: fix race between
	 * MADV_FREE reclaim and blkdev direct IO read" (6c8e2a256915, 2022):
	 * a clean lazyfree page is discarded whoever else holds it, so a
	 * read by direct I/O into it lands on a page the process no longer
	 * maps, and the process reads zeros.
	 */
	if (ref != 1 + map && !FOLIO_MUTANT_IS(lazyfree_ignore_refs)) {
		folio_window(FW_R3);	/* GUP or a speculative reference */
		if (FOLIO_MUTANT_IS(lazyfree_swapbacked_any))
			folio_set_swapbacked(f);	/* clean, yet no longer lazyfree */
		return -EAGAIN;
	}
	return 0;
}

/* __discard_anon_folio_pmd_locked: no split of the PMD. */
static int discard_pmd(struct mm_struct *mm, unsigned long va, struct folio *f,
		       bool *judged)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	struct ptdesc *deposit;
	pmd_t old;
	int err;

	fl_lock(&mm->pmd_lock);
	old = fa_load_relaxed(pmdp);
	if (!pmd_leaf(old) || pte_pfn(old) != folio_pfn(f)) {
		fl_unlock(&mm->pmd_lock);
		return -EAGAIN;
	}
	old = fa_xchg_relaxed(pmdp, 0);				/* 1 */
	if (!FOLIO_MUTANT_IS(lazyfree_no_mb))
		fa_fence_full();				/* 2 */
	folio_race_point(RP_RECLAIM_CLEARED, f);
	err = lazyfree_verdict(f, old & _PAGE_DIRTY);		/* 3-5 */
	if (err) {
		fa_store_release(pmdp, old);
		fl_unlock(&mm->pmd_lock);
		return err;
	}
	*judged = true;
	folio_remove_rmap_pmd(f);
	deposit = pgtable_trans_huge_withdraw(mm);
	fl_unlock(&mm->pmd_lock);
	pte_free_rcu(deposit);
	folio_put(f);	/* the PMD's reference; the isolation ref remains */
	return 0;
}

/*
 * Batched: one clear of all the folio's PTEs, one barrier, one verdict.
 * Returns 0 or -errno; *to_put = references the caller drops after unlock.
 */
static int unmap_ptes_batched(_Atomic pte_t *ptes, unsigned long nr,
			      unsigned long pfn, struct folio *f, int *to_put,
			      bool *judged)
{
	pte_t old[1ul << MAX_PAGE_ORDER];
	bool dirty = false;
	int n = 0, err;

	for (unsigned long i = 0; i < nr; i++) {
		pte_t pte = fa_load_relaxed(&ptes[i]);

		old[i] = 0;
		if (!pte_present(pte) || pte_pfn(pte) != pfn + i)
			continue;
		old[i] = fa_xchg_relaxed(&ptes[i], 0);		/* 1 */
		dirty |= !!(old[i] & _PAGE_DIRTY);
		n++;
	}
	if (!FOLIO_MUTANT_IS(lazyfree_no_mb))
		fa_fence_full();				/* 2 */
	folio_race_point(RP_RECLAIM_CLEARED, f);
	err = lazyfree_verdict(f, dirty);			/* 3-5 */
	if (err) {
		for (unsigned long i = 0; i < nr; i++)
			if (old[i])
				fa_store_release(&ptes[i], old[i]);
		return err;
	}
	if (n)
		folio_unmap_maybe_queue(f, folio_remove_rmap_ptes(f, n), n + 1);
	*to_put = n;
	*judged = true;
	return 0;
}

/*
 * Per PTE (the pre-2025 path): the whole decision once per entry, each
 * reference dropped as it goes (the isolation reference keeps the folio).
 * A failure restores only the entry at hand; what is unmapped stays so.
 */
static int unmap_ptes_one_by_one(_Atomic pte_t *ptes, unsigned long nr,
				 unsigned long pfn, struct folio *f, int *to_put,
				 bool *judged)
{
	*to_put = 0;
	for (unsigned long i = 0; i < nr; i++) {
		pte_t pte = fa_load_relaxed(&ptes[i]);
		int err;

		if (!pte_present(pte) || pte_pfn(pte) != pfn + i)
			continue;
		pte = fa_xchg_relaxed(&ptes[i], 0);
		if (!FOLIO_MUTANT_IS(lazyfree_no_mb))
			fa_fence_full();
		folio_race_point(RP_RECLAIM_CLEARED, f);
		err = lazyfree_verdict(f, pte & _PAGE_DIRTY);
		if (err) {
			fa_store_release(&ptes[i], pte);
			return err;
		}
		/* a stop part-way leaves it partially mapped: queue it (R8:
		 * our isolation reference keeps rc > 0) */
		folio_unmap_maybe_queue(f, folio_remove_rmap_ptes(f, 1), 2);
		folio_put(f);
		*judged = true;
	}
	return 0;
}

static int unmap_lazyfree_ptes(struct mm_struct *mm, unsigned long va,
			       struct folio *f, bool batched, bool *judged)
{
	unsigned long nr = folio_nr_pages(f), pfn = folio_pfn(f);
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	int to_put = 0, err;
	pmd_t pmd;

	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)	/* no table here: none of our PTEs either (a zap) */
		return folio_mapcount(f) ? -EAGAIN : 0;
	ptes = pte_offset(pmd, va);
	err = batched ? unmap_ptes_batched(ptes, nr, pfn, f, &to_put, judged) :
			unmap_ptes_one_by_one(ptes, nr, pfn, f, &to_put, judged);
	fl_unlock(ptl);
	if (to_put)
		folio_put_refs(f, to_put);	/* after the table is unlocked */
	if (err)
		return err;
	return folio_mapcount(f) ? -EAGAIN : 0;
}

int reclaim_lazyfree_folio(struct folio *f, bool batched)
{
	struct mm_struct *mm;
	unsigned long va;
	bool judged = false;	/* a discard verdict passed in this call */
	int err = 0;

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	if (!folio_test_lazyfree(f))
		return -EINVAL;
	mm = folio_anon_mm(f);
	va = folio_index(f);
	if (folio_mapcount(f) && mm) {
		pmd_t pmd = fa_load_acquire(pmd_offset(mm, va));

		if (pmd_leaf(pmd) && pte_pfn(pmd) == folio_pfn(f)) {
			if (batched) {
				err = discard_pmd(mm, va, f, &judged);
			} else {
				/* the baseline: split the PMD, then per PTE;
				 * only if the leaf is still ours by the lock */
				folio_race_point(RP_PMD_LOOKED, f);
				split_huge_pmd_folio(mm, va, f);
				err = unmap_lazyfree_ptes(mm, va, f, false,
							  &judged);
			}
		} else {
			err = unmap_lazyfree_ptes(mm, va, f, batched, &judged);
		}
		if (err)
			return err;
	}
	if (folio_mapcount(f))
		return -EAGAIN;
	folio_race_point(RP_RECLAIM_UNMAPPED, f);
	/* shrink_folio_list: only the isolation reference may remain */
	if (!folio_ref_freeze(f, 1)) {
		folio_window(FW_R1);
		return -EAGAIN;
	}
	/*
	 * docs/design.md 6: a lazyfree folio is discarded only if it was clean and
	 * held no extra reference.  "Clean" is asserted only when a verdict
	 * passed in this call: a writer that dirties the folio afterwards needs
	 * the folio lock (ours) while holding a reference (the freeze would
	 * fail).  Without a verdict there is nothing to assert: the folio was
	 * unmapped before we looked (mapcount 0 on entry, or a zap, which needs
	 * no folio lock, removed its last PTEs between our mapcount check and
	 * the PTL), and it may have been dirtied through a GUP reference after
	 * its last unmap; with only our isolation reference left nobody can
	 * read that data, and the kernel frees it without looking at dirty
	 * either (shrink_folio_list).  Both cases were found by foliotorture
	 * --scenario lazyfree-vs-gup.
	 */
	VM_BUG_ON_FOLIO(judged && (folio_test_dirty(f) || folio_test_swapbacked(f)), f);
	VM_BUG_ON_FOLIO(folio_mapcount(f) || folio_pincount(f), f);
	/* frozen and ours: no one can be waiting without a reference */
	folio_clear_flag(f, PG_locked);
	__folio_put(f);
	return 0;
}

/*
 * A large folio the range covers only in part, or that is not mapped here
 * page by page from its first: the kernel splits it and marks the covered
 * pieces (madvise_free_pte_range / madvise_free_huge_pmd).  The caller
 * found @f under a page-table lock (so its PTE or PMD holds a reference and
 * folio_get is safe) and has dropped that lock: split_folio takes page-table
 * locks itself.  Between the unlock and the split anything may happen to
 * the mapping (a zap, a GUP pin, another split, a reclaim): the split
 * rechecks all of it under our lock and reference, and fails with -EAGAIN
 * on a pin or another extra reference, in which case the folio is left
 * alone, as the kernel does.  Returns split_folio's result.
 */
static int madv_free_split(struct folio *f, bool held_alone)
{
	int err;

	folio_race_point(RP_MADV_SPLIT, f);
	err = split_folio(f);
	if (err == -EAGAIN && held_alone)
		folio_window(FW_R13);
	folio_unlock(f);
	folio_put(f);
	return err;
}

/*
 * For the R13 counter only: did the mappings and our reference hold @f
 * alone when we took it?  Then a split failing with -EAGAIN met a pin or
 * reference taken inside the window.  Relaxed loads, not protocol steps
 * (counted in every build: on real threads too, folio/window.h).
 */
static bool madv_held_alone(const struct folio *f)
{
	int rc = fa_peek_relaxed(&f->_refcount);
	int map = fa_peek_relaxed(&f->_mapcount);

	return rc == map + 1;
}

/*
 * MADV_FREE one folio at @ptes (PTL held), at most @max entries: only an
 * anon folio whose every page is mapped here, in order, from its first
 * (the kernel's madvise_folio_pte_batch).  Returns the entries marked, 0
 * if none.  Only the batch's entries are touched: a hole in a partly
 * zapped folio may since map another folio, whose dirty bit is not ours to
 * clear.  A shorter batch of a large anon folio returns 0 with *split set
 * to the folio, locked and with a reference: the caller drops the PTL and
 * splits it (madv_free_split), then looks at the entry again.
 */
static unsigned long madv_free_batch(_Atomic pte_t *ptes, unsigned long max,
				     struct folio **split)
{
	pte_t pte = fa_load_relaxed(&ptes[0]);
	unsigned long pfn, fnr, i = 1;
	struct folio *f;

	*split = NULL;
	if (!pte_present(pte))
		return 0;
	pfn = pte_pfn(pte);
	f = pfn_folio(pfn);	/* stable: the PTE holds a reference */
	if (!folio_test_anon(f))
		return 0;
	fnr = folio_nr_pages(f);
	if (pfn == folio_pfn(f) && fnr <= max)
		while (i < fnr &&
		       pte_present(pte = fa_load_relaxed(&ptes[i])) &&
		       pte_pfn(pte) == pfn + i)
			i++;
	if (pfn != folio_pfn(f) || fnr > max || i < fnr) {
		/* partly covered (or partly mapped): split it first, unless
		 * maybe mapped shared (folio_maybe_mapped_shared; the model
		 * asks the exclusive flag: fork shares, a reuse takes back) */
		if (!folio_test_anon_exclusive(f) || !folio_trylock(f))
			return 0;
		folio_get(f);	/* the PTE's reference keeps rc > 0 */
		*split = f;
		return 0;
	}
	if (!folio_trylock(f))
		return 0;
	/* a dirty folio mapped elsewhere too is not ours to clean; a
	 * write-protected one (exact under the lock) is never lazyfree:
	 * lazyfree reclaim finds its mapping through folio_anon_mm */
	if ((folio_test_dirty(f) && folio_mapcount(f) != (int)fnr) ||
	    folio_test_ksm(f)) {
		folio_unlock(f);
		return 0;
	}
	for (i = 0; i < fnr; i++)
		fa_and_relaxed(&ptes[i], ~(pte_t)(_PAGE_DIRTY | _PAGE_YOUNG));
	folio_clear_dirty(f);
	folio_clear_swapbacked(f);
	folio_unlock(f);
	return fnr;
}

/* MADV_FREE [va, pend) of one PMD's PTE table.  Returns folios marked. */
static long madv_free_ptes(struct mm_struct *mm, unsigned long va,
			   unsigned long pend)
{
	unsigned long retried = ~0ul;	/* the address last split, once only */
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	long marked = 0;
	pmd_t pmd;
	int err;

	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)
		return 0;
	ptes = pte_offset(pmd, va);
	for (unsigned long a = va; a < pend;) {
		struct folio *split;
		unsigned long n = madv_free_batch(&ptes[a - va], pend - a, &split);

		if (split) {
			bool alone = madv_held_alone(split);
			int split_err;

			fl_unlock(ptl);
			split_err = madv_free_split(split, alone);
			ptl = pte_table_lock(mm, va, false, &pmd, &err);
			if (!ptl)	/* the table went (a zap of the PMD) */
				return marked;
			ptes = pte_offset(pmd, va);
			/* split: look at the same entry again, now small;
			 * failed (or split here already): skip the page */
			if (split_err == 0 && retried != a) {
				retried = a;
				continue;
			}
			a++;
			continue;
		}
		marked += n > 0;
		a += n ? n : 1;
	}
	fl_unlock(ptl);
	return marked;
}

/*
 * A PMD leaf covered in part: lock it and take a reference under the PMD
 * lock (the leaf's reference keeps rc > 0 there), split it outside the
 * lock.  Returns true if the leaf was ours to split (whatever the result).
 */
static bool madv_free_split_pmd(struct mm_struct *mm, _Atomic pmd_t *pmdp)
{
	struct folio *f = NULL;
	pmd_t pmd;

	bool alone = false;

	fl_lock(&mm->pmd_lock);
	pmd = fa_load_relaxed(pmdp);
	if (pmd_leaf(pmd)) {
		f = pfn_folio(pte_pfn(pmd));
		if (folio_test_anon_exclusive(f) && folio_trylock(f)) {
			folio_get(f);
			alone = madv_held_alone(f);
		} else {
			f = NULL;
		}
	}
	fl_unlock(&mm->pmd_lock);
	if (!f)
		return false;
	madv_free_split(f, alone);
	return true;
}

long madvise_free(struct mm_struct *mm, unsigned long va, unsigned long nr)
{
	unsigned long end = va + nr;
	long marked = 0;

	if (end > mm->anon_pages)
		end = mm->anon_pages;
	while (va < end) {
		unsigned long pend = (va | (pmd_nr() - 1)) + 1;
		_Atomic pmd_t *pmdp = pmd_offset(mm, va);
		pmd_t pmd = fa_load_acquire(pmdp);

		if (pend > end)
			pend = end;
		if (pmd_leaf(pmd)) {
			/* whole PMD in range: mark it without splitting */
			if (!(va & (pmd_nr() - 1)) && pend - va == pmd_nr()) {
				fl_lock(&mm->pmd_lock);
				pmd = fa_load_relaxed(pmdp);
				if (pmd_leaf(pmd)) {
					struct folio *f = pfn_folio(pte_pfn(pmd));

					/* not maybe mapped shared */
					if (folio_test_anon_exclusive(f) &&
					    folio_trylock(f)) {
						fa_and_relaxed(pmdp, ~(pmd_t)(_PAGE_DIRTY | _PAGE_YOUNG));
						folio_clear_dirty(f);
						folio_clear_swapbacked(f);
						folio_unlock(f);
						marked++;
					}
				}
				fl_unlock(&mm->pmd_lock);
				va = pend;
				continue;
			}
			/* in part: split the folio, then its PTEs, if any */
			if (!madv_free_split_pmd(mm, pmdp)) {
				va = pend;
				continue;
			}
			pmd = fa_load_acquire(pmdp);
		}
		if (pmd_table(pmd))
			marked += madv_free_ptes(mm, va, pend);
		va = pend;
	}
	return marked;
}
