/* SPDX-License-Identifier: MIT */
/*
 * coro.h - coroutines for the deterministic scheduler: each logical thread
 * runs on its own stack on the one OS thread, and control moves only by an
 * explicit switch.  Created once, reused for every input.
 *
 * The switch is x86-64 assembly (switch_x86_64.S, a few ns); elsewhere,
 * or with FT_CORO_SETJMP, __builtin_setjmp/__builtin_longjmp switch, and a
 * new coroutine is entered once through ucontext.  Every switch tells
 * ASan (__sanitizer_{start,finish}_switch_fiber: it must know which stack
 * is live) and TSan (__tsan_switch_to_fiber, "no sync": a switch orders
 * nothing, so TSan reports data races between logical threads).
 */
#ifndef FT_CORO_H
#define FT_CORO_H

#include <stdbool.h>
#include <stddef.h>

#if !defined(FT_CORO_SETJMP) && !defined(__x86_64__)
#define FT_CORO_SETJMP 1
#endif

#ifdef FT_CORO_SETJMP
#include <ucontext.h>
#endif

struct ft_coro {
	void *sp;			/* saved stack pointer (asm switch) */
#ifdef FT_CORO_SETJMP
	void *jb[5];			/* __builtin_setjmp buffer */
	ucontext_t uc;			/* first entry only */
	int started;
#endif
	void *stack;			/* mapping, guard page first */
	size_t stack_size;
	const void *stack_lo;		/* usable stack, for ASan */
	size_t stack_len;
	void (*fn)(void *arg);
	void *arg;
	void *asan_fake_stack;		/* ASan's fake-stack save slot */
	void *tsan_fiber;		/* TSan's fiber, or NULL */
	bool lsan_root;			/* stack registered with LSan */
};

/* The OS thread's own context, to switch back to. */
void ft_coro_init_main(struct ft_coro *main);
/* A coroutine that runs fn(arg) when first switched to; fn never returns.
 * 0, or -1 if no memory. */
int ft_coro_create(struct ft_coro *c, size_t stack_size,
		   void (*fn)(void *arg), void *arg);
void ft_coro_destroy(struct ft_coro *c);
/*
 * LeakSanitizer scans the OS thread's stack, never a coroutine's: a run
 * abandoned at a finding leaves live pointers (an op's allocation in
 * flight) only there, and the exit-time leak check would report them.
 * Make the whole stack a root region (stale words in it may hide a leak:
 * only for a run that is over anyway).
 */
void ft_coro_stack_is_root(struct ft_coro *c);
/* Suspend @from (the running one) and run @to. */
void ft_coro_switch(struct ft_coro *from, struct ft_coro *to);

#endif /* FT_CORO_H */
