/* SPDX-License-Identifier: MIT */
/*
 * planted_race.c - deliberate data races that ThreadSanitizer must still
 * report with the suppressions of sanitizers/options.c and the RCU
 * annotations of folio/rcu.h in place.  ctest "tsan.planted_race" (scenario "reader") and
 * "tsan.planted_race_callback" (scenario "callback"), tsan preset only,
 * pass only if TSan's report is about planted_victim.
 *
 * Scenario "reader" (the default):
 *
 *   reader (thread A)                    updater (thread B)
 *   rcu_read_lock_model()
 *   r = planted_victim      (1) read
 *   say "inside", sleep 50 ms            wait for "inside"
 *                                        synchronize_rcu_model()  -- waits for A
 *   rcu_read_unlock_model()
 *   planted_victim = 3      (2) write    planted_victim = 2       (3) write
 *
 * (1) vs (3) is NOT a race: the grace period orders A's read-side critical
 * section before B's return from synchronize_rcu, and the annotations tell
 * TSan exactly that (release at unlock, acquire after the grace period).
 * (2) vs (3) IS a race: a grace period says nothing about what a reader
 * does after rcu_read_unlock.  TSan reports it whichever of (2) and (3)
 * comes first in real time: it needs a missing happens-before edge, not an
 * overlap.
 *
 * Scenario "callback": main queues a callback with call_rcu_model() and
 * then writes planted_victim, which the callback also writes: the classic
 * "touched it after handing it to call_rcu" bug.  The callback runs on
 * liburcu's call_rcu worker thread, whose stacks and creation stack carry
 * liburcu-memb.so frames, so any library-wide suppression ("race:liburcu")
 * would hide this report; the test fails if someone adds one.
 *
 * The hand-offs are relaxed atomics: they order nothing for TSan (a relaxed
 * flag between two plain writes is reported), so the only happens-before
 * edges between the threads are the RCU ones.  Between the two racing
 * writes neither thread takes a lock, creates or joins a thread, or does
 * anything else TSan could see as synchronisation: threads unregister from
 * RCU (which takes liburcu's registry mutex) only after both writes.
 */
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "folio/rcu.h"

int planted_victim = 1;

static atomic_int reader_inside;	/* A: "I am in my read-side section" */
static atomic_int updater_done;		/* B: "I have written (3)" */
static atomic_int callback_done;	/* the callback has written */
static struct folio_rcu_head planted_head;

static void relaxed_wait(atomic_int *flag)
{
	const struct timespec tick = { 0, 1000000 };	/* 1 ms */

	while (!atomic_load_explicit(flag, memory_order_relaxed))
		nanosleep(&tick, NULL);
}

static void *reader(void *arg)
{
	const struct timespec hold = { 0, 50000000 };	/* 50 ms */
	int r;

	(void)arg;
	folio_thread_online();
	rcu_read_lock_model();
	r = planted_victim;				/* (1) */
	atomic_store_explicit(&reader_inside, 1, memory_order_relaxed);
	nanosleep(&hold, NULL);	/* B is now blocked in synchronize_rcu */
	rcu_read_unlock_model();
	planted_victim = r + 2;				/* (2) RACE with (3) */
	relaxed_wait(&updater_done);
	folio_thread_offline();
	return NULL;
}

static void *updater(void *arg)
{
	(void)arg;
	folio_thread_online();
	relaxed_wait(&reader_inside);
	synchronize_rcu_model();
	planted_victim = 2;				/* (3) */
	atomic_store_explicit(&updater_done, 1, memory_order_relaxed);
	folio_thread_offline();
	return NULL;
}

static void planted_callback(struct folio_rcu_head *h)
{
	(void)h;
	planted_victim = 7;				/* races with main's */
	atomic_store_explicit(&callback_done, 1, memory_order_relaxed);
}

static void callback_scenario(void)
{
	folio_thread_online();
	call_rcu_model(&planted_head, planted_callback);
	planted_victim = 5;		/* after call_rcu: RACE with the callback */
	relaxed_wait(&callback_done);
	folio_thread_offline();
}

static int reader_scenario(void)
{
	pthread_t a, b;

	if (pthread_create(&a, NULL, reader, NULL) ||
	    pthread_create(&b, NULL, updater, NULL)) {
		perror("pthread_create");
		return 2;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "reader";

	if (!strcmp(which, "reader")) {
		if (reader_scenario())
			return 2;
	} else if (!strcmp(which, "callback")) {
		callback_scenario();
	} else {
		fprintf(stderr, "usage: %s [reader|callback]\n", argv[0]);
		return 2;
	}
	/* Reached only if TSan stayed silent (or is not compiled in). */
	printf("planted_race %s: finished without a report, planted_victim=%d\n",
	       which, planted_victim);
	return 1;
}
