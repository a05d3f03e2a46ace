package devidptest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/overshare/overshare/auth/devidp"
)

// Clients every test Provider registers besides the demo's, for the ways a token can be
// valid yet not good enough.
const (
	NoRolesClient  = "no-roles-script"    // a token without any role
	ShortLived     = "short-lived-script" // an admin token that expires after ProviderConfig.ShortLivedTTL
	OtherAPIClient = "other-api-script"   // an admin token for another audience
	ClientSecret   = "test-client-secret-0123456789"
)

// ProviderConfig shapes a test Provider.
type ProviderConfig struct {
	// TLS serves the provider over HTTPS (Server.Client trusts it), as a production provider is.
	TLS bool
	// ShortLivedTTL is how long ShortLived's tokens live (default 2 s).
	ShortLivedTTL time.Duration
	// Change, when set, edits the options before the provider starts.
	Change func(*devidp.Options)
}

// Provider is a development OpenID Connect provider (devidp, the demo's options and the
// clients above) on its own server at <server>/oidc, closed when the test ends.
type Provider struct {
	Options  devidp.Options
	Server   *httptest.Server
	Callback string // the SPA client's redirect URI
	// JWKSFetches counts requests for the key set.
	JWKSFetches atomic.Int64
}

// StartProvider serves a Provider for the test t.
func StartProvider(t testing.TB, cfg ProviderConfig) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if cfg.TLS {
		scheme = "https://"
	}
	base := scheme + srv.Listener.Addr().String()
	ttl := cfg.ShortLivedTTL
	if ttl == 0 {
		ttl = 2 * time.Second
	}
	p := &Provider{Server: srv, Callback: base + "/callback"}
	p.Options = devidp.DemoOptions(base+"/oidc", []string{p.Callback})
	p.Options.Clients = append(p.Options.Clients,
		devidp.Client{ID: NoRolesClient, Secret: ClientSecret},
		devidp.Client{ID: ShortLived, Secret: ClientSecret, Roles: []string{devidp.DemoAdminRole}, TokenTTL: ttl},
		devidp.Client{ID: OtherAPIClient, Secret: ClientSecret, Roles: []string{devidp.DemoAdminRole}, Audience: "api://other"},
	)
	if cfg.Change != nil {
		cfg.Change(&p.Options)
	}
	provider, err := devidp.New(p.Options)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oidc/jwks" {
			p.JWKSFetches.Add(1)
		}
		provider.ServeHTTP(w, r)
	}))
	srv.Config.Handler = mux
	if cfg.TLS {
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a client without the CA fails its handshake on purpose
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.Options.Issuer }

// Secret is a client's secret.
func (p *Provider) Secret(clientID string) string {
	for _, c := range p.Options.Clients {
		if c.ID == clientID {
			return c.Secret
		}
	}
	panic("devidptest: no client " + clientID)
}

// Password is a user's password.
func (p *Provider) Password(username string) string {
	for _, u := range p.Options.Users {
		if u.Username == username {
			return u.Password
		}
	}
	panic("devidptest: no user " + username)
}

// Token is an access token for a script client (client credentials).
func (p *Provider) Token(t testing.TB, clientID string) string {
	t.Helper()
	tok, err := ClientCredentials(context.Background(), p.Server.Client(), p.Issuer()+"/token", clientID, p.Secret(clientID))
	if err != nil {
		t.Fatalf("client credentials %s: %v", clientID, err)
	}
	return tok.AccessToken
}

// Login signs a person in through the login form (code + PKCE), as the SPA does.
func (p *Provider) Login(t testing.TB, username string) *Tokens {
	t.Helper()
	tok, err := NewBrowser(p.Server.Client()).Login(context.Background(), p.Issuer(),
		devidp.DemoSPAClientID, p.Callback, username, p.Password(username))
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return tok
}

// PublicKey is the provider's signing key and its key id, as its key set publishes them.
func (p *Provider) PublicKey(t testing.TB) (*rsa.PublicKey, string) {
	t.Helper()
	resp, err := p.Server.Client().Get(p.Issuer() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set.Keys[0].Key.(*rsa.PublicKey), set.Keys[0].KeyID
}
