/* SPDX-License-Identifier: MIT */
/*
 * gup.c - GUP-fast (O5) and unpin (O7).
 *
 * The walk takes no page-table lock; rcu_read_lock stands for the kernel's
 * local_irq_save (tables are freed through call_rcu).  For each run of
 * consecutive pages of one folio met in one table (or a PMD leaf), in
 * numbered steps:
 *   1. read the entry; decode the folio from the memmap word (a hint);
 *   2. take every reference of the run at once: folio_ref_try_add(f, refs)
 *      (fails on a free or frozen folio); PIN adds _pincount (large) or
 *      refs * (BIAS - 1) more references (small), then a full barrier;
 *   3. recheck: the first page's memmap word still encodes f (split or
 *      free+reuse between 1 and 2, R2), the run lies inside f, the PMD
 *      and every PTE of the run are unchanged (unmap, lazyfree discard,
 *      split_huge_pmd, R2d/R3);
 *   4. on any mismatch undo exactly what 2 took and stop.
 * R3 (vs lazyfree discard) is a Dekker pair: reclaim clears the PTEs, full
 * fence, reads the refcount; we do a seq_cst RMW on the refcount, then
 * seq_cst loads of the entries.  Either reclaim sees our reference (and
 * restores the PTEs) or we see the cleared PTE (and undo).
 * R14 (FOLL_PIN vs fork, fork.c): write_protect_seq read before the walk
 * (odd: give up) and after it (changed: unpin everything, return 0); and
 * after the recheck, a FOLL_PIN without FOLL_WRITE of a write-protected
 * anon entry needs the folio exclusive (gup_must_unshare).
 */
#include <errno.h>

#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/rcu.h"
#include "folio/window.h"
#include "internal.h"

bool folio_maybe_dma_pinned(const struct folio *f)
{
	if (folio_test_large(f))
		return folio_pincount(f) > 0;
	return (unsigned int)folio_ref_count(f) >= GUP_PIN_COUNTING_BIAS;
}

/* gup_put_folio: pincount first, then the references (F3). */
static void gup_put_folio(struct folio *f, int refs, unsigned int flags)
{
	if (flags & FOLL_PIN) {
		if (folio_test_large(f) && FOLIO_MUTANT_IS(unpin_ref_first)) {
			/* the put may free it: the pincount then drops on a
			 * free or reused descriptor */
			folio_put_refs(f, refs);
			fa_sub_relaxed(&folio_large(f)->_pincount, refs);
			return;
		}
		if (folio_test_large(f)) {
			int pins = fa_sub_return_relaxed(&folio_large(f)->_pincount,
							 refs);

			VM_BUG_ON_FOLIO(pins < 0, f);
		} else {
			folio_put_refs(f, refs * GUP_PIN_COUNTING_BIAS);
			return;
		}
	}
	folio_put_refs(f, refs);
}

/* Step 2: try_grab_folio_fast.  NULL if the folio is free or frozen. */
static struct folio *try_grab_folio_fast(unsigned long pfn, int refs,
					 unsigned int flags, memdesc_t *word)
{
	memdesc_t w = memmap_word_load(pfn);
	struct folio *f;

	if (!memdesc_is_folio(w))
		return NULL;
	f = memdesc_ptr(w);
	folio_race_point(RP_GUP_DECODED, f);
	if (!folio_ref_try_add(f, refs))
		return NULL;
	if (flags & FOLL_PIN) {
		if (folio_test_large(f))
			fa_add_relaxed(&folio_large(f)->_pincount, refs); /* rc, then pincount */
		else
			folio_ref_add(f, refs * (GUP_PIN_COUNTING_BIAS - 1));
		fa_fence_full();	/* smp_mb__after_atomic */
	}
	*word = w;
	return f;
}

/* Step 3 for a run [pfn, pfn + refs) of f. */
static bool folio_still_owns(struct folio *f, memdesc_t w, unsigned long pfn,
			     int refs)
{
	unsigned long off;

	if (FOLIO_MUTANT_IS(gup_no_recheck))
		return true;	/* the 2021 bug: trust the decoded folio */
	if (fa_load_full(&folio_memmap[pfn]) != w)
		return false;
	/* the run's last page is f's too (one read per statement: folio.h) */
	off = folio_pfn_offset(f, pfn);
	return off + (unsigned long)refs <= folio_nr_pages(f);
}

/* record_subpages: a plain loop the compiler can vectorise */
static void record_pfns(unsigned long *restrict out, unsigned long pfn,
			unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		out[i] = pfn + i;
}

static bool entry_ok(pte_t e, unsigned int flags)
{
	return pte_present(e) && (!(flags & FOLL_WRITE) || (e & _PAGE_WRITE));
}

/*
 * Step 3's last part, after the recheck (gup_fast_folio_allowed,
 * gup_must_unshare).  A writable anon entry implies an exclusive folio;
 * a read-only one may map a folio fork shared, which a R/O pin must not
 * hold (a later COW would leave the pin on the page the process no
 * longer maps): the slow path unshares it first.  Acquire: the kernel's
 * smp_rmb after the recheck, pairing with the exclusive clear made
 * before the entry was write-protected.
 */
static bool gup_folio_allowed(struct folio *f, pte_t e, unsigned int flags)
{
	bool anon = folio_test_anon(f);

	if ((flags & (FOLL_LONGTERM | FOLL_WRITE)) ==
		    (FOLL_LONGTERM | FOLL_WRITE) && !anon)
		return false;
	if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN ||
	    (e & _PAGE_WRITE) || !anon)
		return true;
	return fa_load_acquire(&f->flags) & (1ul << PG_anon_exclusive);
}

/*
 * One PMD's worth.  Returns pages grabbed (stops early on a problem);
 * @batched: runs of one folio per try_add, else one page per try_add.
 */
static long gup_fast_pmd(struct mm_struct *mm, unsigned long va,
			 unsigned long end, unsigned int flags,
			 unsigned long *pfns, bool batched)
{
	_Atomic pmd_t *pmdp = pmd_offset(mm, va);
	pmd_t pmd = fa_load_full(pmdp);
	long got = 0;

	if (pmd_leaf(pmd)) {
		/* gup_fast_pmd_leaf: refs = pages of the range in this PMD */
		unsigned long base = pte_pfn(pmd) + (va & (pmd_nr() - 1));

		if (!entry_ok(pmd, flags))
			return 0;
		while (va < end) {
			int refs = batched ? (int)(end - va) : 1;
			memdesc_t w;
			struct folio *f = try_grab_folio_fast(base, refs, flags, &w);

			if (!f)
				return got;
			folio_race_point(RP_GUP_GRABBED, f);
			if (!folio_still_owns(f, w, base, refs) ||
			    fa_load_full(pmdp) != pmd) {
				folio_window(FW_R2);
				gup_put_folio(f, refs, flags);
				return got;
			}
			if (!gup_folio_allowed(f, pmd, flags)) {
				gup_put_folio(f, refs, flags);
				return got;
			}
			record_pfns(pfns + got, base, (unsigned long)refs);
			got += refs;
			base += (unsigned long)refs;
			va += (unsigned long)refs;
		}
		return got;
	}
	if (!pmd_table(pmd))
		return 0;

	_Atomic pte_t *ptes = pte_offset(pmd, va);
	unsigned long n = end - va;

	for (unsigned long i = 0; i < n;) {
		pte_t pte = fa_load_full(&ptes[i]);
		unsigned long pfn = pte_pfn(pte), k = 1;
		memdesc_t w0, w;
		struct folio *f;

		if (!entry_ok(pte, flags))
			return got;
		if (batched) {
			/* the run: consecutive pages under one memmap word */
			w0 = memmap_word_load(pfn);
			while (i + k < n) {
				pte_t next = fa_load_relaxed(&ptes[i + k]);

				if (!entry_ok(next, flags) ||
				    pte_pfn(next) != pfn + k ||
				    memmap_word_load(pfn + k) != w0)
					break;
				k++;
			}
		}
		f = try_grab_folio_fast(pfn, (int)k, flags, &w);
		if (!f)
			return got;
		folio_race_point(RP_GUP_GRABBED, f);
		/*
		 * The PMD recheck after the grab (R4): collapse clears the
		 * PMD, then reads the refcounts; one of the two sees the
		 * other.  gup_no_pmd_recheck is the kernel before "mm: gup:
		 * fix the fast GUP race against THP collapse" (2022): the
		 * PTEs are rechecked, the PMD is not, and a grab after
		 * collapse's refcount read keeps a page collapse then copies
		 * away (the PTEs of the old table are still there).
		 */
		bool ok = folio_still_owns(f, w, pfn, (int)k) &&
			  (FOLIO_MUTANT_IS(gup_no_pmd_recheck) ||
			   fa_load_full(pmdp) == pmd);
		/*
		 * The write bit the unshare test goes by is the rechecked
		 * entries', not the first read's (the kernel rechecks the whole
		 * value, pte_val equality).  A write-protect merge (ksm.c) may
		 * clear exclusive and make the entry read-only between our read
		 * and our grab: judged by the writable first read, a R/O pin
		 * would land on the shared page.  (Fork's write-protect is also
		 * caught by write_protect_seq, R14; a merge has no such count.)
		 */
		pte_t seen = FOLIO_MUTANT_IS(gup_unshare_stale_pte) ? pte :
			     _PAGE_WRITE;

		for (unsigned long j = 0; ok && j < k; j++) {
			pte_t now = fa_load_full(&ptes[i + j]);

			ok = entry_ok(now, flags) && pte_pfn(now) == pfn + j;
			if (!FOLIO_MUTANT_IS(gup_unshare_stale_pte))
				seen &= now;
		}
		if (!ok) {
			folio_window(FW_R2);
			gup_put_folio(f, (int)k, flags);
			return got;
		}
		if (!gup_folio_allowed(f, seen, flags)) {
			gup_put_folio(f, (int)k, flags);
			return got;
		}
		record_pfns(pfns + got, pfn, k);
		got += (long)k;
		i += k;
	}
	return got;
}

static long do_gup_fast(struct mm_struct *mm, unsigned long va,
			unsigned long nr, unsigned int flags,
			unsigned long *pfns, bool batched)
{
	unsigned long end = va + nr, limit = mm->nr_pmds << pmd_order();
	unsigned int seq = 0;
	long got = 0;

	if (!(flags & FOLL_GET) == !(flags & FOLL_PIN) || va >= limit ||
	    nr > limit - va)
		return 0;
	if (flags & FOLL_PIN) {
		/* raw_seqcount_try_begin: a fork is write-protecting */
		seq = fa_load_full(&mm->write_protect_seq);
		if (seq & 1)
			return 0;
	}
	rcu_read_lock_model();	/* local_irq_save: tables stay */
	while (va < end) {
		unsigned long pend = (va | (pmd_nr() - 1)) + 1;
		long n;

		if (pend > end)
			pend = end;
		n = gup_fast_pmd(mm, va, pend, flags, pfns + got, batched);
		got += n;
		if ((unsigned long)n != pend - va)
			break;
		va = pend;
	}
	rcu_read_unlock_model();
	/* read_seqcount_retry: a fork ran meanwhile and may have shared a
	 * page we pinned (R14): give every pin back */
	if ((flags & FOLL_PIN) && got &&
	    fa_load_full(&mm->write_protect_seq) != seq) {
		folio_window(FW_R14);
		unpin_user_pages(pfns, (unsigned long)got, flags);
		return 0;
	}
	return got;
}

long gup_fast(struct mm_struct *mm, unsigned long va, unsigned long nr,
	      unsigned int flags, unsigned long *pfns)
{
	return do_gup_fast(mm, va, nr, flags, pfns, true);
}

long gup_fast_unbatched(struct mm_struct *mm, unsigned long va,
			unsigned long nr, unsigned int flags,
			unsigned long *pfns)
{
	return do_gup_fast(mm, va, nr, flags, pfns, false);
}

/* The fault that lets GUP-fast go past @va: 0 (try again) or -errno. */
static int gup_fault(struct mm_struct *mm, unsigned long va,
		     unsigned int flags)
{
	int r;

	if (va >= mm->anon_pages) {	/* a file window: shared mappings */
		if ((flags & (FOLL_LONGTERM | FOLL_WRITE)) ==
		    (FOLL_LONGTERM | FOLL_WRITE))
			return -EFAULT;
		r = touch_page(mm, va, false) ? 0 : -EFAULT;
		return r;
	}
	if (flags & FOLL_WRITE)
		r = do_wp_page(mm, va, false);
	else if (flags & FOLL_PIN)
		r = do_wp_page(mm, va, true);
	else
		r = touch_page(mm, va, false) ? 0 : -EFAULT;
	return r == -EAGAIN ? 0 : r < 0 ? r : 0;
}

long get_user_pages(struct mm_struct *mm, unsigned long va, unsigned long nr,
		    unsigned int flags, unsigned long *pfns)
{
	unsigned long got = 0, limit = mm->nr_pmds << pmd_order();
	int tries = 0, err = 0;

	if (!(flags & FOLL_GET) == !(flags & FOLL_PIN) ||
	    ((flags & FOLL_LONGTERM) && !(flags & FOLL_PIN)))
		return -EINVAL;
	if (va >= limit || nr > limit - va)
		return -EFAULT;
	while (got < nr) {
		long n = gup_fast(mm, va + got, nr - got, flags, pfns + got);

		got += (unsigned long)n;
		if (got == nr)
			break;
		tries = n ? 1 : tries + 1;
		if (tries > 4) {
			err = -EAGAIN;
			break;
		}
		err = gup_fault(mm, va + got, flags);
		if (err)
			break;
	}
	return got ? (long)got : err ? err : -EFAULT;
}

/* gup_folio_next: the maximal run of entries in the same folio. */
static unsigned long folio_run(const unsigned long *pfns, unsigned long nr,
			       struct folio **fp)
{
	struct folio *f = pfn_folio(pfns[0]);	/* stable: we hold it */
	unsigned long k = 1;

	while (k < nr && pfn_folio(pfns[k]) == f)
		k++;
	*fp = f;
	return k;
}

void unpin_user_pages(const unsigned long *pfns, unsigned long nr,
		      unsigned int flags)
{
	for (unsigned long i = 0; i < nr;) {
		struct folio *f;
		unsigned long k = folio_run(pfns + i, nr - i, &f);

		gup_put_folio(f, (int)k, flags);
		i += k;
	}
}

void unpin_user_pages_unbatched(const unsigned long *pfns, unsigned long nr,
				unsigned int flags)
{
	for (unsigned long i = 0; i < nr; i++)
		gup_put_folio(pfn_folio(pfns[i]), 1, flags);
}

void unpin_user_pages_dirty_lock(const unsigned long *pfns, unsigned long nr,
				 unsigned int flags)
{
	for (unsigned long i = 0; i < nr;) {
		struct folio *f;
		unsigned long k = folio_run(pfns + i, nr - i, &f);

		/* R9: the writer's dirty mark lands before its references go */
		if (!folio_test_dirty(f)) {
			folio_lock(f);
			folio_set_dirty(f);
			folio_unlock(f);
		}
		gup_put_folio(f, (int)k, flags);
		i += k;
	}
}
