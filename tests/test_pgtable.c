/* SPDX-License-Identifier: MIT */
/*
 * test_pgtable.c - faults, file mapping, zap, split_huge_pmd, rmap
 * accounting and the deferred-split enqueue on partial unmap.  Every test
 * ends with the full checker (I-map walks every table) and the leak check.
 * PMD_ORDER is 4 here (16-page PMDs) to keep things small.
 * Run: build/<preset>/tests/test_pgtable
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "folio/huge_memory.h"
#include "ft_world.h"

#define NR 4096
#define PO 4		/* PMD_ORDER */
#define PN (1ul << PO)	/* pages per PMD */

static struct mm_struct *mm;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(8 * PN, 8 * PN);
	CHECK(mm != NULL);
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

static pte_t pte_at(unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(mm, va));

	if (pmd_leaf(pmd))
		return pmd;
	if (!pmd_table(pmd))
		return 0;
	return atomic_load(pte_offset(pmd, va));
}

static void test_anon_fault_ptes(void)
{
	struct folio *f;

	up();
	CHECK_EQ(do_anonymous_page(mm, 4, 2, true), 0);
	f = pfn_folio(pte_pfn(pte_at(4)));
	CHECK(f && folio_test_anon(f) && folio_order(f) == 2);
	CHECK(folio_anon_mm(f) == mm && folio_index(f) == 4);
	CHECK_EQ(folio_ref_count(f), 4);	/* one per PTE, nothing else */
	CHECK_EQ(folio_mapcount(f), 4);
	CHECK(pte_at(5) & _PAGE_DIRTY);
	CHECK_EQ(pte_pfn(pte_at(7)), folio_pfn(f) + 3);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* failure paths */
	CHECK_EQ(do_anonymous_page(mm, 5, 0, true), -EEXIST);
	CHECK_EQ(do_anonymous_page(mm, 2, 2, true), -EINVAL);	/* misaligned */
	CHECK_EQ(do_anonymous_page(mm, 8 * PN, 0, true), -EINVAL); /* past anon */
	CHECK_EQ(do_anonymous_page(mm, 0, PO + 1, true), -EINVAL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_anon_fault_pmd_and_split(void)
{
	struct folio *f;
	pte_t leaf;

	up();
	CHECK_EQ(do_anonymous_page(mm, PN, PO, false), 0);
	leaf = pte_at(PN);
	CHECK(pmd_leaf(leaf));
	f = pfn_folio(pte_pfn(leaf));
	CHECK_EQ(folio_ref_count(f), 1);
	CHECK_EQ(folio_mapcount(f), 1);
	CHECK_EQ(folio_entire_mapcount(f), 1);
	CHECK_EQ(do_anonymous_page(mm, PN, 0, true), -EEXIST);
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), -EEXIST);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	split_huge_pmd(mm, PN + 3);
	CHECK(!pmd_leaf(atomic_load(pmd_offset(mm, PN))));
	CHECK_EQ(folio_ref_count(f), (int)PN);
	CHECK_EQ(folio_mapcount(f), (int)PN);
	CHECK_EQ(folio_entire_mapcount(f), 0);
	CHECK_EQ(pte_pfn(pte_at(PN + 5)), folio_pfn(f) + 5);
	/* bits carried over: the leaf's (an anon fault's entry is dirty and
	 * young, read fault or not: memory.c) */
	CHECK((pte_at(PN + 5) & (_PAGE_DIRTY | _PAGE_YOUNG | _PAGE_WRITE)) ==
	      (_PAGE_DIRTY | _PAGE_YOUNG | _PAGE_WRITE));
	split_huge_pmd(mm, PN);	/* no longer a leaf: no-op */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* Partial unmap of a large anon folio queues it; the free unqueues it. */
static void test_partial_zap_queues_deferred_split(void)
{
	struct folio *f;

	up();
	CHECK_EQ(do_anonymous_page(mm, 8, 3, true), 0);
	f = pfn_folio(pte_pfn(pte_at(8)));
	CHECK_EQ(zap_page_range(mm, 8, 3), 3);
	CHECK_EQ(folio_mapcount(f), 5);
	CHECK_EQ(folio_ref_count(f), 5);
	CHECK(folio_test_partially_mapped(f));
	CHECK(folio_on_deferred_list(f));
	CHECK_EQ(deferred_split_count(), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* zap the rest: refcount reaches 0, the freer dequeues */
	CHECK_EQ(zap_page_range(mm, 11, 5), 5);
	CHECK_EQ(deferred_split_count(), 0);
	CHECK_EQ(folio_ref_count(f), 0);
	/* order-1 folios are never queued */
	CHECK_EQ(do_anonymous_page(mm, 16, 1, true), 0);
	CHECK_EQ(zap_page_range(mm, 16, 1), 1);
	CHECK_EQ(deferred_split_count(), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* A zap that covers part of a PMD leaf splits it first. */
static void test_partial_zap_of_pmd(void)
{
	struct folio *f;

	up();
	CHECK_EQ(do_anonymous_page(mm, 2 * PN, PO, true), 0);
	f = pfn_folio(pte_pfn(pte_at(2 * PN)));
	CHECK_EQ(zap_page_range(mm, 2 * PN + 4, 4), 4);
	CHECK_EQ(folio_mapcount(f), (int)PN - 4);
	CHECK(folio_on_deferred_list(f));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* whole-PMD zap of another one: no split, the deposit goes */
	CHECK_EQ(do_anonymous_page(mm, 3 * PN, PO, true), 0);
	CHECK_EQ(zap_page_range(mm, 3 * PN, PN), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_file_map_and_truncate(void)
{
	struct address_space *m;
	long base;
	struct folio *small, *huge;

	up();
	m = address_space_create(4 * PN);
	base = mm_add_file_window(mm, m);
	CHECK(base >= (long)mm->anon_pages);
	small = ft_cache_folio(m, 1, 0);
	huge = ft_cache_folio(m, PN, PO);
	CHECK(small && huge);
	CHECK_EQ(filemap_map_pages(mm, m, 0, 2 * PN, true), 1 + (long)PN);
	CHECK(pmd_leaf(pte_at((unsigned long)base + PN)));
	CHECK_EQ(folio_ref_count(huge), (int)PN + 1);	/* cache + PMD */
	CHECK_EQ(folio_ref_count(small), 2);		/* cache + PTE */
	/* mapping again maps nothing new */
	CHECK_EQ(filemap_map_pages(mm, m, 0, 2 * PN, true), 0);
	CHECK(touch_page(mm, (unsigned long)base + 1, true));
	CHECK(!touch_page(mm, (unsigned long)base + 2, false));	/* nothing there */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* truncate unmaps first (rmap walk), then removes */
	CHECK_EQ(truncate_inode_pages_range(m, 0, 4 * PN), 2);
	CHECK(pte_at((unsigned long)base + 1) == 0);
	CHECK(pte_at((unsigned long)base + PN) == 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(filemap_map_pages(mm, m, 0, 5 * PN, false), -EINVAL);
	files[nfiles++] = m;
	down();
}

/*
 * Truncate vs a zap of the same PMD leaf in flight.  The zapper (this
 * thread) stops at RP_PMD_CLEARED: the leaf is gone, but the folio is still
 * counted as mapped until it drops the rmap under the PMD lock.  A
 * truncator started there must not get past its unmap before that (it
 * takes and drops the PMD lock, as the kernel's zap_pmd_range does);
 * without that it removed a still-mapped folio from the cache
 * (filemap_remove_folio's VM_BUG_ON; fuzz_sched found it).
 */
static struct {
	struct address_space *m;
	pthread_t t;
	atomic_bool done, early, started;
} zt;

static void *zt_truncator(void *arg)
{
	(void)arg;
	folio_thread_online();
	CHECK_EQ(truncate_inode_pages_range(zt.m, 0, 2 * PN), 1);
	atomic_store(&zt.done, true);
	folio_thread_offline();
	return NULL;
}

static void zt_hook(enum folio_race_point rp, void *arg)
{
	const struct timespec wait = { 0, 100 * 1000 * 1000 };

	(void)arg;
	if (rp != RP_PMD_CLEARED || atomic_exchange(&zt.started, true))
		return;
	CHECK_EQ(pthread_create(&zt.t, NULL, zt_truncator, NULL), 0);
	nanosleep(&wait, NULL);
	/* it may not have run yet (no false failure), but never finished */
	atomic_store(&zt.early, atomic_load(&zt.done));
}

static void test_truncate_waits_for_pmd_zap(void)
{
	struct folio *huge;
	long base;

	up();
	zt.m = address_space_create(2 * PN);
	base = mm_add_file_window(mm, zt.m);
	huge = ft_cache_folio(zt.m, 0, PO);
	CHECK(huge != NULL);
	CHECK_EQ(filemap_map_pages(mm, zt.m, 0, PN, true), (long)PN);
	CHECK(pmd_leaf(pte_at((unsigned long)base)));
	atomic_store(&folio_race_hook, zt_hook);
	CHECK_EQ(zap_page_range(mm, (unsigned long)base, PN), 1);	/* one leaf */
	atomic_store(&folio_race_hook, NULL);
	CHECK(atomic_load(&zt.started));
	pthread_join(zt.t, NULL);
	CHECK(!atomic_load(&zt.early));
	CHECK(atomic_load(&zt.done));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	files[nfiles++] = zt.m;
	down();
}

/* A file folio mapped with PTEs, dirtied by a write, zapped: dirty kept. */
static void test_file_dirty_on_zap(void)
{
	struct address_space *m;
	struct folio *f;
	long base;

	up();
	m = address_space_create(PN);
	base = mm_add_file_window(mm, m);
	f = ft_cache_folio(m, 0, 2);
	CHECK_EQ(filemap_map_pages(mm, m, 0, 4, false), 4);
	CHECK(touch_page(mm, (unsigned long)base + 2, true));
	CHECK(!folio_test_dirty(f));
	CHECK_EQ(zap_page_range(mm, (unsigned long)base, 4), 4);
	CHECK(folio_test_dirty(f));
	CHECK_EQ(folio_ref_count(f), 4);
	CHECK(!folio_on_deferred_list(f));	/* file folios are never queued */
	truncate_inode_pages_range(m, 0, PN);
	files[nfiles++] = m;
	down();
}

static void test_window_errors(void)
{
	struct address_space *big, *m[MM_MAX_WINDOWS + 1];

	up();
	big = address_space_create(9 * PN);
	CHECK_EQ(mm_add_file_window(mm, big), -EINVAL);
	for (int i = 0; i <= MM_MAX_WINDOWS; i++) {
		m[i] = address_space_create(PN);
		CHECK_EQ(mm_add_file_window(mm, m[i]) < 0, i == MM_MAX_WINDOWS);
	}
	/* a file an mm maps cannot go; one it does not map can */
	CHECK_EQ(address_space_destroy(m[0]), -EBUSY);
	CHECK_EQ(address_space_destroy(m[MM_MAX_WINDOWS]), 0);
	for (int i = 0; i < MM_MAX_WINDOWS; i++)
		files[nfiles++] = m[i];
	files[nfiles++] = big;
	down();
}

/* I-map fires on a broken mapcount and on a stray migration entry. */
static void test_imap_fires(void)
{
	struct folio *f;
	_Atomic pte_t *p;
	pte_t saved;
	struct folio_violation v;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 1, true), 0);
	f = pfn_folio(pte_pfn(pte_at(0)));
	atomic_fetch_add(&f->_mapcount, 1);
	atomic_fetch_add(&f->_refcount, 1);	/* keep I-ref quiet */
	CHECK(folio_check_quiescent(&(struct folio_check_opts){ 0 }, &v) > 0);
	CHECK(strcmp(v.rule, "I-map") == 0);
	atomic_fetch_sub(&f->_mapcount, 1);
	atomic_fetch_sub(&f->_refcount, 1);
	p = pte_offset(atomic_load(pmd_offset(mm, 0)), 1);
	saved = atomic_load(p);
	atomic_store(p, mk_pte(pte_pfn(saved), _PAGE_MIGRATION));
	CHECK(folio_check_quiescent(&(struct folio_check_opts){ 0 }, &v) > 0);
	atomic_store(p, saved);
	/* an anon folio mapped at the wrong address */
	atomic_store(&f->index, 2ul);
	CHECK(folio_check_quiescent(&(struct folio_check_opts){ 0 }, &v) > 0);
	CHECK(strcmp(v.rule, "I-map") == 0);
	atomic_store(&f->index, 0ul);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_idsq_fires(void)
{
	struct folio *f;
	struct folio_violation v;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 3, true), 0);
	f = pfn_folio(pte_pfn(pte_at(0)));
	folio_set_partially_mapped(f);	/* flag without being queued */
	CHECK(folio_check_quiescent(&(struct folio_check_opts){ 0 }, &v) > 0);
	CHECK(strcmp(v.rule, "I-dsq") == 0);
	folio_clear_partially_mapped(f);
	deferred_split_folio(f, true);
	folio_clear_partially_mapped(f);	/* queued, flag lost */
	CHECK(folio_check_quiescent(&(struct folio_check_opts){ 0 }, &v) > 0);
	CHECK(strcmp(v.rule, "I-dsq") == 0);
	folio_set_partially_mapped(f);		/* repaired */
	CHECK_EQ(zap_page_range(mm, 0, 8), 8);	/* free unqueues */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Memory runs out under a fault.  Every page is eaten by order-0 folios
 * the test holds (nr_free_pages() 0 proves it), then handed back a few at
 * a time, so each allocation of a fault fails in turn:
 *   1. nothing free: the folio itself (do_anonymous_page's -ENOMEM);
 *   2. one page free: the folio gets it, its new page table cannot
 *      (pte_table_lock's err, passed on; the folio goes back);
 *   3. exactly one PMD-sized block free: the THP gets it, its deposit
 *      table cannot (do_huge_pmd_anonymous_page drops the folio).
 * Nothing may be left mapped or leaked by a failed fault.  Pinned to CPU 0
 * (for the rest of the process): a page freed to one CPU's list must be
 * the one the next allocation finds.
 */

static void test_fault_enomem(void)
{
	struct folio *x;

	ft_pin_cpu0();
	up();
	x = folio_alloc_anon(PO);	/* a PMD block to hand back in 3 */
	CHECK(x != NULL);
	ft_eat_all();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), -ENOMEM);		/* 1 */
	ft_give_back(1);
	CHECK_EQ(nr_free_pages(), 1);
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), -ENOMEM);		/* 2 */
	CHECK_EQ(atomic_load(pmd_offset(mm, 0)), 0);	/* no table went in */
	CHECK_EQ(nr_free_pages(), 1);			/* the folio came back */
	ft_eat_all();
	folio_put(x);
	CHECK_EQ(nr_free_pages(), PN);
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), -ENOMEM);	/* 3 */
	CHECK_EQ(atomic_load(pmd_offset(mm, PN)), 0);
	CHECK_EQ(nr_free_pages(), PN);			/* the THP came back */
	ft_give_back(FT_ALL);
	/* with memory back, the same faults succeed */
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * zap_pte_range gathers at most 64 folios before it drops the table lock
 * and their references (the mmu_gather batch), then looks at the table
 * again.  128-entry tables here (PMD order 7) and 80 order-0 pages in one
 * of them: the second round starts where the first stopped.  A zap asked
 * for more than the mm has is cut to its end.  touch_page on a PMD leaf
 * sets its bits on the PMD; beyond the mm it finds nothing.
 */
static void test_zap_batches_and_bounds(void)
{
	unsigned long i;

	ft_world_up_pmd(NR, 7);
	mm = mm_create(128, 128);
	CHECK(mm != NULL);
	for (i = 0; i < 80; i++)
		CHECK_EQ(do_anonymous_page(mm, i, 0, true), 0);
	CHECK_EQ(zap_page_range(mm, 0, 1ul << 20), 80);	/* 80 > 64; cut to the end */
	for (i = 0; i < 80; i++)
		CHECK_EQ(pte_at(i), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(zap_page_range(mm, 0, 1ul << 20), 0);	/* nothing left */
	down();

	up();
	CHECK_EQ(do_anonymous_page(mm, PN, PO, false), 0);
	atomic_fetch_and(pmd_offset(mm, PN), ~(pmd_t)(_PAGE_YOUNG | _PAGE_DIRTY));
	CHECK(touch_page(mm, PN + 3, true));		/* the leaf itself */
	CHECK((pte_at(PN) & (_PAGE_YOUNG | _PAGE_DIRTY)) ==
	      (_PAGE_YOUNG | _PAGE_DIRTY));
	CHECK(!touch_page(mm, mm->nr_pmds << PO, false));	/* past the mm */
	CHECK(!touch_page(mm, ~0ul, true));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * zap_huge_pmd told which folio (an rmap walk's RMAP_UNMAP, here through
 * unmap_mapping_folio of a locked anon THP): the walk saw the folio's leaf
 * without the PMD lock; before it takes the lock, the leaf is zapped and
 * another THP faulted at the same address.  Under the lock the leaf is a
 * stranger's and is left alone.
 */
static struct folio *zh_victim;
static int zh_fired;

static void zh_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_PMD_LOOKED || arg != zh_victim || zh_fired++)
		return;
	CHECK_EQ(zap_page_range(mm, PN, PN), 1);
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
}

static void test_unmap_leaves_strangers_leaf(void)
{
	struct folio *y;
	pmd_t pmd;

	up();
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
	zh_victim = pfn_folio(pte_pfn(pte_at(PN)));
	folio_get(zh_victim);
	folio_lock(zh_victim);
	zh_fired = 0;
	atomic_store(&folio_race_hook, zh_hook);
	unmap_mapping_folio(zh_victim);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(zh_fired, 1);
	pmd = atomic_load(pmd_offset(mm, PN));
	CHECK(pmd_leaf(pmd));
	y = pmd_leaf(pmd) ? pfn_folio(pte_pfn(pmd)) : NULL;
	CHECK(y != NULL && y != zh_victim);
	if (y)
		CHECK_EQ(folio_entire_mapcount(y), 1);
	CHECK_EQ(folio_mapcount(zh_victim), 0);
	CHECK_EQ(folio_ref_count(zh_victim), 1);	/* ours alone */
	folio_unlock(zh_victim);
	folio_put(zh_victim);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_anon_fault_ptes);
	FT_RUN(test_anon_fault_pmd_and_split);
	FT_RUN(test_partial_zap_queues_deferred_split);
	FT_RUN(test_partial_zap_of_pmd);
	FT_RUN(test_file_map_and_truncate);
	FT_RUN(test_file_dirty_on_zap);
	FT_RUN(test_truncate_waits_for_pmd_zap);
	FT_RUN(test_window_errors);
	FT_RUN(test_imap_fires);
	FT_RUN(test_idsq_fires);
	FT_RUN(test_zap_batches_and_bounds);
	FT_RUN(test_unmap_leaves_strangers_leaf);
	FT_RUN(test_fault_enomem);
	folio_thread_offline();
	return ft_done();
}
