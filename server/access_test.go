package server_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// Each kind of caller gets exactly what it should, over HTTP, with tokens from a real provider.
func TestAccessByToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		other := startIDP(t) // a provider this server does not trust
		admin := e.idp.Login(t, "admin").AccessToken
		expiring := e.idp.Token(t, devidptest.ShortLived)

		// Operations, each with the data field it fills when allowed.
		ops := map[string]string{
			"viewer":          `{ viewer { subject roles } }`,
			"overview counts": `query($id: ID!) { overview(integrationId: $id) { items sharedItems byScope { scope items } externalShares linksWithoutExpiry users guests drives } }`,
			"top sharers":     `query($id: ID!) { overview(integrationId: $id) { items topSharers { displayName sharedItems } } }`,
			"near quota":      `query($id: ID!) { overview(integrationId: $id) { drivesNearQuota { ownerName } } }`,
			"integrations":    `{ integrations { id name secretHint } }`,
			"drive items":     `query($id: ID!) { driveItems(integrationId: $id, first: 2) { edges { node { name } } } }`,
			"users":           `query($id: ID!) { users(integrationId: $id, first: 2) { edges { node { displayName } } } }`,
			"audit":           `{ auditEvents { totalCount } }`,
			"pause":           `mutation($id: ID!) { pauseIntegration(id: $id) { status } }`,
			"exposure trend":  `query($id: ID!) { overview(integrationId: $id) { exposureTrend(days: 7) { day anonymous organization external } medianTimeToFix { medianSeconds fixed } } }`,
			"sharing events":  `query($id: ID!) { sharingEvents(integrationId: $id, first: 2) { edges { node { itemName kind } } } }`,
			"item history":    `query($id: ID!) { driveItems(integrationId: $id, first: 2) { edges { node { history { edges { node { kind } } } exposure { exposedNow } } } } }`,
		}
		vars := map[string]any{"id": integrationID}
		adminOnly := func(op string) bool { return op != "viewer" && op != "overview counts" && op != "exposure trend" }

		// The expired token is used once its two-second lifetime is surely over.
		var claims struct{ Exp int64 }
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(expiring, ".")[1])
		_ = json.Unmarshal(payload, &claims)
		time.Sleep(time.Until(time.Unix(claims.Exp, 0).Add(1100 * time.Millisecond)))

		callers := []struct {
			name  string
			token string
			// allowed reports whether op succeeds; otherwise want is the error code.
			allowed func(op string) bool
			want    string
		}{
			{"admin (login)", admin, func(string) bool { return true }, ""},
			{"admin script", e.idp.Token(t, devidp.DemoAdminScriptClientID), func(string) bool { return true }, ""},
			{"viewer (login)", e.idp.Login(t, "viewer").AccessToken, func(op string) bool { return !adminOnly(op) }, "FORBIDDEN"},
			{"viewer script", e.idp.Token(t, devidp.DemoViewerScriptClientID), func(op string) bool { return !adminOnly(op) }, "FORBIDDEN"},
			{"valid token without a role", e.idp.Token(t, devidptest.NoRolesClient), func(string) bool { return false }, "FORBIDDEN"},
			{"no token", "", func(string) bool { return false }, "UNAUTHENTICATED"},
			{"expired", expiring, func(string) bool { return false }, "UNAUTHENTICATED"},
			{"wrong audience", e.idp.Token(t, devidptest.OtherAPIClient), func(string) bool { return false }, "UNAUTHENTICATED"},
			{"wrong issuer", other.Token(t, devidp.DemoAdminScriptClientID), func(string) bool { return false }, "UNAUTHENTICATED"},
			{"alg none", unsigned(admin), func(string) bool { return false }, "UNAUTHENTICATED"},
			{"HS256 signed with the public key", hs256WithPublicKey(t, e.idp, admin), func(string) bool { return false }, "UNAUTHENTICATED"},
			{"garbage", "not.a.token", func(string) bool { return false }, "UNAUTHENTICATED"},
		}
		for _, c := range callers {
			for op, q := range ops {
				if op == "pause" && c.allowed(op) {
					continue // run below, so it does not change what later callers see
				}
				r := e.do(c.token, q, vars)
				if c.allowed(op) {
					if len(r.Errors) > 0 {
						t.Errorf("%s / %s: want data, got %+v", c.name, op, r.Errors)
					}
					continue
				}
				if len(r.Errors) == 0 || !slices.Contains(r.codes(), c.want) {
					t.Errorf("%s / %s: want %s, got errors %+v data %s", c.name, op, c.want, r.Errors, r.Data)
					continue
				}
				for _, code := range r.codes() {
					if code != c.want {
						t.Errorf("%s / %s: unexpected extra code %s in %+v", c.name, op, code, r.Errors)
					}
				}
				// Nothing admin-only leaks through partial data.
				if strings.Contains(string(r.Data), "displayName") || strings.Contains(string(r.Data), "secretHint") || strings.Contains(string(r.Data), `"name"`) {
					t.Errorf("%s / %s: data leaked: %s", c.name, op, r.Data)
				}
			}
		}

		// The reason a token was refused is told, without the token.
		r := e.do(expiring, `{ viewer { subject } }`, nil)
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "expired") || strings.Contains(r.Errors[0].Message, expiring) {
			t.Errorf("expired token answer = %+v", r.Errors)
		}
		// A viewer's overview shows counts but not names, field by field.
		r = e.do(e.idp.Login(t, "viewer").AccessToken, ops["top sharers"], vars)
		var partial struct{ Overview *struct{ Items int } }
		_ = json.Unmarshal(r.Data, &partial)
		if !slices.Equal(r.codes(), []string{"FORBIDDEN"}) || r.Errors[0].Path[1] != "topSharers" {
			t.Errorf("viewer asking for top sharers: %+v", r.Errors)
		}
		var viewer struct{ Viewer struct{ Roles []string } }
		e.must(admin, ops["viewer"], nil, &viewer)
		if !slices.Equal(viewer.Viewer.Roles, []string{"ADMIN", "VIEWER"}) {
			t.Errorf("admin roles = %v", viewer.Viewer.Roles)
		}
		// A viewer cannot list integrations but learns their ids, and the
		// overview it opens with one of them answers.
		var ids struct {
			Viewer struct{ IntegrationIds []string }
		}
		viewerToken := e.idp.Login(t, "viewer").AccessToken
		e.must(viewerToken, `{ viewer { integrationIds } }`, nil, &ids)
		if len(ids.Viewer.IntegrationIds) != 1 {
			t.Fatalf("viewer integrationIds = %v, want the one integration", ids.Viewer.IntegrationIds)
		}
		var ov struct{ Overview struct{ Items int } }
		e.must(viewerToken, ops["overview counts"], map[string]any{"id": ids.Viewer.IntegrationIds[0]}, &ov)
		if ov.Overview.Items == 0 {
			t.Errorf("viewer overview through integrationIds counted no items")
		}
		var paused struct{ PauseIntegration struct{ Status string } }
		e.must(admin, ops["pause"], vars, &paused)
		if paused.PauseIntegration.Status != "PAUSED" {
			t.Errorf("pause answered %+v", paused)
		}
	})
}

func TestIntrospectionIsOffUnlessEnabled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		r := e.do(e.idp.Token(t, devidp.DemoAdminScriptClientID), `{ __schema { types { name } } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(string(r.Data), "DriveItem") {
			t.Errorf("introspection answered: %s %+v", r.Data, r.Errors)
		}
	})
}
