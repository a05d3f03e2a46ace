package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// openExisting opens the configured database for a command that works on one that exists. It
// says on stderr which database (never a password) and refuses, naming it, one that was never
// created, unless createFlag (the command's flag asking to create it; "" when it has none) was
// given, which create reports.
func openExisting(ctx context.Context, env config.Config, log *slog.Logger, stderr io.Writer, createFlag string, create bool) (*store.Store, error) {
	cfg := storeConfig(env)
	cfg.Logger = log
	cfg.MustExist = !create
	fmt.Fprintf(stderr, "database: %s\n", store.Describe(cfg))
	st, err := store.Open(ctx, cfg)
	if errors.Is(err, store.ErrNoDatabase) {
		hint := "run `overshare migrate` to create it (`overshare serve` and `overshare demo` create it too), or set OVERSHARE_DATABASE_URL or OVERSHARE_DATA_DIR to the database you meant"
		if createFlag != "" {
			hint += ", or pass " + createFlag + " to create it here"
		}
		return nil, fmt.Errorf("%w; %s", err, hint)
	}
	return st, err
}

// openForAdmin is how the admin's commands on an existing database (integrations, pause,
// resume, export) open it: command's variables, quiet logs, never a new database.
func openForAdmin(ctx context.Context, command string, stderr io.Writer) (*store.Store, error) {
	env, err := config.Load(command, os.Getenv)
	if err != nil {
		return nil, err
	}
	return openExisting(ctx, env, quietLog(stderr), stderr, "", false)
}

// integrationByArg finds the integration an argument names, by its id as `overshare integrate`
// prints it or by the global ID the API and the dashboard show (`overshare integrations list`
// shows both).
func integrationByArg(ctx context.Context, st *store.Store, arg string) (*models.Integration, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return nil, usageErrorf("no integration given")
	}
	if parts, err := model.DecodeID(arg, model.TypeIntegration); err == nil {
		in, err := st.Integration(ctx, parts[0])
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no integration %s in this database (the global ID %s names it)", parts[0], model.Clip(arg))
		}
		return in, err
	}
	in, err := st.Integration(ctx, arg)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return in, err
	}
	if typ, _, derr := model.DecodeAnyID(arg); derr == nil {
		return nil, fmt.Errorf("%q is the ID of a %s, not of an integration", model.Clip(arg), typ)
	}
	return nil, fmt.Errorf("%q is neither the id nor the global ID of an integration in this database; `overshare integrations list` shows both", model.Clip(arg))
}

// rowKeyArg reads the id of a user or drive (typ, a model.Type*) of the integration: its Graph id
// or its global ID.
func rowKeyArg(arg, typ, integrationID string) (string, error) {
	arg = strings.TrimSpace(arg)
	if parts, err := model.DecodeID(arg, typ); err == nil {
		if parts[0] != integrationID {
			return "", fmt.Errorf("%s %q belongs to another integration", typ, model.Clip(arg))
		}
		return parts[1], nil
	}
	return arg, nil
}
