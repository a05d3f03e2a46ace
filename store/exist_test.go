package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// With MustExist, Open refuses a database that was never created, in words naming it, and
// creates nothing; once created (by a plain Open, as migrate does) it opens.
func TestOpenMustExistRefusesANewDatabase(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		if cfg.DatabaseURL == "" {
			cfg.DataDir = filepath.Join(cfg.DataDir, "missing")
		}
		must := cfg
		must.MustExist = true
		st, err := store.Open(ctx, must)
		if err == nil {
			st.Close()
			t.Fatal("opened a database that does not exist")
		}
		if !errors.Is(err, store.ErrNoDatabase) {
			t.Fatalf("error %v, want ErrNoDatabase", err)
		}
		if cfg.DatabaseURL == "" {
			if !strings.Contains(err.Error(), cfg.DataDir) {
				t.Errorf("error %q does not name the data directory %s", err, cfg.DataDir)
			}
			if _, serr := os.Stat(cfg.DataDir); !os.IsNotExist(serr) {
				t.Errorf("the refused open created %s (%v)", cfg.DataDir, serr)
			}
			// A data directory without the database file is refused as well.
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Open(ctx, must); !errors.Is(err, store.ErrNoDatabase) || !strings.Contains(err.Error(), "overshare.db") {
				t.Errorf("empty data directory: %v, want ErrNoDatabase naming the file", err)
			}
		} else if !strings.Contains(err.Error(), "no Overshare tables") {
			t.Errorf("error %q does not say the tables are missing", err)
		}
		testdb.Open(t, cfg).Close()
		st = testdb.Open(t, must)
		if v, err := st.SchemaVersion(ctx); err != nil || v != store.LatestSchemaVersion() {
			t.Errorf("schema version %d, %v", v, err)
		}
	})
}

// Describe names the database without its password or parameters.
func TestDescribeHidesThePassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://app:s3cret@db.example:5433/overshare?sslmode=require&password=other": "PostgreSQL postgres://app@db.example:5433/overshare",
		"host=db.example port=5432 user=app password=s3cret dbname=overshare":            "PostgreSQL postgres://app@db.example:5432/overshare",
	} {
		got := store.Describe(store.Config{DatabaseURL: dsn})
		if got != want || strings.Contains(got, "s3cret") || strings.Contains(got, "other") {
			t.Errorf("Describe(%q) = %q, want %q", dsn, got, want)
		}
	}
	dir := t.TempDir()
	if got := store.Describe(store.Config{DataDir: dir}); got != "SQLite "+filepath.Join(dir, "overshare.db") {
		t.Errorf("Describe(SQLite in %s) = %q", dir, got)
	}
}
