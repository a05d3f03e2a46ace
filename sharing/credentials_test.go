package sharing_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

func TestCredentialChecker(t *testing.T) {
	srv, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tenant.Config{Seed: 3, Users: 3, FilesPerUser: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	info := srv.Info()
	defaults := graphsimtest.Endpoints(info)
	check := sharing.CredentialChecker{Defaults: defaults, Logger: quiet()}

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "https://" + ln.Addr().String() + "/v1.0"
	ln.Close()

	secret := store.Credential{Secret: info.ClientSecret}
	pemData, err := os.ReadFile(info.CertificateFile)
	if err != nil {
		t.Fatal(err)
	}
	cert := store.Credential{Certificate: pemData}
	certOnly := store.Credential{Certificate: pemData[:strings.Index(string(pemData), "-----BEGIN PRIVATE KEY")]}
	tests := []struct {
		name     string
		checker  sharing.CredentialChecker
		tenant   string // "" for the simulator's
		cred     store.Credential
		roles    []string
		before   func()
		wantKind change.Kind
		wantText string
	}{
		// Issue 19: a tenant ID no tenant can have was blamed on this server's Graph settings.
		{name: "malformed tenant ID", checker: check, tenant: "contoso corp/../x", cred: secret,
			wantKind: change.Invalid, wantText: `"contoso corp/../x" is not a tenant identifier`},
		{name: "right credentials", checker: check, cred: secret},
		{name: "wrong secret", checker: check, cred: store.Credential{Secret: "not-the-secret"}, wantKind: change.Invalid, wantText: "AADSTS7000215"},
		{name: "missing consent", checker: check, cred: secret, roles: []string{"Files.Read.All"},
			wantKind: change.Invalid, wantText: "User.Read.All"},
		{name: "right certificate", checker: check, cred: cert},
		{name: "certificate expired in Entra ID", checker: check, cred: cert, before: func() { srv.ExpireCertificate(true) },
			wantKind: change.Invalid, wantText: "has expired"},
		{name: "certificate without its key", checker: check, cred: certOnly, wantKind: change.Invalid, wantText: "no usable private key"},
		{name: "Graph unreachable", checker: sharing.CredentialChecker{Defaults: msgraph.Config{AuthorityURL: info.AuthorityHost,
			GraphURL: deadURL, CAFile: info.CAFile}}, cred: secret, wantKind: change.GraphFailed, wantText: "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			roles := tc.roles
			if roles == nil {
				roles = []string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"}
			}
			srv.SetAppPermissions(roles)
			srv.ExpireCertificate(false)
			if tc.before != nil {
				tc.before()
			}
			tenantID := info.TenantID
			if tc.tenant != "" {
				tenantID = tc.tenant
			}
			err := tc.checker.Check(context.Background(), tenantID, info.ClientID, tc.cred)
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *change.Error
			if !errors.As(err, &ce) || ce.Kind != tc.wantKind {
				t.Fatalf("error %v, want kind %s", err, tc.wantKind)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("message %q does not say %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), info.ClientSecret) || (tc.cred.Secret != "" && strings.Contains(err.Error(), tc.cred.Secret)) ||
				strings.Contains(err.Error(), "MII") {
				t.Fatal("the message holds the secret or the key")
			}
		})
	}
}

// removedAndFailed splits outcomes the way the API answers them.
func removedAndFailed(outcomes []change.Outcome) (removed, failed []change.Outcome) {
	for _, o := range outcomes {
		if o.Failed() {
			failed = append(failed, o)
		} else {
			removed = append(removed, o)
		}
	}
	return removed, failed
}

func TestStopSharingAfterSecretRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		api := e.svc
		out, err := api.StopSharing(ctx, admin, e.integ, []change.Item{
			{ItemID: e.file, PermissionIDs: []string{e.orgID, e.anonID}},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Both are the file's own (the link was copied from the folder): both go, confirmed.
		removed, failed := removedAndFailed(out)
		if len(removed) != 2 || len(failed) != 0 || removed[0].AlreadyRemoved() ||
			!removed[0].Confirmed || !strings.HasPrefix(removed[1].Message, "Confirmed removed") {
			t.Fatalf("result %+v", out)
		}

		// A rotated secret is used from the next call on: here a wrong one, so Graph refuses.
		if err := st.RotateSecret(ctx, e.integ, "a-wrong-secret"); err != nil {
			t.Fatal(err)
		}
		out, err = api.StopSharing(ctx, admin, e.integ, []change.Item{{ItemID: e.folder, All: true}})
		if err != nil {
			t.Fatal(err)
		}
		removed, failed = removedAndFailed(out)
		if len(failed) != 2 || len(removed) != 0 || !strings.Contains(failed[0].Message, "client secret") {
			t.Fatalf("after rotating to a wrong secret: %+v", out)
		}
		if e.row(t, e.folder, e.anonID) == nil {
			t.Fatal("the row went although Graph refused")
		}
		if err := st.RotateSecret(ctx, e.integ, e.srv.Info().ClientSecret); err != nil {
			t.Fatal(err)
		}
		out, err = api.StopSharing(ctx, admin, e.integ, []change.Item{{ItemID: e.folder, All: true}})
		if removed, _ = removedAndFailed(out); err != nil || len(removed) != 2 {
			t.Fatalf("after rotating back: %+v %v", out, err)
		}

		// Unknown integration: the whole call fails as not found.
		_, err = api.StopSharing(ctx, admin, "nope", []change.Item{{ItemID: e.folder, All: true}})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown integration: %v", err)
		}
		evs := e.audit(t)
		results := map[string]int{}
		for _, ev := range evs {
			results[ev.Result]++
		}
		if results[models.AuditRemoved] != 4 || results[models.AuditFailed] != 2 {
			t.Fatalf("audit results %v", results)
		}
	})
}
