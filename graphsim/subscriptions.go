package graphsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// maxSubscriptionMinutes is OneDrive's driveItem subscription lifetime.
const maxSubscriptionMinutes = 42300

// notifyDelay coalesces a burst of changes to one drive into one notification.
const notifyDelay = 200 * time.Millisecond

// Delivery retries: Graph retries a notification that was not acknowledged with a 2xx
// with exponential backoff for up to four hours and then drops it, and for driveItem
// subscriptions it sends no "missed" lifecycle event (only Outlook and Teams resources
// get one). The simulator keeps the shape with a shorter window (DeliveryRetryWindow).
const (
	deliveryFirstWait = 500 * time.Millisecond
	// DefaultDeliveryRetryWindow is how long the simulator retries one notification.
	DefaultDeliveryRetryWindow = 30 * time.Second
)

type subscription struct {
	ID              string
	Resource        string
	DriveID         string
	ChangeType      string
	ClientState     string
	NotificationURL string
	LifecycleURL    string
	LatestTLS       string
	Expiration      time.Time
	pending         bool
	// reauthorize is set by a reauthorizationRequired lifecycle event: until the app
	// reauthorizes or renews, changes are not delivered (and are lost).
	reauthorize bool
}

type subscriptions struct {
	s           *Server
	client      *http.Client
	retryWindow time.Duration

	mu     sync.Mutex
	byID   map[string]*subscription
	gone   map[string]bool // removed with "gone": their ids answer 410, not 404
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

func newSubscriptions(s *Server, extra *x509.CertPool, retryWindow time.Duration) *subscriptions {
	ctx, cancel := context.WithCancel(context.Background())
	if retryWindow <= 0 {
		retryWindow = DefaultDeliveryRetryWindow
	}
	return &subscriptions{
		s:           s,
		retryWindow: retryWindow,
		client:      notificationClient(extra),
		byID:        map[string]*subscription{},
		gone:        map[string]bool{},
		ctx:         ctx,
		cancel:      cancel,
	}
}

// notificationClient trusts the system roots and, besides, the pool tests
// give (the receiver's self-signed certificate).
func notificationClient(extra *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if extra != nil {
		tr.TLSClientConfig.InsecureSkipVerify = true // verification done below, against two pools
		tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no server certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			var firstErr error
			for _, roots := range []*x509.CertPool{nil, extra} { // nil = system roots
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter, Roots: roots})
				if err == nil {
					return nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
			return firstErr
		}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (ss *subscriptions) close() {
	ss.mu.Lock()
	ss.closed = true
	ss.mu.Unlock()
	ss.cancel()
	ss.wg.Wait()
}

// driveChanged is the tenant's change hook: it must not block.
func (ss *subscriptions) driveChanged(driveID string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	now := time.Now()
	for _, sub := range ss.byID {
		if sub.DriveID != driveID || sub.pending || now.After(sub.Expiration) || ss.gone[sub.ID] {
			continue
		}
		if sub.reauthorize {
			ss.s.stats.notificationDropped()
			continue
		}
		sub.pending = true
		ss.wg.Add(1)
		id := sub.ID
		time.AfterFunc(notifyDelay, func() {
			defer ss.wg.Done()
			ss.notify(id)
		})
	}
}

type notificationJSON struct {
	SubscriptionID                 string `json:"subscriptionId"`
	ClientState                    string `json:"clientState,omitempty"`
	ChangeType                     string `json:"changeType"`
	Resource                       string `json:"resource"`
	SubscriptionExpirationDateTime string `json:"subscriptionExpirationDateTime"`
	TenantID                       string `json:"tenantId"`
}

func (ss *subscriptions) notify(id string) {
	ss.mu.Lock()
	sub, ok := ss.byID[id]
	if !ok || ss.closed {
		ss.mu.Unlock()
		return
	}
	sub.pending = false
	n := notificationJSON{
		SubscriptionID:                 sub.ID,
		ClientState:                    sub.ClientState,
		ChangeType:                     "updated",
		Resource:                       sub.Resource,
		SubscriptionExpirationDateTime: sub.Expiration.Format("2006-01-02T15:04:05.0000000Z07:00"),
		TenantID:                       ss.s.tenantID,
	}
	target := sub.NotificationURL
	ss.mu.Unlock()

	body, _ := json.Marshal(map[string]any{"value": []notificationJSON{n}})
	ss.deliver(id, target, body)
}

// deliver posts one notification collection, retrying with exponential backoff within the
// retry window; then the notification is dropped and counted, as Graph drops it.
func (ss *subscriptions) deliver(id, target string, body []byte) {
	deadline := time.Now().Add(ss.retryWindow)
	for wait := deliveryFirstWait; ; wait *= 2 {
		req, err := http.NewRequestWithContext(ss.ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := ss.client.Do(req)
		if err == nil {
			drainClose(resp.Body)
			if resp.StatusCode/100 == 2 {
				ss.s.stats.notificationDelivered()
				return
			}
		}
		ss.s.log.Warn("change notification not accepted", "subscription", id, "err", err)
		if time.Now().Add(wait).After(deadline) {
			ss.s.stats.notificationDropped()
			ss.s.log.Warn("change notification dropped after retries", "subscription", id)
			return
		}
		select {
		case <-ss.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// lifecycle sends a lifecycle notification (reauthorizationRequired, subscriptionRemoved or
// missed) to the subscription's lifecycleNotificationUrl; subscriptionRemoved also removes
// it. A subscription created without that URL hears nothing, as with Graph.
func (ss *subscriptions) lifecycle(id, event string) bool {
	ss.mu.Lock()
	sub, ok := ss.byID[id]
	if !ok {
		ss.mu.Unlock()
		return false
	}
	switch event {
	case "reauthorizationRequired":
		sub.reauthorize = true
	case "subscriptionRemoved":
		delete(ss.byID, id)
	}
	n := map[string]any{
		"subscriptionId": sub.ID, "subscriptionExpirationDateTime": sub.Expiration.Format("2006-01-02T15:04:05.0000000Z07:00"),
		"tenantId": ss.s.tenantID, "clientState": sub.ClientState, "lifecycleEvent": event,
	}
	target := sub.LifecycleURL
	ss.mu.Unlock()
	if target == "" {
		return true
	}
	body, _ := json.Marshal(map[string]any{"value": []any{n}})
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		ss.deliver(id, target, body)
	}()
	return true
}

var errNoSubscription = errors.New("no such subscription")

// SubscriptionEvent makes Graph's lifecycle happen to a subscription: "reauthorizationRequired",
// "subscriptionRemoved" or "missed" send that lifecycle notification (the first also holds
// deliveries back until the app reauthorizes or renews; the second removes the
// subscription), and "drop" removes it without a word, as Graph may for driveItem
// subscriptions.
func (s *Server) SubscriptionEvent(id, event string) error {
	var ok bool
	switch event {
	case "reauthorizationRequired", "subscriptionRemoved", "missed":
		ok = s.subs.lifecycle(id, event)
	case "drop":
		ok = s.subs.drop(id)
	case "gone":
		s.subs.mu.Lock()
		_, ok = s.subs.byID[id]
		if ok {
			s.subs.gone[id] = true
		}
		s.subs.mu.Unlock()
	default:
		return errors.New("event must be reauthorizationRequired, subscriptionRemoved, missed, drop or gone")
	}
	if !ok {
		return errNoSubscription
	}
	return nil
}

// drop removes a subscription without a word, as Graph may for driveItem subscriptions
// (no subscriptionRemoved event exists for them): only a renewal's 404 tells the app.
func (ss *subscriptions) drop(id string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.byID[id]
	delete(ss.byID, id)
	return ok
}

// live returns the subscription unless it is unknown or expired; Graph deletes an expired
// subscription, so renewing it after its expiry answers 404 like an unknown one.
func (ss *subscriptions) live(id string) (*subscription, bool) {
	if ss.gone[id] {
		return nil, false
	}
	sub, ok := ss.byID[id]
	if ok && time.Now().After(sub.Expiration) {
		delete(ss.byID, id)
		return nil, false
	}
	return sub, ok
}
