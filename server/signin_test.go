package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

// With Entra ID, a dashboard that asks for no scope of the API gets a token for Microsoft Graph:
// the API refuses it with 401 and says, in words and in WWW-Authenticate, which scope to request.
// The same sign-in with the configured scope gets in.
func TestGraphAudienceTokenIsRefusedNamingTheScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		entra := devidptest.StartProvider(t, devidptest.ProviderConfig{Change: func(o *devidp.Options) {
			o.Profile, o.Audience = devidp.ProfileEntra, devidp.DemoEntraAPIAppID
			o.Issuer += "/" + devidp.DemoTenantID + "/v2.0"
		}})
		apiScope := "api://" + devidp.DemoEntraAPIAppID + "/" + devidp.EntraAPIScope
		scopes := []string{"openid", "profile", "offline_access", apiScope}
		verifier, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: entra.Issuer(),
			Audience: devidp.DemoEntraAPIAppID, Scopes: scopes, HTTPClient: entra.Server.Client()})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, func(c *server.Config) { c.Verifier, c.OIDCScopes = verifier, scopes })
		signIn := func(scope string) string {
			tok, err := devidptest.NewBrowser(entra.Server.Client()).LoginScope(context.Background(), entra.Issuer(),
				devidp.DemoSPAClientID, entra.Callback, "admin", entra.Password("admin"), scope)
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		}
		post := func(token string) (int, http.Header, gqlResponse) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { roles } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r gqlResponse
			_ = json.NewDecoder(resp.Body).Decode(&r)
			return resp.StatusCode, resp.Header, r
		}

		// The SPA's old scopes: Entra's answer is a Graph token.
		status, h, r := post(signIn("openid profile email offline_access"))
		if status != http.StatusUnauthorized || len(r.Errors) != 1 || r.codes()[0] != "UNAUTHENTICATED" {
			t.Fatalf("Graph token: %d %+v, want 401 UNAUTHENTICATED", status, r.Errors)
		}
		if msg := r.Errors[0].Message; !strings.Contains(msg, "Microsoft Graph") || !strings.Contains(msg, "request the scope "+apiScope) {
			t.Errorf("message %q does not say the token is Graph's and which scope to request", msg)
		}
		if ch := h.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, `scope="`+apiScope+`"`) {
			t.Errorf("WWW-Authenticate = %q", ch)
		}

		// The configured scopes: a v2.0 token for the API with the app role.
		status, _, r = post(signIn(strings.Join(scopes, " ")))
		if status != http.StatusOK || len(r.Errors) != 0 || !strings.Contains(string(r.Data), "ADMIN") {
			t.Errorf("API token: %d %s %+v", status, r.Data, r.Errors)
		}
	})
}
