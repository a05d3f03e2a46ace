package models

import "time"

// Kinds of SharingEvent.
const (
	// SharingFirstSeen is the sharing an item had when Overshare first read its drive: one
	// event per shared item, holding all its permissions, instead of one "added" each.
	SharingFirstSeen = "first_seen"
	SharingAdded     = "added"
	SharingRemoved   = "removed"
	// SharingChanged: the same permission with other roles, scope, expiry or recipients.
	SharingChanged = "changed"
	// SharingLinkExpired: a link's expiry passed. Microsoft 365 keeps listing the link until
	// someone removes it, so the permission stays; it no longer gives access.
	SharingLinkExpired = "link_expired"
)

// Sources of a SharingEvent: who made the change.
const (
	// SourceMicrosoft365: a sync found the change made in Microsoft 365.
	SourceMicrosoft365 = "microsoft365"
	// SourceOvershare: an admin made it through Overshare (ActorSubject, ActorName say who).
	SourceOvershare = "overshare"
	// SourceItemDeleted: the item (or its drive) was deleted, and its sharing with it.
	SourceItemDeleted = "item_deleted"
	// SourceClock: time passed (a link expired).
	SourceClock = "clock"
)

// SharingEvent is one change of one item's own sharing, written by the store in the same
// transaction as the change it records. Before and After hold the permissions concerned as they
// were and became (one for a single permission, all of them for first_seen); item name and
// path are copied so that the event stays readable after the item is gone.
type SharingEvent struct {
	ID            int64     `gorm:"column:id;primaryKey;autoIncrement"`
	IntegrationID string    `gorm:"column:integration_id"`
	DriveID       string    `gorm:"column:drive_id"`
	ItemID        string    `gorm:"column:item_id"`
	ItemName      string    `gorm:"column:item_name"`
	ItemPath      string    `gorm:"column:item_path"`
	Kind          string    `gorm:"column:kind"`
	PermissionID  string    `gorm:"column:permission_id"` // "" for first_seen
	Source        string    `gorm:"column:source"`
	ActorSubject  string    `gorm:"column:actor_subject"`
	ActorName     string    `gorm:"column:actor_name"`
	ObservedAt    time.Time `gorm:"column:observed_at"`
	// ItemModifiedAt and ItemModifiedBy are the item's lastModifiedDateTime and modifier as
	// Graph gave them with the change, where it did (Graph says nothing of who shared).
	ItemModifiedAt *time.Time     `gorm:"column:item_modified_at"`
	ItemModifiedBy string         `gorm:"column:item_modified_by"`
	Before         GrantSnapshots `gorm:"column:before"`
	After          GrantSnapshots `gorm:"column:after"`
	// ExposureBefore and ExposureAfter are the item's exposure (Exposure* bits) around the event.
	ExposureBefore int `gorm:"column:exposure_before"`
	ExposureAfter  int `gorm:"column:exposure_after"`
}

func (SharingEvent) TableName() string { return "sharing_events" }

// Exposure bits: who an item's live sharing reaches.
const (
	ExposureAnonymous    = 1 << iota // anyone with a link
	ExposureOrganization             // everyone in the organisation
	ExposureExternal                 // a guest or outsider
)

// ExposureBeyondOrganization is exposure that ends only when it is fixed: anonymous or external.
const ExposureBeyondOrganization = ExposureAnonymous | ExposureExternal

// Levels of ExposureInterval.
const (
	LevelAnonymous    = "anonymous"
	LevelOrganization = "organization"
	LevelExternal     = "external"
	// LevelBeyond is anonymous or external: shared beyond the organisation. Its intervals are
	// what "time to fix" measures, without counting an item twice for having both.
	LevelBeyond = "beyond"
)

// ExposureInterval is one stretch of time an item was exposed at one level: opened and closed
// by the store with the events that start and end it.
type ExposureInterval struct {
	ID            int64      `gorm:"column:id;primaryKey;autoIncrement"`
	IntegrationID string     `gorm:"column:integration_id"`
	DriveID       string     `gorm:"column:drive_id"`
	ItemID        string     `gorm:"column:item_id"`
	Level         string     `gorm:"column:level"`
	StartedAt     time.Time  `gorm:"column:started_at"`
	EndedAt       *time.Time `gorm:"column:ended_at"` // nil while it lasts
	// FromFirstSeen: the exposure was there when Overshare first looked, so it began at or
	// before StartedAt.
	FromFirstSeen bool `gorm:"column:from_first_seen"`
}

func (ExposureInterval) TableName() string { return "exposure_intervals" }

// GrantSnapshot is what a sharing event keeps of one permission: who it reaches and how, and
// nothing that changes without a change of sharing (no sync times).
type GrantSnapshot struct {
	ID               string     `json:"id"`
	Roles            string     `json:"roles,omitempty"`
	LinkType         string     `json:"linkType,omitempty"`
	Scope            string     `json:"scope"` // Permission.SharingScope
	ExpiresAt        *time.Time `json:"expiresAt,omitempty"`
	HasPassword      bool       `json:"hasPassword,omitempty"`
	PreventsDownload bool       `json:"preventsDownload,omitempty"`
	GrantedTo        string     `json:"grantedTo,omitempty"`
	GrantedToEmail   string     `json:"grantedToEmail,omitempty"`
	External         bool       `json:"external,omitempty"`
	// Recipients are the people a "users" link was given to (e-mail, else name, else id).
	Recipients []string `json:"recipients,omitempty"`
}

// GrantSnapshots is a list of GrantSnapshot stored as a JSON text array.
type GrantSnapshots []GrantSnapshot
