/* SPDX-License-Identifier: MIT */
/*
 * chaos.c - --chaos LEVEL: random yields and short sleeps injected at the
 * core's wrapper layer (folio_step_hook, FOLIO_HOOKS builds), so windows
 * between two steps of a lock-free protocol open wider and more often.
 *
 *   level 1: a yield every ~4096 steps
 *   level 2: a yield every ~512 steps, a 1 us sleep every ~16384
 *   level 3: a yield every ~64 steps, a 10 us sleep every ~4096
 */
#include <sched.h>
#include <time.h>

#include "folio/atomic.h"
#include "torture.h"

static unsigned int chaos_level;
static _Thread_local uint64_t chaos_rng;

static void chaos_step(const char *file, int line)
{
	static const unsigned int yield_mask[4] = { 0, 4095, 511, 63 };
	static const unsigned int sleep_mask[4] = { 0, 0, 16383, 4095 };
	static const long sleep_ns[4] = { 0, 0, 1000, 10000 };
	uint64_t r;

	(void)file;
	(void)line;
	if (!chaos_rng)
		return;		/* a thread foliotorture did not start */
	r = ft_rand(&chaos_rng);
	if (sleep_mask[chaos_level] && !((r >> 20) & sleep_mask[chaos_level])) {
		struct timespec ts = { 0, sleep_ns[chaos_level] };

		nanosleep(&ts, NULL);
	} else if (!(r & yield_mask[chaos_level])) {
		sched_yield();
	}
}

void ft_chaos_start(unsigned int level, uint64_t seed)
{
	(void)seed;
	chaos_level = level > 3 ? 3 : level;
#ifdef FOLIO_HOOKS
	folio_step_hook = chaos_level ? chaos_step : NULL;
#else
	(void)chaos_step;
#endif
}

void ft_chaos_thread(uint64_t seed)
{
	chaos_rng = ft_splitmix(seed) | 1;
}
