package syncer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// stopMidRun starts a full sync and, once it has seen items, makes every Graph request slow
// and calls act; it returns the run's id and error. The slow requests leave the run no way to
// finish before its watch reads what act did.
func stopMidRun(t *testing.T, st *store.Store, srv *graphsim.Server, integID string, opts syncer.Options, act func(runID string)) (string, error) {
	t.Helper()
	bus := events.NewLocal()
	updates, unsubscribe := bus.Subscribe(integID)
	defer unsubscribe()
	s := syncer.New(syncer.Config{Store: st, Bus: bus, GraphDefaults: graphDefaults(srv.Info()), Version: "test",
		WatchInterval: 20 * time.Millisecond})
	go func() {
		for p := range updates {
			if p.ItemsSeen > 0 {
				srv.SetFaults(1, []string{"slow"})
				act(p.RunID)
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runID, err := s.RunWith(ctx, integID, opts)
	srv.SetFaults(0, nil)
	return runID, err
}

// TestPauseHolds: pausing an integration stops its running sync, with the run cancelled in
// words and its checkpoints kept, and the integration stays paused: the end of the run does not
// make it ACTIVE, a sync is refused until it is resumed, and a sync forced on it (the CLI's
// --even-if-paused) leaves it paused.
func TestPauseHolds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(73)})
		integID := createIntegration(t, st, srv.Info(), srv.Info().ClientSecret)
		status := func() models.IntegrationStatus {
			in, err := st.Integration(ctx, integID)
			if err != nil {
				t.Fatal(err)
			}
			return in.Status
		}
		runID, err := stopMidRun(t, st, srv, integID, syncer.Options{Full: true}, func(string) {
			if err := st.SetIntegrationStatus(ctx, integID, models.IntegrationPaused, ""); err != nil {
				t.Error(err)
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the paused sync ended with %v, want it cancelled", err)
		}
		run, err := st.SyncRun(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != models.SyncCancelled || !strings.Contains(run.Error, "paused") {
			t.Errorf("run after pause: %s %q, want cancelled saying paused", run.Status, run.Error)
		}
		if got := status(); got != models.IntegrationPaused {
			t.Fatalf("integration after its paused sync ended: %s, want PAUSED", got)
		}
		var checkpoints int64
		st.Gorm().Model(&models.DriveSyncState{}).Where("integration_id = ? AND (next_link IS NOT NULL OR delta_link IS NOT NULL)", integID).Count(&checkpoints)
		if checkpoints == 0 {
			t.Error("the paused sync kept no checkpoint")
		}

		s := newSyncer(st, srv.Info(), nil)
		if id, err := s.Run(ctx, integID, false); !errors.Is(err, syncer.ErrPaused) || id != "" {
			t.Fatalf("sync of a paused integration: run %q, %v; want ErrPaused and no run", id, err)
		}
		forced, err := s.RunWith(ctx, integID, syncer.Options{EvenIfPaused: true})
		if err != nil {
			t.Fatalf("forced sync of a paused integration: %v", err)
		}
		if r, _ := st.SyncRun(ctx, forced); r == nil || r.Status != models.SyncSucceeded {
			t.Fatalf("forced run: %+v", r)
		}
		if got := status(); got != models.IntegrationPaused {
			t.Fatalf("integration after a forced sync: %s, want PAUSED", got)
		}
		assertEqualToExport(t, st, integID, srv)

		if err := st.SetIntegrationStatus(ctx, integID, models.IntegrationActive, ""); err != nil {
			t.Fatal(err)
		}
		runSync(t, st, s, integID, false)
		if got := status(); got != models.IntegrationActive {
			t.Fatalf("integration after resume and sync: %s", got)
		}
	})
}

// TestCancelReachesAnotherProcess: a cancel recorded on the run (what the server does for a
// run no River job of its own carries, such as `overshare sync`'s) stops the sync that holds it.
func TestCancelReachesAnotherProcess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(74)})
		integID := createIntegration(t, st, srv.Info(), srv.Info().ClientSecret)
		runID, err := stopMidRun(t, st, srv, integID, syncer.Options{Full: true}, func(runID string) {
			if err := st.RequestSyncCancel(ctx, runID); err != nil {
				t.Error(err)
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("sync ended with %v, want it cancelled", err)
		}
		run, err := st.SyncRun(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		in, err := st.Integration(ctx, integID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != models.SyncCancelled || run.Error != "The sync was cancelled." || in.Status != models.IntegrationActive {
			t.Fatalf("after the cancel: run %s %q, integration %s", run.Status, run.Error, in.Status)
		}
	})
}

// TestOneSyncPerIntegration: while another holder syncs an integration (here: its lock taken
// as another process would), a sync is refused with ErrBusy and leaves the holder's run
// alone; once the holder is gone, a sync runs and closes the run the holder left behind.
func TestOneSyncPerIntegration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(75)})
		integID := createIntegration(t, st, srv.Info(), srv.Info().ClientSecret)
		unlock, ok, err := st.LockSync(ctx, integID)
		if err != nil || !ok {
			t.Fatalf("take the lock: %v %v", ok, err)
		}
		theirs := &models.SyncRun{IntegrationID: integID, Phase: syncer.PhaseItems}
		if err := st.CreateSyncRun(ctx, theirs); err != nil {
			t.Fatal(err)
		}
		s := newSyncer(st, srv.Info(), nil)
		if id, err := s.Run(ctx, integID, false); !errors.Is(err, syncer.ErrBusy) || id != "" {
			t.Fatalf("second sync: run %q, %v; want ErrBusy", id, err)
		}
		if _, ok2, _ := st.LockSync(ctx, integID); ok2 {
			t.Fatal("the lock was taken twice")
		}
		if r, _ := st.SyncRun(ctx, theirs.ID); r == nil || r.Status != models.SyncRunning {
			t.Fatalf("the holder's run after a refused sync: %+v", r)
		}
		unlock()
		runSync(t, st, s, integID, true)
		if r, _ := st.SyncRun(ctx, theirs.ID); r == nil || r.Status != models.SyncFailed {
			t.Fatalf("the dead holder's run after the next sync: %+v", r)
		}
	})
}
