/* SPDX-License-Identifier: MIT */
/*
 * folio/check.h - the invariant checker for quiescent points (docs/design.md 6).
 *
 * Call it only when no operation is in flight (the harness parks every
 * worker first).  It reads the whole model and reports every broken rule:
 *
 *   I-ref     refcount == cache + mapcount + pins + recorded temporaries
 *   I-memmap  every PFN's word decodes to the live descriptor covering it,
 *             with the right type; free PFNs are well-formed BUDDY blocks;
 *             no PFN in two folios; allocated + free == nr_pages
 *   I-cache   every slot holds a live folio whose mapping and index match;
 *             every page of a cached folio is in its slot
 *   I-free    a freed descriptor has refcount 0 and is on its cache's free
 *             list; an allocated one is reachable from the memmap
 *   I-map     mapcounts equal the mappings found in every page table
 *   I-pin     pincount equals the pins recorded
 *   I-excl    an exclusive anon folio is mapped only by its owner mm; a
 *             writable entry maps an exclusive folio; a pinned anon folio
 *             is exclusive
 *   I-dsq     the deferred-split queue holds exactly the partially mapped
 *             large anon folios
 *   I-wp      a write-protected folio is order-0 shared anon, mapped only
 *             read-only and only at its sharers' addresses; its sharers
 *             are distinct; every descriptor belongs to one such folio
 *
 * A violation is printed like VM_BUG_ON_FOLIO (rule, detail, folio dump)
 * and returned to the caller, never asserted.
 */
#ifndef FOLIO_CHECK_H
#define FOLIO_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct folio;

/*
 * The caller's record of references it holds: one entry per folio (or
 * several, which are summed).  @refs counts plain references (lookups,
 * GET grabs, a caller's own reference); @pins counts FOLL_PIN pins.
 */
struct folio_held {
	const struct folio *folio;
	long refs;
	long pins;
};

struct folio_violation {
	const char *rule;		/* "I-ref", "I-memmap", ... */
	const struct folio *folio;	/* NULL when no folio is involved */
	unsigned long pfn;		/* ~0ul when no PFN is involved */
	char detail[192];
};

struct folio_check_opts {
	const struct folio_held *held;
	size_t nr_held;
	FILE *out;		/* where to print violations; NULL = silent */
	unsigned int max_print;	/* print at most this many (0 = 16) */
};

/*
 * Run every rule.  Returns the number of violations (0 = clean); the first
 * is copied to @first if non-NULL.
 */
unsigned long folio_check_quiescent(const struct folio_check_opts *opts,
				    struct folio_violation *first);

#endif /* FOLIO_CHECK_H */
