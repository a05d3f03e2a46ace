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
