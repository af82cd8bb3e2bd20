/* SPDX-License-Identifier: MIT */
/*
 * dump.c - dump_folio() and the assertion back ends; the debug hooks'
 * storage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "folio/folio.h"
#include "folio/mutant.h"
#include "folio/page_ref.h"
#include "internal.h"

#ifdef FOLIO_HOOKS
folio_step_fn folio_step_hook;
#endif
_Atomic(folio_race_fn) folio_race_hook;
_Atomic(folio_bug_fn) folio_bug_hook;

static const char *const flag_names[NR_PG_FLAGS] = {
	[PG_locked] = "locked",
	[PG_dirty] = "dirty",
	[PG_swapbacked] = "swapbacked",
	[PG_lru] = "lru",
	[PG_partially_mapped] = "partially_mapped",
	[PG_anon] = "anon",
	[PG_waitlock] = "waitlock",
	[PG_waiters] = "waiters",
	[PG_large_desc] = "large_desc",
	[PG_anon_exclusive] = "anon_exclusive",
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

#define FOLIO_MUTANT_NAME_(n) #n,
const char *folio_mutant_name(void)
{
	static const char *const names[] = { NULL,
		FOLIO_MUTANT_LIST(FOLIO_MUTANT_NAME_) };

	return names[FOLIO_MUTANT_ID];
}

int folio_debug_name(const void *addr, char *buf, size_t n)
{
	extern struct fl_lock deferred_split_lock;

	if (addr == &deferred_split_lock) {
		snprintf(buf, n, "deferred_split_lock");
		return 1;
	}
	if (addr == &folio_world.files_lock) {
		snprintf(buf, n, "world.files_lock");
		return 1;
	}
	if (addr == &folio_world.mms_lock) {
		snprintf(buf, n, "world.mms_lock");
		return 1;
	}
	return page_alloc_debug_name(addr, buf, n) ||
	       slab_debug_name(addr, buf, n) || lock_debug_name(addr, buf, n);
}

_Noreturn void folio_bug(const char *file, int line, const char *func,
			 const char *cond, const struct folio *f)
{
	folio_bug_fn hook = atomic_load_explicit(&folio_bug_hook,
						 memory_order_relaxed);

	if (hook)
		hook(file, line, func, cond, f);
	fprintf(stderr, "kernel BUG at %s:%d (in %s): VM_BUG_ON_FOLIO(%s)\n",
		file, line, func, cond);
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
