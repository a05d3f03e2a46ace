package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// authCode is an issued authorization code, redeemable once within codeTTL.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string // S256 PKCE challenge; empty only for confidential clients that sent none
	nonce       string
	scope       string
	username    string
	authTime    time.Time
	expires     time.Time
	used        bool
	refresh     string // the refresh token issued from it, revoked if the code is replayed
}

// refreshGrant is what a refresh token stands for. Refresh tokens rotate: each use replaces it.
type refreshGrant struct {
	clientID string
	username string
	scope    string
	authTime time.Time
	expires  time.Time
}

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	status      int
	code        string
	description string
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, &oauthError{http.StatusBadRequest, "invalid_request", "the request body is not a form"})
		return
	}
	client, oerr := p.authenticateClient(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var resp map[string]any
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		resp, oerr = p.grantAuthorizationCode(r, client)
	case "refresh_token":
		resp, oerr = p.grantRefreshToken(r, client)
	case "client_credentials":
		resp, oerr = p.grantClientCredentials(client, r.PostForm.Get("scope"))
	case "":
		oerr = &oauthError{http.StatusBadRequest, "invalid_request", "grant_type is missing"}
	default:
		oerr = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "supported: authorization_code, refresh_token, client_credentials"}
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient accepts client_secret_basic, client_secret_post, or for public clients just
// a client_id. Unknown clients and wrong secrets get the same answer.
func (p *Provider) authenticateClient(r *http.Request) (Client, *oauthError) {
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
		uid, err1 := url.QueryUnescape(bid)
		usecret, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return Client{}, invalidClient("the Basic credentials are not form-encoded")
		}
		if secret != "" || (id != "" && id != uid) {
			return Client{}, &oauthError{http.StatusBadRequest, "invalid_request", "use one client authentication method"}
		}
		id, secret = uid, usecret
	}
	if id == "" {
		return Client{}, invalidClient("client authentication is required")
	}
	c, ok := p.clients[id]
	switch {
	case !ok:
		return Client{}, invalidClient("unknown client or wrong secret")
	case c.Secret == "" && secret != "":
		return Client{}, invalidClient("a public client has no secret")
	case c.Secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1:
		return Client{}, invalidClient("unknown client or wrong secret")
	}
	return c, nil
}

func invalidClient(desc string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", desc}
}

func (p *Provider) grantAuthorizationCode(r *http.Request, client Client) (map[string]any, *oauthError) {
	invalid := func(desc string) *oauthError {
		return &oauthError{http.StatusBadRequest, "invalid_grant", desc}
	}
	code := r.PostForm.Get("code")
	now := time.Now()

	p.mu.Lock()
	ac := p.codes[code]
	if ac != nil && ac.used {
		// RFC 6749 §4.1.2: a replayed code means it leaked; revoke what it produced.
		delete(p.refreshes, ac.refresh)
		p.mu.Unlock()
		return nil, invalid("the authorization code was already used")
	}
	if ac != nil {
		// Burnt on the first attempt, right or wrong, so a code_verifier cannot be guessed.
		ac.used = true
	}
	p.mu.Unlock()

	switch {
	case ac == nil:
		return nil, invalid("unknown authorization code")
	case now.After(ac.expires):
		return nil, invalid("the authorization code expired")
	case ac.clientID != client.ID:
		return nil, invalid("the authorization code was issued to another client")
	case r.PostForm.Get("redirect_uri") != ac.redirectURI:
		return nil, invalid("redirect_uri differs from the authorization request's")
	}
	verifier := r.PostForm.Get("code_verifier")
	if ac.challenge == "" && verifier != "" {
		return nil, invalid("code_verifier sent but the authorization request had no code_challenge")
	}
	if ac.challenge != "" {
		if !validVerifier(verifier) {
			return nil, invalid("code_verifier is missing or not 43-128 unreserved characters")
		}
		if subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(ac.challenge)) != 1 {
			return nil, invalid("code_verifier does not match the code_challenge")
		}
	}
	user, ok := p.users[ac.username]
	if !ok {
		return nil, invalid("the user no longer exists")
	}
	if oerr := p.checkUserScope(user, ac.scope); oerr != nil {
		return nil, oerr
	}
	resp, refresh, err := p.userTokens(now, client, user, ac.scope, ac.nonce, ac.authTime)
	if err != nil {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", err.Error()}
	}
	p.mu.Lock()
	ac.refresh = refresh
	p.mu.Unlock()
	return resp, nil
}

func (p *Provider) grantRefreshToken(r *http.Request, client Client) (map[string]any, *oauthError) {
	rt := r.PostForm.Get("refresh_token")
	now := time.Now()
	p.mu.Lock()
	g := p.refreshes[rt]
	if g != nil && g.clientID == client.ID {
		delete(p.refreshes, rt) // rotation: the old one is spent
	}
	p.mu.Unlock()
	if g == nil || now.After(g.expires) || g.clientID != client.ID {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "unknown, expired or already used refresh token"}
	}
	user, ok := p.users[g.username]
	if !ok {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "the user no longer exists"}
	}
	if oerr := p.checkUserScope(user, g.scope); oerr != nil {
		return nil, oerr // a role taken away since, as Keycloak checks again
	}
	resp, _, err := p.userTokens(now, client, user, g.scope, "", g.authTime)
	if err != nil {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", err.Error()}
	}
	return resp, nil
}

func (p *Provider) grantClientCredentials(client Client, scope string) (map[string]any, *oauthError) {
	if client.Secret == "" {
		return nil, &oauthError{http.StatusBadRequest, "unauthorized_client", "a public client cannot use client_credentials"}
	}
	claims, oerr := p.appAccessClaims(time.Now(), client, scope)
	if oerr != nil {
		return nil, oerr
	}
	at, err := p.sign(claims)
	if err != nil {
		return nil, &oauthError{http.StatusInternalServerError, "server_error", err.Error()}
	}
	return map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(p.ttlFor(client).Seconds())}, nil
}

// userTokens mints the access token, the ID token (scope openid) and a refresh token (scope
// offline_access) for a user, and stores the refresh grant.
func (p *Provider) userTokens(now time.Time, client Client, user User, scope, nonce string, authTime time.Time) (map[string]any, string, error) {
	at, err := p.sign(p.userAccessClaims(now, client, user, scope))
	if err != nil {
		return nil, "", err
	}
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(p.ttlFor(client).Seconds()), "scope": scope}
	scopes := strings.Fields(scope)
	if slices.Contains(scopes, "openid") {
		id := p.idClaims(now, client, user, scope)
		id["auth_time"] = authTime.Unix()
		if nonce != "" {
			id["nonce"] = nonce
		}
		sum := sha256.Sum256([]byte(at))
		id["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
		idt, err := p.sign(id)
		if err != nil {
			return nil, "", err
		}
		resp["id_token"] = idt
	}
	var refresh string
	if slices.Contains(scopes, "offline_access") || p.refreshWithoutOfflineAccess() {
		refresh = randomToken()
		p.mu.Lock()
		p.pruneLocked(now)
		p.refreshes[refresh] = &refreshGrant{clientID: client.ID, username: user.Username, scope: scope,
			authTime: authTime, expires: now.Add(refreshTTL)}
		p.mu.Unlock()
		resp["refresh_token"] = refresh
	}
	return resp, refresh, nil
}

func (p *Provider) audienceFor(c Client) string {
	if c.Audience != "" {
		return c.Audience
	}
	return p.audience
}

func (p *Provider) ttlFor(c Client) time.Duration {
	if c.TokenTTL > 0 {
		return c.TokenTTL
	}
	return p.ttl
}

func (p *Provider) baseClaims(now time.Time, client Client, sub, aud string) map[string]any {
	return map[string]any{
		"iss": p.issuer,
		"sub": sub,
		"aud": aud,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(p.ttlFor(client)).Unix(),
		"jti": randomToken()[:22],
	}
}

func (p *Provider) addUserClaims(claims map[string]any, u User) {
	claims["name"] = u.Name
	claims["email"] = u.Email
	claims["preferred_username"] = u.Username
	if len(u.Roles) > 0 {
		setPath(claims, p.rolesClaim, u.Roles)
	}
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return jws.CompactSerialize()
}

// setPath puts value at a dotted path, creating the objects on the way ("realm_access.roles").
func setPath(m map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier checks RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// serveUserinfo answers for a user's access token issued here.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	fail := func(desc string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, desc))
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
	}
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		fail("a Bearer access token is required")
		return
	}
	claims, err := p.verifyOwn(raw, time.Now())
	if err != nil {
		fail(err.Error())
		return
	}
	user, ok := p.userBySubject(claims.Subject)
	idToken := slices.ContainsFunc(claims.audiences(), func(a string) bool { _, ok := p.clients[a]; return ok })
	switch {
	case idToken:
		fail("an access token is required") // an ID token's audience is the client
		return
	case !ok || claims.IDType == "app":
		fail("the token does not belong to a user")
		return
	}
	info := map[string]any{"sub": user.Username}
	p.addUserClaims(info, user)
	writeJSON(w, http.StatusOK, info)
}

// userBySubject finds the user a token's "sub" names, in any profile's shape.
func (p *Provider) userBySubject(sub string) (User, bool) {
	if u, ok := p.users[sub]; ok && p.profile == ProfileDefault {
		return u, true
	}
	for _, u := range p.users {
		if sub == uuidOf("user", u.Username) || sub == uuidOf("sub", p.tenant, GraphAppID, u.Username) {
			return u, true
		}
		for _, c := range p.clients {
			if sub == p.subject(u, c) {
				return u, true
			}
		}
	}
	return User{}, false
}

type ownClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	IDType   string          `json:"idtyp"`
	ClientID string          `json:"client_id"`
}

// verifyOwn checks a token this provider signed: signature, issuer, and expiry unless now is
// zero (an id_token_hint at logout may have expired).
func (p *Provider) verifyOwn(raw string, now time.Time) (*ownClaims, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, errors.New("the token is not an RS256 JWT")
	}
	payload, err := jws.Verify(&p.key.PublicKey)
	if err != nil {
		return nil, errors.New("the token's signature does not verify")
	}
	var c ownClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("the token's claims are not JSON")
	}
	if c.Issuer != p.issuer {
		return nil, errors.New("the token was issued by another provider")
	}
	if !now.IsZero() && now.Unix() >= c.Expiry {
		return nil, errors.New("the token expired")
	}
	return &c, nil
}

// audiences returns a token's "aud" whether it is a string or a list.
func (c *ownClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}
