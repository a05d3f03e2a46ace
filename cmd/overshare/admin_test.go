package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// useDatabase points the commands' environment at cfg's database.
func useDatabase(t *testing.T, cfg store.Config) {
	t.Setenv("OVERSHARE_DATABASE_URL", cfg.DatabaseURL)
	t.Setenv("OVERSHARE_DATA_DIR", cfg.DataDir)
	t.Setenv("OVERSHARE_SECRET_KEY", "")
}

// Commands that work on an existing database refuse one that was never created, naming it and
// the command that creates it, and create nothing; migrate then creates it.
func TestNoSilentNewDatabase(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		if cfg.DatabaseURL == "" {
			cfg.DataDir = filepath.Join(cfg.DataDir, "not-yet")
		}
		useDatabase(t, cfg)
		t.Setenv("OVERSHARE_CLIENT_SECRET", "a secret")
		where := cfg.DataDir // the data directory that does not exist, or the database without tables
		if cfg.DatabaseURL != "" {
			where = store.Describe(cfg)[len("PostgreSQL "):]
		}
		for _, args := range [][]string{
			{"sync", "--integration", "x"}, {"integrate", "--name", "n", "--tenant-id", "t", "--client-id", "c"},
		} {
			out, errOut, code := runCLI(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "overshare migrate") || !strings.Contains(errOut, where) {
				t.Errorf("%v on no database: exit %d, stdout %q, stderr:\n%s", args, code, out, errOut)
			}
		}
		if cfg.DatabaseURL == "" {
			if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
				t.Fatalf("a refused command created %s (%v)", cfg.DataDir, err)
			}
		}
		if out, errOut, code := runCLI(t, "migrate"); code != 0 || !strings.Contains(out, "schema at version") {
			t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
		}
		// The database now opens: what is missing is the integration.
		if _, errOut, code := runCLI(t, "sync", "--integration", "x"); code != 1 || !strings.Contains(errOut, "neither the id nor the global ID") {
			t.Errorf("sync on the new database: exit %d, stderr %q", code, errOut)
		}
	})
}

// The database in use is said on stderr, a PostgreSQL URL without its password.
func TestDatabaseNamedWithoutSecret(t *testing.T) {
	cfg := testdb.PostgresConfig(t)
	useDatabase(t, cfg)
	withPassword := strings.Replace(cfg.DatabaseURL, "postgres@", "postgres:hunter2@", 1)
	t.Setenv("OVERSHARE_DATABASE_URL", withPassword)
	_, errOut, _ := runCLI(t, "sync", "--integration", "x")
	if !strings.Contains(errOut, "database: PostgreSQL postgres://postgres@") || strings.Contains(errOut, "hunter2") {
		t.Errorf("stderr %q: want the database named, without the password", errOut)
	}
}

// integrate refuses to create a database unless asked; sync takes the integration's id in
// either form, against the simulator.
func TestIntegrateAndSyncTakeEitherID(t *testing.T) {
	ctx := context.Background()
	sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 3, FilesPerUser: 8, ShareRatio: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()
	cfg := testdb.SQLiteConfig(t)
	cfg.DataDir = filepath.Join(cfg.DataDir, "data")
	useDatabase(t, cfg)
	t.Setenv("OVERSHARE_AUTHORITY_URL", info.AuthorityHost)
	t.Setenv("OVERSHARE_GRAPH_URL", info.GraphBaseURL)
	t.Setenv("OVERSHARE_GRAPH_CA_FILE", info.CAFile)
	t.Setenv("OVERSHARE_CLIENT_SECRET", info.ClientSecret)
	integrate := []string{"integrate", "--name", "Simulated", "--tenant-id", info.TenantID, "--client-id", info.ClientID}
	if _, errOut, code := runCLI(t, integrate...); code != 1 || !strings.Contains(errOut, "--create-database") {
		t.Fatalf("integrate without a database: exit %d, %s", code, errOut)
	}
	out, errOut, code := runCLI(t, append(integrate, "--create-database")...)
	raw := strings.TrimSpace(out)
	if code != 0 || raw == "" || strings.ContainsAny(raw, " \n") {
		t.Fatalf("integrate --create-database: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	for _, id := range []string{model.EncodeID(model.TypeIntegration, raw), raw} {
		out, errOut, code := runCLI(t, "sync", "--integration", id)
		if code != 0 || !strings.Contains(out, " done in ") || !strings.Contains(errOut, "database: SQLite "+cfg.DataDir) {
			t.Errorf("sync --integration %s: exit %d, stdout %q, stderr %q", id, code, out, errOut)
		}
	}
}
