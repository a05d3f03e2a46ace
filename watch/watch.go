// Package watch keeps Microsoft Graph change notifications flowing to Overshare: one
// subscription per drive root, created on integrate and resume, renewed well before it
// lapses, re-created when Graph lost it, removed on pause and delete; and the receiver at
// /webhooks/graph that turns a notification into a sync of that drive (Receiver).
//
// Graph's notifications for drives say only "something under this root changed", can be
// late, dropped after four hours of failed deliveries, and for driveItem subscriptions no
// lifecycle event reports a removed subscription or missed notifications
// (docs/graph-behaviour.md, "Change notifications"). So notifications make Overshare fast,
// never complete: the scheduled sync goes on as the safety net, and an integration says in
// words whether it is watched or only polled, and why.
package watch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// Paths of the receiver, under the public URL.
const (
	NotificationPath = "/webhooks/graph"
	LifecyclePath    = "/webhooks/graph/lifecycle"
)

// Defaults.
const (
	// DefaultLifetime is the expiry asked for: Graph's most for driveItem subscriptions
	// (42,300 minutes) less an hour, so clock skew never makes Graph refuse it.
	DefaultLifetime = msgraph.MaxSubscriptionLifetime - time.Hour
	// DefaultRenewBefore renews a subscription this long before it lapses: three days
	// leave room for an outage of the server or of Graph without losing the subscription.
	DefaultRenewBefore = 3 * 24 * time.Hour
)

// Config wires a Service.
type Config struct {
	Store *store.Store
	// PublicURL is the server's external https base URL; empty (or not https) leaves every
	// integration polled.
	PublicURL string
	// GraphDefaults carries the endpoints (authority, Graph URL, CA file).
	GraphDefaults msgraph.Config
	Version       string
	Logger        *slog.Logger
	Lifetime      time.Duration // default DefaultLifetime
	RenewBefore   time.Duration // default DefaultRenewBefore
	Now           func() time.Time
}

// Service keeps subscriptions. It is safe for concurrent use; the jobs package runs one
// upkeep per integration at a time.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.RenewBefore <= 0 {
		cfg.RenewBefore = DefaultRenewBefore
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger}
}

// pollReason says why notifications are not used, or "" when they can be.
func (s *Service) pollReason() string {
	if s.cfg.PublicURL == "" {
		return "OVERSHARE_PUBLIC_URL is not set, so Microsoft Graph has no address to send change notifications to; changes are found by the scheduled sync."
	}
	u, err := url.Parse(s.cfg.PublicURL)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" {
		return "OVERSHARE_PUBLIC_URL is not an https URL, and Microsoft Graph sends change notifications only over https; changes are found by the scheduled sync."
	}
	return ""
}

func (s *Service) urls() (notify, lifecycle string) {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	return base + NotificationPath, base + LifecyclePath
}

// client signs in to Graph as the integration.
func (s *Service) client(ctx context.Context, integ *models.Integration) (*msgraph.Client, error) {
	cred, err := s.cfg.Store.IntegrationCredential(ctx, integ.ID)
	if err != nil {
		return nil, err
	}
	gcfg := s.cfg.GraphDefaults
	gcfg.TenantID, gcfg.ClientID = integ.TenantID, integ.ClientID
	gcfg.ClientSecret, gcfg.Certificate = cred.Secret, cred.Certificate
	gcfg.Version = s.cfg.Version
	gcfg.Logger = s.log.With("integration", integ.ID)
	return msgraph.New(ctx, gcfg)
}

// Keep brings the integration's subscriptions to what it should have: one live
// subscription per readable drive while it is not paused and Graph can reach the public
// URL, none otherwise. reauthorize names subscriptions a reauthorizationRequired lifecycle
// event asked about: they are renewed now. It records the integration's watch mode.
func (s *Service) Keep(ctx context.Context, integrationID string, reauthorize ...string) error {
	integ, err := s.cfg.Store.Integration(ctx, integrationID)
	if err != nil {
		return err
	}
	if integ.Status == models.IntegrationPaused {
		return s.removeAll(ctx, integ, models.WatchPolling, "Paused: no sync and no change notifications until the integration is resumed.")
	}
	if reason := s.pollReason(); reason != "" {
		return s.removeAll(ctx, integ, models.WatchPolling, reason)
	}
	gc, err := s.client(ctx, integ)
	if err != nil {
		return err
	}
	k := &keeper{s: s, gc: gc, integ: integ, urgent: map[string]bool{}}
	for _, id := range reauthorize {
		k.urgent[id] = true
	}
	return k.run(ctx)
}

// Remove deletes the integration's subscriptions in Graph and forgets them (before the
// integration is deleted). A subscription Graph cannot delete now lapses by itself and its
// notifications are ignored as unknown.
func (s *Service) Remove(ctx context.Context, integrationID string) error {
	integ, err := s.cfg.Store.Integration(ctx, integrationID)
	if err != nil {
		return err
	}
	return s.removeAll(ctx, integ, models.WatchPolling, "No change notifications.")
}

func (s *Service) removeAll(ctx context.Context, integ *models.Integration, mode models.WatchMode, reason string) error {
	subs, err := s.cfg.Store.Subscriptions(ctx, integ.ID)
	if err != nil {
		return err
	}
	if len(subs) > 0 {
		gc, err := s.client(ctx, integ)
		if err != nil {
			return err
		}
		var errs []error
		for _, sub := range subs {
			if err := gc.DeleteSubscription(ctx, sub.ID); err != nil {
				errs = append(errs, fmt.Errorf("delete subscription of drive %s: %w", sub.DriveID, err))
				continue
			}
			if err := s.cfg.Store.DeleteSubscription(ctx, sub.ID); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return s.cfg.Store.SetWatchMode(ctx, integ.ID, mode, reason)
}

// newClientState is 32 random bytes: what Graph echoes to prove a notification is its.
func newClientState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("clientState: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
