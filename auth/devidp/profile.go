package devidp

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Profile makes the provider issue tokens shaped like a real provider's, and refuse what that
// provider refuses, so that the demo and the tests meet the mistakes a deployment would meet.
// What each models, and from which sources, is in deploy/README.md ("How the development
// provider imitates them"); where the sources disagree or are silent, the harsher behaviour is
// modelled.
type Profile string

const (
	// ProfileDefault is devidp's own shape: "aud" the configured audience, roles at RolesClaim,
	// a refresh token when offline_access is asked for. Nothing is refused for its scopes.
	ProfileDefault Profile = ""
	// ProfileEntra imitates Microsoft Entra ID's v2.0 endpoint with an API app whose manifest
	// has accessTokenAcceptedVersion 2: Options.Audience is the API app's client id (a GUID),
	// its one delegated scope is EntraAPIScope, app roles go in "roles". A user token is for the
	// one resource the scopes name: the API (v2.0: ver, tid, oid, azp, scp, roles) or, when they
	// name none, Microsoft Graph (a v1.0 token with Graph's audience and another issuer, as
	// Entra issues). Scopes of two resources are refused at the token endpoint (AADSTS28000);
	// client credentials need scope=<resource>/.default.
	ProfileEntra Profile = "entra"
	// ProfileKeycloak imitates a Keycloak realm: realm roles in realm_access.roles, "typ":
	// "Bearer", "azp", the audience from an audience mapper, a refresh token bound to the login
	// even without offline_access, and offline_access refused (not_allowed, "Offline tokens not
	// allowed for the user or client") to a user who does not hold the offline_access role.
	ProfileKeycloak Profile = "keycloak"
)

// Profiles lists the profiles by the names ParseProfile takes.
func Profiles() []string { return []string{"default", string(ProfileEntra), string(ProfileKeycloak)} }

// ParseProfile reads a profile's name ("default", "entra", "keycloak").
func ParseProfile(name string) (Profile, error) {
	switch name {
	case "", "default":
		return ProfileDefault, nil
	case string(ProfileEntra), string(ProfileKeycloak):
		return Profile(name), nil
	}
	return "", fmt.Errorf("unknown identity provider profile %q (one of %s)", name, strings.Join(Profiles(), ", "))
}

// Entra ID's fixed names.
const (
	// EntraAPIScope is the delegated scope the Entra profile's API app exposes ("Expose an API").
	EntraAPIScope = "Overshare.Access"
	// GraphAppID and graphResource are Microsoft Graph's application id and resource URI.
	GraphAppID    = "00000003-0000-0000-c000-000000000000"
	graphResource = "https://graph.microsoft.com"
	// DemoTenantID is the Entra profile's tenant when Options.TenantID is empty.
	DemoTenantID = "4f3e2d1c-0b9a-4876-9543-210fedcba987"
	// KeycloakOfflineRole is the realm role Keycloak requires for offline tokens.
	KeycloakOfflineRole = "offline_access"
)

// oidcScope reports whether s is one of OpenID Connect's own scopes, which name no API.
func oidcScope(s string) bool {
	return s == "openid" || s == "profile" || s == "email" || s == "offline_access"
}

// entraRequest is what Entra ID makes of a scope list: the one resource it names and the
// scopes asked of it (without the resource prefix).
type entraRequest struct {
	graph  bool     // the token is for Microsoft Graph (no resource named, or Graph's)
	scopes []string // the resource's scopes, e.g. Overshare.Access or User.Read
	oidc   []string // openid, profile, email as asked
}

// entraResolve sorts the scopes the way Entra ID does. A bare name that is not OpenID
// Connect's (User.Read) is a Graph scope; "<resource>/<name>" names a resource by its URI or
// application id.
func (p *Provider) entraResolve(scope string) (*entraRequest, *oauthError) {
	req := &entraRequest{graph: true}
	var resources []string
	for _, s := range strings.Fields(scope) {
		if oidcScope(s) {
			if s != "offline_access" {
				req.oidc = append(req.oidc, s)
			}
			continue
		}
		res, name := graphResource, s
		if cut := strings.LastIndex(s, "/"); cut > 0 {
			res, name = strings.TrimSuffix(s[:cut], "/"), s[cut+1:]
		}
		switch res {
		case "api://" + p.audience, p.audience:
			res = p.audience
		case graphResource, GraphAppID:
			res = graphResource
		default:
			return nil, &oauthError{http.StatusBadRequest, "invalid_resource", fmt.Sprintf(
				"AADSTS500011: The resource principal named %s was not found in the tenant named %s.", res, p.tenant)}
		}
		if !slices.Contains(resources, res) {
			resources = append(resources, res)
		}
		req.scopes = append(req.scopes, name)
	}
	if len(resources) > 1 {
		return nil, &oauthError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf(
			"AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", scope)}
	}
	if len(resources) == 1 && resources[0] == p.audience {
		req.graph = false
		for i, n := range req.scopes {
			switch n {
			case ".default":
				req.scopes[i] = EntraAPIScope // every scope consented for the API: its one
			case EntraAPIScope:
			default:
				return nil, &oauthError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf(
					"AADSTS65005: The application asked for scope '%s' that doesn't exist on the resource '%s'.", n, p.audience)}
			}
		}
		slices.Sort(req.scopes)
		req.scopes = slices.Compact(req.scopes)
	}
	return req, nil
}

// checkUserScope refuses, at the token endpoint, what the profile's provider refuses there.
func (p *Provider) checkUserScope(user User, scope string) *oauthError {
	switch p.profile {
	case ProfileEntra:
		_, oerr := p.entraResolve(scope)
		return oerr
	case ProfileKeycloak:
		// Keycloak checks the user's realm role when the code is redeemed (TokenManager); the
		// client scope alone is not enough (keycloak/keycloak#31897).
		if slices.Contains(strings.Fields(scope), "offline_access") && !slices.Contains(user.Roles, KeycloakOfflineRole) {
			return &oauthError{http.StatusBadRequest, "not_allowed", "Offline tokens not allowed for the user or client"}
		}
	}
	return nil
}

// uuidOf is a stable UUID-shaped id for a name: Entra's oid and Keycloak's sub are UUIDs,
// never the user name.
func uuidOf(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// subject is the "sub" of a user's tokens.
func (p *Provider) subject(user User, client Client) string {
	switch p.profile {
	case ProfileEntra:
		return uuidOf("sub", p.tenant, client.ID, user.Username) // pairwise per application
	case ProfileKeycloak:
		return uuidOf("user", user.Username)
	}
	return user.Username
}

// userAccessClaims are a user's access token claims in the profile's shape.
func (p *Provider) userAccessClaims(now time.Time, client Client, user User, scope string) map[string]any {
	switch p.profile {
	case ProfileEntra:
		req, _ := p.entraResolve(scope) // checked by checkUserScope
		if req.graph {
			return p.graphClaims(now, client, user, req)
		}
		c := p.baseClaims(now, client, p.subject(user, client), p.audience)
		p.entraClaims(c, client)
		c["oid"] = uuidOf("oid", p.tenant, user.Username)
		c["scp"] = strings.Join(req.scopes, " ")
		c["name"] = user.Name
		c["preferred_username"] = user.Username
		if len(user.Roles) > 0 {
			c["roles"] = user.Roles
		}
		return c
	case ProfileKeycloak:
		c := p.baseClaims(now, client, p.subject(user, client), p.audienceFor(client))
		c["typ"] = "Bearer"
		c["azp"] = client.ID
		c["scope"] = keycloakScope(scope)
		c["email_verified"] = true
		p.addUserClaims(c, user)
		return c
	}
	c := p.baseClaims(now, client, user.Username, p.audienceFor(client))
	c["client_id"] = client.ID
	c["azp"] = client.ID
	c["scope"] = scope
	p.addUserClaims(c, user)
	return c
}

// entraClaims are the claims every v2.0 token of the API carries.
func (p *Provider) entraClaims(c map[string]any, client Client) {
	c["ver"] = "2.0"
	c["tid"] = p.tenant
	c["azp"] = client.ID
	if client.Secret == "" {
		c["azpacr"] = "0" // a public client
	} else {
		c["azpacr"] = "1" // authenticated with a secret
	}
}

// graphClaims are a token for Microsoft Graph as Entra ID issues it: a v1.0 token from the
// sts.windows.net issuer with Graph's audience, delegated scopes in "scp" and none of the API's
// app roles. (Real ones are also signed so that only Graph can check them.)
func (p *Provider) graphClaims(now time.Time, client Client, user User, req *entraRequest) map[string]any {
	c := p.baseClaims(now, client, uuidOf("sub", p.tenant, GraphAppID, user.Username), GraphAppID)
	c["iss"] = "https://sts.windows.net/" + p.tenant + "/"
	c["ver"] = "1.0"
	c["tid"] = p.tenant
	c["appid"] = client.ID
	c["oid"] = uuidOf("oid", p.tenant, user.Username)
	c["scp"] = strings.Join(append(append([]string{}, req.oidc...), req.scopes...), " ")
	c["name"] = user.Name
	c["upn"] = user.Username
	return c
}

// keycloakScope is the "scope" claim Keycloak writes: the client scopes granted, here those
// asked for that a default realm has.
func keycloakScope(scope string) string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if oidcScope(s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// idClaims are a user's ID token claims in the profile's shape (audience: the client).
func (p *Provider) idClaims(now time.Time, client Client, user User, scope string) map[string]any {
	id := p.baseClaims(now, client, p.subject(user, client), client.ID)
	id["azp"] = client.ID
	switch p.profile {
	case ProfileEntra:
		id["ver"] = "2.0"
		id["tid"] = p.tenant
		id["oid"] = uuidOf("oid", p.tenant, user.Username)
		id["name"] = user.Name
		id["preferred_username"] = user.Username
		if slices.Contains(strings.Fields(scope), "email") {
			id["email"] = user.Email
		}
		if len(user.Roles) > 0 {
			id["roles"] = user.Roles
		}
		return id
	case ProfileKeycloak:
		id["typ"] = "ID"
		id["email_verified"] = true
	}
	p.addUserClaims(id, user)
	return id
}

// appAccessClaims are a client_credentials token in the profile's shape, or the refusal.
func (p *Provider) appAccessClaims(now time.Time, client Client, scope string) (map[string]any, *oauthError) {
	switch p.profile {
	case ProfileEntra:
		// Entra's client credentials name one resource's .default, nothing else.
		if scope == "" {
			return nil, &oauthError{http.StatusBadRequest, "invalid_request", "AADSTS90014: The required field 'scope' is missing from the credential."}
		}
		fields := strings.Fields(scope)
		if len(fields) != 1 || !strings.HasSuffix(fields[0], "/.default") {
			return nil, &oauthError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf(
				"AADSTS1002012: The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)}
		}
		req, oerr := p.entraResolve(scope)
		if oerr != nil {
			return nil, oerr
		}
		aud := p.audience
		if req.graph {
			aud = GraphAppID
		}
		c := p.baseClaims(now, client, uuidOf("sp", p.tenant, client.ID), aud)
		p.entraClaims(c, client)
		c["oid"] = c["sub"]
		c["idtyp"] = "app"
		if !req.graph && len(client.Roles) > 0 {
			c["roles"] = client.Roles
		}
		return c, nil
	case ProfileKeycloak:
		c := p.baseClaims(now, client, uuidOf("service-account", client.ID), p.audienceFor(client))
		c["typ"] = "Bearer"
		c["azp"] = client.ID
		c["client_id"] = client.ID
		c["preferred_username"] = "service-account-" + client.ID
		c["scope"] = "profile email"
		if len(client.Roles) > 0 {
			setPath(c, p.rolesClaim, client.Roles)
		}
		return c, nil
	}
	c := p.baseClaims(now, client, client.ID, p.audienceFor(client))
	c["client_id"] = client.ID
	c["azp"] = client.ID
	c["idtyp"] = "app" // as Entra ID marks app-only tokens
	if len(client.Roles) > 0 {
		setPath(c, p.rolesClaim, client.Roles)
	}
	return c, nil
}

// refreshWithoutOfflineAccess reports whether a code or refresh grant returns a refresh token
// even when offline_access was not asked for: Keycloak's does (bound to the login session).
func (p *Provider) refreshWithoutOfflineAccess() bool { return p.profile == ProfileKeycloak }
