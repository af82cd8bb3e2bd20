/* SPDX-License-Identifier: MIT */
/*
 * folio/atomic.h - the one thin layer every access to shared model state
 * goes through.
 *
 * Names carry their memory order (mimalloc style), so a reader sees the
 * ordering at the call site without looking anything up:
 *
 *   fa_load_relaxed / fa_load_acquire / fa_load_full
 *   fa_store_relaxed / fa_store_release
 *   fa_add_relaxed / fa_add_return_full / fa_sub_return_full
 *   fa_or_acquire / fa_or_relaxed / fa_and_release / fa_and_relaxed
 *   fa_xchg_full, fa_cas_full (fully ordered on success, relaxed on failure)
 *   fa_fence_full
 *
 * "full" is the kernel's "fully ordered" value-returning RMW.  In C11 we
 * spell it memory_order_seq_cst: every Dekker-style pairing in the model
 * (GUP-fast vs unmap, try_get vs freeze) is written so that the two sides
 * are seq_cst operations or a seq_cst fence and a seq_cst access, which is
 * what C11 needs (C11 29.3p4-p6) and what x86 gives for free with LOCK'd
 * instructions and plain MOV loads.
 *
 * Release builds: every wrapper is a plain C11 atomic, zero cost.
 * FOLIO_HOOKS builds: every wrapper first calls folio_step(), which a
 * harness can point at a chaos injector (random delays/yields) or a
 * deterministic scheduler that takes control at every step.
 *
 * Locks go through the same layer (fl_*), so the scheduler sees them too.
 */
#ifndef FOLIO_ATOMIC_H
#define FOLIO_ATOMIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#ifdef FOLIO_HOOKS
/*
 * Debug hook: called before every shared access and lock operation.  NULL
 * means "no harness attached".  The harness sets it before starting threads
 * (a plain store is enough: threads created afterwards see it).
 */
typedef void (*folio_step_fn)(const char *file, int line);
extern folio_step_fn folio_step_hook;
static inline void folio_step_at(const char *file, int line)
{
	if (folio_step_hook)
		folio_step_hook(file, line);
}
/* An expression, so FA_STEP can sequence it before the access. */
#define folio_step() folio_step_at(__FILE__, __LINE__)
#else
#define folio_step() ((void)0)
#endif

#define FA_STEP(expr) (folio_step(), (expr))

#define fa_load_relaxed(p) FA_STEP(atomic_load_explicit((p), memory_order_relaxed))
#define fa_load_acquire(p) FA_STEP(atomic_load_explicit((p), memory_order_acquire))
#define fa_load_full(p) FA_STEP(atomic_load_explicit((p), memory_order_seq_cst))

#define fa_store_relaxed(p, v) \
	FA_STEP(atomic_store_explicit((p), (v), memory_order_relaxed))
#define fa_store_release(p, v) \
	FA_STEP(atomic_store_explicit((p), (v), memory_order_release))
#define fa_store_full(p, v) \
	FA_STEP(atomic_store_explicit((p), (v), memory_order_seq_cst))

/* Void RMWs are unordered in the kernel (atomic_add/atomic_inc). */
#define fa_add_relaxed(p, v) \
	((void)FA_STEP(atomic_fetch_add_explicit((p), (v), memory_order_relaxed)))
#define fa_sub_relaxed(p, v) \
	((void)FA_STEP(atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)))

/* Value-returning RMWs: fully ordered, return the NEW value. */
#define fa_add_return_full(p, v) \
	(FA_STEP(atomic_fetch_add_explicit((p), (v), memory_order_seq_cst)) + (v))
#define fa_sub_return_full(p, v) \
	(FA_STEP(atomic_fetch_sub_explicit((p), (v), memory_order_seq_cst)) - (v))
/* Relaxed value-returning forms (kernel *_return_relaxed). */
#define fa_add_return_relaxed(p, v) \
	(FA_STEP(atomic_fetch_add_explicit((p), (v), memory_order_relaxed)) + (v))
#define fa_sub_return_relaxed(p, v) \
	(FA_STEP(atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)) - (v))

/* Bit RMWs return the OLD value. */
#define fa_or_acquire(p, v) \
	FA_STEP(atomic_fetch_or_explicit((p), (v), memory_order_acquire))
#define fa_or_relaxed(p, v) \
	FA_STEP(atomic_fetch_or_explicit((p), (v), memory_order_relaxed))
#define fa_or_full(p, v) \
	FA_STEP(atomic_fetch_or_explicit((p), (v), memory_order_seq_cst))
#define fa_and_relaxed(p, v) \
	FA_STEP(atomic_fetch_and_explicit((p), (v), memory_order_relaxed))
#define fa_and_release(p, v) \
	FA_STEP(atomic_fetch_and_explicit((p), (v), memory_order_release))

#define fa_xchg_full(p, v) \
	FA_STEP(atomic_exchange_explicit((p), (v), memory_order_seq_cst))
#define fa_xchg_relaxed(p, v) \
	FA_STEP(atomic_exchange_explicit((p), (v), memory_order_relaxed))

/*
 * Compare-and-swap, fully ordered on success, unordered on failure (the
 * kernel's atomic_try_cmpxchg).  On failure *expected is updated with the
 * value seen, so a retry loop does not reload.
 */
#define fa_cas_full(p, expected, desired)                                  \
	FA_STEP(atomic_compare_exchange_weak_explicit(                     \
		(p), (expected), (desired), memory_order_seq_cst,          \
		memory_order_relaxed))
#define fa_cas_strong_full(p, expected, desired)                           \
	FA_STEP(atomic_compare_exchange_strong_explicit(                   \
		(p), (expected), (desired), memory_order_seq_cst,          \
		memory_order_relaxed))

/* smp_mb(): a seq_cst fence. */
#define fa_fence_full() FA_STEP(atomic_thread_fence(memory_order_seq_cst))

/*
 * Locks.  A plain pthread mutex today; the wrapper exists so that the
 * deterministic scheduler can model lock handoff without touching callers.
 */
struct fl_lock {
	pthread_mutex_t m;
};
#define FL_LOCK_INIT { PTHREAD_MUTEX_INITIALIZER }

static inline void fl_init(struct fl_lock *l)
{
	pthread_mutex_init(&l->m, NULL);
}
static inline void fl_destroy(struct fl_lock *l)
{
	pthread_mutex_destroy(&l->m);
}
static inline void fl_lock(struct fl_lock *l)
{
	folio_step();
	pthread_mutex_lock(&l->m);
}
static inline bool fl_trylock(struct fl_lock *l)
{
	folio_step();
	return pthread_mutex_trylock(&l->m) == 0;
}
static inline void fl_unlock(struct fl_lock *l)
{
	folio_step();
	pthread_mutex_unlock(&l->m);
}

/* Condition variable paired with an fl_lock (used by the folio wait table). */
struct fl_cond {
	pthread_cond_t c;
};
static inline void fl_cond_init(struct fl_cond *c)
{
	pthread_cond_init(&c->c, NULL);
}
static inline void fl_cond_destroy(struct fl_cond *c)
{
	pthread_cond_destroy(&c->c);
}
static inline void fl_cond_wait(struct fl_cond *c, struct fl_lock *l)
{
	folio_step();
	pthread_cond_wait(&c->c, &l->m);
}
static inline void fl_cond_broadcast(struct fl_cond *c)
{
	folio_step();
	pthread_cond_broadcast(&c->c);
}

#endif /* FOLIO_ATOMIC_H */
