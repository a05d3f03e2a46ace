package store

import (
	"context"
	"fmt"
	"time"

	"github.com/overshare/overshare/models"
)

// Writes made by the sharing service after Microsoft Graph accepted a change. They keep the
// rows as a sync would leave them, because an incremental sync re-reads only the item whose
// sharing changed, never its descendants.

// RemoveOwnPermission deletes the permission permID set on item itemID, and the rows that
// repeat it as inherited on the item's descendants (an inherited entry keeps the ancestor's
// id), then recomputes the item's has_own_permissions and sharing_flags as a sync page's
// permissions do. It reports whether the item's own row existed.
func (s *Store) RemoveOwnPermission(ctx context.Context, integrationID, itemID, permID string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(t *tx) error {
		res := t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND item_id = ? AND id = ?`,
			integrationID, itemID, permID)
		if res.Error != nil {
			return res.Error
		}
		removed = res.RowsAffected > 0
		if err := t.db.Exec(`DELETE FROM permissions WHERE integration_id = ? AND id = ? AND inherited AND inherited_from_id = ?`,
			integrationID, permID, itemID).Error; err != nil {
			return fmt.Errorf("inherited copies: %w", err)
		}
		return refreshPermissionState(t, integrationID, []string{itemID})
	})
	if err != nil {
		return false, fmt.Errorf("remove permission %s of item %s: %w", permID, itemID, err)
	}
	return removed, nil
}

// SetOwnPermissionExpiry sets the expiry (nil = none) of the permission permID set on item
// itemID and of its inherited copies on the item's descendants. A missing row is ErrNotFound.
func (s *Store) SetOwnPermissionExpiry(ctx context.Context, integrationID, itemID, permID string, expiresAt *time.Time) error {
	expiresAt = utcPtr(expiresAt)
	stamp := now()
	err := s.inTx(ctx, func(t *tx) error {
		res := t.db.Exec(`UPDATE permissions SET expires_at = ?, synced_at = ? WHERE integration_id = ? AND item_id = ? AND id = ?`,
			expiresAt, stamp, integrationID, itemID, permID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := t.db.Exec(`UPDATE permissions SET expires_at = ?, synced_at = ? WHERE integration_id = ? AND id = ? AND inherited AND inherited_from_id = ?`,
			expiresAt, stamp, integrationID, permID, itemID).Error; err != nil {
			return fmt.Errorf("inherited copies: %w", err)
		}
		return refreshPermissionState(t, integrationID, []string{itemID})
	})
	if err != nil {
		return fmt.Errorf("set expiry of permission %s of item %s: %w", permID, itemID, err)
	}
	return nil
}

// ItemHoldingPermission returns the item other than exceptItemID on which permission permID is
// set as its own (not inherited): the folder to change when Graph says an item only inherits
// permID. ErrNotFound when no stored item holds it.
func (s *Store) ItemHoldingPermission(ctx context.Context, integrationID, permID, exceptItemID string) (*models.DriveItem, error) {
	var it models.DriveItem
	err := s.db.WithContext(ctx).Where(`integration_id = ? AND id IN (
	SELECT item_id FROM permissions WHERE integration_id = ? AND id = ? AND NOT inherited AND item_id <> ?)`,
		integrationID, integrationID, permID, exceptItemID).Order("id").Take(&it).Error
	if err != nil {
		return nil, notFound(err, "item holding permission "+permID)
	}
	return &it, nil
}
