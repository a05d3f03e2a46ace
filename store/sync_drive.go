package store

import (
	"context"
	"fmt"
)

// SyncDeleteDrive removes a drive that Graph no longer has (its owner left
// the tenant, or the OneDrive was deleted) with its items, permissions and
// delta position, and marks its owner as having no drive.
func (s *Store) SyncDeleteDrive(ctx context.Context, integrationID, driveID string) error {
	err := s.inTx(ctx, func(t *tx) error {
		h, err := beginHistoryWhere(t, integrationID, deletedCause, `p.drive_id = ?`, driveID)
		if err != nil {
			return err
		}
		if err := t.db.Exec(`UPDATE users SET has_drive = false WHERE integration_id = ? AND id IN
	(SELECT owner_user_id FROM drives WHERE integration_id = ? AND id = ?)`, integrationID, integrationID, driveID).Error; err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM permissions WHERE integration_id = ? AND drive_id = ?`,
			`DELETE FROM drive_items WHERE integration_id = ? AND drive_id = ?`,
			`DELETE FROM drive_sync_states WHERE integration_id = ? AND drive_id = ?`,
			`DELETE FROM drives WHERE integration_id = ? AND id = ?`,
		} {
			if err := t.db.Exec(q, integrationID, driveID).Error; err != nil {
				return err
			}
		}
		return h.finish(t, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("delete drive %s: %w", driveID, err)
	}
	return nil
}
