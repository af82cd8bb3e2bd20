/* SPDX-License-Identifier: MIT */
/*
 * replay_anchor.h - folio-replay --anchor (replay_anchor.c): a fuzz_sched
 * input's schedule, frozen and rewritten as anchors (sched_anchor.h).
 */
#ifndef FT_REPLAY_ANCHOR_H
#define FT_REPLAY_ANCHOR_H

#include <stdio.h>

#include "sched_prog.h"

/* 0 and the anchored program in @out (checked: it takes the same steps
 * as @in and ends the same way), or 1 with the reason on @msg. */
int replay_anchor(const struct sched_prog *in, struct sched_prog *out,
		  FILE *msg);

#endif /* FT_REPLAY_ANCHOR_H */
