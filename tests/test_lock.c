/* SPDX-License-Identifier: MIT */
/*
 * test_lock.c - the folio lock's two slow paths (folio/lock.h): the hashed
 * wait table and the per-folio wait list.  Every test runs in both modes.
 *
 * The lost-wakeup windows are forced with folio_lock_hook, which runs in
 * the waiting thread between two steps of its slow path:
 *   lost_wakeup_window (R12, steps of lock.h):
 *     1. W: PG_waiters set, final trylock failed (H holds the lock);
 *        W still holds the bucket lock / PG_waitlock, is not linked yet
 *     2. H: folio_unlock's release RMW runs in that window; the hook
 *        lets W go on only once PG_locked is clear
 *     3. W links itself and sleeps; H's RMW must have seen PG_waiters and
 *        its waker must find W (it gets the bucket/list lock only after W
 *        is linked)
 *     symptom if broken: W sleeps forever (caught by a timeout; the test
 *     then wakes it by hand so that it can still tear down)
 *   wake_before_sleep (perfolio): W linked, list lock dropped, not asleep;
 *     H's whole wake-up runs there; W must see woken and not sleep.
 *   woken_loses_race: W woken and unlinked; H relocks before W retries;
 *     W must set PG_waiters again and sleep, and H's unlock must wake it.
 *   relocked_before_wake (perfolio; the test holds PG_waitlock by hand):
 *     U's unlock RMW reports PG_waiters, U waits for the list lock; H
 *     relocks; U's waker then leaves W linked (it is not woken to fail
 *     again) and PG_waiters set, so H's unlock wakes W.
 * Run: build/<preset>/tests/test_lock
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_world.h"

#ifdef FT_SANITIZED
#define FT_SCALE 8	/* sanitizers: shrink the loops */
#else
#define FT_SCALE 1
#endif

#define TIMEOUT_S 20.0
#define NR_WATCH 4

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Poll @cond until true or TIMEOUT_S; evaluates to the last result. */
#define WAIT_UNTIL(cond)                                                   \
	({                                                                 \
		double __t0 = now_s();                                     \
		bool __ok;                                                 \
		while (!(__ok = (cond)) && now_s() - __t0 < TIMEOUT_S)     \
			usleep(50);                                        \
		__ok;                                                      \
	})

static bool flag_set(struct folio *f, int bit)
{
	return folio_test_flag(f, bit);
}

/* No lock, no waiter, no list lock, no stale waiters bit, empty list. */
static void check_idle(struct folio *f)
{
	CHECK(!flag_set(f, PG_locked));
	CHECK(!flag_set(f, PG_waiters));
	CHECK(!flag_set(f, PG_waitlock));
	CHECK(!folio_lock_waiters_linked(f));
}

/* ---- the hook: counts per point, per watched folio, and a scenario ---- */

typedef void (*scenario_fn)(enum folio_lock_hook_point p, struct folio *f);

static struct {
	atomic_int hits[FOLIO_LOCK_HOOK_NR];
	struct folio *watch[NR_WATCH];
	atomic_int watch_hits[NR_WATCH][FOLIO_LOCK_HOOK_NR];
	scenario_fn scenario;
} hk;

static void count_hook(enum folio_lock_hook_point p, struct folio *f)
{
	for (int i = 0; i < NR_WATCH; i++)
		if (hk.watch[i] == f)
			atomic_fetch_add(&hk.watch_hits[i][p], 1);
	/* the scenario sees the count including this hit */
	atomic_fetch_add(&hk.hits[p], 1);
	if (hk.scenario)
		hk.scenario(p, f);
}

static int hits(enum folio_lock_hook_point p)
{
	return atomic_load(&hk.hits[p]);
}

static int watch_hits(int i, enum folio_lock_hook_point p)
{
	return atomic_load(&hk.watch_hits[i][p]);
}

/* Before any thread starts: reset the counts, set the scenario. */
static void hook_on(scenario_fn scenario, struct folio *const *watch, int n)
{
	for (int p = 0; p < FOLIO_LOCK_HOOK_NR; p++) {
		atomic_store(&hk.hits[p], 0);
		for (int i = 0; i < NR_WATCH; i++)
			atomic_store(&hk.watch_hits[i][p], 0);
	}
	for (int i = 0; i < NR_WATCH; i++)
		hk.watch[i] = i < n ? watch[i] : NULL;
	hk.scenario = scenario;
	atomic_store(&folio_lock_hook, count_hook);
}

/* After every thread is joined. */
static void hook_off(void)
{
	atomic_store(&folio_lock_hook, NULL);
	hk.scenario = NULL;
}

/* ---- a thread that locks once ---- */

static atomic_int acquire_seq;

struct locker {
	pthread_t tid;
	struct folio *f;
	atomic_int order;	/* acquire_seq when it got the lock, from 1 */
	atomic_bool done;
};

static void *lock_once(void *p)
{
	struct locker *l = p;

	folio_lock(l->f);
	atomic_store(&l->order, atomic_fetch_add(&acquire_seq, 1) + 1);
	folio_unlock(l->f);
	atomic_store(&l->done, true);
	return NULL;
}

static void locker_start(struct locker *l, struct folio *f)
{
	l->f = f;
	atomic_store(&l->order, 0);
	atomic_store(&l->done, false);
	pthread_create(&l->tid, NULL, lock_once, l);
}

/*
 * Wait for @l to finish.  If it hangs (a lost wake-up), fail, and wake it
 * by hand so that the test can still tear down; give up if even that fails.
 */
static void locker_finish(struct locker *l)
{
	if (!WAIT_UNTIL(atomic_load(&l->done))) {
		CHECK(!"waiter never got the lock: lost wake-up");
		for (int i = 0; i < 1000 && !atomic_load(&l->done); i++) {
			folio_wake_waiters(l->f);
			usleep(1000);
		}
		if (!atomic_load(&l->done)) {
			fprintf(stderr, "test_lock: waiter stuck for good\n");
			exit(1);
		}
	}
	pthread_join(l->tid, NULL);
}

/*
 * Join @n workers that lock @nf folios.  If they do not finish in
 * TIMEOUT_S, some waiter missed its wake-up: fail, and wake every folio's
 * waiters by hand until they finish, so the test still reaches teardown.
 */
static void join_or_rescue(pthread_t *t, int n, struct folio **fs, int nf,
			   void **ret)
{
	struct timespec deadline;
	bool rescued = false;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)TIMEOUT_S;
	for (int i = 0; i < n; i++) {
		void **r = ret ? &ret[i] : NULL;

		if (!rescued && !pthread_timedjoin_np(t[i], r, &deadline))
			continue;
		if (!rescued)
			CHECK(!"workers never finished: lost wake-up");
		rescued = true;
		for (int tries = 0; pthread_tryjoin_np(t[i], r); tries++) {
			if (tries == 10000) {
				fprintf(stderr, "test_lock: workers stuck for good\n");
				exit(1);
			}
			for (int k = 0; k < nf; k++)
				folio_wake_waiters(fs[k]);
			usleep(1000);
		}
	}
}

#define BOTH_MODES(fn)                                                     \
	static void fn##_hashed(void)                                      \
	{                                                                  \
		fn(FOLIO_LOCK_HASHED);                                     \
	}                                                                  \
	static void fn##_perfolio(void)                                    \
	{                                                                  \
		fn(FOLIO_LOCK_PERFOLIO);                                   \
	}

static void world_up(enum folio_lock_mode mode)
{
	ft_world_up(4096);
	folio_lock_set_mode(mode);
	CHECK_EQ(folio_lock_get_mode(), mode);
	atomic_store(&acquire_seq, 0);
}

/* ---- tests ---- */

/* Run first, before any test switches: the build option's default. */
static void test_default_mode(void)
{
	ft_world_up(1024);
	CHECK_EQ(folio_lock_get_mode(), FOLIO_LOCK_MODE_DEFAULT);
	printf("  default mode: %s\n",
	       folio_lock_mode_name(folio_lock_get_mode()));
	ft_world_down();
}

/* Each mode's name, and a value that is no mode (a corrupt config). */
static void test_mode_names(void)
{
	CHECK(strcmp(folio_lock_mode_name(FOLIO_LOCK_HASHED), "hashed") == 0);
	CHECK(strcmp(folio_lock_mode_name(FOLIO_LOCK_PERFOLIO), "perfolio") == 0);
	CHECK(strcmp(folio_lock_mode_name((enum folio_lock_mode)99), "?") == 0);
}

/* Uncontended: the fast paths only; a stale PG_waiters is cleaned. */
static void test_basic(enum folio_lock_mode mode)
{
	struct folio *f[2];

	world_up(mode);
	f[0] = folio_alloc(0);
	f[1] = folio_alloc(2);
	hook_on(NULL, NULL, 0);
	for (int i = 0; i < 2; i++) {
		check_idle(f[i]);
		CHECK(folio_trylock(f[i]));
		CHECK(folio_test_locked(f[i]));
		CHECK(!folio_trylock(f[i]));
		folio_unlock(f[i]);
		check_idle(f[i]);
		folio_lock(f[i]);
		CHECK(folio_test_locked(f[i]));
		folio_unlock(f[i]);
		check_idle(f[i]);
		/* a stale waiters bit: the unlock's wake finds nobody, clears it */
		folio_lock(f[i]);
		folio_set_flag(f[i], PG_waiters);
		folio_unlock(f[i]);
		check_idle(f[i]);
	}
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED), 0);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 0);
	hook_off();
	folio_put(f[0]);
	folio_put(f[1]);
	ft_world_down();
}
BOTH_MODES(test_basic)

/* Threads increment a plain counter under the lock: no update is lost. */
#define CONT_THREADS 4
#define CONT_ITERS (20000 / FT_SCALE)

static struct folio *cont_folio;
static long cont_counter;

static void *cont_worker(void *arg)
{
	for (int i = 0; i < CONT_ITERS; i++) {
		folio_lock(cont_folio);
		cont_counter++;	/* plain: the folio lock must order it */
		if (i % 64 == 0)
			usleep(1);	/* hold it sometimes: make waiters sleep */
		folio_unlock(cont_folio);
	}
	return NULL;
}

static void test_contention(enum folio_lock_mode mode)
{
	pthread_t t[CONT_THREADS];

	world_up(mode);
	cont_folio = folio_alloc(0);
	cont_counter = 0;
	hook_on(NULL, &cont_folio, 1);
	for (int i = 0; i < CONT_THREADS; i++)
		pthread_create(&t[i], NULL, cont_worker, NULL);
	join_or_rescue(t, CONT_THREADS, &cont_folio, 1, NULL);
	hook_off();
	CHECK_EQ(cont_counter, CONT_THREADS * CONT_ITERS);
	/* the slow path really ran: waiters slept and were woken */
	CHECK(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED) > 0);
	CHECK(hits(FOLIO_LOCK_HOOK_WOKEN) > 0);
	check_idle(cont_folio);
	folio_put(cont_folio);
	ft_world_down();
}
BOTH_MODES(test_contention)

/*
 * NR_WATCH folios whose waiters share one hashed bucket.  Returns them in
 * @out; every other folio allocated on the way is put back.
 */
static bool alloc_same_bucket(struct folio **out)
{
	enum { MAX = 2048 };
	static struct folio *all[MAX];
	unsigned int count[FOLIO_WAIT_TABLE_SIZE] = { 0 };
	int n, bucket = -1, got = 0;

	for (n = 0; n < MAX && bucket < 0; n++) {
		unsigned int b;

		all[n] = folio_alloc(0);
		if (!all[n])
			break;
		b = folio_wait_table_index(all[n]);
		if (++count[b] == NR_WATCH)
			bucket = (int)b;
	}
	for (int i = 0; i < n; i++) {
		if (bucket >= 0 && got < NR_WATCH &&
		    folio_wait_table_index(all[i]) == (unsigned int)bucket)
			out[got++] = all[i];
		else
			folio_put(all[i]);
	}
	return got == NR_WATCH;
}

#define BUCKET_THREADS 8
#define BUCKET_ITERS (20000 / FT_SCALE)

static struct folio *bucket_folio[NR_WATCH];
static long bucket_counter[NR_WATCH];

static void *bucket_worker(void *arg)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1);
	long *picked = calloc(NR_WATCH, sizeof(long));

	for (int i = 0; i < BUCKET_ITERS; i++) {
		int k;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		k = (int)((x * 0x2545f4914f6cdd1dull) >> 62);
		folio_lock(bucket_folio[k]);
		bucket_counter[k]++;	/* plain, under that folio's lock */
		if (i % 32 == 0)
			sched_yield();	/* preempted holder: waiters sleep */
		folio_unlock(bucket_folio[k]);
		picked[k]++;
	}
	return picked;
}

/*
 * Folios sharing a bucket: waking one folio's waiters must neither wake
 * nor strand another's, and a stress run must lose no update.
 */
static void test_shared_bucket(enum folio_lock_mode mode)
{
	struct locker la = { 0 }, lb = { 0 };
	struct folio *a, *b;
	pthread_t t[BUCKET_THREADS];
	void *picked[BUCKET_THREADS];
	long expect[NR_WATCH] = { 0 };

	world_up(mode);
	if (!alloc_same_bucket(bucket_folio)) {
		CHECK(!"no hashed bucket got 4 folios");
		ft_world_down();
		return;
	}
	a = bucket_folio[0];
	b = bucket_folio[1];
	CHECK_EQ(folio_wait_table_index(a), folio_wait_table_index(b));

	/* deterministic: one waiter on a, one on b; wake a's only */
	hook_on(NULL, bucket_folio, NR_WATCH);
	folio_lock(a);
	folio_lock(b);
	locker_start(&la, a);
	locker_start(&lb, b);
	CHECK(WAIT_UNTIL(watch_hits(0, FOLIO_LOCK_HOOK_TRYLOCK_FAILED) == 1));
	CHECK(WAIT_UNTIL(watch_hits(1, FOLIO_LOCK_HOOK_TRYLOCK_FAILED) == 1));
	if (mode == FOLIO_LOCK_PERFOLIO)
		CHECK(WAIT_UNTIL(watch_hits(1, FOLIO_LOCK_HOOK_QUEUED) == 1));
	folio_unlock(a);
	locker_finish(&la);
	check_idle(a);
	/* b's waiter: still asleep, never woken, still announced */
	usleep(10000);
	CHECK(!atomic_load(&lb.done));
	CHECK_EQ(watch_hits(1, FOLIO_LOCK_HOOK_WOKEN), 0);
	CHECK(flag_set(b, PG_waiters));
	if (mode == FOLIO_LOCK_PERFOLIO)
		CHECK(folio_lock_waiters_linked(b));
	folio_unlock(b);
	locker_finish(&lb);
	CHECK_EQ(watch_hits(1, FOLIO_LOCK_HOOK_WOKEN), 1);
	check_idle(b);
	hook_off();

	/* stress: BUCKET_THREADS threads over the NR_WATCH folios */
	hook_on(NULL, bucket_folio, NR_WATCH);
	for (int k = 0; k < NR_WATCH; k++)
		bucket_counter[k] = 0;
	for (uintptr_t i = 0; i < BUCKET_THREADS; i++)
		pthread_create(&t[i], NULL, bucket_worker, (void *)i);
	join_or_rescue(t, BUCKET_THREADS, bucket_folio, NR_WATCH, picked);
	for (int i = 0; i < BUCKET_THREADS; i++) {
		for (int k = 0; k < NR_WATCH; k++)
			expect[k] += ((long *)picked[i])[k];
		free(picked[i]);
	}
	hook_off();
	CHECK(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED) > 0);
	for (int k = 0; k < NR_WATCH; k++) {
		CHECK_EQ(bucket_counter[k], expect[k]);
		check_idle(bucket_folio[k]);
		folio_put(bucket_folio[k]);
	}
	ft_world_down();
}
BOTH_MODES(test_shared_bucket)

/* ---- the lost-wakeup window, forced ---- */

static struct {
	struct folio *f;
	atomic_bool in_window;
	atomic_bool unlocked;	/* main's folio_unlock returned */
	atomic_bool stolen;	/* main relocked the folio */
	bool waiters_at_window, waiters_at_woken;
} win;

static void win_reset(struct folio *f)
{
	win.f = f;
	atomic_store(&win.in_window, false);
	atomic_store(&win.unlocked, false);
	atomic_store(&win.stolen, false);
	win.waiters_at_window = win.waiters_at_woken = false;
}

/* W, step 1-2: the unlock's RMW must land between trylock and sleep. */
static void lost_wakeup_scenario(enum folio_lock_hook_point p, struct folio *f)
{
	if (p != FOLIO_LOCK_HOOK_TRYLOCK_FAILED || hits(p) != 1)
		return;
	win.waiters_at_window = flag_set(f, PG_waiters);
	atomic_store(&win.in_window, true);
	CHECK(WAIT_UNTIL(!flag_set(f, PG_locked)));
}

static void test_lost_wakeup_window(enum folio_lock_mode mode)
{
	struct locker w = { 0 };
	struct folio *f;

	world_up(mode);
	f = folio_alloc(0);
	win_reset(f);
	hook_on(lost_wakeup_scenario, &f, 1);
	folio_lock(f);
	locker_start(&w, f);
	CHECK(WAIT_UNTIL(atomic_load(&win.in_window)));
	/* H: the release RMW runs while W is in the window */
	folio_unlock(f);
	locker_finish(&w);
	hook_off();
	CHECK(win.waiters_at_window);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED), 1);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 1);
	check_idle(f);
	folio_put(f);
	ft_world_down();
}
BOTH_MODES(test_lost_wakeup_window)

/* perfolio: W linked and list lock dropped; the whole wake-up runs now. */
static void wake_before_sleep_scenario(enum folio_lock_hook_point p,
				       struct folio *f)
{
	if (p != FOLIO_LOCK_HOOK_QUEUED || hits(p) != 1)
		return;
	atomic_store(&win.in_window, true);
	CHECK(WAIT_UNTIL(atomic_load(&win.unlocked)));
}

static void test_wake_before_sleep(void)
{
	struct locker w = { 0 };
	struct folio *f;

	world_up(FOLIO_LOCK_PERFOLIO);
	f = folio_alloc(0);
	win_reset(f);
	hook_on(wake_before_sleep_scenario, &f, 1);
	folio_lock(f);
	locker_start(&w, f);
	CHECK(WAIT_UNTIL(atomic_load(&win.in_window)));
	CHECK(folio_lock_waiters_linked(f));
	folio_unlock(f);	/* unlinks W, sets its woken, signals nobody */
	CHECK(!folio_lock_waiters_linked(f));
	atomic_store(&win.unlocked, true);
	locker_finish(&w);
	hook_off();
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 1);
	check_idle(f);
	folio_put(f);
	ft_world_down();
}

/* W woken: main relocks before W retries; W must queue again. */
static void woken_loses_scenario(enum folio_lock_hook_point p, struct folio *f)
{
	if (p != FOLIO_LOCK_HOOK_WOKEN || hits(p) != 1)
		return;
	/* the waker emptied the list, so it dropped the waiters bit */
	win.waiters_at_woken = flag_set(f, PG_waiters);
	atomic_store(&win.in_window, true);
	CHECK(WAIT_UNTIL(atomic_load(&win.stolen)));
}

static void test_woken_loses_race(enum folio_lock_mode mode)
{
	struct locker w = { 0 };
	struct folio *f;

	world_up(mode);
	f = folio_alloc(0);
	win_reset(f);
	hook_on(woken_loses_scenario, &f, 1);
	folio_lock(f);
	locker_start(&w, f);
	CHECK(WAIT_UNTIL(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED) == 1));
	folio_unlock(f);
	CHECK(WAIT_UNTIL(atomic_load(&win.in_window)));
	CHECK(folio_trylock(f));	/* steal it from the woken waiter */
	atomic_store(&win.stolen, true);
	/* W retries, fails, announces itself again and sleeps */
	CHECK(WAIT_UNTIL(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED) == 2));
	CHECK(flag_set(f, PG_waiters));
	CHECK(!atomic_load(&w.done));
	folio_unlock(f);
	locker_finish(&w);
	hook_off();
	CHECK(!win.waiters_at_woken);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 2);
	check_idle(f);
	folio_put(f);
	ft_world_down();
}
BOTH_MODES(test_woken_loses_race)

/* perfolio: a waker that finds the folio relocked leaves W to its holder. */
static void *unlock_thread(void *p)
{
	folio_unlock(p);
	return NULL;
}

static void test_relocked_before_wake(void)
{
	struct locker w = { 0 };
	struct folio *f;
	pthread_t u;
	unsigned long old;

	world_up(FOLIO_LOCK_PERFOLIO);
	f = folio_alloc(0);
	hook_on(NULL, &f, 1);
	folio_lock(f);
	locker_start(&w, f);
	CHECK(WAIT_UNTIL(hits(FOLIO_LOCK_HOOK_QUEUED) == 1));
	/* the list lock, by hand: U's waker must wait for it */
	old = fa_or_acquire(&f->flags, 1ul << PG_waitlock);
	CHECK(!(old & (1ul << PG_waitlock)));
	pthread_create(&u, NULL, unlock_thread, f);
	CHECK(WAIT_UNTIL(!flag_set(f, PG_locked)));	/* U's RMW is done */
	CHECK(folio_trylock(f));			/* H relocks */
	fa_and_release(&f->flags, ~(1ul << PG_waitlock));
	pthread_join(u, NULL);
	usleep(10000);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 0);
	CHECK(!atomic_load(&w.done));
	CHECK(flag_set(f, PG_waiters));
	CHECK(folio_lock_waiters_linked(f));
	folio_unlock(f);				/* H wakes W */
	locker_finish(&w);
	hook_off();
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), 1);
	CHECK_EQ(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED), 1);
	check_idle(f);
	folio_put(f);
	ft_world_down();
}

/*
 * Three waiters queued one after the other; the last one out leaves no
 * waiters bit.  perfolio wakes one at a time, oldest first: each waiter
 * is woken exactly once and they get the lock in queueing order.
 */
#define NR_QUEUED 3

static void test_waiters_bit_cleared(enum folio_lock_mode mode)
{
	struct locker w[NR_QUEUED] = { 0 };
	struct folio *f;

	world_up(mode);
	f = folio_alloc(0);
	hook_on(NULL, &f, 1);
	folio_lock(f);
	for (int i = 0; i < NR_QUEUED; i++) {
		locker_start(&w[i], f);
		CHECK(WAIT_UNTIL(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED) == i + 1));
		if (mode == FOLIO_LOCK_PERFOLIO)
			CHECK(WAIT_UNTIL(hits(FOLIO_LOCK_HOOK_QUEUED) == i + 1));
	}
	CHECK(flag_set(f, PG_waiters));
	folio_unlock(f);
	for (int i = 0; i < NR_QUEUED; i++)
		locker_finish(&w[i]);
	hook_off();
	CHECK(hits(FOLIO_LOCK_HOOK_WOKEN) >= NR_QUEUED);
	if (mode == FOLIO_LOCK_PERFOLIO) {
		CHECK_EQ(hits(FOLIO_LOCK_HOOK_WOKEN), NR_QUEUED);
		CHECK_EQ(hits(FOLIO_LOCK_HOOK_TRYLOCK_FAILED), NR_QUEUED);
		for (int i = 0; i < NR_QUEUED; i++)
			CHECK_EQ(atomic_load(&w[i].order), i + 1);
	}
	check_idle(f);
	folio_put(f);
	ft_world_down();
}
BOTH_MODES(test_waiters_bit_cleared)

int main(void)
{
	folio_thread_online();
	FT_RUN(test_default_mode);
	FT_RUN(test_mode_names);
	FT_RUN(test_basic_hashed);
	FT_RUN(test_basic_perfolio);
	FT_RUN(test_contention_hashed);
	FT_RUN(test_contention_perfolio);
	FT_RUN(test_shared_bucket_hashed);
	FT_RUN(test_shared_bucket_perfolio);
	FT_RUN(test_lost_wakeup_window_hashed);
	FT_RUN(test_lost_wakeup_window_perfolio);
	FT_RUN(test_wake_before_sleep);
	FT_RUN(test_woken_loses_race_hashed);
	FT_RUN(test_woken_loses_race_perfolio);
	FT_RUN(test_relocked_before_wake);
	FT_RUN(test_waiters_bit_cleared_hashed);
	FT_RUN(test_waiters_bit_cleared_perfolio);
	folio_lock_set_mode(FOLIO_LOCK_MODE_DEFAULT);
	folio_thread_offline();
	return ft_done();
}
