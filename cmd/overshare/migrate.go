package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/jobs"
	"github.com/overshare/overshare/store"
)

// runMigrate applies pending database migrations (store.Open does, and
// jobs.Migrate for River's tables) and prints what it applied. The database comes from OVERSHARE_DATABASE_URL,
// else SQLite in OVERSHARE_DATA_DIR.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "", "Creates the database when it does not exist (SQLite in OVERSHARE_DATA_DIR, or the tables in\n"+
		"the PostgreSQL database of OVERSHARE_DATABASE_URL), applies pending migrations, and exits.", config.Migrate, stdout)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	env, err := config.Load(config.Migrate, os.Getenv)
	if err != nil {
		return err
	}
	cfg := storeConfig(env)
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, v := range st.AppliedMigrations() {
		fmt.Fprintf(stdout, "applied migration %d\n", v)
	}
	// River's tables (the sync queue) live in the same database.
	river, err := jobs.Migrate(ctx, st, cfg.Logger)
	if err != nil {
		return err
	}
	for _, v := range river {
		fmt.Fprintf(stdout, "applied River migration %d\n", v)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "schema at version %d: %s\n", v, store.Describe(cfg))
	return err
}
