/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c - see interrupt.h.  The handler only reads the monotonic
 * clock and uses lock-free atomics, both async-signal-safe.  Atomics, not
 * volatile sig_atomic_t: the kernel may run the handler in any thread of
 * the process (a worker), and the main thread reads the flag; a volatile
 * is a data race between threads (TSan reported it, and its symbolizer,
 * in our process group, then died of timeout(1)'s second SIGINT).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"

static atomic_int got_signal;
static atomic_long first_s;	/* when the first one came */

_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2,
	       "a signal handler may only use lock-free atomics");

static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void on_signal(int sig)
{
	int expect = 0;

	if (atomic_load(&got_signal) && mono_s() - atomic_load(&first_s) >= 1) {
		static const char msg[] = "\ninterrupted again: exiting now\n";
		ssize_t rc = write(2, msg, sizeof(msg) - 1);

		(void)rc;
		_exit(128 + sig);
	}
	/* first_s before got_signal: a reader that sees the flag sees the time */
	if (!atomic_load(&got_signal)) {
		atomic_store(&first_s, mono_s());
		atomic_compare_exchange_strong(&got_signal, &expect, sig);
	}
}

void ft_interrupt_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int ft_interrupted(void)
{
	return atomic_load_explicit(&got_signal, memory_order_relaxed);
}

void ft_interrupt_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

void ft_interrupt_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}
