/* SPDX-License-Identifier: MIT */
/*
 * exec.h - run one op of the op VM on the core, with a thread's table of
 * handles (references and GUPs held across ops).  Shared by the lockstep
 * VM (vm.c, one thread, compared with the model after every op) and the
 * interleaving fuzzer (fuzz_sched, 2-4 logical threads, each with its own
 * table and no model: results there depend on the interleaving).
 *
 * Handle rules, which the reference model restates (model.c): an op that
 * makes a handle takes the lowest free slot and is skipped when none is
 * free; an op that names a handle is skipped when that slot does not hold
 * the kind it needs.  A skipped op returns EXEC_SKIPPED.
 */
#ifndef FT_EXEC_H
#define FT_EXEC_H

#include <stddef.h>

#include "exec_data.h"
#include "folio/check.h"
#include "folio/filemap.h"
#include "folio/pgtable.h"
#include "prog.h"

#define EXEC_SKIPPED (-1000L)

enum exec_handle_kind { EH_FREE, EH_REF, EH_GUP };

struct exec_handle {
	unsigned char kind;		/* enum exec_handle_kind */
	struct folio *folio;		/* EH_REF */
	unsigned long pfn[PROG_GUP_MAX];	/* EH_GUP */
	unsigned int n, flags;
	/* EH_GUP, for the data oracle (exec_data.c): where page i was
	 * taken (mm, va + i), its place's mapping epoch then, and what this
	 * thread last wrote or read through it with the page's epoch */
	unsigned int mm;
	unsigned long va;
	unsigned long mep[PROG_GUP_MAX];
	uint64_t seen[PROG_GUP_MAX];
	unsigned long pep[PROG_GUP_MAX];
	uint32_t seen_valid;		/* bit i: seen[i] holds */
};

struct exec_ctx {
	struct address_space *files[2];
	struct mm_struct *mms[2];
	struct exec_handle h[PROG_NR_HANDLES];
	/* the data oracle's view of this thread (exec_data.h) */
	unsigned int tid;		/* the writer id in values it writes */
	unsigned long seq;		/* ops run so far: the running op's index */
	struct exec_loc loc[EXEC_DATA_KEYS];
	unsigned long op_mep[PROG_GUP_MAX];	/* mapping epochs at op start */
	bool read_valid;		/* the last op read a page: */
	uint64_t read_val;		/* what it read */
	/* set by the core's access hook for this thread's store (found by
	 * the writer in the value): the page, the place's epoch after it */
	unsigned long store_pfn, store_ep;
};

/*
 * What a caller of the core checks about what it got, as the kernel's
 * callers do (a folio from a lookup is the one at that index, unless
 * truncated since; a folio got by pfn covers that pfn): a failed check is
 * reported here, as rule "lookup-identity" or "pfn-identity".  The runner
 * sets it (the VM records a finding, fuzz_sched reports and stops); unset,
 * the report goes to stderr and the process aborts.
 */
typedef void (*exec_bug_fn)(const char *rule, const struct folio *f,
			    const char *detail);
extern exec_bug_fn exec_on_bug;

/* Lowest free handle slot, -1 if none. */
int exec_free_handle(const struct exec_ctx *x);
/* Run @op; its result, or EXEC_SKIPPED.  *made: the slot filled, or -1. */
long exec_op(struct exec_ctx *x, const struct prog_op *op, int *made);
/* Report a broken caller-side expectation through exec_on_bug. */
void exec_bug(const char *rule, const struct folio *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drop handle @h (put, or unpin in @mode: 0 batched, 1 per page, 2 dirty). */
void exec_release(struct exec_ctx *x, unsigned int h, unsigned int mode);
void exec_release_all(struct exec_ctx *x);
/* The held references and pins of every handle, for the checker; @out has
 * room for PROG_NR_HANDLES * PROG_GUP_MAX records.  Returns how many. */
size_t exec_held(const struct exec_ctx *x, struct folio_held *out);

#endif /* FT_EXEC_H */
