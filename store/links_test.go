package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// testClock is a store clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

// TestExposureIsTimeAware: an item whose only link is an anonymous link counts as anonymous
// until the moment the link expires and not from then on, with no sync in between; an item
// holding an expired link is found by the expired filter; the overview counts live sharing.
func TestExposureIsTimeAware(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		expiry := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		clock := &testClock{at: expiry.Add(-time.Hour)}
		cfg.Clock = clock.Now
		st := testdb.Open(t, cfg)
		if err := st.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		soon := perm("p-soon", ptr(models.LinkScopeAnonymous), "read")
		soon.ExpiresAt = ptr(expiry)
		never := perm("p-never", ptr(models.LinkScopeAnonymous), "read")
		gone := perm("p-gone", ptr(models.LinkScopeAnonymous), "write")
		gone.LinkType, gone.ExpiresAt = "edit", ptr(expiry.AddDate(0, -1, 0))
		org := perm("p-org", ptr(models.LinkScopeOrganization), "read")
		err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{
			Permissions: map[string][]models.Permission{
				"budget": {soon},      // anonymous until expiry
				"a":      {never},     // anonymous for good
				"readme": {gone, org}, // an expired anonymous link and a live organisation link
			},
			DeltaLink: "delta-2",
		})
		if err != nil {
			t.Fatal(err)
		}
		anonymous := store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}
		expired := store.ItemFilter{Expired: true}
		expiredAnonymous := store.ItemFilter{Expired: true, Scopes: []string{models.LinkScopeAnonymous}}
		shared := store.ItemFilter{SharedOnly: true}
		edit := store.ItemFilter{LinkTypes: []string{"edit"}}
		expect := func(when string, want map[string][]string, anonItems, expiredItems int) {
			t.Helper()
			for name, f := range map[string]store.ItemFilter{"anonymous": anonymous, "expired": expired,
				"expired anonymous": expiredAnonymous, "shared": shared, "edit": edit} {
				page, err := st.ListDriveItems(ctx, integ, f, store.DefaultItemOrder, store.PageRequest{First: 100})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, it := range page.Rows {
					got = append(got, it.ID)
				}
				slices.Sort(got)
				n, err := st.CountDriveItems(ctx, integ, f)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want[name]) || n != len(want[name]) {
					t.Errorf("%s: %s finds %v (count %d), want %v", when, name, got, n, want[name])
				}
			}
			o, err := st.IntegrationOverview(ctx, integ)
			if err != nil {
				t.Fatal(err)
			}
			if o.ByScope[0].Scope != models.LinkScopeAnonymous || o.ByScope[0].Items != anonItems || o.ExpiredItems != expiredItems ||
				o.SharedItems != len(want["shared"]) || o.AnonymousEditLinks != 0 {
				t.Errorf("%s: overview %+v, want %d anonymous items, %d with expired links, %d shared", when, o, anonItems, expiredItems, len(want["shared"]))
			}
		}
		expect("an hour before the expiry", map[string][]string{
			"anonymous": {"a", "budget"}, "expired": {"readme"}, "expired anonymous": {"readme"},
			"shared": {"a", "budget", "readme"}, "edit": nil,
		}, 2, 1)
		clock.Set(expiry.Add(-time.Second))
		expect("a second before", map[string][]string{
			"anonymous": {"a", "budget"}, "expired": {"readme"}, "expired anonymous": {"readme"},
			"shared": {"a", "budget", "readme"}, "edit": nil,
		}, 2, 1)
		clock.Set(expiry) // no sync in between: only time passed
		after := map[string][]string{
			"anonymous": {"a"}, "expired": {"budget", "readme"}, "expired anonymous": {"budget", "readme"},
			"shared": {"a", "readme"}, "edit": nil,
		}
		expect("at the expiry", after, 1, 2)
		items := mustItems(t, st, "d1")
		if items["budget"].SharingFlags != 0 {
			t.Errorf("the item whose link expired keeps sharing flags %b", items["budget"].SharingFlags)
		}
		clock.Set(expiry.AddDate(0, 1, 0))
		expect("a month later", after, 1, 2)
	})
}

// A database written before migration 8 holds flags that count every link, expired ones too;
// after the upgrade the first read counts live sharing only, without a sync.
func TestUpgradeToVersion8CountsLiveSharing(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenAtVersion(ctx, cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		gone := perm("p-gone", ptr(models.LinkScopeAnonymous), "read")
		gone.IntegrationID, gone.ItemID, gone.ExpiresAt = integ, "budget", ptr(time.Now().Add(-time.Hour).UTC().Truncate(time.Second))
		if err := old.Gorm().Create(&gone).Error; err != nil {
			t.Fatal(err)
		}
		// The flags as version 7 computed them: shared, anonymous, a link with an expiry, no password.
		if err := old.Gorm().Exec(`UPDATE drive_items SET sharing_flags = ? WHERE id = 'budget'`, 1|2|64|128|1024).Error; err != nil {
			t.Fatal(err)
		}
		old.Close()

		st := testdb.Open(t, cfg)
		for name, want := range map[string]int{"anonymous": 0, "expired": 1} {
			f := store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}
			if name == "expired" {
				f = store.ItemFilter{Expired: true}
			}
			if n, err := st.CountDriveItems(ctx, integ, f); err != nil || n != want {
				t.Errorf("%s items after the upgrade: %d, %v; want %d", name, n, err, want)
			}
		}
	})
}
