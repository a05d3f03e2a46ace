package server_test

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/store"
)

func retryAfter(t *testing.T, r gqlResponse, h http.Header) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || !slices.Contains(r.codes(), graph.CodeRateLimited) {
		t.Fatalf("want 429 RATE_LIMITED, got %d %v", r.status, r.codes())
	}
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After %q", h.Get("Retry-After"))
	}
}

// TestRateLimitPerAddress: a flood from one address is refused before any token is checked,
// with 429 and Retry-After; behind a trusted proxy each client has its own bucket, and a
// forged X-Forwarded-For from anyone else changes nothing.
func TestRateLimitPerAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *server.Config) {
			c.RateLimitPerAddress = server.RateLimit{Rate: 0.01, Burst: 3}
		})
		for i := range 3 {
			if r := e.do("", `{ viewer { subject } }`, nil); r.status != http.StatusUnauthorized {
				t.Fatalf("anonymous request %d: %d, want 401 within the burst", i, r.status)
			}
		}
		r, h := e.postHeaders("", `{ viewer { subject } }`, nil)
		retryAfter(t, r, h)
		// A forged X-Forwarded-For from an untrusted peer is not believed.
		r, h = e.postHeaders("", `{ viewer { subject } }`, http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		retryAfter(t, r, h)
	})
}

// TestRateLimitBehindProxy: behind a trusted proxy (the test's loopback peer), clients are
// told apart by X-Forwarded-For.
func TestRateLimitBehindProxy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		p := newEnv(t, st, func(c *server.Config) {
			c.RateLimitPerAddress = server.RateLimit{Rate: 0.01, Burst: 1}
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		})
		admin := p.idp.Token(t, devidp.DemoAdminScriptClientID)
		for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
			r, _ := p.postHeaders(admin, `{ viewer { subject } }`, http.Header{"X-Forwarded-For": {client + ", 127.0.0.1"}})
			if r.status != http.StatusOK {
				t.Fatalf("client %s behind the proxy: %d %v", client, r.status, r.codes())
			}
		}
		r, h := p.postHeaders(admin, `{ viewer { subject } }`, http.Header{"X-Forwarded-For": {"198.51.100.1"}})
		retryAfter(t, r, h)
	})
}

// TestRateLimitPerPrincipal: each user or script client has its own bucket, and the
// expensive fields cost more: two overviews spend what six small queries would.
func TestRateLimitPerPrincipal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *server.Config) {
			c.RateLimitPerPrincipal = server.RateLimit{Rate: 0.01, Burst: 6}
		})
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		viewer := e.idp.Token(t, devidp.DemoViewerScriptClientID)
		overview := `query($id: ID!) { overview(integrationId: $id) { sharedItems } }`
		vars := map[string]any{"id": integrationID}
		if r := e.do(admin, overview, vars); r.status != http.StatusOK {
			t.Fatalf("first overview: %d %v", r.status, r.codes())
		}
		r, h := e.postHeaders(admin, `{ a: overview(integrationId: "`+integrationID+`") { sharedItems } }`, nil)
		retryAfter(t, r, h) // 5 + 5 > 6: an alias does not hide the field
		if r := e.do(admin, `{ viewer { subject } }`, nil); r.status != http.StatusOK {
			t.Fatalf("a small query within what is left: %d %v", r.status, r.codes())
		}
		// Another principal is not affected.
		for range 6 {
			if r := e.do(viewer, `{ viewer { subject } }`, nil); r.status != http.StatusOK {
				t.Fatalf("viewer: %d %v", r.status, r.codes())
			}
		}
		r, h = e.postHeaders(viewer, `{ viewer { subject } }`, nil)
		retryAfter(t, r, h)
	})
}
