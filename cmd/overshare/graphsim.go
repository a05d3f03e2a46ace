package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// runGraphsim serves the Microsoft Graph simulator until ctx ends. The one
// line on stdout is the connection Info as JSON (it holds the client secret,
// which is the point: the caller needs it); logs go to stderr.
func runGraphsim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("graphsim", "[flags]", "Serves the Microsoft Graph simulator until interrupted. Its one line on stdout is how to\n"+
		"connect to it, as JSON (the app's client secret included).", "", stdout)
	var (
		addr        = fs.String("addr", "127.0.0.1:0", "listen address")
		seed        = fs.Int64("seed", 1, "tenant seed: the same seed gives the same tenant")
		users       = fs.Int("users", 50, "number of directory users")
		filesPer    = fs.Int("files-per-user", 200, "average number of files per OneDrive")
		shareRatio  = fs.Float64("share-ratio", 0.1, "fraction of items with sharing of their own (0..1)")
		ruPerMinute = fs.Int("ru-per-minute", graphsim.RUByLicenceBand, "the app's resource units per minute: -1 = SharePoint's budget for the tenant's licence count (1,200 up to 1,000 licences), 0 = unlimited")
		noLocks     = fs.Bool("no-drive-locks", false, "leave every drive open (by default a few are locked noAccess or readOnly, or closed to the app)")
		allDrives   = fs.Bool("all-drives-provisioned", false, "provision every OneDrive (by default a few members' OneDrives appear only when provisioned through /_sim/drives/provision)")
		faultRate   = fs.Float64("fault-rate", 0, "fraction of Graph requests that fail (0..1)")
		faultKinds  = fs.String("fault-kinds", "", "comma-separated fault kinds ("+strings.Join(graphsim.FaultKinds(), ",")+"); empty = all")
		inhFrom     = fs.String("inherited-from", tenant.InheritedFromAbsent, "how inherited permissions carry inheritedFrom: absent (OneDrive for Business), empty ({}), links (on links only) or full")
		plainPerms  = fs.Bool("plain-permissions", false, "generate no permission kinds of the field (existingAccess links, limited access, Everyone except external users, applications)")
		tokenTTL    = fs.Duration("token-ttl", time.Hour, "lifetime of issued access tokens")
		lenient     = fs.String("lenient", "", "comma-separated field behaviours of Graph to switch off for focused tests ("+
			strings.Join(tenant.LenientNames(), ",")+", or all); default none: the simulator is as harsh as Graph")
		linkMaxDays = fs.Int("anyone-link-max-days", tenant.DefaultAnyoneLinkMaxDays, "the tenant's expiry policy for anonymous links: longer expiries are shortened, clearing is refused (0 = no policy)")
		reportPw    = fs.Bool("report-link-passwords", false, "report hasPassword truthfully, as OneDrive Personal does (OneDrive for Business reports false)")
		now         = fs.String("now", "", "generate the tenant as of this RFC 3339 time (default: now)")
	)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	var kinds []string
	for _, k := range strings.Split(*faultKinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, k)
		}
	}
	lax, err := tenant.ParseLenient(*lenient)
	if err != nil {
		return fmt.Errorf("--lenient: %w", err)
	}
	var genAt time.Time
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		genAt = t
	}
	if *linkMaxDays < 0 || *linkMaxDays > 730 {
		return fmt.Errorf("--anyone-link-max-days %d: want 0 (no policy) to 730", *linkMaxDays)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := graphsim.Start(ctx, graphsim.Options{
		Addr: *addr,
		Tenant: tenant.Config{
			Seed: *seed, Users: *users, FilesPerUser: *filesPer, ShareRatio: *shareRatio,
			InheritedFrom: *inhFrom, PlainPermissions: *plainPerms, Lenient: lax, Now: genAt, ReportLinkPasswords: *reportPw,
			NoDriveLocks: *noLocks, AllDrivesProvisioned: *allDrives,
			LinkPolicy: tenant.LinkPolicy{Off: *linkMaxDays == 0, MaxDays: *linkMaxDays},
		},
		RUPerMinute: *ruPerMinute,
		FaultRate:   *faultRate,
		FaultKinds:  kinds,
		TokenTTL:    *tokenTTL,
		Logger:      log,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	line, err := json.Marshal(srv.Info())
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("graphsim stopping")
	return srv.Close()
}
