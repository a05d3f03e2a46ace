package model

import (
	"strings"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/models"
)

// The stored rows as the API shows them. Each is a defined type over its row type in package
// models (a pointer converts either way for free), so that gqlgen.yml binds every field that
// needs no lookup to a struct field or to a method without a context: gqlgen reads those in
// place, where a resolver costs its bookkeeping, and a goroutine, per field and row. Fields that
// load something (an item's permissions, a drive's owner, counts) stay resolvers.
type (
	DriveItem    models.DriveItem
	Permission   models.Permission
	Drive        models.Drive
	User         models.User
	Integration  models.Integration
	SyncRun      models.SyncRun
	AuditEvent   models.AuditEvent
	SyncProgress events.Progress
)

// OrNull returns nil for "", so that empty stored text reads as null.
func OrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var scopeToEnum = map[string]SharingScope{
	models.LinkScopeAnonymous:    SharingScopeAnonymous,
	models.LinkScopeOrganization: SharingScopeOrganization,
	models.LinkScopeUsers:        SharingScopeUsers,
}

// ScopeOf returns the enum of a stored link scope, nil for none or an unknown one.
func ScopeOf(s string) *SharingScope {
	if e, ok := scopeToEnum[s]; ok {
		return &e
	}
	return nil
}

// NewIdentity returns the identity, or nil when nothing names anyone.
func NewIdentity(id, name, email string, external bool, kind string) *Identity {
	if id == "" && name == "" && email == "" {
		return nil
	}
	return &Identity{ID: OrNull(id), DisplayName: OrNull(name), Email: OrNull(email), External: external, Kind: OrNull(kind)}
}

func (i *DriveItem) GlobalID() string        { return EncodeID(TypeDriveItem, i.IntegrationID, i.ID) }
func (i *DriveItem) WebURLOrNull() *string   { return OrNull(i.WebURL) }
func (i *DriveItem) MimeTypeOrNull() *string { return OrNull(i.MimeType) }
func (i *DriveItem) CreatedBy() *Identity {
	return NewIdentity(i.CreatedByID, i.CreatedByName, i.CreatedByEmail, false, "")
}
func (i *DriveItem) ModifiedBy() *Identity {
	return NewIdentity(i.LastModifiedByID, i.LastModifiedByName, i.LastModifiedByEmail, false, "")
}

// Scope returns the link scope, or "" for a grant without a link.
func (p *Permission) Scope() string { return (*models.Permission)(p).Scope() }

// SharingScope is who the permission reaches (models.Permission.SharingScope).
func (p *Permission) SharingScope() string { return (*models.Permission)(p).SharingScope() }

// IsSharing reports sharing of the item's own (models.Permission.IsSharing).
func (p *Permission) IsSharing() bool { return (*models.Permission)(p).IsSharing() }

// ScopeEnum is the API's scope: nil for an existingAccess link, which reaches nobody new.
func (p *Permission) ScopeEnum() *SharingScope {
	if p.Scope() == models.LinkScopeExistingAccess {
		return nil
	}
	return ScopeOf(p.SharingScope())
}

// Application is the application of an application grant, nil otherwise.
func (p *Permission) Application() *Application {
	if p.GrantedToKind != models.GranteeApplication {
		return nil
	}
	return &Application{ID: OrNull(p.GrantedToID), DisplayName: p.GrantedToDisplayName}
}

func (p *Permission) GlobalID() string {
	return EncodeID(TypePermission, p.IntegrationID, p.ItemID, p.ID)
}

// RoleList splits the stored comma-separated roles.
func (p *Permission) RoleList() []string {
	roles := []string{}
	for _, r := range strings.Split(p.Roles, ",") {
		if r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

// Link is the sharing link, nil for a grant without one.
func (p *Permission) Link() *SharingLink {
	if p.LinkScope == nil {
		return nil
	}
	l := &SharingLink{
		Type: p.LinkType, Scope: ScopeOf(*p.LinkScope), WebURL: OrNull(p.LinkWebURL), ExpiresAt: p.ExpiresAt,
		Expired: p.ExpiresAt != nil && !p.ExpiresAt.After(time.Now()), PreventsDownload: p.LinkPreventsDownload,
	}
	// Graph answers hasPassword false on OneDrive for Business whatever the link has: false
	// means "not reported", never "no password".
	if p.HasPassword {
		l.HasPassword = &p.HasPassword
	}
	return l
}

func (p *Permission) GrantedTo() *Identity {
	return NewIdentity(p.GrantedToID, p.GrantedToDisplayName, p.GrantedToEmail, p.GrantedToExternal, p.GrantedToKind)
}

// GrantedToIdentityList lists the people a specific-people link was given to.
func (p *Permission) GrantedToIdentityList() []*Identity {
	out := make([]*Identity, 0, len(p.GrantedToIdentities))
	for _, id := range p.GrantedToIdentities {
		if v := NewIdentity(id.ID, id.DisplayName, id.Email, id.External, models.GranteeUser); v != nil {
			out = append(out, v)
		}
	}
	return out
}

func (d *Drive) GlobalID() string      { return EncodeID(TypeDrive, d.IntegrationID, d.ID) }
func (d *Drive) WebURLOrNull() *string { return OrNull(d.WebURL) }

// AccessReasonOrNull is why the last sync could not read the drive; nil when it could.
func (d *Drive) AccessReasonOrNull() *string { return OrNull(d.AccessReason) }
func (d *Drive) Quota() *Quota {
	return &Quota{Total: d.QuotaTotal, Used: d.QuotaUsed, Remaining: d.QuotaRemaining, Deleted: d.QuotaDeleted, State: d.QuotaState}
}

func (u *User) GlobalID() string          { return EncodeID(TypeUser, u.IntegrationID, u.ID) }
func (u *User) MailOrNull() *string       { return OrNull(u.Mail) }
func (u *User) Guest() bool               { return u.UserType == models.UserTypeGuest }
func (u *User) JobTitleOrNull() *string   { return OrNull(u.JobTitle) }
func (u *User) DepartmentOrNull() *string { return OrNull(u.Department) }

// LicensesNamed lists the user's licences with their names from the tenant's
// subscriptions (f, nil before a first sync); an unknown SKU has no name.
func (u *User) LicensesNamed(f *models.TenantFacts) []*License {
	out := make([]*License, len(u.LicenseSkuIDs))
	for i, sku := range u.LicenseSkuIDs {
		out[i] = &License{SkuID: sku}
		if f != nil {
			out[i].SkuPartNumber = OrNull(f.SkuName(sku))
		}
	}
	return out
}

func (i *Integration) GlobalID() string         { return EncodeID(TypeIntegration, i.ID) }
func (i *Integration) LastErrorOrNull() *string { return OrNull(i.LastError) }
func (i *Integration) CertificateThumbprintOrNull() *string {
	return OrNull(i.CertificateThumbprint)
}

func (r *SyncRun) GlobalID() string     { return EncodeID(TypeSyncRun, r.ID) }
func (r *SyncRun) ErrorOrNull() *string { return OrNull(r.Error) }

func (e *AuditEvent) GlobalID() string            { return EncodeID(TypeAuditEvent, e.ID) }
func (e *AuditEvent) IntegrationGlobalID() string { return EncodeID(TypeIntegration, e.IntegrationID) }
func (e *AuditEvent) ActorNameOrNull() *string    { return OrNull(e.ActorName) }
func (e *AuditEvent) ItemIDOrNull() *string       { return OrNull(e.ItemID) }
func (e *AuditEvent) ItemNameOrNull() *string     { return OrNull(e.ItemName) }
func (e *AuditEvent) ItemPathOrNull() *string     { return OrNull(e.ItemPath) }
func (e *AuditEvent) PermissionIDOrNull() *string { return OrNull(e.PermissionID) }
func (e *AuditEvent) LinkTypeOrNull() *string     { return OrNull(e.LinkType) }
func (e *AuditEvent) LinkScopeOrNull() *string    { return OrNull(e.LinkScope) }
func (e *AuditEvent) LinkWebURLOrNull() *string   { return OrNull(e.LinkWebURL) }
func (e *AuditEvent) GrantedToOrNull() *string    { return OrNull(e.GrantedTo) }
func (e *AuditEvent) MessageOrNull() *string      { return OrNull(e.Message) }

func (p *SyncProgress) RunGlobalID() string { return EncodeID(TypeSyncRun, p.RunID) }
func (p *SyncProgress) IntegrationGlobalID() string {
	return EncodeID(TypeIntegration, p.IntegrationID)
}
func (p *SyncProgress) ErrorOrNull() *string { return OrNull(p.Error) }
