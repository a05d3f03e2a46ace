package msgraph

// The HTTP pipeline's handlers besides kiota's defaults: the User-Agent, and
// the retry handler (retry.go) that prices each request (cost.go), paces it
// against the tenant's budget (pacer.go) and counts it in Stats.

import (
	"net/http"
	"sync/atomic"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
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

func (c *Client) report(ri RequestInfo) {
	if c.cfg.OnRequest != nil {
		c.cfg.OnRequest(ri)
	}
}
