// Package devidp is a small OpenID Connect provider for development: `overshare demo` and the
// tests log in through it exactly as they would through Entra ID, Keycloak or Dex.
//
// It implements what Overshare's clients use and nothing else: discovery, a JWKS with one RS256
// key generated at start, Authorization Code with PKCE (S256) and a plain HTML login form for the
// SPA, prompt=none for oidc-client-ts' silent renew, refresh tokens (rotated), client_credentials
// for scripts (client_secret_basic and client_secret_post), userinfo and end-session logout.
// Tokens are RS256 JWTs that carry app roles in a "roles" claim as Entra ID does (or at another
// claim path, to imitate other providers).
//
// It is written on net/http and go-jose instead of embedding a provider framework (fosite, zitadel
// oidc, dex) because those bring storage interfaces, consent screens and dozens of dependencies
// into the production binary for a feature that is only ever a demo stand-in; this is one package
// whose every rule a reader can check against the specs in an afternoon. State (login sessions,
// codes, refresh tokens) lives in memory and dies with the process, as a demo provider's should.
// It is not a production identity provider: use a real one with `overshare serve`.
package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is a person who can log in with the form.
type User struct {
	Username string
	Password string
	Name     string
	Email    string
	// Roles are the values put in the roles claim, e.g. "Overshare.Admin".
	Roles []string
}

// Client is an application registered with the provider.
type Client struct {
	ID string
	// Secret authenticates a confidential client (scripts). Empty means a public client (the
	// SPA), which must use PKCE and can never use client_credentials.
	Secret string
	// RedirectURIs are compared exactly with the redirect_uri of an authorization request. Their
	// origins are also the origins allowed by CORS and for post-logout redirects.
	RedirectURIs []string
	// Roles go into client_credentials tokens, the way Entra ID grants app roles to scripts.
	Roles []string
	// Audience overrides Options.Audience for this client's access tokens.
	Audience string
	// TokenTTL overrides Options.TokenTTL for this client's tokens (tests use a short one).
	TokenTTL time.Duration
}

// Options configure a Provider.
type Options struct {
	// Issuer is the provider's public base URL, e.g. http://127.0.0.1:8080/oidc. Mount the
	// handler at its path. Tokens carry it verbatim in "iss".
	Issuer   string
	Users    []User
	Clients  []Client
	TokenTTL time.Duration // access and ID tokens; default one hour
	// Audience is the "aud" of access tokens: the API's identifier.
	Audience string
	// RolesClaim is where roles go in tokens: "roles" by default, a dotted path such as
	// "realm_access.roles" nests them the way Keycloak does, "groups" imitates Dex. The Entra
	// and Keycloak profiles fix it ("roles", "realm_access.roles").
	RolesClaim string
	// Profile shapes tokens like Entra ID's or Keycloak's and refuses what they refuse.
	Profile Profile
	// TenantID is the Entra profile's tenant ("tid"); default DemoTenantID.
	TenantID string
}

// Names used by DemoOptions, for callers that wire the demo.
const (
	DemoAudience             = "api://overshare"
	DemoSPAClientID          = "overshare-spa"
	DemoAdminScriptClientID  = "overshare-admin-script"
	DemoViewerScriptClientID = "overshare-viewer-script"
	DemoAdminRole            = "Overshare.Admin"
	DemoViewerRole           = "Overshare.Viewer"
)

// DemoOptions returns the demo's users and clients: users "admin" and "viewer" with random
// passwords, the public SPA client "overshare-spa" allowed to redirect to spaRedirectURIs (list
// the silent-renew page too), and two script clients with random secrets whose client_credentials
// tokens carry the admin and viewer roles. The passwords and secrets are in the returned Options;
// the caller shows them to the person running the demo (demo.json), and may replace them with
// saved ones so that they survive a restart.
func DemoOptions(issuer string, spaRedirectURIs []string) Options {
	return Options{
		Issuer:   issuer,
		Audience: DemoAudience,
		TokenTTL: time.Hour,
		Users: []User{
			{Username: "admin", Password: demoPassword(), Name: "Ada Admin", Email: "admin@overshare.example", Roles: []string{DemoAdminRole}},
			{Username: "viewer", Password: demoPassword(), Name: "Vic Viewer", Email: "viewer@overshare.example", Roles: []string{DemoViewerRole}},
		},
		Clients: []Client{
			{ID: DemoSPAClientID, RedirectURIs: append([]string(nil), spaRedirectURIs...)},
			{ID: DemoAdminScriptClientID, Secret: rand.Text(), Roles: []string{DemoAdminRole}},
			{ID: DemoViewerScriptClientID, Secret: rand.Text(), Roles: []string{DemoViewerRole}},
		},
	}
}

// Demo is a demo provider for a profile, and what the server must be told to accept its
// tokens and the dashboard to request.
type Demo struct {
	Options                 Options
	SPAClientID             string
	Audience                string
	RolesClaim              string
	AdminRoles, ViewerRoles []string
	// Scopes are what the dashboard requests from this provider.
	Scopes []string
}

// The Entra profile's demo applications: the API app and the dashboard's app registration.
const (
	DemoEntraAPIAppID = "6b1f0f0e-2c4d-4c8e-9f21-5a7d3e9b0c11"
	DemoEntraSPAAppID = "0d5c3b2a-8e7f-4a6b-b9c8-1e2f3a4b5c6d"
)

// DemoFor returns the demo's users and clients (DemoOptions) in a profile's shape, with the
// issuer under mountURL as the real provider names it: "<mountURL>/<tenant>/v2.0" for Entra
// ID, "<mountURL>/realms/overshare" for Keycloak, mountURL itself by default. Keycloak's users
// hold no offline_access role, as users imported with deploy/keycloak's realm do not, so its
// dashboard asks for none.
func DemoFor(profile Profile, mountURL string, spaRedirectURIs []string) (Demo, error) {
	mountURL = strings.TrimSuffix(mountURL, "/")
	oidc := []string{"openid", "profile", "email"}
	switch profile {
	case ProfileDefault:
		return Demo{Options: DemoOptions(mountURL, spaRedirectURIs), SPAClientID: DemoSPAClientID,
			Audience: DemoAudience, RolesClaim: "roles", AdminRoles: []string{DemoAdminRole},
			ViewerRoles: []string{DemoViewerRole}, Scopes: append(oidc, "offline_access")}, nil
	case ProfileEntra:
		o := DemoOptions(mountURL+"/"+DemoTenantID+"/v2.0", spaRedirectURIs)
		o.Profile, o.TenantID, o.Audience = ProfileEntra, DemoTenantID, DemoEntraAPIAppID
		o.Clients[0].ID = DemoEntraSPAAppID
		return Demo{Options: o, SPAClientID: DemoEntraSPAAppID, Audience: DemoEntraAPIAppID, RolesClaim: "roles",
			AdminRoles: []string{DemoAdminRole}, ViewerRoles: []string{DemoViewerRole},
			Scopes: []string{"openid", "profile", "offline_access", "api://" + DemoEntraAPIAppID + "/" + EntraAPIScope}}, nil
	case ProfileKeycloak:
		const admin, viewer = "overshare-admin", "overshare-viewer"
		o := DemoOptions(mountURL+"/realms/overshare", spaRedirectURIs)
		o.Profile, o.Audience = ProfileKeycloak, "overshare-api"
		for i := range o.Users {
			o.Users[i].Roles = []string{map[string]string{"admin": admin, "viewer": viewer}[o.Users[i].Username]}
		}
		o.Clients[1].Roles, o.Clients[2].Roles = []string{admin}, []string{viewer}
		return Demo{Options: o, SPAClientID: DemoSPAClientID, Audience: "overshare-api", RolesClaim: "realm_access.roles",
			AdminRoles: []string{admin}, ViewerRoles: []string{viewer}, Scopes: oidc}, nil
	}
	return Demo{}, fmt.Errorf("devidp: unknown profile %q", profile)
}

// demoPassword is random but typeable: three groups of four from an alphabet without look-alikes
// (about 58 bits).
func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return s.String()
}

// Lifetimes of the provider's in-memory grants.
const (
	codeTTL    = time.Minute
	refreshTTL = 24 * time.Hour
	sessionTTL = 12 * time.Hour
)

// Provider is the development OpenID Connect provider. It is an http.Handler.
type Provider struct {
	issuer     string
	basePath   string // the issuer URL's path, "" or "/oidc"
	secure     bool   // issuer is https: cookies get Secure
	users      map[string]User
	clients    map[string]Client
	ttl        time.Duration
	audience   string
	rolesClaim string
	profile    Profile
	tenant     string
	cookieName string

	key    *rsa.PrivateKey
	keyID  string
	signer jose.Signer
	jwks   []byte

	origins map[string]bool // CORS: the origins of all redirect URIs

	mu        sync.Mutex
	codes     map[string]*authCode
	refreshes map[string]*refreshGrant
	sessions  map[string]*session
	lastPrune time.Time
}

// New validates opts and returns a provider with a freshly generated signing key.
func New(opts Options) (*Provider, error) {
	issuer := strings.TrimSuffix(opts.Issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("devidp: issuer %q must be an absolute http(s) URL without query or fragment", opts.Issuer)
	}
	if opts.Audience == "" {
		return nil, errors.New("devidp: Audience is required (the API's identifier in access tokens)")
	}
	p := &Provider{
		issuer:     issuer,
		basePath:   strings.TrimSuffix(u.Path, "/"),
		secure:     u.Scheme == "https",
		users:      map[string]User{},
		clients:    map[string]Client{},
		ttl:        opts.TokenTTL,
		audience:   opts.Audience,
		rolesClaim: opts.RolesClaim,
		origins:    map[string]bool{},
		codes:      map[string]*authCode{},
		refreshes:  map[string]*refreshGrant{},
		sessions:   map[string]*session{},
	}
	if p.ttl <= 0 {
		p.ttl = time.Hour
	}
	if p.rolesClaim == "" {
		p.rolesClaim = "roles"
	}
	switch opts.Profile {
	case ProfileDefault:
	case ProfileEntra:
		p.profile, p.rolesClaim, p.tenant = ProfileEntra, "roles", opts.TenantID
		if p.tenant == "" {
			p.tenant = DemoTenantID
		}
	case ProfileKeycloak:
		p.profile, p.rolesClaim = ProfileKeycloak, "realm_access.roles"
	default:
		return nil, fmt.Errorf("devidp: unknown profile %q", opts.Profile)
	}
	// Two providers on one host (tests) must not overwrite each other's session cookie: cookies
	// ignore ports.
	sum := sha256.Sum256([]byte(issuer))
	p.cookieName = "devidp_session_" + hex.EncodeToString(sum[:4])

	for _, usr := range opts.Users {
		if usr.Username == "" || usr.Password == "" {
			return nil, errors.New("devidp: every user needs a username and a password")
		}
		if _, dup := p.users[usr.Username]; dup {
			return nil, fmt.Errorf("devidp: user %q is listed twice", usr.Username)
		}
		p.users[usr.Username] = usr
	}
	for _, c := range opts.Clients {
		if c.ID == "" {
			return nil, errors.New("devidp: every client needs an ID")
		}
		if _, dup := p.clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp: client %q is listed twice", c.ID)
		}
		if c.Secret == "" && len(c.RedirectURIs) == 0 {
			return nil, fmt.Errorf("devidp: public client %q needs at least one redirect URI", c.ID)
		}
		for _, ru := range c.RedirectURIs {
			o, err := origin(ru)
			if err != nil {
				return nil, fmt.Errorf("devidp: client %q: redirect URI %q: %w", c.ID, ru, err)
			}
			p.origins[o] = true
		}
		p.clients[c.ID] = c
	}

	if err := p.generateKey(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Provider) generateKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("devidp: generate RSA key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("devidp: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return fmt.Errorf("devidp: signer: %w", err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return fmt.Errorf("devidp: encode JWKS: %w", err)
	}
	p.key, p.keyID, p.signer, p.jwks = key, pub.KeyID, signer, jwks
	return nil
}

// Issuer returns the issuer URL as it appears in tokens.
func (p *Provider) Issuer() string { return p.issuer }

// TokenURL returns the token endpoint, for scripts using client_credentials.
func (p *Provider) TokenURL() string { return p.issuer + "/token" }

// ServeHTTP routes the provider's endpoints. It accepts paths with or without the issuer's path
// prefix, so it can be mounted with or without http.StripPrefix.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if p.basePath != "" && strings.HasPrefix(path, p.basePath+"/") {
		path = strings.TrimPrefix(path, p.basePath)
	}
	switch path {
	case "/.well-known/openid-configuration":
		p.cors(w, r, p.serveDiscovery, http.MethodGet)
	case "/jwks":
		p.cors(w, r, p.serveJWKS, http.MethodGet)
	case "/token":
		p.cors(w, r, p.serveToken, http.MethodPost)
	case "/userinfo":
		p.cors(w, r, p.serveUserinfo, http.MethodGet, http.MethodPost)
	case "/authorize":
		p.serveAuthorize(w, r)
	case "/logout":
		p.serveLogout(w, r)
	default:
		http.NotFound(w, r)
	}
}

// cors answers preflights and sets CORS headers for the SPA's origins (those of the registered
// redirect URIs) on the endpoints a browser calls with fetch. Credentials are never allowed: the
// SPA calls these with tokens, not cookies.
func (p *Provider) cors(w http.ResponseWriter, r *http.Request, h http.HandlerFunc, methods ...string) {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	allowed := o != "" && p.origins[o]
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
	if r.Method == http.MethodOptions {
		if allowed {
			w.Header().Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	for _, m := range methods {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			h(w, r)
			return
		}
	}
	w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"userinfo_endpoint":                     p.issuer + "/userinfo",
		"jwks_uri":                              p.issuer + "/jwks",
		"end_session_endpoint":                  p.issuer + "/logout",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.RS256)},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"prompt_values_supported":               []string{"none", "login"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp",
			"name", "email", "preferred_username", strings.Split(p.rolesClaim, ".")[0]},
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(p.jwks)
}

// origin returns scheme://host[:port] of an absolute http(s) URL.
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL")
	}
	if u.Fragment != "" {
		return "", errors.New("a redirect URI cannot have a fragment")
	}
	return u.Scheme + "://" + u.Host, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken returns 256 random bits, base64url: codes, refresh tokens, session ids.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pruneLocked drops expired grants now and then so a long demo does not grow without bound.
func (p *Provider) pruneLocked(now time.Time) {
	if now.Sub(p.lastPrune) < time.Minute {
		return
	}
	p.lastPrune = now
	for k, c := range p.codes {
		if now.After(c.expires) {
			delete(p.codes, k)
		}
	}
	for k, g := range p.refreshes {
		if now.After(g.expires) {
			delete(p.refreshes, k)
		}
	}
	for k, s := range p.sessions {
		if now.After(s.expires) {
			delete(p.sessions, k)
		}
	}
}
