/* SPDX-License-Identifier: MIT */
/*
 * replay_malformed.c - ctest fuzz.replay.malformed_inputs: feed folio-replay
 * directories of bad inputs and check the verdict of every one.
 *
 *   replay_malformed FOLIO_REPLAY TEXT_SEED_DIR WORK_DIR
 *
 *   random/      200 random byte strings, replayed --text: every one must
 *                be malformed (exit 2, "M malformed" == N);
 *   random/      the same files as binary programs: every byte string is a
 *                valid program, and on the correct core every one passes;
 *   truncated/   every prefix of every text seed: each either parses and
 *                passes or is malformed, never a finding, never a crash,
 *                and at least one is malformed.
 * A crash of folio-replay (a signal) fails the test.
 */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned int rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng >> 11);
}

static int write_file(const char *dir, const char *name, const void *buf,
		      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

struct verdict {
	int rc;
	unsigned long n, passed, findings, malformed;
};

static int replay(const char *tool, const char *mode, const char *dir,
		  struct verdict *v)
{
	char cmd[8192], line[512];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' --quiet %s '%s' 2>&1", tool, mode, dir);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	memset(v, 0, sizeof(*v));
	while (fgets(line, sizeof(line), p))
		sscanf(line, "folio-replay: %*[A-Z]: %lu inputs, %lu passed, %lu findings, %lu malformed",
		       &v->n, &v->passed, &v->findings, &v->malformed);
	st = pclose(p);
	if (!WIFEXITED(st)) {
		fprintf(stderr, "FAIL: folio-replay %s %s died (status %#x)\n",
			mode, dir, st);
		return -1;
	}
	v->rc = WEXITSTATUS(st);
	printf("%s %s: exit %d, %lu inputs, %lu passed, %lu findings, %lu malformed\n",
	       mode, dir, v->rc, v->n, v->passed, v->findings, v->malformed);
	return 0;
}

/* Empty @dir of the files an earlier run left (seeds change or go). */
static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096 + 256];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%.4095s/%.255s", dir,
				 e->d_name);
			unlink(path);
		}
	closedir(d);
}

static int truncations(const char *seeds, const char *out)
{
	DIR *d = opendir(seeds);
	struct dirent *e;
	int files = 0;

	if (!d) {
		perror(seeds);
		return -1;
	}
	while ((e = readdir(d))) {
		char path[4096], name[512], buf[65536];
		size_t len;
		FILE *f;

		if (strncmp(e->d_name, "seed-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", seeds, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		for (size_t cut = 0; cut < len; cut++) {
			snprintf(name, sizeof(name), "%.200s.%zu", e->d_name, cut);
			if (write_file(out, name, buf, cut))
				return -1;
			files++;
		}
	}
	closedir(d);
	return files;
}

int main(int argc, char **argv)
{
	char rdir[4096], tdir[4096];
	struct verdict v;
	int bad = 0, nt;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FOLIO_REPLAY TEXT_SEED_DIR WORK_DIR\n", argv[0]);
		return 2;
	}
	snprintf(rdir, sizeof(rdir), "%s/random", argv[3]);
	snprintf(tdir, sizeof(tdir), "%s/truncated", argv[3]);
	mkdir(argv[3], 0777);
	mkdir(rdir, 0777);
	mkdir(tdir, 0777);
	empty_dir(tdir);
	for (int i = 0; i < 200; i++) {
		unsigned char buf[600];
		size_t len = 1 + rnd() % sizeof(buf);
		char name[32];

		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)rnd();
		snprintf(name, sizeof(name), "r%03d", i);
		if (write_file(rdir, name, buf, len))
			return 2;
	}
	nt = truncations(argv[2], tdir);
	if (nt <= 0) {
		fprintf(stderr, "no text seeds in %s\n", argv[2]);
		return 2;
	}
	if (replay(argv[1], "--text", rdir, &v) ||
	    v.rc != 2 || v.n != 200 || v.malformed != 200) {
		fprintf(stderr, "FAIL: random bytes as text must all be malformed\n");
		bad++;
	}
	if (replay(argv[1], "--binary", rdir, &v) ||
	    v.rc != 0 || v.n != 200 || v.passed != 200) {
		fprintf(stderr, "FAIL: random bytes as binary programs must all pass\n");
		bad++;
	}
	if (replay(argv[1], "--text", tdir, &v) || v.rc != 2 ||
	    v.n != (unsigned long)nt || v.findings || !v.malformed ||
	    v.passed + v.malformed != v.n) {
		fprintf(stderr, "FAIL: truncated text seeds must pass or be malformed\n");
		bad++;
	}
	puts(bad ? "FAIL" : "PASS");
	return bad ? 1 : 0;
}
