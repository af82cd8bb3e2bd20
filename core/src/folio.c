/* SPDX-License-Identifier: MIT */
/*
 * folio.c - folio allocation, free, and the lockless get by PFN.
 *
 * folio_alloc is two allocations (FolioAlloc in the memdesc plan):
 *   1. a descriptor from folio_cache (order 0) or large_folio_cache
 *      (TYPESAFE_BY_RCU: it may have been a different folio a moment ago,
 *      and stale readers may still hold it);
 *   2. 2^order pages whose memmap words point at it;
 * then every field is set and the count is published with a release store
 * of 1, last.  A stale reader's try_get fails until that store, and after it
 * the acquire in its successful try_get shows it the new fields.
 *
 * Free is the reverse, and the order matters:
 *   1. pages back to the buddy allocator (their words become BUDDY);
 *   2. then the descriptor back to its cache, reusable at once.
 * Race closed (R5 on the memmap): if the descriptor were freed first and
 * reused for a folio elsewhere while the old pages still pointed at it, a
 * reader of an old PFN would take a reference, reload the word, find it
 * unchanged, and wrongly conclude it holds the folio covering that PFN.
 */
#include "folio/folio.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/page_alloc.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "folio/window.h"
#include "internal.h"

struct kmem_cache *folio_cache;		/* order 0: struct folio */
struct kmem_cache *large_folio_cache;	/* order > 0: struct large_folio */

/* The cache of @f's descriptor.  @f is ours alone (allocating or freeing). */
static struct kmem_cache *desc_cache(const struct folio *f)
{
	/* plain load: no one else writes the flags of an unowned folio */
	unsigned long flags = fa_peek_relaxed(
		(_Atomic unsigned long *)&f->flags);

	return flags & (1ul << PG_large_desc) ? large_folio_cache : folio_cache;
}

static struct folio *folio_alloc_type(enum memdesc_type type,
				      unsigned int order)
{
	struct kmem_cache *cache = order ? large_folio_cache : folio_cache;
	unsigned long flags = order ? 1ul << PG_large_desc : 0ul;
	struct folio *f;
	long pfn;

	if (order > MAX_PAGE_ORDER)
		return NULL;
	f = kmem_cache_alloc(cache);
	if (!f)
		return NULL;
	/* Free descriptors keep refcount 0 (I-free); stale try_gets fail. */
	VM_BUG_ON_FOLIO(folio_ref_count(f) != 0, f);
	if (type == MEMDESC_ANON)
		flags |= (1ul << PG_anon) | (1ul << PG_swapbacked);
	/* Atomic stores: a stale reader may load any of these right now. */
	fa_store_relaxed(&f->flags, flags);
	fa_store_relaxed(&f->_mapcount, 0);
	if (order) {
		struct large_folio *lf = large_folio_desc(f);

		fa_store_relaxed(&lf->_entire_mapcount, 0);
		fa_store_relaxed(&lf->_pincount, 0);
		CDS_INIT_LIST_HEAD(&lf->_deferred_list);
	}
	fa_store_relaxed(&f->mapping, NULL);
	fa_store_relaxed(&f->index, 0ul);
	/* order > 0 only ever in large_folio_cache: see struct large_folio */
	fa_store_relaxed(&f->order, order);
	/* the slab's free pointer was here; no one reads it before publish */
	f->_lock_waiters = NULL;

	pfn = alloc_pages_desc(order, memdesc_encode(type, f));
	if (pfn < 0) {
		kmem_cache_free(cache, f);
		return NULL;
	}
	fa_store_relaxed(&f->pfn, (unsigned int)pfn);
	/* Publish: pairs with the acquire of every later successful try_get. */
	folio_set_count_release(f, 1);
	return f;
}

struct folio *folio_alloc(unsigned int order)
{
	return folio_alloc_type(MEMDESC_FILE, order);
}

struct folio *folio_alloc_anon(unsigned int order)
{
	return folio_alloc_type(MEMDESC_ANON, order);
}

void __folio_put(struct folio *f)
{
	struct kmem_cache *cache;
	unsigned long pfn;
	unsigned int order;

	/* A-free (page_alloc.c free checks): nothing may still use it. */
	VM_BUG_ON_FOLIO(folio_ref_count(f) != 0, f);
	VM_BUG_ON_FOLIO(folio_mapcount(f) != 0, f);
	VM_BUG_ON_FOLIO(folio_entire_mapcount(f) != 0, f);
	VM_BUG_ON_FOLIO(folio_pincount(f) != 0, f);
	VM_BUG_ON_FOLIO(folio_test_locked(f), f);
	/* lock waiters hold references: none can be queued on a dying folio */
	VM_BUG_ON_FOLIO(folio_lock_waiters_linked(f), f);
	VM_BUG_ON_FOLIO(!folio_test_anon(f) && folio_mapping(f), f);
	folio_race_point(RP_FOLIO_FREEING, f);
	/* the queue holds no reference: the freer takes the folio off (R6) */
	folio_unqueue_deferred_split(f);
	VM_BUG_ON_FOLIO(folio_large_fields(f) &&
			!cds_list_empty(&folio_large(f)->_deferred_list), f);

	/* one statement each: argument order differs between compilers, and
	 * each read is a step of the scheduled build (same trace everywhere) */
	pfn = folio_pfn(f);
	order = folio_order(f);
	free_pages_desc(pfn, order);
	cache = desc_cache(f);
	/* a protected folio's descriptor goes with it (the last reference:
	 * nobody else reads the mapping now) */
	if (folio_test_ksm(f))
		wp_desc_free(folio_wp_desc(f));
	/* Anon mapping is reset at free (free_pages_prepare). */
	fa_store_relaxed(&f->mapping, NULL);
	fa_store_relaxed(&f->flags, 0ul);
	kmem_cache_free(cache, f);
}

/*
 * gup.c's try_get_folio on a memdesc memmap.  Caller: rcu_read_lock held,
 * so the descriptor memory stays a folio descriptor (TYPESAFE_BY_RCU).
 *
 *   reader                          other threads
 *   w = word(pfn); f = ptr(w)
 *                                   free f (pages -> BUDDY, desc -> cache)
 *                                   reuse desc as f' elsewhere, count = 1
 *   try_add(f) succeeds on f'
 *   reload word(pfn) != w    ->     put and retry (sees BUDDY or new owner)
 *
 * The reload is ordered after the fully ordered try_add; the try_add's
 * acquire reads from f''s publishing release, which came after the old
 * pages' BUDDY stores (zone lock), so the reload cannot see the old word.
 */
struct folio *folio_try_get_pfn(unsigned long pfn, int refs)
{
	memdesc_t w;
	struct folio *f;

	if (pfn >= folio_nr_pages_total)
		return NULL;
retry:
	w = memmap_word_load(pfn);
	if (!memdesc_is_folio(w))
		return NULL;
	f = memdesc_ptr(w);
	folio_race_point(RP_TRY_GET_PFN_DECODED, f);
	if (!folio_ref_try_add(f, refs))
		return NULL;	/* free or frozen: caller falls back */
	folio_race_point(RP_TRY_GET_PFN_GOT, f);
	if (memmap_word_load(pfn) != w) {
		folio_window(FW_R5);
		folio_put_refs(f, refs);
		goto retry;
	}
	VM_BUG_ON_FOLIO(!folio_has_pfn(f, pfn), f);
	return f;
}
