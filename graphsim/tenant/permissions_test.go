package tenant

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// sharedFolderChild finds a non-root folder with own sharing and a file
// directly inside it that has sharing of its own too, when possible.
func sharedFolderChild(t *testing.T, tn *Tenant, ex exported) (folder, child ExportItem) {
	t.Helper()
	var fallback [2]ExportItem
	for _, it := range ex.items {
		if it.Folder || it.Root {
			continue
		}
		p := ex.items[it.ParentID]
		if p.Root || len(ex.perms[p.ID]) == 0 {
			continue
		}
		if len(ex.perms[it.ID]) > 0 {
			return p, it
		}
		fallback = [2]ExportItem{p, it}
	}
	if fallback[0].ID == "" {
		t.Fatal("no file inside a shared folder")
	}
	return fallback[0], fallback[1]
}

func TestPermissionsListInheritance(t *testing.T) {
	for _, omit := range []bool{false, true} {
		tn := New(Config{Seed: 21, Users: 30, FilesPerUser: 60, ShareRatio: 0.3, OmitInheritedFrom: omit, Lenient: classic})
		ex := export(t, tn)
		folder, child := sharedFolderChild(t, tn, ex)
		ps, err := tn.Permissions(child.DriveID, child.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Expected: own, then each ancestor's own (nearest first), ending
		// with the root's owner grant.
		var want []string
		var from []string
		for id := child.ID; id != ""; id = ex.items[id].ParentID {
			for _, p := range ex.perms[id] {
				want = append(want, p.ID)
				from = append(from, id)
			}
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("omit=%v: permission ids %v, want %v", omit, got, want)
		}
		for k, p := range ps {
			own := from[k] == child.ID
			switch {
			case own && p.InheritedFrom != nil:
				t.Errorf("own permission %s has inheritedFrom", p.ID)
			case !own && omit && p.InheritedFrom != nil:
				t.Errorf("omit: inherited permission %s has inheritedFrom", p.ID)
			case !own && !omit:
				ref := p.InheritedFrom
				wantPath := "/drives/" + child.DriveID + "/root:"
				if !ex.items[from[k]].Root {
					wantPath += ex.items[from[k]].Path
				}
				if ref == nil || ref.ID != from[k] || ref.DriveID != child.DriveID || ref.Path != wantPath {
					t.Errorf("inherited %s: inheritedFrom %+v, want id %s path %s", p.ID, ref, from[k], wantPath)
				}
			}
		}
		last := ps[len(ps)-1]
		owner := ""
		for _, d := range ex.drives {
			if d.ID == child.DriveID {
				owner = d.OwnerUserID
			}
		}
		if last.Roles[0] != "owner" || last.GrantedToUser == nil || last.GrantedToUser.ID != owner {
			t.Errorf("last permission is not the owner grant: %+v", last)
		}
		if !omit && !strings.HasSuffix(last.InheritedFrom.Path, "/root:") {
			t.Errorf("owner grant path %q", last.InheritedFrom.Path)
		}
		if ps[len(ex.perms[child.ID])].InheritedFrom != nil && ps[len(ex.perms[child.ID])].InheritedFrom.ID != folder.ID {
			t.Errorf("the nearest inherited permission does not come from the parent folder")
		}
	}
}

func TestDeletePermission(t *testing.T) {
	tn := New(Config{Seed: 21, Users: 30, FilesPerUser: 60, ShareRatio: 0.3, Lenient: classic})
	ex := export(t, tn)
	folder, child := sharedFolderChild(t, tn, ex)
	drv := child.DriveID
	var ownerGrant string
	for _, d := range ex.drives {
		if d.ID == drv {
			ownerGrant = ex.perms[d.RootID][0].ID
		}
	}
	otherDrive := ex.drives[0].ID
	if otherDrive == drv {
		otherDrive = ex.drives[1].ID
	}
	folderPerm := ex.perms[folder.ID][0].ID
	var childPerm string
	if ps := ex.perms[child.ID]; len(ps) > 0 {
		childPerm = ps[0].ID
	}
	tests := []struct {
		name          string
		drive, item   string
		perm          string
		want          error
		skipIfNoChild bool
	}{
		{"inherited from the folder", drv, child.ID, folderPerm, ErrInherited, false},
		{"inherited owner grant", drv, child.ID, ownerGrant, ErrInherited, false},
		{"owner grant on the root", drv, "root", ownerGrant, ErrInvalid, false},
		{"unknown id", drv, child.ID, "aTowIy5mfG1lbWJlcnNoaXB8nothing", ErrNotFound, false},
		{"made-up id", drv, child.ID, "xyz", ErrNotFound, false},
		{"unknown drive", "b!nope", child.ID, folderPerm, ErrNotFound, false},
		{"item of another drive", otherDrive, child.ID, folderPerm, ErrNotFound, false},
		{"own permission of the child", drv, child.ID, childPerm, nil, true},
		{"own permission of the folder", drv, folder.ID, folderPerm, nil, false},
		{"already deleted", drv, folder.ID, folderPerm, ErrNotFound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipIfNoChild && tc.perm == "" {
				t.Skip("the child has no own sharing in this tenant")
			}
			_, latest := enumerate(t, tn, drv, "latest", DeltaOptions{})
			err := tn.DeletePermission(tc.drive, tc.item, tc.perm)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("DeletePermission = %v, want %v", err, tc.want)
			}
			items, _ := enumerate(t, tn, drv, latest, DeltaOptions{ShowSharingChanges: true, HierarchicalSharing: true})
			if tc.want != nil {
				if len(items) != 0 {
					t.Errorf("a failed delete changed %d items", len(items))
				}
				return
			}
			ps, _ := tn.Permissions(drv, tc.item)
			for _, p := range ps {
				if p.ID == tc.perm {
					t.Errorf("permission %s still listed", tc.perm)
				}
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
