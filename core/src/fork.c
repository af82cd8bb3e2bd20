/* SPDX-License-Identifier: MIT */
/*
 * fork.c - fork of an mm's private anon memory (kernel: copy_page_range,
 * copy_present_ptes, copy_huge_pmd, __folio_try_dup_anon_rmap).
 *
 * The pin protocol (docs/design.md 5.13, R14).  A pinned exclusive page
 * must never become shared: a later write fault in the parent would copy
 * it, and the pin (DMA) would keep the old page the parent no longer
 * maps.  So fork copies such a page for the child instead of sharing it.
 * The check "maybe pinned?" and the write-protect that makes the page
 * shared are two steps; a GUP-fast pin landing between them, or after the
 * check while the parent's PTE is still writable, would pin a page that
 * is about to be shared.  Closed as the kernel does:
 *   fork:     write_protect_seq++ (odd, fully ordered), then per entry
 *             under the PTL: maybe pinned?  (fully ordered load) ...
 *             share: clear exclusive, write-protect; ... seq++ (even);
 *   GUP-fast: seq read (odd: give up), pin (fully ordered RMW), recheck
 *             the entry; at the end seq read again: changed -> unpin
 *             everything and return 0.
 * A pin whose increment fork's check did not see started (seq read)
 * before fork's first increment was visible, or after it; either way its
 * final seq read sees a change (seq_cst: the increments are totally
 * ordered with the pin and the loads) and the pin is dropped.
 *
 * The store protocol (docs/design.md 5.13): a CPU store checks its entry
 * (writable), then lands its data; fork may write-protect the entry and
 * share the page in between.  The kernel's fork flushes the TLB before it
 * drops the mmap lock, and the parent's write fault, which copies the
 * page, needs that lock: the copy has the store.  The model: fork ends
 * by waiting for the stores in flight through the parent (mm_flush_stores,
 * memory.c) before its count is even again, and a COW of an mm whose
 * count is odd waits (cow.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/page_data.h"
#include "folio/rcu.h"
#include "internal.h"
#include "rmap.h"

/* Everything a fork may allocate, taken before anything changes. */
struct fork_alloc {
	struct ptdesc **tables;		/* child page tables and deposits */
	unsigned long nt, ut;
	struct folio **copies;		/* order-0 anon copies of pinned pages */
	unsigned long nc, uc;
	struct folio *spare;		/* one allocated on the way */
};

/*
 * fork_count's guess at "copied, not shared", from a folio it holds no
 * reference to: its order may change under us (a split), so the pincount
 * is read only through a descriptor that has the field for life
 * (PG_large_desc), never through folio_large()'s order check.
 */
static bool maybe_pinned_exclusive_racy(struct folio *f)
{
	if (!folio_test_anon(f) || !folio_test_anon_exclusive(f))
		return false;
	if (folio_test_flag(f, PG_large_desc) &&
	    fa_load_relaxed(&large_folio_desc(f)->_pincount) > 0)
		return true;
	return (unsigned int)folio_ref_count(f) >= GUP_PIN_COUNTING_BIAS;
}

/*
 * Count what fork will need: one table per populated PMD, one copy per
 * page of a pinned exclusive folio.  Unlocked reads of a changing parent:
 * an estimate (exact when nothing runs beside the fork); a shortfall is
 * allocated on the way.  pfn_folio without a reference reads a possibly
 * freed descriptor: typesafe memory, and only an estimate depends on it.
 */
static void fork_count(struct mm_struct *src, unsigned long pmds,
		       unsigned long *tables, unsigned long *copies)
{
	unsigned long nr = pmd_nr();

	*tables = *copies = 0;
	for (unsigned long p = 0; p < pmds; p++) {
		pmd_t pmd = fa_load_acquire(&src->pmds[p]);
		_Atomic pte_t *ptes;
		struct folio *f;

		if (pmd_leaf(pmd)) {
			f = pfn_folio(pte_pfn(pmd));
			++*tables;
			if (f && maybe_pinned_exclusive_racy(f))
				*copies += nr;
			continue;
		}
		if (!pmd_table(pmd))
			continue;
		++*tables;
		ptes = pte_offset(pmd, p * nr);
		for (unsigned long i = 0; i < nr; i++) {
			pte_t pte = fa_load_relaxed(&ptes[i]);

			if (pte_present(pte) && (f = pfn_folio(pte_pfn(pte))) &&
			    maybe_pinned_exclusive_racy(f))
				++*copies;
		}
	}
}

static void fork_alloc_free(struct fork_alloc *a)
{
	for (unsigned long i = a->ut; i < a->nt; i++)
		pte_free_rcu(a->tables[i]);
	for (unsigned long i = a->uc; i < a->nc; i++)
		folio_put(a->copies[i]);
	if (a->spare)
		folio_put(a->spare);
	free(a->tables);
	free(a->copies);
}

static int fork_alloc(struct fork_alloc *a, unsigned long tables,
		      unsigned long copies)
{
	*a = (struct fork_alloc){ 0 };
	a->tables = calloc(tables + 1, sizeof(*a->tables));
	a->copies = calloc(copies + 1, sizeof(*a->copies));
	if (!a->tables || !a->copies)
		goto fail;
	for (; a->nt < tables; a->nt++)
		if (!(a->tables[a->nt] = pte_alloc_one()))
			goto fail;
	for (; a->nc < copies; a->nc++)
		if (!(a->copies[a->nc] = folio_alloc_anon(0)))
			goto fail;
	return 0;
fail:
	fork_alloc_free(a);
	return -ENOMEM;
}

static struct ptdesc *take_table(struct fork_alloc *a)
{
	return a->ut < a->nt ? a->tables[a->ut++] : pte_alloc_one();
}

static struct folio *take_copy(struct fork_alloc *a)
{
	struct folio *c = a->spare;

	if (a->uc < a->nc)
		return a->copies[a->uc++];
	a->spare = NULL;
	return c;
}

/* Two locks of the two mms, the lower mm id first (a reverse fork). */
static void lock2(struct fl_lock *ls, struct fl_lock *ld,
		  const struct mm_struct *src, const struct mm_struct *dst)
{
	if (src->id < dst->id) {
		fl_lock(ls);
		fl_lock(ld);
	} else {
		fl_lock(ld);
		fl_lock(ls);
	}
}

static void unlock2(struct fl_lock *ls, struct fl_lock *ld)
{
	fl_unlock(ld);
	fl_unlock(ls);
}

/* Both tables' PTLs, lower mm id first, each rechecked (pte_lock_pmd). */
static bool lock2_tables(struct mm_struct *src, struct mm_struct *dst,
			 unsigned long va, pmd_t spmd, pmd_t dpmd,
			 struct fl_lock **sptl, struct fl_lock **dptl)
{
	bool src_first = src->id < dst->id;
	struct fl_lock *a, *b;

	a = src_first ? pte_lock_pmd(pmd_offset(src, va), spmd) :
			pte_lock_pmd(pmd_offset(dst, va), dpmd);
	if (!a)
		return false;
	b = src_first ? pte_lock_pmd(pmd_offset(dst, va), dpmd) :
			pte_lock_pmd(pmd_offset(src, va), spmd);
	if (!b) {
		fl_unlock(a);
		return false;
	}
	*sptl = src_first ? a : b;
	*dptl = src_first ? b : a;
	return true;
}

/*
 * The child's PTE table at @va: install one if the PMD is none.  NULL if
 * the child has a leaf there (it faulted its own THP since the zap) or no
 * memory.
 */
static bool child_table(struct mm_struct *dst, unsigned long va,
			struct fork_alloc *a, pmd_t *pmdval)
{
	_Atomic pmd_t *pmdp = pmd_offset(dst, va);
	pmd_t pmd = fa_load_acquire(pmdp);
	struct ptdesc *pt;

	if (pmd_table(pmd)) {
		*pmdval = pmd;
		return true;
	}
	if (pmd)
		return false;
	pt = take_table(a);
	if (!pt)
		return false;
	fl_lock(&dst->pmd_lock);
	pmd = fa_load_relaxed(pmdp);
	if (!pmd) {
		pmd = mk_pte(pt->pfn, _PAGE_PRESENT | _PMD_TABLE);
		fa_store_release(pmdp, pmd);	/* the zeroed table first */
		pt = NULL;
	}
	fl_unlock(&dst->pmd_lock);
	if (pt)
		pte_free_rcu(pt);
	*pmdval = pmd;
	return pmd_table(pmd);
}

/*
 * The child's copy of a pinned page @src_pfn: a new exclusive order-0
 * folio with its data (copy_present_page).  The parent's entry stays
 * writable: a store of the parent racing with the copy may or may not be
 * in the child's page, as in the kernel (fork with writers running).
 */
static pte_t copy_page_for_child(struct folio *c, struct mm_struct *dst,
				 unsigned long va, unsigned long src_pfn)
{
	copy_page_data(folio_pfn_plain(c), src_pfn, 1);
	fa_store_relaxed(&c->mapping, (struct address_space *)
			 ((uintptr_t)dst | FOLIO_MAPPING_ANON));
	fa_store_relaxed(&c->index, va);
	folio_set_flag(c, PG_anon_exclusive);
	/* the allocation's reference becomes the PTE's */
	folio_add_rmap_ptes(c, 1);
	return mk_pte(folio_pfn(c), _PAGE_PRESENT | _PAGE_WRITE | _PAGE_DIRTY |
				    _PAGE_YOUNG);
}

/*
 * Share one present parent entry @sp (PTL held) mapping @f: reference and
 * rmap first, then exclusive cleared, then the parent write-protected.
 * Returns the child's entry.  A hardware A/D update races only with the
 * atomic AND, which keeps it.
 */
static pte_t share_pte(_Atomic pte_t *sp, struct folio *f, int nr_maps,
		       bool pmd)
{
	pte_t old;

	folio_ref_add(f, 1);
	if (pmd)
		folio_add_rmap_pmd(f);
	else
		folio_add_rmap_ptes(f, nr_maps);
	folio_clear_flag(f, PG_anon_exclusive);
	folio_race_point(RP_FORK_SHARED, f);
	old = fa_and_relaxed(sp, ~(pte_t)_PAGE_WRITE);
	return old & ~(pte_t)(_PAGE_WRITE | _PAGE_YOUNG);	/* pte_mkold */
}

/*
 * The anon-exclusive flag is per folio: once fork shares one page of a
 * PTE-mapped large folio, every parent entry of it must be read-only (a
 * writable entry means an exclusive folio, and GUP-fast pins through it
 * without asking).  The kernel's copy_present_ptes write-protects the
 * whole batch of the folio at once; here its other entries in the table
 * (a folio lies inside one table) are, whether or not they get shared
 * below: the child may have faulted its own page into one of their
 * slots since the zap, or the fork may stop with -ENOMEM before them.
 */
static void wrprotect_folio_ptes(_Atomic pte_t *sptes, const struct folio *f)
{
	unsigned long nr = pmd_nr();

	if (!folio_test_large(f))
		return;
	for (unsigned long j = 0; j < nr; j++) {
		pte_t e = fa_load_relaxed(&sptes[j]);

		if (pte_present(e) && (e & _PAGE_WRITE) &&
		    folio_has_pfn(f, pte_pfn(e)))
			fa_and_relaxed(&sptes[j], ~(pte_t)_PAGE_WRITE);
	}
}

/*
 * One parent PTE table -> the child's.  Returns entries done, or -ENOMEM.
 * A migration entry (a split running) is not copied: fork waits for it to
 * become present again, as a fault would (migration_entry_wait).
 */
static long fork_ptes(struct mm_struct *dst, struct mm_struct *src,
		      unsigned long va, pmd_t spmd, struct fork_alloc *a)
{
	unsigned long nr = pmd_nr();
	_Atomic pte_t *sptes = pte_offset(spmd, va), *dptes;
	struct fl_lock *sptl, *dptl;
	pmd_t dpmd;
	long done = 0;
	unsigned long i = 0;

	if (!child_table(dst, va, a, &dpmd))
		return fa_load_acquire(pmd_offset(dst, va)) ? 0 : -ENOMEM;
	dptes = pte_offset(dpmd, va);
again:
	/* both tables may be collapsed meanwhile: lock under RCU, recheck
	 * both PMDs (pte_table_lock's protocol); -EAGAIN: look again */
	if (!lock2_tables(src, dst, va, spmd, dpmd, &sptl, &dptl))
		return -EAGAIN;
	for (; i < nr; i++) {
		pte_t sp = fa_load_relaxed(&sptes[i]), dp;
		struct folio *f, *c;

		if (!sp || fa_load_relaxed(&dptes[i]))
			continue;	/* nothing, or the child faulted here */
		/* (an entry skipped so, of a folio shared here, was
		 * write-protected by wrprotect_folio_ptes) */
		if (pte_migration(sp)) {
			/* wait (outside the locks) and look at the PMD again:
			 * the entries done so far are skipped then (the
			 * child's slots are taken) */
			unlock2(sptl, dptl);
			fa_spin_hint();
			return -EAGAIN;
		}
		f = pfn_folio(pte_pfn(sp));	/* stable: the PTE's reference */
		if (!folio_test_anon(f))
			continue;
		/*
		 * __folio_try_dup_anon_rmap: seq_cst, after our odd
		 * write_protect_seq (R14).  A large folio counts its pins as
		 * a whole: every page of it is copied.
		 */
		if (folio_test_anon_exclusive(f) &&
		    (folio_test_large(f) ?
			     fa_load_full(&folio_large(f)->_pincount) > 0 :
			     (unsigned int)fa_load_full(&f->_refcount) >=
				     GUP_PIN_COUNTING_BIAS)) {
			if (a->uc == a->nc && !a->spare) {
				/* a pin fork_count did not see: allocate
				 * outside the locks, then look again */
				unlock2(sptl, dptl);
				a->spare = folio_alloc_anon(0);
				if (!a->spare)
					return -ENOMEM;
				goto again;
			}
			c = take_copy(a);
			dp = copy_page_for_child(c, dst, va + i, pte_pfn(sp));
		} else {
			dp = share_pte(&sptes[i], f, 1, false);
			wrprotect_folio_ptes(sptes, f);
		}
		fa_store_release(&dptes[i], dp);
		done++;
	}
	unlock2(sptl, dptl);
	return done;
}

/*
 * One parent PMD leaf.  Returns entries done (1 for a leaf shared as a
 * leaf, nr for one mapped by the child's PTEs), 0 if it went meanwhile,
 * -EAGAIN to look at the PMD again (split here), -ENOMEM.
 */
static long fork_pmd_leaf(struct mm_struct *dst, struct mm_struct *src,
			  unsigned long va, struct fork_alloc *a)
{
	_Atomic pmd_t *spmdp = pmd_offset(src, va), *dpmdp = pmd_offset(dst, va);
	unsigned long nr = pmd_nr();
	struct ptdesc *deposit;
	struct folio *f;
	pmd_t sp, dp, dpmd;

	lock2(&src->pmd_lock, &dst->pmd_lock, src, dst);
	sp = fa_load_relaxed(spmdp);
	if (!pmd_leaf(sp)) {
		unlock2(&src->pmd_lock, &dst->pmd_lock);
		return -EAGAIN;
	}
	f = pfn_folio(pte_pfn(sp));	/* stable: the PMD's reference */
	if (folio_test_anon_exclusive(f) &&
	    fa_load_full(&folio_large(f)->_pincount) > 0) {
		/* copy_huge_pmd's -EBUSY: split it, copy page by page */
		unlock2(&src->pmd_lock, &dst->pmd_lock);
		split_huge_pmd_folio(src, va, f);
		return -EAGAIN;
	}
	dp = fa_load_relaxed(dpmdp);
	if (!dp) {
		deposit = take_table(a);
		if (!deposit) {
			unlock2(&src->pmd_lock, &dst->pmd_lock);
			return -ENOMEM;
		}
		pgtable_trans_huge_deposit(dst, deposit);
		dp = share_pte(spmdp, f, 0, true);
		fa_store_release(dpmdp, dp);
		unlock2(&src->pmd_lock, &dst->pmd_lock);
		return 1;
	}
	unlock2(&src->pmd_lock, &dst->pmd_lock);
	if (!pmd_table(dp))
		return 0;	/* the child has its own leaf there */
	/*
	 * The child kept an (empty) page table here: map the THP by PTEs
	 * in it.  The parent's PMD lock keeps the leaf (and so the folio)
	 * while we fill the child's table under its PTL: no path takes a
	 * PMD lock while holding a PTL.
	 */
	fl_lock(&src->pmd_lock);
	sp = fa_load_relaxed(spmdp);
	if (!pmd_leaf(sp) || pfn_folio(pte_pfn(sp)) != f ||
	    (folio_test_anon_exclusive(f) &&
	     fa_load_full(&folio_large(f)->_pincount) > 0)) {
		/* (a pin on a shared folio is a GUP-fast's passing one,
		 * about to be given back: fuzz_sched found fork spinning on
		 * it here, waiting for a pin that did not matter) */
		fl_unlock(&src->pmd_lock);
		return -EAGAIN;
	}
	dpmd = dp;
	{
		struct fl_lock *dptl;
		_Atomic pte_t *dptes = pte_offset(dpmd, va);
		unsigned long pfn = pte_pfn(sp);
		pte_t bits;

		dptl = pte_lock_pmd(dpmdp, dpmd);
		if (!dptl) {	/* collapsed meanwhile */
			fl_unlock(&src->pmd_lock);
			return -EAGAIN;
		}
		for (unsigned long i = 0; i < nr; i++)
			if (fa_load_relaxed(&dptes[i])) {
				fl_unlock(dptl);
				fl_unlock(&src->pmd_lock);
				return 0;	/* the child faulted here */
			}
		folio_ref_add(f, (int)nr);
		folio_add_rmap_ptes(f, (int)nr);
		folio_clear_flag(f, PG_anon_exclusive);
		folio_race_point(RP_FORK_SHARED, f);
		bits = fa_and_relaxed(spmdp, ~(pmd_t)_PAGE_WRITE) &
		       (_PAGE_DIRTY | _PAGE_PRESENT);
		for (unsigned long i = 0; i < nr; i++)
			fa_store_release(&dptes[i], mk_pte(pfn + i, bits));
		fl_unlock(dptl);
	}
	fl_unlock(&src->pmd_lock);
	return (long)nr;
}

long mm_fork(struct mm_struct *dst, struct mm_struct *src)
{
	unsigned long pmds, tables, copies, nr = pmd_nr();
	struct fork_alloc a;
	long done = 0, n;
	int err;

	if (dst == src || dst->anon_pages < src->anon_pages)
		return -EINVAL;
	pmds = src->anon_pages >> pmd_order();
	fl_lock(&src->fork_lock);	/* mmap_write_lock(src) */
	rcu_read_lock_model();	/* the tables it reads may be collapsed */
	fork_count(src, pmds, &tables, &copies);
	rcu_read_unlock_model();
	err = fork_alloc(&a, tables, copies);
	if (err) {
		fl_unlock(&src->fork_lock);
		return err;
	}
	/* the previous child exits */
	zap_page_range(dst, 0, dst->anon_pages);
	/* raw_write_seqcount_begin: odd, before any entry is looked at */
	if (FOLIO_MUTANT_IS(fork_seq_relaxed))
		/* unordered: the odd count may become visible only after
		 * the pin counts below were read */
		fa_add_relaxed(&src->write_protect_seq, 1);
	else
		(void)fa_add_return_full(&src->write_protect_seq, 1);
	for (unsigned long p = 0; p < pmds; p++) {
		unsigned long va = p * nr;
		pmd_t pmd = pmd_settled(src, va);

		if (pmd_leaf(pmd)) {
			n = fork_pmd_leaf(dst, src, va, &a);
		} else if (pmd_table(pmd)) {
			n = fork_ptes(dst, src, va, pmd, &a);
		} else if (pmd) {
			/* invalidated: a split_huge_pmd is filling its
			 * table; wait for it (its PTEs are to be copied) */
			fa_spin_hint();
			p--;
			continue;
		} else {
			continue;
		}
		if (n == -EAGAIN) {	/* split or collapsed meanwhile: again */
			fa_spin_hint();	/* (whoever we wait for must run) */
			p--;
			continue;
		}
		if (n < 0) {
			err = (int)n;
			break;
		}
		done += n;
	}
	/*
	 * flush_tlb_mm: a CPU store that went through a parent entry before
	 * we write-protected it may still be landing in the page we now share
	 * (touch_page_data counts itself from its entry check to its data).
	 * Wait for every such store: a COW of the parent copies the page only
	 * after it landed.  The COW waits meanwhile (the odd count: the
	 * kernel's fault waits for the mmap lock); else it would copy the
	 * page, and the store land on the child's alone.
	 */
	mm_flush_stores(src);
	(void)fa_add_return_full(&src->write_protect_seq, 1);	/* even again */
	fl_unlock(&src->fork_lock);
	if (err)	/* fork failed: the child goes */
		zap_page_range(dst, 0, dst->anon_pages);
	fork_alloc_free(&a);
	return err ? err : done;
}
