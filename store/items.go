package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/overshare/overshare/models"
)

func (s *Store) upsertItems(ctx context.Context, t *tx, items []models.DriveItem) error {
	if t.dialect == Postgres && s.bulk == bulkCopy {
		return copyUpsert(ctx, t, itemsTable, len(items), func(i int) []any { return itemValues(&items[i]) })
	}
	return gormUpsert(t, itemsTable, items)
}

// dedupeItems keeps the last occurrence of each id, in first-seen order: one
// INSERT … ON CONFLICT may not touch a row twice. Delta may repeat an item
// within a page; without a repeat it returns in itself.
func dedupeItems(in []models.DriveItem) []models.DriveItem {
	ids := make(map[string]struct{}, len(in))
	for _, it := range in {
		ids[it.ID] = struct{}{}
	}
	if len(ids) == len(in) {
		return in
	}
	pos := make(map[string]int, len(in))
	out := make([]models.DriveItem, 0, len(ids))
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
	st, err := syncState(t, integrationID, driveID)
	return st.Generation, err
}

// syncState is a drive's delta position in a transaction; the zero state for a drive never
// synced.
func syncState(t *tx, integrationID, driveID string) (models.DriveSyncState, error) {
	var st models.DriveSyncState
	err := t.db.Where("integration_id = ? AND drive_id = ?", integrationID, driveID).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read sync state: %w", err)
	}
	return st, nil
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
// knows the round must end with a sweep (SyncPage.Sweep on its last page).
// Items written from now on carry the new generation; items the enumeration
// does not return keep an older one and are removed by that sweep.
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
