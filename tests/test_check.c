/* SPDX-License-Identifier: MIT */
/*
 * test_check.c - every checker rule fires on a state broken on purpose,
 * names the right rule, and goes quiet once the state is repaired.
 * Run: build/<preset>/tests/test_check
 */
#include <setjmp.h>
#include <string.h>

#include "folio/huge_memory.h"
#include "folio/mutant.h"
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

/*
 * Every violation, printed: true if one of them is a violation of @rule.
 * For states that break two rules at once (the one under test is not the
 * first the checker reaches); also runs the checker with no @first and
 * with its printer on, so violation() and dump_folio() print each shape.
 */
static bool fires(const char *rule, const struct folio_held *held, size_t n)
{
	char *buf = NULL, want[64];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct folio_check_opts o = { .held = held, .nr_held = n, .out = out,
				      .max_print = 4096 };
	unsigned long nv;
	bool hit;

	CHECK(out != NULL);
	if (!out)
		return false;
	nv = folio_check_quiescent(&o, NULL);
	fclose(out);
	snprintf(want, sizeof(want), "BUG: invariant %s violated", rule);
	hit = nv > 0 && buf && strstr(buf, want);
	if (!hit)
		fprintf(stderr, "  expected %s among %lu violations:\n%s", rule,
			nv, buf ? buf : "");
	free(buf);
	return hit;
}

/*
 * A world with no live folio: is_live() and live_index() answer from an
 * empty set (bsearch gets no NULL base), for a held record on a freed
 * folio (its pins, not refs) and for table entries that map no folio: a
 * free page, a page-table page, a PFN past the end.
 */
static void test_no_live_folios(void)
{
	struct mm_struct *mm;
	struct folio *f;
	_Atomic pte_t *pte;
	pmd_t pmd;
	unsigned long ptpfn;

	mm = mm_create(64, 0);
	f = folio_alloc(0);
	folio_put(f);
	expect_rule("I-ref", &(struct folio_held){ f, 0, 1 }, 1);
	/* fault and zap: the folio goes, its PTE table stays */
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(zap_page_range(mm, 0, 1), 1);
	pmd = atomic_load(pmd_offset(mm, 0));
	CHECK(pmd_table(pmd));
	if (pmd_table(pmd)) {
		pte = pte_offset(pmd, 1);
		ptpfn = caa_container_of(pte_lockptr(pmd), struct ptdesc, ptl)->pfn;
		atomic_store(pte, mk_pte(255, _PAGE_PRESENT));	/* free */
		expect_rule("I-map", NULL, 0);
		atomic_store(pte, mk_pte(ptpfn, _PAGE_PRESENT));	/* a table */
		expect_rule("I-map", NULL, 0);
		atomic_store(pte, mk_pte(4096, _PAGE_PRESENT));	/* past the end */
		expect_rule("I-map", NULL, 0);
		atomic_store(pte, 0);
	}
	mm_destroy(mm);
}

/* Free page 1023's word replaced by words of every other kind. */
static void test_imemmap_foreign_words(void)
{
	unsigned long pfn = 1023;
	struct slab *s;
	struct ptdesc *pt;
	memdesc_t saved;

	s = virt_to_slab(small);
	pt = pte_alloc_one();
	CHECK(pt != NULL);
	saved = memmap_word_load(pfn);
	/* a real slab descriptor, but another page's */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_SLAB, s));
	expect_rule("I-memmap", NULL, 0);
	/* a page-table word with no descriptor, or another page's */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_PTDESC, NULL));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, memdesc_encode(MEMDESC_PTDESC, pt));
	expect_rule("I-memmap", NULL, 0);
	/* a type the memmap never uses */
	memmap_word_store(pfn, memdesc_encode((enum memdesc_type)4, NULL));
	expect_rule("I-memmap", NULL, 0);
	/* a folio word pointing at something not from a folio cache */
	memmap_word_store(pfn, memdesc_encode(MEMDESC_FILE, s));
	expect_rule("I-memmap", NULL, 0);
	memmap_word_store(pfn, saved);
	pte_free_rcu(pt);
}

/* A folio's own fields disagree with the pages that point at it. */
static void test_imemmap_folio_shape(void)
{
	unsigned long fp;

	/* order > 0 in a small descriptor (flag and cache agree) */
	atomic_store(&small->order, 1u);
	expect_rule("I-memmap", NULL, 0);
	atomic_store(&small->order, 0u);
	/* an order past MAX_PAGE_ORDER */
	atomic_store(&large->order, (unsigned int)MAX_PAGE_ORDER + 1);
	expect_rule("I-memmap", NULL, 0);
	/* an order its first PFN is not aligned to (or too big, at 0) */
	fp = folio_pfn(large);
	atomic_store(&large->order,
		     fp ? (unsigned int)__builtin_ctzl(fp) + 1 : MAX_PAGE_ORDER);
	expect_rule("I-memmap", NULL, 0);
	atomic_store(&large->order, 2u);
	/* refcount 0 while pages point at it: free or frozen */
	atomic_store(&large->_refcount, 0);
	expect_rule("I-memmap", NULL, 0);
	atomic_store(&large->_refcount, 4);
	/* memmap says file, the folio says anon */
	folio_set_flag(small, PG_anon);
	expect_rule("I-memmap", NULL, 0);
	folio_clear_flag(small, PG_anon);
}

/* page_alloc.c's buddy word: next-PFN field (test-only knowledge). */
#define T_BUDDY_NEXT_SHIFT 9
#define T_BUDDY_PFN_MASK ((1ull << 27) - 1)

struct first_block { unsigned long pfn; unsigned int order; };

static int find_block(unsigned long pfn, unsigned int order, void *ctx)
{
	struct first_block *b = ctx;

	if (order == 0)
		return 0;
	b->pfn = pfn;
	b->order = order;
	return 1;
}

/*
 * A free block's tail page made a second head on the same list: the
 * block's walk finds a head among its tails, and the list then reaches a
 * block that is not aligned to its order.
 */
static void test_imemmap_free_block_shape(void)
{
	struct first_block b = { 0, 0 };
	memdesc_t w0, w1;

	buddy_for_each_free_block(find_block, &b);
	CHECK(b.order > 0);
	if (b.order) {
		w0 = memmap_word_load(b.pfn);
		w1 = memmap_word_load(b.pfn + 1);
		memmap_word_store(b.pfn + 1, w0);
		memmap_word_store(b.pfn,
				  (w0 & ~(T_BUDDY_PFN_MASK << T_BUDDY_NEXT_SHIFT)) |
				  ((memdesc_t)(b.pfn + 1) << T_BUDDY_NEXT_SHIFT));
		CHECK(fires("I-memmap", NULL, 0));
		memmap_word_store(b.pfn, w0);
		memmap_word_store(b.pfn + 1, w1);
	}
}

struct block_of { unsigned int order; unsigned long pfn; bool found; };

static int find_order(unsigned long pfn, unsigned int order, void *ctx)
{
	struct block_of *b = ctx;

	if (order != b->order)
		return 0;
	b->pfn = pfn;
	b->found = true;
	return 1;
}

/* Splice page @pfn into the free list right after the listed block @at:
 * it takes a copy of @at's word (order, list, next), @at links to it. */
static void splice_after(unsigned long at, unsigned long pfn)
{
	memdesc_t w = memmap_word_load(at);

	memmap_word_store(pfn, w);
	memmap_word_store(at, (w & ~(T_BUDDY_PFN_MASK << T_BUDDY_NEXT_SHIFT)) |
				      ((memdesc_t)pfn << T_BUDDY_NEXT_SHIFT));
}

/*
 * The free lists and the memmap agree with each other but not with the
 * zone's count: a page-table page turned into a listed order-0 free
 * block.
 */
static void test_imemmap_free_count(void)
{
	struct block_of b = { .order = 0 };
	struct ptdesc *pt;
	memdesc_t wa, wp;

	pt = pte_alloc_one();
	buddy_for_each_free_block(find_order, &b);
	CHECK(pt && b.found);
	if (pt && b.found) {
		wa = memmap_word_load(b.pfn);
		wp = memmap_word_load(pt->pfn);
		splice_after(b.pfn, pt->pfn);
		expect_rule("I-memmap", NULL, 0);
		memmap_word_store(pt->pfn, wp);
		memmap_word_store(b.pfn, wa);
	}
	pte_free_rcu(pt);
}

/*
 * A present entry on a page whose word is a folio type but names no folio
 * (a slab descriptor): count_mapping's lookup misses, with live folios
 * (from test_imap_bad_entries) and with none (@empty, test_small_world).
 */
static void imap_entry_on_bogus_folio_word(bool empty)
{
	struct mm_struct *mm;
	_Atomic pte_t *pte;
	pmd_t pmd;
	memdesc_t saved;

	mm = mm_create(16, 0);
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	if (empty)	/* the folio goes, its table stays */
		CHECK_EQ(zap_page_range(mm, 0, 1), 1);
	pmd = atomic_load(pmd_offset(mm, 0));
	pte = pte_offset(pmd, 1);
	saved = memmap_word_load(200);
	CHECK_EQ(memdesc_type(saved), MEMDESC_BUDDY);
	/* the table's slab descriptor: no folio cache's object */
	memmap_word_store(200, memdesc_encode(MEMDESC_FILE,
		virt_to_slab(caa_container_of(pte_lockptr(pmd),
					      struct ptdesc, ptl))));
	atomic_store(pte, mk_pte(200, _PAGE_PRESENT));
	CHECK(fires("I-map", NULL, 0));
	atomic_store(pte, 0);
	memmap_word_store(200, saved);
	mm_destroy(mm);
}

/*
 * Table entries the checker must refuse: a PMD that is neither a table
 * nor a leaf, a non-present PTE that is not a migration entry, PMD leaves
 * on folios that are not PMD-sized at that page, and file folios mapped
 * outside their window.
 */
static void test_imap_bad_entries(void)
{
	struct mm_struct *mm;
	_Atomic pmd_t *pmdp;
	_Atomic pte_t *pte;
	pmd_t pmd;
	long base;

	setup();
	mm = mm_create(4 * pmd_nr(), 16);
	pmdp = pmd_offset(mm, 2 * pmd_nr());
	atomic_store(pmdp, (pmd_t)_PAGE_PRESENT);	/* no kind at all */
	expect_rule("I-map", NULL, 0);
	atomic_store(pmdp, mk_pte(folio_pfn(small), _PAGE_PRESENT | _PMD_LEAF));
	expect_rule("I-map", NULL, 0);
	atomic_store(pmdp, mk_pte(folio_pfn(large) + 1, _PAGE_PRESENT | _PMD_LEAF));
	expect_rule("I-map", NULL, 0);
	atomic_store(pmdp, 0);

	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	pmd = atomic_load(pmd_offset(mm, 0));
	pte = pte_offset(pmd, 1);
	atomic_store(pte, mk_pte(5, 0));	/* not present, not migration */
	expect_rule("I-map", NULL, 0);
	atomic_store(pte, mk_pte(5, _PAGE_MIGRATION));
	expect_rule("I-map", NULL, 0);
	/* a file page in the anon region: this mm has no window for it */
	atomic_store(pte, mk_pte(folio_pfn(small), _PAGE_PRESENT));
	expect_rule("I-map", NULL, 0);
	atomic_store(pte, 0);
	/* in the window, but one page off its index */
	base = mm_add_file_window(mm, m);
	CHECK(base >= 0);
	CHECK_EQ(filemap_map_pages(mm, m, 0, 1, false), 1);
	pte = pte_offset(atomic_load(pmd_offset(mm, base)), base + 1);
	atomic_store(pte, mk_pte(folio_pfn(small), _PAGE_PRESENT));
	expect_rule("I-map", NULL, 0);
	atomic_store(pte, 0);
	mm_destroy(mm);
	imap_entry_on_bogus_folio_word(false);
	teardown();
}

/*
 * Counter floors and the PMD count: a negative entire mapcount or
 * pincount, a PMD-mapped THP whose entire mapcount lost its PMD, and a
 * pinned small anon folio that is not exclusive.  Own world: PMD order 2.
 */
static void test_imap_counters_and_iexcl(void)
{
	struct mm_struct *mm;
	struct folio *thp, *a;
	struct mm_struct *owner;

	ft_world_up_pmd(1024, 2);
	mm = mm_create(16, 0);
	thp = ft_anon_folio(mm, 0, 2);	/* a PMD leaf */
	a = ft_anon_folio(mm, 4, 0);
	CHECK(pmd_leaf(atomic_load(pmd_offset(mm, 0))));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	atomic_store(&folio_large(thp)->_entire_mapcount, -1);
	expect_rule("I-map", NULL, 0);
	atomic_store(&folio_large(thp)->_entire_mapcount, 0);	/* 1 PMD in the tables */
	expect_rule("I-map", NULL, 0);
	atomic_store(&folio_large(thp)->_entire_mapcount, 1);
	atomic_store(&folio_large(thp)->_pincount, -1);
	expect_rule("I-map", NULL, 0);
	atomic_store(&folio_large(thp)->_pincount, 0);
	/* a recorded pin on a small anon folio that is shared */
	folio_ref_add(a, GUP_PIN_COUNTING_BIAS);
	folio_clear_flag(a, PG_anon_exclusive);
	CHECK(fires("I-excl", &(struct folio_held){ a, 0, 1 }, 1));
	folio_set_flag(a, PG_anon_exclusive);
	CHECK_EQ(ft_check(&(struct folio_held){ a, 0, 1 }, 1, NULL), 0);
	folio_ref_sub(a, GUP_PIN_COUNTING_BIAS);
	/* exclusive, but its owner is no mm: it cannot be this mm's */
	owner = folio_anon_mm(a);
	atomic_store(&a->mapping, (struct address_space *)FOLIO_MAPPING_ANON);
	expect_rule("I-excl", NULL, 0);
	atomic_store(&a->mapping,
		     (struct address_space *)((uintptr_t)owner | FOLIO_MAPPING_ANON));
	mm_destroy(mm);
	ft_world_down();
}

/*
 * I-dsq: entries that must not be on the deferred-split queue (not a live
 * folio, a file folio, an order-1 folio) and a list whose length counter
 * no longer agrees.  A partially mapped order-2 anon folio is queued for
 * real, and the others are linked after it by hand.
 */
static void test_idsq_bad_entries(void)
{
	struct mm_struct *mm;
	struct folio *q, *o1;
	struct cds_list_head *qn, saved;
	static struct large_folio fake;

	setup();
	mm = mm_create(16, 0);
	q = ft_anon_folio(mm, 0, 2);
	o1 = ft_anon_folio(mm, 8, 1);
	CHECK_EQ(zap_page_range(mm, 1, 1), 1);
	CHECK_EQ(deferred_split_count(), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	qn = &folio_large(q)->_deferred_list;

	CDS_INIT_LIST_HEAD(&fake._deferred_list);
	cds_list_add(&fake._deferred_list, qn);
	CHECK(fires("I-dsq", NULL, 0));		/* not live, and one too many */
	cds_list_del(&fake._deferred_list);

	saved = folio_large(large)->_deferred_list;
	cds_list_add(&folio_large(large)->_deferred_list, qn);	/* a file folio */
	expect_rule("I-dsq", NULL, 0);
	cds_list_del(&folio_large(large)->_deferred_list);
	folio_large(large)->_deferred_list = saved;

	saved = folio_large(o1)->_deferred_list;
	folio_set_partially_mapped(o1);
	cds_list_add(&folio_large(o1)->_deferred_list, qn);	/* order 1 */
	expect_rule("I-dsq", NULL, 0);
	cds_list_del(&folio_large(o1)->_deferred_list);
	folio_large(o1)->_deferred_list = saved;
	folio_clear_partially_mapped(o1);

	/* the queued folio dropped from the list behind the counter's back */
	{
		struct cds_list_head *prev = qn->prev;

		cds_list_del(qn);
		CHECK(fires("I-dsq", NULL, 0));
		cds_list_add(qn, prev);
	}
	mm_destroy(mm);
	teardown();
}

/* More I-cache shapes: a foreign folio in a slot, one whose index lies
 * after the slot, a mapping that is no file, and bad indexes. */
static void test_icache_more(void)
{
	struct address_space *m2, fake;
	unsigned long nr_slots;

	m2 = address_space_create(16);
	struct folio *x = ft_cache_folio(m2, 9, 0);

	atomic_store(&m->slots[9], x);		/* another file's folio */
	expect_rule("I-cache", NULL, 0);
	atomic_store(&m->slots[9], NULL);
	atomic_store(&m->slots[3], large);	/* index 4 > slot 3 */
	expect_rule("I-cache", NULL, 0);
	atomic_store(&m->slots[3], NULL);

	memset(&fake, 0, sizeof(fake));
	atomic_store(&x->mapping, &fake);	/* a file nobody created */
	CHECK(fires("I-cache", NULL, 0));
	atomic_store(&x->mapping, m2);

	atomic_store(&large->index, 5ul);	/* misaligned */
	CHECK(fires("I-cache", NULL, 0));
	atomic_store(&large->index, 16ul);	/* beyond the file */
	CHECK(fires("I-cache", NULL, 0));
	/* aligned and inside, but its last pages past the end */
	nr_slots = m->nr_slots;
	m->nr_slots = 14;
	atomic_store(&large->index, 12ul);
	CHECK(fires("I-cache", NULL, 0));
	m->nr_slots = nr_slots;
	atomic_store(&large->index, 4ul);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	CHECK_EQ(truncate_inode_pages_range(m2, 0, 16), 1);
	CHECK_EQ(address_space_destroy(m2), 0);
}

/* A file folio while no file exists at all: the file list is empty. */
static void test_icache_no_files(void)
{
	struct address_space fake;
	struct folio *f;

	f = folio_alloc(0);
	memset(&fake, 0, sizeof(fake));
	atomic_store(&f->mapping, &fake);
	CHECK(fires("I-cache", &(struct folio_held){ f, 1, 0 }, 1));
	atomic_store(&f->mapping, NULL);
	folio_put(f);
}

/* More files than the checker's first guess (16): its list grows. */
static void test_icache_many_files(void)
{
	struct address_space *ms[20];

	for (int i = 0; i < 20; i++)
		ms[i] = address_space_create(4);
	CHECK(ft_cache_folio(ms[19], 1, 0) != NULL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	atomic_store(&ms[19]->slots[2], ms[19]->slots[1]);
	expect_rule("I-cache", NULL, 0);
	atomic_store(&ms[19]->slots[2], NULL);
	CHECK_EQ(truncate_inode_pages_range(ms[19], 0, 4), 1);
	for (int i = 0; i < 20; i++)
		CHECK_EQ(address_space_destroy(ms[i]), 0);
}

/*
 * I-free in the other caches: a free large descriptor still linked on the
 * deferred-split queue, a slab descriptor whose page does not point at it,
 * and corrupt free lists in the large-folio and slab caches (a free
 * pointer past the slab's last object).
 */
static void test_ifree_other_caches(void)
{
	struct folio *f;
	struct slab *d, *s, *ss;
	struct cds_list_head *saved_next, other;
	void *saved;

	f = folio_alloc(2);
	folio_put(f);
	saved_next = large_folio_desc(f)->_deferred_list.next;
	large_folio_desc(f)->_deferred_list.next = &other;
	expect_rule("I-free", NULL, 0);
	large_folio_desc(f)->_deferred_list.next = saved_next;
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	d = kmem_cache_alloc(slab_cache);
	CHECK(d != NULL);
	d->pfn = folio_pfn(small);	/* a folio's page, not this slab's */
	expect_rule("I-free", NULL, 0);
	kmem_cache_free(slab_cache, d);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	s = virt_to_slab(large);
	saved = s->freelist;
	s->freelist = (char *)pfn_to_virt(s->pfn) + PAGE_SIZE;
	expect_rule("I-free", NULL, 0);
	s->freelist = saved;
	ss = virt_to_slab(s);		/* the slab cache's own slab */
	saved = ss->freelist;
	ss->freelist = (char *)pfn_to_virt(ss->pfn) + PAGE_SIZE;
	expect_rule("I-free", NULL, 0);
	ss->freelist = saved;
}

/* dump_folio(): nowhere to print, no folio, no reason, flags by name. */
static void test_dump_folio(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	dump_folio(NULL, small, "nowhere");	/* must not crash */
	out = open_memstream(&buf, &len);
	dump_folio(out, NULL, "why");
	dump_folio(out, NULL, NULL);
	folio_set_flag(small, PG_dirty);
	dump_folio(out, small, NULL);
	folio_clear_flag(small, PG_dirty);
	dump_folio(out, large, "because");
	fclose(out);
	CHECK(strstr(buf, "folio: (null) reason: why\n") != NULL);
	CHECK(strstr(buf, "folio: (null)\n") != NULL);
	CHECK(strstr(buf, "dirty") != NULL);
	CHECK(strstr(buf, "large_desc") != NULL);
	CHECK(strstr(buf, "order:2") != NULL);
	CHECK(strstr(buf, "       reason: because\n") != NULL);
	CHECK(strstr(buf, "reason: nowhere") == NULL);
	free(buf);
}

extern struct fl_lock deferred_split_lock;

static jmp_buf bug_jmp;
static const char *bug_cond;
static const struct folio *bug_folio;

static void bug_hook(const char *file, int line, const char *func,
		     const char *cond, const struct folio *f)
{
	(void)file;
	(void)line;
	(void)func;
	bug_cond = cond;
	bug_folio = f;
	longjmp(bug_jmp, 1);
}

/*
 * The debug back ends: folio_bug() hands its report to the hook first (a
 * harness's hook does not return; this one jumps back), folio_warn()
 * prints and returns, folio_debug_name() names the world's locks and a
 * page table's PTL and nothing else, folio_mutant_name() names the build.
 */
static void test_debug_back_ends(void)
{
	char name[64];
	struct ptdesc *pt;
	int local;

	atomic_store(&folio_bug_hook, bug_hook);
	if (!setjmp(bug_jmp))
		folio_bug(__FILE__, __LINE__, __func__, "test", small);
	atomic_store(&folio_bug_hook, NULL);
	CHECK(bug_cond && strcmp(bug_cond, "test") == 0);
	CHECK(bug_folio == small);
	folio_warn(__FILE__, __LINE__, "test_debug_back_ends: expected warning",
		   small);

	CHECK_EQ(folio_debug_name(&deferred_split_lock, name, sizeof(name)), 1);
	CHECK(strcmp(name, "deferred_split_lock") == 0);
	CHECK_EQ(folio_debug_name(&folio_world.files_lock, name, sizeof(name)), 1);
	CHECK(strcmp(name, "world.files_lock") == 0);
	CHECK_EQ(folio_debug_name(&folio_world.mms_lock, name, sizeof(name)), 1);
	CHECK(strcmp(name, "world.mms_lock") == 0);
	pt = pte_alloc_one();
	CHECK_EQ(folio_debug_name(&pt->ptl, name, sizeof(name)), 1);
	CHECK(strncmp(name, "ptl(table ", 10) == 0);
	pte_free_rcu(pt);
	CHECK_EQ(folio_debug_name(&local, name, sizeof(name)), 0);
	if (FOLIO_MUTANT_ID == FOLIO_MUTANT_ID_none)
		CHECK(folio_mutant_name() == NULL);
	else
		CHECK(folio_mutant_name() != NULL);
}

/* The cases above that share a world, one world each (a world's set-up
 * and teardown cost more than the checks). */
static void test_small_world(void)
{
	ft_world_up(256);
	test_no_live_folios();
	imap_entry_on_bogus_folio_word(true);
	test_icache_no_files();
	test_icache_many_files();	/* the only one with files: last */
	ft_world_down();
}

static void test_imemmap_more(void)
{
	setup();
	test_imemmap_foreign_words();
	test_imemmap_folio_shape();
	test_imemmap_free_block_shape();
	test_imemmap_free_count();
	teardown();
}

static void test_icache_and_ifree_more(void)
{
	setup();
	test_icache_more();
	test_ifree_other_caches();
	teardown();
}

static void test_dump_and_debug(void)
{
	setup();
	test_dump_folio();
	test_debug_back_ends();
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
	FT_RUN(test_small_world);
	FT_RUN(test_imemmap_more);
	FT_RUN(test_imap_bad_entries);
	FT_RUN(test_imap_counters_and_iexcl);
	FT_RUN(test_idsq_bad_entries);
	FT_RUN(test_icache_and_ifree_more);
	FT_RUN(test_dump_and_debug);
	folio_thread_offline();
	return ft_done();
}
