/* SPDX-License-Identifier: MIT */
/*
 * data_oracle.h - foliotorture's data oracle (docs/design.md 5.16): workers write
 * signed values (harness/data_value.h: worker, sequence, the place) into pages
 * through their mappings and through the GUP references they hold, and
 * check every read they make against what they wrote, while other
 * workers fork, migrate, collapse, split and reclaim around them.
 *
 * The rules are those of fuzz/exec_data.h (legit, lost, stable, leak),
 * with the epochs as seq_cst atomics shared by real threads:
 *   - an op that may change what a place maps (fault, zap, MADV_FREE, fork
 *     into its mm, truncate) bumps the place's mapping and content epochs
 *     and its in-flight count when it starts, and again when it ends;
 *   - a CPU store bumps its place's content epoch and its page's write
 *     epoch from the core's access hook, before the store; a DMA store
 *     does the same before it writes;
 *   - a worker records what it wrote (or read) only if no such op started
 *     or ended during its own op, and checks a record only while the
 *     place's content epoch is the one it recorded and nothing is in
 *     flight there.
 * The orderings that make "since" exact on real threads: a bump is a
 * seq_cst RMW made before the op's first change of the tables (program
 * order, then the table's lock or release store), and a reader loads the
 * epochs after the access that saw the change (a PTL it took, or the
 * acquire of the entry's CAS): so a change a reader saw was announced
 * before its epoch load.
 * A broken rule is a finding with rule "data": the folio, the writer, the
 * reader, and every worker's recent operations.
 */
#ifndef FT_STRESS_DATA_H
#define FT_STRESS_DATA_H

#include <stdbool.h>
#include <stdint.h>

struct ft_worker;
struct ft_gup;

/* Set up for the world started (files, mms), hook installed; -1 on ENOMEM. */
int ft_data_init(void);
void ft_data_fini(void);
/* Data findings so far (a FAIL with rule "data"). */
int ft_data_errors(void);

enum ft_dd { FT_DD_FAULT, FT_DD_ZAP, FT_DD_MADV, FT_DD_FORK, FT_DD_TRUNCATE };
/*
 * An op that may change what [lo, hi) maps: of mm @idx (a file's index
 * for FT_DD_TRUNCATE; the child for FT_DD_FORK, @src its parent), at its
 * start (@end false) and its end (with its result @r).  A fault passes
 * @snap (hi - lo entries, at most FT_GUP_PAGES) to both calls: its
 * places' mapping epochs after its start.
 */
void ft_data_disturb(enum ft_dd kind, unsigned int idx, unsigned long lo,
		     unsigned long hi, bool end, long r, unsigned int src,
		     unsigned long *snap);

/* A CPU load or store at @va of mm @mm, checked; touch_page_data's result. */
int ft_data_touch(struct ft_worker *w, unsigned int mm, unsigned long va,
		  bool write);
/* Before a GUP of [va, va + n) of mm @mm; after it made @g. */
void ft_data_gup_begin(struct ft_worker *w, unsigned int mm, unsigned long va,
		       unsigned long n);
void ft_data_gup_made(struct ft_worker *w, struct ft_gup *g, unsigned int mm,
		      unsigned long va);
/* Before @g is unpinned (@dirty: with unpin_user_pages_dirty_lock). */
void ft_data_gup_release(struct ft_worker *w, struct ft_gup *g, bool dirty);
/* A device reads or writes one page of one of @w's GUPs: 0, or 1 (none). */
int ft_data_dma(struct ft_worker *w);

/* Counters for the summary: loads checked against a record, and data
 * written (CPU and DMA). */
unsigned long ft_data_checked(void);

#endif /* FT_STRESS_DATA_H */
