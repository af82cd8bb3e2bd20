/* SPDX-License-Identifier: MIT */
/*
 * switch_x86_64.S - the coroutine context switch (System V x86-64).
 *
 *   void ft_ctx_switch(void **save_sp, void *load_sp);
 *
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *save_sp, loads load_sp and restores the registers saved
 * there.  The caller-saved registers are the compiler's to spill at the
 * call; the floating-point control words are never changed by our code.
 * A new coroutine's stack is prepared by coro.c so that the first switch
 * "returns" into ft_ctx_entry with the coroutine in %r12.
 */
	.text
	.globl	ft_ctx_switch
	.type	ft_ctx_switch, @function
ft_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	ft_ctx_switch, .-ft_ctx_switch

/* First entry of a coroutine: %r12 holds it; never returns. */
	.globl	ft_ctx_entry
	.type	ft_ctx_entry, @function
ft_ctx_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	call	ft_coro_main
	ud2
	.cfi_endproc
	.size	ft_ctx_entry, .-ft_ctx_entry

	.section .note.GNU-stack,"",@progbits
