package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/overshare/overshare/internal/config"
)

// runHealthcheck asks the local server whether it is ready (GET /readyz on OVERSHARE_ADDR's
// port) and exits 0 when it is: the container image is distroless, with no curl or shell for
// a HEALTHCHECK to call.
func runHealthcheck(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("healthcheck", "[--timeout D]", "Asks the server on this machine (OVERSHARE_ADDR's port) whether it is ready: exit 0 when\n"+
		"GET /readyz answers 200, else 1. For container health checks.", config.Healthcheck, stdout)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	env, err := config.Load(config.Healthcheck, os.Getenv)
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(env.Addr)
	if err != nil {
		return fmt.Errorf("OVERSHARE_ADDR %q: %w", env.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: GET %s answered %d: %s", url, resp.StatusCode, body)
	}
	_, err = fmt.Fprintf(stdout, "ready: %s", body)
	return err
}
