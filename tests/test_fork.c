/* SPDX-License-Identifier: MIT */
/*
 * test_fork.c - fork, COW and anon-exclusive pins (docs/design.md 5.13):
 * what fork shares and what it copies, reuse vs copy on a write fault,
 * unsharing a R/O pin, the I-excl checker rules on broken states, and the
 * races R14 (GUP-fast pin vs fork, both directions) and R2 (GUP-fast vs a
 * COW replacing the entry it read), each forced at a race point.
 * Run: build/<preset>/tests/test_fork
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "ft_world.h"

#define NR 4096
#define PO 3
#define PN (1ul << PO)

static struct mm_struct *parent, *child;

static void up(void)
{
	ft_world_up_pmd(NR, PO);
	parent = mm_create(4 * PN, PN);
	child = mm_create(4 * PN, PN);
}

static void down(void)
{
	mm_destroy(child);
	mm_destroy(parent);
	ft_world_down();
}

static pte_t entry(struct mm_struct *mm, unsigned long va)
{
	pmd_t pmd = atomic_load(pmd_offset(mm, va));

	if (pmd_leaf(pmd))
		return pmd;
	if (!pmd_table(pmd))
		return 0;
	return atomic_load(pte_offset(pmd, va));
}

static struct folio *folio_at(struct mm_struct *mm, unsigned long va)
{
	pte_t e = entry(mm, va);

	if (!pte_present(e))
		return NULL;
	return pfn_folio(pte_pfn(e) + (pmd_leaf(e) ? va & (PN - 1) : 0));
}

/* Expect a violation of @rule first. */
static void expect_rule(const char *rule, const struct folio_held *held,
			size_t n)
{
	struct folio_violation v;
	struct folio_check_opts o = { .held = held, .nr_held = n };

	CHECK(folio_check_quiescent(&o, &v) > 0);
	CHECK(strcmp(v.rule, rule) == 0);
}

static void test_fork_shares_write_protected(void)
{
	struct folio *a, *b, *t;

	up();
	a = ft_anon_folio(parent, 0, 0);
	b = ft_anon_folio(parent, 4, 2);
	t = ft_anon_folio(parent, PN, PO);
	CHECK(folio_test_anon_exclusive(a) && folio_test_anon_exclusive(t));
	/* 1 PTE + 4 PTEs + 1 PMD leaf */
	CHECK_EQ(mm_fork(child, parent), 6);
	CHECK(!folio_test_anon_exclusive(a) && !folio_test_anon_exclusive(b) &&
	      !folio_test_anon_exclusive(t));
	CHECK_EQ(folio_mapcount(a), 2);
	CHECK_EQ(folio_ref_count(b), 8);
	CHECK_EQ(folio_entire_mapcount(t), 2);
	CHECK(folio_at(child, 5) == b && folio_at(child, PN + 3) == t);
	CHECK(!(entry(parent, 0) & _PAGE_WRITE) && !(entry(child, 0) & _PAGE_WRITE));
	CHECK(!(entry(parent, PN) & _PAGE_WRITE) && pmd_leaf(entry(child, PN)));
	CHECK(!touch_page(child, 0, true));	/* a write would fault */
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* fork again: the previous child's mappings go first */
	CHECK_EQ(mm_fork(child, parent), 6);
	CHECK_EQ(folio_mapcount(a), 2);
	CHECK_EQ(mm_fork(parent, parent), -EINVAL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

static void test_cow_copy_then_reuse(void)
{
	struct folio *a, *b, *t, *c;

	up();
	a = ft_anon_folio(parent, 0, 0);
	b = ft_anon_folio(parent, 4, 2);
	t = ft_anon_folio(parent, PN, PO);
	CHECK_EQ(mm_fork(child, parent), 6);
	/* the child writes: shared, so copied */
	CHECK_EQ(do_wp_page(child, 0, false), WP_COPIED);
	c = folio_at(child, 0);
	CHECK(c != a && folio_test_anon_exclusive(c) && folio_anon_mm(c) == child);
	CHECK(entry(child, 0) & _PAGE_WRITE);
	CHECK_EQ(folio_mapcount(a), 1);
	/* the parent's is its own again: reused in place */
	CHECK_EQ(do_wp_page(parent, 0, false), WP_REUSED);
	CHECK(folio_test_anon_exclusive(a) && (entry(parent, 0) & _PAGE_WRITE));
	CHECK_EQ(do_wp_page(parent, 0, false), WP_NOTHING);
	/* a large folio the child still maps: the parent copies its page */
	CHECK_EQ(do_wp_page(parent, 5, false), WP_COPIED);
	CHECK_EQ(folio_mapcount(b), 7);
	CHECK(folio_on_deferred_list(b) == false);	/* mapped 7 of 4 pages x2 */
	/* the child unmaps b: the parent's 3 remaining pages are reused */
	CHECK_EQ(zap_page_range(child, 4, 4), 4);
	CHECK_EQ(do_wp_page(parent, 6, false), WP_REUSED);
	CHECK(folio_test_anon_exclusive(b));
	/* a shared PMD leaf: split, and only the written page copied */
	CHECK_EQ(do_wp_page(child, PN + 2, false), WP_COPIED);
	CHECK(pmd_leaf(atomic_load(pmd_offset(parent, PN))));	/* its own */
	CHECK(pmd_table(atomic_load(pmd_offset(child, PN))));
	CHECK_EQ(folio_mapcount(t), 1 + PN - 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* the child goes: the parent's leaf is reused whole */
	CHECK(zap_page_range(child, 0, 4 * PN) > 0);
	CHECK_EQ(do_wp_page(parent, PN, false), WP_REUSED);
	CHECK(folio_test_anon_exclusive(t) && (entry(parent, PN) & _PAGE_WRITE));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* cow selftest "fork with a pinned buffer": the child copies, the pin
 * and the parent keep the same exclusive page */
static void test_fork_copies_pinned(void)
{
	unsigned long pfns[PN], tp[PN];
	struct folio *a, *t;
	long n;

	up();
	a = ft_anon_folio(parent, 0, 0);
	t = ft_anon_folio(parent, PN, PO);
	CHECK_EQ(gup_fast(parent, 0, 1, FOLL_PIN | FOLL_WRITE, pfns), 1);
	CHECK_EQ(gup_fast(parent, PN, 2, FOLL_PIN, tp), 2);
	n = mm_fork(child, parent);
	CHECK_EQ(n, 1 + (long)PN);	/* the pinned leaf: split, each page copied */
	CHECK(folio_test_anon_exclusive(a) && (entry(parent, 0) & _PAGE_WRITE));
	CHECK(folio_at(child, 0) != a && folio_mapcount(a) == 1);
	CHECK(folio_test_anon_exclusive(t) && folio_mapcount(t) == PN);
	CHECK(pmd_table(atomic_load(pmd_offset(parent, PN))));
	CHECK(folio_at(child, PN + 1) != t);
	CHECK_EQ(ft_check((struct folio_held[]){ { a, 0, 1 }, { t, 0, 2 } }, 2, NULL), 0);
	/* the parent writes: exclusive, so reused, never copied away */
	CHECK_EQ(do_wp_page(parent, 0, false), WP_NOTHING);
	CHECK(folio_at(parent, 0) == a);
	unpin_user_pages(pfns, 1, FOLL_PIN);
	unpin_user_pages(tp, 2, FOLL_PIN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* cow selftest "R/O pin on a shared page": unshare first */
static void test_ro_pin_unshares(void)
{
	unsigned long pfns[4];
	struct folio *a, *p;

	up();
	a = ft_anon_folio(parent, 0, 0);
	CHECK_EQ(mm_fork(child, parent), 1);
	CHECK_EQ(gup_fast(child, 0, 1, FOLL_PIN, pfns), 0);	/* must unshare */
	CHECK_EQ(gup_fast(child, 0, 1, FOLL_GET, pfns), 1);	/* GET may */
	unpin_user_pages(pfns, 1, FOLL_GET);
	CHECK_EQ(get_user_pages(child, 0, 1, FOLL_PIN, pfns), 1);
	p = pfn_folio(pfns[0]);
	CHECK(p != a && p == folio_at(child, 0) && folio_test_anon_exclusive(p));
	CHECK(!(entry(child, 0) & _PAGE_WRITE));	/* unshare keeps it R/O */
	/* the pinned page is the one the child maps after its write */
	CHECK_EQ(do_wp_page(child, 0, false), WP_REUSED);
	CHECK(folio_at(child, 0) == p);
	CHECK_EQ(ft_check(&(struct folio_held){ p, 0, 1 }, 1, NULL), 0);
	unpin_user_pages(pfns, 1, FOLL_PIN);
	/* FOLL_WRITE through the slow path: COW */
	CHECK_EQ(mm_fork(child, parent), 1);
	CHECK_EQ(get_user_pages(parent, 0, 1, FOLL_PIN | FOLL_WRITE, pfns), 1);
	CHECK(pfn_folio(pfns[0]) != a);		/* the child still maps a */
	unpin_user_pages(pfns, 1, FOLL_PIN);
	CHECK_EQ(get_user_pages(parent, 1, 1, FOLL_PIN, pfns), -EFAULT);
	CHECK_EQ(get_user_pages(parent, 0, 1, FOLL_GET | FOLL_LONGTERM, pfns), -EINVAL);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/* ---- I-excl on broken states ---- */
static void test_check_iexcl(void)
{
	unsigned long pfn;
	struct folio *a;
	_Atomic pte_t *p;

	up();
	a = ft_anon_folio(parent, 0, 0);
	CHECK_EQ(mm_fork(child, parent), 1);
	/* exclusive while the child maps it too */
	folio_set_flag(a, PG_anon_exclusive);
	expect_rule("I-excl", NULL, 0);
	folio_clear_flag(a, PG_anon_exclusive);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* a writable entry on a shared folio */
	p = pte_offset(atomic_load(pmd_offset(child, 0)), 0);
	atomic_fetch_or(p, _PAGE_WRITE);
	expect_rule("I-excl", NULL, 0);
	atomic_fetch_and(p, ~(pte_t)_PAGE_WRITE);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	/* a pinned folio that lost exclusivity */
	CHECK_EQ(zap_page_range(child, 0, 1), 1);
	CHECK_EQ(do_wp_page(parent, 0, false), WP_REUSED);
	CHECK_EQ(gup_fast(parent, 0, 1, FOLL_PIN, &pfn), 1);
	folio_clear_flag(a, PG_anon_exclusive);
	expect_rule("I-excl", &(struct folio_held){ a, 0, 1 }, 1);
	folio_set_flag(a, PG_anon_exclusive);
	CHECK_EQ(ft_check(&(struct folio_held){ a, 0, 1 }, 1, NULL), 0);
	unpin_user_pages(&pfn, 1, FOLL_PIN);
	down();
}

/*
 * R14, fork first: fork has cleared the folio's exclusive flag (it saw
 * no pin) and not yet write-protected the parent's entry, which is still
 * writable.  A GUP-fast pin there sees write_protect_seq odd and gives
 * up; without that check it would pin a page fork is about to share
 * (I-excl: pinned and not exclusive).
 */
static int r14_fired;
static long r14_got;

static void fork_shared_hook(enum folio_race_point rp, void *arg)
{
	unsigned long pfn;

	(void)arg;
	if (rp != RP_FORK_SHARED || r14_fired++)
		return;
	CHECK(entry(parent, 0) & _PAGE_WRITE);
	r14_got = gup_fast(parent, 0, 1, FOLL_PIN | FOLL_WRITE, &pfn);
	if (r14_got > 0)
		unpin_user_pages(&pfn, 1, FOLL_PIN);
}

static void test_race_fork_then_pin(void)
{
	up();
	ft_anon_folio(parent, 0, 0);
	r14_fired = 0;
	r14_got = -1;
	atomic_store(&folio_race_hook, fork_shared_hook);
	CHECK_EQ(mm_fork(child, parent), 1);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(r14_fired, 1);
	CHECK_EQ(r14_got, 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R14, pin first: GUP-fast has taken its pin and not yet rechecked; a
 * fork runs (on another thread: the hook returns once fork has copied the
 * entry; in the kernel the fork's TLB-flush IPI would wait for GUP-fast's
 * disabled interrupts, so the fork may still be running when GUP looks).
 * Fork sees the pin and copies the page for the child; GUP's recheck
 * passes (the parent's entry is unchanged), but its final
 * write_protect_seq read sees the fork (odd, or even again), and it gives
 * the pin back (the kernel's conservative choice: it cannot tell what
 * fork did).
 */
static struct folio *pf_victim;
static pthread_t pf_forker;

static void *pf_fork(void *arg)
{
	(void)arg;
	folio_thread_online();
	CHECK_EQ(mm_fork(child, parent), 1);
	folio_thread_offline();
	return NULL;
}

static void pin_grabbed_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_GUP_GRABBED || arg != pf_victim || r14_fired++)
		return;
	CHECK_EQ(pthread_create(&pf_forker, NULL, pf_fork, NULL), 0);
	while (!(entry(child, 0) & _PAGE_PRESENT))	/* fork copied it */
		usleep(100);
}

static void test_race_pin_then_fork(void)
{
	unsigned long pfn;

	up();
	pf_victim = ft_anon_folio(parent, 0, 0);
	r14_fired = 0;
	atomic_store(&folio_race_hook, pin_grabbed_hook);
	CHECK_EQ(gup_fast(parent, 0, 1, FOLL_PIN, &pfn), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(r14_fired, 1);
	CHECK_EQ(pthread_join(pf_forker, NULL), 0);
	CHECK(folio_at(child, 0) != pf_victim);	/* fork copied it */
	CHECK(folio_test_anon_exclusive(pf_victim));
	CHECK_EQ(folio_ref_count(pf_victim), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * R2 vs COW: GUP-fast read the child's shared entry and took its
 * reference; the child's write fault replaces the entry with a copy
 * before GUP rechecks: the recheck fails and GUP lets go.
 */
static void cow_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_GUP_GRABBED || arg != pf_victim || r14_fired++)
		return;
	CHECK_EQ(do_wp_page(child, 0, false), WP_COPIED);
}

static void test_race_gup_vs_cow(void)
{
	unsigned long pfn;

	up();
	pf_victim = ft_anon_folio(parent, 0, 0);
	CHECK_EQ(mm_fork(child, parent), 1);
	r14_fired = 0;
	atomic_store(&folio_race_hook, cow_hook);
	CHECK_EQ(gup_fast(child, 0, 1, FOLL_GET, &pfn), 0);
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(r14_fired, 1);
	CHECK_EQ(folio_mapcount(pf_victim), 1);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * A pin on a folio fork already shared (non-exclusive) is a GUP-fast's
 * passing pin, refused and about to be given back (gup_must_unshare): it
 * must not make fork wait.  fuzz_sched found fork spinning forever in the
 * path that maps a shared THP into a child's leftover page table, which
 * rechecked "pinned?" without "exclusive?".  The pin is made by hand here
 * (a transient one cannot be held still from one thread); alarm() turns
 * the old endless loop into a failure.
 */
static void test_fork_ignores_pin_on_shared_thp(void)
{
	struct folio *t;

	up();
	t = ft_anon_folio(parent, 0, PO);
	CHECK_EQ(do_anonymous_page(child, PN, 0, true), 0);	/* a child table */
	CHECK_EQ(mm_fork(child, parent), 1);	/* t shared, non-exclusive */
	CHECK_EQ(do_anonymous_page(child, 0, 0, true), -EEXIST);
	CHECK(zap_page_range(child, 0, PN) > 0);
	CHECK_EQ(do_anonymous_page(child, 0, 0, true), 0);	/* a table at 0 */
	CHECK_EQ(zap_page_range(child, 0, 1), 1);		/* now empty */
	folio_ref_add(t, 1);			/* a passing GUP-fast pin */
	atomic_fetch_add(&folio_large(t)->_pincount, 1);
	alarm(20);
	CHECK_EQ(mm_fork(child, parent), (long)PN);	/* by PTEs in its table */
	alarm(0);
	atomic_fetch_sub(&folio_large(t)->_pincount, 1);
	folio_put(t);
	CHECK_EQ(folio_mapcount(t), 1 + (int)PN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * A write or unshare fault on a file entry (a window of the file's mm,
 * PMD leaf or PTE): never COW here, the file folio is the mapping's own.
 * Writable, or an unshare: nothing to do.  Read-only and a write: -EFAULT
 * (the model has no write-notify path).  Past the mm: -EFAULT.
 */
static void wp_file_entry(unsigned long va)
{
	_Atomic pte_t *p;
	pmd_t pmd = atomic_load(pmd_offset(parent, va));

	p = pmd_leaf(pmd) ? pmd_offset(parent, va) : pte_offset(pmd, va);
	CHECK(atomic_load(p) & _PAGE_WRITE);
	CHECK_EQ(do_wp_page(parent, va, false), WP_NOTHING);
	CHECK_EQ(do_wp_page(parent, va, true), WP_NOTHING);
	atomic_fetch_and(p, ~(pte_t)_PAGE_WRITE);	/* a read-only mapping */
	CHECK_EQ(do_wp_page(parent, va, false), -EFAULT);
	CHECK_EQ(do_wp_page(parent, va, true), WP_NOTHING);
	CHECK(!(atomic_load(p) & _PAGE_WRITE));		/* left as it was */
	atomic_fetch_or(p, _PAGE_WRITE);
}

static void test_wp_file_entries(void)
{
	struct address_space *m, *m2;
	long base, base2;

	up();
	m = address_space_create(PN);
	m2 = address_space_create(PN);
	base = mm_add_file_window(parent, m);
	base2 = mm_add_file_window(parent, m2);
	CHECK(base > 0 && base2 > 0);
	CHECK(ft_cache_folio(m, 0, PO) != NULL);
	CHECK(ft_cache_folio(m2, 2, 0) != NULL);
	CHECK_EQ(filemap_map_pages(parent, m, 0, PN, true), (long)PN);
	CHECK_EQ(filemap_map_pages(parent, m2, 2, 1, false), 1);
	CHECK(pmd_leaf(atomic_load(pmd_offset(parent, (unsigned long)base))));
	wp_file_entry((unsigned long)base + 1);		/* the PMD leaf */
	wp_file_entry((unsigned long)base2 + 2);	/* a PTE */
	CHECK_EQ(do_wp_page(parent, ~0ul >> 1, false), -EFAULT);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(truncate_inode_pages_range(m, 0, PN), 1);
	CHECK_EQ(truncate_inode_pages_range(m2, 0, PN), 1);
	mm_destroy(child);
	mm_destroy(parent);
	CHECK_EQ(address_space_destroy(m), 0);
	CHECK_EQ(address_space_destroy(m2), 0);
	ft_world_down();
}

/* A child with less anon room than the parent cannot take its memory. */
static void test_fork_small_child(void)
{
	struct mm_struct *small;

	up();
	ft_anon_folio(parent, 0, 0);
	small = mm_create(PN, PN);
	CHECK_EQ(mm_fork(small, parent), -EINVAL);
	CHECK_EQ(folio_mapcount(folio_at(parent, 0)), 1);	/* untouched */
	mm_destroy(small);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Fork with memory running out.  Every page is eaten by folios the test
 * holds; fork_alloc must take a table for the parent's PTE table and an
 * order-0 copy for its pinned page up front.  Pages come back one at a
 * time (and an RCU barrier returns a failed round's tables): each round
 * before the one that succeeds fails whole with -ENOMEM (the table, or
 * the copy after the table), leaving the child empty and the parent as it
 * was.  Pinned to CPU 0: the pages handed back must be the ones found.
 */

static void test_fork_enomem_up_front(void)
{
	unsigned long pfn;
	struct folio *a;
	long n = -ENOMEM;
	int rounds = 0;

	ft_pin_cpu0();
	up();
	a = ft_anon_folio(parent, 0, 0);
	CHECK_EQ(gup_fast(parent, 0, 1, FOLL_PIN | FOLL_WRITE, &pfn), 1);
	ft_eat_all();
	while (n == -ENOMEM && rounds < 16) {
		n = mm_fork(child, parent);
		if (n != -ENOMEM)
			break;
		rounds++;
		CHECK_EQ(atomic_load(pmd_offset(child, 0)), 0);
		CHECK(folio_test_anon_exclusive(a) && (entry(parent, 0) & _PAGE_WRITE));
		CHECK_EQ(folio_mapcount(a), 1);
		rcu_barrier_model();	/* a failed round's tables come back */
		ft_give_back(1);
	}
	CHECK(rounds >= 2);	/* the table first, then the copy */
	CHECK_EQ(n, 1);
	CHECK(folio_at(child, 0) != a && folio_at(child, 0) != NULL);
	ft_give_back(FT_ALL);
	unpin_user_pages(&pfn, 1, FOLL_PIN);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

/*
 * Fork with memory running out on the way: what fork_count saw was
 * allocated up front, and something it did not see needs more.  At the
 * first RP_FORK_SHARED (fork shares the page at 0) the hook adds to the
 * parent, then eats every page:
 *   kind 0: a PTE table at PMD 1: the child's table for it (child_table);
 *   kind 1: a THP at PMD 1: the child's deposit (fork_pmd_leaf);
 *   kind 2: a pin on the page at 1, in the same table: the copy for the
 *           child (fork_ptes' spare).
 * Each fails the fork with -ENOMEM, and the child goes (its page at 0 is
 * zapped again): the parent keeps everything.
 */
static int oom_kind, oom_fired;
static struct folio *oom_pinned;

static void oom_hook(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_FORK_SHARED || oom_fired++)
		return;
	if (oom_kind == 0)
		CHECK_EQ(do_anonymous_page(parent, PN, 0, true), 0);
	else if (oom_kind == 1)
		CHECK_EQ(do_anonymous_page(parent, PN, PO, true), 0);
	else
		folio_ref_add(oom_pinned, GUP_PIN_COUNTING_BIAS);	/* a pin */
	ft_eat_all();
}

static void test_fork_enomem_on_the_way(void)
{
	ft_pin_cpu0();
	for (oom_kind = 0; oom_kind < 3; oom_kind++) {
		up();
		ft_anon_folio(parent, 0, 0);
		if (oom_kind == 2)
			oom_pinned = ft_anon_folio(parent, 1, 0);
		oom_fired = 0;
		atomic_store(&folio_race_hook, oom_hook);
		CHECK_EQ(mm_fork(child, parent), -ENOMEM);
		atomic_store(&folio_race_hook, NULL);
		CHECK_EQ(oom_fired, 1);
		ft_give_back(FT_ALL);
		/* the child went whole; the parent's pages are still its own */
		CHECK_EQ(entry(child, 0), 0);
		CHECK_EQ(entry(child, 1), 0);
		CHECK_EQ(atomic_load(pmd_offset(child, PN)), 0);
		CHECK(entry(parent, oom_kind == 2 ? 1 : PN) & _PAGE_PRESENT);
		CHECK_EQ(folio_mapcount(folio_at(parent, 0)), 1);
		if (oom_kind == 2) {
			CHECK(folio_test_anon_exclusive(oom_pinned));
			folio_put_refs(oom_pinned, GUP_PIN_COUNTING_BIAS);
		}
		CHECK_EQ(ft_check(NULL, 0, NULL), 0);
		down();
	}
}

/*
 * A write fault meets a PMD that a split_huge_pmd has invalidated (leaf,
 * not present) and not yet replaced by its table: it must look again, not
 * fail.  The split is played by hand: the PMD lock held, the invalidated
 * leaf stored, a faulting thread started and given time to spin on it,
 * then the leaf put back and the lock dropped.  Whenever the thread gets
 * to look (before or after), the fault ends the same: the parent's leaf,
 * exclusive again since the child went, is reused whole.
 */
static atomic_int wp_started;
static int wp_ret;

static void *wp_thread(void *arg)
{
	(void)arg;
	folio_thread_online();
	atomic_store(&wp_started, 1);
	wp_ret = do_wp_page(parent, 1, false);
	folio_thread_offline();
	return NULL;
}

static void test_wp_waits_for_invalidated_pmd(void)
{
	const struct timespec wait = { 0, 20 * 1000 * 1000 };
	struct folio *t;
	pthread_t th;
	pmd_t old;

	up();
	t = ft_anon_folio(parent, 0, PO);
	CHECK_EQ(mm_fork(child, parent), 1);
	CHECK_EQ(zap_page_range(child, 0, PN), 1);	/* t: ours, read-only */
	CHECK(!folio_test_anon_exclusive(t) && !(entry(parent, 0) & _PAGE_WRITE));
	atomic_store(&wp_started, 0);
	wp_ret = -1;
	fl_lock(&parent->pmd_lock);
	old = atomic_load(pmd_offset(parent, 0));
	atomic_store(pmd_offset(parent, 0), old & ~(pmd_t)_PAGE_PRESENT);
	CHECK_EQ(pthread_create(&th, NULL, wp_thread, NULL), 0);
	while (!atomic_load(&wp_started))
		sched_yield();
	nanosleep(&wait, NULL);
	atomic_store(pmd_offset(parent, 0), old);
	fl_unlock(&parent->pmd_lock);
	pthread_join(th, NULL);
	CHECK_EQ(wp_ret, WP_REUSED);
	CHECK(pmd_leaf(entry(parent, 0)) && (entry(parent, 0) & _PAGE_WRITE));
	CHECK(folio_test_anon_exclusive(t));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_fork_shares_write_protected);
	FT_RUN(test_cow_copy_then_reuse);
	FT_RUN(test_fork_copies_pinned);
	FT_RUN(test_ro_pin_unshares);
	FT_RUN(test_check_iexcl);
	FT_RUN(test_race_fork_then_pin);
	FT_RUN(test_race_pin_then_fork);
	FT_RUN(test_race_gup_vs_cow);
	FT_RUN(test_fork_ignores_pin_on_shared_thp);
	FT_RUN(test_wp_file_entries);
	FT_RUN(test_fork_small_child);
	FT_RUN(test_fork_enomem_up_front);
	FT_RUN(test_fork_enomem_on_the_way);
	FT_RUN(test_wp_waits_for_invalidated_pmd);
	folio_thread_offline();
	return ft_done();
}
