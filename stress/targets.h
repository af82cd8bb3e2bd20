/* SPDX-License-Identifier: MIT */
/*
 * targets.h - where the work is: the places an operation aims at, so that
 * most attempts find something to do and race with the others on it.
 *
 * A blind pick (a random pfn of 65536, a random va) mostly finds nothing:
 * a reclaim attempt on a random pfn meets a lazyfree folio 0.3% of the
 * time, and a failed attempt takes no lock and races with nothing.  The
 * kernel's own paths know where their work is (the LRU lists, the
 * deferred-split queue, the VMAs a task maps); the model has no LRU, so
 * the workers keep hints:
 *
 *   ft_hot_mapped    (mm, va) of recent anon faults and file maps: GUPs,
 *                    touches, pfn gets, splits and migrations aim there;
 *   ft_hot_large     the same, of large folios only (faults of order 2
 *                    and up, collapses): splits aim there;
 *   ft_hot_lazyfree  (mm, va, n) of recent MADV_FREEs that marked
 *                    something: reclaim aims there;
 *   ft_hot_index     (file, index, n) of folios recently added to a page
 *                    cache: lookups aim there (a random index of a file
 *                    that truncates as often as it adds is mostly a hole);
 *   ft_hot_cached    (pfn, n) of folios recently added to a page cache,
 *                    mapped or not: pfn gets, splits and migrations aim
 *                    there half the time (a scenario of lookups and
 *                    truncates maps nothing, and its folios are what a
 *                    speculative get meets on reuse, R5).
 *
 * Each is a ring of packed words, written and read with relaxed atomics
 * by every worker: a hint is only a hint.  Whatever another thread did
 * since (a zap, a split, a reclaim), the picker walks the page table under
 * RCU and takes a speculative reference, as a blind pick does, so a stale
 * hint is a miss, never a wrong target.
 *
 * A scenario keeps a share of blind picks ("blind PCT", default 25): a
 * miss is a path too, and a target the hints never name (a folio only a
 * lookup reaches) must still be hit.
 */
#ifndef FT_TARGETS_H
#define FT_TARGETS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "torture.h"

#define FT_HOT_N 512	/* a power of two */

struct ft_hot {
	atomic_ulong ring[FT_HOT_N];
	atomic_uint pos;
};

extern struct ft_hot ft_hot_mapped, ft_hot_large, ft_hot_lazyfree,
	ft_hot_cached, ft_hot_index;

/* A folio of @nr pages was added at @index of ft.files[@file], at @pfn. */
void ft_hot_push_cached(unsigned int file, unsigned long index,
			unsigned long pfn, unsigned long nr);
/* An index of a file to look up: hinted, or (blind, no hint) random. */
struct address_space *ft_pick_index(struct ft_worker *w, unsigned long *index);

/* Remember @nr pages at (@mm, @va) in @h. */
void ft_hot_push(struct ft_hot *h, unsigned int mm, unsigned long va,
		 unsigned long nr);
/* A page of a recent entry of @h (its mm and va): false if @h is empty. */
bool ft_hot_pick(struct ft_hot *h, uint64_t *rng, unsigned int *mm,
		 unsigned long *va);
/* Clear every ring (a run's start). */
void ft_hot_reset(void);

/* Whether this pick is blind (the scenario's share), else targeted. */
bool ft_blind(struct ft_worker *w);

/*
 * A folio mapped at a hinted place of @h, or half the time one of
 * ft_hot_cached's (if @cached and it has any), or, blind or with no hint,
 * at a random pfn; with a reference; NULL if there was none.  *pfn: the
 * page.
 */
struct folio *ft_grab_target(struct ft_worker *w, struct ft_hot *h,
			     bool cached, unsigned long *pfn);

/*
 * As ft_grab_target, up to FT_GRAB_TRIES picks until one finds a folio
 * that @fit accepts (NULL: any): a scanner skips what is not its work (the
 * kernel's LRU walks skip and move on) without counting an attempt.  The
 * last miss is still a miss.
 */
#define FT_GRAB_TRIES 4
struct folio *ft_grab_target_if(struct ft_worker *w, struct ft_hot *h,
				bool cached, bool (*fit)(const struct folio *),
				unsigned long *pfn);

#endif /* FT_TARGETS_H */
