package graphsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

const graphAudience = "https://graph.microsoft.com"

// serveSignIn answers the two Entra ID endpoints azidentity (MSAL) calls with
// instance discovery disabled. Everything else outside /v1.0 and /_sim is 404.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration" && r.Method == http.MethodGet:
		s.openIDConfiguration(w, segs[0])
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			s.aadError(w, http.StatusMethodNotAllowed, "invalid_request", 900561,
				"The endpoint only accepts POST requests. Received a "+r.Method+" request.")
			return
		}
		s.token(w, r, segs[0])
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": "NotFound", "message": "The requested resource was not found on this simulator.",
		}})
	}
}

// knownTenant accepts the tenant id and the tenant's domain, as Entra ID does.
func (s *Server) knownTenant(t string) bool {
	return strings.EqualFold(t, s.tenantID) || (s.domain != "" && strings.EqualFold(t, s.domain))
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, tenantSeg string) {
	if !s.knownTenant(tenantSeg) {
		s.unknownTenant(w, "invalid_tenant", tenantSeg)
		return
	}
	base := s.baseURL + "/" + s.tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.baseURL + "/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "tid", "roles"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// unknownTenant answers as Entra ID does for a tenant it does not know: a
// well-formed identifier (a GUID or a DNS name) that names no tenant is
// AADSTS90002, anything else (a typo such as a missing dot, "undefined")
// AADSTS900023 before any lookup.
func (s *Server) unknownTenant(w http.ResponseWriter, errCode, t string) {
	if !wellFormedTenant(t) {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900023,
			"Specified tenant identifier '"+t+"' is neither a valid DNS name, nor a valid external domain.")
		return
	}
	s.aadError(w, http.StatusBadRequest, errCode, 90002, tenantNotFound(t))
}

// wellFormedTenant: a GUID, or a DNS name with at least one dot whose labels
// are letters, digits and inner hyphens.
func wellFormedTenant(t string) bool {
	if isGUID(t) {
		return true
	}
	labels := strings.Split(t, ".")
	if len(labels) < 2 || len(t) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func tenantNotFound(t string) string {
	return "Tenant '" + t + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
}

// token is the client-credentials grant. Unknown form fields (claims, extra
// scopes, client_info) are ignored, as Entra ID does.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if !s.knownTenant(tenantSeg) {
		s.unknownTenant(w, "invalid_request", tenantSeg)
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if grant != "client_credentials" {
		s.aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '"+grant+"'.")
		return
	}
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	assertionType, assertion := f.Get("client_assertion_type"), f.Get("client_assertion")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	if clientID == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'client_id'.")
		return
	}
	if !strings.EqualFold(clientID, s.opt.ClientID) {
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+clientID+"' was not found in the directory '"+s.directoryName()+"'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
		return
	}
	switch {
	case secret == "" && assertion == "" && assertionType == "":
		s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	case secret != "" && (assertion != "" || assertionType != ""):
		// Two credentials at once: the simulator refuses (harsher than guessing which).
		s.aadError(w, http.StatusBadRequest, "invalid_request", 90014,
			"A client request may carry either 'client_secret' or 'client_assertion', not both.")
		return
	case secret == "" && assertionType != jwtBearer:
		if assertionType == "" {
			s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
				"The request body must contain the following parameter: 'client_assertion_type'.")
		} else {
			s.aadError(w, http.StatusBadRequest, "invalid_request", 50027,
				"Invalid client_assertion_type '"+assertionType+"': it must be '"+jwtBearer+"'.")
		}
		return
	case secret == "" && assertion == "":
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'client_assertion'.")
		return
	case secret == "":
		if e := s.checkAssertion(tenantSeg, clientID, assertion, time.Now()); e != nil {
			s.aadError(w, e.status, e.errCode, e.aadsts, e.msg)
			return
		}
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opt.ClientSecret)) != 1:
		s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+s.opt.ClientID+"'.")
		return
	}
	s.app.mu.RLock()
	expired, roles := s.app.secretExpired && secret != "", slices.Clone(s.app.roles)
	s.app.mu.RUnlock()
	if expired {
		s.aadError(w, http.StatusUnauthorized, "invalid_client", 7000222,
			"The provided client secret keys for app '"+s.opt.ClientID+"' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.")
		return
	}
	scope := f.Get("scope")
	if scope == "" {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'scope'.")
		return
	}
	var resource string
	for _, sc := range strings.Fields(scope) {
		if strings.HasSuffix(sc, "/.default") {
			resource = strings.TrimSuffix(sc, "/.default")
		}
	}
	if resource != graphAudience && resource != "00000003-0000-0000-c000-000000000000" {
		s.aadError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope "+scope+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	now := time.Now()
	exp := now.Add(s.opt.TokenTTL)
	tok := s.signToken(tokenClaims{
		Aud:   graphAudience,
		Iss:   "https://sts.windows.net/" + s.tenantID + "/",
		Iat:   now.Unix(),
		Nbf:   now.Unix(),
		Exp:   exp.Unix(),
		AppID: s.opt.ClientID,
		Tid:   s.tenantID,
		Roles: roles,
		Oid:   seededUUID(s.opt.Tenant.Seed, "service-principal"),
		Ver:   "1.0",
		Idtyp: "app",
	})
	w.Header().Set("Cache-Control", "no-store, no-cache")
	expiresIn := int(s.opt.TokenTTL.Seconds())
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     expiresIn,
		"ext_expires_in": expiresIn,
		"access_token":   tok,
	})
}

func (s *Server) directoryName() string {
	if s.domain != "" {
		return s.domain
	}
	return s.tenantID
}

// aadError writes Entra ID's OAuth error body.
func (s *Server) aadError(w http.ResponseWriter, status int, errCode string, aadsts int, msg string) {
	now := time.Now().UTC()
	trace, corr := newUUID(), newUUID()
	writeJSON(w, status, map[string]any{
		"error": errCode,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, msg, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      s.baseURL + "/error?code=" + fmt.Sprint(aadsts),
	})
}

// tokenClaims are the access-token claims the simulator issues and checks.
type tokenClaims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
	Exp   int64    `json:"exp"`
	AppID string   `json:"appid"`
	Idtyp string   `json:"idtyp"`
	Oid   string   `json:"oid"`
	Roles []string `json:"roles,omitempty"`
	Tid   string   `json:"tid"`
	Ver   string   `json:"ver"`
}

var b64 = base64.RawURLEncoding

// signToken makes a JWT signed with the server's HMAC key: shaped like
// Entra ID's tokens, but only this server can check it.
func (s *Server) signToken(c tokenClaims) string {
	header := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	body, _ := json.Marshal(c)
	unsigned := header + "." + b64.EncodeToString(body)
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(m.Sum(nil))
}

// checkToken validates an Authorization header and returns the claims, or
// the 401 Graph would give.
func (s *Server) checkToken(authz string, now time.Time) (*tokenClaims, *gerr) {
	if authz == "" {
		return nil, errTokenEmpty()
	}
	scheme, tok, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errTokenMalformed()
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return nil, errTokenEmpty()
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errTokenMalformed()
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenMalformed()
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errTokenMalformed()
	}
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, errTokenSignature()
	}
	var c tokenClaims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, errTokenMalformed()
	}
	if c.Aud != graphAudience || c.Tid != s.tenantID {
		return nil, errTokenInvalid()
	}
	if now.Unix() >= c.Exp || now.Unix() < c.Nbf-300 {
		return nil, errTokenExpired()
	}
	return &c, nil
}

func (c *tokenClaims) hasAny(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(c.Roles, r) {
			return true
		}
	}
	return false
}
