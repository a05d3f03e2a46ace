package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

// TestForwardedHeadersFromTrustedProxiesOnly: behind a trusted reverse proxy the dashboard is
// told the scheme and host the browser used (https, wss), gets HSTS, and its origin counts as
// the server's own; the same headers from anyone else change nothing.
func TestForwardedHeadersFromTrustedProxiesOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		forwarded := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"overshare.example.com"}}
		ask := func(e *env, path string, h http.Header) (*http.Response, map[string]string) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
			for k, v := range h {
				req.Header[k] = v
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var cfg map[string]string
			json.NewDecoder(resp.Body).Decode(&cfg)
			return resp, cfg
		}
		behind := newEnv(t, st, func(c *server.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		resp, cfg := ask(behind, "/api/config", forwarded)
		if cfg["graphqlUrl"] != "https://overshare.example.com/graphql" || cfg["graphqlWsUrl"] != "wss://overshare.example.com/graphql" {
			t.Errorf("behind a trusted proxy the dashboard is told %q and %q", cfg["graphqlUrl"], cfg["graphqlWsUrl"])
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS for a page the browser loaded over https")
		}
		origin := http.Header{"Origin": {"https://overshare.example.com"}}
		for k, v := range forwarded {
			origin[k] = v
		}
		if r := behind.post("", []byte(`{"query":"{ viewer { subject } }"}`), origin); r.status == http.StatusForbidden {
			t.Errorf("the dashboard's own origin behind the proxy was refused: %+v", r.Errors)
		}
		for _, bad := range []string{"evil.example/x", "user@evil.example", "a b"} {
			_, cfg := ask(behind, "/api/config", http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {bad}})
			if cfg["graphqlUrl"] != "https://"+behind.srv.Listener.Addr().String()+"/graphql" {
				t.Errorf("forwarded host %q gave %q", bad, cfg["graphqlUrl"])
			}
		}

		// The same server without trusted proxies: the headers change nothing.
		plain, err := server.New(server.Config{Store: st, Verifier: behind.ver, GraphQL: graph.Options{Events: behind.bus}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(plain.Handler())
		defer srv.Close()
		direct := &env{t: t, srv: srv}
		resp, cfg = ask(direct, "/api/config", forwarded)
		if want := "http://" + srv.Listener.Addr().String() + "/graphql"; cfg["graphqlUrl"] != want || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("an untrusted sender's X-Forwarded-* changed the answer: %q, HSTS %q", cfg["graphqlUrl"], resp.Header.Get("Strict-Transport-Security"))
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		req.Header = origin.Clone()
		req.Header.Set("Content-Type", "application/json")
		r, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("a forged X-Forwarded-Host made a foreign origin the server's own: %d", r.StatusCode)
		}
	})
}
