package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
)

// `overshare sync` on PostgreSQL tells the servers sharing the database that the sharing
// history grew, so their sharingChanged subscriptions see a sync run from the command line.
func TestSyncTellsServersOfSharingChanges(t *testing.T) {
	ctx := context.Background()
	sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 3, FilesPerUser: 8, ShareRatio: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()
	cfg := testdb.PostgresConfig(t)
	useDatabase(t, cfg)
	t.Setenv("OVERSHARE_AUTHORITY_URL", info.AuthorityHost)
	t.Setenv("OVERSHARE_GRAPH_URL", info.GraphBaseURL)
	t.Setenv("OVERSHARE_GRAPH_CA_FILE", info.CAFile)
	t.Setenv("OVERSHARE_CLIENT_SECRET", info.ClientSecret)
	out, errOut, code := runCLI(t, "integrate", "--name", "Simulated", "--tenant-id", info.TenantID, "--client-id", info.ClientID, "--create-database")
	id := strings.TrimSpace(out)
	if code != 0 || id == "" {
		t.Fatalf("integrate: exit %d, %s", code, errOut)
	}

	// A server's bus on the same database, as `serve` makes it.
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	server, err := events.NewPostgres(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	changes, stop := server.SubscribeSharing(id)
	defer stop()

	if _, errOut, code := runCLI(t, "sync", "--integration", id); code != 0 {
		t.Fatalf("sync: exit %d, %s", code, errOut)
	}
	select {
	case c := <-changes:
		if c.IntegrationID != id || time.Since(c.At) > time.Minute {
			t.Fatalf("the server was told %+v", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first sync recorded sharing, and no server was told")
	}
}
