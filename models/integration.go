package models

import "time"

// IntegrationStatus is the state of a connected tenant as people see it.
type IntegrationStatus string

const (
	IntegrationActive  IntegrationStatus = "ACTIVE"
	IntegrationPaused  IntegrationStatus = "PAUSED"
	IntegrationError   IntegrationStatus = "ERROR"
	IntegrationSyncing IntegrationStatus = "SYNCING"
)

// CredentialType says how the app registration signs in to Microsoft Entra ID.
type CredentialType string

const (
	CredentialSecret      CredentialType = "SECRET"      // a client secret
	CredentialCertificate CredentialType = "CERTIFICATE" // a certificate and its private key (client assertions)
)

// WatchMode says how an integration learns of changes between its scheduled syncs.
type WatchMode string

const (
	// WatchNotifications: Graph calls /webhooks/graph when a drive changes, and that drive
	// syncs within seconds; the scheduled sync goes on as the safety net.
	WatchNotifications WatchMode = "NOTIFICATIONS"
	// WatchPolling: only the scheduled sync finds changes (no public URL, or Graph could
	// not reach it).
	WatchPolling WatchMode = "POLLING"
)

// GraphSubscription is a change-notification subscription on one drive's root. The
// clientState is encrypted and read only through store.SubscriptionClientState.
type GraphSubscription struct {
	ID                    string     `gorm:"column:id;primaryKey"`
	IntegrationID         string     `gorm:"column:integration_id"`
	DriveID               string     `gorm:"column:drive_id"`
	ClientStateCiphertext []byte     `gorm:"column:client_state_ciphertext" json:"-"`
	ClientStateKeyID      string     `gorm:"column:client_state_key_id" json:"-"`
	ExpiresAt             time.Time  `gorm:"column:expires_at"`
	CreatedAt             time.Time  `gorm:"column:created_at"`
	RenewedAt             time.Time  `gorm:"column:renewed_at"`
	NotifiedAt            *time.Time `gorm:"column:notified_at"`
	// PendingSince is set by an accepted notification and cleared when a sync of the drive
	// starts: a drive with it set waits for the notification sync.
	PendingSince  *time.Time `gorm:"column:pending_since"`
	Notifications int64      `gorm:"column:notifications"`
}

// TableName implements gorm's tabler.
func (GraphSubscription) TableName() string { return "graph_subscriptions" }

// DefaultSyncIntervalSeconds is the default period of the incremental sync.
const DefaultSyncIntervalSeconds = 900

// Integration is one connected Microsoft 365 tenant (an Entra ID app
// registration). It has no plaintext secret or key field on purpose: the
// credential is written by store.CreateIntegrationWithCredential/SetCredential
// and read only through store.IntegrationCredential.
type Integration struct {
	ID       string `gorm:"column:id;primaryKey"`
	Name     string `gorm:"column:name"`
	TenantID string `gorm:"column:tenant_id"`
	ClientID string `gorm:"column:client_id"`
	// SecretCiphertext is nonce || AES-256-GCM ciphertext of the client secret.
	SecretCiphertext []byte `gorm:"column:secret_ciphertext" json:"-"`
	// SecretKeyID names the key that encrypted SecretCiphertext (first 8 hex
	// characters of the SHA-256 of the key).
	SecretKeyID string `gorm:"column:secret_key_id" json:"-"`
	// SecretHint is the last 4 characters of the secret, to tell secrets apart.
	SecretHint string `gorm:"column:secret_hint"`
	// CredentialType is the credential the integration signs in with; the other one's columns
	// are empty.
	CredentialType CredentialType `gorm:"column:credential_type"`
	// CertificateCiphertext is nonce || AES-256-GCM ciphertext of the PEM holding the
	// certificate and its private key; CertificateKeyID names the key as SecretKeyID does.
	CertificateCiphertext []byte `gorm:"column:certificate_ciphertext" json:"-"`
	CertificateKeyID      string `gorm:"column:certificate_key_id" json:"-"`
	// CertificateThumbprint (SHA-1, upper-case hex, as the Entra admin center lists it) and
	// CertificateExpiresAt describe the certificate for people; they are public.
	CertificateThumbprint string            `gorm:"column:certificate_thumbprint"`
	CertificateExpiresAt  *time.Time        `gorm:"column:certificate_expires_at"`
	Status                IntegrationStatus `gorm:"column:status"`
	LastError             string            `gorm:"column:last_error"`
	LastSyncAt            *time.Time        `gorm:"column:last_sync_at"`
	NextSyncAt            *time.Time        `gorm:"column:next_sync_at"`
	SyncIntervalSeconds   int               `gorm:"column:sync_interval_seconds"`
	// WatchMode is how Overshare learns of changes (WatchNotifications or WatchPolling,
	// polling until the first upkeep after a sync) and WatchReason says why, in words.
	WatchMode   WatchMode `gorm:"column:watch_mode"`
	WatchReason string    `gorm:"column:watch_reason"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
}

func (Integration) TableName() string { return "integrations" }

// SyncInterval returns the configured incremental sync period.
func (i *Integration) SyncInterval() time.Duration {
	if i.SyncIntervalSeconds <= 0 {
		return DefaultSyncIntervalSeconds * time.Second
	}
	return time.Duration(i.SyncIntervalSeconds) * time.Second
}
