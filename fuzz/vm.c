/* SPDX-License-Identifier: MIT */
/*
 * vm.c - the op VM (see vm.h): each op runs on the core, then on the
 * reference model, then the two states are compared and the core's
 * checker runs.  The core is reached only through its public headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
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
#include "data_value.h"
#include "vm_internal.h"

_Static_assert(EXEC_SKIPPED == M_SKIP, "the core and the model skip alike");

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
		     "rc %ld map %ld entire %ld pin %ld%s%s%s%s%s%s",
		id, f->live ? "live" : "freed", f->pfn, f->order,
		f->anon ? "anon mm" : "file", f->anon ? f->mm : f->file,
		f->index, c.rc, c.map, c.entire, c.pin,
		f->dirty ? " dirty" : "", f->swapbacked ? " swapbacked" : "",
		f->queued ? " queued" : "",
		f->anon && !f->swapbacked ? " lazyfree" : "",
		f->excl ? " exclusive" : "",
		f->ksm ? " write-protected, sharers va" : "");
	for (unsigned int k = 0; f->ksm && k < f->nsh; k++)
		fprintf(out, "%s%u", k ? "," : " ", f->sh[k]);
	fprintf(out, "\n");
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
	struct folio *f = atomic_load(&v->ex.files[file]->slots[idx]);

	return f ? folio_pfn(f) : ~0ul;
}

static unsigned long or_entry_pfn(void *ctx, unsigned int mm, unsigned long va)
{
	struct vm *v = ctx;
	pmd_t pmd = atomic_load(pmd_offset(v->ex.mms[mm], va));
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

	return pmd_table(atomic_load(&v->ex.mms[mm]->pmds[pmd]));
}

static unsigned int or_order_of(void *ctx, const void *desc)
{
	(void)ctx;
	return folio_order(desc);
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
	else if (v->m.read_valid) {
		char what[224];

		vm_describe_data(v, v->m.read_val, what, sizeof(what));
		fprintf(t, "      -> %ld, read %s\n", r, what);
	} else
		fprintf(t, "      -> %ld\n", r);
}

/* The checker, with every handle's references and pins declared as held. */
static int check(struct vm *v)
{
	struct folio_held held[PROG_NR_HANDLES * PROG_GUP_MAX];
	struct folio_violation first;
	struct folio_check_opts co = { .held = held };

	co.nr_held = exec_held(&v->ex, held);
	co.out = v->o->report;
	co.max_print = 4;
	if (!folio_check_quiescent(&co, &first))
		return 0;
	return finding(v, first.folio, -1, first.rule, "%s", first.detail);
}

/* A VM_BUG_ON in the core: the op's finding; the run cannot go on. */
static void on_core_bug(const char *file, int line, const char *func,
			const char *cond, const struct folio *f)
{
	struct vm *v = &vm_state;

	finding(v, f, -1, "VM_BUG_ON", "%s:%d (in %s): %s", file, line, func,
		cond);
	report(v);
	if (v->o->report)
		fflush(v->o->report);
	if (v->o->on_fatal) {
		v->o->on_fatal(v->o->fatal_ctx);
		fflush(NULL);
		exit(1);
	}
	/* folio_bug() prints the assertion and aborts */
}

/* exec.c's caller-side checks: the first failure is the op's finding. */
static int exec_bug_found;

static void on_exec_bug(const char *rule, const struct folio *f,
			const char *detail)
{
	if (!exec_bug_found)
		finding(&vm_state, f, -1, rule, "%s", detail);
	exec_bug_found = 1;
}

/* Who wrote @val, for a report: the op that wrote it, if one did. */
void vm_describe_data(const struct vm *v, uint64_t val, char *buf, size_t n)
{
	char what[160];
	unsigned long seq = ft_data_seq(val);

	ft_data_describe(val, what, sizeof(what));
	if (ft_data_is_ours(val) && seq < v->p->nops) {
		char op[96];
		FILE *mem = fmemopen(op, sizeof(op), "w");

		if (mem) {
			prog_print_op(v->p, &v->p->ops[seq], mem);
			fclose(mem);
			op[strcspn(op, "\n")] = 0;
			snprintf(buf, n, "%s, by op %lu: %s", what, seq, op);
			return;
		}
	}
	snprintf(buf, n, "%s", what);
}

/* A load (touch or dma) read another value than the model's. */
static int read_finding(struct vm *v)
{
	char got[224], want[224];

	if (!v->m.read_valid || !v->ex.read_valid)
		return finding(v, NULL, -1, "model-data", "the core %s a page, the "
			       "model %s", v->ex.read_valid ? "read" : "read no",
			       v->m.read_valid ? "does" : "does not");
	vm_describe_data(v, v->ex.read_val, got, sizeof(got));
	vm_describe_data(v, v->m.read_val, want, sizeof(want));
	return finding(v, NULL, -1, "model-data", "read %s; the model reads %s",
		       got, want);
}

static int step(struct vm *v, const struct prog_op *op)
{
	unsigned long failures = nr_alloc_failures();
	struct m_oracle o = {
		.ctx = v, .desc_at = or_desc_at, .slot_pfn = or_slot_pfn,
		.entry_pfn = or_entry_pfn, .pmd_is_table = or_pmd_is_table,
		.order_of = or_order_of,
	};
	long r, mr;
	int made, real_made;

	exec_on_bug = on_exec_bug;
	exec_bug_found = 0;
	r = exec_op(&v->ex, op, &real_made);	/* cmp_handles checks the slot */
	if (exec_bug_found)
		return 1;
	o.real_rc = r;
	o.alloc_failed = nr_alloc_failures() != failures;
	v->m.op = v->op;
	mr = model_op(&v->m, op, &o, &made);
	trace_op(v, op, r, made);
	if (v->o->results)
		v->o->results[v->op] = r;
	if (v->o->reads) {
		v->o->reads[v->op] = v->ex.read_val;
		v->o->read_ok[v->op] = v->ex.read_valid;
	}
	if (r != mr)
		return finding(v, NULL, -1, "model-rc",
			       "the core returned %ld, the model %ld", r, mr);
	if (v->m.read_valid != v->ex.read_valid ||
	    (v->m.read_valid && v->m.read_val != v->ex.read_val))
		return read_finding(v);
	/* what the op touched; every check_every-th op (and the last) in
	 * full, with the core's full checker */
	if (v->o->check_every > 1 && (v->op + 1) % v->o->check_every &&
	    v->op + 1 != v->p->nops)
		return vm_compare(v, made);
	if (vm_compare_full(v))
		return 1;
	return check(v);
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
		v->ex.files[i] = address_space_create(v->m.slots);
	for (unsigned int i = 0; i < w->mms; i++) {
		v->ex.mms[i] = mm_create(v->m.anon_pages, v->m.slots);
		if (!v->ex.mms[i])
			return -1;
		for (unsigned int fl = 0; fl < w->files; fl++)
			if (mm_add_file_window(v->ex.mms[i], v->ex.files[fl]) !=
			    (long)model_window(&v->m, (int)fl))
				return -1;
	}
	exec_data_begin(&v->ex, 1, w);
	vm_compare_start(v);
	return 0;
}

/* Drop every handle, empty the files, tear the mms down: no leak allowed. */
static int teardown(struct vm *v, int found)
{
	const struct prog_world *w = &v->p->world;
	unsigned long leaks;

	exec_data_end();
	vm_compare_stop(v);
	exec_release_all(&v->ex);
	for (unsigned int h = 0; h < PROG_NR_HANDLES; h++)
		v->m.h[h].kind = H_FREE;
	for (unsigned int i = 0; i < w->files; i++)
		truncate_inode_pages_range(v->ex.files[i], 0, v->m.slots);
	for (unsigned int i = 0; i < w->mms; i++)
		if (v->ex.mms[i])
			mm_destroy(v->ex.mms[i]);
	for (unsigned int i = 0; i < w->files; i++)
		if (v->ex.files[i] && address_space_destroy(v->ex.files[i]) && !found)
			found = finding(v, NULL, -1, "teardown",
					"file %u still has folios after truncation", i);
	if (!found)
		found = check(v);
	leaks = folio_world_destroy(v->o->report);
	if (leaks && !found)
		found = finding(v, NULL, -1, "leak",
				"%lu pages or descriptors not freed at the end", leaks);
	memset(&v->ex, 0, sizeof(v->ex));
	return found;
}

int vm_run(const struct prog *p, const struct vm_opts *o, struct vm_finding *f)
{
	struct vm *v = &vm_state;
	int found = 0;

	memset(&v->ex, 0, sizeof(v->ex));
	v->p = p;
	v->o = o;
	v->f = f;
	v->bad = NULL;
	v->bad_id = -1;
	memset(f, 0, sizeof(*f));
	atomic_store(&folio_bug_hook, on_core_bug);
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
