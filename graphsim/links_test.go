package graphsim_test

import (
	"context"
	"testing"
	"time"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// Links in time, through msgraph-sdk-go and azidentity over TLS: hasPassword
// is false on OneDrive for Business, expired links stay listed, the sample's
// expiries lie around the configured now, and the tenant's expiry policy
// shortens a PATCH and refuses a clear until it is switched off.
func TestLinksInTimeThroughSDK(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	cfg := tenant.Config{Seed: 7, Users: 30, FilesPerUser: 40, ShareRatio: 0.3, Now: now}
	s := startSim(t, graphsim.Options{Tenant: cfg})
	client, _ := s.graphClient(t)
	ex := s.export(t)
	anon := func(t *testing.T, match func(p tenant.ExportPermission, exp time.Time) bool) tenant.ExportPermission {
		t.Helper()
		p, ok := pickPerm(ex, func(p tenant.ExportPermission) bool {
			var exp time.Time
			if p.ExpirationDateTime != nil {
				exp, _ = time.Parse(time.RFC3339, *p.ExpirationDateTime)
			}
			return p.Link != nil && p.Link.Scope == "anonymous" && match(p, exp)
		})
		if !ok {
			t.Fatal("no such anonymous link in the sample tenant")
		}
		return p
	}

	t.Run("hasPassword is false on business drives", func(t *testing.T) {
		p := anon(t, func(p tenant.ExportPermission, _ time.Time) bool { return p.PasswordSet })
		if p.HasPassword {
			t.Errorf("the export says Graph reports a password on %s", p.ID)
		}
		got := findPerm(listPerms(t, client, p.DriveID, p.ItemID), p.ID)
		if got.GetHasPassword() == nil || *got.GetHasPassword() {
			t.Fatalf("hasPassword of a password-protected link on a business drive: %v, want false", got.GetHasPassword())
		}
		var set tenant.LinkSettings
		if st := s.control(t, "POST", "/links", map[string]any{"reportPasswords": true}, &set); st != 200 || !set.ReportPasswords {
			t.Fatalf("switch password reporting on: %d %+v", st, set)
		}
		defer s.control(t, "POST", "/links", map[string]any{"reportPasswords": false}, nil)
		if got := findPerm(listPerms(t, client, p.DriveID, p.ItemID), p.ID); !*got.GetHasPassword() {
			t.Error("with reportPasswords the link still reports no password")
		}
	})

	t.Run("expired links stay listed and dates lie around now", func(t *testing.T) {
		past := anon(t, func(_ tenant.ExportPermission, exp time.Time) bool { return !exp.IsZero() && exp.Before(now) })
		soon := anon(t, func(_ tenant.ExportPermission, exp time.Time) bool { return exp.After(now) })
		for _, p := range []tenant.ExportPermission{past, soon} {
			got := findPerm(listPerms(t, client, p.DriveID, p.ItemID), p.ID)
			if got == nil {
				t.Fatalf("link %s (expiry %s) is not listed", p.ID, *p.ExpirationDateTime)
			}
			exp := got.GetExpirationDateTime()
			if exp == nil || exp.UTC().Format(time.RFC3339) != *p.ExpirationDateTime {
				t.Errorf("link %s lists expiry %v, want %s", p.ID, exp, *p.ExpirationDateTime)
			}
			if exp.Before(now.AddDate(0, 0, -41)) || exp.After(now.AddDate(0, 0, tenant.DefaultAnyoneLinkMaxDays)) {
				t.Errorf("link %s expires %v, not around the configured now %v", p.ID, exp, now)
			}
		}
	})

	p := anon(t, func(tenant.ExportPermission, time.Time) bool { return true })
	patch := func(at time.Time) (models.Permissionable, error) {
		body := models.NewPermission()
		body.SetExpirationDateTime(&at)
		return client.Drives().ByDriveId(p.DriveID).Items().ByDriveItemId(p.ItemID).Permissions().ByPermissionId(p.ID).Patch(context.Background(), body, nil)
	}
	t.Run("the policy shortens a PATCH and refuses a clear", func(t *testing.T) {
		before := time.Now().UTC().Truncate(time.Second)
		got, err := patch(before.AddDate(1, 0, 0))
		after := time.Now().UTC()
		if err != nil {
			t.Fatal(err)
		}
		if e := *got.GetExpirationDateTime(); e.Before(before.AddDate(0, 0, 30)) || e.After(after.AddDate(0, 0, 30)) {
			t.Errorf("a year ahead came back as %v, want the policy's 30 days", e)
		}
		listedExpiry(t, client, p, *got.GetExpirationDateTime())
		_, err = patch(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) // what msgraph sends to clear an expiry
		odataError(t, err, 400, "invalidRequest")
		listedExpiry(t, client, p, *got.GetExpirationDateTime())
	})

	t.Run("the policy is switched off", func(t *testing.T) {
		var set tenant.LinkSettings
		if st := s.control(t, "POST", "/links", map[string]any{"policy": map[string]any{"off": true}}, &set); st != 200 || !set.Policy.Off {
			t.Fatalf("switch the policy off: %d %+v", st, set)
		}
		far := time.Now().UTC().Truncate(time.Second).AddDate(2, 0, 0)
		if got, err := patch(far); err != nil || !got.GetExpirationDateTime().Equal(far) {
			t.Fatalf("two years ahead without a policy: %v %v", err, got)
		}
		if _, err := patch(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatalf("clearing without a policy: %v", err)
		}
		listedExpiry(t, client, p, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))
	})
}

func listedExpiry(t *testing.T, client *msgraphsdk.GraphServiceClient, p tenant.ExportPermission, want time.Time) {
	t.Helper()
	got := findPerm(listPerms(t, client, p.DriveID, p.ItemID), p.ID)
	if got == nil || got.GetExpirationDateTime() == nil || !got.GetExpirationDateTime().Equal(want) {
		t.Fatalf("link %s lists expiry %v, want %v", p.ID, got.GetExpirationDateTime(), want)
	}
}
