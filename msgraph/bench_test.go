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

// BenchmarkDecodeDeltaPage measures decoding one 1,000-item delta page body
// as the simulator serves it into the engine's items (CPU only).
func BenchmarkDecodeDeltaPage(b *testing.B) {
	srv, err := graphsim.Start(context.Background(), graphsim.Options{Tenant: tenant.Config{Seed: 9, Users: 2, FilesPerUser: 2000, ShareRatio: 0.05}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := New(context.Background(), configFor(srv))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	drive := srv.Tenant().Drives()[0].ID
	p, err := c.DeltaPage(ctx, drive, "")
	if err != nil {
		b.Fatal(err)
	}
	// The second page is a full one, fetched raw as DeltaPage fetches it.
	ri, err := c.sdk.Drives().ByDriveId(drive).Items().ByDriveItemId("root").Delta().WithUrl(p.NextLink).ToGetRequestInformation(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", odataErrors())
	if err != nil {
		b.Fatal(err)
	}
	body := raw.([]byte)
	b.SetBytes(int64(len(body)))
	items := 0
	for b.Loop() {
		page, err := c.decodeDeltaPage(drive, body)
		if err != nil {
			b.Fatal(err)
		}
		items += len(page.Items)
	}
	b.ReportMetric(float64(items)/float64(b.N), "items/op")
}
