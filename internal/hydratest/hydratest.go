// Package hydratest runs Ory Hydra v2, a certified OpenID provider, for tests: a real
// provider besides the development one, so that sign-in is shown to work with a provider
// Overshare did not write. It starts the binary `make hydra` builds (bin/hydra, or the path in
// OVERSHARE_TEST_HYDRA) on a fresh PostgreSQL database, with the login, consent and token-hook
// endpoints a deployment writes itself: here a few lines that accept the user a test names and
// put its roles in the tokens.
package hydratest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
)

// Audience is the API's identifier in the tokens Hydra issues for Overshare.
const Audience = "overshare-api"

// Provider is a running Hydra.
type Provider struct {
	Issuer   string
	admin    string // admin API base URL
	public   string
	mu       sync.Mutex
	roles    map[string][]string // subject or client id → roles the tokens carry
	loginApp string
}

// Options change how Hydra runs.
type Options struct {
	// CORSOrigins may call Hydra's public endpoints from a browser (the dashboard's origin:
	// the SPA fetches the token endpoint itself).
	CORSOrigins []string
}

// Binary is the Hydra binary the tests use, "" when it has not been built.
func Binary() string {
	if p := os.Getenv("OVERSHARE_TEST_HYDRA"); p != "" {
		return p
	}
	// From a package directory two levels below the repository (internal/x, cmd/x).
	for _, rel := range []string{"../../bin/hydra", "../bin/hydra"} {
		if p, err := filepath.Abs(rel); err == nil {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// Start runs Hydra until the test ends. Without a binary the test is skipped with how to
// build one (`make test` always builds it and sets OVERSHARE_TEST_HYDRA, so it never skips there).
func Start(t *testing.T) *Provider { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t *testing.T, opt Options) *Provider {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("OVERSHARE_TEST_HYDRA_REQUIRED") != "" {
			t.Fatal("Hydra is required and not built: run make hydra")
		}
		t.Skip("Hydra is not built: run make hydra (make test does)")
	}
	dsn := testdb.PostgresConfig(t).DatabaseURL
	if strings.Contains(dsn, "?") {
		dsn += "&sslmode=disable"
	} else {
		dsn += "?sslmode=disable"
	}
	p := &Provider{roles: map[string][]string{}}
	publicPort, adminPort := freePort(t), freePort(t)
	p.public = "http://127.0.0.1:" + publicPort
	p.admin = "http://127.0.0.1:" + adminPort
	p.Issuer = p.public + "/"
	p.loginApp = p.serveLoginApp(t)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`serve:
  public: {host: 127.0.0.1, port: %s}
  admin: {host: 127.0.0.1, port: %s}
urls:
  self: {issuer: %s}
  login: %s/login
  consent: %s/consent
secrets:
  system: [%s]
strategies:
  access_token: jwt
oauth2:
  allowed_top_level_claims: [roles]
  mirror_top_level_claims: false
  token_hook: %s/token-hook
log:
  level: warn
  leak_sensitive_values: false
`, publicPort, adminPort, p.Issuer, p.loginApp, p.loginApp, randomHex(24), p.loginApp)
	if len(opt.CORSOrigins) > 0 {
		origins, _ := json.Marshal(opt.CORSOrigins)
		cfg = strings.Replace(cfg, "serve:\n  public: {host: 127.0.0.1, port: "+publicPort+"}",
			"serve:\n  public:\n    host: 127.0.0.1\n    port: "+publicPort+"\n    cors:\n      enabled: true\n      allowed_origins: "+string(origins)+
				"\n      allowed_methods: [GET, POST, OPTIONS]\n      allowed_headers: [Authorization, Content-Type]", 1)
	}
	path := filepath.Join(dir, "hydra.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DSN="+dsn)
	migrate := exec.Command(bin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("hydra migrate: %v\n%s", err, out)
	}
	serve := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out", "-c", path)
	serve.Env = env
	logs := &bytes.Buffer{}
	serve.Stdout, serve.Stderr = logs, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(p.admin + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hydra did not become ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// User lets subject sign in, with roles in its tokens.
func (p *Provider) User(subject string, roles ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roles[subject] = roles
}

// PublicClient registers a browser client (Authorization Code with PKCE, no secret).
func (p *Provider) PublicClient(t *testing.T, id string, redirectURIs ...string) {
	t.Helper()
	p.adminCall(t, http.MethodPost, "/admin/clients", map[string]any{
		"client_id": id, "grant_types": []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}, "redirect_uris": redirectURIs,
		"scope": "openid offline_access profile email", "audience": []string{Audience},
		"token_endpoint_auth_method": "none",
	}, nil)
}

// ScriptClient registers a confidential client for client credentials, whose tokens carry roles.
func (p *Provider) ScriptClient(t *testing.T, id, secret string, roles ...string) {
	t.Helper()
	p.adminCall(t, http.MethodPost, "/admin/clients", map[string]any{
		"client_id": id, "client_secret": secret, "grant_types": []string{"client_credentials"},
		"audience": []string{Audience}, "token_endpoint_auth_method": "client_secret_basic",
	}, nil)
	p.User(id, roles...)
}

// SignIn does what a browser does for the dashboard: the authorization request with PKCE,
// Hydra's redirect to the login form, the form sent as subject, the consent, the code at the
// redirect URI and its exchange for tokens. It returns the access token.
func (p *Provider) SignIn(t *testing.T, clientID, redirectURI, subject string) string {
	t.Helper()
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile email"}, "audience": {Audience}, "state": {randomHex(8)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	jar, _ := cookiejar.New(nil)
	var code string
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			code = req.URL.Query().Get("code")
			if code == "" {
				return fmt.Errorf("sign-in refused: %s: %s", req.URL.Query().Get("error"), req.URL.Query().Get("error_description"))
			}
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(p.public + "/oauth2/auth?" + q.Encode())
	if err != nil {
		t.Fatalf("sign in as %s: %v", subject, err)
	}
	resp.Body.Close()
	challenge := resp.Request.URL.Query().Get("login_challenge")
	if challenge == "" {
		t.Fatalf("sign in as %s: Hydra did not send the browser to the login form (status %d at %s)", subject, resp.StatusCode, resp.Request.URL)
	}
	resp, err = browser.PostForm(p.loginApp+"/login", url.Values{"login_challenge": {challenge}, "username": {subject}})
	if err != nil {
		t.Fatalf("sign in as %s: %v", subject, err)
	}
	resp.Body.Close()
	if code == "" {
		t.Fatalf("sign in as %s: no code (status %d)", subject, resp.StatusCode)
	}
	return p.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier}}, "", "")
}

// ClientCredentials is a script's token.
func (p *Provider) ClientCredentials(t *testing.T, id, secret string) string {
	t.Helper()
	return p.token(t, url.Values{"grant_type": {"client_credentials"}, "audience": {Audience}}, id, secret)
}

func (p *Provider) token(t *testing.T, form url.Values, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.public+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token (%s): %d %s %s %v", form.Get("grant_type"), resp.StatusCode, body.Error, body.Description, err)
	}
	return body.AccessToken
}

// RotateKey makes Hydra sign new access tokens with a new key; the old one stays published,
// so tokens already issued stay valid.
func (p *Provider) RotateKey(t *testing.T) {
	t.Helper()
	p.adminCall(t, http.MethodPost, "/admin/keys/hydra.jwt.access-token",
		map[string]any{"alg": "RS256", "use": "sig", "kid": "rotated-" + randomHex(4)}, nil)
}

func (p *Provider) adminCall(t *testing.T, method, path string, in, out any) {
	t.Helper()
	if err := p.call(method, path, in, out); err != nil {
		t.Fatal(err)
	}
}

func (p *Provider) call(method, path string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(context.Background(), method, p.admin+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("hydra %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("hydra %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// serveLoginApp serves the login, consent and token-hook endpoints Hydra calls.
func (p *Provider) serveLoginApp(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	redirect := func(w http.ResponseWriter, r *http.Request, method, path string, body any) {
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		if err := p.call(method, path, body, &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, out.RedirectTo, http.StatusSeeOther)
	}
	// The login form: a user name is enough here; what matters is Hydra's side of the flow.
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Sign in</title><form method="post" action="/login">
<input type="hidden" name="login_challenge" value="%s">
<label for="username">Username</label> <input id="username" name="username" autofocus>
<button type="submit">Sign in</button></form>`, html.EscapeString(r.URL.Query().Get("login_challenge")))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		subject := r.PostFormValue("username")
		p.mu.Lock()
		_, known := p.roles[subject]
		p.mu.Unlock()
		if !known {
			http.Error(w, "unknown user "+subject, http.StatusForbidden)
			return
		}
		challenge := url.QueryEscape(r.PostFormValue("login_challenge"))
		redirect(w, r, http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+challenge,
			map[string]any{"subject": subject})
	})
	mux.HandleFunc("GET /consent", func(w http.ResponseWriter, r *http.Request) {
		challenge := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
		var req struct {
			Subject        string   `json:"subject"`
			RequestedScope []string `json:"requested_scope"`
			Audience       []string `json:"requested_access_token_audience"`
		}
		if err := p.call(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+challenge, nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		roles := p.roles[req.Subject]
		p.mu.Unlock()
		redirect(w, r, http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+challenge,
			map[string]any{"grant_scope": req.RequestedScope, "grant_access_token_audience": req.Audience,
				"session": map[string]any{"access_token": map[string]any{"roles": roles}}})
	})
	// Hydra's token hook: client credentials have no consent, so a script's roles come here.
	mux.HandleFunc("POST /token-hook", func(w http.ResponseWriter, r *http.Request) {
		var hook struct {
			Request struct {
				ClientID   string   `json:"client_id"`
				GrantTypes []string `json:"grant_types"`
			} `json:"request"`
		}
		json.NewDecoder(r.Body).Decode(&hook)
		if len(hook.Request.GrantTypes) == 0 || hook.Request.GrantTypes[0] != "client_credentials" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		p.mu.Lock()
		roles := p.roles[hook.Request.ClientID]
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"session": map[string]any{"access_token": map[string]any{"roles": roles}}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
