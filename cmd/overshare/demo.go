package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/gctune"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/store"
)

// demoFile is what `overshare demo` writes to <data-dir>/demo.json for
// people and scripts, and reads back on the next start so that passwords,
// secrets and the integration survive a restart. It holds secrets: mode 0600.
type demoFile struct {
	URL           string                      `json:"url"`
	GraphQLURL    string                      `json:"graphqlUrl"`
	Issuer        string                      `json:"issuer"`
	TokenURL      string                      `json:"tokenUrl"`
	Users         map[string]demoUser         `json:"users"`
	ScriptClients map[string]demoScriptClient `json:"scriptClients"`
	// IDPProfile and Scopes say which provider the development one imitates and what the
	// dashboard asks it for (`--idp-profile`).
	IDPProfile          string `json:"idpProfile"`
	Scopes              string `json:"scopes"`
	IntegrationID       string `json:"integrationId"`
	SimulatorControlURL string `json:"simulatorControlUrl"`
	SimulatorSecret     string `json:"simulatorSecret"`
	SimulatorClientID   string `json:"simulatorClientId"`
	SimulatorCAFile     string `json:"simulatorCaFile"`
	// SimulatorCertificateFile is the PEM (certificate and key) registered for the simulated
	// app, to connect or rotate with a certificate.
	SimulatorCertificateFile string `json:"simulatorCertificateFile"`
	TenantSeed               int64  `json:"tenantSeed"`
	// TenantNow is when the tenant was first generated: with the seed it gives the same tenant
	// again (its dates and link expiries), so the stored data still matches after a restart.
	TenantNow time.Time `json:"tenantNow"`
}

type demoUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type demoScriptClient struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// runDemo runs everything in one process: the embedded SQLite database, the
// Graph simulator with a sample tenant, the development OIDC provider under
// /oidc, River on SQLite and the server; it connects the simulated tenant
// and starts its first sync. It is long because it wires the whole demo in the order things
// must start (flags, simulator, provider, server, first sync, demo.json); each step that holds
// logic is a function of its own.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]", "Runs everything in one process: the embedded SQLite database in --data-dir (created\n"+
		"when missing), the Graph simulator with a sample tenant, a development OpenID Connect provider\n"+
		"and the server; it connects the simulated tenant and starts its first sync. It reads no\n"+
		"OVERSHARE_* variables.", "", stdout)
	var (
		addr     = fs.String("addr", "127.0.0.1:8080", "listen address of the dashboard and API")
		dataDir  = fs.String("data-dir", "./data", "where the database, keys and demo.json live")
		users    = fs.Int("users", 50, "users in the simulated tenant (first start only)")
		files    = fs.Int("files-per-user", 200, "files per OneDrive in the simulated tenant")
		share    = fs.Float64("share-ratio", 0.1, "fraction of items with sharing of their own")
		budget   = fs.Int("ru-per-minute", graphsim.RUByLicenceBand, "the simulated app's resource units per minute: -1 = SharePoint's budget for the tenant's licences, 0 = unlimited")
		interval = fs.Duration("schedule-interval", time.Minute, "how often due syncs are looked for")
		verbose  = fs.Bool("verbose", false, "log at info level (default: warnings only)")
		notify   = fs.Bool("notifications", true, "receive the simulator's change notifications (false: find changes by the scheduled sync only)")
		profile  = fs.String("idp-profile", "default", "shape of the development identity provider's tokens: default, entra (Entra ID v2.0) or keycloak")
	)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	idpProfile, err := devidp.ParseProfile(*profile)
	if err != nil {
		return fmt.Errorf("--idp-profile: %w", err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(server.LogHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	gctune.Apply(os.Getenv)
	if err := os.MkdirAll(filepath.Join(*dataDir, "graphsim"), 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	statePath := filepath.Join(*dataDir, "demo.json")
	prev, err := readDemoFile(statePath)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()

	// The simulated tenant: the same seed and app credentials as last time,
	// so the stored integration still signs in.
	seed, genAt := prev.TenantSeed, prev.TenantNow
	if seed == 0 {
		seed = time.Now().UnixNano()%1_000_000 + 1
	}
	if genAt.IsZero() {
		genAt = time.Now().UTC().Truncate(time.Second)
	}
	hookLn, hookCert, hookPool, err := webhookListener()
	if err != nil {
		return err
	}
	defer hookLn.Close()
	sim, err := graphsim.Start(ctx, graphsim.Options{
		NotificationRootCAs: hookPool,
		Tenant:              tenant.Config{Seed: seed, Users: *users, FilesPerUser: *files, ShareRatio: *share, Now: genAt},
		RUPerMinute:         *budget,
		ClientID:            prev.SimulatorClientID,
		ClientSecret:        prev.SimulatorSecret,
		CADir:               filepath.Join(*dataDir, "graphsim"),
		Logger:              log.With("component", "graphsim"),
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	info := sim.Info()

	setup, err := devidp.DemoFor(idpProfile, base+"/oidc", []string{base + "/auth/callback", base + "/auth/silent"})
	if err != nil {
		return err
	}
	opts := setup.Options
	reuseDemoSecrets(&opts, prev)
	idp, err := devidp.New(opts)
	if err != nil {
		return err
	}

	a, err := startApp(ctx, appConfig{
		Store: store.Config{DataDir: *dataDir, Logger: log},
		Graph: msgraph.Config{AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile},
		Auth: auth.Config{Issuer: idp.Issuer(), Audience: setup.Audience, RolesClaim: setup.RolesClaim,
			AdminValues: setup.AdminRoles, ViewerValues: setup.ViewerRoles, Scopes: setup.Scopes,
			// The verifier discovers the provider before the server listens.
			HTTPClient: idp.HTTPClient()},
		SPAClientID: setup.SPAClientID,
		PublicURL:   base,
		WebhookURL:  webhookURL(*notify, hookLn),
		Mount:       map[string]http.Handler{"/oidc/": idp},
		Workers:     1,
		Interval:    *interval,
		RateLimits:  rateLimits(20, 50), // serve's defaults
		Logger:      log,
	})
	if err != nil {
		return err
	}
	integ, err := demoIntegration(ctx, a.store, prev.IntegrationID, info)
	if err != nil {
		a.close()
		return err
	}

	hooks := &http.Server{Handler: a.receiver, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{hookCert}, MinVersion: tls.VersionTLS12}}
	go hooks.ServeTLS(hookLn, "", "")
	defer hooks.Close()
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()

	if integ.LastSyncAt == nil {
		// Waits for the worker to pick the job up; the server already answers.
		go func() {
			if _, err := a.jobs.StartSync(ctx, integ.ID, true); err != nil && ctx.Err() == nil {
				log.Warn("start the first sync", "integration", integ.ID, "error", err)
			}
		}()
	}

	df := newDemoFile(base, idp, opts, setup.Scopes, idpProfile, integ.ID, info)
	df.TenantSeed, df.TenantNow = seed, genAt
	if err := writeDemoFile(statePath, df); err != nil {
		// Without it nobody can log in: stop.
		log.Error("write demo.json", "error", err)
		return errors.Join(err, <-served)
	}
	printDemo(stdout, df, statePath)
	return <-served
}

// newDemoFile is what demo.json tells people and scripts: addresses, log-ins, script clients
// and the simulator's control.
func newDemoFile(base string, idp *devidp.Provider, opts devidp.Options, scopes []string, profile devidp.Profile, integrationID string, info graphsim.Info) demoFile {
	df := demoFile{
		URL: base + "/", GraphQLURL: base + "/graphql", Issuer: idp.Issuer(), TokenURL: idp.TokenURL(),
		Users: map[string]demoUser{}, ScriptClients: map[string]demoScriptClient{},
		IDPProfile: cmp.Or(string(profile), "default"), Scopes: strings.Join(scopes, " "),
		IntegrationID: integrationID, SimulatorControlURL: info.ControlURL, SimulatorSecret: info.ClientSecret,
		SimulatorClientID: info.ClientID, SimulatorCAFile: info.CAFile, SimulatorCertificateFile: info.CertificateFile,
	}
	for _, u := range opts.Users {
		df.Users[u.Username] = demoUser{Username: u.Username, Password: u.Password}
	}
	for _, c := range opts.Clients {
		if role := scriptRole(c.ID); role != "" {
			df.ScriptClients[role] = demoScriptClient{ClientID: c.ID, ClientSecret: c.Secret}
		}
	}
	return df
}

// demoIntegration returns the saved integration, or connects the simulated
// tenant (checking its credentials first, as `integrate` does).
func demoIntegration(ctx context.Context, st *store.Store, savedID string, info graphsim.Info) (*models.Integration, error) {
	if savedID != "" {
		in, err := st.Integration(ctx, savedID)
		if err == nil {
			return in, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	err := sharing.CredentialChecker{Defaults: msgraph.Config{AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile, Version: currentVersion()}}.
		Check(ctx, info.TenantID, info.ClientID, store.Credential{Secret: info.ClientSecret})
	if err != nil {
		return nil, fmt.Errorf("the simulated tenant refused its own credentials: %w", err)
	}
	in := &models.Integration{Name: "Contoso (simulated)", TenantID: info.TenantID, ClientID: info.ClientID}
	if err := st.CreateIntegration(ctx, in, info.ClientSecret); err != nil {
		return nil, err
	}
	return in, nil
}

// reuseDemoSecrets puts last run's passwords and client secrets back, so
// that saved logins and scripts keep working.
func reuseDemoSecrets(opts *devidp.Options, prev demoFile) {
	for i, u := range opts.Users {
		if p, ok := prev.Users[u.Username]; ok && p.Password != "" {
			opts.Users[i].Password = p.Password
		}
	}
	for i, c := range opts.Clients {
		if p, ok := prev.ScriptClients[scriptRole(c.ID)]; ok && p.ClientID == c.ID && p.ClientSecret != "" && c.Secret != "" {
			opts.Clients[i].Secret = p.ClientSecret
		}
	}
}

func scriptRole(clientID string) string {
	switch clientID {
	case devidp.DemoAdminScriptClientID:
		return "admin"
	case devidp.DemoViewerScriptClientID:
		return "viewer"
	}
	return ""
}

func readDemoFile(path string) (demoFile, error) {
	var df demoFile
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return df, nil
	}
	if err != nil {
		return df, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &df); err != nil {
		return df, fmt.Errorf("read %s: %w (delete it to start afresh)", path, err)
	}
	return df, nil
}

// writeDemoFile replaces the file atomically, owner-only, so a script that
// waits for it never reads half of it.
func writeDemoFile(path string, df demoFile) error {
	b, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-*.json")
	if err != nil {
		return fmt.Errorf("write demo.json: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write demo.json: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write demo.json: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write demo.json: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write demo.json: %w", err)
	}
	return nil
}

// printDemo tells the person at the terminal what to open and how to log
// in. Passwords and secrets stay in demo.json (owner-only), never on the
// terminal or in logs.
func printDemo(w io.Writer, df demoFile, path string) {
	fmt.Fprintf(w, `Overshare demo is running.

  Open        %s
  Log in as   admin  (can stop sharing) or viewer (sees counts only)
  Passwords   jq .users %s
  GraphQL     %s
  Token URL   %s (client credentials: jq .scriptClients %s)

  Provider    %s (the dashboard asks for: %s)

The simulated tenant is syncing now. Press Ctrl+C to stop; the data stays in %s.
`, df.URL, path, df.GraphQLURL, df.TokenURL, path, df.IDPProfile, df.Scopes, filepath.Dir(path))
}

// webhookListener is where the demo receives the simulator's change notifications: Graph
// sends them only to https URLs, so a TLS listener of its own, with a certificate the
// simulator is told to trust (the pool).
func webhookListener() (net.Listener, tls.Certificate, *x509.CertPool, error) {
	cert, pool, err := graphsim.LoopbackTLS()
	if err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("webhook certificate: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("listen for change notifications: %w", err)
	}
	return ln, cert, pool, nil
}

// webhookURL is where the simulator sends change notifications, "" when the demo polls only.
func webhookURL(notify bool, ln net.Listener) string {
	if !notify {
		return ""
	}
	return "https://" + ln.Addr().String()
}
