/* SPDX-License-Identifier: MIT */
/*
 * slab.c - descriptor caches carved from simulated SLAB pages.
 *
 * One lock per cache; a slab is on its cache's partial list (free objects
 * left) or full list.  At most one empty slab is kept per cache; a further
 * empty slab leaves the cache at once and, for a SLAB_TYPESAFE_BY_RCU cache,
 * goes back to the page allocator only after a grace period:
 *
 *   reader (RCU)                      freer
 *   p = decode(word)                  last object of slab S freed
 *                                     S unlinked from the cache: no new
 *                                     allocations from it
 *   load p->_refcount   <- still S's  call_rcu(free S's page)
 *   memory, refcount 0: try_get fails ...grace period waits for reader...
 *   rcu_read_unlock                   page -> buddy, S's descriptor freed
 *
 * Objects themselves are reused at once (same cache, same type), which is
 * what the identity rechecks of docs/design.md 5.1 exist for.
 *
 * Bootstrap: the struct slab cache hosts each page's own descriptor as its
 * object 0, so allocating a page for it needs no other descriptor; the
 * page counts as empty when object 0 is its only object in use.
 *
 * Per-CPU sheaves (the kernel's percpu sheaves, SLUB's cpu slabs in
 * spirit): each CPU keeps up to SHEAF_CAP free objects of each cache in an
 * array, a LIFO: an object freed on a CPU is the next one that CPU
 * allocates, without the cache's lock.  An empty sheaf is refilled with
 * SHEAF_CAP / 2 objects under the cache lock, a full one gives half back.
 * Objects in a sheaf are free for their users (refcount 0, walks report
 * them free) but still count in their slab's inuse, so a slab page never
 * leaves while one of its objects sits in a sheaf, and its grace period
 * still starts only when the last object comes back to it.
 *
 *   stale reader (RCU)                freer and allocator, one CPU
 *   f = decode(word of pfn P)
 *                                     free folio f: P -> pcp, f -> sheaf
 *                                     alloc: gets f back (LIFO), and P too
 *   try_get(f) succeeds
 *   reload word(P) == word            the same descriptor at the same PFN:
 *                                     the reader holds the folio that now
 *                                     covers P, which is all a pfn get
 *                                     promises; every other lookup
 *                                     rechecks a slot or a PTE, not P
 *
 * Lock order: a cache's CPU lock -> its cache lock; any cache's locks ->
 * slab_cache's locks -> a page list's CPU lock -> zone lock.  Whoever
 * takes several CPUs' locks (shrink, stats, walk) takes them in CPU order.
 */
/* scheduled build: the caches' steps give the fuzzer no feedback */
#define FOLIO_SCHED_SITE_FLAGS FS_SITE_QUIET
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/debug.h"
#include "folio/mutant.h"
#include "folio/page_alloc.h"
#include "folio/percpu.h"
#include "folio/slab.h"
#include "folio/world.h"
#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define FOLIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FOLIO_ASAN 1
#endif
#endif
#ifdef FOLIO_ASAN
#include <sanitizer/asan_interface.h>
/* A page back in the buddy allocator must not be touched through a stale pointer. */
#define poison_page(p) ASAN_POISON_MEMORY_REGION((p), PAGE_SIZE)
#define unpoison_page(p) ASAN_UNPOISON_MEMORY_REGION((p), PAGE_SIZE)
#else
#define poison_page(p) ((void)(p))
#define unpoison_page(p) ((void)(p))
#endif

void page_poison(unsigned long pfn)
{
	poison_page(pfn_to_virt(pfn));
}

void page_unpoison(unsigned long pfn)
{
	unpoison_page(pfn_to_virt(pfn));
}

#define SLAB_MIN_EMPTY 1	/* empty slabs a cache keeps */
#define SLAB_MAX_CACHES 8
#define SHEAF_CAP 32		/* free objects a CPU keeps per cache */

/* One CPU's sheaf of one cache. */
struct kmem_cache_cpu {
	struct fl_lock lock;
	unsigned int nr;
	void *objs[SHEAF_CAP];
} __attribute__((aligned(64)));

struct kmem_cache {
	const char *name;
	size_t size;
	size_t freeptr_offset;
	unsigned int flags;
	unsigned int objs_per_slab;
	bool self_hosted;		/* the struct slab cache */
	/* the cache's slab lists (the kernel's per-node list_lock): taken
	 * per sheaf refill or flush, not per object */
	struct fl_lock lock;
	struct cds_list_head partial;
	struct cds_list_head full;
	unsigned long nr_slabs;
	unsigned long nr_active;
	unsigned long nr_empty;
	atomic_ulong nr_rcu_pending;
	struct kmem_cache_cpu cpu[FOLIO_NR_CPUS];
};

static struct kmem_cache caches[SLAB_MAX_CACHES];
static unsigned int nr_caches;
struct kmem_cache *slab_cache;

static void **freeptr(struct kmem_cache *c, void *obj)
{
	return (void **)((char *)obj + c->freeptr_offset);
}

struct slab *virt_to_slab(const void *obj)
{
	unsigned long pfn = virt_to_pfn(obj);
	memdesc_t w;

	if (pfn >= folio_nr_pages_total)
		return NULL;
	w = memmap_word_load_acquire(pfn);
	if (memdesc_type(w) != MEMDESC_SLAB)
		return NULL;
	return memdesc_ptr(w);
}

static unsigned int slab_base_inuse(struct kmem_cache *c)
{
	return c->self_hosted ? 1 : 0;
}

/* Build the free list of a fresh page; object 0 skipped if self-hosted. */
static void slab_carve(struct kmem_cache *c, struct slab *s, char *page)
{
	unsigned int first = slab_base_inuse(c);

	s->freelist = NULL;
	for (unsigned int i = c->objs_per_slab; i-- > first;) {
		void *obj = page + (size_t)i * c->size;

		*freeptr(c, obj) = s->freelist;
		s->freelist = obj;
	}
	s->inuse = first;
	s->objects = c->objs_per_slab;
}

/* Allocate and carve a new slab page for @c.  Called without c->lock. */
static struct slab *slab_new(struct kmem_cache *c)
{
	struct slab *s;
	long pfn;
	char *page;

	if (c->self_hosted) {
		/*
		 * Object 0 of the new page is its own descriptor.  Until the
		 * SLAB word is published the page reads as MISC: never a free
		 * block the buddy allocator could merge, never a folio.
		 */
		pfn = alloc_pages_desc(0, memdesc_encode(MEMDESC_MISC, NULL));
		if (pfn < 0)
			return NULL;
		page = pfn_to_virt((unsigned long)pfn);
		unpoison_page(page);
		memset(page, 0, PAGE_SIZE);
		s = (struct slab *)page;
	} else {
		s = kmem_cache_alloc(slab_cache);
		if (!s)
			return NULL;
		pfn = alloc_pages_desc(0, memdesc_encode(MEMDESC_MISC, NULL));
		if (pfn < 0) {
			kmem_cache_free(slab_cache, s);
			return NULL;
		}
		page = pfn_to_virt((unsigned long)pfn);
		unpoison_page(page);
		/*
		 * Zero: descriptors start with refcount 0.  No stale reader can
		 * see this memory: it came back from the buddy allocator, which
		 * for a typesafe cache happens only after a grace period.
		 */
		memset(page, 0, PAGE_SIZE);
	}
	s->cache = c;
	s->pfn = (unsigned long)pfn;
	CDS_INIT_LIST_HEAD(&s->list);
	slab_carve(c, s, page);
	/*
	 * Publish the page as SLAB last, with a release store: whoever
	 * decodes the word (kmem_cache_free, the checker) sees s initialised.
	 */
	memmap_word_store((unsigned long)pfn, memdesc_encode(MEMDESC_SLAB, s));
	return s;
}

/* Give a slab's page back.  For typesafe caches: after a grace period. */
static void slab_free_page_now(struct slab *s)
{
	struct kmem_cache *c = s->cache;
	unsigned long pfn = s->pfn;

	/*
	 * Poison before the free: once in the buddy allocator the page may be
	 * allocated (and unpoisoned) by another thread at once.
	 */
	poison_page(pfn_to_virt(pfn));
	free_pages_desc(pfn, 0);
	if (!c->self_hosted)	/* a self-hosted descriptor died with its page */
		kmem_cache_free(slab_cache, s);
}

static void slab_free_rcu(struct folio_rcu_head *h)
{
	struct slab *s = caa_container_of(h, struct slab, rcu);
	struct kmem_cache *c = s->cache;

	slab_free_page_now(s);
	atomic_fetch_sub_explicit(&c->nr_rcu_pending, 1, memory_order_relaxed);
}

static void slab_discard(struct slab *s)
{
	struct kmem_cache *c = s->cache;

	if ((c->flags & SLAB_TYPESAFE_BY_RCU) &&
	    !FOLIO_MUTANT_IS(slab_no_grace)) {
		atomic_fetch_add_explicit(&c->nr_rcu_pending, 1,
					  memory_order_relaxed);
		call_rcu_model(&s->rcu, slab_free_rcu);
	} else {
		slab_free_page_now(s);
	}
}

/* One object off the cache's slabs, or NULL if none is free.  c->lock. */
static void *slab_take(struct kmem_cache *c)
{
	struct slab *s;
	void *obj;

	if (cds_list_empty(&c->partial))
		return NULL;
	s = cds_list_entry(c->partial.next, struct slab, list);
	if (s->inuse == slab_base_inuse(c))
		c->nr_empty--;
	obj = s->freelist;
	s->freelist = *freeptr(c, obj);
	*freeptr(c, obj) = NULL;
	s->inuse++;
	c->nr_active++;
	if (s->inuse == s->objects)
		cds_list_move(&s->list, &c->full);
	return obj;
}

/* Put @obj back on its slab; returns the slab if it must leave.  c->lock. */
static struct slab *slab_put(struct kmem_cache *c, void *obj)
{
	struct slab *s = virt_to_slab(obj);

	if (s->inuse == s->objects)
		cds_list_move(&s->list, &c->partial);
	*freeptr(c, obj) = s->freelist;
	s->freelist = obj;
	s->inuse--;
	c->nr_active--;
	if (s->inuse == slab_base_inuse(c)) {
		if (c->nr_empty >= SLAB_MIN_EMPTY) {
			cds_list_del(&s->list);
			c->nr_slabs--;
			return s;
		}
		c->nr_empty++;
	}
	return NULL;
}

/* Fill an empty sheaf with up to SHEAF_CAP / 2 objects.  cc->lock held. */
static void sheaf_refill(struct kmem_cache *c, struct kmem_cache_cpu *cc)
{
	struct slab *s;
	void *obj;

	fl_lock(&c->lock);
	while (cc->nr < SHEAF_CAP / 2) {
		obj = slab_take(c);
		if (obj) {
			cc->objs[cc->nr++] = obj;
			continue;
		}
		if (cc->nr)
			break;
		/* a new slab: allocated without c->lock (it may take
		 * slab_cache's and the page lists' locks) */
		fl_unlock(&c->lock);
		s = slab_new(c);
		fl_lock(&c->lock);
		if (!s)
			break;
		cds_list_add(&s->list, &c->partial);
		c->nr_slabs++;
		c->nr_empty++;
	}
	fl_unlock(&c->lock);
}

/*
 * Give the oldest @n objects of a sheaf back to their slabs; the slabs
 * that must leave go to @gone (given back by the caller, without locks).
 * cc->lock held.
 */
static unsigned int sheaf_flush(struct kmem_cache *c, struct kmem_cache_cpu *cc,
				unsigned int n, struct slab **gone)
{
	unsigned int ngone = 0;

	fl_lock(&c->lock);
	for (unsigned int i = 0; i < n; i++) {
		struct slab *s = slab_put(c, cc->objs[i]);

		if (s)
			gone[ngone++] = s;
	}
	fl_unlock(&c->lock);
	memmove(cc->objs, cc->objs + n, (cc->nr - n) * sizeof(cc->objs[0]));
	cc->nr -= n;
	return ngone;
}

/*
 *   this thread                       another thread
 *   cc = sheaf of CPU 0
 *   (migrates to CPU 1)               runs on CPU 0: kmem_cache_free
 *   lock cc   <- waits for it         lock cc, push, unlock
 *
 * The sheaf's lock makes a stale CPU number harmless, as pcp_alloc's does.
 */
void *kmem_cache_alloc(struct kmem_cache *c)
{
	struct kmem_cache_cpu *cc = &c->cpu[folio_this_cpu()];
	void *obj = NULL;

	fl_lock_local(&cc->lock);
	if (!cc->nr)
		sheaf_refill(c, cc);
	if (cc->nr)
		obj = cc->objs[--cc->nr];
	fl_unlock_local(&cc->lock);
	return obj;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct slab *s = virt_to_slab(obj), *gone[SHEAF_CAP / 2];
	struct kmem_cache_cpu *cc;
	unsigned int ngone = 0;

	VM_BUG_ON(!s || s->cache != c);
	VM_BUG_ON(((char *)obj - (char *)pfn_to_virt(s->pfn)) % c->size);
	cc = &c->cpu[folio_this_cpu()];
	fl_lock_local(&cc->lock);
	if (cc->nr == SHEAF_CAP)
		ngone = sheaf_flush(c, cc, SHEAF_CAP / 2, gone);
	cc->objs[cc->nr++] = obj;
	fl_unlock_local(&cc->lock);
	for (unsigned int i = 0; i < ngone; i++)
		slab_discard(gone[i]);
}

static void sheaves_lock_all(struct kmem_cache *c, unsigned int n)
{
	for (unsigned int cpu = 0; cpu < n; cpu++)
		fl_lock_local(&c->cpu[cpu].lock);
}

static void sheaves_unlock_all(struct kmem_cache *c, unsigned int n)
{
	for (unsigned int cpu = n; cpu-- > 0;)
		fl_unlock_local(&c->cpu[cpu].lock);
}

/* Every CPU's sheaf of @c back to the slabs. */
static void sheaves_drain(struct kmem_cache *c)
{
	struct slab *gone[SHEAF_CAP];
	unsigned int n = folio_nr_cpu_ids(), ngone;

	for (unsigned int cpu = 0; cpu < n; cpu++) {
		struct kmem_cache_cpu *cc = &c->cpu[cpu];

		fl_lock_local(&cc->lock);
		ngone = sheaf_flush(c, cc, cc->nr, gone);
		fl_unlock_local(&cc->lock);
		for (unsigned int i = 0; i < ngone; i++)
			slab_discard(gone[i]);
	}
}

void kmem_cache_shrink(struct kmem_cache *c)
{
	struct slab *s, *tmp;
	struct cds_list_head gone;

	sheaves_drain(c);
	CDS_INIT_LIST_HEAD(&gone);
	fl_lock(&c->lock);
	cds_list_for_each_entry_safe(s, tmp, &c->partial, list) {
		if (s->inuse == slab_base_inuse(c)) {
			cds_list_move(&s->list, &gone);
			c->nr_slabs--;
			c->nr_empty--;
		}
	}
	fl_unlock(&c->lock);
	cds_list_for_each_entry_safe(s, tmp, &gone, list)
		slab_discard(s);
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t freeptr_offset, size_t protect_lo,
				     size_t protect_hi, unsigned int flags)
{
	struct kmem_cache *c;

	size = (size + 15) & ~(size_t)15;
	if (size > PAGE_SIZE / 2 || freeptr_offset + sizeof(void *) > size)
		return NULL;
	/* The free pointer must not overlay the refcount or identity. */
	if (freeptr_offset + sizeof(void *) > protect_lo &&
	    freeptr_offset < protect_hi)
		return NULL;
	if (nr_caches == SLAB_MAX_CACHES)
		return NULL;
	c = &caches[nr_caches++];
	/*
	 * Not the sheaves: static storage starts them empty with free locks
	 * (zero bytes are an unlocked mutex on glibc and a free scheduler
	 * lock), and kmem_cache_destroy leaves them so, drained.  Resetting
	 * 64 of them per cache would be most of a fuzz input's set-up.
	 */
	memset(c, 0, offsetof(struct kmem_cache, cpu));
	c->name = name;
	c->size = size;
	c->freeptr_offset = freeptr_offset;
	c->flags = flags;
	c->objs_per_slab = PAGE_SIZE / size;
	fl_init(&c->lock);
	CDS_INIT_LIST_HEAD(&c->partial);
	CDS_INIT_LIST_HEAD(&c->full);
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	kmem_cache_shrink(c);	/* drains the sheaves too */
	fl_destroy(&c->lock);
}

void kmem_cache_get_stats(struct kmem_cache *c, struct kmem_cache_stats *st)
{
	unsigned int n = folio_nr_cpu_ids();

	sheaves_lock_all(c, n);
	fl_lock(&c->lock);
	st->nr_slabs = c->nr_slabs;
	st->nr_objs = c->nr_slabs * c->objs_per_slab;
	st->nr_active = c->nr_active;	/* sheaves' objects: in use by the slabs */
	fl_unlock(&c->lock);
	st->nr_cached = 0;
	for (unsigned int cpu = 0; cpu < n; cpu++)
		st->nr_cached += c->cpu[cpu].nr;
	st->nr_active -= st->nr_cached;
	sheaves_unlock_all(c, n);
	st->nr_rcu_pending =
		atomic_load_explicit(&c->nr_rcu_pending, memory_order_relaxed);
}

struct sheaf_set {
	void **objs;		/* every sheaf's objects */
	size_t n;
	bool sorted;		/* by address (many objects): binary search */
};

/* Mark the sheaf objects inside @s's page; -EFAULT if one is already free. */
static int mark_sheaf_objs(struct kmem_cache *c, struct slab *s,
			   const struct sheaf_set *set, unsigned char *is_free)
{
	char *page = pfn_to_virt(s->pfn);
	size_t lo = 0, hi = set->n;

	while (set->sorted && lo < hi) {	/* the first object in the page */
		size_t mid = (lo + hi) / 2;

		if ((char *)set->objs[mid] < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < set->n; lo++) {
		char *obj = set->objs[lo];
		size_t i;

		if (obj < page || obj >= page + PAGE_SIZE) {
			if (set->sorted && obj >= page)
				break;
			continue;
		}
		i = (size_t)(obj - page) / c->size;
		if (i >= s->objects || is_free[i])
			return -EFAULT;	/* in a sheaf twice, or also on the free list */
		is_free[i] = 1;
	}
	return 0;
}

static int walk_slab(struct kmem_cache *c, struct slab *s,
		     const struct sheaf_set *set,
		     int (*fn)(void *, bool, void *), void *ctx)
{
	unsigned char is_free[PAGE_SIZE / 16];
	char *page = pfn_to_virt(s->pfn);
	unsigned int n = 0;
	int ret;

	memset(is_free, 0, sizeof(is_free));
	for (void *p = s->freelist; p; p = *freeptr(c, p)) {
		size_t i = (size_t)((char *)p - page) / c->size;

		if (i >= s->objects || n++ > s->objects)
			return -EFAULT;	/* corrupt free list */
		is_free[i] = 1;
	}
	if (mark_sheaf_objs(c, s, set, is_free))
		return -EFAULT;
	for (unsigned int i = slab_base_inuse(c); i < s->objects; i++) {
		ret = fn(page + (size_t)i * c->size, is_free[i], ctx);
		if (ret)
			return ret;
	}
	return 0;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

int kmem_cache_walk(struct kmem_cache *c, int (*fn)(void *, bool, void *),
		    void *ctx)
{
	unsigned int ncpu = folio_nr_cpu_ids();
	void *few[4 * SHEAF_CAP];	/* the common case: a CPU or a few */
	void **objs = ncpu <= 4 ? few : malloc(ncpu * SHEAF_CAP * sizeof(*objs));
	struct sheaf_set set = { .objs = objs };
	struct slab *s;
	int ret = 0;

	if (!objs)
		return -ENOMEM;
	sheaves_lock_all(c, ncpu);
	for (unsigned int cpu = 0; cpu < ncpu; cpu++)
		for (unsigned int i = 0; i < c->cpu[cpu].nr; i++)
			objs[set.n++] = c->cpu[cpu].objs[i];
	/* a linear look per slab is cheaper than sorting a few dozen */
	if (set.n > 2 * SHEAF_CAP) {
		qsort(objs, set.n, sizeof(objs[0]), ptr_cmp);
		set.sorted = true;
	}
	fl_lock(&c->lock);
	cds_list_for_each_entry(s, &c->partial, list)
		if ((ret = walk_slab(c, s, &set, fn, ctx)))
			goto out;
	cds_list_for_each_entry(s, &c->full, list)
		if ((ret = walk_slab(c, s, &set, fn, ctx)))
			goto out;
out:
	fl_unlock(&c->lock);
	sheaves_unlock_all(c, ncpu);
	if (objs != few)
		free(objs);
	return ret;
}

bool kmem_cache_owns(struct kmem_cache *c, const void *obj)
{
	struct slab *s;

	if ((const char *)obj < (const char *)folio_world.membase)
		return false;
	s = virt_to_slab(obj);
	return s && s->cache == c &&
	       ((const char *)obj - (const char *)pfn_to_virt(s->pfn)) %
			       c->size == 0;
}

int slab_debug_name(const void *addr, char *buf, size_t n)
{
	struct ptdesc *pt;

	for (unsigned int i = 0; i < nr_caches; i++) {
		if (addr == &caches[i].lock) {
			snprintf(buf, n, "slab:%s.lock", caches[i].name);
			return 1;
		}
		for (unsigned int cpu = 0; cpu < FOLIO_NR_CPUS; cpu++)
			if (addr == &caches[i].cpu[cpu].lock) {
				snprintf(buf, n, "slab:%s.cpu[%u].lock",
					 caches[i].name, cpu);
				return 1;
			}
	}
	pt = ptdesc_cache ? kmem_cache_object_at(ptdesc_cache, addr) : NULL;
	if (pt && addr == &pt->ptl) {
		snprintf(buf, n, "ptl(table %lu)", pt->pfn);
		return 1;
	}
	return 0;
}

void *kmem_cache_object_at(struct kmem_cache *c, const void *addr)
{
	const char *page;
	struct slab *s;
	size_t off;

	if (!folio_world.membase || (const char *)addr < (const char *)folio_world.membase)
		return NULL;
	s = virt_to_slab(addr);
	if (!s || s->cache != c)
		return NULL;
	page = pfn_to_virt(s->pfn);
	off = (size_t)((const char *)addr - page);
	if (off / c->size >= c->objs_per_slab)
		return NULL;
	return (void *)(page + off - off % c->size);
}

unsigned long slab_nr_pages(void)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < nr_caches; i++) {
		fl_lock(&caches[i].lock);
		n += caches[i].nr_slabs;
		fl_unlock(&caches[i].lock);
		n += atomic_load_explicit(&caches[i].nr_rcu_pending,
					  memory_order_relaxed);
	}
	return n;
}

int slab_init(void)
{
	nr_caches = 0;
	slab_cache = kmem_cache_create("slab", sizeof(struct slab),
				       offsetof(struct slab, freelist), 0, 0, 0);
	if (!slab_cache)
		return -ENOMEM;
	slab_cache->self_hosted = true;
	return 0;
}

void slab_destroy(void)
{
	for (unsigned int i = nr_caches; i-- > 0;)
		kmem_cache_destroy(&caches[i]);
	nr_caches = 0;
	slab_cache = NULL;
}
