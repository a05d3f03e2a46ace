package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
)

// BenchmarkAbuse (make bench-abuse): a legitimate admin's page of shared files, ten a second,
// alone and then while 16 anonymous and 16 VIEWER attackers, each from an address of its own
// (X-Forwarded-For through a trusted proxy), send the worst requests the security suite knows
// as fast as they are answered, ignoring Retry-After. The server is the real one with its
// default limits, on PostgreSQL. Printed side by side: the admin's p50/p99, what the attackers
// got, and the process's peak RSS. Target: p99 under attack within 2× of alone, RSS < 500 MB.
func BenchmarkAbuse(b *testing.B) {
	st := testdb.Open(b, testdb.PostgresConfig(b))
	e := newEnv(b, st, func(c *server.Config) {
		c.RateLimitPerPrincipal = server.RateLimit{Rate: 20, Burst: 100}
		c.RateLimitPerAddress = server.RateLimit{Rate: 50, Burst: 200}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	admin := e.idp.Token(b, devidp.DemoAdminScriptClientID)
	viewer := e.idp.Token(b, devidp.DemoViewerScriptClientID)
	page := fmt.Sprintf(`{ driveItems(integrationId: %q, first: 50, filter: {sharedOnly: true}) { edges { node { name } } } }`, integrationID)
	phase := 10 * time.Second
	if v := os.Getenv("BENCH_ABUSE_SECONDS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			phase = time.Duration(n) * time.Second
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	send := func(ctx context.Context, token, addr, query string) (int, time.Duration) {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", addr)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, time.Since(start)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	legit := func(ctx context.Context) []time.Duration {
		var lat []time.Duration
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return lat
			case <-tick.C:
			}
			status, d := send(context.Background(), admin, "198.51.100.200", page)
			if status != http.StatusOK {
				b.Errorf("the admin's page answered %d", status)
			}
			lat = append(lat, d)
		}
	}

	rss := &peakRSS{}
	stopRSS := rss.watch()
	ctx, cancel := context.WithTimeout(context.Background(), phase)
	alone := legit(ctx)
	cancel()

	worst := hostileQueries(integrationID)
	var statuses sync.Map // status → *atomic.Int64
	count := func(s int) {
		v, _ := statuses.LoadOrStore(s, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	ctx, cancel = context.WithTimeout(context.Background(), phase)
	var wg sync.WaitGroup
	for i := range 32 {
		token := ""
		if i >= 16 {
			token = viewer
		}
		addr := fmt.Sprintf("203.0.113.%d", i+1)
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				status, _ := send(ctx, token, addr, worst[(i+n)%len(worst)])
				if ctx.Err() == nil {
					count(status)
				}
			}
		})
	}
	attacked := legit(ctx)
	cancel()
	wg.Wait()
	peak := stopRSS()

	var got []string
	statuses.Range(func(k, v any) bool {
		got = append(got, fmt.Sprintf("%d×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(got)
	fmt.Printf("\n%-22s %8s %9s %9s\n", "admin's page, 10/s", "requests", "p50", "p99")
	fmt.Printf("%-22s %8d %9s %9s\n", "alone", len(alone), quantile(alone, .5), quantile(alone, .99))
	fmt.Printf("%-22s %8d %9s %9s\n", "under attack", len(attacked), quantile(attacked, .5), quantile(attacked, .99))
	fmt.Printf("attackers (status×count): %s\n", strings.Join(got, " "))
	fmt.Printf("peak RSS of the process (server and clients): %d MB\n", peak>>20)
	fmt.Println("target: p99 under attack <= 2x alone; RSS < 500 MB")
}

// hostileQueries are the security suite's worst requests (abuse_test.go).
func hostileQueries(integrationID string) []string {
	repeat := func(n int, f func(i int) string) string {
		var sb strings.Builder
		for i := range n {
			sb.WriteString(f(i))
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	return []string{
		"{ viewer { " + repeat(1660, func(i int) string { return []string{"a:subject", "a:name"}[i%2] }) + "} }",
		"{ viewer { " + repeat(4990, func(int) string { return "subject" }) + "} }",
		"{ viewer { " + repeat(300, func(i int) string { return fmt.Sprintf("f%d", i) }) + "} }",
		fmt.Sprintf(`{ overview(integrationId: %q) { sharedItems } }`, integrationID),
		fmt.Sprintf(`{ users(integrationId: %q, first: 100, filter: {search: %q}) { totalCount } }`, integrationID, strings.Repeat("x", 200)),
	}
}

func quantile(d []time.Duration, q float64) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)].Round(100 * time.Microsecond).String()
}

// peakRSS samples the process's resident set every 50 ms.
type peakRSS struct{ max atomic.Int64 }

func (p *peakRSS) watch() (stop func() int64) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile("/proc/self/status"); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
						kb, _ := strconv.ParseInt(f[1], 10, 64)
						if kb<<10 > p.max.Load() {
							p.max.Store(kb << 10)
						}
					}
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); return p.max.Load() }
}
