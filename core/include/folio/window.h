/* SPDX-License-Identifier: MIT */
/*
 * folio/window.h - race-window counters, in the spirit of SQLite's
 * testcase(): each counts the runs in which the mechanism that closes one
 * race of docs/design.md section 7 actually fired, that is, the other side
 * acted inside the window.  The scheduled build (fuzz_sched) keeps them;
 * folio-replay --windows prints them; the seeds of corpora/fuzz_sched_text
 * must hit the window each is named for (ctest fuzz.sched.windows).
 * Elsewhere they compile to nothing (and would race between threads).
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
	FW_NR,
};

#define FOLIO_WINDOW_NAMES                                                 \
	{ "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R12", "R13", "R14" }

#ifdef FOLIO_SCHED
extern unsigned long folio_window_hits[FW_NR];
/*
 * Relaxed atomic, not a step: the logical threads are TSan fibers, and a
 * plain ++ from two of them is a report on the harness's own counter.
 */
#define folio_window(w)                                                    \
	((void)__atomic_fetch_add(&folio_window_hits[w], 1, __ATOMIC_RELAXED))
#else
#define folio_window(w) ((void)0)
#endif

#endif /* FOLIO_WINDOW_H */
