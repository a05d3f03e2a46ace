package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// Change notifications (package watch) as jobs: a notified sync per integration that
// syncs the drives notifications marked, debounced so that a burst becomes one delta
// round per drive; an upkeep per integration that keeps its subscriptions; and a periodic
// round that queues every integration's upkeep.

// Defaults.
const (
	// DefaultNotifyDebounce is how long a notified sync waits for more notifications
	// before it starts: Graph sends a burst of changes as many notifications.
	DefaultNotifyDebounce = 500 * time.Millisecond
	// DefaultUpkeepInterval is how often every integration's subscriptions are checked:
	// renewed when they lapse within three days, re-created when Graph lost them.
	DefaultUpkeepInterval = time.Hour
)

// NotifiedSyncArgs syncs the drives change notifications marked. Unique per integration
// while queued or running; a notification that arrives while it runs marks its drive
// again, and the job runs another round instead of ending.
type NotifiedSyncArgs struct {
	IntegrationID string `json:"integration_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (NotifiedSyncArgs) Kind() string { return "overshare_notified_sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (NotifiedSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueSync, MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// UpkeepArgs keeps one integration's subscriptions. Unique by all its arguments, so a
// lifecycle event's upkeep is never folded into one already past reading; upkeeps of one
// integration take turns (store.LockWatch).
type UpkeepArgs struct {
	IntegrationID string   `json:"integration_id" river:"unique"`
	Reauthorize   []string `json:"reauthorize,omitempty" river:"unique"`
}

// Kind implements river.JobArgs.
func (UpkeepArgs) Kind() string { return "overshare_watch_upkeep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (UpkeepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueSchedule, MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// UpkeepAllArgs is the periodic round that queues every integration's upkeep.
type UpkeepAllArgs struct{}

// Kind implements river.JobArgs.
func (UpkeepAllArgs) Kind() string { return "overshare_watch_upkeep_all" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (UpkeepAllArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueSchedule, MaxAttempts: 1}
}

// NotifiedSync implements watch.Enqueuer.
func (s *Service) NotifiedSync(ctx context.Context, integrationID string) error {
	opts := NotifiedSyncArgs{}.InsertOpts()
	opts.Tags = []string{integrationTag(integrationID)}
	if _, err := s.q.Insert(ctx, NotifiedSyncArgs{IntegrationID: integrationID}, &opts); err != nil {
		return fmt.Errorf("queue notified sync of integration %s: %w", integrationID, err)
	}
	return nil
}

// Upkeep implements watch.Enqueuer; it is also what integrate, resume and pause call.
func (s *Service) Upkeep(ctx context.Context, integrationID string, reauthorize []string) error {
	if s.cfg.Watch == nil {
		return nil
	}
	if _, err := s.q.Insert(ctx, UpkeepArgs{IntegrationID: integrationID, Reauthorize: reauthorize}, nil); err != nil {
		return fmt.Errorf("queue subscription upkeep of integration %s: %w", integrationID, err)
	}
	return nil
}

// ForgetSubscriptions deletes the integration's subscriptions in Graph at once (before
// the integration itself is deleted, while its credential is still there).
func (s *Service) ForgetSubscriptions(ctx context.Context, integrationID string) error {
	if s.cfg.Watch == nil {
		return nil
	}
	return s.cfg.Watch.Remove(ctx, integrationID)
}

type notifiedSyncWorker struct {
	river.WorkerDefaults[NotifiedSyncArgs]
	s *Service
}

// maxRounds bounds the rounds one notified-sync job runs back to back while notifications
// keep coming; then it makes room for other work and comes back.
const maxRounds = 20

func (w *notifiedSyncWorker) Work(ctx context.Context, job *river.Job[NotifiedSyncArgs]) error {
	if err := w.quiet(ctx, job.Args.IntegrationID); err != nil {
		return err
	}
	for range maxRounds {
		more, err := w.round(ctx, job.Args.IntegrationID)
		if err != nil || !more {
			return err
		}
	}
	return river.JobSnooze(w.s.cfg.NotifyDebounce)
}

// quiet waits for the burst to end: until no notification has come for NotifyDebounce, or
// for at most 20 debounces. The job is available at once (a scheduled job waits for River's
// scheduler, seconds); notifications meanwhile find it running, are folded into it, and mark
// their drives, which the round reads next. A burst Graph spreads over seconds is one round.
func (w *notifiedSyncWorker) quiet(ctx context.Context, id string) error {
	debounce := w.s.cfg.NotifyDebounce
	until := time.Now().Add(20 * debounce)
	for {
		pending, err := w.s.st.PendingDrives(ctx, id)
		if err != nil {
			return err
		}
		last := latest(pending)
		if last.IsZero() || time.Since(last) >= debounce || !time.Now().Before(until) {
			return nil
		}
		wait := min(debounce-time.Since(last), time.Until(until))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func latest(ts map[string]time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// round syncs the drives waiting now and says whether more are waiting after it.
func (w *notifiedSyncWorker) round(ctx context.Context, id string) (bool, error) {
	s := w.s
	pending, err := s.st.PendingDrives(ctx, id)
	if err != nil || len(pending) == 0 {
		return false, err
	}
	drives := make([]string, 0, len(pending))
	for d, at := range pending {
		// Cleared before the round reads: a change after this point is notified anew.
		if err := s.st.ClearPending(ctx, id, d, at); err != nil {
			return false, err
		}
		drives = append(drives, d)
	}
	_, runErr := s.cfg.Syncer.RunWith(ctx, id, syncer.Options{Drives: drives, Trigger: models.TriggerNotification})
	if runErr != nil && !errors.Is(runErr, syncer.ErrPaused) {
		// Not synced: the drives wait again, for this job's retry or the next notification.
		for d, at := range pending {
			if err := s.st.MarkPendingAgain(ctx, id, d, at); err != nil {
				return false, err
			}
		}
	}
	switch {
	case errors.Is(runErr, syncer.ErrPaused):
		return false, nil
	case errors.Is(runErr, syncer.ErrBusy):
		// Another sync of the integration runs (it may well read these changes too).
		return false, river.JobSnooze(5 * time.Second)
	case runErr != nil:
		return false, runErr
	}
	more, err := s.st.PendingDrives(ctx, id)
	return len(more) > 0, err
}

type upkeepWorker struct {
	river.WorkerDefaults[UpkeepArgs]
	s *Service
}

func (w *upkeepWorker) Work(ctx context.Context, job *river.Job[UpkeepArgs]) error {
	unlock, ok, err := w.s.st.LockWatch(ctx, job.Args.IntegrationID)
	if err != nil {
		return err
	}
	if !ok {
		return river.JobSnooze(2 * time.Second)
	}
	defer unlock()
	err = w.s.cfg.Watch.Keep(ctx, job.Args.IntegrationID, job.Args.Reauthorize...)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	return err
}

type upkeepAllWorker struct {
	river.WorkerDefaults[UpkeepAllArgs]
	s *Service
}

func (w *upkeepAllWorker) Work(ctx context.Context, _ *river.Job[UpkeepAllArgs]) error {
	all, err := w.s.st.Integrations(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range all {
		errs = append(errs, w.s.Upkeep(ctx, in.ID, nil))
	}
	return errors.Join(errs...)
}
