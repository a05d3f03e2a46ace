package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
)

// BenchmarkExposureReads: the Overview's history reads on PostgreSQL for 50,000 exposed items
// (a 1,000,000-item tenant at 5%), each exposed anonymously three times over 400 days, the last
// time still for a quarter of them. "trend" and "median" read exposure_intervals, as the store
// does; "trend-from-events" derives the same 30 days from sharing_events alone (each day, each
// item's latest event), the alternative to keeping intervals.
func BenchmarkExposureReads(b *testing.B) {
	st := testdb.Open(b, testdb.PostgresConfig(b))
	ctx := context.Background()
	seed := []string{
		`INSERT INTO exposure_intervals (integration_id, drive_id, item_id, level, started_at, ended_at)
SELECT 'int-1', 'd1', 'item-' || i, l.level, now() - make_interval(days => 400 - e * 120 - i % 97),
	CASE WHEN e = 2 AND i % 4 = 0 THEN NULL ELSE now() - make_interval(days => 400 - e * 120 - i % 97 - i % 30 - 1) END
FROM generate_series(1, 50000) i, generate_series(0, 2) e, (VALUES ('anonymous'), ('beyond')) l (level)`,
		`INSERT INTO sharing_events (integration_id, item_id, kind, source, observed_at, exposure_before, exposure_after)
SELECT integration_id, item_id, 'added', 'microsoft365', started_at, 0, 1 FROM exposure_intervals WHERE level = 'anonymous'
UNION ALL
SELECT integration_id, item_id, 'removed', 'microsoft365', ended_at, 1, 0 FROM exposure_intervals WHERE level = 'anonymous' AND ended_at IS NOT NULL
ORDER BY 5`,
		`ANALYZE exposure_intervals`, `ANALYZE sharing_events`,
	}
	for _, q := range seed {
		if err := st.Gorm().Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
	b.Run("trend", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.ExposureTrend(ctx, "int-1", 30); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("median", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.MedianTimeToFix(ctx, "int-1", time.Now().AddDate(0, 0, -90)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trend-from-events", func(b *testing.B) {
		today := time.Now().UTC().Truncate(24 * time.Hour)
		for b.Loop() {
			for d := range 30 {
				var n int64
				err := st.Gorm().Raw(`SELECT COUNT(*) FROM (SELECT DISTINCT ON (item_id) exposure_after FROM sharing_events
	WHERE integration_id = 'int-1' AND observed_at <= ? ORDER BY item_id, id DESC) x WHERE (exposure_after & 1) <> 0`,
					today.AddDate(0, 0, d-29)).Scan(&n).Error
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
