package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

// BenchmarkAPIDriveItems is `make bench-api`: driveItems(filter: {sharedScope: [ANONYMOUS]},
// first: 100) over HTTP, with a verified bearer token, against a tenant of OVERSHARE_BENCH_ITEMS
// items (default 1,000,000; 1,000 drives, 5% shared) in PostgreSQL, from 32 concurrent clients.
// It prints p50, p99 and requests per second. The tenant is written once into the database
// overshare_bench_api and kept for the next run (drop it to start over).
func BenchmarkAPIDriveItems(b *testing.B) {
	items := 1_000_000
	if v := os.Getenv("OVERSHARE_BENCH_ITEMS"); v != "" {
		items, _ = strconv.Atoi(v)
	}
	st := benchStore(b, items)
	idp := startIDP(b)
	ctx := context.Background()
	verifier, err := auth.NewVerifier(ctx, auth.Config{Issuer: idp.issuer(), Audience: devidp.DemoAudience})
	if err != nil {
		b.Fatal(err)
	}
	cfg := server.Config{Store: st, Verifier: verifier, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.GraphQL.Events = events.NewLocal()
	api, err := server.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	token := idp.token(b, devidp.DemoAdminScriptClientID)
	body, _ := json.Marshal(map[string]any{
		"query": `query($id: ID!) { driveItems(integrationId: $id, filter: {sharedScope: [ANONYMOUS]}, first: 100) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id name path webUrl size modifiedAt sharedScope } } } }`,
		"variables": map[string]any{"id": "bench"},
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	call := func() (time.Duration, error) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		var out struct {
			Data struct {
				DriveItems struct{ Edges []json.RawMessage }
			}
			Errors []gqlError
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		d := time.Since(start)
		if err == nil && (len(out.Errors) > 0 || len(out.Data.DriveItems.Edges) != 100) {
			err = fmt.Errorf("answer: %d edges, errors %+v", len(out.Data.DriveItems.Edges), out.Errors)
		}
		return d, err
	}
	for i := 0; i < 20; i++ { // warm the connection pool, caches and the query cache
		if _, err := call(); err != nil {
			b.Fatal(err)
		}
	}

	const clients = 32
	b.ResetTimer()
	for b.Loop() {
		perClient := 100
		lat := make([][]time.Duration, clients)
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		start := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perClient; i++ {
					d, err := call()
					if err != nil {
						errs <- err
						return
					}
					lat[c] = append(lat[c], d)
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		all := slices.Concat(lat...)
		slices.Sort(all)
		p := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))] }
		rps := float64(len(all)) / elapsed.Seconds()
		b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99_ms")
		b.ReportMetric(rps, "req/s")
		fmt.Printf("bench-api: %d items, driveItems(sharedScope: ANONYMOUS, first: 100), %d clients, %d requests: p50 %v, p99 %v, %.0f requests/s\n",
			items, clients, len(all), p(0.5).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), rps)
	}
}

// benchStore opens overshare_bench_api, writing the tenant when it is not there yet.
func benchStore(b *testing.B, items int) *store.Store {
	b.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("overshare_bench_api_%d", items)
	admin := testdb.AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Fatalf("PostgreSQL is required: %v", err)
	}
	var exists bool
	_ = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close(ctx)
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	dir := filepath.Join(os.TempDir(), name)
	st, err := store.Open(ctx, store.Config{DatabaseURL: u.String(), DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if c, err := st.CountsForIntegration(ctx, "bench"); err == nil && c.Items == int64(items) {
		return st
	}
	if _, err := st.Integration(ctx, "bench"); err == nil {
		if err := st.DeleteIntegration(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if err := writeBenchTenant(ctx, st, items); err != nil {
		b.Fatal(err)
	}
	if _, err := st.SQLDB().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("bench-api: wrote %d items in %v\n", items, time.Since(start).Round(time.Second))
	return st
}

// writeBenchTenant writes 1,000 users with one drive each, the items spread over the drives, 5%
// of them shared: a third by anonymous links, a third by organization links, a third with
// people.
func writeBenchTenant(ctx context.Context, st *store.Store, items int) error {
	in := &models.Integration{ID: "bench", Name: "Bench", TenantID: "t", ClientID: "c"}
	if err := st.CreateIntegration(ctx, in, "bench-secret"); err != nil {
		return err
	}
	const drives = 1000
	var users []models.User
	var ds []models.Drive
	for u := 0; u < drives; u++ {
		id := fmt.Sprintf("user-%04d", u)
		users = append(users, models.User{ID: id, DisplayName: "User " + id, UserPrincipalName: id + "@bench.example", UserType: models.UserTypeMember, AccountEnabled: true})
		ds = append(ds, models.Drive{ID: "drive-" + id, OwnerUserID: id, Name: "OneDrive", DriveType: "business", QuotaTotal: 1 << 40})
	}
	if err := st.UpsertUsers(ctx, "bench", users); err != nil {
		return err
	}
	if err := st.UpsertDrives(ctx, "bench", ds); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	scopes := []string{models.LinkScopeAnonymous, models.LinkScopeOrganization, models.LinkScopeUsers}
	per := items / drives
	for d, drive := range ds {
		n := per
		if d == drives-1 {
			n = items - per*(drives-1)
		}
		page := store.SyncPage{DeltaLink: "bench", Permissions: map[string][]models.Permission{}}
		page.Items = append(page.Items, models.DriveItem{ID: drive.ID + "-root", Name: "root", Path: "/", IsRoot: true, IsFolder: true})
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%s-%06d", drive.ID, i)
			mod := base.Add(time.Duration(rng.IntN(365*24*3600)) * time.Second)
			name := fmt.Sprintf("Document %d.docx", rng.IntN(1_000_000))
			page.Items = append(page.Items, models.DriveItem{ID: id, ParentID: drive.ID + "-root", Name: name, Path: "/" + name,
				Size: int64(rng.IntN(1 << 20)), WebURL: "https://bench.example/" + id, LastModifiedDateTime: &mod})
			if rng.IntN(100) < 5 {
				scope := scopes[rng.IntN(3)]
				page.Permissions[id] = []models.Permission{{ID: "link-" + id, Roles: "read", LinkType: "view", LinkScope: &scope,
					LinkWebURL: "https://bench.example/s/" + id}}
			}
		}
		if err := st.CommitSyncPage(ctx, "bench", drive.ID, page); err != nil {
			return err
		}
	}
	return nil
}
