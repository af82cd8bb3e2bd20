/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sched.c - the interleaving fuzz target: the bytes are a world, 2 to
 * 4 logical threads' op programs and a schedule (sched_prog.h); the
 * threads run on the scheduled build of the core under the deterministic
 * scheduler (sched/), so the fuzzer mutates which thread runs at
 * every shared-memory step, and every finding replays byte for byte
 * (folio-replay --sched FILE draws its race).
 *
 * Oracles (sched_run.h): the core's assertions, ASan/UBSan, deadlock,
 * livelock, the quiescent checker with every handle declared, leaks.
 * Feedback: libFuzzer's (or AFL++'s) edge coverage plus the scheduler's
 * reads-from pairs (FT_SCHED_RF=0 turns them off).
 *
 * Built with libFuzzer (libfuzzer preset), AFL++'s driver (afl preset) or
 * standalone_main.c (every other preset).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sched_run.h"

static struct sched_prog prog;	/* static: no allocation per input */
static bool rf;
static int mm = -1;		/* FT_SCHED_MM, or -1: the input's own */

/* Per-run averages for the benchmark (with libFuzzer's -print_final_stats=1). */
static struct {
	unsigned long runs, steps, decisions, switches, preemptions, prng;
} tot;

static void print_stats(void)
{
	double n = tot.runs ? (double)tot.runs : 1.0;

	fprintf(stderr, "fuzz_sched: %lu runs; per run: %.1f steps, %.1f "
		"decisions, %.1f context switches, %.1f preemptions, %.1f "
		"PRNG decisions\n", tot.runs, (double)tot.steps / n,
		(double)tot.decisions / n, (double)tot.switches / n,
		(double)tot.preemptions / n, (double)tot.prng / n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * libFuzzer: every input the fuzzer writes carries the current format's
 * prefix (fuzz_common.h).  FT_SCHED_MM=sc|tso|pso|arm: every input runs
 * under that memory model, and every input the fuzzer writes carries it
 * in its mode byte, so a crash file replays in its mode without the
 * variable.
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed)
{
	const size_t mode = PROG_PREFIX_BYTES + PROG_HEADER_BYTES;
	struct prog_format f;

	(void)seed;	/* LLVMFuzzerMutate draws from libFuzzer's own RNG */
	size = fuzz_mutate_versioned(data, size, max);
	/* the mode byte is after the prefix (absent only when max is tiny) */
	if (mm >= 0 && prog_format_detect(&f, data, size) && size > mode)
		data[mode] = (uint8_t)((data[mode] & ~3u) | (unsigned int)mm);
	return size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mm = sched_mm_from_env();
	if (mm > 0 && !fs_plain_steps()) {
		fprintf(stderr, "FT_SCHED_MM=%s: weak memory needs the plain "
			"accesses as steps (a clang build with libFuzzer or the "
			"asan preset); this build has none\n",
			wmm_name((enum fs_mm)mm));
		exit(2);
	}
	rf = fs_rf_default();
	for (int i = 1; argc && argv && i < *argc; i++)
		if (!strcmp((*argv)[i], "-print_final_stats=1"))
			atexit(print_stats);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sched_run_opts o = { .report = stderr, .rf = rf,
				    .abort_on_finding = true };
	struct sched_result r;
	int rc;

	sched_prog_decode(&prog, data, size);
	if (mm >= 0)
		prog.mm = (unsigned int)mm;
	rc = sched_run(&prog, &o, &r);
	tot.runs++;
	tot.steps += r.st.steps;
	tot.decisions += r.st.decisions;
	tot.switches += r.st.switches;
	tot.preemptions += r.st.preemptions;
	tot.prng += r.st.prng_used;
	if (rc == 0)
		return 0;
	if (rc == 1)
		fprintf(stderr, "fuzz_sched: finding: %s: %s\n", r.rule, r.detail);
	else
		fprintf(stderr, "fuzz_sched: the world could not be set up\n");
	abort();
}
