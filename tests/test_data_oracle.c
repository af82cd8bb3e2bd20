/* SPDX-License-Identifier: MIT */
/*
 * test_data_oracle.c - the data oracles fire on broken states, and stay
 * quiet on their legitimate twins (docs/design.md 5.16).
 *
 * The executor's rules (fuzz/exec_data.c), each by breaking what a correct
 * core keeps: a value of another place planted in a page (legit), a page
 * overwritten behind a thread's back (lost), a page unmapped without any
 * op announcing it (vanished), a page written behind a GUP's back
 * (stable), a store by one mm on a page another mm holds (an entry made
 * writable by hand) and a device's write through a pin on a page another
 * mm maps (a handle forged into a pin).
 * Each twin does the same through the ops that may do it (a zap, another
 * thread's store, a fork), which the oracle must accept.
 * The op VM's comparison with the reference model (fuzz/vm_compare.c,
 * model-data): a page corrupted inside a migration, and a load that reads
 * a value the model does not predict (corrupted inside the access).
 * Run: build/<preset>/tests/test_data_oracle
 */
#include <errno.h>
#include <string.h>

#include "data_value.h"
#include "exec.h"
#include "folio/debug.h"
#include "folio/memmap.h"
#include "folio/page_data.h"
#include "ft_world.h"
#include "prog.h"
#include "vm.h"

static char last_rule[48], last_detail[256];
static int bugs;

/* The first finding of an op is the one checked (a broken page may break
 * two rules at once: its place's, and a record's). */
static void on_bug(const char *rule, const struct folio *f, const char *detail)
{
	(void)f;
	if (!bugs++) {
		snprintf(last_rule, sizeof(last_rule), "%s", rule);
		snprintf(last_detail, sizeof(last_detail), "%s", detail);
	}
}

static struct prog_world w = { .files = 1, .mms = 2, .pmd_order = 2,
			       .pages = 96, .file_pmds = 2, .anon_pmds = 2 };
static struct exec_ctx x[2];

static void up(void)
{
	ft_world_up_pmd(w.pages, w.pmd_order);
	memset(x, 0, sizeof(x));
	x[0].files[0] = address_space_create(prog_file_slots(&w));
	for (unsigned int i = 0; i < 2; i++) {
		x[0].mms[i] = mm_create(prog_anon_pages(&w), prog_file_slots(&w));
		CHECK(mm_add_file_window(x[0].mms[i], x[0].files[0]) ==
		      (long)prog_anon_pages(&w));
	}
	x[1].files[0] = x[0].files[0];
	memcpy(x[1].mms, x[0].mms, sizeof(x[0].mms));
	exec_data_begin(x, 2, &w);
	exec_on_bug = on_bug;
	bugs = 0;
	last_rule[0] = 0;
}

static void down(void)
{
	exec_data_end();
	exec_on_bug = NULL;
	exec_release_all(&x[0]);
	exec_release_all(&x[1]);
	for (unsigned int i = 0; i < 2; i++)
		mm_destroy(x[0].mms[i]);
	truncate_inode_pages_range(x[0].files[0], 0, prog_file_slots(&w));
	CHECK_EQ(address_space_destroy(x[0].files[0]), 0);
	ft_world_down();
}

/* Run one op on thread @t: its result. */
static long run(unsigned int t, enum prog_opcode code, unsigned int a0,
		unsigned int a1, unsigned int a2, unsigned int a3)
{
	struct prog_op op = { .code = (uint8_t)code, .arg = { a0, a1, a2, a3 } };
	int made;

	return exec_op(&x[t], &op, &made);
}

static void expect_bug(const char *what)
{
	CHECK(bugs >= 1);
	CHECK(!strcmp(last_rule, "data"));
	if (!strstr(last_detail, what)) {
		fprintf(stderr, "want \"%s\" in: %s\n", what, last_detail);
		CHECK(0);
	}
	bugs = 0;
}

static unsigned long pfn_of(unsigned int mm, unsigned long va)
{
	return mm_walk_pfn(x[0].mms[mm], va);
}

static void test_legit(void)
{
	up();
	CHECK_EQ(run(0, OP_FAULT, 0, 0, 0, 1), 0);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 1);	/* 0: fine */
	CHECK_EQ(bugs, 0);
	/* a value written for va 5 found at va 0 */
	page_data_write(pfn_of(0, 0), ft_data_value(0, 1, 7, ft_data_key_anon(5)));
	CHECK_EQ(run(1, OP_TOUCH, 0, 0, 0, 0), 1);
	expect_bug("a value written for another place");
	/* never zero-filled */
	page_data_write(pfn_of(0, 0), PAGE_DATA_POISON ^ pfn_of(0, 0));
	CHECK_EQ(run(1, OP_TOUCH, 0, 0, 0, 0), 1);
	expect_bug("never written since the world began");
	/* a file page reading 0, and one of another index */
	CHECK_EQ(run(0, OP_ADD, 0, 0, 1, 0), 0);
	CHECK_EQ(run(0, OP_MAP, 0, 0, 0, 2), 2);
	CHECK_EQ(run(1, OP_TOUCH, 0, 8 + 1, 0, 0), 1);
	CHECK_EQ(bugs, 0);
	page_data_write(pfn_of(0, 8), 0);
	CHECK_EQ(run(1, OP_TOUCH, 0, 8, 0, 0), 1);
	expect_bug("zero in a file page");
	page_data_write(pfn_of(0, 8), file_page_data(0, 1, 0));
	CHECK_EQ(run(1, OP_TOUCH, 0, 8, 0, 0), 1);
	expect_bug("another file page's content");
	down();
	/* versions modulo 2^32: a page of an older version stays legit when
	 * the file's count wraps (foliotorture's files see a million
	 * truncates in minutes), one of a later version never is */
	CHECK(!ft_data_illegit(file_page_data(0, 1, 0xfffffffful),
			       ft_data_key_file(0, 1), 0x100000003ul));
	CHECK(!ft_data_illegit(file_page_data(0, 1, 3), ft_data_key_file(0, 1), 3));
	CHECK(ft_data_illegit(file_page_data(0, 1, 4), ft_data_key_file(0, 1), 3));
	CHECK(ft_data_illegit(file_page_data(0, 1, 0), ft_data_key_file(0, 1),
			      0xfffffffful));
}

static void test_lost_and_vanished(void)
{
	up();
	CHECK_EQ(run(0, OP_FAULT, 0, 0, 0, 1), 0);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);	/* thread 0 stores */
	/* twin: thread 1's store is announced (the core's access hook) */
	CHECK_EQ(run(1, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 1);
	CHECK_EQ(bugs, 0);
	/* broken: the page changes with no write announced */
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	page_data_write(pfn_of(0, 0), ft_data_value(0, 1, 99, ft_data_key_anon(0)));
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 1);
	expect_bug("nothing changed the place since");
	/* twin: a zap (an op that may unmap) then nothing mapped: fine */
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(run(1, OP_ZAP, 0, 0, 1, 0), 1);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 0);
	CHECK_EQ(bugs, 0);
	/* broken: unmapped behind the oracle's back */
	CHECK_EQ(run(0, OP_FAULT, 0, 0, 0, 1), 0);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(zap_page_range(x[0].mms[0], 0, 1), 1);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 0);
	expect_bug("the page vanished");
	down();
}

static void test_stable_and_pin_coherence(void)
{
	up();
	CHECK_EQ(run(0, OP_FAULT, 0, 0, 0, 1), 0);
	/* h0: a R/W pin of va 0; the device writes, the CPU reads it */
	CHECK_EQ(run(0, OP_GUP, 0, 0, 1, PROG_GUP_PIN | PROG_GUP_WRITE |
					  PROG_GUP_BATCHED), 1);
	CHECK_EQ(run(0, OP_DMA, 0, 1, 0, 0), 1);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 0, 0), 1);
	CHECK_EQ(bugs, 0);
	/* the process stores; the pin sees it (cow.c's R/W pin rule) */
	CHECK_EQ(run(1, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(run(0, OP_DMA, 0, 0, 0, 0), 1);
	CHECK_EQ(bugs, 0);
	/* broken: the pinned page changes behind both */
	page_data_write(pfn_of(0, 0), ft_data_value(0, 1, 77, ft_data_key_anon(0)));
	CHECK_EQ(run(0, OP_DMA, 0, 0, 0, 0), 1);
	expect_bug("no write reached the page since");
	/* a write through a pin taken for reading: refused, no check */
	CHECK_EQ(run(0, OP_GUP, 0, 0, 1, PROG_GUP_PIN | PROG_GUP_BATCHED), 1);
	CHECK_EQ(run(0, OP_DMA, 1, 1, 0, 0), -EPERM);
	CHECK_EQ(bugs, 0);
	down();
}

static void test_leaks(void)
{
	struct exec_handle *eh;
	_Atomic pte_t *ptep;

	up();
	CHECK_EQ(run(0, OP_FAULT, 0, 0, 0, 1), 0);
	/* twin: a GUP reference of mm 0 and mm 0's own store: fine */
	CHECK_EQ(run(1, OP_GUP, 0, 0, 1, PROG_GUP_BATCHED), 1);	/* h0 */
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(bugs, 0);
	CHECK_EQ(run(1, OP_PUT, 0, 0, 0, 0), 0);
	/* twin: fork shares the page with mm 1, which takes a GUP reference
	 * of it: mm 0's write fault copies, its store lands in the copy */
	CHECK_EQ(run(0, OP_FORK, 0, 1, 0, 0), 1);
	CHECK_EQ(run(1, OP_GUP, 1, 0, 1, PROG_GUP_BATCHED), 1);	/* h0 */
	CHECK_EQ(run(0, OP_WP_FAULT, 0, 0, 0, 0), 2);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	CHECK_EQ(bugs, 0);
	/* broken: mm 0's entry made writable on the page mm 1 holds (a
	 * reuse that ignored the reference): its store is a leak */
	CHECK_EQ(run(0, OP_ZAP, 0, 0, 1, 0), 1);
	CHECK_EQ(run(0, OP_FORK, 1, 0, 0, 0), 1);	/* mm 0 shares it again */
	ptep = pte_offset(atomic_load(pmd_offset(x[0].mms[0], 0)), 0);
	atomic_fetch_or(ptep, _PAGE_WRITE);
	CHECK_EQ(run(0, OP_TOUCH, 0, 0, 1, 0), 1);
	expect_bug("one process's write seen by another");
	atomic_fetch_and(ptep, ~(pte_t)_PAGE_WRITE);
	/* broken: mm 1's GUP reference forged into a R/W pin; its device
	 * write lands on a page mm 0 maps (fork copies a pinned page, this
	 * one was shared) */
	eh = &x[1].h[0];
	CHECK_EQ(eh->kind, EH_GUP);
	eh->flags = PROG_GUP_PIN | PROG_GUP_WRITE;
	CHECK_EQ(run(1, OP_DMA, 0, 1, 0, 0), 1);
	expect_bug("one process's write seen by another");
	eh->flags = PROG_GUP_BATCHED;	/* back to a GET, for the release */
	down();
}

/* ---- the VM against the model ---- */

static int corrupted;

/* Inside the migration of va 0's folio: the page of the anon folio at
 * va 1 (found through the memmap) changes, as a stray copy would do. */
static void corrupt_other_page(enum folio_race_point rp, void *arg)
{
	(void)arg;
	if (rp != RP_MIGRATE_FROZEN || corrupted++)
		return;
	for (unsigned long pfn = 0; pfn < w.pages; pfn++) {
		memdesc_t wd = memmap_word_load(pfn);
		struct folio *f = memdesc_ptr(wd);

		if (memdesc_type(wd) == MEMDESC_ANON && folio_index(f) == 1)
			page_data_write(pfn, ft_data_value(0, 0, 99,
							   ft_data_key_anon(1)));
	}
}

/* Inside a load, after its reference and before it reads: the page gets
 * a value its place may hold (its own key), but not the one it holds. */
static void corrupt_at_load(enum folio_race_point rp, void *arg)
{
	if (rp != RP_TOUCH_GOT || corrupted++)
		return;
	page_data_write(folio_pfn(arg), ft_data_value(0, 0, 200,
						      ft_data_key_anon(0)));
}

static int run_vm(const char *text, const char *rule, const char *what)
{
	struct prog p;
	struct prog_text_error err;
	struct vm_opts o = { .check_every = 1 };
	struct vm_finding f;
	int rc;

	CHECK_EQ(prog_parse_text(&p, text, strlen(text), &err), 0);
	rc = vm_run(&p, &o, &f);
	CHECK_EQ(rc, 1);
	if (rc == 1 && (strcmp(f.rule, rule) || !strstr(f.detail, what))) {
		fprintf(stderr, "want %s \"%s\", got %s: %s\n", rule, what,
			f.rule, f.detail);
		CHECK(0);
	}
	return rc;
}

static void test_vm_model_data(void)
{
	static const char migrate[] =
		"world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\n"
		"fault mm=0 va=0 order=0 write=1\n"
		"fault mm=0 va=1 order=0 write=1\n"
		"touch mm=0 va=1 write=1\n"
		"get_va mm=0 va=0\n"
		"migrate h=0\n";
	static const char load[] =
		"world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\n"
		"fault mm=0 va=0 order=0 write=1\n"
		"touch mm=0 va=0 write=0\n";
	struct prog p;
	struct prog_text_error err;
	struct vm_opts o = { .check_every = 1 };
	struct vm_finding f;

	/* the twin: the same program, nothing corrupted, passes */
	CHECK_EQ(prog_parse_text(&p, migrate, strlen(migrate), &err), 0);
	CHECK_EQ(vm_run(&p, &o, &f), 0);
	/* the page at va 1 (not the migrated one) changes in the op: the
	 * comparison after it names the page and both values */
	corrupted = 0;
	atomic_store(&folio_race_hook, corrupt_other_page);
	run_vm(migrate, "model-data", "page 0 of folio");
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(corrupted, 1);
	/* a load reads what the model does not predict */
	corrupted = 0;
	atomic_store(&folio_race_hook, corrupt_at_load);
	run_vm(load, "model-data", "the model reads 0");
	atomic_store(&folio_race_hook, NULL);
	CHECK_EQ(corrupted, 1);
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_legit);
	FT_RUN(test_lost_and_vanished);
	FT_RUN(test_stable_and_pin_coherence);
	FT_RUN(test_leaks);
	folio_thread_offline();
	/* the VM brings its own RCU set-up (single-threaded callbacks) */
	FT_RUN(test_vm_model_data);
	return ft_done();
}
