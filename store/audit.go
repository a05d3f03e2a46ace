package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/overshare/overshare/models"
)

// AddAuditEvent records an action; ID and At are set when empty.
func (s *Store) AddAuditEvent(ctx context.Context, ev *models.AuditEvent) error {
	if ev.ID == "" {
		ev.ID = uuid.NewString()
	}
	if ev.At.IsZero() {
		ev.At = now()
	}
	ev.At = utc(ev.At)
	if err := s.db.WithContext(ctx).Create(ev).Error; err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	return nil
}

// AuditEvents lists an integration's audit events, newest first, at most limit.
func (s *Store) AuditEvents(ctx context.Context, integrationID string, limit int) ([]models.AuditEvent, error) {
	var out []models.AuditEvent
	err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).
		Order("at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}

// LastRemovals returns, for those of permIDs that a stop_sharing event of the item records as
// removed (or already removed), the newest such event, by permission id.
func (s *Store) LastRemovals(ctx context.Context, integrationID, itemID string, permIDs []string) (map[string]*models.AuditEvent, error) {
	out := map[string]*models.AuditEvent{}
	if len(permIDs) == 0 {
		return out, nil
	}
	var rows []models.AuditEvent
	err := s.db.WithContext(ctx).
		Where("integration_id = ? AND item_id = ? AND action = ? AND result IN ? AND permission_id IN ?",
			integrationID, itemID, models.AuditStopSharing, []string{models.AuditRemoved, models.AuditAlreadyRemoved}, permIDs).
		Order("at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list removals of item %s: %w", itemID, err)
	}
	for i := range rows {
		if out[rows[i].PermissionID] == nil {
			out[rows[i].PermissionID] = &rows[i]
		}
	}
	return out, nil
}
