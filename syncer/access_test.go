package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// lastProgress drains the events published so far and returns the last.
func lastProgress(updates <-chan events.Progress) events.Progress {
	var last events.Progress
	for {
		select {
		case p := <-updates:
			last = p
		default:
			return last
		}
	}
}

// closedDrives counts the tenant's drives the app cannot read.
func closedDrives(srv *graphsim.Server) int {
	n := 0
	for _, d := range srv.Tenant().DriveStates() {
		if d.Provisioned && (d.Lock == tenant.LockNoAccess || d.Lock == tenant.LockAccessDenied) {
			n++
		}
	}
	return n
}

// TestInaccessibleDrivesSkipped: a tenant with drives locked noAccess, closed
// to the app (403) and locked read-only syncs to the end; the drives it
// cannot read are skipped, stored with their state and reason, counted in
// the run and in the progress stream, and read by the next run once
// unlocked. A drive locked after it was synced keeps its id and is flagged.
func TestInaccessibleDrivesSkipped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(7)})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		bus := events.NewLocal()
		updates, stop := bus.Subscribe(integID)
		defer stop()
		s := newSyncer(st, info, bus)
		closed := closedDrives(srv)
		if closed < 2 {
			t.Fatalf("the tenant has %d closed drives; want a locked and a 403 one", closed)
		}

		run := runSync(t, st, s, integID, true)
		assertEqualToExport(t, st, integID, srv)
		assertSummary(t, st, integID, srv)
		if run.DrivesSkipped != int64(closed) || run.DrivesDone != run.DrivesTotal {
			t.Fatalf("run skipped %d drives (done %d of %d), the tenant has %d closed", run.DrivesSkipped, run.DrivesDone, run.DrivesTotal, closed)
		}
		if p := lastProgress(updates); !p.Done || p.DrivesSkipped != closed {
			t.Fatalf("last progress %+v: want done with %d drives skipped", p, closed)
		}
		n, err := st.InaccessibleDriveCount(context.Background(), integID)
		if err != nil || n != int64(closed) {
			t.Fatalf("inaccessible drives stored: %d, %v; want %d", n, err, closed)
		}

		// A drive read before is locked: the next run skips it by its id.
		var victim tenant.DriveState
		for _, d := range srv.Tenant().DriveStates() {
			if d.Provisioned && d.Lock == tenant.LockNone {
				victim = d
				break
			}
		}
		if err := srv.Tenant().SetDriveLock(victim.DriveID, tenant.LockNoAccess); err != nil {
			t.Fatal(err)
		}
		srv.Tenant().ApplyRandomChanges(3, 30)
		run = runSync(t, st, s, integID, false)
		assertEqualToExport(t, st, integID, srv)
		if run.DrivesSkipped != int64(closed+1) {
			t.Fatalf("after locking a synced drive the run skipped %d, want %d", run.DrivesSkipped, closed+1)
		}
		var stored models.Drive
		if err := st.Gorm().Where("integration_id = ? AND id = ?", integID, victim.DriveID).First(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored.Access != models.DriveLocked || stored.AccessSince == nil {
			t.Fatalf("locked drive stored as %+v", stored)
		}

		// Unlocked: the next run reads them all and clears the flags.
		for _, d := range srv.Tenant().DriveStates() {
			if d.Lock != tenant.LockNone {
				if err := srv.Tenant().SetDriveLock(d.DriveID, tenant.LockNone); err != nil {
					t.Fatal(err)
				}
			}
		}
		run = runSync(t, st, s, integID, false)
		assertEqualToExport(t, st, integID, srv)
		assertSummary(t, st, integID, srv)
		if run.DrivesSkipped != 0 {
			t.Fatalf("after unlocking the run skipped %d drives", run.DrivesSkipped)
		}
		if n, _ := st.InaccessibleDriveCount(context.Background(), integID); n != 0 {
			t.Fatalf("%d drives still flagged after they were read", n)
		}
	})
}

// TestLateOneDriveFoundByRecheck: a licensed member without a OneDrive gets
// one later; an incremental sync finds it once the re-check is due (not
// before), and syncs it.
func TestLateOneDriveFoundByRecheck(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		cfg := smallTenant(7)
		cfg.NoDriveLocks = true
		srv := startSim(t, graphsim.Options{Tenant: cfg})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		daily := newSyncer(st, info, nil)
		runSync(t, st, daily, integID, true)
		assertEqualToExport(t, st, integID, srv)

		var late tenant.DriveState
		for _, d := range srv.Tenant().DriveStates() {
			if !d.Provisioned {
				late = d
			}
		}
		if late.DriveID == "" {
			t.Fatal("the tenant has no OneDrive provisioned late")
		}
		if _, err := srv.Tenant().ProvisionDrive(late.OwnerUserID); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Tenant().Apply(tenant.Change{Op: "create", DriveID: late.DriveID, ParentID: "root", Name: "Welcome.docx"}); err != nil {
			t.Fatal(err)
		}

		// Checked minutes ago: a daily re-check is not due.
		runSync(t, st, daily, integID, false)
		var n int64
		st.Gorm().Model(&models.Drive{}).Where("integration_id = ? AND id = ?", integID, late.DriveID).Count(&n)
		if n != 0 {
			t.Fatalf("the late drive was looked up before its re-check was due")
		}

		before := srv.Stats()
		due := syncer.New(syncer.Config{Store: st, GraphDefaults: graphDefaults(info), Version: "test", DriveRecheckInterval: time.Nanosecond})
		runSync(t, st, due, integID, false)
		assertEqualToExport(t, st, integID, srv)
		if got := srv.Stats().ByEndpoint["GET /users/{id}/drive"] - before.ByEndpoint["GET /users/{id}/drive"]; got == 0 {
			t.Fatalf("no drive was looked up by the re-check")
		}
	})
}
