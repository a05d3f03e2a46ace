package jobs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// smallTenant has several drives of several delta pages (page size 40).
func smallTenant(seed int64) tenant.Config {
	return tenant.Config{Seed: seed, Users: 12, FilesPerUser: 60, ShareRatio: 0.1}
}

func startSim(t *testing.T, opt graphsim.Options) *graphsim.Server { return graphsimtest.Start(t, opt) }

// pageSize40 makes delta pages small, so that a small tenant has several per drive.
func pageSize40(info graphsim.Info) msgraph.Config {
	cfg := graphsimtest.Endpoints(info)
	cfg.PageSize = 40
	return cfg
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newSyncer(st *store.Store, info graphsim.Info) *syncer.Syncer {
	return syncer.New(syncer.Config{Store: st, Bus: events.NewLocal(), Version: "test", Logger: quiet(),
		GraphDefaults: pageSize40(info)})
}

// newService builds a Service; started ones are stopped when the test ends.
func newService(t *testing.T, st *store.Store, info graphsim.Info, start bool) *Service {
	t.Helper()
	ctx := context.Background()
	s, err := New(ctx, Config{Store: st, Syncer: newSyncer(st, info), Logger: quiet(), Workers: 2,
		PeriodicInterval: time.Hour, StartTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	if start {
		if err := s.Start(ctx); err != nil {
			t.Fatalf("start jobs: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := s.Stop(ctx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
	}
	return s
}

func createIntegration(t *testing.T, st *store.Store, info graphsim.Info, secret string) *models.Integration {
	t.Helper()
	in := &models.Integration{Name: "Contoso", TenantID: info.TenantID, ClientID: info.ClientID}
	if err := st.CreateIntegration(context.Background(), in, secret); err != nil {
		t.Fatalf("create integration: %v", err)
	}
	return in
}

// waitRun waits until the run has ended and returns it.
func waitRun(t *testing.T, st *store.Store, runID string) *models.SyncRun {
	t.Helper()
	return waitRunUntil(t, st, runID, func(r *models.SyncRun) bool { return r.Done() })
}

// waitRunUntil polls the run until cond holds; the deadline only guards
// against a hang.
func waitRunUntil(t *testing.T, st *store.Store, runID string, cond func(*models.SyncRun) bool) *models.SyncRun {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		r, err := st.SyncRun(context.Background(), runID)
		if err != nil {
			t.Fatalf("read sync run: %v", err)
		}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync run %s never reached the expected state: %+v", runID, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertSummary compares the stored counts with the simulator's summary of
// the drives the app can read (the sync skips locked ones).
func assertSummary(t *testing.T, st *store.Store, integID string, srv *graphsim.Server) {
	t.Helper()
	c, err := st.CountsForIntegration(context.Background(), integID)
	if err != nil {
		t.Fatal(err)
	}
	sum := srv.Tenant().ReadableSummary()
	got := fmt.Sprint(c.Users, c.Drives, c.Items, c.SharedItems, c.Permissions)
	want := fmt.Sprint(sum.Users, sum.Drives, sum.Items, sum.SharedItems, sum.Permissions)
	if got != want {
		t.Fatalf("users drives items sharedItems permissions: database %s, simulator %s", got, want)
	}
	for k, v := range sum.PermissionsByScope {
		if c.ByScope[k] != int64(v) {
			t.Fatalf("permissions of scope %s: database %d, simulator %d", k, c.ByScope[k], v)
		}
	}
}

// syncJobs lists the integration's sync jobs in the given states.
func syncJobs(t *testing.T, s *Service, integID string, states ...rivertype.JobState) []*rivertype.JobRow {
	t.Helper()
	p := river.NewJobListParams().Kinds(SyncArgs{}.Kind()).TagsAll(integrationTag(integID)).First(100)
	if len(states) > 0 {
		p = p.States(states...)
	}
	res, err := s.q.JobList(context.Background(), p)
	if err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	return res.Jobs
}

// TestStartSyncCompletes: a sync started through the queue runs to the end,
// the database then matches the simulator, the integration is ACTIVE with
// its sync times set, and the job is completed.
func TestStartSyncCompletes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(3)})
		info := srv.Info()
		in := createIntegration(t, st, info, info.ClientSecret)
		s := newService(t, st, info, true)

		runID, err := s.StartSync(context.Background(), in.ID, true)
		if err != nil {
			t.Fatalf("StartSync: %v", err)
		}
		run := waitRun(t, st, runID)
		if run.Status != models.SyncSucceeded {
			t.Fatalf("run status %s, error %q", run.Status, run.Error)
		}
		assertSummary(t, st, in.ID, srv)
		integ, err := st.Integration(context.Background(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if integ.Status != models.IntegrationActive || integ.LastSyncAt == nil || integ.NextSyncAt == nil ||
			integ.NextSyncAt.Sub(*integ.LastSyncAt) != integ.SyncInterval() {
			t.Errorf("integration after sync: status %s, last %v, next %v", integ.Status, integ.LastSyncAt, integ.NextSyncAt)
		}
		// River records the job as completed (poll: completion is batched).
		deadline := time.Now().Add(time.Minute)
		for len(syncJobs(t, s, in.ID, rivertype.JobStateCompleted)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("sync job never completed: %+v", syncJobs(t, s, in.ID))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if active := syncJobs(t, s, in.ID, activeStates...); len(active) != 0 {
			t.Errorf("sync jobs still active after the run: %d", len(active))
		}
	})
}

// TestStartSyncTwiceCancelResume: a second StartSync while a sync runs gives
// the same run; CancelSync ends it as cancelled with its checkpoints kept,
// and the next sync carries on from them instead of reading everything again.
func TestStartSyncTwiceCancelResume(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// Every Graph request answers after 1.5 s: the sync is slow enough
		// to be caught running.
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(5), FaultRate: 1, FaultKinds: []string{"slow"}})
		info := srv.Info()
		in := createIntegration(t, st, info, info.ClientSecret)
		s := newService(t, st, info, true)
		ctx := context.Background()

		first, err := s.StartSync(ctx, in.ID, true)
		if err != nil {
			t.Fatalf("StartSync: %v", err)
		}
		second, err := s.StartSync(ctx, in.ID, false)
		if err != nil {
			t.Fatalf("second StartSync: %v", err)
		}
		if second != first {
			t.Fatalf("second StartSync started run %s beside %s", second, first)
		}
		if n := len(syncJobs(t, s, in.ID)); n != 1 {
			t.Fatalf("%d sync jobs for one integration, want 1", n)
		}
		total := srv.Tenant().ReadableSummary().Items
		// Cancel once some drives are checkpointed.
		waitRunUntil(t, st, first, func(r *models.SyncRun) bool { return r.Done() || r.DrivesDone >= 2 })
		if err := s.CancelSync(ctx, first); err != nil {
			t.Fatalf("CancelSync: %v", err)
		}
		run := waitRun(t, st, first)
		if run.Status != models.SyncCancelled {
			t.Fatalf("cancelled run: status %s, error %q", run.Status, run.Error)
		}
		if run.ItemsSeen == 0 || run.ItemsSeen >= int64(total) {
			t.Fatalf("cancelled run saw %d items of %d; the test needs it cancelled midway", run.ItemsSeen, total)
		}
		states, err := st.DriveSyncStates(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		finished := 0
		for _, d := range states {
			if d.DeltaLink != nil && d.NextLink == nil {
				finished++
			}
		}
		if finished == 0 {
			t.Fatalf("no drive checkpoint kept after cancel (%d states)", len(states))
		}
		deadline := time.Now().Add(time.Minute)
		for len(syncJobs(t, s, in.ID, rivertype.JobStateCancelled)) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("River job not cancelled: %+v", syncJobs(t, s, in.ID))
			}
			time.Sleep(100 * time.Millisecond)
		}
		integ, _ := st.Integration(ctx, in.ID)
		if integ.Status != models.IntegrationActive {
			t.Errorf("integration after cancel: %s", integ.Status)
		}

		srv.SetFaults(0, nil)
		next, err := s.StartSync(ctx, in.ID, false)
		if err != nil {
			t.Fatalf("StartSync after cancel: %v", err)
		}
		if next == first {
			t.Fatal("StartSync after cancel returned the cancelled run")
		}
		resumed := waitRun(t, st, next)
		if resumed.Status != models.SyncSucceeded {
			t.Fatalf("resumed run: status %s, error %q", resumed.Status, resumed.Error)
		}
		assertSummary(t, st, in.ID, srv)
		// Finished drives were not enumerated again.
		if resumed.ItemsSeen >= int64(total) {
			t.Errorf("resumed sync saw %d items, the tenant has %d: it started over", resumed.ItemsSeen, total)
		}
		t.Logf("tenant %d items: cancelled run saw %d (%d drives checkpointed), resumed run %d", total, run.ItemsSeen, finished, resumed.ItemsSeen)
	})
}

// TestEnqueueDue: the periodic job queues a sync for due ACTIVE and ERROR
// integrations only, never for PAUSED ones or ones not yet due, and never a
// second one for an integration that has one queued.
func TestEnqueueDue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		info := graphsim.Info{TenantID: "t", ClientID: "c"}
		ctx := context.Background()
		now := time.Now().UTC()
		past, future := now.Add(-time.Minute), now.Add(time.Hour)
		mk := func(name string, status models.IntegrationStatus, next *time.Time) string {
			in := createIntegration(t, st, info, "secret-"+name)
			if err := st.SetIntegrationStatus(ctx, in.ID, status, ""); err != nil {
				t.Fatal(err)
			}
			if err := st.SetIntegrationSyncTimes(ctx, in.ID, nil, next); err != nil {
				t.Fatal(err)
			}
			return in.ID
		}
		never := mk("never", models.IntegrationActive, nil)
		due := mk("due", models.IntegrationActive, &past)
		failed := mk("failed", models.IntegrationError, &past)
		mk("paused", models.IntegrationPaused, &past)
		mk("later", models.IntegrationActive, &future)
		mk("failedLater", models.IntegrationError, &future)

		s := newService(t, st, info, false)
		got, err := s.EnqueueDue(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		want := []string{never, due, failed}
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("queued %v, want %v", got, want)
		}
		again, err := s.EnqueueDue(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("second round queued %v while their syncs are queued", again)
		}
		res, err := s.q.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).First(100))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 3 {
			t.Fatalf("%d sync jobs in the queue, want 3", len(res.Jobs))
		}
	})
}

// TestWrongSecretNotRetried: a sync that fails on the credentials puts the
// integration in ERROR with the reason, is not retried by River, and the
// next periodic attempt waits one sync interval.
func TestWrongSecretNotRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: tenant.Config{Seed: 1, Users: 2, FilesPerUser: 5}})
		info := srv.Info()
		in := createIntegration(t, st, info, "not-the-secret")
		s := newService(t, st, info, true)
		ctx := context.Background()

		runID, err := s.StartSync(ctx, in.ID, false)
		if err != nil {
			t.Fatalf("StartSync: %v", err)
		}
		run := waitRun(t, st, runID)
		if run.Status != models.SyncFailed {
			t.Fatalf("run status %s, want failed", run.Status)
		}
		deadline := time.Now().Add(time.Minute)
		for len(syncJobs(t, s, in.ID, rivertype.JobStateCancelled)) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("job not cancelled for good: %+v", syncJobs(t, s, in.ID))
			}
			time.Sleep(100 * time.Millisecond)
		}
		integ, err := st.Integration(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if integ.Status != models.IntegrationError || integ.LastError == "" {
			t.Fatalf("integration: status %s, error %q", integ.Status, integ.LastError)
		}
		if integ.NextSyncAt == nil || time.Until(*integ.NextSyncAt) < integ.SyncInterval()-time.Minute {
			t.Fatalf("next sync at %v, want about one interval (%v) from now", integ.NextSyncAt, integ.SyncInterval())
		}
		if q, err := s.EnqueueDue(ctx, time.Now()); err != nil || len(q) != 0 {
			t.Fatalf("periodic round queued %v (%v) for an integration that just failed", q, err)
		}
		runs, _ := st.SyncRuns(ctx, in.ID, 10)
		if len(runs) != 1 {
			t.Fatalf("%d runs, want 1 (no retries)", len(runs))
		}
		t.Logf("integration error: %s", integ.LastError)
	})
}

// TestTwoProcessesOneSyncAtATime: two River clients on one PostgreSQL
// database, each with its own connection pool (two "processes"), asked
// again and again to sync one integration, never run two of its syncs at
// once, and both callers get the same run.
func TestTwoProcessesOneSyncAtATime(t *testing.T) {
	cfg := testdb.PostgresConfig(t)
	st1, st2 := testdb.Open(t, cfg), testdb.Open(t, cfg)
	srv := startSim(t, graphsim.Options{Tenant: smallTenant(9), FaultRate: 0.3, FaultKinds: []string{"slow"}})
	info := srv.Info()
	in := createIntegration(t, st1, info, info.ClientSecret)
	a, b := newService(t, st1, info, true), newService(t, st2, info, true)
	ctx := context.Background()

	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := a
				if i%2 == 1 {
					s = b
				}
				id, err := s.StartSync(ctx, in.ID, round == 0)
				if err != nil {
					t.Errorf("StartSync: %v", err)
				}
				ids[i] = id
			}()
		}
		wg.Wait()
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Fatalf("round %d: concurrent StartSync calls got different runs %v", round, ids)
			}
		}
		if r := waitRun(t, st1, ids[0]); r.Status != models.SyncSucceeded {
			t.Fatalf("round %d: run %s, error %q", round, r.Status, r.Error)
		}
	}
	runs, err := st1.SyncRuns(ctx, in.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The periodic job of the first client to lead may add a run of its own.
	if len(runs) < 3 {
		t.Errorf("%d runs for 3 rounds", len(runs))
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].StartedAt.Before(runs[j].StartedAt) })
	for i := 1; i < len(runs); i++ {
		if runs[i-1].FinishedAt == nil || runs[i].StartedAt.Before(*runs[i-1].FinishedAt) {
			t.Errorf("run %s started at %v before run %s finished at %v", runs[i].ID, runs[i].StartedAt, runs[i-1].ID, runs[i-1].FinishedAt)
		}
	}
	assertSummary(t, st1, in.ID, srv)
}

// TestKilledProcessSyncResumes: a process killed (SIGKILL) in the middle of
// a sync leaves its River job running; another process starting on the same
// database retries it at once instead of after RescueAfter, and the retry
// resumes from the checkpoints and completes.
func TestKilledProcessSyncResumes(t *testing.T) {
	if os.Getenv("JOBS_CHILD_SIM") != "" {
		childSync(t)
		return
	}
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(11), FaultRate: 1, FaultKinds: []string{"slow"}})
		info := srv.Info()
		st := testdb.Open(t, cfg)
		in := createIntegration(t, st, info, info.ClientSecret)

		simJSON, _ := json.Marshal(info)
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcessSyncResumes$")
		cmd.Env = append(os.Environ(), "JOBS_CHILD_SIM="+string(simJSON), "JOBS_CHILD_DB="+cfg.DatabaseURL,
			"JOBS_CHILD_DIR="+cfg.DataDir, "JOBS_CHILD_INTEGRATION="+in.ID)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		var runID string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "run "); ok {
				runID = id
				break
			}
		}
		if runID == "" {
			cmd.Wait()
			t.Fatalf("child printed no run id; stderr:\n%s", stderr.String())
		}
		waitRunUntil(t, st, runID, func(r *models.SyncRun) bool { return r.Done() || r.DrivesDone >= 2 })
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		killed, _ := st.SyncRun(context.Background(), runID)
		if killed.Done() {
			t.Fatalf("the run ended before the kill: %+v", killed)
		}

		srv.SetFaults(0, nil)
		// Only the round at start-up may retry it (the next is an hour away), with the default
		// OrphanAfter: a restart must not leave the killed run RUNNING for minutes.
		if wait := time.Until(killed.StartedAt.Add(6 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		s, err := New(context.Background(), Config{Store: st, Syncer: newSyncer(st, info), Logger: quiet(), Workers: 2,
			PeriodicInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Stop(context.Background()) })

		// No StartSync: the orphaned job is retried by itself.
		var resumed *models.SyncRun
		deadline := time.Now().Add(2 * time.Minute)
		for resumed == nil {
			runs, err := st.SyncRuns(context.Background(), in.ID, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 1 && runs[0].Status == models.SyncSucceeded {
				resumed = &runs[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("the killed sync was not resumed: runs %+v, jobs %+v", runs, syncJobs(t, s, in.ID))
			}
			time.Sleep(200 * time.Millisecond)
		}
		assertSummary(t, st, in.ID, srv)
		killed, _ = st.SyncRun(context.Background(), runID)
		if killed.Status != models.SyncFailed {
			t.Errorf("the killed run: status %s, want failed (its process died)", killed.Status)
		}
		total := srv.Tenant().ReadableSummary().Items
		if resumed.ItemsSeen >= int64(total) {
			t.Errorf("resumed sync saw %d items, the tenant has %d: it started over", resumed.ItemsSeen, total)
		}
		t.Logf("tenant %d items: killed run saw %d, resumed run %d", total, killed.ItemsSeen, resumed.ItemsSeen)
	})
}

// childSync is the process that gets killed: it starts a sync and waits.
func childSync(t *testing.T) {
	var info graphsim.Info
	if err := json.Unmarshal([]byte(os.Getenv("JOBS_CHILD_SIM")), &info); err != nil {
		t.Fatal(err)
	}
	st := testdb.Open(t, store.Config{DatabaseURL: os.Getenv("JOBS_CHILD_DB"), DataDir: os.Getenv("JOBS_CHILD_DIR"), Logger: quiet()})
	s, err := New(context.Background(), Config{Store: st, Syncer: newSyncer(st, info), Logger: quiet(), PeriodicInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Incremental: a first sync enumerates every drive in full anyway, and
	// its retry resumes the unfinished rounds (a full one would start over).
	runID, err := s.StartSync(context.Background(), os.Getenv("JOBS_CHILD_INTEGRATION"), false)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("run %s\n", runID)
	select {}
}

// TestStopCancelsAndRestartResumes: Stop (a graceful shutdown) cancels a
// running sync, which ends as cancelled with its checkpoints; the next
// process to start retries the job by itself and finishes from them.
func TestStopCancelsAndRestartResumes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		srv := startSim(t, graphsim.Options{Tenant: smallTenant(13), FaultRate: 1, FaultKinds: []string{"slow"}})
		info := srv.Info()
		in := createIntegration(t, st, info, info.ClientSecret)
		ctx := context.Background()
		first := newService(t, st, info, false)
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		runID, err := first.StartSync(ctx, in.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		waitRunUntil(t, st, runID, func(r *models.SyncRun) bool { return r.Done() || r.DrivesDone >= 2 })
		if err := first.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		stopped := waitRun(t, st, runID)
		if stopped.Status != models.SyncCancelled {
			t.Fatalf("run after Stop: status %s, error %q", stopped.Status, stopped.Error)
		}
		// River puts a job cut short by its client's shutdown back in the
		// queue (available, the attempt not counted).
		if jobs := syncJobs(t, first, in.ID, rivertype.JobStateAvailable, rivertype.JobStateRetryable); len(jobs) != 1 {
			for _, j := range syncJobs(t, first, in.ID) {
				t.Logf("job %d: state %s, attempt %d, errors %+v", j.ID, j.State, j.Attempt, j.Errors)
			}
			t.Fatal("after Stop the job should be queued again")
		}

		srv.SetFaults(0, nil)
		newService(t, st, info, true)
		var resumed *models.SyncRun
		deadline := time.Now().Add(2 * time.Minute)
		for resumed == nil {
			runs, err := st.SyncRuns(ctx, in.ID, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 1 && runs[0].Status == models.SyncSucceeded {
				resumed = &runs[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stopped sync was not resumed: runs %+v", runs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		assertSummary(t, st, in.ID, srv)
		total := srv.Tenant().ReadableSummary().Items
		if resumed.ItemsSeen >= int64(total) {
			t.Errorf("resumed sync saw %d items, the tenant has %d: it started over", resumed.ItemsSeen, total)
		}
		t.Logf("tenant %d items: stopped run saw %d, resumed run %d", total, stopped.ItemsSeen, resumed.ItemsSeen)
	})
}

// TestCancelFromAnotherProcess: on PostgreSQL a process that runs no
// workers (an API replica) starts a sync that a worker process runs, and
// cancels it; the worker's sync stops and ends as cancelled.
func TestCancelFromAnotherProcess(t *testing.T) {
	cfg := testdb.PostgresConfig(t)
	apiStore, workerStore := testdb.Open(t, cfg), testdb.Open(t, cfg)
	srv := startSim(t, graphsim.Options{Tenant: smallTenant(17), FaultRate: 1, FaultKinds: []string{"slow"}})
	info := srv.Info()
	in := createIntegration(t, apiStore, info, info.ClientSecret)
	api := newService(t, apiStore, info, false)
	newService(t, workerStore, info, true)
	ctx := context.Background()

	runID, err := api.StartSync(ctx, in.ID, false)
	if err != nil {
		t.Fatalf("StartSync: %v", err)
	}
	waitRunUntil(t, apiStore, runID, func(r *models.SyncRun) bool { return r.Done() || r.ItemsSeen > 0 })
	if err := api.CancelSync(ctx, runID); err != nil {
		t.Fatalf("CancelSync: %v", err)
	}
	run := waitRun(t, apiStore, runID)
	if run.Status != models.SyncCancelled {
		t.Fatalf("run: status %s, error %q", run.Status, run.Error)
	}
	if total := srv.Tenant().ReadableSummary().Items; run.ItemsSeen >= int64(total) {
		t.Fatalf("the run saw all %d items: it was not stopped midway", total)
	}
}
