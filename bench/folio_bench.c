/* SPDX-License-Identifier: MIT */
/*
 * folio_bench.c - benchmarks of libfolio.
 *
 *   ref     ns per folio_try_get()+folio_put() vs a bare seq_cst
 *           atomic_fetch_add()+atomic_fetch_sub(), 1 and 2 threads,
 *           private and shared (bench_ref.c; target ratio <= 1.3)
 *   lookup  lockless filemap_get_folio() vs a pthread-mutex lookup,
 *           random indices over 4096 folios (bench_lookup.c; target >= 5x
 *           at 2 threads)
 *   memory  memmap + descriptor bytes per page for orders 0, 2, 4, 9
 *           (bench_memory.c; the kernel pays 64)
 *   gup     batched gup_fast()+unpin_user_pages() vs the per-page
 *           baseline, GET and PIN, order-9 folios PMD- and PTE-mapped
 *           (bench_gup.c; floors 20.8x GET, 32.9x PIN)
 *   lazyfree  reclaim of order-4 lazyfree folios, batched unmap vs per
 *           PTE (bench_lazyfree.c; floor 2.5x)
 *   pmd     reclaim of PMD-mapped lazyfree folios, discard vs split +
 *           per PTE (bench_lazyfree.c; floor 3.5x)
 *   lock    folio_lock()+folio_unlock() pairs/s, hashed wait table vs
 *           per-folio wait list, 1-8 threads (bench_lock.c; no target)
 *
 * Each prints a table and one "BENCH ..." line per measurement.
 *
 * Run:   build/release/bench/folio_bench [--quick] [--only ref|lookup|memory|gup|lazyfree|pmd|lock|window]
 * ctest: ctest --preset bench      (bench.ref, bench.lookup, bench.memory,
 *                                   bench.gup, bench.lazyfree, bench.pmd,
 *                                   bench.lock)
 *        unit.bench_smoke runs --quick with the ordinary tests.
 * Numbers mean something only in a release build (no FOLIO_DEBUG, no
 * FOLIO_HOOKS, no sanitizer) on an otherwise idle machine.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/rcu.h"
#include "bench.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(undefined_behavior_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif

static const struct {
	const char *name;
	int (*run)(const struct bench_opts *o);
} benches[] = {
	{ "ref", bench_ref },
	{ "lookup", bench_lookup },
	{ "memory", bench_memory },
	{ "gup", bench_gup },
	{ "lazyfree", bench_lazyfree },
	{ "pmd", bench_pmd },
	{ "lock", bench_lock },
	{ "window", bench_window },
};

#define NR_BENCHES (sizeof(benches) / sizeof(benches[0]))

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [--quick] [--only NAME] [--help]\n"
		"  --quick      much shorter runs (a smoke check, no verdicts)\n"
		"  --only NAME  run one benchmark: ref, lookup, memory,\n"
		"               gup, lazyfree, pmd, lock or window\n"
		"  --help       this text\n",
		prog);
}

/* The 1-minute load average, or -1: a busy machine makes numbers noisy. */
static double load_average(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load;
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lf", &load);
	fclose(f);
	return n == 1 ? load : -1;
}

static void print_config(struct bench_opts *o)
{
	bool warn = false;

	printf("folio_bench: %s run, best of %u clean reps x %.2fs per configuration\n",
	       o->quick ? "QUICK (smoke)" : "full", o->reps, o->seconds);
	printf("  benchmarks: %s\n", o->only ? o->only : "ref lookup memory gup lazyfree pmd lock window");
	printf("  cpus: %d usable, workers pinned one per cpu; up to %d threads\n",
	       o->nr_cpus, BENCH_MAX_THREADS);
	printf("  memory world: %lu pages\n", o->mem_pages);
	printf("  load average: %.2f; disturbed reps detected: %s\n",
	       load_average(),
	       bench_have_run_delay() ? "yes (schedstat run delay)" : "no");
	printf("  compiler: %s", __VERSION__);
#ifdef __OPTIMIZE__
	printf(", optimised");
#else
	printf(", NOT optimised");
	warn = true;
#endif
#ifdef FOLIO_DEBUG
	printf(", FOLIO_DEBUG");
	warn = true;
#endif
#ifdef FOLIO_HOOKS
	printf(", FOLIO_HOOKS");
	warn = true;
#endif
#ifdef BENCH_SANITIZED
	printf(", sanitizer");
	warn = true;
#endif
	printf("\n");
	if (warn)
		printf("  WARNING: not a release build; timings are not representative\n");
	if (warn || o->quick)
		printf("  targets not judged (met=n/a): %s\n",
		       o->quick ? "quick run" : "not a release build");
	o->judge = !warn && !o->quick;
	if (o->nr_cpus < BENCH_MAX_THREADS)
		printf("  WARNING: fewer cpus than threads; 2-thread runs time-share\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .seconds = 0.5, .reps = 5,
				.mem_pages = 1ul << 18 };
	int c, failed = 0, ran = 0;

	while ((c = getopt_long(argc, argv, "hqo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		case 'q':
			o.quick = true;
			break;
		case 'o':
			o.only = optarg;
			break;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}
	if (o.only) {
		size_t i;

		for (i = 0; i < NR_BENCHES; i++)
			if (!strcmp(o.only, benches[i].name))
				break;
		if (i == NR_BENCHES) {
			fprintf(stderr, "%s: unknown benchmark '%s'\n",
				argv[0], o.only);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (o.quick) {
		o.seconds = 0.02;
		o.reps = 1;
		o.mem_pages = 1ul << 15;
	}
	o.nr_cpus = bench_allowed_cpus();
	print_config(&o);

	folio_thread_online();
	for (size_t i = 0; i < NR_BENCHES; i++) {
		if (o.only && strcmp(o.only, benches[i].name))
			continue;
		ran++;
		if (benches[i].run(&o)) {
			fprintf(stderr, "folio_bench: %s FAILED\n",
				benches[i].name);
			failed++;
		}
	}
	folio_thread_offline();
	printf("\nfolio_bench: %d benchmark(s) run, %d failed; load average now %.2f\n",
	       ran, failed, load_average());
	return failed ? 1 : 0;
}
