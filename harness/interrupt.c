/* SPDX-License-Identifier: MIT */
/*
 * interrupt.c - see interrupt.h.  The handler only reads the monotonic
 * clock and writes sig_atomic_t flags, both async-signal-safe.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t first_s;	/* when the first one came */

static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void on_signal(int sig)
{
	if (got_signal && mono_s() - first_s >= 1) {
		static const char msg[] = "\ninterrupted again: exiting now\n";
		ssize_t rc = write(2, msg, sizeof(msg) - 1);

		(void)rc;
		_exit(128 + sig);
	}
	if (!got_signal) {
		first_s = (sig_atomic_t)mono_s();
		got_signal = sig;
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
	return got_signal;
}
