/* SPDX-License-Identifier: MIT */
/*
 * world.c - set-up and teardown of one model instance, and the leak check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/page_alloc.h"
#include "folio/pgtable.h"
#include "folio/world.h"
#include "internal.h"

struct folio_world folio_world = { .files_lock = FL_LOCK_INIT,
				   .mms_lock = FL_LOCK_INIT };

/*
 * The last world's memory, kept for the next world of the same size: a
 * fuzzer builds one world per input, and a fresh mapping costs a page
 * fault for every slab and page-table page it touches.  Safe to reuse:
 * every page is zeroed (slab and table pages) and ASan-unpoisoned when it
 * is allocated, and nothing reads a page before that.
 */
static struct {
	void *base;
	size_t len;
} spare;

int folio_world_init(const struct folio_config *cfg)
{
	int err;

	if (folio_world.live)
		return -EBUSY;
	if (!cfg || cfg->nr_pages < 16 || cfg->nr_pages > FOLIO_MAX_NR_PAGES)
		return -EINVAL;
	if (cfg->pmd_order > MAX_PAGE_ORDER)
		return -EINVAL;
	folio_world.nr_pages = cfg->nr_pages;
	folio_world.pmd_order = cfg->pmd_order ? cfg->pmd_order : 9;
	/*
	 * Virtual space for every page; only slab and page-table pages are
	 * ever touched, so with NORESERVE the rest costs nothing.
	 */
	if (spare.base && spare.len >= cfg->nr_pages * PAGE_SIZE) {
		folio_world.membase = spare.base;	/* its first pages */
		folio_world.maplen = spare.len;
	} else {
		if (spare.base)
			munmap(spare.base, spare.len);
		folio_world.maplen = cfg->nr_pages * PAGE_SIZE;
		folio_world.membase = mmap(NULL, folio_world.maplen,
					   PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS |
						   MAP_NORESERVE,
					   -1, 0);
	}
	spare.base = NULL;
	if (folio_world.membase == MAP_FAILED)
		return -ENOMEM;
	err = buddy_init(cfg->nr_pages, folio_world.pmd_order);
	if (err)
		goto out_unmap;
	err = page_data_init(cfg->nr_pages);
	if (err)
		goto out_buddy;
	err = slab_init();
	if (err)
		goto out_data;
	folio_cache = kmem_cache_create("folio", sizeof(struct folio),
					FOLIO_FREEPTR_OFFSET, FOLIO_PROTECT_LO,
					FOLIO_PROTECT_HI, SLAB_TYPESAFE_BY_RCU);
	large_folio_cache = kmem_cache_create("large_folio",
					      sizeof(struct large_folio),
					      FOLIO_FREEPTR_OFFSET,
					      FOLIO_PROTECT_LO, FOLIO_PROTECT_HI,
					      SLAB_TYPESAFE_BY_RCU);
	if (!folio_cache || !large_folio_cache) {
		err = -ENOMEM;
		goto out_slab;
	}
	ptdesc_cache = kmem_cache_create("ptdesc", sizeof(struct ptdesc),
					 offsetof(struct ptdesc, deposit_link),
					 0, 0, 0);
	if (!ptdesc_cache || wp_desc_cache_init()) {
		err = -ENOMEM;
		goto out_slab;
	}
	folio_wait_table_init();
	deferred_split_init();
	CDS_INIT_LIST_HEAD(&folio_world.files);
	folio_world.next_file_id = 0;
	CDS_INIT_LIST_HEAD(&folio_world.mms);
	folio_world.next_mm_id = 0;
	folio_world.live = true;
	return 0;

out_slab:
	slab_destroy();
out_data:
	page_data_destroy();
out_buddy:
	buddy_destroy();
out_unmap:
	munmap(folio_world.membase, folio_world.maplen);
	return err;
}

static const char *type_name(enum memdesc_type t)
{
	switch (t) {
	case MEMDESC_MISC: return "misc";
	case MEMDESC_BUDDY: return "buddy";
	case MEMDESC_FILE: return "file";
	case MEMDESC_ANON: return "anon";
	case MEMDESC_SLAB: return "slab";
	case MEMDESC_PTDESC: return "ptdesc";
	default: return "reserved";
	}
}

unsigned long folio_world_destroy(FILE *report)
{
	unsigned long leaks = 0, nr = folio_world.nr_pages;
	struct kmem_cache_stats st;
	struct address_space *m, *tmp;
	struct mm_struct *mm, *mtmp;

	if (!folio_world.live)
		return 0;
	cds_list_for_each_entry_safe(mm, mtmp, &folio_world.mms, world_link) {
		if (report)
			fprintf(report, "leak: mm %u still exists\n", mm->id);
		leaks++;
		mm_destroy(mm);
	}
	cds_list_for_each_entry_safe(m, tmp, &folio_world.files, world_link) {
		if (report)
			fprintf(report, "leak: file %u still exists\n", m->id);
		leaks++;
		if (address_space_destroy(m)) {
			/* still holds folios: they leak with the world's pages */
			cds_list_del(&m->world_link);
			fl_destroy(&m->i_pages_lock);
			free_lines((void *)m->slots);
			free_lines(m);
		}
	}
	/*
	 * Empty slabs of typesafe caches leave only after a grace period, and
	 * their descriptors then go back to slab_cache: shrink, wait for the
	 * callbacks, shrink slab_cache.
	 */
	rcu_barrier_model();	/* page tables freed by mm_destroy */
	kmem_cache_shrink(folio_cache);
	kmem_cache_shrink(large_folio_cache);
	kmem_cache_shrink(ptdesc_cache);
	kmem_cache_shrink(wp_desc_cache);
	rcu_barrier_model();
	kmem_cache_shrink(slab_cache);
	rcu_barrier_model();

	for (int i = 0; i < 2; i++) {
		kmem_cache_get_stats(i ? large_folio_cache : folio_cache, &st);
		if (st.nr_active) {
			if (report)
				fprintf(report, "leak: %lu %sfolio descriptors "
					"in use\n", st.nr_active,
					i ? "large " : "");
			leaks += st.nr_active;
		}
	}
	kmem_cache_get_stats(wp_desc_cache, &st);
	if (st.nr_active) {
		if (report)
			fprintf(report, "leak: %lu write-protect descriptors in use\n",
				st.nr_active);
		leaks += st.nr_active;
	}
	if (nr_free_pages() != nr) {
		for (unsigned long pfn = 0; pfn < nr;) {
			memdesc_t w = memmap_word_load(pfn);
			unsigned long run = pfn;

			if (memdesc_type(w) == MEMDESC_BUDDY) {
				pfn++;
				continue;
			}
			while (run < nr && memmap_word_load(run) == w)
				run++;
			if (report)
				fprintf(report,
					"leak: pfn %#lx-%#lx (%lu pages) type %s desc %p\n",
					pfn, run - 1, run - pfn,
					type_name(memdesc_type(w)), memdesc_ptr(w));
			leaks += run - pfn;
			pfn = run;
		}
	}
	folio_wait_table_destroy();
	slab_destroy();
	folio_cache = NULL;
	large_folio_cache = NULL;
	ptdesc_cache = NULL;
	wp_desc_cache = NULL;
	page_data_destroy();
	buddy_destroy();
	if (folio_world.maplen <= (64ul << 20)) {	/* small: keep it */
		spare.base = folio_world.membase;
		spare.len = folio_world.maplen;
	} else {
		munmap(folio_world.membase, folio_world.maplen);
	}
	folio_world.membase = NULL;
	folio_world.live = false;
	return leaks;
}

void folio_world_get_stats(struct folio_world_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nr_pages = folio_world.nr_pages;
	st->free_pages = nr_free_pages();
	st->slab_pages = slab_nr_pages();
	kmem_cache_get_stats(folio_cache, &st->folio_cache);
	kmem_cache_get_stats(large_folio_cache, &st->large_folio_cache);
	kmem_cache_get_stats(slab_cache, &st->slab_cache);
}
