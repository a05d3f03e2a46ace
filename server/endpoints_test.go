package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

func get(t *testing.T, e *env, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestHealthConfigMetricsAndSPA(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		spa := fstest.MapFS{
			"index.html":         {Data: []byte("<!doctype html><title>Overshare</title>")},
			"assets/app-1a2b.js": {Data: []byte("console.log(1)")},
		}
		const metricsToken = "metrics-token-for-the-test"
		e := newEnv(t, st, func(c *server.Config) { c.Frontend = spa; c.MetricsToken = metricsToken })
		e.alive(e.idp.Token(t, devidp.DemoAdminScriptClientID))

		if code, _, body := get(t, e, "/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("/healthz: %d %q", code, body)
		}
		if code, _, body := get(t, e, "/readyz"); code != 200 || body != "ready\n" {
			t.Errorf("/readyz: %d %q", code, body)
		}
		code, _, body := get(t, e, "/api/config")
		var cfg map[string]string
		if err := json.Unmarshal([]byte(body), &cfg); code != 200 || err != nil {
			t.Fatalf("/api/config: %d %q", code, body)
		}
		host := strings.TrimPrefix(e.srv.URL, "http://")
		want := map[string]string{"oidcIssuer": e.idp.Issuer(), "oidcClientId": devidp.DemoSPAClientID,
			"graphqlUrl": "http://" + host + "/graphql", "graphqlWsUrl": "ws://" + host + "/graphql", "version": "test",
			"oidcScopes": "openid profile email offline_access"}
		for k, v := range want {
			if cfg[k] != v {
				t.Errorf("/api/config %s = %q, want %q", k, cfg[k], v)
			}
		}
		// /metrics on the public address needs the metrics token.
		if code, h, _ := get(t, e, "/metrics"); code != 401 || h.Get("WWW-Authenticate") == "" {
			t.Errorf("/metrics without the token: %d", code)
		}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer wrong-token")
		if resp, err := e.srv.Client().Do(req); err != nil || resp.StatusCode != 401 {
			t.Errorf("/metrics with a wrong token: %v %v", resp.StatusCode, err)
		}
		req.Header.Set("Authorization", "Bearer "+metricsToken)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range []string{"overshare_graphql_operation_duration_seconds_bucket", `overshare_http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}`, "go_goroutines", "process_resident_memory_bytes"} {
			if resp.StatusCode != 200 || !strings.Contains(string(b), m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
		// Without a token configured, /metrics is not on the public address at all.
		plain, err := server.New(server.Config{Store: st, Verifier: e.ver, GraphQL: graph.Options{Events: e.bus}})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		plain.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != 404 {
			t.Errorf("/metrics with no token configured: %d, want 404", rec.Code)
		}
		for path, want := range map[string]string{"/": "Overshare", "/items/abc": "Overshare", "/assets/app-1a2b.js": "console.log"} {
			code, h, body := get(t, e, path)
			if code != 200 || !strings.Contains(body, want) || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: %d %q %v", path, code, body, h)
			}
			if strings.HasPrefix(path, "/assets/") && !strings.Contains(h.Get("Cache-Control"), "immutable") {
				t.Errorf("GET %s: Cache-Control %q", path, h.Get("Cache-Control"))
			}
		}
		for _, path := range []string{"/missing.js", "/api/nothing"} {
			if code, _, _ := get(t, e, path); code != 404 {
				t.Errorf("GET %s: %d, want 404", path, code)
			}
		}
		if code, _, body := get(t, e, "/graphql"); code != http.StatusMethodNotAllowed || !strings.Contains(body, "POST") {
			t.Errorf("GET /graphql: %d %s", code, body)
		}

		// /readyz tells when the database is gone.
		st.Close()
		if code, _, _ := get(t, e, "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz without a database: %d", code)
		}
	})
}

func TestAllowedOriginsRefuseWildcards(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		for _, o := range []string{"*", "https://*.example.com", "not a url", "https://example.com/path"} {
			_, err := server.New(server.Config{Store: st, Verifier: e.ver, AllowedOrigins: []string{o}})
			if err == nil {
				t.Errorf("origin %q was accepted", o)
			}
		}
	})
}

// Mutations that need no Microsoft Graph call: settings, pause/resume, delete, the bulk dry run,
// and the refusals that come before any call.
func TestMutationsWithoutGraph(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		id := map[string]any{"id": integrationID}

		var upd struct {
			UpdateIntegration struct {
				Name                string
				SyncIntervalSeconds int
			}
		}
		e.must(admin, `mutation { updateIntegration(input: {id: "it1", name: " Contoso ", syncIntervalSeconds: 3600}) { name syncIntervalSeconds } }`, nil, &upd)
		if upd.UpdateIntegration.Name != "Contoso" || upd.UpdateIntegration.SyncIntervalSeconds != 3600 {
			t.Errorf("update = %+v", upd)
		}
		r := e.do(admin, `mutation { updateIntegration(input: {id: "it1", syncIntervalSeconds: 5}) { name } }`, nil)
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Errorf("a 5-second interval: %+v", r.Errors)
		}
		var pr struct{ ResumeIntegration struct{ Status string } }
		e.must(admin, `mutation($id: ID!) { pauseIntegration(id: $id) { status } }`, id, nil)
		r = e.do(admin, `mutation($id: ID!) { startSync(integrationId: $id) { id } }`, id)
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "paused") {
			t.Errorf("sync of a paused integration: %+v", r.Errors)
		}
		e.must(admin, `mutation($id: ID!) { resumeIntegration(id: $id) { status } }`, id, &pr)
		if pr.ResumeIntegration.Status != "ACTIVE" {
			t.Errorf("resume = %+v", pr)
		}
		// This server has no sync engine or Graph client wired: it says so, and stores nothing.
		for name, q := range map[string]string{
			"startSync": `mutation($id: ID!) { startSync(integrationId: $id) { id } }`,
			"integrate": `mutation { integrate(input: {name: "x", tenantId: "t", clientId: "c", clientSecret: "s"}) { id } }`,
		} {
			r := e.do(admin, q, id)
			if !slices.Equal(r.codes(), []string{"INTERNAL"}) || !strings.Contains(r.Errors[0].Message, "not available") {
				t.Errorf("%s without the service: %+v", name, r.Errors)
			}
		}
		if all, _ := st.Integrations(t.Context()); len(all) != 1 {
			t.Errorf("integrate stored something: %d integrations", len(all))
		}

		// The bulk dry run previews exactly the matching items and permissions and changes nothing.
		before, _ := st.CountsForIntegration(t.Context(), integrationID)
		var bulk struct {
			StopSharingBulk struct {
				DryRun                        bool
				Items, Permissions, Remaining int
				Preview                       []struct {
					Item        struct{ GraphID string }
					Permissions []struct {
						Link struct{ Scope string }
					}
				}
				Removed []struct{ ID string }
			}
		}
		e.must(admin, `mutation($id: ID!) { stopSharingBulk(integrationId: $id, filter: {sharedScope: [ANONYMOUS]}, dryRun: true) {
  dryRun items permissions remaining preview { item { graphId } permissions { link { scope } } } removed { id } } }`, id, &bulk)
		want := e.data.Match(store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}})
		b := bulk.StopSharingBulk
		if !b.DryRun || b.Items != len(want) || b.Remaining != 0 || len(b.Removed) != 0 || len(b.Preview) != len(want) {
			t.Errorf("dry run = items %d permissions %d remaining %d removed %d, want %d items", b.Items, b.Permissions, b.Remaining, len(b.Removed), len(want))
		}
		for _, p := range b.Preview {
			for _, perm := range p.Permissions {
				if perm.Link.Scope != "ANONYMOUS" {
					t.Errorf("the preview of %s would remove a %s link", p.Item.GraphID, perm.Link.Scope)
				}
			}
		}
		after, _ := st.CountsForIntegration(t.Context(), integrationID)
		if before.Permissions != after.Permissions || before.SharedItems != after.SharedItems {
			t.Errorf("the dry run changed the database: %+v → %+v", before, after)
		}

		// Expiration is refused where Graph would refuse it, before any call.
		orgLink := globalID("Permission", integrationID, "b!drive000-i0002", "p2-view")
		r = e.do(admin, `mutation($p: ID!) { setLinkExpiration(permissionId: $p, expiresAt: "2030-01-01T00:00:00Z") { message } }`, map[string]any{"p": orgLink})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "anonymous") {
			t.Errorf("expiration on an organization link: %+v", r.Errors)
		}
		r = e.do(admin, `mutation($i: ID!, $p: [ID!]) { stopSharing(input: {itemId: $i, permissionIds: $p}) { removed { id } } }`,
			map[string]any{"i": globalID("DriveItem", integrationID, "b!drive000-i0001"), "p": []string{orgLink}})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Errorf("a permission of another item: %+v", r.Errors)
		}

		var del struct{ DeleteIntegration bool }
		e.must(admin, `mutation($id: ID!) { deleteIntegration(id: $id) }`, id, &del)
		if c, _ := st.CountsForIntegration(t.Context(), integrationID); !del.DeleteIntegration || c.Items != 0 || c.Users != 0 {
			t.Errorf("after delete: %v %+v", del, c)
		}
		r = e.do(admin, `mutation($id: ID!) { deleteIntegration(id: $id) }`, id)
		if !slices.Equal(r.codes(), []string{"NOT_FOUND"}) {
			t.Errorf("deleting twice: %+v", r.Errors)
		}
	})
}
