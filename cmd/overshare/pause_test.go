package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/graphsim/tenant"
)

// TestPauseAndLockAcrossProcesses: two `overshare serve` processes and the CLI on one
// PostgreSQL. While a server syncs an integration, `overshare sync` is refused and leaves the
// server's run alone; a pause through the other server stops the sync wherever it runs, and
// the integration stays paused; the CLI refuses a paused integration unless told otherwise; a
// cancel through a server stops a sync that runs in the CLI.
func TestPauseAndLockAcrossProcesses(t *testing.T) {
	w := newServeWorld(t, tenant.Config{Seed: 22, Users: 8, FilesPerUser: 40, ShareRatio: 0.1})
	a, b := startServe(t), startServe(t)
	apiA, apiB := w.api(a), w.api(b)
	admin := token(t, apiA, "admin")
	id := w.integrate(t, apiA, admin)
	raw, err := model.DecodeID(id, "Integration")
	if err != nil {
		t.Fatal(err)
	}

	type runState struct {
		ID, Status string
		Error      *string
	}
	runOf := func(df demoFile, runID string) runState {
		var out struct{ Node runState }
		query(t, df, admin, `query($id: ID!) { node(id: $id) { ... on SyncRun { id status error } } }`, map[string]any{"id": runID}, &out)
		return out.Node
	}
	status := func(df demoFile) string {
		var out struct{ Integration struct{ Status string } }
		query(t, df, admin, `query($id: ID!) { integration(id: $id) { status } }`, map[string]any{"id": id}, &out)
		return out.Integration.Status
	}
	waitRun := func(df demoFile, runID, want string) runState {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			r := runOf(df, runID)
			if r.Status == want {
				return r
			}
			if time.Now().After(deadline) {
				msg := ""
				if r.Error != nil {
					msg = *r.Error
				}
				t.Fatalf("run %s is %s (%q), not %s, after a minute", runID, r.Status, msg, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"sync", "--integration", raw[0]}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}

	// Every Graph request takes 1.5 s: the server's sync is still running below.
	w.sim.SetFaults(1, []string{"slow"})
	var started struct{ StartSync struct{ ID string } }
	query(t, apiA, admin, `mutation($id: ID!) { startSync(integrationId: $id) { id } }`, map[string]any{"id": id}, &started)
	serverRun := started.StartSync.ID
	if code, out := cli(); code != 1 || !strings.Contains(out, "already running") {
		t.Fatalf("CLI sync beside a server's: exit %d\n%s", code, out)
	}
	if r := runOf(apiB, serverRun); r.Status != "RUNNING" {
		t.Fatalf("the server's run after the CLI was refused: %+v", r)
	}

	// Paused through the other server: the sync stops wherever it runs and nothing unpauses it.
	query(t, apiB, admin, `mutation($id: ID!) { pauseIntegration(id: $id) { status } }`, map[string]any{"id": id}, new(any))
	if r := waitRun(apiA, serverRun, "CANCELLED"); r.Error == nil || !strings.Contains(*r.Error, "paused") {
		t.Errorf("the paused run says %+v", r)
	}
	time.Sleep(time.Second)
	if s := status(apiA); s != "PAUSED" {
		t.Fatalf("after the paused sync ended the integration is %s", s)
	}
	if code, out := cli(); code != 1 || !strings.Contains(out, "paused") || !strings.Contains(out, "--even-if-paused") {
		t.Fatalf("CLI sync of a paused integration: exit %d\n%s", code, out)
	}
	w.sim.SetFaults(0, nil)
	if code, out := cli("--even-if-paused"); code != 0 {
		t.Fatalf("forced CLI sync: exit %d\n%s", code, out)
	}
	if s := status(apiB); s != "PAUSED" {
		t.Fatalf("after a forced sync the integration is %s", s)
	}

	// A cancel through a server reaches a sync running in the CLI.
	query(t, apiA, admin, `mutation($id: ID!) { resumeIntegration(id: $id) { status } }`, map[string]any{"id": id}, new(any))
	w.sim.SetFaults(1, []string{"slow"})
	type result struct {
		code int
		out  string
	}
	done := make(chan result, 1)
	go func() { c, o := cli(); done <- result{c, o} }()
	var cliRun string
	for deadline := time.Now().Add(time.Minute); cliRun == ""; time.Sleep(100 * time.Millisecond) {
		var runs struct {
			SyncRuns struct{ Edges []struct{ Node runState } }
		}
		query(t, apiB, admin, `query($id: ID!) { syncRuns(integrationId: $id, first: 1) { edges { node { id status } } } }`, map[string]any{"id": id}, &runs)
		if e := runs.SyncRuns.Edges; len(e) > 0 && e[0].Node.Status == "RUNNING" && e[0].Node.ID != serverRun {
			cliRun = e[0].Node.ID
		}
		if time.Now().After(deadline) {
			t.Fatal("the CLI's sync never showed as running")
		}
	}
	var again struct{ StartSync struct{ ID string } }
	query(t, apiA, admin, `mutation($id: ID!) { startSync(integrationId: $id) { id } }`, map[string]any{"id": id}, &again)
	if again.StartSync.ID != cliRun {
		t.Errorf("startSync while the CLI syncs answered run %s, want the CLI's %s", again.StartSync.ID, cliRun)
	}
	query(t, apiB, admin, `mutation($id: ID!) { cancelSync(runId: $id) { id } }`, map[string]any{"id": cliRun}, new(any))
	select {
	case r := <-done:
		if r.code != 1 || !strings.Contains(r.out, "cancelled") {
			t.Errorf("the CLI's cancelled sync: exit %d\n%s", r.code, r.out)
		}
	case <-time.After(time.Minute):
		t.Fatal("the CLI's sync went on a minute after its cancel")
	}
	waitRun(apiA, cliRun, "CANCELLED")
	w.sim.SetFaults(0, nil)
	if s := status(apiA); s != "ACTIVE" {
		t.Errorf("after the cancelled CLI sync the integration is %s", s)
	}
	a.stop(t)
	b.stop(t)
}
