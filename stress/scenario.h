/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - named worker mixes for foliotorture.
 *
 * A scenario file is plain text, one directive per line, '#' comments:
 *
 *   # what this scenario hammers (the first comment line is its summary)
 *   pmd_order 4          model sizes: pages, files, file_pages, max_order,
 *   mms 2                pmd_order, mms, anon_pages
 *   private 1            1: worker i uses only file i and mm i (scaling runs)
 *   blind 25             percent of picks made blind rather than at a hint
 *   pin 50               percent of GUPs that pin (FOLL_PIN), not get
 *                        of where the work is (targets.h; default 25)
 *   aims R3,R9           the race windows (folio/window.h) it is aimed at:
 *                        --require-window aims makes missing one a FAIL
 *   group gup 2 gup=4 unpin=3 fault=2
 *   group split 1 split=3 split_pmd=1 fault=2
 *
 * "group NAME SHARE op=WEIGHT..." is a kind of worker: SHARE is its relative
 * number of threads, each op weight its relative frequency.  A bad file
 * gets "file:line: message" and foliotorture exits 2.
 */
#ifndef FT_SCENARIO_H
#define FT_SCENARIO_H

#include "torture.h"

#define FT_MAX_GROUPS 16

struct ft_group {
	char name[32];
	unsigned int share;
	unsigned int weight[FT_OP_NR];
	unsigned int total;
};

struct ft_scenario {
	char name[64];
	char summary[128];
	struct ft_group groups[FT_MAX_GROUPS];
	unsigned int nr_groups;
	bool private_folios;
	unsigned int blind_pct;		/* targets.h; 25 unless the file says */
	unsigned int pin_pct;		/* GUPs that pin (FOLL_PIN); 50 */
	unsigned int aims;		/* 1 << enum folio_window */
	unsigned int sizes_set;	/* 1 << enum ft_size: sizes the file sets */
};

/*
 * Load @arg: a path (contains '/' or ends in ".scn") or the name of a file
 * in the scenario directory.  Overrides the size fields of @o it sets.
 * Returns 0, or 2 after printing "file:line: message".
 */
int ft_scenario_load(const char *arg, struct ft_scenario *sc, struct ft_opts *o);
/* Print the available scenarios with their summaries. */
int ft_scenario_list(FILE *out);

#endif /* FT_SCENARIO_H */
