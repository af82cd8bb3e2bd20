/* SPDX-License-Identifier: MIT */
/*
 * check.c - the quiescent-point checker (docs/design.md section 6).
 *
 * Runs single-threaded over a model no one is changing (it first waits
 * for pending RCU callbacks, which are in-flight operations too).  It takes the
 * locks it reads under anyway (cache, zone, file), so a harness that calls
 * it at the wrong time gets a wrong answer, not a crash.
 *
 * Order: the memmap scan first (it builds the set of live folios the other
 * rules look things up in), then the free lists, the references, the page
 * cache and the descriptor caches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "folio/check.h"
#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/huge_memory.h"
#include "folio/ksm.h"
#include "folio/pgtable.h"
#include "folio/page_alloc.h"
#include "folio/slab.h"
#include "folio/world.h"
#include "internal.h"

struct ck {
	const struct folio_check_opts *o;
	unsigned long nviol;
	unsigned int max_print;
	struct folio_violation *first;
	const struct folio **live;	/* sorted */
	size_t nlive, cap;
	struct folio_held *held;	/* merged, sorted */
	size_t nheld;
	unsigned long folio_pages, slab_pages, pt_pages, free_pages, free_heads;
	int *maps, *entire;	/* mappings found in the tables, per live folio */
};

static void violation(struct ck *c, const char *rule, const struct folio *f,
		      unsigned long pfn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void violation(struct ck *c, const char *rule, const struct folio *f,
		      unsigned long pfn, const char *fmt, ...)
{
	struct folio_violation v = { .rule = rule, .folio = f, .pfn = pfn };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v.detail, sizeof(v.detail), fmt, ap);
	va_end(ap);
	if (c->nviol == 0 && c->first)
		*c->first = v;
	if (c->o->out && c->nviol < c->max_print) {
		fprintf(c->o->out, "BUG: invariant %s violated", rule);
		if (pfn != ~0ul)
			fprintf(c->o->out, " at pfn %#lx", pfn);
		fprintf(c->o->out, ": %s\n", v.detail);
		if (f)
			dump_folio(c->o->out, f, rule);
	}
	c->nviol++;
}

static int ptr_cmp(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;

	return (x > y) - (x < y);
}

static int held_cmp(const void *a, const void *b)
{
	const struct folio_held *x = a, *y = b;

	return (x->folio > y->folio) - (x->folio < y->folio);
}

static bool is_live(struct ck *c, const struct folio *f)
{
	if (!c->nlive)	/* bsearch/qsort take no NULL base, even for 0 items */
		return false;
	return bsearch(&f, c->live, c->nlive, sizeof(*c->live), ptr_cmp);
}

static const struct folio_held *held_of(struct ck *c, const struct folio *f)
{
	struct folio_held key = { .folio = f };

	if (!c->nheld)
		return NULL;
	return bsearch(&key, c->held, c->nheld, sizeof(*c->held), held_cmp);
}

static int add_live(struct ck *c, const struct folio *f)
{
	if (c->nlive == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		const struct folio **p = realloc(c->live, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->live = p;
		c->cap = cap;
	}
	c->live[c->nlive++] = f;
	return 0;
}

/* I-memmap, part 1: walk every PFN once. */
static int check_memmap(struct ck *c)
{
	unsigned long nr = folio_nr_pages_total;

	for (unsigned long pfn = 0; pfn < nr;) {
		memdesc_t w = memmap_word_load_acquire(pfn);
		enum memdesc_type t = memdesc_type(w);
		struct folio *f;
		struct slab *s;

		switch (t) {
		case MEMDESC_BUDDY:
			c->free_pages++;
			c->free_heads += buddy_word_is_block_head(w);
			pfn++;
			continue;
		case MEMDESC_SLAB:
			s = memdesc_ptr(w);
			if (!kmem_cache_owns(slab_cache, s) || s->pfn != pfn)
				violation(c, "I-memmap", NULL, pfn,
					  "SLAB word points at %p, not this page's slab descriptor",
					  (void *)s);
			c->slab_pages++;
			pfn++;
			continue;
		case MEMDESC_PTDESC:
			if (!kmem_cache_owns(ptdesc_cache, memdesc_ptr(w)) ||
			    ((struct ptdesc *)memdesc_ptr(w))->pfn != pfn)
				violation(c, "I-memmap", NULL, pfn,
					  "PTDESC word points at %p, not this page's table descriptor",
					  memdesc_ptr(w));
			c->pt_pages++;
			pfn++;
			continue;
		case MEMDESC_FILE:
		case MEMDESC_ANON:
			break;
		default:
			violation(c, "I-memmap", NULL, pfn,
				  "page of unexpected type %u (word %#llx)",
				  (unsigned int)t, (unsigned long long)w);
			pfn++;
			continue;
		}
		f = memdesc_ptr(w);
		bool large_desc = kmem_cache_owns(large_folio_cache, f);

		if (!large_desc && !kmem_cache_owns(folio_cache, f)) {
			violation(c, "I-memmap", NULL, pfn,
				  "folio word points at %p, outside the folio caches",
				  (void *)f);
			pfn++;
			continue;
		}
		unsigned long fp = folio_pfn(f), fnr;
		unsigned int order = folio_order(f);

		/* order-sized descriptors: order > 0 only in a large one */
		if (large_desc != folio_test_flag(f, PG_large_desc) ||
		    (order && !large_desc)) {
			violation(c, "I-memmap", f, pfn,
				  "order-%u folio in a %s descriptor (large_desc "
				  "flag %d)", order, large_desc ? "large" : "small",
				  (int)folio_test_flag(f, PG_large_desc));
			pfn++;
			continue;
		}

		if (pfn != fp || order > MAX_PAGE_ORDER) {
			violation(c, "I-memmap", f, pfn,
				  "page points at a folio (pfn %#lx order %u) that does not cover it",
				  fp, order);
			pfn++;
			continue;
		}
		fnr = 1ul << order;
		if ((fp & (fnr - 1)) || fp + fnr > nr) {
			violation(c, "I-memmap", f, pfn,
				  "folio misaligned or past the end (order %u)",
				  order);
			pfn++;
			continue;
		}
		if (folio_ref_count(f) <= 0)
			violation(c, "I-memmap", f, pfn,
				  "page points at a descriptor with refcount %d (free or frozen)",
				  folio_ref_count(f));
		if ((t == MEMDESC_ANON) != folio_test_anon(f))
			violation(c, "I-memmap", f, pfn,
				  "memmap type %s but folio flags say %s",
				  t == MEMDESC_ANON ? "anon" : "file",
				  folio_test_anon(f) ? "anon" : "file");
		for (unsigned long i = 1; i < fnr; i++) {
			if (memmap_word_load_acquire(fp + i) != w)
				violation(c, "I-memmap", f, fp + i,
					  "page %lu of the folio does not point at it",
					  i);
		}
		if (add_live(c, f))
			return -ENOMEM;
		c->folio_pages += fnr;
		pfn += fnr;
	}
	if (c->nlive)
		qsort(c->live, c->nlive, sizeof(*c->live), ptr_cmp);
	for (size_t i = 1; i < c->nlive; i++)
		if (c->live[i] == c->live[i - 1])
			violation(c, "I-memmap", c->live[i], ~0ul,
				  "one descriptor heads two runs of pages");
	return 0;
}

struct buddy_ctx {
	struct ck *c;
	unsigned long pages, blocks;
};

static int check_free_block(unsigned long pfn, unsigned int order, void *ctx)
{
	struct buddy_ctx *b = ctx;
	unsigned long n = 1ul << order;

	if (pfn & (n - 1) || pfn + n > folio_nr_pages_total) {
		violation(b->c, "I-memmap", NULL, pfn,
			  "free block of order %u misaligned or past the end",
			  order);
		return 0;
	}
	for (unsigned long i = 0; i < n; i++) {
		memdesc_t w = memmap_word_load(pfn + i);

		if (memdesc_type(w) != MEMDESC_BUDDY ||
		    (i && buddy_word_is_block_head(w)))
			violation(b->c, "I-memmap", NULL, pfn + i,
				  "page %lu of free block %#lx order %u is not a BUDDY tail",
				  i, pfn, order);
	}
	b->pages += n;
	b->blocks++;
	return 0;
}

/* I-memmap, part 2: free lists agree with the memmap; pages add up. */
static void check_accounting(struct ck *c)
{
	struct buddy_ctx b = { .c = c };
	unsigned long nr = folio_nr_pages_total, nfree = nr_free_pages();

	if (buddy_for_each_free_block(check_free_block, &b) == -EFAULT)
		violation(c, "I-memmap", NULL, ~0ul,
			  "buddy free list is corrupt (bad link, type or order)");
	else if (b.pages != c->free_pages || nfree != c->free_pages ||
		 b.blocks != c->free_heads)
		violation(c, "I-memmap", NULL, ~0ul,
			  "free pages: %lu BUDDY words (%lu block heads), %lu pages in %lu listed blocks, zone says %lu",
			  c->free_pages, c->free_heads, b.pages, b.blocks,
			  nfree);
	if (c->folio_pages + c->slab_pages + c->pt_pages + c->free_pages != nr)
		violation(c, "I-memmap", NULL, ~0ul,
			  "folio %lu + slab %lu + page table %lu + free %lu pages != nr_pages %lu",
			  c->folio_pages, c->slab_pages, c->pt_pages,
			  c->free_pages, nr);
}

static int merge_held(struct ck *c)
{
	size_t n = c->o->nr_held, k = 0;

	if (!n)
		return 0;
	c->held = malloc(n * sizeof(*c->held));
	if (!c->held)
		return -ENOMEM;
	memcpy(c->held, c->o->held, n * sizeof(*c->held));
	qsort(c->held, n, sizeof(*c->held), held_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && c->held[k - 1].folio == c->held[i].folio) {
			c->held[k - 1].refs += c->held[i].refs;
			c->held[k - 1].pins += c->held[i].pins;
		} else {
			c->held[k++] = c->held[i];
		}
	}
	c->nheld = k;
	return 0;
}

static long live_index(struct ck *c, const struct folio *f)
{
	const struct folio **p;

	if (!c->nlive)
		return -1;
	p = bsearch(&f, c->live, c->nlive, sizeof(*c->live), ptr_cmp);
	return p ? p - c->live : -1;
}

/* One present entry mapping @pfn at @va of @mm; @pmd for a PMD leaf. */
static void count_mapping(struct ck *c, struct mm_struct *mm, unsigned long va,
			  pte_t entry, bool pmd)
{
	unsigned long pfn = pte_pfn(entry);
	memdesc_t w = pfn < folio_nr_pages_total ? memmap_word_load(pfn) : 0;
	struct folio *f = memdesc_is_folio(w) ? memdesc_ptr(w) : NULL;
	long i = f ? live_index(c, f) : -1;
	unsigned long off, want;

	if (i < 0) {
		violation(c, "I-map", NULL, pfn,
			  "mm %u va %#lx maps pfn %#lx, which is not a live folio's page",
			  mm->id, va, pfn);
		return;
	}
	off = pfn - folio_pfn(f);
	if (pmd && (off || folio_order(f) != pmd_order()))
		violation(c, "I-map", f, pfn,
			  "mm %u va %#lx: PMD leaf on a folio that is not PMD-sized at its first page",
			  mm->id, va);
	if (folio_test_ksm(f)) {
		/* I-wp: mapped only at a sharer's address (any mm) */
		const struct wp_desc *d = folio_wp_desc(f);
		unsigned int k = 0;

		while (k < d->nr && k < WP_MAX_SHARERS &&
		       (d->s[k].mapping || d->s[k].index != va))
			k++;
		if (k >= d->nr || k >= WP_MAX_SHARERS)
			violation(c, "I-wp", f, pfn,
				  "write-protected folio mapped by mm %u at va %#lx, which is not among its %u sharers",
				  mm->id, va, d->nr);
		if (entry & _PAGE_WRITE)
			violation(c, "I-wp", f, pfn,
				  "mm %u va %#lx: writable entry on a write-protected folio",
				  mm->id, va);
	} else if (folio_test_anon(f)) {
		if (folio_index(f) + off != va)
			violation(c, "I-map", f, pfn,
				  "anon folio mapped by mm %u at va %#lx, not at its index",
				  mm->id, va);
		/* I-excl: exclusive => only its owner maps it; a writable
		 * entry => exclusive (fork write-protects what it shares) */
		if (folio_test_anon_exclusive(f) && folio_anon_mm(f) != mm)
			violation(c, "I-excl", f, pfn,
				  "exclusive anon folio mapped by mm %u, not its owner mm %u",
				  mm->id, folio_anon_mm(f) ? folio_anon_mm(f)->id : ~0u);
		if (!folio_test_anon_exclusive(f) && (entry & _PAGE_WRITE))
			violation(c, "I-excl", f, pfn,
				  "mm %u va %#lx: writable entry on a shared (not exclusive) anon folio",
				  mm->id, va);
	} else {
		long base = mm_file_window(mm, folio_mapping(f));

		want = base < 0 ? ~0ul : (unsigned long)base + folio_index(f) + off;
		if (va != want)
			violation(c, "I-map", f, pfn,
				  "file folio mapped by mm %u at va %#lx, not at its window",
				  mm->id, va);
	}
	c->maps[i]++;
	if (pmd)
		c->entire[i]++;
}

/* I-map part 1: walk every table of every mm. */
static void check_tables(struct ck *c)
{
	struct mm_struct *mm;
	unsigned long nr = pmd_nr();

	fl_lock(&folio_world.mms_lock);
	cds_list_for_each_entry(mm, &folio_world.mms, world_link) {
		for (unsigned long p = 0; p < mm->nr_pmds; p++) {
			pmd_t pmd = fa_load_acquire(&mm->pmds[p]);
			_Atomic pte_t *ptes;

			if (!pmd)
				continue;
			if (pmd_leaf(pmd)) {
				count_mapping(c, mm, p * nr, pmd, true);
				continue;
			}
			if (!pmd_table(pmd)) {
				violation(c, "I-map", NULL, ~0ul,
					  "mm %u pmd %lu is %#llx: invalidated at a quiescent point",
					  mm->id, p, (unsigned long long)pmd);
				continue;
			}
			ptes = pte_offset(pmd, p * nr);
			for (unsigned long i = 0; i < nr; i++) {
				pte_t pte = fa_load_relaxed(&ptes[i]);

				if (!pte)
					continue;
				if (!pte_present(pte)) {
					violation(c, "I-map", NULL, pte_pfn(pte),
						  "mm %u va %#lx: %s entry at a quiescent point",
						  mm->id, p * nr + i,
						  pte_migration(pte) ? "migration" : "unknown");
					continue;
				}
				count_mapping(c, mm, p * nr + i, pte, false);
			}
		}
	}
	fl_unlock(&folio_world.mms_lock);
}

static void check_dsq_one(struct folio *f, void *ctx)
{
	struct ck *c = ctx;

	if (!is_live(c, f)) {
		violation(c, "I-dsq", f, ~0ul, "queued folio is not live");
		return;
	}
	if (!folio_test_anon(f) || folio_order(f) < 2 ||
	    !folio_test_partially_mapped(f))
		violation(c, "I-dsq", f, folio_pfn(f),
			  "queued folio is not anon, large (order >= 2) and partially mapped");
}

/* I-dsq: queued => anon, large, partially mapped; length agrees. */
static void check_dsq(struct ck *c)
{
	if (deferred_split_walk(check_dsq_one, c) == ~0ul)
		violation(c, "I-dsq", NULL, ~0ul,
			  "deferred-split queue length disagrees with its list");
	for (size_t i = 0; i < c->nlive; i++) {
		const struct folio *f = c->live[i];

		if (folio_test_partially_mapped(f) &&
		    !folio_on_deferred_list(f))
			violation(c, "I-dsq", f, folio_pfn(f),
				  "partially_mapped flag set but not queued");
	}
}

/* I-ref (and the counter floors; I-pin's pincount half). */
static void check_refs(struct ck *c)
{
	for (size_t i = 0; i < c->nheld; i++)
		if (!is_live(c, c->held[i].folio) &&
		    (c->held[i].refs || c->held[i].pins))
			violation(c, "I-ref", c->held[i].folio, ~0ul,
				  "caller records %ld refs %ld pins on a folio that is not live",
				  c->held[i].refs, c->held[i].pins);

	for (size_t i = 0; i < c->nlive; i++) {
		const struct folio *f = c->live[i];
		const struct folio_held *h = held_of(c, f);
		long refs = h ? h->refs : 0, pins = h ? h->pins : 0;
		bool large = folio_test_large(f);
		int cache = (!folio_test_anon(f) && folio_mapping(f)) ?
				    (int)folio_nr_pages(f) : 0;
		int map = folio_mapcount(f), entire = folio_entire_mapcount(f);
		int pincount = folio_pincount(f);
		long pinrefs = large ? pins : pins * GUP_PIN_COUNTING_BIAS;
		long expected = cache + map + pinrefs + refs;

		if (map < 0 || entire < 0 || pincount < 0 || entire > map)
			violation(c, "I-map", f, folio_pfn(f),
				  "counter below its floor: mapcount %d entire %d pincount %d",
				  map, entire, pincount);
		else if (map != c->maps[i] || entire != c->entire[i])
			violation(c, "I-map", f, folio_pfn(f),
				  "mapcount %d entire %d, but the tables hold %d mappings, %d PMDs",
				  map, entire, c->maps[i], c->entire[i]);
		if (folio_ref_count(f) != expected)
			violation(c, "I-ref", f, folio_pfn(f),
				  "refcount %d != cache %d + mapcount %d + pins %ld + held %ld = %ld",
				  folio_ref_count(f), cache, map, pinrefs, refs,
				  expected);
		/* I9: a pinned anon folio is exclusive while pinned */
		if ((pincount > 0 || pins > 0) && folio_test_anon(f) &&
		    !folio_test_anon_exclusive(f))
			violation(c, "I-excl", f, folio_pfn(f),
				  "pinned (pincount %d, %ld pins recorded) anon folio is not exclusive",
				  pincount, pins);
		if (pincount != (large ? pins : 0))
			violation(c, "I-pin", f, folio_pfn(f),
				  "pincount %d but %ld pins recorded (%s folio)",
				  pincount, pins, large ? "large" : "small");
	}
}

/*
 * I-wp: a write-protected folio is order 0, anon, swapbacked, never
 * exclusive; its descriptor lists distinct sharers, at most
 * WP_MAX_SHARERS; every live descriptor belongs to one such folio.
 * (Its entries: count_mapping.)
 */
static void check_wp(struct ck *c)
{
	unsigned long nksm = 0, active;

	for (size_t i = 0; i < c->nlive; i++) {
		const struct folio *f = c->live[i];
		const struct wp_desc *d;

		if (!folio_test_ksm(f))
			continue;
		nksm++;
		d = folio_wp_desc(f);
		if (folio_test_large(f) || !folio_test_anon(f) ||
		    !folio_test_swapbacked(f) || folio_test_anon_exclusive(f))
			violation(c, "I-wp", f, folio_pfn(f),
				  "write-protected folio is not an order-0, swapbacked, shared anon folio (order %u flags %#lx)",
				  folio_order(f), (unsigned long)fa_peek_relaxed(
					  (_Atomic unsigned long *)&f->flags));
		if (d->nr > WP_MAX_SHARERS) {
			violation(c, "I-wp", f, folio_pfn(f),
				  "descriptor lists %u sharers, at most %d fit",
				  d->nr, WP_MAX_SHARERS);
			continue;
		}
		for (unsigned int a = 0; a < d->nr; a++)
			for (unsigned int b = a + 1; b < d->nr; b++)
				if (d->s[a].mapping == d->s[b].mapping &&
				    d->s[a].index == d->s[b].index)
					violation(c, "I-wp", f, folio_pfn(f),
						  "sharer %#lx listed twice",
						  d->s[a].index);
	}
	active = wp_desc_nr_active();
	if (active != nksm)
		violation(c, "I-wp", NULL, ~0ul,
			  "%lu write-protect descriptors in use, %lu write-protected folios",
			  active, nksm);
}

/* I-cache: slots -> folios, and cached folios -> slots. */
static void check_cache(struct ck *c)
{
	struct address_space *m;
	const struct address_space **files = NULL;
	size_t nfiles = 0, cap = 0;

	fl_lock(&folio_world.files_lock);
	cds_list_for_each_entry(m, &folio_world.files, world_link) {
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 16;
			const struct address_space **p =
				realloc(files, cap * sizeof(*p));
			if (!p)
				break;
			files = p;
		}
		files[nfiles++] = m;
		fl_lock(&m->i_pages_lock);
		for (unsigned long i = 0; i < m->nr_slots; i++) {
			struct folio *f = fa_load_relaxed(&m->slots[i]);

			if (!f)
				continue;
			if (!is_live(c, f)) {
				violation(c, "I-cache", NULL, ~0ul,
					  "file %u slot %lu holds %p, which is not a live folio",
					  m->id, i, (void *)f);
				continue;
			}
			if (folio_mapping(f) != m || folio_index(f) > i ||
			    i - folio_index(f) >= folio_nr_pages(f))
				violation(c, "I-cache", f, folio_pfn(f),
					  "file %u slot %lu: folio's mapping %p index %#lx do not match",
					  m->id, i, (void *)folio_mapping(f),
					  folio_index(f));
		}
		fl_unlock(&m->i_pages_lock);
	}
	fl_unlock(&folio_world.files_lock);
	if (files)
		qsort(files, nfiles, sizeof(*files), ptr_cmp);

	for (size_t i = 0; i < c->nlive; i++) {
		const struct folio *f = c->live[i];
		struct address_space *fm = folio_mapping(f);
		unsigned long idx = folio_index(f), nr = folio_nr_pages(f);

		if (folio_test_anon(f) || !fm)
			continue;
		if (!files || !bsearch(&fm, files, nfiles, sizeof(*files), ptr_cmp)) {
			violation(c, "I-cache", f, folio_pfn(f),
				  "folio's mapping %p is not a known file",
				  (void *)fm);
			continue;
		}
		if (idx & (nr - 1) || idx >= fm->nr_slots ||
		    nr > fm->nr_slots - idx) {
			violation(c, "I-cache", f, folio_pfn(f),
				  "index %#lx misaligned or beyond file %u",
				  idx, fm->id);
			continue;
		}
		for (unsigned long j = 0; j < nr; j++)
			if (fa_load_relaxed(&fm->slots[idx + j]) != f)
				violation(c, "I-cache", f, folio_pfn(f),
					  "cached folio missing from file %u slot %lu",
					  fm->id, idx + j);
	}
	free(files);
}

static int check_folio_desc(void *obj, bool is_free, void *ctx)
{
	struct ck *c = ctx;
	struct folio *f = obj;

	if (is_free) {
		if (folio_ref_count(f) != 0)
			violation(c, "I-free", f, ~0ul,
				  "descriptor on the free list has refcount %d",
				  folio_ref_count(f));
		if (kmem_cache_owns(large_folio_cache, f) &&
		    !cds_list_empty(&large_folio_desc(f)->_deferred_list) &&
		    large_folio_desc(f)->_deferred_list.next != NULL)
			violation(c, "I-free", f, ~0ul,
				  "free descriptor still on the deferred-split queue");
	} else if (!is_live(c, f)) {
		violation(c, "I-free", f, ~0ul,
			  "descriptor allocated but no page points at it (leaked, or a frozen folio at a quiescent point)");
	}
	return 0;
}

static int check_slab_desc(void *obj, bool is_free, void *ctx)
{
	struct ck *c = ctx;
	struct slab *s = obj;

	if (!is_free &&
	    memmap_word_load_acquire(s->pfn) != memdesc_encode(MEMDESC_SLAB, s))
		violation(c, "I-free", NULL, s->pfn,
			  "slab descriptor %p allocated but its page does not point at it",
			  (void *)s);
	return 0;
}

/* I-free: every descriptor cache. */
static void check_caches(struct ck *c)
{
	if (kmem_cache_walk(folio_cache, check_folio_desc, c) == -EFAULT)
		violation(c, "I-free", NULL, ~0ul, "folio cache free list is corrupt");
	if (kmem_cache_walk(large_folio_cache, check_folio_desc, c) == -EFAULT)
		violation(c, "I-free", NULL, ~0ul,
			  "large folio cache free list is corrupt");
	if (kmem_cache_walk(slab_cache, check_slab_desc, c) == -EFAULT)
		violation(c, "I-free", NULL, ~0ul, "slab cache free list is corrupt");
}

unsigned long folio_check_quiescent(const struct folio_check_opts *opts,
				    struct folio_violation *first)
{
	struct folio_check_opts none = { 0 };
	struct ck c = { .o = opts ? opts : &none, .first = first };

	c.max_print = c.o->max_print ? c.o->max_print : 16;
	/*
	 * Quiescent includes RCU callbacks: a typesafe slab page emptied
	 * before the workers parked returns to the buddy allocator from
	 * liburcu's callback thread, which nobody parks.  Without waiting, the
	 * memmap scan and the free-list walk can straddle that free and
	 * disagree by a page.  The caller must not be in a read-side section.
	 */
	rcu_barrier_model();
	if (check_memmap(&c) || merge_held(&c)) {
		violation(&c, "checker", NULL, ~0ul, "out of memory");
		goto out;
	}
	folio_race_point(RP_CHECK_SCANNED, NULL);
	check_accounting(&c);
	c.maps = calloc(c.nlive + 1, sizeof(*c.maps));
	c.entire = calloc(c.nlive + 1, sizeof(*c.entire));
	if (!c.maps || !c.entire) {
		violation(&c, "checker", NULL, ~0ul, "out of memory");
		goto out;
	}
	check_tables(&c);
	check_refs(&c);
	check_dsq(&c);
	check_wp(&c);
	check_cache(&c);
	check_caches(&c);
out:
	free(c.live);
	free(c.held);
	free(c.maps);
	free(c.entire);
	return c.nviol;
}
