package syncer_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// An integration that signs in with a certificate syncs the whole tenant, and fails in words,
// without retrying in vain, once Entra ID holds the certificate as expired.
func TestCertificateIntegrationSyncs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(31)})
		info := srv.Info()
		pemData, err := os.ReadFile(info.CertificateFile)
		if err != nil {
			t.Fatal(err)
		}
		in := &models.Integration{Name: "Contoso", TenantID: info.TenantID, ClientID: info.ClientID}
		if err := st.CreateIntegrationWithCredential(context.Background(), in, store.Credential{Certificate: pemData}); err != nil {
			t.Fatal(err)
		}
		s := newSyncer(st, info, nil)
		runSync(t, st, s, in.ID, true)
		assertEqualToExport(t, st, in.ID, srv)

		srv.ExpireCertificate(true)
		runID, _ := s.Run(context.Background(), in.ID, false)
		r, err := st.SyncRun(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != models.SyncFailed || !strings.Contains(r.Error, "has expired") || !strings.Contains(r.Error, info.CertificateThumbprint) {
			t.Fatalf("run with an expired certificate: %s %q", r.Status, r.Error)
		}
	})
}
