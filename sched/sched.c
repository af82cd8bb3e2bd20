/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the deterministic scheduler (see sched.h) and the core's
 * scheduler hooks (folio/sched.h): steps, locks, conditions, RCU.
 *
 * Everything here runs on one OS thread; only one logical thread runs at a
 * time and control moves only in switch_to().  Compiled without coverage
 * instrumentation (fuzz/coverage-ignore.txt) and without TSan
 * instrumentation (its data is shared by every fiber on purpose); the
 * happens-before edges the scheduled locks and RCU give are told to TSan
 * explicitly (tsan_acquire/tsan_release below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "race.h"
#include "folio/atomic.h"
#include "folio/percpu.h"
#include "folio/rcu.h"
#include "sanitizer.h"	/* FT_TSAN */
#include "sched.h"
#include "wmm.h"

#ifdef FT_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(a) __tsan_acquire((void *)(a))
#define tsan_release(a) __tsan_release((void *)(a))
#else
#define tsan_acquire(a) ((void)(a))
#define tsan_release(a) ((void)(a))
#endif

/*
 * Our detector runs only where the core's plain accesses reach us: with
 * no plain access there is nothing for it to judge (gcc builds, TSan).
 */
#ifdef FOLIO_SCHED_PLAIN
#define RACE_ON 1
#else
#define RACE_ON 0
#endif

/*
 * Every happens-before edge the scheduler gives goes to both detectors:
 * ThreadSanitizer's (tsan preset: the logical threads are its fibers) and
 * ours (race.c), at the same points, so the two judge one model.
 */
#define hb_acquire(a)                                                     \
	do {                                                              \
		tsan_acquire(a);                                          \
		if (RACE_ON && S.cur >= 0)                                \
			race_acquire((unsigned int)S.cur, (a));           \
	} while (0)
#define hb_release(a)                                                     \
	do {                                                              \
		tsan_release(a);                                          \
		if (RACE_ON && S.cur >= 0)                                \
			race_release((unsigned int)S.cur, (a));           \
	} while (0)

/* libFuzzer reads extra counters from this section; elsewhere it is data. */
__attribute__((section("__libfuzzer_extra_counters")))
uint8_t fs_rf_counters[FS_RF_COUNTERS];

/*
 * AFL++ (afl-clang-fast, PCGUARD mode): one guard per counter, in the
 * section the instrumentation's guards live in, so AFL++'s runtime gives
 * each a map slot of its own when it numbers the guards at start-up;
 * counting a pair is then what an edge does.  (Naming __afl_area_ptr here
 * instead clashes with the declaration the pass adds to every module.)
 */
#ifdef __AFL_COMPILER
static uint32_t afl_rf_guards[FS_RF_COUNTERS]
	__attribute__((section("__sancov_guards"), used));
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
#endif

bool folio_sched_on;
bool folio_sched_wm;

#define RING 8			/* steps remembered per thread */

enum th_state { TH_IDLE, TH_RUN, TH_BLOCKED, TH_DONE };
enum th_wait { W_NONE, W_LOCK, W_COND, W_GP, W_BARRIER, W_WORK };

#define MAIN_OWNER 0x7fff	/* fl_lock owner: the main context */
/*
 * PCT priorities: a thread's initial one is above PRIO_BASE + depth; change
 * point i gives PRIO_BASE + i (below every initial one); the k-th yield of
 * a run gives PRIO_BASE - k (below everything, and below earlier yields).
 */
#define PRIO_BASE (1u << 24)

struct fs_thread {
	struct ft_coro coro;
	unsigned int id;
	enum th_state state;
	enum th_wait wait;
	const void *wait_obj;
	unsigned long wait_arg;
	bool woken;			/* W_COND: broadcast since it slept */
	bool in_callback;		/* RCU thread: running a callback */
	unsigned int rcu_depth;
	unsigned int nlocks;		/* fl_locks held now */
	uint32_t rcu_exits;		/* outermost read-side exits */
	unsigned int prio;		/* PCT */
	/* the fa_* access announced by folio_sched_step, not yet seen: its
	 * own load or store callback is not a plain access */
	const volatile void *atomic_addr;
	const volatile void *peek_addr;	/* fa_peek_relaxed's, next */
	size_t step_ev;			/* the trace event of the last step */
	/* the access this thread will make when it runs again (the step it
	 * is stopped at): a plain access of another thread is a decision
	 * point only if it conflicts with one of these */
	uintptr_t pend_g;
	bool pend_w;
	/* a plain store recorded in the trace, its value not yet known */
	size_t store_ev;
	const volatile void *store_addr;
	unsigned char store_size;
	/* the last steps, for a data race's report */
	struct { uintptr_t pc; const struct folio_site *site;
		 unsigned long step; } ring[RING];
	unsigned int ring_n;
};

/* A grace period: who was inside a read-side section when it started. */
struct gp_snap {
	unsigned int mask;
	uint32_t exits[FS_NR_THREADS];
};

static struct {
	bool ready;
	struct ft_coro main;
	struct fs_thread th[FS_NR_THREADS];
	const struct fs_config *cfg;
	struct fs_stats st;
	int cur;			/* running logical thread, -1: main */
	bool frozen;
	/* decisions */
	size_t pos;			/* next schedule byte */
	uint64_t prng;
	unsigned int run_mask, blk_mask;	/* TH_RUN / TH_BLOCKED threads */
	enum { PH_BYTES, PH_PCT, PH_PRNG_PCT, PH_PRNG_UNIFORM } phase;
	unsigned int pct_change[8];	/* PCT change point i: at this step */
	unsigned int pct_nchange, pct_used;
	unsigned long pct_next_step;	/* the earliest unused change point */
	/* grace periods of this run */
	struct gp_snap *gp;
	unsigned int ngp, gp_cap;
	/* reads-from shadow: address -> last writer (thread, site) */
	uint32_t epoch;
	unsigned long run_gen;
	bool switched;			/* the next event follows a switch */
	bool yielding;			/* the running thread yields */
	unsigned int yield_seq;		/* PCT: yields so far this run */
	char tsan_run, tsan_done, tsan_rcu, tsan_cb;	/* tokens */
} S = { .cur = -1 };

#define SHADOW_SIZE 16384		/* power of two, direct-mapped */
static struct shadow {
	const volatile void *addr;
	const struct folio_site *site;
	uint32_t epoch;
	uint8_t tid;
} shadow[SHADOW_SIZE];

static void thread_main(void *arg);

/*
 * The run's CPU mapping (fs_config.cpus): each logical thread a CPU of its
 * own, or k CPUs shared modulo k (the main context, which sets up and
 * checks, is CPU 0).  Sharing one CPU gives the reuse of tasks preempted on
 * one CPU: what one frees, the other allocates next.
 */
static unsigned int sched_cpu(void)
{
	unsigned int k;

	if (S.cur < 0)
		return 0;
	k = S.cfg ? S.cfg->cpus : 0;
	return k ? (unsigned int)S.cur % k : (unsigned int)S.cur;
}

int fs_setup(void)
{
	atomic_store_explicit(&folio_cpu_hook, sched_cpu, memory_order_relaxed);
	if (S.ready)
		return 0;
	ft_coro_init_main(&S.main);
	for (unsigned int i = 0; i < FS_NR_THREADS; i++) {
		S.th[i].id = i;
		if (ft_coro_create(&S.th[i].coro, 1u << 20, thread_main, &S.th[i]))
			return -1;
	}
	S.cur = -1;
	S.ready = true;
	return 0;
}

void fs_stats_now(struct fs_stats *st)
{
	*st = S.st;
}

int fs_current(void)
{
	return S.cur;
}

void fs_freeze(void)
{
	S.frozen = true;
	folio_sched_on = false;
	/* the threads stop mid-op: their stacks hold what they allocated */
	for (unsigned int i = 0; i < FS_NR_THREADS; i++)
		ft_coro_stack_is_root(&S.th[i].coro);
}

bool fs_rf_default(void)
{
	const char *e = getenv("FT_SCHED_RF");

	return !(e && e[0] == '0');
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void finding(enum fs_verdict v, const char *what)
{
	fs_freeze();
	S.cfg->on_finding(v, what, S.cfg->ctx);
	abort();	/* on_finding does not return */
}

/* ---- runnable threads ---- */

static bool gp_done_snap(const struct gp_snap *g)
{
	for (unsigned int t = 0; t < FS_NR_THREADS; t++)
		if ((g->mask & (1u << t)) && S.th[t].state != TH_DONE &&
		    S.th[t].rcu_exits == g->exits[t])
			return false;
	return true;
}

/* Can blocked thread @t go on now? */
static bool can_go(const struct fs_thread *t)
{
	switch (t->wait) {
	case W_LOCK:
		return ((const struct fl_lock *)t->wait_obj)->owner == 0;
	case W_COND:
		return t->woken;
	case W_GP:
		return gp_done_snap(&S.gp[t->wait_arg]);
	case W_BARRIER:
		return folio_rcu_sched_done() >= t->wait_arg;
	case W_WORK:
		return folio_rcu_sched_ready();
	default:
		return true;
	}
}

void fs_thread_state(unsigned int tid, char *buf, size_t n)
{
	const struct fs_thread *t = &S.th[tid];
	char obj[64] = "";
	int len = 0;

	if (tid >= FS_NR_THREADS) {
		snprintf(buf, n, "-");
		return;
	}
	if (t->wait_obj)
		fs_name_addr(t->wait_obj, obj, sizeof(obj));
	switch (t->state) {
	case TH_IDLE:
		len = snprintf(buf, n, "not in this run");
		break;
	case TH_DONE:
		len = snprintf(buf, n, "done");
		break;
	case TH_RUN:
		len = snprintf(buf, n, "%s", (int)tid == S.cur ? "running" :
			       "runnable");
		break;
	case TH_BLOCKED:
		switch (t->wait) {
		case W_LOCK: {
			int o = ((const struct fl_lock *)t->wait_obj)->owner;

			if (o == MAIN_OWNER)
				len = snprintf(buf, n, "blocked on %s, held by main",
					       obj);
			else if (o)
				len = snprintf(buf, n, "blocked on %s, held by "
					       "thread %d", obj, o - 1);
			else
				len = snprintf(buf, n, "blocked on %s (free now)",
					       obj);
			break;
		}
		case W_COND:
			len = snprintf(buf, n, "waiting on %s%s", obj,
				       t->woken ? " (woken)" : "");
			break;
		case W_GP:
			len = snprintf(buf, n, "in synchronize_rcu");
			break;
		case W_BARRIER:
			len = snprintf(buf, n, "in rcu_barrier");
			break;
		case W_WORK:
			len = snprintf(buf, n, "idle (no callback due)");
			break;
		default:
			len = snprintf(buf, n, "blocked");
		}
		break;
	}
	if (len > 0 && (size_t)len < n && (t->nlocks || t->rcu_depth))
		snprintf(buf + len, n - (size_t)len, "; holds %u lock(s)%s",
			 t->nlocks, t->rcu_depth ? ", in rcu_read_lock" : "");
}

/* Every state change goes through here: the masks follow the states. */
static void set_state(struct fs_thread *t, enum th_state st)
{
	unsigned int bit = 1u << t->id;

	t->state = st;
	S.run_mask = st == TH_RUN ? S.run_mask | bit : S.run_mask & ~bit;
	S.blk_mask = st == TH_BLOCKED ? S.blk_mask | bit : S.blk_mask & ~bit;
}

static unsigned int runnable_mask(void)
{
	unsigned int m = S.run_mask;

	for (unsigned int b = S.blk_mask; b; b &= b - 1) {
		unsigned int i = (unsigned int)__builtin_ctz(b);

		if (can_go(&S.th[i]))
			m |= 1u << i;
	}
	return m;
}

/* Every program thread done and the RCU thread between callbacks. */
static bool run_over(void)
{
	for (unsigned int i = 0; i < S.cfg->nthreads; i++)
		if (S.th[i].state != TH_DONE)
			return false;
	return !S.th[FS_RCU_TID].in_callback;
}

/* The next byte of the input's schedule, or of the PRNG past its end
 * (PCT's parameters when the input is short). */
static unsigned int next_byte(void)
{
	if (S.pos < S.cfg->sched_len) {
		S.st.bytes_used++;
		return S.cfg->sched[S.pos++];
	}
	return (unsigned int)(xorshift(&S.prng) >> 56);
}

/* @m rotated so that thread @start is bit 0 (FS_NR_THREADS bits). */
static inline unsigned int rot(unsigned int m, int start)
{
	const unsigned int all = (1u << FS_NR_THREADS) - 1;

	return ((m >> start) | (m << (FS_NR_THREADS - start))) & all;
}

/* Runnable thread number @k of @m, counting cyclically from @start. */
static int kth(unsigned int m, int start, unsigned int k)
{
	unsigned int r = rot(m, start);
	int t;

	while (k-- && (r & (r - 1)))
		r &= r - 1;		/* drop the lowest: k times */
	t = start + __builtin_ctz(r);
	return t >= FS_NR_THREADS ? t - FS_NR_THREADS : t;
}

/* ... and the number of thread @t among them (the inverse). */
static unsigned int index_of(unsigned int m, int start, int t)
{
	int d = t - start;

	if (d < 0)
		d += FS_NR_THREADS;
	return (unsigned int)__builtin_popcount(rot(m, start) &
						((1u << d) - 1));
}

/*
 * The schedule bytes are used up: from here the PRNG (seeded from the
 * input) decides, with one of two strategies it draws: PCT (random
 * priorities, then 1 or 2 change points within the next 128..2048 steps;
 * most of the time: a short thread then waits for a long one and cuts in
 * at one random point, the shape of most races here) or a uniform choice
 * at every decision (fine-grained interleavings).
 */
static void enter_prng_phase(void)
{
	uint64_t r = xorshift(&S.prng);

	if (r & 3) {
		unsigned int d = 2 + (unsigned int)((r >> 8) & 1);
		unsigned int k = 128u << ((r >> 16) % 5);

		S.phase = PH_PRNG_PCT;
		for (unsigned int i = 0; i < FS_NR_THREADS; i++)
			S.th[i].prio = PRIO_BASE + d +
				(unsigned int)((xorshift(&S.prng) >> 56) << 3) + i;
		S.pct_nchange = S.pct_used = 0;
		for (unsigned int i = 0; i + 1 < d; i++)
			S.pct_change[S.pct_nchange++] = (unsigned int)S.st.steps +
				(unsigned int)(xorshift(&S.prng) % k);
		S.pct_next_step = 0;	/* look at them at the next pick */
	} else {
		S.phase = PH_PRNG_UNIFORM;
	}
}

/* Ask the explorer (fs_config.decide). */
static unsigned int explorer(enum fs_dkind kind, unsigned int n,
			     unsigned int m, int from)
{
	struct fs_decision d = { .kind = kind, .n = n };
	unsigned int c;

	if (kind == FS_D_PICK) {
		int start = from < 0 ? 0 : from;

		d.preemptive = from >= 0 && (m & (1u << from));
		for (unsigned int i = 0; i < n; i++)
			d.tid[i] = (unsigned char)kth(m, start, i);
	}
	d.runnable = kind == FS_D_PICK ? m : runnable_mask();
	for (unsigned int t = 0; t < FS_NR_THREADS; t++) {
		d.pend_g[t] = S.th[t].pend_g;
		d.pend_w[t] = S.th[t].pend_w;
	}
	for (unsigned int i = 1; kind == FS_D_FLUSH && i < n && i < FS_D_OPTS; i++) {
		const struct wmm_entry *e = wmm_candidate(i - 1);

		d.opt_g[i] = e ? (uintptr_t)e->addr & ~(uintptr_t)7 : 0;
		d.opt_tid[i] = e ? e->tid : 0;
	}
	c = S.cfg->decide(&d, S.cfg->decide_ctx);
	return c < n ? c : 0;
}

/* The thread to run next among @m (not empty), from @from's point of view. */
static int pick(unsigned int m, int from)
{
	unsigned int n = (unsigned int)__builtin_popcount(m);
	int start = from < 0 ? 0 : from, best = -1;
	bool pct;

	if (S.phase == PH_BYTES && S.pos >= S.cfg->sched_len && !S.cfg->decide)
		enter_prng_phase();
	pct = S.phase == PH_PCT || S.phase == PH_PRNG_PCT;
	if (pct && from >= 0 && S.st.steps >= S.pct_next_step) {
		/* a change point: the running thread drops below all others */
		S.pct_next_step = ~0ul;
		for (unsigned int i = 0; i < S.pct_nchange; i++) {
			if (S.pct_used & (1u << i))
				continue;
			if (S.st.steps >= S.pct_change[i]) {
				S.pct_used |= 1u << i;
				S.th[from].prio = PRIO_BASE + i;
			} else if (S.pct_change[i] < S.pct_next_step) {
				S.pct_next_step = S.pct_change[i];
			}
		}
	}
	if (n == 1)
		return __builtin_ctz(m);
	S.st.decisions++;
	if (pct) {
		for (unsigned int i = 0; i < FS_NR_THREADS; i++)
			if ((m & (1u << i)) &&
			    (best < 0 || S.th[i].prio > S.th[best].prio))
				best = (int)i;
		if (S.phase == PH_PRNG_PCT)
			S.st.prng_used++;
	} else if (S.cfg->decide) {
		best = kth(m, start, explorer(FS_D_PICK, n, m, from));
	} else if (S.phase == PH_BYTES) {
		/* the k-th runnable thread counting from the running one */
		best = kth(m, start, next_byte() % n);
	} else {
		S.st.prng_used++;
		best = kth(m, start, (unsigned int)((xorshift(&S.prng) >> 32) % n));
	}
	if (S.cfg->decisions && S.st.ndecisions < S.cfg->decisions_cap)
		S.cfg->decisions[S.st.ndecisions++] =
			(uint8_t)index_of(m, start, best);
	return best;
}

static void switch_to(int to)
{
	struct ft_coro *from = S.cur < 0 ? &S.main : &S.th[S.cur].coro;
	struct ft_coro *dest = to < 0 ? &S.main : &S.th[to].coro;

	if (to >= 0) {	/* picked: runnable by construction */
		set_state(&S.th[to], TH_RUN);
		S.th[to].wait = W_NONE;
	}
	if (to == S.cur)
		return;
	S.st.switches++;
	S.switched = true;
	S.cur = to;
	ft_coro_switch(from, dest);
}

/* ---- weak memory (wmm.h) ---- */

static void record(const struct folio_site *s, const volatile void *a);

/* A synchronisation the scheduler owns: the running thread's buffer drains. */
static void wm_sync(void)
{
	if (folio_sched_wm && S.cur >= 0 && !S.frozen)
		wmm_drain((unsigned int)S.cur);
}

/* A store became visible: in the trace, in its owner's column. */
static void wm_flushed(const struct wmm_entry *e, bool forced)
{
	struct fs_trace *tr = S.cfg ? S.cfg->trace : NULL;
	int cur = S.cur;

	S.st.flushes++;
	if (!tr)
		return;
	S.cur = e->tid;
	record(e->site, e->addr);
	S.cur = cur;
	if (tr->n && tr->ev[tr->n - 1].site == e->site) {
		struct fs_event *ev = &tr->ev[tr->n - 1];

		ev->wr = e->val;
		ev->what = FS_WROTE | FS_EV_FLUSH;
		ev->pc = e->ev;		/* where it was issued */
		ev->size = forced;
	}
}

/*
 * Before a thread is picked, with another thread able to run (someone who
 * could see it): whether one buffered store becomes visible now, and which.
 * Bytes mode: byte b, b % (k + 1) with k candidates, 0 = none (so a
 * schedule of zeros keeps every store buffered as long as it can be);
 * past the bytes, one decision in four flushes a random candidate.
 */
static unsigned int wm_option(enum fs_dkind kind, unsigned int k)
{
	unsigned int c;

	S.st.flush_decisions++;
	if (S.cfg->decide) {
		c = explorer(kind, k + 1, 0, -1);
	} else if (S.phase == PH_BYTES && S.pos < S.cfg->sched_len) {
		c = next_byte() % (k + 1);
	} else {
		uint64_t r = xorshift(&S.prng);

		S.st.prng_used++;
		c = (r & 3) ? 0 : 1 + (unsigned int)((r >> 8) % k);
	}
	if (S.cfg->decisions && S.st.ndecisions < S.cfg->decisions_cap)
		S.cfg->decisions[S.st.ndecisions++] = (uint8_t)c;
	return c;
}

static void wm_decide(void)
{
	unsigned int k = wmm_candidates(), c;

	if (!k)
		return;
	c = wm_option(FS_D_FLUSH, k);
	if (c)
		wmm_flush_candidate(c - 1);
}

/* arm: which earlier value a relaxed load reads (0: the current one), by
 * the same rule. */
static unsigned int wm_choose(unsigned int k)
{
	unsigned int c = wm_option(FS_D_LOAD, k);

	if (c)
		S.st.stale_loads++;
	return c;
}

/*
 * The running thread reached a scheduling point: it is runnable (a step),
 * blocked (it waits for something) or done.  Pick who runs next among the
 * runnable threads and switch; return when this thread is picked again
 * (for a done thread: in the next run).
 */
static void schedule(void)
{
	int self = S.cur;
	unsigned int m = runnable_mask();
	bool yielding = S.yielding;
	int next;

	/*
	 * The flag is this decision's only: left set while the yielder is
	 * switched out, it would send back the thread picked next at that
	 * thread's own first step.
	 */
	S.yielding = false;
	if (folio_sched_wm && ((m & ~(1u << self)) || !wmm_empty()))
		wm_decide();
	if (m == 1u << self && S.phase != PH_PCT && S.phase != PH_PRNG_PCT)
		return;		/* alone: carry on, no decision */
	if (yielding && (m & ~(1u << self)))
		m &= ~(1u << self);	/* a yield lets the others run */
	if (!m) {
		if (!run_over())
			finding(FS_DEADLOCK, "every thread is blocked");
		switch_to(-1);		/* back to fs_run */
		return;			/* a done thread, in the next run */
	}
	next = pick(m, self);
	if (next != self && S.th[self].state == TH_RUN)
		S.st.preemptions++;
	switch_to(next);	/* marks @next running; we return when picked */
}

static void block(enum th_wait w, const void *obj, unsigned long arg)
{
	struct fs_thread *t = &S.th[S.cur];

	set_state(t, TH_BLOCKED);
	t->wait = w;
	t->wait_obj = obj;
	t->wait_arg = arg;
	/* its step's event (not the trace's last: plain accesses of its
	 * statement may follow it) */
	if (S.cfg->trace && t->step_ev < S.cfg->trace->n &&
	    S.cfg->trace->ev[t->step_ev].tid == S.cur)
		S.cfg->trace->ev[t->step_ev].what |= FS_EV_BLOCK;
	schedule();
	/* what it waited for happened now, after its step: no load of it
	 * is satisfied before this point */
	if (folio_sched_wm)
		wmm_pin((unsigned int)S.cur);
}

/* ---- data races ---- */

static struct race_report race_last;
static uintptr_t race_stack[8];		/* the racing access's call stack */
static unsigned int race_depth;
static struct fs_thread race_threads[FS_NR_THREADS];	/* their last steps */

const volatile void *fs_race_addr(void)
{
	return (const volatile void *)race_last.addr;
}

bool fs_plain_steps(void)
{
	return RACE_ON;
}

/* The running thread's return addresses, by frame pointer, as far as its
 * own coroutine stack goes. */
static unsigned int call_stack(uintptr_t *pcs, unsigned int max)
{
	const struct ft_coro *c = &S.th[S.cur].coro;
	uintptr_t lo = (uintptr_t)c->stack_lo, hi = lo + c->stack_len;
	uintptr_t *fp = __builtin_frame_address(0);
	unsigned int n = 0;

	while (n < max && (uintptr_t)fp >= lo && (uintptr_t)fp + 16 <= hi) {
		uintptr_t *next = (uintptr_t *)fp[0];

		if (!fp[1])
			break;
		pcs[n++] = fp[1];
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}

static void describe(const struct race_acc *a, char *buf, size_t n)
{
	char where[160];
	static const char *const kinds[] = { "load", "store", "rmw", "xchg",
					      "cas" };

	if (a->flags & RACE_ATOMIC)
		snprintf(where, sizeof(where), "%s %s:%u", a->site->func,
			 a->site->file, a->site->line);
	else
		race_symbolize(a->pc, where, sizeof(where));
	snprintf(buf, n, "%s %s by thread %u at %s",
		 a->flags & RACE_ATOMIC ? "atomic" : "plain",
		 a->flags & RACE_ATOMIC ? (a->site->kind < 5 ?
					   kinds[a->site->kind] : "access") :
		 a->flags & RACE_WRITE ? "store" : "load", a->tid, where);
}

static _Noreturn void data_race(void)
{
	char now[256], then[256], name[64], what[640];

	/* no more steps: what follows (naming, symbolizing) may run core
	 * code, whose accesses must not be judged, or overwrite the report */
	S.frozen = true;
	folio_sched_on = false;
	race_depth = call_stack(race_stack, 8);
	memcpy(race_threads, S.th, sizeof(race_threads));
	fs_name_addr((const volatile void *)race_last.addr, name, sizeof(name));
	if (name[0] == '?')	/* a core global: its symbol */
		race_name_global(race_last.addr, name, sizeof(name));
	describe(&race_last.now, now, sizeof(now));
	describe(&race_last.then, then, sizeof(then));
	snprintf(what, sizeof(what), "%s: %s (step %lu), unordered with the "
		 "earlier %s (step %lu)", name, now, race_last.now.step, then,
		 race_last.then.step);
	finding(FS_DATA_RACE, what);
	abort();
}

static void print_ring(FILE *out, const struct fs_thread *t)
{
	unsigned int n = t->ring_n < RING ? t->ring_n : RING;
	char where[160];

	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = (t->ring_n - n + k) % RING;

		if (t->ring[i].site)
			snprintf(where, sizeof(where), "%s %s:%u", t->ring[i].site->func,
				 t->ring[i].site->file, t->ring[i].site->line);
		else
			race_symbolize(t->ring[i].pc, where, sizeof(where));
		fprintf(out, "    step %-8lu %s%s\n", t->ring[i].step,
			t->ring[i].site ? "" : "plain: ", where);
	}
}

void fs_race_print(FILE *out)
{
	char buf[256];

	describe(&race_last.now, buf, sizeof(buf));
	fprintf(out, "now:     %s, step %lu\n", buf, race_last.now.step);
	fprintf(out, "  its call stack:\n");
	for (unsigned int i = 0, k = 0; i < race_depth; i++) {
		race_symbolize(race_stack[i], buf, sizeof(buf));
		if (strstr(buf, "sched/sched.c"))
			continue;	/* the detector's own frames */
		fprintf(out, "    #%u %s\n", k++, buf);
	}
	fprintf(out, "  thread %u's last steps:\n", race_last.now.tid);
	print_ring(out, &race_threads[race_last.now.tid]);
	describe(&race_last.then, buf, sizeof(buf));
	fprintf(out, "earlier: %s, step %lu\n", buf, race_last.then.step);
	if (!(race_last.then.flags & RACE_ATOMIC) && race_last.then.caller) {
		race_symbolize(race_last.then.caller, buf, sizeof(buf));
		fprintf(out, "  called from %s\n", buf);
	}
	fprintf(out, "  thread %u's last steps (now):\n", race_last.then.tid);
	print_ring(out, &race_threads[race_last.then.tid]);
	fprintf(out, "no lock, acquire/release pair, RCU grace period or "
		"thread start orders the two (sched/race.h)\n");
}

/* ---- the trace ---- */

static void record(const struct folio_site *s, const volatile void *a)
{
	struct fs_trace *tr = S.cfg->trace;
	struct fs_event *e;

	if (!tr)
		return;
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 4096;
		struct fs_event *ev = realloc(tr->ev, cap * sizeof(*ev));

		if (!ev)
			return;		/* a shorter trace, not a crash */
		tr->ev = ev;
		tr->cap = cap;
	}
	e = &tr->ev[tr->n++];
	*e = (struct fs_event){ .site = s, .addr = a, .tid = (uint8_t)S.cur,
				.switched = S.switched };
	S.switched = false;
}

/* A plain store's value is known at the thread's next hook: fill it in. */
static void store_value(struct fs_thread *t)
{
	struct fs_trace *tr = S.cfg->trace;
	uint64_t v = 0;

	if (!t->store_addr)
		return;
	if (tr && t->store_ev < tr->n) {
		memcpy(&v, (const void *)t->store_addr,
		       t->store_size < 8 ? t->store_size : 8);
		tr->ev[t->store_ev].wr = v;
	}
	t->store_addr = NULL;
}

static void remember(struct fs_thread *t, uintptr_t pc,
		     const struct folio_site *s)
{
	unsigned int i = t->ring_n++ % RING;

	t->ring[i].pc = pc;
	t->ring[i].site = s;
	t->ring[i].step = S.st.steps + S.st.plain_steps;
}

/* ---- the core's hooks ---- */

void folio_sched_step(const struct folio_site *s, const volatile void *a)
{
	struct fs_thread *t;

	if (S.frozen || S.cur < 0)
		return;
	t = &S.th[S.cur];
	if (++S.st.steps > S.cfg->step_bound)
		finding(FS_LIVELOCK, "the step bound was reached");
	store_value(t);
	t->pend_g = (uintptr_t)a & ~(uintptr_t)7;
	t->pend_w = s->kind != FS_LOAD;
	t->atomic_addr = a;
	remember(t, 0, s);
	if (S.cfg->on_step)	/* an anchored schedule: reached */
		S.cfg->on_step((unsigned int)S.cur, s, false, S.cfg->decide_ctx);
	schedule();
	if (S.cfg->on_step)	/* ... and taken */
		S.cfg->on_step((unsigned int)S.cur, s, true, S.cfg->decide_ctx);
	if (folio_sched_wm)	/* what must be visible before this access */
		wmm_before((unsigned int)S.cur, s, a);
	record(s, a);
	/* its values come in folio_sched_seen, maybe after plain accesses
	 * of the same statement were recorded (an expected value's load) */
	t->step_ev = S.cfg->trace && S.cfg->trace->n ? S.cfg->trace->n - 1 : 0;
}

static inline unsigned int shadow_slot(const volatile void *a)
{
	uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;

	return (unsigned int)(h >> 51) & (SHADOW_SIZE - 1);
}

static void rf_count(const struct folio_site *w, const struct folio_site *r)
{
	uint64_t h = ((uint64_t)(uintptr_t)w * 31 + (uint64_t)(uintptr_t)r) *
		     0x9e3779b97f4a7c15ull;
	unsigned int i = (unsigned int)(h >> 52) & (FS_RF_COUNTERS - 1);

	if (fs_rf_counters[i] != 0xff)
		fs_rf_counters[i]++;
#ifdef __AFL_COMPILER
	__sanitizer_cov_trace_pc_guard(&afl_rf_guards[i]);
#endif
}

void folio_sched_seen(const struct folio_site *s, const volatile void *a,
		      uint64_t rd, uint64_t wr, unsigned int what)
{
	struct fs_trace *tr = S.cfg ? S.cfg->trace : NULL;

	if (S.frozen || S.cur < 0)
		return;
	S.th[S.cur].atomic_addr = NULL;
	if (RACE_ON && s->size && a && race_shared((uintptr_t)a)) {
		struct race_acc acc = {
			.flags = RACE_ATOMIC | (what & FS_WROTE ? RACE_WRITE : 0),
			.site = s, .step = S.st.steps + S.st.plain_steps };

		if (race_access((unsigned int)S.cur, (uintptr_t)a, s->size,
				&acc, &race_last))
			data_race();
		race_atomic_order((unsigned int)S.cur, s, a, what);
	}
	{
		size_t i = S.th[S.cur].step_ev;
		bool buffered = folio_sched_wm &&
			wmm_after((unsigned int)S.cur, s, a, wr, what, i,
				  S.st.steps);

		if (tr && i < tr->n && tr->ev[i].site == s) {
			tr->ev[i].rd = rd;
			tr->ev[i].wr = wr;
			tr->ev[i].what |= (unsigned char)what;
			if (buffered)
				tr->ev[i].what |= FS_EV_BUFFERED;
		}
	}
	if (!S.cfg->rf)
		return;
	/*
	 * Direct-mapped: a collision forgets the older address's writer
	 * (a pair not counted, which only weakens feedback); an entry of an
	 * older run is empty.
	 */
	{
		struct shadow *sh = &shadow[shadow_slot(a)];

		if (sh->epoch == S.epoch && sh->addr == a) {
			/* a quiet (allocator) load counts nothing; its
			 * stores stay visible to the protocol's loads */
			if ((what & FS_READ) && sh->tid != S.cur &&
			    !(s->flags & FS_SITE_QUIET))
				rf_count(sh->site, s);
		} else if (!(what & FS_WROTE)) {
			return;
		}
		if (what & FS_WROTE)
			*sh = (struct shadow){ a, s, S.epoch, (uint8_t)S.cur };
	}
}

/* ---- plain accesses (FOLIO_SCHED_PLAIN) ---- */

uint64_t folio_sched_forward(const volatile void *a, unsigned int size,
			     uint64_t v)
{
	if (S.cur < 0 || S.frozen)
		return v;
	return wmm_load((unsigned int)S.cur, a, size, v);
}

void folio_sched_quiet(const volatile void *p)
{
	if (S.cur >= 0 && !S.frozen)
		S.th[S.cur].peek_addr = p;
}

static void record_plain(uintptr_t pc, const volatile void *a,
			 unsigned int size, bool store)
{
	struct fs_trace *tr = S.cfg->trace;
	struct fs_thread *t = &S.th[S.cur];
	struct fs_event *e;
	uint64_t v = 0;

	record(NULL, a);
	if (!tr || !tr->n || tr->ev[tr->n - 1].site || tr->ev[tr->n - 1].addr != a)
		return;			/* no trace, or no room */
	e = &tr->ev[tr->n - 1];
	e->pc = pc;
	e->size = (unsigned char)size;
	e->what = FS_EV_PLAIN | (store ? FS_WROTE : FS_READ);
	if (store) {		/* the value: at this thread's next hook */
		t->store_ev = tr->n - 1;
		t->store_addr = a;
		t->store_size = (unsigned char)size;
	} else {
		memcpy(&v, (const void *)a, size < 8 ? size : 8);
		e->rd = v;
	}
}

/*
 * A plain load or store of the scheduled core (the compiler's callback,
 * before the access), already known to be of shared memory.  A step: in
 * the trace with its code address and value, and checked by the race
 * detector.  A decision point only where the schedule could matter: some
 * other runnable thread is stopped at an access of the same granule and
 * one of the two writes; everywhere else the thread runs straight on (a
 * switch there could only reorder it with accesses it commutes with).
 */
static void plain_access(const volatile void *a, unsigned int size,
			 bool store, uintptr_t pc, void *frame)
{
	struct fs_thread *t = &S.th[S.cur];
	uintptr_t lo = (uintptr_t)t->coro.stack_lo, hi = lo + t->coro.stack_len;
	/* the accessing function's frame, then its return address: who
	 * called it (frame pointers throughout; bounded by our stack) */
	uintptr_t up = (uintptr_t)frame >= lo && (uintptr_t)frame + 16 <= hi ?
		       *(const uintptr_t *)frame : 0;
	uintptr_t caller = up >= lo && up + 16 <= hi ?
			   ((const uintptr_t *)up)[1] : 0;
	uintptr_t g = (uintptr_t)a & ~(uintptr_t)7;
	unsigned int others = S.run_mask & ~(1u << S.cur);
	struct race_acc acc = { .flags = store ? RACE_WRITE : 0, .pc = pc,
				.caller = caller };

	store_value(t);
	S.st.plain_steps++;
	remember(t, pc, NULL);
	for (; others; others &= others - 1) {
		const struct fs_thread *u = &S.th[__builtin_ctz(others)];

		if (u->pend_g == g && (store || u->pend_w)) {
			t->pend_g = g;
			t->pend_w = store;
			S.st.plain_decisions++;
			schedule();
			break;
		}
	}
	if (folio_sched_wm)	/* its own stores there, and others' */
		wmm_plain((unsigned int)S.cur, a, size, store);
	acc.step = S.st.steps + S.st.plain_steps;
	if (S.cfg->trace)
		record_plain(pc, a, size, store);
	if (race_access((unsigned int)S.cur, (uintptr_t)a, size, &acc,
			&race_last)) {
		if (S.cfg->trace && S.cfg->trace->n)
			S.cfg->trace->ev[S.cfg->trace->n - 1].what |= FS_EV_RACE;
		data_race();
	}
}

static inline __attribute__((always_inline)) void
plain_hook(const volatile void *a, unsigned int size, bool store,
	   uintptr_t pc, void *frame)
{
	if (__builtin_expect(!folio_sched_on, 1) || S.frozen || S.cur < 0)
		return;
	if (a == S.th[S.cur].atomic_addr)
		return;		/* the fa_* access itself: a step already */
	if (a == S.th[S.cur].peek_addr) {
		S.th[S.cur].peek_addr = NULL;	/* fa_peek_relaxed's */
		return;
	}
	if (!race_shared((uintptr_t)a))
		return;		/* a stack, the harness, page contents */
	plain_access(a, size, store, pc, frame);
}

/*
 * SanitizerCoverage's load and store callbacks (-fsanitize-coverage=
 * trace-loads,trace-stores, on the scheduled core only).  No sanitizer
 * runtime defines them; this file is built without coverage, so the
 * scheduler's own accesses never come here.
 */
#define FS_PLAIN_CB(kind, n, store)                                        \
	void __sanitizer_cov_##kind##n(void *a);                           \
	void __sanitizer_cov_##kind##n(void *a)                            \
	{                                                                  \
		plain_hook(a, n, store,                                    \
			   (uintptr_t)__builtin_return_address(0),         \
			   __builtin_frame_address(0));                    \
	}
FS_PLAIN_CB(load, 1, false)
FS_PLAIN_CB(load, 2, false)
FS_PLAIN_CB(load, 4, false)
FS_PLAIN_CB(load, 8, false)
FS_PLAIN_CB(load, 16, false)
FS_PLAIN_CB(store, 1, true)
FS_PLAIN_CB(store, 2, true)
FS_PLAIN_CB(store, 4, true)
FS_PLAIN_CB(store, 8, true)
FS_PLAIN_CB(store, 16, true)

#ifdef FOLIO_SCHED_PLAIN_COUNTERS
/* The counter mode trace-loads needs, where no fuzzer runtime reads the
 * counters (asan, tsan, coverage presets). */
void __sanitizer_cov_8bit_counters_init(char *start, char *end);
void __sanitizer_cov_8bit_counters_init(char *start, char *end)
{
	(void)start;
	(void)end;
}
#endif

void folio_sched_lock(const struct folio_site *s, struct fl_lock *l)
{
	if (S.cur < 0 || S.frozen) {
		if (l->owner && !S.frozen) {
			fprintf(stderr, "fuzz_sched: main takes a lock held by "
				"thread %d\n", l->owner - 1);
			finding(FS_LOCK_LEAK, "a lock is still held at the end");
		}
		l->owner = MAIN_OWNER;
		return;
	}
	folio_sched_step(s, l);
	while (l->owner) {
		l->waiters |= 1u << S.cur;
		block(W_LOCK, l, 0);
	}
	l->waiters &= ~(1u << S.cur);
	if (folio_sched_wm)	/* the last releaser's stores, now */
		wmm_acquire((unsigned int)S.cur, l);
	l->owner = S.cur + 1;
	S.th[S.cur].nlocks++;
	hb_acquire(l);
	folio_sched_seen(s, l, 0, 1, FS_WROTE);
}

bool folio_sched_trylock(const struct folio_site *s, struct fl_lock *l)
{
	if (S.cur < 0 || S.frozen) {
		if (l->owner)
			return false;
		l->owner = MAIN_OWNER;
		return true;
	}
	folio_sched_step(s, l);
	if (l->owner) {
		folio_sched_seen(s, l, 1, 0, FS_READ);
		return false;
	}
	if (folio_sched_wm)
		wmm_acquire((unsigned int)S.cur, l);
	l->owner = S.cur + 1;
	S.th[S.cur].nlocks++;
	hb_acquire(l);
	folio_sched_seen(s, l, 0, 1, FS_READ | FS_WROTE);
	return true;
}

void folio_sched_unlock(const struct folio_site *s, struct fl_lock *l)
{
	if (S.cur < 0 || S.frozen) {
		l->owner = 0;
		return;
	}
	folio_sched_step(s, l);
	if (l->owner != S.cur + 1) {
		fprintf(stderr, "fuzz_sched: thread %d unlocks a lock %s\n",
			S.cur, l->owner ? "another thread holds" : "nobody holds");
		finding(FS_LOCK_MISUSE, "unlock of a lock the thread does not hold");
	}
	S.th[S.cur].nlocks--;
	hb_release(l);
	l->owner = 0;
	folio_sched_seen(s, l, 1, 0, FS_WROTE);
}

void folio_sched_lock_local(const struct folio_site *s, struct fl_lock *l)
{
	if (S.cur < 0 || S.frozen || l->owner) {
		folio_sched_lock(s, l);	/* contended: a step, and it blocks */
		return;
	}
	if (folio_sched_wm)
		wmm_acquire((unsigned int)S.cur, l);
	l->owner = S.cur + 1;
	S.th[S.cur].nlocks++;
	hb_acquire(l);
}

void folio_sched_unlock_local(const struct folio_site *s, struct fl_lock *l)
{
	if (S.cur < 0 || S.frozen || l->waiters || l->owner != S.cur + 1) {
		folio_sched_unlock(s, l);	/* wakes a waiter; or misuse */
		return;
	}
	if (folio_sched_wm)
		wmm_release((unsigned int)S.cur, l);
	S.th[S.cur].nlocks--;
	hb_release(l);
	l->owner = 0;
}

void folio_sched_cond_wait(const struct folio_site *s, struct fl_cond *c,
			   struct fl_lock *l)
{
	static const struct folio_site relock = { __FILE__, __func__, __LINE__,
						  FS_LOCK, 0, 0, 0 };

	if (S.cur < 0 || S.frozen) {
		fprintf(stderr, "fuzz_sched: main would wait on a condition\n");
		finding(FS_DEADLOCK, "the main context waits on a condition");
	}
	folio_sched_step(s, c);
	c->waiters |= 1u << S.cur;
	S.th[S.cur].woken = false;
	if (l->owner != S.cur + 1)
		finding(FS_LOCK_MISUSE, "a condition wait without its lock");
	S.th[S.cur].nlocks--;		/* folio_sched_lock counts it again */
	hb_release(l);
	l->owner = 0;			/* unlock and sleep, as one step */
	block(W_COND, c, 0);
	folio_sched_lock(&relock, l);
}

void folio_sched_cond_broadcast(const struct folio_site *s, struct fl_cond *c)
{
	if (S.cur >= 0 && !S.frozen)
		folio_sched_step(s, c);
	for (unsigned int t = 0; t < FS_NR_THREADS; t++)
		if (c->waiters & (1u << t))
			S.th[t].woken = true;
	c->waiters = 0;
}

/*
 * A yield (a spinning thread): if another thread can run, this one is not
 * a candidate at this decision, and under PCT it drops below every other
 * thread, so a waiter cannot starve the thread it waits for.  Below the
 * earlier yielders too: with two spinners at one equal lowest priority,
 * the tie (lowest id) picked them in turn forever and starved a third
 * thread, runnable, that they waited for; now the yielders take turns
 * behind every other thread, the one that yielded longest ago first.
 */
void folio_sched_yield(const struct folio_site *s)
{
	if (S.cur < 0 || S.frozen)
		return;
	if (++S.st.steps > S.cfg->step_bound)
		finding(FS_LIVELOCK, "the step bound was reached");
	wm_sync();
	S.th[S.cur].pend_g = 0;		/* a yield: no access (explorers) */
	S.yielding = true;
	if ((S.phase == PH_PCT || S.phase == PH_PRNG_PCT) &&
	    S.yield_seq < PRIO_BASE - 1)
		S.th[S.cur].prio = PRIO_BASE - ++S.yield_seq;
	if (S.cfg->on_step)
		S.cfg->on_step((unsigned int)S.cur, s, false, S.cfg->decide_ctx);
	schedule();
	if (S.cfg->on_step)
		S.cfg->on_step((unsigned int)S.cur, s, true, S.cfg->decide_ctx);
	record(s, NULL);
}

void folio_sched_rcu_read_lock(const struct folio_site *s)
{
	if (S.cur < 0 || S.frozen)
		return;
	folio_sched_step(s, NULL);
	S.th[S.cur].rcu_depth++;
}

void folio_sched_rcu_read_unlock(const struct folio_site *s)
{
	struct fs_thread *t;

	if (S.cur < 0 || S.frozen)
		return;
	folio_sched_step(s, NULL);
	t = &S.th[S.cur];
	if (--t->rcu_depth == 0) {
		hb_release(&S.tsan_rcu);	/* a grace period orders us */
		t->rcu_exits++;
	}
}

unsigned int folio_sched_gp_start(void)
{
	struct gp_snap *g;

	if (S.cur < 0 || S.frozen)
		return ~0u;		/* outside a run: no reader */
	if (S.ngp == S.gp_cap) {
		unsigned int cap = S.gp_cap ? 2 * S.gp_cap : 256;
		struct gp_snap *n = realloc(S.gp, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "fuzz_sched: out of memory\n");
			abort();
		}
		S.gp = n;
		S.gp_cap = cap;
	}
	g = &S.gp[S.ngp];
	g->mask = 0;
	for (unsigned int t = 0; t < FS_NR_THREADS; t++) {
		g->exits[t] = S.th[t].rcu_exits;
		if (S.th[t].rcu_depth)
			g->mask |= 1u << t;
	}
	return S.ngp++;
}

bool folio_sched_gp_done(unsigned int cookie)
{
	if (cookie == ~0u || S.cur < 0 || S.frozen)
		return true;
	return gp_done_snap(&S.gp[cookie]);
}

void folio_sched_gp_wait(const struct folio_site *s, unsigned int cookie)
{
	if (cookie == ~0u || S.cur < 0 || S.frozen)
		return;
	folio_sched_step(s, NULL);
	if (S.th[S.cur].rcu_depth)
		finding(FS_DEADLOCK, "synchronize_rcu inside a read-side section");
	if (!gp_done_snap(&S.gp[cookie]))
		block(W_GP, NULL, cookie);
	hb_acquire(&S.tsan_rcu);
	if (folio_sched_wm)	/* the readers' stores before their unlocks */
		wmm_rcu_acquire((unsigned int)S.cur);
}

void folio_sched_rcu_barrier_wait(const struct folio_site *s, unsigned long n)
{
	folio_sched_step(s, NULL);
	if (S.cur == FS_RCU_TID)
		finding(FS_DEADLOCK, "rcu_barrier from an RCU callback");
	if (folio_rcu_sched_done() < n)
		block(W_BARRIER, NULL, n);
	hb_acquire(&S.tsan_cb);
}

void folio_sched_rcu_kick(void)
{
	/* the RCU thread's W_WORK condition is re-evaluated at every pick */
}

/* ---- the threads ---- */

/* A thread's body (or a callback) may not leave a lock or a reader behind. */
static void thread_end_check(const struct fs_thread *t, const char *when)
{
	if (t->nlocks) {
		fprintf(stderr, "fuzz_sched: thread %u %s holding %u lock(s)\n",
			t->id, when, t->nlocks);
		finding(FS_LOCK_LEAK, "a thread finished holding a lock");
	}
	if (t->rcu_depth) {
		fprintf(stderr, "fuzz_sched: thread %u %s inside an RCU "
			"read-side section\n", t->id, when);
		finding(FS_LOCK_LEAK, "a thread finished inside rcu_read_lock");
	}
}

static void rcu_thread(struct fs_thread *t)
{
	unsigned long run = 0;

	for (;;) {
		if (!folio_rcu_sched_ready())
			block(W_WORK, NULL, 0);
		if (run != S.run_gen) {		/* a new run: main set it up */
			run = S.run_gen;
			tsan_acquire(&S.tsan_run);
		}
		t->in_callback = true;
		hb_acquire(&S.tsan_rcu);
		if (folio_sched_wm)
			wmm_rcu_acquire(FS_RCU_TID);
		folio_rcu_sched_run_one();
		wm_sync();
		thread_end_check(t, "ended an RCU callback");
		hb_release(&S.tsan_cb);
		t->in_callback = false;
	}
}

static void thread_main(void *arg)
{
	struct fs_thread *t = arg;

	for (;;) {
		tsan_acquire(&S.tsan_run);	/* main set everything up */
		if (t->id == FS_RCU_TID)
			rcu_thread(t);		/* never returns */
		S.cfg->body(t->id, S.cfg->ctx);
		/* no drain: its last stores may become visible after its
		 * last load (the run's end drains what is left) */
		thread_end_check(t, "finished");
		tsan_release(&S.tsan_done);	/* main checks what we did */
		set_state(t, TH_DONE);
		schedule();
		/* the next run starts here */
	}
}

enum fs_verdict fs_run(const struct fs_config *cfg, struct fs_stats *st)
{
	unsigned int first;

	if (!cfg->nthreads || cfg->nthreads > FS_MAX_PROG) {
		fprintf(stderr, "fs_run: %u threads (1..%d)\n", cfg->nthreads,
			FS_MAX_PROG);
		abort();	/* the caller's bug: its parser bounds them */
	}
	S.cfg = cfg;
	memset(&S.st, 0, sizeof(S.st));
	S.pos = 0;
	S.prng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
	S.ngp = 0;
	S.frozen = false;
	S.epoch++;
	S.run_gen++;
	S.switched = false;
	for (unsigned int i = 0; i < FS_NR_THREADS; i++) {
		struct fs_thread *t = &S.th[i];
		bool used = i < cfg->nthreads || i == FS_RCU_TID;

		set_state(t, used ? TH_RUN : TH_IDLE);
		t->wait = W_NONE;
		if (i == FS_RCU_TID) {	/* runs once a callback is due */
			set_state(t, TH_BLOCKED);
			t->wait = W_WORK;
		}
		t->woken = false;
		t->rcu_depth = 0;
		t->nlocks = 0;
		t->rcu_exits = 0;
		t->prio = 0;
		t->atomic_addr = t->peek_addr = NULL;
		t->pend_g = 0;
		t->store_addr = NULL;
		t->ring_n = 0;
	}
	if (RACE_ON)
		race_run_start();
	wmm_reset(cfg->mm);
	wmm_set_flush_hook(wm_flushed);
	wmm_set_choose(wm_choose);
	/* the RCU thread resumes where it waited for work last time */
	if (S.th[FS_RCU_TID].in_callback)
		abort();	/* cannot be: a run ends between callbacks */
	S.pct_nchange = S.pct_used = 0;
	S.yield_seq = 0;
	S.pct_next_step = 0;
	S.phase = PH_BYTES;
	if (cfg->mode == FS_MODE_PCT) {
		S.phase = PH_PCT;
		/* priorities above d from the first bytes, ties by id */
		unsigned int d = cfg->pct_depth ? cfg->pct_depth : 1;

		for (unsigned int i = 0; i < FS_NR_THREADS; i++)
			S.th[i].prio = PRIO_BASE + d + (next_byte() << 3) + i;
		for (unsigned int i = 0; i + 1 < d && i < 8; i++) {
			unsigned int k = next_byte() << 8;

			k |= next_byte();
			S.pct_change[S.pct_nchange++] =
				k % (cfg->pct_steps ? cfg->pct_steps : 1024);
		}
		/* change point i gives priority i: below every initial one */
	}
	tsan_release(&S.tsan_run);
	folio_sched_on = true;
	folio_sched_wm = cfg->mm != FS_MM_SC;
	first = runnable_mask();
	if (first)
		switch_to(pick(first, -1));
	/* back here when the run is over (or frozen by a finding) */
	for (unsigned int i = 0; i < FS_NR_THREADS; i++)
		if (S.th[i].store_addr) {
			S.cur = (int)i;
			store_value(&S.th[i]);
		}
	S.cur = -1;
	if (!S.frozen)
		wmm_drain_all();	/* each thread drained at its end */
	folio_sched_on = false;
	folio_sched_wm = false;
	tsan_acquire(&S.tsan_done);
	tsan_acquire(&S.tsan_cb);
	if (st)
		*st = S.st;
	return FS_OK;
}
