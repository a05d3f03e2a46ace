package msgraph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// countingHandler counts log messages, to see which recovery paths ran.
type countingHandler struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.msgs[r.Message]++
	h.mu.Unlock()
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for m, c := range h.msgs {
		if strings.HasPrefix(m, prefix) {
			n += c
		}
	}
	return n
}

// TestFaultsEveryKind: with 10% of Graph requests failing in every way the
// simulator knows, users, drives, every drive's delta and the permissions
// still come back exactly.
func TestFaultsEveryKind(t *testing.T) {
	srv := startSim(t, graphsim.Options{
		Tenant:    tenant.Config{Seed: 7, Users: 30, FilesPerUser: 40, ShareRatio: 0.2},
		FaultRate: 0.1, FaultKinds: graphsim.FaultKinds(),
	})
	logs := &countingHandler{msgs: map[string]int{}}
	cfg := configFor(srv)
	cfg.PageSize = 3
	cfg.Logger = slog.New(logs)
	c := newClient(t, cfg)
	ctx := context.Background()
	srv.SetFaults(0, nil)
	tr := exportOf(t, srv)
	srv.SetFaults(0.1, graphsim.FaultKinds())

	var users []string
	if err := c.ListUsers(ctx, func(us []User) error {
		for _, u := range us {
			users = append(users, u.ID)
		}
		return nil
	}); err != nil {
		t.Fatalf("ListUsers under faults: %v", err)
	}
	if len(users) != len(tr.users) {
		t.Fatalf("%d users under faults, want %d", len(users), len(tr.users))
	}
	drives, _, err := c.UserDrives(ctx, users)
	if err != nil {
		t.Fatalf("UserDrives under faults: %v", err)
	}
	// Four drives at a time, as the sync engine runs them.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	var mu sync.Mutex
	n := 0
	for uid, d := range drives {
		if want, ok := tr.drives[uid]; ok != (d != nil) || ok && d.ID != want.ID {
			t.Fatalf("drive of %s: %+v, want %+v", uid, d, want)
		}
		if d == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(driveID string) {
			defer func() { <-sem; wg.Done() }()
			got := map[string]DriveItem{}
			link := ""
			for {
				p, err := c.DeltaPage(ctx, driveID, link)
				if err != nil {
					t.Errorf("DeltaPage(%s) under faults: %v", driveID, err)
					return
				}
				for _, it := range p.Items {
					got[it.ID] = it
				}
				if p.DeltaLink != "" {
					break
				}
				link = p.NextLink
			}
			var shared []string
			for id, it := range got {
				if it.Shared != nil && !it.IsRoot {
					shared = append(shared, id)
				}
			}
			perms, err := c.ListPermissions(ctx, driveID, shared)
			if err != nil {
				t.Errorf("ListPermissions under faults: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			checkItems(t, driveID, got, tr.items[driveID])
			for _, id := range shared {
				if g, w := len(permIDs(perms[id])), len(tr.perms[id]); g != w {
					t.Errorf("item %s: %d own permissions, want %d", id, g, w)
				}
			}
			n++
		}(d.ID)
	}
	wg.Wait()
	sim := srv.Stats()
	st := c.Stats()
	t.Logf("%d drives; client: %+v; simulator by status: %v", n, st, sim.ByStatus)
	for _, code := range []string{"429", "503", "504", "401"} {
		if sim.ByStatus[code] == 0 {
			t.Errorf("no %s was injected: the fault mix did not run", code)
		}
	}
	if logs.count("delta page repeated") == 0 {
		t.Error("no repeated delta page was seen: the repeat guard did not run")
	}
	if logs.count("graph answered invalid JSON") == 0 || logs.count("graph request failed") == 0 {
		t.Errorf("truncated bodies %d, resets %d: both should have been retried",
			logs.count("graph answered invalid JSON"), logs.count("graph request failed"))
	}
}

// TestPacingKeepsUnderBudget: with a small budget and more work than it
// holds, the pacer spends it without a single 429, and the client's RU
// count is the simulator's.
func TestPacingKeepsUnderBudget(t *testing.T) {
	srv := startSim(t, graphsim.Options{
		Tenant:      tenant.Config{Seed: 1, Users: 20, FilesPerUser: 30, ShareRatio: 0.1},
		RUPerMinute: 1200,
	})
	c := newClient(t, configFor(srv))
	tr := exportOf(t, srv)
	ctx := context.Background()
	start := time.Now()
	work := 0 // RU asked for so far
	for _, d := range tr.drives {
		if work > 1500 {
			break
		}
		enumerate(t, c, d.ID, "")
		var ids []string
		for id := range tr.items[d.ID] {
			ids = append(ids, id)
		}
		if _, err := c.ListPermissions(ctx, d.ID, ids); err != nil {
			t.Fatalf("ListPermissions: %v", err)
		}
		work += 2 + 5*len(ids)
	}
	elapsed := time.Since(start)
	sim, st := srv.Stats(), c.Stats()
	t.Logf("%d RU in %v against 1200 RU/min (lower bound %.1fs); simulator throttled %d; client %+v",
		sim.RU, elapsed.Round(time.Millisecond), float64(sim.RU-1200)/20, sim.Throttled, st)
	if sim.RU < 1500 {
		t.Fatalf("only %d RU of work: not enough to exhaust the budget", sim.RU)
	}
	if st.ResourceUnits != sim.RU {
		t.Errorf("client counted %d RU, simulator charged %d", st.ResourceUnits, sim.RU)
	}
	if sim.Throttled != 0 || st.Throttled != 0 {
		t.Errorf("%d requests throttled by the simulator (%d seen by the client), want none", sim.Throttled, st.Throttled)
	}
}

// TestCancelStopsThrottleWait: a context cancelled while the client waits out
// a long Retry-After ends the call at once with the context's error.
func TestCancelStopsThrottleWait(t *testing.T) {
	srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 1, Users: 20, FilesPerUser: 30, ShareRatio: 0.1}, RUPerMinute: 12})
	tr := exportOf(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var throttled atomic.Int32
	cfg := configFor(srv)
	cfg.OnRequest = func(ri RequestInfo) {
		if ri.Throttled {
			throttled.Add(1)
			cancel()
		}
	}
	c := newClient(t, cfg)
	var d tenant.ExportDrive
	for _, x := range tr.drives {
		d = x
		break
	}
	var ids []string
	for id := range tr.items[d.ID] {
		ids = append(ids, id)
	}
	_, err := c.ListPermissions(ctx, d.ID, ids) // 5 RU each against 12 RU a minute
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ListPermissions = %v, want context.Canceled", err)
	}
	if throttled.Load() == 0 {
		t.Fatal("never throttled: the test did not reach a wait")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"2.5", 2500 * time.Millisecond, true},
		{"0.128", 128 * time.Millisecond, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-1", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPartCost(t *testing.T) {
	tests := []struct {
		method, path, query string
		endpoint            string
		ru                  int
	}{
		{"GET", "/users", "$top=999", "directory", 0},
		{"GET", "/users/u1/drive", "", "drive", 1},
		{"GET", "/drives/b%21x/items/root/delta()", "$top=1000", "delta", 2},
		{"GET", "/drives/b%21x/root/delta", "token=abc", "delta", 1},
		{"GET", "/drives/b%21x/items/i1/permissions", "", "permissions", 5},
		{"DELETE", "/drives/b%21x/items/i1/permissions/p1", "", "permission", 5},
		{"PATCH", "/drives/b%21x/items/i1/permissions/p1", "", "permission", 5},
		{"GET", "/drives/b%21x", "", "drive", 1},
		{"GET", "/drives/b%21x/items/i1/children", "", "other", 2},
	}
	for _, tc := range tests {
		got := partCostOf(tc.method, tc.path, tc.query)
		if got.endpoint != tc.endpoint || got.ru != tc.ru {
			t.Errorf("%s %s?%s = %+v, want %s %d", tc.method, tc.path, tc.query, got, tc.endpoint, tc.ru)
		}
	}
}

// TestRepeatGuardGivesUp: when every page points back at itself, the guard
// asks again a bounded number of times, then fails clearly instead of
// looping or returning the page twice.
func TestRepeatGuardGivesUp(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	tr := exportOf(t, srv)
	srv.SetFaults(1, []string{"repeat"})
	c := newClient(t, configFor(srv))
	var d tenant.ExportDrive
	for _, x := range tr.drives {
		d = x
		break
	}
	_, err := c.DeltaPage(context.Background(), d.ID, "")
	if err == nil || !strings.Contains(err.Error(), "same delta page") {
		t.Fatalf("DeltaPage with every page repeated = %v, want a repeated-page error", err)
	}
	if n := c.Stats().Requests; n != maxRepeats+1 {
		t.Errorf("%d requests, want %d (one plus %d re-requests)", n, maxRepeats+1, maxRepeats)
	}
	calls := 0
	err = c.ListUsers(context.Background(), func([]User) error { calls++; return nil })
	if err == nil || calls != 0 {
		t.Fatalf("ListUsers with every page repeated = %v after %d pages, want an error and no page handed out", err, calls)
	}
}

// TestShortLivedTokens: a token that expires between calls is replaced, not
// reported as a failure.
func TestShortLivedTokens(t *testing.T) {
	srv := startSim(t, graphsim.Options{TokenTTL: time.Second})
	c := newClient(t, configFor(srv))
	for i := range 2 {
		if err := c.CheckCredentials(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(1500 * time.Millisecond) // let the token expire
	}
}
