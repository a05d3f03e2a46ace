package models

import "time"

// DriveItem is the current state of one file or folder of a drive.
type DriveItem struct {
	IntegrationID string `gorm:"column:integration_id;primaryKey"`
	DriveID       string `gorm:"column:drive_id"`
	ID            string `gorm:"column:id;primaryKey"`
	ParentID      string `gorm:"column:parent_id"`
	Name          string `gorm:"column:name"`
	// Path is "/" for the root and "/Folder/file.docx" below it. Delta
	// returns no paths: a new row takes the one the sync engine derived, and
	// a round's last page recomputes them from parent chains when needed
	// (store.SyncPage.RecomputePaths); upserts never overwrite it on
	// existing rows.
	Path                 string     `gorm:"column:path"`
	IsRoot               bool       `gorm:"column:is_root"`
	IsFolder             bool       `gorm:"column:is_folder"`
	Size                 int64      `gorm:"column:size"`
	MimeType             string     `gorm:"column:mime_type"`
	WebURL               string     `gorm:"column:web_url"`
	CreatedDateTime      *time.Time `gorm:"column:created_date_time"`
	LastModifiedDateTime *time.Time `gorm:"column:last_modified_date_time"`
	CreatedByID          string     `gorm:"column:created_by_id"`
	CreatedByName        string     `gorm:"column:created_by_name"`
	CreatedByEmail       string     `gorm:"column:created_by_email"`
	LastModifiedByID     string     `gorm:"column:last_modified_by_id"`
	LastModifiedByName   string     `gorm:"column:last_modified_by_name"`
	LastModifiedByEmail  string     `gorm:"column:last_modified_by_email"`
	// SharedScope is the delta `shared` facet's scope when the facet was
	// present (anonymous | organization | users), "" for an empty facet and
	// nil when the item carried no facet.
	SharedScope *string `gorm:"column:shared_scope"`
	// HasOwnPermissions marks the root of a permission hierarchy: the item
	// holds at least one permission that is not inherited. It is maintained
	// by the writes of permissions (store.SyncPage.Permissions and the
	// sharing actions); upserts never overwrite it on existing rows.
	HasOwnPermissions bool `gorm:"column:has_own_permissions"`
	// SharingFlags is a bitmask summarising the item's own sharing (anonymous link, external
	// recipient, link without expiry, …) that serves the sharing filters from an index. It is
	// maintained by the store from the permissions, never by callers: gorm only reads it.
	SharingFlags int `gorm:"column:sharing_flags;->"`
	// SeenGeneration is the drive's generation when the item was last
	// written, for mark-and-sweep after a full re-enumeration.
	SeenGeneration int64     `gorm:"column:seen_generation"`
	SyncedAt       time.Time `gorm:"column:synced_at"`
}

func (DriveItem) TableName() string { return "drive_items" }
