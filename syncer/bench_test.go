package syncer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
	"github.com/overshare/overshare/syncer"
)

// The sync benchmark (make bench-sync). Each part runs `overshare sync` as
// its own process against `overshare graphsim` in another, so the peak RSS
// is the syncing process's alone, and PostgreSQL is the local server.
//
//	BENCH_SYNC_USERS (default 1000) and BENCH_SYNC_FILES (default 1110 files
//	per user, about 1,000,000 items) size the large tenant;
//	BENCH_SYNC_CONCURRENCY sets overshare sync --concurrency;
//	BENCH_SYNC_CPUPROFILE writes the sync process's CPU profile to that file.

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchDB creates an empty PostgreSQL database and returns its Config.
func benchDB(b *testing.B) store.Config {
	b.Helper()
	ctx := context.Background()
	admin := testdb.AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Fatalf("PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	r := make([]byte, 6)
	_, _ = rand.Read(r)
	name := "overshare_bench_" + hex.EncodeToString(r)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(context.Background())
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return store.Config{DatabaseURL: u.String(), DataDir: b.TempDir()}
}

// syncResult is one `overshare sync` process.
type syncResult struct {
	wall    time.Duration
	maxRSS  int64         // bytes
	cpu     time.Duration // the sync process's user + system CPU time
	simCPU  time.Duration // the simulator's, during the sync
	allCPU  time.Duration // the machine's, during the sync (every core)
	run     models.SyncRun
	sim     graphsim.Stats // the simulator's counters for this sync
	summary tenant.Summary
}

// benchSync integrates the simulator's tenant into a fresh database and runs
// one `overshare sync` (a first sync enumerates everything).
func benchSync(b *testing.B, bin string, sp *simProcess) syncResult {
	b.Helper()
	return benchIntegrate(b, bin, sp).sync(b, bin, sp)
}

// benchTarget is an integration of the simulator's tenant in a database of
// its own.
type benchTarget struct {
	cfg     store.Config
	env     []string
	integID string
}

func benchIntegrate(b *testing.B, bin string, sp *simProcess) benchTarget {
	b.Helper()
	cfg := benchDB(b)
	env := sp.env(cfg.DatabaseURL, cfg.DataDir)
	integrate := exec.Command(bin, "integrate", "--create-database", "--name", "bench", "--tenant-id", sp.info.TenantID, "--client-id", sp.info.ClientID)
	integrate.Env = env
	out, err := integrate.Output()
	if err != nil {
		b.Fatalf("integrate: %v", err)
	}
	return benchTarget{cfg: cfg, env: env, integID: strings.TrimSpace(string(out))}
}

// sync runs `overshare sync` once (incremental after the first), with the
// extra environment given (NAME=value).
func (bt benchTarget) sync(b *testing.B, bin string, sp *simProcess, extraEnv ...string) syncResult {
	b.Helper()
	var before graphsim.Stats
	sp.get(b, "/stats", &before)
	args := []string{"sync", "--integration", bt.integID, "--progress-every", "10s"}
	if c := os.Getenv("BENCH_SYNC_CONCURRENCY"); c != "" {
		args = append(args, "--concurrency", c)
	}
	if f := os.Getenv("BENCH_SYNC_CPUPROFILE"); f != "" && len(extraEnv) == 0 {
		args = append(args, "--cpuprofile", f)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append([]string(nil), bt.env...), extraEnv...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	sim0, all0 := procCPU(sp.pid), machineCPU()
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("overshare sync: %v\n%s", err, logs.String())
	}
	res := syncResult{wall: time.Since(start), simCPU: procCPU(sp.pid) - sim0, allCPU: machineCPU() - all0}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var after graphsim.Stats
	sp.get(b, "/stats", &after)
	res.sim = statsDiff(before, after)
	sp.get(b, "/summary", &res.summary)

	cfg := bt.cfg
	cfg.Logger = nil
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	runs, err := st.SyncRuns(context.Background(), bt.integID, 1)
	if err != nil || len(runs) != 1 {
		b.Fatalf("sync run: %v", err)
	}
	res.run = runs[0]
	return res
}

// procCPU is a process's user + system CPU time so far (Linux /proc), 0
// when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// machineCPU is the CPU time all cores spent outside idle and iowait so far.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

func statsDiff(a, b graphsim.Stats) graphsim.Stats {
	d := graphsim.Stats{Requests: b.Requests - a.Requests, RU: b.RU - a.RU, Throttled: b.Throttled - a.Throttled,
		BatchedRequests: b.BatchedRequests - a.BatchedRequests, ByEndpoint: map[string]int64{}, ByStatus: map[string]int64{}}
	for k, v := range b.ByEndpoint {
		d.ByEndpoint[k] = v - a.ByEndpoint[k]
	}
	for k, v := range b.ByStatus {
		d.ByStatus[k] = v - a.ByStatus[k]
	}
	return d
}

// BenchmarkSyncLargeTenant: a full sync of a ~1,000,000-item tenant (1,000
// users, 5% shared) into PostgreSQL.
func BenchmarkSyncLargeTenant(b *testing.B) {
	bin := buildBinary(b)
	users, files := envInt("BENCH_SYNC_USERS", 1000), envInt("BENCH_SYNC_FILES", 1110)
	// Unlimited RU: the benchmark measures the engine, not the tenant's budget.
	sp := startSimProcess(b, bin, "--seed", "2026", "--users", fmt.Sprint(users), "--files-per-user", fmt.Sprint(files), "--share-ratio", "0.05", "--ru-per-minute", "0")
	for range b.N {
		bt := benchIntegrate(b, bin, sp)
		r := bt.sync(b, bin, sp)
		items := float64(r.run.ItemsSeen)
		secs := r.wall.Seconds()
		b.ReportMetric(items/secs, "items/s")
		b.ReportMetric(float64(r.maxRSS)/(1<<20), "peakRSS-MB")
		b.ReportMetric(float64(r.run.Requests), "requests")
		b.ReportMetric(float64(r.sim.RU), "RU")
		fmt.Printf("\nlarge tenant: %d users, %d drives, %d items (%d shared, %d permissions)\n",
			r.summary.Users, r.summary.Drives, r.summary.Items, r.summary.SharedItems, r.summary.Permissions)
		fmt.Printf("  full sync into PostgreSQL: %.1f s, %.0f items/s, %d Graph requests (%d inside $batch), %d RU, %d throttled, peak RSS %.0f MB\n",
			secs, items/secs, r.sim.Requests-r.sim.BatchedRequests, r.sim.BatchedRequests, r.sim.RU, r.sim.Throttled, float64(r.maxRSS)/(1<<20))
		perK := func(d time.Duration) float64 { return d.Seconds() * 1000 / items * 1000 }
		fmt.Printf("  per 1,000 items: %.2f requests, %.1f RU; CPU ms: sync process %.0f, simulator %.0f, the rest of the machine (PostgreSQL and any other load) %.0f; %.2f of %d cores busy\n",
			1000*float64(r.sim.Requests-r.sim.BatchedRequests)/items, 1000*float64(r.sim.RU)/items,
			perK(r.cpu), perK(r.simCPU), perK(r.allCPU-r.cpu-r.simCPU), r.allCPU.Seconds()/secs, runtime.NumCPU())
		printRefreshCost(b, bin, sp, bt, items, r.sim.RU)
	}
}

// dayBudget is a day of the smallest tenants' per-app budget, 1,200 RU a
// minute (docs/graph-behaviour.md, "Throttling and resource units").
const dayBudget = 1200 * 60 * 24

// printRefreshCost runs, after the full sync, an incremental sync with the
// root refresh made due for every drive, then one with every sweep due, and
// prints their RU per 1,000 items and what they take of a day's budget of a
// 1,000,000-item tenant at the default intervals, beside the full sync's.
func printRefreshCost(b *testing.B, bin string, sp *simProcess, bt benchTarget, items float64, fullRU int64) {
	b.Helper()
	quiet := bt.sync(b, bin, sp) // nothing due: the cost of an incremental sync with no change
	roots := bt.sync(b, bin, sp, "OVERSHARE_ROOT_REFRESH_INTERVAL=1ns")
	sweep := bt.sync(b, bin, sp, "OVERSHARE_SWEEP_INTERVAL=1ns")
	perK := func(ru int64) float64 { return 1000 * float64(ru) / items }
	share := func(ru int64, every time.Duration) float64 {
		perDay := perK(ru) * 1000 * float64(24*time.Hour) / float64(every) // for 1,000,000 items
		return 100 * perDay / dayBudget
	}
	rootsRU, sweepRU := roots.sim.RU-quiet.sim.RU, sweep.sim.RU-quiet.sim.RU
	fmt.Printf("  RU per 1,000 items: full sync %.1f; root refresh %.1f (%d roots re-read, %.1f s); sweep %.1f (%d drives, %.1f s)\n",
		perK(fullRU), perK(rootsRU), roots.run.RootsRefreshed, roots.wall.Seconds(), perK(sweepRU), sweep.run.DrivesSwept, sweep.wall.Seconds())
	fmt.Printf("  share of a day's budget (1,200 RU/min) for 1,000,000 items: root refresh every %.0f h %.1f%%, sweep every %.0f h %.1f%%, incremental syncs every 15 min with no change %.1f%%\n",
		syncer.DefaultRootRefreshInterval.Hours(), share(rootsRU, syncer.DefaultRootRefreshInterval),
		syncer.DefaultSweepInterval.Hours(), share(sweepRU, syncer.DefaultSweepInterval), share(quiet.sim.RU, 15*time.Minute))
	b.ReportMetric(perK(rootsRU), "rootRefresh-RU/1k")
	b.ReportMetric(perK(sweepRU), "sweep-RU/1k")
}

// BenchmarkSyncVersusNaive: on a smaller tenant, the engine against the
// naive approach (enumerate everything, read the permissions of every
// item), as requests and RU per 1,000 items.
func BenchmarkSyncVersusNaive(b *testing.B) {
	bin := buildBinary(b)
	sp := startSimProcess(b, bin, "--seed", "2027", "--users", "50", "--files-per-user", "200", "--share-ratio", "0.05", "--ru-per-minute", "0")
	for range b.N {
		r := benchSync(b, bin, sp)
		items := float64(r.run.ItemsSeen)
		engineReq := float64(r.sim.Requests - r.sim.BatchedRequests)

		var before, after graphsim.Stats
		sp.get(b, "/stats", &before)
		n, folders := naiveSync(b, sp)
		sp.get(b, "/stats", &after)
		d := statsDiff(before, after)
		naiveReq := float64(d.Requests - d.BatchedRequests)
		// The folder walk itself: one /children call (2 RU) per folder and
		// one /permissions call (5 RU) per item, unbatched; the simulator
		// has no /children, so this line is the published costs applied
		// to the tenant's folders and items.
		walkReq := float64(folders + n)
		walkRU := float64(2*folders + 5*n)
		fmt.Printf("\nsmaller tenant: %d users, %d drives, %d items\n", r.summary.Users, r.summary.Drives, r.summary.Items)
		fmt.Printf("  %-58s %10s %10s\n", "per 1,000 items", "requests", "RU")
		fmt.Printf("  %-58s %10.1f %10.0f\n", "engine (delta + hierarchical sharing, $batch)", 1000*engineReq/items, 1000*float64(r.sim.RU)/items)
		fmt.Printf("  %-58s %10.1f %10.0f\n", "naive, measured (delta + permissions of every item, $batch)", 1000*naiveReq/float64(n), 1000*float64(d.RU)/float64(n))
		fmt.Printf("  %-58s %10.1f %10.0f\n", "naive folder walk, costed (/children + /permissions each)", 1000*walkReq/float64(n), 1000*walkRU/float64(n))
		b.ReportMetric(float64(d.RU)/float64(r.sim.RU), "naive/engine-RU")
	}
}

// naiveSync reads every drive with delta and the permissions of every item,
// through the same msgraph client; it returns the items and folders seen.
func naiveSync(b *testing.B, sp *simProcess) (items, folders int) {
	b.Helper()
	ctx := context.Background()
	gc, err := msgraph.New(ctx, msgraph.Config{TenantID: sp.info.TenantID, ClientID: sp.info.ClientID, ClientSecret: sp.info.ClientSecret,
		AuthorityURL: sp.info.AuthorityHost, GraphURL: sp.info.GraphBaseURL, CAFile: sp.info.CAFile})
	if err != nil {
		b.Fatal(err)
	}
	var userIDs []string
	if err := gc.ListUsers(ctx, func(us []msgraph.User) error {
		for _, u := range us {
			if u.UserType != models.UserTypeGuest {
				userIDs = append(userIDs, u.ID)
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	drives, _, err := gc.UserDrives(ctx, userIDs)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range drives {
		if d == nil {
			continue
		}
		link := ""
		for {
			p, err := gc.DeltaPage(ctx, d.ID, link)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, 0, len(p.Items))
			for _, it := range p.Items {
				if !it.Deleted {
					ids = append(ids, it.ID)
					items++
					if it.IsFolder {
						folders++
					}
				}
			}
			if _, err := gc.ListPermissions(ctx, d.ID, ids); err != nil {
				b.Fatal(err)
			}
			if p.DeltaLink != "" {
				break
			}
			link = p.NextLink
		}
	}
	return items, folders
}

// BenchmarkSyncRUBudget: with the simulator limited to 1,250 RU a minute,
// how the sync time compares with RU needed ÷ budget, and how many 429s.
func BenchmarkSyncRUBudget(b *testing.B) {
	bin := buildBinary(b)
	const budget = 1250
	args := []string{"--seed", "2028", "--users", "40", "--files-per-user", "150", "--share-ratio", "0.08"}
	// RU needed: the same tenant without a budget.
	free := startSimProcess(b, bin, append(args, "--ru-per-minute", "0")...)
	needed := benchSync(b, bin, free).sim.RU
	limited := startSimProcess(b, bin, append(args, "--ru-per-minute", fmt.Sprint(budget))...)
	for range b.N {
		r := benchSync(b, bin, limited)
		ideal := float64(needed) / budget * 60
		// The budget starts full: the first minute's units are free.
		idealBurst := math.Max(0, float64(needed-budget)) / budget * 60
		fmt.Printf("\nRU budget %d/min: %d RU needed, sync took %.1f s; RU÷budget = %.1f s (%.2f×), after the initial full minute %.1f s; %d answers 429, %d RU charged\n",
			budget, needed, r.wall.Seconds(), ideal, r.wall.Seconds()/ideal, idealBurst, r.sim.Throttled, r.sim.RU)
		b.ReportMetric(r.wall.Seconds()/ideal, "time/(RU÷budget)")
		b.ReportMetric(float64(r.sim.Throttled), "429s")
	}
}
