/* SPDX-License-Identifier: MIT */
/*
 * exec_data.h - the executor's data oracle (docs/design.md 5.16): what
 * each thread of a program wrote into pages, and what it may read back.
 * Shared by the lockstep VM (one thread; its reference model predicts
 * every read exactly on top) and fuzz_sched (2-4 logical threads, no
 * model: these checks are its only view of data, and a broken one is a
 * finding with the race diagram).
 *
 * The rules, each a guarantee the kernel gives user space (the kernel's
 * mm selftests cow.c, gup_longterm.c, migration.c test the same):
 *   legit   a value read at a place was written for that place, or is
 *           what the place holds without a write: 0 for anon memory, the
 *           file's content for a file page (harness/data_value.h);
 *   lost    what a thread wrote at (mm, va), by a CPU store or by DMA
 *           through a pin it holds there, is what it reads there later,
 *           unless something that may change it ran since: a fault, zap,
 *           MADV_FREE, fork into that mm, truncate, or another write of
 *           the place.  Migration, collapse, splits, COW, fork of that mm
 *           and reclaim must keep it.  Nothing mapped there, with nothing
 *           of that list run since, is the write lost too ("vanished");
 *   stable  what a thread wrote or read through a GUP reference it holds
 *           is what it reads through it again, unless a write reached
 *           that page since (a CPU store, or DMA through any handle);
 *   leak    a CPU store by one process never lands on an anon page
 *           another process holds through GUP (after fork neither sees
 *           the other's writes, CVE-2020-29374), and a device's write
 *           through a process's pin never lands on a page another process
 *           maps (the pinned page stays the pinner's).
 * "Since" is exact: every op that may change a place bumps that place's
 * epochs when it starts and when it ends, before any of its steps and
 * after the last (fuzz_sched switches only at the core's steps), and a
 * CPU store bumps them from the core's access hook just before it lands.
 * A broken rule calls exec_on_bug with rule "data".
 */
#ifndef FT_EXEC_DATA_H
#define FT_EXEC_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "prog.h"

struct exec_ctx;

/* Places: every anon page of each mm, every page of each file. */
#define EXEC_DATA_ANON 64	/* anon pages per mm, at most */
#define EXEC_DATA_SLOTS 64	/* pages per file, at most */
#define EXEC_DATA_KEYS (2 * EXEC_DATA_ANON + 2 * EXEC_DATA_SLOTS)
#define EXEC_DATA_PFNS 256	/* a program's world, at most */

/* A thread's last write of a place (its slot in exec_ctx.loc). */
struct exec_loc {
	bool valid;
	int8_t src;		/* -1 a CPU store, else the handle it went through */
	uint64_t val;
	unsigned long ep;	/* the place's content epoch after the write */
	unsigned long pfn;	/* the page it went to (the report's folio) */
};

/*
 * Start of a run: @n threads' contexts (files and mms set), the world's
 * sizes; installs the core's access hook.  exec_data_end() removes it.
 */
void exec_data_begin(struct exec_ctx *ctxs, unsigned int n,
		     const struct prog_world *w);
void exec_data_end(void);

/* exec_op's halves (exec.c): an op that may change places bumps them. */
void exec_data_op_begin(struct exec_ctx *x, const struct prog_op *op);
void exec_data_op_end(struct exec_ctx *x, const struct prog_op *op, long r);

/* The ops with data: the CPU access (touch) and DMA through a handle. */
long exec_data_touch(struct exec_ctx *x, const struct prog_op *op);
long exec_data_dma(struct exec_ctx *x, const struct prog_op *op);
/* A GUP handle was made in slot @h: note each page's place. */
void exec_data_gup_made(struct exec_ctx *x, unsigned int h);
/* Handle @h is being released (@dirty: unpinned dirty). */
void exec_data_release(struct exec_ctx *x, unsigned int h, bool dirty);

/* The value op @seq of thread @tid writes at page @i of its target. */
uint64_t exec_data_value(unsigned int tid, unsigned int mm, unsigned long seq,
			 uint32_t key);
/* The harness key (harness/data_value.h) of (mm, va), or ~0u outside. */
uint32_t exec_data_key(const struct exec_ctx *x, unsigned int mm,
		       unsigned long va);

#endif /* FT_EXEC_DATA_H */
