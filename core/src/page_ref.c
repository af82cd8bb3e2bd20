/* SPDX-License-Identifier: MIT */
/*
 * page_ref.c - the refcount choke point's out-of-line half: the debug
 * tracepoint with the kernel's A-ref assertions, and
 * folio_expected_ref_count().
 */
#include "folio/folio.h"
#include "folio/filemap.h"

#ifdef FOLIO_DEBUG
_Atomic(folio_ref_trace_fn) folio_ref_trace_hook;

void __folio_ref_tp(struct folio *f, enum folio_ref_op op, int delta, int v)
{
	folio_ref_trace_fn hook;

	switch (op) {
	case FOLIO_REF_ADD:
		/* folio_get/folio_ref_add: the count was held (> 0) before. */
		VM_BUG_ON_FOLIO(v - delta <= 0, f);
		break;
	case FOLIO_REF_SUB:
		/* A plain sub must leave a held count; only *_and_test may hit 0. */
		VM_BUG_ON_FOLIO(v <= 0, f);
		break;
	case FOLIO_REF_SUB_TEST:
		/* put_page_testzero: the count was not 0 and did not underflow. */
		VM_BUG_ON_FOLIO(v < 0, f);
		break;
	case FOLIO_REF_TRY_ADD:
		VM_BUG_ON_FOLIO(v - delta <= 0, f);
		break;
	case FOLIO_REF_INIT:
	case FOLIO_REF_UNFREEZE:
		VM_BUG_ON_FOLIO(v <= 0, f);
		break;
	case FOLIO_REF_TRY_FAIL:
	case FOLIO_REF_FREEZE:
	case FOLIO_REF_FREEZE_FAIL:
		break;
	}
	hook = atomic_load_explicit(&folio_ref_trace_hook, memory_order_relaxed);
	if (hook)
		hook(f, op, delta, v);
}
#endif

int folio_expected_ref_count(const struct folio *f)
{
	int cache = 0;

	if (!folio_test_anon(f) && folio_mapping(f))
		cache = (int)folio_nr_pages(f);
	return cache + folio_mapcount(f);
}
