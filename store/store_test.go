package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

func ptr[T any](v T) *T { return &v }

func allVersions() []int {
	var v []int
	for i := 1; i <= store.LatestSchemaVersion(); i++ {
		v = append(v, i)
	}
	return v
}

func TestMigrationsAppliedOnceInOrder(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		st := testdb.Open(t, cfg)
		if got := st.AppliedMigrations(); !slices.Equal(got, allVersions()) {
			t.Fatalf("first open applied %v, want %v", got, allVersions())
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil || v != store.LatestSchemaVersion() {
			t.Fatalf("schema version = %d, %v; want %d", v, err, store.LatestSchemaVersion())
		}
		st.Close()
		again := testdb.Open(t, cfg)
		if got := again.AppliedMigrations(); len(got) != 0 {
			t.Fatalf("second open applied %v, want nothing", got)
		}
		if v, _ := again.SchemaVersion(ctx); v != store.LatestSchemaVersion() {
			t.Fatalf("schema version after re-open = %d", v)
		}
	})
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		const n = 4
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			applied []int
			errs    []error
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := store.Open(context.Background(), cfg)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				applied = append(applied, st.AppliedMigrations()...)
				st.Close()
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent opens failed: %v", errs)
		}
		slices.Sort(applied)
		if !slices.Equal(applied, allVersions()) {
			t.Fatalf("concurrent opens applied %v together, want each of %v exactly once", applied, allVersions())
		}
	})
}

func TestSecretRoundTripAndRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in := &models.Integration{Name: "Contoso", TenantID: "tenant", ClientID: "client"}
		if err := st.CreateIntegration(ctx, in, "first~secret~value~ABCD"); err != nil {
			t.Fatal(err)
		}
		got, err := st.IntegrationSecret(ctx, in.ID)
		if err != nil || got != "first~secret~value~ABCD" {
			t.Fatalf("IntegrationSecret = %q, %v", got, err)
		}
		stored, err := st.Integration(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SecretHint != "ABCD" || len(stored.SecretKeyID) != 8 || stored.Status != models.IntegrationActive || stored.SyncIntervalSeconds != 900 {
			t.Fatalf("stored integration: hint %q key id %q status %q interval %d", stored.SecretHint, stored.SecretKeyID, stored.Status, stored.SyncIntervalSeconds)
		}
		if stored.CreatedAt.Location() != time.UTC || time.Since(stored.CreatedAt) > time.Minute {
			t.Fatalf("created_at = %v, want a recent UTC time", stored.CreatedAt)
		}
		if err := st.RotateSecret(ctx, in.ID, "second~secret~value~WXYZ"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.IntegrationSecret(ctx, in.ID); got != "second~secret~value~WXYZ" {
			t.Fatalf("after rotation IntegrationSecret = %q", got)
		}
		if err := st.RotateSecret(ctx, "no-such-id", "x-secret-value-1234"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rotating a missing integration: %v, want ErrNotFound", err)
		}
	})
}

func TestSecretNeverStoredInPlaintext(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		st := testdb.Open(t, cfg)
		const secret = "Plaintext~Client~Secret~Q7w9"
		in := &models.Integration{Name: "Contoso", TenantID: "t", ClientID: "c"}
		if err := st.CreateIntegration(ctx, in, secret); err != nil {
			t.Fatal(err)
		}
		// Every column of the row, as the database renders it.
		row := scanRow(t, st, "SELECT * FROM integrations")
		for col, v := range row {
			var s string
			switch v := v.(type) {
			case []byte:
				s = string(v)
			default:
				s = fmt.Sprint(v)
			}
			if strings.Contains(s, secret) || strings.Contains(s, secret[:12]) {
				t.Fatalf("column %s holds the secret in plaintext", col)
			}
		}
		st.Close()
		if st.Dialect() == store.SQLite {
			// The raw database files, WAL included.
			files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "overshare.db*"))
			if len(files) == 0 {
				t.Fatal("no SQLite files found")
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), secret[:12]) {
					t.Fatalf("%s contains the secret in plaintext", filepath.Base(f))
				}
			}
		}
	})
}

func TestSecretWithWrongKey(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		keyA := strings.Repeat("ab", 32) // hex
		keyB := "c2VjcmV0LWtleS1mb3ItdGVzdHMtMzItYnl0ZXMhISE="
		cfgA, cfgB := cfg, cfg
		cfgA.SecretKey, cfgB.SecretKey = keyA, keyB
		st := testdb.Open(t, cfgA)
		in := &models.Integration{Name: "Contoso", TenantID: "t", ClientID: "c"}
		if err := st.CreateIntegration(ctx, in, "the-client-secret-1234"); err != nil {
			t.Fatal(err)
		}
		st.Close()
		other := testdb.Open(t, cfgB)
		_, err := other.IntegrationSecret(ctx, in.ID)
		if err == nil {
			t.Fatal("decrypting with another key succeeded")
		}
		if !strings.Contains(err.Error(), in.SecretKeyID) || strings.Contains(err.Error(), "the-client-secret") {
			t.Fatalf("error %q should name the expected key id %s and not the secret", err, in.SecretKeyID)
		}
		bad := cfg
		bad.SecretKey = "too-short"
		if _, err := store.Open(ctx, bad); err == nil || !strings.Contains(err.Error(), "OVERSHARE_SECRET_KEY") {
			t.Fatalf("opening with a malformed key: %v, want an error naming OVERSHARE_SECRET_KEY", err)
		}
	})
}

func TestSecretKeyFile(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		st := testdb.Open(t, cfg)
		in := &models.Integration{Name: "Contoso", TenantID: "t", ClientID: "c"}
		if err := st.CreateIntegration(ctx, in, "the-client-secret-1234"); err != nil {
			t.Fatal(err)
		}
		st.Close()
		keyFile := filepath.Join(cfg.DataDir, "secret.key")
		info, err := os.Stat(keyFile)
		if err != nil {
			t.Fatalf("key file not created: %v", err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", perm)
		}
		// The same key file decrypts after a restart.
		again := testdb.Open(t, cfg)
		if got, err := again.IntegrationSecret(ctx, in.ID); err != nil || got != "the-client-secret-1234" {
			t.Fatalf("after restart: %q, %v", got, err)
		}
		again.Close()
		if err := os.Chmod(keyFile, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = store.Open(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("opening with a world-readable key file: %v, want a refusal that says chmod 600", err)
		}
	})
}

// scanRow reads the first row of query as column → value.
func scanRow(t *testing.T, st *store.Store, query string) map[string]any {
	t.Helper()
	rows, err := st.SQLDB().Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("%s: no row", query)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out
}

func TestIntegrationStatusAndSchedule(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		var ids []string
		for _, name := range []string{"due", "later", "paused", "never"} {
			in := &models.Integration{Name: name, TenantID: "t", ClientID: "c"}
			if err := st.CreateIntegration(ctx, in, "client-secret-"+name); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, in.ID)
		}
		last := now.Add(-20 * time.Minute)
		for i, next := range []time.Time{now.Add(-time.Minute), now.Add(10 * time.Minute), now.Add(-time.Minute)} {
			if err := st.SetIntegrationSyncTimes(ctx, ids[i], &last, &next); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetIntegrationStatus(ctx, ids[2], models.IntegrationPaused, ""); err != nil {
			t.Fatal(err)
		}
		if err := st.SetIntegrationStatus(ctx, ids[0], models.IntegrationError, "The client secret has expired."); err != nil {
			t.Fatal(err)
		}
		due, err := st.IntegrationsDueForSync(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range due {
			names = append(names, in.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"due", "never"}) {
			t.Fatalf("due for sync: %v, want [due never]", names)
		}
		got, err := st.Integration(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.IntegrationError || got.LastError != "The client secret has expired." ||
			got.LastSyncAt == nil || !got.LastSyncAt.Equal(last.Truncate(time.Microsecond)) || !got.UpdatedAt.After(got.CreatedAt) {
			t.Fatalf("integration after updates: %+v", got)
		}
		if err := st.SetIntegrationSyncTimes(ctx, ids[0], nil, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Integration(ctx, ids[0]); got.LastSyncAt != nil || got.NextSyncAt != nil {
			t.Fatalf("nil sync times stored as %v, %v", got.LastSyncAt, got.NextSyncAt)
		}
		if err := st.SetIntegrationStatus(ctx, "missing", models.IntegrationActive, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating a missing integration: %v", err)
		}
	})
}

// A database synced by the previous release keeps its rows, and the queries that walk the
// tree still work, after migration 5 replaces the drive and parent indexes and (on
// PostgreSQL) makes the id columns compare bytewise.
func TestUpgradeToVersion5KeepsDataAndTreeQueries(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenAtVersion(ctx, cfg, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.CommitSyncPage(ctx, integ, "d1", page(tree(), nil, "", "delta-1")); err != nil {
			t.Fatal(err)
		}
		// Rows as the previous release wrote them: today's permission writes also maintain
		// columns that later migrations add.
		for item, p := range map[string]models.Permission{"budget": perm("p1", ptr("anonymous"), "read"), "a": perm("p2", ptr("organization"), "read")} {
			p.IntegrationID, p.ItemID = integ, item
			if err := old.Gorm().Create(&p).Error; err != nil {
				t.Fatal(err)
			}
		}
		before := mustItems(t, old, "d1")
		old.Close()

		st := testdb.Open(t, cfg)
		if got := st.AppliedMigrations(); len(got) == 0 || got[0] != 5 || got[len(got)-1] != store.LatestSchemaVersion() {
			t.Fatalf("upgrade applied %v, want 5 up to %d", got, store.LatestSchemaVersion())
		}
		if after := mustItems(t, st, "d1"); !reflect.DeepEqual(after, before) {
			t.Fatalf("items changed by the upgrade:\nbefore %+v\nafter  %+v", before, after)
		}
		if ps, err := st.ItemPermissions(ctx, integ, "budget"); err != nil || len(ps) != 1 || ps[0].ID != "p1" {
			t.Fatalf("permissions of budget after the upgrade: %+v, %v", ps, err)
		}
		var indexes []string
		q := `SELECT indexname FROM pg_indexes WHERE tablename = 'drive_items' ORDER BY 1`
		if cfg.DatabaseURL == "" {
			q = `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'drive_items' AND sql IS NOT NULL ORDER BY 1`
		}
		if err := st.Gorm().Raw(q).Scan(&indexes).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(indexes, "drive_items_tree") || slices.Contains(indexes, "drive_items_parent") || slices.Contains(indexes, "drive_items_drive") {
			t.Fatalf("drive_items indexes after the upgrade: %v", indexes)
		}
		if cfg.DatabaseURL != "" {
			var collation string
			if err := st.Gorm().Raw(`SELECT collation_name FROM information_schema.columns WHERE table_name = 'permissions' AND column_name = 'item_id'`).Scan(&collation).Error; err != nil || collation != "C" {
				t.Fatalf("collation of permissions.item_id = %q, %v; want C", collation, err)
			}
		}
		// The tree queries: a moved folder's descendants get new paths, a deleted folder
		// takes its descendants and their permissions with it.
		if err := st.CommitSyncPage(ctx, integ, "d1", page([]models.DriveItem{item("notes", "fin", "Notes", true)}, nil, "", "delta-2")); err != nil {
			t.Fatal(err)
		}
		checkPaths(t, st, map[string]string{"a": "/Finance/Notes/a.txt", "readme": "/readme.md"})
		if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{DeletedIDs: []string{"fin"}, DeltaLink: "delta-3"}); err != nil {
			t.Fatal(err)
		}
		if got := ids(mustItems(t, st, "d1")); !slices.Equal(got, []string{"readme", "root"}) {
			t.Fatalf("after deleting Finance the drive holds %v, want [readme root]", got)
		}
		if n := count(t, st, "permissions"); n != 0 {
			t.Fatalf("%d permissions left under the deleted folder", n)
		}
	})
}
