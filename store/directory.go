package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/overshare/overshare/models"
)

var usersTable = table{
	name: "users",
	cols: []string{"integration_id", "id", "display_name", "user_principal_name", "mail", "user_type",
		"account_enabled", "job_title", "department", "created_date_time", "manager_id",
		"license_sku_ids", "has_drive", "drive_checked_at", "synced_at"},
	key: []string{"integration_id", "id"},
	// has_drive is learnt from the drive lookup, not from the user list.
	noUpdate: []string{"has_drive", "drive_checked_at"},
}

var drivesTable = table{
	name: "drives",
	cols: []string{"integration_id", "id", "owner_user_id", "name", "drive_type", "web_url", "root_id",
		"quota_total", "quota_used", "quota_remaining", "quota_deleted", "quota_state", "synced_at",
		// A drive Graph just answered for is readable: its access state clears.
		"access_state", "access_reason", "access_since"},
	key: []string{"integration_id", "id"},
	// root_id is learnt from delta (the sync page commit), not from the drive
	// itself: a drive re-read for its quota must not blank it.
	noUpdate: []string{"root_id"},
}

// UpsertUsers writes users (one transaction). A user's HasDrive is written
// when the user is new and otherwise left to UpsertDrives and
// MarkUsersWithoutDrive. SyncedAt is set to now, so DeleteUsersSyncedBefore
// can remove the users a complete listing no longer returned.
func (s *Store) UpsertUsers(ctx context.Context, integrationID string, users []models.User) error {
	stamp := now()
	rows := make([]models.User, len(users))
	for i, u := range users {
		u.IntegrationID, u.SyncedAt = integrationID, stamp
		u.CreatedDateTime = utcPtr(u.CreatedDateTime)
		if u.LicenseSkuIDs == nil {
			u.LicenseSkuIDs = models.StringList{}
		}
		rows[i] = u
	}
	err := s.inTx(ctx, func(t *tx) error { return upsertAlways(t, usersTable, rows) })
	if err != nil {
		return fmt.Errorf("upsert %d users: %w", len(users), err)
	}
	return nil
}

// UpsertDrives writes drives and marks their owners as having a drive.
func (s *Store) UpsertDrives(ctx context.Context, integrationID string, drives []models.Drive) error {
	stamp := now()
	rows := make([]models.Drive, len(drives))
	owners := make([]string, 0, len(drives))
	for i, d := range drives {
		d.IntegrationID, d.SyncedAt = integrationID, stamp
		rows[i] = d
		if d.OwnerUserID != "" {
			owners = append(owners, d.OwnerUserID)
		}
	}
	err := s.inTx(ctx, func(t *tx) error {
		if err := upsertAlways(t, drivesTable, rows); err != nil {
			return err
		}
		if err := deleteUnknownDrives(t, integrationID, owners); err != nil {
			return err
		}
		return setHasDrive(t, integrationID, owners, true)
	})
	if err != nil {
		return fmt.Errorf("upsert %d drives: %w", len(drives), err)
	}
	return nil
}

// MarkUsersWithoutDrive records that these users have no OneDrive (Graph
// answered 404 for their drive).
func (s *Store) MarkUsersWithoutDrive(ctx context.Context, integrationID string, userIDs []string) error {
	err := s.inTx(ctx, func(t *tx) error { return setHasDrive(t, integrationID, userIDs, false) })
	if err != nil {
		return fmt.Errorf("mark %d users without drive: %w", len(userIDs), err)
	}
	return nil
}

func setHasDrive(t *tx, integrationID string, userIDs []string, has bool) error {
	return forChunks(userIDs, 500, func(chunk []string) error {
		return t.db.Exec(`UPDATE users SET has_drive = ?, drive_checked_at = ? WHERE integration_id = ? AND id IN ?`, has, now(), integrationID, chunk).Error
	})
}

// upsertAlways is gorm's batch upsert that rewrites every row, so SyncedAt
// says when the row was last listed (used to remove what Graph no longer lists).
func upsertAlways[T any](t *tx, tb table, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	oc := tb.onConflict(t.dialect)
	oc.Where = clause.Where{}
	if err := t.db.Clauses(oc).CreateInBatches(rows, tb.batchRows(t.dialect)).Error; err != nil {
		return fmt.Errorf("upsert %s: %w", tb.name, err)
	}
	return nil
}

// DeleteUsersSyncedBefore removes the users a complete listing that started
// at before did not return. It returns how many it removed.
func (s *Store) DeleteUsersSyncedBefore(ctx context.Context, integrationID string, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM users WHERE integration_id = ? AND synced_at < ?`, integrationID, utc(before))
	if res.Error != nil {
		return 0, fmt.Errorf("delete users no longer listed: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteDrivesSyncedBefore removes the drives a complete listing that
// started at before did not return, with their items, permissions and
// delta positions.
func (s *Store) DeleteDrivesSyncedBefore(ctx context.Context, integrationID string, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(t *tx) error {
		gone := `SELECT id FROM drives WHERE integration_id = ? AND synced_at < ?`
		h, err := beginHistoryWhere(t, integrationID, deletedCause, `p.drive_id IN (`+gone+`)`, integrationID, utc(before))
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM permissions WHERE integration_id = ? AND drive_id IN (` + gone + `)`,
			`DELETE FROM drive_items WHERE integration_id = ? AND drive_id IN (` + gone + `)`,
			`DELETE FROM drive_sync_states WHERE integration_id = ? AND drive_id IN (` + gone + `)`,
		} {
			if err := t.db.Exec(q, integrationID, integrationID, utc(before)).Error; err != nil {
				return err
			}
		}
		res := t.db.Exec(`DELETE FROM drives WHERE integration_id = ? AND synced_at < ?`, integrationID, utc(before))
		n = res.RowsAffected
		if res.Error != nil {
			return res.Error
		}
		return h.finish(t, nil, nil)
	})
	if err != nil {
		return 0, fmt.Errorf("delete drives no longer listed: %w", err)
	}
	return n, nil
}

// Users lists an integration's users by id.
func (s *Store) Users(ctx context.Context, integrationID string) ([]models.User, error) {
	var out []models.User
	if err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Drives lists an integration's drives by id.
func (s *Store) Drives(ctx context.Context, integrationID string) ([]models.Drive, error) {
	var out []models.Drive
	if err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list drives: %w", err)
	}
	return out, nil
}
