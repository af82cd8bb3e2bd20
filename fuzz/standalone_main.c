/* SPDX-License-Identifier: MIT */
/*
 * standalone_main.c - main() for a fuzz target in a build without a
 * fuzzing engine: runs LLVMFuzzerTestOneInput once on every FILE, and on
 * every input in every DIR (sorted, not recursive, dotfiles and README*
 * skipped), so every preset can replay the corpora under its own checks.
 *
 *   fuzz_ops [--timeout S] FILE|DIR...
 *
 * The project's exit contract, and a last line that says the same:
 *   0  PASS         every input ran; inputs the target rejected as
 *                   malformed (it returned -1, as libFuzzer allows) are
 *                   counted, not failures: a fuzzer's corpus holds them
 *   1  FAIL         a finding (the target aborted), a sanitizer report or
 *                   a timeout, naming the input
 *   2  usage error or an unreadable input
 *   128+N           INTERRUPTED by signal N between two inputs
 */
#include <signal.h>
#include <unistd.h>

#include "ft_version.h"
#include "fuzz_common.h"
#include "interrupt.h"
#include "sanitizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *prog;
static unsigned int timeout_s = 25;
static unsigned long ran, rejected;
static char timeout_msg[PATH_MAX + 128];	/* prepared before each input */
static char crash_msg[PATH_MAX + 128];
static const char *current;

static void on_alarm(int sig)
{
	ssize_t rc = write(1, timeout_msg, strlen(timeout_msg));

	(void)rc;
	_exit(1);
}

/* The target aborted on a finding (its report is above): FAIL, exit 1. */
static void on_abort(int sig)
{
	ssize_t rc = write(1, crash_msg, strlen(crash_msg));

	(void)rc;
	_exit(1);
}

static void on_sanitizer_report(void)
{
	printf("%s: FAIL: a %s report on %s after %lu inputs\n", prog,
	       ft_sanitizer_name(), current ? current : "(no input)", ran);
}

static void run_one(const char *path, void *ctx)
{
	uint8_t *data;
	size_t size;
	int rc;

	if (ft_interrupted())
		return;
	rc = fuzz_read_file(path, SIZE_MAX / 2, &data, &size);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, path,
			rc == -2 ? "too large" : strerror(errno));
		exit(2);
	}
	current = path;
	snprintf(timeout_msg, sizeof(timeout_msg),
		 "\n%s: FAIL: timeout after %u s on %s\n", prog, timeout_s, path);
	snprintf(crash_msg, sizeof(crash_msg),
		 "\n%s: FAIL: finding on %s (after %lu inputs passed)\n", prog,
		 path, ran);
	alarm(timeout_s);
	rc = LLVMFuzzerTestOneInput(data, size);
	alarm(0);
	free(data);
	ran++;
	rejected += rc == -1;
}

static void __attribute__((noreturn)) usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s [--timeout SECONDS] FILE|DIR...\n"
		"Runs the fuzz target once on each FILE and on each input in each DIR\n"
		"(sorted, not recursive, dotfiles and README* skipped).  --timeout is\n"
		"per input (default 25, 0 = none).  Flags of the form -name=value\n"
		"(libFuzzer's) are ignored.\n"
		"Exit: 0 PASS (inputs the target rejects as malformed are counted, not\n"
		"failures), 1 FAIL (a finding, a sanitizer report or a timeout), 2 usage\n"
		"error or unreadable input, 128+N interrupted by signal N.\n", prog);
	exit(rc);
}

static unsigned int parse_timeout(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 86400 || s[0] == '-') {
		fprintf(stderr, "%s: --timeout: '%s' is not a number of seconds (0..86400)\n",
			prog, s);
		usage(2);
	}
	return (unsigned int)v;
}

int main(int argc, char **argv)
{
	int i, nin = 0;

	prog = argv[0];
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	signal(SIGALRM, on_alarm);
	signal(SIGABRT, on_abort);
	ft_interrupt_install();
	ft_sanitizer_on_report(on_sanitizer_report);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(0);
		} else if (!strcmp(a, "--version")) {
			printf("%s (foliotorture %s, commit %s)\n", prog, FT_VERSION,
			       FT_GIT_COMMIT);
			return 0;
		} else if (!strcmp(a, "--timeout")) {
			if (++i == argc)
				usage(2);
			timeout_s = parse_timeout(argv[i]);
		} else if (!strncmp(a, "--timeout=", 10)) {
			timeout_s = parse_timeout(a + 10);
		} else if (a[0] == '-' && a[1] != '-' && strchr(a, '=')) {
			fprintf(stderr, "%s: ignoring libFuzzer flag %s\n", prog, a);
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(2);
		} else {
			argv[++nin] = argv[i];	/* compact the inputs */
		}
	}
	for (; i < argc; i++)
		argv[++nin] = argv[i];
	if (!nin)
		usage(2);
	for (i = 1; i <= nin; i++) {
		if (fuzz_for_each_input(argv[i], run_one, NULL) < 0) {
			fprintf(stderr, "%s: cannot read directory %s: %s\n", prog,
				argv[i], strerror(errno));
			return 2;
		}
	}
	if (ft_interrupted()) {
		printf("%s: INTERRUPTED: %lu inputs ran (%lu rejected as malformed)\n",
		       prog, ran, rejected);
		return 128 + ft_interrupted();
	}
	printf("%s: PASS: %lu inputs ran (%lu rejected as malformed)\n", prog,
	       ran, rejected);
	return 0;
}
