/* SPDX-License-Identifier: MIT */
/*
 * workers.c - the foliotorture workers.  Each worker runs a random mix of
 * page-cache and allocator operations on shared files, checks what it
 * gets (identity rechecks from the caller's side), keeps some references
 * across steps (recorded in its ledger), and parks when the main thread
 * asks for a quiescent point.
 */
#include <errno.h>
#include <sched.h>

#include "folio/lock.h"
#include "folio/page_alloc.h"
#include "folio/rcu.h"
#include "data_oracle.h"
#include "scenario.h"
#include "targets.h"
#include "torture.h"

const char *const ft_op_names[FT_OP_NR] = {
	[FT_OP_LOOKUP] = "lookup",
	[FT_OP_LOOKUP_LOCKED] = "lookup_locked",
	[FT_OP_PFN_GET] = "pfn_get",
	[FT_OP_ADD] = "add",
	[FT_OP_TRUNCATE] = "truncate",
	[FT_OP_CHURN] = "churn",
	[FT_OP_RELEASE] = "release",
	[FT_OP_FAULT] = "fault",
	[FT_OP_ZAP] = "zap",
	[FT_OP_FILE_MAP] = "file_map",
	[FT_OP_TOUCH] = "touch",
	[FT_OP_GUP] = "gup",
	[FT_OP_UNPIN] = "unpin",
	[FT_OP_SPLIT] = "split",
	[FT_OP_SPLIT_PMD] = "split_pmd",
	[FT_OP_DEFERRED_SCAN] = "deferred_scan",
	[FT_OP_MADV_FREE] = "madv_free",
	[FT_OP_RECLAIM] = "reclaim",
	[FT_OP_LOCK] = "lock",
	[FT_OP_FORK] = "fork",
	[FT_OP_WP_FAULT] = "wp_fault",
	[FT_OP_GUP_SLOW] = "gup_slow",
	[FT_OP_MIGRATE] = "migrate",
	[FT_OP_COLLAPSE] = "collapse",
	[FT_OP_DMA] = "dma",
	[FT_OP_WP_MERGE] = "wp_merge",
};

unsigned int ft_pick_file_id(struct ft_worker *w)
{
	if (ft.private_folios)
		return w->id % ft.o.nr_files;
	return (unsigned int)(ft_rand(&w->rng) % ft.o.nr_files);
}

struct address_space *ft_pick_file(struct ft_worker *w)
{
	return ft.files[ft_pick_file_id(w)];
}

/* Report a broken expectation seen by a worker and stop the run. */
static atomic_int worker_errors;
int ft_worker_errors(void);
int ft_worker_errors(void)
{
	return atomic_load(&worker_errors);
}

void ft_worker_bug(struct ft_worker *w, const char *what,
		   const struct folio *f, unsigned long arg)
{
	fprintf(stderr, "BUG: worker %u: %s (arg %#lx)\n", w->id, what, arg);
	dump_folio(stderr, f, what);
	atomic_fetch_add(&worker_errors, 1);
	atomic_store(&ft.stop, true);
}

static void park(void)
{
	unsigned long gen;

	pthread_mutex_lock(&ft.park_lock);
	ft.nparked++;
	pthread_cond_signal(&ft.parked_cond);
	gen = ft.park_gen;
	while (ft.park_gen == gen)
		pthread_cond_wait(&ft.park_cond, &ft.park_lock);
	ft.nparked--;
	pthread_mutex_unlock(&ft.park_lock);
}

static void ledger_keep(struct ft_worker *w, struct folio *f)
{
	w->ledger.held[w->ledger.nr++] = (struct folio_held){ f, 1, 0 };
}

/* Either keep the lookup's reference for a while (ledgered) or drop it. */
static void keep_or_put(struct ft_worker *w, struct folio *f)
{
	if (w->ledger.nr < FT_LEDGER_MAX && ft_rand(&w->rng) % 4 == 0)
		ledger_keep(w, f);
	else
		folio_put(f);
}

static void check_identity(struct ft_worker *w, struct folio *f,
			   struct address_space *m, unsigned long index)
{
	struct address_space *fm = folio_mapping(f);
	unsigned long fi = folio_index(f);

	/*
	 * With our reference held the descriptor cannot be reused, so its
	 * index is stable; its mapping may go to NULL if truncated since.
	 */
	if (folio_ref_count(f) < 1 || (fm != m && fm != NULL) || fi > index ||
	    index - fi >= folio_nr_pages(f))
		ft_worker_bug(w, "lookup returned a folio that is not at the index",
			   f, index);
}

static int op_lookup(struct ft_worker *w, bool locked)
{
	unsigned long index;
	struct address_space *m = ft_pick_index(w, &index);
	struct folio *f = filemap_get_folio(m, index);

	ft_ring_add(&w->ring, locked ? FT_OP_LOOKUP_LOCKED : FT_OP_LOOKUP,
		    f ? 0 : 1, f, index);
	if (!f)
		return 1;
	check_identity(w, f, m, index);
	if (locked) {
		folio_lock(f);
		/* __filemap_get_folio: recheck mapping under the lock */
		if (folio_mapping(f) == m && folio_index(f) > index)
			ft_worker_bug(w, "locked folio moved", f, index);
		folio_unlock(f);
	}
	if (ft.o.self_test == FT_SELF_TEST_LEAK && w->id == 0 &&
	    !atomic_load(&ft.self_test_fired) && ft_rand(&w->rng) % 64 == 0) {
		/* --self-test: leak one unrecorded reference on purpose */
		atomic_store(&ft.self_test_fired, true);
		folio_get(f);
		fprintf(stderr, "self-test: leaked one reference on %p\n",
			(void *)f);
	}
	keep_or_put(w, f);
	return 0;
}

/* A speculative get of a page: at one recently mapped or cached, or
 * blind. */
static int op_pfn_get(struct ft_worker *w)
{
	unsigned long pfn;
	struct folio *f = ft_grab_target(w, &ft_hot_mapped, true, &pfn);

	ft_ring_add(&w->ring, FT_OP_PFN_GET, f ? 0 : 1, f, pfn);
	if (!f)
		return 1;
	if (pfn - folio_pfn(f) >= folio_nr_pages(f))
		ft_worker_bug(w, "pfn get returned a folio not covering the pfn",
			   f, pfn);
	keep_or_put(w, f);
	return 0;
}

static int op_add(struct ft_worker *w)
{
	unsigned int file = ft_pick_file_id(w);
	struct address_space *m = ft.files[file];
	unsigned int order = ft_rand(&w->rng) % (ft.o.max_order + 1);
	unsigned long nr = 1ul << order;
	unsigned long index = (ft_rand(&w->rng) % ft.o.file_pages) & ~(nr - 1);
	struct folio *f = folio_alloc(order);
	int err;

	if (!f) {
		ft_ring_add(&w->ring, FT_OP_ADD, -ENOMEM, NULL, index);
		return -ENOMEM;
	}
	folio_lock(f);
	err = filemap_add_folio(m, f, index);
	folio_unlock(f);
	if (!err)	/* where pfn gets, splits and migrations may aim */
		ft_hot_push_cached(file, index, folio_pfn(f), nr);
	ft_ring_add(&w->ring, FT_OP_ADD, err, f, index);
	folio_put(f);	/* cached: the cache's refs keep it; else freed */
	if (err && err != -EEXIST && err != -EINVAL)
		ft_worker_bug(w, "filemap_add_folio failed unexpectedly", NULL,
			   index);
	return err ? 1 : 0;
}

static int op_truncate(struct ft_worker *w)
{
	struct address_space *m = ft_pick_file(w);
	unsigned long start = ft_rand(&w->rng) % ft.o.file_pages;
	unsigned long len = 1 + ft_rand(&w->rng) % 16;
	/* whole folios go: the places from the largest folio's boundary */
	unsigned long big = 1ul << (ft.o.max_order > ft.o.pmd_order ?
				    ft.o.max_order : ft.o.pmd_order);
	unsigned long lo = start & ~(big - 1), hi = (start + len + big - 1) & ~(big - 1);
	unsigned long n;

	ft_data_disturb(FT_DD_TRUNCATE, m->id, lo, hi, false, 0, 0, NULL);
	n = truncate_inode_pages_range(m, start, start + len);
	ft_data_disturb(FT_DD_TRUNCATE, m->id, lo, hi, true, (long)n, 0, NULL);

	ft_ring_add(&w->ring, FT_OP_TRUNCATE, n ? 0 : 1, NULL, start);
	return n ? 0 : 1;
}

static int op_churn(struct ft_worker *w)
{
	unsigned int order = ft_rand(&w->rng) % (ft.o.max_order + 1);
	struct folio *f = folio_alloc(order);

	ft_ring_add(&w->ring, FT_OP_CHURN, f ? 0 : -ENOMEM, f, order);
	if (!f)
		return 1;
	folio_put(f);
	return 0;
}

static int op_release(struct ft_worker *w)
{
	unsigned int i;
	struct folio *f;

	if (!w->ledger.nr) {
		ft_ring_add(&w->ring, FT_OP_RELEASE, 1, NULL, 0);
		return 1;
	}
	i = ft_rand(&w->rng) % w->ledger.nr;
	f = (struct folio *)w->ledger.held[i].folio;
	w->ledger.held[i] = w->ledger.held[--w->ledger.nr];
	ft_ring_add(&w->ring, FT_OP_RELEASE, 0, f, 0);
	folio_put(f);
	return 0;
}

/* An operation of the worker's scenario group, by weight. */
static enum ft_op pick(struct ft_worker *w)
{
	const struct ft_group *g = w->group;
	unsigned int r = (unsigned int)(ft_rand(&w->rng) % g->total), acc = 0;

	for (int k = 0; k < FT_OP_NR; k++) {
		acc += g->weight[k];
		if (r < acc)
			return (enum ft_op)k;
	}
	return FT_OP_LOOKUP;
}

void *ft_worker_main(void *arg)
{
	struct ft_worker *w = arg;

	folio_thread_online();
	ft_chaos_thread(w->rng);
	while (!atomic_load_explicit(&ft.stop, memory_order_relaxed)) {
		enum ft_op op;
		int r = 0;

		if (atomic_load_explicit(&ft.park_req, memory_order_acquire)) {
			park();
			continue;
		}
		op = pick(w);
		atomic_store_explicit(&w->cur_op, (int)op, memory_order_relaxed);
		if (ft.o.self_test == FT_SELF_TEST_HANG && w->id == 0 &&
		    atomic_load_explicit(&w->ops[op], memory_order_relaxed) > 100)
			for (;;)	/* the planted hang: never parks, never stops */
				sched_yield();
		if (ft.o.self_test == FT_SELF_TEST_CRASH && w->id == 0 &&
		    atomic_load_explicit(&w->ops[op], memory_order_relaxed) > 100)
			(void)*(volatile int *)ft_null_ptr;	/* the planted crash */
		switch (op) {
		case FT_OP_LOOKUP: r = op_lookup(w, false); break;
		case FT_OP_LOOKUP_LOCKED: r = op_lookup(w, true); break;
		case FT_OP_PFN_GET: r = op_pfn_get(w); break;
		case FT_OP_ADD: r = op_add(w); break;
		case FT_OP_TRUNCATE: r = op_truncate(w); break;
		case FT_OP_CHURN: r = op_churn(w); break;
		case FT_OP_RELEASE: r = op_release(w); break;
		case FT_OP_NR: break;
		default: r = ft_mm_op(w, op); break;
		}
		atomic_store_explicit(&w->cur_op, -1, memory_order_relaxed);
		/*
		 * One writer (this worker), readers that want a snapshot (the
		 * stats line): a relaxed load and store, no locked add -- a
		 * locked RMW per op cost 9% of a two-thread private run.
		 */
		atomic_store_explicit(&w->ops[op],
				      atomic_load_explicit(&w->ops[op],
							   memory_order_relaxed) + 1,
				      memory_order_relaxed);
		if (r) {
			atomic_ulong *c = r == FT_RACED ? &w->raced[op] :
							  &w->fails[op];

			atomic_store_explicit(c, atomic_load_explicit(
						      c, memory_order_relaxed) + 1,
					      memory_order_relaxed);
		}
	}
	pthread_mutex_lock(&ft.park_lock);
	ft.nrunning--;
	w->exited = true;
	pthread_cond_signal(&ft.parked_cond);
	pthread_mutex_unlock(&ft.park_lock);
	folio_thread_offline();
	return NULL;
}

void ft_ledger_release(struct ft_worker *w)
{
	while (w->ledger.nr)
		folio_put((struct folio *)w->ledger.held[--w->ledger.nr].folio);
}
