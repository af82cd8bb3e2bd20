/* SPDX-License-Identifier: MIT */
/*
 * folio/percpu.h - "this CPU" for the per-CPU caches in front of the page
 * allocator (page_alloc.c) and the descriptor caches (slab.c).
 *
 * The kernel reaches its per-CPU page lists and slab sheaves with
 * preemption off, so a CPU's cache has one user at a time.  Userspace
 * threads cannot turn preemption off: a thread may read its CPU, migrate,
 * and use the old CPU's cache while another thread now runs there.  So
 * every per-CPU cache has a lock, taken by its users and by whoever drains
 * it from outside (the kernel's pcp->lock, taken with a trylock for the
 * same reason: remote drains).  Nearly always uncontended: two threads
 * contend only when the OS ran them on one CPU within the same few
 * instructions.
 *
 * The CPU comes from one function, never from thread-local storage or a
 * thread id, so a harness can choose it: the deterministic scheduler maps
 * each logical thread to a CPU of its own, and race tests put a writer on
 * the reader's CPU to force same-CPU reuse.
 */
#ifndef FOLIO_PERCPU_H
#define FOLIO_PERCPU_H

#include <stdatomic.h>

/* Per-CPU caches a world has; a higher CPU number shares one (modulo). */
#define FOLIO_NR_CPUS 64

/*
 * Debug hook: when set, its result (modulo FOLIO_NR_CPUS) is this CPU;
 * otherwise the OS's (sched_getcpu).  Set it only while no other thread
 * uses the model, or to a function that is safe to call from all of them.
 */
typedef unsigned int (*folio_cpu_fn)(void);
extern _Atomic(folio_cpu_fn) folio_cpu_hook;

/* The CPU whose caches the caller uses now; it may be stale at once. */
unsigned int folio_this_cpu(void);
/* One more than the highest CPU folio_this_cpu() returned in this world:
 * the caches a drain or a walk must visit. */
unsigned int folio_nr_cpu_ids(void);

#endif /* FOLIO_PERCPU_H */
