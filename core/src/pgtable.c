/* SPDX-License-Identifier: MIT */
/*
 * pgtable.c - address spaces and their tables: mm create/destroy, PTE
 * table pages (simulated pages typed PTDESC), walk helpers, file windows.
 *
 * Table lifetime: a PMD that points at a PTE table keeps pointing at it
 * until mm_destroy or a khugepaged collapse (collapse.c), which clears the
 * PMD under the table's PTL; so a thread that read a TABLE pmd locks the
 * PTL under RCU and rechecks the PMD (pte_table_lock).  Collapsed tables,
 * tables deposited for PMD leaves and all tables at mm_destroy are freed
 * through call_rcu: GUP-fast may be walking them under RCU (R4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "folio/filemap.h"
#include "folio/page_alloc.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "internal.h"

struct kmem_cache *ptdesc_cache;

unsigned int pmd_order(void)
{
	return folio_world.pmd_order;
}

struct ptdesc *pte_alloc_one(void)
{
	struct ptdesc *pt = kmem_cache_alloc(ptdesc_cache);
	long pfn;

	if (!pt)
		return NULL;
	fl_init(&pt->ptl);
	CDS_INIT_LIST_HEAD(&pt->deposit_link);
	pfn = alloc_pages_desc(0, memdesc_encode(MEMDESC_PTDESC, pt));
	if (pfn < 0) {
		fl_destroy(&pt->ptl);
		kmem_cache_free(ptdesc_cache, pt);
		return NULL;
	}
	pt->pfn = (unsigned long)pfn;
	page_unpoison(pt->pfn);
	/* all entries none; nobody can see the page before it is installed */
	memset(pfn_to_virt(pt->pfn), 0, PAGE_SIZE);
	return pt;
}

static void pte_free_cb(struct folio_rcu_head *h)
{
	struct ptdesc *pt = caa_container_of(h, struct ptdesc, rcu);

	page_poison(pt->pfn);	/* before the free: see slab_free_page_now */
	free_pages_desc(pt->pfn, 0);
	fl_destroy(&pt->ptl);
	kmem_cache_free(ptdesc_cache, pt);
}

void pte_free_rcu(struct ptdesc *pt)
{
	call_rcu_model(&pt->rcu, pte_free_cb);
}

void pgtable_trans_huge_deposit(struct mm_struct *mm, struct ptdesc *pt)
{
	cds_list_add(&pt->deposit_link, &mm->deposits);
}

struct ptdesc *pgtable_trans_huge_withdraw(struct mm_struct *mm)
{
	struct ptdesc *pt;

	/* every anon PMD leaf deposited one when it was mapped */
	VM_BUG_ON(cds_list_empty(&mm->deposits));
	pt = cds_list_first_entry(&mm->deposits, struct ptdesc, deposit_link);
	cds_list_del_init(&pt->deposit_link);
	return pt;
}

_Atomic pmd_t *pmd_offset(struct mm_struct *mm, unsigned long va)
{
	return &mm->pmds[va >> pmd_order()];
}

static struct ptdesc *pmd_ptdesc(pmd_t pmd)
{
	return memdesc_ptr(memmap_word_load(pte_pfn(pmd)));
}

_Atomic pte_t *pte_offset(pmd_t pmd, unsigned long va)
{
	return (_Atomic pte_t *)pfn_to_virt(pte_pfn(pmd)) +
	       (va & (pmd_nr() - 1));
}

struct fl_lock *pte_lockptr(pmd_t pmd)
{
	return &pmd_ptdesc(pmd)->ptl;
}

static unsigned long round_pmds(unsigned long pages)
{
	return (pages + pmd_nr() - 1) >> pmd_order();
}

struct mm_struct *mm_create(unsigned long anon_pages, unsigned long window_pages)
{
	struct mm_struct *mm = zalloc_lines(sizeof(*mm));
	unsigned long anon_pmds = round_pmds(anon_pages);
	unsigned long win_pmds = round_pmds(window_pages);

	if (!mm)
		return NULL;
	mm->nr_pmds = anon_pmds + MM_MAX_WINDOWS * win_pmds;
	mm->pmds = zalloc_lines(mm->nr_pmds * sizeof(*mm->pmds));
	if (!mm->pmds) {
		free_lines(mm);
		return NULL;
	}
	mm->anon_pages = anon_pmds << pmd_order();
	mm->window_pages = win_pmds << pmd_order();
	mm->next_window = mm->anon_pages;
	fl_init(&mm->pmd_lock);
	fl_init(&mm->fork_lock);
	atomic_init(&mm->write_protect_seq, 0);
	atomic_init(&mm->store_epoch, 0);
	atomic_init(&mm->stores[0], 0);
	atomic_init(&mm->stores[1], 0);
	CDS_INIT_LIST_HEAD(&mm->deposits);
	fl_lock(&folio_world.mms_lock);
	mm->id = folio_world.next_mm_id++;
	cds_list_add_tail(&mm->world_link, &folio_world.mms);
	fl_unlock(&folio_world.mms_lock);
	return mm;
}

long mm_add_file_window(struct mm_struct *mm, struct address_space *mapping)
{
	struct mm_window *w;
	long base;

	if (mapping->nr_slots > mm->window_pages)
		return -EINVAL;
	fl_lock(&folio_world.mms_lock);
	if (mm->nr_windows == MM_MAX_WINDOWS) {
		fl_unlock(&folio_world.mms_lock);
		return -ENOSPC;
	}
	base = (long)mm->next_window;
	w = &mm->windows[mm->nr_windows];
	w->mapping = mapping;
	w->base = (unsigned long)base;
	w->mm = mm;
	mm->nr_windows++;
	mm->next_window += mm->window_pages;
	fl_unlock(&folio_world.mms_lock);
	/* visible to the file's rmap walks from here on */
	fl_lock(&mapping->i_mmap_lock);
	cds_list_add_tail(&w->i_mmap_link, &mapping->i_mmap);
	fl_unlock(&mapping->i_mmap_lock);
	return base;
}

/*
 * Lockless: the caller's RCU read-side section keeps the PTE table we read
 * from allocated (tables are freed by RCU: pte_free_rcu) even if a split,
 * collapse or zap replaces it meanwhile; the acquire loads pair with the
 * release stores that publish a table and its entries, so a table we see
 * is initialised.  A stale answer is fine: callers take a speculative
 * reference (folio_try_get_pfn) and recheck what they got.
 */
unsigned long mm_walk_pfn(struct mm_struct *mm, unsigned long va)
{
	pmd_t pmd;
	pte_t pte;

	if (va >= mm->nr_pmds << pmd_order())
		return ~0ul;
	pmd = fa_load_acquire(pmd_offset(mm, va));
	if (pmd_leaf(pmd))
		return pte_pfn(pmd) + (va & (pmd_nr() - 1));
	if (!pmd_table(pmd))
		return ~0ul;
	pte = fa_load_acquire(pte_offset(pmd, va));
	return pte_present(pte) ? pte_pfn(pte) : ~0ul;
}

/* Caller holds mms_lock, or owns the mm (windows never change after set-up). */
long mm_file_window(const struct mm_struct *mm,
		    const struct address_space *mapping)
{
	for (unsigned int i = 0; i < mm->nr_windows; i++)
		if (mm->windows[i].mapping == mapping)
			return (long)mm->windows[i].base;
	return -1;
}

void mm_destroy(struct mm_struct *mm)
{
	struct ptdesc *pt, *tmp;

	fl_lock(&folio_world.mms_lock);
	cds_list_del(&mm->world_link);
	fl_unlock(&folio_world.mms_lock);
	/* the files' rmap walks stop finding this mm before its tables go */
	for (unsigned int i = 0; i < mm->nr_windows; i++) {
		struct address_space *m = mm->windows[i].mapping;

		fl_lock(&m->i_mmap_lock);
		cds_list_del(&mm->windows[i].i_mmap_link);
		fl_unlock(&m->i_mmap_lock);
	}
	zap_page_range(mm, 0, mm->nr_pmds << pmd_order());
	for (unsigned long i = 0; i < mm->nr_pmds; i++) {
		pmd_t pmd = fa_load_relaxed(&mm->pmds[i]);

		if (pmd_table(pmd))
			pte_free_rcu(pmd_ptdesc(pmd));
		fa_store_relaxed(&mm->pmds[i], 0);
	}
	cds_list_for_each_entry_safe(pt, tmp, &mm->deposits, deposit_link) {
		cds_list_del(&pt->deposit_link);
		pte_free_rcu(pt);
	}
	fl_destroy(&mm->pmd_lock);
	fl_destroy(&mm->fork_lock);
	free_lines((void *)mm->pmds);
	free_lines(mm);
}
