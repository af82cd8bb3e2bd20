/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - move a folio to new pages (docs/design.md 5.14).  Steps and
 * the races they close:
 *   1. pre-check refcount - 1 == folio_expected_ref_count: a pin (DMA may
 *      be writing) or another reference fails early (-EAGAIN);
 *   2. allocate the new folio and lock it (its memmap words are published
 *      at allocation: a pfn getter may already hold it; it finds it
 *      locked, unmapped and out of any cache, and lets go);
 *   3. unmap every mapping to migration entries (they hold no reference;
 *      GUP-fast and faults see nothing present, fork waits for them, a
 *      zap just clears them) (RP_MIGRATE_UNMAPPED);
 *   4. freeze at the expected count (page cache + ours) under the file's
 *      i_pages lock (file: the slot must still be ours) or the
 *      deferred-split lock (anon: the scanner isolates under it, R7): a
 *      speculative reference taken before makes it fail (R1): remap the
 *      old folio, -EAGAIN; dequeue it from the deferred-split queue while
 *      frozen (the scanner then cannot meet it);
 *   5. copy the data and the flags; page cache: the
 *      new folio gets the cache's references, then every slot (release),
 *      while the old one stays frozen: a lookup that loaded the old slot
 *      fails its try_get and retries onto the new folio (R1/R5); the old
 *      one loses its mapping; unfreeze it to our one reference;
 *   6. restore the migration entries as PTEs of the new folio's pages;
 *      queue the new folio if the old one was queued and it is still
 *      mapped in part;
 *   7. unlock the new folio and drop our reference to it; unlock the old
 *      one and put it: freed with the last reference (a speculative
 *      getter may hold it a moment longer: an unmapped, uncached folio).
 */
#include <errno.h>

#include "folio/filemap.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/migrate.h"
#include "folio/page_data.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

extern struct fl_lock deferred_split_lock;
void deferred_split_dequeue_locked(struct folio *f);

int migrate_folio(struct folio *f)
{
	unsigned int order = folio_order(f);
	unsigned long nr = 1ul << order, pfn = folio_pfn(f);
	unsigned long index = folio_index(f), keep;
	bool anon = folio_test_anon(f), queued;
	struct address_space *mapping = folio_mapping(f);
	int cache = anon ? 0 : (int)nr;
	struct folio *n;

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	if (!anon && !mapping)
		return -EBUSY;	/* truncated under us */
	/* 1 */
	if (folio_expected_ref_count(f) != folio_ref_count(f) - 1)
		return -EAGAIN;
	/* 2 */
	n = anon ? folio_alloc_anon(order) : folio_alloc(order);
	if (!n)
		return -ENOMEM;
	folio_lock(n);
	/* 3 */
	rmap_walk_range(mapping, index, pfn, nr, RMAP_MIGRATE);
	folio_race_point(RP_MIGRATE_UNMAPPED, f);
	/* 4 */
	if (!anon) {
		fl_lock(&mapping->i_pages_lock);
		if (fa_load_relaxed(&mapping->slots[index]) != f ||
		    !folio_ref_freeze(f, cache + 1)) {
			folio_window(FW_R1);
			fl_unlock(&mapping->i_pages_lock);
			goto fail;
		}
		queued = false;	/* file folios are never queued */
	} else {
		fl_lock(&deferred_split_lock);
		if (!folio_ref_freeze(f, 1)) {
			folio_window(FW_R1);
			fl_unlock(&deferred_split_lock);
			goto fail;
		}
		queued = folio_test_partially_mapped(f);
		deferred_split_dequeue_locked(f);
		fl_unlock(&deferred_split_lock);
	}
	/* 5: the data (frozen, unmapped, unpinned: nobody writes it now),
	 * then the flags (the unmap moved the entries' dirty bits to them) */
	copy_page_data(folio_pfn_plain(n), pfn, nr);
	keep = fa_load_relaxed(&f->flags) &
	       ((1ul << PG_dirty) | (1ul << PG_swapbacked) |
		(1ul << PG_anon_exclusive));
	/* exactly the old ones: a lazyfree folio stays lazyfree (the
	 * allocation set swapbacked on the new anon folio) */
	fa_and_relaxed(&n->flags, ~(1ul << PG_swapbacked));
	fa_or_relaxed(&n->flags, keep);
	fa_store_relaxed(&n->index, index);
	fa_store_relaxed(&n->mapping, mapping);
	if (!anon) {
		folio_ref_add(n, cache);	/* the cache's references first */
		for (unsigned long i = 0; i < nr; i++)
			fa_store_release(&mapping->slots[index + i], n);
		fa_store_relaxed(&f->mapping, NULL);
	} else if (mapping_is_ksm(mapping)) {
		/* the descriptor moves to the new folio: the old one must not
		 * free it with its last reference (both are locked by us) */
		fa_store_relaxed(&f->mapping, NULL);
	}
	folio_race_point(RP_MIGRATE_FROZEN, f);
	folio_ref_unfreeze(f, 1);	/* ours alone: no slot names it now */
	if (!anon)
		fl_unlock(&mapping->i_pages_lock);
	/* 6 */
	rmap_walk_remap_to(mapping, index, pfn, nr, n);
	if (queued)
		folio_unmap_maybe_queue(n, folio_mapcount(n), 1);
	/* 7 */
	folio_unlock(n);
	folio_put(n);
	folio_unlock(f);
	folio_put(f);
	return 0;

fail:
	rmap_walk_range(mapping, index, pfn, nr, RMAP_REMAP);
	folio_unlock(n);
	folio_put(n);
	return -EAGAIN;
}
