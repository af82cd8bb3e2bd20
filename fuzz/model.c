/* SPDX-License-Identifier: MIT */
/*
 * model.c - the reference model (see model.h).  Each op below restates the
 * core's rule in the plainest form we could find; the comment on each
 * names the core function it must agree with.  No rule here reads the
 * core's state except through the oracle.
 */
#include <errno.h>
#include <string.h>

#include "data_value.h"
#include "folio/ksm.h"
#include "folio/page_data.h"
#include "model.h"

_Static_assert(M_MAX_SHARERS == WP_MAX_SHARERS, "a descriptor's sharers");
_Static_assert(M_MAX_PMDS * M_MAX_PMD_NR <= 256, "an anon address fits sh[]");

#ifdef FT_MODEL_MUTANT
/*
 * The test-only build: one rule deliberately wrong (a small folio's pin
 * counted as one reference instead of GUP_PIN_COUNTING_BIAS), so a test
 * can show the fuzzer finds the divergence.
 */
#define PIN_BIAS 1
const char *model_mutant(void)
{
	return "small-pin-counts-one";
}
#else
#define PIN_BIAS 1024
const char *model_mutant(void)
{
	return NULL;
}
#endif

void model_init(struct model *m, const struct prog_world *w)
{
	/* not the folio table: an entry is written whole when it is made */
	m->w = *w;
	m->pmd_nr = 1u << w->pmd_order;
	m->slots = prog_file_slots(w);
	m->anon_pages = prog_anon_pages(w);
	m->nr_pmds = w->anon_pmds + w->files * w->file_pmds;
	/* mm_create(anon, window): anon pmds + MM_MAX_WINDOWS (8) windows */
	m->va_limit = (unsigned long)(w->anon_pmds + 8 * w->file_pmds) << w->pmd_order;
	m->nr_f = 0;
	m->qlen = 0;
	m->lost = false;
	memset(m->h, 0, sizeof(m->h));
	for (unsigned int i = 0; i < M_MAX_PAGES; i++) {
		m->owner[i] = -1;
		m->data[i] = PAGE_DATA_POISON ^ i;	/* as the core's world */
	}
	m->fver[0] = m->fver[1] = 0;
	m->read_valid = false;
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < M_MAX_SLOTS; j++)
			m->slot[i][j] = -1;
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < M_MAX_PMDS; j++) {
			m->pmd[i][j].kind = M_NONE;
			m->pmd[i][j].bits = 0;
			m->pmd[i][j].folio = -1;
			for (unsigned int k = 0; k < M_MAX_PMD_NR; k++)
				m->pmd[i][j].pte[k] = (struct m_pte){ -1, 0, 0 };
		}
}

/* ---- derived counts ---- */

/*
 * Where the holder of folio @x counts: c[x] when counting every folio
 * (@only < 0), c[0] when counting folio @only and @x is it, else nowhere.
 */
static struct m_counts *tally(int only, struct m_counts *c, int x)
{
	if (x < 0)
		return NULL;
	if (only < 0)
		return &c[x];
	return x == only ? c : NULL;
}

static void count_pfn(const struct model *m, unsigned long pfn,
		      unsigned int flags, int only, struct m_counts *cs)
{
	int id = m->owner[pfn];
	struct m_counts *c = tally(only, cs, id);

	if (!c)
		return;
	if (!(flags & PROG_GUP_PIN)) {
		c->rc += 1;
	} else if (m->f[id].order) {
		c->rc += 1;	/* large: one reference and one _pincount */
		c->pin += 1;
	} else {
		c->rc += PIN_BIAS;
	}
}

/* One walk over every holder: page-cache slots, PMD leaves, PTEs, handles. */
static void count_holders(const struct model *m, int only, struct m_counts *cs)
{
	struct m_counts *c;

	for (unsigned int fl = 0; fl < m->w.files; fl++)
		for (unsigned int i = 0; i < m->slots; i++)
			if ((c = tally(only, cs, m->slot[fl][i])))
				c->rc++;	/* one per page */
	for (unsigned int mm = 0; mm < m->w.mms; mm++)
		for (unsigned int p = 0; p < m->nr_pmds; p++) {
			const struct m_pmd *d = &m->pmd[mm][p];

			if (d->kind == M_LEAF &&
			    (c = tally(only, cs, d->folio))) {
				c->rc++;
				c->map++;
				c->entire++;
			}
			if (d->kind != M_TABLE)
				continue;
			for (unsigned int k = 0; k < m->pmd_nr; k++)
				if ((c = tally(only, cs, d->pte[k].folio))) {
					c->rc++;
					c->map++;
				}
		}
	for (unsigned int h = 0; h < PROG_NR_HANDLES; h++) {
		const struct m_handle *hd = &m->h[h];

		if (hd->kind == H_REF && (c = tally(only, cs, hd->folio)))
			c->rc++;
		if (hd->kind == H_GUP)
			for (unsigned int i = 0; i < hd->n; i++)
				count_pfn(m, hd->pfn[i], hd->flags, only, cs);
	}
}

void model_counts(const struct model *m, int id, struct m_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (id >= 0)
		count_holders(m, id, c);
}

void model_counts_all(const struct model *m, struct m_counts *c)
{
	memset(c, 0, m->nr_f * sizeof(*c));
	count_holders(m, -1, c);
}

static long mapcount(const struct model *m, int id)
{
	struct m_counts c;

	model_counts(m, id, &c);
	return c.map;
}

int model_free_handle(const struct model *m)
{
	for (int h = 0; h < PROG_NR_HANDLES; h++)
		if (m->h[h].kind == H_FREE)
			return h;
	return -1;
}

/* ---- folios, the queue ---- */

static unsigned long nr_pages(const struct model *m, int id)
{
	return 1ul << m->f[id].order;
}

/* A folio the core just made at @pfn; its descriptor comes from the oracle. */
static int new_folio(struct model *m, const struct m_oracle *o,
		     unsigned long pfn, unsigned int order, bool anon)
{
	int id;

	if (m->nr_f == M_MAX_FOLIOS || pfn >= m->w.pages ||
	    (1ul << order) > m->w.pages - pfn) {
		m->lost = true;	/* the core did not do what the model did */
		return -1;
	}
	id = (int)m->nr_f++;
	m->f[id] = (struct m_folio){ .live = true, .pfn = pfn, .order = order,
				     .anon = anon, .file = -1, .mm = -1,
				     .swapbacked = anon };
	m->f[id].real = o->desc_at(o->ctx, pfn);
	for (unsigned long i = 0; i < (1ul << order); i++)
		m->owner[pfn + i] = id;
	return id;
}

static void queue_del(struct model *m, int id)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < m->qlen; i++)
		if (m->queue[i] != id)
			m->queue[j++] = m->queue[i];
	m->qlen = j;
	m->f[id].queued = false;
}

static void queue_add(struct model *m, int id)
{
	for (unsigned int i = 0; i < m->qlen; i++)
		if (m->queue[i] == id)
			return;
	m->queue[m->qlen++] = id;
	m->f[id].queued = true;
}

/* folio_unmap_maybe_queue: partially mapped large anon -> deferred split. */
static void maybe_queue(struct model *m, int id)
{
	const struct m_folio *f = &m->f[id];
	struct m_counts c;

	model_counts(m, id, &c);
	if (f->anon && f->order > 1 && c.map > 0 &&
	    (unsigned long)c.map < nr_pages(m, id) && c.entire == 0 &&
	    !f->queued)
		queue_add(m, id);
}

/*
 * Every folio's counts after the last op, from one walk over the holders
 * (reap's; the VM's comparison reads them too).
 */
static struct m_counts op_counts[M_MAX_FOLIOS];

const struct m_counts *model_op_counts(const struct model *m)
{
	(void)m;
	return op_counts;
}

/* Folios whose last holder went: freed (and off the queue). */
static void reap(struct model *m)
{
	/* one walk for all (a walk per folio was a fifth of fuzz_ops' time) */
	model_counts_all(m, op_counts);
	for (unsigned int id = 0; id < m->nr_f; id++) {
		if (!m->f[id].live)
			continue;
		if (op_counts[id].rc)
			continue;
		if (m->f[id].queued)
			queue_del(m, (int)id);
		/* only the pages it still owns: a folio freed inside the op
		 * may have lent its PFN to a later copy of the same op (a
		 * GUP-slow whose write faults copy write-protected pages,
		 * which are never reused: the old one goes with its entry) */
		for (unsigned long i = 0; i < nr_pages(m, (int)id); i++)
			if (m->owner[m->f[id].pfn + i] == (int)id)
				m->owner[m->f[id].pfn + i] = -1;
		m->f[id].live = false;
	}
}

/* ---- page tables ---- */

static struct m_pmd *pmd_at(struct model *m, unsigned int mm, unsigned long va)
{
	return &m->pmd[mm][va >> m->w.pmd_order];
}

static struct m_pte *pte_at(struct model *m, unsigned int mm, unsigned long va)
{
	return &pmd_at(m, mm, va)->pte[va & (m->pmd_nr - 1)];
}

/* Does a PTE of @mm at anon address @va map order-0 folio @id (ksm.c's
 * lock_entry: a table's present entry, a PMD leaf is never ours)? */
static bool pte_maps(struct model *m, unsigned int mm, unsigned long va, int id)
{
	return va < m->anon_pages && pmd_at(m, mm, va)->kind == M_TABLE &&
	       pte_at(m, mm, va)->folio == id;
}

/* zap_huge_pmd: the leaf goes; a file folio inherits D. Returns 1. */
static long zap_leaf(struct model *m, struct m_pmd *d)
{
	struct m_folio *f = &m->f[d->folio];

	if ((d->bits & M_D) && !f->anon)
		f->dirty = true;
	d->kind = M_NONE;
	d->folio = -1;
	d->bits = 0;
	return 1;
}

/* split_huge_pmd: anon leaf -> a table of PTEs with its bits; file -> gone. */
static void split_leaf(struct model *m, struct m_pmd *d)
{
	int id = d->folio;

	if (d->kind != M_LEAF)
		return;
	if (!m->f[id].anon) {
		zap_leaf(m, d);
		return;
	}
	d->kind = M_TABLE;
	for (unsigned int k = 0; k < m->pmd_nr; k++)
		d->pte[k] = (struct m_pte){ id, (uint8_t)k, d->bits };
	d->folio = -1;
	d->bits = 0;
}

/* ---- ops ---- */

/* VM: folio_alloc + filemap_add_folio + put */
static long op_add(struct model *m, const struct prog_op *op,
		   const struct m_oracle *o)
{
	unsigned int fl = op->arg[0], idx = op->arg[1], order = op->arg[2];
	unsigned long nr = 1ul << order;
	int id;

	if (o->real_rc == -ENOMEM && o->alloc_failed)	/* folio_alloc failed (oracle) */
		return -ENOMEM;
	if ((idx & (nr - 1)) || nr > m->slots - idx)
		return -EINVAL;
	for (unsigned long i = 0; i < nr; i++)
		if (m->slot[fl][idx + i] >= 0)
			return -EEXIST;
	/* added: the oracle names the PFN the allocator chose */
	id = new_folio(m, o, o->slot_pfn(o->ctx, fl, idx), order, false);
	if (id < 0)
		return 0;
	m->f[id].file = (int)fl;
	m->f[id].index = idx;
	for (unsigned long i = 0; i < nr; i++) {
		m->slot[fl][idx + i] = id;
		/* read_folio: the file's content at its current version */
		m->data[m->f[id].pfn + i] = file_page_data(fl, idx + i, m->fver[fl]);
	}
	return 0;
}

/* A REF handle on folio @id in the lowest free slot: 1; 0 if no folio. */
static long hold(struct model *m, int id, int *made)
{
	int h = model_free_handle(m);

	if (h < 0)
		return M_SKIP;
	if (id < 0)
		return 0;
	m->h[h] = (struct m_handle){ .kind = H_REF, .folio = id };
	*made = h;
	return 1;
}

/* get_va: the folio mapped at va, referenced (folio_walk + try_get) */
static int folio_at_va(struct model *m, unsigned int mm, unsigned long va)
{
	struct m_pmd *d;

	if (va >= (unsigned long)m->nr_pmds << m->w.pmd_order)
		return -1;
	d = pmd_at(m, mm, va);
	if (d->kind == M_LEAF)
		return d->folio;
	if (d->kind == M_TABLE)
		return pte_at(m, mm, va)->folio;
	return -1;
}

/* put / unpin: a REF handle drops its reference, a GUP handle unpins. */
static long op_release(struct model *m, unsigned int h, unsigned int mode)
{
	struct m_handle *hd = &m->h[h];

	if (hd->kind == H_FREE)
		return M_SKIP;
	if (hd->kind == H_GUP && mode == 2)	/* unpin_user_pages_dirty_lock */
		for (unsigned int i = 0; i < hd->n; i++)
			m->f[m->owner[hd->pfn[i]]].dirty = true;
	hd->kind = H_FREE;
	return 0;
}

/* Unmap every PTE or PMD leaf of folio @id in mm @mm at @va (rmap_one). */
static void unmap_folio_at(struct model *m, unsigned int mm, unsigned long va,
			   int id)
{
	struct m_pmd *d = pmd_at(m, mm, va);
	unsigned long nr = nr_pages(m, id);

	if (d->kind == M_LEAF && d->folio == id) {
		zap_leaf(m, d);
		return;
	}
	if (d->kind != M_TABLE)
		return;
	for (unsigned long i = 0; i < nr; i++) {
		struct m_pte *e = pte_at(m, mm, va + i);

		if (e->folio != id)
			continue;
		if ((e->bits & M_D) && !m->f[id].anon)
			m->f[id].dirty = true;
		e->folio = -1;
		e->bits = 0;
	}
}

/* truncate_inode_pages_range */
static long op_truncate(struct model *m, const struct prog_op *op)
{
	unsigned int fl = op->arg[0];
	unsigned long index = op->arg[1], end = index + op->arg[2];
	long removed = 0;

	/*
	 * The file changed: a page read back from now on is a new version
	 * (page_data.h); what was cached, written or not, is gone with its
	 * folio (no writeback in the model), as truncate drops the kernel's
	 * page cache.
	 */
	m->fver[fl]++;
	if (end > m->slots)
		end = m->slots;
	while (index < end) {
		int id = m->slot[fl][index];
		unsigned long nr;

		if (id < 0) {
			index++;
			continue;
		}
		nr = nr_pages(m, id);
		/* unmap_mapping_folio: every mm, mms in creation order */
		for (unsigned int mm = 0; mm < m->w.mms; mm++)
			unmap_folio_at(m, mm, model_window(m, (int)fl) +
					      m->f[id].index, id);
		for (unsigned long i = 0; i < nr; i++)
			m->slot[fl][m->f[id].index + i] = -1;
		m->f[id].file = -1;
		removed++;
		index = m->f[id].index + nr;
	}
	return removed;
}

/* do_anonymous_page (and do_huge_pmd_anonymous_page) */
static long op_fault(struct model *m, const struct prog_op *op,
		     const struct m_oracle *o)
{
	unsigned int mm = op->arg[0], order = op->arg[2];
	unsigned long va = op->arg[1], nr = 1ul << order, pfn;
	/* dirty on a read fault too (core/src/memory.c: no zero page) */
	uint8_t bits = M_W | M_Y | M_D;
	struct m_pmd *d;
	int id;

	if ((va & (nr - 1)) || nr > m->anon_pages - va)
		return -EINVAL;
	/* both the folio and (PMD: the deposit, PTE: a table) allocate */
	if (o->real_rc == -ENOMEM && o->alloc_failed)
		return -ENOMEM;
	d = pmd_at(m, mm, va);
	if (order == m->w.pmd_order) {
		if (d->kind != M_NONE)
			return -EEXIST;
	} else {
		if (d->kind == M_LEAF)
			return -EEXIST;
		if (d->kind == M_TABLE)
			for (unsigned long i = 0; i < nr; i++)
				if (pte_at(m, mm, va + i)->folio >= 0)
					return -EEXIST;
	}
	pfn = o->entry_pfn(o->ctx, mm, va);
	id = new_folio(m, o, pfn, order, true);
	if (id < 0)
		return 0;
	/* zero-filled: a fresh anon page reads 0 (do_anonymous_page,
	 * folio_zero_user; cow.c's tests start from it) */
	for (unsigned long i = 0; i < nr; i++)
		m->data[pfn + i] = 0;
	m->f[id].mm = (int)mm;
	m->f[id].index = va;
	m->f[id].excl = true;
	if (order == m->w.pmd_order) {
		d->kind = M_LEAF;
		d->folio = id;
		d->bits = bits;
		return 0;
	}
	d->kind = M_TABLE;
	for (unsigned long i = 0; i < nr; i++)
		*pte_at(m, mm, va + i) = (struct m_pte){ id, (uint8_t)i, bits };
	return 0;
}

/* filemap_map_pages */
static long op_map(struct model *m, const struct prog_op *op,
		   const struct m_oracle *o)
{
	unsigned int mm = op->arg[0], fl = op->arg[1];
	unsigned long index = op->arg[2], end = index + op->arg[3];
	unsigned long base = model_window(m, (int)fl);
	bool want_pmd = op->arg[4];
	long total = 0;

	if (op->arg[3] > m->slots - index)
		return -EINVAL;
	while (index < end) {
		int id = m->slot[fl][index];
		unsigned long fidx, fend, next, n = 0;
		struct m_pmd *d;

		if (id < 0) {
			index++;
			continue;
		}
		fidx = m->f[id].index;
		fend = fidx + nr_pages(m, id);
		next = fend < end ? fend : end;
		d = pmd_at(m, mm, base + index);
		if (want_pmd && m->f[id].order == m->w.pmd_order &&
		    index == fidx && next == fend) {
			if (d->kind == M_NONE) {
				d->kind = M_LEAF;
				d->folio = id;
				d->bits = M_W | M_Y;
				n = nr_pages(m, id);
			}
		} else if (d->kind != M_LEAF) {
			/* a missing table is allocated; failure maps nothing */
			if (d->kind == M_NONE && (!o->alloc_failed ||
			    o->pmd_is_table(o->ctx, mm, (unsigned int)((base + index) >> m->w.pmd_order))))
				d->kind = M_TABLE;
			if (d->kind == M_TABLE)
				for (unsigned long i = index; i < next; i++) {
					struct m_pte *e = pte_at(m, mm, base + i);

					if (e->folio >= 0)
						continue;
					*e = (struct m_pte){ id, (uint8_t)(i - fidx), M_W | M_Y };
					n++;
				}
		}
		total += (long)n;
		index = next;
	}
	return total;
}

/* zap_page_range */
static long op_zap(struct model *m, const struct prog_op *op)
{
	unsigned int mm = op->arg[0];
	unsigned long va = op->arg[1], end = va + op->arg[2];
	unsigned long mask = m->pmd_nr - 1, model_end = (unsigned long)m->nr_pmds << m->w.pmd_order;
	long total = 0;

	if (end > model_end)	/* beyond: windows no file uses, all empty */
		end = model_end;
	while (va < end) {
		unsigned long pend = (va | mask) + 1;
		struct m_pmd *d = pmd_at(m, mm, va);

		if (pend > end)
			pend = end;
		if (d->kind == M_LEAF) {
			if (!(va & mask) && pend - va == m->pmd_nr)
				total += zap_leaf(m, d);
			else
				split_leaf(m, d);
			continue;	/* look at this PMD again */
		}
		if (d->kind == M_TABLE) {
			unsigned long a = va;

			while (a < pend) {
				struct m_pte *e = pte_at(m, mm, a);
				int id = e->folio;
				unsigned long n = 1;
				bool dirty = false;

				if (id < 0) {
					a++;
					continue;
				}
				/* the run of this folio's consecutive pages */
				while (a + n < pend && pte_at(m, mm, a + n)->folio == id &&
				       pte_at(m, mm, a + n)->page == e->page + n)
					n++;
				for (unsigned long i = 0; i < n; i++) {
					struct m_pte *x = pte_at(m, mm, a + i);

					dirty |= x->bits & M_D;
					x->folio = -1;
					x->bits = 0;
				}
				if (dirty && !m->f[id].anon)
					m->f[id].dirty = true;
				maybe_queue(m, id);
				total += (long)n;
				a += n;
			}
		}
		va = pend;
	}
	return total;
}

/* The harness key (harness/data_value.h) of @va: an anon address, or a file
 * page through its window. */
static uint32_t key_of(const struct model *m, unsigned long va)
{
	unsigned long w = va - m->anon_pages;

	if (va < m->anon_pages)
		return ft_data_key_anon(va);
	return ft_data_key_file((unsigned int)(w / m->slots), w % m->slots);
}

/* What op m->op writes for @mm at the place @key (exec_data_value). */
static uint64_t written(const struct model *m, unsigned int mm, uint32_t key)
{
	return ft_data_value(mm, 0, m->op, key);
}

/*
 * touch_page_data: a CPU load or store through the entry at @va.  The
 * hardware sets A (and D on a store); a store needs a writable entry (a
 * write-protected one is do_wp_page's first); the store is what the page
 * holds after, the load what it held.
 */
static long op_touch(struct model *m, const struct prog_op *op)
{
	unsigned int mm = op->arg[0];
	unsigned long va = op->arg[1], pfn;
	uint8_t set = M_Y | (op->arg[2] ? M_D : 0);
	struct m_pmd *d = pmd_at(m, mm, va);

	uint8_t *bits = NULL;

	if (d->kind == M_LEAF) {
		bits = &d->bits;
		pfn = m->f[d->folio].pfn + (va & (m->pmd_nr - 1));
	} else if (d->kind == M_TABLE && pte_at(m, mm, va)->folio >= 0) {
		bits = &pte_at(m, mm, va)->bits;
		pfn = m->f[pte_at(m, mm, va)->folio].pfn + pte_at(m, mm, va)->page;
	}
	/* a write needs a writable entry (fork write-protects) */
	if (!bits || (op->arg[2] && !(*bits & M_W)))
		return 0;
	*bits |= set;
	if (op->arg[2]) {
		m->data[pfn] = written(m, mm, key_of(m, va));
	} else {
		m->read_valid = true;
		m->read_val = m->data[pfn];
	}
	return 1;
}

/*
 * dma: a device reads or writes page (page % n) of a GUP handle, as
 * direct I/O or RDMA does through the pages GUP gave it: the page's data,
 * whatever maps it now (gup_test, gup_longterm).  A write needs FOLL_WRITE
 * (-EPERM otherwise: pinned for reading); it dirties nothing (the unpin
 * with dirty does that, unpin_user_pages_dirty_lock).
 */
static long op_dma(struct model *m, const struct prog_op *op)
{
	struct m_handle *hd = &m->h[op->arg[0]];
	unsigned int i;

	if (hd->kind != H_GUP)
		return M_SKIP;
	i = op->arg[2] % hd->n;
	if (op->arg[1]) {
		if (!(hd->flags & PROG_GUP_WRITE))
			return -EPERM;
		m->data[hd->pfn[i]] = written(m, hd->mm, key_of(m, hd->va + i));
	} else {
		m->read_valid = true;
		m->read_val = m->data[hd->pfn[i]];
	}
	return 1;
}

/*
 * Would GUP-fast grab the page at @va?  Present; writable for a write;
 * a R/O pin of an anon page needs it exclusive unless the entry is
 * writable (gup_must_unshare); no long-term writable pin of a file page.
 */
static bool gup_page_ok(struct model *m, unsigned int mm, unsigned long va,
			unsigned int flags, unsigned long *pfn)
{
	struct m_pmd *d = pmd_at(m, mm, va);
	bool pin = flags & PROG_GUP_PIN, write = flags & PROG_GUP_WRITE;
	uint8_t bits;
	int id;

	if (d->kind == M_LEAF) {
		id = d->folio;
		bits = d->bits;
		*pfn = m->f[id].pfn + (va & (m->pmd_nr - 1));
	} else if (d->kind == M_TABLE && pte_at(m, mm, va)->folio >= 0) {
		id = pte_at(m, mm, va)->folio;
		bits = pte_at(m, mm, va)->bits;
		*pfn = m->f[id].pfn + pte_at(m, mm, va)->page;
	} else {
		return false;
	}
	if (write && !(bits & M_W))
		return false;
	if (pin && write && (flags & PROG_GUP_LONGTERM) && !m->f[id].anon)
		return false;
	if (pin && !write && !(bits & M_W) && m->f[id].anon && !m->f[id].excl)
		return false;
	return true;
}

/* gup_fast: pages from @va until the first entry that is not there */
static long op_gup(struct model *m, const struct prog_op *op, int *made)
{
	unsigned int mm = op->arg[0], flags = op->arg[3];
	unsigned long va = op->arg[1], nr = op->arg[2], got = 0;
	unsigned long model_end = (unsigned long)m->nr_pmds << m->w.pmd_order;
	struct m_handle *hd;
	int h = model_free_handle(m);

	if (h < 0)
		return M_SKIP;
	if (nr > m->va_limit - va)
		return 0;
	hd = &m->h[h];
	for (unsigned long a = va; a < va + nr && a < model_end; a++) {
		unsigned long pfn;

		if (!gup_page_ok(m, mm, a, flags, &pfn))
			break;
		hd->pfn[got++] = pfn;
	}
	if (!got)
		return 0;
	hd->kind = H_GUP;
	hd->flags = flags;
	hd->n = (unsigned int)got;
	hd->mm = mm;
	hd->va = va;
	*made = h;
	return (long)got;
}

/*
 * try_to_migrate of folio @id, as split and migration do it: PMD leaves
 * that map it are split (anon) or zapped (file), and the folio inherits
 * D from its entries (anon too).  The entries themselves stay in the
 * model's tables: migration entries come back as PTEs of the same pages.
 */
static void unmap_to_migration(struct model *m, int id)
{
	struct m_folio *f = &m->f[id];
	unsigned long nr = nr_pages(m, id);

	if (f->ksm) {	/* order 0: every mm at each sharer (rmap_walk_ksm) */
		for (unsigned int k = 0; k < f->nsh; k++)
			for (unsigned int mm = 0; mm < m->w.mms; mm++)
				if (pte_maps(m, mm, f->sh[k], id) &&
				    (pte_at(m, mm, f->sh[k])->bits & M_D))
					f->dirty = true;
		return;
	}
	for (unsigned int mm = 0; mm < m->w.mms; mm++) {
		unsigned long va;

		/* anon: every mm at its index (fork shares it) */
		if (!f->anon && f->file < 0)
			continue;
		va = f->anon ? f->index : model_window(m, f->file) + f->index;
		/* only a leaf that maps this folio: the address may since map
		 * another one (__split_huge_pmd is told which folio) */
		if (pmd_at(m, mm, va)->kind == M_LEAF &&
		    pmd_at(m, mm, va)->folio == id)
			split_leaf(m, pmd_at(m, mm, va));
		if (pmd_at(m, mm, va)->kind != M_TABLE)
			continue;
		for (unsigned long i = 0; i < nr; i++)
			if (pte_at(m, mm, va + i)->folio == id &&
			    (pte_at(m, mm, va + i)->bits & M_D))
				f->dirty = true;
	}
}

/* The split proper, after the checks (split_folio_to_order steps 3-8). */
static void do_split(struct model *m, const struct m_oracle *o, int id,
		     unsigned int new_order)
{
	struct m_folio *f = &m->f[id];
	unsigned long nr = nr_pages(m, id), new_nr = 1ul << new_order;
	int first = (int)m->nr_f;

	/* 3: unmap to migration entries; the folio inherits D (anon too) */
	unmap_to_migration(m, id);
	/* 4: frozen and off the queue */
	if (f->queued)
		queue_del(m, id);
	/* 5-6: the new folios, each in its page-cache slots */
	f->order = new_order;
	for (unsigned long k = 1; k < nr / new_nr; k++) {
		int g = new_folio(m, o, f->pfn + k * new_nr, new_order, f->anon);

		if (g < 0)
			return;
		f = &m->f[id];	/* (the array does not move; keep it obvious) */
		m->f[g].file = f->file;
		m->f[g].mm = f->mm;
		m->f[g].index = f->index + k * new_nr;
		m->f[g].dirty = f->dirty;
		m->f[g].swapbacked = f->swapbacked;
		m->f[g].excl = f->excl;
		if (f->file >= 0)
			for (unsigned long j = 0; j < new_nr; j++)
				m->slot[f->file][m->f[g].index + j] = g;
	}
	/* 7: the migration entries come back as PTEs of the new owners, young */
	for (unsigned int mm = 0; mm < m->w.mms; mm++)
		for (unsigned int p = 0; p < m->nr_pmds; p++) {
			struct m_pmd *d = &m->pmd[mm][p];

			if (d->kind != M_TABLE)
				continue;
			for (unsigned int k = 0; k < m->pmd_nr; k++) {
				struct m_pte *e = &d->pte[k];
				unsigned long pfn;

				if (e->folio != id)
					continue;
				pfn = m->f[id].pfn + e->page;
				e->folio = m->owner[pfn];
				e->page = (uint8_t)(pfn - m->f[e->folio].pfn);
				e->bits |= M_Y;
			}
		}
	(void)first;
}

/* split_folio_to_order, the VM holding the handle's reference and the lock */
static long op_split(struct model *m, const struct prog_op *op,
		     const struct m_oracle *o)
{
	const struct m_handle *hd = &m->h[op->arg[0]];
	unsigned int new_order = op->arg[1];
	struct m_counts c;
	struct m_folio *f;
	long cache;

	if (hd->kind != H_REF)
		return M_SKIP;
	f = &m->f[hd->folio];
	if (f->order == 0 || new_order >= f->order || (f->anon && new_order == 1))
		return -EINVAL;
	if (!f->anon && f->file < 0)
		return -EBUSY;
	model_counts(m, hd->folio, &c);
	cache = f->file >= 0 ? (long)nr_pages(m, hd->folio) : 0;
	if (c.rc - 1 != cache + c.map)	/* pins and other references */
		return -EAGAIN;
	if (o->real_rc == -ENOMEM && o->alloc_failed)	/* the new descriptors (oracle) */
		return -ENOMEM;
	do_split(m, o, hd->folio, new_order);
	return 0;
}

/* split_huge_pmd */
static long op_split_pmd(struct model *m, const struct prog_op *op)
{
	split_leaf(m, pmd_at(m, op->arg[0], op->arg[1]));
	return 0;
}

/* deferred_split_scan: take up to n, split each to order 0 or requeue */
static long op_scan(struct model *m, const struct prog_op *op,
		    const struct m_oracle *o)
{
	int taken[M_MAX_FOLIOS];
	unsigned int nt = 0;
	long split = 0;

	while (nt < op->arg[0] && m->qlen) {
		taken[nt] = m->queue[0];
		/* off the list, PG_partially_mapped still set */
		memmove(m->queue, m->queue + 1, --m->qlen * sizeof(int));
		nt++;
	}
	for (unsigned int i = 0; i < nt; i++) {
		int id = taken[i];
		struct m_counts c;

		if (!m->f[id].queued)
			continue;
		model_counts(m, id, &c);	/* + the scanner's reference */
		/* split_folio: anon, order > 1, no extra reference; the
		 * descriptors' allocation is the oracle's: did it split? */
		if (c.rc == c.map && (!o->alloc_failed ||
		    o->order_of(o->ctx, m->f[id].real) == 0)) {
			do_split(m, o, id, 0);
			split++;
			continue;
		}
		m->f[id].queued = false;
		queue_add(m, id);	/* requeue at the tail */
	}
	return split;
}

/*
 * madvise_free's split of a large anon folio it covers only in part
 * (madv_free_split): it holds the folio lock and a reference, so the split
 * needs no holder but the mappings; whether its descriptors came is the
 * oracle's.  Returns true if it split.
 */
static bool madv_split(struct model *m, const struct m_oracle *o, int id)
{
	struct m_counts c;

	model_counts(m, id, &c);
	if (c.rc != c.map)	/* a pin or another reference */
		return false;
	if (o->alloc_failed && o->order_of(o->ctx, m->f[id].real) != 0)
		return false;
	do_split(m, o, id, 0);
	return true;
}

/* madvise_free of one PMD's PTEs [va, pend) */
static long madv_free_ptes(struct model *m, const struct m_oracle *o,
			   unsigned int mm, unsigned long va, unsigned long pend)
{
	unsigned long retried = ~0ul;
	long marked = 0;

	for (unsigned long a = va; a < pend;) {
		int id = pte_at(m, mm, a)->folio;
		unsigned long fnr, i = 0;

		if (id < 0 || !m->f[id].anon) {
			a++;
			continue;
		}
		/* every page of the folio, in order, from its first, in
		 * range (madvise_folio_pte_batch); else split it first */
		fnr = nr_pages(m, id);
		if (pte_at(m, mm, a)->page == 0 && fnr <= pend - a)
			while (i < fnr && pte_at(m, mm, a + i)->folio == id &&
			       pte_at(m, mm, a + i)->page == i)
				i++;
		if (i < fnr) {
			if (m->f[id].excl && madv_split(m, o, id) &&
			    retried != a) {
				retried = a;
				continue;	/* the same entry, now small */
			}
			a++;
			continue;
		}
		/* dirty and mapped elsewhere too, or write-protected
		 * (never lazyfree): skipped */
		if ((m->f[id].dirty && mapcount(m, id) != (long)fnr) ||
		    m->f[id].ksm) {
			a++;
			continue;
		}
		for (i = 0; i < fnr; i++)
			pte_at(m, mm, a + i)->bits &= (uint8_t)~(M_D | M_Y);
		m->f[id].dirty = false;
		m->f[id].swapbacked = false;
		marked++;
		a += fnr;
	}
	return marked;
}

/* madvise_free: whole folios in range become clean lazyfree; large ones
 * covered in part are split first */
static long op_madv_free(struct model *m, const struct prog_op *op,
			 const struct m_oracle *o)
{
	unsigned int mm = op->arg[0];
	unsigned long va = op->arg[1], end = va + op->arg[2];
	unsigned long mask = m->pmd_nr - 1;
	long marked = 0;

	if (end > m->anon_pages)
		end = m->anon_pages;
	for (; va < end; va = ((va | mask) + 1)) {
		unsigned long pend = (va | mask) + 1;
		struct m_pmd *d = pmd_at(m, mm, va);

		if (pend > end)
			pend = end;
		if (d->kind == M_LEAF && !m->f[d->folio].excl)
			continue;	/* maybe mapped shared */
		if (d->kind == M_LEAF) {
			if (!(va & mask) && pend - va == m->pmd_nr) {
				d->bits &= (uint8_t)~(M_D | M_Y);
				m->f[d->folio].dirty = false;
				m->f[d->folio].swapbacked = false;
				marked++;
				continue;
			}
			if (!madv_split(m, o, d->folio))
				continue;
		}
		if (d->kind == M_TABLE)
			marked += madv_free_ptes(m, o, mm, va, pend);
	}
	return marked;
}

/* ---- write protection (ksm.h) ---- */

/* sharer_add: @va listed already, or added if there is room. */
static bool sharer_add(struct m_folio *f, unsigned long va)
{
	for (unsigned int k = 0; k < f->nsh; k++)
		if (f->sh[k] == va)
			return true;
	if (f->nsh == M_MAX_SHARERS)
		return false;
	f->sh[f->nsh++] = (uint8_t)va;
	return true;
}

/*
 * ksm_try_unprotect, after a write's copy from write-protected folio @id:
 * the sharers no mm maps any more go; with one left the folio is plain
 * anon again, at that address, owned by the first mm (creation order)
 * that maps it there, still not exclusive and its entries read-only.
 */
static void try_unprotect(struct model *m, int id)
{
	struct m_folio *f = &m->f[id];
	unsigned int left = 0;
	int owner = -1;

	for (unsigned int k = 0; k < f->nsh; k++) {
		int first = -1;

		for (unsigned int mm = 0; mm < m->w.mms && first < 0; mm++)
			if (pte_maps(m, mm, f->sh[k], id))
				first = (int)mm;
		if (first < 0)
			continue;	/* stale: pruned */
		if (!left)
			owner = first;
		f->sh[left++] = f->sh[k];
	}
	f->nsh = (uint8_t)left;
	if (left != 1)
		return;
	f->ksm = false;
	f->mm = owner;
	f->index = f->sh[0];
	f->nsh = 0;
}

/* Can @id be merged (ksm.c's mergeable)?  Order-0 anon, not lazyfree,
 * mapped somewhere. */
static bool mergeable(const struct model *m, int id)
{
	const struct m_folio *f = &m->f[id];

	return f->anon && !f->order && f->swapbacked && mapcount(m, id) > 0;
}

/*
 * wp_merge: ksm_merge_pages, the page at (mm_b, va_b) merged into the one
 * at (mm_a, va_a) (folio_write_protect_merge).  Each is looked up and
 * referenced as GUP-fast does; that reference is the merger's, not a
 * holder here: "held by its mappings alone" is rc == map.  Single
 * threaded, every entry of a folio sees the same count, so step 1
 * protects all of a's entries or none, and a partial step 2 needs a
 * count that changes between two entries of b: never here.
 */
static long op_wp_merge(struct model *m, const struct prog_op *op,
			const struct m_oracle *o)
{
	int a = folio_at_va(m, op->arg[0], op->arg[1]);
	int b = folio_at_va(m, op->arg[2], op->arg[3]);
	unsigned long vb;
	struct m_counts c;
	bool fresh;
	long moved = 0, err = 0;

	if (a < 0 || b < 0 || m->f[a].order || m->f[b].order)
		return -EFAULT;	/* nothing there, or a large folio */
	if (a == b || !mergeable(m, a) || !mergeable(m, b) || m->f[b].ksm)
		return -EINVAL;
	fresh = !m->f[a].ksm;
	if (fresh) {
		unsigned long va = m->f[a].index;
		unsigned int n = 0;

		/* the descriptor, allocated first (oracle) */
		if (o->real_rc == -ENOMEM && o->alloc_failed)
			return -ENOMEM;
		/* step 1: a's entries at its index, every mm: cleared, its
		 * count read (a pin, a GUP reference, a handle: back as it
		 * was, -EBUSY), then back read-only and a not exclusive */
		model_counts(m, a, &c);
		for (unsigned int mm = 0; mm < m->w.mms; mm++) {
			if (!pte_maps(m, mm, va, a))
				continue;
			if (c.rc != c.map)
				return -EBUSY;
			pte_at(m, mm, va)->bits &= (uint8_t)~M_W;
			m->f[a].excl = false;
			n++;
		}
		if (!n)
			return -EINVAL;
		m->f[a].ksm = true;
		m->f[a].nsh = 1;
		m->f[a].sh[0] = (uint8_t)va;
	}
	/* step 2: b's entries at its index, mms in creation order, each
	 * checked (count, contents, room for va_b) then naming a read-only
	 * (young, b's dirty bit); the first refusal ends it */
	vb = m->f[b].index;
	for (unsigned int mm = 0; mm < m->w.mms && !err; mm++) {
		struct m_pte *e;

		if (!pte_maps(m, mm, vb, b))
			continue;
		e = pte_at(m, mm, vb);
		model_counts(m, b, &c);
		if (c.rc != c.map)
			err = -EBUSY;
		else if (m->data[m->f[a].pfn] != m->data[m->f[b].pfn])
			err = -ENOMSG;
		else if (!sharer_add(&m->f[a], vb))
			err = -ENOSPC;
		else {
			*e = (struct m_pte){ a, 0, (uint8_t)(M_Y | (e->bits & M_D)) };
			moved++;
		}
	}
	/* nothing shares it: a plain folio again (mm and index as they
	 * were), but left read-only and not exclusive */
	if (!moved && fresh) {
		m->f[a].ksm = false;
		m->f[a].nsh = 0;
	}
	return moved ? moved : err ? err : -EINVAL;
}

/* ---- fork and COW (fork.h) ---- */

/* folio_maybe_dma_pinned: large: pincount; small: refcount >= the bias */
static bool maybe_pinned(const struct model *m, int id)
{
	struct m_counts c;

	model_counts(m, id, &c);
	return m->f[id].order ? c.pin > 0 : c.rc >= 1024;
}

static bool pinned_exclusive(const struct model *m, int id)
{
	return m->f[id].anon && m->f[id].excl && maybe_pinned(m, id);
}

/* folio_move_anon_rmap + SetPageAnonExclusive */
static void make_exclusive(struct model *m, int id, unsigned int mm)
{
	m->f[id].excl = true;
	m->f[id].mm = (int)mm;
}

/*
 * A new exclusive order-0 anon copy of page @src for @mm at @va; the
 * oracle names its PFN (the entry there after the op).  -1 if the core
 * made none.  It holds what @src held (wp_page_copy, copy_present_page):
 * a COW moves the data, it does not lose it.
 */
static int new_copy(struct model *m, const struct m_oracle *o,
		    unsigned int mm, unsigned long va, unsigned long src)
{
	int id = new_folio(m, o, o->entry_pfn(o->ctx, mm, va), 0, true);

	if (id >= 0) {
		m->f[id].index = va;
		make_exclusive(m, id, mm);
		m->data[m->f[id].pfn] = m->data[src];
	}
	return id;
}

#define M_WP_NOTHING 0
#define M_WP_REUSED 1
#define M_WP_COPIED 2

/* do_wp_page: reuse an exclusive (or otherwise unheld) folio, else copy */
static long wp_fault(struct model *m, const struct m_oracle *o,
		     unsigned int mm, unsigned long va, bool unshare)
{
	unsigned long model_end = (unsigned long)m->nr_pmds << m->w.pmd_order;
	struct m_counts c;
	struct m_pmd *d;
	struct m_pte *e;
	int id, cid;
	bool reuse;

	if (va >= model_end)
		return -EFAULT;
	d = pmd_at(m, mm, va);
	if (d->kind == M_LEAF) {
		id = d->folio;
		if (!m->f[id].anon)
			return unshare || (d->bits & M_W) ? M_WP_NOTHING : -EFAULT;
		if (unshare ? m->f[id].excl : !!(d->bits & M_W))
			return M_WP_NOTHING;
		reuse = m->f[id].excl;
		if (!reuse) {	/* do_huge_pmd_wp_page: the PMD's reference alone */
			model_counts(m, id, &c);
			reuse = c.rc == 1;
		}
		if (reuse) {
			make_exclusive(m, id, mm);
			if (!unshare)
				d->bits |= M_W | M_D | M_Y;
			return M_WP_REUSED;
		}
		split_leaf(m, d);	/* then the PTE path */
	}
	if (d->kind != M_TABLE || pte_at(m, mm, va)->folio < 0)
		return -EFAULT;
	e = pte_at(m, mm, va);
	id = e->folio;
	if (!m->f[id].anon)
		return unshare || (e->bits & M_W) ? M_WP_NOTHING : -EFAULT;
	if (unshare ? m->f[id].excl : !!(e->bits & M_W))
		return M_WP_NOTHING;
	reuse = m->f[id].excl;
	if (!reuse && !m->f[id].ksm) {	/* write-protected: never reused */
		model_counts(m, id, &c);
		if (m->f[id].order == 0) {
			reuse = c.rc == 1;
		} else {	/* every holder is an entry of this table */
			long here = 0;

			for (unsigned int k = 0; k < m->pmd_nr; k++)
				here += d->pte[k].folio == id;
			reuse = c.rc == c.map && c.map == here;
		}
	}
	if (reuse) {
		make_exclusive(m, id, mm);
		if (!unshare)
			e->bits |= M_W | M_D | M_Y;
		return M_WP_REUSED;
	}
	/* the copy's allocation: did the entry change (oracle)? */
	if (o->alloc_failed &&
	    o->entry_pfn(o->ctx, mm, va) == m->f[id].pfn + e->page)
		return -ENOMEM;
	/* cow.c: after fork each side reads the pre-fork data, and the
	 * copy is what the writer goes on with */
	cid = new_copy(m, o, mm, va, m->f[id].pfn + e->page);
	if (cid < 0)
		return -ENOMEM;
	*e = (struct m_pte){ cid, 0, (uint8_t)(unshare ? M_Y : M_W | M_D | M_Y) };
	maybe_queue(m, id);
	if (m->f[id].ksm)	/* the copy broke a sharing */
		try_unprotect(m, id);
	return M_WP_COPIED;
}

static long op_wp_fault(struct model *m, const struct prog_op *op,
			const struct m_oracle *o)
{
	return wp_fault(m, o, op->arg[0], op->arg[1], op->arg[2]);
}

/* get_user_pages: GUP-fast, and the fault that lets it past a page */
static long op_gup_slow(struct model *m, const struct prog_op *op,
			const struct m_oracle *o, int *made)
{
	unsigned int mm = op->arg[0], flags = op->arg[3];
	unsigned long va = op->arg[1], nr = op->arg[2], got = 0;
	bool pin = flags & PROG_GUP_PIN, write = flags & PROG_GUP_WRITE;
	struct m_handle *hd;
	long err = -EFAULT;
	int h = model_free_handle(m);

	if (h < 0)
		return M_SKIP;
	if (nr > m->va_limit - va)
		return -EFAULT;
	hd = &m->h[h];
	for (unsigned long a = va; a < va + nr; a++) {
		unsigned long pfn;

		if (!gup_page_ok(m, mm, a, flags, &pfn)) {
			long r;

			if (a >= m->anon_pages)	/* file: nothing to fault */
				break;
			if (write)
				r = wp_fault(m, o, mm, a, false);
			else if (pin)
				r = wp_fault(m, o, mm, a, true);
			else
				r = -EFAULT;
			if (r < 0) {
				err = r;
				break;
			}
			if (!gup_page_ok(m, mm, a, flags, &pfn))
				break;	/* (the core would try again) */
		}
		hd->pfn[got++] = pfn;
	}
	if (!got)
		return err;
	hd->kind = H_GUP;
	hd->flags = flags;
	hd->n = (unsigned int)got;
	hd->mm = mm;
	hd->va = va;
	*made = h;
	return (long)got;
}

/* mm_fork: dst's anon region becomes a copy-on-write child of src's */
static long op_fork(struct model *m, const struct prog_op *op,
		    const struct m_oracle *o)
{
	unsigned int src = op->arg[0], dst = op->arg[1];
	unsigned int pmds = m->anon_pages >> m->w.pmd_order;
	struct prog_op zap = { .code = OP_ZAP, .arg = { dst, 0, m->anon_pages } };
	long done = 0;

	if (src == dst)
		return -EINVAL;
	/* everything is allocated before anything changes (oracle) */
	if (o->real_rc == -ENOMEM && o->alloc_failed)
		return -ENOMEM;
	op_zap(m, &zap);	/* the previous child exits */
	for (unsigned int p = 0; p < pmds; p++) {
		struct m_pmd *ds = &m->pmd[src][p], *dd = &m->pmd[dst][p];
		unsigned long va = (unsigned long)p << m->w.pmd_order;

		if (ds->kind == M_LEAF && pinned_exclusive(m, ds->folio))
			split_leaf(m, ds);	/* copied page by page below */
		if (ds->kind == M_LEAF) {
			int id = ds->folio;

			if (dd->kind == M_NONE) {	/* shared as a leaf */
				dd->kind = M_LEAF;
				dd->folio = id;
				dd->bits = ds->bits & (uint8_t)~(M_W | M_Y);
				done++;
			} else if (dd->kind == M_TABLE) {
				/* the child's old table: mapped by PTEs */
				bool empty = true;

				for (unsigned int k = 0; k < m->pmd_nr; k++)
					empty &= dd->pte[k].folio < 0;
				if (!empty)
					continue;
				for (unsigned int k = 0; k < m->pmd_nr; k++)
					dd->pte[k] = (struct m_pte){
						id, (uint8_t)k, (uint8_t)(ds->bits & M_D) };
				done += m->pmd_nr;
			} else {
				continue;
			}
			ds->bits &= (uint8_t)~M_W;
			m->f[id].excl = false;
			continue;
		}
		if (ds->kind != M_TABLE || dd->kind == M_LEAF)
			continue;
		dd->kind = M_TABLE;
		for (unsigned int k = 0; k < m->pmd_nr; k++) {
			struct m_pte *se = &ds->pte[k], *de = &dd->pte[k];
			int id = se->folio;

			if (id < 0 || de->folio >= 0 || !m->f[id].anon)
				continue;
			if (pinned_exclusive(m, id)) {
				/* cow.c's "R/W pin then fork": the child
				 * gets a copy, the pin keeps the parent's */
				int cid = new_copy(m, o, dst, va + k,
						   m->f[id].pfn + se->page);

				if (cid < 0)
					return -ENOMEM;
				*de = (struct m_pte){ cid, 0, M_W | M_D | M_Y };
			} else {
				*de = (struct m_pte){ id, se->page,
					(uint8_t)(se->bits & ~(M_W | M_Y)) };
				/* every parent entry of the folio read-only
				 * (wrprotect_folio_ptes), shared or not */
				for (unsigned int j = 0; j < m->pmd_nr; j++)
					if (ds->pte[j].folio == id)
						ds->pte[j].bits &= (uint8_t)~M_W;
				m->f[id].excl = false;
			}
			done++;
		}
	}
	return done;
}

/* migrate_folio, the VM holding the handle's reference and the lock */
static long op_migrate(struct model *m, const struct prog_op *op,
		       const struct m_oracle *o)
{
	struct m_handle *hd = &m->h[op->arg[0]];
	unsigned long nr, pfn = ~0ul;
	struct m_counts c;
	struct m_folio *f;
	bool queued;
	long cache;
	int id, g;

	if (hd->kind != H_REF)
		return M_SKIP;
	id = hd->folio;
	f = &m->f[id];
	nr = nr_pages(m, id);
	if (!f->anon && f->file < 0)
		return -EBUSY;
	model_counts(m, id, &c);
	cache = f->file >= 0 ? (long)nr : 0;
	if (c.rc - 1 != cache + c.map)	/* pins and other references */
		return -EAGAIN;
	if (o->real_rc == -ENOMEM && o->alloc_failed)	/* the new folio */
		return -ENOMEM;
	unmap_to_migration(m, id);
	f = &m->f[id];
	queued = f->queued;
	if (queued)
		queue_del(m, id);
	/* where the new folio is: a slot of it, or an entry mapping it */
	if (f->file >= 0)
		pfn = o->slot_pfn(o->ctx, (unsigned int)f->file, f->index);
	for (unsigned int mm = 0; pfn == ~0ul && mm < m->w.mms; mm++)
		for (unsigned int p = 0; pfn == ~0ul && p < m->nr_pmds; p++)
			for (unsigned int k = 0; k < m->pmd_nr; k++)
				if (m->pmd[mm][p].kind == M_TABLE &&
				    m->pmd[mm][p].pte[k].folio == id) {
					pfn = o->entry_pfn(o->ctx, mm,
							   ((unsigned long)p << m->w.pmd_order) + k) -
					      m->pmd[mm][p].pte[k].page;
					break;
				}
	hd->kind = H_FREE;	/* the old folio goes with our reference */
	if (pfn == ~0ul) {	/* unmapped and uncached: the new one is freed */
		f->file = -1;
		return 0;
	}
	g = new_folio(m, o, pfn, f->order, f->anon);
	if (g < 0)
		return 0;
	f = &m->f[id];
	/* migration keeps data (migration.c's tests): copied while frozen */
	for (unsigned long i = 0; i < nr; i++)
		m->data[m->f[g].pfn + i] = m->data[f->pfn + i];
	m->f[g].file = f->file;
	m->f[g].mm = f->mm;
	m->f[g].index = f->index;
	m->f[g].dirty = f->dirty;
	m->f[g].swapbacked = f->swapbacked;
	m->f[g].excl = f->excl;
	/* the descriptor moves to the new folio (sharers and all) */
	m->f[g].ksm = f->ksm;
	m->f[g].nsh = f->nsh;
	memcpy(m->f[g].sh, f->sh, sizeof(f->sh));
	f->ksm = false;
	f->nsh = 0;
	if (f->file >= 0)
		for (unsigned long i = 0; i < nr; i++)
			m->slot[f->file][f->index + i] = g;
	f->file = -1;
	for (unsigned int mm = 0; mm < m->w.mms; mm++)
		for (unsigned int p = 0; p < m->nr_pmds; p++) {
			struct m_pmd *d = &m->pmd[mm][p];

			if (d->kind != M_TABLE)
				continue;
			for (unsigned int k = 0; k < m->pmd_nr; k++)
				if (d->pte[k].folio == id) {
					d->pte[k].folio = g;
					d->pte[k].bits |= M_Y;
				}
		}
	if (queued)
		maybe_queue(m, g);
	return 0;
}

/* collapse_huge_page: a full table of collapsible small folios -> a THP */
static long op_collapse(struct model *m, const struct prog_op *op,
			const struct m_oracle *o)
{
	unsigned int mm = op->arg[0];
	unsigned long va = op->arg[1];
	struct m_pmd *d;
	int g;

	if (va & (m->pmd_nr - 1))
		return -EINVAL;
	/* the THP, its deposit (and a small array): allocated first (oracle) */
	if (o->real_rc == -ENOMEM && o->alloc_failed)
		return -ENOMEM;
	d = pmd_at(m, mm, va);
	if (d->kind != M_TABLE)
		return -EAGAIN;
	for (unsigned int k = 0; k < m->pmd_nr; k++) {
		int id = d->pte[k].folio;
		struct m_counts c;

		/* present, order-0 anon, exclusive, swapbacked, and held by
		 * this one entry alone (no pin, no handle) */
		if (id < 0 || !m->f[id].anon || m->f[id].order ||
		    !m->f[id].excl || !m->f[id].swapbacked)
			return -EAGAIN;
		model_counts(m, id, &c);
		if (c.rc != 1)
			return -EAGAIN;
	}
	g = new_folio(m, o, o->entry_pfn(o->ctx, mm, va), m->w.pmd_order, true);
	if (g < 0)
		return 0;
	/* collapse keeps data: each small page into its place in the THP
	 * (khugepaged's __collapse_huge_page_copy; selftests/mm/khugepaged.c
	 * checks the pattern after every collapse) */
	for (unsigned int k = 0; k < m->pmd_nr; k++)
		m->data[m->f[g].pfn + k] =
			m->data[m->f[d->pte[k].folio].pfn + d->pte[k].page];
	m->f[g].index = va;
	make_exclusive(m, g, mm);
	d->kind = M_LEAF;
	d->folio = g;
	d->bits = M_W | M_D | M_Y;
	for (unsigned int k = 0; k < m->pmd_nr; k++)
		d->pte[k] = (struct m_pte){ -1, 0, 0 };
	return 0;
}

/* lazyfree_verdict: dirty -> swapbacked again; extra holders -> keep */
static long verdict(struct model *m, int id, bool entries_dirty)
{
	struct m_counts c;

	if (entries_dirty || m->f[id].dirty) {
		m->f[id].swapbacked = true;
		return -EBUSY;
	}
	model_counts(m, id, &c);
	if (c.rc != 1 + c.map)
		return -EAGAIN;
	return 0;
}

/* The PTEs of folio @id at its va: batched (one verdict) or one by one. */
static long reclaim_ptes(struct model *m, int id, bool batched)
{
	struct m_folio *f = &m->f[id];
	unsigned int mm = (unsigned int)f->mm;
	unsigned long nr = nr_pages(m, id);
	bool dirty = false;
	long err;

	if (pmd_at(m, mm, f->index)->kind != M_TABLE)	/* none of ours here */
		return mapcount(m, id) ? -EAGAIN : 0;
	if (batched) {
		for (unsigned long i = 0; i < nr; i++) {
			struct m_pte *e = pte_at(m, mm, f->index + i);

			if (e->folio == id && e->page == i)
				dirty |= e->bits & M_D;
		}
		err = verdict(m, id, dirty);
		if (err)
			return err;
		unsigned long n = 0;

		for (unsigned long i = 0; i < nr; i++) {
			struct m_pte *e = pte_at(m, mm, f->index + i);

			if (e->folio == id && e->page == i) {
				*e = (struct m_pte){ -1, 0, 0 };
				n++;
			}
		}
		if (n)
			maybe_queue(m, id);
	} else {
		for (unsigned long i = 0; i < nr; i++) {
			struct m_pte *e = pte_at(m, mm, f->index + i);

			if (e->folio != id || e->page != i)
				continue;
			err = verdict(m, id, e->bits & M_D);
			if (err)
				return err;
			*e = (struct m_pte){ -1, 0, 0 };
			maybe_queue(m, id);
		}
	}
	return mapcount(m, id) ? -EAGAIN : 0;
}

/* reclaim_lazyfree_folio, the handle's reference being the isolation one */
static long op_reclaim(struct model *m, const struct prog_op *op)
{
	struct m_handle *hd = &m->h[op->arg[0]];
	bool batched = op->arg[1];
	struct m_counts c;
	struct m_folio *f;
	int id;

	if (hd->kind != H_REF)
		return M_SKIP;
	id = hd->folio;
	f = &m->f[id];
	if (!f->anon || f->swapbacked)
		return -EINVAL;
	if (mapcount(m, id)) {
		struct m_pmd *d = pmd_at(m, (unsigned int)f->mm, f->index);
		long err;

		if (d->kind == M_LEAF && d->folio == id && batched) {
			/* discard the PMD without splitting it */
			err = verdict(m, id, d->bits & M_D);
			if (!err)
				zap_leaf(m, d);
		} else {
			if (d->kind == M_LEAF && d->folio == id)
				split_leaf(m, d);	/* the baseline splits */
			err = reclaim_ptes(m, id, batched);
		}
		if (err)
			return err;
	}
	if (mapcount(m, id))
		return -EAGAIN;
	model_counts(m, id, &c);
	if (c.rc != 1)		/* folio_ref_freeze(1) */
		return -EAGAIN;
	hd->kind = H_FREE;	/* freed with our reference */
	return 0;
}

long model_op(struct model *m, const struct prog_op *op,
	      const struct m_oracle *o, int *made)
{
	long r = 0;

	*made = -1;
	m->read_valid = false;
	switch (op->code) {
	case OP_ADD: r = op_add(m, op, o); break;
	/* filemap_get_folio; folio_try_get_pfn (any live folio) */
	case OP_LOOKUP: r = hold(m, m->slot[op->arg[0]][op->arg[1]], made); break;
	case OP_GET_PFN: r = hold(m, m->owner[op->arg[0]], made); break;
	case OP_PUT: r = op_release(m, op->arg[0], 0); break;
	case OP_TRUNCATE: r = op_truncate(m, op); break;
	case OP_FAULT: r = op_fault(m, op, o); break;
	case OP_MAP: r = op_map(m, op, o); break;
	case OP_ZAP: r = op_zap(m, op); break;
	case OP_TOUCH: r = op_touch(m, op); break;
	case OP_GUP: r = op_gup(m, op, made); break;
	case OP_UNPIN: r = op_release(m, op->arg[0], op->arg[1]); break;
	case OP_SPLIT: r = op_split(m, op, o); break;
	case OP_SPLIT_PMD: r = op_split_pmd(m, op); break;
	case OP_SCAN: r = op_scan(m, op, o); break;
	case OP_MADV_FREE: r = op_madv_free(m, op, o); break;
	case OP_RECLAIM: r = op_reclaim(m, op); break;
	case OP_GET_VA: r = hold(m, folio_at_va(m, op->arg[0], op->arg[1]), made); break;
	case OP_FORK: r = op_fork(m, op, o); break;
	case OP_WP_FAULT: r = op_wp_fault(m, op, o); break;
	case OP_GUP_SLOW: r = op_gup_slow(m, op, o, made); break;
	case OP_MIGRATE: r = op_migrate(m, op, o); break;
	case OP_COLLAPSE: r = op_collapse(m, op, o); break;
	case OP_DMA: r = op_dma(m, op); break;
	case OP_WP_MERGE: r = op_wp_merge(m, op, o); break;
	default: break;
	}
	reap(m);
	return r;
}
