/* SPDX-License-Identifier: MIT */
/*
 * options.c - the sanitizer options and TSan suppressions, compiled into
 * every executable of a sanitizer build (CMakeLists.txt adds this file to
 * each one), so a binary run by hand behaves exactly as it does under
 * ctest and CI, with no *SAN_OPTIONS in the environment.  A variable set
 * in the environment still wins, option by option: the runtimes parse
 * these defaults first and the environment after.
 *
 * Every sanitizer stops at the first report (halt_on_error) and exits 1
 * (exitcode), so "a sanitizer report" and "a finding" share one exit
 * status; programs that print a summary line install a death callback
 * (harness/sanitizer.h) to print FAIL before the process ends.
 * abort_on_error=1 (ASan) is what AFL++ and core dumps want; programs
 * with a death callback _exit(1) before the runtime aborts.
 */
/* FOLIO_SANITIZERS: the -fsanitize= list of this build (CMakeLists.txt) */
#ifdef FOLIO_SANITIZERS

#define FT_VISIBLE __attribute__((visibility("default"), used))

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__tsan_default_options(void);
const char *__tsan_default_suppressions(void);

FT_VISIBLE const char *__asan_default_options(void)
{
	/* detect_leaks: every test and run ends with nothing allocated */
	return "halt_on_error=1:abort_on_error=1:detect_leaks=1:exitcode=1";
}

FT_VISIBLE const char *__ubsan_default_options(void)
{
	/* -fno-sanitize-recover=all makes every report fatal already */
	return "halt_on_error=1:print_stacktrace=1:exitcode=1";
}

FT_VISIBLE const char *__tsan_default_options(void)
{
	/*
	 * TSan's own exitcode is 66: 1 is the project's "finding".
	 * history_size=7 (the most): TSan drops a race report when it can no
	 * longer restore the stack of the earlier access from the thread's
	 * trace, and the stress workers fill the default trace fast; with
	 * the default, stress.self_test_sanitizer's planted race went
	 * unreported in 4 runs of 12, with 7 in none of 28.
	 */
	return "halt_on_error=1:second_deadlock_stack=1:exitcode=1:"
	       "history_size=7";
}

/*
 * ThreadSanitizer suppressions for Debian 12's liburcu 0.13 (urcu-memb),
 * which is not built with TSan.
 *
 * Rules: one function per line, anchored (^...$) so it matches that exact
 * frame name and nothing else; each line says which report it silences
 * and why that report is not a bug in our code.  Never a whole library: no
 * "race:liburcu", no "called_from_lib:liburcu", no "thread:liburcu" -- TSan
 * also matches module names and thread-creation stacks, so a library-wide
 * line would hide every race in a call_rcu callback (tsan.planted_race_
 * callback fails if one is added).
 */
FT_VISIBLE const char *__tsan_default_suppressions(void)
{
	return
	/*
	 * urcu_common_wake_up_gp() is inlined into every rcu_read_unlock()
	 * from <urcu/static/urcu-common.h> (we build with _LGPL_SOURCE), so
	 * TSan instruments it: readers leaving their read-side sections while
	 * synchronize_rcu() sleeps all read urcu_memb_gp.futex and store 0 to
	 * it with plain (volatile) accesses.  liburcu means those to be racy
	 * (it only issues a FUTEX_WAKE; the grace-period thread rechecks),
	 * and the only object they touch is urcu_memb_gp.futex.  Seen with
	 * two or more readers, e.g. unit.smoke_mt.
	 */
	"race:^urcu_common_wake_up_gp$\n"
	/*
	 * urcu_memb_barrier() (rcu_barrier) calloc()s a completion and
	 * malloc()s one work item per call_rcu thread, queues them with
	 * lock-free wfcqueue ops, and whichever side drops the last reference
	 * free()s them: often the call_rcu worker thread.  The malloc/free
	 * interceptors are the only accesses TSan sees, and the hand-off
	 * (uatomic refcount + futex) is invisible to it, so it reports "free
	 * in T1 vs. calloc in urcu_memb_barrier".  The memory is liburcu's
	 * own; our callbacks are ordered against rcu_barrier_model() by the
	 * annotations in core/src/rcu.c.  Seen in every test whose teardown
	 * calls folio_world_destroy().
	 */
	"race:^urcu_memb_barrier$\n";
}

#else
/* Not a sanitizer build: nothing to set (ISO C wants one declaration). */
typedef int ft_no_sanitizer_options;
#endif
