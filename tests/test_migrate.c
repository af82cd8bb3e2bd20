/* SPDX-License-Identifier: MIT */
/*
 * test_migrate.c - migrate_folio (docs/design.md 5.14): anon, page cache,
 * THP, a queued partially mapped folio, the failures, and the races at
 * its race points: a speculative get and the deferred scanner between the
 * unmap and the freeze (R1, the freeze fails, everything is remapped to
 * the old folio), a lookup while the old folio is frozen (it finds the
 * new folio in the slots), fork waiting on the migration entries is in
 * the stress scenario (it blocks, so it cannot run inside a hook).
 * Run: build/<preset>/tests/test_migrate
 */
#include <errno.h>

#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/migrate.h"
#include "ft_world.h"

#define NR 4096
#define PO 3
#define PN (1ul << PO)

static struct mm_struct *mm;
static struct address_space *file;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(4 * PN, 4 * PN);
	file = address_space_create(4 * PN);
	CHECK(mm_add_file_window(mm, file) >= 0);
}

static void down(void)
{
	mm_destroy(mm);
	(void)truncate_inode_pages_range(file, 0, 4 * PN);
	CHECK_EQ(address_space_destroy(file), 0);
	ft_world_down();
}

static struct folio *folio_at(unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(mm, va));
	pte_t pte;

	if (pmd_leaf(pmd))
		return pfn_folio(pte_pfn(pmd));
	if (!pmd_table(pmd))
		return NULL;
	pte = atomic_load(pte_offset(pmd, va));
	return pte_present(pte) ? pfn_folio(pte_pfn(pte)) : NULL;
}

/* Isolate (+1), lock, migrate; on failure unlock and drop. */
static int migrate(struct folio *f)
{
	int err;

	folio_get(f);
	folio_lock(f);
	err = migrate_folio(f);
	if (err) {
		folio_unlock(f);
		folio_put(f);
	}
	return err;
}

static void test_migrate_anon_file_thp(void)
{
	struct folio *a, *c, *t, *n;
	long base;

	up();
	a = ft_anon_folio(mm, 0, 2);
	CHECK_EQ(migrate(a), 0);
	n = folio_at(0);
	CHECK(n && n != a && folio_order(n) == 2 && folio_mapcount(n) == 4);
	CHECK(folio_test_anon_exclusive(n) && folio_anon_mm(n) == mm);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	c = ft_cache_folio(file, 4, 2);
	base = mm_file_window(mm, file);
	CHECK_EQ(filemap_map_pages(mm, file, 4, 4, false), 4);
	CHECK(touch_page(mm, (unsigned long)base + 5, true));
	CHECK_EQ(migrate(c), 0);
	n = filemap_get_folio(file, 6);
	CHECK(n && n != c && folio_index(n) == 4 && folio_test_dirty(n));
	CHECK(folio_at((unsigned long)base + 7) == n);
	CHECK_EQ(folio_mapcount(n), 4);
	folio_put(n);

	t = ft_anon_folio(mm, PN, PO);	/* a PMD leaf comes back as PTEs */
	CHECK_EQ(migrate(t), 0);
	n = folio_at(PN + 3);
	CHECK(n && n != t && folio_order(n) == PO && folio_mapcount(n) == PN);
	CHECK(pmd_table(atomic_load(pmd_offset(mm, PN))));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_migrate_moves_queue_and_fails(void)
{
	unsigned long pfn;
	struct folio *a, *n;

	up();
	a = ft_anon_folio(mm, 0, 3);
	CHECK_EQ(zap_page_range(mm, 6, 2), 2);
	CHECK(folio_on_deferred_list(a));
	CHECK_EQ(migrate(a), 0);
	n = folio_at(0);
	CHECK(n != a && folio_on_deferred_list(n) && folio_mapcount(n) == 6);
	CHECK_EQ(deferred_split_count(), 1);
	/* pinned: -EAGAIN, nothing moved */
	CHECK_EQ(gup_fast(mm, 1, 1, FOLL_PIN, &pfn), 1);
	CHECK_EQ(migrate(n), -EAGAIN);
	CHECK(folio_at(0) == n);
	unpin_user_pages(&pfn, 1, FOLL_PIN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R1 vs migration: between the unmap (migration entries in) and the
 * freeze, a speculative getter (pfn walker) or the deferred scanner takes
 * a reference: the freeze fails, the entries come back as the old
 * folio's, migrate returns -EAGAIN, the folio stays queued.
 */
static struct folio *mv_victim;
static int mv_fired, mv_mode;
static struct folio *mv_got;

static void unmapped_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_MIGRATE_UNMAPPED || arg != mv_victim || mv_fired++)
		return;
	CHECK(!folio_at(0));	/* migration entries: nothing present */
	if (mv_mode == 0) {
		rcu_read_lock_model();
		mv_got = folio_try_get_pfn(folio_pfn(mv_victim) + 1, 1);
		rcu_read_unlock_model();
		CHECK(mv_got == mv_victim);
	} else {
		/* the scanner isolates it, cannot lock it, requeues it */
		CHECK_EQ(deferred_split_scan(4), 0);
	}
}

static void test_race_migrate_unmapped(void)
{
	for (mv_mode = 0; mv_mode < 2; mv_mode++) {
		up();
		mv_victim = ft_anon_folio(mm, 0, 3);
		CHECK_EQ(zap_page_range(mm, 7, 1), 1);	/* queued */
		mv_fired = 0;
		mv_got = NULL;
		atomic_store(&folio_race_hook, unmapped_hook);
		if (mv_mode == 0)
			CHECK_EQ(migrate(mv_victim), -EAGAIN);
		else	/* the scanner's reference is gone by the freeze */
			CHECK_EQ(migrate(mv_victim), 0);
		atomic_store(&folio_race_hook, NULL);
		CHECK_EQ(mv_fired, 1);
		if (mv_mode == 0) {
			CHECK(folio_at(0) == mv_victim);
			CHECK(folio_on_deferred_list(mv_victim));
			CHECK_EQ(ft_check(&(struct folio_held){ mv_victim, 1, 0 }, 1, NULL), 0);
			folio_put(mv_got);
		} else {
			CHECK(folio_at(0) != mv_victim);
			CHECK(folio_on_deferred_list(folio_at(0)));
		}
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		down();
	}
}

/*
 * A page-cache lookup while the old folio is frozen and the slots already
 * name the new one: the lookup gets the new folio (the old one would fail
 * its try_get and be retried, R1/R5).
 */
static struct folio *lk_new;

static void frozen_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_MIGRATE_FROZEN || arg != mv_victim || mv_fired++)
		return;
	CHECK_EQ(folio_ref_count(mv_victim), 0);
	rcu_read_lock_model();
	CHECK(folio_try_get_pfn(folio_pfn(mv_victim), 1) == NULL);
	rcu_read_unlock_model();
	lk_new = filemap_get_folio(file, 2);
}

static void test_race_migrate_frozen_vs_lookup(void)
{
	up();
	mv_victim = ft_cache_folio(file, 0, 2);
	mv_fired = 0;
	atomic_store(&folio_race_hook, frozen_hook);
	CHECK_EQ(migrate(mv_victim), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(mv_fired, 1);
	CHECK(lk_new && folio_index(lk_new) == 0 && folio_order(lk_new) == 2);
	CHECK(filemap_get_folio(file, 0) == lk_new);
	folio_put(lk_new);	/* the second lookup's */
	CHECK_EQ(ft_check(&(struct folio_held){ lk_new, 1, 0 }, 1, NULL), 0);
	folio_put(lk_new);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * No page for the new folio: -ENOMEM before anything is unmapped (the
 * folio stays mapped and whole, nothing is left locked or held); with
 * memory back the same migration goes through.
 */

static void test_migrate_enomem(void)
{
	struct folio *a, *n;

	up();
	a = ft_anon_folio(mm, 0, 2);
	ft_eat_all();
	CHECK_EQ(migrate(a), -ENOMEM);
	CHECK(folio_at(0) == a && folio_at(3) == a);
	CHECK_EQ(folio_mapcount(a), 4);
	CHECK(!folio_test_locked(a));
	CHECK_EQ(nr_free_pages(), 0);
	ft_give_back(FT_ALL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(migrate(a), 0);
	n = folio_at(0);
	CHECK(n != a && folio_order(n) == 2 && folio_mapcount(n) == 4);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Only anon folios of order > 1 go on the deferred-split queue: asked to
 * queue an order-0 or order-1 anon folio or a file folio, it does nothing.
 */
static void test_deferred_split_not_queueable(void)
{
	struct folio *f[3];
	unsigned long before;

	up();
	before = deferred_split_count();
	f[0] = folio_alloc_anon(0);
	f[1] = folio_alloc_anon(1);
	f[2] = folio_alloc(2);
	for (int i = 0; i < 3; i++) {
		CHECK(f[i] != NULL);
		if (!f[i])
			continue;
		deferred_split_folio(f[i], true);
		CHECK(!folio_on_deferred_list(f[i]));
		CHECK_EQ(deferred_split_count(), before);
	}
	for (int i = 0; i < 3; i++)
		if (f[i])
			folio_put(f[i]);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_migrate_anon_file_thp);
	FT_RUN(test_migrate_moves_queue_and_fails);
	FT_RUN(test_race_migrate_unmapped);
	FT_RUN(test_race_migrate_frozen_vs_lookup);
	FT_RUN(test_migrate_enomem);
	FT_RUN(test_deferred_split_not_queueable);
	folio_thread_offline();
	return ft_done();
}
