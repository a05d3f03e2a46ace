package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

const integ = "int-1"

// t0 is years ahead, so that a link expiring at it is live whenever the tests run
// (links_test.go moves the store's clock past expiries instead).
var t0 = time.Date(2046, 3, 4, 5, 6, 7, 0, time.UTC)

func item(id, parent, name string, folder bool) models.DriveItem {
	return models.DriveItem{
		ID: id, ParentID: parent, Name: name, IsFolder: folder, IsRoot: parent == "",
		Size: int64(len(name)), WebURL: "https://contoso-my.sharepoint.com/" + id,
		CreatedDateTime: ptr(t0), LastModifiedDateTime: ptr(t0.Add(time.Hour)),
		CreatedByID: "u1", CreatedByName: "Adele", CreatedByEmail: "adele@contoso.com",
	}
}

// tree is a small drive: / ─ Finance/ ─ budget.xlsx, / ─ Notes/ ─ a.txt, / ─ readme.md
func tree() []models.DriveItem {
	return []models.DriveItem{
		item("root", "", "root", true),
		item("fin", "root", "Finance", true),
		item("budget", "fin", "budget.xlsx", false),
		item("notes", "root", "Notes", true),
		item("a", "notes", "a.txt", false),
		item("readme", "root", "readme.md", false),
	}
}

func perm(id string, scope *string, roles string) models.Permission {
	return models.Permission{ID: id, DriveID: "d1", Roles: roles, LinkScope: scope, LinkType: "view",
		GrantedToID: "g-" + id, GrantedToKind: models.GranteeUser}
}

// page is one delta page for CommitSyncPage: next continues the round, delta ends it. The
// last page recomputes the drive's paths, as the sync engine asks when it cannot derive them.
func page(items []models.DriveItem, deleted []string, next, delta string) store.SyncPage {
	return store.SyncPage{Items: items, DeletedIDs: deleted, NextLink: next, DeltaLink: delta, RecomputePaths: delta != ""}
}

// permissionsPage is a page of drive d1 that only replaces the listed items' permissions.
func permissionsPage(delta string, byItem map[string][]models.Permission) store.SyncPage {
	return store.SyncPage{Permissions: byItem, DeltaLink: delta}
}

func mustItems(t *testing.T, st *store.Store, drive string) map[string]models.DriveItem {
	t.Helper()
	items, err := st.DriveItems(context.Background(), integ, drive)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]models.DriveItem{}
	for _, it := range items {
		out[it.ID] = it
	}
	return out
}

func ids[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func count(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCommitSyncPageStoresItemsAndCheckpoint(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		items := tree()
		items[2].SharedScope = ptr("anonymous")
		items[1].SharedScope = ptr("")
		if err := st.CommitSyncPage(ctx, integ, "d1", page(items, nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		got := mustItems(t, st, "d1")
		if want := []string{"a", "budget", "fin", "notes", "readme", "root"}; !slices.Equal(ids(got), want) {
			t.Fatalf("items %v, want %v", ids(got), want)
		}
		b := got["budget"]
		if b.IntegrationID != integ || b.DriveID != "d1" || b.ParentID != "fin" || b.Name != "budget.xlsx" ||
			b.WebURL == "" || b.CreatedByEmail != "adele@contoso.com" || b.Size != 11 {
			t.Fatalf("stored item differs: %+v", b)
		}
		if b.LastModifiedDateTime == nil || !b.LastModifiedDateTime.Equal(t0.Add(time.Hour)) || b.LastModifiedDateTime.Location() != time.UTC {
			t.Fatalf("last_modified_date_time = %v, want %v in UTC", b.LastModifiedDateTime, t0.Add(time.Hour))
		}
		if b.SharedScope == nil || *b.SharedScope != "anonymous" {
			t.Fatalf("shared scope of budget = %v, want anonymous", b.SharedScope)
		}
		if f := got["fin"]; f.SharedScope == nil || *f.SharedScope != "" {
			t.Fatalf("empty shared facet must be stored as \"\", got %v", f.SharedScope)
		}
		if r := got["readme"]; r.SharedScope != nil {
			t.Fatalf("no shared facet must be stored as NULL, got %q", *r.SharedScope)
		}
		state, err := st.DriveSyncState(ctx, integ, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if state.DeltaLink == nil || *state.DeltaLink != "delta-1" || state.NextLink != nil || state.LastSyncedAt == nil {
			t.Fatalf("checkpoint = %+v, want delta link delta-1 and no next link", state)
		}
	})
}

func TestCommitSyncPageIsIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		before := mustItems(t, st, "d1")
		// The same page again (a crash after commit, before the caller saw it),
		// and the same item twice in one page (delta may repeat an item).
		again := page(append(tree(), item("a", "notes", "a.txt", false)), nil, "", "delta-1")
		for range 2 {
			if err := st.CommitSyncPage(ctx, integ, "d1", again); err != nil {
				t.Fatal(err)
			}
		}
		after := mustItems(t, st, "d1")
		if n := count(t, st, "drive_items"); n != 6 {
			t.Fatalf("%d item rows after re-applying, want 6", n)
		}
		for id, b := range before {
			a := after[id]
			if a.Path != b.Path || a.Path == "" {
				t.Fatalf("item %s path %q after re-applying, want %q", id, a.Path, b.Path)
			}
			a.SyncedAt, b.SyncedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("item %s changed by re-applying:\n%+v\n%+v", id, b, a)
			}
		}
	})
}

func TestCommitSyncPageRollsBackWithCheckpoint(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree()[:3], nil, "next-1", "")); err != nil {
			t.Fatal(err)
		}
		// The second page deletes an item, adds a good one and a broken one
		// (an empty id violates a CHECK constraint): nothing of it may land.
		bad := page([]models.DriveItem{item("new", "root", "new.txt", false), item("", "root", "broken", false)},
			[]string{"budget"}, "next-2", "")
		if err := st.CommitSyncPage(ctx, integ, "d1", bad); err == nil {
			t.Fatal("a page with an invalid item was accepted")
		}
		state, err := st.DriveSyncState(ctx, integ, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if state.NextLink == nil || *state.NextLink != "next-1" {
			t.Fatalf("checkpoint after a failed page = %v, want next-1", state.NextLink)
		}
		if got := ids(mustItems(t, st, "d1")); !slices.Equal(got, []string{"budget", "fin", "root"}) {
			t.Fatalf("items after a failed page = %v, want the first page's", got)
		}
		// The store is still usable after the rollback (the connection was returned clean).
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree()[3:], nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "drive_items"); n != 6 {
			t.Fatalf("%d items after the good page, want 6", n)
		}
	})
}

func TestDeletedItemsLoseTheirPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-1", map[string][]models.Permission{
			"budget": {perm("p1", ptr("anonymous"), "read"), perm("p2", nil, "write")},
			"a":      {perm("p3", ptr("organization"), "read")},
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CommitSyncPage(ctx, integ, "d1", page(nil, []string{"budget", "never-stored"}, "", "delta-2")); err != nil {
			t.Fatal(err)
		}
		if _, ok := mustItems(t, st, "d1")["budget"]; ok {
			t.Fatal("deleted item still stored")
		}
		if ps, _ := st.ItemPermissions(ctx, integ, "budget"); len(ps) != 0 {
			t.Fatalf("deleted item still has %d permissions", len(ps))
		}
		if ps, _ := st.ItemPermissions(ctx, integ, "a"); len(ps) != 1 {
			t.Fatalf("another item's permissions were touched: %d left", len(ps))
		}
	})
}

func TestFullRoundSweepsWhatWasNotSeen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		if err := st.CommitSyncPage(ctx, integ, "d2", page([]models.DriveItem{item("other-root", "", "root", true)}, nil, "", "d2-delta")); err != nil {
			t.Fatal(err)
		}
		if err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-1", map[string][]models.Permission{"a": {perm("p1", ptr("anonymous"), "read")}})); err != nil {
			t.Fatal(err)
		}
		// 410: a full enumeration that no longer returns Notes/ and a.txt.
		gen, err := st.StartFullRound(ctx, integ, "d1")
		if err != nil {
			t.Fatal(err)
		}
		state, _ := st.DriveSyncState(ctx, integ, "d1")
		if !state.RoundFull || state.DeltaLink != nil || state.Generation != gen {
			t.Fatalf("state after StartFullRound = %+v", state)
		}
		kept := []models.DriveItem{tree()[0], tree()[1], tree()[2], tree()[5]}
		if err := st.CommitSyncPage(ctx, integ, "d1", page(kept[:2], nil, "n1", "")); err != nil {
			t.Fatal(err)
		}
		if state, _ := st.DriveSyncState(ctx, integ, "d1"); !state.RoundFull {
			t.Fatal("RoundFull cleared before the sweep: a crash here would lose the sweep")
		}
		if got := ids(mustItems(t, st, "d1")); len(got) != 6 {
			t.Fatalf("items before the last page = %v, want all 6: only the last page sweeps", got)
		}
		// The last page fails: the sweep rolls back with it and RoundFull stays.
		broken := page([]models.DriveItem{kept[2], item("", "root", "broken", false)}, nil, "", "delta-2")
		broken.Sweep = true
		if err := st.CommitSyncPage(ctx, integ, "d1", broken); err == nil {
			t.Fatal("a last page with an invalid item was accepted")
		}
		if state, _ := st.DriveSyncState(ctx, integ, "d1"); !state.RoundFull || len(mustItems(t, st, "d1")) != 6 {
			t.Fatal("a failed last page swept or cleared RoundFull: the retried round would not sweep")
		}
		last := page(kept[2:], nil, "", "delta-2")
		last.Sweep = true
		if err := st.CommitSyncPage(ctx, integ, "d1", last); err != nil {
			t.Fatal(err)
		}
		if got := ids(mustItems(t, st, "d1")); !slices.Equal(got, []string{"budget", "fin", "readme", "root"}) {
			t.Fatalf("items after sweep = %v", got)
		}
		if ps, _ := st.ItemPermissions(ctx, integ, "a"); len(ps) != 0 {
			t.Fatal("a swept item kept its permissions")
		}
		if len(mustItems(t, st, "d2")) != 1 {
			t.Fatal("the sweep touched another drive")
		}
		state, _ = st.DriveSyncState(ctx, integ, "d1")
		if state.RoundFull || state.DeltaLink == nil || *state.DeltaLink != "delta-2" {
			t.Fatalf("state after sweep = %+v", state)
		}
	})
}

func TestRecomputePathsAfterRenameAndMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"root": "/", "fin": "/Finance", "budget": "/Finance/budget.xlsx",
			"notes": "/Notes", "a": "/Notes/a.txt", "readme": "/readme.md"}
		checkPaths(t, st, want)
		// Delta lists only the renamed folder and the moved one, not their children. The page
		// goes in without the recompute, which is counted on its own.
		renamed := item("fin", "root", "Money", true)
		moved := item("notes", "fin", "Notes", true)
		if err := st.CommitSyncPage(ctx, integ, "d1", page([]models.DriveItem{renamed, moved}, nil, "next-2", "")); err != nil {
			t.Fatal(err)
		}
		n, err := store.RecomputePaths(ctx, st, integ, "d1")
		if err != nil {
			t.Fatal(err)
		}
		want = map[string]string{"root": "/", "fin": "/Money", "budget": "/Money/budget.xlsx",
			"notes": "/Money/Notes", "a": "/Money/Notes/a.txt", "readme": "/readme.md"}
		checkPaths(t, st, want)
		if n != 4 {
			t.Fatalf("RecomputePaths rewrote %d rows, want the 4 whose path changed", n)
		}
	})
}

func checkPaths(t *testing.T, st *store.Store, want map[string]string) {
	t.Helper()
	got := mustItems(t, st, "d1")
	for id, p := range want {
		if got[id].Path != p {
			t.Errorf("path of %s = %q, want %q", id, got[id].Path, p)
		}
	}
}

func TestPagePermissionsReplaceStoredOnes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		expiry := t0.In(time.FixedZone("CET", 3600))
		link := perm("p-link", ptr("users"), "write,read")
		link.ExpiresAt, link.HasPassword = &expiry, true
		link.GrantedToIdentities = models.Identities{{ID: "x1", DisplayName: "Guest", Email: "g@fabrikam.com", External: true}}
		inherited := perm("p-parent", ptr("organization"), "read")
		inherited.Inherited, inherited.InheritedFromID = true, ptr("fin")
		noExpiry := perm("p-grant", nil, "read")
		noExpiry.ExpiresAt = ptr(time.Time{}.UTC()) // Graph's 0001-01-01T00:00:00Z
		err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-1", map[string][]models.Permission{
			"budget": {link, inherited, noExpiry},
			"fin":    {perm("p-parent", ptr("organization"), "read")},
		}))
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := st.ItemPermissions(ctx, integ, "budget")
		if len(ps) != 3 {
			t.Fatalf("budget has %d permissions, want 3", len(ps))
		}
		byID := map[string]models.Permission{}
		for _, p := range ps {
			byID[p.ID] = p
		}
		l := byID["p-link"]
		if l.Roles != "read,write" || l.Scope() != "users" || !l.HasPassword || l.ExpiresAt == nil || !l.ExpiresAt.Equal(t0) ||
			len(l.GrantedToIdentities) != 1 || l.GrantedToIdentities[0].Email != "g@fabrikam.com" || !l.GrantedToIdentities[0].External {
			t.Fatalf("link stored as %+v", l)
		}
		if g := byID["p-grant"]; g.ExpiresAt != nil || g.LinkScope != nil {
			t.Fatalf("grant: expires %v scope %v, want NULL and NULL", g.ExpiresAt, g.LinkScope)
		}
		if p := byID["p-parent"]; !p.Inherited || p.InheritedFromID == nil || *p.InheritedFromID != "fin" {
			t.Fatalf("inherited permission stored as %+v", p)
		}
		items := mustItems(t, st, "d1")
		if !items["budget"].HasOwnPermissions || !items["fin"].HasOwnPermissions || items["a"].HasOwnPermissions {
			t.Fatal("has_own_permissions wrong after the first replace")
		}
		// Sharing removed from budget: only the inherited entry remains.
		if err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-1", map[string][]models.Permission{"budget": {inherited}})); err != nil {
			t.Fatal(err)
		}
		if ps, _ := st.ItemPermissions(ctx, integ, "budget"); len(ps) != 1 || ps[0].ID != "p-parent" {
			t.Fatalf("after replace budget has %v", ps)
		}
		if mustItems(t, st, "d1")["budget"].HasOwnPermissions {
			t.Fatal("budget still marked as having its own permissions")
		}
		// A later delta page must not reset has_own_permissions of fin.
		if err := st.CommitSyncPage(ctx, integ, "d1", page([]models.DriveItem{item("fin", "root", "Finance", true)}, nil, "", "delta-2")); err != nil {
			t.Fatal(err)
		}
		if !mustItems(t, st, "d1")["fin"].HasOwnPermissions {
			t.Fatal("a delta upsert reset has_own_permissions")
		}
		// An empty list removes everything.
		if err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-2", map[string][]models.Permission{"fin": nil, "budget": {}})); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "permissions"); n != 0 {
			t.Fatalf("%d permissions left, want 0", n)
		}
		if mustItems(t, st, "d1")["fin"].HasOwnPermissions {
			t.Fatal("fin still marked as having its own permissions")
		}
	})
}

func TestUsersDrivesAndCounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		users := []models.User{
			{ID: "u1", DisplayName: "Adele", UserType: models.UserTypeMember, AccountEnabled: true, LicenseSkuIDs: models.StringList{"sku-a", "sku-b"}},
			{ID: "u2", DisplayName: "Guest", UserType: models.UserTypeGuest},
			{ID: "u3", DisplayName: "Alex", UserType: models.UserTypeMember},
		}
		if err := st.UpsertUsers(ctx, integ, users); err != nil {
			t.Fatal(err)
		}
		if err := st.UpsertDrives(ctx, integ, []models.Drive{{ID: "d1", OwnerUserID: "u1", Name: "OneDrive", QuotaTotal: 1 << 40, RootID: "root"}}); err != nil {
			t.Fatal(err)
		}
		// A drive re-read for its quota carries no root id (delta taught it):
		// the stored one stays.
		if err := st.UpsertDrives(ctx, integ, []models.Drive{{ID: "d1", OwnerUserID: "u1", Name: "OneDrive", QuotaTotal: 1 << 40, QuotaUsed: 5}}); err != nil {
			t.Fatal(err)
		}
		if ds, err := st.Drives(ctx, integ); err != nil || len(ds) != 1 || ds[0].RootID != "root" || ds[0].QuotaUsed != 5 {
			t.Fatalf("drives after a quota re-read = %+v, %v; want root id kept and quota updated", ds, err)
		}
		if err := st.MarkUsersWithoutDrive(ctx, integ, []string{"u3"}); err != nil {
			t.Fatal(err)
		}
		// Listing users again must not forget what the drive lookup learnt.
		if err := st.UpsertUsers(ctx, integ, users); err != nil {
			t.Fatal(err)
		}
		got, err := st.Users(ctx, integ)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !slices.Equal(got[0].LicenseSkuIDs, []string{"sku-a", "sku-b"}) {
			t.Fatalf("users = %+v", got)
		}
		if got[0].HasDrive == nil || !*got[0].HasDrive || got[1].HasDrive != nil || got[2].HasDrive == nil || *got[2].HasDrive {
			t.Fatalf("has_drive = %v %v %v, want true, NULL, false", got[0].HasDrive, got[1].HasDrive, got[2].HasDrive)
		}
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		owner := perm("p-owner", nil, "owner")
		inh := perm("p-org", ptr("organization"), "read")
		inh.Inherited = true
		err = st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-1", map[string][]models.Permission{
			"root":   {owner},
			"fin":    {perm("p-org", ptr("organization"), "read"), perm("p-anon", ptr("anonymous"), "read")},
			"budget": {inh, perm("p-direct", nil, "write")},
		}))
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.CountsForIntegration(ctx, integ)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Counts{Users: 3, Drives: 1, Items: 5, SharedItems: 2, Permissions: 3,
			ByScope: map[string]int64{"organization": 1, "anonymous": 1, "direct": 1}}
		if fmt.Sprint(c) != fmt.Sprint(want) {
			t.Fatalf("counts = %+v, want %+v", c, want)
		}
		// A listing that no longer returns u2 removes it.
		cut := time.Now()
		if err := st.UpsertUsers(ctx, integ, []models.User{users[0], users[2]}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeleteUsersSyncedBefore(ctx, integ, cut); err != nil || n != 1 {
			t.Fatalf("DeleteUsersSyncedBefore = %d, %v; want 1", n, err)
		}
	})
}

func TestDeleteIntegrationRemovesEverything(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var created []string
		for _, name := range []string{"doomed", "kept"} {
			in := &models.Integration{Name: name, TenantID: "t", ClientID: "c"}
			if err := st.CreateIntegration(ctx, in, "secret-value-"+name); err != nil {
				t.Fatal(err)
			}
			created = append(created, in.ID)
			if err := st.UpsertUsers(ctx, in.ID, []models.User{{ID: "u1"}}); err != nil {
				t.Fatal(err)
			}
			if err := st.UpsertDrives(ctx, in.ID, []models.Drive{{ID: "d-" + name, OwnerUserID: "u1"}}); err != nil {
				t.Fatal(err)
			}
			if err := st.CommitSyncPage(ctx, in.ID, "d-"+name, page(tree(), nil, "", "delta")); err != nil {
				t.Fatal(err)
			}
			if err := st.CommitSyncPage(ctx, in.ID, "d-"+name, permissionsPage("delta", map[string][]models.Permission{"a": {perm("p1", ptr("anonymous"), "read")}})); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateSyncRun(ctx, &models.SyncRun{IntegrationID: in.ID, Full: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.DeleteIntegration(ctx, created[0]); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"users", "drives", "drive_items", "permissions", "drive_sync_states", "sync_runs",
			"sharing_events", "exposure_intervals"} {
			var n int64
			st.Gorm().Raw("SELECT COUNT(*) FROM "+table+" WHERE integration_id = ?", created[0]).Scan(&n)
			if n != 0 {
				t.Errorf("%d rows of the deleted integration left in %s", n, table)
			}
			st.Gorm().Raw("SELECT COUNT(*) FROM "+table+" WHERE integration_id = ?", created[1]).Scan(&n)
			if n == 0 {
				t.Errorf("the other integration lost its rows in %s", table)
			}
		}
		if _, err := st.Integration(ctx, created[0]); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("deleted integration still readable: %v", err)
		}
		if _, err := st.IntegrationSecret(ctx, created[1]); err != nil {
			t.Fatalf("the other integration's secret: %v", err)
		}
	})
}

func TestSyncRunProgress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		run := &models.SyncRun{IntegrationID: integ, Full: true, Phase: "users"}
		if err := st.CreateSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		run.Phase, run.DrivesTotal, run.DrivesDone, run.ItemsSeen, run.SharedItems = "items", 10, 4, 12345, 67
		run.PermissionsRead, run.Requests, run.ResourceUnits, run.ThrottledWaits, run.EtaSeconds = 89, 321, 654, 2, ptr(int64(42))
		if err := st.UpdateSyncRunProgress(ctx, run); err != nil {
			t.Fatal(err)
		}
		got, err := st.SyncRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.SyncRunning || got.Phase != "items" || got.DrivesDone != 4 || got.ItemsSeen != 12345 ||
			got.ResourceUnits != 654 || got.EtaSeconds == nil || *got.EtaSeconds != 42 || !got.Full {
			t.Fatalf("run after progress = %+v", got)
		}
		run.DrivesDone = 10
		if err := st.FinishSyncRun(ctx, run, models.SyncSucceeded, ""); err != nil {
			t.Fatal(err)
		}
		got, _ = st.SyncRun(ctx, run.ID)
		if got.Status != models.SyncSucceeded || got.FinishedAt == nil || got.DrivesDone != 10 || got.EtaSeconds != nil {
			t.Fatalf("finished run = %+v", got)
		}
		stale := &models.SyncRun{IntegrationID: integ}
		if err := st.CreateSyncRun(ctx, stale); err != nil {
			t.Fatal(err)
		}
		if n, err := st.FailRunningSyncRuns(ctx, integ, "the process stopped"); err != nil || n != 1 {
			t.Fatalf("FailRunningSyncRuns = %d, %v", n, err)
		}
		runs, err := st.SyncRuns(ctx, integ, 10)
		if err != nil || len(runs) != 2 || runs[0].ID != stale.ID || runs[0].Status != models.SyncFailed {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
	})
}
