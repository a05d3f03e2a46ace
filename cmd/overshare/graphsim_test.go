package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
)

// TestGraphsimCommand runs `overshare graphsim` as a process (this test
// binary re-executed as the command): it prints exactly one JSON line when
// listening, serves, and exits 0 on SIGTERM.
func TestGraphsimCommand(t *testing.T) {
	if os.Getenv("OVERSHARE_GRAPHSIM_CHILD") == "1" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGraphsimCommand$", "--",
		"graphsim", "--seed", "4", "--users", "3", "--files-per-user", "5", "--fault-kinds", "429,slow")
	cmd.Env = append(os.Environ(), "OVERSHARE_GRAPHSIM_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	line, err := out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("no line on stdout: %v; stderr: %s", err, stderr.String())
	}
	var info graphsim.Info
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("first line %q is not the Info JSON: %v", line, err)
	}
	if info.GraphBaseURL == "" || info.AuthorityHost == "" || info.TenantID == "" || info.ClientID == "" ||
		info.ClientSecret == "" || info.CAFile == "" || info.ControlURL == "" {
		t.Fatalf("incomplete Info %+v", info)
	}

	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatalf("CA file: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(info.AuthorityHost + info.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the simulator does not serve sign-in over TLS trusted by its CA file: %v %v", err, resp)
	}
	resp.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("more than one line on stdout: %q", rest)
	}
	if bytes.Contains(stderr.Bytes(), []byte(info.ClientSecret)) {
		t.Fatal("the client secret appears in the logs")
	}
}

func TestGraphsimCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--fault-rate", "2"},
		{"--fault-kinds", "fire"},
		{"--ru-per-minute", "-2"}, // -1 is the licence-band budget
		{"stray"},
	} {
		var stdout, stderr bytes.Buffer
		if err := runGraphsim(t.Context(), args, &stdout, &stderr); err == nil {
			t.Fatalf("graphsim %v: no error", args)
		}
		if stdout.Len() != 0 {
			t.Fatalf("graphsim %v printed %q", args, stdout.String())
		}
	}
}
