package graphsim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/organization"

	"github.com/overshare/overshare/graphsim"
)

// The organization's verified domains through the SDK: the users' default
// domain, the initial one, and an alias domain that no user's address is on
// but some groups' grants are, so a guess from users' addresses is wrong.
func TestOrganizationThroughSDK(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	resp, err := client.Organization().Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id", "verifiedDomains"}}})
	if err != nil || len(resp.GetValue()) != 1 {
		t.Fatalf("organization: %v (%d objects)", err, len(resp.GetValue()))
	}
	org := resp.GetValue()[0]
	if *org.GetId() != s.info.TenantID {
		t.Fatalf("organization id %s, tenant %s", *org.GetId(), s.info.TenantID)
	}
	if org.GetDisplayName() != nil {
		t.Fatal("$select=id,verifiedDomains also returned displayName")
	}
	verified := map[string]bool{}
	defaults, initials := 0, 0
	for _, d := range org.GetVerifiedDomains() {
		verified[*d.GetName()] = true
		if *d.GetIsDefault() {
			defaults++
		}
		if *d.GetIsInitial() {
			initials++
			if !strings.HasSuffix(*d.GetName(), ".onmicrosoft.com") {
				t.Errorf("initial domain %s", *d.GetName())
			}
		}
		if *d.GetTypeEscaped() != "Managed" {
			t.Errorf("domain %s type %s", *d.GetName(), *d.GetTypeEscaped())
		}
	}
	if defaults != 1 || initials != 1 || len(verified) < 2 {
		t.Fatalf("verified domains %v: want one default, one initial and an alias", verified)
	}

	ex := s.export(t)
	userDomains := map[string]bool{}
	for _, u := range ex.users {
		if u.UserType == "Member" {
			userDomains[domain(u.UserPrincipalName)] = true
			userDomains[domain(u.Mail)] = true
		}
	}
	aliasGrants := 0
	for _, p := range ex.perms {
		if g := p.GrantedToGroup; g != nil && verified[domain(g.Email)] && !userDomains[domain(g.Email)] {
			aliasGrants++
		}
	}
	if aliasGrants == 0 {
		t.Fatal("no grant to an address on a verified domain that no member's address is on")
	}

	// By id, and an unknown id.
	one, err := client.Organization().ByOrganizationId(s.info.TenantID).Get(ctx, nil)
	if err != nil || len(one.GetVerifiedDomains()) != len(verified) {
		t.Fatalf("organization by id: %v", err)
	}
	_, err = client.Organization().ByOrganizationId("00000000-0000-4000-8000-000000000000").Get(ctx, nil)
	odataError(t, err, 404, "Request_ResourceNotFound")
}

// Without Organization.Read.All (or a directory reader) Graph refuses the
// organization and the subscriptions: User.Read.All reads neither.
func TestOrganizationAndSkusNeedTheirPermission(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	s.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"})
	client, _ := s.graphClient(t)
	ctx := context.Background()
	_, err := client.Organization().Get(ctx, nil)
	odataError(t, err, 403, "Authorization_RequestDenied")
	_, err = client.SubscribedSkus().Get(ctx, nil)
	odataError(t, err, 403, "Authorization_RequestDenied")
	if _, err := client.Users().Get(ctx, nil); err != nil {
		t.Fatalf("users with User.Read.All: %v", err)
	}

	// LicenseAssignment.Read.All lists subscriptions, not the organization.
	s.SetAppPermissions([]string{"User.Read.All", "LicenseAssignment.Read.All"})
	client, _ = s.graphClient(t)
	if _, err := client.SubscribedSkus().Get(ctx, nil); err != nil {
		t.Fatalf("subscribedSkus with LicenseAssignment.Read.All: %v", err)
	}
	_, err = client.Organization().Get(ctx, nil)
	odataError(t, err, 403, "Authorization_RequestDenied")
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}
