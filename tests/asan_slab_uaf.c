/* SPDX-License-Identifier: MIT */
/*
 * asan_slab_uaf.c - a planted bug ASan must report (asan preset only).
 *
 * TYPESAFE_BY_RCU lets a stale descriptor pointer be dereferenced only
 * inside the RCU read-side section that found it.  Here a reader keeps the
 * pointer past its section; the slab page empties, goes back to the buddy
 * allocator after the grace period, and is poisoned (slab.c).  The stale
 * read must be reported as use-after-poison: the model's memory safety is
 * really checked, not assumed.
 */
#include "ft_world.h"

int main(void)
{
	struct folio_config cfg = { .nr_pages = 1024 };
	struct folio *f, *stale;

	folio_thread_online();
	if (folio_world_init(&cfg))
		return 2;
	f = folio_alloc(0);
	rcu_read_lock_model();
	stale = pfn_folio(folio_pfn(f));	/* found under RCU ... */
	rcu_read_unlock_model();		/* ... and kept past it: the bug */
	folio_put(f);
	kmem_cache_shrink(folio_cache);		/* the emptied slab leaves */
	rcu_barrier_model();			/* grace period: page -> buddy */
	printf("stale refcount read: %d\n", folio_ref_count(stale));
	return 0;	/* not reached under ASan */
}
