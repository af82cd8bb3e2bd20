/* SPDX-License-Identifier: MIT */
/*
 * bench.h - shared pieces of folio_bench: options, a timed multi-thread
 * runner and the output helpers.  See folio_bench.c for how to run it.
 */
#ifndef FOLIO_BENCH_H
#define FOLIO_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define BENCH_CACHELINE 64
/* Two lines apart: keeps the adjacent-line prefetcher out of the way. */
#define BENCH_SEPARATION (2 * BENCH_CACHELINE)
#define BENCH_MAX_THREADS 2
/* Workers check the clock once per batch of operations. */
#define BENCH_BATCH 1024
/* A repetition is clean if no worker waited for a cpu this long (share). */
#define BENCH_CLEAN_WAIT 0.01

struct bench_opts {
	bool quick;
	const char *only;	/* NULL: every benchmark */
	double seconds;		/* timed length of one repetition */
	unsigned int reps;	/* best of this many clean repetitions */
	unsigned long mem_pages;	/* world size, memory benchmark */
	int nr_cpus;		/* CPUs this process may run on */
	bool judge;		/* full release run: check the targets */
};

struct bench_job;

/* One worker's slot; aligned so workers never share a line. */
struct bench_worker {
	struct bench_job *job;
	void *arg;		/* per-thread argument for the loop */
	unsigned int id;
	unsigned long ops;	/* operations completed (set by the loop) */
	unsigned long sink;	/* folded results, so nothing is dead code */
	double deadline;	/* bench_now_ns() at which the loop stops */
	double ns;		/* this worker's timed interval */
	double waited_ns;	/* runnable but off the cpu meanwhile */
} __attribute__((aligned(BENCH_SEPARATION)));

struct bench_job {
	unsigned int nr_threads;
	double seconds;
	bool model;		/* workers touch the model: register them */
	void (*loop)(struct bench_worker *w);
	void *args[BENCH_MAX_THREADS];
	pthread_barrier_t start;
	struct bench_worker workers[BENCH_MAX_THREADS];
};

struct bench_result {
	double ns_per_op;	/* mean over workers of its ns per operation */
	double ops_per_s;	/* sum over workers of its ops per second */
	bool clean;		/* no worker was kept off its cpu */
	unsigned int clean_reps, reps;	/* bench_run_pair: clean / all */
};

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Loop condition, checked once per BENCH_BATCH operations: each worker
 * stops on its own clock, so no other thread has to wake up (and preempt
 * a worker on a 2-cpu machine) to stop it.
 */
static inline bool bench_running(const struct bench_worker *w)
{
	return bench_now_ns() < w->deadline;
}

/* Run @job once.  Returns 0, or -1 if a worker completed no batch. */
int bench_run_once(struct bench_job *job, struct bench_result *res);
/*
 * Run @a and @b alternately, so that drift in the machine's speed hits
 * both alike, until each has opts->reps clean repetitions (no worker kept
 * off its cpu by another task for over BENCH_CLEAN_WAIT of the run) or
 * 3 * opts->reps attempts were made.  Best of the clean repetitions (of
 * all, if none was clean): the lowest ns_per_op and the highest ops_per_s.
 * A disturbed repetition is not just slower: with one contender off the
 * cpu the other runs uncontended and looks faster, so it is never
 * preferred to a clean one.
 */
int bench_run_pair(struct bench_job *a, struct bench_job *b,
		   const struct bench_opts *o, struct bench_result *best_a,
		   struct bench_result *best_b);

/* Verdict on a target: met=yes/no, or n/a for quick or debug builds. */
static inline const char *bench_met(const struct bench_opts *o, bool ok)
{
	return !o->judge ? "n/a" : ok ? "yes" : "no";
}

int bench_allowed_cpus(void);
/* Can workers tell how long they waited for a cpu (schedstat)? */
bool bench_have_run_delay(void);
/* Keep @sink observable: the compiler cannot drop what produced it. */
void bench_consume(unsigned long sink);

int bench_ref(const struct bench_opts *o);
int bench_lookup(const struct bench_opts *o);
int bench_memory(const struct bench_opts *o);
int bench_gup(const struct bench_opts *o);
int bench_lazyfree(const struct bench_opts *o);
int bench_pmd(const struct bench_opts *o);
int bench_lock(const struct bench_opts *o);
int bench_window(const struct bench_opts *o);

/* Fold @r into @best: clean runs beat disturbed ones, then speed does. */
void bench_keep_best(struct bench_result *best, const struct bench_result *r);

#endif /* FOLIO_BENCH_H */
