/* SPDX-License-Identifier: MIT */
/*
 * sched_text.c - the text form of fuzz_sched inputs (see sched_prog.h),
 * built on the op-VM text form's pieces (prog_text.c): the same world and
 * op lines, plus "mode", "thread N:" and "schedule" lines.  Untrusted
 * input, like prog_text.c: any bytes give a program or a positioned error.
 */
#include <stdbool.h>
#include <string.h>

#include "sched/wmm.h"
#include "sched_prog.h"

static int tok_is(const struct prog_text_tok *t, const char *w)
{
	return strlen(w) == t->n && !memcmp(t->s, w, t->n);
}

/* A decimal number of at most 10 digits, or -1. */
static long long tok_num(const char *s, size_t n)
{
	long long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_mode(struct sched_prog *p, struct prog_text_line *l,
		      struct prog_text_error *err)
{
	struct prog_text_tok t;
	bool more;

	if (!prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, l->end_col,
				      "'mode' needs 'bytes' or 'pct'");
	if (tok_is(&t, "bytes")) {
		p->mode = SCHED_BYTES;
		p->pct_depth = 1;
		more = prog_text_next_tok(l, &t);
	} else if (tok_is(&t, "pct")) {
		p->mode = SCHED_PCT;
		p->pct_depth = 1;
		more = prog_text_next_tok(l, &t);
		if (more && t.n > 6 && !memcmp(t.s, "depth=", 6)) {
			long long d = tok_num(t.s + 6, t.n - 6);

			if (d < 1 || d > 4)
				return prog_text_fail(err, l->nr, t.col,
						      "expected depth=1..4");
			p->pct_depth = (unsigned int)d;
			more = prog_text_next_tok(l, &t);
		}
	} else {
		return prog_text_fail(err, l->nr, t.col,
				      "unknown mode '%.*s' (bytes or pct)",
				      (int)(t.n > 40 ? 40 : t.n), t.s);
	}
	p->cpus = 0;
	p->mm = 0;
	for (bool cpus = false, mm = false; more;
	     more = prog_text_next_tok(l, &t)) {
		if (!cpus && t.n > 5 && !memcmp(t.s, "cpus=", 5)) {
			long long c = tok_num(t.s + 5, t.n - 5);

			if (c < 1 || c > 3)
				return prog_text_fail(err, l->nr, t.col,
						      "expected cpus=1..3");
			p->cpus = (unsigned int)c;
			cpus = true;
		} else if (!mm && t.n > 3 && !memcmp(t.s, "mm=", 3)) {
			char name[8] = { 0 };
			enum fs_mm m = FS_MM_NR;

			if (t.n - 3 < sizeof(name)) {
				memcpy(name, t.s + 3, t.n - 3);
				m = wmm_parse(name);
			}
			if (m == FS_MM_NR)
				return prog_text_fail(err, l->nr, t.col,
						      "expected mm=sc, tso, pso or arm");
			p->mm = (unsigned int)m;
			mm = true;
		} else {
			return prog_text_fail(err, l->nr, t.col,
					      "expected %scpus=1..3 or mm=sc|tso|pso|arm, not '%.*s'",
					      p->mode == SCHED_PCT ? "depth=1..4, " : "",
					      (int)(t.n > 40 ? 40 : t.n), t.s);
		}
	}
	return 0;
}

/* "thread N:" (or "thread N" then ":" as its own token) */
static int parse_thread(struct sched_prog *p, struct prog_text_line *l,
			const struct prog_text_tok *name,
			struct prog_text_error *err)
{
	struct prog_text_tok t;
	long long n;
	size_t len;

	if (!prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, l->end_col,
				      "expected 'thread %u:'", p->nthreads);
	len = t.n;
	if (len && t.s[len - 1] == ':')
		len--;
	n = tok_num(t.s, len);
	if (n != (long long)p->nthreads)
		return prog_text_fail(err, l->nr, t.col,
				      "expected thread %u (threads are numbered in order)",
				      p->nthreads);
	if (p->nthreads == SCHED_MAX_THREADS)
		return prog_text_fail(err, l->nr, name->col,
				      "more than %d threads", SCHED_MAX_THREADS);
	if (len == t.n) {	/* the colon as its own token */
		if (!prog_text_next_tok(l, &t) || !tok_is(&t, ":"))
			return prog_text_fail(err, l->nr, l->end_col,
					      "expected ':' after 'thread %lld'", n);
	}
	if (prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, t.col,
				      "ops go on the lines after 'thread %lld:'", n);
	p->nthreads++;
	return 0;
}

static int parse_schedule(struct sched_prog *p, struct prog_text_line *l,
			  struct prog_text_error *err)
{
	struct prog_text_tok t;

	while (prog_text_next_tok(l, &t)) {
		const char *star = memchr(t.s, '*', t.n);
		size_t bn = star ? (size_t)(star - t.s) : t.n;
		long long b = tok_num(t.s, bn), rep = 1;

		if (star)
			rep = tok_num(star + 1, t.n - bn - 1);
		if (b < 0 || b > 255 || rep < 1)
			return prog_text_fail(err, l->nr, t.col,
					      "expected a byte 0..255 or BYTE*COUNT, got '%.*s'",
					      (int)(t.n > 40 ? 40 : t.n), t.s);
		if (rep > SCHED_MAX_BYTES - (long long)p->nsched)
			return prog_text_fail(err, l->nr, t.col,
					      "more than %d schedule bytes",
					      SCHED_MAX_BYTES);
		while (rep--)
			p->sched[p->nsched++] = (uint8_t)b;
	}
	return 0;
}

int sched_prog_parse_text(struct sched_prog *p, const char *text, size_t len,
			  struct prog_text_error *err)
{
	struct prog_text_error dummy;
	enum { WORLD, MODE, THREADS, SCHEDULE } at = WORLD;
	unsigned int nr = 0;
	size_t pos = 0;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(p, 0, sizeof(*p));
	p->pct_depth = 1;
	for (;;) {
		struct prog_text_line l;
		struct prog_text_tok name;
		int rc = prog_text_next_line(text, len, &pos, &nr, &l, err);

		if (rc < 0)
			return -1;
		if (!rc)
			break;
		if (!prog_text_next_tok(&l, &name))
			continue;
		if (tok_is(&name, "world")) {
			if (at != WORLD)
				return prog_text_fail(err, l.nr, name.col,
						      "a second 'world' line");
			if (prog_text_parse_world(&p->world, &l, &name, err))
				return -1;
			at = MODE;
		} else if (at == WORLD) {
			return prog_text_fail(err, l.nr, name.col,
					      "no 'world' line first");
		} else if (tok_is(&name, "mode")) {
			if (at != MODE)
				return prog_text_fail(err, l.nr, name.col,
						      "'mode' goes before the threads");
			if (parse_mode(p, &l, err))
				return -1;
			at = THREADS;
		} else if (tok_is(&name, "thread")) {
			if (at == SCHEDULE)
				return prog_text_fail(err, l.nr, name.col,
						      "threads go before the schedule");
			if (parse_thread(p, &l, &name, err))
				return -1;
			at = THREADS;
		} else if (tok_is(&name, "run")) {
			if (p->nthreads < SCHED_MIN_THREADS)
				return prog_text_fail(err, l.nr, name.col,
						      "at least %d threads before the schedule",
						      SCHED_MIN_THREADS);
			if (p->nsched)
				return prog_text_fail(err, l.nr, name.col,
						      "'run' lines (an anchored schedule) "
						      "and 'schedule' bytes do not mix");
			if (p->mode != SCHED_BYTES)
				return prog_text_fail(err, l.nr, name.col,
						      "an anchored schedule needs 'mode bytes'");
			if (sched_anchor_parse(p, &l, err))
				return -1;
			at = SCHEDULE;
		} else if (tok_is(&name, "schedule")) {
			if (p->nanchors)
				return prog_text_fail(err, l.nr, name.col,
						      "'run' lines (an anchored schedule) "
						      "and 'schedule' bytes do not mix");
			if (p->nthreads < SCHED_MIN_THREADS)
				return prog_text_fail(err, l.nr, name.col,
						      "at least %d threads before the schedule",
						      SCHED_MIN_THREADS);
			if (parse_schedule(p, &l, err))
				return -1;
			at = SCHEDULE;
		} else {
			unsigned int t = p->nthreads;

			if (at == SCHEDULE)
				return prog_text_fail(err, l.nr, name.col,
						      "ops go in a thread, before the schedule");
			if (!t)
				return prog_text_fail(err, l.nr, name.col,
						      "an op before 'thread 0:'");
			if (p->nops[t - 1] == SCHED_MAX_OPS)
				return prog_text_fail(err, l.nr, name.col,
						      "more than %d ops in thread %u",
						      SCHED_MAX_OPS, t - 1);
			if (prog_text_parse_op(&p->world, &l, &name,
					       &p->ops[t - 1][p->nops[t - 1]], err))
				return -1;
			p->nops[t - 1]++;
		}
	}
	if (at == WORLD)
		return prog_text_fail(err, nr ? nr : 1, 1, "no 'world' line");
	if (p->nthreads < SCHED_MIN_THREADS)
		return prog_text_fail(err, nr ? nr : 1, 1,
				      "%u threads: a fuzz_sched program has %d to %d",
				      p->nthreads, SCHED_MIN_THREADS,
				      SCHED_MAX_THREADS);
	return 0;
}

void sched_prog_print_text(const struct sched_prog *p, FILE *out)
{
	struct prog one = { .world = p->world };
	unsigned int col = 0;

	prog_print_world(&p->world, out);
	if (p->mode == SCHED_PCT)
		fprintf(out, "mode pct depth=%u", p->pct_depth);
	else
		fprintf(out, "mode bytes");
	if (p->cpus)
		fprintf(out, " cpus=%u", p->cpus);
	if (p->mm)
		fprintf(out, " mm=%s", wmm_name((enum fs_mm)p->mm));
	fputc('\n', out);
	for (unsigned int t = 0; t < p->nthreads; t++) {
		fprintf(out, "thread %u:\n", t);
		for (unsigned int i = 0; i < p->nops[t]; i++)
			prog_print_op(&one, &p->ops[t][i], out);
	}
	for (unsigned int i = 0; i < p->nanchors; i++) {
		sched_anchor_print(&p->anchors[i], out);
		fputc('\n', out);
	}
	for (unsigned int i = 0; i < p->nsched;) {
		unsigned int run = 1;

		while (i + run < p->nsched && p->sched[i + run] == p->sched[i])
			run++;
		if (col == 0)
			fprintf(out, "schedule");
		if (run >= 4) {
			fprintf(out, " %u*%u", p->sched[i], run);
			i += run;
		} else {
			fprintf(out, " %u", p->sched[i]);
			i++;
		}
		if (++col == 24 || i == p->nsched) {
			fprintf(out, "\n");
			col = 0;
		}
	}
}

int sched_prog_text_is_sched(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 7 <= size; i++)
		if ((i == 0 || data[i - 1] == '\n') && !memcmp(data + i, "thread ", 7))
			return 1;
	return 0;
}
