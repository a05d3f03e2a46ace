package msgraph

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// driveWith returns a drive of the simulated tenant with the given lock.
func driveWith(t *testing.T, srv *graphsim.Server, l tenant.Lock) tenant.DriveState {
	t.Helper()
	for _, d := range srv.Tenant().DriveStates() {
		if d.Lock == l && d.Provisioned {
			return d
		}
	}
	t.Fatalf("no %s drive in the tenant", l)
	return tenant.DriveState{}
}

// TestDriveAccessIsNotMissingPermission: with every permission granted, a
// 403 or 423 on one drive is that drive's state (NoAccess, Locked), said in
// words, never "grant the app a permission"; a read-only lock reads fine
// and refuses stop sharing in words.
func TestDriveAccessIsNotMissingPermission(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 2, Users: 20, FilesPerUser: 30, ShareRatio: 0.3}})
	c := newClient(t, configFor(srv))
	ctx := context.Background()
	for _, tc := range []struct {
		lock tenant.Lock
		kind Kind
		says string
	}{
		{tenant.LockAccessDenied, NoAccess, "does not let the app open this OneDrive"},
		{tenant.LockNoAccess, Locked, "NoAccess lock"},
	} {
		d := driveWith(t, srv, tc.lock)
		calls := map[string]func() error{
			"delta":       func() error { _, err := c.DeltaPage(ctx, d.DriveID, ""); return err },
			"permissions": func() error { _, err := c.ListPermissions(ctx, d.DriveID, []string{"root"}); return err },
			"stop sharing": func() error {
				return c.DeletePermission(ctx, d.DriveID, "root", "aTowIy5mfG1lbWJlcnNoaXB8YW5vbg")
			},
		}
		for name, call := range calls {
			err := call()
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !e.Kind.DriveInaccessible() {
				t.Fatalf("%s drive, %s: %v, want kind %v", tc.lock, name, err, tc.kind)
			}
			if !strings.Contains(e.Message, tc.says) || strings.Contains(e.Message, "grant it") || e.Permission != "" {
				t.Errorf("%s drive, %s: message %q (permission %q) should say %q and name no permission", tc.lock, name, e.Message, e.Permission, tc.says)
			}
		}
	}

	// Read-only: reads work, changes are refused as a read-only lock.
	ro := driveWith(t, srv, tenant.LockReadOnly)
	if _, err := c.DeltaPage(ctx, ro.DriveID, ""); err != nil {
		t.Fatalf("read-only drive: delta: %v", err)
	}
	var itemID, permID string
	var buf strings.Builder
	_ = srv.Tenant().Export(&buf)
	tr := exportOf(t, srv)
	for id, ps := range tr.perms {
		for _, p := range ps {
			if p.DriveID == ro.DriveID && p.Link != nil && p.Link.Scope == "anonymous" {
				itemID, permID = id, p.ID
			}
		}
	}
	if itemID == "" {
		t.Fatalf("the read-only drive has no anonymous link to try")
	}
	for name, err := range map[string]error{
		"stop sharing": c.DeletePermission(ctx, ro.DriveID, itemID, permID),
		"expiry": func() error {
			_, err := c.SetPermissionExpiration(ctx, ro.DriveID, itemID, permID, time.Now().Add(24*time.Hour))
			return err
		}(),
	} {
		var e *Error
		if !errors.As(err, &e) || e.Kind != Locked || e.Status != 423 || !strings.Contains(e.Message, "locked read-only") {
			t.Errorf("read-only drive, %s: %v, want Locked saying the OneDrive is locked read-only", name, err)
		}
	}

	// Without the permission, the same 403 names the permission: the token says so.
	srv.SetAppPermissions([]string{"User.Read.All", "Files.Read.All"})
	c2 := newClient(t, configFor(srv))
	err := c2.DeletePermission(ctx, driveWith(t, srv, tenant.LockNone).DriveID, itemID, permID)
	if e := (*Error)(nil); !errors.As(err, &e) || e.Kind != MissingPermission || e.Permission != "Files.ReadWrite.All" {
		t.Errorf("stop sharing without Files.ReadWrite.All: %v, want MissingPermission Files.ReadWrite.All", err)
	}
}

func TestTokenRoles(t *testing.T) {
	// {"roles":["User.Read.All","Sites.FullControl.All"]} as a JWT payload.
	roles, err := tokenRoles("eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJVc2VyLlJlYWQuQWxsIiwiU2l0ZXMuRnVsbENvbnRyb2wuQWxsIl19.sig")
	if err != nil || strings.Join(roles, ",") != "User.Read.All,Sites.FullControl.All" {
		t.Fatalf("roles %v, %v", roles, err)
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a.bm90IGpzb24.c"} {
		if _, err := tokenRoles(bad); err == nil {
			t.Errorf("tokenRoles(%q) accepted", bad)
		}
	}
}
