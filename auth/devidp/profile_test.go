package devidp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
)

// profileIDP serves the demo provider of a profile at /oidc, as `overshare demo --idp-profile`.
func profileIDP(t *testing.T, profile devidp.Profile, change func(*devidp.Options)) (devidp.Demo, *httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	callback := base + "/auth/callback"
	d, err := devidp.DemoFor(profile, base+"/oidc", []string{callback})
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&d.Options)
	}
	p, err := devidp.New(d.Options)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", p)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return d, srv, callback
}

func password(d devidp.Demo, user string) string {
	for _, u := range d.Options.Users {
		if u.Username == user {
			return u.Password
		}
	}
	panic(user)
}

func secret(d devidp.Demo, client string) string {
	for _, c := range d.Options.Clients {
		if c.ID == client {
			return c.Secret
		}
	}
	panic(client)
}

func login(t *testing.T, d devidp.Demo, callback, user, scope string) (*devidptest.Tokens, error) {
	t.Helper()
	return devidptest.NewBrowser(nil).LoginScope(context.Background(), d.Options.Issuer, d.SPAClientID, callback, user, password(d, user), scope)
}

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func oauthErr(t *testing.T, err error) *devidptest.TokenError {
	t.Helper()
	var te *devidptest.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a token endpoint error", err)
	}
	return te
}

func TestEntraProfile(t *testing.T) {
	d, _, callback := profileIDP(t, devidp.ProfileEntra, nil)
	if !strings.HasSuffix(d.Options.Issuer, "/oidc/"+devidp.DemoTenantID+"/v2.0") {
		t.Errorf("issuer %s is not shaped like Entra's v2.0 one", d.Options.Issuer)
	}
	api := "api://" + devidp.DemoEntraAPIAppID

	// The dashboard's scopes: a v2.0 token for the API, with the user's app roles.
	tok, err := login(t, d, callback, "admin", strings.Join(d.Scopes, " "))
	if err != nil {
		t.Fatal(err)
	}
	at := claimsOf(t, tok.AccessToken)
	for k, want := range map[string]any{"iss": d.Options.Issuer, "aud": devidp.DemoEntraAPIAppID, "ver": "2.0",
		"tid": devidp.DemoTenantID, "azp": devidp.DemoEntraSPAAppID, "azpacr": "0", "scp": devidp.EntraAPIScope} {
		if at[k] != want {
			t.Errorf("access token %s = %v, want %v", k, at[k], want)
		}
	}
	if roles, _ := at["roles"].([]any); len(roles) != 1 || roles[0] != devidp.DemoAdminRole {
		t.Errorf("roles = %v", at["roles"])
	}
	if at["sub"] == "admin" || at["oid"] == nil || tok.RefreshToken == "" {
		t.Errorf("sub %v, oid %v, refresh token %q: want opaque ids and a refresh token (offline_access)", at["sub"], at["oid"], tok.RefreshToken)
	}
	if id := claimsOf(t, tok.IDToken); id["aud"] != devidp.DemoEntraSPAAppID || id["iss"] != d.Options.Issuer {
		t.Errorf("ID token aud %v iss %v", id["aud"], id["iss"])
	}

	// No scope of the API: a token for Microsoft Graph, as Overshare's SPA used to get.
	tok, err = login(t, d, callback, "admin", "openid profile email offline_access")
	if err != nil {
		t.Fatal(err)
	}
	at = claimsOf(t, tok.AccessToken)
	if at["aud"] != devidp.GraphAppID || at["ver"] != "1.0" || at["iss"] != "https://sts.windows.net/"+devidp.DemoTenantID+"/" || at["roles"] != nil {
		t.Errorf("OIDC scopes only: %v, want a Graph token without roles", at)
	}
	if tok, err = login(t, d, callback, "viewer", "openid User.Read"); err != nil || claimsOf(t, tok.AccessToken)["aud"] != devidp.GraphAppID {
		t.Errorf("a Graph scope: %v", err)
	}

	// Scopes of two resources: refused after the password, at the token endpoint.
	for _, scope := range []string{
		"openid " + api + "/" + devidp.EntraAPIScope + " User.Read",
		"openid offline_access " + api + "/" + devidp.EntraAPIScope + " https://graph.microsoft.com/User.Read",
	} {
		_, err = login(t, d, callback, "admin", scope)
		if te := oauthErr(t, err); te.Status != 400 || te.Code != "invalid_scope" || !strings.HasPrefix(te.Description, "AADSTS28000: ") {
			t.Errorf("%q: %v", scope, te)
		}
	}
	_, err = login(t, d, callback, "admin", "openid "+api+"/Files.Read")
	if te := oauthErr(t, err); te.Code != "invalid_scope" || !strings.Contains(te.Description, "Files.Read") {
		t.Errorf("a scope the API does not expose: %v", te)
	}
	_, err = login(t, d, callback, "admin", "openid api://someone-else/Read")
	if te := oauthErr(t, err); te.Code != "invalid_resource" {
		t.Errorf("an unknown resource: %v", te)
	}
}

func TestEntraProfileClientCredentials(t *testing.T) {
	d, srv, _ := profileIDP(t, devidp.ProfileEntra, nil)
	cc := func(scope string) (*devidptest.Tokens, error) {
		form := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return devidptest.Exchange(context.Background(), srv.Client(), d.Options.Issuer+"/token", form,
			devidp.DemoAdminScriptClientID, secret(d, devidp.DemoAdminScriptClientID))
	}
	tok, err := cc("api://" + devidp.DemoEntraAPIAppID + "/.default")
	if err != nil {
		t.Fatal(err)
	}
	at := claimsOf(t, tok.AccessToken)
	if at["aud"] != devidp.DemoEntraAPIAppID || at["idtyp"] != "app" || at["scp"] != nil || at["ver"] != "2.0" {
		t.Errorf("app token %v", at)
	}
	if roles, _ := at["roles"].([]any); len(roles) != 1 || roles[0] != devidp.DemoAdminRole {
		t.Errorf("app roles = %v", at["roles"])
	}
	for scope, code := range map[string]string{
		"": "invalid_request",
		"api://" + devidp.DemoEntraAPIAppID + "/" + devidp.EntraAPIScope:                       "invalid_scope",
		"api://" + devidp.DemoEntraAPIAppID + "/.default https://graph.microsoft.com/.default": "invalid_scope",
	} {
		if _, err := cc(scope); oauthErr(t, err).Code != code {
			t.Errorf("client credentials with scope %q: %v, want %s", scope, err, code)
		}
	}
}

func TestKeycloakProfile(t *testing.T) {
	d, srv, callback := profileIDP(t, devidp.ProfileKeycloak, func(o *devidp.Options) {
		// One user whom the realm lets have offline tokens.
		o.Users = append(o.Users, devidp.User{Username: "ops", Password: "ops-password", Name: "Op Erator",
			Roles: []string{"overshare-admin", devidp.KeycloakOfflineRole}})
	})
	if !strings.HasSuffix(d.Options.Issuer, "/oidc/realms/overshare") || slices.Contains(d.Scopes, "offline_access") {
		t.Errorf("issuer %s, scopes %v", d.Options.Issuer, d.Scopes)
	}
	tok, err := login(t, d, callback, "viewer", strings.Join(d.Scopes, " "))
	if err != nil {
		t.Fatal(err)
	}
	at := claimsOf(t, tok.AccessToken)
	if at["typ"] != "Bearer" || at["azp"] != devidp.DemoSPAClientID || at["aud"] != "overshare-api" || at["sub"] == "viewer" {
		t.Errorf("access token %v", at)
	}
	ra, _ := at["realm_access"].(map[string]any)
	if roles, _ := ra["roles"].([]any); len(roles) != 1 || roles[0] != "overshare-viewer" || at["roles"] != nil {
		t.Errorf("realm_access = %v, roles = %v", at["realm_access"], at["roles"])
	}
	// Keycloak's code flow gives a refresh token without offline_access, and it works.
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token without offline_access")
	}
	if _, err := devidptest.Exchange(context.Background(), srv.Client(), d.Options.Issuer+"/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {d.SPAClientID}}, "", ""); err != nil {
		t.Errorf("refresh: %v", err)
	}

	// offline_access for a user without the role: refused when the code is redeemed.
	_, err = login(t, d, callback, "admin", "openid profile email offline_access")
	if te := oauthErr(t, err); te.Status != 400 || te.Code != "not_allowed" || te.Description != "Offline tokens not allowed for the user or client" {
		t.Errorf("offline_access without the role: %v", te)
	}
	if _, err := login(t, d, callback, "ops", "openid profile email offline_access"); err != nil {
		t.Errorf("offline_access with the role: %v", err)
	}

	// A script's service account.
	tok, err = devidptest.ClientCredentials(context.Background(), srv.Client(), d.Options.Issuer+"/token",
		devidp.DemoAdminScriptClientID, secret(d, devidp.DemoAdminScriptClientID))
	if err != nil {
		t.Fatal(err)
	}
	at = claimsOf(t, tok.AccessToken)
	ra, _ = at["realm_access"].(map[string]any)
	if roles, _ := ra["roles"].([]any); len(roles) != 1 || roles[0] != "overshare-admin" || at["preferred_username"] != "service-account-"+devidp.DemoAdminScriptClientID {
		t.Errorf("service account token %v", at)
	}
}

func TestParseProfile(t *testing.T) {
	for name, want := range map[string]devidp.Profile{"": devidp.ProfileDefault, "default": devidp.ProfileDefault, "entra": devidp.ProfileEntra, "keycloak": devidp.ProfileKeycloak} {
		if got, err := devidp.ParseProfile(name); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := devidp.ParseProfile("okta"); err == nil || !strings.Contains(err.Error(), "entra") {
		t.Errorf("unknown profile: %v", err)
	}
}
