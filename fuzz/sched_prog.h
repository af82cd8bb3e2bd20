/* SPDX-License-Identifier: MIT */
/*
 * sched_prog.h - inputs of fuzz_sched: a world, 2 to 4 logical threads each
 * with a short op-VM program (its own handles h0..h15), a scheduling mode,
 * and the schedule bytes that decide, at every step where several threads
 * could run, which one does (sched/sched.h has the rule).
 *
 * Binary form (every byte string decodes; decode(encode(p)) == p):
 *   [3 bytes]   the format prefix, as in prog.h (none: version 1); the
 *               encoder writes PROG_FORMAT_CURRENT's
 *   3 bytes     the world, as in prog.h
 *   1 byte      b: PCT mode if b & 4, depth d = 1 + ((b >> 3) & 3);
 *               CPUs c = (b >> 5) & 3 (0: each thread its own CPU,
 *               1..3: thread id modulo c); memory model b & 3 (0 sc,
 *               1 tso, 2 pso, 3 arm: sched/wmm.h)
 *   ops         as in prog.h (an opcode byte below SCHED_SEP, then its
 *               argument bytes, whatever their values), thread 0's first;
 *               a byte SCHED_SEP..0xfe where an opcode is due starts the
 *               next thread's ops (2 to 4 threads: a fifth section joins
 *               the fourth, missing ones are empty; past SCHED_MAX_OPS a
 *               thread's ops are dropped);
 *   0xff        where an opcode is due: the schedule starts
 *   the rest    schedule bytes (at most SCHED_MAX_BYTES are kept)
 * Separators rather than counts, so a fuzzer's insertion or deletion of
 * an op disturbs that op only, as in fuzz_ops.  This layout, the mode
 * byte's bits included, is format version 1's and 2's (prog.h; v2 only
 * appends an op, so its opcode bytes fold modulo 24: still all below
 * SCHED_SEP): a use of bit 7 (ignored in v1 and v2), another meaning of
 * any mode bit or separator is a new version.
 *
 * Text form (sched_text.c), '#' comments, round-trips with the binary one:
 *   world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2
 *   mode bytes                      (or: mode pct depth=2; either may end
 *                                    in cpus=1..3: threads share CPUs,
 *                                    and mm=tso|pso|arm: weak memory)
 *   thread 0:
 *   fault mm=0 va=0 order=2 write=1
 *   thread 1:
 *   gup mm=0 va=0 nr=4 flags=5
 *   schedule 0 0 1 3*12 255         (bytes; B*N is B repeated N times;
 *                                    several schedule lines concatenate)
 * or, instead of "schedule" lines, an anchored schedule (sched_anchor.h):
 *   run 0 until before xchg in collapse_huge_page
 *   run 1 until done
 */
#ifndef FT_SCHED_PROG_H
#define FT_SCHED_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prog.h"
#include "sched_anchor.h"

#define SCHED_MIN_THREADS 2
#define SCHED_MAX_THREADS 4
#define SCHED_MAX_OPS 16
#define SCHED_MAX_BYTES 4096
#define SCHED_HEADER_BYTES (PROG_HEADER_BYTES + 1)
#define SCHED_SEP 0xf0		/* ..0xfe: next thread */
#define SCHED_START 0xff	/* the schedule follows */

enum sched_mode { SCHED_BYTES, SCHED_PCT };

struct sched_prog {
	struct prog_world world;
	unsigned int nthreads;
	enum sched_mode mode;
	unsigned int pct_depth;		/* 1..4 */
	unsigned int cpus;		/* 0: a CPU per thread; 1..3: modulo */
	unsigned int mm;		/* memory model: enum fs_mm (sc, tso,
					 * pso, arm) */
	unsigned int nops[SCHED_MAX_THREADS];
	struct prog_op ops[SCHED_MAX_THREADS][SCHED_MAX_OPS];
	unsigned int nsched;
	uint8_t sched[SCHED_MAX_BYTES];
	/* an anchored schedule (text only, sched_anchor.h): when set, it
	 * makes every decision and nsched is 0 */
	unsigned int nanchors;
	struct sched_anchor anchors[SCHED_MAX_ANCHORS];
};

/* Never fails. */
void sched_prog_decode(struct sched_prog *p, const uint8_t *data, size_t size);
/* Returns the bytes written (at most sched_prog_encoded_max()). */
size_t sched_prog_encode(const struct sched_prog *p, uint8_t *out, size_t cap);
size_t sched_prog_encoded_max(void);
/* 0 if equal, else 1 and the first difference in @buf. */
int sched_prog_diff(const struct sched_prog *a, const struct sched_prog *b,
		    char *buf, size_t len);

/* Text form: 0, or -1 with @err filled. */
int sched_prog_parse_text(struct sched_prog *p, const char *text, size_t len,
			  struct prog_text_error *err);
void sched_prog_print_text(const struct sched_prog *p, FILE *out);
/* Does this text look like a fuzz_sched program (a "thread N:" line)? */
int sched_prog_text_is_sched(const uint8_t *data, size_t size);

#endif /* FT_SCHED_PROG_H */
