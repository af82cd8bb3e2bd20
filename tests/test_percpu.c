/* SPDX-License-Identifier: MIT */
/*
 * test_percpu.c - per-CPU page lists and descriptor sheaves: same-CPU
 * reuse, no reuse across CPUs until a drain, the drain an allocation does
 * before it fails, the checker's accounting of cached pages and objects
 * (and its rules firing on a broken cache), and the stale pfn reader that
 * meets its folio's descriptor and pages reused on one CPU.
 *
 * The CPU is chosen through folio_cpu_hook, as fuzz_sched does.
 * Run: build/<preset>/tests/test_percpu
 */
#include <errno.h>
#include <string.h>

#include "folio/percpu.h"
#include "ft_world.h"

/* page_alloc.c's mark of a block head on a per-CPU list (test-only copy) */
#define BUDDY_PCP (1ull << 63)

static unsigned int cpu_now;

static unsigned int test_cpu(void)
{
	return cpu_now;
}

static void on_cpu(unsigned int cpu)
{
	cpu_now = cpu;
}

static void hook_on(void)
{
	cpu_now = 0;
	atomic_store(&folio_cpu_hook, test_cpu);
}

static void hook_off(void)
{
	atomic_store(&folio_cpu_hook, NULL);
}

static void expect_rule(const char *rule)
{
	struct folio_violation v;
	struct folio_check_opts o = { 0 };
	unsigned long nv = folio_check_quiescent(&o, &v);

	CHECK(nv > 0);
	if (nv && strcmp(v.rule, rule)) {
		CHECK(strcmp(v.rule, rule) == 0);
		fprintf(stderr, "  expected %s, got %s: %s\n", rule, v.rule,
			v.detail);
	}
}

/* A folio freed on a CPU comes back, descriptor and pages, on that CPU. */
static void test_same_cpu_reuse(void)
{
	struct folio *f, *g;
	unsigned long pfn;

	hook_on();
	ft_world_up(4096);
	for (unsigned int order = 0; order <= 3; order++) {
		f = folio_alloc(order);
		CHECK(f != NULL);
		pfn = folio_pfn(f);
		folio_put(f);
		CHECK(nr_pcp_pages() >= (1ul << order));
		g = folio_alloc(order);
		CHECK(g == f);			/* the sheaf's last object */
		CHECK_EQ(folio_pfn(g), pfn);	/* the page list's last block */
		folio_put(g);
	}
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	ft_world_down();
	hook_off();
}

/* What CPU 1 freed, CPU 0 does not get: it sits in CPU 1's caches. */
static void test_no_reuse_across_cpus(void)
{
	struct folio *f, *g;
	unsigned long pfn;

	hook_on();
	ft_world_up(4096);
	on_cpu(1);
	f = folio_alloc(0);
	CHECK(f != NULL);
	pfn = folio_pfn(f);
	folio_put(f);
	on_cpu(0);
	g = folio_alloc(0);
	CHECK(g != NULL && g != f);
	CHECK(folio_pfn(g) != pfn);
	on_cpu(1);
	CHECK(folio_alloc(0) == f);	/* still CPU 1's, hot */
	CHECK_EQ(folio_pfn(f), pfn);
	folio_put(f);
	on_cpu(0);
	folio_put(g);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	ft_world_down();
	hook_off();
}

/*
 * CPU 1 holds free pages on its list; CPU 0 takes every page the zone has
 * left.  Its next allocation must drain CPU 1's list, not fail.
 */
static void test_drain_before_failing(void)
{
	struct folio *held[64];
	struct folio_world_stats st;
	struct folio *f;
	unsigned long fails, n = 0;

	hook_on();
	ft_world_up(64);	/* small: a CPU keeps 2 pages, 1 per batch */
	on_cpu(1);
	f = folio_alloc(0);
	CHECK(f != NULL);
	folio_put(f);
	CHECK(nr_pcp_pages() >= 1);
	on_cpu(0);
	fails = nr_alloc_failures();
	while (n < 64 && (held[n] = folio_alloc(0)) != NULL)
		n++;
	/* every page but the slab pages, including the one CPU 1 kept */
	folio_world_get_stats(&st);
	CHECK_EQ(n + st.slab_pages, 64);
	CHECK_EQ(nr_alloc_failures(), fails + 1);	/* only the last one */
	CHECK_EQ(nr_pcp_pages(), 0);
	while (n)
		folio_put(held[--n]);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	ft_world_down();
	hook_off();
}

/* A block larger than a CPU may keep goes to the zone (it may merge). */
static void test_large_block_bypasses(void)
{
	struct folio *f;
	unsigned long before, pfn;

	hook_on();
	ft_world_up(4096);	/* 128 pages per CPU at most */
	f = folio_alloc(9);	/* the PMD order, but 512 pages */
	CHECK(f != NULL);
	pfn = folio_pfn(f);
	before = nr_pcp_pages();
	folio_put(f);
	CHECK_EQ(nr_pcp_pages(), before);
	CHECK(!(memmap_word_load(pfn) & BUDDY_PCP));
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	ft_world_down();
	hook_off();
}

/*
 * The checker counts cached pages and objects as free: a clean state with
 * both caches in use passes; a cached descriptor with a reference, or a
 * cached block head that lost its mark, is reported.
 */
static void test_checker_sees_caches(void)
{
	struct kmem_cache_stats st;
	struct folio *f;
	unsigned long pfn;
	memdesc_t w;

	hook_on();
	ft_world_up(4096);
	f = folio_alloc(0);
	CHECK(f != NULL);
	pfn = folio_pfn(f);
	folio_put(f);
	kmem_cache_get_stats(folio_cache, &st);
	CHECK(st.nr_cached >= 1);
	CHECK_EQ(st.nr_active, 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	/* a free descriptor in a sheaf must have refcount 0 */
	atomic_store(&f->_refcount, 1);
	expect_rule("I-free");
	atomic_store(&f->_refcount, 0);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);

	/* a per-CPU block whose head reads as a zone block: the lists and
	 * the memmap disagree */
	w = memmap_word_load(pfn);
	CHECK(memdesc_type(w) == MEMDESC_BUDDY && (w & BUDDY_PCP));
	memmap_word_store(pfn, w & ~BUDDY_PCP);
	expect_rule("I-memmap");
	memmap_word_store(pfn, w);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	ft_world_down();
	hook_off();
}

/*
 * A stale pfn reader meets same-CPU reuse (forced at its race point):
 *   reader                            writer, same CPU
 *   w = word(P); f = decode(w)
 *                                     free f: P -> pcp, f -> sheaf
 *                                     alloc(0): f again, at P again
 *   try_get(f) succeeds; word(P) == w
 * It holds the folio now at P: right, and no reference is lost.  Then the
 * same with an anon folio: the word's type differs, the reader retries.
 */
static struct {
	struct folio *f, *g;
	bool anon, fired;
} r;

static void reuse_hook(enum folio_race_point rp, void *arg)
{
	if (rp != RP_TRY_GET_PFN_DECODED || r.fired || arg != r.f)
		return;
	r.fired = true;
	folio_put(r.f);
	r.g = r.anon ? folio_alloc_anon(0) : folio_alloc(0);
}

static void stale_reader(bool anon)
{
	struct folio *got;
	unsigned long pfn;

	hook_on();
	ft_world_up(4096);
	memset(&r, 0, sizeof(r));
	r.anon = anon;
	r.f = folio_alloc(0);
	CHECK(r.f != NULL);
	pfn = folio_pfn(r.f);
	atomic_store(&folio_race_hook, reuse_hook);
	rcu_read_lock_model();
	got = folio_try_get_pfn(pfn, 1);
	rcu_read_unlock_model();
	atomic_store(&folio_race_hook, NULL);
	CHECK(r.fired);
	CHECK(r.g == r.f);		/* the descriptor came back */
	CHECK(got == r.g);		/* and the reader holds the folio at P */
	CHECK_EQ(folio_pfn(r.g), pfn);
	CHECK_EQ(folio_test_anon(r.g), anon);
	CHECK_EQ(folio_ref_count(r.g), 2);
	CHECK_EQ(ft_check(&(struct folio_held){ r.g, 2, 0 }, 1, NULL), 0);
	folio_put(got);
	folio_put(r.g);
	ft_world_down();
	hook_off();
}

static void test_stale_reader_same_cpu_reuse(void)
{
	stale_reader(false);
}

static void test_stale_reader_same_cpu_reuse_anon(void)
{
	stale_reader(true);
}

/*
 * The walk with many sheaves: six CPUs (more than the walk's on-stack
 * array serves) each keep a full sheaf of a test cache, 192 objects in
 * all, enough that the walk sorts them and binary-searches each slab's
 * first one.  Every object is reported once, all free; an object freed
 * twice on one CPU is then in the sorted set twice and is caught.
 */
static void test_walk_many_sheaves(void)
{
	struct kmem_cache_stats st;
	struct kmem_cache *c;
	unsigned long cnt[2] = { 0, 0 };
	void *objs[20], *o;

	hook_on();
	ft_world_up(4096);
	c = kmem_cache_create("t64", 64, 0, 0, 0, 0);
	CHECK(c != NULL);
	if (!c) {
		ft_world_down();
		hook_off();
		return;
	}
	for (unsigned int cpu = 0; cpu < 6; cpu++) {
		on_cpu(cpu);
		for (int i = 0; i < 20; i++)
			objs[i] = kmem_cache_alloc(c);
		for (int i = 0; i < 20; i++)
			kmem_cache_free(c, objs[i]);
	}
	CHECK_EQ(folio_nr_cpu_ids(), 6);
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_cached, 6 * 32);	/* 12 left by the refills, 20 freed */
	CHECK_EQ(st.nr_active, 0);
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), 0);
	CHECK_EQ(cnt[0], st.nr_objs);
	CHECK_EQ(cnt[1], st.nr_objs);

	on_cpu(5);
	o = kmem_cache_alloc(c);
	kmem_cache_free(c, o);
	kmem_cache_free(c, o);		/* a double free: in the sheaf twice */
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), -EFAULT);
	CHECK(kmem_cache_alloc(c) == o);
	CHECK(kmem_cache_alloc(c) == o);
	kmem_cache_free(c, o);
	CHECK_EQ(kmem_cache_walk(c, ft_count_objs, cnt), 0);

	kmem_cache_shrink(c);		/* every sheaf back to the slabs */
	kmem_cache_get_stats(c, &st);
	CHECK_EQ(st.nr_cached, 0);
	CHECK_EQ(st.nr_slabs, 0);
	on_cpu(0);
	ft_world_down();
	hook_off();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_same_cpu_reuse);
	FT_RUN(test_no_reuse_across_cpus);
	FT_RUN(test_drain_before_failing);
	FT_RUN(test_large_block_bypasses);
	FT_RUN(test_checker_sees_caches);
	FT_RUN(test_stale_reader_same_cpu_reuse);
	FT_RUN(test_stale_reader_same_cpu_reuse_anon);
	FT_RUN(test_walk_many_sheaves);
	folio_thread_offline();
	return ft_done();
}
