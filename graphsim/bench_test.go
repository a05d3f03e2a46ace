package graphsim_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// BenchmarkDeltaServing enumerates every drive of a 50,000-file tenant in
// pages of 1,000 over HTTPS (HTTP/2, one client), with the Prefer headers
// the sync engine sends, and reports driveItems served per second. The
// client only splits the JSON into items, so the figure is mostly the
// simulator's.
func BenchmarkDeltaServing(b *testing.B) {
	s := startSim(b, graphsim.Options{Tenant: tenant.Config{Seed: 11, Users: 25, FilesPerUser: 2000, ShareRatio: 0.1}})
	drives := s.Tenant().Drives()
	s.token(b)
	b.ResetTimer()
	start := time.Now()
	items, pages, bytes := 0, 0, 0
	for b.Loop() {
		for _, d := range drives {
			link := "/drives/" + d.ID + "/root/delta?$top=1000"
			for link != "" {
				resp, body := s.graph(b, "GET", link, nil, "Prefer", allPrefer)
				if resp.StatusCode != 200 {
					b.Fatalf("delta: %d %s", resp.StatusCode, body)
				}
				var p struct {
					Value    []json.RawMessage `json:"value"`
					NextLink string            `json:"@odata.nextLink"`
				}
				if err := json.Unmarshal(body, &p); err != nil {
					b.Fatal(err)
				}
				items += len(p.Value)
				pages++
				bytes += len(body)
				link = p.NextLink
			}
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(items)/secs, "items/s")
	b.ReportMetric(float64(items)/float64(pages), "items/page")
	b.ReportMetric(float64(bytes)/float64(items), "bytes/item")
}
