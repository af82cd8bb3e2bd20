/* SPDX-License-Identifier: MIT */
/*
 * bench_util.c - the timed runner shared by the throughput benchmarks.
 *
 * A repetition: start nr_threads workers, each pinned to its own CPU when
 * the affinity mask allows it; they meet at a barrier, take their start
 * time and run their loop for @seconds by their own clock while the main
 * thread sleeps in pthread_join().  Each worker times itself, so thread
 * start-up and the wake-up skew at the barrier are not counted, and reads
 * how long it waited for a cpu meanwhile, so a repetition disturbed by
 * another task on the machine can be told apart.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/rcu.h"
#include "bench.h"

static volatile unsigned long bench_sink;

void bench_consume(unsigned long sink)
{
	bench_sink += sink;
}

int bench_allowed_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

/* Pin the caller to the @n-th CPU of the process's mask (best effort). */
static void bench_pin(unsigned int n)
{
	cpu_set_t allowed, one;
	int count, cpu, seen = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	count = CPU_COUNT(&allowed);
	if (count < 2)
		return;
	n %= (unsigned int)count;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		if (seen++ == (int)n)
			break;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
}

/*
 * Nanoseconds the calling thread has spent runnable but waiting for a cpu
 * (/proc/thread-self/schedstat, second field): time another task took.
 * Voluntary sleeps (a contended mutex) do not count.  -1 if unknown.
 */
static double bench_run_delay_ns(void)
{
	unsigned long long run, delay;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &run, &delay);
	fclose(f);
	return n == 2 ? (double)delay : -1;
}

bool bench_have_run_delay(void)
{
	return bench_run_delay_ns() >= 0;
}

static void *bench_worker_main(void *p)
{
	struct bench_worker *w = p;
	struct bench_job *job = w->job;
	double t0, d0, d1;

	bench_pin(w->id);
	if (job->model)
		folio_thread_online();
	pthread_barrier_wait(&job->start);
	d0 = bench_run_delay_ns();
	t0 = bench_now_ns();
	w->deadline = t0 + job->seconds * 1e9;
	job->loop(w);
	w->ns = bench_now_ns() - t0;
	d1 = bench_run_delay_ns();
	w->waited_ns = d0 >= 0 && d1 >= 0 ? d1 - d0 : 0;
	if (job->model)
		folio_thread_offline();
	return NULL;
}

int bench_run_once(struct bench_job *job, struct bench_result *res)
{
	pthread_t tids[BENCH_MAX_THREADS];
	unsigned int i, started;
	int err = 0;

	if (job->nr_threads < 1 || job->nr_threads > BENCH_MAX_THREADS)
		return -1;
	pthread_barrier_init(&job->start, NULL, job->nr_threads);
	for (started = 0; started < job->nr_threads; started++) {
		struct bench_worker *w = &job->workers[started];

		memset(w, 0, sizeof(*w));
		w->job = job;
		w->id = started;
		w->arg = job->args[started];
		if (pthread_create(&tids[started], NULL, bench_worker_main,
				   w)) {
			/* the barrier cannot be released short-handed */
			fprintf(stderr, "bench: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&job->start);

	res->ns_per_op = 0;
	res->ops_per_s = 0;
	res->clean = true;
	for (i = 0; i < job->nr_threads; i++) {
		struct bench_worker *w = &job->workers[i];

		bench_consume(w->sink);
		if (w->waited_ns > BENCH_CLEAN_WAIT * w->ns)
			res->clean = false;
		if (!w->ops || w->ns <= 0) {
			err = -1;
			continue;
		}
		res->ns_per_op += w->ns / (double)w->ops / job->nr_threads;
		res->ops_per_s += (double)w->ops * 1e9 / w->ns;
	}
	return err;
}

/* Fold @r into @best: clean runs beat disturbed ones, then speed does. */
void bench_keep_best(struct bench_result *best, const struct bench_result *r)
{
	bool first = !best->reps++;

	if (r->clean)
		best->clean_reps++;
	if (!r->clean && best->clean)
		return;
	if (r->clean && !best->clean)
		first = true;	/* drop what disturbed runs gave */
	if (first || r->ns_per_op < best->ns_per_op)
		best->ns_per_op = r->ns_per_op;
	if (first || r->ops_per_s > best->ops_per_s)
		best->ops_per_s = r->ops_per_s;
	best->clean = r->clean;
}

int bench_run_pair(struct bench_job *a, struct bench_job *b,
		   const struct bench_opts *o, struct bench_result *best_a,
		   struct bench_result *best_b)
{
	struct bench_result r;

	*best_a = (struct bench_result){ 0 };
	*best_b = (struct bench_result){ 0 };
	for (unsigned int n = 0; n < 3 * o->reps; n++) {
		if (best_a->clean_reps >= o->reps &&
		    best_b->clean_reps >= o->reps)
			break;
		if (bench_run_once(a, &r))
			return -1;
		bench_keep_best(best_a, &r);
		if (bench_run_once(b, &r))
			return -1;
		bench_keep_best(best_b, &r);
	}
	return 0;
}
