/* SPDX-License-Identifier: MIT */
/*
 * rmap.h - mapcount accounting and rmap walks (internal to core/src).
 *
 * Reference order (docs/design.md 5.6; at every instant refcount >= mapcount):
 * a mapping's reference is taken before its rmap is added and its entry
 * installed, and dropped only after the entry is cleared, its rmap
 * removed and the table unlocked.  _mapcount is the only total (the
 * kernel's _large_mapcount under NO_PAGE_MAPCOUNT): it rises last on map
 * and falls first on unmap, so a lockless reader under-counts in flight.
 *
 * Debug assertions (docs/design.md 6, "at any instant"): a mapping is added only
 * to a folio whose count is held (never to a frozen or free one: only the
 * freezer touches a frozen folio) and no counter goes below 0.  The
 * two-variable properties (refcount >= mapcount, pincount <= refcount)
 * hold for the true state but two lockless loads can straddle another
 * thread's ordered pair of updates, so they are checked exactly by the
 * quiescent checker instead of asserted here.
 */
#ifndef FOLIO_RMAP_H
#define FOLIO_RMAP_H

#include "folio/mutant.h"
#include "folio/pgtable.h"

static inline void folio_add_rmap_ptes(struct folio *f, int nr)
{
	VM_BUG_ON_FOLIO(folio_ref_count(f) <= 0, f);	/* refs come first */
	if (FOLIO_MUTANT_IS(mapcount_plain))	/* two PTLs, one counter */
		*(volatile int *)&f->_mapcount += nr;
	else
		fa_add_relaxed(&f->_mapcount, nr);
}

static inline void folio_add_rmap_pmd(struct folio *f)
{
	VM_BUG_ON_FOLIO(folio_ref_count(f) <= 0, f);
	fa_add_relaxed(&folio_large(f)->_entire_mapcount, 1);
	fa_add_relaxed(&f->_mapcount, 1);
}

/* Returns the new total mapcount. */
static inline int folio_remove_rmap_ptes(struct folio *f, int nr)
{
	int v;

	if (FOLIO_MUTANT_IS(mapcount_plain))	/* a zap under one PTL only */
		v = (*(volatile int *)&f->_mapcount -= nr);
	else
		v = fa_sub_return_relaxed(&f->_mapcount, nr);

	VM_BUG_ON_FOLIO(v < 0, f);
	return v;
}

static inline void folio_remove_rmap_pmd(struct folio *f)
{
	/* never inside VM_BUG_ON: release builds do not evaluate it */
	int map = fa_sub_return_relaxed(&f->_mapcount, 1);
	int entire = fa_sub_return_relaxed(&folio_large(f)->_entire_mapcount, 1);

	VM_BUG_ON_FOLIO(map < 0 || entire < 0, f);
}

/*
 * After a PTE unmap left @map mappings: a large anon folio with some but
 * not all pages mapped (and no PMD) goes on the deferred-split queue.  The
 * caller still holds the unmapped PTEs' references (R8: rc > 0); @held is
 * how many references the caller holds now (the window counter's test).
 */
void folio_unmap_maybe_queue(struct folio *f, int map, int held);

enum rmap_mode {
	RMAP_UNMAP,	/* clear every mapping (truncate) */
	RMAP_MIGRATE,	/* present PTEs -> migration entries; PMDs split first */
	RMAP_REMAP,	/* migration entries -> present PTEs of the current owner */
};

/*
 * Walk every mapping of the pages [pfn, pfn + nr) of a locked folio whose
 * mapping/index were @mapping/@index (saved by the caller: a split changes
 * them), and apply @mode.  Returns the number of entries changed.
 */
long rmap_walk_range(struct address_space *mapping, unsigned long index,
		     unsigned long pfn, unsigned long nr, enum rmap_mode mode);
/*
 * Migration's remap: the migration entries of [pfn, pfn + nr) become
 * present PTEs of the same pages of @dst (locked by the caller, its pages
 * at folio_pfn(dst)...).  Returns the entries restored.
 */
long rmap_walk_remap_to(struct address_space *mapping, unsigned long index,
			unsigned long pfn, unsigned long nr, struct folio *dst);

/*
 * Lock the PTL of the table @pmd (read from @pmdp) if @pmdp still names
 * it: under RCU, recheck, lock, recheck (pte_offset_map_lock's pmd_same).
 * NULL if it changed (a collapse, a zap of a leaf...): read it again.
 */
struct fl_lock *pte_lock_pmd(_Atomic pmd_t *pmdp, pmd_t pmd);

/* Lock the PTE table covering @va (allocating it if @alloc and the PMD is
 * none).  NULL if the PMD is a leaf (or none and !@alloc); *err = -ENOMEM
 * if a table could not be allocated. */
struct fl_lock *pte_table_lock(struct mm_struct *mm, unsigned long va,
			       bool alloc, pmd_t *pmdval, int *err);

/*
 * The PMD at @va, but if it reads none, read again under the PMD lock: a
 * khugepaged collapse clears the PMD and installs the THP's leaf holding
 * that lock (the kernel keeps zap and fork out with mmap_lock instead), so
 * a zap or a fork does not skip a range that is about to be mapped again.
 */
pmd_t pmd_settled(struct mm_struct *mm, unsigned long va);

#endif /* FOLIO_RMAP_H */
