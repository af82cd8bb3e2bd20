/* SPDX-License-Identifier: MIT */
/*
 * folio/page_data.h - what the simulated pages hold (docs/design.md 5.16).
 *
 * Physical memory: one 64-bit content word per PFN, in an array of its
 * own indexed by PFN (not in the memmap, not in a descriptor), as the
 * kernel's pages hold their 4 KiB beside struct page.  A word is enough to
 * tell who wrote a page and when, which is all the data oracles need.
 *
 * Who stores into it, as in the kernel:
 *   - an anon fault zero-fills the new folio before mapping it
 *     (folio_zero_user);
 *   - a page-cache insert fills the folio from the file's "disk"
 *     (read_folio): file_page_data(file, index, version);
 *   - copies move contents: the COW copy (wp_page_copy), fork's copy of a
 *     pinned page (copy_present_page), migration (folio_migrate_copy),
 *     khugepaged's collapse (__collapse_huge_page_copy); a split moves
 *     nothing (the pages stay where they are);
 *   - a CPU store through a mapping (touch_page_data, pgtable.h) and a
 *     device's DMA through a GUP reference (the harness, page_data_write).
 * Freeing a page does not clear it: what the last owner left is there
 * until the next owner's fault or fill overwrites it, so a path that maps
 * a page without filling it shows another owner's data.  A world starts
 * with PAGE_DATA_POISON ^ pfn in every page ("never written").
 *
 * Accesses are relaxed atomics and deliberately NOT steps of the
 * scheduler (folio/atomic.h): a data access is no protocol step.  Whether
 * a write lands before or after a copy is decided by the protocol steps
 * around it (the reference it holds, the entry it rechecked), which are
 * steps; splitting the copy of a folio into steps would only multiply
 * schedules that reach nothing new.
 */
#ifndef FOLIO_PAGE_DATA_H
#define FOLIO_PAGE_DATA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The content words, one per PFN of the world (page_data.c). */
extern _Atomic uint64_t *folio_page_data;

/* Tags in bits 60-63 of a content word. */
#define PAGE_DATA_TAG_SHIFT 60
#define PAGE_DATA_TAG(v) ((unsigned int)((v) >> PAGE_DATA_TAG_SHIFT))
#define PAGE_DATA_TAG_POISON 0x9u	/* never written since the world began */
#define PAGE_DATA_TAG_FILE 0xfu		/* a file's content, read from "disk" */
#define PAGE_DATA_POISON (0x9dull << 56)

/*
 * A file page as read from the file's backing store: the file's id, the
 * page's index and the file's data version (bumped by every truncate, so
 * a page read after a truncate is told from one cached before it).
 * Fields: bits 56-59 file id (an mm maps at most MM_MAX_WINDOWS files),
 * 32-55 index, 0-31 version (modulo 2^32: page_data_version_after()).
 */
static inline uint64_t file_page_data(unsigned int file_id, unsigned long index,
				      unsigned long version)
{
	return (uint64_t)PAGE_DATA_TAG_FILE << PAGE_DATA_TAG_SHIFT |
	       (uint64_t)(file_id & 0xfu) << 56 |
	       (uint64_t)(index & 0xffffffu) << 32 | (version & 0xffffffffu);
}
static inline bool page_data_is_file(uint64_t v)
{
	return PAGE_DATA_TAG(v) == PAGE_DATA_TAG_FILE;
}
static inline unsigned int page_data_file_id(uint64_t v)
{
	return (unsigned int)(v >> 56) & 0xfu;
}
static inline unsigned long page_data_file_index(uint64_t v)
{
	return (unsigned long)(v >> 32) & 0xffffffu;
}
static inline unsigned long page_data_file_version(uint64_t v)
{
	return (unsigned long)v & 0xffffffffu;
}
/* Is version @a (32 bits, as a page holds it) after the file's version
 * @b?  Modulo 2^32, within half the range: a page older than 2^31
 * truncates of its file would read as newer (no run comes near). */
static inline bool page_data_version_after(unsigned long a, unsigned long b)
{
	return ((a - b) & 0xffffffffu) != 0 && ((a - b) & 0xffffffffu) < 0x80000000u;
}

static inline uint64_t page_data_read(unsigned long pfn)
{
	return atomic_load_explicit(&folio_page_data[pfn], memory_order_relaxed);
}
static inline void page_data_write(unsigned long pfn, uint64_t v)
{
	atomic_store_explicit(&folio_page_data[pfn], v, memory_order_relaxed);
}

/* clear_highpage / folio_zero_user: @nr pages from @pfn read 0. */
void clear_page_data(unsigned long pfn, unsigned long nr);
/* copy_highpage / folio_copy: @nr pages from @src to @dst. */
void copy_page_data(unsigned long dst, unsigned long src, unsigned long nr);

/*
 * Debug hook: called by touch_page_data() (a CPU access through @mm's
 * page tables) with the PFN it reaches, holding a reference on that
 * page's folio: FOLIO_ACCESS_STORE just before a store of @val,
 * FOLIO_ACCESS_STORED just after it, FOLIO_ACCESS_LOAD just after the
 * load that returned @val.  A harness checks there what no count shows:
 * that a store of one process lands on no page another process holds,
 * and it brackets the store in its own bookkeeping.  NULL: nothing.
 * Never called by DMA (page_data_write): the harness does that itself.
 */
enum folio_access { FOLIO_ACCESS_LOAD, FOLIO_ACCESS_STORE, FOLIO_ACCESS_STORED };
struct mm_struct;
typedef void (*folio_access_fn)(struct mm_struct *mm, unsigned long va,
				unsigned long pfn, enum folio_access what,
				uint64_t val);
extern _Atomic(folio_access_fn) folio_access_hook;

#endif /* FOLIO_PAGE_DATA_H */
