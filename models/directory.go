package models

import "time"

// User types as Graph reports them.
const (
	UserTypeMember = "Member"
	UserTypeGuest  = "Guest"
)

// User is a directory user of a tenant.
type User struct {
	IntegrationID     string     `gorm:"column:integration_id;primaryKey"`
	ID                string     `gorm:"column:id;primaryKey"`
	DisplayName       string     `gorm:"column:display_name"`
	UserPrincipalName string     `gorm:"column:user_principal_name"`
	Mail              string     `gorm:"column:mail"`
	UserType          string     `gorm:"column:user_type"`
	AccountEnabled    bool       `gorm:"column:account_enabled"`
	JobTitle          string     `gorm:"column:job_title"`
	Department        string     `gorm:"column:department"`
	CreatedDateTime   *time.Time `gorm:"column:created_date_time"`
	ManagerID         string     `gorm:"column:manager_id"`
	// LicenseSkuIDs is stored as a JSON text array.
	LicenseSkuIDs StringList `gorm:"column:license_sku_ids"`
	// HasDrive is nil until the user's drive was looked up, false when the
	// user has no OneDrive (Graph answered 404).
	HasDrive *bool     `gorm:"column:has_drive"`
	SyncedAt time.Time `gorm:"column:synced_at"`
}

func (User) TableName() string { return "users" }

// IsGuest reports whether the user is a guest (B2B) account.
func (u *User) IsGuest() bool { return u.UserType == UserTypeGuest }

// Drive is a user's OneDrive.
type Drive struct {
	IntegrationID  string    `gorm:"column:integration_id;primaryKey"`
	ID             string    `gorm:"column:id;primaryKey"`
	OwnerUserID    string    `gorm:"column:owner_user_id"`
	Name           string    `gorm:"column:name"`
	DriveType      string    `gorm:"column:drive_type"`
	WebURL         string    `gorm:"column:web_url"`
	RootID         string    `gorm:"column:root_id"`
	QuotaTotal     int64     `gorm:"column:quota_total"`
	QuotaUsed      int64     `gorm:"column:quota_used"`
	QuotaRemaining int64     `gorm:"column:quota_remaining"`
	QuotaDeleted   int64     `gorm:"column:quota_deleted"`
	QuotaState     string    `gorm:"column:quota_state"`
	SyncedAt       time.Time `gorm:"column:synced_at"`
}

func (Drive) TableName() string { return "drives" }
