package tenant

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// inheritingChild finds a file that inherits from a non-root folder with
// unique permissions.
func inheritingChild(t *testing.T, ex exported) (folder, child ExportItem) {
	t.Helper()
	for _, it := range ex.items {
		p := ex.items[it.ParentID]
		if !it.Folder && !it.Root && !p.Root && len(ex.perms[it.ID]) == 0 && len(ex.perms[p.ID]) > 0 {
			return p, it
		}
	}
	t.Fatal("no file inherits from a shared folder")
	return
}

func TestPermissionsSharePointModel(t *testing.T) {
	for _, mode := range []string{"", InheritedFromEmpty, InheritedFromLinks, InheritedFromFull} {
		tn := New(Config{Seed: 21, Users: 30, FilesPerUser: 60, ShareRatio: 0.3, InheritedFrom: mode})
		ex := export(t, tn)
		folder, child := inheritingChild(t, ex)
		ps, err := tn.Permissions(child.DriveID, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		// An inheriting item lists its nearest unique ancestor's entries only.
		var got, want []string
		for _, p := range ps {
			got = append(got, p.ID)
		}
		for _, p := range ex.perms[folder.ID] {
			want = append(want, p.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("mode %q: child lists %v, its folder has %v", mode, got, want)
		}
		wantPath := "/drives/" + child.DriveID + "/root:" + folder.Path
		for _, p := range ps {
			full := p.InheritedFrom != nil && p.InheritedFrom.ID == folder.ID && p.InheritedFrom.Path == wantPath && p.InheritedFrom.DriveID == child.DriveID
			empty := p.InheritedFrom != nil && *p.InheritedFrom == (ItemReference{})
			var ok bool
			switch mode {
			case "":
				ok = p.InheritedFrom == nil
			case InheritedFromEmpty:
				ok = empty
			case InheritedFromLinks:
				ok = full == (p.Link != nil) && (p.Link != nil || p.InheritedFrom == nil)
			case InheritedFromFull:
				ok = full
			}
			if !ok {
				t.Errorf("mode %q: %s (link %v) has inheritedFrom %+v", mode, p.ID, p.Link != nil, p.InheritedFrom)
			}
		}
		// The folder's own entries never carry inheritedFrom.
		own, _ := tn.Permissions(folder.DriveID, folder.ID)
		for _, p := range own {
			if p.InheritedFrom != nil {
				t.Errorf("mode %q: own entry %s of the folder has inheritedFrom", mode, p.ID)
			}
		}
	}
}

func TestCopyOnFirstShare(t *testing.T) {
	tn := New(Config{Seed: 21, Users: 30, FilesPerUser: 60, ShareRatio: 0.3})
	ex := export(t, tn)
	folder, child := inheritingChild(t, ex)
	drv := child.DriveID
	listed, _ := tn.Permissions(drv, folder.ID)
	// Everything but an existingAccess link (it grants nothing, so nothing is copied) is copied.
	var before []Permission
	for _, p := range listed {
		if p.Link == nil || p.Link.Scope != ExistingAccessScope {
			before = append(before, p)
		}
	}
	res, err := tn.Apply(Change{Op: "share", DriveID: drv, ItemID: child.ID, Scope: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := tn.Permissions(drv, child.ID)
	if len(after) != len(before)+1 || after[len(after)-1].ID != res.PermissionID {
		t.Fatalf("after the first share the child lists %d entries, want the folder's %d and the new link", len(after), len(before))
	}
	for k, p := range before {
		if after[k].ID != p.ID || after[k].InheritedFrom != nil {
			t.Errorf("copied entry %d: %s (inheritedFrom %+v), want own %s", k, after[k].ID, after[k].InheritedFrom, p.ID)
		}
	}
	// A later grant on the folder does not reach the child.
	var u string
	for _, x := range ex.users {
		if x.UserType == "Member" && x.AccountEnabled && !slices.ContainsFunc(before, func(p Permission) bool {
			return p.GrantedToUser != nil && p.GrantedToUser.ID == x.ID
		}) {
			u = x.ID
			break
		}
	}
	g, err := tn.Apply(Change{Op: "share", DriveID: drv, ItemID: folder.ID, Scope: "direct", GranteeID: u})
	if err != nil {
		t.Fatal(err)
	}
	now, _ := tn.Permissions(drv, child.ID)
	if slices.ContainsFunc(now, func(p Permission) bool { return p.ID == g.PermissionID }) {
		t.Error("a grant made on the folder after the child got its own sharing reached the child")
	}
	// Removing a copied grant on the child leaves the folder's.
	copied := before[len(before)-1].ID
	if err := tn.DeletePermission(drv, child.ID, copied); err != nil && before[len(before)-1].Roles[0] != "owner" {
		t.Fatal(err)
	}
	fp, _ := tn.Permissions(drv, folder.ID)
	if !slices.ContainsFunc(fp, func(p Permission) bool { return p.ID == copied }) {
		t.Error("removing the child's copy removed the folder's grant")
	}
}

func TestDeletePermission(t *testing.T) {
	tn := New(Config{Seed: 21, Users: 30, FilesPerUser: 60, ShareRatio: 0.3, Lenient: classic})
	ex := export(t, tn)
	folder, child := inheritingChild(t, ex)
	drv := child.DriveID
	var root ExportDrive
	for _, d := range ex.drives {
		if d.ID == drv {
			root = d
		}
	}
	otherDrive := ex.drives[0].ID
	if otherDrive == drv {
		otherDrive = ex.drives[1].ID
	}
	var folderPerm, limited string
	for _, p := range ex.perms[folder.ID] {
		if isSharingExport(p) && folderPerm == "" {
			folderPerm = p.ID
		}
	}
	for _, ps := range ex.perms {
		for _, p := range ps {
			if p.DriveID == drv && p.Roles[0] == "sp.limited access" {
				limited = p.ItemID + "|" + p.ID
			}
		}
	}
	limItem, limID, _ := strings.Cut(limited, "|")
	ownerGrant := ex.perms[root.RootID][0].ID
	tests := []struct {
		name        string
		drive, item string
		perm        string
		want        error
		kept        bool // success answered, nothing removed
	}{
		{"inherited from the folder", drv, child.ID, folderPerm, ErrInherited, false},
		{"inherited owner grant", drv, child.ID, ownerGrant, ErrInherited, false},
		{"owner grant on the root is kept", drv, "root", ownerGrant, nil, true},
		{"limited access is kept", drv, limItem, limID, nil, true},
		{"unknown id", drv, child.ID, "aTowIy5mfG1lbWJlcnNoaXB8nothing", ErrNotFound, false},
		{"made-up id", drv, child.ID, "xyz", ErrNotFound, false},
		{"unknown drive", "b!nope", child.ID, folderPerm, ErrNotFound, false},
		{"item of another drive", otherDrive, child.ID, folderPerm, ErrNotFound, false},
		{"own permission of the folder", drv, folder.ID, folderPerm, nil, false},
		{"already deleted", drv, folder.ID, folderPerm, ErrNotFound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.perm == "" {
				t.Skip("no such permission in this tenant")
			}
			_, latest := enumerate(t, tn, drv, "latest", DeltaOptions{})
			err := tn.DeletePermission(tc.drive, tc.item, tc.perm)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("DeletePermission = %v, want %v", err, tc.want)
			}
			items, _ := enumerate(t, tn, drv, latest, DeltaOptions{ShowSharingChanges: true, HierarchicalSharing: true})
			ps, _ := tn.Permissions(drv, tc.item)
			listed := slices.ContainsFunc(ps, func(p Permission) bool { return p.ID == tc.perm })
			if tc.want != nil || tc.kept {
				if len(items) != 0 {
					t.Errorf("a delete that changed nothing changed %d items", len(items))
				}
				if tc.kept && !listed {
					t.Errorf("permission %s is gone, SharePoint keeps it", tc.perm)
				}
				return
			}
			if listed {
				t.Errorf("permission %s still listed", tc.perm)
			}
			if len(items) != 1 || items[0].ID != tc.item || !items[0].SharedChanged {
				t.Errorf("delta after delete: %+v, want only %s with sharedChanged", items, tc.item)
			}
		})
	}
}

func TestUpdatePermission(t *testing.T) {
	// The expiry policy is off here: TestLinkExpiryPolicy covers it.
	tn := New(Config{Seed: 4, Users: 40, FilesPerUser: 60, ShareRatio: 0.3, Lenient: classic, LinkPolicy: LinkPolicy{Off: true}})
	ex := export(t, tn)
	find := func(match func(ExportPermission) bool) ExportPermission {
		for _, ps := range ex.perms {
			for _, p := range ps {
				if match(p) {
					return p
				}
			}
		}
		t.Fatal("no such permission")
		return ExportPermission{}
	}
	anon := find(func(p ExportPermission) bool { return p.Link != nil && p.Link.Scope == "anonymous" })
	org := find(func(p ExportPermission) bool { return p.Link != nil && p.Link.Scope == "organization" })
	people := find(func(p ExportPermission) bool { return p.Link != nil && p.Link.Scope == "users" })
	user := find(func(p ExportPermission) bool { return p.Link == nil && p.GrantedToUser != nil && p.Roles[0] == "read" })
	group := find(func(p ExportPermission) bool { return p.GrantedToGroup != nil })
	owner := find(func(p ExportPermission) bool { return p.Roles[0] == "owner" })
	expiry := time.Date(2027, 3, 1, 12, 30, 15, 999, time.UTC)
	zero := time.Time{}
	tests := []struct {
		name  string
		p     ExportPermission
		patch PermissionPatch
		want  error
		check func(Permission) bool
	}{
		{"expiry on anonymous link", anon, PermissionPatch{ExpirationDateTime: &expiry}, nil,
			func(p Permission) bool { return p.ExpirationDateTime.Equal(expiry.Truncate(time.Second)) }},
		{"clear expiry on anonymous link", anon, PermissionPatch{ExpirationDateTime: &zero}, nil,
			func(p Permission) bool { return p.ExpirationDateTime.IsZero() }},
		{"roles on user grant", user, PermissionPatch{Roles: []string{"write"}}, nil,
			func(p Permission) bool { return p.Roles[0] == "write" }},
		{"expiry on organization link", org, PermissionPatch{ExpirationDateTime: &expiry}, ErrInvalid, nil},
		{"expiry on people link", people, PermissionPatch{ExpirationDateTime: &expiry}, ErrInvalid, nil},
		{"roles on a link", anon, PermissionPatch{Roles: []string{"write"}}, ErrInvalid, nil},
		{"roles on a group grant", group, PermissionPatch{Roles: []string{"write"}}, ErrInvalid, nil},
		{"roles on the owner", owner, PermissionPatch{Roles: []string{"read"}}, ErrInvalid, nil},
		{"bad role", user, PermissionPatch{Roles: []string{"owner"}}, ErrInvalid, nil},
		{"other property", user, PermissionPatch{Other: []string{"link"}}, ErrInvalid, nil},
		{"unknown permission", withID(anon, "aTowIy5mfG1lbWJlcnNoaXB8AAAAAAAAAAAAAAAAAAAAAA"), PermissionPatch{Roles: []string{"read"}}, ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tn.Permissions(tc.p.DriveID, tc.p.ItemID)
			got, err := tn.UpdatePermission(tc.p.DriveID, tc.p.ItemID, tc.p.ID, tc.patch)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("UpdatePermission = %v, want %v", err, tc.want)
			}
			after, _ := tn.Permissions(tc.p.DriveID, tc.p.ItemID)
			if tc.want != nil {
				if !slices.EqualFunc(before, after, func(a, b Permission) bool {
					return a.ID == b.ID && a.Roles[0] == b.Roles[0] && a.ExpirationDateTime.Equal(b.ExpirationDateTime)
				}) {
					t.Error("a rejected update changed the permissions")
				}
				return
			}
			if !tc.check(got) {
				t.Errorf("answer %+v", got)
			}
			for _, p := range after {
				if p.ID == tc.p.ID && !tc.check(p) {
					t.Errorf("listed %+v", p)
				}
			}
		})
	}
}

func withID(p ExportPermission, id string) ExportPermission {
	p.ID = id
	return p
}
