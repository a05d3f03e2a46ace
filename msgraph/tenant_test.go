package msgraph

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// factsTenant shares enough that grants to groups (whose addresses are on
// the alias domain) and to guests both occur.
var factsTenant = tenant.Config{Seed: 1, Users: 60, FilesPerUser: 20, ShareRatio: 0.3}

// grantsOf finds, in the simulator's truth, one item shared with a group on
// a verified domain no member's address is on, and one shared with a guest
// at an outside address.
func grantsOf(t *testing.T, srv *graphsim.Server, tr truth) (aliasDrive, aliasItem, aliasEmail, guestDrive, guestItem, guestEmail string) {
	t.Helper()
	verified := map[string]bool{}
	for _, d := range srv.Tenant().Domains() {
		verified[d.Name] = true
	}
	members := map[string]bool{}
	for _, u := range tr.users {
		if u.UserType == "Member" {
			members[domainOf(u.UserPrincipalName)], members[domainOf(u.Mail)] = true, true
		}
	}
	for item, ps := range tr.perms {
		for _, p := range ps {
			if g := p.GrantedToGroup; g != nil && aliasItem == "" && verified[domainOf(g.Email)] && !members[domainOf(g.Email)] {
				aliasDrive, aliasItem, aliasEmail = p.DriveID, item, g.Email
			}
			if g := p.GrantedToUser; g != nil && guestItem == "" && p.Guest && !verified[domainOf(g.Email)] {
				guestDrive, guestItem, guestEmail = p.DriveID, item, g.Email
			}
		}
	}
	if aliasItem == "" || guestItem == "" {
		t.Fatalf("the tenant lacks a grant to an alias-domain group (%q) or to an outside guest (%q)", aliasItem, guestItem)
	}
	return
}

// externalOf is what the client says of the grantee with this address on
// this item.
func externalOf(t *testing.T, c *Client, driveID, itemID, email string) bool {
	t.Helper()
	got, err := c.ListPermissions(context.Background(), driveID, []string{itemID})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got[itemID] {
		if p.GrantedTo != nil && strings.EqualFold(p.GrantedTo.Email, email) {
			return p.GrantedTo.External
		}
	}
	t.Fatalf("no grant to %s on item %s", email, itemID)
	return false
}

// With Organization.Read.All the tenant's verified domains and licence
// names come from Graph, and an address on an alias domain is inside the
// tenant, while the old guess from members' addresses calls it external.
func TestTenantFactsFromGraph(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: factsTenant})
	ctx := context.Background()
	tr := exportOf(t, srv)
	aliasDrive, aliasItem, aliasEmail, guestDrive, guestItem, guestEmail := grantsOf(t, srv, tr)

	c := newClient(t, configFor(srv))
	if ok, err := c.CanReadOrganization(ctx); !ok || err != nil {
		t.Fatalf("CanReadOrganization = %v, %v with Organization.Read.All", ok, err)
	}
	domains, err := c.VerifiedDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.Tenant().Domains()
	if len(domains) != len(want) {
		t.Fatalf("verified domains %+v, simulator %+v", domains, want)
	}
	for i, d := range domains {
		if d != (Domain{Name: want[i].Name, IsDefault: want[i].IsDefault, IsInitial: want[i].IsInitial, Type: want[i].Type}) {
			t.Errorf("domain %d: %+v, simulator %+v", i, d, want[i])
		}
	}
	skus, err := c.SubscribedSkus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range skus {
		names = append(names, k.SkuID+"="+k.SkuPartNumber)
	}
	var wantNames []string
	for _, k := range srv.Tenant().Skus() {
		wantNames = append(wantNames, k.SkuID+"="+k.SkuPartNumber)
	}
	if !slices.Equal(names, wantNames) || slices.Contains(names, "") {
		t.Fatalf("licence names %v, simulator %v", names, wantNames)
	}

	// Verified: learned domains are ignored, the alias domain is inside.
	c.SetVerifiedDomains(domains)
	if err := c.ListUsers(ctx, func([]User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if c.DomainSource() != DomainsVerified || len(c.TenantDomains()) != len(domains) {
		t.Fatalf("source %s, domains %v", c.DomainSource(), c.TenantDomains())
	}
	if externalOf(t, c, aliasDrive, aliasItem, aliasEmail) {
		t.Errorf("%s, on a verified alias domain, is external", aliasEmail)
	}
	if !externalOf(t, c, guestDrive, guestItem, guestEmail) {
		t.Errorf("%s, an outside address, is internal", guestEmail)
	}

	// The guess, as before: the alias domain is nobody's address, so outside.
	guess := newClient(t, configFor(srv))
	if err := guess.ListUsers(ctx, func([]User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if guess.DomainSource() != DomainsGuessed {
		t.Fatalf("source %s without verified domains", guess.DomainSource())
	}
	if !externalOf(t, guess, aliasDrive, aliasItem, aliasEmail) {
		t.Errorf("the guess calls %s internal: the alias domain no longer shows what verified domains fix", aliasEmail)
	}
	if !externalOf(t, guess, guestDrive, guestItem, guestEmail) {
		t.Errorf("the guess calls %s internal", guestEmail)
	}
}

// Without Organization.Read.All the token says so before any call, and
// Graph's refusal is a missing permission named in words.
func TestTenantFactsWithoutPermission(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: factsTenant})
	srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"})
	ctx := context.Background()
	c := newClient(t, configFor(srv))
	if ok, err := c.CanReadOrganization(ctx); ok || err != nil {
		t.Fatalf("CanReadOrganization = %v, %v without the permission", ok, err)
	}
	if ok, err := c.CanReadSkus(ctx); ok || err != nil {
		t.Fatalf("CanReadSkus = %v, %v without the permission", ok, err)
	}
	for what, call := range map[string]func() error{
		"organization":   func() error { _, err := c.VerifiedDomains(ctx); return err },
		"subscribedSkus": func() error { _, err := c.SubscribedSkus(ctx); return err },
	} {
		err := call()
		var e *Error
		if !errors.As(err, &e) || e.Kind != MissingPermission || e.Status != 403 || e.Permission != OrganizationPermission ||
			!strings.Contains(e.Message, OrganizationPermission) {
			t.Errorf("%s without the permission: %v", what, err)
		}
	}

	srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All", "LicenseAssignment.Read.All"})
	c = newClient(t, configFor(srv))
	if ok, _ := c.CanReadSkus(ctx); !ok {
		t.Error("LicenseAssignment.Read.All does not read subscriptions")
	}
	if ok, _ := c.CanReadOrganization(ctx); ok {
		t.Error("LicenseAssignment.Read.All reads the organization")
	}
}
