package syncer

import (
	"context"
	"time"

	"github.com/overshare/overshare/events"
)

// counts are what one page (or phase step) adds to the run's progress.
type counts struct {
	drivesDone, drivesSkipped, items, shared, permissions int64
	drivesSwept, rootsRefreshed                           int64
}

// add records progress, publishes it and persists it at most every
// persistEvery.
func (r *run) add(ctx context.Context, c counts) {
	r.mu.Lock()
	r.row.DrivesDone += c.drivesDone
	r.row.DrivesSkipped += c.drivesSkipped
	r.row.ItemsSeen += c.items
	r.row.SharedItems += c.shared
	r.row.PermissionsRead += c.permissions
	r.row.DrivesSwept += c.drivesSwept
	r.row.RootsRefreshed += c.rootsRefreshed
	r.mu.Unlock()
	r.progressed(ctx)
}

// setPhase moves the run to a phase.
func (r *run) setPhase(ctx context.Context, phase string, drivesTotal int64) {
	r.mu.Lock()
	r.row.Phase = phase
	if drivesTotal >= 0 {
		r.row.DrivesTotal = drivesTotal
	}
	if phase == PhaseItems {
		r.itemsStart = time.Now()
		r.itemsBase = r.row.ItemsSeen
	}
	r.lastPersist = time.Time{} // a phase change is always saved
	r.mu.Unlock()
	r.progressed(ctx)
}

func (r *run) progressed(ctx context.Context) {
	r.mu.Lock()
	r.fillStats()
	persist := time.Since(r.lastPersist) >= persistEvery
	if persist {
		r.lastPersist = time.Now()
	}
	row := *r.row
	r.mu.Unlock()
	if persist {
		if err := r.st.UpdateSyncRunProgress(ctx, &row); err != nil && ctx.Err() == nil {
			r.log.Warn("save sync progress", "err", err)
		}
	}
	r.publish(ctx, false, "")
}

// fillStats copies the Graph client's counters and the ETA; r.mu is held.
func (r *run) fillStats() {
	if r.gc != nil {
		gs := r.gc.Stats()
		r.row.Requests = gs.Requests
		r.row.ResourceUnits = gs.ResourceUnits
		r.row.ThrottledWaits = gs.Throttled
	}
	r.row.EtaSeconds = r.eta()
}

// eta estimates the seconds left from the drives' rate in the items phase,
// falling back to the items' rate of the drives under way when no drive
// has finished yet. nil when nothing can be said yet.
func (r *run) eta() *int64 {
	if r.row.Phase != PhaseItems || r.itemsStart.IsZero() {
		return nil
	}
	elapsed := time.Since(r.itemsStart).Seconds()
	done, total := r.row.DrivesDone, r.row.DrivesTotal
	if done <= 0 || total <= 0 || elapsed <= 0 {
		return nil
	}
	left := int64(elapsed / float64(done) * float64(total-done))
	if left < 0 {
		left = 0
	}
	return &left
}

func (r *run) publish(ctx context.Context, done bool, msg string) {
	bus := r.s.cfg.Bus
	if bus == nil {
		return
	}
	r.mu.Lock()
	row := *r.row
	r.mu.Unlock()
	p := events.Progress{
		RunID:           row.ID,
		IntegrationID:   row.IntegrationID,
		Phase:           row.Phase,
		DrivesDone:      int(row.DrivesDone),
		DrivesTotal:     int(row.DrivesTotal),
		DrivesSkipped:   int(row.DrivesSkipped),
		ItemsSeen:       int(row.ItemsSeen),
		SharedItems:     int(row.SharedItems),
		PermissionsRead: int(row.PermissionsRead),
		Requests:        int(row.Requests),
		ResourceUnits:   int(row.ResourceUnits),
		ThrottledWaits:  int(row.ThrottledWaits),
		Done:            done,
		Error:           msg,
		At:              time.Now().UTC(),
	}
	if row.EtaSeconds != nil && !done {
		e := int(*row.EtaSeconds)
		p.ETASeconds = &e
	}
	if err := bus.Publish(context.WithoutCancel(ctx), p); err != nil {
		r.log.Debug("publish progress", "err", err)
	}
}
