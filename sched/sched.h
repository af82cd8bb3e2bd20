/* SPDX-License-Identifier: MIT */
/*
 * sched.h - the deterministic scheduler behind fuzz_sched: up to
 * FS_MAX_PROG logical threads (coroutines on the OS thread that calls
 * fs_run) plus one RCU callback thread, switched only at the core's steps
 * (folio/sched.h), in an order the input decides.
 *
 * Decision rule, at every step of the running thread:
 *   - one runnable thread: it runs; no input byte is consumed;
 *   - several (bytes mode): the next schedule byte b picks one:
 *     b % n, counted from the running thread in thread order (so 0 means
 *     "carry on", and a schedule of zeros runs each thread as far as it
 *     can go); past the end of the bytes, a PRNG seeded from the input
 *     decides: PCT with random priorities and change points (3 runs in
 *     4: a short thread waits for a long one and cuts in at one random
 *     step) or a uniform pick at every decision;
 *   - several (PCT mode): the highest priority runs; priorities and the
 *     d-1 steps at which the running thread drops below all others come
 *     from the input (Burckhardt et al., ASPLOS 2010), so PCT's
 *     probabilistic depth-d guarantee holds per input;
 * Under a weak memory model (fs_config.mm, wmm.h), before each pick with
 * another thread able to run, one more decision: which buffered store, if
 * any, becomes visible now (b % (k + 1), 0 = none); under arm a relaxed
 * load may take one more (which earlier value it reads).  An explorer
 * (fs_config.decide, folio-replay --explore) makes every decision instead.
 * A blocked thread (a lock held, a condition not signalled, a grace period
 * or rcu_barrier not over) is not runnable; all program threads blocked is
 * a deadlock finding; more than step_bound steps is a livelock finding.
 *
 * The RCU thread runs the oldest queued call_rcu callback once its grace
 * period is over; it is scheduled like the others, so where a callback
 * lands among the program threads' steps is part of the schedule.
 *
 * Feedback: for every load that reads a value another logical thread
 * stored, the pair (store site, load site) is counted in fs_rf_counters
 * (libFuzzer's extra counters; AFL++'s map), after "Greybox Fuzzing for
 * Concurrency Testing" (ASPLOS 2024).  Off with FT_SCHED_RF=0.
 */
#ifndef FT_SCHED_H
#define FT_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/sched.h"
#include "wmm.h"

#define FS_MAX_PROG 4			/* program threads */
#define FS_RCU_TID FS_MAX_PROG		/* the RCU callback thread */
#define FS_NR_THREADS (FS_MAX_PROG + 1)
#define FS_RF_COUNTERS 4096

enum fs_mode { FS_MODE_BYTES, FS_MODE_PCT };

enum fs_verdict {
	FS_OK,
	FS_DEADLOCK,		/* every program thread blocked */
	FS_LIVELOCK,		/* the step bound was reached */
	FS_LOCK_LEAK,		/* a thread finished holding a lock or
				 * inside an RCU read-side section */
	FS_LOCK_MISUSE,		/* unlock of a lock the thread does not hold */
	FS_DATA_RACE,		/* two conflicting accesses, one plain,
				 * unordered by happens-before (race.h) */
};

/* One recorded step (replay only: the trace, the diagram, the hash). */
struct fs_event {
	const struct folio_site *site;
	const volatile void *addr;
	uint64_t rd, wr;
	unsigned char tid;
	unsigned char what;	/* FS_READ | FS_WROTE, FS_EV_* */
	unsigned char switched;	/* a switch to this thread came just before */
	unsigned char size;	/* a plain access: its bytes */
	uintptr_t pc;		/* a plain access: where (site is NULL) */
};
#define FS_EV_BLOCK 0x10	/* the thread blocked here */
#define FS_EV_PLAIN 0x20	/* a plain load or store (FS_READ/FS_WROTE) */
#define FS_EV_RACE 0x40		/* one of a data race's two accesses */
#define FS_EV_BUFFERED 0x08	/* a store that went into the store buffer */
#define FS_EV_FLUSH 0x80	/* a buffered store became visible (pc: the
				 * event that issued it; size: 1 if a rule,
				 * not a decision, made it visible) */

struct fs_trace {
	struct fs_event *ev;
	size_t n, cap;
};

/* A decision offered to an explorer (fs_config.decide). */
#define FS_D_OPTS 64
enum fs_dkind {
	FS_D_PICK,		/* which thread runs next */
	FS_D_FLUSH,		/* weak memory: which buffered store, if any,
				 * becomes visible now (0: none) */
	FS_D_LOAD,		/* arm: which earlier value a load reads
				 * (0: the current one) */
};
struct fs_decision {
	enum fs_dkind kind;
	unsigned int n;			/* options 0..n-1 */
	bool preemptive;		/* a pick where option 0 is the running
					 * thread, still runnable */
	unsigned int runnable;		/* the threads that may take the next
					 * step (a mask) */
	unsigned char tid[FS_NR_THREADS];	/* a pick: option i's thread */
	/* each thread's next access: its 8-byte granule (0: unknown, or not
	 * an access: conflicts with everything) and whether it writes */
	uintptr_t pend_g[FS_NR_THREADS];
	bool pend_w[FS_NR_THREADS];
	/* a flush: option i > 0's store (its 8-byte granule, its thread),
	 * for the first FS_D_OPTS options */
	uintptr_t opt_g[FS_D_OPTS];
	unsigned char opt_tid[FS_D_OPTS];
};

struct fs_config {
	unsigned int nthreads;		/* program threads, 1..FS_MAX_PROG */
	/* The work of program thread @tid (returns when it is done). */
	void (*body)(unsigned int tid, void *ctx);
	void *ctx;
	const uint8_t *sched;		/* schedule bytes */
	size_t sched_len;
	enum fs_mode mode;
	unsigned int pct_depth;		/* PCT: d >= 1 */
	unsigned int pct_steps;		/* PCT: the change points fall below it */
	/* The CPU each logical thread runs on (folio_this_cpu()): 0, each
	 * its own; k, thread id modulo k (threads sharing a CPU share its
	 * page lists and sheaves, as tasks on one CPU do). */
	unsigned int cpus;
	enum fs_mm mm;			/* memory model (wmm.h) */
	uint64_t seed;			/* the PRNG past the end of the bytes */
	unsigned long step_bound;
	bool rf;			/* reads-from feedback */
	struct fs_trace *trace;		/* record every step, or NULL */
	/* Every decision as the byte that makes bytes mode take it (the
	 * index counted from the running thread), so a run in either mode,
	 * PRNG decisions included, can be frozen into an explicit schedule. */
	uint8_t *decisions;
	size_t decisions_cap;
	/* An explorer (folio-replay --explore): makes every decision
	 * instead of the bytes, returning an option 0..d->n-1 (logged in
	 * @decisions like a byte, so the run replays in bytes mode). */
	unsigned int (*decide)(const struct fs_decision *d, void *ctx);
	void *decide_ctx;
	/* Anchored schedules (fuzz/sched_anchor.h): every step of every
	 * logical thread (not the plain accesses), once as it reaches its
	 * scheduling point (@taken false: before the decision made there) and
	 * once as it goes on to take it (@taken true).  Called with
	 * @decide_ctx. */
	void (*on_step)(unsigned int tid, const struct folio_site *s,
			bool taken, void *ctx);
	/* A finding inside a run (deadlock, livelock): report and end the
	 * process; does not return. */
	void (*on_finding)(enum fs_verdict v, const char *what, void *ctx);
};

struct fs_stats {
	unsigned long steps;		/* every step of every thread */
	unsigned long decisions;	/* steps with more than one runnable */
	unsigned long switches;		/* context switches */
	unsigned long bytes_used;	/* schedule bytes consumed */
	unsigned long prng_used;	/* decisions past the end of the bytes */
	unsigned long preemptions;	/* switches away from a runnable thread */
	size_t ndecisions;		/* logged in cfg->decisions */
	unsigned long plain_steps;	/* plain accesses of shared memory */
	unsigned long plain_decisions;	/* ... that were decision points */
	unsigned long flushes;		/* buffered stores made visible */
	unsigned long flush_decisions;	/* weak memory: when to flush, and
					 * (arm) which value a load reads */
	unsigned long stale_loads;	/* arm: loads satisfied early */
};

/* The running (or last) run's counts so far. */
void fs_stats_now(struct fs_stats *st);
/* Create the coroutines (once per process); 0 or -1. */
int fs_setup(void);
/* Run the threads to completion; FS_OK, or a finding's verdict if
 * cfg->on_finding returns (it should not). */
enum fs_verdict fs_run(const struct fs_config *cfg, struct fs_stats *st);
/* The logical thread running now, or -1 (main: setup, checker). */
int fs_current(void);
/* Stop scheduling for good (a finding is being reported). */
void fs_freeze(void);
/* Whether this build's scheduled core has its plain loads and stores as
 * steps (clang's -fsanitize-coverage=trace-loads,trace-stores). */
bool fs_plain_steps(void);
/* The last data race (FS_DATA_RACE): both accesses, where each was, the
 * racing thread's call stack and each thread's last steps. */
void fs_race_print(FILE *out);
/* Its address. */
const volatile void *fs_race_addr(void);
struct folio;
/* The folio whose descriptor holds @a, or NULL (the diagram's focus). */
const struct folio *fs_addr_folio(const volatile void *a);
/* The reads-from counters (libFuzzer's extra counters section). */
extern uint8_t fs_rf_counters[FS_RF_COUNTERS];
/* Whether FT_SCHED_RF allows reads-from feedback (default on). */
bool fs_rf_default(void);

/* trace.c: name an object of the world for the diagram (@elem: the size
 * of its elements, printed as name[i]; 0: name+offset). */
void fs_name_object(const void *p, size_t len, size_t elem, const char *name);
/* A step kind's name ("load", "cas", "lock", ...), or NULL. */
const char *fs_kind_name(unsigned int kind);
/* The name the diagram gives address @a (folio@68._refcount, mm1.pmd_lock). */
void fs_name_addr(const volatile void *a, char *buf, size_t n);
/* What logical thread @tid is doing now, in words (for a finding's report:
 * "blocked on file0.i_pages_lock, held by thread 2"), and its last step. */
void fs_thread_state(unsigned int tid, char *buf, size_t n);
void fs_names_clear(void);
/* trace.c: a 64-bit hash of the trace, stable across processes and builds
 * (addresses in the world's memory become offsets, host pointers vanish). */
uint64_t fs_trace_hash(const struct fs_trace *t);
void fs_trace_free(struct fs_trace *t);
struct folio;
/*
 * The race diagram: one column per thread (CPU0 | CPU1 ...), rows in
 * execution order; @focus (may be NULL: the last steps) selects the steps
 * that touched that folio (its descriptor, its memmap words, its pages in
 * an entry, a pointer to it); @full prints every step.
 */
void fs_trace_diagram(const struct fs_trace *t, unsigned int nthreads,
		      const struct folio *focus, bool full, FILE *out);

#endif /* FT_SCHED_H */
