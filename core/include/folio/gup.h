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
#define FOLL_LONGTERM 0x08u	/* with FOLL_PIN: a long-term pin */

/*
 * Grab the pages of [va, va + nr) without taking any page-table lock.
 * Exactly one of FOLL_GET / FOLL_PIN.  Fills @pfns and returns how many
 * pages were grabbed from the start of the range (0 .. nr); a short count
 * means "fall back to the slow path" (not present, not writable, a race,
 * a FOLL_PIN without FOLL_WRITE of a shared anon page: it must be
 * unshared first, gup_must_unshare; a FOLL_LONGTERM | FOLL_WRITE pin of
 * a file page).  With FOLL_PIN it returns 0, holding nothing, if a fork
 * of @mm was write-protecting it during the walk (write_protect_seq).
 */
long gup_fast(struct mm_struct *mm, unsigned long va, unsigned long nr,
	      unsigned int flags, unsigned long *pfns);
/* The same, one try_get and one recheck per page (benchmark baseline). */
long gup_fast_unbatched(struct mm_struct *mm, unsigned long va,
			unsigned long nr, unsigned int flags,
			unsigned long *pfns);

/*
 * The slow path, get_user_pages / pin_user_pages: GUP-fast, and where it
 * stops, the fault that lets it go on: a write fault (COW) for
 * FOLL_WRITE on a write-protected anon entry, an unshare fault for a
 * FOLL_PIN of a shared anon page (fork.h), then GUP-fast again (at most
 * 4 tries per page).  It does not populate: nothing mapped is -EFAULT.
 * Returns the pages grabbed from the start (> 0), or -EFAULT (nothing
 * present, or a FOLL_LONGTERM | FOLL_WRITE pin of a file page: its
 * writeback cannot be tracked), -ENOMEM (a copy), -EAGAIN (lost every
 * try to a racing thread), -EINVAL (flags).
 */
long get_user_pages(struct mm_struct *mm, unsigned long va, unsigned long nr,
		    unsigned int flags, unsigned long *pfns);

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
