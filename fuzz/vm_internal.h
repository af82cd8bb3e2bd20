/* SPDX-License-Identifier: MIT */
/*
 * vm_internal.h - the op VM's state, shared by vm.c (running ops) and
 * vm_compare.c (comparing the core with the model).
 */
#ifndef FT_VM_INTERNAL_H
#define FT_VM_INTERNAL_H

#include "exec.h"
#include "folio/filemap.h"
#include "folio/pgtable.h"
#include "model.h"
#include "vm.h"

struct vm {
	const struct prog *p;
	const struct vm_opts *o;
	struct vm_finding *f;
	struct model m;
	struct exec_ctx ex;		/* the core's files, mms and handles */
	unsigned int op;		/* index of the running op */
	const struct folio *bad;	/* folio to dump with a finding */
	int bad_id;			/* its model id, or -1 */
};

/* Record a finding (callers stop at the first); returns 1. */
int finding(struct vm *v, const struct folio *fo, int id, const char *rule,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* What a content word is and which op of the program wrote it. */
void vm_describe_data(const struct vm *v, uint64_t val, char *buf, size_t n);

/*
 * 0 if the core agrees with the model after op @made (handle made or -1):
 * what the op touched (vm_compare), or everything (vm_compare_full).
 * vm_compare_start() before the first op (the core's refcount tracepoint
 * goes to the comparison), vm_compare_stop() after the last.
 */
int vm_compare(struct vm *v, int made);
int vm_compare_full(struct vm *v);
void vm_compare_start(struct vm *v);
void vm_compare_stop(struct vm *v);

#endif /* FT_VM_INTERNAL_H */
