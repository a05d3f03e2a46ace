package store

// Store operations of the sync engine (package syncer) that need one
// transaction across items, permissions and the delta checkpoint.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/overshare/overshare/models"
)

// SyncPage is everything one delta page changes, written by CommitSyncPage
// in ONE transaction.
type SyncPage struct {
	// Items are upserted, stamped with the drive's generation (for the
	// sweep) and with the integration and drive ids. When the same id
	// appears twice the last one wins.
	Items []models.DriveItem
	// DeletedIDs are removed with their permissions and their descendants.
	DeletedIDs []string
	// Permissions replaces the stored permissions of each listed item: rows
	// not in its list are deleted, the others upserted, and an empty list
	// leaves none. It maintains the items' has_own_permissions and
	// sharing_flags; items not listed are left alone.
	Permissions map[string][]models.Permission
	// NextLink continues the round; DeltaLink ends it (exactly one is set).
	NextLink, DeltaLink string
	// ItemsSeen is the round's running count, saved with the checkpoint.
	ItemsSeen int64
	// Sweep, on the last page of a full enumeration, deletes the drive's
	// items not written in this generation and clears round_full.
	Sweep bool
	// RecomputePaths, on the last page, recomputes the drive's paths and
	// webUrls from the parent chains (see recomputePathsTx).
	RecomputePaths bool
	// SweptAt, with Sweep, is recorded as the drive's swept_at and
	// roots_refreshed_at (a full enumeration reads every root).
	SweptAt time.Time
}

// CommitSyncPage writes one delta page: items, deletions, the candidates'
// permissions and the drive's checkpoint, and on the last page the sweep
// and the path recompute, all in one transaction. A crash leaves either
// the state before the page or the state after it; re-applying a page is
// harmless (upserts are idempotent, deleting a missing row is a no-op).
func (s *Store) CommitSyncPage(ctx context.Context, integrationID, driveID string, p SyncPage) error {
	err := s.inTx(ctx, func(t *tx) error {
		if t.dialect == Postgres {
			// The page and its checkpoint commit together, so a commit
			// that a database crash loses (the last fraction of a second
			// of them) only means the page is fetched again from the
			// checkpoint before it: no need to wait for the WAL flush.
			if err := t.db.Exec(`SET LOCAL synchronous_commit = off`).Error; err != nil {
				return fmt.Errorf("relax commit durability: %w", err)
			}
		}
		st, err := syncState(t, integrationID, driveID)
		if err != nil {
			return err
		}
		gen := st.Generation
		stamp := now()
		var rootID string
		p.Items = dedupeItems(p.Items)
		page := make(map[string]*models.DriveItem, len(p.Permissions))
		for i := range p.Items {
			it := &p.Items[i]
			page[it.ID] = it
			it.IntegrationID, it.DriveID, it.SeenGeneration, it.SyncedAt = integrationID, driveID, gen, stamp
			it.CreatedDateTime = utcPtr(it.CreatedDateTime)
			it.LastModifiedDateTime = utcPtr(it.LastModifiedDateTime)
			if it.IsRoot {
				rootID = it.ID
			}
			if perms, ok := p.Permissions[it.ID]; ok {
				it.HasOwnPermissions, it.SharingFlags = sharingStateOf(perms, t.now)
			}
		}
		if err := s.upsertItems(ctx, t, p.Items); err != nil {
			return err
		}
		if rootID != "" {
			if err := t.db.Exec(`UPDATE drives SET root_id = ? WHERE integration_id = ? AND id = ? AND root_id <> ?`,
				rootID, integrationID, driveID, rootID).Error; err != nil {
				return fmt.Errorf("set drive root: %w", err)
			}
		}
		if err := deleteItemTrees(t, integrationID, driveID, p.DeletedIDs); err != nil {
			return err
		}
		// Until the drive's first full round has ended, sharing found is first seen.
		cause := syncCause(st.SweptAt == nil)
		if err := s.replacePermissionsTx(ctx, t, integrationID, driveID, p.Permissions, cause, page); err != nil {
			return err
		}
		cp := models.DriveSyncState{ItemsSeen: p.ItemsSeen}
		if p.NextLink != "" {
			cp.NextLink = &p.NextLink
		} else {
			cp.DeltaLink = &p.DeltaLink
		}
		if err := saveCheckpoint(t, integrationID, driveID, cp); err != nil {
			return err
		}
		if p.NextLink != "" {
			return nil
		}
		if p.Sweep {
			if err := sweepTx(t, integrationID, driveID, gen); err != nil {
				return err
			}
			if !p.SweptAt.IsZero() {
				at := utc(p.SweptAt)
				if err := t.db.Exec(`UPDATE drive_sync_states SET swept_at = ?, roots_refreshed_at = ? WHERE integration_id = ? AND drive_id = ?`,
					at, at, integrationID, driveID).Error; err != nil {
					return fmt.Errorf("record sweep: %w", err)
				}
			}
		}
		if p.RecomputePaths {
			_, err := recomputePathsTx(t, integrationID, driveID)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit delta page of drive %s: %w", driveID, err)
	}
	return nil
}

// deleteItemTrees removes items, every item below them and their
// permissions.
func deleteItemTrees(t *tx, integrationID, driveID string, ids []string) error {
	return forChunks(ids, 500, func(chunk []string) error {
		tree := `WITH RECURSIVE sub (id) AS (
	SELECT id FROM drive_items WHERE integration_id = ? AND drive_id = ? AND id IN ?
  UNION
	SELECT c.id FROM drive_items c JOIN sub ON c.parent_id = sub.id WHERE c.integration_id = ? AND c.drive_id = ?
) `
		args := []any{integrationID, driveID, chunk, integrationID, driveID, integrationID}
		h, err := beginHistoryWhere(t, integrationID, deletedCause,
			`p.item_id IN (`+tree+`SELECT id FROM sub)`, integrationID, driveID, chunk, integrationID, driveID)
		if err != nil {
			return err
		}
		if err := t.db.Exec(tree+`DELETE FROM permissions WHERE integration_id = ? AND item_id IN (SELECT id FROM sub)`, args...).Error; err != nil {
			return fmt.Errorf("delete permissions of deleted items: %w", err)
		}
		if err := t.db.Exec(tree+`DELETE FROM drive_items WHERE integration_id = ? AND id IN (SELECT id FROM sub)`, args...).Error; err != nil {
			return fmt.Errorf("delete items: %w", err)
		}
		// Permission rows keyed by an id the page did not know as an item.
		if err := t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN ?`, integrationID, chunk).Error; err != nil {
			return fmt.Errorf("delete permissions of unknown items: %w", err)
		}
		return h.finish(t, nil, nil)
	})
}

// replacePermissionsTx writes SyncPage.Permissions (see there) in the
// caller's transaction. Items are handled in id order, a stable lock order
// between concurrent writers; a permission listed twice for an item is
// written once, the last one winning.
//
// The change of each item's own sharing is recorded as its history (history.go) with cause;
// page holds the items Graph gave with the permissions, if any.
func (s *Store) replacePermissionsTx(ctx context.Context, t *tx, integrationID, driveID string, byItem map[string][]models.Permission,
	cause historyCause, page map[string]*models.DriveItem) error {
	if len(byItem) == 0 {
		return nil
	}
	itemIDs := make([]string, 0, len(byItem))
	for id := range byItem {
		itemIDs = append(itemIDs, id)
	}
	sort.Strings(itemIDs)
	h, err := beginHistory(t, integrationID, itemIDs, cause)
	if err != nil {
		return err
	}
	var rows []models.Permission
	stamp := now()
	for _, itemID := range itemIDs {
		seen := map[string]int{}
		for _, p := range byItem[itemID] {
			p.IntegrationID, p.DriveID, p.ItemID, p.SyncedAt = integrationID, driveID, itemID, stamp
			normalizePermission(&p)
			if i, ok := seen[p.ID]; ok {
				rows[i] = p
				continue
			}
			seen[p.ID] = len(rows)
			rows = append(rows, p)
		}
	}
	if t.dialect == Postgres && s.bulk == bulkCopy {
		if err := replacePermissionsCopy(ctx, t, integrationID, itemIDs, rows); err != nil {
			return err
		}
	} else {
		if err := forChunks(itemIDs, 500, func(chunk []string) error {
			return t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN ?`, integrationID, chunk).Error
		}); err != nil {
			return fmt.Errorf("delete old permissions: %w", err)
		}
		if err := gormUpsert(t, permissionsTable, rows); err != nil {
			return err
		}
	}
	if err := refreshPermissionState(t, integrationID, itemIDs); err != nil {
		return err
	}
	return h.finish(t, byItem, page)
}

// sweepTx ends a full round (SyncPage.Sweep): it deletes the drive's items
// (and their permissions) not written in generation gen and clears
// round_full, in the caller's transaction, so a crash before it keeps
// round_full set and the next run sweeps.
func sweepTx(t *tx, integrationID, driveID string, gen int64) error {
	h, err := beginHistoryWhere(t, integrationID, deletedCause,
		`p.item_id IN (SELECT id FROM drive_items WHERE integration_id = ? AND drive_id = ? AND seen_generation < ?)`,
		integrationID, driveID, gen)
	if err != nil {
		return err
	}
	err = t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN
	(SELECT id FROM drive_items WHERE integration_id = ? AND drive_id = ? AND seen_generation < ?)`,
		integrationID, integrationID, driveID, gen).Error
	if err != nil {
		return fmt.Errorf("sweep permissions: %w", err)
	}
	if err := t.db.Exec(`DELETE FROM drive_items WHERE integration_id = ? AND drive_id = ? AND seen_generation < ?`,
		integrationID, driveID, gen).Error; err != nil {
		return fmt.Errorf("sweep items: %w", err)
	}
	if err := h.finish(t, nil, nil); err != nil {
		return err
	}
	return t.db.Exec(`UPDATE drive_sync_states SET round_full = false WHERE integration_id = ? AND drive_id = ?`,
		integrationID, driveID).Error
}

// recomputePathsTx derives every item's path of a drive from its parent
// chain ("/" for the root, "/Folder/file.docx" below it) and its webUrl too.
// Delta returns no paths, and renaming or moving a folder changes its
// descendants' paths without listing them. A OneDrive webUrl is the
// root's webUrl followed by the escaped names along the path, and Graph does
// not report the descendants of a renamed or moved folder, whose paths and
// webUrls change all the same. An item's own escaped name is the last
// segment of the webUrl Graph gave it (an item is reported again when it is
// renamed), so the new webUrl is the parent's new webUrl plus that segment.
// Only rows that change are written (it returns how many); items not
// reachable from the root keep theirs.
func recomputePathsTx(t *tx, integrationID, driveID string) (int64, error) {
	// rtrim(u, replace(u, '/', '')) keeps u up to its last '/', so the
	// substr from that length is the last segment, '/' included. The depth
	// bound stops a parent cycle, which a half-applied round of moves could
	// leave for a moment.
	res := t.db.Exec(`WITH RECURSIVE tree (id, path, url, depth) AS (
	SELECT id, CAST('/' AS text), web_url, 0 FROM drive_items
	WHERE integration_id = ? AND drive_id = ? AND is_root
  UNION ALL
	SELECT c.id, CASE WHEN tree.path = '/' THEN '/' || c.name ELSE tree.path || '/' || c.name END,
		tree.url || substr(c.web_url, length(rtrim(c.web_url, replace(c.web_url, '/', '')))), tree.depth + 1
	FROM drive_items c JOIN tree ON c.parent_id = tree.id
	WHERE c.integration_id = ? AND c.drive_id = ? AND NOT c.is_root AND tree.depth < 10000
)
UPDATE drive_items AS d SET path = tree.path, web_url = tree.url FROM tree
WHERE d.integration_id = ? AND d.id = tree.id AND (d.path <> tree.path OR d.web_url <> tree.url)`,
		integrationID, driveID, integrationID, driveID, integrationID)
	if res.Error != nil {
		return 0, fmt.Errorf("recompute paths: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// SyncUsersWithoutDriveLookup returns which of the listed users have never
// had their drive looked up (has_drive is NULL).
func (s *Store) SyncUsersWithoutDriveLookup(ctx context.Context, integrationID string, userIDs []string) ([]string, error) {
	var out []string
	err := forChunks(userIDs, 500, func(chunk []string) error {
		var ids []string
		if err := s.db.WithContext(ctx).Raw(`SELECT id FROM users WHERE integration_id = ? AND has_drive IS NULL AND id IN ?`,
			integrationID, chunk).Scan(&ids).Error; err != nil {
			return err
		}
		out = append(out, ids...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read users without drive lookup: %w", err)
	}
	return out, nil
}

// SyncUsersKnown reports which of the listed users are stored.
func (s *Store) SyncUsersKnown(ctx context.Context, integrationID string, userIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	err := forChunks(userIDs, 500, func(chunk []string) error {
		var ids []string
		if err := s.db.WithContext(ctx).Raw(`SELECT id FROM users WHERE integration_id = ? AND id IN ?`,
			integrationID, chunk).Scan(&ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			out[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read known users: %w", err)
	}
	return out, nil
}

// SyncItemPath is what the sync engine needs to derive a new item's path.
type SyncItemPath struct {
	ID, ParentID, Name, Path, WebURL string
}

// SyncItemPaths returns the stored parent, name, path and webUrl of the
// listed items of a drive.
func (s *Store) SyncItemPaths(ctx context.Context, integrationID, driveID string, ids []string) (map[string]SyncItemPath, error) {
	out := make(map[string]SyncItemPath, len(ids))
	err := forChunks(ids, 1000, func(chunk []string) error {
		var rows []SyncItemPath
		if err := s.db.WithContext(ctx).Raw(`SELECT id, parent_id, name, path, web_url FROM drive_items WHERE integration_id = ? AND drive_id = ? AND id IN ?`,
			integrationID, driveID, chunk).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out[r.ID] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read item paths: %w", err)
	}
	return out, nil
}
