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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prog_decode(&prog, data, size);
	fuzz_run_or_abort("fuzz_ops", &prog);
	return 0;
}
