/* SPDX-License-Identifier: MIT */
/*
 * folio/folio.h - the folio descriptor (docs/design.md section 3) and its
 * allocation.
 *
 * Conventions we chose (docs/design.md lets us choose; we keep them everywhere):
 *   - _mapcount, _entire_mapcount and _pincount start at 0, not -1: each
 *     counts exactly what its name says.  (The kernel's _mapcount starts at
 *     -1 so that inc_and_test reports the first mapping; we have no per-page
 *     mapcount and report "first"/"last" from the returned value instead.)
 *   - _mapcount is the kernel's _large_mapcount for every order: each
 *     present PTE counts 1, each PMD counts 1 (NO_PAGE_MAPCOUNT).
 *   - There are no head or tail pages: every memmap word of the folio's
 *     pages points at this descriptor.
 *
 * Every field a lockless reader may load (a stale pointer can reach any
 * descriptor of this cache at any time, see slab.h) is an atomic.
 * The mappable-descriptor prefix (flags, refcount, mapcounts, pincount) is
 * shared by every mappable memdesc type, so rmap and GUP treat them alike.
 */
#ifndef FOLIO_FOLIO_H
#define FOLIO_FOLIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/list.h>

#include "folio/atomic.h"
#include "folio/debug.h"
#include "folio/memmap.h"

struct address_space;

enum folio_flag_bits {
	PG_locked = 0,
	PG_dirty = 1,
	PG_swapbacked = 2,	/* anon && !swapbacked == lazyfree */
	PG_lru = 3,
	PG_partially_mapped = 4,
	PG_anon = 5,		/* agrees with the memmap type ANON vs FILE */
	PG_waitlock = 6,	/* bit spinlock of the per-folio lock wait list */
	PG_waiters = 7,		/* in PG_locked's byte, as in the kernel */
	/*
	 * The descriptor is a struct large_folio (large_folio_cache): set at
	 * allocation, kept for the descriptor's life (a split's first folio
	 * keeps it at order 0); tells __folio_put which cache to free to.
	 */
	PG_large_desc = 8,
	/*
	 * PageAnonExclusive, per folio (docs/design.md 5.13): an anon folio
	 * only its owner mm maps (folio_anon_mm), so it may be written (and
	 * pinned) without a copy.  Set when a fault, a COW copy or a reuse
	 * makes it; cleared by fork when the child shares it; a split's pieces
	 * inherit it.  A pinned anon folio is exclusive and stays so.
	 */
	PG_anon_exclusive = 9,
	NR_PG_FLAGS = 10,
};

struct folio {
	/* mappable-descriptor prefix */
	_Atomic unsigned long flags;
	atomic_int _refcount;
	atomic_int _mapcount;		/* PTE mappings + PMD mappings */
	/* identity: never overlaid by the slab free pointer */
	_Atomic unsigned int pfn;	/* PFNs fit 27 bits (FOLIO_MAX_NR_PAGES) */
	_Atomic unsigned int order;
	_Atomic(struct address_space *) mapping;
	_Atomic unsigned long index;	/* offset in mapping (file), in pages */
	/*
	 * Folio lock: per-folio waiter list (lock.c, per-folio mode).  While
	 * the descriptor is free the slab's free pointer lives here: waiters
	 * hold references, so no one reads it then, and every allocation
	 * resets it.
	 */
	void *_lock_waiters;
} __attribute__((aligned(16)));

/*
 * Order-sized descriptors (as the kernel keeps its large-folio fields in
 * a large folio's extra pages): an order-0 folio gets a struct folio
 * (48 bytes) from folio_cache, a folio of order > 0 a struct large_folio
 * (80) from large_folio_cache, both TYPESAFE_BY_RCU.  The fields below
 * exist only when the folio's order is > 0 (folio_large()); an order-0
 * folio reads them as 0.  A split keeps the first folio in its own large
 * descriptor, whatever its new order (the caller's reference is to it),
 * and gives each other new folio one of its order's size.
 *
 * Why a stale reader is safe: a small descriptor only ever holds order-0
 * folios, so one reached through a stale pointer reads order 0 and never
 * looks past its 48 bytes; order > 0 implies a large descriptor.
 */
struct large_folio {
	struct folio f;
	atomic_int _entire_mapcount;	/* PMD mappings */
	atomic_int _pincount;		/* FOLL_PIN pins */
	/*
	 * Deferred-split queue link (part II).  Protected by the queue lock;
	 * the queue holds no reference.
	 */
	struct cds_list_head _deferred_list;
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct folio) % 16 == 0, "memdescs are 16-byte aligned");
_Static_assert(sizeof(struct folio) == 48, "the descriptor's size is measured in bench/");
_Static_assert(sizeof(struct large_folio) == 80, "the descriptor's size is measured in bench/");

/* Which bytes the slab free pointer must never overlay (both caches). */
#define FOLIO_PROTECT_LO offsetof(struct folio, flags)
#define FOLIO_PROTECT_HI offsetof(struct folio, _lock_waiters)
#define FOLIO_FREEPTR_OFFSET offsetof(struct folio, _lock_waiters)
_Static_assert(FOLIO_FREEPTR_OFFSET >= FOLIO_PROTECT_HI,
	       "free pointer must not overlay refcount or identity");

/* ---- flags ---- */
static inline bool folio_test_flag(const struct folio *f, int bit)
{
	return fa_load_relaxed((_Atomic unsigned long *)&f->flags) & (1ul << bit);
}
static inline void folio_set_flag(struct folio *f, int bit)
{
	fa_or_relaxed(&f->flags, 1ul << bit);
}
static inline void folio_clear_flag(struct folio *f, int bit)
{
	fa_and_relaxed(&f->flags, ~(1ul << bit));
}

#define FOLIO_FLAG_FNS(name, bit)                                          \
	static inline bool folio_test_##name(const struct folio *f)        \
	{                                                                  \
		return folio_test_flag(f, bit);                            \
	}                                                                  \
	static inline void folio_set_##name(struct folio *f)               \
	{                                                                  \
		folio_set_flag(f, bit);                                    \
	}                                                                  \
	static inline void folio_clear_##name(struct folio *f)             \
	{                                                                  \
		folio_clear_flag(f, bit);                                  \
	}
FOLIO_FLAG_FNS(dirty, PG_dirty)
FOLIO_FLAG_FNS(swapbacked, PG_swapbacked)
FOLIO_FLAG_FNS(lru, PG_lru)
FOLIO_FLAG_FNS(partially_mapped, PG_partially_mapped)
#undef FOLIO_FLAG_FNS

static inline bool folio_test_anon(const struct folio *f)
{
	return folio_test_flag(f, PG_anon);
}
static inline bool folio_test_locked(const struct folio *f)
{
	return folio_test_flag(f, PG_locked);
}
static inline bool folio_test_anon_exclusive(const struct folio *f)
{
	return folio_test_flag(f, PG_anon_exclusive);
}
static inline bool folio_test_lazyfree(const struct folio *f)
{
	return folio_test_anon(f) && !folio_test_swapbacked(f);
}

/* ---- identity ---- */
static inline unsigned long folio_pfn(const struct folio *f)
{
	return fa_load_relaxed((_Atomic unsigned int *)&f->pfn);
}
static inline unsigned int folio_order(const struct folio *f)
{
	return fa_load_relaxed((_Atomic unsigned int *)&f->order);
}
static inline unsigned long folio_nr_pages(const struct folio *f)
{
	return 1ul << folio_order(f);
}
static inline bool folio_test_large(const struct folio *f)
{
	return folio_order(f) > 0;
}
/*
 * Does @f's descriptor carry the large-folio fields right now?  A guard of
 * the layout, not a step of any protocol: a plain relaxed load (in the
 * scheduled build no scheduling point; it belongs to the access it
 * guards), true only if order > 0, which a small descriptor never holds.
 * A stale pointer to a large descriptor may read any order; the fields it
 * then reads are still inside the descriptor.
 */
static inline bool folio_large_fields(const struct folio *f)
{
	return fa_peek_relaxed((_Atomic unsigned int *)&f->order) > 0;
}
/*
 * The first PFN, for a copy or fill of the folio's contents (page_data.h):
 * like folio_large_fields(), a plain relaxed load and no scheduling step,
 * since a data access is no step of any protocol.  The caller owns the
 * folio (allocated and unpublished, frozen, or held), so pfn is stable.
 */
static inline unsigned long folio_pfn_plain(const struct folio *f)
{
	return fa_peek_relaxed((_Atomic unsigned int *)&f->pfn);
}
static inline struct address_space *folio_mapping(const struct folio *f)
{
	return fa_load_relaxed(
		(_Atomic(struct address_space *) *)&f->mapping);
}
static inline unsigned long folio_index(const struct folio *f)
{
	return fa_load_relaxed((_Atomic unsigned long *)&f->index);
}
/*
 * Two reads in one expression (a + b, f(a, b)) are unsequenced in C: gcc
 * and clang order them differently, and in the scheduled build each read
 * is a step, so a schedule would mean other steps under another compiler.
 * These read in one fixed order, one statement each.
 */
/* The pfn offset of @pfn in f; >= folio_nr_pages(f) when outside. */
static inline unsigned long folio_pfn_offset(const struct folio *f,
					     unsigned long pfn)
{
	unsigned long first = folio_pfn(f);

	return pfn - first;
}
static inline bool folio_has_pfn(const struct folio *f, unsigned long pfn)
{
	unsigned long off = folio_pfn_offset(f, pfn);

	return off < folio_nr_pages(f);
}
/* The index just past the folio (the kernel's folio_next_index). */
static inline unsigned long folio_next_index(const struct folio *f)
{
	unsigned long index = folio_index(f);

	return index + folio_nr_pages(f);
}
static inline int folio_mapcount(const struct folio *f)
{
	return fa_load_relaxed((atomic_int *)&f->_mapcount);
}
/*
 * The large-folio fields of @f.  Only for a folio whose order is > 0
 * (known from the caller's own read or its reference: a split needs the
 * refcount frozen, so order is stable while a reference is held).
 */
static inline struct large_folio *folio_large(const struct folio *f)
{
	VM_BUG_ON_FOLIO(!folio_large_fields(f), f);
	return caa_container_of((struct folio *)f, struct large_folio, f);
}
/*
 * The same without the order check: for a descriptor known to come from
 * large_folio_cache whatever its order says right now (being set up by
 * its allocator or a split, free, or walked by the checker).
 */
static inline struct large_folio *large_folio_desc(struct folio *f)
{
	return caa_container_of(f, struct large_folio, f);
}
static inline int folio_entire_mapcount(const struct folio *f)
{
	if (!folio_large_fields(f))
		return 0;
	return fa_load_relaxed(&folio_large(f)->_entire_mapcount);
}
static inline int folio_pincount(const struct folio *f)
{
	if (!folio_large_fields(f))
		return 0;
	return fa_load_relaxed(&folio_large(f)->_pincount);
}

/*
 * pfn_folio(): decode a PFN's memmap word.  No reference is taken: the
 * result is a hint, valid only after a successful try_get and a reload of
 * the word (folio_try_get_pfn() does both).  NULL if the page is not a
 * folio page.
 */
static inline struct folio *pfn_folio(unsigned long pfn)
{
	memdesc_t w = memmap_word_load(pfn);
	return memdesc_is_folio(w) ? (struct folio *)memdesc_ptr(w) : NULL;
}

/* ---- allocation ---- */
/* A file folio (memmap type FILE): refcount 1, unlocked, no mapping. */
struct folio *folio_alloc(unsigned int order);
/* An anon folio (memmap type ANON, swapbacked). */
struct folio *folio_alloc_anon(unsigned int order);
/* Run only by the thread whose put reached 0 (or a freezer that owns it). */
void __folio_put(struct folio *f);

/*
 * Lockless get by PFN (gup.c's try_get_folio): decode, add @refs unless
 * zero, reload the word; put and retry on mismatch.  Caller is inside an
 * RCU read-side section.  NULL if the page holds no live folio.
 */
struct folio *folio_try_get_pfn(unsigned long pfn, int refs);

#include "folio/page_ref.h"

#endif /* FOLIO_FOLIO_H */
