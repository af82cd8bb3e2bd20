/* SPDX-License-Identifier: MIT */
/*
 * targets.c - the workers' hints of where the work is (targets.h).
 */
#include "folio/page_alloc.h"
#include "folio/rcu.h"
#include "targets.h"

struct ft_hot ft_hot_mapped, ft_hot_large, ft_hot_lazyfree, ft_hot_cached,
	ft_hot_index;

/* the mm field of a ft_hot_cached word: its va field is a pfn */
#define PFN_MM 0xffu

/* mm (8 bits) | nr (16 bits) | va (40 bits); never 0 (nr >= 1) */
#define VA_BITS 40
#define NR_BITS 16
#define VA_MASK ((1ul << VA_BITS) - 1)
#define NR_MASK ((1ul << NR_BITS) - 1)

void ft_hot_push(struct ft_hot *h, unsigned int mm, unsigned long va,
		 unsigned long nr)
{
	unsigned int i;

	if (nr == 0)
		return;
	if (nr > NR_MASK)
		nr = NR_MASK;
	i = atomic_fetch_add_explicit(&h->pos, 1, memory_order_relaxed);
	/* two pushers on one slot (the ring wrapped): one hint wins */
	atomic_store_explicit(&h->ring[i % FT_HOT_N],
			      (unsigned long)(mm & 0xff) << (VA_BITS + NR_BITS) |
			      nr << VA_BITS | (va & VA_MASK),
			      memory_order_relaxed);
}

void ft_hot_push_cached(unsigned int file, unsigned long index,
			unsigned long pfn, unsigned long nr)
{
	ft_hot_push(&ft_hot_cached, PFN_MM, pfn, nr);
	ft_hot_push(&ft_hot_index, file, index, nr);
}

/* A word of @h, decoded: false if @h has none yet. */
static bool hot_word(struct ft_hot *h, uint64_t *rng, unsigned int *mm,
		     unsigned long *va)
{
	unsigned int pos = atomic_load_explicit(&h->pos, memory_order_relaxed);
	unsigned int n = pos < FT_HOT_N ? pos : FT_HOT_N;
	unsigned long word, nr;

	if (!n)
		return false;
	word = atomic_load_explicit(&h->ring[ft_rand(rng) % n],
				    memory_order_relaxed);
	if (!word)	/* its pusher has not stored it yet */
		return false;
	nr = (word >> VA_BITS) & NR_MASK;
	*mm = (unsigned int)(word >> (VA_BITS + NR_BITS));
	*va = (word & VA_MASK) + ft_rand(rng) % nr;
	return true;
}

bool ft_hot_pick(struct ft_hot *h, uint64_t *rng, unsigned int *mm,
		 unsigned long *va)
{
	return hot_word(h, rng, mm, va) && *mm < ft.o.nr_mms;
}

void ft_hot_reset(void)
{
	struct ft_hot *hs[] = { &ft_hot_mapped, &ft_hot_large, &ft_hot_lazyfree,
				&ft_hot_cached, &ft_hot_index };

	for (unsigned int k = 0; k < 5; k++) {
		for (unsigned int i = 0; i < FT_HOT_N; i++)
			atomic_store_explicit(&hs[k]->ring[i], 0,
					      memory_order_relaxed);
		atomic_store_explicit(&hs[k]->pos, 0, memory_order_relaxed);
	}
}

bool ft_blind(struct ft_worker *w)
{
	/* private scenarios: a hint may name another worker's mm */
	return ft.private_folios || ft_rand(&w->rng) % 100 < ft.blind_pct;
}

struct address_space *ft_pick_index(struct ft_worker *w, unsigned long *index)
{
	unsigned int file;

	if (!ft_blind(w) && hot_word(&ft_hot_index, &w->rng, &file, index) &&
	    file < ft.o.nr_files && *index < ft.o.file_pages)
		return ft.files[file];
	*index = ft_rand(&w->rng) % ft.o.file_pages;
	return ft_pick_file(w);
}

struct folio *ft_grab_target(struct ft_worker *w, struct ft_hot *h,
			     bool cached, unsigned long *pfn)
{
	unsigned long va = 0;
	unsigned int mm = 0;
	struct folio *f = NULL;
	bool aimed = false;

	if (!ft_blind(w)) {	/* one of @h's or a page-cache hint: either
				 * first, the other if the first has none */
		bool first = !cached || (ft_rand(&w->rng) & 1);

		aimed = first && ft_hot_pick(h, &w->rng, &mm, &va);
		if (!aimed && cached)
			aimed = hot_word(&ft_hot_cached, &w->rng, &mm, &va);
		if (!aimed && !first)
			aimed = ft_hot_pick(h, &w->rng, &mm, &va);
	}
	rcu_read_lock_model();
	/* the walk's table stays allocated until our section ends; a pfn
	 * hint is taken as it is (the folio there may be another by now:
	 * the speculative get below is what makes that safe) */
	if (!aimed)
		*pfn = ft_rand(&w->rng) % ft.o.nr_pages;
	else if (mm == PFN_MM)
		*pfn = va < ft.o.nr_pages ? va : ~0ul;
	else
		*pfn = mm_walk_pfn(ft.mms[mm], va);
	if (*pfn != ~0ul)
		f = folio_try_get_pfn(*pfn, 1);
	rcu_read_unlock_model();
	return f;
}

struct folio *ft_grab_target_if(struct ft_worker *w, struct ft_hot *h,
				bool cached, bool (*fit)(const struct folio *),
				unsigned long *pfn)
{
	for (unsigned int i = 0; i < FT_GRAB_TRIES; i++) {
		struct folio *f = ft_grab_target(w, h, cached, pfn);

		/* our reference pins what @fit reads: no split or free */
		if (f && (!fit || fit(f)))
			return f;
		if (f)
			folio_put(f);
	}
	return NULL;
}
