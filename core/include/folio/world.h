/* SPDX-License-Identifier: MIT */
/*
 * folio/world.h - one model instance: its simulated memory, memmap,
 * allocator, descriptor caches and files.  One world per process at a time
 * (the kernel has one memmap too); fuzzers create and destroy one per input.
 */
#ifndef FOLIO_WORLD_H
#define FOLIO_WORLD_H

#include <stdio.h>

#include "folio/slab.h"

struct folio_config {
	unsigned long nr_pages;	/* simulated PFNs, 16 .. FOLIO_MAX_NR_PAGES */
	unsigned int pmd_order;	/* PMD_ORDER for page tables (part II); 0 = 9 */
};

struct folio_world_stats {
	unsigned long nr_pages;
	unsigned long free_pages;
	unsigned long slab_pages;	/* pages carved for descriptor caches */
	struct kmem_cache_stats folio_cache;	/* order 0 */
	struct kmem_cache_stats large_folio_cache; /* order > 0 */
	struct kmem_cache_stats slab_cache;
};

/* Returns 0, -EINVAL for a bad config, -ENOMEM, or -EBUSY if one exists. */
int folio_world_init(const struct folio_config *cfg);

/*
 * Tear down.  Every file must be destroyed and every folio freed first.
 * Shrinks the caches, waits for RCU callbacks (rcu_barrier) and checks that
 * every page and descriptor came back.  Returns the number of leaked pages
 * and descriptors (0 = clean), printing what leaked to @report if non-NULL.
 */
unsigned long folio_world_destroy(FILE *report);

void folio_world_get_stats(struct folio_world_stats *st);

/* The descriptor caches, for the checker and tests. */
extern struct kmem_cache *folio_cache;		/* struct folio, order 0 */
extern struct kmem_cache *large_folio_cache;	/* struct large_folio */
extern struct kmem_cache *slab_cache;

#endif /* FOLIO_WORLD_H */
