package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/apiseed"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// useDatabase points the commands' environment at cfg's database.
func useDatabase(t *testing.T, cfg store.Config) {
	t.Setenv("OVERSHARE_DATABASE_URL", cfg.DatabaseURL)
	t.Setenv("OVERSHARE_DATA_DIR", cfg.DataDir)
	t.Setenv("OVERSHARE_SECRET_KEY", "")
}

// seed writes apiseed's small tenant through the store, as a sync would have, and points the
// commands at that database.
func seed(t *testing.T, cfg store.Config) apiseed.Data {
	t.Helper()
	d := apiseed.Build("seeded-1", 6, 12)
	st := testdb.Open(t, cfg)
	if err := apiseed.Write(context.Background(), st, d); err != nil {
		t.Fatal(err)
	}
	st.Close()
	useDatabase(t, cfg)
	return d
}

func integrationStatus(t *testing.T, cfg store.Config, id string) models.IntegrationStatus {
	t.Helper()
	st := testdb.Open(t, cfg)
	defer st.Close()
	in, err := st.Integration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in.Status
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
			{"sync", "--integration", "x"}, {"integrations", "list"}, {"pause", "x"}, {"resume", "x"},
			{"export", "--integration", "x"}, {"integrate", "--name", "n", "--tenant-id", "t", "--client-id", "c"},
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
		if out, errOut, code := runCLI(t, "integrations", "list"); code != 0 || out != "" || !strings.Contains(errOut, "no integrations yet") {
			t.Errorf("integrations list on the new database: exit %d, stdout %q, stderr %q", code, out, errOut)
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

// integrations list shows each integration with both forms of its id; --json gives the same to
// scripts; pause and resume take either form, say what they did, and pausing twice is fine.
func TestIntegrationsListPauseResume(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		d := seed(t, cfg)
		raw := d.Integration.ID
		global := model.EncodeID(model.TypeIntegration, raw)

		out, errOut, code := runCLI(t, "integrations", "list")
		if code != 0 || !strings.Contains(errOut, "database: ") {
			t.Fatalf("integrations list: exit %d, stderr %q", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") {
			t.Fatalf("want a header and one row:\n%s", out)
		}
		for _, want := range []string{global, raw, d.Integration.Name, d.Integration.TenantID, string(models.IntegrationActive)} {
			if !strings.Contains(lines[1], want) {
				t.Errorf("the row lacks %q:\n%s", want, out)
			}
		}
		var list []integrationJSON
		out, _, code = runCLI(t, "integrations", "list", "--json")
		if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 {
			t.Fatalf("integrations list --json: exit %d, %v:\n%s", code, err, out)
		}
		if list[0].ID != global || list[0].RawID != raw || list[0].Name != d.Integration.Name {
			t.Errorf("--json = %+v", list[0])
		}

		out, _, code = runCLI(t, "pause", global)
		if code != 0 || !strings.HasPrefix(out, "paused ") || integrationStatus(t, cfg, raw) != models.IntegrationPaused {
			t.Errorf("pause by global ID: exit %d, %q", code, out)
		}
		out, _, code = runCLI(t, "pause", raw)
		if code != 0 || !strings.Contains(out, "already paused") || integrationStatus(t, cfg, raw) != models.IntegrationPaused {
			t.Errorf("pause again: exit %d, %q", code, out)
		}
		if out, _, _ := runCLI(t, "integrations", "list"); !strings.Contains(out, string(models.IntegrationPaused)) {
			t.Errorf("the list does not show the pause:\n%s", out)
		}
		out, _, code = runCLI(t, "resume", raw)
		if code != 0 || !strings.HasPrefix(out, "resumed ") || integrationStatus(t, cfg, raw) != models.IntegrationActive {
			t.Errorf("resume by raw id: exit %d, %q", code, out)
		}
		out, _, code = runCLI(t, "resume", global)
		if code != 0 || !strings.Contains(out, "not paused") {
			t.Errorf("resume an active one: exit %d, %q", code, out)
		}

		// Neither form, and the ID of something else, are said in words.
		drive := model.EncodeID(model.TypeDrive, raw, d.Drives[0].ID)
		for arg, want := range map[string]string{
			"no-such-integration": "neither the id nor the global ID of an integration",
			drive:                 "is the ID of a Drive, not of an integration",
			model.EncodeID(model.TypeIntegration, "gone"): "no integration gone",
		} {
			for _, args := range [][]string{{"pause", arg}, {"sync", "--integration", arg}, {"export", "--integration", arg}} {
				out, errOut, code := runCLI(t, args...)
				if code != 1 || out != "" || !strings.Contains(errOut, want) {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", args, code, out, errOut, want)
				}
			}
		}
	})
}

// export writes one row per permission that shares an item and matches the filters, as CSV or
// JSON: the items are those the API's filter selects (apiseed answers which, in plain Go).
func TestExport(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		d := seed(t, cfg)
		raw := d.Integration.ID
		for _, c := range []struct {
			args   []string
			filter store.ItemFilter
		}{
			{nil, store.ItemFilter{SharedOnly: true}},
			{[]string{"--scope", "anonymous"}, store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}},
			{[]string{"--scope", "organization,users"}, store.ItemFilter{Scopes: []string{models.LinkScopeOrganization, models.LinkScopeUsers}}},
			{[]string{"--scope", "external"}, store.ItemFilter{External: ptr(true)}},
			{[]string{"--has-expiry=false", "--link-type", "edit"}, store.ItemFilter{HasExpiry: ptr(false), LinkTypes: []string{"edit"}}},
			{[]string{"--expired"}, store.ItemFilter{Expired: true}},
			{[]string{"--drive", model.EncodeID(model.TypeDrive, raw, d.Drives[1].ID)}, store.ItemFilter{SharedOnly: true, DriveID: d.Drives[1].ID}},
			{[]string{"--owner", d.Users[2].ID, "--search", "budget"}, store.ItemFilter{SharedOnly: true, OwnerUserID: d.Users[2].ID, Search: "budget"}},
		} {
			args := append([]string{"export", "--integration", model.EncodeID(model.TypeIntegration, raw)}, c.args...)
			out, errOut, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(recs) == 0 || !slices.Equal(recs[0], exportColumns) {
				t.Fatalf("%v: not CSV with the header (%v):\n%s", args, err, out)
			}
			col := func(name string) int { return slices.Index(exportColumns, name) }
			var items []string
			for _, r := range recs[1:] {
				_, parts, err := model.DecodeAnyID(r[col("item_id")])
				if err != nil {
					t.Fatalf("item_id %q: %v", r[col("item_id")], err)
				}
				if !slices.Contains(items, parts[1]) {
					items = append(items, parts[1])
				}
				if len(c.filter.Scopes) == 1 && r[col("scope")] != c.filter.Scopes[0] {
					t.Errorf("%v: a row of scope %q", args, r[col("scope")])
				}
				if c.filter.External != nil && r[col("external")] != "true" {
					t.Errorf("%v: a row not shared externally: %v", args, r)
				}
				if r[col("path")] == "" || r[col("owner")] == "" || r[col("roles")] == "" {
					t.Errorf("%v: a row without path, owner or roles: %v", args, r)
				}
			}
			slices.Sort(items)
			if want := d.Match(c.filter); !slices.Equal(items, want) {
				t.Errorf("%v: exported the items %v, want %v", args, items, want)
			}
			if !strings.Contains(errOut, "exported ") {
				t.Errorf("%v: stderr %q does not say what was exported", args, errOut)
			}

			// The same rows as JSON.
			out, _, code = runCLI(t, append(args, "--format", "json")...)
			var rows []map[string]any
			if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != len(recs)-1 {
				t.Errorf("%v --format json: exit %d, %v, %d rows, want %d", args, code, err, len(rows), len(recs)-1)
			}
		}
		// Into a file.
		file := filepath.Join(t.TempDir(), "shared.csv")
		if _, errOut, code := runCLI(t, "export", "--integration", raw, "-o", file); code != 0 || !strings.Contains(errOut, file) {
			t.Errorf("export -o: exit %d, %s", code, errOut)
		}
		if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), strings.Join(exportColumns, ",")) {
			t.Errorf("the export file: %v\n%.200s", err, b)
		}
	})
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

// integrate --certificate-file connects with the app's certificate, and the integration syncs;
// a certificate Entra ID no longer knows is refused in words, and neither run prints the key.
func TestIntegrateWithCertificateFile(t *testing.T) {
	ctx := context.Background()
	sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 6, Users: 3, FilesPerUser: 8, ShareRatio: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()
	useDatabase(t, testdb.SQLiteConfig(t))
	t.Setenv("OVERSHARE_AUTHORITY_URL", info.AuthorityHost)
	t.Setenv("OVERSHARE_GRAPH_URL", info.GraphBaseURL)
	t.Setenv("OVERSHARE_GRAPH_CA_FILE", info.CAFile)
	pemData, err := os.ReadFile(info.CertificateFile)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.pem")
	if err := os.WriteFile(old, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	keyLine := strings.Split(strings.SplitN(string(pemData), "PRIVATE KEY-----\n", 2)[1], "\n")[3]
	integrate := []string{"integrate", "--name", "Simulated", "--tenant-id", info.TenantID, "--client-id", info.ClientID, "--create-database"}

	if _, errOut, code := runCLI(t, append(integrate, "--certificate-file", old, "--client-secret-file", old)...); code != 2 || !strings.Contains(errOut, "not both") {
		t.Fatalf("both credentials: exit %d, %s", code, errOut)
	}
	out, errOut, code := runCLI(t, append(integrate, "--certificate-file", info.CertificateFile)...)
	id := strings.TrimSpace(out)
	if code != 0 || id == "" || strings.Contains(out+errOut, keyLine) {
		t.Fatalf("integrate --certificate-file: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if out, errOut, code := runCLI(t, "sync", "--integration", id); code != 0 || !strings.Contains(out, " done in ") {
		t.Fatalf("sync of the certificate integration: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	if _, err := sim.RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, append(integrate, "--certificate-file", old)...)
	if code != 1 || !strings.Contains(errOut, "does not know the certificate") || strings.Contains(errOut, keyLine) {
		t.Fatalf("integrate with a rotated-away certificate: exit %d, %s", code, errOut)
	}
}
