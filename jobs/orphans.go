package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// A process killed during a sync leaves its River job "running". River
// rescues such jobs only after RescueAfter (a day: a live sync may run for
// hours), and until then the unique job blocks every sync of the
// integration. rescueOrphans finds them sooner: a running sync job that no
// live worker holds is made retryable at once, and the retry resumes from
// the checkpoints. "Held" is the integration's sync lock (syncHeld).
func (s *Service) rescueOrphans(ctx context.Context) (int, error) {
	res, err := s.q.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(1000))
	if err != nil {
		return 0, fmt.Errorf("find orphaned syncs: %w", err)
	}
	now := time.Now().UTC()
	// A worker takes its lock at once, so a job that started a moment ago
	// is not judged.
	horizon := now.Add(-s.cfg.OrphanAfter)
	p := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
	for _, j := range res.Jobs {
		if j.AttemptedAt == nil || j.AttemptedAt.After(horizon) {
			continue
		}
		var args SyncArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			continue
		}
		held, err := s.syncHeld(ctx, args.IntegrationID)
		if err != nil {
			return 0, err
		}
		if held {
			continue
		}
		msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0),
			Error: "the process running this sync stopped; the sync resumes from its checkpoints"})
		p.ID = append(p.ID, j.ID)
		p.Error = append(p.Error, msg)
		p.FinalizedAt = append(p.FinalizedAt, nil)
		p.ScheduledAt = append(p.ScheduledAt, now)
		p.State = append(p.State, string(rivertype.JobStateRetryable))
		s.log.Warn("sync job orphaned by a stopped process; retrying it", "job", j.ID, "integration", args.IntegrationID)
	}
	if len(p.ID) == 0 {
		return 0, nil
	}
	if _, err := s.rescue(ctx, p); err != nil {
		return 0, fmt.Errorf("retry orphaned syncs: %w", err)
	}
	return len(p.ID), nil
}

// syncHeld reports whether a live holder is syncing the integration: this
// process's own set of running syncs, or the integration's sync lock
// (store.LockSync, released when its holder dies) held elsewhere.
func (s *Service) syncHeld(ctx context.Context, integrationID string) (bool, error) {
	s.mu.Lock()
	here := s.running[integrationID]
	s.mu.Unlock()
	if here {
		return true, nil
	}
	unlock, ok, err := s.st.LockSync(ctx, integrationID)
	if err != nil {
		return false, err
	}
	if ok {
		unlock()
	}
	return !ok, nil
}
