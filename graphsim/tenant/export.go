package tenant

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Export writes the whole state as NDJSON, one object per line, in this
// order: every user, every drive, every live item (drive roots included,
// parents not necessarily before children), every own permission (the
// root's owner grant included; inherited entries are not repeated). An item
// with unique permissions owns its whole list, the entries copied from its
// parent when its inheritance was broken included; an item that inherits
// has no permission lines.
// Times are RFC 3339 UTC with second precision. Shapes:
//
//	{"type":"user","id","displayName","userPrincipalName","mail","userType",
//	 "accountEnabled","jobTitle","department","createdDateTime","managerId",
//	 "assignedLicenses":[{"skuId"}],"hasDrive"}
//	{"type":"drive","id","ownerUserId","name","driveType","webUrl",
//	 "quota":{"total","used","remaining","deleted","state"},"rootId",
//	 "lock":"none"|"noAccess"|"readOnly"|"accessDenied"}
//	{"type":"item","driveId","id","parentId","name","path","root","folder",
//	 "size","mimeType","webUrl","createdDateTime","lastModifiedDateTime",
//	 "createdBy":{"id","displayName","email"},"lastModifiedBy":{...}}
//	{"type":"permission","driveId","itemId","id","roles":[...],
//	 "link":{"type","scope","webUrl","preventsDownload"}|null,
//	 "expirationDateTime":"..."|null,"hasPassword","passwordSet",
//	 "grantedToUser":{"id","displayName","email"}|null,"grantedToGroup":...|null,
//	 "grantedToIdentities":[...],"guest","invitation":{"email","signInRequired"}|null,
//	 "grantedToApplication":{"id","displayName","email"}|null,
//	 "everyoneExceptExternalUsers":bool}
//
// parentId is "" for roots, managerId "" when the user has no manager, and
// mimeType "" for folders. A OneDrive not provisioned yet is left out with
// its items and permissions (its owner's hasDrive is false); a locked drive
// is exported whole, with its lock. Kinds seen in the field: an existingAccess link
// has link.scope "existingAccess" and id "00000000-0000-0000-0000-000000000000";
// limited access is roles ["sp.limited access"] with grantedToUser; a grant to
// "Everyone except external users" has everyoneExceptExternalUsers true and
// no grantee; an application grant has grantedToApplication. Only links,
// direct, group, Everyone and application grants are sharing.
// hasPassword is what Graph reports (false on OneDrive for Business unless
// Config.ReportLinkPasswords), passwordSet whether the link has a password.
// An expired link stays listed with its past expirationDateTime until it is
// removed, as in Graph.

type ExportUser struct {
	Type              string          `json:"type"`
	ID                string          `json:"id"`
	DisplayName       string          `json:"displayName"`
	UserPrincipalName string          `json:"userPrincipalName"`
	Mail              string          `json:"mail"`
	UserType          string          `json:"userType"`
	AccountEnabled    bool            `json:"accountEnabled"`
	JobTitle          string          `json:"jobTitle"`
	Department        string          `json:"department"`
	CreatedDateTime   string          `json:"createdDateTime"`
	ManagerID         string          `json:"managerId"`
	AssignedLicenses  []ExportLicense `json:"assignedLicenses"`
	HasDrive          bool            `json:"hasDrive"`
}

type ExportLicense struct {
	SkuID string `json:"skuId"`
}

type ExportQuota struct {
	Total     int64  `json:"total"`
	Used      int64  `json:"used"`
	Remaining int64  `json:"remaining"`
	Deleted   int64  `json:"deleted"`
	State     string `json:"state"`
}

type ExportDrive struct {
	Type        string      `json:"type"`
	ID          string      `json:"id"`
	OwnerUserID string      `json:"ownerUserId"`
	Name        string      `json:"name"`
	DriveType   string      `json:"driveType"`
	WebURL      string      `json:"webUrl"`
	Quota       ExportQuota `json:"quota"`
	RootID      string      `json:"rootId"`
	Lock        Lock        `json:"lock"`
}

type ExportIdentity struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

type ExportItem struct {
	Type                 string         `json:"type"`
	DriveID              string         `json:"driveId"`
	ID                   string         `json:"id"`
	ParentID             string         `json:"parentId"`
	Name                 string         `json:"name"`
	Path                 string         `json:"path"`
	Root                 bool           `json:"root"`
	Folder               bool           `json:"folder"`
	Size                 int64          `json:"size"`
	MimeType             string         `json:"mimeType"`
	WebURL               string         `json:"webUrl"`
	CreatedDateTime      string         `json:"createdDateTime"`
	LastModifiedDateTime string         `json:"lastModifiedDateTime"`
	CreatedBy            ExportIdentity `json:"createdBy"`
	LastModifiedBy       ExportIdentity `json:"lastModifiedBy"`
}

type ExportLink struct {
	Type             string `json:"type"`
	Scope            string `json:"scope"`
	WebURL           string `json:"webUrl"`
	PreventsDownload bool   `json:"preventsDownload"`
}

type ExportInvitation struct {
	Email          string `json:"email"`
	SignInRequired bool   `json:"signInRequired"`
}

type ExportPermission struct {
	Type                string            `json:"type"`
	DriveID             string            `json:"driveId"`
	ItemID              string            `json:"itemId"`
	ID                  string            `json:"id"`
	Roles               []string          `json:"roles"`
	Link                *ExportLink       `json:"link"`
	ExpirationDateTime  *string           `json:"expirationDateTime"`
	HasPassword         bool              `json:"hasPassword"`
	PasswordSet         bool              `json:"passwordSet"`
	GrantedToUser       *ExportIdentity   `json:"grantedToUser"`
	GrantedToGroup      *ExportIdentity   `json:"grantedToGroup"`
	GrantedToIdentities []ExportIdentity  `json:"grantedToIdentities"`
	Guest               bool              `json:"guest"`
	Invitation          *ExportInvitation `json:"invitation"`
	// Added with SharePoint's permission model.
	GrantedToApplication   *ExportIdentity `json:"grantedToApplication"`
	EveryoneExceptExternal bool            `json:"everyoneExceptExternalUsers"`
}

// SharingScope is the Summary's scope of an exported permission that is
// sharing of the item's own ("anonymous", "organization", "users",
// "direct"), or "" for what SharePoint lists but is not sharing: the owner's
// grant, limited access and an existingAccess link.
func (p ExportPermission) SharingScope() string {
	for _, r := range p.Roles {
		if r == "owner" || r == LimitedAccessRole {
			return ""
		}
	}
	switch {
	case p.Link != nil && p.Link.Scope == "existingAccess":
		return ""
	case p.Link != nil:
		return p.Link.Scope
	case p.EveryoneExceptExternal:
		return "organization"
	}
	return "direct"
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func exportIdentity(i Identity) ExportIdentity {
	return ExportIdentity(i)
}

// ExportItemOf converts an Item to its export shape (used by tests and by
// callers comparing a delta replica with the export).
func ExportItemOf(it Item) ExportItem {
	return ExportItem{
		Type: "item", DriveID: it.DriveID, ID: it.ID, ParentID: it.ParentID, Name: it.Name, Path: it.Path,
		Root: it.Root, Folder: it.Folder, Size: it.Size, MimeType: it.MimeType, WebURL: it.WebURL,
		CreatedDateTime: stamp(it.CreatedDateTime), LastModifiedDateTime: stamp(it.LastModifiedDateTime),
		CreatedBy: exportIdentity(it.CreatedBy), LastModifiedBy: exportIdentity(it.LastModifiedBy),
	}
}

// ExportPermissionOf converts a Permission of item itemID to its export shape.
func ExportPermissionOf(driveID, itemID string, p Permission) ExportPermission {
	out := ExportPermission{
		Type: "permission", DriveID: driveID, ItemID: itemID, ID: p.ID, Roles: p.Roles,
		HasPassword: p.HasPassword, PasswordSet: p.PasswordSet, Guest: p.Guest, GrantedToIdentities: []ExportIdentity{},
	}
	if p.Link != nil {
		out.Link = &ExportLink{Type: p.Link.Type, Scope: p.Link.Scope, WebURL: p.Link.WebURL, PreventsDownload: p.Link.PreventsDownload}
	}
	if !p.ExpirationDateTime.IsZero() {
		s := stamp(p.ExpirationDateTime)
		out.ExpirationDateTime = &s
	}
	if p.GrantedToUser != nil {
		x := exportIdentity(*p.GrantedToUser)
		out.GrantedToUser = &x
	}
	if p.GrantedToGroup != nil {
		x := exportIdentity(*p.GrantedToGroup)
		out.GrantedToGroup = &x
	}
	for _, g := range p.GrantedToIdentities {
		out.GrantedToIdentities = append(out.GrantedToIdentities, exportIdentity(g))
	}
	if p.Invitation != nil {
		out.Invitation = &ExportInvitation{Email: p.Invitation.Email, SignInRequired: p.Invitation.SignInRequired}
	}
	if p.GrantedToApplication != nil {
		x := exportIdentity(*p.GrantedToApplication)
		out.GrantedToApplication = &x
	}
	out.EveryoneExceptExternal = p.EveryoneExceptExternal
	return out
}

// Export writes the tenant as NDJSON (see above). It holds the read lock
// for the whole write so the output is one consistent snapshot.
func (t *Tenant) Export(w io.Writer) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, u := range t.users {
		x := ExportUser{
			Type: "user", ID: u.ID, DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName,
			Mail: u.Mail, UserType: u.UserType, AccountEnabled: u.AccountEnabled, JobTitle: u.JobTitle,
			Department: u.Department, CreatedDateTime: stamp(u.CreatedDateTime), ManagerID: u.ManagerID,
			AssignedLicenses: []ExportLicense{}, HasDrive: u.HasDrive,
		}
		for _, l := range u.AssignedLicenses {
			x.AssignedLicenses = append(x.AssignedLicenses, ExportLicense{SkuID: l.SkuID})
		}
		if err := enc.Encode(x); err != nil {
			return fmt.Errorf("export user: %w", err)
		}
	}
	for _, d := range t.drives {
		if !t.provisioned(d.idx) {
			continue
		}
		v := t.driveValue(d)
		x := ExportDrive{
			Type: "drive", ID: v.ID, OwnerUserID: v.OwnerUserID, Name: v.Name, DriveType: v.DriveType,
			WebURL: v.WebURL, RootID: v.RootID, Lock: t.drv.lock[d.idx],
			Quota: ExportQuota{Total: v.Quota.Total, Used: v.Quota.Used, Remaining: v.Quota.Remaining,
				Deleted: v.Quota.Deleted, State: v.Quota.State},
		}
		if err := enc.Encode(x); err != nil {
			return fmt.Errorf("export drive: %w", err)
		}
	}
	for _, d := range t.drives {
		if !t.provisioned(d.idx) {
			continue
		}
		for i := range int32(len(d.items)) {
			if !d.live(i) {
				continue
			}
			if err := enc.Encode(ExportItemOf(t.itemValue(d, i))); err != nil {
				return fmt.Errorf("export item: %w", err)
			}
		}
	}
	for _, d := range t.drives {
		if !t.provisioned(d.idx) {
			continue
		}
		for i := range int32(len(d.items)) {
			if !d.live(i) {
				continue
			}
			itemID := t.ids.itemID(d.idx, i)
			for p := d.items[i].perms; p >= 0; p = d.perms[p].next {
				if err := enc.Encode(ExportPermissionOf(d.id, itemID, t.permValue(d, p, nil))); err != nil {
					return fmt.Errorf("export permission: %w", err)
				}
			}
		}
	}
	return bw.Flush()
}

// Summary counts users, drives, live items (roots excluded) and sharing.
func (t *Tenant) Summary() Summary { return t.summary(false) }

// ReadableSummary is Summary with the items and sharing of the drives an app
// cannot read (locked noAccess, closed to it) left out: what a sync that
// skips them stores. Drives counts every provisioned drive still.
func (t *Tenant) ReadableSummary() Summary { return t.summary(true) }

func (t *Tenant) summary(readableOnly bool) Summary {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s := Summary{
		Users:              len(t.users),
		PermissionsByScope: map[string]int{"anonymous": 0, "organization": 0, "users": 0, "direct": 0},
	}
	for _, d := range t.drives {
		if !t.provisioned(d.idx) {
			continue
		}
		s.Drives++
		if l := t.drv.lock[d.idx]; readableOnly && (l == LockNoAccess || l == LockAccessDenied) {
			continue
		}
		for i := int32(1); i < int32(len(d.items)); i++ {
			if !d.live(i) {
				continue
			}
			s.Items++
			own := 0
			for p := d.items[i].perms; p >= 0; p = d.perms[p].next {
				switch d.perms[p].kind {
				case permAnon:
					s.PermissionsByScope["anonymous"]++
				case permOrg, permEveryone:
					s.PermissionsByScope["organization"]++
				case permUsers:
					s.PermissionsByScope["users"]++
				case permDirectUser, permDirectGroup, permApp:
					s.PermissionsByScope["direct"]++
				default:
					continue // the owner, limited access, existingAccess: not sharing
				}
				own++
			}
			s.Permissions += own
			if own > 0 {
				s.SharedItems++
			}
		}
	}
	return s
}
