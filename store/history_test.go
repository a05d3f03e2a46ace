package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// itemEvents returns an item's whole history, oldest first, as "kind:permission/source" words.
func itemEvents(t *testing.T, st *store.Store, itemID string) ([]models.SharingEvent, []string) {
	t.Helper()
	page, err := st.ItemHistory(context.Background(), integ, itemID, store.PageRequest{First: 500})
	if err != nil {
		t.Fatal(err)
	}
	evs := slices.Clone(page.Rows)
	slices.Reverse(evs)
	var words []string
	for _, e := range evs {
		w := e.Kind + ":" + e.PermissionID + "/" + e.Source
		if e.ActorName != "" {
			w += "/" + e.ActorName
		}
		words = append(words, w)
	}
	return evs, words
}

// checkReplay: each item's events replay to its own sharing as stored.
func checkReplay(t *testing.T, st *store.Store, itemIDs ...string) {
	t.Helper()
	for _, id := range itemIDs {
		evs, _ := itemEvents(t, st, id)
		perms, err := st.ItemPermissions(context.Background(), integ, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := store.Replay(evs), store.SharingSnapshots(perms); !store.SameSharing(got, want) {
			t.Errorf("item %s: its history replays to %v, its sharing is %v", id, got, want)
		}
	}
}

func levels(t *testing.T, st *store.Store, itemID string) string {
	t.Helper()
	ivs, err := st.ItemExposure(context.Background(), integ, itemID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, iv := range ivs {
		s := iv.Level
		if iv.EndedAt == nil {
			s += "(open)"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestSharingHistory: what an admin reads in an item's history after a first sync, changes in
// Microsoft 365, a removal through Overshare, a link's expiry and a deletion, and that each
// item's history replays to its sharing.
func TestSharingHistory(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		start := time.Date(2031, 5, 6, 7, 0, 0, 0, time.UTC)
		clock := &testClock{at: start}
		cfg.Clock = clock.Now
		st := testdb.Open(t, cfg)
		anon := perm("p-anon", ptr(models.LinkScopeAnonymous), "read")
		guest := perm("p-guest", nil, "read")
		guest.GrantedToEmail, guest.GrantedToExternal = "guest@fabrikam.com", true
		owner := perm("p-owner", nil, "owner")
		if _, err := st.StartFullRound(ctx, integ, "d1"); err != nil {
			t.Fatal(err)
		}
		first := page(tree(), nil, "", "delta-1")
		first.Permissions = map[string][]models.Permission{"budget": {anon, owner}, "readme": {guest, owner}, "a": {owner}}
		first.Sweep, first.SweptAt = true, start
		if err := st.CommitSyncPage(ctx, integ, "d1", first); err != nil {
			t.Fatal(err)
		}
		if _, words := itemEvents(t, st, "budget"); !slices.Equal(words, []string{"first_seen:/microsoft365"}) {
			t.Fatalf("after the first sync budget's history is %v, want one first_seen", words)
		}
		if _, words := itemEvents(t, st, "a"); len(words) != 0 {
			t.Fatalf("an item shared with nobody has history %v", words)
		}
		if got := levels(t, st, "budget"); got != "anonymous(open) beyond(open)" {
			t.Fatalf("budget's exposure %q", got)
		}

		// Microsoft 365: budget's link becomes edit, readme gains an organisation link, a gains
		// an anonymous link that expires in an hour.
		clock.Set(start.Add(24 * time.Hour))
		edit := anon
		edit.LinkType, edit.Roles = "edit", "write"
		org := perm("p-org", ptr(models.LinkScopeOrganization), "read")
		soon := perm("p-soon", ptr(models.LinkScopeAnonymous), "read")
		soon.ExpiresAt = ptr(start.Add(25 * time.Hour))
		mod := tree()[5] // readme, as Graph gives it with the change
		mod.LastModifiedByName = "Megan Bowen"
		inc := store.SyncPage{Items: []models.DriveItem{mod}, DeltaLink: "delta-2", Permissions: map[string][]models.Permission{
			"budget": {edit, owner}, "readme": {guest, org, owner}, "a": {soon, owner}}}
		if err := st.CommitSyncPage(ctx, integ, "d1", inc); err != nil {
			t.Fatal(err)
		}
		evs, words := itemEvents(t, st, "readme")
		if !slices.Equal(words, []string{"first_seen:/microsoft365", "added:p-org/microsoft365"}) {
			t.Fatalf("readme's history %v", words)
		}
		if e := evs[1]; e.ItemModifiedBy != "Megan Bowen" || e.ItemModifiedAt == nil || e.ItemName != "readme.md" ||
			!e.ObservedAt.Equal(start.Add(24*time.Hour)) || e.ExposureAfter != models.ExposureExternal|models.ExposureOrganization {
			t.Fatalf("the added event says %+v", e)
		}
		if _, words := itemEvents(t, st, "budget"); !slices.Equal(words, []string{"first_seen:/microsoft365", "changed:p-anon/microsoft365"}) {
			t.Fatalf("budget's history %v", words)
		}

		// Overshare: an admin removes the guest from readme.
		if _, err := st.RemoveOwnPermission(ctx, store.Actor{Subject: "s-1", Name: "Adele Admin"}, integ, "readme", "p-guest"); err != nil {
			t.Fatal(err)
		}
		if _, words := itemEvents(t, st, "readme"); words[len(words)-1] != "removed:p-guest/overshare/Adele Admin" {
			t.Fatalf("readme's history after the removal %v", words)
		}
		if got := levels(t, st, "readme"); got != "beyond external organization(open)" {
			t.Fatalf("readme's exposure after the removal %q", got)
		}

		// Time passes: a's link expires with no sync, and a read notices.
		clock.Set(start.Add(26 * time.Hour))
		if _, err := st.CountDriveItems(ctx, integ, store.ItemFilter{SharedOnly: true}); err != nil {
			t.Fatal(err)
		}
		if _, words := itemEvents(t, st, "a"); !slices.Equal(words, []string{"added:p-soon/microsoft365", "link_expired:p-soon/clock"}) {
			t.Fatalf("a's history %v", words)
		}
		ivs, err := st.ItemExposure(ctx, integ, "a")
		if err != nil {
			t.Fatal(err)
		}
		for _, iv := range ivs {
			if iv.EndedAt == nil || !iv.EndedAt.Equal(*soon.ExpiresAt) || iv.EndedAt.Sub(iv.StartedAt) != time.Hour {
				t.Fatalf("a's exposure %s should have lasted the hour to the link's expiry: %v → %v", iv.Level, iv.StartedAt, iv.EndedAt)
			}
		}

		// The Finance folder is deleted in Microsoft 365, budget with it.
		clock.Set(start.Add(48 * time.Hour))
		if err := st.CommitSyncPage(ctx, integ, "d1", page(nil, []string{"fin"}, "", "delta-3")); err != nil {
			t.Fatal(err)
		}
		if _, words := itemEvents(t, st, "budget"); words[len(words)-1] != "removed:p-anon/item_deleted" {
			t.Fatalf("budget's history after its deletion %v", words)
		}
		checkReplay(t, st, "budget", "readme", "a", "notes", "root")

		// Median time to fix: budget's and readme's exposure beyond the organisation ended
		// (2 days and a day after the first sync), a's after an hour.
		fix, err := st.MedianTimeToFix(ctx, integ, start)
		if err != nil {
			t.Fatal(err)
		}
		if fix.Fixed != 3 || fix.Median != 24*time.Hour {
			t.Fatalf("time to fix %+v, want 3 fixed, median a day", fix)
		}
		trend, err := st.ExposureTrend(ctx, integ, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range trend {
			got = append(got, fmt.Sprintf("%s a%d o%d e%d", d.Day.Format("01-02"), d.Anonymous, d.Organization, d.External))
		}
		// 05-06: budget anonymous, readme external; 05-07 (end of day): a expired, budget
		// still anonymous, readme lost its guest and gained the organisation link; 05-08
		// (now): budget deleted.
		if want := []string{"05-06 a1 o0 e1", "05-07 a1 o1 e0", "05-08 a0 o1 e0"}; !slices.Equal(got, want) {
			t.Fatalf("trend %v, want %v", got, want)
		}
		// Days before the first sync are unknown, not zero: a longer window starts with it.
		if long, err := st.ExposureTrend(ctx, integ, 30); err != nil || len(long) != 3 || !long[0].Day.Equal(trend[0].Day) {
			t.Fatalf("a 30-day trend of a 3-day history: %+v, %v", long, err)
		}
	})
}

// TestUpgradeStartsHistoryWithFirstSeen: items shared before the history existed get one
// "first seen" event and open exposure from the upgrade, so their history replays too.
func TestUpgradeStartsHistoryWithFirstSeen(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenAtVersion(ctx, cfg, store.LatestSchemaVersion()-1)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		// Rows as the previous release wrote them.
		for item, p := range map[string]models.Permission{"budget": perm("p1", ptr("anonymous"), "read"),
			"a": perm("p2", ptr("organization"), "read"), "readme": perm("p3", nil, "owner")} {
			p.IntegrationID, p.ItemID = integ, item
			if err := old.Gorm().Create(&p).Error; err != nil {
				t.Fatal(err)
			}
		}
		old.Close()

		st := testdb.Open(t, cfg)
		for item, want := range map[string][]string{"budget": {"first_seen:/microsoft365"}, "a": {"first_seen:/microsoft365"}, "readme": nil} {
			if evs, words := itemEvents(t, st, item); !slices.Equal(words, want) || len(evs) > 0 && evs[0].ItemName == "" {
				t.Errorf("%s: history after the upgrade %v (%+v), want %v", item, words, evs, want)
			}
		}
		if got := levels(t, st, "budget"); got != "anonymous(open) beyond(open)" {
			t.Errorf("budget's exposure after the upgrade %q", got)
		}
		checkReplay(t, st, "budget", "a", "readme")
	})
}

// Two writers that both saw an item unexposed (a sync page and an admin's change committing at
// once) open its exposure once: an interval another writer opened meanwhile is kept, and the
// page commits.
func TestExposureOpenedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		other := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
		if err := st.Gorm().Exec(`INSERT INTO exposure_intervals (integration_id, drive_id, item_id, level, started_at) VALUES (?, 'd1', 'a', 'anonymous', ?)`,
			integ, other).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.CommitSyncPage(ctx, integ, "d1", permissionsPage("delta-2", map[string][]models.Permission{
			"a": {perm("p-anon", ptr(models.LinkScopeAnonymous), "read")}})); err != nil {
			t.Fatalf("the page that shares a, opened by another writer meanwhile: %v", err)
		}
		ivs, err := st.ItemExposure(ctx, integ, "a")
		if err != nil {
			t.Fatal(err)
		}
		if got := levels(t, st, "a"); got != "anonymous(open) beyond(open)" || !ivs[0].StartedAt.Equal(other) {
			t.Fatalf("a's exposure %q, first from %v (want the other writer's, %v)", got, ivs[0].StartedAt, other)
		}
	})
}
