package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/frontend"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/internal/gctune"
	"github.com/overshare/overshare/internal/tracing"
	"github.com/overshare/overshare/jobs"
	"github.com/overshare/overshare/metrics"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
	"github.com/overshare/overshare/watch"
)

// runServe is the production server, configured by the environment
// (internal/config; `overshare serve --help` lists it): the database, OIDC,
// Graph endpoints, allowed origins. Logs are JSON on stderr. SIGINT/SIGTERM
// shut it down gracefully: websockets first, then requests in flight, then
// running syncs (cancelled, checkpoints kept; River runs them again after a
// restart).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "", "Runs the server: the GraphQL API, the dashboard and the sync workers; it creates the\n"+
		"database or brings its schema up to date first. It takes no flags; the environment configures it.", config.Serve, stdout)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	env, err := config.Load(config.Serve, os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(server.LogHandler(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: env.LogLevel})))
	traced := tracing.Enabled(os.Getenv)
	if traced {
		shutdown, err := tracing.Start(ctx, currentVersion())
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("flush traces", "error", err)
			}
		}()
		log.Info("tracing on: spans go to the OTLP endpoint of the OTEL_* variables")
	}
	gc := gctune.Apply(os.Getenv)
	log.Info("garbage collector", "gc_percent", gc.Percent, "memory_limit_bytes", gc.MemoryLimit, "container_limit_bytes", gc.ContainerLimit)
	storeCfg := storeConfig(env)
	storeCfg.Logger = log
	authCfg := authConfig(env)
	if authCfg.Issuer == "" || authCfg.Audience == "" {
		return errors.New("OVERSHARE_OIDC_ISSUER and OVERSHARE_OIDC_AUDIENCE are required")
	}
	addr := env.Addr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()
	a, err := startApp(ctx, appConfig{
		Store:            storeCfg,
		Graph:            graphEndpoints(env),
		Auth:             authCfg,
		AllowedOrigins:   env.AllowedOrigins,
		TrustedProxies:   env.TrustedProxies,
		SPAClientID:      env.OIDCClientID,
		PublicURL:        env.PublicURL,
		Workers:          env.SyncWorkers,
		Interval:         env.ScheduleInterval,
		Refresh:          refreshConfig{RootRefresh: env.RootRefreshInterval, Sweep: env.SweepInterval},
		DriveRecheck:     env.DriveRecheckInterval,
		HistoryRetention: env.HistoryRetention,
		MetricsToken:     env.MetricsToken,
		RateLimits:       rateLimits(env.RateLimit, env.RateLimitAddress),
		AudienceParam:    audienceParam(env),
		Tracing:          traced,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	if env.MetricsAddr != "" {
		if err := a.serveMetrics(ctx, env.MetricsAddr); err != nil {
			a.close()
			return err
		}
	} else if env.MetricsToken == "" {
		log.Info("metrics off: set OVERSHARE_METRICS_ADDR or OVERSHARE_METRICS_TOKEN to serve /metrics")
	}
	log.Info("overshare serving", "addr", ln.Addr().String(), "version", currentVersion(), "database", a.store.Dialect())
	return a.serve(ctx, ln)
}

// appConfig is what serve and demo have in common.
type appConfig struct {
	Store          store.Config
	Graph          msgraph.Config // endpoints; credentials come from each integration
	Auth           auth.Config
	AllowedOrigins []string
	TrustedProxies []netip.Prefix
	SPAClientID    string
	PublicURL      string
	// WebhookURL is the https base URL Graph sends change notifications to (default
	// PublicURL); the demo's is a TLS listener of its own.
	WebhookURL   string
	Mount        map[string]http.Handler
	Frontend     fs.FS // default: the embedded SPA
	Workers      int
	Interval     time.Duration
	Refresh      refreshConfig
	DriveRecheck time.Duration // users without a OneDrive are looked up again after this; 0 = the syncer's default
	// HistoryRetention: sharing history older than this is pruned; 0 = the jobs' default.
	HistoryRetention time.Duration
	MetricsToken     string              // serves /metrics on the public address to its bearers
	RateLimits       [2]server.RateLimit // per principal, per address; zero: none
	AudienceParam    string              // the audience the SPA names in its sign-in request, "" none
	Tracing          bool                // a span per request (internal/tracing exports them)
	Logger           *slog.Logger
}

// refreshConfig is the syncer's scheduled refreshes; zero values take the
// syncer's defaults.
type refreshConfig struct {
	RootRefresh, Sweep time.Duration
}

// app is the running pieces, stopped in reverse order.
type app struct {
	log    *slog.Logger
	store  *store.Store
	bus    events.Bus
	jobs   *jobs.Service
	server *server.Server
	// receiver is the change-notification endpoint, mounted on the server's routes.
	receiver http.Handler
	closer   []func()
}

// startApp opens the database (migrating it and River's tables), starts the
// job workers and builds the HTTP server; serve runs it.
func startApp(ctx context.Context, cfg appConfig) (_ *app, err error) {
	log := cfg.Logger
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.store, err = store.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	a.closer = append(a.closer, func() { a.store.Close() })
	if a.store.Dialect() == store.Postgres {
		// Progress reaches the websockets of every process sharing the database.
		pg, err := events.NewPostgres(ctx, a.store.PgxPool(), log)
		if err != nil {
			return nil, err
		}
		a.bus = pg
		a.closer = append(a.closer, pg.Close)
	} else {
		a.bus = events.NewLocal()
	}
	publishSharingChanges(ctx, a.store, a.bus, log)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, a.store, log)
	graphDefaults := cfg.Graph
	graphDefaults.Version = currentVersion()
	graphDefaults.OnRequest = m.GraphRequest
	sy := syncer.New(syncer.Config{Store: a.store, Bus: a.bus, Version: currentVersion(), Logger: log, GraphDefaults: graphDefaults,
		RootRefreshInterval: cfg.Refresh.RootRefresh, SweepInterval: cfg.Refresh.Sweep,
		DriveRecheckInterval: cfg.DriveRecheck, Observer: m})
	w := watch.New(watch.Config{Store: a.store, PublicURL: cmp.Or(cfg.WebhookURL, cfg.PublicURL), GraphDefaults: graphDefaults,
		Version: currentVersion(), Logger: log})
	a.jobs, err = jobs.New(ctx, jobs.Config{Store: a.store, Syncer: sy, Bus: a.bus, Logger: log,
		Workers: cfg.Workers, PeriodicInterval: cfg.Interval, Watch: w, HistoryRetention: cfg.HistoryRetention})
	if err != nil {
		return nil, err
	}
	a.receiver = watch.NewReceiver(watch.ReceiverConfig{Store: a.store, Enqueue: a.jobs, Observer: m, Logger: log})
	mount := map[string]http.Handler{watch.NotificationPath: a.receiver, watch.LifecyclePath: a.receiver}
	for p, h := range cfg.Mount {
		mount[p] = h
	}
	if err := a.jobs.Start(ctx); err != nil {
		return nil, err
	}
	a.closer = append(a.closer, func() {
		// Running syncs are cancelled and keep their checkpoints.
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.jobs.Stop(sctx); err != nil {
			log.Warn("stop jobs", "error", err)
		}
	})
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return nil, err
	}
	spa := cfg.Frontend
	if spa == nil {
		spa = frontend.Dist()
	}
	a.server, err = server.New(server.Config{
		Store:    a.store,
		Verifier: verifier,
		GraphQL: graph.Options{
			Events:      a.bus,
			Syncer:      a.jobs.Syncs(),
			Sharing:     sharing.New(sharing.Config{Store: a.store, Logger: log, GraphDefaults: graphDefaults}),
			Credentials: sharing.CredentialChecker{Defaults: graphDefaults, Logger: log},
			Logger:      log,
		},
		AllowedOrigins:        cfg.AllowedOrigins,
		TrustedProxies:        cfg.TrustedProxies,
		Frontend:              spa,
		OIDCIssuer:            cfg.Auth.Issuer,
		OIDCClientID:          cfg.SPAClientID,
		OIDCScopes:            cfg.Auth.Scopes,
		OIDCAudienceParam:     cfg.AudienceParam,
		PublicURL:             cfg.PublicURL,
		Version:               currentVersion(),
		Mount:                 mount,
		Registry:              reg,
		MetricsToken:          cfg.MetricsToken,
		RateLimitPerPrincipal: cfg.RateLimits[0],
		RateLimitPerAddress:   cfg.RateLimits[1],
		Tracing:               cfg.Tracing,
		Logger:                log,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// serveMetrics serves /metrics on an address of its own until ctx ends.
func (a *app) serveMetrics(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("OVERSHARE_METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.server.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	a.closer = append(a.closer, func() { srv.Close() })
	a.log.Info("metrics serving", "addr", ln.Addr().String())
	return nil
}

// serve serves HTTP on ln until ctx ends, then stops everything.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	defer a.close()
	err := a.server.Serve(ctx, ln)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("overshare stopped")
	return nil
}

func (a *app) close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
	a.closer = nil
}

// audienceParam is the audience the dashboard names when it signs in, "" when it names none.
func audienceParam(env config.Config) string {
	if env.OIDCAudienceParam {
		return env.OIDCAudience
	}
	return ""
}

// rateLimits turns the two settings (requests a second per principal and per address) into
// the server's buckets: bursts of 5× and 4× (a dashboard opening a page sends a handful of
// queries at once, some weighted).
func rateLimits(perPrincipal, perAddress int) [2]server.RateLimit {
	return [2]server.RateLimit{
		{Rate: float64(perPrincipal), Burst: 5 * perPrincipal},
		{Rate: float64(perAddress), Burst: 4 * perAddress},
	}
}

// publishSharingChanges has each commit that recorded sharing history tell the watchers of
// sharingChanged on bus, off the writer's goroutine: a NOTIFY must not hold up a sync page.
// The function it returns waits for the notices under way, for a process about to exit.
func publishSharingChanges(ctx context.Context, st *store.Store, bus events.Bus, log *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	st.OnSharingChange(func(integrationID string) {
		wg.Go(func() {
			c := events.SharingChange{IntegrationID: integrationID, At: time.Now()}
			if err := bus.PublishSharing(context.WithoutCancel(ctx), c); err != nil {
				log.Warn("sharing change not published", "integration", integrationID, "error", err)
			}
		})
	})
	return wg.Wait
}
