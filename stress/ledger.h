/* SPDX-License-Identifier: MIT */
/*
 * ledger.h - what a worker holds across steps, and what it did lately.
 *
 * ft_ledger: every reference a worker keeps past the end of one operation
 * (a lookup it holds on to for a while) is recorded here, so the checker
 * can verify refcount == expected + held exactly at a quiescent point.
 * ft_ring: the worker's last FT_RING_SIZE operations, printed on a
 * violation.
 */
#ifndef FT_LEDGER_H
#define FT_LEDGER_H

#include <stdint.h>

#include "folio/check.h"

#define FT_LEDGER_MAX 16
#define FT_RING_SIZE 64

struct ft_ledger {
	struct folio_held held[FT_LEDGER_MAX];
	unsigned int nr;
};

struct ft_ring_entry {
	uint8_t kind;
	int8_t result;		/* 0 ok, negative errno, 1 = "miss" */
	const void *folio;
	unsigned long arg;	/* index or pfn */
};

struct ft_ring {
	struct ft_ring_entry e[FT_RING_SIZE];
	unsigned long n;
};

static inline void ft_ring_add(struct ft_ring *r, int kind, int result,
			       const void *folio, unsigned long arg)
{
	struct ft_ring_entry *e = &r->e[r->n++ % FT_RING_SIZE];

	e->kind = (uint8_t)kind;
	e->result = (int8_t)result;
	e->folio = folio;
	e->arg = arg;
}

#endif /* FT_LEDGER_H */
