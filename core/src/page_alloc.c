/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.c - buddy allocator over the simulated PFNs.
 *
 * Free lists are doubly linked through the free pages' own memmap words
 * (bits 9-35 next, 36-62 prev), the way the kernel links free pages through
 * their struct page: no side table, so the memmap stays 8 bytes a page.
 * Pages inside a free block (not its first page) carry BUDDY_ORDER_TAIL.
 *
 * Everything here runs under zone_lock.  Lockless readers may load any word
 * at any time; they only ever test the type (BUDDY means "no folio here"),
 * so the relaxed stores of free-list words race with nothing they use.
 * Allocated words are stored with release (memmap_word_store), so a reader
 * that acquires through a later refcount publish sees them.
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
#include "internal.h"

#define BUDDY_ORDER_SHIFT 4
#define BUDDY_ORDER_BITS 5
#define BUDDY_ORDER_TAIL 31u
#define BUDDY_NEXT_SHIFT 9
#define BUDDY_PREV_SHIFT 36
#define BUDDY_PFN_BITS 27
#define BUDDY_PFN_NIL ((1ul << BUDDY_PFN_BITS) - 1)
#define BUDDY_PFN_MASK BUDDY_PFN_NIL

_Static_assert(MAX_PAGE_ORDER < BUDDY_ORDER_TAIL, "order field too small");
_Static_assert(BUDDY_PREV_SHIFT + BUDDY_PFN_BITS <= 64, "links overflow word");
_Static_assert(FOLIO_MAX_NR_PAGES == BUDDY_PFN_NIL, "NIL must be out of range");

_Atomic memdesc_t *folio_memmap;
unsigned long folio_nr_pages_total;

static struct {
	struct fl_lock lock;
	unsigned long head[NR_PAGE_ORDERS];
	unsigned long nr_blocks[NR_PAGE_ORDERS];
	unsigned long nr_free;
	unsigned long nr_failed;	/* allocations refused (no block big enough) */
} zone = { .lock = FL_LOCK_INIT };

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
	return memdesc_type(w) == MEMDESC_BUDDY && buddy_order_of(w) == order;
}

long alloc_pages_desc(unsigned int order, memdesc_t word)
{
	unsigned int k;
	unsigned long pfn, i;

	if (order > MAX_PAGE_ORDER)
		return -1;
	fl_lock(&zone.lock);
	for (k = order; k <= MAX_PAGE_ORDER; k++)
		if (zone.head[k] != BUDDY_PFN_NIL)
			break;
	if (k > MAX_PAGE_ORDER) {
		zone.nr_failed++;
		fl_unlock(&zone.lock);
		return -1;
	}
	pfn = zone.head[k];
	list_del_block(pfn, k);
	while (k > order) {	/* hand the upper halves back */
		k--;
		list_add_block(pfn + (1ul << k), k);
	}
	zone.nr_free -= 1ul << order;
	for (i = 0; i < (1ul << order); i++)
		memmap_word_store(pfn + i, word);
	fl_unlock(&zone.lock);
	return (long)pfn;
}

void free_pages_desc(unsigned long pfn, unsigned int order)
{
	unsigned long i, buddy;

	VM_BUG_ON(pfn & ((1ul << order) - 1));
	VM_BUG_ON(pfn + (1ul << order) > folio_nr_pages_total);
	fl_lock(&zone.lock);
	/*
	 * Release stores: a reader that reloads the word after taking a
	 * reference on a reused descriptor must see BUDDY, not the old word.
	 */
	for (i = 0; i < (1ul << order); i++)
		memmap_word_store(pfn + i, buddy_word(BUDDY_ORDER_TAIL, 0, 0));
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

unsigned long nr_free_pages(void)
{
	unsigned long n;

	fl_lock(&zone.lock);
	n = zone.nr_free;
	fl_unlock(&zone.lock);
	return n;
}

void buddy_free_counts(unsigned long counts[NR_PAGE_ORDERS])
{
	fl_lock(&zone.lock);
	memcpy(counts, zone.nr_blocks, sizeof(zone.nr_blocks));
	fl_unlock(&zone.lock);
}

int buddy_for_each_free_block(int (*fn)(unsigned long, unsigned int, void *),
			      void *ctx)
{
	unsigned long steps = 0, nr = folio_nr_pages_total;
	int ret = 0;

	fl_lock(&zone.lock);
	for (unsigned int k = 0; k <= MAX_PAGE_ORDER && !ret; k++) {
		for (unsigned long p = zone.head[k]; p != BUDDY_PFN_NIL && !ret;
		     p = buddy_next(zload(p))) {
			/* a corrupt list must not hang or crash the checker */
			if (p >= nr || ++steps > nr ||
			    memdesc_type(zload(p)) != MEMDESC_BUDDY ||
			    buddy_order_of(zload(p)) != k) {
				ret = -EFAULT;
				break;
			}
			ret = fn(p, k, ctx);
		}
	}
	fl_unlock(&zone.lock);
	return ret;
}

/* The last world's memmap, for a next world of the same size (world.c). */
static _Atomic memdesc_t *spare_memmap;
static unsigned long spare_nr, memmap_alloc_nr;

int buddy_init(unsigned long nr_pages)
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
	return 0;
}

unsigned long virt_to_pfn(const void *addr)
{
	return (unsigned long)((const char *)addr -
			       (const char *)folio_world.membase) >>
	       PAGE_SHIFT;
}
