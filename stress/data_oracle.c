/* SPDX-License-Identifier: MIT */
/*
 * data_oracle.c - foliotorture's data oracle (see data_oracle.h for the rules and the
 * orderings).  Places: (mm, va) for every anon page of each mm, then
 * (file, index) for every page of each file, the same through every mm's
 * window.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "data_oracle.h"
#include "data_value.h"
#include "folio/debug.h"
#include "folio/gup.h"
#include "folio/memmap.h"
#include "folio/page_data.h"
#include "folio/rcu.h"
#include "torture.h"

/*
 * A window word, per place and per page: one atomic, so that a window
 * opens or closes with one RMW (three were a fifth of a private run's
 * time): bits 0-23 the epoch (every window), 24-47 the mapping epoch
 * (windows of ops that change what a place maps), 48-63 the windows open.
 * The epochs are compared for equality only: a wrap, or an epoch's carry
 * into the next field, only voids a record.
 */
#define W_EP 1ul
#define W_MEP (1ul << 24)
#define W_BUSY (1ul << 48)
#define W_MASK 0xfffffful

static unsigned long w_ep(unsigned long w)
{
	return w & W_MASK;
}
static unsigned long w_mep(unsigned long w)
{
	return (w >> 24) & W_MASK;
}
static unsigned long w_busy(unsigned long w)
{
	return w >> 48;
}

static struct {
	unsigned long nplaces, anon, fpages;
	unsigned int mms, files;
	atomic_ulong *pw;		/* per place: its window word */
	atomic_bool *lazy;		/* per anon place */
	atomic_ulong *ppw;		/* per pfn: its window word (writes) */
	atomic_ushort *holders;		/* per pfn x mm: anon GUPs held */
	atomic_ulong fork_ep[64];	/* per mm as a fork's parent */
	long *wbase;			/* [mm * files + f]: window base */
	atomic_int errors;
} S;

/* The worker running on this thread (the access hook's caller), and the
 * fork epoch of the mm it stores to, read before its access began. */
static __thread struct ft_worker *self;
static __thread unsigned long self_fork_ep;

int ft_data_errors(void)
{
	return atomic_load(&S.errors);
}

unsigned long ft_data_checked(void)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < ft.o.threads; i++)
		n += ft.workers[i].data_checked;
	return n;
}

/* ---- places ---- */

static long anon_place(unsigned int mm, unsigned long va)
{
	return va < S.anon ? (long)(mm * S.anon + va) : -1;
}

static long file_place(unsigned int f, unsigned long index)
{
	return (long)(S.mms * S.anon + f * S.fpages + index);
}

static bool place_is_file(long p)
{
	return p >= (long)(S.mms * S.anon);
}

/* The window of @va in mm @mm: the file (and *index), or -1. */
static int window_of(unsigned int mm, unsigned long va, unsigned long *index)
{
	for (unsigned int f = 0; f < S.files; f++) {
		long b = S.wbase[mm * S.files + f];

		if (b >= 0 && va >= (unsigned long)b &&
		    va - (unsigned long)b < S.fpages) {
			*index = va - (unsigned long)b;
			return (int)f;
		}
	}
	return -1;
}

static long place_of(unsigned int mm, unsigned long va)
{
	unsigned long index;
	int f;

	if (va < S.anon)
		return anon_place(mm, va);
	f = window_of(mm, va, &index);
	return f < 0 ? -1 : file_place((unsigned int)f, index);
}

static uint32_t key_of(long p)
{
	unsigned long q;

	if (!place_is_file(p))
		return ft_data_key_anon((unsigned long)p % S.anon);
	q = (unsigned long)p - S.mms * S.anon;
	return ft_data_key_file((unsigned int)(q / S.fpages), q % S.fpages);
}

static unsigned long file_version(long p)
{
	unsigned long q = (unsigned long)p - S.mms * S.anon;

	return place_is_file(p) ?
	       atomic_load_explicit(&ft.files[q / S.fpages]->version,
				    memory_order_relaxed) : 0;
}

static int mm_index(const struct mm_struct *mm)
{
	return mm->id < S.mms && ft.mms[mm->id] == mm ? (int)mm->id : -1;
}

/* ---- findings ---- */

/*
 * "BUG: worker N: data (KIND): ...": KIND is the rule broken (legit, lost,
 * vanished, stable, leak), before the first " (" so that the nightly
 * triage signs every such finding "worker:data" whatever its addresses.
 */
static void __attribute__((format(printf, 4, 5)))
data_bug(struct ft_worker *w, const char *kind, unsigned long pfn,
	 const char *fmt, ...)
{
	char what[512];
	va_list ap;
	memdesc_t word;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "BUG: worker %u: data (%s): %s\n", w ? w->id : 0, kind,
		what);
	if (pfn < folio_nr_pages_total) {
		word = atomic_load_explicit(&folio_memmap[pfn],
					    memory_order_relaxed);
		if (memdesc_is_folio(word))	/* a snapshot: racy, typesafe */
			dump_folio(stderr, memdesc_ptr(word), "data");
	}
	atomic_fetch_add(&S.errors, 1);
	atomic_store(&ft.stop, true);
}

static void describe_place(long p, unsigned int mm, unsigned long va,
			   char *buf, size_t n)
{
	uint32_t k = key_of(p);

	if (k & FT_DATA_KEY_FILE)
		snprintf(buf, n, "mm %u va %lu (file %u index %u)", mm, va,
			 (k >> 24) & 7u, k & 0xffffffu);
	else
		snprintf(buf, n, "mm %u va %lu", mm, va);
}

static void check_legit(struct ft_worker *w, long p, unsigned int mm,
			unsigned long va, unsigned long pfn, uint64_t v,
			const char *how)
{
	const char *why = ft_data_illegit(v, key_of(p), file_version(p));
	char place[64], got[160];

	if (!why)
		return;
	describe_place(p, mm, va, place, sizeof(place));
	ft_data_describe(v, got, sizeof(got));
	data_bug(w, "legit", pfn, "%s at %s (pfn %lu) read %s: %s", how, place, pfn,
		 got, why);
}

/* ---- set-up ---- */

static void on_access(struct mm_struct *mm, unsigned long va,
		      unsigned long pfn, enum folio_access what, uint64_t val);

int ft_data_init(void)
{
	memset(&S, 0, sizeof(S));
	S.mms = ft.o.nr_mms;
	S.files = ft.o.nr_files;
	S.anon = ft.o.anon_pages;
	S.fpages = ft.o.file_pages;
	S.nplaces = S.mms * S.anon + S.files * S.fpages;
	if (S.mms > 64)
		return -1;
	S.pw = calloc(S.nplaces, sizeof(*S.pw));
	S.lazy = calloc(S.mms * S.anon, sizeof(*S.lazy));
	S.ppw = calloc(ft.o.nr_pages, sizeof(*S.ppw));
	S.holders = calloc(ft.o.nr_pages * S.mms, sizeof(*S.holders));
	S.wbase = calloc(S.mms * S.files + 1, sizeof(*S.wbase));
	if (!S.pw || !S.lazy || !S.ppw || !S.holders || !S.wbase)
		return -1;
	for (unsigned int m = 0; m < S.mms; m++)
		for (unsigned int f = 0; f < S.files; f++)
			S.wbase[m * S.files + f] =
				mm_file_window(ft.mms[m], ft.files[f]);
	for (unsigned int i = 0; i < ft.o.threads; i++)
		for (unsigned int r = 0; r < FT_DATA_RECS; r++)
			ft.workers[i].recs[r].place = -1;
	atomic_store(&folio_access_hook, on_access);
	return 0;
}

void ft_data_fini(void)
{
	atomic_store(&folio_access_hook, NULL);
	free(S.pw);
	free(S.lazy);
	free(S.ppw);
	free(S.holders);
	free(S.wbase);
	S.pw = NULL;
}

/* ---- ops that change what places map ---- */

/*
 * A window: whatever may change a place (a write, an op that changes its
 * mapping: @mapping) or a page (a write) opens one before its first change
 * and closes it after its last, each with one RMW of the window word.  A
 * reader trusts a record only at the epoch it was made and with no window
 * open; a record is made only if no window opened or closed across it
 * (rec_put).  win_open returns the epoch before.
 */
static unsigned long win_open(atomic_ulong *wd, bool mapping)
{
	return w_ep(atomic_fetch_add(wd, W_BUSY + W_EP + (mapping ? W_MEP : 0)));
}

/* True if no other window opened or closed since ours opened at epoch
 * @before (the epoch moved by our two bumps only); *after: the epoch. */
static bool win_close(atomic_ulong *wd, bool mapping, unsigned long before,
		      unsigned long *after)
{
	unsigned long old = atomic_fetch_add(wd, W_EP + (mapping ? W_MEP : 0) -
						 W_BUSY);

	*after = (w_ep(old) + 1) & W_MASK;
	return w_ep(old) == ((before + 1) & W_MASK);
}

static void bump(long p, bool end)
{
	unsigned long ignored;

	if (end)
		win_close(&S.pw[p], true, 0, &ignored);
	else
		win_open(&S.pw[p], true);
}

static unsigned long mep_of(long p)
{
	return w_mep(atomic_load(&S.pw[p]));
}

void ft_data_disturb(enum ft_dd kind, unsigned int idx, unsigned long lo,
		     unsigned long hi, bool end, long r, unsigned int src,
		     unsigned long *snap)
{
	if (!S.pw)
		return;
	if (kind == FT_DD_TRUNCATE) {
		for (unsigned long i = lo; i < hi && i < S.fpages; i++)
			bump(file_place(idx, i), end);
		return;
	}
	if (kind == FT_DD_FORK)
		atomic_fetch_add(&S.fork_ep[src], 1);
	for (unsigned long va = lo; va < hi && va < S.anon; va++) {
		long p = anon_place(idx, va);

		bump(p, end);
		if (kind == FT_DD_FAULT && snap && !end) {
			snap[va - lo] = mep_of(p);
			continue;
		}
		if (!end)
			continue;
		/* a new zeroed page, if no other op changed the mapping while
		 * the fault ran (a racing MADV_FREE may have marked it) */
		if (kind == FT_DD_FAULT && r == 0 && snap &&
		    mep_of(p) == ((snap[va - lo] + 1) & W_MASK))
			atomic_store(&S.lazy[p], false);
		else if (kind == FT_DD_MADV)
			atomic_store(&S.lazy[p], true);
		else if (kind == FT_DD_FORK && atomic_load(&S.lazy[anon_place(src, va)]))
			/* the child may map the parent's lazyfree pages; its
			 * own mark (a fault and MADV_FREE racing with the
			 * fork) is never cleared by a copy of another's */
			atomic_store(&S.lazy[p], true);
	}
}

/* ---- records ---- */

static struct ft_data_rec *rec_slot(struct ft_worker *w, long p)
{
	return &w->recs[(unsigned long)p % FT_DATA_RECS];
}

/* @w's record of @p, if it still holds (after the access: its epoch, and
 * no window open). */
static const struct ft_data_rec *rec_valid(struct ft_worker *w, long p)
{
	struct ft_data_rec *r = rec_slot(w, p);
	unsigned long wd;

	if (r->place != p)
		return NULL;
	wd = atomic_load(&S.pw[p]);
	if (w_ep(wd) != r->ep) {
		r->place = -1;
		return NULL;
	}
	return w_busy(wd) ? NULL : r;
}

/*
 * A load's view of a window word: before it, the epoch and whether a
 * window was open (*e1, *quiet); after it, the epoch again: the value
 * loaded is the one of epoch *e1 only if no window was open before and
 * none opened since.
 */
static void view_before(atomic_ulong *wd, unsigned long *e1, bool *quiet)
{
	unsigned long w = atomic_load(wd);

	*e1 = w_ep(w);
	*quiet = !w_busy(w);
}

static bool view_after(atomic_ulong *wd, unsigned long e1, bool quiet)
{
	return quiet && w_ep(atomic_load(wd)) == e1;
}

/*
 * Record @v at @p, at epoch @ep, if @ok (a load: view_after; a store:
 * win_close said nothing else touched the place meanwhile) and no op
 * changed what the place maps during ours (its mapping epoch @mep0).
 */
static void rec_put(struct ft_worker *w, long p, unsigned long mep0, bool ok,
		    unsigned long ep, uint64_t v, long src, unsigned long pfn)
{
	struct ft_data_rec *r = rec_slot(w, p);

	if (!ok || mep_of(p) != mep0) {
		if (r->place == p)
			r->place = -1;
		return;
	}
	*r = (struct ft_data_rec){ .place = p, .src = src, .val = v,
				   .ep = ep, .pfn = pfn };
}

static void mismatch(struct ft_worker *w, const char *kind, long p,
		     unsigned int mm, unsigned long va, unsigned long pfn,
		     const char *how, uint64_t got, uint64_t want,
		     unsigned long want_pfn, const char *rule)
{
	char place[64], g[160], wt[160];

	describe_place(p, mm, va, place, sizeof(place));
	ft_data_describe(got, g, sizeof(g));
	ft_data_describe(want, wt, sizeof(wt));
	data_bug(w, kind, want_pfn, "%s at %s (pfn %lu) read %s, but %s %s (into "
		 "pfn %lu)", how, place, pfn, g, rule, wt, want_pfn);
}

/* ---- the CPU ---- */

/*
 * The leak rule, from the access hook: a CPU store of mm @m to @pfn, an
 * anon page some worker holds through a GUP of another mm.  A fork of @m
 * since the storing worker began its access may have shared the page
 * while the store was on its way (the kernel's fork flushes the TLB at
 * its end; a store before that may land in the child too): then skip.
 */
static void check_store_leak(unsigned int m, unsigned long va,
			     unsigned long pfn)
{
	if (pfn >= ft.o.nr_pages)
		return;
	for (unsigned int x = 0; x < S.mms; x++) {
		if (x == m || !atomic_load(&S.holders[pfn * S.mms + x]))
			continue;
		if (atomic_load(&S.fork_ep[m]) != self_fork_ep)
			return;
		data_bug(self, "leak", pfn, "a CPU store by mm %u at va %lu landed on "
			 "pfn %lu, which a worker holds through a GUP of mm %u "
			 "(one process's write seen by another)", m, va, pfn, x);
		return;
	}
}

/* The hook's state for its caller (this thread's access): the page, the
 * windows it opened, and after the store whether nobody else touched the
 * place or the page meanwhile, and the place's epoch then. */
static __thread struct {
	unsigned long pfn;
	long place;
	unsigned long pbefore, ebefore, eafter;
	bool ok;
} tl;

static void on_access(struct mm_struct *mm, unsigned long va,
		      unsigned long pfn, enum folio_access what, uint64_t val)
{
	int m = mm_index(mm);
	unsigned long pafter;
	long p;

	(void)val;
	tl.pfn = pfn;
	if (what == FOLIO_ACCESS_LOAD || m < 0 || !S.pw)
		return;
	p = place_of((unsigned int)m, va);
	if (what == FOLIO_ACCESS_STORED) {
		/* after the store: close the windows (fences: data_oracle.h) */
		atomic_thread_fence(memory_order_release);
		tl.ok = true;
		if (p >= 0)
			tl.ok = win_close(&S.pw[p], false, tl.ebefore, &tl.eafter);
		if (pfn < ft.o.nr_pages)
			win_close(&S.ppw[pfn], false, tl.pbefore, &pafter);
		return;
	}
	tl.place = p;
	if (p >= 0) {
		tl.ebefore = win_open(&S.pw[p], false);
		if (!place_is_file(p))
			atomic_store(&S.lazy[p], false);	/* a dirty entry */
	}
	if (pfn < ft.o.nr_pages)
		tl.pbefore = win_open(&S.ppw[pfn], false);
	if (p >= 0 && !place_is_file(p) && self)
		check_store_leak((unsigned int)m, va, pfn);
	/* the windows open before the store that follows: a reader that
	 * sees the stored value (and an acquire fence) sees them open */
	atomic_thread_fence(memory_order_release);
}

/*
 * --self-test=data: overwrite the page just written, with no window
 * opened (a stray copy into a live page would do that), and load it back
 * at once: the load must be a "data" finding.  If another worker's op on
 * the place got in between (the record no longer holds), try again on a
 * later store.
 */
static void self_test_overwrite(struct ft_worker *w, long p, unsigned int mm,
				unsigned long va)
{
	static atomic_bool announced;

	if (!atomic_exchange(&announced, true))
		fprintf(stderr, "self-test: overwriting pfn %lu (mm %u va %lu) "
			"behind the data oracle's back\n", tl.pfn, mm, va);
	page_data_write(tl.pfn, ft_data_value(mm, w->id, w->data_seq++,
					      key_of(p)));
	ft_data_touch(w, mm, va, false);
}

int ft_data_touch(struct ft_worker *w, unsigned int mm, unsigned long va,
		  bool write)
{
	long p = place_of(mm, va);
	unsigned long mep0 = p >= 0 ? mep_of(p) : 0, e1 = 0;
	bool quiet = false;
	const struct ft_data_rec *r;
	uint64_t v = 0;
	int ret;

	self = w;
	self_fork_ep = atomic_load(&S.fork_ep[mm]);
	tl.pfn = ~0ul;
	if (write)
		v = ft_data_value(mm, w->id, w->data_seq++,
				  p >= 0 ? key_of(p) : 0);
	else if (p >= 0)
		view_before(&S.pw[p], &e1, &quiet);
	ret = touch_page_data(ft.mms[mm], va, write, &v);
	atomic_thread_fence(memory_order_acquire);	/* pairs with on_access */
	if (p < 0)
		return ret;
	if (write) {
		if (ret == 1)
			rec_put(w, p, mep0, tl.ok, tl.eafter, v, -1, tl.pfn);
		if (ret == 1 && ft.o.self_test == FT_SELF_TEST_DATA && !w->id &&
		    rec_valid(w, p))
			self_test_overwrite(w, p, mm, va);
		return ret;
	}
	r = rec_valid(w, p);
	if (ret == 1) {
		w->data_checked++;
		check_legit(w, p, mm, va, tl.pfn, v, "a CPU load");
		if (r && r->val != v)
			mismatch(w, "lost", p, mm, va, tl.pfn, "a CPU load", v, r->val,
				 r->pfn, "nothing changed the place since this "
				 "worker's access of");
		/* a load from a lazyfree page: it may be discarded with
		 * nothing written, so it promises nothing */
		if (place_is_file(p) || !atomic_load(&S.lazy[p]))
			rec_put(w, p, mep0, view_after(&S.pw[p], e1, quiet), e1,
				v, r ? r->src : -1, tl.pfn);
	} else if (ret == 0 && r && !place_is_file(p)) {
		char wt[160];

		ft_data_describe(r->val, wt, sizeof(wt));
		data_bug(w, "vanished", r->pfn, "a CPU load at mm %u va %lu found nothing "
			 "mapped, but nothing unmapped it since this worker's "
			 "access of %s (pfn %lu): the page vanished", mm, va,
			 wt, r->pfn);
	}
	return ret;
}

/* ---- GUP and DMA ---- */

void ft_data_gup_begin(struct ft_worker *w, unsigned int mm, unsigned long va,
		       unsigned long n)
{
	for (unsigned long i = 0; i < n && i < FT_GUP_PAGES; i++) {
		long p = place_of(mm, va + i);

		w->gup_mep[i] = p >= 0 ? mep_of(p) : 0;
	}
}

void ft_data_gup_made(struct ft_worker *w, struct ft_gup *g, unsigned int mm,
		      unsigned long va)
{
	g->mm = mm;
	g->va = va;
	g->seen_valid = 0;
	g->gid = (unsigned int)w->next_gid++;
	for (unsigned int i = 0; i < g->n; i++)
		g->mep[i] = w->gup_mep[i];
	/* the leak rule's holders: anon pages only (file pages are shared
	 * by design); counted after the GUP returned, uncounted before the
	 * unpin, so a count never outlives the reference */
	g->registered = va < S.anon;
	if (g->registered)
		for (unsigned int i = 0; i < g->n; i++)
			if (g->pfns[i] < ft.o.nr_pages)
				atomic_fetch_add(&S.holders[g->pfns[i] * S.mms + mm], 1);
}

void ft_data_gup_release(struct ft_worker *w, struct ft_gup *g, bool dirty)
{
	if (g->registered)
		for (unsigned int i = 0; i < g->n; i++)
			if (g->pfns[i] < ft.o.nr_pages)
				atomic_fetch_sub(&S.holders[g->pfns[i] * S.mms + g->mm], 1);
	g->registered = false;
	if (dirty)
		return;
	/* a clean release: what the device wrote dirtied nothing, and a
	 * lazyfree page may now go with it */
	for (unsigned int r = 0; r < FT_DATA_RECS; r++)
		if (w->recs[r].place >= 0 && w->recs[r].src == (long)g->gid)
			w->recs[r].place = -1;
}

/* A device's store through a pin of @g: no other mm maps the page. */
static void check_dma_leak(struct ft_worker *w, const struct ft_gup *g,
			   unsigned int i)
{
	unsigned long va = g->va + i;

	if (va >= S.anon || !(g->flags & FOLL_PIN))
		return;
	rcu_read_lock_model();
	for (unsigned int m = 0; m < S.mms; m++) {
		_Atomic pmd_t *pmdp;
		unsigned long pfn = ~0ul;
		pmd_t pmd;
		pte_t pte;

		if (m == g->mm)
			continue;
		pmdp = pmd_offset(ft.mms[m], va);
		pmd = atomic_load(pmdp);
		if (pmd_leaf(pmd)) {
			pfn = pte_pfn(pmd) + (va & (pmd_nr() - 1));
		} else if (pmd_table(pmd)) {
			pte = atomic_load(pte_offset(pmd, va));
			if (pte_present(pte))
				pfn = pte_pfn(pte);
		}
		if (pfn == g->pfns[i])
			data_bug(w, "leak", pfn, "a DMA write through a pin of mm %u va "
				 "%lu lands on pfn %lu, which mm %u maps at the "
				 "same address (one process's write seen by "
				 "another)", g->mm, va, pfn, m);
	}
	rcu_read_unlock_model();
}

int ft_data_dma(struct ft_worker *w)
{
	struct ft_gup *g;
	unsigned int i;
	unsigned long pfn, va, mep0, e1 = 0, pe1, pafter, eafter = 0, pw;
	long p;
	bool coherent, write, quiet = false, pquiet, ok = true;
	uint64_t v;
	const struct ft_data_rec *r;

	if (!w->nr_gups)
		return 1;
	g = &w->gups[ft_rand(&w->rng) % w->nr_gups];
	i = (unsigned int)(ft_rand(&w->rng) % g->n);
	pfn = g->pfns[i];
	va = g->va + i;
	p = place_of(g->mm, va);
	mep0 = p >= 0 ? mep_of(p) : 0;
	write = (g->flags & FOLL_WRITE) && (ft_rand(&w->rng) & 1);
	/* through this handle the place sees what the device does: a pin
	 * (a GET reference may be left behind by a COW) or a file page */
	coherent = p >= 0 && mep0 == g->mep[i] &&
		   ((g->flags & FOLL_PIN) || place_is_file(p));
	if (write) {
		/* the device's write: the page's window and the place's (a
		 * GET's: every mm's at va, any of which may map the page
		 * after a fork) */
		unsigned long pbefore, ebefore = 0;
		bool shared = !(p >= 0 && (place_is_file(p) ||
					   (g->flags & FOLL_PIN)));

		v = ft_data_value(g->mm, w->id, w->data_seq++,
				  p >= 0 ? key_of(p) : 0);
		pbefore = win_open(&S.ppw[pfn], false);
		if (!shared)
			ebefore = win_open(&S.pw[p], false);
		else
			for (unsigned int m = 0; m < S.mms; m++)
				if (anon_place(m, va) >= 0)
					win_open(&S.pw[anon_place(m, va)], false);
		check_dma_leak(w, g, i);
		atomic_thread_fence(memory_order_release);
		page_data_write(pfn, v);
		atomic_thread_fence(memory_order_release);
		if (!shared)
			ok = win_close(&S.pw[p], false, ebefore, &eafter);
		else
			for (unsigned int m = 0; m < S.mms; m++)
				if (anon_place(m, va) >= 0)
					win_close(&S.pw[anon_place(m, va)], false,
						  0, &eafter);
		g->seen[i] = v;
		if (win_close(&S.ppw[pfn], false, pbefore, &pafter)) {
			g->pep[i] = pafter;
			g->seen_valid |= 1u << i;
		} else {
			g->seen_valid &= ~(1u << i);
		}
		if (coherent)
			rec_put(w, p, mep0, ok, eafter, v, (long)g->gid, pfn);
		return 0;
	}
	view_before(&S.ppw[pfn], &pe1, &pquiet);
	if (p >= 0)
		view_before(&S.pw[p], &e1, &quiet);
	v = page_data_read(pfn);
	atomic_thread_fence(memory_order_acquire);	/* a writer's windows */
	w->data_checked++;
	if (p >= 0)
		check_legit(w, p, g->mm, va, pfn, v, "a DMA read");
	pw = atomic_load(&S.ppw[pfn]);
	if ((g->seen_valid & (1u << i)) && g->seen[i] != v &&
	    w_ep(pw) == g->pep[i] && !w_busy(pw))
		mismatch(w, "stable", p, g->mm, va, pfn, "a DMA read through a GUP", v,
			 g->seen[i], pfn, "no write reached the page since "
			 "this worker's DMA of");
	r = p >= 0 ? rec_valid(w, p) : NULL;
	if (coherent && r && r->val != v)
		mismatch(w, "lost", p, g->mm, va, pfn, "a DMA read through a pin", v,
			 r->val, r->pfn, "the pinned page is the one mapped "
			 "there, and nothing changed the place since this "
			 "worker's access of");
	g->seen[i] = v;
	if (view_after(&S.ppw[pfn], pe1, pquiet)) {
		g->pep[i] = pe1;
		g->seen_valid |= 1u << i;
	} else {
		g->seen_valid &= ~(1u << i);
	}
	if (coherent)
		rec_put(w, p, mep0, view_after(&S.pw[p], e1, quiet), e1, v,
			r ? r->src : (long)g->gid, pfn);
	return 0;
}
