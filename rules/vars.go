package rules

import (
	"strings"
	"time"

	"github.com/overshare/overshare/models"
)

// Scopes a permission reaches (Permission.Scope).
const (
	ScopeAnonymous    = models.LinkScopeAnonymous
	ScopeOrganization = models.LinkScopeOrganization
	ScopeUsers        = models.LinkScopeUsers
	// ScopeDirect is a grant to a person or group without a link.
	ScopeDirect = "direct"
)

// Item is the variable item. Times are zero when Graph gave none.
type Item struct {
	ID         string    `cel:"id"`
	DriveID    string    `cel:"driveId"`
	Name       string    `cel:"name"`
	Path       string    `cel:"path"`
	Size       int64     `cel:"size"`
	IsFolder   bool      `cel:"isFolder"`
	MimeType   string    `cel:"mimeType"`
	ModifiedAt time.Time `cel:"modifiedAt"`
	CreatedAt  time.Time `cel:"createdAt"`
	// ItemsBelow and SizeBelow are a folder's blast radius: how many items
	// and bytes its sharing reaches (0 for a file).
	ItemsBelow int64 `cel:"itemsBelow"`
	SizeBelow  int64 `cel:"sizeBelow"`
}

// Permission is the variable permission.
type Permission struct {
	ID string `cel:"id"`
	// Scope is who the permission reaches: anonymous, organization, users
	// (a link for named people) or direct (a grant without a link).
	Scope       string    `cel:"scope"`
	Roles       []string  `cel:"roles"`
	CanEdit     bool      `cel:"canEdit"`
	LinkType    string    `cel:"linkType"`
	HasExpiry   bool      `cel:"hasExpiry"`
	ExpiresAt   time.Time `cel:"expiresAt"`
	HasPassword bool      `cel:"hasPassword"`
	Inherited   bool      `cel:"inherited"`
	// GranteeEmail and GranteeDomain are lower-case; Domains holds the
	// domains of every person the permission names (grantee, invitation,
	// the people of a users link).
	GranteeEmail  string   `cel:"granteeEmail"`
	GranteeDomain string   `cel:"granteeDomain"`
	GranteeKind   string   `cel:"granteeKind"`
	Domains       []string `cel:"domains"`
	Guest         bool     `cel:"guest"`
	External      bool     `cel:"external"`
	// Enabled is false when the grantee's account is disabled.
	Enabled bool `cel:"enabled"`
}

// Owner is the variable owner: the drive's owner.
type Owner struct {
	ID         string `cel:"id"`
	Email      string `cel:"email"`
	Enabled    bool   `cel:"enabled"`
	UserType   string `cel:"userType"`
	Department string `cel:"department"`
}

// Drive is the variable drive.
type Drive struct {
	ID        string `cel:"id"`
	Name      string `cel:"name"`
	DriveType string `cel:"driveType"`
	QuotaUsed int64  `cel:"quotaUsed"`
}

// ItemFrom maps a drive item row; itemsBelow and sizeBelow are counted by
// the caller (the store knows the tree).
func ItemFrom(d *models.DriveItem, itemsBelow, sizeBelow int64) Item {
	return Item{
		ID: d.ID, DriveID: d.DriveID, Name: d.Name, Path: d.Path, Size: d.Size,
		IsFolder: d.IsFolder, MimeType: d.MimeType,
		ModifiedAt: timeOf(d.LastModifiedDateTime), CreatedAt: timeOf(d.CreatedDateTime),
		ItemsBelow: itemsBelow, SizeBelow: sizeBelow,
	}
}

// PermissionFrom maps a permission row. grantee is the directory user the
// permission is granted to, nil when it is not a user of the tenant (a group,
// a link, someone outside): only a known user can be a disabled one.
func PermissionFrom(p *models.Permission, grantee *models.User) Permission {
	out := Permission{
		ID: p.ID, Scope: scopeOf(p), Roles: rolesOf(p.Roles), LinkType: p.LinkType,
		HasExpiry: p.ExpiresAt != nil, ExpiresAt: timeOf(p.ExpiresAt),
		HasPassword: p.HasPassword, Inherited: p.Inherited,
		GranteeEmail: strings.ToLower(p.GrantedToEmail), GranteeKind: p.GrantedToKind,
		External: p.GrantedToExternal, Enabled: true,
	}
	out.GranteeDomain = domainOf(out.GranteeEmail)
	out.CanEdit = p.LinkType == "edit" || hasAny(out.Roles, "write", "owner", "sp.full control")
	out.Domains = domainsOf(p)
	for _, id := range p.GrantedToIdentities {
		out.External = out.External || id.External
	}
	if grantee != nil {
		out.Guest = grantee.IsGuest()
		out.External = out.External || out.Guest
		out.Enabled = grantee.AccountEnabled
	}
	return out
}

// OwnerFrom maps the drive owner's user row; nil (owner unknown) is an
// enabled member, so that no rule fires on a guess.
func OwnerFrom(u *models.User) Owner {
	if u == nil {
		return Owner{Enabled: true, UserType: models.UserTypeMember}
	}
	email := u.Mail
	if email == "" {
		email = u.UserPrincipalName
	}
	return Owner{ID: u.ID, Email: strings.ToLower(email), Enabled: u.AccountEnabled,
		UserType: u.UserType, Department: u.Department}
}

// DriveFrom maps a drive row.
func DriveFrom(d *models.Drive) Drive {
	return Drive{ID: d.ID, Name: d.Name, DriveType: d.DriveType, QuotaUsed: d.QuotaUsed}
}

// scopeOf is models.Permission.SharingScope with grants told apart from
// users links: "direct" needs no link to be clicked.
func scopeOf(p *models.Permission) string {
	if p.LinkScope == nil && p.GrantedToKind != models.GranteeOrganization {
		return ScopeDirect
	}
	return p.SharingScope()
}

func rolesOf(roles string) []string {
	if roles == "" {
		return nil
	}
	return strings.Split(strings.ToLower(roles), ",")
}

func domainsOf(p *models.Permission) []string {
	var out []string
	add := func(email string) {
		d := domainOf(strings.ToLower(email))
		if d != "" && !hasAny(out, d) {
			out = append(out, d)
		}
	}
	add(p.GrantedToEmail)
	add(p.InvitationEmail)
	for _, id := range p.GrantedToIdentities {
		add(id.Email)
	}
	return out
}

func domainOf(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

func hasAny(list []string, want ...string) bool {
	for _, s := range list {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
