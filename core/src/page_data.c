/* SPDX-License-Identifier: MIT */
/*
 * page_data.c - the simulated pages' contents (folio/page_data.h,
 * docs/design.md 5.16): the array, and the zero and copy of whole pages.
 */
#include <errno.h>
#include <stdlib.h>

#include "folio/page_data.h"
#include "internal.h"

_Atomic uint64_t *folio_page_data;
_Atomic(folio_access_fn) folio_access_hook;

/* The last world's array, kept for the next one (a fuzzer makes a world
 * per input); every word is written at init, so nothing of it leaks. */
static _Atomic uint64_t *spare;
static unsigned long spare_nr;

int page_data_init(unsigned long nr_pages)
{
	if (spare && spare_nr >= nr_pages) {
		folio_page_data = spare;
	} else {
		free((void *)spare);
		spare_nr = nr_pages;
		folio_page_data = malloc(nr_pages * sizeof(*folio_page_data));
	}
	spare = NULL;
	if (!folio_page_data)
		return -ENOMEM;
	/*
	 * "Never written": a path that maps a page without filling it shows
	 * this, which no fill and no harness write can produce, even on a
	 * page no one owned before (a fresh page would read 0 otherwise,
	 * and a missing zero-fill would pass).  The same in every world, so
	 * an input replays alike whatever ran before it.
	 */
	for (unsigned long pfn = 0; pfn < nr_pages; pfn++)
		atomic_init(&folio_page_data[pfn], PAGE_DATA_POISON ^ pfn);
	return 0;
}

void page_data_destroy(void)
{
	if (folio_nr_pages_total <= (1ul << 20)) {	/* 8 MiB: keep it */
		spare = folio_page_data;
	} else {
		free((void *)folio_page_data);
	}
	folio_page_data = NULL;
}

void clear_page_data(unsigned long pfn, unsigned long nr)
{
	for (unsigned long i = 0; i < nr; i++)
		page_data_write(pfn + i, 0);
}

void copy_page_data(unsigned long dst, unsigned long src, unsigned long nr)
{
	for (unsigned long i = 0; i < nr; i++)
		page_data_write(dst + i, page_data_read(src + i));
}
