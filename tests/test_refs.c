/* SPDX-License-Identifier: MIT */
/*
 * test_refs.c - the refcount ladder: every verb's success and failure path,
 * freeze vs try_get, the traced choke point (FOLIO_DEBUG builds).
 * Run: build/<preset>/tests/test_refs
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "folio/slab.h"
#include "ft_world.h"

static void test_get_put(void)
{
	struct folio *f;

	ft_world_up(1024);
	f = folio_alloc(0);
	folio_get(f);
	folio_ref_add(f, 5);
	CHECK_EQ(folio_ref_count(f), 7);
	folio_ref_sub(f, 2);
	folio_ref_inc(f);
	folio_ref_dec(f);
	CHECK_EQ(folio_ref_count(f), 5);
	CHECK_EQ(folio_ref_sub_return(f, 1), 4);
	CHECK(!folio_ref_sub_and_test(f, 2));
	CHECK(!folio_ref_dec_and_test(f));
	CHECK_EQ(folio_ref_count(f), 1);
	CHECK_EQ(folio_expected_ref_count(f), 0);
	folio_put(f);	/* frees */
	CHECK_EQ(folio_ref_count(f), 0);
	CHECK_EQ(nr_free_pages() + 2, 1024);	/* a folio slab + slab-of-slabs */
	ft_world_down();
}

static void test_put_refs_frees_large(void)
{
	struct folio *f;
	unsigned long free0;

	ft_world_up(1024);
	f = folio_alloc(4);
	free0 = nr_free_pages();
	folio_ref_add(f, 15);
	folio_put_refs(f, 15);
	CHECK_EQ(nr_free_pages(), free0);
	folio_put_refs(f, 1);
	CHECK_EQ(nr_free_pages(), free0 + 16);
	ft_world_down();
}

static void test_try_add(void)
{
	struct folio *f;

	ft_world_up(1024);
	f = folio_alloc(0);
	CHECK(folio_try_get(f));
	CHECK(folio_ref_try_add(f, 10));
	CHECK_EQ(folio_ref_count(f), 12);
	folio_put_refs(f, 11);
	folio_put(f);
	/* free descriptor: refcount 0, every try fails and changes nothing */
	CHECK(!folio_try_get(f));
	CHECK(!folio_ref_try_add(f, 3));
	CHECK_EQ(folio_ref_count(f), 0);
	ft_world_down();
}

static void test_freeze(void)
{
	struct folio *f;

	ft_world_up(1024);
	f = folio_alloc(2);
	folio_get(f);	/* count 2 */
	/* wrong expected count: an unexpected reference makes freeze fail */
	CHECK(!folio_ref_freeze(f, 1));
	CHECK_EQ(folio_ref_count(f), 2);
	CHECK(folio_ref_freeze(f, 2));
	CHECK_EQ(folio_ref_count(f), 0);
	/* frozen: every speculative get fails (R1) */
	CHECK(!folio_try_get(f));
	CHECK(!folio_ref_try_add(f, 512));
	CHECK(folio_try_get_pfn(folio_pfn(f), 1) == NULL);
	CHECK(!folio_ref_freeze(f, 2));
	folio_ref_unfreeze(f, 2);
	CHECK(folio_try_get(f));
	CHECK_EQ(folio_ref_count(f), 3);
	folio_put_refs(f, 3);
	ft_world_down();
}

/* A freezer owns a frozen folio and may free it without a put. */
static void test_freeze_then_free(void)
{
	struct folio *f;
	unsigned long free0;

	ft_world_up(1024);
	f = folio_alloc(3);
	free0 = nr_free_pages();
	CHECK(folio_ref_freeze(f, 1));
	__folio_put(f);
	CHECK_EQ(nr_free_pages(), free0 + 8);
	ft_world_down();
}

static void test_try_get_pfn(void)
{
	struct folio *f;

	ft_world_up(1024);
	f = folio_alloc(3);
	rcu_read_lock_model();
	for (unsigned long i = 0; i < 8; i++)
		CHECK(folio_try_get_pfn(folio_pfn(f) + i, 2) == f);
	CHECK(folio_try_get_pfn(1023, 1) == NULL);	/* free page */
	CHECK(folio_try_get_pfn(1u << 20, 1) == NULL);	/* out of range */
	CHECK(folio_try_get_pfn(virt_to_pfn(f), 1) == NULL); /* slab page */
	rcu_read_unlock_model();
	CHECK_EQ(folio_ref_count(f), 17);
	folio_put_refs(f, 17);
	ft_world_down();
}

/*
 * Freeze vs try_get, many threads: getters hammer try_get/put while the
 * main thread repeatedly freezes the exact expected count.  Whoever wins,
 * the count is never lost: a freeze succeeds only when no getter holds a
 * reference, and no try_get succeeds while frozen.
 */
static struct folio *race_folio;
static atomic_bool race_stop;
static atomic_long race_frozen_gets;	/* gets that saw the folio frozen: must be 0 */
static atomic_int race_frozen;

static void *getter(void *arg)
{
	long n = 0;

	folio_thread_online();
	while (!atomic_load(&race_stop)) {
		if (folio_try_get(race_folio)) {
			if (atomic_load(&race_frozen))
				atomic_fetch_add(&race_frozen_gets, 1);
			folio_put(race_folio);
			if (++n % 64 == 0)
				sched_yield();	/* leave the freezer windows */
		}
	}
	folio_thread_offline();
	return (void *)n;
}

static void test_freeze_vs_try_get_threads(void)
{
	pthread_t t[3];
	long freezes = 0, fails = 0, gets = 0;

	ft_world_up(1024);
	race_folio = folio_alloc(0);
	atomic_store(&race_stop, false);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, getter, NULL);
	/*
	 * Run until both outcomes were seen many times (or 20 s pass, on a
	 * badly overloaded machine): a freeze that won against the getters
	 * and one that lost to them.
	 */
	time_t deadline = time(NULL) + 20;

	for (long i = 0; (i < 200000 || freezes < 1000 || fails < 1000) &&
			 time(NULL) < deadline;
	     i++) {
		if (folio_ref_freeze(race_folio, 1)) {
			atomic_store(&race_frozen, 1);
			freezes++;
			CHECK_EQ(folio_ref_count(race_folio), 0);
			atomic_store(&race_frozen, 0);
			folio_ref_unfreeze(race_folio, 1);
		} else {
			fails++;
		}
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < 3; i++) {
		void *r;

		pthread_join(t[i], &r);
		gets += (long)r;
	}
	CHECK_EQ(atomic_load(&race_frozen_gets), 0);
	CHECK(freezes > 0);
	CHECK_EQ(folio_ref_count(race_folio), 1);
	printf("  freezes %ld, failed freezes %ld, gets %ld\n", freezes, fails,
	       gets);
	folio_put(race_folio);
	ft_world_down();
}

#ifdef FOLIO_DEBUG
static atomic_long traced[FOLIO_REF_UNFREEZE + 1];

static void count_trace(struct folio *f, enum folio_ref_op op, int d, int v)
{
	atomic_fetch_add(&traced[op], 1);
}

/* Every refcount change passes the one choke point. */
static void test_trace_choke_point(void)
{
	struct folio *f;

	ft_world_up(1024);
	atomic_store(&folio_ref_trace_hook, count_trace);
	f = folio_alloc(0);			/* INIT */
	folio_get(f);				/* ADD */
	CHECK(folio_try_get(f));		/* TRY_ADD */
	folio_ref_sub(f, 1);			/* SUB */
	CHECK(!folio_ref_freeze(f, 1));		/* FREEZE_FAIL */
	CHECK(folio_ref_freeze(f, 2));		/* FREEZE */
	CHECK(!folio_try_get(f));		/* TRY_FAIL */
	folio_ref_unfreeze(f, 2);		/* UNFREEZE */
	folio_put(f);				/* SUB_TEST */
	folio_put(f);				/* SUB_TEST -> free */
	atomic_store(&folio_ref_trace_hook, NULL);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_INIT]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_ADD]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_TRY_ADD]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_SUB]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_FREEZE_FAIL]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_FREEZE]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_TRY_FAIL]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_UNFREEZE]), 1);
	CHECK_EQ(atomic_load(&traced[FOLIO_REF_SUB_TEST]), 2);
	ft_world_down();
}
#endif

/*
 * No descriptor and no page: with every page held and the folio
 * descriptor caches drained (their slabs cannot grow), an allocation
 * fails at the descriptor, takes nothing and leaves the counts alone; with
 * descriptors back but still no page it fails at the pages; with pages
 * back it succeeds.  Last: pins this thread's sheaves to CPU 0.
 */
static struct folio *held_pages[1024];
static void *held_desc[2][1024];

static void test_alloc_no_descriptor(void)
{
	struct kmem_cache *c[2];
	unsigned long nh = 0, nd[2] = { 0, 0 };
	struct folio *f;

	ft_pin_cpu0();
	ft_world_up(1024);
	c[0] = folio_cache;	/* set up by the world */
	c[1] = large_folio_cache;
	while (nh < 1024 && (held_pages[nh] = folio_alloc(0)) != NULL)
		nh++;
	CHECK_EQ(nr_free_pages(), 0);
	for (int k = 0; k < 2; k++) {
		while (nd[k] < 1024 &&
		       (held_desc[k][nd[k]] = kmem_cache_alloc(c[k])) != NULL)
			nd[k]++;
		CHECK(nd[k] < 1024);
	}
	CHECK(folio_alloc(0) == NULL);
	CHECK(folio_alloc_anon(0) == NULL);
	CHECK(folio_alloc(2) == NULL);
	CHECK(folio_alloc_anon(3) == NULL);
	CHECK(folio_alloc(MAX_PAGE_ORDER + 1) == NULL);
	CHECK_EQ(nr_free_pages(), 0);
	for (int k = 0; k < 2; k++)
		while (nd[k])
			kmem_cache_free(c[k], held_desc[k][--nd[k]]);
	CHECK(folio_alloc(0) == NULL);		/* a descriptor, no page */
	CHECK(folio_alloc_anon(2) == NULL);
	CHECK_EQ(nr_free_pages(), 0);
	folio_put(held_pages[--nh]);
	f = folio_alloc_anon(0);
	CHECK(f != NULL);
	if (f) {
		CHECK(folio_test_anon(f));
		CHECK_EQ(folio_ref_count(f), 1);
		folio_put(f);
	}
	while (nh)
		folio_put(held_pages[--nh]);
	ft_world_down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_get_put);
	FT_RUN(test_put_refs_frees_large);
	FT_RUN(test_try_add);
	FT_RUN(test_freeze);
	FT_RUN(test_freeze_then_free);
	FT_RUN(test_try_get_pfn);
	FT_RUN(test_freeze_vs_try_get_threads);
#ifdef FOLIO_DEBUG
	FT_RUN(test_trace_choke_point);
#else
	printf("%-48s skipped (needs FOLIO_DEBUG)\n", "test_trace_choke_point");
#endif
	FT_RUN(test_alloc_no_descriptor);	/* last: pins to CPU 0 */
	folio_thread_offline();
	return ft_done();
}
