/* SPDX-License-Identifier: MIT */
/*
 * filemap.c - the page cache (docs/design.md 5.4, O8).
 *
 * Slots are atomics: writers store under i_pages_lock, readers load under
 * RCU with no lock.  Reference rules:
 *   - a folio in the cache holds nr_pages references for it, taken before
 *     its slots are stored and dropped after they are cleared;
 *   - a lookup's reference is valid only once the slot has been reloaded
 *     and still holds the same folio.
 */
#include <errno.h>
#include <stdlib.h>

#include "folio/filemap.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/page_data.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"
#include "folio/window.h"
#include "internal.h"

struct address_space *address_space_create(unsigned long nr_slots)
{
	struct address_space *m = zalloc_lines(sizeof(*m));

	if (!m)
		return NULL;
	m->slots = zalloc_lines(nr_slots * sizeof(*m->slots));
	if (!m->slots) {
		free_lines(m);
		return NULL;
	}
	m->nr_slots = nr_slots;
	fl_init(&m->i_pages_lock);
	fl_init(&m->i_mmap_lock);
	CDS_INIT_LIST_HEAD(&m->i_mmap);
	fl_lock(&folio_world.files_lock);
	m->id = folio_world.next_file_id++;
	cds_list_add_tail(&m->world_link, &folio_world.files);
	fl_unlock(&folio_world.files_lock);
	return m;
}

int address_space_destroy(struct address_space *m)
{
	fl_lock(&m->i_pages_lock);
	for (unsigned long i = 0; i < m->nr_slots; i++) {
		if (fa_load_relaxed(&m->slots[i])) {
			fl_unlock(&m->i_pages_lock);
			return -EBUSY;
		}
	}
	fl_unlock(&m->i_pages_lock);
	fl_lock(&m->i_mmap_lock);
	if (!cds_list_empty(&m->i_mmap)) {	/* an mm still maps it */
		fl_unlock(&m->i_mmap_lock);
		return -EBUSY;
	}
	fl_unlock(&m->i_mmap_lock);
	fl_lock(&folio_world.files_lock);
	cds_list_del(&m->world_link);
	fl_unlock(&folio_world.files_lock);
	fl_destroy(&m->i_mmap_lock);
	fl_destroy(&m->i_pages_lock);
	free_lines((void *)m->slots);
	free_lines(m);
	return 0;
}

/*
 * filemap_get_entry.  The race it closes (R5), as numbered steps:
 *   1. we load slot[i] == F (a descriptor pointer, no reference);
 *   2. another thread truncates F: slot cleared, cache refs dropped, F freed;
 *      F's descriptor is reused as G (same cache), maybe even put back into
 *      this file at another index, or at this one;
 *   3. our try_get on the descriptor succeeds (G is live) or fails (G is
 *      free or frozen by a splitter/reclaimer);
 *   4. success: we reload slot[i]; only if it still holds the same pointer
 *      do we own a reference to the folio at index i.  Otherwise put
 *      (which may free G if its owner dropped it meanwhile) and retry.
 *   Failure: the slot is about to change (truncate, split); retry.
 * Ordering: the reload in 4 is after the seq_cst try_get; an insert stores
 * the slot with release after taking the cache's references, so a reader
 * that sees the new slot also sees the count those references raised.
 */
struct folio *filemap_get_folio(struct address_space *m, unsigned long index)
{
	struct folio *f;

	if (index >= m->nr_slots)
		return NULL;
	rcu_read_lock_model();
repeat:
	f = fa_load_acquire(&m->slots[index]);
	if (!f)
		goto out;
	folio_race_point(RP_FILEMAP_LOADED, f);
	if (!folio_try_get(f)) {
		fa_spin_hint();	/* frozen by a splitter: wait for it */
		goto repeat;
	}
	folio_race_point(RP_FILEMAP_GOT, f);
	if (FOLIO_MUTANT_IS(filemap_no_reload))
		goto out;	/* the bug: trust the pointer loaded before */
	if (f != fa_load_relaxed(&m->slots[index])) {
		folio_window(FW_R5);
		folio_put(f);
		goto repeat;
	}
out:
	rcu_read_unlock_model();
	return f;
}

int filemap_add_folio(struct address_space *m, struct folio *f,
		      unsigned long index)
{
	unsigned long nr = folio_nr_pages(f), i;

	if (folio_test_anon(f) || folio_mapping(f))
		return -EINVAL;
	if (index & (nr - 1) || index >= m->nr_slots || nr > m->nr_slots - index)
		return -EINVAL;
	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);

	/*
	 * read_folio: the pages hold the file's data before any reader can
	 * find them (the slot's release store below publishes them too).  A
	 * concurrent truncate may bump the version meanwhile: the page is
	 * then of the older version, which is all a racing read promises.
	 */
	for (i = 0; i < nr; i++)
		page_data_write(folio_pfn_plain(f) + i, file_page_data(m->id, index + i,
				fa_peek_relaxed(&m->version)));
	/* The cache's references come before any reader can find the folio. */
	folio_ref_add(f, (int)nr);
	fl_lock(&m->i_pages_lock);
	for (i = 0; i < nr; i++) {
		if (fa_load_relaxed(&m->slots[index + i])) {
			fl_unlock(&m->i_pages_lock);
			folio_ref_sub(f, (int)nr);
			return -EEXIST;
		}
	}
	fa_store_relaxed(&f->index, index);
	fa_store_relaxed(&f->mapping, m);
	for (i = 0; i < nr; i++)
		if (FOLIO_MUTANT_IS(filemap_publish_relaxed))
			/* WRITE_ONCE, not rcu_assign_pointer: a lockless
			 * lookup may find the folio before its index and
			 * mapping are visible */
			fa_store_relaxed(&m->slots[index + i], f);
		else
			fa_store_release(&m->slots[index + i], f);
	fl_unlock(&m->i_pages_lock);
	return 0;
}

void filemap_remove_folio(struct folio *f)
{
	struct address_space *m = folio_mapping(f);
	unsigned long nr = folio_nr_pages(f), index = folio_index(f);

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	if (!m)
		return;
	/* filemap_unaccount_folio: a cached folio leaves only unmapped. */
	VM_BUG_ON_FOLIO(folio_mapcount(f) != 0, f);
	fl_lock(&m->i_pages_lock);
	for (unsigned long i = 0; i < nr; i++) {
		VM_BUG_ON_FOLIO(fa_load_relaxed(&m->slots[index + i]) != f, f);
		fa_store_relaxed(&m->slots[index + i], NULL);
	}
	/* The index is kept, as the kernel does; the mapping goes. */
	fa_store_relaxed(&f->mapping, NULL);
	fl_unlock(&m->i_pages_lock);
	/* After the slots are clear: refcount >= cache refs at every instant. */
	folio_put_refs(f, (int)nr);
}

unsigned long truncate_inode_pages_range(struct address_space *m,
					 unsigned long start, unsigned long end)
{
	unsigned long index = start, removed = 0;

	/* the file changed: what is read back from now on is a new version */
	atomic_fetch_add_explicit(&m->version, 1, memory_order_relaxed);
	if (end > m->nr_slots)
		end = m->nr_slots;
	while (index < end) {
		struct folio *f = filemap_get_folio(m, index);
		unsigned long next = index + 1;

		if (!f) {
			index = next;
			continue;
		}
		folio_lock(f);
		/*
		 * Recheck under the lock: between the lookup and the lock the
		 * folio may have been truncated by someone else (mapping NULL)
		 * or split (it no longer covers index).  Then just move on.
		 */
		if (folio_mapping(f) == m && folio_index(f) <= index &&
		    index < folio_next_index(f)) {
			next = folio_next_index(f);
			/* every mapping goes before the cache's references */
			unmap_mapping_folio(f);
			filemap_remove_folio(f);
			removed++;
		}
		folio_unlock(f);
		folio_put(f);
		index = next;
	}
	return removed;
}
