// Package server is Overshare's HTTP face: POST /graphql and the graphql-transport-ws websocket
// on the same path, /healthz, /readyz, Prometheus /metrics, /api/config for the SPA, and the SPA
// itself. It wires authentication (auth), the GraphQL API (graph) and the request limits that
// belong to HTTP (origin, body size).
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/store"
)

// Config wires a Server.
type Config struct {
	Store    *store.Store
	Verifier *auth.Verifier
	// GraphQL configures the API; its Store is set from Store when empty.
	GraphQL graph.Options
	// AllowedOrigins are the browser origins ("https://overshare.example.com") besides the
	// server's own that may call the API (CORS) and open websockets. Never a wildcard.
	AllowedOrigins []string
	// Frontend is the built SPA (index.html at its root); nil serves no SPA.
	Frontend fs.FS
	// OIDCIssuer and OIDCClientID are what the SPA logs in with, told by /api/config.
	OIDCIssuer   string
	OIDCClientID string
	// OIDCScopes are the scopes the SPA requests, told by /api/config (default
	// auth.DefaultScopes): with Entra ID, one of them must be the API's.
	OIDCScopes []string
	// OIDCAudienceParam, when set, is sent by the SPA as audience= in its sign-in request:
	// Ory Hydra and Auth0 put an API in a token's aud only when the request names it.
	OIDCAudienceParam string
	// PublicURL is the server's external base URL ("https://overshare.example.com"); its origin
	// is allowed like AllowedOrigins. Empty derives the GraphQL URLs in /api/config from each
	// request's Host.
	PublicURL string
	// TrustedProxies are the addresses of reverse proxies whose X-Forwarded-Proto and
	// X-Forwarded-Host are believed (the scheme and host the dashboard is told, the same-origin
	// check, HSTS); everyone else's are ignored. Empty: none.
	TrustedProxies []netip.Prefix
	Version        string
	// MaxBodyBytes bounds a request body (default 1 MiB).
	MaxBodyBytes int64
	// WebsocketInitTimeout is how long a websocket may stay without connection_init (default 10 s).
	WebsocketInitTimeout time.Duration
	// MaxSubscriptionsPerSocket caps the subscriptions running on one websocket (default 20);
	// MaxSocketsPerPrincipal the websockets one principal holds open (default 20). A subscribe
	// over the first is answered with an error; a connection_init over the second is closed 4429.
	MaxSubscriptionsPerSocket, MaxSocketsPerPrincipal int
	// BodyReadTimeout is how long a POST body may take to arrive (default 20 s): a client that
	// stalls mid-body holds a connection and a goroutine, and costs nothing to send.
	BodyReadTimeout time.Duration
	// RateLimitPerAddress bounds /graphql requests from one client address, before the token
	// is checked; RateLimitPerPrincipal those of one user or script client, weighted (overview
	// and totalCount count 5). Over either: 429 with Retry-After. Zero: no limit.
	RateLimitPerAddress, RateLimitPerPrincipal RateLimit
	// Mount adds handlers by pattern, e.g. "/oidc/" for the demo's identity provider.
	Mount map[string]http.Handler
	// Registry receives the server's metrics and holds the others' (package metrics, the Go
	// runtime's); /metrics serves it. Nil: a private registry.
	Registry *prometheus.Registry
	// MetricsToken, when set, serves /metrics on the public address to requests that carry
	// it as a bearer token. Empty: /metrics is not on the public address (404), and an
	// operator serves MetricsHandler on an address of their own (OVERSHARE_METRICS_ADDR).
	MetricsToken string
	// Tracing wraps every request in an OpenTelemetry span (package internal/tracing installs
	// the exporter when the OTLP variables ask for it).
	Tracing bool
	Logger  *slog.Logger
}

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 1 << 20

// Server is the HTTP server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	verifier *auth.Verifier
	gql      *handler.Server
	metrics  *metrics
	registry *prometheus.Registry
	handler  http.Handler
	origins  map[string]bool

	perAddress, perPrincipal *keyedLimiter
	tarpits                  chan struct{} // slots of requests held before their 429

	wsMu     sync.Mutex
	wsConns  map[*wsConn]struct{}
	draining bool

	httpMu sync.Mutex
	http   *http.Server
}

// New builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Verifier == nil {
		return nil, errors.New("server: a store and a token verifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxSubscriptionsPerSocket <= 0 {
		cfg.MaxSubscriptionsPerSocket = 20
	}
	if cfg.MaxSocketsPerPrincipal <= 0 {
		cfg.MaxSocketsPerPrincipal = 20
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = 20 * time.Second
	}
	if cfg.WebsocketInitTimeout <= 0 {
		cfg.WebsocketInitTimeout = 10 * time.Second
	}
	if cfg.GraphQL.Store == nil {
		cfg.GraphQL.Store = cfg.Store
	}
	if cfg.GraphQL.Logger == nil {
		cfg.GraphQL.Logger = cfg.Logger
	}
	s := &Server{cfg: cfg, log: cfg.Logger, verifier: cfg.Verifier, wsConns: map[*wsConn]struct{}{}, origins: map[string]bool{},
		perAddress: newKeyedLimiter(cfg.RateLimitPerAddress), perPrincipal: newKeyedLimiter(cfg.RateLimitPerPrincipal),
		tarpits: make(chan struct{}, tarpitSlots)}
	origins := cfg.AllowedOrigins
	if cfg.PublicURL != "" {
		// Behind a proxy the Host the server sees may differ from the public one.
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("server: public URL %q is not an absolute URL", cfg.PublicURL)
		}
		origins = append(append([]string(nil), origins...), u.Scheme+"://"+u.Host)
	}
	for _, o := range origins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("server: allowed origin %q: %w", o, err)
		}
		s.origins[norm] = true
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)
	s.registry = reg

	gql, err := graph.New(cfg.GraphQL)
	if err != nil {
		return nil, err
	}
	var patterns []string
	for o := range s.origins {
		patterns = append(patterns, o) // "scheme://host" patterns match scheme and host exactly
	}
	gql.AddTransport(wsTransport{inner: transport.Websocket{
		Implementation: wsImplementation{
			s: s,
			// Origins were checked before the upgrade (checkOrigin); these patterns only keep
			// coder/websocket's own same-host check from refusing the allowed ones.
			accept:      coderws.AcceptOptions{OriginPatterns: patterns},
			initTimeout: cfg.WebsocketInitTimeout,
		},
		InitFunc:         s.wsInit,
		ErrorFunc:        func(ctx context.Context, err error) { s.log.DebugContext(ctx, "websocket", "error", err) },
		PingPongInterval: 25 * time.Second,
		MissingPongOk:    true,
	}})
	gql.AddTransport(transport.POST{})
	gql.AroundResponses(s.metrics.countErrors)
	gql.AroundOperations(s.metrics.timeOperations)
	s.gql = gql

	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's root handler (for tests and for embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx is done, then shuts down gracefully: websockets are closed first
// (with 1001, so clients reconnect elsewhere), then in-flight requests get up to 10 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.httpMu.Lock()
	s.http = srv
	s.httpMu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown closes websockets, then stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	n := s.closeWebsockets()
	s.log.InfoContext(ctx, "shutting down", "websockets_closed", n)
	s.httpMu.Lock()
	srv := s.http
	s.httpMu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// normalizeOrigin returns scheme://host[:port] in lower case, refusing wildcards and paths.
func normalizeOrigin(o string) (string, error) {
	if strings.Contains(o, "*") {
		return "", errors.New("wildcards are not allowed: list each origin")
	}
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", errors.New("an origin is scheme://host[:port]")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
