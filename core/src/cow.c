/* SPDX-License-Identifier: MIT */
/*
 * cow.c - the write fault and the unshare fault on a write-protected anon
 * entry (kernel: do_wp_page, wp_can_reuse_anon_folio, wp_page_copy,
 * do_huge_pmd_wp_page), docs/design.md 5.13.
 *
 * Reuse vs copy.  An exclusive folio is ours: reuse.  A shared one may be
 * reused only if nothing but our mappings holds it; the test runs under
 * the page-table lock (no fork of this mm, which needs that lock, can add
 * a mapping meanwhile) and the folio lock (no split or reclaim); a
 * GUP-fast reference arriving after the test pins a folio that is then
 * exclusive, which is the state a pin needs.  Otherwise copy the page: the
 * new folio is built and its rmap added before its PTE is published; the
 * old entry is replaced only if unchanged since we looked (a GUP-fast that
 * grabbed the old folio fails its recheck, R2); the old folio's rmap goes
 * under the lock and its reference after.
 */
#include <errno.h>

#include "folio/fork.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/page_data.h"
#include "internal.h"
#include "rmap.h"

#define WP_RETRY 100	/* internal: look at the PMD again */

static void folio_move_anon_rmap(struct folio *f, struct mm_struct *mm)
{
	/* under the folio lock: rmap walkers and reclaim hold it too */
	fa_store_relaxed(&f->mapping, (struct address_space *)
			 ((uintptr_t)mm | FOLIO_MAPPING_ANON));
	folio_set_flag(f, PG_anon_exclusive);
}

/*
 * This table's present entries mapping pages of @f, @ptep being the entry
 * of its page @off (PTL held).  The model maps an anon folio at va ==
 * index in every mm, so its pages lie in one table, in order.
 */
static int entries_here(_Atomic pte_t *ptep, unsigned long va,
			const struct folio *f, unsigned long off)
{
	unsigned long nr = folio_nr_pages(f);
	_Atomic pte_t *p = ptep - off;
	int n = 0;

	if ((va & (pmd_nr() - 1)) < off)
		return -1;
	for (unsigned long i = 0; i < nr; i++) {
		pte_t e = fa_load_relaxed(&p[i]);

		n += pte_present(e) && folio_has_pfn(f, pte_pfn(e));
	}
	return n;
}

/*
 * wp_can_reuse_anon_folio (PTL held): order 0 with refcount 1, or large
 * with refcount == mapcount == its entries in this table (the kernel's
 * large-folio reuse counts this mm's mappings).  Takes the folio lock; on
 * true the folio is exclusive and ours.
 */
static bool can_reuse(struct folio *f, _Atomic pte_t *ptep, unsigned long va,
		      unsigned long pfn, struct mm_struct *mm)
{
	bool ok;

	if (!folio_trylock(f))
		return false;
	if (folio_test_ksm(f)) {
		/* write-protected (exact under the lock): never reused, a
		 * write breaks the sharing with a copy (the kernel's
		 * wp_can_reuse_anon_folio refuses KSM folios first) */
		ok = false;
	} else if (FOLIO_MUTANT_IS(cow_reuse_mapcount)) {
		/*
		 * The kernel before "mm: do_wp_page() simplification"
		 * (09854ba94c6a, 2020; CVE-2020-29374): reuse when this is
		 * the only mapping (reuse_swap_page's mapcount), whoever
		 * else holds a reference: a GUP reference the child took
		 * (vmsplice) then sees the parent's later writes.
		 */
		int map = folio_mapcount(f);

		ok = !folio_test_large(f) ? map == 1 :
		     map == entries_here(ptep, va, f, folio_pfn_offset(f, pfn));
	} else if (!folio_test_large(f)) {
		ok = folio_ref_count(f) == 1;
	} else {
		int rc = folio_ref_count(f), map = folio_mapcount(f);

		ok = rc == map &&
		     map == entries_here(ptep, va, f, folio_pfn_offset(f, pfn));
	}
	if (ok)
		folio_move_anon_rmap(f, mm);
	folio_unlock(f);
	return ok;
}

/* A PMD leaf: reuse it whole, or split it (-EAGAIN: the PTE path next). */
static int wp_huge_pmd(struct mm_struct *mm, unsigned long va, bool unshare)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	struct folio *f;
	pmd_t pmd;
	bool reuse;

	fl_lock(&mm->pmd_lock);
	pmd = fa_load_relaxed(pmdp);
	if (!pmd_leaf(pmd)) {
		fl_unlock(&mm->pmd_lock);
		return WP_RETRY;
	}
	f = pfn_folio(pte_pfn(pmd));	/* stable: the PMD's reference */
	if (!folio_test_anon(f)) {
		fl_unlock(&mm->pmd_lock);
		return unshare || (pmd & _PAGE_WRITE) ? WP_NOTHING : -EFAULT;
	}
	if (unshare ? folio_test_anon_exclusive(f) : !!(pmd & _PAGE_WRITE)) {
		fl_unlock(&mm->pmd_lock);
		return WP_NOTHING;
	}
	reuse = folio_test_anon_exclusive(f);
	if (!reuse && folio_trylock(f)) {
		/* do_huge_pmd_wp_page: refcount 1, the PMD's alone (the
		 * mutant: mapcount 1, as reuse_swap_page decided) */
		reuse = FOLIO_MUTANT_IS(cow_reuse_mapcount) ?
			folio_mapcount(f) == 1 : folio_ref_count(f) == 1;
		if (reuse)
			folio_move_anon_rmap(f, mm);
		folio_unlock(f);
	}
	if (reuse) {
		if (!unshare)
			fa_or_relaxed(pmdp, _PAGE_WRITE | _PAGE_DIRTY | _PAGE_YOUNG);
		fl_unlock(&mm->pmd_lock);
		return WP_REUSED;
	}
	fl_unlock(&mm->pmd_lock);
	split_huge_pmd_folio(mm, va, f);	/* and fall back to PTEs */
	return WP_RETRY;
}

/* The PTE path.  *c: a copy allocated on an earlier round, or NULL. */
static int wp_pte(struct mm_struct *mm, unsigned long va, bool unshare,
		  struct folio **c)
{
	struct fl_lock *ptl;
	_Atomic pte_t *ptep;
	struct folio *f, *n;
	pte_t pte;
	pmd_t pmd;
	int err, map;
	bool ksm;

	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)
		return WP_RETRY;	/* the PMD changed: look again */
	ptep = pte_offset(pmd, va);
	pte = fa_load_relaxed(ptep);
	if (!pte) {
		fl_unlock(ptl);
		return -EFAULT;
	}
	if (pte_migration(pte)) {	/* a split runs: the caller retries */
		fl_unlock(ptl);
		return -EAGAIN;
	}
	f = pfn_folio(pte_pfn(pte));	/* stable: the PTE's reference */
	if (!folio_test_anon(f)) {
		fl_unlock(ptl);
		return unshare || (pte & _PAGE_WRITE) ? WP_NOTHING : -EFAULT;
	}
	if (unshare ? folio_test_anon_exclusive(f) : !!(pte & _PAGE_WRITE)) {
		fl_unlock(ptl);
		return WP_NOTHING;
	}
	if (folio_test_anon_exclusive(f) ||
	    can_reuse(f, ptep, va, pte_pfn(pte), mm)) {
		if (!unshare)	/* an RMW: the hardware may be setting A/D */
			fa_or_relaxed(ptep, _PAGE_WRITE | _PAGE_DIRTY | _PAGE_YOUNG);
		fl_unlock(ptl);
		return WP_REUSED;
	}
	if (!*c) {	/* allocate outside the lock, then look again */
		fl_unlock(ptl);
		*c = folio_alloc_anon(0);
		return *c ? WP_RETRY : -ENOMEM;
	}
	/*
	 * A fork of this mm still running (its count odd, fully ordered after
	 * the PTL that showed us its write-protect): a CPU store that passed
	 * the entry before the fork write-protected it may not have landed
	 * yet.  Wait for the fork's end (its flush: fork.c), as the kernel's
	 * fault waits for the mmap lock; else the copy would miss the store.
	 */
	if (fa_load_full(&mm->write_protect_seq) & 1) {
		fl_unlock(ptl);
		fl_yield();	/* the fork may be preempted: let it run */
		return WP_RETRY;
	}
	/* wp_page_copy: the copy fully set up before its entry is seen; its
	 * data first (the old page is mapped read-only everywhere, holds no
	 * pin, and every store that went through a writable entry of it has
	 * landed: nobody writes it meanwhile) */
	n = *c;
	*c = NULL;
	copy_page_data(folio_pfn_plain(n), pte_pfn(pte), 1);
	fa_store_relaxed(&n->mapping, (struct address_space *)
			 ((uintptr_t)mm | FOLIO_MAPPING_ANON));
	fa_store_relaxed(&n->index, va);
	folio_set_flag(n, PG_anon_exclusive);
	folio_add_rmap_ptes(n, 1);	/* the allocation's reference is the PTE's */
	folio_race_point(RP_COW_COPIED, f);
	fa_xchg_full(ptep, mk_pte(folio_pfn(n), _PAGE_PRESENT | _PAGE_YOUNG |
				  (unshare ? 0 : _PAGE_WRITE | _PAGE_DIRTY)));
	map = folio_remove_rmap_ptes(f, 1);
	folio_unmap_maybe_queue(f, map, 1);
	/* a hint (no lock): ksm_try_unprotect looks again under the lock */
	ksm = folio_test_ksm(f);
	fl_unlock(ptl);
	/*
	 * A write-protected folio this copy left with one sharer becomes a
	 * plain anon folio again.  The old entry's reference (still ours)
	 * keeps it alive; a busy lock leaves it protected, which is legal.
	 */
	if (ksm && folio_trylock(f)) {
		ksm_try_unprotect(f);
		folio_unlock(f);
	}
	folio_put(f);	/* the old entry's reference, after the table lock */
	return WP_COPIED;
}

int do_wp_page(struct mm_struct *mm, unsigned long va, bool unshare)
{
	struct folio *c = NULL;
	int ret;

	if (va >= mm->nr_pmds << pmd_order())
		return -EFAULT;
	do {
		pmd_t pmd = fa_load_acquire(pmd_offset(mm, va));

		if (pmd_leaf(pmd))
			ret = wp_huge_pmd(mm, va, unshare);
		else if (pmd_table(pmd))
			ret = wp_pte(mm, va, unshare, &c);
		else if (pmd)	/* invalidated: a split_huge_pmd runs */
			ret = WP_RETRY;
		else
			ret = -EFAULT;
		if (ret == WP_RETRY)
			fa_spin_hint();
	} while (ret == WP_RETRY);
	if (c)
		folio_put(c);	/* not needed after all */
	return ret;
}
