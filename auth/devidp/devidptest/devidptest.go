// Package devidptest obtains tokens from an OpenID Connect provider the way real clients do — a
// browser submitting the login form with PKCE, or a script using client_credentials — for tests
// of anything that needs a bearer token. It talks HTTP only; it knows nothing devidp does not
// show on the wire, so the tests it serves exercise the real endpoints.
package devidptest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Tokens is a token endpoint's successful answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// TokenError is a token endpoint's error answer (RFC 6749 §5.2).
type TokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("token endpoint: %d %s: %s", e.Status, e.Code, e.Description)
}

// PKCE is a code verifier and its S256 challenge.
type PKCE struct{ Verifier, Challenge string }

// NewPKCE returns a fresh random verifier (43 characters) and its challenge.
func NewPKCE() PKCE {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// RandomString returns a random URL-safe string, for state and nonce.
func RandomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthorizeURL builds an authorization request for the code flow with PKCE. extra adds or
// overrides parameters (prompt, response_mode…).
func AuthorizeURL(issuer, clientID, redirectURI, state, nonce string, pkce PKCE, extra url.Values) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile email offline_access"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {pkce.Challenge},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return strings.TrimSuffix(issuer, "/") + "/authorize?" + q.Encode()
}

// Browser is an HTTP client with a cookie jar that does not follow redirects, so that a test
// sees each hop (the redirect back to the application carries the code).
type Browser struct {
	HTTP *http.Client
}

// NewBrowser returns a Browser; base supplies the transport (nil: http.DefaultTransport).
func NewBrowser(base *http.Client) *Browser {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if base != nil {
		hc.Transport = base.Transport
	}
	return &Browser{HTTP: hc}
}

// Page is a fetched response with its body read.
type Page struct {
	URL      *url.URL
	Status   int
	Location string // the redirect target, if any
	Body     string
}

// Get fetches a URL.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

// Post submits a form.
func (b *Browser) Post(ctx context.Context, rawURL string, form url.Values) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *Browser) do(req *http.Request) (*Page, error) {
	resp, err := b.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	p := &Page{URL: req.URL, Status: resp.StatusCode, Body: string(body)}
	if loc, err := resp.Location(); err == nil {
		p.Location = loc.String()
	}
	return p, nil
}

// Form is an HTML form found on a page: where it posts and its fields' values.
type Form struct {
	Action string
	Fields url.Values
}

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
)

// LoginForm finds the first form on the page; it fails when there is none.
func (p *Page) LoginForm() (*Form, error) {
	m := formRe.FindStringSubmatch(p.Body)
	if m == nil {
		return nil, fmt.Errorf("no form on the page (status %d)", p.Status)
	}
	action, err := p.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("form action: %w", err)
	}
	f := &Form{Action: action.String(), Fields: url.Values{}}
	for _, input := range inputRe.FindAllString(m[2], -1) {
		var name, value string
		for _, a := range attrRe.FindAllStringSubmatch(input, -1) {
			if strings.EqualFold(a[1], "name") {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			f.Fields.Set(name, value)
		}
	}
	return f, nil
}

// SignIn fills in and submits the login form on the page.
func (b *Browser) SignIn(ctx context.Context, page *Page, username, password string) (*Page, error) {
	form, err := page.LoginForm()
	if err != nil {
		return nil, err
	}
	form.Fields.Set("username", username)
	form.Fields.Set("password", password)
	return b.Post(ctx, form.Action, form.Fields)
}

// CallbackParams returns the parameters of a redirect to the application (query or fragment).
func CallbackParams(location string) (url.Values, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, err
	}
	if u.Fragment != "" {
		return url.ParseQuery(u.Fragment)
	}
	return u.Query(), nil
}

// Login runs the whole Authorization Code + PKCE flow as a browser: authorize, sign in (unless
// a session cookie already signs the browser in), check the state, redeem the code.
func (b *Browser) Login(ctx context.Context, issuer, clientID, redirectURI, username, password string) (*Tokens, error) {
	return b.LoginScope(ctx, issuer, clientID, redirectURI, username, password, "")
}

// LoginScope is Login asking for scope (empty: AuthorizeURL's "openid profile email
// offline_access"), the way a dashboard configured with OVERSHARE_OIDC_SCOPES asks.
func (b *Browser) LoginScope(ctx context.Context, issuer, clientID, redirectURI, username, password, scope string) (*Tokens, error) {
	pkce, state, nonce := NewPKCE(), RandomString(), RandomString()
	var extra url.Values
	if scope != "" {
		extra = url.Values{"scope": {scope}}
	}
	page, err := b.Get(ctx, AuthorizeURL(issuer, clientID, redirectURI, state, nonce, pkce, extra))
	if err != nil {
		return nil, err
	}
	if page.Location == "" {
		if page, err = b.SignIn(ctx, page, username, password); err != nil {
			return nil, err
		}
	}
	if page.Location == "" {
		return nil, fmt.Errorf("sign-in did not redirect (status %d)", page.Status)
	}
	params, err := CallbackParams(page.Location)
	if err != nil {
		return nil, err
	}
	if e := params.Get("error"); e != "" {
		return nil, fmt.Errorf("authorization error %s: %s", e, params.Get("error_description"))
	}
	if params.Get("state") != state {
		return nil, errors.New("state was not passed through")
	}
	return Exchange(ctx, b.HTTP, strings.TrimSuffix(issuer, "/")+"/token", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {params.Get("code")},
		"redirect_uri":  {redirectURI},
		"client_id":     {clientID},
		"code_verifier": {pkce.Verifier},
	}, "", "")
}

// Exchange posts a token request. With basicID set the client authenticates with HTTP Basic
// (client_secret_basic). OAuth errors come back as *TokenError.
func Exchange(ctx context.Context, hc *http.Client, tokenURL string, form url.Values, basicID, basicSecret string) (*Tokens, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		if err := json.Unmarshal(body, te); err != nil {
			return nil, fmt.Errorf("token endpoint: %s: %.200s", resp.Status, body)
		}
		return nil, te
	}
	var t Tokens
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("token endpoint: decode: %w", err)
	}
	return &t, nil
}

// ClientCredentials gets a token for a confidential client with client_secret_basic.
func ClientCredentials(ctx context.Context, hc *http.Client, tokenURL, clientID, secret string) (*Tokens, error) {
	return Exchange(ctx, hc, tokenURL, url.Values{"grant_type": {"client_credentials"}}, clientID, secret)
}
