/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops_text.c - the text-form fuzz target.  It fuzzes the parser:
 * input that does not parse is rejected (return -1: libFuzzer keeps it out
 * of the corpus, AFL++'s driver ignores the value, the standalone driver
 * counts it as malformed).  A program that parses
 * must survive print -> parse and encode -> decode unchanged (else abort),
 * and then runs like fuzz_ops.
 */
#include "fuzz_common.h"

static struct prog parsed, reparsed, decoded;	/* static: no per-input malloc */
static uint8_t bin[FUZZ_ENCODED_MAX];
static FILE *ms;		/* one memory stream, reused */
static char *ms_buf;
static size_t ms_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIFF(...) do { snprintf(buf, len, __VA_ARGS__); return 1; } while (0)

/* First difference between @a and @b, described in @buf; 0 if equal. */
static int prog_diff(const struct prog *a, const struct prog *b, char *buf,
		     size_t len)
{
	const struct prog_world *x = &a->world, *y = &b->world;

	if (x->files != y->files || x->mms != y->mms ||
	    x->pmd_order != y->pmd_order || x->pages != y->pages ||
	    x->file_pmds != y->file_pmds || x->anon_pmds != y->anon_pmds)
		DIFF("world files=%u mms=%u pmd_order=%u pages=%u file_pmds=%u anon_pmds=%u"
		     " != files=%u mms=%u pmd_order=%u pages=%u file_pmds=%u anon_pmds=%u",
		     x->files, x->mms, x->pmd_order, x->pages, x->file_pmds,
		     x->anon_pmds, y->files, y->mms, y->pmd_order, y->pages,
		     y->file_pmds, y->anon_pmds);
	if (a->nops != b->nops)
		DIFF("nops %u != %u", a->nops, b->nops);
	for (unsigned int i = 0; i < a->nops; i++) {
		const struct prog_op *p = &a->ops[i], *q = &b->ops[i];
		const struct prog_op_desc *d = &prog_ops[p->code];

		if (p->code != q->code)
			DIFF("op %u: opcode %u != %u", i, p->code, q->code);
		for (unsigned int k = 0; k < d->nargs; k++)
			if (p->arg[k] != q->arg[k])
				DIFF("op %u (%s): %s=%u != %u", i, d->name,
				     d->arg_names[k], p->arg[k], q->arg[k]);
	}
	return 0;
}

/* Report a broken round trip: the input, and the printed text if any. */
static void __attribute__((noreturn)) fail(const char *what, const char *why,
					   const uint8_t *in, size_t size,
					   int printed)
{
	fprintf(stderr, "fuzz_ops_text: %s: %s\n--- input:\n%.*s\n", what, why,
		(int)size, (const char *)in);
	if (printed)
		fprintf(stderr, "--- printed:\n%.*s\n", (int)ms_len, ms_buf);
	fprintf(stderr, "---\n");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog_text_error err;
	char why[256];
	const char *bad;
	size_t n;

	if (prog_parse_text(&parsed, (const char *)data, size, &err) != 0)
		return -1;
	bad = prog_world_invalid(&parsed.world);
	if (bad)
		fail("parser accepted an invalid world", bad, data, size, 0);
	for (unsigned int i = 0; i < parsed.nops; i++)
		if (parsed.ops[i].code >= OP_NR)
			fail("parser produced a bad opcode", "", data, size, 0);

	if (!ms && !(ms = open_memstream(&ms_buf, &ms_len))) {
		perror("fuzz_ops_text: open_memstream");
		abort();
	}
	rewind(ms);
	prog_print_text(&parsed, ms);
	if (fflush(ms) != 0 || ferror(ms))
		fail("printing to memory failed", strerror(errno), data, size, 0);
	if (prog_parse_text(&reparsed, ms_buf, ms_len, &err) != 0) {
		snprintf(why, sizeof(why), "%u:%u: %s", err.line, err.col, err.msg);
		fail("printed text does not parse", why, data, size, 1);
	}
	if (prog_diff(&parsed, &reparsed, why, sizeof(why)))
		fail("print/parse round trip differs", why, data, size, 1);

	n = prog_encode(&parsed, bin, sizeof(bin));
	prog_decode(&decoded, bin, n);
	if (prog_diff(&parsed, &decoded, why, sizeof(why)))
		fail("encode/decode round trip differs", why, data, size, 1);

	fuzz_run_or_abort("fuzz_ops_text", &parsed);
	return 0;
}
