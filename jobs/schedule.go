package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// ScheduleArgs is the periodic job that queues the syncs that are due.
type ScheduleArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return "overshare_sync_schedule" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	// A missed round is made up by the next one: no retries.
	return river.InsertOpts{Queue: queueSchedule, MaxAttempts: 1}
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	s *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	if _, err := w.s.rescueOrphans(ctx); err != nil {
		w.s.log.Warn("periodic sync", "error", err)
	}
	_, err := w.s.EnqueueDue(ctx, time.Now())
	return err
}

// EnqueueDue queues an incremental sync for every integration whose next
// sync time has come at `at` (or was never set): ACTIVE and ERROR ones, not
// PAUSED. An ERROR integration is due one interval after its failed sync
// (the worker postpones it), so a broken one is retried at the sync interval.
// It returns the ids of the integrations that got a new job; one that has a
// sync queued or running already is left alone.
func (s *Service) EnqueueDue(ctx context.Context, at time.Time) ([]string, error) {
	due, err := s.st.IntegrationsDueForSync(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("periodic sync: %w", err)
	}
	var queued []string
	for _, in := range due {
		res, err := s.enqueue(ctx, in.ID, false)
		if err != nil {
			return queued, fmt.Errorf("periodic sync: %w", err)
		}
		if !res.UniqueSkippedAsDuplicate {
			queued = append(queued, in.ID)
			s.log.Info("periodic sync queued", "integration", in.ID)
		}
	}
	return queued, nil
}
