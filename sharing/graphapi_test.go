package sharing_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/store"
)

func TestCredentialChecker(t *testing.T) {
	srv, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tenant.Config{Seed: 3, Users: 3, FilesPerUser: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	info := srv.Info()
	defaults := msgraph.Config{AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile}
	check := sharing.CredentialChecker{Defaults: defaults, Logger: quiet()}

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "https://" + ln.Addr().String() + "/v1.0"
	ln.Close()

	tests := []struct {
		name     string
		checker  sharing.CredentialChecker
		secret   string
		roles    []string
		wantCode string
		wantText string
	}{
		{name: "right credentials", checker: check, secret: info.ClientSecret},
		{name: "wrong secret", checker: check, secret: "not-the-secret", wantCode: "BAD_USER_INPUT", wantText: "AADSTS7000215"},
		{name: "missing consent", checker: check, secret: info.ClientSecret, roles: []string{"Files.Read.All"},
			wantCode: "BAD_USER_INPUT", wantText: "User.Read.All"},
		{name: "Graph unreachable", checker: sharing.CredentialChecker{Defaults: msgraph.Config{AuthorityURL: info.AuthorityHost,
			GraphURL: deadURL, CAFile: info.CAFile}}, secret: info.ClientSecret, wantCode: "GRAPH_ERROR", wantText: "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			roles := tc.roles
			if roles == nil {
				roles = []string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"}
			}
			srv.SetAppPermissions(roles)
			err := tc.checker.Check(context.Background(), info.TenantID, info.ClientID, tc.secret)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var coded interface{ ErrorCode() string }
			if !errors.As(err, &coded) || coded.ErrorCode() != tc.wantCode {
				t.Fatalf("error %v, want code %s", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("message %q does not say %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), info.ClientSecret) || (tc.secret != info.ClientSecret && strings.Contains(err.Error(), tc.secret)) {
				t.Fatal("the message holds the secret")
			}
		})
	}
}

func TestGraphAPIAdapterAndSecretRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		ctx := context.Background()
		api := e.svc.GraphAPI()
		res, err := api.StopSharing(ctx, admin, graph.StopSharingRequest{IntegrationID: e.integ, Items: []graph.ItemPermissions{
			{ItemID: e.file, PermissionIDs: []string{e.orgID, e.anonID}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		// Both are the file's own (the link was copied from the folder): both go, confirmed.
		if len(res.Removed) != 2 || len(res.Failed) != 0 || res.Removed[0].AlreadyRemoved ||
			!res.Removed[0].Confirmed || !strings.HasPrefix(res.Removed[1].Message, "Confirmed removed") {
			t.Fatalf("result %+v", res)
		}

		// A rotated secret is used from the next call on: here a wrong one, so Graph refuses.
		if err := st.RotateSecret(ctx, e.integ, "a-wrong-secret"); err != nil {
			t.Fatal(err)
		}
		res, err = api.StopSharing(ctx, admin, graph.StopSharingRequest{IntegrationID: e.integ, Items: []graph.ItemPermissions{{ItemID: e.folder, All: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Failed) != 2 || len(res.Removed) != 0 || !strings.Contains(res.Failed[0].Message, "client secret") {
			t.Fatalf("after rotating to a wrong secret: %+v", res)
		}
		if e.row(t, e.folder, e.anonID) == nil {
			t.Fatal("the row went although Graph refused")
		}
		if err := st.RotateSecret(ctx, e.integ, e.srv.Info().ClientSecret); err != nil {
			t.Fatal(err)
		}
		res, err = api.StopSharing(ctx, admin, graph.StopSharingRequest{IntegrationID: e.integ, Items: []graph.ItemPermissions{{ItemID: e.folder, All: true}}})
		if err != nil || len(res.Removed) != 2 {
			t.Fatalf("after rotating back: %+v %v", res, err)
		}

		// Unknown integration: the whole call fails as not found.
		_, err = api.StopSharing(ctx, admin, graph.StopSharingRequest{IntegrationID: "nope", Items: []graph.ItemPermissions{{ItemID: e.folder, All: true}}})
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
