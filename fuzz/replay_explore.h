/* SPDX-License-Identifier: MIT */
/*
 * replay_explore.h - folio-replay --explore: bounded exhaustive search of
 * a fuzz_sched program's schedules (replay_explore.c).
 */
#ifndef FT_REPLAY_EXPLORE_H
#define FT_REPLAY_EXPLORE_H

#include "sched_prog.h"

struct explore_opts {
	unsigned int preemptions;	/* K: at most this many per schedule */
	unsigned long max_runs;		/* 0: no limit */
	const char *out;		/* where a finding's schedule goes */
};

/*
 * Run every schedule of @p (its own schedule bytes ignored; its memory
 * model kept) with at most o->preemptions preemptions, up to sleep-set
 * equivalence.  0: no finding (the space was covered); 1: a finding,
 * written to o->out; 2: an error; 3: --max-runs reached; 128+N: signal N.
 * A finding inside a run ends the process after writing o->out.
 */
int replay_explore(const struct sched_prog *p, const struct explore_opts *o);

#endif /* FT_REPLAY_EXPLORE_H */
