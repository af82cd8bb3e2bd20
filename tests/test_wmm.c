/* SPDX-License-Identifier: MIT */
/*
 * test_wmm.c - the weak memory models of the scheduler (sched/wmm.h) on
 * the classic litmus tests, each run under every schedule of up to
 * NBYTES decision bytes (values 0..2): the set of outcomes each model
 * allows must be exactly the architecture's.
 *
 *   SB  (store buffering)  x=1; r0=y  ||  y=1; r1=x      r0=r1=0?
 *       sc: never; tso, pso, arm: yes; with a fence in each: never
 *   MP  (message passing)  d=1; f=1   ||  r0=f; r1=d     r0=1, r1=0?
 *       sc, tso: never; pso, arm: yes (the stores pass each other);
 *       with f a release: pso never, arm yes (the loads pass each other);
 *       release and an acquire load of f: never anywhere
 *   CoRR (coherence)       x=1; x=2   ||  r0=x; r1=x     r0=2, r1=1?
 *       never in any model
 * Plus: a thread reads its own buffered store (forwarding); a buffered
 * store is visible to others after the thread's fence.
 */
#include <stdlib.h>
#include <string.h>

#include "folio/atomic.h"
#include "ft_test.h"
#include "sched/sched.h"

#ifndef FOLIO_SCHED
#error "test_wmm runs on the scheduled core: link opvm_sched"
#endif

#define NBYTES 9

static _Atomic int x, y;
static int r0, r1;
static int fence_sb, rel_mp, acq_mp;

static void sb(unsigned int tid, void *ctx)
{
	(void)ctx;
	if (tid == 0) {
		fa_store_relaxed(&x, 1);
		if (fence_sb)
			fa_fence_full();
		r0 = fa_load_relaxed(&y);
	} else {
		fa_store_relaxed(&y, 1);
		if (fence_sb)
			fa_fence_full();
		r1 = fa_load_relaxed(&x);
	}
}

/* x is the data, y the flag */
static void mp(unsigned int tid, void *ctx)
{
	(void)ctx;
	if (tid == 0) {
		fa_store_relaxed(&x, 1);
		if (rel_mp)
			fa_store_release(&y, 1);
		else
			fa_store_relaxed(&y, 1);
	} else {
		r0 = acq_mp ? fa_load_acquire(&y) : fa_load_relaxed(&y);
		r1 = fa_load_relaxed(&x);
	}
}

static void corr(unsigned int tid, void *ctx)
{
	(void)ctx;
	if (tid == 0) {
		fa_store_relaxed(&x, 1);
		fa_store_relaxed(&x, 2);
	} else {
		r0 = fa_load_relaxed(&x);
		r1 = fa_load_relaxed(&x);
	}
}

/* Thread 0 reads back its own buffered store; thread 1 must not see it
 * before thread 0's fence (r1 is what thread 1 read, -1: not yet run). */
static int own, seen_before_fence;
static void fwd(unsigned int tid, void *ctx)
{
	(void)ctx;
	if (tid == 0) {
		fa_store_relaxed(&x, 7);
		own = fa_load_relaxed(&x);
		fa_fence_full();
		fa_store_relaxed(&y, 1);
		fa_fence_full();
	} else {
		int f = fa_load_relaxed(&y);

		if (f && fa_load_relaxed(&x) != 7)
			seen_before_fence = 1;
	}
}

static void fatal(enum fs_verdict v, const char *what, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "unexpected finding %d: %s\n", v, what);
	exit(1);
}

/*
 * Run @body under model @mm with every schedule of NBYTES bytes in 0..2
 * (and the PRNG past them); return whether outcome (w0, w1) was seen.
 */
static bool reachable(void (*body)(unsigned int, void *), enum fs_mm mm,
		      int w0, int w1, unsigned long *runs)
{
	uint8_t b[NBYTES];
	unsigned long total = 1;

	for (int i = 0; i < NBYTES; i++)
		total *= 3;
	for (unsigned long k = 0; k < total; k++) {
		struct fs_config c = { .nthreads = 2, .body = body,
				       .sched = b, .sched_len = NBYTES,
				       .mm = mm, .step_bound = 1000,
				       .on_finding = fatal, .seed = k + 1 };
		unsigned long v = k;

		for (int i = 0; i < NBYTES; i++, v /= 3)
			b[i] = (uint8_t)(v % 3);
		atomic_store(&x, 0);
		atomic_store(&y, 0);
		r0 = r1 = -1;
		if (fs_run(&c, NULL) != FS_OK)
			exit(1);
		(*runs)++;
		if (r0 == w0 && r1 == w1)
			return true;
	}
	return false;
}

static void expect(const char *name, void (*body)(unsigned int, void *),
		   int w0, int w1, const bool allowed[FS_MM_NR])
{
	for (int m = 0; m < FS_MM_NR; m++) {
		unsigned long runs = 0;
		bool got = reachable(body, (enum fs_mm)m, w0, w1, &runs);

		printf("  %-28s %-4s (%d,%d) %s after %lu runs\n", name,
		       wmm_name((enum fs_mm)m), w0, w1,
		       got ? "reached" : "never", runs);
		CHECK(got == allowed[m]);
	}
}

static void test_store_buffering(void)
{
	fence_sb = 0;
	expect("SB", sb, 0, 0, (bool[]){ false, true, true, true });
	fence_sb = 1;
	expect("SB+fences", sb, 0, 0, (bool[]){ false, false, false, false });
}

static void test_message_passing(void)
{
	rel_mp = acq_mp = 0;
	expect("MP", mp, 1, 0, (bool[]){ false, false, true, true });
	rel_mp = 1;
	expect("MP+release", mp, 1, 0, (bool[]){ false, false, false, true });
	acq_mp = 1;
	expect("MP+release+acquire", mp, 1, 0,
	       (bool[]){ false, false, false, false });
	rel_mp = acq_mp = 0;
}

static void test_coherence(void)
{
	expect("CoRR", corr, 2, 1, (bool[]){ false, false, false, false });
}

static void test_forwarding(void)
{
	for (int m = 1; m < FS_MM_NR; m++) {
		uint8_t b[NBYTES];

		for (unsigned long k = 0; k < 3 * 3 * 3 * 3 * 3 * 3; k++) {
			struct fs_config c = { .nthreads = 2, .body = fwd,
					       .sched = b, .sched_len = 6,
					       .mm = (enum fs_mm)m,
					       .step_bound = 1000,
					       .on_finding = fatal };
			unsigned long v = k;

			for (int i = 0; i < 6; i++, v /= 3)
				b[i] = (uint8_t)(v % 3);
			atomic_store(&x, 0);
			atomic_store(&y, 0);
			own = 0;
			seen_before_fence = 0;
			CHECK_EQ(fs_run(&c, NULL), FS_OK);
			CHECK_EQ(own, 7);
			CHECK_EQ(seen_before_fence, 0);
		}
	}
}

int main(void)
{
	if (fs_setup()) {
		fprintf(stderr, "test_wmm: cannot set up the scheduler\n");
		return 1;
	}
	FT_RUN(test_store_buffering);
	FT_RUN(test_message_passing);
	FT_RUN(test_coherence);
	FT_RUN(test_forwarding);
	return ft_done();
}
