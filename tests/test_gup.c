/* SPDX-License-Identifier: MIT */
/*
 * test_gup.c - GUP-fast GET/PIN, batched and per page, unpin, and the
 * races of docs/design.md section 7 that involve GUP, each forced at a race
 * point:
 *   R2  GUP-fast vs split / free+reuse of the folio: recheck after the grab
 *   R3  GUP-fast vs lazyfree discard: clear; mb; read rc  vs  grab; mb;
 *       reread PTE -- both orders
 * Run: build/<preset>/tests/test_gup
 */
#include <errno.h>

#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/vmscan.h"
#include "ft_world.h"

#define NR 4096
#define PO 4
#define PN (1ul << PO)

static struct mm_struct *mm;
static unsigned long pfns[8 * PN];

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(8 * PN, PN);
}

/* The test's files: destroyed after the mm that maps them (a mapped file
 * cannot be destroyed: -EBUSY). */
static struct address_space *files[MM_MAX_WINDOWS + 2];
static unsigned int nfiles;

static void down(void)
{
	mm_destroy(mm);
	while (nfiles)
		CHECK_EQ(address_space_destroy(files[--nfiles]), 0);
	ft_world_down();
}

static struct folio *folio_at(unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(mm, va));
	pte_t pte = pmd_leaf(pmd)  ? pmd :	/* the folio's first page */
		    pmd_table(pmd) ? atomic_load(pte_offset(pmd, va)) : 0;

	return pte_present(pte) ? pfn_folio(pte_pfn(pte)) : NULL;
}

static void test_get_and_pin_counts(void)
{
	struct folio *large, *small, *huge;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 2, true), 0);		/* 0-3 */
	CHECK_EQ(do_anonymous_page(mm, 4, 0, true), 0);		/* 4 */
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);	/* PMD */
	large = folio_at(0);
	small = folio_at(4);
	huge = folio_at(PN);
	for (int batched = 0; batched < 2; batched++) {
		long (*gup)(struct mm_struct *, unsigned long, unsigned long,
			    unsigned int, unsigned long *) =
			batched ? gup_fast : gup_fast_unbatched;

		CHECK_EQ(gup(mm, 0, 5, FOLL_GET, pfns), 5);
		CHECK_EQ(folio_ref_count(large), 4 + 4);
		CHECK_EQ(folio_ref_count(small), 1 + 1);
		CHECK_EQ(ft_check((struct folio_held[]){ { large, 4, 0 },
							  { small, 1, 0 } },
				  2, NULL), 0);
		if (batched)
			unpin_user_pages(pfns, 5, FOLL_GET);
		else
			unpin_user_pages_unbatched(pfns, 5, FOLL_GET);

		CHECK_EQ(gup(mm, 0, 5, FOLL_PIN | FOLL_WRITE, pfns), 5);
		CHECK_EQ(folio_pincount(large), 4);
		CHECK_EQ(folio_ref_count(large), 8);
		CHECK_EQ(folio_ref_count(small), 1 + GUP_PIN_COUNTING_BIAS);
		CHECK(folio_maybe_dma_pinned(large) && folio_maybe_dma_pinned(small));
		CHECK_EQ(ft_check((struct folio_held[]){ { large, 0, 4 },
							  { small, 0, 1 } },
				  2, NULL), 0);
		unpin_user_pages(pfns, 5, FOLL_PIN);
		CHECK(!folio_maybe_dma_pinned(large));

		/* a PMD leaf: refs for the pages asked for */
		CHECK_EQ(gup(mm, PN + 2, PN - 2, FOLL_PIN, pfns), (long)PN - 2);
		CHECK_EQ(folio_pincount(huge), (int)PN - 2);
		CHECK_EQ(pfns[0], folio_pfn(huge) + 2);
		unpin_user_pages(pfns, PN - 2, FOLL_PIN);
		CHECK_EQ(folio_ref_count(huge), 1);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_short_counts(void)
{
	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 1, true), 0);
	/* a hole at 2: stop there */
	CHECK_EQ(gup_fast(mm, 0, 4, FOLL_GET, pfns), 2);
	unpin_user_pages(pfns, 2, FOLL_GET);
	/* GET and PIN together, or neither: refused */
	CHECK_EQ(gup_fast(mm, 0, 2, FOLL_GET | FOLL_PIN, pfns), 0);
	CHECK_EQ(gup_fast(mm, 0, 2, 0, pfns), 0);
	/* out of the address space */
	CHECK_EQ(gup_fast(mm, ~0ul - 4, 2, FOLL_GET, pfns), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_write_needs_writable(void)
{
	struct address_space *m;
	_Atomic pte_t *p;
	long base;

	up();
	m = address_space_create(PN);
	base = mm_add_file_window(mm, m);
	CHECK(ft_cache_folio(m, 0, 0) != NULL);
	CHECK_EQ(filemap_map_pages(mm, m, 0, 1, false), 1);
	p = pte_offset(atomic_load(pmd_offset(mm, (unsigned long)base)),
		       (unsigned long)base);
	atomic_fetch_and(p, ~(pte_t)_PAGE_WRITE);	/* write-protect it */
	CHECK_EQ(gup_fast(mm, (unsigned long)base, 1, FOLL_GET | FOLL_WRITE, pfns), 0);
	CHECK_EQ(gup_fast(mm, (unsigned long)base, 1, FOLL_GET, pfns), 1);
	unpin_user_pages_dirty_lock(pfns, 1, FOLL_GET);
	CHECK(folio_test_dirty(pfn_folio(pfns[0])));
	truncate_inode_pages_range(m, 0, PN);
	files[nfiles++] = m;
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* ---- races, forced at race points (the hook runs the other side) ---- */

enum gup_race { R_SPLIT, R_REUSE, R_DISCARD_FIRST, R_GUP_FIRST };
static enum gup_race race;
static int fired;
static int reclaim_rc;
static struct folio *victim;

static void reclaim_victim(void)
{
	folio_get(victim);
	folio_lock(victim);
	reclaim_rc = reclaim_lazyfree_folio(victim, true);
	if (reclaim_rc) {
		folio_unlock(victim);
		folio_put(victim);
	}
}

static void hook(enum folio_race_point rp, void *arg)
{
	if (fired)
		return;
	if (race == R_SPLIT && rp == RP_GUP_GRABBED) {
		/*
		 * GUP holds refs and has not rechecked.  A split now must fail
		 * its freeze (our refs are extra): -EAGAIN, and the mapping
		 * comes back unchanged, so GUP's recheck passes.
		 */
		fired = 1;
		folio_get(victim);
		folio_lock(victim);
		CHECK_EQ(split_folio(victim), -EAGAIN);
		folio_unlock(victim);
		folio_put(victim);
	} else if (race == R_REUSE && rp == RP_GUP_DECODED) {
		/* between decode and grab: unmap and free it, reuse the desc */
		fired = 1;
		CHECK_EQ(zap_page_range(mm, 0, 4), 4);
		CHECK_EQ(folio_ref_count(victim), 0);
		CHECK(folio_alloc_anon(2) == victim);	/* kept by the test */
	} else if (race == R_DISCARD_FIRST && rp == RP_RECLAIM_CLEARED) {
		/* reclaim cleared the PTEs: GUP now finds nothing present */
		fired = 1;
		CHECK_EQ(gup_fast(mm, 0, 4, FOLL_PIN, pfns), 0);
	} else if (race == R_GUP_FIRST && rp == RP_GUP_GRABBED) {
		/* GUP holds refs: reclaim must see rc != 1 + mapcount */
		fired = 1;
		reclaim_victim();
		CHECK_EQ(reclaim_rc, -EAGAIN);
	}
}

static void run_race(enum gup_race r)
{
	race = r;
	fired = 0;
	atomic_store(&folio_race_hook, hook);
}

static void stop_race(void)
{
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
}

static void test_race_gup_vs_split(void)
{
	long n;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 2, true), 0);
	victim = folio_at(0);
	run_race(R_SPLIT);
	n = gup_fast(mm, 0, 4, FOLL_PIN, pfns);
	stop_race();
	CHECK_EQ(n, 4);
	CHECK_EQ(folio_order(victim), 2);	/* never split while pinned */
	CHECK_EQ(folio_pincount(victim), 4);
	CHECK_EQ(ft_check(&(struct folio_held){ victim, 0, 4 }, 1, NULL), 0);
	unpin_user_pages(pfns, 4, FOLL_PIN);
	/* unpinned: the split succeeds */
	folio_get(victim);
	folio_lock(victim);
	CHECK_EQ(split_folio(victim), 0);
	folio_unlock(victim);
	folio_put(victim);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_race_gup_vs_free_and_reuse(void)
{
	long n;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 2, true), 0);
	victim = folio_at(0);
	run_race(R_REUSE);
	n = gup_fast(mm, 0, 4, FOLL_GET, pfns);
	stop_race();
	/* the descriptor is live again: the grab succeeded on its new life,
	 * the PTE recheck refused it, and exactly the refs taken came back */
	CHECK_EQ(n, 0);
	CHECK_EQ(folio_ref_count(victim), 1);
	CHECK_EQ(ft_check(&(struct folio_held){ victim, 1, 0 }, 1, NULL), 0);
	folio_put(victim);
	down();
}

static void lazyfree_victim(void)
{
	CHECK_EQ(do_anonymous_page(mm, 0, 2, true), 0);
	victim = folio_at(0);
	CHECK_EQ(madvise_free(mm, 0, 4), 1);
	CHECK(folio_test_lazyfree(victim));
}

static void test_race_discard_then_gup(void)
{
	up();
	lazyfree_victim();
	run_race(R_DISCARD_FIRST);
	reclaim_victim();
	stop_race();
	CHECK_EQ(reclaim_rc, 0);	/* discarded; GUP got nothing */
	CHECK(folio_at(0) == NULL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_race_gup_then_discard(void)
{
	long n;

	up();
	lazyfree_victim();
	run_race(R_GUP_FIRST);
	n = gup_fast(mm, 0, 4, FOLL_PIN, pfns);
	stop_race();
	/* reclaim restored the PTEs (same values): GUP's recheck passes */
	CHECK_EQ(n, 4);
	CHECK(folio_at(0) == victim);
	/* a clean folio with an extra reference stays lazyfree (2025 rule) */
	CHECK(folio_test_lazyfree(victim));
	CHECK_EQ(ft_check(&(struct folio_held){ victim, 0, 4 }, 1, NULL), 0);
	unpin_user_pages(pfns, 4, FOLL_PIN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Requests GUP-fast refuses before it walks anything: neither or both of
 * FOLL_GET and FOLL_PIN, a start past the mm's last PMD, a range that
 * runs past it.  mm_walk_pfn() past the end finds nothing either.
 */
static void test_bad_requests(void)
{
	struct folio *f;
	unsigned long end;

	up();
	end = mm->nr_pmds << pmd_order();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	f = folio_at(0);
	CHECK_EQ(gup_fast(mm, 0, 1, 0, pfns), 0);
	CHECK_EQ(gup_fast(mm, 0, 1, FOLL_GET | FOLL_PIN, pfns), 0);
	CHECK_EQ(gup_fast(mm, end, 1, FOLL_GET, pfns), 0);
	CHECK_EQ(gup_fast_unbatched(mm, end - 1, 2, FOLL_GET, pfns), 0);
	CHECK_EQ(folio_ref_count(f), 1);	/* nothing was taken */
	CHECK_EQ(mm_walk_pfn(mm, end), ~0ul);
	CHECK_EQ(mm_walk_pfn(mm, 0), folio_pfn(f));
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_get_and_pin_counts);
	FT_RUN(test_short_counts);
	FT_RUN(test_write_needs_writable);
	FT_RUN(test_race_gup_vs_split);
	FT_RUN(test_race_gup_vs_free_and_reuse);
	FT_RUN(test_race_discard_then_gup);
	FT_RUN(test_race_gup_then_discard);
	FT_RUN(test_bad_requests);
	folio_thread_offline();
	return ft_done();
}
