package devidp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
)

// fixture is a devidp with the demo users and clients mounted at /oidc on a real HTTP server,
// with the SPA registered on the same server (as in `overshare demo`).
type fixture struct {
	opts        devidp.Options
	srv         *httptest.Server
	issuer      string
	spaOrigin   string
	callback    string
	silentRenew string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	f := &fixture{
		srv:         srv,
		issuer:      base + "/oidc",
		spaOrigin:   base,
		callback:    base + "/callback",
		silentRenew: base + "/silent-renew.html",
	}
	f.opts = devidp.DemoOptions(f.issuer, []string{f.callback, f.silentRenew})
	p, err := devidp.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", p)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

func (f *fixture) user(name string) devidp.User {
	for _, u := range f.opts.Users {
		if u.Username == name {
			return u
		}
	}
	panic("no user " + name)
}

func (f *fixture) client(id string) devidp.Client {
	for _, c := range f.opts.Clients {
		if c.ID == id {
			return c
		}
	}
	panic("no client " + id)
}

func (f *fixture) tokenURL() string { return f.issuer + "/token" }

// claims verifies a token's signature with the provider's published JWKS and returns its claims.
func (f *fixture) claims(t *testing.T, token string) map[string]any {
	t.Helper()
	resp, err := http.Get(f.issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("token key id %q not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func strs(v any) []string {
	var out []string
	items, _ := v.([]any)
	for _, i := range items {
		s, _ := i.(string)
		out = append(out, s)
	}
	return out
}

func TestDiscoveryAndJWKS(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer":                 f.issuer,
		"authorization_endpoint": f.issuer + "/authorize",
		"token_endpoint":         f.issuer + "/token",
		"userinfo_endpoint":      f.issuer + "/userinfo",
		"jwks_uri":               f.issuer + "/jwks",
		"end_session_endpoint":   f.issuer + "/logout",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("discovery %s = %v, want %s", k, d[k], v)
		}
	}
	if got := strs(d["code_challenge_methods_supported"]); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %q", got)
	}

	resp, err = http.Get(f.issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID == "" || set.Keys[0].Algorithm != "RS256" || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS = %s, want one public RS256 key with a key id", body)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Fatal("JWKS leaks the private exponent")
	}
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := devidptest.NewBrowser(nil)
	admin := f.user("admin")
	pkce, state, nonce := devidptest.NewPKCE(), devidptest.RandomString(), devidptest.RandomString()

	page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.callback, state, nonce, pkce, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<label for="username">`, `<label for="password">`, `id="username"`, `type="password"`, `<button type="submit">`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("login page lacks %s (status %d)", want, page.Status)
		}
	}
	page, err = b.SignIn(ctx, page, admin.Username, admin.Password)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusSeeOther || !strings.HasPrefix(page.Location, f.callback+"?") {
		t.Fatalf("sign-in answered %d to %q, want a redirect to the callback", page.Status, page.Location)
	}
	params, _ := devidptest.CallbackParams(page.Location)
	if params.Get("state") != state || params.Get("code") == "" {
		t.Fatalf("callback params %v: want the state back and a code", params)
	}

	redeem := func(verifier string) (*devidptest.Tokens, error) {
		return devidptest.Exchange(ctx, nil, f.tokenURL(), url.Values{
			"grant_type": {"authorization_code"}, "code": {params.Get("code")}, "redirect_uri": {f.callback},
			"client_id": {devidp.DemoSPAClientID}, "code_verifier": {verifier},
		}, "", "")
	}
	tok, err := redeem(pkce.Verifier)
	if err != nil {
		t.Fatalf("redeem code: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens = %+v, want access, ID and refresh tokens", tok)
	}
	id := f.claims(t, tok.IDToken)
	if id["iss"] != f.issuer || id["aud"] != devidp.DemoSPAClientID || id["nonce"] != nonce ||
		id["sub"] != "admin" || id["name"] != admin.Name || id["email"] != admin.Email {
		t.Errorf("ID token claims = %v", id)
	}
	at := f.claims(t, tok.AccessToken)
	if at["aud"] != devidp.DemoAudience || !slices.Equal(strs(at["roles"]), []string{devidp.DemoAdminRole}) ||
		at["preferred_username"] != "admin" {
		t.Errorf("access token claims = %v", at)
	}

	// A replayed code is refused and revokes the refresh token it produced (RFC 6749 §4.1.2).
	_, err = redeem(pkce.Verifier)
	wantTokenError(t, err, "invalid_grant")
	_, err = devidptest.Exchange(ctx, nil, f.tokenURL(), url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {devidp.DemoSPAClientID},
	}, "", "")
	wantTokenError(t, err, "invalid_grant")
}

func TestCodeRedemptionRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	viewer := f.user("viewer")
	// code logs in a fresh browser and returns a code and its PKCE pair.
	code := func(t *testing.T) (string, devidptest.PKCE) {
		b := devidptest.NewBrowser(nil)
		pkce := devidptest.NewPKCE()
		page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.callback, "s", "n", pkce, nil))
		if err == nil {
			page, err = b.SignIn(ctx, page, viewer.Username, viewer.Password)
		}
		if err != nil {
			t.Fatal(err)
		}
		params, _ := devidptest.CallbackParams(page.Location)
		return params.Get("code"), pkce
	}
	tests := []struct {
		name   string
		change func(form url.Values, pkce devidptest.PKCE)
		want   string // OAuth error code; "" = success
	}{
		{"right verifier", func(url.Values, devidptest.PKCE) {}, ""},
		{"wrong verifier", func(f url.Values, _ devidptest.PKCE) { f.Set("code_verifier", devidptest.NewPKCE().Verifier) }, "invalid_grant"},
		{"no verifier", func(f url.Values, _ devidptest.PKCE) { f.Del("code_verifier") }, "invalid_grant"},
		{"challenge as verifier", func(f url.Values, p devidptest.PKCE) { f.Set("code_verifier", p.Challenge) }, "invalid_grant"},
		{"other redirect_uri", func(f url.Values, _ devidptest.PKCE) { f.Set("redirect_uri", f.Get("redirect_uri")+"x") }, "invalid_grant"},
		{"other client", func(f url.Values, _ devidptest.PKCE) {
			f.Set("client_id", devidp.DemoAdminScriptClientID)
			f.Set("client_secret", "wrong")
		}, "invalid_client"},
		{"unknown code", func(f url.Values, _ devidptest.PKCE) { f.Set("code", "nope") }, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, pkce := code(t)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {f.callback},
				"client_id": {devidp.DemoSPAClientID}, "code_verifier": {pkce.Verifier}}
			tt.change(form, pkce)
			tok, err := devidptest.Exchange(ctx, nil, f.tokenURL(), form, "", "")
			if tt.want == "" {
				if err != nil || tok.AccessToken == "" {
					t.Fatalf("redeem = %v, %v; want tokens", tok, err)
				}
				return
			}
			wantTokenError(t, err, tt.want)
			if tt.want == "invalid_grant" && form.Get("code") == c {
				// The failed attempt burnt the code: even the right verifier cannot use it now.
				form.Set("code_verifier", pkce.Verifier)
				form.Set("redirect_uri", f.callback)
				_, err := devidptest.Exchange(ctx, nil, f.tokenURL(), form, "", "")
				wantTokenError(t, err, "invalid_grant")
			}
		})
	}
}

func TestAuthorizationRequestErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pkce := devidptest.NewPKCE()
	tests := []struct {
		name      string
		clientID  string
		redirect  string
		extra     url.Values
		wantPage  bool   // an error page, never a redirect, when the client or redirect is untrusted
		wantError string // else the error sent back to the redirect URI
	}{
		{"unknown client", "nobody", f.callback, nil, true, ""},
		{"unregistered redirect", devidp.DemoSPAClientID, f.spaOrigin + "/evil", nil, true, ""},
		{"redirect on another host", devidp.DemoSPAClientID, "http://evil.example/callback", nil, true, ""},
		{"no PKCE for a public client", devidp.DemoSPAClientID, f.callback, url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, false, "invalid_request"},
		{"plain PKCE", devidp.DemoSPAClientID, f.callback, url.Values{"code_challenge_method": {"plain"}}, false, "invalid_request"},
		{"implicit flow", devidp.DemoSPAClientID, f.callback, url.Values{"response_type": {"token"}}, false, "unsupported_response_type"},
		{"prompt=none without session", devidp.DemoSPAClientID, f.callback, url.Values{"prompt": {"none"}}, false, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := devidptest.NewBrowser(nil)
			page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, tt.clientID, tt.redirect, "st", "n", pkce, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantPage {
				if page.Status != http.StatusBadRequest || page.Location != "" || strings.Contains(page.Body, "<form") {
					t.Fatalf("got %d to %q, want a 400 error page without redirect or form", page.Status, page.Location)
				}
				return
			}
			params, _ := devidptest.CallbackParams(page.Location)
			if !strings.HasPrefix(page.Location, f.callback) || params.Get("error") != tt.wantError || params.Get("state") != "st" {
				t.Fatalf("got %d to %q, want error=%s with the state", page.Status, page.Location, tt.wantError)
			}
		})
	}
}

func TestWrongPasswordShowsTheFormAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := devidptest.NewBrowser(nil)
	page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.callback, "s", "n", devidptest.NewPKCE(), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, creds := range [][2]string{{"admin", "wrong"}, {"nobody", f.user("admin").Password}, {"admin", ""}} {
		page, err = b.SignIn(ctx, page, creds[0], creds[1])
		if err != nil {
			t.Fatal(err)
		}
		if page.Location != "" || !strings.Contains(page.Body, "Wrong username or password") || !strings.Contains(page.Body, `<form`) {
			t.Fatalf("sign-in as %q with a wrong password: %d %q, want the form again with an error", creds[0], page.Status, page.Location)
		}
	}
	// The form shown again still works.
	page, err = b.SignIn(ctx, page, "admin", f.user("admin").Password)
	if err != nil {
		t.Fatal(err)
	}
	if params, _ := devidptest.CallbackParams(page.Location); params.Get("code") == "" {
		t.Fatalf("sign-in after a failure: %d %q, want a code", page.Status, page.Location)
	}
}

func TestLoginFormNeedsItsCSRFToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	page, err := devidptest.NewBrowser(nil).Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.callback, "s", "n", devidptest.NewPKCE(), nil))
	if err != nil {
		t.Fatal(err)
	}
	form, err := page.LoginForm()
	if err != nil {
		t.Fatal(err)
	}
	form.Fields.Set("username", "admin")
	form.Fields.Set("password", f.user("admin").Password)
	// Another browser (another site's auto-submitting form) has no CSRF cookie.
	page, err = devidptest.NewBrowser(nil).Post(ctx, form.Action, form.Fields)
	if err != nil {
		t.Fatal(err)
	}
	if page.Location != "" || page.Status != http.StatusBadRequest {
		t.Fatalf("cross-site login POST: %d %q, want the form again", page.Status, page.Location)
	}
}

func TestSilentRenewWithPromptNone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := devidptest.NewBrowser(nil)
	silent := func() url.Values {
		t.Helper()
		pkce := devidptest.NewPKCE()
		page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.silentRenew, "renew", "n2", pkce,
			url.Values{"prompt": {"none"}}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(page.Location, f.silentRenew+"?") {
			t.Fatalf("prompt=none answered %d %q, want a redirect to the silent-renew page", page.Status, page.Location)
		}
		params, _ := devidptest.CallbackParams(page.Location)
		if params.Get("state") != "renew" {
			t.Fatalf("state lost: %v", params)
		}
		if c := params.Get("code"); c != "" {
			tok, err := devidptest.Exchange(ctx, nil, f.tokenURL(), url.Values{"grant_type": {"authorization_code"}, "code": {c},
				"redirect_uri": {f.silentRenew}, "client_id": {devidp.DemoSPAClientID}, "code_verifier": {pkce.Verifier}}, "", "")
			if err != nil {
				t.Fatalf("redeem silent code: %v", err)
			}
			if sub := f.claims(t, tok.IDToken)["sub"]; sub != "viewer" {
				t.Fatalf("silent renew signed in %v, want viewer", sub)
			}
		}
		return params
	}

	if p := silent(); p.Get("error") != "login_required" {
		t.Fatalf("prompt=none before login: %v, want error=login_required", p)
	}
	if _, err := b.Login(ctx, f.issuer, devidp.DemoSPAClientID, f.callback, "viewer", f.user("viewer").Password); err != nil {
		t.Fatal(err)
	}
	if p := silent(); p.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v, want a code", p)
	}

	// Logging out ends the session: silent renew needs a login again.
	page, err := b.Get(ctx, f.issuer+"/logout?"+url.Values{"post_logout_redirect_uri": {f.spaOrigin + "/"},
		"client_id": {devidp.DemoSPAClientID}, "state": {"bye"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if page.Location != f.spaOrigin+"/?state=bye" {
		t.Fatalf("logout redirected to %q", page.Location)
	}
	if p := silent(); p.Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout: %v, want error=login_required", p)
	}
}

func TestLogoutRedirectMustBelongToTheClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := devidptest.NewBrowser(nil)
	tok, err := b.Login(ctx, f.issuer, devidp.DemoSPAClientID, f.callback, "admin", f.user("admin").Password)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params url.Values
		want   string // redirect target; "" = an error page
	}{
		{"id_token_hint names the client", url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {f.spaOrigin + "/signed-out"}}, f.spaOrigin + "/signed-out"},
		{"foreign origin", url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {"http://evil.example/"}}, ""},
		{"no client named", url.Values{"post_logout_redirect_uri": {f.spaOrigin + "/"}}, ""},
		{"forged hint", url.Values{"id_token_hint": {tok.IDToken + "x"}, "post_logout_redirect_uri": {f.spaOrigin + "/"}}, ""},
	}
	for _, tt := range tests {
		page, err := b.Get(ctx, f.issuer+"/logout?"+tt.params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if page.Location != tt.want || (tt.want == "" && page.Status != http.StatusBadRequest) {
			t.Errorf("%s: logout answered %d to %q, want %q", tt.name, page.Status, page.Location, tt.want)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, viewer := f.client(devidp.DemoAdminScriptClientID), f.client(devidp.DemoViewerScriptClientID)
	tests := []struct {
		name      string
		form      url.Values
		basicID   string
		basicPass string
		wantRoles []string
		wantError string
		wantCode  int
	}{
		{"admin script, basic", url.Values{}, admin.ID, admin.Secret, []string{devidp.DemoAdminRole}, "", 200},
		{"viewer script, basic", url.Values{}, viewer.ID, viewer.Secret, []string{devidp.DemoViewerRole}, "", 200},
		{"admin script, post", url.Values{"client_id": {admin.ID}, "client_secret": {admin.Secret}}, "", "", []string{devidp.DemoAdminRole}, "", 200},
		{"viewer script, post", url.Values{"client_id": {viewer.ID}, "client_secret": {viewer.Secret}}, "", "", []string{devidp.DemoViewerRole}, "", 200},
		{"wrong secret, basic", url.Values{}, admin.ID, viewer.Secret, nil, "invalid_client", 401},
		{"wrong secret, post", url.Values{"client_id": {viewer.ID}, "client_secret": {"guess"}}, "", "", nil, "invalid_client", 401},
		{"no secret", url.Values{"client_id": {admin.ID}}, "", "", nil, "invalid_client", 401},
		{"unknown client", url.Values{}, "nobody", "x", nil, "invalid_client", 401},
		{"public client", url.Values{"client_id": {devidp.DemoSPAClientID}}, "", "", nil, "unauthorized_client", 400},
		{"two methods", url.Values{"client_secret": {admin.Secret}}, admin.ID, admin.Secret, nil, "invalid_request", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("grant_type", "client_credentials")
			tok, err := devidptest.Exchange(ctx, nil, f.tokenURL(), tt.form, tt.basicID, tt.basicPass)
			if tt.wantError != "" {
				var te *devidptest.TokenError
				if !errors.As(err, &te) || te.Code != tt.wantError || te.Status != tt.wantCode {
					t.Fatalf("got %v, %v; want %d %s", tok, err, tt.wantCode, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := f.claims(t, tok.AccessToken)
			if c["sub"] != c["client_id"] || c["aud"] != devidp.DemoAudience || c["iss"] != f.issuer ||
				!slices.Equal(strs(c["roles"]), tt.wantRoles) || tok.IDToken != "" || tok.RefreshToken != "" {
				t.Errorf("tokens %+v with claims %v", tok, c)
			}
		})
	}
}

func TestRefreshTokensRotate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, err := devidptest.NewBrowser(nil).Login(ctx, f.issuer, devidp.DemoSPAClientID, f.callback, "viewer", f.user("viewer").Password)
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt, clientID string) (*devidptest.Tokens, error) {
		return devidptest.Exchange(ctx, nil, f.tokenURL(), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {rt}, "client_id": {clientID}}, "", "")
	}
	_, err = refresh(tok.RefreshToken, "nobody")
	wantTokenError(t, err, "invalid_client")
	next, err := refresh(tok.RefreshToken, devidp.DemoSPAClientID)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.IDToken == "" {
		t.Fatalf("refresh answered %+v, want new ID and refresh tokens", next)
	}
	if c := f.claims(t, next.AccessToken); c["sub"] != "viewer" || !slices.Equal(strs(c["roles"]), []string{devidp.DemoViewerRole}) {
		t.Fatalf("refreshed access token claims %v", c)
	}
	_, err = refresh(tok.RefreshToken, devidp.DemoSPAClientID)
	wantTokenError(t, err, "invalid_grant")
	if _, err := refresh(next.RefreshToken, devidp.DemoSPAClientID); err != nil {
		t.Fatalf("the rotated refresh token: %v", err)
	}
}

func TestUserinfo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	user, err := devidptest.NewBrowser(nil).Login(ctx, f.issuer, devidp.DemoSPAClientID, f.callback, "admin", f.user("admin").Password)
	if err != nil {
		t.Fatal(err)
	}
	app, err := devidptest.ClientCredentials(ctx, nil, f.tokenURL(), devidp.DemoAdminScriptClientID, f.client(devidp.DemoAdminScriptClientID).Secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"user token", "Bearer " + user.AccessToken, 200},
		{"app token", "Bearer " + app.AccessToken, 401},
		{"ID token", "Bearer " + user.IDToken, 401},
		{"tampered", "Bearer " + user.AccessToken[:len(user.AccessToken)-4] + "AAAA", 401},
		{"none", "", 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(ctx, "GET", f.issuer+"/userinfo", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (%v)", tt.name, resp.StatusCode, tt.status, body)
		}
		if tt.status == 200 && (body["sub"] != "admin" || body["email"] != f.user("admin").Email) {
			t.Errorf("%s: userinfo %v", tt.name, body)
		}
	}
}

func TestCORSOnlyForRegisteredOrigins(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path, method, origin string
		wantAllowed          bool
	}{
		{"/token", http.MethodOptions, f.spaOrigin, true},
		{"/userinfo", http.MethodOptions, f.spaOrigin, true},
		{"/.well-known/openid-configuration", http.MethodGet, f.spaOrigin, true},
		{"/jwks", http.MethodGet, f.spaOrigin, true},
		{"/token", http.MethodOptions, "http://evil.example", false},
		{"/jwks", http.MethodGet, "http://evil.example", false},
		{"/authorize", http.MethodGet, f.spaOrigin, false}, // a page, not an API
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, f.issuer+tt.path, nil)
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if (got == tt.origin) != tt.wantAllowed || got == "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s %s from %s: Allow-Origin %q, Allow-Credentials %q", tt.method, tt.path, tt.origin, got,
				resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	ok := devidp.DemoOptions("http://127.0.0.1:1/oidc", []string{"http://127.0.0.1:1/cb"})
	tests := []struct {
		name   string
		change func(*devidp.Options)
	}{
		{"relative issuer", func(o *devidp.Options) { o.Issuer = "/oidc" }},
		{"issuer with query", func(o *devidp.Options) { o.Issuer = "http://x/oidc?a=b" }},
		{"no audience", func(o *devidp.Options) { o.Audience = "" }},
		{"public client without redirect", func(o *devidp.Options) { o.Clients[0].RedirectURIs = nil }},
		{"redirect with fragment", func(o *devidp.Options) { o.Clients[0].RedirectURIs = []string{"http://x/cb#f"} }},
		{"duplicate user", func(o *devidp.Options) { o.Users = append(o.Users, o.Users[0]) }},
		{"user without password", func(o *devidp.Options) { o.Users[0].Password = "" }},
	}
	for _, tt := range tests {
		o := devidp.DemoOptions(ok.Issuer, ok.Clients[0].RedirectURIs)
		tt.change(&o)
		if _, err := devidp.New(o); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
	if _, err := devidp.New(ok); err != nil {
		t.Fatalf("demo options: %v", err)
	}
}

func TestDemoOptionsAreRandomPerCall(t *testing.T) {
	a := devidp.DemoOptions("http://127.0.0.1:1/oidc", nil)
	b := devidp.DemoOptions("http://127.0.0.1:1/oidc", nil)
	if a.Users[0].Password == b.Users[0].Password || a.Clients[1].Secret == b.Clients[1].Secret ||
		len(a.Users[0].Password) < 12 || len(a.Clients[1].Secret) < 20 {
		t.Fatalf("demo credentials are not random: %q %q", a.Users[0].Password, a.Clients[1].Secret)
	}
}

func wantTokenError(t *testing.T, err error, code string) {
	t.Helper()
	var te *devidptest.TokenError
	if !errors.As(err, &te) || te.Code != code {
		t.Fatalf("got %v, want OAuth error %s", err, code)
	}
}

func TestSessionPromptsAndResponseModes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := devidptest.NewBrowser(nil)
	if _, err := b.Login(ctx, f.issuer, devidp.DemoSPAClientID, f.callback, "admin", f.user("admin").Password); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		extra    url.Values
		wantForm bool   // the login form rather than a redirect
		prefix   string // where the redirect goes
	}{
		{"signed-in browser gets a code without the form", nil, false, f.callback + "?"},
		{"prompt=login asks again", url.Values{"prompt": {"login"}}, true, ""},
		{"fragment response mode", url.Values{"response_mode": {"fragment"}}, false, f.callback + "#"},
		{"prompt=none with another value", url.Values{"prompt": {"none login"}}, false, f.callback + "?"},
	}
	for _, tt := range tests {
		page, err := b.Get(ctx, devidptest.AuthorizeURL(f.issuer, devidp.DemoSPAClientID, f.callback, "st", "n", devidptest.NewPKCE(), tt.extra))
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantForm {
			if page.Location != "" || !strings.Contains(page.Body, `id="password"`) {
				t.Errorf("%s: %d %q, want the login form", tt.name, page.Status, page.Location)
			}
			continue
		}
		params, _ := devidptest.CallbackParams(page.Location)
		if !strings.HasPrefix(page.Location, tt.prefix) || params.Get("state") != "st" {
			t.Errorf("%s: redirect to %q, want %s…", tt.name, page.Location, tt.prefix)
		}
		if strings.Contains(tt.name, "another value") != (params.Get("error") == "invalid_request") {
			t.Errorf("%s: params %v", tt.name, params)
		}
	}
}
