package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
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
		// Every drive open: this test counts each drive's requests against
		// the cost bound (TestInaccessibleDrivesSkipped has the locks).
		cfg := smallTenant(7)
		cfg.NoDriveLocks = true
		srv := startSim(t, graphsim.Options{Tenant: cfg})
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
		stats := srv.Stats()
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

// TestFullSyncCostWithinBound: Graph requests and resource units of a full
// sync stay within 1.1× of the lower bound in the package doc, with
// permission batches counted across drives (ceil(C/20), see bound).
func TestFullSyncCostWithinBound(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(11)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		run := runSync(t, st, newSyncer(st, info, nil), integID, true)
		ex := readExport(t, srv)
		b := fullSyncBound(t, srv, ex)
		stats := srv.Stats()
		req := stats.Requests - stats.BatchedRequests
		t.Logf("full sync: %d requests (bound %d with per-drive permission batches, %d with batches across drives: %.2f×), %d RU (bound %d); by endpoint %v",
			req, b.perDrive, b.global, float64(req)/float64(b.global), stats.RU, b.ru, stats.ByEndpoint)
		if run.Requests != req {
			t.Errorf("the run counted %d requests, the simulator %d", run.Requests, req)
		}
		if float64(req) > 1.1*float64(b.global) {
			t.Errorf("requests: %d, lower bound %d: more than 1.1×", req, b.global)
		}
		if float64(stats.RU) > 1.1*float64(b.ru) {
			t.Errorf("resource units: simulator charged %d, lower bound %d: more than 1.1×", stats.RU, b.ru)
		}
	})
}

// TestIncrementalSyncEqualsExport: after random changes (creates, renames,
// moves, deletes, sharing added and removed) an incremental sync brings the
// database back to the tenant, reading permissions only for items whose
// sharing changed.
func TestIncrementalSyncEqualsExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(21)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		c := newClock()
		s := newSyncerAt(st, info, c)
		runSync(t, st, s, integID, true)
		for round := range 3 {
			n := srv.Tenant().ApplyRandomChanges(int64(100+round), 80)
			bound := incrementalBound(t, st, integID, srv)
			before := srv.Stats()
			run := runSync(t, st, s, integID, false)
			after := srv.Stats()
			req := (after.Requests - after.BatchedRequests) - (before.Requests - before.BatchedRequests)
			t.Logf("round %d: %d requests, lower bound %d (%d with permission batches per drive); %d RU, lower bound %d", round, req, bound.global, bound.perDrive, after.RU-before.RU, bound.ru)
			if float64(req) > 1.1*float64(bound.global) || float64(after.RU-before.RU) > 1.1*float64(bound.ru) {
				t.Errorf("round %d: %d requests and %d RU; lower bound %d and %d: more than 1.1×", round, req, after.RU-before.RU, bound.global, bound.ru)
			}
			refreshRun(t, st, s, c, integID) // folder changes that keep their scope
			assertEqualToExport(t, st, integID, srv)
			assertSummary(t, st, integID, srv)
			enumerations := after.ByEndpoint["GET /drives/{id}/root/delta"] - before.ByEndpoint["GET /drives/{id}/root/delta"]
			t.Logf("round %d: %d changes, %d requests, %d RU, %d delta pages, %d permission reads", round, n, run.Requests,
				run.ResourceUnits, enumerations, permissionReads(after)-permissionReads(before))
			if run.Full {
				t.Fatal("incremental run recorded as full")
			}
			if reads := permissionReads(after) - permissionReads(before); reads > int64(n)+bound.reads {
				t.Errorf("%d permission reads for %d changes", reads, n)
			}
		}
	})
}

// TestSyncWithFaults: with 10% of Graph requests failing in every way the
// simulator knows (429, 503, 504, resets, truncated JSON, slow answers, 401,
// repeated pages), full and incremental syncs still end equal to the tenant.
func TestSyncWithFaults(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(31), FaultRate: 0.1})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		c := newClock()
		s := newSyncerAt(st, info, c)
		run := runSync(t, st, s, integID, true)
		srv.Tenant().ApplyRandomChanges(5, 60)
		runSync(t, st, s, integID, false)
		refreshRun(t, st, s, c, integID) // folder changes that keep their scope
		stats := srv.Stats()
		srv.SetFaults(0, nil)
		assertEqualToExport(t, st, integID, srv)
		assertSummary(t, st, integID, srv)
		faults := int64(0)
		for code, n := range stats.ByStatus {
			if code != "200" && code != "404" {
				faults += n
			}
		}
		t.Logf("full run: %d requests, %d throttled; simulator statuses %v", run.Requests, run.ThrottledWaits, stats.ByStatus)
		if faults == 0 {
			t.Fatal("no fault was injected: the test proves nothing")
		}
	})
}

// TestResyncAfterInvalidatedDelta: when Graph answers 410 to every stored
// delta link, in any of its shapes, each drive is enumerated again (from
// the Location, or from scratch without one) and swept, and the database
// equals the tenant, deletions included.
func TestResyncAfterInvalidatedDelta(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(41)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		s := newSyncer(st, info, nil)
		runSync(t, st, s, integID, true)
		// Every shape Graph gives a 410 in: the status decides.
		for k, v := range []tenant.ResyncVariant{tenant.ResyncApply, tenant.ResyncUpload, tenant.ResyncNoInnerCode, tenant.ResyncNoLocation} {
			srv.Tenant().ApplyRandomChanges(int64(9+k), 80)
			srv.Tenant().InvalidateDeltaAs(v)
			before := srv.Stats()
			runSync(t, st, s, integID, false)
			after := srv.Stats()
			readable := 0 // locked drives answer 423, not 410
			for _, d := range readExport(t, srv).drives {
				if d.Lock != tenant.LockNoAccess && d.Lock != tenant.LockAccessDenied {
					readable++
				}
			}
			if gone := after.ByStatus["410"] - before.ByStatus["410"]; gone < int64(readable) {
				t.Fatalf("%s: %d answers 410, want one per readable drive at least", v, gone)
			}
			assertEqualToExport(t, st, integID, srv)
			assertSummary(t, st, integID, srv)
		}
	})
}

// TestInheritedFromVariants: in the default mode (no inheritedFrom, as
// OneDrive for Business) and in each variant Graph has shown ({} on every
// inherited entry, on links only, full), full and incremental syncs equal
// the export: copies made when an item is first shared are the item's own,
// and an item whose unique permissions were deleted is stored as inheriting.
func TestInheritedFromVariants(t *testing.T) {
	for _, mode := range []string{"", tenant.InheritedFromEmpty, tenant.InheritedFromLinks, tenant.InheritedFromFull} {
		t.Run("mode="+mode, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, st *store.Store) {
				cfg := smallTenant(51)
				cfg.InheritedFrom = mode
				// No 410 after a folder's sharing changes: the incremental round must see the
				// items whose unique permissions were deleted (a full re-enumeration leaves
				// them to the periodic re-read of hierarchy roots).
				cfg.Lenient.NoFolderResyncs = true
				srv := startSim(t, graphsim.Options{Tenant: cfg})
				info := srv.Info()
				integID := createIntegration(t, st, info, info.ClientSecret)
				s := newSyncer(st, info, nil)
				runSync(t, st, s, integID, true)
				assertEqualToExport(t, st, integID, srv)
				assertSummary(t, st, integID, srv)

				srv.Tenant().ApplyRandomChanges(3, 80)
				reset := resetInheritance(t, srv, 3)
				runSync(t, st, s, integID, false)
				assertEqualToExport(t, st, integID, srv)
				assertSummary(t, st, integID, srv)
				var inherited int64
				st.Gorm().Model(&models.Permission{}).Where("integration_id = ? AND inherited AND item_id IN ?", integID, reset).Count(&inherited)
				if inherited == 0 {
					t.Fatal("the items whose unique permissions were deleted hold no inherited rows: the test proves nothing")
				}
			})
		})
	}
}

// resetInheritance makes n shared files below a shared folder inherit again
// ("delete unique permissions") and returns their ids.
func resetInheritance(t *testing.T, srv *graphsim.Server, n int) []string {
	t.Helper()
	ex := readExport(t, srv)
	own := map[string]bool{}
	for _, p := range ex.perms {
		own[p.ItemID] = true
	}
	var out []string
	for id, it := range ex.items {
		parent := ex.items[it.ParentID]
		if len(out) == n || it.Folder || it.Root || !own[id] || parent.Root || !own[parent.ID] {
			continue
		}
		if _, err := srv.Tenant().Apply(tenant.Change{Op: "inherit", DriveID: it.DriveID, ItemID: id}); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		t.Fatal("no shared file inside a shared folder")
	}
	return out
}

// TestFailuresLeaveNoTenantRows: wrong credentials, a missing application
// permission and an unreachable Graph each end with the integration in
// ERROR, a message naming the problem, a failed run and no tenant rows.
func TestFailuresLeaveNoTenantRows(t *testing.T) {
	cases := []struct {
		name  string
		setup func(srv *graphsim.Server, info *graphsim.Info) (secret string)
		want  string // in the message
	}{
		{"wrong secret", func(_ *graphsim.Server, _ *graphsim.Info) string { return "not-the-secret" }, "client secret"},
		{"expired secret", func(srv *graphsim.Server, info *graphsim.Info) string {
			srv.ExpireSecret(true)
			return info.ClientSecret
		}, "expired"},
		{"no User.Read.All", func(srv *graphsim.Server, info *graphsim.Info) string {
			srv.SetAppPermissions([]string{"Files.ReadWrite.All", "Sites.FullControl.All"})
			return info.ClientSecret
		}, "User.Read.All"},
		{"no Sites.FullControl.All", func(srv *graphsim.Server, info *graphsim.Info) string {
			// Graph itself does not refuse (it scopes sharing down, see
			// docs/graph-behaviour.md); this case is about a refusal.
			srv.Tenant().SetLenient(tenant.Lenient{DenyWithoutFullControl: true})
			srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All"})
			return info.ClientSecret
		}, "Sites.FullControl.All"},
		{"Graph unreachable", func(_ *graphsim.Server, info *graphsim.Info) string {
			info.GraphBaseURL = "https://127.0.0.1:1/v1.0"
			return info.ClientSecret
		}, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, st *store.Store) {
				srv := startSim(t, graphsim.Options{Tenant: smallTenant(61)})
				info := srv.Info()
				secret := tc.setup(srv, &info)
				integID := createIntegration(t, st, info, secret)
				s := newSyncer(st, info, nil)
				ctx := context.Background()
				runID, err := s.Run(ctx, integID, true)
				if err == nil {
					t.Fatal("sync succeeded")
				}
				integ, ierr := st.Integration(ctx, integID)
				if ierr != nil {
					t.Fatal(ierr)
				}
				if integ.Status != models.IntegrationError || !strings.Contains(integ.LastError, tc.want) {
					t.Errorf("integration: status %s, last error %q; want ERROR mentioning %q", integ.Status, integ.LastError, tc.want)
				}
				run, rerr := st.SyncRun(ctx, runID)
				if rerr != nil {
					t.Fatal(rerr)
				}
				if run.Status != models.SyncFailed || run.Error != integ.LastError {
					t.Errorf("run: status %s, error %q", run.Status, run.Error)
				}
				t.Logf("message: %s", integ.LastError)
				for _, m := range []any{&models.User{}, &models.Drive{}, &models.DriveItem{}, &models.Permission{}} {
					var n int64
					st.Gorm().Model(m).Where("integration_id = ?", integID).Count(&n)
					if n != 0 {
						t.Errorf("%T: %d rows written", m, n)
					}
				}
			})
		})
	}
}

// TestCancelKeepsCheckpoints: cancelling a sync ends its run as cancelled,
// leaves the integration usable, and the next sync resumes to the tenant.
func TestCancelKeepsCheckpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(71)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		bus := events.NewLocal()
		updates, stop := bus.Subscribe(integID)
		defer stop()
		s := newSyncer(st, info, bus)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for p := range updates {
				if p.ItemsSeen > 0 {
					cancel()
					return
				}
			}
		}()
		runID, err := s.Run(ctx, integID, true)
		cancel()
		if err == nil {
			t.Fatal("the cancelled sync reported success")
		}
		run, err := st.SyncRun(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		integ, err := st.Integration(context.Background(), integID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != models.SyncCancelled || integ.Status == models.IntegrationError {
			t.Fatalf("after cancel: run %s (%q), integration %s", run.Status, run.Error, integ.Status)
		}
		var checkpoints int64
		st.Gorm().Model(&models.DriveSyncState{}).Where("integration_id = ? AND (next_link IS NOT NULL OR delta_link IS NOT NULL)", integID).Count(&checkpoints)
		if checkpoints == 0 {
			t.Error("no checkpoint kept")
		}
		runSync(t, st, s, integID, false)
		assertEqualToExport(t, st, integID, srv)
	})
}

// TestVanishedDriveIsRemoved: a stored drive that Graph no longer knows (its
// owner left) is removed with its items, and the sync succeeds.
func TestVanishedDriveIsRemoved(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(81)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		s := newSyncer(st, info, nil)
		runSync(t, st, s, integID, true)
		ctx := context.Background()
		// A drive the tenant does not have, synced before.
		var some models.DriveSyncState
		if err := st.Gorm().Where("integration_id = ?", integID).First(&some).Error; err != nil {
			t.Fatal(err)
		}
		gone := "b!gone" + strings.Repeat("x", 58)
		if err := st.UpsertDrives(ctx, integID, []models.Drive{{ID: gone, Name: "OneDrive"}}); err != nil {
			t.Fatal(err)
		}
		link := strings.Replace(*some.DeltaLink, some.DriveID, gone, 1)
		if err := st.Gorm().Create(&models.DriveSyncState{IntegrationID: integID, DriveID: gone, DeltaLink: &link, Generation: 1}).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.CommitSyncPage(ctx, integID, gone, store.SyncPage{Items: []models.DriveItem{{ID: "ghost", ParentID: "", Name: "root", IsRoot: true}}, DeltaLink: link}); err != nil {
			t.Fatal(err)
		}
		runSync(t, st, s, integID, false)
		assertEqualToExport(t, st, integID, srv)
	})
}
