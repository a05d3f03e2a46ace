package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/overshare/overshare/models"
)

// DeltaPageWrite is what one delta page changes in the database.
type DeltaPageWrite struct {
	// Items are upserted. Each is stamped with the drive's current
	// generation (for SweepDrive) and with the integration and drive ids.
	// When the same id appears twice the last one wins.
	Items []models.DriveItem
	// DeletedIDs are removed together with their permissions. An id must not
	// be in both lists: the caller keeps the last occurrence of an item in
	// the page, as Graph asks.
	DeletedIDs []string
	// Checkpoint is the drive's delta position after this page: NextLink
	// while the round goes on, DeltaLink when it finished. Its DeltaLink,
	// NextLink, ItemsSeen and LastError are saved; Generation and RoundFull
	// belong to StartFullRound and SweepDrive and are left alone.
	Checkpoint models.DriveSyncState
}

// ApplyDeltaPage writes one delta page of a drive and its checkpoint in ONE
// transaction.
//
// This is the crash-safety guarantee of the sync engine: a drive's delta
// position (next link or delta link) is saved only together with the items
// and deletions of the page that produced it. If the process dies at any
// moment, the stored position is either the one before this page (and the
// page's writes are absent, so reading the page again applies it again) or
// the one after it (and every write of the page is present). Re-applying a
// page is harmless: upserts are idempotent and deleting a missing item is a
// no-op, so nothing is lost or duplicated.
func (s *Store) ApplyDeltaPage(ctx context.Context, integrationID, driveID string, page DeltaPageWrite) error {
	err := s.inTx(ctx, func(t *tx) error {
		gen, err := generation(t, integrationID, driveID)
		if err != nil {
			return err
		}
		if err := deleteItems(ctx, t, integrationID, page.DeletedIDs); err != nil {
			return err
		}
		items := dedupeItems(page.Items)
		stamp := now()
		for i := range items {
			it := &items[i]
			it.IntegrationID, it.DriveID, it.SeenGeneration = integrationID, driveID, gen
			it.SyncedAt = stamp
			it.CreatedDateTime = utcPtr(it.CreatedDateTime)
			it.LastModifiedDateTime = utcPtr(it.LastModifiedDateTime)
		}
		if err := s.upsertItems(ctx, t, items); err != nil {
			return err
		}
		return saveCheckpoint(t, integrationID, driveID, page.Checkpoint)
	})
	if err != nil {
		return fmt.Errorf("apply delta page of drive %s: %w", driveID, err)
	}
	return nil
}

func (s *Store) upsertItems(ctx context.Context, t *tx, items []models.DriveItem) error {
	if t.dialect == Postgres && s.bulk == bulkCopy {
		return copyUpsert(ctx, t, itemsTable, len(items), func(i int) []any { return itemValues(&items[i]) })
	}
	return gormUpsert(t, itemsTable, items)
}

// dedupeItems keeps the last occurrence of each id, in first-seen order: one
// INSERT … ON CONFLICT may not touch a row twice.
func dedupeItems(in []models.DriveItem) []models.DriveItem {
	pos := make(map[string]int, len(in))
	out := make([]models.DriveItem, 0, len(in))
	for _, it := range in {
		if i, ok := pos[it.ID]; ok {
			out[i] = it
			continue
		}
		pos[it.ID] = len(out)
		out = append(out, it)
	}
	return out
}

func generation(t *tx, integrationID, driveID string) (int64, error) {
	var st models.DriveSyncState
	err := t.db.Where("integration_id = ? AND drive_id = ?", integrationID, driveID).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read sync state: %w", err)
	}
	return st.Generation, nil
}

func saveCheckpoint(t *tx, integrationID, driveID string, cp models.DriveSyncState) error {
	ts := now()
	err := t.db.Exec(`INSERT INTO drive_sync_states (integration_id, drive_id, delta_link, next_link, items_seen, last_synced_at, last_error)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (integration_id, drive_id) DO UPDATE SET delta_link = excluded.delta_link, next_link = excluded.next_link,
	items_seen = excluded.items_seen, last_synced_at = excluded.last_synced_at, last_error = excluded.last_error`,
		integrationID, driveID, cp.DeltaLink, cp.NextLink, cp.ItemsSeen, ts, cp.LastError).Error
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// deleteItems removes items and their permissions. Deleting an item that is
// not stored is not an error.
func deleteItems(ctx context.Context, t *tx, integrationID string, ids []string) error {
	return forChunks(ids, 500, func(chunk []string) error {
		if err := t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN ?`, integrationID, chunk).Error; err != nil {
			return fmt.Errorf("delete permissions of deleted items: %w", err)
		}
		if err := t.db.Exec(`DELETE FROM drive_items WHERE integration_id = ? AND id IN ?`, integrationID, chunk).Error; err != nil {
			return fmt.Errorf("delete items: %w", err)
		}
		return nil
	})
}

func forChunks(ids []string, size int, fn func([]string) error) error {
	for len(ids) > 0 {
		n := min(size, len(ids))
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// StartFullRound begins a full enumeration of a drive (the first sync, a
// requested full sync, or a 410 from delta) and returns the new generation.
// The stored links are cleared and RoundFull is set, so a restarted process
// knows the round must end with SweepDrive. Items written from now on carry
// the new generation; items the enumeration does not return keep an older
// one and are removed by SweepDrive.
func (s *Store) StartFullRound(ctx context.Context, integrationID, driveID string) (int64, error) {
	var gen int64
	err := s.inTx(ctx, func(t *tx) error {
		err := t.db.Exec(`INSERT INTO drive_sync_states (integration_id, drive_id, generation, round_full)
VALUES (?, ?, 1, true)
ON CONFLICT (integration_id, drive_id) DO UPDATE SET generation = drive_sync_states.generation + 1,
	round_full = true, delta_link = NULL, next_link = NULL, items_seen = 0`, integrationID, driveID).Error
		if err != nil {
			return err
		}
		gen, err = generation(t, integrationID, driveID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start full round of drive %s: %w", driveID, err)
	}
	return gen, nil
}

// SweepDrive ends a full round: it deletes the drive's items (and their
// permissions) that were not written in generation gen, clears RoundFull in
// the same transaction, and returns how many items it deleted. Call it after
// the round's last page (the one with the delta link) was applied.
func (s *Store) SweepDrive(ctx context.Context, integrationID, driveID string, gen int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(t *tx) error {
		err := t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id IN
	(SELECT id FROM drive_items WHERE integration_id = ? AND drive_id = ? AND seen_generation < ?)`,
			integrationID, integrationID, driveID, gen).Error
		if err != nil {
			return fmt.Errorf("delete permissions: %w", err)
		}
		res := t.db.Exec(`DELETE FROM drive_items WHERE integration_id = ? AND drive_id = ? AND seen_generation < ?`,
			integrationID, driveID, gen)
		if res.Error != nil {
			return fmt.Errorf("delete items: %w", res.Error)
		}
		n = res.RowsAffected
		return t.db.Exec(`UPDATE drive_sync_states SET round_full = false WHERE integration_id = ? AND drive_id = ?`,
			integrationID, driveID).Error
	})
	if err != nil {
		return 0, fmt.Errorf("sweep drive %s: %w", driveID, err)
	}
	return n, nil
}

// RecomputePaths sets every item's path of a drive from its parent chain
// ("/" for the root, "/Folder/file.docx" below it). Delta returns no paths,
// and renaming or moving a folder changes its descendants' paths without
// listing them, so paths are derived here after a round. Only rows whose
// path changes are written. Items not reachable from the root keep theirs.
func (s *Store) RecomputePaths(ctx context.Context, integrationID, driveID string) (int64, error) {
	// The depth bound stops a parent cycle, which a half-applied round of
	// moves could leave for a moment.
	res := s.db.WithContext(ctx).Exec(`WITH RECURSIVE tree (id, path, depth) AS (
	SELECT id, CAST('/' AS text), 0 FROM drive_items
	WHERE integration_id = @integ AND drive_id = @drive AND is_root
  UNION ALL
	SELECT c.id, CASE WHEN tree.path = '/' THEN '/' || c.name ELSE tree.path || '/' || c.name END, tree.depth + 1
	FROM drive_items c JOIN tree ON c.parent_id = tree.id
	WHERE c.integration_id = @integ AND c.drive_id = @drive AND NOT c.is_root AND tree.depth < 10000
)
UPDATE drive_items AS d SET path = tree.path FROM tree
WHERE d.integration_id = @integ AND d.id = tree.id AND d.path <> tree.path`,
		sql.Named("integ", integrationID), sql.Named("drive", driveID))
	if res.Error != nil {
		return 0, fmt.Errorf("recompute paths of drive %s: %w", driveID, res.Error)
	}
	return res.RowsAffected, nil
}

// DriveSyncState returns a drive's delta position; a drive never synced
// has the zero state (no links, generation 0).
func (s *Store) DriveSyncState(ctx context.Context, integrationID, driveID string) (models.DriveSyncState, error) {
	st := models.DriveSyncState{IntegrationID: integrationID, DriveID: driveID}
	err := s.db.WithContext(ctx).Where("integration_id = ? AND drive_id = ?", integrationID, driveID).Take(&st).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return st, fmt.Errorf("read sync state of drive %s: %w", driveID, err)
	}
	return st, nil
}

// DriveSyncStates lists the delta positions of an integration's drives.
func (s *Store) DriveSyncStates(ctx context.Context, integrationID string) ([]models.DriveSyncState, error) {
	var out []models.DriveSyncState
	err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).Order("drive_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list sync states: %w", err)
	}
	return out, nil
}

// SetDriveSyncError records why a drive's sync failed (or clears it with "").
func (s *Store) SetDriveSyncError(ctx context.Context, integrationID, driveID, message string) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO drive_sync_states (integration_id, drive_id, last_error) VALUES (?, ?, ?)
ON CONFLICT (integration_id, drive_id) DO UPDATE SET last_error = excluded.last_error`, integrationID, driveID, message).Error
	if err != nil {
		return fmt.Errorf("record sync error of drive %s: %w", driveID, err)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := utc(*t)
	return &u
}
