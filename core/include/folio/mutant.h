/* SPDX-License-Identifier: MIT */
/*
 * folio/mutant.h - known bugs the build can put back, one at a time, to
 * measure whether (and how fast) the harness finds them.
 *
 *   cmake -DFOLIO_MUTANT=<name> ...   (or FOLIO_MUTANT_ID in a target)
 *
 * Each site reads
 *
 *   if (FOLIO_MUTANT_IS(name))
 *           ... the bug ...
 *   else
 *           ... the correct code ...
 *
 * and `grep -rn FOLIO_MUTANT_IS core/` lists every site.  The condition is
 * a compile-time constant: the default build (no mutant) compiles the
 * correct branch only.
 *
 * | name              | the bug put back                                   | kernel fix it undoes                                           | breaks                          | window |
 * |-------------------|-----------------------------------------------------|----------------------------------------------------------------|---------------------------------|--------|
 * | gup_no_recheck    | GUP-fast trusts the folio it decoded: no recheck    | mm/gup: fix try_grab_compound_head() race with                 | I-ref, I-pin (a reference or    | R2: decode .. grab vs split or |
 * |                   | of the memmap word nor of the run inside the folio  | split_huge_page()                                              | pin on the wrong folio)         | free and reuse                 |
 * | filemap_no_reload | the page-cache lookup returns the folio it got a    | (the xas_reload() of filemap_get_entry / find_get_entry,       | the lookup's identity (a folio  | R5: load .. try_get vs         |
 * |                   | reference on without reloading the slot             | since the lockless page cache, 2.6.27)                         | of another index or owner)      | truncate and reuse             |
 * | mapcount_plain    | the PTE rmap add and remove are plain               | (the class of bug KCSAN reports: a counter updated under two   | I-map (a lost update); a data   | a zap in one mm (its PTL) vs a |
 * |                   | read-modify-writes of _mapcount: a zap in one mm    | different locks)                                               | race for TSan, which is what    | map in another (its PTL and    |
 * |                   | and a map in another hold no common lock            |                                                                | fuzz_sched's tsan build shows   | the folio lock)                |
 * | lazyfree_swapbacked_any | lazyfree reclaim sets swapbacked on any failure | mm: set folio swapbacked iff folios are dirty in                 | the model's rule (fuzz_ops:     | none: one thread, a reference  |
 * |                   | to discard (an extra reference), not only when dirty | try_to_unmap_one                                              | model-swapbacked); a clean      | held while reclaim runs        |
 * |                   |                                                      |                                                                | folio never freed by reclaim    |                                |
 * | split_unfreeze_new_early | split publishes a new folio (memmap words, count) | mm/huge_memory.c: reorder operations in                        | I-ref / I-pin / the lock (a     | R1': pfn get or GUP of a tail  |
 * |                   | before its flags, counts, mapping and index are set  | __split_huge_page_tail()                                       | getter's lock bit, pin or       | page vs split's field stores   |
 * |                   |                                                      |                                                                | mapcount overwritten)           |                                |
 * | split_unfreeze_orig_early | split unfreezes the original folio before the | (__split_huge_page()'s order: tails into the page cache, then   | a lookup's identity: the old    | R1: lookup of a tail index vs  |
 * |                   | page-cache slots hold the new folios                | the head unfrozen; no single fix commit)                       | folio returned for an index it  | split step 6                   |
 * |                   |                                                      |                                                                | no longer covers                |                                |
 * | split_dsq_unlocked | anon split freezes, and so unqueues, outside the    | (thp: introduce deferred_split_huge_page(): the freeze under    | I-dsq (queue length or list),   | R7: the scanner's list walk vs |
 * |                   | deferred-split queue lock ("frozen, so ours")       | split_queue_lock)                                              | a data race for TSan            | split's unlocked unqueue       |
 * | slab_no_grace     | an emptied slab of a TYPESAFE_BY_RCU cache goes back | (SLAB_TYPESAFE_BY_RCU's contract: the slab page is freed      | a stale reader reads a page     | R5: a reader's stale pointer   |
 * |                   | to the buddy allocator at once, not after a GP      | through call_rcu, rcu_free_slab())                             | that is no longer a descriptor  | vs the slab page's reuse       |
 * |                   |                                                      |                                                                | (ASan; I-memmap; a wild get)    |                                |
 * | try_get_plain     | folio_try_get as load, test, store: not one atomic  | (get_page_unless_zero() as one atomic_add_unless(), since the  | I-ref (a lost put or a get that | two getters, or a get vs a put |
 * |                   | step                                                | lockless page cache, 2.6.27)                                   | revives a frozen or free folio) | or freeze, between load/store  |
 * | unpin_ref_first   | unpin drops the references before _pincount         | (gup_put_folio(): _pincount first, since "mm/gup: track        | I-pin (pincount on a free or    | the last put frees it before   |
 * |                   |                                                      | FOLL_PIN pages", 2020)                                         | reused descriptor; A-free)      | the pincount drops             |
 *
 * Bugs whose only harm is data (docs/design.md 5.16): every count, table
 * and queue stays consistent; the data oracles (rule "data", or
 * "model-data") are what see them.
 *
 * | gup_no_pmd_recheck | GUP-fast rechecks the PTEs after its grab, not the  | mm: gup: fix the fast GUP race against THP collapse            | data: a DMA write through the   | R4: GUP's PTE read .. grab vs  |
 * |                   | PMD                                                  | (70cbc3cc78a9, 2022)                                           | pin is lost (collapse copied    | collapse's PMD clear and       |
 * |                   |                                                      |                                                                | the page away before it)        | refcount read                  |
 * | lazyfree_ignore_refs | lazyfree reclaim discards a clean page whatever  | mm: fix race between MADV_FREE reclaim and blkdev direct IO    | data: the page vanishes under a | R3: a GUP reference taken      |
 * |                   | other references it has (a GUP, direct I/O)          | read (6c8e2a256915, 2022)                                      | GUP reference; the write into   | before reclaim's clear         |
 * |                   |                                                      |                                                                | it is lost, the process reads 0 |                                |
 * | cow_reuse_mapcount | the write fault reuses a shared anon page when it   | mm: do_wp_page() simplification (09854ba94c6a, 2020),           | data: a GUP reference of another| none: sequential (fork, GUP in |
 * |                   | is mapped once, whatever references others hold      | CVE-2020-29374                                                 | process sees this one's writes  | the child, child unmaps, write)|
 * | pmd_invalidate_plain | split_huge_pmd invalidates the leaf with a store | mm: Do not lose dirty and access bits in pmdp_invalidate()    | data: a written lazyfree page   | split's PMD read .. invalidate |
 * |                   | of the value it read, not an exchange: a dirty bit   | (ced108037c2a, 2018)                                           | loses its dirty bit and reclaim | vs a CPU store (the hardware   |
 * |                   | the hardware set in between is lost                  |                                                                | discards it                     | takes no lock)                 |
 *
 * Write protection (KSM-style merging, docs/design.md 5.17):
 *
 * | wp_check_before_clear | the merge reads the count, then clears the    | (write_protect_page's order: ptep_clear_flush, then the count; | data: a DMA write through a GUP | R15: the merge's count read .. |
 * |                   | entry: a GUP-fast that grabs and rechecks in between | its comment says why, GUP-fast takes no lock)                  | reference is lost (the merge    | clear vs GUP-fast's grab and   |
 * |                   | is never seen                                        |                                                                | replaced its page)              | recheck                        |
 * | wp_keep_exclusive | the merge write-protects the entries but leaves      | mm: remember exclusively mapped anonymous pages with          | I-wp; a R/O pin of the shared   | none: sequential (merge, pin)  |
 * |                   | PG_anon_exclusive set                                | PG_anon_exclusive (6c287605fd56, 2022: page_try_share_anon_rmap | page without an unshare         |                                |
 * |                   |                                                      | in write_protect_page)                                          |                                 |                                |
 * | gup_unshare_stale_pte | GUP-fast judges "must unshare" by the entry it  | (the kernel rechecks the whole pte_val; the model's own bug,   | I-excl: a pinned anon page that | R15: GUP's read .. grab vs a   |
 * |                   | read before its grab, not by the rechecked one       | found by merge-vs-gup)                                          | is not exclusive                | merge's write-protect          |
 *
 * Ordering bugs (docs/design.md 8.3): one barrier or one memory order
 * weakened.  Every interleaving of the statements is still correct, so
 * fuzz_sched in sc mode cannot see them; its weak memory modes can
 * (FT_SCHED_MM=tso|pso|arm), as an arm64 or POWER machine would.
 *
 * | collapse_clear_plain | collapse clears the PMD with a plain store and no | mm: gup: fix the fast GUP race against THP collapse             | data (a DMA write lost), I-ref | R4, store->load: tso, pso, arm |
 * |                   | barrier before it reads the sources' counts          | (70cbc3cc78a9, 2022: the full barrier GUP-fast pairs with)      |                                 |                                |
 * | lazyfree_no_mb    | lazyfree reclaim reads the counts with no smp_mb     | mm: fix race between MADV_FREE reclaim and blkdev direct IO     | data (the page goes under a pin)| R3, store->load: pso, arm (an  |
 * |                   | after clearing the entries (relaxed xchg)            | read (6c8e2a256915, 2022: the smp_mb it added)                  |                                 | x86 xchg is a full barrier)    |
 * | split_unfreeze_relaxed | split unfreezes the original folio with a plain  | mm/page_ref: use atomic_set_release in page_ref_unfreeze()     | I-ref, I-pin (GUP-fast reads the| R2, store->store: pso, arm     |
 * |                   | store, not a release                                 | (2018)                                                          | old order)                      |                                |
 * | fork_seq_relaxed  | fork makes write_protect_seq odd with an unordered   | mm/gup: prevent gup_fast from racing with COW during fork       | data (a pin on a page fork      | R14, store->load: pso, arm     |
 * |                   | increment                                            | (57efa1fe5957, 2021)                                            | shared: COW takes it away)      |                                |
 * | filemap_publish_relaxed | the page cache publishes a folio with a plain | (the lockless page cache's rcu_assign_pointer of the slot,     | lookup-identity (a folio whose  | R5, store->store: pso, arm     |
 * |                   | store of the slot, not a release                     | 2.6.27; xas_store)                                              | index and mapping are stale)    |                                |
 * | split_pmd_populate_relaxed | split_huge_pmd installs the PTE table with a | (__split_huge_pmd_locked's "smp_wmb(); make pte visible before | data (a CPU finds nothing       | store->store: pso, arm         |
 * |                   | plain store: no smp_wmb after filling its PTEs       | pmd", since the THP refcounting rework, 2016)                   | mapped where a page is)         |                                |
 */
#ifndef FOLIO_MUTANT_H
#define FOLIO_MUTANT_H

#define FOLIO_MUTANT_LIST(X)         \
	X(gup_no_recheck)            \
	X(filemap_no_reload)         \
	X(mapcount_plain)            \
	X(lazyfree_swapbacked_any)   \
	X(split_unfreeze_new_early)  \
	X(split_unfreeze_orig_early) \
	X(split_dsq_unlocked)        \
	X(slab_no_grace)             \
	X(try_get_plain)             \
	X(unpin_ref_first)           \
	X(gup_no_pmd_recheck)        \
	X(lazyfree_ignore_refs)      \
	X(cow_reuse_mapcount)        \
	X(pmd_invalidate_plain)      \
	X(collapse_clear_plain)      \
	X(lazyfree_no_mb)            \
	X(split_unfreeze_relaxed)    \
	X(fork_seq_relaxed)          \
	X(filemap_publish_relaxed)   \
	X(split_pmd_populate_relaxed) \
	X(gup_unshare_stale_pte)     \
	X(wp_check_before_clear)     \
	X(wp_keep_exclusive)

#define FOLIO_MUTANT_ENUM_(n) FOLIO_MUTANT_ID_##n,
enum folio_mutant_id {
	FOLIO_MUTANT_ID_none,
	FOLIO_MUTANT_LIST(FOLIO_MUTANT_ENUM_)
	FOLIO_MUTANT_ID_NR,
};
#undef FOLIO_MUTANT_ENUM_

#ifndef FOLIO_MUTANT_ID
#define FOLIO_MUTANT_ID FOLIO_MUTANT_ID_none
#endif

#define FOLIO_MUTANT_IS(n) (FOLIO_MUTANT_ID == FOLIO_MUTANT_ID_##n)

/* The mutant compiled in, or NULL. */
const char *folio_mutant_name(void);

#endif /* FOLIO_MUTANT_H */
