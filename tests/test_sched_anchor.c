/* SPDX-License-Identifier: MIT */
/*
 * test_sched_anchor.c - anchored schedules (fuzz/sched_anchor.h):
 *   format   every directive form parses, prints in its canonical form and
 *            parses back to the same program;
 *   engine   small logical-thread bodies (the scheduled core's fa_* on
 *            variables of their own, logging their events) run in exactly
 *            the order the directives say: before / after the Nth step of
 *            a kind in a function, blocked, done, and carrying on after
 *            the last line; an anchor survives an extra step elsewhere.
 * Run: build/<preset>/tests/test_sched_anchor
 */
#include <stdint.h>
#include <string.h>

#include "folio/atomic.h"
#include "ft_test.h"
#include "sched/sched.h"
#include "sched_anchor.h"
#include "sched_prog.h"

#ifndef FOLIO_SCHED
#error "test_sched_anchor runs on the scheduled core: link opvm_sched"
#endif

/* ---- format ---- */

static const char prog_text[] =
	"world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\n"
	"mode bytes\n"
	"thread 0:\n"
	"put h=0\n"
	"thread 1:\n"
	"put h=0\n";

static const char anchors_text[] =
	"run 0 until before 5th store in do_anonymous_page\n"
	"run 1 until RP_GUP_DECODED\n"
	"run 0 until after load in gup_fast_pmd\n"
	"run 1 until before in folio_try_get\n"
	"run 0 until 2nd RP_FILEMAP_GOT\n"
	"run rcu until blocked\n"
	"run 1 until after 21st cas in folio_ref_try_add\n"
	"run 0 until done\n";

static void test_format(void)
{
	static struct sched_prog p, q;
	struct prog_text_error err;
	char text[2048], printed[4096];
	size_t n;
	FILE *f;

	snprintf(text, sizeof(text), "%s%s", prog_text, anchors_text);
	CHECK_EQ(sched_prog_parse_text(&p, text, strlen(text), &err), 0);
	CHECK_EQ(p.nanchors, 8);
	CHECK_EQ(p.nsched, 0);
	CHECK_EQ(p.anchors[0].until, AU_BEFORE);
	CHECK_EQ(p.anchors[0].nth, 5);
	CHECK_EQ(p.anchors[0].kind, FS_STORE);
	CHECK(!strcmp(p.anchors[0].func, "do_anonymous_page"));
	CHECK_EQ(p.anchors[1].until, AU_POINT);
	CHECK_EQ(p.anchors[1].rp, RP_GUP_DECODED);
	CHECK_EQ(p.anchors[3].kind, ANCHOR_ANY_KIND);
	CHECK_EQ(p.anchors[5].tid, ANCHOR_RCU);
	CHECK_EQ(p.anchors[6].nth, 21);
	f = fmemopen(printed, sizeof(printed), "w");
	CHECK(f != NULL);
	if (!f)
		return;
	sched_prog_print_text(&p, f);
	n = (size_t)ftell(f);
	fclose(f);
	printed[n < sizeof(printed) ? n : sizeof(printed) - 1] = 0;
	/* canonical: "before in F" is printed as written, "1st" is omitted */
	CHECK(strstr(printed, anchors_text) != NULL);
	if (!strstr(printed, anchors_text))
		fprintf(stderr, "printed:\n%s", printed);
	CHECK_EQ(sched_prog_parse_text(&q, printed, strlen(printed), &err), 0);
	CHECK_EQ(sched_prog_diff(&p, &q, text, sizeof(text)), 0);
}

/* ---- engine ---- */

#define LOG_MAX 128
static _Atomic unsigned int log_pos;
static char log_buf[LOG_MAX + 1];
static _Atomic unsigned long word[3];
static struct fl_lock lock;
static bool extra;		/* one more step before each event */
static unsigned int done[SCHED_MAX_THREADS];
static struct sched_prog ap;

/* One event: a load of this thread's word (the step the anchors name,
 * "load in event"), then the log slot (an RMW in event too). */
static void __attribute__((noinline)) event(unsigned int tid, char c)
{
	unsigned int i;

	(void)fa_load_relaxed(&word[tid]);
	i = fa_add_return_relaxed(&log_pos, 1) - 1;
	if (i < LOG_MAX)
		log_buf[i] = c;
}

static void __attribute__((noinline)) unrelated(unsigned int tid)
{
	(void)fa_load_relaxed(&word[2]);
	(void)tid;
}

/* Thread t logs three events 'a'+3t.. ; thread 1's second event is taken
 * under a lock that thread 0 holds around its last event. */
static void body(unsigned int tid, void *ctx)
{
	(void)ctx;
	for (int k = 0; k < 3; k++) {
		if (extra)
			unrelated(tid);
		if (tid == 0 && k == 2)
			fl_lock(&lock);
		if (tid == 1 && k == 1) {
			fl_lock(&lock);
			fl_unlock(&lock);
		}
		event(tid, (char)('a' + 3 * tid + k));
		if (tid == 0 && k == 2)
			fl_unlock(&lock);
	}
	done[tid] = 1;
}

static const char *run_anchored(const char *anchors)
{
	char text[1024];
	struct prog_text_error err;
	struct fs_stats st;
	struct fs_config c = { .nthreads = 2, .body = body,
			       .step_bound = 10000 };

	snprintf(text, sizeof(text), "%s%s", prog_text, anchors);
	memset(&ap, 0, sizeof(ap));
	CHECK_EQ(sched_prog_parse_text(&ap, text, strlen(text), &err), 0);
	if (err.msg[0])
		fprintf(stderr, "line %u: %s\n", err.line, err.msg);
	ap.nops[0] = ap.nops[1] = 1;	/* "done": the body returned */
	memset(done, 0, sizeof(done));
	memset(log_buf, 0, sizeof(log_buf));
	atomic_store(&log_pos, 0);
	anchor_begin(&ap, done);
	c.decide = anchor_decide;
	c.on_step = anchor_on_step;
	CHECK_EQ(fs_run(&c, &st), FS_OK);
	return log_buf;
}

#define CHECK_RUN(anchors, want)                                           \
	do {                                                               \
		const char *got_ = run_anchored(anchors);                  \
									   \
		CHECK(!strcmp(got_, (want)));                              \
		if (strcmp(got_, (want)))                                  \
			fprintf(stderr, "  %s: log '%s', want '%s'\n",     \
				(anchors), got_, (want));                  \
	} while (0)

static void test_engine(void)
{
	CHECK_EQ(fs_setup(), 0);
	for (int e = 0; e < 2; e++) {
		extra = e;	/* the same order with a step added elsewhere */
		/* no lines: carry on, thread 0 first */
		CHECK_RUN("", "abcdef");
		/* thread 1 stops before its 2nd event, thread 0 before its
		 * 2nd, thread 1 runs to its end, then thread 0 carries on */
		CHECK_RUN("run 1 until before 2nd load in event\n"
			  "run 0 until before 2nd load in event\n"
			  "run 1 until done\n", "daefbc");
		/* after: thread 0 takes its first event's load and stops at
		 * the RMW that logs it, so thread 1 logs first */
		CHECK_RUN("run 0 until after load in event\n"
			  "run 1 until before 2nd load in event\n"
			  "run 0 until done\n", "dabcef");
		/* after the last line the running thread carries on */
		CHECK_RUN("run 0 until after load in event\n"
			  "run 1 until before 2nd load in event\n", "defabc");
		/* blocked: thread 1 runs into the lock thread 0 holds, and
		 * thread 0 goes on: the directive ends there */
		CHECK_RUN("run 0 until after lock in body\n"
			  "run 1 until blocked\n"
			  "run 0 until done\n", "abdcef");
		/* an anchor never met: its thread runs to its end, then the
		 * others carry on */
		CHECK_RUN("run 1 until before 9th load in event\n", "defabc");
	}
	CHECK_EQ(anchor_reached(), 0);
}

int main(void)
{
	test_format();
	test_engine();
	return ft_done();
}
