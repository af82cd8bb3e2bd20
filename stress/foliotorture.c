/* SPDX-License-Identifier: MIT */
/*
 * foliotorture.c - hammer libfolio with real threads and real RCU, and
 * check the exact invariants at quiescent points (in the tradition of the
 * kernel's rcutorture).
 *
 * Run: build/release/stress/foliotorture --duration 10
 * Exit: 0 clean, 1 invariant violation or leak, 2 usage error.
 *
 * Main thread: starts the workers, and every --check-interval asks them to
 * park (each finishes its current operation, so only ledgered references
 * remain), runs the full checker with their ledgers, and lets them go.  At
 * the end (duration, or SIGINT/SIGTERM) it stops them, checks once more,
 * releases every ledgered reference, truncates the files and runs the
 * teardown leak check.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "folio/check.h"
#include "folio/page_alloc.h"
#include "folio/rcu.h"
#include "folio/world.h"
#include "scenario.h"
#include "torture.h"

#define FT_VERSION "0.1.0"

static struct ft_scenario scenario;
static struct folio_violation first_violation;	/* for the JSON report */

struct ft_state ft = {
	.park_lock = PTHREAD_MUTEX_INITIALIZER,
	.park_cond = PTHREAD_COND_INITIALIZER,
	.parked_cond = PTHREAD_COND_INITIALIZER,
};

int ft_worker_errors(void);

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: foliotorture [options]\n"
"Hammer the folio model with real threads and RCU; check invariants at\n"
"quiescent points.  Exit 0 clean, 1 violation or leak, 2 usage error.\n"
"\n"
"  -S, --scenario NAME|FILE worker mix and sizes (default all)\n"
"  -L, --list-scenarios     list the built-in scenarios and operations\n"
"  -t, --threads N          worker threads (default 4 x online CPUs)\n"
"  -d, --duration SECONDS   run time (default 30)\n"
"  -s, --seed N             random seed (default: from the clock; printed)\n"
"  -c, --check-interval MS  quiescent check period (default 1000, 0 = end only)\n"
"  -i, --stat-interval S    status line period (default 5, 0 = off)\n"
"      --pages N            simulated pages (default 65536)\n"
"      --files N            files (default 4)\n"
"      --file-pages N       slots per file (default 4096)\n"
"      --max-order N        largest page-cache folio order (default 4)\n"
"      --pmd-order N        PMD_ORDER of the page tables (default 4)\n"
"      --mms N              address spaces (default 2)\n"
"      --anon-pages N       anon region of each address space (default 2048)\n"
"  -C, --chaos LEVEL        0-3: random yields/sleeps at every core step\n"
"      --json FILE          write the result as JSON\n"
"      --self-test          leak one reference on purpose: the checker must\n"
"                           catch it (exit 1)\n"
"  -h, --help               this text\n"
"  (a scenario's size directives override the size options)\n"
"  -V, --version            print the version\n");
}

static int parse_ulong(const char *name, const char *s, unsigned long lo,
		       unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr,
			"foliotorture: --%s: '%s' is not a number in [%lu, %lu]\n",
			name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_double(const char *name, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out < 0 || *out > 1e7) {
		fprintf(stderr, "foliotorture: --%s: '%s' is not a duration\n",
			name, s);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct ft_opts *o)
{
	enum { O_PAGES = 256, O_FILES, O_FILE_PAGES, O_MAX_ORDER, O_JSON,
	       O_SELF_TEST, O_PMD_ORDER, O_MMS, O_ANON_PAGES };
	static const struct option lo[] = {
		{ "scenario", required_argument, 0, 'S' },
		{ "list-scenarios", no_argument, 0, 'L' },
		{ "chaos", required_argument, 0, 'C' },
		{ "threads", required_argument, 0, 't' },
		{ "duration", required_argument, 0, 'd' },
		{ "seed", required_argument, 0, 's' },
		{ "check-interval", required_argument, 0, 'c' },
		{ "stat-interval", required_argument, 0, 'i' },
		{ "pages", required_argument, 0, O_PAGES },
		{ "files", required_argument, 0, O_FILES },
		{ "file-pages", required_argument, 0, O_FILE_PAGES },
		{ "max-order", required_argument, 0, O_MAX_ORDER },
		{ "pmd-order", required_argument, 0, O_PMD_ORDER },
		{ "mms", required_argument, 0, O_MMS },
		{ "anon-pages", required_argument, 0, O_ANON_PAGES },
		{ "json", required_argument, 0, O_JSON },
		{ "self-test", no_argument, 0, O_SELF_TEST },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	unsigned long v;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	*o = (struct ft_opts){
		.threads = 4 * (unsigned int)(ncpu > 0 ? ncpu : 1),
		.duration = 30,
		.seed = ft_splitmix((uint64_t)time(NULL) ^ (uint64_t)getpid()),
		.check_interval_ms = 1000,
		.stat_interval = 5,
		.nr_pages = 1ul << 16,
		.nr_files = 4,
		.file_pages = 4096,
		.max_order = 4,
		.pmd_order = 4,
		.nr_mms = 2,
		.anon_pages = 2048,
	};
	o->scenario = "all";
	while ((c = getopt_long(argc, argv, "S:LC:t:d:s:c:i:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->scenario = optarg;
			break;
		case 'L':
			exit(ft_scenario_list(stdout));
		case 'C':
			if (parse_ulong("chaos", optarg, 0, 3, &v))
				return 2;
			o->chaos = (unsigned int)v;
			break;
		case 't':
			if (parse_ulong("threads", optarg, 1, 1024, &v))
				return 2;
			o->threads = (unsigned int)v;
			break;
		case 'd':
			if (parse_double("duration", optarg, &o->duration))
				return 2;
			break;
		case 's':
			if (parse_ulong("seed", optarg, 0, ULONG_MAX, &v))
				return 2;
			o->seed = v;
			break;
		case 'c':
			if (parse_ulong("check-interval", optarg, 0, 3600000, &v))
				return 2;
			o->check_interval_ms = (unsigned int)v;
			break;
		case 'i':
			if (parse_double("stat-interval", optarg, &o->stat_interval))
				return 2;
			break;
		case O_PAGES:
			if (parse_ulong("pages", optarg, 1024, FOLIO_MAX_NR_PAGES, &v))
				return 2;
			o->nr_pages = v;
			break;
		case O_FILES:
			if (parse_ulong("files", optarg, 1, 64, &v))
				return 2;
			o->nr_files = (unsigned int)v;
			break;
		case O_FILE_PAGES:
			if (parse_ulong("file-pages", optarg, 16, 1ul << 24, &v))
				return 2;
			o->file_pages = v;
			break;
		case O_MAX_ORDER:
			if (parse_ulong("max-order", optarg, 0, MAX_PAGE_ORDER, &v))
				return 2;
			o->max_order = (unsigned int)v;
			break;
		case O_PMD_ORDER:
			if (parse_ulong("pmd-order", optarg, 1, 9, &v))
				return 2;
			o->pmd_order = (unsigned int)v;
			break;
		case O_MMS:
			if (parse_ulong("mms", optarg, 1, 16, &v))
				return 2;
			o->nr_mms = (unsigned int)v;
			break;
		case O_ANON_PAGES:
			if (parse_ulong("anon-pages", optarg, 16, 1ul << 22, &v))
				return 2;
			o->anon_pages = v;
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_SELF_TEST:
			o->self_test = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("foliotorture %s\n", FT_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "foliotorture: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	/* the scenario sets sizes; explicit size options were given first and
	 * lose to it, which --help says */
	if (ft_scenario_load(o->scenario, &scenario, o))
		return 2;
	if (o->nr_files > MM_MAX_WINDOWS) {
		fprintf(stderr, "foliotorture: --files: at most %d (one window each)\n",
			MM_MAX_WINDOWS);
		return 2;
	}
	if (o->max_order > o->pmd_order) {
		fprintf(stderr, "foliotorture: --max-order %u exceeds --pmd-order %u\n",
			o->max_order, o->pmd_order);
		return 2;
	}
	return 0;
}

static unsigned long ops_total(int k, bool fails)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < ft.o.threads; i++)
		n += atomic_load_explicit(fails ? &ft.workers[i].fails[k] :
						  &ft.workers[i].ops[k],
					  memory_order_relaxed);
	return n;
}

static unsigned long all_ops(void)
{
	unsigned long n = 0;

	for (int k = 0; k < FT_OP_NR; k++)
		n += ops_total(k, false);
	return n;
}

/* Check with every worker parked (or exited); returns violations. */
static unsigned long quiescent_check(bool workers_running)
{
	static struct folio_held held[(FT_LEDGER_MAX + FT_GUP_MAX * FT_GUP_PAGES) * 1024];
	struct folio_check_opts co = { .held = held, .out = stderr };
	unsigned long nv;

	if (workers_running) {
		atomic_store_explicit(&ft.park_req, true, memory_order_release);
		pthread_mutex_lock(&ft.park_lock);
		while (ft.nparked < ft.nrunning)
			pthread_cond_wait(&ft.parked_cond, &ft.park_lock);
	}
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		for (unsigned int j = 0; j < ft.workers[i].ledger.nr; j++)
			held[co.nr_held++] = ft.workers[i].ledger.held[j];
		co.nr_held += ft_gup_held(&ft.workers[i], held + co.nr_held);
	}
	nv = folio_check_quiescent(&co, first_violation.rule ? NULL :
					     &first_violation);
	if (workers_running) {
		atomic_store_explicit(&ft.park_req, false, memory_order_relaxed);
		ft.park_gen++;
		pthread_cond_broadcast(&ft.park_cond);
		pthread_mutex_unlock(&ft.park_lock);
	}
	return nv;
}

static void print_rings(void)
{
	fprintf(stderr, "recent operations (oldest first), per worker:\n");
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		struct ft_ring *r = &ft.workers[i].ring;
		unsigned long start = r->n > FT_RING_SIZE ? r->n - FT_RING_SIZE : 0;

		fprintf(stderr, " worker %u:\n", i);
		for (unsigned long k = start; k < r->n; k++) {
			struct ft_ring_entry *e = &r->e[k % FT_RING_SIZE];

			fprintf(stderr, "  %-14s arg %#-8lx folio %-14p result %d\n",
				ft_op_names[e->kind], e->arg, e->folio,
				e->result);
		}
	}
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* The first violation and every worker's recent operations. */
static void write_json_failure(FILE *f)
{
	const struct folio_violation *v = &first_violation;

	fprintf(f, ",\n  \"violation\": {\"rule\": \"%s\", \"pfn\": %ld, "
		   "\"folio\": \"%p\", \"detail\": \"",
		v->rule ? v->rule : "worker", v->pfn == ~0ul ? -1L : (long)v->pfn,
		(const void *)v->folio);
	for (const char *c = v->detail; *c; c++)	/* no quotes or controls */
		fputc(*c == '"' || *c == '\\' || (unsigned char)*c < 32 ? '\'' : *c, f);
	fprintf(f, "\"},\n  \"recent_ops\": [");
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		struct ft_ring *r = &ft.workers[i].ring;
		unsigned long k = r->n > FT_RING_SIZE ? r->n - FT_RING_SIZE : 0;

		fprintf(f, "%s\n    [", i ? "," : "");
		for (unsigned long j = k; j < r->n; j++) {
			struct ft_ring_entry *e = &r->e[j % FT_RING_SIZE];

			fprintf(f, "%s{\"op\": \"%s\", \"arg\": %lu, \"result\": %d}",
				j > k ? ", " : "", ft_op_names[e->kind], e->arg,
				e->result);
		}
		fprintf(f, "]");
	}
	fprintf(f, "\n  ]");
}

static int write_json(const char *path, double elapsed, unsigned long checks,
		      unsigned long violations, unsigned long leaks)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "foliotorture: cannot write %s: %s\n", tmp,
			strerror(errno));
		return -1;
	}
	fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"scenario\": \"%s\",\n"
		   "  \"chaos\": %u,\n"
		   "  \"threads\": %u,\n  \"duration_s\": %.3f,\n  \"ops\": {",
		ft.o.seed, scenario.name, ft.o.chaos, ft.o.threads, elapsed);
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ops_total(k, false));
	fprintf(f, "},\n  \"failures\": {");
	for (int k = 0; k < FT_OP_NR; k++)
		fprintf(f, "%s\"%s\": %lu", k ? ", " : "", ft_op_names[k],
			ops_total(k, true));
	fprintf(f, "},\n  \"checks\": %lu,\n  \"violations\": %lu,\n"
		   "  \"leaks\": %lu,\n  \"peak_rss_kb\": %ld",
		checks, violations, leaks, peak_rss_kb());
	if (violations)
		write_json_failure(f);
	fprintf(f, "\n}\n");
	if (fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "foliotorture: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct folio_config cfg;
	unsigned long checks = 0, violations = 0, leaks = 0;
	double t0, next_check, next_stat, elapsed;
	int rc = parse_args(argc, argv, &ft.o);

	if (rc)
		return rc;
	printf("foliotorture %s: seed=%" PRIu64 " scenario=%s threads=%u duration=%gs "
	       "chaos=%u pages=%lu files=%u x %lu slots max_order=%u pmd_order=%u "
	       "mms=%u x %lu anon pages check_interval=%ums\n",
	       FT_VERSION, ft.o.seed, scenario.name, ft.o.threads, ft.o.duration,
	       ft.o.chaos,
	       ft.o.nr_pages, ft.o.nr_files, ft.o.file_pages, ft.o.max_order,
	       ft.o.pmd_order, ft.o.nr_mms, ft.o.anon_pages,
	       ft.o.check_interval_ms);
	fflush(stdout);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	folio_thread_online();
	cfg = (struct folio_config){ .nr_pages = ft.o.nr_pages,
				     .pmd_order = ft.o.pmd_order };
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "foliotorture: cannot create the model\n");
		return 2;
	}
	ft.files = calloc(ft.o.nr_files, sizeof(*ft.files));
	ft.workers = calloc(ft.o.threads, sizeof(*ft.workers));
	if (!ft.files || !ft.workers)
		return 2;
	ft.mms = calloc(ft.o.nr_mms, sizeof(*ft.mms));
	if (!ft.mms)
		return 2;
	for (unsigned int i = 0; i < ft.o.nr_files; i++)
		ft.files[i] = address_space_create(ft.o.file_pages);
	for (unsigned int i = 0; i < ft.o.nr_mms; i++) {
		ft.mms[i] = mm_create(ft.o.anon_pages, ft.o.file_pages);
		for (unsigned int k = 0; k < ft.o.nr_files; k++)
			mm_add_file_window(ft.mms[i], ft.files[k]);
	}
	ft.private_folios = scenario.private_folios;
	ft_chaos_start(ft.o.chaos, ft.o.seed);
	ft.nrunning = ft.o.threads;
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		unsigned int total = 0, acc = 0, g = 0;

		/* thread i goes to the group whose share covers i/threads */
		for (unsigned int k = 0; k < scenario.nr_groups; k++)
			total += scenario.groups[k].share;
		for (g = 0; g < scenario.nr_groups; g++) {
			acc += scenario.groups[g].share;
			if ((unsigned long)i * total < (unsigned long)acc * ft.o.threads)
				break;
		}
		ft.workers[i].group = &scenario.groups[g < scenario.nr_groups ? g : 0];
		ft.workers[i].id = i;
		ft.workers[i].rng = ft_splitmix(ft.o.seed + i + 1);
		pthread_create(&ft.workers[i].tid, NULL, ft_worker_main,
			       &ft.workers[i]);
	}

	t0 = now();
	next_check = t0 + ft.o.check_interval_ms / 1000.0;
	next_stat = t0 + ft.o.stat_interval;
	while (!atomic_load(&ft.stop)) {
		double t = now();

		if (got_signal) {
			fprintf(stderr, "\nfoliotorture: signal %d: stopping, "
				"checking, reporting\n", (int)got_signal);
			break;
		}
		if (t - t0 >= ft.o.duration)
			break;
		if (ft.o.check_interval_ms && t >= next_check) {
			unsigned long nv = quiescent_check(true);

			checks++;
			violations += nv;
			if (nv)
				break;
			next_check = now() + ft.o.check_interval_ms / 1000.0;
		}
		if (ft.o.stat_interval > 0 && t >= next_stat) {
			unsigned long n = all_ops();

			printf("[%6.1fs/%gs] ops %lu (%.0f/s) checks %lu violations %lu\n",
			       t - t0, ft.o.duration, n, n / (t - t0), checks,
			       violations);
			fflush(stdout);
			next_stat += ft.o.stat_interval;
		}
		usleep(10000);
	}
	atomic_store(&ft.stop, true);
	for (unsigned int i = 0; i < ft.o.threads; i++)
		pthread_join(ft.workers[i].tid, NULL);
	elapsed = now() - t0;

	/* Final check, everyone stopped. */
	if (!violations) {
		violations += quiescent_check(false);
		checks++;
	}
	violations += (unsigned long)ft_worker_errors();
	if (violations) {
		fprintf(stderr, "foliotorture: FAILED: seed %" PRIu64
			" scenario %s: rerun with --scenario %s --seed %" PRIu64
			" --threads %u\n", ft.o.seed, scenario.name,
			ft.o.scenario, ft.o.seed, ft.o.threads);
		print_rings();
	}
	for (unsigned int i = 0; i < ft.o.threads; i++) {
		ft_ledger_release(&ft.workers[i]);
		ft_gup_release_all(&ft.workers[i]);
	}
	for (unsigned int i = 0; i < ft.o.nr_mms; i++)
		mm_destroy(ft.mms[i]);
	for (unsigned int i = 0; i < ft.o.nr_files; i++) {
		truncate_inode_pages_range(ft.files[i], 0, ft.o.file_pages);
		address_space_destroy(ft.files[i]);
	}
	if (!violations)
		leaks = folio_world_destroy(stderr);

	printf("\n%-16s %12s %12s %12s\n", "operation", "count", "per second",
	       "expected-fail");
	for (int k = 0; k < FT_OP_NR; k++)
		printf("%-16s %12lu %12.0f %12lu\n", ft_op_names[k],
		       ops_total(k, false), ops_total(k, false) / elapsed,
		       ops_total(k, true));
	printf("foliotorture: %s seed=%" PRIu64 " scenario=%s threads=%u elapsed=%.1fs "
	       "ops=%lu ops/s=%.0f checks=%lu violations=%lu leaks=%lu "
	       "peak_rss=%ldKiB\n",
	       violations || leaks ? "FAIL" : "PASS", ft.o.seed, scenario.name,
	       ft.o.threads,
	       elapsed, all_ops(), all_ops() / elapsed, checks, violations,
	       leaks, peak_rss_kb());
	if (ft.o.json &&
	    write_json(ft.o.json, elapsed, checks, violations, leaks))
		return 2;
	free(ft.workers);
	free(ft.files);
	free(ft.mms);
	folio_thread_offline();
	return violations || leaks ? 1 : 0;
}
