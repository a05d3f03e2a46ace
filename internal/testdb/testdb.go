// Package testdb runs one test against both databases Overshare supports: a
// fresh PostgreSQL database and a fresh SQLite data directory.
//
// PostgreSQL comes from OVERSHARE_TEST_DATABASE_URL (default: the local
// server with trust auth). It is not optional: when it cannot be reached
// the "postgres" subtest fails, because CI guarantees it runs.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/overshare/overshare/store"
)

// DefaultURL is used when OVERSHARE_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	if v := os.Getenv("OVERSHARE_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultURL
}

// Each runs body twice, as subtests "postgres" and "sqlite", each with a
// freshly opened (and migrated) Store on an empty database.
func Each(t *testing.T, body func(t *testing.T, st *store.Store)) {
	t.Helper()
	EachConfig(t, func(t *testing.T, cfg store.Config) {
		body(t, Open(t, cfg))
	})
}

// EachConfig runs body as subtests "postgres" and "sqlite" with the Config of
// an empty database, not yet opened, for tests of Open itself.
func EachConfig(t *testing.T, body func(t *testing.T, cfg store.Config)) {
	t.Helper()
	t.Run(store.Postgres, func(t *testing.T) {
		body(t, PostgresConfig(t))
	})
	t.Run(store.SQLite, func(t *testing.T) {
		body(t, SQLiteConfig(t))
	})
}

// Open opens a Store and closes it when the test ends.
func Open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store (%s): %v", dialectOf(cfg), err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func dialectOf(cfg store.Config) string {
	if cfg.DatabaseURL != "" {
		return store.Postgres
	}
	return store.SQLite
}

// SQLiteConfig returns the Config of a fresh SQLite data directory.
func SQLiteConfig(t testing.TB) store.Config {
	return store.Config{DataDir: t.TempDir(), Logger: quietLogger()}
}

// PostgresConfig creates an empty database overshare_test_<random>, dropped
// (WITH FORCE) when the test ends, and returns its Config. The data
// directory (for the secret key file) is a fresh temporary directory.
func PostgresConfig(t testing.TB) store.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is required for this test and is not reachable (OVERSHARE_TEST_DATABASE_URL or %s): %v", DefaultURL, err)
	}
	defer conn.Close(ctx)
	name := "overshare_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse OVERSHARE_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return store.Config{DatabaseURL: u.String(), DataDir: t.TempDir(), Logger: quietLogger()}
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
