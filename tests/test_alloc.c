/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.c - memmap, buddy allocator, descriptor caches, folio_alloc.
 * Run: build/<preset>/tests/test_alloc
 */
#include <errno.h>
#include <stddef.h>

#include "folio/huge_memory.h"
#include "ft_world.h"

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
	ft_world_up(100);	/* not a power of two: trailing smaller blocks */
	CHECK_EQ(folio_world_init(&(struct folio_config){ .nr_pages = 64 }),
		 -EBUSY);
	CHECK_EQ(nr_free_pages(), 100);
	ft_world_down();
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

/* Leak check: a folio never freed is reported at teardown. */
static void test_leak_reported(void)
{
	struct folio *f;

	ft_world_up(NR);
	f = folio_alloc(2);
	CHECK(f != NULL);
	CHECK(folio_world_destroy(NULL) > 0);
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
	folio_thread_offline();
	return ft_done();
}
