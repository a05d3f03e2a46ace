package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// factsTenant shares enough that grants to groups on the alias domain and
// to outside guests both occur.
var factsTenant = tenant.Config{Seed: 1, Users: 40, FilesPerUser: 15, ShareRatio: 0.3, NoDriveLocks: true}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// factGrants finds an item shared with a group on a verified domain that no
// member's address is on, and one shared with a guest at an outside address.
func factGrants(t *testing.T, srv *graphsim.Server, ex export) (aliasItem, aliasEmail, guestItem, guestEmail string) {
	t.Helper()
	verified := map[string]bool{}
	for _, d := range srv.Tenant().Domains() {
		verified[d.Name] = true
	}
	members := map[string]bool{}
	for _, u := range ex.users {
		if u.UserType == models.UserTypeMember {
			members[domainOf(u.UserPrincipalName)], members[domainOf(u.Mail)] = true, true
		}
	}
	for _, p := range ex.perms {
		if g := p.GrantedToGroup; g != nil && aliasItem == "" && verified[domainOf(g.Email)] && !members[domainOf(g.Email)] {
			aliasItem, aliasEmail = p.ItemID, g.Email
		}
		if g := p.GrantedToUser; g != nil && guestItem == "" && p.Guest && !verified[domainOf(g.Email)] {
			guestItem, guestEmail = p.ItemID, g.Email
		}
	}
	if aliasItem == "" || guestItem == "" {
		t.Fatalf("the tenant lacks a grant to an alias-domain group (%q) or to an outside guest (%q)", aliasItem, guestItem)
	}
	return
}

// storedExternal is what the database says of the grant to email on item.
func storedExternal(t *testing.T, st *store.Store, integID, item, email string) bool {
	t.Helper()
	ps, err := st.ItemPermissions(context.Background(), integID, item)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if strings.EqualFold(p.GrantedToEmail, email) {
			return p.GrantedToExternal
		}
	}
	t.Fatalf("no stored grant to %s on item %s", email, item)
	return false
}

func factsOf(t *testing.T, st *store.Store, integID string) *models.TenantFacts {
	t.Helper()
	got, err := st.TenantFacts(context.Background(), []string{integID})
	if err != nil || got[integID] == nil {
		t.Fatalf("tenant facts: %v, %v", got, err)
	}
	return got[integID]
}

// With Organization.Read.All a sync stores the verified domains and the
// licence names, judges an alias-domain group internal and an outside guest
// external, and an incremental sync within a day reads neither again.
func TestSyncReadsTenantFacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: factsTenant})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		s := newSyncer(st, info, nil)
		runSync(t, st, s, integID, true)
		ex := readExport(t, srv)
		aliasItem, aliasEmail, guestItem, guestEmail := factGrants(t, srv, ex)

		f := factsOf(t, st, integID)
		if f.DomainSource != models.DomainsVerified || len(f.Domains) != len(srv.Tenant().Domains()) {
			t.Fatalf("facts %+v, simulator domains %+v", f, srv.Tenant().Domains())
		}
		for i, d := range srv.Tenant().Domains() {
			if f.Domains[i] != (models.TenantDomain{Name: d.Name, IsDefault: d.IsDefault, IsInitial: d.IsInitial, Type: d.Type}) {
				t.Errorf("domain %d: %+v, simulator %+v", i, f.Domains[i], d)
			}
		}
		if !f.SkusRead || len(f.Skus) != len(srv.Tenant().Skus()) {
			t.Fatalf("subscriptions %+v", f.Skus)
		}
		// Every licence a user holds has its name.
		licensed := 0
		for _, u := range ex.users {
			for _, l := range u.AssignedLicenses {
				licensed++
				if f.SkuName(l.SkuID) == "" {
					t.Errorf("user %s: licence %s has no name", u.ID, l.SkuID)
				}
			}
		}
		if licensed == 0 {
			t.Fatal("no licensed user")
		}
		if storedExternal(t, st, integID, aliasItem, aliasEmail) {
			t.Errorf("%s, on a verified alias domain, is stored as external", aliasEmail)
		}
		if !storedExternal(t, st, integID, guestItem, guestEmail) {
			t.Errorf("%s, an outside guest, is stored as internal", guestEmail)
		}
		assertEqualToExport(t, st, integID, srv)

		before := srv.Stats().ByEndpoint
		runSync(t, st, s, integID, false)
		after := srv.Stats().ByEndpoint
		for _, e := range []string{"GET /organization", "GET /subscribedSkus"} {
			if after[e] != before[e] {
				t.Errorf("an incremental sync within a day read %s again", e)
			}
		}
		if factsOf(t, st, integID).DomainSource != models.DomainsVerified {
			t.Error("the incremental sync lost the verified domains")
		}
	})
}

// Without Organization.Read.All the sync falls back to the guess from
// members' addresses and says so: the alias-domain group counts as
// external, licences are known by id only, and neither call is made.
func TestSyncWithoutOrganizationPermissionGuesses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: factsTenant})
		srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"})
		info := srv.Info()
		integID := createIntegration(t, st, info, info.ClientSecret)
		runSync(t, st, newSyncer(st, info, nil), integID, true)
		ex := readExport(t, srv)
		aliasItem, aliasEmail, guestItem, guestEmail := factGrants(t, srv, ex)

		f := factsOf(t, st, integID)
		if f.DomainSource != models.DomainsGuessed || f.SkusRead || len(f.Skus) != 0 {
			t.Fatalf("facts without the permission: %+v", f)
		}
		for _, d := range f.Domains {
			if d.Name == aliasEmail[strings.LastIndexByte(aliasEmail, '@')+1:] {
				t.Errorf("the guess found the alias domain %s", d.Name)
			}
		}
		if len(f.Domains) == 0 {
			t.Error("no guessed domains stored")
		}
		if !storedExternal(t, st, integID, aliasItem, aliasEmail) {
			t.Errorf("the guess calls %s internal: the alias domain no longer shows the difference", aliasEmail)
		}
		if !storedExternal(t, st, integID, guestItem, guestEmail) {
			t.Errorf("%s, an outside guest, is stored as internal", guestEmail)
		}
		stats := srv.Stats().ByEndpoint
		if stats["GET /organization"] != 0 || stats["GET /subscribedSkus"] != 0 {
			t.Errorf("calls the token could not make: %v", stats)
		}

		// Granted later: the next sync, even incremental, reads the facts.
		srv.SetAppPermissions([]string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All", "Organization.Read.All"})
		runSync(t, st, newSyncer(st, info, nil), integID, false)
		if f := factsOf(t, st, integID); f.DomainSource != models.DomainsVerified || !f.SkusRead {
			t.Errorf("after the grant: %+v", f)
		}
	})
}
