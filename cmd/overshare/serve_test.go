package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
)

// TestServeCommand runs `overshare serve` as a process on PostgreSQL,
// configured only by the environment, with an OIDC provider and the Graph
// simulator outside it: it logs JSON, answers /healthz and /readyz, an admin
// script connects the simulated tenant with the integrate mutation and its
// first sync finishes (River on PostgreSQL), and SIGTERM ends it cleanly.
func TestServeCommand(t *testing.T) {
	if os.Getenv("OVERSHARE_SERVE_CHILD") == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	ctx := context.Background()
	db := testdb.PostgresConfig(t)
	sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 21, Users: 6, FilesPerUser: 30, ShareRatio: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()

	// The identity provider, served by this test process.
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
	defer idpSrv.Close()
	df := demoFile{TokenURL: idp.TokenURL(), ScriptClients: map[string]demoScriptClient{}}
	for _, c := range opts.Clients {
		if role := scriptRole(c.ID); role != "" {
			df.ScriptClients[role] = demoScriptClient{ClientID: c.ID, ClientSecret: c.Secret}
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestServeCommand$", "--", "serve")
	cmd.Env = append(os.Environ(), "OVERSHARE_SERVE_CHILD=1",
		"OVERSHARE_ADDR=127.0.0.1:0",
		"OVERSHARE_DATABASE_URL="+db.DatabaseURL,
		"OVERSHARE_DATA_DIR="+db.DataDir,
		"OVERSHARE_SECRET_KEY=",
		"OVERSHARE_OIDC_ISSUER="+issuer,
		"OVERSHARE_OIDC_AUDIENCE="+devidp.DemoAudience,
		"OVERSHARE_OIDC_ADMIN_ROLES="+devidp.DemoAdminRole,
		"OVERSHARE_OIDC_VIEWER_ROLES="+devidp.DemoViewerRole,
		"OVERSHARE_AUTHORITY_URL="+info.AuthorityHost,
		"OVERSHARE_GRAPH_URL="+info.GraphBaseURL,
		"OVERSHARE_GRAPH_CA_FILE="+info.CAFile,
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Every log line is JSON; the start line names the address.
	var (
		logged     = &syncBuffer{}
		addrc      = make(chan string, 1)
		readDone   = make(chan struct{})
		badLines   []string
		sawStopped bool
	)
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			logged.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				badLines = append(badLines, sc.Text())
				continue
			}
			switch m["msg"] {
			case "overshare serving":
				a, _ := m["addr"].(string)
				addrc <- a
			case "overshare stopped":
				sawStopped = true
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-readDone:
		t.Fatalf("overshare serve exited before serving:\n%s", logged.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("overshare serve did not start within 2 minutes")
	}
	base := "http://" + addr
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}

	df.GraphQLURL = base + "/graphql"
	admin := token(t, df, "admin")
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-readDone // the process closed stderr: it is exiting
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logged.String())
	}
	if len(badLines) > 0 {
		t.Errorf("%d log lines are not JSON, e.g. %q", len(badLines), badLines[0])
	}
	if !sawStopped {
		t.Error("no \"overshare stopped\" log line")
	}
	if logs := logged.String(); strings.Contains(logs, info.ClientSecret) || strings.Contains(logs, admin) {
		t.Error("the logs hold the tenant's client secret or a bearer token")
	}
}
