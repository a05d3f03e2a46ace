package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/overshare/overshare/models"
)

// The rows of change notifications (package watch): one Graph subscription per drive root,
// its clientState encrypted like the client secret, and the drives a notification marked
// as waiting for their sync.

// clientStateAAD binds a clientState's ciphertext to its subscription.
func clientStateAAD(subscriptionID string) string {
	return "subscription/" + subscriptionID + "/client-state"
}

// SaveSubscription stores a subscription Graph created, replacing the drive's previous one.
func (s *Store) SaveSubscription(ctx context.Context, sub models.GraphSubscription, clientState string) error {
	ct, keyID, err := s.keys.seal(clientState, clientStateAAD(sub.ID))
	if err != nil {
		return fmt.Errorf("encrypt clientState: %w", err)
	}
	sub.ClientStateCiphertext, sub.ClientStateKeyID = ct, keyID
	at := now()
	sub.CreatedAt, sub.RenewedAt, sub.ExpiresAt = at, at, utc(sub.ExpiresAt)
	err = s.inTx(ctx, func(t *tx) error {
		if err := t.db.Exec(`DELETE FROM graph_subscriptions WHERE integration_id = ? AND drive_id = ?`,
			sub.IntegrationID, sub.DriveID).Error; err != nil {
			return err
		}
		return t.db.Create(&sub).Error
	})
	if err != nil {
		return fmt.Errorf("save subscription of drive %s: %w", sub.DriveID, err)
	}
	return nil
}

// Subscriptions returns the integration's subscriptions.
func (s *Store) Subscriptions(ctx context.Context, integrationID string) ([]models.GraphSubscription, error) {
	var out []models.GraphSubscription
	if err := s.rdb.WithContext(ctx).Where("integration_id = ?", integrationID).Order("drive_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read subscriptions of integration %s: %w", integrationID, err)
	}
	return out, nil
}

// Subscription returns one subscription, ErrNotFound when none has that id.
func (s *Store) Subscription(ctx context.Context, id string) (*models.GraphSubscription, error) {
	var sub models.GraphSubscription
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&sub).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	return &sub, nil
}

// SubscriptionClientState decrypts the subscription's clientState.
func (s *Store) SubscriptionClientState(sub *models.GraphSubscription) (string, error) {
	return s.keys.open(sub.ClientStateCiphertext, sub.ClientStateKeyID, clientStateAAD(sub.ID), "subscription clientState")
}

// RenewedSubscription records a renewal's new expiry.
func (s *Store) RenewedSubscription(ctx context.Context, id string, expires time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE graph_subscriptions SET expires_at = ?, renewed_at = ? WHERE id = ?`,
		utc(expires), now(), id).Error
	if err != nil {
		return fmt.Errorf("renew subscription %s: %w", id, err)
	}
	return nil
}

// DeleteSubscription forgets a subscription (deleted in Graph, or lost there).
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM graph_subscriptions WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return nil
}

// MarkNotified records an accepted notification: the drive waits for its sync.
func (s *Store) MarkNotified(ctx context.Context, id string, at time.Time) error {
	at = utc(at)
	err := s.db.WithContext(ctx).Exec(`UPDATE graph_subscriptions
SET notified_at = ?, pending_since = COALESCE(pending_since, ?), notifications = notifications + 1 WHERE id = ?`,
		at, at, id).Error
	if err != nil {
		return fmt.Errorf("record notification of subscription %s: %w", id, err)
	}
	return nil
}

// PendingDrives returns the integration's drives a notification marked, with the time of
// the newest notification of each.
func (s *Store) PendingDrives(ctx context.Context, integrationID string) (map[string]time.Time, error) {
	var rows []models.GraphSubscription
	err := s.db.WithContext(ctx).Select("drive_id", "notified_at").
		Where("integration_id = ? AND pending_since IS NOT NULL", integrationID).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read drives waiting for a sync: %w", err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		if r.NotifiedAt != nil {
			out[r.DriveID] = *r.NotifiedAt
		}
	}
	return out, nil
}

// ClearPending takes the drive off the waiting list unless a notification newer than
// notifiedAt came in meanwhile (that one waits for the next round).
func (s *Store) ClearPending(ctx context.Context, integrationID, driveID string, notifiedAt time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE graph_subscriptions SET pending_since = NULL
WHERE integration_id = ? AND drive_id = ? AND notified_at <= ?`, integrationID, driveID, utc(notifiedAt)).Error
	if err != nil {
		return fmt.Errorf("clear waiting drive %s: %w", driveID, err)
	}
	return nil
}

// SetWatchMode records how the integration learns of changes, and why.
func (s *Store) SetWatchMode(ctx context.Context, integrationID string, mode models.WatchMode, reason string) error {
	return s.updateIntegration(ctx, integrationID, map[string]any{"watch_mode": mode, "watch_reason": reason})
}

// MarkPendingAgain puts a drive back on the waiting list (its notified sync could not run).
func (s *Store) MarkPendingAgain(ctx context.Context, integrationID, driveID string, since time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE graph_subscriptions SET pending_since = COALESCE(pending_since, ?)
WHERE integration_id = ? AND drive_id = ?`, utc(since), integrationID, driveID).Error
	if err != nil {
		return fmt.Errorf("mark drive %s waiting again: %w", driveID, err)
	}
	return nil
}
