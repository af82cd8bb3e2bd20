/* SPDX-License-Identifier: MIT */
/*
 * trace.c - what a recorded scheduled run looks like to a person: a hash
 * that proves two runs took the same steps, and the race diagram, one
 * column per logical thread, the way a kernel commit message draws a race:
 *
 *       CPU0                              CPU1
 *   12  gup_fast_pmd (gup.c:107)
 *         load pmd ... -> leaf pfn 68
 *   13                                    split_folio_to_order (huge_memory.c:141)
 *                                           cas folio@68._refcount 3 -> 0
 *
 * Addresses are named from the world (a folio descriptor's field, a memmap
 * word, a PTE in a table page, an object the harness named with
 * fs_name_object), values decoded where their meaning is known (a folio
 * pointer, a memmap word, a page-table entry).  Runs on the main context
 * after the run (or with scheduling frozen by a finding).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/debug.h"
#include "folio/filemap.h"
#include "folio/folio.h"
#include "folio/memmap.h"
#include "folio/page_alloc.h"
#include "folio/pgtable.h"
#include "folio/slab.h"
#include "folio/world.h"
#include "race.h"
#include "sched.h"

static const char *const kind_names[FS_NR_KINDS] = {
	[FS_LOAD] = "load", [FS_STORE] = "store", [FS_RMW] = "rmw",
	[FS_XCHG] = "xchg", [FS_CAS] = "cas", [FS_FENCE] = "fence",
	[FS_LOCK] = "lock", [FS_TRYLOCK] = "trylock", [FS_UNLOCK] = "unlock",
	[FS_COND_WAIT] = "wait", [FS_COND_WAKE] = "wake", [FS_YIELD] = "yield",
	[FS_RCU_LOCK] = "rcu_read_lock", [FS_RCU_UNLOCK] = "rcu_read_unlock",
	[FS_SYNC_RCU] = "synchronize_rcu", [FS_CALL_RCU] = "call_rcu",
	[FS_RCU_BARRIER] = "rcu_barrier",
};

const char *fs_kind_name(unsigned int kind)
{
	return kind < FS_NR_KINDS ? kind_names[kind] : NULL;
}

/* ---- objects the harness names (files, mms, their tables) ---- */

#define MAX_NAMES 32
static struct {
	const void *p;
	size_t len, elem;
	char name[24];
} names[MAX_NAMES];
static unsigned int nnames;

void fs_name_object(const void *p, size_t len, size_t elem, const char *name)
{
	if (nnames < MAX_NAMES) {
		names[nnames].p = p;
		names[nnames].len = len;
		names[nnames].elem = elem;
		snprintf(names[nnames].name, sizeof(names[nnames].name), "%s", name);
		nnames++;
	}
}

void fs_names_clear(void)
{
	nnames = 0;
}

static bool in_world(const void *p)
{
	const char *base = pfn_to_virt(0);

	return base && (const char *)p >= base &&
	       (const char *)p < base + folio_nr_pages_total * PAGE_SIZE;
}

static bool in_memmap(const volatile void *p, unsigned long *pfn)
{
	const char *m = (const char *)folio_memmap;

	if (!m || (const char *)p < m ||
	    (const char *)p >= m + folio_nr_pages_total * sizeof(memdesc_t))
		return false;
	*pfn = (unsigned long)((const char *)p - m) / sizeof(memdesc_t);
	return true;
}

static const struct folio *folio_at(const volatile void *p)
{
	const struct folio *f = NULL;

	if (large_folio_cache)
		f = kmem_cache_object_at(large_folio_cache, (const void *)p);
	if (!f && folio_cache)
		f = kmem_cache_object_at(folio_cache, (const void *)p);
	return f;
}

const struct folio *fs_addr_folio(const volatile void *a)
{
	return a ? folio_at(a) : NULL;
}

static const char *folio_field(size_t off)
{
	static const struct { size_t off; const char *name; } f[] = {
		{ offsetof(struct folio, flags), "flags" },
		{ offsetof(struct folio, _refcount), "_refcount" },
		{ offsetof(struct folio, _mapcount), "_mapcount" },
		{ offsetof(struct folio, pfn), "pfn" },
		{ offsetof(struct folio, order), "order" },
		{ offsetof(struct folio, mapping), "mapping" },
		{ offsetof(struct folio, index), "index" },
		{ offsetof(struct folio, _lock_waiters), "_lock_waiters" },
		/* a large descriptor's (struct large_folio) */
		{ offsetof(struct large_folio, _entire_mapcount), "_entire_mapcount" },
		{ offsetof(struct large_folio, _pincount), "_pincount" },
		{ offsetof(struct large_folio, _deferred_list), "_deferred_list" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].off == off)
			return f[i].name;
	return "?";
}

/* A name for the address of an access. */
static void name_addr(const volatile void *a, char *buf, size_t n)
{
	const struct folio *f;
	unsigned long pfn;

	if (!a) {
		snprintf(buf, n, "-");
		return;
	}
	if (in_memmap(a, &pfn)) {
		snprintf(buf, n, "memmap[%lu]", pfn);
		return;
	}
	if ((f = folio_at(a))) {
		snprintf(buf, n, "folio@%u.%s", atomic_load(&f->pfn),
			 folio_field((size_t)((const char *)a - (const char *)f)));
		return;
	}
	if (in_world((const void *)a)) {
		pfn = virt_to_pfn((const void *)a);
		if (memdesc_type(atomic_load(&folio_memmap[pfn])) == MEMDESC_PTDESC) {
			snprintf(buf, n, "pte(table %lu)[%lu]", pfn,
				 (unsigned long)((uintptr_t)a % PAGE_SIZE) / sizeof(pte_t));
			return;
		}
		snprintf(buf, n, "page %lu+%lu", pfn,
			 (unsigned long)((uintptr_t)a % PAGE_SIZE));
		return;
	}
	if (folio_debug_name((const void *)a, buf, n))
		return;
	for (unsigned int i = 0; i < nnames; i++) {
		const char *p = names[i].p;

		if ((const char *)a >= p && (const char *)a < p + names[i].len) {
			size_t off = (size_t)((const char *)a - p);

			if (names[i].elem)
				snprintf(buf, n, "%s[%zu]", names[i].name,
					 off / names[i].elem);
			else if (off == 0 && strncmp(names[i].name, "file", 4) == 0)
				snprintf(buf, n, "%s.i_pages_lock", names[i].name);
			else if (off == offsetof(struct address_space, i_mmap_lock) &&
				 strncmp(names[i].name, "file", 4) == 0)
				snprintf(buf, n, "%s.i_mmap_lock", names[i].name);
			else if (strncmp(names[i].name, "mm", 2) == 0 &&
				 off == offsetof(struct mm_struct, pmd_lock))
				snprintf(buf, n, "%s.pmd_lock", names[i].name);
			else
				snprintf(buf, n, "%s+%zu", names[i].name, off);
			return;
		}
	}
	snprintf(buf, n, "?");
}

void fs_name_addr(const volatile void *a, char *buf, size_t n)
{
	name_addr(a, buf, n);
}

/* Is @v (read from or written to @a) a page-table entry? */
static bool is_entry(const volatile void *a)
{
	unsigned long pfn;

	if (in_world((const void *)a)) {
		pfn = virt_to_pfn((const void *)a);
		return memdesc_type(atomic_load(&folio_memmap[pfn])) == MEMDESC_PTDESC;
	}
	for (unsigned int i = 0; i < nnames; i++)
		if (names[i].elem == sizeof(pmd_t) && !strncmp(names[i].name, "mm", 2) &&
		    (const char *)a >= (const char *)names[i].p &&
		    (const char *)a < (const char *)names[i].p + names[i].len)
			return true;
	return false;
}

static void name_value(const volatile void *a, uint64_t v, char *buf, size_t n)
{
	const struct folio *f;
	unsigned long pfn;

	if (in_memmap(a, &pfn)) {
		static const char *const t[16] = { "misc", "buddy", "file", "anon",
			"?", "slab", "?", "ptdesc" };
		memdesc_t w = v;

		if (memdesc_is_folio(w) && (f = folio_at(memdesc_ptr(w))))
			snprintf(buf, n, "%s folio@%u", t[memdesc_type(w)],
				 atomic_load(&f->pfn));
		else
			snprintf(buf, n, "%s", t[memdesc_type(w)] ? t[memdesc_type(w)] : "?");
		return;
	}
	if (is_entry(a)) {
		if (!v) {
			snprintf(buf, n, "none");
			return;
		}
		snprintf(buf, n, "%s%s pfn %" PRIu64 "%s%s%s%s",
			 v & _PMD_LEAF ? "leaf" : v & _PMD_TABLE ? "table" :
			 v & _PAGE_MIGRATION ? "migration" : "pte",
			 v & _PAGE_PRESENT ? "" : "(!present)",
			 v >> _PAGE_PFN_SHIFT, v & _PAGE_WRITE ? " W" : "",
			 v & _PAGE_DIRTY ? " D" : "", v & _PAGE_YOUNG ? " A" : "",
			 "");
		return;
	}
	if (v && (f = folio_at((const void *)(uintptr_t)v)) == (const void *)(uintptr_t)v) {
		snprintf(buf, n, "folio@%u", atomic_load(&f->pfn));
		return;
	}
	for (unsigned int i = 0; i < nnames && v; i++)	/* a file, an mm */
		if (!names[i].elem &&
		    (uintptr_t)names[i].p == (uintptr_t)(v & ~(uint64_t)FOLIO_MAPPING_ANON)) {
			snprintf(buf, n, "%s%s", names[i].name,
				 v & FOLIO_MAPPING_ANON ? " (anon)" : "");
			return;
		}
	if (v > 0xffffffffull)
		snprintf(buf, n, "%#" PRIx64, v);
	else
		snprintf(buf, n, "%" PRId64, (int64_t)(int32_t)v == (int64_t)v ?
			 (int64_t)v : (int64_t)(int32_t)v);
}

/*
 * The diagram's focus: the pages of the finding's folio, and every
 * descriptor that owned one of them during the run (a folio that was split
 * or freed and reused is another descriptor by the end).
 */
#define MAX_FOCUS 16
struct focus {
	unsigned long pfn, nr;
	const void *desc[MAX_FOCUS];
	unsigned int ndesc;
};

/* Order-sized descriptors: 48 bytes for order 0, 80 otherwise. */
static size_t desc_size(const void *d)
{
	return large_folio_cache && kmem_cache_owns(large_folio_cache, d) ?
		       sizeof(struct large_folio) : sizeof(struct folio);
}

static bool in_focus_desc(const struct focus *fc, const volatile void *a)
{
	for (unsigned int i = 0; i < fc->ndesc; i++)
		if ((const char *)a >= (const char *)fc->desc[i] &&
		    (const char *)a < (const char *)fc->desc[i] +
				      desc_size(fc->desc[i]))
			return true;
	return false;
}

static void focus_add(struct focus *fc, const void *d)
{
	for (unsigned int i = 0; i < fc->ndesc; i++)
		if (fc->desc[i] == d)
			return;
	if (fc->ndesc < MAX_FOCUS)
		fc->desc[fc->ndesc++] = d;
}

static void focus_build(struct focus *fc, const struct fs_trace *t,
			const struct folio *f)
{
	fc->pfn = atomic_load(&f->pfn);
	fc->nr = 1ul << atomic_load(&f->order);
	fc->ndesc = 0;
	focus_add(fc, f);
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_event *e = &t->ev[i];
		unsigned long p;
		uint64_t v[2] = { e->rd, e->wr };

		if (!e->addr || !in_memmap(e->addr, &p) || p - fc->pfn >= fc->nr)
			continue;
		for (int k = 0; k < 2; k++)
			if ((e->what & (k ? FS_WROTE : FS_READ)) &&
			    memdesc_is_folio(v[k]))
				focus_add(fc, memdesc_ptr(v[k]));
	}
}

/* Does event @e touch the focus? */
static bool touches(const struct fs_event *e, const struct focus *fc)
{
	unsigned long p;
	uint64_t vals[2] = { e->rd, e->wr };

	if (!e->addr)
		return false;
	if (in_focus_desc(fc, e->addr))
		return true;
	if (in_memmap(e->addr, &p))
		return p - fc->pfn < fc->nr;
	for (int i = 0; i < 2; i++) {
		if (!(e->what & (i ? FS_WROTE : FS_READ)))
			continue;
		for (unsigned int k = 0; k < fc->ndesc; k++)
			if (vals[i] == (uint64_t)(uintptr_t)fc->desc[k])
				return true;
		if (is_entry(e->addr) && vals[i] &&
		    (vals[i] >> _PAGE_PFN_SHIFT) - fc->pfn < fc->nr &&
		    !(vals[i] & _PMD_TABLE))
			return true;
	}
	return false;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

#define COL 46

/*
 * The focused diagram leaves out what tells nothing about the race:
 *   - the steps before a second thread first ran, but the last
 *     PROLOGUE of them on the folio (one thread alone cannot race);
 *   - a read that repeats its thread's last access to that address, same
 *     value, with no write to it in between (a field read again and
 *     again).
 * Writes, and every first read of a value, stay.  --full shows all.
 */
#define PROLOGUE 3
#define SEEN_SIZE 1024			/* power of two, direct-mapped */
static struct seen {
	const volatile void *addr;
	uint64_t val;
	unsigned char tid;
	bool wrote;
} seen[SEEN_SIZE];

/* Is @e a read that repeats the last access to its address? Remember @e. */
static bool repeats(const struct fs_event *e)
{
	struct seen *s = &seen[((uintptr_t)e->addr >> 2) & (SEEN_SIZE - 1)];
	bool rep = s->addr == e->addr && !s->wrote && s->tid == e->tid &&
		   (e->what & (FS_READ | FS_WROTE)) == FS_READ &&
		   s->val == e->rd;

	if (e->what & FS_WROTE)
		*s = (struct seen){ e->addr, e->wr, e->tid, true };
	else if (e->what & FS_READ)
		*s = (struct seen){ e->addr, e->rd, e->tid, false };
	return rep;
}

/* The first step of the second thread to run (program threads or RCU). */
static size_t first_interleaving(const struct fs_trace *t)
{
	for (size_t i = 1; i < t->n; i++)
		if (t->ev[i].tid != t->ev[0].tid)
			return i;
	return t->n;
}

/*
 * "func (file:line)" of a plain access's code address, symbolized once
 * per address (the symbolizer is a process of its own under ASan).
 */
static void plain_where(uintptr_t pc, char *buf, size_t n)
{
	static struct { uintptr_t pc; char where[200]; } cache[256];
	unsigned int i = (unsigned int)((pc * 0x9e3779b97f4a7c15ull) >> 56);
	char raw[160], *sp, *file;

	if (cache[i].pc != pc) {
		race_symbolize(pc, raw, sizeof(raw));
		sp = strchr(raw, ' ');
		if (sp) {	/* "func /path/file.c:line" -> "func (file.c:line)" */
			*sp = 0;
			file = strrchr(sp + 1, '/');
			snprintf(cache[i].where, sizeof(cache[i].where), "%s (%s)",
				 raw, file ? file + 1 : sp + 1);
		} else {
			snprintf(cache[i].where, sizeof(cache[i].where), "%s", raw);
		}
		cache[i].pc = pc;
	}
	snprintf(buf, n, "%s", cache[i].where);
}

void fs_trace_diagram(const struct fs_trace *t, unsigned int nthreads,
		      const struct folio *focus, bool full, FILE *out)
{
	static struct focus fc;
	size_t from = 0, shown = 0, elided = 0;
	int last = -1;
	bool compact = !full && focus;

	if (focus)
		focus_build(&fc, t, focus);
	if (!full && !focus && t->n > 40)
		from = t->n - 40;	/* no folio to follow: the last steps */
	if (compact) {
		size_t start = first_interleaving(t), k = 0;

		memset(seen, 0, sizeof(seen));
		/* back up over the last PROLOGUE focus steps before it */
		for (from = start; from > 0 && k < PROLOGUE; from--)
			if (touches(&t->ev[from - 1], &fc))
				k++;
		for (size_t i = 0; i < from; i++) {
			if (touches(&t->ev[i], &fc))
				elided++;
			repeats(&t->ev[i]);
		}
	}
	fprintf(out, "       ");
	for (unsigned int c = 0; c <= nthreads; c++) {
		char h[32];

		if (c == nthreads) {
			snprintf(h, sizeof(h), "RCU callbacks");
		} else {
			snprintf(h, sizeof(h), "CPU%u (thread %u)", c, c);
		}
		fprintf(out, "%-*s", COL, h);
	}
	fprintf(out, "\n");
	if (elided)
		fprintf(out, "%7s(%zu earlier steps on the folio, before a second "
			"thread ran)\n", "", elided);
	for (size_t i = from; i < t->n; i++) {
		const struct fs_event *e = &t->ev[i];
		char an[48], rv[48], wv[48], cell[2][256];
		const char *kind;
		unsigned int col = e->tid == FS_RCU_TID ? nthreads : e->tid;

		if (!full && focus && !touches(e, &fc))
			continue;
		if (compact && repeats(e)) {
			elided++;
			continue;
		}
		shown++;
		name_addr(e->addr, an, sizeof(an));
		if (e->site)
			snprintf(cell[0], sizeof(cell[0]), "%s (%s:%u)",
				 e->site->func, base(e->site->file),
				 e->site->line);
		else
			plain_where(e->pc, cell[0], sizeof(cell[0]));
		kind = e->site ? kind_names[e->site->kind] :
		       e->what & FS_WROTE ? "plain store" : "plain load";
		rv[0] = wv[0] = 0;
		if (e->what & FS_READ)
			name_value(e->addr, e->rd, rv, sizeof(rv));
		if (e->what & FS_WROTE)
			name_value(e->addr, e->wr, wv, sizeof(wv));
		if (e->what & FS_EV_FLUSH)
			snprintf(cell[1], sizeof(cell[1]),
				 "  now visible: %s %s := %s (of step %zu%s)",
				 kind, an, wv, (size_t)e->pc,
				 e->size ? ", forced" : "");
		else if ((e->what & FS_READ) && (e->what & FS_WROTE))
			snprintf(cell[1], sizeof(cell[1]), "  %s %s: %s -> %s",
				 kind, an, rv, wv);
		else if (e->what & FS_READ)
			snprintf(cell[1], sizeof(cell[1]), "  %s %s = %s",
				 kind, an, rv);
		else if (e->what & FS_WROTE)
			snprintf(cell[1], sizeof(cell[1]), "  %s %s := %s",
				 kind, an, wv);
		else
			snprintf(cell[1], sizeof(cell[1]), "  %s %s",
				 kind, an);
		if (e->what & FS_EV_BUFFERED)
			strncat(cell[1], " (buffered)", sizeof(cell[1]) - strlen(cell[1]) - 1);
		if (e->what & FS_EV_BLOCK)
			strncat(cell[1], " (blocks)", sizeof(cell[1]) - strlen(cell[1]) - 1);
		if (e->what & FS_EV_RACE)
			strncat(cell[1], "   <-- DATA RACE",
				sizeof(cell[1]) - strlen(cell[1]) - 1);
		if ((int)col != last && last >= 0)
			fprintf(out, "%7s%s\n", "", "");
		last = (int)col;
		for (int l = 0; l < 2; l++) {
			if (l == 0)
				fprintf(out, "%6zu ", i);
			else
				fprintf(out, "%6s ", "");
			fprintf(out, "%*s%.*s\n", (int)(col * COL), "", COL + 40, cell[l]);
		}
	}
	fprintf(out, "(%zu of %zu steps shown%s; --full shows every step)\n",
		shown, t->n, full ? "" : focus ?
		": those that touched the folio, less repeated reads and "
		"the steps before the threads met" : ": the last ones");
}

/* ---- the hash ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A value as it would be in any process: world offsets, no host pointers. */
static uint64_t stable(uint64_t v)
{
	const char *w = pfn_to_virt(0);
	uint64_t lo = (uint64_t)(uintptr_t)w;
	uint64_t hi = lo + folio_nr_pages_total * PAGE_SIZE;

	if (v < (1ull << 40))
		return v;		/* counts, flags, entries, pfns */
	if ((v & ~0xfull) >= lo && (v & ~0xfull) < hi)
		return ((v & ~0xfull) - lo) | (v & 0xf) | (1ull << 63);
	return 0xdeadull;		/* a host pointer: where malloc put it */
}

uint64_t fs_trace_hash(const struct fs_trace *t)
{
	uint64_t h = 0xcbf29ce484222325ull;

	/*
	 * Not the line: gcc and clang number a macro call that spans lines
	 * differently (its first or its last line), and the release and
	 * sanitizer presets use different compilers.
	 */
	for (size_t i = 0; i < t->n; i++) {
		const struct fs_event *e = &t->ev[i];

		/* the fa_* steps only: plain accesses are steps only in a
		 * clang build, and the hash is the same in every build */
		if (!e->site)
			continue;
		uint64_t v[3] = { stable(e->rd), stable(e->wr),
				  (uint64_t)e->site->kind << 16 |
				  (uint64_t)e->tid << 8 | e->what };

		h = fnv(h, base(e->site->file), strlen(base(e->site->file)));
		h = fnv(h, e->site->func, strlen(e->site->func));
		h = fnv(h, v, sizeof(v));
	}
	return h;
}

void fs_trace_free(struct fs_trace *t)
{
	free(t->ev);
	memset(t, 0, sizeof(*t));
}
