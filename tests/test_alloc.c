/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.c - memmap, buddy allocator, descriptor caches, folio_alloc.
 * Run: build/<preset>/tests/test_alloc
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "folio/debug.h"
#include "folio/huge_memory.h"
#include "ft_world.h"
#include "../core/src/internal.h"	/* test-only: struct slab, buddy walk */

/* page_alloc.c's BUDDY word layout (test-only copy, as test_percpu's) */
#define BUDDY_ORDER_SHIFT 4
#define BUDDY_NEXT_SHIFT 9
#define BUDDY_PFN_MASK ((1ull << 27) - 1)
#define BUDDY_PCP (1ull << 63)

#define NR 4096

static void test_alloc_every_order(void)
{
	ft_world_up(NR);
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		struct folio *f = folio_alloc(order);
		unsigned long pfn;

		CHECK(f != NULL);
		if (!f)
			continue;
		pfn = folio_pfn(f);
		CHECK_EQ(folio_order(f), order);
		CHECK_EQ(pfn & ((1ul << order) - 1), 0);	/* naturally aligned */
		CHECK_EQ(folio_ref_count(f), 1);
		CHECK_EQ(folio_mapcount(f), 0);
		CHECK(!folio_test_anon(f) && !folio_test_locked(f));
		CHECK(folio_mapping(f) == NULL);
		/* every page points at the one descriptor: no head/tail pages */
		for (unsigned long i = 0; i < folio_nr_pages(f); i++) {
			memdesc_t w = memmap_word_load(pfn + i);

			CHECK_EQ(memdesc_type(w), MEMDESC_FILE);
			CHECK(memdesc_ptr(w) == f);
			CHECK(pfn_folio(pfn + i) == f);
		}
		CHECK_EQ((uintptr_t)f & 15, 0);
		CHECK_EQ(ft_check(&(struct folio_held){ f, 1, 0 }, 1, NULL), 0);
		folio_put(f);
		for (unsigned long i = 0; i < (1ul << order); i++)
			CHECK_EQ(memdesc_type(memmap_word_load(pfn + i)),
				 MEMDESC_BUDDY);
	}
	ft_world_down();
}

static void test_alloc_anon(void)
{
	struct folio *f;

	ft_world_up(NR);
	f = folio_alloc_anon(2);
	CHECK(f && folio_test_anon(f) && folio_test_swapbacked(f));
	CHECK_EQ(memdesc_type(memmap_word_load(folio_pfn(f))), MEMDESC_ANON);
	folio_put(f);
	ft_world_down();
}

static void test_alloc_bad_order_and_exhaustion(void)
{
	struct folio *fs[NR];
	unsigned long n = 0, free_before;

	ft_world_up(NR);
	CHECK(folio_alloc(MAX_PAGE_ORDER + 1) == NULL);
	free_before = nr_free_pages();
	while (n < NR && (fs[n] = folio_alloc(0)) != NULL)
		n++;
	/* memory ran out: every page is a folio page or a slab page */
	CHECK(n > NR / 2 && n < NR);
	CHECK_EQ(nr_free_pages(), 0);
	CHECK(folio_alloc(0) == NULL);
	CHECK_EQ(folio_check_quiescent(NULL, NULL), n); /* n unrecorded refs */
	while (n)
		folio_put(fs[--n]);
	rcu_barrier_model();	/* emptied typesafe slabs come back after a GP */
	kmem_cache_shrink(folio_cache);
	rcu_barrier_model();
	kmem_cache_shrink(slab_cache);
	rcu_barrier_model();
	drain_all_pages();	/* the CPU lists' blocks merge in the zone */
	/* buddy merged everything back: one block per max order */
	unsigned long counts[NR_PAGE_ORDERS];

	buddy_free_counts(counts);
	CHECK_EQ(nr_free_pages(), NR);
	CHECK_EQ(counts[MAX_PAGE_ORDER], NR >> MAX_PAGE_ORDER);
	CHECK(free_before <= NR);
	ft_world_down();
}

/* TYPESAFE_BY_RCU: a freed descriptor is reused at once, same cache only. */
static void test_descriptor_reuse_same_type(void)
{
	struct folio *a, *b;
	struct folio_world_stats st;

	ft_world_up(NR);
	a = folio_alloc(0);
	folio_put(a);
	CHECK_EQ(folio_ref_count(a), 0); /* freed descriptors keep refcount 0 */
	b = folio_alloc_anon(0);	/* any folio type reuses folio descriptors */
	CHECK(b == a);
	folio_world_get_stats(&st);
	CHECK_EQ(st.folio_cache.nr_active, 1);
	CHECK(st.slab_pages >= 2);	/* one folio slab, one slab-of-slabs */
	CHECK(kmem_cache_owns(folio_cache, b));
	CHECK(!kmem_cache_owns(slab_cache, b));
	/* descriptors live in simulated SLAB pages */
	CHECK_EQ(memdesc_type(memmap_word_load(virt_to_pfn(b))), MEMDESC_SLAB);
	folio_put(b);
	ft_world_down();
}

/*
 * Order-sized descriptors: order 0 from folio_cache (48 bytes), order > 0
 * from large_folio_cache (80); a large descriptor freed is reused by the
 * next large folio of any order.  A split keeps the first folio in its own
 * large descriptor at order 0 (its large fields read 0) and gives the other
 * order-0 folios small ones.
 */
static void test_descriptor_sizes_and_split(void)
{
	struct address_space *m;
	struct folio *a, *b, *g;
	struct folio_world_stats st;

	ft_world_up(NR);
	a = folio_alloc(2);
	CHECK(kmem_cache_owns(large_folio_cache, a));
	CHECK(folio_test_flag(a, PG_large_desc));
	folio_put(a);
	b = folio_alloc_anon(3);
	CHECK(b == a);			/* same cache, any large order */
	folio_put(b);
	a = folio_alloc(0);
	CHECK(kmem_cache_owns(folio_cache, a));
	CHECK(!folio_test_flag(a, PG_large_desc));
	folio_put(a);

	m = address_space_create(8);
	a = ft_cache_folio(m, 0, 2);
	CHECK(a != NULL);
	folio_get(a);
	folio_lock(a);
	CHECK_EQ(split_folio_to_order(a, 0), 0);
	CHECK_EQ(folio_order(a), 0);
	CHECK(kmem_cache_owns(large_folio_cache, a));	/* kept its own */
	CHECK_EQ(folio_entire_mapcount(a), 0);
	CHECK_EQ(folio_pincount(a), 0);
	CHECK(!folio_on_deferred_list(a));
	for (unsigned long i = 1; i < 4; i++) {
		g = pfn_folio(folio_pfn(a) + i);
		CHECK(g && g != a && kmem_cache_owns(folio_cache, g));
		CHECK(!folio_test_flag(g, PG_large_desc));
	}
	folio_unlock(a);
	folio_put(a);
	folio_world_get_stats(&st);
	CHECK_EQ(st.folio_cache.nr_active, 3);
	CHECK_EQ(st.large_folio_cache.nr_active, 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(truncate_inode_pages_range(m, 0, 8), 4);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();	/* the head goes back to large_folio_cache */
}

/*
 * Allocate then free @n order-0 folios: several folio slab pages fill and
 * empty, and all but one of them leave the cache through call_rcu.
 */
static void churn_folio_slabs(int n)
{
	struct folio *fs[n];

	for (int i = 0; i < n; i++)
		fs[i] = folio_alloc(0);
	for (int i = 0; i < n; i++)
		folio_put(fs[i]);
}

/* An emptied slab page goes back to the buddy allocator only after a GP. */
static void test_slab_page_after_grace_period(void)
{
	struct folio_world_stats st;

	ft_world_up(NR);
	churn_folio_slabs(600);
	folio_world_get_stats(&st);
	/*
	 * All but one empty slab left the cache, their pages waiting for a
	 * GP -- and the slabs of the objects this CPU's sheaf kept (up to 32:
	 * one slab of 85, or two).
	 */
	CHECK_EQ(st.folio_cache.nr_active, 0);
	CHECK(st.folio_cache.nr_cached >= 1 && st.folio_cache.nr_cached <= 32);
	CHECK(st.folio_cache.nr_slabs <= 3);
	CHECK(st.folio_cache.nr_rcu_pending >=
	      600 / (4096 / sizeof(struct folio)) - 3);
	rcu_barrier_model();
	folio_world_get_stats(&st);
	CHECK_EQ(st.folio_cache.nr_rcu_pending, 0);
	/* the slabs kept plus the slab-of-slabs page(s) */
	CHECK(st.free_pages + st.slab_pages == NR);
	CHECK(st.slab_pages <= 5);
	ft_world_down();
}

/* The free pointer may not overlay the refcount or the identity fields. */
static void test_freeptr_placement_checked(void)
{
	ft_world_up(NR);
	CHECK(kmem_cache_create("bad", sizeof(struct folio),
				offsetof(struct folio, _refcount),
				FOLIO_PROTECT_LO, FOLIO_PROTECT_HI,
				SLAB_TYPESAFE_BY_RCU) == NULL);
	CHECK(kmem_cache_create("bad2", sizeof(struct folio),
				offsetof(struct folio, mapping),
				FOLIO_PROTECT_LO, FOLIO_PROTECT_HI,
				SLAB_TYPESAFE_BY_RCU) == NULL);
	ft_world_down();
}

static void test_bad_config(void)
{
	struct folio_config small = { .nr_pages = 8 };
	struct folio_config big = { .nr_pages = FOLIO_MAX_NR_PAGES + 1 };

	CHECK_EQ(folio_world_init(&small), -EINVAL);
	CHECK_EQ(folio_world_init(&big), -EINVAL);
	CHECK_EQ(folio_world_init(NULL), -EINVAL);
	/* a PMD order larger than any block the buddy allocator has */
	CHECK_EQ(folio_world_init(&(struct folio_config){
			 .nr_pages = 64, .pmd_order = MAX_PAGE_ORDER + 1 }),
		 -EINVAL);
	ft_world_up(100);	/* not a power of two: trailing smaller blocks */
	CHECK_EQ(folio_world_init(&(struct folio_config){ .nr_pages = 64 }),
		 -EBUSY);
	CHECK_EQ(nr_free_pages(), 100);
	ft_world_down();
	/* no world: nothing to destroy, nothing leaked, nothing reported */
	CHECK_EQ(folio_world_destroy(stderr), 0);
}

/*
 * Regression: the checker vs pending RCU callbacks (seen once in smoke_mt).
 *   1. a typesafe slab empties; its page free is queued with call_rcu
 *   2. the checker scans the memmap: the page is still SLAB
 *   3. liburcu's callback thread (never parked) frees the page to buddy
 *   4. the checker walks the free lists: one more free page than it
 *      counted -> a false I-memmap violation.
 * Forced here: the hook at RP_CHECK_SCANNED runs the pending callbacks
 * between 2 and 4.  Fixed by waiting for callbacks (rcu_barrier) before
 * the scan, so nothing is pending by then.
 */
static void run_callbacks(enum folio_race_point rp, void *arg)
{
	if (rp == RP_CHECK_SCANNED)
		rcu_barrier_model();
}

static void test_check_vs_pending_rcu_free(void)
{
	struct folio_world_stats st;

	ft_world_up(NR);
	/*
	 * A reader holds off the grace period, so step 1's callback is still
	 * pending when we look (without it liburcu's thread could run it
	 * first: seen under TSan in CI).  Nothing here waits for a grace
	 * period; the checker's barrier comes after the unlock.
	 */
	rcu_read_lock_model();
	churn_folio_slabs(200);
	folio_world_get_stats(&st);
	rcu_read_unlock_model();
	CHECK(st.folio_cache.nr_rcu_pending > 0);	/* step 1 happened */
	atomic_store(&folio_race_hook, run_callbacks);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	atomic_store(&folio_race_hook, NULL);
	ft_world_down();
}

/* A test cache: two objects per slab page, free pointer at 0, no RCU. */
#define OBJ2K 2048

static struct kmem_cache *cache_2k(void)
{
	struct kmem_cache *c = kmem_cache_create("t2k", OBJ2K, 0, 0, 0, 0);

	CHECK(c != NULL);
	return c;
}

static long alloc_misc_page(void)
{
	return alloc_pages_desc(0, memdesc_encode(MEMDESC_MISC, NULL));
}

/*
 * A new slab needs a page, and (but for slab_cache's own) a struct slab
 * from slab_cache, which may itself need a page.  With no page left:
 *   1. slab_cache cannot carve its own page, so it has no descriptor for
 *      the new slab: the allocation fails
 *   2. one page free: slab_cache takes it; the slab's page then fails
 *      and its descriptor goes back to slab_cache
 *   3. one more page: the allocation succeeds
 * Nothing leaks on any of the three paths (the world ends clean).
 */
static void test_slab_new_fails_without_pages(void)
{
	struct kmem_cache_stats st;
	struct kmem_cache *c;
	long pfns[32], p;
	unsigned long n = 0, fails;
	void *obj;

	ft_world_up(32);
	c = cache_2k();
	while (n < 32 && (p = alloc_misc_page()) >= 0)
		pfns[n++] = p;
	CHECK_EQ(n, 32);		/* nothing else held a page yet */
	CHECK_EQ(nr_free_pages(), 0);
	fails = nr_alloc_failures();
	CHECK(kmem_cache_alloc(c) == NULL);			/* 1 */
	CHECK_EQ(nr_alloc_failures(), fails + 1);
	kmem_cache_get_stats(slab_cache, &st);
	CHECK_EQ(st.nr_slabs, 0);

	free_pages_desc((unsigned long)pfns[--n], 0);
	CHECK(kmem_cache_alloc(c) == NULL);			/* 2 */
	kmem_cache_get_stats(slab_cache, &st);
	CHECK_EQ(st.nr_slabs, 1);
	CHECK_EQ(st.nr_active, 0);	/* the slab's descriptor came back */
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_slabs, 0);

	free_pages_desc((unsigned long)pfns[--n], 0);
	obj = kmem_cache_alloc(c);				/* 3 */
	CHECK(obj != NULL && kmem_cache_owns(c, obj));
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_slabs, 1);
	CHECK_EQ(st.nr_active, 1);
	kmem_cache_free(c, obj);
	kmem_cache_shrink(c);		/* not typesafe: the page is back now */
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_slabs, 0);
	CHECK_EQ(st.nr_rcu_pending, 0);
	while (n)
		free_pages_desc((unsigned long)pfns[--n], 0);
	ft_world_down();
}

/* kmem_cache_create refuses what cannot work, and a ninth cache. */
static void test_cache_create_limits(void)
{
	int made = 0;

	ft_world_up(NR);
	CHECK(kmem_cache_create("big", PAGE_SIZE / 2 + 16, 0, 0, 0, 0) == NULL);
	/* the free pointer past the (rounded) object */
	CHECK(kmem_cache_create("fp", 16, 16, 0, 0, 0) == NULL);
	/* a free pointer wholly below the protected range is fine */
	CHECK(kmem_cache_create("lo", 64, 0, 8, 16, 0) != NULL);
	/* slab, folio, large_folio, ptdesc, wp_desc, "lo": two more fit */
	while (made < 8 && kmem_cache_create("more", 64, 0, 0, 0, 0))
		made++;
	CHECK_EQ(made, 2);
	CHECK(kmem_cache_create("ninth", 64, 0, 0, 0, 0) == NULL);
	ft_world_down();
}

static int stop_at_first(void *obj, bool free, void *ctx)
{
	(void)obj;
	(void)free;
	++*(int *)ctx;
	return 7;
}

/*
 * A sheaf that fills gives its oldest half back; slabs that empty then
 * leave (the cache keeps one empty slab).  Objects pair up by slab in
 * allocation order (a refill takes a fresh slab's two objects), so
 * freeing 40 in that order: the 33rd free flushes objects 0-15, emptying
 * slabs 0-7; slab 0 stays, 1-7 go back at once (no RCU for this cache).
 * Then the walk, clean and on a broken cache: a corrupt free list (link
 * out of the page, a cycle), an object in a sheaf twice, a sheaf object
 * past the last object of its page.  Each broken state is restored.
 */
static void test_sheaf_flush_and_walk(void)
{
	struct kmem_cache_stats st;
	struct kmem_cache *c, *c48;
	void *objs[40], *o, *o2, *fl, *next;
	unsigned long cnt[2] = { 0, 0 }, free_before;
	struct slab *s;
	char *page;
	int calls = 0;

	ft_world_up(NR);
	c = cache_2k();
	for (int i = 0; i < 40; i++)
		objs[i] = kmem_cache_alloc(c);
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_slabs, 20);
	CHECK_EQ(st.nr_active, 40);
	CHECK_EQ(st.nr_cached, 0);
	free_before = nr_free_pages();	/* the CPU lists' pages included */
	for (int i = 0; i < 40; i++)
		kmem_cache_free(c, objs[i]);
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_slabs, 13);
	CHECK_EQ(st.nr_cached, 24);	/* 32 - 16 + 8 */
	CHECK_EQ(st.nr_active, 0);
	CHECK_EQ(st.nr_rcu_pending, 0);
	CHECK_EQ(nr_free_pages(), free_before + 7);

	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), 0);
	CHECK_EQ(cnt[0], 26);
	CHECK_EQ(cnt[1], 26);		/* 24 in the sheaf, 2 on slab 0's list */
	CHECK_EQ(kmem_cache_walk(c, stop_at_first, &calls), 7);
	CHECK_EQ(calls, 1);

	/* slab 0: empty, kept, its two objects on its free list */
	s = virt_to_slab(objs[0]);
	CHECK(s != NULL && s->cache == c);
	page = pfn_to_virt(s->pfn);
	fl = s->freelist;
	CHECK(fl != NULL);
	s->freelist = page + PAGE_SIZE;		/* object 2 of 2 */
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), -EFAULT);
	s->freelist = fl;
	next = *(void **)fl;
	*(void **)fl = fl;			/* a cycle */
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), -EFAULT);
	*(void **)fl = next;
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), 0);

	/* a double free lands in the sheaf twice */
	o = kmem_cache_alloc(c);
	kmem_cache_free(c, o);
	kmem_cache_free(c, o);
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), -EFAULT);
	o2 = kmem_cache_alloc(c);
	CHECK(o2 == o);
	CHECK(kmem_cache_alloc(c) == o);	/* both copies out */
	kmem_cache_free(c, o);
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), 0);

	/* 48-byte objects: 85 to a page, 16 bytes left at its end; an
	 * aligned pointer there passes kmem_cache_free's checks */
	c48 = kmem_cache_create("t48", 48, 0, 0, 0, 0);
	CHECK(c48 != NULL);
	o = kmem_cache_alloc(c48);
	CHECK(o != NULL);
	page = pfn_to_virt(virt_to_pfn(o));
	kmem_cache_free(c48, page + 85 * 48);
	CHECK_EQ(kmem_cache_walk(c48, ft_count_objs, cnt), -EFAULT);
	CHECK(kmem_cache_alloc(c48) == page + 85 * 48);
	kmem_cache_free(c48, o);
	CHECK_EQ(kmem_cache_walk(c48, ft_count_objs, cnt), 0);

	kmem_cache_shrink(c48);
	kmem_cache_shrink(c);
	ft_world_down();
}

static char not_in_world;	/* static storage: below the world's mmap */

/*
 * Address look-ups: kmem_cache_owns and kmem_cache_object_at on pointers
 * into another cache, a folio's page, past the last page, between two
 * objects, past a page's last object; folio_debug_name on a PTE table's
 * lock (named), on the rest of its descriptor and on memory it does not
 * know (not named).
 */
static void test_slab_lookups_and_names(void)
{
	struct mm_struct *mm;
	struct folio *f, *a;
	struct fl_lock *ptl;
	char buf[64], *page;
	int local = 0;
	pmd_t pmd;

	CHECK(kmem_cache_object_at(folio_cache, &local) == NULL); /* no world */
	CHECK_EQ(folio_debug_name(&local, buf, sizeof(buf)), 0);   /* no caches */
	ft_world_up(NR);
	f = folio_alloc(0);
	CHECK(f != NULL);
	CHECK(kmem_cache_object_at(folio_cache, &f->_refcount) == f);
	CHECK(kmem_cache_object_at(folio_cache, &not_in_world) == NULL);
	CHECK(kmem_cache_object_at(folio_cache, pfn_to_virt(folio_pfn(f))) == NULL);
	CHECK(kmem_cache_object_at(large_folio_cache, f) == NULL);
	page = pfn_to_virt(virt_to_pfn(f));
	if (PAGE_SIZE % sizeof(struct folio))	/* a tail no object covers */
		CHECK(kmem_cache_object_at(folio_cache, page + PAGE_SIZE - 1) == NULL);
	CHECK(kmem_cache_owns(folio_cache, f));
	CHECK(!kmem_cache_owns(folio_cache, (char *)f + 16));
	CHECK(!kmem_cache_owns(folio_cache, pfn_to_virt(folio_pfn(f))));
	CHECK(!kmem_cache_owns(folio_cache, pfn_to_virt(NR)));
	CHECK(!kmem_cache_owns(folio_cache, &not_in_world));

	mm = mm_create(pmd_nr(), 0);
	CHECK(mm != NULL);
	a = ft_anon_folio(mm, 0, 0);
	CHECK(a != NULL);
	pmd = atomic_load(pmd_offset(mm, 0));
	CHECK(pmd_table(pmd));
	ptl = pte_lockptr(pmd);
	CHECK_EQ(folio_debug_name(ptl, buf, sizeof(buf)), 1);
	CHECK(strncmp(buf, "ptl(table ", 10) == 0);
	CHECK_EQ(folio_debug_name((char *)ptl + sizeof(*ptl), buf, sizeof(buf)), 0);
	CHECK_EQ(folio_debug_name(f, buf, sizeof(buf)), 0);
	CHECK_EQ(folio_debug_name(&local, buf, sizeof(buf)), 0);
	CHECK_EQ(folio_debug_name(&not_in_world, buf, sizeof(buf)), 0);
	CHECK_EQ(folio_debug_name("rodata", buf, sizeof(buf)), 0);
	CHECK_EQ(zap_page_range(mm, 0, pmd_nr()), 1);
	mm_destroy(mm);
	folio_put(f);
	ft_world_down();
	CHECK(kmem_cache_object_at(folio_cache, &local) == NULL); /* gone */
}

static unsigned long stop_pfn;

static int stop_at_pfn(unsigned long pfn, unsigned int order, void *ctx)
{
	(void)order;
	++*(int *)ctx;
	return pfn == stop_pfn ? 5 : 0;
}

/* A block of the largest order: never on a CPU's list. */
static int find_max_block(unsigned long pfn, unsigned int order, void *ctx)
{
	if (order == MAX_PAGE_ORDER)
		*(unsigned long *)ctx = pfn;
	return 0;
}

static void expect_corrupt_buddy(void)
{
	struct folio_violation v;

	CHECK(ft_check(NULL, 0, &v) > 0);
	CHECK(strcmp(v.rule, "I-memmap") == 0);
}

/*
 * The buddy walk stops where its callback says, in the zone's lists and
 * in a CPU's, and the checker's walk survives every corrupt link: a head
 * that is no BUDDY word, has the wrong order or the per-CPU mark, points
 * past the last page, or points at itself (a cycle).
 */
static void test_buddy_walk_stops_and_corruption(void)
{
	struct folio *f;
	unsigned long pcp_pfn, head = ~0ul;
	memdesc_t w;
	int calls = 0;

	ft_world_up(NR);
	CHECK(!buddy_word_is_block_head(memdesc_encode(MEMDESC_MISC, NULL)));
	CHECK(alloc_pages_desc(MAX_PAGE_ORDER + 1,
			       memdesc_encode(MEMDESC_MISC, NULL)) < 0);
	f = folio_alloc(0);
	CHECK(f != NULL);
	pcp_pfn = folio_pfn(f);
	folio_put(f);		/* on CPU 0's list */
	CHECK(nr_pcp_pages() >= 1);

	CHECK_EQ(buddy_for_each_free_block(find_max_block, &head), 0);
	CHECK(head < NR);
	if (head >= NR) {
		ft_world_down();
		return;
	}
	stop_pfn = head;	/* a zone block */
	CHECK(buddy_word_is_block_head(memmap_word_load(head)));
	CHECK_EQ(buddy_for_each_free_block(stop_at_pfn, &calls), 5);
	stop_pfn = pcp_pfn;
	calls = 0;
	CHECK_EQ(buddy_for_each_free_block(stop_at_pfn, &calls), 5);
	CHECK(calls >= 2);	/* the zone's blocks came first */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	w = memmap_word_load(head);
	memmap_word_store(head, memdesc_encode(MEMDESC_MISC, NULL));
	expect_corrupt_buddy();
	memmap_word_store(head, w ^ (1ull << BUDDY_ORDER_SHIFT));  /* order 11 */
	expect_corrupt_buddy();
	memmap_word_store(head, w | BUDDY_PCP);
	expect_corrupt_buddy();
	memmap_word_store(head, (w & ~(BUDDY_PFN_MASK << BUDDY_NEXT_SHIFT)) |
				((memdesc_t)(NR + 5) << BUDDY_NEXT_SHIFT));
	expect_corrupt_buddy();
	memmap_word_store(head, (w & ~(BUDDY_PFN_MASK << BUDDY_NEXT_SHIFT)) |
				((memdesc_t)head << BUDDY_NEXT_SHIFT));
	expect_corrupt_buddy();
	memmap_word_store(head, w);
	ft_world_down();
}

/* Leak check: a folio never freed is reported at teardown. */
static void test_leak_reported(void)
{
	struct folio *f;

	ft_world_up(NR);
	f = folio_alloc(2);
	CHECK(f != NULL);
	CHECK(folio_world_destroy(NULL) > 0);
}

/*
 * The leak report names each kind of leak: an mm and a file still alive
 * (the file still caching a folio, so it cannot be destroyed), folio
 * descriptors of both sizes in use, and every page not free, by type.
 * Every page is taken, so the last leaked run reaches the last page; the
 * PTDESC and reserved (type 4) words are stored by hand on MISC pages.
 */
static void test_leak_report_names_everything(void)
{
	static const char *const want[] = {
		"leak: mm 0 still exists", "leak: file 0 still exists",
		"folio descriptors in use", "large folio descriptors in use",
		"type misc", "type file", "type anon", "type slab",
		"type ptdesc", "type reserved",
	};
	struct address_space *m;
	struct mm_struct *mm;
	char *text = NULL;
	size_t len = 0;
	FILE *rep;
	long pfns[32], p;
	unsigned long n = 0, leaks;

	rep = open_memstream(&text, &len);
	CHECK(rep != NULL);
	if (!rep)
		return;
	ft_world_up(32);
	mm = mm_create(16, 0);
	m = address_space_create(4);
	CHECK(mm != NULL && m != NULL);
	CHECK(ft_cache_folio(m, 0, 0) != NULL);
	CHECK(folio_alloc(1) != NULL);
	CHECK(folio_alloc_anon(0) != NULL);
	while (n < 32 && (p = alloc_misc_page()) >= 0)
		pfns[n++] = p;
	CHECK(n >= 3);
	if (n >= 3) {
		memmap_word_store((unsigned long)pfns[0],
				  memdesc_encode(MEMDESC_PTDESC, NULL));
		memmap_word_store((unsigned long)pfns[1],
				  memdesc_encode((enum memdesc_type)4, NULL));
	}
	CHECK_EQ(nr_free_pages(), 0);
	leaks = folio_world_destroy(rep);
	fclose(rep);
	CHECK(leaks >= 32 + 2);		/* every page, the mm and the file */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i])) {
			CHECK(strstr(text, want[i]) != NULL);
			fprintf(stderr, "  missing \"%s\" in:\n%s", want[i], text);
		}
	free(text);
}

int main(void)
{
	ft_pin_cpu0();	/* hopping CPUs (n/37 % 2) fails both slab tests */
	folio_thread_online();
	FT_RUN(test_alloc_every_order);
	FT_RUN(test_alloc_anon);
	FT_RUN(test_alloc_bad_order_and_exhaustion);
	FT_RUN(test_descriptor_reuse_same_type);
	FT_RUN(test_descriptor_sizes_and_split);
	FT_RUN(test_slab_page_after_grace_period);
	FT_RUN(test_freeptr_placement_checked);
	FT_RUN(test_bad_config);
	FT_RUN(test_check_vs_pending_rcu_free);
	FT_RUN(test_leak_reported);
	FT_RUN(test_slab_new_fails_without_pages);
	FT_RUN(test_cache_create_limits);
	FT_RUN(test_sheaf_flush_and_walk);
	FT_RUN(test_slab_lookups_and_names);
	FT_RUN(test_buddy_walk_stops_and_corruption);
	FT_RUN(test_leak_report_names_everything);
	folio_thread_offline();
	return ft_done();
}
