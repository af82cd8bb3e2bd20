/* SPDX-License-Identifier: MIT */
/*
 * sched_prog.c - the binary form of fuzz_sched inputs (see sched_prog.h).
 */
#include <string.h>

#include "sched_prog.h"

void sched_prog_decode(struct sched_prog *p, const uint8_t *data, size_t size)
{
	uint8_t hdr[PROG_HEADER_BYTES] = { 0 };
	struct prog_format f;
	/* the format prefix (prog.h), then the world at @skip */
	size_t skip = prog_format_detect(&f, data, size);
	size_t pos = skip + SCHED_HEADER_BYTES;
	unsigned int t = 0;
	uint8_t b;

	memset(p, 0, sizeof(*p));
	if (size > skip)	/* (data may be NULL when size is 0) */
		memcpy(hdr, data + skip, size - skip < sizeof(hdr) ?
		       size - skip : sizeof(hdr));
	prog_world_decode(&p->world, hdr);
	b = size > skip + PROG_HEADER_BYTES ? data[skip + PROG_HEADER_BYTES] : 0;
	p->mode = b & 4 ? SCHED_PCT : SCHED_BYTES;
	/* normalised: the depth means nothing in bytes mode */
	p->pct_depth = p->mode == SCHED_PCT ? 1 + ((b >> 3) & 3u) : 1;
	p->cpus = (b >> 5) & 3u;
	p->mm = b & 3u;
	while (pos < size) {
		struct prog_op op;

		if (data[pos] == SCHED_START) {
			pos++;
			break;
		}
		if (data[pos] >= SCHED_SEP) {
			pos++;
			if (t + 1 < SCHED_MAX_THREADS)
				t++;
			continue;
		}
		pos = prog_op_decode(f.version, &p->world, &op, data, size, pos);
		if (p->nops[t] < SCHED_MAX_OPS)
			p->ops[t][p->nops[t]++] = op;
	}
	p->nthreads = t + 1 < SCHED_MIN_THREADS ? SCHED_MIN_THREADS : t + 1;
	while (pos < size && p->nsched < SCHED_MAX_BYTES)
		p->sched[p->nsched++] = data[pos++];
}

size_t sched_prog_encoded_max(void)
{
	return PROG_PREFIX_BYTES + SCHED_HEADER_BYTES +
	       SCHED_MAX_THREADS * (1 + SCHED_MAX_OPS * (1 + PROG_MAX_ARGS)) +
	       1 + SCHED_MAX_BYTES;
}

size_t sched_prog_encode(const struct sched_prog *p, uint8_t *out, size_t cap)
{
	size_t n;

	if (cap < sched_prog_encoded_max())
		return 0;
	/* the current format's prefix (prog.h); the rest is relative to it */
	prog_format_write(out);
	out += PROG_PREFIX_BYTES;
	cap -= PROG_PREFIX_BYTES;
	n = SCHED_HEADER_BYTES;
	prog_world_encode(&p->world, out);
	out[PROG_HEADER_BYTES] =
		(uint8_t)((p->mode == SCHED_PCT ? 4u : 0u) |
			  (p->pct_depth - 1) << 3 | (p->cpus & 3u) << 5 |
			  (p->mm & 3u));
	for (unsigned int t = 0; t < p->nthreads; t++) {
		if (t)
			out[n++] = SCHED_SEP;
		for (unsigned int i = 0; i < p->nops[t]; i++)
			n += prog_op_encode(&p->world, &p->ops[t][i], out + n,
					    cap - n);
	}
	if (p->nsched) {
		out[n++] = SCHED_START;
		memcpy(out + n, p->sched, p->nsched);
		n += p->nsched;
	}
	return PROG_PREFIX_BYTES + n;
}

#define DIFF(...) do { snprintf(buf, len, __VA_ARGS__); return 1; } while (0)

int sched_prog_diff(const struct sched_prog *a, const struct sched_prog *b,
		    char *buf, size_t len)
{
	if (memcmp(&a->world, &b->world, sizeof(a->world)))
		DIFF("the worlds differ");
	if (a->nthreads != b->nthreads || a->mode != b->mode ||
	    a->pct_depth != b->pct_depth || a->cpus != b->cpus ||
	    a->mm != b->mm)
		DIFF("threads %u/%u, mode %d/%d, depth %u/%u, cpus %u/%u, "
		     "mm %u/%u", a->nthreads, b->nthreads, a->mode, b->mode,
		     a->pct_depth, b->pct_depth, a->cpus, b->cpus, a->mm, b->mm);
	for (unsigned int t = 0; t < a->nthreads; t++) {
		if (a->nops[t] != b->nops[t])
			DIFF("thread %u: %u ops, %u ops", t, a->nops[t], b->nops[t]);
		for (unsigned int i = 0; i < a->nops[t]; i++) {
			const struct prog_op *x = &a->ops[t][i], *y = &b->ops[t][i];

			if (x->code != y->code ||
			    memcmp(x->arg, y->arg, sizeof(x->arg)))
				DIFF("thread %u op %u differs", t, i);
		}
	}
	if (a->nsched != b->nsched || memcmp(a->sched, b->sched, a->nsched))
		DIFF("the schedules differ (%u, %u bytes)", a->nsched, b->nsched);
	if (a->nanchors != b->nanchors ||
	    memcmp(a->anchors, b->anchors, a->nanchors * sizeof(a->anchors[0])))
		DIFF("the anchored schedules differ (%u, %u lines)",
		     a->nanchors, b->nanchors);
	return 0;
}
