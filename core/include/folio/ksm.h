/* SPDX-License-Identifier: MIT */
/*
 * folio/ksm.h - generic page write protection: KSM-style merging of pages
 * with equal contents into one write-protected folio, shared read-only
 * until a write breaks it (docs/design.md 5.17; the 2018 "Generic page
 * write protection" RFC, mm/ksm.c's write_protect_page and replace_page).
 *
 * A write-protected folio's mapping field does not name an mm or a file:
 * it points to a write-protect descriptor (tag FOLIO_MAPPING_KSM) listing
 * its sharers.  An anon sharer is a virtual address: it stands for every
 * mm that maps the folio there, as the model's one anon_vma stands for an
 * mm and all its forks (rmap.c), so a fork that shares a protected page
 * needs no new sharer.  Whoever needs "where is this folio mapped" walks
 * the sharers (rmap.c); code that needs the mm or the index of a plain
 * anon folio must not be handed a protected one (folio_anon_mm asserts).
 *
 * The descriptor is edited and freed only under the folio's lock (merge,
 * unprotect, migration, the rmap walks all hold it); a sharer may be
 * stale (every mm unmapped it since), never missing: every entry mapping
 * a protected folio is at a listed address (the checker's I-wp).  Stale
 * sharers are pruned under the folio lock (ksm_try_unprotect).
 *
 * The model's choices (docs/design.md 5.17): order-0 anon folios only so
 * far (file pages and the passed-down mapping are the next step); a
 * protected folio is never lazyfree (MADV_FREE skips it), never exclusive,
 * never reused by a write fault, never collapsed.
 */
#ifndef FOLIO_KSM_H
#define FOLIO_KSM_H

#include <stdbool.h>
#include <stdint.h>

#include "folio/folio.h"
#include "folio/pgtable.h"

/* A protected folio's mapping: the descriptor | FOLIO_MAPPING_KSM. */
#define FOLIO_MAPPING_KSM 0x3ul		/* ANON | 0x2, as the kernel's */
#define FOLIO_MAPPING_FLAGS 0x3ul

/* Sharers one descriptor holds; a merge past it refuses (-ENOSPC). */
#define WP_MAX_SHARERS 14

struct wp_sharer {
	struct address_space *mapping;	/* NULL: anon (every mm at index) */
	unsigned long index;		/* va (anon) or offset (file) */
};

struct wp_desc {
	unsigned int nr;
	struct wp_sharer s[WP_MAX_SHARERS];
	void *_free;			/* the slab's free pointer */
};

static inline bool mapping_is_ksm(const struct address_space *m)
{
	return ((uintptr_t)m & FOLIO_MAPPING_FLAGS) == FOLIO_MAPPING_KSM;
}
static inline struct wp_desc *mapping_wp_desc(const struct address_space *m)
{
	return (struct wp_desc *)((uintptr_t)m & ~FOLIO_MAPPING_FLAGS);
}
/*
 * Is @f write-protected (folio_test_ksm)?  A plain relaxed load, no
 * scheduling step: exact for a caller holding the folio lock (the tag
 * changes only under it) or owning the folio; a hint for anyone else,
 * who rechecks under the lock before acting on it.
 */
static inline bool folio_test_ksm(const struct folio *f)
{
	return mapping_is_ksm(fa_peek_relaxed(
		(_Atomic(struct address_space *) *)&f->mapping));
}
/* The descriptor of a protected folio (folio locked, or quiescent). */
static inline struct wp_desc *folio_wp_desc(const struct folio *f)
{
	return mapping_wp_desc(fa_peek_relaxed(
		(_Atomic(struct address_space *) *)&f->mapping));
}

/*
 * Merge @b into @a (write_protect_page + replace_page).  The caller holds
 * one reference on each.  Both must be order-0, anon, mapped, not
 * lazyfree and distinct; @a may already be protected, @b not.  Steps, each
 * under the entry's page-table lock:
 *   1. @a not yet protected: each entry mapping it is cleared (fully
 *      ordered), then its refcount read (fully ordered): a reference
 *      beyond its mappings and ours (a GUP-fast grab or pin, a store or a
 *      DMA in flight) -> the entry back as it was, -EBUSY.  This is the
 *      Dekker pair with GUP-fast's grab then recheck: either the grab
 *      sees the entry gone and lets go, or we see its reference.  Else
 *      the exclusive flag goes, then the entry comes back read-only;
 *      then @a's mapping becomes the descriptor;
 *   2. each entry mapping @b: cleared, @b's count checked the same way,
 *      the contents compared (both pages now have no writer) -> -ENOMSG
 *      if they differ; then @a gains a reference and a mapping, the entry
 *      names @a read-only, @b loses the mapping and (after the lock) the
 *      reference.
 * Returns the entries moved to @a (>= 1), or -EINVAL (not two such
 * folios), -EAGAIN (a folio lock was busy), -ENOMEM (no descriptor),
 * -EBUSY (a reference not accounted for), -ENOMSG (different contents),
 * -ENOSPC (@a's descriptor full).  On an error @b is untouched; @a may be
 * left protected (a merge that found @a's entries good and @b's not).
 */
int folio_write_protect_merge(struct folio *a, struct folio *b);

/*
 * Harness entry: merge the page mapped at @vb of @mb into the one mapped
 * at @va of @ma (each looked up and referenced as GUP-fast does).  Also
 * -EFAULT: nothing mapped at one of them, or a large folio there.
 */
int ksm_merge_pages(struct mm_struct *ma, unsigned long va,
		    struct mm_struct *mb, unsigned long vb);

/*
 * Folio locked: drop the sharers no mm maps any more; with one left, the
 * folio becomes a plain anon folio again (mapping: the first mm mapping
 * it; index: that address), its descriptor freed.  Gives up (keeps every
 * sharer) if a fork ran meanwhile in any mm (it may have copied an entry
 * into an mm already looked at).  Returns true if it unprotected @f.
 */
bool ksm_try_unprotect(struct folio *f);

/* The number of live descriptors (the checker's leak test). */
unsigned long wp_desc_nr_active(void);

#endif /* FOLIO_KSM_H */
