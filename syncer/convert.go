package syncer

import (
	"sort"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func userModel(integrationID string, u msgraph.User, at time.Time) models.User {
	skus := make(models.StringList, 0, len(u.Licenses))
	for _, l := range u.Licenses {
		skus = append(skus, l.SkuID)
	}
	return models.User{
		IntegrationID:     integrationID,
		ID:                u.ID,
		DisplayName:       u.DisplayName,
		UserPrincipalName: u.UserPrincipalName,
		Mail:              u.Mail,
		UserType:          u.UserType,
		AccountEnabled:    u.AccountEnabled,
		JobTitle:          u.JobTitle,
		Department:        u.Department,
		CreatedDateTime:   timePtr(u.CreatedAt),
		ManagerID:         u.ManagerID,
		LicenseSkuIDs:     skus,
		SyncedAt:          at,
	}
}

func driveModel(integrationID, ownerID string, d *msgraph.Drive, at time.Time) models.Drive {
	return models.Drive{
		IntegrationID:  integrationID,
		ID:             d.ID,
		OwnerUserID:    ownerID,
		Name:           d.Name,
		DriveType:      d.DriveType,
		WebURL:         d.WebURL,
		QuotaTotal:     d.Quota.Total,
		QuotaUsed:      d.Quota.Used,
		QuotaRemaining: d.Quota.Remaining,
		QuotaDeleted:   d.Quota.Deleted,
		QuotaState:     d.Quota.State,
		SyncedAt:       at,
	}
}

func itemModel(integrationID, driveID string, it *msgraph.DriveItem) models.DriveItem {
	m := models.DriveItem{
		IntegrationID:        integrationID,
		DriveID:              driveID,
		ID:                   it.ID,
		ParentID:             it.ParentID,
		Name:                 it.Name,
		IsRoot:               it.IsRoot,
		IsFolder:             it.IsFolder,
		Size:                 it.Size,
		MimeType:             it.MimeType,
		WebURL:               it.WebURL,
		CreatedDateTime:      timePtr(it.CreatedAt),
		LastModifiedDateTime: timePtr(it.ModifiedAt),
		CreatedByID:          it.CreatedBy.ID,
		CreatedByName:        it.CreatedBy.DisplayName,
		CreatedByEmail:       it.CreatedBy.Email,
		LastModifiedByID:     it.LastModifiedBy.ID,
		LastModifiedByName:   it.LastModifiedBy.DisplayName,
		LastModifiedByEmail:  it.LastModifiedBy.Email,
	}
	if it.IsRoot {
		m.ParentID = ""
		m.Path = "/"
	}
	if it.Shared != nil {
		scope := it.Shared.Scope
		m.SharedScope = &scope
	}
	return m
}

// PermissionRow converts one listed permission (the sync and the sharing service store
// Graph's answers the same way); inherited and inheritedFrom
// are decided by the caller (see inherit.go).
func PermissionRow(integrationID, driveID, itemID string, p *msgraph.Permission) models.Permission {
	// Roles are compared lowercased: SharePoint's own levels come as
	// "SP.Limited Access" in the documentation and "sp.limited access" in
	// the field.
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = strings.ToLower(r)
	}
	sort.Strings(roles)
	m := models.Permission{
		IntegrationID:   integrationID,
		DriveID:         driveID,
		ItemID:          itemID,
		ID:              p.ID,
		Roles:           strings.Join(roles, ","),
		ExpiresAt:       p.ExpiresAt,
		HasPassword:     p.HasPassword,
		InvitationEmail: p.InvitationEmail,
	}
	if p.Link != nil {
		scope := p.Link.Scope
		m.LinkScope = &scope
		m.LinkType = p.Link.Type
		m.LinkWebURL = p.Link.WebURL
		m.LinkPreventsDownload = p.Link.PreventsDownload
	}
	if g := p.GrantedTo; g != nil {
		m.GrantedToID = g.ID
		m.GrantedToDisplayName = g.DisplayName
		m.GrantedToEmail = g.Email
		m.GrantedToKind = g.Kind
		m.GrantedToExternal = g.External
	}
	if len(p.GrantedToIdentities) > 0 {
		ids := make(models.Identities, 0, len(p.GrantedToIdentities))
		for _, g := range p.GrantedToIdentities {
			ids = append(ids, models.Identity{ID: g.ID, DisplayName: g.DisplayName, Email: g.Email, External: g.External})
		}
		m.GrantedToIdentities = ids
	}
	return m
}
