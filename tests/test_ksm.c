/* SPDX-License-Identifier: MIT */
/*
 * test_ksm.c - generic page write protection (folio/ksm.h, docs/design.md
 * 5.17): merging equal anon pages of one mm and of two, refusals (different
 * contents, a pin, a GUP reference, a large folio, a full descriptor), the
 * write that breaks the sharing and the unprotect of the last sharer, fork
 * and migration of a protected folio, MADV_FREE skipping it, the checker's
 * I-wp firing on broken states, and the merge-vs-GUP-fast race forced at
 * RP_GUP_GRABBED and at RP_WP_CLEARED.
 * Run: build/<preset>/tests/test_ksm
 */
#include <errno.h>
#include <string.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/ksm.h"
#include "folio/migrate.h"
#include "folio/page_data.h"
#include "folio/vmscan.h"
#include "ft_world.h"

#define NR 2048
#define PO 3
#define PN (1ul << PO)
#define NONE FT_NOTHING

static struct mm_struct *mm, *mm2;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	mm = mm_create(8 * PN, PN);
	mm2 = mm_create(8 * PN, PN);
}

static void down(void)
{
	mm_destroy(mm2);
	mm_destroy(mm);
	ft_world_down();
}

#define rd ft_load
#define wr ft_store

static pte_t pte_at(struct mm_struct *m, unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(m, va));

	return pmd_table(pmd) ? atomic_load(pte_offset(pmd, va)) : 0;
}

static unsigned long pfn_at(struct mm_struct *m, unsigned long va)
{
	pte_t pte = pte_at(m, va);

	return pte_present(pte) ? pte_pfn(pte) : ~0ul;
}

static struct folio *folio_at(struct mm_struct *m, unsigned long va)
{
	unsigned long pfn = pfn_at(m, va);

	return pfn == ~0ul ? NULL : pfn_folio(pfn);
}

/* A write fault, as the harness does it: store; read-only -> COW, again. */
static void write_through(struct mm_struct *m, unsigned long va, uint64_t v)
{
	if (wr(m, va, v) == 0) {
		CHECK(do_wp_page(m, va, false) >= 0);
		CHECK_EQ(wr(m, va, v), 1);
	}
}

static void test_merge_one_mm(void)
{
	struct folio *a;
	unsigned long bpfn;

	up();
	for (unsigned long va = 0; va < 3; va++)
		CHECK_EQ(do_anonymous_page(mm, va, 0, true), 0);
	a = folio_at(mm, 0);
	bpfn = pfn_at(mm, 1);
	/* zero pages: equal */
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), 1);
	CHECK(folio_test_ksm(a));
	CHECK_EQ(pfn_at(mm, 1), folio_pfn(a));
	CHECK(pfn_folio(bpfn) == NULL);	/* b went back */
	CHECK(!(pte_at(mm, 0) & _PAGE_WRITE));
	CHECK(!(pte_at(mm, 1) & _PAGE_WRITE));
	CHECK_EQ(folio_mapcount(a), 2);
	CHECK_EQ(folio_ref_count(a), 2);
	CHECK(!folio_test_anon_exclusive(a));
	CHECK_EQ(folio_wp_desc(a)->nr, 2);
	CHECK_EQ(rd(mm, 0), 0);
	CHECK_EQ(rd(mm, 1), 0);
	/* a third into the protected one */
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 2), 1);
	CHECK_EQ(folio_wp_desc(a)->nr, 3);
	CHECK_EQ(folio_mapcount(a), 3);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* not again (b is the protected one now), nor with itself */
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), -EINVAL);
	CHECK_EQ(ksm_merge_pages(mm, 3, mm, 1), -EFAULT);
	CHECK_EQ(folio_write_protect_merge(a, a), -EINVAL);
	down();
}

static void test_refusals(void)
{
	unsigned long pfns[1];
	struct folio *a;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	CHECK_EQ(wr(mm, 1, 0x11), 1);
	a = folio_at(mm, 0);
	/* different contents: nothing merged, a plain again */
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), -ENOMSG);
	CHECK(!folio_test_ksm(a));
	CHECK_EQ(wp_desc_nr_active(), 0);
	CHECK_EQ(rd(mm, 1), 0x11);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* a write fault on the now read-only a reuses it (refcount 1) */
	write_through(mm, 0, 0x11);
	CHECK_EQ(folio_at(mm, 0), a);
	CHECK(folio_test_anon_exclusive(a));
	/* equal now; but b is pinned: -EBUSY, until unpinned */
	CHECK_EQ(get_user_pages(mm, 1, 1, FOLL_PIN | FOLL_WRITE, pfns), 1);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), -EBUSY);
	CHECK_EQ(ksm_merge_pages(mm, 1, mm, 0), -EBUSY);	/* a pinned */
	unpin_user_pages(pfns, 1, FOLL_PIN);
	/* a GUP reference (FOLL_GET) the same */
	CHECK_EQ(get_user_pages(mm, 1, 1, FOLL_GET, pfns), 1);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), -EBUSY);
	unpin_user_pages(pfns, 1, FOLL_GET);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), 1);
	/* a large folio, a lazyfree one: not mergeable */
	CHECK_EQ(do_anonymous_page(mm, PN, PO, true), 0);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, PN), -EFAULT);
	CHECK_EQ(folio_write_protect_merge(folio_at(mm, 0),
					   pfn_folio(mm_walk_pfn(mm, PN))), -EINVAL);
	CHECK_EQ(do_anonymous_page(mm, 4, 0, true), 0);
	CHECK_EQ(madvise_free(mm, 4, 1), 1);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 4), -EINVAL);
	/* MADV_FREE leaves the protected page alone */
	CHECK_EQ(madvise_free(mm, 0, 2), 0);
	CHECK(folio_test_swapbacked(a));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_full_descriptor(void)
{
	unsigned long n = WP_MAX_SHARERS + 1;

	up();
	for (unsigned long va = 0; va <= n; va++)
		CHECK_EQ(do_anonymous_page(mm, va, 0, true), 0);
	for (unsigned long va = 1; va < WP_MAX_SHARERS; va++)
		CHECK_EQ(ksm_merge_pages(mm, 0, mm, va), 1);
	CHECK_EQ(folio_wp_desc(folio_at(mm, 0))->nr, WP_MAX_SHARERS);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, n), -ENOSPC);
	CHECK(!folio_test_ksm(folio_at(mm, n)));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* Break on write: a copy for the writer; the others keep the old data;
 * with one sharer left the folio is plain again. */
static void test_break_on_write(void)
{
	struct folio *a;

	up();
	for (unsigned long va = 0; va < 3; va++)
		CHECK_EQ(do_anonymous_page(mm, va, 0, true), 0);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), 1);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 2), 1);
	a = folio_at(mm, 0);
	CHECK_EQ(wr(mm, 1, 0x42), 0);		/* read-only: the fault's job */
	write_through(mm, 1, 0x42);
	CHECK(folio_at(mm, 1) != a);
	CHECK_EQ(rd(mm, 1), 0x42);
	CHECK_EQ(rd(mm, 0), 0);
	CHECK_EQ(rd(mm, 2), 0);
	CHECK(folio_test_ksm(a));
	CHECK_EQ(folio_wp_desc(a)->nr, 2);	/* 1 pruned */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	write_through(mm, 0, 0x43);
	CHECK_EQ(rd(mm, 0), 0x43);
	CHECK_EQ(rd(mm, 2), 0);
	/* one sharer left: plain, owned by mm at va 2 */
	CHECK(!folio_test_ksm(a));
	CHECK_EQ(folio_index(a), 2);
	CHECK(folio_anon_mm(a) == mm);
	CHECK_EQ(wp_desc_nr_active(), 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* and is reused by its next write */
	write_through(mm, 2, 0x44);
	CHECK_EQ(folio_at(mm, 2), a);
	CHECK_EQ(rd(mm, 2), 0x44);
	down();
}

/* Two mms; then a fork shares the protected page with a child at the
 * same address (no new sharer); every write stays with its writer. */
static void test_cross_mm_and_fork(void)
{
	struct mm_struct *child;
	struct folio *a;

	up();
	child = mm_create(8 * PN, PN);
	CHECK_EQ(do_anonymous_page(mm, 5, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm2, 9, 0, true), 0);
	CHECK_EQ(wr(mm, 5, 0x77), 1);
	CHECK_EQ(wr(mm2, 9, 0x77), 1);
	CHECK_EQ(ksm_merge_pages(mm, 5, mm2, 9), 1);
	a = folio_at(mm, 5);
	CHECK_EQ(folio_at(mm2, 9), a);
	CHECK(mm_fork(child, mm) >= 0);
	CHECK_EQ(folio_at(child, 5), a);
	CHECK_EQ(folio_mapcount(a), 3);
	CHECK_EQ(folio_wp_desc(a)->nr, 2);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	write_through(child, 5, 0x78);
	CHECK_EQ(rd(child, 5), 0x78);
	CHECK_EQ(rd(mm, 5), 0x77);
	CHECK_EQ(rd(mm2, 9), 0x77);
	CHECK(folio_test_ksm(a));	/* mm still maps it at 5 */
	write_through(mm2, 9, 0x79);
	CHECK_EQ(rd(mm, 5), 0x77);
	CHECK(!folio_test_ksm(a));
	CHECK_EQ(folio_index(a), 5);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	mm_destroy(child);
	down();
}

/* Migration moves the descriptor with the data; the old folio's free
 * must not take the descriptor with it. */
static void test_migrate(void)
{
	struct folio *a, *n;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm2, 3, 0, true), 0);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm2, 3), 1);
	a = folio_at(mm, 0);
	folio_get(a);
	folio_lock(a);
	CHECK_EQ(migrate_folio(a), 0);	/* unlocks and puts it */
	n = folio_at(mm, 0);
	CHECK(n && n != a);
	CHECK_EQ(folio_at(mm2, 3), n);
	CHECK(folio_test_ksm(n));
	CHECK_EQ(folio_mapcount(n), 2);
	CHECK_EQ(wp_desc_nr_active(), 1);
	CHECK(!(pte_at(mm2, 3) & _PAGE_WRITE));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* zap both: the folio and its descriptor go */
	CHECK_EQ(zap_page_range(mm, 0, 1), 1);
	CHECK_EQ(zap_page_range(mm2, 3, 1), 1);
	CHECK_EQ(wp_desc_nr_active(), 0);
	down();
}

/* A pin asks for an exclusive page: a FOLL_PIN without FOLL_WRITE of a
 * protected page unshares it (a copy), the others keep sharing. */
static void test_pin_unshares(void)
{
	unsigned long pfns[1];
	struct folio *a;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 2, 0, true), 0);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), 1);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 2), 1);
	a = folio_at(mm, 0);
	CHECK_EQ(gup_fast(mm, 1, 1, FOLL_PIN, pfns), 0);	/* must unshare */
	CHECK_EQ(get_user_pages(mm, 1, 1, FOLL_PIN, pfns), 1);
	CHECK(pfns[0] != folio_pfn(a));
	CHECK(folio_test_anon_exclusive(pfn_folio(pfns[0])));
	{
		struct folio_held h = { pfn_folio(pfns[0]), 0, 1 };

		CHECK_EQ(ft_check(&h, 1, NULL), 0);
	}
	unpin_user_pages(pfns, 1, FOLL_PIN);
	/* a plain FOLL_GET of the shared page is allowed (a reader) */
	CHECK_EQ(gup_fast(mm, 2, 1, FOLL_GET, pfns), 1);
	CHECK_EQ(pfns[0], folio_pfn(a));
	unpin_user_pages(pfns, 1, FOLL_GET);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* ---- the checker's I-wp on broken states ---- */
static unsigned long check_rule(const char *rule)
{
	struct folio_violation v = { 0 };
	unsigned long n = ft_check(NULL, 0, &v);

	CHECK(n > 0);
	CHECK(strcmp(v.rule, rule) == 0);
	return n;
}

static void test_check_iwp(void)
{
	struct folio *a;
	struct wp_desc *d;
	_Atomic pte_t *p;
	pte_t saved;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	CHECK_EQ(ksm_merge_pages(mm, 0, mm, 1), 1);
	a = folio_at(mm, 0);
	d = folio_wp_desc(a);
	/* a writable entry */
	p = pte_offset(atomic_load(pmd_offset(mm, 1)), 1);
	saved = atomic_load(p);
	atomic_store(p, saved | _PAGE_WRITE);
	check_rule("I-wp");
	atomic_store(p, saved);
	/* an entry at an address no sharer lists */
	d->s[1].index = 6;
	check_rule("I-wp");
	d->s[1].index = 1;
	/* a sharer listed twice */
	d->s[d->nr] = d->s[0];
	d->nr++;
	check_rule("I-wp");
	d->nr--;
	/* exclusive */
	folio_set_flag(a, PG_anon_exclusive);
	check_rule("I-wp");
	folio_clear_flag(a, PG_anon_exclusive);
	/* too many sharers */
	d->nr = WP_MAX_SHARERS + 1;
	check_rule("I-wp");
	d->nr = 2;
	/* a descriptor no folio owns */
	{
		struct address_space *m = atomic_load(&a->mapping);

		atomic_store(&a->mapping, (struct address_space *)
			     ((uintptr_t)mm | FOLIO_MAPPING_ANON));
		check_rule("I-map");	/* and at va 1, "not at its index" */
		atomic_store(&a->mapping, m);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* ---- merge vs GUP-fast, forced ---- */
static struct {
	int fired;
	int merge;
	long gup;
	unsigned long pfn;
	const struct folio *at;	/* gup_in_merge fires at this folio's clear */
	unsigned long va;	/* ... and GUPs this address (where it was) */
} race;

/* GUP-fast grabbed the page, not rechecked: the merge runs here and must
 * see the reference (its count is read after its clear) */
static void merge_in_gup(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_GUP_GRABBED || race.fired++)
		return;
	race.merge = ksm_merge_pages(mm, 0, mm, 1);
}

/* The merge cleared an entry of race.at, its count not read: a GUP-fast
 * for write of it runs here and must find nothing, or the merge refuses */
static void gup_in_merge(enum folio_race_point rp, void *arg)
{
	if (rp != RP_WP_CLEARED || arg != race.at || race.fired++)
		return;
	race.gup = gup_fast(mm, race.va, 1, FOLL_GET | FOLL_WRITE, &race.pfn);
}

/* A device writes through the GUP reference: the process sees it. */
static void dma_seen(unsigned long va, unsigned long pfn)
{
	page_data_write(pfn, 0x5a5a);
	CHECK_EQ(rd(mm, va), 0x5a5a);
	unpin_user_pages(&pfn, 1, FOLL_GET);
}

static void test_race_merge_vs_gup_fast(void)
{
	unsigned long pfn;

	/* GUP first: grabbed before the merge, rechecked after it */
	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	race.fired = 0;
	atomic_store(&folio_race_hook, merge_in_gup);
	CHECK_EQ(gup_fast(mm, 1, 1, FOLL_GET | FOLL_WRITE, &pfn), 1);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(race.fired, 1);
	CHECK_EQ(race.merge, -EBUSY);
	dma_seen(1, pfn);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();

	/* the merge first: a GUP-fast between its clear and its count, of
	 * b (step 2) and of a (step 1) */
	for (int which = 1; which >= 0; which--) {
		up();
		CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
		CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
		race.fired = 0;
		race.gup = -1;
		race.va = (unsigned long)which;
		race.at = folio_at(mm, race.va);
		atomic_store(&folio_race_hook, gup_in_merge);
		race.merge = ksm_merge_pages(mm, 0, mm, 1);
		atomic_store(&folio_race_hook, NULL);
		CHECK_EQ(race.fired, 1);
		CHECK(race.gup == 0 || race.merge == -EBUSY);
		if (race.gup == 1)
			dma_seen((unsigned long)which, race.pfn);
		else
			CHECK_EQ(race.merge, 1);
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		down();
	}
}

/* GUP-fast read a's writable entry, no reference yet: the merge runs here,
 * clears exclusive and makes the entry read-only; the grab then rechecks
 * a present entry of the same page.  A R/O pin must judge "must unshare"
 * by the rechecked entry: else it pins the now shared page. */
static void merge_in_decode(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_GUP_DECODED || race.fired++)
		return;
	race.merge = ksm_merge_pages(mm, 0, mm, 1);
}

static void test_race_pin_vs_merge(void)
{
	unsigned long pfn;
	long got;

	up();
	CHECK_EQ(do_anonymous_page(mm, 0, 0, true), 0);
	CHECK_EQ(do_anonymous_page(mm, 1, 0, true), 0);
	race.fired = 0;
	atomic_store(&folio_race_hook, merge_in_decode);
	got = gup_fast(mm, 0, 1, FOLL_PIN, &pfn);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(race.fired, 1);
	CHECK_EQ(race.merge, 1);
	CHECK_EQ(got, 0);	/* the slow path must unshare it first */
	if (got) {
		struct folio_held h = { pfn_folio(pfn), 0, 1 };

		CHECK(folio_test_anon_exclusive(pfn_folio(pfn)));
		(void)ft_check(&h, 1, NULL);
		unpin_user_pages(&pfn, 1, FOLL_PIN);
	}
	/* the slow path: unshared, pinned, exclusive */
	CHECK_EQ(get_user_pages(mm, 0, 1, FOLL_PIN, &pfn), 1);
	CHECK(folio_test_anon_exclusive(pfn_folio(pfn)));
	CHECK(!folio_test_ksm(pfn_folio(pfn)));
	unpin_user_pages(&pfn, 1, FOLL_PIN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_merge_one_mm);
	FT_RUN(test_refusals);
	FT_RUN(test_full_descriptor);
	FT_RUN(test_break_on_write);
	FT_RUN(test_cross_mm_and_fork);
	FT_RUN(test_migrate);
	FT_RUN(test_pin_unshares);
	FT_RUN(test_check_iwp);
	FT_RUN(test_race_merge_vs_gup_fast);
	FT_RUN(test_race_pin_vs_merge);
	folio_thread_offline();
	return ft_done();
}
