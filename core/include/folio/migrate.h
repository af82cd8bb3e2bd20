/* SPDX-License-Identifier: MIT */
/*
 * folio/migrate.h - migration of one folio to new pages (kernel:
 * migrate_pages -> migrate_folio_unmap, move_to_new_folio,
 * __folio_migrate_mapping, remove_migration_ptes), docs/design.md 5.14.
 */
#ifndef FOLIO_MIGRATE_H
#define FOLIO_MIGRATE_H

#include "folio/folio.h"

/*
 * Move @folio (anon or page cache) to a new folio of the same order and
 * type.  The caller holds a reference (the isolation one) and the folio
 * lock.  Returns 0: the data, flags, page-cache slots, mappings and
 * deferred-split queue membership are the new folio's, and the old one is
 * gone with the caller's reference and lock (unlocked and put here: it is
 * freed with the last reference); or, with the folio still held and
 * locked: -EAGAIN (pins or another reference, found by the pre-check or
 * the freeze at folio_expected_ref_count + 1), -EBUSY (a truncated file
 * folio), -ENOMEM.  A PMD mapping comes back as PTEs (no PMD migration
 * entries in the model).
 */
int migrate_folio(struct folio *folio);

#endif /* FOLIO_MIGRATE_H */
