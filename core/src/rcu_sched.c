/* SPDX-License-Identifier: MIT */
/*
 * rcu_sched.c - the model's RCU in the scheduled build (FOLIO_SCHED), in
 * place of rcu.c's liburcu wrappers.  The scheduler decides when a grace
 * period is over (folio/sched.h); this file keeps the callbacks.
 *
 *   call_rcu_model      queue the callback with the grace period starting
 *                       now, FIFO; the scheduler's RCU thread runs the
 *                       oldest once its grace period is over, as a logical
 *                       thread of its own, so the schedule decides where
 *                       a callback lands among the other threads' steps
 *   synchronize_rcu     block until a grace period starting now is over
 *   rcu_barrier         block until every callback queued before it ran
 * Outside a run (setup, the checker, teardown: no logical thread runs, so
 * no reader exists) a grace period is over at once: synchronize returns
 * and a barrier runs what is queued, as the single-threaded mode of rcu.c
 * does.
 *
 * Only one logical thread runs at a time and switches happen only at
 * steps, so the queue below (touched between steps only) needs no lock.
 * The queue is the scheduler's state more than the core's: the scheduler
 * reads it at every step, from whichever logical thread runs.  So its
 * accesses are not ThreadSanitizer's business (NO_TSAN below): TSan sees
 * the logical threads as fibers switched without synchronisation, and a
 * token acquired and released at every step would order every thread
 * after every other and hide the races fuzz_sched's tsan build is for.
 * The callbacks themselves run instrumented.
 */
#include <stddef.h>

#include "folio/rcu.h"
#include "folio/sched.h"

static struct folio_rcu_head *cb_head, **cb_tail = &cb_head;
static unsigned long cb_queued, cb_done;

#define NO_TSAN __attribute__((no_sanitize("thread")))

/*
 * liburcu's callback queue orders call_rcu's caller before the callback
 * (the hand-off through its wait-free queue is release/acquire).  The
 * queue above is invisible to TSan, so that edge is told explicitly, per
 * callback head; without it, the callback's first read of the head races
 * with call_rcu's writes in TSan's eyes.
 */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define cb_handoff_release(h) __tsan_release(h)
#define cb_handoff_acquire(h) __tsan_acquire(h)
#else
#define cb_handoff_release(h) ((void)(h))
#define cb_handoff_acquire(h) ((void)(h))
#endif

void folio_thread_online(void)
{
}

void folio_thread_offline(void)
{
}

void folio_rcu_set_single_threaded(bool on)
{
	(void)on;
	rcu_barrier_model();
}

NO_TSAN bool folio_rcu_sched_ready(void)
{
	return cb_head && folio_sched_gp_done(cb_head->gp);
}

static NO_TSAN struct folio_rcu_head *queue_pop(void)
{
	struct folio_rcu_head *h = cb_head;

	cb_head = h->next;
	if (!cb_head)
		cb_tail = &cb_head;
	return h;
}

static NO_TSAN void queue_push(struct folio_rcu_head *h)
{
	*cb_tail = h;
	cb_tail = &h->next;
	cb_queued++;
}

static NO_TSAN void queue_ran(void)
{
	cb_done++;
}

static NO_TSAN bool queue_empty(void)
{
	return !cb_head;
}

void folio_rcu_sched_run_one(void)
{
	struct folio_rcu_head *h = queue_pop();

	cb_handoff_acquire(h);
	h->func(h);
	queue_ran();
}

NO_TSAN unsigned long folio_rcu_sched_queued(void)
{
	return cb_queued;
}

NO_TSAN unsigned long folio_rcu_sched_done(void)
{
	return cb_done;
}

void call_rcu_model(struct folio_rcu_head *h,
		    void (*func)(struct folio_rcu_head *))
{
	FS_SITE_(FS_CALL_RCU, 0);

	folio_sched_before(&__fs, h);
	h->func = func;
	h->next = NULL;
	h->gp = folio_sched_gp_start();
	cb_handoff_release(h);
	queue_push(h);
	folio_sched_rcu_kick();
}

void synchronize_rcu_model(void)
{
	FS_SITE_(FS_SYNC_RCU, 0);

	if (!folio_sched_on)
		return;		/* no logical thread runs: no reader */
	folio_sched_gp_wait(&__fs, folio_sched_gp_start());
}

void rcu_barrier_model(void)
{
	FS_SITE_(FS_RCU_BARRIER, 0);

	if (!folio_sched_on) {
		while (!queue_empty())
			folio_rcu_sched_run_one();
		return;
	}
	folio_sched_rcu_barrier_wait(&__fs, folio_rcu_sched_queued());
}
