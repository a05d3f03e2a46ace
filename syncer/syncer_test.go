package syncer_test

import (
	"context"
	"testing"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// TestFullSyncEqualsExport: after a full sync the database holds exactly
// the simulator's tenant, the summary counts agree, the run stayed within
// 1.1× of the request and RU lower bound, and no permission was read for an
// item that only inherits.
func TestFullSyncEqualsExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(7)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		bus := events.NewLocal()
		updates, stop := bus.Subscribe(integID)
		defer stop()
		s := newSyncer(st, info, bus)

		run := runSync(t, st, s, integID, true)
		assertEqualToExport(t, st, integID, srv)
		assertSummary(t, st, integID, srv)

		ex := readExport(t, srv)
		b := fullSyncBound(t, srv, ex)
		stats := srv.Stats()
		t.Logf("full sync: %d requests (bound %d), %d RU (bound %d), sim %d requests %d RU, by endpoint %v",
			run.Requests, b.requests, run.ResourceUnits, b.ru, stats.Requests, stats.RU, stats.ByEndpoint)
		if float64(run.Requests) > 1.1*float64(b.requests) || float64(stats.Requests-stats.BatchedRequests) > 1.1*float64(b.requests) {
			t.Errorf("requests: run %d, simulator %d, lower bound %d: more than 1.1×", run.Requests, stats.Requests-stats.BatchedRequests, b.requests)
		}
		if float64(stats.RU) > 1.1*float64(b.ru) {
			t.Errorf("resource units: simulator charged %d, lower bound %d: more than 1.1×", stats.RU, b.ru)
		}
		cands := 0
		for _, n := range candidatesByDrive(t, srv, ex) {
			cands += n
		}
		if got := permissionReads(stats); got != int64(cands) {
			t.Errorf("permission reads: %d, candidates (items with a shared facet) %d", got, cands)
		}
		if run.Phase != "done" || run.DrivesDone != run.DrivesTotal || run.DrivesTotal != int64(len(ex.drives)) {
			t.Errorf("run progress: phase %s, drives %d/%d, tenant has %d drives", run.Phase, run.DrivesDone, run.DrivesTotal, len(ex.drives))
		}
		if run.ItemsSeen < int64(len(ex.items)) || run.PermissionsRead != int64(cands) {
			t.Errorf("run counters: items %d (tenant %d), permissions read %d (candidates %d)", run.ItemsSeen, len(ex.items), run.PermissionsRead, cands)
		}
		// The last event published is the final one.
		var last events.Progress
	drain:
		for {
			select {
			case p := <-updates:
				last = p
			default:
				break drain
			}
		}
		if !last.Done || last.RunID != run.ID || last.ItemsSeen != int(run.ItemsSeen) {
			t.Errorf("last progress event %+v, run %+v", last, run)
		}
		integ, err := st.Integration(context.Background(), integID)
		if err != nil {
			t.Fatal(err)
		}
		if integ.Status != models.IntegrationActive || integ.LastSyncAt == nil {
			t.Errorf("integration after sync: status %s, last sync %v", integ.Status, integ.LastSyncAt)
		}
	})
}
