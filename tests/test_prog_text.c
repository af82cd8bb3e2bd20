/* SPDX-License-Identifier: MIT */
/*
 * test_prog_text.c - the text form of op-VM programs: text and binary
 * round trips, every parse error with its line:col, prefixes and garbage.
 * Needs no folio world.  Run: build/<preset>/tests/test_prog_text
 */
#define _GNU_SOURCE	/* open_memstream */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_test.h"
#include "prog.h"

#define FUZZ_TEST_BIN 64

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* prog_print_text into a malloc'd buffer (no NUL counted in *len). */
static char *print_prog(const struct prog *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	prog_print_text(p, f);
	fclose(f);
	return buf;
}

/*
 * Parse exactly @len bytes from a heap copy with no terminator, so ASan
 * catches any read past the end.
 */
static int parse(struct prog *p, const char *text, size_t len,
		 struct prog_text_error *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, text, len);
	memset(p, 0, sizeof(*p));
	rc = prog_parse_text(p, copy, len, err);
	free(copy);
	return rc;
}

static int parse_str(struct prog *p, const char *text,
		     struct prog_text_error *err)
{
	return parse(p, text, strlen(text), err);
}

static void random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng();
}

static void test_round_trip(void)
{
	static struct prog p1, p2, p3;
	static uint8_t in[200], out[PROG_PREFIX_BYTES + PROG_HEADER_BYTES +
				      PROG_MAX_OPS * (1 + PROG_MAX_ARGS)];
	static uint8_t out2[sizeof(out)];
	int bad = 0;

	CHECK_EQ(prog_encoded_max(), sizeof(out));
	for (int iter = 0; iter < 20000 && bad < 5; iter++) {
		size_t n = (size_t)(rng() % 201), len, len2, m, m2;
		struct prog_text_error err;
		char *text, *text2;

		random_bytes(in, n);
		/* half of them in the current format (wp_merge among the ops) */
		if (iter & 1 && n >= PROG_PREFIX_BYTES) {
			in[0] = PROG_MAGIC0;
			in[1] = PROG_MAGIC1;
			in[2] = PROG_FORMAT_CURRENT;
		}
		memset(&p1, 0, sizeof(p1));
		prog_decode(&p1, in, n);

		/* binary -> prog -> binary -> prog */
		m = prog_encode(&p1, out, sizeof(out));
		memset(&p2, 0, sizeof(p2));
		prog_decode(&p2, out, m);
		m2 = prog_encode(&p2, out2, sizeof(out2));
		CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0);
		CHECK(m == m2 && memcmp(out, out2, m) == 0);

		/* prog -> text -> prog -> text */
		text = print_prog(&p1, &len);
		CHECK_EQ(parse(&p3, text, len, &err), 0);
		if (memcmp(&p1, &p3, sizeof(p1)) != 0) {
			fprintf(stderr, "text round trip differs "
				"(%u:%u %s):\n%s", err.line, err.col, err.msg,
				text);
			CHECK(0);
			bad++;
		}
		text2 = print_prog(&p3, &len2);
		CHECK(len == len2 && memcmp(text, text2, len) == 0);
		free(text);
		free(text2);
	}
}

/*
 * Format versions (prog.h): no prefix is v1, a prefix naming v1 or no
 * released version reads the same program, the encoder writes the current
 * version's prefix, v1's opcodes fold modulo its 23 ops whatever OP_NR
 * becomes, v2's modulo its 24 (v1's table, then wp_merge).
 */
static void test_format_versions(void)
{
	static const uint8_t vbytes[] = { 1, 0, PROG_FORMAT_NR + 1, 0xee, 0xff };
	static uint8_t in[200], pin[sizeof(in) + PROG_PREFIX_BYTES];
	static uint8_t out[PROG_ENCODED_MAX];
	static struct prog p1, p2, p3;
	struct prog_format f;
	char d[64];
	size_t m;

	CHECK_EQ(prog_encoded_max(), sizeof(out));
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = (size_t)(rng() % 201);

		random_bytes(in, n);
		memset(&p1, 0, sizeof(p1));
		prog_decode(&p1, in, n);
		for (size_t v = 0; v < sizeof(vbytes); v++) {
			pin[0] = PROG_MAGIC0;
			pin[1] = PROG_MAGIC1;
			pin[2] = vbytes[v];
			memcpy(pin + PROG_PREFIX_BYTES, in, n);
			CHECK_EQ(prog_format_detect(&f, pin, n + PROG_PREFIX_BYTES),
				 PROG_PREFIX_BYTES);
			CHECK(f.prefixed && f.version == 1 && f.byte == vbytes[v]);
			CHECK(!prog_looks_like_text(pin, n + PROG_PREFIX_BYTES));
			memset(&p2, 0, sizeof(p2));
			prog_decode(&p2, pin, n + PROG_PREFIX_BYTES);
			CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0);
		}
		/* the encoder: the current prefix, then v1's bytes (a v1
		 * program's opcodes mean the same in v2: its table appends) */
		m = prog_encode(&p1, out, sizeof(out));
		CHECK(m >= PROG_PREFIX_BYTES + PROG_HEADER_BYTES);
		CHECK(out[0] == PROG_MAGIC0 && out[1] == PROG_MAGIC1 &&
		      out[2] == PROG_FORMAT_CURRENT);
		memset(&p2, 0, sizeof(p2));
		prog_decode(&p2, out + PROG_PREFIX_BYTES, m - PROG_PREFIX_BYTES);
		CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0);
		memset(&p2, 0, sizeof(p2));
		prog_decode(&p2, out, m);
		CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0);
		/* v2: every opcode byte b is v2's op b % 24, whose first 23
		 * are v1's in order */
		pin[0] = PROG_MAGIC0;
		pin[1] = PROG_MAGIC1;
		pin[2] = 2;
		memcpy(pin + PROG_PREFIX_BYTES, in, n);
		CHECK_EQ(prog_format_detect(&f, pin, n + PROG_PREFIX_BYTES),
			 PROG_PREFIX_BYTES);
		CHECK(f.prefixed && f.version == 2);
		prog_decode(&p3, pin, n + PROG_PREFIX_BYTES);
		for (size_t pos = PROG_PREFIX_BYTES + PROG_HEADER_BYTES, i = 0;
		     i < p3.nops; i++) {
			uint8_t b = pin[pos] % 24;

			CHECK_EQ(p3.ops[i].code, b == 23 ? OP_WP_MERGE : b);
			pos += 1 + prog_ops[p3.ops[i].code].nargs;
		}
	}
	/* an encoded world never starts like the prefix */
	CHECK_EQ(prog_encode(&p1, out, PROG_PREFIX_BYTES + PROG_HEADER_BYTES - 1), 0);
	for (unsigned int b = 0; b < 256; b++) {
		uint8_t h[PROG_HEADER_BYTES] = { (uint8_t)b, 0, 0 };

		prog_world_decode(&p1.world, h);
		prog_world_encode(&p1.world, h);
		CHECK(h[0] != PROG_MAGIC0);
	}
	/* the prefix counts only whole: two magic bytes are a world */
	in[0] = PROG_MAGIC0;
	in[1] = PROG_MAGIC1;
	CHECK_EQ(prog_format_detect(&f, in, 2), 0);
	CHECK(!f.prefixed && f.version == 1);
	prog_decode(&p1, in, 2);
	CHECK(p1.nops == 0 && p1.world.files == 2 && p1.world.mms == 2 &&
	      p1.world.pmd_order == 3 && p1.world.pages == 48 + 8 * (0x56 % 27));
	in[2] = 1;
	prog_decode(&p1, in, 3);
	CHECK(p1.nops == 0 && p1.world.files == 1 && p1.world.pages == 48);
	CHECK_EQ(prog_format_detect(&f, NULL, 0), 0);
	/* v1 folds opcodes modulo its 23: 23 is add, 45 dma, 246 get_va */
	{
		static const uint8_t b[] = { PROG_MAGIC0, PROG_MAGIC1, 1, 0, 0, 0,
					     23, 0, 0, 0, 45, 0, 0, 0, 246, 0, 0 };

		prog_decode(&p1, b, sizeof(b));
		CHECK_EQ(p1.nops, 3);
		CHECK(p1.ops[0].code == OP_ADD && p1.ops[1].code == OP_DMA &&
		      p1.ops[2].code == OP_GET_VA);
		prog_decode(&p2, b + PROG_PREFIX_BYTES, sizeof(b) - PROG_PREFIX_BYTES);
		CHECK(memcmp(&p1, &p2, sizeof(p1)) == 0);
	}
	/* v2 folds modulo its 24: 23 and 47 are wp_merge (4 arguments), 24
	 * add, 46 dma; without the prefix (v1) 23 is add (3 arguments), so
	 * the next opcode is the 2 that was wp_merge's va_b: get_pfn */
	{
		static const uint8_t b[] = { PROG_MAGIC0, PROG_MAGIC1, 2, 0, 0, 0,
					     23, 0, 1, 0, 2, 47, 0, 0, 0, 3,
					     24, 0, 0, 0, 46, 0, 0, 0 };

		prog_decode(&p1, b, sizeof(b));
		CHECK_EQ(p1.nops, 4);
		CHECK(p1.ops[0].code == OP_WP_MERGE && p1.ops[1].code == OP_WP_MERGE &&
		      p1.ops[2].code == OP_ADD && p1.ops[3].code == OP_DMA);
		CHECK(p1.ops[0].arg[1] == 1 && p1.ops[0].arg[3] == 2 &&
		      p1.ops[1].arg[3] == 3);
		prog_decode(&p2, b + PROG_PREFIX_BYTES, sizeof(b) - PROG_PREFIX_BYTES);
		CHECK(p2.ops[0].code == OP_ADD && p2.ops[1].code == OP_GET_PFN);
		/* the encoder names wp_merge 23 */
		m = prog_encode(&p1, out, sizeof(out));
		CHECK(m == sizeof(b) && out[2] == 2 && out[6] == 23 &&
		      out[11] == 23);
	}
	prog_format_detect(&f, in, 2);
	prog_format_describe(&f, d, sizeof(d));
	CHECK(strcmp(d, "v1 (no prefix)") == 0);
	in[2] = 1;
	prog_format_detect(&f, in, 3);
	prog_format_describe(&f, d, sizeof(d));
	CHECK(strcmp(d, "v1") == 0);
	in[2] = 0;
	prog_format_detect(&f, in, 3);
	prog_format_describe(&f, d, sizeof(d));
	CHECK(strcmp(d, "v1 (version byte 0 is none: read as v1)") == 0);
	in[2] = 2;
	prog_format_detect(&f, in, 3);
	prog_format_describe(&f, d, sizeof(d));
	CHECK(strcmp(d, "v2") == 0);
	in[2] = 3;
	prog_format_detect(&f, in, 3);
	prog_format_describe(&f, d, sizeof(d));
	CHECK(strcmp(d, "v1 (version byte 3 is none: read as v1)") == 0);
}

struct err_case {
	const char *text;
	unsigned int line, col;
	const char *msg;
};

#define W "world files=1 mms=2 pmd_order=3 pages=128 file_pmds=2 anon_pmds=2\n"

static const struct err_case err_cases[] = {
	{ W "add file=0 idx=8 order=3\nfrobnicate x=1\n", 3, 1,
	  "unknown operation 'frobnicate'" },
	{ W "fault mm=0 va=0 order=2\n", 2, 24,
	  "missing argument 'write' for 'fault'" },
	{ W "fault mm=0 order=2 write=1   # va?\n", 2, 27,
	  "missing argument 'va' for 'fault'" },
	{ W "put\n", 2, 4, "missing argument 'h' for 'put'" },
	{ W "put h=1 foo=2\n", 2, 9, "unknown argument 'foo' for 'put'" },
	{ W "fault mm=0 va=0 va=1 order=0 write=0\n", 2, 17,
	  "duplicate argument 'va'" },
	{ W "put h=12x\n", 2, 5, "'12x' is not a number" },
	{ W "put h=-1\n", 2, 5, "'-1' is not a number" },
	{ W "put h=h\n", 2, 5, "'h' is not a number" },
	{ W "scan n=h3\n", 2, 6, "'h3' is not a number" },
	{ W "put abc\n", 2, 5, "expected key=value, got 'abc'" },
	{ W "put =3\n", 2, 5, "expected key=value, got '=3'" },
	{ W "put h=\n", 2, 5, "missing value for 'h'" },
	{ "# c\n\nput h=0\n", 3, 1, "no 'world' line before the first op" },
	{ "", 1, 1, "empty program: no 'world' line" },
	{ "# only a comment\n\n", 3, 1, "empty program: no 'world' line" },
	{ "  # no newline", 1, 15, "empty program: no 'world' line" },
	{ W "\n" W, 3, 1, "a second 'world' line" },
	{ W "fault mm=0 va=300 order=0 write=0\n", 2, 12,
	  "va=300 is out of range 0..15 for this world" },
	{ W "zap mm=0 va=0 nr=0\n", 2, 15,
	  "nr=0 is out of range 1..16 for this world" },
	{ W "fault mm=0 va=99999999999999999999999 order=0 write=0\n", 2, 12,
	  "va=99999999999999999999999 is out of range 0..15 for this world" },
	{ W "fault mm=0 va=4294967296 order=0 write=0\n", 2, 12,
	  "va=4294967296 is out of range 0..15 for this world" },
	{ W "add file=1 idx=0 order=0\n", 2, 5,
	  "file=1 is out of range 0..0 for this world" },
	{ W "put h=h16\n", 2, 5, "h=16 is out of range 0..15 for this world" },
	{ "world files=1 mms=2 pmd_order=3 pages=128 file_pmds=2\n", 1, 54,
	  "missing argument 'anon_pmds' for 'world'" },
	{ "world files=3 mms=2 pmd_order=3 pages=128 file_pmds=2 anon_pmds=2\n",
	  1, 7, "files must be 1 or 2" },
	{ "world mms=2 pmd_order=3 pages=127 file_pmds=2 anon_pmds=2 files=1\n",
	  1, 25, "pages must be a multiple of 8 in 48..256" },
	{ "world files=99999999999999999999 mms=2 pmd_order=3 pages=128 "
	  "file_pmds=2 anon_pmds=2\n", 1, 7, "files must be 1 or 2" },
	{ "world files=1 files=1\n", 1, 15, "duplicate argument 'files'" },
	{ "world files=1 bogus=1\n", 1, 15,
	  "unknown argument 'bogus' for 'world'" },
	{ "world\tfiles=1 mms=x\n", 1, 15, "'x' is not a number" },
	{ W "put h=1\x7f\n", 2, 8, "invalid character 0x7f" },
	{ W "put h=1 \xc3\xa9\n", 2, 9, "invalid character 0xc3" },
	{ W "put h=1\rput h=2\n", 2, 8, "invalid character 0x0d" },
	{ W "put h=1 # \x01\n", 2, 11, "invalid character 0x01" },
	{ W "put h=1 put=1\n", 2, 9, "unknown argument 'put' for 'put'" },
	{ W "PUT h=1\n", 2, 1, "unknown operation 'PUT'" },
	{ W "frobnicatefrobnicatefrobnicatefrobnicatefrobnicate\n", 2, 1,
	  "unknown operation 'frobnicatefrobnicatefrobnicatefrobnicate...'" },
};

static void check_err(const char *text, size_t len, unsigned int line,
		      unsigned int col, const char *msg)
{
	struct prog_text_error err;
	struct prog p;

	CHECK_EQ(parse(&p, text, len, &err), -1);
	CHECK_EQ(err.line, line);
	CHECK_EQ(err.col, col);
	CHECK(strcmp(err.msg, msg) == 0);
	if (err.line != line || err.col != col || strcmp(err.msg, msg))
		fprintf(stderr, "  got %u:%u: %s\n  want %u:%u: %s\n",
			err.line, err.col, err.msg, line, col, msg);
}

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];

		check_err(c->text, strlen(c->text), c->line, c->col, c->msg);
	}
}

/* NUL inside the buffer is a character like any other, and invalid. */
static void test_nul_byte(void)
{
	static const char text[] = W "put h=1\0 put h=2\n";

	check_err(text, sizeof(text) - 1, 2, 8, "invalid character 0x00");
	/* Nothing past len is read: a buffer cut before the NUL parses. */
	{
		struct prog p;

		CHECK_EQ(parse(&p, text, strlen(text), NULL), 0);
		CHECK_EQ(p.nops, 1);
	}
}

static void test_more_than_max_ops(void)
{
	size_t cap = sizeof(W) + (PROG_MAX_OPS + 1) * 16, len;
	char *text = malloc(cap);
	struct prog p;

	if (!text)
		abort();
	len = (size_t)snprintf(text, cap, "%s", W);
	for (int i = 0; i < PROG_MAX_OPS; i++)
		len += (size_t)snprintf(text + len, cap - len, "scan n=%d\n",
					1 + i % 8);
	CHECK_EQ(parse(&p, text, len, NULL), 0);
	CHECK_EQ(p.nops, PROG_MAX_OPS);
	len += (size_t)snprintf(text + len, cap - len, "  put h=0\n");
	check_err(text, len, PROG_MAX_OPS + 2, 3, "more than 256 ops");
	free(text);
}

/* Free spacing: tabs, CRLF, any key order, comments, h-prefixed handles. */
static void test_accepts(void)
{
	static const char text[] =
		"  # header comment\r\n"
		"\tworld anon_pmds=2 file_pmds=2 pages=128 pmd_order=3 "
		"mms=2 files=1#c\r\n"
		"\r\n"
		"add order=3 idx=8 file=0\n"
		"lookup\tfile=0   idx=9 # why\n"
		"fault mm=0 va=0 order=2 write=1\r\n"
		"put h=h0\n"
		"unpin mode=2 h=007";
	struct prog_text_error err;
	struct prog p;

	CHECK_EQ(parse_str(&p, text, &err), 0);
	CHECK_EQ(p.world.files, 1);
	CHECK_EQ(p.world.mms, 2);
	CHECK_EQ(p.world.pmd_order, 3);
	CHECK_EQ(p.world.pages, 128);
	CHECK_EQ(p.world.file_pmds, 2);
	CHECK_EQ(p.world.anon_pmds, 2);
	CHECK_EQ(p.nops, 5);
	CHECK_EQ(p.ops[0].code, OP_ADD);
	CHECK_EQ(p.ops[0].arg[0], 0);
	CHECK_EQ(p.ops[0].arg[1], 8);
	CHECK_EQ(p.ops[0].arg[2], 3);
	CHECK_EQ(p.ops[1].code, OP_LOOKUP);
	CHECK_EQ(p.ops[1].arg[1], 9);
	CHECK_EQ(p.ops[2].code, OP_FAULT);
	CHECK_EQ(p.ops[2].arg[3], 1);
	CHECK_EQ(p.ops[3].code, OP_PUT);
	CHECK_EQ(p.ops[3].arg[0], 0);
	CHECK_EQ(p.ops[4].code, OP_UNPIN);
	CHECK_EQ(p.ops[4].arg[0], 7);
	CHECK_EQ(p.ops[4].arg[1], 2);
	/* A world line alone is a program with no ops. */
	CHECK_EQ(parse_str(&p, W, &err), 0);
	CHECK_EQ(p.nops, 0);
}

static void test_print_format(void)
{
	static const char want[] =
		"world files=2 mms=1 pmd_order=4 pages=256 file_pmds=4 "
		"anon_pmds=1\n"
		"map mm=0 file=1 idx=63 nr=64 pmd=1\n"
		"put h=15\n";
	struct prog p;
	size_t len;
	char *text;

	memset(&p, 0, sizeof(p));
	p.world = (struct prog_world){ 2, 1, 4, 256, 4, 1 };
	p.nops = 2;
	p.ops[0].code = OP_MAP;
	p.ops[0].arg[0] = 0;
	p.ops[0].arg[1] = 1;
	p.ops[0].arg[2] = 63;
	p.ops[0].arg[3] = 64;
	p.ops[0].arg[4] = 1;
	p.ops[1].code = OP_PUT;
	p.ops[1].arg[0] = 15;
	text = print_prog(&p, &len);
	CHECK(len == strlen(want) && memcmp(text, want, len) == 0);
	free(text);
}

/* A 30-op program from fixed random bytes, with headers varying. */
static char *thirty_op_text(size_t *len)
{
	static uint8_t in[PROG_PREFIX_BYTES + PROG_HEADER_BYTES +
			  30 * (1 + PROG_MAX_ARGS)];
	static struct prog p;
	size_t n = PROG_PREFIX_BYTES + PROG_HEADER_BYTES;

	/* the current format: its opcode bytes are the enum's values */
	prog_format_write(in);
	random_bytes(in + PROG_PREFIX_BYTES, PROG_HEADER_BYTES);
	/* every op gets all its argument bytes, so exactly 30 ops */
	for (int i = 0; i < 30; i++) {
		uint8_t code = (uint8_t)(rng() % OP_NR);

		in[n++] = code;
		random_bytes(in + n, prog_ops[code].nargs);
		n += prog_ops[code].nargs;
	}
	memset(&p, 0, sizeof(p));
	prog_decode(&p, in, n);
	CHECK_EQ(p.nops, 30);
	return print_prog(&p, len);
}

static void test_prefixes(void)
{
	size_t len;
	char *text = thirty_op_text(&len);
	unsigned int lines = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct prog_text_error err;
		struct prog p;
		int rc = parse(&p, text, cut, &err);

		if (cut && text[cut - 1] == '\n') {
			/* whole lines: world plus every op so far */
			lines++;
			CHECK_EQ(rc, 0);
			CHECK_EQ(p.nops, lines - 1);
		}
		if (rc) {
			CHECK_EQ(rc, -1);
			CHECK(err.line >= 1 && err.line <= lines + 1);
			CHECK(err.col >= 1);
			CHECK(err.msg[0] != '\0');
		}
	}
	CHECK_EQ(lines, 31);
	free(text);
}

/* Random bytes, and valid text with a few bytes changed: never a crash. */
static void test_garbage(void)
{
	static const char alphabet[] = "world files=mms pmd_order anon_pmds "
				       "addputfault h0123456789\n\t#\r";
	size_t vlen;
	char *valid = thirty_op_text(&vlen);
	char buf[512];

	for (int iter = 0; iter < 20000; iter++) {
		struct prog_text_error err;
		struct prog p;
		size_t n;
		int rc;

		switch (iter % 3) {
		case 0:	/* any bytes */
			n = (size_t)(rng() % sizeof(buf));
			random_bytes((uint8_t *)buf, n);
			break;
		case 1:	/* text-ish tokens */
			n = (size_t)(rng() % sizeof(buf));
			for (size_t i = 0; i < n; i++)
				buf[i] = alphabet[rng() %
						  (sizeof(alphabet) - 1)];
			break;
		default:	/* a valid program, mutated */
			n = vlen < sizeof(buf) ? vlen : sizeof(buf);
			memcpy(buf, valid, n);
			for (int k = (int)(rng() % 4); k >= 0 && n; k--)
				buf[rng() % n] = (char)rng();
			break;
		}
		rc = parse(&p, buf, n, &err);
		CHECK(rc == 0 || rc == -1);
		if (rc) {
			CHECK(err.line >= 1 && err.col >= 1);
			CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		} else {
			CHECK(!prog_world_invalid(&p.world));
			CHECK(p.nops <= PROG_MAX_OPS);
		}
	}
	free(valid);
}

/* A megabyte-long line: no copy, no overflow, the token cut in the message. */
static void test_long_line(void)
{
	size_t n = 1u << 20, len;
	char *text = malloc(sizeof(W) + n + 16);
	struct prog_text_error err;
	struct prog p;

	if (!text)
		abort();
	len = (size_t)sprintf(text, "%s", W);
	memset(text + len, ' ', n);
	len += n;
	len += (size_t)sprintf(text + len, "put h=1\n");
	CHECK_EQ(parse(&p, text, len, &err), 0);
	CHECK_EQ(p.nops, 1);
	len = (size_t)sprintf(text, "%sput h=", W);
	memset(text + len, '9', n);
	len += n;
	CHECK_EQ(parse(&p, text, len, &err), -1);
	CHECK_EQ(err.line, 2);
	CHECK_EQ(err.col, 5);
	CHECK(strncmp(err.msg, "h=999", 5) == 0 && strstr(err.msg, "...") &&
	      strstr(err.msg, "out of range 0..15"));
	free(text);
}

/* Text is recognised by content: UTF-8 without control bytes. */
static int is_text(const char *s, size_t n)
{
	return prog_looks_like_text((const uint8_t *)s, n);
}

static void test_looks_like_text(void)
{
	static const char seed[] =
		"# a comment with an em dash \xe2\x80\x94 and \xc3\xa9\r\n"
		"world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\n"
		"\tfault mm=0 va=0 order=2 write=1\n";
	uint8_t bin[FUZZ_TEST_BIN];
	struct prog p;

	CHECK(is_text(seed, sizeof(seed) - 1));
	CHECK_EQ(prog_parse_text(&p, seed, sizeof(seed) - 1, NULL), 0);
	CHECK(is_text("\xf0\x9f\x98\x80", 4));		/* 4-byte sequence */
	CHECK(!is_text("", 0));				/* fuzz_ops's empty input */
	CHECK(!is_text("world\x01", 6));			/* a control byte */
	CHECK(!is_text("world\x7f", 6));			/* DEL */
	CHECK(!is_text("a\0b", 3));				/* NUL */
	CHECK(!is_text("\x80", 1));				/* lone continuation */
	CHECK(!is_text("\xe2\x80", 2));			/* truncated */
	CHECK(!is_text("\xc0\xaf", 2));			/* overlong '/' */
	CHECK(!is_text("\xe0\x80\xaf", 3));			/* overlong */
	CHECK(!is_text("\xed\xa0\x80", 3));			/* a surrogate */
	CHECK(!is_text("\xf4\x90\x80\x80", 4));		/* > U+10FFFF */
	CHECK(!is_text("\xff", 1));
	/* a typical binary program: a header byte below 0x20 */
	for (unsigned int i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 37 + 3);
	CHECK(!prog_looks_like_text(bin, sizeof(bin)));
}

int main(void)
{
	FT_RUN(test_round_trip);
	FT_RUN(test_format_versions);
	FT_RUN(test_errors);
	FT_RUN(test_nul_byte);
	FT_RUN(test_more_than_max_ops);
	FT_RUN(test_accepts);
	FT_RUN(test_print_format);
	FT_RUN(test_prefixes);
	FT_RUN(test_garbage);
	FT_RUN(test_long_line);
	FT_RUN(test_looks_like_text);
	return ft_done();
}
