/* SPDX-License-Identifier: MIT */
/*
 * race.h - the scheduler's data-race detector (internal to sched/).
 *
 * Happens-before from what the scheduler itself knows, one vector clock
 * per logical thread (FS_NR_THREADS components):
 *   - a lock: acquire joins the lock's clock into the thread's; release
 *     joins the thread's into the lock's (and ticks the thread);
 *   - an atomic access, by the memory order in its wrapper's name: an
 *     acquire (or stronger) load or RMW joins the word's sync clock; a
 *     release (or stronger) store sets it, a release RMW joins into it;
 *     relaxed ones order nothing; fences order nothing (ThreadSanitizer's
 *     model: the correct core is clean under it on real threads, so it is
 *     the contract, and a fence-only pairing would be a report there too);
 *   - RCU: an outermost rcu_read_unlock releases to a clock that the end
 *     of synchronize_rcu and every callback acquire; a callback's end
 *     releases to one that rcu_barrier acquires;
 *   - thread start: a run starts with every clock and the shadow empty
 *     (main's set-up precedes every access of the run); thread end:
 *     main's checker runs after the run, unrecorded.
 * A shadow per accessed 4-byte granule of shared memory: the last write
 * and each thread's last read (clock, thread, bytes, plain or atomic,
 * where).  Two accesses of overlapping bytes by different threads, at
 * least one a write and at least one plain, neither ordered before the
 * other: a data race.
 */
#ifndef FT_SCHED_RACE_H
#define FT_SCHED_RACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"

#define RACE_WRITE 1u
#define RACE_ATOMIC 2u

/* One access, as the shadow keeps it. */
struct race_acc {
	uint32_t clk;			/* the thread's own clock then; 0: none */
	uint8_t tid, mask, flags;	/* RACE_* */
	uintptr_t pc, caller;		/* plain: where (code addresses) */
	const struct folio_site *site;	/* atomic: its site */
	unsigned long step;		/* the run's step count then */
};

struct race_report {
	uintptr_t addr;
	struct race_acc now, then;
};

/* A new run: every clock and the shadow empty. */
void race_run_start(void);
/* Sync object @obj (a lock, an atomic word, an RCU token). */
void race_acquire(unsigned int tid, const volatile void *obj);
void race_release(unsigned int tid, const volatile void *obj);
void race_release_store(unsigned int tid, const volatile void *obj);
/*
 * An access of @size bytes at @a by @tid (@acc: everything but clk, tid
 * and mask).  Returns true and fills @r if it races with an earlier one.
 */
bool race_access(unsigned int tid, uintptr_t a, unsigned int size,
		 const struct race_acc *acc, struct race_report *r);
/* An atomic access's ordering (called after the access, @what FS_READ |
 * FS_WROTE as folio_sched_seen has it). */
void race_atomic_order(unsigned int tid, const struct folio_site *s,
		       const volatile void *a, unsigned int what);

/*
 * Shared model memory (see folio/sched.h): the world's pages (descriptors,
 * page tables), the memmap, the core's static data, and the heap objects
 * the core registered.  A thread's stack, the harness's memory and the
 * page contents (folio/page_data.h: relaxed, not steps) are not.
 */
#define RACE_MAX_HEAP 64
struct race_ranges {
	uintptr_t world_lo, world_len, memmap_lo, memmap_len;
	uintptr_t bss_lo, bss_len, data_lo, data_len;
	uintptr_t heap_lo, heap_hi;
	unsigned int nheap;
	struct { uintptr_t lo, len; } heap[RACE_MAX_HEAP];
};
extern struct race_ranges race_rg;
bool race_shared_heap(uintptr_t a);

static inline bool race_shared(uintptr_t a)
{
	return a - race_rg.world_lo < race_rg.world_len ||
	       a - race_rg.memmap_lo < race_rg.memmap_len ||
	       a - race_rg.bss_lo < race_rg.bss_len ||
	       a - race_rg.data_lo < race_rg.data_len ||
	       (a >= race_rg.heap_lo && a < race_rg.heap_hi &&
		race_shared_heap(a));
}

/* "func file:line" of code address @pc (the sanitizer's symbolizer when
 * linked, else the nearest symbol). */
void race_symbolize(uintptr_t pc, char *buf, size_t n);
/* The name of the global at @a ("deferred_split_queue+8"), if the
 * sanitizer's symbolizer is linked; else @buf is left alone. */
void race_name_global(uintptr_t a, char *buf, size_t n);

#endif /* FT_SCHED_RACE_H */
