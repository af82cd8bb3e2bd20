/* SPDX-License-Identifier: MIT */
/*
 * ksm.c - generic page write protection (folio/ksm.h, docs/design.md 5.17):
 * merge two order-0 anon folios with equal contents into one protected
 * folio; unprotect it when one sharer is left.  The write that breaks the
 * sharing is do_wp_page's copy (cow.c: a protected folio is never reused).
 *
 * Lock order: folio locks (a, then b, both trylock), then one page-table
 * lock at a time.  The descriptor has no lock of its own: it is edited
 * and freed only under the folio lock.
 */
#include <errno.h>
#include <stddef.h>

#include "folio/gup.h"
#include "folio/ksm.h"
#include "folio/lock.h"
#include "folio/mutant.h"
#include "folio/page_data.h"
#include "folio/rcu.h"
#include "folio/slab.h"
#include "folio/window.h"
#include "internal.h"
#include "rmap.h"

struct kmem_cache *wp_desc_cache;

int wp_desc_cache_init(void)
{
	wp_desc_cache = kmem_cache_create("wp_desc", sizeof(struct wp_desc),
					  offsetof(struct wp_desc, _free), 0,
					  offsetof(struct wp_desc, _free),
					  SLAB_TYPESAFE_BY_RCU);
	return wp_desc_cache ? 0 : -ENOMEM;
}

unsigned long wp_desc_nr_active(void)
{
	struct kmem_cache_stats st;

	kmem_cache_get_stats(wp_desc_cache, &st);
	return st.nr_active;
}

void wp_desc_free(struct wp_desc *d)
{
	kmem_cache_free(wp_desc_cache, d);
}

/* Is @va listed?  Adds it if not and there is room; false if full. */
static bool sharer_add(struct wp_desc *d, unsigned long va)
{
	for (unsigned int i = 0; i < d->nr; i++)
		if (!d->s[i].mapping && d->s[i].index == va)
			return true;
	if (d->nr == WP_MAX_SHARERS)
		return false;
	d->s[d->nr++] = (struct wp_sharer){ NULL, va };
	return true;
}

/*
 * The entry of @mm at @va, locked, if it maps @pfn (a present PTE; a PMD
 * leaf maps a large folio, never ours).  NULL if not; else *ptep set and
 * the PTL returned held.
 */
static struct fl_lock *lock_entry(struct mm_struct *mm, unsigned long va,
				  unsigned long pfn, _Atomic pte_t **ptep)
{
	struct fl_lock *ptl;
	pmd_t pmd;
	pte_t pte;
	int err;

	if (va >= mm->anon_pages)
		return NULL;
	ptl = pte_table_lock(mm, va, false, &pmd, &err);
	if (!ptl)
		return NULL;
	*ptep = pte_offset(pmd, va);
	pte = fa_load_relaxed(*ptep);
	if (!pte_present(pte) || pte_pfn(pte) != pfn) {
		fl_unlock(ptl);
		return NULL;
	}
	return ptl;
}

/* Nothing holds @f but its mappings and the @held references of the
 * merger?  (The test itself; only_mapped says when it may be trusted.) */
static bool count_clean(struct folio *f, int held, int rc)
{
	int map = folio_mapcount(f);

	return rc == map + held;
}

/*
 * write_protect_page's test, after the entry was cleared (fully ordered):
 * nothing holds @f but its mappings (the cleared one is still counted: its
 * rmap goes later) and the @held references of the merger.  Fully ordered
 * load: pairs with GUP-fast's grab (full) then recheck of the entry, and
 * with a CPU access's reference (full) then its CAS on the entry.
 * @before: the count read before the clear; clean then and not now is a
 * reference that came inside the window (FW_R15).
 */
static bool only_mapped(struct folio *f, int held, int before)
{
	int rc = fa_load_full(&f->_refcount);

	if (count_clean(f, held, rc))
		return true;
	if (count_clean(f, held, before))
		folio_window(FW_R15);
	return false;
}

/*
 * Clear the entry @ptep of @f (its PTL held), then check @f's count
 * (only_mapped, the merger holding one reference).  0 with *@old the entry
 * as it was, or -EBUSY with the entry put back.
 */
static int clear_checked(_Atomic pte_t *ptep, struct folio *f, pte_t *old)
{
	int before = fa_load_relaxed(&f->_refcount);

	if (FOLIO_MUTANT_IS(wp_check_before_clear)) {
		/* the count first: a GUP-fast that grabs and rechecks
		 * before the clear below is never seen */
		if (!count_clean(f, 1, fa_load_full(&f->_refcount)))
			return -EBUSY;
		folio_race_point(RP_WP_CLEARED, f);
		*old = fa_xchg_full(ptep, 0);
		return 0;
	}
	*old = fa_xchg_full(ptep, 0);		/* ptep_clear_flush */
	folio_race_point(RP_WP_CLEARED, f);
	if (!only_mapped(f, 1, before)) {
		/* a GUP or an access in flight: as it was */
		fa_store_release(ptep, *old);
		return -EBUSY;
	}
	return 0;
}

/* Step 1: write-protect every entry mapping plain @a (at its index, in
 * any mm).  Returns the entries protected, or -EBUSY. */
static int protect_plain(struct folio *a)
{
	unsigned long va = folio_index(a), pfn = folio_pfn(a);
	struct mm_struct *mm;
	int done = 0;

	cds_list_for_each_entry(mm, &folio_world.mms, world_link) {
		_Atomic pte_t *ptep;
		struct fl_lock *ptl = lock_entry(mm, va, pfn, &ptep);
		pte_t old;

		if (!ptl)
			continue;
		if (clear_checked(ptep, a, &old)) {
			fl_unlock(ptl);
			return -EBUSY;
		}
		/*
		 * Shared before the entry is back (folio_try_share_anon_rmap,
		 * whose pin test the count above already made): a GUP-fast
		 * pin that reads the read-only entry then sees the folio not
		 * exclusive and goes to the unshare fault.
		 */
		if (!FOLIO_MUTANT_IS(wp_keep_exclusive))
			folio_clear_flag(a, PG_anon_exclusive);
		fa_fence_full();
		fa_store_release(ptep, old & ~(pte_t)_PAGE_WRITE);
		fl_unlock(ptl);
		done++;
	}
	return done;
}

/* Step 2 for one entry of @b at @va of @mm.  1 moved, 0 not mapped there. */
static int replace_one(struct mm_struct *mm, unsigned long va,
		       struct folio *a, struct folio *b)
{
	unsigned long apfn = folio_pfn(a), bpfn = folio_pfn(b);
	struct wp_desc *d = folio_wp_desc(a);
	_Atomic pte_t *ptep;
	struct fl_lock *ptl = lock_entry(mm, va, bpfn, &ptep);
	pte_t old;
	int err;

	if (!ptl)
		return 0;
	err = clear_checked(ptep, b, &old);
	if (err) {
		fl_unlock(ptl);
		return err;
	}
	/* neither page has a writer now: @a's entries are read-only and
	 * its extra references were none at step 1, @b's just checked */
	if (page_data_read(apfn) != page_data_read(bpfn))
		err = -ENOMSG;
	else if (!sharer_add(d, va))
		err = -ENOSPC;
	if (err) {
		fa_store_release(ptep, old);
		fl_unlock(ptl);
		return err;
	}
	/* replace_page: the new page's reference and rmap first */
	folio_ref_add(a, 1);
	folio_add_rmap_ptes(a, 1);
	fa_store_release(ptep, mk_pte(apfn, _PAGE_PRESENT | _PAGE_YOUNG |
					    (old & _PAGE_DIRTY)));
	folio_remove_rmap_ptes(b, 1);	/* order 0: never queued */
	fl_unlock(ptl);
	folio_put(b);	/* the entry's reference, after the table lock */
	return 1;
}

static bool mergeable(struct folio *f)
{
	return folio_test_anon(f) && !folio_test_large(f) &&
	       folio_test_swapbacked(f) && folio_mapcount(f) > 0;
}

/* Back to a plain anon folio mapped at @va, owned by @mm (folio locked). */
static void unprotect(struct folio *f, struct mm_struct *mm, unsigned long va)
{
	struct wp_desc *d = folio_wp_desc(f);

	fa_store_relaxed(&f->index, va);
	fa_store_relaxed(&f->mapping, (struct address_space *)
			 ((uintptr_t)mm | FOLIO_MAPPING_ANON));
	wp_desc_free(d);
}

int folio_write_protect_merge(struct folio *a, struct folio *b)
{
	struct address_space *plain = NULL;
	struct wp_desc *d = NULL;
	struct mm_struct *mm;
	unsigned long vb;
	bool fresh = false;
	int moved = 0, err = 0;

	if (a == b)
		return -EINVAL;
	if (!folio_trylock(a))
		return -EAGAIN;
	if (!folio_trylock(b)) {
		folio_unlock(a);
		return -EAGAIN;
	}
	/* under both locks: no merge, split, migration or MADV_FREE runs */
	if (!mergeable(a) || !mergeable(b) || folio_test_ksm(b)) {
		err = -EINVAL;
		goto out;
	}
	if (!folio_test_ksm(a)) {
		unsigned long va = folio_index(a);
		int n;

		d = kmem_cache_alloc(wp_desc_cache);
		if (!d) {
			err = -ENOMEM;
			goto out;
		}
		n = protect_plain(a);
		if (n <= 0) {	/* busy, or unmapped meanwhile */
			wp_desc_free(d);
			err = n < 0 ? n : -EINVAL;
			goto out;
		}
		d->nr = 0;
		sharer_add(d, va);
		plain = folio_mapping(a);
		/* every entry of @a is read-only, and the lock we hold keeps
		 * rmap walkers from reading the mapping until we are done */
		fa_store_relaxed(&a->mapping, (struct address_space *)
				 ((uintptr_t)d | FOLIO_MAPPING_KSM));
		fresh = true;
	}
	vb = folio_index(b);
	cds_list_for_each_entry(mm, &folio_world.mms, world_link) {
		int r = replace_one(mm, vb, a, b);

		if (r < 0) {
			err = r;
			break;
		}
		moved += r;
	}
	if (!moved && fresh) {	/* nothing shares it: as it was, read-only */
		fa_store_relaxed(&a->mapping, plain);
		wp_desc_free(d);
	}
out:
	folio_unlock(b);
	folio_unlock(a);
	if (moved)
		return moved;
	return err ? err : -EINVAL;
}

int ksm_merge_pages(struct mm_struct *ma, unsigned long va,
		    struct mm_struct *mb, unsigned long vb)
{
	struct folio *a = NULL, *b = NULL;
	unsigned long pa, pb;
	int ret = -EFAULT;

	rcu_read_lock_model();
	pa = mm_walk_pfn(ma, va);
	if (pa != ~0ul)
		a = folio_try_get_pfn(pa, 1);
	pb = mm_walk_pfn(mb, vb);
	if (pb != ~0ul)
		b = folio_try_get_pfn(pb, 1);
	rcu_read_unlock_model();
	if (a && b && !folio_test_large(a) && !folio_test_large(b))
		ret = folio_write_protect_merge(a, b);
	if (b)
		folio_put(b);
	if (a)
		folio_put(a);
	return ret;
}

/*
 * Does any mm map @f at @va?  *@owner: the first that does.  Under each
 * entry's lock; a fork copying an entry into an mm already passed is
 * caught by the caller's write_protect_seq test.
 */
static bool mapped_at(struct folio *f, unsigned long va,
		      struct mm_struct **owner)
{
	unsigned long pfn = folio_pfn(f);
	struct mm_struct *mm;

	cds_list_for_each_entry(mm, &folio_world.mms, world_link) {
		_Atomic pte_t *ptep;
		struct fl_lock *ptl = lock_entry(mm, va, pfn, &ptep);

		if (ptl) {
			fl_unlock(ptl);
			*owner = mm;
			return true;
		}
	}
	return false;
}

bool ksm_try_unprotect(struct folio *f)
{
	unsigned long seqs[64];
	struct mm_struct *mm, *owner = NULL, *first = NULL;
	struct wp_desc *d;
	bool keep[WP_MAX_SHARERS];
	unsigned int n = 0, j = 0, left = 0, k;

	VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
	if (!folio_test_ksm(f))
		return false;
	d = folio_wp_desc(f);
	/* a fork copies entries only while its count is odd: read every
	 * count before (even) and after (unchanged), as GUP-fast does */
	cds_list_for_each_entry(mm, &folio_world.mms, world_link) {
		unsigned int s = fa_load_full(&mm->write_protect_seq);

		if ((s & 1) || n == 64)
			return false;
		seqs[n++] = s;
	}
	for (k = 0; k < d->nr; k++) {
		keep[k] = mapped_at(f, d->s[k].index, &owner);
		if (keep[k] && left++ == 0)
			first = owner;
	}
	cds_list_for_each_entry(mm, &folio_world.mms, world_link)
		if (fa_load_full(&mm->write_protect_seq) != seqs[j++])
			return false;
	for (k = 0, j = 0; k < d->nr; k++)
		if (keep[k])
			d->s[j++] = d->s[k];
	d->nr = j;
	if (left != 1)
		return false;
	unprotect(f, first, d->s[0].index);
	return true;
}
