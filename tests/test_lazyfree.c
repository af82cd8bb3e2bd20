/* SPDX-License-Identifier: MIT */
/*
 * test_lazyfree.c - MADV_FREE and lazyfree reclaim (O14): batched, per
 * PTE and the PMD discard; every return code; and the 2025 race:
 *   1. a large anon folio is lazyfree, partially mapped, on the
 *      deferred-split queue;
 *   2. reclaim clears its PTEs and reads the count ...
 *   3. ... while the scanner holds a speculative reference (try_get);
 *   4. reclaim must restore the PTEs and leave the folio lazyfree: only a
 *      dirty folio becomes swapbacked again.  (6.12 set swapbacked on any
 *      failure; a clean lazyfree folio then could never be discarded.)
 * Run: build/<preset>/tests/test_lazyfree
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

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(8 * PN, PN);
}

static void down(void)
{
	mm_destroy(mm);
	ft_world_down();
}

static struct folio *anon_folio(unsigned long va, unsigned int order)
{
	return ft_anon_folio(mm, va, order);
}

/* Isolate (+1), lock, reclaim; on failure unlock and drop. */
static int reclaim(struct folio *f, bool batched)
{
	int err;

	folio_get(f);
	folio_lock(f);
	err = reclaim_lazyfree_folio(f, batched);
	if (err) {
		folio_unlock(f);
		folio_put(f);
	}
	return err;
}

static void test_madvise_free_marks(void)
{
	struct folio *a, *b, *c;

	up();
	a = anon_folio(0, 2);
	b = anon_folio(4, 2);
	c = anon_folio(PN, PO);
	CHECK(!folio_test_lazyfree(a));
	/* [2, 8): b is marked whole; a, covered in part, is split and its
	 * pages 2 and 3 (now folios of their own) marked */
	CHECK_EQ(madvise_free(mm, 2, 6), 3);
	CHECK_EQ(folio_order(a), 0);
	CHECK(!folio_test_lazyfree(a) && folio_test_lazyfree(b));
	CHECK(folio_test_lazyfree(pfn_folio(folio_pfn(a) + 2)));
	CHECK(!folio_test_lazyfree(pfn_folio(folio_pfn(a) + 1)));
	CHECK_EQ(madvise_free(mm, PN, PN), 1);	/* whole PMD, not split */
	CHECK(folio_test_lazyfree(c));
	CHECK_EQ(folio_entire_mapcount(c), 1);
	CHECK_EQ(reclaim(a, true), -EINVAL);	/* not lazyfree */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * MADV_FREE acts only on the entries of the folio it marks: a folio whose
 * page 2 was zapped and refaulted by another (dirty) folio is not wholly
 * mapped, so it is split and its pieces marked, and the other folio's
 * dirty bit stays when that one cannot be marked (locked).
 */
static void test_madvise_free_hole_of_other_folio(void)
{
	struct folio *a, *b;
	pmd_t pmd;
	pte_t pte;

	up();
	a = anon_folio(0, 2);
	CHECK_EQ(zap_page_range(mm, 2, 1), 1);
	b = anon_folio(2, 0);		/* dirty: faulted for a write */
	folio_get(b);
	folio_lock(b);			/* busy: MADV_FREE cannot mark it */
	CHECK_EQ(madvise_free(mm, 0, 4), 3);	/* a's pages 0, 1, 3 */
	folio_unlock(b);
	folio_put(b);
	CHECK(folio_test_lazyfree(a) && !folio_test_lazyfree(b));
	CHECK_EQ(folio_order(a), 0);
	pmd = atomic_load(pmd_offset(mm, 2));
	pte = atomic_load(pte_offset(pmd, 2));
	CHECK(pte_pfn(pte) == folio_pfn(b) && (pte & _PAGE_DIRTY));
	/* unlocked, b is marked too (a's pieces again) */
	CHECK_EQ(madvise_free(mm, 0, 4), 4);
	CHECK(folio_test_lazyfree(b));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Issue 14: MADV_FREE of two pages of an order-2 folio (PTE-mapped) and
 * of part of a PMD-mapped THP splits the folio; the covered pages become
 * lazyfree folios that reclaim discards, the others stay swapbacked.
 */
static void test_madvise_free_partial_splits(void)
{
	struct folio *a, *c, *p2;
	unsigned long apfn, cpfn;

	up();
	a = anon_folio(0, 2);
	apfn = folio_pfn(a);
	CHECK_EQ(madvise_free(mm, 0, 2), 2);
	CHECK_EQ(folio_order(a), 0);
	CHECK(folio_test_lazyfree(a));
	CHECK(folio_test_lazyfree(pfn_folio(apfn + 1)));
	p2 = pfn_folio(apfn + 2);
	CHECK(!folio_test_lazyfree(p2) && folio_order(p2) == 0);
	CHECK_EQ(reclaim(a, true), 0);
	CHECK_EQ(reclaim(pfn_folio(apfn + 1), false), 0);
	CHECK_EQ(reclaim(p2, true), -EINVAL);
	CHECK_EQ(folio_mapcount(p2), 1);

	c = anon_folio(PN, PO);
	cpfn = folio_pfn(c);
	CHECK_EQ(folio_entire_mapcount(c), 1);
	CHECK_EQ(madvise_free(mm, PN + 3, 2), 2);
	CHECK_EQ(folio_order(c), 0);
	CHECK(pmd_table(atomic_load(pmd_offset(mm, PN))));
	CHECK(!folio_test_lazyfree(c));
	CHECK(folio_test_lazyfree(pfn_folio(cpfn + 3)));
	CHECK(folio_test_lazyfree(pfn_folio(cpfn + 4)));
	CHECK(!folio_test_lazyfree(pfn_folio(cpfn + 5)));
	CHECK_EQ(reclaim(pfn_folio(cpfn + 4), true), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * MADV_FREE's split vs GUP and zap (RP_MADV_SPLIT: the folio locked and
 * held, the page table unlocked, the split not started):
 *   - a GUP-fast pin taken there: the split fails (-EAGAIN, a pin) and the
 *     folio is left whole and swapbacked, as the kernel leaves it;
 *   - a zap of the range there: the split of the now unmapped folio
 *     succeeds, the relocked table has nothing left to mark, and the
 *     pieces go with the last reference (no leak, checker clean).
 */
static struct folio *ms_victim;
static int ms_fired, ms_mode;
static unsigned long ms_pfn;

static void madv_split_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_MADV_SPLIT || arg != ms_victim || ms_fired++)
		return;
	if (ms_mode == 0)
		CHECK_EQ(gup_fast(mm, 0, 1, FOLL_PIN, &ms_pfn), 1);
	else
		CHECK_EQ(zap_page_range(mm, 0, 4), 4);
}

static void test_race_madvise_split_vs_pin_and_zap(void)
{
	for (ms_mode = 0; ms_mode < 2; ms_mode++) {
		up();
		ms_victim = anon_folio(0, 2);
		ms_fired = 0;
		atomic_store(&folio_race_hook, madv_split_hook);
		CHECK_EQ(madvise_free(mm, 1, 2), 0);
		atomic_store(&folio_race_hook, NULL);
		CHECK(ms_fired >= 1);	/* once per page it covers */
		if (ms_mode == 0) {
			CHECK_EQ(folio_order(ms_victim), 2);
			CHECK(!folio_test_lazyfree(ms_victim));
			CHECK_EQ(folio_pincount(ms_victim), 1);
			CHECK_EQ(folio_mapcount(ms_victim), 4);
			unpin_user_pages(&ms_pfn, 1, FOLL_PIN);
			/* unpinned, the same call splits and marks */
			CHECK_EQ(madvise_free(mm, 1, 2), 2);
		} else {
			CHECK_EQ(pfn_folio(ms_pfn), NULL);
		}
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		down();
	}
}

/*
 * Reclaim's per-PTE baseline vs zap + refault of the PMD it looked at:
 *   1. reclaim sees its lazyfree folio's PMD leaf, unlocked ...
 *   2. ... a zap removes it and a fault puts another folio's leaf there;
 *   3. the baseline's split_huge_pmd must leave that leaf alone, and the
 *      folio, mapped nowhere now, is discarded.
 */
static struct folio *rr_victim;
static int rr_fired;

static void reclaim_refault_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_PMD_LOOKED || arg != rr_victim || rr_fired)
		return;
	rr_fired = 1;
	CHECK_EQ(zap_page_range(mm, PN, PN), 1);		/* 2 */
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
}

static void test_race_reclaim_baseline_vs_refault(void)
{
	pmd_t pmd;

	up();
	rr_victim = anon_folio(PN, PO);
	CHECK_EQ(madvise_free(mm, PN, PN), 1);
	rr_fired = 0;
	atomic_store(&folio_race_hook, reclaim_refault_hook);
	CHECK_EQ(reclaim(rr_victim, false), 0);		/* 3: discarded */
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(rr_fired, 1);
	pmd = atomic_load(pmd_offset(mm, PN));
	CHECK(pmd_leaf(pmd));
	if (pmd_leaf(pmd))
		CHECK_EQ(folio_entire_mapcount(pfn_folio(pte_pfn(pmd))), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_reclaim_discards(void)
{
	unsigned long free0;

	up();
	for (int batched = 0; batched < 2; batched++) {
		struct folio *f = anon_folio(0, 3), *h;

		CHECK_EQ(madvise_free(mm, 0, 8), 1);
		free0 = nr_free_pages();
		CHECK_EQ(reclaim(f, batched), 0);
		CHECK_EQ(nr_free_pages(), free0 + 8);
		CHECK_EQ(gup_fast(mm, 0, 1, FOLL_GET, (unsigned long[1]){ 0 }), 0);
		/* PMD-mapped: batched discards without splitting the PMD;
		 * the baseline splits, then unmaps per PTE */
		unsigned long va = (2 + batched) * PN;	/* split PMDs keep a table */

		h = anon_folio(va, PO);
		CHECK_EQ(madvise_free(mm, va, PN), 1);
		CHECK_EQ(reclaim(h, batched), 0);
		CHECK_EQ(atomic_load(pmd_offset(mm, va)) & _PMD_LEAF, 0);
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	}
	down();
}

static void test_reclaim_dirty_keeps(void)
{
	struct folio *f;

	up();
	for (int batched = 0; batched < 2; batched++) {
		f = anon_folio(0, 3);
		CHECK_EQ(madvise_free(mm, 0, 8), 1);
		CHECK(touch_page(mm, 5, true));	/* written after MADV_FREE */
		CHECK_EQ(reclaim(f, batched), -EBUSY);
		CHECK(folio_test_swapbacked(f));	/* no longer lazyfree */
		/* per PTE: 0-4 are gone when 5 is found dirty; the folio is
		 * left partially mapped, so it is queued for deferred split */
		CHECK_EQ(folio_mapcount(f), batched ? 8 : 3);
		CHECK_EQ(folio_on_deferred_list(f), !batched);
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		zap_page_range(mm, 0, 8);
	}
	/* a dirty folio (GUP writer) with clean PTEs */
	f = anon_folio(0, 3);
	CHECK_EQ(madvise_free(mm, 0, 8), 1);
	folio_set_dirty(f);
	CHECK_EQ(reclaim(f, true), -EBUSY);
	CHECK(folio_test_swapbacked(f));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_reclaim_extra_ref_stays_lazyfree(void)
{
	unsigned long pfns[8];
	struct folio *f;

	up();
	f = anon_folio(0, 3);
	CHECK_EQ(madvise_free(mm, 0, 8), 1);
	CHECK_EQ(gup_fast(mm, 0, 8, FOLL_GET, pfns), 8);
	CHECK_EQ(reclaim(f, true), -EAGAIN);
	CHECK(folio_test_lazyfree(f));		/* clean: stays lazyfree */
	CHECK_EQ(folio_mapcount(f), 8);		/* PTEs restored */
	CHECK_EQ(ft_check(&(struct folio_held){ f, 8, 0 }, 1, NULL), 0);
	unpin_user_pages(pfns, 8, FOLL_GET);
	CHECK_EQ(reclaim(f, true), 0);		/* now it goes */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* The 2025 race, forced: the scanner's reference lands between 2 and 4. */
static struct folio *victim;
static int fired;

static void scanner_gets(enum folio_race_point rp, void *arg)
{
	if (rp != RP_RECLAIM_CLEARED || fired)
		return;
	fired = 1;
	CHECK(folio_try_get(victim));	/* the scanner's isolation */
}

static void test_race_lazyfree_vs_deferred_scan(void)
{
	up();
	victim = anon_folio(0, 3);
	/* lazyfree first (MADV_FREE would split a partly mapped folio),
	 * then partly unmapped */
	CHECK_EQ(madvise_free(mm, 0, 8), 1);
	CHECK_EQ(zap_page_range(mm, 6, 2), 2);		/* partially mapped */
	CHECK(folio_on_deferred_list(victim));
	fired = 0;
	atomic_store(&folio_race_hook, scanner_gets);
	CHECK_EQ(reclaim(victim, true), -EAGAIN);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	CHECK(folio_test_lazyfree(victim));	/* 4: not swapbacked */
	CHECK_EQ(folio_mapcount(victim), 6);
	CHECK_EQ(ft_check(&(struct folio_held){ victim, 1, 0 }, 1, NULL), 0);
	folio_put(victim);			/* the scanner lets go */
	CHECK_EQ(reclaim(victim, true), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Speculative get vs reclaim's freeze:
 *   1. reclaim unmapped every PTE (the folio is lazyfree and clean);
 *   2. a speculative getter (pfn walker, scanner) takes a reference;
 *   3. reclaim's folio_ref_freeze(f, 1) must fail: the folio is kept,
 *      unmapped, and freed later by whoever drops the last reference.
 */
static struct folio *spec_victim;
static int spec_fired;

static void speculative_get(enum folio_race_point rp, void *arg)
{
	if (rp != RP_RECLAIM_UNMAPPED || spec_fired)
		return;
	spec_fired = 1;
	rcu_read_lock_model();
	CHECK(folio_try_get_pfn(folio_pfn(spec_victim), 1) == spec_victim);
	rcu_read_unlock_model();
}

static void test_race_reclaim_freeze_vs_speculative_get(void)
{
	unsigned long free0;

	up();
	spec_victim = anon_folio(0, 2);
	CHECK_EQ(madvise_free(mm, 0, 4), 1);
	spec_fired = 0;
	atomic_store(&folio_race_hook, speculative_get);
	CHECK_EQ(reclaim(spec_victim, true), -EAGAIN);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(spec_fired, 1);
	CHECK_EQ(folio_mapcount(spec_victim), 0);	/* unmapped, kept */
	CHECK_EQ(folio_ref_count(spec_victim), 1);	/* the getter's */
	CHECK_EQ(ft_check(&(struct folio_held){ spec_victim, 1, 0 }, 1, NULL), 0);
	free0 = nr_free_pages();
	folio_put(spec_victim);				/* the last one frees */
	CHECK_EQ(nr_free_pages(), free0 + 4);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * An unmapped lazyfree folio dirtied through a GUP reference after its last
 * unmap is freed by reclaim without a dirty check, as the kernel does: no
 * mapping and no other reference is left, so nobody can read the data.
 * (A debug assertion once wrongly required it to be clean here; found by
 * foliotorture --scenario lazyfree-vs-gup.)
 */
static void test_reclaim_unmapped_dirty_after_unmap(void)
{
	unsigned long pfns[4], free0;
	struct folio *f;

	up();
	f = anon_folio(0, 2);
	CHECK_EQ(madvise_free(mm, 0, 4), 1);
	CHECK_EQ(gup_fast(mm, 0, 4, FOLL_GET | FOLL_WRITE, pfns), 4);
	CHECK_EQ(zap_page_range(mm, 0, 4), 4);	/* the last unmap */
	folio_get(f);				/* reclaim's isolation */
	unpin_user_pages_dirty_lock(pfns, 4, FOLL_GET);	/* the write lands */
	CHECK(folio_test_dirty(f) && folio_test_lazyfree(f));
	free0 = nr_free_pages();
	folio_lock(f);
	CHECK_EQ(reclaim_lazyfree_folio(f, true), 0);
	CHECK_EQ(nr_free_pages(), free0 + 4);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * MADV_FREE of part of a PMD-mapped THP that someone else holds locked
 * (reclaim, a migration): it cannot be split now, so it is left whole,
 * PMD-mapped and swapbacked; once unlocked the same call splits it.
 */
static void test_madvise_free_pmd_locked_skipped(void)
{
	struct folio *c;

	up();
	c = anon_folio(PN, PO);
	folio_get(c);
	folio_lock(c);
	CHECK_EQ(madvise_free(mm, PN + 3, 2), 0);
	CHECK(pmd_leaf(atomic_load(pmd_offset(mm, PN))));
	CHECK_EQ(folio_order(c), PO);
	CHECK(!folio_test_lazyfree(c));
	CHECK_EQ(folio_entire_mapcount(c), 1);
	folio_unlock(c);
	folio_put(c);
	CHECK_EQ(madvise_free(mm, PN + 3, 2), 2);
	CHECK(pmd_table(atomic_load(pmd_offset(mm, PN))));
	CHECK(folio_test_lazyfree(pfn_folio(folio_pfn(c) + 3)));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * MADV_FREE's split vs a collapse of the whole PMD (RP_MADV_SPLIT): the
 * range is zapped, refaulted page by page and collapsed into a THP while
 * the partly covered folio waits, locked and held, for its split.  The
 * split (of a folio mapped nowhere now) succeeds, but the PTE table is
 * gone: MADV_FREE stops there, marking nothing, and the new THP is left
 * swapbacked.
 */
static void madv_collapse_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_MADV_SPLIT || arg != ms_victim || ms_fired++)
		return;
	CHECK_EQ(zap_page_range(mm, 0, PN), 4);
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(do_anonymous_page(mm, i, 0, true), 0);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);
}

static void test_race_madvise_split_vs_collapse(void)
{
	pmd_t pmd;

	up();
	ms_victim = anon_folio(0, 2);
	ms_fired = 0;
	atomic_store(&folio_race_hook, madv_collapse_hook);
	CHECK_EQ(madvise_free(mm, 1, 2), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(ms_fired, 1);
	pmd = atomic_load(pmd_offset(mm, 0));
	CHECK(pmd_leaf(pmd));
	if (pmd_leaf(pmd)) {
		struct folio *t = pfn_folio(pte_pfn(pmd));

		CHECK_EQ(folio_order(t), PO);
		CHECK(!folio_test_lazyfree(t));
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_madvise_free_marks);
	FT_RUN(test_madvise_free_hole_of_other_folio);
	FT_RUN(test_madvise_free_partial_splits);
	FT_RUN(test_race_madvise_split_vs_pin_and_zap);
	FT_RUN(test_race_reclaim_baseline_vs_refault);
	FT_RUN(test_reclaim_discards);
	FT_RUN(test_reclaim_dirty_keeps);
	FT_RUN(test_reclaim_extra_ref_stays_lazyfree);
	FT_RUN(test_race_lazyfree_vs_deferred_scan);
	FT_RUN(test_race_reclaim_freeze_vs_speculative_get);
	FT_RUN(test_reclaim_unmapped_dirty_after_unmap);
	FT_RUN(test_madvise_free_pmd_locked_skipped);
	FT_RUN(test_race_madvise_split_vs_collapse);
	folio_thread_offline();
	return ft_done();
}
