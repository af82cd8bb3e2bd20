/* SPDX-License-Identifier: MIT */
/*
 * vm_compare.c - after every op: does the core's state equal the model's?
 * Handles, then every PFN's owner, then every live folio's counts and
 * flags, the page cache, the page tables, the deferred-split queue and
 * every page's contents.
 *
 * In full (vm_compare_full: folio-replay after every op, the fuzz targets
 * every check_every-th op and after the last) or in part (vm_compare: the
 * fuzz targets after the other ops): what the op touched, tracked on
 * both sides.  The model's side by difference: its small tables (owners,
 * slots, page tables, contents, every folio's fields and counts) against
 * a copy taken at the last comparison.  The core's side by its refcount
 * tracepoint (FOLIO_DEBUG builds): every folio whose count moved.  What
 * the core changes with neither (a stray store into a table no count and
 * no model rule touched) shows at the next full comparison, at most
 * check_every ops later; folio-replay then names the op exactly.
 */
#include <string.h>

#include "folio/folio.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/memmap.h"
#include "folio/page_data.h"
#include "folio/page_ref.h"
#include "vm_internal.h"

static int cmp_handles(struct vm *v)
{
	for (int h = 0; h < PROG_NR_HANDLES; h++) {
		const struct m_handle *mh = &v->m.h[h];
		const struct exec_handle *rh = &v->ex.h[h];

		if ((mh->kind == H_REF) != (rh->kind == EH_REF) ||
		    (mh->kind == H_GUP) != (rh->kind == EH_GUP))
			return finding(v, rh->folio, -1, "model-handle",
				       "h%d: the core's handle is %s, the model's %s", h,
				       rh->kind == EH_REF ? "a reference" :
				       rh->kind == EH_GUP ? "a GUP" : "free",
				       mh->kind == H_REF ? "a reference" :
				       mh->kind == H_GUP ? "a GUP" : "free");
		if (mh->kind == H_REF && rh->folio != v->m.f[mh->folio].real)
			return finding(v, rh->folio, mh->folio, "model-handle",
				       "h%d holds a different folio than the model's", h);
		if (mh->kind != H_GUP)
			continue;
		if (rh->n != mh->n)
			return finding(v, NULL, -1, "model-gup",
				       "h%d: the core pinned %u pages, the model %u",
				       h, rh->n, mh->n);
		for (unsigned int i = 0; i < mh->n; i++)
			if (rh->pfn[i] != mh->pfn[i])
				return finding(v, NULL, -1, "model-gup",
					       "h%d page %u: core pfn %lu, model pfn %lu",
					       h, i, rh->pfn[i], mh->pfn[i]);
	}
	return 0;
}

/* What one comparison covers: everything (all), or the items marked. */
struct sel {
	bool all;
	uint8_t pfn[M_MAX_PAGES];
	uint8_t id[M_MAX_FOLIOS];
	uint8_t slot[2][M_MAX_SLOTS];
	uint8_t pmd[2][M_MAX_PMDS];
};

static int cmp_memmap(struct vm *v, const struct sel *s)
{
	for (unsigned long pfn = 0; pfn < v->p->world.pages; pfn++) {
		if (!s->all && !s->pfn[pfn])
			continue;
		memdesc_t w = memmap_word_load(pfn);
		const void *real = memdesc_is_folio(w) ? memdesc_ptr(w) : NULL;
		int id = v->m.owner[pfn];

		if (id < 0 && real)
			return finding(v, real, -1, "model-memmap",
				       "pfn %lu belongs to a folio the model freed or never made",
				       pfn);
		if (id >= 0 && real != v->m.f[id].real)
			return finding(v, real, id, "model-memmap",
				       "pfn %lu: the model's folio is not the one in the memmap",
				       pfn);
	}
	return 0;
}

#define CMP(what, core, model)                                               \
	do {                                                                 \
		long c_ = (long)(core), m_ = (long)(model);                  \
		if (c_ != m_)                                                \
			return finding(v, f, id, "model-" what,              \
				       "folio #%d: core %s %ld, model %ld", id,  \
				       what, c_, m_);                        \
	} while (0)

/*
 * A write-protected folio's descriptor lists the model's sharers, as a
 * set (every sharer anon: no mapping).  Its mapping and index are not
 * compared: the mapping is the descriptor, the index a leftover.
 */
static int cmp_sharers(struct vm *v, int id, const struct folio *f)
{
	const struct m_folio *mf = &v->m.f[id];
	const struct wp_desc *d = folio_wp_desc(f);

	CMP("sharers", d->nr, mf->nsh);
	for (unsigned int k = 0; k < d->nr && k < WP_MAX_SHARERS; k++) {
		unsigned int j = 0;

		while (j < mf->nsh && (d->s[k].mapping || d->s[k].index != mf->sh[j]))
			j++;
		if (j == mf->nsh)
			return finding(v, f, id, "model-sharers",
				       "folio #%d: the core's sharer %s%lu is not "
				       "among the model's %u", id,
				       d->s[k].mapping ? "(a file) " : "va ",
				       d->s[k].index, mf->nsh);
	}
	return 0;
}

static int cmp_folio(struct vm *v, int id, const struct m_counts *c)
{
	const struct m_folio *mf = &v->m.f[id];
	const struct folio *f = mf->real;
	const void *mapping;

	CMP("refcount", folio_ref_count(f), c->rc);
	CMP("mapcount", folio_mapcount(f), c->map);
	CMP("entire_mapcount", folio_entire_mapcount(f), c->entire);
	CMP("pincount", folio_pincount(f), c->pin);
	CMP("pfn", folio_pfn(f), mf->pfn);
	CMP("order", folio_order(f), mf->order);
	CMP("anon", folio_test_anon(f), mf->anon);
	CMP("dirty", folio_test_dirty(f), mf->dirty);
	CMP("swapbacked", folio_test_swapbacked(f), mf->swapbacked);
	CMP("partially_mapped", folio_test_partially_mapped(f), mf->queued);
	CMP("queued", folio_on_deferred_list(f), mf->queued);
	CMP("locked", folio_test_locked(f), 0);
	CMP("anon_exclusive", folio_test_anon_exclusive(f), mf->excl);
	CMP("ksm", folio_test_ksm(f), mf->ksm);
	if (mf->ksm)
		return cmp_sharers(v, id, f);
	if (mf->anon)
		mapping = (const void *)((uintptr_t)v->ex.mms[mf->mm] | FOLIO_MAPPING_ANON);
	else
		mapping = mf->file >= 0 ? v->ex.files[mf->file] : NULL;
	if ((const void *)folio_mapping(f) != mapping)
		return finding(v, f, id, "model-mapping",
			       "folio #%d: mapping differs from the model's", id);
	CMP("index", folio_index(f), mf->index);
	return 0;
}

static int cmp_folios(struct vm *v, const struct sel *s)
{
	/* by folio id, as model_op counted them at its end */
	const struct m_counts *counts = model_op_counts(&v->m);

	for (unsigned int id = 0; id < v->m.nr_f; id++)
		if ((s->all || s->id[id]) && v->m.f[id].live &&
		    cmp_folio(v, (int)id, &counts[id]))
			return 1;
	if (deferred_split_count() != v->m.qlen)
		return finding(v, NULL, -1, "model-queue",
			       "deferred-split queue: core %lu folios, model %u",
			       deferred_split_count(), v->m.qlen);
	return 0;
}

static int cmp_cache(struct vm *v, const struct sel *s)
{
	for (unsigned int fl = 0; fl < v->p->world.files; fl++)
		for (unsigned int i = 0; i < v->m.slots; i++) {
			struct folio *f;
			int id = v->m.slot[fl][i];
			const void *want = id >= 0 ? v->m.f[id].real : NULL;

			if (!s->all && !s->slot[fl][i])
				continue;
			f = atomic_load(&v->ex.files[fl]->slots[i]);
			if ((const void *)f != want)
				return finding(v, f, id, "model-cache",
					       "file %u slot %u: the core's folio is not the model's",
					       fl, i);
		}
	return 0;
}

static uint8_t entry_bits(uint64_t e)
{
	return (uint8_t)((e & _PAGE_WRITE ? M_W : 0) | (e & _PAGE_DIRTY ? M_D : 0) |
			 (e & _PAGE_YOUNG ? M_Y : 0));
}

static int cmp_pte(struct vm *v, unsigned int mm, unsigned long va,
		   pte_t pte, const struct m_pte *e)
{
	unsigned long want;

	if (e->folio < 0) {
		if (pte)
			return finding(v, NULL, -1, "model-pte",
				       "mm %u va %lu: core entry %#llx, model none",
				       mm, va, (unsigned long long)pte);
		return 0;
	}
	want = v->m.f[e->folio].pfn + e->page;
	if (!pte_present(pte) || pte_pfn(pte) != want ||
	    entry_bits(pte) != e->bits)
		return finding(v, NULL, e->folio, "model-pte",
			       "mm %u va %lu: core entry %#llx, model pfn %lu bits %s%s%s",
			       mm, va, (unsigned long long)pte, want,
			       e->bits & M_W ? "W" : "", e->bits & M_D ? "D" : "",
			       e->bits & M_Y ? "Y" : "");
	return 0;
}

static int cmp_tables(struct vm *v, const struct sel *s)
{
	static const char *const kind[] = { "none", "table", "leaf" };

	for (unsigned int mm = 0; mm < v->p->world.mms; mm++)
		for (unsigned int p = 0; p < v->m.nr_pmds; p++) {
			const struct m_pmd *d = &v->m.pmd[mm][p];
			pmd_t pmd;
			unsigned int k;
			unsigned long va = (unsigned long)p << v->p->world.pmd_order;

			if (!s->all && !s->pmd[mm][p])
				continue;
			pmd = atomic_load(&v->ex.mms[mm]->pmds[p]);
			k = pmd_leaf(pmd) ? M_LEAF : pmd_table(pmd) ? M_TABLE :
			    pmd ? 3 : M_NONE;

			if (k != d->kind)
				return finding(v, NULL, -1, "model-pmd",
					       "mm %u pmd %u: core %s (%#llx), model %s",
					       mm, p, k < 3 ? kind[k] : "invalid",
					       (unsigned long long)pmd, kind[d->kind]);
			if (k == M_LEAF) {
				struct m_pte e = { d->folio, 0, d->bits };

				if (cmp_pte(v, mm, va, pmd & ~(pmd_t)_PMD_LEAF, &e))
					return 1;
			}
			if (k != M_TABLE)
				continue;
			for (unsigned int i = 0; i < v->m.pmd_nr; i++)
				if (cmp_pte(v, mm, va + i,
					    atomic_load(pte_offset(pmd, va + i)),
					    &d->pte[i]))
					return 1;
		}
	return 0;
}

/*
 * Every page of every live folio holds what the model says: a page the
 * model's rules filled (fault, read_folio), copied (COW, fork, migration,
 * collapse) or wrote (a CPU store, DMA).  A difference no read has shown
 * yet is already a lost or misplaced write.
 */
static int cmp_data(struct vm *v, const struct sel *s)
{
	for (unsigned long pfn = 0; pfn < v->p->world.pages; pfn++) {
		int id = v->m.owner[pfn];
		uint64_t got;
		char g[224], w[224];

		if (id < 0 || (!s->all && !s->pfn[pfn]))
			continue;
		got = page_data_read(pfn);
		if (got == v->m.data[pfn])
			continue;
		vm_describe_data(v, got, g, sizeof(g));
		vm_describe_data(v, v->m.data[pfn], w, sizeof(w));
		return finding(v, v->m.f[id].real, id, "model-data",
			       "pfn %lu (page %lu of folio #%d) holds %s; the "
			       "model says %s", pfn, pfn - v->m.f[id].pfn, id,
			       g, w);
	}
	return 0;
}

/* ---- what changed since the last comparison ---- */

static struct {
	bool valid;			/* the copy is of the state compared last */
	unsigned int nr_f;
	int owner[M_MAX_PAGES];
	int slot[2][M_MAX_SLOTS];
	struct m_pmd pmd[2][M_MAX_PMDS];
	uint64_t data[M_MAX_PAGES];
	struct m_folio f[M_MAX_FOLIOS];
	struct m_counts c[M_MAX_FOLIOS];
	/* the core: first PFNs of folios whose refcount moved (tracepoint) */
	unsigned long ref_pfn[64];
	unsigned int nref;
	bool ref_overflow;
} last;

#ifdef FOLIO_DEBUG
static void on_ref(struct folio *f, enum folio_ref_op op, int delta, int v)
{
	(void)op;
	(void)delta;
	(void)v;
	if (last.nref < sizeof(last.ref_pfn) / sizeof(last.ref_pfn[0]))
		last.ref_pfn[last.nref++] = folio_pfn_plain(f);
	else
		last.ref_overflow = true;
}
#endif

/* The copy of everything (after a full comparison). */
static void remember(const struct vm *v)
{
	const struct model *m = &v->m;

	last.nr_f = m->nr_f;
	memcpy(last.owner, m->owner, sizeof(last.owner));
	memcpy(last.slot, m->slot, sizeof(last.slot));
	memcpy(last.pmd, m->pmd, sizeof(last.pmd));
	memcpy(last.data, m->data, sizeof(last.data));
	memcpy(last.f, m->f, m->nr_f * sizeof(last.f[0]));
	memcpy(last.c, model_op_counts(m), m->nr_f * sizeof(last.c[0]));
	last.nref = 0;
	last.ref_overflow = false;
	last.valid = true;
}

void vm_compare_start(struct vm *v)
{
	(void)v;
	last.valid = false;
#ifdef FOLIO_DEBUG	/* a release build has no tracepoint: the model's side only */
	atomic_store(&folio_ref_trace_hook, on_ref);
#endif
}

void vm_compare_stop(struct vm *v)
{
	(void)v;
#ifdef FOLIO_DEBUG
	atomic_store(&folio_ref_trace_hook, NULL);
#endif
	last.valid = false;
}

/*
 * @a and @b (@n bytes, 4-byte words) differ?  Word by word in the open: a
 * memcmp call goes through ASan's interceptor, which checks both ranges
 * first, even from this file (built without ASan).
 */
static bool differ(const void *a, const void *b, size_t n)
{
	const uint32_t *x = a, *y = b;

	for (size_t i = 0; i < n / 4; i++)
		if (x[i] != y[i])
			return true;
	return false;
}
_Static_assert(sizeof(struct m_folio) % 4 == 0 && _Alignof(struct m_folio) >= 4,
	       "differ() words");
_Static_assert(sizeof(struct m_counts) % 4 == 0 && _Alignof(struct m_counts) >= 4,
	       "differ() words");
_Static_assert(sizeof(struct m_pmd) % 4 == 0 && _Alignof(struct m_pmd) >= 4,
	       "differ() words");

static void mark_folio(const struct vm *v, struct sel *s, int id)
{
	const struct m_folio *f = &v->m.f[id];
	unsigned long nr = 1ul << f->order;

	if (s->id[id])
		return;
	s->id[id] = 1;
	for (unsigned long i = 0; i < nr && f->pfn + i < M_MAX_PAGES; i++)
		s->pfn[f->pfn + i] = 1;
	if (f->file >= 0)
		for (unsigned long i = 0; i < nr && f->index + i < M_MAX_SLOTS; i++)
			s->slot[f->file][f->index + i] = 1;
}

/*
 * What the op touched: every model item that differs from the copy (a
 * folio's fields or counts, a page's owner or contents, a slot, a PMD
 * with its PTEs), the folios those pages belong to, and the folios whose
 * refcount moved in the core; the copy takes each difference as it is
 * found.  False if the selection cannot be trusted (no copy yet, the
 * tracepoint overflowed): compare in full then.
 */
static bool touched(const struct vm *v, struct sel *s)
{
	const struct model *m = &v->m;
	const struct m_counts *c = model_op_counts(m);

	if (!last.valid || last.ref_overflow)
		return false;
	memset(s->pfn, 0, sizeof(s->pfn));
	memset(s->id, 0, m->nr_f);
	memset(s->slot, 0, sizeof(s->slot));
	memset(s->pmd, 0, sizeof(s->pmd));
	for (unsigned int id = 0; id < m->nr_f; id++) {
		/* a folio freed before the last comparison never changes */
		if (id < last.nr_f && !m->f[id].live && !last.f[id].live)
			continue;
		if (id >= last.nr_f ||
		    differ(&m->f[id], &last.f[id], sizeof(m->f[id])) ||
		    differ(&c[id], &last.c[id], sizeof(c[id]))) {
			mark_folio(v, s, (int)id);
			last.f[id] = m->f[id];
			last.c[id] = c[id];
		}
	}
	last.nr_f = m->nr_f;
	for (unsigned long pfn = 0; pfn < v->p->world.pages; pfn++)
		if (m->owner[pfn] != last.owner[pfn] ||
		    m->data[pfn] != last.data[pfn]) {
			s->pfn[pfn] = 1;
			if (m->owner[pfn] >= 0)
				mark_folio(v, s, m->owner[pfn]);
			last.owner[pfn] = m->owner[pfn];
			last.data[pfn] = m->data[pfn];
		}
	for (unsigned int i = 0; i < last.nref; i++)
		if (last.ref_pfn[i] < M_MAX_PAGES) {
			s->pfn[last.ref_pfn[i]] = 1;
			if (m->owner[last.ref_pfn[i]] >= 0)
				mark_folio(v, s, m->owner[last.ref_pfn[i]]);
		}
	last.nref = 0;
	for (unsigned int fl = 0; fl < v->p->world.files; fl++)
		for (unsigned int i = 0; i < m->slots; i++)
			if (m->slot[fl][i] != last.slot[fl][i]) {
				s->slot[fl][i] = 1;
				last.slot[fl][i] = m->slot[fl][i];
			}
	for (unsigned int mm = 0; mm < v->p->world.mms; mm++)
		for (unsigned int p = 0; p < m->nr_pmds; p++)
			if (differ(&m->pmd[mm][p], &last.pmd[mm][p],
				   sizeof(m->pmd[mm][p]))) {
				s->pmd[mm][p] = 1;
				last.pmd[mm][p] = m->pmd[mm][p];
			}
	return true;
}

static int compare(struct vm *v, const struct sel *s)
{
	if (v->m.lost)
		return finding(v, NULL, -1, "model-lost",
			       "the core made no folio where the model made one");
	return cmp_handles(v) || cmp_memmap(v, s) || cmp_folios(v, s) ||
	       cmp_cache(v, s) || cmp_tables(v, s) || cmp_data(v, s);
}

int vm_compare_full(struct vm *v)
{
	static const struct sel all = { .all = true };
	int r = compare(v, &all);

	remember(v);
	return r;
}

int vm_compare(struct vm *v, int made)
{
	static struct sel s;

	(void)made;
	if (!touched(v, &s))
		return vm_compare_full(v);
	return compare(v, &s);
}
