/* SPDX-License-Identifier: MIT */
/*
 * folio/sched.h - the scheduled build of the core (FOLIO_SCHED): the hooks
 * through which every shared access, lock and RCU operation reaches a
 * deterministic scheduler, which may switch logical threads at any of them.
 *
 * Logical threads are coroutines on one OS thread (sched/), so in this
 * build:
 *   - every fa_* access first calls folio_sched_step() with its call site
 *     (file, function, line, kind, memory order) and address, then, after
 *     the access, folio_sched_seen() with the value read and/or written:
 *     the scheduler's trace, its reads-from coverage and its diagrams come
 *     from these two calls;
 *   - fl_lock/fl_trylock/fl_unlock, fl_cond_wait/broadcast and the bit-lock
 *     yield are the scheduler's: a logical thread that waits is blocked
 *     (not runnable) until what it waits for holds;
 *   - RCU is modelled by the scheduler (core/src/rcu_sched.c): a grace
 *     period ends when every logical thread that was inside a read-side
 *     section when it started has left it; call_rcu callbacks run on the
 *     scheduler's RCU thread once their grace period is over.
 * The core uses no thread-local storage and no OS thread id (true of every
 * build: the "current CPU" is the scheduler's business).
 *
 * One OS thread runs every logical thread, so the accesses are
 * sequentially consistent unless the run asks for a weak memory model
 * (sched/wmm.h: tso, pso, arm): then a store may sit in its thread's store
 * buffer, invisible to the others, until the scheduler lets it out, and
 * a load of the thread's own buffered store forwards from it
 * (folio_sched_forward, below).
 *
 * Outside a run (world setup, the checker, teardown) folio_sched_on is
 * false: every hook returns at once and a lock is taken by "main".
 *
 * Release, debug and sanitizer builds never include this file: the
 * wrappers there are plain C11 atomics (folio/atomic.h).
 */
#ifndef FOLIO_SCHED_H
#define FOLIO_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum folio_step_kind {
	FS_LOAD, FS_STORE, FS_RMW, FS_XCHG, FS_CAS, FS_FENCE,
	FS_LOCK, FS_TRYLOCK, FS_UNLOCK, FS_COND_WAIT, FS_COND_WAKE, FS_YIELD,
	FS_RCU_LOCK, FS_RCU_UNLOCK, FS_SYNC_RCU, FS_CALL_RCU, FS_RCU_BARRIER,
	FS_NR_KINDS,
};

/* What folio_sched_seen() reports. */
#define FS_READ 1u	/* @rd is the value read */
#define FS_WROTE 2u	/* @wr is the value written */

/* One per call site, static: the trace and the diagram name it. */
struct folio_site {
	const char *file;
	const char *func;
	unsigned short line;
	unsigned char kind;	/* enum folio_step_kind */
	unsigned char mo;	/* memory_order of the access */
	unsigned char flags;	/* FS_SITE_* */
	unsigned char size;	/* bytes accessed; 0: not an access */
};

/*
 * A site of the allocators' internals (a translation unit defines
 * FOLIO_SCHED_SITE_FLAGS FS_SITE_QUIET before its includes): still a
 * scheduling point, but its loads' reads-from pairs are not fed back to
 * the fuzzer: free-list bookkeeping says nothing about the protocol and
 * would drown its pairs.  Its stores still count when the protocol reads
 * them (a GUP-fast reading a memmap word the allocator wrote).
 */
#define FS_SITE_QUIET 1u
#ifndef FOLIO_SCHED_SITE_FLAGS
#define FOLIO_SCHED_SITE_FLAGS 0
#endif

/*
 * Shared model memory allocated from the heap (an mm and its PMD array, a
 * file and its slots: zalloc_lines): the plain-access steps and the race
 * detector look only at shared memory, decided by address range (the
 * world's pages, the memmap, the core's own static data, these).
 */
void folio_sched_shared_add(const void *p, unsigned long len);
/* The next load or store of @p is atomic but no step (fa_peek_relaxed). */
void folio_sched_quiet(const volatile void *p);
void folio_sched_shared_del(const void *p);

/* Set by the scheduler while logical threads run. */
extern bool folio_sched_on;
/* ... and while they run under a weak memory model. */
extern bool folio_sched_wm;
/* A load's value @v of @size bytes at @addr, or the running thread's own
 * buffered store there (weak memory only). */
uint64_t folio_sched_forward(const volatile void *addr, unsigned int size,
			     uint64_t v);

/* The scheduler's side (sched/sched.c, library folio_sched_rt). */
void folio_sched_step(const struct folio_site *site, const volatile void *addr);
void folio_sched_seen(const struct folio_site *site, const volatile void *addr,
		      uint64_t rd, uint64_t wr, unsigned int what);
struct fl_lock;
struct fl_cond;
void folio_sched_lock(const struct folio_site *site, struct fl_lock *l);
bool folio_sched_trylock(const struct folio_site *site, struct fl_lock *l);
void folio_sched_unlock(const struct folio_site *site, struct fl_lock *l);
/* fl_lock_local/fl_unlock_local: no decision while uncontended */
void folio_sched_lock_local(const struct folio_site *site, struct fl_lock *l);
void folio_sched_unlock_local(const struct folio_site *site, struct fl_lock *l);
void folio_sched_cond_wait(const struct folio_site *site, struct fl_cond *c,
			   struct fl_lock *l);
void folio_sched_cond_broadcast(const struct folio_site *site,
				struct fl_cond *c);
void folio_sched_yield(const struct folio_site *site);
void folio_sched_rcu_read_lock(const struct folio_site *site);
void folio_sched_rcu_read_unlock(const struct folio_site *site);
/* A grace period starting now: a cookie for folio_sched_gp_* below. */
unsigned int folio_sched_gp_start(void);
bool folio_sched_gp_done(unsigned int cookie);
/* Block the running logical thread until grace period @cookie is over. */
void folio_sched_gp_wait(const struct folio_site *site, unsigned int cookie);
/* Block it until @n callbacks have run (rcu_barrier). */
void folio_sched_rcu_barrier_wait(const struct folio_site *site,
				  unsigned long n);
/* A callback was queued: the RCU thread may have work. */
void folio_sched_rcu_kick(void);

/* The core's side (core/src/rcu_sched.c), for the scheduler's RCU thread. */
/* Is the oldest queued callback's grace period over? */
bool folio_rcu_sched_ready(void);
/* Run the oldest queued callback (only when ready). */
void folio_rcu_sched_run_one(void);
/* Callbacks queued and run so far (a barrier waits for run == queued). */
unsigned long folio_rcu_sched_queued(void);
unsigned long folio_rcu_sched_done(void);

/* An inline fast path: nothing to do outside a run. */
static inline void folio_sched_before(const struct folio_site *s,
				      const volatile void *addr)
{
	if (__builtin_expect(folio_sched_on, 0))
		folio_sched_step(s, addr);
}

static inline void folio_sched_after(const struct folio_site *s,
				     const volatile void *addr, uint64_t rd,
				     uint64_t wr, unsigned int what)
{
	if (__builtin_expect(folio_sched_on, 0))
		folio_sched_seen(s, addr, rd, wr, what);
}

#endif /* FOLIO_SCHED_H */
