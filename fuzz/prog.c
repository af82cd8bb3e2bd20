/* SPDX-License-Identifier: MIT */
/*
 * prog.c - the op table and the binary form of programs (see prog.h).
 */
#include <string.h>

#include "prog.h"

#define A(...) { __VA_ARGS__ }

const struct prog_op_desc prog_ops[OP_NR] = {
	[OP_ADD] = { "add", 3, A("file", "idx", "order"),
		     A(ARG_FILE, ARG_IDX, ARG_ORDER), 0 },
	[OP_LOOKUP] = { "lookup", 2, A("file", "idx"), A(ARG_FILE, ARG_IDX), 1 },
	[OP_GET_PFN] = { "get_pfn", 1, A("pfn"), A(ARG_PFN), 1 },
	[OP_PUT] = { "put", 1, A("h"), A(ARG_HANDLE), 0 },
	[OP_TRUNCATE] = { "truncate", 3, A("file", "start", "nr"),
			  A(ARG_FILE, ARG_IDX, ARG_NR_FILE), 0 },
	[OP_FAULT] = { "fault", 4, A("mm", "va", "order", "write"),
		       A(ARG_MM, ARG_ANON_VA, ARG_ORDER, ARG_BOOL), 0 },
	[OP_MAP] = { "map", 5, A("mm", "file", "idx", "nr", "pmd"),
		     A(ARG_MM, ARG_FILE, ARG_IDX, ARG_NR_FILE, ARG_BOOL), 0 },
	[OP_ZAP] = { "zap", 3, A("mm", "va", "nr"), A(ARG_MM, ARG_VA, ARG_NR_VA), 0 },
	[OP_TOUCH] = { "touch", 3, A("mm", "va", "write"),
		       A(ARG_MM, ARG_VA, ARG_BOOL), 0 },
	[OP_GUP] = { "gup", 4, A("mm", "va", "nr", "flags"),
		     A(ARG_MM, ARG_VA, ARG_GUP_NR, ARG_GUP_FLAGS), 1 },
	[OP_UNPIN] = { "unpin", 2, A("h", "mode"), A(ARG_HANDLE, ARG_UNPIN_MODE), 0 },
	[OP_SPLIT] = { "split", 2, A("h", "order"), A(ARG_HANDLE, ARG_ORDER), 0 },
	[OP_SPLIT_PMD] = { "split_pmd", 2, A("mm", "va"), A(ARG_MM, ARG_VA), 0 },
	[OP_SCAN] = { "scan", 1, A("n"), A(ARG_SCAN_NR), 0 },
	[OP_MADV_FREE] = { "madv_free", 3, A("mm", "va", "nr"),
			   A(ARG_MM, ARG_ANON_VA, ARG_NR_VA), 0 },
	[OP_RECLAIM] = { "reclaim", 2, A("h", "batched"), A(ARG_HANDLE, ARG_BOOL), 0 },
	[OP_GET_VA] = { "get_va", 2, A("mm", "va"), A(ARG_MM, ARG_VA), 1 },
	[OP_FORK] = { "fork", 2, A("src", "dst"), A(ARG_MM, ARG_MM), 0 },
	[OP_WP_FAULT] = { "wp_fault", 3, A("mm", "va", "unshare"),
			  A(ARG_MM, ARG_VA, ARG_BOOL), 0 },
	[OP_GUP_SLOW] = { "gup_slow", 4, A("mm", "va", "nr", "flags"),
			  A(ARG_MM, ARG_VA, ARG_GUP_NR, ARG_GUP_FLAGS), 1 },
	[OP_MIGRATE] = { "migrate", 1, A("h"), A(ARG_HANDLE), 0 },
	[OP_COLLAPSE] = { "collapse", 2, A("mm", "va"), A(ARG_MM, ARG_ANON_VA), 0 },
	[OP_DMA] = { "dma", 3, A("h", "write", "page"),
		     A(ARG_HANDLE, ARG_BOOL, ARG_GUP_PAGE), 0 },
	/* any address: a file page (not mergeable yet) refuses, -EINVAL */
	[OP_WP_MERGE] = { "wp_merge", 4, A("mm_a", "va_a", "mm_b", "va_b"),
			  A(ARG_MM, ARG_VA, ARG_MM, ARG_VA), 0 },
};

/*
 * Each released format version's opcode numbers, as enum prog_opcode
 * values (prog.h: frozen once released; a new version appends).  The
 * enum's order is free to change: these tables, not it, fix the bytes.
 */
static const uint8_t format_v1_ops[] = {
	OP_ADD, OP_LOOKUP, OP_GET_PFN, OP_PUT, OP_TRUNCATE, OP_FAULT, OP_MAP,
	OP_ZAP, OP_TOUCH, OP_GUP, OP_UNPIN, OP_SPLIT, OP_SPLIT_PMD, OP_SCAN,
	OP_MADV_FREE, OP_RECLAIM, OP_GET_VA, OP_FORK, OP_WP_FAULT, OP_GUP_SLOW,
	OP_MIGRATE, OP_COLLAPSE, OP_DMA,
};

/* v2: v1's, then the write-protect merge (issue 25) */
static const uint8_t format_v2_ops[] = {
	OP_ADD, OP_LOOKUP, OP_GET_PFN, OP_PUT, OP_TRUNCATE, OP_FAULT, OP_MAP,
	OP_ZAP, OP_TOUCH, OP_GUP, OP_UNPIN, OP_SPLIT, OP_SPLIT_PMD, OP_SCAN,
	OP_MADV_FREE, OP_RECLAIM, OP_GET_VA, OP_FORK, OP_WP_FAULT, OP_GUP_SLOW,
	OP_MIGRATE, OP_COLLAPSE, OP_DMA,
	OP_WP_MERGE,
};

static const struct {
	const uint8_t *ops;
	unsigned int nops;
} formats[PROG_FORMAT_NR] = {
	{ format_v1_ops, sizeof(format_v1_ops) },
	{ format_v2_ops, sizeof(format_v2_ops) },
};

#define FORMAT_CURRENT_OPS format_v2_ops
_Static_assert(sizeof(format_v1_ops) == 23,
	       "format v1 is released: its table never changes (prog.h)");
_Static_assert(sizeof(format_v2_ops) == 24,
	       "format v2 is released: its table never changes (prog.h)");
_Static_assert(PROG_FORMAT_CURRENT == 2, "FORMAT_CURRENT_OPS names v2's table");
_Static_assert(sizeof(FORMAT_CURRENT_OPS) == OP_NR,
	       "an op outside the current format: a new op needs a new "
	       "version (prog.h)");
_Static_assert(PROG_FORMAT_CURRENT >= 1 && PROG_FORMAT_CURRENT <= PROG_FORMAT_NR &&
	       PROG_FORMAT_NR < 256, "format versions are bytes 1..255");

size_t prog_format_detect(struct prog_format *f, const uint8_t *data,
			  size_t size)
{
	f->prefixed = size >= PROG_PREFIX_BYTES && data[0] == PROG_MAGIC0 &&
		      data[1] == PROG_MAGIC1;
	f->byte = f->prefixed ? data[2] : 0;
	/* an unreleased version reads as v1: not modulo the count, so that
	 * its meaning changes only when its own version is released */
	f->version = f->prefixed && f->byte >= 1 && f->byte <= PROG_FORMAT_NR ?
		     f->byte : 1;
	return f->prefixed ? PROG_PREFIX_BYTES : 0;
}

void prog_format_write(uint8_t *out)
{
	out[0] = PROG_MAGIC0;
	out[1] = PROG_MAGIC1;
	out[2] = PROG_FORMAT_CURRENT;
}

void prog_format_describe(const struct prog_format *f, char *buf, size_t len)
{
	if (!f->prefixed)
		snprintf(buf, len, "v%u (no prefix)", f->version);
	else if (f->byte != f->version)
		snprintf(buf, len, "v%u (version byte %u is none: read as v%u)",
			 f->version, f->byte, f->version);
	else
		snprintf(buf, len, "v%u", f->version);
}

void prog_arg_range(const struct prog_world *w, enum prog_arg_kind k,
		    unsigned int *lo, unsigned int *hi)
{
	*lo = 0;
	switch (k) {
	case ARG_FILE: *hi = w->files - 1; break;
	case ARG_MM: *hi = w->mms - 1; break;
	case ARG_IDX: *hi = prog_file_slots(w) - 1; break;
	case ARG_NR_FILE: *lo = 1; *hi = prog_file_slots(w); break;
	case ARG_ORDER: *hi = w->pmd_order; break;
	case ARG_BOOL: *hi = 1; break;
	case ARG_ANON_VA: *hi = prog_anon_pages(w) - 1; break;
	case ARG_VA: *hi = prog_va_space(w) - 1; break;
	case ARG_NR_VA: *lo = 1; *hi = 2u << w->pmd_order; break;
	case ARG_PFN: *hi = w->pages - 1; break;
	case ARG_HANDLE: *hi = PROG_NR_HANDLES - 1; break;
	case ARG_GUP_NR: *lo = 1; *hi = PROG_GUP_MAX; break;
	case ARG_GUP_FLAGS: *hi = 15; break;
	case ARG_UNPIN_MODE: *hi = 2; break;
	case ARG_SCAN_NR: *lo = 1; *hi = 8; break;
	case ARG_GUP_PAGE: *hi = PROG_GUP_MAX - 1; break;
	default: *hi = 0; break;
	}
}

/* Every range has at most 256 values, so "lo + b % n" reaches all of them. */
unsigned int prog_arg_fold(const struct prog_world *w, enum prog_arg_kind k,
			   uint8_t b)
{
	unsigned int lo, hi;

	prog_arg_range(w, k, &lo, &hi);
	return lo + b % (hi - lo + 1);
}

uint8_t prog_arg_unfold(const struct prog_world *w, enum prog_arg_kind k,
			unsigned int v)
{
	unsigned int lo, hi;

	prog_arg_range(w, k, &lo, &hi);
	return (uint8_t)(v - lo);
}

/*
 * Header: byte 0 = files-1 (bit 0), mms-1 (bit 1), pmd_order-2 (bits 2-3,
 * mod 3); byte 1 = k for pages = 48 + 8k (mod 27); byte 2 = file_pmds-1
 * (bits 0-1), anon_pmds-1 (bits 2-3).  Missing bytes read as 0.
 */
void prog_world_decode(struct prog_world *w, const uint8_t *h)
{
	w->files = 1 + (h[0] & 1);
	w->mms = 1 + ((h[0] >> 1) & 1);
	w->pmd_order = 2 + ((h[0] >> 2) & 3) % 3;
	w->pages = 48 + 8 * (h[1] % 27);
	w->file_pmds = 1 + (h[2] & 3);
	w->anon_pmds = 1 + ((h[2] >> 2) & 3);
}

void prog_world_encode(const struct prog_world *w, uint8_t *h)
{
	h[0] = (uint8_t)((w->files - 1) | (w->mms - 1) << 1 |
			 (w->pmd_order - 2) << 2);
	h[1] = (uint8_t)((w->pages - 48) / 8);
	h[2] = (uint8_t)((w->file_pmds - 1) | (w->anon_pmds - 1) << 2);
}

const char *prog_world_invalid(const struct prog_world *w)
{
	if (w->files < 1 || w->files > 2)
		return "files must be 1 or 2";
	if (w->mms < 1 || w->mms > 2)
		return "mms must be 1 or 2";
	if (w->pmd_order < 2 || w->pmd_order > 4)
		return "pmd_order must be 2, 3 or 4";
	if (w->pages < 48 || w->pages > 256 || w->pages % 8)
		return "pages must be a multiple of 8 in 48..256";
	if (w->file_pmds < 1 || w->file_pmds > 4)
		return "file_pmds must be 1..4";
	if (w->anon_pmds < 1 || w->anon_pmds > 4)
		return "anon_pmds must be 1..4";
	return NULL;
}

size_t prog_op_decode(unsigned int version, const struct prog_world *w,
		      struct prog_op *op, const uint8_t *data, size_t size,
		      size_t pos)
{
	const struct prog_op_desc *d;
	uint8_t code = pos < size ? data[pos] : 0;

	if (version < 1 || version > PROG_FORMAT_NR)
		version = 1;
	op->code = formats[version - 1].ops[code % formats[version - 1].nops];
	pos++;
	d = &prog_ops[op->code];
	memset(op->arg, 0, sizeof(op->arg));
	for (unsigned int i = 0; i < d->nargs; i++) {
		uint8_t b = pos < size ? data[pos] : 0;

		pos++;
		op->arg[i] = prog_arg_fold(w, d->kinds[i], b);
	}
	return pos;
}

void prog_decode(struct prog *p, const uint8_t *data, size_t size)
{
	uint8_t hdr[PROG_HEADER_BYTES] = { 0 };
	struct prog_format f;
	size_t pos = prog_format_detect(&f, data, size);

	if (size > pos)		/* (data may be NULL when size is 0) */
		memcpy(hdr, data + pos, size - pos < sizeof(hdr) ? size - pos :
		       sizeof(hdr));
	prog_world_decode(&p->world, hdr);
	p->nops = 0;
	pos += PROG_HEADER_BYTES;
	while (pos < size && p->nops < PROG_MAX_OPS)
		pos = prog_op_decode(f.version, &p->world, &p->ops[p->nops++],
				     data, size, pos);
}

size_t prog_encoded_max(void)
{
	return PROG_ENCODED_MAX;
}

size_t prog_encode(const struct prog *p, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (cap < PROG_PREFIX_BYTES + PROG_HEADER_BYTES)
		return 0;
	prog_format_write(out);
	prog_world_encode(&p->world, out + PROG_PREFIX_BYTES);
	n = PROG_PREFIX_BYTES + PROG_HEADER_BYTES;
	for (unsigned int i = 0; i < p->nops; i++) {
		size_t m = prog_op_encode(&p->world, &p->ops[i], out + n, cap - n);

		if (!m)
			break;
		n += m;
	}
	return n;
}

size_t prog_op_encode(const struct prog_world *w, const struct prog_op *op,
		      uint8_t *out, size_t cap)
{
	const struct prog_op_desc *d = &prog_ops[op->code];
	size_t n = 0;
	uint8_t b = 0;

	if (1 + d->nargs > cap)
		return 0;
	/* the current version's number of the op (its table names them all) */
	while (b < sizeof(FORMAT_CURRENT_OPS) - 1 && FORMAT_CURRENT_OPS[b] != op->code)
		b++;
	out[n++] = b;
	for (unsigned int a = 0; a < d->nargs; a++)
		out[n++] = prog_arg_unfold(w, d->kinds[a], op->arg[a]);
	return n;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;	/* a continuation byte, 0xc0/0xc1, >= 0xf5 */
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogate, beyond Unicode */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int prog_looks_like_text(const uint8_t *data, size_t size)
{
	if (!size)	/* what fuzz_ops runs for an empty input */
		return 0;
	for (size_t i = 0; i < size;) {
		uint8_t c = data[i];
		size_t n;

		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
			return 0;
		n = utf8_seq(data + i, size - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}
