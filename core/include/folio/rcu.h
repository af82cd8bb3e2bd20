/* SPDX-License-Identifier: MIT */
/*
 * folio/rcu.h - the model's RCU: liburcu's membarrier flavour (urcu-memb),
 * wrapped so that ThreadSanitizer can see its grace periods.
 *
 * Debian's liburcu 0.13 is not built with TSan, so TSan cannot see that a
 * grace period orders every earlier read-side critical section before the
 * reclaimer.  We tell it, on one token:
 *   - rcu_read_unlock:  __tsan_release(&token) just before leaving;
 *   - synchronize_rcu:  __tsan_acquire(&token) just after returning;
 *   - call_rcu:         __tsan_release(&token) before queueing, and
 *                       __tsan_acquire(&token) at the start of the callback.
 * This adds exactly the happens-before edges a grace period guarantees
 * (and a few more: every reader's exit orders before every later
 * reclaimer).  It never hides a race outside a read-side section; the
 * tsan test "tsan.planted_race" shows one still reported.
 *
 * Every thread that touches the model calls folio_thread_online() first and
 * folio_thread_offline() before it exits.
 *
 * The scheduled build (FOLIO_SCHED) has its own RCU, in the scheduler:
 * liburcu cannot run inside coroutines (its synchronize_rcu waits for the
 * very thread that would have to run the reader).  See the end of this
 * file and core/src/rcu_sched.c.
 */
#ifndef FOLIO_RCU_H
#define FOLIO_RCU_H

#ifdef FOLIO_SCHED
#include <stdbool.h>
#include <urcu/compiler.h>	/* caa_container_of only */

#include "folio/atomic.h"

#define rcu_read_lock_model()                                              \
	({                                                                 \
		FS_SITE_(FS_RCU_LOCK, 0);                                  \
		folio_sched_rcu_read_lock(&__fs);                          \
	})
#define rcu_read_unlock_model()                                            \
	({                                                                 \
		FS_SITE_(FS_RCU_UNLOCK, 0);                                \
		folio_sched_rcu_read_unlock(&__fs);                        \
	})

/* Callback head; embed it and recover the container in the callback. */
struct folio_rcu_head {
	void (*func)(struct folio_rcu_head *);
	struct folio_rcu_head *next;	/* the FIFO of queued callbacks */
	unsigned int gp;		/* the grace period it waits for */
};

#else /* the native build: liburcu */

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* inline the read-side fast paths (and let TSan see them) */
#endif
#include <stdbool.h>
#include <urcu/urcu-memb.h>

#include "folio/atomic.h"

#if defined(__SANITIZE_THREAD__)
#define FOLIO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FOLIO_TSAN 1
#endif
#endif

#ifdef FOLIO_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char folio_rcu_tsan_token;
#define folio_rcu_tsan_release() __tsan_release(&folio_rcu_tsan_token)
#define folio_rcu_tsan_acquire() __tsan_acquire(&folio_rcu_tsan_token)
#else
#define folio_rcu_tsan_release() ((void)0)
#define folio_rcu_tsan_acquire() ((void)0)
#endif

static inline void rcu_read_lock_model(void)
{
	folio_step();
	urcu_memb_read_lock();
}

static inline void rcu_read_unlock_model(void)
{
	folio_step();
	folio_rcu_tsan_release();
	urcu_memb_read_unlock();
}

/* Callback head; embed it and recover the container in the callback. */
struct folio_rcu_head {
	struct rcu_head head;
	void (*func)(struct folio_rcu_head *);
	struct folio_rcu_head *next;	/* single-threaded mode's FIFO */
};

#endif /* FOLIO_SCHED */

void folio_thread_online(void);
void folio_thread_offline(void);
void synchronize_rcu_model(void);
void call_rcu_model(struct folio_rcu_head *h, void (*func)(struct folio_rcu_head *));
void rcu_barrier_model(void);
/*
 * Single-threaded worlds (the op VM): call_rcu callbacks are queued
 * privately and run by the next rcu_barrier_model(), with no liburcu
 * thread hand-off.  Only for one thread that never calls a barrier inside
 * a read-side section.  Off by default; switching runs pending callbacks.
 */
void folio_rcu_set_single_threaded(bool on);

#endif /* FOLIO_RCU_H */
