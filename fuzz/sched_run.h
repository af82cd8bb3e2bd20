/* SPDX-License-Identifier: MIT */
/*
 * sched_run.h - run one fuzz_sched input: a fresh world, the threads'
 * programs under the deterministic scheduler, then the oracles:
 *   - during the run: the core's debug assertions (VM_BUG_ON), ASan and
 *     UBSan, a deadlock (every thread blocked), a livelock (the step
 *     bound), a lock still held by a finished thread;
 *   - after it (all threads done): the quiescent checker with every
 *     thread's handles declared as held references and pins; then every
 *     handle is released, the files truncated, the world torn down, and a
 *     leaked page or descriptor is a finding.
 * A finding during the run cannot unwind the coroutines: it is reported
 * (the rule, the program, the race diagram) and ends the process, with
 * abort() when fuzzing (the engine saves the input) or exit(1).
 */
#ifndef FT_SCHED_RUN_H
#define FT_SCHED_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "folio/debug.h"
#include "folio/window.h"
#include "sched/sched.h"
#include "sched_prog.h"

struct sched_run_opts {
	FILE *report;		/* the finding's report; NULL = quiet */
	bool trace;		/* record every step: the diagram, the hash */
	bool full;		/* the diagram shows every step */
	bool rf;		/* reads-from feedback */
	bool abort_on_finding;	/* fuzzing: abort(), else exit(1) */
	unsigned long step_bound;	/* 0: the default */
	uint8_t *decisions;		/* log every decision (fs_config) */
	size_t decisions_cap;
	/* folio-replay --explore: makes every decision (fs_config.decide) */
	unsigned int (*decide)(const struct fs_decision *d, void *ctx);
	/* ... and, with it, sees every step and race point (folio-replay
	 * --anchor); without @decide an anchored program's own engine runs */
	void (*on_step)(unsigned int tid, const struct folio_site *s,
			bool taken, void *ctx);
	void (*on_race_point)(enum folio_race_point rp, void *arg);
	/* replay: called just before a finding ends the process */
	void (*on_fatal)(void *ctx);
	void *ctx;
};

struct sched_result {
	int finding;			/* 0 passed, 1 a finding */
	char rule[48];
	char detail[640];
	struct fs_stats st;
	uint64_t trace_hash;		/* with opts->trace */
	long results[SCHED_MAX_THREADS][SCHED_MAX_OPS];
	unsigned int done[SCHED_MAX_THREADS];	/* ops each thread finished */
	unsigned long windows[FW_NR];	/* race windows hit (folio/window.h) */
	unsigned int anchors_reached;	/* anchored: directives that ended */
};

#define SCHED_STEP_BOUND 200000ul

/* 0 passed, 1 a finding after the run (in-run findings do not return),
 * -1 the world could not be set up. */
int sched_run(const struct sched_prog *p, const struct sched_run_opts *o,
	      struct sched_result *r);
/* The run's trace, when opts->trace was set (valid until the next run). */
const struct fs_trace *sched_run_trace(void);

/*
 * FT_SCHED_MM: the memory model every input runs under (-1: unset, each
 * input's own).  A value that names none is a usage error: a message and
 * exit 2.
 */
int sched_mm_from_env(void);

#endif /* FT_SCHED_RUN_H */
