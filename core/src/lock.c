/* SPDX-License-Identifier: MIT */
/*
 * lock.c - folio lock slow path on the hashed wait table (O15).
 *
 * Each bucket has a lock, a condition variable and a list of waiters; a
 * waiter names its folio, so one bucket serves every folio hashing to it.
 * The protocol that closes the lost-wakeup race is in folio/lock.h.
 *
 * Wake-up here is "wake every waiter of this folio and clear PG_waiters"
 * (non-exclusive): each woken waiter retries the lock and, if it loses,
 * sets PG_waiters again under the bucket lock before sleeping, so clearing
 * the bit cannot strand anyone.  The kernel's exclusive hand-off after
 * repeated unfair rounds is not modelled.
 */
#include <stdint.h>

#include "folio/lock.h"
#include "internal.h"

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

static struct wait_bucket *folio_waitqueue(const struct folio *f)
{
	/* hash_ptr: golden-ratio multiply, top bits. */
	uint64_t h = (uint64_t)(uintptr_t)f * 0x61c8864680b583ebull;

	return &wait_table[h >> (64 - FOLIO_WAIT_TABLE_BITS)];
}

void __folio_lock(struct folio *f)
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
		if (folio_trylock(f))
			break;
		w.woken = false;
		cds_list_add_tail(&w.link, &q->waiters);
		while (!w.woken)
			fl_cond_wait(&q->cond, &q->lock);
		/* the waker unlinked us */
	}
	fl_unlock(&q->lock);
}

void folio_wake_waiters(struct folio *f)
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
		fl_cond_destroy(&wait_table[i].cond);
		fl_destroy(&wait_table[i].lock);
	}
}
