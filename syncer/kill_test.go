package syncer_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// buildBinary builds cmd/overshare once per test.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "overshare")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/overshare/overshare/cmd/overshare")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build overshare: %v\n%s", err, out)
	}
	return bin
}

// simProcess is `overshare graphsim` running as its own process.
type simProcess struct {
	info   graphsim.Info
	client *http.Client
	pid    int
}

func startSimProcess(t testing.TB, bin string, args ...string) *simProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"graphsim"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start graphsim: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("read graphsim info: %v", err)
	}
	sp := &simProcess{pid: cmd.Process.Pid}
	if err := json.Unmarshal(line, &sp.info); err != nil {
		t.Fatalf("graphsim info %q: %v", line, err)
	}
	pem, err := os.ReadFile(sp.info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	sp.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
	return sp
}

func (sp *simProcess) get(t testing.TB, path string, into any) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", sp.info.ControlURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+sp.info.ClientSecret)
	resp, err := sp.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	if into != nil {
		if err := json.Unmarshal(buf.Bytes(), into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return buf.Bytes()
}

func (sp *simProcess) env(dbURL, dataDir string) []string {
	return append(os.Environ(),
		"OVERSHARE_DATABASE_URL="+dbURL,
		"OVERSHARE_DATA_DIR="+dataDir,
		"OVERSHARE_AUTHORITY_URL="+sp.info.AuthorityHost,
		"OVERSHARE_GRAPH_URL="+sp.info.GraphBaseURL,
		"OVERSHARE_GRAPH_CA_FILE="+sp.info.CAFile,
		"OVERSHARE_CLIENT_SECRET="+sp.info.ClientSecret,
	)
}

// TestKillAndResume: `overshare sync` killed with SIGKILL at random points
// and restarted until it succeeds leaves the database equal to the tenant,
// with no duplicate rows, and a restart never enumerates again a drive that
// already had a checkpoint.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	sp := startSimProcess(t, bin, "--seed", "77", "--users", "40", "--files-per-user", "150", "--share-ratio", "0.08")
	cfg := testdb.PostgresConfig(t)
	env := sp.env(cfg.DatabaseURL, cfg.DataDir)

	integrate := exec.Command(bin, "integrate", "--create-database", "--name", "Kill test", "--tenant-id", sp.info.TenantID, "--client-id", sp.info.ClientID)
	integrate.Env = env
	out, err := integrate.Output()
	if err != nil {
		t.Fatalf("overshare integrate: %v", err)
	}
	integID := strings.TrimSpace(string(out))
	if strings.ContainsAny(integID, " \n") || integID == "" {
		t.Fatalf("integrate printed %q, want only the id", out)
	}

	st := testdb.Open(t, cfg)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for attempt := 0; ; attempt++ {
		if attempt > 40 {
			t.Fatal("sync never finished")
		}
		// Items of drives whose round finished: a restart must not read
		// them again (the tenant does not change, so their rounds are empty).
		var finishedItems int64
		st.Gorm().Model(&models.DriveItem{}).Where(`integration_id = ? AND drive_id IN (SELECT drive_id FROM drive_sync_states
			WHERE integration_id = ? AND delta_link IS NOT NULL AND next_link IS NULL)`, integID, integID).Count(&finishedItems)
		var before graphsim.Stats
		sp.get(t, "/stats", &before)

		cmd := exec.Command(bin, "sync", "--integration", integID)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill at a random point: early (sign-in, users, drives) by time,
		// or after a random number of page commits of this run.
		var err error
		killed := false
		what := "not killed"
		if kills < 6 {
			var kill <-chan time.Time
			commits := 0
			if rng.IntN(4) == 0 {
				d := time.Duration(20+rng.IntN(400)) * time.Millisecond
				kill, what = time.After(d), fmt.Sprintf("killed after %v", d)
			} else {
				commits = 1 + rng.IntN(8)
				what = fmt.Sprintf("killed after %d page commits", commits)
			}
			start := commitCount(t, st, integID)
			poll := time.NewTicker(5 * time.Millisecond)
		wait:
			for {
				select {
				case err = <-done:
					break wait
				case <-kill:
					killed = true
				case <-poll.C:
					killed = commits > 0 && commitCount(t, st, integID)-start >= int64(commits)
				}
				if killed {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					err = <-done
					kills++
					break wait
				}
			}
			poll.Stop()
		} else {
			err = <-done
		}
		var after graphsim.Stats
		sp.get(t, "/stats", &after)
		deltas := after.ByEndpoint["GET /drives/{id}/root/delta"] - before.ByEndpoint["GET /drives/{id}/root/delta"]
		t.Logf("run %d: %s, %d delta requests, %d items of finished drives stored before",
			attempt, what, deltas, finishedItems)
		if !killed {
			if err != nil {
				t.Fatalf("overshare sync failed: %v\n%s", err, stderr.String())
			}
			runs, err := st.SyncRuns(ctx, integID, 1)
			if err != nil || len(runs) != 1 {
				t.Fatalf("last run: %v", err)
			}
			var total int64
			st.Gorm().Model(&models.DriveItem{}).Where("integration_id = ?", integID).Count(&total)
			t.Logf("last run read %d items; %d stored, %d of them in drives finished before it", runs[0].ItemsSeen, total, finishedItems)
			if runs[0].ItemsSeen > total-finishedItems {
				t.Errorf("the last run read %d items, more than the %d outside drives finished before it: finished drives were read again",
					runs[0].ItemsSeen, total-finishedItems)
			}
			if finishedItems == 0 {
				t.Errorf("no drive had finished before the last run: the resume of finished drives was not tested")
			}
			break
		}
	}
	if kills == 0 {
		t.Fatal("the sync was never killed: the test proves nothing")
	}
	ex := parseExport(t, bytes.NewReader(sp.get(t, "/export", nil)))
	assertEqual(t, st, integID, ex)
	assertCounts(t, st, integID, summaryOf(ex))
	runs, err := st.SyncRuns(ctx, integID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == models.SyncRunning {
			t.Errorf("run %s still marked running", r.ID)
		}
	}
	fmt.Fprintf(os.Stderr, "kill test: %d kills, %d runs\n", kills, len(runs))
}

// commitCount grows by one with every committed delta page: the sum of the
// drives' checkpointed item counts and the number of checkpoints.
func commitCount(t testing.TB, st *store.Store, integID string) int64 {
	var n struct{ Items, States int64 }
	st.Gorm().Raw(`SELECT COALESCE(SUM(items_seen), 0) AS items, COUNT(*) AS states FROM drive_sync_states
		WHERE integration_id = ? AND (next_link IS NOT NULL OR delta_link IS NOT NULL)`, integID).Scan(&n)
	var links int64
	st.Gorm().Raw(`SELECT COUNT(*) FROM drive_sync_states WHERE integration_id = ? AND delta_link IS NOT NULL`, integID).Scan(&links)
	return n.States + links + n.Items/1000
}
