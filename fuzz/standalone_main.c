/* SPDX-License-Identifier: MIT */
/*
 * standalone_main.c - main() for a fuzz target in a build without a
 * fuzzing engine: runs LLVMFuzzerTestOneInput once on every FILE, and on
 * every input in every DIR (sorted, not recursive, dotfiles and README*
 * skipped), so every preset can replay the corpora under its own checks.
 *
 *   fuzz_ops [--timeout S] FILE|DIR...     (exit 0 all ran, 1 timeout,
 *                                            2 usage or unreadable path;
 *                                            a finding aborts)
 */
#include <signal.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned int timeout_s = 25;
static unsigned long ran;
static char timeout_msg[PATH_MAX + 64];	/* prepared before each input */
static char crash_msg[PATH_MAX + 64];

static void on_alarm(int sig)
{
	ssize_t rc = write(2, timeout_msg, strlen(timeout_msg));

	(void)rc;
	_exit(1);
}

/* Name the input if the target aborts (ASan's abort_on_error too). */
static void on_abort(int sig)
{
	ssize_t rc = write(2, crash_msg, strlen(crash_msg));

	(void)rc;
	signal(SIGABRT, SIG_DFL);
	raise(SIGABRT);
}

static void run_one(const char *path, void *ctx)
{
	uint8_t *data;
	size_t size;
	int rc = fuzz_read_file(path, SIZE_MAX / 2, &data, &size);

	if (rc != 0) {
		fprintf(stderr, "standalone: cannot read %s: %s\n", path,
			rc == -2 ? "too large" : strerror(errno));
		exit(2);
	}
	snprintf(timeout_msg, sizeof(timeout_msg), "timeout after %u s on %s\n",
		 timeout_s, path);
	snprintf(crash_msg, sizeof(crash_msg),
		 "standalone: aborted while running %s\n", path);
	alarm(timeout_s);
	LLVMFuzzerTestOneInput(data, size);
	alarm(0);
	free(data);
	ran++;
}

static void __attribute__((noreturn)) usage(const char *prog, int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s [--timeout SECONDS] FILE|DIR...\n"
		"Runs the fuzz target once on each FILE and on each input in each DIR\n"
		"(sorted, not recursive, dotfiles and README* skipped).  --timeout is\n"
		"per input (default 25, 0 = none).  Flags of the form -name=value\n"
		"(libFuzzer's) are ignored.  Exit: 0 ok, 1 timeout, 2 usage or\n"
		"unreadable input; a finding aborts.\n", prog);
	exit(rc);
}

static unsigned int parse_timeout(const char *prog, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 86400) {
		fprintf(stderr, "%s: --timeout: '%s' is not a number of seconds (0..86400)\n",
			prog, s);
		usage(prog, 2);
	}
	return (unsigned int)v;
}

int main(int argc, char **argv)
{
	const char *prog = argv[0];
	int i, nin = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	signal(SIGALRM, on_alarm);
	signal(SIGABRT, on_abort);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(prog, 0);
		} else if (!strcmp(a, "--timeout")) {
			if (++i == argc)
				usage(prog, 2);
			timeout_s = parse_timeout(prog, argv[i]);
		} else if (!strncmp(a, "--timeout=", 10)) {
			timeout_s = parse_timeout(prog, a + 10);
		} else if (a[0] == '-' && a[1] != '-' && strchr(a, '=')) {
			fprintf(stderr, "%s: ignoring libFuzzer flag %s\n", prog, a);
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(prog, 2);
		} else {
			argv[++nin] = argv[i];	/* compact the inputs */
		}
	}
	for (; i < argc; i++)
		argv[++nin] = argv[i];
	if (!nin)
		usage(prog, 2);
	for (i = 1; i <= nin; i++) {
		if (fuzz_for_each_input(argv[i], run_one, NULL) < 0) {
			fprintf(stderr, "%s: cannot read directory %s: %s\n", prog,
				argv[i], strerror(errno));
			return 2;
		}
	}
	printf("ran %lu inputs\n", ran);
	return 0;
}
