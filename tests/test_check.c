/* SPDX-License-Identifier: MIT */
/*
 * test_check.c - every checker rule fires on a state broken on purpose,
 * names the right rule, and goes quiet once the state is repaired.
 * Run: build/<preset>/tests/test_check
 */
#include <string.h>

#include "ft_world.h"
#include "../core/src/internal.h"	/* test-only: reach the slab free list */

static struct address_space *m;
static struct folio *small, *large;

/* A file with an order-0 and an order-2 folio in it. */
static void setup(void)
{
	ft_world_up(1024);
	m = address_space_create(16);
	small = ft_cache_folio(m, 0, 0);
	large = ft_cache_folio(m, 4, 2);
	CHECK(small && large);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
}

static void teardown(void)
{
	CHECK_EQ(truncate_inode_pages_range(m, 0, 16), 2);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

/* Expect exactly a violation of @rule first, quietly. */
static void expect_rule(const char *rule, const struct folio_held *held,
			size_t n)
{
	struct folio_violation v;
	struct folio_check_opts o = { .held = held, .nr_held = n };
	unsigned long nv = folio_check_quiescent(&o, &v);

	CHECK(nv > 0);
	if (nv) {
		CHECK(strcmp(v.rule, rule) == 0);
		if (strcmp(v.rule, rule))
			fprintf(stderr, "  expected %s, got %s: %s\n", rule,
				v.rule, v.detail);
	}
}

static void test_iref_unrecorded_reference(void)
{
	setup();
	folio_get(large);	/* a temporary nobody recorded */
	expect_rule("I-ref", NULL, 0);
	/* recorded: clean */
	CHECK_EQ(ft_check(&(struct folio_held){ large, 1, 0 }, 1, NULL), 0);
	/* over-recorded: I-ref again */
	expect_rule("I-ref", &(struct folio_held){ large, 2, 0 }, 1);
	folio_put(large);
	teardown();
}

static void test_iref_dropped_reference(void)
{
	setup();
	/* drop one of the cache's references behind its back */
	folio_ref_sub(large, 1);
	expect_rule("I-ref", NULL, 0);
	folio_ref_add(large, 1);
	teardown();
}

static void test_iref_held_on_dead_folio(void)
{
	struct folio *f;

	setup();
	f = folio_alloc(0);
	folio_put(f);
	expect_rule("I-ref", &(struct folio_held){ f, 1, 0 }, 1);
	teardown();
}

static void test_ipin_unrecorded_pin(void)
{
	setup();
	/* a large folio's pin: +1 ref and +1 pincount */
	folio_ref_add(large, 1);
	atomic_fetch_add(&folio_large(large)->_pincount, 1);
	CHECK_EQ(ft_check(&(struct folio_held){ large, 0, 1 }, 1, NULL), 0);
	expect_rule("I-pin", &(struct folio_held){ large, 1, 0 }, 1);
	atomic_fetch_sub(&folio_large(large)->_pincount, 1);
	folio_ref_sub(large, 1);
	/* a small folio's pin is GUP_PIN_COUNTING_BIAS references */
	folio_ref_add(small, GUP_PIN_COUNTING_BIAS);
	CHECK_EQ(ft_check(&(struct folio_held){ small, 0, 1 }, 1, NULL), 0);
	expect_rule("I-ref", NULL, 0);
	folio_ref_sub(small, GUP_PIN_COUNTING_BIAS);
	teardown();
}

static void test_imap_counter_floor(void)
{
	setup();
	atomic_store(&small->_mapcount, -1);
	expect_rule("I-map", NULL, 0);
	atomic_store(&small->_mapcount, 0);
	atomic_store(&folio_large(large)->_entire_mapcount, 1);	/* entire > total */
	expect_rule("I-map", NULL, 0);
	atomic_store(&folio_large(large)->_entire_mapcount, 0);
	teardown();
}

/* Order-sized descriptors: the PG_large_desc flag and the cache agree. */
static void test_imemmap_descriptor_size(void)
{
	setup();
	CHECK(kmem_cache_owns(folio_cache, small));
	CHECK(kmem_cache_owns(large_folio_cache, large));
	folio_set_flag(small, PG_large_desc);	/* would be freed to the wrong cache */
	expect_rule("I-memmap", NULL, 0);
	folio_clear_flag(small, PG_large_desc);
	folio_clear_flag(large, PG_large_desc);
	expect_rule("I-memmap", NULL, 0);
	folio_set_flag(large, PG_large_desc);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_imemmap_tail_word(void)
{
	unsigned long pfn;
	memdesc_t saved;

	setup();
	pfn = folio_pfn(large) + 2;
	saved = memmap_word_load(pfn);
	/* page 2 of the large folio claims to be another folio's */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_FILE, small));
	expect_rule("I-memmap", NULL, 0);
	/* or an unexpected type */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_MISC, NULL));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_imemmap_wrong_type_and_free_page(void)
{
	unsigned long pfn;
	memdesc_t saved;

	setup();
	pfn = folio_pfn(small);
	saved = memmap_word_load(pfn);
	/* memmap says anon, the folio says file */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_ANON, small));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	/* a free page that claims to be a folio page: accounting breaks */
	pfn = 1023;
	saved = memmap_word_load(pfn);
	CHECK_EQ(memdesc_type(saved), MEMDESC_BUDDY);
	memmap_word_store(pfn, memdesc_encode(MEMDESC_SLAB, NULL));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_imemmap_points_at_free_descriptor(void)
{
	struct folio *f;
	unsigned long pfn;
	memdesc_t saved;

	setup();
	f = folio_alloc(0);
	folio_put(f);
	/* a page still pointing at a freed descriptor (free in wrong order) */
	pfn = folio_pfn(small);
	saved = memmap_word_load(pfn);
	memmap_word_store(pfn, memdesc_encode(MEMDESC_FILE, f));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	teardown();
}

/* The checker reports a corrupt buddy free list instead of crashing. */
static void test_imemmap_corrupt_free_list(void)
{
	unsigned long counts[NR_PAGE_ORDERS], pfn = 1023;
	memdesc_t saved;

	setup();
	buddy_free_counts(counts);
	saved = memmap_word_load(pfn);
	/* page 1023 is free: make it look like the head of an order-0 block */
	memmap_word_store(pfn, MEMDESC_BUDDY);
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_icache_wrong_slot(void)
{
	setup();
	/* slot 1 points at the small folio, whose index is 0 */
	atomic_store(&m->slots[1], small);
	expect_rule("I-cache", &(struct folio_held){ small, 0, 0 }, 1);
	atomic_store(&m->slots[1], NULL);
	/* a slot of the large folio goes missing */
	atomic_store(&m->slots[6], NULL);
	expect_rule("I-cache", NULL, 0);
	atomic_store(&m->slots[6], large);
	/* mapping/index disagree with the slots */
	atomic_store(&small->index, 2ul);
	expect_rule("I-cache", NULL, 0);
	atomic_store(&small->index, 0ul);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_icache_dead_folio_in_slot(void)
{
	struct folio *f;

	setup();
	f = folio_alloc(0);
	folio_put(f);
	atomic_store(&m->slots[9], f);
	expect_rule("I-cache", NULL, 0);
	atomic_store(&m->slots[9], NULL);
	teardown();
}

static void test_ifree_refcount_on_free_descriptor(void)
{
	struct folio *f;

	setup();
	f = folio_alloc(0);
	folio_put(f);
	atomic_store(&f->_refcount, 1);	/* a free descriptor looks alive */
	expect_rule("I-free", NULL, 0);
	atomic_store(&f->_refcount, 0);
	teardown();
}

static void test_ifree_leaked_descriptor(void)
{
	struct folio *d;

	setup();
	/* allocated from the cache, never given pages: a leak */
	d = kmem_cache_alloc(folio_cache);
	expect_rule("I-free", NULL, 0);
	kmem_cache_free(folio_cache, d);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

static void test_ifree_corrupt_free_list(void)
{
	struct folio *a, *b;
	void *saved;

	setup();
	a = folio_alloc(0);
	b = folio_alloc(0);
	folio_put(a);
	folio_put(b);
	/* the CPU's sheaf keeps them: give them back to the slab's list */
	kmem_cache_shrink(folio_cache);
	/* b is on the free list ahead of a; make the list loop */
	saved = a->_lock_waiters;
	a->_lock_waiters = b;
	expect_rule("I-free", NULL, 0);
	a->_lock_waiters = saved;
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

/* A descriptor in a CPU's sheaf and on its slab's free list: freed twice. */
static void test_ifree_sheaf_and_free_list(void)
{
	struct folio *a;
	struct slab *s;
	void *saved;

	setup();
	a = folio_alloc(0);
	folio_put(a);		/* into this CPU's sheaf */
	s = virt_to_slab(a);
	saved = s->freelist;
	a->_lock_waiters = saved;
	s->freelist = a;	/* and on the free list too */
	expect_rule("I-free", NULL, 0);
	s->freelist = saved;
	a->_lock_waiters = NULL;
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	teardown();
}

int main(void)
{
	ft_pin_cpu0();	/* the sheaf tests assume one CPU's sheaf */
	folio_thread_online();
	FT_RUN(test_iref_unrecorded_reference);
	FT_RUN(test_iref_dropped_reference);
	FT_RUN(test_iref_held_on_dead_folio);
	FT_RUN(test_ipin_unrecorded_pin);
	FT_RUN(test_imap_counter_floor);
	FT_RUN(test_imemmap_descriptor_size);
	FT_RUN(test_imemmap_tail_word);
	FT_RUN(test_imemmap_wrong_type_and_free_page);
	FT_RUN(test_imemmap_points_at_free_descriptor);
	FT_RUN(test_imemmap_corrupt_free_list);
	FT_RUN(test_icache_wrong_slot);
	FT_RUN(test_icache_dead_folio_in_slot);
	FT_RUN(test_ifree_refcount_on_free_descriptor);
	FT_RUN(test_ifree_leaked_descriptor);
	FT_RUN(test_ifree_corrupt_free_list);
	FT_RUN(test_ifree_sheaf_and_free_list);
	folio_thread_offline();
	return ft_done();
}
