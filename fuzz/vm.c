/* SPDX-License-Identifier: MIT */
/*
 * vm.c - the op VM (see vm.h): each op runs on the core, then on the
 * reference model, then the two states are compared and the core's
 * checker runs.  The core is reached only through its public headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "folio/check.h"
#include "folio/debug.h"
#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/gup.h"
#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/memmap.h"
#include "folio/page_alloc.h"
#include "folio/page_ref.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"
#include "folio/vmscan.h"
#include "folio/world.h"
#include "vm_internal.h"

/* The model is large (the folio table); one per process, as the world is. */
static struct vm vm_state;

const char *vm_model_mutant(void)
{
	return model_mutant();
}

/* ---- findings ---- */

int finding(struct vm *v, const struct folio *fo, int id,
		   const char *rule, const char *fmt, ...)
{
	va_list ap;

	v->f->op = v->op;
	snprintf(v->f->rule, sizeof(v->f->rule), "%s", rule);
	va_start(ap, fmt);
	vsnprintf(v->f->detail, sizeof(v->f->detail), fmt, ap);
	va_end(ap);
	v->bad = fo;
	v->bad_id = id;
	return 1;
}

static void print_model_folio(const struct vm *v, int id, FILE *out)
{
	const struct m_folio *f = &v->m.f[id];
	struct m_counts c;

	model_counts(&v->m, id, &c);
	fprintf(out, "  model folio #%d: %s pfn %lu order %u %s %d index %lu "
		     "rc %ld map %ld entire %ld pin %ld%s%s%s%s\n",
		id, f->live ? "live" : "freed", f->pfn, f->order,
		f->anon ? "anon mm" : "file", f->anon ? f->mm : f->file,
		f->index, c.rc, c.map, c.entire, c.pin,
		f->dirty ? " dirty" : "", f->swapbacked ? " swapbacked" : "",
		f->queued ? " queued" : "",
		f->anon && !f->swapbacked ? " lazyfree" : "");
}

static void report(struct vm *v)
{
	FILE *out = v->o->report;

	if (!out)
		return;
	fprintf(out, "FINDING after op %u: %s: %s\n", v->f->op, v->f->rule,
		v->f->detail);
	if (v->f->op < v->p->nops) {
		fprintf(out, "  op %u: ", v->f->op);
		prog_print_op(v->p, &v->p->ops[v->f->op], out);
	} else {
		fprintf(out, "  at the end of the program (teardown)\n");
	}
	if (v->bad_id >= 0)
		print_model_folio(v, v->bad_id, out);
	if (v->bad)
		dump_folio(out, v->bad, "core state");
}

/* ---- the oracle: choices the core made that the model cannot predict ---- */

static const void *or_desc_at(void *ctx, unsigned long pfn)
{
	memdesc_t w;

	(void)ctx;
	if (pfn >= vm_state.p->world.pages)
		return NULL;
	w = memmap_word_load(pfn);
	return memdesc_is_folio(w) ? memdesc_ptr(w) : NULL;
}

static unsigned long or_slot_pfn(void *ctx, unsigned int file, unsigned long idx)
{
	struct vm *v = ctx;
	struct folio *f = atomic_load(&v->files[file]->slots[idx]);

	return f ? folio_pfn(f) : ~0ul;
}

static unsigned long or_entry_pfn(void *ctx, unsigned int mm, unsigned long va)
{
	struct vm *v = ctx;
	pmd_t pmd = atomic_load(pmd_offset(v->mms[mm], va));
	pte_t pte;

	if (pmd_leaf(pmd))
		return pte_pfn(pmd) + (va & (pmd_nr() - 1));
	if (!pmd_table(pmd))
		return ~0ul;
	pte = atomic_load(pte_offset(pmd, va));
	return pte_present(pte) ? pte_pfn(pte) : ~0ul;
}

static bool or_pmd_is_table(void *ctx, unsigned int mm, unsigned int pmd)
{
	struct vm *v = ctx;

	return pmd_table(atomic_load(&v->mms[mm]->pmds[pmd]));
}

static unsigned int or_order_of(void *ctx, const void *desc)
{
	(void)ctx;
	return folio_order(desc);
}

/* ---- running one op on the core ---- */

static unsigned int foll(unsigned int flags)
{
	return (flags & PROG_GUP_PIN ? FOLL_PIN : FOLL_GET) |
	       (flags & PROG_GUP_WRITE ? FOLL_WRITE : 0);
}

static void release_real(struct vm *v, unsigned int h, unsigned int mode)
{
	struct vm_handle *rh = &v->h[h];

	if (v->m.h[h].kind == H_REF) {
		if (rh->folio)	/* NULL only after a finding said so */
			folio_put(rh->folio);
	} else if (!rh->n) {
		/* nothing pinned (only after a finding) */
	} else if (mode == 0) {
		unpin_user_pages(rh->pfn, rh->n, foll(rh->flags));
	} else if (mode == 1) {
		unpin_user_pages_unbatched(rh->pfn, rh->n, foll(rh->flags));
	} else {
		unpin_user_pages_dirty_lock(rh->pfn, rh->n, foll(rh->flags));
	}
	memset(rh, 0, sizeof(*rh));
}

/* Whether the model will skip this op (no such handle / no free slot). */
static bool skipped(const struct vm *v, const struct prog_op *op)
{
	const struct m_handle *mh = &v->m.h[op->arg[0] % PROG_NR_HANDLES];

	switch (op->code) {
	case OP_LOOKUP: case OP_GET_PFN: case OP_GUP: case OP_GET_VA:
		return model_free_handle(&v->m) < 0;
	case OP_PUT: case OP_UNPIN:
		return mh->kind == H_FREE;
	case OP_SPLIT: case OP_RECLAIM:
		return mh->kind != H_REF;
	default:
		return false;
	}
}

static long run_real(struct vm *v, const struct prog_op *op)
{
	const unsigned int *a = op->arg;
	struct mm_struct *mm = v->mms[a[0] & 1];	/* only read by mm ops */
	int h = model_free_handle(&v->m);
	unsigned long pfn;
	struct folio *f;
	long r;

	switch (op->code) {
	case OP_ADD:
		f = folio_alloc(a[2]);
		if (!f)
			return -ENOMEM;
		if (!folio_trylock(f))
			return -EDEADLK;	/* a new folio is never locked */
		r = filemap_add_folio(v->files[a[0]], f, a[1]);
		folio_unlock(f);
		folio_put(f);
		return r;
	case OP_LOOKUP:
		f = filemap_get_folio(v->files[a[0]], a[1]);
		v->h[h].folio = f;
		return f ? 1 : 0;
	case OP_GET_PFN:
		rcu_read_lock_model();
		f = folio_try_get_pfn(a[0], 1);
		rcu_read_unlock_model();
		v->h[h].folio = f;
		return f ? 1 : 0;
	case OP_GET_VA:
		rcu_read_lock_model();	/* the walk: tables stay while we look */
		pfn = or_entry_pfn(v, a[0], a[1]);
		f = pfn != ~0ul ? folio_try_get_pfn(pfn, 1) : NULL;
		rcu_read_unlock_model();
		v->h[h].folio = f;
		return f ? 1 : 0;
	case OP_PUT:
		release_real(v, a[0], 0);
		return 0;
	case OP_UNPIN:
		release_real(v, a[0], a[1]);
		return 0;
	case OP_TRUNCATE:
		return (long)truncate_inode_pages_range(v->files[a[0]], a[1],
							a[1] + a[2]);
	case OP_FAULT:
		return do_anonymous_page(mm, a[1], a[2], a[3]);
	case OP_MAP:
		return filemap_map_pages(mm, v->files[a[1]], a[2], a[3], a[4]);
	case OP_ZAP:
		return zap_page_range(mm, a[1], a[2]);
	case OP_TOUCH:
		return touch_page(mm, a[1], a[2]);
	case OP_GUP:
		r = (a[3] & PROG_GUP_BATCHED ? gup_fast : gup_fast_unbatched)(
			mm, a[1], a[2], foll(a[3]), v->h[h].pfn);
		v->h[h].n = r > 0 ? (unsigned int)r : 0;
		v->h[h].flags = a[3];
		return r;
	case OP_SPLIT:
		f = v->h[a[0]].folio;
		if (!folio_trylock(f))
			return -EDEADLK;
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
		f = v->h[a[0]].folio;
		if (!folio_trylock(f))
			return -EDEADLK;
		r = reclaim_lazyfree_folio(f, a[1]);
		if (r)
			folio_unlock(f);
		else	/* freed with the handle's reference and the lock */
			memset(&v->h[a[0]], 0, sizeof(v->h[a[0]]));
		return r;
	default:
		return 0;
	}
}


/* ---- the program ---- */

static void trace_op(struct vm *v, const struct prog_op *op, long r, int made)
{
	FILE *t = v->o->trace;

	if (!t)
		return;
	fprintf(t, "%4u  ", v->op);
	prog_print_op(v->p, op, t);
	fseek(t, 0, SEEK_CUR);
	if (r == M_SKIP)
		fprintf(t, "      -> skipped (no such handle, or all %d in use)\n",
			PROG_NR_HANDLES);
	else if (made >= 0 && v->m.h[made].kind == H_REF)
		fprintf(t, "      -> %ld, h%d = folio pfn %lu order %u\n", r, made,
			v->m.f[v->m.h[made].folio].pfn,
			v->m.f[v->m.h[made].folio].order);
	else if (made >= 0)
		fprintf(t, "      -> %ld, h%d = %u pages from pfn %lu\n", r, made,
			v->m.h[made].n, v->m.h[made].pfn[0]);
	else
		fprintf(t, "      -> %ld\n", r);
}

/* The checker, with every handle's references and pins declared as held. */
static int check(struct vm *v)
{
	struct folio_held held[PROG_NR_HANDLES * PROG_GUP_MAX];
	struct folio_violation first;
	struct folio_check_opts co = { .held = held };
	size_t n = 0;

	for (int h = 0; h < PROG_NR_HANDLES; h++) {
		const struct m_handle *mh = &v->m.h[h];

		if (mh->kind == H_REF)
			held[n++] = (struct folio_held){ v->h[h].folio, 1, 0 };
		if (mh->kind == H_GUP)
			for (unsigned int i = 0; i < v->h[h].n; i++) {
				bool pin = mh->flags & PROG_GUP_PIN;

				held[n++] = (struct folio_held){
					pfn_folio(v->h[h].pfn[i]), pin ? 0 : 1, pin };
			}
	}
	co.nr_held = n;
	co.out = v->o->report;
	co.max_print = 4;
	if (!folio_check_quiescent(&co, &first))
		return 0;
	return finding(v, first.folio, -1, first.rule, "%s", first.detail);
}

static int step(struct vm *v, const struct prog_op *op)
{
	unsigned long failures = nr_alloc_failures();
	struct m_oracle o = {
		.ctx = v, .desc_at = or_desc_at, .slot_pfn = or_slot_pfn,
		.entry_pfn = or_entry_pfn, .pmd_is_table = or_pmd_is_table,
		.order_of = or_order_of,
	};
	long r = M_SKIP, mr;
	int made;

	if (!skipped(v, op))
		r = run_real(v, op);
	o.real_rc = r;
	o.alloc_failed = nr_alloc_failures() != failures;
	mr = model_op(&v->m, op, &o, &made);
	trace_op(v, op, r, made);
	if (v->o->results)
		v->o->results[v->op] = r;
	if (r != mr)
		return finding(v, NULL, -1, "model-rc",
			       "the core returned %ld, the model %ld", r, mr);
	return vm_compare(v, made) || check(v);
}

static int setup(struct vm *v)
{
	const struct prog_world *w = &v->p->world;
	struct folio_config cfg = { .nr_pages = w->pages,
				    .pmd_order = w->pmd_order };
	static bool online;

	if (!online) {		/* liburcu: this thread reads under RCU */
		folio_thread_online();
		/* one thread, barriers only between ops: callbacks run inline */
		folio_rcu_set_single_threaded(true);
		online = true;
	}
	if (folio_world_init(&cfg))
		return -1;
	model_init(&v->m, w);
	for (unsigned int i = 0; i < w->files; i++)
		v->files[i] = address_space_create(v->m.slots);
	for (unsigned int i = 0; i < w->mms; i++) {
		v->mms[i] = mm_create(v->m.anon_pages, v->m.slots);
		if (!v->mms[i])
			return -1;
		for (unsigned int fl = 0; fl < w->files; fl++)
			if (mm_add_file_window(v->mms[i], v->files[fl]) !=
			    (long)model_window(&v->m, (int)fl))
				return -1;
	}
	return 0;
}

/* Drop every handle, empty the files, tear the mms down: no leak allowed. */
static int teardown(struct vm *v, int found)
{
	const struct prog_world *w = &v->p->world;
	unsigned long leaks;

	for (unsigned int h = 0; h < PROG_NR_HANDLES; h++)
		if (v->m.h[h].kind != H_FREE) {
			release_real(v, h, 0);
			v->m.h[h].kind = H_FREE;
		}
	for (unsigned int i = 0; i < w->files; i++)
		truncate_inode_pages_range(v->files[i], 0, v->m.slots);
	for (unsigned int i = 0; i < w->mms; i++)
		if (v->mms[i])
			mm_destroy(v->mms[i]);
	for (unsigned int i = 0; i < w->files; i++)
		if (v->files[i] && address_space_destroy(v->files[i]) && !found)
			found = finding(v, NULL, -1, "teardown",
					"file %u still has folios after truncation", i);
	if (!found)
		found = check(v);
	leaks = folio_world_destroy(v->o->report);
	if (leaks && !found)
		found = finding(v, NULL, -1, "leak",
				"%lu pages or descriptors not freed at the end", leaks);
	memset(v->files, 0, sizeof(v->files));
	memset(v->mms, 0, sizeof(v->mms));
	return found;
}

int vm_run(const struct prog *p, const struct vm_opts *o, struct vm_finding *f)
{
	struct vm *v = &vm_state;
	int found = 0;

	memset(v->h, 0, sizeof(v->h));
	v->p = p;
	v->o = o;
	v->f = f;
	v->bad = NULL;
	v->bad_id = -1;
	memset(f, 0, sizeof(*f));
	if (setup(v)) {
		folio_world_destroy(NULL);
		return -1;
	}
	for (v->op = 0; v->op < p->nops && !found; v->op++)
		found = step(v, &p->ops[v->op]);
	if (found)
		report(v);
	v->op = p->nops;
	if (teardown(v, found) && !found) {
		found = 1;
		report(v);
	}
	return found;
}
