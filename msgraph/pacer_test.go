package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

// fakeClock drives the pacer without sleeping.
type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func headers(limit, remaining, reset string) func(string) string {
	h := http.Header{}
	h.Set("RateLimit-Limit", limit)
	h.Set("RateLimit-Remaining", remaining)
	h.Set("RateLimit-Reset", reset)
	return h.Get
}

func TestPacerSpendsARefillingBudgetWithoutRunningDry(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(clk.now)
	// 1200 RU/min refilled continuously: 80% used, full again in 48 s.
	p.observe(headers("1200", "240", "48"), clk.t)
	const cost, rate = 5.0, 20.0
	tokens, spent := 240.0, 0.0
	start := clk.t
	for clk.t.Sub(start) < time.Minute {
		d := p.reserve(int(cost))
		clk.t = clk.t.Add(d)
		tokens = min(1200, tokens+rate*d.Seconds())
		if tokens < cost {
			t.Fatalf("after %v and %.0f RU the bucket holds %.1f RU: this request would be throttled", clk.t.Sub(start), spent, tokens)
		}
		tokens -= cost
		spent += cost
		p.done(0, 0)
	}
	// Everything that was there or refilled, minus the margin kept in hand.
	if want := 240 + rate*60 - 12 - 2*cost; spent < want {
		t.Errorf("spent %.0f RU in a minute, want at least %.0f", spent, want)
	}
}

// TestPacerReorderedAnswersDoNotPutUnitsBack: the server may charge two
// requests in the other order than they were sent, and their answers may
// arrive in either order. A count that lacks a request already answered must
// not raise the estimate above what the server holds; a quiet request's
// count (nothing else outstanding) may.
func TestPacerReorderedAnswersDoNotPutUnitsBack(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(clk.now)
	ctx := context.Background()
	// 1250 RU/min refilled continuously, 240 left: full again in 48.5 s.
	p.observe(headers("1250", "240", "49"), clk.t)
	a, err := p.wait(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.wait(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	// The server charged b first (235 left), then a (230 left); a's answer
	// is observed first.
	p.answered(a, 5, headers("1250", "230", "49"), clk.t)
	p.answered(b, 5, headers("1250", "235", "49"), clk.t)
	if got := p.estimateAt(clk.t); got > 230 {
		t.Errorf("estimate %.1f RU after both answers, but the server holds 230: b's count put a's units back", got)
	}
	// Alone, a request's count covers everything: it may raise the estimate.
	c, err := p.wait(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	p.answered(c, 5, headers("1250", "600", "31"), clk.t)
	if got := p.estimateAt(clk.t); got != 600 {
		t.Errorf("estimate %.1f RU after a quiet answer reporting 600, want 600", got)
	}
}

func TestPacerFixedWindowWaitsForTheReset(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(clk.now)
	// 240 RU left, the window resets in 30 s: 240 + 20*30 != 1200, so nothing refills before.
	p.observe(headers("1200", "240", "30"), clk.t)
	reset := clk.t.Add(30 * time.Second)
	spent := 0
	for clk.t.Before(reset) {
		clk.t = clk.t.Add(p.reserve(5))
		if clk.t.Before(reset) {
			spent += 5
		}
	}
	if spent > 240 || spent < 240-12-5 {
		t.Errorf("spent %d RU before the reset, want about 240 (the remainder, less the margin)", spent)
	}
	if d := p.reserve(5); d != 0 {
		t.Errorf("after the reset a request waits %v, want 0", d)
	}
}

func TestPacerHoldsEveryoneAfter429(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(clk.now)
	p.block(clk.t.Add(2500 * time.Millisecond))
	if d := p.reserve(0); d != 2500*time.Millisecond {
		t.Errorf("wait %v, want 2.5s", d)
	}
	// Below 80% (a costed answer without headers) pacing stops.
	p.observe(headers("1200", "240", "48"), clk.t)
	p.observe(http.Header{}.Get, clk.t)
	clk.t = clk.t.Add(3 * time.Second)
	if d := p.reserve(100); d != 0 {
		t.Errorf("wait %v without headers, want 0", d)
	}
}

// TestMiddlewareChain: kiota's retry and User-Agent handlers are replaced,
// ours sit in a fixed order, and the rest of the SDK's chain is kept.
func TestMiddlewareChain(t *testing.T) {
	c, err := New(t.Context(), Config{TenantID: "t", ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	chain := c.middlewares(&opts)
	var names []string
	for _, m := range chain {
		names = append(names, fmt.Sprintf("%T", m))
	}
	got := strings.Join(names, " ")
	for _, n := range names {
		if strings.HasSuffix(n, "nethttplibrary.RetryHandler") || strings.HasSuffix(n, "nethttplibrary.UserAgentHandler") {
			t.Errorf("chain still has kiota's %s: %s", n, got)
		}
	}
	if names[0] != "*msgraph.userAgentHandler" {
		t.Errorf("first handler %s, want ours", names[0])
	}
	if !strings.Contains(got, "*msgraph.retryHandler") || !strings.Contains(got, "CompressionHandler") ||
		!strings.Contains(got, "GraphTelemetryHandler") || !strings.Contains(got, "RedirectHandler") {
		t.Errorf("unexpected chain: %s", got)
	}
	if len(chain) != 8 {
		t.Errorf("%d handlers, want 8: %s", len(chain), got)
	}
}

// TestPacerUnknownBudgetCapGrowsWithWhatWasSpent: until Graph names the
// budget, 250 RU may be in flight; RU answered without RateLimit-* headers
// prove a larger budget (S RU in a minute without headers: L > S/1.8) and
// let 20% of that be in flight, for as long as the evidence is under a
// minute old.
func TestPacerUnknownBudgetCapGrowsWithWhatWasSpent(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(clk.now)
	ctx := context.Background()
	noHeaders := http.Header{}.Get
	if got := p.unknownCapLocked(); got != 250 {
		t.Fatalf("cap before any answer %.0f RU, want 250", got)
	}
	for range 90 {
		tk, err := p.wait(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		p.answered(tk, 100, noHeaders, clk.t)
		clk.t = clk.t.Add(500 * time.Millisecond)
	}
	if got := p.unknownCapLocked(); got != 1000 {
		t.Fatalf("cap after 9,000 RU without headers in 45 s: %.0f RU, want 1,000", got)
	}
	// Ten batches of 100 RU now go at once.
	done := make(chan error, 1)
	go func() {
		for range 10 {
			if _, err := p.wait(ctx, 100); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ten 100-RU requests were held with 1,000 RU allowed in flight")
	}
	clk.t = clk.t.Add(61 * time.Second)
	if got := p.unknownCapLocked(); got != 250 {
		t.Errorf("cap a minute after the last answer %.0f RU, want 250 again", got)
	}
}
