/* SPDX-License-Identifier: MIT */
/*
 * replay_explore.c - folio-replay --explore: every schedule of a fuzz_sched
 * program with at most K preemptions (CHESS's bound), each run once up to
 * sleep-set equivalence, by stateless depth-first search: each schedule is
 * a fresh run from the start (sched_run), the scheduler asking us at every
 * decision (fs_config.decide) instead of reading bytes.
 *
 *   - a preemption: at a pick where the running thread could go on, another
 *     one runs (a switch at a block or a thread's end is free); under a
 *     weak memory model, making a buffered store visible early or giving
 *     a load an earlier value costs one too (the default, option 0, keeps
 *     stores buffered as long as the rules allow, and loads current);
 *   - after a run, the deepest decision with an option not yet tried that
 *     the budget allows is the next branch; the options before it at that
 *     node are "asleep" in the new run (Godefroid's sleep sets): a thread
 *     asleep is not tried at the decisions below until an executed step
 *     conflicts with its next access (same 8-byte granule, one writes; a
 *     step without an address, RCU or a fence, conflicts with all): the
 *     schedules it would start are reorderings of independent steps of
 *     ones already run.  Sleep sets are sound with no bound; with the
 *     preemption bound a pruned schedule's equivalent may need more
 *     preemptions than K (as in CHESS): "no finding within K" is said of
 *     the reduced space;
 *   - a finding ends the search: the run's decisions are written as a
 *     replayable input (bytes mode, the model kept) before the process
 *     ends, also when the finding ends it from inside the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interrupt.h"
#include "replay_explore.h"
#include "sched_run.h"

#define EX_NODES 16384
#define EX_OPTS 64		/* options tried per decision (weak memory
				 * decisions may offer more) */

struct ex_node {
	unsigned char kind, n, chosen, cost;	/* cost: budget used before */
	bool preemptive;
	unsigned char sleep;			/* threads asleep here */
	unsigned char tid[FS_NR_THREADS];
	uint64_t done;				/* options run from here */
	uint64_t idle;				/* flushes nobody can see yet */
	uintptr_t pend_g[FS_NR_THREADS];
	bool pend_w[FS_NR_THREADS];
};

static struct {
	const struct sched_prog *p;
	const struct explore_opts *o;
	struct ex_node node[EX_NODES];
	unsigned int nnodes;		/* nodes fixed from earlier runs */
	int branch;			/* the node whose choice is new, -1 */
	/* this run */
	unsigned int depth;
	unsigned char sleep;
	uintptr_t sleep_g[FS_NR_THREADS];
	bool sleep_w[FS_NR_THREADS];
	unsigned int cost;
	size_t seen;			/* trace events looked at */
	bool overflow;			/* more decisions than EX_NODES */
	bool diverged;			/* a replayed prefix took other steps */
	/* counts */
	unsigned long runs, pruned;
	uint64_t *hashes;
	size_t nhash, hcap;
	uint8_t dec[1u << 16];
} X;

static unsigned int option_cost(const struct ex_node *nd, unsigned int j)
{
	if (!j)
		return 0;
	return nd->kind == FS_D_PICK ? nd->preemptive : 1;
}

static bool writes(const struct fs_event *e)
{
	if (e->what & FS_EV_FLUSH)
		return true;
	if (e->site)
		return e->site->kind != FS_LOAD;
	return e->what & FS_WROTE;
}

/* The steps run since the last decision wake the sleepers they touch. */
static void wake(void)
{
	const struct fs_trace *tr = sched_run_trace();

	for (; X.seen < tr->n && X.sleep; X.seen++) {
		const struct fs_event *e = &tr->ev[X.seen];
		uintptr_t g = (uintptr_t)e->addr & ~(uintptr_t)7;

		for (unsigned int t = 0; t < FS_NR_THREADS; t++)
			if ((X.sleep & (1u << t)) &&
			    (!e->addr || !X.sleep_g[t] ||
			     (g == X.sleep_g[t] && (X.sleep_w[t] || writes(e)))))
				X.sleep &= (unsigned char)~(1u << t);
	}
	X.seen = tr->n;
}

static void put_to_sleep(const struct ex_node *nd, unsigned int t)
{
	X.sleep |= (unsigned char)(1u << t);
	X.sleep_g[t] = nd->pend_g[t];
	X.sleep_w[t] = nd->pend_w[t];
}

static unsigned int decide(const struct fs_decision *d, void *ctx)
{
	unsigned int i = X.depth++, c;
	struct ex_node *nd;

	(void)ctx;
	if (i >= EX_NODES) {
		X.overflow = true;
		return 0;
	}
	nd = &X.node[i];
	if ((int)i < X.branch) {	/* the prefix: as before */
		if (nd->n != (d->n > 255 ? 255 : d->n) || nd->kind != d->kind)
			X.diverged = true;
		return nd->chosen;
	}
	if ((int)i == X.branch) {	/* the new choice; its siblings sleep */
		X.sleep = 0;
		for (unsigned int t = 0; t < FS_NR_THREADS; t++)
			if (nd->sleep & (1u << t))
				put_to_sleep(nd, t);
		if (nd->kind == FS_D_PICK)
			for (unsigned int j = 0; j < nd->n && j < EX_OPTS; j++)
				if (nd->done & (1ull << j))
					put_to_sleep(nd, nd->tid[j]);
		X.seen = sched_run_trace()->n;
		X.cost = nd->cost + option_cost(nd, nd->chosen);
		c = nd->chosen;
	} else {			/* a new node: the default, option 0 */
		wake();
		/* field by field, no memset/memcpy: TSan intercepts those
		 * even in this uninstrumented file (fibers share X) */
		nd->kind = (unsigned char)d->kind;
		nd->n = (unsigned char)(d->n > 255 ? 255 : d->n);
		nd->preemptive = d->preemptive;
		nd->done = 0;
		nd->idle = 0;
		for (unsigned int t = 0; t < FS_NR_THREADS; t++) {
			nd->tid[t] = d->tid[t];
			nd->pend_g[t] = d->pend_g[t];
			nd->pend_w[t] = d->pend_w[t];
		}
		/*
		 * A flush no other thread's next access touches commutes with
		 * the next step: making the store visible at the next decision
		 * instead (where it is an option again, at the same cost) gives
		 * the same run.  Those options are not tried here.
		 */
		for (unsigned int j = 1; d->kind == FS_D_FLUSH && j < d->n &&
		     j < EX_OPTS && j < FS_D_OPTS; j++) {
			bool seen = false;

			for (unsigned int t = 0; t < FS_NR_THREADS && !seen; t++)
				seen = (d->runnable & (1u << t)) &&
				       t != d->opt_tid[j] &&
				       (!d->pend_g[t] || d->pend_g[t] == d->opt_g[j]);
			if (!seen)
				nd->idle |= 1ull << j;
		}
		nd->sleep = X.sleep;
		nd->cost = (unsigned char)(X.cost > 255 ? 255 : X.cost);
		nd->chosen = 0;
		c = 0;
	}
	if (nd->kind == FS_D_PICK)	/* it runs: awake (a redundant path) */
		X.sleep &= (unsigned char)~(1u << nd->tid[c]);
	return c;
}

/* The next branch: the deepest node with an untried option in budget. */
static bool backtrack(void)
{
	for (int i = (int)X.nnodes - 1; i >= 0; i--) {
		struct ex_node *nd = &X.node[i];
		unsigned char asleep = nd->sleep;

		nd->done |= 1ull << nd->chosen;
		if (nd->kind == FS_D_PICK)
			for (unsigned int j = 0; j < nd->n && j < EX_OPTS; j++)
				if (nd->done & (1ull << j))
					asleep |= (unsigned char)(1u << nd->tid[j]);
		for (unsigned int j = 0; j < nd->n && j < EX_OPTS; j++) {
			if (nd->done & (1ull << j))
				continue;
			if (nd->cost + option_cost(nd, j) > X.o->preemptions)
				continue;
			if (nd->idle & (1ull << j)) {
				X.pruned++;
				nd->done |= 1ull << j;
				continue;
			}
			if (nd->kind == FS_D_PICK &&
			    (asleep & (1u << nd->tid[j]))) {
				X.pruned++;
				nd->done |= 1ull << j;
				continue;
			}
			nd->chosen = (unsigned char)j;
			X.branch = i;
			X.nnodes = (unsigned int)i + 1;
			return true;
		}
	}
	return false;
}

/* Distinct traces: an open-addressing set of their hashes. */
static void count_trace(uint64_t h)
{
	size_t i;

	if (X.nhash * 2 >= X.hcap) {
		size_t cap = X.hcap ? 2 * X.hcap : 4096;
		uint64_t *n = calloc(cap, sizeof(*n));

		if (!n)
			return;		/* the distinct count stops growing */
		for (size_t k = 0; k < X.hcap; k++) {
			if (!X.hashes[k])
				continue;
			for (i = X.hashes[k] & (cap - 1); n[i];
			     i = (i + 1) & (cap - 1))
				;
			n[i] = X.hashes[k];
		}
		free(X.hashes);
		X.hashes = n;
		X.hcap = cap;
	}
	h |= 1;		/* 0 marks an empty slot */
	for (i = h & (X.hcap - 1); X.hashes[i]; i = (i + 1) & (X.hcap - 1))
		if (X.hashes[i] == h)
			return;
	X.hashes[i] = h;
	X.nhash++;
}

/* The run so far as a replayable input: its decisions as bytes. */
static void write_finding(void)
{
	static struct sched_prog q;
	struct fs_stats st;
	char tmp[4200];
	FILE *f;

	fs_stats_now(&st);
	q = *X.p;
	q.mode = SCHED_BYTES;
	q.pct_depth = 1;
	/* an anchored seed's run lines go: the bytes say it all (the
	 * parser refuses both in one input) */
	q.nanchors = 0;
	q.nsched = (unsigned int)(st.ndecisions < SCHED_MAX_BYTES ?
				  st.ndecisions : SCHED_MAX_BYTES);
	memcpy(q.sched, X.dec, q.nsched);
	snprintf(tmp, sizeof(tmp), "%s.tmp", X.o->out);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return;
	}
	fprintf(f, "# folio-replay --explore: the first finding, after %lu "
		"runs, at most %u preemptions%s%s\n", X.runs,
		X.o->preemptions, q.mm ? ", memory model " : "",
		q.mm ? wmm_name((enum fs_mm)q.mm) : "");
	sched_prog_print_text(&q, f);
	if (fclose(f) || rename(tmp, X.o->out))
		perror(X.o->out);
	else
		printf("explore: the finding's schedule: %s (folio-replay %s)\n",
		       X.o->out, X.o->out);
	fflush(stdout);
}

static void on_fatal(void *ctx)
{
	(void)ctx;
	write_finding();
}

/* ASan or UBSan ends the process: the schedule first. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));
static void on_death(void)
{
	printf("explore: a sanitizer ended run %lu\n", X.runs);
	write_finding();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int replay_explore(const struct sched_prog *p, const struct explore_opts *o)
{
	struct sched_run_opts so = { .report = stdout, .trace = true,
				     .decisions = X.dec,
				     .decisions_cap = sizeof(X.dec),
				     .on_fatal = on_fatal,
				     .decide = decide };
	static struct sched_prog q;
	struct sched_result r;
	double t0 = now_s(), last = t0;
	int rc;

	memset(&X, 0, sizeof(X) - sizeof(X.dec));
	X.p = p;
	X.o = o;
	X.branch = -1;
	q = *p;
	q.mode = SCHED_BYTES;	/* the explorer decides; PCT means nothing */
	q.nsched = 0;
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(on_death);
	printf("explore: at most %u preemptions, memory model %s, sleep sets\n",
	       o->preemptions, wmm_name((enum fs_mm)q.mm));
	for (;;) {
		X.depth = 0;
		X.sleep = 0;
		X.cost = 0;
		X.seen = 0;
		X.runs++;
		rc = sched_run(&q, &so, &r);
		if (rc < 0) {
			printf("explore: ERROR: the world could not be set up\n");
			return 2;
		}
		if (X.diverged) {
			printf("explore: ERROR: run %lu left the recorded prefix: "
			       "the program is not deterministic\n", X.runs);
			return 2;
		}
		count_trace(r.trace_hash);
		if (rc == 1) {
			printf("explore: FINDING after %lu runs (%.1f s): %s: %s\n",
			       X.runs, now_s() - t0, r.rule, r.detail);
			write_finding();
			return 1;
		}
		X.nnodes = X.depth < EX_NODES ? X.depth : EX_NODES;
		if (X.overflow) {
			printf("explore: a run made more than %d decisions: the "
			       "search covers the first %d only\n", EX_NODES,
			       EX_NODES);
			X.overflow = false;
		}
		if (ft_interrupted()) {
			printf("explore: INTERRUPTED after %lu runs, %zu distinct "
			       "traces, %.1f s: the search is incomplete\n",
			       X.runs, X.nhash, now_s() - t0);
			return 128 + ft_interrupted();
		}
		if (o->max_runs && X.runs >= o->max_runs) {
			printf("explore: stopped at --max-runs %lu: %zu distinct "
			       "traces, %.1f s: the search is incomplete\n",
			       X.runs, X.nhash, now_s() - t0);
			return 3;
		}
		if (now_s() - last >= 2.0) {
			last = now_s();
			fprintf(stderr, "explore: %lu runs, %zu distinct traces, "
				"%lu pruned by sleep sets, %.0f s\n", X.runs,
				X.nhash, X.pruned, last - t0);
		}
		if (!backtrack())
			break;
	}
	printf("explore: no finding within %u preemptions: %lu schedules run, "
	       "%zu distinct traces, %lu options pruned by sleep sets, %.1f s\n",
	       o->preemptions, X.runs, X.nhash, X.pruned, now_s() - t0);
	return 0;
}
