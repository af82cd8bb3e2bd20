/* SPDX-License-Identifier: MIT */
/*
 * interrupt.h - SIGINT/SIGTERM for the harness programs: the first signal
 * asks the program to stop at its next safe point (between two inputs,
 * after the workers park), check and report INTERRUPTED, exit 128 + N.
 * A second signal more than a second later ends the process at once
 * (the user insists); one within the second is the same request again:
 * timeout(1) sends its signal to the child and then to the whole process
 * group, so a child sees it twice.
 */
#ifndef FT_HARNESS_INTERRUPT_H
#define FT_HARNESS_INTERRUPT_H

#include <signal.h>

void ft_interrupt_install(void);
/* The signal that asked us to stop, or 0. */
int ft_interrupted(void);
/* Around creating worker threads: they inherit a mask without SIGINT and
 * SIGTERM, so the main thread is the one that takes them. */
void ft_interrupt_block(sigset_t *old);
void ft_interrupt_restore(const sigset_t *old);

#endif /* FT_HARNESS_INTERRUPT_H */
