// Package jobs runs syncs durably with River: one sync at a time per
// integration (queued or running), a periodic incremental sync of the
// integrations that are due, and cancellation of a running sync from any
// process that shares the database.
//
// On PostgreSQL River runs on the store's pgx pool (riverpgxv5), so several
// `overshare serve` processes split the work; on the embedded SQLite database
// it runs on the store's one *sql.DB (riversqlite). River's tables live in the
// same schema as Overshare's; Migrate creates them.
//
// Retries: a sync that fails on something transient (network, throttling,
// an unknown Graph error) is retried by River with its backoff, at most
// MaxAttempts times. A sync that fails because the credentials or the app's
// permissions are wrong is not retried (the syncer has put the integration in
// ERROR with the reason): the periodic job tries it again one sync interval
// later, so a wrong secret costs one sign-in per interval, not a stream.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
	"github.com/overshare/overshare/watch"
)

// Defaults.
const (
	DefaultPeriodicInterval = time.Minute
	DefaultWorkers          = 4
	// MaxAttempts bounds River's retries of a sync that fails transiently.
	MaxAttempts = 5
	// DefaultRescueAfter is how long a sync job may stay "running" before
	// River assumes its process died and runs it again. Syncs have no
	// timeout and may take hours on a big tenant within its Graph budget,
	// so this is long; the integration's sync lock (store.LockSync) also
	// guards against a rescued job running beside the original.
	DefaultRescueAfter = 24 * time.Hour
)

// Queue names.
const (
	queueSync     = "sync"
	queueSchedule = river.QueueDefault
)

// Config wires a Service.
type Config struct {
	Store  *store.Store
	Syncer *syncer.Syncer
	Bus    events.Bus // optional
	Logger *slog.Logger
	// PeriodicInterval is how often due integrations are looked for
	// (default DefaultPeriodicInterval). Each integration's own interval
	// (sync_interval_seconds) decides when it is due.
	PeriodicInterval time.Duration
	// Workers is how many syncs run at once in this process (default
	// DefaultWorkers).
	Workers int
	// RescueAfter overrides DefaultRescueAfter.
	RescueAfter time.Duration
	// StartTimeout bounds how long StartSync waits for a queued sync to
	// begin (default one minute).
	StartTimeout time.Duration
	// OrphanAfter is how long a sync job must have been running, with no
	// live worker holding it, before it is retried (default 5 s). It only
	// covers the moment between River marking a job running and its worker
	// taking the integration's lock, milliseconds; misjudging is safe (the
	// retry finds the lock held and comes back later), while a long one
	// left a killed process's sync showing RUNNING for a minute or more
	// after a restart: the periodic round that runs at start-up skipped it.
	OrphanAfter time.Duration
	// Watch, when set, keeps change-notification subscriptions (upkeep jobs) and the
	// notified syncs run; nil: no subscriptions, polling only.
	Watch *watch.Service
	// NotifyDebounce (default DefaultNotifyDebounce) and UpkeepInterval (default
	// DefaultUpkeepInterval): see jobs/watch.go.
	NotifyDebounce, UpkeepInterval time.Duration
	// HistoryRetention is how long sharing history is kept (default DefaultHistoryRetention).
	HistoryRetention time.Duration
}

// queue is the part of *river.Client[TTx] that does not depend on the
// driver's transaction type, so one Service serves both databases.
type queue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	JobRetry(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	ID() string
}

// Service runs syncs as River jobs. It implements graph.Syncer (Start,
// Cancel) as well as StartSync and CancelSync.
type Service struct {
	cfg Config
	st  *store.Store
	log *slog.Logger
	q   queue
	// rescue is the driver's JobRescueMany (see rescueOrphans).
	rescue func(context.Context, *riverdriver.JobRescueManyParams) (*struct{}, error)

	mu      sync.Mutex
	running map[string]bool // integrations this process is syncing
}

// New migrates River's tables and builds the River client. Nothing runs
// until Start; StartSync may be called before Start (the job waits).
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Syncer == nil {
		return nil, errors.New("jobs: Store and Syncer are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PeriodicInterval <= 0 {
		cfg.PeriodicInterval = DefaultPeriodicInterval
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = time.Minute
	}
	if cfg.OrphanAfter <= 0 {
		cfg.OrphanAfter = 5 * time.Second
	}
	if cfg.NotifyDebounce <= 0 {
		cfg.NotifyDebounce = DefaultNotifyDebounce
	}
	if cfg.UpkeepInterval <= 0 {
		cfg.UpkeepInterval = DefaultUpkeepInterval
	}
	if _, err := Migrate(ctx, cfg.Store, cfg.Logger); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "jobs"), running: map[string]bool{}}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &syncWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &scheduleWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &notifiedSyncWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(cfg.PeriodicInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
	if cfg.Watch != nil {
		if err := river.AddWorkerSafely(workers, &upkeepWorker{s: s}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &upkeepAllWorker{s: s}); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.UpkeepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return UpkeepAllArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	rc := &river.Config{
		Logger: cfg.Logger.With("component", "river"),
		Queues: map[string]river.QueueConfig{
			queueSync:     {MaxWorkers: cfg.Workers},
			queueSchedule: {MaxWorkers: 1},
		},
		Workers: workers,
		// Syncs are long and checkpoint; they end when done or cancelled.
		JobTimeout:           -1,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// SQLite has no LISTEN/NOTIFY: River polls for new jobs, every second by default,
		// which a change notification's sync would wait for. On PostgreSQL inserts wake
		// the workers and the poll is only the fallback.
		FetchPollInterval: 200 * time.Millisecond,
		MaxAttempts:       MaxAttempts,
		PeriodicJobs:      periodic,
	}
	if err := s.addHistoryPruning(workers, rc); err != nil {
		return nil, err
	}
	var err error
	switch cfg.Store.Dialect() {
	case store.Postgres:
		drv := riverpgxv5.New(cfg.Store.PgxPool())
		s.rescue = drv.GetExecutor().JobRescueMany
		s.q, err = river.NewClient(drv, rc)
	default:
		drv := riversqlite.New(cfg.Store.SQLDB())
		s.rescue = drv.GetExecutor().JobRescueMany
		s.q, err = river.NewClient(drv, rc)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: create River client: %w", err)
	}
	return s, nil
}

// Migrate creates or updates River's tables in the store's database and
// returns the River migration versions it applied.
func Migrate(ctx context.Context, st *store.Store, log *slog.Logger) ([]int, error) {
	if log == nil {
		log = slog.Default()
	}
	var res *rivermigrate.MigrateResult
	var err error
	switch st.Dialect() {
	case store.Postgres:
		var m *rivermigrate.Migrator[pgxTx]
		m, err = rivermigrate.New(riverpgxv5.New(st.PgxPool()), &rivermigrate.Config{Logger: log})
		if err == nil {
			res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	default:
		var m *rivermigrate.Migrator[sqlTx]
		m, err = rivermigrate.New(riversqlite.New(st.SQLDB()), &rivermigrate.Config{Logger: log})
		if err == nil {
			res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("migrate River tables: %w", err)
	}
	var applied []int
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
		log.Info("applied River migration", "version", v.Version, "dialect", st.Dialect())
	}
	return applied, nil
}

// Start starts working jobs: syncs and the periodic schedule.
func (s *Service) Start(ctx context.Context) error {
	if err := s.q.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start River: %w", err)
	}
	s.log.Info("jobs started", "client", s.q.ID(), "workers", s.cfg.Workers, "periodic_interval", s.cfg.PeriodicInterval)
	return nil
}

// Stop stops working jobs. Running syncs are cancelled: they end as
// cancelled with their checkpoints kept, and River puts their jobs back in
// the queue, so the next process to start (or another one sharing the
// PostgreSQL database) resumes them from the checkpoints.
func (s *Service) Stop(ctx context.Context) error {
	if err := s.q.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("jobs: stop River: %w", err)
	}
	return nil
}
