/* SPDX-License-Identifier: MIT */
/*
 * folio/gup.h - GUP-fast, batched (after "mm/gup: Grab head page refcount
 * once for group of subpages", 2020) and per page (the baseline), and
 * batched unpin.  docs/design.md, O5, O7.
 */
#ifndef FOLIO_GUP_H
#define FOLIO_GUP_H

#include <stdbool.h>

#include "folio/pgtable.h"

#define FOLL_WRITE 0x01u
#define FOLL_GET 0x02u
#define FOLL_PIN 0x04u

/*
 * Grab the pages of [va, va + nr) without taking any page-table lock.
 * Exactly one of FOLL_GET / FOLL_PIN.  Fills @pfns and returns how many
 * pages were grabbed from the start of the range (0 .. nr); a short count
 * means "fall back to the slow path" (not present, not writable, a race).
 */
long gup_fast(struct mm_struct *mm, unsigned long va, unsigned long nr,
	      unsigned int flags, unsigned long *pfns);
/* The same, one try_get and one recheck per page (benchmark baseline). */
long gup_fast_unbatched(struct mm_struct *mm, unsigned long va,
			unsigned long nr, unsigned int flags,
			unsigned long *pfns);

/* Drop what gup_fast() took: runs of the same folio, one op each. */
void unpin_user_pages(const unsigned long *pfns, unsigned long nr,
		      unsigned int flags);
/* Per page (baseline). */
void unpin_user_pages_unbatched(const unsigned long *pfns, unsigned long nr,
				unsigned int flags);
/* Mark each folio dirty (under its lock) before dropping: a GUP writer. */
void unpin_user_pages_dirty_lock(const unsigned long *pfns, unsigned long nr,
				 unsigned int flags);

/* kernel: folio_maybe_dma_pinned */
bool folio_maybe_dma_pinned(const struct folio *f);

#endif /* FOLIO_GUP_H */
