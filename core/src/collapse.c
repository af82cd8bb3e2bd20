/* SPDX-License-Identifier: MIT */
/*
 * collapse.c - khugepaged's collapse of a PMD range of small anon folios
 * into one PMD-mapped THP (kernel: collapse_huge_page,
 * __collapse_huge_page_isolate, pmdp_collapse_flush), docs/design.md 5.15.
 *
 * The kernel holds mmap_lock for write, so no fault or zap runs in the
 * range; the model has no mmap_lock and keeps the others out with the
 * PMD lock (held from the clear to the new leaf: a fault that saw the PMD
 * none waits for it and then finds the leaf) and the table's PTL (held
 * while the PMD is cleared: everyone who locks a PTL rechecks the PMD
 * under it, pte_table_lock).  GUP-fast takes no lock (R4):
 *   collapse: clear the PMD (seq_cst exchange), full barrier, then read
 *             each source's refcount;
 *   GUP-fast: try_add on the refcount (seq_cst RMW), then reload the
 *             PMD (seq_cst) and give the reference back if it changed.
 * Either collapse sees GUP's reference (and puts the PMD back) or GUP
 * sees the cleared PMD (and lets go).  The old table may still be walked
 * by a GUP-fast or a CPU touch under RCU: it is freed with call_rcu.
 */
#include <errno.h>
#include <stdlib.h>

#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/page_alloc.h"
#include "folio/page_data.h"
#include "folio/rcu.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

/* __collapse_huge_page_isolate's checks of one entry (PTL held). */
static struct folio *collapsible(pte_t pte)
{
	struct folio *f;

	if (!pte_present(pte))
		return NULL;	/* a hole (max_ptes_none = 0) or migration */
	f = pfn_folio(pte_pfn(pte));	/* stable: the PTE's reference */
	if (!folio_test_anon(f) || folio_test_large(f) ||
	    !folio_test_anon_exclusive(f) || !folio_test_swapbacked(f))
		return NULL;
	return f;
}

/*
 * For the R4 counter only: held by its PTE and our isolation alone?  A
 * plain load, not a protocol step (in the scheduled build, not a step).
 */
static unsigned char alone(const struct folio *f)
{
	return fa_peek_relaxed(&f->_refcount) == 2;
}

int collapse_huge_page(struct mm_struct *mm, unsigned long va)
{
	unsigned long nr = pmd_nr(), locked = 0, pfn;
	_Atomic pmd_t *pmdp;
	struct folio **src, *n;
	struct ptdesc *deposit, *old_table = NULL;
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	pmd_t pmd;
	int err = -EAGAIN;

	if ((va & (nr - 1)) || va >= mm->anon_pages)
		return -EINVAL;
	/* src[nr], then one byte per source: alone at isolation (R4) */
	src = calloc(1, nr * sizeof(*src) + nr);
	n = src ? folio_alloc_anon(pmd_order()) : NULL;
	deposit = n ? pte_alloc_one() : NULL;
	if (!deposit) {
		if (n)
			folio_put(n);
		free(src);
		return -ENOMEM;
	}
	pmdp = pmd_offset(mm, va);
	fl_lock(&mm->pmd_lock);
	pmd = fa_load_relaxed(pmdp);
	if (!pmd_table(pmd))
		goto out_pmd;	/* none, a leaf already, or mid-split */
	/* the PMD cannot change while we hold its lock: no RCU needed */
	ptl = pte_lockptr(pmd);
	fl_lock(ptl);
	ptes = pte_offset(pmd, va);
	for (unsigned long i = 0; i < nr; i++) {
		pte_t pte = fa_load_relaxed(&ptes[i]);

		src[i] = collapsible(pte);
		if (!src[i] || !folio_trylock(src[i]))
			goto out_unlock;
		/* isolate: our own reference, so a zap after we unlock the
		 * table (on failure) cannot free a folio we hold locked */
		folio_get(src[i]);
		locked++;
		((unsigned char *)(src + nr))[i] = alone(src[i]);
	}
	/* pmdp_collapse_flush: the PMD goes, then the barrier (R4) */
	if (FOLIO_MUTANT_IS(collapse_clear_plain)) {
		/* a plain pmd_clear, no flush: the clear may still sit in
		 * this CPU's store buffer when the counts are read */
		fa_store_relaxed(pmdp, 0);
	} else {
		fa_xchg_full(pmdp, 0);
		fa_fence_full();
	}
	folio_race_point(RP_COLLAPSE_CLEARED, src[0]);
	for (unsigned long i = 0; i < nr; i++)
		/* is_refcount_suitable: the PTE's and our isolation's */
		if (fa_load_full(&src[i]->_refcount) != 2) {
			if (((unsigned char *)(src + nr))[i])
				folio_window(FW_R4);	/* came in the window */
			fa_store_release(pmdp, pmd);	/* put it back */
			goto out_unlock;
		}
	/* __collapse_huge_page_copy: no entry maps a source now and none is
	 * pinned or held but by us (R4): nobody writes them meanwhile */
	for (unsigned long i = 0; i < nr; i++)
		copy_page_data(folio_pfn_plain(n) + i, folio_pfn_plain(src[i]), 1);
	/* then the THP, set up before anyone can see it */
	fa_store_relaxed(&n->mapping, (struct address_space *)
			 ((uintptr_t)mm | FOLIO_MAPPING_ANON));
	fa_store_relaxed(&n->index, va);
	folio_set_flag(n, PG_anon_exclusive);
	folio_add_rmap_pmd(n);	/* the allocation's reference is the PMD's */
	pgtable_trans_huge_deposit(mm, deposit);
	deposit = NULL;
	pfn = folio_pfn(n);
	fa_store_release(pmdp, mk_pte(pfn, _PAGE_PRESENT | _PMD_LEAF | _PAGE_WRITE |
					   _PAGE_DIRTY | _PAGE_YOUNG));
	n = NULL;
	/* the sources leave the old table (nobody locks it now: its PMD is
	 * gone) and their rmap goes; their references after the unlock */
	for (unsigned long i = 0; i < nr; i++) {
		fa_store_relaxed(&ptes[i], 0);
		folio_remove_rmap_ptes(src[i], 1);
	}
	old_table = memdesc_ptr(memmap_word_load(pte_pfn(pmd)));
	err = 0;
out_unlock:
	fl_unlock(ptl);
out_pmd:
	fl_unlock(&mm->pmd_lock);
	for (unsigned long i = 0; i < locked; i++) {
		folio_unlock(src[i]);
		if (!err)
			folio_put(src[i]);	/* the old PTE's */
		folio_put(src[i]);	/* ours: the last one frees it */
	}
	if (!err)
		pte_free_rcu(old_table);	/* GUP-fast may still walk it */
	if (n)
		folio_put(n);
	if (deposit)
		pte_free_rcu(deposit);
	free(src);
	return err;
}
