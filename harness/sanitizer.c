/* SPDX-License-Identifier: MIT */
/*
 * sanitizer.c - see sanitizer.h.
 */
#define _GNU_SOURCE	/* syscall() */
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sanitizer.h"

#ifdef FOLIO_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#ifdef FT_ASAN
#include <sanitizer/lsan_interface.h>
#define FT_HAVE_LSAN 1
#endif
#ifdef FT_TSAN
/* The dynamic annotations TSan exports: stop checking this thread. */
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
void AnnotateIgnoreSyncBegin(const char *file, int line);
void AnnotateIgnoreSyncEnd(const char *file, int line);
#endif

static void (*user_fn)(void);
static atomic_flag dying = ATOMIC_FLAG_INIT;

/*
 * Called by the runtime's Die(), in the reporting thread, with the
 * runtime's report lock held: another thread that reports meanwhile waits
 * on that lock, so user_fn runs once.  It may print and write files.
 * Under TSan it reads what other threads are still writing (counters,
 * the run's state): a second report from inside Die() would wait for the
 * lock this thread holds, forever, so this thread stops being checked.
 */
/*
 * Leave at once, past the sanitizer's own exit path: TSan's _exit
 * interceptor finalizes (counts threads under the thread registry lock),
 * and a thread that is reporting a race -- even one a suppression will
 * drop -- holds that lock while it waits for the report lock, which the
 * dying thread's report holds: both wait forever.  The sanitizers' own
 * Die() leaves by the raw system call too.
 */
_Noreturn void ft_sanitizer_exit_now(int code)
{
	syscall(SYS_exit_group, code);
	_exit(code);	/* not reached */
}

static void on_death(void)
{
#ifdef FT_TSAN
	/*
	 * Sync too: an instrumented atomic (the flag below, the counters the
	 * summary reads) takes this thread's TSan slot lock, which another
	 * thread can hold while it waits for the report lock that this
	 * thread's own report (a crash) holds: a deadlock inside TSan, seen
	 * as a hung stress.self_test_crash.  Ignored, atomics are plain.
	 */
	AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
	AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
	AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
	if (!atomic_flag_test_and_set(&dying) && user_fn) {
		fflush(stdout);
		fprintf(stderr, "\n");
		user_fn();
	}
	fflush(stdout);
	fflush(stderr);
#ifdef FT_TSAN
	/* a thread that exits with ignores enabled is itself a TSan error */
	AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
	AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
	AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
#endif
	ft_sanitizer_exit_now(1);
}

void ft_sanitizer_ignore_begin(void)
{
#ifdef FT_TSAN
	AnnotateIgnoreSyncBegin(__FILE__, __LINE__);	/* see on_death */
	AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
	AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
}

void ft_sanitizer_ignore_end(void)
{
#ifdef FT_TSAN
	AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
	AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
	AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
#endif
}

void ft_sanitizer_on_report(void (*fn)(void))
{
	user_fn = fn;
	__sanitizer_set_death_callback(on_death);
}

const char *ft_sanitizer_name(void)
{
	return FOLIO_SANITIZERS;
}

bool ft_sanitizer_leak_check(void)
{
#ifdef FT_HAVE_LSAN
	return __lsan_do_recoverable_leak_check() != 0;
#else
	return false;
#endif
}

#else

void ft_sanitizer_on_report(void (*fn)(void))
{
	(void)fn;
}

const char *ft_sanitizer_name(void)
{
	return NULL;
}

bool ft_sanitizer_leak_check(void)
{
	return false;
}

void ft_sanitizer_ignore_begin(void)
{
}

_Noreturn void ft_sanitizer_exit_now(int code)
{
	_exit(code);
}

void ft_sanitizer_ignore_end(void)
{
}

#endif
