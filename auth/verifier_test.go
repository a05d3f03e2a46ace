package auth_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
)

// startIDP serves a development provider over TLS, as a production provider would be, so the
// verifier's HTTPClient (trusting the test CA) is exercised too.
func startIDP(t *testing.T, change func(*devidp.Options)) *devidptest.Provider {
	t.Helper()
	return devidptest.StartProvider(t, devidptest.ProviderConfig{TLS: true, ShortLivedTTL: time.Second, Change: change})
}

// verifierOf is a verifier of p's tokens (audience: the demo's unless cfg names one).
func verifierOf(t *testing.T, p *devidptest.Provider, cfg auth.Config) *auth.Verifier {
	t.Helper()
	cfg.Issuer = p.Issuer()
	if cfg.Audience == "" {
		cfg.Audience = devidp.DemoAudience
	}
	cfg.HTTPClient = p.Server.Client()
	v, err := auth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// withHeader returns a token with the given header and the payload of token, signed by sign
// (nil: no signature, as alg "none" wants).
func withHeader(t *testing.T, token string, header map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	input := b64(h) + "." + strings.Split(token, ".")[1]
	if sign == nil {
		return input + "."
	}
	return input + "." + b64(sign([]byte(input)))
}

func hs256(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// withClaims returns token with some claims changed and the original signature kept.
func withClaims(t *testing.T, token string, change map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	for k, v := range change {
		claims[k] = v
	}
	payload, _ := json.Marshal(claims)
	return parts[0] + "." + b64(payload) + "." + parts[2]
}

func TestVerify(t *testing.T) {
	p := startIDP(t, nil)
	other := startIDP(t, nil) // another issuer with other keys
	v := verifierOf(t, p, auth.Config{})

	adminUser := p.Login(t, "admin")
	viewerUser := p.Login(t, "viewer")
	adminScript := p.Token(t, devidp.DemoAdminScriptClientID)
	viewerScript := p.Token(t, devidp.DemoViewerScriptClientID)
	expiring := p.Token(t, devidptest.ShortLived)
	pub, kid := p.PublicKey(t)
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	pemPKIX := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pemPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	attackerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := func(input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, attackerKey, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}

	// The expired token is taken last, once its one-second lifetime is certainly over.
	var expiry struct {
		Exp int64 `json:"exp"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(expiring, ".")[1])
	_ = json.Unmarshal(payload, &expiry)
	time.Sleep(time.Until(time.Unix(expiry.Exp, 0).Add(1100 * time.Millisecond)))

	tests := []struct {
		name   string
		token  string
		roles  []auth.Role // for a valid token
		err    error       // ErrNoToken or ErrInvalidToken
		reason auth.Reason // for an invalid one
		who    string      // the principal's Name
		email  string
	}{
		{"admin user", adminUser.AccessToken, []auth.Role{auth.RoleAdmin, auth.RoleViewer}, nil, "", "Ada Admin", "admin@overshare.example"},
		{"viewer user", viewerUser.AccessToken, []auth.Role{auth.RoleViewer}, nil, "", "Vic Viewer", "viewer@overshare.example"},
		{"admin script", adminScript, []auth.Role{auth.RoleAdmin, auth.RoleViewer}, nil, "", devidp.DemoAdminScriptClientID, ""},
		{"viewer script", viewerScript, []auth.Role{auth.RoleViewer}, nil, "", devidp.DemoViewerScriptClientID, ""},
		{"valid token without roles", p.Token(t, devidptest.NoRolesClient), nil, nil, "", devidptest.NoRolesClient, ""},
		{"no token", "", nil, auth.ErrNoToken, "", "", ""},
		{"expired", expiring, nil, auth.ErrInvalidToken, auth.ReasonExpired, "", ""},
		{"wrong audience", p.Token(t, devidptest.OtherAPIClient), nil, auth.ErrInvalidToken, auth.ReasonAudience, "", ""},
		{"ID token used as access token", adminUser.IDToken, nil, auth.ErrInvalidToken, auth.ReasonAudience, "", ""},
		{"wrong issuer", other.Token(t, devidp.DemoAdminScriptClientID), nil, auth.ErrInvalidToken, auth.ReasonIssuer, "", ""},
		{"alg none", withHeader(t, adminScript, map[string]any{"alg": "none", "typ": "JWT"}, nil), nil, auth.ErrInvalidToken, auth.ReasonAlgorithm, "", ""},
		{"alg None", withHeader(t, adminScript, map[string]any{"alg": "None", "typ": "JWT"}, nil), nil, auth.ErrInvalidToken, auth.ReasonAlgorithm, "", ""},
		{"HS256 keyed with the public key (PKIX PEM)", withHeader(t, viewerScript, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, hs256(pemPKIX)), nil, auth.ErrInvalidToken, auth.ReasonAlgorithm, "", ""},
		{"HS256 keyed with the public key (PKCS1 PEM)", withHeader(t, viewerScript, map[string]any{"alg": "HS256", "kid": kid}, hs256(pemPKCS1)), nil, auth.ErrInvalidToken, auth.ReasonAlgorithm, "", ""},
		{"HS256 keyed with the modulus", withHeader(t, viewerScript, map[string]any{"alg": "HS256", "kid": kid}, hs256(pub.N.Bytes())), nil, auth.ErrInvalidToken, auth.ReasonAlgorithm, "", ""},
		{"tampered payload", withClaims(t, viewerScript, map[string]any{"roles": []string{devidp.DemoAdminRole}}), nil, auth.ErrInvalidToken, auth.ReasonSignature, "", ""},
		{"tampered expiry", withClaims(t, expiring, map[string]any{"exp": time.Now().Add(time.Hour).Unix()}), nil, auth.ErrInvalidToken, auth.ReasonSignature, "", ""},
		{"signed by another key under the provider's key id", withHeader(t, adminScript, map[string]any{"alg": "RS256", "kid": kid}, rs256), nil, auth.ErrInvalidToken, auth.ReasonSignature, "", ""},
		{"not a JWT", "not-a-token", nil, auth.ErrInvalidToken, auth.ReasonMalformed, "", ""},
		{"signature stripped", strings.Join(strings.Split(adminScript, ".")[:2], ".") + ".", nil, auth.ErrInvalidToken, auth.ReasonSignature, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tt.token)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !slices.Equal(got.Roles, tt.roles) || got.Name != tt.who || got.Email != tt.email || got.Subject == "" {
					t.Fatalf("principal = %+v, want roles %v, name %q, email %q", got, tt.roles, tt.who, tt.email)
				}
				if until := time.Until(got.ExpiresAt); until < 50*time.Minute || until > time.Hour+time.Minute {
					t.Errorf("ExpiresAt in %v, want about the provider's one-hour TTL", until)
				}
				return
			}
			if got != nil || !errors.Is(err, tt.err) {
				t.Fatalf("Verify = %+v, %v; want %v", got, err, tt.err)
			}
			t.Logf("refused: %v", err)
			var te *auth.TokenError
			if tt.reason != "" && (!errors.As(err, &te) || te.Reason != tt.reason) {
				t.Fatalf("Verify error %q, want reason %q", err, tt.reason)
			}
			if tt.token != "" && strings.Contains(err.Error(), strings.Split(tt.token, ".")[0]) {
				t.Fatalf("the error echoes the token: %q", err)
			}
		})
	}
}

func TestRolesClaimPaths(t *testing.T) {
	// Keycloak nests realm roles; Dex sends groups. Both are set up the way their users would.
	tests := []struct {
		claim string
		admin string
		view  string
	}{
		{"realm_access.roles", "overshare-admin", "overshare-viewer"},
		{"groups", "it-security", "helpdesk"},
		{"resource_access.overshare.roles", "admin", "viewer"},
	}
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			p := startIDP(t, func(o *devidp.Options) {
				o.RolesClaim = tt.claim
				o.Users[0].Roles = []string{"staff", tt.admin}
				o.Users[1].Roles = []string{tt.view}
			})
			v := verifierOf(t, p, auth.Config{RolesClaim: tt.claim, AdminValues: []string{tt.admin}, ViewerValues: []string{tt.view}})
			defaults := verifierOf(t, p, auth.Config{}) // looks in "roles", where these providers put nothing
			for _, c := range []struct {
				user string
				want []auth.Role
			}{
				{"admin", []auth.Role{auth.RoleAdmin, auth.RoleViewer}},
				{"viewer", []auth.Role{auth.RoleViewer}},
			} {
				tok := p.Login(t, c.user).AccessToken
				got, err := v.Verify(context.Background(), tok)
				if err != nil || !slices.Equal(got.Roles, c.want) {
					t.Errorf("%s with claim %s: %+v, %v; want %v", c.user, tt.claim, got, err, c.want)
				}
				if got, err := defaults.Verify(context.Background(), tok); err != nil || len(got.Roles) != 0 {
					t.Errorf("%s with the default claim: %+v, %v; want valid without roles", c.user, got, err)
				}
			}
		})
	}
}

func TestMiddlewareRecordsWithoutRejecting(t *testing.T) {
	p := startIDP(t, nil)
	v := verifierOf(t, p, auth.Config{})
	type seen struct {
		p   *auth.Principal
		err error
	}
	var last seen
	h := auth.Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, err := auth.PrincipalFrom(r.Context())
		last = seen{pr, err}
		if _, err := auth.Require(r.Context(), auth.RoleAdmin); err != nil {
			w.WriteHeader(http.StatusTeapot) // the handler decides, not the middleware
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	admin := p.Token(t, devidp.DemoAdminScriptClientID)
	viewer := p.Token(t, devidp.DemoViewerScriptClientID)
	tests := []struct {
		name    string
		header  string
		status  int
		subject string
		err     error
	}{
		{"admin", "Bearer " + admin, http.StatusOK, devidp.DemoAdminScriptClientID, nil},
		{"scheme in lower case", "bearer " + admin, http.StatusOK, devidp.DemoAdminScriptClientID, nil},
		{"viewer asks for admin", "Bearer " + viewer, http.StatusTeapot, devidp.DemoViewerScriptClientID, nil},
		{"no header", "", http.StatusTeapot, "", auth.ErrNoToken},
		{"basic scheme", "Basic YWRtaW46YWRtaW4=", http.StatusTeapot, "", auth.ErrNoToken},
		{"forged", "Bearer " + withClaims(t, viewer, map[string]any{"roles": []string{devidp.DemoAdminRole}}), http.StatusTeapot, "", auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "/graphql", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		rec := httptest.NewRecorder()
		last = seen{}
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
		switch {
		case tt.err != nil && (!errors.Is(last.err, tt.err) || last.p != nil):
			t.Errorf("%s: context holds %+v, %v; want %v", tt.name, last.p, last.err, tt.err)
		case tt.err == nil && (last.err != nil || last.p == nil || last.p.Subject != tt.subject):
			t.Errorf("%s: context holds %+v, %v; want subject %s", tt.name, last.p, last.err, tt.subject)
		}
	}
}

func TestNewVerifierNeedsAMatchingIssuer(t *testing.T) {
	p := startIDP(t, nil)
	ctx := context.Background()
	// Discovery answers with the provider's own issuer; a verifier configured with another spelling
	// (trailing slash) must refuse to start rather than reject every token later.
	_, err := auth.NewVerifier(ctx, auth.Config{Issuer: p.Issuer() + "/", Audience: "a", HTTPClient: p.Server.Client()})
	if err == nil {
		t.Error("NewVerifier accepted an issuer that differs from the discovered one")
	}
	// Without the test CA the TLS handshake fails: HTTPClient is what made the other tests work.
	if _, err := auth.NewVerifier(ctx, auth.Config{Issuer: p.Issuer(), Audience: "a"}); err == nil {
		t.Error("NewVerifier trusted the test certificate without HTTPClient")
	}
}

func TestForgedTokensDoNotMakeTheVerifierRefetchKeys(t *testing.T) {
	p := startIDP(t, nil)
	v := verifierOf(t, p, auth.Config{})
	ctx := context.Background()
	admin := p.Token(t, devidp.DemoAdminScriptClientID)
	if _, err := v.Verify(ctx, admin); err != nil {
		t.Fatal(err)
	}
	_, kid := p.PublicKey(t)
	fetchedBefore := p.JWKSFetches.Load() - 1 // publicKey fetched once itself
	attackerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signWithAttackerKey := func(input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, attackerKey, crypto.SHA256, sum[:])
		return sig
	}
	forged := []string{
		withClaims(t, admin, map[string]any{"sub": "someone-else"}),                                        // known key id
		withHeader(t, admin, map[string]any{"alg": "RS256", "kid": "rotated-" + kid}, signWithAttackerKey), // unknown key id
		withHeader(t, admin, map[string]any{"alg": "RS256"}, signWithAttackerKey),                          // no key id
	}
	for range 20 {
		for _, tok := range forged {
			if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("forged token: %v", err)
			}
		}
	}
	if _, err := v.Verify(ctx, admin); err != nil {
		t.Fatalf("the real token after the forged ones: %v", err)
	}
	if got := p.JWKSFetches.Load() - 1; got != fetchedBefore || got != 1 {
		t.Fatalf("the verifier fetched the JWKS %d times for 1 real and 60 forged tokens, want once", got)
	}
}

func TestVerifierReachesAnInProcessProviderBeforeAnyServerListens(t *testing.T) {
	// The demo mounts the provider on the server whose middleware needs the verifier; with the
	// provider's in-process client the verifier starts first. Port 1: nothing listens there.
	ctx := context.Background()
	opts := devidp.DemoOptions("http://127.0.0.1:1/oidc", []string{"http://127.0.0.1:1/callback"})
	p, err := devidp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(ctx, auth.Config{Issuer: opts.Issuer, Audience: devidp.DemoAudience, HTTPClient: p.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	script, err := devidptest.ClientCredentials(ctx, p.HTTPClient(), p.TokenURL(), opts.Clients[1].ID, opts.Clients[1].Secret)
	if err != nil {
		t.Fatal(err)
	}
	user, err := devidptest.NewBrowser(p.HTTPClient()).Login(ctx, opts.Issuer, devidp.DemoSPAClientID,
		"http://127.0.0.1:1/callback", opts.Users[1].Username, opts.Users[1].Password)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token string
		want  []auth.Role
	}{
		{script.AccessToken, []auth.Role{auth.RoleAdmin, auth.RoleViewer}},
		{user.AccessToken, []auth.Role{auth.RoleViewer}},
	} {
		if got, err := v.Verify(ctx, c.token); err != nil || !slices.Equal(got.Roles, c.want) {
			t.Errorf("Verify = %+v, %v; want %v", got, err, c.want)
		}
	}
	if _, err := p.HTTPClient().Get("http://example.com/"); err == nil {
		t.Error("the in-process client reached another host")
	}
}

// A token for another API, above all the Microsoft Graph token Entra ID issues to a sign-in
// that asked for no scope of Overshare, is refused with the scope to request named.
func TestTokenForAnotherAPINamesTheScope(t *testing.T) {
	const graphClient, graphURIClient = "graph-script", "graph-uri-script"
	addGraph := func(o *devidp.Options) {
		o.Clients = append(o.Clients,
			devidp.Client{ID: graphClient, Secret: devidptest.ClientSecret, Roles: []string{devidp.DemoAdminRole}, Audience: auth.GraphAppID},
			devidp.Client{ID: graphURIClient, Secret: devidptest.ClientSecret, Audience: auth.GraphResourceURI})
	}
	p := startIDP(t, addGraph)
	// Entra's Graph tokens are v1.0 tokens from another issuer (https://sts.windows.net/<tenant>/).
	elsewhere := startIDP(t, addGraph)
	const scope = "api://overshare/Overshare.Access"
	v := verifierOf(t, p, auth.Config{Scopes: []string{"openid", "profile", "offline_access", scope}})

	for name, tok := range map[string]string{
		"Graph (application id)":  p.Token(t, graphClient),
		"Graph (resource URI)":    p.Token(t, graphURIClient),
		"Graph, another issuer":   elsewhere.Token(t, graphClient),
		"another API of the same": p.Token(t, devidptest.OtherAPIClient),
	} {
		_, err := v.Verify(context.Background(), tok)
		var te *auth.TokenError
		if !errors.As(err, &te) || te.Reason != auth.ReasonAudience {
			t.Fatalf("%s: %v, want a refusal for the audience", name, err)
		}
		if !strings.Contains(te.Message, "request the scope "+scope) || te.Scope != scope {
			t.Errorf("%s: %q (scope %q) does not name the scope to request", name, te.Message, te.Scope)
		}
		if strings.HasPrefix(name, "Graph") != strings.Contains(te.Message, "Microsoft Graph") {
			t.Errorf("%s: %q", name, te.Message)
		}
	}

	// Without a configured API scope, an Entra application id as the audience tells it.
	const appID = "8f0e5c1a-4b2d-4e6f-9a7b-0c1d2e3f4a5b"
	entra := verifierOf(t, p, auth.Config{Audience: appID})
	_, err := entra.Verify(context.Background(), p.Token(t, graphClient))
	if err == nil || !strings.Contains(err.Error(), "api://"+appID+"/.default") {
		t.Errorf("Graph token with an Entra audience: %v, want the .default scope named", err)
	}
	// Neither: the message says what the provider must do instead.
	_, err = verifierOf(t, p, auth.Config{Audience: "overshare-api"}).Verify(context.Background(), p.Token(t, devidp.DemoAdminScriptClientID))
	if err == nil || !strings.Contains(err.Error(), `put "overshare-api" in the access token's aud`) {
		t.Errorf("wrong audience without a scope to name: %v", err)
	}
}

// An Entra ID v1.0 token (the API app's manifest still says accessTokenAcceptedVersion null)
// carries the sts.windows.net issuer: the refusal says which setting fixes it.
func TestEntraV1TokenNamesTheManifestSetting(t *testing.T) {
	p := startIDP(t, func(o *devidp.Options) { o.Issuer += "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" })
	v := verifierOf(t, p, auth.Config{})
	v1 := withClaims(t, p.Token(t, devidp.DemoAdminScriptClientID), map[string]any{
		"iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", "ver": "1.0"})
	_, err := v.Verify(context.Background(), v1)
	var te *auth.TokenError
	if !errors.As(err, &te) || te.Reason != auth.ReasonIssuer || !strings.Contains(te.Message, "accessTokenAcceptedVersion to 2") {
		t.Errorf("v1.0 token: %v, want the issuer refusal naming accessTokenAcceptedVersion", err)
	}
}
