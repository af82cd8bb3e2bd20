/* SPDX-License-Identifier: MIT */
/*
 * fuzz_empty.c - a fuzz target that does nothing, built with exactly the
 * flags of fuzz_ops: the engine's own cost, to compare exec/s against.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return 0;
}
