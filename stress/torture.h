/* SPDX-License-Identifier: MIT */
/*
 * torture.h - shared state of the foliotorture program: options, workers,
 * the quiescent-point rendezvous.
 */
#ifndef FT_TORTURE_H
#define FT_TORTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "folio/filemap.h"
#include "folio/pgtable.h"
#include "folio/window.h"
#include "ledger.h"

enum ft_op {
	FT_OP_LOOKUP,		/* filemap_get_folio + identity recheck */
	FT_OP_LOOKUP_LOCKED,	/* lookup, lock, recheck mapping (FGP_LOCK) */
	FT_OP_PFN_GET,		/* folio_try_get_pfn under RCU */
	FT_OP_ADD,		/* allocate and insert into a file */
	FT_OP_TRUNCATE,		/* truncate a random range */
	FT_OP_CHURN,		/* alloc/free, never cached */
	FT_OP_RELEASE,		/* drop a reference held across steps */
	/* page tables (workers_mm.c) */
	FT_OP_FAULT,		/* anon fault, PTEs or a PMD */
	FT_OP_ZAP,		/* zap a range of the anon region */
	FT_OP_FILE_MAP,		/* map page-cache pages (PTEs or a PMD) */
	FT_OP_TOUCH,		/* CPU load or store, checked (data_oracle.h) */
	FT_OP_GUP,		/* GUP-fast GET or PIN, held for a while */
	FT_OP_UNPIN,		/* drop a held GUP */
	FT_OP_SPLIT,		/* split a large folio to a lower order */
	FT_OP_SPLIT_PMD,	/* split_huge_pmd */
	FT_OP_DEFERRED_SCAN,	/* the deferred-split shrinker */
	FT_OP_MADV_FREE,	/* MADV_FREE a range */
	FT_OP_RECLAIM,		/* reclaim a lazyfree folio */
	FT_OP_LOCK,		/* folio lock contention on a cached folio */
	FT_OP_FORK,		/* mm_fork: another mm becomes this one's child */
	FT_OP_WP_FAULT,		/* a write or unshare fault (COW) */
	FT_OP_GUP_SLOW,		/* get_user_pages: COW / unshare, held a while */
	FT_OP_MIGRATE,		/* migrate a random folio to new pages */
	FT_OP_COLLAPSE,		/* fill a PMD's holes with small pages, collapse it */
	FT_OP_DMA,		/* a device reads or writes a page of a held GUP */
	FT_OP_WP_MERGE,		/* merge two equal anon pages (ksm_merge_pages) */
	FT_OP_NR,
};

extern const char *const ft_op_names[FT_OP_NR];

/* The model-size options; a scenario file may set them too. */
enum ft_size {
	FT_SZ_PAGES, FT_SZ_FILES, FT_SZ_FILE_PAGES, FT_SZ_MAX_ORDER,
	FT_SZ_PMD_ORDER, FT_SZ_MMS, FT_SZ_ANON_PAGES, FT_SZ_NR,
};

enum ft_self_test {
	FT_SELF_TEST_NONE,
	FT_SELF_TEST_LEAK,	/* leak one reference: I-ref must fire */
	FT_SELF_TEST_SANITIZER,	/* a bug only the build's sanitizer sees */
	FT_SELF_TEST_HANG,	/* one worker never finishes an op: a hang */
	FT_SELF_TEST_CRASH,	/* one worker dereferences NULL: a crash */
	FT_SELF_TEST_DATA,	/* a page overwritten behind the data oracle */
};

struct ft_opts {
	const char *argv0;
	unsigned int threads;
	double duration;
	uint64_t seed;
	unsigned int check_interval_ms;
	double stat_interval;
	unsigned long nr_pages;
	unsigned int nr_files;
	unsigned long file_pages;
	unsigned int max_order;
	unsigned int pmd_order;
	unsigned int nr_mms;
	unsigned long anon_pages;
	const char *json;
	const char *scenario;
	unsigned int chaos;
	enum ft_self_test self_test;
	double hang_timeout;	/* s a worker may take to park or to stop */
	unsigned int overrides;	/* 1 << enum ft_size: a size option beat the scenario */
	unsigned int require_windows;	/* 1 << enum folio_window: must be hit */
#define FT_AIMS (1u << 31)		/* ... and the scenario's aims */
};

struct ft_group;

/* A GUP a worker holds across steps: unpinned later with the same pfns. */
#define FT_GUP_MAX 4
#define FT_GUP_PAGES 16
struct ft_gup {
	unsigned long pfns[FT_GUP_PAGES];
	unsigned int n;
	unsigned int flags;
	/* the data oracle's (data_oracle.c): taken at (mm, va + i); each page's
	 * place mapping epoch then; what this worker last wrote or read
	 * through it, with the page's write epoch */
	unsigned int mm;
	unsigned long va;
	unsigned long mep[FT_GUP_PAGES];
	uint64_t seen[FT_GUP_PAGES];
	unsigned long pep[FT_GUP_PAGES];
	uint32_t seen_valid;
	bool registered;	/* counted in the pages' holders (anon) */
	unsigned int gid;	/* the worker's GUP number (records name it) */
};

/* A worker's record of a place it wrote or read (data_oracle.c). */
#define FT_DATA_RECS 64
struct ft_data_rec {
	long place;		/* -1: empty */
	long src;		/* -1 a CPU access, else the GUP's gid */
	uint64_t val;
	unsigned long ep, pfn;
};

struct ft_worker {
	pthread_t tid;
	const struct ft_group *group;	/* its scenario worker kind */
	struct ft_gup gups[FT_GUP_MAX];
	unsigned int nr_gups;
	unsigned int id;
	uint64_t rng;
	struct ft_ledger ledger;
	struct ft_ring ring;
	atomic_ulong ops[FT_OP_NR];
	atomic_ulong fails[FT_OP_NR];	/* misses: nothing to do there, -EEXIST, ENOMEM */
	atomic_ulong raced[FT_OP_NR];	/* did its work and lost a race (FT_RACED) */
	atomic_int cur_op;		/* the op it is in, or -1 (a hang's report) */
	bool exited;
	/* the data oracle (data_oracle.c) */
	unsigned long data_seq, next_gid;
	unsigned long data_checked;	/* loads checked (its own; summed at the end) */
	struct ft_data_rec recs[FT_DATA_RECS];
	unsigned long gup_mep[FT_GUP_PAGES];	/* a GUP's places, at its start */
	/*
	 * A worker's lines are its own: its counters, written every op, must
	 * not share a cache line with the next worker's group pointer, read
	 * every op (that false sharing cost a two-thread private run ~20%).
	 */
} __attribute__((aligned(64)));

struct ft_state {
	struct ft_opts o;
	struct address_space **files;
	struct mm_struct **mms;
	struct ft_worker *workers;
	atomic_bool stop;
	atomic_bool park_req;
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond;	/* workers wait here to resume */
	pthread_cond_t parked_cond;	/* main waits here for parkers */
	unsigned int nparked;
	unsigned int nrunning;
	unsigned long park_gen;
	atomic_bool self_test_fired;
	bool private_folios;	/* worker i: only file i and mm i */
	unsigned int blind_pct;	/* picks made blind, not at a hint (targets.h) */
	unsigned int pin_pct;	/* GUPs that pin rather than get (scenario) */
};

extern struct ft_state ft;

/* How a run ended (the exit status: 0, 1, 128 + signal). */
enum ft_result { FT_PASS, FT_FAIL, FT_INTERRUPTED };
extern const char *const ft_result_names[];

struct ft_run {
	enum ft_result result;
	double elapsed;
	unsigned long checks, violations, leaks;
	int signal;			/* that interrupted the run, or 0 */
	bool workers_stopped;		/* joined: their rings can be read */
	const char *fail_rule;		/* "I-ref", "worker", "leak", "sanitizer" */
	char fail_detail[256];		/* when not a checker violation */
	struct folio_violation first;	/* the checker's first violation */
	unsigned long windows[FW_NR];	/* race windows hit (folio/window.h) */
};

struct ft_scenario;
/* options.c: 0, or 2 after a message (usage error, bad scenario). */
int ft_parse_args(int argc, char **argv, struct ft_opts *o,
		  struct ft_scenario *sc);
/* The complete command that reruns @o's configuration, shell-quoted. */
void ft_command_line(char *buf, size_t n, const struct ft_opts *o);
/* report.c */
unsigned long ft_ops_total(int k, bool fails);
unsigned long ft_raced_total(int k);
unsigned long ft_all_ops(void);
void ft_print_rings(FILE *out);
int ft_write_json(const struct ft_run *run, const struct ft_scenario *sc);
void ft_print_summary(const struct ft_run *run, const struct ft_scenario *sc);
/* The windows hit, "R1<eq>5<sep>R3<eq>12", or "none". */
void ft_print_windows(FILE *out, const unsigned long *hits, const char *eq,
		      const char *sep);
/* The --json report of a crash: formatted before the workers start, then
 * completed and written from the signal handler (async-signal-safe). */
int ft_crash_json_prepare(const struct ft_scenario *sc);
int ft_crash_json_write(int sig, const char *sig_name, const char *rule,
			const char *detail, const struct ft_run *run);
/* selftest.c: the bug --self-test=sanitizer plants (sanitizer builds) */
void ft_self_test_sanitizer(void);
/* NULL, where the compiler cannot see it (--self-test=crash). */
extern int *volatile ft_null_ptr;

void *ft_worker_main(void *arg);
/* The file / mm a worker works on (its own in a private scenario): the
 * file's index in ft.files, or the file. */
unsigned int ft_pick_file_id(struct ft_worker *w);
struct address_space *ft_pick_file(struct ft_worker *w);
struct mm_struct *ft_pick_mm(struct ft_worker *w);
/* chaos.c: delays and yields at every step of the core (FOLIO_HOOKS) */
void ft_chaos_start(unsigned int level, uint64_t seed);
void ft_chaos_thread(uint64_t seed);
/* What an operation returns: 0 done, FT_MISS (found nothing to do: no
 * folio there, -EEXIST, -ENOMEM, a trylock that failed), FT_RACED (took
 * its locks, did its work, and gave up on what another thread did
 * meanwhile: -EAGAIN, -EBUSY, a dirty folio: the race it is there for). */
#define FT_MISS 1
#define FT_RACED 2
/* workers_mm.c: run one page-table operation (0, FT_MISS, FT_RACED) */
int ft_mm_op(struct ft_worker *w, enum ft_op op);
/* Append the held GUPs as folio_held records; returns how many. */
size_t ft_gup_held(const struct ft_worker *w, struct folio_held *out);
void ft_gup_release_all(struct ft_worker *w);
void ft_worker_bug(struct ft_worker *w, const char *what,
		   const struct folio *f, unsigned long arg);
/* Drop every reference in a worker's ledger (after it stopped). */
void ft_ledger_release(struct ft_worker *w);

static inline uint64_t ft_rand(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint64_t ft_splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif /* FT_TORTURE_H */
