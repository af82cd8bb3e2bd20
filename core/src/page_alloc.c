/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.c - buddy allocator over the simulated PFNs.
 *
 * Free lists are doubly linked through the free pages' own memmap words
 * (bits 9-35 next, 36-62 prev), the way the kernel links free pages through
 * their struct page: no side table, so the memmap stays 8 bytes a page.
 * Pages inside a free block (not its first page) carry BUDDY_ORDER_TAIL.
 *
 * The zone's lists run under zone.lock.  In front of them, per-CPU page
 * lists (the kernel's struct per_cpu_pages) keep small blocks, and blocks
 * of the PMD order, that a CPU freed, for that CPU to take again without the
 * zone lock: refilled and drained in batches, drained past a high
 * watermark and, when an allocation finds the zone empty, drained on every
 * CPU before it gives up (the kernel's drain_all_pages in the slow path).
 * A block on a per-CPU list is free (BUDDY words, counted free by the
 * checker) but is no zone block: its head word carries BUDDY_PCP, so the
 * zone never merges it with its buddy, and its link to the next block of
 * that list sits in the "next" bits.
 *
 * Lockless readers may load any word at any time; they only ever test the
 * type (BUDDY means "no folio here"), so the relaxed stores of free-list
 * words race with nothing they use.  Allocated words are stored with
 * release (memmap_word_store), so a reader that acquires through a later
 * refcount publish sees them.
 *
 * Lock order: a CPU's list lock -> zone.lock.  Whoever takes several CPUs'
 * locks (drain_all, the walks) takes them in CPU order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* scheduled build: the free lists' steps give the fuzzer no feedback */
#define FOLIO_SCHED_SITE_FLAGS FS_SITE_QUIET

#include "folio/page_alloc.h"
#include "folio/debug.h"
#include "folio/percpu.h"
#include "internal.h"

#define BUDDY_ORDER_SHIFT 4
#define BUDDY_ORDER_BITS 5
#define BUDDY_ORDER_TAIL 31u
#define BUDDY_NEXT_SHIFT 9
#define BUDDY_PREV_SHIFT 36
#define BUDDY_PFN_BITS 27
#define BUDDY_PFN_NIL ((1ul << BUDDY_PFN_BITS) - 1)
#define BUDDY_PFN_MASK BUDDY_PFN_NIL
/* head of a block on a per-CPU list: free, but not the zone's to merge */
#define BUDDY_PCP (1ull << 63)

_Static_assert(MAX_PAGE_ORDER < BUDDY_ORDER_TAIL, "order field too small");
_Static_assert(BUDDY_PREV_SHIFT + BUDDY_PFN_BITS <= 64, "links overflow word");
_Static_assert(FOLIO_MAX_NR_PAGES == BUDDY_PFN_NIL, "NIL must be out of range");

_Atomic memdesc_t *folio_memmap;
unsigned long folio_nr_pages_total;

/*
 * The zone.  Its lock stays (the kernel's zone->lock): with the per-CPU
 * lists in front, it is taken once per batch of refills or drains, and for
 * blocks no CPU list keeps.
 */
static struct {
	struct fl_lock lock;
	unsigned long head[NR_PAGE_ORDERS];
	unsigned long nr_blocks[NR_PAGE_ORDERS];
	unsigned long nr_free;
	unsigned long nr_failed;	/* allocations refused (no block big enough) */
} zone = { .lock = FL_LOCK_INIT };

/*
 * Per-CPU lists: orders 0..PCP_MAX_ORDER (the kernel's costly order) and
 * the world's PMD order, each a LIFO list: the block freed last is the one
 * handed out next on that CPU (hot, and the reuse a stale reader meets).
 */
#define PCP_MAX_ORDER 3
#define PCP_NR_LISTS (PCP_MAX_ORDER + 2)

struct per_cpu_pages {
	struct fl_lock lock;
	unsigned long head[PCP_NR_LISTS];
	unsigned long nr_blocks[PCP_NR_LISTS];
	unsigned long count;		/* pages on this CPU's lists */
} __attribute__((aligned(64)));

static struct per_cpu_pages pcp[FOLIO_NR_CPUS];
static unsigned long pcp_high, pcp_batch;	/* pages */
static unsigned int pcp_pmd_order;
static bool pcp_ready;

static memdesc_t buddy_word(unsigned int order, unsigned long next,
			    unsigned long prev)
{
	return MEMDESC_BUDDY | ((memdesc_t)order << BUDDY_ORDER_SHIFT) |
	       ((memdesc_t)next << BUDDY_NEXT_SHIFT) |
	       ((memdesc_t)prev << BUDDY_PREV_SHIFT);
}

static unsigned int buddy_order_of(memdesc_t w)
{
	return (w >> BUDDY_ORDER_SHIFT) & ((1u << BUDDY_ORDER_BITS) - 1);
}
static bool buddy_on_pcp(memdesc_t w)
{
	return (w & BUDDY_PCP) != 0;
}
bool buddy_word_is_block_head(memdesc_t w)
{
	return memdesc_type(w) == MEMDESC_BUDDY &&
	       buddy_order_of(w) != BUDDY_ORDER_TAIL;
}

static unsigned long buddy_next(memdesc_t w)
{
	return (w >> BUDDY_NEXT_SHIFT) & BUDDY_PFN_MASK;
}
static unsigned long buddy_prev(memdesc_t w)
{
	return (w >> BUDDY_PREV_SHIFT) & BUDDY_PFN_MASK;
}

static memdesc_t zload(unsigned long pfn)
{
	return fa_load_relaxed(&folio_memmap[pfn]);
}
static void zstore(unsigned long pfn, memdesc_t w)
{
	fa_store_relaxed(&folio_memmap[pfn], w);
}

static void set_prev(unsigned long pfn, unsigned long prev)
{
	memdesc_t w = zload(pfn);
	zstore(pfn, buddy_word(buddy_order_of(w), buddy_next(w), prev));
}
static void set_next(unsigned long pfn, unsigned long next)
{
	memdesc_t w = zload(pfn);
	zstore(pfn, buddy_word(buddy_order_of(w), next, buddy_prev(w)));
}

static void list_add_block(unsigned long pfn, unsigned int order)
{
	unsigned long head = zone.head[order];

	zstore(pfn, buddy_word(order, head, BUDDY_PFN_NIL));
	if (head != BUDDY_PFN_NIL)
		set_prev(head, pfn);
	zone.head[order] = pfn;
	zone.nr_blocks[order]++;
}

static void list_del_block(unsigned long pfn, unsigned int order)
{
	memdesc_t w = zload(pfn);
	unsigned long next = buddy_next(w), prev = buddy_prev(w);

	if (prev != BUDDY_PFN_NIL)
		set_next(prev, next);
	else
		zone.head[order] = next;
	if (next != BUDDY_PFN_NIL)
		set_prev(next, prev);
	zone.nr_blocks[order]--;
	/* The page stays free until the caller decides: mark it a tail. */
	zstore(pfn, buddy_word(BUDDY_ORDER_TAIL, 0, 0));
}

static bool is_free_head(unsigned long pfn, unsigned int order)
{
	memdesc_t w;

	if (pfn >= folio_nr_pages_total)
		return false;
	w = zload(pfn);
	return memdesc_type(w) == MEMDESC_BUDDY && buddy_order_of(w) == order &&
	       !buddy_on_pcp(w);
}

/* Take a free block of @order off the zone, splitting a larger one. */
static long zone_take(unsigned int order)
{
	unsigned int k;
	unsigned long pfn;

	for (k = order; k <= MAX_PAGE_ORDER; k++)
		if (zone.head[k] != BUDDY_PFN_NIL)
			break;
	if (k > MAX_PAGE_ORDER)
		return -1;
	pfn = zone.head[k];
	list_del_block(pfn, k);
	while (k > order) {	/* hand the upper halves back */
		k--;
		list_add_block(pfn + (1ul << k), k);
	}
	zone.nr_free -= 1ul << order;
	return (long)pfn;
}

/* Give a block whose words are all BUDDY tails to the zone, merging. */
static void zone_give(unsigned long pfn, unsigned int order)
{
	unsigned long buddy;

	zone.nr_free += 1ul << order;
	while (order < MAX_PAGE_ORDER) {
		buddy = pfn ^ (1ul << order);
		if (!is_free_head(buddy, order))
			break;
		list_del_block(buddy, order);
		pfn &= ~(1ul << order);
		order++;
	}
	list_add_block(pfn, order);
}

/* The per-CPU list for @order, or -1: the zone's alone (a block larger
 * than a CPU may keep, or an order no list caches). */
static int pcp_list(unsigned int order)
{
	if ((1ul << order) > pcp_high)
		return -1;
	if (order <= PCP_MAX_ORDER)
		return (int)order;
	return order == pcp_pmd_order ? PCP_MAX_ORDER + 1 : -1;
}

static unsigned int pcp_list_order(int i)
{
	return i <= PCP_MAX_ORDER ? (unsigned int)i : pcp_pmd_order;
}

/* Push a block (its words BUDDY tails) on @p's list @i.  @p locked. */
static void pcp_push(struct per_cpu_pages *p, int i, unsigned long pfn)
{
	unsigned int order = pcp_list_order(i);

	zstore(pfn, buddy_word(order, p->head[i], 0) | BUDDY_PCP);
	p->head[i] = pfn;
	p->nr_blocks[i]++;
	p->count += 1ul << order;
}

/* Pop the block freed last from @p's list @i, or -1.  @p locked. */
static long pcp_pop(struct per_cpu_pages *p, int i)
{
	unsigned long pfn = p->head[i];

	if (pfn == BUDDY_PFN_NIL)
		return -1;
	p->head[i] = buddy_next(zload(pfn));
	p->nr_blocks[i]--;
	p->count -= 1ul << pcp_list_order(i);
	/* a tail again until the caller stores its word */
	zstore(pfn, buddy_word(BUDDY_ORDER_TAIL, 0, 0));
	return (long)pfn;
}

/*
 * Move blocks from @p to the zone until @p holds at most @keep pages,
 * the larger orders first.  @p locked; takes the zone lock.
 */
static void pcp_drain(struct per_cpu_pages *p, unsigned long keep)
{
	if (p->count <= keep)
		return;
	fl_lock(&zone.lock);
	for (int i = PCP_NR_LISTS; i-- > 0 && p->count > keep;) {
		long pfn;

		while (p->count > keep && (pfn = pcp_pop(p, i)) >= 0)
			zone_give((unsigned long)pfn, pcp_list_order(i));
	}
	fl_unlock(&zone.lock);
}

/* Every CPU's lists back to the zone (before an allocation gives up). */
void drain_all_pages(void)
{
	unsigned int n = folio_nr_cpu_ids();

	for (unsigned int cpu = 0; cpu < n; cpu++) {
		fl_lock_local(&pcp[cpu].lock);
		pcp_drain(&pcp[cpu], 0);
		fl_unlock_local(&pcp[cpu].lock);
	}
}

/*
 * A block from this CPU's list @i, refilled from the zone by a batch when
 * empty; -1 if the zone has none either.
 *
 *   this thread                       another thread
 *   cpu = folio_this_cpu() (= 0)
 *   (migrates to CPU 1)               runs on CPU 0, allocates
 *   lock pcp[0]   <- waits for it     lock pcp[0] ... unlock
 *
 * The lock is what makes a stale CPU number harmless: it only costs a
 * possibly contended lock, never a list used by two threads at once.
 */
static long pcp_alloc(int i)
{
	struct per_cpu_pages *p = &pcp[folio_this_cpu()];
	unsigned int order = pcp_list_order(i);
	long pfn;

	fl_lock_local(&p->lock);
	if (p->head[i] == BUDDY_PFN_NIL) {
		unsigned long want = pcp_batch >> order ? pcp_batch >> order : 1;

		fl_lock(&zone.lock);
		while (want--) {
			pfn = zone_take(order);
			if (pfn < 0)
				break;
			/* its words are tails: zone_take left the head one */
			pcp_push(p, i, (unsigned long)pfn);
		}
		fl_unlock(&zone.lock);
	}
	pfn = pcp_pop(p, i);
	fl_unlock_local(&p->lock);
	return pfn;
}

static long zone_alloc(unsigned int order)
{
	long pfn;

	fl_lock(&zone.lock);
	pfn = zone_take(order);
	fl_unlock(&zone.lock);
	return pfn;
}

long alloc_pages_desc(unsigned int order, memdesc_t word)
{
	int i;
	long pfn;

	if (order > MAX_PAGE_ORDER)
		return -1;
	i = pcp_list(order);
	pfn = i >= 0 ? pcp_alloc(i) : zone_alloc(order);
	if (pfn < 0) {
		/* the free blocks may sit on CPU lists, or keep their buddies
		 * from merging there: give them all back and try the zone */
		drain_all_pages();
		pfn = zone_alloc(order);
	}
	if (pfn < 0) {
		fl_lock(&zone.lock);
		zone.nr_failed++;
		fl_unlock(&zone.lock);
		return -1;
	}
	/* the block is ours: no lock needed to name its new owner */
	for (unsigned long n = 0; n < (1ul << order); n++)
		memmap_word_store((unsigned long)pfn + n, word);
	return pfn;
}

void free_pages_desc(unsigned long pfn, unsigned int order)
{
	unsigned long n = 1ul << order;
	int i = pcp_list(order);

	VM_BUG_ON(pfn & (n - 1));
	VM_BUG_ON(pfn + n > folio_nr_pages_total);
	/*
	 * Release stores: a reader that reloads the word after taking a
	 * reference on a reused descriptor must see BUDDY, not the old word.
	 */
	for (unsigned long k = 0; k < n; k++)
		memmap_word_store(pfn + k, buddy_word(BUDDY_ORDER_TAIL, 0, 0));
	if (i >= 0) {
		struct per_cpu_pages *p = &pcp[folio_this_cpu()];

		fl_lock_local(&p->lock);
		/* make room first: the block freed now stays hot here */
		if (p->count + n > pcp_high)
			pcp_drain(p, pcp_high > pcp_batch + n ?
					     pcp_high - pcp_batch - n : 0);
		pcp_push(p, i, pfn);
		fl_unlock_local(&p->lock);
		return;
	}
	fl_lock(&zone.lock);
	zone_give(pfn, order);
	fl_unlock(&zone.lock);
}

unsigned long nr_alloc_failures(void)
{
	unsigned long n;

	fl_lock(&zone.lock);
	n = zone.nr_failed;
	fl_unlock(&zone.lock);
	return n;
}

static void pcp_lock_all(unsigned int n)
{
	for (unsigned int cpu = 0; cpu < n; cpu++)
		fl_lock_local(&pcp[cpu].lock);
}

static void pcp_unlock_all(unsigned int n)
{
	for (unsigned int cpu = n; cpu-- > 0;)
		fl_unlock_local(&pcp[cpu].lock);
}

/* Free pages: the zone's and every CPU list's (a snapshot). */
unsigned long nr_free_pages(void)
{
	unsigned int ncpu = folio_nr_cpu_ids();
	unsigned long n;

	pcp_lock_all(ncpu);
	fl_lock(&zone.lock);
	n = zone.nr_free;
	fl_unlock(&zone.lock);
	for (unsigned int cpu = 0; cpu < ncpu; cpu++)
		n += pcp[cpu].count;
	pcp_unlock_all(ncpu);
	return n;
}

unsigned long nr_pcp_pages(void)
{
	unsigned int ncpu = folio_nr_cpu_ids();
	unsigned long n = 0;

	pcp_lock_all(ncpu);
	for (unsigned int cpu = 0; cpu < ncpu; cpu++)
		n += pcp[cpu].count;
	pcp_unlock_all(ncpu);
	return n;
}

void buddy_free_counts(unsigned long counts[NR_PAGE_ORDERS])
{
	unsigned int ncpu = folio_nr_cpu_ids();

	pcp_lock_all(ncpu);
	fl_lock(&zone.lock);
	memcpy(counts, zone.nr_blocks, sizeof(zone.nr_blocks));
	fl_unlock(&zone.lock);
	for (unsigned int cpu = 0; cpu < ncpu; cpu++)
		for (int i = 0; i < PCP_NR_LISTS; i++)
			counts[pcp_list_order(i)] += pcp[cpu].nr_blocks[i];
	pcp_unlock_all(ncpu);
}


/* A list's walk must not hang or crash on a corrupt link (checker). */
static bool bad_block(unsigned long p, unsigned int order, bool on_pcp,
		      unsigned long *steps)
{
	memdesc_t w;

	if (p >= folio_nr_pages_total || ++*steps > folio_nr_pages_total)
		return true;
	w = zload(p);
	return memdesc_type(w) != MEMDESC_BUDDY || buddy_order_of(w) != order ||
	       buddy_on_pcp(w) != on_pcp;
}

int buddy_for_each_free_block(int (*fn)(unsigned long, unsigned int, void *),
			      void *ctx)
{
	unsigned int ncpu = folio_nr_cpu_ids();
	unsigned long steps = 0;
	int ret = 0;

	pcp_lock_all(ncpu);
	fl_lock(&zone.lock);
	for (unsigned int k = 0; k <= MAX_PAGE_ORDER && !ret; k++) {
		for (unsigned long p = zone.head[k]; p != BUDDY_PFN_NIL && !ret;
		     p = buddy_next(zload(p))) {
			if (bad_block(p, k, false, &steps)) {
				ret = -EFAULT;
				break;
			}
			ret = fn(p, k, ctx);
		}
	}
	fl_unlock(&zone.lock);
	for (unsigned int cpu = 0; cpu < ncpu && !ret; cpu++) {
		for (int i = 0; i < PCP_NR_LISTS && !ret; i++) {
			unsigned int k = pcp_list_order(i);

			for (unsigned long p = pcp[cpu].head[i];
			     p != BUDDY_PFN_NIL && !ret; p = buddy_next(zload(p))) {
				if (bad_block(p, k, true, &steps)) {
					ret = -EFAULT;
					break;
				}
				ret = fn(p, k, ctx);
			}
		}
	}
	pcp_unlock_all(ncpu);
	return ret;
}

/* The last world's memmap, for a next world of the same size (world.c). */
static _Atomic memdesc_t *spare_memmap;
static unsigned long spare_nr, memmap_alloc_nr;

int buddy_init(unsigned long nr_pages, unsigned int pmd_order)
{
	unsigned long pfn = 0;

	if (spare_memmap && spare_nr >= nr_pages) {
		folio_memmap = spare_memmap;	/* every word used is stored below */
		memmap_alloc_nr = spare_nr;
	} else {
		free((void *)spare_memmap);
		folio_memmap = calloc(nr_pages, sizeof(*folio_memmap));
		memmap_alloc_nr = nr_pages;
	}
	spare_memmap = NULL;
	if (!folio_memmap)
		return -ENOMEM;
	folio_nr_pages_total = nr_pages;
	for (unsigned int k = 0; k <= MAX_PAGE_ORDER; k++) {
		zone.head[k] = BUDDY_PFN_NIL;
		zone.nr_blocks[k] = 0;
	}
	zone.nr_free = 0;
	zone.nr_failed = 0;
	/*
	 * Per-CPU watermarks scale with memory, as the kernel's do: a CPU
	 * keeps at most 1/32 of it (1024 pages), and moves an eighth of that
	 * per refill or drain.  A 96-page world keeps 3 pages per CPU; a
	 * world under 32 pages keeps none (every free goes to the zone).
	 */
	pcp_high = nr_pages / 32 < 1024 ? nr_pages / 32 : 1024;
	pcp_batch = pcp_high / 8 ? pcp_high / 8 : 1;
	pcp_pmd_order = pmd_order;
	percpu_reset();
	/*
	 * The lists are set up once per process: a world's destroy drains
	 * every one of them, so the next world finds them empty (and their
	 * locks free) without 64 re-initialisations per fuzz input.
	 */
	if (!pcp_ready) {
		for (unsigned int cpu = 0; cpu < FOLIO_NR_CPUS; cpu++) {
			fl_init(&pcp[cpu].lock);
			for (int i = 0; i < PCP_NR_LISTS; i++)
				pcp[cpu].head[i] = BUDDY_PFN_NIL;
		}
		pcp_ready = true;
	}
	/* Mark every page a free tail, then list the largest aligned blocks. */
	for (unsigned long i = 0; i < nr_pages; i++)
		zstore(i, buddy_word(BUDDY_ORDER_TAIL, 0, 0));
	while (pfn < nr_pages) {
		unsigned int k = MAX_PAGE_ORDER;

		while ((pfn & ((1ul << k) - 1)) || pfn + (1ul << k) > nr_pages)
			k--;
		list_add_block(pfn, k);
		zone.nr_free += 1ul << k;
		pfn += 1ul << k;
	}
	return 0;
}

void buddy_destroy(void)
{
	drain_all_pages();	/* the next world starts with empty lists */
	if (memmap_alloc_nr <= (1ul << 16)) {	/* small: keep it */
		free((void *)spare_memmap);
		spare_memmap = folio_memmap;
		spare_nr = memmap_alloc_nr;
	} else {
		free((void *)folio_memmap);
	}
	folio_memmap = NULL;
	folio_nr_pages_total = 0;
}

void *pfn_to_virt(unsigned long pfn)
{
	return (char *)folio_world.membase + pfn * PAGE_SIZE;
}

int page_alloc_debug_name(const void *addr, char *buf, size_t n)
{
	if (addr == &zone.lock) {
		snprintf(buf, n, "zone.lock");
		return 1;
	}
	for (unsigned int cpu = 0; cpu < FOLIO_NR_CPUS; cpu++)
		if (addr == &pcp[cpu].lock) {
			snprintf(buf, n, "pcp[%u].lock", cpu);
			return 1;
		}
	return 0;
}

unsigned long virt_to_pfn(const void *addr)
{
	return (unsigned long)((const char *)addr -
			       (const char *)folio_world.membase) >>
	       PAGE_SHIFT;
}
