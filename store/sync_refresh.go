package store

// Store operations of the sync engine's scheduled refreshes (package
// syncer): the stored shared facets it compares delta's with, the
// permission-hierarchy roots it re-reads, and their new permissions.

import (
	"context"
	"fmt"
	"time"

	"github.com/overshare/overshare/models"
)

// SyncSharedScopes returns, for each listed item of a drive that is stored,
// its stored shared facet: nil when the item had none, "" for an empty one,
// else the scope.
func (s *Store) SyncSharedScopes(ctx context.Context, integrationID, driveID string, ids []string) (map[string]*string, error) {
	out := make(map[string]*string, len(ids))
	err := forChunks(ids, 1000, func(chunk []string) error {
		var rows []struct {
			ID          string
			SharedScope *string
		}
		if err := s.db.WithContext(ctx).Raw(`SELECT id, shared_scope FROM drive_items WHERE integration_id = ? AND drive_id = ? AND id IN ?`,
			integrationID, driveID, chunk).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out[r.ID] = r.SharedScope
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read shared facets: %w", err)
	}
	return out, nil
}

// SyncRoot is a stored permission-hierarchy root.
type SyncRoot struct {
	ID, ParentID string
	// SharedScope is the shared facet delta last gave the item (nil: none, so
	// it no longer is a hierarchy root and what it lists is inherited).
	SharedScope *string
}

// SyncHierarchyRoots lists a drive's stored permission-hierarchy roots other
// than the drive root: items with permissions of their own or a shared facet.
func (s *Store) SyncHierarchyRoots(ctx context.Context, integrationID, driveID string) ([]SyncRoot, error) {
	var out []SyncRoot
	err := s.db.WithContext(ctx).Raw(`SELECT id, parent_id, shared_scope FROM drive_items
WHERE integration_id = ? AND drive_id = ? AND NOT is_root AND (has_own_permissions OR shared_scope IS NOT NULL)
ORDER BY id`, integrationID, driveID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read hierarchy roots of drive %s: %w", driveID, err)
	}
	return out, nil
}

// RefreshPermissions replaces the stored permissions of the listed items of
// a drive (maintaining has_own_permissions and sharing_flags) and, when at
// is set, records it as the drive's roots_refreshed_at, in one transaction.
func (s *Store) RefreshPermissions(ctx context.Context, integrationID, driveID string, byItem map[string][]models.Permission, at time.Time) error {
	err := s.inTx(ctx, func(t *tx) error {
		st, err := syncState(t, integrationID, driveID)
		if err != nil {
			return err
		}
		if err := s.replacePermissionsTx(ctx, t, integrationID, driveID, byItem, syncCause(st.SweptAt == nil), nil); err != nil {
			return err
		}
		if at.IsZero() {
			return nil
		}
		return t.db.Exec(`UPDATE drive_sync_states SET roots_refreshed_at = ? WHERE integration_id = ? AND drive_id = ?`,
			utc(at), integrationID, driveID).Error
	})
	if err != nil {
		return fmt.Errorf("refresh permissions of drive %s: %w", driveID, err)
	}
	return nil
}
