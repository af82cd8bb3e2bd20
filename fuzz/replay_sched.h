/* SPDX-License-Identifier: MIT */
/*
 * replay_sched.h - folio-replay's side for fuzz_sched inputs (see
 * replay_sched.c): run with the trace and the race diagram, repeat to
 * prove determinism, minimise a finding.
 */
#ifndef FT_REPLAY_SCHED_H
#define FT_REPLAY_SCHED_H

#include "sched_prog.h"

struct replay_sched_opts {
	int quiet;		/* no listing: the verdict only */
	int full;		/* the diagram shows every step */
	unsigned int repeat;	/* run it this many times, same trace each */
	int windows;		/* print the race windows the run hit */
	void (*on_fatal)(void *ctx);	/* a finding ends the process */
	void *ctx;
};

/* The program the next call runs (folio-replay loads it here). */
struct sched_prog *replay_sched_prog(void);
/* 0 passed, 1 a finding (printed); a finding during the run ends the
 * process after o->on_fatal. */
int replay_sched_run(const char *path, const struct replay_sched_opts *o);
/* 0 and the minimised program in @out, or 1 (nothing to minimise). */
/* @p's run with every decision explicit (bytes mode, no anchors): 0, or
 * -1 if it crashed or its frozen form ends otherwise. */
int replay_sched_freeze(const struct sched_prog *p, struct sched_prog *out);
int replay_sched_minimize(const char *path, const struct replay_sched_opts *o,
			  struct sched_prog *out);

#endif /* FT_REPLAY_SCHED_H */
