/* SPDX-License-Identifier: MIT */
/*
 * test_split.c - folio split (O12) and the deferred-split queue (O13):
 * every return code, anon and file, PTE- and PMD-mapped, and the races of
 * docs/design.md section 7 forced at race points:
 *   split vs lookup      old folio frozen in every slot until the new ones
 *                        are stored; new folios' fields set before unfreeze
 *   deferred scan vs free and vs split (R6, R7)
 *   partial unmap enqueue vs free (R8)
 * Run: build/<preset>/tests/test_split
 */
#include <errno.h>

#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/slab.h"
#include "ft_world.h"

#define NR 4096
#define PO 4
#define PN (1ul << PO)

static struct mm_struct *mm;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(8 * PN, 4 * PN);
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

static struct folio *anon_folio(unsigned long va, unsigned int order)
{
	return ft_anon_folio(mm, va, order);
}

/* Caller's reference and lock, as split requires. */
static int split_locked(struct folio *f, unsigned int order)
{
	int err;

	folio_get(f);
	folio_lock(f);
	err = split_folio_to_order(f, order);
	folio_unlock(f);
	folio_put(f);
	return err;
}

static void test_split_anon_ptes(void)
{
	struct folio *f, *g;

	up();
	f = anon_folio(0, 3);
	CHECK_EQ(split_locked(f, 0), 0);
	CHECK_EQ(folio_order(f), 0);
	CHECK_EQ(folio_ref_count(f), 1);	/* its one PTE */
	for (unsigned long i = 1; i < 8; i++) {
		g = pfn_folio(folio_pfn(f) + i);
		CHECK(g != f && folio_order(g) == 0);
		CHECK_EQ(folio_index(g), i);
		CHECK(folio_test_anon(g) && !folio_test_locked(g));
		CHECK_EQ(folio_ref_count(g), 1);
		CHECK_EQ(folio_mapcount(g), 1);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* to order 2 from an order-4 folio; never to order 1 for anon */
	f = anon_folio(PN, PO);	/* PMD-mapped: the split splits the PMD */
	CHECK_EQ(split_locked(f, 1), -EINVAL);
	CHECK_EQ(split_locked(f, 2), 0);
	CHECK_EQ(folio_order(f), 2);
	CHECK_EQ(folio_order(pfn_folio(folio_pfn(f) + 4)), 2);
	CHECK_EQ(folio_mapcount(pfn_folio(folio_pfn(f) + 12)), 4);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(split_locked(f, 2), -EINVAL);	/* new_order >= order */
	CHECK_EQ(split_locked(pfn_folio(folio_pfn(f) - 1), 0), -EINVAL); /* small */
	down();
}

static void test_split_eagain(void)
{
	unsigned long pfns[8];
	struct folio *f;

	up();
	f = anon_folio(0, 3);
	folio_get(f);			/* an extra reference */
	CHECK_EQ(split_locked(f, 0), -EAGAIN);
	folio_put(f);
	CHECK_EQ(gup_fast(mm, 0, 8, FOLL_PIN, pfns), 8);	/* pins */
	CHECK_EQ(split_locked(f, 0), -EAGAIN);
	CHECK_EQ(folio_order(f), 3);
	CHECK_EQ(ft_check(&(struct folio_held){ f, 0, 8 }, 1, NULL), 0);
	unpin_user_pages(pfns, 8, FOLL_PIN);
	CHECK_EQ(split_locked(f, 0), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_split_file(void)
{
	struct address_space *m;
	struct folio *f, *g;
	long base;

	up();
	m = address_space_create(2 * PN);
	base = mm_add_file_window(mm, m);
	f = ft_cache_folio(m, PN, PO);
	CHECK_EQ(filemap_map_pages(mm, m, PN, 4, false), 4);	/* partly mapped */
	CHECK_EQ(split_locked(f, 2), 0);
	for (unsigned long i = 0; i < PN; i++) {
		g = filemap_get_folio(m, PN + i);
		CHECK(g != NULL);
		if (!g)
			continue;
		CHECK_EQ(folio_order(g), 2);
		CHECK_EQ(folio_index(g), PN + (i & ~3ul));
		CHECK(folio_mapping(g) == m);
		folio_put(g);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* truncated: -EBUSY */
	g = filemap_get_folio(m, PN + 4);
	folio_lock(g);
	unmap_mapping_folio(g);
	filemap_remove_folio(g);
	CHECK_EQ(split_folio_to_order(g, 0), -EBUSY);
	folio_unlock(g);
	folio_put(g);
	truncate_inode_pages_range(m, 0, 2 * PN);
	CHECK(base > 0);
	files[nfiles++] = m;
	down();
}

/*
 * An anon folio a pfn getter holds before its first mapping has no owner
 * mm yet (mapping NULL): its split walks no rmap (it crashed there once).
 */
static void test_split_unmapped_anon(void)
{
	struct folio *f;

	up();
	f = folio_alloc_anon(2);
	CHECK(f != NULL && folio_mapping(f) == NULL);
	folio_lock(f);
	CHECK_EQ(split_folio_to_order(f, 0), 0);
	CHECK_EQ(folio_order(f), 0);
	CHECK_EQ(folio_ref_count(f), 1);	/* the other pieces were freed */
	folio_unlock(f);
	CHECK_EQ(ft_check(&(struct folio_held){ f, 1, 0 }, 1, NULL), 0);
	folio_put(f);
	down();
}

/* split vs lookup, forced while the old folio is frozen. */
static struct address_space *sm;
static struct folio *sf;
static int split_fired;

static void frozen_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_SPLIT_FROZEN || split_fired)
		return;
	split_fired = 1;
	/* the old folio is frozen and still in every slot */
	CHECK_EQ(folio_ref_count(sf), 0);
	for (unsigned long i = 0; i < PN; i++)
		CHECK(atomic_load(&sm->slots[PN + i]) == sf);
	/* the new folios are fully built but not published: count 0 */
	struct folio *g = pfn_folio(folio_pfn(sf) + 4);

	CHECK(g != sf);
	CHECK_EQ(folio_ref_count(g), 0);
	CHECK(!folio_try_get(g));		/* a speculative get fails */
	CHECK(!folio_try_get(sf));
	CHECK_EQ(folio_index(g), PN + 4);	/* fields set before unfreeze */
	CHECK(folio_mapping(g) == sm);
}

static void test_race_split_vs_lookup(void)
{
	up();
	sm = address_space_create(2 * PN);
	sf = ft_cache_folio(sm, PN, PO);
	split_fired = 0;
	atomic_store(&folio_race_hook, frozen_hook);
	CHECK_EQ(split_locked(sf, 2), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(split_fired, 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	truncate_inode_pages_range(sm, 0, 2 * PN);
	files[nfiles++] = sm;
	down();
}

/* R8 + the scanner: partially unmapped folios are queued and split. */
static void test_deferred_scan_splits(void)
{
	struct folio *a, *b;

	up();
	a = anon_folio(0, 3);
	b = anon_folio(PN, 3);
	CHECK_EQ(zap_page_range(mm, 0, 2), 2);
	CHECK_EQ(zap_page_range(mm, PN + 6, 2), 2);
	CHECK_EQ(deferred_split_count(), 2);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(deferred_split_scan(16), 2);
	CHECK_EQ(deferred_split_count(), 0);
	CHECK_EQ(folio_order(a), 0);	/* a's first pages were unmapped: freed */
	CHECK_EQ(folio_order(b), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R6: scan vs free.
 *   1. the last PTE of a queued folio is zapped: its count reaches 0 and
 *      __folio_put starts, the folio still on the queue;
 *   2. the scanner runs now: try_get sees 0 and skips the folio (it must
 *      not take it off, nor touch its count);
 *   3. the freer takes the queue lock and unqueues it itself.
 */
static int scan_fired;
static struct folio *scan_victim;

static void scan_while_freeing(enum folio_race_point rp, void *arg)
{
	if (rp != RP_FOLIO_FREEING || arg != scan_victim || scan_fired)
		return;
	scan_fired = 1;
	CHECK(folio_on_deferred_list(scan_victim));
	CHECK_EQ(deferred_split_scan(16), 0);
	CHECK(folio_on_deferred_list(scan_victim));	/* left to the freer */
	CHECK_EQ(folio_ref_count(scan_victim), 0);
}

static void test_race_scan_vs_free(void)
{
	up();
	scan_victim = anon_folio(0, 3);
	CHECK_EQ(zap_page_range(mm, 0, 7), 7);
	CHECK(folio_on_deferred_list(scan_victim));
	scan_fired = 0;
	atomic_store(&folio_race_hook, scan_while_freeing);
	CHECK_EQ(zap_page_range(mm, 7, 1), 1);	/* 1 */
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(scan_fired, 1);
	CHECK_EQ(deferred_split_count(), 0);	/* 3 */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_race_scan_vs_frozen_and_held(void)
{
	struct folio *f;
	unsigned long pfns[8];

	up();
	f = anon_folio(0, 3);
	CHECK_EQ(zap_page_range(mm, 0, 1), 1);
	CHECK(folio_on_deferred_list(f));
	/* R7: frozen by a "splitter": the scanner's try_get fails, it skips */
	CHECK(folio_ref_freeze(f, 7));
	CHECK_EQ(deferred_split_scan(16), 0);
	CHECK(folio_on_deferred_list(f));	/* left to the freezer */
	folio_ref_unfreeze(f, 7);
	/* pinned: the scanner gets it, split fails (-EAGAIN), it requeues */
	CHECK_EQ(gup_fast(mm, 1, 7, FOLL_PIN, pfns), 7);
	CHECK_EQ(deferred_split_scan(16), 0);
	CHECK(folio_on_deferred_list(f));
	CHECK_EQ(ft_check(&(struct folio_held){ f, 0, 7 }, 1, NULL), 0);
	/* locked by someone: trylock fails, requeued */
	unpin_user_pages(pfns, 7, FOLL_PIN);
	folio_get(f);
	folio_lock(f);
	CHECK_EQ(deferred_split_scan(16), 0);
	CHECK(folio_on_deferred_list(f));
	folio_unlock(f);
	folio_put(f);
	CHECK_EQ(deferred_split_scan(16), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R8: partial-unmap enqueue vs free.
 *   1. a zap clears 3 of a folio's 8 PTEs and removes their rmap;
 *   2. it queues the folio (partially mapped) ...
 *   3. ... while still holding those 3 PTEs' references: they are dropped
 *      only after the table is unlocked.  So at the enqueue rc == 8, and no
 *      concurrent unmap of the other 5 could free the folio under it.
 *      (Dropping the references before queueing would show rc == 5 here,
 *      and a racing zap of the rest could free it: a use after free.)
 */
static struct folio *r8;
static int r8_fired;

static void at_enqueue(enum folio_race_point rp, void *arg)
{
	if (rp != RP_DEFERRED_ENQUEUE || arg != r8 || r8_fired)
		return;
	r8_fired = 1;
	CHECK_EQ(folio_mapcount(r8), 5);	/* 1 */
	CHECK_EQ(folio_ref_count(r8), 8);	/* 3 */
}

static void test_race_partial_unmap_enqueue_vs_free(void)
{
	up();
	r8 = anon_folio(0, 3);
	r8_fired = 0;
	atomic_store(&folio_race_hook, at_enqueue);
	CHECK_EQ(zap_page_range(mm, 0, 3), 3);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(r8_fired, 1);
	CHECK(folio_on_deferred_list(r8));
	CHECK_EQ(folio_ref_count(r8), 5);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(zap_page_range(mm, 3, 5), 5);	/* freed, unqueued by the freer */
	CHECK_EQ(deferred_split_count(), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R1 in split, between the pre-check and the freeze:
 *   1. split's pre-check sees refcount - 1 == expected and unmaps the
 *      folio to migration entries ...
 *   2. ... a lookup takes a reference (the folio is still in its slots);
 *   3. the freeze is a CAS on the exact count: it fails, and split remaps
 *      everything and returns -EAGAIN; the lookup's reference stays good.
 */
static struct address_space *pm;
static struct folio *pf, *pgot;
static int pre_fired;

static void precheck_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_SPLIT_UNMAPPED || arg != pf || pre_fired)
		return;
	pre_fired = 1;
	pgot = filemap_get_folio(pm, PN + 1);		/* 2 */
	CHECK(pgot == pf);
}

static void test_race_split_precheck_vs_lookup(void)
{
	long base;

	up();
	pm = address_space_create(2 * PN);
	base = mm_add_file_window(mm, pm);
	pf = ft_cache_folio(pm, PN, PO);
	CHECK_EQ(filemap_map_pages(mm, pm, PN, 4, false), 4);
	pre_fired = 0;
	pgot = NULL;
	atomic_store(&folio_race_hook, precheck_hook);
	CHECK_EQ(split_locked(pf, 0), -EAGAIN);		/* 3 */
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(pre_fired, 1);
	CHECK_EQ(folio_order(pf), PO);
	CHECK_EQ(folio_mapcount(pf), 4);		/* remapped */
	CHECK(atomic_load(pmd_offset(mm, (unsigned long)base + PN)) != 0);
	CHECK_EQ(ft_check(&(struct folio_held){ pf, 1, 0 }, 1, NULL), 0);
	if (pgot)
		folio_put(pgot);
	CHECK_EQ(split_locked(pf, 0), 0);		/* now it can */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	truncate_inode_pages_range(pm, 0, 2 * PN);
	files[nfiles++] = pm;
	down();
}

/*
 * split vs zap + refault of its PMD (the rmap walk's unlocked look):
 *   1. split's rmap walk sees the PMD leaf of the folio it splits ...
 *   2. ... a zap (no folio lock needed) removes that leaf and a fault
 *      installs another folio's leaf at the same address;
 *   3. the walk takes the PMD lock: the leaf is not its folio's any more
 *      and must be left alone (split_huge_pmd_folio); splitting it would
 *      turn a stranger's PMD mapping into PTEs.
 */
static struct folio *rf_victim;
static int rf_fired;

static void refault_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_PMD_LOOKED || arg != rf_victim || rf_fired)
		return;
	rf_fired = 1;
	CHECK_EQ(zap_page_range(mm, PN, PN), 1);		/* 2 */
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
}

static void test_race_split_vs_refault(void)
{
	struct folio *y;
	pmd_t pmd;

	up();
	rf_victim = anon_folio(PN, PO);
	rf_fired = 0;
	atomic_store(&folio_race_hook, refault_hook);
	CHECK_EQ(split_locked(rf_victim, 0), 0);	/* unmapped: splits */
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(rf_fired, 1);
	pmd = atomic_load(pmd_offset(mm, PN));
	CHECK(pmd_leaf(pmd));				/* 3 */
	if (pmd_leaf(pmd)) {
		y = pfn_folio(pte_pfn(pmd));
		CHECK_EQ(folio_order(y), PO);
		CHECK_EQ(folio_entire_mapcount(y), 1);
		CHECK_EQ(folio_mapcount(y), 1);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Split runs out of descriptors (step 2): all of them are taken before
 * anything changes, so a shortfall fails the split with -ENOMEM and the
 * folio as it was.  Every page is eaten (order-0 folios), then every
 * large_folio_cache descriptor left is taken raw, and two given back: a
 * split of an order-4 THP to order 2 needs three, gets two, and must give
 * both back.  Pinned to CPU 0: the two must be found in this CPU's sheaf.
 */
static void *descs[NR];

static void test_split_enomem(void)
{
	unsigned long nd = 0;
	struct folio *t;

	ft_pin_cpu0();
	up();
	t = anon_folio(PN, PO);
	ft_eat_all();
	while (nd < NR && (descs[nd] = kmem_cache_alloc(large_folio_cache)) != NULL)
		nd++;
	CHECK(nd >= 2);
	kmem_cache_free(large_folio_cache, descs[--nd]);
	kmem_cache_free(large_folio_cache, descs[--nd]);
	CHECK_EQ(split_locked(t, 2), -ENOMEM);
	CHECK_EQ(folio_order(t), PO);
	CHECK(pmd_leaf(atomic_load(pmd_offset(mm, PN))));	/* never unmapped */
	CHECK_EQ(folio_ref_count(t), 1);
	/* the two came back: taken again, nothing else is left */
	CHECK((descs[nd] = kmem_cache_alloc(large_folio_cache)) != NULL);
	nd++;
	CHECK((descs[nd] = kmem_cache_alloc(large_folio_cache)) != NULL);
	nd++;
	CHECK(kmem_cache_alloc(large_folio_cache) == NULL);
	while (nd)
		kmem_cache_free(large_folio_cache, descs[--nd]);
	ft_give_back(FT_ALL);
	CHECK_EQ(split_locked(t, 2), 0);	/* with memory back, it splits */
	CHECK_EQ(folio_order(t), 2);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_split_anon_ptes);
	FT_RUN(test_split_eagain);
	FT_RUN(test_split_file);
	FT_RUN(test_split_unmapped_anon);
	FT_RUN(test_race_split_vs_lookup);
	FT_RUN(test_deferred_scan_splits);
	FT_RUN(test_race_scan_vs_frozen_and_held);
	FT_RUN(test_race_scan_vs_free);
	FT_RUN(test_race_partial_unmap_enqueue_vs_free);
	FT_RUN(test_race_split_vs_refault);
	FT_RUN(test_race_split_precheck_vs_lookup);
	FT_RUN(test_split_enomem);
	folio_thread_offline();
	return ft_done();
}
