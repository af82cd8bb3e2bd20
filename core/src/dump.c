/* SPDX-License-Identifier: MIT */
/*
 * dump.c - dump_folio() and the assertion back ends; the debug hooks'
 * storage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "folio/folio.h"
#include "folio/page_ref.h"

#ifdef FOLIO_HOOKS
folio_step_fn folio_step_hook;
#endif
_Atomic(folio_race_fn) folio_race_hook;

static const char *const flag_names[NR_PG_FLAGS] = {
	[PG_locked] = "locked",
	[PG_dirty] = "dirty",
	[PG_swapbacked] = "swapbacked",
	[PG_lru] = "lru",
	[PG_partially_mapped] = "partially_mapped",
	[PG_anon] = "anon",
	[PG_waitlock] = "waitlock",
	[PG_waiters] = "waiters",
};

void dump_folio(FILE *out, const struct folio *f, const char *reason)
{
	unsigned long flags;
	const char *sep = "";

	if (!out)
		return;
	if (!f) {
		fprintf(out, "folio: (null)%s%s\n", reason ? " reason: " : "",
			reason ? reason : "");
		return;
	}
	flags = fa_load_relaxed((_Atomic unsigned long *)&f->flags);
	fprintf(out,
		"folio: %p refcount:%d mapcount:%d entire_mapcount:%d "
		"pincount:%d\n"
		"       pfn:%#lx order:%u mapping:%p index:%#lx\n"
		"       flags: %#lx(",
		(const void *)f, folio_ref_count(f), folio_mapcount(f),
		folio_entire_mapcount(f), folio_pincount(f), folio_pfn(f),
		folio_order(f), (void *)folio_mapping(f), folio_index(f),
		flags);
	for (int i = 0; i < NR_PG_FLAGS; i++) {
		if ((flags & (1ul << i)) && flag_names[i]) {
			fprintf(out, "%s%s", sep, flag_names[i]);
			sep = "|";
		}
	}
	fprintf(out, ")\n");
	if (reason)
		fprintf(out, "       reason: %s\n", reason);
}

_Noreturn void folio_bug(const char *file, int line, const char *cond,
			 const struct folio *f)
{
	fprintf(stderr, "kernel BUG at %s:%d: VM_BUG_ON_FOLIO(%s)\n", file,
		line, cond);
	dump_folio(stderr, f, cond);
	fflush(stderr);
	abort();
}

void folio_warn(const char *file, int line, const char *cond,
		const struct folio *f)
{
	fprintf(stderr, "WARNING: %s:%d: %s\n", file, line, cond);
	dump_folio(stderr, f, cond);
}
