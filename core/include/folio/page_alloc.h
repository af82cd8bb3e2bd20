/* SPDX-License-Identifier: MIT */
/*
 * folio/page_alloc.h - the buddy allocator over the simulated PFNs.
 *
 * One zone, one lock (the kernel's zone->lock), and per-CPU lists in front
 * of it (struct per_cpu_pages, page_alloc.c).  Free lists live in the
 * free pages' own memmap words, so the memmap stays at 8 bytes per page.
 * Allocation writes the caller's memdesc word into every page of the block
 * with release stores: a lockless reader that decodes the word still has to
 * take a reference on the descriptor and reload the word (docs/design.md 5.1).
 */
#ifndef FOLIO_PAGE_ALLOC_H
#define FOLIO_PAGE_ALLOC_H

#include <stddef.h>

#include "folio/memmap.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_PAGE_ORDER 10
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)
/* Largest simulated memory: PFNs must fit the 27-bit buddy links. */
#define FOLIO_MAX_NR_PAGES ((1ul << 27) - 1)

/*
 * Allocate 2^order naturally aligned pages and store @word in each of their
 * memmap entries.  Returns the first PFN, or -1 when no block is free.
 */
long alloc_pages_desc(unsigned int order, memdesc_t word);
/* Give 2^order pages back; the words become BUDDY before this returns. */
void free_pages_desc(unsigned long pfn, unsigned int order);

/* Free pages: the zone's and those on per-CPU lists. */
unsigned long nr_free_pages(void);
/* The free pages sitting on per-CPU lists (part of nr_free_pages). */
unsigned long nr_pcp_pages(void);
/* Give every CPU's listed pages back to the zone, where they merge. */
void drain_all_pages(void);
/*
 * Allocations refused since the world came up.  The op VM's reference
 * model reads it to tell an -ENOMEM (or a silently skipped page table)
 * that memory pressure explains from one that nothing explains.
 */
unsigned long nr_alloc_failures(void);
/* Free blocks per order, for the checker and the benchmarks. */
void buddy_free_counts(unsigned long counts[NR_PAGE_ORDERS]);

/*
 * Backing memory.  Only slab pages (descriptors) and page-table pages
 * (PTEs) use it, so metadata is measured in the model's own pages.
 */
void *pfn_to_virt(unsigned long pfn);
unsigned long virt_to_pfn(const void *addr);

#endif /* FOLIO_PAGE_ALLOC_H */
