/* SPDX-License-Identifier: MIT */
/*
 * scenario.c - parse scenario files (format in scenario.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/window.h"
#include "scenario.h"

#ifndef FT_SCENARIO_DIR
#define FT_SCENARIO_DIR "stress/scenarios"
#endif

struct parse {
	const char *file;
	unsigned int line;
};

static int perr(const struct parse *p, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s:%u: ", p->file, p->line);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

static int num(const struct parse *p, const char *s, unsigned long lo,
	       unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = s ? strtoul(s, &end, 10) : 0;	/* decimal: "010" is ten */
	if (!s || errno || end == s || *end || s[0] == '-' || *out < lo ||
	    *out > hi)
		return perr(p, "expected a number in range, got '%s'",
			    s ? s : "(nothing)");
	return 0;
}

static int op_index(const char *name)
{
	for (int k = 0; k < FT_OP_NR; k++)
		if (!strcmp(ft_op_names[k], name))
			return k;
	return -1;
}

static int parse_group(const struct parse *p, char *rest,
		       struct ft_scenario *sc)
{
	struct ft_group *g;
	char *tok, *save;
	unsigned long v;

	if (sc->nr_groups == FT_MAX_GROUPS)
		return perr(p, "too many groups (at most %s)", "16");
	g = &sc->groups[sc->nr_groups];
	memset(g, 0, sizeof(*g));
	tok = strtok_r(rest, " \t", &save);
	if (!tok)
		return perr(p, "group needs a name%s", "");
	snprintf(g->name, sizeof(g->name), "%s", tok);
	if (num(p, strtok_r(NULL, " \t", &save), 1, 1000, &v))
		return 2;
	g->share = (unsigned int)v;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');
		int k;

		if (!eq)
			return perr(p, "expected op=weight, got '%s'", tok);
		*eq = '\0';
		k = op_index(tok);
		if (k < 0)
			return perr(p, "unknown operation '%s' (see --list-scenarios)", tok);
		if (num(p, eq + 1, 0, 1000, &v))
			return 2;
		g->weight[k] = (unsigned int)v;
		g->total += (unsigned int)v;
	}
	if (!g->total)
		return perr(p, "group '%s' has no operation with a weight", g->name);
	sc->nr_groups++;
	return 0;
}

static int parse_line(const struct parse *p, char *line, struct ft_scenario *sc,
		      struct ft_opts *o)
{
	char *save, *key = strtok_r(line, " \t", &save), *val;
	unsigned long v;

	if (!key)
		return 0;
	if (!strcmp(key, "group"))
		return parse_group(p, save, sc);
	val = strtok_r(NULL, " \t", &save);
	if (strtok_r(NULL, " \t", &save))
		return perr(p, "'%s' takes one value", key);
	if (!strcmp(key, "pages")) {
		sc->sizes_set |= 1u << FT_SZ_PAGES;
		if (num(p, val, 1024, 1ul << 22, &v))
			return 2;
		o->nr_pages = v;
	} else if (!strcmp(key, "files")) {
		sc->sizes_set |= 1u << FT_SZ_FILES;
		if (num(p, val, 1, 8, &v))
			return 2;
		o->nr_files = (unsigned int)v;
	} else if (!strcmp(key, "file_pages")) {
		sc->sizes_set |= 1u << FT_SZ_FILE_PAGES;
		if (num(p, val, 16, 1ul << 20, &v))
			return 2;
		o->file_pages = v;
	} else if (!strcmp(key, "max_order")) {
		sc->sizes_set |= 1u << FT_SZ_MAX_ORDER;
		if (num(p, val, 0, 9, &v))
			return 2;
		o->max_order = (unsigned int)v;
	} else if (!strcmp(key, "pmd_order")) {
		sc->sizes_set |= 1u << FT_SZ_PMD_ORDER;
		if (num(p, val, 1, 9, &v))
			return 2;
		o->pmd_order = (unsigned int)v;
	} else if (!strcmp(key, "mms")) {
		sc->sizes_set |= 1u << FT_SZ_MMS;
		if (num(p, val, 1, 16, &v))
			return 2;
		o->nr_mms = (unsigned int)v;
	} else if (!strcmp(key, "anon_pages")) {
		sc->sizes_set |= 1u << FT_SZ_ANON_PAGES;
		if (num(p, val, 16, 1ul << 22, &v))
			return 2;
		o->anon_pages = v;
	} else if (!strcmp(key, "private")) {
		if (num(p, val, 0, 1, &v))
			return 2;
		sc->private_folios = v;
	} else if (!strcmp(key, "aims")) {
		char *tok, *save2;

		if (!val)
			return perr(p, "'aims' needs windows, e.g. R3,R9%s", "");
		for (tok = strtok_r(val, ",", &save2); tok;
		     tok = strtok_r(NULL, ",", &save2)) {
			int w = folio_window_parse(tok);

			if (w < 0)
				return perr(p, "'%s' is no race window (R1..R9, "
					    "R12..R14)", tok);
			sc->aims |= 1u << w;
		}
	} else if (!strcmp(key, "blind")) {
		if (num(p, val, 0, 100, &v))
			return 2;
		sc->blind_pct = (unsigned int)v;
	} else if (!strcmp(key, "pin")) {
		if (num(p, val, 0, 100, &v))
			return 2;
		sc->pin_pct = (unsigned int)v;
	} else {
		return perr(p, "unknown directive '%s'", key);
	}
	return 0;
}

static void path_for(const char *arg, char *path, size_t n)
{
	size_t len = strlen(arg);

	if (strchr(arg, '/') || (len > 4 && !strcmp(arg + len - 4, ".scn")))
		snprintf(path, n, "%s", arg);
	else
		snprintf(path, n, "%s/%s.scn", FT_SCENARIO_DIR, arg);
}

int ft_scenario_load(const char *arg, struct ft_scenario *sc, struct ft_opts *o)
{
	char path[PATH_MAX], buf[1024];
	struct parse p = { .file = path };
	const char *base;
	FILE *f;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	sc->blind_pct = 25;
	sc->pin_pct = 50;
	path_for(arg, path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "foliotorture: scenario '%s': cannot open %s: %s "
			"(--list-scenarios shows the built-in ones)\n",
			arg, path, strerror(errno));
		return 2;
	}
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	snprintf(sc->name, sizeof(sc->name), "%.*s", (int)strcspn(base, "."), base);
	while (!rc && fgets(buf, sizeof(buf), f)) {
		char *hash;

		p.line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = perr(&p, "line too long%s", "");
			break;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		hash = strchr(buf, '#');
		if (hash) {
			if (!sc->summary[0] && hash[1])
				snprintf(sc->summary, sizeof(sc->summary), "%s",
					 hash + 1 + (hash[1] == ' '));
			*hash = '\0';
		}
		rc = parse_line(&p, buf, sc, o);
	}
	fclose(f);
	if (!rc && !sc->nr_groups) {
		p.line = 0;
		rc = perr(&p, "no worker group defined%s", "");
	}
	/* max_order <= pmd_order is checked once the size options are in */
	return rc;
}

int ft_scenario_list(FILE *out)
{
	DIR *d = opendir(FT_SCENARIO_DIR);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "foliotorture: cannot read %s: %s\n",
			FT_SCENARIO_DIR, strerror(errno));
		return 2;
	}
	fprintf(out, "scenarios in %s:\n", FT_SCENARIO_DIR);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct ft_scenario sc;
		struct ft_opts o = { .pmd_order = 9 };
		char full[PATH_MAX];

		if (len < 5 || strcmp(e->d_name + len - 4, ".scn"))
			continue;
		snprintf(full, sizeof(full), "%s/%s", FT_SCENARIO_DIR, e->d_name);
		if (ft_scenario_load(full, &sc, &o) == 0)
			fprintf(out, "  %-18s %s\n", sc.name, sc.summary);
	}
	closedir(d);
	fprintf(out, "operations:");
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(out, " %s", ft_op_names[k]);
	fprintf(out, "\n");
	return 0;
}
