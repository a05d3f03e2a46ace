package msgraph

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Change-notification subscriptions on drive roots (package watch keeps them). Graph
// validates the notification and lifecycle URLs while it creates or re-points a
// subscription, so these calls wait for Overshare's own receiver to answer.

var opSubscribe = op{what: "subscribe to drive changes", permission: "Files.ReadWrite.All", drive: true}

// MaxSubscriptionLifetime is the longest a driveItem subscription may live (42,300 minutes).
const MaxSubscriptionLifetime = 42300 * time.Minute

// NewSubscription is what CreateSubscription asks Graph for.
type NewSubscription struct {
	DriveID         string
	NotificationURL string
	LifecycleURL    string
	ClientState     string
	Expires         time.Time
}

// Subscription is Graph's answer: the id and the expiry it granted.
type Subscription struct {
	ID      string
	Expires time.Time
}

// CreateSubscription subscribes to changes under a drive's root (change type "updated",
// the only one drive roots support).
func (c *Client) CreateSubscription(ctx context.Context, in NewSubscription) (Subscription, error) {
	body := models.NewSubscription()
	changeType, resource := "updated", "drives/"+in.DriveID+"/root"
	body.SetChangeType(&changeType)
	body.SetResource(&resource)
	body.SetNotificationUrl(&in.NotificationURL)
	if in.LifecycleURL != "" {
		body.SetLifecycleNotificationUrl(&in.LifecycleURL)
	}
	body.SetClientState(&in.ClientState)
	exp := in.Expires.UTC()
	body.SetExpirationDateTime(&exp)
	tls := "v1_2"
	body.SetLatestSupportedTlsVersion(&tls)
	got, err := c.sdk.Subscriptions().Post(ctx, body, nil)
	if err != nil {
		return Subscription{}, c.classify(opSubscribe, err)
	}
	return subscriptionOf(got, exp), nil
}

// RenewSubscription moves a subscription's expiry; a renewal also reauthorizes it. A
// subscription Graph no longer knows answers an Error of Kind NotFound.
func (c *Client) RenewSubscription(ctx context.Context, id string, expires time.Time) (Subscription, error) {
	body := models.NewSubscription()
	exp := expires.UTC()
	body.SetExpirationDateTime(&exp)
	got, err := c.sdk.Subscriptions().BySubscriptionId(id).Patch(ctx, body, nil)
	if err != nil {
		return Subscription{}, c.classify(opSubscribe, err)
	}
	return subscriptionOf(got, exp), nil
}

// ReauthorizeSubscription answers a reauthorizationRequired lifecycle notification.
func (c *Client) ReauthorizeSubscription(ctx context.Context, id string) error {
	return c.classify(opSubscribe, c.sdk.Subscriptions().BySubscriptionId(id).Reauthorize().Post(ctx, nil))
}

// DeleteSubscription removes a subscription; one Graph no longer knows is not an error.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	err := c.classify(opSubscribe, c.sdk.Subscriptions().BySubscriptionId(id).Delete(ctx, nil))
	if KindOf(err) == NotFound {
		return nil
	}
	return err
}

func subscriptionOf(s models.Subscriptionable, asked time.Time) Subscription {
	out := Subscription{Expires: asked}
	if s == nil {
		return out
	}
	if s.GetId() != nil {
		out.ID = *s.GetId()
	}
	if e := s.GetExpirationDateTime(); e != nil {
		out.Expires = e.UTC()
	}
	return out
}

// SubscriptionURLs lists the app's live subscriptions (all pages): id → notificationUrl.
func (c *Client) SubscriptionURLs(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	resp, err := c.sdk.Subscriptions().Get(ctx, nil)
	for {
		if err != nil {
			return nil, c.classify(opListSubscriptions, err)
		}
		for _, s := range resp.GetValue() {
			if s.GetId() != nil {
				out[*s.GetId()] = deref(s.GetNotificationUrl())
			}
		}
		next := resp.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		resp, err = c.sdk.Subscriptions().WithUrl(*next).Get(ctx, nil)
	}
}

var opListSubscriptions = op{what: "list the app's change-notification subscriptions", permission: "Files.ReadWrite.All"}
