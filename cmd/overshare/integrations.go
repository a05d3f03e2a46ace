package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/models"
)

// quietLog is the store's logger for the short admin commands: warnings only, on stderr.
func quietLog(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// runIntegrations lists the integrations: a table, or JSON for scripts.
func runIntegrations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("integrations", "list [--json]", "Lists the connected tenants with both forms of their id (the global ID the API and the\n"+
		"dashboard show, and the id `overshare integrate` printed), status, last and next sync and\n"+
		"last error. Either id works wherever a command takes an integration.", config.Integrations, stdout)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unknown subcommand %q (there is one: list)", fs.Arg(0))
	}
	st, err := openForAdmin(ctx, config.Integrations, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Integrations(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeIntegrationsJSON(stdout, list)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(stderr, "no integrations yet: connect a tenant with `overshare integrate` or in the dashboard")
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRAW ID\tNAME\tTENANT\tSTATUS\tLAST SYNC\tNEXT SYNC\tLAST ERROR")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", model.EncodeID(model.TypeIntegration, in.ID), in.ID,
			oneLine(in.Name, 40), in.TenantID, in.Status, when(in.LastSyncAt), when(in.NextSyncAt), oneLine(in.LastError, 60))
	}
	return tw.Flush()
}

// integrationJSON is one integration for scripts, named as the GraphQL API names its fields.
type integrationJSON struct {
	ID                  string     `json:"id"`
	RawID               string     `json:"rawId"`
	Name                string     `json:"name"`
	TenantID            string     `json:"tenantId"`
	ClientID            string     `json:"clientId"`
	Status              string     `json:"status"`
	LastSyncAt          *time.Time `json:"lastSyncAt"`
	NextSyncAt          *time.Time `json:"nextSyncAt"`
	LastError           *string    `json:"lastError"`
	SyncIntervalSeconds int        `json:"syncIntervalSeconds"`
}

func writeIntegrationsJSON(w io.Writer, list []models.Integration) error {
	out := make([]integrationJSON, len(list))
	for i, in := range list {
		out[i] = integrationJSON{ID: model.EncodeID(model.TypeIntegration, in.ID), RawID: in.ID, Name: in.Name, TenantID: in.TenantID,
			ClientID: in.ClientID, Status: string(in.Status), LastSyncAt: in.LastSyncAt, NextSyncAt: in.NextSyncAt,
			SyncIntervalSeconds: int(in.SyncInterval() / time.Second)}
		if in.LastError != "" {
			out[i].LastError = &in.LastError
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// when is a time for the table: local, to the minute; "-" for never.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

// oneLine keeps a cell on one line and at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// runPause pauses an integration: the scheduler leaves it out until it is resumed.
func runPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setPaused(ctx, "pause", args, stdout, stderr, true)
}

// runResume makes a paused (or failed) integration active again.
func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setPaused(ctx, "resume", args, stdout, stderr, false)
}

func setPaused(ctx context.Context, name string, args []string, stdout, stderr io.Writer, pause bool) error {
	about := "Pauses an integration: scheduled syncs leave it out until `overshare resume`. Pausing one\n" +
		"that is paused already changes nothing and is not an error."
	envCommand := config.Pause
	if !pause {
		about = "Resumes a paused integration (or one stopped by an error, clearing the error): scheduled\n" +
			"syncs take it again. Resuming one that is active changes nothing and is not an error."
		envCommand = config.Resume
	}
	fs := newFlagSet(name, "ID", about+"\nID is the integration's id or its global ID (`overshare integrations list` shows both).", envCommand, stdout)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one integration id, got %d arguments", fs.NArg())
	}
	st, err := openForAdmin(ctx, envCommand, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integrationByArg(ctx, st, fs.Arg(0))
	if err != nil {
		return err
	}
	label := fmt.Sprintf("integration %q (%s)", in.Name, in.ID)
	switch {
	case pause && in.Status == models.IntegrationPaused:
		_, err = fmt.Fprintf(stdout, "%s is already paused; nothing changed\n", label)
		return err
	case !pause && in.Status != models.IntegrationPaused && in.Status != models.IntegrationError:
		_, err = fmt.Fprintf(stdout, "%s is not paused (status %s); nothing changed\n", label, in.Status)
		return err
	}
	if pause {
		// The last error stays visible while paused.
		if err := st.SetIntegrationStatus(ctx, in.ID, models.IntegrationPaused, in.LastError); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "paused %s: scheduled syncs leave it out until `overshare resume %s`\n", label, in.ID)
		return err
	}
	if err := st.SetIntegrationStatus(ctx, in.ID, models.IntegrationActive, ""); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "resumed %s (was %s): the scheduler syncs it again when it is due\n", label, in.Status)
	return err
}
