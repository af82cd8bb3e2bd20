/* SPDX-License-Identifier: MIT */
/*
 * bench_memory.c - metadata bytes per simulated page.
 *
 * For folio orders 0, 2, 4 and 9: bring up a world, allocate folios of that
 * order until MEM_FILL of memory is in use (folio pages plus the slab pages
 * their descriptors live in), and read folio_world_get_stats():
 *   memmap      sizeof(memdesc_t) = 8 bytes for every page;
 *   descriptor  slab_pages * PAGE_SIZE (folio slabs and the struct slab
 *               slabs) spread over the folio pages allocated.
 * Printed beside the kernel's 64 bytes of struct page per page.  Then every
 * folio is freed and folio_world_destroy() must report no leak.
 *
 * Run: build/release/bench/folio_bench --only memory
 */
#include <stdio.h>
#include <stdlib.h>

#include "folio/folio.h"
#include "folio/page_alloc.h"
#include "folio/world.h"
#include "bench.h"

#define MEM_FILL 0.90
#define KERNEL_STRUCT_PAGE 64	/* bytes per page for struct page */

static const unsigned int mem_orders[] = { 0, 2, 4, 9 };

struct mem_result {
	unsigned long folios;
	unsigned long folio_pages;
	unsigned long slab_pages;
	unsigned long objs_per_slab;
	double memmap_bpp;	/* bytes per folio page */
	double desc_bpp;
};

static int mem_measure(const struct bench_opts *o, unsigned int order,
		       struct mem_result *r)
{
	struct folio_config cfg = { .nr_pages = o->mem_pages };
	unsigned long max = o->mem_pages >> order, n = 0, leaks;
	unsigned long want = (unsigned long)(MEM_FILL * (double)o->mem_pages);
	struct folio_world_stats st;
	const struct kmem_cache_stats *cs;
	struct folio **fs;
	int err = 0;

	fs = calloc(max ? max : 1, sizeof(*fs));
	if (!fs)
		return -1;
	if (folio_world_init(&cfg)) {
		fprintf(stderr, "memory: folio_world_init failed\n");
		free(fs);
		return -1;
	}
	while (n < max && o->mem_pages - nr_free_pages() < want) {
		fs[n] = folio_alloc(order);
		if (!fs[n])
			break;
		n++;
	}
	folio_world_get_stats(&st);
	r->folios = n;
	r->folio_pages = n << order;
	r->slab_pages = st.slab_pages;
	/* order-sized descriptors: order 0 in folio_cache, else large_folio_cache */
	cs = order ? &st.large_folio_cache : &st.folio_cache;
	r->objs_per_slab = cs->nr_slabs ? cs->nr_objs / cs->nr_slabs : 0;
	if (!n || st.nr_pages - st.free_pages < want) {
		fprintf(stderr, "memory: order %u: filled only %lu of %lu pages\n",
			order, st.nr_pages - st.free_pages, st.nr_pages);
		err = -1;
	} else {
		r->memmap_bpp = (double)sizeof(memdesc_t);
		r->desc_bpp = (double)st.slab_pages * PAGE_SIZE /
			      (double)r->folio_pages;
	}
	while (n)
		folio_put(fs[--n]);
	free(fs);
	leaks = folio_world_destroy(stderr);
	if (leaks) {
		fprintf(stderr, "memory: order %u: world leaked %lu\n", order,
			leaks);
		err = -1;
	}
	return err;
}

int bench_memory(const struct bench_opts *o)
{
	printf("\n== memory: memmap + descriptor bytes per page ==\n");
	printf("   %lu pages per world, filled to %.0f%%; sizeof(memdesc_t)=%zu, sizeof(struct folio)=%zu (order 0), sizeof(struct large_folio)=%zu\n",
	       o->mem_pages, MEM_FILL * 100, sizeof(memdesc_t),
	       sizeof(struct folio), sizeof(struct large_folio));
	printf("  %5s  %8s  %10s  %10s  %9s  %10s  %10s  %9s  %6s\n", "order",
	       "folios", "folio pgs", "slab pgs", "objs/slab", "memmap B/p",
	       "desc B/p", "total B/p", "kernel");
	for (size_t i = 0; i < sizeof(mem_orders) / sizeof(mem_orders[0]);
	     i++) {
		unsigned int order = mem_orders[i];
		struct mem_result r = { 0 };
		double total;

		if (mem_measure(o, order, &r))
			return -1;
		total = r.memmap_bpp + r.desc_bpp;
		printf("  %5u  %8lu  %10lu  %10lu  %9lu  %10.2f  %10.3f  %9.3f  %6d\n",
		       order, r.folios, r.folio_pages, r.slab_pages,
		       r.objs_per_slab, r.memmap_bpp, r.desc_bpp, total,
		       KERNEL_STRUCT_PAGE);
		printf("BENCH memory order=%u folios=%lu slab_pages=%lu memmap_bytes_per_page=%.2f desc_bytes_per_page=%.3f total_bytes_per_page=%.3f kernel_bytes_per_page=%d\n",
		       order, r.folios, r.slab_pages, r.memmap_bpp, r.desc_bpp,
		       total, KERNEL_STRUCT_PAGE);
		fflush(stdout);
	}
	return 0;
}
