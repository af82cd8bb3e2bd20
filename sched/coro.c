/* SPDX-License-Identifier: MIT */
/*
 * coro.c - see coro.h.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coro.h"
#include "sanitizer.h"	/* FT_ASAN, FT_TSAN */

#ifdef FT_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#ifdef FT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned int flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned int flags);
#define FT_TSAN_NO_SYNC 1u	/* __tsan_switch_to_fiber_no_sync */
#endif

void ft_coro_main(struct ft_coro *c);

/* Before leaving the running coroutine for @to. */
static void switch_begin(struct ft_coro *from, struct ft_coro *to)
{
#ifdef FT_ASAN
	__sanitizer_start_switch_fiber(&from->asan_fake_stack, to->stack_lo,
				       to->stack_len);
#endif
#ifdef FT_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, FT_TSAN_NO_SYNC);
#endif
	(void)from;
	(void)to;
}

/* Back in @self, after a switch from @prev. */
static void switch_end(struct ft_coro *self, struct ft_coro *prev)
{
#ifdef FT_ASAN
	const void *lo;
	size_t len;

	__sanitizer_finish_switch_fiber(self->asan_fake_stack, &lo, &len);
	if (prev && !prev->stack) {	/* the OS thread's stack: learn it */
		prev->stack_lo = lo;
		prev->stack_len = len;
	}
#endif
	(void)self;
	(void)prev;
}

static struct ft_coro *entering_from;	/* who started a new coroutine */

void ft_coro_main(struct ft_coro *c)
{
	switch_end(c, entering_from);
	c->fn(c->arg);
	__builtin_trap();	/* fn never returns */
}

void ft_coro_init_main(struct ft_coro *m)
{
	memset(m, 0, sizeof(*m));
#ifdef FT_TSAN
	m->tsan_fiber = __tsan_get_current_fiber();
#endif
}

int ft_coro_create(struct ft_coro *c, size_t stack_size,
		   void (*fn)(void *arg), void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *base;

	memset(c, 0, sizeof(*c));
	stack_size = (stack_size + (size_t)page - 1) & ~((size_t)page - 1);
	base = mmap(NULL, stack_size + (size_t)page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	mprotect(base, (size_t)page, PROT_NONE);	/* overflow traps */
	c->stack = base;
	c->stack_size = stack_size + (size_t)page;
	c->stack_lo = base + page;
	c->stack_len = stack_size;
	c->fn = fn;
	c->arg = arg;
#ifdef FT_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef FT_CORO_SETJMP
	getcontext(&c->uc);
	c->uc.uc_stack.ss_sp = (void *)c->stack_lo;
	c->uc.uc_stack.ss_size = c->stack_len;
	c->uc.uc_link = NULL;
	makecontext(&c->uc, (void (*)(void))ft_coro_main, 1, c);
#else
	{
		/* ret into ft_ctx_entry with %rsp 16-aligned, %r12 = c */
		uintptr_t top = ((uintptr_t)c->stack_lo + c->stack_len) & ~(uintptr_t)15;
		uintptr_t *sp = (uintptr_t *)(top - 16 - 56);
		extern void ft_ctx_entry(void);

		memset(sp, 0, 56);
		sp[3] = (uintptr_t)c;		/* r12 (popped 4th) */
		sp[6] = (uintptr_t)ft_ctx_entry;	/* the return address */
		c->sp = sp;
	}
#endif
	return 0;
}

void ft_coro_stack_is_root(struct ft_coro *c)
{
#ifdef FT_ASAN
	if (c->stack && !c->lsan_root) {
		__lsan_register_root_region((const void *)c->stack_lo,
					    c->stack_len);
		c->lsan_root = true;
	}
#endif
	(void)c;
}

void ft_coro_destroy(struct ft_coro *c)
{
#ifdef FT_ASAN
	if (c->lsan_root)
		__lsan_unregister_root_region((const void *)c->stack_lo,
					      c->stack_len);
#endif
#ifdef FT_TSAN
	if (c->tsan_fiber)
		__tsan_destroy_fiber(c->tsan_fiber);
#endif
	if (c->stack)
		munmap(c->stack, c->stack_size);
	memset(c, 0, sizeof(*c));
}

#ifndef FT_CORO_SETJMP
void ft_ctx_switch(void **save_sp, void *load_sp);

void ft_coro_switch(struct ft_coro *from, struct ft_coro *to)
{
	switch_begin(from, to);
	entering_from = from;
	ft_ctx_switch(&from->sp, to->sp);
	switch_end(from, entering_from);
}
#else
/* Not in the function that called __builtin_setjmp (GCC's rule). */
static __attribute__((noinline, noreturn)) void jump_to(void **jb)
{
	__builtin_longjmp(jb, 1);
}

void ft_coro_switch(struct ft_coro *from, struct ft_coro *to)
{
	switch_begin(from, to);
	entering_from = from;
	if (__builtin_setjmp(from->jb) == 0) {
		if (!to->started && to->stack) {
			to->started = 1;
			setcontext(&to->uc);	/* first entry: ft_coro_main */
		}
		jump_to(to->jb);
	}
	switch_end(from, entering_from);
}
#endif
