/* SPDX-License-Identifier: MIT */
/*
 * extra_steps.c - a test-only variant of the scheduled core (CMake:
 * folio_core_sched(NAME EXTRA_STEPS)) in which every function of the core
 * begins with one more step: a relaxed load of a word nobody writes.
 * Compiled with -finstrument-functions, the compiler calls the entry hook
 * below at the top of every core function, inlined helpers included.
 *
 * The step changes nothing the protocol computes; it stands for the kind
 * of edit a developer makes every day (a helper that reads a flag, a
 * debug check) and that moves every later decision of a schedule written
 * as counts.  ctest fuzz.sched.anchors.proof runs the race seeds on this
 * core: each anchored seed must still hit its window, and it counts the
 * raw-count forms of the same seeds that miss theirs.
 *
 * The step is named for this function, not for the function it was added
 * to, so an anchor "Nth load in F" does not count it: an anchor counts the
 * steps of its own function only.
 */
#include <stdatomic.h>

#include "folio/sched.h"

static _Atomic unsigned long extra_word;
/* the step's site: a relaxed 8-byte load (memory_order_relaxed is 0) */
static const struct folio_site extra_site = {
	__FILE__, "ft_extra_step", __LINE__, FS_LOAD, memory_order_relaxed, 0,
	sizeof(unsigned long)
};

void __cyg_profile_func_enter(void *fn, void *call_site)
	__attribute__((no_instrument_function));
void __cyg_profile_func_exit(void *fn, void *call_site)
	__attribute__((no_instrument_function));

/*
 * The scheduler's hooks called directly, not through fa_load_relaxed: its
 * inline helpers would be instrumented too, and call back here forever.
 */
void __cyg_profile_func_enter(void *fn, void *call_site)
{
	unsigned long v;

	(void)fn;
	(void)call_site;
	if (!folio_sched_on)
		return;
	folio_sched_step(&extra_site, &extra_word);
	v = atomic_load_explicit(&extra_word, memory_order_relaxed);
	folio_sched_seen(&extra_site, &extra_word, v, 0, FS_READ);
}

void __cyg_profile_func_exit(void *fn, void *call_site)
{
	(void)fn;
	(void)call_site;
}
