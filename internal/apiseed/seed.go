// Package apiseed writes a small, deterministic tenant through the store's own writes, for the
// tests of the API's queries, and answers in plain Go which rows a filter should select, so a
// test compares the database's answer with an independent one.
package apiseed

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// Data is one seeded tenant.
type Data struct {
	Integration models.Integration
	Secret      string
	Users       []models.User
	Drives      []models.Drive
	// Items holds every item, roots included; Perms the permissions by item id.
	Items []models.DriveItem
	Perms map[string][]models.Permission
}

var words = []string{"Budget", "budget", "Roadmap", "Payroll", "Contract", "Notes", "Plan_B", "100% done", "Zeta", "alpha"}

// Base is the time the seeded modification times count from.
var Base = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Build returns a tenant of users (every third one a guest, each with a drive) holding
// itemsPerDrive items each, with every kind of sharing the filters distinguish: anonymous,
// organization and specific-people links, links with and without expiry and password, direct
// grants to members and guests, owner-only items, and items below a shared folder that only
// inherit its link. Names, sizes and times repeat on purpose so that orderings need their tie
// breaker, and some items have no modification time.
func Build(integrationID string, users, itemsPerDrive int) Data {
	d := Data{
		Integration: models.Integration{ID: integrationID, Name: "Seeded " + integrationID, TenantID: "tenant-" + integrationID, ClientID: "client-" + integrationID},
		Secret:      "seed-secret-" + integrationID,
		Perms:       map[string][]models.Permission{},
	}
	for u := 0; u < users; u++ {
		uid := fmt.Sprintf("u%03d", u)
		user := models.User{
			ID: uid, DisplayName: fmt.Sprintf("%s User %03d", words[u%len(words)], u),
			UserPrincipalName: uid + "@contoso.example", Mail: uid + "@contoso.example",
			UserType: models.UserTypeMember, AccountEnabled: u%5 != 4, JobTitle: "Analyst", Department: "Finance",
			LicenseSkuIDs: models.StringList{"sku-e3"},
		}
		if u%3 == 2 {
			user.UserType = models.UserTypeGuest
			user.UserPrincipalName = uid + "_fabrikam.example#EXT#@contoso.example"
			user.Mail = uid + "@fabrikam.example"
		}
		d.Users = append(d.Users, user)
		did := fmt.Sprintf("b!drive%03d", u)
		state := "normal"
		used := int64(u) * 100
		if u%4 == 3 {
			state, used = "nearing", 950
		}
		d.Drives = append(d.Drives, models.Drive{
			ID: did, OwnerUserID: uid, Name: "OneDrive " + user.DisplayName, DriveType: "business",
			WebURL: "https://contoso-my.example/personal/" + uid, RootID: did + "-root",
			QuotaTotal: 1000, QuotaUsed: used, QuotaRemaining: 1000 - used, QuotaState: state,
		})
		d.addItems(did, uid, user.DisplayName, itemsPerDrive)
	}
	return d
}

func (d *Data) addItems(driveID, ownerID, ownerName string, n int) {
	root := driveID + "-root"
	folder := driveID + "-shared"
	d.Items = append(d.Items,
		models.DriveItem{ID: root, DriveID: driveID, Name: "root", Path: "/", IsRoot: true, IsFolder: true},
		models.DriveItem{ID: folder, DriveID: driveID, ParentID: root, Name: "Shared folder", Path: "/Shared folder", IsFolder: true,
			WebURL: "https://contoso-my.example/" + folder, LastModifiedDateTime: ptr(Base)})
	owner := models.Permission{ID: "owner", Roles: "owner", GrantedToID: ownerID, GrantedToDisplayName: ownerName, GrantedToKind: models.GranteeUser}
	folderLink := models.Permission{ID: "pf-" + folder, Roles: "read", LinkType: "view", LinkScope: ptr(models.LinkScopeAnonymous),
		LinkWebURL: "https://contoso-my.example/:f:/s/" + folder}
	d.Perms[root] = []models.Permission{owner}
	d.Perms[folder] = []models.Permission{folderLink}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-i%04d", driveID, i)
		it := models.DriveItem{
			ID: id, DriveID: driveID, ParentID: root, Name: fmt.Sprintf("%s %d.docx", words[i%len(words)], i%7),
			Size: int64(i%6) * 1024, MimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			WebURL:          "https://contoso-my.example/" + id,
			CreatedDateTime: ptr(Base.Add(-time.Hour)), CreatedByName: ownerName, CreatedByID: ownerID,
			LastModifiedByName: ownerName, LastModifiedByID: ownerID,
		}
		if i%11 != 0 {
			it.LastModifiedDateTime = ptr(Base.Add(time.Duration(i%13) * time.Minute))
		}
		if i%10 == 8 {
			it.ParentID = folder
		}
		it.Path = "/" + it.Name
		d.Items = append(d.Items, it)
		link := func(scope, typ, roles string) models.Permission {
			return models.Permission{ID: fmt.Sprintf("p%d-%s", i, typ), Roles: roles, LinkType: typ, LinkScope: ptr(scope),
				LinkWebURL: "https://contoso-my.example/:w:/s/" + id + "/" + typ}
		}
		var perms []models.Permission
		switch i % 10 {
		case 0:
			perms = append(perms, link(models.LinkScopeAnonymous, "view", "read"))
		case 1:
			p := link(models.LinkScopeAnonymous, "edit", "write")
			// Every other one expired a month after Base and is still listed; the others
			// expire decades ahead, live whenever the tests run.
			p.ExpiresAt, p.HasPassword = ptr(Base.AddDate(30, 0, 0)), true
			if i%20 == 11 {
				p.ExpiresAt = ptr(Base.Add(30 * 24 * time.Hour))
			}
			perms = append(perms, p)
		case 2:
			perms = append(perms, link(models.LinkScopeOrganization, "view", "read"))
		case 3:
			p := link(models.LinkScopeUsers, "view", "read")
			p.GrantedToIdentities = models.Identities{{ID: "u001", DisplayName: "Member"}, {DisplayName: "Outsider", Email: "o@fabrikam.example", External: true}}
			perms = append(perms, p)
		case 4:
			p := link(models.LinkScopeUsers, "edit", "write")
			p.GrantedToIdentities = models.Identities{{ID: "u000", DisplayName: "Member"}}
			perms = append(perms, p)
		case 5:
			perms = append(perms, models.Permission{ID: fmt.Sprintf("p%d-guest", i), Roles: "read", GrantedToID: "u002",
				GrantedToDisplayName: "Guest", GrantedToEmail: "u002@fabrikam.example", GrantedToKind: models.GranteeUser, GrantedToExternal: true})
		case 6:
			perms = append(perms, models.Permission{ID: fmt.Sprintf("p%d-member", i), Roles: "write", GrantedToID: "u000",
				GrantedToDisplayName: "Member", GrantedToKind: models.GranteeUser})
		case 7:
			perms = append(perms, owner)
		case 8:
			inh := folderLink
			inh.Inherited, inh.InheritedFromID = true, ptr(folder)
			perms = append(perms, inh)
		}
		if i%20 == 0 {
			p := link(models.LinkScopeOrganization, "edit", "write")
			p.ExpiresAt = ptr(Base.Add(7 * 24 * time.Hour))
			perms = append(perms, p)
		}
		if len(perms) > 0 {
			d.Perms[id] = perms
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Write stores the tenant through the store's writes: the integration, its users and drives,
// and each drive's items and permissions as one finished delta page.
func Write(ctx context.Context, st *store.Store, d Data) error {
	in := d.Integration
	if err := st.CreateIntegration(ctx, &in, d.Secret); err != nil {
		return err
	}
	if err := st.UpsertUsers(ctx, in.ID, d.Users); err != nil {
		return err
	}
	if err := st.UpsertDrives(ctx, in.ID, d.Drives); err != nil {
		return err
	}
	for _, drive := range d.Drives {
		page := store.SyncPage{Permissions: map[string][]models.Permission{}, DeltaLink: "seeded"}
		for _, it := range d.Items {
			if it.DriveID != drive.ID {
				continue
			}
			page.Items = append(page.Items, it)
			if p, ok := d.Perms[it.ID]; ok {
				page.Permissions[it.ID] = p
			}
		}
		page.ItemsSeen = int64(len(page.Items))
		if err := st.CommitSyncPage(ctx, in.ID, drive.ID, page); err != nil {
			return err
		}
	}
	return nil
}

// shared reports whether a permission counts as sharing of the item's own.
func shared(p models.Permission) bool {
	return !p.Inherited && !slices.Contains(strings.Split(p.Roles, ","), "owner")
}

func external(p models.Permission) bool {
	if p.GrantedToExternal {
		return true
	}
	for _, id := range p.GrantedToIdentities {
		if id.External {
			return true
		}
	}
	return false
}

// matchPermission applies the permission conditions of f to one permission at the moment now.
func matchPermission(f store.ItemFilter, p models.Permission, now time.Time) bool {
	if !shared(p) {
		return false
	}
	if expired := p.IsLink() && p.ExpiresAt != nil && !p.ExpiresAt.After(now); expired != f.Expired {
		return false
	}
	if len(f.Scopes) > 0 {
		scope := p.Scope()
		if scope == "" {
			scope = models.LinkScopeUsers
		}
		if !slices.Contains(f.Scopes, scope) {
			return false
		}
	}
	if f.External != nil && external(p) != *f.External {
		return false
	}
	if len(f.LinkTypes) > 0 && (!p.IsLink() || !slices.Contains(f.LinkTypes, p.LinkType)) {
		return false
	}
	if f.HasExpiry != nil && (!p.IsLink() || (p.ExpiresAt != nil) != *f.HasExpiry) {
		return false
	}
	if f.HasPassword != nil && (!p.IsLink() || p.HasPassword != *f.HasPassword) {
		return false
	}
	return true
}

// Match returns the ids of the items f selects, computed in Go, sorted.
func (d Data) Match(f store.ItemFilter) []string {
	sharing := f.SharedOnly || f.Expired || len(f.Scopes) > 0 || f.External != nil || len(f.LinkTypes) > 0 || f.HasExpiry != nil || f.HasPassword != nil
	now := time.Now()
	owners := map[string]string{}
	for _, dr := range d.Drives {
		owners[dr.ID] = dr.OwnerUserID
	}
	var out []string
	for _, it := range d.Items {
		if it.IsRoot {
			continue
		}
		if f.DriveID != "" && it.DriveID != f.DriveID {
			continue
		}
		if f.OwnerUserID != "" && owners[it.DriveID] != f.OwnerUserID {
			continue
		}
		if f.Search != "" && !strings.Contains(strings.ToLower(it.Name), strings.ToLower(f.Search)) {
			continue
		}
		if f.ModifiedAfter != nil && (it.LastModifiedDateTime == nil || it.LastModifiedDateTime.Before(*f.ModifiedAfter)) {
			continue
		}
		if f.ModifiedBefore != nil && (it.LastModifiedDateTime == nil || !it.LastModifiedDateTime.Before(*f.ModifiedBefore)) {
			continue
		}
		if sharing && !slices.ContainsFunc(d.Perms[it.ID], func(p models.Permission) bool { return matchPermission(f, p, now) }) {
			continue
		}
		out = append(out, it.ID)
	}
	sort.Strings(out)
	return out
}

// SharedItems counts the items that hold live sharing of their own (the overview's meaning).
func (d Data) SharedItems() int { return len(d.Match(store.ItemFilter{SharedOnly: true})) }

// ListedSharedItems counts the items holding sharing of their own that Microsoft 365 lists,
// expired links included: the integration counts' meaning (the simulator's summary).
func (d Data) ListedSharedItems() int {
	ids := append(d.Match(store.ItemFilter{SharedOnly: true}), d.Match(store.ItemFilter{Expired: true})...)
	slices.Sort(ids)
	return len(slices.Compact(ids))
}
