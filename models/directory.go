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
	HasDrive *bool `gorm:"column:has_drive"`
	// DriveCheckedAt is when the drive was last looked up; users without a
	// OneDrive are looked up again when it is older than the re-check
	// interval (a OneDrive is provisioned late, on first use or by an admin).
	DriveCheckedAt *time.Time `gorm:"column:drive_checked_at"`
	SyncedAt       time.Time  `gorm:"column:synced_at"`
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
	// Access is "" when the drive was read, else why the last sync could not
	// read it (DriveLocked, DriveNoAccess); AccessReason says it in words and
	// AccessSince is when it was first seen so.
	Access       DriveAccess `gorm:"column:access_state"`
	AccessReason string      `gorm:"column:access_reason"`
	AccessSince  *time.Time  `gorm:"column:access_since"`
}

// DriveAccess is why a drive could not be read.
type DriveAccess string

const (
	DriveReadable DriveAccess = ""
	// DriveLocked: the drive's SharePoint site is locked (423).
	DriveLocked DriveAccess = "LOCKED"
	// DriveNoAccess: Microsoft 365 does not let the app open the drive (403).
	DriveNoAccess DriveAccess = "NO_ACCESS"
)

// UnknownDrivePrefix starts the id of a drive row that stands for a OneDrive
// whose Graph id is not known: its owner's drive answered locked or closed
// before the drive was ever read. The row goes when the real drive is read.
const UnknownDrivePrefix = "unknown-drive:"

// IsUnknownDriveID reports a placeholder id (UnknownDrivePrefix).
func IsUnknownDriveID(id string) bool {
	return len(id) > len(UnknownDrivePrefix) && id[:len(UnknownDrivePrefix)] == UnknownDrivePrefix
}

func (Drive) TableName() string { return "drives" }
