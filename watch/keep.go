package watch

import (
	"context"
	"errors"
	"fmt"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// keeper is one upkeep of one integration's subscriptions.
type keeper struct {
	s      *Service
	gc     *msgraph.Client
	integ  *models.Integration
	urgent map[string]bool // renew now: reauthorizationRequired

	created, renewed, skipped int
}

func (k *keeper) run(ctx context.Context) error {
	st := k.s.cfg.Store
	drives, err := st.Drives(ctx, k.integ.ID)
	if err != nil {
		return err
	}
	subs, err := st.Subscriptions(ctx, k.integ.ID)
	if err != nil {
		return err
	}
	// Graph removes a driveItem subscription without a lifecycle event (none exists for
	// them), so the app's list is the only way to learn one was lost before its renewal.
	live, err := k.gc.SubscriptionURLs(ctx)
	if err != nil {
		return err
	}
	byDrive := make(map[string]*models.GraphSubscription, len(subs))
	for i := range subs {
		byDrive[subs[i].DriveID] = &subs[i]
	}
	var errs []error
	for _, d := range drives {
		if models.IsUnknownDriveID(d.ID) || d.Access != models.DriveReadable {
			k.skipped++
			continue
		}
		sub := byDrive[d.ID]
		delete(byDrive, d.ID)
		err := k.keepDrive(ctx, d.ID, sub, live)
		var rejected *unreachable
		switch {
		case errors.As(err, &rejected):
			// Graph could not validate our URL: every drive would fail alike.
			return st.SetWatchMode(ctx, k.integ.ID, models.WatchPolling, rejected.reason)
		case msgraph.KindOf(err).DriveInaccessible():
			k.skipped++
		case err != nil:
			errs = append(errs, err)
		}
	}
	for _, gone := range byDrive { // drives no longer synced
		if err := k.gc.DeleteSubscription(ctx, gone.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := st.DeleteSubscription(ctx, gone.ID); err != nil {
			errs = append(errs, err)
		}
	}
	k.s.log.Info("subscriptions kept", "integration", k.integ.ID, "created", k.created, "renewed", k.renewed,
		"skipped", k.skipped, "failed", len(errs))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("keep change notifications of integration %s: %w", k.integ.ID, err)
	}
	return st.SetWatchMode(ctx, k.integ.ID, models.WatchNotifications, k.reason())
}

func (k *keeper) reason() string {
	notify, _ := k.s.urls()
	msg := fmt.Sprintf("Microsoft Graph sends change notifications to %s; a notified drive syncs within seconds, and the scheduled sync runs too, as a safety net.", notify)
	if k.skipped > 0 {
		msg += fmt.Sprintf(" %d OneDrives the app cannot read are not watched.", k.skipped)
	}
	return msg
}

// unreachable is Graph's refusal to create a subscription because it could not validate
// the notification URL.
type unreachable struct{ reason string }

func (u *unreachable) Error() string { return u.reason }

// keepDrive creates, renews or re-creates one drive's subscription.
func (k *keeper) keepDrive(ctx context.Context, driveID string, sub *models.GraphSubscription, live map[string]string) error {
	now := k.s.cfg.Now()
	notify, _ := k.s.urls()
	var url string
	var known bool
	if sub != nil {
		url, known = live[sub.ID]
	}
	if known && url != notify {
		// OVERSHARE_PUBLIC_URL changed: Graph cannot move a lifecycle URL, so subscribe anew.
		if err := k.gc.DeleteSubscription(ctx, sub.ID); err != nil {
			return err
		}
		known = false
	}
	if known {
		if !k.urgent[sub.ID] && sub.ExpiresAt.Sub(now) > k.s.cfg.RenewBefore {
			return nil
		}
		got, err := k.gc.RenewSubscription(ctx, sub.ID, now.Add(k.s.cfg.Lifetime))
		if err == nil {
			k.renewed++
			return k.s.cfg.Store.RenewedSubscription(ctx, sub.ID, got.Expires)
		}
		// Lapsed or removed meanwhile (Graph answers 404; 410 is treated alike): subscribe again.
		if kind := msgraph.KindOf(err); kind != msgraph.NotFound && kind != msgraph.ResyncRequired {
			return err
		}
	}
	if sub != nil {
		k.s.log.Warn("subscription lost in Graph; subscribing again", "integration", k.integ.ID, "drive", driveID, "subscription", sub.ID)
	}
	return k.create(ctx, driveID)
}

func (k *keeper) create(ctx context.Context, driveID string) error {
	state, err := newClientState()
	if err != nil {
		return err
	}
	notify, lifecycle := k.s.urls()
	got, err := k.gc.CreateSubscription(ctx, msgraph.NewSubscription{
		DriveID: driveID, NotificationURL: notify, LifecycleURL: lifecycle, ClientState: state,
		Expires: k.s.cfg.Now().Add(k.s.cfg.Lifetime),
	})
	if msgraph.KindOf(err) == msgraph.Rejected {
		return &unreachable{reason: fmt.Sprintf("Microsoft Graph could not reach %s to validate it, so change notifications are off and changes are found by the scheduled sync. Graph said: %s", notify, err.Error())}
	}
	if err != nil {
		return err
	}
	k.created++
	return k.s.cfg.Store.SaveSubscription(ctx, models.GraphSubscription{
		ID: got.ID, IntegrationID: k.integ.ID, DriveID: driveID, ExpiresAt: got.Expires,
	}, state)
}
