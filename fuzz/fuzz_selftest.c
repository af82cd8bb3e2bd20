/* SPDX-License-Identifier: MIT */
/*
 * fuzz_selftest.c - a fuzz target that does what its input says, so the
 * tests can hold the drivers to the exit contract (standalone_main.c):
 *
 *   pass        returns 0
 *   reject      returns -1 (malformed; counted, not a failure)
 *   abort       a finding: abort(), as fuzz_run_or_abort() does
 *   sanitizer   a bug for the build's sanitizer: a heap-buffer-overflow
 *               read (ASan) or a data race (TSan); returns 0 without one
 *   hang        sleeps 30 s (a timeout, or a signal, cuts it short)
 *
 * Never fuzzed: it exists for ctest (fuzz.driver.*).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sanitizer.h"	/* FT_ASAN, FT_TSAN */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int ft_selftest_victim;		/* external: the racing writes stay */
static atomic_int turn;

static void *racer(void *arg)
{
	(void)arg;
	ft_selftest_victim = 1;
	atomic_store_explicit(&turn, 1, memory_order_relaxed);
	return NULL;
}

static int is(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word);

	return size >= n && !memcmp(data, word, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (is(data, size, "reject"))
		return -1;
	if (is(data, size, "abort"))
		abort();
	if (is(data, size, "hang"))
		sleep(30);
	if (is(data, size, "sanitizer")) {
#if defined(FT_ASAN)
		volatile char *p = malloc(4);

		if (p)
			(void)p[4];
		free((void *)p);
#elif defined(FT_TSAN)
		pthread_t t;

		if (!pthread_create(&t, NULL, racer, NULL)) {
			while (!atomic_load_explicit(&turn, memory_order_relaxed))
				;
			ft_selftest_victim = 2;
			pthread_join(t, NULL);
		}
#endif
		(void)racer;
	}
	return 0;
}
