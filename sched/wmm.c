/* SPDX-License-Identifier: MIT */
/*
 * wmm.c - the store buffers of wmm.h.  Every logical thread runs on one OS
 * thread, so "buffering" a store is: let the wrapper write memory, then
 * put the old contents back and keep the new value here until a flush.
 * Nothing else runs between the wrapper's access and our hooks.
 */
#include <stdatomic.h>
#include <string.h>

#include "wmm.h"

static struct {
	enum fs_mm mode;
	wmm_flush_fn hook;
	struct wmm_entry e[WMM_THREADS][WMM_DEPTH];
	unsigned int n[WMM_THREADS];
	unsigned int total;
	/* the access between wmm_before and wmm_after */
	uint64_t old[WMM_THREADS];
	bool may_buffer[WMM_THREADS];
	/* arm: the visible writes of late, for a load satisfied early */
	wmm_choose_fn choose;
	unsigned long clock;		/* visible writes so far */
	unsigned long last[WMM_THREADS];	/* clock after its last step */
	unsigned long floor[WMM_THREADS];	/* ... or the one before, if
						 * the last was relaxed */
	struct { const volatile void *addr; uint64_t old; unsigned long time;
		 unsigned char size, tid; } hist[WMM_HIST];
	/* lock releases: the releaser's stores up to entry id, which the
	 * lock's next acquirer must see (a list in release order) */
	struct { const void *lock; unsigned long id; unsigned char tid; }
		rel[WMM_RELEASES];
	unsigned int nrel;
	char rcu_key[WMM_THREADS];	/* each thread's RCU "lock" */
	unsigned long next_id;		/* entries' ids: program order */
	const volatile void *prev_addr[WMM_THREADS];	/* its last access */
	unsigned char prev_size[WMM_THREADS];
	uint64_t stale[WMM_THREADS];
	const volatile void *stale_addr[WMM_THREADS];
} W;

static const char *const names[FS_MM_NR] = { "sc", "tso", "pso", "arm" };

const char *wmm_name(enum fs_mm m)
{
	return (unsigned int)m < FS_MM_NR ? names[m] : NULL;
}

enum fs_mm wmm_parse(const char *s)
{
	for (unsigned int m = 0; m < FS_MM_NR; m++)
		if (s && !strcmp(s, names[m]))
			return (enum fs_mm)m;
	return FS_MM_NR;
}

void wmm_reset(enum fs_mm m)
{
	for (unsigned int t = 0; t < WMM_THREADS; t++) {	/* no memset: */
		W.n[t] = 0;				/* see flush() */
		W.floor[t] = W.last[t] = 0;
		W.stale_addr[t] = W.prev_addr[t] = NULL;
	}
	W.nrel = 0;
	W.clock = 0;
	W.total = 0;
	W.mode = m;
}

void wmm_set_choose(wmm_choose_fn fn)
{
	W.choose = fn;
}

bool wmm_empty(void)
{
	return !W.total;
}

void wmm_set_flush_hook(wmm_flush_fn fn)
{
	W.hook = fn;
}

/* Memory, by size: the wrappers' objects are 1, 2, 4 or 8 bytes. */
static void mem_store(const volatile void *a, unsigned int size, uint64_t v)
{
	void *p = (void *)(uintptr_t)a;

	switch (size) {
	case 1: __atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED); break;
	case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED); break;
	case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED); break;
	default: __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); break;
	}
}

static uint64_t mem_load(const volatile void *a, unsigned int size)
{
	const void *p = (const void *)(uintptr_t)a;

	switch (size) {
	case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
}

static void log_write(unsigned int t, const volatile void *a,
		      unsigned int size);

static bool overlaps(const struct wmm_entry *e, const volatile void *a,
		     unsigned int size)
{
	uintptr_t x = (uintptr_t)e->addr, y = (uintptr_t)a;

	return x < y + size && y < x + e->size;
}

/* Entry @i of thread @t becomes visible (its prerequisites already are). */
static void flush(unsigned int t, unsigned int i, bool forced)
{
	struct wmm_entry e = W.e[t][i];

	log_write(t, e.addr, e.size);
	mem_store(e.addr, e.size, e.val);
	/* a loop, not memmove: TSan intercepts that even here (this file
	 * is not instrumented: W is every fiber's, on purpose) */
	for (unsigned int j = i; j + 1 < W.n[t]; j++)
		W.e[t][j] = W.e[t][j + 1];
	W.n[t]--;
	W.total--;
	if (W.hook)
		W.hook(&e, forced);
}

/* May entry @i of @t become visible before the older ones stay buffered? */
static bool flushable(unsigned int t, unsigned int i)
{
	const struct wmm_entry *e = W.e[t];

	if (i == 0)
		return true;
	if (W.mode == FS_MM_TSO || e[i].release)
		return false;		/* in order; a release waits for all */
	for (unsigned int j = 0; j < i; j++)
		if (overlaps(&e[j], e[i].addr, e[i].size))
			return false;	/* one order per location */
	return true;
}

/*
 * Make @t's stores to [a, a+size) visible, with what must be visible
 * before them: in tso every older store; in pso/arm the older stores to
 * the same place, and everything older than a release among them.
 */
static void flush_range(unsigned int t, const volatile void *a,
			unsigned int size)
{
	bool need[WMM_DEPTH] = { false };
	int last = -1;

	for (unsigned int i = 0; i < W.n[t]; i++)
		if (overlaps(&W.e[t][i], a, size)) {
			need[i] = true;
			last = (int)i;
		}
	if (last < 0)
		return;
	for (int k = last; k >= 0; k--) {
		if (!need[k])
			continue;
		for (int j = 0; j < k; j++)
			if (W.mode == FS_MM_TSO || W.e[t][k].release ||
			    overlaps(&W.e[t][j], W.e[t][k].addr, W.e[t][k].size))
				need[j] = true;
	}
	/* in index order, shifting as entries leave */
	for (unsigned int i = 0, j = 0; j <= (unsigned int)last; j++) {
		if (need[j])
			flush(t, i, true);
		else
			i++;
	}
}

void wmm_drain(unsigned int t)
{
	while (W.n[t])
		flush(t, 0, true);
}

void wmm_pin(unsigned int t)
{
	W.floor[t] = W.last[t] = W.clock;
	W.prev_addr[t] = NULL;
}

void wmm_pin(unsigned int t);

/*
 * The releases remembered: a list in release order, searched by the lock's
 * address (never hashed: addresses differ between runs, and which record
 * a collision evicted would too; a run must replay exactly).  Full: the
 * oldest record's stores become visible now.
 */
static int rel_find(const void *lock)
{
	for (unsigned int i = 0; i < W.nrel; i++)
		if (W.rel[i].lock == lock)
			return (int)i;
	return -1;
}

static void rel_drop(unsigned int i)
{
	for (; i + 1 < W.nrel; i++)
		W.rel[i] = W.rel[i + 1];
	W.nrel--;
}

/* @t's stores up to entry @id (a prefix: ids follow program order). */
static void flush_upto(unsigned int t, unsigned long id)
{
	while (W.n[t] && W.e[t][0].id <= id)
		flush(t, 0, true);
}

void wmm_release(unsigned int t, const void *lock)
{
	int i;

	if (W.mode == FS_MM_SC)
		return;
	i = rel_find(lock);
	if (i >= 0)	/* a later release of the lock covers the earlier */
		rel_drop((unsigned int)i);
	if (!W.n[t])
		return;
	if (W.nrel == WMM_RELEASES) {
		flush_upto(W.rel[0].tid, W.rel[0].id);
		rel_drop(0);
	}
	W.rel[W.nrel].lock = lock;
	W.rel[W.nrel].tid = (unsigned char)t;
	W.rel[W.nrel].id = W.e[t][W.n[t] - 1].id;
	W.nrel++;
}

void wmm_rcu_acquire(unsigned int t)
{
	if (W.mode == FS_MM_SC)
		return;
	for (unsigned int u = 0; u < WMM_THREADS; u++) {
		int i = rel_find(&W.rcu_key[u]);

		if (i < 0)
			continue;
		if (u != t)
			flush_upto(W.rel[i].tid, W.rel[i].id);
		rel_drop((unsigned int)i);
	}
	wmm_pin(t);
}

void wmm_acquire(unsigned int t, const void *lock)
{
	int i;

	if (W.mode == FS_MM_SC)
		return;
	if (W.mode == FS_MM_TSO)
		wmm_drain(t);	/* a LOCK'd instruction */
	i = rel_find(lock);
	if (i >= 0) {
		if (W.rel[i].tid != t)
			flush_upto(W.rel[i].tid, W.rel[i].id);
		rel_drop((unsigned int)i);
	}
	wmm_pin(t);	/* no load in the section is satisfied before this */
}

void wmm_drain_all(void)
{
	for (unsigned int t = 0; t < WMM_THREADS; t++)
		wmm_drain(t);
}

/* Another thread's stores to the place @t is about to write go first. */
static void others_first(unsigned int t, const volatile void *a,
			 unsigned int size)
{
	for (unsigned int u = 0; u < WMM_THREADS; u++)
		if (u != t && W.n[u])
			flush_range(u, a, size);
}

/*
 * arm: memory's contents at every visible write are kept a while (the
 * value before it, and when), so a load can be given the value its
 * location had at an earlier moment.
 */
static void log_write(unsigned int t, const volatile void *a,
		      unsigned int size)
{
	unsigned int i;

	if (W.mode != FS_MM_ARM || !size)
		return;
	i = (unsigned int)(W.clock++ % WMM_HIST);
	W.hist[i].addr = a;
	W.hist[i].old = mem_load(a, size);
	W.hist[i].time = W.clock;
	W.hist[i].size = (unsigned char)size;
	W.hist[i].tid = (unsigned char)t;
}

/*
 * arm: a relaxed load may be satisfied early, before the thread's previous
 * access if that one was relaxed (an arm64 core performs a load before an
 * earlier one it does not depend on): with the value its location had
 * just after the step before that, or after any write since.  An acquire,
 * a seq_cst access, a fence or a lock before it pins it after them; one
 * step at most, as a dependent load (a pointer read, then the object) is
 * all but always acquire here (memmap_word_load, the slots, the PMDs).
 * The choice is the
 * scheduler's (W.choose: 0 = the current value).  Never past a write of
 * this thread's own (a thread reads its own writes), never from a write
 * of another shape at the place.
 */
static void stale_choice(unsigned int t, const volatile void *a,
			 unsigned int size)
{
	uint64_t opt[WMM_HIST];
	unsigned int k = 0, c;

	W.stale_addr[t] = NULL;
	if (!W.choose || W.clock <= W.floor[t])
		return;
	if ((uintptr_t)W.prev_addr[t] < (uintptr_t)a + size &&
	    (uintptr_t)a < (uintptr_t)W.prev_addr[t] + W.prev_size[t])
		return;		/* accesses to one place keep their order */
	for (unsigned int i = 0; i < W.n[t]; i++)
		if (overlaps(&W.e[t][i], a, size))
			return;		/* forwarded from the buffer */
	for (unsigned long c0 = W.clock > WMM_HIST ? W.clock - WMM_HIST : 0,
	     tm = c0 > W.floor[t] ? c0 : W.floor[t]; tm < W.clock; tm++) {
		const __typeof__(W.hist[0]) *h = &W.hist[tm % WMM_HIST];
		uintptr_t x = (uintptr_t)h->addr, y = (uintptr_t)a;

		if (!(x < y + size && y < x + h->size))
			continue;
		if (h->tid == t || x != y || h->size != size) {
			k = 0;		/* nothing from before this one */
			continue;
		}
		opt[k++] = h->old;
	}
	if (!k)
		return;
	c = W.choose(k);
	if (!c)
		return;
	W.stale[t] = opt[c - 1];
	W.stale_addr[t] = a;
}

static void wmm_before_(unsigned int t, const struct folio_site *s,
			const volatile void *a);

void wmm_before(unsigned int t, const struct folio_site *s,
		const volatile void *a)
{
	wmm_before_(t, s, a);
	/* what the next load may be satisfied before (stale_choice) */
	W.floor[t] = s->kind <= FS_CAS && s->mo == memory_order_relaxed ?
		     W.last[t] : W.clock;
	W.last[t] = W.clock;
	W.prev_addr[t] = a;
	W.prev_size[t] = (unsigned char)s->size;
}

/* An exact match forwards (wmm_load); a store of another shape at the
 * place cannot: it becomes visible first. */
static void flush_partial(unsigned int t, const volatile void *a,
			  unsigned int size)
{
	for (unsigned int i = 0; i < W.n[t]; i++)
		if (overlaps(&W.e[t][i], a, size) &&
		    (W.e[t][i].addr != a || W.e[t][i].size != size)) {
			flush_range(t, a, size);
			return;
		}
}

static void wmm_before_(unsigned int t, const struct folio_site *s,
			const volatile void *a)
{
	unsigned int size = s->size;

	W.may_buffer[t] = false;
	W.stale_addr[t] = NULL;
	if (W.mode == FS_MM_SC)
		return;
	switch (s->kind) {
	case FS_LOAD:
		flush_partial(t, a, size);
		if (W.mode == FS_MM_ARM && s->mo == memory_order_relaxed)
			stale_choice(t, a, size);
		return;
	case FS_STORE:
		others_first(t, a, size);
		if (s->mo == memory_order_seq_cst) {
			wmm_drain(t);	/* x86's XCHG, arm's STLR + DMB */
			log_write(t, a, size);
			return;
		}
		flush_partial(t, a, size);
		if (W.n[t] == WMM_DEPTH)
			flush(t, 0, true);	/* the buffer is full */
		W.old[t] = mem_load(a, size);
		W.may_buffer[t] = true;
		return;
	case FS_RMW:
	case FS_XCHG:
	case FS_CAS:
		others_first(t, a, size);	/* an RMW reads the latest */
		if (W.mode == FS_MM_TSO || s->mo == memory_order_seq_cst ||
		    s->mo == memory_order_release) {
			wmm_drain(t);
		} else {
			flush_range(t, a, size);
		}
		/* pso/arm: a relaxed RMW's store may wait, like a store */
		if (W.mode != FS_MM_TSO && s->mo == memory_order_relaxed &&
		    s->kind != FS_CAS) {
			if (W.n[t] == WMM_DEPTH)
				flush(t, 0, true);
			W.old[t] = mem_load(a, size);
			W.may_buffer[t] = true;
		} else {
			log_write(t, a, size);
		}
		return;
	case FS_LOCK:
	case FS_TRYLOCK:
		return;		/* wmm_acquire once it is ours */
	case FS_UNLOCK:
		wmm_release(t, (const void *)a);
		return;
	case FS_RCU_LOCK:
		return;		/* a compiler barrier */
	case FS_RCU_UNLOCK:
		/* not a barrier either; but what the reader stored before it
		 * is visible once a grace period that waited for it ends */
		wmm_release(t, &W.rcu_key[t]);
		return;
	default:
		/* a fence, an unlock, a grace period, a condition wait: the
		 * thread's stores are visible before it */
		wmm_drain(t);
		return;
	}
}

bool wmm_after(unsigned int t, const struct folio_site *s,
	       const volatile void *a, uint64_t wr, unsigned int what,
	       size_t ev, unsigned long step)
{
	struct wmm_entry *e;

	if (!W.may_buffer[t] || !(what & FS_WROTE))
		return false;
	W.may_buffer[t] = false;
	e = &W.e[t][W.n[t]++];
	W.total++;
	*e = (struct wmm_entry){ .id = ++W.next_id, .site = s, .addr = a, .val = wr,
				 .size = s->size, .tid = (unsigned char)t,
				 .release = s->mo == memory_order_release,
				 .ev = ev, .step = step };
	mem_store(a, s->size, W.old[t]);	/* not visible yet */
	return true;
}

uint64_t wmm_load(unsigned int t, const volatile void *a, unsigned int size,
		  uint64_t mem)
{
	for (unsigned int i = W.n[t]; i-- > 0;)
		if (W.e[t][i].addr == a && W.e[t][i].size == size)
			return W.e[t][i].val;
	if (W.stale_addr[t] == a) {	/* arm: satisfied early */
		W.stale_addr[t] = NULL;
		return W.stale[t];
	}
	return mem;
}

void wmm_plain(unsigned int t, const volatile void *a, unsigned int size,
	       bool store)
{
	/* a plain load may be where the next access's address came from:
	 * the next load is not satisfied before it */
	W.floor[t] = W.last[t] = W.clock;
	if (W.total) {
		flush_range(t, a, size);
		if (store)
			others_first(t, a, size);
	}
	if (store)
		log_write(t, a, size);
}

unsigned int wmm_candidates(void)
{
	unsigned int k = 0;

	if (!W.total)
		return 0;
	for (unsigned int t = 0; t < WMM_THREADS; t++)
		for (unsigned int i = 0; i < W.n[t]; i++)
			k += flushable(t, i);
	return k;
}

void wmm_flush_candidate(unsigned int k)
{
	for (unsigned int t = 0; t < WMM_THREADS; t++)
		for (unsigned int i = 0; i < W.n[t]; i++)
			if (flushable(t, i) && k-- == 0) {
				flush(t, i, false);
				return;
			}
}

const struct wmm_entry *wmm_candidate(unsigned int k)
{
	for (unsigned int t = 0; t < WMM_THREADS; t++)
		for (unsigned int i = 0; i < W.n[t]; i++)
			if (flushable(t, i) && k-- == 0)
				return &W.e[t][i];
	return NULL;
}
