package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// benchItems returns n items of one drive, about 250 bytes each, like a
// OneDrive: folders of 50 files.
func benchItems(n int, variant string) []models.DriveItem {
	items := make([]models.DriveItem, n)
	for i := range items {
		parent := fmt.Sprintf("folder-%06d", i/50)
		items[i] = item(fmt.Sprintf("01BENCHITEMIDXXXXXXXXXXXXXXXXXX%07d", i), parent, fmt.Sprintf("Quarterly report %d%s.docx", i, variant), false)
		items[i].MimeType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		items[i].LastModifiedByID, items[i].LastModifiedByName, items[i].LastModifiedByEmail = "u2", "Alex Wilber", "alexw@contoso.com"
		if i%20 == 0 {
			items[i].SharedScope = ptr("organization")
		}
	}
	return items
}

// benchPermissions returns n permissions spread two per item.
func benchPermissions(n int, variant string) map[string][]models.Permission {
	out := map[string][]models.Permission{}
	for i := range n {
		itemID := fmt.Sprintf("01BENCHITEMIDXXXXXXXXXXXXXXXXXX%07d", i/2)
		p := perm(fmt.Sprintf("aTowIy5mfG1lbWJlcnNoaXB8%07d", i%2), ptr("organization"), "read")
		p.LinkWebURL = "https://contoso-my.sharepoint.com/:w:/g/personal/" + itemID + variant
		p.GrantedToDisplayName, p.GrantedToEmail = "Megan Bowen", "meganb@contoso.com"
		out[itemID] = append(out[itemID], p)
	}
	return out
}

// BenchmarkUpsertItems compares the two bulk methods on PostgreSQL (and
// gorm's on SQLite for reference): 100k drive items written in one page
// ("page=100000") and in delta-sized pages of 200 ("page=200"), into an
// empty table ("insert"), again unchanged ("unchanged") and again with every
// row changed ("changed"). Each page is one CommitSyncPage call, checkpoint
// included. Reports rows/s.
func BenchmarkUpsertItems(b *testing.B) {
	const rows = 100_000
	fresh, unchanged, changed := benchItems(rows, ""), benchItems(rows, ""), benchItems(rows, " (v2)")
	for _, db := range []string{"postgres-copy", "postgres-unnest", "postgres-gorm", "sqlite-gorm"} {
		for _, pageSize := range []int{rows, 200} {
			b.Run(fmt.Sprintf("%s/page=%d", db, pageSize), func(b *testing.B) {
				st := benchStore(b, db)
				ctx := context.Background()
				write := func(items []models.DriveItem) {
					for start := 0; start < len(items); start += pageSize {
						end := min(start+pageSize, len(items))
						if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Items: items[start:end], NextLink: fmt.Sprint("next-", end)}); err != nil {
							b.Fatal(err)
						}
					}
				}
				for _, phase := range []struct {
					name   string
					before func()
					items  []models.DriveItem
				}{
					{"insert", func() { truncate(b, st, "drive_items") }, fresh},
					{"unchanged", func() { truncate(b, st, "drive_items"); write(fresh) }, unchanged},
					{"changed", func() { truncate(b, st, "drive_items"); write(fresh) }, changed},
				} {
					b.Run(phase.name, func(b *testing.B) {
						var elapsed, cpu time.Duration
						for b.Loop() {
							b.StopTimer()
							phase.before()
							settle(b, st)
							b.StartTimer()
							start, cpu0 := time.Now(), cpuUsed(b, st)
							write(phase.items)
							elapsed += time.Since(start)
							cpu += cpuUsed(b, st) - cpu0
						}
						report(b, rows, elapsed, cpu)
					})
				}
			})
		}
	}
}

// BenchmarkReplacePermissions compares the bulk methods for permissions:
// 100k permissions on 50k items, in one sync page and in pages of 200 items
// (CommitSyncPage with permissions only).
func BenchmarkReplacePermissions(b *testing.B) {
	const rows = 100_000
	fresh, changed := benchPermissions(rows, ""), benchPermissions(rows, "?v2")
	for _, db := range []string{"postgres-copy", "postgres-unnest", "postgres-gorm", "sqlite-gorm"} {
		for _, perCall := range []int{rows / 2, 200} {
			b.Run(fmt.Sprintf("%s/items-per-call=%d", db, perCall), func(b *testing.B) {
				st := benchStore(b, db)
				ctx := context.Background()
				write := func(byItem map[string][]models.Permission) {
					chunk := map[string][]models.Permission{}
					for id, ps := range byItem {
						chunk[id] = ps
						if len(chunk) == perCall {
							if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Permissions: chunk, NextLink: "next"}); err != nil {
								b.Fatal(err)
							}
							chunk = map[string][]models.Permission{}
						}
					}
					if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Permissions: chunk, NextLink: "next"}); err != nil {
						b.Fatal(err)
					}
				}
				if err := st.CommitSyncPage(ctx, integ, "d1", store.SyncPage{Items: benchItems(rows/2, ""), NextLink: "next"}); err != nil {
					b.Fatal(err)
				}
				for _, phase := range []struct {
					name   string
					before func()
					perms  map[string][]models.Permission
				}{
					{"insert", func() { truncate(b, st, "permissions") }, fresh},
					{"unchanged", func() { truncate(b, st, "permissions"); write(fresh) }, fresh},
					{"changed", func() { truncate(b, st, "permissions"); write(fresh) }, changed},
				} {
					b.Run(phase.name, func(b *testing.B) {
						var elapsed, cpu time.Duration
						for b.Loop() {
							b.StopTimer()
							phase.before()
							settle(b, st)
							b.StartTimer()
							start, cpu0 := time.Now(), cpuUsed(b, st)
							write(phase.perms)
							elapsed += time.Since(start)
							cpu += cpuUsed(b, st) - cpu0
						}
						report(b, rows, elapsed, cpu)
					})
				}
			})
		}
	}
}

func benchStore(b *testing.B, db string) *store.Store {
	var cfg store.Config
	if db == "sqlite-gorm" {
		cfg = testdb.SQLiteConfig(b)
	} else {
		cfg = testdb.PostgresConfig(b)
	}
	st := testdb.Open(b, cfg)
	switch db {
	case "postgres-gorm":
		store.UseGormBulk(st, true)
	case "postgres-copy":
		store.UseNativeBulk(st, "copy")
	case "postgres-unnest":
		store.UseNativeBulk(st, "unnest")
	}
	return st
}

func truncate(b *testing.B, st *store.Store, table string) {
	q := "DELETE FROM " + table
	if st.Dialect() == store.Postgres {
		q = "TRUNCATE " + table
	}
	if err := st.Gorm().Exec(q).Error; err != nil {
		b.Fatal(err)
	}
}

// settle takes the previous phase's cleanup out of the next measurement.
func settle(b *testing.B, st *store.Store) {
	q := "PRAGMA wal_checkpoint(TRUNCATE)"
	if st.Dialect() == store.Postgres {
		if err := st.Gorm().Exec("VACUUM ANALYZE drive_items").Error; err != nil {
			b.Fatal(err)
		}
		if err := st.Gorm().Exec("VACUUM ANALYZE permissions").Error; err != nil {
			b.Fatal(err)
		}
		q = "CHECKPOINT"
	}
	if err := st.Gorm().Exec(q).Error; err != nil {
		b.Fatal(err)
	}
}

// report prints rows/s and CPU µs per row. The CPU figure (this process plus
// the PostgreSQL backends of the benchmark's database) holds up when the
// machine is shared; rows/s does not.
func report(b *testing.B, rows int, elapsed, cpu time.Duration) {
	b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(rows*b.N), "cpu-µs/row")
}

// cpuUsed is the CPU time used so far by this process and by the server
// processes connected to the store's PostgreSQL database.
func cpuUsed(b *testing.B, st *store.Store) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if st.Dialect() != store.Postgres {
		return total
	}
	var pids []int
	if err := st.Gorm().Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids).Error; err != nil {
		b.Fatal(err)
	}
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // a backend that just exited
		}
		// Fields after the parenthesised command: state is field 3, utime 14, stime 15.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		stm, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+stm) * 10 * time.Millisecond // USER_HZ = 100
	}
	return total
}
