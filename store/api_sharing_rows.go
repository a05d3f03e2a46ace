package store

import (
	"context"

	"github.com/overshare/overshare/models"
)

// SharingRow is one permission that makes an item match a filter, with what a report on it
// names: the item, its drive and the drive's owner (Drive and Owner nil when not synced).
type SharingRow struct {
	Item       *models.DriveItem
	Drive      *models.Drive
	Owner      *models.User
	Permission *models.Permission
}

// EachSharingRow calls fn for each permission that makes an item of the integration match f
// (only shared items: SharedOnly is implied), items by name, an item's permissions by id. It
// reads pageSize items at a time (at most MaxPageSize; 0 means that) through ListDriveItems'
// keyset query, then the page's matching permissions (MatchingPermissions), drives and owners,
// so memory holds one page whatever the number of items. An error from fn stops the walk and
// is returned.
func (s *Store) EachSharingRow(ctx context.Context, integrationID string, f ItemFilter, pageSize int, fn func(SharingRow) error) error {
	f.SharedOnly = true
	if pageSize <= 0 || pageSize > MaxPageSize {
		pageSize = MaxPageSize
	}
	req := PageRequest{First: pageSize}
	for {
		page, err := s.ListDriveItems(ctx, integrationID, f, ItemOrder{Field: ItemOrderName}, req)
		if err != nil {
			return err
		}
		if len(page.Rows) == 0 {
			return nil
		}
		ids := make([]string, len(page.Rows))
		driveKeys := make([]RowKey, 0, len(page.Rows))
		seen := map[string]bool{}
		for i := range page.Rows {
			ids[i] = page.Rows[i].ID
			if d := page.Rows[i].DriveID; !seen[d] {
				seen[d] = true
				driveKeys = append(driveKeys, RowKey{integrationID, d})
			}
		}
		perms, err := s.MatchingPermissions(ctx, integrationID, f, ids)
		if err != nil {
			return err
		}
		drives, err := s.DrivesByKey(ctx, driveKeys)
		if err != nil {
			return err
		}
		ownerKeys := make([]RowKey, 0, len(drives))
		for _, d := range drives {
			if d.OwnerUserID != "" {
				ownerKeys = append(ownerKeys, RowKey{integrationID, d.OwnerUserID})
			}
		}
		owners, err := s.UsersByKey(ctx, ownerKeys)
		if err != nil {
			return err
		}
		for i := range page.Rows {
			it := &page.Rows[i]
			row := SharingRow{Item: it, Drive: drives[RowKey{integrationID, it.DriveID}]}
			if row.Drive != nil {
				row.Owner = owners[RowKey{integrationID, row.Drive.OwnerUserID}]
			}
			ps := perms[it.ID]
			for j := range ps {
				row.Permission = &ps[j]
				if err := fn(row); err != nil {
					return err
				}
			}
		}
		if !page.HasNext {
			return nil
		}
		req.After = page.EndCursor()
	}
}
