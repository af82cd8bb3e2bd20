/* SPDX-License-Identifier: MIT */
/*
 * sched_anchor.h - anchored schedules: a fuzz_sched schedule written as
 * switches at named points of the code rather than as counts of decisions,
 * so that it keeps its meaning when an unrelated edit adds or removes a
 * step on the path (docs/design.md 8.5; README, "Anchored schedules").
 *
 * A schedule is a list of directives, one per text line, run in order:
 *
 *   run T until before [Nth] [KIND] in FUNC
 *   run T until after  [Nth] [KIND] in FUNC
 *   run T until [Nth] RP_NAME
 *   run T until blocked
 *   run T until done
 *
 * T is a program thread (0..3) or "rcu" (the RCU callback thread).  While
 * a directive is current, every scheduling decision picks T if T can run;
 * if it cannot (blocked, done), or spins (its last step was a yield: a
 * retry loop waiting for another thread), the decision carries on as a
 * schedule byte 0 would (the running thread, else the next in thread
 * order).  The directive ends:
 *   before  when T reaches its Nth step (default 1st) of kind KIND (any
 *           kind if omitted: load, store, rmw, xchg, cas, fence, lock,
 *           trylock, unlock, wait, wake, yield, rcu_read_lock, ...) in
 *           function FUNC, counted from the directive's start: T stops
 *           there, the step not taken, and the next directive decides;
 *   after   when T takes that step: the next directive decides at T's
 *           following scheduling point;
 *   RP_NAME when T passes race point RP_NAME for the Nth time
 *           (core/include/folio/debug.h), which sits between two steps;
 *   blocked when T has stopped: at the first decision at which T cannot
 *           run (blocked or done), or when another thread takes a step
 *           that no decision chose (T stopped and it alone could run);
 *   done    the same, once T has finished its ops (not for rcu).
 * After the last directive every decision carries on (byte 0).  Weak
 * memory decisions keep stores buffered (option 0) until a rule flushes
 * them: anchors say where threads switch, not when stores drain.
 *
 * Functions, kinds, race points and occurrences are what anchors name:
 * an edit elsewhere on the path (a step added in another function) moves
 * none of them, where it moves every later count of a raw schedule.
 *
 * Anchored programs have no binary form: --to-binary freezes one (runs it
 * and writes its decisions as schedule bytes).
 */
#ifndef FT_SCHED_ANCHOR_H
#define FT_SCHED_ANCHOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/debug.h"
#include "prog.h"

#define SCHED_MAX_ANCHORS 256
#define ANCHOR_FUNC_MAX 48
#define ANCHOR_ANY_KIND 0xff
#define ANCHOR_RCU 0xff		/* tid: the RCU callback thread */

enum anchor_until {
	AU_BEFORE,	/* T reaches a step */
	AU_AFTER,	/* T takes a step */
	AU_POINT,	/* T passes a race point */
	AU_BLOCKED,	/* T cannot run */
	AU_DONE,	/* T has finished its ops */
};

struct sched_anchor {
	uint8_t tid;		/* 0..3, ANCHOR_RCU */
	uint8_t until;		/* enum anchor_until */
	uint8_t kind;		/* enum folio_step_kind, ANCHOR_ANY_KIND */
	uint8_t rp;		/* enum folio_race_point (AU_POINT) */
	uint16_t nth;		/* 1.. */
	char func[ANCHOR_FUNC_MAX];
};

struct sched_prog;
struct prog_text_line;
struct prog_text_error;

/* Parse the rest of a "run" line into the program's next directive:
 * 0, or -1 with @err filled. */
int sched_anchor_parse(struct sched_prog *p, struct prog_text_line *l,
		       struct prog_text_error *err);
/* One directive as its text line (no newline). */
void sched_anchor_print(const struct sched_anchor *a, FILE *out);

/*
 * The engine, for sched_run: begin a run of @p (anchored: p->nanchors >
 * 0); @done points at each thread's count of finished ops.
 */
struct fs_decision;
struct folio_site;
void anchor_begin(const struct sched_prog *p, const unsigned int *done);
unsigned int anchor_decide(const struct fs_decision *d, void *ctx);
void anchor_on_step(unsigned int tid, const struct folio_site *s, bool taken,
		    void *ctx);
/* The core's race point hook (folio_race_hook) while an anchored run runs. */
void anchor_on_race_point(enum folio_race_point rp, void *arg);
/* Directives that ended in the last run (all of them: every anchor was
 * met, or the last one ran to the end). */
unsigned int anchor_reached(void);

#endif /* FT_SCHED_ANCHOR_H */
