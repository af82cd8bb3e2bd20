/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - the deterministic scheduler of fuzz_sched (sched/)
 * and its input format (fuzz/sched_prog.h), with no folio world: small
 * logical-thread bodies use the scheduled core's own wrappers (fa_*, fl_*,
 * the RCU model) on variables of their own, and log their events.
 *   decision rule     bytes mode: exact interleavings and counts
 *   determinism       same config, same run; frozen decisions replay
 *   locks             mutual exclusion, blocking, trylock
 *   findings          deadlock, livelock (in forked children:
 *                     on_finding must not return)
 *   yield             a spinner does not starve its waker under PCT
 *   RCU               grace periods, call_rcu, rcu_barrier
 *   conditions        broadcast wakes every waiter; none is lost
 *   input format      binary and text round trips, text errors
 * Run: build/<preset>/tests/test_sched
 */
#define _GNU_SOURCE	/* open_memstream */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "folio/atomic.h"
#include "folio/percpu.h"
#include "sanitizer.h"	/* FT_ASAN */
#include "folio/rcu.h"
#include "ft_test.h"
#include "sched/sched.h"
#include "sched_prog.h"

#ifndef FOLIO_SCHED
#error "test_sched runs on the scheduled core: link opvm_sched"
#endif

/* ---- an event log: one step per event, in execution order ---- */

#define LOG_MAX 256
static _Atomic unsigned int log_pos;
static char log_buf[LOG_MAX + 1];

/* Take the next slot (the RMW is the step) and fill it before any other
 * thread runs: switches happen only at steps. */
static void ev(char c)
{
	unsigned int i = fa_add_return_relaxed(&log_pos, 1) - 1;

	if (i < LOG_MAX)
		log_buf[i] = c;
}

/* Where @c first appears in the last run's log, or -1. */
static int at(char c)
{
	const char *p = strchr(log_buf, c);

	return p ? (int)(p - log_buf) : -1;
}

#define CHECK_LOG(want)                                                    \
	do {                                                               \
		CHECK(strcmp(log_buf, (want)) == 0);                       \
		if (strcmp(log_buf, (want)))                               \
			fprintf(stderr, "  log '%s', want '%s'\n",         \
				log_buf, (want));                          \
	} while (0)

/* An unexpected finding in this process: say so and fail the test. */
static void fatal_finding(enum fs_verdict v, const char *what, void *ctx)
{
	fprintf(stderr, "unexpected finding %d: %s (log '%s')\n", v, what,
		log_buf);
	fflush(NULL);
	_exit(1);
}

/* A run's config; run() and run_forked() fill in the step bound and the
 * finding handler if not given.  BYTES(a): the schedule bytes of array a. */
#define CFG(n, b, ...)                                                     \
	((struct fs_config){ .nthreads = (n), .body = (b), __VA_ARGS__ })
#define BYTES(a) .sched = (a), .sched_len = sizeof(a)

static struct fs_stats st;

static void defaults(struct fs_config *c, void (*fin)(enum fs_verdict,
						      const char *, void *))
{
	c->step_bound = c->step_bound ? c->step_bound : 100000;
	c->on_finding = c->on_finding ? c->on_finding : fin;
	memset(log_buf, 0, sizeof(log_buf));
	atomic_store(&log_pos, 0);
}

/* One run; the log, NUL-terminated. */
static const char *run(struct fs_config c)
{
	defaults(&c, fatal_finding);
	CHECK_EQ(fs_run(&c, &st), FS_OK);
	return log_buf;
}

/* In a forked child: the exit code is 100 + verdict if a finding ends the
 * run (unless c.on_finding says otherwise), else 0. */
static void exit_finding(enum fs_verdict v, const char *what, void *ctx)
{
	_exit(100 + (int)v);
}

#define FORK_SKIPPED (-77)	/* TSan: see CHECK_FORKED */
static int run_forked(struct fs_config c)
{
	int status;
	pid_t pid;

#ifdef FT_TSAN
	(void)c;
	return FORK_SKIPPED;
#endif

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* set up in the child: TSan reported the parent's
		 * pre-fork memset of log_buf against the child's fibers
		 * (its fiber clocks do not carry across fork()) */
		defaults(&c, exit_finding);
		_exit(fs_run(&c, &st) == FS_OK ? 0 : 98);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

/*
 * A check whose run must end the process (a finding) runs in a forked
 * child.  Not under TSan: it drops the fibers' happens-before edges across
 * fork() and reports the child's first write to what the parent touched
 * (log_buf).  Those checks run in the debug, release and asan builds.
 */
static unsigned int forked_skipped;
#define CHECK_FORKED(cfg, want)                                            \
	do {                                                               \
		int r_ = run_forked(cfg);                                  \
									   \
		if (r_ == FORK_SKIPPED)                                    \
			forked_skipped++;                                  \
		else                                                       \
			CHECK_EQ(r_, (want));                              \
	} while (0)

/* ---- 1. the decision rule, bytes mode ---- */

static void body_ids(unsigned int tid, void *ctx)
{
	for (int k = 0; k < 3; k++)
		ev((char)('0' + tid));
}

static void check_bytes(unsigned int n, const uint8_t *s, size_t len,
			const char *want, unsigned long decisions,
			unsigned long switches)
{
	run(CFG(n, body_ids, .sched = s, .sched_len = len));
	CHECK_LOG(want);
	CHECK_EQ(st.steps, 3 * n);
	CHECK_EQ(st.decisions, decisions);
	CHECK_EQ(st.bytes_used, decisions);	/* one byte per decision */
	CHECK_EQ(st.prng_used, 0);
	if (switches)
		CHECK_EQ(st.switches, switches);
}

static void test_decision_rule(void)
{
	static const uint8_t zeros[32], ones[32] = { [0 ... 31] = 1 },
		threes[32] = { [0 ... 31] = 3 }, z1[32] = { 0, 0, 1 },
		zend[5] = { 0, 0, 0, 0, 1 }, t3[32] = { 1, 2 };

	/* 0 = carry on: the first pick, then T0's three steps decide (4);
	 * T1 alone decides nothing; main->T0, T0->T1 (done), T1->main */
	check_bytes(2, zeros, sizeof(zeros), "000111", 4, 3);
	/* so the byte after the fourth is never read */
	check_bytes(2, zend, sizeof(zend), "000111", 4, 3);
	/* 1 = the next runnable thread: the first pick goes to T1, and
	 * every step switches before its access; 6 preemptions */
	check_bytes(2, ones, sizeof(ones), "101010", 7, 9);
	CHECK_EQ(st.preemptions, 6);
	check_bytes(2, threes, sizeof(threes), "101010", 7, 9);	/* 3 % 2 */
	/* T0 steps once, then hands over at its second step; T1 runs to its
	 * end, then T0 (alone) does the access it stopped before */
	check_bytes(2, z1, sizeof(z1), "011100", 6, 0);
	/* three threads, counted cyclically from the running one: 1 from
	 * main -> T1, 2 from T1 -> T0; T0's end chooses among T1, T2 */
	check_bytes(3, t3, sizeof(t3), "000111222", 8, 0);
	check_bytes(1, ones, sizeof(ones), "000", 0, 2);	/* alone */
}

/* ---- 2. determinism ---- */

static struct fl_lock dl;

/* T0 and T1 log two events under a lock, T2 without, four times. */
static void body_mixed(unsigned int tid, void *ctx)
{
	for (int k = 0; k < 4; k++) {
		if (tid < 2)
			fl_lock(&dl);
		ev((char)('a' + tid));
		ev((char)('A' + tid));
		if (tid < 2)
			fl_unlock(&dl);
	}
}

static void test_determinism(void)
{
	static const uint8_t s[] = { 2, 1, 0, 1 };
	struct fs_config cfg = CFG(3, body_mixed, BYTES(s), .seed = 12345);
	struct fs_stats st0;
	char want[LOG_MAX + 1];
	uint8_t dec[256];
	int differs = 0;

	fl_init(&dl);
	snprintf(want, sizeof(want), "%s", run(cfg));
	st0 = st;
	CHECK_EQ(strlen(want), 24);
	CHECK(st0.prng_used > 0);		/* the seed decided too */
	for (int i = 0; i < 20; i++) {
		run(cfg);
		CHECK_LOG(want);
		CHECK(memcmp(&st, &st0, sizeof(st)) == 0);	/* every count */
	}
	/* the same bytes, another seed past their end: another order */
	for (cfg.seed = 1; cfg.seed < 64; cfg.seed++) {
		differs += strcmp(run(cfg), want) != 0;
		CHECK_EQ(st.bytes_used, sizeof(s));
	}
	CHECK(differs > 0);

	/* a run frozen into bytes (cfg->decisions) replays in bytes mode,
	 * PRNG and PCT decisions alike, with no PRNG left */
	for (uint64_t seed = 1; seed <= 40; seed++) {
		unsigned long nd;

		cfg = CFG(3, body_mixed, .seed = seed, .decisions = dec,
			  .decisions_cap = sizeof(dec));
		if (seed > 20) {
			cfg.mode = FS_MODE_PCT;
			cfg.pct_depth = 1 + seed % 3;
			cfg.pct_steps = 24;
		}
		snprintf(want, sizeof(want), "%s", run(cfg));
		nd = st.decisions;
		CHECK_EQ(st.ndecisions, nd);
		run(CFG(3, body_mixed, .sched = dec, .sched_len = nd,
			.seed = 999));
		CHECK_LOG(want);
		CHECK_EQ(st.decisions, nd);
		CHECK_EQ(st.bytes_used, nd);
		CHECK_EQ(st.prng_used, 0);
	}
}

/* ---- 3. locks ---- */

#define INCS 5
static struct fl_lock lk;
static unsigned long plain;		/* only under lk */
static _Atomic unsigned long racy, tick;

/* ctx: under lk, a plain counter with a step inside the critical
 * section; NULL: no lock, an atomic counter (so TSan sees no data race)
 * loaded and stored in two steps, so an update can be lost. */
static void body_inc(unsigned int tid, void *ctx)
{
	for (int i = 0; i < INCS; i++) {
		if (ctx) {
			fl_lock(&lk);
			unsigned long v = plain;

			(void)fa_load_relaxed(&tick);
			plain = v + 1;
			fl_unlock(&lk);
		} else {	/* not one expression: the store's step
				 * would come before the load */
			unsigned long v = fa_load_relaxed(&racy);

			fa_store_relaxed(&racy, v + 1);
		}
	}
}

static _Atomic int phase;
static int try_held, try_free;

/* 1. T0 takes lk, says so  2. T1 trylocks: fails  3. T0 unlocks
 * 4. T1 trylocks: succeeds. */
static void body_trylock(unsigned int tid, void *ctx)
{
	if (tid == 0) {
		fl_lock(&lk);
		fa_store_relaxed(&phase, 1);
		while (fa_load_relaxed(&phase) != 2)
			fl_yield();
		fl_unlock(&lk);
		fa_store_relaxed(&phase, 3);
		return;
	}
	while (fa_load_relaxed(&phase) != 1)
		fl_yield();
	try_held = fl_trylock(&lk);
	fa_store_relaxed(&phase, 2);
	while (fa_load_relaxed(&phase) != 3)
		fl_yield();
	try_free = fl_trylock(&lk);
	if (try_free)
		fl_unlock(&lk);
}

static void test_locks(void)
{
	static const uint8_t zeros[64];
	struct fs_trace tr = { 0 };
	unsigned long lost = 0, blocked = 0;

	for (uint64_t seed = 1; seed <= 200; seed++) {
		fl_init(&lk);
		plain = 0;
		tr.n = 0;
		run(CFG(3, body_inc, .ctx = &lk, .seed = seed, .trace = &tr));
		CHECK_EQ(plain, 3 * INCS);
		CHECK_EQ(lk.owner, 0);
		for (size_t i = 0; i < tr.n; i++)
			blocked += !!(tr.ev[i].what & FS_EV_BLOCK);
		atomic_store(&racy, 0);
		run(CFG(3, body_inc, .seed = seed));
		lost += atomic_load(&racy) != 3 * INCS;
	}
	fs_trace_free(&tr);
	CHECK(blocked > 0);	/* the lock did make threads wait */
	CHECK(lost > 0);	/* and without it, updates are lost */

	for (uint64_t seed = 0; seed <= 20; seed++) {	/* 0: zeros */
		fl_init(&lk);
		atomic_store(&phase, 0);
		try_held = try_free = -1;
		run(CFG(2, body_trylock, .sched = zeros,
			.sched_len = seed ? 0 : sizeof(zeros), .seed = seed));
		CHECK_EQ(try_held, 0);
		CHECK_EQ(try_free, 1);
		CHECK_EQ(lk.owner, 0);
	}
}

/* ---- 4. deadlock ---- */

static struct fl_lock la, lb;
static struct fl_cond cv;

/* T0 takes A then B, T1 B then A, a step between. */
static void body_abba(unsigned int tid, void *ctx)
{
	struct fl_lock *first = tid ? &lb : &la, *second = tid ? &la : &lb;

	fl_lock(first);
	ev((char)('0' + tid));
	fl_lock(second);
	fl_unlock(second);
	fl_unlock(first);
}

/* T0 waits with no predicate; T1 broadcasts (maybe first: lost). */
static void body_lost_wakeup(unsigned int tid, void *ctx)
{
	fl_lock(&la);
	if (tid == 0)
		fl_cond_wait(&cv, &la);
	else
		fl_cond_broadcast(&cv);
	fl_unlock(&la);
}

static void test_deadlock(void)
{
	/* 1. T0 takes A  2. T0's step hands over to T1, which takes B
	 * 3. T1's step hands back; T0 blocks on B  4. T1 blocks on A */
	static const uint8_t abba[] = { 0, 0, 1, 0, 1, 0 }, zeros[32],
		one[32] = { 1 };
	const int dead = 100 + FS_DEADLOCK;

	fl_init(&la);
	fl_init(&lb);
	fl_cond_init(&cv);
	CHECK_FORKED(CFG(2, body_abba, BYTES(abba)), dead);
	/* T0 first, all the way: no deadlock */
	CHECK_FORKED(CFG(2, body_abba, BYTES(zeros)), 0);
	/* a broadcast before an unconditional wait is lost: T1 first */
	CHECK_FORKED(CFG(2, body_lost_wakeup, BYTES(one)), dead);
	CHECK_FORKED(CFG(2, body_lost_wakeup, BYTES(zeros)), 0);
}

/* A thread that returns holding a lock, or inside a read-side section, or
 * unlocks what it does not hold: each is a finding at that very step. */
static void body_leak(unsigned int tid, void *ctx)
{
	int how = *(int *)ctx;

	ev((char)('0' + tid));
	if (tid)
		return;
	if (how == 0)
		fl_lock(&la);		/* and never unlock */
	else if (how == 1)
		rcu_read_lock_model();	/* and never leave */
	else if (how == 2)
		fl_unlock(&lb);		/* nobody holds it */
	else {
		fl_lock(&la);		/* balanced: no finding */
		rcu_read_lock_model();
		rcu_read_unlock_model();
		fl_unlock(&la);
	}
}

static void test_lock_leak(void)
{
	static const uint8_t zeros[32];
	static int how[4] = { 0, 1, 2, 3 };

	CHECK_FORKED(CFG(2, body_leak, BYTES(zeros), .ctx = &how[0]),
		 100 + FS_LOCK_LEAK);
	CHECK_FORKED(CFG(2, body_leak, BYTES(zeros), .ctx = &how[1]),
		 100 + FS_LOCK_LEAK);
	CHECK_FORKED(CFG(2, body_leak, BYTES(zeros), .ctx = &how[2]),
		 100 + FS_LOCK_MISUSE);
	CHECK_FORKED(CFG(2, body_leak, BYTES(zeros), .ctx = &how[3]),
		 0);
}

/* ---- 5. livelock, 6. yield fairness under PCT ---- */

#define BOUND 500
static _Atomic int flag;

/* T0 spins until flag (yielding or not), T1 steps 3 times then sets it
 * (or not). */
struct spin {
	bool yield, wake;
};

static void body_spin(unsigned int tid, void *ctx)
{
	const struct spin *sp = ctx;

	if (tid == 0) {
		while (!fa_load_relaxed(&flag))
			if (sp->yield)
				fl_yield();
		ev('0');
		return;
	}
	for (int k = 0; k < 3; k++)
		ev('1');
	if (sp->wake)
		fa_store_relaxed(&flag, 1);
}

/* The finding comes at the first step past the bound, not later. */
static void exit_livelock(enum fs_verdict v, const char *what, void *ctx)
{
	struct fs_stats s;

	fs_stats_now(&s);
	_exit(s.steps == BOUND + 1 ? 100 + (int)v : 99);
}

static void test_livelock(void)
{
	static const uint8_t t1_first[32] = { 1 };
	static struct spin plain_spin = { false, false },
		yield_spin = { true, false }, woken = { false, true };
	struct fs_config cfg = CFG(2, body_spin, .ctx = &plain_spin,
				   .step_bound = BOUND,
				   .on_finding = exit_livelock);

	atomic_store(&flag, 0);		/* nobody sets it */
	CHECK_FORKED(cfg, 100 + FS_LIVELOCK);
	cfg.ctx = &yield_spin;		/* a yield is a step too */
	CHECK_FORKED(cfg, 100 + FS_LIVELOCK);
	/* the same bound, a flag that is set: over in a few steps */
	run(CFG(2, body_spin, BYTES(t1_first), .ctx = &woken,
		.step_bound = BOUND));
	CHECK_LOG("1110");
	CHECK(st.steps < 10);
}

static void test_yield_pct(void)
{
	static const uint8_t prios[] = { 0, 7, 255 };
	/* T0 above T1, no change point: a plain spin never lets T1 run */
	static const uint8_t t0_high[] = { 255, 0, 0, 0, 0 };
	static struct spin yielding = { true, true }, spinning = { false, true };

	for (unsigned int d = 1; d <= 3; d++)
		for (unsigned int i = 0; i < 3; i++)
			for (unsigned int j = 0; j < 3; j++) {
				/* priorities T0..RCU, then change points */
				uint8_t s[] = { prios[i], prios[j], 9, 9, 9,
						0, (uint8_t)(j * 3), 0, 5 };

				atomic_store(&flag, 0);
				run(CFG(2, body_spin, BYTES(s), .ctx = &yielding,
					.mode = FS_MODE_PCT, .pct_depth = d,
					.pct_steps = 8, .step_bound = 2000));
				CHECK_LOG("1110");
			}
	atomic_store(&flag, 0);
	CHECK_FORKED(CFG(2, body_spin, BYTES(t0_high),
				.ctx = &spinning, .mode = FS_MODE_PCT,
				.pct_depth = 1, .step_bound = BOUND),
		 100 + FS_LIVELOCK);
}

/*
 * A yield excludes the yielder from its own decision only.  The flag once
 * outlived that decision (it was cleared when the yielder ran again), so
 * the thread switched to was sent back at its first step with no byte
 * read: zeros gave "ab111", 3 decisions, 5 switches instead of the rule's
 * "a111b", 5, 4.
 */
static void body_yield_once(unsigned int tid, void *ctx)
{
	ev(tid ? '1' : 'a');
	if (tid == 0)
		fl_yield();
	ev(tid ? '1' : 'b');
	if (tid)
		ev('1');
}

static void test_yield_leak(void)
{
	static const uint8_t zeros[32], t0_high[] = { 255, 0, 0, 0, 0 };

	run(CFG(2, body_yield_once, BYTES(zeros)));
	CHECK_LOG("a111b");
	CHECK_EQ(st.decisions, 5);
	CHECK_EQ(st.switches, 4);
	run(CFG(2, body_yield_once, BYTES(t0_high), .mode = FS_MODE_PCT,
		.pct_depth = 1));
	CHECK_LOG("a111b");
	CHECK_EQ(st.switches, 4);
}

/*
 * Two spinners and the thread they wait for, which yielded once itself.
 * Yields once all dropped to one lowest priority; the tie went to the
 * lowest id, so T0 and T1 handed the CPU to each other forever and T2,
 * runnable, never ran (a livelock finding on the correct core, found by
 * fuzz_sched).  Now every yield goes below the earlier ones.
 */
static _Atomic int go;

static void body_two_spinners(unsigned int tid, void *ctx)
{
	if (tid == 2) {
		ev('y');
		fl_yield();
		ev('s');
		fa_store_relaxed(&go, 1);
		return;
	}
	while (!fa_load_relaxed(&go))
		fl_yield();
	ev((char)('0' + tid));
}

static void test_yield_starvation(void)
{
	/* T2 first (highest), then T0, T1: all three yield, then T2 must run */
	static const uint8_t t2_high[] = { 1, 0, 255, 0, 0 };

	atomic_store(&go, 0);
	CHECK_FORKED(CFG(3, body_two_spinners, BYTES(t2_high),
				.mode = FS_MODE_PCT, .pct_depth = 1,
				.step_bound = 5000), 0);
	atomic_store(&go, 0);
	run(CFG(3, body_two_spinners, BYTES(t2_high), .mode = FS_MODE_PCT,
		.pct_depth = 1, .step_bound = 5000));
	CHECK_LOG("ys01");
	CHECK(st.steps < 20);
}

/*
 * A finding abandons the threads mid-op: what an op allocated lives only
 * on its coroutine's stack, which LeakSanitizer does not scan unless
 * fs_freeze makes it a root region.  Without that, every finding in an
 * ASan build ended in a false leak report at exit.
 */
#ifdef FT_ASAN
#include <sanitizer/lsan_interface.h>

/* T1 allocates, then blocks on the lock T0 holds while T0 spins to the
 * step bound: the finding runs on T0's stack, T1's pointer is on T1's. */
static void body_alloc_block(unsigned int tid, void *ctx)
{
	if (tid == 0) {
		fl_lock(&la);
		for (;;)
			fl_yield();
	} else {
		char *volatile p = malloc(64);

		p[0] = 1;
		fl_lock(&la);
		fl_unlock(&la);
		free(p);
	}
}

static void exit_leak_check(enum fs_verdict v, const char *what, void *ctx)
{
	fs_freeze();
	_exit(__lsan_do_recoverable_leak_check() ? 99 : 100 + (int)v);
}

static void test_finding_no_leak(void)
{
	static const uint8_t zeros[8];

	CHECK_FORKED(CFG(2, body_alloc_block, BYTES(zeros),
				.step_bound = 100,
				.on_finding = exit_leak_check),
		 100 + FS_LIVELOCK);
}
#endif

/* ---- 7. RCU ---- */

static _Atomic int inside[3], started, synced;
static struct folio_rcu_head head;
static int cb_runs;

static void cb(struct folio_rcu_head *h)
{
	CHECK(h == &head);
	ev('C');
	cb_runs++;
}

/* T0 and T2 read (a, b: their last step inside), then step on (x).
 * T1, once both were inside: call_rcu (Q), synchronize_rcu (R; its grace
 * period starts right after the Q step), rcu_barrier (B). */
static void body_rcu(unsigned int tid, void *ctx)
{
	if (tid == 1) {
		while (!fa_load_relaxed(&inside[0]) ||
		       !fa_load_relaxed(&inside[2]))
			fl_yield();
		call_rcu_model(&head, cb);
		ev('Q');
		synchronize_rcu_model();
		ev('R');
		rcu_barrier_model();
		ev('B');
		return;
	}
	rcu_read_lock_model();
	fa_store_relaxed(&inside[tid], 1);
	for (unsigned int k = 0; k < 2 + 2 * tid; k++)
		(void)fa_load_relaxed(&tick);
	ev(tid ? 'b' : 'a');
	rcu_read_unlock_model();
	for (int k = 0; k < 4; k++)
		ev('x');
}

/* A reader entering after the grace period started is not waited for:
 * T0 stays inside until T1's synchronize_rcu has returned. */
static void body_gp_late(unsigned int tid, void *ctx)
{
	if (tid == 0) {
		while (!fa_load_relaxed(&started))
			fl_yield();
		rcu_read_lock_model();
		while (!fa_load_relaxed(&synced))
			fl_yield();
		rcu_read_unlock_model();
		return;
	}
	fa_store_relaxed(&started, 1);
	synchronize_rcu_model();
	fa_store_relaxed(&synced, 1);
}

static void test_rcu(void)
{
	int early = 0, interleaved = 0;

	for (uint64_t seed = 1; seed <= 100; seed++) {
		memset(inside, 0, sizeof(inside));
		cb_runs = 0;
		run(CFG(3, body_rcu, .seed = seed));
		CHECK_EQ(cb_runs, 1);
		CHECK_EQ(strlen(log_buf), 14);	/* a b x*8 Q R C B */
		/* neither returns nor runs before both readers left */
		CHECK(at('R') > at('a') && at('R') > at('b'));
		CHECK(at('C') > at('a') && at('C') > at('b'));
		CHECK(at('B') > at('C'));
		/* a reader was inside at call_rcu and synchronize_rcu */
		early += at('Q') < at('a') || at('Q') < at('b');
		interleaved += strchr(log_buf + at('C'), 'x') != NULL;

		atomic_store(&started, 0);
		atomic_store(&synced, 0);
		run(CFG(2, body_gp_late, .seed = seed));	/* or a livelock */
	}
	CHECK(early > 0);
	CHECK(interleaved > 0);	/* the callback lands among other steps */
	CHECK_EQ(folio_rcu_sched_queued(), folio_rcu_sched_done());
}

/* ---- 8. conditions ---- */

static _Atomic int pred;
static int nwaits;

/* The last thread signals; the others wait for pred in the usual loop. */
static void body_cond(unsigned int tid, void *ctx)
{
	fl_lock(&la);
	if (tid == *(unsigned int *)ctx - 1) {
		fa_store_relaxed(&pred, 1);
		ev('S');
		fl_cond_broadcast(&cv);
	} else {
		while (!fa_load_relaxed(&pred)) {
			nwaits++;
			fl_cond_wait(&cv, &la);
		}
		ev('W');
	}
	fl_unlock(&la);
}

static void cond_run(unsigned int n, const uint8_t *s, size_t len,
		     uint64_t seed, const char *want)
{
	atomic_store(&pred, 0);
	nwaits = 0;
	run(CFG(n, body_cond, .ctx = &n, .sched = s, .sched_len = len,
		.seed = seed));
	CHECK_LOG(want);
}

static void test_cond(void)
{
	static const uint8_t zeros[32], one[32] = { 1 };
	int before = 0, after = 0;

	fl_init(&la);
	fl_cond_init(&cv);
	cond_run(2, zeros, sizeof(zeros), 1, "SW");	/* T0 waits first */
	CHECK_EQ(nwaits, 1);
	cond_run(2, one, sizeof(one), 1, "SW");	/* T1 broadcasts first */
	CHECK_EQ(nwaits, 0);
	cond_run(3, zeros, sizeof(zeros), 1, "SWW");	/* wakes both */
	CHECK_EQ(nwaits, 2);
	for (uint64_t seed = 1; seed <= 100; seed++) {
		cond_run(2, NULL, 0, seed, "SW");
		before += nwaits == 0;
		after += nwaits > 0;
	}
	CHECK(before > 0 && after > 0);	/* both orders were seen */
	CHECK_EQ(la.owner, 0);
}

/* ---- 8b. the CPU each logical thread runs on ---- */

static unsigned int cpu_of[4];

static void body_cpu(unsigned int tid, void *ctx)
{
	(void)ctx;
	cpu_of[tid] = folio_this_cpu();
}

/* fs_config.cpus: 0, a CPU per thread; k, thread id modulo k */
static void test_cpus(void)
{
	run(CFG(3, body_cpu));
	CHECK(cpu_of[0] == 0 && cpu_of[1] == 1 && cpu_of[2] == 2);
	run(CFG(3, body_cpu, .cpus = 2));
	CHECK(cpu_of[0] == 0 && cpu_of[1] == 1 && cpu_of[2] == 0);
	run(CFG(3, body_cpu, .cpus = 1));
	CHECK(cpu_of[0] == 0 && cpu_of[1] == 0 && cpu_of[2] == 0);
	CHECK_EQ(folio_this_cpu(), 0);	/* the main context */
}

/* ---- 9. the input format ---- */

/* bytes -> prog -> bytes -> prog, and prog -> text -> prog */
static void check_round_trip(const uint8_t *in, size_t n)
{
	static struct sched_prog p1, p2, p3;
	static uint8_t out[8192];
	struct prog_text_error err;
	char diff[160], *text = NULL;
	size_t m, len = 0;
	FILE *f;

	sched_prog_decode(&p1, in, n);
	CHECK(p1.nthreads >= SCHED_MIN_THREADS &&
	      p1.nthreads <= SCHED_MAX_THREADS);
	m = sched_prog_encode(&p1, out, sizeof(out));
	CHECK(m > 0 && m <= sched_prog_encoded_max());
	sched_prog_decode(&p2, out, m);
	CHECK_EQ(sched_prog_diff(&p1, &p2, diff, sizeof(diff)), 0);

	f = open_memstream(&text, &len);
	if (!f)
		abort();
	sched_prog_print_text(&p1, f);
	fclose(f);
	CHECK_EQ(sched_prog_parse_text(&p3, text, len, &err), 0);
	if (sched_prog_diff(&p1, &p3, diff, sizeof(diff))) {
		fprintf(stderr, "text round trip: %s (%u:%u %s)\n%s", diff,
			err.line, err.col, err.msg, text);
		CHECK(0);
	}
	free(text);
}

#define W "world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\n"
#define OP "fault mm=0 va=0 order=2 write=1\n"

static const struct {
	const char *text;
	unsigned int line;
	const char *msg;	/* the start of the message */
} bad[] = {
	{ W "mode bytes\n" OP "thread 0:\n", 3, "an op before 'thread 0:'" },
	{ W "thread 0:\n" OP "thread 2:\n", 4, "expected thread 1" },
	{ W "thread 0:\nthread 1:\nschedule 0 1\nschedule 7 256 3\n", 5,
	  "expected a byte 0..255" },
	{ W "thread 0:\n" OP "\n", 4, "1 threads: a fuzz_sched program" },
	{ W "thread 0:\nthread 1:\nthread 2:\nthread 3:\nthread 4:\n", 6,
	  "more than 4 threads" },
	{ W "mode bytes cpus=4\nthread 0:\nthread 1:\n", 2,
	  "expected cpus=1..3" },
	{ W "mode pct depth=2 cpus=0\nthread 0:\nthread 1:\n", 2,
	  "expected cpus=1..3" },
	{ W "mode bytes depth=2\nthread 0:\nthread 1:\n", 2,
	  "expected cpus=1..3 or mm=sc|tso|pso|arm, not 'depth=2'" },
	{ W "mode pct cpus=2 depth=2\nthread 0:\nthread 1:\n", 2,
	  "expected depth=1..4, cpus=1..3 or mm=sc|tso|pso|arm, not 'depth=2'" },
	{ W "mode bytes mm=x86\nthread 0:\nthread 1:\n", 2,
	  "expected mm=sc, tso, pso or arm" },
	{ W "mode bytes mm=tso mm=arm\nthread 0:\nthread 1:\n", 2,
	  "expected cpus=1..3 or mm=sc|tso|pso|arm, not 'mm=arm'" },
};

static void test_format(void)
{
	static uint8_t in[6000];
	struct sched_prog p;
	struct prog_text_error err;
	size_t n0;

	srandom(1);
	for (int iter = 0; iter < 2000; iter++) {
		size_t n = (size_t)random() % 301;

		for (size_t i = 0; i < n; i++) {
			unsigned int r = (unsigned int)random();

			/* separators and schedule starts often enough */
			in[i] = (uint8_t)(r % 24 == 0 ? SCHED_SEP + (r >> 8) % 15 :
					  r % 48 == 1 ? SCHED_START : r >> 8);
		}
		check_round_trip(in, n);
		/* no prefix is format v1: a v1 prefix reads the same (prog.h) */
		{
			static struct sched_prog a, b;
			char diff[160];

			sched_prog_decode(&a, in, n);
			memmove(in + PROG_PREFIX_BYTES, in, n);
			in[0] = PROG_MAGIC0;
			in[1] = PROG_MAGIC1;
			in[2] = (uint8_t)(iter & 1);	/* 1, or 0: read as 1 */
			sched_prog_decode(&b, in, n + PROG_PREFIX_BYTES);
			CHECK_EQ(sched_prog_diff(&a, &b, diff, sizeof(diff)), 0);
		}
	}
	/* the CPU mapping round-trips through both forms */
	{
		static const char t[] = W "mode pct depth=3 cpus=2\n"
					  "thread 0:\n" OP "thread 1:\n";

		CHECK_EQ(sched_prog_parse_text(&p, t, sizeof(t) - 1, &err), 0);
		CHECK(p.cpus == 2 && p.pct_depth == 3 && p.mode == SCHED_PCT);
		n0 = sched_prog_encode(&p, in, sizeof(in));
		check_round_trip(in, n0);
	}
	/* ... and the memory model (either order after the mode) */
	{
		static const char t[] = W "mode bytes mm=arm cpus=1\n"
					  "thread 0:\n" OP "thread 1:\n";

		CHECK_EQ(sched_prog_parse_text(&p, t, sizeof(t) - 1, &err), 0);
		CHECK(p.cpus == 1 && p.mm == FS_MM_ARM && p.mode == SCHED_BYTES);
		n0 = sched_prog_encode(&p, in, sizeof(in));
		CHECK_EQ(in[PROG_PREFIX_BYTES + PROG_HEADER_BYTES] & 3, FS_MM_ARM);
		check_round_trip(in, n0);
	}
	/* a schedule past SCHED_MAX_BYTES is cut; long runs print as B*N */
	memset(in, 0, sizeof(in));
	in[SCHED_HEADER_BYTES] = SCHED_START;
	in[100] = 7;
	check_round_trip(in, sizeof(in));
	sched_prog_decode(&p, in, sizeof(in));
	CHECK_EQ(p.nsched, SCHED_MAX_BYTES);
	CHECK_EQ(p.sched[100 - SCHED_HEADER_BYTES - 1], 7);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t ml = strlen(bad[i].msg);

		CHECK_EQ(sched_prog_parse_text(&p, bad[i].text,
					       strlen(bad[i].text), &err), -1);
		CHECK_EQ(err.line, bad[i].line);
		CHECK(strncmp(err.msg, bad[i].msg, ml) == 0);
		if (err.line != bad[i].line || strncmp(err.msg, bad[i].msg, ml))
			fprintf(stderr, "  case %zu: got %u: %s\n", i, err.line,
				err.msg);
	}
}

int main(void)
{
	if (fs_setup()) {
		fprintf(stderr, "fs_setup failed\n");
		return 1;
	}
	FT_RUN(test_decision_rule);
	FT_RUN(test_determinism);
	FT_RUN(test_cpus);
	FT_RUN(test_locks);
	FT_RUN(test_deadlock);
	FT_RUN(test_lock_leak);
	FT_RUN(test_livelock);
	FT_RUN(test_yield_pct);
	FT_RUN(test_yield_leak);
	FT_RUN(test_yield_starvation);
#ifdef FT_ASAN
	FT_RUN(test_finding_no_leak);
#endif
	FT_RUN(test_rcu);
	FT_RUN(test_cond);
	FT_RUN(test_format);
	if (forked_skipped)
		printf("(%u checks that need a forked child skipped under TSan)\n",
		       forked_skipped);
	return ft_done();
}
