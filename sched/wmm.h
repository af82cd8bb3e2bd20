/* SPDX-License-Identifier: MIT */
/*
 * wmm.h - weak memory for the deterministic scheduler: a store buffer per
 * logical thread, as an x86 (TSO), a SPARC PSO or an arm64 core has one,
 * with the moment each buffered store becomes visible left to the
 * scheduler's decisions (sched.c draws them from the input).
 *
 * The contract is the wrapper's name (folio/atomic.h), read as C11 reads
 * it; what it allows, the emulator may do:
 *   - fa_store_relaxed/_release and, in pso/arm, the store half of a
 *     relaxed RMW enter the buffer; the thread's own loads forward from it;
 *   - tso: the buffer drains in program order, and every RMW, fence and
 *     seq_cst store drains it first (x86's LOCK prefix, MFENCE, XCHG);
 *   - pso/arm: per address: a store may become visible before an older one
 *     to another address, unless a release store is in between (a release
 *     waits for every older store); a seq_cst RMW, store or fence drains;
 *   - a lock is an acquire and an unlock a release: the stores made before
 *     an unlock are visible to whoever takes the lock next, not sooner (a
 *     lockless reader may still miss them); in tso taking a lock drains
 *     (a LOCK'd RMW), in pso/arm it does not, so a store made before it
 *     may become visible inside the critical section ("roach motel");
 *     entering or leaving an RCU read-side section is nothing (compiler
 *     barriers), but a reader's stores before its exit are visible once a
 *     grace period that waited for it ends (synchronize_rcu, a callback);
 *     a grace period wait, a condition wait and a yield drain;
 *   - another thread's write to an address a buffer holds makes that store
 *     visible first (one coherence order per location; an RMW stays atomic).
 *   - arm: a relaxed load may also be satisfied early, before the
 *     thread's previous access when that one was relaxed (load-load and
 *     store-load reordering): it reads the value its location had at any
 *     moment since the step before that, never older than the thread's
 *     own writes.
 * What it cannot do: a plain (compiler-instrumented) store is visible at
 * once (the callback comes before the store and cannot hold it back), so
 * reordering needs one of the wrappers; a load is satisfied early by one
 * step at most (further would need the address dependencies the hardware
 * keeps), and no value is made up (no out-of-thin-air, no load
 * buffering: a load never reads a store that comes after it).
 */
#ifndef FT_SCHED_WMM_H
#define FT_SCHED_WMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folio/sched.h"

enum fs_mm { FS_MM_SC, FS_MM_TSO, FS_MM_PSO, FS_MM_ARM, FS_MM_NR };

#define WMM_THREADS 5		/* FS_NR_THREADS */
#define WMM_DEPTH 32		/* stores a buffer holds; one more flushes */
#define WMM_HIST 64		/* arm: visible writes remembered */
#define WMM_RELEASES 64		/* lock releases remembered */

struct wmm_entry {
	unsigned long id;	/* program order, across threads */
	const struct folio_site *site;
	const volatile void *addr;
	uint64_t val;
	unsigned char size;
	unsigned char tid;
	bool release;		/* waits for every older store */
	size_t ev;		/* the trace event that issued it */
	unsigned long step;	/* ... at this step */
};

/* "sc", "tso", "pso", "arm", or NULL. */
const char *wmm_name(enum fs_mm m);
/* FS_MM_NR if @s names none. */
enum fs_mm wmm_parse(const char *s);

void wmm_reset(enum fs_mm m);
bool wmm_empty(void);

/*
 * Called for every flush the emulator makes (the entry, now visible):
 * @forced when a rule, not a decision, made it (the scheduler records it
 * in the trace either way).
 */
typedef void (*wmm_flush_fn)(const struct wmm_entry *e, bool forced);
void wmm_set_flush_hook(wmm_flush_fn fn);
/* arm: a relaxed load may read one of @k earlier values; the scheduler's
 * choice, 0 (the current value) .. k. */
typedef unsigned int (*wmm_choose_fn)(unsigned int k);
void wmm_set_choose(wmm_choose_fn fn);

/*
 * Thread @tid is about to make access @s at @a (after its scheduling
 * decision): make visible what must be, and remember the old contents if
 * the write may be buffered.
 */
void wmm_before(unsigned int tid, const struct folio_site *s,
		const volatile void *a);
/*
 * ... and made it (@wr written, @rd read, @what FS_READ/FS_WROTE): returns
 * true if the write went into the buffer (memory got its old contents
 * back), with @ev/@step for the diagram.
 */
bool wmm_after(unsigned int tid, const struct folio_site *s,
	       const volatile void *a, uint64_t wr, unsigned int what,
	       size_t ev, unsigned long step);
/* A load's value, forwarded from @tid's own buffer if it holds @a. */
uint64_t wmm_load(unsigned int tid, const volatile void *a, unsigned int size,
		  uint64_t mem);
/* A plain access of [a, a+size): @tid's stores there become visible. */
void wmm_plain(unsigned int tid, const volatile void *a, unsigned int size,
	       bool store);
/* A full barrier of @tid (fence, unlock, RCU, end): its buffer drains. */
void wmm_drain(unsigned int tid);
/* @tid resumes after a wait (a lock, a grace period): arm's loads are not
 * satisfied before this point. */
void wmm_pin(unsigned int tid);
/*
 * A lock released by @tid: a release, not a drain: its stores so far
 * become visible at the latest when the lock is next taken (wmm_acquire).
 * A lock taken by @tid: the last releaser's stores become visible; in tso
 * its own buffer drains too (a LOCK'd instruction).
 */
void wmm_release(unsigned int tid, const void *lock);
void wmm_acquire(unsigned int tid, const void *lock);
/* A grace period ended for @tid (synchronize_rcu returned, a callback
 * starts): what every reader stored before its rcu_read_unlock. */
void wmm_rcu_acquire(unsigned int tid);
void wmm_drain_all(void);

/* Stores that may become visible now, in a fixed order: the scheduler's
 * choice @k (0 <= k < wmm_candidates()) flushes one. */
unsigned int wmm_candidates(void);
void wmm_flush_candidate(unsigned int k);
/* ... and candidate @k itself (NULL past the last). */
const struct wmm_entry *wmm_candidate(unsigned int k);

#endif /* FT_SCHED_WMM_H */
