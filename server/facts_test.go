package server_test

import (
	"context"
	"testing"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

type factsAnswer struct {
	Integration struct {
		TenantFacts struct {
			ExternalSource     string
			ExternalSourceNote string
			Domains            []struct {
				Name                 string
				IsDefault, IsInitial bool
				Type                 *string
			}
			LicenceNamesRead bool
			SubscribedSkus   []struct{ SkuID, SkuPartNumber *string }
		}
	}
	Users struct {
		Edges []struct {
			Node struct {
				Licenses []struct {
					SkuID         string
					SkuPartNumber *string
				}
			}
		}
	}
}

const factsQuery = `query($id: ID!) {
  integration(id: $id) { tenantFacts { externalSource externalSourceNote domains { name isDefault isInitial type }
    licenceNamesRead subscribedSkus { skuId skuPartNumber } } }
  users(integrationId: $id, first: 5) { edges { node { licenses { skuId skuPartNumber } } } }
}`

// The API says which source decided who is external, and names licences
// from the synced subscriptions: unknown before a sync, guessed without
// Organization.Read.All, verified with it.
func TestTenantFactsThroughTheAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		gid := globalID("Integration", integrationID)
		ask := func() factsAnswer {
			var a factsAnswer
			e.must(admin, factsQuery, map[string]any{"id": gid}, &a)
			return a
		}
		a := ask()
		if f := a.Integration.TenantFacts; f.ExternalSource != "UNKNOWN" || f.ExternalSourceNote == "" || len(f.Domains) != 0 {
			t.Fatalf("before a sync: %+v", f)
		}
		if l := a.Users.Edges[0].Node.Licenses; len(l) != 1 || l[0].SkuID != "sku-e3" || l[0].SkuPartNumber != nil {
			t.Fatalf("licences before a sync: %+v", l)
		}

		ctx := context.Background()
		if err := st.SaveTenantFacts(ctx, models.TenantFacts{IntegrationID: integrationID, DomainSource: models.DomainsGuessed,
			Domains: models.TenantDomains{{Name: "contoso.example"}}}); err != nil {
			t.Fatal(err)
		}
		a = ask()
		if f := a.Integration.TenantFacts; f.ExternalSource != "GUESSED" ||
			f.ExternalSourceNote != "Guessed from members' addresses: grant Organization.Read.All for exact answers." ||
			len(f.Domains) != 1 || f.Domains[0].Type != nil || f.LicenceNamesRead {
			t.Fatalf("guessed: %+v", f)
		}

		if err := st.SaveTenantFacts(ctx, models.TenantFacts{IntegrationID: integrationID, DomainSource: models.DomainsVerified,
			Domains: models.TenantDomains{{Name: "contoso.example", IsDefault: true, Type: "Managed"},
				{Name: "contoso.onmicrosoft.com", IsInitial: true, Type: "Managed"}},
			SkusRead: true, Skus: models.Skus{{SkuID: "sku-e3", SkuPartNumber: "SPE_E3"}}}); err != nil {
			t.Fatal(err)
		}
		a = ask()
		f := a.Integration.TenantFacts
		if f.ExternalSource != "VERIFIED_DOMAINS" || f.ExternalSourceNote != "Verified domains from Microsoft Graph." ||
			len(f.Domains) != 2 || !f.Domains[0].IsDefault || !f.Domains[1].IsInitial || f.Domains[1].Type == nil ||
			!f.LicenceNamesRead || len(f.SubscribedSkus) != 1 || *f.SubscribedSkus[0].SkuPartNumber != "SPE_E3" {
			t.Fatalf("verified: %+v", f)
		}
		for _, ed := range a.Users.Edges {
			for _, l := range ed.Node.Licenses {
				if l.SkuPartNumber == nil || *l.SkuPartNumber != "SPE_E3" {
					t.Fatalf("licence %s named %v", l.SkuID, l.SkuPartNumber)
				}
			}
		}
	})
}
