package sharing_test

import (
	"context"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/msgraph"
)

// BenchmarkGraphClient is why the service caches a Graph client per integration: one DELETE
// (answered 404) with a client kept between calls, and with a client built for the call (a
// sign-in round trip and fresh TLS connections before the DELETE).
func BenchmarkGraphClient(b *testing.B) {
	ctx := context.Background()
	srv, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 3, FilesPerUser: 5}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	info := srv.Info()
	cfg := msgraph.Config{TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile}
	var drive string
	for _, u := range srv.Tenant().UsersPage(0, 3) {
		if d, ok := srv.Tenant().DriveOfUser(u.ID); ok {
			drive = d.ID
		}
	}
	del := func(gc *msgraph.Client) {
		if err := gc.DeletePermission(ctx, drive, "root", "no-such-permission"); msgraph.KindOf(err) != msgraph.NotFound {
			b.Fatalf("delete: %v", err)
		}
	}
	b.Run("cached", func(b *testing.B) {
		gc, err := msgraph.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			del(gc)
		}
	})
	b.Run("per-call", func(b *testing.B) {
		for b.Loop() {
			gc, err := msgraph.New(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			del(gc)
		}
	})
}
