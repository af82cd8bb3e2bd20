/* SPDX-License-Identifier: MIT */
/*
 * foliotorture.c - hammer libfolio with real threads and real RCU, and
 * check the exact invariants at quiescent points (in the tradition of the
 * kernel's rcutorture).
 *
 * Run: build/release/stress/foliotorture --duration 10
 * Exit: 0 PASS, 1 FAIL (violation, leak, sanitizer report), 2 usage error,
 * 128 + N INTERRUPTED by signal N (see --help).
 *
 * Main thread: starts the workers, and every --check-interval asks them to
 * park (each finishes its current operation, so only ledgered references
 * remain), runs the full checker with their ledgers, and lets them go.  At
 * the end (duration, or SIGINT/SIGTERM) it stops them, checks once more,
 * releases every ledgered reference, truncates the files and runs the
 * teardown leak check.  Options: options.c; the summary and JSON:
 * report.c.
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folio/check.h"
#include "folio/page_alloc.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "data_oracle.h"
#include "ft_version.h"
#include "interrupt.h"
#include "sanitizer.h"
#include "scenario.h"
#include "targets.h"
#include "torture.h"

static struct ft_scenario scenario;
static struct ft_run run;
static double t0;

struct ft_state ft = {
	.park_lock = PTHREAD_MUTEX_INITIALIZER,
	.park_cond = PTHREAD_COND_INITIALIZER,
	.parked_cond = PTHREAD_COND_INITIALIZER,
};

int ft_worker_errors(void);


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A sanitizer stopped the process (its report is above): the summary and
 * the JSON say FAIL, and harness/sanitizer.h's hook exits 1.  Runs in the reporting
 * thread while the others may still run; the counters are atomics.
 */
static void on_sanitizer_report(void)
{
	run.result = FT_FAIL;
	run.fail_rule = "sanitizer";
	snprintf(run.fail_detail, sizeof(run.fail_detail),
		 "a %s report (printed above)", ft_sanitizer_name());
	run.elapsed = t0 ? now() - t0 : 0;
	/*
	 * Not ft_write_json: this may run in a signal handler (a SEGV the
	 * sanitizer caught: its death callback), where fopen's malloc can
	 * wait forever on a lock the interrupted code holds (TSan: the run
	 * hung 60 s, then reported a hang instead).  The preformatted report
	 * only writes, renames and reads atomics (report.c).
	 */
	ft_crash_json_write(0, NULL, "sanitizer", run.fail_detail, &run);
	ft_print_summary(&run, &scenario);
}

/*
 * A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) in a build without a
 * sanitizer: the corrupted world is the finding, and the rerun command must
 * not be lost with it.  Both lines and the --json report's fixed part are
 * formatted before the workers start; the handler only calls
 * async-signal-safe functions (write, open, rename: report.c's
 * ft_crash_json_write) and exits 1.  Sanitizer builds report through
 * harness/sanitizer.h instead.
 */
static char crash_msg[8192];
static size_t crash_len;
/* the first crashing thread reports; lock-free, so a handler may use it */
static atomic_flag crash_reporting = ATOMIC_FLAG_INIT;

static void on_crash(int sig)
{
	char num[4] = { (char)('0' + sig / 10 % 10), (char)('0' + sig % 10),
			'\n', 0 };
	static const char head[] = "\nfoliotorture: fatal signal ";
	static const char nojson[] =
		"foliotorture: crash: the JSON report was not written\n";
	const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
			   sig == SIGILL ? "SIGILL" : sig == SIGFPE ? "SIGFPE" :
			   sig == SIGABRT ? "SIGABRT" : "?";
	ssize_t rc;

	/*
	 * Another thread crashed too, or this one again inside the handler
	 * (by another signal: SA_RESETHAND made a second one of the same kind
	 * fatal): two reports would write the same file.  Let the first end
	 * the process; if it has not within 10 s (it is this very thread, or
	 * it is stuck in a write), exit without it.
	 */
	if (atomic_flag_test_and_set(&crash_reporting)) {
		struct timespec ts = { .tv_sec = 10 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		_exit(1);
	}
	rc = write(2, head, sizeof(head) - 1);
	rc = write(2, sig >= 10 ? num : num + 1, sig >= 10 ? 3 : 2);
	if (ft_crash_json_write(sig, name, "crash", NULL, &run))
		rc = write(2, nojson, sizeof(nojson) - 1);
	rc = write(1, crash_msg, crash_len);
	(void)rc;
	_exit(1);
}

static void crash_handler_install(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa = { .sa_handler = on_crash,
				.sa_flags = (int)SA_RESETHAND };
	char cmd[4096];
	int n;

	/* the sanitizers' death callback writes it too (on_sanitizer_report) */
	if (ft_crash_json_prepare(&scenario))
		fprintf(stderr, "foliotorture: note: a crash would write no "
			"JSON report (out of memory, or the path is too long)\n");
	if (ft_sanitizer_name())
		return;
	ft_command_line(cmd, sizeof(cmd), &ft.o);
	n = snprintf(crash_msg, sizeof(crash_msg),
		     "foliotorture: crash: rerun: %s\n"
		     "foliotorture: FAIL seed=%" PRIu64 " scenario=%s threads=%u "
		     "rule=crash\n", cmd, ft.o.seed, scenario.name, ft.o.threads);
	crash_len = n < 0 ? 0 : (size_t)n < sizeof(crash_msg) ? (size_t)n :
		    sizeof(crash_msg) - 1;
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* now + @s as an absolute CLOCK_REALTIME time (pthread's timed waits). */
static struct timespec deadline(double s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)s;
	ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * A worker did not park for a check, or did not stop, within
 * --hang-timeout: an op that never returns (a livelocked retry loop, a lost
 * wake-up).  Say which workers and in which op, report FAIL rule=hang and
 * leave at once: the stuck threads cannot be joined, and the world they
 * hold cannot be checked or freed.
 */
static _Noreturn void hang(const char *waiting_for)
{
	int n = 0;

	/* the stuck workers still run: what follows reads their rings and
	 * counters unsynchronised, a snapshot, on purpose */
	ft_sanitizer_ignore_begin();
	run.result = FT_FAIL;
	run.fail_rule = "hang";
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		int op = atomic_load_explicit(&ft.workers[i].cur_op,
					      memory_order_relaxed);

		if (op < 0 || ft.workers[i].exited)
			continue;
		if (!n++)
			fprintf(stderr, "BUG: hang: no progress for %gs while "
				"waiting for workers %s:\n", ft.o.hang_timeout,
				waiting_for);
		fprintf(stderr, "  worker %u: in %s\n", i, ft_op_names[op]);
	}
	snprintf(run.fail_detail, sizeof(run.fail_detail),
		 "%d worker(s) still in an op after %gs (waiting for them %s)",
		 n, ft.o.hang_timeout, waiting_for);
	fprintf(stderr, "%s\n", run.fail_detail);
	ft_print_rings(stderr);
	ft_sanitizer_ignore_end();
	run.elapsed = now() - t0;
	ft_write_json(&run, &scenario);
	ft_print_summary(&run, &scenario);
	fflush(NULL);
	ft_sanitizer_exit_now(1);
}

/* Check with every worker parked (or exited); returns violations. */
static unsigned long quiescent_check(bool workers_running)
{
	static struct folio_held held[(FT_LEDGER_MAX + FT_GUP_MAX * FT_GUP_PAGES) * 1024];
	struct folio_check_opts co = { .held = held, .out = stderr };
	unsigned long nv;

	if (workers_running) {
		struct timespec until = deadline(ft.o.hang_timeout);

		atomic_store_explicit(&ft.park_req, true, memory_order_release);
		pthread_mutex_lock(&ft.park_lock);
		while (ft.nparked < ft.nrunning)
			if (pthread_cond_timedwait(&ft.parked_cond,
						   &ft.park_lock, &until) == ETIMEDOUT &&
			    ft.nparked < ft.nrunning)
				hang("to park for a check");
	}
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		for (unsigned int j = 0; j < ft.workers[i].ledger.nr; j++)
			held[co.nr_held++] = ft.workers[i].ledger.held[j];
		co.nr_held += ft_gup_held(&ft.workers[i], held + co.nr_held);
	}
	nv = folio_check_quiescent(&co, run.first.rule ? NULL : &run.first);
	if (workers_running) {
		atomic_store_explicit(&ft.park_req, false, memory_order_relaxed);
		ft.park_gen++;
		pthread_cond_broadcast(&ft.park_cond);
		pthread_mutex_unlock(&ft.park_lock);
	}
	return nv;
}

/* Workers up: the world, the files, the mms, one thread per worker. */
static int start(void)
{
	struct folio_config cfg = { .nr_pages = ft.o.nr_pages,
				    .pmd_order = ft.o.pmd_order };
	sigset_t oldmask;

	folio_thread_online();
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "foliotorture: cannot create the model\n");
		return -1;
	}
	folio_window_reset();	/* this run's hits only */
	ft.files = calloc(ft.o.nr_files, sizeof(*ft.files));
	ft.workers = aligned_alloc(_Alignof(struct ft_worker),
				   ft.o.threads * sizeof(*ft.workers));
	if (ft.workers)
		memset(ft.workers, 0, ft.o.threads * sizeof(*ft.workers));
	ft.mms = calloc(ft.o.nr_mms, sizeof(*ft.mms));
	if (!ft.files || !ft.workers || !ft.mms) {
		fprintf(stderr, "foliotorture: out of memory\n");
		return -1;
	}
	for (unsigned int i = 0; i < ft.o.nr_files; i++)
		ft.files[i] = address_space_create(ft.o.file_pages);
	for (unsigned int i = 0; i < ft.o.nr_mms; i++) {
		ft.mms[i] = mm_create(ft.o.anon_pages, ft.o.file_pages);
		for (unsigned int k = 0; k < ft.o.nr_files; k++)
			mm_add_file_window(ft.mms[i], ft.files[k]);
	}
	ft.private_folios = scenario.private_folios;
	ft.blind_pct = scenario.blind_pct;
	ft.pin_pct = scenario.pin_pct;
	ft_hot_reset();
	if (ft_data_init()) {
		fprintf(stderr, "foliotorture: out of memory (the data oracle)\n");
		return -1;
	}
	ft_chaos_start(ft.o.chaos, ft.o.seed);
	ft.nrunning = ft.o.threads;
	ft_interrupt_block(&oldmask);	/* workers: no SIGINT/SIGTERM */
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		unsigned int total = 0, acc = 0, g = 0;

		/* thread i goes to the group whose share covers i/threads */
		for (unsigned int k = 0; k < scenario.nr_groups; k++)
			total += scenario.groups[k].share;
		for (g = 0; g < scenario.nr_groups; g++) {
			acc += scenario.groups[g].share;
			if ((unsigned long)i * total < (unsigned long)acc * ft.o.threads)
				break;
		}
		ft.workers[i].group = &scenario.groups[g < scenario.nr_groups ? g : 0];
		ft.workers[i].id = i;
		atomic_init(&ft.workers[i].cur_op, -1);
		ft.workers[i].rng = ft_splitmix(ft.o.seed + i + 1);
		if (pthread_create(&ft.workers[i].tid, NULL, ft_worker_main,
				   &ft.workers[i])) {
			fprintf(stderr, "foliotorture: cannot start worker %u\n", i);
			return -1;
		}
	}
	ft_interrupt_restore(&oldmask);
	return 0;
}

/* Run until the duration, a violation or a signal, checking on the way. */
static void run_loop(void)
{
	double next_check, next_stat, plant_at;
	unsigned int planted = 0;

	next_check = t0 + ft.o.check_interval_ms / 1000.0;
	next_stat = t0 + ft.o.stat_interval;
	plant_at = t0 + (ft.o.duration < 0.8 ? ft.o.duration / 4 : 0.2);
	while (!atomic_load(&ft.stop)) {
		double t = now();

		if (ft_interrupted()) {
			fprintf(stderr, "\nfoliotorture: signal %d: stopping, "
				"checking, reporting\n", (int)ft_interrupted());
			break;
		}
		if (t - t0 >= ft.o.duration)
			break;
		/*
		 * ASan reports the first plant.  Plant again every 50 ms
		 * until the sanitizer reports: a TSan that cannot restore the
		 * earlier access's stack drops the report (sanitizers/
		 * options.c raises its history for that reason).
		 */
		if (ft.o.self_test == FT_SELF_TEST_SANITIZER && t >= plant_at) {
			if (!planted++)
				fprintf(stderr, "self-test: planting a bug for "
					"%s\n", ft_sanitizer_name());
			ft_self_test_sanitizer();
			plant_at = t + 0.05;
		}
		if (ft.o.check_interval_ms && t >= next_check) {
			unsigned long nv = quiescent_check(true);

			run.checks++;
			run.violations += nv;
			if (nv)
				break;
			next_check = now() + ft.o.check_interval_ms / 1000.0;
		}
		if (ft.o.stat_interval > 0 && t >= next_stat) {
			unsigned long n = ft_all_ops(), win[FW_NR];

			folio_window_read(win);
			printf("[%6.1fs/%gs] ops %lu (%.0f/s) checks %lu violations %lu "
			       "windows ", t - t0, ft.o.duration, n, n / (t - t0),
			       run.checks, run.violations);
			ft_print_windows(stdout, win, " ", " ");
			printf("\n");
			fflush(stdout);
			next_stat += ft.o.stat_interval;
		}
		usleep(10000);
	}
}

/*
 * --require-window: a run that never met a race it was asked to meet is a
 * finding about the harness (the scenario stopped racing).  Not for an
 * interrupted run: it did not have its time.
 */
static void window_required(void)
{
	size_t len = 0;

	for (unsigned int w = 0; w < FW_NR; w++)
		if ((ft.o.require_windows & (1u << w)) && !run.windows[w])
			len += (size_t)snprintf(run.fail_detail + len,
						sizeof(run.fail_detail) - len,
						"%s%s", len ? ", " : "",
						folio_window_name(w));
	if (!len)
		return;
	snprintf(run.fail_detail + len, sizeof(run.fail_detail) - len,
		 ": never hit in %.1f s (--require-window)", run.elapsed);
	run.fail_rule = "window";
	run.violations++;
}

/* Stop, check once more, release everything, count leaks. */
static void finish(void)
{
	struct timespec until;

	atomic_store(&ft.stop, true);
	until = deadline(ft.o.hang_timeout);
	for (unsigned int i = 0; i < ft.o.threads; i++)
		if (pthread_timedjoin_np(ft.workers[i].tid, NULL, &until))
			hang("to stop");
	run.workers_stopped = true;
	run.elapsed = now() - t0;
	folio_window_read(run.windows);
	if (!run.violations) {
		run.violations += quiescent_check(false);
		run.checks++;
	}
	if (run.first.rule) {
		run.fail_rule = run.first.rule;
	} else if (ft_data_errors()) {
		run.violations += (unsigned long)ft_data_errors();
		run.fail_rule = "data";
		snprintf(run.fail_detail, sizeof(run.fail_detail),
			 "a worker read data nobody could have left there "
			 "(BUG: above)");
	} else if (ft_worker_errors()) {
		run.violations += (unsigned long)ft_worker_errors();
		run.fail_rule = "worker";
		snprintf(run.fail_detail, sizeof(run.fail_detail),
			 "a worker saw a broken expectation (BUG: above)");
	} else if (!ft_interrupted()) {
		window_required();
	}
	if (run.violations)
		ft_print_rings(stderr);
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		ft_ledger_release(&ft.workers[i]);
		ft_gup_release_all(&ft.workers[i]);
	}
	ft_data_fini();
	for (unsigned int i = 0; i < ft.o.nr_mms; i++)
		mm_destroy(ft.mms[i]);
	for (unsigned int i = 0; i < ft.o.nr_files; i++) {
		truncate_inode_pages_range(ft.files[i], 0, ft.o.file_pages);
		address_space_destroy(ft.files[i]);
	}
	if (run.violations)
		return;		/* the world is not consistent: no leak check */
	run.leaks = folio_world_destroy(stderr);
	if (run.leaks) {
		run.fail_rule = "leak";
		snprintf(run.fail_detail, sizeof(run.fail_detail),
			 "%lu pages or descriptors not freed at the end", run.leaks);
	}
}

int main(int argc, char **argv)
{
	int rc = ft_parse_args(argc, argv, &ft.o, &scenario), exit_rc;

	if (rc)
		return rc;
	ft_sanitizer_on_report(on_sanitizer_report);
	printf("foliotorture %s (%s): seed=%" PRIu64 " scenario=%s threads=%u "
	       "duration=%gs chaos=%u pages=%lu files=%u x %lu slots "
	       "max_order=%u pmd_order=%u mms=%u x %lu anon pages "
	       "check_interval=%ums%s%s\n",
	       FT_VERSION, FT_GIT_COMMIT, ft.o.seed, scenario.name, ft.o.threads,
	       ft.o.duration, ft.o.chaos, ft.o.nr_pages, ft.o.nr_files,
	       ft.o.file_pages, ft.o.max_order, ft.o.pmd_order, ft.o.nr_mms,
	       ft.o.anon_pages, ft.o.check_interval_ms,
	       ft_sanitizer_name() ? " sanitizers=" : "",
	       ft_sanitizer_name() ? ft_sanitizer_name() : "");
	fflush(stdout);
	ft_interrupt_install();
	crash_handler_install();
	if (start())
		return 2;
	t0 = now();
	run_loop();
	finish();
	if (!run.fail_rule && ft_sanitizer_leak_check()) {
		run.leaks++;
		run.fail_rule = "leak";
		snprintf(run.fail_detail, sizeof(run.fail_detail),
			 "LeakSanitizer found host memory leaks (above)");
	}
	run.signal = ft_interrupted();
	run.result = run.fail_rule ? FT_FAIL :
		     ft_interrupted() ? FT_INTERRUPTED : FT_PASS;

	printf("\n%-16s %11s %11s %11s %11s %11s %6s\n", "operation",
	       "attempts", "per second", "done", "raced", "misses", "work%");
	for (int k = 0; k < FT_OP_NR; k++) {
		unsigned long a = ft_ops_total(k, false), m = ft_ops_total(k, true),
			      r = ft_raced_total(k);

		if (!a)
			continue;
		printf("%-16s %11lu %11.0f %11lu %11lu %11lu %5.1f%%\n",
		       ft_op_names[k], a, a / run.elapsed, a - m - r, r, m,
		       100.0 * (double)(a - m) / a);
	}
	printf("\n%-16s %12s %12s\n", "race window", "hits", "per second");
	for (unsigned int w = 0; w < FW_NR; w++)
		printf("%-16s %12lu %12.1f%s\n", folio_window_name(w),
		       run.windows[w], run.windows[w] / run.elapsed,
		       (ft.o.require_windows & (1u << w)) ? "  (required)" : "");
	exit_rc = run.result == FT_PASS ? 0 : run.result == FT_FAIL ? 1 :
		  128 + run.signal;
	if (ft_write_json(&run, &scenario)) {
		/* checked writable at the start; the disk changed under us */
		fprintf(stderr, "foliotorture: the JSON report was not written\n");
		if (!exit_rc)
			exit_rc = 2;
	}
	ft_print_summary(&run, &scenario);
	free(ft.workers);
	free(ft.files);
	free(ft.mms);
	folio_thread_offline();
	return exit_rc;
}
