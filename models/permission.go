package models

import (
	"strings"
	"time"
)

// Link scopes as Graph reports them on sharing links.
const (
	LinkScopeAnonymous    = "anonymous"
	LinkScopeOrganization = "organization"
	LinkScopeUsers        = "users"
)

// Kinds of GrantedToKind.
const (
	GranteeUser        = "user"
	GranteeGroup       = "group"
	GranteeApplication = "application"
	// GranteeOrganization is the claims principal "Everyone except external users": every
	// member of the tenant, so the grant is organisation-wide.
	GranteeOrganization = "organization"
)

// Kinds SharePoint lists that are not sharing (store.sharedPermission leaves them out).
const (
	// RoleLimitedAccess: the principal may reach something below the item, not the item.
	RoleLimitedAccess = "sp.limited access"
	// LinkScopeExistingAccess: a link for people who already have access; grants nothing.
	LinkScopeExistingAccess = "existingAccess"
)

// Permission is one current permission of a drive item, keyed (integration, item, id):
// SharePoint names a grant after its principal, so one user's grant has the same id on a
// folder and on its uniquely shared child.
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
	GrantedToKind        string     `gorm:"column:granted_to_kind"` // user | group | application | organization | ""
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

// IsSharing reports whether the permission is sharing of the item's own: set on the item,
// and not the owner's grant, limited access or an existingAccess link (store.sharedPermission
// is the same condition in SQL).
func (p *Permission) IsSharing() bool {
	if p.Inherited || p.Scope() == LinkScopeExistingAccess {
		return false
	}
	for _, r := range strings.Split(p.Roles, ",") {
		if r == "owner" || strings.EqualFold(r, RoleLimitedAccess) {
			return false
		}
	}
	return true
}

// SharingScope is who the permission reaches: a link's scope; organization for a grant to
// Everyone except external users; users for any other grant.
func (p *Permission) SharingScope() string {
	switch {
	case p.LinkScope != nil:
		return *p.LinkScope
	case p.GrantedToKind == GranteeOrganization:
		return LinkScopeOrganization
	}
	return LinkScopeUsers
}
