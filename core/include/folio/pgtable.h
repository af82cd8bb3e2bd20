/* SPDX-License-Identifier: MIT */
/*
 * folio/pgtable.h - simulated address spaces (docs/design.md 5.5, 5.6).
 *
 * Each mm has one PMD table (host memory, guarded by mm->pmd_lock, the
 * kernel's pmd_lock / page_table_lock) whose entries are none, a PMD leaf
 * mapping a whole folio of PMD_ORDER, or a PTE table.  A PTE table is a
 * simulated page typed PTDESC whose memory holds PTRS_PER_PTE entries; its
 * ptdesc descriptor carries the table's lock (split PTL).  PTE tables are
 * never freed while the mm lives, except the tables deposited for PMD
 * leaves (freed through call_rcu, because GUP-fast walks without locks).
 *
 * Layout: anon folios are mapped only by their owner mm, at va == folio
 * index (anon mapping = mm | FOLIO_MAPPING_ANON); each file is mapped at a
 * fixed window in each mm (va = window + index).  So an rmap walk is a
 * direct check of a few entries.  Addresses are in pages.
 *
 * Entry encoding (pte_t and pmd_t alike):
 *   bit 0 present, 1 write, 2 dirty, 3 young, 4 migration (not present),
 *   5 PMD leaf, 6 PMD -> PTE table; bits 12-63 the PFN.
 */
#ifndef FOLIO_PGTABLE_H
#define FOLIO_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu/list.h>

#include "folio/atomic.h"
#include "folio/folio.h"

typedef uint64_t pte_t;
typedef uint64_t pmd_t;

#define _PAGE_PRESENT	(1ull << 0)
#define _PAGE_WRITE	(1ull << 1)
#define _PAGE_DIRTY	(1ull << 2)
#define _PAGE_YOUNG	(1ull << 3)
#define _PAGE_MIGRATION	(1ull << 4)
#define _PMD_LEAF	(1ull << 5)
#define _PMD_TABLE	(1ull << 6)
#define _PAGE_PFN_SHIFT	12

#define FOLIO_MAPPING_ANON 0x1ul
#define MM_MAX_WINDOWS 8

struct address_space;

struct mm_struct {
	unsigned int id;
	unsigned long nr_pmds;
	_Atomic pmd_t *pmds;
	struct fl_lock pmd_lock;
	unsigned long anon_pages;	/* anon region: va [0, anon_pages) */
	unsigned long next_window;	/* va where the next file window goes */
	struct mm_window {
		struct address_space *mapping;
		unsigned long base;
		struct mm_struct *mm;
		struct cds_list_head i_mmap_link; /* on mapping->i_mmap */
	} windows[MM_MAX_WINDOWS];
	unsigned int nr_windows;
	unsigned long window_pages;	/* capacity of each file window */
	struct cds_list_head deposits;	/* PTE tables deposited for PMD leaves (pmd_lock) */
	struct cds_list_head world_link;
	/*
	 * fork (fork.c): fork_lock stands for mmap_write_lock of the parent
	 * (one fork of an mm at a time); write_protect_seq is odd while a
	 * fork write-protects this mm's anon entries, and GUP-fast with
	 * FOLL_PIN gives up if it was odd or changed across its walk.
	 */
	struct fl_lock fork_lock;
	atomic_uint write_protect_seq;
	/*
	 * The TLB flush fork does before it ends (mm_flush_stores): the CPU
	 * stores through this mm's entries in flight, counted SRCU-style in
	 * the slot of store_epoch's parity when each began.
	 */
	atomic_ulong store_epoch;
	atomic_long stores[2];
};

/* PMD_ORDER of the world (folio_config.pmd_order; 9 by default). */
unsigned int pmd_order(void);
static inline unsigned long pmd_nr(void)
{
	return 1ul << pmd_order();
}

static inline pte_t mk_pte(unsigned long pfn, pte_t bits)
{
	return ((pte_t)pfn << _PAGE_PFN_SHIFT) | bits;
}
static inline unsigned long pte_pfn(pte_t pte)
{
	return (unsigned long)(pte >> _PAGE_PFN_SHIFT);
}
static inline bool pte_present(pte_t pte)
{
	return pte & _PAGE_PRESENT;
}
static inline bool pte_migration(pte_t pte)
{
	return pte & _PAGE_MIGRATION;
}
static inline bool pmd_leaf(pmd_t pmd)
{
	return (pmd & (_PAGE_PRESENT | _PMD_LEAF)) == (_PAGE_PRESENT | _PMD_LEAF);
}
static inline bool pmd_table(pmd_t pmd)
{
	return pmd & _PMD_TABLE;
}

/*
 * Create an mm with an anon region of @anon_pages and room for
 * MM_MAX_WINDOWS file windows of @window_pages each (both rounded up to
 * whole PMDs).
 */
struct mm_struct *mm_create(unsigned long anon_pages, unsigned long window_pages);
/* Map @mapping's whole file at a fixed window; returns the window base,
 * or -ENOSPC (no window left) / -EINVAL (file larger than a window). */
long mm_add_file_window(struct mm_struct *mm, struct address_space *mapping);
/* Zap everything and free the tables (after a grace period).  Create
 * every mm before, and destroy it after, other threads use the world:
 * anon rmap walks read the list of mms without a lock. */
void mm_destroy(struct mm_struct *mm);

/* Lockless walk helpers (caller in an RCU read-side section, or holding
 * the lock that keeps the entry from changing). */
_Atomic pmd_t *pmd_offset(struct mm_struct *mm, unsigned long va);
_Atomic pte_t *pte_offset(pmd_t pmd, unsigned long va);
struct fl_lock *pte_lockptr(pmd_t pmd);
/* The pfn mapped at @va (a PMD leaf's page, or a present PTE's), or ~0ul:
 * a page walk as GUP-fast's, under RCU; the answer may be stale at once. */
unsigned long mm_walk_pfn(struct mm_struct *mm, unsigned long va);

/* Window base of @mapping in @mm, or -1. */
long mm_file_window(const struct mm_struct *mm,
		    const struct address_space *mapping);
/* Owner mm of an anon folio. */
static inline struct mm_struct *folio_anon_mm(const struct folio *f)
{
	uintptr_t m = (uintptr_t)folio_mapping(f);

	/* a write-protected folio's mapping is its descriptor (ksm.h) */
	VM_BUG_ON_FOLIO((m & 0x3ul) == 0x3ul, f);
	return (struct mm_struct *)(m & ~FOLIO_MAPPING_ANON);
}

/* ---- faults, mapping, unmapping (memory.c) ---- */
/*
 * Anon fault: allocate an anon folio of @order and map it at @va (aligned
 * to its size) with PTEs, or with a PMD leaf when order == PMD_ORDER.
 * Returns 0, -EINVAL (range/alignment/order), -EEXIST (something mapped
 * there), -ENOMEM.
 */
int do_anonymous_page(struct mm_struct *mm, unsigned long va,
		      unsigned int order, bool write);
/*
 * Map the page-cache pages [index, index + nr) of @mapping into its window
 * in @mm: PTEs for the pages of the folios found there, or a PMD leaf when
 * @pmd and the folio is PMD_ORDER and covers the whole PMD.  Returns the
 * number of pages newly mapped, or -EINVAL.
 */
long filemap_map_pages(struct mm_struct *mm, struct address_space *mapping,
		       unsigned long index, unsigned long nr, bool pmd);
/*
 * Zap [va, va + nr): clear PTEs and PMDs (a partially covered PMD leaf is
 * split first), remove the rmap, drop the mappings' references after the
 * tables are unlocked; a large anon folio left partially mapped is queued
 * for deferred split.  Returns the number of mappings removed.
 */
long zap_page_range(struct mm_struct *mm, unsigned long va, unsigned long nr);
/*
 * A CPU write (or read) touching @va: sets young, and dirty for a write to
 * a writable present PTE, atomically as the hardware walker does.
 * Returns false if nothing present is mapped there.
 */
bool touch_page(struct mm_struct *mm, unsigned long va, bool write);
/*
 * A CPU load (@write false: *@data = what the page holds) or store (of
 * *@data) at @va through the page tables, setting young and dirty as
 * touch_page() does (docs/design.md 5.16).  The access holds a reference
 * on the page's folio while it reads or writes (the model's stand-in for
 * the TLB flush an unmap does before it copies or frees a page), and
 * calls folio_access_hook (page_data.h).  Returns 1 (done); 0 (nothing
 * mapped there, checked again under the entry's lock as a fault would, or
 * a store to a read-only entry: do_wp_page's job); -EAGAIN (a migration
 * entry, an invalidated PMD, a frozen folio, or the entry kept changing:
 * a fault would wait and retry).
 */
int touch_page_data(struct mm_struct *mm, unsigned long va, bool write,
		    uint64_t *data);

/* ---- rmap walks (rmap.c) ---- */
/* Unmap every mapping of a locked file folio (truncate). */
void unmap_mapping_folio(struct folio *folio);

#endif /* FOLIO_PGTABLE_H */
