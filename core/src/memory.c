/* SPDX-License-Identifier: MIT */
/*
 * memory.c - faults, file mapping, zap and the accessed/dirty bits
 * (docs/design.md 5.5, 5.6, O9, O10).
 */
#include <errno.h>

#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/filemap.h"
#include "folio/page_data.h"
#include "folio/page_ref.h"
#include "folio/rcu.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

struct fl_lock *pte_lock_pmd(_Atomic pmd_t *pmdp, pmd_t pmd)
{
	struct fl_lock *ptl;

	rcu_read_lock_model();
	/* the table @pmd names is alive only if the PMD still names it
	 * once we are inside RCU (a collapse frees it after a grace period) */
	if (fa_load_acquire(pmdp) != pmd) {
		rcu_read_unlock_model();
		return NULL;
	}
	ptl = pte_lockptr(pmd);
	fl_lock(ptl);
	if (fa_load_relaxed(pmdp) != pmd) {	/* collapsed before our lock */
		fl_unlock(ptl);
		ptl = NULL;
	}
	rcu_read_unlock_model();
	return ptl;
}

struct fl_lock *pte_table_lock(struct mm_struct *mm, unsigned long va,
			       bool alloc, pmd_t *pmdval, int *err)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	struct fl_lock *ptl;
	pmd_t pmd;

	*err = 0;
again:
	pmd = fa_load_acquire(pmdp);
	if (!pmd_table(pmd)) {
		struct ptdesc *pt;

		if (!alloc || pmd)
			return NULL;
		pt = pte_alloc_one();
		if (!pt) {
			*err = -ENOMEM;
			return NULL;
		}
		fl_lock(&mm->pmd_lock);
		pmd = fa_load_relaxed(pmdp);
		if (!pmd) {
			/* release: the zeroed table before the pointer to it */
			pmd = mk_pte(pt->pfn, _PAGE_PRESENT | _PMD_TABLE);
			fa_store_release(pmdp, pmd);
			pt = NULL;
		}
		fl_unlock(&mm->pmd_lock);
		if (pt)		/* lost the race: never visible, free at once */
			pte_free_rcu(pt);
		if (!pmd_table(pmd))
			return NULL;
	}
	/*
	 * pte_offset_map_lock: khugepaged's collapse may clear this PMD and
	 * free its table (through call_rcu) between our load and the lock.
	 * Under RCU the table and its lock stay valid; under the lock, the
	 * PMD still naming the table means no collapse can take it until we
	 * unlock (collapse clears the PMD holding this PTL); else look again.
	 */
	ptl = pte_lock_pmd(pmdp, pmd);
	if (!ptl)
		goto again;
	*pmdval = pmd;
	return ptl;
}

pmd_t pmd_settled(struct mm_struct *mm, unsigned long va)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	pmd_t pmd = fa_load_acquire(pmdp);

	if (!pmd) {	/* a collapse holds the PMD lock while it is none */
		fl_lock(&mm->pmd_lock);
		pmd = fa_load_relaxed(pmdp);
		fl_unlock(&mm->pmd_lock);
	}
	return pmd;
}

void folio_unmap_maybe_queue(struct folio *f, int map, int held)
{
	if (folio_test_anon(f) && folio_order(f) > 1 && map > 0 &&
	    (unsigned long)map < folio_nr_pages(f) &&
	    folio_entire_mapcount(f) == 0 && !folio_test_partially_mapped(f)) {
		/*
		 * R8: the mappings we counted are gone too (another thread
		 * zapped them meanwhile): only our references keep it alive
		 * while we queue it
		 */
		if (folio_ref_count(f) <= held)
			folio_window(FW_R8);
		deferred_split_folio(f, true);
	}
}

static int do_huge_pmd_anonymous_page(struct mm_struct *mm, unsigned long va,
				      bool write)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	struct folio *f = folio_alloc_anon(pmd_order());
	struct ptdesc *deposit = pte_alloc_one();

	if (!f || !deposit) {
		if (f)
			folio_put(f);
		if (deposit)
			pte_free_rcu(deposit);
		return -ENOMEM;
	}
	/* folio_zero_user: zero-filled before the leaf's release store */
	clear_page_data(folio_pfn_plain(f), 1ul << pmd_order());
	fa_store_relaxed(&f->mapping,
			 (struct address_space *)((uintptr_t)mm | FOLIO_MAPPING_ANON));
	fa_store_relaxed(&f->index, va);
	folio_set_flag(f, PG_anon_exclusive);	/* RMAP_EXCLUSIVE */
	fl_lock(&mm->pmd_lock);
	if (fa_load_relaxed(pmdp)) {
		fl_unlock(&mm->pmd_lock);
		pte_free_rcu(deposit);
		folio_put(f);
		return -EEXIST;
	}
	/* the allocation's reference becomes the PMD mapping's */
	folio_add_rmap_pmd(f);
	pgtable_trans_huge_deposit(mm, deposit);
	/* dirty on a read fault too: see do_anonymous_page */
	fa_store_release(pmdp, mk_pte(folio_pfn(f), _PAGE_PRESENT | _PMD_LEAF |
						  _PAGE_WRITE | _PAGE_YOUNG |
						  _PAGE_DIRTY));
	fl_unlock(&mm->pmd_lock);
	return 0;
}

int do_anonymous_page(struct mm_struct *mm, unsigned long va,
		      unsigned int order, bool write)
{
	unsigned long nr = 1ul << order, pfn;
	struct fl_lock *ptl;
	struct folio *f;
	_Atomic pte_t *ptes;
	pmd_t pmd;
	int err;

	if (order > pmd_order() || (va & (nr - 1)) || va >= mm->anon_pages ||
	    nr > mm->anon_pages - va)
		return -EINVAL;
	if (order == pmd_order())
		return do_huge_pmd_anonymous_page(mm, va, write);
	f = folio_alloc_anon(order);
	if (!f)
		return -ENOMEM;
	/* zero-filled before the entries' release stores publish it; what
	 * the pages' last owner left there must not be seen (folio_zero_user) */
	clear_page_data(folio_pfn_plain(f), nr);
	ptl = pte_table_lock(mm, va, true, &pmd, &err);
	if (!ptl) {
		folio_put(f);
		return err ? err : -EEXIST;
	}
	ptes = pte_offset(pmd, va);
	for (unsigned long i = 0; i < nr; i++) {
		if (fa_load_relaxed(&ptes[i])) {
			fl_unlock(ptl);
			folio_put(f);
			return -EEXIST;
		}
	}
	/* A new exclusive folio: no one else can see it yet. */
	fa_store_relaxed(&f->mapping,
			 (struct address_space *)((uintptr_t)mm | FOLIO_MAPPING_ANON));
	fa_store_relaxed(&f->index, va);
	folio_set_flag(f, PG_anon_exclusive);	/* RMAP_EXCLUSIVE */
	/* references first (the allocation's supplies one), then the rmap */
	if (nr > 1)
		folio_ref_add(f, (int)nr - 1);
	folio_add_rmap_ptes(f, (int)nr);
	pfn = folio_pfn(f);
	/*
	 * Dirty whatever the fault: the kernel maps the shared zero page on a
	 * read fault and allocates only to write (or where the zero page is
	 * forbidden), and a page it allocates in a writable VMA gets a dirty
	 * entry (pte_mkwrite(pte_mkdirty())).  The model has no zero page, so
	 * every anon fault allocates; a clean entry here would be a state the
	 * kernel never has: a private page that another mm's MADV_FREE could
	 * make reclaim discard under this one (fuzz_ops found it: fork, the
	 * child's MADV_FREE, reclaim, and the parent's page was gone).
	 */
	for (unsigned long i = 0; i < nr; i++)
		fa_store_release(&ptes[i],
				 mk_pte(pfn + i, _PAGE_PRESENT | _PAGE_WRITE |
						 _PAGE_YOUNG | _PAGE_DIRTY));
	fl_unlock(ptl);
	return 0;
}

/* Map the pages [from, to) of a locked cached folio at window @base. */
static long map_folio_range(struct mm_struct *mm, long base, struct folio *f,
			    unsigned long from, unsigned long to, bool want_pmd)
{
	unsigned long fidx = folio_index(f), pfn = folio_pfn(f), n = 0;
	unsigned long va = (unsigned long)base + from;
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	pmd_t pmd;
	int err;

	if (want_pmd && folio_order(f) == pmd_order() && from == fidx &&
	    to == fidx + folio_nr_pages(f)) {
		_Atomic pmd_t *pmdp = pmd_offset(mm, va);

		fl_lock(&mm->pmd_lock);
		if (!fa_load_relaxed(pmdp)) {
			folio_get(f);	/* the mapping's reference, first */
			folio_add_rmap_pmd(f);
			fa_store_release(pmdp, mk_pte(pfn, _PAGE_PRESENT |
							     _PMD_LEAF |
							     _PAGE_WRITE |
							     _PAGE_YOUNG));
			n = folio_nr_pages(f);
		}
		fl_unlock(&mm->pmd_lock);
		return (long)n;
	}
	ptl = pte_table_lock(mm, va, true, &pmd, &err);
	if (!ptl)
		return 0;	/* PMD-mapped already, or no memory for a table */
	ptes = pte_offset(pmd, va);
	for (unsigned long i = 0; i < to - from; i++)
		n += fa_load_relaxed(&ptes[i]) == 0;
	if (n) {
		folio_ref_add(f, (int)n);
		folio_add_rmap_ptes(f, (int)n);
		for (unsigned long i = 0; i < to - from; i++)
			if (!fa_load_relaxed(&ptes[i]))
				fa_store_release(&ptes[i],
						 mk_pte(pfn + from - fidx + i,
							_PAGE_PRESENT | _PAGE_WRITE |
							_PAGE_YOUNG));
	}
	fl_unlock(ptl);
	return (long)n;
}

long filemap_map_pages(struct mm_struct *mm, struct address_space *mapping,
		       unsigned long index, unsigned long nr, bool pmd)
{
	long base = mm_file_window(mm, mapping), total = 0;
	unsigned long end = index + nr;

	if (base < 0 || index >= mapping->nr_slots || nr > mapping->nr_slots - index)
		return -EINVAL;
	while (index < end) {
		struct folio *f = filemap_get_folio(mapping, index);
		unsigned long next = index + 1;

		if (!f) {
			index = next;
			continue;
		}
		/*
		 * Under the folio lock, and only if still in this file: a
		 * truncate locks the folio, unmaps it, then removes it, so a
		 * mapping installed here cannot outlive the folio's cache life.
		 */
		if (folio_trylock(f)) {
			unsigned long fidx = folio_index(f);

			if (folio_mapping(f) == mapping && fidx <= index) {
				unsigned long fend = fidx + folio_nr_pages(f);

				/*
				 * Our reference since the lookup kept it from
				 * being split (the freeze fails, R1), and the
				 * lookup's reload (R5) made it the folio of
				 * @index: it still covers @index.  Mapping
				 * [index, fend) otherwise would wrap.
				 */
				VM_BUG_ON_FOLIO(index >= fend, f);

				next = fend < end ? fend : end;
				total += map_folio_range(mm, base, f, index, next, pmd);
			}
			folio_unlock(f);
		}
		folio_put(f);
		index = next;
	}
	return total;
}

/*
 * Clear a PMD leaf (pmd_lock).  Returns mappings removed (0 or 1).  With
 * @only, the leaf must map that folio: a caller that looked at the PMD
 * without the lock (an rmap walk) may find another folio's leaf by now.
 */
int zap_huge_pmd(struct mm_struct *mm, unsigned long va,
		 const struct folio *only)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	struct ptdesc *deposit = NULL;
	struct folio *f;
	pmd_t old;

	fl_lock(&mm->pmd_lock);
	old = fa_load_relaxed(pmdp);
	if (!pmd_leaf(old) || (only && pte_pfn(old) != folio_pfn(only))) {
		fl_unlock(&mm->pmd_lock);
		return 0;
	}
	old = fa_xchg_relaxed(pmdp, 0);
	f = pfn_folio(pte_pfn(old));	/* stable: the PMD holds a reference */
	folio_race_point(RP_PMD_CLEARED, f);
	if ((old & _PAGE_DIRTY) && !folio_test_anon(f))
		folio_set_dirty(f);
	folio_remove_rmap_pmd(f);
	if (folio_test_anon(f))
		deposit = pgtable_trans_huge_withdraw(mm);
	fl_unlock(&mm->pmd_lock);
	if (deposit)
		pte_free_rcu(deposit);
	folio_put(f);	/* after the entry and the rmap are gone */
	return 1;
}

struct zap_batch {
	struct folio *folio;
	int nr;
};

static long zap_pte_range(struct mm_struct *mm, unsigned long va,
			  unsigned long end)
{
	struct zap_batch batch[64];
	unsigned int nb = 0;
	long total = 0;
	struct fl_lock *ptl;
	_Atomic pte_t *ptes;
	pmd_t pmd;
	int err;

again:
	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)
		return total;
	ptes = pte_offset(pmd, va);
	while (va < end && nb < 64) {
		pte_t pte = fa_load_relaxed(&ptes[0]);
		struct folio *f;
		unsigned long pfn, n = 1;
		bool dirty;
		int map;

		if (!pte || pte_migration(pte)) {
			if (pte)	/* a migration entry holds no reference */
				fa_store_relaxed(&ptes[0], 0);
			ptes++;
			va++;
			continue;
		}
		pfn = pte_pfn(pte);
		f = pfn_folio(pfn);	/* stable: the PTE holds a reference */
		/* a run of this folio's consecutive pages: one rmap update */
		while (va + n < end) {
			pte_t next = fa_load_relaxed(&ptes[n]);

			if (!pte_present(next) || pte_pfn(next) != pfn + n ||
			    !folio_has_pfn(f, pfn + n))
				break;
			n++;
		}
		dirty = false;
		for (unsigned long i = 0; i < n; i++)
			dirty |= fa_xchg_relaxed(&ptes[i], 0) & _PAGE_DIRTY;
		if (dirty && !folio_test_anon(f))
			folio_set_dirty(f);
		map = folio_remove_rmap_ptes(f, (int)n);
		folio_unmap_maybe_queue(f, map, (int)n);
		batch[nb++] = (struct zap_batch){ f, (int)n };
		total += (long)n;
		ptes += n;
		va += n;
	}
	fl_unlock(ptl);
	/* the mmu_gather flush: references go after the table is unlocked */
	for (unsigned int i = 0; i < nb; i++)
		folio_put_refs(batch[i].folio, batch[i].nr);
	if (va < end) {
		nb = 0;
		goto again;
	}
	return total;
}

long zap_page_range(struct mm_struct *mm, unsigned long va, unsigned long nr)
{
	unsigned long end = va + nr, pmask = pmd_nr() - 1;
	long total = 0;

	if (end > mm->nr_pmds << pmd_order())
		end = mm->nr_pmds << pmd_order();
	while (va < end) {
		unsigned long pend = (va | pmask) + 1;
		pmd_t pmd = pmd_settled(mm, va);

		if (pend > end)
			pend = end;
		if (pmd_leaf(pmd)) {
			if (!(va & pmask) && pend - va == pmd_nr()) {
				total += zap_huge_pmd(mm, va, NULL);
				continue;	/* recheck: it may have changed */
			}
			split_huge_pmd(mm, va);
			continue;
		}
		if (pmd_table(pmd))
			total += zap_pte_range(mm, va, pend);
		va = pend;
	}
	return total;
}

bool touch_page(struct mm_struct *mm, unsigned long va, bool write)
{
	_Atomic pte_t *p;
	pte_t old, bits = _PAGE_YOUNG | (write ? _PAGE_DIRTY : 0);
	pmd_t pmd;
	bool ok = false;

	if (va >= mm->nr_pmds << pmd_order())
		return false;
	/* the hardware walker: lockless, tables kept alive by RCU */
	rcu_read_lock_model();
	pmd = fa_load_acquire(pmd_offset(mm, va));
	if (pmd_leaf(pmd))
		p = pmd_offset(mm, va);
	else if (pmd_table(pmd))
		p = pte_offset(pmd, va);
	else
		goto out;
	old = fa_load_relaxed(p);
	do {
		/* set A/D only on a present (writable, for D) entry */
		if (!pte_present(old) || (write && !(old & _PAGE_WRITE)))
			goto out;
	} while (!fa_cas_full(p, &old, old | bits));
	ok = true;
out:
	rcu_read_unlock_model();
	return ok;
}

/*
 * touch_page_data's slow path for an empty entry: a CPU that finds nothing
 * takes a fault, and the fault looks again under the lock that guards the
 * entry (the PMD lock for a PMD, the PTL for a PTE).  Whoever empties an
 * entry for a moment holds that lock meanwhile: reclaim clears the PTEs
 * it judges and restores them on a failed verdict; collapse keeps the PMD
 * none while it holds the PMD lock.  Returns true if the entry is still
 * empty under the lock (nothing is mapped: the access faults).
 */
static bool entry_empty_locked(struct mm_struct *mm, _Atomic pmd_t *pmdp,
			       pmd_t pmd, _Atomic pte_t *p)
{
	struct fl_lock *ptl;
	bool empty;

	if (p == pmdp) {	/* the PMD itself */
		fl_lock(&mm->pmd_lock);
		empty = !fa_load_relaxed(pmdp);
		fl_unlock(&mm->pmd_lock);
		return empty;
	}
	ptl = pte_lock_pmd(pmdp, pmd);
	if (!ptl)
		return false;	/* the table went meanwhile: look again */
	empty = !fa_load_relaxed(p);
	fl_unlock(ptl);
	return empty;
}

/*
 * touch_page_data's step 6: the entry @p, if it still maps @entry_pfn,
 * ends dirty.  A MADV_FREE that cleared D after our CAS set it, and before
 * our data landed, is undone here (the kernel: MADV_FREE flushes the TLB
 * after clearing D, so a store that lands later walks again and sets it).
 */
static void ensure_dirty(_Atomic pte_t *p, unsigned long entry_pfn)
{
	pte_t cur = fa_load_relaxed(p);

	while (pte_present(cur) && pte_pfn(cur) == entry_pfn &&
	       !(cur & _PAGE_DIRTY) && !fa_cas_full(p, &cur, cur | _PAGE_DIRTY))
		;
}

/*
 * A CPU load or store at @va, with its data (pgtable.h).  The steps and
 * the races they close:
 *   1. walk (RCU stands for the walker's disabled interrupts): the PMD,
 *      then the PTE; empty: look again under the entry's lock (a fault);
 *      a migration entry or an invalidated PMD: -EAGAIN (a fault waits);
 *   2. a reference on the page's folio (folio_try_get_pfn: memmap word
 *      rechecked), fully ordered (RP_TOUCH_GOT): frozen or free, -EAGAIN;
 *   3. recheck the PMD (fully ordered): pairs with collapse's clear, full
 *      barrier, refcount read (R4) exactly as GUP-fast's recheck does,
 *      so a store never lands in a source page collapse is copying;
 *   4. set young (and dirty, for a store) with a CAS on the entry: the
 *      access happens through the entry as it was rechecked, or we look
 *      again (a zap, reclaim or migration changed it);
 *   5. the data access, on a page our reference keeps from being freed,
 *      frozen (split, migration, reclaim's freeze fail) or copied away;
 *   6. a store: if a MADV_FREE cleared the dirty bit between 4 and 5, set
 *      it again (the entry still maps our page): a store always leaves a
 *      dirty entry, so lazyfree reclaim never discards written data;
 *   7. drop the reference.
 * Differs from the kernel: the hardware takes no reference.  The kernel
 * gets the same guarantees from the TLB flush every unmapping path does
 * before it copies, frees or judges a page clean; the model has no TLB,
 * and a reference held across the access is what stands for the flush.
 */
/*
 * The model's TLB flush for stores.  A CPU store checks its entry, then
 * lands its data (touch_page_data): an entry write-protected in between
 * (a fork) does not stop it, as a stale writable TLB entry does not stop
 * the hardware until the flush.  So a store counts itself in flight from
 * before its entry check to after its data, in one of two slots (SRCU's
 * scheme: the slot of the epoch's parity when it began), and
 * mm_flush_stores waits for both slots to drain, flipping the epoch before
 * each wait so that new stores go to the other slot and cannot starve it.
 * The Dekker pair: the flusher changed entries, then (full fence) flips
 * and reads a slot; a store adds itself (full), fences, then reads its
 * entry.  Either the flusher sees the store counted (and waits for it),
 * or the store sees the changed entry (and does not land through it).
 * A store that read the epoch before a flip and counts itself after the
 * flusher looked at that slot sees the entry too (its fence is later).
 */
static unsigned int store_begin(struct mm_struct *mm)
{
	unsigned int slot = fa_load_full(&mm->store_epoch) & 1;

	(void)fa_add_return_full(&mm->stores[slot], 1);
	fa_fence_full();
	return slot;
}

static void store_end(struct mm_struct *mm, unsigned int slot)
{
	/* fully ordered: the data landed before the flusher sees us gone */
	(void)fa_sub_return_full(&mm->stores[slot], 1);
}

void mm_flush_stores(struct mm_struct *mm)
{
	fa_fence_full();	/* the entries changed before we look */
	for (int k = 0; k < 2; k++) {
		unsigned long old = fa_add_return_full(&mm->store_epoch, 1) - 1;

		/* a store between its check and its data: its thread may be
		 * preempted there, so give the CPU away */
		while (fa_load_full(&mm->stores[old & 1]) != 0)
			fl_yield();
	}
}

int touch_page_data(struct mm_struct *mm, unsigned long va, bool write,
		    uint64_t *data)
{
	_Atomic pmd_t *pmdp;
	_Atomic pte_t *p;
	pte_t old, bits = _PAGE_YOUNG | (write ? _PAGE_DIRTY : 0);
	unsigned long pfn;
	folio_access_fn hook;
	struct folio *f;
	pmd_t pmd;
	int ret = -EAGAIN;
	unsigned int slot = 0;

	if (va >= mm->nr_pmds << pmd_order())
		return 0;
	pmdp = pmd_offset(mm, va);
	if (write)
		slot = store_begin(mm);
	rcu_read_lock_model();
	for (int tries = 0; tries < 4; tries++) {
		pmd = fa_load_acquire(pmdp);			/* 1 */
		if (pmd_leaf(pmd))
			p = pmdp;
		else if (pmd_table(pmd))
			p = pte_offset(pmd, va);
		else if (pmd)	/* invalidated: a split_huge_pmd runs */
			break;
		else
			p = pmdp;
		old = p == pmdp ? pmd : fa_load_relaxed(p);
		if (!old) {
			if (entry_empty_locked(mm, pmdp, pmd, p)) {
				ret = 0;
				break;
			}
			continue;
		}
		if (!pte_present(old))	/* a migration entry */
			break;
		if (write && !(old & _PAGE_WRITE)) {
			ret = 0;	/* the write fault's job (do_wp_page) */
			break;
		}
		pfn = pte_pfn(old) + (p == pmdp ? va & (pmd_nr() - 1) : 0);
		f = folio_try_get_pfn(pfn, 1);			/* 2 */
		if (!f)
			break;	/* frozen or freed under us */
		folio_race_point(RP_TOUCH_GOT, f);
		if (fa_load_full(pmdp) != pmd ||		/* 3 */
		    !fa_cas_full(p, &old, old | bits)) {	/* 4 */
			folio_put(f);
			continue;
		}
		hook = atomic_load_explicit(&folio_access_hook,
					    memory_order_relaxed);
		if (write) {					/* 5 */
			if (hook)
				hook(mm, va, pfn, FOLIO_ACCESS_STORE, *data);
			page_data_write(pfn, *data);
			if (hook)
				hook(mm, va, pfn, FOLIO_ACCESS_STORED, *data);
			ensure_dirty(p, pte_pfn(old));		/* 6 */
		} else {
			*data = page_data_read(pfn);
			if (hook)
				hook(mm, va, pfn, FOLIO_ACCESS_LOAD, *data);
		}
		folio_put(f);					/* 7 */
		ret = 1;
		break;
	}
	rcu_read_unlock_model();
	if (write)
		store_end(mm, slot);
	return ret;
}
