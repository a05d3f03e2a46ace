package store

import (
	"context"
	"fmt"

	"github.com/overshare/overshare/models"
)

// DriveItems lists a drive's items by id.
func (s *Store) DriveItems(ctx context.Context, integrationID, driveID string) ([]models.DriveItem, error) {
	var out []models.DriveItem
	err := s.db.WithContext(ctx).Where("integration_id = ? AND drive_id = ?", integrationID, driveID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list items of drive %s: %w", driveID, err)
	}
	return out, nil
}

// DriveItem returns one item.
func (s *Store) DriveItem(ctx context.Context, integrationID, itemID string) (*models.DriveItem, error) {
	var it models.DriveItem
	if err := s.db.WithContext(ctx).Where("integration_id = ? AND id = ?", integrationID, itemID).Take(&it).Error; err != nil {
		return nil, notFound(err, "item "+itemID)
	}
	return &it, nil
}

// ItemPermissions lists an item's permissions by id.
func (s *Store) ItemPermissions(ctx context.Context, integrationID, itemID string) ([]models.Permission, error) {
	var out []models.Permission
	err := s.db.WithContext(ctx).Where("integration_id = ? AND item_id = ?", integrationID, itemID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list permissions of item %s: %w", itemID, err)
	}
	return out, nil
}
