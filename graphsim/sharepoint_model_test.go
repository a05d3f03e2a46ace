package graphsim_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// spCase is a folder with unique permissions and two files in it that
// inherit from it.
type spCase struct {
	drive, folder, child, sibling string
}

func findSPCase(t testing.TB, ex export) spCase {
	t.Helper()
	own := map[string]bool{}
	for _, p := range ex.perms {
		own[p.ItemID] = true
	}
	byID := map[string]tenant.ExportItem{}
	for _, it := range ex.items {
		byID[it.ID] = it
	}
	// The cases write, so they need a OneDrive with no lock at all (graphsim
	// locks some by default, as Microsoft 365 does).
	unlocked := map[string]bool{}
	for _, d := range ex.drives {
		unlocked[d.ID] = d.Lock == tenant.LockNone
	}
	kids := map[string][]string{}
	for _, it := range ex.items {
		if p := byID[it.ParentID]; unlocked[it.DriveID] && !it.Folder && !own[it.ID] && p.Folder && !p.Root && own[p.ID] {
			kids[p.ID] = append(kids[p.ID], it.ID)
		}
	}
	for f, ks := range kids {
		if len(ks) >= 2 {
			return spCase{byID[f].DriveID, f, ks[0], ks[1]}
		}
	}
	t.Fatal("no shared folder with two files that inherit")
	return spCase{}
}

// share applies one share through the control API and returns the permission id.
func (s *sim) share(t testing.TB, c tenant.Change) string {
	t.Helper()
	c.Op = "share"
	var out struct {
		Results []struct {
			PermissionID string `json:"permissionId"`
			Error        string `json:"error"`
		} `json:"results"`
	}
	if st := s.control(t, "POST", "/changes", map[string]any{"ops": []tenant.Change{c}}, &out); st != 200 || out.Results[0].Error != "" {
		t.Fatalf("share %+v: status %d %+v", c, st, out)
	}
	return out.Results[0].PermissionID
}

// member returns enabled members of the tenant that are not the drive's owner.
func members(ex export, driveID string) []string {
	owner := ""
	for _, d := range ex.drives {
		if d.ID == driveID {
			owner = d.OwnerUserID
		}
	}
	var out []string
	for _, u := range ex.users {
		if u.UserType == "Member" && u.AccountEnabled && u.ID != owner {
			out = append(out, u.ID)
		}
	}
	return out
}

func ids(t testing.TB, s *sim, driveID, itemID string) []string {
	t.Helper()
	client, _ := s.graphClient(t)
	var out []string
	for _, p := range listPerms(t, client, driveID, itemID) {
		out = append(out, *p.GetId())
	}
	return out
}

// TestSharePointModelThroughSDK: sharing an item copies its folder's
// entries onto it (same ids, own), later folder changes stay on the folder,
// removing a copy leaves the folder's grant, and deleting an entry an item
// inherits answers 403 notAllowed.
func TestSharePointModelThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)
	c := findSPCase(t, ex)
	// Two members without a grant on the folder yet.
	var people []string
	for _, u := range members(ex, c.drive) {
		if !slices.ContainsFunc(listPerms(t, client, c.drive, c.folder), func(p models.Permissionable) bool {
			g := p.GetGrantedToV2()
			return g != nil && g.GetUser() != nil && *g.GetUser().GetId() == u
		}) {
			people = append(people, u)
		}
	}
	if len(people) < 2 {
		t.Fatal("the tenant lacks two members without a grant on the folder")
	}
	userGrant := s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.folder, Scope: "direct", GranteeID: people[0]})
	folderBefore := ids(t, s, c.drive, c.folder)

	// The child inherits: it lists the folder's entries, without inheritedFrom (the default).
	for _, p := range listPerms(t, client, c.drive, c.child) {
		if p.GetInheritedFrom() != nil {
			t.Fatalf("default mode: inherited entry %s carries inheritedFrom", *p.GetId())
		}
	}
	if got := ids(t, s, c.drive, c.child); !slices.Equal(got, folderBefore) {
		t.Fatalf("inheriting child lists %v, folder %v", got, folderBefore)
	}

	link := s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.child, Scope: "anonymous"})
	t.Run("copy on first share, same id for a user", func(t *testing.T) {
		got := ids(t, s, c.drive, c.child)
		if want := append(slices.Clone(folderBefore), link); !slices.Equal(got, want) {
			t.Fatalf("after its first share the child lists %v, want the folder's entries then the link: %v", got, want)
		}
		p := findPerm(listPerms(t, client, c.drive, c.child), userGrant)
		if p == nil || p.GetInheritedFrom() != nil || p.GetGrantedToV2().GetUser() == nil || *p.GetGrantedToV2().GetUser().GetId() != people[0] {
			t.Fatalf("the user's grant on the child (id %s, the folder's id) is missing or not own", userGrant)
		}
	})
	t.Run("later folder change does not reach the child", func(t *testing.T) {
		later := s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.folder, Scope: "direct", GranteeID: people[1]})
		if !slices.Contains(ids(t, s, c.drive, c.folder), later) {
			t.Fatal("the folder does not list its new grant")
		}
		if slices.Contains(ids(t, s, c.drive, c.child), later) {
			t.Fatal("a grant made on the folder after the child broke inheritance reached the child")
		}
		if !slices.Contains(ids(t, s, c.drive, c.sibling), later) {
			t.Fatal("a sibling that still inherits does not get the folder's new grant")
		}
	})
	t.Run("removing the copy leaves the folder's grant", func(t *testing.T) {
		if err := client.Drives().ByDriveId(c.drive).Items().ByDriveItemId(c.child).Permissions().ByPermissionId(userGrant).Delete(ctx, nil); err != nil {
			t.Fatalf("delete the child's copy: %v", err)
		}
		if slices.Contains(ids(t, s, c.drive, c.child), userGrant) {
			t.Fatal("the child still lists the removed grant")
		}
		if !slices.Contains(ids(t, s, c.drive, c.folder), userGrant) {
			t.Fatal("removing the child's copy removed the folder's grant")
		}
	})
	t.Run("delete of an inherited entry", func(t *testing.T) {
		err := client.Drives().ByDriveId(c.drive).Items().ByDriveItemId(c.sibling).Permissions().ByPermissionId(userGrant).Delete(ctx, nil)
		odataError(t, err, 403, "notAllowed")
		if !slices.Contains(ids(t, s, c.drive, c.sibling), userGrant) {
			t.Fatal("a refused delete removed the inherited entry")
		}
	})
}

// TestInheritedFromVariants lists an inheriting file in each inheritedFrom
// mode, set at start and switched by the control call, and checks the raw JSON.
func TestInheritedFromVariants(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ex := s.export(t)
	c := findSPCase(t, ex)
	wantPath := ""
	for _, it := range ex.items {
		if it.ID == c.folder {
			wantPath = "/drives/" + c.drive + "/root:" + it.Path
		}
	}
	for _, mode := range []string{"full", "links", "empty", "absent"} {
		t.Run(mode, func(t *testing.T) {
			var got struct{ InheritedFrom string }
			if st := s.control(t, "POST", "/permissions", map[string]string{"inheritedFrom": mode}, &got); st != 200 || got.InheritedFrom != mode {
				t.Fatalf("switch to %s: status %d, now %q", mode, st, got.InheritedFrom)
			}
			resp, body := s.graph(t, "GET", "/drives/"+c.drive+"/items/"+c.child+"/permissions", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("list: %d %s", resp.StatusCode, body)
			}
			var list struct {
				Value []map[string]json.RawMessage `json:"value"`
			}
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatal(err)
			}
			full := `{"driveId":"` + c.drive + `","id":"` + c.folder + `","path":"` + wantPath + `"}`
			for _, p := range list.Value {
				ref, has := p["inheritedFrom"]
				_, isLink := p["link"]
				want := map[string]string{"full": full, "empty": "{}", "absent": ""}[mode]
				if mode == "links" && isLink {
					want = full
				}
				if string(ref) != want || has != (want != "") {
					t.Errorf("%s entry %s (link %v): inheritedFrom %s, want %q", mode, p["id"], isLink, ref, want)
				}
			}
			// The folder lists its own entries, never with inheritedFrom.
			_, fb := s.graph(t, "GET", "/drives/"+c.drive+"/items/"+c.folder+"/permissions", nil)
			if strings.Contains(string(fb), "inheritedFrom") {
				t.Errorf("%s: the folder's own entries carry inheritedFrom", mode)
			}
		})
	}
	if st := s.control(t, "POST", "/permissions", map[string]string{"inheritedFrom": "sometimes"}, nil); st != 400 {
		t.Errorf("an unknown mode: status %d, want 400", st)
	}
	if _, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tenant.Config{Users: 2, InheritedFrom: "sometimes"}}); err == nil {
		t.Error("Start accepted an unknown inheritedFrom mode")
	}
}

// TestFieldKindsJSON shares a file with each kind seen in the field and
// checks the JSON Graph gives for it, that msgraph-sdk-go reads it, and what
// DELETE does to it.
func TestFieldKindsJSON(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)
	c := findSPCase(t, ex)
	var apps struct {
		Applications []struct{ ID, DisplayName string }
	}
	s.control(t, "GET", "/permissions", nil, &apps)
	if len(apps.Applications) == 0 {
		t.Fatal("the tenant has no applications")
	}
	app := apps.Applications[0]
	user := members(ex, c.drive)[0]
	tenantID := s.info.TenantID
	ids := map[string]string{
		"existingAccess": s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.child, Scope: "existingAccess"}),
		"everyone":       s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.child, Scope: "everyone"}),
		"application":    s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.child, Scope: "application", GranteeID: app.ID, Role: "write"}),
		"limitedAccess":  s.share(t, tenant.Change{DriveID: c.drive, ItemID: c.sibling, Scope: "limitedAccess", GranteeID: user}),
	}
	raw := func(item, id string) map[string]any {
		t.Helper()
		_, body := s.graph(t, "GET", "/drives/"+c.drive+"/items/"+item+"/permissions", nil)
		var list struct{ Value []map[string]any }
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Value {
			if p["id"] == id {
				return p
			}
		}
		return nil
	}
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	if ids["existingAccess"] != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("existingAccess id %s, want zeros", ids["existingAccess"])
	}
	p := raw(c.child, ids["existingAccess"])
	if l, _ := p["link"].(map[string]any); l["scope"] != "existingAccess" || l["type"] != "view" || l["webUrl"] == "" || j(p["roles"]) != `["read"]` || p["grantedToV2"] != nil {
		t.Errorf("existingAccess link JSON %s", j(p))
	}
	p = raw(c.child, ids["everyone"])
	g, _ := p["grantedToV2"].(map[string]any)
	su, _ := g["siteUser"].(map[string]any)
	if g["user"] != nil || su["displayName"] != "Everyone except external users" ||
		su["loginName"] != "c:0-.f|rolemanager|spo-grid-all-users/"+tenantID || p["link"] != nil {
		t.Errorf("Everyone except external users JSON %s", j(p))
	}
	p = raw(c.child, ids["application"])
	g, _ = p["grantedToV2"].(map[string]any)
	if a, _ := g["application"].(map[string]any); a["id"] != app.ID || a["displayName"] != app.DisplayName || g["user"] != nil || j(p["roles"]) != `["write"]` {
		t.Errorf("application grant JSON %s", j(p))
	}
	p = raw(c.sibling, ids["limitedAccess"])
	g, _ = p["grantedToV2"].(map[string]any)
	if u, _ := g["user"].(map[string]any); u["id"] != user || j(p["roles"]) != `["sp.limited access"]` {
		t.Errorf("limited access JSON %s", j(p))
	}

	// The SDK reads each.
	for _, pp := range listPerms(t, client, c.drive, c.child) {
		switch *pp.GetId() {
		case ids["application"]:
			if a := pp.GetGrantedToV2().GetApplication(); a == nil || *a.GetDisplayName() != app.DisplayName {
				t.Error("SDK: grantedToV2.application missing")
			}
		case ids["everyone"]:
			if su := pp.GetGrantedToV2().GetSiteUser(); su == nil || !strings.Contains(*su.GetLoginName(), "spo-grid-all-users") {
				t.Error("SDK: siteUser.loginName of Everyone except external users missing")
			}
		case ids["existingAccess"]:
			if *pp.GetLink().GetScope() != "existingAccess" {
				t.Error("SDK: existingAccess scope")
			}
		}
	}

	// DELETE: limited access answers success and stays; existingAccess has no
	// permission behind it (404); Everyone and application grants go.
	del := func(item, id string) error {
		return client.Drives().ByDriveId(c.drive).Items().ByDriveItemId(item).Permissions().ByPermissionId(id).Delete(ctx, nil)
	}
	if err := del(c.sibling, ids["limitedAccess"]); err != nil || raw(c.sibling, ids["limitedAccess"]) == nil {
		t.Errorf("limited access: delete %v, still listed %v (want success and still listed)", err, raw(c.sibling, ids["limitedAccess"]) != nil)
	}
	odataError(t, del(c.child, ids["existingAccess"]), 404, "itemNotFound")
	for _, k := range []string{"everyone", "application"} {
		if err := del(c.child, ids[k]); err != nil || raw(c.child, ids[k]) != nil {
			t.Errorf("%s: delete %v, still listed %v", k, err, raw(c.child, ids[k]) != nil)
		}
	}
}
