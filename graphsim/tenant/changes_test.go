package tenant

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fixture is a drive with a known layout built through Apply:
//
//	/Team (folder, shared with an anonymous link)
//	/Team/Plan.docx (1000 bytes)
//	/Team/Sub (folder)
//	/Team/Sub/Deep.xlsx (500 bytes)
//	/Loose.pdf (200 bytes)
type fixture struct {
	tn                           *Tenant
	drive                        Drive
	team, plan, sub, deep, loose string
	link                         string // the anonymous link on Team
	member, guest                string // user ids
	group                        string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tn := New(Config{Seed: 31, Users: 30, FilesPerUser: 5, Lenient: classic})
	f := &fixture{tn: tn, drive: tn.Drives()[0]}
	do := func(c Change) ChangeResult {
		t.Helper()
		c.DriveID = f.drive.ID
		r, err := tn.Apply(c)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		return r
	}
	f.team = do(Change{Op: "create", Name: "Fixture Team", Folder: true}).ItemID
	f.plan = do(Change{Op: "create", ParentID: f.team, Name: "Plan.docx", Size: 1000}).ItemID
	f.sub = do(Change{Op: "create", ParentID: f.team, Name: "Sub", Folder: true}).ItemID
	f.deep = do(Change{Op: "create", ParentID: f.sub, Name: "Deep.xlsx", Size: 500}).ItemID
	f.loose = do(Change{Op: "create", Name: "Loose fixture.pdf", Size: 200}).ItemID
	f.link = do(Change{Op: "share", ItemID: f.team, Scope: "anonymous", LinkType: "view"}).PermissionID
	for _, u := range tn.UsersPage(0, 30) {
		switch {
		case u.UserType == "Guest" && f.guest == "":
			f.guest = u.ID
		case u.UserType == "Member" && u.ID != f.drive.OwnerUserID && f.member == "":
			f.member = u.ID
		}
	}
	f.group = tn.groups[1].ID
	if f.guest == "" || f.member == "" {
		t.Fatal("fixture tenant lacks a guest or a member")
	}
	return f
}

// permByID is the entry with this id that item lists.
func permByID(t *testing.T, f *fixture, item, id string) Permission {
	t.Helper()
	ps, err := f.tn.Permissions(f.drive.ID, item)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("item %s does not list permission %s", item, id)
	return Permission{}
}

func TestApply(t *testing.T) {
	// within the tenant's expiry policy (30 days), so that it is kept as asked
	soon := time.Now().AddDate(0, 0, 10).Truncate(time.Second)
	type check func(t *testing.T, f *fixture, r ChangeResult, changed []Item)
	changedIDs := func(items []Item) []string {
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	tests := []struct {
		name   string
		change func(f *fixture) Change
		want   error
		check  check
	}{
		{"create a file in a subfolder", func(f *fixture) Change {
			return Change{Op: "create", ParentID: f.sub, Name: "New.txt", Size: 10}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			it, ok := f.tn.Item(f.drive.ID, r.ItemID)
			if !ok || it.Path != "/Fixture Team/Sub/New.txt" || it.Size != 10 || it.MimeType != "text/plain" {
				t.Errorf("created %+v", it)
			}
			sub, _ := f.tn.Item(f.drive.ID, f.sub)
			if sub.ChildCount != 2 || sub.Size != 510 {
				t.Errorf("parent now %d children, %d bytes", sub.ChildCount, sub.Size)
			}
			// The new item, its parent and every ancestor (sizes changed).
			if !slices.Equal(changedIDs(ch), []string{r.ItemID, f.sub, f.team, f.drive.RootID}) {
				t.Errorf("changed %v", changedIDs(ch))
			}
			d, _ := f.tn.Drive(f.drive.ID)
			if d.Quota.Used != f.drive.Quota.Used+10 {
				t.Errorf("quota used %d, was %d", d.Quota.Used, f.drive.Quota.Used)
			}
		}},
		{"create an empty folder", func(f *fixture) Change {
			return Change{Op: "create", ParentID: f.team, Name: "Empty", Folder: true}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			if !slices.Equal(changedIDs(ch), []string{r.ItemID, f.team}) {
				t.Errorf("changed %v: only the folder and its parent should change", changedIDs(ch))
			}
		}},
		{"create with a name taken (case-insensitive)", func(f *fixture) Change {
			return Change{Op: "create", ParentID: f.team, Name: "plan.DOCX"}
		}, ErrInvalid, nil},
		{"create with a bad name", func(f *fixture) Change { return Change{Op: "create", Name: "a:b"} }, ErrInvalid, nil},
		{"create under a file", func(f *fixture) Change {
			return Change{Op: "create", ParentID: f.plan, Name: "x"}
		}, ErrInvalid, nil},
		{"create under an unknown parent", func(f *fixture) Change {
			return Change{Op: "create", ParentID: "01AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Name: "x"}
		}, ErrNotFound, nil},
		{"rename a folder", func(f *fixture) Change { return Change{Op: "rename", ItemID: f.sub, Name: "Renamed"} },
			nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
				deep, _ := f.tn.Item(f.drive.ID, f.deep)
				if deep.Path != "/Fixture Team/Renamed/Deep.xlsx" {
					t.Errorf("descendant path %s", deep.Path)
				}
				if !slices.Equal(changedIDs(ch), []string{f.sub}) {
					t.Errorf("changed %v: a rename changes only the item", changedIDs(ch))
				}
			}},
		{"rename onto a sibling", func(f *fixture) Change { return Change{Op: "rename", ItemID: f.sub, Name: "Plan.docx"} }, ErrInvalid, nil},
		{"rename the root", func(f *fixture) Change { return Change{Op: "rename", ItemID: "root", Name: "x"} }, ErrInvalid, nil},
		{"move a folder to the root", func(f *fixture) Change { return Change{Op: "move", ItemID: f.sub, ParentID: "root"} },
			nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
				team, _ := f.tn.Item(f.drive.ID, f.team)
				root, _ := f.tn.Item(f.drive.ID, "root")
				if team.Size != 1000 || team.ChildCount != 1 || root.Size != f.drive.Quota.Used {
					t.Errorf("team %d bytes %d children; root %d bytes, was %d", team.Size, team.ChildCount, root.Size, f.drive.Quota.Used)
				}
				// Descendants do not appear; paths are the client's business.
				if slices.Contains(changedIDs(ch), f.deep) || !slices.Contains(changedIDs(ch), f.sub) {
					t.Errorf("changed %v", changedIDs(ch))
				}
				ps, _ := f.tn.Permissions(f.drive.ID, f.deep)
				for _, p := range ps {
					if p.ID == f.link {
						t.Error("moved out of the shared folder, still inherits its link")
					}
				}
			}},
		{"move into itself", func(f *fixture) Change { return Change{Op: "move", ItemID: f.team, ParentID: f.sub} }, ErrInvalid, nil},
		{"move into a file", func(f *fixture) Change { return Change{Op: "move", ItemID: f.loose, ParentID: f.plan} }, ErrInvalid, nil},
		{"delete a folder", func(f *fixture) Change { return Change{Op: "delete", ItemID: f.team} },
			nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
				var gone []string
				for _, it := range ch {
					if it.Deleted {
						gone = append(gone, it.ID)
						if it.Name != "" || it.ParentID == "" {
							t.Errorf("tombstone %+v", it)
						}
					}
				}
				slices.Sort(gone)
				want := []string{f.team, f.plan, f.sub, f.deep}
				slices.Sort(want)
				if !slices.Equal(gone, want) {
					t.Errorf("deleted %v, want %v", gone, want)
				}
				if _, ok := f.tn.Item(f.drive.ID, f.plan); ok {
					t.Error("a deleted item is still found")
				}
				if _, err := f.tn.Permissions(f.drive.ID, f.team); !errors.Is(err, ErrNotFound) {
					t.Errorf("permissions of a deleted item: %v", err)
				}
				d, _ := f.tn.Drive(f.drive.ID)
				if d.Quota.Used != f.drive.Quota.Used-1500 || d.Quota.Deleted != f.drive.Quota.Deleted+1500 {
					t.Errorf("quota %+v, was %+v", d.Quota, f.drive.Quota)
				}
				if s := f.tn.Summary(); s.PermissionsByScope["anonymous"] != 0 {
					t.Errorf("the deleted folder's link is still counted: %+v", s)
				}
			}},
		{"delete the root", func(f *fixture) Change { return Change{Op: "delete", ItemID: "root"} }, ErrInvalid, nil},
		{"share: anonymous edit link with expiry and password", func(f *fixture) Change {
			return Change{Op: "share", ItemID: f.plan, Scope: "anonymous", LinkType: "edit", ExpiresAt: &soon, HasPassword: true}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			p := permByID(t, f, f.plan, r.PermissionID)
			if p.ID != r.PermissionID || p.Link == nil || p.Link.Scope != "anonymous" || p.Roles[0] != "write" || !p.PasswordSet || p.HasPassword || !p.ExpirationDateTime.Equal(soon) {
				t.Errorf("permission %+v", p)
			}
			if len(ch) != 1 || ch[0].ID != f.plan || !ch[0].SharedChanged {
				t.Errorf("changed %+v", ch)
			}
		}},
		{"share: people link to a guest", func(f *fixture) Change {
			return Change{Op: "share", ItemID: f.plan, Scope: "users", GranteeID: f.guest}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			if p := permByID(t, f, f.plan, r.PermissionID); !p.Guest || p.Invitation == nil || len(p.GrantedToIdentities) != 1 || p.GrantedToIdentities[0].ID != f.guest {
				t.Errorf("permission %+v", p)
			}
		}},
		{"share: direct write grant to a member", func(f *fixture) Change {
			return Change{Op: "share", ItemID: f.loose, Scope: "direct", GranteeID: f.member, Role: "write"}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			if p := permByID(t, f, f.loose, r.PermissionID); p.Link != nil || p.GrantedToUser == nil || p.GrantedToUser.ID != f.member || p.Roles[0] != "write" || p.Guest {
				t.Errorf("permission %+v", p)
			}
			if s := f.tn.Summary(); s.PermissionsByScope["direct"] != 1 || s.SharedItems != 2 {
				t.Errorf("summary %+v", s)
			}
		}},
		{"share: direct grant to a group", func(f *fixture) Change {
			return Change{Op: "share", ItemID: f.loose, Scope: "direct", GranteeID: f.group}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			if p := permByID(t, f, f.loose, r.PermissionID); p.GrantedToGroup == nil || p.GrantedToGroup.ID != f.group {
				t.Errorf("permission %+v", p)
			}
		}},
		{"share without a grantee", func(f *fixture) Change { return Change{Op: "share", ItemID: f.plan, Scope: "users"} }, ErrInvalid, nil},
		{"share with an unknown scope", func(f *fixture) Change { return Change{Op: "share", ItemID: f.plan, Scope: "world"} }, ErrInvalid, nil},
		{"share an expiring organization link", func(f *fixture) Change {
			return Change{Op: "share", ItemID: f.plan, Scope: "organization", ExpiresAt: &soon}
		}, ErrInvalid, nil},
		{"share the root", func(f *fixture) Change { return Change{Op: "share", ItemID: "root", Scope: "organization"} }, ErrInvalid, nil},
		{"unshare one link", func(f *fixture) Change { return Change{Op: "unshare", ItemID: f.team, PermissionID: f.link} },
			nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
				if s := f.tn.Summary(); s.Permissions != 0 {
					t.Errorf("summary %+v", s)
				}
				if len(ch) != 1 || ch[0].ID != f.team || !ch[0].SharedChanged || ch[0].Shared == nil || !ch[0].Shared.Empty {
					t.Errorf("changed %+v: want the folder with an empty shared facet", ch)
				}
			}},
		{"unshare everything", func(f *fixture) Change { return Change{Op: "unshare", ItemID: f.team} }, nil, nil},
		{"unshare an inherited link", func(f *fixture) Change { return Change{Op: "unshare", ItemID: f.plan, PermissionID: f.link} }, ErrInherited, nil},
		{"unshare an item without sharing", func(f *fixture) Change { return Change{Op: "unshare", ItemID: f.plan} }, ErrInvalid, nil},
		{"change a link to edit", func(f *fixture) Change {
			return Change{Op: "changeLink", ItemID: f.team, PermissionID: f.link, LinkType: "edit"}
		}, nil, func(t *testing.T, f *fixture, r ChangeResult, ch []Item) {
			if p := permByID(t, f, f.team, f.link); p.Link.Type != "edit" || p.Roles[0] != "write" {
				t.Errorf("permission %+v", p)
			}
		}},
		{"change a link's expiry", func(f *fixture) Change {
			return Change{Op: "changeLink", ItemID: f.team, PermissionID: f.link, ExpiresAt: &soon}
		}, nil, nil},
		{"change a link with nothing to change", func(f *fixture) Change {
			return Change{Op: "changeLink", ItemID: f.team, PermissionID: f.link}
		}, ErrInvalid, nil},
		{"unknown op", func(f *fixture) Change { return Change{Op: "explode"} }, ErrInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.drive, _ = f.tn.Drive(f.drive.ID)
			_, latest := enumerate(t, f.tn, f.drive.ID, "latest", DeltaOptions{})
			before := export(t, f.tn)
			var notified []string
			var mu sync.Mutex
			f.tn.OnDriveChange(func(id string) {
				mu.Lock()
				notified = append(notified, id)
				mu.Unlock()
			})
			c := tc.change(f)
			c.DriveID = f.drive.ID
			r, err := f.tn.Apply(c)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Apply(%+v) = %v, want %v", c, err, tc.want)
			}
			changed, _ := enumerate(t, f.tn, f.drive.ID, latest, DeltaOptions{HierarchicalSharing: true, ShowSharingChanges: true})
			if tc.want != nil {
				if len(changed) != 0 || len(notified) != 0 {
					t.Errorf("a rejected change changed %d items and notified %v", len(changed), notified)
				}
				if after := export(t, f.tn); after.nperm != before.nperm || len(after.items) != len(before.items) {
					t.Error("a rejected change altered the export")
				}
				return
			}
			if !slices.Equal(notified, []string{f.drive.ID}) {
				t.Errorf("notified %v, want the drive once", notified)
			}
			if len(changed) == 0 {
				t.Error("the change does not appear in delta")
			}
			if tc.check != nil {
				tc.check(t, f, r, changed)
			}
		})
	}
	if _, err := newFixture(t).tn.Apply(Change{Op: "create", DriveID: "b!nope", Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown drive: %v", err)
	}
}

func TestApplyRandomChanges(t *testing.T) {
	a, b := small(5), small(5)
	var notified int
	a.OnDriveChange(func(string) { notified++ })
	if n := a.ApplyRandomChanges(77, 300); n != 300 {
		t.Fatalf("applied %d of 300", n)
	}
	if notified == 0 || notified > len(a.drives) {
		t.Errorf("notified %d times for %d drives", notified, len(a.drives))
	}
	b.ApplyRandomChanges(77, 300)
	ea, eb := export(t, a), export(t, b)
	if len(ea.items) != len(eb.items) || ea.nperm != eb.nperm {
		t.Error("the same seed applied the same count gives different tenants")
	}
	for id, it := range ea.items {
		o := eb.items[id]
		o.CreatedDateTime, o.LastModifiedDateTime = it.CreatedDateTime, it.LastModifiedDateTime
		if o != it {
			t.Fatalf("item %s differs between two runs", id)
		}
	}
	if a.ApplyRandomChanges(1, 0) != 0 {
		t.Error("count 0 applied something")
	}
	// Every kind of change happens in a realistic batch.
	ops := map[string]int{}
	tn := small(6)
	for k := range 500 {
		d := tn.drives[k%len(tn.drives)]
		rng := newRand(int64(k))
		tn.mu.Lock()
		if c, ok := tn.randomChange(rng, d); ok {
			if _, err := tn.applyLocked(d, c, time.Now()); err == nil {
				ops[c.Op]++
			}
		}
		tn.mu.Unlock()
	}
	for _, op := range []string{"create", "rename", "move", "delete", "share", "unshare", "changeLink"} {
		if ops[op] == 0 {
			t.Errorf("no %s among random changes: %v", op, ops)
		}
	}
}

// Listeners may call back into the tenant (the HTTP layer reads the drive
// to build a notification), so they must run outside its lock; a listener
// called under the lock would deadlock here.
func TestListenersMayReadTheTenant(t *testing.T) {
	f := newFixture(t)
	var seen []Summary
	f.tn.OnDriveChange(func(id string) {
		if _, ok := f.tn.Drive(id); !ok {
			t.Errorf("listener got unknown drive %s", id)
		}
		seen = append(seen, f.tn.Summary())
	})
	if _, err := f.tn.Apply(Change{Op: "share", DriveID: f.drive.ID, ItemID: f.loose, Scope: "organization"}); err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(time.Hour)
	if _, err := f.tn.UpdatePermission(f.drive.ID, f.team, f.link, PermissionPatch{ExpirationDateTime: &expiry}); err != nil {
		t.Fatal(err)
	}
	if err := f.tn.DeletePermission(f.drive.ID, f.team, f.link); err != nil {
		t.Fatal(err)
	}
	f.tn.ApplyRandomChanges(3, 5)
	if len(seen) < 4 || seen[0].Permissions != 2 || seen[2].Permissions != 1 {
		t.Errorf("listener saw %+v", seen)
	}
}
