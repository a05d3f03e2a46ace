package models

import "time"

// DriveSyncState is the delta position of one drive.
type DriveSyncState struct {
	IntegrationID string `gorm:"column:integration_id;primaryKey"`
	DriveID       string `gorm:"column:drive_id;primaryKey"`
	// DeltaLink is the deltaLink of the last finished round; nil until one finished.
	DeltaLink *string `gorm:"column:delta_link"`
	// NextLink is the resume point of an unfinished round; nil otherwise.
	NextLink *string `gorm:"column:next_link"`
	// RoundFull is true while the current round is a full enumeration, which
	// must end with a sweep (store.SyncPage.Sweep, which clears it).
	RoundFull bool `gorm:"column:round_full"`
	// Generation is bumped by store.StartFullRound.
	Generation   int64      `gorm:"column:generation"`
	ItemsSeen    int64      `gorm:"column:items_seen"`
	LastSyncedAt *time.Time `gorm:"column:last_synced_at"`
	LastError    string     `gorm:"column:last_error"`
	// SweptAt is when a full enumeration of the drive last ended in mark and
	// sweep; RootsRefreshedAt when its permission-hierarchy roots were last
	// all read (a sweep reads them too). The syncer schedules both.
	SweptAt          *time.Time `gorm:"column:swept_at"`
	RootsRefreshedAt *time.Time `gorm:"column:roots_refreshed_at"`
}

func (DriveSyncState) TableName() string { return "drive_sync_states" }

// SyncRunStatus is the state of one sync run.
type SyncRunStatus string

const (
	SyncRunning   SyncRunStatus = "running"
	SyncSucceeded SyncRunStatus = "succeeded"
	SyncFailed    SyncRunStatus = "failed"
	SyncCancelled SyncRunStatus = "cancelled"
)

// SyncRun is one full or incremental sync of an integration, with the
// progress counters the sync engine reports.
type SyncRun struct {
	ID            string        `gorm:"column:id;primaryKey"`
	IntegrationID string        `gorm:"column:integration_id"`
	Full          bool          `gorm:"column:full"`
	Status        SyncRunStatus `gorm:"column:status"`
	Phase         string        `gorm:"column:phase"`
	StartedAt     time.Time     `gorm:"column:started_at"`
	FinishedAt    *time.Time    `gorm:"column:finished_at"`
	DrivesTotal   int64         `gorm:"column:drives_total"`
	DrivesDone    int64         `gorm:"column:drives_done"`
	// DrivesSkipped counts drives this run could not read (locked, closed to
	// the app); they are in DrivesDone too and are tried again next run.
	DrivesSkipped   int64  `gorm:"column:drives_skipped"`
	ItemsSeen       int64  `gorm:"column:items_seen"`
	SharedItems     int64  `gorm:"column:shared_items"`
	PermissionsRead int64  `gorm:"column:permissions_read"`
	Requests        int64  `gorm:"column:requests"`
	ResourceUnits   int64  `gorm:"column:resource_units"`
	ThrottledWaits  int64  `gorm:"column:throttled_waits"`
	EtaSeconds      *int64 `gorm:"column:eta_seconds"`
	Error           string `gorm:"column:error"`
	// DrivesSwept counts drives whose full enumeration ended in mark and
	// sweep in this run; RootsRefreshed the permission-hierarchy roots whose
	// permissions the scheduled refresh re-read.
	DrivesSwept    int64 `gorm:"column:drives_swept"`
	RootsRefreshed int64 `gorm:"column:roots_refreshed"`
	// Trigger is TriggerNotification for a run of the drives change notifications named,
	// empty for a scheduled or requested sync of the whole integration.
	Trigger string `gorm:"column:trigger_kind"`
	// CancelRequestedAt is when someone asked the run to stop; the process that runs it
	// watches for it (a run in `overshare sync` has no River job to cancel).
	CancelRequestedAt *time.Time `gorm:"column:cancel_requested_at"`
}

func (SyncRun) TableName() string { return "sync_runs" }

// Done reports whether the run has ended.
func (r *SyncRun) Done() bool { return r.Status != SyncRunning }

// TriggerNotification marks the runs change notifications started.
const TriggerNotification = "notification"
