package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// Phases reported in progress.
const (
	PhaseUsers  = "users"
	PhaseDrives = "drives"
	PhaseItems  = "items"
	PhaseDone   = "done"
)

// DefaultConcurrency is how many drives sync at once.
const DefaultConcurrency = 4

// persistEvery bounds how often progress is written to the sync_runs row.
const persistEvery = 2 * time.Second

// Config wires a Syncer.
type Config struct {
	Store       *store.Store
	Bus         events.Bus // optional
	Concurrency int        // drives in parallel; default DefaultConcurrency
	Version     string     // for Graph's User-Agent
	Logger      *slog.Logger
	// GraphDefaults carries the endpoints (authority, Graph URL, CA file)
	// and the delta page size; the tenant and credentials come from the
	// integration; cmd fills them from the environment (internal/config).
	GraphDefaults msgraph.Config
	// RootRefreshInterval is how often every stored permission-hierarchy
	// root of a drive is re-read by the incremental syncs (default
	// DefaultRootRefreshInterval; negative turns it off). See doc.go,
	// "Scheduled refreshes".
	RootRefreshInterval time.Duration
	// SweepInterval is how often every drive is enumerated in full and
	// swept by the incremental syncs (default DefaultSweepInterval;
	// negative turns it off).
	SweepInterval time.Duration
	// Now is the clock the refreshes are scheduled by (default time.Now);
	// tests move it to make refreshes due.
	Now func() time.Time
	// DriveRecheckInterval is how long a user without a OneDrive waits
	// before an incremental sync looks for one again (a OneDrive appears
	// when it is provisioned, on first use or by an administrator); one RU
	// per user, in $batch. Default DefaultDriveRecheckInterval.
	DriveRecheckInterval time.Duration
	// Observer, when set, hears of every run that ends (package metrics counts them).
	Observer Observer
	// WatchInterval is how often a running sync reads whether it was paused or cancelled
	// from elsewhere (default DefaultWatchInterval).
	WatchInterval time.Duration
}

// Observer hears of every finished run: its final row and how long it took.
type Observer interface {
	SyncFinished(run models.SyncRun, took time.Duration)
}

// Defaults of the scheduled refreshes; doc.go gives the figures behind them.
const (
	DefaultRootRefreshInterval = 24 * time.Hour
	DefaultSweepInterval       = 7 * 24 * time.Hour
)

// DefaultDriveRecheckInterval is Config.DriveRecheckInterval's default.
const DefaultDriveRecheckInterval = 24 * time.Hour

// Syncer runs syncs. It is safe for concurrent use; one integration runs
// one sync at a time, in every process (RunWith takes its lock).
type Syncer struct {
	cfg Config
	log *slog.Logger
}

// New returns a Syncer.
func New(cfg Config) *Syncer {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RootRefreshInterval == 0 {
		cfg.RootRefreshInterval = DefaultRootRefreshInterval
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DriveRecheckInterval <= 0 {
		cfg.DriveRecheckInterval = DefaultDriveRecheckInterval
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	return &Syncer{cfg: cfg, log: cfg.Logger}
}

// Run syncs one integration to completion: a full sync when full is true,
// else an incremental one (drives never synced are enumerated in full
// anyway). It returns the sync run's id, also when the run failed.
func (s *Syncer) Run(ctx context.Context, integrationID string, full bool) (string, error) {
	return s.RunWith(ctx, integrationID, Options{Full: full})
}

// RunWith is Run with all the options. A sync of an integration that another sync holds
// answers ErrBusy, of a paused one ErrPaused, both without a run. A running sync stops,
// cancelled with its checkpoints kept, when the integration is paused or deleted or its run's
// cancel is asked for, from any process.
func (s *Syncer) RunWith(ctx context.Context, integrationID string, opts Options) (string, error) {
	st := s.cfg.Store
	unlock, ok, err := st.LockSync(ctx, integrationID)
	if err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if !ok {
		return "", ErrBusy
	}
	defer unlock()
	integ, err := st.Integration(ctx, integrationID)
	if err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if integ.Status == models.IntegrationPaused && !opts.EvenIfPaused {
		return "", ErrPaused
	}
	// Holding the lock, a run left "running" is one whose process died.
	if _, err := st.FailRunningSyncRuns(ctx, integrationID, "The sync process stopped before the run finished."); err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	full := opts.Full && len(opts.Drives) == 0
	r := &run{
		s: s, st: st, integ: integ, full: full, started: time.Now(), only: opts.Drives,
		row: &models.SyncRun{IntegrationID: integrationID, Full: full, Phase: PhaseUsers, Trigger: opts.Trigger},
		log: s.log.With("integration", integrationID),
	}
	if err := st.CreateSyncRun(ctx, r.row); err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	r.log = r.log.With("run", r.row.ID)
	if err := st.SetIntegrationSyncStatus(ctx, integrationID, models.IntegrationSyncing, integ.LastError); err != nil {
		return r.row.ID, fmt.Errorf("sync: %w", err)
	}
	r.log.Info("sync started", "full", full, "drives", len(opts.Drives), "trigger", opts.Trigger)
	wctx, stop := r.watch(ctx, opts.EvenIfPaused)
	err = r.execute(wctx)
	if err != nil && wctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		// A request the cancel cut short can fail in its own words (a Graph or database
		// error); the run was cancelled all the same, and says so.
		err = fmt.Errorf("%w (%v)", wctx.Err(), err)
	}
	r.stopped = r.stopReason(wctx, err, opts.EvenIfPaused)
	stop()
	return r.row.ID, r.finish(err)
}

// run is the state of one Run.
type run struct {
	s       *Syncer
	st      *store.Store
	integ   *models.Integration
	full    bool
	only    []string // the drives of a notified sync; empty: all
	started time.Time
	log     *slog.Logger
	gc      *msgraph.Client
	// stopped is why the run's watch stopped it (paused, deleted, cancel asked), nil otherwise.
	stopped error
	// unknownDrives counts OneDrives known only by their owner (their
	// lookup answered locked or closed): skipped without a request.
	unknownDrives int

	// Time spent waiting for Graph and for the database, summed over the
	// drives syncing at once (diagnostics, logged at the end).
	graphNanos, dbNanos atomic.Int64

	mu          sync.Mutex
	row         *models.SyncRun
	lastPersist time.Time
	itemsStart  time.Time
	itemsBase   int64 // items seen when the items phase began
}

func (r *run) execute(ctx context.Context) error {
	cred, err := r.st.IntegrationCredential(ctx, r.integ.ID)
	if err != nil {
		return err
	}
	gcfg := r.s.cfg.GraphDefaults
	gcfg.TenantID, gcfg.ClientID = r.integ.TenantID, r.integ.ClientID
	gcfg.ClientSecret, gcfg.Certificate = cred.Secret, cred.Certificate
	gcfg.Version = r.s.cfg.Version
	gcfg.Logger = r.log
	r.gc, err = msgraph.New(ctx, gcfg)
	if err != nil {
		return err
	}
	// The token says which permissions the app holds: Graph does not refuse
	// delta without Sites.FullControl.All, it reports less.
	if err := r.gc.CheckPermissions(ctx); err != nil {
		return err
	}
	if len(r.only) > 0 {
		return r.notifiedDrives(ctx)
	}
	facts, err := r.tenantFacts(ctx)
	if err != nil {
		return err
	}
	driveIDs, pre, err := r.directory(ctx)
	if err != nil {
		return err
	}
	if err := r.saveTenantFacts(ctx, facts); err != nil {
		return err
	}
	return r.items(ctx, driveIDs, pre)
}

// notifiedDrives syncs the changes of the drives a notification named, judged by the
// tenant facts the last full directory pass stored. A drive not stored yet (a OneDrive
// provisioned since) is left to the scheduled sync, which lists users first.
func (r *run) notifiedDrives(ctx context.Context) error {
	facts, err := r.st.TenantFacts(ctx, []string{r.integ.ID})
	if err != nil {
		return err
	}
	ApplyTenantDomains(r.gc, facts[r.integ.ID])
	stored, err := r.st.Drives(ctx, r.integ.ID)
	if err != nil {
		return err
	}
	want := make(map[string]bool, len(r.only))
	for _, id := range r.only {
		want[id] = true
	}
	refs := make([]driveRef, 0, len(r.only))
	for _, d := range stored {
		if want[d.ID] && !models.IsUnknownDriveID(d.ID) {
			refs = append(refs, driveRef{id: d.ID, owner: d.OwnerUserID, marked: d.Access != models.DriveReadable})
		}
	}
	return r.items(ctx, refs, nil)
}

// finish records the outcome on the run and the integration.
func (r *run) finish(runErr error) error {
	// The run's own context may be cancelled; the bookkeeping must still land.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
	defer cancel()
	status, msg := models.SyncSucceeded, ""
	integStatus := models.IntegrationActive
	switch {
	case runErr == nil:
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		status, msg = models.SyncCancelled, "The sync was cancelled."
		if r.stopped != nil {
			msg = r.stopped.Error()
		}
	default:
		status, msg = models.SyncFailed, Message(runErr)
		integStatus = models.IntegrationError
	}
	r.mu.Lock()
	r.fillStats()
	if runErr == nil {
		r.row.Phase = PhaseDone
	}
	row := *r.row
	r.mu.Unlock()
	var errs []error
	if err := r.st.FinishSyncRun(ctx, &row, status, msg); err != nil {
		errs = append(errs, err)
	}
	lastErr := msg
	if status == models.SyncCancelled {
		lastErr = r.integ.LastError
	}
	if err := r.st.SetIntegrationSyncStatus(ctx, r.integ.ID, integStatus, lastErr); err != nil {
		errs = append(errs, err)
	}
	if runErr == nil && len(r.only) == 0 {
		at := time.Now().UTC()
		next := at.Add(r.integ.SyncInterval())
		if err := r.st.SetIntegrationSyncTimes(ctx, r.integ.ID, &at, &next); err != nil {
			errs = append(errs, err)
		}
	}
	if o := r.s.cfg.Observer; o != nil {
		row.Status = status
		o.SyncFinished(row, time.Since(r.started))
	}
	r.publish(ctx, true, msg)
	r.log.Info("sync finished", "status", status, "items", row.ItemsSeen, "requests", row.Requests,
		"resource_units", row.ResourceUnits, "took", time.Since(r.started).Round(time.Millisecond),
		"graph_wait", time.Duration(r.graphNanos.Load()).Round(time.Millisecond),
		"db_wait", time.Duration(r.dbNanos.Load()).Round(time.Millisecond), "error", msg)
	if runErr != nil {
		return runErr
	}
	return errors.Join(errs...)
}

// Message is an error as an administrator should read it: the classified
// Graph message when there is one.
func Message(err error) string {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return err.Error()
}
