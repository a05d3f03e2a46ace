package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/overshare/overshare/models"
)

// Writes made by the sharing service after Microsoft Graph accepted a change. They keep the
// rows as a sync would leave them, because an incremental sync re-reads only the item whose
// sharing changed, never its descendants.

// RemoveOwnPermission deletes the permission permID set on item itemID, and the rows that
// repeat it as inherited from it on the item's descendants, then recomputes the item's
// has_own_permissions and sharing_flags as a sync page's permissions do, and records the
// removal in the item's history as done by actor. It reports whether the item's own row
// existed.
func (s *Store) RemoveOwnPermission(ctx context.Context, actor Actor, integrationID, itemID, permID string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(t *tx) error {
		h, err := beginHistory(t, integrationID, []string{itemID}, overshareCause(actor))
		if err != nil {
			return err
		}
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
		if err := refreshPermissionState(t, integrationID, []string{itemID}); err != nil {
			return err
		}
		after := slices.DeleteFunc(slices.Clone(h.before[itemID]), func(p models.Permission) bool { return p.ID == permID })
		return h.finish(t, map[string][]models.Permission{itemID: after}, nil)
	})
	if err != nil {
		return false, fmt.Errorf("remove permission %s of item %s: %w", permID, itemID, err)
	}
	return removed, nil
}

// SetOwnPermissionExpiry sets the expiry (nil = none) of the permission permID set on item
// itemID and of its inherited copies on the item's descendants, recorded in the item's
// history as done by actor. A missing row is ErrNotFound.
func (s *Store) SetOwnPermissionExpiry(ctx context.Context, actor Actor, integrationID, itemID, permID string, expiresAt *time.Time) error {
	expiresAt = utcPtr(expiresAt)
	stamp := now()
	err := s.inTx(ctx, func(t *tx) error {
		h, err := beginHistory(t, integrationID, []string{itemID}, overshareCause(actor))
		if err != nil {
			return err
		}
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
		if err := refreshPermissionState(t, integrationID, []string{itemID}); err != nil {
			return err
		}
		after := slices.Clone(h.before[itemID])
		for i := range after {
			if after[i].ID == permID {
				after[i].ExpiresAt = expiresAt
			}
		}
		return h.finish(t, map[string][]models.Permission{itemID: after}, nil)
	})
	if err != nil {
		return fmt.Errorf("set expiry of permission %s of item %s: %w", permID, itemID, err)
	}
	return nil
}

// ReplaceItemPermissions makes the stored permissions of one item what Graph listed after a
// change, through the sync pages' own write (replacePermissionsTx), which also recomputes the
// item's has_own_permissions and sharing_flags.
// What it removes or changes is recorded in the item's history as done by actor.
func (s *Store) ReplaceItemPermissions(ctx context.Context, actor Actor, integrationID, driveID, itemID string, rows []models.Permission) error {
	err := s.inTx(ctx, func(t *tx) error {
		return s.replacePermissionsTx(ctx, t, integrationID, driveID, map[string][]models.Permission{itemID: rows}, overshareCause(actor), nil)
	})
	if err != nil {
		return fmt.Errorf("replace permissions of item %s: %w", itemID, err)
	}
	return nil
}

// AncestorHoldingPermission returns the nearest ancestor of item itemID that holds permission
// permID as its own: where a permission the item inherits is set. SharePoint names a grant
// after its principal, so the folder's grant has the same id. ErrNotFound when no stored
// ancestor holds it.
func (s *Store) AncestorHoldingPermission(ctx context.Context, integrationID, itemID, permID string) (*models.DriveItem, error) {
	cur := itemID
	for range 1000 { // a parent cycle must not loop forever
		it, err := s.DriveItem(ctx, integrationID, cur)
		if err != nil {
			return nil, err
		}
		if it.ParentID == "" {
			break
		}
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.Permission{}).
			Where("integration_id = ? AND item_id = ? AND id = ? AND NOT inherited", integrationID, it.ParentID, permID).
			Count(&n).Error; err != nil {
			return nil, fmt.Errorf("permission %s of item %s: %w", permID, it.ParentID, err)
		}
		if n > 0 {
			return s.DriveItem(ctx, integrationID, it.ParentID)
		}
		cur = it.ParentID
	}
	return nil, fmt.Errorf("ancestor holding permission %s: %w", permID, ErrNotFound)
}
