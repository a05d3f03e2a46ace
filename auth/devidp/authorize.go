package devidp

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// session is a browser's login at the provider, found by its cookie. It is what lets
// prompt=none (oidc-client-ts' silent renew in a hidden iframe) get a new code without a form.
type session struct {
	username string
	authTime time.Time
	expires  time.Time
}

// authRequest is a validated authorization request.
type authRequest struct {
	client       Client
	redirectURI  string
	responseMode string // "query" or "fragment"
	scope        string
	state        string
	nonce        string
	challenge    string
	prompt       []string
}

// hidden returns the request as the login form's hidden fields, so the POST carries it back.
func (a *authRequest) hidden() map[string]string {
	return map[string]string{
		"client_id":             a.client.ID,
		"redirect_uri":          a.redirectURI,
		"response_type":         "code",
		"response_mode":         a.responseMode,
		"scope":                 a.scope,
		"state":                 a.state,
		"nonce":                 a.nonce,
		"code_challenge":        a.challenge,
		"code_challenge_method": "S256",
	}
}

func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var params url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		params = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			p.renderError(w, http.StatusBadRequest, "The sign-in form could not be read.")
			return
		}
		params = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	ar, page, code, desc := p.parseAuthRequest(params)
	if page != "" {
		// RFC 6749 §4.1.2.1: without a trusted redirect URI, tell the person, never redirect.
		p.renderError(w, http.StatusBadRequest, page)
		return
	}
	if code != "" {
		p.redirectError(w, r, ar, code, desc)
		return
	}

	now := time.Now()
	sess := p.currentSession(r, now)
	if slices.Contains(ar.prompt, "none") {
		switch {
		case len(ar.prompt) > 1:
			p.redirectError(w, r, ar, "invalid_request", "prompt=none cannot be combined with other values")
		case sess == nil:
			p.redirectError(w, r, ar, "login_required", "no one is signed in at the provider")
		default:
			p.issueCode(w, r, ar, sess, now)
		}
		return
	}
	if r.Method != http.MethodPost {
		if sess != nil && !slices.Contains(ar.prompt, "login") {
			p.issueCode(w, r, ar, sess, now)
			return
		}
		p.renderLogin(w, r, ar, "", http.StatusOK)
		return
	}

	if !p.checkCSRF(r) {
		p.renderLogin(w, r, ar, "The sign-in form expired. Please sign in again.", http.StatusBadRequest)
		return
	}
	user, ok := p.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		p.renderLogin(w, r, ar, "Wrong username or password.", http.StatusOK) // 401 would need WWW-Authenticate
		return
	}
	p.issueCode(w, r, ar, p.startSession(w, user, now), now)
}

// parseAuthRequest validates an authorization request. It returns a message for an error page
// when the client or redirect URI cannot be trusted, an OAuth error to send to the redirect URI
// otherwise, or neither.
func (p *Provider) parseAuthRequest(q url.Values) (ar *authRequest, page, code, desc string) {
	client, ok := p.clients[q.Get("client_id")]
	if !ok {
		return nil, "Unknown client_id: this application is not registered with the provider.", "", ""
	}
	ar = &authRequest{
		client:       client,
		redirectURI:  q.Get("redirect_uri"),
		responseMode: "query",
		scope:        q.Get("scope"),
		state:        q.Get("state"),
		nonce:        q.Get("nonce"),
		challenge:    q.Get("code_challenge"),
		prompt:       strings.Fields(q.Get("prompt")),
	}
	if !slices.Contains(client.RedirectURIs, ar.redirectURI) {
		return nil, "The redirect_uri is not registered for this application.", "", ""
	}
	switch m := q.Get("response_mode"); m {
	case "", "query":
	case "fragment":
		ar.responseMode = m
	default:
		return ar, "", "invalid_request", "response_mode must be query or fragment"
	}
	if rt := q.Get("response_type"); rt != "code" {
		return ar, "", "unsupported_response_type", "only response_type=code is supported"
	}
	method := q.Get("code_challenge_method")
	switch {
	case ar.challenge == "" && client.Secret == "":
		return ar, "", "invalid_request", "public clients must use PKCE: code_challenge with code_challenge_method=S256"
	case ar.challenge != "" && method != "S256":
		return ar, "", "invalid_request", "code_challenge_method must be S256"
	case ar.challenge != "" && len(ar.challenge) != 43:
		return ar, "", "invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)"
	}
	for _, pr := range ar.prompt {
		if pr != "none" && pr != "login" && pr != "consent" && pr != "select_account" {
			return ar, "", "invalid_request", "unsupported prompt value"
		}
	}
	return ar, "", "", ""
}

func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *session, now time.Time) {
	code := randomToken()
	p.mu.Lock()
	p.pruneLocked(now)
	p.codes[code] = &authCode{
		clientID:    ar.client.ID,
		redirectURI: ar.redirectURI,
		challenge:   ar.challenge,
		nonce:       ar.nonce,
		scope:       ar.scope,
		username:    sess.username,
		authTime:    sess.authTime,
		expires:     now.Add(codeTTL),
	}
	p.mu.Unlock()
	p.redirect(w, r, ar, url.Values{"code": {code}})
}

func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, code, desc string) {
	p.redirect(w, r, ar, url.Values{"error": {code}, "error_description": {desc}})
}

// redirect sends the browser back to the client with params and the state.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	if ar.state != "" {
		params.Set("state", ar.state)
	}
	target := ar.redirectURI
	if ar.responseMode == "fragment" {
		target += "#" + params.Encode()
	} else {
		u, _ := url.Parse(ar.redirectURI) // parsed when registered
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // the browser must follow with GET
	}
	http.Redirect(w, r, target, status)
}

func (p *Provider) checkPassword(username, password string) (User, bool) {
	u, ok := p.users[username]
	if !ok {
		// Compare anyway so that the response time does not tell which usernames exist.
		subtle.ConstantTimeCompare([]byte(password), []byte("x-no-such-user-x"))
		return User{}, false
	}
	return u, subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) == 1
}

func (p *Provider) cookiePath() string {
	if p.basePath == "" {
		return "/"
	}
	return p.basePath
}

func (p *Provider) startSession(w http.ResponseWriter, u User, now time.Time) *session {
	sid := randomToken()
	s := &session{username: u.Username, authTime: now, expires: now.Add(sessionTTL)}
	p.mu.Lock()
	p.pruneLocked(now)
	p.sessions[sid] = s
	p.mu.Unlock()
	// SameSite=Lax still reaches the silent-renew iframe when the SPA and the provider are the
	// same site, as in the demo where one server hosts both.
	http.SetCookie(w, &http.Cookie{Name: p.cookieName, Value: sid, Path: p.cookiePath(),
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return s
}

func (p *Provider) currentSession(r *http.Request, now time.Time) *session {
	c, err := r.Cookie(p.cookieName)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sessions[c.Value]
	if s == nil || now.After(s.expires) {
		return nil
	}
	if _, ok := p.users[s.username]; !ok {
		return nil
	}
	return s
}

// The login form is protected against login CSRF with a double-submit token: a cookie and the
// same value in a hidden field, which another site can neither read nor set.
func (p *Provider) csrfCookieName() string { return p.cookieName + "_csrf" }

func (p *Provider) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.csrfCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: p.csrfCookieName(), Value: tok, Path: p.cookiePath(),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return tok
}

func (p *Provider) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(p.csrfCookieName())
	form := r.PostForm.Get("csrf_token")
	return err == nil && form != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// serveLogout is the end_session_endpoint: it ends the provider session, then returns to the
// client's post_logout_redirect_uri when it belongs to the client (same origin as one of its
// redirect URIs), identified by client_id or the id_token_hint's audience.
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The logout request could not be read.")
		return
	}
	if c, err := r.Cookie(p.cookieName); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: p.cookieName, Value: "", Path: p.cookiePath(), MaxAge: -1,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})

	target := r.Form.Get("post_logout_redirect_uri")
	if target == "" {
		p.renderPage(w, http.StatusOK, "Signed out", "You are signed out of the development identity provider.", "")
		return
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		claims, err := p.verifyOwn(hint, time.Time{})
		if err != nil {
			p.renderError(w, http.StatusBadRequest, "The id_token_hint was not issued by this provider.")
			return
		}
		if auds := claims.audiences(); clientID == "" && len(auds) == 1 {
			clientID = auds[0]
		} else if clientID != "" && !slices.Contains(auds, clientID) {
			p.renderError(w, http.StatusBadRequest, "The id_token_hint was issued to another client.")
			return
		}
	}
	client, ok := p.clients[clientID]
	if !ok || !postLogoutAllowed(client, target) {
		p.renderError(w, http.StatusBadRequest, "You are signed out, but the post_logout_redirect_uri is not registered for this application.")
		return
	}
	if state := r.Form.Get("state"); state != "" {
		u, _ := url.Parse(target)
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func postLogoutAllowed(c Client, target string) bool {
	o, err := origin(target)
	if err != nil {
		return false
	}
	for _, ru := range c.RedirectURIs {
		if ro, _ := origin(ru); ro == o {
			return true
		}
	}
	return false
}

var pages = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:min(22rem,90vw)}
h1{font-size:1.3rem;margin:0 0 .3rem}p.sub{color:#555;margin:0 0 1.2rem;font-size:.9rem}
label{display:block;font-weight:600;margin:.8rem 0 .3rem}input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #aaa;border-radius:4px}
button{margin-top:1.2rem;width:100%;padding:.65rem;font-size:1rem;border:0;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}
.error{background:#fdecea;color:#8a1c1c;border:1px solid #f5c2c0;padding:.6rem;border-radius:4px}
</style></head><body><main>
<h1>{{.Title}}</h1>
{{if .Form}}<p class="sub">Overshare development identity provider</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>{{end}}
</main></body></html>
`))

type pageData struct {
	Title, Message, Error string
	Form                  bool
	Action                string
	Hidden                map[string]string
	CSRF, Username        string
}

func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, ar *authRequest, errMsg string, status int) {
	formAction := []string{"'self'"}
	for _, ru := range ar.client.RedirectURIs {
		// Browsers apply form-action to the redirect that follows the POST, i.e. to the client.
		if o, err := origin(ru); err == nil && !slices.Contains(formAction, o) {
			formAction = append(formAction, o)
		}
	}
	p.writePage(w, status, strings.Join(formAction, " "), pageData{
		Title:    "Sign in",
		Error:    errMsg,
		Form:     true,
		Action:   "authorize", // relative: works whichever host name the browser used
		Hidden:   ar.hidden(),
		CSRF:     p.csrfToken(w, r),
		Username: r.PostForm.Get("username"),
	})
}

func (p *Provider) renderError(w http.ResponseWriter, status int, msg string) {
	p.writePage(w, status, "'none'", pageData{Title: "Sign-in error", Error: msg})
}

func (p *Provider) renderPage(w http.ResponseWriter, status int, title, msg, errMsg string) {
	p.writePage(w, status, "'none'", pageData{Title: title, Message: msg, Error: errMsg})
}

func (p *Provider) writePage(w http.ResponseWriter, status int, formAction string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action "+formAction)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pages.Execute(w, d)
}
