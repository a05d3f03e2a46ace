package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
)

// serveChild makes this test binary `overshare serve` when started by startServe.
func serveChild() {
	if os.Getenv("OVERSHARE_SERVE_CHILD") == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
}

// serveWorld is what `overshare serve` runs against in these tests: PostgreSQL, the Graph
// simulator and an OIDC provider served by the test process. Its settings are in the
// environment (t.Setenv), so that serve processes and in-process commands read the same.
type serveWorld struct {
	sim *graphsim.Server
	df  demoFile
}

func newServeWorld(t *testing.T, tc tenant.Config) *serveWorld {
	t.Helper()
	db := testdb.PostgresConfig(t)
	sim, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/oidc"
	opts := devidp.DemoOptions(issuer, []string{"http://127.0.0.1:1/auth/callback"})
	idp, err := devidp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", idp)
	idpSrv := &http.Server{Handler: mux}
	go idpSrv.Serve(ln)
	t.Cleanup(func() { idpSrv.Close() })
	df := demoFile{TokenURL: idp.TokenURL(), ScriptClients: map[string]demoScriptClient{}}
	for _, c := range opts.Clients {
		if role := scriptRole(c.ID); role != "" {
			df.ScriptClients[role] = demoScriptClient{ClientID: c.ID, ClientSecret: c.Secret}
		}
	}
	for k, v := range map[string]string{
		"OVERSHARE_DATABASE_URL":      db.DatabaseURL,
		"OVERSHARE_DATA_DIR":          db.DataDir,
		"OVERSHARE_SECRET_KEY":        "",
		"OVERSHARE_OIDC_ISSUER":       issuer,
		"OVERSHARE_OIDC_AUDIENCE":     devidp.DemoAudience,
		"OVERSHARE_OIDC_ADMIN_ROLES":  devidp.DemoAdminRole,
		"OVERSHARE_OIDC_VIEWER_ROLES": devidp.DemoViewerRole,
		"OVERSHARE_AUTHORITY_URL":     info.AuthorityHost,
		"OVERSHARE_GRAPH_URL":         info.GraphBaseURL,
		"OVERSHARE_GRAPH_CA_FILE":     info.CAFile,
	} {
		t.Setenv(k, v)
	}
	return &serveWorld{sim: sim, df: df}
}

// serveProcess is one `overshare serve` process.
type serveProcess struct {
	cmd        *exec.Cmd
	base       string // http://127.0.0.1:port
	logged     *syncBuffer
	readDone   chan struct{}
	badLines   []string
	sawStopped bool
}

// startServe starts `overshare serve` as a process (this test binary, see serveChild) on the
// environment (env's NAME=value entries win) and a free port, and waits until it serves.
func startServe(t *testing.T, env ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeCommand$", "--", "serve")
	cmd.Env = append(append(os.Environ(), "OVERSHARE_SERVE_CHILD=1", "OVERSHARE_ADDR=127.0.0.1:0"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &serveProcess{cmd: cmd, logged: &syncBuffer{}, readDone: make(chan struct{})}
	addrc := make(chan string, 1)
	// Every log line is JSON; the start line names the address.
	go func() {
		defer close(p.readDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.logged.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				p.badLines = append(p.badLines, sc.Text())
				continue
			}
			switch m["msg"] {
			case "overshare serving":
				a, _ := m["addr"].(string)
				addrc <- a
			case "overshare stopped":
				p.sawStopped = true
			}
		}
	}()
	select {
	case addr := <-addrc:
		p.base = "http://" + addr
	case <-p.readDone:
		t.Fatalf("overshare serve exited before serving:\n%s", p.logged.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("overshare serve did not start within 2 minutes")
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.readDone // the process closed stderr: it is exiting
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logged.String())
	}
}

// api is the world's demo file pointed at one process's GraphQL endpoint.
func (w *serveWorld) api(p *serveProcess) demoFile {
	df := w.df
	df.GraphQLURL = p.base + "/graphql"
	return df
}

// integrate connects the simulated tenant through the API and waits for its first sync.
func (w *serveWorld) integrate(t *testing.T, df demoFile, admin string) string {
	t.Helper()
	info := w.sim.Info()
	var created struct{ Integrate struct{ ID, Status string } }
	query(t, df, admin, `mutation($in: IntegrateInput!) { integrate(input: $in) { id status } }`,
		map[string]any{"in": map[string]any{"name": "Contoso", "tenantId": info.TenantID, "clientId": info.ClientID, "clientSecret": info.ClientSecret}},
		&created)
	var one struct {
		Integration struct {
			Status     string
			LastSyncAt *string
			LastError  *string
		}
	}
	deadline := time.After(3 * time.Minute)
	for one.Integration.LastSyncAt == nil {
		query(t, df, admin, `query($id: ID!) { integration(id: $id) { status lastSyncAt lastError } }`,
			map[string]any{"id": created.Integrate.ID}, &one)
		if one.Integration.Status == "ERROR" {
			t.Fatalf("first sync failed: %+v", one.Integration)
		}
		select {
		case <-deadline:
			t.Fatalf("first sync did not finish: %+v", one.Integration)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if one.Integration.Status != "ACTIVE" {
		t.Errorf("after the first sync: %+v", one.Integration)
	}
	return created.Integrate.ID
}

// TestServeCommand runs `overshare serve` as a process on PostgreSQL,
// configured only by the environment, with an OIDC provider and the Graph
// simulator outside it: it logs JSON, answers /healthz and /readyz, an admin
// script connects the simulated tenant with the integrate mutation and its
// first sync finishes (River on PostgreSQL), and SIGTERM ends it cleanly.
func TestServeCommand(t *testing.T) {
	serveChild()
	w := newServeWorld(t, tenant.Config{Seed: 21, Users: 6, FilesPerUser: 30, ShareRatio: 0.1})
	const metricsToken = "metrics-token-of-the-serve-test"
	t.Setenv("OVERSHARE_METRICS_TOKEN", metricsToken)
	spans := startOTLPReceiver(t)
	p := startServe(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	df := w.api(p)
	admin := token(t, df, "admin")
	id := w.integrate(t, df, admin)
	checkMetrics(t, p, metricsToken, id)
	// The container's health check: ready while it serves, not once it has stopped.
	t.Setenv("OVERSHARE_ADDR", strings.TrimPrefix(p.base, "http://"))
	var hout, herr bytes.Buffer
	if code := run([]string{"healthcheck"}, &hout, &herr); code != 0 || !strings.Contains(hout.String(), "ready") {
		t.Errorf("healthcheck of a serving server: exit %d, %q %q", code, hout.String(), herr.String())
	}

	p.stop(t)
	hout.Reset()
	herr.Reset()
	if code := run([]string{"healthcheck", "--timeout", "1s"}, &hout, &herr); code != 1 || !strings.Contains(herr.String(), "not ready") {
		t.Errorf("healthcheck of a stopped server: exit %d, %q %q", code, hout.String(), herr.String())
	}
	if len(p.badLines) > 0 {
		t.Errorf("%d log lines are not JSON, e.g. %q", len(p.badLines), p.badLines[0])
	}
	if !p.sawStopped {
		t.Error("no \"overshare stopped\" log line")
	}
	if logs := p.logged.String(); strings.Contains(logs, w.sim.Info().ClientSecret) || strings.Contains(logs, admin) {
		t.Error("the logs hold the tenant's client secret or a bearer token")
	}
	// Traces (OTEL_EXPORTER_OTLP_ENDPOINT): the API's requests, and the Graph requests of the
	// sync through the SDK's own spans, flushed when the process stops.
	names := spans.names()
	if !slices.Contains(names, "POST /graphql") || len(names) < 5 {
		t.Errorf("spans received over OTLP: %q", names)
	}
	// Kiota names them by URL template: "Send - {+baseurl}/users", "SendPrimitive - {+baseurl}/$batch".
	if !slices.ContainsFunc(names, func(n string) bool {
		return strings.HasPrefix(n, "Send") && strings.Contains(n, "{+baseurl}/users")
	}) {
		t.Errorf("no span of a Graph request among %q", names)
	}
}

// otlpReceiver is a collector's OTLP/HTTP traces endpoint, recording span names.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []string
}

func (o *otlpReceiver) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.spans)
}

// startOTLPReceiver serves /v1/traces and points the OTEL_* variables of the processes the
// test starts at it.
func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					o.spans = append(o.spans, sp.Name)
				}
			}
		}
		o.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
	return o
}

// checkMetrics reads /metrics with the token until the first sync's series are there: the
// sync's run, its Graph requests, its job and the integration's gauges; and every series the
// shipped alert rules use exists, so that no rule watches a name nobody exports.
func checkMetrics(t *testing.T, p *serveProcess, token, integrationID string) {
	t.Helper()
	raw, err := model.DecodeID(integrationID, "Integration")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`overshare_sync_runs_total{result="succeeded"} 1`,
		`overshare_sync_run_duration_seconds_count{result="succeeded"} 1`,
		`overshare_graph_requests_total{endpoint="delta",status="200"}`,
		`overshare_jobs{queue="sync",state="completed"} 1`,
		`overshare_integration_status{integration="` + raw[0] + `",status="ACTIVE"} 1`,
		`overshare_integration_last_success_timestamp_seconds{integration="` + raw[0] + `"}`,
		// No https public URL: polled only, and the receiver has seen nothing.
		`overshare_integration_notifications{integration="` + raw[0] + `"} 0`,
		`overshare_webhook_notifications_total{result="bad_client_state"} 0`,
	}
	rules, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\bovershare_[a-z_]*[a-z]\b`).FindAllString(string(rules), -1)
	if len(names) < 5 {
		t.Fatalf("the alert rules name %d series", len(names))
	}
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, p.base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := ""
		for _, m := range want {
			if !strings.Contains(body, m) {
				missing = m
			}
		}
		for _, n := range names {
			if !strings.Contains(body, "\n"+n+"{") && !strings.Contains(body, "\n"+n+" ") {
				missing = n
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s after the first sync:\n%s", missing, body)
		}
	}
}
