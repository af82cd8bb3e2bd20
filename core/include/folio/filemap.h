/* SPDX-License-Identifier: MIT */
/*
 * folio/filemap.h - the page cache: per-file index slots (docs/design.md 5.4).
 *
 * A file is a fixed array of slots; a folio of order k sits in the 2^k
 * slots from its (aligned) index, as a multi-index xarray entry does.
 * Writers hold the file's i_pages lock; readers are lockless under RCU.
 */
#ifndef FOLIO_FILEMAP_H
#define FOLIO_FILEMAP_H

#include <urcu/list.h>

#include "folio/atomic.h"
#include "folio/folio.h"

struct address_space {
	struct fl_lock i_pages_lock;	/* the xa_lock */
	/*
	 * i_mmap: every mm's window onto this file (mm_add_file_window), so
	 * a file rmap walk visits only the mms that map it, under this
	 * file's lock (the kernel's i_mmap_rwsem), not one world-wide lock.
	 */
	struct fl_lock i_mmap_lock;
	struct cds_list_head i_mmap;
	unsigned long nr_slots;
	_Atomic(struct folio *) *slots;
	unsigned int id;
	struct cds_list_head world_link; /* all files, for the checker */
	/*
	 * The file's data version on its backing store (page_data.h): what a
	 * page reads when filemap_add_folio() fills it.  Bumped by every
	 * truncate_inode_pages_range(): what was cached is gone, and what is
	 * read back afterwards is the file as it is now, which a reader can
	 * tell from the dropped copy.  Not protocol state: plain relaxed
	 * atomics, no scheduler step.
	 */
	atomic_ulong version;
};

/* Create an empty file of @nr_slots pages.  NULL on allocation failure. */
struct address_space *address_space_create(unsigned long nr_slots);
/* Destroy an empty file (truncate it first).  Returns -EBUSY if not empty
 * or still mapped by an mm (mm_destroy that mm first). */
int address_space_destroy(struct address_space *mapping);

/*
 * Lockless lookup (filemap_get_entry): returns the folio at @index with a
 * reference held, or NULL if the slot is empty or out of range.
 */
struct folio *filemap_get_folio(struct address_space *mapping,
				unsigned long index);

/*
 * Insert @folio (locked, not anon, not in any file) at @index, which must be
 * aligned to its size, filling its pages with the file's content at the
 * current version first (read_folio).  Takes nr_pages references for the
 * cache.
 * Returns 0, -EEXIST if any slot is occupied, -EINVAL for a bad index,
 * order or folio.
 */
int filemap_add_folio(struct address_space *mapping, struct folio *folio,
		      unsigned long index);

/*
 * Delete a locked folio from its file and drop the cache's references.
 * The caller must hold its own reference.  No-op if already removed.
 */
void filemap_remove_folio(struct folio *folio);

/*
 * Truncate [start, end): bump the file's data version, then lock each folio, check it is still in the file,
 * remove it, unlock, drop the lookup's reference.  Returns the number of
 * folios removed.
 */
unsigned long truncate_inode_pages_range(struct address_space *mapping,
					 unsigned long start, unsigned long end);

#endif /* FOLIO_FILEMAP_H */
