package msgraph

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	json "github.com/goccy/go-json"
)

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
