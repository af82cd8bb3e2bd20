/* SPDX-License-Identifier: MIT */
/*
 * sched_run.c - see sched_run.h.  The core is reached through its public
 * headers and its debug hooks (folio_bug_hook).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "folio/check.h"
#include "folio/debug.h"
#include "folio/filemap.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "sched_run.h"

static struct {
	const struct sched_prog *p;
	const struct sched_run_opts *o;
	struct sched_result *r;
	struct exec_ctx ex[SCHED_MAX_THREADS];
	struct fs_trace trace;
	const struct folio *bad;	/* the finding's folio, or NULL */
	bool full_printed;		/* --full: every step is out already */
} R;

const struct fs_trace *sched_run_trace(void)
{
	return &R.trace;
}

static void report(void)
{
	FILE *out = R.o->report;
	char state[160];

	/* the counts first, printed or not: --minimize's child has no
	 * report, and freezes the schedule from st.ndecisions */
	fs_stats_now(&R.r->st);
	if (!out)
		return;
	fprintf(out, "FINDING: %s: %s\n", R.r->rule, R.r->detail);
	if (!strcmp(R.r->rule, "data-race")) {
		fprintf(out, "---- the data race\n");
		fs_race_print(out);
	}
	fprintf(out, "---- program\n");
	sched_prog_print_text(R.p, out);
	fprintf(out, "---- where each thread was\n");
	for (unsigned int t = 0; t < R.p->nthreads; t++) {
		struct prog one = { .world = R.p->world };

		fprintf(out, "thread %u: %u of %u ops done", t, R.r->done[t],
			R.p->nops[t]);
		if (R.r->done[t] < R.p->nops[t]) {
			fprintf(out, ", in ");
			prog_print_op(&one, &R.p->ops[t][R.r->done[t]], out);
		} else {
			fprintf(out, "\n");
		}
		fs_thread_state(t, state, sizeof(state));
		fprintf(out, "          %s\n", state);
	}
	fs_thread_state(FS_RCU_TID, state, sizeof(state));
	fprintf(out, "RCU callbacks: %s\n", state);
	fprintf(out, "---- %lu steps (+%lu plain), %lu decisions (%lu at plain "
		"accesses), %lu preemptions, %lu schedule bytes used, %lu PRNG "
		"decisions\n", R.r->st.steps, R.r->st.plain_steps,
		R.r->st.decisions, R.r->st.plain_decisions, R.r->st.preemptions,
		R.r->st.bytes_used, R.r->st.prng_used);
	if (R.o->trace && R.o->full && !R.full_printed) {
		fprintf(out, "---- every step\n");	/* a finding inside the run */
		fs_trace_diagram(&R.trace, R.p->nthreads, NULL, true, out);
	} else if (R.o->trace && !R.o->full) {
		fprintf(out, "---- the race%s\n", R.bad ?
			": the steps that touched the folio of the finding" : "");
		fs_trace_diagram(&R.trace, R.p->nthreads, R.bad, false, out);
	}
	if (R.bad)
		dump_folio(out, R.bad, "at the finding");
	fflush(out);
}

static void __attribute__((format(printf, 3, 4)))
set_finding(const char *rule, const struct folio *f, const char *fmt, ...)
{
	va_list ap;

	R.r->finding = 1;
	snprintf(R.r->rule, sizeof(R.r->rule), "%s", rule);
	va_start(ap, fmt);
	vsnprintf(R.r->detail, sizeof(R.r->detail), fmt, ap);
	va_end(ap);
	R.bad = f;
}

/* A finding inside the run: report it and end the process. */
static _Noreturn void fatal(void)
{
	report();
	if (R.o->on_fatal)
		R.o->on_fatal(R.o->ctx);
	if (R.o->abort_on_finding)
		abort();
	exit(1);
}

static void on_finding(enum fs_verdict v, const char *what, void *ctx)
{
	static const char *const rules[] = {
		[FS_DEADLOCK] = "deadlock", [FS_LIVELOCK] = "livelock",
		[FS_LOCK_LEAK] = "lock-leak",
		[FS_LOCK_MISUSE] = "lock-misuse", [FS_DATA_RACE] = "data-race",
	};

	(void)ctx;
	set_finding(rules[v] ? rules[v] : "scheduler",
		    v == FS_DATA_RACE ? fs_addr_folio(fs_race_addr()) : NULL,
		    "%s", what);
	fatal();
}

static void on_bug(const char *file, int line, const char *func,
		   const char *cond, const struct folio *f)
{
	fs_freeze();
	set_finding("VM_BUG_ON", f, "%s:%d (in %s): %s", file, line, func,
		    cond);
	report();
	if (R.o->on_fatal)
		R.o->on_fatal(R.o->ctx);
	/* folio_bug goes on to print and abort() */
	if (!R.o->abort_on_finding) {
		fflush(NULL);
		exit(1);
	}
}

/* exec.c's caller-side checks (a lookup's identity): a finding now. */
static void on_exec_bug(const char *rule, const struct folio *f,
			const char *detail)
{
	fs_freeze();
	set_finding(rule, f, "%s", detail);
	fatal();
}

static void body(unsigned int tid, void *ctx)
{
	(void)ctx;
	for (unsigned int i = 0; i < R.p->nops[tid]; i++) {
		int made;

		R.r->results[tid][i] = exec_op(&R.ex[tid], &R.p->ops[tid][i], &made);
		R.r->done[tid] = i + 1;
	}
}

static int setup(void)
{
	const struct prog_world *w = &R.p->world;
	struct folio_config cfg = { .nr_pages = w->pages,
				    .pmd_order = w->pmd_order };
	unsigned int slots = prog_file_slots(w), anon = prog_anon_pages(w);
	struct address_space *files[2] = { NULL, NULL };
	struct mm_struct *mms[2] = { NULL, NULL };
	char name[16];

	if (folio_world_init(&cfg))
		return -1;
	fs_names_clear();
	for (unsigned int i = 0; i < w->files; i++) {
		files[i] = address_space_create(slots);
		if (!files[i])
			return -1;
		snprintf(name, sizeof(name), "file%u", i);
		fs_name_object(files[i], sizeof(*files[i]), 0, name);
		snprintf(name, sizeof(name), "file%u.slot", i);
		fs_name_object((const void *)files[i]->slots,
			       slots * sizeof(*files[i]->slots),
			       sizeof(*files[i]->slots), name);
	}
	for (unsigned int i = 0; i < w->mms; i++) {
		mms[i] = mm_create(anon, slots);
		if (!mms[i])
			return -1;
		for (unsigned int fl = 0; fl < w->files; fl++)
			mm_add_file_window(mms[i], files[fl]);
		snprintf(name, sizeof(name), "mm%u.pmd", i);
		fs_name_object((const void *)mms[i]->pmds,
			       mms[i]->nr_pmds * sizeof(*mms[i]->pmds),
			       sizeof(*mms[i]->pmds), name);
		snprintf(name, sizeof(name), "mm%u", i);
		fs_name_object(mms[i], sizeof(*mms[i]), 0, name);
	}
	for (unsigned int t = 0; t < SCHED_MAX_THREADS; t++) {
		memset(&R.ex[t], 0, sizeof(R.ex[t]));
		memcpy(R.ex[t].files, files, sizeof(files));
		memcpy(R.ex[t].mms, mms, sizeof(mms));
	}
	exec_data_begin(R.ex, R.p->nthreads, w);
	return 0;
}

/* After the run: the checker, then release everything, then leaks. */
static void check_and_teardown(void)
{
	static struct folio_held held[SCHED_MAX_THREADS * PROG_NR_HANDLES *
				      PROG_GUP_MAX];
	struct folio_check_opts co = { .held = held, .out = R.o->report,
				       .max_print = 4 };
	const struct prog_world *w = &R.p->world;
	struct folio_violation first;
	unsigned long leaks;

	exec_data_end();
	for (unsigned int t = 0; t < R.p->nthreads; t++)
		co.nr_held += exec_held(&R.ex[t], held + co.nr_held);
	if (R.o->full && R.o->report) {	/* every step, while names resolve */
		fprintf(R.o->report, "---- every step\n");
		fs_trace_diagram(&R.trace, R.p->nthreads, NULL, true, R.o->report);
		R.full_printed = true;
	}
	if (folio_check_quiescent(&co, &first)) {
		set_finding(first.rule, first.folio, "%s", first.detail);
		report();
		/* the world is not consistent: no teardown (it would leak) */
		return;
	}
	for (unsigned int t = 0; t < R.p->nthreads; t++)
		exec_release_all(&R.ex[t]);
	for (unsigned int i = 0; i < w->files; i++)
		truncate_inode_pages_range(R.ex[0].files[i], 0, prog_file_slots(w));
	for (unsigned int i = 0; i < w->mms; i++)
		mm_destroy(R.ex[0].mms[i]);
	for (unsigned int i = 0; i < w->files; i++)
		if (address_space_destroy(R.ex[0].files[i]) && !R.r->finding)
			set_finding("teardown", NULL,
				    "file %u still has folios after truncation", i);
	leaks = folio_world_destroy(R.o->report);
	if (leaks && !R.r->finding)
		set_finding("leak", NULL,
			    "%lu pages or descriptors not freed at the end", leaks);
	if (R.r->finding)
		report();
}

int sched_run(const struct sched_prog *p, const struct sched_run_opts *o,
	      struct sched_result *r)
{
	struct fs_config cfg = {
		.nthreads = p->nthreads,
		.body = body,
		.sched = p->sched,
		.sched_len = p->nsched,
		.mode = p->mode == SCHED_PCT ? FS_MODE_PCT : FS_MODE_BYTES,
		.pct_depth = p->pct_depth,
		.pct_steps = 2048,
		.cpus = p->cpus,
		/* weak memory needs a thread's plain loads as steps (they
		 * must see its own buffered stores): sc without them */
		.mm = fs_plain_steps() ? (enum fs_mm)p->mm : FS_MM_SC,
		.step_bound = o->step_bound ? o->step_bound : SCHED_STEP_BOUND,
		.rf = o->rf,
		.on_finding = on_finding,
		.decisions = o->decisions,
		.decisions_cap = o->decisions_cap,
		.decide = o->decide,
		.on_step = o->on_step,
	};
	folio_race_fn rp_hook = o->on_race_point;
	memset(r, 0, sizeof(*r));
	R.p = p;
	R.o = o;
	R.r = r;
	R.bad = NULL;
	R.full_printed = false;
	R.trace.n = 0;
	if (!o->decide && p->nanchors) {
		/* an anchored schedule makes every decision; past its last
		 * directive, byte 0's rule (no PRNG) */
		anchor_begin(p, r->done);
		cfg.decide = anchor_decide;
		cfg.on_step = anchor_on_step;
		rp_hook = anchor_on_race_point;
	}
	cfg.trace = o->trace ? &R.trace : NULL;
	/* the PRNG past the schedule's end: seeded from the whole input */
	cfg.seed = 0xcbf29ce484222325ull;
	for (unsigned int t = 0; t < p->nthreads; t++)
		for (unsigned int i = 0; i < p->nops[t]; i++) {
			cfg.seed = (cfg.seed ^ p->ops[t][i].code) * 0x100000001b3ull;
			for (int a = 0; a < PROG_MAX_ARGS; a++)
				cfg.seed = (cfg.seed ^ p->ops[t][i].arg[a]) *
					   0x100000001b3ull;
		}
	for (unsigned int i = 0; i < p->nsched; i++)
		cfg.seed = (cfg.seed ^ p->sched[i]) * 0x100000001b3ull;
	if (fs_setup())
		return -1;
	atomic_store(&folio_bug_hook, on_bug);
	exec_on_bug = on_exec_bug;
	if (setup()) {
		folio_world_destroy(NULL);
		return -1;
	}
	folio_window_reset();
	/* race points are the anchors' too; not steps: a relaxed load of
	 * the hook, then the call, on the logical thread that passes one */
	atomic_store(&folio_race_hook, rp_hook);
	fs_run(&cfg, &r->st);
	atomic_store(&folio_race_hook, NULL);
	if (cfg.decide == anchor_decide)
		r->anchors_reached = anchor_reached();
	folio_window_read(r->windows);
	if (o->trace)
		r->trace_hash = fs_trace_hash(&R.trace);
	check_and_teardown();
	return r->finding;
}

int sched_mm_from_env(void)
{
	const char *e = getenv("FT_SCHED_MM");
	enum fs_mm m;

	if (!e || !*e)
		return -1;
	m = wmm_parse(e);
	if (m == FS_MM_NR) {
		fprintf(stderr, "FT_SCHED_MM=%s: expected sc, tso, pso or arm\n", e);
		exit(2);
	}
	return (int)m;
}
