package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/apiseed"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

const integrationID = "it1"

// startIDP serves a real development OIDC provider on its own HTTP server.
func startIDP(t testing.TB) *devidptest.Provider {
	t.Helper()
	return devidptest.StartProvider(t, devidptest.ProviderConfig{})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unsigned returns token's payload under an "alg: none" header and no signature.
func unsigned(token string) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	return b64(h) + "." + strings.Split(token, ".")[1] + "."
}

// hs256WithPublicKey signs token's payload with HMAC-SHA256 keyed by the provider's public key
// (PEM), the classic algorithm-confusion forgery.
func hs256WithPublicKey(t *testing.T, p *devidptest.Provider, token string) string {
	pub, kid := p.PublicKey(t)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
	input := b64(h) + "." + strings.Split(token, ".")[1]
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

// env is a running Overshare API over HTTP on a seeded database.
type env struct {
	t     testing.TB
	st    *store.Store
	idp   *devidptest.Provider
	bus   *events.Local
	srv   *httptest.Server
	api   *server.Server
	ver   *auth.Verifier
	data  apiseed.Data
	stmts atomic.Int64
}

func newEnv(t testing.TB, st *store.Store, change func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: st, idp: startIDP(t), bus: events.NewLocal()}
	e.data = apiseed.Build(integrationID, 6, 60)
	if err := apiseed.Write(ctx, st, e.data); err != nil {
		t.Fatalf("seed: %v", err)
	}
	countStatements(st.Gorm(), &e.stmts)
	verifier, err := auth.NewVerifier(ctx, auth.Config{Issuer: e.idp.Issuer(), Audience: devidp.DemoAudience})
	if err != nil {
		t.Fatal(err)
	}
	e.ver = verifier
	cfg := server.Config{
		Store: st, Verifier: verifier, Version: "test",
		OIDCIssuer: e.idp.Issuer(), OIDCClientID: devidp.DemoSPAClientID,
		AllowedOrigins:       []string{"https://dashboard.example"},
		WebsocketInitTimeout: 300 * time.Millisecond,
		Logger:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg.GraphQL.Events = e.bus
	if change != nil {
		change(&cfg)
	}
	e.api, err = server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// countStatements counts every SQL statement gorm runs.
func countStatements(db *gorm.DB, n *atomic.Int64) {
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register("test:count_query", inc)
	_ = cb.Row().After("gorm:row").Register("test:count_row", inc)
	_ = cb.Raw().After("gorm:raw").Register("test:count_raw", inc)
	_ = cb.Create().After("gorm:create").Register("test:count_create", inc)
	_ = cb.Update().After("gorm:update").Register("test:count_update", inc)
	_ = cb.Delete().After("gorm:delete").Register("test:count_delete", inc)
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	status int
	size   int             // bytes of the answer
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// do posts a GraphQL request with the token ("" = none) and returns the decoded answer.
func (e *env) do(token, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return e.post(token, body, nil)
}

func (e *env) post(token string, body []byte, header http.Header) gqlResponse {
	e.t.Helper()
	r, _ := e.postAndHeaders(token, body, header)
	return r
}

// postHeaders posts a query with extra headers and returns the answer's headers too.
func (e *env) postHeaders(token, query string, header http.Header) (gqlResponse, http.Header) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	return e.postAndHeaders(token, body, header)
}

func (e *env) postAndHeaders(token string, body []byte, header http.Header) (gqlResponse, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gqlResponse{status: resp.StatusCode, size: len(raw)}
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("POST /graphql answered %d %q: %v", resp.StatusCode, raw, err)
	}
	return out, resp.Header
}

// must fails the test on any GraphQL error and decodes data into v.
func (e *env) must(token, query string, vars map[string]any, v any) {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) > 0 {
		e.t.Fatalf("query failed: %+v\n%s", r.Errors, query)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			e.t.Fatal(err)
		}
	}
}

// alive checks the server still answers an ordinary query.
func (e *env) alive(token string) {
	e.t.Helper()
	var v struct{ Viewer struct{ Subject string } }
	e.must(token, `{ viewer { subject } }`, nil, &v)
	if v.Viewer.Subject == "" {
		e.t.Fatal("the server stopped answering")
	}
}
