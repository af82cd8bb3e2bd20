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
 * harness points at a chaos injector (random delays/yields).
 * FOLIO_SCHED builds: every wrapper reports its call site, address and
 * the value it read or wrote to the deterministic scheduler, which may
 * switch logical threads there (folio/sched.h).
 *
 * Locks go through the same layer (fl_*), so the scheduler owns them too.
 */
#ifndef FOLIO_ATOMIC_H
#define FOLIO_ATOMIC_H

#include <pthread.h>
#include <sched.h>
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

#ifndef FOLIO_SCHED

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
 * A relaxed load that is no step of any protocol (a field of a folio the
 * caller owns, a hint for a counter, a file's version for a page's
 * contents): never a scheduling point, and in the scheduled build not
 * taken for a plain access by the race detector (it is atomic).
 */
#define fa_peek_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)

#else /* FOLIO_SCHED: the same wrappers, each a step of the scheduler */
#include <stdint.h>

#include "folio/sched.h"

/* The call site, once per expansion (a static in its own block). */
#define FS_SITE_SZ_(k, m, sz)                                              \
	static const struct folio_site __fs = { __FILE__, __func__,        \
						__LINE__, (k), (m),        \
						FOLIO_SCHED_SITE_FLAGS,    \
						(unsigned char)(sz) }
#define FS_SITE_(k, m) FS_SITE_SZ_(k, m, 0)
#define FS_U64(x) ((uint64_t)(uintptr_t)(x))

#define FA_SCHED_LOAD(p, m)                                                \
	({                                                                 \
		FS_SITE_SZ_(FS_LOAD, m, sizeof(*(p)));                     \
		__auto_type __pl = (p);                                    \
		folio_sched_before(&__fs, __pl);                           \
		__auto_type __v = atomic_load_explicit(__pl, (m));         \
		if (__builtin_expect(folio_sched_wm, 0))                   \
			__v = (__typeof__(__v))(uintptr_t)folio_sched_forward( \
				__pl, sizeof(*(p)), FS_U64(__v));          \
		folio_sched_after(&__fs, __pl, FS_U64(__v), 0, FS_READ);   \
		__v;                                                       \
	})
/*
 * Operands are evaluated before the step, never between the step and the
 * access: in fa_store(p, fa_load(q) + 1) the load's step must come first,
 * or the load and the store would run back to back with no switch between
 * them and the lost-update race between the two would be hidden.
 */
#define FA_SCHED_STORE(p, v, m)                                            \
	({                                                                 \
		FS_SITE_SZ_(FS_STORE, m, sizeof(*(p)));                    \
		__auto_type __w = (v);                                     \
		__auto_type __ps = (p);                                    \
		folio_sched_before(&__fs, __ps);                           \
		atomic_store_explicit(__ps, __w, (m));                     \
		folio_sched_after(&__fs, __ps, 0, FS_U64(__w), FS_WROTE);  \
		(void)0;                                                   \
	})
/* fetch_OP: NEW is the value left behind; RES (__old or NEW) is returned. */
#define FA_SCHED_RMW_(kind, fn, p, v, m, NEW, RES)                         \
	({                                                                 \
		FS_SITE_SZ_(kind, m, sizeof(*(p)));                        \
		__auto_type __a = (v);                                     \
		__auto_type __pr = (p);                                    \
		folio_sched_before(&__fs, __pr);                           \
		__auto_type __old = fn(__pr, __a, (m));                    \
		folio_sched_after(&__fs, __pr, FS_U64(__old), FS_U64(NEW), \
				  FS_READ | FS_WROTE);                     \
		RES;                                                       \
	})
#define FA_SCHED_RMW(kind, fn, p, v, m, NEW)                               \
	FA_SCHED_RMW_(kind, fn, p, v, m, NEW, __old)
#define FA_SCHED_RMW_NEW(kind, fn, p, v, m, NEW)                           \
	FA_SCHED_RMW_(kind, fn, p, v, m, NEW, NEW)
#define FA_SCHED_CAS(fn, p, e, d)                                          \
	({                                                                 \
		FS_SITE_SZ_(FS_CAS, memory_order_seq_cst, sizeof(*(p)));   \
		__auto_type __e = (e);                                     \
		__auto_type __d = (d);                                     \
		__auto_type __pc = (p);                                    \
		folio_sched_before(&__fs, __pc);                           \
		__typeof__(*__e) __want = *__e;                            \
		bool __ok = fn(__pc, __e, __d, memory_order_seq_cst,       \
			       memory_order_relaxed);                      \
		folio_sched_after(&__fs, __pc, FS_U64(__ok ? __want : *__e),\
				  FS_U64(__d),                             \
				  __ok ? FS_READ | FS_WROTE : FS_READ);    \
		__ok;                                                      \
	})

#define fa_peek_relaxed(p)                                                 \
	({                                                                 \
		__auto_type __pp = (p);                                    \
		if (folio_sched_on)                                        \
			folio_sched_quiet(__pp);                           \
		__auto_type __pv = atomic_load_explicit(__pp,              \
						       memory_order_relaxed); \
		if (__builtin_expect(folio_sched_wm, 0))                   \
			__pv = (__typeof__(__pv))(uintptr_t)folio_sched_forward( \
				__pp, sizeof(*__pp), FS_U64(__pv));        \
		__pv;                                                      \
	})
#define fa_load_relaxed(p) FA_SCHED_LOAD(p, memory_order_relaxed)
#define fa_load_acquire(p) FA_SCHED_LOAD(p, memory_order_acquire)
#define fa_load_full(p) FA_SCHED_LOAD(p, memory_order_seq_cst)
#define fa_store_relaxed(p, v) FA_SCHED_STORE(p, v, memory_order_relaxed)
#define fa_store_release(p, v) FA_SCHED_STORE(p, v, memory_order_release)
#define fa_store_full(p, v) FA_SCHED_STORE(p, v, memory_order_seq_cst)
#define fa_add_relaxed(p, v)                                               \
	((void)FA_SCHED_RMW(FS_RMW, atomic_fetch_add_explicit, p, v,       \
			    memory_order_relaxed, __old + __a))
#define fa_sub_relaxed(p, v)                                               \
	((void)FA_SCHED_RMW(FS_RMW, atomic_fetch_sub_explicit, p, v,       \
			    memory_order_relaxed, __old - __a))
#define fa_add_return_full(p, v)                                           \
	FA_SCHED_RMW_NEW(FS_RMW, atomic_fetch_add_explicit, p, v,         \
			 memory_order_seq_cst, __old + __a)
#define fa_sub_return_full(p, v)                                           \
	FA_SCHED_RMW_NEW(FS_RMW, atomic_fetch_sub_explicit, p, v,         \
			 memory_order_seq_cst, __old - __a)
#define fa_add_return_relaxed(p, v)                                        \
	FA_SCHED_RMW_NEW(FS_RMW, atomic_fetch_add_explicit, p, v,         \
			 memory_order_relaxed, __old + __a)
#define fa_sub_return_relaxed(p, v)                                        \
	FA_SCHED_RMW_NEW(FS_RMW, atomic_fetch_sub_explicit, p, v,         \
			 memory_order_relaxed, __old - __a)
#define fa_or_acquire(p, v)                                                \
	FA_SCHED_RMW(FS_RMW, atomic_fetch_or_explicit, p, v,               \
		     memory_order_acquire, __old | __a)
#define fa_or_relaxed(p, v)                                                \
	FA_SCHED_RMW(FS_RMW, atomic_fetch_or_explicit, p, v,               \
		     memory_order_relaxed, __old | __a)
#define fa_or_full(p, v)                                                   \
	FA_SCHED_RMW(FS_RMW, atomic_fetch_or_explicit, p, v,               \
		     memory_order_seq_cst, __old | __a)
#define fa_and_relaxed(p, v)                                               \
	FA_SCHED_RMW(FS_RMW, atomic_fetch_and_explicit, p, v,              \
		     memory_order_relaxed, __old & __a)
#define fa_and_release(p, v)                                               \
	FA_SCHED_RMW(FS_RMW, atomic_fetch_and_explicit, p, v,              \
		     memory_order_release, __old & __a)
#define fa_xchg_full(p, v)                                                 \
	FA_SCHED_RMW(FS_XCHG, atomic_exchange_explicit, p, v,              \
		     memory_order_seq_cst, __a)
#define fa_xchg_relaxed(p, v)                                              \
	FA_SCHED_RMW(FS_XCHG, atomic_exchange_explicit, p, v,              \
		     memory_order_relaxed, __a)
#define fa_cas_full(p, expected, desired)                                  \
	FA_SCHED_CAS(atomic_compare_exchange_weak_explicit, p, expected,   \
		     desired)
#define fa_cas_strong_full(p, expected, desired)                           \
	FA_SCHED_CAS(atomic_compare_exchange_strong_explicit, p, expected, \
		     desired)
#define fa_fence_full()                                                    \
	({                                                                 \
		FS_SITE_(FS_FENCE, memory_order_seq_cst);                  \
		folio_sched_before(&__fs, NULL);                           \
		atomic_thread_fence(memory_order_seq_cst);                 \
		(void)0;                                                   \
	})
#endif /* FOLIO_SCHED */

#ifndef FOLIO_SCHED
/*
 * Locks.  A plain pthread mutex; the scheduled build replaces them with the
 * scheduler's (below), without touching callers.
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
/*
 * A per-CPU cache's lock (folio/percpu.h).  The same mutex here; in the
 * scheduled build not a preemption point while uncontended (below).
 */
#define fl_lock_local(l) fl_lock(l)
#define fl_unlock_local(l) fl_unlock(l)

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

/* A spinner gives the CPU away (the holder may be preempted). */
#define fl_yield() sched_yield()
/*
 * A lock-free retry loop waits for another thread to make progress (a
 * lookup retrying while a splitter holds the folio frozen).  Nothing on
 * real CPUs (the other thread runs on its own); in the scheduled build a
 * yield, so a priority scheduler does not spin the waiter forever.
 */
#define fa_spin_hint() ((void)0)

#else /* FOLIO_SCHED: the scheduler owns every lock */
/* owner: 0 free, else the scheduler's id of the holder; waiters: a mask of
 * blocked logical threads.  Only the scheduler touches either. */
struct fl_lock {
	int owner;
	unsigned int waiters;
};
#define FL_LOCK_INIT { 0, 0 }

static inline void fl_init(struct fl_lock *l)
{
	l->owner = 0;
	l->waiters = 0;
}
static inline void fl_destroy(struct fl_lock *l)
{
	(void)l;
}
#define fl_lock(l)                                                         \
	({                                                                 \
		FS_SITE_(FS_LOCK, 0);                                      \
		folio_sched_lock(&__fs, (l));                              \
	})
#define fl_trylock(l)                                                      \
	({                                                                 \
		FS_SITE_(FS_TRYLOCK, 0);                                   \
		folio_sched_trylock(&__fs, (l));                           \
	})
#define fl_unlock(l)                                                       \
	({                                                                 \
		FS_SITE_(FS_UNLOCK, 0);                                    \
		folio_sched_unlock(&__fs, (l));                            \
	})
/*
 * A per-CPU cache's lock: taken and dropped without a scheduling decision
 * while no other logical thread holds or waits for it.  The kernel runs
 * these sections with preemption off, and the lock word is all such a
 * step would touch: a preemption there reaches nothing a preemption at
 * the thread's previous step does not.  Contended (a remote drain, or
 * threads sharing a CPU), it blocks and wakes as fl_lock does.  Without
 * this, every allocation and free added four decisions to a run, and
 * fuzz_sched needed 2-3x the executions to find its planted bugs.
 */
#define fl_lock_local(l)                                                   \
	({                                                                 \
		FS_SITE_(FS_LOCK, 0);                                      \
		folio_sched_lock_local(&__fs, (l));                        \
	})
#define fl_unlock_local(l)                                                 \
	({                                                                 \
		FS_SITE_(FS_UNLOCK, 0);                                    \
		folio_sched_unlock_local(&__fs, (l));                      \
	})

struct fl_cond {
	unsigned int waiters;
};
static inline void fl_cond_init(struct fl_cond *c)
{
	c->waiters = 0;
}
static inline void fl_cond_destroy(struct fl_cond *c)
{
	(void)c;
}
#define fl_cond_wait(c, l)                                                 \
	({                                                                 \
		FS_SITE_(FS_COND_WAIT, 0);                                 \
		folio_sched_cond_wait(&__fs, (c), (l));                    \
	})
#define fl_cond_broadcast(c)                                               \
	({                                                                 \
		FS_SITE_(FS_COND_WAKE, 0);                                 \
		folio_sched_cond_broadcast(&__fs, (c));                    \
	})
#define fl_yield()                                                         \
	({                                                                 \
		FS_SITE_(FS_YIELD, 0);                                     \
		folio_sched_yield(&__fs);                                  \
	})
#define fa_spin_hint() fl_yield()
#endif /* FOLIO_SCHED */

#endif /* FOLIO_ATOMIC_H */
