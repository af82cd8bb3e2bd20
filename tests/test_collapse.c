/* SPDX-License-Identifier: MIT */
/*
 * test_collapse.c - khugepaged's collapse (docs/design.md 5.15): a full
 * PMD of small anon folios becomes a THP; what it refuses; and R4, the
 * race with GUP-fast, forced from both sides: GUP between the PMD clear
 * and the refcount check (its PMD recheck fails, collapse goes on), and
 * collapse between GUP's grab and its recheck (collapse sees the extra
 * reference and puts the PMD back; GUP keeps its page).
 * Run: build/<preset>/tests/test_collapse
 */
#include <errno.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/slab.h"
#include "ft_world.h"
#include "../core/src/internal.h"	/* test-only: ptdesc_cache, deposits */

#define NR 4096
#define PO 3
#define PN (1ul << PO)

static struct mm_struct *mm, *child;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(4 * PN, PN);
	child = mm_create(4 * PN, PN);
}

static void down(void)
{
	mm_destroy(child);
	mm_destroy(mm);
	ft_world_down();
}

static void fill(unsigned long va)
{
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(do_anonymous_page(mm, va + i, 0, i & 1), 0);
}

static void test_collapse_and_refusals(void)
{
	unsigned long pfn;
	pmd_t pmd;
	struct folio *t;

	up();
	CHECK_EQ(collapse_huge_page(mm, 1), -EINVAL);
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);	/* nothing there */
	fill(0);
	CHECK_EQ(zap_page_range(mm, 3, 1), 1);
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);	/* a hole */
	CHECK_EQ(do_anonymous_page(mm, 3, 0, true), 0);
	CHECK_EQ(gup_fast(mm, 5, 1, FOLL_PIN, &pfn), 1);
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);	/* pinned */
	CHECK(pmd_table(atomic_load(pmd_offset(mm, 0))));
	unpin_user_pages(&pfn, 1, FOLL_PIN);
	CHECK_EQ(mm_fork(child, mm), (long)PN);
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);	/* shared */
	CHECK(zap_page_range(child, 0, PN) == (long)PN);
	for (unsigned long i = 0; i < PN; i++)	/* exclusive again */
		CHECK_EQ(do_wp_page(mm, i, false), WP_REUSED);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
	pmd = atomic_load(pmd_offset(mm, 0));
	CHECK(pmd_leaf(pmd) && (pmd & _PAGE_WRITE));
	t = pfn_folio(pte_pfn(pmd));
	CHECK(folio_order(t) == PO && folio_test_anon_exclusive(t));
	CHECK_EQ(folio_entire_mapcount(t), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* and back: split the PMD, then the folio, then collapse again */
	split_huge_pmd(mm, 0);
	folio_get(t);
	folio_lock(t);
	CHECK_EQ(split_folio(t), 0);
	folio_unlock(t);
	folio_put(t);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* R4, collapse first: GUP-fast runs after the PMD was cleared */
static int fired;
static long got;
static unsigned long gpfn;

static void cleared_hook(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_COLLAPSE_CLEARED || fired++)
		return;
	got = gup_fast(mm, 2, 1, FOLL_GET, &gpfn);
}

static void test_race_collapse_then_gup(void)
{
	up();
	fill(0);
	fired = 0;
	atomic_store(&folio_race_hook, cleared_hook);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	CHECK_EQ(got, 0);	/* the PMD was gone: nothing grabbed */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R4, GUP first: GUP-fast has grabbed the small folio and not yet
 * rechecked the PMD; collapse runs whole: after its clear and barrier it
 * sees refcount 2, puts the PMD back and fails; GUP's recheck finds the
 * same PMD and keeps its page.  Without the barrier pairing (or the
 * refcount check), collapse would free a page GUP holds.
 */
static void grabbed_hook(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_GUP_GRABBED || fired++)
		return;
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);
}

static void test_race_gup_then_collapse(void)
{
	up();
	fill(0);
	fired = 0;
	atomic_store(&folio_race_hook, grabbed_hook);
	CHECK_EQ(gup_fast(mm, 2, 1, FOLL_PIN, &gpfn), 1);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	CHECK(pmd_table(atomic_load(pmd_offset(mm, 0))));
	CHECK_EQ(ft_check(&(struct folio_held){ pfn_folio(gpfn), 0, 1 }, 1, NULL), 0);
	unpin_user_pages(&gpfn, 1, FOLL_PIN);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Out of memory: with no free page the THP cannot be allocated; with
 * exactly one PMD block free (the THP fits) and the page-table descriptor
 * cache empty, the deposit table cannot (its slab needs a page the THP
 * took).  Either way -ENOMEM, the PTE table and its folios untouched and
 * every page given back; with memory back the same collapse succeeds.
 */
static void *ptds[NR];
static unsigned long nptds;

static void test_collapse_enomem(void)
{
	struct folio *x, *p3;
	unsigned long map0;

	ft_pin_cpu0();
	up();
	fill(0);
	p3 = pfn_folio(mm_walk_pfn(mm, 3));
	map0 = folio_mapcount(p3);
	x = folio_alloc_anon(PO);	/* a PMD block to hand back */
	CHECK(x != NULL);
	ft_eat_all();
	/* the descriptor cache drained while no page can refill it */
	nptds = 0;
	while (nptds < NR && (ptds[nptds] = kmem_cache_alloc(ptdesc_cache)))
		nptds++;
	CHECK(nptds < NR);
	CHECK(pte_alloc_one() == NULL);
	CHECK_EQ(collapse_huge_page(mm, 0), -ENOMEM);	/* no THP */
	folio_put(x);
	CHECK_EQ(nr_free_pages(), PN);
	CHECK_EQ(collapse_huge_page(mm, 0), -ENOMEM);	/* THP, no table */
	CHECK_EQ(nr_free_pages(), PN);			/* the THP came back */
	CHECK(pmd_table(atomic_load(pmd_offset(mm, 0))));
	CHECK(pfn_folio(mm_walk_pfn(mm, 3)) == p3);
	CHECK_EQ(folio_mapcount(p3), map0);
	CHECK(folio_test_anon_exclusive(p3) && !folio_test_locked(p3));
	while (nptds)
		kmem_cache_free(ptdesc_cache, ptds[--nptds]);
	ft_give_back(FT_ALL);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
	CHECK(pmd_leaf(atomic_load(pmd_offset(mm, 0))));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * The arguments: a va past the anon area (a file window's) is refused
 * like a misaligned one; a walk past the mm finds nothing.  And a table
 * left on the deposit list with no leaf to withdraw it is freed by
 * mm_destroy (the world's leak check at the end fails otherwise).
 */
static void test_collapse_bounds_and_leftover_deposit(void)
{
	struct ptdesc *pt;

	up();
	CHECK_EQ(collapse_huge_page(mm, mm->anon_pages), -EINVAL);
	CHECK_EQ(collapse_huge_page(mm, mm->anon_pages + PN), -EINVAL);
	CHECK_EQ(mm_walk_pfn(mm, mm->nr_pmds << PO), ~0ul);
	CHECK_EQ(mm_walk_pfn(mm, ~0ul >> 1), ~0ul);
	pt = pte_alloc_one();
	CHECK(pt != NULL);
	if (pt) {
		fl_lock(&child->pmd_lock);
		pgtable_trans_huge_deposit(child, pt);
		fl_unlock(&child->pmd_lock);
	}
	down();
}

/*
 * GUP-fast on a PMD leaf vs a zap that frees the THP between the decode
 * and the grab (RP_GUP_DECODED): the try_add meets refcount 0 and fails;
 * GUP returns 0 and holds nothing.
 */
static unsigned long leaf_pfn;

static void decoded_zap_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_GUP_DECODED || fired++)
		return;
	CHECK_EQ(folio_pfn((struct folio *)arg), leaf_pfn);
	CHECK_EQ(zap_page_range(mm, PN, PN), 1);
	CHECK_EQ(folio_ref_count((struct folio *)arg), 0);
}

static void test_race_gup_leaf_vs_zap(void)
{
	unsigned long pfns[2] = { 0, 0 }, free0;

	for (int batched = 0; batched < 2; batched++) {
		up();
		CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
		leaf_pfn = pte_pfn(atomic_load(pmd_offset(mm, PN)));
		free0 = nr_free_pages();
		fired = 0;
		atomic_store(&folio_race_hook, decoded_zap_hook);
		if (batched)
			CHECK_EQ(gup_fast(mm, PN + 1, 2, FOLL_PIN, pfns), 0);
		else
			CHECK_EQ(gup_fast_unbatched(mm, PN + 1, 2, FOLL_GET, pfns), 0);
		atomic_store(&folio_race_hook, NULL);
		CHECK_EQ(fired, 1);
		CHECK_EQ(atomic_load(pmd_offset(mm, PN)), 0);
		CHECK_EQ(nr_free_pages(), free0 + PN);	/* freed, nothing held */
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		down();
	}
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_collapse_and_refusals);
	FT_RUN(test_race_collapse_then_gup);
	FT_RUN(test_race_gup_then_collapse);
	FT_RUN(test_collapse_bounds_and_leftover_deposit);
	FT_RUN(test_race_gup_leaf_vs_zap);
	FT_RUN(test_collapse_enomem);	/* last: pins this thread to CPU 0 */
	folio_thread_offline();
	return ft_done();
}
