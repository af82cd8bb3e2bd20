/* SPDX-License-Identifier: MIT */
/*
 * exec.c - see exec.h.  The core is reached only through its public
 * headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "folio/folio.h"
#include "folio/fork.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/migrate.h"
#include "folio/lock.h"
#include "folio/memmap.h"
#include "folio/page_ref.h"
#include "folio/rcu.h"
#include "folio/vmscan.h"

exec_bug_fn exec_on_bug;

void exec_bug(const char *rule, const struct folio *f, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (exec_on_bug) {
		exec_on_bug(rule, f, detail);
		return;
	}
	fprintf(stderr, "exec: %s: %s\n", rule, detail);
	abort();
}

/*
 * The caller's checks, with plain loads (not steps: nothing can run
 * between the core's return and these).  A lookup's folio is at @index of
 * @m, or was truncated since (mapping NULL): it cannot have been split or
 * freed, our reference forbids both.  A pfn get's folio covers @pfn.
 */
static void check_lookup(struct address_space *m, unsigned long index,
			 const struct folio *f)
{
	const struct address_space *mapping = atomic_load(&f->mapping);
	unsigned long idx = atomic_load(&f->index);
	unsigned long nr = 1ul << atomic_load(&f->order);

	if (mapping && (mapping != m || index < idx || index - idx >= nr))
		exec_bug("lookup-identity", f,
		    "lookup of index %lu returned the folio of %s index %lu "
		    "(%lu pages)", index, mapping == m ? "this file, at" :
		    ((uintptr_t)mapping & FOLIO_MAPPING_ANON) ? "an mm, va" :
		    "another file, at", idx, nr);
}

static void check_pfn(unsigned long pfn, const struct folio *f)
{
	unsigned long first = atomic_load(&f->pfn);
	unsigned long nr = 1ul << atomic_load(&f->order);

	if (pfn < first || pfn - first >= nr)
		exec_bug("pfn-identity", f, "a get of pfn %lu returned the folio of "
		    "pfns %lu..%lu", pfn, first, first + nr - 1);
}

int exec_free_handle(const struct exec_ctx *x)
{
	for (int h = 0; h < PROG_NR_HANDLES; h++)
		if (x->h[h].kind == EH_FREE)
			return h;
	return -1;
}

static unsigned int foll(unsigned int flags)
{
	return (flags & PROG_GUP_PIN ? FOLL_PIN : FOLL_GET) |
	       (flags & PROG_GUP_WRITE ? FOLL_WRITE : 0) |
	       ((flags & (PROG_GUP_PIN | PROG_GUP_LONGTERM)) ==
				(PROG_GUP_PIN | PROG_GUP_LONGTERM) ?
			FOLL_LONGTERM : 0);
}

void exec_release(struct exec_ctx *x, unsigned int h, unsigned int mode)
{
	struct exec_handle *eh = &x->h[h];

	exec_data_release(x, h, mode == 2);
	if (eh->kind == EH_REF) {
		folio_put(eh->folio);
	} else if (eh->kind == EH_GUP) {
		if (mode == 0)
			unpin_user_pages(eh->pfn, eh->n, foll(eh->flags));
		else if (mode == 1)
			unpin_user_pages_unbatched(eh->pfn, eh->n, foll(eh->flags));
		else
			unpin_user_pages_dirty_lock(eh->pfn, eh->n, foll(eh->flags));
	}
	memset(eh, 0, sizeof(*eh));
}

void exec_release_all(struct exec_ctx *x)
{
	for (unsigned int h = 0; h < PROG_NR_HANDLES; h++)
		exec_release(x, h, 0);
}

size_t exec_held(const struct exec_ctx *x, struct folio_held *out)
{
	size_t n = 0;

	for (int h = 0; h < PROG_NR_HANDLES; h++) {
		const struct exec_handle *eh = &x->h[h];

		if (eh->kind == EH_REF)
			out[n++] = (struct folio_held){ eh->folio, 1, 0 };
		if (eh->kind == EH_GUP)
			for (unsigned int i = 0; i < eh->n; i++) {
				bool pin = eh->flags & PROG_GUP_PIN;

				out[n++] = (struct folio_held){
					pfn_folio(eh->pfn[i]), pin ? 0 : 1, pin };
			}
	}
	return n;
}


/* Whether @op names a handle it cannot use, or makes one with no slot. */
static bool skipped(const struct exec_ctx *x, const struct prog_op *op)
{
	const struct exec_handle *eh = &x->h[op->arg[0] % PROG_NR_HANDLES];

	switch (op->code) {
	case OP_LOOKUP: case OP_GET_PFN: case OP_GUP: case OP_GET_VA:
	case OP_GUP_SLOW:
		return exec_free_handle(x) < 0;
	case OP_PUT: case OP_UNPIN:
		return eh->kind == EH_FREE;
	case OP_DMA:
		return eh->kind != EH_GUP;
	case OP_SPLIT: case OP_RECLAIM: case OP_MIGRATE:
		return eh->kind != EH_REF;
	default:
		return false;
	}
}

/* A REF handle in slot @h if @f: returns 1, else 0. */
static long hold(struct exec_ctx *x, int h, struct folio *f, int *made)
{
	if (!f)
		return 0;
	x->h[h] = (struct exec_handle){ .kind = EH_REF, .folio = f };
	*made = h;
	return 1;
}

static long run_op(struct exec_ctx *x, const struct prog_op *op, int *made)
{
	const unsigned int *a = op->arg;
	struct mm_struct *mm = x->mms[a[0] & 1];	/* only read by mm ops */
	int h = exec_free_handle(x);
	unsigned long pfn;
	struct folio *f;
	long r;

	*made = -1;
	if (skipped(x, op))
		return EXEC_SKIPPED;
	switch (op->code) {
	case OP_ADD:
		f = folio_alloc(a[2]);
		if (!f)
			return -ENOMEM;
		/*
		 * Not a trylock: the new folio's memmap words are published at
		 * allocation, so another thread's get_pfn may already hold a
		 * reference and the lock (a split op on its handle).  The
		 * trylock's early return leaked the allocation's reference
		 * (fuzz_sched, an I-ref finding on the correct core).
		 */
		folio_lock(f);
		r = filemap_add_folio(x->files[a[0]], f, a[1]);
		folio_unlock(f);
		folio_put(f);
		return r;
	case OP_LOOKUP:
		f = filemap_get_folio(x->files[a[0]], a[1]);
		if (f)
			check_lookup(x->files[a[0]], a[1], f);
		return hold(x, h, f, made);
	case OP_GET_PFN:
		rcu_read_lock_model();
		f = folio_try_get_pfn(a[0], 1);
		rcu_read_unlock_model();
		if (f)
			check_pfn(a[0], f);
		return hold(x, h, f, made);
	case OP_GET_VA:
		rcu_read_lock_model();
		pfn = mm_walk_pfn(mm, a[1]);
		f = pfn != ~0ul ? folio_try_get_pfn(pfn, 1) : NULL;
		rcu_read_unlock_model();
		if (f)
			check_pfn(pfn, f);
		return hold(x, h, f, made);
	case OP_PUT:
		exec_release(x, a[0], 0);
		return 0;
	case OP_UNPIN:
		exec_release(x, a[0], a[1]);
		return 0;
	case OP_TRUNCATE:
		return (long)truncate_inode_pages_range(x->files[a[0]], a[1],
							a[1] + a[2]);
	case OP_FAULT:
		return do_anonymous_page(mm, a[1], a[2], a[3]);
	case OP_MAP:
		return filemap_map_pages(mm, x->files[a[1]], a[2], a[3], a[4]);
	case OP_ZAP:
		return zap_page_range(mm, a[1], a[2]);
	case OP_TOUCH:
		return exec_data_touch(x, op);
	case OP_DMA:
		return exec_data_dma(x, op);
	case OP_GUP:
	case OP_GUP_SLOW:
		if (op->code == OP_GUP)
			r = (a[3] & PROG_GUP_BATCHED ? gup_fast :
			     gup_fast_unbatched)(mm, a[1], a[2], foll(a[3]),
						 x->h[h].pfn);
		else
			r = get_user_pages(mm, a[1], a[2], foll(a[3]),
					   x->h[h].pfn);
		if (r > 0) {
			x->h[h].kind = EH_GUP;
			x->h[h].n = (unsigned int)r;
			x->h[h].flags = a[3];
			x->h[h].mm = a[0] & 1;
			x->h[h].va = a[1];
			exec_data_gup_made(x, (unsigned int)h);
			*made = h;
		}
		return r;
	case OP_FORK:
		return mm_fork(x->mms[a[1]], mm);
	case OP_MIGRATE:
		f = x->h[a[0]].folio;
		if (!folio_trylock(f))
			return -EDEADLK;
		r = migrate_folio(f);
		if (r)
			folio_unlock(f);
		else	/* gone with the handle's reference and the lock */
			memset(&x->h[a[0]], 0, sizeof(x->h[a[0]]));
		return r;
	case OP_WP_FAULT:
		return do_wp_page(mm, a[1], a[2]);
	case OP_COLLAPSE:
		return collapse_huge_page(mm, a[1]);
	case OP_WP_MERGE:
		return ksm_merge_pages(mm, a[1], x->mms[a[2] & 1], a[3]);
	case OP_SPLIT:
		f = x->h[a[0]].folio;
		if (!folio_trylock(f))
			return -EDEADLK;	/* another thread holds it */
		r = split_folio_to_order(f, a[1]);
		folio_unlock(f);
		return r;
	case OP_SPLIT_PMD:
		split_huge_pmd(mm, a[1]);
		return 0;
	case OP_SCAN:
		return (long)deferred_split_scan(a[0]);
	case OP_MADV_FREE:
		return madvise_free(mm, a[1], a[2]);
	case OP_RECLAIM:
		f = x->h[a[0]].folio;
		if (!folio_trylock(f))
			return -EDEADLK;
		r = reclaim_lazyfree_folio(f, a[1]);
		if (r)
			folio_unlock(f);
		else	/* freed with the handle's reference and the lock */
			memset(&x->h[a[0]], 0, sizeof(x->h[a[0]]));
		return r;
	default:
		return 0;
	}
}

long exec_op(struct exec_ctx *x, const struct prog_op *op, int *made)
{
	long r;

	x->read_valid = false;
	exec_data_op_begin(x, op);
	r = run_op(x, op, made);
	exec_data_op_end(x, op, r);
	x->seq++;
	return r;
}
