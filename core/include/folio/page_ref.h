/* SPDX-License-Identifier: MIT */
/*
 * folio/page_ref.h - the refcount ladder, with the kernel's names.
 *
 * Raw helpers over the wrapper layer, then the verbs.  Every mutation of
 * _refcount in the model is in this file and passes folio_ref_tp(), the one
 * choke point: in FOLIO_DEBUG builds it checks the kernel's A-ref
 * assertions and calls folio_ref_trace_hook (as page_ref.h's tracepoints
 * do); in release builds it compiles to nothing.
 *
 * Orderings (docs/design.md, O1-O4):
 *   folio_ref_add/sub/inc/dec      unordered (relaxed RMW)
 *   *_return, *_and_test, try_add  fully ordered (seq_cst RMW)
 *   folio_ref_freeze               seq_cst CAS c -> 0 (acts as smp_rmb for
 *                                  what the freezer reads next)
 *   folio_ref_unfreeze             release store; pairs with the acquire in
 *                                  every later successful try_get, so fields
 *                                  set before the unfreeze are visible
 */
#ifndef FOLIO_PAGE_REF_H
#define FOLIO_PAGE_REF_H

#include <stdbool.h>

#include "folio/folio.h"
#include "folio/mutant.h"

/* A small folio's pin adds this many references (kernel: 1U << 10). */
#define GUP_PIN_COUNTING_BIAS (1 << 10)

enum folio_ref_op {
	FOLIO_REF_INIT,		/* publish: 0 -> v */
	FOLIO_REF_ADD,		/* add to a held count */
	FOLIO_REF_SUB,		/* subtract, count stays held */
	FOLIO_REF_SUB_TEST,	/* subtract, possibly to 0 */
	FOLIO_REF_TRY_ADD,	/* add unless zero: succeeded */
	FOLIO_REF_TRY_FAIL,	/* add unless zero: saw 0 */
	FOLIO_REF_FREEZE,	/* c -> 0 succeeded */
	FOLIO_REF_FREEZE_FAIL,	/* c -> 0 failed */
	FOLIO_REF_UNFREEZE,	/* 0 -> c */
};

#ifdef FOLIO_DEBUG
/*
 * Tracepoint: @delta is the requested change, @v the value after it (or
 * the value seen, for a failed try/freeze).  Checks A-ref and calls the
 * hook.
 */
void __folio_ref_tp(struct folio *f, enum folio_ref_op op, int delta, int v);
typedef void (*folio_ref_trace_fn)(struct folio *f, enum folio_ref_op op,
				   int delta, int v);
extern _Atomic(folio_ref_trace_fn) folio_ref_trace_hook;
#define folio_ref_tp(f, op, d, v) __folio_ref_tp((f), (op), (d), (v))
#else
#define folio_ref_tp(f, op, d, v) ((void)(f), (void)(d), (void)(v))
#endif

static inline int folio_ref_count(const struct folio *f)
{
	return fa_load_relaxed((atomic_int *)&f->_refcount);
}

/* Publish a new or rebuilt folio: every field is set before this. */
static inline void folio_set_count_release(struct folio *f, int v)
{
	fa_store_release(&f->_refcount, v);
	folio_ref_tp(f, FOLIO_REF_INIT, v, v);
}

static inline void folio_ref_add(struct folio *f, int nr)
{
	int v = fa_add_return_relaxed(&f->_refcount, nr);
	folio_ref_tp(f, FOLIO_REF_ADD, nr, v);
}

static inline void folio_ref_sub(struct folio *f, int nr)
{
	int v = fa_sub_return_relaxed(&f->_refcount, nr);
	folio_ref_tp(f, FOLIO_REF_SUB, -nr, v);
}

static inline void folio_ref_inc(struct folio *f)
{
	folio_ref_add(f, 1);
}

static inline void folio_ref_dec(struct folio *f)
{
	folio_ref_sub(f, 1);
}

static inline int folio_ref_sub_return(struct folio *f, int nr)
{
	int v = fa_sub_return_full(&f->_refcount, nr);
	folio_ref_tp(f, FOLIO_REF_SUB_TEST, -nr, v);
	return v;
}

static inline bool folio_ref_sub_and_test(struct folio *f, int nr)
{
	return folio_ref_sub_return(f, nr) == 0;
}

static inline bool folio_ref_dec_and_test(struct folio *f)
{
	return folio_ref_sub_and_test(f, 1);
}

/*
 * Add @nr unless the count is 0 (atomic_add_unless(v, nr, 0)).
 *
 * Race closed (R1/R5): a 0 count means free or frozen; a freezer's CAS is on
 * the exact count, so either our add lands first (its freeze fails) or its
 * freeze lands first (we see 0 and fail).  Success is fully ordered: the
 * caller's identity recheck (slot, memmap word, PTE) is loaded after it, and
 * the acquire half pairs with the release in folio_set_count_release() /
 * folio_ref_unfreeze(), so the descriptor's fields are those of the owner we
 * now hold.  Failure is unordered, as in the kernel.
 */
static inline bool folio_ref_try_add(struct folio *f, int nr)
{
	int old = fa_load_relaxed(&f->_refcount);

	if (FOLIO_MUTANT_IS(try_get_plain)) {
		/* load, test, store: a put or a freeze in between is lost */
		if (old == 0) {
			folio_ref_tp(f, FOLIO_REF_TRY_FAIL, nr, 0);
			return false;
		}
		fa_store_relaxed(&f->_refcount, old + nr);
		folio_ref_tp(f, FOLIO_REF_TRY_ADD, nr, old + nr);
		return true;
	}

	do {
		if (__builtin_expect(old == 0, 0)) {
			folio_ref_tp(f, FOLIO_REF_TRY_FAIL, nr, 0);
			return false;
		}
	} while (!fa_cas_full(&f->_refcount, &old, old + nr));
	folio_ref_tp(f, FOLIO_REF_TRY_ADD, nr, old + nr);
	return true;
}

static inline bool folio_try_get(struct folio *f)
{
	return folio_ref_try_add(f, 1);
}

/* Caller holds a reference, or a lock that keeps the folio from being freed. */
static inline void folio_get(struct folio *f)
{
	folio_ref_inc(f);
}

static inline void folio_put_refs(struct folio *f, int nr)
{
	if (folio_ref_sub_and_test(f, nr))
		__folio_put(f);
}

static inline void folio_put(struct folio *f)
{
	folio_put_refs(f, 1);
}

/*
 * Freeze: CAS exactly @count -> 0.  Fails if anyone holds a reference the
 * caller did not expect.  Fully ordered on success: what the freezer reads
 * next (dirty, mapcount) is read after the count was seen stable.
 */
static inline bool folio_ref_freeze(struct folio *f, int count)
{
	int old = count;
	bool ok = fa_cas_strong_full(&f->_refcount, &old, 0);

	folio_ref_tp(f, ok ? FOLIO_REF_FREEZE : FOLIO_REF_FREEZE_FAIL, count,
		     ok ? 0 : old);
	return ok;
}

/* Release store of a non-zero count: fields set before are published. */
static inline void folio_ref_unfreeze(struct folio *f, int count)
{
	VM_BUG_ON_FOLIO(folio_ref_count(f) != 0, f);
	VM_BUG_ON_FOLIO(count == 0, f);
	fa_store_release(&f->_refcount, count);
	folio_ref_tp(f, FOLIO_REF_UNFREEZE, count, count);
}

/* Refs that a quiescent folio must hold besides pins and temporaries. */
int folio_expected_ref_count(const struct folio *f);

#endif /* FOLIO_PAGE_REF_H */
