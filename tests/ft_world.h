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

#endif /* FT_WORLD_H */
