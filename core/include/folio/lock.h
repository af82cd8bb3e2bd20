/* SPDX-License-Identifier: MIT */
/*
 * folio/lock.h - the folio lock (kernel-spec.md O15).
 *
 * PG_locked and PG_waiters live in the folio's flags word.  Waiters sleep
 * on a hashed wait table of FOLIO_WAIT_TABLE_SIZE buckets shared by all
 * folios (the kernel's folio_wait_table).  The lock does not protect the
 * refcount; it serialises mapping/index changes, truncation and split.
 *
 * Lost-wakeup race (R12), closed:
 *   waiter:   lock bucket; set PG_waiters (RMW); trylock (RMW); if it
 *             fails, sleep (dropping the bucket lock atomically)
 *   unlocker: clear PG_locked with a release RMW that returns the old word;
 *             if PG_waiters was set, lock the bucket and wake
 * All three RMWs hit the same word, so they are totally ordered: if the
 * waiter's trylock failed, the unlock comes later and sees PG_waiters; the
 * unlocker then takes the bucket lock, which it can only get once the
 * waiter is asleep.
 */
#ifndef FOLIO_LOCK_H
#define FOLIO_LOCK_H

#include <stdbool.h>

#include "folio/folio.h"

#define FOLIO_WAIT_TABLE_BITS 8
#define FOLIO_WAIT_TABLE_SIZE (1u << FOLIO_WAIT_TABLE_BITS)

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

#endif /* FOLIO_LOCK_H */
