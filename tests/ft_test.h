/* SPDX-License-Identifier: MIT */
/*
 * ft_test.h - the smallest test harness that fits: CHECK records a failure
 * and carries on (so one run shows every broken expectation), FT_RUN runs a
 * test function and prints its name, ft_done() is the exit code.
 *
 * Written by hand rather than taking cmocka: tests here start RCU threads
 * and worker threads, and must keep running after a failed check to reach
 * the teardown and leak check; a longjmp-based framework gets in the way.
 */
#ifndef FT_TEST_H
#define FT_TEST_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_int ft_failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",       \
				__FILE__, __LINE__, #cond);                \
			atomic_fetch_add(&ft_failures, 1);                 \
		}                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		long long __a = (long long)(a), __b = (long long)(b);      \
		if (__a != __b) {                                          \
			fprintf(stderr,                                    \
				"%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, __a, __b);     \
			atomic_fetch_add(&ft_failures, 1);                 \
		}                                                          \
	} while (0)

#define FT_RUN(fn)                                                         \
	do {                                                               \
		int __before = atomic_load(&ft_failures);                  \
		fn();                                                      \
		printf("%-48s %s\n", #fn,                                  \
		       atomic_load(&ft_failures) == __before ? "ok" : "FAILED"); \
		fflush(stdout);                                            \
	} while (0)

static inline int ft_done(void)
{
	int n = atomic_load(&ft_failures);

	printf("%s: %d failed check(s)\n", n ? "FAIL" : "PASS", n);
	return n ? 1 : 0;
}

#endif /* FT_TEST_H */
