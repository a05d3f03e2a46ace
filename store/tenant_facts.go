package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/overshare/overshare/models"
)

// SaveTenantFacts replaces what the integration's last sync read about the
// tenant (its domains and subscriptions).
func (s *Store) SaveTenantFacts(ctx context.Context, f models.TenantFacts) error {
	f.SyncedAt = utc(f.SyncedAt)
	if f.SyncedAt.IsZero() {
		f.SyncedAt = now()
	}
	if f.Domains == nil {
		f.Domains = models.TenantDomains{}
	}
	if f.Skus == nil {
		f.Skus = models.Skus{}
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "integration_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"domain_source", "domains", "skus_read", "skus", "synced_at"}),
	}).Create(&f).Error
	if err != nil {
		return fmt.Errorf("save tenant facts of integration %s: %w", f.IntegrationID, err)
	}
	return nil
}

// TenantFacts returns the integrations' tenant facts by integration id; an
// integration no sync has read yet is absent.
func (s *Store) TenantFacts(ctx context.Context, integrationIDs []string) (map[string]*models.TenantFacts, error) {
	out := make(map[string]*models.TenantFacts, len(integrationIDs))
	if len(integrationIDs) == 0 {
		return out, nil
	}
	var rows []models.TenantFacts
	if err := s.rdb.WithContext(ctx).Where("integration_id IN ?", integrationIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read tenant facts: %w", err)
	}
	for i := range rows {
		out[rows[i].IntegrationID] = &rows[i]
	}
	return out, nil
}
