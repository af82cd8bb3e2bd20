/* SPDX-License-Identifier: MIT */
/*
 * ft_world.h - test set-up shared by the unit tests: a world up, and down
 * with the checker and the leak check (every test ends clean or fails).
 */
#ifndef FT_WORLD_H
#define FT_WORLD_H

#include "folio/check.h"
#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/lock.h"
#include "folio/page_alloc.h"
#include "folio/percpu.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "ft_test.h"

/* Built with ASan or TSan: their allocators abort where a test would
 * check that an impossible size fails, and they slow the loops down. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FT_SANITIZED 1
#endif
#endif

static inline unsigned int ft_cpu0(void)
{
	return 0;
}

/*
 * For tests that count what one CPU's sheaf keeps: a thread the OS moves
 * to another CPU mid-test spreads its frees over two sheaves (seen in CI
 * under TSan: test_alloc's slab never emptied).  Pins the caller's view
 * of "this CPU" to CPU 0 for the rest of the process.
 */
static inline void ft_pin_cpu0(void)
{
	atomic_store(&folio_cpu_hook, ft_cpu0);
}

static inline void ft_world_up_pmd(unsigned long nr_pages,
				   unsigned int pmd_order)
{
	struct folio_config cfg = { .nr_pages = nr_pages,
				    .pmd_order = pmd_order };

	CHECK_EQ(folio_world_init(&cfg), 0);
}

static inline void ft_world_up(unsigned long nr_pages)
{
	ft_world_up_pmd(nr_pages, 0);
}

/* Number of violations with @held recorded; prints them to stderr. */
static inline unsigned long ft_check(const struct folio_held *held, size_t n,
				     struct folio_violation *first)
{
	struct folio_check_opts o = { .held = held, .nr_held = n, .out = stderr };

	return folio_check_quiescent(&o, first);
}

static inline void ft_world_down(void)
{
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(folio_world_destroy(stderr), 0);
}

/* Allocate a locked file folio and put it in @m at @index. */
static inline struct folio *ft_cache_folio(struct address_space *m,
					   unsigned long index,
					   unsigned int order)
{
	struct folio *f = folio_alloc(order);

	if (!f)
		return NULL;
	folio_lock(f);
	if (filemap_add_folio(m, f, index)) {
		folio_unlock(f);
		folio_put(f);
		return NULL;
	}
	folio_unlock(f);
	folio_put(f);	/* the cache's references keep it */
	return f;
}

/* A CPU load through @m's tables at @va: what it read, or FT_NOTHING
 * (nothing mapped, or a fault's -EAGAIN). */
#define FT_NOTHING 0xdeadull
static inline uint64_t ft_load(struct mm_struct *m, unsigned long va)
{
	uint64_t v = FT_NOTHING;

	return touch_page_data(m, va, false, &v) == 1 ? v : FT_NOTHING;
}

/* A CPU store of @v: touch_page_data's result (0: read-only or none). */
static inline int ft_store(struct mm_struct *m, unsigned long va, uint64_t v)
{
	return touch_page_data(m, va, true, &v);
}

/* Fault in an anon folio of @order at @va of @mm and return it. */
static inline struct folio *ft_anon_folio(struct mm_struct *mm,
					  unsigned long va, unsigned int order)
{
	pmd_t pmd;

	CHECK_EQ(do_anonymous_page(mm, va, order, true), 0);
	pmd = atomic_load(pmd_offset(mm, va));
	if (pmd_leaf(pmd))
		return pfn_folio(pte_pfn(pmd));
	return pfn_folio(pte_pfn(atomic_load(pte_offset(pmd, va))));
}

/*
 * Memory running out, on purpose (the -ENOMEM paths): ft_eat_all() holds
 * every free page as an order-0 folio (nr_free_pages() 0 proves it);
 * ft_give_back(n) returns the last n taken (the page freed first is the
 * one the next allocation finds, with the test pinned to CPU 0).
 */
#define FT_EAT_MAX 65536
struct ft_eaten {
	struct folio *f[FT_EAT_MAX];
	unsigned long n;
};

static inline struct ft_eaten *ft_eaten(void)
{
	static struct ft_eaten e;

	return &e;
}

static inline void ft_eat_all(void)
{
	struct ft_eaten *e = ft_eaten();

	while (e->n < FT_EAT_MAX && (e->f[e->n] = folio_alloc(0)) != NULL)
		e->n++;
	CHECK_EQ(nr_free_pages(), 0);
}

static inline void ft_give_back(unsigned long n)
{
	struct ft_eaten *e = ft_eaten();

	while (n-- && e->n)
		folio_put(e->f[--e->n]);
}

#define FT_ALL (~0ul)

/* A slab walk's callback: n[0] objects seen, n[1] of them free. */
static inline int ft_count_objs(void *obj, bool free, void *ctx)
{
	unsigned long *n = ctx;

	(void)obj;
	n[0]++;
	n[1] += free;
	return 0;
}

#endif /* FT_WORLD_H */
