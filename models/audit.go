package models

import "time"

// Audit actions.
const (
	AuditStopSharing       = "stop_sharing"
	AuditSetLinkExpiration = "set_link_expiration"
)

// Audit results.
const (
	AuditRemoved        = "removed"
	AuditAlreadyRemoved = "already_removed"
	AuditFailed         = "failed"
	AuditUpdated        = "updated"
)

// AuditEvent records one action taken on a tenant through Overshare. The item
// and permission fields are copied, so the event stays readable after the
// item or permission is gone.
type AuditEvent struct {
	ID            string    `gorm:"column:id;primaryKey"`
	IntegrationID string    `gorm:"column:integration_id"`
	At            time.Time `gorm:"column:at"`
	ActorSubject  string    `gorm:"column:actor_subject"`
	ActorName     string    `gorm:"column:actor_name"`
	Action        string    `gorm:"column:action"`
	DriveID       string    `gorm:"column:drive_id"`
	ItemID        string    `gorm:"column:item_id"`
	ItemName      string    `gorm:"column:item_name"`
	ItemPath      string    `gorm:"column:item_path"`
	PermissionID  string    `gorm:"column:permission_id"`
	LinkType      string    `gorm:"column:link_type"`
	LinkScope     string    `gorm:"column:link_scope"`
	LinkWebURL    string    `gorm:"column:link_web_url"`
	GrantedTo     string    `gorm:"column:granted_to"`
	Result        string    `gorm:"column:result"`
	Message       string    `gorm:"column:message"`
}

func (AuditEvent) TableName() string { return "audit_events" }
