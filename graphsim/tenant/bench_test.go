package tenant

import (
	"runtime"
	"testing"
)

// BenchmarkGenerate1M generates a tenant of about a million items (1000
// users, about 880 of them with a OneDrive of ~1050 files plus folders) and
// reports the heap it keeps per item.
func BenchmarkGenerate1M(b *testing.B) {
	cfg := Config{Seed: 1, Users: 1000, FilesPerUser: 1050, ShareRatio: 0.1}
	var items int
	var perItem float64
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tn := New(cfg)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		items = 0
		for _, d := range tn.drives {
			items += len(d.items)
		}
		perItem = float64(after.HeapAlloc-before.HeapAlloc) / float64(items)
		runtime.KeepAlive(tn)
		b.StartTimer()
	}
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(perItem, "bytes/item")
}

// BenchmarkDeltaPage serves full-enumeration pages of 1000 items (with the
// hierarchical sharing facet computed) from a large tenant.
func BenchmarkDeltaPage(b *testing.B) {
	tn := New(Config{Seed: 2, Users: 200, FilesPerUser: 5000, ShareRatio: 0.1})
	drives := tn.Drives()
	opt := DeltaOptions{Top: 1000, HierarchicalSharing: true, ShowSharingChanges: true}
	served, k, token := 0, 0, ""
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := tn.Delta(drives[k].ID, "root", token, opt)
		if err != nil {
			b.Fatal(err)
		}
		served += len(p.Items)
		token = p.NextToken
		if token == "" {
			k = (k + 1) % len(drives)
		}
	}
	b.ReportMetric(float64(served)/b.Elapsed().Seconds(), "items/s")
}
