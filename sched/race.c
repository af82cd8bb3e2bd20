/* SPDX-License-Identifier: MIT */
/*
 * race.c - the data-race detector (race.h): vector clocks per logical
 * thread, sync clocks per lock, atomic word and RCU token, a shadow per
 * accessed granule of shared memory; and what "shared" means, by address.
 *
 * Runs on the scheduler's OS thread between steps: only one logical thread
 * is ever inside, so nothing here is synchronised.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/memmap.h"
#include "folio/page_alloc.h"
#include "race.h"

struct race_ranges race_rg;

/* The core's static data (core/src/sched_sections.h); absent in a build
 * whose core was not compiled with it (gcc: no plain-access steps). */
extern char __start_folio_shared_bss[] __attribute__((weak));
extern char __stop_folio_shared_bss[] __attribute__((weak));
extern char __start_folio_shared_data[] __attribute__((weak));
extern char __stop_folio_shared_data[] __attribute__((weak));

void folio_sched_shared_add(const void *p, unsigned long len)
{
	uintptr_t lo = (uintptr_t)p;

	if (race_rg.nheap == RACE_MAX_HEAP) {
		/* not shared for the detector: a miss, never a false report */
		fprintf(stderr, "fuzz_sched: more than %d shared heap objects; "
			"the race detector ignores the rest\n", RACE_MAX_HEAP);
		return;
	}
	race_rg.heap[race_rg.nheap].lo = lo;
	race_rg.heap[race_rg.nheap].len = len;
	race_rg.nheap++;
	if (!race_rg.heap_lo || lo < race_rg.heap_lo)
		race_rg.heap_lo = lo;
	if (lo + len > race_rg.heap_hi)
		race_rg.heap_hi = lo + len;
}

void folio_sched_shared_del(const void *p)
{
	for (unsigned int i = 0; i < race_rg.nheap; i++)
		if (race_rg.heap[i].lo == (uintptr_t)p) {
			race_rg.heap[i] = race_rg.heap[--race_rg.nheap];
			return;
		}
}

bool race_shared_heap(uintptr_t a)
{
	for (unsigned int i = 0; i < race_rg.nheap; i++)
		if (a - race_rg.heap[i].lo < race_rg.heap[i].len)
			return true;
	return false;
}

/* ---- clocks ---- */

typedef uint32_t vclock[FS_NR_THREADS];

static vclock thr[FS_NR_THREADS];
static uint32_t run = 1;

#define SYNC_SIZE 16384			/* power of two, open addressing */
static struct sync {
	uintptr_t obj;
	uint32_t run;
	vclock c;
} sync_tab[SYNC_SIZE];
static unsigned int sync_used;

#define SHADOW_SIZE 32768		/* power of two, direct-mapped */
#define SHADOW_BITS 15
static struct granule {
	uintptr_t g;
	uint32_t run;
	struct race_acc w, r[FS_NR_THREADS];
} shadow_tab[SHADOW_SIZE];

static inline unsigned int hash(uintptr_t a, unsigned int bits)
{
	return (unsigned int)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

void race_run_start(void)
{
	const char *w = folio_nr_pages_total ? pfn_to_virt(0) : NULL;

	run++;
	sync_used = 0;
	memset(thr, 0, sizeof(thr));
	for (unsigned int t = 0; t < FS_NR_THREADS; t++)
		thr[t][t] = 1;
	race_rg.world_lo = (uintptr_t)w;
	race_rg.world_len = w ? folio_nr_pages_total * PAGE_SIZE : 0;
	race_rg.memmap_lo = (uintptr_t)folio_memmap;
	race_rg.memmap_len = folio_memmap ?
		folio_nr_pages_total * sizeof(memdesc_t) : 0;
	race_rg.bss_lo = (uintptr_t)__start_folio_shared_bss;
	race_rg.bss_len = __start_folio_shared_bss ?
		(uintptr_t)__stop_folio_shared_bss - race_rg.bss_lo : 0;
	race_rg.data_lo = (uintptr_t)__start_folio_shared_data;
	race_rg.data_len = __start_folio_shared_data ?
		(uintptr_t)__stop_folio_shared_data - race_rg.data_lo : 0;
}

/* The sync clock of @obj, created empty if @make. */
static struct sync *sync_of(uintptr_t obj, bool make)
{
	unsigned int i = hash(obj, 14);

	for (unsigned int n = 0; n < SYNC_SIZE; n++, i = (i + 1) & (SYNC_SIZE - 1)) {
		struct sync *s = &sync_tab[i];

		if (s->run != run) {
			if (!make)
				return NULL;
			if (sync_used + 1 >= SYNC_SIZE / 2)
				break;
			sync_used++;
			s->run = run;
			s->obj = obj;
			memset(s->c, 0, sizeof(s->c));
			return s;
		}
		if (s->obj == obj)
			return s;
	}
	/*
	 * Full (a run with thousands of distinct sync words): losing a clock
	 * would lose an edge and could report a false race, so refuse loudly
	 * rather than guess.
	 */
	fprintf(stderr, "fuzz_sched: race detector: more than %d sync objects "
		"in one run\n", SYNC_SIZE / 2);
	abort();
}

void race_acquire(unsigned int tid, const volatile void *obj)
{
	struct sync *s = sync_of((uintptr_t)obj, false);

	if (!s)
		return;
	for (unsigned int i = 0; i < FS_NR_THREADS; i++)
		if (s->c[i] > thr[tid][i])
			thr[tid][i] = s->c[i];
}

void race_release(unsigned int tid, const volatile void *obj)
{
	struct sync *s = sync_of((uintptr_t)obj, true);

	for (unsigned int i = 0; i < FS_NR_THREADS; i++)
		if (thr[tid][i] > s->c[i])
			s->c[i] = thr[tid][i];
	thr[tid][tid]++;
}

void race_release_store(unsigned int tid, const volatile void *obj)
{
	struct sync *s = sync_of((uintptr_t)obj, true);

	memcpy(s->c, thr[tid], sizeof(s->c));
	thr[tid][tid]++;
}

void race_atomic_order(unsigned int tid, const struct folio_site *s,
		       const volatile void *a, unsigned int what)
{
	memory_order mo = (memory_order)s->mo;
	bool cas_failed = s->kind == FS_CAS && !(what & FS_WROTE);
	bool acq = (what & FS_READ) && !cas_failed &&
		   (mo == memory_order_consume || mo == memory_order_acquire ||
		    mo == memory_order_acq_rel || mo == memory_order_seq_cst);
	bool rel = (what & FS_WROTE) &&
		   (mo == memory_order_release || mo == memory_order_acq_rel ||
		    mo == memory_order_seq_cst);

	if (acq)
		race_acquire(tid, a);
	if (rel) {
		if (s->kind == FS_STORE)
			race_release_store(tid, a);
		else
			race_release(tid, a);	/* an RMW extends the sequence */
	}
}

/* ---- the shadow ---- */

/* Did access @e (of another thread) happen before thread @tid's now? */
static inline bool ordered(const struct race_acc *e, unsigned int tid)
{
	return e->clk <= thr[tid][e->tid];
}

static inline bool conflicts(const struct race_acc *e, unsigned int tid,
			     uint8_t mask, bool plain)
{
	return e->clk && e->tid != tid && (e->mask & mask) &&
	       (plain || !(e->flags & RACE_ATOMIC)) && !ordered(e, tid);
}

/*
 * One 4-byte granule: the model's fields are ints, longs and pointers, and
 * a 4-byte granule keeps two ints of one word apart (a folio's _refcount
 * and _mapcount share a word: in one 8-byte granule an atomic RMW of one
 * would replace the last write of the other and hide its race).
 */
static bool granule_access(unsigned int tid, uintptr_t a, uintptr_t g,
			   uint8_t mask, const struct race_acc *acc,
			   struct race_report *r)
{
	struct granule *e = &shadow_tab[hash(g, SHADOW_BITS)];
	bool plain = !(acc->flags & RACE_ATOMIC), write = acc->flags & RACE_WRITE;
	struct race_acc now = *acc;

	if (e->run != run || e->g != g) {
		/* empty, or another granule's: a collision forgets it (a race
		 * missed, never one invented) */
		memset(e, 0, sizeof(*e));
		e->g = g;
		e->run = run;
	}
	now.clk = thr[tid][tid];
	now.tid = (uint8_t)tid;
	now.mask = mask;
	if (conflicts(&e->w, tid, mask, plain)) {
		*r = (struct race_report){ a, now, e->w };
		return true;
	}
	if (write)
		for (unsigned int u = 0; u < FS_NR_THREADS; u++)
			if (conflicts(&e->r[u], tid, mask, plain)) {
				*r = (struct race_report){ a, now, e->r[u] };
				return true;
			}
	if (write) {
		/* a sub-granule write of other bytes replaces the last write
		 * too (a miss, rare: the model's fields are 4 or 8 bytes) */
		e->w = now;
		for (unsigned int u = 0; u < FS_NR_THREADS; u++)
			if (e->r[u].mask & mask)
				e->r[u].clk = 0;
	} else {
		e->r[tid] = now;
	}
	return false;
}

bool race_access(unsigned int tid, uintptr_t a, unsigned int size,
		 const struct race_acc *acc, struct race_report *r)
{
	uintptr_t end = a + (size ? size : 8);

	for (uintptr_t g = a & ~(uintptr_t)3; g < end; g += 4) {
		uintptr_t lo = a > g ? a : g, hi = end < g + 4 ? end : g + 4;
		uint8_t mask = (uint8_t)(((1u << (hi - lo)) - 1) << (lo - g));

		if (granule_access(tid, a, g, mask, acc, r))
			return true;
	}
	return false;
}

/* ---- code addresses ---- */

void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf,
			      size_t out_buf_size) __attribute__((weak));

void race_symbolize(uintptr_t pc, char *buf, size_t n)
{
	Dl_info di;

	buf[0] = 0;
	if (__sanitizer_symbolize_pc) {
		/* a return address: the access is the instruction before */
		__sanitizer_symbolize_pc((void *)(pc - 1), "%f %s:%l", buf, n);
		if (buf[0] && !strstr(buf, "??"))
			return;
	}
	if (dladdr((void *)pc, &di) && di.dli_sname)
		snprintf(buf, n, "%s+0x%lx", di.dli_sname,
			 (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	else
		snprintf(buf, n, "0x%lx", (unsigned long)pc);
}

void __sanitizer_symbolize_global(void *data_ptr, const char *fmt,
				  char *out_buf, size_t out_buf_size)
	__attribute__((weak));

void race_name_global(uintptr_t a, char *buf, size_t n)
{
	char g[96] = "";

	if (__sanitizer_symbolize_global)
		__sanitizer_symbolize_global((void *)a, "%g", g, sizeof(g));
	if (g[0])
		snprintf(buf, n, "%s", g);
}
