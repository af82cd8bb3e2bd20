/* SPDX-License-Identifier: MIT */
/*
 * folio/huge_memory.h - split_huge_pmd, folio split, the deferred-split
 * queue and its scanner (docs/design.md, O11-O13).
 */
#ifndef FOLIO_HUGE_MEMORY_H
#define FOLIO_HUGE_MEMORY_H

#include "folio/pgtable.h"

/* Replace a PMD leaf at @va with PTEs (anon) or clear it (file).  Never
 * fails; no-op if @va is not PMD-mapped. */
void split_huge_pmd(struct mm_struct *mm, unsigned long va);
/*
 * The same, but only if the leaf still maps @folio (checked under the PMD
 * lock): the kernel's split_huge_pmd_address(vma, addr, freeze, folio).
 * An rmap walk decides to split from an unlocked look at the PMD; between
 * that look and the lock, a zap (which needs no folio lock) and a fault can
 * put another folio's leaf there, which the walk must leave alone.
 */
void split_huge_pmd_folio(struct mm_struct *mm, unsigned long va,
			  const struct folio *folio);

/*
 * Split a large folio to @new_order (O12).  Caller holds a reference and
 * the folio lock; both stay with the folio (which keeps its first pages).
 * Returns 0; -EINVAL (not large, bad order, anon order 1); -EBUSY
 * (truncated); -EAGAIN (pins or extra references, or lost a race);
 * -ENOMEM (no descriptors for the new folios).
 */
int split_folio_to_order(struct folio *folio, unsigned int new_order);
static inline int split_folio(struct folio *folio)
{
	return split_folio_to_order(folio, 0);
}

/* Queue a partially mapped large anon folio (caller holds a reference).
 * Only partially_mapped == true is modelled (no "underused THP" queueing). */
void deferred_split_folio(struct folio *folio, bool partially_mapped);
/* Free path: unqueue at refcount 0. */
void folio_unqueue_deferred_split(struct folio *folio);
/*
 * The shrinker: isolate up to @nr queued folios with try_get under the
 * queue lock, then trylock and split each unlocked; requeue what could not
 * be split.  Returns the number split.
 */
unsigned long deferred_split_scan(unsigned long nr);
unsigned long deferred_split_count(void);

/*
 * khugepaged's collapse_huge_page (collapse.c, docs/design.md 5.15): the
 * PMD range at @va (PMD-aligned, in the anon region) of @mm, all of whose
 * PTEs map order-0 anon folios that are exclusive, swapbacked, unlocked
 * and held by their mapping only (the model's max_ptes_none = 0 and
 * max_ptes_shared = 0), becomes one PMD-mapped THP: the PMD is cleared
 * (pmdp_collapse_flush), every source's refcount checked for pins and
 * extra references after a full barrier (GUP-fast rechecks the PMD after
 * its grab: one of the two sees the other), the pages copied, the leaf
 * installed, the sources and the old table freed (the table after a
 * grace period).  Returns 0, -EINVAL (@va), -EAGAIN (not collapsible
 * now: a hole, a large, shared, lazyfree, locked, pinned or referenced
 * page; the PMD is put back), -ENOMEM.
 */
int collapse_huge_page(struct mm_struct *mm, unsigned long va);
bool folio_on_deferred_list(const struct folio *folio);

#endif /* FOLIO_HUGE_MEMORY_H */
