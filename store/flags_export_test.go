package store

import (
	"context"
	"fmt"

	"github.com/overshare/overshare/models"
)

// RecomputedSharingFlags computes every item's sharing_flags of an integration from scratch,
// from the permissions, without writing them.
func RecomputedSharingFlags(ctx context.Context, s *Store, integrationID string) (map[string]int, error) {
	var rows []struct {
		ID    string
		Flags int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT id, `+sharingFlagsOf()+` AS flags FROM drive_items WHERE integration_id = ?`, integrationID).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("recompute sharing flags: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Flags
	}
	return out, nil
}

// SharingStateOf exposes sharingStateOf to the tests.
func SharingStateOf(perms []models.Permission) (bool, int) { return sharingStateOf(perms) }
