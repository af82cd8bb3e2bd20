/* SPDX-License-Identifier: MIT */
/*
 * folio/memmap.h - the memmap: one 8-byte tagged word per simulated PFN.
 *
 * After Matthew Wilcox's memdesc plan, struct page is a single word:
 *
 *   bits 0-3   type (enum memdesc_type)
 *   bits 4-63  pointer to the descriptor (16-byte aligned), for typed pages
 *
 * Free pages (MEMDESC_BUDDY) carry no pointer; the buddy allocator keeps its
 * free lists in the free pages' own words instead (see page_alloc.c), as the
 * kernel keeps them in the free pages' struct page:
 *
 *   bits 4-8   order of the free block (head page), or BUDDY_ORDER_TAIL
 *   bits 9-35  next free block head (PFN, BUDDY_PFN_NIL = none)
 *   bits 36-62 previous free block head
 *
 * Lockless readers (GUP-fast, pfn_folio users) load words with
 * memmap_word_load(); a decoded descriptor is only a hint until the reader
 * holds a reference and has reloaded the word (docs/design.md 5.1).
 */
#ifndef FOLIO_MEMMAP_H
#define FOLIO_MEMMAP_H

#include <stdint.h>

#include "folio/atomic.h"

/* Type numbers as in the memdesc wiki's table. */
enum memdesc_type {
	MEMDESC_MISC = 0,
	MEMDESC_BUDDY = 1,
	MEMDESC_FILE = 2,  /* file folio: struct folio */
	MEMDESC_ANON = 3,  /* anon folio: struct folio */
	MEMDESC_SLAB = 5,  /* slab page: struct slab */
	MEMDESC_PTDESC = 7, /* page table page: struct ptdesc (part II) */
	MEMDESC_NR_TYPES = 16,
};

typedef uint64_t memdesc_t;

#define MEMDESC_TYPE_MASK 0xfull
#define MEMDESC_PTR_MASK (~MEMDESC_TYPE_MASK)

_Static_assert(sizeof(memdesc_t) == 8, "struct page is one 8-byte word");

/* The memmap and its size live in the world (folio/world.h). */
extern _Atomic memdesc_t *folio_memmap;
extern unsigned long folio_nr_pages_total;

static inline memdesc_t memdesc_encode(enum memdesc_type type, const void *desc)
{
	/* Descriptors are 16-byte aligned: the low 4 bits are free for the type. */
	return (memdesc_t)(uintptr_t)desc | (memdesc_t)type;
}

static inline enum memdesc_type memdesc_type(memdesc_t w)
{
	return (enum memdesc_type)(w & MEMDESC_TYPE_MASK);
}

static inline void *memdesc_ptr(memdesc_t w)
{
	return (void *)(uintptr_t)(w & MEMDESC_PTR_MASK);
}

/*
 * Acquire: pairs with the release store that published the word
 * (memmap_word_store, after the descriptor was carved and initialised).
 * A lockless reader dereferences the decoded descriptor (its refcount, for
 * try_get) before holding anything; the kernel relies on the address
 * dependency (READ_ONCE), for which C11 has no usable "consume".  Without
 * acquire, a reader could see a word pointing into a freshly carved slab
 * page and read the descriptor unordered with the page's zeroing (TSan
 * reported exactly that in gup-vs-split).  On x86 an acquire load is a
 * plain load.
 */
static inline memdesc_t memmap_word_load(unsigned long pfn)
{
	return fa_load_acquire(&folio_memmap[pfn]);
}

static inline memdesc_t memmap_word_load_acquire(unsigned long pfn)
{
	return memmap_word_load(pfn);
}

static inline void memmap_word_store(unsigned long pfn, memdesc_t w)
{
	fa_store_release(&folio_memmap[pfn], w);
}

static inline int memdesc_is_folio(memdesc_t w)
{
	enum memdesc_type t = memdesc_type(w);
	return t == MEMDESC_FILE || t == MEMDESC_ANON;
}

#endif /* FOLIO_MEMMAP_H */
