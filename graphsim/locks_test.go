package graphsim_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// driveStates reads GET /_sim/drives.
func (s *sim) driveStates(t testing.TB) []tenant.DriveState {
	t.Helper()
	var out struct {
		Drives []tenant.DriveState `json:"drives"`
	}
	if st := s.control(t, "GET", "/drives", nil, &out); st != 200 {
		t.Fatalf("GET /_sim/drives: %d", st)
	}
	return out.Drives
}

// firstWith returns the first drive in the given state.
func firstWith(t testing.TB, states []tenant.DriveState, lock tenant.Lock, provisioned bool) tenant.DriveState {
	t.Helper()
	for _, d := range states {
		if d.Lock == lock && d.Provisioned == provisioned {
			return d
		}
	}
	t.Fatalf("no drive with lock %s, provisioned %v, in %+v", lock, provisioned, states)
	return tenant.DriveState{}
}

// innerCode is the inner error code of a Graph error, "" when none.
func innerCode(oe *odataerrors.ODataError) string {
	if m := oe.GetErrorEscaped(); m != nil && m.GetInnerError() != nil {
		if c, ok := m.GetInnerError().GetAdditionalData()["code"].(*string); ok && c != nil {
			return *c
		}
	}
	return ""
}

// A generated tenant has, by default, a few drives locked or closed to the
// app and a few OneDrives not provisioned yet; each answers as SharePoint
// does on every endpoint the sync uses, directly and inside $batch.
func TestDriveLocksThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	states := s.driveStates(t)
	want := []struct {
		lock         tenant.Lock
		status       int
		code, inner  string
		readable     bool
		writeStatus  int
		writeCode    string
		writeInner   string
		writeAllowed bool
	}{
		{lock: tenant.LockNoAccess, status: 423, code: "notAllowed", inner: "resourceLocked", writeStatus: 423, writeCode: "notAllowed", writeInner: "resourceLocked"},
		{lock: tenant.LockAccessDenied, status: 403, code: "accessDenied", writeStatus: 403, writeCode: "accessDenied"},
		{lock: tenant.LockReadOnly, readable: true, writeStatus: 423, writeCode: "accessDenied", writeInner: "resourceLocked"},
		{lock: tenant.LockNone, readable: true, writeAllowed: true},
	}
	ex := s.export(t)
	locks := map[string]tenant.Lock{}
	for _, d := range ex.drives {
		locks[d.ID] = d.Lock
	}
	for _, w := range want {
		d := firstWith(t, states, w.lock, true)
		if locks[d.DriveID] != w.lock {
			t.Fatalf("export says drive %s is %q, the control API %q", d.DriveID, locks[d.DriveID], w.lock)
		}
		check := func(what string, err error, status int, code, inner string) {
			t.Helper()
			if status == 0 {
				if err != nil {
					t.Fatalf("%s drive, %s: %v", w.lock, what, err)
				}
				return
			}
			oe := odataError(t, err, status, code)
			if innerCode(oe) != inner {
				t.Fatalf("%s drive, %s: inner code %q, want %q", w.lock, what, innerCode(oe), inner)
			}
		}
		status, code, inner := w.status, w.code, w.inner
		if w.readable {
			status, code, inner = 0, "", ""
		}
		_, err := client.Users().ByUserId(d.OwnerUserID).Drive().Get(ctx, nil)
		check("GET /users/{id}/drive", err, status, code, inner)
		_, err = client.Drives().ByDriveId(d.DriveID).Get(ctx, nil)
		check("GET /drives/{id}", err, status, code, inner)
		_, err = client.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, nil)
		check("delta", err, status, code, inner)
		_, err = client.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId("root").Permissions().Get(ctx, nil)
		check("permissions", err, status, code, inner)

		// A write: delete a permission of a shared item of the drive.
		var p tenant.ExportPermission
		for _, q := range ex.perms {
			if q.DriveID == d.DriveID && q.Link != nil {
				p = q
				break
			}
		}
		if p.ID == "" {
			continue // nothing shared on this drive to try a write on
		}
		body := models.NewPermission()
		err = client.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(p.ItemID).Permissions().ByPermissionId(p.ID).Delete(ctx, nil)
		if w.writeAllowed {
			if err != nil {
				t.Fatalf("open drive: delete: %v", err)
			}
		} else {
			check("DELETE permission", err, w.writeStatus, w.writeCode, w.writeInner)
			_, err = client.Drives().ByDriveId(d.DriveID).Items().ByDriveItemId(p.ItemID).Permissions().ByPermissionId(p.ID).Patch(ctx, body, nil)
			check("PATCH permission", err, w.writeStatus, w.writeCode, w.writeInner)
		}

		// The same answers inside $batch.
		a := s.batchOK(t, []batchItem{
			{ID: "1", Method: "GET", URL: "/users/" + d.OwnerUserID + "/drive"},
			{ID: "2", Method: "GET", URL: "/drives/" + url.PathEscape(d.DriveID) + "/items/root/permissions"},
		}, false)
		for _, r := range a.Responses {
			wantStatus := 200
			if !w.readable {
				wantStatus = w.status
			}
			if r.Status != wantStatus {
				t.Fatalf("%s drive in $batch, part %s: status %d, want %d: %s", w.lock, r.ID, r.Status, wantStatus, r.Body)
			}
			if wantStatus != 200 {
				var e graphErrorBody
				if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code != w.code || e.Error.InnerError.Code != w.inner {
					t.Fatalf("%s drive in $batch, part %s: body %s", w.lock, r.ID, r.Body)
				}
			}
		}
	}

	// A lock set and lifted through the control API.
	open := firstWith(t, s.driveStates(t), tenant.LockNone, true)
	if st := s.control(t, "POST", "/drives/lock", map[string]string{"driveId": open.DriveID, "lock": "noAccess"}, nil); st != 200 {
		t.Fatalf("lock: %d", st)
	}
	_, err := client.Drives().ByDriveId(open.DriveID).Get(ctx, nil)
	odataError(t, err, 423, "notAllowed")
	if st := s.control(t, "POST", "/drives/lock", map[string]string{"driveId": open.DriveID, "lock": "none"}, nil); st != 200 {
		t.Fatalf("unlock: %d", st)
	}
	if _, err := client.Drives().ByDriveId(open.DriveID).Get(ctx, nil); err != nil {
		t.Fatalf("unlocked drive: %v", err)
	}
	if st := s.control(t, "POST", "/drives/lock", map[string]string{"driveId": open.DriveID, "lock": "sealed"}, nil); st != 400 {
		t.Fatalf("unknown lock: status %d, want 400", st)
	}

	// The switch: every drive open.
	if st := s.control(t, "POST", "/drives/reset", nil, nil); st != 200 {
		t.Fatalf("reset: %d", st)
	}
	for _, d := range s.driveStates(t) {
		if d.Lock != tenant.LockNone || !d.Provisioned {
			t.Fatalf("after reset drive %+v is not open and provisioned", d)
		}
		if _, err := client.Users().ByUserId(d.OwnerUserID).Drive().Get(ctx, nil); err != nil {
			t.Fatalf("after reset, drive of %s: %v", d.OwnerUserID, err)
		}
	}
}

// A licensed member's OneDrive that is not provisioned yet answers 404
// "User's mysite not found." until it is provisioned; then it is there, in
// the export too.
func TestLateProvisionedOneDrive(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	late := firstWith(t, s.driveStates(t), tenant.LockNone, false)
	_, err := client.Users().ByUserId(late.OwnerUserID).Drive().Get(ctx, nil)
	oe := odataError(t, err, 404, "ResourceNotFound")
	if *oe.GetErrorEscaped().GetMessage() != "User's mysite not found." {
		t.Fatalf("message %q", *oe.GetErrorEscaped().GetMessage())
	}
	_, err = client.Drives().ByDriveId(late.DriveID).Get(ctx, nil)
	odataError(t, err, 404, "itemNotFound")
	ex := s.export(t)
	for _, d := range ex.drives {
		if d.ID == late.DriveID {
			t.Fatalf("the export lists the unprovisioned drive %s", d.ID)
		}
	}
	for _, u := range ex.users {
		if u.ID == late.OwnerUserID && (u.HasDrive || len(u.AssignedLicenses) == 0) {
			t.Fatalf("owner of the unprovisioned drive: %+v; want licensed without a drive", u)
		}
	}

	var got struct {
		DriveID string `json:"driveId"`
	}
	if st := s.control(t, "POST", "/drives/provision", map[string]string{"userId": late.OwnerUserID}, &got); st != 200 || got.DriveID != late.DriveID {
		t.Fatalf("provision: %d %+v", st, got)
	}
	d, err := client.Users().ByUserId(late.OwnerUserID).Drive().Get(ctx, nil)
	if err != nil || *d.GetId() != late.DriveID {
		t.Fatalf("provisioned drive: %v", err)
	}
	if _, err := client.Drives().ByDriveId(late.DriveID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, nil); err != nil {
		t.Fatalf("delta of the provisioned drive: %v", err)
	}
	found := false
	for _, u := range s.export(t).users {
		found = found || u.ID == late.OwnerUserID && u.HasDrive
	}
	if !found {
		t.Fatalf("after provisioning the export does not say the owner has a drive")
	}
	// A user without a licence has no OneDrive to provision.
	for _, u := range ex.users {
		if len(u.AssignedLicenses) == 0 {
			if st := s.control(t, "POST", "/drives/provision", map[string]string{"userId": u.ID}, nil); st != 404 {
				t.Fatalf("provisioning an unlicensed user's drive: %d, want 404", st)
			}
			break
		}
	}
}

// The defaults switched off at generation: every drive open and provisioned.
func TestDriveStatesSwitchedOff(t *testing.T) {
	cfg := smallTenant
	cfg.NoDriveLocks, cfg.AllDrivesProvisioned = true, true
	s := startSim(t, graphsim.Options{Tenant: cfg})
	for _, d := range s.driveStates(t) {
		if d.Lock != tenant.LockNone || !d.Provisioned {
			t.Fatalf("drive %+v is not open and provisioned", d)
		}
	}
	// Locks alone off: late OneDrives remain.
	cfg.AllDrivesProvisioned = false
	s = startSim(t, graphsim.Options{Tenant: cfg})
	firstWith(t, s.driveStates(t), tenant.LockNone, false)
}

// The budget follows SharePoint's licence bands when asked to.
func TestBudgetByLicenceBand(t *testing.T) {
	for n, want := range map[int]int{0: 1200, 1000: 1200, 1001: 2400, 5000: 2400, 15_000: 3600, 50_000: 4800, 50_001: 6000} {
		if got := graphsim.BudgetForLicences(n); got != want {
			t.Fatalf("%d licences: %d RU/min, want %d", n, got, want)
		}
	}
	s := startSim(t, graphsim.Options{RUPerMinute: graphsim.RUByLicenceBand})
	if s.RUPerMinute() != 1200 {
		t.Fatalf("small tenant budget %d, want 1200", s.RUPerMinute())
	}
	if s := startSim(t, graphsim.Options{}); s.RUPerMinute() != 0 {
		t.Fatalf("the zero value should be unlimited, got %d", s.RUPerMinute())
	}
}

// readable is the export without the drives the app cannot read (locked
// noAccess, closed to it) and their items and permissions: what tests of
// other behaviour walk.
func (ex export) readable() export {
	closed := map[string]bool{}
	out := export{users: ex.users}
	for _, d := range ex.drives {
		if d.Lock == tenant.LockNoAccess || d.Lock == tenant.LockAccessDenied {
			closed[d.ID] = true
			continue
		}
		out.drives = append(out.drives, d)
	}
	for _, it := range ex.items {
		if !closed[it.DriveID] {
			out.items = append(out.items, it)
		}
	}
	for _, p := range ex.perms {
		if !closed[p.DriveID] {
			out.perms = append(out.perms, p)
		}
	}
	return out
}
