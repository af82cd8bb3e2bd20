/* SPDX-License-Identifier: MIT */
/*
 * test_page_data.c - what pages hold (docs/design.md 5.16) through every
 * path of the model: the anon fault's zero-fill (also over a page another
 * owner wrote), the page-cache fill and its version after a truncate, the
 * copies (COW, fork's copy of a pinned page, migration, collapse), a split
 * that moves nothing, MADV_FREE then reclaim (discarded: refault reads 0;
 * written since: kept), CPU stores and loads through touch_page_data and
 * DMA through a GUP reference; and the hardware access's races, forced at
 * RP_TOUCH_GOT (collapse, zap), from its access hook (a MADV_FREE
 * clearing the dirty bit between the access's CAS and its store) and at
 * RP_SPLIT_PMD_READ (a store dirtying a leaf split_huge_pmd has read).
 * Run: build/<preset>/tests/test_page_data
 */
#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/migrate.h"
#include "folio/page_data.h"
#include "folio/vmscan.h"
#include "ft_world.h"

#define NR 4096
#define PO 3
#define PN (1ul << PO)
#define NONE FT_NOTHING	/* rd(): nothing read */

static struct mm_struct *mm, *child;
static struct address_space *file;
static long wbase;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(4 * PN, 4 * PN);
	child = mm_create(4 * PN, 4 * PN);
	file = address_space_create(4 * PN);
	wbase = mm_add_file_window(mm, file);
	CHECK(wbase >= 0);
	CHECK(mm_add_file_window(child, file) == wbase);
}

static void down(void)
{
	mm_destroy(child);
	mm_destroy(mm);
	(void)truncate_inode_pages_range(file, 0, 4 * PN);
	CHECK_EQ(address_space_destroy(file), 0);
	ft_world_down();
}

#define rd ft_load
#define wr ft_store

static unsigned long pfn_at(struct mm_struct *m, unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(m, va));
	pte_t pte;

	if (pmd_leaf(pmd))
		return pte_pfn(pmd) + (va & (PN - 1));
	if (!pmd_table(pmd))
		return ~0ul;
	pte = atomic_load(pte_offset(pmd, va));
	return pte_present(pte) ? pte_pfn(pte) : ~0ul;
}

static void test_fault_zero_fills(void)
{
	unsigned long pfn;

	up();
	/* a page no one wrote: 0, not the world's "never written" poison */
	CHECK_EQ(do_anonymous_page(mm, 0, 0, false), 0);
	CHECK_EQ(rd(mm, 0), 0);
	CHECK_EQ(wr(mm, 0, 0x5151), 1);
	CHECK_EQ(rd(mm, 0), 0x5151);
	/* freed with its data; the next fault gets the same page back (the
	 * per-CPU lists are LIFO) and must not show the old owner's data */
	pfn = pfn_at(mm, 0);
	CHECK_EQ(zap_page_range(mm, 0, 1), 1);
	CHECK_EQ(page_data_read(pfn), 0x5151);	/* freeing clears nothing */
	CHECK_EQ(do_anonymous_page(mm, 0, 0, false), 0);
	CHECK_EQ(pfn_at(mm, 0), pfn);
	CHECK_EQ(rd(mm, 0), 0);
	/* a THP, and an mTHP: every page zeroed */
	CHECK_EQ(do_anonymous_page(mm, PN, PO, false), 0);
	CHECK_EQ(do_anonymous_page(mm, 2 * PN, 2, false), 0);
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(rd(mm, PN + i), 0);
	for (unsigned long i = 0; i < 4; i++)
		CHECK_EQ(rd(mm, 2 * PN + i), 0);
	down();
}

static void test_touch_results(void)
{
	uint64_t v = 7;

	up();
	CHECK_EQ(touch_page_data(mm, 3, false, &v), 0);	/* nothing there */
	CHECK_EQ(touch_page_data(mm, 1ul << 30, false, &v), 0);	/* outside */
	CHECK_EQ(do_anonymous_page(mm, 3, 0, false), 0);
	CHECK_EQ(wr(mm, 3, 0x77), 1);
	CHECK_EQ(rd(mm, 3), 0x77);
	/* a store sets young and dirty, as the hardware does */
	CHECK(atomic_load(pte_offset(atomic_load(pmd_offset(mm, 3)), 3)) &
	      _PAGE_DIRTY);
	/* read-only after a fork: a store is the write fault's job */
	CHECK_EQ(mm_fork(child, mm), 1);
	CHECK_EQ(wr(mm, 3, 0x78), 0);
	CHECK_EQ(rd(mm, 3), 0x77);
	CHECK_EQ(rd(child, 3), 0x77);
	down();
}

static void test_file_fill_and_version(void)
{
	struct folio *f;

	up();
	f = ft_cache_folio(file, 4, 2);
	CHECK(f != NULL);
	for (unsigned long i = 0; i < 4; i++)
		CHECK_EQ(page_data_read(folio_pfn(f) + i),
			 file_page_data(file->id, 4 + i, 0));
	CHECK_EQ(filemap_map_pages(mm, file, 4, 4, false), 4);
	CHECK_EQ(rd(mm, wbase + 5), file_page_data(file->id, 5, 0));
	CHECK_EQ(wr(mm, wbase + 5, 0x99), 1);
	CHECK_EQ(filemap_map_pages(child, file, 4, 4, false), 4);
	CHECK_EQ(rd(child, wbase + 5), 0x99);	/* a shared mapping */
	/* truncate: a new version on "disk"; the written page is gone */
	CHECK_EQ(truncate_inode_pages_range(file, 0, 4 * PN), 1);
	CHECK_EQ(rd(mm, wbase + 5), NONE);
	CHECK(ft_cache_folio(file, 4, 2) != NULL);
	CHECK_EQ(filemap_map_pages(mm, file, 4, 4, false), 4);
	CHECK_EQ(rd(mm, wbase + 5), file_page_data(file->id, 5, 1));
	down();
}

/* cow.c's basic test: after fork each side reads the pre-fork data and
 * neither sees the other's later writes */
static void test_cow_copies(void)
{
	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 2, true), 0);
	for (unsigned long i = 0; i < 4; i++)
		CHECK_EQ(wr(mm, i, 0x100 + i), 1);
	CHECK_EQ(mm_fork(child, mm), 4);
	CHECK_EQ(do_wp_page(mm, 1, false), WP_COPIED);
	CHECK_EQ(wr(mm, 1, 0x201), 1);
	CHECK_EQ(do_wp_page(child, 2, false), WP_COPIED);
	CHECK_EQ(wr(child, 2, 0x302), 1);
	for (unsigned long i = 0; i < 4; i++) {
		CHECK_EQ(rd(mm, i), i == 1 ? 0x201 : 0x100 + i);
		CHECK_EQ(rd(child, i), i == 2 ? 0x302 : 0x100 + i);
	}
	/* the unshare fault copies too, and writes nothing */
	CHECK_EQ(do_wp_page(child, 3, true), WP_COPIED);
	CHECK_EQ(rd(child, 3), 0x103);
	down();
}

/* cow.c's R/W pin then fork: the pinned page stays the parent's and the
 * child gets a copy; DMA through the pin is what the parent reads */
static void test_fork_copies_pinned_page(void)
{
	unsigned long pfn;

	up();
	CHECK_EQ(do_anonymous_page(mm, 5, 0, true), 0);
	CHECK_EQ(wr(mm, 5, 0xaa), 1);
	CHECK_EQ(gup_fast(mm, 5, 1, FOLL_PIN | FOLL_WRITE, &pfn), 1);
	CHECK_EQ(mm_fork(child, mm), 1);
	CHECK(pfn_at(child, 5) != pfn);
	CHECK_EQ(rd(child, 5), 0xaa);
	page_data_write(pfn, 0xbb);	/* the device writes */
	CHECK_EQ(rd(mm, 5), 0xbb);
	CHECK_EQ(rd(child, 5), 0xaa);
	unpin_user_pages_dirty_lock(&pfn, 1, FOLL_PIN | FOLL_WRITE);
	down();
}

static int isolate_lock(struct folio *f)
{
	folio_get(f);
	folio_lock(f);
	return 0;
}

static void test_migrate_collapse_split_keep_data(void)
{
	struct folio *f;

	up();
	/* migration copies: anon mTHP and a page-cache folio */
	CHECK_EQ(do_anonymous_page(mm, 0, 2, false), 0);
	for (unsigned long i = 0; i < 4; i++)
		CHECK_EQ(wr(mm, i, 0x400 + i), 1);
	f = pfn_folio(pfn_at(mm, 0));
	isolate_lock(f);
	CHECK_EQ(migrate_folio(f), 0);
	CHECK(pfn_folio(pfn_at(mm, 0)) != f);
	for (unsigned long i = 0; i < 4; i++)
		CHECK_EQ(rd(mm, i), 0x400 + i);
	f = ft_cache_folio(file, 8, 0);
	CHECK_EQ(filemap_map_pages(mm, file, 8, 1, false), 1);
	CHECK_EQ(wr(mm, wbase + 8, 0x808), 1);
	isolate_lock(f);
	CHECK_EQ(migrate_folio(f), 0);
	CHECK_EQ(rd(mm, wbase + 8), 0x808);
	/* collapse copies each small page into its place in the THP */
	for (unsigned long i = 0; i < PN; i++) {
		CHECK_EQ(do_anonymous_page(mm, PN + i, 0, false), 0);
		CHECK_EQ(wr(mm, PN + i, 0x500 + i), 1);
	}
	CHECK_EQ(collapse_huge_page(mm, PN), 0);
	CHECK(pmd_leaf(atomic_load(pmd_offset(mm, PN))));
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(rd(mm, PN + i), 0x500 + i);
	/* split_huge_pmd and the folio split move nothing */
	split_huge_pmd(mm, PN);
	f = pfn_folio(pfn_at(mm, PN));
	isolate_lock(f);
	CHECK_EQ(split_folio(f), 0);
	folio_unlock(f);
	folio_put(f);
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(rd(mm, PN + i), 0x500 + i);
	down();
}

/* MADV_FREE: not written since, discarded, and the refault reads 0;
 * written since (a dirty entry), kept with its data */
static void test_lazyfree_discard_and_keep(void)
{
	struct folio *f;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	CHECK_EQ(wr(mm, 0, 0x600), 1);
	CHECK_EQ(wr(mm, 1, 0x601), 1);
	CHECK_EQ(madvise_free(mm, 0, 2), 2);
	CHECK_EQ(wr(mm, 1, 0x602), 1);	/* written since */
	f = pfn_folio(pfn_at(mm, 0));
	isolate_lock(f);
	CHECK_EQ(reclaim_lazyfree_folio(f, true), 0);
	CHECK_EQ(rd(mm, 0), NONE);
	CHECK_EQ(do_anonymous_page(mm, 0, 0, false), 0);
	CHECK_EQ(rd(mm, 0), 0);
	f = pfn_folio(pfn_at(mm, 1));
	isolate_lock(f);
	CHECK_EQ(reclaim_lazyfree_folio(f, true), -EBUSY);
	folio_unlock(f);
	folio_put(f);
	CHECK_EQ(rd(mm, 1), 0x602);
	down();
}

/* ---- the hardware access's races ---- */
static int fired;

/* collapse between the access's reference and its PMD recheck (R4 for a
 * CPU store): collapse sees the extra reference and puts the PMD back;
 * the store lands on the small page, still mapped */
static void collapse_at_got(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_TOUCH_GOT || fired++)
		return;
	CHECK_EQ(collapse_huge_page(mm, 0), -EAGAIN);
}

/* a zap there: the access's CAS fails, it looks again and finds nothing;
 * its reference kept the page from being freed under the store */
static void zap_at_got(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_TOUCH_GOT || fired++)
		return;
	CHECK_EQ(zap_page_range(mm, 2, 1), 1);
}

static void test_race_touch_vs_collapse_and_zap(void)
{
	up();
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(do_anonymous_page(mm, i, 0, false), 0);
	fired = 0;
	atomic_store(&folio_race_hook, collapse_at_got);
	CHECK_EQ(wr(mm, 2, 0x700), 1);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	CHECK(pmd_table(atomic_load(pmd_offset(mm, 0))));
	CHECK_EQ(rd(mm, 2), 0x700);
	CHECK_EQ(collapse_huge_page(mm, 0), 0);	/* now it goes, with it */
	CHECK_EQ(rd(mm, 2), 0x700);
	CHECK_EQ(zap_page_range(mm, 0, PN), 1);
	for (unsigned long i = 0; i < PN; i++)
		CHECK_EQ(do_anonymous_page(mm, i, 0, false), 0);
	fired = 0;
	atomic_store(&folio_race_hook, zap_at_got);
	CHECK_EQ(wr(mm, 2, 0x701), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	CHECK_EQ(rd(mm, 2), NONE);
	down();
}

/* MADV_FREE clears the dirty bit after the store's CAS set it and before
 * its data lands: the access sets it again, so reclaim keeps the page */
static void madv_in_access(struct mm_struct *m, unsigned long va,
			   unsigned long pfn, enum folio_access what, uint64_t val)
{
	(void)pfn;
	(void)val;
	if (what != FOLIO_ACCESS_STORE || fired++)
		return;
	CHECK_EQ(madvise_free(m, va, 1), 1);
}

static struct {
	struct mm_struct *mm;
	unsigned long va, pfn;
	enum folio_access what;
	uint64_t val, mem;	/* mem: the page when the hook ran */
	int calls;
} seen;

static void record_access(struct mm_struct *m, unsigned long va,
			  unsigned long pfn, enum folio_access what, uint64_t val)
{
	seen.mm = m;
	seen.va = va;
	seen.pfn = pfn;
	seen.what = what;
	seen.val = val;
	seen.mem = page_data_read(pfn);
	seen.calls++;
}

static void test_race_store_vs_madv_free(void)
{
	struct folio *f;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, false), 0);
	fired = 0;
	atomic_store(&folio_access_hook, madv_in_access);
	CHECK_EQ(wr(mm, 0, 0x800), 1);
	atomic_store(&folio_access_hook, NULL);
	CHECK_EQ(fired, 1);
	f = pfn_folio(pfn_at(mm, 0));
	CHECK(folio_test_lazyfree(f));
	isolate_lock(f);
	CHECK_EQ(reclaim_lazyfree_folio(f, true), -EBUSY);
	folio_unlock(f);
	folio_put(f);
	CHECK_EQ(rd(mm, 0), 0x800);
	/* the hook sees every access with its page and value */
	atomic_store(&folio_access_hook, record_access);
	CHECK_EQ(wr(mm, 0, 0x801), 1);	/* STORE, then STORED after it */
	CHECK(seen.mm == mm && seen.va == 0 && seen.what == FOLIO_ACCESS_STORED &&
	      seen.val == 0x801 && seen.mem == 0x801 && seen.calls == 2);
	CHECK_EQ(seen.pfn, pfn_at(mm, 0));
	CHECK_EQ(rd(mm, 0), 0x801);
	CHECK(seen.what == FOLIO_ACCESS_LOAD && seen.val == 0x801 &&
	      seen.calls == 3);
	atomic_store(&folio_access_hook, NULL);
	down();
}

/*
 * split_huge_pmd reads the leaf under the PMD lock, then invalidates it;
 * a CPU store in between (the hardware takes no lock) dirties the leaf.
 * The invalidate must keep that dirty bit for the PTEs (pmdp_invalidate
 * is an exchange): else a lazyfree page written now is discarded by
 * reclaim (found by fuzz_sched's data oracle,
 * corpora/regressions/fuzz_sched_text/bug-split-pmd-dirty-lost).
 */
static void store_at_split_read(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_SPLIT_PMD_READ || fired++)
		return;
	CHECK_EQ(wr(mm, 1, 0x900), 1);
}

static void test_race_store_vs_split_pmd(void)
{
	struct folio *f;
	pte_t pte;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, PO, false), 0);
	CHECK_EQ(madvise_free(mm, 0, PN), 1);	/* clean, lazyfree */
	fired = 0;
	atomic_store(&folio_race_hook, store_at_split_read);
	split_huge_pmd(mm, 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(fired, 1);
	pte = atomic_load(pte_offset(atomic_load(pmd_offset(mm, 0)), 1));
	CHECK(pte_present(pte) && (pte & _PAGE_DIRTY));
	f = pfn_folio(pfn_at(mm, 0));
	isolate_lock(f);
	CHECK_EQ(reclaim_lazyfree_folio(f, false), -EBUSY);	/* kept */
	folio_unlock(f);
	folio_put(f);
	CHECK_EQ(rd(mm, 1), 0x900);
	down();
}

/*
 * A world over 1M pages (8 MiB of page data, 4 GiB of address space):
 * teardown frees the page-data array, the memmap and the mapping instead
 * of keeping them for the next world, which then allocates its own.  Its
 * pages start "never written", as a small world's do.
 */
/*
 * A CPU store in flight across a fork, and a COW of the parent.  The
 * store's access checked its entry (writable) and set A/D with its CAS;
 * then a fork write-protects the entry and shares the page; then a write
 * fault in the parent copies it.  In the kernel the store lands before the
 * fork's TLB flush (flush_tlb_mm, under the mmap lock the fault needs), so
 * the copy has it.  The model's flush: fork waits for every store that
 * may have gone through an entry it write-protected (mm_flush_stores)
 * before its count is even again, and a COW of an mm whose count is odd
 * waits for it.  Forced with three threads: the store's access hook (after
 * the CAS, before the data lands) lets thread B fork and thread C, once
 * the fork has write-protected the entry, COW the page; the hook waits for
 * the COW at most 200 ms.  With both halves of the fix, the fork waits for
 * the store (the hook times out), and the COW for the fork.  Without the
 * fork's wait, or without the COW's, the COW copies the page first and the
 * store lands on the child's page alone: the parent reads the old value
 * (found by foliotorture --scenario fork-vs-gup under TSan: "data
 * (lost)").
 */
static atomic_int fc_stage;	/* 1: the store is in flight; 2: COW done */

static void store_waits_for_cow(struct mm_struct *m, unsigned long va,
				unsigned long pfn, enum folio_access what,
				uint64_t val)
{
	(void)m;
	(void)va;
	(void)pfn;
	(void)val;
	if (what != FOLIO_ACCESS_STORE || atomic_load(&fc_stage))
		return;
	atomic_store(&fc_stage, 1);
	for (int ms = 0; ms < 200 && atomic_load(&fc_stage) == 1; ms++)
		usleep(1000);
}

static void *fc_fork(void *arg)
{
	(void)arg;
	folio_thread_online();
	while (atomic_load(&fc_stage) == 0)
		usleep(100);
	CHECK_EQ(mm_fork(child, mm), 1);
	folio_thread_offline();
	return NULL;
}

static void *fc_cow(void *arg)
{
	(void)arg;
	folio_thread_online();
	/* the fork has write-protected the parent's entry */
	while (atomic_load(&fc_stage) == 0 || (pte_t)atomic_load(
		       pte_offset(atomic_load(pmd_offset(mm, 0)), 0)) & _PAGE_WRITE)
		usleep(100);
	CHECK_EQ(do_wp_page(mm, 0, false), WP_COPIED);
	atomic_store(&fc_stage, 2);
	folio_thread_offline();
	return NULL;
}

static void test_race_store_vs_fork_cow(void)
{
	pthread_t b, c;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(wr(mm, 0, 0xa00), 1);
	atomic_store(&fc_stage, 0);
	CHECK_EQ(pthread_create(&b, NULL, fc_fork, NULL), 0);
	CHECK_EQ(pthread_create(&c, NULL, fc_cow, NULL), 0);
	atomic_store(&folio_access_hook, store_waits_for_cow);
	CHECK_EQ(wr(mm, 0, 0xa01), 1);
	atomic_store(&folio_access_hook, NULL);
	CHECK_EQ(pthread_join(b, NULL), 0);
	CHECK_EQ(pthread_join(c, NULL), 0);
	CHECK_EQ(atomic_load(&fc_stage), 2);
	CHECK_EQ(rd(mm, 0), 0xa01);	/* the parent's store is the parent's */
	/* the child: the page as forked, or with the store that raced with
	 * the fork (the kernel's too: it lands before the fork's flush) */
	CHECK(rd(child, 0) == 0xa00 || rd(child, 0) == 0xa01);
	down();
}

static void test_big_world_not_kept(void)
{
	unsigned long nr = (1ul << 20) + 16;
	struct folio *f;

	ft_world_up(nr);
	CHECK_EQ(nr_free_pages(), nr);
	CHECK_EQ(page_data_read(nr - 1), PAGE_DATA_POISON ^ (nr - 1));
	f = folio_alloc(0);
	CHECK(f != NULL);
	if (f)
		folio_put(f);
	ft_world_down();
	ft_world_up(64);	/* nothing of the big world is reused */
	CHECK_EQ(page_data_read(63), PAGE_DATA_POISON ^ 63);
	ft_world_down();
	ft_world_up(nr);	/* no spare at all now: a fresh one again */
	ft_world_down();
}

#ifndef FT_SANITIZED
/* The address space in use now, in bytes (/proc/self/statm's size). */
static unsigned long vm_bytes(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}

/* folio_world_init for @nr pages with the address space capped at what
 * is in use now plus @room. */
static int init_with_room(unsigned long nr, unsigned long room)
{
	struct folio_config cfg = { .nr_pages = nr };
	struct rlimit old, lim;
	int err;

	CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = vm_bytes() + room;
	CHECK_EQ(setrlimit(RLIMIT_AS, &lim), 0);
	err = folio_world_init(&cfg);
	CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
	return err;
}
#endif

/*
 * World set-up under a capped address space, each step failing in turn
 * (run after test_big_world_not_kept, so no spare mapping or array of an
 * earlier world can stand in for the allocation that must fail):
 *   1. the mapping of every page (256 GiB) does not fit
 *   2. the mapping fits, the memmap (32 MiB) does not: the mapping goes
 *   3. the memmap fits, the page data (32 MiB) does not: both go
 * Each returns -ENOMEM with nothing left behind, and a world then comes
 * up as usual.  Not under the sanitizers: their shadow memory and
 * allocators do not live with an address-space cap.
 */
static void test_init_out_of_memory(void)
{
#ifndef FT_SANITIZED
	unsigned long nr = 1ul << 22, map = nr * PAGE_SIZE, arr = nr * 8;

	CHECK_EQ(init_with_room(1ul << 26, 1ul << 30), -ENOMEM);	/* 1 */
	CHECK_EQ(init_with_room(nr, map + arr / 2), -ENOMEM);		/* 2 */
	CHECK_EQ(init_with_room(nr, map + arr + arr / 2), -ENOMEM);	/* 3 */
#endif
	ft_world_up(NR);
	CHECK_EQ(nr_free_pages(), NR);
	ft_world_down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_fault_zero_fills);
	FT_RUN(test_touch_results);
	FT_RUN(test_file_fill_and_version);
	FT_RUN(test_cow_copies);
	FT_RUN(test_fork_copies_pinned_page);
	FT_RUN(test_migrate_collapse_split_keep_data);
	FT_RUN(test_lazyfree_discard_and_keep);
	FT_RUN(test_race_touch_vs_collapse_and_zap);
	FT_RUN(test_race_store_vs_madv_free);
	FT_RUN(test_race_store_vs_split_pmd);
	FT_RUN(test_big_world_not_kept);
	FT_RUN(test_init_out_of_memory);
	/* last: its threads' malloc arenas stay mapped, which
	 * test_init_out_of_memory's address-space limits would count */
	FT_RUN(test_race_store_vs_fork_cow);
	folio_thread_offline();
	return ft_done();
}
