package store

import (
	"context"
	"fmt"
	"time"

	"github.com/overshare/overshare/models"
)

// RecomputedSharingFlags computes every item's sharing_flags of an integration from scratch,
// from the permissions as of the store's clock, without writing them.
func RecomputedSharingFlags(ctx context.Context, s *Store, integrationID string) (map[string]int, error) {
	var rows []struct {
		ID    string
		Flags int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT id, `+itemSharingState[1].expr+` AS flags FROM drive_items WHERE integration_id = ?`, s.clock(), integrationID).
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
func SharingStateOf(perms []models.Permission, at time.Time) (bool, int) {
	return sharingStateOf(perms, at)
}

// CountQuery is the statement CountDriveItems runs for f now, for EXPLAIN.
func CountQuery(s *Store, integrationID string, f ItemFilter) (string, []any) {
	w, err := f.where(integrationID, s.clock())
	if err != nil {
		panic(err)
	}
	return "SELECT count(*) FROM drive_items i WHERE " + w.sql(), w.args
}

// ExpiryProbe is expireDue's query, for EXPLAIN.
const ExpiryProbe = expiryProbe
