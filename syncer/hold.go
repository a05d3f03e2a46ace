package syncer

import (
	"context"
	"errors"
	"time"
)

// ErrBusy is the answer to a sync of an integration that another sync holds, in this process
// or another (a server's job, a second server, `overshare sync`): one integration is synced by
// one holder at a time (store.LockSync), and the second is refused rather than run beside it.
var ErrBusy = errors.New("a sync of this integration is already running (in this or another process); wait for it to end or cancel it")

// ErrPaused is the answer to a sync of a paused integration; Options.EvenIfPaused overrides it.
var ErrPaused = errors.New("the integration is paused; resume it to sync")

// Why a running sync stopped on its own watch (see watch); finish words the run's end by them.
var (
	errStopPaused    = errors.New("The sync stopped because the integration was paused; it resumes from its checkpoints.")
	errStopRequested = errors.New("The sync was cancelled.")
	errStopDeleted   = errors.New("The sync stopped because the integration was deleted.")
)

// DefaultWatchInterval is Config.WatchInterval's default.
const DefaultWatchInterval = 2 * time.Second

// Options are one run's choices.
type Options struct {
	// Full enumerates every drive again instead of reading changes.
	Full bool
	// EvenIfPaused syncs a paused integration (an administrator's explicit request); the
	// integration stays paused, and pausing it again does not stop this run.
	EvenIfPaused bool
	// Drives, when set, syncs only these drives' changes (a change notification named
	// them): no directory, no tenant facts, and the integration's schedule is left alone,
	// so the scheduled sync still comes as the safety net.
	Drives []string
	// Trigger is recorded on the run (models.TriggerNotification).
	Trigger string
}

// watch returns ctx cancelled, with the reason as its cause, when the database says the run
// must stop: the integration was paused (unless the run was asked for even if paused) or
// deleted, or someone asked for this run's cancel (store.RequestSyncCancel). The database is
// the one place every process can see, so a pause from any server or the CLI stops a sync
// wherever it runs. stop ends the watch.
func (r *run) watch(ctx context.Context, evenIfPaused bool) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		tick := time.NewTicker(r.s.cfg.WatchInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			sig, err := r.st.SyncSignals(ctx, r.integ.ID, r.row.ID)
			switch {
			case err != nil:
				r.log.Warn("read whether the sync should stop", "error", err)
			case sig.Deleted:
				cancel(errStopDeleted)
			case sig.CancelRequested:
				cancel(errStopRequested)
			case sig.Paused && !evenIfPaused:
				cancel(errStopPaused)
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

// stopReason is why a run that ended with runErr was stopped: the watch's cause, or, for a
// run cancelled from outside (a River job cancel, sent at once by a pause or a delete), what the
// database says now; nil for a run that was not stopped or stopped for another reason.
func (r *run) stopReason(ctx context.Context, runErr error, evenIfPaused bool) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errStopPaused), errors.Is(cause, errStopRequested), errors.Is(cause, errStopDeleted):
		return cause
	}
	if !errors.Is(runErr, context.Canceled) {
		return nil
	}
	sig, err := r.st.SyncSignals(context.WithoutCancel(ctx), r.integ.ID, r.row.ID)
	switch {
	case err != nil:
		return nil
	case sig.Deleted:
		return errStopDeleted
	case sig.Paused && !evenIfPaused:
		return errStopPaused
	}
	return nil
}
