/* SPDX-License-Identifier: MIT */
/*
 * rcu.c - the model's RCU wrappers over liburcu (urcu-memb), with the
 * ThreadSanitizer annotations explained in folio/rcu.h.
 */
#include "folio/rcu.h"

#ifdef FOLIO_TSAN
char folio_rcu_tsan_token;
#endif

void folio_thread_online(void)
{
	urcu_memb_register_thread();
}

void folio_thread_offline(void)
{
	urcu_memb_unregister_thread();
}

/*
 * Single-threaded mode (folio_rcu_set_single_threaded): callbacks wait on
 * a private FIFO instead of liburcu's queue and run at the next barrier.
 * Correct only while one thread uses the world and calls barriers outside
 * read-side sections: then no reader can hold what a callback frees, and
 * a callback still runs strictly later than call_rcu, as with real RCU.
 * The op VM uses it; each liburcu barrier costs a thread hand-off.
 */
static bool rcu_single;
static struct folio_rcu_head *single_head, **single_tail = &single_head;

void folio_rcu_set_single_threaded(bool on)
{
	rcu_barrier_model();	/* nothing queued in the old mode survives */
	rcu_single = on;
}

static void single_run_callbacks(void)
{
	while (single_head) {
		struct folio_rcu_head *h = single_head;

		single_head = h->next;
		if (!single_head)
			single_tail = &single_head;
		h->func(h);
	}
}

void synchronize_rcu_model(void)
{
	folio_step();
	if (rcu_single)
		return;		/* no other reader exists */
	urcu_memb_synchronize_rcu();
	/* Every reader that ended before the grace period happens-before us. */
	folio_rcu_tsan_acquire();
}

static void rcu_trampoline(struct rcu_head *head)
{
	struct folio_rcu_head *h = caa_container_of(head, struct folio_rcu_head,
						    head);

	/* Pairs with the readers' release at unlock, and with call_rcu's. */
	folio_rcu_tsan_acquire();
	h->func(h);
	/*
	 * What the callback did happens-before rcu_barrier() returns (its
	 * acquire).  Without this edge TSan sees the teardown that follows a
	 * barrier race with the callback's last writes.
	 */
	folio_rcu_tsan_release();
}

void call_rcu_model(struct folio_rcu_head *h,
		    void (*func)(struct folio_rcu_head *))
{
	folio_step();
	h->func = func;
	if (rcu_single) {
		h->next = NULL;
		*single_tail = h;
		single_tail = &h->next;
		return;
	}
	/* What the caller did before queueing happens-before the callback. */
	folio_rcu_tsan_release();
	urcu_memb_call_rcu(&h->head, rcu_trampoline);
}

void rcu_barrier_model(void)
{
	if (rcu_single) {
		single_run_callbacks();
		return;
	}
	urcu_memb_barrier();
	folio_rcu_tsan_acquire();
}
