/* SPDX-License-Identifier: MIT */
/*
 * folio/lock.h - the folio lock (docs/design.md, O15).
 *
 * PG_locked and PG_waiters live in the folio's flags word.  The lock does
 * not protect the refcount; it serialises mapping/index changes,
 * truncation and split.  Callers of folio_lock() and folio_unlock() hold a
 * reference to the folio.
 *
 * Where a waiter sleeps is the slow path's business, chosen at run time
 * (folio_lock_set_mode(); the build's default is the CMake option
 * FOLIO_LOCK_WAIT).  The fast paths below never look at it.
 *
 * FOLIO_LOCK_HASHED - the kernel's folio_wait_table: FOLIO_WAIT_TABLE_SIZE
 *   buckets shared by all folios, each a lock, a condition variable and a
 *   list of waiters naming their folio.
 *
 *   Lost-wakeup race (R12), closed:
 *     waiter:   lock bucket; set PG_waiters (RMW); trylock (RMW); if it
 *               fails, sleep (dropping the bucket lock atomically)
 *     unlocker: clear PG_locked with a release RMW that returns the old
 *               word; if PG_waiters was set, lock the bucket and wake
 *   All three RMWs hit the same word, so they are totally ordered: if the
 *   waiter's trylock failed, the unlock comes later and sees PG_waiters;
 *   the unlocker then takes the bucket lock, which it can only get once the
 *   waiter is asleep.
 *
 * FOLIO_LOCK_PERFOLIO - the alternative the 2018 "generic page write
 *   protection" RFC argued for: no long wait lists shared by unrelated
 *   folios.  The waiters of a folio queue (FIFO) on a list hanging off the
 *   descriptor (f->_lock_waiters), protected by PG_waitlock, a bit spinlock
 *   in the same flags word; each waiter sleeps on its own lock and
 *   condition variable on its stack.  A wake-up dequeues the oldest waiter
 *   only (the kernel's exclusive folio_lock wait), or none if the folio
 *   is locked again by then, and clears PG_waiters when the list is left
 *   empty.
 *
 *   Lost-wakeup race (R12), closed the same way:
 *     1. waiter W: take PG_waitlock (acquire RMW on flags)
 *     2. W: set PG_waiters (RMW on flags)
 *     3. W: trylock (RMW on flags) fails: holder H still has PG_locked
 *     4. W: link itself on f->_lock_waiters; drop PG_waitlock (release)
 *     5. H: folio_unlock: release RMW clears PG_locked and returns the
 *        old word with PG_waiters set: it comes after 2 and 3 in the
 *        word's modification order, and PG_waiters is cleared only under
 *        PG_waitlock with the list empty, while W stays linked from 4
 *        until a waker unlinks and wakes it (then W starts again at 1)
 *     6. H: take PG_waitlock: it gets it after 4, so it finds W linked;
 *        unlink W, drop PG_waitlock.  (If the folio was relocked since
 *        5, H leaves W linked instead: PG_waiters stays set while W is
 *        linked, so the new holder's unlock is back at 5.)
 *     7. H: lock W's own lock, set W.woken, signal, unlock W's lock.  W
 *        tests woken under its own lock before sleeping, so a wake-up that
 *        comes between 4 and W's sleep is not lost either
 *     8. W: sees woken, retries trylock; if it loses again, back to 1
 *   Without 2-before-3, step 5 could miss the bit; without the list lock
 *   in 6, H could find the list empty before 4 and W would sleep forever.
 *
 *   Stack frames and reuse: W's node and sleep object live on W's stack.
 *   Only a waker unlinks W (under PG_waitlock, step 6) and W leaves only
 *   after seeing woken (step 8), which the waker sets last, under W's lock,
 *   and never touches W after unlocking it.  The descriptor is
 *   TYPESAFE_BY_RCU and is reused once its count reaches 0; every waiter
 *   and every unlocker holds a reference for as long as it touches the
 *   list, so the list is empty (_lock_waiters NULL) whenever the folio can
 *   be freed or frozen, and a reused descriptor starts with an empty list.
 *
 * Which mode to use is a property of the whole world: switch only when no
 * thread is in folio_lock()'s slow path or in folio_unlock() (e.g. while
 * no folio is locked).  Debug builds catch a switch with a slow path in
 * flight.
 *
 * Checked by: tests/test_lock.c (both modes, the windows above forced with
 * folio_lock_hook), bench/bench_lock.c (lock+unlock pairs/s per mode).
 */
#ifndef FOLIO_LOCK_H
#define FOLIO_LOCK_H

#include <stdbool.h>

#include "folio/folio.h"

#define FOLIO_WAIT_TABLE_BITS 8
#define FOLIO_WAIT_TABLE_SIZE (1u << FOLIO_WAIT_TABLE_BITS)

enum folio_lock_mode {
	FOLIO_LOCK_HASHED,	/* the shared hashed wait table (the kernel) */
	FOLIO_LOCK_PERFOLIO,	/* a wait list per folio, under PG_waitlock */
};

/* -DFOLIO_LOCK_WAIT=hashed|perfolio (CMake) picks the default. */
#ifdef FOLIO_LOCK_WAIT_PERFOLIO
#define FOLIO_LOCK_MODE_DEFAULT FOLIO_LOCK_PERFOLIO
#else
#define FOLIO_LOCK_MODE_DEFAULT FOLIO_LOCK_HASHED
#endif

/* Only while no slow path is in flight (see above). */
void folio_lock_set_mode(enum folio_lock_mode mode);
enum folio_lock_mode folio_lock_get_mode(void);
const char *folio_lock_mode_name(enum folio_lock_mode mode);

/* The hashed-table bucket @f's waiters use (tests and benchmarks). */
unsigned int folio_wait_table_index(const struct folio *f);

/*
 * Are waiters linked on @f's per-folio list?  Without PG_waitlock: only
 * for quiescent checks and for asserting, where @f can be freed, that
 * nobody can be (VM_BUG_ON_FOLIO(folio_lock_waiters_linked(f), f)).
 */
static inline bool folio_lock_waiters_linked(const struct folio *f)
{
	return f->_lock_waiters != NULL;
}

/* Acquire on success (test_and_set_bit_lock). */
static inline bool folio_trylock(struct folio *f)
{
	return !(fa_or_acquire(&f->flags, 1ul << PG_locked) &
		 (1ul << PG_locked));
}

void __folio_lock(struct folio *f);

static inline void folio_lock(struct folio *f)
{
	if (!folio_trylock(f))
		__folio_lock(f);
}

void folio_wake_waiters(struct folio *f);

/*
 * Release RMW that clears PG_locked and reports PG_waiters in the same
 * step (xor_unlock_is_negative_byte).
 */
static inline void folio_unlock(struct folio *f)
{
	unsigned long old = fa_and_release(&f->flags, ~(1ul << PG_locked));

	VM_BUG_ON_FOLIO(!(old & (1ul << PG_locked)), f);
	if (old & (1ul << PG_waiters))
		folio_wake_waiters(f);
}

/*
 * Test hook: called in the waiting thread at these points of the slow
 * path, in both modes unless noted.  NULL outside tests; the cost is one
 * relaxed load on the slow path only.
 */
enum folio_lock_hook_point {
	/*
	 * PG_waiters set and the final trylock failed; the bucket lock
	 * (hashed) or PG_waitlock (perfolio) is held; not linked yet.
	 */
	FOLIO_LOCK_HOOK_TRYLOCK_FAILED,
	/* perfolio: linked, PG_waitlock dropped, not asleep yet. */
	FOLIO_LOCK_HOOK_QUEUED,
	/*
	 * Woken and unlinked by a waker, before retrying the lock (hashed:
	 * with the bucket lock held again).
	 */
	FOLIO_LOCK_HOOK_WOKEN,
	FOLIO_LOCK_HOOK_NR,
};
typedef void (*folio_lock_hook_fn)(enum folio_lock_hook_point point,
				   struct folio *f);
extern _Atomic(folio_lock_hook_fn) folio_lock_hook;

#endif /* FOLIO_LOCK_H */
