// Package auth verifies OpenID Connect bearer tokens and maps their role claim to Overshare's two
// roles, ADMIN and VIEWER.
//
// The HTTP middleware never rejects a request: it records either the verified Principal or the
// reason verification failed in the request context, and the GraphQL layer decides per field
// (default deny) with Require. That keeps one place — the schema's role rules — deciding access,
// and lets the API answer UNAUTHENTICATED with the reason ("token expired") or FORBIDDEN (a valid
// token without the role) instead of a bare 401.
package auth

import (
	"net/http"
)

// Config says which tokens are accepted and how their claims map to roles.
type Config struct {
	// Issuer is the provider's issuer URL exactly as it appears in the tokens' "iss" claim and in
	// its discovery document.
	Issuer string
	// Audience is the value the access token's "aud" claim must contain (the API's identifier,
	// e.g. "api://overshare" with Entra ID).
	Audience string
	// RolesClaim is the claim holding the roles; dots walk nested objects ("realm_access.roles"
	// for Keycloak, "groups" for Dex). Default "roles", which is what Entra ID app roles use.
	RolesClaim string
	// AdminValues and ViewerValues are the claim values that grant ADMIN and VIEWER, compared
	// exactly. Defaults ["Overshare.Admin", "admin"] and ["Overshare.Viewer", "viewer"].
	AdminValues  []string
	ViewerValues []string
	// Scopes are the scopes the dashboard requests (OVERSHARE_OIDC_SCOPES). The verifier does not
	// check them; a refusal for the wrong audience names the API's scope among them, because
	// the cure for a token meant for another API (Microsoft Graph, above all) is to ask for it.
	Scopes []string
	// SupportedAlgs are the accepted signature algorithms. Default RS256 and ES256. Symmetric
	// algorithms and "none" make no sense for a verifier holding only public keys; they are
	// refused whatever this says.
	SupportedAlgs []string
	// HTTPClient fetches discovery and keys, e.g. one that trusts a development CA.
	HTTPClient *http.Client
}

// DefaultScopes are what the dashboard requests when nothing is configured: OpenID Connect's
// own and a refresh token. Enough for providers whose audience comes from the client (the
// demo's, Dex, Keycloak with an audience mapper and users allowed offline tokens), not for
// Entra ID, which needs a scope of the API.
func DefaultScopes() []string { return []string{"openid", "profile", "email", "offline_access"} }

// DefaultRolesClaim is the claim Entra ID puts app roles in.
const DefaultRolesClaim = "roles"

// DefaultAdminValues are the claim values that grant ADMIN when Config names none: the Entra ID
// app role, and a plain name for other providers.
func DefaultAdminValues() []string { return []string{"Overshare.Admin", "admin"} }

// DefaultViewerValues are the claim values that grant VIEWER when Config names none.
func DefaultViewerValues() []string { return []string{"Overshare.Viewer", "viewer"} }

// withDefaults returns a copy with every empty field set to its default.
func (c Config) withDefaults() Config {
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if len(c.AdminValues) == 0 {
		c.AdminValues = DefaultAdminValues()
	}
	if len(c.ViewerValues) == 0 {
		c.ViewerValues = DefaultViewerValues()
	}
	if len(c.SupportedAlgs) == 0 {
		c.SupportedAlgs = []string{"RS256", "ES256"}
	}
	return c
}
