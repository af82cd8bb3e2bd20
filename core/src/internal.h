/* SPDX-License-Identifier: MIT */
/*
 * internal.h - state shared between core/src files; not part of the API.
 */
#ifndef FOLIO_INTERNAL_H
#define FOLIO_INTERNAL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/list.h>

#include "folio/atomic.h"
#include "folio/memmap.h"
#include "folio/pgtable.h"
#include "folio/rcu.h"

struct kmem_cache;

/* The slab descriptor a SLAB page's memmap word points at. */
struct slab {
	struct kmem_cache *cache;
	unsigned long pfn;
	void *freelist;
	unsigned int inuse;
	unsigned int objects;
	struct cds_list_head list;	/* on the cache's partial or full list */
	struct folio_rcu_head rcu;	/* deferred page free (TYPESAFE_BY_RCU) */
};	/* 16-byte aligned in memory: slab object sizes are rounded to 16 */

/* A PTE table page's descriptor (memmap type PTDESC). */
struct ptdesc {
	struct fl_lock ptl;
	unsigned long pfn;
	struct cds_list_head deposit_link;	/* on mm->deposits, if deposited */
	struct folio_rcu_head rcu;
};	/* 16-byte aligned in memory: slab object sizes are rounded to 16 */

struct folio_world {
	bool live;
	unsigned long nr_pages;
	unsigned int pmd_order;
	void *membase;			/* nr_pages * PAGE_SIZE, NORESERVE */
	size_t maplen;			/* the mapping's length (reused: >=) */
	struct fl_lock files_lock;
	struct cds_list_head files;	/* every address_space */
	unsigned int next_file_id;
	struct fl_lock mms_lock;	/* before any pmd_lock or PTL */
	struct cds_list_head mms;	/* every mm_struct */
	unsigned int next_mm_id;
};

extern struct kmem_cache *ptdesc_cache;

/* ksm.c: write-protect descriptors (folio/ksm.h) */
struct wp_desc;
extern struct kmem_cache *wp_desc_cache;
int wp_desc_cache_init(void);
void wp_desc_free(struct wp_desc *d);

extern struct folio_world folio_world;

/* page_alloc.c */
int buddy_init(unsigned long nr_pages, unsigned int pmd_order);
void buddy_destroy(void);
/* Is this BUDDY word the first page of a free block (not a tail)? */
bool buddy_word_is_block_head(memdesc_t w);
/* Walk free blocks (checker).  fn returns non-zero to stop; -EFAULT = corrupt. */
int buddy_for_each_free_block(int (*fn)(unsigned long pfn, unsigned int order,
					void *ctx),
			      void *ctx);

/* page_data.c: the pages' contents, for a world of @nr_pages */
int page_data_init(unsigned long nr_pages);
void page_data_destroy(void);

/* percpu.c: forget the CPUs seen (a new world) */
void percpu_reset(void);

/* slab.c */
int slab_init(void);
void slab_destroy(void);
struct slab *virt_to_slab(const void *obj);
unsigned long slab_nr_pages(void);	/* pages held by all caches */

/* pgtable.c */
struct ptdesc *pte_alloc_one(void);
/* pgtable_trans_huge_{deposit,withdraw}: the table kept for a PMD leaf
 * (mm->pmd_lock held). */
void pgtable_trans_huge_deposit(struct mm_struct *mm, struct ptdesc *pt);
struct ptdesc *pgtable_trans_huge_withdraw(struct mm_struct *mm);
void pte_free_rcu(struct ptdesc *pt);
/* flush_tlb_mm for stores: wait for every CPU store through @mm that may
 * have checked its entry before now (memory.c). */
void mm_flush_stores(struct mm_struct *mm);
/* memory.c: clear the PMD leaf at @va under pmd_lock, if it maps @only
 * (any leaf if NULL); returns the mappings removed (0 or 1). */
int zap_huge_pmd(struct mm_struct *mm, unsigned long va,
		 const struct folio *only);

/* deferred_split.c */
void deferred_split_init(void);
/* Checker: visit every queued folio under the queue lock; returns count. */
unsigned long deferred_split_walk(void (*fn)(struct folio *f, void *ctx),
				  void *ctx);

/* slab.c: ASan poisoning of pages back in the buddy allocator */
void page_poison(unsigned long pfn);
void page_unpoison(unsigned long pfn);

/* lock.c */
void folio_wait_table_init(void);
void folio_wait_table_destroy(void);

/* folio_debug_name()'s helpers, one per file that owns named objects. */
int page_alloc_debug_name(const void *addr, char *buf, size_t n);
int slab_debug_name(const void *addr, char *buf, size_t n);
int lock_debug_name(const void *addr, char *buf, size_t n);

/*
 * Zeroed memory that starts and ends on a cache-line boundary, for the
 * objects one thread writes while another writes its neighbour: an mm
 * (pmd_lock, the deposit list) and its PMD array, a file (i_pages_lock)
 * and its slots.  From calloc() two mms, or one file's slots and the
 * next file's lock, shared a line, and each worker of the private
 * scenario (one mm, one file each) paid the other's writes.  Free with
 * free_lines().  In the scheduled build the range is shared model memory
 * for the plain-access steps and the race detector (folio/sched.h).
 */
static inline void *zalloc_lines(size_t size)
{
	size_t sz = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, sz ? sz : 64);

	if (p) {
		memset(p, 0, sz ? sz : 64);
#ifdef FOLIO_SCHED
		folio_sched_shared_add(p, sz ? sz : 64);
#endif
	}
	return p;
}

static inline void free_lines(const void *p)
{
#ifdef FOLIO_SCHED
	if (p)
		folio_sched_shared_del(p);
#endif
	free((void *)p);
}

#endif /* FOLIO_INTERNAL_H */
