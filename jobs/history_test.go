package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

type movableClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *movableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *movableClock) Set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

// The periodic job, run by River at start, prunes the history older than the retention and
// keeps the rest.
func TestHistoryPrunedAfterRetention(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		clock := &movableClock{at: time.Now().AddDate(0, 0, -500)}
		cfg.Clock = clock.Now
		st := testdb.Open(t, cfg)
		anon := models.LinkScopeAnonymous
		share := func(item, perm string) {
			t.Helper()
			p := store.SyncPage{Items: []models.DriveItem{{ID: "root", IsRoot: true, Name: "root", IsFolder: true}, {ID: item, ParentID: "root", Name: item}},
				Permissions: map[string][]models.Permission{item: {{ID: perm, Roles: "read", LinkScope: &anon, LinkType: "view"}}}, DeltaLink: "d"}
			if err := st.CommitSyncPage(ctx, "int-1", "d1", p); err != nil {
				t.Fatal(err)
			}
		}
		share("old", "p1") // first seen 500 days ago
		clock.Set(time.Now().AddDate(0, 0, -10))
		share("new", "p2") // 10 days ago
		count := func() int {
			t.Helper()
			n, err := st.LastSharingEventID(ctx, "int-1")
			if err != nil {
				t.Fatal(err)
			}
			page, err := st.RecentSharingEvents(ctx, "int-1", store.PageRequest{First: 10})
			if err != nil || n == 0 {
				t.Fatalf("read history: %v (newest id %d)", err, n)
			}
			return len(page.Rows)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d events before pruning, want 2", n)
		}
		s, err := New(ctx, Config{Store: st, Syncer: syncer.New(syncer.Config{Store: st, Logger: quiet()}), Logger: quiet(), PeriodicInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
		deadline := time.Now().Add(20 * time.Second)
		for count() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the history older than 400 days was not pruned")
			}
			time.Sleep(100 * time.Millisecond)
		}
		page, _ := st.ItemHistory(ctx, "int-1", "new", store.PageRequest{First: 10})
		if len(page.Rows) != 1 {
			t.Fatalf("the recent history went too: %+v", page.Rows)
		}
	})
}
