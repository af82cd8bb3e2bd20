/* SPDX-License-Identifier: MIT */
/*
 * folio/window.h - race-window counters, in the spirit of SQLite's
 * testcase(): each counts the times the mechanism that closes one race of
 * docs/design.md section 7 actually fired, that is, the other side acted
 * inside the window.  Every build counts them:
 *   - the scheduled build (fuzz_sched): one array, reset per run;
 *     folio-replay --windows prints them and the seeds of
 *     corpora/fuzz_sched_text must hit the window each is named for (ctest
 *     fuzz.sched.windows);
 *   - real threads (foliotorture, the unit tests): a row of relaxed atomic
 *     counters per CPU, summed by folio_window_read().  A window is an
 *     event the protocol meets, not a step of it (thousands a second at
 *     most, against millions of operations): one uncontended add on the
 *     CPU's own line is nothing a run can measure (folio_bench --only
 *     window).
 *
 * R10 (anon mapping cleared) and R11 (MM_ID large mapcounts) have no
 * window in the model: the anon mapping is never cleared while the folio
 * lives, no MM_IDs.
 */
#ifndef FOLIO_WINDOW_H
#define FOLIO_WINDOW_H

enum folio_window {
	FW_R1,	/* a freeze failed: a speculative reference came first */
	FW_R2,	/* GUP-fast's recheck failed after its grab: split or reuse */
	FW_R3,	/* lazyfree reclaim saw GUP's reference after clearing */
	FW_R4,	/* collapse saw a reference GUP-fast took after isolation */
	FW_R5,	/* a lookup's reload (slot, memmap word) saw another folio */
	FW_R6,	/* the deferred scanner met a folio on its way to free */
	FW_R7,	/* the deferred scanner met a folio frozen under its lock */
	FW_R8,	/* a partial-unmap enqueue kept alive by the unmapper only */
	FW_R9,	/* reclaim found the folio dirtied behind its back */
	FW_R12,	/* a folio-lock waiter's last trylock won after PG_waiters */
	FW_R13,	/* MADV_FREE's split failed: a pin or reference came after the
		 * page table was unlocked (the folio is left whole) */
	FW_R14,	/* GUP-fast FOLL_PIN gave its pins back: a fork
		 * write-protected the mm during the walk */
	FW_R15,	/* a write-protect merge saw a reference that came between
		 * its look at the count and its clear of the entry (a
		 * GUP-fast grab, a CPU access): it put the entry back */
	FW_NR,
};

#define FOLIO_WINDOW_NAMES                                                 \
	{ "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R12", "R13", "R14", \
	  "R15" }

#ifdef FOLIO_SCHED
extern unsigned long folio_window_hits[FW_NR];
/*
 * Relaxed atomic, not a step: the logical threads are TSan fibers, and a
 * plain ++ from two of them is a report on the harness's own counter.
 */
#define folio_window(w)                                                    \
	((void)__atomic_fetch_add(&folio_window_hits[w], 1, __ATOMIC_RELAXED))
#else
#include <stdatomic.h>

#include "folio/percpu.h"

/* One CPU's counters, a cache line of their own (FW_NR * 8 < 128). */
struct folio_window_row {
	atomic_ulong hits[FW_NR];
} __attribute__((aligned(128)));
extern struct folio_window_row folio_window_rows[FOLIO_NR_CPUS];
/*
 * The CPU may change between folio_this_cpu() and the add: the add is
 * atomic, so the count lands on another CPU's row and the sum is exact.
 */
#define folio_window(w)                                                    \
	((void)atomic_fetch_add_explicit(                                  \
		&folio_window_rows[folio_this_cpu()].hits[w], 1,           \
		memory_order_relaxed))
#endif

/* The hits so far (every CPU's, summed), into @out[FW_NR]. */
void folio_window_read(unsigned long *out);
/* Start counting from zero (no thread may be inside the model). */
void folio_window_reset(void);
/* "R1" .. "R15"; NULL past FW_NR. */
const char *folio_window_name(unsigned int w);
/* The window named @name ("R3", "r3"), or -1. */
int folio_window_parse(const char *name);

#endif /* FOLIO_WINDOW_H */
