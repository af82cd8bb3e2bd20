/* SPDX-License-Identifier: MIT */
/*
 * sanitizer.h - what a harness program does when a sanitizer reports: the
 * runtime stops the process at its first report (sanitizers/options.c);
 * before it does, the callback installed here prints the program's own
 * FAIL summary (and writes its reports), then the process exits 1, the
 * project's status for a finding.  So the summary line always agrees with
 * the exit status.  In a build without a sanitizer every call is a no-op.
 *
 * Not for libFuzzer-driven targets: libFuzzer installs its own death
 * callback to save the crashing input.
 */
#ifndef FT_HARNESS_SANITIZER_H
#define FT_HARNESS_SANITIZER_H

#include <stdbool.h>

/* FT_ASAN / FT_TSAN: this translation unit is built with that sanitizer
 * (clang's __has_feature, gcc's __SANITIZE_*__). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define FT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FT_ASAN)
#define FT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(FT_TSAN)
#define FT_TSAN 1
#endif

/* Run @fn (once) when a sanitizer is about to end the process, then _exit(1). */
void ft_sanitizer_on_report(void (*fn)(void));
/* The sanitizers compiled in ("address,undefined", "thread"), or NULL. */
const char *ft_sanitizer_name(void);
/*
 * LeakSanitizer, now rather than at exit: reports leaks and returns true if
 * there were any (false without LSan).  A program calls it before its
 * summary line, so a leak makes the summary FAIL instead of a report
 * after a PASS.
 */
bool ft_sanitizer_leak_check(void);
/*
 * TSan does not check the calling thread's accesses between begin and end:
 * for a report of a run being abandoned (foliotorture's hang report reads
 * the rings of workers that are still running, on purpose). The two must
 * pair before the thread exits: TSan dies on a thread that finishes with
 * ignores enabled. No-ops in other builds.
 */
void ft_sanitizer_ignore_begin(void);
void ft_sanitizer_ignore_end(void);
/* _exit(code) without the sanitizers' exit interceptors (their finalizer
 * can deadlock against a report in flight); flush stdio first. */
_Noreturn void ft_sanitizer_exit_now(int code);

#endif /* FT_HARNESS_SANITIZER_H */
