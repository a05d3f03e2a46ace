package msgraph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/overshare/overshare/graphsim"
)

// TestUserAgentOnTheWire puts a recording TLS proxy between the client and
// the simulator and checks the User-Agent of every Graph request as sent.
func TestUserAgentOnTheWire(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	info := srv.Info()
	target, _ := url.Parse(strings.TrimSuffix(info.GraphBaseURL, "/v1.0"))
	simCA, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(simCA)

	var mu sync.Mutex
	agents := map[string]int{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	rp = &httputil.ReverseProxy{Transport: rp.Transport, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // keep the proxy's host so the simulator's links point back here
	}}
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.Header.Get("User-Agent")]++
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	both := append(simCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})...)
	if err := os.WriteFile(caFile, both, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configFor(srv)
	cfg.GraphURL = proxy.URL + "/v1.0"
	cfg.CAFile = caFile
	cfg.Version = "1.2.3"
	cfg.PageSize = 5
	c := newClient(t, cfg)
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials through the proxy: %v", err)
	}
	tr := exportOf(t, srv)
	for _, d := range tr.drives {
		enumerate(t, c, d.ID, "") // first page through the SDK path, then nextLinks via WithUrl
		break
	}
	mu.Lock()
	defer mu.Unlock()
	want := "NONISV|Overshare|Overshare/1.2.3"
	total := 0
	for ua, n := range agents {
		total += n
		if ua != want {
			t.Errorf("%d request(s) with User-Agent %q, want exactly %q", n, ua, want)
		}
	}
	if total < 5 {
		t.Errorf("only %d requests went through the proxy", total)
	}
}
