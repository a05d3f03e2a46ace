package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// The sharing history is kept for DefaultHistoryRetention unless Config.HistoryRetention says
// otherwise; a periodic job prunes what is older, every historyPruneInterval.
const (
	DefaultHistoryRetention = 400 * 24 * time.Hour
	historyPruneInterval    = time.Hour
)

// HistoryPruneArgs is the periodic job that deletes sharing history older than the retention.
type HistoryPruneArgs struct{}

// Kind implements river.JobArgs.
func (HistoryPruneArgs) Kind() string { return "overshare_history_prune" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (HistoryPruneArgs) InsertOpts() river.InsertOpts {
	// A missed round is made up by the next one: no retries.
	return river.InsertOpts{Queue: queueSchedule, MaxAttempts: 1}
}

type historyPruneWorker struct {
	river.WorkerDefaults[HistoryPruneArgs]
	s *Service
}

func (w *historyPruneWorker) Work(ctx context.Context, _ *river.Job[HistoryPruneArgs]) error {
	_, err := w.s.PruneHistory(ctx, time.Now())
	return err
}

// addHistoryPruning registers the pruning worker and its periodic job (hourly, and at start).
func (s *Service) addHistoryPruning(workers *river.Workers, rc *river.Config) error {
	if err := river.AddWorkerSafely(workers, &historyPruneWorker{s: s}); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(historyPruneInterval),
		func() (river.JobArgs, *river.InsertOpts) { return HistoryPruneArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}

// PruneHistory deletes the sharing history observed longer than the retention before at and
// returns how many events went.
func (s *Service) PruneHistory(ctx context.Context, at time.Time) (int64, error) {
	keep := s.cfg.HistoryRetention
	if keep <= 0 {
		keep = DefaultHistoryRetention
	}
	n, err := s.st.PruneSharingHistory(ctx, at.Add(-keep))
	if err != nil {
		return n, err
	}
	if n > 0 {
		s.log.Info("sharing history pruned", "events", n, "retention", keep)
	}
	return n, nil
}
