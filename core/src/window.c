/* SPDX-License-Identifier: MIT */
/*
 * window.c - the race-window counters' storage and sums (folio/window.h).
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "folio/window.h"

static const char *const names[FW_NR] = FOLIO_WINDOW_NAMES;

#ifdef FOLIO_SCHED
unsigned long folio_window_hits[FW_NR];

void folio_window_read(unsigned long *out)
{
	for (unsigned int w = 0; w < FW_NR; w++)
		out[w] = __atomic_load_n(&folio_window_hits[w], __ATOMIC_RELAXED);
}

void folio_window_reset(void)
{
	for (unsigned int w = 0; w < FW_NR; w++)
		__atomic_store_n(&folio_window_hits[w], 0, __ATOMIC_RELAXED);
}
#else
struct folio_window_row folio_window_rows[FOLIO_NR_CPUS];

/* A snapshot while threads count: each counter is read once, relaxed; a
 * hit that lands meanwhile is in this sum or the next. */
void folio_window_read(unsigned long *out)
{
	for (unsigned int w = 0; w < FW_NR; w++)
		out[w] = 0;
	for (unsigned int c = 0; c < FOLIO_NR_CPUS; c++)
		for (unsigned int w = 0; w < FW_NR; w++)
			out[w] += atomic_load_explicit(&folio_window_rows[c].hits[w],
						       memory_order_relaxed);
}

void folio_window_reset(void)
{
	for (unsigned int c = 0; c < FOLIO_NR_CPUS; c++)
		for (unsigned int w = 0; w < FW_NR; w++)
			atomic_store_explicit(&folio_window_rows[c].hits[w], 0,
					      memory_order_relaxed);
}
#endif

const char *folio_window_name(unsigned int w)
{
	return w < FW_NR ? names[w] : NULL;
}

int folio_window_parse(const char *name)
{
	for (unsigned int w = 0; w < FW_NR; w++)
		if (!strcasecmp(name, names[w]))
			return (int)w;
	return -1;
}
