package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// TestSharingFlagsFollowEveryPermissionWrite checks, after each write path that changes
// permissions, that the stored sharing flags equal a recomputation from scratch and that the
// sharing filters (answered from the flags) find what the permissions say.
func TestSharingFlagsFollowEveryPermissionWrite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		check := func(step string, want map[string][]string) {
			t.Helper()
			scratch, err := store.RecomputedSharingFlags(ctx, st, integ)
			if err != nil {
				t.Fatal(err)
			}
			items := mustItems(t, st, "d1")
			if len(items) != len(scratch) {
				t.Fatalf("%s: %d items, %d recomputed", step, len(items), len(scratch))
			}
			for id, it := range items {
				if it.SharingFlags != scratch[id] {
					t.Errorf("%s: item %s stores sharing flags %b, recomputed %b", step, id, it.SharingFlags, scratch[id])
				}
			}
			for name, f := range filters {
				page, err := st.ListDriveItems(ctx, integ, f, store.DefaultItemOrder, store.PageRequest{First: 100})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, it := range page.Rows {
					got = append(got, it.ID)
				}
				slices.Sort(got)
				if w := want[name]; !slices.Equal(got, w) {
					t.Errorf("%s: filter %s finds %v, want %v", step, name, got, w)
				}
			}
		}
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		check("after the first page", map[string][]string{})

		anonEdit := perm("p-anon", ptr(models.LinkScopeAnonymous), "write")
		anonEdit.LinkType, anonEdit.ExpiresAt = "edit", ptr(t0)
		guest := perm("p-guest", nil, "read")
		guest.GrantedToExternal = true
		owner := perm("p-owner", nil, "owner")
		err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{
			Items: []models.DriveItem{item("memo", "root", "memo.txt", false)},
			Permissions: map[string][]models.Permission{
				"budget": {anonEdit, owner},
				"notes":  {guest},
				"readme": {perm("p-org", ptr(models.LinkScopeOrganization), "read"), owner},
				"memo":   {owner},
			},
			DeltaLink: "delta-2",
		})
		if err != nil {
			t.Fatal(err)
		}
		check("after a sync page", map[string][]string{
			"shared": {"budget", "notes", "readme"}, "anonymous": {"budget"}, "external": {"notes"},
			"edit": {"budget"}, "expiring": {"budget"}, "noExpiry": {"readme"}, "anonymousNoExpiry": nil,
			"users": {"notes"}, "anonymousEdit": {"budget"}, "organizationNoExpiry": {"readme"},
		})

		// A later delta upsert of the items leaves the flags alone.
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-3")); err != nil {
			t.Fatal(err)
		}
		check("after a delta upsert", map[string][]string{
			"shared": {"budget", "notes", "readme"}, "anonymous": {"budget"}, "external": {"notes"},
			"edit": {"budget"}, "expiring": {"budget"}, "noExpiry": {"readme"}, "users": {"notes"},
			"anonymousEdit": {"budget"}, "organizationNoExpiry": {"readme"},
		})

		anonView := perm("p-anon2", ptr(models.LinkScopeAnonymous), "read")
		err = st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-3", map[string][]models.Permission{
			"budget": {perm("p-users", ptr(models.LinkScopeUsers), "read")},
			"readme": {anonView},
		}))
		if err != nil {
			t.Fatal(err)
		}
		check("after a page of permissions only", map[string][]string{
			"shared": {"budget", "notes", "readme"}, "anonymous": {"readme"}, "external": {"notes"},
			"noExpiry": {"budget", "readme"}, "anonymousNoExpiry": {"readme"}, "users": {"budget", "notes"},
		})

		if _, err := st.RemoveOwnPermission(ctx, store.Actor{Subject: "s1", Name: "Admin"}, integ, "notes", "p-guest"); err != nil {
			t.Fatal(err)
		}
		check("after RemoveOwnPermission", map[string][]string{
			"shared": {"budget", "readme"}, "anonymous": {"readme"},
			"noExpiry": {"budget", "readme"}, "anonymousNoExpiry": {"readme"}, "users": {"budget"},
		})

		if err := st.SetOwnPermissionExpiry(ctx, store.Actor{Subject: "s1", Name: "Admin"}, integ, "readme", "p-anon2", ptr(t0)); err != nil {
			t.Fatal(err)
		}
		check("after setting an expiry", map[string][]string{
			"shared": {"budget", "readme"}, "anonymous": {"readme"},
			"expiring": {"readme"}, "noExpiry": {"budget"}, "users": {"budget"},
		})
		if err := st.SetOwnPermissionExpiry(ctx, store.Actor{Subject: "s1", Name: "Admin"}, integ, "readme", "p-anon2", nil); err != nil {
			t.Fatal(err)
		}
		check("after removing the expiry", map[string][]string{
			"shared": {"budget", "readme"}, "anonymous": {"readme"},
			"noExpiry": {"budget", "readme"}, "anonymousNoExpiry": {"readme"}, "users": {"budget"},
		})

		// Deleting a folder takes its items' sharing with it.
		if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{DeletedIDs: []string{"fin"}, DeltaLink: "delta-4"}); err != nil {
			t.Fatal(err)
		}
		check("after deleting a folder", map[string][]string{
			"shared": {"readme"}, "anonymous": {"readme"}, "noExpiry": {"readme"}, "anonymousNoExpiry": {"readme"},
		})
	})
}

var filters = map[string]store.ItemFilter{
	"shared":            {SharedOnly: true},
	"anonymous":         {Scopes: []string{models.LinkScopeAnonymous}},
	"users":             {Scopes: []string{models.LinkScopeUsers}},
	"external":          {External: ptr(true)},
	"edit":              {LinkTypes: []string{"edit"}},
	"expiring":          {HasExpiry: ptr(true)},
	"noExpiry":          {HasExpiry: ptr(false)},
	"anonymousNoExpiry": {Scopes: []string{models.LinkScopeAnonymous}, HasExpiry: ptr(false)},
	"anonymousEdit":     {Scopes: []string{models.LinkScopeAnonymous}, LinkTypes: []string{"edit"}},
	// Combined conditions the flags only narrow.
	"organizationNoExpiry": {Scopes: []string{models.LinkScopeOrganization}, HasExpiry: ptr(false)},
}

// TestSharingStateInGoEqualsTheDatabase: a sync page inserts new items with the sharing state
// computed in Go (sharingStateOf); for every shape of permission it must equal what the
// database computes from the stored permissions, or new rows would be written twice.
func TestSharingStateInGoEqualsTheDatabase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		anonEdit := perm("p-anon", ptr(models.LinkScopeAnonymous), "write")
		anonEdit.LinkType = "edit"
		anonExp := perm("p-anon-exp", ptr(models.LinkScopeAnonymous), "read")
		anonExp.ExpiresAt, anonExp.HasPassword = ptr(t0), true
		orgView := perm("p-org", ptr(models.LinkScopeOrganization), "read")
		orgView.LinkType = "view"
		people := perm("p-people", ptr(models.LinkScopeUsers), "read")
		people.GrantedToIdentities = models.Identities{{Email: "a@contoso.com"}, {Email: "g@fabrikam.com", External: true}}
		guest := perm("p-guest", nil, "read")
		guest.GrantedToExternal = true
		member := perm("p-member", nil, "write,read")
		owner := perm("p-owner", nil, "owner")
		inherited := perm("p-inh", ptr(models.LinkScopeOrganization), "read")
		inherited.Inherited = true
		gone := perm("p-gone", ptr(models.LinkScopeAnonymous), "read")
		gone.ExpiresAt = ptr(time.Now().Add(-time.Hour).UTC().Truncate(time.Second))
		cases := map[string][]models.Permission{
			"old":    {gone, owner},
			"budget": {anonEdit, owner},
			"notes":  {anonExp, people},
			"readme": {orgView, guest, member},
			"memo":   {owner},
			"plans":  {inherited},
			"q3":     {},
		}
		err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{
			Items: []models.DriveItem{item("memo", "root", "memo.txt", false), item("plans", "root", "plans.txt", false),
				item("q3", "root", "q3.txt", false), item("old", "root", "old.txt", false)},
			Permissions: cases,
			DeltaLink:   "delta-2",
		})
		if err != nil {
			t.Fatal(err)
		}
		items := mustItems(t, st, "d1")
		for id, perms := range cases {
			hasOwn, flags := store.SharingStateOf(perms, time.Now())
			it, ok := items[id]
			if !ok {
				t.Fatalf("item %s not stored", id)
			}
			if it.HasOwnPermissions != hasOwn || it.SharingFlags != flags {
				t.Errorf("item %s: database has_own_permissions %v flags %b, Go %v %b", id, it.HasOwnPermissions, it.SharingFlags, hasOwn, flags)
			}
			if flags == 0 && len(perms) > 0 && id != "memo" && id != "plans" && id != "old" {
				t.Errorf("item %s: no flags computed for %d permissions", id, len(perms))
			}
		}
	})
}

// TestSharingFlagsOfSharePointKinds: limited access and existingAccess links are stored but
// are not sharing; a grant to Everyone except external users is organisation-wide; an
// application grant is a grant to specific principals. The flags computed in Go and in SQL
// agree, and the filters and the overview follow them.
func TestSharingFlagsOfSharePointKinds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		existing := perm("00000000-0000-0000-0000-000000000000", ptr(models.LinkScopeExistingAccess), "read")
		existing.LinkType = "view"
		limited := perm("p-limited", nil, models.RoleLimitedAccess)
		limited.GrantedToID, limited.GrantedToKind = "u1", models.GranteeUser
		everyone := perm("p-everyone", nil, "read")
		everyone.GrantedToDisplayName, everyone.GrantedToKind = "Everyone except external users", models.GranteeOrganization
		app := perm("p-app", nil, "write")
		app.GrantedToID, app.GrantedToDisplayName, app.GrantedToKind = "a1", "Contoso Records Sync", models.GranteeApplication
		owner := perm("p-owner", nil, "owner")
		cases := map[string][]models.Permission{
			"budget": {owner, existing},
			"notes":  {owner, limited},
			"readme": {owner, everyone},
			"memo":   {owner, app},
		}
		err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{
			Items: []models.DriveItem{item("memo", "root", "memo.txt", false)}, Permissions: cases, DeltaLink: "delta-2",
		})
		if err != nil {
			t.Fatal(err)
		}
		scratch, err := store.RecomputedSharingFlags(ctx, st, integ)
		if err != nil {
			t.Fatal(err)
		}
		items := mustItems(t, st, "d1")
		for id, perms := range cases {
			hasOwn, flags := store.SharingStateOf(perms, time.Now())
			if it := items[id]; !it.HasOwnPermissions || it.SharingFlags != flags || scratch[id] != flags || hasOwn != it.HasOwnPermissions {
				t.Errorf("item %s: stored flags %b, SQL %b, Go %b (has own: %v / %v)", id, it.SharingFlags, scratch[id], flags, it.HasOwnPermissions, hasOwn)
			}
		}
		for name, want := range map[string][]string{
			"shared":       {"memo", "readme"},
			"organization": {"readme"},
			"users":        {"memo"},
			"anonymous":    nil,
		} {
			f := filters[name]
			if name == "organization" {
				f = store.ItemFilter{Scopes: []string{models.LinkScopeOrganization}}
			}
			page, err := st.ListDriveItems(ctx, integ, f, store.DefaultItemOrder, store.PageRequest{First: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range page.Rows {
				got = append(got, it.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("filter %s finds %v, want %v", name, got, want)
			}
		}
		o, err := st.IntegrationOverview(ctx, integ)
		if err != nil {
			t.Fatal(err)
		}
		if o.SharedItems != 2 {
			t.Errorf("overview: %d shared items, want 2 (Everyone and the application)", o.SharedItems)
		}
		for _, c := range o.ByScope {
			want := map[string]int{models.LinkScopeOrganization: 1, models.LinkScopeUsers: 1}[c.Scope]
			if c.Permissions != want {
				t.Errorf("overview scope %s: %d permissions, want %d", c.Scope, c.Permissions, want)
			}
		}
	})
}
