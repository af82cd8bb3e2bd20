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

#include "folio/filemap.h"
#include "ledger.h"

enum ft_op {
	FT_OP_LOOKUP,		/* filemap_get_folio + identity recheck */
	FT_OP_LOOKUP_LOCKED,	/* lookup, lock, recheck mapping (FGP_LOCK) */
	FT_OP_PFN_GET,		/* folio_try_get_pfn under RCU */
	FT_OP_ADD,		/* allocate and insert into a file */
	FT_OP_TRUNCATE,		/* truncate a random range */
	FT_OP_CHURN,		/* alloc/free, never cached */
	FT_OP_RELEASE,		/* drop a reference held across steps */
	FT_OP_NR,
};

extern const char *const ft_op_names[FT_OP_NR];

struct ft_opts {
	unsigned int threads;
	double duration;
	uint64_t seed;
	unsigned int check_interval_ms;
	double stat_interval;
	unsigned long nr_pages;
	unsigned int nr_files;
	unsigned long file_pages;
	unsigned int max_order;
	const char *json;
	bool self_test;
};

struct ft_worker {
	pthread_t tid;
	unsigned int id;
	uint64_t rng;
	struct ft_ledger ledger;
	struct ft_ring ring;
	atomic_ulong ops[FT_OP_NR];
	atomic_ulong fails[FT_OP_NR];	/* expected failures: miss, -EEXIST, ENOMEM */
	bool exited;
};

struct ft_state {
	struct ft_opts o;
	struct address_space **files;
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
};

extern struct ft_state ft;

void *ft_worker_main(void *arg);
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
