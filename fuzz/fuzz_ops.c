/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops.c - the binary-form fuzz target: decode the bytes as a program
 * (every byte string decodes, see prog.h) and run it on libfolio and the
 * reference model in lockstep; any difference or checker violation aborts.
 *
 * Built with libFuzzer (libfuzzer preset), AFL++'s driver (afl preset) or
 * standalone_main.c (every other preset: replays files and directories).
 */
#include "fuzz_common.h"

static struct prog prog;	/* static: no allocation per input */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed);
void __libfuzzer_is_present(void) __attribute__((weak));

/* libFuzzer: every input written carries the current format's prefix */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed)
{
	(void)seed;	/* LLVMFuzzerMutate draws from libFuzzer's own RNG */
	return fuzz_mutate_versioned(data, size, max);
}

/*
 * libFuzzer turns -len_control off for a target with a custom mutator (it
 * cannot tell whether one keeps to the length limit); this one only puts
 * 3 bytes before LLVMFuzzerMutate's output, so keep libFuzzer's default,
 * short inputs first, as fuzz_ops had before it had a mutator (unless the
 * command line says otherwise).  libFuzzer reads argv after this call;
 * other drivers (AFL++'s reads its last argument as a file) keep theirs.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char len_control[] = "-len_control=100";
	char **args;

	if (!__libfuzzer_is_present || !argc || !argv)
		return 0;
	for (int i = 1; i < *argc; i++)
		if (!strncmp((*argv)[i], "-len_control=", 13))
			return 0;
	args = malloc(((size_t)*argc + 2) * sizeof(*args));
	if (!args)
		return 0;
	memcpy(args, *argv, (size_t)*argc * sizeof(*args));
	args[(*argc)++] = len_control;
	args[*argc] = NULL;
	*argv = args;	/* kept for the process's life */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prog_decode(&prog, data, size);
	fuzz_run_or_abort("fuzz_ops", &prog);
	return 0;
}
