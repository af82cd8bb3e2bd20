/* SPDX-License-Identifier: MIT */
/*
 * test_rcu.c - the RCU wrapper's single-threaded mode (the op VM's): a
 * callback never runs at call_rcu time, runs at the next barrier, in
 * call order; switching modes leaves nothing queued behind.
 */
#include "folio/rcu.h"
#include "ft_test.h"

static int ran[4], nr_ran;

struct item {
	struct folio_rcu_head rcu;
	int id;
};

static void cb(struct folio_rcu_head *h)
{
	struct item *it = caa_container_of(h, struct item, rcu);

	ran[nr_ran++ % 4] = it->id;
}

static void test_single_threaded_defers_to_barrier(void)
{
	struct item a = { .id = 1 }, b = { .id = 2 };

	nr_ran = 0;
	folio_rcu_set_single_threaded(true);
	call_rcu_model(&a.rcu, cb);
	call_rcu_model(&b.rcu, cb);
	CHECK_EQ(nr_ran, 0);		/* not at call time */
	synchronize_rcu_model();
	CHECK_EQ(nr_ran, 0);		/* a grace period alone runs nothing */
	rcu_barrier_model();
	CHECK_EQ(nr_ran, 2);
	CHECK_EQ(ran[0], 1);		/* FIFO */
	CHECK_EQ(ran[1], 2);
	rcu_barrier_model();
	CHECK_EQ(nr_ran, 2);		/* each runs once */
	folio_rcu_set_single_threaded(false);
}

static void test_switching_off_runs_pending(void)
{
	struct item a = { .id = 3 }, b = { .id = 4 };

	nr_ran = 0;
	folio_rcu_set_single_threaded(true);
	call_rcu_model(&a.rcu, cb);
	folio_rcu_set_single_threaded(false);
	CHECK_EQ(nr_ran, 1);		/* not stranded on the private queue */
	call_rcu_model(&b.rcu, cb);	/* liburcu again */
	rcu_barrier_model();
	CHECK_EQ(nr_ran, 2);
	CHECK_EQ(ran[1], 4);
}

/* The default mode: a grace period is liburcu's; callbacks run on its
 * thread, all of them done by the barrier. */
static void test_multi_threaded_grace_period(void)
{
	struct item a = { .id = 5 };

	nr_ran = 0;
	synchronize_rcu_model();	/* no reader: returns */
	call_rcu_model(&a.rcu, cb);
	synchronize_rcu_model();
	rcu_barrier_model();
	CHECK_EQ(nr_ran, 1);
	CHECK_EQ(ran[0], 5);
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_single_threaded_defers_to_barrier);
	FT_RUN(test_switching_off_runs_pending);
	FT_RUN(test_multi_threaded_grace_period);
	folio_thread_offline();
	return ft_done();
}
