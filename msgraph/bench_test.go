package msgraph

import (
	"context"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

// BenchmarkDeltaItems measures the client's delta throughput (request,
// TLS, kiota JSON parsing and mapping to plain structs) against the
// simulator on this machine, in items per second.
func BenchmarkDeltaItems(b *testing.B) {
	srv, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tenant.Config{Seed: 9, Users: 10, FilesPerUser: 2000, ShareRatio: 0.05}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := New(context.Background(), configFor(srv))
	if err != nil {
		b.Fatal(err)
	}
	var drives []string
	for _, d := range srv.Tenant().Drives() {
		drives = append(drives, d.ID)
	}
	b.ResetTimer()
	items := 0
	start := time.Now()
	for b.Loop() {
		for _, id := range drives {
			link := ""
			for {
				p, err := c.DeltaPage(context.Background(), id, link)
				if err != nil {
					b.Fatal(err)
				}
				items += len(p.Items)
				if p.DeltaLink != "" {
					break
				}
				link = p.NextLink
			}
		}
	}
	b.ReportMetric(float64(items)/time.Since(start).Seconds(), "items/s")
}
