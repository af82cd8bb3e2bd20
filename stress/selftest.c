/* SPDX-License-Identifier: MIT */
/*
 * selftest.c - --self-test=sanitizer: a bug that only the build's
 * sanitizer can see, planted while the workers run, so a test proves that
 * a sanitizer report ends the run as FAIL with exit 1 (and the JSON says
 * so), not as a PASS line followed by a report and another exit status.
 *
 *   ASan: a heap-buffer-overflow read, one byte past an 8-byte block.
 *   TSan: two threads write one plain int, with nothing between them that
 *         TSan sees as synchronisation (the hand-off is a relaxed atomic).
 *         Four times, each with a fresh writer thread, and again every
 *         50 ms until TSan reports (stress/foliotorture.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sanitizer.h"
#include "torture.h"

/* external and read back: the compiler must keep both writes */
int ft_planted_victim;
int *volatile ft_null_ptr;
int ft_planted_read(void);
static atomic_int planted_turn;

static void *planted_writer(void *arg)
{
	(void)arg;
	ft_planted_victim = 1;		/* one racing write */
	atomic_store_explicit(&planted_turn, 1, memory_order_relaxed);
	return NULL;
}

int ft_planted_read(void)
{
	return ft_planted_victim;
}

void ft_self_test_sanitizer(void)
{
#if defined(FT_ASAN)
	volatile char *p = malloc(8);

	if (p)
		(void)p[8];		/* read past the end */
	free((void *)p);
#elif defined(FT_TSAN)
	for (int attempt = 0; attempt < 4; attempt++) {
		pthread_t t;

		atomic_store_explicit(&planted_turn, 0, memory_order_relaxed);
		if (pthread_create(&t, NULL, planted_writer, NULL))
			return;
		while (!atomic_load_explicit(&planted_turn,
					     memory_order_relaxed))
			;
		ft_planted_victim = 2;	/* the other, no happens-before */
		pthread_join(t, NULL);
		(void)ft_planted_read();
	}
#endif
	(void)planted_writer;
}
