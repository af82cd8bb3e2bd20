/* SPDX-License-Identifier: MIT */
/*
 * rmap.c - reverse-map walks.  An anon folio is mapped at va == index,
 * by its owner mm and, after a fork shared it, by other mms at the same
 * address; a file folio at va = window + index in each mm that has a
 * window for its file.  So a walk visits a few entries directly, and only
 * touches entries whose PFN lies in the folio's pages (an anon va may
 * since have been re-faulted with another folio).
 */
#include "folio/filemap.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "internal.h"
#include "rmap.h"

struct run {
	struct folio *folio;
	int nr;
};

/*
 * Restore migration entries of [pfn, pfn + nr) at @ptes to present PTEs:
 * of the pages' current owner (a split), or of the same pages of @dst
 * (a migration).
 */
static long remap_ptes(_Atomic pte_t *ptes, unsigned long n,
		       unsigned long pfn, unsigned long nr, struct folio *dst)
{
	long done = 0;

	for (unsigned long i = 0; i < n;) {
		pte_t pte = fa_load_relaxed(&ptes[i]);
		unsigned long p = pte_pfn(pte), k = 1;
		struct folio *f;

		if (!pte_migration(pte) || p - pfn >= nr) {
			i++;
			continue;
		}
		/* the pages' current owner: the splitter holds it locked;
		 * or the migration's target, locked by the migrator */
		f = dst ? dst : pfn_folio(p);
		while (i + k < n) {
			pte_t next = fa_load_relaxed(&ptes[i + k]);

			if (!pte_migration(next) || pte_pfn(next) != p + k ||
			    (!dst && !folio_has_pfn(f, p + k)))
				break;
			k++;
		}
		/* remove_migration_pte: reference, rmap, then the entry */
		folio_ref_add(f, (int)k);
		folio_add_rmap_ptes(f, (int)k);
		for (unsigned long j = 0; j < k; j++) {
			pte_t m = fa_load_relaxed(&ptes[i + j]);
			unsigned long to = dst ? folio_pfn(dst) + (p - pfn) + j :
						 p + j;

			fa_store_release(&ptes[i + j],
					 mk_pte(to, (m & ((1ull << _PAGE_PFN_SHIFT) - 1) &
						     ~(pte_t)_PAGE_MIGRATION) |
						    _PAGE_PRESENT | _PAGE_YOUNG));
		}
		done += (long)k;
		i += k;
	}
	return done;
}

static long rmap_one(struct mm_struct *mm, unsigned long va, unsigned long pfn,
		     unsigned long nr, enum rmap_mode mode, struct folio *dst)
{
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	struct folio *f = NULL;
	pmd_t pmd;
	long done = 0;
	int err, dirty = 0;

	/*
	 * The unlocked look only decides whether to take the PMD lock; the
	 * leaf may be zapped and another folio's faulted in before we get
	 * it, so both calls recheck under the lock that it maps our folio.
	 */
	pmd = fa_load_acquire(pmd_offset(mm, va));
	if (pmd_leaf(pmd) && pte_pfn(pmd) == pfn) {
		struct folio *ours = pfn_folio(pfn);	/* locked by the caller */

		folio_race_point(RP_PMD_LOOKED, ours);
		if (mode == RMAP_UNMAP)
			return zap_huge_pmd(mm, va, ours);
		if (mode == RMAP_MIGRATE)	/* anon -> PTEs; file -> gone */
			split_huge_pmd_folio(mm, va, ours);
	} else if (mode == RMAP_UNMAP && !pmd && nr == pmd_nr()) {
		/*
		 * A PMD-sized folio and no leaf: a zap_huge_pmd() may have
		 * cleared the leaf and still be about to drop its rmap under
		 * the PMD lock.  Take and drop that lock, so the walk cannot
		 * return while the folio is still counted as mapped and the
		 * truncation that follows trips over its mapcount (the kernel's
		 * zap_pmd_range() does the same for a single folio since
		 * "mm/thp: unmap_mapping_page() to fix THP
		 * truncate_cleanup_page()"; fuzz_sched found the race here).
		 */
		fl_lock(&mm->pmd_lock);
		fl_unlock(&mm->pmd_lock);
	}
	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)
		return done;
	ptes = pte_offset(pmd, va);
	if (mode == RMAP_REMAP) {
		done = remap_ptes(ptes, nr, pfn, nr, dst);
		fl_unlock(ptl);
		return done;
	}
	for (unsigned long i = 0; i < nr; i++) {
		pte_t pte = fa_load_relaxed(&ptes[i]);

		if (pte_pfn(pte) - pfn >= nr || !pte)
			continue;
		if (pte_migration(pte)) {
			if (mode == RMAP_UNMAP)	/* holds no reference */
				fa_store_relaxed(&ptes[i], 0);
			continue;
		}
		f = pfn_folio(pte_pfn(pte));
		/* try_to_migrate_one / try_to_unmap_one: take the entry ... */
		pte = fa_xchg_relaxed(&ptes[i], mode == RMAP_MIGRATE ?
				      mk_pte(pte_pfn(pte), _PAGE_MIGRATION) |
					      (pte & (_PAGE_WRITE | _PAGE_DIRTY)) :
				      0);
		dirty |= !!(pte & _PAGE_DIRTY);
		done++;
	}
	if (done) {
		/* ... then the rmap; the references after the unlock */
		if (dirty && (mode == RMAP_UNMAP ? !folio_test_anon(f) : true))
			folio_set_dirty(f);
		folio_remove_rmap_ptes(f, (int)done);
	}
	fl_unlock(ptl);
	if (done)
		folio_put_refs(f, (int)done);
	return done;
}

static long rmap_walk(struct address_space *mapping, unsigned long index,
		      unsigned long pfn, unsigned long nr, enum rmap_mode mode,
		      struct folio *dst)
{
	uintptr_t m = (uintptr_t)mapping;
	struct mm_window *w;
	long done = 0;

	if (mapping_is_ksm(mapping)) {
		/*
		 * A write-protected folio (order 0): every mm at each
		 * sharer's address (rmap_walk_ksm).  The descriptor cannot
		 * change under us: the caller holds the folio lock (or, for
		 * a migration's remap, the old folio's, whose descriptor the
		 * new one now shares).
		 */
		const struct wp_desc *d = mapping_wp_desc(mapping);
		struct mm_struct *mm;

		for (unsigned int i = 0; i < d->nr; i++)
			cds_list_for_each_entry(mm, &folio_world.mms, world_link)
				if (d->s[i].index < mm->anon_pages)
					done += rmap_one(mm, d->s[i].index, pfn,
							 nr, mode, dst);
		return done;
	}
	if (m & FOLIO_MAPPING_ANON) {
		struct mm_struct *mm;

		/*
		 * Every mm, not only the owner: fork shares anon folios at
		 * the same address (the model's one anon_vma for all mms;
		 * entries of other folios are skipped by PFN).  No lock: mms
		 * are created before and destroyed after anything walks
		 * (pgtable.h).  A fork into an mm we already passed cannot
		 * copy our migration entries (fork waits for them to go,
		 * fork.c), and a present entry it copies holds a reference
		 * that makes the split's freeze fail.
		 */
		cds_list_for_each_entry(mm, &folio_world.mms, world_link)
			if (index < mm->anon_pages)
				done += rmap_one(mm, index, pfn, nr, mode, dst);
		return done;
	}
	/*
	 * No mapping, so no mm maps it: a file folio truncated while the
	 * caller held it (truncation unmaps before it clears the mapping), or
	 * an anon folio a pfn getter took between its allocation and its
	 * first mapping, which names its owner mm (foliotorture's split of
	 * one crashed here once the walk took the file's own lock).
	 */
	if (!mapping)
		return 0;
	/* the file's own list of windows: walks of two files never meet */
	fl_lock(&mapping->i_mmap_lock);
	cds_list_for_each_entry(w, &mapping->i_mmap, i_mmap_link)
		done += rmap_one(w->mm, w->base + index, pfn, nr, mode, dst);
	fl_unlock(&mapping->i_mmap_lock);
	return done;
}

long rmap_walk_range(struct address_space *mapping, unsigned long index,
		     unsigned long pfn, unsigned long nr, enum rmap_mode mode)
{
	return rmap_walk(mapping, index, pfn, nr, mode, NULL);
}

long rmap_walk_remap_to(struct address_space *mapping, unsigned long index,
			unsigned long pfn, unsigned long nr, struct folio *dst)
{
	return rmap_walk(mapping, index, pfn, nr, RMAP_REMAP, dst);
}

void unmap_mapping_folio(struct folio *f)
{
	struct address_space *m;
	unsigned long index, pfn;

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	m = folio_mapping(f);	/* one read per statement: see folio.h */
	index = folio_index(f);
	pfn = folio_pfn(f);
	rmap_walk_range(m, index, pfn, folio_nr_pages(f), RMAP_UNMAP);
}
