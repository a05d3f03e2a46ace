package models

import "time"

// Link scopes as Graph reports them on sharing links.
const (
	LinkScopeAnonymous    = "anonymous"
	LinkScopeOrganization = "organization"
	LinkScopeUsers        = "users"
)

// Kinds of GrantedToKind.
const (
	GranteeUser  = "user"
	GranteeGroup = "group"
)

// Permission is one current permission of a drive item. Inherited entries
// carry the ancestor's permission id, so the key is (integration, item, id).
type Permission struct {
	IntegrationID string `gorm:"column:integration_id;primaryKey"`
	DriveID       string `gorm:"column:drive_id"`
	ItemID        string `gorm:"column:item_id;primaryKey"`
	ID            string `gorm:"column:id;primaryKey"`
	// Roles is comma-separated and sorted, e.g. "read" or "owner,write".
	Roles                string     `gorm:"column:roles"`
	LinkType             string     `gorm:"column:link_type"`
	LinkScope            *string    `gorm:"column:link_scope"` // nil for grants without a link
	LinkWebURL           string     `gorm:"column:link_web_url"`
	LinkPreventsDownload bool       `gorm:"column:link_prevents_download"`
	ExpiresAt            *time.Time `gorm:"column:expires_at"` // nil = no expiry
	HasPassword          bool       `gorm:"column:has_password"`
	GrantedToID          string     `gorm:"column:granted_to_id"`
	GrantedToDisplayName string     `gorm:"column:granted_to_display_name"`
	GrantedToEmail       string     `gorm:"column:granted_to_email"`
	GrantedToKind        string     `gorm:"column:granted_to_kind"` // user | group | ""
	// GrantedToExternal is true for a guest or someone outside the tenant's domains.
	GrantedToExternal bool `gorm:"column:granted_to_external"`
	// GrantedToIdentities lists the people a "users" link was given to.
	GrantedToIdentities Identities `gorm:"column:granted_to_identities"`
	InvitationEmail     string     `gorm:"column:invitation_email"`
	Inherited           bool       `gorm:"column:inherited"`
	InheritedFromID     *string    `gorm:"column:inherited_from_id"`
	SyncedAt            time.Time  `gorm:"column:synced_at"`
}

func (Permission) TableName() string { return "permissions" }

// IsLink reports whether the permission is a sharing link.
func (p *Permission) IsLink() bool { return p.LinkScope != nil }

// Scope returns the link scope, or "" for a grant without a link.
func (p *Permission) Scope() string {
	if p.LinkScope == nil {
		return ""
	}
	return *p.LinkScope
}
