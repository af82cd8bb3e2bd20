/* SPDX-License-Identifier: MIT */
/*
 * test_reuse.c - R5: lookup vs truncate and reuse of the descriptor,
 * forced deterministically at the race points of filemap_get_folio() and
 * folio_try_get_pfn().
 *
 * The interleaving each test forces (reader = the lookup, writer = the
 * hook, run in the reader's thread between two of its steps):
 *   1. reader loads slot[i] (or memmap word) == F, no reference yet
 *   2. writer truncates F: slots cleared, refs dropped, F freed; the
 *      descriptor goes straight back to folio_cache (TYPESAFE_BY_RCU)
 *   3. writer allocates G, which gets F's descriptor (G == F as pointers),
 *      and does something with it (another index, the same index, freeze)
 *   4. reader's try_get on the stale pointer: fails (G free or frozen) or
 *      succeeds on G
 *   5. reader's reload of slot[i] / word(pfn) must reject a G that is not
 *      the folio at i; the test checks the reader returns the right answer
 *      and that without step 5 it would have been wrong.
 * Run: build/<preset>/tests/test_reuse
 */
#include "folio/window.h"
#include "ft_world.h"
#include "../core/src/internal.h"	/* test-only: pte_alloc_one */

enum scenario {
	REUSE_OTHER_INDEX,	/* G cached elsewhere: try_get ok, reload rejects */
	REUSE_SAME_INDEX,	/* G cached at i: the reader may keep it */
	REUSE_FROZEN,		/* G frozen: try_get fails */
	REUSE_PFN_ELSEWHERE,	/* pfn path: G at other pages */
};

static struct {
	enum scenario sc;
	struct address_space *m;
	unsigned long index;
	int fired;
	struct folio *g;
	bool got_wrong_identity; /* at RP_*_GOT: held G, which is not what we asked for */
	bool in_writer;		/* the writer's own lookups must not fire */
	unsigned long pfn;
	struct ptdesc *table;	/* pfn case: holds F's old page */
} s;

static void writer_truncate_and_reuse(struct folio *f)
{
	/* 2. truncate F: it is freed, its descriptor is free at once */
	CHECK_EQ(truncate_inode_pages_range(s.m, folio_index(f),
					    folio_index(f) + 1), 1);
	CHECK_EQ(folio_ref_count(f), 0);
	/*
	 * 3. reuse: the cache hands the same descriptor out again (order-0
	 * folios come from folio_cache, so G is order 0 too).  For the pfn
	 * case a page table first takes F's old page off this CPU's list
	 * (last in, first out; it cannot merge, its buddy page is held), so
	 * G lands on another page.
	 */
	if (s.sc == REUSE_PFN_ELSEWHERE)
		s.table = pte_alloc_one();
	s.g = folio_alloc(0);
	CHECK(s.g == f);
	switch (s.sc) {
	case REUSE_OTHER_INDEX:
		folio_lock(s.g);
		CHECK_EQ(filemap_add_folio(s.m, s.g, s.index + 8), 0);
		folio_unlock(s.g);
		folio_put(s.g);
		break;
	case REUSE_SAME_INDEX:
		folio_lock(s.g);
		CHECK_EQ(filemap_add_folio(s.m, s.g, s.index), 0);
		folio_unlock(s.g);
		folio_put(s.g);
		break;
	case REUSE_FROZEN:
		CHECK(folio_ref_freeze(s.g, 1));
		break;
	case REUSE_PFN_ELSEWHERE:
		CHECK(s.pfn - folio_pfn(s.g) >= folio_nr_pages(s.g));
		break;
	}
}

static void hook(enum folio_race_point rp, void *arg)
{
	struct folio *f = arg;

	if (s.in_writer)
		return;
	if ((rp == RP_FILEMAP_LOADED || rp == RP_TRY_GET_PFN_DECODED) &&
	    !s.fired) {
		s.fired = 1;
		s.in_writer = true;
		writer_truncate_and_reuse(f);
		s.in_writer = false;
	} else if (rp == RP_FILEMAP_GOT && s.fired == 1) {
		s.fired = 2;
		/* the reference we hold is G's, and G is not the folio at i */
		s.got_wrong_identity = folio_mapping(f) != s.m ||
				       folio_index(f) != s.index;
	} else if (rp == RP_TRY_GET_PFN_GOT && s.fired == 1) {
		s.fired = 2;
		s.got_wrong_identity =
			s.pfn - folio_pfn(f) >= folio_nr_pages(f);
	}
}

static struct folio *run_lookup(enum scenario sc)
{
	struct folio *r;

	s.sc = sc;
	s.fired = 0;
	s.got_wrong_identity = false;
	s.g = NULL;
	s.index = 3;
	s.m = address_space_create(16);
	CHECK(ft_cache_folio(s.m, s.index, 0) != NULL);
	atomic_store(&folio_race_hook, hook);
	r = filemap_get_folio(s.m, s.index);	/* 1, 4, 5 */
	atomic_store(&folio_race_hook, NULL);
	CHECK(s.fired >= 1);
	return r;
}

static void finish(void)
{
	truncate_inode_pages_range(s.m, 0, 16);
	CHECK_EQ(address_space_destroy(s.m), 0);
}

static void test_reuse_other_index(void)
{
	unsigned long win[FW_NR];
	struct folio *r;

	ft_world_up(1024);
	folio_window_reset();
	r = run_lookup(REUSE_OTHER_INDEX);
	CHECK(r == NULL);			/* slot i is empty now */
	CHECK(s.got_wrong_identity);		/* the try_get did succeed on G */
	/* the reload saw another folio: R5's window, counted on a real
	 * thread (per CPU, summed: foliotorture reports these) */
	folio_window_read(win);
	CHECK(win[FW_R5] >= 1);
	CHECK_EQ(win[FW_R1] + win[FW_R2] + win[FW_R3], 0);
	CHECK_EQ(folio_ref_count(s.g), 1);	/* the reader's put undone exactly */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	finish();
	ft_world_down();
}

static void test_reuse_same_index(void)
{
	struct folio *r;

	ft_world_up(1024);
	r = run_lookup(REUSE_SAME_INDEX);
	/* G is genuinely the folio at i now: the reader may have it */
	CHECK(r == s.g);
	CHECK(!s.got_wrong_identity);
	CHECK_EQ(ft_check(&(struct folio_held){ r, 1, 0 }, 1, NULL), 0);
	folio_put(r);
	finish();
	ft_world_down();
}

static void test_reuse_frozen(void)
{
	struct folio *r;

	ft_world_up(1024);
	r = run_lookup(REUSE_FROZEN);
	CHECK(r == NULL);
	CHECK_EQ(s.fired, 1);			/* try_get never succeeded */
	CHECK_EQ(folio_ref_count(s.g), 0);	/* nothing leaked into the frozen count */
	folio_ref_unfreeze(s.g, 1);
	folio_put(s.g);
	finish();
	ft_world_down();
}

static void test_reuse_pfn_path(void)
{
	struct folio *r;

	ft_world_up(1024);
	s.sc = REUSE_PFN_ELSEWHERE;
	s.fired = 0;
	s.index = 0;
	s.m = address_space_create(16);
	struct folio *f = ft_cache_folio(s.m, 0, 0), *nb[64];
	int n = 0;

	s.pfn = folio_pfn(f);
	/* hold F's buddy page so F's page stays an order-0 hole */
	do
		nb[n] = folio_alloc(0);
	while (folio_pfn(nb[n++]) != (s.pfn ^ 1) && n < 64);
	CHECK_EQ(folio_pfn(nb[n - 1]), s.pfn ^ 1);
	atomic_store(&folio_race_hook, hook);
	rcu_read_lock_model();
	r = folio_try_get_pfn(s.pfn, 1);
	rcu_read_unlock_model();
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(s.fired, 2);
	CHECK(s.got_wrong_identity);	/* held G, which does not cover pfn */
	/* the word reload rejected G; pfn now holds no folio or another one */
	CHECK(r == NULL || (s.pfn - folio_pfn(r) < folio_nr_pages(r)));
	if (r)
		folio_put(r);
	CHECK_EQ(folio_ref_count(s.g), 1);
	folio_put(s.g);
	while (n)
		folio_put(nb[--n]);
	CHECK(s.table != NULL);
	pte_free_rcu(s.table);
	rcu_barrier_model();
	finish();
	ft_world_down();
}

/* Window names: each parses back to itself; past the last there is none. */
static void test_window_names(void)
{
	for (unsigned int w = 0; w < FW_NR; w++) {
		const char *name = folio_window_name(w);

		CHECK(name != NULL);
		if (name)
			CHECK_EQ(folio_window_parse(name), w);
	}
	CHECK(folio_window_name(FW_NR) == NULL);
	CHECK_EQ(folio_window_parse("no-such-window"), -1);
}

/*
 * The cache-line allocations of a file and an mm: a zero-sized slot or
 * PMD array still gets a line; an array no allocator can give fails the
 * create cleanly (not under the sanitizers, whose allocators report a
 * request that large as an error instead of returning NULL).
 */
static void test_empty_and_impossible_sizes(void)
{
	struct address_space *m;
	struct mm_struct *mm;

	ft_world_up(1024);
	m = address_space_create(0);
	CHECK(m != NULL);
	if (m)
		CHECK_EQ(address_space_destroy(m), 0);
	mm = mm_create(0, 0);
	CHECK(mm != NULL);
	if (mm)
		mm_destroy(mm);
#ifndef FT_SANITIZED
	CHECK(address_space_create(1ul << 60) == NULL);
	CHECK(mm_create(1ul << 62, 0) == NULL);
#endif
	ft_world_down();	/* nothing left behind by the failures */
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_reuse_other_index);
	FT_RUN(test_reuse_same_index);
	FT_RUN(test_reuse_frozen);
	FT_RUN(test_reuse_pfn_path);
	FT_RUN(test_window_names);
	FT_RUN(test_empty_and_impossible_sizes);
	folio_thread_offline();
	return ft_done();
}
