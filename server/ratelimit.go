package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"golang.org/x/time/rate"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph"
)

// Rate limits on /graphql (issue 19): one per client address, taken before the token is
// checked, so that a flood of anonymous or forged requests is refused for the price of a
// map lookup; and one per principal, taken after, weighted by what the request asks for.
// Both answer 429 with Retry-After. A zero rate turns a limit off.

// RateLimit is a token bucket: Rate requests a second on average, Burst at once.
type RateLimit struct {
	Rate  float64
	Burst int
}

// expensiveFields cost more than a page: each counts expensiveWeight more. overview and
// totalCount count rows (seconds on a large tenant), stopSharingBulk previews a selection.
var expensiveFields = map[string]bool{"overview": true, "totalCount": true, "stopSharingBulk": true}

const expensiveWeight = 4

// maxKeys bounds the limiters kept; beyond it the idle ones are dropped first.
const maxKeys = 10000

type keyedLimiter struct {
	cfg RateLimit
	mu  sync.Mutex
	m   map[string]*keyed
}

type keyed struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyedLimiter(cfg RateLimit) *keyedLimiter {
	if cfg.Rate <= 0 {
		return nil
	}
	if cfg.Burst <= 0 {
		cfg.Burst = int(math.Ceil(cfg.Rate))
	}
	return &keyedLimiter{cfg: cfg, m: map[string]*keyed{}}
}

// take spends n tokens of key's bucket, or says how long to wait for them (nothing spent).
func (k *keyedLimiter) take(key string, n int, now time.Time) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	n = min(n, k.cfg.Burst)
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[key]
	if e == nil {
		if len(k.m) >= maxKeys {
			k.prune(now)
		}
		e = &keyed{lim: rate.NewLimiter(rate.Limit(k.cfg.Rate), k.cfg.Burst)}
		k.m[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, n)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// prune drops the limiters idle long enough to be full again (forgetting them loses nothing),
// and all of them when none is: a flood of new addresses then costs its senders a fresh burst
// each, never the server its memory.
func (k *keyedLimiter) prune(now time.Time) {
	full := time.Duration(float64(k.cfg.Burst)/k.cfg.Rate*float64(time.Second)) + time.Second
	for key, e := range k.m {
		if now.Sub(e.seen) > full {
			delete(k.m, key)
		}
	}
	if len(k.m) >= maxKeys {
		clear(k.m)
	}
}

// requestWeight is 1 plus expensiveWeight for each expensive field the query names: counted
// on the lexer's name tokens, so neither aliases nor fragments hide one (a name in a comment
// or string is not a token; one as an argument name counts, which costs only its sender).
func requestWeight(body []byte) int {
	var req struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(body, &req) != nil {
		return 1
	}
	lx := lexer.New(&ast.Source{Input: req.Query})
	w := 1
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return w
		}
		if tok.Kind == lexer.Name && expensiveFields[tok.Value] {
			w += expensiveWeight
		}
	}
}

// clientAddr is the address rate limits key on: the connection's, or, from a trusted proxy,
// the nearest address in X-Forwarded-For that is not one of the trusted proxies.
func (s *Server) clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if !s.fromTrustedProxy(r) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a.Unmap()) {
			return a.Unmap().String()
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allowAddress takes one request of the client address's bucket, or answers 429.
func (s *Server) allowAddress(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.perAddress.take(s.clientAddr(r), 1, time.Now())
	if !ok {
		s.tarpit(r, wait)
		tooMany(w, wait, "too many requests from this address")
	}
	return ok
}

// maxTarpit bounds how long a refused request is held, and tarpitSlots how many are held at
// once (beyond, 429 at once): a held request costs a goroutine and a few KB, an answered one
// invites the next at once from a client that ignores Retry-After.
const (
	maxTarpit   = 2 * time.Second
	tarpitSlots = 1024
)

// tarpit holds a refused request until its bucket would have had room (at most maxTarpit):
// a client that ignores Retry-After then sends at the rate the limit allows, not as fast as
// 429s can be written, which on a small machine took the CPU from everyone else.
func (s *Server) tarpit(r *http.Request, wait time.Duration) {
	select {
	case s.tarpits <- struct{}{}:
	default:
		return
	}
	defer func() { <-s.tarpits }()
	t := time.NewTimer(min(wait, maxTarpit))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// allowPrincipal takes the request's weight from its principal's bucket, or answers 429.
func (s *Server) allowPrincipal(w http.ResponseWriter, r *http.Request, body []byte) bool {
	p, err := auth.PrincipalFrom(r.Context())
	if err != nil || s.perPrincipal == nil {
		return true
	}
	ok, wait := s.perPrincipal.take(p.Subject, requestWeight(body), time.Now())
	if !ok {
		s.tarpit(r, wait)
		tooMany(w, wait, "too many requests for this user or client; overview and totalCount count "+
			strconv.Itoa(1+expensiveWeight)+" each")
	}
	return ok
}

func tooMany(w http.ResponseWriter, wait time.Duration, what string) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeGraphQLError(w, http.StatusTooManyRequests, graph.CodeRateLimited,
		fmt.Sprintf("%s: try again in %d s", what, secs))
}
