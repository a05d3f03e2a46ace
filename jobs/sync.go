package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

type (
	pgxTx = pgx.Tx
	sqlTx = *sql.Tx
)

// SyncArgs is the sync job. Only IntegrationID takes part in uniqueness, so
// an integration has at most one sync job that is queued, waiting for a
// retry or running, whatever its other arguments.
type SyncArgs struct {
	IntegrationID string `json:"integration_id" river:"unique"`
	Full          bool   `json:"full"`
	// RunID is the sync run this job carries on, when the run was created
	// before the job started; empty while the syncer creates its own run.
	RunID string `json:"run_id,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "overshare_sync" }

// activeStates are the states of a job that is queued or running.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       queueSync,
		MaxAttempts: MaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: activeStates},
	}
}

// integrationTag marks a sync job with its integration so that jobs of one
// integration can be listed on both databases without driver-specific SQL.
func integrationTag(id string) string { return "integration-" + id }

// Error is an error for people, with the GraphQL error code it maps to.
type Error struct {
	Code string // BAD_USER_INPUT, NOT_FOUND, ...
	Msg  string
}

func (e *Error) Error() string     { return e.Msg }
func (e *Error) ErrorCode() string { return e.Code }

// enqueue inserts a sync job unless the integration has one already; the
// result's Job is the new or the existing job.
func (s *Service) enqueue(ctx context.Context, integrationID string, full bool) (*rivertype.JobInsertResult, error) {
	opts := SyncArgs{}.InsertOpts()
	opts.Tags = []string{integrationTag(integrationID)}
	res, err := s.q.Insert(ctx, SyncArgs{IntegrationID: integrationID, Full: full}, &opts)
	if err != nil {
		return nil, fmt.Errorf("queue sync of integration %s: %w", integrationID, err)
	}
	return res, nil
}

// StartSync queues a sync of the integration and returns the id of its run
// once the run has begun (its sync_runs row exists, status running). When
// the integration already has a sync queued or running, it returns that
// sync's run instead of starting another; a sync waiting for a retry is
// started at once.
func (s *Service) StartSync(ctx context.Context, integrationID string, full bool) (string, error) {
	integ, err := s.st.Integration(ctx, integrationID)
	if err != nil {
		return "", err
	}
	if integ.Status == models.IntegrationPaused {
		return "", &Error{Code: "BAD_USER_INPUT", Msg: "The integration is paused; resume it to sync."}
	}
	// A sync outside River (`overshare sync`) holds the integration: its run
	// is the answer, as a queued or running job's would be.
	runs, err := s.st.RunningSyncRuns(ctx, []string{integrationID})
	if err != nil {
		return "", err
	}
	if run := runs[integrationID]; run != nil {
		held, err := s.syncHeld(ctx, integrationID)
		if err != nil {
			return "", err
		}
		if held {
			return run.ID, nil
		}
	}
	return s.startAndWait(ctx, integrationID, full)
}

// startAndWait queues the sync unless one is queued or running, and waits
// until the run of the job that answers the request exists. The syncer
// creates the run when the job starts, so this waits at most for a free
// worker (bounded by StartTimeout).
func (s *Service) startAndWait(ctx context.Context, integrationID string, full bool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	// A run newer than the newest one before the call was started by the
	// job that answers this call (ours, or the one queued before us); run
	// ids, unlike clocks, are the same in every process.
	baseline, err := s.newestRun(ctx, integrationID)
	if err != nil {
		return "", err
	}
	own := false // this call's job was inserted
	for {
		dup := false
		if !own {
			res, err := s.enqueue(ctx, integrationID, full)
			if err != nil {
				return "", err
			}
			own, dup = !res.UniqueSkippedAsDuplicate, res.UniqueSkippedAsDuplicate
			if dup && (res.Job.State == rivertype.JobStateRetryable || res.Job.State == rivertype.JobStateScheduled) {
				// Asked for by a person: do not make them wait for the backoff.
				if _, err := s.q.JobRetry(ctx, res.Job.ID); err != nil {
					return "", fmt.Errorf("start sync of integration %s now: %w", integrationID, err)
				}
			}
		}
		run, err := s.newestRun(ctx, integrationID)
		if err != nil {
			return "", err
		}
		switch {
		case run != nil && (baseline == nil || run.ID != baseline.ID):
			// Usually running; a run that already ended (a sync that failed
			// at once) is still the answer.
			return run.ID, nil
		case dup && run != nil && run.Status == models.SyncRunning:
			// The sync that is already going.
			return run.ID, nil
		}
		// Either our job has not started yet, or the job we collided with
		// has ended its run and is finishing: the next insert starts anew.
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", &Error{Code: "BAD_USER_INPUT", Msg: "The sync is queued and will start when a worker is free."}
			}
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// newestRun returns the integration's latest run, nil when it has none.
func (s *Service) newestRun(ctx context.Context, integrationID string) (*models.SyncRun, error) {
	runs, err := s.st.SyncRuns(ctx, integrationID, 1)
	if err != nil {
		return nil, fmt.Errorf("start sync of integration %s: %w", integrationID, err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return &runs[0], nil
}

// CancelSync cancels a sync run: its River job is cancelled wherever it
// runs, the syncer's context ends, and the run ends as cancelled with its
// checkpoints kept. Cancelling a run that has ended is not an error.
func (s *Service) CancelSync(ctx context.Context, runID string) error {
	run, err := s.st.SyncRun(ctx, runID)
	if err != nil {
		return err
	}
	if run.Done() {
		return nil
	}
	res, err := s.q.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind(), NotifiedSyncArgs{}.Kind()).
		TagsAll(integrationTag(run.IntegrationID)).States(activeStates...).First(10))
	if err != nil {
		return fmt.Errorf("cancel sync run %s: list jobs: %w", runID, err)
	}
	if len(res.Jobs) == 0 {
		return s.cancelWithoutJob(ctx, run)
	}
	for _, j := range res.Jobs {
		if _, err := s.q.JobCancel(ctx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("cancel sync run %s: %w", runID, err)
		}
	}
	s.log.Info("sync cancel requested", "run", runID, "integration", run.IntegrationID)
	return nil
}

// cancelWithoutJob cancels a run no River job carries: one in `overshare
// sync`, which stops when its watch reads the request, or one whose process
// died (nobody holds the integration's sync lock), whose end is recorded here.
func (s *Service) cancelWithoutJob(ctx context.Context, run *models.SyncRun) error {
	if err := s.st.RequestSyncCancel(ctx, run.ID); err != nil {
		return err
	}
	unlock, free, err := s.st.LockSync(ctx, run.IntegrationID)
	if err != nil {
		return fmt.Errorf("cancel sync run %s: %w", run.ID, err)
	}
	if !free {
		s.log.Info("sync cancel requested of another process", "run", run.ID, "integration", run.IntegrationID)
		return nil
	}
	defer unlock()
	if err := s.st.FinishSyncRun(ctx, run, models.SyncCancelled, "The sync was cancelled."); err != nil {
		return fmt.Errorf("cancel sync run %s: %w", run.ID, err)
	}
	return nil
}

// Syncs adapts the Service to the GraphQL layer's Syncer interface
// (Start/Cancel), whose Start would clash with Service.Start.
func (s *Service) Syncs() *Syncs { return &Syncs{s: s} }

// Syncs starts and cancels syncs for the GraphQL layer.
type Syncs struct{ s *Service }

// Start implements graph.Syncer.
func (a *Syncs) Start(ctx context.Context, integrationID string, full bool) (string, error) {
	return a.s.StartSync(ctx, integrationID, full)
}

// Cancel implements graph.Syncer.
func (a *Syncs) Cancel(ctx context.Context, runID string) error {
	return a.s.CancelSync(ctx, runID)
}

// Watch implements graph.Syncer.
func (a *Syncs) Watch(ctx context.Context, integrationID string) error {
	return a.s.Upkeep(ctx, integrationID, nil)
}

// Unwatch implements graph.Syncer.
func (a *Syncs) Unwatch(ctx context.Context, integrationID string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.s.ForgetSubscriptions(ctx, integrationID); err != nil {
		a.s.log.Warn("delete the integration's subscriptions in Graph; they lapse by themselves",
			"integration", integrationID, "error", err)
	}
}

// syncWorker runs one sync job.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// Timeout: none; a sync ends when done or cancelled.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return -1 }

func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	s, id := w.s, job.Args.IntegrationID
	log := s.log.With("integration", id, "job", job.ID, "attempt", job.Attempt)
	s.mu.Lock()
	s.running[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()

	integ, err := s.st.Integration(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("integration %s was deleted", id))
	}
	if err != nil {
		return err
	}
	runID, runErr := s.cfg.Syncer.Run(ctx, id, job.Args.Full)
	switch {
	case runErr == nil:
		// New drives get their subscriptions; the upkeep is cheap when nothing changed.
		if err := s.Upkeep(ctx, id, nil); err != nil {
			log.Warn("queue subscription upkeep", "error", err)
		}
		return nil
	case errors.Is(runErr, syncer.ErrPaused):
		log.Info("integration paused; sync skipped")
		return nil
	case errors.Is(runErr, syncer.ErrBusy):
		// A sync of this integration runs elsewhere: `overshare sync`, or a
		// job River rescued while its first process lives on. Come back later.
		log.Warn("integration is being synced by another process; snoozing")
		return river.JobSnooze(time.Minute)
	}
	log = log.With("run", runID)
	// Not synced: the next periodic attempt waits one interval, so a
	// cancelled sync is not restarted at once and a failing one is not
	// hammered. River's own retries of transient failures come sooner.
	s.postpone(integ)
	switch {
	case ctx.Err() != nil:
		// Cancelled by CancelSync (River then records the job cancelled) or
		// by Stop (River retries the job after a restart).
		return runErr
	case errors.Is(runErr, context.Canceled):
		// The sync stopped itself: the integration was paused or deleted, or
		// a cancel was asked of its run. Nothing to retry.
		log.Info("sync stopped", "reason", runErr)
		return nil
	case permanent(runErr):
		log.Warn("sync failed; not retrying until the credentials or permissions change", "error", syncerMessage(runErr))
		return river.JobCancel(runErr)
	default:
		log.Warn("sync failed; River will retry", "error", syncerMessage(runErr))
		return runErr
	}
}

// postpone sets the integration's next sync one interval from now.
func (s *Service) postpone(integ *models.Integration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := time.Now().UTC().Add(integ.SyncInterval())
	if err := s.st.SetIntegrationSyncTimes(ctx, integ.ID, integ.LastSyncAt, &next); err != nil {
		s.log.Warn("record next sync time", "integration", integ.ID, "error", err)
	}
}

// permanent reports whether retrying cannot help until an administrator
// acts: wrong or expired secret or certificate, unknown app or tenant, missing permission.
func permanent(err error) bool {
	k := msgraph.KindOf(err)
	return k.Credential() || k == msgraph.MissingPermission
}

func syncerMessage(err error) string {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return err.Error()
}
