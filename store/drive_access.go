package store

import (
	"context"
	"fmt"
	"time"

	"github.com/overshare/overshare/models"
)

// Drives a sync could not read: a OneDrive whose SharePoint site is locked
// (423) or closed to the app (403) is skipped by the sync and marked here
// with why and since when, and tried again by the next sync; reading it
// again clears the mark (UpsertDrives, ClearDriveAccess).

// SetDriveAccess marks a stored drive as not readable (access, reason); the
// time it was first seen so is kept while the state stays the same.
func (s *Store) SetDriveAccess(ctx context.Context, integrationID, driveID string, access models.DriveAccess, reason string) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE drives SET access_reason = ?,
	access_since = CASE WHEN access_state = ? AND access_since IS NOT NULL THEN access_since ELSE ? END,
	access_state = ?
WHERE integration_id = ? AND id = ?`, reason, access, now(), access, integrationID, driveID).Error
	if err != nil {
		return fmt.Errorf("record access of drive %s: %w", driveID, err)
	}
	return nil
}

// ClearDriveAccess marks a drive as read again.
func (s *Store) ClearDriveAccess(ctx context.Context, integrationID, driveID string) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE drives SET access_state = '', access_reason = '', access_since = NULL
WHERE integration_id = ? AND id = ? AND access_state <> ''`, integrationID, driveID).Error
	if err != nil {
		return fmt.Errorf("clear access of drive %s: %w", driveID, err)
	}
	return nil
}

// MarkOwnerDriveInaccessible records that the user's OneDrive exists but
// could not be looked up (Graph then gives no drive id): the stored drive of
// the owner gets the state; without one, a placeholder row
// (models.UnknownDrivePrefix) stands for it until the drive can be read.
// Either way the row counts as listed at `at` (a full sync keeps it).
func (s *Store) MarkOwnerDriveInaccessible(ctx context.Context, integrationID, ownerID string, access models.DriveAccess, reason string, at time.Time) error {
	at = utc(at)
	err := s.inTx(ctx, func(t *tx) error {
		var ids []string
		if err := t.db.Raw(`SELECT id FROM drives WHERE integration_id = ? AND owner_user_id = ?`, integrationID, ownerID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			row := models.Drive{IntegrationID: integrationID, ID: models.UnknownDrivePrefix + ownerID, OwnerUserID: ownerID,
				Name: "OneDrive", DriveType: "business", SyncedAt: at}
			if err := t.db.Create(&row).Error; err != nil {
				return err
			}
		}
		q := `UPDATE drives SET access_reason = ?, synced_at = ?,
	access_since = CASE WHEN access_state = ? AND access_since IS NOT NULL THEN access_since ELSE ? END,
	access_state = ?
WHERE integration_id = ? AND owner_user_id = ?`
		if err := t.db.Exec(q, reason, at, access, at, access, integrationID, ownerID).Error; err != nil {
			return err
		}
		return setHasDrive(t, integrationID, []string{ownerID}, true)
	})
	if err != nil {
		return fmt.Errorf("record inaccessible drive of user %s: %w", ownerID, err)
	}
	return nil
}

// deleteUnknownDrives removes the placeholders of owners whose drive was
// just read.
func deleteUnknownDrives(t *tx, integrationID string, owners []string) error {
	return forChunks(owners, 500, func(chunk []string) error {
		return t.db.Exec(`DELETE FROM drives WHERE integration_id = ? AND id LIKE ? AND owner_user_id IN ?`,
			integrationID, models.UnknownDrivePrefix+"%", chunk).Error
	})
}

// UsersDueForDriveCheck returns, of the given users, those whose drive must
// be looked up again: never looked up, without a OneDrive when last looked
// up before `before`, or whose OneDrive could not be looked up (a
// placeholder drive).
func (s *Store) UsersDueForDriveCheck(ctx context.Context, integrationID string, userIDs []string, before time.Time) ([]string, error) {
	var out []string
	err := forChunks(userIDs, 500, func(chunk []string) error {
		var ids []string
		err := s.db.WithContext(ctx).Raw(`SELECT id FROM users WHERE integration_id = ? AND id IN ? AND (has_drive IS NULL
	OR has_drive = ? AND (drive_checked_at IS NULL OR drive_checked_at < ?)
	OR id IN (SELECT owner_user_id FROM drives WHERE integration_id = ? AND id LIKE ?))`,
			integrationID, chunk, false, utc(before), integrationID, models.UnknownDrivePrefix+"%").Scan(&ids).Error
		out = append(out, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read users due for a drive check: %w", err)
	}
	return out, nil
}

// InaccessibleDriveCount counts the integration's drives the last sync could
// not read.
func (s *Store) InaccessibleDriveCount(ctx context.Context, integrationID string) (int64, error) {
	var n int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT COUNT(*) FROM drives WHERE integration_id = ? AND access_state <> ''`, integrationID).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count inaccessible drives: %w", err)
	}
	return n, nil
}
