/* SPDX-License-Identifier: MIT */
/*
 * prog.h - programs of the op VM: what the fuzzers mutate, what the
 * corpora hold, what folio-replay runs.
 *
 * A program is a world (sizes of the model instance) and a list of ops.
 * It has two forms that convert both ways without loss:
 *
 *   binary  [a format prefix, see below] 3 header bytes, then per op one
 *           opcode byte and its argument bytes.  Every byte string
 *           decodes: opcodes fold modulo the op count of the input's
 *           format version, each argument folds into its range for this
 *           world, a short last op is padded with zero bytes, bytes past
 *           PROG_MAX_OPS ops are ignored.  So a mutated input is never
 *           rejected, and prog_decode(prog_encode(p)) == p.
 *   text    one op per line, "name key=value ...", '#' comments, a
 *           "world ..." line first (prog_text.c).
 *
 * Decoding normalises: the arguments kept in struct prog_op are already
 * folded, so the text form shows exactly what runs.
 *
 * Format versions, so that a crash file or a fuzzer-grown input keeps its
 * meaning when an op is added (when OP_NR went from 17 to 22, every old
 * input silently decoded to another program).  A binary input (fuzz_ops
 * and fuzz_sched alike) may start with the prefix
 *
 *   PROG_MAGIC0 PROG_MAGIC1 VERSION
 *
 * and then decodes with that version's tables; the prefix counts only if
 * all three bytes are there.  Without it the input is version 1, forever:
 * the format of every corpus file and crash file written before versions
 * existed.  A VERSION byte naming no released version (0, or past
 * PROG_FORMAT_NR) decodes as version 1 too: a byte keeps its meaning until
 * its version is released (0 never will be).  The encoders always write
 * the prefix of PROG_FORMAT_CURRENT, and so do the libFuzzer targets'
 * mutators (fuzz_common.h), so every input they write names its version.
 * 0xf7 is no byte a UTF-8 text starts with, so a prefixed input is never
 * taken for a text program, and no world header prog_world_encode()
 * writes starts with it (it writes byte 0 below 16).
 *
 * What a version fixes: the world header, the table from its opcode
 * numbers to enum prog_opcode and its op count (the modulus opcodes fold
 * by), each op's argument list, and for fuzz_sched the mode byte, the
 * separators and the schedule (sched_prog.h).  Version 1: the 23 ops
 * OP_ADD..OP_DMA numbered in today's enum order, the header, arguments
 * and fuzz_sched layout documented here and in sched_prog.h.  Version 2:
 * version 1's table with OP_WP_MERGE appended (opcode 23 of 24), the
 * header, the other arguments and the fuzz_sched layout unchanged.  The
 * rules:
 *
 *   - an op's argument list (count, order, kinds) is frozen once
 *     released: changing it means a new op (a new opcode), the old one
 *     kept for the inputs that use it;
 *   - a new op (or any other change to what bytes mean) is a new version:
 *     its table is the previous one with the new ops appended, and
 *     PROG_FORMAT_NR and PROG_FORMAT_CURRENT move to it; released tables
 *     are never edited;
 *   - corpora/compat/<version>/ holds inputs with their expected decoding
 *     (ctest fuzz.compat): add the new version's there (corpora/README.md).
 * prog.c refuses to compile when the current version's table does not
 * name every op of enum prog_opcode, or when version 1's has changed size.
 */
#ifndef FT_PROG_H
#define FT_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROG_MAX_OPS 256
#define PROG_MAX_ARGS 5
#define PROG_HEADER_BYTES 3
#define PROG_MAGIC0 0xf7
#define PROG_MAGIC1 0x56	/* 'V' */
#define PROG_PREFIX_BYTES 3	/* MAGIC0 MAGIC1 VERSION */
#define PROG_FORMAT_NR 2	/* released versions: 1..PROG_FORMAT_NR */
#define PROG_FORMAT_CURRENT 2	/* what the encoders write */
/* prog_encode()'s longest output: the prefix, the header, full-length ops */
#define PROG_ENCODED_MAX (PROG_PREFIX_BYTES + PROG_HEADER_BYTES + \
			  PROG_MAX_OPS * (1 + PROG_MAX_ARGS))
#define PROG_NR_HANDLES 16	/* handle slots h0..h15 */
#define PROG_GUP_MAX 32		/* pages per gup */

struct prog_world {
	unsigned int files;	/* 1..2 files */
	unsigned int mms;	/* 1..2 address spaces */
	unsigned int pmd_order;	/* 2..4 */
	unsigned int pages;	/* 48 + 8 * k, k = 0..26: 48..256 */
	unsigned int file_pmds;	/* 1..4: each file has file_pmds << pmd_order slots */
	unsigned int anon_pmds;	/* 1..4: each mm's anon region */
};

enum prog_opcode {
	OP_ADD,		/* file idx order: allocate a file folio, add to the cache */
	OP_LOOKUP,	/* file idx -> handle: filemap_get_folio */
	OP_GET_PFN,	/* pfn -> handle: folio_try_get_pfn (speculative) */
	OP_PUT,		/* h: drop a handle's reference */
	OP_TRUNCATE,	/* file start nr */
	OP_FAULT,	/* mm va order write: do_anonymous_page */
	OP_MAP,		/* mm file idx nr pmd: filemap_map_pages */
	OP_ZAP,		/* mm va nr: zap_page_range */
	OP_TOUCH,	/* mm va write: a CPU load or store (touch_page_data) */
	OP_GUP,		/* mm va nr flags -> handle: gup_fast[_unbatched] */
	OP_UNPIN,	/* h mode: unpin_user_pages[_unbatched|_dirty_lock] */
	OP_SPLIT,	/* h order: split_folio_to_order under the folio lock */
	OP_SPLIT_PMD,	/* mm va: split_huge_pmd */
	OP_SCAN,	/* n: deferred_split_scan */
	OP_MADV_FREE,	/* mm va nr: madvise_free */
	OP_RECLAIM,	/* h batched: reclaim_lazyfree_folio (consumes h on success) */
	OP_GET_VA,	/* mm va -> handle: the folio mapped at va (a page walk) */
	OP_FORK,	/* src dst: mm_fork (dst's anon region becomes src's child) */
	OP_WP_FAULT,	/* mm va unshare: do_wp_page, a write (or unshare) fault */
	OP_GUP_SLOW,	/* mm va nr flags -> handle: get_user_pages (COW, unshare) */
	OP_MIGRATE,	/* h: migrate_folio under the folio lock (consumes h on success) */
	OP_COLLAPSE,	/* mm va: collapse_huge_page (khugepaged) */
	OP_DMA,		/* h write page: a device reads or writes page (page %
			 * its page count) of GUP handle h (exec_data.h) */
	/* format v2 */
	OP_WP_MERGE,	/* mm_a va_a mm_b va_b: ksm_merge_pages, the page at
			 * (mm_b, va_b) merged into the one at (mm_a, va_a) */
	OP_NR,
};

/* gup flags argument bits */
#define PROG_GUP_PIN 1u
#define PROG_GUP_WRITE 2u
#define PROG_GUP_BATCHED 4u	/* gup only: gup_fast, else gup_fast_unbatched */
#define PROG_GUP_LONGTERM 8u	/* with PIN: FOLL_LONGTERM */

/* How an argument byte folds into its range. */
enum prog_arg_kind {
	ARG_FILE,	/* % files */
	ARG_MM,		/* % mms */
	ARG_IDX,	/* % file slots */
	ARG_NR_FILE,	/* 1 + % file slots */
	ARG_ORDER,	/* % (pmd_order + 1) */
	ARG_BOOL,	/* & 1 */
	ARG_ANON_VA,	/* % anon pages */
	ARG_VA,		/* % (anon pages + files * window pages): anon or a window */
	ARG_NR_VA,	/* 1 + % (2 << pmd_order) */
	ARG_PFN,	/* % pages */
	ARG_HANDLE,	/* % PROG_NR_HANDLES */
	ARG_GUP_NR,	/* 1 + % PROG_GUP_MAX */
	ARG_GUP_FLAGS,	/* & 15 */
	ARG_UNPIN_MODE,	/* % 3: batched, unbatched, dirty */
	ARG_SCAN_NR,	/* 1 + % 8 */
	ARG_GUP_PAGE,	/* % PROG_GUP_MAX: a page of a GUP handle */
};

struct prog_op_desc {
	const char *name;
	unsigned int nargs;
	const char *arg_names[PROG_MAX_ARGS];
	enum prog_arg_kind kinds[PROG_MAX_ARGS];
	int makes_handle;	/* stores its result in the lowest free slot */
};

extern const struct prog_op_desc prog_ops[OP_NR];

struct prog_op {
	uint8_t code;			/* enum prog_opcode */
	unsigned int arg[PROG_MAX_ARGS];	/* folded */
};

struct prog {
	struct prog_world world;
	unsigned int nops;
	struct prog_op ops[PROG_MAX_OPS];
};

/* Derived sizes. */
static inline unsigned int prog_file_slots(const struct prog_world *w)
{
	return w->file_pmds << w->pmd_order;
}

static inline unsigned int prog_anon_pages(const struct prog_world *w)
{
	return w->anon_pmds << w->pmd_order;
}

/* Virtual space the VA arguments range over: anon, then one window per file. */
static inline unsigned int prog_va_space(const struct prog_world *w)
{
	return prog_anon_pages(w) + w->files * prog_file_slots(w);
}

/* Inclusive range [*lo, *hi] of an argument kind in world @w. */
void prog_arg_range(const struct prog_world *w, enum prog_arg_kind k,
		    unsigned int *lo, unsigned int *hi);
/* Fold a raw byte into kind @k's range. */
unsigned int prog_arg_fold(const struct prog_world *w, enum prog_arg_kind k,
			   uint8_t b);
/* The byte that folds to @v (v must be in range). */
uint8_t prog_arg_unfold(const struct prog_world *w, enum prog_arg_kind k,
			unsigned int v);

/* The format of a binary input (see the top of this file). */
struct prog_format {
	unsigned int version;	/* 1..PROG_FORMAT_NR: the tables it decodes by */
	int prefixed;		/* it starts with the prefix */
	uint8_t byte;		/* the prefix's VERSION byte, as written */
};
/* Fill @f; returns the bytes before the world: 0 or PROG_PREFIX_BYTES. */
size_t prog_format_detect(struct prog_format *f, const uint8_t *data,
			  size_t size);
/* The prefix of PROG_FORMAT_CURRENT, PROG_PREFIX_BYTES bytes at @out. */
void prog_format_write(uint8_t *out);
/* "v2", "v1 (no prefix)", "v1 (version byte 0 is none: read as v1)" */
void prog_format_describe(const struct prog_format *f, char *buf, size_t len);

void prog_world_decode(struct prog_world *w, const uint8_t *hdr);
void prog_world_encode(const struct prog_world *w, uint8_t *hdr);
/* 0 if @w is a world the binary header can express, else a message. */
const char *prog_world_invalid(const struct prog_world *w);

/* Never fails. */
void prog_decode(struct prog *p, const uint8_t *data, size_t size);
/* One op from data[pos...] (zeros past @size) in format @version (1..
 * PROG_FORMAT_NR); returns the next position. */
size_t prog_op_decode(unsigned int version, const struct prog_world *w,
		      struct prog_op *op, const uint8_t *data, size_t size,
		      size_t pos);
/* One op's bytes in PROG_FORMAT_CURRENT; 0 if @cap is too small. */
size_t prog_op_encode(const struct prog_world *w, const struct prog_op *op,
		      uint8_t *out, size_t cap);
/* The prefix of PROG_FORMAT_CURRENT, then the program; returns the bytes
 * written (at most prog_encoded_max()), 0 if @cap cannot hold the prefix
 * and the header. */
size_t prog_encode(const struct prog *p, uint8_t *out, size_t cap);
size_t prog_encoded_max(void);

/* Text form (prog_text.c). */
struct prog_text_error {
	unsigned int line, col;
	char msg[160];
};
/* 0 on success; -1 with @err filled. */
int prog_parse_text(struct prog *p, const char *text, size_t len,
		    struct prog_text_error *err);
void prog_print_text(const struct prog *p, FILE *out);

/* The pieces, for other text forms built on this one (sched_text.c). */
struct prog_text_tok {
	const char *s;
	size_t n;
	unsigned int col;	/* 1-based column of s[0] */
};
/* One line's content: comment and line terminator already cut off. */
struct prog_text_line {
	const char *s;
	size_t n;
	size_t pos;		/* scan position for prog_text_next_tok() */
	unsigned int nr;	/* 1-based line number */
	unsigned int end_col;	/* column just past the last token seen */
};
/* The next line of text[*pos...]: 1, 0 at the end, -1 (a bad byte). */
int prog_text_next_line(const char *text, size_t len, size_t *pos,
			unsigned int *nr, struct prog_text_line *l,
			struct prog_text_error *err);
/* The next blank-separated token of @l: 1, or 0 at its end. */
int prog_text_next_tok(struct prog_text_line *l, struct prog_text_tok *t);
/* The rest of a "world" line / of an op line named @name: 0 or -1. */
int prog_text_parse_world(struct prog_world *w, struct prog_text_line *l,
			  const struct prog_text_tok *name,
			  struct prog_text_error *err);
int prog_text_parse_op(const struct prog_world *w, struct prog_text_line *l,
		       const struct prog_text_tok *name, struct prog_op *op,
		       struct prog_text_error *err);
int prog_text_fail(struct prog_text_error *err, unsigned int line,
		   unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void prog_print_world(const struct prog_world *w, FILE *out);
void prog_print_op(const struct prog *p, const struct prog_op *op, FILE *out);

/*
 * folio-replay's format guess, by content: text if the input is non-empty,
 * valid UTF-8 (a comment may hold an em dash) and has no control byte but
 * tab, CR and LF; binary otherwise (an empty input is fuzz_ops's empty
 * program).  --text / --binary override it.
 */
int prog_looks_like_text(const uint8_t *data, size_t size);

#endif /* FT_PROG_H */
