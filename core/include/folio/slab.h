/* SPDX-License-Identifier: MIT */
/*
 * folio/slab.h - descriptor caches carved from simulated SLAB pages.
 *
 * SLAB_TYPESAFE_BY_RCU semantics (include/linux/slab.h): a freed object may
 * be handed out again at once, but only by the same cache, i.e. only as the
 * same type; the cache's pages go back to the page allocator only after an
 * RCU grace period.  So a reader inside rcu_read_lock() that holds a stale
 * descriptor pointer always points at a descriptor of the right type, whose
 * refcount is 0 (free) or belongs to its new owner; it must take a
 * reference and then recheck identity.
 *
 * The free-list link lives at @freeptr_offset, which must not overlay the
 * refcount or the identity fields (kmem_cache_create() checks the range
 * given by the caller).
 *
 * Each slab page's memmap word is SLAB|struct slab *.  struct slab objects
 * come from their own cache, whose pages host their own descriptor as
 * object 0 (the bootstrap): such a page counts as empty when object 0 is
 * its only object in use.
 */
#ifndef FOLIO_SLAB_H
#define FOLIO_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#define SLAB_TYPESAFE_BY_RCU 0x1u

struct kmem_cache;

struct kmem_cache_stats {
	unsigned long nr_slabs;        /* pages carved for this cache */
	unsigned long nr_objs;         /* objects those pages hold */
	unsigned long nr_active;       /* objects handed out */
	unsigned long nr_cached;       /* free objects in CPU sheaves */
	unsigned long nr_rcu_pending;  /* empty slabs waiting for a grace period */
};

/*
 * Create a cache.  @size is rounded up to 16.  The free pointer is stored at
 * @freeptr_offset; [@protect_lo, @protect_hi) is the range it must not
 * overlay (refcount and identity fields), checked at creation.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t freeptr_offset, size_t protect_lo,
				     size_t protect_hi, unsigned int flags);
void kmem_cache_destroy(struct kmem_cache *cache);

void *kmem_cache_alloc(struct kmem_cache *cache);
void kmem_cache_free(struct kmem_cache *cache, void *obj);
/* Release every empty slab (typesafe caches: after a grace period). */
void kmem_cache_shrink(struct kmem_cache *cache);
void kmem_cache_get_stats(struct kmem_cache *cache, struct kmem_cache_stats *st);

/*
 * Walk every object of every slab, with whether it is on a free list.
 * Quiescent use only (the checker).  Stops early when @fn returns non-zero,
 * and returns that value.
 */
int kmem_cache_walk(struct kmem_cache *cache,
		    int (*fn)(void *obj, bool free, void *ctx), void *ctx);

/* Does @obj lie in a slab page of @cache (a pointer sanity check)? */
bool kmem_cache_owns(struct kmem_cache *cache, const void *obj);
/* The object of @cache whose bytes hold @addr, or NULL (debug: reports). */
void *kmem_cache_object_at(struct kmem_cache *cache, const void *addr);

#endif /* FOLIO_SLAB_H */
