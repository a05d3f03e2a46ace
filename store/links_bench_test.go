package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// BenchmarkExpiryAwareCounts measures the time-aware sharing counts on PostgreSQL at
// BENCH_EXPIRY_ITEMS items (default 1,000,000; 5% shared, a quarter of the anonymous links with an
// expiry spread over a year): a count while no link has expired since the last read (the index
// probe of expireDue and the flags' index), the expired filter, and the first count after a
// day's links expired (their items recomputed). It fails when PostgreSQL plans a count as a
// sequential scan of drive_items.
func BenchmarkExpiryAwareCounts(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_EXPIRY_ITEMS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	clock := &testClock{at: t0}
	cfg := testdb.PostgresConfig(b)
	cfg.Clock = clock.Now
	st := testdb.Open(b, cfg)
	seedExpiring(b, st, n)
	settle(b, st)
	anonymous := store.ItemFilter{Scopes: []string{models.LinkScopeAnonymous}}
	expired := store.ItemFilter{Expired: true}
	var probe []string
	if err := st.Gorm().Raw(`EXPLAIN `+store.ExpiryProbe, integ, t0).Scan(&probe).Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("plan of the expiry probe:\n%s", strings.Join(probe, "\n"))
	for name, f := range map[string]store.ItemFilter{"anonymous": anonymous, "expired": expired} {
		explainCount(b, st, f, name)
		b.Run(name+"/totalCount", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.CountDriveItems(ctx, integ, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("anonymous/totalCount after a day of expiries", func(b *testing.B) {
		day := 0
		for b.Loop() {
			b.StopTimer()
			day++
			clock.Set(t0.AddDate(0, 0, day))
			b.StartTimer()
			if _, err := st.CountDriveItems(ctx, integ, anonymous); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// explainCount logs PostgreSQL's plan of the count of f and fails on a sequential scan of the
// items.
func explainCount(b *testing.B, st *store.Store, f store.ItemFilter, name string) {
	b.Helper()
	q, args := store.CountQuery(st, integ, f)
	var plan []string
	if err := st.Gorm().Raw("EXPLAIN "+q, args...).Scan(&plan).Error; err != nil {
		b.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	b.Logf("plan of the %s count:\n%s", name, text)
	if strings.Contains(text, "Seq Scan on drive_items") {
		b.Fatalf("the %s count scans every item", name)
	}
}

// seedExpiring writes n items in one drive in pages of 5,000 (COPY), 5% of them shared.
func seedExpiring(b *testing.B, st *store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	batch := []models.DriveItem{item("root", "", "root", true)}
	perms := map[string][]models.Permission{}
	flush := func() {
		if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Items: batch, Permissions: perms, NextLink: "next"}); err != nil {
			b.Fatal(err)
		}
		batch, perms = batch[:0], map[string][]models.Permission{}
	}
	for i := range n {
		id := fmt.Sprintf("item-%07d", i)
		it := item(id, "root", fmt.Sprintf("file %d.docx", i), false)
		it.LastModifiedDateTime = ptr(t0.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))))
		batch = append(batch, it)
		if rng.IntN(100) < 5 {
			p := perm("p-"+id, ptr(models.LinkScopeOrganization), "read")
			if rng.IntN(10) < 3 {
				p = perm("p-"+id, ptr(models.LinkScopeAnonymous), "read")
				if rng.IntN(4) == 0 {
					p.ExpiresAt = ptr(t0.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))))
				}
			}
			perms[id] = []models.Permission{p}
		}
		if len(batch) == 5000 {
			flush()
		}
	}
	flush()
}
