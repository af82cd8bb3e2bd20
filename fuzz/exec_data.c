/* SPDX-License-Identifier: MIT */
/*
 * exec_data.c - the executor's data oracle (see exec_data.h for the rules).
 *
 * Places: (mm, va) for every anon page of each mm, (file, index) for every
 * page of each file (the same place through every mm's window).  Epochs,
 * shared by the run's threads:
 *   mep[place]  mapping epoch: bumped when an op that may change what the
 *               place maps (fault, zap, MADV_FREE, fork into the mm,
 *               truncate) starts and when it ends;
 *   ep[place]   content epoch: those bumps, and every write of the place
 *               (a CPU store, from the core's access hook, just before it
 *               lands; DMA through a handle taken there, just before);
 *   pep[pfn]    a page's write epoch: every CPU store and DMA store to it;
 *   lazy[place] MADV_FREE ran on it and no CPU store or fault since
 *               (fork passes it to the child): what a CPU load reads may be
 *               discarded without any op announcing it, so such a load
 *               records nothing (a DMA holds a reference, which keeps
 *               reclaim off the page until it is released).
 * A thread records what it wrote or read only if no mapping-changing op
 * started or ended during its own op (mep unchanged since the op began):
 * one still running then ends later and its bump voids the record.  A
 * record is checked only while the epoch it was taken at still holds and
 * no mapping-changing op of the place is running (inflight[place]: one
 * that started before the record may have done its harm and not ended).
 * One OS thread runs the program's threads (the VM, or fuzz_sched's
 * coroutines, switched only at the core's steps), so plain counters are
 * exact: nothing runs between a bump and the store it announces.
 */
#include <errno.h>
#include <string.h>

#include "data_value.h"
#include "exec.h"
#include "folio/debug.h"
#include "folio/filemap.h"
#include "folio/memmap.h"
#include "folio/page_data.h"

static struct {
	struct exec_ctx *ctxs;		/* NULL: not running (no checks) */
	unsigned int n;
	unsigned int mms, files, anon_pages, slots;
	unsigned long mep[EXEC_DATA_KEYS], ep[EXEC_DATA_KEYS];
	unsigned long pep[EXEC_DATA_PFNS];
	/* the page at an anon place may be discarded with nothing written
	 * since: MADV_FREE marked it, no CPU store dirtied it since */
	bool lazy[EXEC_DATA_KEYS];
	unsigned int inflight[EXEC_DATA_KEYS];	/* ops of bump_op running */
	/* anon pages held by GUP handles, per pfn and mm (the leak rule's
	 * question, asked at every CPU store, in O(mms)) */
	unsigned short holders[EXEC_DATA_PFNS][2];
} D;

_Static_assert(4u << 4 <= EXEC_DATA_ANON, "anon_pmds << pmd_order fits");
_Static_assert(4u << 4 <= EXEC_DATA_SLOTS, "file_pmds << pmd_order fits");
_Static_assert(256 <= EXEC_DATA_PFNS, "a world's pages fit");

/* ---- places ---- */

static int anon_place(unsigned int mm, unsigned long va)
{
	return va < D.anon_pages ? (int)(mm * EXEC_DATA_ANON + va) : -1;
}

static int file_place(unsigned int file, unsigned long index)
{
	return (int)(2 * EXEC_DATA_ANON + file * EXEC_DATA_SLOTS + index);
}

static bool place_is_file(int p)
{
	return p >= 2 * EXEC_DATA_ANON;
}

/* The file window of @va in @x's mm @mm: the file, *index; -1 if none. */
static int window_of(const struct exec_ctx *x, unsigned int mm,
		     unsigned long va, unsigned long *index)
{
	for (unsigned int f = 0; f < D.files; f++) {
		long base = mm_file_window(x->mms[mm], x->files[f]);

		if (base >= 0 && va >= (unsigned long)base &&
		    va - (unsigned long)base < D.slots) {
			*index = va - (unsigned long)base;
			return (int)f;
		}
	}
	return -1;
}

/* The place of (mm, va), -1 outside every place. */
static int place_of(const struct exec_ctx *x, unsigned int mm,
		    unsigned long va)
{
	unsigned long index;
	int f;

	if (va < D.anon_pages)
		return anon_place(mm, va);
	f = window_of(x, mm, va, &index);
	return f < 0 ? -1 : file_place((unsigned int)f, index);
}

uint32_t exec_data_key(const struct exec_ctx *x, unsigned int mm,
		       unsigned long va)
{
	unsigned long index;
	int f;

	if (va < D.anon_pages)
		return ft_data_key_anon(va);
	f = window_of(x, mm, va, &index);
	return f < 0 ? ~0u : ft_data_key_file((unsigned int)f, index);
}

uint64_t exec_data_value(unsigned int tid, unsigned int mm, unsigned long seq,
			 uint32_t key)
{
	return ft_data_value(mm, tid, seq, key);
}

/*
 * The PFN a present entry maps at @va of @mm, ~0ul if none: the oracle's
 * own look, with plain loads (no scheduler steps: nothing runs while it
 * looks, so the table it reads cannot be freed meanwhile, and the
 * program's schedule is not moved by the oracle's reads).
 */
static unsigned long walk_plain(struct mm_struct *mm, unsigned long va)
{
	pmd_t pmd;
	pte_t pte;

	if (va >= mm->nr_pmds << pmd_order())
		return ~0ul;
	pmd = atomic_load_explicit(pmd_offset(mm, va), memory_order_acquire);
	if (pmd_leaf(pmd))
		return pte_pfn(pmd) + (va & (pmd_nr() - 1));
	if (!pmd_table(pmd))
		return ~0ul;
	pte = atomic_load_explicit(pte_offset(pmd, va), memory_order_acquire);
	return pte_present(pte) ? pte_pfn(pte) : ~0ul;
}

static int mm_index(const struct mm_struct *mm)
{
	for (unsigned int i = 0; i < D.mms; i++)
		if (D.ctxs[0].mms[i] == mm)
			return (int)i;
	return -1;
}

static unsigned long file_version(const struct exec_ctx *x, uint32_t key)
{
	if (!(key & FT_DATA_KEY_FILE))
		return 0;
	return atomic_load_explicit(&x->files[(key >> 24) & 1]->version,
				    memory_order_relaxed);
}

/* ---- findings ---- */

static void describe_place(const struct exec_ctx *x, unsigned int mm,
			   unsigned long va, char *buf, size_t n)
{
	unsigned long index;
	int f = va < D.anon_pages ? -1 : window_of(x, mm, va, &index);

	if (f < 0)
		snprintf(buf, n, "mm %u va %lu", mm, va);
	else
		snprintf(buf, n, "mm %u va %lu (file %d index %lu)", mm, va,
			 f, index);
}

static void legit_or_bug(const struct exec_ctx *x, unsigned int mm,
			 unsigned long va, uint64_t v, const char *how)
{
	uint32_t key = exec_data_key(x, mm, va);
	const char *why;
	char place[64], got[160];

	if (key == ~0u)
		return;
	why = ft_data_illegit(v, key, file_version(x, key));
	if (!why)
		return;
	describe_place(x, mm, va, place, sizeof(place));
	ft_data_describe(v, got, sizeof(got));
	exec_bug("data", NULL, "%s at %s by thread %u read %s: %s", how, place,
		 x->tid, got, why);
}

/* The folio of @pfn, for the report (the race diagram follows its steps):
 * the page the expected value went to. */
static const struct folio *folio_of(unsigned long pfn)
{
	memdesc_t w;

	if (pfn >= EXEC_DATA_PFNS || pfn >= folio_nr_pages_total)
		return NULL;
	w = atomic_load_explicit(&folio_memmap[pfn], memory_order_relaxed);
	return memdesc_is_folio(w) ? memdesc_ptr(w) : NULL;
}

static void mismatch_bug(const struct exec_ctx *x, unsigned int mm,
			 unsigned long va, const char *how, uint64_t got,
			 const struct exec_loc *want, const char *rule)
{
	char place[64], g[160], w[160];

	describe_place(x, mm, va, place, sizeof(place));
	ft_data_describe(got, g, sizeof(g));
	ft_data_describe(want->val, w, sizeof(w));
	exec_bug("data", folio_of(want->pfn), "%s at %s by thread %u read %s, "
		 "but %s %s (into pfn %lu)", how, place, x->tid, g, rule, w,
		 want->pfn);
}

/* ---- the run ---- */

static void on_access(struct mm_struct *mm, unsigned long va,
		      unsigned long pfn, enum folio_access what, uint64_t val);

void exec_data_begin(struct exec_ctx *ctxs, unsigned int n,
		     const struct prog_world *w)
{
	memset(&D, 0, sizeof(D));
	D.ctxs = ctxs;
	D.n = n;
	D.mms = w->mms;
	D.files = w->files;
	D.anon_pages = prog_anon_pages(w);
	D.slots = prog_file_slots(w);
	for (unsigned int t = 0; t < n; t++) {
		ctxs[t].tid = t;
		ctxs[t].seq = 0;
		memset(ctxs[t].loc, 0, sizeof(ctxs[t].loc));
	}
	atomic_store(&folio_access_hook, on_access);
}

void exec_data_end(void)
{
	atomic_store(&folio_access_hook, NULL);
	D.ctxs = NULL;
}

/* ---- ops that may change what a place maps ---- */

static void bump_mapping(int p, bool end)
{
	if (p >= 0) {
		D.mep[p]++;
		D.ep[p]++;
		if (end)
			D.inflight[p]--;
		else
			D.inflight[p]++;
	}
}

/*
 * @x's op @op may change what places map: bump them at its start (@end
 * false) and at its end (result @r).  A fault that made a new page
 * clears the lazyfree mark, if nothing else changed the mapping while it
 * ran (its own two bumps only, x->op_mep): a MADV_FREE racing with it may
 * have marked the new page.
 */
static void bump_op(struct exec_ctx *x, const struct prog_op *op, bool end,
		    long r)
{
	const unsigned int *a = op->arg;
	unsigned long lo = 0, hi = 0;
	unsigned int mm = a[0] & 1;

	switch (op->code) {
	case OP_FAULT:
		lo = a[1];
		hi = lo + (1ul << a[2]);
		break;
	case OP_ZAP:
	case OP_MADV_FREE:
		lo = a[1];
		hi = lo + a[2];
		break;
	case OP_FORK:
		if (a[0] == a[1])
			return;
		mm = a[1];
		hi = D.anon_pages;
		break;
	case OP_TRUNCATE:
		for (unsigned long i = 0; i < D.slots; i++)
			bump_mapping(file_place(a[0], i), end);
		return;
	/*
	 * OP_WP_MERGE changes no place: a merge moves an entry only to a
	 * page of equal contents, never while anyone else holds the page
	 * (a pin, a GUP reference, an access in flight: the count it reads
	 * after the clear), and an access that meets the cleared entry
	 * looks again under its lock.  So a record taken before it still
	 * holds after it, and a pin stays coherent with its place: a merge
	 * that took a pinned page shows as a lost write or a leak.
	 */
	default:
		return;
	}
	for (unsigned long va = lo; va < hi && va < D.anon_pages; va++) {
		int p = anon_place(mm, va);

		bump_mapping(p, end);
		if (op->code == OP_FAULT && !end && va - lo < PROG_GUP_MAX)
			x->op_mep[va - lo] = D.mep[p];
		else if (op->code == OP_FAULT && r == 0 && va - lo < PROG_GUP_MAX &&
			 D.mep[p] == x->op_mep[va - lo] + 1)
			D.lazy[p] = false;	/* a new zero-filled page */
		else if (op->code == OP_MADV_FREE && end)
			D.lazy[p] = true;
		else if (op->code == OP_FORK && end)
			/* the child may map the parent's lazyfree pages; a
			 * lazyfree page of its own (a fault and MADV_FREE that
			 * ran while the fork did) stays so: only a store or a
			 * fault clears the mark, never a copy of another's */
			D.lazy[p] = D.lazy[p] || D.lazy[anon_place(a[0], va)];
	}
}

void exec_data_op_begin(struct exec_ctx *x, const struct prog_op *op)
{
	const unsigned int *a = op->arg;

	if (!D.ctxs)
		return;
	bump_op(x, op, false, 0);
	/* a GUP's places as they are now: its pages are coherent with them
	 * only if nothing changes their mappings until it returns */
	if (op->code == OP_GUP || op->code == OP_GUP_SLOW)
		for (unsigned int i = 0; i < a[2] && i < PROG_GUP_MAX; i++) {
			int p = place_of(x, a[0] & 1, a[1] + i);

			x->op_mep[i] = p >= 0 ? D.mep[p] : 0;
		}
}

void exec_data_op_end(struct exec_ctx *x, const struct prog_op *op, long r)
{
	if (D.ctxs)
		bump_op(x, op, true, r);
}

/* Count (@d 1) or uncount (-1) @eh's anon pages in D.holders. */
static void hold_pages(const struct exec_handle *eh, int d)
{
	if (eh->va >= D.anon_pages || eh->mm > 1)
		return;
	for (unsigned int i = 0; i < eh->n; i++)
		if (eh->pfn[i] < EXEC_DATA_PFNS)
			D.holders[eh->pfn[i]][eh->mm] += (unsigned short)d;
}

void exec_data_gup_made(struct exec_ctx *x, unsigned int h)
{
	struct exec_handle *eh = &x->h[h];

	for (unsigned int i = 0; i < eh->n; i++)
		eh->mep[i] = x->op_mep[i];
	eh->seen_valid = 0;
	if (D.ctxs)
		hold_pages(eh, 1);
}

/*
 * A clean release: what this thread wrote through the handle may go (a
 * device's write dirties no entry; a lazyfree page with only that write
 * in it is discarded once nobody holds it): forget it.  A dirty unpin
 * marked the folio dirty, which reclaim keeps.
 */
void exec_data_release(struct exec_ctx *x, unsigned int h, bool dirty)
{
	if (!D.ctxs || x->h[h].kind != EH_GUP)
		return;
	hold_pages(&x->h[h], -1);
	if (dirty)
		return;
	for (unsigned int p = 0; p < EXEC_DATA_KEYS; p++)
		if (x->loc[p].valid && x->loc[p].src == (int8_t)h)
			x->loc[p].valid = false;
}

/* ---- the checks ---- */

/* This thread's record of place @p, if it still holds. */
static const struct exec_loc *loc_valid(struct exec_ctx *x, int p)
{
	struct exec_loc *l = &x->loc[p];

	if (!l->valid)
		return NULL;
	if (l->ep != D.ep[p]) {
		l->valid = false;
		return NULL;
	}
	return D.inflight[p] ? NULL : l;
}

/*
 * Record @v at @p, taken at epoch @ep: for a load, the epoch before it
 * (a write after that bumps it, whether or not the load saw it); for a
 * store, the epoch its own bump made (a later write bumps it again).
 */
static void loc_record(struct exec_ctx *x, int p, unsigned long mep0,
		       unsigned long ep, uint64_t v, int src, unsigned long pfn)
{
	if (D.mep[p] != mep0) {	/* a mapping-changing op overlapped ours */
		x->loc[p].valid = false;
		return;
	}
	x->loc[p] = (struct exec_loc){ .valid = true, .src = (int8_t)src,
				       .val = v, .ep = ep, .pfn = pfn };
}

/*
 * The leak rule, from the core's access hook: a CPU store by @mm to @pfn,
 * an anon page, while a thread holds it through GUP from another mm.
 * After fork neither process may see the other's writes; a page another
 * process holds a reference on is never reused for a write (the COW
 * decision counts references, not mappings: CVE-2020-29374).
 */
static void check_store_leak(int writer, unsigned long va, unsigned long pfn)
{
	if (pfn >= EXEC_DATA_PFNS || !D.holders[pfn][!writer])
		return;	/* no other mm holds it: the common case */
	for (unsigned int t = 0; t < D.n; t++)
		for (unsigned int h = 0; h < PROG_NR_HANDLES; h++) {
			const struct exec_handle *eh = &D.ctxs[t].h[h];

			if (eh->kind != EH_GUP || eh->mm == (unsigned int)writer ||
			    eh->va >= D.anon_pages)
				continue;
			for (unsigned int i = 0; i < eh->n; i++)
				if (eh->pfn[i] == pfn)
					exec_bug("data", pfn_folio(pfn),
						 "a CPU store by mm %d at va %lu "
						 "landed on pfn %lu, which thread %u "
						 "holds through h%u (a %s of mm %u "
						 "va %lu): one process's write "
						 "seen by another", writer, va, pfn,
						 t, h, eh->flags & PROG_GUP_PIN ?
						 "pin" : "GUP reference", eh->mm,
						 eh->va + i);
		}
}

/*
 * The core's access hook.  Only the call before a store counts: nothing
 * runs between it and the store (no scheduler step), so a bump here is
 * the store, exactly.  The storing thread is the value's writer (every
 * store is a harness's); its context learns the page and the epoch its
 * own store made (another thread's store may follow before it returns).
 */
static void on_access(struct mm_struct *mm, unsigned long va,
		      unsigned long pfn, enum folio_access what, uint64_t val)
{
	int m = D.ctxs ? mm_index(mm) : -1;
	struct exec_ctx *self = NULL;
	int p;

	if (what != FOLIO_ACCESS_STORE || m < 0)
		return;
	if (ft_data_is_ours(val) && ft_data_writer(val) < D.n)
		self = &D.ctxs[ft_data_writer(val)];
	p = place_of(&D.ctxs[0], (unsigned int)m, va);
	if (p >= 0) {
		++D.ep[p];
		D.lazy[p] = false;	/* the store leaves the entry dirty */
	}
	if (self) {
		self->store_pfn = pfn;
		self->store_ep = p >= 0 ? D.ep[p] : 0;
	}
	if (pfn < EXEC_DATA_PFNS)
		D.pep[pfn]++;
	if (p >= 0 && !place_is_file(p))
		check_store_leak(m, va, pfn);
}

long exec_data_touch(struct exec_ctx *x, const struct prog_op *op)
{
	unsigned int mm = op->arg[0] & 1;
	unsigned long va = op->arg[1];
	bool write = op->arg[2];
	int p = D.ctxs ? place_of(x, mm, va) : -1;
	unsigned long mep0 = p >= 0 ? D.mep[p] : 0, ep0 = p >= 0 ? D.ep[p] : 0;
	uint32_t key = exec_data_key(x, mm, va);
	const struct exec_loc *l;
	uint64_t v = 0;
	int r;

	if (write)
		v = exec_data_value(x->tid, mm, x->seq,
				    key == ~0u ? 0 : key);
	r = touch_page_data(x->mms[mm], va, write, &v);
	if (!write && r == 1) {
		x->read_valid = true;
		x->read_val = v;
	}
	if (p < 0)
		return r;
	if (write) {
		if (r == 1)
			loc_record(x, p, mep0, x->store_ep, v, -1, x->store_pfn);
		return r;
	}
	l = loc_valid(x, p);
	if (r == 1) {
		legit_or_bug(x, mm, va, v, "a CPU load");
		if (l && l->val != v)
			mismatch_bug(x, mm, va, "a CPU load", v, l,
				     "nothing changed the place since this "
				     "thread's access of");
		if (!D.lazy[p])
			loc_record(x, p, mep0, ep0, v, l ? l->src : -1,
				   walk_plain(x->mms[mm], va));
	} else if (r == 0 && l && !place_is_file(p)) {
		char w[160];

		ft_data_describe(l->val, w, sizeof(w));
		exec_bug("data", folio_of(l->pfn), "a CPU load at mm %u va %lu "
			 "by thread %u found nothing mapped, but nothing "
			 "unmapped it since this thread's access of %s (pfn "
			 "%lu): the page vanished", mm, va, x->tid, w, l->pfn);
	}
	return r;
}

/* A device's write through a pin of @mm at @va must not show in another
 * mm: the pinned page is the pinner's alone (fork copies it). */
static void check_dma_leak(const struct exec_ctx *x, const struct exec_handle *eh,
			   unsigned int i)
{
	unsigned long va = eh->va + i;

	if (va >= D.anon_pages || !(eh->flags & PROG_GUP_PIN))
		return;
	for (unsigned int m = 0; m < D.mms; m++)
		if (m != eh->mm && walk_plain(x->mms[m], va) == eh->pfn[i])
			exec_bug("data", pfn_folio(eh->pfn[i]),
				 "a DMA write through thread %u's pin of mm %u "
				 "va %lu lands on pfn %lu, which mm %u maps at "
				 "the same address: one process's write seen "
				 "by another", x->tid, eh->mm, va, eh->pfn[i], m);
}

long exec_data_dma(struct exec_ctx *x, const struct prog_op *op)
{
	struct exec_handle *eh = &x->h[op->arg[0]];
	unsigned int i = op->arg[2] % eh->n;
	unsigned long pfn = eh->pfn[i], va = eh->va + i;
	int p = D.ctxs ? place_of(x, eh->mm, va) : -1;
	/* through this handle, the place sees what the device does: a pin
	 * (a GET reference may be left behind by a COW) or a file page */
	bool coherent = p >= 0 && D.mep[p] == eh->mep[i] &&
			((eh->flags & PROG_GUP_PIN) || place_is_file(p));
	unsigned long mep0 = p >= 0 ? D.mep[p] : 0, ep0 = p >= 0 ? D.ep[p] : 0;
	uint32_t key = exec_data_key(x, eh->mm, va);
	const struct exec_loc *l;
	uint64_t v;

	if (op->arg[1]) {
		if (!(eh->flags & PROG_GUP_WRITE))
			return -EPERM;	/* pinned for reading only */
		v = exec_data_value(x->tid, eh->mm, x->seq, key == ~0u ? 0 : key);
		if (D.ctxs) {
			if (pfn < EXEC_DATA_PFNS)
				D.pep[pfn]++;
			if (p >= 0 && (coherent || place_is_file(p) ||
				       (eh->flags & PROG_GUP_PIN)))
				D.ep[p]++;
			else	/* a GET reference: after a fork any mm may
				 * map the page at this address */
				for (unsigned int m = 0; m < D.mms; m++)
					if (anon_place(m, va) >= 0)
						D.ep[anon_place(m, va)]++;
			check_dma_leak(x, eh, i);
		}
		page_data_write(pfn, v);
		eh->seen[i] = v;
		eh->pep[i] = pfn < EXEC_DATA_PFNS ? D.pep[pfn] : 0;
		eh->seen_valid |= 1u << i;
		if (coherent)
			loc_record(x, p, mep0, D.ep[p], v, (int)op->arg[0], pfn);
		return 1;
	}
	v = page_data_read(pfn);
	x->read_valid = true;
	x->read_val = v;
	if (!D.ctxs)
		return 1;
	legit_or_bug(x, eh->mm, va, v, "a DMA read");
	if ((eh->seen_valid & (1u << i)) && pfn < EXEC_DATA_PFNS &&
	    eh->pep[i] == D.pep[pfn] && eh->seen[i] != v) {
		struct exec_loc was = { .val = eh->seen[i], .pfn = pfn };

		mismatch_bug(x, eh->mm, va, "a DMA read through its handle", v,
			     &was, "no write reached the page since this "
			     "thread's DMA of");
	}
	l = p >= 0 ? loc_valid(x, p) : NULL;
	if (coherent && l && l->val != v)
		mismatch_bug(x, eh->mm, va, "a DMA read through a pin", v, l,
			     "the pinned page is the one mapped there, and "
			     "nothing changed the place since this thread's "
			     "access of");
	eh->seen[i] = v;
	eh->pep[i] = pfn < EXEC_DATA_PFNS ? D.pep[pfn] : 0;
	eh->seen_valid |= 1u << i;
	if (coherent)
		loc_record(x, p, mep0, ep0, v, l ? l->src : (int)op->arg[0], pfn);
	return 1;
}
