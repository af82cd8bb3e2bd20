/* SPDX-License-Identifier: MIT */
/*
 * test_filemap.c - page cache insert/lookup/remove/truncate and the folio
 * lock: every path, every error code.
 * Run: build/<preset>/tests/test_filemap
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "ft_world.h"

static void test_add_and_lookup(void)
{
	struct address_space *m;
	struct folio *f, *g;

	ft_world_up(1024);
	m = address_space_create(64);
	f = folio_alloc(2);
	folio_lock(f);
	CHECK_EQ(filemap_add_folio(m, f, 8), 0);
	folio_unlock(f);
	/* cache refs: nr_pages, plus the caller's own */
	CHECK_EQ(folio_ref_count(f), 1 + 4);
	CHECK_EQ(folio_expected_ref_count(f), 4);
	CHECK(folio_mapping(f) == m && folio_index(f) == 8);
	CHECK_EQ(ft_check(&(struct folio_held){ f, 1, 0 }, 1, NULL), 0);
	for (unsigned long i = 8; i < 12; i++) {
		g = filemap_get_folio(m, i);
		CHECK(g == f);
		if (g)
			folio_put(g);
	}
	CHECK(filemap_get_folio(m, 7) == NULL);
	CHECK(filemap_get_folio(m, 12) == NULL);
	CHECK(filemap_get_folio(m, 64) == NULL);	/* beyond the file */
	CHECK(filemap_get_folio(m, ~0ul) == NULL);
	folio_put(f);
	CHECK_EQ(truncate_inode_pages_range(m, 0, 64), 1);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

static void test_add_errors(void)
{
	struct address_space *m;
	struct folio *f, *g, *a;

	ft_world_up(1024);
	m = address_space_create(16);
	f = ft_cache_folio(m, 4, 2);	/* slots 4-7 */
	CHECK(f != NULL);
	g = folio_alloc(0);
	folio_lock(g);
	CHECK_EQ(filemap_add_folio(m, g, 5), -EEXIST);
	CHECK_EQ(folio_ref_count(g), 1);	/* refs undone */
	CHECK(folio_mapping(g) == NULL);
	CHECK_EQ(filemap_add_folio(m, g, 16), -EINVAL);	/* out of range */
	CHECK_EQ(filemap_add_folio(m, g, 3), 0);
	CHECK_EQ(filemap_add_folio(m, g, 2), -EINVAL);	/* already cached */
	folio_unlock(g);
	folio_put(g);

	a = folio_alloc(2);
	folio_lock(a);
	CHECK_EQ(filemap_add_folio(m, a, 2), -EINVAL);	/* misaligned */
	CHECK_EQ(filemap_add_folio(m, a, 14), -EINVAL);	/* runs off the end */
	CHECK_EQ(filemap_add_folio(m, a, 0), -EEXIST);	/* overlaps g at 3 */
	folio_unlock(a);
	folio_put(a);

	a = folio_alloc_anon(0);
	folio_lock(a);
	CHECK_EQ(filemap_add_folio(m, a, 0), -EINVAL);	/* anon */
	folio_unlock(a);
	folio_put(a);

	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(address_space_destroy(m), -EBUSY);	/* not empty */
	CHECK_EQ(truncate_inode_pages_range(m, 0, 100), 2);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

static void test_remove_keeps_caller_ref(void)
{
	struct address_space *m;
	struct folio *f;

	ft_world_up(1024);
	m = address_space_create(8);
	f = ft_cache_folio(m, 0, 1);
	f = filemap_get_folio(m, 1);
	CHECK(f != NULL);
	folio_lock(f);
	filemap_remove_folio(f);
	CHECK(folio_mapping(f) == NULL);
	CHECK_EQ(folio_index(f), 0);	/* index kept, as the kernel does */
	CHECK_EQ(folio_ref_count(f), 1);
	filemap_remove_folio(f);	/* already removed: no-op */
	CHECK_EQ(folio_ref_count(f), 1);
	folio_unlock(f);
	CHECK(filemap_get_folio(m, 0) == NULL);
	folio_put(f);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

static void test_truncate_partial(void)
{
	struct address_space *m;

	ft_world_up(1024);
	m = address_space_create(64);
	for (unsigned long i = 0; i < 64; i += 4)
		CHECK(ft_cache_folio(m, i, i % 8 ? 0 : 2) != NULL);
	/* [6, 17): the order-2 folio at 8 and 16, the order-0 one at 12 */
	CHECK_EQ(truncate_inode_pages_range(m, 6, 17), 3);
	CHECK(filemap_get_folio(m, 8) == NULL);
	CHECK(filemap_get_folio(m, 16) == NULL);
	struct folio *f = filemap_get_folio(m, 4);

	CHECK(f != NULL);
	if (f)
		folio_put(f);
	CHECK_EQ(ft_check(NULL, 0, NULL), 0);
	CHECK_EQ(truncate_inode_pages_range(m, 0, 64), 13);
	CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

static void test_trylock(void)
{
	struct folio *f;

	ft_world_up(1024);
	f = folio_alloc(0);
	CHECK(folio_trylock(f));
	CHECK(folio_test_locked(f));
	CHECK(!folio_trylock(f));
	folio_unlock(f);
	CHECK(!folio_test_locked(f));
	folio_lock(f);
	folio_unlock(f);
	folio_put(f);
	ft_world_down();
}

/* Lock contention: a counter under the folio lock never loses an update. */
static struct folio *lock_folio;
static long lock_counter;

static void *locker(void *arg)
{
	for (int i = 0; i < 20000; i++) {
		folio_lock(lock_folio);
		lock_counter++;	/* plain: the folio lock must order it */
		if (i % 64 == 0)
			usleep(1);	/* hold it sometimes: make waiters sleep */
		folio_unlock(lock_folio);
	}
	return NULL;
}

static void test_lock_contention(void)
{
	pthread_t t[4];

	ft_world_up(1024);
	lock_folio = folio_alloc(0);
	lock_counter = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, locker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(lock_counter, 4 * 20000);
	CHECK(!folio_test_locked(lock_folio));
	folio_put(lock_folio);
	ft_world_down();
}

/*
 * A file too large for its slot array: address_space_create gives back
 * what it took and returns NULL.  2^58 slots ask for 2^61 bytes, which
 * aligned_alloc refuses.  Not under ASan or TSan: their allocators report
 * an impossible size as an error and stop the process
 * (allocator_may_return_null is off in sanitizers/options.c).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FT_SAN_ALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FT_SAN_ALLOC 1
#endif

static void test_create_too_large(void)
{
	ft_world_up(1024);
#ifndef FT_SAN_ALLOC
	CHECK(address_space_create(1ul << 58) == NULL);
#endif
	/* the world still works, and holds no half-made file */
	struct address_space *m = address_space_create(4);

	CHECK(m != NULL);
	if (m)
		CHECK_EQ(address_space_destroy(m), 0);
	ft_world_down();
}

int main(void)
{
	folio_thread_online();
	FT_RUN(test_add_and_lookup);
	FT_RUN(test_add_errors);
	FT_RUN(test_remove_keeps_caller_ref);
	FT_RUN(test_truncate_partial);
	FT_RUN(test_trylock);
	FT_RUN(test_lock_contention);
	FT_RUN(test_create_too_large);
	folio_thread_offline();
	return ft_done();
}
