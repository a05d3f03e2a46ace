package msgraph

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// TestPacingConcurrentBatchesUnderBudget: several goroutines sending
// permission $batches of 20 (100 RU each) for different drives, as the sync
// engine does, share one budget without a single 429 and all finish.
func TestPacingConcurrentBatchesUnderBudget(t *testing.T) {
	tests := []struct {
		name        string
		ruPerMinute int
		senders     int
		itemsEach   int
	}{
		// 1,250 RU/min is Graph's smallest per-app budget: until the first
		// RateLimit-* header the pacer keeps at most 20% of it in flight, so
		// smaller budgets may see 429s in the first minute.
		{"5 senders, 1250 RU/min", 1250, 5, 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, graphsim.Options{
				Tenant:      tenant.Config{Seed: 4, Users: 3 * tt.senders, FilesPerUser: 2 * tt.itemsEach, ShareRatio: 0.1},
				RUPerMinute: tt.ruPerMinute,
			})
			c := newClient(t, configFor(srv))
			tr := exportOf(t, srv)
			var work [][]string // item ids per sender, one drive each
			var driveIDs []string
			for _, d := range tr.drives {
				if len(tr.items[d.ID]) >= tt.itemsEach {
					driveIDs = append(driveIDs, d.ID)
				}
			}
			sort.Strings(driveIDs)
			if len(driveIDs) < tt.senders {
				t.Fatalf("only %d drives with %d items", len(driveIDs), tt.itemsEach)
			}
			driveIDs = driveIDs[:tt.senders]
			for _, id := range driveIDs {
				var ids []string
				for item := range tr.items[id] {
					ids = append(ids, item)
				}
				sort.Strings(ids)
				work = append(work, ids[:tt.itemsEach])
			}
			ctx := context.Background()
			start := time.Now()
			var wg sync.WaitGroup
			got := make([]int, tt.senders)
			errs := make([]error, tt.senders)
			for i := range tt.senders {
				wg.Go(func() {
					perms, err := c.ListPermissions(ctx, driveIDs[i], work[i])
					got[i], errs[i] = len(perms), err
				})
			}
			wg.Wait()
			sim, st := srv.Stats(), c.Stats()
			want := tt.senders * tt.itemsEach * 5
			t.Logf("%d RU in %v against %d RU/min (ideal %.1fs); simulator throttled %d, byStatus %v; client %+v",
				sim.RU, time.Since(start).Round(time.Millisecond), tt.ruPerMinute,
				float64(int(sim.RU)-tt.ruPerMinute)/(float64(tt.ruPerMinute)/60), sim.Throttled, sim.ByStatus, st)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("sender %d: %v", i, err)
				}
				if got[i] != tt.itemsEach {
					t.Errorf("sender %d read permissions of %d items, want %d", i, got[i], tt.itemsEach)
				}
			}
			if sim.RU < int64(want) || sim.RU < int64(tt.ruPerMinute) {
				t.Errorf("simulator charged %d RU, want at least %d (the work) and more than the budget", sim.RU, want)
			}
			if sim.Throttled != 0 || sim.ByStatus["429"] != 0 {
				t.Errorf("simulator served %d throttled answers (byStatus 429: %d), want none", sim.Throttled, sim.ByStatus["429"])
			}
		})
	}
}
