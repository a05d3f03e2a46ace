package store_test

import (
	"context"
	"testing"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// Tenant facts are one row per integration, replaced by each sync and
// deleted with the integration.
func TestTenantFactsSavedReplacedAndDeleted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in := &models.Integration{Name: "facts", TenantID: "t", ClientID: "c"}
		if err := st.CreateIntegration(ctx, in, "secret"); err != nil {
			t.Fatal(err)
		}
		got, err := st.TenantFacts(ctx, []string{in.ID})
		if err != nil || got[in.ID] != nil {
			t.Fatalf("before any sync: %v, %v", got, err)
		}
		guessed := models.TenantFacts{IntegrationID: in.ID, DomainSource: models.DomainsGuessed,
			Domains: models.TenantDomains{{Name: "contoso.onmicrosoft.com"}}}
		if err := st.SaveTenantFacts(ctx, guessed); err != nil {
			t.Fatal(err)
		}
		verified := models.TenantFacts{IntegrationID: in.ID, DomainSource: models.DomainsVerified,
			Domains: models.TenantDomains{{Name: "contoso.onmicrosoft.com", IsInitial: true, IsDefault: true, Type: "Managed"},
				{Name: "contoso.com", Type: "Managed"}},
			SkusRead: true, Skus: models.Skus{{SkuID: "05e9a617-0261-4cee-bb44-138d3ef5d965", SkuPartNumber: "SPE_E3"}}}
		if err := st.SaveTenantFacts(ctx, verified); err != nil {
			t.Fatal(err)
		}
		got, err = st.TenantFacts(ctx, []string{in.ID, "other"})
		f := got[in.ID]
		if err != nil || f == nil || len(got) != 1 {
			t.Fatalf("after two syncs: %v, %v", got, err)
		}
		if f.DomainSource != models.DomainsVerified || len(f.Domains) != 2 || !f.Domains[0].IsInitial || f.Domains[1].Name != "contoso.com" ||
			!f.SkusRead || f.SkuName("05E9A617-0261-4CEE-BB44-138D3EF5D965") != "SPE_E3" || f.SyncedAt.IsZero() {
			t.Fatalf("facts %+v", f)
		}
		if err := st.DeleteIntegration(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.TenantFacts(ctx, []string{in.ID}); len(got) != 0 {
			t.Fatalf("facts outlived the integration: %v", got)
		}
	})
}
