package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", s.graphqlHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	if s.cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", s.metricsBehindToken(s.MetricsHandler()))
	}
	mux.HandleFunc("GET /api/config", s.serveConfig)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for pattern, h := range s.cfg.Mount {
		mux.Handle(pattern, h)
	}
	if s.cfg.Frontend != nil {
		mux.Handle("/", s.spa(s.cfg.Frontend))
	}
	h := withRequestID(s.logRequests(s.securityHeaders(mux)))
	if s.cfg.Tracing {
		h = otelhttp.NewHandler(h, "overshare", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + routeLabel(r.URL.Path)
		}))
	}
	return h
}

// graphqlHandler serves POST /graphql and the websocket upgrade on the same path.
func (s *Server) graphqlHandler() http.Handler {
	post := auth.Middleware(s.verifier, http.HandlerFunc(s.servePost))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkOrigin(w, r) {
			return
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !s.allowAddress(w, r) {
			return
		}
		if r.Header.Get("Upgrade") != "" {
			if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !wantsTransportWS(r) {
				writeGraphQLError(w, http.StatusBadRequest, graph.CodeBadUserInput,
					"websockets must offer the graphql-transport-ws subprotocol")
				return
			}
			// Authentication happens in connection_init (see wsInit), not from headers.
			s.gql.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			writeGraphQLError(w, http.StatusMethodNotAllowed, graph.CodeBadUserInput,
				"send queries with POST (application/json), subscriptions over a graphql-transport-ws websocket")
			return
		}
		post.ServeHTTP(w, r)
	})
}

// servePost answers a POST: 401 before the body is read when the caller is not authenticated
// (an anonymous request is never parsed: graph/precheck.go says why), then the body within its
// limit to the GraphQL handler.
func (s *Server) servePost(w http.ResponseWriter, r *http.Request) {
	// Also bounds what net/http reads of a refused request's body after the answer.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout))
	if _, err := auth.PrincipalFrom(r.Context()); err != nil {
		code, msg := graph.PublicError(err)
		w.Header().Set("WWW-Authenticate", bearerChallenge(err))
		writeGraphQLError(w, http.StatusUnauthorized, code, msg)
		return
	}
	limit := s.cfg.MaxBodyBytes
	tooLarge := fmt.Sprintf("the request body is larger than the %d-byte limit", limit)
	if r.ContentLength > limit {
		writeGraphQLError(w, http.StatusRequestEntityTooLarge, graph.CodeBadUserInput, tooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		writeGraphQLError(w, http.StatusRequestTimeout, graph.CodeBadUserInput,
			fmt.Sprintf("the request body did not arrive within %s", s.cfg.BodyReadTimeout))
		return
	case err != nil:
		writeGraphQLError(w, http.StatusBadRequest, graph.CodeBadUserInput, "the request body could not be read")
		return
	case int64(len(body)) > limit:
		writeGraphQLError(w, http.StatusRequestEntityTooLarge, graph.CodeBadUserInput, tooLarge)
		return
	}
	if !s.allowPrincipal(w, r, body) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.gql.ServeHTTP(w, graph.OverPOST(r))
}

// bearerChallenge is the WWW-Authenticate answer to a refused token (RFC 6750 §3): with the
// scope to request when the token was meant for another API, so that a script's author sees
// the cure without reading the body.
func bearerChallenge(err error) string {
	challenge := `Bearer realm="overshare"`
	var te *auth.TokenError
	if errors.As(err, &te) {
		challenge += `, error="invalid_token"`
		if te.Scope != "" {
			challenge += `, scope="` + strings.NewReplacer(`"`, "", `\`, "").Replace(te.Scope) + `"`
		}
	}
	return challenge
}

// checkOrigin allows requests without Origin (scripts), from the server's own host, and from
// the configured origins; browsers elsewhere get 403. Allowed cross-origin requests get CORS
// headers (bearer tokens, no cookies, so no credentials mode).
func (s *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if _, host := s.external(r); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) {
		return true
	}
	norm, err := normalizeOrigin(origin)
	if err != nil || !s.origins[norm] {
		writeGraphQLError(w, http.StatusForbidden, graph.CodeForbidden,
			"this origin may not use the API; add it to OVERSHARE_ALLOWED_ORIGINS")
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
	return true
}

func writeGraphQLError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errorList(code, msg)})
}

// errorList is one GraphQL error as answers carry it, over HTTP and in a websocket's error.
func errorList(code, msg string) []any {
	return []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}}
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.cfg.Store.SQLDB().PingContext(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness: database unreachable", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "database unreachable\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// RuntimeConfig is what GET /api/config tells the SPA.
type RuntimeConfig struct {
	OIDCIssuer   string `json:"oidcIssuer"`
	OIDCClientID string `json:"oidcClientId"`
	OIDCScopes   string `json:"oidcScopes"` // space-separated, as OAuth writes them
	OIDCAudience string `json:"oidcAudience,omitempty"`
	GraphQLURL   string `json:"graphqlUrl"`
	GraphQLWsURL string `json:"graphqlWsUrl"`
	Version      string `json:"version"`
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme, host := s.external(r)
		base = scheme + "://" + host
	}
	ws := "ws" + strings.TrimPrefix(base, "http")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(RuntimeConfig{
		OIDCIssuer: s.cfg.OIDCIssuer, OIDCClientID: s.cfg.OIDCClientID, OIDCScopes: strings.Join(s.scopes(), " "), OIDCAudience: s.cfg.OIDCAudienceParam,
		GraphQLURL: base + "/graphql", GraphQLWsURL: ws + "/graphql", Version: s.cfg.Version,
	})
}

func (s *Server) scopes() []string {
	if len(s.cfg.OIDCScopes) == 0 {
		return auth.DefaultScopes()
	}
	return s.cfg.OIDCScopes
}

// spa serves the built frontend: files as they are, and index.html for any other path without
// a file extension (the SPA's own routes).
func (s *Server) spa(files fs.FS) http.Handler {
	fileServer := http.FileServerFS(files)
	csp := contentSecurityPolicy(s.cfg.OIDCIssuer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				// Vite puts content hashes in these names.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			if name == "index.html" {
				serveIndex(w, r, files)
				return
			}
			fileServer.ServeHTTP(w, r)
			return
		}
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		serveIndex(w, r, files)
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, files fs.FS) {
	b, err := fs.ReadFile(files, "index.html")
	if err != nil {
		http.Error(w, "the dashboard is not built into this binary", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(b))
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if scheme, _ := s.external(r); scheme == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy is the dashboard's: its tokens live in sessionStorage, so no script may
// run but the bundle's own files (no inline script, no eval), and the page may talk only to the
// server and the identity provider. Inline styles stay allowed: Mantine and the virtualised
// tables set style attributes.
func contentSecurityPolicy(issuer string) string {
	idp := ""
	if u, err := url.Parse(issuer); err == nil && u.Scheme != "" && u.Host != "" {
		idp = " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src 'self'" + idp + "; frame-src 'self'" + idp + "; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'" + idp + "; object-src 'none'"
}

// statusWriter records the status and size of a response, and lets websockets hijack.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be hijacked")
	}
	w.status = http.StatusSwitchingProtocols
	return hj.Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one slog line per request (never the query string or headers: they may
// hold tokens) and feeds the HTTP metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		route := routeLabel(r.URL.Path)
		s.metrics.httpDuration.WithLabelValues(route, r.Method, fmt.Sprint(sw.status)).Observe(d.Seconds())
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			return
		}
		s.log.InfoContext(r.Context(), "http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000, "remote", r.RemoteAddr)
	})
}

// routeLabel keeps the metrics' path label to a fixed set.
func routeLabel(p string) string {
	switch {
	case p == "/graphql", p == "/healthz", p == "/readyz", p == "/metrics", p == "/api/config":
		return p
	case strings.HasPrefix(p, "/oidc/"):
		return "/oidc"
	case strings.HasPrefix(p, "/api/"):
		return "/api"
	}
	return "/"
}
