/* SPDX-License-Identifier: MIT */
/*
 * prog_text.c - the text form of programs (see prog.h): a "world" line,
 * then one "name key=value ..." line per op, '#' comments.
 *
 * The parser treats its input as @len untrusted bytes: no NUL terminator
 * is needed or honoured, numbers saturate instead of wrapping, and no
 * line is copied, so any input yields a program or a positioned error.
 * The printer writes exactly what the parser reads back, so printed
 * programs round-trip.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "prog.h"

/* Long tokens are cut short in messages so err->msg never truncates oddly. */
#define TOK_SHOW 40

#define NR_WORLD_KEYS 6
static const char *const world_keys[NR_WORLD_KEYS] = {
	"files", "mms", "pmd_order", "pages", "file_pmds", "anon_pmds",
};


#define fail prog_text_fail

int prog_text_fail(struct prog_text_error *err, unsigned int line,
		   unsigned int col, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* printf arguments that show at most TOK_SHOW bytes of a token. */
#define TOK_FMT "%.*s%s"
#define TOK_ARG(s, n) \
	(int)((n) > TOK_SHOW ? TOK_SHOW : (n)), (s), (n) > TOK_SHOW ? "..." : ""

static int tok_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Columns are counted in size_t; clamp so a giant line cannot wrap them. */
static unsigned int to_col(size_t off)
{
	return off >= UINT32_MAX ? UINT32_MAX : (unsigned int)off + 1;
}

#define next_tok prog_text_next_tok

int prog_text_next_tok(struct prog_text_line *l, struct prog_text_tok *t)
{
	while (l->pos < l->n && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t'))
		l->pos++;
	if (l->pos == l->n)
		return 0;
	t->s = l->s + l->pos;
	t->col = to_col(l->pos);
	while (l->pos < l->n && l->s[l->pos] != ' ' && l->s[l->pos] != '\t')
		l->pos++;
	t->n = (size_t)(l->s + l->pos - t->s);
	l->end_col = to_col(l->pos);
	return 1;
}

/*
 * Reject bytes a text program never holds: controls other than tab (a CR
 * before the newline is already gone), DEL, and non-ASCII outside
 * comments, which could only be a corrupted or binary input.
 */
static int check_chars(const char *s, size_t n, unsigned int nr,
		       struct prog_text_error *err)
{
	int comment = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '#')
			comment = 1;
		if ((c < 0x20 && c != '\t') || c == 0x7f ||
		    (c >= 0x80 && !comment))
			return fail(err, nr, to_col(i),
				    "invalid character 0x%02x", c);
	}
	return 0;
}

/*
 * Decimal digits only.  The value saturates at UINT32_MAX + 1 so that an
 * overlong number still fails the range check rather than wrapping into
 * range.
 */
static int parse_number(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > UINT32_MAX)
			x = (uint64_t)UINT32_MAX + 1;
	}
	*v = x;
	return 0;
}

struct arg_spec {
	const char *what;		/* "world" or the op name */
	unsigned int n;
	const char *const *names;
	const enum prog_arg_kind *kinds;	/* NULL: world keys, unranged */
	const struct prog_world *world;	/* for the ranges */
};

/* Index of @key among the spec's names, or -1. */
static int find_key(const struct arg_spec *sp, const char *key, size_t n)
{
	for (unsigned int i = 0; i < sp->n; i++)
		if (tok_is(key, n, sp->names[i]))
			return (int)i;
	return -1;
}

/* Value of one key=value token into vals[i], range-checked for op args. */
static int parse_value(const struct arg_spec *sp, unsigned int i,
		       const struct prog_text_tok *t, size_t eq, const struct prog_text_line *l,
		       unsigned int *vals, struct prog_text_error *err)
{
	const char *vs = t->s + eq + 1;
	size_t vn = t->n - eq - 1;
	unsigned int lo, hi;
	uint64_t v;

	if (vn == 0)
		return fail(err, l->nr, t->col, "missing value for '%s'",
			    sp->names[i]);
	/* "h=h3" reads as handle slot 3, the way traces name slots. */
	if (sp->kinds && sp->kinds[i] == ARG_HANDLE && vs[0] == 'h') {
		vs++;
		vn--;
	}
	if (parse_number(vs, vn, &v))
		return fail(err, l->nr, t->col, "'" TOK_FMT "' is not a number",
			    TOK_ARG(t->s + eq + 1, t->n - eq - 1));
	if (!sp->kinds) {
		/* prog_world_invalid() rejects UINT32_MAX for every key. */
		vals[i] = v > UINT32_MAX ? UINT32_MAX : (unsigned int)v;
		return 0;
	}
	prog_arg_range(sp->world, sp->kinds[i], &lo, &hi);
	if (v < lo || v > hi)
		return fail(err, l->nr, t->col,
			    "%s=" TOK_FMT " is out of range %u..%u for this world",
			    sp->names[i], TOK_ARG(vs, vn), lo, hi);
	vals[i] = (unsigned int)v;
	return 0;
}

/*
 * The rest of line @l as key=value tokens for @sp: every key exactly once.
 * cols[i] gets the column of key i (for errors found later).
 */
static int parse_args(const struct arg_spec *sp, struct prog_text_line *l,
		      unsigned int *vals, unsigned int *cols,
		      struct prog_text_error *err)
{
	unsigned int seen = 0;
	struct prog_text_tok t;

	while (next_tok(l, &t)) {
		const char *eq = memchr(t.s, '=', t.n);
		size_t klen;
		int i;

		if (!eq || eq == t.s)
			return fail(err, l->nr, t.col,
				    "expected key=value, got '" TOK_FMT "'",
				    TOK_ARG(t.s, t.n));
		klen = (size_t)(eq - t.s);
		i = find_key(sp, t.s, klen);
		if (i < 0)
			return fail(err, l->nr, t.col,
				    "unknown argument '" TOK_FMT "' for '%s'",
				    TOK_ARG(t.s, klen), sp->what);
		if (seen & (1u << i))
			return fail(err, l->nr, t.col,
				    "duplicate argument '%s'", sp->names[i]);
		seen |= 1u << i;
		cols[i] = t.col;
		if (parse_value(sp, (unsigned int)i, &t, klen, l, vals, err))
			return -1;
	}
	for (unsigned int i = 0; i < sp->n; i++)
		if (!(seen & (1u << i)))
			return fail(err, l->nr, l->end_col,
				    "missing argument '%s' for '%s'",
				    sp->names[i], sp->what);
	return 0;
}

/*
 * prog_world_invalid() messages start with the key at fault; point at that
 * key when we can, else at the "world" token.
 */
static unsigned int world_err_col(const char *msg, const unsigned int *cols,
				  unsigned int dflt)
{
	size_t n = strcspn(msg, " ");

	for (unsigned int i = 0; i < NR_WORLD_KEYS; i++)
		if (tok_is(msg, n, world_keys[i]))
			return cols[i];
	return dflt;
}

int prog_text_parse_world(struct prog_world *w, struct prog_text_line *l,
			  const struct prog_text_tok *name, struct prog_text_error *err)
{
	struct arg_spec sp = { "world", NR_WORLD_KEYS, world_keys, NULL, NULL };
	unsigned int v[NR_WORLD_KEYS], cols[NR_WORLD_KEYS];
	const char *why;

	if (parse_args(&sp, l, v, cols, err))
		return -1;
	w->files = v[0];
	w->mms = v[1];
	w->pmd_order = v[2];
	w->pages = v[3];
	w->file_pmds = v[4];
	w->anon_pmds = v[5];
	why = prog_world_invalid(w);
	if (why)
		return fail(err, l->nr, world_err_col(why, cols, name->col),
			    "%s", why);
	return 0;
}

int prog_text_parse_op(const struct prog_world *w, struct prog_text_line *l,
		       const struct prog_text_tok *name, struct prog_op *op,
		       struct prog_text_error *err)
{
	unsigned int cols[PROG_MAX_ARGS];
	const struct prog_op_desc *d = NULL;
	struct arg_spec sp;
	unsigned int code;

	for (code = 0; code < OP_NR; code++) {
		if (tok_is(name->s, name->n, prog_ops[code].name)) {
			d = &prog_ops[code];
			break;
		}
	}
	if (!d)
		return fail(err, l->nr, name->col,
			    "unknown operation '" TOK_FMT "'",
			    TOK_ARG(name->s, name->n));
	sp = (struct arg_spec){ d->name, d->nargs, d->arg_names, d->kinds, w };
	op->code = (uint8_t)code;
	memset(op->arg, 0, sizeof(op->arg));
	return parse_args(&sp, l, op->arg, cols, err);
}

static int parse_op(struct prog *p, struct prog_text_line *l, const struct prog_text_tok *name,
		    struct prog_text_error *err)
{
	if (p->nops == PROG_MAX_OPS)
		return fail(err, l->nr, name->col, "more than %d ops",
			    PROG_MAX_OPS);
	if (prog_text_parse_op(&p->world, l, name, &p->ops[p->nops], err))
		return -1;
	p->nops++;
	return 0;
}

/* One line; *have_world says whether the world line was seen already. */
static int parse_line(struct prog *p, struct prog_text_line *l, int *have_world,
		      struct prog_text_error *err)
{
	struct prog_text_tok name;

	if (!next_tok(l, &name))
		return 0;
	if (tok_is(name.s, name.n, "world")) {
		if (*have_world)
			return fail(err, l->nr, name.col,
				    "a second 'world' line");
		*have_world = 1;
		return prog_text_parse_world(&p->world, l, &name, err);
	}
	if (!*have_world)
		return fail(err, l->nr, name.col,
			    "no 'world' line before the first op");
	return parse_op(p, l, &name, err);
}

/* 1-based line:col just past the last byte: where "world" was still due. */
static int fail_empty(const char *text, size_t len, unsigned int nr,
		      struct prog_text_error *err)
{
	const char *s = text, *nl;
	size_t start = 0;

	/* Scan from the start: memrchr is a GNU extension we can avoid. */
	while (start < len && (nl = memchr(s + start, '\n', len - start)))
		start = (size_t)(nl - s) + 1;
	if (start == len)	/* empty, or ends in a newline: a fresh line */
		return fail(err, nr < UINT32_MAX ? nr + 1 : nr, 1,
			    "empty program: no 'world' line");
	return fail(err, nr, to_col(len - start),
		    "empty program: no 'world' line");
}

int prog_text_next_line(const char *text, size_t len, size_t *pos,
			unsigned int *nr, struct prog_text_line *l,
			struct prog_text_error *err)
{
	const char *nl, *hash;
	size_t end;

	if (!text || *pos >= len)
		return 0;
	nl = memchr(text + *pos, '\n', len - *pos);
	end = nl ? (size_t)(nl - text) : len;
	*l = (struct prog_text_line){ text + *pos, end - *pos, 0, 0, 1 };
	*nr = *nr < UINT32_MAX ? *nr + 1 : *nr;
	l->nr = *nr;
	*pos = nl ? end + 1 : len;
	/* CRLF: the CR belongs to the line break, not the line. */
	if (l->n && l->s[l->n - 1] == '\r')
		l->n--;
	if (check_chars(l->s, l->n, *nr, err))
		return -1;
	hash = memchr(l->s, '#', l->n);
	if (hash)
		l->n = (size_t)(hash - l->s);
	return 1;
}

int prog_parse_text(struct prog *p, const char *text, size_t len,
		    struct prog_text_error *err)
{
	struct prog_text_error dummy;
	unsigned int nr = 0;
	int have_world = 0;
	size_t pos = 0;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(&p->world, 0, sizeof(p->world));
	p->nops = 0;
	if (!text)
		len = 0;
	for (;;) {
		struct prog_text_line l;
		int rc = prog_text_next_line(text, len, &pos, &nr, &l, err);

		if (rc < 0)
			return -1;
		if (!rc)
			break;
		if (parse_line(p, &l, &have_world, err))
			return -1;
	}
	if (!have_world)
		return fail_empty(text, len, nr, err);
	return 0;
}

void prog_print_world(const struct prog_world *w, FILE *out)
{
	fprintf(out, "world files=%u mms=%u pmd_order=%u pages=%u "
		"file_pmds=%u anon_pmds=%u\n", w->files, w->mms, w->pmd_order,
		w->pages, w->file_pmds, w->anon_pmds);
}

void prog_print_op(const struct prog *p, const struct prog_op *op, FILE *out)
{
	const struct prog_op_desc *d;

	/* Arguments are stored folded, so the world adds nothing to print. */
	(void)p;
	/* A hand-built struct may hold anything; keep the output parseable. */
	if (op->code >= OP_NR) {
		fprintf(out, "# bad opcode %u\n", op->code);
		return;
	}
	d = &prog_ops[op->code];
	fputs(d->name, out);
	for (unsigned int i = 0; i < d->nargs; i++)
		fprintf(out, " %s=%u", d->arg_names[i], op->arg[i]);
	fputc('\n', out);
}

void prog_print_text(const struct prog *p, FILE *out)
{
	prog_print_world(&p->world, out);
	for (unsigned int i = 0; i < p->nops && i < PROG_MAX_OPS; i++)
		prog_print_op(p, &p->ops[i], out);
}
