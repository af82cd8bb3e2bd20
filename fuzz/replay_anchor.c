/* SPDX-License-Identifier: MIT */
/*
 * replay_anchor.c - folio-replay --anchor: turn a fuzz_sched input's raw
 * schedule (bytes, PCT, the PRNG past the bytes) into an anchored one
 * (sched_anchor.h) on the code that runs it now.
 *
 *   1. freeze: run it, logging every decision (replay_sched_freeze);
 *   2. record: run the frozen decisions again through the explorer hook,
 *      which sees, at every decision, who runs, who may, and each thread's
 *      pending step; a switch away from the directive's thread ends its
 *      directive (before its pending step, counted as the Nth step of that
 *      kind in that function since the directive began; or "blocked" /
 *      "done" when it could not run) and starts one for the thread picked;
 *   3. check: run the anchored program; it must take the very same steps
 *      (the same trace hash) and end the same way.
 * Each run is a child process: a finding ends the process that runs it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay_anchor.h"
#include "replay_sched.h"
#include "sched_run.h"

static struct {
	const uint8_t *dec;		/* the frozen decisions */
	size_t ndec, k;
	const struct sched_prog *p;
	const struct sched_result *r;	/* live: each thread's ops done */
	struct sched_prog *out;
	int cur;			/* the current directive's thread */
	const struct folio_site *pending[FS_NR_THREADS];
	const struct folio_site *seen[1u << 14];	/* cur's steps since */
	size_t nseen;
	/* the last race point cur passed: which, how many times since the
	 * directive began, and how many steps it had reached then */
	int rp;
	unsigned int rp_count[RP_NR];
	size_t rp_at;
	char error[200];
} A;

static void fail(const char *msg)
{
	size_t i;

	if (A.error[0])
		return;
	for (i = 0; msg[i] && i + 1 < sizeof(A.error); i++)	/* no snprintf:
								 * see start() */
		A.error[i] = msg[i];
	A.error[i] = 0;
}

static void start(int tid)
{
	struct sched_anchor *a;

	if (A.out->nanchors == SCHED_MAX_ANCHORS) {
		fail("more switches than an anchored schedule holds");
		return;
	}
	/* field by field, no memset: this runs on the logical threads'
	 * fibers, where TSan intercepts memset (exec-data-tsan-ignore.txt) */
	a = &A.out->anchors[A.out->nanchors++];
	a->tid = tid == FS_RCU_TID ? ANCHOR_RCU : (uint8_t)tid;
	a->until = AU_DONE;	/* until something else ends it */
	a->kind = ANCHOR_ANY_KIND;
	a->rp = 0;
	a->nth = 1;
	for (size_t i = 0; i < sizeof(a->func); i++)
		a->func[i] = 0;
	A.cur = tid;
	A.nseen = 0;
	A.rp = -1;
	for (unsigned int i = 0; i < RP_NR; i++)
		A.rp_count[i] = 0;
}

/* End the current directive before its thread's pending step @s. */
static void end_before(const struct folio_site *s)
{
	struct sched_anchor *a = &A.out->anchors[A.out->nanchors - 1];
	unsigned int n = 0;

	/* a race point passed just before this step says it best */
	if (A.rp >= 0 && A.nseen == A.rp_at + 1) {
		a->until = AU_POINT;
		a->rp = (uint8_t)A.rp;
		a->nth = (uint16_t)A.rp_count[A.rp];
		return;
	}
	if (!s || !s->func || strlen(s->func) >= ANCHOR_FUNC_MAX) {
		fail("a switch at a step with no function name (a plain access): "
		     "no anchor names it");
		return;
	}
	for (size_t i = 0; i < A.nseen; i++)
		if (A.seen[i]->kind == s->kind && !strcmp(A.seen[i]->func, s->func))
			n++;
	if (n == 0 || n > 65535) {
		fail("the pending step was not reached inside its directive");
		return;
	}
	a->until = AU_BEFORE;
	a->kind = s->kind;
	a->nth = (uint16_t)n;
	for (size_t i = 0; s->func[i]; i++)	/* shorter than func: above */
		a->func[i] = s->func[i];
}

/* The current directive's thread stopped: blocked, or done. */
static void end_stopped(void)
{
	unsigned int t = (unsigned int)A.cur;

	A.out->anchors[A.out->nanchors - 1].until =
		t < SCHED_MAX_THREADS && A.r->done[t] >= A.p->nops[t] ?
		AU_DONE : AU_BLOCKED;
}

static unsigned int rec_decide(const struct fs_decision *d, void *ctx)
{
	unsigned int c = A.k < A.ndec ? A.dec[A.k] : 0, picked;
	int from = fs_current();

	(void)ctx;
	A.k++;
	if (d->kind != FS_D_PICK) {
		if (c % d->n)
			fail("a weak-memory decision makes a store visible early: "
			     "anchors do not say when stores drain");
		return c % d->n;
	}
	picked = d->tid[c % d->n];
	if (A.cur < 0) {
		start((int)picked);
	} else if ((int)picked != A.cur) {
		unsigned int t = (unsigned int)A.cur;

		if (d->runnable & (1u << t)) {
			if (from != A.cur)
				fail("a switch away from a thread that was not "
				     "running");
			else
				end_before(A.pending[t]);
		} else {
			end_stopped();
		}
		start((int)picked);
	}
	return c % d->n;
}

static void rec_step(unsigned int tid, const struct folio_site *s, bool taken,
		     void *ctx)
{
	(void)ctx;
	if (A.cur < 0)		/* the run's first step: as the engine, which
				 * counts from the run's start */
		start((int)tid);
	if ((int)tid != A.cur) {
		/* another thread runs with no decision taken: the scheduler
		 * switched because cur could not go on (sched_anchor.c's rule
		 * for "blocked"/"done"); this step starts the next directive
		 * and does not count in it */
		end_stopped();
		start((int)tid);
		A.pending[tid] = taken ? NULL : s;
		return;
	}
	if (taken) {
		A.pending[tid] = NULL;
		return;
	}
	A.pending[tid] = s;
	if ((int)tid == A.cur && s->func && A.nseen < sizeof(A.seen) / sizeof(A.seen[0]))
		A.seen[A.nseen++] = s;
}

static void rec_rp(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (fs_current() != A.cur || A.cur < 0)
		return;
	A.rp = (int)rp;
	A.rp_count[rp]++;
	A.rp_at = A.nseen;
}

/* ---- child runs ---- */

struct child_out {
	int finding;		/* 1 a finding, 0 passed */
	char rule[48];
	uint64_t hash;
	unsigned long steps;
	unsigned int nanchors;
	unsigned int reached;
	char error[200];
};

static struct {
	int fd;
	struct child_out o;
	struct sched_result r;
	bool record;
} C;

/* @hash: the run's trace hash (taken while the world still names its
 * addresses: sched_run's own after a run, ours inside one) */
static void child_send(uint64_t hash)
{
	snprintf(C.o.rule, sizeof(C.o.rule), "%s", C.r.rule);
	C.o.hash = hash;
	fs_stats_now(&C.r.st);
	C.o.steps = C.r.st.steps;
	if (C.record) {
		snprintf(C.o.error, sizeof(C.o.error), "%s", A.error);
		C.o.nanchors = A.out->nanchors;
	}
	if (write(C.fd, &C.o, sizeof(C.o)) < 0 ||
	    (C.record && write(C.fd, A.out->anchors,
			       A.out->nanchors * sizeof(A.out->anchors[0])) < 0))
		_exit(3);
}

static void child_fatal(void *ctx)
{
	(void)ctx;
	C.o.finding = 1;
	child_send(fs_trace_hash(sched_run_trace()));
	_exit(1);
}

/* Run @p in a child (recording into @out when set): 0, or -1. */
static int child_run(const struct sched_prog *p, struct sched_prog *out,
		     struct child_out *res)
{
	int fds[2], st;
	pid_t pid;
	ssize_t got;

	memset(res, 0, sizeof(*res));
	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sched_run_opts so = { .report = NULL, .trace = true,
					     .on_fatal = child_fatal };
		int rc;

		close(fds[0]);
		C.fd = fds[1];
		C.record = out != NULL;
		signal(SIGABRT, SIG_DFL);
		if (out) {
			so.decide = rec_decide;
			so.on_step = rec_step;
			so.on_race_point = rec_rp;
			A.p = p;
			A.r = &C.r;
			A.out = out;
			A.cur = -1;
			A.k = 0;
		}
		rc = sched_run(p, &so, &C.r);
		C.o.finding = rc == 1;
		C.o.reached = C.r.anchors_reached;
		child_send(C.r.trace_hash);
		_exit(rc == 1);
	}
	close(fds[1]);
	got = read(fds[0], res, sizeof(*res));
	if (got == (ssize_t)sizeof(*res) && out && res->nanchors <= SCHED_MAX_ANCHORS) {
		size_t want = res->nanchors * sizeof(out->anchors[0]), have = 0;

		while (have < want) {
			ssize_t n = read(fds[0], (char *)out->anchors + have,
					 want - have);

			if (n <= 0)
				break;
			have += (size_t)n;
		}
		out->nanchors = have == want ? res->nanchors : 0;
	}
	close(fds[0]);
	waitpid(pid, &st, 0);
	return got == (ssize_t)sizeof(*res) ? 0 : -1;
}

int replay_anchor(const struct sched_prog *in, struct sched_prog *out,
		  FILE *msg)
{
	static struct sched_prog frozen;
	struct child_out raw, rec, anch;

	if (replay_sched_freeze(in, &frozen)) {
		fprintf(msg, "anchor: the input did not run to an end that can "
			"be frozen (a crash or a sanitizer report?)\n");
		return 1;
	}
	if (frozen.nsched == SCHED_MAX_BYTES) {
		fprintf(msg, "anchor: more than %d decisions: too long a run to "
			"anchor\n", SCHED_MAX_BYTES);
		return 1;
	}
	*out = frozen;
	out->nsched = 0;
	out->nanchors = 0;
	A.dec = frozen.sched;
	A.ndec = frozen.nsched;
	A.error[0] = 0;
	if (child_run(&frozen, NULL, &raw) || child_run(&frozen, out, &rec)) {
		fprintf(msg, "anchor: a run died before it reported\n");
		return 1;
	}
	if (rec.error[0]) {
		fprintf(msg, "anchor: cannot anchor this schedule: %s\n", rec.error);
		return 1;
	}
	if (child_run(out, NULL, &anch)) {
		fprintf(msg, "anchor: the anchored run died before it reported\n");
		return 1;
	}
	if (anch.hash != raw.hash || anch.finding != raw.finding ||
	    strcmp(anch.rule, raw.rule)) {
		fprintf(msg, "anchor: the anchored form does not take the same "
			"steps (trace %016llx, raw %016llx; %s, raw %s)\n",
			(unsigned long long)anch.hash,
			(unsigned long long)raw.hash,
			anch.finding ? anch.rule : "passed",
			raw.finding ? raw.rule : "passed");
		return 1;
	}
	/* directives at the end that do what carrying on would do anyway */
	while (out->nanchors > 1) {
		struct child_out t;

		out->nanchors--;
		if (child_run(out, NULL, &t) || t.hash != raw.hash ||
		    t.finding != raw.finding || strcmp(t.rule, raw.rule)) {
			out->nanchors++;
			break;
		}
	}
	fprintf(msg, "anchor: %u directives; the anchored form takes the same "
		"%lu steps (trace %016llx) and %s\n", out->nanchors, raw.steps,
		(unsigned long long)raw.hash,
		raw.finding ? raw.rule : "passes");
	return 0;
}
