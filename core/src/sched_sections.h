/* SPDX-License-Identifier: MIT */
/*
 * sched_sections.h - force-included (-include) into every file of the
 * scheduled core when its plain loads and stores are scheduler steps
 * (FOLIO_SCHED_PLAIN, clang): the core's own static data goes to two
 * sections of its own, so the scheduler tells a core global (the deferred
 * split queue, the zone, the slab caches) from the harness's and its own
 * by address: the linker brackets each with __start_ and __stop_ symbols.
 */
#pragma clang section bss = "folio_shared_bss" data = "folio_shared_data"
