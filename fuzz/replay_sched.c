/* SPDX-License-Identifier: MIT */
/*
 * replay_sched.c - folio-replay's side for fuzz_sched inputs: run one with
 * the scheduler's trace on, print its program, its outcome and (on a
 * finding) the race diagram; check it replays identically (--repeat); and
 * minimise a finding (--minimize):
 *
 *   1. freeze: rerun, logging every scheduling decision as the byte that
 *      takes it, so the schedule no longer depends on the PRNG past its
 *      end nor on PCT (the frozen input is bytes mode);
 *   2. fewer preemptions: set decision bytes to 0 ("carry on") one at a
 *      time, from the end, keeping each change under which the same rule
 *      still fires with no more preemptions than before;
 *   3. fewer ops: drop each op of each thread, keeping what still fires;
 *   4. freeze again, drop the schedule's trailing zeros that the PRNG
 *      would not need, repeat 2-3 until nothing changes.
 * Each candidate runs in a child process (fork): a finding during a run
 * ends the process that runs it, and a crash must not end the search.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay_sched.h"
#include "sched_run.h"

static struct sched_prog sp;
static uint8_t decisions[1u << 16];
static const struct replay_sched_opts *ro;
static const char *cur_path;

/* ---- running one input here ---- */

static void print_results(const struct sched_prog *p,
			  const struct sched_result *r)
{
	for (unsigned int t = 0; t < p->nthreads; t++) {
		struct prog one = { .world = p->world };

		printf("thread %u:\n", t);
		for (unsigned int i = 0; i < p->nops[t]; i++) {
			printf("  ");
			prog_print_op(&one, &p->ops[t][i], stdout);
			if (i < r->done[t])
				printf("      -> %ld\n", r->results[t][i]);
		}
	}
}

static void on_fatal(void *ctx)
{
	(void)ctx;
	if (ro->on_fatal)
		ro->on_fatal(ro->ctx);
}

int replay_sched_run(const char *path, const struct replay_sched_opts *o)
{
	struct sched_run_opts so = { .report = stdout, .trace = true,
				     .full = o->full, .rf = false,
				     .on_fatal = on_fatal };
	struct sched_result r;
	uint64_t first = 0;
	int rc = 0;

	ro = o;
	cur_path = path;
	if (!o->quiet) {
		sched_prog_print_text(&sp, stdout);
		printf("---- run\n");
	}
	for (unsigned int n = 0; n < (o->repeat ? o->repeat : 1); n++) {
		rc = sched_run(&sp, &so, &r);
		if (rc)
			break;
		if (n == 0)
			first = r.trace_hash;
		else if (r.trace_hash != first) {
			printf("%s: FINDING: nondeterministic: run %u took other "
			       "steps (trace %016llx, first %016llx)\n", path, n,
			       (unsigned long long)r.trace_hash,
			       (unsigned long long)first);
			return 1;
		}
	}
	if (rc < 0) {
		printf("%s: ERROR: the world could not be set up\n", path);
		return 1;
	}
	if (rc) {
		printf("%s: FINDING: %s: %s\n", path, r.rule, r.detail);
		return 1;
	}
	if (!o->quiet)
		print_results(&sp, &r);
	printf("%s: passed: %lu steps, %lu decisions, %lu preemptions, "
	       "trace %016llx%s", path, r.st.steps, r.st.decisions,
	       r.st.preemptions, (unsigned long long)r.trace_hash,
	       o->repeat > 1 ? " (the same in every run)" : "");
	if (fs_plain_steps())	/* clang builds (FOLIO_SCHED_PLAIN) */
		printf("; plain: %lu steps, %lu decisions", r.st.plain_steps,
		       r.st.plain_decisions);
	if (sp.mm)	/* weak memory */
		printf("; %s: %lu stores made visible late, %lu weak-memory "
		       "decisions, %lu loads satisfied early",
		       wmm_name((enum fs_mm)sp.mm), r.st.flushes,
		       r.st.flush_decisions, r.st.stale_loads);
	printf("\n");
	if (o->windows) {
		static const char *const names[] = FOLIO_WINDOW_NAMES;

		printf("%s: windows:", path);
		for (int w = 0; w < FW_NR; w++)
			printf(" %s=%lu", names[w], r.windows[w]);
		printf("\n");
	}
	return 0;
}

struct sched_prog *replay_sched_prog(void)
{
	return &sp;
}

/* ---- minimising ---- */

struct outcome {
	int finding;		/* 1: a finding, 0: passed, -1: died oddly */
	char sig[96];		/* rule (+ where, for VM_BUG_ON) */
	unsigned long preemptions;
	size_t ndecisions;
};

static struct {
	int fd;
	struct outcome out;
} child;

static void note_result_sig(void);

static void child_fatal(void *ctx)
{
	(void)ctx;
	note_result_sig();
	child.out.finding = 1;
	if (write(child.fd, &child.out, sizeof(child.out)) < 0)
		_exit(3);
	if (write(child.fd, decisions, child.out.ndecisions) < 0)
		_exit(3);
	_exit(1);
}

static struct sched_result child_r;

/* A finding's identity: the rule, and for an assertion which one. */
static void signature(const struct sched_result *r, char *sig, size_t n)
{
	if (!strcmp(r->rule, "VM_BUG_ON"))
		snprintf(sig, n, "%s %.*s", r->rule, (int)strcspn(r->detail, " "),
			 r->detail);
	else
		snprintf(sig, n, "%s", r->rule);
}

/* Run @p in a child; its outcome and (when @dec) its decisions. */
static int try_run(const struct sched_prog *p, struct outcome *out,
		   uint8_t *dec, size_t cap)
{
	int fds[2], st;
	pid_t pid;
	ssize_t got;

	memset(out, 0, sizeof(*out));
	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct sched_run_opts so = { .report = NULL, .decisions = decisions,
					     .decisions_cap = sizeof(decisions),
					     .on_fatal = child_fatal };
		int rc;

		close(fds[0]);
		child.fd = fds[1];
		signal(SIGABRT, SIG_DFL);
		/* a finding during the run reaches child_fatal with its rule
		 * already set; after the run sched_run returns it */
		rc = sched_run(p, &so, &child_r);
		child.out.finding = rc == 1;
		signature(&child_r, child.out.sig, sizeof(child.out.sig));
		child.out.preemptions = child_r.st.preemptions;
		child.out.ndecisions = child_r.st.ndecisions;
		if (write(fds[1], &child.out, sizeof(child.out)) < 0 ||
		    write(fds[1], decisions, child.out.ndecisions) < 0)
			_exit(3);
		_exit(rc == 1);
	}
	close(fds[1]);
	got = read(fds[0], out, sizeof(*out));
	if (got == (ssize_t)sizeof(*out) && dec && out->ndecisions) {
		size_t have = 0;

		while (have < out->ndecisions && have < cap) {
			ssize_t n = read(fds[0], dec + have, out->ndecisions - have);

			if (n <= 0)
				break;
			have += (size_t)n;
		}
	}
	close(fds[0]);
	waitpid(pid, &st, 0);
	if (got != (ssize_t)sizeof(*out)) {
		/* died before reporting: a sanitizer, a crash */
		out->finding = -1;
		snprintf(out->sig, sizeof(out->sig), "crash (status %#x)", st);
	}
	return 0;
}

/* The in-run finding path needs the signature before child_fatal: the
 * runner fills the result; copy it there. */
static void note_result_sig(void)
{
	signature(&child_r, child.out.sig, sizeof(child.out.sig));
	child.out.preemptions = child_r.st.preemptions;
	child.out.ndecisions = child_r.st.ndecisions;
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->finding == b->finding && !strcmp(a->sig, b->sig);
}

/* The frozen schedule of @p's run: explicit decisions, bytes mode. */
static int freeze(struct sched_prog *p, const struct outcome *want,
		  struct outcome *got)
{
	static uint8_t dec[sizeof(decisions)];

	if (try_run(p, got, dec, sizeof(dec)) || !same(got, want))
		return -1;
	p->mode = SCHED_BYTES;
	p->pct_depth = 1;
	p->nsched = (unsigned int)(got->ndecisions < SCHED_MAX_BYTES ?
				   got->ndecisions : SCHED_MAX_BYTES);
	memcpy(p->sched, dec, p->nsched);
	p->nanchors = 0;	/* the bytes say it all now */
	return 0;
}

int replay_sched_freeze(const struct sched_prog *p, struct sched_prog *out)
{
	struct outcome want, got;

	*out = *p;
	if (try_run(p, &want, NULL, 0) || want.finding < 0)
		return -1;
	return freeze(out, &want, &got);
}

int replay_sched_minimize(const char *path, const struct replay_sched_opts *o,
			  struct sched_prog *out_prog)
{
	struct sched_prog best = sp, cand;
	struct outcome want, got, cur;
	unsigned int rounds = 0, tries = 0;
	bool changed = true;

	ro = o;
	if (try_run(&best, &want, NULL, 0) || want.finding == 0) {
		printf("%s: --minimize: the input passes: nothing to minimise\n",
		       path);
		return 1;
	}
	printf("minimize: the finding: %s\n", want.sig);
	if (freeze(&best, &want, &cur)) {
		printf("minimize: the frozen schedule does not reproduce it "
		       "(got: %s); keeping the input\n", cur.sig);
		*out_prog = sp;
		return 0;
	}
	while (changed && rounds++ < 8) {
		changed = false;
		/* 2: fewer preemptions, latest decisions first */
		for (int i = (int)best.nsched - 1; i >= 0; i--) {
			if (!best.sched[i])
				continue;
			cand = best;
			cand.sched[i] = 0;
			tries++;
			if (!try_run(&cand, &got, NULL, 0) && same(&got, &want) &&
			    got.preemptions <= cur.preemptions) {
				best = cand;
				cur = got;
				changed = true;
			}
		}
		/* 3: fewer ops */
		for (unsigned int t = 0; t < best.nthreads; t++)
			for (int i = (int)best.nops[t] - 1; i >= 0; i--) {
				cand = best;
				memmove(&cand.ops[t][i], &cand.ops[t][i + 1],
					(cand.nops[t] - (unsigned int)i - 1) *
						sizeof(cand.ops[t][0]));
				cand.nops[t]--;
				memset(&cand.ops[t][cand.nops[t]], 0,
				       sizeof(cand.ops[t][0]));
				tries++;
				if (!try_run(&cand, &got, NULL, 0) &&
				    same(&got, &want) &&
				    got.preemptions <= cur.preemptions) {
					best = cand;
					cur = got;
					changed = true;
				}
			}
		/* 4: freeze what is left, then drop trailing zeros it can lose */
		cand = best;
		if (!freeze(&cand, &want, &got) &&
		    got.preemptions <= cur.preemptions)
			best = cand, cur = got;
		/* past the end the PRNG decides: same rule, no more preemptions */
		while (best.nsched && !best.sched[best.nsched - 1]) {
			cand = best;
			cand.nsched--;
			tries++;
			if (try_run(&cand, &got, NULL, 0) || !same(&got, &want) ||
			    got.preemptions > cur.preemptions)
				break;
			best = cand;
			cur = got;
		}
	}
	/* what is written is what was measured: run it once more */
	if (try_run(&best, &cur, NULL, 0) || !same(&cur, &want)) {
		printf("minimize: the result does not reproduce (got: %s); "
		       "keeping the input\n", cur.sig);
		*out_prog = sp;
		return 0;
	}
	printf("minimize: %u candidates in %u rounds: %u ops, %u schedule "
	       "bytes, %lu preemptions, still %s\n", tries, rounds,
	       best.nops[0] + best.nops[1] + best.nops[2] + best.nops[3],
	       best.nsched, cur.preemptions, want.sig);
	*out_prog = best;
	return 0;
}
