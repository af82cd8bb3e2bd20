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
#include "ft_world.h"

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

int main(void)
{
	folio_thread_online();
	FT_RUN(test_collapse_and_refusals);
	FT_RUN(test_race_collapse_then_gup);
	FT_RUN(test_race_gup_then_collapse);
	folio_thread_offline();
	return ft_done();
}
