/* SPDX-License-Identifier: MIT */
/*
 * model.h - the reference model: the same semantics as libfolio, written
 * as simply as we can.  Single-threaded, no atomics, no allocator, no
 * counters that can drift: a folio's refcount, mapcount, entire mapcount
 * and pincount are *computed* from the explicit holders (page-cache slots,
 * page-table entries, handles) whenever they are needed.
 *
 * What the model cannot know it asks the oracle, in exactly these places
 * (each is a choice the allocator makes, not a rule of the protocol):
 *   - whether an allocation failed.  The core counts refused allocations
 *     (nr_alloc_failures), so the oracle says whether one happened in this
 *     op; only then may an op that allocates return -ENOMEM, may map skip
 *     a page table it needed (the model asks whether the PMD became a
 *     table), may the deferred scanner leave a splittable folio unsplit
 *     (the model asks whether it was split);
 *   - which PFN and descriptor a new folio got.
 * Everything else is predicted and compared by the VM.
 */
#ifndef FT_MODEL_H
#define FT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "prog.h"
#include "vm.h"

#define M_MAX_FOLIOS 8192
#define M_MAX_PAGES 256
#define M_MAX_PMDS 12		/* anon_pmds + files * file_pmds */
#define M_MAX_PMD_NR 16		/* 1 << max pmd_order */
#define M_MAX_SLOTS 64
#define M_MAX_SHARERS 14	/* WP_MAX_SHARERS (folio/ksm.h) */

/* entry bits */
#define M_W 1u
#define M_D 2u
#define M_Y 4u

enum m_pmd_kind { M_NONE, M_TABLE, M_LEAF };

struct m_pte {
	int folio;		/* -1: none */
	uint8_t page;		/* page of the folio it maps */
	uint8_t bits;
};

struct m_pmd {
	uint8_t kind;		/* enum m_pmd_kind */
	uint8_t bits;		/* M_LEAF */
	int folio;		/* M_LEAF */
	struct m_pte pte[M_MAX_PMD_NR];	/* M_TABLE */
};

struct m_folio {
	bool live;
	const void *real;	/* the core's descriptor (learned) */
	unsigned long pfn;	/* learned */
	unsigned int order;
	bool anon;
	int file;		/* cached in this file, -1 if none */
	int mm;			/* anon owner */
	unsigned long index;	/* file offset or anon va */
	bool dirty, swapbacked, queued;
	bool excl;		/* PG_anon_exclusive; mm is then its only mapper */
	/*
	 * Write-protected (folio_test_ksm; wp_merge made it, folio/ksm.h):
	 * order 0, anon, swapbacked, never exclusive, mapped read-only and
	 * only at its sharers' addresses sh[0..nsh) (in any mm), in the
	 * descriptor's order, stale ones included (only a write's copy
	 * prunes them).  Its mm and index mean nothing while it is: the
	 * core's mapping is the descriptor.  Not ksm: nsh is 0.
	 */
	bool ksm;
	uint8_t nsh;
	uint8_t sh[M_MAX_SHARERS];	/* anon addresses: below 4 << 4 */
};

enum m_handle_kind { H_FREE, H_REF, H_GUP };

struct m_handle {
	uint8_t kind;
	int folio;			/* H_REF */
	unsigned int flags;		/* H_GUP: PROG_GUP_* */
	unsigned int n;			/* H_GUP */
	unsigned long pfn[PROG_GUP_MAX];
	unsigned int mm;		/* H_GUP: taken at (mm, va + i) */
	unsigned long va;
};

struct m_counts {
	long rc, map, entire, pin;
};

struct model {
	struct prog_world w;
	unsigned int pmd_nr, nr_pmds, slots, anon_pages;
	unsigned long va_limit;		/* the core's mm size (all windows) */
	struct m_folio f[M_MAX_FOLIOS];
	unsigned int nr_f;
	int owner[M_MAX_PAGES];		/* pfn -> live folio, -1 */
	int slot[2][M_MAX_SLOTS];
	struct m_pmd pmd[2][M_MAX_PMDS];
	struct m_handle h[PROG_NR_HANDLES];
	int queue[M_MAX_FOLIOS];	/* deferred split, FIFO */
	unsigned int qlen;
	bool lost;			/* could not learn a new folio: the core disagreed */
	/*
	 * Contents (docs/design.md 5.16): what each page holds, by PFN, and
	 * each file's data version.  @op is the running op's index (the
	 * value a write stores is the program's, not the core's: it names
	 * the op).  A read op sets read_valid and read_val: the VM compares
	 * them with what the core read.
	 */
	uint64_t data[M_MAX_PAGES];
	unsigned long fver[2];
	unsigned int op;
	bool read_valid;
	uint64_t read_val;
};

/* What the VM tells the model about choices the core made. */
struct m_oracle {
	void *ctx;
	long real_rc;		/* the core's return code for this op */
	bool alloc_failed;	/* an allocation was refused during this op */
	/* the descriptor now owning @pfn, NULL if none */
	const void *(*desc_at)(void *ctx, unsigned long pfn);
	/* the first PFN of the folio in a page-cache slot, ~0ul if empty */
	unsigned long (*slot_pfn)(void *ctx, unsigned int file, unsigned long idx);
	/* the PFN a present PTE or PMD leaf maps at @va, ~0ul if none */
	unsigned long (*entry_pfn)(void *ctx, unsigned int mm, unsigned long va);
	bool (*pmd_is_table)(void *ctx, unsigned int mm, unsigned int pmd);
	unsigned int (*order_of)(void *ctx, const void *desc);
};

#define M_SKIP VM_SKIPPED	/* no such handle, or the handle table is full */

void model_init(struct model *m, const struct prog_world *w);
/* Run one op; returns the predicted result.  *made: handle slot filled, or -1. */
long model_op(struct model *m, const struct prog_op *op,
	      const struct m_oracle *o, int *made);
/* Derived counts of folio @id. */
void model_counts(const struct model *m, int id, struct m_counts *c);
/* Every folio's counts in one walk: @c has m->nr_f entries, by folio id. */
void model_counts_all(const struct model *m, struct m_counts *c);
/* The counts model_op computed at its end (m->nr_f entries, by id): what
 * model_counts_all would return until the next op. */
const struct m_counts *model_op_counts(const struct model *m);
/* Lowest free handle slot, -1 if none. */
int model_free_handle(const struct model *m);
/* Window base of file @file in every mm. */
static inline unsigned long model_window(const struct model *m, int file)
{
	return m->anon_pages + (unsigned long)file * m->slots;
}
/* Name of the rule broken on purpose in this build, or NULL. */
const char *model_mutant(void);

#endif /* FT_MODEL_H */
