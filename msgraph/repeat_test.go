package msgraph

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/overshare/overshare/graphsim"
)

// stubDelta serves delta pages from pages (by the token in the query; the
// first request has none) over TLS, signing in against the simulator.
func stubDelta(t *testing.T, pages func(n int, token string) map[string]any) (*Client, *atomic.Int64) {
	t.Helper()
	srv := startSim(t, graphsim.Options{})
	var calls atomic.Int64
	var base string
	stub := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		body := pages(n, r.URL.Query().Get("token"))
		for _, k := range []string{"@odata.nextLink", "@odata.deltaLink"} {
			if v, ok := body[k].(string); ok {
				body[k] = base + "/v1.0/drives/d/items/root/delta?token=" + v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(stub.Close)
	base = stub.URL
	simCA, err := os.ReadFile(srv.Info().CAFile)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	both := append(simCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: stub.Certificate().Raw})...)
	if err := os.WriteFile(caFile, both, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configFor(srv)
	cfg.GraphURL, cfg.CAFile = stub.URL+"/v1.0", caFile
	return newClient(t, cfg), &calls
}

func items(ids ...string) []map[string]any {
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, map[string]any{"id": id, "name": id, "file": map[string]any{}, "parentReference": map[string]any{"id": "root"}})
	}
	return out
}

// Pages with the same entries in a row are legitimate (an item and its
// ancestors again): each is handed out once, none re-requested; a long run
// of them ends the round with an error instead of a hang.
func TestRepeatGuardAllowsLegitimateRepeats(t *testing.T) {
	c, calls := stubDelta(t, func(n int, token string) map[string]any {
		switch token {
		case "", "2":
			return map[string]any{"value": items("a", "root"), "@odata.nextLink": fmt.Sprint(n + 1)}
		}
		return map[string]any{"value": items("b", "root"), "@odata.deltaLink": "end"}
	})
	link, got := "", []string{}
	for range 5 {
		p, err := c.DeltaPage(context.Background(), "d", link)
		if err != nil {
			t.Fatalf("page after %v: %v", got, err)
		}
		for _, it := range p.Items {
			got = append(got, it.ID)
		}
		if p.DeltaLink != "" {
			break
		}
		link = p.NextLink
	}
	if strings.Join(got, ",") != "a,root,a,root,b,root" || calls.Load() != 3 {
		t.Fatalf("entries %v in %d requests, want a,root twice then b,root in 3", got, calls.Load())
	}

	c, _ = stubDelta(t, func(n int, token string) map[string]any {
		return map[string]any{"value": items("a", "root"), "@odata.nextLink": fmt.Sprint(n + 1)}
	})
	link = ""
	for pages := 0; ; pages++ {
		p, err := c.DeltaPage(context.Background(), "d", link)
		if err != nil {
			if !strings.Contains(err.Error(), "same delta entries") || pages != maxRepeats {
				t.Fatalf("after %d pages: %v", pages, err)
			}
			break
		}
		if pages > 20 {
			t.Fatal("an endless run of identical pages was followed for ever")
		}
		link = p.NextLink
	}
}
