package graphsim

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// bucket is the tenant's resource-unit budget: a token bucket holding at most
// one minute of units and refilling continuously, which is how SharePoint's
// per-minute limit behaves for a steady client.
type bucket struct {
	mu     sync.Mutex
	limit  float64 // RU per minute; 0 = unlimited
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(ruPerMinute int, now func() time.Time) *bucket {
	return &bucket{limit: float64(ruPerMinute), tokens: float64(ruPerMinute), last: now(), now: now}
}

// charge is the outcome of charging one request.
type charge struct {
	ok         bool
	retryAfter float64           // seconds, when !ok
	headers    map[string]string // RateLimit-* from 80% use
}

// charge takes cost units. Throttled requests are charged too (SharePoint
// counts them), and their Retry-After is the time until the budget again
// holds cost units after that charge, so a client that waits exactly that long
// gets through.
func (b *bucket) charge(cost int) charge {
	if b.limit <= 0 || cost <= 0 {
		return charge{ok: true}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	rate := b.limit / 60 // units per second
	b.tokens = math.Min(b.limit, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	c := float64(cost)
	res := charge{ok: b.tokens >= c}
	b.tokens -= c
	if b.tokens < -b.limit {
		b.tokens = -b.limit // a storm of retries cannot lock the app out for ever
	}
	if !res.ok {
		res.retryAfter = math.Ceil((c-b.tokens)/rate*10) / 10
	}
	if used := b.limit - b.tokens; used >= 0.8*b.limit {
		res.headers = map[string]string{
			"RateLimit-Limit":     strconv.Itoa(int(b.limit)),
			"RateLimit-Remaining": strconv.Itoa(int(math.Max(0, math.Floor(b.tokens)))),
			"RateLimit-Reset":     strconv.Itoa(int(math.Ceil(used / rate))),
		}
	}
	return res
}

func formatSeconds(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
