/* SPDX-License-Identifier: MIT */
/*
 * folio/mutant.h - known bugs the build can put back, one at a time, to
 * measure whether (and how fast) the harness finds them.
 *
 *   cmake -DFOLIO_MUTANT=<name> ...   (or FOLIO_MUTANT_ID in a target)
 *
 * Each site reads
 *
 *   if (FOLIO_MUTANT_IS(name))
 *           ... the bug ...
 *   else
 *           ... the correct code ...
 *
 * and `grep -rn FOLIO_MUTANT_IS core/` lists every site.  The condition is
 * a compile-time constant: the default build (no mutant) compiles the
 * correct branch only.
 *
 * | name              | the bug put back                                   | kernel fix it undoes                                           | breaks                          | window |
 * |-------------------|-----------------------------------------------------|----------------------------------------------------------------|---------------------------------|--------|
 * | gup_no_recheck    | GUP-fast trusts the folio it decoded: no recheck    | mm/gup: fix try_grab_compound_head() race with                 | I-ref, I-pin (a reference or    | R2: decode .. grab vs split or |
 * |                   | of the memmap word nor of the run inside the folio  | split_huge_page()                                              | pin on the wrong folio)         | free and reuse                 |
 * | filemap_no_reload | the page-cache lookup returns the folio it got a    | (the xas_reload() of filemap_get_entry / find_get_entry,       | the lookup's identity (a folio  | R5: load .. try_get vs         |
 * |                   | reference on without reloading the slot             | since the lockless page cache, 2.6.27)                         | of another index or owner)      | truncate and reuse             |
 * | mapcount_plain    | the PTE rmap add and remove are plain               | (the class of bug KCSAN reports: a counter updated under two   | I-map (a lost update); a data   | a zap in one mm (its PTL) vs a |
 * |                   | read-modify-writes of _mapcount: a zap in one mm    | different locks)                                               | race for TSan, which is what    | map in another (its PTL and    |
 * |                   | and a map in another hold no common lock            |                                                                | fuzz_sched's tsan build shows   | the folio lock)                |
 */
#ifndef FOLIO_MUTANT_H
#define FOLIO_MUTANT_H

#define FOLIO_MUTANT_LIST(X) \
	X(gup_no_recheck)    \
	X(filemap_no_reload) \
	X(mapcount_plain)

#define FOLIO_MUTANT_ENUM_(n) FOLIO_MUTANT_ID_##n,
enum folio_mutant_id {
	FOLIO_MUTANT_ID_none,
	FOLIO_MUTANT_LIST(FOLIO_MUTANT_ENUM_)
	FOLIO_MUTANT_ID_NR,
};
#undef FOLIO_MUTANT_ENUM_

#ifndef FOLIO_MUTANT_ID
#define FOLIO_MUTANT_ID FOLIO_MUTANT_ID_none
#endif

#define FOLIO_MUTANT_IS(n) (FOLIO_MUTANT_ID == FOLIO_MUTANT_ID_##n)

/* The mutant compiled in, or NULL. */
const char *folio_mutant_name(void);

#endif /* FOLIO_MUTANT_H */
