/* SPDX-License-Identifier: MIT */
/*
 * sched_anchor.c - anchored schedules (sched_anchor.h): the "run" lines of
 * the text form, and the engine that makes a run's decisions from them
 * (through the scheduler's explorer hook, fs_config.decide, and its step
 * hook, fs_config.on_step).
 */
#include <stdatomic.h>
#include <string.h>

#include "folio/debug.h"
#include "sched/sched.h"
#include "sched_anchor.h"
#include "sched_prog.h"

static const char *const rp_names[] = FOLIO_RACE_POINT_NAMES;
_Static_assert(sizeof(rp_names) / sizeof(rp_names[0]) == RP_NR,
	       "FOLIO_RACE_POINT_NAMES must name every race point");

static const char *const until_names[] = {
	[AU_BEFORE] = "before", [AU_AFTER] = "after", [AU_BLOCKED] = "blocked",
	[AU_DONE] = "done",
};

static int tok_is(const struct prog_text_tok *t, const char *w)
{
	return strlen(w) == t->n && !memcmp(t->s, w, t->n);
}

/* "1st", "2nd", "3rd", "4th", "21st", ...: the number, or 0. */
static unsigned int ordinal(const struct prog_text_tok *t)
{
	unsigned long v = 0;
	size_t i = 0;

	while (i < t->n && t->s[i] >= '0' && t->s[i] <= '9' && i < 5)
		v = v * 10 + (unsigned long)(t->s[i++] - '0');
	if (i == 0 || t->n - i != 2 || v == 0 || v > 65535)
		return 0;
	if (memcmp(t->s + i, "st", 2) && memcmp(t->s + i, "nd", 2) &&
	    memcmp(t->s + i, "rd", 2) && memcmp(t->s + i, "th", 2))
		return 0;
	return (unsigned int)v;
}

static const char *suffix(unsigned int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

static int kind_of(const struct prog_text_tok *t)
{
	for (unsigned int k = 0; k < FS_NR_KINDS; k++) {
		const char *n = fs_kind_name(k);

		if (n && tok_is(t, n))
			return (int)k;
	}
	return tok_is(t, "step") ? ANCHOR_ANY_KIND : -1;
}

static int rp_of(const struct prog_text_tok *t)
{
	for (unsigned int i = 0; i < RP_NR; i++)
		if (tok_is(t, rp_names[i]))
			return (int)i;
	return -1;
}

#define TOKF(t) (int)((t).n > 40 ? 40 : (t).n), (t).s

int sched_anchor_parse(struct sched_prog *p, struct prog_text_line *l,
		       struct prog_text_error *err)
{
	struct sched_anchor a = { .kind = ANCHOR_ANY_KIND, .nth = 1 };
	struct prog_text_tok t;
	int k;

	if (p->nanchors == SCHED_MAX_ANCHORS)
		return prog_text_fail(err, l->nr, 1, "more than %d 'run' lines",
				      SCHED_MAX_ANCHORS);
	if (!prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, l->end_col,
				      "'run' needs a thread: run T until ...");
	if (tok_is(&t, "rcu")) {
		a.tid = ANCHOR_RCU;
	} else if (t.n == 1 && t.s[0] >= '0' && t.s[0] < '0' + (int)p->nthreads) {
		a.tid = (uint8_t)(t.s[0] - '0');
	} else {
		return prog_text_fail(err, l->nr, t.col,
				      "expected a thread 0..%u or 'rcu', got '%.*s'",
				      p->nthreads - 1, TOKF(t));
	}
	if (!prog_text_next_tok(l, &t) || !tok_is(&t, "until"))
		return prog_text_fail(err, l->nr, t.col, "expected 'until' after "
				      "the thread");
	if (!prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, l->end_col,
				      "'until' needs before/after STEP, a race "
				      "point, 'blocked' or 'done'");
	if (tok_is(&t, "blocked") || tok_is(&t, "done")) {
		a.until = tok_is(&t, "done") ? AU_DONE : AU_BLOCKED;
		goto end;
	}
	if (tok_is(&t, "before") || tok_is(&t, "after")) {
		a.until = tok_is(&t, "before") ? AU_BEFORE : AU_AFTER;
		if (!prog_text_next_tok(l, &t))
			return prog_text_fail(err, l->nr, l->end_col,
					      "expected [Nth] [KIND] in FUNCTION");
	} else {
		a.until = AU_POINT;
	}
	if (ordinal(&t)) {
		a.nth = (uint16_t)ordinal(&t);
		if (!prog_text_next_tok(l, &t))
			return prog_text_fail(err, l->nr, l->end_col,
					      "expected what comes after '%u%s'",
					      a.nth, suffix(a.nth));
	}
	if (a.until == AU_POINT) {
		k = rp_of(&t);
		if (k < 0)
			return prog_text_fail(err, l->nr, t.col,
					      "'%.*s' is no race point (RP_* of "
					      "folio/debug.h), nor before, after, "
					      "blocked or done", TOKF(t));
		a.rp = (uint8_t)k;
		goto end;
	}
	k = kind_of(&t);
	if (k >= 0) {
		a.kind = (uint8_t)k;
		if (!prog_text_next_tok(l, &t))
			return prog_text_fail(err, l->nr, l->end_col,
					      "expected 'in FUNCTION'");
	}
	if (!tok_is(&t, "in"))
		return prog_text_fail(err, l->nr, t.col,
				      "expected a step kind (load, store, rmw, "
				      "xchg, cas, fence, lock, unlock, ...) or "
				      "'in FUNCTION', got '%.*s'", TOKF(t));
	if (!prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, l->end_col,
				      "expected a function name after 'in'");
	if (t.n >= ANCHOR_FUNC_MAX)
		return prog_text_fail(err, l->nr, t.col, "function name longer "
				      "than %d bytes", ANCHOR_FUNC_MAX - 1);
	for (size_t i = 0; i < t.n; i++)
		if (!(t.s[i] == '_' || (t.s[i] >= 'a' && t.s[i] <= 'z') ||
		      (t.s[i] >= 'A' && t.s[i] <= 'Z') ||
		      (i && t.s[i] >= '0' && t.s[i] <= '9')))
			return prog_text_fail(err, l->nr, t.col,
					      "'%.*s' is not a C identifier",
					      TOKF(t));
	memcpy(a.func, t.s, t.n);
end:
	if (prog_text_next_tok(l, &t))
		return prog_text_fail(err, l->nr, t.col,
				      "unexpected '%.*s' at the end of 'run'",
				      TOKF(t));
	p->anchors[p->nanchors++] = a;
	return 0;
}

void sched_anchor_print(const struct sched_anchor *a, FILE *out)
{
	if (a->tid == ANCHOR_RCU)
		fprintf(out, "run rcu until ");
	else
		fprintf(out, "run %u until ", a->tid);
	if (a->until == AU_BLOCKED || a->until == AU_DONE) {
		fputs(until_names[a->until], out);
		return;
	}
	if (a->until != AU_POINT)
		fprintf(out, "%s ", until_names[a->until]);
	if (a->nth != 1)
		fprintf(out, "%u%s ", a->nth, suffix(a->nth));
	if (a->until == AU_POINT) {
		fputs(a->rp < RP_NR ? rp_names[a->rp] : "RP_?", out);
		return;
	}
	if (a->kind != ANCHOR_ANY_KIND)
		fprintf(out, "%s ", fs_kind_name(a->kind));
	fprintf(out, "in %s", a->func);
}

/* ---- the engine ---- */

static struct {
	const struct sched_prog *p;
	const unsigned int *done;
	unsigned int i;		/* the current directive */
	unsigned int count;	/* its anchor's matches so far */
	bool ran;		/* its thread has run since it began */
	bool spinning;		/* its thread's last step was a yield */
} E;

static unsigned int tid_of(const struct sched_anchor *a)
{
	return a->tid == ANCHOR_RCU ? FS_RCU_TID : a->tid;
}

static void next_directive(void)
{
	E.i++;
	E.count = 0;
	E.ran = false;
	E.spinning = false;
}

void anchor_begin(const struct sched_prog *p, const unsigned int *done)
{
	E.p = p;
	E.done = done;
	E.i = 0;
	E.count = 0;
	E.ran = false;
	E.spinning = false;
}

unsigned int anchor_reached(void)
{
	return E.i;
}

static bool finished(unsigned int tid)
{
	return tid < SCHED_MAX_THREADS && E.done[tid] >= E.p->nops[tid];
}

unsigned int anchor_decide(const struct fs_decision *d, void *ctx)
{
	(void)ctx;
	if (d->kind != FS_D_PICK)
		return 0;	/* weak memory: keep stores buffered */
	/* a directive that waits for its thread to stop ends at the first
	 * decision where it cannot run */
	while (E.i < E.p->nanchors) {
		const struct sched_anchor *a = &E.p->anchors[E.i];
		unsigned int t = tid_of(a);

		if (d->runnable & (1u << t))
			break;
		if (a->until == AU_BLOCKED || (a->until == AU_DONE && finished(t)))
			next_directive();
		else
			break;
	}
	/* a spinning thread waits for the others: picking it at every
	 * decision would give them one step per turn of its loop */
	if (E.i < E.p->nanchors && !E.spinning) {
		unsigned int t = tid_of(&E.p->anchors[E.i]);

		for (unsigned int o = 0; o < d->n; o++)
			if (d->tid[o] == t)
				return o;
	}
	return 0;	/* as a byte 0: carry on */
}

void anchor_on_step(unsigned int tid, const struct folio_site *s, bool taken,
		    void *ctx)
{
	const struct sched_anchor *a;

	(void)ctx;
	if (E.i >= E.p->nanchors)
		return;
	a = &E.p->anchors[E.i];
	if (tid_of(a) == tid) {
		E.ran = true;
		if (!taken)
			E.spinning = s->kind == FS_YIELD;
	} else if (E.ran && (a->until == AU_BLOCKED ||
			     (a->until == AU_DONE && finished(tid_of(a))))) {
		/* the directive's thread ran, and now another runs that no
		 * decision chose: the thread stopped (the decisions pick it
		 * whenever it can run).  Before it first ran, the previous
		 * thread's steps up to the decision that hands over are not
		 * a stop.  This step is the next directive's start, not one
		 * of its steps. */
		next_directive();
		return;
	}
	if (tid_of(a) != tid || (a->until != AU_BEFORE && a->until != AU_AFTER) ||
	    taken != (a->until == AU_AFTER))
		return;
	if (a->kind != ANCHOR_ANY_KIND && a->kind != s->kind)
		return;
	if (!s->func || strcmp(s->func, a->func))
		return;
	if (++E.count == a->nth)
		next_directive();
}

void anchor_on_race_point(enum folio_race_point rp, void *arg)
{
	const struct sched_anchor *a;
	int cur = fs_current();

	(void)arg;
	if (cur < 0 || E.i >= E.p->nanchors)
		return;
	a = &E.p->anchors[E.i];
	if (a->until == AU_POINT && a->rp == (unsigned int)rp && tid_of(a) == (unsigned int)cur &&
	    ++E.count == a->nth)
		next_directive();
}
