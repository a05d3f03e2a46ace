package graphsim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

func listPerms(t testing.TB, client *msgraphsdk.GraphServiceClient, driveID, itemID string) []models.Permissionable {
	t.Helper()
	res, err := client.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Permissions().Get(context.Background(), nil)
	if err != nil {
		t.Fatalf("list permissions of %s: %v", itemID, err)
	}
	return res.GetValue()
}

func findPerm(perms []models.Permissionable, id string) models.Permissionable {
	for _, p := range perms {
		if *p.GetId() == id {
			return p
		}
	}
	return nil
}

// pickPerm finds an own permission in the export.
func pickPerm(ex export, match func(tenant.ExportPermission) bool) (tenant.ExportPermission, bool) {
	roots := map[string]bool{}
	for _, d := range ex.drives {
		roots[d.RootID] = true
	}
	for _, p := range ex.perms {
		if !roots[p.ItemID] && match(p) {
			return p, true
		}
	}
	return tenant.ExportPermission{}, false
}

func TestPermissionsThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)

	anon, ok := pickPerm(ex, func(p tenant.ExportPermission) bool { return p.Link != nil && p.Link.Scope == "anonymous" })
	if !ok {
		t.Fatal("no anonymous link in the tenant")
	}
	org, ok := pickPerm(ex, func(p tenant.ExportPermission) bool { return p.Link != nil && p.Link.Scope == "organization" })
	if !ok {
		t.Fatal("no organization link in the tenant")
	}
	direct, ok := pickPerm(ex, func(p tenant.ExportPermission) bool {
		return p.Link == nil && p.GrantedToUser != nil && (p.Roles[0] == "read" || p.Roles[0] == "write")
	})
	if !ok {
		t.Fatal("no direct user grant in the tenant")
	}

	t.Run("list", func(t *testing.T) {
		p := findPerm(listPerms(t, client, anon.DriveID, anon.ItemID), anon.ID)
		if p == nil {
			t.Fatalf("anonymous link %s not listed", anon.ID)
		}
		l := p.GetLink()
		if l == nil || *l.GetScope() != "anonymous" || *l.GetTypeEscaped() != anon.Link.Type || l.GetWebUrl() == nil || l.GetPreventsDownload() == nil {
			t.Fatalf("link facet of %s incomplete", anon.ID)
		}
		if p.GetExpirationDateTime() == nil || p.GetHasPassword() == nil || len(p.GetRoles()) == 0 || p.GetShareId() == nil {
			t.Fatalf("anonymous link %s lacks expirationDateTime, hasPassword, roles or shareId", anon.ID)
		}
		if anon.ExpirationDateTime == nil && !p.GetExpirationDateTime().Equal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("link without expiry reports %v, want 0001-01-01T00:00:00Z", p.GetExpirationDateTime())
		}
		d := findPerm(listPerms(t, client, direct.DriveID, direct.ItemID), direct.ID)
		if d == nil || d.GetGrantedToV2() == nil || d.GetGrantedToV2().GetUser() == nil || *d.GetGrantedToV2().GetUser().GetId() != direct.GrantedToUser.ID {
			t.Fatalf("direct grant %s: grantedToV2.user missing or wrong", direct.ID)
		}
		if direct.Invitation != nil && (d.GetInvitation() == nil || *d.GetInvitation().GetEmail() != direct.Invitation.Email) {
			t.Fatalf("guest grant %s lacks its invitation", direct.ID)
		}
	})

	t.Run("patch", func(t *testing.T) {
		exp := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		body := models.NewPermission()
		body.SetExpirationDateTime(&exp)
		p, err := client.Drives().ByDriveId(anon.DriveID).Items().ByDriveItemId(anon.ItemID).Permissions().ByPermissionId(anon.ID).Patch(ctx, body, nil)
		if err != nil || p.GetExpirationDateTime() == nil || !p.GetExpirationDateTime().Equal(exp) {
			t.Fatalf("expiry on an anonymous link: %v, got %v", err, p)
		}
		if got := findPerm(listPerms(t, client, anon.DriveID, anon.ItemID), anon.ID); !got.GetExpirationDateTime().Equal(exp) {
			t.Fatalf("listed expiry %v after PATCH, want %v", got.GetExpirationDateTime(), exp)
		}

		_, err = client.Drives().ByDriveId(org.DriveID).Items().ByDriveItemId(org.ItemID).Permissions().ByPermissionId(org.ID).Patch(ctx, body, nil)
		odataError(t, err, 400, "invalidRequest")

		roles := models.NewPermission()
		roles.SetRoles([]string{"write"})
		p, err = client.Drives().ByDriveId(direct.DriveID).Items().ByDriveItemId(direct.ItemID).Permissions().ByPermissionId(direct.ID).Patch(ctx, roles, nil)
		if err != nil || strings.Join(p.GetRoles(), ",") != "write" {
			t.Fatalf("roles on a user grant: %v %v", err, p)
		}
		_, err = client.Drives().ByDriveId(anon.DriveID).Items().ByDriveItemId(anon.ItemID).Permissions().ByPermissionId(anon.ID).Patch(ctx, roles, nil)
		odataError(t, err, 400, "invalidRequest")
	})

	t.Run("delete", func(t *testing.T) {
		pb := client.Drives().ByDriveId(org.DriveID).Items().ByDriveItemId(org.ItemID).Permissions().ByPermissionId(org.ID)
		if err := pb.Delete(ctx, nil); err != nil {
			t.Fatalf("delete own permission: %v", err)
		}
		if findPerm(listPerms(t, client, org.DriveID, org.ItemID), org.ID) != nil {
			t.Fatalf("permission %s still listed after DELETE", org.ID)
		}
		odataError(t, pb.Delete(ctx, nil), 404, "itemNotFound")
		_, err := client.Drives().ByDriveId(org.DriveID).Items().ByDriveItemId("01NOSUCHITEMXXXXXXXXXXXXXXXXXXXXXX").Permissions().Get(ctx, nil)
		odataError(t, err, 404, "itemNotFound")
	})
}
