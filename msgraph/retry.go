package msgraph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

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

// attemptTimeoutError is an attempt that outlived attemptTimeout: retried
// like a broken connection.
type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string   { return "Graph request timed out" }
func (attemptTimeoutError) Timeout() bool   { return true }
func (attemptTimeoutError) Temporary() bool { return true }

func (h *retryHandler) Intercept(p khttp.Pipeline, idx int, req *http.Request) (*http.Response, error) {
	body, err := drainBody(req)
	if err != nil {
		return nil, err
	}
	r := &retrying{c: h.c, req: req, body: body, cost: h.c.costOf(req.Method, req.URL, body),
		send: func(r *http.Request) (*http.Response, error) { return p.Next(r, idx) }}
	ctx := req.Context()
	for n := 0; ; n++ {
		a, err := r.sendOnce(ctx, n)
		if err != nil {
			return nil, err
		}
		next := r.nextStep(ctx, a)
		if next.final {
			return next.resp, next.err
		}
		if err := h.c.sleep(ctx, next.wait, next.throttled); err != nil {
			return nil, err
		}
	}
}

// retrying is one request through the retry loop: what every attempt
// sends, and the retries spent so far by kind.
type retrying struct {
	c    *Client
	req  *http.Request
	body []byte // nil without a body
	cost requestCost
	send func(*http.Request) (*http.Response, error) // the rest of the pipeline

	throttle, transient, auth int
}

// attempt is one try's outcome: an answer read in full, or err.
type attempt struct {
	n      int
	resp   *http.Response // its Body replayable from data
	data   []byte
	status int   // 0 when err is set
	err    error // the transport's, or attemptTimeoutError
}

// invalidJSON reports a JSON answer cut short or garbled on the way.
// fastjson's validator scans without allocating, several times as fast as
// encoding/json's (a sync validates every page it reads); goccy/go-json's
// decodes the whole body into interfaces to answer the same.
func (a attempt) invalidJSON() bool {
	return a.err == nil && isJSON(a.resp.Header) && len(a.data) > 0 && fastjson.ValidateBytes(a.data) != nil
}

// step is what follows an attempt: its answer when final, otherwise
// another attempt after wait.
type step struct {
	final     bool
	resp      *http.Response
	err       error
	wait      time.Duration
	throttled bool // the wait counts as throttled time
}

// drainBody reads the request body, which every attempt sends again.
func drainBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// sendOnce waits for the pacer, sends attempt n under its own timeout and
// reads the answer in full. Its error ends the request (the context ended);
// a failed attempt is reported in attempt.err.
func (r *retrying) sendOnce(ctx context.Context, n int) (attempt, error) {
	c, cost := r.c, r.cost
	ticket, err := c.pacer.wait(ctx, cost.ru)
	if err != nil {
		return attempt{}, err
	}
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	start := time.Now()
	resp, err := r.send(r.request(actx, n))
	c.stats.requests.Add(1)
	c.stats.ru.Add(int64(cost.ru))
	c.stats.batched.Add(int64(len(cost.parts)))
	var data []byte
	if err == nil {
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	r.release(ticket, resp, data, err)
	if ctx.Err() != nil {
		return attempt{}, ctx.Err()
	}
	if actx.Err() != nil {
		err = attemptTimeoutError{}
	}
	a := attempt{n: n, err: err}
	if err == nil {
		a.resp, a.data, a.status = resp, data, resp.StatusCode
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
		resp.Header.Del("Content-Length")
	}
	c.report(RequestInfo{Method: r.req.Method, Endpoint: cost.endpoint, Status: a.status, ResourceUnits: cost.ru,
		Throttled: a.status == 429 || a.status == 503, Duration: time.Since(start)})
	return a, nil
}

// request is attempt n of the request, bound to actx.
func (r *retrying) request(actx context.Context, n int) *http.Request {
	req := r.req.Clone(actx)
	if body := r.body; body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if n > 0 {
		req.Header.Set("Retry-Attempt", strconv.Itoa(n))
	}
	return req
}

// release ends the attempt's booking in the pacer. The request leaves the
// in-flight count in the same step as its RateLimit-* headers replace the
// estimate: in between, a waiting sender would see neither and overdraw the
// budget.
func (r *retrying) release(ticket uint64, resp *http.Response, data []byte, err error) {
	p, cost := r.c.pacer, r.cost
	switch {
	case err != nil || cost.ru == 0:
		p.done(ticket, cost.ru)
	case cost.endpoint == "batch":
		if get, ok := batchRateLimit(resp.StatusCode, data); ok {
			p.answered(ticket, cost.ru, get, time.Now())
		} else {
			p.done(ticket, cost.ru)
		}
	default:
		p.answered(ticket, cost.ru, resp.Header.Get, time.Now())
	}
}

// nextStep decides what follows attempt a: a transport failure or a broken
// JSON body is retried on an idempotent request, throttling after its
// Retry-After, a rejected token with a fresh one; anything else is final.
func (r *retrying) nextStep(ctx context.Context, a attempt) step {
	switch {
	case a.err != nil:
		if r.cost.idempotent && r.transient < maxTransientRetries && isTransient(a.err) {
			r.transient++
			r.c.log.Debug("graph request failed, retrying", "endpoint", r.cost.endpoint, "err", a.err, "attempt", a.n+1)
			return step{wait: backoff(r.transient)}
		}
		return step{final: true, err: a.err}
	case a.invalidJSON():
		if r.cost.idempotent && r.transient < maxTransientRetries {
			r.transient++
			r.c.log.Debug("graph answered invalid JSON, retrying", "endpoint", r.cost.endpoint, "status", a.status, "attempt", a.n+1)
			return step{wait: backoff(r.transient)}
		}
		return step{final: true, err: fmt.Errorf("Graph answered %d with an invalid JSON body (%d bytes)", a.status, len(a.data))}
	case a.status == 429 || a.status == 503 || a.status == 504:
		return r.throttled(a)
	case a.status == 401 && r.auth < maxAuthRetries && bytes.Contains(a.data, []byte("InvalidAuthenticationToken")):
		r.auth++
		if tok, err := r.c.tokens.GetAuthorizationToken(ctx, r.req.URL, nil); err == nil && tok != "" {
			r.req.Header.Set("Authorization", "Bearer "+tok)
		}
		return step{} // at once
	}
	return step{final: true, resp: a.resp}
}

// throttled is the step after a 429, 503 or 504: wait for Retry-After (or a
// backoff) and try again, up to maxThrottleRetries, then hand the answer on.
func (r *retrying) throttled(a attempt) step {
	throttled := a.status == 429 || a.status == 503
	if throttled {
		r.c.stats.throttled.Add(1)
	}
	if r.throttle >= maxThrottleRetries {
		return step{final: true, resp: a.resp}
	}
	r.throttle++
	wait, ok := parseRetryAfter(a.resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		wait = backoff(r.throttle)
	}
	if a.status == 429 {
		// Everyone is over the budget, not just this request.
		r.c.pacer.block(time.Now().Add(wait))
	}
	r.c.log.Debug("graph throttled, waiting", "endpoint", r.cost.endpoint, "status", a.status, "wait", wait)
	return step{wait: wait, throttled: throttled}
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
