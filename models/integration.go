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
	CreatedAt             time.Time         `gorm:"column:created_at"`
	UpdatedAt             time.Time         `gorm:"column:updated_at"`
}

func (Integration) TableName() string { return "integrations" }

// SyncInterval returns the configured incremental sync period.
func (i *Integration) SyncInterval() time.Duration {
	if i.SyncIntervalSeconds <= 0 {
		return DefaultSyncIntervalSeconds * time.Second
	}
	return time.Duration(i.SyncIntervalSeconds) * time.Second
}
