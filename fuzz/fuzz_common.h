/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h - helpers shared by the fuzz targets, their standalone
 * main and folio-replay: run a program and abort on a finding, read an
 * input file, walk the inputs named on a command line.
 */
#ifndef FT_FUZZ_COMMON_H
#define FT_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prog.h"
#include "vm.h"

#define FUZZ_ENCODED_MAX PROG_ENCODED_MAX

/*
 * The fuzz targets run the core's full checker after every
 * FUZZ_CHECK_EVERY-th op and at the end (vm.h: the model comparison still
 * runs after every op).  FOLIO_FUZZ_CHECK_EVERY=N overrides it (1: every
 * op, as folio-replay does); a bad value is a usage error.
 */
#define FUZZ_CHECK_EVERY 8

static inline unsigned int fuzz_check_every(void)
{
	static unsigned int every;
	const char *e;
	char *end;
	unsigned long n;

	if (every)
		return every;
	e = getenv("FOLIO_FUZZ_CHECK_EVERY");
	if (!e || !*e) {
		every = FUZZ_CHECK_EVERY;
		return every;
	}
	n = strtoul(e, &end, 10);
	if (*end || n < 1 || n > 1000000) {
		fprintf(stderr, "FOLIO_FUZZ_CHECK_EVERY=%s: want a number "
			"1..1000000 (1: the full checker after every op)\n", e);
		exit(2);
	}
	every = (unsigned int)n;
	return every;
}

/* Fuzz targets: run @p quietly; a finding (or a broken VM) aborts. */
static inline void fuzz_run_or_abort(const char *who, const struct prog *p)
{
	struct vm_opts o = { .trace = NULL, .report = stderr,
			     .check_every = fuzz_check_every() };
	struct vm_finding f;
	int rc;

	rc = vm_run(p, &o, &f);
	if (rc == 0)
		return;
	if (rc == 1)
		fprintf(stderr, "%s: finding at op %u: %s: %s\n", who, f.op,
			f.rule, f.detail);
	else
		fprintf(stderr, "%s: vm_run failed to set up (rc %d)\n", who, rc);
	abort();
}

/*
 * libFuzzer's custom mutators (fuzz_ops.c, fuzz_sched.c): every input the
 * fuzzer writes names its format version (prog.h), so a crash file keeps
 * its meaning when ops are added.  The prefix is taken off, the rest is
 * mutated (so the engine never spends mutations on it), and the current
 * version's prefix goes in front: the mutant is a new program of the
 * current version, whatever its parent's.  Returns the new size; @max
 * counts the prefix.  LLVMFuzzerMutate is libFuzzer's: weak, since the
 * standalone driver has none; neither it nor AFL++'s driver calls the
 * custom mutators (AFL++ inputs keep whatever prefix their seeds have).
 */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max)
	__attribute__((weak));

static inline size_t fuzz_mutate_versioned(uint8_t *data, size_t size,
					   size_t max)
{
	struct prog_format f;
	size_t skip = prog_format_detect(&f, data, size);

	if (!LLVMFuzzerMutate)
		return size;
	if (max <= PROG_PREFIX_BYTES)	/* no room for a body: v1 unprefixed */
		return LLVMFuzzerMutate(data, size < max ? size : max, max);
	size -= skip;
	if (skip)
		memmove(data, data + skip, size);
	if (size > max - PROG_PREFIX_BYTES)
		size = max - PROG_PREFIX_BYTES;
	size = LLVMFuzzerMutate(data, size, max - PROG_PREFIX_BYTES);
	memmove(data + PROG_PREFIX_BYTES, data, size);
	prog_format_write(data);
	return PROG_PREFIX_BYTES + size;
}

/*
 * Read @path fully into a malloc'ed buffer (free it; may be NULL when the
 * file is empty).  0 on success; -1 with errno set; -2 if it is larger
 * than @limit bytes.
 */
static inline int fuzz_read_file(const char *path, size_t limit,
				 uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	if (!f)
		return -1;
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > limit) {
			free(buf);
			fclose(f);
			return -2;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	fclose(f);
	/* Exact size, so ASan sees reads past the end (malloc(0) too). */
	*data = malloc(len);
	if (*data || !len) {
		if (len)
			memcpy(*data, buf, len);
		free(buf);
	} else {
		*data = buf;
	}
	*size = len;
	return 0;
fail:
	err = errno;
	free(buf);
	fclose(f);
	errno = err;
	return -1;
}

static inline int fuzz_input_name_ok(const struct dirent *d)
{
	return d->d_name[0] != '.' && strncmp(d->d_name, "README", 6) != 0;
}

static inline int fuzz_input_name_cmp(const struct dirent **a,
				      const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Call @fn(path, ctx) for @arg if it is not a directory, else for every
 * input in it: sorted by name (strcmp), not recursive (subdirectories are
 * skipped), dotfiles and README* skipped.  Returns the number of calls, or
 * -1 with errno set if @arg cannot be listed.  A path that does not exist
 * is passed to @fn, which reports it when it fails to read it.
 */
static inline int fuzz_for_each_input(const char *arg,
				      void (*fn)(const char *path, void *ctx),
				      void *ctx)
{
	struct dirent **ents;
	struct stat st;
	int n, calls = 0;

	if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fn(arg, ctx);
		return 1;
	}
	n = scandir(arg, &ents, fuzz_input_name_ok, fuzz_input_name_cmp);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", arg, ents[i]->d_name);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fn(path, ctx);
			calls++;
		}
		free(ents[i]);
	}
	free(ents);
	return calls;
}

#endif /* FT_FUZZ_COMMON_H */
