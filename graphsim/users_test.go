package graphsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

func odataError(t testing.TB, err error, status int, code string) *odataerrors.ODataError {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an ODataError", err, err)
	}
	got := ""
	if oe.GetErrorEscaped() != nil && oe.GetErrorEscaped().GetCode() != nil {
		got = *oe.GetErrorEscaped().GetCode()
	}
	if oe.ResponseStatusCode != status || got != code {
		t.Fatalf("ODataError status %d code %q, want %d %q", oe.ResponseStatusCode, got, status, code)
	}
	return oe
}

func TestUsersThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)
	byID := map[string]bool{}
	for _, u := range ex.users {
		byID[u.ID] = true
	}

	top := int32(5)
	cfg := &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
		Top:    &top,
		Select: []string{"id", "displayName", "userPrincipalName", "userType", "accountEnabled", "assignedLicenses"},
		Expand: []string{"manager($select=id,displayName)"},
	}}
	page, err := client.Users().Get(ctx, cfg)
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	seen := map[string]bool{}
	pages, guests, disabled, withManager, unlicensed := 0, 0, 0, 0, 0
	for {
		pages++
		if n := len(page.GetValue()); n > int(top) {
			t.Fatalf("page of %d users, $top was %d", n, top)
		}
		for _, u := range page.GetValue() {
			id := *u.GetId()
			if seen[id] {
				t.Fatalf("user %s listed twice", id)
			}
			seen[id] = true
			if *u.GetUserType() == "Guest" {
				guests++
			}
			if !*u.GetAccountEnabled() {
				disabled++
			}
			if len(u.GetAssignedLicenses()) == 0 {
				unlicensed++
			}
			if m := u.GetManager(); m != nil {
				withManager++
				if m.GetId() == nil || !byID[*m.GetId()] {
					t.Fatalf("manager of %s has unknown id", id)
				}
			}
			if u.GetUserPrincipalName() == nil || u.GetDisplayName() == nil {
				t.Fatalf("user %s lacks selected properties", id)
			}
		}
		next := page.GetOdataNextLink()
		if next == nil {
			break
		}
		if !strings.HasPrefix(*next, s.info.GraphBaseURL+"/users?") {
			t.Fatalf("nextLink %q is not absolute on the simulator", *next)
		}
		page, err = client.Users().WithUrl(*next).Get(ctx, nil)
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
	}
	if len(seen) != len(ex.users) || len(seen) != len(byID) {
		t.Fatalf("listed %d users, export has %d", len(seen), len(ex.users))
	}
	if pages < 2 || guests == 0 || withManager == 0 || unlicensed == 0 {
		t.Fatalf("pages=%d guests=%d withManager=%d unlicensed=%d: the small tenant should page and have guests, managers and unlicensed users",
			pages, guests, withManager, unlicensed)
	}
	t.Logf("users=%d pages=%d guests=%d disabled=%d withManager=%d unlicensed=%d", len(seen), pages, guests, disabled, withManager, unlicensed)

	// $top out of range: Graph's 400.
	bad := int32(1000)
	_, err = client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &bad}})
	oe := odataError(t, err, 400, "Request_UnsupportedQuery")
	if msg := *oe.GetErrorEscaped().GetMessage(); msg != "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive." {
		t.Fatalf("$top=1000 message %q", msg)
	}

	// One user, by id and by UPN; unknown user is 404.
	first := ex.users[0]
	for _, key := range []string{first.ID, first.UserPrincipalName} {
		u, err := client.Users().ByUserId(key).Get(ctx, nil)
		if err != nil || *u.GetId() != first.ID {
			t.Fatalf("get user %s: %v", key, err)
		}
	}
	_, err = client.Users().ByUserId("00000000-0000-4000-8000-000000000000").Get(ctx, nil)
	odataError(t, err, 404, "Request_ResourceNotFound")

	skus, err := client.SubscribedSkus().Get(ctx, nil)
	if err != nil || len(skus.GetValue()) == 0 {
		t.Fatalf("subscribedSkus: %d, %v", len(skus.GetValue()), err)
	}
	for _, k := range skus.GetValue() {
		if k.GetSkuId() == nil || k.GetSkuPartNumber() == nil || k.GetPrepaidUnits() == nil {
			t.Fatalf("sku without id, part number or prepaid units")
		}
	}
}

func TestDrivesThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	ex := s.export(t)
	drives := map[string]string{} // owner → drive id
	locked := map[string]bool{}   // owners of drives that refuse reads (locks_test.go)
	for _, d := range ex.drives {
		drives[d.OwnerUserID] = d.ID
		locked[d.OwnerUserID] = d.Lock == tenant.LockNoAccess || d.Lock == tenant.LockAccessDenied
	}
	noDrive := 0
	for _, u := range ex.users {
		if locked[u.ID] {
			continue
		}
		d, err := client.Users().ByUserId(u.ID).Drive().Get(ctx, nil)
		if !u.HasDrive {
			noDrive++
			oe := odataError(t, err, 404, "ResourceNotFound")
			if *oe.GetErrorEscaped().GetMessage() != "User's mysite not found." {
				t.Fatalf("no-drive message %q", *oe.GetErrorEscaped().GetMessage())
			}
			continue
		}
		if err != nil {
			t.Fatalf("drive of %s: %v", u.ID, err)
		}
		if *d.GetId() != drives[u.ID] || !strings.HasPrefix(*d.GetId(), "b!") {
			t.Fatalf("drive of %s is %s, export says %s", u.ID, *d.GetId(), drives[u.ID])
		}
		// GET /drives/{id}: the SDK escapes "!" as %21.
		full, err := client.Drives().ByDriveId(*d.GetId()).Get(ctx, nil)
		if err != nil {
			t.Fatalf("drive %s: %v", *d.GetId(), err)
		}
		q := full.GetQuota()
		if q == nil || *q.GetTotal() <= 0 || *q.GetUsed()+*q.GetRemaining() > *q.GetTotal() || q.GetState() == nil || q.GetDeleted() == nil {
			b, _ := json.Marshal(q)
			t.Fatalf("quota of %s: %s", *d.GetId(), b)
		}
		if *full.GetDriveType() != "business" || full.GetOwner() == nil {
			t.Fatalf("drive %s: type %q owner %v", *d.GetId(), *full.GetDriveType(), full.GetOwner())
		}
	}
	if noDrive == 0 {
		t.Fatalf("the small tenant should have users without a OneDrive")
	}
	_, err := client.Drives().ByDriveId("b!nope").Get(ctx, nil)
	odataError(t, err, 404, "itemNotFound")
}
