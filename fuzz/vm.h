/* SPDX-License-Identifier: MIT */
/*
 * vm.h - the op VM: runs a program on a fresh libfolio world and on the
 * reference model (model.h) in lockstep.  After every op it compares the
 * return codes, every folio's counts and flags, the memmap, the page
 * cache, the page tables and the deferred-split queue, then runs the
 * core's quiescent checker with the handles as the held references.
 *
 * Single-threaded.  The world is a process-wide singleton, so one vm_run
 * at a time.
 */
#ifndef FT_VM_H
#define FT_VM_H

#include <stdint.h>
#include <stdio.h>

#include "prog.h"

struct vm_opts {
	FILE *trace;	/* each op and its result; NULL = quiet */
	FILE *report;	/* a finding: op, rule, both states, folio dump; NULL = quiet */
	long *results;	/* if set: each op's result (VM_SKIPPED if skipped),
			 * PROG_MAX_OPS entries; ops not run are left alone */
	/* if set: what each op read from a page (a touch or dma load) and
	 * whether it read one, PROG_MAX_OPS entries each */
	uint64_t *reads;
	unsigned char *read_ok;
	/*
	 * The model comparison (vm_compare.c: handles, every PFN's owner,
	 * every live folio's counts and flags, the page cache, the tables,
	 * the deferred-split queue) runs after every op.  The core's full
	 * checker (free lists, slab, I-* invariants) runs after every
	 * check_every-th op and at the end; 0 or 1: after every op, which
	 * names the exact op of a checker finding (folio-replay's default).
	 */
	unsigned int check_every;
	/*
	 * If set, a VM_BUG_ON in the core during the run is a finding of the
	 * op that ran: the VM reports it, calls on_fatal(fatal_ctx) and the
	 * process exits 1 (folio-replay).  Unset (the fuzz targets): the
	 * report, then folio_bug()'s abort, which the fuzzing engine catches.
	 */
	void (*on_fatal)(void *fatal_ctx);
	void *fatal_ctx;
};

/* The result recorded for an op that had no handle to work on. */
#define VM_SKIPPED (-1000L)

struct vm_finding {
	unsigned int op;	/* index of the op after which it was seen */
	char rule[48];		/* "model-rc", "model-refcount", "I-map", ... */
	char detail[256];
};

/* 0: the program passes; 1: a finding (filled in *f); -1: setup failed. */
int vm_run(const struct prog *p, const struct vm_opts *o, struct vm_finding *f);

/* Name of the reference-model mutant compiled in (FT_MODEL_MUTANT), or NULL. */
const char *vm_model_mutant(void);

#endif /* FT_VM_H */
