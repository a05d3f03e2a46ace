package msgraph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	json "github.com/goccy/go-json"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/valyala/fastjson"
)

// Retry policy.
const (
	maxThrottleRetries  = 10 // 429/503/504
	maxTransientRetries = 6  // resets, truncated bodies, attempt timeouts
	maxAuthRetries      = 2  // 401 InvalidAuthenticationToken
	backoffBase         = 500 * time.Millisecond
	backoffCap          = 30 * time.Second
	attemptTimeout      = 2 * time.Minute
)

// userAgentHandler sets the User-Agent Microsoft asks integrators to send.
// It replaces kiota's UserAgentHandler, which would append "kiota-go/x".
type userAgentHandler struct{ ua string }

func (h *userAgentHandler) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", h.ua)
	return p.Next(req, i)
}

// counters back Stats.
type counters struct {
	requests, batched, ru, throttled, retries atomic.Int64
	throttledWait                             atomic.Int64 // nanoseconds
}

func (s *counters) snapshot() Stats {
	return Stats{
		Requests: s.requests.Load(), BatchedRequests: s.batched.Load(), ResourceUnits: s.ru.Load(),
		Throttled: s.throttled.Load(), ThrottledWait: time.Duration(s.throttledWait.Load()), Retries: s.retries.Load(),
	}
}

// retryHandler replaces kiota's RetryHandler. Per request it:
//   - charges the request's resource units and waits for the pacer;
//   - retries 429/503/504 after Retry-After (fractions and HTTP dates
//     honoured) or a capped, jittered exponential backoff;
//   - retries idempotent requests on connection resets and on truncated or
//     invalid JSON bodies (it reads every body in full to know);
//   - retries 401 InvalidAuthenticationToken with a freshly fetched token.
//
// A cancelled context ends any wait at once.
type retryHandler struct{ c *Client }

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string   { return "Graph request timed out" }
func (attemptTimeoutError) Timeout() bool   { return true }
func (attemptTimeoutError) Temporary() bool { return true }

func (h *retryHandler) Intercept(p khttp.Pipeline, idx int, req *http.Request) (*http.Response, error) {
	c := h.c
	ctx := req.Context()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		body = b
	}
	cost := c.costOf(req.Method, req.URL, body)
	idempotent := cost.idempotent

	var throttleN, transientN, authN int
	for attempt := 0; ; attempt++ {
		ticket, err := c.pacer.wait(ctx, cost.ru)
		if err != nil {
			return nil, err
		}
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		r := req.Clone(actx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		if attempt > 0 {
			r.Header.Set("Retry-Attempt", strconv.Itoa(attempt))
		}
		start := time.Now()
		resp, err := p.Next(r, idx)
		c.stats.requests.Add(1)
		c.stats.ru.Add(int64(cost.ru))
		c.stats.batched.Add(int64(len(cost.parts)))
		var data []byte
		if err == nil {
			data, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		// The request leaves the in-flight count in the same step as its
		// RateLimit-* headers replace the estimate: in between, a waiting
		// sender would see neither and overdraw the budget.
		switch {
		case err != nil || cost.ru == 0:
			c.pacer.done(ticket, cost.ru)
		case cost.endpoint == "batch":
			if get, ok := batchRateLimit(resp.StatusCode, data); ok {
				c.pacer.answered(ticket, cost.ru, get, time.Now())
			} else {
				c.pacer.done(ticket, cost.ru)
			}
		default:
			c.pacer.answered(ticket, cost.ru, resp.Header.Get, time.Now())
		}
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if timedOut {
			err = attemptTimeoutError{}
		}
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		throttled := status == 429 || status == 503
		c.report(RequestInfo{Method: req.Method, Endpoint: cost.endpoint, Status: status, ResourceUnits: cost.ru, Throttled: throttled, Duration: time.Since(start)})

		if err != nil {
			if idempotent && transientN < maxTransientRetries && isTransient(err) {
				transientN++
				c.log.Debug("graph request failed, retrying", "endpoint", cost.endpoint, "err", err, "attempt", attempt+1)
				if werr := c.sleep(ctx, backoff(transientN), false); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
		resp.Header.Del("Content-Length")

		// fastjson's validator scans without allocating, ~3.5× as fast as
		// encoding/json's (a sync validates every page it reads); goccy/go-json's
		// decodes the whole body into interfaces to answer the same.
		if isJSON(resp.Header) && len(data) > 0 && fastjson.ValidateBytes(data) != nil {
			if idempotent && transientN < maxTransientRetries {
				transientN++
				c.log.Debug("graph answered invalid JSON, retrying", "endpoint", cost.endpoint, "status", status, "attempt", attempt+1)
				if werr := c.sleep(ctx, backoff(transientN), false); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, fmt.Errorf("Graph answered %d with an invalid JSON body (%d bytes)", status, len(data))
		}

		switch {
		case status == 429 || status == 503 || status == 504:
			if throttled {
				c.stats.throttled.Add(1)
			}
			if throttleN >= maxThrottleRetries {
				return resp, nil
			}
			throttleN++
			wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !ok {
				wait = backoff(throttleN)
			}
			if status == 429 {
				// Everyone is over the budget, not just this request.
				c.pacer.block(time.Now().Add(wait))
			}
			c.log.Debug("graph throttled, waiting", "endpoint", cost.endpoint, "status", status, "wait", wait)
			if werr := c.sleep(ctx, wait, throttled); werr != nil {
				return nil, werr
			}
			continue
		case status == 401 && authN < maxAuthRetries && bytes.Contains(data, []byte("InvalidAuthenticationToken")):
			authN++
			if tok, terr := c.tokens.GetAuthorizationToken(ctx, req.URL, nil); terr == nil && tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			c.stats.retries.Add(1)
			continue
		}
		return resp, nil
	}
}

// sleep waits d or until ctx ends, counting a retry (and throttled time).
func (c *Client) sleep(ctx context.Context, d time.Duration, throttled bool) error {
	c.stats.retries.Add(1)
	if throttled {
		c.stats.throttledWait.Add(int64(d))
	}
	return sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) report(ri RequestInfo) {
	if c.cfg.OnRequest != nil {
		c.cfg.OnRequest(ri)
	}
}

// backoff is capped exponential with full jitter in the upper half.
func backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 16)
	if d > backoffCap {
		d = backoffCap
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// parseRetryAfter reads delay-seconds, fractions included ("2.5" is 2.5 s),
// or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 24*3600 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// isTransient reports failures worth retrying on an idempotent request: the
// connection broke after the request may have been sent. Refused
// connections, DNS and TLS failures are not transient; they need an admin.
func isTransient(err error) bool {
	var te attemptTimeoutError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") ||
		strings.Contains(s, "unexpected EOF") || strings.Contains(s, "server closed idle connection") ||
		strings.Contains(s, "stream error") || strings.Contains(s, "GOAWAY") || strings.HasSuffix(s, ": EOF")
}

// requestCost is what a request costs and whether it may be replayed.
type requestCost struct {
	endpoint   string
	ru         int
	idempotent bool
	parts      []partCost // $batch parts
}

type partCost struct {
	endpoint string
	ru       int
}

// costOf prices a request in SharePoint resource units (docs/graph-behaviour.md):
// delta with a token 1, delta without 2, getting a drive or an item 1, other
// lists and writes 2, every permission operation 5, directory calls 0. A
// $batch costs the sum of its parts; the envelope is free.
func (c *Client) costOf(method string, u *url.URL, body []byte) requestCost {
	path := c.relPath(u)
	if path == "/$batch" || path == "/%24batch" {
		rc := requestCost{endpoint: "batch", idempotent: true}
		var b struct {
			Requests []struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"requests"`
		}
		if json.Unmarshal(body, &b) == nil {
			for _, r := range b.Requests {
				pu, err := url.Parse(r.URL)
				if err != nil {
					continue
				}
				pc := partCostOf(strings.ToUpper(r.Method), pu.EscapedPath(), pu.RawQuery)
				rc.parts = append(rc.parts, pc)
				rc.ru += pc.ru
				if !strings.EqualFold(r.Method, "GET") {
					rc.idempotent = false
				}
			}
		}
		return rc
	}
	pc := partCostOf(method, path, u.RawQuery)
	return requestCost{endpoint: pc.endpoint, ru: pc.ru, idempotent: method != http.MethodPost && method != http.MethodPatch}
}

// relPath is u's path below the Graph base URL.
func (c *Client) relPath(u *url.URL) string {
	path := u.EscapedPath()
	if bp := strings.TrimRight(c.graphBase.EscapedPath(), "/"); bp != "" && strings.HasPrefix(path, bp+"/") {
		path = strings.TrimPrefix(path, bp)
	}
	return path
}

func partCostOf(method, path, query string) partCost {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := segs[len(segs)-1]
	switch {
	case segs[0] == "users" || segs[0] == "subscribedSkus" || segs[0] == "organization" ||
		segs[0] == "domains" || segs[0] == "groups" || segs[0] == "subscriptions":
		if len(segs) == 3 && segs[0] == "users" && segs[2] == "drive" {
			return partCost{"drive", 1}
		}
		if len(segs) > 2 && segs[0] == "users" && segs[2] == "drive" {
			break // a drive path reached through the user: priced below
		}
		return partCost{"directory", 0}
	}
	switch {
	case strings.HasPrefix(last, "delta"):
		q, _ := url.ParseQuery(query)
		if q.Get("token") != "" || strings.Contains(last, "token=") || strings.Contains(last, "token%3D") {
			return partCost{"delta", 1}
		}
		return partCost{"delta", 2}
	case last == "permissions":
		return partCost{"permissions", 5}
	case len(segs) >= 2 && segs[len(segs)-2] == "permissions":
		return partCost{"permission", 5}
	case segs[0] == "drives" && len(segs) == 2:
		return partCost{"drive", 1}
	case method == http.MethodGet && last == "children":
		return partCost{"other", 2}
	case method == http.MethodGet:
		return partCost{"other", 1}
	}
	return partCost{"other", 2}
}

// refillDrain is how fast the pacer spends what a refilling budget holds
// above its margin.
const refillDrain = 5 * time.Second

// pacer spreads requests so that the budget the RateLimit-* headers announce
// lasts until their reset, and holds everyone after a 429 until its
// Retry-After. SharePoint sends the headers only past 80% of the per-minute
// budget, so until then nothing is held.
//
// "The budget until the reset" is what remains plus what refills before it.
// A fixed window refills nothing before its reset; a continuously refilling
// budget (a token bucket, where Reset is the time until it is full again)
// refills Limit/60 RU a second. The headers tell the two apart: for a
// refilling budget Remaining + Limit/60 x Reset = Limit. For a fixed window
// the pacer spends (Remaining - margin)/Reset RU a second, then waits for the
// reset; for a refilling one it spends the refill rate plus what is left
// above the margin over a few seconds, so the budget is used in full without
// ever reaching zero.
type pacer struct {
	mu           sync.Mutex
	now          func() time.Time
	blockedUntil time.Time

	active    bool
	remaining float64   // RU left (estimate: last announced, minus what we sent since, plus refill)
	at        time.Time // when remaining was last brought up to date
	resetAt   time.Time
	refill    float64   // RU per second refilled before the reset (0 for a fixed window)
	limit     float64   // RateLimit-Limit; +Inf when not sent
	margin    float64   // RU kept in hand for rounding and other clients
	next      time.Time // earliest start of the next request while pacing
	inflight  float64   // RU sent but not yet answered: the server's count lacks them

	known bool          // a RateLimit-* header has been seen: the budget's size is known
	freed chan struct{} // closed when in-flight units are answered or the budget becomes known
	spent spentWindow   // RU answered without headers while the budget is unknown

	// Tickets number requests in the order they were sent. The server may
	// charge them in another order (goroutines, HTTP/2 streams), so a count
	// it reports can lack a request that was sent earlier and answered
	// first: taken as it is, it would put that request's units back. While
	// pacing, a reported count therefore only lowers the estimate, except
	// the answer of a quiet request (sent when nothing else was
	// outstanding, answered before any later one), whose count covers
	// everything sent before it and nothing sent after.
	sent        uint64 // ticket of the last request sent
	outstanding int    // requests sent and not yet answered
	quiet       uint64 // ticket of the last request sent while nothing else was outstanding
	answeredMax uint64 // highest ticket answered so far
}

// unknownBudgetInflight caps the RU in flight until the first RateLimit-*
// header. Graph sends them only past 80% of the budget, so everything in
// flight when the first arrives may land in the last 20%; concurrent $batches
// of 100 RU each would overdraw it. 250 RU is 20% of the smallest per-app
// budget Graph documents (1,250 RU a minute, docs/graph-behaviour.md). Units answered
// without headers prove the budget larger (see unknownCapLocked), so the cap
// grows with them instead of holding a large budget to 250 RU in flight.
const unknownBudgetInflight = 250

// spentWindow sums the RU answered without RateLimit-* headers over the last
// minute, per second.
type spentWindow struct {
	ru [60]float64
	at [60]int64 // the Unix second each slot holds
}

func (w *spentWindow) add(now time.Time, ru float64) {
	s := now.Unix()
	i := s % 60
	if w.at[i] != s {
		w.at[i], w.ru[i] = s, 0
	}
	w.ru[i] += ru
}

func (w *spentWindow) sum(now time.Time) float64 {
	s, t := now.Unix(), 0.0
	for i := range w.ru {
		if s-w.at[i] < 60 {
			t += w.ru[i]
		}
	}
	return t
}

// unknownCapLocked is the RU allowed in flight while the budget is unknown:
// 20% of the smallest budget the answers so far allow. S RU charged within a
// minute without a header mean a budget L with S - L < 0.8·L (a bucket that
// was full a minute ago and refilled L since is at most S - L used), so
// L > S/1.8.
func (p *pacer) unknownCapLocked() float64 {
	return max(unknownBudgetInflight, 0.2*p.spent.sum(p.now())/1.8)
}

func newPacer(now func() time.Time) *pacer { return &pacer{now: now} }

// reserve returns how long a request of cost ru must wait, and books it.
func (p *pacer) reserve(ru int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reserveLocked(ru)
}

func (p *pacer) reserveLocked(ru int) time.Duration {
	now := p.now()
	start := now
	if p.blockedUntil.After(start) {
		start = p.blockedUntil
	}
	if !p.active || ru == 0 {
		return start.Sub(now)
	}
	if !start.Before(p.resetAt) && p.refill <= 0 {
		p.active = false // window over: the budget is whole again
		return start.Sub(now)
	}
	// A refilling budget stays paced (at its refill rate once past the
	// announced reset) until an answer without headers says it is below 80%.
	if p.next.After(start) {
		start = p.next
	}
	// Bring the estimate up to start.
	if start.After(p.at) {
		p.remaining = min(p.limit, p.remaining+p.refill*start.Sub(p.at).Seconds())
		p.at = start
	}
	c := float64(ru)
	avail := p.remaining - p.margin
	if avail < c {
		if p.refill <= 0 {
			// Fixed window: nothing comes back before the reset.
			p.active = false
			return p.resetAt.Sub(now)
		}
		start = start.Add(time.Duration((c - avail) / p.refill * float64(time.Second)))
		p.remaining += c - avail
		p.at = start
		avail = c
	}
	rate := p.refill
	left := p.resetAt.Sub(start).Seconds()
	if p.refill > 0 {
		// A refilling budget never runs out at the refill rate: what is
		// left above it need not last until the reset, only not be
		// overdrawn, so it is spent over a few seconds.
		left = min(left, refillDrain.Seconds())
	}
	if left > 0 {
		rate += avail / left
	}
	p.remaining -= c
	if rate > 0 {
		p.next = start.Add(time.Duration(c / rate * float64(time.Second)))
	}
	return start.Sub(now)
}

// wait books ru and sleeps until the request may go. The booking counts as in
// flight from the moment it is made, not from the moment the request is sent:
// an answer observed meanwhile replaces the estimate with the server's count,
// which lacks the units of every request still waiting to go, and those would
// otherwise be spent twice.
//
// The ticket orders requests by when they were sent, for answered.
func (p *pacer) wait(ctx context.Context, ru int) (uint64, error) {
	for {
		p.mu.Lock()
		c := float64(ru)
		if p.known || ru == 0 || p.inflight <= 0 || p.inflight+c <= p.unknownCapLocked() {
			d := p.reserveLocked(ru)
			p.inflight += c
			p.mu.Unlock()
			if err := sleepCtx(ctx, d); err != nil {
				p.done(0, ru)
				return 0, err
			}
			p.mu.Lock()
			p.sent++
			ticket := p.sent
			if p.outstanding == 0 {
				p.quiet = ticket
			}
			p.outstanding++
			p.mu.Unlock()
			return ticket, nil
		}
		if p.freed == nil {
			p.freed = make(chan struct{})
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-freed:
		}
	}
}

// done ends a request booked by wait whose answer tells nothing about the
// budget; ticket is 0 when it was never sent.
func (p *pacer) done(ticket uint64, ru int) {
	p.mu.Lock()
	p.inflight -= float64(ru)
	p.settleLocked(ticket)
	p.wakeLocked()
	p.mu.Unlock()
}

// settleLocked counts a sent request as answered and says whether its
// answer was quiet (see the tickets in pacer).
func (p *pacer) settleLocked(ticket uint64) (quiet bool) {
	if ticket == 0 {
		return false
	}
	p.outstanding--
	quiet = ticket == p.quiet && ticket > p.answeredMax
	p.answeredMax = max(p.answeredMax, ticket)
	return quiet
}

func (p *pacer) wakeLocked() {
	if p.freed != nil {
		close(p.freed)
		p.freed = nil
	}
}

// observe takes in the RateLimit-* headers of an answer known to cover every
// request sent before it (tests drive the pacer with it). A costed answer
// without them means the budget is below 80% used.
func (p *pacer) observe(get func(string) string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observeLocked(get, now, true)
}

// answered ends a request of cost ru and observes its answer's headers.
func (p *pacer) answered(ticket uint64, ru int, get func(string) string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight -= float64(ru)
	quiet := p.settleLocked(ticket)
	if !p.known && get("RateLimit-Remaining") == "" {
		p.spent.add(now, float64(ru))
	}
	p.observeLocked(get, now, quiet)
	p.wakeLocked()
}

// batchRateLimit reads the RateLimit-* headers of a $batch answer from its
// parts (the envelope is free and carries none): the part with the lowest
// Remaining was charged last. ok is false when the body is no batch answer.
func batchRateLimit(status int, body []byte) (get func(string) string, ok bool) {
	if status != http.StatusOK {
		return nil, false
	}
	var b struct {
		Responses []struct {
			Headers map[string]string `json:"headers"`
		} `json:"responses"`
	}
	if json.Unmarshal(body, &b) != nil || len(b.Responses) == 0 {
		return nil, false
	}
	var best map[string]string
	bestRem := math.Inf(1)
	for _, r := range b.Responses {
		if v, err := strconv.ParseFloat(headerValue(r.Headers, "RateLimit-Remaining"), 64); err == nil && v < bestRem {
			best, bestRem = r.Headers, v
		}
	}
	return func(k string) string { return headerValue(best, k) }, true
}

// observeLocked takes in an answer's RateLimit-* headers. Unless the answer
// is complete (a quiet one, see the tickets in pacer), a count above the
// estimate is not believed: it may lack a request charged after it.
func (p *pacer) observeLocked(get func(string) string, now time.Time, complete bool) {
	lim, rem, reset := get("RateLimit-Limit"), get("RateLimit-Remaining"), get("RateLimit-Reset")
	if rem == "" || reset == "" {
		if p.refill > 0 && p.limit > 0 && !math.IsInf(p.limit, 1) {
			// A refilling budget whose size we know: an answer without
			// headers only says more than 20% of it was left when this
			// request was charged. Going unpaced on that would let every
			// concurrent sender spend at once and overdraw the 20%; keep
			// pacing, on the estimate, raised to that lower bound when the
			// answer is complete. The pacer spends faster than the refill,
			// so the headers soon come back.
			if floor := 0.2*p.limit - p.inflight; complete && floor > p.estimateAt(now) {
				p.remaining, p.at = floor, now
				p.resetAt = now.Add(time.Duration(0.8 * 60 * float64(time.Second)))
			}
			p.active = true
			return
		}
		p.active = false
		return
	}
	r, err1 := strconv.ParseFloat(rem, 64)
	s, err2 := strconv.ParseFloat(reset, 64)
	if err1 != nil || err2 != nil || r < 0 || s < 0 {
		return
	}
	l, err := strconv.ParseFloat(lim, 64)
	if err != nil || l <= 0 {
		l = 0
	}
	if p.active && !complete && r-p.inflight >= p.estimateAt(now) {
		return // the estimate is lower: keep it
	}
	p.active = true
	if !p.known {
		p.known = true
		p.wakeLocked()
	}
	p.remaining = r - p.inflight
	p.at = now
	p.resetAt = now.Add(time.Duration(s * float64(time.Second)))
	p.refill = 0
	p.margin = 1
	p.limit = math.Inf(1)
	if l > 0 {
		p.limit = l
		perSec := l / 60
		// Reset is rounded up to whole seconds: allow one second of slack.
		if d := r + perSec*s - l; d >= -perSec && d <= perSec*1.5+1 {
			p.refill = perSec
		}
		p.margin = max(1, l/100)
	}
}

// estimateAt is the estimate of what remains at now, after every booked
// request (p.at may lie ahead of now when requests wait for their turn).
func (p *pacer) estimateAt(now time.Time) float64 {
	e := p.remaining + p.refill*now.Sub(p.at).Seconds()
	if now.After(p.at) {
		e = min(p.limit, e)
	}
	return e
}

// block holds every request until t.
func (p *pacer) block(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.blockedUntil) {
		p.blockedUntil = t
	}
}
