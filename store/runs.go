package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/overshare/overshare/models"
)

// CreateSyncRun records the start of a sync run; ID and StartedAt are set
// when empty and Status becomes running.
func (s *Store) CreateSyncRun(ctx context.Context, run *models.SyncRun) error {
	if run.ID == "" {
		run.ID = uuid.NewString()
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = now()
	}
	run.StartedAt = utc(run.StartedAt)
	run.Status = models.SyncRunning
	if err := s.db.WithContext(ctx).Create(run).Error; err != nil {
		return fmt.Errorf("create sync run: %w", err)
	}
	return nil
}

// UpdateSyncRunProgress saves a running sync's phase and counters.
func (s *Store) UpdateSyncRunProgress(ctx context.Context, run *models.SyncRun) error {
	res := s.db.WithContext(ctx).Model(&models.SyncRun{}).Where("id = ?", run.ID).Updates(map[string]any{
		"phase": run.Phase, "drives_total": run.DrivesTotal, "drives_done": run.DrivesDone, "drives_skipped": run.DrivesSkipped,
		"items_seen": run.ItemsSeen, "shared_items": run.SharedItems, "permissions_read": run.PermissionsRead,
		"requests": run.Requests, "resource_units": run.ResourceUnits, "throttled_waits": run.ThrottledWaits,
		"eta_seconds": run.EtaSeconds, "drives_swept": run.DrivesSwept, "roots_refreshed": run.RootsRefreshed,
	})
	if res.Error != nil {
		return fmt.Errorf("update sync run %s: %w", run.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update sync run %s: %w", run.ID, ErrNotFound)
	}
	return nil
}

// FinishSyncRun saves a run's final counters, status (succeeded, failed or
// cancelled) and error message, and its finish time.
func (s *Store) FinishSyncRun(ctx context.Context, run *models.SyncRun, status models.SyncRunStatus, message string) error {
	if err := s.UpdateSyncRunProgress(ctx, run); err != nil {
		return err
	}
	t := now()
	err := s.db.WithContext(ctx).Model(&models.SyncRun{}).Where("id = ?", run.ID).Updates(map[string]any{
		"status": status, "error": message, "finished_at": t, "eta_seconds": nil,
	}).Error
	if err != nil {
		return fmt.Errorf("finish sync run %s: %w", run.ID, err)
	}
	run.Status, run.Error, run.FinishedAt, run.EtaSeconds = status, message, &t, nil
	return nil
}

// FailRunningSyncRuns marks runs left running (by a process that died) as
// failed with message, and returns how many it marked.
func (s *Store) FailRunningSyncRuns(ctx context.Context, integrationID, message string) (int64, error) {
	res := s.db.WithContext(ctx).Model(&models.SyncRun{}).
		Where("integration_id = ? AND status = ?", integrationID, models.SyncRunning).
		Updates(map[string]any{"status": models.SyncFailed, "error": message, "finished_at": now(), "eta_seconds": nil})
	if res.Error != nil {
		return 0, fmt.Errorf("fail stale sync runs: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// SyncRun returns one run.
func (s *Store) SyncRun(ctx context.Context, id string) (*models.SyncRun, error) {
	var r models.SyncRun
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, notFound(err, "sync run "+id)
	}
	return &r, nil
}

// SyncRuns lists an integration's runs, newest first, at most limit.
func (s *Store) SyncRuns(ctx context.Context, integrationID string, limit int) ([]models.SyncRun, error) {
	var out []models.SyncRun
	err := s.db.WithContext(ctx).Where("integration_id = ?", integrationID).
		Order("started_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	return out, nil
}

// RequestSyncCancel records that a running run should stop; the syncer that holds it sees it
// within its watch interval. A run that has ended is left as it is.
func (s *Store) RequestSyncCancel(ctx context.Context, runID string) error {
	err := s.db.WithContext(ctx).Model(&models.SyncRun{}).
		Where("id = ? AND status = ? AND cancel_requested_at IS NULL", runID, models.SyncRunning).
		Update("cancel_requested_at", now()).Error
	if err != nil {
		return fmt.Errorf("request cancel of sync run %s: %w", runID, err)
	}
	return nil
}

// SyncSignals is what a running sync learns from the database about whether to go on.
type SyncSignals struct {
	Paused          bool // the integration was paused
	Deleted         bool // the integration is gone
	CancelRequested bool // someone asked this run to stop
}

// SyncSignals reads, in one statement, whether the run should stop.
func (s *Store) SyncSignals(ctx context.Context, integrationID, runID string) (SyncSignals, error) {
	var row struct {
		Status    *string
		Requested *bool
	}
	err := s.db.WithContext(ctx).Raw(`SELECT (SELECT status FROM integrations WHERE id = ?) AS status,
	(SELECT cancel_requested_at IS NOT NULL FROM sync_runs WHERE id = ?) AS requested`, integrationID, runID).Scan(&row).Error
	if err != nil {
		return SyncSignals{}, fmt.Errorf("read the signals of sync run %s: %w", runID, err)
	}
	return SyncSignals{
		Deleted:         row.Status == nil,
		Paused:          row.Status != nil && models.IntegrationStatus(*row.Status) == models.IntegrationPaused,
		CancelRequested: row.Requested != nil && *row.Requested,
	}, nil
}
