package watch

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/overshare/overshare/store"
)

// Enqueuer queues the work a notification asks for (package jobs implements it): the
// receiver answers Graph at once and never syncs in the request.
type Enqueuer interface {
	// NotifiedSync queues a sync of the integration's notified drives; a burst of
	// notifications becomes one delta round per drive.
	NotifiedSync(ctx context.Context, integrationID string) error
	// Upkeep queues an upkeep of the integration's subscriptions; reauthorize names those a
	// reauthorizationRequired lifecycle event asked about.
	Upkeep(ctx context.Context, integrationID string, reauthorize []string) error
}

// Observer counts what the receiver did with each notification (package metrics).
type Observer interface {
	Notification(result string)
}

// Results the receiver counts.
const (
	ResultAccepted       = "accepted"
	ResultLifecycle      = "lifecycle"
	ResultUnknown        = "unknown_subscription"
	ResultBadClientState = "bad_client_state"
	ResultRateLimited    = "rate_limited"
	ResultMalformed      = "malformed"
	ResultValidation     = "validation"
)

// Receiver defaults.
const (
	// DefaultMaxBody bounds a notification body. Graph sends at most a few hundred
	// notifications in one collection, well under a megabyte.
	DefaultMaxBody = 1 << 20
	// DefaultRate and DefaultBurst bound the notifications one integration may have
	// accepted per second: a drive root's notification carries nothing but "changed", so
	// more than this is either a storm Graph will retry or someone else's traffic.
	DefaultRate  = 50
	DefaultBurst = 500
	// maxValidationToken bounds the echoed token; Graph's are about 100 characters.
	maxValidationToken = 1024
)

// ReceiverConfig wires a Receiver.
type ReceiverConfig struct {
	Store    *store.Store
	Enqueue  Enqueuer
	Observer Observer // optional
	Logger   *slog.Logger
	MaxBody  int64
	Rate     rate.Limit // per integration; default DefaultRate
	Burst    int        // default DefaultBurst
}

// Receiver serves NotificationPath and LifecyclePath.
type Receiver struct {
	cfg ReceiverConfig
	log *slog.Logger

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// NewReceiver returns the webhook handler.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	return &Receiver{cfg: cfg, log: cfg.Logger, limiters: map[string]*rate.Limiter{}}
}

// notification is one entry of Graph's changeNotificationCollection; lifecycle
// notifications carry lifecycleEvent instead of changeType.
type notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	LifecycleEvent string `json:"lifecycleEvent"`
}

func (rc *Receiver) count(result string) {
	if rc.cfg.Observer != nil {
		rc.cfg.Observer.Notification(result)
	}
}

// ServeHTTP answers the validation handshake and accepts notification collections.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Query().Has("validationToken") {
		rc.validate(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		rc.count(ResultMalformed)
		http.Error(w, "notification body too large", http.StatusRequestEntityTooLarge)
		return
	}
	var coll struct {
		Value []notification `json:"value"`
	}
	if err != nil || json.Unmarshal(body, &coll) != nil || len(coll.Value) == 0 {
		rc.count(ResultMalformed)
		http.Error(w, "expected a changeNotificationCollection: {\"value\": [...]}", http.StatusBadRequest)
		return
	}
	status := rc.accept(r.Context(), coll.Value, r.URL.Path == LifecyclePath)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
}

// validate is Graph's handshake: echo the decoded token as text/plain, 200, at once.
func (rc *Receiver) validate(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("validationToken")
	if tok == "" || len(tok) > maxValidationToken {
		http.Error(w, "bad validationToken", http.StatusBadRequest)
		return
	}
	rc.count(ResultValidation)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, tok)
}

// accept checks each notification and queues its work. Unknown subscriptions and wrong
// clientStates are counted and ignored (answered 202 like the rest: a sender learns
// nothing). It answers 429 when an integration is over its rate, so Graph retries the
// collection later; the ones accepted meanwhile are idempotent.
func (rc *Receiver) accept(ctx context.Context, ns []notification, lifecycle bool) int {
	syncs := map[string]bool{}
	upkeep := map[string][]string{}
	limited := false
	marked := map[string]bool{} // one write per subscription and collection
	for _, n := range ns {
		if marked[n.SubscriptionID] && n.LifecycleEvent == "" && !lifecycle {
			rc.count(ResultAccepted)
			continue
		}
		sub, err := rc.cfg.Store.Subscription(ctx, n.SubscriptionID)
		if errors.Is(err, store.ErrNotFound) || n.SubscriptionID == "" {
			rc.count(ResultUnknown)
			continue
		}
		if err != nil {
			rc.log.Error("webhook: read subscription", "error", err)
			return http.StatusServiceUnavailable
		}
		state, err := rc.cfg.Store.SubscriptionClientState(sub)
		if err != nil {
			rc.log.Error("webhook: clientState", "subscription", sub.ID, "error", err)
			return http.StatusServiceUnavailable
		}
		// Hashes first: equal lengths, so the comparison's time says nothing of the length.
		want, got := sha256.Sum256([]byte(state)), sha256.Sum256([]byte(n.ClientState))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			rc.count(ResultBadClientState)
			rc.log.Warn("webhook: notification with a wrong clientState ignored", "subscription", sub.ID)
			continue
		}
		if !rc.limiter(sub.IntegrationID).Allow() {
			rc.count(ResultRateLimited)
			limited = true
			continue
		}
		switch {
		case !lifecycle && n.LifecycleEvent == "":
			if err := rc.cfg.Store.MarkNotified(ctx, sub.ID, time.Now()); err != nil {
				rc.log.Error("webhook: record notification", "error", err)
				return http.StatusServiceUnavailable
			}
			rc.count(ResultAccepted)
			marked[sub.ID] = true
			syncs[sub.IntegrationID] = true
		case n.LifecycleEvent == "reauthorizationRequired" || n.LifecycleEvent == "subscriptionRemoved":
			// Renewed now, or (gone from Graph's list) subscribed again.
			rc.count(ResultLifecycle)
			upkeep[sub.IntegrationID] = append(upkeep[sub.IntegrationID], sub.ID)
		case n.LifecycleEvent == "missed":
			// Changes were lost: the drive's delta round finds them.
			rc.count(ResultLifecycle)
			if err := rc.cfg.Store.MarkNotified(ctx, sub.ID, time.Now()); err != nil {
				return http.StatusServiceUnavailable
			}
			syncs[sub.IntegrationID] = true
		default:
			rc.count(ResultMalformed)
		}
	}
	for id := range syncs {
		if err := rc.cfg.Enqueue.NotifiedSync(ctx, id); err != nil {
			rc.log.Error("webhook: queue sync", "integration", id, "error", err)
			return http.StatusServiceUnavailable
		}
	}
	for id, reauth := range upkeep {
		if err := rc.cfg.Enqueue.Upkeep(ctx, id, reauth); err != nil {
			rc.log.Error("webhook: queue upkeep", "integration", id, "error", err)
			return http.StatusServiceUnavailable
		}
	}
	if limited {
		return http.StatusTooManyRequests
	}
	return http.StatusAccepted
}

func (rc *Receiver) limiter(integrationID string) *rate.Limiter {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	l := rc.limiters[integrationID]
	if l == nil {
		l = rate.NewLimiter(rc.cfg.Rate, rc.cfg.Burst)
		rc.limiters[integrationID] = l
	}
	return l
}
