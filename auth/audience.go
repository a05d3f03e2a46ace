package auth

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Microsoft Graph's audience as Entra ID writes it in access tokens: its application id (v1.0
// tokens, which Graph's are) or its resource URI.
const (
	GraphAppID       = "00000003-0000-0000-c000-000000000000"
	GraphResourceURI = "https://graph.microsoft.com"
)

// oidcScopes are the scopes of OpenID Connect itself: they name no API, so they are never the
// scope to tell a caller to request.
var oidcScopes = []string{"openid", "profile", "email", "offline_access", "address", "phone"}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// audiences reads an "aud" claim, a string or a list of strings.
func audiences(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

func isGraph(auds []string) bool {
	for _, a := range auds {
		if a == GraphAppID || strings.TrimSuffix(a, "/") == GraphResourceURI {
			return true
		}
	}
	return false
}

// APIScope is the scope a client should request to get a token for this API: the first of
// the configured scopes that is not an OpenID Connect one, else, when the audience is an Entra
// ID application id, its ".default" scope (every permission consented for the API). Empty
// when neither tells (Keycloak and Dex set the audience with a mapper, not a scope).
func (c Config) APIScope() string {
	for _, s := range c.Scopes {
		if !slices.Contains(oidcScopes, s) {
			return s
		}
	}
	if guidRe.MatchString(c.Audience) {
		return "api://" + c.Audience + "/.default"
	}
	return ""
}

// wrongAudience says that a token is meant for another API, and what to ask for instead.
func (v *Verifier) wrongAudience(cause error, graph bool) *TokenError {
	msg := fmt.Sprintf("the token is not meant for this API (audience %q expected)", v.cfg.Audience)
	if graph {
		msg = "the token is for Microsoft Graph, not for this API: Entra ID issues one when the sign-in requests no scope of this API"
	}
	scope := v.cfg.APIScope()
	if scope != "" {
		msg += fmt.Sprintf("; request the scope %s (the dashboard's is set by OVERSHARE_OIDC_SCOPES)", scope)
	} else {
		msg += fmt.Sprintf("; the provider must put %q in the access token's aud (with Keycloak, an audience mapper on the client)", v.cfg.Audience)
	}
	return &TokenError{Reason: ReasonAudience, cause: cause, Message: msg, Scope: scope}
}
