/* SPDX-License-Identifier: MIT */
/*
 * folio/fork.h - fork of private anon memory and copy-on-write
 * (docs/design.md 5.13; kernel: copy_page_range, do_wp_page,
 * FAULT_FLAG_UNSHARE).  Anon-exclusive is per folio (PG_anon_exclusive).
 */
#ifndef FOLIO_FORK_H
#define FOLIO_FORK_H

#include <stdbool.h>

#include "folio/pgtable.h"

/*
 * fork: @dst's anon region becomes a copy-on-write copy of @src's, as if
 * @dst were the child just forked from @src (its old contents are zapped
 * first: the previous child exited).  Every present anon entry is shared
 * write-protected in both (refcount and mapcount count both, the folio
 * loses PG_anon_exclusive), except an exclusive folio that may be
 * DMA-pinned: the child gets a copy of each such page instead, so the pin
 * keeps seeing the parent's page (a pinned PMD leaf is split in the
 * parent first).  A PMD leaf is shared as a leaf (or by PTEs where the
 * child still has a page table there).  File windows are not copied: the
 * child refaults them.  While it write-protects, @src->write_protect_seq
 * is odd, and GUP-fast with FOLL_PIN on @src fails.
 * Every table and copy is allocated before anything changes: -ENOMEM
 * leaves both mms as they were (unless a concurrent pin made a copy
 * necessary that was not counted: then the child is zapped again).
 * Returns the number of entries copied or shared, -EINVAL (@dst == @src,
 * or @dst's anon region is smaller), -ENOMEM.
 */
long mm_fork(struct mm_struct *dst, struct mm_struct *src);

/* do_wp_page's results */
#define WP_NOTHING 0	/* already writable (or, unshare: already exclusive) */
#define WP_REUSED 1	/* the folio is now exclusive here, used in place */
#define WP_COPIED 2	/* a new exclusive order-0 copy is mapped here */

/*
 * A write fault (@unshare false) or an unshare fault (@unshare true, the
 * kernel's FAULT_FLAG_UNSHARE: a FOLL_PIN without FOLL_WRITE of a shared
 * anon page) at @va of @mm.  An exclusive folio is reused in place; a
 * shared one is reused if nothing else holds it (order 0: refcount 1;
 * large: refcount == mapcount == its entries in this page table, the
 * kernel's large-folio reuse), else its page at @va is copied into a new
 * order-0 folio (a PMD leaf is split first unless it can be reused
 * whole).  A write makes the entry writable and dirty; an unshare leaves
 * it read-only.  Returns WP_*, -EFAULT (nothing present, or not anon),
 * -EAGAIN (a migration entry: retry), -ENOMEM.
 */
int do_wp_page(struct mm_struct *mm, unsigned long va, bool unshare);

#endif /* FOLIO_FORK_H */
