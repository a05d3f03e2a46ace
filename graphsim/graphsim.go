// Package graphsim is a local stand-in for Microsoft Graph v1.0 and Entra ID
// sign-in, faithful enough that the real azidentity and msgraph-sdk-go clients
// run against it unchanged: only the authority host, the Graph base URL and an
// extra CA differ from production.
//
// One TLS listener (a self-signed CA written to Info.CAFile) serves
//   - sign-in: /{tenant}/v2.0/.well-known/openid-configuration and
//     /{tenant}/oauth2/v2.0/token (client credentials with the client secret or a
//     client assertion signed with the app's certificate, Info.CertificateFile),
//     with Entra ID's errors;
//   - Graph under /v1.0: users, subscribedSkus, organization, drives, delta, permissions,
//     $batch and subscriptions, with Graph's error bodies and request-id headers;
//   - a control API under /_sim (bearer = the client secret) for tests.
//
// Throttling follows SharePoint's resource units (RU) per minute: getting a
// drive costs 1, delta with a token 1, delta without a token 2, every
// permission operation 5. Directory calls (/users, /subscribedSkus,
// /organization) and /subscriptions are not SharePoint calls and cost
// nothing here; Graph
// throttles those by other, far higher limits that the simulator does not
// model. Every request inside a $batch is charged on its own; the envelope is
// free. Faults (429, 503, 504, connection resets, truncated JSON, slow answers,
// 401 and repeated pages) are injected on Graph requests only, never on
// sign-in or the control API, from a source seeded by the tenant seed.
//
// The field behaviours of real tenants that Microsoft does not document
// (items repeated within a delta round, folders never marked sharedChanged,
// 410s in several shapes, sharing scoped down without Sites.FullControl.All,
// short pages of deletions, tombstone shapes, $expand page caps) are on by
// default; tenant.Lenient and POST /_sim/lenient turn single ones off
// (docs/graph-behaviour.md).
//
// The tenant state itself lives in package graphsim/tenant; this package only
// turns it into HTTP.
package graphsim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/overshare/overshare/graphsim/tenant"
)

// Options configure a simulator. The zero value serves a default tenant on a
// random local port with no throttling and no faults.
type Options struct {
	Addr   string        // default "127.0.0.1:0"
	Tenant tenant.Config // generation parameters
	// RUPerMinute is the app's resource-unit budget per minute: 0 =
	// unlimited (the library's zero value, for fast tests and benchmarks),
	// RUByLicenceBand = what SharePoint gives an app in a tenant with this
	// many licences (BudgetForLicences).
	RUPerMinute int
	FaultRate   float64       // 0..1
	FaultKinds  []string      // subset of FaultKinds(); empty = all
	TokenTTL    time.Duration // default 1h
	CADir       string        // where ca.pem is written; default a new temp dir
	// ClientID and ClientSecret of the one registered application; generated
	// when empty.
	ClientID, ClientSecret string
	// NotificationRootCAs are trusted, besides the system pool, when the
	// simulator calls a subscription's notificationUrl.
	NotificationRootCAs *x509.CertPool
	// DeliveryRetryWindow is how long a notification that is not acknowledged is retried,
	// with exponential backoff, before it is dropped (default DefaultDeliveryRetryWindow;
	// Graph retries for four hours).
	DeliveryRetryWindow time.Duration
	Logger              *slog.Logger // optional; nothing is logged when nil
}

// Info is what a client needs to connect; `overshare graphsim` prints it as
// one JSON line.
type Info struct {
	GraphBaseURL  string `json:"graphBaseUrl"`
	AuthorityHost string `json:"authorityHost"`
	TenantID      string `json:"tenantId"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	CAFile        string `json:"caFile"`
	// CertificateFile is a PEM with the certificate registered for the app and its private
	// key, for the certificate credential (mode 0600, next to CAFile). RotateCertificate
	// rewrites it.
	CertificateFile       string `json:"certificateFile"`
	CertificateThumbprint string `json:"certificateThumbprint"` // SHA-1, upper-case hex
	ControlURL            string `json:"controlUrl"`
}

// Server is a running simulator.
type Server struct {
	opt      Options
	log      *slog.Logger
	tenant   *tenant.Tenant
	tenantID string
	domain   string
	baseURL  string // https://127.0.0.1:P
	caFile   string
	certFile string // the app certificate's PEM with its key
	tmpDir   string // removed on Close when we created it

	httpSrv  *http.Server
	ln       net.Listener
	tokenKey []byte

	app    appState
	bucket *bucket
	stats  *statsRecorder
	faults *faultInjector
	subs   *subscriptions
	rngMu  sync.Mutex
	rng    *rand.Rand // batch response shuffling

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

// appState is the registered application as Entra ID knows it.
type appState struct {
	mu            sync.RWMutex
	roles         []string
	secretExpired bool
	cert          *appCertificate      // the one certificate registered for the app
	certExpired   bool                 // ExpireCertificate: Entra ID holds the key as expired
	jtis          map[string]time.Time // client assertions used, until their exp
}

// DefaultRoles are the application permissions issued tokens carry unless
// SetAppPermissions says otherwise: the ones Overshare requires and the
// optional Organization.Read.All (verified domains, licence names), as the
// README's app registration asks for them.
var defaultRoles = []string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All", "Organization.Read.All"}

// Start generates the tenant, opens the listener and serves until ctx ends or
// Close is called. The server is listening when Start returns.
func Start(ctx context.Context, opt Options) (*Server, error) {
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = time.Hour
	}
	if opt.FaultRate < 0 || opt.FaultRate > 1 {
		return nil, fmt.Errorf("graphsim: fault rate %v outside 0..1", opt.FaultRate)
	}
	if err := checkFaultKinds(opt.FaultKinds); err != nil {
		return nil, fmt.Errorf("graphsim: %w", err)
	}
	if opt.RUPerMinute < RUByLicenceBand {
		return nil, fmt.Errorf("graphsim: negative RU budget %d", opt.RUPerMinute)
	}
	switch opt.Tenant.InheritedFrom {
	case "", tenant.InheritedFromAbsent, tenant.InheritedFromEmpty, tenant.InheritedFromLinks, tenant.InheritedFromFull:
	default:
		return nil, fmt.Errorf("graphsim: inheritedFrom must be absent, empty, links or full, not %q", opt.Tenant.InheritedFrom)
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.ClientID == "" {
		opt.ClientID = newUUID()
	}
	if opt.ClientSecret == "" {
		opt.ClientSecret = newSecret()
	}

	// The app's RSA key takes ~0.1 s to make: made beside the tenant and the TLS certificates.
	type certResult struct {
		c   *appCertificate
		err error
	}
	certCh := make(chan certResult, 1)
	go func() {
		c, err := newAppCertificate(opt.ClientID, time.Now())
		certCh <- certResult{c, err}
	}()

	s := &Server{
		opt:      opt,
		log:      log,
		tokenKey: randomBytes(32),
		stats:    newStatsRecorder(),
		closed:   make(chan struct{}),
		rng:      rand.New(rand.NewPCG(uint64(opt.Tenant.Seed), 0xba7c4)),
	}
	s.app.roles = append([]string(nil), defaultRoles...)
	s.faults = newFaultInjector(opt.Tenant.Seed, opt.FaultRate, opt.FaultKinds)

	started := time.Now()
	s.tenant = tenant.New(opt.Tenant)
	if opt.RUPerMinute == RUByLicenceBand {
		s.opt.RUPerMinute = BudgetForLicences(s.tenant.LicenceCount())
	}
	s.bucket = newBucket(s.opt.RUPerMinute, time.Now)
	cfg := s.tenant.Config()
	s.tenantID = cfg.TenantID
	if s.tenantID == "" {
		s.tenantID = seededUUID(opt.Tenant.Seed, "tenant")
	}
	s.domain = strings.ToLower(cfg.Domain)
	log.Info("tenant generated", "users", s.tenant.UserCount(), "took", time.Since(started).Round(time.Millisecond))

	dir := opt.CADir
	if dir == "" {
		d, err := os.MkdirTemp("", "graphsim-")
		if err != nil {
			return nil, fmt.Errorf("graphsim: ca dir: %w", err)
		}
		dir, s.tmpDir = d, d
	}
	ca, leaf, err := newCertificates()
	if err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("graphsim: certificates: %w", err)
	}
	s.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(s.caFile, ca.pem, 0o644); err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("graphsim: write ca: %w", err)
	}

	cr := <-certCh
	if cr.err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("graphsim: %w", cr.err)
	}
	s.app.cert = cr.c
	s.certFile = filepath.Join(dir, "app-certificate.pem")
	if err := writeAppCertificate(s.certFile, cr.c); err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("graphsim: %w", err)
	}

	ln, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("graphsim: listen: %w", err)
	}
	s.ln = ln
	s.baseURL = "https://" + publicHostPort(ln.Addr())

	s.subs = newSubscriptions(s, opt.NotificationRootCAs, opt.DeliveryRetryWindow)
	s.tenant.OnDriveChange(s.subs.driveChanged)

	s.httpSrv = &http.Server{
		Handler:           s.rootHandler(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := s.httpSrv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.closed:
		}
	}()
	log.Info("graphsim listening", "url", s.baseURL, "tenant", s.tenantID)
	return s, nil
}

// publicHostPort turns the listener address into the host:port clients use;
// an unspecified address is reached through the loopback.
func publicHostPort(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// Info says how to reach the simulator.
func (s *Server) Info() Info {
	return Info{
		GraphBaseURL:  s.baseURL + "/v1.0",
		AuthorityHost: s.baseURL + "/",
		TenantID:      s.tenantID,
		ClientID:      s.opt.ClientID,
		ClientSecret:  s.opt.ClientSecret,
		CAFile:        s.caFile,

		CertificateFile:       s.certFile,
		CertificateThumbprint: s.certificateThumbprint(),
		ControlURL:            s.baseURL + "/_sim",
	}
}

func (s *Server) certificateThumbprint() string {
	s.app.mu.RLock()
	defer s.app.mu.RUnlock()
	return s.app.cert.thumbprintHex
}

// Tenant is the simulated tenant, for tests that change it directly.
func (s *Server) Tenant() *tenant.Tenant { return s.tenant }

// Stats are the request counters, the same numbers GET /_sim/stats answers.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// SetFaults changes the fault rate and kinds (empty = all kinds); unknown
// kinds are ignored. A rate of 0 turns faults off.
func (s *Server) SetFaults(rate float64, kinds []string) { s.faults.set(rate, kinds) }

// SetAppPermissions sets the application permissions (roles) that tokens
// issued from now on carry. Tokens already issued keep theirs, as in Entra ID.
func (s *Server) SetAppPermissions(roles []string) {
	s.app.mu.Lock()
	s.app.roles = append([]string(nil), roles...)
	s.app.mu.Unlock()
}

// ExpireSecret makes sign-in fail with AADSTS7000222 while expired is true.
func (s *Server) ExpireSecret(expired bool) {
	s.app.mu.Lock()
	s.app.secretExpired = expired
	s.app.mu.Unlock()
}

// ExpireCertificate makes Entra ID hold the app's certificate as expired while expired is
// true: client assertions signed with it get AADSTS700027 "The key used is expired", though
// the certificate itself is still within its dates (Entra ID judges the key credential's end
// date, set when it was uploaded).
func (s *Server) ExpireCertificate(expired bool) {
	s.app.mu.Lock()
	s.app.certExpired = expired
	s.app.mu.Unlock()
}

// RotateCertificate registers a new certificate for the app in place of the old one, as an
// administrator who uploads a new certificate and deletes the old would, rewrites
// Info().CertificateFile with it and returns its thumbprint. Assertions signed with the old
// one get AADSTS700027 "The key was not found" from then on.
func (s *Server) RotateCertificate() (string, error) {
	c, err := newAppCertificate(s.opt.ClientID, time.Now())
	if err != nil {
		return "", fmt.Errorf("graphsim: rotate certificate: %w", err)
	}
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if err := writeAppCertificate(s.certFile, c); err != nil {
		return "", fmt.Errorf("graphsim: rotate certificate: %w", err)
	}
	s.app.cert, s.app.certExpired = c, false
	return c.thumbprintHex, nil
}

// Close stops the server, its notification senders, and removes the CA
// directory when the simulator created it.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		// A short grace period: HTTP/2 connections otherwise hold Shutdown
		// for a second waiting for clients to hang up after GOAWAY.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.httpSrv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.httpSrv.Close()
		}
		s.subs.close()
		s.removeTmp()
		s.closeErr = err
	})
	return s.closeErr
}

func (s *Server) removeTmp() {
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

// rootHandler splits the one listener into sign-in, Graph and control.
func (s *Server) rootHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
			s.serveGraph(w, r)
		case p == "/_sim" || strings.HasPrefix(p, "/_sim/"):
			s.serveControl(w, r)
		default:
			s.serveSignIn(w, r)
		}
	})
}

// drainClose reads what is left of a body so the connection can be reused.
func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	_ = rc.Close()
}
