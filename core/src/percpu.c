/* SPDX-License-Identifier: MIT */
/*
 * percpu.c - folio_this_cpu(): the one place that says which CPU's caches
 * a caller uses (folio/percpu.h).
 */
#define _GNU_SOURCE
#include <sched.h>

#include "folio/percpu.h"
#include "internal.h"

_Atomic(folio_cpu_fn) folio_cpu_hook;

/* Only grows while a world lives (reset by world init); relaxed: a walker
 * that misses a CPU that just appeared finds its caches empty anyway,
 * since whoever fills them holds their lock, which the walker takes. */
static atomic_uint nr_cpu_ids;

unsigned int folio_this_cpu(void)
{
	folio_cpu_fn fn = atomic_load_explicit(&folio_cpu_hook,
					       memory_order_relaxed);
	unsigned int cpu, seen;

	if (fn) {
		cpu = fn();
	} else {
		int os = sched_getcpu();

		cpu = os < 0 ? 0u : (unsigned int)os;
	}
	cpu %= FOLIO_NR_CPUS;
	seen = atomic_load_explicit(&nr_cpu_ids, memory_order_relaxed);
	while (cpu >= seen &&
	       !atomic_compare_exchange_weak_explicit(&nr_cpu_ids, &seen,
						      cpu + 1,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
	return cpu;
}

unsigned int folio_nr_cpu_ids(void)
{
	return atomic_load_explicit(&nr_cpu_ids, memory_order_relaxed);
}

void percpu_reset(void)
{
	atomic_store_explicit(&nr_cpu_ids, 0, memory_order_relaxed);
}
