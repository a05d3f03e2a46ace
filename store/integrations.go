package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/overshare/overshare/models"
)

// CreateIntegration stores a new integration with its client secret encrypted
// (CreateIntegrationWithCredential with a secret).
func (s *Store) CreateIntegration(ctx context.Context, in *models.Integration, secret string) error {
	return s.CreateIntegrationWithCredential(ctx, in, Credential{Secret: secret})
}

// CreateIntegrationWithCredential stores a new integration with its credential encrypted.
// in.ID is generated when empty; Status defaults to ACTIVE and the sync interval to 15 minutes.
func (s *Store) CreateIntegrationWithCredential(ctx context.Context, in *models.Integration, cred Credential) error {
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	if in.Status == "" {
		in.Status = models.IntegrationActive
	}
	if in.SyncIntervalSeconds <= 0 {
		in.SyncIntervalSeconds = models.DefaultSyncIntervalSeconds
	}
	if in.WatchMode == "" {
		in.WatchMode, in.WatchReason = models.WatchPolling, "Change notifications are set up after the first sync."
	}
	fields, err := s.credentialColumns(in.ID, cred)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	in.CredentialType = fields["credential_type"].(models.CredentialType)
	in.SecretCiphertext, _ = fields["secret_ciphertext"].([]byte)
	in.SecretKeyID, in.SecretHint = fields["secret_key_id"].(string), fields["secret_hint"].(string)
	in.CertificateCiphertext, _ = fields["certificate_ciphertext"].([]byte)
	in.CertificateKeyID, in.CertificateThumbprint = fields["certificate_key_id"].(string), fields["certificate_thumbprint"].(string)
	in.CertificateExpiresAt, _ = fields["certificate_expires_at"].(*time.Time)
	if err := s.db.WithContext(ctx).Create(in).Error; err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// RotateSecret replaces an integration's credential with a client secret.
func (s *Store) RotateSecret(ctx context.Context, id, secret string) error {
	return s.SetCredential(ctx, id, Credential{Secret: secret})
}

// SetCredential replaces an integration's credential, secret or certificate. The other kind's
// columns are cleared: an integration holds one credential, and a replaced one is not kept.
func (s *Store) SetCredential(ctx context.Context, id string, cred Credential) error {
	fields, err := s.credentialColumns(id, cred)
	if err != nil {
		return fmt.Errorf("set credential of integration %s: %w", id, err)
	}
	fields["updated_at"] = now()
	res := s.db.WithContext(ctx).Model(&models.Integration{}).Where("id = ?", id).Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("set credential of integration %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set credential of integration %s: %w", id, ErrNotFound)
	}
	return nil
}

// IntegrationCredential decrypts an integration's credential. It is the only way to read it,
// meant for the Graph client; never log or return it (Credential prints as a placeholder).
func (s *Store) IntegrationCredential(ctx context.Context, id string) (Credential, error) {
	var in models.Integration
	err := s.db.WithContext(ctx).Select("id", "credential_type", "secret_ciphertext", "secret_key_id", "certificate_ciphertext", "certificate_key_id").
		Where("id = ?", id).Take(&in).Error
	if err != nil {
		return Credential{}, notFound(err, "read credential of integration "+id)
	}
	if in.CredentialType == models.CredentialCertificate {
		pemData, err := s.keys.open(in.CertificateCiphertext, in.CertificateKeyID, certificateAAD(in.ID), "certificate")
		if err != nil {
			return Credential{}, fmt.Errorf("integration %s: %w", id, err)
		}
		return Credential{Certificate: []byte(pemData)}, nil
	}
	secret, err := s.keys.open(in.SecretCiphertext, in.SecretKeyID, in.ID, "client secret")
	if err != nil {
		return Credential{}, fmt.Errorf("integration %s: %w", id, err)
	}
	return Credential{Secret: secret}, nil
}

// IntegrationSecret decrypts an integration's client secret; an integration that signs in with
// a certificate has none, and says so.
func (s *Store) IntegrationSecret(ctx context.Context, id string) (string, error) {
	cred, err := s.IntegrationCredential(ctx, id)
	if err != nil {
		return "", err
	}
	if cred.Secret == "" {
		return "", fmt.Errorf("integration %s signs in with a certificate, not a client secret", id)
	}
	return cred.Secret, nil
}

// Integration returns one integration.
func (s *Store) Integration(ctx context.Context, id string) (*models.Integration, error) {
	var in models.Integration
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&in).Error; err != nil {
		return nil, notFound(err, "integration "+id)
	}
	return &in, nil
}

// Integrations lists every integration by name.
func (s *Store) Integrations(ctx context.Context) ([]models.Integration, error) {
	var out []models.Integration
	if err := s.db.WithContext(ctx).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// IntegrationsDueForSync lists the integrations whose next sync time has
// come (or was never set), leaving out paused ones.
func (s *Store) IntegrationsDueForSync(ctx context.Context, at time.Time) ([]models.Integration, error) {
	var out []models.Integration
	err := s.db.WithContext(ctx).Where("status <> ? AND (next_sync_at IS NULL OR next_sync_at <= ?)", models.IntegrationPaused, utc(at)).
		Order("next_sync_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list integrations due for sync: %w", err)
	}
	return out, nil
}

// UpdateIntegrationSettings changes the name and the sync interval. A shorter interval
// brings the next sync forward to one new interval after the last sync: whoever shortens it
// expects the next sync within it, not at the time the old interval had set.
func (s *Store) UpdateIntegrationSettings(ctx context.Context, id, name string, syncIntervalSeconds int) error {
	if syncIntervalSeconds <= 0 {
		syncIntervalSeconds = models.DefaultSyncIntervalSeconds
	}
	in, err := s.Integration(ctx, id)
	if err != nil {
		return err
	}
	fields := map[string]any{"name": name, "sync_interval_seconds": syncIntervalSeconds}
	if in.LastSyncAt != nil && in.NextSyncAt != nil {
		if sooner := in.LastSyncAt.Add(time.Duration(syncIntervalSeconds) * time.Second); sooner.Before(*in.NextSyncAt) {
			fields["next_sync_at"] = sooner.UTC()
		}
	}
	return s.updateIntegration(ctx, id, fields)
}

// SetIntegrationStatus records the status and, for people, the last error
// ("" clears it).
func (s *Store) SetIntegrationStatus(ctx context.Context, id string, status models.IntegrationStatus, lastError string) error {
	return s.updateIntegration(ctx, id, map[string]any{"status": status, "last_error": lastError})
}

// SetIntegrationSyncStatus is SetIntegrationStatus for the syncer: it never overwrites PAUSED,
// so that a sync which ends (or starts, forced) after an administrator paused the integration
// leaves it paused. A paused or deleted integration is not an error.
func (s *Store) SetIntegrationSyncStatus(ctx context.Context, id string, status models.IntegrationStatus, lastError string) error {
	err := s.updateIntegrationWhere(ctx, id, "status <> '"+string(models.IntegrationPaused)+"'", map[string]any{"status": status, "last_error": lastError})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// SetIntegrationSyncTimes records when the last sync finished and when the
// next one is due; a nil time is stored as NULL.
func (s *Store) SetIntegrationSyncTimes(ctx context.Context, id string, lastSyncAt, nextSyncAt *time.Time) error {
	return s.updateIntegration(ctx, id, map[string]any{"last_sync_at": utcPtr(lastSyncAt), "next_sync_at": utcPtr(nextSyncAt)})
}

func (s *Store) updateIntegration(ctx context.Context, id string, fields map[string]any) error {
	return s.updateIntegrationWhere(ctx, id, "", fields)
}

// updateIntegrationWhere updates the integration when cond (SQL, no arguments; "" for none)
// holds too; ErrNotFound when no row was updated.
func (s *Store) updateIntegrationWhere(ctx context.Context, id, cond string, fields map[string]any) error {
	fields["updated_at"] = now()
	q := s.db.WithContext(ctx).Model(&models.Integration{}).Where("id = ?", id)
	if cond != "" {
		q = q.Where(cond)
	}
	res := q.Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("update integration %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update integration %s: %w", id, ErrNotFound)
	}
	return nil
}

// syncedTables hold rows that belong to an integration and go with it, its sharing history
// too (file names and the addresses they were shared with).
// audit_events are kept: the record of what was done outlives the connection.
var syncedTables = []string{"permissions", "drive_items", "drive_sync_states", "drives", "users", "sync_runs", "tenant_facts",
	"graph_subscriptions", "sharing_events", "exposure_intervals"}

// DeleteIntegration removes an integration and every row synced for it, in
// one transaction. Audit events are kept.
func (s *Store) DeleteIntegration(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(t *tx) error {
		for _, tb := range syncedTables {
			if err := t.db.Exec(`DELETE FROM `+tb+` WHERE integration_id = ?`, id).Error; err != nil {
				return fmt.Errorf("delete %s: %w", tb, err)
			}
		}
		res := t.db.Exec(`DELETE FROM integrations WHERE id = ?`, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete integration %s: %w", id, err)
	}
	return nil
}

// Counts are an integration's totals, with the simulator's /summary meaning:
// Items leaves out drive roots; Permissions counts sharing set on the item
// itself (sharedPermission: not inherited, not the owner's, not limited
// access or an existingAccess link); SharedItems counts items with at least
// one such permission; ByScope splits Permissions by link scope, with a grant
// to Everyone except external users under "organization" and "direct" for
// the other grants without a link.
type Counts struct {
	Users, Drives, Items, SharedItems, Permissions int64
	ByScope                                        map[string]int64
}

// sharingPermission selects the permissions Counts counts: an integration's
// sharing, by the one definition the lists and flags use.
const sharingPermission = `p.integration_id = ? AND ` + sharedPermission

// CountsForIntegration returns the integration's totals.
func (s *Store) CountsForIntegration(ctx context.Context, integrationID string) (Counts, error) {
	c := Counts{ByScope: map[string]int64{}}
	db := s.rdb.WithContext(ctx)
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&c.Users, `SELECT COUNT(*) FROM users WHERE integration_id = ?`},
		{&c.Drives, `SELECT COUNT(*) FROM drives WHERE integration_id = ?`},
		{&c.Items, `SELECT COUNT(*) FROM drive_items WHERE integration_id = ? AND NOT is_root`},
		{&c.SharedItems, `SELECT COUNT(DISTINCT p.item_id) FROM permissions p WHERE ` + sharingPermission},
		{&c.Permissions, `SELECT COUNT(*) FROM permissions p WHERE ` + sharingPermission},
	} {
		if err := db.Raw(q.sql, integrationID).Scan(q.dst).Error; err != nil {
			return c, fmt.Errorf("count for integration %s: %w", integrationID, err)
		}
	}
	var byScope []struct {
		Scope string
		N     int64
	}
	err := db.Raw(`SELECT CASE WHEN `+scopeOrganization+` THEN 'organization' ELSE COALESCE(p.link_scope, 'direct') END AS scope, COUNT(*) AS n FROM permissions p WHERE `+sharingPermission+` GROUP BY 1`, integrationID).
		Scan(&byScope).Error
	if err != nil {
		return c, fmt.Errorf("count permissions by scope: %w", err)
	}
	for _, r := range byScope {
		c.ByScope[r.Scope] = r.N
	}
	return c, nil
}
