/* SPDX-License-Identifier: MIT */
/*
 * lock.c - folio lock slow paths (O15): the hashed wait table and the
 * per-folio wait list.  The protocols and the races they close are in
 * folio/lock.h; this file says how each is built.
 *
 * Hashed table.  Each bucket has a lock, a condition variable and a list
 * of waiters; a waiter names its folio, so one bucket serves every folio
 * hashing to it.  Wake-up is "wake every waiter of this folio and clear
 * PG_waiters" (non-exclusive): the waker walks the whole bucket, and the
 * broadcast also rouses the bucket's sleepers of other folios, which go
 * back to sleep.  Each woken waiter retries the lock and, if it loses, sets
 * PG_waiters again under the bucket lock before sleeping, so clearing the
 * bit cannot strand anyone.  The kernel's exclusive hand-off after
 * repeated unfair rounds is not modelled.
 *
 * Per-folio list.  f->_lock_waiters points at the oldest waiter's link;
 * the waiters form a circular list through their links, so the descriptor
 * spends one pointer.  PG_waitlock, a bit spinlock in f->flags, guards it.
 * Wake-up unlinks the oldest waiter only (exclusive), none if the folio
 * is locked again by then (that holder's unlock will wake it), and, if
 * the list is left empty, clears PG_waiters in the same RMW that drops
 * PG_waitlock.  A waiter that wins the lock under PG_waitlock with the
 * list empty clears a stale PG_waiters the same way, saving its own
 * unlock a slow path.
 * Invariant outside PG_waitlock: list not empty => PG_waiters set.
 *
 * Costs, measured by bench_lock.c: the descriptor pays one pointer; the
 * fast paths are the same inline code in both modes; a waiter's sleep and
 * wake-up touch only its own folio's list and its own lock, never a
 * bucket shared with other folios.
 *
 * Neither mode spins for the folio lock itself (the kernel does not);
 * PG_waitlock is held for a few instructions and is spun for, yielding the
 * cpu after a while, since userspace cannot disable preemption as
 * bit_spin_lock() does and a preempted holder would otherwise be spun on
 * for a whole time slice.
 */
#include <sched.h>
#include <stdint.h>

#include "folio/lock.h"
#include "folio/window.h"
#include "internal.h"

_Atomic(folio_lock_hook_fn) folio_lock_hook;

static _Atomic int folio_lock_wait_mode = FOLIO_LOCK_MODE_DEFAULT;

#ifdef FOLIO_DEBUG
/* Threads in a slow path (lock or wake), either mode: for set_mode. */
static atomic_long folio_lock_inflight;
#define lock_slow_enter() fa_add_relaxed(&folio_lock_inflight, 1)
#define lock_slow_exit() fa_sub_relaxed(&folio_lock_inflight, 1)
#else
#define lock_slow_enter() ((void)0)
#define lock_slow_exit() ((void)0)
#endif

static inline void lock_hook(enum folio_lock_hook_point point,
			     struct folio *f)
{
	folio_lock_hook_fn h = atomic_load_explicit(&folio_lock_hook,
						    memory_order_relaxed);

	if (__builtin_expect(h != NULL, 0))
		h(point, f);
}

static inline enum folio_lock_mode lock_mode(void)
{
	return (enum folio_lock_mode)fa_load_relaxed(&folio_lock_wait_mode);
}

void folio_lock_set_mode(enum folio_lock_mode mode)
{
	VM_BUG_ON(mode != FOLIO_LOCK_HASHED && mode != FOLIO_LOCK_PERFOLIO);
#ifdef FOLIO_DEBUG
	/* a waiter parked under one mode would be missed by the other */
	VM_BUG_ON(fa_load_relaxed(&folio_lock_inflight) != 0);
#endif
	fa_store_relaxed(&folio_lock_wait_mode, (int)mode);
}

enum folio_lock_mode folio_lock_get_mode(void)
{
	return lock_mode();
}

const char *folio_lock_mode_name(enum folio_lock_mode mode)
{
	switch (mode) {
	case FOLIO_LOCK_HASHED: return "hashed";
	case FOLIO_LOCK_PERFOLIO: return "perfolio";
	}
	return "?";
}

/* ---- the hashed wait table ---- */

struct folio_waiter {
	struct folio *folio;
	bool woken;
	struct cds_list_head link;
};

struct wait_bucket {
	struct fl_lock lock;
	struct fl_cond cond;
	struct cds_list_head waiters;
} __attribute__((aligned(64)));

static struct wait_bucket wait_table[FOLIO_WAIT_TABLE_SIZE];

unsigned int folio_wait_table_index(const struct folio *f)
{
	/*
	 * hash_ptr: golden-ratio multiply, top bits.  Of the descriptor's
	 * offset in the world's memory, not its address: which folios share
	 * a bucket then does not depend on where mmap put the world, so a
	 * scheduled run (fuzz_sched) replays step for step in every process.
	 */
	uint64_t h = ((uint64_t)(uintptr_t)f -
		      (uint64_t)(uintptr_t)folio_world.membase) *
		     0x61c8864680b583ebull;

	return (unsigned int)(h >> (64 - FOLIO_WAIT_TABLE_BITS));
}

int lock_debug_name(const void *addr, char *buf, size_t n)
{
	const char *a = addr, *t = (const char *)wait_table;

	if (a < t || a >= (const char *)(wait_table + FOLIO_WAIT_TABLE_SIZE))
		return 0;
	snprintf(buf, n, "wait_table[%zu].%s",
		 (size_t)(a - t) / sizeof(wait_table[0]),
		 (size_t)(a - t) % sizeof(wait_table[0]) <
				 offsetof(struct wait_bucket, cond) ? "lock" : "cond");
	return 1;
}

static struct wait_bucket *folio_waitqueue(const struct folio *f)
{
	return &wait_table[folio_wait_table_index(f)];
}

static void folio_lock_hashed(struct folio *f)
{
	struct wait_bucket *q = folio_waitqueue(f);
	struct folio_waiter w = { .folio = f };

	fl_lock(&q->lock);
	for (;;) {
		/*
		 * PG_waiters before the final trylock, both RMWs on the flags
		 * word: an unlock after our failed trylock must see the bit.
		 */
		fa_or_relaxed(&f->flags, 1ul << PG_waiters);
		if (folio_trylock(f)) {
			folio_window(FW_R12);	/* unlocked in our window */
			break;
		}
		lock_hook(FOLIO_LOCK_HOOK_TRYLOCK_FAILED, f);
		w.woken = false;
		cds_list_add_tail(&w.link, &q->waiters);
		while (!w.woken)
			fl_cond_wait(&q->cond, &q->lock);
		/* the waker unlinked us */
		lock_hook(FOLIO_LOCK_HOOK_WOKEN, f);
	}
	fl_unlock(&q->lock);
}

static void folio_wake_hashed(struct folio *f)
{
	struct wait_bucket *q = folio_waitqueue(f);
	struct folio_waiter *w, *tmp;
	bool any = false;

	fl_lock(&q->lock);
	cds_list_for_each_entry_safe(w, tmp, &q->waiters, link) {
		if (w->folio != f)
			continue;
		cds_list_del(&w->link);
		w->woken = true;
		any = true;
	}
	/*
	 * Every waiter of f is awake and will set PG_waiters again under this
	 * lock before it sleeps, so the bit can go now.
	 */
	folio_clear_flag(f, PG_waiters);
	if (any)
		fl_cond_broadcast(&q->cond);
	fl_unlock(&q->lock);
}

/* ---- the per-folio wait list ---- */

struct folio_lock_waiter {
	struct cds_list_head link;	/* on f->_lock_waiters, PG_waitlock */
	struct folio *folio;		/* the list's owner (debug check) */
	struct fl_lock lock;		/* this waiter's own sleep */
	struct fl_cond cond;
	bool woken;			/* under lock; set by the waker, last */
};

#define WAITLOCK_SPINS 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * bit_spin_lock(PG_waitlock): acquire, pairs with the release in
 * folio_waitlist_unlock(); the list and _lock_waiters are plain data
 * under it.
 */
static void folio_waitlist_lock(struct folio *f)
{
	unsigned int spins = 0;

	while (fa_or_acquire(&f->flags, 1ul << PG_waitlock) &
	       (1ul << PG_waitlock)) {
		do {
			if (++spins < WAITLOCK_SPINS) {
				cpu_relax();
			} else {
				spins = 0;
				fl_yield();	/* the holder may be preempted */
			}
		} while (fa_load_relaxed(&f->flags) & (1ul << PG_waitlock));
	}
}

/*
 * Drop PG_waitlock (release), and PG_waiters with it when the list is
 * empty: one RMW, so the invariant "linked => PG_waiters" holds whenever
 * the lock is free.
 */
static void folio_waitlist_unlock(struct folio *f, bool clear_waiters)
{
	unsigned long bits = 1ul << PG_waitlock;

	VM_BUG_ON_FOLIO(clear_waiters && f->_lock_waiters, f);
	if (clear_waiters)
		bits |= 1ul << PG_waiters;
	fa_and_release(&f->flags, ~bits);
}

static void folio_waitlist_add(struct folio *f, struct folio_lock_waiter *w)
{
	struct cds_list_head *oldest = f->_lock_waiters;

	if (!oldest) {
		CDS_INIT_LIST_HEAD(&w->link);
		f->_lock_waiters = &w->link;
	} else {
		/* just before the oldest in the ring: the newest */
		cds_list_add_tail(&w->link, oldest);
	}
}

/* Unlink and return the oldest waiter, or NULL. */
static struct folio_lock_waiter *folio_waitlist_pop(struct folio *f)
{
	struct cds_list_head *oldest = f->_lock_waiters;
	struct folio_lock_waiter *w;

	if (!oldest)
		return NULL;
	w = caa_container_of(oldest, struct folio_lock_waiter, link);
	/* a waiter left on a freed and reused descriptor would show here */
	VM_BUG_ON_FOLIO(w->folio != f, f);
	f->_lock_waiters = oldest->next == oldest ? NULL : oldest->next;
	cds_list_del(oldest);
	return w;
}

static void folio_lock_perfolio(struct folio *f)
{
	struct folio_lock_waiter w = { .folio = f };

	fl_init(&w.lock);
	fl_cond_init(&w.cond);
	for (;;) {
		/* 1 */
		folio_waitlist_lock(f);
		/* 2, 3: PG_waiters before the final trylock (lock.h) */
		fa_or_relaxed(&f->flags, 1ul << PG_waiters);
		if (folio_trylock(f)) {
			folio_waitlist_unlock(f, !f->_lock_waiters);
			break;
		}
		lock_hook(FOLIO_LOCK_HOOK_TRYLOCK_FAILED, f);
		/* 4 */
		w.woken = false;
		folio_waitlist_add(f, &w);
		folio_waitlist_unlock(f, false);
		lock_hook(FOLIO_LOCK_HOOK_QUEUED, f);
		/* 7: woken is tested under our lock, so no wake-up is lost */
		fl_lock(&w.lock);
		while (!w.woken)
			fl_cond_wait(&w.cond, &w.lock);
		fl_unlock(&w.lock);
		/* 8: unlinked by the waker, who no longer touches w */
		lock_hook(FOLIO_LOCK_HOOK_WOKEN, f);
		if (folio_trylock(f))
			break;
	}
	fl_cond_destroy(&w.cond);
	fl_destroy(&w.lock);
}

static void folio_wake_perfolio(struct folio *f)
{
	struct folio_lock_waiter *w;

	/* 6 */
	folio_waitlist_lock(f);
	if (f->_lock_waiters && folio_test_locked(f)) {
		/*
		 * Relocked since our unlock (a load after our own release RMW
		 * on the same word sees it or later).  Leave the waiters
		 * linked: PG_waiters stays set while the list is not empty,
		 * so that holder's unlock will wake one.  Waking one now would
		 * only send it round again (wake_page_function's test_bit).
		 */
		folio_waitlist_unlock(f, false);
		return;
	}
	w = folio_waitlist_pop(f);
	folio_waitlist_unlock(f, !f->_lock_waiters);
	if (!w)
		return;
	/*
	 * 7: w is ours alone now (unlinked); its thread leaves, and its
	 * stack frame with w, only after seeing woken, so set it last and do
	 * not touch w after the unlock.
	 */
	fl_lock(&w->lock);
	w->woken = true;
	fl_cond_broadcast(&w->cond);
	fl_unlock(&w->lock);
}

/* ---- entry points ---- */

void __folio_lock(struct folio *f)
{
	/* the caller's reference keeps the descriptor (and its list) ours */
	VM_BUG_ON_FOLIO(folio_ref_count(f) <= 0, f);
	lock_slow_enter();
	if (lock_mode() == FOLIO_LOCK_PERFOLIO)
		folio_lock_perfolio(f);
	else
		folio_lock_hashed(f);
	lock_slow_exit();
}

void folio_wake_waiters(struct folio *f)
{
	VM_BUG_ON_FOLIO(folio_ref_count(f) <= 0, f);
	lock_slow_enter();
	if (lock_mode() == FOLIO_LOCK_PERFOLIO)
		folio_wake_perfolio(f);
	else
		folio_wake_hashed(f);
	lock_slow_exit();
}

void folio_wait_table_init(void)
{
	for (unsigned int i = 0; i < FOLIO_WAIT_TABLE_SIZE; i++) {
		fl_init(&wait_table[i].lock);
		fl_cond_init(&wait_table[i].cond);
		CDS_INIT_LIST_HEAD(&wait_table[i].waiters);
	}
}

void folio_wait_table_destroy(void)
{
	for (unsigned int i = 0; i < FOLIO_WAIT_TABLE_SIZE; i++) {
		VM_BUG_ON(!cds_list_empty(&wait_table[i].waiters));
		fl_cond_destroy(&wait_table[i].cond);
		fl_destroy(&wait_table[i].lock);
	}
}
