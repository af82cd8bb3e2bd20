/* SPDX-License-Identifier: MIT */
/*
 * huge_memory.c - split_huge_pmd (O11) and folio split (O12).
 */
#include <errno.h>
#include <stdlib.h>

#include "folio/filemap.h"
#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/page_alloc.h"
#include "folio/slab.h"
#include "folio/world.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

/*
 * split_huge_pmd, anon: the PMD's one reference becomes nr PTE references.
 *   1. invalidate the PMD (clear present): GUP-fast's PMD recheck fails and
 *      a concurrent touch_page sees nothing present;
 *   2. folio_ref_add(nr - 1) first, then add the PTE rmap, fill the
 *      deposited table;
 *   3. remove the PMD rmap, then publish the table (release).
 * At every instant refcount >= mapcount.  File PMDs are just cleared: the
 * pages refault later.
 */
static void __split_huge_pmd(struct mm_struct *mm, unsigned long va,
			     const struct folio *only)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	unsigned long nr = pmd_nr(), pfn;
	struct ptdesc *pt;
	_Atomic pte_t *ptes;
	struct folio *f;
	pmd_t old;

	fl_lock(&mm->pmd_lock);
	old = fa_load_relaxed(pmdp);
	if (!pmd_leaf(old)) {
		fl_unlock(&mm->pmd_lock);
		return;
	}
	pfn = pte_pfn(old);
	/* told which folio: another one mapped here since is not ours */
	if (only && pfn != folio_pfn(only)) {
		fl_unlock(&mm->pmd_lock);
		return;
	}
	f = pfn_folio(pfn);	/* stable: the PMD holds a reference */
	if (!folio_test_anon(f)) {
		fl_unlock(&mm->pmd_lock);
		zap_huge_pmd(mm, va & ~(nr - 1), f);
		return;
	}
	/*
	 * 1. pmdp_invalidate: an exchange, and the bits it returns are the
	 * ones the PTEs get.  The hardware sets young and dirty without the
	 * PMD lock (touch_page_data's CAS): between our load above and this
	 * store a CPU store may have dirtied the leaf (RP_SPLIT_PMD_READ),
	 * and a store of the stale value would drop that dirty bit, so a
	 * lazyfree reclaim then discards a written page.  pmd_invalidate_plain
	 * puts that store back (the kernel before "mm: Do not lose dirty and
	 * access bits in pmdp_invalidate()", ced108037c2a, 2018).
	 */
	folio_race_point(RP_SPLIT_PMD_READ, f);
	if (FOLIO_MUTANT_IS(pmd_invalidate_plain))
		fa_store_full(pmdp, old & ~(pmd_t)_PAGE_PRESENT);
	else
		old = fa_xchg_full(pmdp, old & ~(pmd_t)_PAGE_PRESENT);
	VM_BUG_ON_FOLIO(folio_ref_count(f) == 0, f);
	/* 2. */
	folio_ref_add(f, (int)nr - 1);
	folio_add_rmap_ptes(f, (int)nr);
	pt = pgtable_trans_huge_withdraw(mm);
	ptes = pfn_to_virt(pt->pfn);
	for (unsigned long i = 0; i < nr; i++)
		fa_store_relaxed(&ptes[i],
				 mk_pte(pfn + i, _PAGE_PRESENT |
						 (old & (_PAGE_WRITE | _PAGE_DIRTY |
							 _PAGE_YOUNG))));
	/* 3. */
	folio_remove_rmap_pmd(f);
	if (FOLIO_MUTANT_IS(split_pmd_populate_relaxed))
		/* no smp_wmb before pmd_populate: a lockless walker may see
		 * the table before its PTEs */
		fa_store_relaxed(pmdp, mk_pte(pt->pfn, _PAGE_PRESENT | _PMD_TABLE));
	else
		fa_store_release(pmdp, mk_pte(pt->pfn, _PAGE_PRESENT | _PMD_TABLE));
	fl_unlock(&mm->pmd_lock);
}

void split_huge_pmd(struct mm_struct *mm, unsigned long va)
{
	__split_huge_pmd(mm, va, NULL);
}

void split_huge_pmd_folio(struct mm_struct *mm, unsigned long va,
			  const struct folio *folio)
{
	__split_huge_pmd(mm, va, folio);
}

/* The deferred-split queue's lock, shared with deferred_split.c. */
extern struct fl_lock deferred_split_lock;
void deferred_split_dequeue_locked(struct folio *f);

/*
 * Split @f to @new_order, docs/design.md, O12.  Steps and the races they
 * close:
 *   1. pre-check refcount - 1 == expected: pins and extra references fail
 *      early with -EAGAIN (racy; the freeze below is the real check);
 *   2. new descriptors are allocated up front, so nothing can fail once the
 *      folio is frozen;
 *   3. unmap every mapping to migration entries (they hold no reference);
 *   4. freeze to cache + 1 under the file's i_pages lock (file) or the
 *      deferred-split lock (anon): a GUP or lookup reference taken before
 *      makes the freeze fail (R1, R2e); the deferred scanner cannot
 *      isolate a folio whose count is 0 and cannot be mid-isolation while
 *      we hold its lock (R7); dequeue while frozen;
 *   5. set every field and memmap word of the new folios while their
 *      count is 0: a speculative try_get on them fails until step 6 (R2c);
 *   6. unfreeze each new folio (release) and store it in its page-cache
 *      slots; the original, still frozen in its remaining slots, is
 *      unfrozen last, so no lookup can hold it while a slot it no longer
 *      covers still points at it (split vs lookup);
 *   7. restore the migration entries as PTEs of the new owners;
 *   8. unlock the new folios and drop their +1 (frees unmapped pieces).
 * On failure after 3 everything is remapped to the original folio.
 */
int split_folio_to_order(struct folio *f, unsigned int new_order)
{
	unsigned int order = folio_order(f);
	unsigned long nr = 1ul << order, new_nr = 1ul << new_order;
	unsigned long pfn = folio_pfn(f), index = folio_index(f), n_new;
	bool anon = folio_test_anon(f);
	struct address_space *mapping = folio_mapping(f);
	enum memdesc_type type = anon ? MEMDESC_ANON : MEMDESC_FILE;
	int cache = anon ? 0 : (int)nr, new_cache = anon ? 0 : (int)new_nr;
	struct folio **nf;
	struct kmem_cache *ncache;
	unsigned long keep;

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	if (order == 0 || new_order >= order || (anon && new_order == 1))
		return -EINVAL;
	if (!anon && !mapping)
		return -EBUSY;	/* truncated under us */
	/* 1 */
	if (folio_expected_ref_count(f) != folio_ref_count(f) - 1)
		return -EAGAIN;
	/* 2 */
	n_new = nr / new_nr - 1;
	nf = calloc(n_new ? n_new : 1, sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	/* the new folios' descriptors are of their order's size; @f keeps its own */
	ncache = new_order ? large_folio_cache : folio_cache;
	for (unsigned long k = 0; k < n_new; k++) {
		nf[k] = kmem_cache_alloc(ncache);
		if (!nf[k]) {
			while (k--)
				kmem_cache_free(ncache, nf[k]);
			free(nf);
			return -ENOMEM;
		}
	}
	/* 3 */
	rmap_walk_range(mapping, index, pfn, nr, RMAP_MIGRATE);
	folio_race_point(RP_SPLIT_UNMAPPED, f);
	/* 4 */
	if (!anon) {
		fl_lock(&mapping->i_pages_lock);
		if (fa_load_relaxed(&mapping->slots[index]) != f ||
		    !folio_ref_freeze(f, cache + 1)) {
			folio_window(FW_R1);
			fl_unlock(&mapping->i_pages_lock);
			goto fail;
		}
	} else if (FOLIO_MUTANT_IS(split_dsq_unlocked)) {
		/* "frozen, so ours": freeze and unqueue without the queue lock,
		 * while the scanner may be walking or editing the list */
		if (!folio_ref_freeze(f, 1)) {
			folio_window(FW_R1);
			goto fail;
		}
		deferred_split_dequeue_locked(f);
	} else {
		fl_lock(&deferred_split_lock);
		if (!folio_ref_freeze(f, 1)) {
			folio_window(FW_R1);
			fl_unlock(&deferred_split_lock);
			goto fail;
		}
		deferred_split_dequeue_locked(f);
		fl_unlock(&deferred_split_lock);
	}
	/* 5 */
	keep = fa_load_relaxed(&f->flags) &
	       ((1ul << PG_locked) | (1ul << PG_dirty) | (1ul << PG_swapbacked) |
		(1ul << PG_anon) | (1ul << PG_anon_exclusive));
	for (unsigned long k = 0; k < n_new; k++) {
		struct folio *g = nf[k];
		unsigned long gpfn = pfn + (k + 1) * new_nr;

		VM_BUG_ON_FOLIO(folio_ref_count(g) != 0, g);
		if (FOLIO_MUTANT_IS(split_unfreeze_new_early)) {
			/* published first (pages, count), its fields after */
			fa_store_relaxed(&g->order, new_order);
			fa_store_relaxed(&g->pfn, (unsigned int)gpfn);
			for (unsigned long j = 0; j < new_nr; j++)
				memmap_word_store(gpfn + j,
						  memdesc_encode(type, g));
			folio_ref_unfreeze(g, new_cache + 1);
		}
		fa_store_relaxed(&g->flags, new_order ?
				 keep | (1ul << PG_large_desc) : keep);
		fa_store_relaxed(&g->_mapcount, 0);
		if (new_order) {
			struct large_folio *lg = large_folio_desc(g);

			fa_store_relaxed(&lg->_entire_mapcount, 0);
			fa_store_relaxed(&lg->_pincount, 0);
			CDS_INIT_LIST_HEAD(&lg->_deferred_list);
		}
		fa_store_relaxed(&g->mapping, mapping);
		fa_store_relaxed(&g->index, index + (k + 1) * new_nr);
		fa_store_relaxed(&g->order, new_order);
		fa_store_relaxed(&g->pfn, (unsigned int)gpfn);
		g->_lock_waiters = NULL;	/* was the slab's free pointer */
		if (FOLIO_MUTANT_IS(split_unfreeze_new_early))
			continue;
		for (unsigned long j = 0; j < new_nr; j++)
			memmap_word_store(gpfn + j, memdesc_encode(type, g));
	}
	fa_store_relaxed(&f->order, new_order);
	folio_race_point(RP_SPLIT_FROZEN, f);
	/* 6 */
	if (FOLIO_MUTANT_IS(split_unfreeze_orig_early))
		folio_ref_unfreeze(f, new_cache + 1);	/* slots still name f */
	for (unsigned long k = 0; k < n_new; k++) {
		if (!FOLIO_MUTANT_IS(split_unfreeze_new_early))
			folio_ref_unfreeze(nf[k], new_cache + 1);
		if (!anon)
			for (unsigned long j = 0; j < new_nr; j++)
				fa_store_release(&mapping->slots[index + (k + 1) * new_nr + j],
						 nf[k]);
	}
	if (FOLIO_MUTANT_IS(split_unfreeze_relaxed))
		/* atomic_set, not atomic_set_release: the count may become
		 * visible before the order and the slots stored above */
		fa_store_relaxed(&f->_refcount, new_cache + 1);
	else if (!FOLIO_MUTANT_IS(split_unfreeze_orig_early))
		folio_ref_unfreeze(f, new_cache + 1);
	if (!anon)
		fl_unlock(&mapping->i_pages_lock);
	/* 7 */
	rmap_walk_range(mapping, index, pfn, nr, RMAP_REMAP);
	/* 8 */
	for (unsigned long k = 0; k < n_new; k++) {
		folio_unlock(nf[k]);
		folio_put(nf[k]);
	}
	free(nf);
	return 0;

fail:
	rmap_walk_range(mapping, index, pfn, nr, RMAP_REMAP);
	for (unsigned long k = 0; k < n_new; k++)
		kmem_cache_free(ncache, nf[k]);
	free(nf);
	return -EAGAIN;
}
