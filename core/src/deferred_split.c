/* SPDX-License-Identifier: MIT */
/*
 * deferred_split.c - the deferred-split queue and its scanner (O13).
 *
 * The queue holds no reference.  Every link change happens under
 * deferred_split_lock (the kernel's split_queue_lock / list_lru lock), and
 * so does every freeze that may dequeue.  Who may take a folio off:
 *   - the freer, at refcount 0 (folio_unqueue_deferred_split);
 *   - a splitter, frozen, under the lock (R7);
 *   - the scanner, which first takes a reference with folio_try_get under
 *     the lock: a 0 count means "being freed or frozen", and the scanner
 *     leaves that folio to its freer or freezer (R6).  While the scanner
 *     holds it (rc >= 1) neither of those can run.
 */
#include "folio/huge_memory.h"
#include "folio/lock.h"
#include "folio/window.h"
#include "internal.h"

/*
 * One queue and one lock for the world, as the kernel has one per node
 * (without memcg) and the world is one node.  It stays global on purpose:
 * it is now the main shared lock of foliotorture's private scenario (every
 * partially unmapped anon folio takes it twice: queued, and dequeued when
 * freed), which is what the kernel's per-node queue costs too.  A queue
 * per mm (the kernel's per-memcg queue) would need the memcg-offline
 * reparenting the kernel added for it: not modelled.
 */
struct fl_lock deferred_split_lock = FL_LOCK_INIT;
static CDS_LIST_HEAD(deferred_split_queue);
static unsigned long deferred_split_len;

void deferred_split_init(void)
{
	CDS_INIT_LIST_HEAD(&deferred_split_queue);
	deferred_split_len = 0;
}

static bool queueable(const struct folio *f)
{
	return folio_test_anon(f) && folio_order(f) > 1;
}

static void deferred_split_add(struct folio *f)
{
	fl_lock(&deferred_split_lock);
	folio_set_partially_mapped(f);
	if (cds_list_empty(&folio_large(f)->_deferred_list)) {
		cds_list_add_tail(&folio_large(f)->_deferred_list,
				  &deferred_split_queue);
		deferred_split_len++;
	}
	fl_unlock(&deferred_split_lock);
}

void deferred_split_folio(struct folio *f, bool partially_mapped)
{
	if (!queueable(f))
		return;
	/*
	 * partially_mapped == false is the kernel's "underused THP" queueing,
	 * which the model does not have: here a folio is queued exactly when
	 * it is partially mapped (the free path relies on it).
	 */
	VM_BUG_ON_FOLIO(!partially_mapped, f);
	/* R8: called with references held, so rc > 0 and no freer runs */
	VM_BUG_ON_FOLIO(folio_ref_count(f) == 0, f);
	folio_race_point(RP_DEFERRED_ENQUEUE, f);
	deferred_split_add(f);
}

/* Caller holds deferred_split_lock and has frozen or is freeing @f. */
void deferred_split_dequeue_locked(struct folio *f);
void deferred_split_dequeue_locked(struct folio *f)
{
	/* an order-0 folio (a split's first, in its large descriptor) is never queued */
	if (folio_large_fields(f) &&
	    !cds_list_empty(&folio_large(f)->_deferred_list)) {
		cds_list_del_init(&folio_large(f)->_deferred_list);
		deferred_split_len--;
	}
	folio_clear_partially_mapped(f);
}

void folio_unqueue_deferred_split(struct folio *f)
{
	if (!queueable(f))
		return;
	/* only at refcount 0: a scanner holding it would have rc >= 1 */
	VM_BUG_ON_FOLIO(folio_ref_count(f) != 0, f);
	/*
	 * The kernel peeks at list_empty() without the lock.  Here a folio is
	 * queued exactly when PG_partially_mapped is set (both are changed
	 * together under the lock; I-dsq checks it), and at refcount 0 neither
	 * can change under us: enqueuers hold a reference (R8), the scanner
	 * leaves 0-count folios alone (R6).  So an atomic flag test replaces
	 * the racy list peek, and most frees skip the lock.
	 */
	if (!folio_test_partially_mapped(f))
		return;
	fl_lock(&deferred_split_lock);
	deferred_split_dequeue_locked(f);
	fl_unlock(&deferred_split_lock);
}

bool folio_on_deferred_list(const struct folio *f)
{
	bool on;

	if (!folio_large_fields(f))
		return false;	/* order 0: never queued, maybe no list head */
	fl_lock(&deferred_split_lock);
	on = !cds_list_empty(&folio_large(f)->_deferred_list);
	fl_unlock(&deferred_split_lock);
	return on;
}

unsigned long deferred_split_walk(void (*fn)(struct folio *f, void *ctx),
				  void *ctx)
{
	struct cds_list_head *pos;
	unsigned long n = 0;

	fl_lock(&deferred_split_lock);
	/*
	 * By node, not cds_list_for_each_entry: that forms a struct folio
	 * pointer from the list head itself, which is not 16-byte aligned.
	 */
	cds_list_for_each(pos, &deferred_split_queue) {
		fn(&caa_container_of(pos, struct large_folio, _deferred_list)->f, ctx);
		n++;
	}
	if (n != deferred_split_len)
		n = ~0ul;	/* length and list disagree */
	fl_unlock(&deferred_split_lock);
	return n;
}

unsigned long deferred_split_count(void)
{
	unsigned long n;

	fl_lock(&deferred_split_lock);
	n = deferred_split_len;
	fl_unlock(&deferred_split_lock);
	return n;
}

unsigned long deferred_split_scan(unsigned long nr)
{
	struct cds_list_head *pos, *next;
	struct folio *f;
	unsigned long split = 0, taken = 0;
	CDS_LIST_HEAD(dispose);

	fl_lock(&deferred_split_lock);
	cds_list_for_each_safe(pos, next, &deferred_split_queue) {
		f = &caa_container_of(pos, struct large_folio, _deferred_list)->f;
		if (taken == nr)
			break;
		/* R6/R7: lost the race to folio_put or folio_ref_freeze */
		if (!folio_try_get(f)) {
			/* frozen under the folio lock: reclaim (folio/window.h) */
			folio_window(folio_test_locked(f) ? FW_R7 : FW_R6);
			continue;
		}
		cds_list_del(&folio_large(f)->_deferred_list);
		cds_list_add_tail(&folio_large(f)->_deferred_list, &dispose);
		deferred_split_len--;
		taken++;
	}
	fl_unlock(&deferred_split_lock);

	while (true) {
		bool done = false;

		fl_lock(&deferred_split_lock);
		if (cds_list_empty(&dispose)) {
			fl_unlock(&deferred_split_lock);
			break;
		}
		f = &cds_list_first_entry(&dispose, struct large_folio,
					  _deferred_list)->f;
		cds_list_del_init(&folio_large(f)->_deferred_list);
		fl_unlock(&deferred_split_lock);

		if (folio_test_partially_mapped(f) && folio_trylock(f)) {
			done = split_folio(f) == 0;
			folio_unlock(f);
		}
		if (done)
			split++;
		else if (folio_test_partially_mapped(f))
			deferred_split_add(f);	/* requeue; we hold a reference */
		folio_put(f);
	}
	return split;
}
