package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDemoCommand runs `overshare demo` as a process (this test binary
// re-executed as the command) on a free port with a fresh data directory: it
// writes demo.json, a script gets an admin token by client credentials from
// its tokenUrl, sees the integration over GraphQL and its first sync finish;
// the viewer's token is refused the integration list; SIGTERM ends the
// process cleanly; a restart on the same data directory keeps the
// integration and the script's secret.
func TestDemoCommand(t *testing.T) {
	if os.Getenv("OVERSHARE_DEMO_CHILD") == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	dir := t.TempDir()
	first, df := startDemo(t, dir)
	info, err := os.Stat(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("demo.json mode %v, want 0600 (it holds secrets)", info.Mode().Perm())
	}
	for _, v := range []string{df.URL, df.GraphQLURL, df.Issuer, df.TokenURL, df.IntegrationID, df.SimulatorControlURL, df.SimulatorSecret,
		df.Users["admin"].Password, df.Users["viewer"].Password, df.ScriptClients["admin"].ClientSecret, df.ScriptClients["viewer"].ClientSecret} {
		if v == "" {
			t.Fatalf("demo.json misses a field: %+v", df)
		}
	}
	if out := first.stdout.String(); !strings.Contains(out, df.URL) || strings.Contains(out, df.Users["admin"].Password) {
		t.Errorf("stdout should name the URL and no password:\n%s", out)
	}

	admin := token(t, df, "admin")
	var list struct {
		Integrations []struct{ ID, Name, Status string }
	}
	query(t, df, admin, `{ integrations { id name status } }`, nil, &list)
	if len(list.Integrations) != 1 {
		t.Fatalf("integrations: %+v", list.Integrations)
	}
	// The first sync runs by itself; wait for it to end.
	var one struct {
		Integration struct {
			Status     string
			LastSyncAt *string
			LastError  *string
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		query(t, df, admin, `query($id: ID!) { integration(id: $id) { status lastSyncAt lastError } }`,
			map[string]any{"id": df.IntegrationID}, &one)
		if one.Integration.LastSyncAt != nil {
			break
		}
		if one.Integration.Status == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("first sync did not finish: %+v; stderr:\n%s", one.Integration, first.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if one.Integration.Status != "ACTIVE" {
		t.Errorf("after the first sync: status %s", one.Integration.Status)
	}

	viewer := token(t, df, "viewer")
	if code := queryError(t, df, viewer, `{ integrations { id } }`); code != "FORBIDDEN" {
		t.Errorf("viewer listing integrations: error code %q, want FORBIDDEN", code)
	}

	first.stop(t)

	second, again := startDemo(t, dir)
	defer second.stop(t)
	if again.IntegrationID != df.IntegrationID || again.ScriptClients["admin"] != df.ScriptClients["admin"] ||
		again.Users["admin"] != df.Users["admin"] || again.SimulatorSecret != df.SimulatorSecret {
		t.Fatalf("restart changed the saved demo state:\nbefore %+v\nafter  %+v", df, again)
	}
	query(t, again, token(t, again, "admin"), `{ integrations { id name status } }`, nil, &list)
	if len(list.Integrations) != 1 {
		t.Fatalf("after restart: integrations %+v", list.Integrations)
	}
}

type demoProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan error
	stopped        bool
}

// syncBuffer is a buffer the command's output copier and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startDemo starts the demo on a free port and waits for its demo.json.
func startDemo(t testing.TB, dir string, extra ...string) (*demoProcess, demoFile) {
	t.Helper()
	path := filepath.Join(dir, "demo.json")
	before, _ := os.Stat(path)
	args := append([]string{"-test.run=^TestDemoCommand$", "--",
		"demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--users", "8", "--files-per-user", "40"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OVERSHARE_DEMO_CHILD=1")
	p := &demoProcess{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if info, err := os.Stat(path); err == nil && (before == nil || info.ModTime().After(before.ModTime())) {
			df, err := readDemoFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return p, df
		}
		select {
		case err := <-p.done:
			t.Fatalf("overshare demo exited early (%v):\n%s", err, p.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no demo.json after 2 minutes:\n%s", p.stderr.String())
		}
	}
}

// stop sends SIGTERM and expects exit status 0.
func (p *demoProcess) stop(t testing.TB) {
	t.Helper()
	if p.stopped {
		return
	}
	p.stopped = true
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("no exit a minute after SIGTERM:\n%s", p.stderr.String())
	}
}

// token gets an access token for a script client by client credentials.
func token(t testing.TB, df demoFile, who string) string {
	t.Helper()
	c := df.ScriptClients[who]
	resp, err := http.PostForm(df.TokenURL, url.Values{"grant_type": {"client_credentials"},
		"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token for %s: status %d, error %q (%v)", who, resp.StatusCode, body.Error, err)
	}
	return body.AccessToken
}

type gqlError struct {
	Message    string
	Extensions struct{ Code string }
}

func post(t testing.TB, df demoFile, tok, q string, vars map[string]any) (json.RawMessage, []gqlError) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, df.GraphQLURL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GraphQL answer (status %d): %v", resp.StatusCode, err)
	}
	return out.Data, out.Errors
}

func query(t testing.TB, df demoFile, tok, q string, vars map[string]any, into any) {
	t.Helper()
	data, errs := post(t, df, tok, q, vars)
	if len(errs) > 0 {
		t.Fatalf("%s: %+v", q, errs)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

func queryError(t *testing.T, df demoFile, tok, q string) string {
	t.Helper()
	_, errs := post(t, df, tok, q, nil)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Extensions.Code
}
