/* SPDX-License-Identifier: MIT */
/*
 * folio/vmscan.h - MADV_FREE and reclaim of lazyfree folios with batched
 * unmap (after "mm: batched unmap lazyfree large folios during
 * reclamation", 2025).  docs/design.md, O14.
 */
#ifndef FOLIO_VMSCAN_H
#define FOLIO_VMSCAN_H

#include <stdbool.h>

#include "folio/pgtable.h"

/*
 * MADV_FREE [va, va + nr) of @mm's anon region: every anon folio wholly in
 * the range (and lockable) loses dirty and swapbacked, and its PTEs/PMD
 * lose dirty and young.  A large folio the range covers only in part (or
 * that is not mapped page by page from its first page) is split to order
 * 0 first and its covered pages marked; if the split fails (a pin, an
 * extra reference, no descriptors) or the folio lock is taken, it is left
 * as it is.  Returns the number of folios marked lazyfree.
 */
long madvise_free(struct mm_struct *mm, unsigned long va, unsigned long nr);

/*
 * Reclaim one lazyfree anon folio.  Caller holds the isolation reference
 * and the folio lock.  Returns 0 when the folio was discarded and freed
 * (the caller's reference and lock are gone with it); otherwise the folio
 * is still held and locked: -EBUSY dirty (now swapbacked again), -EAGAIN
 * an extra reference (GUP or speculative) or a racing change, -EINVAL not
 * lazyfree.  @batched selects the batched unmap (one clear of all PTEs,
 * one barrier, one rmap removal) or the per-PTE baseline.
 */
int reclaim_lazyfree_folio(struct folio *folio, bool batched);

#endif /* FOLIO_VMSCAN_H */
