/* SPDX-License-Identifier: MIT */
/*
 * folio/debug.h - assertions that dump the object, as VM_BUG_ON_FOLIO does.
 *
 * Levels (mimalloc style):
 *   VM_BUG_ON*         - cheap at-any-instant properties; on in FOLIO_DEBUG
 *                        builds (debug, asan, tsan presets), compiled out in
 *                        release, where the condition is NOT evaluated (as
 *                        in the kernel): never put a side effect in it.
 *                        Prints the folio dump and aborts.
 *   VM_WARN_ON_ONCE*   - returns the condition, prints once; never aborts.
 * The quiescent-point checker (folio/check.h) is separate: it returns its
 * findings to the caller instead of aborting.
 */
#ifndef FOLIO_DEBUG_H
#define FOLIO_DEBUG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

struct folio;

void dump_folio(FILE *out, const struct folio *folio, const char *reason);
/*
 * A name for a lock or other object of the core at @addr ("zone.lock",
 * "deferred_split_lock", "slab:folio.lock", "wait_table[17].lock",
 * "ptl(table 44)", ...): 1 and the name in @buf, or 0.  For reports (the
 * scheduler's race diagram); reads the caches' metadata without locks.
 */
int folio_debug_name(const void *addr, char *buf, size_t n);
_Noreturn void folio_bug(const char *file, int line, const char *func,
			 const char *cond, const struct folio *folio);
/*
 * Debug hook: called first by folio_bug() (a VM_BUG_ON fired), so a harness
 * can say where the run was (the scheduler stops switching and draws the
 * interleaving) before the report and the abort.  NULL: nothing.
 */
typedef void (*folio_bug_fn)(const char *file, int line, const char *func,
			     const char *cond, const struct folio *folio);
extern _Atomic(folio_bug_fn) folio_bug_hook;
void folio_warn(const char *file, int line, const char *cond,
		const struct folio *folio);

#ifdef FOLIO_DEBUG
#define VM_BUG_ON_FOLIO(cond, folio)                                     \
	do {                                                             \
		if (__builtin_expect(!!(cond), 0))                        \
			folio_bug(__FILE__, __LINE__, __func__, #cond,    \
				  (folio));                                \
	} while (0)
#define VM_BUG_ON(cond) VM_BUG_ON_FOLIO(cond, NULL)
#else
#define VM_BUG_ON_FOLIO(cond, folio) ((void)sizeof(!!(cond)), (void)(folio))
#define VM_BUG_ON(cond) ((void)sizeof(!!(cond)))
#endif

/* Always on: evaluates to the condition, reports once per call site. */
#define VM_WARN_ON_ONCE_FOLIO(cond, folio)                                 \
	({                                                                 \
		static atomic_bool __warned;                               \
		bool __c = !!(cond);                                       \
		if (__builtin_expect(__c, 0) &&                            \
		    !atomic_exchange_explicit(&__warned, true,             \
					      memory_order_relaxed))       \
			folio_warn(__FILE__, __LINE__, #cond, (folio));    \
		__c;                                                       \
	})

/*
 * Race points: named places between two steps of a lock-free protocol
 * where a test can stop a thread and run the other side of a race, so the
 * interleaving of docs/design.md section 7 happens deterministically.  The hook
 * is NULL outside tests; the cost is one relaxed load and a predicted
 * branch, and no race point sits inside the refcount helpers themselves.
 */
enum folio_race_point {
	RP_TRY_GET_PFN_DECODED,	/* folio_try_get_pfn: word decoded, no ref yet */
	RP_TRY_GET_PFN_GOT,	/* folio_try_get_pfn: ref taken, word not reloaded */
	RP_FILEMAP_LOADED,	/* filemap_get_folio: slot loaded, no ref yet */
	RP_FILEMAP_GOT,		/* filemap_get_folio: ref taken, slot not reloaded */
	RP_CHECK_SCANNED,	/* checker: memmap scanned, free lists not yet */
	RP_GUP_DECODED,		/* gup_fast: folio decoded, no reference yet */
	RP_GUP_GRABBED,		/* gup_fast: references taken, not rechecked */
	RP_RECLAIM_CLEARED,	/* lazyfree reclaim: PTEs cleared, count not read */
	RP_SPLIT_UNMAPPED,	/* split: migration entries in, not frozen yet */
	RP_SPLIT_FROZEN,	/* split: frozen, new folios not published */
	RP_FOLIO_FREEING,	/* __folio_put: count 0, still queued/mapped in memmap */
	RP_RECLAIM_UNMAPPED,	/* lazyfree reclaim: all unmapped, not frozen yet */
	RP_DEFERRED_ENQUEUE,	/* deferred_split_folio: about to queue */
	RP_PMD_LOOKED,		/* rmap walk / reclaim: saw our folio's PMD leaf
				 * unlocked, PMD lock not taken yet (arg: folio) */
	RP_PMD_CLEARED,		/* zap_huge_pmd: leaf cleared under the PMD lock,
				 * rmap and reference not dropped (arg: folio) */
	RP_MADV_SPLIT,		/* madvise_free: a partly covered large folio
				 * locked and held, page table unlocked, split
				 * not started (arg: folio) */
	RP_FORK_SHARED,		/* fork: a parent entry's folio shared (ref,
				 * rmap, exclusive cleared), the entry not yet
				 * write-protected (arg: folio) */
	RP_COW_COPIED,		/* do_wp_page: the copy built, the old entry
				 * not yet replaced, PTL held (arg: old folio) */
	RP_MIGRATE_UNMAPPED,	/* migrate_folio: migration entries in, not
				 * frozen yet (arg: the old folio) */
	RP_MIGRATE_FROZEN,	/* migrate_folio: frozen, the new folio in
				 * the cache slots, old not unfrozen (arg: old) */
	RP_COLLAPSE_CLEARED,	/* collapse_huge_page: PMD cleared, barrier
				 * done, refcounts not read (arg: first source) */
	RP_TOUCH_GOT,		/* touch_page_data: a reference on the page's
				 * folio taken, the PMD not rechecked, the
				 * entry not yet set young (arg: folio) */
	RP_SPLIT_PMD_READ,	/* split_huge_pmd: the anon leaf read under the
				 * PMD lock, not yet invalidated (arg: folio) */
	RP_WP_CLEARED,		/* write-protect merge: an entry cleared, the
				 * folio's count not read (arg: folio) */
	RP_NR,
};
/* Their names, in order (anchored schedules name them: fuzz/sched_anchor.h). */
#define FOLIO_RACE_POINT_NAMES                                             \
	{ "RP_TRY_GET_PFN_DECODED", "RP_TRY_GET_PFN_GOT",                  \
	  "RP_FILEMAP_LOADED", "RP_FILEMAP_GOT", "RP_CHECK_SCANNED",       \
	  "RP_GUP_DECODED", "RP_GUP_GRABBED", "RP_RECLAIM_CLEARED",        \
	  "RP_SPLIT_UNMAPPED", "RP_SPLIT_FROZEN", "RP_FOLIO_FREEING",      \
	  "RP_RECLAIM_UNMAPPED", "RP_DEFERRED_ENQUEUE", "RP_PMD_LOOKED",   \
	  "RP_PMD_CLEARED", "RP_MADV_SPLIT", "RP_FORK_SHARED",             \
	  "RP_COW_COPIED", "RP_MIGRATE_UNMAPPED", "RP_MIGRATE_FROZEN",     \
	  "RP_COLLAPSE_CLEARED", "RP_TOUCH_GOT", "RP_SPLIT_PMD_READ",      \
	  "RP_WP_CLEARED" }
typedef void (*folio_race_fn)(enum folio_race_point rp, void *arg);
extern _Atomic(folio_race_fn) folio_race_hook;
#define folio_race_point(rp, arg)                                          \
	do {                                                               \
		folio_race_fn __h = atomic_load_explicit(                  \
			&folio_race_hook, memory_order_relaxed);           \
		if (__builtin_expect(__h != NULL, 0))                      \
			__h((rp), (arg));                                  \
	} while (0)

#endif /* FOLIO_DEBUG_H */
